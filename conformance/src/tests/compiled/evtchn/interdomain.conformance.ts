/**
 * Event channels and grant tables between two domains, from a real PV dom0 acting as a
 * toolstack on a domain it creates: alloc_unbound and status in the other domain
 * (XSM_TARGET), a dom0 ↔ domU interdomain channel, EVTCHNOP_reset of another domain
 * (−EINVAL unless the toolstack has it paused; a new domain starts paused by its
 * controller), the peer left unbound by reset and by destroydomain (evtchn_destroy),
 * setup_table/query_size of the other domain, and map/copy/transfer refused with
 * GNTST_general_error when its table grants dom0 nothing. Each result is checked by the
 * guest against Xen; the expected output is the check list.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** evtchn/interdomain. */
export const evtchnInterdomain = guestBootTest({
  area: "evtchn",
  name: "interdomain",
  description:
    "dom0 binds, resets and outlives channels into a domain it creates, and sizes its grant table, checked by the guest",
  guest: "evtchn-interdomain",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
