/**
 * Segment loads, far transfers and descriptor probes against a GDT and LDT: the checks
 * and the exact #GP/#NP/#SS error codes the SDM gives, mode switches between 64-bit and
 * 32-bit code, call gates.
 */
import { describe, expect, it } from "vitest";
import { Reg, Seg, Vector, X86ExitReason } from "./cpu-api.js";
import type { X86Cpu } from "./cpu.js";
import { makeTestCpu } from "./test-machine.js";

const CODE = 0x10000;
const GDT = 0x100000; // GDT page 0 (machine frame 0x100)
const LDT = 0x200000; // LDT linear (identity-mapped) address

/** Descriptor high words (base 0, limit 0xfffff, G). */
const CODE64_DPL3 = 0x00affb00;
const CODE32_DPL3 = 0x00cffb00;
const DATA_DPL3 = 0x00cff300;
const DATA_DPL0 = 0x00cf9300;
const RODATA_DPL3 = 0x00cff100;
const XONLY_DPL3 = 0x00cff900; // execute-only code
const CONFORMING_DPL0 = 0x00cf9f00; // conforming readable code, DPL 0
const NOTPRESENT_DATA = 0x00cf7300;
const TSS64 = 0x00008900;

/** GDT slot → [lo, hi]. */
const ENTRIES: Record<number, [number, number]> = {
  1: [0x0000ffff, CODE64_DPL3], // 0x0b
  2: [0x0000ffff, CODE32_DPL3], // 0x13
  3: [0x0000ffff, DATA_DPL3], // 0x1b
  4: [0x0000ffff, DATA_DPL0], // 0x23
  5: [0x0000ffff, RODATA_DPL3], // 0x2b
  6: [0x0000ffff, XONLY_DPL3], // 0x33
  7: [0x0000ffff, CONFORMING_DPL0], // 0x3b
  8: [0x0000ffff, NOTPRESENT_DATA], // 0x43
  9: [0x00000067, TSS64], // 0x4b
  10: [0x5000ffff, 0x12cff334], // 0x53: data, base 0x12345000
  11: [0x0000ffff, 0x00cf7b00], // 0x5b: code, not present
  // 0x60: a 64-bit call gate, DPL 3, to 0x0b:0x12345678 (16 bytes: slots 12 and 13)
  12: [0x000b5678, 0x1234ec00],
  13: [0x00000000, 0x00000000],
  // 0x70: the same gate with DPL 0 (as Xen makes every guest gate)
  14: [0x000b5678, 0x12348c00],
  15: [0, 0],
  // 0x80: a gate whose upper half is not type 0
  16: [0x000b5678, 0x1234ec00],
  17: [0, 0x00000c00],
  // 0x90: a gate to a 32-bit code segment
  18: [0x00135678, 0x1234ec00],
  19: [0, 0],
};

function machine(code: number[], size: 64 | 32 = 64): X86Cpu {
  const { cpu, mem } = makeTestCpu(8);
  const v = mem.view;
  for (const [slot, [lo, hi]] of Object.entries(ENTRIES)) {
    v.setUint32(GDT + Number(slot) * 8, lo, true);
    v.setUint32(GDT + Number(slot) * 8 + 4, hi >>> 0, true);
  }
  // LDT entry 1 (selector 0x0f): 32-bit data.
  v.setUint32(LDT + 8, 0x0000ffff, true);
  v.setUint32(LDT + 12, DATA_DPL3, true);
  const t = cpu.tables;
  t.gdtFrames[0] = GDT / 4096;
  t.ldtBaseLo = LDT;
  t.ldtEntries = 2;
  t.enabled = true;
  mem.bytes.set(code, CODE);
  cpu.sel[Seg.CS] = size === 64 ? 0x0b : 0x13;
  cpu.sel[Seg.SS] = 0x1b;
  cpu.setCodeSize(size, true);
  cpu.rip = BigInt(CODE);
  cpu.setReg(Reg.RSP, 0x8000n);
  return cpu;
}

/** Writes GDT slot `slot` of a {@link machine}. */
function putDescriptor(cpu: X86Cpu, slot: number, lo: number, hi: number): void {
  cpu.view.setUint32(GDT + slot * 8, lo, true);
  cpu.view.setUint32(GDT + slot * 8 + 4, hi >>> 0, true);
}

