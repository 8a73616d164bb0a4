/**
 * SSE floating point and the later vector instructions, on what the native corpus
 * (exec-float.json, exec-ssex.json) does not reach or does not single out: #XM against
 * #UD by CR4.OSXMMEXCPT, #UD without CR4.OSFXSR, #NM with CR0.TS, alignment, the
 * destination left alone by an unmasked exception, and worked examples of exact rounding
 * in every mode, DAZ and FTZ, NaN choice and the integer indefinite.
 */
import { describe, expect, it } from "vitest";
import { Vector, X86ExitReason } from "./cpu-api.js";
import type { X86Cpu } from "./cpu.js";
import { FpuCr, resetVectorState } from "./fpu.js";
import { Mxcsr } from "./simd-float.js";
import { makeTestCpu } from "./test-machine.js";

const CODE = 0x100000;
const DATA = 0x200000;
const { cpu, mem } = makeTestCpu(8, 4);
const cr0 = cpu.cr0;
const cr4 = cpu.cr4;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const bitsF = (x: number): number => {
  f32[0] = x;
  return u32[0];
};
const bitsD = (x: number): bigint => {
  f64[0] = x;
  return u64[0];
};

/** Runs `bytes` then cpuid with xmm0 = a, xmm1 = b (lane 0 bits) and MXCSR `mxcsr`. */
function run(bytes: number[], mxcsr: number, setup: (c: X86Cpu) => void = () => {}): X86ExitReason {
  mem.bytes.fill(0, CODE, CODE + 4096);
  mem.bytes.set([...bytes, 0x0f, 0xa2], CODE);
  cpu.invalidateCode(CODE, 4096);
  cpu.cr0 = cr0;
  cpu.cr4 = cr4;
  cpu.cpl = 3;
  resetVectorState(cpu);
  cpu.mxcsr = mxcsr;
  cpu.setReg(0, BigInt(DATA));
  setup(cpu);
  cpu.rip = BigInt(CODE);
  return cpu.run(100);
}
/** Scalar single: xmm0 = op(xmm0, xmm1); returns the result bits and MXCSR. */
function ss(op: number[], a: number, b: number, mxcsr = 0x1f80): [number, number] {
  const r = run(op, mxcsr, (c) => {
    c.xmm[0] = a;
    c.xmm[4] = b;
  });
  expect(r).toBe(X86ExitReason.Cpuid);
  return [cpu.xmm[0] >>> 0, cpu.mxcsr];
}
/** Scalar double on lane pairs. */
function sd(op: number[], a: bigint, b: bigint, mxcsr = 0x1f80): [bigint, number] {
  const r = run(op, mxcsr, (c) => {
    c.xmm[0] = Number(a & 0xffffffffn) | 0;
    c.xmm[1] = Number(a >> 32n) | 0;
    c.xmm[4] = Number(b & 0xffffffffn) | 0;
    c.xmm[5] = Number(b >> 32n) | 0;
  });
  expect(r).toBe(X86ExitReason.Cpuid);
  return [(BigInt(cpu.xmm[1] >>> 0) << 32n) | BigInt(cpu.xmm[0] >>> 0), cpu.mxcsr];
}

const ADDSS = [0xf3, 0x0f, 0x58, 0xc1]; // addss %xmm1,%xmm0
const MULSS = [0xf3, 0x0f, 0x59, 0xc1];
const DIVSS = [0xf3, 0x0f, 0x5e, 0xc1];
const MINSS = [0xf3, 0x0f, 0x5d, 0xc1];
const ADDSD = [0xf2, 0x0f, 0x58, 0xc1];
const DIVSD = [0xf2, 0x0f, 0x5e, 0xc1];
const SQRTSD = [0xf2, 0x0f, 0x51, 0xc1];
const ADDPS_MEM = [0x0f, 0x58, 0x00]; // addps (%rax),%xmm0
const ADDSS_MEM = [0xf3, 0x0f, 0x58, 0x00]; // addss (%rax),%xmm0
const PCMPISTRI_MEM = [0x66, 0x0f, 0x3a, 0x63, 0x00, 0x00]; // pcmpistri $0,(%rax),%xmm0
const CVTTSS2SI = [0xf3, 0x0f, 0x2c, 0xc0]; // cvttss2si %xmm0,%eax
const CVTSD2SI64 = [0xf2, 0x48, 0x0f, 0x2d, 0xc0]; // cvtsd2si %xmm0,%rax
const RC = (mode: number): number => 0x1f80 | (mode << Mxcsr.RC_SHIFT);

