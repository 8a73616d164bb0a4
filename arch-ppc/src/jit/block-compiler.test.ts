/**
 * The block compiler against the interpreter: the same programs run on two CPUs, one
 * interpreting every instruction (`compiler = null`), one compiling every block at its
 * first or second visit, and must end in the same state with the same exits: fast-check
 * random loops of integer, load/store and branch instructions (run in random budget
 * slices), every case of the execution corpus, the compiled C program, storage faults in
 * the middle of a block and code that rewrites itself.
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { computeExpected, loadCompute, runCompute } from "../cpu/compute-program.js";
import { Msr, PpcExitReason, Spr } from "../cpu/cpu-api.js";
import { PpcCpu } from "../cpu/cpu.js";
import { RealModeMemory } from "../cpu/memory.js";
import { PpcHashedPageTable } from "../mmu/hpt.js";
import { hEnter, pte0, pte1, primaryPteg, slbRb, slbRs, slbmte } from "../mmu/mmu-fixture.js";
import { PpcMmu } from "../mmu/mmu.js";
import { startPpcProfile } from "./exec-profile.js";

const CODE = 0x1000;
const DATA = 0x3000;
const SIZE = 0x8000;

/** The storage the pair runs on. */
interface Storage {
  readonly bytes: Uint8Array;
}

interface Pair {
  readonly interp: PpcCpu;
  readonly comp: PpcCpu;
  readonly interpMem: Storage;
  readonly compMem: Storage;
}

/**
 * The storage of a pair: a flat real-mode memory; the MMU in real mode (its data
 * translation cache, which compiled code reads inline, holds RMA pages); or the MMU
 * translating data (DR = 1) through an SLB entry and PTEs mapping every page 1:1, the
 * page at `READ_ONLY` with PP = 3 (read only).
 */
type StorageKind = "flat" | "mmu-real" | "mmu-translated";
const KINDS: readonly StorageKind[] = ["flat", "mmu-real", "mmu-translated"];
const READ_ONLY = 0x6000;
const VSID = 0x1234n;

function storage(kind: StorageKind, cpu: PpcCpu): Storage {
  const bytes = new Uint8Array(SIZE);
  if (kind === "flat") {
    cpu.memory = new RealModeMemory(bytes);
    return { bytes };
  }
  const frames = {
    bytes,
    frameBase: (g: number) => (g >= 0 && g < SIZE / 4096 ? g * 4096 : -1),
    mayMap: (g: number) => g >= 0 && g < SIZE / 4096,
  };
  const mmu = new PpcMmu(frames, new PpcHashedPageTable(18), SIZE);
  mmu.attach(cpu);
  if (kind === "mmu-translated") {
    slbmte(cpu, mmu, slbRs(VSID, 0, 1), slbRb(0n, 0));
    for (let pg = 0; pg < SIZE / 4096; pg++) {
      const pp = pg * 4096 === READ_ONLY ? 3 : 2;
      const [status] = hEnter(mmu, primaryPteg(VSID, pg) * 8, pte0(VSID, pg), pte1(pg, pp));
      expect(status).toBe(0);
    }
  }
  return { bytes };
}

/** Two CPUs on two copies of the same memory, one interpreting and one compiling. */
function pair(
  words: readonly number[],
  setup: (cpu: PpcCpu) => void,
  threshold = 1,
  kind: StorageKind = "flat",
): Pair {
  const make = (compiled: boolean): { cpu: PpcCpu; mem: Storage } => {
    const cpu = new PpcCpu(new RealModeMemory(new Uint8Array(0)));
    const mem = storage(kind, cpu);
    const view = new DataView(mem.bytes.buffer);
    words.forEach((w, i) => view.setInt32(CODE + 4 * i, w));
    for (let a = DATA; a < DATA + 0x400; a++) mem.bytes[a] = (a * 37 + 11) & 0xff;
    if (!compiled) cpu.compiler = null;
    else cpu.compiler!.threshold = threshold;
    cpu.msrHi = Msr.SF_HI;
    cpu.msrLo = Msr.FP | Msr.PR | (kind === "mmu-translated" ? Msr.DR : 0);
    cpu.setPc(BigInt(CODE));
    cpu.setGpr(9, BigInt(DATA + 0x100));
    cpu.setGpr(0, 8n);
    setup(cpu);
    return { cpu, mem };
  };
  const a = make(false);
  const b = make(true);
  return { interp: a.cpu, comp: b.cpu, interpMem: a.mem, compMem: b.mem };
}

