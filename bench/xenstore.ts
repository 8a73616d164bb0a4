/**
 * Xenstore operations per second through the real daemon, at three layers:
 *
 * - guest: guest machine code. The committed domU `bench-xenstore`
 *   (conformance/guests/x86_64/bench-xenstore.c), launched by the built-in dom0
 *   ({@link BuiltinDom0}: xl-style home, INTRODUCE), writes requests into its store ring
 *   page, notifies its store port, and polls it for the reply; xenstored runs as host code
 *   on that notification (host-side event delivery at virtual time). Write and read only.
 * - ring: what a PV guest's xenbus driver does. The guest-side {@link XenbusClient}
 *   (@hvkit/guests xenbus) encodes each request into the domU's store ring page in machine
 *   memory with the xs_wire header and free-running indexes; its kick runs
 *   {@link XenstoreService.poll} (dom0's xenstored: ring server → daemon → reply into the
 *   ring → EVTCHNOP_send-equivalent event to the domU); the client then parses the reply.
 *   The domU was INTRODUCEd and given a libxl-style home, so its requests are unprivileged
 *   (permission and quota checks apply).
 * - daemon: the same requests handed to {@link XenstoreDaemon.handle} on the domU's
 *   connection directly, replies taken from its outbox (no ring, no wire encoding).
 *
 * In the ring and daemon layers no guest instructions run (the guest side is the
 * TypeScript client), so they measure hvkit's xenstore path without the interpreter.
 * Each run checks what it read.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import {
  evtchnAllocUnbound,
  ShutdownReason,
  XenstoreMessageType as T,
  type HvMachine,
} from "@hvkit/core";
import {
  BuiltinDom0,
  createDomainHome,
  nulStrings,
  splitStrings,
  textOf,
  XenbusClient,
  XenbusRingTransport,
  XenstoreService,
  type XenstoreConnection,
  type XenstoreDaemon,
} from "@hvkit/guests";
import type { BenchFigure, BenchReport } from "./run.js";
import { benchMachine, guestImage, median, timed, type HostTime } from "./guest-machine.js";

/** Knobs of {@link runXenstoreBench} (the defaults are what `npm run bench` uses). */
export interface XenstoreBenchOptions {
  /** Operations of each kind per timed run (default 10,000). */
  readonly ops?: number;
  /** Timed runs per kind and layer (default 5). */
  readonly runs?: number;
  /** The layers to measure (default all three). */
  readonly layers?: readonly XenstoreBenchLayer[];
}

/** Where the requests come from (see the module comment). */
export type XenstoreBenchLayer = "guest" | "ring" | "daemon";

/** Distinct keys the loops cycle through (all under the domU's writable `data/`). */
const KEYS = 64;

interface Store {
  readonly machine: HvMachine;
  readonly service: XenstoreService;
  readonly client: XenbusClient;
  readonly conn: XenstoreConnection;
  readonly daemon: XenstoreDaemon;
}

/** dom0 with xenstored, and domU 1 with an introduced store ring and a xenbus client on it. */
function store(): Store {
  const { machine } = benchMachine(4);
  const dom0 = machine.createDomain({ privileged: true, mode: "pv", vcpus: 1, id: 0 });
  const guest = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1, id: 1 });
  for (const d of [dom0, guest]) {
    d.maxPages = 16;
    d.sharedInfoMfn = machine.allocXenFrames(1)![0];
  }
  const ring = machine.allocFrames(guest, 1)![0];
  const port = evtchnAllocUnbound(machine, guest, 0);
  const service = new XenstoreService(machine, dom0);
  const rc = service.introduce(guest, ring, port);
  if (rc !== 0) throw new Error(`INTRODUCE failed: ${rc}`);
  createDomainHome(service.daemon, {
    domid: 1,
    name: "bench",
    storePort: port,
    storeRingRef: ring,
    memoryKiB: 4096,
  });
  const pageSize = machine.memory.pageSize;
  const client = new XenbusClient(
    new XenbusRingTransport(
      machine.memory.view,
      ring * pageSize,
      () => service.poll() > 0,
      machine.arch.dataModel,
    ),
  );
  return {
    machine,
    service,
    client,
    conn: service.daemon.connect(1),
    daemon: service.daemon,
  };
}