/** Runs one instruction; returns the exception as [vector, error code] or null. */
function step(cpu: X86Cpu): [number, number] | null {
  const r = cpu.run(1);
  return r === X86ExitReason.Exception ? [cpu.exit.vector, cpu.exit.errorCode] : null;
}

/** `mov %ax, <seg>` (8e /r) with ax = sel: the fault or null. */
function movSeg(reg: number, sel: number, cpl = 3): [number, number] | null {
  const cpu = machine([0x8e, 0xc0 | (reg << 3)]);
  cpu.cpl = cpl;
  cpu.setReg(Reg.RAX, BigInt(sel));
  return step(cpu);
}

describe("data segment loads", () => {
  it("checks the descriptor and faults with the selector as the SDM says", () => {
    const DS = Seg.DS;
    expect(movSeg(DS, 0x1b)).toBeNull();
    expect(movSeg(DS, 0x0000)).toBeNull(); // null: allowed in DS
    expect(movSeg(DS, 0x0003)).toBeNull();
    expect(movSeg(DS, 0x23)).toEqual([Vector.GP, 0x20]); // DPL 0 < CPL 3
    expect(movSeg(DS, 0x20, 0)).toBeNull();
    expect(movSeg(DS, 0x23, 0)).toEqual([Vector.GP, 0x20]); // RPL 3 > DPL 0
    expect(movSeg(DS, 0x1b | 0, 3)).toBeNull(); // RPL 0 ≤ DPL 3
    expect(movSeg(DS, 0x33)).toEqual([Vector.GP, 0x30]); // execute-only code
    expect(movSeg(DS, 0x3b)).toBeNull(); // conforming readable code: no privilege check
    expect(movSeg(DS, 0x4b)).toEqual([Vector.GP, 0x48]); // system descriptor
    expect(movSeg(DS, 0x43)).toEqual([Vector.NP, 0x40]); // not present
    expect(movSeg(DS, 0xfff3)).toEqual([Vector.GP, 0xfff0]); // zero page: type 0 system
    expect(movSeg(DS, 0x0f)).toBeNull(); // LDT entry 1
    expect(movSeg(DS, 0x17)).toEqual([Vector.GP, 0x14]); // beyond the LDT's 2 entries
  });

  it("mov ss: null #GP(0) at CPL 3, RPL/DPL must be CPL, writable data, #SS when absent", () => {
    const SS = Seg.SS;
    expect(movSeg(SS, 0x1b)).toBeNull();
    expect(movSeg(SS, 0x0003)).toEqual([Vector.GP, 0]);
    expect(movSeg(SS, 0x18)).toEqual([Vector.GP, 0x18]); // RPL 0 ≠ CPL 3
    expect(movSeg(SS, 0x2b)).toEqual([Vector.GP, 0x28]); // read-only
    expect(movSeg(SS, 0x3b)).toEqual([Vector.GP, 0x38]); // code
    expect(movSeg(SS, 0x43)).toEqual([Vector.SS, 0x40]);
  });

  it("loads the base (FS: the FS base) and sets the accessed bit", () => {
    const cpu = machine([0x8e, 0xe0, 0x8e, 0xd8]); // mov %ax,%fs; mov %ax,%ds
    cpu.setReg(Reg.RAX, 0x53n);
    expect(step(cpu)).toBeNull();
    expect(cpu.fsBase).toBe(0x12345000n);
    expect(cpu.sel[Seg.FS]).toBe(0x53);
    expect(cpu.view.getUint32(GDT + 10 * 8 + 4, true) & 0x100).toBe(0x100);
    cpu.setReg(Reg.RAX, 0n);
    cpu.rip = BigInt(CODE);
    expect(step(cpu)).toBeNull();
    expect(cpu.fsBase).toBe(0n); // a null selector clears it (Intel)
  });

  it("a DS base applies to 32-bit code, not to 64-bit code", () => {
    // mov %ax,%ds; mov (%ebx),%ecx
    const cpu = machine([0x8e, 0xd8, 0x8b, 0x0b], 32);
    cpu.setReg(Reg.RAX, 0x53n);
    cpu.setReg(Reg.RBX, 0xedcc0000n); // + 0x12345000 wraps to 0x5000
    cpu.view.setUint32(0x5000, 0x11223344, true);
    expect(cpu.run(2)).toBe(X86ExitReason.Budget);
    expect(cpu.getReg(Reg.RCX)).toBe(0x11223344n);
    // The same instruction in 64-bit code ignores the DS base.
    cpu.setCodeSize(64);
    cpu.setReg(Reg.RBX, 0x5000n);
    cpu.rip = BigInt(CODE + 2);
    expect(cpu.run(1)).toBe(X86ExitReason.Budget);
    expect(cpu.getReg(Reg.RCX)).toBe(0x11223344n);
  });
});

