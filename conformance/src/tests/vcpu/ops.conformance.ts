/**
 * VCPUOP initialise/up/down/is_up/get_runstate_info on a domain with one vCPU more than
 * shared_info has vcpu_info slots (XEN_LEGACY_MAX_VCPUS + 1, from the arch's data model),
 * each result checked against Xen:
 *
 * - xen/arch/x86/domain.c `do_vcpu_op`: a vcpuid the domain lacks (`domain_vcpu()` NULL)
 *   −ENOENT before anything else, whatever the sub-op.
 * - xen/common/domain.c `common_vcpu_op`:
 *   initialise: a PV vCPU still on the dummy vcpu_info (ids ≥ XEN_LEGACY_MAX_VCPUS with
 *   none registered) −EINVAL; then `default_initialise_vcpu`: an unreadable context
 *   −EFAULT, checked before is_initialised (an initialised vCPU with an unreadable
 *   context is −EFAULT); already initialised −EEXIST; a context `arch_set_info_guest`
 *   refuses −EINVAL (the arch's `refusedVcpuContexts`).
 *   up: −EINVAL unless initialised, else clears _VPF_down (0 whether or not it was down).
 *   down: sets _VPF_down of any vCPU of the domain; the last vCPU not down shuts the
 *   domain down (SHUTDOWN_poweroff). is_up: !(pause_flags & VPF_down).
 *   get_runstate_info: `vcpu_runstate_get`; −EFAULT when the copy fails.
 * - vcpu_create: a vCPU that is not up starts RUNSTATE_offline (3); running 0, runnable 1,
 *   blocked 2 (public/vcpu.h); a vCPU sleeping in SCHEDOP_poll is blocked
 *   (xen/common/sched/core.c `do_poll`). Down and blocked are separate pause flags
 *   (`_VPF_down`, `_VPF_blocked`): a vCPU taken down while it polls stays RUNSTATE_blocked
 *   (`vcpu_sleep_nosync` changes only a runnable one to offline), up leaves it waiting,
 *   and its event while it is down ends the wait without running it (offline:
 *   `vcpu_wake`) until it is up again.
 *
 * The agent's vCPUs wait for the test's requests paused, which Xen reports as offline, so
 * a vCPU whose running or runnable state is checked has a request in flight (a
 * SCHEDOP_yield, a poll) while the other vCPU looks. register_vcpu_info (and initialise
 * of the vCPU past the legacy slots once it has one) is in `vcpu/register-vcpu-info`,
 * which needs the guest's frames.
 */
import {
  AgentOp,
  Errno,
  Hypercall,
  RUNSTATE_BLOCKED,
  RUNSTATE_OFFLINE,
  RUNSTATE_RUNNABLE,
  RUNSTATE_RUNNING,
  SchedOp,
  VcpuOp,
} from "@hvkit/core";
import { agentTest } from "../agent-test.js";
import { GuestVcpus } from "../guest-vcpus.js";
import { EventChannels } from "../../event-channels.js";

const MS = 1_000_000n;

