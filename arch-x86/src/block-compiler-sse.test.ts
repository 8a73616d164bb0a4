/**
 * Differential tests of the SSE instructions the block compiler runs inline
 * (block-compiler-sse.ts) against the interpreter: the same program run with blocks off
 * and with every block compiled at first sight must end in the same state — every XMM
 * lane, MXCSR, RFLAGS, the registers, memory, the exit and its exception details — over
 * operands that take the fast path (normal numbers, zeros) and those that must not (NaNs
 * quiet and signalling, infinities, denormals, results that overflow or underflow),
 * under every rounding mode, DAZ/FZ and exception masks masked and unmasked.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { X86ExitReason } from "./cpu-api.js";
import type { X86Cpu } from "./cpu.js";
import { FpuCr, resetVectorState } from "./fpu.js";
import { makeTestCpu } from "./test-machine.js";

/** Calls of the interpreter's floating-point helper (from the interpreter or a block). */
const helper = vi.hoisted(() => ({ calls: 0 }));
vi.mock("./simd-float.js", async (original) => {
  const m = await original<typeof import("./simd-float.js")>();
  return {
    ...m,
    floatOp: (...a: Parameters<typeof m.floatOp>): void => {
      helper.calls++;
      m.floatOp(...a);
    },
  };
});

const CODE = 0x100000;
const DATA = 0x200000;

interface Machine {
  cpu: X86Cpu;
  bytes: Uint8Array;
  /** CR0 and CR4 as built (a run's setup may change them). */
  cr0: number;
  cr4: number;
}

function machine(threshold: number, m32 = false): Machine {
  const { cpu, mem } = makeTestCpu(4);
  cpu.blockThreshold = threshold;
  if (m32) cpu.setCodeSize(32, true);
  return { cpu, bytes: mem.bytes, cr0: cpu.cr0, cr4: cpu.cr4 };
}

const hx = (v: number): string => (v >>> 0).toString(16);

/** Architectural state after a stop, as one comparable string (every XMM lane in full). */
function state(m: Machine, reason: X86ExitReason): string {
  const c = m.cpu;
  const regs = Array.from({ length: 16 }, (_, r) => c.getReg(r).toString(16)).join(" ");
  let sum = 0;
  for (let i = DATA; i < DATA + 0x200; i++) sum = (Math.imul(sum, 31) + m.bytes[i]) | 0;
  const e = c.exit;
  const fault =
    reason === X86ExitReason.Exception
      ? ` vec=${e.vector} err=${e.errorCode} len=${e.instructionLength} cr2=${e.cr2.toString(16)}`
      : "";
  return (
    `${X86ExitReason[reason]} retired=${e.retired} rip=${c.rip.toString(16)} ` +
    `flags=${c.rflags.toString(16)} mxcsr=${hx(c.mxcsr)} regs=${regs} mem=${sum} ` +
    `xmm=${Array.from(c.xmm.subarray(0, 32), hx).join(" ")} ` +
    `x87=${c.ftop} ${hx(c.ftw)} ${hx(c.fsw)} ${hx(c.fcw)} ${Array.from(c.fpuMant, hx).join(" ")} ` +
    `${Array.from(c.fpuSignExp, hx).join(" ")} fop=${hx(c.fop)} fip=${hx(c.fipLo)}:${hx(c.fipHi)} ` +
    `fdp=${hx(c.fdpLo)}:${hx(c.fdpHi)} fcs=${c.fcs} fds=${c.fds}${fault}`
  );
}

/** What one run starts from. */
interface Start {
  code: Uint8Array;
  regs: bigint[];
  data: Uint8Array;
  /** XMM0–7 as 32 int32 lanes. */
  xmm: number[];
  mxcsr: number;
  budget: number;
  /** x87 state: TOP, the tag bits, FSW, FCW, and the eight registers (mantissa lanes, sign/exponent). */
  x87?: { top: number; tags: number; fsw: number; fcw: number; mant: number[]; se: number[] };
  /** Changes to the machine after loading (control registers). */
  setup?: (c: X86Cpu) => void;
}

