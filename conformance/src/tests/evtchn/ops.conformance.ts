/**
 * Every EVTCHNOP of the 2-level ABI, and SCHEDOP_poll / SCHEDOP_block, from the initial
 * domain (the hardware domain) with two vCPUs, each answer checked against Xen. vCPU 1
 * stays down until the last section: binding ports to it needs only that it exists
 * (Xen's `domain_vcpu()`); at the end it is started, blocks, and is woken by an IPI.
 *
 * Facts, from github:xen-project/xen:
 * - xen/include/public/event_channel.h: sub-op numbers and structs, EVTCHNSTAT_closed 0,
 *   unbound 1, interdomain 2, pirq 3, virq 4, ipi 5.
 * - xen/common/event_channel.c: get_free_port() hands out the lowest free port and port 0
 *   is ECS_RESERVED (evtchn_init), so port numbers below are exact; ports are valid one
 *   bucket (64 ports) at a time; evtchn_allocate_port fails with −ENOSPC at
 *   max_evtchns(d) (BITS_PER_EVTCHN_WORD², event_2l.c; dom0's max_evtchn_port is
 *   unlimited). Each error is cited where it is checked.
 * - xen/common/event_2l.c: set_pending sets the pending bit; only if it was clear and the
 *   port is unmasked, the notified vCPU's selector bit; only if that was clear,
 *   evtchn_upcall_pending (vcpu_mark_events_pending). unmask redoes the last two when the
 *   mask bit was set and the port is pending.
 * - xen/common/sched/core.c do_poll(): more than 128 ports −EINVAL; 0 at once when a port
 *   is pending; a port that is not valid or not bound −EINVAL (evtchn_port_poll); the
 *   timeout is absolute system time; with one port only that port wakes the poller, with
 *   several (or none) any port of the domain does (evtchn_check_pollers).
 */
import {
  AgentOp,
  DomId,
  EVTCHN_ALLOC_UNBOUND,
  Errno,
  EventChannelOp,
  EventChannelStatus as S,
  Hypercall,
  SchedOp,
  Virq,
  XenVersionOp,
} from "@hvkit/core";
import type { Agent } from "../../agent.js";
import { agentTest, type Checks } from "../agent-test.js";
import { EventChannels } from "../../event-channels.js";

/** NR_VIRQS (xen.h). */
const NR_VIRQS = 24;
/** A port in the 2-level range that no binding has made valid (its bucket does not exist). */
const INVALID_PORT = 4000;
/** A port in the first bucket that is never bound here. */
const FREE_PORT = 60;
const MS = 1_000_000n;
const S_NS = 1_000_000_000n;

/** What every section of the test shares. */
interface Ops {
  readonly agent: Agent;
  readonly ev: EventChannels;
  readonly check: Checks;
  /** A guest address nothing maps, for −EFAULT. */
  readonly bad: bigint;
  /** A valid-range port number whose bucket is never allocated (BITS_PER_EVTCHN_WORD² − 1). */
  readonly last: number;
  /** Upcalls vCPU 0 took since the last call. */
  upcalls(): number;
  /** The selector bit of `port`'s bitmap word. */
  word(port: number): bigint;
  /** Ports the sections hand on. */
  ports: Record<"ipi0" | "ipi1" | "timer0" | "timer1" | "console" | "argo", number>;
}

/** evtchn/ops. */
export const evtchnOps = agentTest({
  area: "evtchn",
  name: "ops",
  description:
    "every EVTCHNOP sub-op, SCHEDOP_poll and SCHEDOP_block, success and each error Xen documents",
  requires: { modes: ["pv"], roles: ["dom0"] },
  boot: { vcpus: 2 },
  run(agent, check) {
    const ev = new EventChannels(agent);
    let seen = 0;
    const t: Ops = {
      agent,
      ev,
      check,
      bad: agent.spec.unmappedAddress(agent),
      last: ev.portLimit - 1,
      upcalls() {
        const total = agent.vcpu(0).upcalls();
        const n = total - seen;
        seen = total;
        return n;
      },
      word: (port) => 1n << BigInt(Math.floor(port / ev.wordBits)),
      ports: { ipi0: 0, ipi1: 0, timer0: 0, timer1: 0, console: 0, argo: 0 },
    };
    check.equal("events start disabled (evtchn_upcall_mask 1)", ev.upcallMask(0), 1);
    ev.maskAll();
    allocAndInterdomain(t);
    sendAndBits(t);
    ipisAndVirqs(t);
    bindVcpu(t);
    statusAndClose(t);
    pollAndBlock(t);
    resetAndLimits(t);
    // do_event_channel_op: an unknown sub-op is −ENOSYS.
    const junk = agent.place(new Uint8Array(8));
    check.equal("event_channel_op unknown cmd 99 ENOSYS", ev.opAt(99, junk), -Errno.ENOSYS);
    ipiWakesVcpu1(t);
  },
});

