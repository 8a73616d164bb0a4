/** SCHEDOP_shutdown with SHUTDOWN_reboot ends the domain with that reason. */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** boot/exit-reboot. */
export const exitReboot = guestBootTest({
  area: "boot",
  name: "exit-reboot",
  description: "SCHEDOP_shutdown(SHUTDOWN_reboot) shuts the domain down with reason reboot",
  guest: "exit-reboot",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Reboot,
});
