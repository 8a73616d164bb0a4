/**
 * Exceptions delivered through the guest's trap table with Xen's bounce frame (#UD, #BP,
 * #PF with error code and cr2, #GP from a software interrupt through a DPL-0 gate). The
 * x86_64 guest also takes syscall callbacks, stack_switch and a trip to user mode and
 * back; the x86 (32-bit) guest checks the compat bounce frame and iret.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** traps/handlers. */
export const trapHandlers = guestBootTest({
  area: "traps",
  name: "handlers",
  description:
    "set_trap_table handlers receive #UD, #BP, #PF and #GP with Xen's bounce frame and return with iret",
  guest: "traps",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["trap-table"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
