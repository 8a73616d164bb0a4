/**
 * The CPU's exits and the instructions the qemu corpus cannot reach (supervisor state,
 * lmw/stmw and the string instructions, storage and alignment interrupts, the time base,
 * 32-bit mode), on a real-mode memory. Instruction words come from GNU as (`-mpower4`);
 * the text is in the comments.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Msr, PpcExitReason, ProgramKind, Spr, Xer } from "./cpu-api.js";
import { PpcCpu } from "./cpu.js";
import { RealModeMemory } from "./memory.js";
import { TABLE } from "./table.js";

const CODE = 0x1000;
const DATA = 0x2000;

function machine(words: number[], msrLo: number = Msr.FP): { cpu: PpcCpu; mem: RealModeMemory } {
  const mem = new RealModeMemory(new Uint8Array(0x4000));
  words.forEach((w, i) => mem.view.setUint32(CODE + 4 * i, w));
  const cpu = new PpcCpu(mem);
  cpu.msrLo = msrLo;
  cpu.setPc(BigInt(CODE));
  cpu.setGpr(9, BigInt(DATA));
  return { cpu, mem };
}

describe("exits", () => {
  it("sc is the guest's system call and sc 1 a hypercall; pc moves past both", () => {
    const { cpu } = machine([0x44000002 /* sc */, 0x44000022 /* sc 1 */]);
    let e = cpu.run(10);
    expect([e.reason, e.retired, cpu.pc]).toEqual([PpcExitReason.SystemCall, 1, BigInt(CODE + 4)]);
    e = cpu.run(10);
    expect([e.reason, e.retired, cpu.pc]).toEqual([
      PpcExitReason.HypervisorCall,
      1,
      BigInt(CODE + 8),
    ]);
  });

  it("a privileged instruction in problem state is a program interrupt at the instruction", () => {
    const { cpu } = machine([0x7c6000a6 /* mfmsr r3 */], Msr.FP | Msr.PR);
    const e = cpu.run(10);
    expect([e.reason, e.program, e.retired, cpu.pc]).toEqual([
      PpcExitReason.Program,
      ProgramKind.PRIVILEGED,
      0,
      BigInt(CODE),
    ]);
  });

  it("mfmsr in supervisor state reads the MSR without HV", () => {
    const { cpu } = machine([0x7c6000a6 /* mfmsr r3 */]);
    cpu.msrHi |= Msr.HV_HI;
    cpu.run(1);
    expect(cpu.gpr(3)).toBe((1n << 63n) | BigInt(Msr.FP));
  });

  it("an unassigned word is an illegal-instruction program interrupt", () => {
    const { cpu } = machine([0]);
    expect([cpu.run(1).reason, cpu.exit.program]).toEqual([
      PpcExitReason.Program,
      ProgramKind.ILLEGAL,
    ]);
  });

  it("trap (tw 31,0,0) traps; tw 0 never does", () => {
    const { cpu } = machine([0x7c032008 /* tw 0,r3,r4 */, 0x7fe00008 /* trap */]);
    const e = cpu.run(10);
    expect([e.reason, e.program, e.retired, cpu.pc]).toEqual([
      PpcExitReason.Program,
      ProgramKind.TRAP,
      1,
      BigInt(CODE + 4),
    ]);
  });

  it("SLB management is left to the MMU (Emulate), which then skips the instruction", () => {
    const { cpu } = machine([0x7c602324 /* slbmte r3,r4 */]);
    const e = cpu.run(1);
    expect([e.reason, e.word, cpu.pc]).toEqual([PpcExitReason.Emulate, 0x7c602324, BigInt(CODE)]);
    cpu.skipInstruction();
    expect(cpu.pc).toBe(BigInt(CODE + 4));
  });

  it("an FP instruction with MSR[FP] = 0 is an FP-unavailable exit", () => {
    const { cpu } = machine([0xc8290000 /* lfd f1,0(r9) */], 0);
    expect(cpu.run(1).reason).toBe(PpcExitReason.FpUnavailable);
  });

  it("a load outside storage is a data storage interrupt with DAR and DSISR; r3 keeps its value", () => {
    const { cpu } = machine([0x80690000 /* lwz r3,0(r9) */]);
    cpu.setGpr(9, 0x10000n);
    cpu.setGpr(3, 77n);
    const e = cpu.run(1);
    expect([e.reason, e.dar, e.dsisr, e.retired, cpu.gpr(3), cpu.pc]).toEqual([
      PpcExitReason.DataStorage,
      0x10000n,
      0x40000000,
      0,
      77n,
      BigInt(CODE),
    ]);
  });

  it("lwarx at a misaligned address is an alignment interrupt", () => {
    const { cpu } = machine([0x7c695028 /* lwarx r3,r9,r10 */]);
    cpu.setGpr(10, 2n);
    const e = cpu.run(1);
    expect([e.reason, e.dar]).toEqual([PpcExitReason.Alignment, BigInt(DATA + 2)]);
  });
});

