import { describe, expect, it } from "vitest";
import { EventChannelOp, EventChannelStatus, Hypercall } from "../abi/numbers.js";
import type { Domain } from "../domain.js";
import { Errno } from "../errno.js";
import { PortState } from "../event-channel.js";
import {
  readGuestU16,
  readGuestU32,
  writeGuestU16,
  writeGuestU32,
  writeGuestU64,
} from "../guest-memory.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "../testing/fake-machine.js";
import { mapFakePages } from "../testing/fake-arch.js";
import { evtchnIsPending } from "../event-channel.js";
import { VcpuState } from "../vcpu.js";
import {
  EVTCHN_ALLOC_UNBOUND,
  EVTCHN_BIND_INTERDOMAIN,
  EVTCHN_BIND_IPI,
  EVTCHN_BIND_VCPU,
  EVTCHN_BIND_VIRQ,
  EVTCHN_CLOSE,
  EVTCHN_RESET,
  EVTCHN_SEND,
  EVTCHN_UNMASK,
} from "../abi/event-channel.js";
import { Virq } from "../abi/numbers.js";
import { evtchnAllocUnbound, evtchnBindIpi, evtchnBindVirq } from "../event-channel.js";
import { StructBuffer, writeGuestStruct } from "../guest-memory.js";
import type { StructDef } from "../structs.js";
import { TEST_LP64_LE } from "../testing/data-models.js";

const ev = Hypercall.event_channel_op;

function statusArg(d: Domain, dom: number, port: number) {
  const v = d.vcpus[0];
  for (let i = 0n; i < 24n; i += 4n) writeGuestU32(v, DATA_VA + i, 0xcccccccc);
  writeGuestU16(v, DATA_VA, dom);
  writeGuestU32(v, DATA_VA + 4n, port);
  return DATA_VA;
}

function sendArg(d: Domain, port: number) {
  writeGuestU32(d.vcpus[0], DATA_VA + 0x200n, port);
  return DATA_VA + 0x200n;
}

