import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { container } from "tsyringe";
import { X86_64PvPlugin } from "@hvkit/arch-x86_64";
import {
  ArchHookMissingError,
  createStubArchPlugin,
  ImageError,
  ImageErrorCode,
  ShutdownReason,
  type ArchPlugin,
} from "@hvkit/core";
import { toyArchIdentity } from "@hvkit/core/testing";
import { ConformanceFailure, success, skip, type ConformanceTest } from "./conformance-test.js";
import { buildMatrix, parseShard, type MatrixSelection } from "./matrix.js";
import { parseBaseline } from "./baseline.js";
import { runSuite } from "./runner.js";

const toy = (name: string, modes: ArchPlugin["modes"] = ["pv"]): ArchPlugin =>
  createStubArchPlugin(toyArchIdentity(name, { modes }));

const test = (
  name: string,
  run: ConformanceTest["run"],
  requires: ConformanceTest["requires"] = {},
): ConformanceTest => ({
  area: "unit",
  name,
  description: name,
  requires,
  run,
});

const tests: ConformanceTest[] = [
  test("passes", () => success("ok")),
  test("skips", () => skip("not here")),
  test("fails", () => {
    throw new ConformanceFailure("expected 1, got 2");
  }),
  test("hook", (ctx) => {
    ctx.arch.buildDomain({} as never);
    return success();
  }),
  test("bug", () => {
    throw new TypeError("undefined is not a function");
  }),
  test("bad-image", () => {
    throw new ImageError(ImageErrorCode.Truncated, "ELF header", "file is 12 bytes");
  }),
  test("async", async () => success()),
  test("only-b", () => success(), { arches: ["b"] }),
  test("needs-feature", () => success(), { features: ["hypercall-page"] }),
];

describe("buildMatrix", () => {
  it("walks arch × mode × guest × role × test and applies requirements", () => {
    const m = buildMatrix([toy("a"), toy("b", ["pv", "hv"])], tests);
    const ids = m.map((e) => e.id);
    expect(ids).toContain("a/pv/hvkit-test/dom0/unit/passes");
    expect(ids).toContain("b/hv/hvkit-test/dom0/unit/only-b");
    expect(ids).not.toContain("a/pv/hvkit-test/dom0/unit/only-b");
    expect(ids).toContain("b/hv/hvkit-test/domU/unit/only-b");
    expect(m.length).toBe(2 * (8 + 9 + 9));
  });

  it("makes a dom0 and a domU cell, and puts a test only in the roles it declares", () => {
    const roleTests = [
      test("either", () => success()),
      test("dom0-only", () => success(), { roles: ["dom0"] }),
      test("domU-only", () => success(), { roles: ["domU"] }),
    ];
    expect(buildMatrix([toy("a")], roleTests).map((e) => e.id)).toEqual([
      "a/pv/hvkit-test/dom0/unit/either",
      "a/pv/hvkit-test/dom0/unit/dom0-only",
      "a/pv/hvkit-test/domU/unit/either",
      "a/pv/hvkit-test/domU/unit/domU-only",
    ]);
    expect(buildMatrix([toy("a")], roleTests, { roles: ["domU"] }).map((e) => e.id)).toEqual([
      "a/pv/hvkit-test/domU/unit/either",
      "a/pv/hvkit-test/domU/unit/domU-only",
    ]);
  });

  it("marks modes an arch does not implement as unsupported", () => {
    const m = buildMatrix([toy("a")], tests, { modes: ["hvm-vmx"] });
    expect(m.every((e) => e.unsupported?.includes("does not implement mode hvm-vmx"))).toBe(true);
  });

  it("filters by substring of the entry id", () => {
    const m = buildMatrix([toy("a"), toy("b")], tests, { filter: "b/pv/hvkit-test/dom0/unit/pa" });
    expect(m.map((e) => e.id)).toEqual(["b/pv/hvkit-test/dom0/unit/passes"]);
  });

  it("splits into disjoint shards that cover everything", () => {
    const all = buildMatrix([toy("a"), toy("b")], tests).map((e) => e.id);
    const parts = [1, 2, 3].map((i) =>
      buildMatrix([toy("a"), toy("b")], tests, { shard: { index: i, count: 3 } }).map((e) => e.id),
    );
    expect(parts.flat().sort()).toEqual([...all].sort());
    expect(new Set(parts.flat()).size).toBe(all.length);
  });

  it("parses shard specs", () => {
    expect(parseShard("2/4")).toEqual({ index: 2, count: 4 });
    for (const bad of ["0/4", "5/4", "1/0", "x", "1/2/3", "-1/2"])
      expect(parseShard(bad)).toBeNull();
  });
});

/** The dom0 cells only, so each test below runs once per arch. */
const dom0: MatrixSelection = { roles: ["dom0"] };

