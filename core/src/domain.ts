/**
 * A domain: one guest, its memory (p2m), its vCPUs and its hypervisor-side state.
 *
 * @module
 */
import type { KernelService } from "./agent.js";
import type { ArchTypes, GuestMode } from "./arch-plugin.js";
import { EventChannelTable } from "./event-channel.js";
import type { HostEventQueue } from "./host-domain.js";
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

/**
 * How a domain's shutdown came about: hvkit's record beside Xen's reason, so a run can
 * tell a guest that asked to power off from one whose kernel stopped.
 */
export enum ShutdownCause {
  /**
   * Asked for: SCHEDOP_shutdown or remote_shutdown, a toolstack's domctl, or the
   * hypervisor's domain_crash (reason crash).
   */
  Request = 0,
  /**
   * Its last vCPU went down (VCPUOP_down). Xen's `common_vcpu_op` then shuts the domain
   * down with reason poweroff although the guest never asked: Linux's halt with
   * interrupts off (`xen_halt`), where its early exception handler stops after a BUG or
   * panic, ends this way.
   */
  LastVcpuDown = 1,
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

/**
 * One guest. State is plain data so it can be saved, migrated and forked. `A`: the arch's
 * state types ({@link ArchTypes}), which {@link Domain.arch} and the vCPUs' `arch` have.
 */
export class Domain<A extends ArchTypes = ArchTypes> {
  /** vCPUs, index = vCPU id. */
  readonly vcpus: Vcpu<A>[] = [];
  /**
   * Guest-physical to machine frame map: `p2m[pfn]` = MFN, or −1 for a hole. Grows with
   * the reservation.
   */
  p2m: Int32Array = new Int32Array(0);
  /**
   * Xen's `paging_mode_translate`: the domain names its memory by guest frame, through
   * {@link Domain.p2m} (hypercall frame numbers, grant entries, getdomaininfo's
   * shared_info frame), rather than by machine frame as x86 PV guests do. True for
   * hardware-assisted guests and, when the arch says so (`ArchPlugin.translatedPv`), for
   * PV guests too. Set by `Machine.createDomain`.
   */
  translated: boolean;
  /** Maximum pages the domain may own (domctl max_mem). */
  maxPages = 0;
  /** Pages currently owned. */
  totPages = 0;
  /** Lifecycle state. */
  state: DomainState = DomainState.Running;
  /**
   * Toolstack pauses outstanding (Xen's `controller_pause_count`: domctl pausedomain adds
   * one, unpausedomain takes one, at most 255). While it is above 0 and the domain has not
   * shut down, {@link Domain.state} is {@link DomainState.Paused} and no vCPU of it runs.
   */
  controllerPauseCount = 0;
  /** A debugger is attached (domctl setdebugging; XEN_DOMINF_debugged). */
  debuggerAttached = false;
  /**
   * console_io writes XSM refused (a domU under the default policy). hvkit's own count,
   * not Xen's: the first refusal is reported as a hypervisor message.
   */
  consoleWritesRefused = 0;
  /** Why the domain shut down, once it has (Xen's reported reason; see {@link Domain.shutdownCode}). */
  shutdownReason: ShutdownReason | null = null;
  /**
   * Xen's `shutdown_code`: set by SCHEDOP_shutdown_code (first value wins), otherwise by
   * the shutdown itself. When a domain shuts down, the reason it reports (and
   * {@link Domain.shutdownReason} records) is this code if one was set beforehand, as in
   * Xen's `domain_shutdown` — a guest can announce "crash" before its crash kernel powers
   * it off. null until either happens.
   */
  shutdownCode: number | null = null;
  /** How the shutdown came about, once the domain has shut down (null before). */
  shutdownCause: ShutdownCause | null = null;
  /** Machine frame of the shared_info page. */
  sharedInfoMfn = -1;
  /**
   * Enabled VM assists: bit `t` set when VMASST_TYPE `t` is on. Types go up to 32
   * (m2p_strict), past 32-bit bitwise operators, so use {@link Domain.hasVmAssist} and
   * {@link Domain.setVmAssist} rather than `&`/`|`.
   */
  vmAssist = 0;
  /** The 16-byte domain handle (a UUID the toolstack sets; zeros for dom0), XENVER_guest_handle. */
  readonly handle = new Uint8Array(16);
  /**
   * Event-channel ports. The machine replaces this with a table sized for the arch's ABI
   * (BITS_PER_LONG² ports) when it creates the domain.
   */
  eventChannels = new EventChannelTable(4096);
  /** XSM security label (the dummy policy uses `dom0_t` / `domU_t`). */
  xsmLabel: string;
  /**
   * For a built-in domain whose services are host code (hvkit's built-in dom0): where its
   * event-channel notifications go instead of a shared_info page (see `host-domain.ts`,
   * `attachHostEvents`). null for every guest domain.
   */
  hostEvents: HostEventQueue | null = null;
  /**
   * The host-side service this domain's kernel reaches with the kernel service call
   * (`KERNEL_SERVICE_CALL`, see `agent.ts`): set by whoever drives the domain (the
   * conformance agent harness); null for every other domain, whose kernel service calls
   * are ordinary unknown hypercalls (−ENOSYS).
   */
  kernelService: KernelService | null = null;
  /**
   * The arch's per-domain state (e.g. x86 PV: the builder's layout, the memory map), made
   * by `ArchPlugin.createDomainState` when the machine creates the domain. The arch owns
   * its shape; it must be plain serializable data.
   */
  arch!: A["domain"];

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
    this.translated = mode !== "pv";
  }

  /** True when VM assist `type` (a VMASST_TYPE_* number below 53) is enabled. */
  hasVmAssist(type: number): boolean {
    return Math.floor(this.vmAssist / 2 ** type) % 2 === 1;
  }

  /** Enables or disables VM assist `type` (a VMASST_TYPE_* number below 53). */
  setVmAssist(type: number, on: boolean): void {
    if (this.hasVmAssist(type) !== on) this.vmAssist += on ? 2 ** type : -(2 ** type);
  }

  /** True once the domain has shut down or is dying. */
  get isDead(): boolean {
    return this.state === DomainState.Shutdown || this.state === DomainState.Dying;
  }
}
