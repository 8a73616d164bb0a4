/**
 * The matrix runner: runs each entry of the matrix in its own child DI container, turns
 * whatever happens into a result of that cell, and judges the results against the
 * baseline. Nothing a test or a guest does can stop the run.
 *
 * A cell whose arch lacks a hook it needs is ERROR with {@link EntryReport.blockedBy}
 * naming the hook, never SUCCESS: the runner hands each cell its arch plugin behind a
 * watch that notes every {@link ArchHookMissingError} its hooks throw, including those
 * something between the hook and the runner caught (a test that turns every exception
 * into a result). The summary counts, per arch, the cells each missing hook blocks.
 *
 * @module
 */
import type { DependencyContainer } from "tsyringe";
import {
  ArchHookMissingError,
  GuestAdapterHookMissingError,
  HvkitError,
  type ArchPlugin,
  type GuestAdapter,
} from "@hvkit/core";
import {
  ConformanceFailure,
  type BootRole,
  type CellContext,
  type ConformanceTest,
  type GuestRole,
} from "./conformance-test.js";
import {
  GUEST_SETS,
  buildMatrix,
  buildSelectedMatrix,
  type MatrixEntry,
  type MatrixSelection,
  type Shard,
} from "./matrix.js";
import {
  findBaselineEntry,
  judge,
  reviewBaseline,
  type Baseline,
  type BaselineReview,
  type Verdict,
} from "./baseline.js";
import type { CellResult } from "./result.js";
import { runGuest } from "@hvkit/runner";
import { Agent } from "./agent.js";
import { COMPILED_GUEST_SET, guestFilesIn, type GuestFiles } from "./guest-images.js";
import { adapterBootTest, adapterGuestSets } from "./guest-adapters.js";

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
  /**
   * Set when the cell could not run because an arch hook is missing: the first
   * {@link ArchHookMissingError} the cell met, whether it came out of the test body or was
   * caught on the way. The result is then ERROR and the message names the hook, whatever
   * the test body went on to report.
   */
  readonly blockedBy?: BlockingHook;
}

/**
 * A hook that is not implemented yet: an arch plugin's, as an {@link ArchHookMissingError}
 * names it, or a guest adapter's, as a `GuestAdapterHookMissingError` names it.
 */
export interface BlockingHook {
  /** The arch whose hook is missing; for a guest adapter's hook, the cell's arch. */
  readonly arch: string;
  /** The hook's name (a member of `ArchPlugin`, or of `GuestAdapter` when `guest` is set). */
  readonly hook: string;
  /** Set when the hook is a member of this guest adapter, not of the arch plugin. */
  readonly guest?: string;
}

/** One missing hook of one arch and the cells it blocks (see {@link EntryReport.blockedBy}). */
export interface MissingHook extends BlockingHook {
  /** How many entries of this run it blocked. */
  readonly cells: number;
}

/** Counts per result and per verdict. */
export interface SuiteSummary {
  /** Entries run. */
  readonly total: number;
  /** Entries per result. */
  readonly results: Readonly<Record<CellResult, number>>;
  /** Entries per verdict. */
  readonly verdicts: Readonly<Record<Verdict, number>>;
  /**
   * Per arch (in matrix order), each missing hook that blocked a cell and how many it
   * blocked, most blocking first. A cell counts for the first missing hook it reached, so
   * implementing one hook may reveal the next.
   */
  readonly missingHooks: readonly MissingHook[];
}

/** The outcome of a suite run. */
export interface SuiteReport {
  /** Every entry, in matrix order. */
  readonly entries: readonly EntryReport[];
  /** Counts. */
  readonly summary: SuiteSummary;
  /** The shard this run covered, if sharded. */
  readonly shard?: Shard;
  /**
   * What the run says about the baseline's entries (present when a baseline was given):
   * those to remove because their cells pass, and those that match no cell.
   */
  readonly baselineReview?: BaselineReview;
  /**
   * Set when no selected cell could run (every one is UNSUPPORTED): why, from the cells'
   * reasons. Such a run is not a pass.
   */
  readonly nothingRan?: string;
  /** True when at least one cell ran and no entry has the verdict `fail`. */
  readonly ok: boolean;
}

