/**
 * The matrix runner: runs each entry of the matrix in its own child DI container, turns
 * whatever happens into a result of that cell, and judges the results against the
 * baseline. Nothing a test or a guest does can stop the run.
 *
 * @module
 */
import type { DependencyContainer } from "tsyringe";
import { ArchHookMissingError, HvkitError, type ArchPlugin } from "@hvkit/core";
import {
  ConformanceFailure,
  type BootRole,
  type CellContext,
  type ConformanceTest,
  type GuestRole,
} from "./conformance-test.js";
import { buildMatrix, type MatrixEntry, type MatrixSelection, type Shard } from "./matrix.js";
import { findBaselineEntry, judge, type Baseline, type Verdict } from "./baseline.js";
import type { CellResult } from "./result.js";
import { runGuest } from "@hvkit/runner";
import { Agent } from "./agent.js";
import { COMPILED_GUEST_SET, guestFilesIn, type GuestFiles } from "./guest-images.js";

/** The result of one matrix entry. */
export interface EntryReport {
  /** The entry id, `arch/mode/guest/role/area/name`. */
  readonly id: string;
  /** Arch name. */
  readonly arch: string;
  /** Guest mode. */
  readonly mode: string;
  /** Guest set. */
  readonly guest: string;
  /** Role. */
  readonly role: string;
  /** Test id, `area/name`. */
  readonly test: string;
  /** The test's description. */
  readonly description: string;
  /** The result. */
  readonly result: CellResult;
  /** What was checked, or what went wrong. */
  readonly message: string;
  /** Lines the test logged. */
  readonly log: readonly string[];
  /** How the baseline judges the result. */
  readonly verdict: Verdict;
  /** The baseline entry's reason, when one matched. */
  readonly baselineReason?: string;
  /** Host time the entry took, in milliseconds (reporting only; never fed to the model). */
  readonly durationMs: number;
}

/** Counts per result and per verdict. */
export interface SuiteSummary {
  /** Entries run. */
  readonly total: number;
  /** Entries per result. */
  readonly results: Readonly<Record<CellResult, number>>;
  /** Entries per verdict. */
  readonly verdicts: Readonly<Record<Verdict, number>>;
}

/** The outcome of a suite run. */
export interface SuiteReport {
  /** Every entry, in matrix order. */
  readonly entries: readonly EntryReport[];
  /** Counts. */
  readonly summary: SuiteSummary;
  /** The shard this run covered, if sharded. */
  readonly shard?: Shard;
  /** True when no entry has the verdict `fail`. */
  readonly ok: boolean;
}

/** What {@link runSuite} needs. */
export interface SuiteOptions {
  /** Registered arch plugins. */
  readonly arches: readonly ArchPlugin[];
  /** Registered tests. */
  readonly tests: readonly ConformanceTest[];
  /** The root container; each cell gets a child of it. */
  readonly container: DependencyContainer;
  /** What to run. */
  readonly selection?: MatrixSelection;
  /** Expected failures and flakes. */
  readonly baseline?: Baseline;
  /** Where our own test guests come from (default: `conformance/guests`). */
  readonly guestFiles?: GuestFiles;
  /** Called once with the number of entries, before the first runs. */
  readonly onStart?: (total: number) => void;
  /** Called after each entry with its report (`done` entries finished of `total`). */
  readonly onEntry?: (done: number, total: number, report: EntryReport) => void;
  /** Host clock for durations (default `performance.now`). */
  readonly clock?: () => number;
}

/** Arch features a cell offers: the plugin's `features` list, when it declares one. */
export function archFeatures(arch: ArchPlugin): ReadonlySet<string> {
  const declared = (arch as { readonly features?: readonly string[] }).features;
  return new Set(declared ?? []);
}

/** Turns an exception from a test body into the cell's result and message. */
export function classifyError(e: unknown): { result: CellResult; message: string } {
  if (e instanceof ConformanceFailure) return { result: "FAILURE", message: e.message };
  if (e instanceof ArchHookMissingError) {
    return { result: "ERROR", message: `missing arch hook ${e.hook} (${e.arch})` };
  }
  if (e instanceof Error) {
    // A typed hvkit error says what and where itself; anything else is a bug: show where.
    if (e instanceof HvkitError) return { result: "ERROR", message: `${e.name}: ${e.message}` };
    const at = e.stack?.split("\n").find((l) => l.trim().startsWith("at "));
    return { result: "ERROR", message: `${e.name}: ${e.message}${at ? ` (${at.trim()})` : ""}` };
  }
  return { result: "ERROR", message: `thrown non-error: ${String(e)}` };
}