describe("far transfers", () => {
  it("ljmp through memory to 32-bit code switches mode; lret returns to 64-bit code", () => {
    // 64-bit: ljmp *(%rbx) -> 0x13:0x10100; 32-bit there: lret (to 0x0b:0x10200)
    const cpu = machine([0xff, 0x2b]);
    cpu.view.setUint32(0x4000, 0x10100, true);
    cpu.view.setUint16(0x4004, 0x13, true);
    cpu.setReg(Reg.RBX, 0x4000n);
    cpu.view.setUint8(0x10100, 0xcb); // lret
    cpu.view.setUint32(0x7ff8, 0x10200, true); // eip
    cpu.view.setUint32(0x7ffc, 0x0b, true); // cs
    cpu.setReg(Reg.RSP, 0x7ff8n);
    expect(cpu.run(1)).toBe(X86ExitReason.Budget);
    expect(cpu.codeSize).toBe(32);
    expect(cpu.sel[Seg.CS]).toBe(0x13);
    expect(cpu.rip).toBe(0x10100n);
    expect(cpu.run(1)).toBe(X86ExitReason.Budget);
    expect(cpu.codeSize).toBe(64);
    expect(cpu.sel[Seg.CS]).toBe(0x0b);
    expect(cpu.rip).toBe(0x10200n);
    expect(cpu.getReg(Reg.RSP)).toBe(0x8000n);
  });

  it("rex64 lcall reads m16:64 and pushes 64-bit cs and rip", () => {
    const cpu = machine([0x48, 0xff, 0x1b]);
    cpu.view.setUint32(0x4000, 0x10300, true);
    cpu.view.setUint32(0x4004, 0, true);
    cpu.view.setUint16(0x4008, 0x0b, true);
    cpu.setReg(Reg.RBX, 0x4000n);
    expect(step(cpu)).toBeNull();
    expect(cpu.rip).toBe(0x10300n);
    expect(cpu.getReg(Reg.RSP)).toBe(0x8000n - 16n);
    expect(cpu.view.getUint32(0x8000 - 16, true)).toBe(CODE + 3);
    expect(cpu.view.getUint32(0x8000 - 8, true)).toBe(0x0b);
  });

  it("faults on the target: null #GP(0), privilege #GP(sel), absent #NP(sel), data #GP(sel)", () => {
    const jmp = (sel: number): [number, number] | null => {
      const cpu = machine([0xff, 0x2b]);
      cpu.view.setUint32(0x4000, 0x10100, true);
      cpu.view.setUint16(0x4004, sel, true);
      cpu.setReg(Reg.RBX, 0x4000n);
      const r = step(cpu);
      if (r !== null) expect(cpu.rip).toBe(BigInt(CODE));
      return r;
    };
    expect(jmp(0x0003)).toEqual([Vector.GP, 0]);
    expect(jmp(0x3b)).toBeNull(); // conforming code of DPL 0 ≤ CPL
    expect(jmp(0x5b)).toEqual([Vector.NP, 0x58]);
    expect(jmp(0x1b)).toEqual([Vector.GP, 0x18]);
    expect(jmp(0x4b)).toEqual([Vector.GP, 0x48]);
    expect(jmp(0x1007)).toEqual([Vector.GP, 0x1004]); // beyond the LDT's limit (XSA-298)
  });

  it("call gates: DPL 0 gates #GP(gate); a DPL 3 gate transfers to its 64-bit target", () => {
    const lcall = (sel: number): X86Cpu => {
      const cpu = machine([0xff, 0x1b]);
      cpu.view.setUint32(0x4000, 0xdead, true);
      cpu.view.setUint16(0x4004, sel, true);
      cpu.setReg(Reg.RBX, 0x4000n);
      return cpu;
    };
    let cpu = lcall(0x73);
    expect(step(cpu)).toEqual([Vector.GP, 0x70]);
    cpu = lcall(0x83);
    expect(step(cpu)).toEqual([Vector.GP, 0x80]); // upper half not type 0
    cpu = lcall(0x93);
    expect(step(cpu)).toEqual([Vector.GP, 0x10]); // target is 32-bit code
    cpu = lcall(0x63);
    expect(step(cpu)).toBeNull();
    expect(cpu.rip).toBe(0x12345678n);
    expect(cpu.sel[Seg.CS]).toBe(0x0b);
    // Through a gate the pushes are 64-bit even with a 32-bit operand size.
    expect(cpu.getReg(Reg.RSP)).toBe(0x8000n - 16n);
    expect(cpu.view.getUint32(0x8000 - 16, true)).toBe(CODE + 2);
  });

  it("iret in 32-bit code to the same level pops eip, cs, eflags only", () => {
    const cpu = machine([0xcf], 32);
    cpu.view.setUint32(0x7ff4, 0x10400, true);
    cpu.view.setUint32(0x7ff8, 0x13, true);
    cpu.view.setUint32(0x7ffc, 0x202, true);
    cpu.setReg(Reg.RSP, 0x7ff4n);
    expect(step(cpu)).toBeNull();
    expect(cpu.rip).toBe(0x10400n);
    expect(cpu.getReg(Reg.RSP)).toBe(0x8000n);
    expect(cpu.sel[Seg.SS]).toBe(0x1b);
  });
});

