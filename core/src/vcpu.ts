/**
 * A virtual CPU as the core sees it: scheduling state plus the arch's register state.
 *
 * @module
 */
import type { ArchVcpu } from "./arch-plugin.js";
import { HypercallArgs } from "./hypercall.js";
import type { Domain } from "./domain.js";
import type { Machine } from "./machine.js";

/** Scheduling state of a vCPU. */
export enum VcpuState {
  /** Not brought up (VCPUOP_down, or never initialised). */
  Down = 0,
  /** Runnable. */
  Runnable = 1,
  /** Blocked waiting for an event (SCHEDOP_block, idle). */
  Blocked = 2,
}

/** One virtual CPU. */
export class Vcpu {
  /** Scheduling state. */
  state: VcpuState = VcpuState.Down;
  /** The arch's state for this vCPU; set right after construction by the arch plugin. */
  arch!: ArchVcpu;
  /**
   * The machine the vCPU belongs to; set by {@link Machine.createDomain} before
   * `ArchPlugin.createVcpu` runs. The guest-memory door reaches machine memory
   * through it.
   */
  machine!: Machine;
  /** Preallocated hypercall argument buffer (the run loop allocates nothing). */
  readonly hypercallArgs = new HypercallArgs();
  /** Guest instructions this vCPU has retired. */
  retired = 0;

  /**
   * @param domain - the owning domain.
   * @param id - vCPU id within the domain.
   */
  constructor(
    readonly domain: Domain,
    readonly id: number,
  ) {}
}
