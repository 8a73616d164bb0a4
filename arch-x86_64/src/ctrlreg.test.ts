/**
 * Control registers of a 64-bit PV guest as Xen 4.19's privileged-op emulator handles
 * them (pv/emul-priv-op.c read_cr / write_cr, pv/domain.c pv_fixup_guest_cr4 /
 * pv_make_cr4): CR0 with only TS the guest's, CR4 filtered (never faulting), CR2 into
 * vcpu_info, the #GP for everything else, CR4.TSD and CR4.FSGSBASE taking effect in the
 * CPU, and CR4 in vcpu_guest_context.
 */
import { describe, expect, it } from "vitest";
import { Reg, Vector } from "@hvkit/arch-x86";
import { Cr4, pvFixupGuestCr4, pvMakeCr4, setGuestCr4, XEN_CR0 } from "@hvkit/arch-x86";
import { bootedPvDomain } from "./pv-test-domain.js";

/** mov %rax, %cr0 / %cr2 / %cr4 and mov %cr0 / %cr4, %rbx. */
const MOV_RAX_CR0 = [0x0f, 0x22, 0xc0];
const MOV_RAX_CR2 = [0x0f, 0x22, 0xd0];
const MOV_RAX_CR4 = [0x0f, 0x22, 0xe0];
const MOV_CR0_RBX = [0x0f, 0x20, 0xc3];
const MOV_CR4_RBX = [0x0f, 0x20, 0xe3];

function setup() {
  const d = bootedPvDomain();
  /** Runs `code` as the guest kernel's privileged instruction; null when emulated. */
  const emulate = (code: number[], rax?: bigint): string | null => {
    if (rax !== undefined) d.v.cpu.setReg(Reg.RAX, rax);
    return d.gp(code);
  };
  /** Whether the last gp() was emulated (rip after it) rather than bounced to #GP. */
  const emulated = (code: number[]): boolean =>
    d.v.cpu.rip === d.scratch + 0x100n + BigInt(code.length);
  const cr4 = (): bigint => {
    expect(emulate(MOV_CR4_RBX)).toBeNull();
    return d.v.cpu.getReg(Reg.RBX);
  };
  return { ...d, emulate, emulated, cr4 };
}

