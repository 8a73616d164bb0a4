/**
 * The x87 rules (SDM vol. 1, 4.7–4.9 and 8.5; vol. 2 instruction pages) on hand-picked
 * operands: rounding in each RC and PC with C1, ties to even, denormal results and
 * tininess, masked and unmasked overflow and underflow (the ±0x6000 exponent bias, nothing
 * stored to memory), invalid operations and NaN propagation, stack faults, zero divide,
 * integer conversion overflow, compares, the RC-dependent constants, the environment
 * image, and #MF/#NM. The native corpus (exec-x87.json) covers random operands.
 */
import { describe, expect, it } from "vitest";
import { Vector, X86ExitReason } from "./cpu-api.js";
import { FpuCr, resetVectorState, x87StatusWord } from "./fpu.js";
import { makeTestCpu } from "./test-machine.js";
import { X87Flag, classify, X87Class, x87FullTagWord } from "./x87.js";

const CODE = 0x100000;
const DATA = 0x200000;
const { cpu, mem } = makeTestCpu(8, 4);
const cr0 = cpu.cr0;
const { IE, DE, ZE, OE, UE, PE, SF, C0, C1, C2, C3 } = X87Flag;

// Encodings used below (Intel semantics in the comments; rax = DATA).
const FLDT = (d: number): number[] => [0xdb, 0x68, d]; // fld m80 d(%rax)
const FSTPT = (d: number): number[] => [0xdb, 0x78, d]; // fstp m80 d(%rax)
const FSTPL = (d: number): number[] => [0xdd, 0x58, d]; // fstp m64
const FSTPS = (d: number): number[] => [0xd9, 0x58, d]; // fstp m32
const FLDCW = (d: number): number[] => [0xd9, 0x68, d];
const FISTPL = (d: number): number[] => [0xdb, 0x58, d]; // fistp m32int
const FADD_ST1 = [0xd8, 0xc1]; // ST(0) = ST(0) + ST(1)
const FSUB_ST1 = [0xd8, 0xe1]; // ST(0) = ST(0) - ST(1)
const FMUL_ST1 = [0xd8, 0xc9]; // ST(0) = ST(0) * ST(1)
const FDIV_ST1 = [0xd8, 0xf1]; // ST(0) = ST(0) / ST(1)
const FLD1 = [0xd9, 0xe8];
const FLDZ = [0xd9, 0xee];
const FLDPI = [0xd9, 0xeb];
const FCOMI_ST1 = [0xdb, 0xf1];
const FXAM = [0xd9, 0xe5];
const FSQRT = [0xd9, 0xfa];
const FWAIT = [0x9b];
const FNCLEX = [0xdb, 0xe2];
const FNSTSW_AX = [0xdf, 0xe0];

/** An 80-bit value as "sign/exponent:significand" hex, as the tests write them. */
type F80 = string;

function putF80(off: number, v: F80): void {
  const [se, m] = v.split(":");
  const big = BigInt("0x" + m);
  mem.view.setBigUint64(DATA + off, big, true);
  mem.view.setUint16(DATA + off + 8, parseInt(se, 16), true);
}
function getF80(off: number): F80 {
  const m = mem.view.getBigUint64(DATA + off, true);
  const se = mem.view.getUint16(DATA + off + 8, true);
  return `${se.toString(16).padStart(4, "0")}:${m.toString(16).padStart(16, "0")}`;
}
/** ST(i) of the CPU. */
function st(i: number): F80 {
  const p = (cpu.ftop + i) & 7;
  const m = (BigInt(cpu.fpuMant[2 * p + 1] >>> 0) << 32n) | BigInt(cpu.fpuMant[2 * p] >>> 0);
  return `${cpu.fpuSignExp[p].toString(16).padStart(4, "0")}:${m.toString(16).padStart(16, "0")}`;
}

/**
 * Runs `bytes` (then cpuid) from FNINIT state with control word `fcw`; memory at DATA
 * holds the F80 values of `vals` at 0, 16, 32, ... Returns the exit.
 */