describe("runSuite", () => {
  it("turns every outcome into a cell result and never throws", async () => {
    const report = await runSuite({ arches: [toy("a")], tests, container, selection: dom0 });
    const byTest = Object.fromEntries(report.entries.map((e) => [e.test, e]));
    expect(byTest["unit/passes"].result).toBe("SUCCESS");
    expect(byTest["unit/skips"].result).toBe("SKIP");
    expect(byTest["unit/fails"]).toMatchObject({
      result: "FAILURE",
      message: "expected 1, got 2",
      verdict: "fail",
    });
    expect(byTest["unit/hook"]).toMatchObject({
      result: "ERROR",
      message: "missing arch hook buildDomain (a)",
    });
    expect(byTest["unit/bug"].result).toBe("ERROR");
    expect(byTest["unit/bug"].message).toMatch(/^TypeError: undefined is not a function \(at /);
    expect(byTest["unit/bad-image"].message).toMatch(
      /^ImageError: bad kernel image \(truncated\) at ELF header/,
    );
    expect(byTest["unit/async"].result).toBe("SUCCESS");
    expect(byTest["unit/needs-feature"]).toMatchObject({
      result: "SKIP",
      message: "needs feature hypercall-page",
    });
    expect(report.ok).toBe(false);
    expect(report.summary.results).toEqual({
      SUCCESS: 2,
      SKIP: 2,
      ERROR: 3,
      FAILURE: 1,
      UNSUPPORTED: 0,
    });
  });

  it("gives each cell its own child container", async () => {
    const seen: unknown[] = [];
    const probe = test("probe", (ctx) => {
      seen.push(ctx.container);
      expect(ctx.container).not.toBe(container);
      return success();
    });
    await runSuite({
      arches: [toy("a"), toy("b")],
      tests: [probe],
      container,
      selection: dom0,
    });
    expect(seen.length).toBe(2);
    expect(seen[0]).not.toBe(seen[1]);
  });

  it("judges results against the baseline", async () => {
    const baseline = parseBaseline(
      JSON.stringify({
        entries: [
          { id: "*/unit/fails", reason: "known bug" },
          { id: "a/*/unit/hook", expect: "ERROR", reason: "port not started" },
          { id: "a/*/unit/bug", expect: "ERROR", reason: "flaky", flaky: true },
          { id: "a/pv/hvkit-test/dom0/unit/bad-image", expect: "ERROR", reason: "fixture" },
          { id: "a/pv/hvkit-test/dom0/unit/passes", reason: "was broken" },
        ],
      }),
    );
    const report = await runSuite({
      arches: [toy("a")],
      tests,
      container,
      baseline,
      selection: dom0,
    });
    const verdict = Object.fromEntries(report.entries.map((e) => [e.test, e.verdict]));
    expect(verdict).toMatchObject({
      "unit/fails": "expected-fail",
      "unit/hook": "expected-fail",
      "unit/bug": "flaky",
      "unit/bad-image": "expected-fail",
      "unit/passes": "fixed",
      "unit/skips": "pass",
    });
    expect(report.ok).toBe(true);
  });

  it("fails a baselined ERROR-only cell that now reports FAILURE", async () => {
    const baseline = parseBaseline(
      JSON.stringify({ entries: [{ id: "*", expect: "ERROR", reason: "x" }] }),
    );
    const report = await runSuite({ arches: [toy("a")], tests: [tests[2]], container, baseline });
    expect(report.entries[0].verdict).toBe("fail");
  });

  it("reports progress after each entry", async () => {
    const calls: string[] = [];
    await runSuite({
      arches: [toy("a")],
      tests: tests.slice(0, 2),
      container,
      selection: dom0,
      onStart: (n) => calls.push(`start ${n}`),
      onEntry: (done, total, r) => calls.push(`${done}/${total} ${r.result}`),
    });
    expect(calls).toEqual(["start 2", "1/2 SUCCESS", "2/2 SKIP"]);
  });

  it("turns a missing core boot API or guest image into an ERROR of the cell", async () => {
    const boots = test("boots", (ctx) => {
      ctx.boot(ctx.guestImage("no-such-guest"));
      return success();
    });
    const report = await runSuite({ arches: [toy("a")], tests: [boots], container });
    expect(report.entries[0].result).toBe("ERROR");
    expect(report.entries[0].message).toMatch(/no-such-guest/);
  });

  it("boots in the cell's role: a role that cannot boot yet is an ERROR naming it", async () => {
    const boots = test("boots", (ctx) => {
      ctx.boot(new Uint8Array(0));
      return success();
    });
    const report = await runSuite({
      arches: [toy("a")],
      tests: [boots],
      container,
      selection: { roles: ["driver"] },
    });
    expect(report.entries.map((e) => [e.id, e.result])).toEqual([
      ["a/pv/hvkit-test/driver/unit/boots", "ERROR"],
    ]);
    expect(report.entries[0].message).toMatch(/cannot be booted in role driver/);
  });

  it("boots the guest in the cell's role: as the initial domain in dom0, as a domU in domU", async () => {
    // console-ring prints through its PV console ring as a domU and, finding SIF_INITDOMAIN,
    // says it has no ring and crashes as dom0: the two cells must see the two behaviours.
    const boots = test("console-ring", (ctx) => {
      const run = ctx.boot(ctx.guestImage("console-ring"), {
        consoleInput: new TextEncoder().encode("hello hvkit\n"),
      });
      return success(`${ShutdownReason[run.shutdownReason!]}: ${run.console}`);
    });
    const report = await runSuite({ arches: [new X86_64PvPlugin()], tests: [boots], container });
    expect(report.entries.map((e) => e.id)).toEqual([
      "x86_64/pv/hvkit-test/dom0/unit/console-ring",
      "x86_64/pv/hvkit-test/domU/unit/console-ring",
    ]);
    const [dom0, domU] = report.entries.map((e) => e.message);
    expect(dom0).toMatch(/^Crash: .*run it with --role domu/s);
    expect(domU).toMatch(/^Poweroff: console-ring: a domU writing to its PV console ring\n/);
  });

  it("keeps ArchHookMissingError distinguishable", () => {
    expect(new ArchHookMissingError("a", "run").hook).toBe("run");
  });
});
