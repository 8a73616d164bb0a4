/**
 * The terminal report: the matrix grid as an aligned text table (columns of nothing but
 * UNSUPPORTED cells left out), the entries that need attention with their messages
 * (baselined ones a missing hook explains are counted with the hook instead), the UNSUPPORTED cells grouped by reason, the missing arch
 * hooks per arch with the cells each blocks, the baseline entries that are fixed or stale,
 * and a summary line.
 *
 * @module
 */
import type { SuiteReport } from "../runner.js";
import {
  gridLabel,
  hookLabel,
  matrixGrid,
  missingHooksByArch,
  unsupportedGroups,
} from "./matrix-grid.js";

/** Renders `report` as plain text for a terminal (no colour codes). */
export function formatTable(report: SuiteReport): string {
  const grid = matrixGrid(report.entries);
  // A column whose every cell is UNSUPPORTED says nothing the UNSUPPORTED lines below do not.
  const columns = grid.columns.filter((col) =>
    grid.rows.some((row) => {
      const e = grid.at(row, col);
      return e !== undefined && e.result !== "UNSUPPORTED";
    }),
  );
  const header = ["test", ...columns];
  const body = grid.rows.map((row) => [
    row,
    ...columns.map((col) => {
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
  // Expected failures that a missing hook explains are counted under "missing hooks".
  const notable = report.entries.filter(
    (e) =>
      (e.verdict !== "pass" || e.result === "SKIP") &&
      e.result !== "UNSUPPORTED" &&
      !(e.verdict === "expected-fail" && e.blockedBy !== undefined),
  );
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
  const declined = unsupportedGroups(report);
  if (declined.length > 0) {
    out.push("");
    for (const g of declined)
      out.push(
        `${"UNSUPPORTED".padEnd(13)} ${g.column} (${plural(g.tests, "test")}): ${g.message}`,
      );
  }
  const s = report.summary;
  if (s.missingHooks.length > 0) {
    out.push("");
    out.push("missing hooks (cells each blocks; implement the first to see the next):");
    for (const [arch, hooks] of missingHooksByArch(report))
      out.push(
        `  ${arch}: ${hooks.map((h) => `${hookLabel(h)} (${plural(h.cells, "cell")})`).join(", ")}`,
      );
  }
  const review = report.baselineReview;
  if (review && review.fixed.length > 0) {
    out.push("");
    out.push("baseline entries whose cells all pass (remove them):");
    for (const f of review.fixed)
      out.push(`  ${f.entry.id} (${plural(f.cells, "cell")}) [${f.entry.reason}]`);
  }
  if (review && review.stale.length > 0) {
    out.push("");
    out.push(
      "stale baseline entries, matching no cell of the full matrix (remove or correct them):",
    );
    for (const e of review.stale) out.push(`  ${e.id} [${e.reason}]`);
  }
  const counts = (Object.entries(s.results) as [string, number][])
    .filter(([, n]) => n > 0)
    .map(([r, n]) => `${n} ${r}`)
    .join(", ");
  out.push("");
  out.push(
    `${s.total} cells${report.shard ? ` (shard ${report.shard.index}/${report.shard.count})` : ""}: ${counts || "none"}; ` +
      `${s.verdicts.fail} unexpected, ${s.verdicts["expected-fail"]} baselined, ${s.verdicts.flaky} flaky, ` +
      `${s.verdicts.fixed} fixed` +
      (review
        ? `; baseline: ${review.fixed.length} entries fixed, ${review.stale.length} stale`
        : ""),
  );
  out.push(
    report.nothingRan !== undefined
      ? `conformance: NOTHING RAN (${report.nothingRan})`
      : report.ok
        ? "conformance: PASS"
        : "conformance: FAIL",
  );
  out.push(
    "legend: * failure expected by the baseline, ~ flaky, ! baselined but passing, - not applicable",
  );
  return out.join("\n") + "\n";
}

function plural(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}
