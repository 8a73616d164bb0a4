/**
 * A scripted fake arch for testing the core without a CPU model.
 *
 * Each fake vCPU "runs" a script the test gives it: compute for N instructions, make a
 * hypercall with given arguments, go idle, hit a fatal fault, or call back into the test.
 * Hypercall results are recorded per vCPU. Each domain has a tiny address space (a map
 * from virtual page to machine frame, with a writable bit) that `translate` walks, so the
 * guest-memory door and every −EFAULT path can be exercised. Every `run` call is logged in
 * {@link FakeArch.trace}, which is what scheduling-determinism tests compare.
 *
 * @module
 */
import type {
  ArchPlugin,
  ArchTypes,
  ArchVcpu,
  DomainBuildRequest,
  DomainBuildResult,
  Endianness,
  GuestMode,
  VcpuExit,
} from "../arch-plugin.js";
import type { GuestAgent } from "../agent.js";
import { ArchHookMissingError, VcpuExitKind } from "../arch-plugin.js";
import type { Domain } from "../domain.js";
import type { HypercallArgs, HypercallContext, HypercallEntry } from "../hypercall.js";
import type { Machine } from "../machine.js";
import type { DataModel } from "../structs.js";
import { TEST_LP64_BE, TEST_LP64_LE } from "./data-models.js";
import type { Vcpu } from "../vcpu.js";

/** One step of a fake vCPU's script. */
export type FakeStep =
  /** Retire `instructions` instructions (over as many runs as the budgets need). */
  | { readonly kind: "compute"; readonly instructions: number }
  /** Retire one instruction and exit with hypercall `nr` and up to six arguments. */
  | {
      readonly kind: "hypercall";
      readonly nr: number;
      readonly args?: readonly (number | bigint)[];
    }
  /** Exit Idle (the vCPU blocks); the script continues when it runs again. */
  | { readonly kind: "idle" }
  /** Exit Fatal with `message`. */
  | { readonly kind: "fatal"; readonly message: string }
  /** Call `fn` (no instruction retired, no exit), e.g. to check state mid-run. */
  | { readonly kind: "call"; readonly fn: (vcpu: FakeVcpu) => void }
  /** Throw from `run` (simulates an arch bug). */
  | { readonly kind: "throw"; readonly message: string };

/** One logged `run` call. */
export interface FakeRunRecord {
  /** Domain id. */
  readonly domain: number;
  /** vCPU id. */
  readonly vcpu: number;
  /** Virtual time (ns) when the run started. */
  readonly at: number;
  /** Budget given. */
  readonly budget: number;
  /** Instructions retired. */
  readonly retired: number;
  /** Exit kind. */
  readonly exit: VcpuExitKind;
}

/** One mapped page of a fake address space. */
interface FakeMapping {
  readonly mfn: number;
  readonly writable: boolean;
}

/** A domain's fake address space (kept in `domain.arch`). */
export class FakeAddressSpace {
  /** Virtual page number → mapping. */
  readonly pages = new Map<bigint, FakeMapping>();
}

/** The fake arch's state types: an address space per domain, a scripted vCPU. */
export interface FakeTypes extends ArchTypes {
  /** Per-domain state. */
  readonly domain: FakeAddressSpace;
  /** Per-vCPU state. */
  readonly vcpu: FakeVcpu;
}

