/**
 * 32- and 16-bit code in compatibility mode: operand, address and stack sizes, eip
 * wrapping, the decode cache keyed by code size, and the instructions 64-bit mode lacks.
 */
import { describe, expect, it } from "vitest";
import { Reg, Seg, Vector, X86ExitReason } from "./cpu-api.js";
import type { X86Cpu } from "./cpu.js";
import { makeTestCpu } from "./test-machine.js";

const CODE = 0x10000;
const HLT_AT_CPL3 = Vector.GP;

/** A CPU in 32-bit compatibility mode with `bytes` at CODE, esp = 0x8000. */
function compat(bytes: number[], size: 32 | 16 = 32): { cpu: X86Cpu; mem: Uint8Array } {
  const { cpu, mem } = makeTestCpu(8);
  mem.bytes.set(bytes, CODE);
  cpu.setCodeSize(size, true);
  cpu.rip = BigInt(CODE);
  cpu.setReg(Reg.RSP, 0x8000n);
  return { cpu, mem: mem.bytes };
}

/** Runs until the `hlt` the test puts last (a #GP at CPL 3) and checks it was reached. */
function runToEnd(cpu: X86Cpu, hltAt: number): void {
  expect(cpu.run(1000)).toBe(X86ExitReason.Exception);
  expect(cpu.exit.vector).toBe(HLT_AT_CPL3);
  expect(cpu.rip).toBe(BigInt(hltAt));
}

describe("compatibility mode: sizes", () => {
  it("push/pop move esp by 4, call/ret push a 32-bit eip", () => {
    // push %eax; pop %ebx; call 1f; hlt; 1: ret
    const { cpu, mem } = compat([0x50, 0x5b, 0xe8, 0x01, 0, 0, 0, 0xf4, 0xc3]);
    cpu.setReg(Reg.RAX, 0x1122334455667788n);
    expect(cpu.run(3)).toBe(X86ExitReason.Budget);
    expect(cpu.getReg(Reg.RBX)).toBe(0x55667788n);
    expect(cpu.getReg(Reg.RSP)).toBe(0x7ffcn);
    expect(new DataView(mem.buffer).getUint32(0x7ffc, true)).toBe(CODE + 7);
    runToEnd(cpu, CODE + 7);
    expect(cpu.getReg(Reg.RSP)).toBe(0x8000n);
  });

  it("a 16-bit stack (SS.B = 0) wraps sp within 64 KiB and leaves esp's top half", () => {
    const { cpu } = compat([0x50, 0xf4]);
    cpu.setCodeSize(32, false);
    cpu.setReg(Reg.RSP, 0x12340002n);
    cpu.setReg(Reg.RAX, 0xaabbccddn);
    expect(cpu.run(1)).toBe(X86ExitReason.Budget);
    expect(cpu.getReg(Reg.RSP)).toBe(0x1234fffen);
    expect(cpu.view.getUint32(0xfffe, true)).toBe(0xaabbccdd);
  });

  it("effective addresses wrap at 4 GiB; 67 selects 16-bit addressing", () => {
    // mov (%ebx,%ecx),%eax; addr16 mov (%bx,%si),%edx; hlt
    const { cpu, mem } = compat([0x8b, 0x04, 0x0b, 0x67, 0x8b, 0x10, 0xf4]);
    new DataView(mem.buffer).setUint32(0x5000, 0xcafe, true);
    new DataView(mem.buffer).setUint32(0x6000, 0xbeef, true);
    cpu.setReg(Reg.RBX, 0xfffff000n);
    cpu.setReg(Reg.RCX, 0x6000n); // 0x1_0000_5000 wraps to 0x5000
    cpu.setReg(Reg.RSI, 0x7000n); // bx + si = 0xf000 + 0x7000 = 0x1_6000 wraps to 0x6000
    runToEnd(cpu, CODE + 6);
    expect(cpu.getReg(Reg.RAX)).toBe(0xcafen);
    expect(cpu.getReg(Reg.RDX)).toBe(0xbeefn);
  });

  it("the FS base applies and the linear address is 32 bits", () => {
    // mov %fs:(%ebx),%eax; hlt
    const { cpu, mem } = compat([0x64, 0x8b, 0x03, 0xf4]);
    new DataView(mem.buffer).setUint32(0x7000, 0x5a5a, true);
    cpu.fsBase = 0xfffff000n;
    cpu.setReg(Reg.RBX, 0x8000n);
    runToEnd(cpu, CODE + 3);
    expect(cpu.getReg(Reg.RAX)).toBe(0x5a5an);
  });

  it("eip wraps from 0xffffffff to 0", () => {
    const { cpu } = makeTestCpu(8);
    // 4 GiB - 1 is not mapped by the test machine: map its page onto frame 0x300.
    const pte = mapPage(cpu, 0xfffff000, 0x300000);
    expect(pte).toBeGreaterThan(0);
    cpu.view.setUint8(0x300fff, 0x90); // nop at 0xffffffff
    cpu.view.setUint8(0, 0xf4); // hlt at 0
    cpu.setCodeSize(32, true);
    cpu.rip = 0xffffffffn;
    runToEnd(cpu, 0);
  });
});