describe("lar, lsl, verr, verw", () => {
  const probe = (bytes: number[], sel: number): { zf: boolean; rbx: bigint } => {
    const cpu = machine(bytes);
    cpu.setReg(Reg.RAX, BigInt(sel));
    cpu.setReg(Reg.RBX, 0xffffn);
    expect(step(cpu)).toBeNull();
    return { zf: (cpu.rflags & 0x40) !== 0, rbx: cpu.getReg(Reg.RBX) };
  };
  const LAR = [0x0f, 0x02, 0xd8];
  const LSL = [0x0f, 0x03, 0xd8];
  const VERR = [0x0f, 0x00, 0xe0];
  const VERW = [0x0f, 0x00, 0xe8];

  it("lar gives the access rights of visible descriptors", () => {
    expect(probe(LAR, 0x1b)).toEqual({ zf: true, rbx: BigInt(DATA_DPL3 & 0x00f0ff00) });
    expect(probe(LAR, 0x23)).toEqual({ zf: false, rbx: 0xffffn }); // DPL 0 from CPL 3
    expect(probe(LAR, 0x3b).zf).toBe(true); // conforming code: any DPL
    expect(probe(LAR, 0x4b).zf).toBe(false); // TSS of DPL 0
    expect(probe(LAR, 0x0000).zf).toBe(false);
    expect(probe(LAR, 0x1007).zf).toBe(false); // beyond the LDT
    expect(probe(LAR, 0x63)).toEqual({ zf: true, rbx: 0x0030ec00n }); // a DPL 3 call gate
  });

  it("lsl gives the byte-granular limit; verr/verw test readability and writability", () => {
    expect(probe(LSL, 0x1b)).toEqual({ zf: true, rbx: 0xffffffffn });
    expect(probe(LSL, 0x63).zf).toBe(false); // call gates have no limit
    expect(probe(VERR, 0x1b).zf).toBe(true);
    expect(probe(VERR, 0x33).zf).toBe(false); // execute-only
    expect(probe(VERR, 0x0b).zf).toBe(true);
    expect(probe(VERW, 0x1b).zf).toBe(true);
    expect(probe(VERW, 0x2b).zf).toBe(false); // read-only
    expect(probe(VERW, 0x0b).zf).toBe(false); // code
  });
});

