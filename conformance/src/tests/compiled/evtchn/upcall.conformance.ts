/**
 * Event channels, 2-level ABI, from a real PV guest: alloc_unbound and a loopback
 * bind_interdomain, bind_ipi, status of each state, send on masked and unmasked ports
 * (pending, selector and upcall_pending bits as the guest reads them), the upcall raised
 * by EVTCHNOP_unmask and by a send, SCHEDOP_block returning at once into the upcall when
 * an event is pending, SCHEDOP_poll (pending port, virtual-time timeout, −EINVAL for 129
 * ports or a bad port), close leaving the peer unbound, bind_virq, reset, and the
 * documented errors (−EINVAL, −EEXIST, −ENOENT, −EFAULT, −ESRCH).
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** evtchn/upcall. */
export const evtchnUpcall = guestBootTest({
  area: "evtchn",
  name: "upcall",
  description:
    "a guest binds loopback and IPI ports, sees Xen's pending/selector/upcall bits, takes upcalls on unmask, send and SCHEDOP_block, polls with a timeout",
  guest: "evtchn-upcall",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
