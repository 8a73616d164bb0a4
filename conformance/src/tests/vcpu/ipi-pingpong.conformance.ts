/**
 * A second vCPU brought up by the guest itself, on a two-vCPU domain: vCPU 0 checks its
 * wall clock and vcpu_time_info, binds an IPI port per vCPU (EVTCHNOP_bind_ipi), is
 * refused VCPUOP_up before VCPUOP_initialise (−EINVAL) and the contexts the arch's Xen
 * rejects (−EINVAL: x86_64's CR3 0 and non-canonical rip), initialises vCPU 1 with the
 * arch's context (then −EEXIST), brings it up (a fresh vcpu_info: upcalls masked, an even
 * time record), and the two ping-pong IPIs three times with EVTCHNOP_send and
 * SCHEDOP_poll, ports masked and upcalls masked: each waits blocked until the other
 * sends, and only the port sent to turns pending. vCPU 1 then takes itself down
 * (VCPUOP_down does not return); vCPU 0 sees it down and offline in its runstate, having
 * run; a multicall returns each entry's result (a nested multicall −EINVAL).
 *
 * Sources: xen/include/public/vcpu.h, event_channel.h, sched.h, xen.h; xen/common/domain.c
 * (`common_vcpu_op`: up −EINVAL unless initialised, initialise −EEXIST once done),
 * xen/arch/x86/domain.c (`do_vcpu_op`: −ENOENT for a vCPU the domain lacks;
 * `arch_set_info_guest`), xen/common/sched/core.c (`do_poll`), xen/common/multicall.c.
 */
import {
  Errno,
  Hypercall,
  RUNSTATE_BLOCKED,
  RUNSTATE_OFFLINE,
  RUNSTATE_RUNNING,
  VCPU_INFO,
  VcpuOp,
  XEN_PVCLOCK_TSC_STABLE_BIT,
  AgentOp,
} from "@hvkit/core";
import { agentTest } from "../agent-test.js";
import { GuestVcpus } from "../guest-vcpus.js";
import { EventChannels } from "../../event-channels.js";
import { readWallClock } from "../time/wall-clock.js";
import { multicallResults, placeMulticall } from "../multicall/batch.js";

const ROUNDS = 3;
const MS = 1_000_000n;

