/**
 * The segment state Xen's exits to a 32-bit PV guest leave: the iret hypercall and a trap
 * bounce end in Xen's iretq, which loads CS and SS from their descriptors (limits
 * included) and makes null the data segments the new ring may not use. Call gates in the
 * guest's GDT, emulated on the #GP they raise (pv-gate-op.ts): a call to ring 1 with its
 * stack switch and parameters, a jmp at the same level, and the faults Xen gives.
 */
import "reflect-metadata";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { bootInitialDomain, buildElf, createMachine, XenElfNote } from "@hvkit/core";
import { Reg, Seg, Vector, X86ExitReason } from "./cpu-api.js";
import { X86PvPlugin } from "./pv32-plugin.js";
import { emulateGateOp } from "./pv-gate-op.js";
import { checkDescriptor } from "./pv-mmu.js";
import { compatIret, createBounceFrame32, handleException32, Pv32Selector } from "./pv32-traps.js";

const BASE = 0x100000;
/** Guest GDT page (virtual) and the user selectors in it. */
const GDT_VA = 0x102000;
const USER_CS = (1 << 3) | 3; // 32-bit code, DPL 3, 2 GiB
const USER_SS = (2 << 3) | 3; // writable data, DPL 3, 2 GiB

/**
 * A call gate as the guest writes it (to `target`:`offset`, DPL `dpl`, `nparm` words,
 * present or not), stored as check_descriptor leaves it for a 32-bit guest.
 */
function gate(target: number, offset: number, dpl: number, nparm: number, present = true) {
  const d = checkDescriptor(
    ((target << 16) | (offset & 0xffff)) >>> 0,
    ((offset & 0xffff0000) | (present ? 0x8000 : 0) | (dpl << 13) | 0x0c00 | nparm) >>> 0,
    { pv32: true },
  );
  if (d === null) throw new Error("gate refused");
  return d;
}

