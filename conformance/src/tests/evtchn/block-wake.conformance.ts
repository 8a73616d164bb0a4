/**
 * SCHEDOP_block and SCHEDOP_poll woken by a later event: the guest binds VIRQ_TIMER, arms
 * its single-shot timer with set_timer_op, blocks with nothing pending and must be woken
 * by the timer's event (the upcall taken on the way back); then polls the masked timer
 * port with no timeout and must be woken by the next timer event, without an upcall.
 *
 * Facts, from xen/common/sched/core.c: `vcpu_block_enable_events` clears
 * evtchn_upcall_mask and sleeps until an event is marked pending (`vcpu_kick`);
 * `do_poll` sleeps until one of its ports is set pending, masked or not
 * (`evtchn_check_pollers`), with timeout 0 meaning none; `do_set_timer_op` takes an
 * absolute system time and raises VIRQ_TIMER when it passes.
 */
import { DomId, EventChannelStatus, Virq } from "@hvkit/core";
import { agentTest } from "../agent-test.js";
import { EventChannels } from "../../event-channels.js";

const BLOCK_TIMER_NS = 50_000_000n;
const POLL_TIMER_NS = 90_000_000n;

/** evtchn/block-wake. */
export const evtchnBlockWake = agentTest({
  area: "evtchn",
  name: "block-wake",
  description:
    "SCHEDOP_block sleeps until the VIRQ_TIMER event and takes its upcall; SCHEDOP_poll on a masked port wakes on the next one",
  requires: { modes: ["pv"] },
  run(agent, check) {
    const ev = new EventChannels(agent);
    ev.maskAll();
    const bound = ev.bindVirq(Virq.timer, 0);
    check.equal("bind_virq(timer) rc", bound.rc, 0);
    const port = bound.port;
    check.equal(
      "the timer port is a VIRQ port",
      ev.status(DomId.SELF, port).status,
      EventChannelStatus.virq,
    );
    check.equal("unmask(timer port) rc", ev.unmask(port), 0);

    // Block with nothing pending: only the timer wakes the vCPU.
    let start = agent.systemTime();
    check.equal("set_timer_op(+50 ms) rc", ev.setTimer(start + BLOCK_TIMER_NS), 0);
    check.equal("events still masked before block", ev.upcallMask(0), 1);
    check.equal("nothing pending before block", ev.upcallPending(0), 0);
    check.equal("block rc", ev.block(), 0);
    check.that("block slept until the timer", agent.systemTime() >= start + BLOCK_TIMER_NS);
    check.equal("block woke with one upcall", agent.vcpu(0).upcalls(), 1);
    check.equal("the upcall was the timer port's", ev.pending(port), true);
    check.equal(
      "the selector names the timer port's word",
      ev.selector(0),
      1n << BigInt(Math.floor(port / ev.wordBits)),
    );
    ev.clearVcpuBits(0);
    ev.clearPending(port);

    // Poll the masked timer port with no timeout: the next timer event ends it, no upcall.
    ev.mask(port);
    start = agent.systemTime();
    check.equal("set_timer_op(+90 ms) rc", ev.setTimer(start + POLL_TIMER_NS), 0);
    check.equal("poll(timer port, no timeout) rc", ev.poll([port], 0n), 0);
    check.that("poll slept until the timer", agent.systemTime() >= start + POLL_TIMER_NS);
    check.equal("poll woke with the timer port pending", ev.pending(port), true);
    check.equal("poll on a masked port: no upcall", agent.vcpu(0).upcalls(), 1);
    check.equal("poll on a masked port: selector clear", ev.selector(0), 0);
  },
});
