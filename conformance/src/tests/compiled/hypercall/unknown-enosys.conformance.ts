/** A hypercall number no handler serves returns −ENOSYS (38) to the guest, never a fault. */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** hypercall/unknown-enosys. */
export const unknownEnosys = guestBootTest({
  area: "hypercall",
  name: "unknown-enosys",
  description: "an unknown hypercall number (60) returns -ENOSYS and the guest carries on",
  guest: "hypercall-unknown",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