/** vcpu/ops. */
export const vcpuOps = agentTest({
  area: "vcpu",
  name: "ops",
  description:
    "VCPUOP initialise/up/down/is_up/get_runstate_info: success, each error path, runstates, and the last vCPU's down powering the domain off",
  requires: { modes: ["pv"] },
  boot: (ctx) => ({ vcpus: ctx.arch.dataModel.legacyMaxVcpus + 1 }),
  run(agent, check) {
    const legacy = agent.arch.dataModel.legacyMaxVcpus;
    const nr = legacy + 1;
    const events = new EventChannels(agent);
    const vcpus = new GuestVcpus(agent);
    const bad = agent.handle(agent.spec.unmappedAddress(agent));
    const ctx = agent.handle(agent.place(agent.spec.secondaryVcpuContext(agent, 1), 16));

    // −ENOENT for ids the domain lacks, whatever the sub-op.
    check.equal("is_up(0)", vcpus.isUp(0), 1);
    check.equal("is_up(1) before up", vcpus.isUp(1), 0);
    check.equal(`is_up(${nr})`, vcpus.isUp(nr), -Errno.ENOENT);
    check.equal("is_up(0xffffffff)", vcpus.isUp(0xffffffff), -Errno.ENOENT);
    check.equal(`up(${nr})`, vcpus.op(VcpuOp.up, nr), -Errno.ENOENT);
    check.equal(`down(${nr + 7})`, vcpus.op(VcpuOp.down, nr + 7), -Errno.ENOENT);
    check.equal(`initialise(${nr})`, vcpus.op(VcpuOp.initialise, nr, ctx), -Errno.ENOENT);
    check.equal(
      `get_runstate_info(${nr})`,
      vcpus.op(VcpuOp.get_runstate_info, nr, ctx),
      -Errno.ENOENT,
    );

    // Runstates: vCPU 0 running (its running time grows), vCPU 1 offline.
    const r0 = vcpus.runstate(0);
    const r0b = vcpus.runstate(0);
    check.equal("runstate(0) running", r0.state, RUNSTATE_RUNNING);
    check.that(
      "runstate(0) running time advances",
      r0b.time[RUNSTATE_RUNNING] > r0.time[RUNSTATE_RUNNING],
      r0b.time[RUNSTATE_RUNNING] - r0.time[RUNSTATE_RUNNING],
    );
    check.that(
      "runstate(0) entry time not after the times' sum",
      r0b.entryTime <= r0b.sum,
      r0b.entryTime,
    );
    check.equal("runstate(1) offline before up", vcpus.runstate(1).state, RUNSTATE_OFFLINE);
    check.equal(
      "get_runstate_info into an unmapped buffer",
      vcpus.op(VcpuOp.get_runstate_info, 0, bad),
      -Errno.EFAULT,
    );

    // initialise and up.
    check.equal("up(1) before initialise", vcpus.op(VcpuOp.up, 1), -Errno.EINVAL);
    check.equal(
      "initialise(1) from an unmapped context",
      vcpus.op(VcpuOp.initialise, 1, bad),
      -Errno.EFAULT,
    );
    for (const refused of agent.spec.refusedVcpuContexts?.(agent, 1) ?? []) {
      const rc = vcpus.initialise(1, refused.context);
      check.equal(`initialise(1) with ${refused.why}`, rc, -Errno.EINVAL);
    }
    check.equal("is_up(1) 0 after failed initialises", vcpus.isUp(1), 0);
    check.equal(
      "up(1) still refused after failed initialises",
      vcpus.op(VcpuOp.up, 1),
      -Errno.EINVAL,
    );
    check.equal("initialise(1)", vcpus.op(VcpuOp.initialise, 1, ctx), 0);
    check.equal("initialise(1) again", vcpus.op(VcpuOp.initialise, 1, ctx), -Errno.EEXIST);
    // default_initialise_vcpu copies the context in before it looks at is_initialised.
    check.equal(
      "initialise(1) again from an unmapped context: EFAULT before EEXIST",
      vcpus.op(VcpuOp.initialise, 1, bad),
      -Errno.EFAULT,
    );
    check.equal(
      "initialise(0), running, from an unmapped context: EFAULT before EEXIST",
      vcpus.op(VcpuOp.initialise, 0, bad),
      -Errno.EFAULT,
    );
    check.equal("initialise(0), running", vcpus.op(VcpuOp.initialise, 0, ctx), -Errno.EEXIST);
    check.equal("is_up(1) 0 after initialise (stays down)", vcpus.isUp(1), 0);
    check.equal(
      `initialise(${legacy}) with no vcpu_info (past shared_info's slots)`,
      vcpus.op(VcpuOp.initialise, legacy, ctx),
      -Errno.EINVAL,
    );

    // up / down of another vCPU.
    check.equal("up(1)", agent.upVcpu(1), 0);
    check.equal("is_up(1) after up", vcpus.isUp(1), 1);
    check.equal("up(1) again", vcpus.op(VcpuOp.up, 1), 0);
    check.equal(
      "runstate(1) running, read by itself",
      vcpus.runstate(1, 1).state,
      RUNSTATE_RUNNING,
    );
    agent.begin(1, AgentOp.Hypercall, [Hypercall.sched_op, SchedOp.yield, 0]);
    check.equal(
      "runstate(1) runnable while vCPU 0 runs",
      vcpus.runstate(1).state,
      RUNSTATE_RUNNABLE,
    );
    check.equal("vCPU 1's yield returns", agent.complete(1), 0);
    // vCPU 1 waits in SCHEDOP_poll on an IPI port while vCPU 0 takes it down.
    events.maskAll();
    const ipi = events.bindIpi(1).port;
    events.beginPoll([ipi], events.waitDeadline(1), 1);
    check.that(
      "runstate(1) blocked while it polls a port",
      vcpus.yieldUntil(0, () => vcpus.runstate(1).state === RUNSTATE_BLOCKED),
    );
    check.equal("down(1) by vCPU 0", vcpus.op(VcpuOp.down, 1), 0);
    check.equal("is_up(1) after down", vcpus.isUp(1), 0);
    check.equal(
      "runstate(1) still blocked after down (vcpu_sleep_nosync changes only a runnable one)",
      vcpus.runstate(1).state,
      RUNSTATE_BLOCKED,
    );
    check.equal("down(1) again", vcpus.op(VcpuOp.down, 1), 0);
    // Up again with no event: still blocked in its poll (_VPF_blocked outlives _VPF_down).
    check.equal("up(1) while its poll waits", vcpus.op(VcpuOp.up, 1), 0);
    for (let i = 0; i < 5; i++) vcpus.yield(0);
    check.that(
      "up(1) while its poll waits: still blocked",
      !agent.parked(1) && vcpus.runstate(1).state === RUNSTATE_BLOCKED,
      vcpus.runstate(1).state,
    );
    // Down, then its event: it does not run until it is up again.
    check.equal("down(1) while its poll waits", vcpus.op(VcpuOp.down, 1), 0);
    const r1 = vcpus.runstate(1);
    check.equal("send to the port vCPU 1 polls", events.send(ipi, 0), 0);
    for (let i = 0; i < 20; i++) vcpus.yield(0);
    const r1d = vcpus.runstate(1);
    check.that(
      "down(1): it no longer runs (its poll does not return though its port is pending)",
      !agent.parked(1) && r1d.time[RUNSTATE_RUNNING] === r1.time[RUNSTATE_RUNNING],
    );
    check.equal(
      "runstate(1) offline once its event came while down (vcpu_wake)",
      r1d.state,
      RUNSTATE_OFFLINE,
    );
    check.equal("up(1) after down", vcpus.op(VcpuOp.up, 1), 0);
    check.that(
      "up(1) after down: it runs again",
      vcpus.yieldUntil(0, () => agent.parked(1)),
    );
    check.equal("its poll returns", agent.complete(1), 0);
    const r1b = vcpus.runstate(1);
    check.that(
      "runstate(1) offline time kept, running time grew",
      r1b.time[RUNSTATE_OFFLINE] > r1.time[RUNSTATE_OFFLINE] &&
        r1b.time[RUNSTATE_RUNNING] > r1.time[RUNSTATE_RUNNING],
      r1b.time[RUNSTATE_RUNNING] - r1.time[RUNSTATE_RUNNING],
    );

    // vCPU 1 sleeps in SCHEDOP_poll (no ports, a 1 ms timeout): blocked, blocked time grows.
    events.beginPoll([], agent.systemTime() + MS, 1);
    check.that(
      "runstate(1) blocked while it polls",
      vcpus.yieldUntil(0, () => vcpus.runstate(1).state === RUNSTATE_BLOCKED),
    );
    const b1 = vcpus.runstate(1);
    for (let i = 0; i < 5; i++) vcpus.yield(0);
    const b2 = vcpus.runstate(1);
    check.that(
      "runstate(1) blocked time grows",
      b2.time[RUNSTATE_BLOCKED] > b1.time[RUNSTATE_BLOCKED],
      b2.time[RUNSTATE_BLOCKED] - b1.time[RUNSTATE_BLOCKED],
    );
    check.equal("the poll returns at its timeout", agent.complete(1), 0);

    // vCPU 0 takes itself down; vCPU 1 sees it, then goes down last.
    agent.begin(0, AgentOp.Hypercall, [Hypercall.vcpu_op, VcpuOp.down, 0, 0]);
    check.that(
      "down(0) by vCPU 0 itself: is_up(0) 0 seen from vCPU 1",
      vcpus.yieldUntil(1, () => vcpus.isUp(0, 1) === 0n),
    );
    check.equal("VCPUOP_down of vCPU 0 on itself does not return", agent.parked(0), false);
    check.equal("runstate(0) offline after down", vcpus.runstate(0, 1).state, RUNSTATE_OFFLINE);
    check.equal(
      "runstate(1) running, read by itself with vCPU 0 down",
      vcpus.runstate(1, 1).state,
      RUNSTATE_RUNNING,
    );
    agent.begin(1, AgentOp.Hypercall, [Hypercall.vcpu_op, VcpuOp.down, 1, 0]);
    const run = agent.runToEnd();
    check.shutdown(run, "Poweroff", "down(1) as the last vCPU up: ");
  },
});