/** Identity and optional hooks of a fake arch. */
export interface FakeArchOptions {
  /** Arch name (default `fake`). */
  readonly name?: string;
  /** Page size (default 4096). */
  readonly pageSize?: number;
  /** Byte order (default little). */
  readonly endianness?: Endianness;
  /** Word size (default 64). */
  readonly wordBits?: 32 | 64;
  /** Data model (default TEST_LP64_LE, or TEST_LP64_BE for big-endian). */
  readonly dataModel?: DataModel;
  /** Whether images need Xen notes (default false). */
  readonly requiresXenNotes?: boolean;
  /** Guest modes (default pv, hvm-vmx). */
  readonly modes?: readonly GuestMode[];
  /** ELF machines (default 0x4242, a number no real arch uses). */
  readonly elfMachines?: readonly number[];
  /** Arch hypercall rows. */
  readonly hypercalls?: readonly HypercallEntry<FakeTypes>[];
  /** vm_assist types allowed. */
  readonly vmAssistTypes?: readonly number[];
  /** XENVER_capabilities. */
  readonly capabilities?: string;
  /** The cycle counter's rate (default: absent, the core's TSC_HZ). */
  readonly counterHz?: number;
  /** platform_parameters virt_start. */
  readonly virtStart?: bigint;
  /** Arch XENFEAT bits. */
  readonly features?: number;
  /** Arch memory_op. */
  readonly memoryOp?: (
    ctx: HypercallContext<FakeTypes>,
    op: number,
    cmd: bigint,
    arg: bigint,
  ) => number | bigint;
  /** The domain builder (default: records the request). */
  readonly build?: (request: DomainBuildRequest<FakeTypes>) => DomainBuildResult | void;
  /**
   * Xen's `access_ok` for guest handles (default: absent, every address acceptable). A
   * test gives one to exercise the −EFAULT that Xen returns before touching an array.
   */
  readonly guestAccessOk?: (domain: Domain<FakeTypes>, va: bigint, bytes: bigint) => boolean;
}

/** A scripted vCPU. */
export class FakeVcpu implements ArchVcpu {
  /** {@inheritDoc ArchVcpu.pc} (the fake's program counter is its script position) */
  pc(): bigint {
    return BigInt(this.cursor);
  }

  /** {@inheritDoc ArchVcpu.exit} */
  readonly exit: VcpuExit = { kind: VcpuExitKind.BudgetExhausted, retired: 0, message: "" };
  /** The script. */
  readonly script: FakeStep[] = [];
  /** Index of the current step. */
  cursor = 0;
  /** Results of completed hypercalls, in order. */
  readonly results: (number | bigint)[] = [];
  private computed = 0;

  /**
   * @param arch - the fake arch (for the trace).
   * @param machine - the machine.
   * @param vcpu - the core vCPU.
   */
  constructor(
    private readonly arch: FakeArch,
    readonly machine: Machine<FakeTypes>,
    readonly vcpu: Vcpu<FakeTypes>,
  ) {}

  /** Appends steps to the script. */
  push(...steps: FakeStep[]): this {
    this.script.push(...steps);
    return this;
  }

  /** {@inheritDoc ArchVcpu.run} */
  run(budget: number): VcpuExit {
    const at = this.machine.clock.now;
    const e = this.exit;
    e.retired = 0;
    e.message = "";
    e.kind = this.step(budget);
    this.arch.trace.push({
      domain: this.vcpu.domain.id,
      vcpu: this.vcpu.id,
      at,
      budget,
      retired: e.retired,
      exit: e.kind,
    });
    return e;
  }

  private step(budget: number): VcpuExitKind {
    const e = this.exit;
    for (;;) {
      const s = this.script[this.cursor];
      if (s === undefined) {
        e.retired = budget; // spin forever
        return VcpuExitKind.BudgetExhausted;
      }
      switch (s.kind) {
        case "compute": {
          const n = Math.min(s.instructions - this.computed, budget - e.retired);
          e.retired += n;
          this.computed += n;
          if (this.computed < s.instructions) return VcpuExitKind.BudgetExhausted;
          this.computed = 0;
          this.cursor++;
          if (e.retired === budget) return VcpuExitKind.BudgetExhausted;
          break;
        }
        case "hypercall":
          if (e.retired === budget) return VcpuExitKind.BudgetExhausted;
          e.retired += 1;
          return VcpuExitKind.Hypercall;
        case "idle":
          this.cursor++;
          return VcpuExitKind.Idle;
        case "fatal":
          e.message = s.message;
          return VcpuExitKind.Fatal;
        case "call":
          this.cursor++;
          s.fn(this);
          break;
        case "throw":
          this.cursor++;
          throw new Error(s.message);
      }
    }
  }

