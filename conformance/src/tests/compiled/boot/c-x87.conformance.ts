/**
 * A freestanding C guest whose long double arithmetic runs on the x87 unit
 * (-mfpmath=387, no SSE): sums, products, square roots, conversions, fprem/fscale, a
 * Mandelbrot set and divisions under each precision control and rounding mode; its output
 * (every result's 80-bit encoding) must equal the same C source run natively.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** boot/c-x87. */
export const cX87 = guestBootTest({
  area: "boot",
  name: "c-x87",
  description:
    "an x87 long double C guest prints the same 80-bit results as the same code run natively",
  guest: "x87",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["x87"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
  maxInstructions: 500_000_000,
});
