/**
 * The MMU's translation cases: real mode and the RMA, segments, the hashed page table
 * (primary and secondary PTEGs), R/C, storage protection, no-execute, the translation
 * cache's invalidation, accesses across pages, and the SLB instructions.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Msr, PpcExitReason, STORAGE_FAULT, StorageStatus } from "../cpu/cpu-api.js";
import {
  RMA,
  faultOf,
  guest,
  hEnter,
  primaryPteg,
  pte0,
  pte1,
  relocate,
  slbmte,
  slbRb,
  slbRs,
} from "./mmu-fixture.js";
import { HStatus, PaprHcall, paprHcall } from "./papr.js";

const VSID = 0x123456789n;
/** EA of page 3 of segment 1 (ESID 1). */
const EA = 0x10003000;
const P = 3;

/** A guest with segment 1 → VSID and page 3 → frame 20 (PP = 2: read/write for both keys). */
function mapped(pp = 2, extra = 0, ks = 0, kp = 1) {
  const g = guest();
  slbmte(g.cpu, g.mmu, slbRs(VSID, ks, kp), slbRb(1n, 5));
  expect(hEnter(g.mmu, primaryPteg(VSID, P) * 8, pte0(VSID, P), pte1(20, pp, extra))[0]).toBe(
    HStatus.Success,
  );
  relocate(g.cpu);
  return g;
}

describe("real mode", () => {
  it("reaches guest-physical memory inside the RMA, big-endian, ignoring EA bits 0:21", () => {
    const { mmu, bytes } = guest();
    mmu.write32(0, 0x1230, 0x11223344);
    expect([...bytes.subarray(0x1230, 0x1234)]).toEqual([0x11, 0x22, 0x33, 0x44]);
    expect(mmu.read16(0xc0000000 | 0, 0x1232)).toBe(0x3344);
    expect(mmu.read8(0, 0x1231)).toBe(0x22);
  });

  it("beyond the RMA is a storage interrupt (protection; store bit for stores), no effect", () => {
    const { mmu, bytes } = guest();
    expect(faultOf(() => mmu.read32(0, RMA))).toEqual({
      fetch: false,
      ea: RMA,
      status: StorageStatus.PROTECTION,
      segment: false,
    });
    expect(faultOf(() => mmu.write8(0, RMA + 5, 1))?.status).toBe(
      StorageStatus.PROTECTION | StorageStatus.STORE,
    );
    expect(faultOf(() => mmu.fetch(0, RMA))).toMatchObject({
      fetch: true,
      status: StorageStatus.PROTECTION,
    });
    // A word straddling the RMA's end writes nothing.
    expect(faultOf(() => mmu.write32(0, RMA - 2, -1))).not.toBeNull();
    expect(bytes[RMA - 2]).toBe(0);
  });

  it("a read-only grant map inside the RMA is read-only in real mode too", () => {
    const g = guest();
    const ro = 5;
    (g.frames as { readOnly?: (n: number) => boolean }).readOnly = (n) => n === ro;
    g.bytes[ro * 4096 + 8] = 0x11;
    expect(g.mmu.read8(0, ro * 4096 + 8)).toBe(0x11);
    // The load cached the page's translation: the store must still fault, and change nothing.
    expect(faultOf(() => g.mmu.write8(0, ro * 4096 + 8, 0x77))?.status).toBe(
      StorageStatus.PROTECTION | StorageStatus.STORE,
    );
    expect(g.bytes[ro * 4096 + 8]).toBe(0x11);
    g.mmu.write8(0, (ro + 1) * 4096, 0x22);
    expect(g.bytes[(ro + 1) * 4096]).toBe(0x22);
  });

  it("with IR = 1, DR = 0 fetches translate while data stays real", () => {
    const g = mapped();
    g.cpu.msrLo = Msr.IR;
    expect(g.mmu.read8(0, EA & 0xfff)).toBe(0);
    expect(faultOf(() => g.mmu.fetch(0, 0x1000))?.segment).toBe(true);
  });
});

