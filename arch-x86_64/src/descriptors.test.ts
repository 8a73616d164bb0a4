/**
 * The descriptor tables a 64-bit PV vCPU's CPU reads (Xen's reserved GDT page, the guest's
 * set_gdt frames and MMUEXT_SET_LDT), code-size changes on iret and bounces, and
 * `syscall`/`sysenter` from guest code delivered as Xen's entry.S delivers them.
 */
import { describe, expect, it } from "vitest";
import { FIRST_RESERVED_GDT_PAGE, Pte, Reg, Seg, Vector } from "@hvkit/arch-x86";
import { bootedPvDomain } from "./pv-test-domain.js";
import { doIret, injectEvent } from "./traps.js";

const setup = bootedPvDomain;

/** The reserved page's descriptor for `sel` as [lo, hi]. */
function reserved(t: { reserved: Int32Array }, sel: number): [number, number] {
  const i = ((sel >>> 3) & 511) * 2;
  return [t.reserved[i] >>> 0, t.reserved[i + 1] >>> 0];
}

describe("descriptor tables of a PV vCPU", () => {
  it("start with Xen's reserved GDT page: flat 32- and 64-bit ring-3 segments", () => {
    const { v } = setup();
    const t = v.cpu.tables;
    expect(t.enabled).toBe(true);
    expect(t.reservedPage).toBe(FIRST_RESERVED_GDT_PAGE);
    expect(reserved(t, 0xe023)).toEqual([0x0000ffff, 0x00cffb00]);
    expect(reserved(t, 0xe02b)).toEqual([0x0000ffff, 0x00cff300]);
    expect(reserved(t, 0xe033)).toEqual([0x0000ffff, 0x00affb00]);
    expect(reserved(t, 0xe040)).toEqual([0, 0]); // the TSS: not for guests
    expect(t.ldtEntries).toBe(0);
  });

  it("set_gdt and MMUEXT_SET_LDT hand the guest's tables to the CPU", () => {
    const { v, call, put64, scratch } = setup();
    const page = 0x104000n;
    const mfn = BigInt(v.domain.p2m[Number(page >> 12n)]);
    put64(scratch, mfn);
    expect(call(14, page, (mfn << 12n) | BigInt(Pte.P | Pte.A), 2)).toBe(0);
    expect(call(2, scratch, 16)).toBe(0);
    const t = v.cpu.tables;
    expect(t.gdtFrames[0]).toBe(Number(mfn));
    expect(t.gdtFrames[1]).toBe(-1);
    // mmuext_op MMUEXT_SET_LDT (13): {cmd, linear base, entries}.
    put64(scratch + 64n, 13n);
    put64(scratch + 72n, 0x105000n);
    put64(scratch + 80n, 3n);
    expect(call(26, scratch + 64n, 1, 0, 0x7ff0)).toBe(0);
    expect([t.ldtBaseLo, t.ldtBaseHi, t.ldtEntries]).toEqual([0x105000, 0, 3]);
  });
});

