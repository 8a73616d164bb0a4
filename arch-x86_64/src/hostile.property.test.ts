/**
 * Hostile guests on the x86_64 PV MMU (the core's fake-arch property is
 * core/src/hostile.property.test.ts): an unprivileged domU makes random, mostly
 * well-formed page-table, descriptor and reservation hypercalls naming its own page
 * tables, its data frames, dom0's frames, Xen's frames and frames past memory, with every
 * foreigndom a guest can name. dom0 (the hello guest, built and never run) is the
 * well-behaved domain.
 *
 * After every call:
 * 1. the result is an integer and no internal error was caught;
 * 2. every frame of dom0 hashes as before and keeps its frame-table row (owner, general
 *    and type counts, type, flags): nothing of the attacker references it;
 * 3. walking every L4 table the attacker has (its root, user root and pinned ones), every
 *    present entry below Xen's slots names a frame the attacker owns (intermediate levels:
 *    typed as the next level down); a leaf names the attacker's frame, or one Xen shares
 *    with it; no writable leaf maps a page-table or descriptor page;
 * 4. no frame has a negative count, and a frame with type references has a type;
 * 5. the attacker's tot_pages is the number of frames it owns less those Xen shares with
 *    it (its grant table).
 *
 * Seeded; `HVKIT_FUZZ_RUNS=n` runs n sequences.
 *
 * @module
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import {
  bootDomU,
  bootInitialDomain,
  createMachine,
  FRAME_XEN,
  Hypercall,
  RecordingConsoleSink,
  type Domain,
  type HypercallArgs,
} from "@hvkit/core";
import { PageFlag, PageType, Pte } from "@hvkit/arch-x86";
import { X86_64PvPlugin } from "./plugin.js";

const HELLO = new URL("../../conformance/guests/x86_64/bin/hello.elf", import.meta.url);
const IMAGE = readFileSync(HELLO);

interface World {
  readonly machine: ReturnType<typeof createMachine>;
  readonly sink: RecordingConsoleSink;
  readonly dom0: Domain;
  readonly attacker: Domain;
  readonly scratch: bigint;
  readonly vStart: bigint;
}

function world(): World {
  const plugin = new X86_64PvPlugin();
  const sink = new RecordingConsoleSink();
  const machine = createMachine(container.createChildContainer(), {
    arch: plugin,
    memoryMiB: 24,
    console: sink,
  });
  const dom0 = bootInitialDomain(machine, IMAGE, { maxPages: 1024 });
  const attacker = bootDomU(machine, IMAGE, { maxPages: 1024 }).domain;
  attacker.maxPages += 16; // room for increase_reservation
  const layout = attacker.arch.layout!;
  return { machine, sink, dom0, attacker, scratch: layout.vStack, vStart: layout.vStart };
}

/** A frame as the test names it, resolved against the world when the call is made. */
type FrameName =
  ["own", PageType | "data" | "fresh"] | ["dom0", PageType | "data"] | ["raw", bigint];

/** The first frame of `d` with `type` and live type references ("data": untyped, "fresh": unreferenced). */
function findFrame(w: World, d: Domain, kind: PageType | "data" | "fresh"): number {
  const ft = w.machine.memory.frameTable;
  for (let mfn = ft.frames - 1; mfn >= 0; mfn--) {
    if (ft.owner[mfn] !== d.id) continue;
    if (kind === "fresh") {
      if (ft.refCount[mfn] === 0 && ft.typeCount[mfn] === 0) return mfn;
    } else if (kind === "data") {
      if (ft.typeCount[mfn] === 0 || ft.type[mfn] === PageType.Writable) return mfn;
    } else if (ft.type[mfn] === kind && ft.typeCount[mfn] > 0) return mfn;
  }
  return 0;
}

function resolve(w: World, f: FrameName): bigint {
  if (f[0] === "raw") return f[1];
  return BigInt(findFrame(w, f[0] === "own" ? w.attacker : w.dom0, f[1]));
}

