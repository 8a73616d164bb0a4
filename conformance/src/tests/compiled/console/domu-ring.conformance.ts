/**
 * A domU's PV console and xenstore rings under the built-in dom0: the guest (booted as
 * domain 1, no SIF_PRIVILEGED/SIF_INITDOMAIN) prints only through its console ring with
 * event-channel notifies, reads its domid and name from the home the toolstack wrote,
 * writes and reads back a key, sees its watch fire (initial fire and on change, relative
 * path), gets ENOENT and EACCES as xenstored's error strings, reads the line typed at its
 * console from the in ring, waits for the daemon to drain its output and powers off.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** console/domu-ring. */
export const consoleDomuRing = guestBootTest({
  area: "console",
  name: "domu-ring",
  description:
    "a domU's console ring (out and in) served by the console daemon, its store ring by xenstored, under the built-in dom0",
  guest: "console-ring",
  requires: { modes: ["pv"], roles: ["domU"] },
  consoleInput: "hello hvkit\n",
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