describe("segments", () => {
  it("no SLB entry: data and instruction segment interrupts, through the CPU", () => {
    const { cpu } = guest();
    relocate(cpu, false, true);
    cpu.setPc(0x20000000n);
    expect(cpu.run(1).reason).toBe(PpcExitReason.InstructionSegment);
    // lwz r3,0(r9) at real 0x100 (instruction fetches stay real)
    const g = guest();
    g.bytes.set([0x80, 0x69, 0x00, 0x00], 0x100);
    g.cpu.msrLo = Msr.DR;
    g.cpu.setPc(0x100n);
    g.cpu.setGpr(9, 0x30000010n);
    const e = g.cpu.run(1);
    expect([e.reason, e.dar, g.cpu.pc]).toEqual([PpcExitReason.DataSegment, 0x30000010n, 0x100n]);
    // The CPU consumes the flag: a memory that never sets it cannot report a stale one.
    expect(STORAGE_FAULT.segment).toBe(false);
  });

  it("a segment with no PTE for the page: DSI 'not found' with the EA, ISI for a fetch", () => {
    const g = mapped();
    expect(faultOf(() => g.mmu.read32(0, EA + 0x1000))).toEqual({
      fetch: false,
      ea: EA + 0x1000,
      status: StorageStatus.NOT_FOUND,
      segment: false,
    });
    expect(faultOf(() => g.mmu.write32(0, EA + 0x1000, 0))?.status).toBe(
      StorageStatus.NOT_FOUND | StorageStatus.STORE,
    );
    g.cpu.msrLo |= Msr.IR;
    expect(faultOf(() => g.mmu.fetch(0, EA + 0x1000))).toMatchObject({
      fetch: true,
      status: StorageStatus.NOT_FOUND,
    });
  });

  it("in 32-bit mode the EA's high word is ignored", () => {
    const g = mapped();
    g.bytes[20 * 4096 + 7] = 0x5a;
    g.cpu.msrHi = 0;
    expect(g.mmu.read8(0x7777, EA + 7)).toBe(0x5a);
    g.cpu.msrHi = Msr.SF_HI;
    expect(faultOf(() => g.mmu.read8(0x7777, EA + 7))?.segment).toBe(true);
  });
});

