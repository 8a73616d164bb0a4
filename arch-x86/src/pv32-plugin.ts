/**
 * The x86 arch plugin: 32-bit PAE PV guests as Xen's PV32 runs them (compat guests of a
 * 64-bit hypervisor). ELF32 EM_386 images with Xen notes and PAE_MODE, built by the
 * shared PV builder with {@link PV32_GUEST} (3-level PAE tables, 4-byte p2m, start_info
 * "xen-3.0-x86_32p", `int $0x82` hypercall page), run on {@link Pv32Vcpu}s; structs in
 * the x86_32 data model (so event channels have 1,024 ports: 32-bit words squared).
 *
 * @module
 */
import {
  Errno,
  ImageError,
  ImageErrorCode,
  MemoryOp,
  updateDomainWallclock,
  updateVcpuSystemTime,
  XEN_MACHPHYS_MAPPING,
  type ArchPlugin,
  type DataModel,
  type Domain,
  type DomainBuildRequest,
  type DomainBuildResult,
  type GuestAgent,
  type GuestMode,
  type HypercallContext,
  type HypercallEntry,
  type Machine,
  type Vcpu,
} from "@hvkit/core";
import { Seg, type X86CpuApi } from "./cpu-api.js";
import { X86_32_DATA_MODEL } from "./data-model.js";
import { disassembleAt } from "./disasm.js";
import { e820MemoryOp } from "./memory-map.js";
import {
  buildPvGuest,
  createX86Cpu,
  pvDomainPages,
  pvKernelImage,
  type KernelImageAdapter,
  type PvGuestFormat,
} from "./pv-builder.js";
import {} from "./pv-grant-mapping.js";
import {
  MACH2PHYS_COMPAT_VIRT_END,
  MACH2PHYS_COMPAT_VIRT_START,
  Pte,
  PV32_PAGING,
} from "./pv-mmu.js";
import { PvPluginBase } from "./pv-plugin.js";
import { PV32_CONTEXT } from "./pv32-context.js";
import { X86GuestAgent } from "./pv32-agent.js";
import { x86Pv32Hypercalls, type X86Pv32 } from "./pv32-hypercalls.js";
import { Pv32Selector } from "./pv32-traps.js";
import { Pv32Vcpu } from "./pv32-vcpu.js";

/**
 * Fills a 32-bit PV hypercall page at machine address `pa` (init_hypercall_page for a
 * compat guest): 0xCC everywhere, then 128 stubs of 32 bytes `mov $n,%eax; int $0x82;
 * ret`, except stub 23 (iret): `push %eax; mov $23,%eax; int $0x82`.
 */
export function writeHypercallPage32(mem: Uint8Array, pa: number): void {
  mem.fill(0xcc, pa, pa + 4096);
  for (let n = 0; n < 128; n++) {
    const stub =
      n === 23 ? [0x50, 0xb8, n, 0, 0, 0, 0xcd, 0x82] : [0xb8, n, 0, 0, 0, 0xcd, 0x82, 0xc3];
    mem.set(stub, pa + n * 32);
  }
}

/** What differs for 32-bit PAE PV guests in the shared builder (dom0_build.c's compat paths). */
export const PV32_GUEST: PvGuestFormat = {
  paging: PV32_PAGING,
  dataModel: X86_32_DATA_MODEL,
  startInfoMagic: "xen-3.0-x86_32p",
  p2mEntryBytes: 4,
  hypervisorStart: BigInt(MACH2PHYS_COMPAT_VIRT_START),
  hypervisorEnd: 1n << 32n,
  // COMPAT_L1_PROT: a ring-1 kernel needs no _PAGE_USER.
  l1Flags: Pte.P | Pte.RW | Pte.A,
  l1HiFlags: 0,
  writeHypercallPage: writeHypercallPage32,
  enterKernel(cpu: X86CpuApi) {
    cpu.rflags = 0x202;
    cpu.cpl = 1;
    cpu.sel[Seg.CS] = Pv32Selector.KERNEL_CS;
    cpu.sel[Seg.SS] = cpu.sel[Seg.DS] = Pv32Selector.KERNEL_DS;
    cpu.sel[Seg.ES] = cpu.sel[Seg.FS] = cpu.sel[Seg.GS] = Pv32Selector.KERNEL_DS;
    cpu.setCodeSize(32);
  },
};

/** libelf's PAE_MODE values that make a 32-bit image a PAE guest ("yes", "bimodal", "extended-cr3"). */
function isPae(mode: string | undefined): boolean {
  return mode !== undefined && (mode === "yes" || /bimodal|extended-cr3/.test(mode));
}

/** 32-bit PAE paravirtualized guests. */
export class X86PvPlugin extends PvPluginBase<X86Pv32> implements ArchPlugin<X86Pv32> {
  readonly name = "x86";
  readonly elfMachines = [3] as const;
  readonly elfClasses = [32] as const;
  readonly endianness = "little" as const;
  readonly wordBits = 32 as const;
  readonly pageSizes = [4096] as const;
  readonly dataModel: DataModel = X86_32_DATA_MODEL;
  /** x86 PV kernels state their entry conventions in Xen notes (libelf refuses them without). */
  readonly requiresXenNotes = true;
  readonly startInfoMagic = "xen-3.0-x86_32p";
  readonly modes: readonly GuestMode[] = ["pv"];
  readonly features: readonly string[] = [
    "hypercall-page",
    "frames",
    "frame-mapping",
    "virtual-hypercall-copies",
    "pv-mmu-radix",
    "pv-mmu-pae",
    "m2p",
    "shared-info-max-pfn",
    "trap-table",
    "x87",
    "sse",
  ];
  /** The x86 CPU model keeps machine page addresses as int32 in its TLB: 2 GiB at most. */
  readonly maxMemoryMiB = 2048;
  /** The capability Xen reports for such guests (XENVER_capabilities). */
  readonly capabilities = "xen-3.0-x86_32p";
  /** The compat vcpu_guest_context (pv32-context.ts). */
  protected readonly contextFormat = PV32_CONTEXT;