/** The operations, as done through a xenbus client on the ring. */
const RING_OPS = {
  write: (c: XenbusClient, i: number) => c.write(`data/bench/k${i % KEYS}`, `v${i}`),
  read: (c: XenbusClient, i: number) => {
    const v = c.read(`data/bench/k${i % KEYS}`);
    if (v !== `v${KEYS + (i % KEYS)}`) throw new Error(`read k${i % KEYS}: ${v}`);
  },
  directory: (c: XenbusClient) => {
    const n = c.directory("data/bench").length;
    if (n !== KEYS) throw new Error(`directory: ${n} entries`);
  },
  transaction: (c: XenbusClient, i: number) =>
    c.transaction((tx) => {
      const k = `data/bench/k${i % KEYS}`;
      c.write(k, c.read(k, tx), tx);
    }),
};
type OpName = keyof typeof RING_OPS;
const OP_NAMES = Object.keys(RING_OPS) as OpName[];

/** The same requests straight into the daemon (the transaction as its four requests). */
function daemonOp(s: Store, op: OpName, i: number): void {
  const ask = (type: T, payload: Uint8Array, txId = 0): Uint8Array => {
    s.daemon.handle(s.conn, { type, reqId: i, txId, payload });
    const reply = s.conn.outbox.shift()!;
    if (reply.type === T.ERROR) throw new Error(`${T[type]}: ${textOf(reply.payload)}`);
    return reply.payload;
  };
  const key = `data/bench/k${i % KEYS}`;
  const enc = new TextEncoder();
  if (op === "write") ask(T.WRITE, enc.encode(`${key}\0v${i}`));
  else if (op === "read") {
    const v = textOf(ask(T.READ, nulStrings(key)));
    if (v !== `v${KEYS + (i % KEYS)}`) throw new Error(`read ${key}: ${v}`);
  } else if (op === "directory") {
    if (splitStrings(ask(T.DIRECTORY, nulStrings("data/bench"))).length !== KEYS)
      throw new Error("directory: wrong entry count");
  } else {
    const tx = Number(splitStrings(ask(T.TRANSACTION_START, nulStrings("")))[0]);
    const v = ask(T.READ, nulStrings(key), tx);
    const p = enc.encode(`${key}\0`);
    const w = new Uint8Array(p.length + v.length);
    w.set(p);
    w.set(v, p.length);
    ask(T.WRITE, w, tx);
    ask(T.TRANSACTION_END, nulStrings("T"), tx);
  }
}

/** Fills the keys so reads find `v<KEYS + k>` in key k (the first write loop's last values). */
function seed(s: Store): void {
  for (let i = 0; i < 2 * KEYS; i++) s.client.write(`data/bench/k${i % KEYS}`, `v${i}`);
}

/** Runs `ops` operations of `op` at `layer` in a fresh store; returns wall and CPU seconds. */
function runOnce(layer: "ring" | "daemon", op: OpName, ops: number) {
  const s = store();
  seed(s);
  const body =
    layer === "ring"
      ? () => {
          const f = RING_OPS[op];
          for (let i = 0; i < ops; i++) f(s.client, op === "write" ? i + 2 * KEYS : i);
        }
      : () => {
          for (let i = 0; i < ops; i++) daemonOp(s, op, op === "write" ? i + 2 * KEYS : i);
        };
  const { time } = timed(body);
  // The last write of each key left `v<i>`: check the store saw every write.
  if (op === "write") {
    for (let k = 0; k < Math.min(KEYS, ops); k++) {
      const last = ops - 1 - ((ops - 1 - k) % KEYS) + 2 * KEYS;
      const v = s.client.read(`data/bench/k${k}`);
      if (v !== `v${last}`) throw new Error(`after ${ops} writes k${k} is ${v}, want v${last}`);
    }
  }
  return time;
}