function run(bytes: number[], fcw = 0x37f, vals: F80[] = [], cr0Extra = 0): X86ExitReason {
  mem.bytes.fill(0, CODE, CODE + 4096);
  mem.bytes.set([...bytes, 0x0f, 0xa2], CODE);
  cpu.invalidateCode(CODE, 4096);
  mem.bytes.fill(0, DATA, DATA + 512);
  vals.forEach((v, i) => putF80(16 * i, v));
  mem.view.setUint16(DATA + 0x1f0, fcw, true);
  cpu.cr0 = cr0 | cr0Extra;
  resetVectorState(cpu);
  cpu.fcw = fcw;
  cpu.setReg(0, BigInt(DATA));
  cpu.rip = BigInt(CODE);
  return cpu.run(1000);
}
/** FSW exception flags, SF and the condition codes. */
function flags(): number {
  return x87StatusWord(cpu) & (0x7f | C0 | C1 | C2 | C3);
}
/** fcw with RC (0 nearest, 1 down, 2 up, 3 zero), PC (0 24-bit, 2 53-bit, 3 64-bit) and masks. */
const cw = (rc: number, pc = 3, masks = 0x3f): number => 0x40 | masks | (pc << 8) | (rc << 10);

const ONE: F80 = "3fff:8000000000000000";
const THREE: F80 = "4000:c000000000000000";
const SEVEN: F80 = "4001:e000000000000000";

describe("rounding", () => {
  // 7/3 = 1.0010101...b × 2^1: the SDM's rounding in each precision and mode, and C1.
  const cases: [number, number, F80, boolean][] = [
    [3, 0, "4000:9555555555555555", false],
    [3, 2, "4000:9555555555555556", true],
    [3, 3, "4000:9555555555555555", false],
    [2, 0, "4000:9555555555555800", true],
    [2, 1, "4000:9555555555555000", false],
    [0, 0, "4000:9555550000000000", false],
    [0, 2, "4000:9555560000000000", true],
  ];
  for (const [pc, rc, want, c1] of cases) {
    it(`7/3 with PC ${pc} and RC ${rc} is ${want}, C1 ${c1 ? 1 : 0}, PE`, () => {
      expect(run([...FLDT(16), ...FLDT(0), ...FDIV_ST1], cw(rc, pc), [SEVEN, THREE])).toBe(
        X86ExitReason.Cpuid,
      );
      expect(st(0)).toBe(want);
      expect(flags()).toBe(PE | (c1 ? C1 : 0));
    });
  }

  it("a tie rounds to even in nearest mode, and down (C1 = 0) toward zero", () => {
    // (1 + 2^-63) + 2^-64: halfway between significands ...01 and ...02.
    const a: F80 = "3fff:8000000000000001";
    const b: F80 = "3fbf:8000000000000000";
    run([...FLDT(16), ...FLDT(0), ...FADD_ST1], cw(0), [a, b]);
    expect(st(0)).toBe("3fff:8000000000000002");
    expect(flags()).toBe(PE | C1);
    run([...FLDT(16), ...FLDT(0), ...FADD_ST1], cw(3), [a, b]);
    expect(st(0)).toBe("3fff:8000000000000001");
    expect(flags()).toBe(PE);
    // (1 + 2^-62) + 2^-64 is also halfway, between ...02 and ...03: even is ...02.
    run([...FLDT(16), ...FLDT(0), ...FADD_ST1], cw(0), ["3fff:8000000000000002", b]);
    expect(st(0)).toBe("3fff:8000000000000002");
    expect(flags()).toBe(PE);
  });

  it("x − x is +0, and −0 when rounding down", () => {
    run([...FLDT(0), ...FLDT(0), ...FSUB_ST1], cw(0), [SEVEN]);
    expect(st(0)).toBe("0000:0000000000000000");
    run([...FLDT(0), ...FLDT(0), ...FSUB_ST1], cw(1), [SEVEN]);
    expect(st(0)).toBe("8000:0000000000000000");
  });

  it("fsqrt rounds like the divisions", () => {
    run([...FLDT(0), ...FSQRT], cw(0), ["4000:8000000000000000"]);
    expect(st(0)).toBe("3fff:b504f333f9de6484");
    expect(flags()).toBe(PE);
  });

  it("stores to m32/m64 round to the format's precision under RC", () => {
    run([...FLDT(0), ...FLDT(16), ...FDIV_ST1, ...FSTPL(0x40)], cw(0), [THREE, ONE]);
    expect(mem.view.getBigUint64(DATA + 0x40, true)).toBe(0x3fd5555555555555n);
    run([...FLDT(0), ...FLDT(16), ...FDIV_ST1, ...FSTPS(0x40)], cw(0), [THREE, ONE]);
    expect(mem.view.getUint32(DATA + 0x40, true)).toBe(0x3eaaaaab);
    expect(flags() & C1).toBe(C1);
    run([...FLDT(0), ...FLDT(16), ...FDIV_ST1, ...FSTPS(0x40)], cw(3), [THREE, ONE]);
    expect(mem.view.getUint32(DATA + 0x40, true)).toBe(0x3eaaaaaa);
  });
});

