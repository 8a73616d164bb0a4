import { describe, expect, it } from "vitest";
import {
  BaselineError,
  findBaselineEntry,
  judge,
  parseBaseline,
  reviewBaseline,
} from "./baseline.js";
import type { CellResult } from "./result.js";

describe("parseBaseline", () => {
  it("accepts the documented format", () => {
    const b = parseBaseline('{"entries":[{"id":"ia64/*","expect":"ERROR","reason":"stubs"}]}');
    expect(b.entries).toEqual([{ id: "ia64/*", expect: "ERROR", reason: "stubs" }]);
  });

  it.each([
    ["not json", "{", /not JSON/],
    ["no entries", "{}", /"entries" array/],
    ["entry without id", '{"entries":[{"reason":"r"}]}', /entries\[0\]: "id"/],
    ["entry without reason", '{"entries":[{"id":"x"}]}', /entries\[0\]: "reason"/],
    ["bad expect", '{"entries":[{"id":"x","reason":"r","expect":"SKIP"}]}', /"expect" must be/],
    [
      "bad flaky",
      '{"entries":[{"id":"x","reason":"r","flaky":"yes"}]}',
      /"flaky" must be a boolean/,
    ],
  ])("rejects %s, saying where", (_what, text, message) => {
    expect(() => parseBaseline(text, "b.json")).toThrow(BaselineError);
    expect(() => parseBaseline(text, "b.json")).toThrow(message);
  });
});

describe("findBaselineEntry", () => {
  const b = parseBaseline(
    JSON.stringify({
      entries: [
        { id: "x86_64/pv/hvkit-test/dom0/boot/hello", reason: "exact" },
        { id: "ppc/*", reason: "glob" },
        { id: "*/a.b", reason: "dot is literal" },
      ],
    }),
  );
  it("matches exact ids and * globs, first match wins", () => {
    expect(findBaselineEntry(b, "x86_64/pv/hvkit-test/dom0/boot/hello")?.reason).toBe("exact");
    expect(findBaselineEntry(b, "ppc/hv/hvkit-test/dom0/boot/hello")?.reason).toBe("glob");
    expect(findBaselineEntry(b, "x86_64/pv/hvkit-test/dom0/boot/hello2")).toBeUndefined();
    expect(findBaselineEntry(b, "q/a.b")?.reason).toBe("dot is literal");
    expect(findBaselineEntry(b, "q/aXb")).toBeUndefined();
    expect(findBaselineEntry(undefined, "q")).toBeUndefined();
  });
});

describe("judge", () => {
  it("applies the lattice limit of an expected failure", () => {
    expect(judge("ERROR", { id: "*", reason: "", expect: "ERROR" })).toBe("expected-fail");
    expect(judge("FAILURE", { id: "*", reason: "", expect: "ERROR" })).toBe("fail");
    expect(judge("FAILURE", { id: "*", reason: "" })).toBe("expected-fail");
    expect(judge("SUCCESS", { id: "a/b", reason: "" })).toBe("fixed");
    expect(judge("SUCCESS", { id: "a/*", reason: "" })).toBe("pass");
    expect(judge("FAILURE", { id: "*", reason: "", flaky: true })).toBe("flaky");
    expect(judge("UNSUPPORTED", undefined)).toBe("pass");
    expect(judge("ERROR", undefined)).toBe("fail");
  });
});

describe("reviewBaseline", () => {
  const reference = [
    "ia64/pv/hvkit-test/dom0/abi/sizes",
    "ia64/pv/hvkit-test/dom0/boot/hello",
    "ia64/pv/hvkit-test/domU/abi/sizes",
    "x86_64/pv/hvkit-test/dom0/boot/hello",
    "x86_64/pv/hvkit-test/dom0/boot/crash",
  ];
  const b = parseBaseline(
    JSON.stringify({
      entries: [
        { id: "x86_64/pv/hvkit-test/dom0/boot/hello", reason: "exact" },
        { id: "*/abi/*", reason: "abi glob" },
        { id: "ia64/*", reason: "port glob" },
        { id: "x86_64/pv/hvkit-test/dom0/boot/crash", flaky: true, reason: "flake" },
        { id: "ia64/pv/hvkit-test/dom0/abi/sizes", reason: "shadowed by the abi glob" },
        { id: "ppc/*", reason: "no such cell" },
      ],
    }),
  );
  const run = (results: Record<string, CellResult>) =>
    reviewBaseline(b, reference, new Map(Object.entries(results)));
  const ids = (r: ReturnType<typeof run>) => ({
    fixed: r.fixed.map((f) => `${f.entry.id} ${f.cells}`),
    stale: r.stale.map((e) => e.id),
  });

  it("reports a glob fixed only when every cell it governs ran and passed", () => {
    const all: Record<string, CellResult> = {
      "ia64/pv/hvkit-test/dom0/abi/sizes": "SUCCESS",
      "ia64/pv/hvkit-test/domU/abi/sizes": "SKIP",
      "ia64/pv/hvkit-test/dom0/boot/hello": "ERROR",
      "x86_64/pv/hvkit-test/dom0/boot/hello": "SUCCESS",
      "x86_64/pv/hvkit-test/dom0/boot/crash": "SUCCESS",
    };
    expect(ids(run(all))).toEqual({
      fixed: ["x86_64/pv/hvkit-test/dom0/boot/hello 1", "*/abi/* 2"],
      stale: ["ia64/pv/hvkit-test/dom0/abi/sizes", "ppc/*"],
    });
    // ia64/* now governs only boot/hello; once that passes it is fixed too.
    expect(ids(run({ ...all, "ia64/pv/hvkit-test/dom0/boot/hello": "SUCCESS" })).fixed).toContain(
      "ia64/* 1",
    );
    // One governed cell not run (a filtered or sharded run): not fixed, and not stale.
    const partial = { ...all };
    delete partial["ia64/pv/hvkit-test/domU/abi/sizes"];
    expect(ids(run(partial))).toEqual({
      fixed: ["x86_64/pv/hvkit-test/dom0/boot/hello 1"],
      stale: ["ia64/pv/hvkit-test/dom0/abi/sizes", "ppc/*"],
    });
    // One governed cell failing: not fixed.
    expect(ids(run({ ...all, "ia64/pv/hvkit-test/domU/abi/sizes": "FAILURE" })).fixed).toEqual([
      "x86_64/pv/hvkit-test/dom0/boot/hello 1",
    ]);
  });

  it("judges stale entries against the full matrix, not against what this run selected", () => {
    expect(ids(run({})).stale).toEqual(["ia64/pv/hvkit-test/dom0/abi/sizes", "ppc/*"]);
    expect(ids(run({})).fixed).toEqual([]);
  });
});
