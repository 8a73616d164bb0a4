/**
 * The matrix as a grid: one row per test, one column per cell. Shared by the terminal
 * table and the HTML page so both show the same layout.
 *
 * @module
 */
import type { EntryReport } from "../runner.js";

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