describe("event_channel_op", () => {
  it("status of a free or reserved port is EVTCHNSTAT_closed", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine);
    for (const port of [0, 1, 63]) {
      expect(hypercall(d, ev, [EventChannelOp.status, statusArg(d, 0x7ff0, port)])).toBe(0);
      expect(readGuestU32(d.vcpus[0], DATA_VA + 8n)).toBe(EventChannelStatus.closed);
      expect(readGuestU32(d.vcpus[0], DATA_VA + 12n)).toBe(0); // vcpu
    }
  });

  it("status reports each bound state with its details", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, { vcpus: 2 });
    const t = d.eventChannels;
    t.state[3] = PortState.Unbound;
    t.remoteDomain[3] = 5;
    t.state[4] = PortState.Interdomain;
    t.remoteDomain[4] = 6;
    t.remotePort[4] = 17;
    t.notifyVcpu[4] = 1;
    t.state[5] = PortState.Virq;
    t.binding[5] = 2;
    t.state[6] = PortState.Ipi;
    t.state[7] = PortState.Pirq;
    t.binding[7] = 9;
    const v = d.vcpus[0];
    const status = (port: number) => {
      expect(hypercall(d, ev, [EventChannelOp.status, statusArg(d, 0x7ff0, port)])).toBe(0);
      return readGuestU32(v, DATA_VA + 8n);
    };
    expect(status(3)).toBe(EventChannelStatus.unbound);
    expect(readGuestU16(v, DATA_VA + 16n)).toBe(5);
    expect(status(4)).toBe(EventChannelStatus.interdomain);
    expect(readGuestU16(v, DATA_VA + 16n)).toBe(6);
    expect(readGuestU32(v, DATA_VA + 20n)).toBe(17);
    expect(readGuestU32(v, DATA_VA + 12n)).toBe(1);
    expect(status(5)).toBe(EventChannelStatus.virq);
    expect(readGuestU32(v, DATA_VA + 16n)).toBe(2);
    expect(status(6)).toBe(EventChannelStatus.ipi);
    expect(status(7)).toBe(EventChannelStatus.pirq);
    expect(readGuestU32(v, DATA_VA + 16n)).toBe(9);
  });

  it("status errors: -EINVAL past the valid ports, -ESRCH, -EPERM for another domain, -EFAULT", () => {
    const { machine } = fakeMachine();
    const dom0 = addFakeDomain(machine, { privileged: true });
    const domU = addFakeDomain(machine);
    expect(hypercall(domU, ev, [EventChannelOp.status, statusArg(domU, 0x7ff0, 64)])).toBe(
      -Errno.EINVAL,
    );
    expect(hypercall(domU, ev, [EventChannelOp.status, statusArg(domU, 0x7ff0, 0xffffffff)])).toBe(
      -Errno.EINVAL,
    );
    expect(hypercall(domU, ev, [EventChannelOp.status, statusArg(domU, 9, 1)])).toBe(-Errno.ESRCH);
    expect(hypercall(domU, ev, [EventChannelOp.status, statusArg(domU, dom0.id, 1)])).toBe(
      -Errno.EPERM,
    );
    expect(readGuestU32(domU.vcpus[0], DATA_VA + 8n)).toBe(0xcccccccc); // nothing written back
    expect(hypercall(dom0, ev, [EventChannelOp.status, statusArg(dom0, domU.id, 1)])).toBe(0);
    expect(hypercall(domU, ev, [EventChannelOp.status, 0x40])).toBe(-Errno.EFAULT);
    // Once a binding needs port 64, its bucket exists and the port is valid.
    expect(domU.eventChannels.ensure(64)).toBe(true);
    expect(hypercall(domU, ev, [EventChannelOp.status, statusArg(domU, 0x7ff0, 64)])).toBe(0);
    expect(domU.eventChannels.ensure(4096)).toBe(false);
  });

  it("send: closed and reserved ports -EINVAL, unbound dropped, interdomain wakes the remote vCPU", () => {
    const { machine } = fakeMachine();
    const a = addFakeDomain(machine);
    const b = addFakeDomain(machine, { vcpus: 2 });
    b.sharedInfoMfn = machine.allocXenFrames(1)![0];
    expect(hypercall(a, ev, [EventChannelOp.send, sendArg(a, 0)])).toBe(-Errno.EINVAL);
    expect(hypercall(a, ev, [EventChannelOp.send, sendArg(a, 1)])).toBe(-Errno.EINVAL);
    expect(hypercall(a, ev, [EventChannelOp.send, sendArg(a, 5000)])).toBe(-Errno.EINVAL);
    expect(hypercall(a, ev, [EventChannelOp.send, 0])).toBe(-Errno.EFAULT);
    a.eventChannels.state[2] = PortState.Unbound;
    expect(hypercall(a, ev, [EventChannelOp.send, sendArg(a, 2)])).toBe(0);
    a.eventChannels.state[3] = PortState.Virq;
    expect(hypercall(a, ev, [EventChannelOp.send, sendArg(a, 3)])).toBe(-Errno.EINVAL);
    a.eventChannels.state[4] = PortState.Interdomain;
    a.eventChannels.remoteDomain[4] = b.id;
    a.eventChannels.remotePort[4] = 7;
    b.eventChannels.state[7] = PortState.Interdomain;
    b.eventChannels.notifyVcpu[7] = 1;
    b.vcpus[1].state = VcpuState.Blocked;
    b.vcpus[0].state = VcpuState.Blocked;
    expect(hypercall(a, ev, [EventChannelOp.send, sendArg(a, 4)])).toBe(0);
    expect(b.vcpus[1].state).toBe(VcpuState.Runnable);
    expect(b.vcpus[0].state).toBe(VcpuState.Blocked);
  });

  it("FIFO ABI: init_control checks its arguments like Xen, then is refused; expand_array, set_priority", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, { vcpus: 2 });
    const v = d.vcpus[0];
    const arg = DATA_VA + 0x100n;
    const init = (gfn: bigint, offset: number, vcpu: number) => {
      writeGuestU64(v, arg, gfn);
      writeGuestU32(v, arg + 8n, offset);
      writeGuestU32(v, arg + 12n, vcpu);
      return hypercall(d, ev, [EventChannelOp.init_control, arg]);
    };
    d.p2m = new Int32Array([-1, 7]);
    const gfn = 1n;
    expect(init(0n, 0, 0)).toBe(-Errno.EINVAL); // a hole
    expect(init(gfn, 0, 2)).toBe(-Errno.ENOENT);
    expect(init(gfn, 4096 - 72 + 8, 0)).toBe(-Errno.EINVAL);
    expect(init(gfn, 4, 0)).toBe(-Errno.EINVAL);
    expect(init(0xfffffffffffffffen, 0, 0)).toBe(-Errno.EINVAL); // XTF xsa-188
    expect(init(gfn, 4096 - 72, 1)).toBe(-Errno.ENOSYS);
    expect(hypercall(d, ev, [EventChannelOp.init_control, 0x40])).toBe(-Errno.EFAULT);
    expect(hypercall(d, ev, [EventChannelOp.expand_array, arg])).toBe(-Errno.EOPNOTSUPP);
    expect(hypercall(d, ev, [EventChannelOp.expand_array, 0x40])).toBe(-Errno.EFAULT);
    writeGuestU32(v, arg, 1);
    expect(hypercall(d, ev, [EventChannelOp.set_priority, arg])).toBe(-Errno.ENOSYS);
    writeGuestU32(v, arg, 64);
    expect(hypercall(d, ev, [EventChannelOp.set_priority, arg])).toBe(-Errno.EINVAL);
    expect(hypercall(d, ev, [EventChannelOp.set_priority, 0x40])).toBe(-Errno.EFAULT);
  });

  it("bind_pirq and unknown commands are -ENOSYS", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine);
    for (const cmd of [2, 15, -1]) {
      expect(hypercall(d, ev, [cmd, DATA_VA])).toBe(-Errno.ENOSYS);
    }
  });

  it("every binding sub-op through the hypercall: struct in, port written back", () => {
    const { machine } = fakeMachine();
    const a = addFakeDomain(machine, { vcpus: 2, id: 1 });
    a.sharedInfoMfn = machine.allocXenFrames(1)![0];
    const v = a.vcpus[0];
    const arg = DATA_VA + 0x100n;
    // alloc_unbound {dom, remote_dom, port}
    writeGuestU16(v, arg, 0x7ff0);
    writeGuestU16(v, arg + 2n, 0x7ff0);
    writeGuestU32(v, arg + 4n, 0xdead);
    expect(hypercall(a, ev, [EventChannelOp.alloc_unbound, arg])).toBe(0);
    expect(readGuestU32(v, arg + 4n)).toBe(1);
    // bind_interdomain {remote_dom, remote_port, local_port}: loopback to port 1
    writeGuestU16(v, arg, 0x7ff0);
    writeGuestU32(v, arg + 4n, 1);
    expect(hypercall(a, ev, [EventChannelOp.bind_interdomain, arg])).toBe(0);
    expect(readGuestU32(v, arg + 8n)).toBe(2);
    expect(evtchnIsPending(machine, a, 2)).toBe(true);
    // bind_virq {virq, vcpu, port}
    writeGuestU32(v, arg, 0);
    writeGuestU32(v, arg + 4n, 1);
    expect(hypercall(a, ev, [EventChannelOp.bind_virq, arg])).toBe(0);
    expect(readGuestU32(v, arg + 8n)).toBe(3);
    expect(hypercall(a, ev, [EventChannelOp.bind_virq, arg])).toBe(-Errno.EEXIST);
    // bind_ipi {vcpu, port}
    writeGuestU32(v, arg, 1);
    expect(hypercall(a, ev, [EventChannelOp.bind_ipi, arg])).toBe(0);
    expect(readGuestU32(v, arg + 4n)).toBe(4);
    writeGuestU32(v, arg, 9);
    expect(hypercall(a, ev, [EventChannelOp.bind_ipi, arg])).toBe(-Errno.ENOENT);
    // bind_vcpu {port, vcpu}
    writeGuestU32(v, arg, 2);
    writeGuestU32(v, arg + 4n, 1);
    expect(hypercall(a, ev, [EventChannelOp.bind_vcpu, arg])).toBe(0);
    expect(a.eventChannels.notifyVcpu[2]).toBe(1);
    // send on 1 raises 2 (on vCPU 1 now); unmask and close
    expect(hypercall(a, ev, [EventChannelOp.send, sendArg(a, 4)])).toBe(0);
    expect(evtchnIsPending(machine, a, 4)).toBe(true);
    writeGuestU32(v, arg, 4);
    expect(hypercall(a, ev, [EventChannelOp.unmask, arg])).toBe(0);
    writeGuestU32(v, arg, 64);
    expect(hypercall(a, ev, [EventChannelOp.unmask, arg])).toBe(-Errno.EINVAL);
    writeGuestU32(v, arg, 2);
    expect(hypercall(a, ev, [EventChannelOp.close, arg])).toBe(0);
    expect(a.eventChannels.stateOf(1)).toBe(PortState.Unbound);
    expect(hypercall(a, ev, [EventChannelOp.close, arg])).toBe(-Errno.EINVAL);
    // reset {dom}
    writeGuestU16(v, arg, 0x7ff0);
    expect(hypercall(a, ev, [EventChannelOp.reset, arg])).toBe(0);
    for (const p of [1, 3, 4]) expect(a.eventChannels.stateOf(p)).toBe(PortState.Free);
    writeGuestU16(v, arg, 99);
    expect(hypercall(a, ev, [EventChannelOp.reset, arg])).toBe(-Errno.ESRCH);
  });

  it("-EFAULT for every sub-op's unreadable argument; an unwritable OUT struct after the op", () => {
    const { machine } = fakeMachine();
    const a = addFakeDomain(machine, { id: 1 });
    a.sharedInfoMfn = machine.allocXenFrames(1)![0];
    for (const cmd of [0, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]) {
      expect(hypercall(a, ev, [cmd, 0x40])).toBe(-Errno.EFAULT);
    }
    const ro = 0x80000n;
    mapFakePages(machine, a, ro, 1, false);
    // Read-only argument: bind_ipi {vcpu 0} allocates the port, then the write-back fails.
    expect(hypercall(a, ev, [EventChannelOp.bind_ipi, ro])).toBe(-Errno.EFAULT);
    expect(a.eventChannels.stateOf(1)).toBe(PortState.Ipi);
  });

  it("alloc_unbound and reset on another domain: -EPERM unless privileged; reset needs it paused", () => {
    const { machine } = fakeMachine();
    const dom0 = addFakeDomain(machine, { privileged: true, id: 0 });
    const u = addFakeDomain(machine, { id: 3 });
    const w = addFakeDomain(machine, { id: 4 });
    const arg = DATA_VA + 0x100n;
    writeGuestU16(u.vcpus[0], arg, w.id);
    writeGuestU16(u.vcpus[0], arg + 2n, u.id);
    expect(hypercall(u, ev, [EventChannelOp.alloc_unbound, arg])).toBe(-Errno.EPERM);
    expect(hypercall(u, ev, [EventChannelOp.reset, arg])).toBe(-Errno.EPERM);
    writeGuestU16(u.vcpus[0], arg, 55);
    expect(hypercall(u, ev, [EventChannelOp.alloc_unbound, arg])).toBe(-Errno.ESRCH);
    writeGuestU16(dom0.vcpus[0], arg, w.id);
    writeGuestU16(dom0.vcpus[0], arg + 2n, u.id);
    expect(hypercall(dom0, ev, [EventChannelOp.alloc_unbound, arg])).toBe(0);
    expect(readGuestU32(dom0.vcpus[0], arg + 4n)).toBe(1);
    expect(w.eventChannels.remoteDomain[1]).toBe(u.id);
    expect(hypercall(dom0, ev, [EventChannelOp.reset, arg])).toBe(-Errno.EINVAL);
  });
});

