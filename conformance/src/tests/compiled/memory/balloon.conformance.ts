/**
 * Ballooning through memory_op: decrease_reservation gives frames back (M2P entries
 * invalid, reservation down), populate_physmap brings new ones at the same pseudo-physical
 * frames (M2P maps them back, contents zeroed), increase_reservation stops partway at the
 * domain's limit, exchange swaps a frame, and bad orders and sizes get Xen's errors.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** memory/balloon. */
export const memoryBalloon = guestBootTest({
  area: "memory",
  name: "balloon",
  description:
    "increase/decrease_reservation, populate_physmap and exchange keep the reservation and the M2P consistent",
  guest: "mem-balloon",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["frame-mapping", "m2p"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
