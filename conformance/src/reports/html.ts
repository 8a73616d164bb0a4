/**
 * The static HTML matrix: one self-contained page (inline CSS, no scripts) with the grid
 * coloured by result, each cell's message on hover, the missing hooks per arch with
 * the cells each blocks, the baseline entries that are fixed or stale, and the details of
 * every entry that is not a plain pass.
 *
 * @module
 */
import type { SuiteReport } from "../runner.js";
import { gridLabel, hookLabel, matrixGrid, missingHooksByArch } from "./matrix-grid.js";
import { escapeMarkup as x } from "./markup.js";

const STYLE = `body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}
th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}th{background:#f4f4f4}
td.SUCCESS{background:#c8f0c8}td.SKIP{background:#eee}td.UNSUPPORTED{background:#ddd;color:#666}
td.ERROR{background:#ffd8a8}td.FAILURE{background:#ffb3b3}td.baselined{font-style:italic}
td.na{color:#aaa}pre{white-space:pre-wrap}`;

/** Renders `report` as a standalone HTML page. */
export function formatHtml(report: SuiteReport): string {
  const grid = matrixGrid(report.entries);
  const s = report.summary;
  const rows = grid.rows.map((row) => {
    const cells = grid.columns.map((col) => {
      const e = grid.at(row, col);
      if (!e) return '<td class="na">-</td>';
      const cls =
        e.result + (e.verdict === "expected-fail" || e.verdict === "flaky" ? " baselined" : "");
      return `<td class="${cls}" title="${x(e.message)}">${x(gridLabel(e))}</td>`;
    });
    return `<tr><th>${x(row)}</th>${cells.join("")}</tr>`;
  });
  const details = report.entries
    .filter((e) => e.result !== "SUCCESS" || e.verdict !== "pass")
    .map(
      (e) =>
        `<li><b>${x(e.id)}</b>: ${x(e.result)} (${x(e.verdict)}) — ${x(e.message)}` +
        (e.baselineReason !== undefined ? ` <i>[baseline: ${x(e.baselineReason)}]</i>` : "") +
        (e.log.length > 0 ? `<pre>${x(e.log.join("\n"))}</pre>` : "") +
        "</li>",
    );
  const hooks = missingHooksByArch(report).map(
    ([arch, list]) =>
      `<tr><th>${x(arch)}</th><td>${list.map((h) => `${x(hookLabel(h))} (${h.cells})`).join(", ")}</td></tr>`,
  );
  const hookSection =
    hooks.length === 0
      ? ""
      : `<h2>Missing hooks</h2>
<p>Cells each hook blocks; implementing one may reveal the next.</p>
<table><thead><tr><th>arch</th><th>hook (cells blocked)</th></tr></thead><tbody>
${hooks.join("\n")}
</tbody></table>\n`;
  const review = report.baselineReview;
  const reviewItems = [
    ...(review?.fixed ?? []).map(
      (f) =>
        `<li>fixed, remove it: <b>${x(f.entry.id)}</b> (${f.cells} cells pass) <i>[${x(f.entry.reason)}]</i></li>`,
    ),
    ...(review?.stale ?? []).map(
      (e) => `<li>stale, matches no cell: <b>${x(e.id)}</b> <i>[${x(e.reason)}]</i></li>`,
    ),
  ];
  const reviewSection =
    reviewItems.length === 0 ? "" : `<h2>Baseline</h2><ul>\n${reviewItems.join("\n")}\n</ul>\n`;
  const verdict = report.nothingRan !== undefined ? "NOTHING RAN" : report.ok ? "PASS" : "FAIL";
  const counts = (Object.entries(s.results) as [string, number][])
    .map(([r, n]) => `${n} ${r}`)
    .join(", ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hvkit conformance</title><style>${STYLE}</style></head>
<body><h1>hvkit conformance: ${verdict}</h1>
${report.nothingRan !== undefined ? `<p>${x(report.nothingRan)}</p>\n` : ""}
<p>${s.total} cells${report.shard ? ` (shard ${report.shard.index}/${report.shard.count})` : ""}: ${x(counts)}.
${s.verdicts.fail} unexpected, ${s.verdicts["expected-fail"]} baselined, ${s.verdicts.flaky} flaky, ${s.verdicts.fixed} fixed.</p>
<table><thead><tr><th>test</th>${grid.columns.map((c) => `<th>${x(c)}</th>`).join("")}</tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>
<p>* failure expected by the baseline, ~ flaky, ! baselined but passing, - not applicable</p>
${hookSection}${reviewSection}<h2>Details</h2><ul>
${details.join("\n")}
</ul></body></html>
`;
}
