/**
 * The x86_64 PV arch plugin: identity, vCPUs, the domain builder, the arch hypercalls
 * and the PV MMU of each machine.
 *
 * @module
 */
import type {
  ArchPlugin,
  ArchTypes,
  DataModel,
  Domain,
  DomainBuildRequest,
  DomainBuildResult,
  GuestAgent,
  GuestMode,
  HypercallContext,
  HypercallEntry,
  Machine,
  Vcpu,
} from "@hvkit/core";
import {
  Errno,
  ImageError,
  ImageErrorCode,
  MemoryOp,
  updateDomainWallclock,
  updateVcpuSystemTime,
} from "@hvkit/core";
import {
  createX86Cpu,
  disassembleAt,
  pvDomainPages,
  pvKernelImage,
  e820MemoryOp,
  PV64_PAGING,
  RO_MPT_VIRT_START,
  X86_64_DATA_MODEL,
  PvPluginBase,
  type KernelImageAdapter,
  type PvDomainState,
  x86VcpuOp,
} from "@hvkit/arch-x86";
import { X86_64GuestAgent } from "./agent.js";
import { buildPvDomain } from "./builder.js";
import { x86_64PvHypercalls } from "./hypercalls.js";
import { PvVcpu, type X86CpuFactory } from "./pv-vcpu.js";
import { PV64_CONTEXT } from "./vcpu-context.js";

export type { PvDomainState };

/** End of the read-only M2P area (RO_MPT_VIRT_END: 256 GiB after its start). */
const RO_MPT_VIRT_END = RO_MPT_VIRT_START + (1n << 38n);
/** End of Xen's reserved range in a 64-bit PV guest (16 L4 slots from 0xffff800000000000). */
const HYPERVISOR_VIRT_END = 0xffff880000000000n;

/** The x86_64 PV plugin's state types: {@link PvDomainState} per domain, {@link PvVcpu} per vCPU. */
export interface X86_64Pv extends ArchTypes {
  /** Per-domain state. */
  readonly domain: PvDomainState;
  /** Per-vCPU state. */
  readonly vcpu: PvVcpu;
}

/** x86_64 paravirtualized guests.  */
export class X86_64PvPlugin extends PvPluginBase<X86_64Pv> implements ArchPlugin<X86_64Pv> {
  readonly name = "x86_64";
  readonly elfMachines = [62] as const;
  readonly elfClasses = [64] as const;
  readonly endianness = "little" as const;
  readonly wordBits = 64 as const;
  readonly pageSizes = [4096] as const;
  readonly dataModel: DataModel = X86_64_DATA_MODEL;
  /** x86 PV kernels state their entry conventions in Xen notes (libelf refuses them without). */
  readonly requiresXenNotes = true;
  readonly startInfoMagic = "xen-3.0-x86_64";
  readonly modes: readonly GuestMode[] = ["pv"];
  readonly features: readonly string[] = [
    "hypercall-page",
    "frames",
    "frame-mapping",
    "virtual-hypercall-copies",
    "pv-mmu-radix",
    "m2p",
    "trap-table",
    "privileged-op-emulation",
    "shared-info-max-pfn",
    "segmentation",
    "compat-mode",
    "vcpu-time-area",
    "x87",
    "sse",
  ];
  /** The x86 CPU model keeps machine page addresses as int32 in its TLB: 2 GiB at most. */
  readonly maxMemoryMiB = 2048;
  readonly capabilities = "xen-3.0-x86_64";
  /** The native vcpu_guest_context (vcpu-context.ts). */
  protected readonly contextFormat = PV64_CONTEXT;

  /**
   * @param cpuFactory - builds one x86 CPU model per vCPU.
   * @param imageAdapter - reads segments and notes from the ELF loader's image.
   */
  constructor(
    private readonly cpuFactory: X86CpuFactory = createX86Cpu,
    private readonly imageAdapter: KernelImageAdapter = pvKernelImage,
  ) {
    super(PV64_PAGING);
  }

  guestAgent(): GuestAgent {
    return (this.agent ??= new X86_64GuestAgent());
  }
  private agent: X86_64GuestAgent | undefined;

  hypercalls(): readonly HypercallEntry<X86_64Pv>[] {
    return x86_64PvHypercalls();
  }

