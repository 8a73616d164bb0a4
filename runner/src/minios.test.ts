/**
 * Mini-OS (the Xen project's minimal PV kernel, built with its default configuration) as
 * a domU under the built-in dom0, when an image is given: set HVKIT_MINIOS_IMAGE to the
 * path of a `mini-os` ELF built for x86_64. Skipped otherwise (no image ships with hvkit).
 *
 * With its default configuration (no test app, no libc) Mini-OS initialises memory,
 * timers, its console, grant tables, its scheduler and xenbus, starts its xenstore and
 * shutdown threads, calls the weak `app_main` in kernel.c ("dummy main") and runs its idle
 * thread, which blocks the domain until the next timer (SCHEDOP_block with
 * set_timer_op). Its shutdown thread watches `control/shutdown`: `xl shutdown` makes it
 * acknowledge the request and power off.
 *
 * HVKIT_MINIOS_TEST_IMAGE may name a second build, with its test app (`make CONFIG_TEST=y`):
 * its xenbus tester, a thread printing the time once a second, and device frontends that
 * give up, as on Xen, when the domain has no devices.
 *
 * Run with `HVKIT_MINIOS_IMAGE=<path> npx vitest run runner/src/minios.test.ts`.
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { DomainState, ShutdownReason } from "@hvkit/core";
import { X86_64PvPlugin } from "@hvkit/arch-x86_64";
import { startGuest } from "./guest-run.js";

const imagePath = process.env.HVKIT_MINIOS_IMAGE ?? "";
const testImagePath = process.env.HVKIT_MINIOS_TEST_IMAGE ?? "";

/** Boots the image at `path` as a domU and runs it until its console shows `until`. */
function bootUntil(path: string, until: string) {
  const session = startGuest(container.createChildContainer(), {
    arch: new X86_64PvPlugin(),
    image: new Uint8Array(readFileSync(path)),
    role: "domU",
  });
  const console = () => session.result("budget-exhausted").console;
  for (let i = 0; i < 200 && !console().includes(until); i++) {
    if (session.run(1_000_000).kind !== "budget-exhausted") break;
  }
  // When it stops short, hvkit's messages say how. A trap before its console is up (its
  // arch setup runs FNINIT and LDMXCSR first) Mini-OS reports through console_io, which a
  // domU may not use: `hvkit run` the image as dom0 to read that report.
  const messages = session.result("budget-exhausted").hypervisorMessages.join("\n");
  expect(console(), messages).toContain(until);
  return { session, console };
}

// Tens of millions of instructions each: give a loaded machine time.
describe("Mini-OS as a domU", { timeout: 300_000 }, () => {
  it.skipIf(imagePath === "")(
    "boots to its idle loop with timers running, then powers off on xl shutdown",
    () => {
      const { session, console } = bootUntil(imagePath, "dummy main");
      const boot = console();
      for (const line of [
        "Xen Minimal OS",
        "MM: done",
        "Initialising timer interface",
        "Initialising console ... done.",
        "gnttab_table mapped at",
        "Initialising scheduler",
        'Thread "xenstore"',
        "xenbus initialised on irq",
        'Thread "shutdown"',
        "kernel.c: dummy main: par=0",
      ]) {
        expect(boot).toContain(line);
      }
      expect(boot).not.toMatch(/Page fault|FATAL|Do_exit/);

      // The idle loop: the domain blocks until its next timer, so virtual time moves on.
      const before = session.machine.clock.now;
      expect(session.run(2_000_000).kind).toBe("budget-exhausted");
      expect(session.machine.clock.now - before).toBeGreaterThan(10e9);
      expect(session.domain.state).toBe(DomainState.Running);
      expect(console()).toBe(boot);

      const dom0 = session.dom0!;
      dom0.requestShutdown(session.domain.id);
      expect(session.run(10_000_000).kind).toBe("all-shutdown");
      expect(console().slice(boot.length)).toBe(
        // Mini-OS's console driver sends CR LF for each newline.
        "Shutting down (poweroff)\r\nShutdown requested: 0\r\n",
      );
      expect(session.domain.shutdownReason).toBe(ShutdownReason.Poweroff);
      expect(dom0.controlAcknowledged(session.domain.id)).toBe(true);
    },
  );

  it.skipIf(testImagePath === "")(
    "its test app: xenbus tests, a timer tick each virtual second, frontends without devices",
    () => {
      const { session, console } = bootUntil(testImagePath, 'Thread "xenbus_tester" exited.');
      const out = console();
      expect(out).toContain("Test main: par=0");
      // XS_DEBUG from a domU is refused: the reply is XS_ERROR (16) "EACCES".
      expect(out).toContain("Got a reply, type 16, id 1, len 7.");
      expect(out).toContain("ls device/vif...\r\nError in xenbus ls: ENOENT");
      // No vif: the nearest existing parent, device/, is read-only for the domain.
      expect(out).toContain("Write flobble to device/vif/0/flibble...\r\nResult EACCES");
      expect(out).toContain('Abort transaction writing tx ring-ref\r\nThread "netfront" exited.');
      expect(out).not.toMatch(/Page fault|FATAL|Do_exit/);

      const start = session.machine.clock.now;
      expect(session.run(5_000_000).kind).toBe("budget-exhausted");
      const ticks = [...console().matchAll(/T\(s=(\d+) us=\d+\)/g)].map((m) => Number(m[1]));
      const elapsed = Math.floor((session.machine.clock.now - start) / 1e9);
      expect(elapsed).toBeGreaterThan(3);
      expect(ticks.length).toBeGreaterThan(elapsed);
      // msleep(1000) between ticks: each tick's second is one more than the last's.
      expect(ticks.slice(1).every((s, i) => s === ticks[i] + 1)).toBe(true);

      session.dom0!.requestShutdown(session.domain.id);
      expect(session.run(10_000_000).kind).toBe("all-shutdown");
      // The test app's own app_shutdown hands the reason to its shutdown thread.
      expect(console()).toContain("Shutting down (poweroff)");
      expect(session.domain.shutdownReason).toBe(ShutdownReason.Poweroff);
    },
  );
});
