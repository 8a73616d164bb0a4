/**
 * An exception with no trap table registered crashes only the domain (Xen's
 * "Unhandled ... " and domain_crash), and the report names the vector and the faulting
 * instruction.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** traps/fault-no-handler. */
export const faultNoHandler = guestBootTest({
  area: "traps",
  name: "fault-no-handler",
  description:
    "#UD with no trap table crashes the domain (not hvkit), reporting the vector and the ud2",
  guest: "fault-no-handler",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Crash,
  // The vector by number (each arch names it its own way), the instruction as disassembled.
  hypervisorMessage: /Unhandled: vec 6\b[\s\S]*\bud2\b/,
});
