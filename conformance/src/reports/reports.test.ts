import { describe, expect, it } from "vitest";
import { container } from "tsyringe";
import { createStubArchPlugin } from "@hvkit/core";
import { toyArchIdentity } from "@hvkit/core/testing";
import { ConformanceFailure, success, skip, type ConformanceTest } from "../conformance-test.js";
import { parseBaseline } from "../baseline.js";
import { runSuite, type SuiteReport } from "../runner.js";
import { formatTable } from "./table.js";
import { formatJson } from "./json.js";
import { formatJunit } from "./junit.js";
import { formatHtml } from "./html.js";
import { escapeMarkup } from "./markup.js";

const arch = (name: string) => createStubArchPlugin(toyArchIdentity(name));

const t = (name: string, run: ConformanceTest["run"], arches?: string[]): ConformanceTest => ({
  area: "r",
  name,
  description: name,
  requires: arches ? { arches } : {},
  run,
});

async function sample(): Promise<SuiteReport> {
  return runSuite({
    arches: [arch("a"), arch("b")],
    tests: [
      t("ok", () => success()),
      t("skip", () => skip("n/a")),
      t("bad", () => {
        throw new ConformanceFailure('got <"&\x01"> instead');
      }),
      t("known", () => {
        throw new ConformanceFailure("known bug");
      }),
      t("only-a", () => success(), ["a"]),
    ],
    container,
    selection: { roles: ["dom0"] },
    baseline: parseBaseline(JSON.stringify({ entries: [{ id: "*/r/known", reason: "issue 7" }] })),
    clock: (() => {
      let now = 0;
      return () => (now += 5);
    })(),
  });
}

/** Cells blocked by missing hooks, an UNSUPPORTED cell, and a baseline to review. */
async function honest(): Promise<SuiteReport> {
  return runSuite({
    arches: [arch("a"), arch("b")],
    tests: [
      t("build", (ctx) => {
        ctx.arch.buildDomain({} as never);
        return success();
      }),
      t(
        "vcpu",
        (ctx) => {
          ctx.arch.createVcpu({} as never, {} as never, {} as never);
          return success();
        },
        ["a"],
      ),
      t("ok", () => success()),
      {
        ...t("x86", () => success()),
        requires: { arches: ["x86"], modes: ["pv"], roles: ["dom0"] },
      },
    ],
    container,
    baseline: parseBaseline(
      JSON.stringify({
        entries: [
          { id: "*/r/ok", reason: "was broken" },
          { id: "*/r/build", expect: "ERROR", reason: "port not started" },
          { id: "zz/*", reason: "gone" },
        ],
      }),
    ),
  });
}

