/**
 * The PowerPC PV arch plugin: identity, vCPUs ({@link PpcVcpu}), the domain builder
 * (`builder.ts`) and the vCPU context of VCPUOP_initialise and domctl get/setvcpucontext
 * (`arch-powerpc.h`'s `vcpu_guest_context`: the register frame; `sdr1` not loaded, as
 * Xen/ppc did not).
 *
 * @module
 */
import {
  GNTMAP_APPLICATION_MAP,
  GNTMAP_CONTAINS_PTE,
  GNTMAP_READONLY,
  GrantStatus,
  VcpuContextRun,
  VcpuState,
  type ArchPlugin,
  type ArchTypes,
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
import { PpcGuestAgent } from "./agent.js";
import { buildPpcDomain, TIMEBASE_FREQUENCY, type PpcBuildLayout } from "./builder.js";
import { PPC64_DATA_MODEL } from "./data-model.js";
import type { PpcForeignFrame } from "./mmu/frames.js";
import { PpcHashedPageTable } from "./mmu/hpt.js";
import { disassembleAt, PpcVcpu } from "./vcpu.js";
import { loadPpcGuestContext } from "./vcpu-context.js";
import { ppcVcpuOp } from "./vcpu-op.js";
import { ppcMemoryOp } from "./memory-op.js";

/** What the plugin keeps per domain (`Domain.arch`). */
export interface PpcDomainState {
  /** Where the builder put everything; null until the domain is built. */
  layout: PpcBuildLayout | null;
  /** The hashed page table (the size `ibm,pft-size` announces); null until the domain is built. */
  hpt: PpcHashedPageTable | null;
  /**
   * Other domains' frames at guest frames of this one (grant maps, a toolstack's foreign
   * mappings), by guest frame: Xen/ppc's foreign map.
   */
  readonly foreignFrames: Map<number, PpcForeignFrame>;
}

/** The PowerPC plugin's state types. */
export interface PpcPv extends ArchTypes {
  /** Per-domain state. */
  readonly domain: PpcDomainState;
  /** Per-vCPU state. */
  readonly vcpu: PpcVcpu;
}

/** Registers of `cpu_user_regs` that are SPRs, by field name. */
/**
 * The PowerPC arch plugin: ELF64 big-endian EM_PPC64 (21), 4 KiB pages, no hypercall page
 * (hypercalls are `sc 1`), capabilities "xen-3.0-powerpc64", PV guests. Plain ELF kernels
 * boot without Xen notes (libelf requires them on x86 only).
 */
export class PpcPvPlugin implements ArchPlugin<PpcPv> {
  readonly name = "ppc";
  readonly elfMachines = [21] as const;
  readonly elfClasses = [64] as const;
  readonly endianness = "big" as const;
  readonly wordBits = 64 as const;
  readonly pageSizes = [4096] as const;
  readonly dataModel: DataModel = PPC64_DATA_MODEL;
  readonly requiresXenNotes = false;
  /** Xen/ppc translated every domain: guests name guest-physical frames. */
  readonly translatedPv = true;
  readonly startInfoMagic = "xen-3.0-powerpc64";
  readonly capabilities = "xen-3.0-powerpc64";
  readonly modes: readonly GuestMode[] = ["pv"];
  /** The time base ticks at the device tree's `timebase-frequency`. */
  readonly counterHz = TIMEBASE_FREQUENCY;
  /**
   * A guest names its frames (and, with the MMU, maps them with H_ENTER);
   * VCPUOP_register_vcpu_time_memory_area takes a xencomm handle (`vcpu-op.ts`).
   * Not `m2p`: Xen/ppc gave guests no machine-to-physical table (its `arch_memory_op`
   * answered every operation, XENMEM_machphys_mapping included, with −ENOSYS, and a
   * translated guest names guest frames). `frame-mapping`: the agent maps any frame of
   * its guest-physical space at its window with H_ENTER — its memory, grant frames it
   * placed with XENMEM_add_to_physmap, grants mapped at guest-physical addresses, other
   * domains' frames placed with XENMEM_add_to_physmap_batch (the foreign map,
   * `memory-op.ts`). Not `virtual-hypercall-copies`: xencomm copies are guest-physical
   * (xen/common/xencomm.c), whatever the guest's hashed page table says.
   */
  readonly features: readonly string[] = ["frames", "frame-mapping", "vcpu-time-area"];

  private agent: PpcGuestAgent | undefined;

  guestAgent(): GuestAgent {
    return (this.agent ??= new PpcGuestAgent());
  }

  /** None: the Xen calls a PowerPC guest makes are the core's (PAPR hcalls are `papr.ts`'s). */
  hypercalls(): readonly HypercallEntry<PpcPv>[] {
    return [];
  }

  createDomainState(): PpcDomainState {
    return { layout: null, hpt: null, foreignFrames: new Map() };
  }

  createVcpu(machine: Machine<PpcPv>, domain: Domain<PpcPv>, vcpu: Vcpu<PpcPv>): PpcVcpu {
    const v = new PpcVcpu(machine, domain, vcpu);
    if (domain.arch.hpt !== null) v.useMmu(domain.arch.hpt, domain.arch.foreignFrames);
    return v;
  }

  buildDomain(request: DomainBuildRequest<PpcPv>): DomainBuildResult {
    const v = request.domain.vcpus[0]?.arch;
    if (!v) throw new Error("buildDomain: the domain has no vCPU 0");
    const { layout, result } = buildPpcDomain(request, v);
    request.domain.arch.layout = layout;
    const hpt = (request.domain.arch.hpt = new PpcHashedPageTable(layout.hptLog));
    for (const vc of request.domain.vcpus) vc?.arch.useMmu(hpt, request.domain.arch.foreignFrames);
    return result;
  }

  /**
   * A guest frame left the p2m or names another machine frame: every vCPU's MMU drops its
   * cached translations (real-mode ones too), as the hashed page table's RPNs are guest
   * frames looked up again on the next miss.
   */
  onP2mChanged(_machine: Machine<PpcPv>, domain: Domain<PpcPv>): void {
    domain.arch.hpt?.invalidate();
  }

  disassemble(vcpu: Vcpu<PpcPv>, va: bigint, count: number): string[] {
    return disassembleAt(vcpu.arch, va, count);
  }

  /**
   * arch_set_info_guest: loads `user_regs` (vcpu-context.ts). Nothing is refused. Xen/ppc
   * had no online flag and left the vCPU up or down as it was.
   */
  setVcpuContext(_machine: Machine<PpcPv>, target: Vcpu<PpcPv>, context: DataView): number {
    loadPpcGuestContext(target.arch.cpu, this.dataModel, context);
    return target.state === VcpuState.Down ? VcpuContextRun.Down : VcpuContextRun.Online;
  }

  /** VCPUOP_register_vcpu_time_memory_area with xencomm handles (`vcpu-op.ts`); −ENOSYS for others. */
  vcpuOp(ctx: HypercallContext<PpcPv>, cmd: number, target: Vcpu<PpcPv>, arg: bigint): number {
    return ppcVcpuOp(ctx, cmd, target, arg);
  }

  /**
   * create_grant_host_mapping of a translated guest: `addr` is a guest-physical address,
   * where the granted frame `mfn` appears for H_ENTER (read-only for a GNTMAP_readonly
   * map). Xen/ppc's create_grant_va_mapping recorded the frame in the domain's foreign
   * map at addr >> PAGE_SHIFT, which pfn2mfn resolved (PFN_TYPE_FOREIGN), and refused
   * GNTMAP_application_map and GNTMAP_contains_pte (xen/arch/powerpc/mm.c). **hvkit
   * choice:** any guest frame with no memory and no other grant map there will do (Xen/ppc
   * kept a range of foreign frame numbers); another is GNTST_general_error.
   */
  createGrantHostMapping(vcpu: Vcpu<PpcPv>, addr: bigint, mfn: number, flags: number): number {
    const d = vcpu.domain;
    if (flags & (GNTMAP_APPLICATION_MAP | GNTMAP_CONTAINS_PTE)) return GrantStatus.general_error;
    const gpfn = grantGuestFrame(addr);
    if (gpfn < 0 || (d.p2m[gpfn] ?? -1) >= 0 || d.arch.foreignFrames.has(gpfn))
      return GrantStatus.general_error;
    const owner = vcpu.machine.memory.frameTable.owner[mfn]!;
    d.arch.foreignFrames.set(gpfn, { mfn, owner, readOnly: (flags & GNTMAP_READONLY) !== 0 });
    return 0;
  }

  /**
   * replace_grant_host_mapping: the grant map of `mfn` at guest-physical `addr` goes
   * (destroy_grant_va_mapping), and every translation through it with it: entries of the
   * hashed page table that name the frame fault from now on. Moving a mapping
   * (GNTTABOP_unmap_and_replace, `newAddr` ≠ 0) is GNTST_general_error, as Xen/ppc had no
   * such operation.
   */
  replaceGrantHostMapping(vcpu: Vcpu<PpcPv>, addr: bigint, mfn: number, newAddr: bigint): number {
    const d = vcpu.domain;
    const gpfn = grantGuestFrame(addr);
    if (newAddr !== 0n || d.arch.foreignFrames.get(gpfn)?.mfn !== mfn)
      return GrantStatus.general_error;
    d.arch.foreignFrames.delete(gpfn);
    d.arch.hpt?.invalidate();
    return 0;
  }

  /** XENMEM_add_to_physmap_batch with XENMAPSPACE_gmfn_foreign (`memory-op.ts`); −ENOSYS for others. */
  memoryOp(ctx: HypercallContext<PpcPv>, op: number, cmd: bigint, arg: bigint): number {
    return ppcMemoryOp(ctx, op, cmd, arg);
  }

  /** arch_vcpu_reset: a PowerPC vCPU's context holds no references; nothing to drop. */
  resetVcpu(): number {
    return 0;
  }
}

/** The guest frame of guest-physical `addr`, or −1 past what a p2m entry can name. */
function grantGuestFrame(addr: bigint): number {
  const gpfn = addr >> 12n;
  return addr < 0n || gpfn > 0x7fffffffn ? -1 : Number(gpfn);
}

/** The PowerPC plugin the CLI and the conformance suite register. */
export const ppcPlugin: ArchPlugin<PpcPv> = new PpcPvPlugin();
