/**
 * Debian's stock kernel through the Linux adapter, as `hvkit conformance --guest linux`
 * runs it: the packages are obtained by name through apt (into hvkit's cache, outside the
 * repository), the initramfs is built in code and the kernel boots as a domU and as dom0.
 * Skips, saying why, where apt or the packages cannot be had. Both boots must reach every
 * milestone (banner, hvc0, /init, /init's line, the halt) and power off.
 */
import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { container } from "tsyringe";
import { X86_64PvPlugin } from "@hvkit/arch-x86_64";
import { ShutdownReason } from "@hvkit/core";
import { INIT_MARKER, LINUX_MILESTONES, linuxAdapter } from "@hvkit/guests";
import type { GuestRun } from "@hvkit/runner";
import { judgeBoot } from "./guest-adapters.js";
import { runSuite } from "./runner.js";
import { CONFORMANCE_TESTS } from "./tests/index.js";

function ran(console: string, shutdownReason: ShutdownReason | null): GuestRun {
  return {
    end: shutdownReason === null ? "budget-exhausted" : "all-shutdown",
    instructions: 1000,
    console,
    hypervisorMessages: [],
    domid: 1,
    shutdownReason,
    shutdownCode: null,
    shutdownCause: null,
  } as GuestRun;
}

const BOOTED = [
  "Linux version 6.1.0-50-amd64 (debian-kernel@lists.debian.org)",
  "printk: console [hvc0] enabled",
  "Run /init as init process",
  `${INIT_MARKER} (Linux 6.1.0-50-amd64)`,
  "reboot: System halted",
].join("\n");

describe("judging a Linux boot", () => {
  it("is SUCCESS only with every milestone, and otherwise names the first one missed", () => {
    expect(judgeBoot("linux", LINUX_MILESTONES, ran(BOOTED, ShutdownReason.Poweroff)).result).toBe(
      "SUCCESS",
    );
    const stopped = BOOTED.split("\n").slice(0, 2).join("\n") + "\nx86/fpu: Supporting XSAVE";
    expect(() => judgeBoot("linux", LINUX_MILESTONES, ran(stopped, null))).toThrow(
      /^milestone "kernel runs \/init" \(.*\) not reached after "console on hvc0"; the run ended budget-exhausted/,
    );
    // Every line printed but the domain crashed: not a clean boot.
    expect(() => judgeBoot("linux", LINUX_MILESTONES, ran(BOOTED, ShutdownReason.Crash))).toThrow(
      /^the domain crashed/,
    );
  });
});

describe("Debian's linux-image-amd64 with a busybox initramfs", () => {
  it("boots as a domU and as dom0 to /init, which powers off", async (ctx) => {
    const report = await runSuite({
      arches: [new X86_64PvPlugin()],
      tests: CONFORMANCE_TESTS,
      adapters: [linuxAdapter],
      container,
      selection: { guests: ["linux"], modes: ["pv"] },
    });
    const cells = report.entries.filter((e) => e.result !== "UNSUPPORTED");
    expect(cells.map((e) => e.role).sort()).toEqual(["dom0", "domU"]);
    const skipped = cells.find((e) => e.result === "SKIP");
    if (skipped !== undefined) ctx.skip(`Debian's packages cannot be had here: ${skipped.message}`);
    for (const e of cells) {
      const verdict = `${e.id}: ${e.result} ${e.message}`;
      expect(e.result, verdict).toBe("SUCCESS");
      expect(e.message, verdict).toMatch(/reached "kernel banner", .*"power off"/);
    }
  }, 1_800_000);
});
