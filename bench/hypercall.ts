/**
 * Null hypercall round trips from guest code: the committed guest `bench-hypercall`
 * (conformance/guests/x86_64/bench-hypercall.c) calls xen_version(XENVER_version, NULL)
 * through its hypercall page N times and shuts down. Each call goes the whole way: the
 * X86Cpu interpreter runs the guest's `call` into the page stub, the stub's `syscall`
 * exits to the x86_64 PV plugin, the machine's dispatcher (table lookup, mode check, XSM
 * hook) runs the handler, and the result comes back in rax through the emulated sysret.
 *
 * Correctness is checked, not assumed: an untimed run counts the xen_version calls the
 * dispatcher actually saw, and every timed run must print "xen_version calls N, same
 * result N" and power off.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { bootInitialDomain, ShutdownReason, type HypercallObserver } from "@hvkit/core";
import type { BenchReport } from "./run.js";
import {
  benchMachine,
  bestRun,
  measuredRuns,
  guestImage,
  rateFigures,
  timed,
  type HostTime,
} from "./guest-machine.js";

/** Knobs of {@link runHypercallBench} (the defaults are what `npm run bench` uses). */
export interface HypercallBenchOptions {
  /** Hypercalls per timed run (default 500,000). */
  readonly calls?: number;
  /** Timed runs (default 5). */
  readonly runs?: number;
}

const XEN_VERSION = 17;
/** Calls in the untimed counting run; also the base of the per-call instruction count. */
const COUNTED_CALLS = 1000;

interface GuestRunResult {
  readonly instructions: number;
  readonly dispatched: number;
  readonly time: HostTime;
}

/** Boots the guest for `calls` calls and runs it to its shutdown; checks what it printed. */
function runOnce(calls: number, count: boolean): GuestRunResult {
  let dispatched = 0;
  // Counting run only: an observer of the dispatcher sees every call arrive.
  const counter: HypercallObserver = {
    hypercall: (_vcpu, nr) => {
      if (nr === XEN_VERSION) dispatched++;
    },
  };
  const { machine, sink } = benchMachine(64, count ? [counter] : []);
  const dom = bootInitialDomain(machine, guestImage("bench-hypercall"), { cmdline: String(calls) });
  const { result: outcome, time } = timed(() =>
    machine.run({ maxInstructions: 100 * calls + 1e6 }),
  );
  const out = sink.textOf(dom.id);
  const want = `xen_version calls ${calls}, same result ${calls}, version `;
  if (
    outcome.kind !== "all-shutdown" ||
    dom.shutdownReason !== ShutdownReason.Poweroff ||
    !out.startsWith(want)
  )
    throw new Error(
      `bench-hypercall (${calls} calls) ended ${outcome.kind}, reason ${dom.shutdownReason}: ${JSON.stringify(out)}`,
    );
  return { instructions: outcome.instructions, dispatched, time };
}

/** Runs the benchmark: null hypercalls per second through the whole guest → hypervisor path. */
export function runHypercallBench(options: HypercallBenchOptions = {}): BenchReport {
  const calls = options.calls ?? 500_000;
  const runs = options.runs ?? 5;
  const counted = Math.min(COUNTED_CALLS, calls);
  const base = runOnce(counted, true);
  if (base.dispatched !== counted)
    throw new Error(`the dispatcher saw ${base.dispatched} xen_version calls, want ${counted}`);
  const results = measuredRuns(runs, () => runOnce(calls, false));
  const best = bestRun(results);
  const perCall =
    calls > counted ? (best.instructions - base.instructions) / (calls - counted) : NaN;
  return {
    figures: [
      ...rateFigures(results, calls, {
        perRun: "hypercalls per run",
        rate: "null hypercalls/s",
        one: "call",
      }),
      { label: "guest instructions per call", value: perCall },
      {
        label: "guest MIPS during the run (best)",
        value: best.instructions / best.time.wall / 1e6,
        unit: "MIPS",
      },
    ],
    method:
      `guest bench-hypercall (C, conformance/guests/x86_64) as dom0 calls xen_version(XENVER_version, NULL) ` +
      `${calls} times through the hypercall page (stub → syscall → PV plugin → dispatcher with XSM hook → ` +
      `handler → result in rax, guest resumes after the syscall), then prints and powers off; timed is machine.run() only (boot excluded), ` +
      `${runs} runs after one warm-up run, best and median reported, wall clock (process.hrtime) and ` +
      `process CPU time (process.cpuUsage). Instructions per call = extra guest instructions of the ` +
      `${calls}-call run over a ${counted}-call run, per extra call (loop and stub included). ` +
      `Checked: a counting run saw ${counted} xen_version calls arrive at the dispatcher; every run ` +
      "printed its call count with all results equal and powered off.",
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = runHypercallBench();
  for (const f of r.figures) console.log(`${f.label}: ${f.value}${f.unit ? " " + f.unit : ""}`);
  console.log(r.method);
}
