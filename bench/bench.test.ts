/**
 * Smoke tests of the benchmarks: each runs with a tiny count, so a change that breaks a
 * benchmark's guest, its setup or its own correctness checks fails here rather than in
 * `npm run bench`. Speeds are never asserted; the guest instruction counts are (the model
 * is deterministic, so they depend only on the guest code and hvkit's ABI behaviour).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { checkBenchOutput, runCGuestBench } from "./c-guests.js";
import { runEvtchnBench } from "./evtchn.js";
import { runHypercallBench } from "./hypercall.js";
import { runLinuxBootBench } from "./linux-boot.js";
import { runXenstoreBench } from "./xenstore.js";
import type { BenchReport } from "./run.js";

function figure(r: BenchReport, label: string): number | string {
  const f = r.figures.find((x) => x.label === label);
  expect(f, label).toBeDefined();
  return f!.value;
}

describe("benchmarks (tiny counts)", () => {
  it("null hypercall: every call reaches the dispatcher; the loop costs ~20 guest instructions a call", () => {
    const r = runHypercallBench({ calls: 3000, runs: 1 });
    expect(figure(r, "hypercalls per run")).toBe(3000);
    // call, the page stub (push×2, mov, syscall, pop×2, ret), argument set-up and the loop.
    const perCall = figure(r, "guest instructions per call") as number;
    expect(perCall).toBeGreaterThan(10);
    expect(perCall).toBeLessThan(40);
    expect(figure(r, "null hypercalls/s (best, wall)")).toBeGreaterThan(0);
    expect(r.method).toMatch(/XENVER_version/);
  });

  it("event-channel ping-pong: both domains see every round trip", () => {
    const r = runEvtchnBench({ roundTrips: 300, runs: 1 });
    expect(figure(r, "round trips per run")).toBe(300);
    const perTrip = figure(r, "guest instructions per round trip") as number;
    expect(perTrip).toBeGreaterThan(50);
    expect(perTrip).toBeLessThan(2000);
    expect(figure(r, "round trips/s (best, wall)")).toBeGreaterThan(0);
  });

  it("xenstore from guest code: writes and reads over the store ring, every reply checked", () => {
    const r = runXenstoreBench({ ops: 120, runs: 1, layers: ["guest"] });
    for (const op of ["write", "read"]) {
      expect(figure(r, `guest: ${op} (best, wall)`)).toBeGreaterThan(0);
      // Framing, ring copies, send, poll and the reply check: hundreds, not thousands.
      const perOp = figure(r, `guest: ${op}, guest instructions per op`) as number;
      expect(perOp).toBeGreaterThan(100);
      expect(perOp).toBeLessThan(3000);
    }
  });

  it("xenstore through the xenbus client and at the daemon: every kind of operation", () => {
    const r = runXenstoreBench({ ops: 100, runs: 1, layers: ["ring", "daemon"] });
    for (const layer of ["ring", "daemon"])
      for (const op of ["write", "read", "directory", "transaction"])
        expect(figure(r, `${layer}: ${op} (best, wall)`)).toBeGreaterThan(0);
  });

  it("Linux boot: hvkit run boots the kernel and reports how far it got", async (ctx) => {
    const r = await runLinuxBootBench({
      roles: ["domU"],
      maxInstructions: 2_000_000,
      qemu: false,
      runs: 1,
    });
    const skipped = r.figures.find((f) => f.label === "skipped");
    if (skipped !== undefined) ctx.skip(String(skipped.value));
    // Two million instructions are far short of /init: the run ends on its budget (124),
    // and the --stats line is read back.
    expect(figure(r, "domU: /init not reached")).toMatch(
      /^exit 124 after 2000000 instructions: \(hvkit\) instruction budget of 2000000 ran out/,
    );
  }, 120_000);

  it("C guests: each workload's one pass under hvkit prints the golden text and its hash", () => {
    const r = runCGuestBench({ passes: 1, runs: 1, peers: false });
    for (const arch of ["x86_64", "x86"])
      for (const work of ["compute", "simd", "x87"]) {
        // One pass of each is 0.8 to 4.6 M instructions (boot and printing included).
        const n = figure(r, `${arch} ${work}: guest instructions`) as number;
        expect(n).toBeGreaterThan(500_000);
        expect(n).toBeLessThan(6_000_000);
        expect(figure(r, `${arch} ${work}: hvkit peak RSS`)).toBeGreaterThan(0);
      }
    // ppc has compute only, once its bench guest is built.
    const ppc = r.figures.find((f) => f.label === "ppc compute: guest instructions");
    if (ppc === undefined) expect(figure(r, "ppc compute: hvkit")).toMatch(/is not built/);
    else expect(ppc.value).toBeGreaterThan(500_000);
    expect(r.figures.some((f) => f.label.startsWith("ppc simd"))).toBe(false);
  }, 300_000);

  it("C guests: two passes under hvkit match the native program, qemu-user and v86 run it", () => {
    const r = runCGuestBench({ arches: ["x86"], workloads: ["compute"], passes: 2, runs: 1 });
    // Each peer is measured, or its row says what is missing.
    for (const peer of ["qemu-user", "v86"]) {
      const rows = r.figures.filter((f) => f.label.startsWith(`x86 compute: ${peer}`));
      expect(rows.length, peer).toBeGreaterThan(0);
    }
    expect(figure(r, "x86 compute: guest instructions")).toBeGreaterThan(6_000_000);
  }, 300_000);

  it("C guests: output that is not the golden text, or a wrong hash, is refused", () => {
    const golden = readFileSync(
      new URL("../conformance/guests/x86_64/expected/compute.txt", import.meta.url),
      "latin1",
    );
    const last = "bench compute_main: 1 passes, fnv-1a 0x";
    expect(() => checkBenchOutput("x86_64", "compute", 1, `${golden}${last}1\n`)).toThrow(
      /hash of one pass/,
    );
    const changed = golden.replace("sorted", "SORTED");
    expect(() => checkBenchOutput("x86_64", "compute", 1, `${changed}${last}1\n`)).toThrow(
      /first pass's output/,
    );
    expect(() => checkBenchOutput("x86_64", "compute", 3, `${golden}${last}ab\n`)).toThrow(
      /first pass's output/,
    );
    expect(() =>
      checkBenchOutput(
        "x86_64",
        "compute",
        3,
        `${golden}bench compute_main: 3 passes, fnv-1a 0xab\n`,
      ),
    ).not.toThrow();
  });
});
