/**
 * The terminal report: the matrix grid as an aligned text table, the entries that need
 * attention with their messages, and a summary line.
 *
 * @module
 */
import type { SuiteReport } from "../runner.js";
import { gridLabel, matrixGrid } from "./matrix-grid.js";

/** Renders `report` as plain text for a terminal (no colour codes). */
export function formatTable(report: SuiteReport): string {
  const grid = matrixGrid(report.entries);
  const header = ["test", ...grid.columns];
  const body = grid.rows.map((row) => [
    row,
    ...grid.columns.map((col) => {
      const e = grid.at(row, col);
      return e ? gridLabel(e) : "-";
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  const out = [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)];
  const notable = report.entries.filter((e) => e.verdict !== "pass" || e.result === "SKIP");
  if (notable.length > 0) {
    out.push("");
    for (const e of notable) {
      const why = e.baselineReason !== undefined ? ` [baseline: ${e.baselineReason}]` : "";
      out.push(
        `${e.verdict.toUpperCase().padEnd(13)} ${e.result.padEnd(11)} ${e.id}: ${e.message}${why}`,
      );
      for (const l of e.log.slice(-5)) out.push(`    ${l}`);
    }
  }
  const s = report.summary;
  const counts = (Object.entries(s.results) as [string, number][])
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${n} ${r}`)
    .join(", ");
  out.push("");
  out.push(
    `${s.total} cells${report.shard ? ` (shard ${report.shard.index}/${report.shard.count})` : ""}: ${counts || "none"}; ` +
      `${s.verdicts.fail} unexpected, ${s.verdicts["expected-fail"]} baselined, ${s.verdicts.flaky} flaky, ` +
      `${s.verdicts.fixed} fixed (remove from baseline)`,
  );
  out.push(report.ok ? "conformance: PASS" : "conformance: FAIL");
  out.push(
    "legend: * failure expected by the baseline, ~ flaky, ! baselined but passing, - not applicable",
  );
  return out.join("\n") + "\n";
}