/** Everything architectural a block could change, for comparing two CPUs. */
function state(cpu: PpcCpu, mem: Storage): unknown {
  return {
    gprs: Array.from({ length: 32 }, (_, r) => cpu.gpr(r).toString(16)),
    cr: cpu.cr >>> 0,
    xer: cpu.xer >>> 0,
    lr: [cpu.sprHi[Spr.LR], cpu.sprLo[Spr.LR]],
    ctr: [cpu.sprHi[Spr.CTR], cpu.sprLo[Spr.CTR]],
    pc: cpu.pc.toString(16),
    instructions: cpu.instructions,
    data: Buffer.from(mem.bytes.subarray(CODE, DATA + 0x400)).toString("hex"),
  };
}

/** Runs both CPUs in the same budget slices until an exit that is not the budget's (or `limit`). */
function runBoth(p: Pair, slices: readonly number[], limit = 20000): unknown[] {
  const exits: unknown[] = [];
  for (let s = 0; p.interp.instructions < limit; s++) {
    const b = slices[s % slices.length]!;
    const x = p.interp.run(b);
    const ex = { ...x, dar: x.dar.toString(16) };
    const y = p.comp.run(b);
    const ey = { ...y, dar: y.dar.toString(16) };
    expect(ey).toEqual(ex);
    expect(state(p.comp, p.compMem)).toEqual(state(p.interp, p.interpMem));
    exits.push(ex.reason);
    if (x.reason !== PpcExitReason.Budget) break;
  }
  return exits;
}

// Encodings (Power ISA Book I): D, X, XO, M, MD and XS forms.
const d = (op: number, rt: number, ra: number, imm: number): number =>
  (op << 26) | (rt << 21) | (ra << 16) | (imm & 0xffff) | 0;
const x = (rt: number, ra: number, rb: number, xo: number, rc = 0): number =>
  (31 << 26) | (rt << 21) | (ra << 16) | (rb << 11) | (xo << 1) | rc | 0;
const m = (
  op: number,
  rs: number,
  ra: number,
  sh: number,
  mb: number,
  me: number,
  rc = 0,
): number => (op << 26) | (rs << 21) | (ra << 16) | (sh << 11) | (mb << 6) | (me << 1) | rc | 0;
const md = (rs: number, ra: number, sh: number, mb: number, xo: number, rc = 0): number =>
  (30 << 26) |
  (rs << 21) |
  (ra << 16) |
  ((sh & 31) << 11) |
  ((mb & 31) << 6) |
  (mb & 32) |
  (xo << 2) |
  ((sh >> 5) << 1) |
  rc |
  0;
const sradi = (rs: number, ra: number, sh: number, rc = 0): number =>
  (31 << 26) | (rs << 21) | (ra << 16) | ((sh & 31) << 11) | (413 << 2) | ((sh >> 5) << 1) | rc | 0;
const ds = (op: number, rt: number, ra: number, disp: number, xo: number): number =>
  (op << 26) | (rt << 21) | (ra << 16) | (disp & 0xfffc) | xo | 0;
const bc = (bo: number, bi: number, disp: number): number =>
  (16 << 26) | (bo << 21) | (bi << 16) | (disp & 0xfffc) | 0;
