/**
 * event_channel_op (xen/common/event_channel.c `do_event_channel_op`) with the 2-level
 * ABI. Each sub-op copies its struct in (−EFAULT), runs the operation in
 * event-channel.ts and, for the ones with OUT fields, copies the struct back (−EFAULT
 * when that fails, the operation having happened, as Xen). Argument checks and errno,
 * in Xen's order:
 *
 * - alloc_unbound `{dom, remote_dom, port}`: unknown `dom` −ESRCH; no free port −ENOSPC;
 *   another domain without privilege −EPERM (XSM_TARGET); `remote_dom` DOMID_SELF is the
 *   caller.
 * - bind_interdomain `{remote_dom, remote_port, local_port}`: −ESRCH; −ENOSPC; a remote
 *   port that is invalid, not unbound or not allocated for the caller −EINVAL.
 * - bind_virq `{virq, vcpu, port}`: virq ≥ NR_VIRQS −EINVAL; a non-per-vCPU VIRQ on vCPU
 *   ≠ 0 −EINVAL; no such vCPU −ENOENT; a global VIRQ outside its handler −EBUSY; bound
 *   already −EEXIST; −ENOSPC.
 * - bind_ipi `{vcpu, port}`: −ENOENT; −ENOSPC.
 * - bind_vcpu `{port, vcpu}`: −ENOENT; −EINVAL (invalid port, per-vCPU VIRQ, IPI, free).
 * - close `{port}`, send `{port}`, unmask `{port}`: −EINVAL for invalid ports (see
 *   event-channel.ts for what each does per state).
 * - status: unknown `dom` −ESRCH; invalid port −EINVAL; another domain −EPERM unless
 *   privileged (XSM_TARGET); free and reserved ports read EVTCHNSTAT_closed.
 * - reset / reset_cont `{dom}`: −ESRCH; −EPERM (XSM_TARGET); another domain not paused
 *   −EINVAL.
 * - FIFO ABI (hvkit has only the 2-level one; Linux falls back to it on any error):
 *   init_control `{control_gfn, offset, vcpu, link_bits}` checks as Xen — no such vCPU
 *   −ENOENT, an offset past the page or not 8-byte aligned −EINVAL, a gfn that is not
 *   the domain's RAM −EINVAL — then refuses a valid request with −ENOSYS; expand_array
 *   −EOPNOTSUPP (no FIFO array exists, as Xen before init_control); set_priority an
 *   invalid port −EINVAL, else −ENOSYS (the 2-level ABI has no priorities).
 * - bind_pirq: −ENOSYS (no physical IRQs yet).
 *
 * @module
 */
import {
  EVTCHN_ALLOC_UNBOUND,
  EVTCHN_BIND_INTERDOMAIN,
  EVTCHN_BIND_IPI,
  EVTCHN_BIND_VCPU,
  EVTCHN_BIND_VIRQ,
  EVTCHN_CLOSE,
  EVTCHN_EXPAND_ARRAY,
  EVTCHN_INIT_CONTROL,
  EVTCHN_RESET,
  EVTCHN_SET_PRIORITY,
  EVTCHN_SEND,
  EVTCHN_STATUS,
  EVTCHN_UNMASK,
} from "../abi/event-channel.js";
import { EventChannelOp, EventChannelStatus } from "../abi/numbers.js";
import { Errno } from "../errno.js";
import {
  evtchnAllocUnboundFor,
  evtchnBindInterdomain,
  evtchnBindIpi,
  evtchnBindVcpu,
  evtchnBindVirq,
  evtchnClose,
  evtchnReset,
  evtchnSend,
  evtchnUnmask,
  PortState,
} from "../event-channel.js";
import type { EventChannelTable } from "../event-channel.js";
import { readGuestStruct, StructBuffer, writeGuestStruct } from "../guest-memory.js";
import type { HypercallArgs, HypercallContext } from "../hypercall.js";
import type { StructLayout } from "../structs.js";

const buf = new StructBuffer(32);

