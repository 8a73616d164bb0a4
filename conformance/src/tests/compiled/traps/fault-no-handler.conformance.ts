/**
 * An exception with no handler crashes only the domain (x86: no trap table registered,
 * Xen's "Unhandled ... " and domain_crash; PowerPC: an interrupt taken while MSR[RI] = 0,
 * abi/ppc.md), and the report names the vector and the faulting instruction.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** traps/fault-no-handler. */
export const faultNoHandler = guestBootTest({
  area: "traps",
  name: "fault-no-handler",
  description:
    "an illegal instruction with no handler (x86: ud2, no trap table) crashes the domain (not hvkit), reporting the vector and the instruction",
  guest: "fault-no-handler",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Crash,
  // The vector by number and the instruction as disassembled, as each arch words them.
  hypervisorMessage: "expected",
});