function allocAndInterdomain({ ev, check, bad }: Ops): void {
  // Lowest free port: 0 is reserved (evtchn_init sets ECS_RESERVED), so 1.
  const p = ev.allocUnbound(DomId.SELF, DomId.SELF);
  check.equal("alloc_unbound(self, remote self) rc", p.rc, 0);
  check.equal("alloc_unbound gives the lowest free port 1", p.port, 1);
  let st = ev.status(DomId.SELF, 1);
  check.equal("status unbound rc", st.rc, 0);
  check.equal("status unbound: EVTCHNSTAT_unbound", st.status, S.unbound);
  // remote_dom DOMID_SELF is stored as current->domain->domain_id (0 for dom0).
  check.equal(
    "status unbound: remote DOMID_SELF resolved to domain 0",
    st.out.getNumber("u.unbound.dom"),
    0,
  );
  check.equal("status unbound: vcpu 0", st.vcpu, 0);
  check.equal("status by real domid 0 rc", ev.status(0, 1).rc, 0);
  // rcu_lock_domain_by_any_id() fails: −ESRCH.
  check.equal("alloc_unbound(dom 77) ESRCH", ev.allocUnbound(77, DomId.SELF).rc, -Errno.ESRCH);
  // do_event_channel_op: copy_from_guest fails: −EFAULT.
  check.equal(
    "alloc_unbound(bad pointer) EFAULT",
    ev.opAt(EventChannelOp.alloc_unbound, bad),
    -Errno.EFAULT,
  );
  // remote_dom is not checked for existence (only XSM sees it).
  const q = ev.allocUnbound(DomId.SELF, 5);
  check.equal("alloc_unbound(remote dom 5) rc", q.rc, 0);
  check.equal("alloc_unbound(remote dom 5) port 2", q.port, 2);
  check.equal(
    "status unbound for dom 5",
    ev.status(DomId.SELF, 2).out.getNumber("u.unbound.dom"),
    5,
  );

  // Loopback: a domain binds its own unbound port (remote_domid == ld->domain_id).
  const b = ev.bindInterdomain(DomId.SELF, 1);
  check.equal("bind_interdomain(self, 1) loopback rc", b.rc, 0);
  check.equal("bind_interdomain local port 3", b.port, 3);
  st = ev.status(DomId.SELF, 1);
  check.equal("status(1) interdomain", st.status, S.interdomain);
  check.equal("status(1) interdomain to dom 0", st.out.getNumber("u.interdomain.dom"), 0);
  check.equal("status(1) interdomain to port 3", st.out.getNumber("u.interdomain.port"), 3);
  st = ev.status(DomId.SELF, 3);
  check.equal("status(3) interdomain to port 1", st.out.getNumber("u.interdomain.port"), 1);
  // "We may have lost notifications on the remote unbound port": local port set pending.
  check.equal("bind_interdomain sets the local port pending", ev.pending(3), true);
  check.equal("bind_interdomain: masked port leaves the selector alone", ev.selector(0), 0);
  check.equal("bind_interdomain: masked port leaves upcall_pending alone", ev.upcallPending(0), 0);
  ev.clearPending(3);
  // rchn->state != ECS_UNBOUND: −EINVAL.
  check.equal(
    "bind_interdomain to a bound port EINVAL",
    ev.bindInterdomain(DomId.SELF, 1).rc,
    -Errno.EINVAL,
  );
  // u.unbound.remote_domid != ld->domain_id: −EINVAL.
  check.equal(
    "bind_interdomain to a port for dom 5 EINVAL",
    ev.bindInterdomain(DomId.SELF, 2).rc,
    -Errno.EINVAL,
  );
  // _evtchn_from_port() NULL (port not valid): −EINVAL.
  check.equal(
    "bind_interdomain to an invalid port EINVAL",
    ev.bindInterdomain(DomId.SELF, INVALID_PORT).rc,
    -Errno.EINVAL,
  );
  check.equal(
    "bind_interdomain to reserved port 0 EINVAL",
    ev.bindInterdomain(DomId.SELF, 0).rc,
    -Errno.EINVAL,
  );
  check.equal("bind_interdomain(dom 77) ESRCH", ev.bindInterdomain(77, 1).rc, -Errno.ESRCH);
  check.equal(
    "bind_interdomain(bad pointer) EFAULT",
    ev.opAt(EventChannelOp.bind_interdomain, bad),
    -Errno.EFAULT,
  );
  // The failed binds allocated and gave back a local port (check_free_port): 4 is next.
  const r = ev.allocUnbound(DomId.SELF, DomId.SELF);
  check.equal("alloc_unbound after failed binds reuses port 4", r.rc === 0n ? r.port : -1, 4);
  check.equal("close unbound port 4", ev.close(4), 0);
  check.equal("close unbound port 2 (for dom 5)", ev.close(2), 0);
}