describe("hashed page table", () => {
  it("translates through a primary-PTEG entry and sets R on a read, C on a write", () => {
    const g = mapped();
    g.bytes.set([1, 2, 3, 4], 20 * 4096 + 0x10);
    const ptex = primaryPteg(VSID, P) * 8;
    expect(g.mmu.read32(0, EA + 0x10)).toBe(0x01020304);
    expect(g.mmu.hpt.dword(ptex, 1) & 0x180n).toBe(0x100n);
    g.mmu.write16(0, EA + 0x12, 0xbeef);
    expect(g.mmu.hpt.dword(ptex, 1) & 0x180n).toBe(0x180n);
    expect(g.bytes[20 * 4096 + 0x12]).toBe(0xbe);
  });

  it("finds an entry in the secondary PTEG (H = 1) and not one whose H bit is wrong", () => {
    const g = guest();
    slbmte(g.cpu, g.mmu, slbRs(VSID, 0, 1), slbRb(1n, 0));
    const secondary = (~primaryPteg(VSID, P) & 0x7ff) * 8;
    hEnter(g.mmu, secondary, pte0(VSID, P, false), pte1(21, 2));
    relocate(g.cpu);
    expect(faultOf(() => g.mmu.read8(0, EA))?.status).toBe(StorageStatus.NOT_FOUND);
    paprHcall(g.mmu, PaprHcall.H_REMOVE, [0n, BigInt(secondary)], []);
    hEnter(g.mmu, secondary, pte0(VSID, P, true), pte1(21, 2));
    g.bytes[21 * 4096 + 9] = 0x77;
    expect(g.mmu.read8(0, EA + 9)).toBe(0x77);
  });

  it("a large-page segment (SLB L = 1) finds no 4 KiB entry", () => {
    const g = mapped();
    slbmte(g.cpu, g.mmu, slbRs(VSID, 0, 1) | 0x100n, slbRb(1n, 5));
    expect(faultOf(() => g.mmu.read8(0, EA))?.status).toBe(StorageStatus.NOT_FOUND);
  });

  it("matches the AVPN's page bits: page P + 2^11 shares P's PTEG but not its entry", () => {
    const g = mapped();
    expect(faultOf(() => g.mmu.read8(0, EA + (1 << 11) * 4096))?.status).toBe(
      StorageStatus.NOT_FOUND,
    );
  });

  it("storage protection follows the ISA's PP × key table for loads, stores and fetches", () => {
    // [key][pp] → [read, write]
    const table = [
      [
        [1, 1],
        [1, 1],
        [1, 1],
        [1, 0],
      ],
      [
        [0, 0],
        [1, 0],
        [1, 1],
        [1, 0],
      ],
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        (pp, pr, ks, kp) => {
          const g = mapped(pp, 0, ks ? 1 : 0, kp ? 1 : 0);
          relocate(g.cpu, pr, true);
          const key = (pr ? kp : ks) ? 1 : 0;
          const [r, w] = table[key]![pp]!;
          const rf = faultOf(() => g.mmu.read8(0, EA));
          const wf = faultOf(() => g.mmu.write8(0, EA, 1));
          const xf = faultOf(() => g.mmu.fetch(0, EA));
          expect(rf === null).toBe(r === 1);
          expect(wf === null).toBe(w === 1);
          expect(xf === null).toBe(r === 1);
          if (rf) expect(rf.status).toBe(StorageStatus.PROTECTION);
          if (wf) expect(wf.status).toBe(StorageStatus.PROTECTION | StorageStatus.STORE);
          if (xf) expect(xf.status).toBe(StorageStatus.PROTECTION);
        },
      ),
      { numRuns: 64 },
    );
  });

  it("no-execute: a fetch from an N segment, an N page or a G page is an ISI (bit 35); data still flows", () => {
    for (const [extra, segN] of [
      [0x4, 0],
      [0x8, 0],
      [0, 1],
    ] as const) {
      const g = guest();
      slbmte(g.cpu, g.mmu, slbRs(VSID, 0, 1, segN), slbRb(1n, 1));
      hEnter(g.mmu, primaryPteg(VSID, P) * 8, pte0(VSID, P), pte1(20, 2, extra));
      relocate(g.cpu, false, true);
      expect(faultOf(() => g.mmu.fetch(0, EA))).toMatchObject({
        fetch: true,
        status: StorageStatus.NO_EXECUTE,
      });
      expect(g.mmu.read8(0, EA)).toBe(0);
    }
  });

  it("a frame gone from the p2m after H_ENTER faults instead of reaching other memory", () => {
    const g = guest();
    slbmte(g.cpu, g.mmu, slbRs(VSID), slbRb(1n, 1));
    hEnter(g.mmu, primaryPteg(VSID, P) * 8, pte0(VSID, P), pte1(20, 2));
    (g.frames as { frameBase: (n: number) => number }).frameBase = () => -1;
    relocate(g.cpu);
    expect(faultOf(() => g.mmu.read8(0, EA))?.status).toBe(StorageStatus.NOT_FOUND);
  });
});

describe("translation cache", () => {
  it("H_REMOVE, H_PROTECT and slbie reach translations already cached", () => {
    const g = mapped();
    const ptex = BigInt(primaryPteg(VSID, P) * 8);
    g.mmu.write32(0, EA, 7);
    expect(g.mmu.read32(0, EA)).toBe(7);
    // Read-only for key 0 (PP = 3): the cached writable translation must go.
    expect(paprHcall(g.mmu, PaprHcall.H_PROTECT, [3n, ptex], [])).toBe(HStatus.Success);
    expect(faultOf(() => g.mmu.write32(0, EA, 8))?.status).toBe(
      StorageStatus.PROTECTION | StorageStatus.STORE,
    );
    expect(g.mmu.read32(0, EA)).toBe(7);
    expect(paprHcall(g.mmu, PaprHcall.H_REMOVE, [0n, ptex], [])).toBe(HStatus.Success);
    expect(faultOf(() => g.mmu.read32(0, EA))?.status).toBe(StorageStatus.NOT_FOUND);
    // slbie of a cached segment.
    const h = mapped();
    expect(h.mmu.read32(0, EA)).toBe(0);
    h.cpu.setGpr(6, 0x10000000n);
    expect(h.mmu.emulate(h.cpu, (31 << 26) | (6 << 11) | (434 << 1))).toBe(true);
    expect(faultOf(() => h.mmu.read32(0, EA))?.segment).toBe(true);
  });

  it("a translation cached in supervisor state is not used in problem state", () => {
    const g = mapped(0, 0, 0, 1); // PP 0: supervisor read/write, problem state none
    expect(g.mmu.read8(0, EA)).toBe(0);
    relocate(g.cpu, true);
    expect(faultOf(() => g.mmu.read8(0, EA))?.status).toBe(StorageStatus.PROTECTION);
  });

  it("a store through a translation first cached by a load sets C", () => {
    const g = mapped();
    g.mmu.read8(0, EA);
    const ptex = primaryPteg(VSID, P) * 8;
    expect(g.mmu.hpt.dword(ptex, 1) & 0x80n).toBe(0n);
    g.mmu.write8(0, EA, 1);
    expect(g.mmu.hpt.dword(ptex, 1) & 0x80n).toBe(0x80n);
  });
});