describe("exceptions and availability", () => {
  it("an unmasked exception is #XM with CR4.OSXMMEXCPT, #UD without; the destination stays", () => {
    const one = bitsF(1);
    const unmaskedZero = 0x1f80 & ~(Mxcsr.ZE << Mxcsr.MASK_SHIFT);
    const setup = (c: X86Cpu): void => {
      c.xmm[0] = one;
      c.xmm[4] = 0;
    };
    expect(run(DIVSS, unmaskedZero, setup)).toBe(X86ExitReason.Exception);
    expect(cpu.exit.vector).toBe(Vector.XM);
    expect(cpu.xmm[0]).toBe(one);
    expect(cpu.mxcsr & 0x3f).toBe(Mxcsr.ZE);
    const noXm = (c: X86Cpu): void => {
      setup(c);
      c.cr4 &= ~FpuCr.OSXMMEXCPT;
    };
    expect(run(DIVSS, unmaskedZero, noXm)).toBe(X86ExitReason.Exception);
    expect(cpu.exit.vector).toBe(Vector.UD);
    // Masked: ∞ and the sticky flag.
    expect(ss(DIVSS, one, 0)).toEqual([0x7f800000, 0x1f80 | Mxcsr.ZE]);
  });

  it("#UD without CR4.OSFXSR, #NM with CR0.TS, before any operand is read", () => {
    expect(run(ADDSS, 0x1f80, (c) => (c.cr4 &= ~FpuCr.OSFXSR))).toBe(X86ExitReason.Exception);
    expect(cpu.exit.vector).toBe(Vector.UD);
    expect(run(ADDPS_MEM, 0x1f80, (c) => (c.cr0 |= FpuCr.TS))).toBe(X86ExitReason.Exception);
    expect(cpu.exit.vector).toBe(Vector.NM);
  });

  it("a packed 16-byte operand must be aligned; scalar ones and the string compares need not", () => {
    const off = (c: X86Cpu): void => c.setReg(0, BigInt(DATA + 4));
    expect(run(ADDPS_MEM, 0x1f80, off)).toBe(X86ExitReason.Exception);
    expect(cpu.exit.vector).toBe(Vector.GP);
    expect(run(ADDSS_MEM, 0x1f80, off)).toBe(X86ExitReason.Cpuid);
    expect(run(PCMPISTRI_MEM, 0x1f80, off)).toBe(X86ExitReason.Cpuid);
  });
});