const SC = 0x44000002;
const MTCTR = (rs: number): number => x(rs, 9, 0, 467); // mtspr CTR (SPR 9: halves swapped)

/** Destination registers of the random programs (r0 holds an index, r9 the data base). */
const dest = fc.constantFrom(3, 4, 5, 6, 7, 8, 10, 11, 12);
const src = fc.constantFrom(0, 3, 4, 5, 6, 7, 8, 10, 11, 12);
const rc = fc.constantFrom(0, 1);
const imm16 = fc.integer({ min: -0x8000, max: 0x7fff });
const sh5 = fc.integer({ min: 0, max: 31 });
const sh6 = fc.integer({ min: 0, max: 63 });
const disp = fc.integer({ min: -0x80, max: 0x78 });

/** One random instruction the compiler compiles (or hands to the interpreter). */
const insn: fc.Arbitrary<number> = fc.oneof(
  fc
    .tuple(fc.constantFrom(14, 15, 12, 13, 8, 7, 24, 25, 26, 27, 28, 29), dest, src, imm16)
    .map(([op, rt, ra, i]) => d(op, rt, ra, i)),
  fc
    .tuple(
      fc.constantFrom(10, 11),
      fc.integer({ min: 0, max: 7 }),
      fc.constantFrom(0, 1),
      src,
      imm16,
    )
    .map(([op, bf, l, ra, i]) => d(op, (bf << 2) | l, ra, i)),
  fc
    .tuple(
      fc.constantFrom(266, 10, 138, 40, 8, 136, 235, 233, 75, 11, 491, 459, 489, 457, 73, 9),
      dest,
      src,
      src,
      rc,
      fc.constantFrom(0, 0, 0, 1),
    )
    .map(([xo, rt, ra, rb, r, oe]) => x(rt, ra, rb, xo | (oe << 9), r)),
  fc
    .tuple(fc.constantFrom(202, 234, 200, 232, 104), dest, src, rc)
    .map(([xo, rt, ra, r]) => x(rt, ra, 0, xo, r)),
  fc
    .tuple(
      fc.constantFrom(28, 444, 316, 476, 124, 284, 60, 412, 24, 536, 792, 27, 539, 794),
      src,
      dest,
      src,
      rc,
    )
    .map(([xo, rs, ra, rb, r]) => x(rs, ra, rb, xo, r)),
  fc
    .tuple(fc.constantFrom(954, 922, 986, 26, 58), src, dest, rc)
    .map(([xo, rs, ra, r]) => x(rs, ra, 0, xo, r)),
  fc.tuple(src, dest, sh5, rc).map(([rs, ra, sh, r]) => x(rs, ra, sh, 824, r)),
  fc
    .tuple(fc.constantFrom(0, 32), fc.integer({ min: 0, max: 7 }), fc.constantFrom(0, 1), src, src)
    .map(([xo, bf, l, ra, rb]) => x((bf << 2) | l, ra, rb, xo)),
  fc
    .tuple(fc.constantFrom(20, 21, 23), src, dest, sh5, sh5, sh5, rc)
    .map(([op, rs, ra, sh, mb, me, r]) => m(op, rs, ra, sh, mb, me, r)),
  fc
    .tuple(src, dest, sh6, sh6, fc.constantFrom(0, 1, 2, 3), rc)
    .map(([rs, ra, sh, mb, xo, r]) => md(rs, ra, sh, mb, xo, r)),
  fc.tuple(src, dest, sh6, rc).map(([rs, ra, sh, r]) => sradi(rs, ra, sh, r)),
  // Loads and stores around r9 (D and DS forms), and indexed by r0.
  fc
    .tuple(fc.constantFrom(32, 34, 40, 42, 36, 38, 44), dest, disp)
    .map(([op, rt, o]) => d(op, rt, 9, o)),
  fc
    .tuple(fc.constantFrom([58, 0], [58, 2], [62, 0]), dest, disp)
    .map(([[op, xo], rt, o]) => ds(op!, rt, 9, o, xo!)),
  fc
    .tuple(fc.constantFrom(23, 151, 21, 149, 790, 534, 918, 662, 87, 215, 279, 343, 407), dest)
    .map(([xo, rt]) => x(rt, 9, 0, xo)),
  // CR and LR moves; a branch over the next instruction.
  dest.map((rt) => x(rt, 0, 0, 19)),
  fc
    .tuple(src, fc.integer({ min: 1, max: 255 }))
    .map(([rs, fxm]) => x(rs, fxm >> 4, (fxm & 15) << 1, 144)),
  fc.tuple(dest, fc.constantFrom(0, 1)).map(([rt, to]) => x(rt, 8, 0, to ? 467 : 339)),
  fc
    .tuple(fc.constantFrom(12, 4, 20), fc.integer({ min: 0, max: 31 }))
    .map(([bo, bi]) => bc(bo, bi, 8)),
);