describe("reports of honest cells", () => {
  it("the table lists missing hooks per arch, UNSUPPORTED reasons and the baseline review", async () => {
    const text = formatTable(await honest());
    expect(text).toContain(
      "missing hooks (cells each blocks; implement the first to see the next):\n" +
        "  a: buildDomain (2 cells), createVcpu (2 cells)\n" +
        "  b: buildDomain (2 cells)\n",
    );
    expect(text).toMatch(
      /UNSUPPORTED +x86\/pv\/hvkit-test\/dom0 \(1 test\): needs arch x86 in mode pv, which no registered arch plugin provides \(registered: a, b\)/,
    );
    expect(text).toContain(
      "baseline entries whose cells all pass (remove them):\n  */r/ok (4 cells) [was broken]\n",
    );
    expect(text).toContain(
      "stale baseline entries, matching no cell of the full matrix (remove or correct them):\n  zz/* [gone]\n",
    );
    expect(text).toMatch(/; baseline: 1 entries fixed, 1 stale\n/);
    expect(text).toMatch(
      /FAIL +ERROR +a\/pv\/hvkit-test\/dom0\/r\/vcpu: missing arch hook createVcpu \(a\)/,
    );
    expect(text).toMatch(/conformance: FAIL\n/);
  });

  it("the table says when nothing ran", async () => {
    const report = await runSuite({
      arches: [arch("a")],
      tests: [{ ...t("x86", () => success()), requires: { arches: ["x86"], modes: ["pv"] } }],
      container,
    });
    expect(formatTable(report)).toMatch(
      /conformance: NOTHING RAN \(every one of the 2 selected entries is UNSUPPORTED \(x86\/pv: needs arch x86/,
    );
    expect(formatHtml(report)).toContain("<h1>hvkit conformance: NOTHING RAN</h1>");
    expect(JSON.parse(formatJson(report))).toMatchObject({
      ok: false,
      nothingRan: expect.any(String),
    });
  });

  it("JSON carries blockedBy, the missing hooks and the baseline review", async () => {
    const data = JSON.parse(formatJson(await honest()));
    expect(
      data.entries.find((e: { id: string }) => e.id === "a/pv/hvkit-test/dom0/r/vcpu"),
    ).toMatchObject({
      result: "ERROR",
      blockedBy: { arch: "a", hook: "createVcpu" },
    });
    expect(data.summary.missingHooks).toEqual([
      { arch: "a", hook: "buildDomain", cells: 2 },
      { arch: "a", hook: "createVcpu", cells: 2 },
      { arch: "b", hook: "buildDomain", cells: 2 },
    ]);
    expect(data.baselineReview).toEqual({
      fixed: [{ entry: { id: "*/r/ok", reason: "was broken" }, cells: 4 }],
      stale: [{ id: "zz/*", reason: "gone" }],
    });
  });

  it("JUnit carries each arch's missing hooks as properties of its suites", async () => {
    const xml = formatJunit(await honest());
    expect(xml).toMatch(
      /<testsuite name="a\/pv\/hvkit-test\/dom0" [^>]*>\n {4}<properties>\n {6}<property name="missing-arch-hook" value="buildDomain: 2 cells"\/>\n {6}<property name="missing-arch-hook" value="createVcpu: 2 cells"\/>\n {4}<\/properties>\n {4}<testcase /,
    );
    expect(xml).toMatch(/<testsuite name="x86\/pv\/hvkit-test\/dom0" [^>]*>\n {4}<testcase /);
  });

  it("HTML lists the missing hooks and the baseline review", async () => {
    const html = formatHtml(await honest());
    expect(html).toContain("<tr><th>a</th><td>buildDomain (2), createVcpu (2)</td></tr>");
    expect(html).toContain("<li>fixed, remove it: <b>*/r/ok</b> (4 cells pass)");
    expect(html).toContain("<li>stale, matches no cell: <b>zz/*</b>");
  });
});

describe("reports", () => {
  it("the table has one row per test, one column per cell, and marks baselined cells", async () => {
    const text = formatTable(await sample());
    const lines = text.split("\n");
    expect(lines[0]).toMatch(/^test\s+a\/pv\/hvkit-test\/dom0\s+b\/pv\/hvkit-test\/dom0$/);
    expect(lines.find((l) => l.startsWith("r/known"))).toMatch(/FAILURE\*\s+FAILURE\*$/);
    expect(lines.find((l) => l.startsWith("r/only-a"))).toMatch(/SUCCESS\s+-$/);
    expect(text).toMatch(/FAIL +FAILURE +a\/pv\/hvkit-test\/dom0\/r\/bad: got </);
    expect(text).toMatch(/9 cells: 3 SUCCESS, 2 SKIP, 4 FAILURE; 2 unexpected, 2 baselined/);
    expect(text).toMatch(/conformance: FAIL\n/);
  });

  it("JSON carries a version and every entry", async () => {
    const data = JSON.parse(formatJson(await sample()));
    expect(data.version).toBe(2);
    expect(data.entries).toHaveLength(9);
    expect(data.ok).toBe(false);
  });

  it("JUnit maps verdicts to failure and skipped, escapes text and counts per suite", async () => {
    const xml = formatJunit(await sample());
    expect(xml).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="hvkit conformance" tests="9" failures="2" errors="0">/,
    );
    expect(xml).toContain(
      '<testsuite name="a/pv/hvkit-test/dom0" tests="5" failures="1" errors="0" skipped="2" time="0.025">',
    );
    expect(xml).toContain(
      '<failure type="FAILURE" message="got &lt;&quot;&amp;\uFFFD&quot;&gt; instead">',
    );
    expect(xml).toMatch(
      /name="r\/known" time="0.005">\n\s+<skipped message="FAILURE \(expected-fail\): issue 7: known bug"\/>/,
    );
    expect([...xml].some((c) => c.charCodeAt(0) < 9)).toBe(false);
    // Balanced elements.
    expect((xml.match(/<testcase /g) ?? []).length).toBe(9);
    expect((xml.match(/<testcase [^>]*\/>|<\/testcase>/g) ?? []).length).toBe(9);
  });

  it("HTML is one self-contained page with escaped messages", async () => {
    const html = formatHtml(await sample());
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script/);
    expect(html).toContain('<td class="FAILURE baselined" title="known bug">FAILURE*</td>');
    expect(html).toContain("got &lt;&quot;&amp;");
    expect(html).toContain('<td class="na">-</td>');
  });

  it("escapeMarkup replaces characters XML cannot carry", () => {
    expect(escapeMarkup("a<b>&'\"\x00\x1f\t\n")).toBe(
      "a&lt;b&gt;&amp;&apos;&quot;\uFFFD\uFFFD\t\n",
    );
  });
});
