import { describe, expect, it } from "vitest";
import { BaselineError, findBaselineEntry, judge, parseBaseline } from "./baseline.js";

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
