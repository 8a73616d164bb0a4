/**
 * A domain: one guest, its memory (p2m), its vCPUs and its hypervisor-side state.
 *
 * @module
 */
import type { GuestMode } from "./arch-plugin.js";
import type { Vcpu } from "./vcpu.js";

/** Xen's shutdown reasons (SHUTDOWN_* in sched.h). */
export enum ShutdownReason {
  /** Clean power-off. */
  Poweroff = 0,
  /** Reboot request. */
  Reboot = 1,
  /** Suspend (for save/migrate). */
  Suspend = 2,
  /** The domain crashed (or the hypervisor crashed it). */
  Crash = 3,
  /** The watchdog fired. */
  Watchdog = 4,
  /** Soft reset. */
  SoftReset = 5,
}

/** Lifecycle state of a domain. */
export enum DomainState {
  /** Created or running. */
  Running = 0,
  /** Paused by the toolstack. */
  Paused = 1,
  /** Shut down; `shutdownReason` says why. */
  Shutdown = 2,
  /** Being destroyed; hypercalls naming it fail with −ESRCH. */
  Dying = 3,
}

/** Reserved domain ids (xen.h). */
export const DomId = {
  /** The caller itself. */
  SELF: 0x7ff0,
  /** I/O memory. */
  IO: 0x7ff1,
  /** The hypervisor. */
  XEN: 0x7ff2,
  /** Copy-on-write shared pages. */
  COW: 0x7ff3,
  /** No domain. */
  INVALID: 0x7ff4,
  /** The idle domain. */
  IDLE: 0x7fff,
} as const;

/** One guest. State is plain data so it can be saved, migrated and forked. */
export class Domain {
  /** vCPUs, index = vCPU id. */
  readonly vcpus: Vcpu[] = [];
  /**
   * Guest-physical to machine frame map: `p2m[pfn]` = MFN, or −1 for a hole. Grows with
   * the reservation.
   */
  p2m: Int32Array = new Int32Array(0);
  /** Maximum pages the domain may own (domctl max_mem). */
  maxPages = 0;
  /** Pages currently owned. */
  totPages = 0;
  /** Lifecycle state. */
  state: DomainState = DomainState.Running;
  /** Why the domain shut down, once it has. */
  shutdownReason: ShutdownReason | null = null;
  /** Code given with SCHEDOP_shutdown_code, if any. */
  shutdownCode: number | null = null;
  /** Machine frame of the shared_info page. */
  sharedInfoMfn = -1;
  /** Enabled VM assists (VMASST_TYPE_* bits). */
  vmAssist = 0;
  /** XSM security label (the dummy policy uses `dom0_t` / `domU_t`). */
  xsmLabel: string;
  /**
   * Arch-private per-domain state (e.g. x86 PV: trap table, callbacks, GDT frames). The
   * arch plugin owns its shape; it must be plain serializable data.
   */
  arch: unknown = null;

  /**
   * @param id - the domain id (0 for the initial domain).
   * @param privileged - true when the domain may use privileged hypercalls (domctl, ...).
   * @param mode - how the domain's guest runs.
   */
  constructor(
    readonly id: number,
    readonly privileged: boolean,
    readonly mode: GuestMode,
  ) {
    this.xsmLabel = privileged ? "dom0_t" : "domU_t";
  }

  /** True once the domain has shut down or is dying. */
  get isDead(): boolean {
    return this.state === DomainState.Shutdown || this.state === DomainState.Dying;
  }
}
