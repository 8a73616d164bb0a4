/**
 * Differential tests of the block compiler against the interpreter: the same program run
 * with blocks off (`blockThreshold = -1`) and with every block compiled at first sight
 * (`blockThreshold = 0`) must end in the same architectural state — registers, rip,
 * RFLAGS, memory, vector registers, exit reason, exception details and retired count —
 * including runs cut
 * short by small budgets, faults inside a block, and code that rewrites itself.
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BLOCK_BUDGET, BlockCache, type BlockFn } from "./block-compiler.js";
import { Seg, X86ExitReason } from "./cpu-api.js";
import type { X86Cpu } from "./cpu.js";
import { resetVectorState } from "./fpu.js";
import { makeTestCpu } from "./test-machine.js";

const CODE = 0x100000;
const DATA = 0x200000;
const DIR = join(dirname(fileURLToPath(import.meta.url)), "corpus");

interface Machine {
  cpu: X86Cpu;
  bytes: Uint8Array;
}

function machine(threshold: number): Machine {
  const { cpu, mem } = makeTestCpu(4);
  cpu.blockThreshold = threshold;
  return { cpu, bytes: mem.bytes };
}

const interp = machine(-1);
const compiled = machine(0);

/** Architectural state after a stop, as one comparable string. */
function state(m: Machine, reason: X86ExitReason): string {
  const c = m.cpu;
  const regs = Array.from({ length: 16 }, (_, r) => c.getReg(r).toString(16)).join(" ");
  let sum = 0;
  for (let i = DATA; i < DATA + 0x100; i++) sum = (Math.imul(sum, 31) + m.bytes[i]) | 0;
  let vec = (c.ftop << 8) | c.ftw;
  for (const lane of [...c.xmm, ...c.fpuMant, ...c.fpuSignExp])
    vec = (Math.imul(vec, 31) + lane) | 0;
  const e = c.exit;
  const fault =
    reason === X86ExitReason.Exception
      ? ` vec=${e.vector} err=${e.errorCode} len=${e.instructionLength} cr2=${e.cr2.toString(16)}`
      : "";
  return (
    `${X86ExitReason[reason]} retired=${e.retired} rip=${c.rip.toString(16)} ` +
    `flags=${c.rflags.toString(16)} regs=${regs} mem=${sum} vector=${vec} ` +
    `mxcsr=${c.mxcsr.toString(16)} fsw=${c.fsw.toString(16)}${fault}`
  );
}

/** Loads `code` (followed by cpuid) and the inputs into `m`. */
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
  resetVectorState(c);
  for (let i = 0; i < 64; i++) c.xmm[i] = Math.imul(i + 1, 0x9e3779b1);
  for (let i = 0; i < 16; i++) c.fpuMant[i] = Math.imul(i + 7, 0x85ebca6b);
  c.rip = BigInt(CODE);
}

/** Runs until cpuid or an exception in steps of `budget`, recording every stop. */
function trace(m: Machine, budget: number, limit = 1_000_000): string[] {
  const out: string[] = [];
  let total = 0;
  for (;;) {
    const r = m.cpu.run(budget);
    total += m.cpu.exit.retired;
    out.push(state(m, r));
    if (r !== X86ExitReason.Budget || total >= limit) return out;
  }
}

function both(
  code: Uint8Array,
  regs: bigint[],
  flags: number,
  data: Uint8Array,
  budget: number,
  limit = 1_000_000,
): [string[], string[]] {
  load(interp, code, regs, flags, data);
  load(compiled, code, regs, flags, data);
  return [trace(interp, budget, limit), trace(compiled, budget, limit)];
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/ /g, ""), "hex"));
/** A 32-bit value as four little-endian bytes. */
const le32 = (v: number): number[] => [
  v & 0xff,
  (v >> 8) & 0xff,
  (v >> 16) & 0xff,
  (v >>> 24) & 0xff,
];
/** ModRM of register operands `r` (reg field) and `b` (rm field). */
const modrm = (r: number, b: number): number => 0xc0 | ((r & 7) << 3) | (b & 7);
/** ModRM and disp8 of `[rdi + d]` (`[edi + d]` in 32-bit code), reg field `r`: mod 01 rm 111. */
const mem = (r: number, d: number): number[] => [0x47 | ((r & 7) << 3), d];

