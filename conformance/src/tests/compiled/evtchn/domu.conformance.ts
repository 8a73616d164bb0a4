/**
 * The event-channel and grant-table answers only an unprivileged domain gets, from a
 * real PV domU under the built-in dom0 (printing through its PV console ring): −EPERM
 * for alloc_unbound, status and reset on dom0 (XSM_TARGET in the dummy policy), the
 * port checked before XSM, −EBUSY for global VIRQs (the hardware domain handles them),
 * per-vCPU and per-domain VIRQs allowed, its store port bound to dom0 by xenstored, and
 * GNTST_permission_denied for setup_table/query_size on dom0. Each result is checked
 * by the guest against Xen; the expected output is the check list.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** evtchn/domu. */
export const evtchnDomu = guestBootTest({
  area: "evtchn",
  name: "domu",
  description:
    "an unprivileged domU gets -EPERM, -EBUSY and GNTST_permission_denied where Xen's dummy XSM policy says so, checked by the guest",
  guest: "evtchn-domu",
  requires: { modes: ["pv"], roles: ["domU"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
