/**
 * The shape of a test written once for every arch: it boots the cell's guest agent and
 * drives it, checking each answer against Xen as a list of named checks (as the C test
 * guests print "ok …" lines). Every check runs even after one fails, so a porter sees the
 * whole list of what differs; the cell is a FAILURE naming each failed check (also when
 * the body then cannot go on, e.g. the guest died of what a check caught).
 *
 * @module
 */
import { ShutdownReason } from "@hvkit/core";
import type { GuestRun } from "@hvkit/runner";
import type { Agent, AgentBootOptions } from "../agent.js";
import {
  ConformanceFailure,
  success,
  type CellContext,
  type ConformanceTest,
  type Requirements,
  type TestOutcome,
} from "../conformance-test.js";

/** A value a check compares. */
export type Checked = bigint | number | string | boolean | null;

/** The checks of one test run. */
export class Checks {
  /** How many checks ran. */
  count = 0;
  /** The failed ones, one line each. */
  readonly failures: string[] = [];

  /**
   * Checks `got` equals `want`; numbers and bigints compare by value (a hypercall's
   * bigint result against a number is fine).
   */
  equal(what: string, got: Checked, want: Checked): void {
    this.count++;
    if (!same(got, want)) this.failures.push(`${what}: got ${show(got)}, want ${show(want)}`);
  }

  /**
   * Checks that `run` ended with every domain shut down and the guest's domain with
   * `reason` (`what` prefixes both checks' names).
   */
  shutdown(run: GuestRun, reason: keyof typeof ShutdownReason, what = ""): void {
    this.equal(`${what}the run ends`, run.end, "all-shutdown");
    const got = run.shutdownReason === null ? "none" : ShutdownReason[run.shutdownReason];
    this.equal(`${what}shutdown reason`, got, reason);
  }

  /** Checks a condition; `got` (if given) is shown when it fails. */
  that(what: string, condition: boolean, got?: Checked): void {
    this.count++;
    if (!condition) this.failures.push(got === undefined ? what : `${what}: got ${show(got)}`);
  }
}

/** `bytes` as a hex string, so checks compare (and failures show) byte strings. */
export function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function same(a: Checked, b: Checked): boolean {
  if (
    (typeof a === "bigint" || typeof a === "number") &&
    (typeof b === "bigint" || typeof b === "number")
  ) {
    return BigInt(a) === BigInt(b);
  }
  return a === b;
}

function show(v: Checked): string {
  if (typeof v === "bigint") return v < 0n || v < 1024n ? String(v) : `0x${v.toString(16)}`;
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}

/** Boot options of an agent test (the role comes from the cell). */
export type AgentTestBoot = Omit<AgentBootOptions, "role">;

/** What an agent test declares. */
export interface AgentTestSpec {
  /** Area (folder). */
  readonly area: string;
  /** Test name. */
  readonly name: string;
  /** The behaviour checked, as Xen defines it. */
  readonly description: string;
  /** Requirements beyond the guest set (features and roles; never arch names). */
  readonly requires?: Omit<Requirements, "arches" | "guests">;
  /**
   * How the agent's domain is built (vCPUs, memory, command line, console input), or a
   * function of the cell giving it (e.g. a vCPU count from the arch's data model).
   */
  readonly boot?: AgentTestBoot | ((ctx: CellContext) => AgentTestBoot);
  /**
   * The body: drives `agent`, records checks in `check`. Returning a {@link TestOutcome}
   * (a SKIP with its reason) overrides the checks' verdict; throwing is an ERROR (or a
   * FAILURE for a `ConformanceFailure`).
   */
  run(agent: Agent, check: Checks, ctx: CellContext): void | TestOutcome;
}

/** A conformance test that drives the cell's guest agent. */
export function agentTest(spec: AgentTestSpec): ConformanceTest {
  return {
    area: spec.area,
    name: spec.name,
    description: spec.description,
    requires: { guests: ["hvkit-test"], ...spec.requires },
    run(ctx) {
      const agent = ctx.bootAgent(typeof spec.boot === "function" ? spec.boot(ctx) : spec.boot);
      const check = new Checks();
      let outcome: void | TestOutcome;
      try {
        outcome = spec.run(agent, check, ctx);
      } catch (e) {
        // A body that cannot go on after checks already failed (the guest died of what
        // they caught) is a FAILURE naming them, not an ERROR.
        if (check.failures.length === 0 || e instanceof ConformanceFailure) throw e;
        for (const line of agent.result().hypervisorMessages) ctx.log(`(hvkit) ${line}`);
        throw new ConformanceFailure(
          `${check.failures.length} of ${check.count} checks failed: ${check.failures.join("; ")}; then ${String(e)}`,
        );
      }
      if (outcome !== undefined) return outcome;
      for (const line of agent.result().hypervisorMessages) ctx.log(`(hvkit) ${line}`);
      if (check.failures.length > 0) {
        throw new ConformanceFailure(
          `${check.failures.length} of ${check.count} checks failed: ${check.failures.join("; ")}`,
        );
      }
      return success(`${check.count} checks`);
    },
  };
}