/** Runs the guest `bench-xenstore` as a domU under the built-in dom0 for `ops` operations. */
function runGuestOnce(op: "write" | "read", ops: number): { time: HostTime; instructions: number } {
  const { machine, sink } = benchMachine();
  const dom0 = new BuiltinDom0(machine);
  const domU = dom0.launch(guestImage("bench-xenstore"), {
    cmdline: `${op} ${ops}`,
    name: "bench",
  }).domain;
  const { result: outcome, time } = timed(() =>
    machine.run({ maxInstructions: 20_000 * (ops + KEYS) + 5_000_000 }),
  );
  const out = sink.textOf(domU.id);
  if (
    outcome.kind !== "all-shutdown" ||
    domU.shutdownReason !== ShutdownReason.Poweroff ||
    !out.endsWith(`xenstore ${op} ${ops} ok ${ops}\n`)
  )
    throw new Error(
      `bench-xenstore ${op} ${ops} ended ${outcome.kind}, reason ${domU.shutdownReason}: ${JSON.stringify(out)}`,
    );
  return { time, instructions: outcome.instructions };
}

/** Runs the benchmark: xenstore operations per second from guest code, through the ring and at the daemon. */
export function runXenstoreBench(options: XenstoreBenchOptions = {}): BenchReport {
  const ops = options.ops ?? 10_000;
  const runs = options.runs ?? 5;
  const layers = new Set(options.layers ?? ["guest", "ring", "daemon"]);
  const figures: BenchFigure[] = [];
  for (const op of layers.has("guest") ? (["write", "read"] as const) : []) {
    const small = Math.min(100, ops);
    const base = runGuestOnce(op, small);
    runGuestOnce(op, Math.min(ops, 2000)); // warm-up
    const results = [];
    for (let r = 0; r < runs; r++) results.push(runGuestOnce(op, ops));
    const best = results.reduce((a, b) => (b.time.wall < a.time.wall ? b : a));
    figures.push(
      {
        label: `guest: ${op} (best, wall)`,
        value: Math.round(ops / best.time.wall),
        unit: "ops/s",
      },
      {
        label: `guest: ${op} (median, CPU)`,
        value: Math.round(ops / median(results.map((r) => r.time.cpu))),
        unit: "ops/s",
      },
      {
        label: `guest: ${op}, guest instructions per op`,
        value: ops > small ? (best.instructions - base.instructions) / (ops - small) : NaN,
      },
    );
  }
  for (const layer of (["ring", "daemon"] as const).filter((l) => layers.has(l))) {
    for (const op of OP_NAMES) {
      runOnce(layer, op, Math.min(ops, 2000)); // warm-up
      const times = [];
      for (let r = 0; r < runs; r++) times.push(runOnce(layer, op, ops));
      const best = Math.min(...times.map((t) => t.wall));
      const unit = op === "transaction" ? "tx/s" : "ops/s";
      figures.push(
        { label: `${layer}: ${op} (best, wall)`, value: Math.round(ops / best), unit },
        {
          label: `${layer}: ${op} (median, CPU)`,
          value: Math.round(ops / median(times.map((t) => t.cpu))),
          unit,
        },
      );
    }
  }
  return {
    figures,
    method:
      `"guest" = the C domU bench-xenstore under the built-in dom0 (BuiltinDom0.launch: bootDomU, ` +
      `home, INTRODUCE), ${ops} XS_WRITEs (or 64 seeding writes and ${ops} XS_READs, each value ` +
      `compared) over its store ring with EVTCHNOP_send and SCHEDOP_poll, xenstored as host code on ` +
      `each notification; timed is machine.run() (boot excluded), instructions per op = extra guest ` +
      `instructions over a 100-op run, per extra op; the guest checks every reply and powers off. ` +
      `Other layers: domU 1 (unprivileged, INTRODUCEd, libxl-style home) against dom0's xenstored; ${ops} operations ` +
      `per kind per run over ${KEYS} keys under data/bench: write, read (value checked), directory ` +
      `(${KEYS} entries, checked), transaction (start, read, write back, commit; one tx = 4 requests). ` +
      `"ring" = guest-side XenbusClient over the store ring page in machine memory, kicked into ` +
      `XenstoreService.poll (ring server, daemon, reply, event to the domU); "daemon" = ` +
      `XenstoreDaemon.handle on the domU's connection directly. No guest instructions run. ` +
      `Timed is the op loop only (fresh store, seeded first); ${runs} runs after one warm-up, best ` +
      `wall (process.hrtime) and median process CPU time (process.cpuUsage).`,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = runXenstoreBench();
  for (const f of r.figures) console.log(`${f.label}: ${f.value}${f.unit ? " " + f.unit : ""}`);
  console.log(r.method);
}
