/**
 * The machine: everything one hvkit run simulates. The interface is what hypercall
 * handlers and arch plugins may rely on; the implementation lives in `machine-impl.ts`
 * and is built in a child DI container per machine.
 *
 * @module
 */
import type { ArchPlugin, ArchTypes } from "./arch-plugin.js";
import type { Domain, DomainState, ShutdownCause, ShutdownReason } from "./domain.js";
import type { PhysicalMemory } from "./memory.js";
import type { HypercallArgs, HypercallEntry } from "./hypercall.js";
import type { GuestMode } from "./arch-plugin.js";
import type { VirtualClock } from "./clock.js";
import type { Vcpu } from "./vcpu.js";
import type { XsmPolicy } from "./xsm.js";

/**
 * What a machine is built from (`createMachine` fills in defaults). Everything that
 * shapes a run is here, so two machines with equal configs and inputs behave identically.
 */
export interface MachineConfig {
  /** Name of the arch plugin, as registered in the `ArchRegistry` (e.g. `x86_64`). */
  readonly arch: string;
  /** Machine memory in MiB (whole MiB, at least 1). */
  readonly memoryMiB: number;
  /** Page size in bytes; must be one of the arch's `pageSizes` (default: its first). */
  readonly pageSize: number;
  /** Scheduling quantum: guest instructions a vCPU runs before the next one gets a turn. */
  readonly quantum: number;
  /** Seed for any pseudo-random choice the model makes (none is made from host entropy). */
  readonly seed: number;
  /** The hypervisor's own command line, as XENVER_commandline reports it to dom0. */
  readonly commandLine: string;
  /**
   * Let every domain use CONSOLEIO_write, as a Xen built with CONFIG_VERBOSE_DEBUG does.
   * Off by default: only the control domain may use console_io (XSM dummy policy).
   */
  readonly guestConsoleWrite: boolean;
  /**
   * Xen's `pv-linear-pt` boot option (default on, as Xen 4.19 built with
   * CONFIG_PV_LINEAR_PT): a PV guest's page table may hold read-only entries naming page
   * tables of its own level ("linear" or recursive page tables), under the rules of
   * xen/arch/x86/mm.c get_*_linear_pagetable. False is `pv-linear-pt=0`: such entries are
   * refused as any entry naming the wrong type is (−EINVAL). Ports without Xen's x86 PV
   * MMU ignore it.
   */
  readonly pvLinearPt: boolean;
  /**
   * Wall-clock time at system time 0, in whole seconds since the Unix epoch: what
   * shared_info's wc_sec reports (guests add system time to it). Fixed so runs repeat.
   */
  readonly bootWallclock: number;
}

/** Limits for one {@link Machine.run} call. */
export interface RunOptions {
  /**
   * Stop once this many guest instructions (over all vCPUs) have retired in this call.
   * Default: no limit.
   */
  readonly maxInstructions?: number;
}

/** How one domain ended up, in a {@link RunOutcome}. */
export interface DomainOutcome {
  /** Domain id. */
  readonly id: number;
  /** Lifecycle state at the end of the run. */
  readonly state: DomainState;
  /** Why it shut down (null while running). */
  readonly shutdownReason: ShutdownReason | null;
  /** Xen's shutdown_code (see `Domain.shutdownCode`). */
  readonly shutdownCode: number | null;
  /** How the shutdown came about (see `Domain.shutdownCause`; null while running). */
  readonly shutdownCause: ShutdownCause | null;
}

/** Why {@link Machine.run} returned, and the state it left. */
export interface RunOutcome {
  /**
   * `all-shutdown`: no domain is left running. `budget-exhausted`: `maxInstructions`
   * retired. `deadlock`: every live vCPU is blocked (or down, or paused) and no timer is
   * pending, or timers keep expiring without waking any (a million in a row), so nothing
   * can ever happen again. `stopped`: {@link Machine.requestStop} was
   * called (by a host-side driver such as the conformance agent harness); `run` may be
   * called again to continue.
   */
  readonly kind: "all-shutdown" | "budget-exhausted" | "deadlock" | "stopped";
  /** Guest instructions retired during this call. */
  readonly instructions: number;
  /** Every domain, by ascending id. */
  readonly domains: readonly DomainOutcome[];
}

