/**
 * Grant mappings for x86 PV guests (64-bit and compat) (xen/arch/x86/pv/grant_table.c): the arch hooks
 * the core's grant_table_op calls to write a grant's L1 entry in the caller's page tables
 * and to take writable type references (PGT_writable_page) on granted frames, through
 * the machine's PV MMU.
 *
 * @module
 */
import type { Machine, Vcpu } from "@hvkit/core";
import type { PvArchTypes } from "./pv-mm-hypercalls.js";
import { PageType, type PvMmu } from "./pv-mmu.js";

/** ArchPlugin.createGrantHostMapping for PV: the L1 entry in the vCPU's kernel page tables. */
export function createGrantHostMapping(
  mmu: PvMmu,
  vcpu: Vcpu<PvArchTypes>,
  addr: bigint,
  mfn: number,
  flags: number,
): number {
  const v = vcpu.arch;
  return mmu.createGrantMapping(v.guestTable, addr, mfn, flags, vcpu.domain);
}

/** ArchPlugin.replaceGrantHostMapping for PV. */
export function replaceGrantHostMapping(
  mmu: PvMmu,
  vcpu: Vcpu<PvArchTypes>,
  addr: bigint,
  mfn: number,
  newAddr: bigint,
  flags: number,
): number {
  const v = vcpu.arch;
  return mmu.replaceGrantMapping(v.guestTable, addr, mfn, newAddr, flags, vcpu.domain);
}

/** ArchPlugin.getWritableFrame for PV: a PGT_writable_page type reference (refused for page tables). */
export function getWritableFrame(mmu: PvMmu, machine: Machine, mfn: number): boolean {
  const owner = machine.domains.get(machine.memory.frameTable.owner[mfn]);
  if (!owner) return false;
  return mmu.getPageType(mfn, PageType.Writable, owner) === 0;
}

/** ArchPlugin.putWritableFrame for PV. */
export function putWritableFrame(mmu: PvMmu, machine: Machine, mfn: number): void {
  const owner = machine.domains.get(machine.memory.frameTable.owner[mfn]);
  if (owner) mmu.putPageType(mfn, owner);
}
