import { describe, expect, it } from "vitest";
import { isPassing, parseXtfResult, worstResult } from "./result.js";

describe("result lattice", () => {
  it("keeps the more severe result in either order", () => {
    expect(worstResult("SUCCESS", "FAILURE")).toBe("FAILURE");
    expect(worstResult("FAILURE", "SUCCESS")).toBe("FAILURE");
    expect(worstResult("SKIP", "ERROR")).toBe("ERROR");
    expect(worstResult("SKIP", "SUCCESS")).toBe("SKIP");
  });

  it("passes SUCCESS, SKIP and UNSUPPORTED only", () => {
    expect(
      ["SUCCESS", "SKIP", "UNSUPPORTED", "ERROR", "FAILURE"].map((r) => isPassing(r as never)),
    ).toEqual([true, true, true, false, false]);
  });
});

describe("parseXtfResult", () => {
  it("reads the result line among other console output", () => {
    expect(parseXtfResult("--- Xen Test Framework ---\nHello World\nTest result: SUCCESS\n")).toBe(
      "SUCCESS",
    );
  });

  it("keeps the most severe of several result lines", () => {
    expect(parseXtfResult("Test result: SKIP\nTest result: FAILURE\nTest result: SUCCESS\n")).toBe(
      "FAILURE",
    );
  });

  it("returns null when no result line was printed", () => {
    expect(parseXtfResult("Hello\n(crashed)\n")).toBeNull();
    expect(parseXtfResult("Test result: MAYBE\n")).toBeNull();
    expect(parseXtfResult("xTest result: SUCCESS\n")).toBeNull();
  });
});
