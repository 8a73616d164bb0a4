/**
 * Time and timers as a PV kernel first meets them, on a one-vCPU domain: the wall clock
 * (even wc_version, the machine's boot time), system time computed pvclock-style from
 * vcpu_time_info and the arch's time counter (monotonic, XEN_PVCLOCK_TSC_STABLE_BIT), and
 * VIRQ_TIMER, waited for with SCHEDOP_poll on its masked port, from a VCPUOP single-shot
 * timer (woken at its deadline), a past single-shot deadline with VCPU_SSHOTTMR_future
 * (pending at once: the flag is ignored since Xen 4.18), set_timer_op (and 0 cancelling
 * it), and a 1 ms periodic timer (−EINVAL under 1 ms; the first tick at once since a
 * period has passed since the last one, as `vcpu_periodic_timer_work`; then 1 ms apart);
 * the stop sub-ops, −ENOENT for a vCPU the domain lacks, and the vCPU's runstate (running,
 * blocked time accumulated while polling, the times summing to NOW()).
 *
 * Sources: xen/include/public/xen.h (wall clock, vcpu_time_info), vcpu.h, sched.h;
 * xen/common/sched/core.c (`do_set_timer_op`, `vcpu_periodic_timer_work`,
 * `vcpu_runstate_get`), xen/common/domain.c (`common_vcpu_op`).
 */
import {
  Errno,
  RUNSTATE_BLOCKED,
  RUNSTATE_RUNNING,
  VCPU_SSHOTTMR_FUTURE,
  VcpuOp,
  VCPU_INFO,
  Virq,
  XEN_PVCLOCK_TSC_STABLE_BIT,
} from "@hvkit/core";
import { EventChannels } from "../../event-channels.js";
import { agentTest } from "../agent-test.js";
import { GuestVcpus } from "../guest-vcpus.js";
import { readWallClock } from "./wall-clock.js";

const US = 1000n;
const MS = 1_000_000n;

/** time/timers. */
export const timeTimers = agentTest({
  area: "time",
  name: "timers",
  description:
    "wall clock and pvclock records read by the guest; single-shot, set_timer_op and periodic timers raise VIRQ_TIMER at their deadlines",
  requires: { modes: ["pv"] },
  run(agent, check) {
    const events = new EventChannels(agent);
    const vcpus = new GuestVcpus(agent);
    const now = (): bigint => agent.systemTime();
    events.maskAll();
    const { port } = events.bindVirq(Virq.timer, 0);
    /** Waits for the timer port; returns the system time it woke at. */
    const waitTimer = (): bigint => {
      events.waitFor(port);
      return now();
    };

    const wc = readWallClock(agent);
    check.equal("wallclock version even", wc.version & 1, 0);
    check.equal("wallclock sec", wc.sec, agent.session.machine.config.bootWallclock);
    check.equal("wallclock sec hi", wc.secHi, 0);
    check.equal("wallclock nsec", wc.nsec, 0);
    const t0 = now();
    const t1 = now();
    check.that("pvclock monotonic", t1 >= t0, t1 - t0);
    check.equal(
      "pvclock TSC stable flag",
      agent.readStruct(VCPU_INFO, agent.vcpuInfo(0)).getNumber("time.flags") &
        XEN_PVCLOCK_TSC_STABLE_BIT,
      XEN_PVCLOCK_TSC_STABLE_BIT,
    );

    let deadline = now() + MS;
    check.equal("singleshot(+1 ms)", vcpus.singleshot(0, deadline), 0);
    let woke = waitTimer();
    check.that("singleshot(+1 ms) woke at/after its deadline", woke >= deadline, woke - deadline);
    check.that("singleshot(+1 ms) woke within 10 us", woke - deadline < 10n * US, woke - deadline);

    check.equal(
      "singleshot(past, VCPU_SSHOTTMR_future)",
      vcpus.singleshot(0, now() - 1n, VCPU_SSHOTTMR_FUTURE),
      0,
    );
    check.equal("singleshot(past) pending at once", events.pending(port), true);
    events.clearPending(port);

    deadline = now() + 2n * MS;
    check.equal("set_timer_op(+2 ms)", events.setTimer(deadline), 0);
    woke = waitTimer();
    check.that("set_timer_op(+2 ms) woke at/after its deadline", woke >= deadline, woke - deadline);
    check.equal("set_timer_op(+1 ms)", events.setTimer(now() + MS), 0);
    check.equal("set_timer_op(0) cancels", events.setTimer(0n), 0);
    events.poll([port], now() + 3n * MS);
    check.equal("no event within 3 ms after the cancel", events.pending(port), false);

    check.equal("periodic(999999 ns)", vcpus.periodic(0, MS - 1n), -Errno.EINVAL);
    const start = now();
    check.equal("periodic(1 ms)", vcpus.periodic(0, MS), 0);
    const tick = [waitTimer(), waitTimer(), waitTimer()];
    check.that("periodic: first tick at once", tick[0] - start < 10n * US, tick[0] - start);
    const gap = tick[2] - tick[1];
    check.that(
      "periodic: next two ticks 1 ms apart (within 10 us)",
      gap + 10n * US > MS && gap < MS + 10n * US,
      gap,
    );
    check.equal("stop_periodic", vcpus.op(VcpuOp.stop_periodic_timer, 0), 0);
    check.equal("stop_singleshot", vcpus.op(VcpuOp.stop_singleshot_timer, 0), 0);
    check.equal(
      "singleshot on vCPU 1 of a one-vCPU domain",
      vcpus.singleshot(1, now() + MS),
      -Errno.ENOENT,
    );

    const rs = vcpus.runstate(0);
    const n = now();
    check.equal("get_runstate_info(0)", rs.result, 0);
    check.equal("runstate(0) running, read by itself", rs.state, RUNSTATE_RUNNING);
    check.that(
      "runstate(0) blocked more than 5 ms (the polls)",
      rs.time[RUNSTATE_BLOCKED] > 5n * MS,
      rs.time[RUNSTATE_BLOCKED],
    );
    check.that(
      "runstate times sum to system time (within 10 us before the pvclock read)",
      rs.sum <= n && n - rs.sum < 10n * US,
      n - rs.sum,
    );
  },
});
