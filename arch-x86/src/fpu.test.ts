/**
 * The FPU and vector unit's rules the native corpus cannot reach (it runs one OS
 * configuration and never faults): CR0.EM/TS/MP and CR4.OSFXSR/OSXSAVE checks and their
 * order, pending x87 exceptions (#MF), alignment faults, MXCSR reserved bits, the MMX
 * transition, fxsave/fxrstor images, the xsave family's header rules, xgetbv/xsetbv, and a
 * faulting instruction leaving the state as it was.
 */
import { describe, expect, it } from "vitest";
import { Vector, X86ExitReason } from "./cpu-api.js";
import type { X86Cpu } from "./cpu.js";
import {
  FCW_DEFAULT,
  FpuCr,
  FxPart,
  MXCSR_DEFAULT,
  MXCSR_MASK,
  readFxImage,
  resetVectorState,
  simdFloatingPointError,
  writeFxImage,
  xinuse,
} from "./fpu.js";
import { makeTestCpu } from "./test-machine.js";

const CODE = 0x100000;
const DATA = 0x200000;
const CPUID = [0x0f, 0xa2];

const { cpu, mem } = makeTestCpu(8, 4);
const cr0 = cpu.cr0;
const cr4 = cpu.cr4;

/** Runs `bytes` at CODE (then cpuid) from a fresh vector state; rax = DATA unless given. */
function run(bytes: number[], setup: (c: X86Cpu) => void = () => {}): X86ExitReason {
  mem.bytes.fill(0, CODE, CODE + 4096);
  mem.bytes.set([...bytes, ...CPUID], CODE);
  cpu.invalidateCode(CODE, 4096);
  cpu.cr0 = cr0;
  cpu.cr4 = cr4;
  cpu.xcr0 = 3;
  cpu.cpl = 3;
  resetVectorState(cpu);
  cpu.setReg(0, BigInt(DATA));
  setup(cpu);
  cpu.rip = BigInt(CODE);
  return cpu.run(1000);
}

/** The exception vector `bytes` stop with, or "ran" when they reach the cpuid marker. */
function outcome(bytes: number[], setup?: (c: X86Cpu) => void): string | number {
  const r = run(bytes, setup);
  if (r === X86ExitReason.Cpuid) return "ran";
  expect(r).toBe(X86ExitReason.Exception);
  expect(cpu.rip).toBe(BigInt(CODE));
  return cpu.exit.vector;
}

const MOVAPS_LOAD = [0x0f, 0x28, 0x08]; // movaps (%rax),%xmm1
const MOVDQA_STORE = [0x66, 0x0f, 0x7f, 0x08]; // movdqa %xmm1,(%rax)
const MOVUPS_LOAD = [0x0f, 0x10, 0x10]; // movups (%rax),%xmm2
const PADDB_MEM = [0x66, 0x0f, 0xfc, 0x18]; // paddb (%rax),%xmm3
const PADDB_MM = [0x0f, 0xfc, 0xd1]; // paddb %mm1,%mm2
const MOVQ_MM_LOAD = [0x0f, 0x6f, 0x18]; // movq (%rax),%mm3
const FWAIT = [0x9b];
const EMMS = [0x0f, 0x77];
const FXSAVE = [0x0f, 0xae, 0x00];
const FXSAVE64 = [0x48, 0x0f, 0xae, 0x00];
const FXRSTOR64 = [0x48, 0x0f, 0xae, 0x08];
const LDMXCSR = [0x0f, 0xae, 0x10];
const STMXCSR_4 = [0x0f, 0xae, 0x58, 0x04]; // stmxcsr 4(%rax)
const XSAVE64 = [0x48, 0x0f, 0xae, 0x20];
const XSAVEOPT64 = [0x48, 0x0f, 0xae, 0x30];
const XSAVEC64 = [0x48, 0x0f, 0xc7, 0x20];
const XRSTOR64 = [0x48, 0x0f, 0xae, 0x28];
const XGETBV = [0x0f, 0x01, 0xd0];
const XSETBV = [0x0f, 0x01, 0xd1];
const PXOR = [0x66, 0x0f, 0xef, 0xc0]; // pxor %xmm0,%xmm0