function load(m: Machine, s: Start): void {
  const c = m.cpu;
  m.bytes.fill(0, CODE, CODE + 0x2000);
  m.bytes.set(s.code, CODE);
  // cpuid ends the run.
  m.bytes.set([0x0f, 0xa2], CODE + s.code.length);
  c.invalidateCode(CODE, 0x2000);
  m.bytes.fill(0, DATA, DATA + 0x1000);
  m.bytes.set(s.data, DATA);
  s.regs.forEach((v, r) => c.setReg(r, v));
  c.rflags = 0x202;
  resetVectorState(c);
  c.xmm.fill(0);
  s.xmm.forEach((v, i) => (c.xmm[i] = v));
  c.mxcsr = s.mxcsr;
  if (s.x87 !== undefined) {
    c.ftop = s.x87.top;
    c.ftw = s.x87.tags;
    c.fsw = s.x87.fsw;
    c.fcw = s.x87.fcw;
    s.x87.mant.forEach((v, i) => (c.fpuMant[i] = v));
    s.x87.se.forEach((v, i) => (c.fpuSignExp[i] = v));
  }
  c.cr0 = m.cr0;
  c.cr4 = m.cr4;
  s.setup?.(c);
  c.rip = BigInt(CODE);
}

/** Runs until cpuid or an exception in steps of the budget, recording every stop. */
function trace(m: Machine, budget: number, limit = 4000): string[] {
  const out: string[] = [];
  let total = 0;
  for (;;) {
    const r = m.cpu.run(budget);
    total += m.cpu.exit.retired;
    out.push(state(m, r));
    if (r !== X86ExitReason.Budget || total >= limit) return out;
  }
}

const interp = machine(-1);
const compiled = machine(0);
const interp32 = machine(-1, true);
const compiled32 = machine(0, true);

/** The interpreted and the compiled run of `s` (32-bit code when `m32`). */
function both(s: Start, m32 = false): [string[], string[]] {
  const a = m32 ? interp32 : interp;
  const b = m32 ? compiled32 : compiled;
  load(a, s);
  load(b, s);
  return [trace(a, s.budget), trace(b, s.budget)];
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/ /g, ""), "hex"));
/** ModRM of register operands `r` (reg field) and `b` (rm field). */
const modrm = (r: number, b: number): number => 0xc0 | ((r & 7) << 3) | (b & 7);
/** ModRM and disp8 of `[rdi + d]`, reg field `r`. */
const mem = (r: number, d: number): number[] => [0x47 | ((r & 7) << 3), d];

/** Bits of a double as [lo, hi] int32 lanes. */
function dbl(x: number): [number, number] {
  const v = new DataView(new ArrayBuffer(8));
  v.setFloat64(0, x, true);
  return [v.getInt32(0, true), v.getInt32(4, true)];
}
function sgl(x: number): number {
  const v = new DataView(new ArrayBuffer(4));
  v.setFloat32(0, x, true);
  return v.getInt32(0, true);
}

/** Doubles on both sides of every fast-path condition, as [lo, hi] lanes. */
const DOUBLES: [number, number][] = [
  ...[
    0,
    -0,
    1,
    -1.5,
    2,
    0.1,
    1 / 3,
    -7.25,
    3.0000000000000004,
    1e300,
    -1e300,
    1e-300,
    1.5e-160,
    2.2250738585072014e-308,
    -2.2250738585072014e-308,
    4.450147717014403e-308,
    1.7976931348623157e308,
    8.98846567431158e307,
    2147483647.5,
    -2147483648.75,
    2147483648,
    9.3e18,
    -9.223372036854776e18,
    16777217,
    3.4028235677973366e38,
    1.1754942e-38,
    Infinity,
    -Infinity,
  ].map(dbl),
  // A denormal, a quiet NaN, a signalling NaN and the default NaN.
  [1, 0],
  [0, 0x7ff80000],
  [5, 0x7ff40000],
  [0, 0xfff80000 | 0],
];
/** Singles likewise (a pair per double slot). */
const SINGLES: number[] = [
  ...[
    0,
    -0,
    1,
    -1.5,
    0.1,
    1 / 3,
    3e38,
    -3e38,
    1e-30,
    1.1754943508222875e-38,
    1e20,
    16777217,
    2147483520,
    -2147483648,
    Infinity,
    -Infinity,
    1.0000001,
  ].map(sgl),
  1,
  0x7fc00000,
  0x7fa00000,
  0x80400000 | 0,
];

const lanes = fc.oneof(
  fc.constantFrom(...DOUBLES),
  fc.tuple(fc.constantFrom(...SINGLES), fc.constantFrom(...SINGLES)),
  fc.tuple(fc.integer(), fc.integer()),
);