function sendAndBits(t: Ops): void {
  const { agent, ev, check, bad, last } = t;
  // Port 3 (loopback end of 1) masked; events disabled (upcall_mask 1).
  check.equal("send(1) rc", ev.send(1), 0);
  check.equal("send to masked port: pending set", ev.pending(3), true);
  check.equal("send to masked port: selector not set", ev.selector(0), 0);
  check.equal("send to masked port: upcall_pending not set", ev.upcallPending(0), 0);
  // unmask of a pending port: selector, then upcall_pending (events still disabled).
  check.equal("unmask(3) rc", ev.unmask(3), 0);
  check.equal("unmask clears the mask bit", ev.masked(3), false);
  check.equal("unmask of a pending port sets selector bit 0", ev.selector(0), 1);
  check.equal("unmask of a pending port sets upcall_pending", ev.upcallPending(0), 1);
  check.equal("no upcall while evtchn_upcall_mask is set", t.upcalls(), 0);
  // Enable events: the upcall runs on the way back from the next hypercall.
  ev.setUpcallMask(0, 0);
  agent.hypercall(Hypercall.xen_version, XenVersionOp.version, 0);
  check.equal("upcall re-raised by unmask is delivered once enabled", t.upcalls(), 1);
  check.equal("the upcall is for port 3: pending", ev.pending(3), true);
  check.equal("the upcall is for port 3: selector bit 0", ev.selector(0), 1);
  // The handler's scan, as Linux's: selector, then the pending bit.
  ev.clearVcpuBits(0);
  ev.clearPending(3);
  // Unmasked, events enabled: the upcall comes as the send returns.
  ev.send(1);
  check.equal("send to unmasked port: upcall at once", t.upcalls(), 1);
  check.equal("send to unmasked port: port 3 pending", ev.pending(3), true);
  ev.clearVcpuBits(0);
  ev.clearPending(3);

  // Events disabled again; exact bit semantics of evtchn_2l_set_pending.
  ev.setUpcallMask(0, 1);
  ev.send(1);
  check.equal("send: pending set", ev.pending(3), true);
  check.equal("send: selector set", ev.selector(0), 1);
  check.equal("send: upcall_pending set", ev.upcallPending(0), 1);
  // Pending already set: test_and_set_bit returns early, nothing else is touched.
  ev.clearVcpuBits(0);
  ev.send(1);
  check.equal("send to an already pending port leaves the selector clear", ev.selector(0), 0);
  check.equal(
    "send to an already pending port leaves upcall_pending clear",
    ev.upcallPending(0),
    0,
  );
  // Selector bit already set: upcall_pending is not set again.
  ev.clearPending(3);
  ev.setSelector(0, 1n);
  ev.send(1);
  check.equal("send with the selector bit already set: pending set", ev.pending(3), true);
  check.equal(
    "send with the selector bit already set: upcall_pending stays clear",
    ev.upcallPending(0),
    0,
  );
  ev.clearPending(3);
  ev.clearVcpuBits(0);

  // unmask of a port that is not pending: only the mask bit changes.
  ev.mask(3);
  check.equal("unmask(3) not pending rc", ev.unmask(3), 0);
  check.equal("unmask of a non-pending port: selector stays clear", ev.selector(0), 0);
  ev.mask(3);
  // _evtchn_from_port() NULL: −EINVAL; a valid free port is accepted (evtchn_usable).
  check.equal("unmask(last port) not valid EINVAL", ev.unmask(last), -Errno.EINVAL);
  check.equal("unmask(60) valid free port rc", ev.unmask(FREE_PORT), 0);
  ev.mask(FREE_PORT);
  check.equal("unmask(bad pointer) EFAULT", ev.opAt(EventChannelOp.unmask, bad), -Errno.EFAULT);

  // A port in the second bucket (64..127), and in the next bitmap word on a 64-bit guest.
  let p = 0;
  for (let n = 0; p < 64 && n < 100; n++) p = ev.allocUnbound(DomId.SELF, DomId.SELF).port;
  check.equal("alloc_unbound reaches port 64 (next bucket)", p, 64);
  const q = ev.bindInterdomain(DomId.SELF, 64);
  check.equal("bind_interdomain(self, 64) local port 65", q.rc === 0n ? q.port : -1, 65);
  ev.clearPending(65);
  ev.unmask(65);
  check.equal("send(64) rc", ev.send(64), 0);
  const w = Math.floor(65 / ev.wordBits);
  check.equal(
    "port 65 pending in its bitmap word",
    (ev.pendingWord(w) >> BigInt(65 % ev.wordBits)) & 1n,
    1,
  );
  check.equal("port 65 sets its word's selector bit", ev.selector(0), t.word(65));
  check.equal("port 65 sets upcall_pending", ev.upcallPending(0), 1);
  ev.clearPending(65);
  ev.clearVcpuBits(0);
  // The loop took 2 and 4..64 (lowest free first); 65 is 64's loopback peer.
  ev.close(2);
  for (let i = 4; i <= 65; i++) ev.close(i);
  const st = ev.status(DomId.SELF, 64);
  check.equal("status(64) closed after close", st.rc === 0n ? st.status : -1, S.closed);

  // send errors (evtchn_send): invalid port −EINVAL; state not interdomain/IPI/unbound −EINVAL.
  check.equal("send(last port) not valid EINVAL", ev.send(last), -Errno.EINVAL);
  check.equal("send(0) reserved EINVAL", ev.send(0), -Errno.EINVAL);
  check.equal("send(60) free EINVAL", ev.send(FREE_PORT), -Errno.EINVAL);
  check.equal("send(bad pointer) EFAULT", ev.opAt(EventChannelOp.send, bad), -Errno.EFAULT);
}

