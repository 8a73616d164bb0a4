/**
 * VCPUOP sub-ops on a 33-vCPU domain, checked by the guest itself (vcpu-ops: one
 * "ok"/"FAIL" line per check, the reasons cited in its source): −ENOENT for ids the
 * domain lacks; runstates (running, runnable, blocked, offline; times advancing); initialise
 * (−EFAULT, −EINVAL contexts, −EEXIST, −EINVAL for vCPU 32 before it has a vcpu_info);
 * register_vcpu_info (−EFAULT, −ENXIO crossing a page or misaligned, −EINVAL overflow or
 * a frame not the domain's, −EACCES a page table, the new area's contents, −EBUSY the
 * second time); up/is_up/down of another vCPU (it stops and resumes), vCPU 0 taking
 * itself down, and the last vCPU's down powering the domain off.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** vcpu/ops. */
export const vcpuOps = guestBootTest({
  area: "vcpu",
  name: "ops",
  description:
    "VCPUOP initialise/up/down/is_up/get_runstate_info/register_vcpu_info: success and each error path",
  guest: "vcpu-ops",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
  vcpus: 33,
});
