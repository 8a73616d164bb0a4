/**
 * Time as a PV guest sees it: the wall clock (even wc_version, the configured boot time),
 * pvclock system time from vcpu_time_info + rdtsc (monotonic, TSC-stable flag), and
 * VIRQ_TIMER from a VCPUOP single-shot timer (woken at its deadline), a past deadline
 * (pending at once, VCPU_SSHOTTMR_future ignored as current Xen), set_timer_op (and 0
 * cancelling it), a 1 ms periodic timer (under 1 ms −EINVAL; first tick at once, then
 * 1 ms apart); stop sub-ops, −ENOENT for a vCPU the domain lacks, and its runstate.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** time/timers. */
export const timeTimers = guestBootTest({
  area: "time",
  name: "timers",
  description:
    "wall clock and pvclock records read by the guest; single-shot, set_timer_op and periodic timers raise VIRQ_TIMER at their deadlines",
  guest: "time-timers",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