function ipisAndVirqs(t: Ops): void {
  const { ev, check, bad } = t;
  // Ports 1 and 3 are the loopback pair; 2 is free again.
  const i0 = ev.bindIpi(0);
  check.equal("bind_ipi(vcpu 0) rc", i0.rc, 0);
  check.equal("bind_ipi(vcpu 0) port 2", i0.port, 2);
  let st = ev.status(DomId.SELF, i0.port);
  check.equal("status ipi: EVTCHNSTAT_ipi", st.status, S.ipi);
  check.equal("status ipi: vcpu 0", st.vcpu, 0);
  const i1 = ev.bindIpi(1);
  check.equal("bind_ipi(vcpu 1) rc", i1.rc, 0);
  check.equal("bind_ipi(vcpu 1) port 4", i1.port, 4);
  st = ev.status(DomId.SELF, i1.port);
  check.equal("status ipi: vcpu 1", st.vcpu, 1);
  t.ports.ipi0 = i0.port;
  t.ports.ipi1 = i1.port;
  // domain_vcpu() NULL: −ENOENT.
  check.equal("bind_ipi(vcpu 2) ENOENT", ev.bindIpi(2).rc, -Errno.ENOENT);
  check.equal("bind_ipi(vcpu 0xffffffff) ENOENT", ev.bindIpi(0xffffffff).rc, -Errno.ENOENT);
  check.equal("bind_ipi(bad pointer) EFAULT", ev.opAt(EventChannelOp.bind_ipi, bad), -Errno.EFAULT);
  // send on an IPI port notifies the bound vCPU of the same domain.
  ev.unmask(i0.port);
  ev.unmask(i1.port);
  check.equal("send(ipi vcpu 0) rc", ev.send(i0.port), 0);
  check.equal("ipi to vcpu 0: pending", ev.pending(i0.port), true);
  check.equal("ipi to vcpu 0: vcpu 0 selector", ev.selector(0), 1);
  check.equal("ipi to vcpu 0: vcpu 0 upcall_pending", ev.upcallPending(0), 1);
  ev.clearPending(i0.port);
  ev.clearVcpuBits(0);
  check.equal("send(ipi vcpu 1) rc", ev.send(i1.port), 0);
  check.equal("ipi to vcpu 1: pending", ev.pending(i1.port), true);
  check.equal("ipi to vcpu 1: vcpu 1 selector", ev.selector(1), 1);
  check.equal("ipi to vcpu 1: vcpu 1 upcall_pending", ev.upcallPending(1), 1);
  check.equal("ipi to vcpu 1: vcpu 0 selector untouched", ev.selector(0), 0);
  check.equal("ipi to vcpu 1: vcpu 0 upcall_pending untouched", ev.upcallPending(0), 0);
  ev.clearPending(i1.port);
  ev.clearVcpuBits(1);
  ev.mask(i0.port);
  ev.mask(i1.port);

  // VIRQs. VIRQ_TIMER is per-vCPU (get_virq_type VIRQ_VCPU): one binding per vCPU.
  const t0 = ev.bindVirq(Virq.timer, 0);
  check.equal("bind_virq(timer, vcpu 0) rc", t0.rc, 0);
  check.equal("bind_virq(timer, vcpu 0) port 5", t0.port, 5);
  st = ev.status(DomId.SELF, t0.port);
  check.equal("status virq: EVTCHNSTAT_virq", st.status, S.virq);
  check.equal("status virq: virq 0", st.out.getNumber("u.virq"), Virq.timer);
  check.equal("status virq: vcpu 0", st.vcpu, 0);
  // v->virq_to_evtchn[virq] already set: −EEXIST.
  check.equal(
    "bind_virq(timer, vcpu 0) again EEXIST",
    ev.bindVirq(Virq.timer, 0).rc,
    -Errno.EEXIST,
  );
  const t1 = ev.bindVirq(Virq.timer, 1);
  check.equal("bind_virq(timer, vcpu 1) per-vCPU rc", t1.rc, 0);
  check.equal("bind_virq(timer, vcpu 1) port 6", t1.port, 6);
  check.equal("status virq on vcpu 1: vcpu 1", ev.status(DomId.SELF, t1.port).vcpu, 1);
  check.equal(
    "bind_virq(timer, vcpu 1) again EEXIST",
    ev.bindVirq(Virq.timer, 1).rc,
    -Errno.EEXIST,
  );
  const dbg = ev.bindVirq(Virq.debug, 1);
  check.equal("bind_virq(debug, vcpu 1) per-vCPU rc", dbg.rc, 0);
  ev.close(dbg.port);
  t.ports.timer0 = t0.port;
  t.ports.timer1 = t1.port;
  // virq < 0 || virq >= NR_VIRQS: −EINVAL.
  check.equal("bind_virq(24 = NR_VIRQS) EINVAL", ev.bindVirq(NR_VIRQS, 0).rc, -Errno.EINVAL);
  check.equal("bind_virq(-1) EINVAL", ev.bindVirq(0xffffffff, 0).rc, -Errno.EINVAL);
  // type != VIRQ_VCPU && vcpu != 0: −EINVAL (global and per-domain VIRQs).
  check.equal(
    "bind_virq(console, vcpu 1) global on vcpu 1 EINVAL",
    ev.bindVirq(Virq.console, 1).rc,
    -Errno.EINVAL,
  );
  check.equal(
    "bind_virq(argo, vcpu 1) per-domain on vcpu 1 EINVAL",
    ev.bindVirq(Virq.argo, 1).rc,
    -Errno.EINVAL,
  );
  // domain_vcpu() NULL: −ENOENT.
  check.equal("bind_virq(timer, vcpu 2) ENOENT", ev.bindVirq(Virq.timer, 2).rc, -Errno.ENOENT);
  // The hardware domain is the default handler of global VIRQs (get_global_virq_handler).
  const con = ev.bindVirq(Virq.console, 0);
  check.equal("bind_virq(console, vcpu 0) by the hardware domain rc", con.rc, 0);
  check.equal("bind_virq(console) again EEXIST", ev.bindVirq(Virq.console, 0).rc, -Errno.EEXIST);
  const argo = ev.bindVirq(Virq.argo, 0);
  check.equal("bind_virq(argo, vcpu 0) rc", argo.rc, 0);
  t.ports.console = con.port;
  t.ports.argo = argo.port;
  check.equal(
    "bind_virq(bad pointer) EFAULT",
    ev.opAt(EventChannelOp.bind_virq, bad),
    -Errno.EFAULT,
  );
  // evtchn_send: a VIRQ port cannot be sent on (default case).
  check.equal("send on a VIRQ port EINVAL", ev.send(t0.port), -Errno.EINVAL);
}

