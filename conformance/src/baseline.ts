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
 * characters (including `/`). A passing cell is "fixed" only when an exact entry names it;
 * a pattern covers a class of cells (an unfinished port), of which some may pass. `expect` is the worst result expected (default FAILURE: any
 * ERROR or FAILURE is accepted; ERROR accepts ERROR only).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { RESULT_ORDER, type CellResult, type XtfResult } from "./result.js";

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
  const passing = result === "SUCCESS" || result === "SKIP" || result === "UNSUPPORTED";
  if (!entry) return passing ? "pass" : "fail";
  if (entry.flaky) return "flaky";
  if (passing) return entry.id.includes("*") ? "pass" : "fixed";
  const limit = RESULT_ORDER.indexOf(entry.expect ?? "FAILURE");
  return RESULT_ORDER.indexOf(result as XtfResult) <= limit ? "expected-fail" : "fail";
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