const MXCSRS = [
  0x1f80, // default: all masked, nearest, no flags yet
  0x1fa0, // precision flag already set: the fast path
  0x3fa0, // round down
  0x5fa0, // round up
  0x7fa0, // toward zero
  0x9fe0, // FZ and DAZ
  0x1fbf, // every flag set
  0x0fa0, // precision unmasked
  0x1e20 | 0x80, // denormal unmasked
  0x1da0, // divide by zero unmasked
  0x1ba0, // overflow unmasked
  0x17a0, // underflow unmasked
  0x1f20, // invalid unmasked
];

const XMM = fc.integer({ min: 0, max: 7 });
/** General registers a program may write: not rsp, rdi (the data pointer) or r15 (the count). */
const GPR = fc.constantFrom(0, 1, 2, 3, 5, 6, 8, 9, 10, 11, 12, 13, 14);
/** Displacements off rdi: aligned and (for the 16-byte rows) not. */
const DISP = fc.oneof(
  fc.integer({ min: 0, max: 7 }).map((x) => 16 * x),
  fc.integer({ min: 0, max: 15 }).map((x) => 8 * x),
  fc.integer({ min: 0, max: 124 }),
);
const rexOf = (w: boolean, r: number, b: number): number[] => {
  const x = (w ? 8 : 0) | (r >= 8 ? 4 : 0) | (b >= 8 ? 1 : 0);
  return x === 0 ? [] : [0x40 | x];
};

/** One SSE instruction `pfx 0f op` with register or memory source. */
function sse(prefixes: readonly number[], op: number[], imm = false): fc.Arbitrary<number[]> {
  const tail = imm ? fc.integer({ min: 0, max: 255 }).map((v) => [v]) : fc.constant([]);
  return fc.oneof(
    fc.tuple(XMM, XMM, tail).map(([d, s, t]) => [...prefixes, 0x0f, ...op, modrm(d, s), ...t]),
    fc.tuple(XMM, DISP, tail).map(([d, o, t]) => [...prefixes, 0x0f, ...op, ...mem(d, o), ...t]),
  );
}

/** The instruction forms compiled inline, and a few neighbours that are not. */
const INSNS: fc.Arbitrary<number[]>[] = [
  // movaps/movapd/movups/movdqa/movdqu, loads and stores
  ...[
    [[], 0x28],
    [[], 0x29],
    [[0x66], 0x28],
    [[0x66], 0x29],
    [[], 0x10],
    [[], 0x11],
    [[0x66], 0x6f],
    [[0x66], 0x7f],
    [[0xf3], 0x6f],
    [[0xf3], 0x7f],
    // movss/movsd, movq
    [[0xf3], 0x10],
    [[0xf3], 0x11],
    [[0xf2], 0x10],
    [[0xf2], 0x11],
    [[0xf3], 0x7e],
    [[0x66], 0xd6],
    // logic, integer adds (paddb: a helper), unpacks
    [[0x66], 0xdb],
    [[0x66], 0xdf],
    [[0x66], 0xeb],
    [[0x66], 0xef],
    [[], 0x54],
    [[0x66], 0x57],
    [[0x66], 0xfe],
    [[0x66], 0xd4],
    [[0x66], 0xfa],
    [[0x66], 0xfb],
    [[0x66], 0xfc],
    [[], 0x14],
    [[], 0x15],
    [[0x66], 0x14],
    [[0x66], 0x15],
    [[0x66], 0x62],
    [[0x66], 0x6a],
    [[0x66], 0x6c],
    [[0x66], 0x6d],
    // comis/ucomis
    [[], 0x2e],
    [[], 0x2f],
    [[0x66], 0x2e],
    [[0x66], 0x2f],
    // cvtss2sd, cvtsd2ss, cvtps2pd (a helper)
    [[0xf3], 0x5a],
    [[0xf2], 0x5a],
    [[], 0x5a],
  ].map(([p, o]) => sse(p as number[], [o as number])),
  // pshufd, shufps, shufpd
  sse([0x66], [0x70], true),
  sse([], [0xc6], true),
  sse([0x66], [0xc6], true),
  // arithmetic: add/mul/sub/min/div/max/sqrt in the four forms
  fc
    .tuple(
      fc.constantFrom([], [0x66], [0xf3], [0xf2]),
      fc.constantFrom(0x51, 0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f),
    )
    .chain(([p, o]) => sse(p, [o])),
  // cvtsi2ss/sd from r32/r64/m32/m64
  fc
    .tuple(fc.constantFrom(0xf3, 0xf2), fc.boolean(), XMM, fc.integer({ min: 0, max: 15 }))
    .map(([p, w, d, s]) => [p, ...rexOf(w, 0, s), 0x0f, 0x2a, modrm(d, s)]),
  fc
    .tuple(fc.constantFrom(0xf3, 0xf2), fc.boolean(), XMM, DISP)
    .map(([p, w, d, o]) => [p, ...rexOf(w, 0, 0), 0x0f, 0x2a, ...mem(d, o)]),
  // cvttss2si/cvttsd2si and cvtsd2si (a helper) to r32/r64
  fc
    .tuple(fc.constantFrom(0xf3, 0xf2), fc.constantFrom(0x2c, 0x2d), fc.boolean(), GPR, XMM)
    .map(([p, o, w, d, s]) => [p, ...rexOf(w, d, 0), 0x0f, o, modrm(d, s)]),
  fc
    .tuple(fc.constantFrom(0xf3, 0xf2), fc.boolean(), GPR, DISP)
    .map(([p, w, d, o]) => [p, ...rexOf(w, d, 0), 0x0f, 0x2c, ...mem(d, o)]),
  // movd/movq between general registers or memory and XMM
  fc
    .tuple(fc.constantFrom(0x6e, 0x7e), fc.boolean(), XMM, GPR)
    .map(([o, w, x, r]) => [0x66, ...rexOf(w, 0, r), 0x0f, o, modrm(x, r)]),
  fc
    .tuple(fc.constantFrom(0x6e, 0x7e), fc.boolean(), XMM, DISP)
    .map(([o, w, x, d]) => [0x66, ...rexOf(w, 0, 0), 0x0f, o, ...mem(x, d)]),
  // flag users and writers around them: seta/setp/setb %al, add %rbx,%rax, cmp %ecx,%edx
  fc.constantFrom([0x0f, 0x97, 0xc0], [0x0f, 0x9a, 0xc0], [0x0f, 0x92, 0xc0]),
  fc.constantFrom([0x48, 0x01, 0xd8], [0x39, 0xca]),
];

