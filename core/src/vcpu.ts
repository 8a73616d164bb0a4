/**
 * A virtual CPU as the core sees it: scheduling state plus the arch's register state.
 *
 * @module
 */
import { SHARED_INFO, VCPU_INFO } from "./abi/xen.js";
import type { ArchTypes } from "./arch-plugin.js";
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

/** One virtual CPU. `A`: the arch's state types, which {@link Vcpu.arch} has. */
export class Vcpu<A extends ArchTypes = ArchTypes> {
  /** Scheduling state. */
  state: VcpuState = VcpuState.Down;
  /** The arch's state for this vCPU; set right after construction by the arch plugin. */
  arch!: A["vcpu"];
  /**
   * The machine the vCPU belongs to; set by {@link Machine.createDomain} before
   * `ArchPlugin.createVcpu` runs. The guest-memory door reaches machine memory
   * through it.
   */
  machine!: Machine<A>;
  /** Preallocated hypercall argument buffer (the run loop allocates nothing). */
  readonly hypercallArgs = new HypercallArgs();
  /**
   * Host pauses outstanding (Xen's `pause_count`, raised by `vcpu_pause`): while above 0
   * the vCPU is not scheduled, whatever its state. Kept by `Machine.pauseVcpu` and
   * `Machine.unpauseVcpu`.
   */
  pauseCount = 0;
  /**
   * Xen's `_VPF_blocked` kept under `_VPF_down`: set when a blocked vCPU (SCHEDOP_block,
   * SCHEDOP_poll) is taken down, cleared by the wake-up it was waiting for. VCPUOP_up
   * leaves a vCPU with this set blocked, not runnable.
   */
  blockedWhileDown = false;
  /** Guest instructions this vCPU has retired. */
  retired = 0;
  /**
   * Machine byte address of the vcpu_info the guest registered with
   * VCPUOP_register_vcpu_info, or −1 while it uses its legacy slot in shared_info.
   */
  registeredVcpuInfo = -1;
  /**
   * Runstate accounting (`struct vcpu_runstate_info`): the current RUNSTATE_* (0 running,
   * 1 runnable, 2 blocked, 3 offline), the virtual time it was entered, and ns spent in
   * each state before that. Kept by {@link Vcpu.setRunstate}.
   */
  readonly runstate = { state: 3, entryTime: 0, time: [0, 0, 0, 0] };

  /** Moves the runstate to `state` at virtual time `now` (ns), charging the old state. */
  setRunstate(state: number, now: number): void {
    const r = this.runstate;
    if (r.state === state) return;
    if (now > r.entryTime) r.time[r.state] += now - r.entryTime;
    r.state = state;
    r.entryTime = now;
  }

  /**
   * Machine byte address of this vCPU's vcpu_info: the registered one, else its slot in
   * shared_info (ids below the data model's `legacyMaxVcpus`), else −1 (no vcpu_info: Xen's
   * dummy_vcpu_info; nothing can be delivered).
   */
  vcpuInfoAddr(): number {
    if (this.registeredVcpuInfo >= 0) return this.registeredVcpuInfo;
    const si = this.domain.sharedInfoMfn;
    const model = this.machine.arch.dataModel;
    if (si < 0 || this.id >= model.legacyMaxVcpus) return -1;
    return (
      si * this.machine.memory.pageSize +
      SHARED_INFO.layout(model).offsetOf("vcpu_info") +
      this.id * VCPU_INFO.layout(model).size
    );
  }

  /**
   * @param domain - the owning domain.
   * @param id - vCPU id within the domain.
   */
  constructor(
    readonly domain: Domain<A>,
    readonly id: number,
  ) {}
}
