/**
 * Time and timers checked by the guest itself (time-ops: one "ok"/"FAIL" line per check,
 * the reasons cited in its source), on a 2-vCPU domain whose vCPU 1 stays down: the wall
 * clock and vcpu_time_info read with the version protocol, system time from rdtsc with
 * tsc_to_system_mul/shift agreeing with the runstate times (Xen's NOW()) and with timer
 * deadlines, the record refreshed (version +2n) after a sleep; VCPUOP single-shot timers
 * (past deadlines fire at once, VCPU_SSHOTTMR_future ignored as Xen ≥ 4.18, −EINVAL for
 * another vCPU, −ENOENT, −EFAULT, stop), set_timer_op (deadline, past, 0 cancels, wrapped
 * and 2^51 ns timeouts become 100 ms), periodic timers (−EINVAL below 1 ms and above
 * STIME_DELTA_MAX, first tick at once, 1 ms apart, stop), and VIRQ_TIMER's pending,
 * selector and upcall_pending bits with the port unmasked and masked; then vCPU 0's
 * vcpu_info moved by register_vcpu_info (events and the time record follow it, −EBUSY
 * the second time).
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** time/ops. */
export const timeOps = guestBootTest({
  area: "time",
  name: "ops",
  description:
    "wall clock, pvclock, single-shot/set_timer_op/periodic timers and VIRQ_TIMER delivery: success and each error path",
  guest: "time-ops",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
  vcpus: 2,
});
