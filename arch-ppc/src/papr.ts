/**
 * PAPR hcalls: `sc 1` with an r3 that is not a Xen call (`abi/ppc.md`). The hashed page
 * table calls Xen/ppc implemented (H_REMOVE, H_ENTER, H_READ, H_PROTECT ...) belong to
 * the MMU; {@link papr} is the one place they are dispatched, and until the MMU is wired
 * in every valid number answers H_Function. Numbers from `asm-powerpc/papr.h` and the
 * PAPR (LoPAPR) hypervisor call table.
 *
 * @module
 */
import type { PpcVcpu } from "./vcpu.js";

/** PAPR hcall results, in r3. */
export enum PaprResult {
  /** H_Success. */
  Success = 0,
  /** H_Hardware: a hardware error. */
  Hardware = -1,
  /** H_Function: the hcall is not implemented. */
  Function = -2,
  /** H_Privilege: the caller is not privileged (problem state). */
  Privilege = -3,
  /** H_Parameter: a bad parameter, or no such hcall. */
  Parameter = -4,
}

/** PAPR hcall numbers of the hashed page table (Xen/ppc's hcalls.c handled these). */
export const PaprHcall = {
  /** Remove a page table entry. */ H_REMOVE: 0x04,
  /** Enter a page table entry. */ H_ENTER: 0x08,
  /** Read a page table entry. */ H_READ: 0x0c,
  /** Change a page table entry's protection. */ H_PROTECT: 0x18,
} as const;

/** The last PAPR hcall number (H_GET_MPP... the table ends at 0x1D4 in Xen/ppc's papr.h). */
const PAPR_LAST = 0x1d4;

/**
 * The PAPR hcall `nr` (r3) of `vcpu`, arguments in r4 onward: its result for r3. A number
 * that is not a PAPR hcall (0, not a multiple of 4, past the table) is H_Parameter.
 */
export function papr(_vcpu: PpcVcpu, nr: bigint): number {
  if (nr <= 0n || nr > BigInt(PAPR_LAST) || (nr & 3n) !== 0n) return PaprResult.Parameter;
  return PaprResult.Function;
}
