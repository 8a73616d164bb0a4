/** A guest reporting its own crash (SHUTDOWN_crash) is crashed, and the hypervisor says so. */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** boot/exit-crash. */
export const exitCrash = guestBootTest({
  area: "boot",
  name: "exit-crash",
  description:
    "SCHEDOP_shutdown(SHUTDOWN_crash) shuts the domain down with reason crash and logs it",
  guest: "exit-crash",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Crash,
  hypervisorMessage: /domain 0 crashed/,
});