function boot(code: number[], extra: { slot: number; lo: number; hi: number }[] = []) {
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
  for (const e of extra) {
    mem.write32(gdt + e.slot * 8, e.lo);
    mem.write32(gdt + e.slot * 8 + 4, e.hi);
  }
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
  /** The iret hypercall to ring 3 at `eip` with esp `esp` (USER_CS, USER_SS). */
  const enterUser = (eip: number, esp: number): void => {
    const sp = stack - 24;
    [0, eip, USER_CS, 0x202, esp, USER_SS].forEach((w, i) => put(sp + 4 * i, w));
    v.cpu.setReg(Reg.RSP, BigInt(sp));
    compatIret(v);
  };
  const get = (va: number): number => mem.read32(v.translate(BigInt(va >>> 0), false));
  return { v, stack, put, get, enterUser };
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

  it("an iret frame the iretq would refuse becomes the guest's own fault at that cs:eip", () => {
    // Slot 3 (0x1b): writable data of DPL 3, not present.
    const absent = { slot: 3, lo: 0x0000ffff, hi: 0x00c77200 };
    /** The iret hypercall to cs:eip with ss: [handler reached, error code], checking the frame. */
    const iretTo = (cs: number, ss: number, eip = BASE): number[] => {
      const { v, stack, put, get } = boot([0xf4], [absent]);
      for (const vec of [Vector.GP, Vector.SS]) {
        v.trapAddr[vec] = BASE + 0x10 * vec;
        v.trapCs[vec] = Pv32Selector.KERNEL_CS;
      }
      v.kernelSp = stack;
      v.kernelSs = Pv32Selector.KERNEL_DS;
      const sp = stack - 0x100;
      [5, eip, cs, 0x202, stack - 0x400, ss].forEach((w, i) => put(sp + 4 * i, w));
      v.cpu.setReg(Reg.RSP, BigInt(sp));
      expect(compatIret(v)).toBe(5);
      expect(v.cpu.cpl).toBe(1);
      const esp = v.cpu.getReg32(Reg.RSP);
      expect(esp).toBe(stack - 24);
      // error code, eip, cs, eflags, esp, ss: the refused frame as the interrupted context
      const frame = [4, 8, 16, 20].map((o) => get(esp + o));
      expect(frame).toEqual([eip, cs, stack - 0x400, ss]);
      return [Number(v.cpu.rip) - BASE, get(esp)];
    };
    expect(iretTo(USER_SS, USER_SS)).toEqual([0xd0, USER_SS & ~3]); // cs not code: #GP(cs)
    expect(iretTo(USER_CS, 0x1b)).toEqual([0xc0, 0x18]); // ss not present: #SS(ss)
    expect(iretTo(USER_CS, 3)).toEqual([0xd0, 0]); // null ss: #GP(0)
    expect(iretTo(USER_CS, USER_SS, 0x80000000)).toEqual([0xd0, 0]); // past CS's limit
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

describe("x86 (PV32) call gates as Xen emulates them", () => {
  const HANDLER = BASE + 0x100;
  const TARGET = BASE + 0x200;
  // Slot 3 (0x18): to FLAT_RING1_CS with 2 parameters; slot 4 (0x20): to USER_CS; slot 5
  // (0x28): a gate the guest gave DPL 0 (so DPL 1); slot 6 (0x30): not present, which
  // check_descriptor leaves as written, so its DPL field must be 0 and the selector's RPL
  // says 3; slot 7 (0x38): to a not-present code segment in slot 8.
  const gates = [
    { slot: 3, ...gate(Pv32Selector.KERNEL_CS, HANDLER, 3, 2) },
    { slot: 4, ...gate(USER_CS, TARGET, 3, 0) },
    { slot: 5, ...gate(Pv32Selector.KERNEL_CS, HANDLER, 0, 0) },
    { slot: 6, ...gate(Pv32Selector.KERNEL_CS | 3, HANDLER, 0, 0, false) },
    { slot: 7, ...gate(0x43, HANDLER, 3, 0) },
    { slot: 8, lo: 0x0000ffff, hi: 0x00cf7a00 },
  ];
  /** lcall $sel,$0 (9a) or ljmp $sel,$0 (ea). */
  const far = (opcode: number, sel: number): number[] => [opcode, 0, 0, 0, 0, sel, 0];

  it("keeps gates with DPL 0 and the guest's DPL in the target selector's RPL", () => {
    expect(gates[0].hi & 0x6000).toBe(0);
    expect((gates[0].lo >>> 16) & 3).toBe(3);
    expect((gates[2].lo >>> 16) & 3).toBe(1); // DPL 0 raised to the kernel's ring
  });

  it("lcall from ring 3 enters ring 1 on the stack_switch stack with ss, esp, parameters, cs, eip", () => {
    const { v, stack, put, get, enterUser } = boot(far(0x9a, 0x1b), gates);
    const cpu = v.cpu;
    const userEsp = stack - 0x400;
    put(userEsp, 0x1111);
    put(userEsp + 4, 0x2222);
    enterUser(BASE, userEsp);
    v.kernelSp = stack;
    v.kernelSs = Pv32Selector.KERNEL_DS;
    expect(cpu.run(1)).toBe(X86ExitReason.Exception);
    expect([cpu.exit.vector, cpu.exit.errorCode]).toEqual([Vector.GP, 0x18]);
    expect(handleException32(v)).toBeNull();
    expect(cpu.cpl).toBe(1);
    expect(v.kernelMode).toBe(true);
    expect(cpu.sel[Seg.CS]).toBe(Pv32Selector.KERNEL_CS);
    expect(cpu.sel[Seg.SS]).toBe(Pv32Selector.KERNEL_DS);
    expect(cpu.rip).toBe(BigInt(HANDLER));
    const esp = cpu.getReg32(Reg.RSP);
    expect(esp).toBe(stack - 24);
    expect([0, 4, 8, 12, 16, 20].map((o) => get(esp + o))).toEqual([
      BASE + 7,
      USER_CS,
      0x1111,
      0x2222,
      userEsp,
      USER_SS,
    ]);
  });

  it("lcall *(%ebx) reads the gate selector after the 32-bit offset through DS", () => {
    const { v, stack, put, get, enterUser } = boot([0xff, 0x1b], gates);
    const cpu = v.cpu;
    put(stack - 0x300, 0xdeadbeef); // the offset is ignored through a gate
    put(stack - 0x2fc, 0x23);
    cpu.setReg(Reg.RBX, BigInt(stack - 0x300));
    enterUser(BASE, stack - 0x400);
    expect(cpu.run(1)).toBe(X86ExitReason.Exception);
    expect(handleException32(v)).toBeNull();
    expect(cpu.rip).toBe(BigInt(TARGET));
    expect(get(stack - 0x408)).toBe(BASE + 2);
    // The same instruction naming another gate than the one that faulted: #GP(gate).
    put(stack - 0x2fc, 0x1b);
    enterUser(BASE, stack - 0x400);
    cpu.run(1);
    expect(emulateGateOp(v, 0x20)).toEqual({ vector: Vector.GP, errorCode: 0x20, cr2: 0 });
  });

  it("ljmp through a gate to ring 3 code stays in ring 3 on the same stack", () => {
    const { v, stack, enterUser } = boot(far(0xea, 0x23), gates);
    const cpu = v.cpu;
    enterUser(BASE, stack - 0x400);
    expect(cpu.run(1)).toBe(X86ExitReason.Exception);
    expect(handleException32(v)).toBeNull();
    expect(cpu.cpl).toBe(3);
    expect(cpu.sel[Seg.CS]).toBe(USER_CS);
    expect(cpu.rip).toBe(BigInt(TARGET));
    expect(cpu.getReg32(Reg.RSP)).toBe(stack - 0x400);
  });

  it("lcall through a gate at the same level pushes cs and eip on the caller's stack", () => {
    const { v, stack, get, enterUser } = boot(far(0x9a, 0x23), gates);
    const cpu = v.cpu;
    enterUser(BASE, stack - 0x400);
    cpu.run(1);
    expect(handleException32(v)).toBeNull();
    expect(cpu.rip).toBe(BigInt(TARGET));
    expect(cpu.getReg32(Reg.RSP)).toBe(stack - 0x408);
    expect([get(stack - 0x408), get(stack - 0x404)]).toEqual([BASE + 7, USER_CS]);
  });

  it("gives the faults Xen gives: gate DPL below CPL #GP(gate), absent gate #NP(gate), absent target #NP(target)", () => {
    const faultOf = (sel: number) => {
      const { v, stack, enterUser } = boot(far(0x9a, sel), gates);
      enterUser(BASE, stack - 0x400);
      v.kernelSp = stack;
      expect(v.cpu.run(1)).toBe(X86ExitReason.Exception);
      const f = emulateGateOp(v, v.cpu.exit.errorCode);
      expect(v.cpu.cpl).toBe(3); // nothing transferred
      return f === null ? null : [f.vector, f.errorCode];
    };
    expect(faultOf(0x2b)).toEqual([Vector.GP, 0x28]);
    expect(faultOf(0x33)).toEqual([Vector.NP, 0x30]);
    expect(faultOf(0x3b)).toEqual([Vector.NP, 0x40]);
    // The selector in the instruction must name the gate that faulted.
    const { v, stack, enterUser } = boot(far(0x9a, 0x1b), gates);
    enterUser(BASE, stack - 0x400);
    expect(emulateGateOp(v, 0x20)).toEqual({ vector: Vector.GP, errorCode: 0x20, cr2: 0 });
  });

  it("a kernel stack not writable data of the gate's ring is #TS(ss)", () => {
    const { v, stack, enterUser } = boot(far(0x9a, 0x1b), gates);
    enterUser(BASE, stack - 0x400);
    v.kernelSp = stack;
    v.kernelSs = Pv32Selector.KERNEL_CS;
    v.cpu.run(1);
    expect(emulateGateOp(v, 0x18)).toEqual({
      vector: Vector.TS,
      errorCode: Pv32Selector.KERNEL_CS & ~3,
      cr2: 0,
    });
  });
});

describe("x86 (PV32) syscall and sysenter (compat_syscall, compat_sysenter)", () => {
  /** Ring 3 at BASE running `code`, ring-1 stack set; the frame words at the kernel's esp. */
  function fromUser(code: number[]) {
    const b = boot(code);
    b.v.kernelSp = b.stack;
    b.v.kernelSs = Pv32Selector.KERNEL_DS;
    b.v.trapAddr[Vector.GP] = BASE + 0xd0;
    b.v.trapCs[Vector.GP] = Pv32Selector.KERNEL_CS;
    b.enterUser(BASE, b.stack - 64);
    const frame = (n: number): number[] => {
      const esp = b.v.cpu.getReg32(Reg.RSP);
      return Array.from({ length: n }, (_, i) => b.get(esp + 4 * i));
    };
    return { ...b, frame };
  }

  it("sysenter bounces to the sysenter callback with eip 0, cs 3, esp 0 and the compat user SS", () => {
    const { v, stack, frame } = fromUser([0x0f, 0x34]);
    v.sysenterCs = Pv32Selector.KERNEL_CS;
    v.sysenterEip = BASE + 0x40;
    v.sysenterMasksEvents = true;
    expect(v.cpu.run(1)).toBe(X86ExitReason.Sysenter);
    v.onSysenter();
    expect([Number(v.cpu.rip), v.cpu.cpl, v.upcallMask]).toEqual([BASE + 0x40, 1, 1]);
    expect(v.cpu.getReg32(Reg.RSP)).toBe(stack - 20);
    const [eip, cs, , esp, ss] = frame(5);
    expect([eip, cs & 0xffff, esp, ss]).toEqual([0, 3, 0, Pv32Selector.USER_DS]);
  });

  it("sysenter with no callback address is #GP(0) to the guest's handler", () => {
    const { v, frame } = fromUser([0x0f, 0x34]);
    expect(v.cpu.run(1)).toBe(X86ExitReason.Sysenter);
    v.onSysenter();
    expect(Number(v.cpu.rip)).toBe(BASE + 0xd0);
    expect(frame(3)).toEqual([0, 0, 3]); // error code, eip 0, cs 3
  });

  it("syscall (a processor that runs it outside 64-bit mode) bounces to syscall32 with the compat user CS/SS", () => {
    const { v, stack, frame } = fromUser([0x0f, 0x05]);
    v.cpu.syscallInCompat = true;
    v.syscall32Cs = Pv32Selector.KERNEL_CS;
    v.syscall32Eip = BASE + 0x80;
    expect(v.cpu.run(1)).toBe(X86ExitReason.Syscall);
    v.onSyscall();
    expect([Number(v.cpu.rip), v.cpu.cpl, v.upcallMask]).toEqual([BASE + 0x80, 1, 0]);
    expect(v.cpu.getReg32(Reg.RSP)).toBe(stack - 20);
    const [eip, cs, , esp, ss] = frame(5);
    expect([eip, cs & 0xffff, esp, ss]).toEqual([
      BASE + 2,
      Pv32Selector.USER_CS,
      stack - 64,
      Pv32Selector.USER_DS,
    ]);
  });

  it("syscall with a null syscall32 selector is #GP(0) at the syscall itself", () => {
    const { v, frame } = fromUser([0x0f, 0x05]);
    v.cpu.syscallInCompat = true;
    expect(v.cpu.run(1)).toBe(X86ExitReason.Syscall);
    v.onSyscall();
    expect(Number(v.cpu.rip)).toBe(BASE + 0xd0);
    expect(frame(2)).toEqual([0, BASE]);
  });
});
