/**
 * The JUnit XML report, for CI systems: one `<testsuite>` per cell, one `<testcase>` per
 * test. Verdicts map as CI should act on them: an unexpected FAILURE is `<failure>`, an
 * unexpected ERROR is `<error>`, and SKIP, UNSUPPORTED, baselined failures and flakes are
 * `<skipped>` with the reason. Each `<testsuite>` of an arch with missing hooks carries them
 * as `<properties>` (`missing-arch-hook`, value `<hook>: <cells> cells`, a guest adapter's
 * hook as `<adapter> adapter's <hook>`, counted over the arch's whole run), so CI shows
 * which hook to implement next.
 *
 * @module
 */
import type { EntryReport, SuiteReport } from "../runner.js";
import { escapeMarkup as x } from "./markup.js";
import { hookLabel, missingHooksByArch } from "./matrix-grid.js";

function testcase(e: EntryReport): string {
  const head = `    <testcase classname="${x(`${e.arch}/${e.mode}/${e.guest}/${e.role}`)}" name="${x(e.test)}" time="${(e.durationMs / 1000).toFixed(3)}"`;
  const msg = x(e.message);
  const log = e.log.length > 0 ? `\n      <system-out>${x(e.log.join("\n"))}</system-out>` : "";
  let inner: string;
  if (e.verdict === "fail") {
    const tag = e.result === "ERROR" ? "error" : "failure";
    inner = `<${tag} type="${e.result}" message="${msg}">${msg}</${tag}>`;
  } else if (e.verdict === "expected-fail" || e.verdict === "flaky") {
    inner = `<skipped message="${x(`${e.result} (${e.verdict}): ${e.baselineReason ?? ""}: ${e.message}`)}"/>`;
  } else if (e.result === "SKIP" || e.result === "UNSUPPORTED") {
    inner = `<skipped message="${x(`${e.result}: ${e.message}`)}"/>`;
  } else {
    return log === "" ? `${head}/>` : `${head}>${log}\n    </testcase>`;
  }
  return `${head}>\n      ${inner}${log}\n    </testcase>`;
}

/** Renders `report` as JUnit XML. */
export function formatJunit(report: SuiteReport): string {
  const suites = new Map<string, EntryReport[]>();
  for (const e of report.entries) {
    const key = `${e.arch}/${e.mode}/${e.guest}/${e.role}`;
    const list = suites.get(key) ?? [];
    list.push(e);
    suites.set(key, list);
  }
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const s = report.summary;
  out.push(
    `<testsuites name="hvkit conformance" tests="${s.total}" failures="${count(report.entries, "FAILURE")}" errors="${count(report.entries, "ERROR")}">`,
  );
  const hooks = new Map(missingHooksByArch(report));
  for (const [name, entries] of suites) {
    const time = entries.reduce((t, e) => t + e.durationMs, 0) / 1000;
    const missing = hooks.get(entries[0].arch) ?? [];
    const skipped = entries.filter((e) => e.verdict !== "fail" && e.result !== "SUCCESS").length;
    out.push(
      `  <testsuite name="${x(name)}" tests="${entries.length}" failures="${count(entries, "FAILURE")}" errors="${count(entries, "ERROR")}" skipped="${skipped}" time="${time.toFixed(3)}">`,
    );
    if (missing.length > 0) {
      out.push("    <properties>");
      for (const h of missing)
        out.push(
          `      <property name="missing-arch-hook" value="${x(`${hookLabel(h)}: ${h.cells} cells`)}"/>`,
        );
      out.push("    </properties>");
    }
    for (const e of entries) out.push(testcase(e));
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}

function count(entries: readonly EntryReport[], result: "FAILURE" | "ERROR"): number {
  return entries.filter((e) => e.verdict === "fail" && e.result === result).length;
}
