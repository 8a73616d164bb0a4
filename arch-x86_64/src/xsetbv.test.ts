/**
 * `xsetbv` from a 64-bit PV kernel, which runs in ring 3 and so takes #GP(0) for it, as
 * Xen 4.19's privileged-op emulator completes it (x86_emulate/0f01.c, x86emul_write_xcr,
 * xstate.c handle_xsetbv): Linux's fpu__init_cpu_xstate sets XCR0 this way at boot.
 */
import { describe, expect, it } from "vitest";
import { Cr4, Reg, setGuestCr4, Vector } from "@hvkit/arch-x86";
import { bootedPvDomain } from "./pv-test-domain.js";

const XSETBV = [0x0f, 0x01, 0xd1];
const XGETBV = [0x0f, 0x01, 0xd0];
const GP_HANDLER = 0x101000n;
const UD_HANDLER = 0x102000n;

/** Runs `code` (then a nop) as the guest kernel with CR4 `guestCr4` and ecx:edx:eax given. */
function run(
  code: number[],
  regs: { eax: number; ecx?: number; edx?: number },
  guestCr4: number = Cr4.OSXSAVE,
) {
  const d = bootedPvDomain();
  setGuestCr4(d.v, guestCr4 | d.v.cr4);
  d.v.trapAddr[Vector.GP] = GP_HANDLER;
  d.v.trapAddr[Vector.UD] = UD_HANDLER;
  const at = d.scratch + 0x200n;
  d.putCode(at, [...code, 0x90]);
  d.v.cpu.rip = at;
  d.v.cpu.setReg(Reg.RSP, d.scratch + 0x800n);
  d.v.cpu.setReg(Reg.RAX, BigInt(regs.eax));
  d.v.cpu.setReg(Reg.RCX, BigInt(regs.ecx ?? 0));
  d.v.cpu.setReg(Reg.RDX, BigInt(regs.edx ?? 0));
  d.v.run(1);
  return { ...d, at };
}

describe("xsetbv from a 64-bit PV kernel", () => {
  it("sets XCR0 to x87|SSE and steps over the instruction; xgetbv then reads it", () => {
    const d = run(XSETBV, { eax: 3 });
    expect(d.v.cpu.rip).toBe(d.at + 3n);
    expect(d.v.cpu.xcr0).toBe(3);
    d.putCode(d.at, [...XGETBV, 0x90]);
    d.v.cpu.rip = d.at;
    d.v.cpu.setReg(Reg.RCX, 0n);
    d.v.cpu.setReg(Reg.RAX, 0n);
    d.v.run(1);
    expect(d.v.cpu.getReg(Reg.RAX)).toBe(3n);
  });

  it("takes a REX prefix as the instruction's own", () => {
    const d = run([0x48, ...XSETBV], { eax: 3 });
    expect(d.v.cpu.rip).toBe(d.at + 4n);
    expect(d.v.cpu.xcr0).toBe(3);
  });

  it("gives #GP(0) for XCR0 without x87, with bits beyond xfeature_mask, or for XCR 1", () => {
    for (const regs of [{ eax: 2 }, { eax: 7 }, { eax: 3, edx: 1 }, { eax: 3, ecx: 1 }]) {
      const d = run(XSETBV, regs);
      expect(d.v.cpu.rip, JSON.stringify(regs)).toBe(GP_HANDLER);
      expect(d.v.cpu.xcr0).toBe(1);
    }
  });

  it("gives #UD when the guest's CR4 lacks OSXSAVE, or with a 66 prefix", () => {
    expect(run(XSETBV, { eax: 3 }, 0).v.cpu.rip).toBe(UD_HANDLER);
    expect(run([0x66, ...XSETBV], { eax: 3 }).v.cpu.rip).toBe(UD_HANDLER);
  });

  it("gives #GP(0) from guest user mode, which a kernel's xsetbv never is", () => {
    const d = bootedPvDomain();
    setGuestCr4(d.v, Cr4.OSXSAVE | d.v.cr4);
    d.v.cpu.setReg(Reg.RAX, 3n);
    d.v.cpu.setReg(Reg.RCX, 0n);
    d.v.cpu.setReg(Reg.RDX, 0n);
    d.v.guestTableUser = d.v.guestTable;
    d.v.kernelMode = false;
    d.v.kernelSp = d.scratch + 0x800n;
    expect(d.gp(XSETBV)).toBeNull();
    expect(d.v.kernelMode).toBe(true);
    expect(d.v.cpu.rip).toBe(GP_HANDLER);
    expect(d.v.cpu.xcr0).toBe(1);
  });
});
