/**
 * The machine: everything one hvkit run simulates. The interface is what hypercall
 * handlers and arch plugins may rely on; the implementation lives in `machine-impl.ts`
 * and is built in a child DI container per machine.
 *
 * @module
 */
import type { ArchPlugin } from "./arch-plugin.js";
import type { Domain, ShutdownReason } from "./domain.js";
import type { PhysicalMemory } from "./memory.js";
import type { HypercallEntry } from "./hypercall.js";
import type { GuestMode } from "./arch-plugin.js";

/** Where guest console output and hypervisor messages go. */
export interface ConsoleSink {
  /** Bytes a domain wrote through console_io (or its PV console). */
  guestOutput(domain: Domain, bytes: Uint8Array): void;
  /** A hypervisor message (domain crashed, warnings): one line, no trailing newline. */
  hypervisorMessage(line: string): void;
}

/** The machine as handlers and plugins see it. */
export interface Machine {
  /** The arch plugin this machine runs. */
  readonly arch: ArchPlugin;
  /** All machine memory and the frame table. */
  readonly memory: PhysicalMemory;
  /** Domains by id. */
  readonly domains: ReadonlyMap<number, Domain>;
  /** Where console output goes. */
  readonly console: ConsoleSink;
  /** Virtual time in nanoseconds since machine start. Advances only with the model. */
  readonly now: bigint;
  /** The merged hypercall table, indexed by hypercall number. */
  readonly hypercalls: ReadonlyArray<HypercallEntry | undefined>;

  /**
   * Creates an empty domain (no memory, `vcpus` vCPUs created through the arch plugin,
   * all down).
   */
  createDomain(options: {
    privileged: boolean;
    mode: GuestMode;
    vcpus: number;
    id?: number;
  }): Domain;

  /**
   * Allocates `count` free machine frames to `domain` (owner set, contents zeroed) and
   * returns their MFNs in ascending order. Returns null when there is not enough memory
   * or the domain would exceed `maxPages`.
   */
  allocFrames(domain: Domain, count: number): number[] | null;

  /** Shuts a domain down with `reason`; for a crash, `message` goes to the hypervisor log. */
  shutdownDomain(domain: Domain, reason: ShutdownReason, message?: string): void;
}