/** `event_channel_op(cmd, arg)`. */
export function eventChannelOp(ctx: HypercallContext, args: HypercallArgs): number {
  const cmd = args.i32(0);
  const arg = args.u64(1);
  switch (cmd) {
    case EventChannelOp.alloc_unbound:
      return allocUnbound(ctx, arg);
    case EventChannelOp.bind_interdomain:
      return bindInterdomain(ctx, arg);
    case EventChannelOp.bind_virq:
      return bindVirq(ctx, arg);
    case EventChannelOp.bind_ipi:
      return bindIpi(ctx, arg);
    case EventChannelOp.bind_vcpu:
      return bindVcpu(ctx, arg);
    case EventChannelOp.close:
      return portOp(ctx, arg, EVTCHN_CLOSE.layout(ctx.machine.arch.dataModel), evtchnClose);
    case EventChannelOp.send:
      return portOp(ctx, arg, EVTCHN_SEND.layout(ctx.machine.arch.dataModel), evtchnSend);
    case EventChannelOp.unmask:
      return portOp(ctx, arg, EVTCHN_UNMASK.layout(ctx.machine.arch.dataModel), evtchnUnmask);
    case EventChannelOp.status:
      return status(ctx, arg);
    case EventChannelOp.reset:
    case EventChannelOp.reset_cont:
      return reset(ctx, arg);
    case EventChannelOp.init_control:
      return initControl(ctx, arg);
    case EventChannelOp.expand_array:
      return readArg(ctx, arg, EVTCHN_EXPAND_ARRAY.layout(ctx.machine.arch.dataModel))
        ? -Errno.EOPNOTSUPP
        : -Errno.EFAULT;
    case EventChannelOp.set_priority: {
      const layout = EVTCHN_SET_PRIORITY.layout(ctx.machine.arch.dataModel);
      if (!readArg(ctx, arg, layout)) return -Errno.EFAULT;
      const valid = ctx.domain.eventChannels.isValid(layout.getNumber(buf.view, 0, "port"));
      return valid ? -Errno.ENOSYS : -Errno.EINVAL;
    }
    default:
      return -Errno.ENOSYS;
  }
}

/** Reads the argument struct; false when the guest pointer faults. */
function readArg(ctx: HypercallContext, arg: bigint, layout: StructLayout): boolean {
  return readGuestStruct(ctx.vcpu, arg, layout, buf) === 0;
}

/** Writes OUT field `field` = `value` and the struct back: 0, or −EFAULT. */
function writeBack(
  ctx: HypercallContext,
  arg: bigint,
  layout: StructLayout,
  field: string,
  value: number,
): number {
  layout.set(buf.view, 0, field, value);
  return writeGuestStruct(ctx.vcpu, arg, layout, buf) === 0 ? 0 : -Errno.EFAULT;
}

function allocUnbound(ctx: HypercallContext, arg: bigint): number {
  const { machine, domain } = ctx;
  const layout = EVTCHN_ALLOC_UNBOUND.layout(machine.arch.dataModel);
  if (!readArg(ctx, arg, layout)) return -Errno.EFAULT;
  const target = machine.findDomain(layout.getNumber(buf.view, 0, "dom"), domain);
  if (target === null) return -Errno.ESRCH;
  const remote = layout.getNumber(buf.view, 0, "remote_dom");
  const port = evtchnAllocUnboundFor(machine, domain, target, remote);
  if (port < 0) return port;
  return writeBack(ctx, arg, layout, "port", port);
}

function bindInterdomain(ctx: HypercallContext, arg: bigint): number {
  const { machine, domain } = ctx;
  const layout = EVTCHN_BIND_INTERDOMAIN.layout(machine.arch.dataModel);
  if (!readArg(ctx, arg, layout)) return -Errno.EFAULT;
  const port = evtchnBindInterdomain(
    machine,
    domain,
    layout.getNumber(buf.view, 0, "remote_dom"),
    layout.getNumber(buf.view, 0, "remote_port"),
  );
  if (port < 0) return port;
  return writeBack(ctx, arg, layout, "local_port", port);
}