describe.each(KINDS)("compiled blocks against the interpreter (%s storage)", (kind) => {
  it("random loops end in the same state, whatever the budget slices", () => {
    fc.assert(
      fc.property(
        fc.array(insn, { minLength: 1, maxLength: 40 }),
        fc.array(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), { minLength: 12, maxLength: 12 }),
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer(),
        (body, regs, slices, threshold, crxer) => {
          // r31 = iterations; mtctr r31; body; bdnz body; sc
          const words = [MTCTR(31), ...body, bc(16, 0, -4 * body.length), SC];
          const p = pair(
            words,
            (cpu) => {
              [3, 4, 5, 6, 7, 8, 10, 11, 12].forEach((r, i) => cpu.setGpr(r, regs[i]!));
              cpu.setGpr(31, 5n + (regs[9]! & 7n));
              cpu.cr = crxer;
              cpu.xer = crxer & 0xe0000000;
            },
            threshold,
            kind,
          );
          const exits = runBoth(p, slices);
          expect(exits.at(-1)).toBeDefined();
        },
      ),
      { numRuns: kind === "flat" ? 300 : 150 },
    );
  });

  it.runIf(kind === "flat")(
    "multiply and divide agree on the edge values (signs, zero, overflow)",
    () => {
      const values = [
        0n,
        1n,
        7n,
        0x7fffffffn,
        0x80000000n,
        0xffffffffn,
        1n << 32n,
        0x123456789abcdefn,
      ];
      const all = values.flatMap((v) => [v, BigInt.asUintN(64, -v)]);
      all.push(1n << 63n, (1n << 63n) - 1n);
      // divd, divdu, divw, divwu, mulhd, mulhdu, mulld, mullw, mulhw, mulhwu (Rc = 1)
      const ops = [489, 457, 491, 459, 73, 9, 233, 235, 75, 11].map((xo) => x(3, 4, 5, xo, 1));
      let runs = 0;
      for (const op of ops)
        for (const a of all)
          for (const b of all) {
            const p = pair([op, SC], (cpu) => {
              cpu.setGpr(4, a);
              cpu.setGpr(5, b);
            });
            runBoth(p, [10]);
            runs++;
          }
      expect(runs).toBe(ops.length * all.length * all.length);
    },
  );

  it("a compiled loop runs compiled: few instructions interpreted", () => {
    // li r3,0; li r4,1000; mtctr r4; loop: addi r3,r3,3; rldicl r3,r3,1,1; bdnz loop; sc
    const words = [d(14, 3, 0, 0), d(14, 4, 0, 1000), MTCTR(4)];
    words.push(d(14, 3, 3, 3), md(3, 3, 1, 1, 0), bc(16, 0, -8), SC);
    const p = pair(words, () => {}, 16, kind);
    runBoth(p, [100000]);
    const prof = p.comp.compiler!.profile;
    expect(prof.compiled).toBeGreaterThan(0);
    expect(prof.interpreted).toBeLessThan(100);
  });

  it("a storage fault in the middle of a block leaves pc, count and DAR at the faulting load", () => {
    // addi r3,r3,1; addi r4,r4,1; lwz r5,0(r6); addi r7,r7,1; b -16 (r6 walks towards the end of memory)
    const words = [d(14, 3, 3, 1), d(14, 4, 4, 1), d(32, 5, 6, 0), d(14, 6, 6, 0x100), 0x4bfffff0];
    const p = pair(words, (cpu) => cpu.setGpr(6, BigInt(SIZE - 0x1000)), 1, kind);
    const exits = runBoth(p, [7, 3, 50]);
    expect(exits.at(-1)).toBe(PpcExitReason.DataStorage);
    expect(p.comp.pc).toBe(BigInt(CODE + 8));
  });

  it("a store over compiled code is seen: the new instruction runs", () => {
    // loop: addi r3,r3,1; stw r4,0(r5); bdnz loop; sc — r5 points at the addi, r4 = addi r3,r3,100
    const words = [MTCTR(31), d(14, 3, 3, 1), d(36, 4, 5, 0), bc(16, 0, -8), SC];
    const p = pair(
      words,
      (cpu) => {
        cpu.setGpr(31, 50n);
        cpu.setGpr(4, BigInt(d(14, 3, 3, 100)));
        cpu.setGpr(5, BigInt(CODE + 4));
      },
      2,
      kind,
    );
    runBoth(p, [1000]);
    expect(p.comp.gpr(3)).toBe(1n + 49n * 100n);
  });

  // Every access size and form, walking byte by byte across the page end at 0x5000.
  const accesses: [string, number][] = [
    ["lbz", d(34, 5, 6, 0)],
    ["lhz", d(40, 5, 6, 0)],
    ["lha", d(42, 5, 6, 0)],
    ["lwz", d(32, 5, 6, 0)],
    ["lwzu", d(33, 5, 6, 0)],
    ["lwa", ds(58, 5, 6, 0, 2)],
    ["ld", ds(58, 5, 6, 0, 0)],
    ["lwzx", x(5, 6, 0, 23)],
    ["lwax", x(5, 6, 0, 341)],
    ["lhax", x(5, 6, 0, 343)],
    ["ldx", x(5, 6, 0, 21)],
    ["lhbrx", x(5, 6, 0, 790)],
    ["lwbrx", x(5, 6, 0, 534)],
    ["stb", d(38, 4, 6, 0)],
    ["sth", d(44, 4, 6, 0)],
    ["stw", d(36, 4, 6, 0)],
    ["stwu", d(37, 4, 6, 0)],
    ["std", ds(62, 4, 6, 0, 0)],
    ["stdu", ds(62, 4, 6, 0, 1)],
    ["stwx", x(4, 6, 0, 151)],
    ["stdx", x(4, 6, 0, 149)],
    ["sthbrx", x(4, 6, 0, 918)],
    ["stwbrx", x(4, 6, 0, 662)],
  ];
  it.each(accesses)("%s across a page end: the same values, memory and counts", (name, access) => {
    // loop: addi r6,r6,1; <access>; add r7,r7,r5; bdnz loop; sc
    const words = [MTCTR(31), d(14, 6, 6, 1), access, x(7, 7, 5, 266), bc(16, 0, -12), SC];
    const p = pair(
      words,
      (cpu) => {
        cpu.setGpr(31, 24n);
        cpu.setGpr(6, 0x4fe0n);
        cpu.setGpr(4, 0x0123456789abcdefn);
        cpu.setGpr(0, 1n);
      },
      1,
      kind,
    );
    for (let a = 0x4fe0; a < 0x5020; a++) {
      p.interpMem.bytes[a] = (a * 53 + 7) & 0xff;
      p.compMem.bytes[a] = (a * 53 + 7) & 0xff;
    }
    runBoth(p, [5, 13, 1, 40]);
    expect(p.comp.compiler!.profile.entered).toBeGreaterThan(10);
    // The stores wrote the page end's bytes.
    if (name.startsWith("st"))
      expect(
        p.compMem.bytes
          .subarray(0x4fe0, 0x5020)
          .some((b, i) => b !== (((0x4fe0 + i) * 53 + 7) & 0xff)),
      ).toBe(true);
  });

  it.runIf(kind !== "flat")(
    "compiled loads and stores in a cached page reach memory inline, not through the MMU",
    () => {
      // loop: lwz r5,0(r6); stw r5,8(r6); addi r6,r6,4; bdnz loop; sc
      const words = [MTCTR(31), d(32, 5, 6, 0), d(36, 5, 6, 8), d(14, 6, 6, 4), bc(16, 0, -12), SC];
      const p = pair(
        words,
        (cpu) => {
          cpu.setGpr(31, 200n);
          cpu.setGpr(6, BigInt(DATA));
        },
        2,
        kind,
      );
      const mmu = p.comp.memory as PpcMmu;
      const reads = vi.spyOn(mmu, "read32");
      const writes = vi.spyOn(mmu, "write32");
      runBoth(p, [1000]);
      // The first two passes interpreted; then every access hits the translation cache.
      expect(reads.mock.calls.length).toBeGreaterThan(0);
      expect(reads.mock.calls.length).toBeLessThan(6);
      expect(writes.mock.calls.length).toBeLessThan(6);
    },
  );

  it("a run stopped inside a block goes on in it: no block compiled from the middle", () => {
    // 20 additions and a branch back: one block, run in slices of 7 instructions.
    const words = [MTCTR(31)];
    for (let k = 0; k < 20; k++) words.push(d(14, 3 + (k % 5), 3 + (k % 5), k + 1));
    words.push(bc(16, 0, -80), SC);
    const p = pair(words, (cpu) => cpu.setGpr(31, 200n), 2, kind);
    runBoth(p, [7, 7, 7, 3]);
    const prof = p.comp.compiler!.profile;
    expect(prof.compiled).toBeLessThanOrEqual(2);
    // The first pass, before the block is compiled (threshold 2), and the mtctr.
    expect(prof.interpreted).toBeLessThan(30);
  });
});