describe("the constants", () => {
  it("fldpi is rounded by RC: nearest and up give ...c235, down and zero ...c234", () => {
    for (const [rc, want] of [
      [0, "4000:c90fdaa22168c235"],
      [1, "4000:c90fdaa22168c234"],
      [2, "4000:c90fdaa22168c235"],
      [3, "4000:c90fdaa22168c234"],
    ] as const) {
      run(FLDPI, cw(rc));
      expect(st(0)).toBe(want);
      expect(flags()).toBe(0);
    }
  });
});

describe("overflow and underflow", () => {
  const BIG: F80 = "7ffe:c000000000000000";
  it("masked overflow gives ∞ in nearest mode and the largest finite toward zero", () => {
    run([...FLDT(0), ...FLDT(0), ...FMUL_ST1], cw(0), [BIG]);
    expect(st(0)).toBe("7fff:8000000000000000");
    expect(flags()).toBe(OE | PE | C1);
    run([...FLDT(0), ...FLDT(0), ...FMUL_ST1], cw(3), [BIG]);
    expect(st(0)).toBe("7ffe:ffffffffffffffff");
    expect(flags()).toBe(OE | PE);
    // With PC 24 the largest finite has 24 significand bits.
    run([...FLDT(0), ...FLDT(0), ...FMUL_ST1], cw(3, 0), [BIG]);
    expect(st(0)).toBe("7ffe:ffffff0000000000");
  });

  it("unmasked overflow to a register biases the exponent by −0x6000; to memory stores nothing", () => {
    run([...FLDT(0), ...FLDT(0), ...FMUL_ST1], cw(0, 3, 0x3f & ~OE), [BIG]);
    // (1.5 × 2^16383)² = 1.125 × 2^32767: biased exponent 0xbffe, minus 0x6000.
    expect(st(0)).toBe("5ffe:9000000000000000");
    expect(flags() & 0x3f).toBe(OE);
    expect(x87StatusWord(cpu) & 0x8080).toBe(0x8080);
    const SENTINEL: F80 = "0000:0000000012345678";
    run([...FLDT(0), ...FSTPS(0x40)], cw(0, 3, 0x3f & ~OE), [BIG, ONE, ONE, ONE, SENTINEL]);
    expect(mem.view.getUint32(DATA + 0x40, true)).toBe(0x12345678);
    expect(flags() & 0x3f).toBe(OE);
    expect(st(0)).toBe(BIG);
  });

  it("a tiny inexact result is a denormal with UE and PE; an exact one raises no UE while masked", () => {
    const MIN: F80 = "0001:8000000000000000";
    const THIRD: F80 = "3ffd:aaaaaaaaaaaaaaab";
    run([...FLDT(16), ...FLDT(0), ...FMUL_ST1], cw(0), [MIN, THIRD]);
    // 2^-16382 / 3 ≈ 0.0101...b × 2^-16382: a denormal with the integer bit clear.
    expect(st(0)).toBe("0000:2aaaaaaaaaaaaaab");
    expect(flags()).toBe(UE | PE | C1);
    const HALF: F80 = "3ffe:8000000000000000";
    run([...FLDT(16), ...FLDT(0), ...FMUL_ST1], cw(0), [MIN, HALF]);
    expect(st(0)).toBe("0000:4000000000000000");
    expect(flags()).toBe(0);
  });

  it("unmasked underflow gives the normalized result with the exponent biased by +0x6000, exact or not", () => {
    const MIN: F80 = "0001:8000000000000000";
    const HALF: F80 = "3ffe:8000000000000000";
    run([...FLDT(16), ...FLDT(0), ...FMUL_ST1], cw(0, 3, 0x3f & ~UE), [MIN, HALF]);
    expect(st(0)).toBe("6000:8000000000000000");
    expect(flags() & 0x3f).toBe(UE);
  });

  it("a denormal operand raises DE; unmasked, nothing is written", () => {
    const DEN: F80 = "0000:0000000000000001";
    run([...FLDT(16), ...FLDT(0), ...FADD_ST1], cw(0), [DEN, ONE]);
    expect(st(0)).toBe("3fff:8000000000000000");
    expect(flags()).toBe(DE | PE);
    run([...FLDT(16), ...FLDT(0), ...FADD_ST1], cw(0, 3, 0x3f & ~DE), [DEN, ONE]);
    expect(st(0)).toBe(DEN);
    expect(flags() & 0x3f).toBe(DE);
  });
});

