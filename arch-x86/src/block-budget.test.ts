/**
 * The block cache's budget (`BlockCache.budget`): a CPU whose cache holds only one or two
 * blocks, so nearly every compile empties it and blocks are dropped and compiled again
 * while they run, must end every program in the same architectural state as the
 * interpreter, and the cache never holds more blocks than its budget.
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { BLOCK_BUDGET } from "./block-compiler.js";
import { X86ExitReason } from "./cpu-api.js";
import type { X86Cpu } from "./cpu.js";
import { makeTestCpu } from "./test-machine.js";

const CODE = 0x100000;
const DATA = 0x200000;
const DIR = join(dirname(fileURLToPath(import.meta.url)), "corpus");

interface Machine {
  cpu: X86Cpu;
  bytes: Uint8Array;
}

/** A machine that compiles every block at first sight, `budget` blocks at a time (−1: none). */
function machine(budget: number): Machine {
  const { cpu, mem } = makeTestCpu(4);
  cpu.blockThreshold = budget < 0 ? -1 : 0;
  if (budget > 0) cpu.blocks.budget = budget;
  return { cpu, bytes: mem.bytes };
}

function load(m: Machine, code: Uint8Array, regs: bigint[], flags: number, data: Uint8Array) {
  const c = m.cpu;
  m.bytes.fill(0, CODE, CODE + 0x2000);
  m.bytes.set(code, CODE);
  m.bytes.set([0x0f, 0xa2], CODE + code.length);
  c.invalidateCode(CODE, 0x2000);
  m.bytes.fill(0, DATA, DATA + 0x1000);
  m.bytes.set(data, DATA);
  regs.forEach((v, r) => c.setReg(r, v));
  c.rflags = flags;
  c.rip = BigInt(CODE);
}

/** Every stop of a run until cpuid or an exception, in steps of `budget` instructions. */
function trace(m: Machine, budget: number, limit: number): string[] {
  const out: string[] = [];
  let total = 0;
  for (;;) {
    const r = m.cpu.run(budget);
    const c = m.cpu;
    total += c.exit.retired;
    expect(c.blocks.filled).toBeLessThanOrEqual(c.blocks.budget);
    let sum = 0;
    for (let i = DATA; i < DATA + 0x100; i++) sum = (Math.imul(sum, 31) + m.bytes[i]) | 0;
    const regs = Array.from({ length: 16 }, (_, k) => c.getReg(k).toString(16)).join(" ");
    const e = c.exit;
    out.push(
      `${X86ExitReason[r]} retired=${e.retired} rip=${c.rip.toString(16)} ` +
        `flags=${c.rflags.toString(16)} regs=${regs} mem=${sum} vec=${e.vector} err=${e.errorCode}`,
    );
    if (r !== X86ExitReason.Budget || total >= limit) return out;
  }
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/ /g, ""), "hex"));

const interp = machine(-1);
const tiny = machine(1);

function agree(
  code: Uint8Array,
  regs: bigint[],
  data: Uint8Array,
  budget: number,
  limit: number,
  m = tiny,
  flags = 0x202,
): void {
  load(interp, code, regs, flags, data);
  load(m, code, regs, flags, data);
  expect(trace(m, budget, limit)).toEqual(trace(interp, budget, limit));
}

describe("block cache budget", () => {
  it("defaults to a bound far below the cache's slots", () => {
    const { cpu } = makeTestCpu(4);
    expect(cpu.blocks.budget).toBe(BLOCK_BUDGET);
    expect(BLOCK_BUDGET).toBeLessThan(cpu.blocks.tag.length);
  });

  // The benchmark's sieve + hash loop (bench/interpreter.ts): several blocks, entered over
  // and over, so with one or two slots of budget each is dropped and compiled again.
  const LOOP = hex(
    "41b8020000004531c931c0b9002000004889fa4889024883c208ffc975f5be02" +
      "000000803c370075174889f2480fafd6c60417014801f24881fa0000010072f0" +
      "ffc681fe0001000072d931c9be020000000fb6143783f2014801d14d6bc91f49" +
      "01f14d89ca49c1ea074d31d1ffc681fe0000010072db41ffc8758e4c89c8",
  );
  const loopRegs = Array.from({ length: 16 }, (_, r) => (r === 7 ? BigInt(DATA) : 0n));

  it("a block dropped and compiled again runs as the interpreter does", () => {
    for (const budget of [1, 2]) {
      const m = machine(budget);
      const unbounded = machine(0);
      for (const slice of [50_000, 997, 13]) {
        agree(LOOP, loopRegs, new Uint8Array(0), slice, 50_000, m);
        load(unbounded, LOOP, loopRegs, 0x202, new Uint8Array(0));
        trace(unbounded, slice, 50_000);
      }
      // Blocks were compiled again after being dropped: more compiles than without a bound.
      expect(m.cpu.blocks.compiled).toBeGreaterThan(unbounded.cpu.blocks.compiled);
    }
  });

  it("empties the cache when a compile would pass the budget, not before", () => {
    const m = machine(3);
    load(m, LOOP, loopRegs, 0x202, new Uint8Array(0));
    const seen: number[] = [];
    for (let i = 0; i < 200; i++) {
      m.cpu.run(50);
      seen.push(m.cpu.blocks.filled);
    }
    expect(Math.max(...seen)).toBe(3);
    expect(seen).toContain(1);
    const live = m.cpu.blocks.fns.filter((f) => f !== null).length;
    expect(live).toBeLessThanOrEqual(3);
  });

  it("still stops at a store that rewrites the block's own code", () => {
    // movb $5, 1(%rip) (the immediate of the next add); add $1,%eax; dec %ecx; jnz start
    const code = hex("c60502000000" + "05" + "83c001" + "ffc9" + "75f2");
    const regs = Array.from({ length: 16 }, (_, r) => (r === 1 ? 3n : 0n));
    agree(code, regs, new Uint8Array(0), 100, 1000);
    expect(tiny.cpu.getReg(0)).toBe(15n);
  });

  const files = readdirSync(DIR)
    .filter((f) => /^exec-.*\.json$/.test(f))
    .sort();
  for (const f of files) {
    it(`agrees with the interpreter on every case of ${f} with one block of budget`, () => {
      const file = JSON.parse(readFileSync(join(DIR, f), "utf8")) as {
        cases: { code: string; regsIn: string; flagsIn: number; buf: string }[];
      };
      for (const c of file.cases) {
        const regs = c.regsIn.split(" ").map((h) => BigInt("0x" + h));
        agree(hex(c.code), regs, hex(c.buf), 100_000, 1_000_000, tiny, c.flagsIn);
      }
    });
  }
});
