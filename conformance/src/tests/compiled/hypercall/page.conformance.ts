/**
 * The hypercall page at the HYPERCALL_PAGE note's address: 32-byte stubs in Xen's layout
 * (iret's stub differs), int3 padding, and stub calls equal to direct `syscall`s.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** hypercall/page. */
export const hypercallPage = guestBootTest({
  area: "hypercall",
  name: "page",
  description: "the hypercall page has Xen's stub layout and its stubs behave as direct hypercalls",
  guest: "hypercall-page",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["hypercall-page"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
