/**
 * Runs hvkit's own conformance suite through the matrix runner, with the arches and guest
 * adapters the command registers and the committed baseline, so `npm test` fails when a cell regresses
 * (the conformance tests themselves are `*.conformance.ts`, outside vitest's glob).
 */
import { describe, expect, it } from "vitest";
import {
  CONFORMANCE_TESTS,
  DEFAULT_BASELINE_PATH,
  loadBaseline,
  runSuite,
} from "@hvkit/conformance";
import { discoverRootContainer } from "./composition.js";
import { ARCH_REGISTRY, GUEST_ADAPTER_REGISTRY } from "@hvkit/core";

describe("hvkit's conformance suite", () => {
  it("passes every cell the baseline does not expect to fail", async () => {
    const root = await discoverRootContainer();
    const report = await runSuite({
      arches: root.resolve(ARCH_REGISTRY).all(),
      tests: CONFORMANCE_TESTS,
      adapters: root.resolve(GUEST_ADAPTER_REGISTRY).all(),
      container: root,
      baseline: loadBaseline(DEFAULT_BASELINE_PATH),
    });
    const unexpected = report.entries
      .filter((e) => e.verdict === "fail")
      .map((e) => `${e.id}: ${e.result} ${e.message}`);
    expect(unexpected).toEqual([]);
    expect(report.summary.total).toBeGreaterThan(0);
    // The whole matrix in one test: it takes most of a minute on a loaded machine.
  }, 300_000);
});
