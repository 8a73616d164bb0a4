/**
 * event_channel_op, the part issue 3 needs (xen/common/event_channel.c): EVTCHNOP_send
 * and EVTCHNOP_status over the domain's {@link EventChannelTable}. The binding
 * operations arrive with the next issue and return −ENOSYS until then.
 *
 * - send `{ u32 port }`: an invalid port −EINVAL; XSM_HOOK; an unbound port drops the
 *   notification (0); interdomain notifies the remote port, IPI the local one; any other
 *   state (closed, reserved, VIRQ, PIRQ) −EINVAL.
 * - status `struct evtchn_status`: DOMID_SELF or an id (unknown −ESRCH); an invalid port
 *   −EINVAL; another domain's ports need XSM_TARGET (−EPERM); the port's state is written
 *   back (a free or reserved port reads EVTCHNSTAT_closed).
 *
 * @module
 */
import { EVTCHN_SEND, EVTCHN_STATUS } from "../abi/event-channel.js";
import { EventChannelOp, EventChannelStatus } from "../abi/numbers.js";
import { Errno } from "../errno.js";
import { PortState } from "../event-channel.js";
import type { EventChannelTable } from "../event-channel.js";
import { readGuestStruct, StructBuffer, writeGuestStruct } from "../guest-memory.js";
import type { HypercallArgs, HypercallContext } from "../hypercall.js";

const buf = new StructBuffer(32);

/** `event_channel_op(cmd, arg)`. */
export function eventChannelOp(ctx: HypercallContext, args: HypercallArgs): number {
  const cmd = args.i32(0);
  const arg = args.u64(1);
  switch (cmd) {
    case EventChannelOp.send:
      return send(ctx, arg);
    case EventChannelOp.status:
      return status(ctx, arg);
    default:
      return -Errno.ENOSYS;
  }
}

function send(ctx: HypercallContext, arg: bigint): number {
  const { machine, domain, vcpu } = ctx;
  const layout = EVTCHN_SEND.layout(machine.arch.dataModel);
  if (readGuestStruct(vcpu, arg, layout, buf) !== 0) return -Errno.EFAULT;
  const port = layout.getNumber(buf.view, 0, "port");
  const table = domain.eventChannels;
  if (!table.isValid(port)) return -Errno.EINVAL;
  const denied = machine.xsm.evtchnSend(domain);
  if (denied !== 0) return denied;
  switch (table.stateOf(port)) {
    case PortState.Interdomain: {
      const remote = machine.domains.get(table.remoteDomain[port]);
      if (remote !== undefined) machine.notifyPort(remote, table.remotePort[port]);
      return 0;
    }
    case PortState.Ipi:
      machine.notifyPort(domain, port);
      return 0;
    case PortState.Unbound:
      return 0;
    default:
      return -Errno.EINVAL;
  }
}

function status(ctx: HypercallContext, arg: bigint): number {
  const { machine, domain, vcpu } = ctx;
  const layout = EVTCHN_STATUS.layout(machine.arch.dataModel);
  if (readGuestStruct(vcpu, arg, layout, buf) !== 0) return -Errno.EFAULT;
  const target = machine.findDomain(layout.getNumber(buf.view, 0, "dom"), domain);
  if (target === null) return -Errno.ESRCH;
  const port = layout.getNumber(buf.view, 0, "port");
  const table = target.eventChannels;
  if (!table.isValid(port)) return -Errno.EINVAL;
  const denied = machine.xsm.evtchnStatus(domain, target);
  if (denied !== 0) return denied;
  fillStatus(table, port, layout, buf.view);
  return writeGuestStruct(vcpu, arg, layout, buf);
}

function fillStatus(
  table: EventChannelTable,
  port: number,
  layout: ReturnType<typeof EVTCHN_STATUS.layout>,
  view: DataView,
): void {
  let status: EventChannelStatus;
  switch (table.stateOf(port)) {
    case PortState.Unbound:
      status = EventChannelStatus.unbound;
      layout.set(view, 0, "u.unbound.dom", table.remoteDomain[port]);
      break;
    case PortState.Interdomain:
      status = EventChannelStatus.interdomain;
      layout.set(view, 0, "u.interdomain.dom", table.remoteDomain[port]);
      layout.set(view, 0, "u.interdomain.port", table.remotePort[port]);
      break;
    case PortState.Pirq:
      status = EventChannelStatus.pirq;
      layout.set(view, 0, "u.pirq", table.binding[port]);
      break;
    case PortState.Virq:
      status = EventChannelStatus.virq;
      layout.set(view, 0, "u.virq", table.binding[port]);
      break;
    case PortState.Ipi:
      status = EventChannelStatus.ipi;
      break;
    default:
      status = EventChannelStatus.closed;
      break;
  }
  layout.set(view, 0, "status", status);
  layout.set(view, 0, "vcpu", table.notifyVcpu[port]);
}
