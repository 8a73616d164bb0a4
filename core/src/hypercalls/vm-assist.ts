/**
 * vm_assist (xen/common/domain.c `do_vm_assist`): turns a VMASST_TYPE_* behaviour on or
 * off for the calling domain. A type the arch does not allow for this domain
 * (`ArchPlugin.vmAssistTypes`), or ≥ BITS_PER_LONG, is −EINVAL; with a valid type, a
 * command other than enable/disable is −ENOSYS (Xen checks the type first).
 *
 * @module
 */
import { VmAssistCmd } from "../abi/numbers.js";
import { Errno } from "../errno.js";
import type { HypercallArgs, HypercallContext } from "../hypercall.js";

/** `vm_assist(cmd, type)`. */
export function vmAssist(ctx: HypercallContext, args: HypercallArgs): number {
  const { machine, domain } = ctx;
  const cmd = args.u32(0);
  const type = args.u32(1);
  if (type >= machine.arch.wordBits) return -Errno.EINVAL;
  const valid = machine.arch.vmAssistTypes?.(domain);
  if (valid === undefined || !valid.includes(type)) return -Errno.EINVAL;
  switch (cmd) {
    case VmAssistCmd.enable:
      domain.setVmAssist(type, true);
      return 0;
    case VmAssistCmd.disable:
      domain.setVmAssist(type, false);
      return 0;
    default:
      return -Errno.ENOSYS;
  }
}