describe("block compiler against the interpreter", () => {
  const files = readdirSync(DIR)
    .filter((f) => /^exec-.*\.json$/.test(f))
    .sort();
  for (const f of files) {
    it(`agrees on every case of ${f}`, () => {
      const file = JSON.parse(readFileSync(join(DIR, f), "utf8")) as {
        cases: { asm: string; code: string; regsIn: string; flagsIn: number; buf: string }[];
      };
      const bad: string[] = [];
      for (const c of file.cases) {
        const regs = c.regsIn.split(" ").map((h) => BigInt("0x" + h));
        for (const budget of [100_000, 1]) {
          const [a, b] = both(hex(c.code), regs, c.flagsIn, hex(c.buf), budget);
          if (a.join("\n") !== b.join("\n") && bad.length < 10)
            bad.push(`${c.asm} (budget ${budget})\n  interp   ${a.at(-1)}\n  compiled ${b.at(-1)}`);
        }
      }
      expect(bad, bad.join("\n")).toEqual([]);
      expect(compiled.cpu.blocks.compiled).toBeGreaterThan(0);
    });
  }

  // The benchmark's sieve + hash loop (bench/interpreter.ts), 2 repetitions.
  const LOOP = hex(
    "41b8020000004531c931c0b9002000004889fa4889024883c208ffc975f5be02" +
      "000000803c370075174889f2480fafd6c60417014801f24881fa0000010072f0" +
      "ffc681fe0001000072d931c9be020000000fb6143783f2014801d14d6bc91f49" +
      "01f14d89ca49c1ea074d31d1ffc681fe0000010072db41ffc8758e4c89c8",
  );

  it("agrees on the benchmark loop, whole and cut into small budgets", () => {
    const regs = Array.from({ length: 16 }, () => 0n);
    regs[7] = BigInt(DATA);
    const data = new Uint8Array(0);
    const [a, b] = both(LOOP, regs, 0x202, data, 10_000_000, 10_000_000);
    expect(b).toEqual(a);
    // 6542 primes below 65536 (prime count in rcx at the end).
    expect(compiled.cpu.getReg(1)).toBe(6542n);
    for (const budget of [4096, 997, 13, 5]) {
      const [c, d] = both(LOOP, regs, 0x202, data, budget, 200_000);
      expect(d).toEqual(c);
    }
  });

  it("leaves the state of the faulting instruction on a fault inside a block", () => {
    // mov $1,%eax; add $2,%rax; mov (%rbx),%ecx; inc %eax; jmp back to the start
    const code = hex("b801000000" + "4883c002" + "8b0b" + "ffc0" + "ebf0");
    for (const addr of [0x4000_0000n, 0x7fff_ffff_f000n, 0x8000_0000_0000n]) {
      const regs = Array.from({ length: 16 }, () => 0n);
      regs[3] = addr;
      const [a, b] = both(code, regs, 0x202, new Uint8Array(0), 100);
      expect(a.at(-1)).toMatch(/^Exception/);
      expect(b).toEqual(a);
    }
  });

  it("agrees on #SS(0) vs #GP(0) for non-canonical accesses through SS or another segment", () => {
    // mov $1,%eax; <access>; inc %eax; jmp back to the start
    const bad = 0x8000_0000_4000_0000n;
    const cases: [string, number, number][] = [
      ["8b0c24", 4, 12], // mov (%rsp),%ecx: #SS
      ["8b4d08", 5, 12], // mov 8(%rbp),%ecx: #SS
      ["3e894d00", 5, 12], // mov %ecx,%ds:(%rbp): #SS (override ignored)
      ["368b0b", 3, 13], // mov %ss:(%rbx),%ecx: #GP (override ignored)
      ["648b0c24", 4, 13], // mov %fs:(%rsp),%ecx: #GP
      ["658b4d00", 5, 13], // mov %gs:(%rbp),%ecx: #GP
      ["8b0c2b", 3, 13], // mov (%rbx,%rbp,1),%ecx: #GP (base rbx)
      ["53", 4, 12], // push %rbx: #SS
      ["59", 4, 12], // pop %rcx: #SS
    ];
    for (const [access, reg, vector] of cases) {
      const code = hex(
        "b801000000" + access + "ffc0" + "eb" + (256 - 9 - access.length / 2).toString(16),
      );
      const regs = Array.from({ length: 16 }, () => 0n);
      regs[reg] = bad;
      const [a, b] = both(code, regs, 0x202, new Uint8Array(0), 100);
      expect(a.at(-1), access).toContain(`vec=${vector} err=0`);
      expect(b, access).toEqual(a);
    }
  });

  it("stops at a store that rewrites the block's own code", () => {
    // movb $5, 1(%rip) (the immediate of the next add); add $1,%eax; dec %ecx; jnz start
    const code = hex("c60502000000" + "05" + "83c001" + "ffc9" + "75f2");
    const regs = Array.from({ length: 16 }, () => 0n);
    regs[1] = 3n;
    const [a, b] = both(code, regs, 0x202, new Uint8Array(0), 100);
    expect(b).toEqual(a);
    expect(interp.cpu.getReg(0)).toBe(15n);
  });

  it("runs SSE and x87 helpers inside a block: registers across them, a fault in them", () => {
    const code = hex(
      [
        "b803000000", // mov $3,%eax
        "f2480f2ac8", // cvtsi2sd %rax,%xmm1 (reads a register the block wrote)
        "f20f58c9", // addsd %xmm1,%xmm1
        "f2480f2cd9", // cvttsd2si %xmm1,%rbx (writes a register the block reads next)
        "4801d8", // add %rbx,%rax
        "d9e8", // fld1
        "dfe0", // fnstsw %ax (writes ax)
        "0fb6c8", // movzbl %al,%ecx
        "0f2907", // movaps %xmm0,(%rdi): #GP(0) when rdi is not 16-byte aligned
        "ffc2", // inc %edx
        "ebdc", // jmp back to the start
      ].join(""),
    );
    for (const rdi of [BigInt(DATA), BigInt(DATA + 4)]) {
      const regs = Array.from({ length: 16 }, () => 0n);
      regs[7] = rdi;
      const [a, b] = both(code, regs, 0x202, new Uint8Array(0), 100, 2000);
      expect(b).toEqual(a);
      expect(a.at(-1)).toMatch(
        rdi === BigInt(DATA) ? /^Budget/ : /^Exception .*vec=13 err=0 len=3/,
      );
      expect(compiled.cpu.getReg(3)).toBe(6n);
    }
  });

  it("rep movs/stos: a fault part way leaves the iterations done; a small budget interrupts", () => {
    // mov $8,%ecx; rep movsq (or rep stosq); inc %eax; jmp back to the start
    for (const op of ["48a5", "48ab"]) {
      const code = hex("b908000000" + "f3" + op + "ffc0" + "ebf4");
      const regs = Array.from({ length: 16 }, () => 0n);
      regs[6] = BigInt(DATA);
      regs[7] = 0x3ffff0n; // two quadwords before the end of what is mapped
      const [a, b] = both(code, regs, 0x202, new Uint8Array(0), 100);
      expect(b).toEqual(a);
      expect(a.at(-1)).toMatch(/^Exception .*vec=14/);
      expect(compiled.cpu.getReg(1)).toBe(6n);
      regs[7] = BigInt(DATA + 0x80);
      for (const budget of [1, 3, 5, 100]) {
        const [c, d] = both(code, regs, 0x202, new Uint8Array(0), budget, 300);
        expect(d).toEqual(c);
      }
    }
  });

  it("profiles where instructions ran: the sums agree, and a rewrite of its own code is named", () => {
    // movb $5, 1(%rip) (the immediate of the next add); add $1,%eax; dec %ecx; jnz start;
    // then an rdtsc (not compiled) after the loop.
    const code = hex("c60502000000" + "05" + "83c001" + "ffc9" + "75f2" + "0f31");
    const m = machine(0);
    const read = m.cpu.startProfile();
    const regs = Array.from({ length: 16 }, () => 0n);
    regs[1] = 3n;
    load(m, code, regs, 0x202, new Uint8Array(0));
    const stops = trace(m, 1000);
    expect(stops.at(-1)).toMatch(/^Cpuid/);
    const retired = Number(/retired=(\d+)/.exec(stops.at(-1)!)![1]);
    const p = read();
    expect(p.interpreted + p.compiled).toBe(retired);
    expect(p.compiled).toBeGreaterThan(0);
    expect(p.blocksCompiled).toBeGreaterThan(0);
    const exits = Object.fromEntries(p.blockExits);
    expect(exits["stale code (written)"]).toBeGreaterThan(0);
    expect(Object.fromEntries(p.interpretedOps)["rdtsc 32-bit"]).toBe(1);
    expect(p.interpretedOps.reduce((n, [, k]) => n + k, 0)).toBe(p.interpreted);
  });

  it("compiles fs/gs-based operands, locked forms, prefetch and fences inside the block", () => {
    // mov %gs:0x10,%eax; add %eax,%ebx; lock incl %gs:0x20; mov %fs:8(%rdi),%rdx;
    // prefetcht0 (%rdi); mfence; dec %ecx; jnz start
    const body =
      "658b042510000000" +
      "01c3" +
      "f065ff042520000000" +
      "64488b5708" +
      "0f180f" +
      "0faef0" +
      "ffc9";
    const code = hex(body + "75" + (256 - 2 - body.length / 2).toString(16));
    const regs = Array.from({ length: 16 }, () => 0n);
    regs[1] = 50n;
    regs[7] = BigInt(DATA);
    const data = Uint8Array.from({ length: 256 }, (_, i) => (i * 29 + 3) & 0xff);
    const runs = [machine(-1), machine(0)].map((m) => {
      load(m, code, regs, 0x202, data);
      // Linux's per-CPU area through gs; a thread pointer through fs (above 4 GiB: the high
      // half of the sum is the base's).
      m.cpu.gsLo = DATA + 0x40;
      m.cpu.gsHi = 0;
      m.cpu.fsLo = 0x10;
      m.cpu.fsHi = 0;
      const read = m.cpu.startProfile();
      return { stops: trace(m, 1000), profile: read() };
    });
    expect(runs[1].stops).toEqual(runs[0].stops);
    expect(runs[0].stops.at(-1)).toMatch(/^Cpuid/);
    // Every pass of the loop ran compiled: nothing but the first visit was interpreted.
    expect(runs[1].profile.compiled).toBe(50 * 7 + 50);
    expect(runs[1].profile.interpreted).toBe(0);
  });

  it("backs off recompiling a loop that keeps writing its own code", () => {
    // movb $1, 1(%rip) (the immediate of the add, unchanged); add $1,%eax; dec %ecx; jnz start
    const code = hex("c60502000000" + "01" + "83c001" + "ffc9" + "75f2");
    const m = machine(16);
    const regs = Array.from({ length: 16 }, () => 0n);
    regs[1] = 20_000n;
    load(m, code, regs, 0x202, new Uint8Array(0));
    const before = m.cpu.blocks.compiled;
    expect(trace(m, 1_000_000).at(-1)).toMatch(/^Cpuid/);
    expect(m.cpu.getReg(0)).toBe(20_000n);
    // One store per pass invalidates the blocks of the frame: at most one compile per 255
    // visits of each block start (about 80 each here) instead of one per 16.
    expect(m.cpu.blocks.compiled - before).toBeLessThan(400);
  });

  it("agrees on memory operands, sub-word registers and rip-relative addressing", () => {
    const code = hex(
      [
        "488d1d00001000", // lea 0x100000(%rip),%rbx  (points into the data page)
        "4889c3", // mov %rax,%rbx
        "48c7c300002000", // mov $0x200000,%rbx
        "8803", // mov %al,(%rbx)
        "886301", // mov %ah,1(%rbx)
        "66894302", // mov %ax,2(%rbx)
        "48894308", // mov %rax,8(%rbx)
        "480343 08", // add 8(%rbx),%rax
        "2b4b08", // sub 8(%rbx),%ecx
        "0fb64301", // movzbl 1(%rbx),%eax
        "480fbf4b02", // movswq 2(%rbx),%rcx
        "4863 d1", // movslq %ecx,%rdx
        "004b10", // add %cl,16(%rbx)
        "66014b12", // add %cx,18(%rbx)
        "48314b08", // xor %rcx,8(%rbx)
        "807b1000", // cmpb $0,16(%rbx)
        "0f94c0", // sete %al (ends the block)
        "88e0", // mov %ah,%al
        "30e4", // xor %ah,%ah
        "6bc907", // imul $7,%ecx,%ecx
        "480fafd1", // imul %rcx,%rdx
        "48c1e205", // shl $5,%rdx
        "c1f903", // sar $3,%ecx
        "48d1ea", // shr %rdx
        "ffca", // dec %edx
        "48ffc1", // inc %rcx
        "7ff0", // jg (back 16 bytes)
      ]
        .join("")
        .replace(/ /g, ""),
    );
    for (const seed of [0x0123456789abcdefn, 0xfedcba9876543210n, 0x80000000n, 0xffn]) {
      const regs = Array.from(
        { length: 16 },
        (_, r) => (seed * BigInt(r + 3)) & 0xffffffffffffffffn,
      );
      const [a, b] = both(code, regs, 0x202, new Uint8Array([1, 2, 3]), 7, 5000);
      expect(b).toEqual(a);
      const [c, d] = both(code, regs, 0x202 | 0x8d5, new Uint8Array([1, 2, 3]), 1000, 50_000);
      expect(d).toEqual(c);
    }
  });

  it("decides every condition code as the interpreter does after each flag writer", () => {
    // Flag writer, then optionally inc/dec (CF kept), then jcc over `mov $1,%ebp`.
    const writers = [
      "4839d8",
      "39d8",
      "38d8",
      "6639d8",
      "4829d8",
      "29d8",
      "28d8",
      "4801d8",
      "01d8",
      "00d8",
      "4821d8",
      "21d8",
      "4885d8",
      "85d8",
      "31d8",
      "4809d8",
      "4883f805",
      "83f8ff",
      "48ffc0",
      "ffc0",
      "48ffc8",
      "ffc8",
      "48d1e0",
      "c1e803",
      "480fafc3",
      // neg rax/eax/ax/al (the flags of 0 - x)
      "48f7d8",
      "f7d8",
      "66f7d8",
      "f6d8",
      // adc/sbb (carry in from RFLAGS, or from a cmp before), mul/imul of ebx
      "11d8",
      "19d8",
      "83d005",
      "83d8ff",
      "39d811d8",
      "39d819d8",
      "f7e3",
      "f7eb",
      "",
    ];
    const second = ["", "ffc1", "48ffc9"];
    const values = [
      0n,
      1n,
      0x80n,
      0x80000000n,
      0xffffffffn,
      0x100000001n,
      0x100000000n,
      0x7fffffffffffffffn,
      0xffffffffffffffffn,
    ];
    const bad: string[] = [];
    for (const w of writers) {
      for (const w2 of second) {
        for (let cc = 0; cc < 16; cc++) {
          const code = hex(w + w2 + (0x70 + cc).toString(16) + "05" + "bd01000000");
          for (const a of values) {
            for (const b of [0x80n, 0x8000000000000000n, a]) {
              const regs = Array.from({ length: 16 }, () => 0n);
              regs[0] = a;
              regs[3] = b;
              regs[1] = a;
              const [x, y] = both(code, regs, 0x203, new Uint8Array(0), 100);
              if (x.join() !== y.join() && bad.length < 5)
                bad.push(`${w} ${w2} cc ${cc} a ${a} b ${b}\n  ${x.at(-1)}\n  ${y.at(-1)}`);
            }
          }
        }
      }
    }
    expect(bad, bad.join("\n")).toEqual([]);
  });

  it("agrees on random programs of the compiled instruction forms (fast-check)", () => {
    // Destinations avoid rsp, rdi (the data pointer) and r15 (the loop counter).
    const DST = [0, 1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 13, 14];
    const reg = fc.constantFrom(...DST);
    const anyReg = fc.integer({ min: 0, max: 15 });
    const rex = (w: boolean, r: number, b: number): number[] => {
      const x = (w ? 8 : 0) | (r >= 8 ? 4 : 0) | (b >= 8 ? 1 : 0);
      return x === 0 ? [] : [0x40 | x];
    };
    const xmm = fc.integer({ min: 0, max: 7 });
    const disp = fc.integer({ min: 0, max: 120 });
    // Data ops compiled beyond the first set: neg/not, SSE and x87 through the helpers.
    const dataOps = [
      // neg/not r/m 8/32/64, register and memory
      fc
        .tuple(fc.constantFrom(2, 3), fc.constantFrom(0xf6, 0xf7), fc.boolean(), reg)
        .map(([n, op, w, d]) => [
          0x40 | (w && op === 0xf7 ? 8 : 0) | (d >= 8 ? 1 : 0),
          op,
          modrm(n, d),
        ]),
      fc
        .tuple(fc.constantFrom(2, 3), fc.constantFrom(0xf6, 0xf7), fc.boolean(), disp)
        .map(([n, op, w, o]) => [...rex(w && op === 0xf7, 0, 0), op, ...mem(n, o)]),
      fc
        .tuple(fc.constantFrom(2, 3), reg)
        .map(([n, d]) => [0x66, ...rex(false, 0, d), 0xf7, modrm(n, d)]),
      // scalar and packed SSE arithmetic, register and memory: add/mul/sub/min/div/max/sqrt
      fc
        .tuple(
          fc.constantFrom(0xf3, 0xf2, 0x66, 0),
          fc.constantFrom(0x51, 0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f),
          xmm,
          xmm,
        )
        .map(([p, op, d, b]) => [...(p ? [p] : []), 0x0f, op, modrm(d, b)]),
      fc
        .tuple(fc.constantFrom(0xf3, 0xf2), fc.constantFrom(0x58, 0x59, 0x5c, 0x5e), xmm, disp)
        .map(([p, op, d, o]) => [p, 0x0f, op, ...mem(d, o)]),
      // movss/movsd load and store, movaps/movapd (alignment faults), pxor, cvtss2sd/cvtsd2ss
      fc
        .tuple(fc.constantFrom(0xf3, 0xf2), fc.constantFrom(0x10, 0x11), xmm, disp)
        .map(([p, op, d, o]) => [p, 0x0f, op, ...mem(d, o)]),
      fc
        .tuple(fc.constantFrom(0, 0x66), fc.constantFrom(0x28, 0x29), xmm, disp)
        .map(([p, op, d, o]) => [...(p ? [p] : []), 0x0f, op, ...mem(d, o & ~15)]),
      fc.tuple(xmm, xmm).map(([d, b]) => [0x0f, 0x28, modrm(d, b)]),
      fc.tuple(xmm, xmm).map(([d, b]) => [0x66, 0x0f, 0xef, modrm(d, b)]),
      fc
        .tuple(fc.constantFrom(0xf3, 0xf2), xmm, xmm)
        .map(([p, d, b]) => [p, 0x0f, 0x5a, modrm(d, b)]),
      // comiss/ucomisd (flags), then the flags are used by the next jcc/setcc/cmovcc
      fc
        .tuple(fc.constantFrom(0, 0x66), fc.constantFrom(0x2e, 0x2f), xmm, xmm)
        .map(([p, op, d, b]) => [...(p ? [p] : []), 0x0f, op, modrm(d, b)]),
      // GPRs through helpers: cvtsi2sd/ss from r32/r64, cvttsd2si to r32/r64, movd/movq
      fc
        .tuple(fc.constantFrom(0xf3, 0xf2), fc.boolean(), xmm, anyReg)
        .map(([p, w, d, s]) => [p, ...rex(w, 0, s), 0x0f, 0x2a, modrm(d, s)]),
      fc
        .tuple(fc.constantFrom(0xf3, 0xf2), fc.boolean(), reg, xmm)
        .map(([p, w, d, s]) => [p, ...rex(w, d, 0), 0x0f, 0x2c, modrm(d, s)]),
      fc
        .tuple(fc.boolean(), xmm, anyReg)
        .map(([w, d, s]) => [0x66, ...rex(w, 0, s), 0x0f, 0x6e, modrm(d, s)]),
      fc
        .tuple(fc.boolean(), reg, xmm)
        .map(([w, d, s]) => [0x66, ...rex(w, 0, d), 0x0f, 0x7e, modrm(s, d)]),
      // x87: fld1, fldz, fadd/fmul st(i), faddp, fld m32, fstp m64, fnstsw %ax, fcomi
      fc.constantFrom(
        [0xd9, 0xe8],
        [0xd9, 0xee],
        [0xd8, 0xc1],
        [0xd8, 0xc9],
        [0xde, 0xc1],
        [0xdf, 0xe0],
        [0xdb, 0xf1],
      ),
      disp.map((o) => [0xd9, ...mem(0, o)]),
      disp.map((o) => [0xdd, ...mem(3, o)]),
      // mul/imul/div/idiv r/m (div faults: #DE), register and memory
      fc
        .tuple(fc.integer({ min: 4, max: 7 }), fc.constantFrom(0xf6, 0xf7), fc.boolean(), anyReg)
        .map(([n, op, w, d]) => [...rex(w && op === 0xf7, 0, d), op, modrm(n, d)]),
      fc
        .tuple(fc.integer({ min: 4, max: 7 }), fc.boolean(), disp)
        .map(([n, w, o]) => [...rex(w, 0, 0), 0xf7, ...mem(n, o)]),
      // bt/bts/btr/btc r/m, r and r/m, imm8 (register and memory)
      fc
        .tuple(fc.constantFrom(0xa3, 0xab, 0xb3, 0xbb), fc.boolean(), reg, anyReg)
        .map(([op, w, d, s]) => [...rex(w, s, d), 0x0f, op, modrm(s, d)]),
      fc
        .tuple(
          fc.constantFrom(0xa3, 0xab, 0xb3, 0xbb),
          fc.boolean(),
          fc.constantFrom(0, 1, 2),
          disp,
        )
        .map(([op, w, s, o]) => [...rex(w, s, 0), 0x0f, op, ...mem(s, o)]),
      fc
        .tuple(fc.integer({ min: 4, max: 7 }), fc.boolean(), reg, fc.integer({ min: 0, max: 255 }))
        .map(([n, w, d, i]) => [...rex(w, 0, d), 0x0f, 0xba, modrm(n, d), i]),
      // bsf/bsr, popcnt/tzcnt/lzcnt
      fc
        .tuple(fc.constantFrom(0xbc, 0xbd), fc.boolean(), reg, anyReg)
        .map(([op, w, d, s]) => [...rex(w, d, s), 0x0f, op, modrm(d, s)]),
      fc
        .tuple(fc.constantFrom(0xb8, 0xbc, 0xbd), fc.boolean(), reg, anyReg)
        .map(([op, w, d, s]) => [0xf3, ...rex(w, d, s), 0x0f, op, modrm(d, s)]),
      // shifts and rotates by 1, imm8 and cl (register and memory, 8–64 bits), shld/shrd
      fc
        .tuple(
          fc.constantFrom(0xc0, 0xc1, 0xd0, 0xd1, 0xd2, 0xd3),
          fc.integer({ min: 0, max: 7 }),
          fc.boolean(),
          reg,
          fc.integer({ min: 0, max: 70 }),
        )
        .filter(([, n]) => n !== 6)
        .map(([op, n, w, d, i]) => [
          ...rex(w && (op & 1) === 1, 0, d),
          op,
          modrm(n, d),
          ...(op < 0xd0 ? [i] : []),
        ]),
      fc
        .tuple(
          fc.constantFrom(0xc1, 0xd1, 0xd3),
          fc.integer({ min: 0, max: 7 }),
          fc.boolean(),
          disp,
          fc.integer({ min: 0, max: 70 }),
        )
        .filter(([, n]) => n !== 6)
        .map(([op, n, w, o, i]) => [
          ...rex(w, 0, 0),
          op,
          ...mem(n, o),
          ...(op === 0xc1 ? [i] : []),
        ]),
      fc
        .tuple(
          fc.constantFrom(0xa4, 0xa5, 0xac, 0xad),
          fc.boolean(),
          reg,
          anyReg,
          fc.integer({ min: 0, max: 70 }),
        )
        .map(([op, w, d, s, i]) => [
          ...rex(w, s, d),
          0x0f,
          op,
          modrm(s, d),
          ...((op & 1) === 0 ? [i] : []),
        ]),
      // adc/sbb r/m, r (8–64 bits, register and memory) and r/m, imm8
      fc
        .tuple(fc.constantFrom(0x10, 0x11, 0x18, 0x19), fc.boolean(), reg, anyReg)
        .map(([op, w, d, s]) => [
          0x40 | (w && (op & 1) === 1 ? 8 : 0) | (s >= 8 ? 4 : 0) | (d >= 8 ? 1 : 0),
          op,
          modrm(s, d),
        ]),
      fc
        .tuple(fc.constantFrom(0x11, 0x19, 0x13, 0x1b), fc.boolean(), reg, disp)
        .map(([op, w, r, o]) => [...rex(w, r, 0), op, ...mem(r, o)]),
      fc
        .tuple(fc.constantFrom(2, 3), fc.boolean(), reg, fc.integer({ min: -128, max: 127 }))
        .map(([n, w, d, i]) => [...rex(w, 0, d), 0x83, modrm(n, d), i & 0xff]),
      // xchg r, r/m (8–64 bits, register and memory) and xchg rax, r
      fc
        .tuple(fc.constantFrom(0x86, 0x87), fc.boolean(), reg, reg)
        .map(([op, w, d, s]) => [
          0x40 | (w && op === 0x87 ? 8 : 0) | (s >= 8 ? 4 : 0) | (d >= 8 ? 1 : 0),
          op,
          modrm(s, d),
        ]),
      fc
        .tuple(fc.constantFrom(0x86, 0x87), fc.boolean(), reg, disp)
        .map(([op, w, r, o]) => [...rex(w && op === 0x87, r, 0), op, ...mem(r, o)]),
      fc.tuple(fc.boolean(), reg).map(([w, r]) => [...rex(w, 0, r), 0x90 + (r & 7)]),
      // movs/stos, rep or not, 8–64 bits, after a small count in ecx and a source near rdi
      fc
        .tuple(
          fc.integer({ min: 0, max: 24 }),
          fc.integer({ min: -64, max: 120 }),
          fc.constantFrom(0, 0xf3, 0xf2),
          fc.constantFrom(0xa4, 0xa5, 0xaa, 0xab),
          fc.constantFrom(0, 0x66, 0x48),
        )
        .map(([n, d, r, op, p]) => [
          0xb9,
          n,
          0,
          0,
          0,
          0x48,
          0x8d,
          0x77,
          d & 0xff,
          ...(r ? [r] : []),
          ...(p ? [p] : []),
          op,
        ]),
      // std/cld, clc/stc/cmc
      fc.constantFrom([0xfd], [0xfc], [0xf8], [0xf9], [0xf5]),
      // cbw/cwde/cdqe, cwd/cdq/cqo
      fc
        .tuple(fc.constantFrom(0x98, 0x99), fc.constantFrom(0, 0x66, 0x48))
        .map(([op, p]) => (p === 0 ? [op] : [p, op])),
    ];
    const insn = fc.oneof(
      fc
        .tuple(
          fc.constantFrom(0x01, 0x09, 0x21, 0x29, 0x31, 0x39, 0x85, 0x89),
          fc.boolean(),
          reg,
          anyReg,
        )
        .map(([op, w, d, s]) => [...rex(w, s, d), op, modrm(s, d)]),
      fc
        .tuple(fc.constantFrom(0x00, 0x08, 0x20, 0x28, 0x30, 0x38, 0x84, 0x88), reg, anyReg)
        .map(([op, d, s]) => [0x40 | (s >= 8 ? 4 : 0) | (d >= 8 ? 1 : 0), op, modrm(s, d)]),
      fc
        .tuple(
          fc.integer({ min: 0, max: 7 }),
          fc.boolean(),
          reg,
          fc.integer({ min: -128, max: 127 }),
        )
        .filter(([n]) => n !== 2 && n !== 3)
        .map(([n, w, d, i]) => [...rex(w, 0, d), 0x83, modrm(n, d), i & 0xff]),
      fc
        .tuple(fc.boolean(), reg, fc.integer(), fc.integer())
        .map(([w, d, i, j]) => [
          ...rex(w, 0, d),
          0xb8 + (d & 7),
          ...le32(i),
          ...(w ? le32(j) : []),
        ]),
      fc
        .tuple(fc.constantFrom(0, 1), fc.boolean(), reg)
        .map(([n, w, d]) => [...rex(w, 0, d), 0xff, modrm(n, d)]),
      fc
        .tuple(fc.boolean(), reg, anyReg)
        .map(([w, d, s]) => [...rex(w, d, s), 0x0f, 0xaf, modrm(d, s)]),
      fc
        .tuple(fc.boolean(), reg, anyReg, fc.integer({ min: -128, max: 127 }))
        .map(([w, d, s, i]) => [...rex(w, d, s), 0x6b, modrm(d, s), i & 0xff]),
      fc
        .tuple(fc.constantFrom(4, 5, 7), fc.boolean(), reg, fc.integer({ min: 0, max: 70 }))
        .map(([n, w, d, i]) => [...rex(w, 0, d), 0xc1, modrm(n, d), i]),
      fc
        .tuple(
          fc.constantFrom(0x8b, 0x89, 0x03, 0x2b, 0x33, 0x3b, 0x01, 0x29, 0x85),
          fc.boolean(),
          reg,
          fc.integer({ min: 0, max: 120 }),
        )
        .map(([op, w, r, d]) => [...rex(w, r, 0), op, ...mem(r, d)]),
      fc
        .tuple(
          fc.constantFrom(0xb6, 0xb7, 0xbe, 0xbf),
          fc.boolean(),
          reg,
          fc.integer({ min: 0, max: 120 }),
        )
        .map(([op, w, r, d]) => [...rex(w, r, 0), 0x0f, op, ...mem(r, d)]),
      fc
        .tuple(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 255 }))
        .map(([d, i]) => [0x80, 0x7f, d, i]),
      fc
        .tuple(fc.boolean(), reg, anyReg, fc.integer({ min: -128, max: 127 }))
        .map(([w, d, b, i]) => [
          ...rex(w, d, b),
          0x8d,
          0x44 | ((d & 7) << 3),
          0x38 | (b & 7),
          i & 0xff,
        ]),
      fc.tuple(fc.integer({ min: 0, max: 15 })).map(([cc]) => [0x70 + cc, 5, 0xb8, 1, 2, 3, 4]),
      // push r64, push imm8/imm32, pop r64
      anyReg.map((r) => [...rex(false, 0, r), 0x50 + (r & 7)]),
      fc.integer({ min: -128, max: 127 }).map((i) => [0x6a, i & 0xff]),
      fc.integer().map((i) => [0x68, ...le32(i)]),
      reg.map((r) => [...rex(false, 0, r), 0x58 + (r & 7)]),
      // setcc r8 / setcc d8(%rdi); cmovcc r, r/m (32/64)
      fc
        .tuple(fc.integer({ min: 0, max: 15 }), reg)
        .map(([cc, d]) => [0x40 | (d >= 8 ? 1 : 0), 0x0f, 0x90 + cc, modrm(0, d)]),
      fc
        .tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 120 }))
        .map(([cc, d]) => [0x0f, 0x90 + cc, ...mem(0, d)]),
      fc
        .tuple(fc.integer({ min: 0, max: 15 }), fc.boolean(), reg, anyReg)
        .map(([cc, w, d, b]) => [...rex(w, d, b), 0x0f, 0x40 + cc, modrm(d, b)]),
      fc
        .tuple(fc.integer({ min: 0, max: 15 }), fc.boolean(), reg, fc.integer({ min: 0, max: 120 }))
        .map(([cc, w, d, o]) => [...rex(w, d, 0), 0x0f, 0x40 + cc, ...mem(d, o)]),
      ...dataOps,
    );
    const value = fc.oneof(
      fc.constantFrom(0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0xffffffffffffffffn),
      fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
    );
    fc.assert(
      fc.property(
        fc.array(insn, { minLength: 1, maxLength: 12 }),
        fc.array(value, { minLength: 16, maxLength: 16 }),
        fc.integer({ min: 0, max: 0xfff }),
        fc.constantFrom(1, 3, 7, 1000),
        (body, vals, flags, budget) => {
          // body; dec %r15d; jnz start (r15 = 3 passes).
          const bytes = [...body.flat(), 0x41, 0xff, 0xcf, 0x75, 0];
          bytes[bytes.length - 1] = -bytes.length & 0xff;
          const regs = vals.slice();
          regs[4] = 0x1ff000n;
          regs[7] = BigInt(DATA);
          regs[15] = 3n;
          const data = Uint8Array.from({ length: 256 }, (_, i) => (i * 37 + 11) & 0xff);
          const [a, b] = both(
            Uint8Array.from(bytes),
            regs,
            (flags & 0x8d5) | 0x202,
            data,
            budget,
            2000,
          );
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 500, seed: 20261128 },
    );
  });
});