describe("a store compiled inline to a read-only page (translated)", () => {
  it("raises the data storage interrupt the interpreter raises: DAR, DSISR, pc, count", () => {
    // loop: addi r3,r3,1; stw r4,0(r6); addi r6,r6,0x100; b loop (r6 walks into READ_ONLY)
    const words = [d(14, 3, 3, 1), d(36, 4, 6, 0), d(14, 6, 6, 0x100), 0x4bfffff4];
    const p = pair(words, (cpu) => cpu.setGpr(6, BigInt(READ_ONLY - 0x800)), 1, "mmu-translated");
    const exits = runBoth(p, [9, 4, 100]);
    expect(exits.at(-1)).toBe(PpcExitReason.DataStorage);
    expect(p.comp.exit.dar).toBe(BigInt(READ_ONLY));
    expect(p.comp.pc).toBe(BigInt(CODE + 4));
    expect(p.comp.compiler!.profile.entered).toBeGreaterThan(2);
  });
});

interface ExecCase {
  code: string;
  addr: string;
  bufAddr: string;
  in: string;
  buf?: string;
}

/** The corpus's two windows of storage at their 64-bit-mode addresses: 64 bytes of code and the 128-byte buffer. */
class WindowMemory extends RealModeMemory {
  constructor(
    readonly codeAt: number,
    readonly bufAt: number,
  ) {
    super(new Uint8Array(0x100));
  }
  private map(lo: number, size: number): number {
    const a = lo >>> 0;
    if (a >= this.codeAt && a + size <= this.codeAt + 64) return a - this.codeAt;
    if (a >= this.bufAt && a + size <= this.bufAt + 128) return a - this.bufAt + 64;
    return 0x1000;
  }
  override fetch(hi: number, lo: number): number {
    return super.fetch(hi, this.map(lo, 4));
  }
  override read8(hi: number, lo: number): number {
    return super.read8(hi, this.map(lo, 1));
  }
  override read16(hi: number, lo: number): number {
    return super.read16(hi, this.map(lo, 2));
  }
  override read32(hi: number, lo: number): number {
    return super.read32(hi, this.map(lo, 4));
  }
  override write8(hi: number, lo: number, v: number): void {
    super.write8(hi, this.map(lo, 1), v);
  }
  override write16(hi: number, lo: number, v: number): void {
    super.write16(hi, this.map(lo, 2), v);
  }
  override write32(hi: number, lo: number, v: number): void {
    super.write32(hi, this.map(lo, 4), v);
  }
  override write64(hi: number, lo: number, vh: number, vl: number): void {
    super.write64(hi, this.map(lo, 8), vh, vl);
  }
}

