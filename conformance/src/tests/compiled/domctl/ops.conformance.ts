/**
 * domctl and sysctl from dom0 acting as a toolstack, checked by the guest itself
 * (domctl-ops: one "ok"/"FAIL" line per check, the reasons cited in its source):
 * −EFAULT, −EACCES for interface versions 0x16 and 0x18, −ENOSYS, and −ESRCH for every
 * command on a domain that does not exist; createdomain (id allocated or requested,
 * −EEXIST, the −EINVAL configs, the new domain paused and empty), destroydomain,
 * pause/unpause counting, max_mem (and its 2^32 − 1 cap), max_vcpus, address size,
 * setdomainhandle, setdebugging (XEN_DOMINF_debugged), the shadow_op log-dirty stubs,
 * getmemlist, set/getvcpucontext (a context loaded into a vCPU of the new domain and read
 * back; −EINVAL, −ENODATA, −EFAULT), and sysctl physinfo / getdomaininfolist.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** domctl/ops. */
export const domctlOps = guestBootTest({
  area: "domctl",
  name: "ops",
  description:
    "each domctl/sysctl command of a toolstack: success and each error path, from a real dom0",
  guest: "domctl-ops",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