/** Where guest console output and hypervisor messages go. */
export interface ConsoleSink {
  /** Bytes a domain wrote through console_io (or its PV console). */
  guestOutput(domain: Domain, bytes: Uint8Array): void;
  /** A hypervisor message (domain crashed, warnings): one line, no trailing newline. */
  hypervisorMessage(line: string): void;
}

/**
 * The machine as handlers and plugins see it. `A`: the arch's state types; an arch's own
 * code sees `Machine<A>`, whose domains and vCPUs carry its state types.
 */
export interface Machine<A extends ArchTypes = ArchTypes> {
  /** The arch plugin this machine runs. */
  readonly arch: ArchPlugin<A>;
  /** All machine memory and the frame table. */
  readonly memory: PhysicalMemory;
  /** Domains by id. */
  readonly domains: ReadonlyMap<number, Domain<A>>;
  /** Where console output goes. */
  readonly console: ConsoleSink;
  /** Virtual time in nanoseconds since machine start. Advances only with the model. */
  readonly now: bigint;
  /** The configuration the machine was built with. */
  readonly config: Readonly<MachineConfig>;
  /** The XSM policy every privileged decision goes through. */
  readonly xsm: XsmPolicy;
  /** Virtual clock and timer queue (the event loop's time). */
  readonly clock: VirtualClock;
  /** The merged hypercall table, indexed by hypercall number. */
  readonly hypercalls: ReadonlyArray<HypercallEntry<A> | undefined>;

  /**
   * Creates an empty domain (no memory, `vcpus` vCPUs created through the arch plugin,
   * all down). `archConfig`, when given, is the arch part of its configuration
   * (`struct xen_arch_domainconfig` in the arch's data model, as domctl createdomain takes
   * it); the arch's `checkDomainConfig` must accept it, else a `MachineConfigError`
   * says what it answered. Without it the domain gets the arch's defaults.
   */
  createDomain(options: {
    privileged: boolean;
    mode: GuestMode;
    vcpus: number;
    id?: number;
    archConfig?: DataView;
  }): Domain<A>;

  /**
   * Allocates `count` free machine frames to `domain` (owner set, contents zeroed) and
   * returns their MFNs in ascending order. Returns null when there is not enough memory
   * or the domain would exceed `maxPages`.
   */
  allocFrames(domain: Domain<A>, count: number): number[] | null;

  /** Number of machine frames no one owns. */
  freeFrameCount(): number;

  /**
   * Destroys a domain: its frames are freed, its vCPUs leave the scheduler, its id is
   * forgotten (later lookups give −ESRCH). Then VIRQ_DOM_EXC is raised for domain 0 if it
   * bound it, as Xen's `domain_kill` does. Used when building a domain fails, and by the
   * toolstack's destroydomain.
   */
  destroyDomain(domain: Domain<A>): void;

  /**
   * Allocates one extent for `domain`: 2^`order` free machine frames, contiguous and
   * aligned to their size (Xen's alloc_domheap_pages), all below frame `limit` (the
   * XENMEMF_address_bits bound), owner set and contents zeroed. Counts the frames in
   * `totPages`; unless `noRefcount` (Xen's MEMF_no_refcount, used by XENMEM_exchange)
   * refuses to go over `maxPages`. Returns the first MFN, or −1 (out of memory, over
   * max_pages, bad order).
   */
  allocExtent(domain: Domain<A>, order: number, limit: number, noRefcount?: boolean): number;

  /**
   * Gives machine frame `mfn`, owned by `domain`, back to the free pool: owner, counts,
   * flags and `released` cleared, `domain.totPages` decremented. The caller has checked
   * that nothing references it. Does nothing for a frame `domain` does not own.
   */
  freeFrame(domain: Domain<A>, mfn: number): void;

  /**
   * Allocates `count` free machine frames owned by the hypervisor (DOMID_XEN, e.g. the
   * M2P table or a shared_info page), zeroed, in ascending order; null when memory is short.
   */
  allocXenFrames(count: number): number[] | null;