describe("compiled control flow and chained blocks against the interpreter", () => {
  // Blocks compiled at first sight, and after a few passes (chains that mix compiled
  // blocks with interpreted instructions).
  const warm = machine(3);

  /** Runs `code` on the interpreter and both compiled machines with each budget; all must agree. */
  function agree(code: Uint8Array, regs: bigint[], budgets: number[], limit = 200_000): string[] {
    let last: string[] = [];
    for (const budget of budgets) {
      const [a, b] = both(code, regs, 0x202, new Uint8Array(0), budget, limit);
      load(warm, code, regs, 0x202, new Uint8Array(0));
      const r = trace(warm, budget, limit);
      expect(b, `blocks, budget ${budget}`).toEqual(a);
      expect(r, `warm blocks, budget ${budget}`).toEqual(a);
      last = a;
    }
    return last;
  }

  function regs(): bigint[] {
    const r = Array.from({ length: 16 }, () => 0n);
    r[4] = 0x1ff000n;
    r[7] = BigInt(DATA);
    return r;
  }

  const BUDGETS = [1, 2, 3, 5, 7, 13, 1000, 1_000_000];

  it("agrees on call and ret, ret imm16, and a recursive call", () => {
    // mov $50,%ecx; L: call F; push %rax; call G; dec %ecx; jnz L; jmp END;
    // F: add $1,%eax; ret;  G: add $3,%ebx; ret $8 (drops the pushed rax);  END:
    const code = hex("b932000000e80c00000050e80a000000ffc975f1eb0a83c001c383c303c20800");
    const last = agree(code, regs(), BUDGETS);
    expect(last.at(-1)).toMatch(/^Cpuid/);
    expect(interp.cpu.getReg(0)).toBe(50n);
    expect(interp.cpu.getReg(3)).toBe(150n);
    // sum(n) by recursion: mov $30,%edi; call S; jmp END;
    // S: test %edi,%edi; jz Z; push %rdi; dec %edi; call S; pop %rdi; add %edi,%eax; ret; Z: ret
    const rec = hex("bf1e000000e802000000eb1185ff740c57ffcfe8f4ffffff5f01f8c3c3");
    agree(rec, regs(), BUDGETS);
    expect(interp.cpu.getReg(0)).toBe(465n);
  });

  it("keeps the flags of a loop's last pass at a budget stop, a fault and after the loop", () => {
    // L: and $0x7f,%eax (replaces every flag); add $0x35,%eax; mov (%rsi),%edx;
    // add $0x1000,%rsi; cmp $0x40,%eax; jb S; sub $1,%ebp; S: dec %ecx; jnz L;
    // setc %bl; adc $0,%ebx; add %eax,%eax; jo END; nop; END:
    // The loop's flags are left unstored where the next pass replaces them: each stop
    // (the budget at the branch back, the #PF of the load once rsi leaves memory, the
    // flag readers after the loop) must see those of the pass that ran last.
    const code = hex(
      "83e07f" +
        "83c035" +
        "8b16" +
        "4881c600100000" +
        "83f840" +
        "7203" +
        "83ed01" +
        "ffc9" +
        "75e5" +
        "0f92c3" +
        "83d300" +
        "01c0" +
        "7001" +
        "90",
    );
    // The loads read past the data page that `load` fills: the same zeros on every machine.
    for (const m of [interp, compiled, warm]) m.bytes.fill(0, DATA, m.bytes.length);
    for (const [passes, fault] of [
      [300n, false],
      [600n, true],
    ] as const) {
      const r = regs();
      r[0] = 0x1234n;
      r[1] = passes;
      r[6] = BigInt(DATA);
      const last = agree(code, r, [1, 7, 37, 100, 1000, 1_000_000]);
      if (fault) expect(last.at(-1)).toContain("vec=14");
      else expect(last.at(-1)).toMatch(/^Cpuid/);
    }
    // L: adc $0,%ebx (reads the carry of the pass before); cmp $5,%ebx; dec %ecx; jnz L;
    // setc %dl: the loop reads its entry flags, so each pass stores them for the next.
    const r = regs();
    r[1] = 20n;
    agree(hex("83d300" + "83fb05" + "ffc9" + "75f6" + "0f92c2"), r, [1, 7, 37, 1000]);
    expect(interp.cpu.getReg(3)).toBe(5n);
  });

  it("agrees on indirect jmp and call through registers and memory, and loop/loope/loopne/jrcxz", () => {
    // lea F(%rip),%rax; mov %rax,(%rdi); mov $20,%ecx;
    // L: call *%rax; call *(%rdi); lea N(%rip),%rdx; jmp *%rdx; N: loop L;
    // mov $5,%ecx; M: add $1,%ebx; cmp $100,%ebx; loopne M; jrcxz X; nop; X: mov $3,%ecx;
    // P: add $2,%ebp; test %ebp,%ebp; loope P; addr32 loop Q; Q: jmp END; F: add $1,%esi; ret; END:
    const code = hex(
      "488d0538000000488907b914000000ffd0ff17488d1502000000ffe2e2f1b90500000083c30183fb64e0f8e30190b90300000083c50285ede1f967e200eb0483c601c3",
    );
    agree(code, regs(), BUDGETS);
    expect(interp.cpu.getReg(6)).toBe(40n);
    expect(interp.cpu.getReg(3)).toBe(5n);
  });

  it("stops at the exact instruction on a fault in a call, a ret or an indirect branch", () => {
    const cases: [string, (r: bigint[]) => void, number][] = [
      // call with an unmapped stack: #PF on the push, rip at the call
      ["b801000000" + "e800000000" + "ffc0", (r) => (r[4] = 0x4000_0000n), 14],
      // ret to a non-canonical address: #GP(0), rsp unchanged
      ["b801000000" + "53" + "c3", (r) => (r[3] = 0x8000_0000_0000_0000n), 13],
      // jmp *%rbx non-canonical: #GP(0)
      ["b801000000" + "ffe3", (r) => (r[3] = 0x0001_0000_0000_0000n), 13],
      // call *(%rbx) from an unmapped address: #PF
      ["b801000000" + "ff13", (r) => (r[3] = 0x4000_0000n), 14],
    ];
    for (const [code, set, vector] of cases) {
      const r = regs();
      set(r);
      const last = agree(hex(code), r, [1, 2, 100]);
      expect(last.at(-1), code).toContain(`vec=${vector}`);
    }
  });

  it("leaves a chain of blocks when one rewrites the next one's code", () => {
    // L: movb $2, I(%rip) (the immediate of `add $1,%eax` in the next block); jmp N;
    // N: add $1,%eax; dec %ecx; jnz L
    const code = hex("c6050400000002eb0083c001ffc975f0");
    const r = regs();
    r[1] = 40n;
    agree(code, r, [1, 3, 1000]);
    expect(interp.cpu.getReg(0)).toBe(80n);
  });

  it("agrees on random programs with branches, calls and returns (fast-check)", () => {
    const DST = [0, 1, 2, 3, 5, 6, 8, 9, 10, 11];
    const reg = fc.constantFrom(...DST);
    const modrm = (r: number, b: number): number => 0xc0 | ((r & 7) << 3) | (b & 7);
    const rex = (w: boolean, r: number, b: number): number[] => {
      const x = (w ? 8 : 0) | (r >= 8 ? 4 : 0) | (b >= 8 ? 1 : 0);
      return x === 0 ? [] : [0x40 | x];
    };
    // Items: plain instruction bytes, a forward jcc over the next item, a call to F.
    type Item = { bytes: number[] } | { jcc: number } | { call: true };
    const plain = fc.oneof(
      fc
        .tuple(fc.constantFrom(0x01, 0x29, 0x31, 0x39, 0x85), fc.boolean(), reg, reg)
        .map(([op, w, d, s]) => [...rex(w, s, d), op, modrm(s, d)]),
      fc
        .tuple(fc.integer({ min: 0, max: 7 }), reg, fc.integer({ min: -128, max: 127 }))
        .map(([n, d, i]) => [...rex(true, 0, d), 0x83, modrm(n, d), i & 0xff]),
      reg.map((d) => [...rex(false, 0, d), 0x50 + (d & 7), ...rex(false, 0, d), 0x58 + (d & 7)]),
    );
    const item: fc.Arbitrary<Item> = fc.oneof(
      { weight: 4, arbitrary: plain.map((bytes) => ({ bytes })) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }).map((jcc) => ({ jcc })) },
      { weight: 1, arbitrary: fc.constant({ call: true as const }) },
    );
    fc.assert(
      fc.property(
        fc.array(item, { minLength: 1, maxLength: 10 }),
        fc.array(plain, { maxLength: 4 }),
        fc.array(fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }), {
          minLength: 16,
          maxLength: 16,
        }),
        fc.constantFrom(1, 3, 7, 1000),
        (items, fbody, vals, budget) => {
          // body; dec %r15d; jnz start; jmp over F; F: fbody; ret
          const f = [...fbody.flat(), 0xc3];
          const out: number[] = [];
          const calls: number[] = [];
          items.forEach((it, n) => {
            if ("bytes" in it) out.push(...it.bytes);
            else if ("call" in it) {
              out.push(0xe8, 0, 0, 0, 0);
              calls.push(out.length);
            } else {
              const next = items[n + 1];
              const skip =
                next === undefined
                  ? 0
                  : "bytes" in next
                    ? next.bytes.length
                    : "call" in next
                      ? 5
                      : 2;
              out.push(0x70 + it.jcc, skip);
            }
          });
          out.push(0x41, 0xff, 0xcf, 0x75, 0);
          out[out.length - 1] = -out.length & 0xff;
          out.push(0xeb, f.length);
          const fAt = out.length;
          out.push(...f);
          for (const at of calls) {
            const d = fAt - at;
            out[at - 4] = d & 0xff;
            out[at - 3] = (d >> 8) & 0xff;
            out[at - 2] = (d >> 16) & 0xff;
            out[at - 1] = (d >> 24) & 0xff;
          }
          const r = vals.slice();
          r[4] = 0x1ff000n;
          r[7] = BigInt(DATA);
          r[15] = 3n;
          agree(Uint8Array.from(out), r, [budget], 2000);
        },
      ),
      { numRuns: 300, seed: 20261207 },
    );
  });
});

