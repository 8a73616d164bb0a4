/**
 * The baseline: cells known to fail (a port in progress, a known bug) and cells known to be
 * flaky. A baselined cell does not fail the suite; a baselined cell that now passes is
 * reported as "fixed" so the entry can be removed.
 *
 * File format (JSON):
 * ```json
 * { "entries": [
 *   { "id": "ia64/*", "expect": "ERROR", "reason": "port not started: hooks are stubs" },
 *   { "id": "x86_64/pv/hvkit-test/dom0/boot/hello", "flaky": true, "reason": "..." }
 * ] }
 * ```
 * `id` is a matrix entry id (`arch/mode/guest/role/area/name`) where `*` matches any run of
 * characters (including `/`); a cell follows the first entry that matches it. `expect` is
 * the worst result expected (default FAILURE: any ERROR or FAILURE is accepted; ERROR
 * accepts ERROR only).
 *
 * After a run the entries are reviewed ({@link reviewBaseline}) against the full matrix
 * (every arch, mode and role, unfiltered and unsharded), so a filtered or sharded run
 * judges them as a full one would:
 * - **fixed**: every cell of the full matrix the entry governs ran in this run and passed.
 *   For an exact id that is its one cell (whose verdict is then "fixed" too). A pattern
 *   covers a class of cells (an unfinished port) of which some may pass while others still
 *   fail, so it is fixed only when all of them ran and passed; a passing cell under a
 *   pattern that still has failing or unrun cells is an ordinary "pass". Flaky entries are
 *   never fixed (passing is what a flake sometimes does).
 * - **stale**: the entry governs no cell of the full matrix: its id matches none, or
 *   earlier entries take every cell it matches. The full matrix is that of the tests the
 *   run loaded, so keep expectations for XTF images in the baseline given with `--xtf`.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RESULT_ORDER, isPassing, type CellResult, type XtfResult } from "./result.js";

/** One baseline entry. */
export interface BaselineEntry {
  /** Entry id pattern; `*` matches any run of characters. */
  readonly id: string;
  /** The most severe result accepted (ERROR or FAILURE). */
  readonly expect?: Extract<XtfResult, "ERROR" | "FAILURE">;
  /** True when the cell may pass or fail from run to run. */
  readonly flaky?: boolean;
  /** Why the entry exists (an issue number, the missing piece). */
  readonly reason: string;
}

/** A parsed baseline. */
export interface Baseline {
  /** Its entries, first match wins. */
  readonly entries: readonly BaselineEntry[];
}

/** How the baseline judges one result. */
export type Verdict = "pass" | "fail" | "expected-fail" | "flaky" | "fixed";

/** Raised for a baseline file that does not follow the format; says where. */
export class BaselineError extends Error {
  /** @param message - what is wrong and where. */
  constructor(message: string) {
    super(message);
    this.name = "BaselineError";
  }
}

/** Parses and validates a baseline file's text; `source` names it in errors. */
export function parseBaseline(text: string, source = "baseline"): Baseline {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new BaselineError(`${source}: not JSON: ${(e as Error).message}`);
  }
  const entries = (data as { entries?: unknown })?.entries;
  if (!Array.isArray(entries))
    throw new BaselineError(`${source}: expected an object with an "entries" array`);
  return {
    entries: entries.map((e: unknown, i): BaselineEntry => {
      const where = `${source}: entries[${i}]`;
      if (typeof e !== "object" || e === null) throw new BaselineError(`${where}: not an object`);
      const { id, expect, flaky, reason } = e as Record<string, unknown>;
      if (typeof id !== "string" || id === "")
        throw new BaselineError(`${where}: "id" must be a non-empty string`);
      if (typeof reason !== "string")
        throw new BaselineError(`${where}: "reason" must be a string`);
      if (expect !== undefined && expect !== "ERROR" && expect !== "FAILURE") {
        throw new BaselineError(`${where}: "expect" must be "ERROR" or "FAILURE"`);
      }
      if (flaky !== undefined && typeof flaky !== "boolean")
        throw new BaselineError(`${where}: "flaky" must be a boolean`);
      return {
        id,
        reason,
        ...(expect ? { expect } : {}),
        ...(flaky !== undefined ? { flaky } : {}),
      };
    }),
  };
}

function idPattern(pattern: string): RegExp {
  const parts = pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${parts.join(".*")}$`);
}

/** The first baseline entry matching `id`, if any. */
export function findBaselineEntry(
  baseline: Baseline | undefined,
  id: string,
): BaselineEntry | undefined {
  return baseline?.entries.find((e) => idPattern(e.id).test(id));
}

/** Judges `result` of entry `id` against the baseline. */
export function judge(result: CellResult, entry: BaselineEntry | undefined): Verdict {
  const passing = isPassing(result);
  if (!entry) return passing ? "pass" : "fail";
  if (entry.flaky) return "flaky";
  if (passing) return entry.id.includes("*") ? "pass" : "fixed";
  const limit = RESULT_ORDER.indexOf(entry.expect ?? "FAILURE");
  return RESULT_ORDER.indexOf(result as XtfResult) <= limit ? "expected-fail" : "fail";
}

/** A baseline entry whose cells all pass, and how many they are. */
export interface FixedBaselineEntry {
  /** The entry, as the file has it. */
  readonly entry: BaselineEntry;
  /** The cells it governs, every one of which ran and passed. */
  readonly cells: number;
}

/** What a run says about a baseline's entries (see the module's rules). */
export interface BaselineReview {
  /** Entries whose cells all ran and passed: remove them. */
  readonly fixed: readonly FixedBaselineEntry[];
  /** Entries that govern no cell of the full matrix: remove or correct them. */
  readonly stale: readonly BaselineEntry[];
}

function ranAndPassed(result: CellResult | undefined): boolean {
  return result !== undefined && isPassing(result);
}

/**
 * Reviews `baseline` after a run: `reference` is every entry id of the full matrix,
 * `results` the result of each entry this run ran.
 */
export function reviewBaseline(
  baseline: Baseline,
  reference: readonly string[],
  results: ReadonlyMap<string, CellResult>,
): BaselineReview {
  const patterns = baseline.entries.map((e) => idPattern(e.id));
  const governed = baseline.entries.map((): string[] => []);
  for (const id of reference) {
    const k = patterns.findIndex((p) => p.test(id));
    if (k >= 0) governed[k].push(id);
  }
  const fixed: FixedBaselineEntry[] = [];
  const stale: BaselineEntry[] = [];
  baseline.entries.forEach((entry, k) => {
    const ids = governed[k];
    if (ids.length === 0) stale.push(entry);
    else if (!entry.flaky && ids.every((id) => ranAndPassed(results.get(id))))
      fixed.push({ entry, cells: ids.length });
  });
  return { fixed, stale };
}

/**
 * The baseline `hvkit conformance` uses unless told otherwise: `conformance/baseline.json`
 * beside `src/` (and beside `dist/` in the built package).
 */
export const DEFAULT_BASELINE_PATH = fileURLToPath(new URL("../baseline.json", import.meta.url));

/** Reads and parses a baseline file. Throws {@link BaselineError} saying what and where. */
export function loadBaseline(path: string): Baseline {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new BaselineError(`cannot read baseline ${path}: ${(e as Error).message}`);
  }
  return parseBaseline(text, path);
}