describe("invalid operations and NaNs", () => {
  const INF: F80 = "7fff:8000000000000000";
  const NINF: F80 = "ffff:8000000000000000";
  it("∞ − ∞ gives the real indefinite with IE; unmasked, ST(0) stays and the next fwait takes #MF", () => {
    run([...FLDT(16), ...FLDT(0), ...FADD_ST1], cw(0), [INF, NINF]);
    expect(st(0)).toBe("ffff:c000000000000000");
    expect(flags()).toBe(IE);
    expect(
      run([...FLDT(16), ...FLDT(0), ...FADD_ST1, ...FNSTSW_AX, ...FWAIT], cw(0, 3, 0x3e), [
        INF,
        NINF,
      ]),
    ).toBe(X86ExitReason.Exception);
    expect(cpu.exit.vector).toBe(Vector.MF);
    expect(st(0)).toBe(INF);
    // fnstsw did not wait: ax has IE, ES and B.
    expect(Number(cpu.getReg(0) & 0x8081n)).toBe(0x8081);
    expect(
      run([...FLDT(16), ...FLDT(0), ...FADD_ST1, ...FNCLEX, ...FWAIT], cw(0, 3, 0x3e), [INF, NINF]),
    ).toBe(X86ExitReason.Cpuid);
  });

  it("an SNaN operand is quieted with IE; of two NaNs the larger significand wins", () => {
    const SNAN: F80 = "7fff:8000000000000123";
    const QNAN: F80 = "ffff:c000000000000456";
    run([...FLDT(16), ...FLDT(0), ...FADD_ST1], cw(0), [SNAN, ONE]);
    expect(st(0)).toBe("7fff:c000000000000123");
    expect(flags()).toBe(IE);
    run([...FLDT(16), ...FLDT(0), ...FADD_ST1], cw(0), ["7fff:c000000000000999", QNAN]);
    expect(st(0)).toBe("7fff:c000000000000999");
    expect(flags()).toBe(0);
    // An SNaN and a QNaN: the QNaN, whatever the significands.
    run([...FLDT(16), ...FLDT(0), ...FADD_ST1], cw(0), ["7fff:8000000000000999", QNAN]);
    expect(st(0)).toBe(QNAN);
    expect(flags()).toBe(IE);
  });

  it("an unnormal is an invalid operand", () => {
    expect(classify(0x3fff, 0x40000000, 0)).toBe(X87Class.UNSUPPORTED);
    run([...FLDT(16), ...FLDT(0), ...FADD_ST1], cw(0), ["3fff:4000000000000000", ONE]);
    expect(st(0)).toBe("ffff:c000000000000000");
    expect(flags()).toBe(IE);
  });

  it("x/0 raises ZE and gives a signed ∞; 0/0 is invalid", () => {
    run([...FLDZ, ...FLDT(0), ...FDIV_ST1], cw(0), ["bfff:8000000000000000"]);
    expect(st(0)).toBe("ffff:8000000000000000");
    expect(flags()).toBe(ZE);
    run([...FLDZ, ...FLDZ, ...FDIV_ST1], cw(0));
    expect(st(0)).toBe("ffff:c000000000000000");
    expect(flags()).toBe(IE);
  });

  it("fistp of a value out of range stores the integer indefinite with IE", () => {
    run([...FLDT(0), ...FISTPL(0x40)], cw(0), ["401f:8000000000000000"]);
    expect(mem.view.getUint32(DATA + 0x40, true)).toBe(0x80000000);
    expect(flags()).toBe(IE);
    run([...FLDT(0), ...FISTPL(0x40)], cw(0), ["c01e:8000000000000000"]);
    expect(mem.view.getInt32(DATA + 0x40, true)).toBe(-0x80000000);
    expect(flags()).toBe(0);
  });
});

