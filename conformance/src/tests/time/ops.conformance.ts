/**
 * The wall clock, vcpu_time_info and every timer interface, on a two-vCPU domain whose
 * vCPU 1 stays down, each result checked against Xen:
 *
 * - public/xen.h: wc_version and version are odd while an update is in progress (read,
 *   retry while odd or changed); system time = system_time + ((counter − tsc_timestamp)
 *   shifted by tsc_shift) × tsc_to_system_mul >> 32; wc_nsec < 10^9.
 * - xen/arch/x86/time.c `update_vcpu_system_time` (version += 1, record, version += 1),
 *   called from context_switch: a vCPU that slept gets a fresh, even-versioned record.
 * - xen/common/sched/core.c `vcpu_runstate_get`: the runstate times sum to NOW(), the
 *   system time the record encodes.
 * - `do_set_timer_op` (sched/core.c): 0 stops the single-shot timer; a negative timeout or
 *   one more than 2^50 ns ahead becomes NOW() + MILLISECS(100); a past deadline fires at
 *   once. Always 0.
 * - `common_vcpu_op` (xen/common/domain.c): set/stop_singleshot_timer for the calling vCPU
 *   only (−EINVAL), −EFAULT unreadable, a deadline before NOW() sends VIRQ_TIMER at once;
 *   VCPU_SSHOTTMR_future is ignored since Xen 4.18 (commit 19c6cbd909 "xen/vcpu: ignore
 *   VCPU_SSHOTTMR_future"; vcpu.h: "can be ignored by the hypervisor"). set_periodic_timer:
 *   −EFAULT unreadable, a period under MILLISECS(1) or over STIME_DELTA_MAX (~0ULL >> 2)
 *   −EINVAL, any vCPU of the domain; `vcpu_periodic_timer_work` sends VIRQ_TIMER at once
 *   when a period has passed since the last periodic event, then one every period.
 * - `do_vcpu_op`: a vCPU the domain lacks −ENOENT.
 * - xen/common/event_2l.c `evtchn_2l_set_pending`: the pending bit; if the port is not
 *   masked, the selector bit (port / bits per word) and evtchn_upcall_pending; no upcall
 *   while the vCPU's evtchn_upcall_mask is set. SCHEDOP_poll wakes when a polled port is
 *   pending.
 *
 * Moving vCPU 0's vcpu_info with VCPUOP_register_vcpu_info (events and time follow it) is
 * in `vcpu/register-vcpu-info`, which needs the guest's frames.
 */
import {
  Errno,
  STIME_DELTA_MAX,
  VCPU_INFO,
  VCPU_SSHOTTMR_FUTURE,
  VcpuOp,
  Virq,
  type StructRef,
} from "@hvkit/core";
import { EventChannels } from "../../event-channels.js";
import { agentTest } from "../agent-test.js";
import { GuestVcpus } from "../guest-vcpus.js";
import { readWallClock } from "./wall-clock.js";

const US = 1000n;
const MS = 1_000_000n;
/** How far a wake-up may trail its deadline: the guest's own instructions after waking. */
const SLACK = 20n * US;

/** `t` in [from, from + slack). */
function inWindow(t: bigint, from: bigint, slack: bigint): boolean {
  return t >= from && t - from < slack;
}