const kinds = fc.constantFrom<PageType | "data">(
  PageType.L1,
  PageType.L2,
  PageType.L3,
  PageType.L4,
  "data",
  "data",
);
const frame: fc.Arbitrary<FrameName> = fc.oneof(
  { weight: 5, arbitrary: kinds.map((k): FrameName => ["own", k]) },
  { weight: 2, arbitrary: fc.constant<FrameName>(["own", "fresh"]) },
  { weight: 3, arbitrary: kinds.map((k): FrameName => ["dom0", k]) },
  fc.constantFrom<FrameName>(
    ["raw", 0n],
    ["raw", 4095n],
    ["raw", 4096n],
    ["raw", 1n << 36n],
    ["raw", (1n << 52n) - 1n],
  ),
);
const pteFlags = fc.constantFrom(
  0,
  Pte.P,
  Pte.P | Pte.RW,
  Pte.P | Pte.RW | Pte.US | Pte.A | Pte.D,
  Pte.P | Pte.US,
  Pte.P | Pte.RW | Pte.PSE,
  Pte.P | Pte.RW | Pte.AVAIL,
);
/** foreigndom: self, dom0, its own id, reserved ids, a page-table owner in the top half. */
const foreigndom = fc.constantFrom(0x7ff0, 0x7ff0, 0x7ff0, 0, 1, 0x7ff1, 0x7ff2, 0x7ff4, 1 << 16);

type Call = (w: World) => { nr: number; args: (number | bigint)[] };

function put64(w: World, va: bigint, value: bigint): void {
  const v = w.attacker.vcpus[0].arch;
  const pa = v.translate(va, true);
  if (pa >= 0) w.machine.memory.view.setBigUint64(pa, BigInt.asUintN(64, value), true);
}

const mmuUpdate: fc.Arbitrary<Call> = fc
  .record({
    reqs: fc.array(
      fc.record({
        table: frame,
        index: fc.constantFrom(0, 1, 255, 256, 272, 511),
        cmd: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 0, 1, 2, 3) }, fc.nat(7)),
        target: frame,
        flags: pteFlags,
      }),
      { minLength: 1, maxLength: 3 },
    ),
    dom: foreigndom,
    count: fc.constantFrom(1, 2, 3, 0, 0x80000001),
    bad: fc.constantFrom(0n, 0n, 0n, 0xffff830000000000n, 0x7fff00000000n),
  })
  .map((c): Call => (w) => {
    c.reqs.forEach((r, i) => {
      const ptr = (resolve(w, r.table) << 12n) + BigInt(r.index * 8) + BigInt(r.cmd);
      put64(w, w.scratch + BigInt(16 * i), ptr);
      put64(w, w.scratch + BigInt(16 * i) + 8n, (resolve(w, r.target) << 12n) | BigInt(r.flags));
    });
    const reqs = c.bad !== 0n ? c.bad : w.scratch;
    return { nr: Hypercall.mmu_update, args: [reqs, c.count, w.scratch + 0x800n, c.dom] };
  });

const updateVaMapping: fc.Arbitrary<Call> = fc
  .record({
    page: fc.oneof(fc.nat(40), fc.constantFrom(-1, 1 << 20)),
    raw: fc.constantFrom(0n, 0n, 0x0000800000000000n, 0xffff830000000000n),
    target: frame,
    flags: pteFlags,
    uvmf: fc.constantFrom(0n, 1n, 2n, 4n | 1n, 0x7fff00000000n | 1n),
  })
  .map((c): Call => (w) => {
    const va = c.raw !== 0n ? c.raw : BigInt.asUintN(64, w.vStart + BigInt(c.page) * 4096n);
    const val = (resolve(w, c.target) << 12n) | BigInt(c.flags);
    return { nr: Hypercall.update_va_mapping, args: [va, val, c.uvmf] };
  });

const mmuextOp: fc.Arbitrary<Call> = fc
  .record({
    cmd: fc.oneof({ weight: 8, arbitrary: fc.nat(17) }, fc.constantFrom(99, 0xffffffff)),
    target: frame,
    arg2: fc.oneof(frame, fc.constantFrom<FrameName>(["raw", 8192n])),
    linear: fc.boolean(),
    dom: foreigndom,
    count: fc.constantFrom(1, 1, 1, 0, 2),
  })
  .map((c): Call => (w) => {
    const arg1 = c.linear ? w.vStart + 0x1000n : resolve(w, c.target);
    put64(w, w.scratch, BigInt(c.cmd));
    put64(w, w.scratch + 8n, arg1);
    put64(w, w.scratch + 16n, c.cmd === 13 ? 16n : resolve(w, c.arg2));
    return { nr: Hypercall.mmuext_op, args: [w.scratch, c.count, 0, c.dom] };
  });