function bindVcpu(t: Ops): void {
  const { ev, check, bad, last } = t;
  const vcpuOf = (port: number): number => {
    const st = ev.status(DomId.SELF, port);
    return st.rc === 0n ? st.vcpu : -1;
  };
  // evtchn_bind_vcpu: unbound, interdomain and non-per-vCPU VIRQ ports move; per-vCPU
  // VIRQs and IPIs (default case) −EINVAL; domain_vcpu() NULL −ENOENT first.
  check.equal("bind_vcpu(interdomain 3, vcpu 1) rc", ev.bindVcpu(3, 1), 0);
  check.equal("status(3) vcpu 1 after bind_vcpu", vcpuOf(3), 1);
  ev.clearPending(3);
  ev.unmask(3);
  ev.send(1);
  check.equal("interdomain bound to vcpu 1: vcpu 1 selector", ev.selector(1), 1);
  check.equal("interdomain bound to vcpu 1: vcpu 1 upcall_pending", ev.upcallPending(1), 1);
  check.equal("interdomain bound to vcpu 1: vcpu 0 selector untouched", ev.selector(0), 0);
  check.equal(
    "interdomain bound to vcpu 1: vcpu 0 upcall_pending untouched",
    ev.upcallPending(0),
    0,
  );
  ev.clearPending(3);
  ev.clearVcpuBits(1);
  ev.mask(3);
  check.equal("bind_vcpu(interdomain 3, vcpu 0) back rc", ev.bindVcpu(3, 0), 0);
  const u = ev.allocUnbound(DomId.SELF, DomId.SELF).port;
  check.equal("bind_vcpu(unbound, vcpu 1) rc", ev.bindVcpu(u, 1), 0);
  check.equal("status unbound: vcpu 1", vcpuOf(u), 1);
  ev.close(u);
  // evtchn_free resets the binding to vCPU 0.
  check.equal("close resets the notify vcpu to 0", vcpuOf(u), 0);
  const { console, argo, timer0, ipi0 } = t.ports;
  check.equal("bind_vcpu(global virq console, vcpu 1) rc", ev.bindVcpu(console, 1), 0);
  check.equal("status console virq: vcpu 1", vcpuOf(console), 1);
  check.equal("bind_vcpu(per-domain virq argo, vcpu 1) rc", ev.bindVcpu(argo, 1), 0);
  check.equal(
    "bind_vcpu(per-vCPU virq timer, vcpu 1) EINVAL",
    ev.bindVcpu(timer0, 1),
    -Errno.EINVAL,
  );
  check.equal("bind_vcpu(ipi, vcpu 1) EINVAL", ev.bindVcpu(ipi0, 1), -Errno.EINVAL);
  check.equal("bind_vcpu(free port 60) EINVAL", ev.bindVcpu(FREE_PORT, 0), -Errno.EINVAL);
  check.equal("bind_vcpu(reserved port 0) EINVAL", ev.bindVcpu(0, 0), -Errno.EINVAL);
  check.equal("bind_vcpu(last port, not valid) EINVAL", ev.bindVcpu(last, 0), -Errno.EINVAL);
  check.equal(
    "bind_vcpu(vcpu 2) ENOENT before the port check",
    ev.bindVcpu(last, 2),
    -Errno.ENOENT,
  );
  check.equal(
    "bind_vcpu(bad pointer) EFAULT",
    ev.opAt(EventChannelOp.bind_vcpu, bad),
    -Errno.EFAULT,
  );
}