/** time/ops. */
export const timeOps = agentTest({
  area: "time",
  name: "ops",
  description:
    "wall clock, pvclock, single-shot/set_timer_op/periodic timers and VIRQ_TIMER delivery: success and each error path",
  requires: { modes: ["pv"] },
  boot: { vcpus: 2 },
  run(agent, check) {
    const events = new EventChannels(agent);
    const vcpus = new GuestVcpus(agent);
    const now = (): bigint => agent.systemTime();
    /** vCPU 0's vcpu_info as it is now (`time.*` is its vcpu_time_info). */
    const info = (): StructRef => agent.readStruct(VCPU_INFO, agent.vcpuInfo(0));
    const bad = agent.spec.unmappedAddress(agent);

    events.maskAll();
    const bound = events.bindVirq(Virq.timer, 0);
    check.equal("bind_virq VIRQ_TIMER", bound.rc, 0);
    const port = bound.port;
    /** The port's pending bit and vCPU 0's selector and upcall_pending, cleared. */
    const clear = (): void => {
      events.clearPending(port);
      events.clearVcpuBits(0);
    };
    /** Waits for the timer port; returns the system time it woke at. */
    const waitTimer = (): bigint => {
      events.waitFor(port);
      events.clearVcpuBits(0);
      return now();
    };
    /** Polls the timer port until `deadline`; whether it is pending. */
    const pollUntil = (deadline: bigint): boolean => events.pollUntil(port, deadline);

    // ----- clocks -----
    const wc = readWallClock(agent);
    check.equal("wallclock wc_version even", wc.version & 1, 0);
    check.equal(
      "wallclock wc_sec is the machine's boot time",
      wc.sec & 0xffffffffn,
      agent.session.machine.config.bootWallclock,
    );
    check.equal("wallclock wc_sec_hi 0", wc.secHi, 0);
    check.that("wallclock wc_nsec below 10^9", wc.nsec < 1_000_000_000, wc.nsec);

    const record = info();
    const mul = record.getNumber("time.tsc_to_system_mul");
    const shift = record.getNumber("time.tsc_shift");
    check.equal("vcpu_time_info version even", record.getNumber("time.version") & 1, 0);
    check.that("vcpu_time_info tsc_to_system_mul non-zero", mul !== 0, mul);
    check.that("vcpu_time_info tsc_shift within -32..32", shift >= -32 && shift <= 32, shift);
    let prev = now();
    let monotonic = true;
    for (let i = 0; i < 100; i++) {
      const n = now();
      monotonic &&= n >= prev;
      prev = n;
    }
    check.equal("system time from the time counter monotonic over 100 reads", monotonic, true);
    const later = now();
    check.that(
      "system time not before the record's",
      later >= info().getBigInt("time.system_time"),
      later,
    );
    const before = now();
    const rs = vcpus.runstate(0);
    const after = now();
    check.that(
      "runstate sum within the pvclock reads around it",
      rs.sum + SLACK >= before && rs.sum <= after + SLACK,
      rs.sum - before,
    );

    // A 1 ms single-shot sleep: the record is refreshed on the way back in.
    const version = info().getNumber("time.version");
    let deadline = now() + MS;
    check.equal("singleshot +1 ms", vcpus.singleshot(0, deadline), 0);
    let woke = waitTimer();
    check.that(
      "singleshot +1 ms woke at its deadline (within 20 us)",
      inWindow(woke, deadline, SLACK),
      woke - deadline,
    );
    const refreshed = info();
    const refreshedVersion = refreshed.getNumber("time.version");
    const refreshedTime = refreshed.getBigInt("time.system_time");
    check.that(
      "vcpu_time_info version advanced and even after sleeping",
      refreshedVersion > version && (refreshedVersion & 1) === 0,
      refreshedVersion - version,
    );
    check.that(
      "vcpu_time_info refreshed record not before the deadline",
      refreshedTime >= deadline,
      deadline - refreshedTime,
    );

    // ----- single-shot timers -----
    check.equal("singleshot past deadline 0", vcpus.singleshot(0, now() - 1n), 0);
    check.equal("singleshot past deadline fires at once", events.pending(port), true);
    clear();
    check.equal(
      "singleshot past deadline with VCPU_SSHOTTMR_future 0 (ignored since Xen 4.18)",
      vcpus.singleshot(0, now() - 1n, VCPU_SSHOTTMR_FUTURE),
      0,
    );
    check.equal(
      "singleshot past deadline with VCPU_SSHOTTMR_future fires at once",
      events.pending(port),
      true,
    );
    clear();
    check.equal("singleshot for another vCPU", vcpus.singleshot(1, now() + MS), -Errno.EINVAL);
    check.equal(
      "stop_singleshot for another vCPU",
      vcpus.op(VcpuOp.stop_singleshot_timer, 1),
      -Errno.EINVAL,
    );
    check.equal("singleshot for vCPU 2 (absent)", vcpus.singleshot(2, now() + MS), -Errno.ENOENT);
    check.equal(
      "singleshot unreadable argument",
      vcpus.op(VcpuOp.set_singleshot_timer, 0, agent.handle(bad)),
      -Errno.EFAULT,
    );
    check.equal(
      "singleshot +1 ms then stop_singleshot",
      vcpus.singleshot(0, now() + MS) | vcpus.op(VcpuOp.stop_singleshot_timer, 0),
      0,
    );
    check.equal("stop_singleshot: no event within 3 ms", pollUntil(now() + 3n * MS), false);

    // ----- set_timer_op -----
    deadline = now() + 2n * MS;
    check.equal("set_timer_op +2 ms", events.setTimer(deadline), 0);
    woke = waitTimer();
    check.that(
      "set_timer_op +2 ms woke at its deadline (within 20 us)",
      inWindow(woke, deadline, SLACK),
      woke - deadline,
    );
    check.equal("set_timer_op past deadline", events.setTimer(now() - 1n), 0);
    check.equal("set_timer_op past deadline fires at once", events.pending(port), true);
    clear();
    check.equal(
      "set_timer_op then 0 (cancel)",
      events.setTimer(now() + MS) | events.setTimer(0n),
      0,
    );
    check.equal("set_timer_op cancelled: no event within 3 ms", pollUntil(now() + 3n * MS), false);
    // Absurd timeouts (a guest's wrapped jiffies): 100 ms from now instead.
    let start = now();
    check.equal("set_timer_op negative timeout", events.setTimer(-1n), 0);
    check.equal("set_timer_op negative: no event within 50 ms", pollUntil(start + 50n * MS), false);
    woke = waitTimer();
    check.that(
      "set_timer_op negative fires 100 ms later",
      inWindow(woke, start + 100n * MS, 50n * US),
      woke - start,
    );
    start = now();
    check.equal("set_timer_op 2^51 ns ahead", events.setTimer(start + (1n << 51n)), 0);
    woke = waitTimer();
    check.that(
      "set_timer_op 2^51 ns ahead fires 100 ms later",
      inWindow(woke, start + 100n * MS, 50n * US),
      woke - start,
    );

    // ----- periodic timers -----
    check.equal("periodic 999999 ns (below 1 ms)", vcpus.periodic(0, MS - 1n), -Errno.EINVAL);
    check.equal(
      "periodic above STIME_DELTA_MAX",
      vcpus.periodic(0, STIME_DELTA_MAX + 1n),
      -Errno.EINVAL,
    );
    check.equal(
      "periodic unreadable argument",
      vcpus.op(VcpuOp.set_periodic_timer, 0, agent.handle(bad)),
      -Errno.EFAULT,
    );
    check.equal("periodic for vCPU 2 (absent)", vcpus.periodic(2, MS), -Errno.ENOENT);
    check.equal("periodic for another vCPU", vcpus.periodic(1, 5n * MS), 0);
    check.equal("stop_periodic for another vCPU", vcpus.op(VcpuOp.stop_periodic_timer, 1), 0);
    start = now();
    check.equal("periodic 1 ms", vcpus.periodic(0, MS), 0);
    const tick = [waitTimer(), waitTimer(), waitTimer()];
    check.that("periodic first tick at once", tick[0] - start < SLACK, tick[0] - start);
    check.that(
      "periodic ticks 1 ms apart",
      inWindow(tick[2] - tick[1] + SLACK / 2n, MS, SLACK),
      tick[2] - tick[1],
    );
    check.equal("stop_periodic", vcpus.op(VcpuOp.stop_periodic_timer, 0), 0);
    clear();
    check.equal("stop_periodic: no tick within 3 ms", pollUntil(now() + 3n * MS), false);

    // ----- delivery: port unmasked, upcalls masked: Xen's bits without an upcall -----
    const upcalls = agent.vcpu(0).upcalls();
    events.setUpcallMask(0, 1);
    clear();
    events.clearMask(port);
    vcpus.singleshot(0, now() + MS);
    pollUntil(0n);

    check.equal("VIRQ_TIMER sets the port's pending bit", events.pending(port), true);
    check.equal(
      "VIRQ_TIMER sets the selector bit",
      (events.selector(0) & events.selectorBit(port)) !== 0n,
      true,
    );
    check.equal("VIRQ_TIMER sets evtchn_upcall_pending", events.upcallPending(0), 1);
    clear();
    events.mask(port);
    vcpus.singleshot(0, now() + MS);
    pollUntil(0n);

    check.equal("VIRQ_TIMER on a masked port: pending bit", events.pending(port), true);
    check.equal(
      "VIRQ_TIMER on a masked port: no selector bit",
      (events.selector(0) & events.selectorBit(port)) !== 0n,
      false,
    );
    check.equal("VIRQ_TIMER on a masked port: no upcall_pending", events.upcallPending(0), 0);
    check.equal("no upcall while evtchn_upcall_mask is set", agent.vcpu(0).upcalls(), upcalls);
    clear();
  },
});
