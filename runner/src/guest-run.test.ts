/**
 * runGuest's domU role end to end on the x86_64 PV port: the image boots as domain 1
 * under the built-in dom0, its PV console reaches the output, the run ends when it powers
 * off (dom0 follows), and two runs are identical to the instruction (virtual time only).
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { ShutdownReason } from "@hvkit/core";
import { X86_64PvPlugin } from "@hvkit/arch-x86_64";
import { runGuest } from "./guest-run.js";

const guest = (name: string) => new URL(`../../conformance/guests/x86_64/${name}`, import.meta.url);

describe("runGuest role domU", () => {
  const image = new Uint8Array(readFileSync(guest("bin/console-ring.elf")));
  const expected = readFileSync(guest("expected/console-ring.txt"), "latin1");
  const run = () =>
    runGuest(container.createChildContainer(), {
      arch: new X86_64PvPlugin(),
      image,
      role: "domU",
      consoleInput: new TextEncoder().encode("hello hvkit\n"),
    });

  it("boots the image as a domU whose console ring is the output, and ends when it powers off", () => {
    const r = run();
    expect(r.end).toBe("all-shutdown");
    expect(r.console).toBe(expected);
    expect(r.shutdownReason).toBe(ShutdownReason.Poweroff);
    expect(r.hypervisorMessages).toEqual([]);
  });

  it("is deterministic: two runs retire the same instructions and print the same bytes", () => {
    const a = run();
    const b = run();
    expect(b.instructions).toBe(a.instructions);
    expect(b.console).toBe(a.console);
  });

  it("the same image as dom0 has no console ring and says so (crash)", () => {
    const r = runGuest(container.createChildContainer(), { arch: new X86_64PvPlugin(), image });
    expect(r.shutdownReason).toBe(ShutdownReason.Crash);
    expect(r.console).toMatch(/run it with --role domu/);
  });
});