describe("segment limits outside 64-bit mode", () => {
  // Slot 20 (0xa3): data, base 0, byte-granular limit 0xfff; slot 21 (0xab): expand-down
  // data with limit 0xfff (offsets 0x1000 and up); slot 22 (0xb3): a stack of limit 0x7fff.
  const limited = (code: number[]): X86Cpu => {
    const cpu = machine(code, 32);
    const put = (slot: number, lo: number, hi: number): void => putDescriptor(cpu, slot, lo, hi);
    put(20, 0x00000fff, 0x0040f300);
    put(21, 0x00000fff, 0x0040f700);
    put(22, 0x00007fff, 0x0040f300);
    return cpu;
  };

  it("an access past an expand-up limit is #GP(0); the last bytes inside are fine", () => {
    // mov %ax,%ds; mov (%ebx),%ecx
    const cpu = limited([0x8e, 0xd8, 0x8b, 0x0b]);
    cpu.setReg(Reg.RAX, 0xa3n);
    cpu.setReg(Reg.RBX, 0xffcn);
    expect(cpu.run(2)).toBe(X86ExitReason.Budget);
    cpu.rip = BigInt(CODE + 2);
    cpu.setReg(Reg.RBX, 0xffdn); // its last byte at 0x1000
    expect(step(cpu)).toEqual([Vector.GP, 0]);
  });

  it("an expand-down segment holds only offsets above its limit", () => {
    const cpu = limited([0x8e, 0xd8, 0x8b, 0x0b]);
    cpu.setReg(Reg.RAX, 0xabn);
    cpu.setReg(Reg.RBX, 0x1000n);
    expect(cpu.run(2)).toBe(X86ExitReason.Budget);
    cpu.rip = BigInt(CODE + 2);
    cpu.setReg(Reg.RBX, 0xfffn);
    expect(step(cpu)).toEqual([Vector.GP, 0]);
  });

  it("stack accesses past SS's limit are #SS(0)", () => {
    // mov %ax,%ss; push %ecx
    const cpu = limited([0x8e, 0xd0, 0x51]);
    cpu.setReg(Reg.RAX, 0xb3n);
    cpu.setReg(Reg.RSP, 0x9000n);
    expect(step(cpu)).toBeNull();
    expect(step(cpu)).toEqual([Vector.SS, 0]);
    expect(cpu.getReg(Reg.RSP)).toBe(0x9000n);
  });

  it("64-bit code ignores the limits", () => {
    const cpu = limited([0x8e, 0xd8, 0x8b, 0x0b]);
    cpu.setReg(Reg.RAX, 0xa3n);
    cpu.setReg(Reg.RBX, 0x4000n);
    expect(step(cpu)).toBeNull();
    cpu.setCodeSize(64);
    expect(step(cpu)).toBeNull();
  });
});

describe("null data segments", () => {
  it("loaded in 64-bit code, are unusable from 32-bit code until reloaded", () => {
    // 64-bit: mov %ax,%ds (null); 32-bit there: mov (%ebx),%ecx
    const cpu = machine([0x8e, 0xd8, 0x8b, 0x0b]);
    cpu.setReg(Reg.RBX, 0x4000n);
    expect(step(cpu)).toBeNull();
    cpu.setCodeSize(32);
    expect(step(cpu)).toEqual([Vector.GP, 0]);
    cpu.setCodeSize(64);
    expect(step(cpu)).toBeNull(); // 64-bit code does not check
    cpu.setCodeSize(32);
    cpu.rip = BigInt(CODE);
    cpu.setReg(Reg.RAX, 0x1bn);
    expect(cpu.run(2)).toBe(X86ExitReason.Budget);
  });
});