  /** {@inheritDoc ArchVcpu.readHypercall} */
  readHypercall(args: HypercallArgs): number {
    const s = this.script[this.cursor];
    if (s?.kind !== "hypercall") throw new Error("readHypercall without a hypercall step");
    for (let i = 0; i < 6; i++) {
      const v = BigInt.asUintN(64, BigInt(s.args?.[i] ?? 0));
      args.set(i, Number(v & 0xffffffffn), Number(v >> 32n));
    }
    return s.nr;
  }

  /** {@inheritDoc ArchVcpu.completeHypercall} */
  completeHypercall(result: number | bigint): void {
    this.results.push(result);
    this.cursor++;
  }

  /** {@inheritDoc ArchVcpu.translate} */
  translate(va: bigint, write: boolean): number {
    const space = this.vcpu.domain.arch;
    const pageSize = BigInt(this.machine.memory.pageSize);
    const m = space.pages.get(va / pageSize);
    if (m === undefined || (write && !m.writable)) return -1;
    return m.mfn * this.machine.memory.pageSize + Number(va % pageSize);
  }

  /** {@inheritDoc ArchVcpu.describe} */
  describe(): string {
    return `fake vcpu ${this.vcpu.id} of domain ${this.vcpu.domain.id}: step ${this.cursor}`;
  }
}

/** The fake arch plugin. */
export class FakeArch implements ArchPlugin<FakeTypes> {
  /** {@inheritDoc ArchPlugin.name} */
  readonly name: string;
  /** {@inheritDoc ArchPlugin.elfMachines} */
  readonly elfMachines: readonly number[];
  /** {@inheritDoc ArchPlugin.elfClasses} */
  readonly elfClasses: readonly (32 | 64)[] = [32, 64];
  /** {@inheritDoc ArchPlugin.endianness} */
  readonly endianness: Endianness;
  /** {@inheritDoc ArchPlugin.wordBits} */
  readonly wordBits: 32 | 64;
  /** {@inheritDoc ArchPlugin.pageSizes} */
  readonly pageSizes: readonly number[];
  /** {@inheritDoc ArchPlugin.dataModel} */
  readonly dataModel: DataModel;
  /** {@inheritDoc ArchPlugin.requiresXenNotes} */
  readonly requiresXenNotes: boolean;
  /** {@inheritDoc ArchPlugin.startInfoMagic} */
  readonly startInfoMagic: string;
  /** {@inheritDoc ArchPlugin.modes} */
  readonly modes: readonly GuestMode[];
  /** {@inheritDoc ArchPlugin.features} */
  readonly features: readonly string[] = [];
  /** {@inheritDoc ArchPlugin.capabilities} */
  readonly capabilities?: string;
  /** {@inheritDoc ArchPlugin.counterHz} */
  readonly counterHz?: number;
  /** Every `run` call, in order. */
  readonly trace: FakeRunRecord[] = [];
  /** Every `onMemoryWritten` call, in order. */
  readonly writes: { pa: number; len: number }[] = [];
  /** Every `onP2mChanged` call, in order: the domain's id and the guest frame. */
  readonly p2mChanges: { domain: number; gpfn: number }[] = [];
  /** Every `buildDomain` request, in order. */
  readonly builds: DomainBuildRequest<FakeTypes>[] = [];

  /** @param options - identity and hooks. */
  constructor(private readonly options: FakeArchOptions = {}) {
    this.name = options.name ?? "fake";
    this.elfMachines = options.elfMachines ?? [0x4242];
    this.endianness = options.endianness ?? "little";
    this.wordBits = options.wordBits ?? 64;
    this.pageSizes = [options.pageSize ?? 4096];
    this.dataModel = options.dataModel ?? (this.endianness === "big" ? TEST_LP64_BE : TEST_LP64_LE);
    this.requiresXenNotes = options.requiresXenNotes ?? false;
    this.startInfoMagic = `xen-3.0-${this.name}`;
    this.modes = options.modes ?? ["pv", "hvm-vmx"];
    if (options.capabilities !== undefined) this.capabilities = options.capabilities;
    if (options.counterHz !== undefined) this.counterHz = options.counterHz;
    if (options.guestAccessOk !== undefined) this.guestAccessOk = options.guestAccessOk;
  }

