/** The smallest PV guest: prints through console_io and powers off. */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** boot/hello. */
export const hello = guestBootTest({
  area: "boot",
  name: "hello",
  description:
    "a PV kernel booted as dom0 prints through console_io and shuts down with SHUTDOWN_poweroff",
  guest: "hello",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
