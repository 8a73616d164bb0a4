/**
 * Event channels with the 2-level ABI, seen from a guest: allocate ports, connect a
 * loopback interdomain channel and an IPI to itself, watch the pending / selector /
 * upcall_pending bits in shared_info, take upcalls on unmask, on send and through
 * SCHEDOP_block, poll with SCHEDOP_poll, and get the documented errors.
 *
 * Facts, from xen/common/event_channel.c, event_2l.c and sched/core.c:
 * - get_free_port() hands out the lowest free port; port 0 is reserved (evtchn_init), and a
 *   domU's first ports are its store and console channels, allocated by the toolstack.
 * - bind_interdomain sets the new local port pending ("we may have lost notifications").
 * - evtchn_2l_set_pending: the pending bit; if it was clear and the port unmasked, the
 *   selector bit; if that was clear, evtchn_upcall_pending. unmask redoes the last two for
 *   a pending port. The upcall is entered when evtchn_upcall_mask is clear, on the way
 *   back to the guest.
 * - SCHEDOP_block clears evtchn_upcall_mask and returns at once when an event is pending.
 * - do_poll: more than 128 ports −EINVAL; a pending port returns 0 at once; an invalid
 *   port −EINVAL; the timeout is absolute system time.
 */
import { DomId, Errno, EventChannelOp, EventChannelStatus as S, Virq } from "@hvkit/core";
import { agentTest } from "../agent-test.js";
import { EventChannels } from "../../event-channels.js";

/** 20 s of system time: a poll timeout no event of this test comes near. */
const POLL_TIMEOUT_NS = 20_000_000_000n;

