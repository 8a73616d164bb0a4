/**
 * sched_op (xen/common/sched/core.c `do_sched_op`).
 *
 * - yield: ends the caller's quantum; it stays runnable.
 * - block: blocks the vCPU until it is woken. Xen first enables event delivery and does
 *   not block if an event is already pending; that check needs the event machinery of
 *   the next issue, so for now a blocked vCPU wakes only through a timer or
 *   `Machine.wakeVcpu` (e.g. EVTCHNOP_send to one of its ports).
 * - shutdown: `struct sched_shutdown { u32 reason }`. As in Xen the reason is truncated
 *   to 8 bits and not range-checked (a toolstack sees unknown codes as they are); a
 *   shutdown_code set earlier takes precedence. Returns 0.
 * - shutdown_code: records the reason a later shutdown reports (first value wins).
 * - remote_shutdown: `struct sched_remote_shutdown { domid, reason }`, device-model or
 *   control-domain privilege (XSM_DM_PRIV).
 * Others (poll, watchdog, pin_override) return −ENOSYS until their issue.
 *
 * @module
 */
import { SCHED_REMOTE_SHUTDOWN, SCHED_SHUTDOWN } from "../abi/sched.js";
import { SchedOp } from "../abi/numbers.js";
import { ShutdownReason } from "../domain.js";
import { Errno } from "../errno.js";
import { readGuestStruct, StructBuffer } from "../guest-memory.js";
import type { HypercallArgs, HypercallContext } from "../hypercall.js";

const buf = new StructBuffer(16);
const CRASH_REPORTED = "the guest reported a crash (SCHEDOP_shutdown)";

/** `sched_op(cmd, arg)`. */
export function schedOp(ctx: HypercallContext, args: HypercallArgs): number {
  const { machine, domain, vcpu } = ctx;
  const cmd = args.i32(0);
  const arg = args.u64(1);
  const model = machine.arch.dataModel;
  switch (cmd) {
    case SchedOp.yield:
      machine.yieldVcpu(vcpu);
      return 0;
    case SchedOp.block:
      machine.blockVcpu(vcpu);
      return 0;
    case SchedOp.shutdown: {
      const layout = SCHED_SHUTDOWN.layout(model);
      if (readGuestStruct(vcpu, arg, layout, buf) !== 0) return -Errno.EFAULT;
      const reason = layout.getNumber(buf.view, 0, "reason") & 0xff;
      machine.shutdownDomain(
        domain,
        reason,
        reason === ShutdownReason.Crash ? CRASH_REPORTED : undefined,
      );
      return 0;
    }
    case SchedOp.shutdown_code: {
      const layout = SCHED_SHUTDOWN.layout(model);
      if (readGuestStruct(vcpu, arg, layout, buf) !== 0) return -Errno.EFAULT;
      if (domain.shutdownCode === null) {
        domain.shutdownCode = layout.getNumber(buf.view, 0, "reason") & 0xff;
      }
      return 0;
    }
    case SchedOp.remote_shutdown: {
      const layout = SCHED_REMOTE_SHUTDOWN.layout(model);
      if (readGuestStruct(vcpu, arg, layout, buf) !== 0) return -Errno.EFAULT;
      const target = machine.findDomain(layout.getNumber(buf.view, 0, "domain_id"), domain);
      if (target === null) return -Errno.ESRCH;
      const denied = machine.xsm.schedopShutdown(domain, target);
      if (denied !== 0) return denied;
      const reason = layout.getNumber(buf.view, 0, "reason") & 0xff;
      machine.shutdownDomain(target, reason, `SCHEDOP_remote_shutdown by domain ${domain.id}`);
      return 0;
    }
    default:
      return -Errno.ENOSYS;
  }
}