  /**
   * Gives hypervisor frame `mfn` back to the free pool: one of {@link allocXenFrames}',
   * also when shared with a domain (a grant table's status frame), or a frame of a
   * destroyed domain the hypervisor kept while others still mapped it. Owner, counts and
   * flags are cleared; no domain's `totPages` changes. The caller has checked that nothing
   * references it.
   */
  freeXenFrame(mfn: number): void;

  /**
   * Shuts a domain down as Xen's `domain_shutdown` does: the first shutdown wins (later
   * calls do nothing), and the reason recorded is the domain's shutdown_code if the guest
   * set one first. For a crash, a line naming the domain and `message` goes to
   * {@link ConsoleSink.hypervisorMessage}. The domain's vCPUs never run again. Then
   * VIRQ_DOM_EXC is raised for domain 0 (its global handler) if it bound it, as Xen's
   * `__domain_finalise_shutdown` does, so a toolstack learns of it. `cause` (default
   * {@link ShutdownCause.Request}) is recorded in `Domain.shutdownCause`.
   */
  shutdownDomain(
    domain: Domain<A>,
    reason: ShutdownReason,
    message?: string,
    cause?: ShutdownCause,
  ): void;

  /**
   * The domain a hypercall's domid argument names, as Xen's `rcu_lock_domain_by_any_id`:
   * DOMID_SELF is `caller`; a dying or unknown id gives null (the caller returns −ESRCH).
   */
  findDomain(domid: number, caller: Domain<A>): Domain<A> | null;

  /** Blocks `vcpu` until {@link Machine.wakeVcpu} (an event, a timer). */
  blockVcpu(vcpu: Vcpu<A>): void;

  /** Makes a blocked `vcpu` runnable again (no effect on running or down vCPUs). */
  wakeVcpu(vcpu: Vcpu<A>): void;

  /** Ends `vcpu`'s current quantum (SCHEDOP_yield); it stays runnable. */
  yieldVcpu(vcpu: Vcpu<A>): void;

  /**
   * Pauses `vcpu` from the host (Xen's `vcpu_pause_nosync`): it is not scheduled until as
   * many {@link Machine.unpauseVcpu} calls; its runstate reads offline meanwhile. A vCPU
   * that pauses itself (from a hypercall it is making) stops at the end of that exit.
   */
  pauseVcpu(vcpu: Vcpu<A>): void;

  /** Takes back one {@link Machine.pauseVcpu}. */
  unpauseVcpu(vcpu: Vcpu<A>): void;

  /**
   * Ends the current {@link Machine.run} after the running vCPU's current exit: it
   * returns with kind `stopped`. For host-side drivers that take turns with the guest.
   */
  requestStop(): void;

  /**
   * Signals event-channel `port` of `domain` as if its remote end had sent on it: sets
   * it pending for the vCPU it notifies, with the 2-level ABI's selector / upcall_pending
   * / wake-up steps (`evtchnSetPending` in event-channel.ts). Invalid, free or reserved
   * ports are ignored.
   */
  notifyPort(domain: Domain<A>, port: number): void;

  /**
   * Dispatches hypercall `nr` made by `vcpu` through the table (what the run loop does on
   * a hypercall exit; multicall uses it for each entry): −ENOSYS for a number out of range,
   * absent from the table or not allowed in the caller's guest mode; the entry's XSM hook;
   * then the handler. Never throws: a handler that throws (an hvkit bug) crashes the
   * calling domain with an "internal error" message naming the hypercall. Each call, its
   * result known, is then reported to the `HYPERCALL_OBSERVERS` bound where the machine
   * was created (see `HypercallObserver`).
   */
  dispatchHypercall(vcpu: Vcpu<A>, nr: number, args: HypercallArgs): number | bigint;

  /**
   * Runs the machine: vCPUs round-robin in quanta, hypercalls dispatched, timers fired,
   * until every domain has shut down, the budget is spent or nothing can make progress.
   * May be called again to continue.
   */
  run(options?: RunOptions): RunOutcome;
}