function bindVirq(ctx: HypercallContext, arg: bigint): number {
  const { machine, domain } = ctx;
  const layout = EVTCHN_BIND_VIRQ.layout(machine.arch.dataModel);
  if (!readArg(ctx, arg, layout)) return -Errno.EFAULT;
  const port = evtchnBindVirq(
    machine,
    domain,
    layout.getNumber(buf.view, 0, "virq"),
    layout.getNumber(buf.view, 0, "vcpu"),
  );
  if (port < 0) return port;
  return writeBack(ctx, arg, layout, "port", port);
}

function bindIpi(ctx: HypercallContext, arg: bigint): number {
  const { machine, domain } = ctx;
  const layout = EVTCHN_BIND_IPI.layout(machine.arch.dataModel);
  if (!readArg(ctx, arg, layout)) return -Errno.EFAULT;
  const port = evtchnBindIpi(machine, domain, layout.getNumber(buf.view, 0, "vcpu"));
  if (port < 0) return port;
  return writeBack(ctx, arg, layout, "port", port);
}

function bindVcpu(ctx: HypercallContext, arg: bigint): number {
  const { machine, domain } = ctx;
  const layout = EVTCHN_BIND_VCPU.layout(machine.arch.dataModel);
  if (!readArg(ctx, arg, layout)) return -Errno.EFAULT;
  return evtchnBindVcpu(
    machine,
    domain,
    layout.getNumber(buf.view, 0, "port"),
    layout.getNumber(buf.view, 0, "vcpu"),
  );
}

/** close, send, unmask: `{ u32 port }` and an operation on the caller's port. */
function portOp(
  ctx: HypercallContext,
  arg: bigint,
  layout: StructLayout,
  op: (
    machine: HypercallContext["machine"],
    domain: HypercallContext["domain"],
    port: number,
  ) => number,
): number {
  if (!readArg(ctx, arg, layout)) return -Errno.EFAULT;
  return op(ctx.machine, ctx.domain, layout.getNumber(buf.view, 0, "port"));
}

/** `struct evtchn_fifo_control_block`: u32 ready, u32 reserved, u32 head[16]. */
const FIFO_CONTROL_BLOCK_BYTES = 72;

function initControl(ctx: HypercallContext, arg: bigint): number {
  const { machine, domain } = ctx;
  const layout = EVTCHN_INIT_CONTROL.layout(machine.arch.dataModel);
  if (!readArg(ctx, arg, layout)) return -Errno.EFAULT;
  const vcpu = layout.getNumber(buf.view, 0, "vcpu");
  if (domain.vcpus[vcpu] === undefined) return -Errno.ENOENT;
  const offset = layout.getNumber(buf.view, 0, "offset");
  if (offset > machine.memory.pageSize - FIFO_CONTROL_BLOCK_BYTES) return -Errno.EINVAL;
  if ((offset & 7) !== 0) return -Errno.EINVAL;
  const gfn = layout.getBigInt(buf.view, 0, "control_gfn");
  if (gfn >= BigInt(domain.p2m.length) || domain.p2m[Number(gfn)] < 0) return -Errno.EINVAL;
  return -Errno.ENOSYS;
}

function reset(ctx: HypercallContext, arg: bigint): number {
  const { machine, domain } = ctx;
  const layout = EVTCHN_RESET.layout(machine.arch.dataModel);
  if (!readArg(ctx, arg, layout)) return -Errno.EFAULT;
  const target = machine.findDomain(layout.getNumber(buf.view, 0, "dom"), domain);
  if (target === null) return -Errno.ESRCH;
  const denied = machine.xsm.evtchnReset(domain, target);
  if (denied !== 0) return denied;
  return evtchnReset(machine, domain, target);
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
  return writeGuestStruct(vcpu, arg, layout, buf) === 0 ? 0 : -Errno.EFAULT;
}

function fillStatus(
  table: EventChannelTable,
  port: number,
  layout: StructLayout,
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