/** vcpu/ipi-pingpong. */
export const vcpuIpiPingpong = agentTest({
  area: "vcpu",
  name: "ipi-pingpong",
  description:
    "vCPU 0 starts vCPU 1 with VCPUOP_initialise/up and the two exchange IPIs (bind_ipi + send + poll) in order",
  requires: { modes: ["pv"] },
  boot: { vcpus: 2 },
  run(agent, check) {
    const events = new EventChannels(agent);
    const vcpus = new GuestVcpus(agent);
    events.maskAll();

    const wc = readWallClock(agent);
    check.that(
      "wallclock version even, written at build",
      wc.version > 0 && (wc.version & 1) === 0,
      wc.version,
    );
    check.equal("wallclock sec", wc.sec, agent.session.machine.config.bootWallclock);
    const record = agent.readStruct(VCPU_INFO, agent.vcpuInfo(0));
    const mul = record.getNumber("time.tsc_to_system_mul");
    check.equal("vCPU 0 time version even", record.getNumber("time.version") & 1, 0);
    check.that("vCPU 0 tsc_to_system_mul non-zero", mul !== 0, mul);
    check.equal(
      "vCPU 0 time flags: TSC stable",
      record.getNumber("time.flags") & XEN_PVCLOCK_TSC_STABLE_BIT,
      XEN_PVCLOCK_TSC_STABLE_BIT,
    );
    const now = agent.systemTime(0);
    check.that(
      "system time from the time counter not before the record's",
      now >= record.getBigInt("time.system_time"),
      now,
    );

    const to1 = events.bindIpi(1);
    const to0 = events.bindIpi(0);
    check.equal("bind_ipi(vCPU 1)", to1.rc, 0);
    check.equal("bind_ipi(vCPU 0)", to0.rc, 0);
    check.that(
      "bind_ipi gives two distinct ports, not 0",
      to1.port > 0 && to0.port > 0 && to1.port !== to0.port,
      `${to1.port}, ${to0.port}`,
    );

    check.equal("is_up(1) before initialise", vcpus.isUp(1), 0);
    check.equal("up(1) before initialise", vcpus.op(VcpuOp.up, 1), -Errno.EINVAL);
    check.equal("is_up(2) on a two-vCPU domain", vcpus.isUp(2), -Errno.ENOENT);
    for (const refused of agent.spec.refusedVcpuContexts?.(agent, 1) ?? []) {
      const rc = vcpus.initialise(1, refused.context);
      check.equal(`initialise(1) with ${refused.why}`, rc, -Errno.EINVAL);
    }
    const ctx = agent.handle(agent.place(agent.spec.secondaryVcpuContext(agent, 1), 16));
    check.equal("initialise(1)", vcpus.op(VcpuOp.initialise, 1, ctx), 0);
    check.equal("initialise(1) again", vcpus.op(VcpuOp.initialise, 1, ctx), -Errno.EEXIST);
    check.equal("up(1)", agent.upVcpu(1), 0);
    check.equal("is_up(1) after up", vcpus.isUp(1), 1);
    const info1 = agent.readStruct(VCPU_INFO, agent.vcpuInfo(1), 1);
    check.equal("vCPU 1's vcpu_info: upcalls masked", info1.getNumber("evtchn_upcall_mask"), 1);
    check.equal("vCPU 1's time version even", info1.getNumber("time.version") & 1, 0);
    check.equal(
      "runstate(1) running, read by itself",
      vcpus.runstate(1, 1).state,
      RUNSTATE_RUNNING,
    );

    for (let round = 1; round <= ROUNDS; round++) {
      // Ping: vCPU 1 waits in SCHEDOP_poll on its port until vCPU 0 sends.
      events.beginPoll([to1.port], events.waitDeadline(1), 1);
      check.that(
        `round ${round}: vCPU 1 blocks in SCHEDOP_poll`,
        vcpus.yieldUntil(0, () => vcpus.runstate(1).state === RUNSTATE_BLOCKED),
      );
      let sent = agent.systemTime(0);
      check.equal(`round ${round}: ping sent`, events.send(to1.port, 0), 0);
      check.equal(`round ${round}: vCPU 1's poll returns`, agent.complete(1), 0);
      let woke = agent.systemTime(1) - sent;
      check.that(`round ${round}: vCPU 1 wakes at the ping (within 1 ms)`, woke < MS, woke);
      check.equal(`round ${round}: vCPU 1's port pending`, events.pending(to1.port, 1), true);
      check.equal(`round ${round}: vCPU 0's port not pending`, events.pending(to0.port, 1), false);
      events.clearPending(to1.port, 1);
      // Pong: vCPU 0 waits until vCPU 1 sends back.
      events.beginPoll([to0.port], events.waitDeadline(0), 0);
      check.that(
        `round ${round}: vCPU 0 blocks in SCHEDOP_poll`,
        vcpus.yieldUntil(1, () => vcpus.runstate(0, 1).state === RUNSTATE_BLOCKED),
      );
      sent = agent.systemTime(1);
      check.equal(`round ${round}: pong sent`, events.send(to0.port, 1), 0);
      check.equal(`round ${round}: vCPU 0's poll returns`, agent.complete(0), 0);
      woke = agent.systemTime(0) - sent;
      check.that(`round ${round}: vCPU 0 wakes at the pong (within 1 ms)`, woke < MS, woke);
      check.equal(`round ${round}: vCPU 0's port pending`, events.pending(to0.port), true);
      check.equal(`round ${round}: vCPU 1's port not pending`, events.pending(to1.port), false);
      events.clearPending(to0.port);
    }

    // vCPU 1 is told to go down, answers, and takes itself down.
    events.send(to1.port, 0);
    events.waitFor(to1.port, 1);
    events.send(to0.port, 1);
    agent.begin(1, AgentOp.Hypercall, [Hypercall.vcpu_op, VcpuOp.down, 1, 0]);
    events.waitFor(to0.port, 0);
    check.that(
      "vCPU 1 down after VCPUOP_down on itself",
      vcpus.yieldUntil(0, () => vcpus.isUp(1) === 0n),
    );
    check.equal("VCPUOP_down on itself does not return", agent.parked(1), false);
    const rs = vcpus.runstate(1);
    check.equal("get_runstate_info(1)", rs.result, 0);
    check.equal("runstate(1) offline", rs.state, RUNSTATE_OFFLINE);
    check.that("runstate(1): it ran", rs.time[RUNSTATE_RUNNING] > 0n, rs.time[RUNSTATE_RUNNING]);
    check.equal("no upcall on vCPU 0 (upcalls masked)", agent.vcpu(0).upcalls(), 0);
    check.equal("no upcall on vCPU 1 (upcalls masked)", agent.vcpu(1).upcalls(), 0);

    const inner = placeMulticall(agent, [{ op: Hypercall.vcpu_op, args: [VcpuOp.is_up, 0, 0] }]);
    const list = placeMulticall(agent, [
      { op: Hypercall.vcpu_op, args: [VcpuOp.is_up, 0, 0] },
      { op: Hypercall.vcpu_op, args: [VcpuOp.is_up, 1, 0] },
      { op: Hypercall.multicall, args: [agent.handle(inner), 1] },
    ]);
    check.equal("multicall", agent.hypercall(Hypercall.multicall, agent.handle(list), 3), 0);
    const [up0, up1, nested] = multicallResults(agent, list, 3);
    check.equal("multicall: is_up(0)", up0, 1);
    check.equal("multicall: is_up(1)", up1, 0);
    check.equal("multicall: nested multicall", nested, -Errno.EINVAL);
  },
});
