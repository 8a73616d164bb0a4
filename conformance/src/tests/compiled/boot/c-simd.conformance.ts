/**
 * A freestanding C guest built with gcc -O3 for the arch's vector unit (x86_64: SSE4.2;
 * x86: SSE2 with -mfpmath=sse) runs vectorised float, double and integer loops under each
 * MXCSR rounding mode and DAZ/FTZ; its output (the bits of every result, the sticky
 * flags) must equal the same C source built the same way and run natively.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** boot/c-simd. */
export const cSimd = guestBootTest({
  area: "boot",
  name: "c-simd",
  description:
    "a gcc -O3 vectorised C guest prints the same result bits and MXCSR flags as the same code run natively",
  guest: "simd",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["sse"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
  maxInstructions: 500_000_000,
});