describe("the execution corpus, compiled", () => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "cpu", "corpus");
  const files = readdirSync(dir).filter((f) => /^exec-.*\.json$/.test(f));
  for (const file of files)
    it(`${file}: every case ends as interpreted (budgets of 40; of 1 for every fourth)`, () => {
      const cases = (JSON.parse(readFileSync(join(dir, file), "utf8")) as { cases: ExecCase[] })
        .cases;
      let compiled = 0;
      cases.forEach((c, index) => {
        const code = c.code.match(/.{8}/g)!.map((w) => parseInt(w, 16) | 0);
        const codeAt = parseInt(c.addr, 16);
        const bufAt = parseInt(c.bufAddr, 16);
        const make = (withCompiler: boolean): { cpu: PpcCpu; mem: WindowMemory } => {
          const mem = new WindowMemory(codeAt, bufAt);
          code.forEach((w, i) => mem.view.setInt32(4 * i, w));
          mem.bytes.set(Buffer.from(c.buf ?? "00".repeat(128), "hex"), 64);
          const cpu = new PpcCpu(mem);
          if (withCompiler) cpu.compiler!.threshold = 1;
          else cpu.compiler = null;
          for (const kv of c.in === "" ? [] : c.in.split(" ")) {
            const [k, v] = kv.split(":") as [string, string];
            const j = Number(k);
            const val = BigInt("0x" + v);
            if (j < 32) cpu.setGpr(j, val);
            else if (j < 64)
              cpu.fpu.setBits(
                j - 32,
                Number(BigInt.asIntN(32, val >> 32n)),
                Number(BigInt.asIntN(32, val)),
              );
            else if (j === 64) cpu.cr = Number(BigInt.asIntN(32, val));
            else if (j === 65) cpu.xer = Number(BigInt.asIntN(32, val));
            else if (j === 66 || j === 67) {
              cpu.sprHi[j - 58] = Number(BigInt.asIntN(32, val >> 32n));
              cpu.sprLo[j - 58] = Number(BigInt.asIntN(32, val));
            } else cpu.fpu.fpscr = Number(BigInt.asIntN(32, val));
          }
          cpu.setGpr(9, BigInt(bufAt + 64));
          cpu.msrHi = Msr.SF_HI;
          cpu.msrLo = Msr.FP | Msr.PR | Msr.EE | Msr.IR | Msr.DR;
          cpu.setPc(BigInt(codeAt));
          return { cpu, mem };
        };
        for (const budget of index % 4 === 0 ? [1, 40] : [40]) {
          const a = make(false);
          const b = make(true);
          for (let steps = 0; steps < 64; steps++) {
            const x = a.cpu.run(budget);
            const y = b.cpu.run(budget);
            const where = `${c.code} at ${c.addr}, budget ${budget}`;
            expect({ ...y, dar: 0n, where }).toEqual({ ...x, dar: 0n, where });
            expect(y.dar, where).toBe(x.dar);
            expect(snapshot(b.cpu, b.mem), where).toEqual(snapshot(a.cpu, a.mem));
            if (x.reason !== PpcExitReason.Budget) break;
          }
          compiled += b.cpu.compiler!.profile.compiled;
        }
      });
      expect(compiled).toBeGreaterThan(cases.length);
    });
});