function statusAndClose(t: Ops): void {
  const { ev, check, bad, last } = t;
  const statusOf = (port: number): number => {
    const st = ev.status(DomId.SELF, port);
    return st.rc === 0n ? st.status : -1;
  };
  // evtchn_status: ECS_FREE and ECS_RESERVED read EVTCHNSTAT_closed.
  let st = ev.status(DomId.SELF, 0);
  check.equal("status(0) reserved rc", st.rc, 0);
  check.equal("status(0) reserved: EVTCHNSTAT_closed", st.status, S.closed);
  check.equal("status(60) free: EVTCHNSTAT_closed", statusOf(FREE_PORT), S.closed);
  check.equal("status(last port) not valid EINVAL", ev.status(DomId.SELF, last).rc, -Errno.EINVAL);
  check.equal("status(dom 77) ESRCH", ev.status(77, 1).rc, -Errno.ESRCH);
  check.equal("status(bad pointer) EFAULT", ev.opAt(EventChannelOp.status, bad), -Errno.EFAULT);

  // evtchn_close: interdomain: this end freed, the other end unbound for this domain.
  ev.send(1); // leaves port 3 pending
  check.equal("close(3) interdomain rc", ev.close(3), 0);
  check.equal("close clears the pending bit (evtchn_free)", ev.pending(3), false);
  check.equal("status(3) closed", statusOf(3), S.closed);
  st = ev.status(DomId.SELF, 1);
  check.equal("peer of a closed port: unbound", st.status, S.unbound);
  check.equal("peer of a closed port: unbound for dom 0", st.out.getNumber("u.unbound.dom"), 0);
  check.equal("send on the unbound peer is dropped: rc 0", ev.send(1), 0);
  check.equal(
    "send on the unbound peer is dropped: nothing pending",
    ev.pending(1) || ev.pending(3),
    false,
  );
  check.equal("close(3) again EINVAL", ev.close(3), -Errno.EINVAL);
  check.equal("close(0) reserved EINVAL", ev.close(0), -Errno.EINVAL);
  check.equal("close(last port) not valid EINVAL", ev.close(last), -Errno.EINVAL);
  check.equal("close(bad pointer) EFAULT", ev.opAt(EventChannelOp.close, bad), -Errno.EFAULT);
  const q = ev.bindInterdomain(DomId.SELF, 1);
  check.equal("rebind the unbound peer: lowest free local port 3", q.rc === 0n ? q.port : -1, 3);
  ev.clearPending(3);
  // Closing a VIRQ port clears virq_to_evtchn: the VIRQ can be bound again.
  check.equal("close(timer vcpu 1) rc", ev.close(t.ports.timer1), 0);
  const again = ev.bindVirq(Virq.timer, 1);
  check.equal("bind_virq(timer, vcpu 1) after close rc", again.rc, 0);
  t.ports.timer1 = again.port;
  check.equal("close(ipi vcpu 1) rc", ev.close(t.ports.ipi1), 0);
}

