/**
 * SCHEDOP_block and SCHEDOP_poll woken by a later event: a PV guest binds VIRQ_TIMER,
 * arms set_timer_op, blocks with nothing pending and is woken by the timer event (the
 * upcall runs before block returns); then it polls the masked timer port without a
 * timeout and is woken by the next timer event, with no upcall.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** evtchn/block-wake. */
export const evtchnBlockWake = guestBootTest({
  area: "evtchn",
  name: "block-wake",
  description:
    "SCHEDOP_block sleeps until the VIRQ_TIMER event and takes its upcall; SCHEDOP_poll on a masked port wakes on the next one",
  guest: "evtchn-block",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
