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
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { DomainState, ShutdownReason } from "@hvkit/core";
import { X86_64PvPlugin } from "@hvkit/arch-x86_64";
import { startGuest } from "./guest-run.js";

const imagePath = process.env.HVKIT_MINIOS_IMAGE;

describe.skipIf(imagePath === undefined || imagePath === "")("Mini-OS as a domU", () => {
  it("boots to its idle loop with timers running, then powers off on xl shutdown", () => {
    const session = startGuest(container.createChildContainer(), {
      arch: new X86_64PvPlugin(),
      image: new Uint8Array(readFileSync(imagePath!)),
      role: "domU",
    });
    const console = () => session.result("budget-exhausted").console;
    for (let i = 0; i < 200 && !console().includes("dummy main"); i++) {
      expect(session.run(1_000_000).kind).toBe("budget-exhausted");
    }
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
  });
});
