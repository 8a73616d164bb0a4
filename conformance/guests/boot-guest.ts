/**
 * Boots one PV image (x86_64 unless another arch plugin is given) as the initial domain
 * through the real core and X86Cpu and reports what it printed and how it ended (what
 * `hvkit run` does, for the guests' own tests). Usage:
 * node --import tsx conformance/guests/boot-guest.ts <image> [maxInstructions]
 *
 * @module
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { container } from "tsyringe";
import {
  bootInitialDomain,
  createMachine,
  RecordingConsoleSink,
  ShutdownReason,
  type ArchPlugin,
} from "@hvkit/core";
import { X86_64PvPlugin } from "@hvkit/arch-x86_64";

/** What one boot produced. */
export interface GuestRun {
  /** Console output of domain 0. */
  readonly output: string;
  /** Hypervisor messages. */
  readonly messages: readonly string[];
  /** Shutdown reason, or null if still running. */
  readonly reason: ShutdownReason | null;
  /** How the run ended. */
  readonly kind: string;
  /** Instructions retired. */
  readonly instructions: number;
}

/** Boots `image` on `plugin`'s arch and runs it for at most `maxInstructions`. */
export function bootGuest(
  image: Uint8Array,
  maxInstructions = 50_000_000,
  memoryMiB = 64,
  plugin: ArchPlugin = new X86_64PvPlugin(),
): GuestRun {
  const sink = new RecordingConsoleSink();
  const machine = createMachine(container.createChildContainer(), {
    arch: plugin,
    memoryMiB,
    console: sink,
  });
  const d = bootInitialDomain(machine, image);
  const outcome = machine.run({ maxInstructions });
  return {
    output: sink.textOf(d.id),
    messages: sink.messages,
    reason: d.shutdownReason,
    kind: outcome.kind,
    instructions: outcome.instructions,
  };
}

if (process.argv[1]?.endsWith("boot-guest.ts")) {
  const r = bootGuest(readFileSync(process.argv[2]), Number(process.argv[3] ?? 50_000_000));
  process.stdout.write(r.output);
  for (const m of r.messages) process.stderr.write(`(xen) ${m}\n`);
  process.stderr.write(
    `[${r.kind}, ${r.instructions} instructions, shutdown reason ${r.reason === null ? "none" : ShutdownReason[r.reason]}]\n`,
  );
}