describe("supervisor state", () => {
  it("rfid returns to SRR0 with the MSR from SRR1, HV kept", () => {
    const { cpu } = machine([0x4c000024 /* rfid */]);
    cpu.msrHi |= Msr.HV_HI;
    cpu.setGpr(0, 0n);
    cpu.sprHi[Spr.SRR0] = 0;
    cpu.sprLo[Spr.SRR0] = 0x3003; // low bits cleared on return
    cpu.sprHi[Spr.SRR1] = Msr.SF_HI;
    cpu.sprLo[Spr.SRR1] = Msr.PR | Msr.EE | Msr.FP;
    cpu.run(1);
    expect(cpu.pc).toBe(0x3000n);
    // Problem state forces translation on (IR, DR) as the ISA's MSR rules say.
    expect([cpu.msrHi, cpu.msrLo]).toEqual([
      Msr.SF_HI | Msr.HV_HI,
      Msr.PR | Msr.EE | Msr.FP | Msr.IR | Msr.DR,
    ]);
  });

  it("mtmsrd with L = 0 sets the MSR but HV and ME; problem state forces EE, IR, DR", () => {
    const { cpu } = machine([0x7c600164 /* mtmsrd r3 */]);
    cpu.msrLo |= Msr.ME;
    cpu.setGpr(3, BigInt(Msr.PR | Msr.FP) | (1n << 60n) /* HV */);
    cpu.run(1);
    expect([cpu.msrHi, cpu.msrLo]).toEqual([
      0,
      Msr.PR | Msr.FP | Msr.EE | Msr.IR | Msr.DR | Msr.ME,
    ]);
  });

  it("mtmsrd with L = 1 changes only EE and RI", () => {
    const { cpu } = machine([0x7c610164 /* mtmsrd r3,1 */]);
    cpu.setGpr(3, BigInt(Msr.EE | Msr.RI | Msr.PR | Msr.IR));
    cpu.run(1);
    expect(cpu.msrLo).toBe(Msr.FP | Msr.EE | Msr.RI);
  });

  it("the decrementer counts down with the time base, through zero", () => {
    const { cpu } = machine([
      0x7c7603a6 /* mtdec r3 */, 0x60000000, 0x60000000, 0x7c9602a6 /* mfdec r4 */,
    ]);
    cpu.setGpr(3, 2n);
    // mtdec retires and stops the run (an interrupt may be due); the rest runs on.
    expect(cpu.run(4)).toMatchObject({ reason: PpcExitReason.InterruptWindow, retired: 1 });
    expect(cpu.pc).toBe(BigInt(CODE + 4));
    cpu.run(3);
    expect([cpu.gpr(4), cpu.decrementer]).toEqual([0xffffffffffffffffn, -2]);
  });

  it("mtmsrd and rfid that set MSR[EE] stop the run after retiring; one that leaves EE does not", () => {
    const { cpu } = machine([
      0x7c610164 /* mtmsrd r3,1 */, 0x7c610164 /* mtmsrd r3,1 */, 0x4c000024 /* rfid */,
    ]);
    cpu.setGpr(3, 0x8002n); // EE | RI
    expect(cpu.run(3)).toMatchObject({ reason: PpcExitReason.InterruptWindow, retired: 1 });
    expect(cpu.pc).toBe(BigInt(CODE + 4));
    // EE already set: the second mtmsrd runs on.
    expect(cpu.run(1)).toMatchObject({ reason: PpcExitReason.Budget, retired: 1 });
    cpu.sprLo[Spr.SRR0] = 0x40;
    cpu.sprLo[Spr.SRR1] = Msr.EE;
    cpu.msrLo &= ~Msr.EE;
    expect(cpu.run(2)).toMatchObject({ reason: PpcExitReason.InterruptWindow, retired: 1 });
    expect(cpu.pc).toBe(0x40n);
  });

  it("an FP exception enabled in the FPSCR and the MSR interrupts at the instruction", () => {
    const { cpu } = machine([0xfc22182a /* fadd f1,f2,f3 */], Msr.FP | Msr.FE0 | Msr.FE1);
    cpu.fpu.fpscr = 0x8; // XE: inexact enabled
    cpu.fpu.fpr[2] = 1;
    cpu.fpu.fpr[3] = 2 ** -60;
    const e = cpu.run(1);
    expect([e.reason, e.program, cpu.pc, cpu.fpu.fpr[1]]).toEqual([
      PpcExitReason.Program,
      ProgramKind.FP,
      BigInt(CODE),
      1,
    ]);
  });

  it("the time base counts retired instructions; mftb reads it", () => {
    const { cpu } = machine([0x60000000, 0x60000000, 0x7c6c42a6 /* mftb r3 */]);
    cpu.timebaseOffset = 1000;
    cpu.run(3);
    expect(cpu.gpr(3)).toBe(1002n);
  });
});