  createVcpu(machine: Machine<X86_64Pv>, domain: Domain<X86_64Pv>, vcpu: Vcpu<X86_64Pv>): PvVcpu {
    return new PvVcpu(machine, domain, vcpu, this.mmu(machine), this.cpuFactory);
  }

  buildDomain(request: DomainBuildRequest<X86_64Pv>): DomainBuildResult {
    const { machine, domain } = request;
    if (request.mode !== "pv") {
      throw new ImageError(
        ImageErrorCode.UnsupportedFeature,
        "guest mode",
        `x86_64 builds only PV guests, not ${request.mode}`,
      );
    }
    const v = domain.vcpus[0]?.arch;
    if (!v) throw new Error("buildDomain: the domain has no vCPU 0");
    const nrPages = pvDomainPages(machine, domain, request.initial);
    const image = this.imageAdapter(request.image, nrPages * 4096);
    const layout = buildPvDomain(machine, this.mmu(machine), domain, v, image, {
      nrPages,
      cmdline: request.cmdline,
      initial: request.initial,
      ...(request.storeEvtchn !== undefined ? { storeEvtchn: request.storeEvtchn } : {}),
      ...(request.consoleEvtchn !== undefined ? { consoleEvtchn: request.consoleEvtchn } : {}),
      ...(request.ramdisk !== undefined ? { ramdisk: request.ramdisk } : {}),
    });
    domain.arch.layout = layout;
    // As Xen's PV builder: the wall clock, and the boot vCPU's time record.
    updateDomainWallclock(machine, domain);
    updateVcpuSystemTime(machine, domain.vcpus[0]);
    return request.initial
      ? { storeMfn: null, consoleMfn: null }
      : { storeMfn: layout.storeMfn, consoleMfn: layout.consoleMfn };
  }

  disassemble(vcpu: Vcpu<X86_64Pv>, va: bigint, count: number): string[] {
    return disassembleAt(vcpu.arch, va, count);
  }

  hypervisorVirtStart(): bigint {
    return RO_MPT_VIRT_START;
  }

  vmAssistTypes(): readonly number[] {
    // xen/arch/x86/include/asm/config.h VM_ASSIST_VALID for 64-bit PV: 0–5 and m2p_strict (32).
    return [0, 1, 2, 3, 4, 5, 32];
  }

  vcpuOp(
    ctx: HypercallContext<X86_64Pv>,
    cmd: number,
    target: Vcpu<X86_64Pv>,
    arg: bigint,
  ): number {
    return x86VcpuOp(ctx, cmd, target, arg);
  }

  guestAccessOk(_domain: Domain, va: bigint): boolean {
    // Xen's __addr_ok for 64-bit PV: below the non-canonical hole or above Xen's range.
    return va < 1n << 47n || va >= HYPERVISOR_VIRT_END;
  }

  memoryOp(
    ctx: HypercallContext<X86_64Pv>,
    op: number,
    _cmd: bigint,
    arg: bigint,
  ): number | bigint {
    // XENMEM_memory_map (9) and set_memory_map (13): the domain's e820 map.
    if (op !== MemoryOp.machphys_mapping) return e820MemoryOp(ctx, op, arg);
    // XENMEM_machphys_mapping (12): { xen_ulong v_start, v_end, max_mfn }.
    const v = ctx.vcpu.arch;
    const vals = [
      RO_MPT_VIRT_START,
      RO_MPT_VIRT_END,
      ((RO_MPT_VIRT_END - RO_MPT_VIRT_START) >> 3n) - 1n,
    ];
    for (let i = 0; i < 3; i++) {
      for (let b = 0; b < 8; b++) {
        const pa = v.translate(arg + BigInt(8 * i + b), true);
        if (pa < 0) return -Errno.EFAULT;
        ctx.machine.memory.bytes[pa] = Number((vals[i] >> BigInt(8 * b)) & 0xffn);
      }
    }
    return 0;
  }
}

/** The x86_64 PV plugin with hvkit's own CPU model (what the CLI and the conformance suite register). */
export const x86_64PvPlugin: ArchPlugin<X86_64Pv> = new X86_64PvPlugin();