describe("when the FPU and vector unit may be used", () => {
  it("CR0.TS: SSE, MMX, fxsave, xsave and emms raise #NM; fwait only with CR0.MP", () => {
    const ts = (c: X86Cpu): void => {
      c.cr0 = cr0 | FpuCr.TS;
    };
    for (const insn of [PXOR, PADDB_MM, FXSAVE, XSAVE64, EMMS, FWAIT, LDMXCSR])
      expect(outcome(insn, ts), insn.join(",")).toBe(Vector.NM);
    expect(
      outcome(FWAIT, (c) => {
        c.cr0 = (cr0 | FpuCr.TS) & ~FpuCr.MP;
      }),
    ).toBe("ran");
    // Not FPU instructions: xgetbv, sfence, movnti.
    expect(outcome(XGETBV, ts)).toBe("ran");
    expect(outcome([0x0f, 0xae, 0xf8], ts)).toBe("ran");
    expect(outcome([0x0f, 0xc3, 0x08], ts)).toBe("ran");
  });

  it("CR0.EM: SSE and MMX are #UD, fxsave #NM, xsave unaffected", () => {
    const em = (c: X86Cpu): void => {
      c.cr0 = cr0 | FpuCr.EM;
    };
    expect(outcome(PXOR, em)).toBe(Vector.UD);
    expect(outcome(PADDB_MM, em)).toBe(Vector.UD);
    expect(outcome(EMMS, em)).toBe(Vector.UD);
    expect(outcome(FXSAVE, em)).toBe(Vector.NM);
    expect(outcome(XSAVE64, em)).toBe("ran");
    // #UD outranks #NM.
    expect(
      outcome(PXOR, (c) => {
        c.cr0 = cr0 | FpuCr.EM | FpuCr.TS;
      }),
    ).toBe(Vector.UD);
  });

  it("CR4.OSFXSR clear: SSE instructions are #UD, MMX and fxsave still run", () => {
    const noFxsr = (c: X86Cpu): void => {
      c.cr4 = cr4 & ~FpuCr.OSFXSR;
    };
    expect(outcome(PXOR, noFxsr)).toBe(Vector.UD);
    expect(outcome(LDMXCSR, noFxsr)).toBe(Vector.UD);
    expect(outcome(PADDB_MM, noFxsr)).toBe("ran");
    expect(outcome(FXSAVE, noFxsr)).toBe("ran");
  });

  it("CR4.OSXSAVE clear: xgetbv, xsetbv and the xsave family are #UD", () => {
    const noXsave = (c: X86Cpu): void => {
      c.cr4 = cr4 & ~FpuCr.OSXSAVE;
    };
    for (const insn of [XGETBV, XSETBV, XSAVE64, XSAVEOPT64, XSAVEC64, XRSTOR64])
      expect(outcome(insn, noXsave), insn.join(",")).toBe(Vector.UD);
  });

  it("a pending unmasked x87 exception: #MF at fwait, emms and MMX instructions, not SSE", () => {
    // FSW.IE set with FCW.IM clear: unmasked invalid operation pending.
    const pending = (c: X86Cpu): void => {
      c.fcw = FCW_DEFAULT & ~1;
      c.fsw = 1;
    };
    expect(outcome(FWAIT, pending)).toBe(Vector.MF);
    expect(outcome(EMMS, pending)).toBe(Vector.MF);
    expect(outcome(PADDB_MM, pending)).toBe(Vector.MF);
    expect(outcome(PXOR, pending)).toBe("ran");
    expect(outcome(FXSAVE64, pending)).toBe("ran");
    // The same flag masked by FCW is not pending.
    expect(
      outcome(FWAIT, (c) => {
        c.fsw = 1;
      }),
    ).toBe("ran");
  });

  it("#XM or #UD for an unmasked SIMD floating-point exception, by CR4.OSXMMEXCPT", () => {
    const raised = (osxmm: boolean): number => {
      cpu.cr4 = osxmm ? cr4 : cr4 & ~FpuCr.OSXMMEXCPT;
      try {
        simdFloatingPointError(cpu);
      } catch {
        return cpu.exit.vector;
      }
      return -1;
    };
    expect(raised(true)).toBe(Vector.XM);
    expect(raised(false)).toBe(Vector.UD);
    cpu.cr4 = cr4;
  });
});

