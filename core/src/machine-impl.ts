/**
 * The machine: memory, domains, vCPUs, the hypercall table and the run loop.
 *
 * @module
 */
import "reflect-metadata";
import { inject, injectable, injectAll, type DependencyContainer } from "tsyringe";
import { NR_HYPERCALLS, Virq } from "./abi/numbers.js";
import { KERNEL_SERVICE_CALL } from "./agent.js";
import {
  ArchHookMissingError,
  VcpuExitKind,
  type ArchPlugin,
  type ArchTypes,
  type GuestMode,
} from "./arch-plugin.js";
import { NS_PER_INSTRUCTION, VirtualClock } from "./clock.js";
import { RecordingConsoleSink } from "./console-sink.js";
import {
  ARCH_PLUGIN,
  ARCH_REGISTRY,
  CONSOLE_SINK,
  HYPERCALL_ENTRIES,
  HYPERCALL_OBSERVERS,
  MACHINE,
  MACHINE_CONFIG,
  XSM_POLICY,
} from "./di.js";
import { DomId, Domain, DomainState, ShutdownCause, ShutdownReason } from "./domain.js";
import { Errno } from "./errno.js";
import { HvkitError } from "./errors.js";
import {
  EventChannelTable,
  evtchnDestroy,
  evtchnPortLimit,
  evtchnSendVirq,
  evtchnSetPending,
} from "./event-channel.js";
import type {
  HypercallArgs,
  HypercallContext,
  HypercallEntry,
  HypercallObserver,
} from "./hypercall.js";
import { holdGrantMappedFrames } from "./grant-table.js";
import { grantReleaseMappings } from "./hypercalls/grant-table.js";
import { CORE_HYPERCALLS } from "./hypercalls/table.js";
import type {
  ConsoleSink,
  DomainOutcome,
  Machine,
  MachineConfig,
  RunOptions,
  RunOutcome,
} from "./machine.js";
import { FRAME_FREE, FRAME_XEN, PhysicalMemory } from "./memory.js";
import { ArchRegistry } from "./registry.js";
import { Scheduler, type SchedulerHost } from "./scheduler.js";
import { DEFAULT_BOOT_WALLCLOCK, updateVcpuSystemTime } from "./time.js";
import { Vcpu, VcpuState } from "./vcpu.js";
import { DummyXsmPolicy, type XsmPolicy } from "./xsm.js";

/** A machine configuration hvkit cannot build (bad size, unknown page size, ...). */
export class MachineConfigError extends HvkitError {}

/** The defaults `createMachine` fills in (everything but the arch). */
export const DEFAULT_MACHINE_CONFIG: Readonly<Omit<MachineConfig, "arch" | "pageSize">> = {
  memoryMiB: 64,
  quantum: 100_000,
  seed: 0,
  commandLine: "",
  guestConsoleWrite: false,
  pvLinearPt: true,
  bootWallclock: DEFAULT_BOOT_WALLCLOCK,
};

/** The largest machine memory: one typed array must hold it. */
export const MAX_MEMORY_MIB = 4095;

/** The most vCPUs one domain may have. */
export const MAX_VCPUS_PER_DOMAIN = 128;

/**
 * What `createMachine` takes: any {@link MachineConfig} field (defaults fill the rest),
 * the arch as a registered name or as a plugin object (a wrapped or test plugin need not
 * be registered), and optionally the console sink for this machine.
 */
export interface MachineOptions<A extends ArchTypes = ArchTypes> extends Partial<
  Omit<MachineConfig, "arch">
> {
  /** The arch: a name looked up in the registry, or the plugin itself. */
  readonly arch?: string | ArchPlugin<A>;
  /** This machine's console sink (overrides a CONSOLE_SINK the container binds). */
  readonly console?: ConsoleSink;
}

