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
import {
  EmptySelectionError,
  buildMatrix,
  explainEmptySelection,
  parseShard,
  type MatrixSelection,
} from "./matrix.js";
import { parseBaseline } from "./baseline.js";
import { runSuite } from "./runner.js";
import { guestFilesIn } from "./guest-images.js";

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

  it("lists a test that pins an arch and mode no plugin offers as UNSUPPORTED, saying why", () => {
    const pinned = [
      test("x86-pv", () => success(), { arches: ["x86"], modes: ["pv"] }),
      test("a-hv", () => success(), { arches: ["a"], modes: ["hv"] }),
      test("a-only", () => success(), { arches: ["a"] }),
      test("anywhere", () => success()),
    ];
    const m = buildMatrix([toy("a")], pinned, dom0);
    expect(m.map((e) => [e.id, e.unsupported])).toEqual([
      ["a/pv/hvkit-test/dom0/unit/a-only", undefined],
      ["a/pv/hvkit-test/dom0/unit/anywhere", undefined],
      ["a/hv/hvkit-test/dom0/unit/a-hv", "a does not implement mode hv (it offers pv)"],
      [
        "x86/pv/hvkit-test/dom0/unit/x86-pv",
        "needs arch x86 in mode pv, which no registered arch plugin provides (registered: a)",
      ],
    ]);
    expect(m.find((e) => e.cell.arch === "x86")?.arch).toBeUndefined();
    // Selecting arches or modes applies to those cells as to any other.
    expect(buildMatrix([toy("a")], pinned, { ...dom0, arches: ["a"] }).map((e) => e.id)).toEqual([
      "a/pv/hvkit-test/dom0/unit/a-only",
      "a/pv/hvkit-test/dom0/unit/anywhere",
      "a/hv/hvkit-test/dom0/unit/a-hv",
    ]);
    expect(buildMatrix([toy("a")], pinned, { ...dom0, modes: ["pv"] }).map((e) => e.id)).toEqual([
      "a/pv/hvkit-test/dom0/unit/a-only",
      "a/pv/hvkit-test/dom0/unit/anywhere",
      "x86/pv/hvkit-test/dom0/unit/x86-pv",
    ]);
  });

  it("explains an empty selection: a misspelled filter with valid prefixes and near ids", () => {
    const why = explainEmptySelection([toy("a"), toy("b")], tests, { filter: "unit/pases" });
    expect(why).toMatch(/^--filter "unit\/pases" matches none of the 34 selected entry ids/);
    expect(why).toContain("a/pv/hvkit-test/dom0/, a/pv/hvkit-test/domU/, b/pv/hvkit-test/dom0/");
    expect(why).toContain("areas are unit/");
    expect(why).toMatch(/closest: a\/pv\/hvkit-test\/dom0\/unit\/passes, /);
    expect(explainEmptySelection([toy("a")], tests, { filter: "zzz" })).not.toContain("closest");
  });

  it("explains an empty selection: cells no test applies to, a shard past the end", () => {
    const ours = tests.map((t) => ({ ...t, requires: { ...t.requires, guests: ["hvkit-test"] } }));
    expect(explainEmptySelection([toy("a")], ours, { guests: ["xtf"], roles: ["dom0"] })).toBe(
      "no registered test applies to the selected cells (guest set xtf; role dom0)",
    );
    expect(explainEmptySelection([], tests, {})).toBe("no arch plugin is registered");
    expect(
      explainEmptySelection([toy("a")], tests.slice(0, 1), { shard: { index: 3, count: 3 } }),
    ).toBe("--shard 3/3 is empty: the selection has only 2 entries");
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

  it("reviews the baseline against the full matrix, whatever the run selected", async () => {
    const baseline = parseBaseline(
      JSON.stringify({
        entries: [
          { id: "a/*/unit/passes", reason: "glob" },
          { id: "a/pv/hvkit-test/dom0/unit/async", reason: "exact" },
          { id: "a/pv/hvkit-test/dom0/unit/only-b", reason: "only-b never runs on a" },
        ],
      }),
    );
    const review = async (selection: MatrixSelection) =>
      (await runSuite({ arches: [toy("a"), toy("b")], tests, container, baseline, selection }))
        .baselineReview!;
    // dom0 only: the glob's domU cell did not run, so it is neither fixed nor stale.
    const part = await review({ ...dom0, filter: "unit/" });
    expect(part.fixed.map((f) => f.entry.reason)).toEqual(["exact"]);
    expect(part.stale.map((e) => e.reason)).toEqual(["only-b never runs on a"]);
    const sharded = await review({ shard: { index: 1, count: 2 } });
    expect(sharded.stale.map((e) => e.reason)).toEqual(["only-b never runs on a"]);
    const full = await review({});
    expect(full.fixed.map((f) => [f.entry.reason, f.cells])).toEqual([
      ["glob", 2],
      ["exact", 1],
    ]);
    expect(full.stale.map((e) => e.reason)).toEqual(["only-b never runs on a"]);
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

  it("refuses a selection of no cell before running anything, saying why", async () => {
    let started = false;
    const run = runSuite({
      arches: [toy("a")],
      tests,
      container,
      selection: { filter: "zzz" },
      onStart: () => (started = true),
    });
    await expect(run).rejects.toThrow(EmptySelectionError);
    await expect(run).rejects.toThrow(/--filter "zzz" matches none/);
    expect(started).toBe(false);
  });

  it("says nothing ran when every selected cell is UNSUPPORTED, and does not pass", async () => {
    const report = await runSuite({
      arches: [toy("a")],
      tests: [test("x86-pv", () => success(), { arches: ["x86"], modes: ["pv"] })],
      container,
      selection: dom0,
    });
    expect(report.entries.map((e) => e.result)).toEqual(["UNSUPPORTED"]);
    expect(report.nothingRan).toBe(
      "every one of the 1 selected entries is UNSUPPORTED (x86/pv: needs arch x86 in mode pv, " +
        "which no registered arch plugin provides (registered: a))",
    );
    expect(report.ok).toBe(false);
    const some = await runSuite({ arches: [toy("a")], tests: tests.slice(0, 1), container });
    expect(some.nothingRan).toBeUndefined();
    expect(some.ok).toBe(true);
  });

  it("marks a cell blocked by a missing hook with the hook, and counts them per arch", async () => {
    const hooks = [
      test("build", (ctx) => {
        ctx.arch.buildDomain({} as never);
        return success();
      }),
      test("swallowed", (ctx) => {
        // A test (or the machine) that catches the error does not make the cell pass.
        try {
          ctx.arch.memoryOp!({} as never, 0, 0n, 0n);
        } catch {
          /* ignored on purpose */
        }
        return success("all good");
      }),
      test("fine", () => success()),
    ];
    const report = await runSuite({ arches: [toy("a"), toy("b")], tests: hooks, container });
    const a = report.entries.filter((e) => e.arch === "a" && e.role === "dom0");
    expect(a.map((e) => [e.test, e.result, e.blockedBy])).toEqual([
      ["unit/build", "ERROR", { arch: "a", hook: "buildDomain" }],
      ["unit/swallowed", "ERROR", { arch: "a", hook: "memoryOp" }],
      ["unit/fine", "SUCCESS", undefined],
    ]);
    expect(a[1].message).toBe("missing arch hook memoryOp (a)");
    expect(a[1].log).toEqual(["the test reported SUCCESS: all good"]);
    expect(report.summary.missingHooks).toEqual([
      { arch: "a", hook: "buildDomain", cells: 2 },
      { arch: "a", hook: "memoryOp", cells: 2 },
      { arch: "b", hook: "buildDomain", cells: 2 },
      { arch: "b", hook: "memoryOp", cells: 2 },
    ]);
  });

  it("names a hook a guest reaches inside a hypercall, even when the test catches the error", async () => {
    // x86_64 with its guestAccessOk taken away: multicall-ops reaches it from a hypercall.
    // The test turns every exception into a result (as a test of error codes may); the
    // cell is still the missing hook's ERROR, not the test's SUCCESS.
    const x86_64 = new X86_64PvPlugin();
    const port: ArchPlugin = Object.create(x86_64, {
      guestAccessOk: {
        value: () => {
          throw new ArchHookMissingError("x86_64", "guestAccessOk");
        },
      },
    });
    const boots = test("multicall", (ctx) => {
      try {
        ctx.boot(ctx.guestImage("multicall-ops"));
        return success("ran");
      } catch (e) {
        return success(`caught ${(e as Error).name}`);
      }
    });
    const report = await runSuite({
      arches: [port],
      tests: [boots],
      container,
      selection: dom0,
      guestFiles: guestFilesIn(),
    });
    expect(report.entries[0]).toMatchObject({
      result: "ERROR",
      blockedBy: { arch: "x86_64", hook: "guestAccessOk" },
      message: "missing arch hook guestAccessOk (x86_64)",
    });
    expect(report.entries[0].log).toEqual([
      "the test reported SUCCESS: caught ArchHookMissingError",
    ]);
  });

  it("offers the arch's declared features to the cell", async () => {
    const seen: string[][] = [];
    const probe = test("probe", (ctx) => {
      seen.push([...ctx.features]);
      return success();
    });
    await runSuite({
      arches: [createStubArchPlugin(toyArchIdentity("f", { features: ["hypercall-page"] }))],
      tests: [probe, tests[8]],
      container,
      selection: dom0,
    }).then((r) => expect(r.entries[1].result).toBe("SUCCESS"));
    expect(seen).toEqual([["hypercall-page"]]);
  });

  it("keeps ArchHookMissingError distinguishable", () => {
    expect(new ArchHookMissingError("a", "run").hook).toBe("run");
  });
});
