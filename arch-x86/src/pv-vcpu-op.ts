/**
 * The vcpu_op commands only x86 has (xen/arch/x86/domain.c `do_vcpu_op`, before it falls
 * through to `common_vcpu_op`), for both PV kinds:
 *
 * - register_vcpu_time_memory_area: `struct vcpu_register_time_memory_area`, a guest
 *   handle in a 64-bit union (a 32-bit guest's handle is the low half). Any vCPU of the
 *   caller's domain. −EFAULT when the struct cannot be read or `guest_handle_okay`
 *   refuses the address (the arch's `guestAccessOk`); otherwise the handle becomes the
 *   vCPU's `time_info_guest` — every later rewrite of its vcpu_time_info is copied there,
 *   a null handle stops that — and the record is rewritten at once
 *   (`force_update_vcpu_system_time`). Linux registers one for its vDSO's pvclock.
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

/** x86's own vcpu_op commands (`ArchPlugin.vcpuOp`); −ENOSYS for the others. */
export function x86VcpuOp(ctx: HypercallContext, cmd: number, target: Vcpu, arg: bigint): number {
  const { machine, domain } = ctx;
  switch (cmd) {
    case VcpuOp.register_vcpu_time_memory_area: {
      let ptr = readGuestU64(ctx.vcpu, arg);
      if (ptr < 0n) return -Errno.EFAULT;
      const model = machine.arch.dataModel;
      if (model.handle === 4) ptr &= 0xffffffffn;
      const size = BigInt(VCPU_TIME_INFO.layout(model).size);
      if (!(machine.arch.guestAccessOk?.(domain, ptr, size) ?? true)) return -Errno.EFAULT;
      registerVcpuTimeArea(machine, target, ptr);
      return 0;
    }
    default:
      return -Errno.ENOSYS;
  }
}
