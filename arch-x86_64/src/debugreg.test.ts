/**
 * PV debug registers: set_debugreg / get_debugreg with Xen's validation and −errno, the
 * guest kernel's `mov` to and from %drN through the privileged-op path (#UD / #GP as Xen
 * raises them), CR4.DE, I/O breakpoints kept out of hardware DR7, and a #DB from an armed
 * data breakpoint bounced to the guest's handler.
 */
import { describe, expect, it } from "vitest";
import { Errno, Hypercall } from "@hvkit/core";
import { Reg, Vector } from "@hvkit/arch-x86";
import { Cr4, setGuestCr4 } from "@hvkit/arch-x86";
import { bootedPvDomain } from "./pv-test-domain.js";

function setup() {
  const d = bootedPvDomain();
  const set = (reg: number, value: bigint): number =>
    Number(d.callBig(Hypercall.set_debugreg, reg, value));
  const get = (reg: number): bigint => d.callBig(Hypercall.get_debugreg, reg);
  return { ...d, set, get, put: d.putCode };
}

const ENODEV = BigInt(-Errno.ENODEV);

describe("set_debugreg / get_debugreg", () => {
  it("initial values: DR0-3 zero, DR6 0xffff0ff0, DR7 0x400", () => {
    const { get } = setup();
    expect([get(0), get(1), get(2), get(3)]).toEqual([0n, 0n, 0n, 0n]);
    expect(get(6)).toBe(0xffff0ff0n);
    expect(get(7)).toBe(0x400n);
    expect(get(4)).toBe(0xffff0ff0n); // DR4/DR5 alias DR6/DR7 while CR4.DE is clear
    expect(get(5)).toBe(0x400n);
    expect(get(8)).toBe(ENODEV);
    expect(get(-1)).toBe(ENODEV);
  });

  it("DR0-3 take guest addresses only: below 2^47 or from HYPERVISOR_VIRT_END; else -EPERM", () => {
    const { set, get } = setup();
    expect(set(0, 0x7fffffffffffn)).toBe(0);
    expect(get(0)).toBe(0x7fffffffffffn);
    expect(set(1, 0xffff880000000000n)).toBe(0);
    expect(set(2, 0xffff800000000000n)).toBe(-Errno.EPERM);
    expect(set(3, 0x0000800000000000n)).toBe(-Errno.EPERM);
    expect(get(2)).toBe(0n);
  });

  it("DR6/DR7: upper bits -EINVAL, fixed bits forced, GD -EPERM, I/O breakpoints need CR4.DE", () => {
    const { set, get, v } = setup();
    expect(set(6, 1n << 32n)).toBe(-Errno.EINVAL);
    expect(set(7, 1n << 32n)).toBe(-Errno.EINVAL);
    expect(set(6, 0x1001n)).toBe(0);
    expect(get(6)).toBe(0xffff0ff1n); // reserved ones set, bit 12 cleared
    expect(set(7, 0xd802n)).toBe(0);
    expect(get(7)).toBe(0x402n); // bits 11, 12, 14, 15 cleared; bit 10 set
    expect(set(7, 0x2000n)).toBe(-Errno.EPERM);
    const io0 = 0x20402n; // G0, R/W0 = I/O
    expect(set(7, io0)).toBe(-Errno.EPERM);
    expect(get(7)).toBe(0x402n); // unchanged by the failed write
    setGuestCr4(v, v.cr4 | Cr4.DE);
    expect(set(7, io0)).toBe(0);
    expect(get(7)).toBe(io0);
    expect(v.cpu.getDebugReg(7)).toBe(0x20400n); // the enable is emulated, not in hardware
    // An inactive I/O breakpoint leaves no emulated enable behind.
    expect(set(7, 0x100400n)).toBe(0);
    expect(get(7)).toBe(0x100400n);
    // With CR4.DE, DR4/DR5 are -ENODEV.
    expect(set(4, 0n)).toBe(-Errno.ENODEV);
    expect(get(5)).toBe(ENODEV);
    expect(set(8, 0n)).toBe(-Errno.ENODEV);
  });
});

