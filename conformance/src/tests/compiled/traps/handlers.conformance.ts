/**
 * Exceptions delivered through the guest's trap table with Xen's bounce frame (#UD, #BP,
 * #PF with error code and cr2, #GP), syscall callbacks, stack_switch and a trip to user
 * mode and back.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** traps/handlers. */
export const trapHandlers = guestBootTest({
  area: "traps",
  name: "handlers",
  description:
    "set_trap_table handlers receive #UD, #BP, #PF and #GP with Xen's bounce frame; syscall reaches the kernel",
  guest: "traps",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
