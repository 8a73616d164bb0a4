/**
 * PAPR hcalls: `sc 1` with an r3 that is not a Xen call (`abi/ppc.md`). The hashed page
 * table calls Xen/ppc implemented (H_REMOVE, H_ENTER, H_READ, H_PROTECT ...) belong to
 * the MMU (`mmu/papr.ts`); {@link papr} is the one place they are dispatched. Numbers from `asm-powerpc/papr.h` and the
 * PAPR (LoPAPR) hypervisor call table.
 *
 * @module
 */
import { HStatus, PAPR_HCALL_END, paprHcall } from "./mmu/papr.js";
import type { PpcVcpu } from "./vcpu.js";

/**
 * The PAPR hcall `nr` (r3) of `vcpu`, arguments in r4 onward: its result for r3, its
 * outputs written to r4 onward. A number that is not a PAPR hcall (0, not a multiple of 4,
 * past the table) is H_Parameter; the page-table calls go to the vCPU's MMU
 * (`paprHcall`), any other is H_Function, as is every call before the domain is built.
 */
export function papr(vcpu: PpcVcpu, nr: bigint): number {
  if (nr <= 0n || nr > BigInt(PAPR_HCALL_END) || (nr & 3n) !== 0n) return HStatus.Parameter;
  const mmu = vcpu.mmu;
  if (mmu === null) return HStatus.Function;
  const cpu = vcpu.cpu;
  const args: bigint[] = [];
  for (let k = 0; k < 6; k++) args.push(cpu.gpr(4 + k));
  const out: bigint[] = [];
  const r = paprHcall(mmu, Number(nr), args, out);
  for (let k = 0; k < out.length; k++) cpu.setGpr(4 + k, out[k]!);
  return r;
}
