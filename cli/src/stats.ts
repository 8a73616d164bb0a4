/**
 * `hvkit run --stats` and `hvkit create --stats`: a summary of the run on stderr at its
 * end, each line prefixed "(hvkit)": instructions, host (wall) time and MIPS; vCPU exits by
 * cause; and hypercalls counted per call and per sub-operation, with their failures per
 * errno. The counts come from the core's `HypercallObserver` and from the vCPUs' exits;
 * the wall time is the command's, measured outside the model, which stays on virtual time.
 *
 * @module
 */
import {
  VcpuExitKind,
  type ArchPlugin,
  type HypercallArgs,
  type HypercallObserver,
  type Vcpu,
} from "@hvkit/core";
import { hypercallErrno, hypercallName, hypercallSubOp } from "./hypercall-decoder.js";
import { archPluginWithRun } from "./trace.js";

/** Calls of one hypercall or sub-operation and their failures by errno name. */
interface Tally {
  calls: number;
  failed: number;
  readonly errors: Map<string, number>;
}

/** A hypercall's tally and its sub-operations'. */
interface HypercallTally extends Tally {
  readonly subOps: Map<string, Tally>;
}

const tally = (): Tally => ({ calls: 0, failed: 0, errors: new Map() });

function count(t: Tally, errno: string | null): void {
  t.calls++;
  if (errno === null) return;
  t.failed++;
  t.errors.set(errno, (t.errors.get(errno) ?? 0) + 1);
}

/** The exit causes in the order the summary lists them, with the names it uses. */
const EXIT_CAUSES: readonly [VcpuExitKind, string][] = [
  [VcpuExitKind.Hypercall, "hypercall"],
  [VcpuExitKind.Idle, "idle"],
  [VcpuExitKind.Fatal, "fatal"],
  [VcpuExitKind.BudgetExhausted, "end of slice"],
];

/**
 * Collects a run's statistics: bind it as a `HYPERCALL_OBSERVERS` entry and run the
 * arch plugin {@link RunStatistics.countingExits} returns, then print
 * {@link RunStatistics.summary}.
 */
export class RunStatistics implements HypercallObserver {
  private readonly hypercalls = new Map<string, HypercallTally>();
  private readonly exits = new Map<VcpuExitKind, number>();

  /** Counts the call under its name and sub-operation, a failure under its errno. */
  hypercall(
    vcpu: Vcpu,
    nr: number,
    args: HypercallArgs,
    result: number | bigint,
    _depth: number,
  ): void {
    const name = hypercallName(vcpu.machine, nr);
    let op = this.hypercalls.get(name);
    if (op === undefined) {
      op = { ...tally(), subOps: new Map() };
      this.hypercalls.set(name, op);
    }
    const errno = hypercallErrno(result);
    count(op, errno);
    const subOp = hypercallSubOp(vcpu, nr, args);
    if (subOp === null) return;
    let sub = op.subOps.get(subOp);
    if (sub === undefined) {
      sub = tally();
      op.subOps.set(subOp, sub);
    }
    count(sub, errno);
  }

  /** `plugin` with its vCPUs' exits counted by cause. */
  countingExits(plugin: ArchPlugin): ArchPlugin {
    return archPluginWithRun(plugin, (inner) => (budget) => {
      const exit = inner.run(budget);
      this.exits.set(exit.kind, (this.exits.get(exit.kind) ?? 0) + 1);
      return exit;
    });
  }

  /**
   * The summary lines (without prefix) for a run of `instructions` guest instructions
   * that took `wallMs` milliseconds of host time, in a process whose resident set peaked
   * at `peakRssKiB` (getrusage's ru_maxrss): the totals, the exits, then a table of the
   * hypercalls, most called first, each followed by its sub-operations.
   */
  summary(instructions: number, wallMs: number, peakRssKiB: number): string[] {
    const seconds = wallMs / 1000;
    const mips = seconds > 0 ? (instructions / seconds / 1e6).toFixed(2) : "-";
    const lines = [
      `${instructions} instructions in ${seconds.toFixed(3)} s of wall time (${mips} MIPS), ` +
        `peak RSS ${(peakRssKiB / 1024).toFixed(1)} MiB`,
      `vCPU exits: ${EXIT_CAUSES.map(([k, name]) => `${name} ${this.exits.get(k) ?? 0}`).join(", ")}`,
    ];
    const ops = byCalls(this.hypercalls);
    const total = tally();
    for (const [, op] of ops) {
      total.calls += op.calls;
      total.failed += op.failed;
      for (const [e, n] of op.errors) total.errors.set(e, (total.errors.get(e) ?? 0) + n);
    }
    const rows: [string, Tally][] = [];
    for (const [name, op] of ops) {
      rows.push([name, op]);
      for (const [sub, t] of byCalls(op.subOps)) rows.push([`  ${sub}`, t]);
    }
    rows.push(["total", total]);
    const width = Math.max(...rows.map(([name]) => name.length), "hypercall / sub-op".length);
    const callsWidth = Math.max(5, `${total.calls}`.length);
    const row = (name: string, calls: string, errors: string) =>
      `${name.padEnd(width)}  ${calls.padStart(callsWidth)}  ${errors}`.trimEnd();
    lines.push(row("hypercall / sub-op", "calls", "failed (by errno)"));
    for (const [name, t] of rows) {
      const errors = byCalls(t.errors).map(([e, n]) => `${e} ${n}`);
      lines.push(row(name, `${t.calls}`, errors.join(", ")));
    }
    return lines;
  }
}

/**
 * Entries most counted first, then by name (so a summary is the same run to run); a count
 * is a number or a {@link Tally}'s calls.
 */
export function byCalls<T extends number | Tally>(map: ReadonlyMap<string, T>): [string, T][] {
  const n = (v: T) => (typeof v === "number" ? v : v.calls);
  return [...map].sort(([a, x], [b, y]) => n(y) - n(x) || (a < b ? -1 : a > b ? 1 : 0));
}
