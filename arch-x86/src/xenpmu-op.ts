/**
 * xenpmu_op(op, arg): the x86 PMU hypercall (xen/arch/x86/cpu/vpmu.c `do_xenpmu_op`), as
 * Xen answers it without a virtual PMU. Xen's vPMU is off unless booted with `vpmu=`
 * (`opt_vpmu_enabled` is 0 by default), and hvkit has none: every op — mode_get/set,
 * feature_get/set, init, finish, lvtpc_set, flush — is −EOPNOTSUPP before its argument
 * is read. Linux takes that as "VPMU disabled by hypervisor" and counts software events
 * only.
 *
 * @module
 */
import { Errno } from "@hvkit/core";

/** `xenpmu_op`: −EOPNOTSUPP for every op (no vPMU). */
export function xenpmuOp(): number {
  return -Errno.EOPNOTSUPP;
}
