/**
 * Guest-OS adapters in the matrix: each adapter (`GuestAdapter`, found like arch plugins)
 * is a guest set of its own, named by the adapter, holding one test, `guest/boot`. In a cell
 * the adapter declines, the test is UNSUPPORTED with the adapter's reason; in the others it
 * builds (or obtains) the adapter's image, boots it in the cell's role (the initial domain,
 * or a domU under the built-in dom0), with the ramdisk, memory and budget the image asks
 * for, and judges the boot by the adapter's milestones
 * (`GuestAdapter.milestones`; without them, by a clean power-off). An unfinished adapter's
 * stubs throw `GuestAdapterHookMissingError`, so its cells are ERROR naming the member to
 * write next; an image that cannot be had on this host (`GuestImageUnavailableError`) makes
 * the cell a SKIP with the reason.
 *
 * @module
 */
import {
  GuestImageUnavailableError,
  HvkitError,
  ShutdownReason,
  type BootMilestone,
  type GuestAdapter,
  type GuestCell,
  type GuestImageResult,
} from "@hvkit/core";
import type { GuestRun } from "@hvkit/runner";
import {
  ConformanceFailure,
  skip,
  success,
  type Cell,
  type ConformanceTest,
  type TestOutcome,
} from "./conformance-test.js";
import { GUEST_SETS } from "./matrix.js";
import { XTF_GUEST_SET } from "./xtf.js";

/** The area and name of an adapter's boot test: entry ids end `…/<adapter>/<role>/guest/boot`. */
export const ADAPTER_BOOT_TEST = { area: "guest", name: "boot" } as const;

/** A guest adapter whose name is that of a built-in guest set; the message says which. */
export class GuestSetNameError extends HvkitError {}

/**
 * The guest sets `adapters` add to the matrix (their names), checked against the built-in
 * sets: an adapter named like one is a {@link GuestSetNameError}.
 */
export function adapterGuestSets(adapters: readonly GuestAdapter[]): string[] {
  const builtIn: readonly string[] = [...GUEST_SETS, XTF_GUEST_SET];
  for (const a of adapters) {
    if (builtIn.includes(a.name)) {
      throw new GuestSetNameError(
        `guest adapter ${a.name} has the name of a built-in guest set (${builtIn.join(", ")}); rename it`,
      );
    }
  }
  return adapters.map((a) => a.name);
}

/** The last `n` characters of console output, for messages. */
function tail(text: string, n = 200): string {
  return JSON.stringify(text.length > n ? `…${text.slice(-n)}` : text);
}

function ended(run: GuestRun): string {
  const reason = run.shutdownReason === null ? "" : ` (${ShutdownReason[run.shutdownReason]})`;
  return `the run ended ${run.end}${reason} after ${run.instructions} instructions`;
}

/**
 * Judges a boot of `adapter`'s image: with `milestones`, each must be found in the console
 * after the previous one's match and the domain must not have crashed; without them
 * (undefined), the domain must power off. Returns SUCCESS saying what was reached; throws
 * {@link ConformanceFailure} saying what was not; an empty list is an error of the adapter
 * (nothing to judge by).
 */
export function judgeBoot(
  adapter: string,
  milestones: readonly BootMilestone[] | undefined,
  run: GuestRun,
): TestOutcome {
  if (run.shutdownReason === ShutdownReason.Crash) {
    const last = run.hypervisorMessages.at(-1);
    throw new ConformanceFailure(
      `the domain crashed${last ? `: ${last}` : ""}; console: ${tail(run.console)}`,
    );
  }
  if (milestones === undefined) {
    if (run.shutdownReason !== ShutdownReason.Poweroff) {
      throw new ConformanceFailure(
        `expected the domain to power off (${adapter} names no milestones), but ${ended(run)}; console: ${tail(run.console)}`,
      );
    }
    return success(`powered off after ${run.instructions} instructions`);
  }
  if (milestones.length === 0) {
    throw new HvkitError(
      `guest adapter ${adapter} names no milestones for this cell: nothing to judge its boot by`,
    );
  }
  let from = 0;
  let previous = "the start";
  for (const m of milestones) {
    const pattern = new RegExp(m.console.source, m.console.flags.replace(/[gy]/g, ""));
    const found = pattern.exec(run.console.slice(from));
    if (found === null) {
      throw new ConformanceFailure(
        `milestone "${m.name}" (${m.console}) not reached after ${previous}; ${ended(run)}; console: ${tail(run.console.slice(from))}`,
      );
    }
    from += found.index + found[0].length;
    previous = `"${m.name}"`;
  }
  return success(`reached ${milestones.map((m) => `"${m.name}"`).join(", ")}; ${ended(run)}`);
}

/** The adapter's view of `cell`, or null for a role no guest can be booted in yet. */
function guestCell({ arch, mode, role }: Cell): GuestCell | null {
  return role === "dom0" || role === "domU" ? { arch, mode, role } : null;
}

/** `guest/boot` of `adapter`: the one test of its guest set. */
export function adapterBootTest(adapter: GuestAdapter): ConformanceTest {
  return {
    ...ADAPTER_BOOT_TEST,
    description: `${adapter.name} boots in the cell's role and reaches its milestones`,
    requires: { guests: [adapter.name] },
    declines(cell) {
      const c = guestCell(cell);
      return c === null ? `a guest cannot be booted in role ${cell.role} yet` : adapter.declines(c);
    },
    async run(ctx) {
      const cell = guestCell(ctx.cell)!;
      let built: GuestImageResult;
      try {
        built = await adapter.buildImage(cell);
      } catch (e) {
        if (e instanceof GuestImageUnavailableError) return skip(e.reason);
        throw e;
      }
      const image = built instanceof Uint8Array ? { kernel: built } : built;
      const cmdline = adapter.commandLine === undefined ? "" : adapter.commandLine(cell);
      const memory =
        image.memoryMiB === undefined
          ? {}
          : cell.role === "domU"
            ? { domainMemoryMiB: image.memoryMiB }
            : { memoryMiB: image.memoryMiB };
      const run = ctx.boot(image.kernel, {
        cmdline,
        ...memory,
        ...(image.ramdisk === undefined ? {} : { ramdisk: image.ramdisk }),
        ...(image.maxInstructions === undefined ? {} : { maxInstructions: image.maxInstructions }),
      });
      for (const line of run.hypervisorMessages) ctx.log(`(hvkit) ${line}`);
      const milestones = adapter.milestones === undefined ? undefined : adapter.milestones(cell);
      return judgeBoot(adapter.name, milestones, run);
    },
  };
}
