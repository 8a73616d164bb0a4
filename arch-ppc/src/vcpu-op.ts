/**
 * The vcpu_op commands the PowerPC port adds to the core's (`ArchPlugin.vcpuOp`).
 *
 * - register_vcpu_time_memory_area (feature `vcpu-time-area`): x86's second copy of a
 *   vCPU's vcpu_time_info (xen/arch/x86/domain.c `do_vcpu_op`, `update_secondary_system_time`),
 *   which Xen's PowerPC port did not have; hvkit offers it with PowerPC's pointer rules.
 *   `struct vcpu_register_time_memory_area` holds one guest handle, so on PowerPC a xencomm
 *   handle (`abi/ppc.md`): an unreadable struct −EFAULT; a null handle stops the copies;
 *   otherwise the handle is resolved to the guest-physical address of the record once,
 *   here, and later copies go to that address whatever the vCPU's MSR (an inline handle),
 *   as Xen's xencomm code resolves a handle at the time of the call. A handle that does not
 *   resolve, or whose record is not contiguous in guest-physical memory (a descriptor that
 *   splits it), is −EFAULT, as x86 refuses an address `guest_handle_okay` refuses.
 *
 * @module
 */
import {
  Errno,
  readGuestU64,
  registerVcpuTimeArea,
  VCPU_TIME_INFO,
  VcpuOp,
  type HypercallContext,
  type Vcpu,
} from "@hvkit/core";
import type { PpcPv } from "./plugin.js";
import { XENCOMM_INLINE_FLAG } from "./xencomm.js";

/** The PowerPC port's own vcpu_op commands; −ENOSYS for the others. */
export function ppcVcpuOp(
  ctx: HypercallContext<PpcPv>,
  cmd: number,
  target: Vcpu<PpcPv>,
  arg: bigint,
): number {
  switch (cmd) {
    case VcpuOp.register_vcpu_time_memory_area: {
      const handle = readGuestU64(ctx.vcpu, arg);
      if (handle < 0n) return -Errno.EFAULT;
      if (handle === 0n) {
        registerVcpuTimeArea(ctx.machine, target, 0n);
        return 0;
      }
      const size = VCPU_TIME_INFO.layout(ctx.machine.arch.dataModel).size;
      const gpa = ctx.vcpu.arch.guestPhysical(handle, size);
      if (gpa === null) return -Errno.EFAULT;
      registerVcpuTimeArea(ctx.machine, target, gpa | XENCOMM_INLINE_FLAG);
      return 0;
    }
    default:
      return -Errno.ENOSYS;
  }
}