describe("accesses across a page boundary", () => {
  it("read and write through two mapped pages byte by byte, big-endian", () => {
    const g = mapped();
    hEnter(g.mmu, primaryPteg(VSID, P + 1) * 8, pte0(VSID, P + 1), pte1(30, 2));
    g.mmu.write32(0, EA + 0xffe, 0x0a0b0c0d);
    expect([
      g.bytes[20 * 4096 + 0xffe],
      g.bytes[20 * 4096 + 0xfff],
      g.bytes[30 * 4096],
      g.bytes[30 * 4096 + 1],
    ]).toEqual([0x0a, 0x0b, 0x0c, 0x0d]);
    expect(g.mmu.read32(0, EA + 0xffe)).toBe(0x0a0b0c0d);
    expect(g.mmu.read16(0, EA + 0xfff)).toBe(0x0b0c);
    g.mmu.write64(0, EA + 0xffc, 0x01020304, 0x05060708);
    expect(g.mmu.read32(0, EA + 0xffc)).toBe(0x01020304);
    expect(g.mmu.read32(0, EA + 0x1000)).toBe(0x05060708);
  });

  it("write64 into a second page that faults writes neither word", () => {
    const g = mapped();
    expect(faultOf(() => g.mmu.write64(0, EA + 0xffc, -1, -1))).toMatchObject({
      ea: EA + 0x1003,
      status: StorageStatus.NOT_FOUND | StorageStatus.STORE,
    });
    expect(g.mmu.read32(0, EA + 0xffc)).toBe(0);
    expect(faultOf(() => g.mmu.write16(0, EA + 0xfff, -1))).not.toBeNull();
    expect(g.mmu.read8(0, EA + 0xfff)).toBe(0);
  });
});

describe("SLB instructions", () => {
  const X = (xo: number, rt: number, rb: number): number =>
    (31 << 26) | (rt << 21) | (rb << 11) | (xo << 1);

  it("slbmfee/slbmfev read back what slbmte wrote; beyond the SLB they read 0", () => {
    const g = guest();
    slbmte(g.cpu, g.mmu, slbRs(VSID, 1, 0, 1), slbRb(0xabcdefn, 63));
    g.cpu.setGpr(4, 63n);
    g.cpu.setPc(0x1000n);
    expect(g.mmu.emulate(g.cpu, X(915, 3, 4))).toBe(true);
    expect(g.cpu.gpr(3)).toBe((0xabcdefn << 28n) | (1n << 27n));
    expect(g.cpu.pc).toBe(0x1004n);
    g.mmu.emulate(g.cpu, X(851, 3, 4));
    expect(g.cpu.gpr(3)).toBe(slbRs(VSID, 1, 0, 1));
    g.cpu.setGpr(4, 64n);
    g.mmu.emulate(g.cpu, X(851, 3, 4));
    expect(g.cpu.gpr(3)).toBe(0n);
  });

  it("slbia invalidates every entry but entry 0", () => {
    const g = guest();
    slbmte(g.cpu, g.mmu, slbRs(VSID), slbRb(1n, 0));
    slbmte(g.cpu, g.mmu, slbRs(VSID + 1n), slbRb(2n, 1));
    g.mmu.emulate(g.cpu, X(498, 0, 0));
    relocate(g.cpu);
    expect(faultOf(() => g.mmu.read8(0, 0x10000000))?.status).toBe(StorageStatus.NOT_FOUND);
    expect(faultOf(() => g.mmu.read8(0, 0x20000000))?.segment).toBe(true);
  });

  it("tlbie, tlbiel, tlbia and tlbsync are performed and skipped; other words are refused", () => {
    const g = guest();
    g.cpu.setPc(0x1000n);
    for (const xo of [306, 274, 370, 566]) expect(g.mmu.emulate(g.cpu, X(xo, 0, 4))).toBe(true);
    expect(g.cpu.pc).toBe(0x1010n);
    expect(g.mmu.emulate(g.cpu, X(266, 3, 4))).toBe(false); // add
    expect(g.mmu.emulate(g.cpu, 0x38600000)).toBe(false); // li r3,0
    expect(g.cpu.pc).toBe(0x1010n);
  });
});

