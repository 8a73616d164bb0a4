/**
 * A freestanding C guest (gcc -O2) computes checksums and primes; its output must equal
 * the same C source run natively (the golden file is that native run).
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** boot/c-guest. */
export const cGuest = guestBootTest({
  area: "boot",
  name: "c-guest",
  description:
    "a freestanding gcc-built C guest prints the same results as the same code run natively",
  guest: "compute",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
  maxInstructions: 500_000_000,
});