const program = fc.array(fc.oneof(...INSNS), { minLength: 1, maxLength: 10 });

/** Starts from a body, register and memory values: body; dec %r15d; jnz start (3 passes). */
function start(
  body: number[][],
  gprs: bigint[],
  data: [number, number][],
  xmm: [number, number][],
  mxcsr: number,
  budget: number,
): Start {
  const bytes = [...body.flat(), 0x41, 0xff, 0xcf, 0x75, 0];
  bytes[bytes.length - 1] = -bytes.length & 0xff;
  const regs = gprs.slice();
  regs[4] = 0x1ff000n;
  regs[7] = BigInt(DATA);
  regs[15] = 3n;
  const d = new DataView(new ArrayBuffer(data.length * 8));
  data.forEach(([lo, hi], i) => {
    d.setInt32(8 * i, lo, true);
    d.setInt32(8 * i + 4, hi, true);
  });
  return {
    code: Uint8Array.from(bytes),
    regs,
    data: new Uint8Array(d.buffer),
    xmm: xmm.flat(),
    mxcsr,
    budget,
  };
}

/**
 * {@link start}'s program for 32-bit code: dec %r15d is a REX form there, so the loop
 * counts down in ebp instead (dec %ebp; jnz start); registers are cut to 32 bits.
 */
function in32(s: Start): Start {
  const code = Array.from(s.code.subarray(0, s.code.length - 5));
  code.push(0x4d, 0x75, 0);
  code[code.length - 1] = -code.length & 0xff;
  const regs = s.regs.map((v) => v & 0xffffffffn);
  regs[5] = 3n;
  return { ...s, code: Uint8Array.from(code), regs };
}

const GPR_VALUES = fc.array(
  fc.oneof(
    fc.constantFrom(0n, 1n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0xffffffffffffffffn),
    fc.bigInt({ min: 0n, max: 0xffffffffffffffffn }),
  ),
  { minLength: 16, maxLength: 16 },
);