describe("against a model of the page table", () => {
  type Op =
    | { kind: "enter"; p: number; gpfn: number; pp: number }
    | { kind: "remove"; p: number }
    | { kind: "read"; p: number }
    | { kind: "protect"; p: number; pp: number }
    | { kind: "write"; p: number; v: number }
    | { kind: "mode"; pr: boolean };
  const page = fc.integer({ min: 0, max: 3 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({
      kind: fc.constant("enter" as const),
      p: page,
      gpfn: fc.integer({ min: 16, max: 23 }),
      pp: fc.integer({ min: 0, max: 3 }),
    }),
    fc.record({ kind: fc.constant("remove" as const), p: page }),
    fc.record({ kind: fc.constant("read" as const), p: page }),
    fc.record({
      kind: fc.constant("protect" as const),
      p: page,
      pp: fc.integer({ min: 0, max: 3 }),
    }),
    fc.record({
      kind: fc.constant("write" as const),
      p: page,
      v: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({ kind: fc.constant("mode" as const), pr: fc.boolean() }),
  );

  it("every access after any sequence of hcalls sees the current entries (no stale translation)", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 80 }), (ops) => {
        const g = guest();
        slbmte(g.cpu, g.mmu, slbRs(VSID, 0, 1), slbRb(1n, 0));
        relocate(g.cpu);
        let pr = false;
        const pages = new Map<number, { gpfn: number; pp: number; slot: bigint }>();
        const memory = new Uint8Array(g.bytes.length);
        for (const o of ops) {
          const entry = "p" in o ? pages.get(o.p) : undefined;
          const ea = 0x10000000 + ("p" in o ? o.p : 0) * 4096 + 0x40;
          if (o.kind === "mode") {
            pr = o.pr;
            relocate(g.cpu, pr);
          } else if (o.kind === "enter") {
            if (entry) continue;
            g.cpu.msrLo &= ~Msr.PR;
            const [s, slot] = hEnter(
              g.mmu,
              primaryPteg(VSID, o.p) * 8,
              pte0(VSID, o.p),
              pte1(o.gpfn, o.pp),
            );
            relocate(g.cpu, pr);
            expect(s).toBe(HStatus.Success);
            pages.set(o.p, { gpfn: o.gpfn, pp: o.pp, slot });
          } else if (o.kind === "remove" || o.kind === "protect") {
            if (!entry) continue;
            g.cpu.msrLo &= ~Msr.PR;
            const nr = o.kind === "remove" ? PaprHcall.H_REMOVE : PaprHcall.H_PROTECT;
            const flags = o.kind === "protect" ? BigInt(o.pp) : 0n;
            expect(paprHcall(g.mmu, nr, [flags, entry.slot], [])).toBe(HStatus.Success);
            relocate(g.cpu, pr);
            if (o.kind === "remove") pages.delete(o.p);
            else entry.pp = o.pp;
          } else {
            // Kp = 1 in problem state, Ks = 0 otherwise.
            const key = pr ? 1 : 0;
            const pp = entry?.pp ?? 0;
            const canRead = entry !== undefined && (key === 0 || pp !== 0);
            const canWrite = entry !== undefined && (key === 0 ? pp !== 3 : pp === 2);
            if (o.kind === "read") {
              const f = faultOf(() => g.mmu.read8(0, ea));
              if (canRead) {
                expect(f).toBeNull();
                expect(g.mmu.read8(0, ea)).toBe(memory[entry!.gpfn * 4096 + 0x40]);
              } else
                expect(f?.status).toBe(entry ? StorageStatus.PROTECTION : StorageStatus.NOT_FOUND);
            } else {
              const f = faultOf(() => g.mmu.write8(0, ea, o.v));
              expect(f === null).toBe(canWrite);
              if (canWrite) memory[entry!.gpfn * 4096 + 0x40] = o.v;
            }
          }
        }
        expect(Buffer.compare(g.bytes, memory)).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