const descriptors: fc.Arbitrary<Call> = fc
  .record({
    gdt: fc.boolean(),
    target: frame,
    entries: fc.constantFrom(0, 1, 16, 512, 513, 7168, 7169),
    offset: fc.constantFrom(0n, 8n, 4n, 4088n),
    desc: fc.constantFrom(0n, 0x00af9a000000ffffn, 0x00cf92000000ffffn, 0x0000890000000000n),
  })
  .map((c): Call => (w) => {
    if (c.gdt) {
      put64(w, w.scratch, resolve(w, c.target));
      put64(w, w.scratch + 8n, resolve(w, c.target));
      return { nr: Hypercall.set_gdt, args: [w.scratch, c.entries] };
    }
    const ma = (resolve(w, c.target) << 12n) + c.offset;
    return { nr: Hypercall.update_descriptor, args: [ma, c.desc] };
  });

/** decrease_reservation / exchange of a frame; increase_reservation of one. */
const reservation: fc.Arbitrary<Call> = fc
  .record({ op: fc.constantFrom(0, 1, 1, 11), target: frame })
  .map((c): Call => (w) => {
    const list = w.scratch + 0x400n;
    put64(w, list, resolve(w, c.target));
    put64(w, list + 8n, 7n);
    if (c.op === 11) {
      // xen_memory_exchange: in {list, 1, 0, 0, SELF}, out {list + 8, 1, 0, 0, SELF}, 0.
      const e = w.scratch + 0x600n;
      const fields = [list, 1n, 0n, 0x7ff0n << 32n, list + 8n, 1n, 0n, 0x7ff0n << 32n, 0n];
      fields.forEach((f, i) => put64(w, e + BigInt(8 * i), f));
      return { nr: Hypercall.memory_op, args: [11, e] };
    }
    const r = w.scratch + 0x700n;
    [list, 1n, 0n, 0x7ff0n << 32n].forEach((f, i) => put64(w, r + BigInt(8 * i), f));
    return { nr: Hypercall.memory_op, args: [c.op, r] };
  });

const registerVcpuInfo: fc.Arbitrary<Call> = fc
  .record({ target: frame, offset: fc.constantFrom(0n, 64n, 4032n, 4090n) })
  .map((c): Call => (w) => {
    put64(w, w.scratch, resolve(w, c.target));
    put64(w, w.scratch + 8n, c.offset);
    return { nr: Hypercall.vcpu_op, args: [10, 0, w.scratch] };
  });

const call: fc.Arbitrary<Call> = fc.oneof(
  { weight: 6, arbitrary: mmuUpdate },
  { weight: 4, arbitrary: updateVaMapping },
  { weight: 5, arbitrary: mmuextOp },
  { weight: 2, arbitrary: descriptors },
  { weight: 2, arbitrary: reservation },
  { weight: 1, arbitrary: registerVcpuInfo },
);

// ---------------------------------------------------------------- invariants

function frameRows(w: World, d: Domain): number[] {
  const ft = w.machine.memory.frameTable;
  const bytes = w.machine.memory.bytes;
  const rows: number[] = [];
  for (let mfn = 0; mfn < ft.frames; mfn++) {
    if (ft.owner[mfn] !== d.id) continue;
    const words = new Int32Array(bytes.buffer, mfn * 4096, 1024);
    let h = 0x811c9dc5;
    for (let i = 0; i < 1024; i++) h = Math.imul(h ^ words[i], 16777619);
    rows.push(mfn, h, ft.refCount[mfn], ft.typeCount[mfn], ft.type[mfn], ft.flags[mfn]);
  }
  return rows;
}

const XEN_SLOTS_FIRST = 256;
const XEN_SLOTS_END = 272;

