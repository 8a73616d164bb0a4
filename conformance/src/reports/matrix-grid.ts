/**
 * The matrix as a grid: one row per test, one column per cell, and the groupings the
 * reports share (UNSUPPORTED cells by reason, missing hooks by arch), so the terminal
 * table and the HTML page show the same things.
 *
 * @module
 */
import type { BlockingHook, EntryReport, MissingHook, SuiteReport } from "../runner.js";

/** Rows (tests) × columns (cells) of a report. */
export interface MatrixGrid {
  /** Cell ids (`arch/mode/guest/role`), in first-seen order. */
  readonly columns: readonly string[];
  /** Test ids (`area/name`), in first-seen order. */
  readonly rows: readonly string[];
  /** The entry at (row, column), if the test applies to that cell. */
  at(row: string, column: string): EntryReport | undefined;
}

/** Arranges report entries into a {@link MatrixGrid}. */
export function matrixGrid(entries: readonly EntryReport[]): MatrixGrid {
  const columns: string[] = [];
  const rows: string[] = [];
  const byKey = new Map<string, EntryReport>();
  for (const e of entries) {
    const column = `${e.arch}/${e.mode}/${e.guest}/${e.role}`;
    if (!columns.includes(column)) columns.push(column);
    if (!rows.includes(e.test)) rows.push(e.test);
    byKey.set(`${e.test}\n${column}`, e);
  }
  return { columns, rows, at: (row, column) => byKey.get(`${row}\n${column}`) };
}

/**
 * The short text of one grid cell: the result, with `*` when the baseline expected the
 * failure, `~` for a flaky cell and `!` when a baselined cell now passes.
 */
export function gridLabel(e: EntryReport): string {
  const mark =
    e.verdict === "expected-fail"
      ? "*"
      : e.verdict === "flaky"
        ? "~"
        : e.verdict === "fixed"
          ? "!"
          : "";
  return e.result + mark;
}

/** UNSUPPORTED entries of one column that share one reason. */
export interface UnsupportedGroup {
  /** The cell, `arch/mode/guest/role`. */
  readonly column: string;
  /** Why its entries cannot run. */
  readonly message: string;
  /** How many entries (tests) of the column it covers. */
  readonly tests: number;
}

/** The UNSUPPORTED entries of `report`, grouped by column and reason, in matrix order. */
export function unsupportedGroups(report: SuiteReport): UnsupportedGroup[] {
  const groups = new Map<string, { column: string; message: string; tests: number }>();
  for (const e of report.entries) {
    if (e.result !== "UNSUPPORTED") continue;
    const column = `${e.arch}/${e.mode}/${e.guest}/${e.role}`;
    const key = `${column}\n${e.message}`;
    const g = groups.get(key) ?? { column, message: e.message, tests: 0 };
    g.tests++;
    groups.set(key, g);
  }
  return [...groups.values()];
}

/** How reports name a missing hook: `createVcpu`, or `linux adapter's buildImage`. */
export function hookLabel(hook: BlockingHook): string {
  return hook.guest === undefined ? hook.hook : `${hook.guest} adapter's ${hook.hook}`;
}

/** The summary's missing hooks grouped by arch, in matrix order. */
export function missingHooksByArch(report: SuiteReport): [string, MissingHook[]][] {
  const byArch = new Map<string, MissingHook[]>();
  for (const h of report.summary.missingHooks)
    byArch.set(h.arch, [...(byArch.get(h.arch) ?? []), h]);
  return [...byArch];
}