describe("alignment and MXCSR", () => {
  const at = (addr: number) => (c: X86Cpu) => c.setReg(0, BigInt(addr));
  it("16-byte memory operands of SSE instructions fault with #GP(0) when misaligned, movups does not", () => {
    for (const insn of [MOVAPS_LOAD, MOVDQA_STORE, PADDB_MEM]) {
      expect(outcome(insn, at(DATA + 8)), insn.join(",")).toBe(Vector.GP);
      expect(cpu.exit.errorCode).toBe(0);
      expect(outcome(insn, at(DATA + 16)), insn.join(",")).toBe("ran");
    }
    expect(outcome(MOVUPS_LOAD, at(DATA + 3))).toBe("ran");
    // An MMX 8-byte operand has no alignment rule.
    expect(outcome(MOVQ_MM_LOAD, at(DATA + 3))).toBe("ran");
  });

  it("fxsave needs 16-byte and xsave 64-byte alignment", () => {
    expect(outcome(FXSAVE64, at(DATA + 8))).toBe(Vector.GP);
    expect(outcome(FXSAVE64, at(DATA + 16))).toBe("ran");
    expect(outcome(XSAVE64, at(DATA + 32))).toBe(Vector.GP);
    expect(outcome(XSAVE64, at(DATA + 64))).toBe("ran");
  });

  it("ldmxcsr of a reserved bit is #GP(0) and leaves MXCSR; stmxcsr stores it", () => {
    const v = mem.view;
    v.setUint32(DATA, 0x10000, true);
    expect(outcome(LDMXCSR)).toBe(Vector.GP);
    expect(cpu.mxcsr).toBe(MXCSR_DEFAULT);
    v.setUint32(DATA, 0x7fc0, true); // masks set, DAZ, RC = 11, FZ clear
    expect(outcome([...LDMXCSR, ...STMXCSR_4])).toBe("ran");
    expect(cpu.mxcsr).toBe(0x7fc0);
    expect(v.getUint32(DATA + 4, true)).toBe(0x7fc0);
    expect(MXCSR_MASK & 0x40).toBe(0x40); // DAZ is implemented
  });
});

describe("MMX and the x87 registers", () => {
  it("an MMX instruction sets TOP 0 and every tag valid; a write sets the exponent to 0xffff; emms empties the tags", () => {
    run(PADDB_MM, (c) => {
      c.ftop = 5;
      c.ftw = 0x21;
      c.fpuMant[2] = 0x01020304; // mm1
      c.fpuMant[4] = 0x10203040; // mm2
    });
    expect(cpu.ftop).toBe(0);
    expect(cpu.ftw).toBe(0xff);
    expect(cpu.fpuMant[4]).toBe(0x11223344);
    expect(cpu.fpuSignExp[2]).toBe(0xffff);
    expect(cpu.fpuSignExp[1]).toBe(0); // a source register keeps its exponent
    run([...PADDB_MM, ...EMMS]);
    expect(cpu.ftw).toBe(0);
  });

  it("a faulting MMX or SSE instruction changes no register, tag or TOP", () => {
    const before = (c: X86Cpu): void => {
      c.ftop = 3;
      c.ftw = 0x08;
      c.xmm[4] = 0x55;
      c.setReg(0, 0x3ffffcn); // the next page is not mapped
    };
    expect(outcome(MOVQ_MM_LOAD, before)).toBe(Vector.PF);
    expect([cpu.ftop, cpu.ftw, cpu.fpuSignExp[3]]).toEqual([3, 0x08, 0]);
    // movdqu store across into the unmapped page writes nothing.
    mem.bytes.fill(0xee, 0x3ffff8, 0x400000);
    expect(outcome([0xf3, 0x0f, 0x7f, 0x08], (c) => c.setReg(0, 0x3ffff8n))).toBe(Vector.PF);
    expect([...mem.bytes.subarray(0x3ffff8, 0x400000)]).toEqual(new Array(8).fill(0xee));
  });
});