function pollAndBlock(t: Ops): void {
  const { agent, ev, check, bad, last } = t;
  const { ipi0, timer0 } = t.ports;
  const ports = [ipi0, 3];
  const now = (): bigint => agent.systemTime();

  ev.setUpcallMask(0, 1);
  // do_poll: nr_ports > 128 −EINVAL.
  check.equal("poll(129 ports) EINVAL", ev.poll(ports, 0n, 129), -Errno.EINVAL);
  check.equal("poll(a port not valid) EINVAL", ev.poll([ipi0, last], 0n), -Errno.EINVAL);
  check.equal("poll(free port 60) EINVAL", ev.poll([FREE_PORT], 0n), -Errno.EINVAL);
  check.equal("poll(bad ports pointer) EFAULT", ev.pollAt(agent.handle(bad), 1, 0n), -Errno.EFAULT);
  check.equal(
    "poll(bad struct pointer) EFAULT",
    agent.hypercall(Hypercall.sched_op, SchedOp.poll, agent.handle(bad)),
    -Errno.EFAULT,
  );
  // A pending (masked) port: returns 0 at once, before the timeout.
  ev.send(ipi0);
  let t0 = now();
  check.equal("poll(pending ipi) rc", ev.poll(ports, t0 + 5n * S_NS), 0);
  let t1 = now();
  check.that("poll(pending ipi) returns before the timeout", t1 - t0 < S_NS, t1 - t0);
  ev.clearPending(ipi0);
  // Nothing pending: sleeps until the absolute timeout.
  t0 = now();
  check.equal("poll(nothing pending, timeout +30 ms) rc", ev.poll(ports, t0 + 30n * MS), 0);
  t1 = now();
  check.that("poll ends at the timeout", t1 >= t0 + 30n * MS, t1 - t0);
  check.equal("poll timeout: no upcall", t.upcalls(), 0);
  // The polled port firing ends the poll early: VIRQ_TIMER from set_timer_op.
  const timerWakes = (what: string, polled: readonly number[], nr: number): void => {
    const start = now();
    ev.setTimer(start + 2n * MS);
    check.equal(`poll(${what}, timeout +10 s) rc`, ev.poll(polled, start + 10n * S_NS, nr), 0);
    const end = now();
    check.that(
      `poll of ${what} woken by the timer VIRQ before the timeout`,
      end >= start + 2n * MS && end - start < S_NS,
      end - start,
    );
  };
  timerWakes("the timer port", [timer0], 1);
  check.equal("poll wake: timer port pending", ev.pending(timer0), true);
  check.equal("poll wake on a masked port: no upcall", t.upcalls(), 0);
  ev.clearPending(timer0);
  // Polling several ports (or none) leaves poll_evtchn at −1: evtchn_check_pollers wakes
  // the vCPU for any port of the domain, listed or not. One port: only that port.
  timerWakes("2 ports, not the timer's", ports, 2);
  ev.clearPending(timer0);
  timerWakes("0 ports", ports, 0);
  ev.clearPending(timer0);
  t0 = now();
  ev.setTimer(t0 + 2n * MS);
  check.equal("poll(1 other port, timeout +20 ms) rc", ev.poll([ipi0], t0 + 20n * MS), 0);
  t1 = now();
  check.that(
    "poll of one port sleeps through another port's event to the timeout",
    t1 >= t0 + 20n * MS,
    t1 - t0,
  );
  check.equal("the other port's event is still pending", ev.pending(timer0), true);
  ev.clearPending(timer0);

  // SCHEDOP_block: enables events (clears evtchn_upcall_mask), sleeps until an event.
  ev.unmask(timer0);
  t.upcalls();
  t0 = now();
  ev.setTimer(t0 + 3n * MS);
  check.equal("block rc", ev.block(), 0);
  t1 = now();
  check.that("block slept until the timer", t1 >= t0 + 3n * MS, t1 - t0);
  check.equal("block woken by the timer: one upcall", t.upcalls(), 1);
  check.equal("block woken by the timer: timer port pending", ev.pending(timer0), true);
  check.equal("block woken by the timer: its word's selector bit", ev.selector(0), t.word(timer0));
  check.equal("block cleared evtchn_upcall_mask", ev.upcallMask(0), 0);
  ev.setUpcallMask(0, 1);
  ev.clearVcpuBits(0);
  ev.clearPending(timer0);
  ev.mask(timer0);
}