function bootRole(role: GuestRole): BootRole {
  if (role === "dom0" || role === "domU") return role;
  throw new Error(`a guest cannot be booted in role ${role} yet (only dom0 and domU)`);
}

async function runEntry(
  entry: MatrixEntry,
  options: SuiteOptions,
  guests: GuestFiles,
): Promise<{ result: CellResult; message: string; log: string[] }> {
  const log: string[] = [];
  if (entry.unsupported !== undefined)
    return { result: "UNSUPPORTED", message: entry.unsupported, log };
  if (entry.cell.guest === COMPILED_GUEST_SET && !guests.hasArch(entry.cell.arch)) {
    const message = `no compiled test guests for ${entry.cell.arch} (conformance/guests/${entry.cell.arch}/ is built with the arch's gcc)`;
    return { result: "UNSUPPORTED", message, log };
  }
  const features = archFeatures(entry.arch);
  const lacking = (entry.test.requires.features ?? []).filter((f) => !features.has(f));
  if (lacking.length > 0)
    return { result: "SKIP", message: `needs feature ${lacking.join(", ")}`, log };
  const container = options.container.createChildContainer();
  const ctx: CellContext = {
    cell: entry.cell,
    arch: entry.arch,
    features,
    container,
    boot: (image, boot = {}) =>
      runGuest(container, {
        arch: entry.arch,
        mode: entry.cell.mode,
        role: bootRole(entry.cell.role),
        image,
        ...boot,
      }),
    bootAgent: (boot = {}) =>
      Agent.boot(container, entry.arch, { ...boot, role: bootRole(entry.cell.role) }),
    guestImage: (name) => guests.image(entry.cell.arch, name),
    guestExpectedOutput: (name) => guests.expectedOutput(entry.cell.arch, name),
    log: (line) => void log.push(line),
  };
  try {
    const outcome = await entry.test.run(ctx);
    return { result: outcome.result, message: outcome.message ?? "", log };
  } catch (e) {
    return { ...classifyError(e), log };
  } finally {
    container.dispose();
  }
}

function emptyCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

/** Counts results and verdicts of `entries`. */
export function summarize(entries: readonly EntryReport[]): SuiteSummary {
  const results = emptyCounts<CellResult>(["SUCCESS", "SKIP", "ERROR", "FAILURE", "UNSUPPORTED"]);
  const verdicts = emptyCounts<Verdict>(["pass", "fail", "expected-fail", "flaky", "fixed"]);
  for (const e of entries) {
    results[e.result]++;
    verdicts[e.verdict]++;
  }
  return { total: entries.length, results, verdicts };
}

/** Runs the selected part of the matrix, one entry after the other. */
export async function runSuite(options: SuiteOptions): Promise<SuiteReport> {
  const matrix = buildMatrix(options.arches, options.tests, options.selection);
  const guests = options.guestFiles ?? guestFilesIn();
  const clock = options.clock ?? (() => performance.now());
  const entries: EntryReport[] = [];
  options.onStart?.(matrix.length);
  for (const entry of matrix) {
    const start = clock();
    const { result, message, log } = await runEntry(entry, options, guests);
    const durationMs = clock() - start;
    const base = findBaselineEntry(options.baseline, entry.id);
    const report: EntryReport = {
      id: entry.id,
      arch: entry.cell.arch,
      mode: entry.cell.mode,
      guest: entry.cell.guest,
      role: entry.cell.role,
      test: `${entry.test.area}/${entry.test.name}`,
      description: entry.test.description,
      result,
      message,
      log,
      verdict: judge(result, base),
      ...(base ? { baselineReason: base.reason } : {}),
      durationMs,
    };
    entries.push(report);
    options.onEntry?.(entries.length, matrix.length, report);
  }
  const summary = summarize(entries);
  const shard = options.selection?.shard;
  return { entries, summary, ...(shard ? { shard } : {}), ok: summary.verdicts.fail === 0 };
}
