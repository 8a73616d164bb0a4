/**
 * The shape shared by tests that boot one of our own compiled guests (guest set
 * `hvkit-c`: C and assembly built per arch with that arch's gcc, `conformance/guests/<arch>`)
 * and check what it printed and how it ended: one declaration per behaviour, so each test
 * file stays a few lines long. They complement the tests written once for every arch
 * (through the guest agent) with code a real compiler emitted.
 *
 * @module
 */
import { ShutdownReason } from "@hvkit/core";
import { COMPILED_GUEST_SET } from "../../guest-images.js";
import {
  ConformanceFailure,
  expectEqual,
  success,
  type ConformanceTest,
  type GuestRole,
  type Requirements,
} from "../../conformance-test.js";

/** What a guest-boot test expects. */
export interface GuestBootExpectation {
  /** Area (folder). */
  readonly area: string;
  /** Test name. */
  readonly name: string;
  /** The behaviour checked. */
  readonly description: string;
  /** Guest name: `conformance/guests/<arch>/bin/<guest>.elf`. */
  readonly guest: string;
  /**
   * Requirements beyond our own guest set, the roles always named: the cell's role decides
   * how the guest boots, and a guest that prints through console_io (every rt.c guest) can
   * only pass as dom0, since Xen's default XSM policy keeps console_io for the control
   * domain; a guest written for a domU prints through its PV console ring instead.
   */
  readonly requires: Requirements & { readonly roles: readonly GuestRole[] };
  /**
   * What the console output must be: `"expected"` for the guest's committed
   * `expected/<guest>.txt`, or a pattern it must match.
   */
  readonly console: "expected" | RegExp;
  /** How the guest's domain must shut down. */
  readonly shutdown: ShutdownReason;
  /** The SCHEDOP_shutdown_code, when the guest sets one. */
  readonly shutdownCode?: number;
  /**
   * A pattern one hypervisor message must match (e.g. the crash report), or `"expected"`
   * where each arch words it its own way: the pattern (a regular expression, one line) in
   * the guest's committed `expected/<guest>.hypervisor.txt`.
   */
  readonly hypervisorMessage?: RegExp | "expected";
  /** Kernel command line. */
  readonly cmdline?: string;
  /** Instruction budget (default 50 million). */
  readonly maxInstructions?: number;
  /** vCPUs of the domain (default 1). */
  readonly vcpus?: number;
  /** In a domU cell: bytes typed at the guest's PV console before it starts. */
  readonly consoleInput?: string;
}

/** Makes a test that boots `expect.guest` and checks its console and shutdown. */
export function guestBootTest(expect: GuestBootExpectation): ConformanceTest {
  return {
    area: expect.area,
    name: expect.name,
    description: expect.description,
    requires: {
      guests: [COMPILED_GUEST_SET],
      compiledGuests: [expect.guest],
      ...expect.requires,
    },
    run(ctx) {
      const run = ctx.boot(ctx.guestImage(expect.guest), {
        cmdline: expect.cmdline ?? "",
        maxInstructions: expect.maxInstructions ?? 50_000_000,
        ...(expect.vcpus !== undefined ? { vcpus: expect.vcpus } : {}),
        ...(expect.consoleInput !== undefined
          ? { consoleInput: new TextEncoder().encode(expect.consoleInput) }
          : {}),
      });
      for (const line of run.hypervisorMessages) ctx.log(`(hvkit) ${line}`);
      if (run.end !== "all-shutdown") {
        throw new ConformanceFailure(
          `expected the domain to shut down (${ShutdownReason[expect.shutdown]}), but the run ended with ` +
            `${run.end} after ${run.instructions} instructions; console: ${JSON.stringify(run.console.slice(-200))}`,
        );
      }
      if (expect.console === "expected") {
        expectEqual("console output", run.console, ctx.guestExpectedOutput(expect.guest));
      } else if (!expect.console.test(run.console)) {
        throw new ConformanceFailure(
          `console output ${JSON.stringify(run.console)} does not match ${expect.console}`,
        );
      }
      expectEqual(
        "shutdown reason",
        run.shutdownReason === null ? "none" : ShutdownReason[run.shutdownReason],
        ShutdownReason[expect.shutdown],
      );
      if (expect.shutdownCode !== undefined)
        expectEqual("shutdown code", run.shutdownCode, expect.shutdownCode);
      const message =
        expect.hypervisorMessage === "expected"
          ? new RegExp(ctx.guestExpectedOutput(`${expect.guest}.hypervisor`).trim())
          : expect.hypervisorMessage;
      if (message && !run.hypervisorMessages.some((l) => message.test(l))) {
        throw new ConformanceFailure(`no hypervisor message matches ${message}`);
      }
      return success(
        `${run.instructions} instructions, shut down with ${ShutdownReason[expect.shutdown]}`,
      );
    },
  };
}