/** What {@link runSuite} needs. */
export interface SuiteOptions {
  /** Registered arch plugins. */
  readonly arches: readonly ArchPlugin[];
  /** Registered tests. */
  readonly tests: readonly ConformanceTest[];
  /**
   * Registered guest adapters: each adds a guest set of its name holding its boot test
   * (`guest-adapters.ts`), run by default beside the built-in sets (an `onDemand` adapter's
   * only when the selection names it).
   */
  readonly adapters?: readonly GuestAdapter[];
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

/** Arch features a cell offers: the plugin's declared `features`. */
export function archFeatures(arch: ArchPlugin): ReadonlySet<string> {
  return new Set(arch.features);
}

/**
 * `arch` as seen by one cell: an object that inherits from the plugin (so `instanceof`
 * holds), whose data members read the plugin's and whose every method calls the plugin's and
 * also hands each {@link ArchHookMissingError} it throws to `missing`, so a missing hook
 * is known even when something caught its error before it reached the runner.
 */
function watchedArch(arch: ArchPlugin, missing: (e: ArchHookMissingError) => void): ArchPlugin {
  const watched = Object.create(arch) as ArchPlugin;
  const seen = new Set<string>();
  for (let o: object | null = arch; o !== null && o !== Object.prototype;) {
    for (const key of Object.getOwnPropertyNames(o)) {
      if (key === "constructor" || seen.has(key)) continue;
      seen.add(key);
      const value = (arch as unknown as Record<string, unknown>)[key];
      if (typeof value !== "function") {
        // Own and enumerable, so that spreading the watched plugin keeps its identity.
        const get = (): unknown => (arch as unknown as Record<string, unknown>)[key];
        Object.defineProperty(watched, key, { enumerable: true, get });
        continue;
      }
      const f = value as (...args: unknown[]) => unknown;
      Object.defineProperty(watched, key, {
        enumerable: true,
        value: function (): unknown {
          try {
            // eslint-disable-next-line prefer-rest-params -- no array per call on the hypercall path
            return f.apply(arch, arguments as unknown as unknown[]);
          } catch (e) {
            if (e instanceof ArchHookMissingError) missing(e);
            throw e;
          }
        },
      });
    }
    o = Object.getPrototypeOf(o) as object | null;
  }
  return watched;
}

/** A cell's result as the runner records it. */
export interface CellOutcome {
  /** The result. */
  readonly result: CellResult;
  /** What was checked, or what went wrong. */
  readonly message: string;
  /** The missing hook that kept the cell from running (see {@link EntryReport.blockedBy}). */
  readonly blockedBy?: BlockingHook;
}

/**
 * Turns an exception from a test body into the cell's outcome; `arch` is the cell's arch
 * (what a guest adapter's missing hook is counted under).
 */
export function classifyError(e: unknown, arch = ""): CellOutcome {
  if (e instanceof ConformanceFailure) return { result: "FAILURE", message: e.message };
  if (e instanceof ArchHookMissingError) return blockedBy(e);
  if (e instanceof GuestAdapterHookMissingError) {
    return {
      result: "ERROR",
      message: `missing guest adapter hook ${e.hook} (${e.adapter})`,
      blockedBy: { arch, hook: e.hook, guest: e.adapter },
    };
  }
  if (e instanceof Error) {
    // A typed hvkit error says what and where itself; anything else is a bug: show where.
    if (e instanceof HvkitError) return { result: "ERROR", message: `${e.name}: ${e.message}` };
    const at = e.stack?.split("\n").find((l) => l.trim().startsWith("at "));
    return { result: "ERROR", message: `${e.name}: ${e.message}${at ? ` (${at.trim()})` : ""}` };
  }
  return { result: "ERROR", message: `thrown non-error: ${String(e)}` };
}

function blockedBy(e: ArchHookMissingError): CellOutcome {
  return {
    result: "ERROR",
    message: `missing arch hook ${e.hook} (${e.arch})`,
    blockedBy: { arch: e.arch, hook: e.hook },
  };
}

function bootRole(role: GuestRole): BootRole {
  if (role === "dom0" || role === "domU") return role;
  throw new Error(`a guest cannot be booted in role ${role} yet (only dom0 and domU)`);
}

/** What running one entry gave: its outcome and the lines it logged. */
interface EntryOutcome extends CellOutcome {
  readonly log: string[];
}

async function runEntry(
  entry: MatrixEntry,
  options: SuiteOptions,
  guests: GuestFiles,
): Promise<EntryOutcome> {
  const log: string[] = [];
  if (entry.unsupported !== undefined)
    return { result: "UNSUPPORTED", message: entry.unsupported, log };
  let declined: string | null;
  try {
    declined = entry.test.declines?.(entry.cell) ?? null;
  } catch (e) {
    return { ...classifyError(e, entry.cell.arch), log };
  }
  if (declined !== null) return { result: "UNSUPPORTED", message: declined, log };
  if (entry.cell.guest === COMPILED_GUEST_SET && !guests.hasArch(entry.cell.arch)) {
    const message = `no compiled test guests for ${entry.cell.arch} (conformance/guests/${entry.cell.arch}/ is built with the arch's gcc)`;
    return { result: "UNSUPPORTED", message, log };
  }
  // Features first: an arch that lacks one builds no guest for the test either, and the
  // feature is the reason to report.
  const features = archFeatures(entry.arch);
  const lacking = (entry.test.requires.features ?? []).filter((f) => !features.has(f));
  if (lacking.length > 0)
    return { result: "SKIP", message: `needs feature ${lacking.join(", ")}`, log };
  const unbuilt = (entry.test.requires.compiledGuests ?? []).filter(
    (g) => !guests.has(entry.cell.arch, g),
  );
  if (unbuilt.length > 0) {
    const message = `guest ${unbuilt.join(", ")} is not built for ${entry.cell.arch} (conformance/guests/${entry.cell.arch}/bin/)`;
    return { result: "UNSUPPORTED", message, log };
  }
  let missing: ArchHookMissingError | undefined;
  const arch = watchedArch(entry.arch, (e) => void (missing ??= e));
  const container = options.container.createChildContainer();
  const ctx: CellContext = {
    cell: entry.cell,
    arch,
    features,
    container,
    boot: (image, boot = {}) =>
      runGuest(container, {
        arch,
        mode: entry.cell.mode,
        role: bootRole(entry.cell.role),
        image,
        ...boot,
      }),
    bootAgent: (boot = {}) =>
      Agent.boot(container, arch, { ...boot, role: bootRole(entry.cell.role) }),
    guestImage: (name) => guests.image(entry.cell.arch, name),
    guestExpectedOutput: (name) => guests.expectedOutput(entry.cell.arch, name),
    log: (line) => void log.push(line),
  };
  let outcome: CellOutcome;
  try {
    const out = await entry.test.run(ctx);
    outcome = { result: out.result, message: out.message ?? "" };
  } catch (e) {
    outcome = classifyError(e, entry.cell.arch);
  } finally {
    container.dispose();
  }
  if (missing !== undefined && outcome.blockedBy === undefined) {
    // Something caught it (the test, say): the cell still could not run as written.
    log.push(`the test reported ${outcome.result}${outcome.message ? `: ${outcome.message}` : ""}`);
    outcome = blockedBy(missing);
  }
  return { ...outcome, log };
}

function emptyCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

/** Counts results, verdicts and blocking hooks of `entries`. */
export function summarize(entries: readonly EntryReport[]): SuiteSummary {
  const results = emptyCounts<CellResult>(["SUCCESS", "SKIP", "ERROR", "FAILURE", "UNSUPPORTED"]);
  const verdicts = emptyCounts<Verdict>(["pass", "fail", "expected-fail", "flaky", "fixed"]);
  const hooks = new Map<string, Map<string, MissingHook>>();
  for (const e of entries) {
    results[e.result]++;
    verdicts[e.verdict]++;
    if (e.blockedBy === undefined) continue;
    const { arch, hook, guest } = e.blockedBy;
    const perArch = hooks.get(arch) ?? new Map<string, MissingHook>();
    const key = guest === undefined ? hook : `${guest}\n${hook}`;
    const cells = (perArch.get(key)?.cells ?? 0) + 1;
    perArch.set(key, { arch, hook, ...(guest !== undefined ? { guest } : {}), cells });
    hooks.set(arch, perArch);
  }
  const missingHooks = [...hooks.values()].flatMap((perArch) =>
    [...perArch.values()].sort((a, b) => b.cells - a.cells),
  );
  return { total: entries.length, results, verdicts, missingHooks };
}

/** Why nothing ran when every entry is UNSUPPORTED (their distinct reasons), else undefined. */
function nothingRan(entries: readonly EntryReport[]): string | undefined {
  if (!entries.every((e) => e.result === "UNSUPPORTED")) return undefined;
  const reasons = [...new Set(entries.map((e) => `${e.arch}/${e.mode}: ${e.message}`))];
  const shown = reasons.slice(0, 4).join("; ") + (reasons.length > 4 ? "; …" : "");
  return `every one of the ${entries.length} selected entries is UNSUPPORTED (${shown})`;
}

/**
 * The ids of the full matrix the baseline is reviewed against: every arch, mode and role
 * with no filter or shard, over the guest sets of the default suite, of the selection and
 * of the tests loaded (so XTF cells count when XTF images were given), plus whatever this
 * run selected.
 */
function referenceIds(
  options: SuiteOptions,
  tests: readonly ConformanceTest[],
  matrix: readonly MatrixEntry[],
): string[] {
  const guests = new Set<string>([
    ...GUEST_SETS,
    ...(options.selection?.guests ?? []),
    ...tests.flatMap((t) => t.requires.guests ?? []),
  ]);
  const full = buildMatrix(options.arches, tests, { guests: [...guests] });
  return [...new Set([...full.map((e) => e.id), ...matrix.map((e) => e.id)])];
}

/**
 * Runs the selected part of the matrix, one entry after the other. Throws
 * {@link EmptySelectionError} (before running anything) when the selection leaves no entry.
 */
export async function runSuite(options: SuiteOptions): Promise<SuiteReport> {
  const adapters = options.adapters ?? [];
  const adapterSets = adapterGuestSets(adapters);
  const tests = [...options.tests, ...adapters.map(adapterBootTest)];
  const selection =
    adapters.length === 0 || options.selection?.guests !== undefined
      ? options.selection
      : {
          ...options.selection,
          guests: [...GUEST_SETS, ...adapterSets.filter((_, i) => adapters[i].onDemand !== true)],
        };
  const matrix = buildSelectedMatrix(options.arches, tests, selection);
  const guests = options.guestFiles ?? guestFilesIn();
  const clock = options.clock ?? (() => performance.now());
  const entries: EntryReport[] = [];
  options.onStart?.(matrix.length);
  for (const entry of matrix) {
    const start = clock();
    const { result, message, log, blockedBy } = await runEntry(entry, options, guests);
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
      ...(blockedBy ? { blockedBy } : {}),
    };
    entries.push(report);
    options.onEntry?.(entries.length, matrix.length, report);
  }
  const summary = summarize(entries);
  const shard = options.selection?.shard;
  const baselineReview = options.baseline
    ? reviewBaseline(
        options.baseline,
        referenceIds(options, tests, matrix),
        new Map(entries.map((e) => [e.id, e.result])),
      )
    : undefined;
  const idle = nothingRan(entries);
  return {
    entries,
    summary,
    ...(shard ? { shard } : {}),
    ...(baselineReview ? { baselineReview } : {}),
    ...(idle !== undefined ? { nothingRan: idle } : {}),
    ok: summary.verdicts.fail === 0 && idle === undefined,
  };
}