/** evtchn/upcall. */
export const evtchnUpcall = agentTest({
  area: "evtchn",
  name: "upcall",
  description:
    "a guest binds loopback and IPI ports, sees Xen's pending/selector/upcall bits, takes upcalls on unmask, send and SCHEDOP_block, polls with a timeout",
  requires: { modes: ["pv"] },
  run(agent, check, ctx) {
    const ev = new EventChannels(agent);
    let seen = 0;
    /** Upcalls vCPU 0 took since the last call. */
    const upcalls = (): number => {
      const total = agent.vcpu(0).upcalls();
      const n = total - seen;
      seen = total;
      return n;
    };
    const self = ctx.cell.role === "dom0" ? 0 : agent.session.domain.id;
    // The lowest free port: 1, or the one after a domU's store and console ports.
    const boot = agent.bootInfo();
    const first = Math.max(0, boot.storeEvtchn ?? 0, boot.consoleEvtchn ?? 0) + 1;
    const word = (port: number): bigint => 1n << BigInt(Math.floor(port / ev.wordBits));

    check.equal("events start masked (evtchn_upcall_mask 1)", ev.upcallMask(0), 1);
    ev.maskAll();

    // A loopback interdomain channel: an unbound port for ourselves, then bind to it.
    const au = ev.allocUnbound(DomId.SELF, DomId.SELF);
    check.equal("alloc_unbound(self, self) rc", au.rc, 0);
    check.equal("alloc_unbound gives the lowest free port", au.port, first);
    const a = au.port;
    let st = ev.status(DomId.SELF, a);
    check.equal("status(unbound) rc", st.rc, 0);
    check.equal("status(unbound) status", st.status, S.unbound);
    check.equal("status(unbound) vcpu", st.vcpu, 0);
    check.equal(
      "status(unbound): remote DOMID_SELF resolved",
      st.out.getNumber("u.unbound.dom"),
      self,
    );
    const bi = ev.bindInterdomain(DomId.SELF, a);
    check.equal("bind_interdomain(self, a) rc", bi.rc, 0);
    check.equal("bind_interdomain local port is the next free one", bi.port, first + 1);
    const b = bi.port;
    st = ev.status(DomId.SELF, a);
    check.equal("status(a) interdomain", st.status, S.interdomain);
    check.equal("status(a) vcpu 0", st.vcpu, 0);
    check.equal("status(a) to self", st.out.getNumber("u.interdomain.dom"), self);
    check.equal("status(a) to port b", st.out.getNumber("u.interdomain.port"), b);
    st = ev.status(DomId.SELF, b);
    check.equal("status(b) interdomain", st.status, S.interdomain);
    check.equal("status(b) to port a", st.out.getNumber("u.interdomain.port"), a);
    check.equal("bind_interdomain sets the local port pending", ev.pending(b), true);
    check.equal("the masked port leaves the selector clear", ev.selector(0), 0);
    check.equal("the masked port leaves upcall_pending clear", ev.upcallPending(0), 0);
    ev.clearPending(b);

    const ipi = ev.bindIpi(0);
    check.equal("bind_ipi(vcpu 0) rc", ipi.rc, 0);
    check.equal("bind_ipi gives the next free port", ipi.port, first + 2);
    const c = ipi.port;
    st = ev.status(DomId.SELF, c);
    check.equal("status(ipi) status", st.status, S.ipi);
    check.equal("status(ipi) vcpu 0", st.vcpu, 0);

    // Masked: send sets only the pending bit.
    check.equal("send(a) rc", ev.send(a), 0);
    check.equal("send to a masked port: pending", ev.pending(b), true);
    check.equal("send to a masked port: still masked", ev.masked(b), true);
    check.equal("send to a masked port: selector clear", ev.selector(0), 0);
    check.equal("send to a masked port: upcall_pending clear", ev.upcallPending(0), 0);

    // Enable events, then unmask: the pending port raises the upcall.
    ev.setUpcallMask(0, 0);
    check.equal("unmask(b) rc", ev.unmask(b), 0);
    check.equal("unmask of a pending port with events enabled: one upcall", upcalls(), 1);
    check.equal("unmask cleared the mask bit", ev.masked(b), false);
    check.equal("the upcall's selector names b's word", ev.selector(0), word(b));
    check.equal("the upcall's port b is pending", ev.pending(b), true);
    // The handler's scan, as Linux's: selector, then the pending bit.
    ev.clearVcpuBits(0);
    ev.clearPending(b);

    // Unmasked with events enabled: the upcall arrives as the send returns.
    ev.unmask(a);
    check.equal("send(b) rc", ev.send(b), 0);
    check.equal("send to an unmasked port: upcall at once", upcalls(), 1);
    check.equal("send to an unmasked port: port a pending", ev.pending(a), true);
    check.equal("send to an unmasked port: selector", ev.selector(0), word(a));
    ev.clearVcpuBits(0);
    ev.clearPending(a);

    // Events disabled: the IPI waits; SCHEDOP_block enables events and does not sleep.
    ev.unmask(c);
    ev.setUpcallMask(0, 1);
    check.equal("send(ipi) with events off rc", ev.send(c), 0);
    check.equal("send with events off: no upcall", upcalls(), 0);
    check.equal("send with events off: upcall_pending set", ev.upcallPending(0), 1);
    check.equal("block with an event pending rc", ev.block(), 0);
    check.equal("block cleared evtchn_upcall_mask", ev.upcallMask(0), 0);
    check.equal("block delivered the pending upcall", upcalls(), 1);
    check.equal("the upcall was for the IPI port", ev.pending(c), true);
    ev.clearVcpuBits(0);
    ev.clearPending(c);

    // Poll: a pending masked port returns at once; otherwise the timeout ends it.
    ev.mask(c);
    ev.setUpcallMask(0, 1);
    ev.send(c);
    check.equal("poll(pending port) rc", ev.poll([c, b], 0n, 1), 0);
    ev.clearPending(c);
    const start = agent.systemTime();
    check.equal("poll(2 ports) until the timeout rc", ev.poll([c, b], start + POLL_TIMEOUT_NS), 0);
    check.that("poll ends at the timeout", agent.systemTime() >= start + POLL_TIMEOUT_NS);
    check.equal("poll: no upcall", upcalls(), 0);
    check.equal("poll(129 ports) EINVAL", ev.poll([c, b], 0n, 129), -Errno.EINVAL);
    check.equal("poll(a port not valid) EINVAL", ev.poll([c, 4000], 0n), -Errno.EINVAL);

    // Close one end: the other becomes unbound again, for this domain.
    check.equal("close(b) rc", ev.close(b), 0);
    st = ev.status(DomId.SELF, a);
    check.equal("the peer of a closed port: unbound", st.status, S.unbound);
    check.equal(
      "the peer of a closed port: unbound for self",
      st.out.getNumber("u.unbound.dom"),
      self,
    );
    check.equal("send on the unbound peer: dropped, rc 0", ev.send(a), 0);
    check.equal("close(b) again EINVAL", ev.close(b), -Errno.EINVAL);

    // VIRQs and errors.
    const timer = ev.bindVirq(Virq.timer, 0);
    check.equal("bind_virq(timer) rc", timer.rc, 0);
    check.equal("bind_virq(timer) reuses the closed port", timer.port, b);
    st = ev.status(DomId.SELF, timer.port);
    check.equal("status(virq) status", st.status, S.virq);
    check.equal("status(virq) vcpu 0", st.vcpu, 0);
    check.equal("status(virq) virq", st.out.getNumber("u.virq"), Virq.timer);
    check.equal("bind_virq(timer) again EEXIST", ev.bindVirq(Virq.timer, 0).rc, -Errno.EEXIST);
    check.equal("bind_virq(24 = NR_VIRQS) EINVAL", ev.bindVirq(24, 0).rc, -Errno.EINVAL);
    check.equal("bind_ipi(vcpu 5) ENOENT", ev.bindIpi(5).rc, -Errno.ENOENT);
    check.equal("bind_vcpu(ipi) EINVAL", ev.bindVcpu(c, 0), -Errno.EINVAL);
    check.equal("send(last port, not valid) EINVAL", ev.send(ev.portLimit - 1), -Errno.EINVAL);
    check.equal("send on a VIRQ port EINVAL", ev.send(timer.port), -Errno.EINVAL);
    const bad = agent.spec.unmappedAddress(agent);
    check.equal("status(bad pointer) EFAULT", ev.opAt(EventChannelOp.status, bad), -Errno.EFAULT);
    check.equal("alloc_unbound(dom 77) ESRCH", ev.allocUnbound(77, DomId.SELF).rc, -Errno.ESRCH);

    // Reset: every port closed.
    check.equal("reset(self) rc", ev.reset(), 0);
    for (const [name, port] of [
      ["a", a],
      ["ipi", c],
    ] as const) {
      st = ev.status(DomId.SELF, port);
      check.equal(`reset closed ${name}`, st.status, S.closed);
      check.equal(`reset: ${name} notifies vcpu 0`, st.vcpu, 0);
    }
  },
});