describe("CR4", () => {
  it("a new vCPU sees PAE | MCE | OSFXSR | OSXMMEXCPT (pv_fixup_guest_cr4(0)); the CPU runs without FSGSBASE or TSD", () => {
    const { v, cr4 } = setup();
    expect(cr4()).toBe(0x660n);
    expect(v.cr4).toBe(0x660);
    // pv_make_cr4: the host's PAE | PGE | MCE | OSFXSR | OSXMMEXCPT | OSXSAVE, FSGSBASE held back.
    expect(v.cpu.cr4).toBe(0x6e0 | Cr4.OSXSAVE);
  });

  it("Linux's mov $0x620, %cr4 (fpu__init_system) is taken without a fault", () => {
    const { emulate, emulated, cr4 } = setup();
    expect(emulate(MOV_RAX_CR4, 0x620n)).toBeNull();
    expect(emulated(MOV_RAX_CR4)).toBe(true);
    expect(cr4()).toBe(0x660n);
  });

  it("bits the guest does not control are dropped, the visible host bits stay whatever it writes", () => {
    const { emulate, emulated, cr4 } = setup();
    // VME, PVI, PSE, PGE, PCE, UMIP, VMXE, PCIDE, SMEP, SMAP, PKE and bits above 31.
    const foreign =
      0x1 | 0x2 | 0x10 | 0x80 | 0x100 | 0x800 | 0x2000 | 0x20000 | 0x300000 | 0x400000;
    expect(emulate(MOV_RAX_CR4, BigInt(foreign) | (1n << 40n))).toBeNull();
    expect(emulated(MOV_RAX_CR4)).toBe(true);
    expect(cr4()).toBe(0x660n);
    expect(emulate(MOV_RAX_CR4, 0n)).toBeNull();
    expect(cr4()).toBe(0x660n);
  });

  it("the guest keeps TSD, DE, FSGSBASE and OSXSAVE (its policy has TSC, DE, FSGSBASE, XSAVE)", () => {
    const { v, emulate, cr4 } = setup();
    for (const bit of [Cr4.TSD, Cr4.DE, Cr4.FSGSBASE, Cr4.OSXSAVE]) {
      expect(emulate(MOV_RAX_CR4, BigInt(0x660 | bit))).toBeNull();
      expect(cr4()).toBe(BigInt(0x660 | bit));
    }
    // The CPU runs with the host's OSXSAVE whatever the guest's view says.
    expect(emulate(MOV_RAX_CR4, 0x660n)).toBeNull();
    expect(v.cpu.cr4 & Cr4.OSXSAVE).toBe(Cr4.OSXSAVE);
  });

  it("pv_make_cr4 follows the guest's TSD and FSGSBASE only", () => {
    const host = 0x6e0 | Cr4.OSXSAVE;
    expect(pvMakeCr4(0)).toBe(host);
    expect(pvMakeCr4(Cr4.TSD | Cr4.DE)).toBe(host | Cr4.TSD);
    expect(pvMakeCr4(Cr4.FSGSBASE)).toBe(host | Cr4.FSGSBASE);
    expect(pvFixupGuestCr4(0xffffffff)).toBe(0x660 | Cr4.TSD | Cr4.DE | Cr4.FSGSBASE | Cr4.OSXSAVE);
  });

  it("CR4.FSGSBASE enables rdfsbase in the CPU; without it the instruction is #UD", () => {
    const { v, putCode, scratch } = setup();
    const at = scratch + 0x200n;
    putCode(at, [0xf3, 0x48, 0x0f, 0xae, 0xc0]); // rdfsbase %rax
    v.trapAddr[Vector.UD] = 0x102000n;
    v.cpu.setReg(Reg.RSP, scratch + 0x800n);
    v.cpu.rip = at;
    v.run(1);
    expect(v.cpu.rip).toBe(0x102000n);
    setGuestCr4(v, v.cr4 | Cr4.FSGSBASE);
    v.cpu.fsBase = 0x1234000n;
    v.cpu.rip = at;
    v.run(1);
    expect(v.cpu.rip).toBe(at + 5n);
    expect(v.cpu.getReg(Reg.RAX)).toBe(0x1234000n);
  });

  it("CR4.TSD: rdtsc faults in the CPU; Xen answers the guest kernel and gives guest user mode #GP(0)", () => {
    const { v, emulate, emulated, gp, scratch } = setup();
    expect(emulate(MOV_RAX_CR4, BigInt(0x660 | Cr4.TSD))).toBeNull();
    expect(v.cpu.cr4 & Cr4.TSD).toBe(Cr4.TSD);
    v.cpu.tscBase = 0x1_2345_6789;
    v.cpu.setReg(Reg.RDX, 0xffn);
    expect(gp([0x0f, 0x31])).toBeNull(); // rdtsc
    expect(emulated([0x0f, 0x31])).toBe(true);
    expect(v.cpu.getReg(Reg.RAX)).toBe(0x2345_6789n);
    expect(v.cpu.getReg(Reg.RDX)).toBe(1n);
    // rdtscp reads MSR_TSC_AUX first, which the policy withholds (no RDTSCP): #GP.
    expect(gp([0x0f, 0x01, 0xf9])).toBeNull();
    expect(v.cpu.rip).toBe(0x101000n);
    // Guest user mode: the #GP stands.
    v.guestTableUser = v.guestTable;
    v.kernelMode = false;
    v.kernelSp = scratch + 0x800n;
    expect(gp([0x0f, 0x31])).toBeNull();
    expect(v.kernelMode).toBe(true);
    expect(v.cpu.rip).toBe(0x101000n);
  });
});