  /** {@inheritDoc ArchPlugin.guestAccessOk} (only when the options give one). */
  readonly guestAccessOk?: (domain: Domain<FakeTypes>, va: bigint, bytes: bigint) => boolean;

  /** {@inheritDoc ArchPlugin.hypercalls} */
  hypercalls(): readonly HypercallEntry<FakeTypes>[] {
    return this.options.hypercalls ?? [];
  }

  /** {@inheritDoc ArchPlugin.createDomainState} */
  createDomainState(): FakeAddressSpace {
    return new FakeAddressSpace();
  }

  /** {@inheritDoc ArchPlugin.createVcpu} */
  createVcpu(machine: Machine<FakeTypes>, _domain: Domain, vcpu: Vcpu<FakeTypes>): FakeVcpu {
    return new FakeVcpu(this, machine, vcpu);
  }

  /** {@inheritDoc ArchPlugin.buildDomain} */
  buildDomain(request: DomainBuildRequest<FakeTypes>): DomainBuildResult | void {
    this.builds.push(request);
    return this.options.build?.(request);
  }

  /** {@inheritDoc ArchPlugin.guestAgent} The fake arch has none: throws, as a stub does. */
  guestAgent(): GuestAgent {
    throw new ArchHookMissingError(this.name, "guestAgent");
  }

  /** {@inheritDoc ArchPlugin.disassemble} */
  disassemble(_vcpu: Vcpu, va: bigint, count: number): string[] {
    return Array.from({ length: count }, (_, i) => `${(va + BigInt(i)).toString(16)}: (fake)`);
  }

  /** {@inheritDoc ArchPlugin.onMemoryWritten} */
  onMemoryWritten(_machine: Machine, pa: number, len: number): void {
    this.writes.push({ pa, len });
  }

  /** {@inheritDoc ArchPlugin.onP2mChanged} */
  onP2mChanged(_machine: Machine, domain: Domain, gpfn: number): void {
    this.p2mChanges.push({ domain: domain.id, gpfn });
  }

  /** {@inheritDoc ArchPlugin.hypervisorVirtStart} */
  hypervisorVirtStart(_domain: Domain): bigint {
    return this.options.virtStart ?? 0n;
  }

  /** {@inheritDoc ArchPlugin.vmAssistTypes} */
  vmAssistTypes(_domain: Domain): readonly number[] {
    return this.options.vmAssistTypes ?? [];
  }

  /** {@inheritDoc ArchPlugin.xenFeatures} */
  xenFeatures(_domain: Domain): number {
    return this.options.features ?? 0;
  }

  /** {@inheritDoc ArchPlugin.memoryOp} */
  memoryOp(
    ctx: HypercallContext<FakeTypes>,
    op: number,
    cmd: bigint,
    arg: bigint,
  ): number | bigint {
    return this.options.memoryOp?.(ctx, op, cmd, arg) ?? -38;
  }
}

/** The fake vCPU behind a core vCPU of a fake-arch machine. */
export function fakeVcpu(vcpu: Vcpu<FakeTypes>): FakeVcpu {
  return vcpu.arch;
}

/**
 * Maps `count` pages at `va` in `domain`'s fake address space, backed by newly
 * allocated frames (raising maxPages as needed). Returns the MFNs.
 */
export function mapFakePages(
  machine: Machine<FakeTypes>,
  domain: Domain<FakeTypes>,
  va: bigint,
  count: number,
  writable = true,
): number[] {
  if (domain.totPages + count > domain.maxPages) domain.maxPages = domain.totPages + count;
  const mfns = machine.allocFrames(domain, count);
  if (mfns === null) throw new Error("out of memory in mapFakePages");
  mapFakeFrames(machine, domain, va, mfns, writable);
  return mfns;
}

/** Maps existing frames `mfns` at consecutive pages from `va`. */
export function mapFakeFrames(
  machine: Machine<FakeTypes>,
  domain: Domain<FakeTypes>,
  va: bigint,
  mfns: readonly number[],
  writable = true,
): void {
  const space = domain.arch;
  const pageSize = BigInt(machine.memory.pageSize);
  const first = va / pageSize;
  mfns.forEach((mfn, i) => space.pages.set(first + BigInt(i), { mfn, writable }));
}
