/**
 * What the two x86 PV plugins (x86_64 and the 32-bit PAE `x86`) have in common: the PV
 * MMU of each machine and the hooks that only forward to it, the per-domain state and
 * its creation from createdomain's `xen_arch_domainconfig`, and the parts of Xen's
 * answers that do not depend on the guest's width. Each plugin extends it with its own
 * identity, vCPUs, builder format, hypercall table and address-space limits.
 *
 * @module
 */
import type { DataModel, Domain, GuestMode, Machine, Vcpu } from "@hvkit/core";
import { checkX86DomainConfig, readX86DomainConfig } from "./domain-config.js";
import { pvMaximumGpfn } from "./maximum-gpfn.js";
import type { E820DomainState } from "./memory-map.js";
import { createMachinePvMmu, invalidateCodeEverywhere, type PvBuildLayout } from "./pv-builder.js";
import {
  createGrantHostMapping,
  getWritableFrame,
  putWritableFrame,
  replaceGrantHostMapping,
} from "./pv-grant-mapping.js";
import type { PvArchTypes } from "./pv-mm-hypercalls.js";
import type { PvMmu, PvPagingFormat } from "./pv-mmu.js";
import {
  resetPvVcpu,
  setPvVcpuContext,
  type PvContextFormat,
  type PvContextVcpu,
} from "./pv-vcpu-context.js";

/** What an x86 PV plugin keeps per domain (`Domain.arch`). */
export interface PvDomainState extends E820DomainState {
  /** Where the builder put everything; null until the domain is built. */
  layout: PvBuildLayout | null;
  /**
   * XEN_X86_MSR_RELAXED from createdomain's config (Xen's `d->arch.msr_relaxed`): MSRs
   * Xen does not handle read as 0 and take writes (dropped) instead of #GP, where the
   * host has them (pv-msr.ts). False for domains the host creates (Xen's
   * `dom0-msr-relaxed` defaults to off).
   */
  readonly msrRelaxed: boolean;
}

/** The state types of an x86 PV plugin: {@link PvDomainState} per domain. */
export interface PvPluginTypes extends PvArchTypes {
  /** Per-domain state. */
  readonly domain: PvDomainState;
  /** Per-vCPU state. */
  readonly vcpu: PvContextVcpu;
}

/** The hooks both x86 PV plugins answer the same way (see the module comment). */
export abstract class PvPluginBase<A extends PvPluginTypes> {
  /** The guest ABI's data model (x86_32 or x86_64). */
  abstract readonly dataModel: DataModel;
  /** The `vcpu_guest_context` of the plugin's guests (native 64-bit or compat). */
  protected abstract readonly contextFormat: PvContextFormat<A["vcpu"]>;
  private readonly mmus = new WeakMap<Machine<A>, PvMmu>();

  /** @param paging - the page-table format of the plugin's guests. */
  protected constructor(private readonly paging: PvPagingFormat) {}

  /** The machine's PV MMU (created with the machine's first use). */
  mmu(machine: Machine<A>): PvMmu {
    let m = this.mmus.get(machine);
    if (!m) this.mmus.set(machine, (m = createMachinePvMmu(machine, this.paging)));
    return m;
  }

  /** A domain's state: not built yet, `msr_relaxed` from its creation config if any. */
  createDomainState(_machine: Machine<A>, _domain: Domain<A>, config?: DataView): PvDomainState {
    const msrRelaxed = config ? readX86DomainConfig(config, this.dataModel).msrRelaxed : false;
    return { layout: null, memoryMap: null, msrRelaxed };
  }

  /** createdomain's arch config checks, as x86's arch_sanitise_domain_config. */
  checkDomainConfig(config: DataView, mode: GuestMode): number {
    return checkX86DomainConfig(config, this.dataModel, mode);
  }

  /** arch_set_info_guest: loads a context into `target` (pv-vcpu-context.ts). */
  setVcpuContext(
    machine: Machine<A>,
    target: Vcpu<A>,
    context: DataView,
    initialised: boolean,
  ): number {
    return setPvVcpuContext(this.contextFormat, machine, target, context, initialised);
  }

  /** arch_vcpu_reset: drops the GDT and page tables `target`'s context holds. */
  resetVcpu(_machine: Machine<A>, target: Vcpu<A>): number {
    return resetPvVcpu(target.arch);
  }

  /** A grant mapping at `addr` in `vcpu`'s page tables (pv-grant-mapping.ts). */
  createGrantHostMapping(vcpu: Vcpu<A>, addr: bigint, mfn: number, flags: number): number {
    return createGrantHostMapping(this.mmu(vcpu.machine), vcpu, addr, mfn, flags);
  }

  /** Removes the grant mapping at `addr`, moving `newAddr`'s mapping there if nonzero. */
  replaceGrantHostMapping(
    vcpu: Vcpu<A>,
    addr: bigint,
    mfn: number,
    newAddr: bigint,
    flags: number,
  ): number {
    return replaceGrantHostMapping(this.mmu(vcpu.machine), vcpu, addr, mfn, newAddr, flags);
  }

  /** Takes a writable page type on `mfn` for a writable grant map. */
  getWritableFrame(machine: Machine<A>, mfn: number): boolean {
    return getWritableFrame(this.mmu(machine), machine, mfn);
  }

  /** Drops the writable page type {@link getWritableFrame} took. */
  putWritableFrame(machine: Machine<A>, mfn: number): void {
    putWritableFrame(this.mmu(machine), machine, mfn);
  }

  /** Drops every vCPU's decoded code for the written range. */
  onMemoryWritten(machine: Machine<A>, pa: number, len: number): void {
    invalidateCodeEverywhere(machine, pa, len);
  }

  /**
   * XENVER_get_features for a PV domain (xen/common/kernel.c): mmu_pt_update_preserve_ad
   * (5), highmem_assist (6), gnttab_map_avail_bits (7); pae_pgdir_above_4gb (4) once
   * VMASST pae_extended_cr3 is on.
   */
  xenFeatures(domain: Domain): number {
    return (1 << 5) | (1 << 6) | (1 << 7) | (domain.hasVmAssist(3) ? 1 << 4 : 0);
  }

  /** Writes the M2P entry of `mfn`. */
  setM2p(machine: Machine<A>, mfn: number, pfn: number): void {
    this.mmu(machine).setM2p(mfn, pfn);
  }

  /** Reads the M2P entry of `mfn`. */
  getM2p(machine: Machine<A>, mfn: number): number {
    return this.mmu(machine).getM2p(mfn);
  }

  /** XENMEM_maximum_gpfn as x86 PV's domain_get_maximum_gpfn (shared_info's max_pfn). */
  maximumGpfn(machine: Machine<A>, domain: Domain<A>): bigint {
    return pvMaximumGpfn(machine, domain);
  }
}