describe("returns to an outer privilege level", () => {
  // Slot 22 (0xb3): a DPL 3 stack of limit 0x7fff; slot 23 (0xb8): 32-bit code of DPL 0;
  // slot 24 (0xc3): 32-bit DPL 3 code of limit 0x1ffff; slot 25 (0xcb): DPL 3 data, absent.
  const ring0 = (code: number[]): X86Cpu => {
    const cpu = machine(code, 32);
    const put = (slot: number, lo: number, hi: number): void => putDescriptor(cpu, slot, lo, hi);
    put(22, 0x00007fff, 0x0040f300);
    put(23, 0x0000ffff, 0x00cf9b00);
    put(24, 0x0000ffff, 0x0041fb00);
    put(25, 0x0000ffff, 0x00cf7300);
    cpu.cpl = 0;
    cpu.sel[Seg.CS] = 0xb8;
    cpu.sel[Seg.SS] = 0x20;
    cpu.setReg(Reg.RSP, 0x7fecn);
    return cpu;
  };
  /** A 32-bit iret frame at 0x7fec: eip, cs, eflags, esp, ss. */
  const frame = (cpu: X86Cpu, cs: number, ss: number, eip = 0x10100): void => {
    const v = cpu.view;
    v.setUint32(0x7fec, eip, true);
    v.setUint32(0x7ff0, cs, true);
    v.setUint32(0x7ff4, 0x202, true);
    v.setUint32(0x7ff8, 0x6000, true);
    v.setUint32(0x7ffc, ss, true);
  };

  it("iret loads SS with its limit and makes null the data segments of a lower DPL", () => {
    // mov %ax,%ds (DPL 0 data); mov %bx,%es (DPL 0 conforming code); mov %cx,%fs (DPL 3); iret
    const cpu = ring0([0x8e, 0xd8, 0x8e, 0xc3, 0x8e, 0xe1, 0xcf]);
    cpu.setReg(Reg.RAX, 0x20n);
    cpu.setReg(Reg.RBX, 0x38n);
    cpu.setReg(Reg.RCX, 0x1bn);
    frame(cpu, 0xc3, 0xb3);
    // At the target: mov (%ebp),%eax; mov %cs:0x20000,%eax; mov %ds:(%ebx),%eax
    cpu.view.setUint32(0x10100, 0x0000458b, true);
    expect(cpu.run(4)).toBe(X86ExitReason.Budget);
    expect(cpu.cpl).toBe(3);
    expect(cpu.sel[Seg.CS]).toBe(0xc3);
    expect(cpu.sel[Seg.SS]).toBe(0xb3);
    expect(cpu.getReg(Reg.RSP)).toBe(0x6000n);
    expect(cpu.sel[Seg.DS]).toBe(0); // DPL 0 < CPL 3
    expect(cpu.sel[Seg.ES]).toBe(0x38); // conforming code is kept
    expect(cpu.sel[Seg.FS]).toBe(0x1b);
    // The new SS's limit (0x7fff) applies: (%ebp) at 0x9000 is #SS(0), at 0x7ffc fine.
    cpu.setReg(Reg.RBP, 0x9000n);
    expect(step(cpu)).toEqual([Vector.SS, 0]);
    cpu.setReg(Reg.RBP, 0x7ffcn);
    expect(step(cpu)).toBeNull();
  });

  it("iret checks the popped SS: null #GP(0), RPL or DPL not the new CPL #GP(ss), absent #SS(ss)", () => {
    const iret = (ss: number): [number, number] | null => {
      const cpu = ring0([0xcf]);
      frame(cpu, 0xc3, ss);
      const r = step(cpu);
      if (r !== null) expect(cpu.cpl).toBe(0);
      return r;
    };
    expect(iret(0xb3)).toBeNull();
    expect(iret(0x0003)).toEqual([Vector.GP, 0]);
    expect(iret(0xb0)).toEqual([Vector.GP, 0xb0]); // RPL 0
    expect(iret(0x23)).toEqual([Vector.GP, 0x20]); // DPL 0
    expect(iret(0x2b)).toEqual([Vector.GP, 0x28]); // read-only
    expect(iret(0xcb)).toEqual([Vector.SS, 0xc8]);
  });

  it("an eip beyond the new code segment's limit is #GP(0)", () => {
    const cpu = ring0([0xcf]);
    frame(cpu, 0xc3, 0xb3, 0x20000);
    expect(step(cpu)).toEqual([Vector.GP, 0]);
    expect(cpu.cpl).toBe(0);
  });

  it("lret $n pops esp and ss past the parameters and releases n bytes of the new stack", () => {
    // lret $8 from ring 0: eip, cs, 8 bytes of parameters, esp, ss
    const cpu = ring0([0xca, 0x08, 0x00]);
    const v = cpu.view;
    cpu.setReg(Reg.RSP, 0x7fe4n);
    v.setUint32(0x7fe4, 0x10100, true);
    v.setUint32(0x7fe8, 0xc3, true);
    v.setUint32(0x7ff4, 0x6000, true);
    v.setUint32(0x7ff8, 0xb3, true);
    cpu.setReg(Reg.RAX, 0x20n);
    expect(step(cpu)).toBeNull();
    expect(cpu.cpl).toBe(3);
    expect(cpu.rip).toBe(0x10100n);
    expect(cpu.sel[Seg.SS]).toBe(0xb3);
    expect(cpu.getReg(Reg.RSP)).toBe(0x6008n);
  });
});