function resetAndLimits(t: Ops): void {
  const { agent, ev, check, bad } = t;
  const statusOf = (port: number): number => {
    const st = ev.status(DomId.SELF, port);
    return st.rc === 0n ? st.status : -1;
  };
  check.equal("reset(dom 77) ESRCH", ev.reset(77), -Errno.ESRCH);
  check.equal("reset(bad pointer) EFAULT", ev.opAt(EventChannelOp.reset, bad), -Errno.EFAULT);
  check.equal("reset(self) rc", ev.reset(), 0);
  check.equal("reset closed the interdomain port", statusOf(1), S.closed);
  check.equal("reset closed the VIRQ port", statusOf(t.ports.timer0), S.closed);
  check.equal("reset closed the IPI port", statusOf(t.ports.ipi0), S.closed);
  const q = ev.bindVirq(Virq.timer, 0);
  check.equal("bind_virq(timer, vcpu 0) after reset: port 1", q.rc === 0n ? q.port : -1, 1);

  // Fill the table: ports 2 .. BITS_PER_EVTCHN_WORD² − 1, then −ENOSPC. One argument
  // struct for every call: Xen writes the port back only on success, so it ends holding
  // the last port allocated.
  const arg = agent.placeStruct(EVTCHN_ALLOC_UNBOUND, { dom: DomId.SELF, remote_dom: DomId.SELF });
  let rc = 0n;
  let n = 0;
  while (n <= ev.portLimit) {
    rc = agent.hypercall(
      Hypercall.event_channel_op,
      EventChannelOp.alloc_unbound,
      agent.handle(arg),
    );
    if (rc !== 0n) break;
    n++;
  }
  const lastPort = agent.readStruct(EVTCHN_ALLOC_UNBOUND, arg).getNumber("port");
  const top = ev.portLimit - 1;
  check.equal("alloc_unbound until full: every port but 0 and 1", n, ev.portLimit - 2);
  check.equal("alloc_unbound until full: the last port", lastPort, top);
  check.equal("alloc_unbound on a full table ENOSPC", rc, -Errno.ENOSPC);
  check.equal("bind_ipi on a full table ENOSPC", ev.bindIpi(0).rc, -Errno.ENOSPC);
  check.equal("bind_virq on a full table ENOSPC", ev.bindVirq(Virq.timer, 1).rc, -Errno.ENOSPC);
  check.equal(
    "bind_interdomain on a full table ENOSPC",
    ev.bindInterdomain(DomId.SELF, top).rc,
    -Errno.ENOSPC,
  );
  check.equal("send(last port) unbound rc", ev.send(top), 0);
  check.equal("close(last port) rc", ev.close(top), 0);
  const r = ev.allocUnbound(DomId.SELF, DomId.SELF);
  check.equal("alloc_unbound after a close gets the last port", r.rc === 0n ? r.port : -1, top);
  check.equal("reset of a full table rc", ev.reset(), 0);
  check.equal("after reset: the last port closed", statusOf(top), S.closed);
  const s = ev.allocUnbound(DomId.SELF, DomId.SELF);
  check.equal("after reset: alloc_unbound gives port 1", s.rc === 0n ? s.port : -1, 1);
  ev.close(s.port);
}

/**
 * vCPU 1 up: it blocks, and an IPI bound to it, sent by vCPU 0, wakes it into its own
 * upcall (vcpu_mark_events_pending kicks the notified vCPU), not vCPU 0's.
 */
function ipiWakesVcpu1(t: Ops): void {
  const { agent, ev, check } = t;
  ev.clearVcpuBits(1);
  agent.startVcpu(1);
  const ipi = ev.bindIpi(1);
  check.equal("bind_ipi(vcpu 1) with vcpu 1 up rc", ipi.rc, 0);
  ev.unmask(ipi.port);
  t.upcalls();
  agent.begin(1, AgentOp.Hypercall, [Hypercall.sched_op, SchedOp.block, 0]);
  check.equal("send(ipi to the blocked vcpu 1) rc", ev.send(ipi.port), 0);
  const woke = agent.finish(1);
  check.equal("vcpu 1's block returns 0", woke.result, 0);
  check.equal("vcpu 1 took the upcall", agent.vcpu(1).upcalls(), 1);
  check.equal("vcpu 1's selector names the IPI's word", ev.selector(1), t.word(ipi.port));
  check.equal("vcpu 0 took no upcall", t.upcalls(), 0);
}
