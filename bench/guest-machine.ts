/**
 * What the guest benchmarks share: hvkit's committed x86_64 test guests
 * (conformance/guests/x86_64/bin, built by conformance/guests/build.sh), a fresh machine
 * with the real core and the x86_64 PV plugin, and a clock read around `machine.run`.
 *
 * @module
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { container } from "tsyringe";
import {
  createMachine,
  HYPERCALL_OBSERVERS,
  RecordingConsoleSink,
  type HvMachine,
  type HypercallObserver,
} from "@hvkit/core";
import { X86_64PvPlugin } from "@hvkit/arch-x86_64";
import type { BenchFigure } from "./run.js";

/** The bytes of a committed test guest, `conformance/guests/x86_64/bin/<name>.elf`. */
export function guestImage(name: string): Uint8Array {
  return readFileSync(new URL(`../conformance/guests/x86_64/bin/${name}.elf`, import.meta.url));
}

/** A machine for one benchmark run, and the sink that records its consoles. */
export interface BenchMachine {
  /** The machine (x86_64 PV, every domain may write the console). */
  readonly machine: HvMachine;
  /** Console output by domain. */
  readonly sink: RecordingConsoleSink;
}

/**
 * A fresh x86_64 PV machine (its own child container) of `memoryMiB` (default 64), with
 * `observers` watching its hypercalls (none in a timed run: they would be timed too).
 */
export function benchMachine(
  memoryMiB = 64,
  observers: readonly HypercallObserver[] = [],
): BenchMachine {
  const sink = new RecordingConsoleSink();
  const parent = container.createChildContainer();
  for (const o of observers) parent.register(HYPERCALL_OBSERVERS, { useValue: o });
  const machine = createMachine(parent, {
    arch: new X86_64PvPlugin(),
    memoryMiB,
    console: sink,
    guestConsoleWrite: true,
  });
  return { machine, sink };
}

/** Host time spent in `body`: wall clock (hrtime) and this process's CPU time (user + system). */
export interface HostTime {
  /** Wall-clock seconds. */
  readonly wall: number;
  /** Process CPU seconds (all threads of the process, so GC helpers count too). */
  readonly cpu: number;
}

/** Runs `body` and returns its result with the host time it took. */
export function timed<R>(body: () => R): { result: R; time: HostTime } {
  const u0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const result = body();
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const u = process.cpuUsage(u0);
  return { result, time: { wall, cpu: (u.user + u.system) / 1e6 } };
}

/** The median of `values` (mean of the middle two when even). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One warm-up call of `once` (V8 optimises the interpreter and the paths it takes), then `runs` calls: their results. */
export function measuredRuns<R>(runs: number, once: () => R): R[] {
  once();
  const results: R[] = [];
  for (let i = 0; i < runs; i++) results.push(once());
  return results;
}

/** The run of `results` with the least wall time. */
export function bestRun<R extends { readonly time: HostTime }>(results: readonly R[]): R {
  return results.reduce((a, b) => (b.time.wall < a.time.wall ? b : a));
}

/** The labels of {@link rateFigures}: e.g. `round trips per run`, `round trips/s`, `round trip`. */
export interface RateLabels {
  /** The figure of operations per run. */
  readonly perRun: string;
  /** The rate, before ` (best, wall)`, ` (median, wall)`, ` (median, CPU)`. */
  readonly rate: string;
  /** One operation, in `time per <one> (best)`. */
  readonly one: string;
}

/**
 * The rate figures of `n` operations a run: `n`, operations per second at the best and the
 * median wall time and at the median CPU time, and the best wall time per operation (µs).
 */
export function rateFigures(
  results: readonly { readonly time: HostTime }[],
  n: number,
  labels: RateLabels,
): BenchFigure[] {
  const best = bestRun(results);
  return [
    { label: labels.perRun, value: n },
    { label: `${labels.rate} (best, wall)`, value: Math.round(n / best.time.wall) },
    {
      label: `${labels.rate} (median, wall)`,
      value: Math.round(n / median(results.map((r) => r.time.wall))),
    },
    {
      label: `${labels.rate} (median, CPU)`,
      value: Math.round(n / median(results.map((r) => r.time.cpu))),
    },
    { label: `time per ${labels.one} (best)`, value: (best.time.wall / n) * 1e6, unit: "µs" },
  ];
}