describe("CR0", () => {
  it("reads as Xen's CR0 with the guest's TS; clts and a write of TS alone are taken", () => {
    const { v, emulate, emulated } = setup();
    expect(emulate(MOV_CR0_RBX)).toBeNull();
    expect(v.cpu.getReg(Reg.RBX)).toBe(BigInt(XEN_CR0));
    expect(emulate(MOV_RAX_CR0, BigInt((XEN_CR0 | 8) >>> 0))).toBeNull();
    expect(emulated(MOV_RAX_CR0)).toBe(true);
    expect(v.cr0Ts).toBe(true);
    expect(emulate(MOV_CR0_RBX)).toBeNull();
    expect(v.cpu.getReg(Reg.RBX)).toBe(BigInt((XEN_CR0 | 8) >>> 0));
    expect(emulate([0x0f, 0x06])).toBeNull(); // clts
    expect(emulated([0x0f, 0x06])).toBe(true);
    expect(v.cr0Ts).toBe(false);
  });

  it("a write changing any bit but TS is refused with #GP(0)", () => {
    const { v, emulate } = setup();
    for (const val of [(XEN_CR0 & ~0x10000) >>> 0, (XEN_CR0 | 0x4) >>> 0, 0, XEN_CR0 + 2 ** 32]) {
      expect(emulate(MOV_RAX_CR0, BigInt(val))).toBeNull();
      expect(v.cpu.rip, val.toString(16)).toBe(0x101000n);
    }
    expect(v.cr0Ts).toBe(false);
  });
});

describe("CR2, other control registers, guest user mode", () => {
  it("a CR2 write also lands in vcpu_info.arch.cr2", () => {
    const { v, emulate, emulated, machine } = setup();
    expect(emulate(MOV_RAX_CR2, 0xdead000n)).toBeNull();
    expect(emulated(MOV_RAX_CR2)).toBe(true);
    expect(v.cr2).toBe(0xdead000n);
    expect(machine.memory.view.getBigUint64(v.vcpuInfoAddr() + 16, true)).toBe(0xdead000n);
  });

  it("CR8, CR1 and CR5 are #GP(0), as is any mov %cr from guest user mode", () => {
    const { v, emulate, scratch } = setup();
    for (const code of [
      [0x44, 0x0f, 0x20, 0xc0], // mov %cr8, %rax
      [0x44, 0x0f, 0x22, 0xc0], // mov %rax, %cr8
      [0x0f, 0x20, 0xc8], // mov %cr1, %rax
      [0x0f, 0x22, 0xe8], // mov %rax, %cr5
    ]) {
      expect(emulate(code)).toBeNull();
      expect(v.cpu.rip, code.join(",")).toBe(0x101000n);
    }
    v.guestTableUser = v.guestTable;
    v.kernelMode = false;
    v.kernelSp = scratch + 0x800n;
    expect(emulate(MOV_CR0_RBX)).toBeNull();
    expect(v.kernelMode).toBe(true);
    expect(v.cpu.rip).toBe(0x101000n);
  });
});

describe("CPUID leaf 1 OSXSAVE for a PV guest (guest_cpuid)", () => {
  /** Runs `code` (ending in cpuid) in kernel mode and returns leaf 1's ecx. */
  function leaf1Ecx(code: number[], guestCr4: number): number {
    const d = bootedPvDomain();
    setGuestCr4(d.v, guestCr4);
    const at = d.scratch + 0x200n;
    d.putCode(at, [...code, 0x90]);
    d.v.cpu.rip = at;
    d.v.cpu.setReg(Reg.RAX, 1n);
    d.v.cpu.setReg(Reg.RCX, 0n);
    expect(d.v.run(1).message).toBe("");
    expect(d.v.cpu.rip).toBe(at + BigInt(code.length));
    return Number(d.v.cpu.getReg(Reg.RCX));
  }
  const CPUID = [0x0f, 0xa2];
  const FORCED = [0x0f, 0x0b, 0x78, 0x65, 0x6e, 0x0f, 0xa2]; // ud2; .ascii "xen"; cpuid
  const OSXSAVE = 1 << 27;

  it("follows the guest's CR4.OSXSAVE for a plain cpuid", () => {
    expect(leaf1Ecx(CPUID, 0) & OSXSAVE).toBe(0);
    expect(leaf1Ecx(CPUID, Cr4.OSXSAVE) & OSXSAVE).toBe(OSXSAVE);
  });

  it("leaks Xen's own OSXSAVE to the kernel's forced-emulation cpuid", () => {
    expect(leaf1Ecx(FORCED, 0) & OSXSAVE).toBe(OSXSAVE);
  });
});