describe("the register stack", () => {
  it("a ninth push overflows: IE, SF, C1 = 1, the indefinite on top", () => {
    run(Array.from({ length: 9 }, () => FLD1).flat(), cw(0));
    expect(st(0)).toBe("ffff:c000000000000000");
    expect(flags()).toBe(IE | SF | C1);
    expect(cpu.ftw).toBe(0xff);
  });

  it("an empty operand underflows: IE, SF, C1 = 0; unmasked, nothing changes", () => {
    run([...FLD1, ...FADD_ST1], cw(2));
    expect(st(0)).toBe("ffff:c000000000000000");
    expect(flags()).toBe(IE | SF);
    run([...FLD1, ...FADD_ST1], cw(2, 3, 0x3e));
    expect(st(0)).toBe(ONE);
  });

  it("fptan/fsincos of an empty ST(0) with ST(7) full: an underflow (C1 = 0), two indefinites pushed", () => {
    const FFREE_ST0 = [0xdd, 0xc0];
    for (const op of [
      [0xd9, 0xf2], // fptan
      [0xd9, 0xfb], // fsincos
    ]) {
      run([...Array.from({ length: 8 }, () => FLDZ).flat(), ...FFREE_ST0, ...op], cw(0));
      expect(flags()).toBe(IE | SF);
      expect(cpu.ftop).toBe(7);
      expect([st(0), st(1)]).toEqual(["ffff:c000000000000000", "ffff:c000000000000000"]);
    }
  });

  it("fld m64 of an SNaN quiets it (IE); fld m80 loads it as it is", () => {
    const at80 = (v: F80): F80[] => [ONE, ONE, ONE, ONE, ONE, ONE, ONE, ONE, v];
    run([0xdd, 0x80, 0x80, 0, 0, 0], cw(0), at80("0000:7ff0000000000001"));
    expect(st(0)).toBe("7fff:c000000000000800");
    expect(flags()).toBe(IE);
    run(FLDT(0), cw(0), ["7fff:8000000000000001"]);
    expect(st(0)).toBe("7fff:8000000000000001");
    expect(flags()).toBe(0);
  });

  it("fld m64 of a denormal normalizes it exactly and raises DE", () => {
    const at80 = (v: F80): F80[] => [ONE, ONE, ONE, ONE, ONE, ONE, ONE, ONE, v];
    run([0xdd, 0x80, 0x80, 0, 0, 0, ...FSTPT(0x40)], cw(0), at80("0000:0000000000000001"));
    expect(getF80(0x40)).toBe("3bcd:8000000000000000");
    expect(flags() & DE).toBe(DE);
  });
});

describe("compares and classification", () => {
  it("fcomi sets ZF, PF, CF: less, equal, greater, unordered", () => {
    // ST(0) is the first value, ST(1) = 3.
    const want: [F80, number][] = [
      [SEVEN, 0x00],
      [THREE, 0x40],
      [ONE, 0x01],
      ["7fff:c000000000000000", 0x45],
    ];
    for (const [top, fl] of want) {
      run([...FLDT(16), ...FLDT(0), ...FCOMI_ST1], cw(0), [top, THREE]);
      expect(cpu.rflags & 0x45).toBe(fl);
    }
  });

  it("fxam: C3 C2 C0 and the sign in C1", () => {
    const classes: [F80, number][] = [
      ["0000:0000000000000000", C3],
      [ONE, C2],
      ["0000:0000000000000001", C3 | C2],
      ["ffff:8000000000000000", C2 | C0 | C1],
      ["7fff:c000000000000000", C0],
      ["3fff:4000000000000000", 0],
    ];
    for (const [v, cc] of classes) {
      run([...FLDT(0), ...FXAM], cw(0), [v]);
      expect(flags() & (C0 | C1 | C2 | C3)).toBe(cc);
    }
    run(FXAM, cw(0));
    expect(flags() & (C0 | C2 | C3)).toBe(C3 | C0);
  });
});

describe("environment", () => {
  it("fnstenv writes the full tag word and masks every exception; fldenv restores", () => {
    run(
      [...FLD1, ...FLDZ, ...FLDT(0), 0xd9, 0x70, 0x40, ...FLDCW(0x40), 0xd9, 0x60, 0x40],
      cw(1, 2, 0x3e),
      ["7fff:8000000000000000"],
    );
    const env = new DataView(mem.bytes.buffer, mem.bytes.byteOffset + DATA + 0x40, 28);
    expect(env.getUint16(0, true)).toBe(cw(1, 2, 0x3e));
    // R7 valid (1.0), R6 zero, R5 special (∞), the rest empty.
    expect(env.getUint16(8, true)).toBe(
      0x3 |
        (0x3 << 2) |
        (0x3 << 4) |
        (0x3 << 6) |
        (0x3 << 8) |
        (0x2 << 10) |
        (0x1 << 12) |
        (0x0 << 14),
    );
    expect(x87FullTagWord(cpu)).toBe(env.getUint16(8, true));
    expect(cpu.fcw).toBe(cw(1, 2, 0x3e));
  });

  it("x87 instructions take #NM with CR0.TS; the state is untouched", () => {
    expect(run(FLD1, cw(0), [], FpuCr.TS)).toBe(X86ExitReason.Exception);
    expect(cpu.exit.vector).toBe(Vector.NM);
    expect(cpu.ftop).toBe(0);
    expect(cpu.ftw).toBe(0);
    expect(run(FLD1, cw(0), [], FpuCr.EM)).toBe(X86ExitReason.Exception);
    expect(cpu.exit.vector).toBe(Vector.NM);
    cpu.cr0 = cr0;
  });
});