describe("32-bit code and the bounce frame", () => {
  it("iret to FLAT_RING3_CS32 resumes 32-bit code; an exception there bounces to 64-bit code", () => {
    const { v, put64, get64 } = setup();
    const cpu = v.cpu;
    const f = 0x200000n;
    [0n, 0n, 0n, 0n, 0x100800n, 0xe020n, 0x202n, 0x1ff000n, 0xe02bn].forEach((x, i) =>
      put64(f + BigInt(8 * i), x),
    );
    cpu.setReg(Reg.RSP, f);
    doIret(v);
    expect(cpu.codeSize).toBe(32);
    expect(cpu.sel[Seg.CS]).toBe(0xe023);
    v.trapAddr[Vector.UD] = 0x101000n;
    expect(injectEvent(v, Vector.UD, -1)).toBeNull();
    expect(cpu.codeSize).toBe(64);
    expect(cpu.sel[Seg.CS]).toBe(0xe033);
    // The frame records the 32-bit CS with RPL cleared (the guest kernel's own context).
    expect(get64(cpu.getReg(Reg.RSP) + 24n) & 0xffffn).toBe(0xe020n);
  });

  it("syscall in 32-bit code: #UD on the Intel CPU the model presents", () => {
    const { v, putCode, get64 } = setup();
    const cpu = v.cpu;
    putCode(0x100800n, [0x0f, 0x05]);
    cpu.loadCodeSegment(0xe023, 0xe02b);
    cpu.rip = 0x100800n;
    cpu.setReg(Reg.RSP, 0x1ff000n);
    v.trapAddr[Vector.UD] = 0x101000n;
    v.syscall32Callback = 0x102000n;
    v.run(1);
    expect(cpu.rip).toBe(0x101000n);
    expect(get64(cpu.getReg(Reg.RSP) + 16n)).toBe(0x100800n); // at the syscall
  });

  it("where syscall runs in 32-bit code (AMD): the syscall32 callback with FLAT_USER_CS32/SS32", () => {
    const { v, putCode, get64 } = setup();
    const cpu = v.cpu;
    cpu.syscallInCompat = true;
    putCode(0x100800n, [0x0f, 0x05]);
    cpu.loadCodeSegment(0xe023, 0xe02b);
    cpu.rip = 0x100800n;
    cpu.setReg(Reg.RSP, 0x1ff000n);
    cpu.rflags = 0x602; // DF set: the callback gets it cleared
    v.trapAddr[Vector.UD] = 0x101000n;
    v.syscall32Callback = 0x102000n;
    v.syscallMasksEvents = true;
    v.upcallMask = 0;
    v.run(1);
    expect(cpu.rip).toBe(0x102000n);
    expect(cpu.codeSize).toBe(64);
    expect(cpu.rflags & 0x400).toBe(0);
    expect(v.upcallMask).toBe(1);
    const sp = cpu.getReg(Reg.RSP);
    // rcx, r11, rip, cs, rflags, rsp, ss
    expect(get64(sp)).toBe(0x100802n);
    expect(get64(sp + 16n)).toBe(0x100802n);
    expect(get64(sp + 24n) & 0xffffn).toBe(0xe020n);
    expect(get64(sp + 40n)).toBe(0x1ff000n);
    expect(get64(sp + 48n)).toBe(0xe02bn);
    // With no syscall32 callback: #UD at the syscall.
    cpu.loadCodeSegment(0xe023, 0xe02b);
    cpu.rip = 0x100800n;
    cpu.setReg(Reg.RSP, 0x1ff000n);
    v.syscall32Callback = 0n;
    v.run(1);
    expect(cpu.rip).toBe(0x101000n);
    expect(get64(cpu.getReg(Reg.RSP) + 16n)).toBe(0x100800n);
  });

  it("sysenter from user mode: a rip 0 / cs 3 / rsp 0 frame to the sysenter callback, else #GP(0)", () => {
    const { v, putCode, get64 } = setup();
    const cpu = v.cpu;
    const user = (): void => {
      v.guestTableUser = v.guestTable;
      if (v.kernelMode) v.toggleGuestMode();
      v.kernelSp = 0x201000n;
      cpu.loadCodeSegment(0xe033, 0xe02b);
      cpu.rip = 0x100800n;
      cpu.setReg(Reg.RSP, 0x1ff000n);
    };
    putCode(0x100800n, [0x0f, 0x34]);
    v.trapAddr[Vector.GP] = 0x101000n;
    user();
    v.run(1);
    expect(v.kernelMode).toBe(true);
    expect(cpu.rip).toBe(0x101000n);
    let sp = cpu.getReg(Reg.RSP);
    // rcx, r11, error code 0, rip 0, cs 3, rflags, rsp 0, ss
    expect(get64(sp + 16n)).toBe(0n);
    expect(get64(sp + 24n)).toBe(0n);
    expect(get64(sp + 32n) & 0xffffn).toBe(3n);
    expect(get64(sp + 48n)).toBe(0n);
    expect(get64(sp + 56n)).toBe(0xe02bn);
    v.sysenterCallback = 0x103000n;
    user();
    v.run(1);
    expect(cpu.rip).toBe(0x103000n);
    sp = cpu.getReg(Reg.RSP);
    expect(get64(sp + 16n)).toBe(0n); // no error code: rip 0 follows r11
    expect(get64(sp + 24n) & 0xffffn).toBe(3n);
  });
});
