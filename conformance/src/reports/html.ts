/**
 * The static HTML matrix: one self-contained page (inline CSS, no scripts) with the grid
 * coloured by result, each cell's message on hover, and the details of every entry that
 * is not a plain pass.
 *
 * @module
 */
import type { SuiteReport } from "../runner.js";
import { gridLabel, matrixGrid } from "./matrix-grid.js";
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
  const counts = (Object.entries(s.results) as [string, number][])
    .map(([r, n]) => `${n} ${r}`)
    .join(", ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hvkit conformance</title><style>${STYLE}</style></head>
<body><h1>hvkit conformance: ${report.ok ? "PASS" : "FAIL"}</h1>
<p>${s.total} cells${report.shard ? ` (shard ${report.shard.index}/${report.shard.count})` : ""}: ${x(counts)}.
${s.verdicts.fail} unexpected, ${s.verdicts["expected-fail"]} baselined, ${s.verdicts.flaky} flaky, ${s.verdicts.fixed} fixed.</p>
<table><thead><tr><th>test</th>${grid.columns.map((c) => `<th>${x(c)}</th>`).join("")}</tr></thead>
<tbody>
${rows.join("\n")}
</tbody></table>
<p>* failure expected by the baseline, ~ flaky, ! baselined but passing, - not applicable</p>
<h2>Details</h2><ul>
${details.join("\n")}
</ul></body></html>
`;
}