describe("mov %drN emulated for the guest kernel", () => {
  it("mov to and from %dr0 and %dr7 go through set_debugreg; rip advances", () => {
    const { v, gp, scratch } = setup();
    v.cpu.setReg(Reg.RAX, 0x123000n);
    expect(gp([0x0f, 0x23, 0xc0])).toBeNull(); // mov %rax, %dr0
    expect(v.cpu.getDebugReg(0)).toBe(0x123000n);
    expect(v.cpu.rip).toBe(scratch + 0x103n);
    expect(gp([0x41, 0x0f, 0x21, 0xf9])).toBeNull(); // mov %dr7, %r9
    expect(v.cpu.getReg(Reg.R9)).toBe(0x400n);
    expect(v.cpu.rip).toBe(scratch + 0x104n);
  });

  it("a refused write is #GP(0), DR4 with CR4.DE or DR8 is #UD; user mode gets the #GP", () => {
    const { v, gp, scratch } = setup();
    v.cpu.setReg(Reg.RAX, 0x2000n); // DR7.GD
    expect(gp([0x0f, 0x23, 0xf8])).toBeNull();
    expect(v.cpu.rip).toBe(0x101000n);
    setGuestCr4(v, v.cr4 | Cr4.DE);
    expect(gp([0x0f, 0x21, 0xe0])).toBeNull(); // mov %dr4, %rax
    expect(v.cpu.rip).toBe(0x102000n);
    expect(gp([0x44, 0x0f, 0x21, 0xc0])).toBeNull(); // mov %dr8, %rax
    expect(v.cpu.rip).toBe(0x102000n);
    void scratch;
  });

  it("single-stepping over an emulated instruction delivers #DB with DR6.BS after it", () => {
    const { v, gp, scratch } = setup();
    v.trapAddr[Vector.DB] = 0x103000n;
    v.cpu.rflags = v.cpu.rflags | 0x100;
    expect(gp([0x0f, 0x21, 0xf8])).toBeNull(); // mov %dr7, %rax
    expect(v.cpu.getReg(Reg.RAX)).toBe(0x400n);
    expect(v.cpu.rip).toBe(0x103000n);
    expect(v.cpu.getDebugReg(6)).toBe(0xffff4ff0n);
    expect(v.cpu.rflags & 0x100).toBe(0); // the bounce clears TF
    const pa = v.translate(v.cpu.getReg(Reg.RSP) + 16n, false);
    expect(v.machine.memory.view.getBigUint64(pa, true)).toBe(scratch + 0x103n);
  });

  it("cpuid (answered by the PV layer) single-steps too", () => {
    const { v, put, scratch } = setup();
    const at = scratch + 0x200n;
    put(at, [0x0f, 0xa2, 0x90]);
    v.cpu.rip = at;
    v.cpu.setReg(Reg.RAX, 0n);
    v.cpu.setReg(Reg.RSP, scratch + 0x800n);
    v.trapAddr[Vector.DB] = 0x103000n;
    v.cpu.rflags = v.cpu.rflags | 0x100;
    expect(v.run(1).message).toBe("");
    expect(v.cpu.rip).toBe(0x103000n);
    const pa = v.translate(v.cpu.getReg(Reg.RSP) + 16n, false);
    expect(v.machine.memory.view.getBigUint64(pa, true)).toBe(at + 2n);
  });

  it("an emulated in/out hitting an I/O breakpoint (CR4.DE, dr7_emul) delivers #DB with its Bn", () => {
    const { v, gp, set, scratch } = setup();
    v.trapAddr[Vector.DB] = 0x103000n;
    v.iopl = 0x1000; // the kernel's virtual CPL 1 may do I/O
    setGuestCr4(v, v.cr4 | Cr4.DE);
    expect(set(1, 0x80n)).toBe(0);
    expect(set(7, 0x600408n)).toBe(0); // G1, R/W1 = I/O, LEN1 = 2 bytes
    v.cpu.setReg(Reg.RDX, 0x90n);
    expect(gp([0xee])).toBeNull(); // out %al, %dx: port 0x90, no match
    expect(v.cpu.rip).toBe(scratch + 0x101n);
    expect(gp([0xe6, 0x81])).toBeNull(); // out %al, $0x81: inside 0x80-0x81
    expect(v.cpu.rip).toBe(0x103000n);
    expect(v.cpu.getDebugReg(6)).toBe(0xffff0ff2n);
    const pa = v.translate(v.cpu.getReg(Reg.RSP) + 16n, false);
    expect(v.machine.memory.view.getBigUint64(pa, true)).toBe(scratch + 0x102n);
  });

  it("mov to %cr4 toggles DE; read back through mov from %cr4", () => {
    const { v, gp } = setup();
    v.cpu.setReg(Reg.RAX, 0xa8n); // PGE | PAE | DE: PGE is not the guest's to see
    expect(gp([0x0f, 0x22, 0xe0])).toBeNull(); // mov %rax, %cr4
    expect(v.cr4De).toBe(true);
    expect(gp([0x0f, 0x20, 0xe3])).toBeNull(); // mov %cr4, %rbx
    expect(v.cpu.getReg(Reg.RBX)).toBe(0x668n); // DE and the visible PAE | MCE | OSFXSR | OSXMMEXCPT
    v.cpu.setReg(Reg.RAX, 0xa0n);
    expect(gp([0x0f, 0x22, 0xe0])).toBeNull();
    expect(v.cr4De).toBe(false);
  });

  it("icebp bounces #DB to the handler whatever its DPL; int $1 with DPL 0 is a #GP", () => {
    const { v, put, scratch } = setup();
    const at = scratch + 0x200n;
    put(at, [0xf1, 0x90]);
    v.cpu.rip = at;
    v.cpu.setReg(Reg.RSP, scratch + 0x800n);
    v.trapAddr[Vector.DB] = 0x103000n;
    v.trapAddr[Vector.GP] = 0x101000n;
    expect(v.run(1).message).toBe("");
    expect(v.cpu.rip).toBe(0x103000n);
    const pa = v.translate(v.cpu.getReg(Reg.RSP) + 16n, false);
    expect(v.machine.memory.view.getBigUint64(pa, true)).toBe(at + 1n);
    put(at, [0xcd, 0x01]);
    v.cpu.rip = at;
    v.cpu.setReg(Reg.RSP, scratch + 0x800n);
    expect(v.run(1).message).toBe("");
    expect(v.cpu.rip).toBe(0x101000n);
  });

  it("an armed data breakpoint bounces #DB to the guest kernel after the write", () => {
    const { v, set, put, scratch } = setup();
    const at = scratch + 0x200n;
    put(at, [0xc7, 0x00, 0, 0, 0, 0, 0x90]); // movl $0, (%rax); nop
    v.cpu.rip = at;
    v.cpu.setReg(Reg.RAX, scratch + 0x400n);
    v.cpu.setReg(Reg.RSP, scratch + 0x800n);
    v.trapAddr[Vector.DB] = 0x103000n;
    expect(set(0, scratch + 0x400n)).toBe(0);
    expect(set(7, 0xf0202n)).toBe(0); // GE, G0, R/W0 = 11, LEN0 = 4 bytes
    const exit = v.run(1);
    expect(exit.message).toBe("");
    expect(v.cpu.rip).toBe(0x103000n);
    expect(v.cpu.getDebugReg(6)).toBe(0xffff0ff1n);
    // The bounce frame's rip is the instruction after the write.
    const rsp = v.cpu.getReg(Reg.RSP);
    const pa = v.translate(rsp + 16n, false);
    expect(v.machine.memory.view.getBigUint64(pa, true)).toBe(at + 6n);
  });
});