describe("compiled control flow: block ends and chaining", () => {
  it("keeps the flags of a block that ends before an instruction straddling a page", () => {
    // mov $1,%eax; nops; cmp $1,%eax (ends at the page's last byte but one);
    // jz +2 (its two bytes on two pages: the block ends before it); inc %ebx; (cpuid)
    const code = new Uint8Array(0x1003).fill(0x90);
    code.set(hex("b801000000"), 0);
    code.set(hex("83f801"), 0xffc);
    code.set(hex("7402"), 0xfff);
    code.set(hex("ffc3"), 0x1001);
    const regs = Array.from({ length: 16 }, () => 0n);
    for (const budget of [1, 7, 1000]) {
      const [a, b] = both(code, regs, 0x202, new Uint8Array(0), budget);
      expect(b, `budget ${budget}`).toEqual(a);
      expect(compiled.cpu.getReg(3), `budget ${budget}`).toBe(0n);
    }
  });
});

describe("compiled control flow: the interpreter's slices", () => {
  it("runs chained blocks across the interpreter's slice ends without interpreting any", () => {
    // mov $20000,%ecx; L: call F; dec %ecx; jnz L; (cpuid) F: add $1,%eax; ret
    // 100,005 instructions in chained blocks of one or two, none looping on itself: the
    // run crosses the interpreter loop's 4,096-instruction slices many times.
    const code = hex("b9204e0000" + "e806000000" + "ffc9" + "75f7" + "0fa2" + "83c001" + "c3");
    const m = machine(0);
    const read = m.cpu.startProfile();
    const regs = Array.from({ length: 16 }, () => 0n);
    regs[4] = 0x1ff000n;
    load(m, code, regs, 0x202, new Uint8Array(0));
    expect(m.cpu.run(1_000_000)).toBe(X86ExitReason.Cpuid);
    expect(m.cpu.getReg(0)).toBe(20_000n);
    const p = read();
    expect(p.compiled + p.interpreted).toBe(m.cpu.exit.retired);
    // Every block compiles at its first visit (threshold 0): the interpreter never runs one.
    expect(p.interpreted).toBe(0);
    expect(Object.fromEntries(p.blockExits)["not entered (budget or stepping)"]).toBeUndefined();
  });
});

