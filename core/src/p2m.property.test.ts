import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { XEN_MEMORY_EXCHANGE, XEN_MEMORY_RESERVATION } from "./abi/memory.js";
import { Hypercall, MemoryOp } from "./abi/numbers.js";
import type { Domain } from "./domain.js";
import { readGuestU64, StructBuffer, writeGuestStruct, writeGuestU64 } from "./guest-memory.js";
import { FRAME_FREE } from "./memory.js";
import { m2pGet } from "./p2m.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "./testing/fake-machine.js";
import { TEST_LP64_LE } from "./testing/data-models.js";

const RES = XEN_MEMORY_RESERVATION.layout(TEST_LP64_LE);
const EXCH = XEN_MEMORY_EXCHANGE.layout(TEST_LP64_LE);
const LIST = DATA_VA + 0x1000n;
const OUT = DATA_VA + 0x1800n;

type Step =
  | { kind: "increase" | "populate"; dom: number; nr: number; order: number; base: number }
  | { kind: "decrease"; dom: number; picks: number[]; order: number }
  | {
      kind: "exchange";
      dom: number;
      picks: number[];
      inOrder: number;
      outOrder: number;
      base: number;
    };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("increase" as const, "populate" as const),
    dom: fc.nat(1),
    nr: fc.integer({ min: 0, max: 6 }),
    order: fc.integer({ min: 0, max: 3 }),
    base: fc.nat(200),
  }),
  fc.record({
    kind: fc.constant("decrease" as const),
    dom: fc.nat(1),
    picks: fc.array(fc.nat(1000), { maxLength: 5 }),
    order: fc.integer({ min: 0, max: 1 }),
  }),
  fc.record({
    kind: fc.constant("exchange" as const),
    dom: fc.nat(1),
    picks: fc.array(fc.nat(1000), { minLength: 1, maxLength: 4 }),
    inOrder: fc.integer({ min: 0, max: 2 }),
    outOrder: fc.integer({ min: 0, max: 2 }),
    base: fc.nat(200),
  }),
);

function writeList(d: Domain, at: bigint, values: number[]) {
  values.forEach((x, i) => writeGuestU64(d.vcpus[0], at + BigInt(8 * i), BigInt(x)));
}

function reservation(d: Domain, nr: number, order: number) {
  const b = new StructBuffer(RES.size);
  RES.set(b.view, 0, "extent_start", LIST);
  RES.set(b.view, 0, "nr_extents", BigInt(nr));
  RES.set(b.view, 0, "extent_order", order);
  RES.set(b.view, 0, "domid", 0x7ff0);
  writeGuestStruct(d.vcpus[0], DATA_VA, RES, b);
  return DATA_VA;
}

describe("memory_op accounting (property)", () => {
  it("owned frames == totPages, M2P(p2m(pfn)) == pfn, no frame behind two pfns, after random sequences", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 25 }), (steps) => {
        const { machine } = fakeMachine({}, { memoryMiB: 1 });
        const doms = [addFakeDomain(machine, { pages: 3 }), addFakeDomain(machine, { pages: 3 })];
        const ft = machine.memory.frameTable;
        for (const d of doms) {
          d.maxPages = 80;
          for (let m = 0; m < ft.frames; m++) if (ft.owner[m] === d.id) ft.refCount[m]++; // mapped
        }
        const xenFrames = ft.owner.filter(
          (o) => o !== FRAME_FREE && !doms.some((d) => d.id === o),
        ).length;
        for (const s of steps) {
          const d = doms[s.dom];
          // Candidate frames: what the domain owns (and some it does not), for PV MFN lists.
          const mine: number[] = [];
          for (let m = 0; m < ft.frames; m++) if (ft.owner[m] === d.id) mine.push(m);
          const pick = (p: number) => (p % 7 === 6 ? p : (mine[p % Math.max(1, mine.length)] ?? p));
          let rc: number | bigint;
          if (s.kind === "increase" || s.kind === "populate") {
            writeList(
              d,
              LIST,
              Array.from({ length: s.nr }, (_, i) => s.base + i * (1 << s.order)),
            );
            const op =
              s.kind === "increase" ? MemoryOp.increase_reservation : MemoryOp.populate_physmap;
            rc = hypercall(d, Hypercall.memory_op, [op, reservation(d, s.nr, s.order)]);
            expect(rc).toBeGreaterThanOrEqual(0);
            expect(rc).toBeLessThanOrEqual(s.nr);
          } else if (s.kind === "decrease") {
            writeList(d, LIST, s.picks.map(pick));
            rc = hypercall(d, Hypercall.memory_op, [
              MemoryOp.decrease_reservation,
              reservation(d, s.picks.length, s.order),
            ]);
            expect(rc).toBeGreaterThanOrEqual(0);
          } else if (s.kind === "exchange") {
            const inNr = s.picks.length;
            const total = inNr << s.inOrder;
            const outNr = total >> s.outOrder;
            writeList(d, LIST, s.picks.map(pick));
            writeList(
              d,
              OUT,
              Array.from({ length: Math.max(outNr, 0) }, (_, i) => s.base + (i << s.outOrder)),
            );
            const b = new StructBuffer(EXCH.size);
            EXCH.set(b.view, 0, "in.extent_start", LIST);
            EXCH.set(b.view, 0, "in.nr_extents", BigInt(inNr));
            EXCH.set(b.view, 0, "in.extent_order", s.inOrder);
            EXCH.set(b.view, 0, "in.domid", 0x7ff0);
            EXCH.set(b.view, 0, "out.extent_start", OUT);
            EXCH.set(b.view, 0, "out.nr_extents", BigInt(outNr));
            EXCH.set(b.view, 0, "out.extent_order", s.outOrder);
            EXCH.set(b.view, 0, "out.domid", 0x7ff0);
            writeGuestStruct(d.vcpus[0], DATA_VA, EXCH, b);
            rc = hypercall(d, Hypercall.memory_op, [MemoryOp.exchange, DATA_VA]);
            const done = readGuestU64(d.vcpus[0], DATA_VA + BigInt(EXCH.offsetOf("nr_exchanged")));
            expect(done).toBeLessThanOrEqual(BigInt(inNr));
            if (rc === 0 && outNr << s.outOrder === total) expect(done).toBe(BigInt(inNr));
          }
          // Invariants.
          const behind = new Map<number, string>();
          let domainFrames = 0;
          for (const x of doms) {
            const n = ft.owner.filter((o) => o === x.id).length;
            expect(n).toBe(x.totPages);
            expect(x.totPages).toBeLessThanOrEqual(x.maxPages);
            domainFrames += n;
            x.p2m.forEach((mfn, pfn) => {
              if (mfn < 0) return;
              expect(m2pGet(machine, mfn)).toBe(pfn);
              expect(ft.owner[mfn]).toBe(x.id);
              const key = `${x.id}:${pfn}`;
              expect(behind.get(mfn) ?? key).toBe(key);
              behind.set(mfn, key);
            });
          }
          expect(machine.freeFrameCount() + domainFrames + xenFrames).toBe(ft.frames);
        }
      }),
      { numRuns: 150 },
    );
  });
});
