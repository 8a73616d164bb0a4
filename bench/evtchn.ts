/**
 * Event-channel ping-pong between two domains: the committed guest `bench-pingpong`
 * (conformance/guests/x86_64/bench-pingpong.c) runs as dom0 ("ping N") and as a domU
 * booted with core's `bootDomU` ("pong N"). Before they run, the host binds one
 * interdomain channel between them with core's event-channel API (alloc_unbound in dom0
 * for domain 1, bind_interdomain from the domU), as a toolstack would. Each round trip:
 * ping's EVTCHNOP_send → pending bit, selector, upcall_pending in pong's shared_info →
 * pong, blocked in SCHEDOP_block, wakes, takes the upcall (bounce frame, handler, iret
 * hypercall) → pong sends back → ping wakes the same way. Both vCPUs share one host
 * thread under hvkit's scheduler, so every round trip also includes two context switches.
 *
 * Correctness is checked: each guest counts the events its upcall handler took on its
 * port and the sends that returned 0, prints both, and powers off only if both are N;
 * the run must end with both domains shut down (a lost event would deadlock it).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import {
  bootDomU,
  bootInitialDomain,
  evtchnAllocUnbound,
  evtchnBindInterdomain,
  ShutdownReason,
} from "@hvkit/core";
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

/** Knobs of {@link runEvtchnBench} (the defaults are what `npm run bench` uses). */
export interface EvtchnBenchOptions {
  /** Round trips per timed run (default 20,000). */
  readonly roundTrips?: number;
  /** Timed runs (default 5). */
  readonly runs?: number;
}

interface PingPongRun {
  readonly instructions: number;
  readonly time: HostTime;
}

/** Boots ping (dom0) and pong (domU), binds the channel, runs both to their shutdown. */
function runOnce(n: number): PingPongRun {
  const { machine, sink } = benchMachine();
  const image = guestImage("bench-pingpong");
  const ping = bootInitialDomain(machine, image, { cmdline: `ping ${n}`, maxPages: 2048 });
  const pong = bootDomU(machine, image, { cmdline: `pong ${n}`, maxPages: 2048 }).domain;
  const pingPort = evtchnAllocUnbound(machine, ping, pong.id);
  const pongPort = evtchnBindInterdomain(machine, pong, ping.id, pingPort);
  if (pingPort < 0 || pongPort < 0)
    throw new Error(`binding the channel failed: ${pingPort}, ${pongPort}`);
  const { result: outcome, time } = timed(() =>
    machine.run({ maxInstructions: 2000 * n + 5_000_000 }),
  );
  for (const [d, role, port] of [
    [ping, "ping", pingPort],
    [pong, "pong", pongPort],
  ] as const) {
    const out = sink.textOf(d.id);
    const want = `${role} port ${port}: sent ${n}, received ${n}, failed 0, stray 0\n`;
    if (d.shutdownReason !== ShutdownReason.Poweroff || !out.endsWith(want))
      throw new Error(
        `${role} (domain ${d.id}) ended ${outcome.kind}, reason ${d.shutdownReason}: ${JSON.stringify(out)}`,
      );
  }
  if (outcome.kind !== "all-shutdown") throw new Error(`ping-pong run ended ${outcome.kind}`);
  return { instructions: outcome.instructions, time };
}

/** Runs the benchmark: interdomain event-channel round trips per second. */
export function runEvtchnBench(options: EvtchnBenchOptions = {}): BenchReport {
  const n = options.roundTrips ?? 20_000;
  const runs = options.runs ?? 5;
  const base = runOnce(Math.min(100, n));
  const results = measuredRuns(runs, () => runOnce(n));
  const best = bestRun(results);
  const small = Math.min(100, n);
  const perTrip = n > small ? (best.instructions - base.instructions) / (n - small) : NaN;
  return {
    figures: [
      ...rateFigures(results, n, {
        perRun: "round trips per run",
        rate: "round trips/s",
        one: "round trip",
      }),
      { label: "guest instructions per round trip", value: perTrip },
    ],
    method:
      `guest bench-pingpong (C) as dom0 "ping" and a bootDomU domU "pong", one interdomain event ` +
      `channel bound by the host; ${n} round trips per run (send, SCHEDOP_block wake, upcall, iret, ` +
      `send back), both vCPUs on hvkit's scheduler in one host thread; timed is machine.run() only ` +
      `(boot and channel setup excluded), ${runs} runs after one warm-up, best and median, wall clock ` +
      `(process.hrtime) and process CPU time (process.cpuUsage). Instructions per round trip = extra ` +
      `guest instructions (both domains) of the ${n}-trip run over a ${small}-trip run, per extra trip. ` +
      "Checked: both guests counted N sends returning 0 and N events on their port (none stray) and " +
      "powered off; a lost event would deadlock the run.",
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = runEvtchnBench();
  for (const f of r.figures) console.log(`${f.label}: ${f.value}${f.unit ? " " + f.unit : ""}`);
  console.log(r.method);
}