describe("compiled control flow: direct jumps and calls in the frame", () => {
  it("goes on at the target of a jmp or call in the block's frame", () => {
    // jmp +2; ud2 (skipped); add $1,%eax; call F; add $2,%ebx; jmp END; F: add $3,%ecx; ret; END:
    const code = hex(
      "eb02" + "0f0b" + "83c001" + "e805000000" + "83c302" + "eb04" + "83c103" + "c3",
    );
    const regs = Array.from({ length: 16 }, () => 0n);
    regs[4] = 0x1ff000n;
    for (const budget of [1, 2, 4, 5, 6, 1000]) {
      const [a, b] = both(code, regs, 0x202, new Uint8Array(0), budget);
      expect(b, `budget ${budget}`).toEqual(a);
    }
    expect([0, 3, 1].map((r) => compiled.cpu.getReg(r))).toEqual([1n, 2n, 3n]);
    const slot = (pa: number): number => pa & (compiled.cpu.blocks.tag.length - 1);
    // The first block runs jmp, add, call, F's add and ret; the second add, jmp (then cpuid).
    expect(compiled.cpu.blocks.count[slot(CODE)]).toBe(5);
    expect(compiled.cpu.blocks.count[slot(CODE + 12)]).toBe(2);
  });
});

describe("compiled control flow: superblocks", () => {
  it("goes on past a conditional branch not taken and leaves the block where one is taken", () => {
    // start: xor %eax,%eax; cmp $3,%ecx; je +3; add $1,%eax; cmp $5,%ecx; jne +3;
    // add $7,%ebx; dec %ecx; jnz start; (cpuid)
    const code = hex(
      "31c0" + "83f903" + "7403" + "83c001" + "83f905" + "7503" + "83c307" + "ffc9" + "75ea",
    );
    for (const rcx of [1n, 3n, 5n, 6n]) {
      const regs = Array.from({ length: 16 }, (_, r) => (r === 1 ? rcx : 0n));
      for (const budget of [1, 4, 1000]) {
        const [a, b] = both(code, regs, 0x202, new Uint8Array(0), budget);
        expect(b, `rcx ${rcx}, budget ${budget}`).toEqual(a);
      }
      // One block holds all nine instructions: both conditional branches sit inside it.
      expect(compiled.cpu.blocks.tag[CODE & (compiled.cpu.blocks.tag.length - 1)]).toBe(CODE);
      expect(compiled.cpu.blocks.count[CODE & (compiled.cpu.blocks.tag.length - 1)]).toBe(9);
    }
    // rcx 6 counts down through 5 once.
    expect(compiled.cpu.getReg(3)).toBe(7n);
  });
});

