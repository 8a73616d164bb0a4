/**
 * Every memory_op sub-op a 64-bit PV guest can reach, checked by the guest itself
 * (mem-ops: one "ok"/"FAIL" line per check, the reasons cited in its source):
 * current/maximum_reservation and maximum_ram_page with their ESRCH/EFAULT/EINVAL paths,
 * memory_map (ENOSYS without a map, EFAULT), increase/decrease_reservation and
 * populate_physmap (order 0 and 1, the order-19 limit, bad arrays, an element that faults
 * partway, a partial count at max_pages set by domctl max_mem), exchange (success, the
 * sanity checks, EPERM, the XSA-212 range checks from nr_exchanged, a failing second
 * chunk), add_to_physmap's errors for a PV domain, and the guest's p2m against the M2P
 * after each round of ballooning.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** memory/ops. */
export const memoryOps = guestBootTest({
  area: "memory",
  name: "ops",
  description:
    "each memory_op sub-op's success and error paths, and the p2m/M2P kept consistent while ballooning",
  guest: "mem-ops",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["frame-mapping", "m2p"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
