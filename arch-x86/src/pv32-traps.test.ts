/**
 * The segment state Xen's exits to a 32-bit PV guest leave: the iret hypercall and a trap
 * bounce end in Xen's iretq, which loads CS and SS from their descriptors (limits
 * included) and makes null the data segments the new ring may not use.
 */
import "reflect-metadata";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { bootInitialDomain, buildElf, createMachine, XenElfNote } from "@hvkit/core";
import { Reg, Seg, Vector, X86ExitReason } from "./cpu-api.js";
import { X86PvPlugin } from "./pv32-plugin.js";
import { compatIret, createBounceFrame32, Pv32Selector } from "./pv32-traps.js";

const BASE = 0x100000;
/** Guest GDT page (virtual) and the user selectors in it. */
const GDT_VA = 0x102000;
const USER_CS = (1 << 3) | 3; // 32-bit code, DPL 3, 2 GiB
const USER_SS = (2 << 3) | 3; // writable data, DPL 3, 2 GiB

function boot(code: number[]) {
  const img = new Uint8Array(0x3000);
  img.set(code, 0);
  const image = buildElf({
    elfClass: 32,
    machine: 3,
    entry: BASE,
    segments: [{ vaddr: BASE, data: img, align: 4096 }],
    xenNotes: [
      { type: XenElfNote.GUEST_OS, value: "hvkit-test" },
      { type: XenElfNote.XEN_VERSION, value: "xen-3.0" },
      { type: XenElfNote.LOADER, value: "generic" },
      { type: XenElfNote.ENTRY, value: BASE },
      { type: XenElfNote.HYPERCALL_PAGE, value: BASE + 0x1000 },
      { type: XenElfNote.PAE_MODE, value: "yes" },
    ],
  });
  const machine = createMachine(container.createChildContainer(), {
    arch: new X86PvPlugin(),
    memoryMiB: 32,
  });
  const domain = bootInitialDomain(machine, image, {});
  const v = domain.vcpus[0].arch;
  const mem = machine.memory;
  // The guest's GDT: 2 GiB code and data segments of DPL 3 (as XTF's memop-seg builds).
  const gdt = v.translate(BigInt(GDT_VA), false);
  mem.write32(gdt + 8, 0x0000ffff);
  mem.write32(gdt + 12, 0x00c7fa00);
  mem.write32(gdt + 16, 0x0000ffff);
  mem.write32(gdt + 20, 0x00c7f200);
  v.gdtFrames = [gdt >>> 12];
  v.gdtEntries = 512;
  v.loadDescriptorTables();
  // Ring 3 may run the code page and use the stack page (the builder's COMPAT_L1_PROT has
  // no _PAGE_USER): set it in their L2 and L1 entries, as a guest's update_va_mapping would.
  const stack = Number(domain.arch.layout!.vStack) + 4096;
  const user = (va: number): void => {
    const l3 = v.guestTable * 4096 + (va >>> 30) * 8;
    const l2 = Math.floor(mem.read32(l3) / 4096) * 4096 + ((va >>> 21) & 511) * 8;
    mem.write32(l2, mem.read32(l2) | 4);
    const l1 = Math.floor(mem.read32(l2) / 4096) * 4096 + ((va >>> 12) & 511) * 8;
    mem.write32(l1, mem.read32(l1) | 4);
  };
  user(BASE);
  user(stack - 4096);
  v.cpu.flushTlb();
  const put = (va: number, value: number): void =>
    mem.write32(v.translate(BigInt(va >>> 0), true), value);
  return { v, stack, put };
}

describe("x86 (PV32) exits to the guest", () => {
  it("the iret hypercall to ring 3 loads SS's limit (#SS beyond it) and nulls ring-1 data segments", () => {
    // Ring 1: mov %ax,%ds; mov %cx,%es. At the user eip: movb $0,(%ebp)
    const { v, stack, put } = boot([0x8e, 0xd8, 0x8e, 0xc1, 0xc6, 0x45, 0x00, 0x00]);
    const cpu = v.cpu;
    cpu.setReg(Reg.RAX, BigInt(Pv32Selector.KERNEL_DS));
    cpu.setReg(Reg.RCX, BigInt(Pv32Selector.USER_DS));
    expect(cpu.run(2)).toBe(X86ExitReason.Budget);
    expect(cpu.sel[Seg.DS]).toBe(Pv32Selector.KERNEL_DS);
    // The frame HYPERVISOR_iret pops: eax, eip, cs, eflags, esp, ss.
    const sp = stack - 24;
    [7, BASE + 4, USER_CS, 0x202, stack - 64, USER_SS].forEach((w, i) => put(sp + 4 * i, w));
    cpu.setReg(Reg.RSP, BigInt(sp));
    expect(compatIret(v)).toBe(7);
    expect(cpu.cpl).toBe(3);
    expect(cpu.sel[Seg.SS]).toBe(USER_SS);
    expect(cpu.sel[Seg.DS]).toBe(0); // DPL 1 < CPL 3
    expect(cpu.sel[Seg.ES]).toBe(Pv32Selector.USER_DS);
    cpu.setReg(Reg.RBP, 0xc0000000n);
    expect(cpu.run(1)).toBe(X86ExitReason.Exception);
    expect([cpu.exit.vector, cpu.exit.errorCode]).toEqual([Vector.SS, 0]);
    // Within the limit the store goes through.
    cpu.rip = BigInt(BASE + 4);
    cpu.setReg(Reg.RBP, BigInt(stack - 128));
    expect(cpu.run(1)).toBe(X86ExitReason.Budget);
  });

  it("a bounce to ring 1 loads the kernel's flat SS: the user SS's limit no longer applies", () => {
    const { v, stack, put } = boot([0xc6, 0x45, 0x00, 0x00]);
    const cpu = v.cpu;
    const sp = stack - 24;
    [0, BASE, USER_CS, 0x202, stack - 64, USER_SS].forEach((w, i) => put(sp + 4 * i, w));
    cpu.setReg(Reg.RSP, BigInt(sp));
    compatIret(v);
    v.kernelSp = stack;
    v.kernelSs = Pv32Selector.KERNEL_DS;
    expect(createBounceFrame32(v, Pv32Selector.KERNEL_CS, BASE, -1, false)).toBeNull();
    expect(cpu.cpl).toBe(1);
    expect(cpu.sel[Seg.SS]).toBe(Pv32Selector.KERNEL_DS);
    // (%ebp) at 3 GiB is now a page fault (nothing mapped there), not #SS.
    cpu.setReg(Reg.RBP, 0xc0000000n);
    expect(cpu.run(1)).toBe(X86ExitReason.Exception);
    expect(cpu.exit.vector).toBe(Vector.PF);
  });
});