describe("compiled SSE against the interpreter", () => {
  it("agrees on random programs of SSE moves, logic, arithmetic, compares and conversions (fast-check)", () => {
    fc.assert(
      fc.property(
        program,
        GPR_VALUES,
        fc.array(lanes, { minLength: 20, maxLength: 20 }),
        fc.array(lanes, { minLength: 16, maxLength: 16 }),
        fc.constantFrom(...MXCSRS),
        fc.constantFrom(1, 3, 1000),
        (body, gprs, data, xmm, mxcsr, budget) => {
          const [a, b] = both(start(body, gprs, data, xmm, mxcsr, budget));
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 1500, seed: 20261207 },
    );
  });

  it("agrees on the same programs in 32-bit code (fast-check)", () => {
    // 32-bit code: no REX prefixes (general registers and XMM 0–7 only).
    const noRex = (i: number[]): boolean => {
      let j = 0;
      while (i[j] === 0x66 || i[j] === 0xf2 || i[j] === 0xf3) j++;
      return (i[j] & 0xf0) !== 0x40;
    };
    const body = program.map((p) => {
      const q = p.filter(noRex);
      return q.length > 0 ? q : [[0x66, 0x0f, 0xef, 0xc9]];
    });
    fc.assert(
      fc.property(
        body,
        GPR_VALUES,
        fc.array(lanes, { minLength: 20, maxLength: 20 }),
        fc.array(lanes, { minLength: 16, maxLength: 16 }),
        fc.constantFrom(...MXCSRS),
        (b0, gprs, data, xmm, mxcsr) => {
          const [a, b] = both(in32(start(b0, gprs, data, xmm, mxcsr, 1000)), true);
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 400, seed: 20261208 },
    );
  });

  it("takes the fast path on nearest-rounded doubles and singles, bit for bit", () => {
    // A converging recurrence (every value stays normal), then a compare whose flags are
    // used: the compiled run must end where the interpreter's does, calling the helper
    // only where the fast path's conditions fail.
    const body = Array.from(
      hex(
        [
          "f20f59c2", // mulsd %xmm2,%xmm0
          "f20f58c3", // addsd %xmm3,%xmm0
          "660f28c8", // movapd %xmm0,%xmm1
          "f20f5ecc", // divsd %xmm4,%xmm1
          "f20f5cc8", // subsd %xmm0,%xmm1
          "f20f51d8", // sqrtsd %xmm0,%xmm3
          "f20f5cdb", // subsd %xmm3,%xmm3
          "f20f58dd", // addsd %xmm5,%xmm3 (xmm3 = xmm5's low double, 1.1)
          "0f59f7", // mulps %xmm7,%xmm6
          "0f58f5", // addps %xmm5,%xmm6
          "660f2fc1", // comisd %xmm1,%xmm0
          "0f97c0", // seta %al
          "01c2", // add %eax,%edx
          "ffc9", // dec %ecx
        ].join(""),
      ),
    );
    // jnz start
    const code = Uint8Array.from([...body, 0x75, -(body.length + 2) & 0xff]);
    const xmm = [
      ...dbl(0.3),
      0,
      0,
      0,
      0,
      0,
      0,
      ...dbl(0.5),
      0,
      0,
      ...dbl(1.25),
      0,
      0,
      ...dbl(3),
      0,
      0,
      // xmm5: 1.1, whose halves are normal singles too, and singles 1 and 2.
      ...dbl(1.1),
      sgl(1),
      sgl(2),
      sgl(1.1),
      sgl(-0.9),
      sgl(3),
      sgl(1e-3),
      sgl(0.5),
      sgl(0.25),
      sgl(0.75),
      sgl(0.1),
    ];
    for (const mxcsr of [0x1f80, 0x1fa0, 0x3fa0, 0x9fe0]) {
      const regs = Array.from({ length: 16 }, () => 0n);
      regs[1] = 3000n;
      const s: Start = { code, regs, data: new Uint8Array(0), xmm, mxcsr, budget: 100_000 };
      helper.calls = 0;
      load(interp, s);
      const a = trace(interp, s.budget, 100_000);
      const interpreted = helper.calls;
      helper.calls = 0;
      load(compiled, s);
      const b = trace(compiled, s.budget, 100_000);
      expect(b).toEqual(a);
      expect(a.at(-1)).toMatch(/^Cpuid/);
      // Compiled, the helper runs throughout under directed rounding; under nearest only
      // while the loop's first passes are interpreted and until the first inexact result
      // sets PE (not once per pass: that would be 3000 calls of each op).
      expect(interpreted, mxcsr.toString(16)).toBe(3000 * 10);
      if (mxcsr === 0x3fa0) {
        // All but comisd, which does not round.
        expect(helper.calls).toBeGreaterThanOrEqual(3000 * 9);
        expect(helper.calls).toBeLessThan(3000 * 9 + 100);
      } else expect(helper.calls, mxcsr.toString(16)).toBeLessThan(interpreted / 100);
    }
  });

  it("faults where the interpreter does: #UD without OSFXSR, #NM with TS, #GP on misalignment, #PF", () => {
    // mov $1,%eax; <op>; inc %eax; jmp start
    const ops = [
      "0f28 07", // movaps (%rdi),%xmm0
      "0f29 07", // movaps %xmm0,(%rdi)
      "660f58 07", // addpd (%rdi),%xmm0
      "f20f58 07", // addsd (%rdi),%xmm0
      "f20f11 07", // movsd %xmm0,(%rdi)
      "660f2f 07", // comisd (%rdi),%xmm0
      "f20f2a 07", // cvtsi2sdl (%rdi),%xmm0
      "f30f6f 07", // movdqu (%rdi),%xmm0
      "f30f7f 07", // movdqu %xmm0,(%rdi)
      "660f70 07 1b", // pshufd $0x1b,(%rdi),%xmm0
      "660fef c9", // pxor %xmm1,%xmm1
    ];
    const setups: [string, (c: X86Cpu) => void][] = [
      ["none", () => {}],
      ["no OSFXSR", (c) => (c.cr4 &= ~FpuCr.OSFXSR)],
      ["TS", (c) => (c.cr0 |= FpuCr.TS)],
    ];
    for (const op of ops) {
      const b = hex(op);
      const code = Uint8Array.from([
        0xb8,
        1,
        0,
        0,
        0,
        ...b,
        0xff,
        0xc0,
        0xeb,
        -(b.length + 9) & 0xff,
      ]);
      for (const rdi of [DATA, DATA + 8, DATA + 4092, 0x4000_0000]) {
        for (const [name, setup] of setups) {
          const regs = Array.from({ length: 16 }, () => 0n);
          regs[7] = BigInt(rdi);
          const s: Start = {
            code,
            regs,
            data: new Uint8Array(0),
            xmm: [],
            mxcsr: 0x1f80,
            budget: 50,
            setup,
          };
          const [x, y] = both(s);
          expect(y, `${op} rdi=${rdi.toString(16)} ${name}`).toEqual(x);
        }
      }
    }
  });

  it("stops at a vector store that rewrites the block's own code", () => {
    // lea 3(%rip),%rdi (the inc); movups %xmm0,(%rdi); inc %eax; dec %ecx; jnz start:
    // the store rewrites the rest of the loop as inc %eax; inc %eax; dec %ecx; jnz start.
    const code = hex("488d3d03000000" + "0f1107" + "ffc0" + "ffc9" + "75f0" + "90".repeat(16));
    const regs = Array.from({ length: 16 }, () => 0n);
    regs[1] = 3n;
    // xmm0: inc %eax; inc %eax; dec %ecx; jnz back to the lea; nops.
    const xmm0 = Array.from(hex("ffc0ffc0ffc975ee9090909090909090"));
    const lanes0 = [0, 1, 2, 3].map(
      (j) =>
        (xmm0[4 * j] ?? 0x90) |
        ((xmm0[4 * j + 1] ?? 0x90) << 8) |
        ((xmm0[4 * j + 2] ?? 0x90) << 16) |
        ((xmm0[4 * j + 3] ?? 0x90) << 24),
    );
    const s: Start = {
      code,
      regs,
      data: new Uint8Array(0),
      xmm: lanes0,
      mxcsr: 0x1f80,
      budget: 1000,
    };
    const [a, b] = both(s);
    expect(b).toEqual(a);
    // The rewritten loop runs from the first pass on: two incs per pass (3 unrewritten).
    expect(a.at(-1)).toMatch(/^Cpuid/);
    expect(compiled.cpu.getReg(0)).toBe(6n);
  });
});

describe("compiled x87 register moves against the interpreter", () => {
  const ST = fc.integer({ min: 0, max: 7 });
  const X87_INSNS: fc.Arbitrary<number[]>[] = [
    // fld ST(i), fxch, fst ST(i), fstp ST(i)
    ST.map((i) => [0xd9, 0xc0 + i]),
    ST.map((i) => [0xd9, 0xc8 + i]),
    ST.map((i) => [0xdd, 0xd0 + i]),
    ST.map((i) => [0xdd, 0xd8 + i]),
    // fld m32fp, fld m64fp (and a 16-bit operand-size form)
    DISP.map((o) => [0xd9, ...mem(0, o)]),
    DISP.map((o) => [0xdd, ...mem(0, o)]),
    // fild m32int
    DISP.map((o) => [0xdb, ...mem(0, o)]),
    // helpers around them: fldz, fld1, faddp, fmul ST(i), fstpl, fnstsw %ax, fincstp,
    // fldcw (control words from the data: masks on and off), fcomip
    fc.constantFrom([0xd9, 0xee], [0xd9, 0xe8], [0xde, 0xc1], [0xdf, 0xe0], [0xd9, 0xf7]),
    ST.map((i) => [0xd8, 0xc8 + i]),
    // fcomi, fucomi, fcomip, fucomip, and seta/setp/setb %al after them
    fc
      .tuple(fc.constantFrom(0xdb, 0xdf), fc.constantFrom(0xe8, 0xf0), ST)
      .map(([o, m, i]) => [o, m + i]),
    fc.constantFrom([0x0f, 0x97, 0xc0], [0x0f, 0x9a, 0xc0], [0x0f, 0x92, 0xc0]),
    DISP.map((o) => [0xdd, ...mem(3, o)]),
    DISP.map((o) => [0xd9, ...mem(5, o)]),
  ];
  const mant = fc.array(fc.integer(), { minLength: 16, maxLength: 16 });
  const se = fc.array(
    fc.oneof(
      fc.constantFrom(0, 0x3fff, 0xbfff, 0x7fff, 0xffff, 1, 0x8000),
      fc.integer({ min: 0, max: 0xffff }),
    ),
    { minLength: 8, maxLength: 8 },
  );
  const x87State = fc.record({
    top: ST,
    tags: fc.integer({ min: 0, max: 255 }),
    // Pending exceptions in some (with FCW masks off: #MF at the next waiting instruction).
    fsw: fc.constantFrom(0, 0x20, 0x41, 0x3f),
    fcw: fc.constantFrom(0x37f, 0x27f, 0x37e, 0x37d, 0x360),
    mant,
    se,
  });

  it("agrees on random programs of fld, fxch, fst/fstp, loads and fcomi among x87 helpers (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(...X87_INSNS), { minLength: 1, maxLength: 10 }),
        fc.array(lanes, { minLength: 20, maxLength: 20 }),
        x87State,
        fc.constantFrom(1, 3, 1000),
        (body, data, x87, budget) => {
          const s = start(body, Array<bigint>(16).fill(0n), data, [], 0x1f80, budget);
          s.x87 = x87;
          const [a, b] = both(s);
          expect(b).toEqual(a);
          // The same in 32-bit code (FIP, FDP and the selectors as 32-bit code sets them).
          const [c, d] = both(in32(s), true);
          expect(d).toEqual(c);
        },
      ),
      { numRuns: 1200, seed: 20261209 },
    );
  });

  it("faults where the interpreter does: #NM with TS or EM, #PF on the load", () => {
    // mov $1,%eax; <op>; inc %eax; jmp start
    for (const op of ["d907", "dd07", "d9c9", "ddd9", "d9c1"]) {
      const b = hex(op);
      const code = Uint8Array.from([
        0xb8,
        1,
        0,
        0,
        0,
        ...b,
        0xff,
        0xc0,
        0xeb,
        -(b.length + 9) & 0xff,
      ]);
      for (const rdi of [DATA, 0x4000_0000]) {
        for (const cr0 of [0, FpuCr.TS, FpuCr.EM]) {
          const regs = Array.from({ length: 16 }, () => 0n);
          regs[7] = BigInt(rdi);
          const s: Start = {
            code,
            regs,
            data: new Uint8Array(0),
            xmm: [],
            mxcsr: 0x1f80,
            budget: 50,
            setup: (c) => (c.cr0 |= cr0),
            x87: {
              top: 0,
              tags: 0x03,
              fsw: 0,
              fcw: 0x37f,
              mant: [1, -1, 2, -2],
              se: [0x3fff, 0x4000],
            },
          };
          const [x, y] = both(s);
          expect(y, `${op} rdi=${rdi.toString(16)} cr0=${cr0}`).toEqual(x);
        }
      }
    }
  });
});