describe("CS and SS set by a hypervisor", () => {
  it("take their limits from the descriptors (an %ss or %cs access beyond them faults)", () => {
    // mov %ss:(%esi),%eax; mov %cs:(%esi),%eax
    const cpu = machine([0x36, 0x8b, 0x06, 0x2e, 0x8b, 0x06], 32);
    putDescriptor(cpu, 22, 0x00007fff, 0x0040f300);
    putDescriptor(cpu, 24, 0x0000ffff, 0x0041fb00);
    cpu.loadCodeSegment(0xc3, 0xb3);
    cpu.setReg(Reg.RSI, 0x8000n);
    expect(step(cpu)).toEqual([Vector.SS, 0]);
    cpu.setReg(Reg.RSI, 0x20000n);
    cpu.rip = BigInt(CODE + 3);
    expect(step(cpu)).toEqual([Vector.GP, 0]);
    // Back to the flat selectors: no limit.
    cpu.loadCodeSegment(0x13, 0x1b);
    cpu.setReg(Reg.RSI, 0x8000n);
    cpu.rip = BigInt(CODE);
    expect(cpu.run(2)).toBe(X86ExitReason.Budget);
  });
});

describe("instruction fetch and 16-bit addresses in 32-bit code", () => {
  it("an instruction whose bytes run past CS's limit is #GP(0) at that instruction", () => {
    // nop; nop; mov $0x11223344,%eax (bytes 0x10002–0x10006) under a CS limit of 0x10003
    const cpu = machine([0x90, 0x90, 0xb8, 0x44, 0x33, 0x22, 0x11], 32);
    putDescriptor(cpu, 26, 0x00000003, 0x0041fb00);
    cpu.loadCodeSegment(0xd3, 0x1b);
    expect(cpu.run(2)).toBe(X86ExitReason.Budget);
    expect(step(cpu)).toEqual([Vector.GP, 0]);
    expect(cpu.rip).toBe(BigInt(CODE + 2));
    expect(cpu.getReg(Reg.RAX)).toBe(0n);
    // The same bytes under the flat 32-bit code segment run.
    cpu.loadCodeSegment(0x13, 0x1b);
    expect(step(cpu)).toBeNull();
    expect(cpu.getReg(Reg.RAX)).toBe(0x11223344n);
  });

  it("a branch past CS's limit is #GP(0) at the branch, esp unchanged", () => {
    const limitedCs = (code: number[]): X86Cpu => {
      const cpu = machine(code, 32);
      putDescriptor(cpu, 26, 0x00000003, 0x0041fb00); // limit 0x10003
      cpu.loadCodeSegment(0xd3, 0x1b);
      return cpu;
    };
    // jmp .+0x10; call .+0x10; ret to 0x20000
    const jmp = limitedCs([0xeb, 0x0e]);
    expect(step(jmp)).toEqual([Vector.GP, 0]);
    expect(jmp.rip).toBe(BigInt(CODE));
    const call = limitedCs([0xe8, 0x0b, 0, 0, 0]);
    expect(step(call)).toEqual([Vector.GP, 0]);
    expect(call.getReg(Reg.RSP)).toBe(0x8000n);
    const ret = limitedCs([0xc3]);
    ret.view.setUint32(0x7ffc, 0x20000, true);
    ret.setReg(Reg.RSP, 0x7ffcn);
    expect(step(ret)).toEqual([Vector.GP, 0]);
    expect(ret.getReg(Reg.RSP)).toBe(0x7ffcn);
    // Within the limit the same jmp runs: jmp .+2 lands at 0x10002.
    const near = limitedCs([0xeb, 0x00]);
    expect(step(near)).toBeNull();
    expect(near.rip).toBe(BigInt(CODE + 2));
  });

  it("a16 movs uses si and di (wrapping at 64 KiB, upper halves kept) and rep counts cx", () => {
    // a16 movsb; a16 rep movsb
    const cpu = machine([0x67, 0xa4, 0x67, 0xf3, 0xa4], 32);
    const v = cpu.view;
    v.setUint8(0xffff, 0xab);
    cpu.setReg(Reg.RSI, 0x1234ffffn);
    cpu.setReg(Reg.RDI, 0xabcd5000n);
    expect(step(cpu)).toBeNull();
    expect(v.getUint8(0x5000)).toBe(0xab);
    expect(cpu.getReg(Reg.RSI)).toBe(0x12340000n);
    expect(cpu.getReg(Reg.RDI)).toBe(0xabcd5001n);
    v.setUint16(0, 0x2211, true);
    cpu.setReg(Reg.RCX, 0x00010002n);
    expect(cpu.run(3)).toBe(X86ExitReason.Budget);
    expect(v.getUint16(0x5001, true)).toBe(0x2211);
    expect(cpu.getReg(Reg.RCX)).toBe(0x00010000n);
    expect(cpu.getReg(Reg.RSI)).toBe(0x12340002n);
    expect(cpu.rip).toBe(BigInt(CODE + 5));
  });

  it("a16 ModRM addressing: (%bx,%si) is the 16-bit sum", () => {
    // mov (%bx,%si),%eax with the 0x67 prefix
    const cpu = machine([0x67, 0x8b, 0x00], 32);
    cpu.view.setUint32(0x0030, 0xcafef00d, true);
    cpu.setReg(Reg.RBX, 0x12340040n);
    cpu.setReg(Reg.RSI, 0x5678fff0n); // 0x0040 + 0xfff0 wraps to 0x0030
    expect(step(cpu)).toBeNull();
    expect(cpu.getReg(Reg.RAX)).toBe(0xcafef00dn);
  });
});