describe("compiled control flow: exact stops in chains", () => {
  /** Runs to cpuid, resuming after every exit but the last `limit` stops; records each stop. */
  function resumed(m: Machine, budget: number, limit: number): string[] {
    const out: string[] = [];
    for (let s = 0; s < limit; s++) {
      const r = m.cpu.run(budget);
      out.push(state(m, r));
      if (r === X86ExitReason.Cpuid) break;
    }
    return out;
  }

  it("faults at the exact instruction of a block entered by chaining", () => {
    // L: call F; add $0x10000000,%rbx; dec %ecx; jnz L; jmp END;
    // F: add $1,%eax; mov (%rbx),%edx (unmapped after a few passes: #PF); ret; END:
    const code = hex(
      "e80d000000" + "4881c300000010" + "ffc9" + "75f0" + "eb06" + "83c001" + "8b13" + "c3",
    );
    const regs = Array.from({ length: 16 }, () => 0n);
    regs[1] = 40n;
    regs[3] = BigInt(DATA);
    regs[4] = 0x1ff000n;
    for (const budget of [3, 1000, 1_000_000]) {
      const [a, b] = both(code, regs, 0x202, new Uint8Array(0), budget);
      expect(b, `budget ${budget}`).toEqual(a);
      expect(a.at(-1)).toContain("vec=14");
      // The fault is in F after some calls, with F's block chained from the caller's.
      expect(compiled.cpu.getReg(0)).toBeGreaterThan(1n);
      expect(compiled.cpu.rip).toBe(BigInt(CODE + 21));
    }
  });

  it("single-steps (TF) through calls, returns and indirect jumps as the interpreter does", () => {
    // mov $3,%ecx; L: call F; lea N(%rip),%rdx; jmp *%rdx; N: loop L; jmp END; F: ret; END:
    const code = hex(
      "b903000000" + "e80d000000" + "488d1502000000" + "ffe2" + "e2ef" + "eb01" + "c3",
    );
    const regs = Array.from({ length: 16 }, () => 0n);
    regs[4] = 0x1ff000n;
    load(interp, code, regs, 0x302, new Uint8Array(0));
    // The compiled machine runs it once without TF (compiling its blocks), then with TF.
    load(compiled, code, regs, 0x202, new Uint8Array(0));
    expect(compiled.cpu.run(1000)).toBe(X86ExitReason.Cpuid);
    expect(compiled.cpu.blocks.compiled).toBeGreaterThan(3);
    regs.forEach((v, r) => compiled.cpu.setReg(r, v));
    compiled.cpu.rflags = 0x302;
    compiled.cpu.rip = BigInt(CODE);
    const a = resumed(interp, 1000, 100);
    const b = resumed(compiled, 1000, 100);
    expect(b).toEqual(a);
    // One #DB stop per instruction: 1 + 3 × 5 + 1 instructions, then cpuid.
    expect(a.filter((s) => s.includes("vec=1 ")).length).toBe(17);
  });
});

/**
 * The block cache's budget (`BlockCache.budget`): with room for one or two blocks nearly
 * every compile empties the cache, so blocks are dropped and compiled again while they
 * run; every program must still end as it does on the interpreter.
 */
describe("block cache budget", () => {
  /** A machine compiling every block at first sight, `budget` blocks between flushes. */
  function bounded(budget: number): Machine {
    const m = machine(0);
    m.cpu.blocks.budget = budget;
    return m;
  }
  // Machines of their own, fresh together: state load() does not reset (the x87 control
  // word, the code size) stays equal on both.
  const ref = machine(-1);
  const tiny = bounded(1);

  /** `m`'s stops against the interpreter's; the cache never holds more than its budget. */
  function agree(
    m: Machine,
    code: Uint8Array,
    regs: bigint[],
    flags: number,
    data: Uint8Array,
    budget: number,
    limit: number,
  ): void {
    load(ref, code, regs, flags, data);
    load(m, code, regs, flags, data);
    expect(trace(m, budget, limit)).toEqual(trace(ref, budget, limit));
    expect(m.cpu.blocks.filled).toBeLessThanOrEqual(m.cpu.blocks.budget);
    expect(m.cpu.blocks.fns.filter((f) => f !== null).length).toBeLessThanOrEqual(
      m.cpu.blocks.budget,
    );
  }

  it("defaults to a bound far below the cache's slots", () => {
    expect(machine(0).cpu.blocks.budget).toBe(BLOCK_BUDGET);
    expect(BLOCK_BUDGET).toBeLessThan(compiled.cpu.blocks.tag.length);
  });

  // The benchmark's sieve + hash loop (bench/interpreter.ts): several blocks entered over
  // and over.
  const LOOP = hex(
    "41b8020000004531c931c0b9002000004889fa4889024883c208ffc975f5be02" +
      "000000803c370075174889f2480fafd6c60417014801f24881fa0000010072f0" +
      "ffc681fe0001000072d931c9be020000000fb6143783f2014801d14d6bc91f49" +
      "01f14d89ca49c1ea074d31d1ffc681fe0000010072db41ffc8758e4c89c8",
  );
  const loopRegs = Array.from({ length: 16 }, (_, r) => (r === 7 ? BigInt(DATA) : 0n));

  it("a block dropped and compiled again runs as the interpreter does", () => {
    for (const budget of [1, 2]) {
      const m = bounded(budget);
      const unbounded = machine(0);
      // Every block entry recompiles at these budgets: 20,000 instructions are thousands of
      // compiles.
      for (const slice of [20_000, 997, 13]) {
        agree(m, LOOP, loopRegs, 0x202, new Uint8Array(0), slice, 20_000);
        load(unbounded, LOOP, loopRegs, 0x202, new Uint8Array(0));
        trace(unbounded, slice, 20_000);
      }
      // Blocks were compiled again after being dropped: more compiles than without a bound.
      expect(m.cpu.blocks.compiled).toBeGreaterThan(unbounded.cpu.blocks.compiled);
    }
  });

  it("empties the cache when a compile would pass the budget, not before", () => {
    const m = bounded(3);
    load(m, LOOP, loopRegs, 0x202, new Uint8Array(0));
    const seen: number[] = [];
    for (let i = 0; i < 200; i++) {
      m.cpu.run(50);
      seen.push(m.cpu.blocks.filled);
    }
    expect(Math.max(...seen)).toBe(3);
    expect(seen).toContain(1);
  });

  it("evicts the blocks not entered since the last eviction, and all when most are in use", () => {
    const cache = new BlockCache();
    cache.budget = 8;
    const fn: BlockFn = (_c, _r, _h, _lo, _hi, n) => n;
    const fill = (slot: number): void => {
      cache.reserve(slot);
      cache.tag[slot] = slot << 4;
      cache.fns[slot] = fn;
    };
    for (let s = 0; s < 8; s++) fill(s);
    // Blocks 1 and 6 run; the ninth compile passes the budget.
    cache.entered[1] = cache.entered[6] = 1;
    fill(8);
    const held = (): number[] => cache.fns.flatMap((f, s) => (f === null ? [] : [s]));
    expect(held()).toEqual([1, 6, 8]);
    expect(cache.tag[0]).toBe(-1);
    expect(cache.filled).toBe(3);
    // The survivors' reference bits are cleared: unless they run again, the next eviction
    // drops them.
    for (let s = 9; s < 14; s++) fill(s);
    cache.entered[9] = 1;
    fill(14);
    expect(held()).toEqual([9, 14]);
    // More than three quarters of the budget in use: everything goes.
    for (let s = 15; s < 21; s++) fill(s);
    for (const s of held()) cache.entered[s] = 1;
    fill(21);
    expect(held()).toEqual([21]);
    expect(cache.filled).toBe(1);
  });

  it("still stops at a store that rewrites the block's own code", () => {
    // movb $5, 1(%rip) (the immediate of the next add); add $1,%eax; dec %ecx; jnz start
    const code = hex("c60502000000" + "05" + "83c001" + "ffc9" + "75f2");
    const regs = Array.from({ length: 16 }, (_, r) => (r === 1 ? 3n : 0n));
    agree(tiny, code, regs, 0x202, new Uint8Array(0), 100, 1000);
    expect(tiny.cpu.getReg(0)).toBe(15n);
  });

  const files = readdirSync(DIR)
    .filter((f) => /^exec-.*\.json$/.test(f))
    .sort();
  for (const f of files) {
    it(`agrees on every case of ${f} with one block of budget`, () => {
      const file = JSON.parse(readFileSync(join(DIR, f), "utf8")) as {
        cases: { code: string; regsIn: string; flagsIn: number; buf: string }[];
      };
      for (const c of file.cases) {
        const regs = c.regsIn.split(" ").map((h) => BigInt("0x" + h));
        agree(tiny, hex(c.code), regs, c.flagsIn, hex(c.buf), 100_000, 1_000_000);
      }
    });
  }
});

