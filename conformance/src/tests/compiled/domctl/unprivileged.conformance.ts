/**
 * The privilege side of domctl, sysctl and memory_op, from an unprivileged domain (the
 * guest booted as a domU under the built-in dom0, printing through its PV console ring),
 * checked by the guest itself (domctl-domu, reasons cited in its source): −EPERM from the
 * dummy XSM policy for every domctl command (on dom0 and on itself) and every sysctl,
 * with −EFAULT, −EACCES and −ESRCH still coming first as in Xen 4.19; memory_op on another
 * domain (−EPERM queries and exchange, 0 extents for reservation ops), the domU extent
 * order limit (9), and a multicall whose entries get the same −EPERM.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** domctl/unprivileged. */
export const domctlUnprivileged = guestBootTest({
  area: "domctl",
  name: "unprivileged",
  description:
    "a domU gets -EPERM from every domctl and sysctl and from memory_op on another domain (XSM dummy policy)",
  guest: "domctl-domu",
  requires: { modes: ["pv"], roles: ["domU"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