describe("fxsave and fxrstor", () => {
  it("fxsave64 writes the 64-bit image up to XMM15 and leaves bytes 416–511", () => {
    mem.bytes.fill(0xaa, DATA, DATA + 512);
    run(FXSAVE64, (c) => {
      c.fcw = 0x27f;
      c.fsw = 0x41;
      c.ftop = 6;
      c.ftw = 0x81;
      c.fop = 0x1234; // 11 bits kept
      c.fipLo = 0x11111111;
      c.fipHi = 0x2222;
      c.fdpLo = 0x33333333;
      c.fdpHi = 0x4444;
      c.fpuMant[12] = 0x89abcdef; // R6 = ST(0)
      c.fpuSignExp[6] = 0x4000;
      c.fpuSignExp[7] = 0xbfff; // R7 = ST(1)
      c.mxcsr = 0x1f81;
      c.xmm[60] = 0x7654321; // XMM15 lane 0
    });
    const v = mem.view;
    expect(v.getUint16(DATA, true)).toBe(0x27f);
    expect(v.getUint16(DATA + 2, true)).toBe(0x41 | (6 << 11));
    expect(v.getUint8(DATA + 4)).toBe(0x81);
    expect(v.getUint16(DATA + 6, true)).toBe(0x234);
    expect(v.getBigUint64(DATA + 8, true)).toBe(0x222211111111n);
    expect(v.getBigUint64(DATA + 16, true)).toBe(0x444433333333n);
    expect(v.getUint32(DATA + 24, true)).toBe(0x1f81);
    expect(v.getUint32(DATA + 28, true)).toBe(MXCSR_MASK);
    expect(v.getUint32(DATA + 32, true)).toBe(0x89abcdef); // ST(0) first
    expect(v.getUint16(DATA + 40, true)).toBe(0x4000);
    expect(v.getUint16(DATA + 42, true)).toBe(0); // reserved bytes written as 0
    expect(v.getUint16(DATA + 56, true)).toBe(0xbfff); // ST(1)
    expect(v.getUint32(DATA + 160 + 15 * 16, true)).toBe(0x7654321);
    expect([...mem.bytes.subarray(DATA + 416, DATA + 512)]).toEqual(new Array(96).fill(0xaa));
  });

  it("fxsave without REX.W stores FCS/FDS beside 32-bit offsets", () => {
    run(FXSAVE, (c) => {
      c.fipLo = 0x11111111;
      c.fipHi = 0x2222;
      c.fcs = 0xe033;
      c.fds = 0xe02b;
    });
    expect(mem.view.getUint32(DATA + 8, true)).toBe(0x11111111);
    expect(mem.view.getUint32(DATA + 12, true)).toBe(0xe033);
    expect(mem.view.getUint32(DATA + 20, true)).toBe(0xe02b);
  });

  it("fxrstor64 loads an image; a reserved MXCSR bit is #GP(0) with nothing loaded", () => {
    const img = new DataView(new ArrayBuffer(512));
    run([], (c) => {
      c.xmm[5] = 0x5555;
      c.ftop = 2;
    });
    writeFxImage(cpu, img, 0, FxPart.ALL, true);
    mem.bytes.set(new Uint8Array(img.buffer), DATA);
    expect(outcome(FXRSTOR64)).toBe("ran");
    expect([cpu.xmm[5], cpu.ftop]).toEqual([0x5555, 2]);
    mem.view.setUint32(DATA + 24, 0x20000 | MXCSR_DEFAULT, true);
    expect(outcome(FXRSTOR64)).toBe(Vector.GP);
    expect([cpu.xmm[5], cpu.ftop, cpu.mxcsr]).toEqual([0, 0, MXCSR_DEFAULT]);
  });

  it("readFxImage and writeFxImage round-trip every field", () => {
    const a = new DataView(new ArrayBuffer(512));
    for (let i = 0; i < 416; i++) a.setUint8(i, (i * 37 + 11) & 0xff);
    a.setUint8(5, 0);
    a.setUint16(6, a.getUint16(6, true) & 0x7ff, true);
    for (let i = 0; i < 8; i++) for (let j = 42; j < 48; j++) a.setUint8(i * 16 + j, 0);
    a.setUint32(24, 0x1f80, true);
    a.setUint32(28, MXCSR_MASK, true);
    // FSW as stored, no unmasked exception pending (ES/B would be recomputed).
    a.setUint16(0, 0x37f, true);
    a.setUint16(2, 0x3800 | 0x40, true);
    readFxImage(cpu, a, 0, FxPart.ALL, true);
    const b = new DataView(new ArrayBuffer(512));
    writeFxImage(cpu, b, 0, FxPart.ALL, true);
    expect(new Uint8Array(b.buffer, 0, 416)).toEqual(new Uint8Array(a.buffer, 0, 416));
  });
});