/** Registers, FPRs, CR, XER, LR, CTR, FPSCR, pc, count and the windows' bytes. */
function snapshot(cpu: PpcCpu, mem: RealModeMemory): unknown {
  return {
    gprs: Array.from({ length: 32 }, (_, r) => cpu.gpr(r).toString(16)),
    fprs: Array.from({ length: 32 }, (_, f) => [cpu.fpu.hiBits(f), cpu.fpu.loBits(f)]),
    cr: cpu.cr >>> 0,
    xer: cpu.xer >>> 0,
    fpscr: cpu.fpu.fpscr >>> 0,
    lr: [cpu.sprHi[Spr.LR], cpu.sprLo[Spr.LR]],
    ctr: [cpu.sprHi[Spr.CTR], cpu.sprLo[Spr.CTR]],
    pc: cpu.pc.toString(16),
    instructions: cpu.instructions,
    bytes: Buffer.from(mem.bytes).toString("hex"),
  };
}

describe("the compiled C program", () => {
  it("prints what it prints under qemu-ppc64, in as many instructions as interpreted", () => {
    const MEMORY = 4 << 20;
    const run = (compiled: boolean): { out: unknown; instructions: number } => {
      const mem = new RealModeMemory(new Uint8Array(MEMORY));
      const { entry, toc } = loadCompute(mem.bytes);
      const cpu = new PpcCpu(mem);
      if (!compiled) cpu.compiler = null;
      cpu.msrLo = Msr.PR | Msr.FP | Msr.EE;
      cpu.setPc(entry);
      cpu.setGpr(2, toc);
      cpu.setGpr(1, BigInt(MEMORY - 4096));
      return { out: runCompute(cpu, mem.bytes), instructions: cpu.instructions };
    };
    const compiled = run(true);
    expect(compiled.out).toEqual({ status: 0, out: computeExpected() });
    expect(compiled.instructions).toBe(run(false).instructions);
  });
});