describe("storage instructions the qemu corpus leaves out", () => {
  it("lmw and stmw move r28–r31", () => {
    const { cpu, mem } = machine([
      0xbb890000 /* lmw r28,0(r9) */, 0xbf890010 /* stmw r28,16(r9) */,
    ]);
    for (let k = 0; k < 4; k++) mem.view.setUint32(DATA + 4 * k, 0x11111111 * (k + 1));
    cpu.setGpr(28, 0xffffffff00000000n);
    cpu.run(2);
    expect([cpu.gpr(28), cpu.gpr(31)]).toEqual([0x11111111n, 0x44444444n]);
    expect(mem.view.getUint32(DATA + 16 + 12)).toBe(0x44444444);
  });

  it("lswi fills registers from the left and pads the last; stswi writes the same bytes back", () => {
    const { cpu, mem } = machine([0x7ca93caa /* lswi r5,r9,7 */, 0x7ca93daa /* stswi r5,r9,7 */]);
    mem.bytes.set([1, 2, 3, 4, 5, 6, 7, 8], DATA);
    cpu.run(1);
    expect([cpu.gpr(5), cpu.gpr(6)]).toEqual([0x01020304n, 0x05060700n]);
    mem.bytes.fill(0, DATA, DATA + 8);
    cpu.run(1);
    expect([...mem.bytes.subarray(DATA, DATA + 8)]).toEqual([1, 2, 3, 4, 5, 6, 7, 0]);
  });

  it("dcbz clears 32 bytes in the 970's reset mode and 128 once HID5 selects full blocks", () => {
    const { cpu, mem } = machine([0x7c004fec /* dcbz 0,r9 */, 0x7c004fec]);
    mem.bytes.fill(0xaa, DATA, DATA + 256);
    cpu.setGpr(9, BigInt(DATA + 40));
    cpu.run(1);
    expect([
      mem.bytes[DATA + 31],
      mem.bytes[DATA + 32],
      mem.bytes[DATA + 63],
      mem.bytes[DATA + 64],
    ]).toEqual([0xaa, 0, 0, 0xaa]);
    cpu.sprLo[Spr.HID5] = 0;
    cpu.run(1);
    expect([mem.bytes[DATA], mem.bytes[DATA + 127], mem.bytes[DATA + 128]]).toEqual([0, 0, 0xaa]);
  });

  it("byte-reversed loads and stores swap; ldx reads big-endian", () => {
    const { cpu, mem } = machine([
      0x7c604c2c /* lwbrx r3,0,r9 */, 0x7c604d2c /* stwbrx r3,0,r9 */, 0x7c60482a /* ldx r3,0,r9 */,
    ]);
    mem.bytes.set([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88], DATA);
    cpu.run(1);
    expect(cpu.gpr(3)).toBe(0x44332211n);
    cpu.run(1);
    expect(mem.view.getUint32(DATA)).toBe(0x11223344);
    cpu.run(1);
    expect(cpu.gpr(3)).toBe(0x1122334455667788n);
  });
});

