/**
 * A second vCPU brought up by the guest itself: on a two-vCPU domain, vCPU 0 checks its
 * wall clock and vcpu_time_info, binds an IPI port per vCPU, fails VCPUOP_up before
 * VCPUOP_initialise (−EINVAL), is refused a context with CR3 0 and one with a
 * non-canonical rip (−EINVAL), initialises vCPU 1 (then −EEXIST), brings it up, and the
 * two ping-pong IPIs three times; vCPU 1 takes itself down, vCPU 0 sees it offline in
 * its runstate, and a multicall returns each result (a nested multicall −EINVAL).
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** vcpu/ipi-pingpong. */
export const vcpuIpiPingpong = guestBootTest({
  area: "vcpu",
  name: "ipi-pingpong",
  description:
    "vCPU 0 starts vCPU 1 with VCPUOP_initialise/up and the two exchange IPIs (bind_ipi + send + poll) in order",
  guest: "vcpu-ipi",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
  vcpus: 2,
});