/**
 * Builds a machine in a child container of `parent`. The child binds
 * {@link MACHINE_CONFIG} (defaults filled in); {@link ARCH_PLUGIN}: `options.arch` if it
 * is a plugin, else the plugin of that name in the {@link ARCH_REGISTRY} (or in a registry
 * built from the `ARCH_PLUGINS` set), else the ARCH_PLUGIN `parent` binds;
 * {@link CONSOLE_SINK}: `options.console`, else the parent's, else a
 * {@link RecordingConsoleSink}; {@link XSM_POLICY}: the parent's, else
 * {@link DummyXsmPolicy}; and {@link MACHINE}: the result.
 *
 * Throws {@link MachineConfigError} for a configuration that cannot be built, and
 * `UnknownPluginError` (listing the known names) for an unknown arch name.
 */
export function createMachine<A extends ArchTypes = ArchTypes>(
  parent: DependencyContainer,
  options: MachineOptions<A> = {},
): HvMachine<A> {
  const child = parent.createChildContainer();
  const { arch: archOption, console: sink, ...rest } = options;
  let arch: ArchPlugin<A>;
  if (typeof archOption === "object") {
    arch = archOption;
  } else if (archOption === undefined) {
    if (!child.isRegistered(ARCH_PLUGIN, true)) {
      throw new MachineConfigError("machine config: no arch given (and none bound to ARCH_PLUGIN)");
    }
    // A plugin found by name or binding has the state types the caller names as A.
    arch = child.resolve(ARCH_PLUGIN) as ArchPlugin<A>;
  } else {
    const registry = child.isRegistered(ARCH_REGISTRY, true)
      ? child.resolve(ARCH_REGISTRY)
      : child.resolve(ArchRegistry);
    arch = registry.get(archOption) as ArchPlugin<A>;
  }
  const full: MachineConfig = {
    ...DEFAULT_MACHINE_CONFIG,
    pageSize: arch.pageSizes[0],
    ...withoutUndefined(rest),
    arch: arch.name,
  };
  validateConfig(full, arch);
  child.register(MACHINE_CONFIG, { useValue: Object.freeze(full) });
  child.register(ARCH_PLUGIN, { useValue: arch });
  if (sink !== undefined) {
    child.register(CONSOLE_SINK, { useValue: sink });
  } else if (!child.isRegistered(CONSOLE_SINK, true)) {
    child.register(CONSOLE_SINK, { useValue: new RecordingConsoleSink() });
  }
  if (!child.isRegistered(XSM_POLICY, true)) {
    child.register(XSM_POLICY, { useClass: DummyXsmPolicy });
  }
  const machine = child.resolve(HvMachine) as HvMachine<A>;
  child.register(MACHINE, { useValue: machine });
  return machine;
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function validateConfig(c: MachineConfig, arch: ArchPlugin): void {
  const bad = (what: string): never => {
    throw new MachineConfigError(`machine config: ${what}`);
  };
  if (!Number.isInteger(c.memoryMiB) || c.memoryMiB < 1 || c.memoryMiB > MAX_MEMORY_MIB) {
    bad(`memoryMiB ${c.memoryMiB} is not a whole number of MiB from 1 to ${MAX_MEMORY_MIB}`);
  }
  if (arch.maxMemoryMiB !== undefined && c.memoryMiB > arch.maxMemoryMiB) {
    bad(
      `memory of ${c.memoryMiB} MiB is more than arch ${arch.name} supports (${arch.maxMemoryMiB} MiB)`,
    );
  }
  if (!arch.pageSizes.includes(c.pageSize)) {
    bad(
      `page size ${c.pageSize} is not one arch ${arch.name} supports (${arch.pageSizes.join(", ")})`,
    );
  }
  if ((c.memoryMiB * 0x100000) % c.pageSize !== 0) {
    bad(`memory of ${c.memoryMiB} MiB is not a whole number of ${c.pageSize}-byte pages`);
  }
  if (!Number.isInteger(c.quantum) || c.quantum < 1)
    bad(`quantum ${c.quantum} is not a positive integer`);
  if (!Number.isSafeInteger(c.seed)) bad(`seed ${c.seed} is not an integer`);
  if (!Number.isSafeInteger(c.bootWallclock) || c.bootWallclock < 0) {
    bad(`bootWallclock ${c.bootWallclock} is not a whole number of seconds ≥ 0`);
  }
}

/**
 * The one {@link Machine} implementation. `A`: the arch's state types, as the plugin it is
 * built with has them (see `createMachine`).
 */
@injectable()
export class HvMachine<A extends ArchTypes = ArchTypes> implements Machine<A>, SchedulerHost {
  /** {@inheritDoc Machine.memory} */
  readonly memory: PhysicalMemory;
  /** {@inheritDoc Machine.clock} */
  readonly clock = new VirtualClock();
  /** {@inheritDoc Machine.hypercalls} */
  readonly hypercalls: ReadonlyArray<HypercallEntry<A> | undefined>;
  /** The scheduler (its `vcpus` lists every vCPU in turn order). */
  readonly scheduler: Scheduler;
  private live = 0;

  private readonly domainMap = new Map<number, Domain<A>>();
  private readonly contexts = new Map<Vcpu<A>, HypercallContext<A>>();
  private nextDomainId = 0;
  private freeHint = 0;
  private internalError = false;
  private lastRun: Vcpu<A> | null = null;
  private readonly observers: readonly HypercallObserver[];
  private dispatchDepth = 0;

  /**
   * @param arch - the machine's arch plugin.
   * @param config - the machine configuration (defaults filled in).
   * @param console - where console output and hypervisor messages go.
   * @param xsm - the XSM policy.
   * @param extraHypercalls - rows added to the core's hypercall table.
   * @param observers - watchers of every dispatched hypercall (none: no cost).
   */
  constructor(
    @inject(ARCH_PLUGIN) readonly arch: ArchPlugin<A>,
    @inject(MACHINE_CONFIG) readonly config: Readonly<MachineConfig>,
    @inject(CONSOLE_SINK) readonly console: ConsoleSink,
    @inject(XSM_POLICY) readonly xsm: XsmPolicy,
    @injectAll(HYPERCALL_ENTRIES, { isOptional: true }) extraHypercalls: HypercallEntry[] = [],
    @injectAll(HYPERCALL_OBSERVERS, { isOptional: true }) observers: HypercallObserver[] = [],
  ) {
    this.observers = observers ?? [];
    const frames = (config.memoryMiB * 0x100000) / config.pageSize;
    this.memory = new PhysicalMemory(config.pageSize, frames, arch.endianness);
    this.scheduler = new Scheduler(this.clock, config.quantum);
    this.hypercalls = buildTable([
      ["core", CORE_HYPERCALLS],
      ["an injected HYPERCALL_ENTRIES row", extraHypercalls ?? []],
      [`arch ${arch.name}`, arch.hypercalls()],
    ]);
  }

  /** Number of domains not shut down or dying. */
  get liveDomains(): number {
    return this.live;
  }

  /** {@inheritDoc Machine.domains} */
  get domains(): ReadonlyMap<number, Domain<A>> {
    return this.domainMap;
  }

  /** {@inheritDoc Machine.now} */
  get now(): bigint {
    return this.clock.nowBigInt;
  }

  /** {@inheritDoc Machine.createDomain} */
  createDomain(options: {
    privileged: boolean;
    mode: GuestMode;
    vcpus: number;
    id?: number;
    archConfig?: DataView;
  }): Domain<A> {
    const { privileged, mode, vcpus, archConfig } = options;
    let id = options.id;
    if (id === undefined) {
      // The next free id, wrapping from DOMID_FIRST_RESERVED back to 1 as Xen's
      // createdomain `rover` does (a toolstack restarting a domain over and over).
      const start = this.nextDomainId;
      while (this.domainMap.has(this.nextDomainId)) {
        this.nextDomainId = this.nextDomainId + 1 >= DomId.SELF ? 1 : this.nextDomainId + 1;
        if (this.nextDomainId === start) throw new MachineConfigError("every domain id is taken");
      }
      id = this.nextDomainId;
      this.nextDomainId = id + 1 >= DomId.SELF ? 1 : id + 1;
    }
    if (!Number.isInteger(id) || id < 0 || id >= DomId.SELF) {
      throw new MachineConfigError(`domain id ${id} is not an ordinary domain id (0 to 0x7fef)`);
    }
    if (this.domainMap.has(id)) throw new MachineConfigError(`domain ${id} already exists`);
    if (!this.arch.modes.includes(mode)) {
      throw new MachineConfigError(
        `arch ${this.arch.name} does not run guest mode ${mode} (it runs: ${this.arch.modes.join(", ")})`,
      );
    }
    if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > MAX_VCPUS_PER_DOMAIN) {
      throw new MachineConfigError(
        `a domain needs 1 to ${MAX_VCPUS_PER_DOMAIN} vCPUs, not ${vcpus}`,
      );
    }
    const refused = archConfig ? (this.arch.checkDomainConfig?.(archConfig, mode) ?? 0) : 0;
    if (refused !== 0) {
      throw new MachineConfigError(
        `arch ${this.arch.name} refuses the domain's arch configuration (xen_arch_domainconfig): -${Errno[-refused] ?? -refused}`,
      );
    }
    const domain = new Domain<A>(id, privileged, mode);
    if (this.arch.translatedPv === true) domain.translated = true;
    domain.eventChannels = new EventChannelTable(evtchnPortLimit(this.arch.dataModel));
    domain.arch = this.arch.createDomainState(this, domain, archConfig);
    this.domainMap.set(id, domain);
    this.live++;
    for (let i = 0; i < vcpus; i++) {
      const vcpu = new Vcpu<A>(domain, i);
      vcpu.machine = this;
      vcpu.arch = this.arch.createVcpu(this, domain, vcpu);
      domain.vcpus.push(vcpu);
      this.contexts.set(vcpu, { machine: this, domain, vcpu });
      this.scheduler.add(vcpu);
    }
    return domain;
  }

  /** {@inheritDoc Machine.allocFrames} */
  allocFrames(domain: Domain<A>, count: number): number[] | null {
    if (!Number.isInteger(count) || count < 0) return null;
    if (domain.totPages + count > domain.maxPages) return null;
    const mfns = this.takeFreeFrames(count, domain.id);
    if (mfns !== null) domain.totPages += count;
    return mfns;
  }

  /** {@inheritDoc Machine.freeFrameCount} */
  freeFrameCount(): number {
    const owners = this.memory.frameTable.owner;
    let n = 0;
    for (let mfn = this.freeHint; mfn < owners.length; mfn++) if (owners[mfn] === FRAME_FREE) n++;
    return n;
  }

  /** {@inheritDoc Machine.allocExtent} */
  allocExtent(domain: Domain<A>, order: number, limit: number, noRefcount = false): number {
    if (!Number.isInteger(order) || order < 0 || order > 30) return -1;
    const n = 2 ** order;
    if (!noRefcount && domain.totPages + n > domain.maxPages) return -1;
    const owners = this.memory.frameTable.owner;
    const end = Math.min(limit, owners.length);
    let base = Math.ceil(this.freeHint / n) * n;
    for (; base + n <= end; base += n) {
      let k = 0;
      while (k < n && owners[base + k] === FRAME_FREE) k++;
      if (k === n) break;
    }
    if (base + n > end) return -1;
    const pageSize = this.memory.pageSize;
    for (let mfn = base; mfn < base + n; mfn++) owners[mfn] = domain.id;
    if (this.memory.frameTable.takeUsed(base, n))
      this.memory.bytes.fill(0, base * pageSize, (base + n) * pageSize);
    this.arch.onMemoryWritten?.(this, base * pageSize, n * pageSize);
    domain.totPages += n;
    let hint = this.freeHint;
    while (hint < owners.length && owners[hint] !== FRAME_FREE) hint++;
    this.freeHint = hint;
    return base;
  }

  /** {@inheritDoc Machine.freeFrame} */
  freeFrame(domain: Domain<A>, mfn: number): void {
    const ft = this.memory.frameTable;
    if (mfn < 0 || mfn >= ft.frames || ft.owner[mfn] !== domain.id) return;
    this.release(mfn);
    domain.totPages--;
  }

  /** {@inheritDoc Machine.freeXenFrame} */
  freeXenFrame(mfn: number): void {
    if (mfn >= 0 && mfn < this.memory.frameTable.frames) this.release(mfn);
  }

  /** Puts `mfn` in the free pool (FrameTable.free) and moves the allocation hint down. */
  private release(mfn: number): void {
    this.memory.frameTable.free(mfn);
    if (mfn < this.freeHint) this.freeHint = mfn;
  }

  /** {@inheritDoc Machine.destroyDomain} */
  destroyDomain(domain: Domain<A>): void {
    if (this.domainMap.get(domain.id) !== domain) return;
    evtchnDestroy(this, domain);
    grantReleaseMappings(this, domain);
    if (!domain.isDead) this.live--;
    domain.state = DomainState.Dying;
    this.domainMap.delete(domain.id);
    this.arch.releaseDomainFrames?.(this, domain);
    const ft = this.memory.frameTable;
    // Frames other domains still map through its grants stay out of the free pool, held
    // by the hypervisor until their last mapping goes (Xen keeps the dying domain until
    // the last reference to its pages drops, then frees them).
    const held = holdGrantMappedFrames(this, domain);
    for (let mfn = 0; mfn < ft.frames; mfn++) {
      if (ft.owner[mfn] !== domain.id) continue;
      if (held.has(mfn)) ft.owner[mfn] = FRAME_XEN;
      else this.release(mfn);
    }
    domain.totPages = 0;
    for (const vcpu of domain.vcpus) {
      this.scheduler.remove(vcpu);
      this.contexts.delete(vcpu);
    }
    // Xen's domain_kill: once the domain is dead, send_global_virq(VIRQ_DOM_EXC) so that
    // xenstored releases it.
    const handler = this.domainMap.get(0);
    if (handler !== undefined && !handler.isDead) evtchnSendVirq(this, handler, Virq.dom_exc, 0);
  }

  /** {@inheritDoc Machine.allocXenFrames} */
  allocXenFrames(count: number): number[] | null {
    if (!Number.isInteger(count) || count < 0) return null;
    return this.takeFreeFrames(count, FRAME_XEN);
  }

  /** Lowest free frames first, so allocation order is deterministic. */
  private takeFreeFrames(count: number, owner: number): number[] | null {
    const owners = this.memory.frameTable.owner;
    const mfns: number[] = [];
    for (let mfn = this.freeHint; mfn < owners.length && mfns.length < count; mfn++) {
      if (owners[mfn] === FRAME_FREE) mfns.push(mfn);
    }
    if (mfns.length < count) return null;
    const pageSize = this.memory.pageSize;
    for (const mfn of mfns) {
      owners[mfn] = owner;
      if (this.memory.frameTable.takeUsed(mfn))
        this.memory.bytes.fill(0, mfn * pageSize, (mfn + 1) * pageSize);
      this.arch.onMemoryWritten?.(this, mfn * pageSize, pageSize);
    }
    // Invariant: no frame below freeHint is free (destroyDomain lowers it).
    let hint = this.freeHint;
    while (hint < owners.length && owners[hint] !== FRAME_FREE) hint++;
    this.freeHint = hint;
    return mfns;
  }

  /** {@inheritDoc Machine.shutdownDomain} */
  shutdownDomain(
    domain: Domain<A>,
    reason: ShutdownReason,
    message?: string,
    cause = ShutdownCause.Request,
  ): void {
    if (domain.isDead) return;
    domain.shutdownCause = cause;
    if (domain.shutdownCode === null) domain.shutdownCode = reason;
    const reported = domain.shutdownCode as ShutdownReason;
    domain.state = DomainState.Shutdown;
    domain.shutdownReason = reported;
    this.live--;
    // Xen's __domain_finalise_shutdown: send_global_virq(VIRQ_DOM_EXC) to its handler
    // (the hardware domain, domain 0), which tells the toolstack.
    const handler = this.domainMap.get(0);
    if (handler !== undefined && handler !== domain && !handler.isDead) {
      evtchnSendVirq(this, handler, Virq.dom_exc, 0);
    }
    const name = ShutdownReason[reported] ?? `reason ${reported}`;
    if (reason === ShutdownReason.Crash) {
      this.console.hypervisorMessage(
        `domain ${domain.id} crashed (shutdown reason ${name.toLowerCase()}): ${message ?? "no reason given"}`,
      );
    } else if (message !== undefined) {
      this.console.hypervisorMessage(
        `domain ${domain.id} shut down (${name.toLowerCase()}): ${message}`,
      );
    }
  }

  /** {@inheritDoc Machine.findDomain} */
  findDomain(domid: number, caller: Domain<A>): Domain<A> | null {
    if (domid === DomId.SELF) return caller;
    const d = this.domainMap.get(domid);
    return d === undefined || d.state === DomainState.Dying ? null : d;
  }

  /** {@inheritDoc Machine.blockVcpu} */
  blockVcpu(vcpu: Vcpu<A>): void {
    this.scheduler.block(vcpu);
  }

  /** {@inheritDoc Machine.wakeVcpu} */
  wakeVcpu(vcpu: Vcpu<A>): void {
    this.scheduler.wake(vcpu);
  }

  /** {@inheritDoc Machine.yieldVcpu} */
  yieldVcpu(_vcpu: Vcpu<A>): void {
    this.scheduler.yield();
  }

  /** {@inheritDoc Machine.pauseVcpu} */
  pauseVcpu(vcpu: Vcpu<A>): void {
    vcpu.pauseCount++;
    if (vcpu.state === VcpuState.Runnable) vcpu.setRunstate(3, this.clock.now); // RUNSTATE_offline
  }

  /** {@inheritDoc Machine.unpauseVcpu} */
  unpauseVcpu(vcpu: Vcpu<A>): void {
    if (vcpu.pauseCount === 0) return;
    vcpu.pauseCount--;
    if (vcpu.pauseCount === 0 && vcpu.state === VcpuState.Runnable) {
      vcpu.setRunstate(1, this.clock.now); // RUNSTATE_runnable
    }
  }

  /** {@inheritDoc Machine.requestStop} */
  requestStop(): void {
    this.scheduler.requestStop();
  }

  /** {@inheritDoc Machine.notifyPort} */
  notifyPort(domain: Domain<A>, port: number): void {
    const table = domain.eventChannels;
    if (!table.isValid(port)) return;
    evtchnSetPending(this, domain, table.notifyVcpu[port], port);
  }

  /** {@inheritDoc Machine.dispatchHypercall} */
  dispatchHypercall(vcpu: Vcpu<A>, nr: number, args: HypercallArgs): number | bigint {
    const observers = this.observers;
    if (observers.length === 0) return this.dispatch(vcpu, nr, args);
    const depth = this.dispatchDepth++;
    let result: number | bigint;
    try {
      result = this.dispatch(vcpu, nr, args);
    } finally {
      this.dispatchDepth = depth;
    }
    for (let i = 0; i < observers.length; i++) {
      observers[i].hypercall(vcpu, nr, args, result, depth);
    }
    return result;
  }

  private dispatch(vcpu: Vcpu<A>, nr: number, args: HypercallArgs): number | bigint {
    const entry =
      Number.isInteger(nr) && nr >= 0 && nr < NR_HYPERCALLS ? this.hypercalls[nr] : undefined;
    if (entry === undefined) return -Errno.ENOSYS;
    const domain = vcpu.domain;
    if (!entry.modes.includes(domain.mode)) return -Errno.ENOSYS;
    const denied = this.xsm.checkHypercall(entry.xsm, domain, args);
    if (denied !== 0) return denied;
    try {
      return entry.handler(this.contexts.get(vcpu) ?? { machine: this, domain, vcpu }, args);
    } catch (err) {
      if (err instanceof ArchHookMissingError) throw err;
      this.internalError = true;
      this.shutdownDomain(
        domain,
        ShutdownReason.Crash,
        `internal error in hypercall ${entry.name} (${nr}) from vcpu ${vcpu.id}: ${describeError(err)}`,
      );
      return -Errno.ENOSYS;
    }
  }

  /** {@inheritDoc Machine.run} */
  run(options: RunOptions = {}): RunOutcome {
    let max = options.maxInstructions ?? Infinity;
    if (max === Infinity) max = Number.MAX_SAFE_INTEGER;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(`maxInstructions ${max} is not a whole number ≥ 0`);
    }
    const kind = this.scheduler.run(this, max);
    const domains: DomainOutcome[] = [...this.domainMap.values()]
      .sort((a, b) => a.id - b.id)
      .map((d) => ({
        id: d.id,
        state: d.state,
        shutdownReason: d.shutdownReason,
        shutdownCode: d.shutdownCode,
        shutdownCause: d.shutdownCause,
      }));
    return { kind, instructions: this.scheduler.instructions, domains };
  }

  /** {@inheritDoc SchedulerHost.runSlice} */
  runSlice(vcpu: Vcpu<A>, budget: number): number {
    const domain = vcpu.domain;
    const scheduler = this.scheduler;
    const clock = this.clock;
    let used = 0;
    let phase = "run";
    // Xen's context switch: the incoming vCPU's time record is refreshed, its runstate
    // becomes running (and runnable again when its turn ends).
    vcpu.setRunstate(0, clock.now);
    if (this.lastRun !== vcpu) {
      this.lastRun = vcpu;
      updateVcpuSystemTime(this, vcpu);
    }
    try {
      while (used < budget) {
        phase = "run";
        const exit = vcpu.arch.run(budget - used);
        const retired = exit.retired;
        // An exit that retired nothing is charged one instruction, so every turn progresses.
        const charged = retired > 0 ? Math.min(retired, budget - used) : 1;
        used += charged;
        vcpu.retired += retired;
        clock.advance(charged * NS_PER_INSTRUCTION);
        switch (exit.kind) {
          case VcpuExitKind.Hypercall: {
            phase = "readHypercall";
            const args = vcpu.hypercallArgs;
            const nr = vcpu.arch.readHypercall(args);
            this.internalError = false;
            const service = domain.kernelService;
            const result =
              nr === KERNEL_SERVICE_CALL && service !== null
                ? service.call(vcpu, args)
                : this.dispatchHypercall(vcpu, nr, args);
            if (this.internalError) return used;
            phase = "completeHypercall";
            vcpu.arch.completeHypercall(result);
            break;
          }
          case VcpuExitKind.Idle:
            scheduler.block(vcpu);
            break;
          case VcpuExitKind.Fatal:
            this.shutdownDomain(domain, ShutdownReason.Crash, `vcpu ${vcpu.id}: ${exit.message}`);
            break;
          default:
            break;
        }
        if (vcpu.state !== VcpuState.Runnable || domain.state !== DomainState.Running) break;
        if (vcpu.pauseCount > 0) break;
        if (scheduler.yieldPending || clock.now >= clock.nextDeadline()) break;
      }
    } catch (err) {
      // A port's missing hook is not the guest's doing: let it name itself to the caller.
      if (err instanceof ArchHookMissingError) throw err;
      this.shutdownDomain(
        domain,
        ShutdownReason.Crash,
        `internal error in arch ${this.arch.name} ${phase} on vcpu ${vcpu.id}: ${describeError(err)}`,
      );
    }
    if (vcpu.state === VcpuState.Runnable && vcpu.pauseCount === 0) vcpu.setRunstate(1, clock.now);
    return used > 0 ? used : 1;
  }
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

function buildTable<A extends ArchTypes>(
  sources: [string, readonly HypercallEntry<A>[]][],
): ReadonlyArray<HypercallEntry<A> | undefined> {
  const table: (HypercallEntry<A> | undefined)[] = new Array(NR_HYPERCALLS).fill(undefined);
  const declaredBy: string[] = [];
  for (const [source, entries] of sources) {
    for (const e of entries) {
      if (!Number.isInteger(e.number) || e.number < 0 || e.number >= NR_HYPERCALLS) {
        throw new HvkitError(
          `hypercall ${e.name} from ${source}: number ${e.number} is outside 0–${NR_HYPERCALLS - 1}`,
        );
      }
      if (table[e.number] !== undefined) {
        throw new HvkitError(
          `hypercall ${e.number} is declared twice: ${table[e.number]!.name} by ${declaredBy[e.number]} and ${e.name} by ${source}`,
        );
      }
      table[e.number] = e;
      declaredBy[e.number] = source;
    }
  }
  return Object.freeze(table);
}