describe("integer", () => {
  it("a bdnz loop sums 10 + 9 + … + 1", () => {
    const { cpu } = machine([
      0x38600000 /* li r3,0 */, 0x3880000a /* li r4,10 */, 0x7c8903a6 /* mtctr r4 */,
      0x7c632214 /* add r3,r3,r4 */, 0x3884ffff /* addi r4,r4,-1 */, 0x4200fff8 /* bdnz .-8 */,
    ]);
    const e = cpu.run(100);
    // 3 + 10 × 3 instructions, then the zero word after the loop stops the run.
    expect([cpu.gpr(3), e.retired, e.reason]).toEqual([55n, 33, PpcExitReason.Program]);
  });

  it("32-bit mode: the carry and CR0 come from the low word", () => {
    const { cpu } = machine([0x3463ffff /* addic. r3,r3,-1 */]);
    cpu.msrHi = 0;
    cpu.setGpr(3, 0x100000000n); // low word 0: no carry out of bit 32, result −1 in the low word
    cpu.run(1);
    expect([cpu.xer & Xer.CA, cpu.cr >>> 28]).toEqual([0, 8]);
  });

  it("cmpw compares the low words, cmpd the doublewords", () => {
    const { cpu } = machine([0x7c832000 /* cmpw cr1,r3,r4 */, 0x7ca32000 /* cmpd cr1,r3,r4 */]);
    cpu.setGpr(3, 0x1_00000001n);
    cpu.setGpr(4, 0x2n);
    cpu.run(1);
    expect((cpu.cr >>> 24) & 15).toBe(8);
    cpu.run(1);
    expect((cpu.cr >>> 24) & 15).toBe(4);
  });
});

describe("FPU", () => {
  it("fadd rounds in the FPSCR's mode (toward +∞ here) and records XX, FI", () => {
    const { cpu } = machine([
      0xff80310c /* mtfsfi 7,3 */, 0xff80210c /* mtfsfi 7,2 */, 0xfc22182a /* fadd f1,f2,f3 */,
    ]);
    cpu.fpu.fpr[2] = 1;
    cpu.fpu.fpr[3] = 2 ** -60;
    cpu.run(2);
    expect(cpu.fpu.fpscr & 3).toBe(2);
    cpu.run(1);
    expect(cpu.fpu.fpr[1]).toBe(1 + 2 ** -52);
    expect(cpu.fpu.fpscr >>> 0).toBe(
      (0x80000000 | 0x02000000 | 0x00040000 | 0x00020000 | 0x4000 | 2) >>> 0,
    );
  });

  it("fnmsub of a product beyond the double range and an infinite addend is that infinity, not VXISI", () => {
    const { cpu } = machine([0xfc2220fc /* fnmsub f1,f2,f3,f4 */]);
    cpu.fpu.fpr[2] = 1e200;
    cpu.fpu.fpr[3] = 1e200;
    cpu.fpu.fpr[4] = Infinity;
    cpu.run(1);
    // −(1e400 − ∞) = +∞, exact: no invalid operation.
    expect([cpu.fpu.fpr[1], cpu.fpu.fpscr & 0x20000000]).toEqual([Infinity, 0]);
  });

  it("fmadd is fused: one rounding of a·c + b", () => {
    const { cpu } = machine([0xfc2220fa /* fmadd f1,f2,f3,f4 */]);
    const x = 1 + 2 ** -30;
    cpu.fpu.fpr[2] = x;
    cpu.fpu.fpr[3] = x;
    cpu.fpu.fpr[4] = -(1 + 2 ** -29);
    cpu.run(1);
    // x² − (1 + 2^-29) = 2^-60 exactly; a separate multiply would have lost it.
    expect(cpu.fpu.fpr[1]).toBe(2 ** -60);
  });
});

describe("robustness", () => {
  it("random words in any state end in an exit, never an exception", () => {
    fc.assert(
      fc.property(
        // Words of table rows with random operand bits (and some raw words).
        fc.array(
          fc.oneof(
            fc.integer({ min: 0, max: 0xffffffff }),
            fc
              .tuple(fc.integer({ min: 0, max: TABLE.length - 1 }), fc.integer())
              .map(([i, bits]) => ((bits & ~TABLE[i]!.mask) | TABLE[i]!.match) >>> 0),
          ),
          { minLength: 16, maxLength: 16 },
        ),
        fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: 0xffff }),
        (words, gprs, msr) => {
          const { cpu } = machine(words, msr & ~1);
          gprs.forEach((v, r) => cpu.setGpr(r, v));
          const e = cpu.run(64);
          expect(e.retired).toBeLessThanOrEqual(64);
        },
      ),
      { numRuns: 5000 },
    );
  });
});