describe("task switches, which long mode does not have", () => {
  it("a far jmp or call to a task gate or a TSS is #GP(selector), in 32-bit code too", () => {
    for (const [opcode, sel] of [
      [0xea, 0xd8], // ljmp to a task gate (type 5)
      [0x9a, 0xd8], // lcall to it
      [0xea, 0x48], // ljmp to the TSS
    ]) {
      const cpu = machine([opcode, 0, 0x01, 0x01, 0, sel, 0], 32);
      putDescriptor(cpu, 27, 0x004b0000, 0x0000e500); // task gate to the TSS, DPL 3
      expect(step(cpu)).toEqual([Vector.GP, sel]);
      expect(cpu.getReg(Reg.RSP)).toBe(0x8000n);
    }
  });

  it("iret with EFLAGS.NT set is #GP(0) in 32-bit and in 64-bit code", () => {
    for (const size of [32, 64] as const) {
      // pushf; orl $0x4000,(%esp); popf; iret (32-bit operand size) over a frame that is
      // otherwise valid (64-bit mode pops ss:esp too)
      const cpu = machine([0x9c, 0x81, 0x0c, 0x24, 0x00, 0x40, 0x00, 0x00, 0x9d, 0xcf], size);
      const frame = size === 32 ? [0x10100, 0x13, 0x202] : [0x10100, 0x0b, 0x202, 0x8000, 0x1b];
      frame.forEach((x, i) => cpu.view.setUint32(0x8000 + i * 4, x, true));
      expect(cpu.run(3)).toBe(X86ExitReason.Budget);
      expect(cpu.rflags & 0x4000).toBe(0x4000);
      expect(step(cpu)).toEqual([Vector.GP, 0]);
      expect(cpu.rip).toBe(BigInt(CODE + 9));
      // With NT clear the same frame returns.
      cpu.rflags = cpu.rflags & ~0x4000;
      expect(step(cpu)).toBeNull();
      expect(cpu.rip).toBe(0x10100n);
    }
  });
});