describe("block compiler on 32-bit code (compatibility mode) against the interpreter", () => {
  /** A machine running 32-bit code with flat segments and a 32-bit stack. */
  function machine32(threshold: number): Machine {
    const m = machine(threshold);
    m.cpu.setCodeSize(32, true);
    return m;
  }

  /** Runs `code` as {@link both} does, on fresh machines set up by `setup`. */
  function both32(
    code: Uint8Array,
    regs: bigint[],
    flags: number,
    data: Uint8Array,
    budget: number,
    limit = 1_000_000,
    setup: (m: Machine) => void = () => {},
  ): [string[], string[], Machine] {
    const a = machine32(-1);
    const b = machine32(0);
    for (const m of [a, b]) {
      load(m, code, regs, flags, data);
      setup(m);
    }
    return [trace(a, budget, limit), trace(b, budget, limit), b];
  }

  const zeros = (): bigint[] => Array.from({ length: 16 }, () => 0n);

  it("runs 32-bit blocks: inc/dec short forms, push/pop through esp, moffs, rep stos", () => {
    const code = hex(
      [
        "40", // inc %eax (a REX prefix in 64-bit code)
        "4b", // dec %ebx
        "50", // push %eax
        "6aff", // push $-1
        "5a", // pop %edx
        "5e", // pop %esi
        "a300002000", // mov %eax,0x200000 (moffs)
        "8b0d00002000", // mov 0x200000,%ecx
        "a0 01 00 20 00", // mov 0x200001,%al (moffs)
        "b904000000", // mov $4,%ecx
        "f3ab", // rep stos %eax,%es:(%edi)
        "4d", // dec %ebp
        "75df", // jnz start
      ].join(""),
    );
    const regs = zeros();
    regs[0] = 0x1234n;
    regs[4] = BigInt(DATA + 0x800);
    regs[5] = 3n;
    regs[7] = BigInt(DATA + 0x40);
    for (const budget of [100_000, 1, 3, 7]) {
      const [a, b, m] = both32(code, regs, 0x202, new Uint8Array(0), budget);
      expect(b).toEqual(a);
      expect(a.at(-1)).toMatch(/^Cpuid/);
      expect(m.cpu.getReg(0)).toBe(0x1212n);
      expect(m.cpu.getReg(2)).toBe(0xffffffffn);
      expect(m.cpu.getReg(3)).toBe(0xfffffffdn);
      expect(m.cpu.getReg(4)).toBe(BigInt(DATA + 0x800));
      expect(m.cpu.getReg(7)).toBe(BigInt(DATA + 0x40 + 48));
      expect(m.cpu.blocks32.compiled).toBeGreaterThan(0);
      expect(m.cpu.blocks.compiled).toBe(0);
    }
  });

  it("keeps 64-bit and 32-bit blocks of the same bytes apart across mode switches", () => {
    // 64-bit: add $1,%rax. 32-bit: dec %eax; add $1,%eax. Then dec %ecx; jnz start.
    const code = hex("480501000000" + "ffc9" + "75f6");
    const run = (m: Machine, size: 64 | 32, ecx: bigint): string[] => {
      m.cpu.setCodeSize(size, true);
      m.cpu.rip = BigInt(CODE);
      m.cpu.setReg(1, ecx);
      return trace(m, 100_000);
    };
    const a = machine(-1);
    const b = machine(0);
    const regs = zeros();
    regs[0] = 100n;
    for (const m of [a, b]) load(m, code, regs, 0x202, new Uint8Array(0));
    const steps: [64 | 32, bigint, bigint][] = [
      [64, 5n, 105n],
      [32, 7n, 105n],
      [64, 2n, 107n],
      [32, 3n, 107n],
    ];
    for (const [size, ecx, rax] of steps) {
      const want = run(a, size, ecx);
      expect(run(b, size, ecx), `${size}-bit`).toEqual(want);
      expect(b.cpu.getReg(0), `${size}-bit`).toBe(rax);
    }
    expect(b.cpu.blocks.compiled).toBeGreaterThan(0);
    expect(b.cpu.blocks32.compiled).toBeGreaterThan(0);
  });

  it("wraps eip, esp and effective addresses at 4 GiB", () => {
    // Two layouts of the code at the top of the address space: an instruction ending at
    // 4 GiB (the block's fall-through wraps eip to 0), or one straddling it (interpreted).
    const layouts = [
      { top: "9090909090909090" + "41", low: "42" + "e9faff0f00", edx: 0x41909091n },
      { top: "90909090909090" + "41" + "89", low: "ca" + "42" + "e9f9ff0f00", edx: 0x11223346n },
    ];
    for (const { top, low, edx } of layouts) {
      // Linear 0xffe00000–0xffffffff maps machine 0–0x1fffff (a 2 MiB page) as well.
      const mapHigh = (m: Machine): void => {
        const v = new DataView(m.bytes.buffer, m.bytes.byteOffset);
        v.setUint32(0x2000 + 3 * 8, 0x4000 | 7, true);
        v.setUint32(0x4000 + 511 * 8, 0x87, true);
        // 0xfffffff0: inc %eax; add %ebx,%eax; mov 0x10(%ebx),%ecx (ebx = 0xfffffff8: reads
        // linear 8); pop %edx (esp = 0xfffffffc: wraps to 0); then the layout's top.
        m.bytes.set(hex("40" + "01d8" + "8b4b10" + "5a" + top), 0x1ffff0);
        // At linear 0: the layout's low (ending in jmp CODE); data at linear 8.
        m.bytes.set(hex(low), 0);
        m.bytes.set(hex("44332211"), 8);
        m.cpu.invalidateCode(0, 16);
        m.cpu.invalidateCode(0x1ffff0, 16);
        m.cpu.rip = 0xfffffff0n;
      };
      // At CODE: mov $0xfffffffc,%esp; dec %ebp; jnz 0xfffffff0 (rel32 wrapping below 0).
      const code = hex("bcfcffffff" + "4d" + "0f85" + "e4ffefff");
      const regs = zeros();
      regs[3] = 0xfffffff8n;
      regs[4] = 0xfffffffcn;
      regs[5] = 3n;
      for (const budget of [100_000, 1, 2, 5, 6]) {
        const [a, b, m] = both32(code, regs, 0x202, new Uint8Array(0), budget, 1_000_000, mapHigh);
        expect(b).toEqual(a);
        expect(a.at(-1)).toMatch(/^Cpuid/);
        expect(m.cpu.rip).toBe(BigInt(CODE + 12));
        expect(m.cpu.getReg(1)).toBe(0x11223345n);
        expect(m.cpu.getReg(2)).toBe(edx);
        expect(m.cpu.getReg(4)).toBe(0xfffffffcn);
        expect(m.cpu.blocks32.compiled).toBeGreaterThan(0);
      }
    }
  });

  it("leaves the state of the faulting instruction on a fault inside a 32-bit block", () => {
    // mov $1,%eax; add %eax,%edx; <access>; inc %eax; jmp back to the start
    const cases = [
      ["8b0b", 3, 0x4000_0000n], // mov (%ebx),%ecx: #PF (not mapped)
      ["890c33", 6, 0x7fff_fff0n], // mov %ecx,(%ebx,%esi,1): #PF
      ["53", 4, 0x4000_0000n], // push %ebx: #PF, esp unchanged
      ["59", 4, 0x4000_0000n], // pop %ecx: #PF, esp unchanged
      ["f3ab", 7, 0x3ffff8n], // rep stos: #PF after two iterations
      ["c3", 4, 0x4000_0000n], // ret: #PF reading the return address, esp unchanged
      ["c20800", 4, 0x4000_0000n], // ret $8: likewise
      ["e800000000", 4, 0x4000_0000n], // call: #PF pushing the return address
      ["ff13", 3, 0x4000_0000n], // call *(%ebx): #PF reading the target
      ["ffd3", 4, 0x4000_0000n], // call *%ebx: #PF pushing
      ["ff23", 3, 0x4000_0000n], // jmp *(%ebx): #PF reading the target
    ] as const;
    for (const [access, reg, value] of cases) {
      const code = hex(
        "b801000000" + "01c2" + access + "40" + "eb" + (256 - 10 - access.length / 2).toString(16),
      );
      const regs = zeros();
      regs[1] = 5n;
      regs[4] = BigInt(DATA + 0x800);
      regs[reg] = value;
      for (const budget of [100, 3]) {
        const [a, b] = both32(code, regs, 0x202, new Uint8Array(0), budget);
        expect(a.at(-1), access).toMatch(/^Exception .*vec=14/);
        expect(b, access).toEqual(a);
      }
    }
  });

  it("compiles inc/dec of memory and of 8/16-bit registers in 64- and 32-bit code", () => {
    // cmp %ecx,%edx (CF from it); inc/dec forms; adc %eax,%eax (reads CF); loop on ebp
    const forms = [
      "fe07", // incb (%rdi)
      "66ff4f02", // decw 2(%rdi)
      "ff4704", // incl 4(%rdi)
      "fec4", // inc %ah
      "66ffc9", // dec %cx
    ];
    const code64 = hex("39ca" + forms.join("") + "48ff4f08" + "11c0" + "ffcd" + "75e6");
    const code32 = hex("39ca" + forms.join("") + "6640" + "11c0" + "4d" + "75e9");
    const regs = zeros();
    regs[0] = 0x1ffn;
    regs[1] = 0x10001n;
    regs[2] = 7n;
    regs[5] = 4n;
    regs[7] = BigInt(DATA);
    const data = hex("ff7f0080ffffff7f0000000000000000");
    for (const budget of [100_000, 1, 4]) {
      const [a, b] = both(code64, regs, 0x202, data, budget);
      expect(b).toEqual(a);
      expect(a.at(-1)).toMatch(/^Cpuid/);
      const [c, d, m] = both32(code32, regs, 0x202, data, budget);
      expect(d).toEqual(c);
      expect(c.at(-1)).toMatch(/^Cpuid/);
      expect(m.bytes[DATA]).toBe(3);
    }
    expect(compiled.cpu.blocks.compiled).toBeGreaterThan(0);
  });

  it("compiles call, ret, ret imm16 and indirect jmp/call with 4-byte stack slots", () => {
    const code = hex(
      [
        "b801000000", // 00: mov $1,%eax
        "e836000000", // 05: call sub1 (0x40)
        "6807000000", // 0a: push $7
        "e83c000000", // 0f: call sub2 (0x50), which returns with ret $4
        "bb60001000", // 14: mov $sub3,%ebx
        "ffd3", // 19: call *%ebx
        "891f", // 1b: mov %ebx,(%edi)
        "ff17", // 1d: call *(%edi)
        "b92a001000", // 1f: mov $CODE+0x2a,%ecx
        "ffe1", // 24: jmp *%ecx
        "90909090", // 26: (jumped over)
        "4d", // 2a: dec %ebp
        "75d3", // 2b: jnz 0
        "eb41", // 2d: jmp 0x70 (the cpuid)
        "90".repeat(17),
        "40c3", // 40: sub1: inc %eax; ret
        "90".repeat(14),
        "01c0c20400", // 50: sub2: add %eax,%eax; ret $4
        "90".repeat(11),
        "83c005c3", // 60: sub3: add $5,%eax; ret
        "90".repeat(12),
      ].join(""),
    );
    expect(code.length).toBe(0x70);
    const regs = zeros();
    regs[4] = BigInt(DATA + 0x800);
    regs[5] = 3n;
    regs[7] = BigInt(DATA);
    for (const budget of [100_000, 1, 2, 3, 5, 7]) {
      const [a, b, m] = both32(code, regs, 0x202, new Uint8Array(0), budget);
      expect(b).toEqual(a);
      expect(a.at(-1)).toMatch(/^Cpuid/);
      expect(m.cpu.getReg(0)).toBe(14n);
      expect(m.cpu.getReg(4)).toBe(BigInt(DATA + 0x800));
      // The last return address pushed (by call *(%edi)) stays below esp.
      expect(new DataView(m.bytes.buffer, m.bytes.byteOffset).getUint32(DATA + 0x7fc, true)).toBe(
        CODE + 0x1f,
      );
    }
  });

  it("stops at a store that rewrites the block's own code", () => {
    // movb $5,CODE+8 (the immediate of the add); add $1,%eax; dec %ecx; jnz start
    const code = hex("c605" + "09001000" + "05" + "83c001" + "49" + "75f3");
    const regs = zeros();
    regs[1] = 3n;
    const [a, b, m] = both32(code, regs, 0x202, new Uint8Array(0), 100);
    expect(b).toEqual(a);
    expect(m.cpu.getReg(0)).toBe(15n);
  });

  it("interprets 32-bit code whose segments are not flat, or whose stack is 16-bit, and 16-bit code", () => {
    // mov 0x10(%ebx),%eax (through DS); inc %eax; push %eax; pop %ecx; dec %edx; jnz start
    const code = hex("8b4310" + "40" + "50" + "59" + "4a" + "75f7");
    const data = Uint8Array.from({ length: 0x100 }, (_, i) => i);
    const regs = zeros();
    regs[2] = 4n;
    regs[3] = BigInt(DATA);
    regs[4] = BigInt(DATA + 0x800);
    const setups: [string, (m: Machine) => void][] = [
      ["DS base", (m) => m.cpu.setSegmentBase(Seg.DS, 0x40)],
      [
        "DS limit",
        (m) => {
          m.cpu.segLimit[Seg.DS] = DATA + 0x11;
          m.cpu.segCheck |= 1 << Seg.DS;
        },
      ],
      ["16-bit stack", (m) => m.cpu.setCodeSize(32, false)],
      ["16-bit code", (m) => m.cpu.setCodeSize(16, true)],
    ];
    for (const [what, setup] of setups) {
      const [a, b, m] = both32(code, regs, 0x202, data, 100, 1_000_000, setup);
      expect(b, what).toEqual(a);
      expect(m.cpu.blocks32.compiled, what).toBe(0);
    }
    // Blocks compiled while flat are not entered once DS gets a base.
    const [, , m] = both32(code, regs, 0x202, data, 100);
    expect(m.cpu.blocks32.compiled).toBeGreaterThan(0);
    expect(m.cpu.getReg(0)).toBe(0x13121111n);
    m.cpu.setSegmentBase(Seg.DS, 0x40);
    m.cpu.rip = BigInt(CODE);
    m.cpu.setReg(2, 1n);
    expect(trace(m, 100).at(-1)).toMatch(/^Cpuid/);
    expect(m.cpu.getReg(0)).toBe(0x53525151n);
  });

  it("agrees on random 32-bit programs of the compiled forms (fast-check)", () => {
    // Destinations avoid esp, ebp (the loop counter) and edi (the data pointer).
    const reg = fc.constantFrom(0, 1, 2, 3, 6);
    const anyReg = fc.integer({ min: 0, max: 7 });
    const disp = fc.integer({ min: 0, max: 120 });
    const o16 = fc.constantFrom<number[]>([], [0x66]);
    const insn = fc.oneof(
      // ALU and mov r/m32, r32 (and 16-bit), register forms; 8-bit forms (ah–bh included)
      fc
        .tuple(
          fc.constantFrom(0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31, 0x39, 0x85, 0x89, 0x87),
          o16,
          reg,
          anyReg,
        )
        .map(([op, p, d, s]) => [...p, op, modrm(s, d)]),
      fc
        .tuple(
          fc.constantFrom(0x00, 0x08, 0x10, 0x20, 0x28, 0x30, 0x38, 0x84, 0x88, 0x86),
          fc.integer({ min: 0, max: 7 }),
          anyReg,
        )
        .filter(([, d]) => d !== 5 && d !== 7)
        .map(([op, d, s]) => [op, modrm(s, d)]),
      fc
        .tuple(fc.integer({ min: 0, max: 7 }), o16, reg, fc.integer({ min: -128, max: 127 }))
        .map(([n, p, d, i]) => [...p, 0x83, modrm(n, d), i & 0xff]),
      fc.tuple(reg, fc.integer()).map(([d, i]) => [0xb8 + d, ...le32(i)]),
      // inc/dec: the one-byte forms 40–4f, and ff /0, ff /1
      fc.tuple(fc.constantFrom(0x40, 0x48), reg).map(([op, d]) => [op + d]),
      fc.tuple(fc.constantFrom(0, 1), reg).map(([n, d]) => [0xff, modrm(n, d)]),
      // inc/dec of memory (8/16/32 bits) and of 8/16-bit registers
      fc
        .tuple(fc.constantFrom(0xfe, 0xff), fc.constantFrom(0, 1), o16, disp)
        .map(([op, n, p, d]) => [...(op === 0xff ? p : []), op, ...mem(n, d)]),
      fc
        .tuple(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 7 }))
        .filter(([, d]) => d !== 5 && d !== 7)
        .map(([n, d]) => [0xfe, modrm(n, d)]),
      fc.tuple(fc.constantFrom(0x40, 0x48), reg).map(([op, d]) => [0x66, op + d]),
      fc.tuple(reg, anyReg).map(([d, s]) => [0x0f, 0xaf, modrm(d, s)]),
      fc
        .tuple(reg, anyReg, fc.integer({ min: -128, max: 127 }))
        .map(([d, s, i]) => [0x6b, modrm(d, s), i & 0xff]),
      fc
        .tuple(fc.constantFrom(0, 1, 4, 5, 7), reg, fc.integer({ min: 0, max: 40 }))
        .map(([n, d, i]) => [0xc1, modrm(n, d), i]),
      fc.tuple(fc.constantFrom(2, 3), reg).map(([n, d]) => [0xf7, modrm(n, d)]),
      fc.tuple(fc.integer({ min: 4, max: 7 }), anyReg).map(([n, d]) => [0xf7, modrm(n, d)]),
      // memory through [edi + disp8], 32 and 16 bits, loads, stores and read-modify-writes
      fc
        .tuple(
          fc.constantFrom(0x8b, 0x89, 0x03, 0x2b, 0x33, 0x3b, 0x01, 0x29, 0x85, 0x11, 0x1b, 0x87),
          o16,
          reg,
          disp,
        )
        .map(([op, p, r, d]) => [...p, op, ...mem(r, d)]),
      fc
        .tuple(fc.constantFrom(0xb6, 0xb7, 0xbe, 0xbf), reg, disp)
        .map(([op, r, d]) => [0x0f, op, ...mem(r, d)]),
      fc.tuple(disp, fc.integer({ min: 0, max: 255 })).map(([d, i]) => [0x80, 0x7f, d, i]),
      fc.tuple(fc.constantFrom(2, 3), disp).map(([n, d]) => [0xf7, ...mem(n, d)]),
      // mul/imul of memory; adc/sbb of an immediate into memory
      fc.tuple(fc.constantFrom(4, 5), disp).map(([n, d]) => [0xf7, ...mem(n, d)]),
      fc
        .tuple(fc.constantFrom(2, 3), o16, disp, fc.integer({ min: -128, max: 127 }))
        .map(([n, p, d, i]) => [...p, 0x83, ...mem(n, d), i & 0xff]),
      // moffs: mov DATA+d,%eax / %al and back
      fc
        .tuple(fc.constantFrom(0xa0, 0xa1, 0xa2, 0xa3), disp)
        .map(([op, d]) => [op, ...le32(DATA + d)]),
      // lea with base + index·scale + disp8 (wrapping at 4 GiB)
      fc
        .tuple(
          reg,
          anyReg,
          anyReg.filter((x) => x !== 4),
          fc.integer({ min: 0, max: 3 }),
          fc.integer({ min: -128, max: 127 }),
        )
        .filter(([, b]) => b !== 5)
        .map(([d, b, x, sc, i]) => [0x8d, 0x44 | (d << 3), (sc << 6) | (x << 3) | b, i & 0xff]),
      // jcc over a mov
      fc.integer({ min: 0, max: 15 }).map((cc) => [0x70 + cc, 5, 0xb8, 1, 2, 3, 4]),
      // push r32/imm, pop r32
      anyReg.map((r) => [0x50 + r]),
      fc.integer({ min: -128, max: 127 }).map((i) => [0x6a, i & 0xff]),
      fc.integer().map((i) => [0x68, ...le32(i)]),
      reg.map((r) => [0x58 + r]),
      // setcc, cmovcc
      fc
        .tuple(fc.integer({ min: 0, max: 15 }), reg)
        .map(([cc, d]) => [0x0f, 0x90 + cc, modrm(0, d)]),
      fc
        .tuple(fc.integer({ min: 0, max: 15 }), reg, anyReg)
        .map(([cc, d, b]) => [0x0f, 0x40 + cc, modrm(d, b)]),
      fc
        .tuple(fc.integer({ min: 0, max: 15 }), reg, disp)
        .map(([cc, d, o]) => [0x0f, 0x40 + cc, ...mem(d, o)]),
      // xchg %eax,r; cbw/cwde, cwd/cdq; flags
      reg.map((r) => [0x90 + r]),
      fc.tuple(fc.constantFrom(0x98, 0x99), o16).map(([op, p]) => [...p, op]),
      fc.constantFrom([0xfd], [0xfc], [0xf8], [0xf9], [0xf5]),
      // movs/stos, rep or not, 8–32 bits, after a small count in ecx and a source near edi
      fc
        .tuple(
          fc.integer({ min: 0, max: 24 }),
          fc.integer({ min: -64, max: 120 }),
          fc.constantFrom(0, 0xf3),
          fc.constantFrom(0xa4, 0xa5, 0xaa, 0xab),
          o16,
        )
        .map(([n, d, r, op, p]) => [
          0xb9,
          n,
          0,
          0,
          0,
          0x8d,
          0x77,
          d & 0xff,
          ...(r ? [r] : []),
          ...p,
          op,
        ]),
      // SSE and x87 through the helpers: addsd m64, cvtsi2sd r32, fld1, fnstsw %ax
      disp.map((o) => [0xf2, 0x0f, 0x58, ...mem(1, o)]),
      anyReg.map((s) => [0xf2, 0x0f, 0x2a, modrm(2, s)]),
      fc.constantFrom([0xd9, 0xe8], [0xdf, 0xe0]),
    );
    const value = fc.oneof(
      fc.constantFrom(0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn),
      fc.bigInt({ min: 0n, max: 0xffffffffn }),
    );
    fc.assert(
      fc.property(
        fc.array(insn, { minLength: 1, maxLength: 12 }),
        fc.array(value, { minLength: 8, maxLength: 8 }),
        fc.integer({ min: 0, max: 0xfff }),
        fc.constantFrom(1, 3, 7, 1000),
        (body, vals, flags, budget) => {
          // body; dec %ebp; jnz start (ebp = 3 passes).
          const bytes = [...body.flat(), 0x4d, 0x75, 0];
          bytes[bytes.length - 1] = -bytes.length & 0xff;
          const regs = [...vals, ...zeros().slice(8)];
          regs[4] = BigInt(DATA + 0x800);
          regs[5] = 3n;
          regs[7] = BigInt(DATA);
          const data = Uint8Array.from({ length: 256 }, (_, i) => (i * 37 + 11) & 0xff);
          const [a, b] = both32(
            Uint8Array.from(bytes),
            regs,
            (flags & 0x8d5) | 0x202,
            data,
            budget,
            2000,
          );
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 300, seed: 20261207 },
    );
  });
});