describe("the execution profile (--profile)", () => {
  it("counts every instruction once, interpreted or compiled, and names what ended blocks", () => {
    // loop: addi r3,r3,1; mfspr r5,SPRG0 (stepped by the interpreter); bdnz loop; sc
    const MFSPRG0 = x(5, 16, 8, 339); // mfspr r5, 272 (SPR halves swapped)
    const words = [MTCTR(31), d(14, 3, 3, 1), MFSPRG0, bc(16, 0, -8), SC];
    const p = pair(words, (cpu) => cpu.setGpr(31, 100n), 4);
    p.comp.msrLo = Msr.FP; // supervisor: mfspr SPRG0 is legal
    p.interp.msrLo = Msr.FP;
    const read = startPpcProfile(p.comp);
    runBoth(p, [37, 5]);
    const prof = read();
    expect(prof.interpreted + prof.compiled).toBe(p.comp.instructions);
    expect(prof.compiled).toBeGreaterThan(150);
    expect(prof.blocksCompiled).toBeGreaterThan(0);
    const ops = new Map(prof.interpretedOps);
    // Stepped inside the block on every pass after the first four, interpreted before.
    expect(ops.get("mfspr")).toBe(100);
    expect(new Map(prof.blockEnders).get("sc")).toBe(1);
    const exits = new Map(prof.blockExits);
    expect(exits.get("budget (counted form)")).toBeGreaterThan(0);
    expect(exits.get("exit from a stepped op (SystemCall)")).toBe(1);
  });
});