function brokenInvariant(w: World, dom0Rows: number[]): string | null {
  const ft = w.machine.memory.frameTable;
  const view = w.machine.memory.view;
  const a = w.attacker;
  const rows = frameRows(w, w.dom0);
  if (rows.length !== dom0Rows.length) return "dom0's frames changed hands";
  for (let i = 0; i < rows.length; i += 6)
    if (rows.slice(i, i + 6).join() !== dom0Rows.slice(i, i + 6).join())
      return `dom0 frame ${rows[i]}: ${dom0Rows.slice(i, i + 6)} → ${rows.slice(i, i + 6)}`;
  for (let mfn = 0; mfn < ft.frames; mfn++) {
    if (ft.refCount[mfn] < 0 || ft.typeCount[mfn] < 0) return `frame ${mfn}: negative count`;
    if (ft.typeCount[mfn] > 0 && ft.type[mfn] === PageType.None) return `frame ${mfn}: untyped`;
  }
  // Walk every L4 the attacker has.
  const walk = (table: number, level: number): string | null => {
    for (let i = 0; i < 512; i++) {
      if (level === 4 && i >= XEN_SLOTS_FIRST && i < XEN_SLOTS_END) continue;
      const lo = view.getUint32(table * 4096 + i * 8, true);
      if (!(lo & Pte.P)) continue;
      const hi = view.getUint32(table * 4096 + i * 8 + 4, true);
      const f = Number((BigInt(hi & 0xfffff) << 20n) | BigInt(lo >>> 12));
      if (f >= ft.frames) return `L${level} ${table}[${i}] names frame ${f} past memory`;
      if (level > 1) {
        if (ft.owner[f] !== a.id) return `L${level} ${table}[${i}] → frame ${f} of ${ft.owner[f]}`;
        if (ft.type[f] !== level - 1 || ft.typeCount[f] === 0)
          return `L${level} ${table}[${i}] → frame ${f} not an L${level - 1}`;
        const r = walk(f, level - 1);
        if (r !== null) return r;
        continue;
      }
      const shared = ft.owner[f] === FRAME_XEN && (ft.flags[f] & PageFlag.Shared) !== 0;
      if (ft.owner[f] !== a.id && !shared)
        return `L1 ${table}[${i}] maps frame ${f} of ${ft.owner[f]}`;
      const t = ft.type[f];
      if (lo & Pte.RW && ft.typeCount[f] > 0 && t !== PageType.Writable)
        return `L1 ${table}[${i}] maps frame ${f} (type ${t}) writable`;
    }
    return null;
  };
  let roots = 0;
  for (let mfn = 0; mfn < ft.frames; mfn++) {
    if (ft.owner[mfn] !== a.id || ft.type[mfn] !== PageType.L4 || ft.typeCount[mfn] === 0) continue;
    roots++;
    const r = walk(mfn, 4);
    if (r !== null) return r;
  }
  if (roots === 0) return "the attacker has no L4 table left to walk";
  // Frames Xen shares with the domain (its grant table: PageFlag.Shared) are not counted.
  let owned = 0;
  for (let mfn = 0; mfn < ft.frames; mfn++)
    if (ft.owner[mfn] === a.id && !(ft.flags[mfn] & PageFlag.Shared)) owned++;
  if (owned !== a.totPages) return `attacker owns ${owned} frames, tot_pages ${a.totPages}`;
  return null;
}

const stats = { steps: 0, ok: 0 };

function attack(calls: readonly Call[]): void {
  const w = world();
  const dom0Rows = frameRows(w, w.dom0);
  const first = brokenInvariant(w, dom0Rows);
  if (first !== null) throw new Error(`broken before the attack: ${first}`);
  const vcpu = w.attacker.vcpus[0];
  calls.forEach((c, i) => {
    if (w.attacker.isDead) return;
    const { nr, args } = c(w);
    const hargs: HypercallArgs = vcpu.hypercallArgs;
    for (let k = 0; k < 6; k++) {
      const x = BigInt.asUintN(64, BigInt(args[k] ?? 0));
      hargs.set(k, Number(x & 0xffffffffn), Number(x >> 32n));
    }
    const r = w.machine.dispatchHypercall(vcpu, nr, hargs);
    if (typeof r === "number" && !Number.isInteger(r)) throw new Error(`step ${i}: ${r}`);
    const internal = w.sink.messages.find((m) => m.includes("internal error"));
    if (internal) throw new Error(`step ${i}: hypercall ${nr}: ${internal}`);
    stats.steps++;
    if (Number(r) >= 0) stats.ok++;
    const broken = brokenInvariant(w, dom0Rows);
    if (broken !== null)
      throw new Error(`step ${i}: hypercall ${nr} (${args.join(", ")}) → ${String(r)}: ${broken}`);
  });
}

const RUNS = Number(process.env.HVKIT_FUZZ_RUNS ?? "") || 25;

describe("hostile PV guest on the x86_64 MMU (property)", () => {
  it("cannot reach dom0's frames, map a page table writable or unbalance the frame table", () => {
    fc.assert(
      fc.property(fc.array(call, { minLength: 20, maxLength: 40 }), (calls) => attack(calls)),
      { numRuns: RUNS, seed: 0x86_64 },
    );
    if (process.env.HVKIT_FUZZ_VERBOSE !== undefined) console.log(stats);
    expect(stats.ok).toBeGreaterThan(stats.steps / 20);
  }, 120_000);
});