describe("xsave family", () => {
  const hdr = (off: number): bigint => mem.view.getBigUint64(DATA + 512 + off, true);
  const clear = (): void => {
    mem.bytes.fill(0, DATA, DATA + 576);
  };

  it("xsave stores x87 and SSE and sets XSTATE_BV from XINUSE, keeping bits outside RFBM", () => {
    clear();
    mem.view.setBigUint64(DATA + 512, 0x80n, true); // a bit outside RFBM stays
    run(XSAVE64, (c) => {
      c.xmm[0] = 1;
      c.setReg(0, BigInt(DATA));
      c.setReg(2, 0n);
    });
    // eax = DATA (low bits 0): RFBM = 0 — nothing saved; now with eax = 3.
    expect(hdr(0)).toBe(0x80n);
    clear();
    mem.view.setBigUint64(DATA + 512, 0x80n | 1n, true);
    run([0xb8, 3, 0, 0, 0, 0x48, 0x0f, 0xae, 0x21], (c) => {
      c.xmm[0] = 1;
      c.setReg(1, BigInt(DATA)); // xsave64 (%rcx)
    });
    expect(hdr(0)).toBe(0x80n | 2n); // x87 in its initial configuration, SSE in use
    expect(mem.view.getUint16(DATA, true)).toBe(FCW_DEFAULT); // xsave writes it anyway
    expect(mem.view.getUint32(DATA + 160, true)).toBe(1);
  });

  it("xsaveopt and xsavec skip components in their initial configuration", () => {
    clear();
    mem.bytes.fill(0xaa, DATA, DATA + 512);
    run([0xb8, 3, 0, 0, 0, 0x48, 0x0f, 0xae, 0x31], (c) => c.setReg(1, BigInt(DATA)));
    expect(mem.view.getUint16(DATA, true)).toBe(0xaaaa); // x87 not written
    expect(mem.view.getUint32(DATA + 24, true)).toBe(MXCSR_DEFAULT); // MXCSR is
    expect(hdr(0)).toBe(0n);
    clear();
    mem.bytes.fill(0xaa, DATA, DATA + 576);
    run([0xb8, 3, 0, 0, 0, 0x48, 0x0f, 0xc7, 0x21], (c) => {
      c.setReg(1, BigInt(DATA));
      c.fcw = 0x27f;
    });
    expect(hdr(0)).toBe(1n);
    expect(hdr(8)).toBe(0x8000000000000003n);
    expect(hdr(16)).toBe(0xaaaaaaaaaaaaaaaan); // the rest of the header untouched
    expect(mem.view.getUint16(DATA, true)).toBe(0x27f);
    expect(mem.view.getUint32(DATA + 24, true)).toBe(0xaaaaaaaa); // SSE not in use
  });

  it("xrstor: header checks (#GP), components loaded or initialised by XSTATE_BV", () => {
    const xr = [0x48, 0x0f, 0xae, 0x29]; // xrstor64 (%rcx), RFBM from eax = 3
    const setup = (c: X86Cpu): void => {
      c.setReg(0, 3n);
      c.setReg(1, BigInt(DATA));
      c.xmm[0] = 9;
      c.fcw = 0x7f;
    };
    const bad = (patch: () => void): number | string => {
      clear();
      mem.view.setUint32(DATA + 24, MXCSR_DEFAULT, true);
      patch();
      return outcome(xr, setup);
    };
    expect(bad(() => mem.view.setUint8(DATA + 512, 4))).toBe(Vector.GP); // bit not in XCR0
    expect(bad(() => mem.view.setUint8(DATA + 520, 1))).toBe(Vector.GP); // XCOMP_BV ≠ 0
    expect(bad(() => mem.view.setUint8(DATA + 528, 1))).toBe(Vector.GP); // bytes 16–23
    expect(bad(() => mem.view.setUint8(DATA + 540, 1))).toBe("ran"); // later bytes: standard form ignores
    expect(bad(() => mem.view.setUint32(DATA + 24, 0x10000, true))).toBe(Vector.GP);
    // Compacted: XSTATE_BV within XCOMP_BV, bytes 16–63 zero.
    const compact = (bv: number, comp: number): void => {
      mem.view.setUint8(DATA + 512, bv);
      mem.view.setBigUint64(DATA + 520, 0x8000000000000000n | BigInt(comp), true);
    };
    expect(bad(() => compact(2, 1))).toBe(Vector.GP);
    expect(bad(() => (compact(0, 3), mem.view.setUint8(DATA + 540, 1)))).toBe(Vector.GP);
    expect(bad(() => compact(0, 4))).toBe(Vector.GP);
    // Standard form, XSTATE_BV = 0: both components initialised, MXCSR still loaded.
    expect(bad(() => mem.view.setUint32(DATA + 24, 0x1f00, true))).toBe("ran");
    expect([cpu.xmm[0], cpu.fcw, cpu.mxcsr]).toEqual([0, FCW_DEFAULT, 0x1f00]);
    // Compacted form, XSTATE_BV = 0: MXCSR initialised too.
    expect(bad(() => (compact(0, 3), mem.view.setUint32(DATA + 24, 0x1f00, true)))).toBe("ran");
    expect(cpu.mxcsr).toBe(MXCSR_DEFAULT);
    // XSTATE_BV = 3: loaded from the area.
    expect(
      bad(() => {
        mem.view.setUint8(DATA + 512, 3);
        mem.view.setUint16(DATA, 0x37e, true);
        mem.view.setUint32(DATA + 160, 0x1234, true);
      }),
    ).toBe("ran");
    expect([cpu.fcw, cpu.xmm[0]]).toEqual([0x37e, 0x1234]);
  });

  it("XINUSE follows the state: initial configuration after reset, SSE in use after a write", () => {
    run([]);
    expect(xinuse(cpu)).toBe(0);
    run([0x66, 0x0f, 0x76, 0xc0]); // pcmpeqd %xmm0,%xmm0
    expect(xinuse(cpu)).toBe(2);
    run(PADDB_MM);
    expect(xinuse(cpu) & 1).toBe(1); // TOP/tags/exponent changed
  });
});

