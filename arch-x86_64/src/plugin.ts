/**
 * The x86_64 PV arch plugin: identity, vCPUs, the domain builder, the arch hypercalls
 * and the PV MMU of each machine.
 *
 * @module
 */
import type {
  ArchPlugin,
  ArchVcpu,
  Domain,
  DomainBuildRequest,
  DomainBuildResult,
  ElfImage,
  GuestAgent,
  GuestMode,
  HypercallContext,
  HypercallEntry,
  Machine,
  Vcpu,
} from "@hvkit/core";
import {
  computeLoadLayout,
  Errno,
  FRAME_FREE,
  ImageError,
  ImageErrorCode,
  updateDomainWallclock,
  updateVcpuSystemTime,
} from "@hvkit/core";
import {
  claimXenFrames,
  decodeInsn,
  PV64_PAGING,
  PvMmu,
  resolveOperands,
  RO_MPT_VIRT_START,
  X86Cpu,
  type TlbControl,
} from "@hvkit/arch-x86";
import { X86_64GuestAgent } from "./agent.js";
import { buildPvDomain, type PvBuildLayout, type PvKernelImage } from "./builder.js";
import {
  createGrantHostMapping,
  replaceGrantHostMapping,
  getWritableFrame,
  putWritableFrame,
} from "./grant-mapping.js";
import { x86_64PvHypercalls } from "./hypercalls.js";
import { disassembleAt, PvVcpu, type X86CpuFactory } from "./pv-vcpu.js";
import { initialisePvVcpu } from "./vcpu-context.js";

/** End of the read-only M2P area (RO_MPT_VIRT_END: 256 GiB after its start). */
const RO_MPT_VIRT_END = RO_MPT_VIRT_START + (1n << 38n);
/** End of Xen's reserved range in a 64-bit PV guest (16 L4 slots from 0xffff800000000000). */
const HYPERVISOR_VIRT_END = 0xffff880000000000n;

/** Turns the ELF loader's image into the builder's view of it. */
export type KernelImageAdapter = (image: ElfImage, memoryBytes: number) => PvKernelImage;

/** The default adapter: the ELF loader's load layout (libelf's address calculation and checks). */
export function kernelImageFromElf(image: ElfImage, memoryBytes: number): PvKernelImage {
  const layout = computeLoadLayout(image, { memoryBytes, pageSize: 4096 });
  return {
    segments: layout.segments.map((s) => ({
      vaddr: s.virtualAddress,
      data: s.data,
      memsz: Number(s.memSize),
    })),
    entry: layout.entry,
    virtBase: layout.virtBase,
    hypercallPage: layout.hypercallPage ?? null,
  };
}

/**
 * Pages Xen gives the initial domain when no dom0_mem is set: all free memory minus a
 * reserve of 1/16 of it, at most 128 MiB, kept for the hypervisor (dom0_build.c
 * default_nr_pages).
 */
export function defaultDom0Pages(freeFrames: number): number {
  return freeFrames - Math.min(Math.floor(freeFrames / 16), 32768);
}

/** The x86 CPU model over the machine's memory, with the arch-x86 decoder. */
export function createX86Cpu(machine: Machine): X86Cpu {
  return new X86Cpu(machine.memory, decodeInsn, resolveOperands);
}

/** What the x86_64 PV plugin keeps per domain (`Domain.arch`). */
export interface PvDomainState {
  /** Where the builder put everything. */
  readonly layout: PvBuildLayout;
}

/** x86_64 paravirtualized guests.  */
export class X86_64PvPlugin implements ArchPlugin {
  readonly name = "x86_64";
  readonly elfMachines = [62] as const;
  readonly elfClasses = [64] as const;
  readonly endianness = "little" as const;
  readonly wordBits = 64 as const;
  readonly pageSizes = [4096] as const;
  readonly dataModel = "x86_64" as const;
  readonly startInfoMagic = "xen-3.0-x86_64";
  readonly modes: readonly GuestMode[] = ["pv"];
  readonly features: readonly string[] = [
    "hypercall-page",
    "frames",
    "pv-mmu-radix",
    "m2p",
    "trap-table",
  ];
  /** The x86 CPU model keeps machine page addresses as int32 in its TLB: 2 GiB at most. */
  readonly maxMemoryMiB = 2048;
  readonly capabilities = "xen-3.0-x86_64";
  private readonly mmus = new WeakMap<Machine, PvMmu>();

  /**
   * @param cpuFactory - builds one x86 CPU model per vCPU.
   * @param imageAdapter - reads segments and notes from the ELF loader's image.
   */
  constructor(
    private readonly cpuFactory: X86CpuFactory = createX86Cpu,
    private readonly imageAdapter: KernelImageAdapter = kernelImageFromElf,
  ) {}

  /** The machine's PV MMU (created with the machine's first use). */
  mmu(machine: Machine): PvMmu {
    let m = this.mmus.get(machine);
    if (!m) {
      const tlb: TlbControl = {
        flushAll: (d) => {
          for (const v of d.vcpus) (v.arch as PvVcpu | undefined)?.cpu.flushTlb();
        },
        flushVa: (d, va) => {
          for (const v of d.vcpus) (v.arch as PvVcpu | undefined)?.cpu.invlpg(va);
        },
        invalidateCode: (pa, len) => this.onMemoryWritten(machine, pa, len),
      };
      const alloc = (n: number): number[] => {
        const mm = machine as Machine & { allocXenFrames?: (count: number) => number[] | null };
        return mm.allocXenFrames?.(n) ?? claimXenFrames(machine.memory, n);
      };
      m = new PvMmu(machine.memory, PV64_PAGING, tlb, alloc);
      this.mmus.set(machine, m);
    }
    return m;
  }