describe("exact rounding", () => {
  it("1 + 2^-24 in single: nearest-even down, up rounds up, both inexact", () => {
    const a = bitsF(1);
    const b = bitsF(2 ** -24);
    expect(ss(ADDSS, a, b, RC(0))).toEqual([0x3f800000, RC(0) | Mxcsr.PE]);
    expect(ss(ADDSS, a, b, RC(2))).toEqual([0x3f800001, RC(2) | Mxcsr.PE]);
    expect(ss(ADDSS, a, b, RC(1))).toEqual([0x3f800000, RC(1) | Mxcsr.PE]);
    // Just below a power of two, rounding down lands in the binade below.
    expect(ss(ADDSS, bitsF(2), bitsF(-(2 ** -30)), RC(1))[0]).toBe(0x3fffffff);
  });

  it("double: 1/3 up is one ulp above nearest; √2 toward zero one below", () => {
    const one = bitsD(1);
    const three = bitsD(3);
    const [rn] = sd(DIVSD, one, three, RC(0));
    const [rd] = sd(DIVSD, one, three, RC(1));
    const [ru] = sd(DIVSD, one, three, RC(2));
    expect(rn).toBe(bitsD(1 / 3));
    expect(rd).toBe(rn);
    expect(ru).toBe(rn + 1n);
    // The nearest double to √2 is above it: toward zero is one ulp lower.
    const [sz, flags] = sd(SQRTSD, 0n, bitsD(2), RC(3));
    expect(sz).toBe(bitsD(Math.SQRT2) - 1n);
    expect(flags & 0x3f).toBe(Mxcsr.PE);
    expect(sd(SQRTSD, 0n, bitsD(4), RC(2))).toEqual([bitsD(2), RC(2)]);
  });

  it("overflow: ∞ to nearest, the largest finite toward zero; OE and PE", () => {
    const max = bitsD(Number.MAX_VALUE);
    expect(sd(ADDSD, max, max, RC(0))).toEqual([bitsD(Infinity), RC(0) | Mxcsr.OE | Mxcsr.PE]);
    expect(sd(ADDSD, max, max, RC(3))).toEqual([max, RC(3) | Mxcsr.OE | Mxcsr.PE]);
  });

  it("gradual underflow; FTZ flushes a tiny result to zero with UE and PE; DAZ reads denormals as zero", () => {
    const tiny = bitsF(2 ** -126);
    const [r, f] = ss(MULSS, tiny, bitsF(0.75));
    expect(r).toBe(0x00600000);
    expect(f & 0x3f).toBe(0); // exact: no underflow when masked
    expect(ss(MULSS, tiny, bitsF(0.75), 0x1f80 | Mxcsr.FZ)).toEqual([
      0,
      0x1f80 | Mxcsr.FZ | Mxcsr.UE | Mxcsr.PE,
    ]);
    expect(ss(ADDSS, 1, bitsF(1))).toEqual([0x3f800000, 0x1f80 | Mxcsr.DE | Mxcsr.PE]);
    expect(ss(ADDSS, 1, bitsF(1), 0x1f80 | Mxcsr.DAZ)).toEqual([0x3f800000, 0x1f80 | Mxcsr.DAZ]);
  });
});

describe("NaNs, min/max and conversions", () => {
  it("the first operand's NaN wins, quieted; an SNaN is invalid; min returns the source for NaN or ±0", () => {
    const snan = 0x7f800001;
    const qnan = 0x7fc00002;
    expect(ss(ADDSS, snan, qnan)).toEqual([0x7fc00001, 0x1f80 | Mxcsr.IE]);
    expect(ss(ADDSS, bitsF(1), qnan)).toEqual([qnan, 0x1f80]);
    expect(ss(MINSS, qnan, bitsF(2))).toEqual([bitsF(2), 0x1f80 | Mxcsr.IE]);
    expect(ss(MINSS, bitsF(-0), bitsF(0))[0]).toBe(0);
    expect(ss(MINSS, bitsF(0), 0x80000000)[0]).toBe(0x80000000);
  });

  it("float to integer: the integer indefinite for NaN and out of range; rounding by MXCSR or truncation", () => {
    const r1 = run(CVTTSS2SI, 0x1f80, (c) => (c.xmm[0] = bitsF(3e9)));
    expect(r1).toBe(X86ExitReason.Cpuid);
    expect(cpu.getReg(0)).toBe(0x80000000n);
    expect(cpu.mxcsr & 0x3f).toBe(Mxcsr.IE);
    run(CVTTSS2SI, 0x1f80, (c) => (c.xmm[0] = bitsF(-2.75)));
    expect(cpu.getReg(0)).toBe(0xfffffffen);
    expect(cpu.mxcsr & 0x3f).toBe(Mxcsr.PE);
    const setD = (x: number) => (c: X86Cpu) => {
      const b = bitsD(x);
      c.xmm[0] = Number(b & 0xffffffffn) | 0;
      c.xmm[1] = Number(b >> 32n) | 0;
    };
    run(CVTSD2SI64, RC(0), setD(2.5));
    expect(cpu.getReg(0)).toBe(2n);
    run(CVTSD2SI64, RC(2), setD(2.5));
    expect(cpu.getReg(0)).toBe(3n);
    run(CVTSD2SI64, RC(0), setD(NaN));
    expect(cpu.getReg(0)).toBe(0x8000000000000000n);
  });
});