describe("xgetbv and xsetbv", () => {
  it("xgetbv reads XCR0; any other XCR is #GP(0)", () => {
    expect(outcome(XGETBV, (c) => c.setReg(1, 0n))).toBe("ran");
    expect([cpu.getReg(0), cpu.getReg(2)]).toEqual([3n, 0n]);
    expect(outcome(XGETBV, (c) => c.setReg(1, 1n))).toBe(Vector.GP);
  });

  it("xsetbv: #GP(0) outside CPL 0, for ecx ≠ 0, without x87, or with a component the CPU lacks", () => {
    const set =
      (cpl: number, ecx: bigint, eax: bigint, edx = 0n) =>
      (c: X86Cpu) => {
        c.cpl = cpl;
        c.setReg(1, ecx);
        c.setReg(0, eax);
        c.setReg(2, edx);
      };
    expect(outcome(XSETBV, set(3, 0n, 3n))).toBe(Vector.GP);
    expect(outcome(XSETBV, set(0, 1n, 3n))).toBe(Vector.GP);
    expect(outcome(XSETBV, set(0, 0n, 2n))).toBe(Vector.GP);
    expect(outcome(XSETBV, set(0, 0n, 7n))).toBe(Vector.GP);
    expect(outcome(XSETBV, set(0, 0n, 3n, 1n))).toBe(Vector.GP);
    expect(outcome(XSETBV, set(0, 0n, 1n))).toBe("ran");
    expect(cpu.xcr0).toBe(1);
  });
});