  /**
   * @param cpuFactory - builds one x86 CPU model per vCPU.
   * @param imageAdapter - reads segments and notes from the ELF loader's image.
   */
  constructor(
    private readonly cpuFactory: (machine: Machine) => X86CpuApi = createX86Cpu,
    private readonly imageAdapter: KernelImageAdapter = pvKernelImage,
  ) {
    super(PV32_PAGING);
  }

  guestAgent(): GuestAgent {
    return (this.agent ??= new X86GuestAgent());
  }
  private agent: X86GuestAgent | undefined;

  hypercalls(): readonly HypercallEntry<X86Pv32>[] {
    return x86Pv32Hypercalls();
  }

  createVcpu(machine: Machine<X86Pv32>, domain: Domain<X86Pv32>, vcpu: Vcpu<X86Pv32>): Pv32Vcpu {
    return new Pv32Vcpu(machine, domain, vcpu, this.mmu(machine), this.cpuFactory(machine));
  }

  buildDomain(request: DomainBuildRequest<X86Pv32>): DomainBuildResult {
    const { machine, domain } = request;
    if (request.mode !== "pv") {
      throw new ImageError(
        ImageErrorCode.UnsupportedFeature,
        "guest mode",
        `x86 builds only PV guests, not ${request.mode}`,
      );
    }
    if (!isPae(request.image.xen.paeMode)) {
      throw new ImageError(
        ImageErrorCode.UnsupportedFeature,
        "PAE_MODE note",
        `a 32-bit x86 PV kernel must be PAE (PAE_MODE "yes"), not ${JSON.stringify(request.image.xen.paeMode ?? "absent")}`,
      );
    }
    const v = domain.vcpus[0]?.arch;
    if (!v) throw new Error("buildDomain: the domain has no vCPU 0");
    const nrPages = pvDomainPages(machine, domain, request.initial);
    const image = this.imageAdapter(request.image, nrPages * 4096);
    const layout = buildPvGuest(PV32_GUEST, machine, this.mmu(machine), domain, v, image, {
      nrPages,
      cmdline: request.cmdline,
      initial: request.initial,
      ...(request.storeEvtchn !== undefined ? { storeEvtchn: request.storeEvtchn } : {}),
      ...(request.consoleEvtchn !== undefined ? { consoleEvtchn: request.consoleEvtchn } : {}),
      ...(request.ramdisk !== undefined ? { ramdisk: request.ramdisk } : {}),
    });
    domain.arch.layout = layout;
    updateDomainWallclock(machine, domain);
    updateVcpuSystemTime(machine, domain.vcpus[0]);
    return request.initial
      ? { storeMfn: null, consoleMfn: null }
      : { storeMfn: layout.storeMfn, consoleMfn: layout.consoleMfn };
  }

  releaseDomainFrames(machine: Machine<X86Pv32>, domain: Domain<X86Pv32>): void {
    for (const v of domain.vcpus)
      if (v.arch) this.mmu(machine).releaseCompatL4(v.arch.compatL4, domain);
  }

  disassemble(vcpu: Vcpu<X86Pv32>, va: bigint, count: number): string[] {
    return disassembleAt(vcpu.arch, va, count);
  }

  hypervisorVirtStart(): bigint {
    return BigInt(MACH2PHYS_COMPAT_VIRT_START);
  }

  vmAssistTypes(): readonly number[] {
    // xen/arch/x86/include/asm/domain.h PV32_VM_ASSIST_MASK: 4gb_segments(_notify),
    // writable_pagetables, pae_extended_cr3, architectural_iopl, runstate_update_flag.
    return [0, 1, 2, 3, 4, 5];
  }

  guestAccessOk(_domain: Domain, va: bigint, bytes: bigint): boolean {
    // compat_access_ok: the whole range below HYPERVISOR_COMPAT_VIRT_START.
    const end = BigInt(MACH2PHYS_COMPAT_VIRT_START);
    return va >= 0n && va < end && va + bytes <= end;
  }

  memoryOp(ctx: HypercallContext<X86Pv32>, op: number, _cmd: bigint, arg: bigint): number | bigint {
    if (op !== MemoryOp.machphys_mapping) return e820MemoryOp(ctx, op, arg);
    // compat XENMEM_machphys_mapping: the compat M2P's bounds and MACH2PHYS_COMPAT_NR_ENTRIES − 1.
    const l = XEN_MACHPHYS_MAPPING.layout(X86_32_DATA_MODEL);
    const vals: Record<string, number> = {
      v_start: MACH2PHYS_COMPAT_VIRT_START,
      v_end: MACH2PHYS_COMPAT_VIRT_END,
      max_mfn: ((MACH2PHYS_COMPAT_VIRT_END - MACH2PHYS_COMPAT_VIRT_START) >>> 2) - 1,
    };
    const v = ctx.vcpu.arch;
    for (const [name, value] of Object.entries(vals)) {
      for (let b = 0; b < 4; b++) {
        const pa = v.translate(arg + BigInt(l.offsetOf(name) + b), true);
        if (pa < 0) return -Errno.EFAULT;
        ctx.machine.memory.bytes[pa] = (value >>> (8 * b)) & 0xff;
      }
    }
    return 0;
  }
}

/** The x86 (32-bit PAE PV) plugin with hvkit's own CPU model (what the CLI registers). */
export const x86PvPlugin: ArchPlugin<X86Pv32> = new X86PvPlugin();