/**
 * Every errno Xen 4.19's event_channel.c documents for each sub-op, through the
 * hypercall with the real struct in guest memory. Callers: domain A (unprivileged, two
 * vCPUs) unless the row says dom0; B is another unprivileged domain; 77 never existed and
 * `gone` was destroyed. Rows are in each function's order of checks.
 */
describe("event_channel_op: documented errors, sub-op by sub-op (Xen 4.19)", () => {
  const sbuf = new StructBuffer(64);
  type Who = "a" | "dom0";
  type Row = [string, Who, number, StructDef, Record<string, number>, number];
  const world = () => {
    const { machine } = fakeMachine();
    const dom0 = addFakeDomain(machine, { id: 0, privileged: true });
    const a = addFakeDomain(machine, { id: 1, vcpus: 2 });
    const b = addFakeDomain(machine, { id: 2 });
    const gone = addFakeDomain(machine, { id: 3 });
    machine.destroyDomain(gone);
    // A: port 1 unbound for B, 2 an IPI, 3 VIRQ_TIMER on vCPU 0, 4 unbound for dom0.
    expect(evtchnAllocUnbound(machine, a, b.id)).toBe(1);
    expect(evtchnBindIpi(machine, a, 0)).toBe(2);
    expect(evtchnBindVirq(machine, a, Virq.timer, 0)).toBe(3);
    // B: port 1 unbound for dom0.
    expect(evtchnAllocUnbound(machine, b, dom0.id)).toBe(1);
    return { machine, dom0, a, b };
  };
  const C = EventChannelOp;
  const rows: Row[] = [
    [
      "alloc_unbound: no such domain",
      "a",
      C.alloc_unbound,
      EVTCHN_ALLOC_UNBOUND,
      { dom: 77 },
      -Errno.ESRCH,
    ],
    [
      "alloc_unbound: a destroyed domain",
      "a",
      C.alloc_unbound,
      EVTCHN_ALLOC_UNBOUND,
      { dom: 3 },
      -Errno.ESRCH,
    ],
    [
      "alloc_unbound: another domain (XSM_TARGET)",
      "a",
      C.alloc_unbound,
      EVTCHN_ALLOC_UNBOUND,
      { dom: 2, remote_dom: 1 },
      -Errno.EPERM,
    ],
    [
      "bind_interdomain: no such remote domain",
      "a",
      C.bind_interdomain,
      EVTCHN_BIND_INTERDOMAIN,
      { remote_dom: 77, remote_port: 1 },
      -Errno.ESRCH,
    ],
    [
      "bind_interdomain: a destroyed remote domain",
      "a",
      C.bind_interdomain,
      EVTCHN_BIND_INTERDOMAIN,
      { remote_dom: 3, remote_port: 1 },
      -Errno.ESRCH,
    ],
    [
      "bind_interdomain: remote port past the valid ones",
      "a",
      C.bind_interdomain,
      EVTCHN_BIND_INTERDOMAIN,
      { remote_dom: 2, remote_port: 5000 },
      -Errno.EINVAL,
    ],
    [
      "bind_interdomain: remote port unbound for another domain",
      "a",
      C.bind_interdomain,
      EVTCHN_BIND_INTERDOMAIN,
      { remote_dom: 2, remote_port: 1 },
      -Errno.EINVAL,
    ],
    [
      "bind_interdomain: remote port free",
      "a",
      C.bind_interdomain,
      EVTCHN_BIND_INTERDOMAIN,
      { remote_dom: 2, remote_port: 2 },
      -Errno.EINVAL,
    ],
    [
      "bind_interdomain: remote port 0 (reserved)",
      "a",
      C.bind_interdomain,
      EVTCHN_BIND_INTERDOMAIN,
      { remote_dom: 2, remote_port: 0 },
      -Errno.EINVAL,
    ],
    [
      "bind_interdomain: own IPI port through DOMID_SELF",
      "a",
      C.bind_interdomain,
      EVTCHN_BIND_INTERDOMAIN,
      { remote_dom: 0x7ff0, remote_port: 2 },
      -Errno.EINVAL,
    ],
    [
      "bind_virq: virq >= NR_VIRQS",
      "a",
      C.bind_virq,
      EVTCHN_BIND_VIRQ,
      { virq: 24, vcpu: 0 },
      -Errno.EINVAL,
    ],
    [
      "bind_virq: virq negative as int",
      "a",
      C.bind_virq,
      EVTCHN_BIND_VIRQ,
      { virq: 0xffffffff, vcpu: 0 },
      -Errno.EINVAL,
    ],
    [
      "bind_virq: a global VIRQ on vCPU 1",
      "a",
      C.bind_virq,
      EVTCHN_BIND_VIRQ,
      { virq: Virq.console, vcpu: 1 },
      -Errno.EINVAL,
    ],
    [
      "bind_virq: per-vCPU VIRQ on a missing vCPU",
      "a",
      C.bind_virq,
      EVTCHN_BIND_VIRQ,
      { virq: Virq.timer, vcpu: 2 },
      -Errno.ENOENT,
    ],
    [
      "bind_virq: a global VIRQ from a domain that is not its handler",
      "a",
      C.bind_virq,
      EVTCHN_BIND_VIRQ,
      { virq: Virq.console, vcpu: 0 },
      -Errno.EBUSY,
    ],
    [
      "bind_virq: bound already",
      "a",
      C.bind_virq,
      EVTCHN_BIND_VIRQ,
      { virq: Virq.timer, vcpu: 0 },
      -Errno.EEXIST,
    ],
    ["bind_ipi: missing vCPU", "a", C.bind_ipi, EVTCHN_BIND_IPI, { vcpu: 2 }, -Errno.ENOENT],
    [
      "bind_ipi: vCPU id negative as int",
      "a",
      C.bind_ipi,
      EVTCHN_BIND_IPI,
      { vcpu: 0xffffffff },
      -Errno.ENOENT,
    ],
    [
      "bind_vcpu: missing vCPU (checked first)",
      "a",
      C.bind_vcpu,
      EVTCHN_BIND_VCPU,
      { port: 5000, vcpu: 2 },
      -Errno.ENOENT,
    ],
    [
      "bind_vcpu: invalid port",
      "a",
      C.bind_vcpu,
      EVTCHN_BIND_VCPU,
      { port: 5000, vcpu: 1 },
      -Errno.EINVAL,
    ],
    [
      "bind_vcpu: an IPI port",
      "a",
      C.bind_vcpu,
      EVTCHN_BIND_VCPU,
      { port: 2, vcpu: 1 },
      -Errno.EINVAL,
    ],
    [
      "bind_vcpu: a per-vCPU VIRQ port",
      "a",
      C.bind_vcpu,
      EVTCHN_BIND_VCPU,
      { port: 3, vcpu: 1 },
      -Errno.EINVAL,
    ],
    [
      "bind_vcpu: a free port",
      "a",
      C.bind_vcpu,
      EVTCHN_BIND_VCPU,
      { port: 9, vcpu: 1 },
      -Errno.EINVAL,
    ],
    ["close: invalid port", "a", C.close, EVTCHN_CLOSE, { port: 5000 }, -Errno.EINVAL],
    ["close: port 0 (reserved)", "a", C.close, EVTCHN_CLOSE, { port: 0 }, -Errno.EINVAL],
    ["close: a free port", "a", C.close, EVTCHN_CLOSE, { port: 9 }, -Errno.EINVAL],
    ["send: invalid port", "a", C.send, EVTCHN_SEND, { port: 0xffffffff }, -Errno.EINVAL],
    ["send: a free port", "a", C.send, EVTCHN_SEND, { port: 9 }, -Errno.EINVAL],
    ["send: a VIRQ port", "a", C.send, EVTCHN_SEND, { port: 3 }, -Errno.EINVAL],
    ["unmask: invalid port", "a", C.unmask, EVTCHN_UNMASK, { port: 4096 }, -Errno.EINVAL],
    ["reset: no such domain", "a", C.reset, EVTCHN_RESET, { dom: 77 }, -Errno.ESRCH],
    ["reset: another domain (XSM_TARGET)", "a", C.reset, EVTCHN_RESET, { dom: 2 }, -Errno.EPERM],
    [
      "reset: another domain not paused by the toolstack",
      "dom0",
      C.reset,
      EVTCHN_RESET,
      { dom: 2 },
      -Errno.EINVAL,
    ],
    ["reset_cont: the same checks", "dom0", C.reset_cont, EVTCHN_RESET, { dom: 2 }, -Errno.EINVAL],
    [
      "bind_pirq: no physical IRQs in hvkit",
      "a",
      C.bind_pirq,
      EVTCHN_SEND,
      { port: 1 },
      -Errno.ENOSYS,
    ],
    ["an unknown command", "a", 99, EVTCHN_SEND, { port: 1 }, -Errno.ENOSYS],
    ["a negative command", "a", -1, EVTCHN_SEND, { port: 1 }, -Errno.ENOSYS],
  ];

  it.each(rows)("%s", (_what, who, cmd, def, fields, rc) => {
    const w = world();
    const caller = who === "a" ? w.a : w.dom0;
    const layout = def.layout(TEST_LP64_LE);
    sbuf.bytes.fill(0);
    for (const [k, v] of Object.entries(fields)) layout.set(sbuf.view, 0, k, v);
    expect(writeGuestStruct(caller.vcpus[0], DATA_VA, layout, sbuf)).toBe(0);
    const before = [...w.a.eventChannels.state, ...w.b.eventChannels.state];
    expect(hypercall(caller, ev, [cmd, DATA_VA])).toBe(rc);
    // A failed call changes no port of either domain.
    expect([...w.a.eventChannels.state, ...w.b.eventChannels.state]).toEqual(before);
  });

  it("-ENOSPC when no port is free: alloc_unbound, bind_interdomain (before the remote port is looked at), bind_virq, bind_ipi", () => {
    const w = world();
    const t = w.a.eventChannels;
    t.ensure(t.limit - 1);
    for (let p = 1; p < t.limit; p++)
      if (t.state[p] === PortState.Free) t.state[p] = PortState.Unbound;
    const cases: [number, StructDef, Record<string, number>][] = [
      [EventChannelOp.alloc_unbound, EVTCHN_ALLOC_UNBOUND, { dom: 0x7ff0, remote_dom: 2 }],
      [
        EventChannelOp.bind_interdomain,
        EVTCHN_BIND_INTERDOMAIN,
        { remote_dom: 2, remote_port: 5000 },
      ],
      [EventChannelOp.bind_virq, EVTCHN_BIND_VIRQ, { virq: Virq.timer, vcpu: 1 }],
      [EventChannelOp.bind_ipi, EVTCHN_BIND_IPI, { vcpu: 1 }],
    ];
    for (const [cmd, def, fields] of cases) {
      const layout = def.layout(TEST_LP64_LE);
      sbuf.bytes.fill(0);
      for (const [k, v] of Object.entries(fields)) layout.set(sbuf.view, 0, k, v);
      writeGuestStruct(w.a.vcpus[0], DATA_VA, layout, sbuf);
      expect([cmd, hypercall(w.a, ev, [cmd, DATA_VA])]).toEqual([cmd, -Errno.ENOSPC]);
    }
  });
});