  guestAgent(): GuestAgent {
    return (this.agent ??= new X86_64GuestAgent());
  }
  private agent: X86_64GuestAgent | undefined;

  hypercalls(): readonly HypercallEntry[] {
    return x86_64PvHypercalls();
  }

  createVcpu(machine: Machine, domain: Domain, vcpu: Vcpu): ArchVcpu {
    return new PvVcpu(machine, domain, vcpu, this.mmu(machine), this.cpuFactory);
  }

  buildDomain(request: DomainBuildRequest): DomainBuildResult {
    const { machine, domain } = request;
    if (request.mode !== "pv") {
      throw new ImageError(
        ImageErrorCode.UnsupportedFeature,
        "guest mode",
        `x86_64 builds only PV guests, not ${request.mode}`,
      );
    }
    const v = domain.vcpus[0]?.arch as PvVcpu | undefined;
    if (!v) throw new Error("buildDomain: the domain has no vCPU 0");
    const ft = machine.memory.frameTable;
    let free = 0;
    for (let f = 0; f < ft.frames; f++) if (ft.owner[f] === FRAME_FREE) free++;
    let nrPages = domain.maxPages > 0 ? domain.maxPages : free;
    if (request.initial) nrPages = Math.min(nrPages, defaultDom0Pages(free));
    const image = this.imageAdapter(request.image, nrPages * 4096);
    const layout = buildPvDomain(machine, this.mmu(machine), domain, v, image, {
      nrPages,
      cmdline: request.cmdline,
      initial: request.initial,
      ...(request.storeEvtchn !== undefined ? { storeEvtchn: request.storeEvtchn } : {}),
      ...(request.consoleEvtchn !== undefined ? { consoleEvtchn: request.consoleEvtchn } : {}),
    });
    const state: PvDomainState = { layout };
    domain.arch = state;
    // As Xen's PV builder: the wall clock, and the boot vCPU's time record.
    updateDomainWallclock(machine, domain);
    updateVcpuSystemTime(machine, domain.vcpus[0]);
    return request.initial
      ? { storeMfn: null, consoleMfn: null }
      : { storeMfn: layout.storeMfn, consoleMfn: layout.consoleMfn };
  }

  initialiseVcpu(ctx: HypercallContext, target: Vcpu, arg: bigint): number {
    return initialisePvVcpu(ctx, target, arg);
  }

  createGrantHostMapping(vcpu: Vcpu, addr: bigint, mfn: number, flags: number): number {
    return createGrantHostMapping(this.mmu(vcpu.machine), vcpu, addr, mfn, flags);
  }

  replaceGrantHostMapping(
    vcpu: Vcpu,
    addr: bigint,
    mfn: number,
    newAddr: bigint,
    flags: number,
  ): number {
    return replaceGrantHostMapping(this.mmu(vcpu.machine), vcpu, addr, mfn, newAddr, flags);
  }

  getWritableFrame(machine: Machine, mfn: number): boolean {
    return getWritableFrame(this.mmu(machine), machine, mfn);
  }

  putWritableFrame(machine: Machine, mfn: number): void {
    putWritableFrame(this.mmu(machine), machine, mfn);
  }

  disassemble(vcpu: Vcpu, va: bigint, count: number): string[] {
    return disassembleAt(vcpu.arch as PvVcpu, va, count);
  }

  onMemoryWritten(machine: Machine, pa: number, len: number): void {
    for (const d of machine.domains.values()) {
      for (const v of d.vcpus) (v.arch as PvVcpu | undefined)?.cpu.invalidateCode(pa, len);
    }
  }

  hypervisorVirtStart(): bigint {
    return RO_MPT_VIRT_START;
  }

  vmAssistTypes(): readonly number[] {
    // xen/arch/x86/include/asm/config.h VM_ASSIST_VALID for 64-bit PV: 0–5 and m2p_strict (32).
    return [0, 1, 2, 3, 4, 5, 32];
  }

  xenFeatures(domain: Domain): number {
    // xen/common/kernel.c for a PV domain: mmu_pt_update_preserve_ad (5), highmem_assist (6),
    // gnttab_map_avail_bits (7); pae_pgdir_above_4gb (4) once VMASST pae_extended_cr3 is on.
    return (1 << 5) | (1 << 6) | (1 << 7) | (domain.hasVmAssist(3) ? 1 << 4 : 0);
  }

  setM2p(machine: Machine, mfn: number, pfn: number): void {
    this.mmu(machine).setM2p(mfn, pfn);
  }

  getM2p(machine: Machine, mfn: number): number {
    return this.mmu(machine).getM2p(mfn);
  }

  guestAccessOk(_domain: Domain, va: bigint): boolean {
    // Xen's __addr_ok for 64-bit PV: below the non-canonical hole or above Xen's range.
    return va < 1n << 47n || va >= HYPERVISOR_VIRT_END;
  }

  memoryOp(ctx: HypercallContext, op: number, _cmd: bigint, arg: bigint): number | bigint {
    // XENMEM_machphys_mapping (12): { xen_ulong v_start, v_end, max_mfn }.
    if (op !== 12) return -Errno.ENOSYS;
    const v = ctx.vcpu.arch as PvVcpu;
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
export const x86_64PvPlugin: ArchPlugin = new X86_64PvPlugin();
