/**
 * sched_op (xen/common/sched/core.c `do_sched_op`).
 *
 * - yield: ends the caller's quantum; it stays runnable.
 * - block (`vcpu_block_enable_events`): clears the vCPU's evtchn_upcall_mask, then
 *   blocks unless an event already needs delivery (upcall_pending set:
 *   `local_events_need_delivery`); a later event wakes it (`vcpu_kick`) and the arch
 *   enters the upcall on the way back. Returns 0.
 * - poll `struct sched_poll { ports, nr_ports, timeout }` (`do_poll`): nr_ports > 128
 *   −EINVAL; an unreadable struct, a port array the arch's `guestAccessOk` refuses
 *   (checked first) or an unreadable port −EFAULT; returns 0 at once when an
 *   event needs delivery or one of the ports is pending; a port that is invalid or not
 *   bound −EINVAL. Otherwise the vCPU blocks until one of the ports is set pending
 *   (masked or not; any port of the domain when nr_ports ≠ 1), an upcall is raised for
 *   it, or virtual time reaches `timeout` (absolute ns, 0 none); the result is 0.
 * - shutdown: `struct sched_shutdown { u32 reason }`. As in Xen the reason is truncated
 *   to 8 bits and not range-checked (a toolstack sees unknown codes as they are); a
 *   shutdown_code set earlier takes precedence. Returns 0.
 * - shutdown_code: records the reason a later shutdown reports (first value wins).
 * - remote_shutdown: `struct sched_remote_shutdown { domid, reason }`: no such domain
 *   −ESRCH (DOMID_SELF included: Xen looks the id up with rcu_lock_domain_by_id), then
 *   device-model or control-domain privilege (XSM_DM_PRIV) else −EPERM.
 * Others (watchdog, pin_override) return −ENOSYS until their issue.
 *
 * @module
 */
import { SCHED_POLL, SCHED_REMOTE_SHUTDOWN, SCHED_SHUTDOWN } from "../abi/sched.js";
import { SchedOp } from "../abi/numbers.js";
import { DomainState, ShutdownReason } from "../domain.js";
import { Errno } from "../errno.js";
import {
  eventsNeedDelivery,
  evtchnEndPoll,
  evtchnIsPending,
  evtchnStartPoll,
  POLL_MAX_PORTS,
  PortState,
  setUpcallMask,
} from "../event-channel.js";
import { readGuestStruct, readGuestU32, StructBuffer } from "../guest-memory.js";
import type { HypercallArgs, HypercallContext } from "../hypercall.js";

const buf = new StructBuffer(24);
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
      evtchnEndPoll(machine, vcpu);
      setUpcallMask(machine, vcpu, 0);
      if (!eventsNeedDelivery(machine, vcpu)) machine.blockVcpu(vcpu);
      return 0;
    case SchedOp.poll:
      return poll(ctx, arg);
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
      // rcu_lock_domain_by_id: DOMID_SELF names no domain here (−ESRCH), as in Xen.
      const target = machine.domains.get(layout.getNumber(buf.view, 0, "domain_id"));
      if (target === undefined || target.state === DomainState.Dying) return -Errno.ESRCH;
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

function poll(ctx: HypercallContext, arg: bigint): number {
  const { machine, domain, vcpu } = ctx;
  const layout = SCHED_POLL.layout(machine.arch.dataModel);
  if (readGuestStruct(vcpu, arg, layout, buf) !== 0) return -Errno.EFAULT;
  const nr = layout.getNumber(buf.view, 0, "nr_ports");
  if (nr > POLL_MAX_PORTS) return -Errno.EINVAL;
  const ports = layout.getBigInt(buf.view, 0, "ports");
  const timeout = layout.getBigInt(buf.view, 0, "timeout");
  // guest_handle_okay(ports, nr_ports), before anything else (do_poll).
  if (machine.arch.guestAccessOk?.(domain, ports, BigInt(4 * nr)) === false) return -Errno.EFAULT;
  evtchnEndPoll(machine, vcpu);
  if (eventsNeedDelivery(machine, vcpu)) return 0;
  const table = domain.eventChannels;
  let port = 0;
  for (let i = 0; i < nr; i++) {
    port = readGuestU32(vcpu, ports + BigInt(4 * i));
    if (port < 0) return -Errno.EFAULT;
    // evtchn_port_poll: −EINVAL unless valid and bound; pending ends the poll.
    if (!table.isValid(port) || table.state[port] <= PortState.Reserved) return -Errno.EINVAL;
    if (evtchnIsPending(machine, domain, port)) return 0;
  }
  evtchnStartPoll(machine, vcpu, nr === 1 ? port : 0, timeout);
  return 0;
}