describe("compatibility mode: decoding", () => {
  it("keys the decode cache by code size (40 is inc in 32-bit code, a REX prefix in 64-bit)", () => {
    // inc %eax (32-bit) / rex nop (64-bit); hlt
    const { cpu } = compat([0x40, 0x90, 0xf4]);
    runToEnd(cpu, CODE + 2);
    expect(cpu.getReg(Reg.RAX)).toBe(1n);
    cpu.setCodeSize(64);
    cpu.rip = BigInt(CODE);
    runToEnd(cpu, CODE + 2);
    expect(cpu.getReg(Reg.RAX)).toBe(1n);
    cpu.setCodeSize(32);
    cpu.rip = BigInt(CODE);
    runToEnd(cpu, CODE + 2);
    expect(cpu.getReg(Reg.RAX)).toBe(2n);
  });

  it("the forms invalid in 64-bit mode are #UD there", () => {
    for (const op of [0x06, 0x27, 0x37, 0x60, 0x61, 0xce, 0xd4]) {
      const { cpu } = compat([op, 0x0a, 0xf4]);
      cpu.setCodeSize(64);
      expect(cpu.run(10)).toBe(X86ExitReason.Exception);
      expect(cpu.exit.vector).toBe(Vector.UD);
    }
  });
});

describe("compatibility mode: instructions valid outside 64-bit mode", () => {
  it("pusha pushes eax..edi with the original esp; popa restores all but esp", () => {
    // pusha; xor %eax..%edi (31 c0, 31 c9, 31 d2, 31 db, 31 ed, 31 f6, 31 ff); popa; hlt
    const { cpu } = compat([
      0x60, 0x31, 0xc0, 0x31, 0xc9, 0x31, 0xd2, 0x31, 0xdb, 0x31, 0xed, 0x31, 0xf6, 0x31, 0xff,
      0x61, 0xf4,
    ]);
    const regs = [Reg.RAX, Reg.RCX, Reg.RDX, Reg.RBX, Reg.RBP, Reg.RSI, Reg.RDI];
    regs.forEach((r, i) => cpu.setReg(r, BigInt(0x100 + i)));
    expect(cpu.run(1)).toBe(X86ExitReason.Budget);
    expect(cpu.view.getUint32(0x8000 - 20, true)).toBe(0x8000); // the saved esp
    expect(cpu.view.getUint32(0x8000 - 4, true)).toBe(0x100); // eax first
    runToEnd(cpu, CODE + 16);
    regs.forEach((r, i) => expect(cpu.getReg(r)).toBe(BigInt(0x100 + i)));
    expect(cpu.getReg(Reg.RSP)).toBe(0x8000n);
  });

  it("daa/das/aaa/aas/aam/aad adjust as the SDM's pseudocode", () => {
    const cases: [number[], number, number, number][] = [
      // [code, ax in, ax out, CF out]
      [[0x27], 0x00ae, 0x0014, 1], // daa after 0x79 + 0x35
      [[0x27], 0x0045, 0x0045, 0],
      [[0x2f], 0x0044, 0x0044, 0], // das
      [[0x2f], 0x00f0, 0x0090, 1],
      [[0x37], 0x000b, 0x0101, 1], // aaa
      [[0x3f], 0x020b, 0x0105, 1], // aas
      [[0xd4, 0x0a], 0x003f, 0x0603, 0], // aam 10: 63 -> 6, 3
      [[0xd5, 0x0a], 0x0603, 0x003f, 0], // aad 10
    ];
    for (const [code, axIn, axOut, cf] of cases) {
      const { cpu } = compat([...code, 0xf4]);
      cpu.setReg(Reg.RAX, BigInt(axIn));
      cpu.rflags = 0x2;
      runToEnd(cpu, CODE + code.length);
      expect(Number(cpu.getReg(Reg.RAX)) & 0xffff, code.toString()).toBe(axOut);
      expect(cpu.rflags & 1, code.toString()).toBe(cf);
    }
  });

  it("aam 0 raises #DE; bound out of range raises #BR at the instruction", () => {
    let { cpu } = compat([0xd4, 0x00]);
    expect(cpu.run(5)).toBe(X86ExitReason.Exception);
    expect(cpu.exit.vector).toBe(Vector.DE);
    // bound %eax,(%ebx) with bounds [10, 20]
    ({ cpu } = compat([0x62, 0x03, 0x62, 0x03, 0xf4]));
    cpu.view.setInt32(0x4000, 10, true);
    cpu.view.setInt32(0x4004, 20, true);
    cpu.setReg(Reg.RBX, 0x4000n);
    cpu.setReg(Reg.RAX, 15n);
    expect(cpu.run(1)).toBe(X86ExitReason.Budget);
    cpu.setReg(Reg.RAX, 21n);
    expect(cpu.run(5)).toBe(X86ExitReason.Exception);
    expect(cpu.exit.vector).toBe(Vector.BR);
    expect(cpu.exit.errorCode).toBe(-1);
    expect(cpu.rip).toBe(BigInt(CODE + 2));
  });

  it("arpl raises the destination RPL to the source's and sets ZF", () => {
    // arpl %ax,%bx; hlt
    const { cpu } = compat([0x63, 0xc3, 0xf4]);
    cpu.setReg(Reg.RBX, 0xe020n);
    cpu.setReg(Reg.RAX, 0x0003n);
    runToEnd(cpu, CODE + 2);
    expect(cpu.getReg(Reg.RBX)).toBe(0xe023n);
    expect(cpu.rflags & 0x40).toBe(0x40);
  });

  it("sysexit outside CPL 0 is #GP(0); sysenter exits to the hypervisor after itself", () => {
    let { cpu } = compat([0x0f, 0x35]);
    expect(cpu.run(5)).toBe(X86ExitReason.Exception);
    expect([cpu.exit.vector, cpu.exit.errorCode]).toEqual([Vector.GP, 0]);
    ({ cpu } = compat([0x0f, 0x34]));
    expect(cpu.run(5)).toBe(X86ExitReason.Sysenter);
    expect(cpu.rip).toBe(BigInt(CODE + 2));
  });

  it("push/pop of a segment register; into traps on OF", () => {
    // push %es; pop %ds; into; hlt
    const { cpu } = compat([0x06, 0x1f, 0xce, 0xf4]);
    cpu.sel[Seg.ES] = 0x2b;
    cpu.view.setUint32(0x8000 - 4, 0xaaaaaaaa, true);
    cpu.rflags = 0x802;
    expect(cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(cpu.sel[Seg.DS]).toBe(0x2b);
    // push %es wrote only the selector's 16 bits over what was there (Intel).
    expect(cpu.view.getUint32(0x8000 - 4, true)).toBe(0xaaaa002b);
    expect(cpu.exit.vector).toBe(Vector.OF);
    expect(cpu.exit.software).toBe(true);
    expect(cpu.rip).toBe(BigInt(CODE + 3));
  });
});

/** Maps the 4 KiB page at `va` (below 4 GiB) onto machine address `pa` in the test machine's tables. */
function mapPage(cpu: X86Cpu, va: number, pa: number): number {
  const v = cpu.view;
  // PDPT entry for va's GiB -> a new PD at 0x7e0000, PD entry -> a PT at 0x7e1000.
  const pdpt = 0x2000 + Math.floor(va / 2 ** 30) * 8;
  v.setUint32(pdpt, 0x7e0000 | 7, true);
  v.setUint32(0x7e0000 + ((va >>> 21) & 511) * 8, 0x7e1000 | 7, true);
  const pte = 0x7e1000 + ((va >>> 12) & 511) * 8;
  v.setUint32(pte, pa | 7, true);
  cpu.flushTlb();
  return pte;
}
