/**
 * Exceptions, software interrupts and event upcalls of 32-bit PAE PV guests, as Xen
 * delivers them to a compat guest: compat_create_bounce_frame (x86_64/compat/entry.S)
 * writes a 32-bit frame on the ring-1 stack — error code (if any), eip, cs with the saved
 * upcall mask in bits 16–23, eflags with the virtual IF, and esp, ss when the guest was in
 * ring 3 (the frame then goes on the stack_switch stack) — and enters the handler the trap
 * table names; compat_iret (pv/iret.c) undoes it. `int $0x82` from ring 1 is the
 * hypercall (the vCPU's job); from ring 3 it is a #GP, its gate's DPL being 1.
 *
 * Functions return null on success, or a message when the domain must crash.
 *
 * @module
 */
import { ShutdownReason, VmAssistType } from "@hvkit/core";
import { PfErr, Reg, Seg, Vector } from "./cpu-api.js";
import type { Pv32Vcpu } from "./pv32-vcpu.js";
import { emulateGateOp } from "./pv-gate-op.js";
import { emulateIoplOp, type PvIoAccess } from "./pv-priv-op.js";
import { readCr, writeCr } from "./pv-ctrlreg.js";
import { emulateMovDr } from "./pv-debugreg.js";
import { emulatePtWrite } from "./pv-ptwr.js";
import { currentTsc, readMsr, writeMsr } from "./pv-msr.js";

/** Flat selectors of 32-bit PV guests (xen-x86_32.h). */
export const Pv32Selector = {
  /** FLAT_RING1_CS: kernel code. */
  KERNEL_CS: 0xe019,
  /** FLAT_RING1_DS / FLAT_RING1_SS: kernel data and stack. */
  KERNEL_DS: 0xe021,
  /** FLAT_RING3_CS: user code. */
  USER_CS: 0xe02b,
  /** FLAT_RING3_DS / FLAT_RING3_SS: user data and stack. */
  USER_DS: 0xe033,
} as const;

/** The hypercall vector of compat guests (its IDT gate has DPL 1). */
export const HYPERCALL_VECTOR = 0x82;

/** EFLAGS bits the compat layer touches. */
const Eflags = {
  MBS: 0x2,
  TF: 0x100,
  IF: 0x200,
  IOPL: 0x3000,
  NT: 0x4000,
  RF: 0x10000,
  VM: 0x20000,
};
/** Vectors whose hardware exceptions push an error code (X86_EXC_HAVE_EC). */
const HAVE_EC =
  (1 << 8) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 17) | (1 << 21);
/** Trap-info flag: mask events on entry (TI_GET_IF). */
const TI_MASK_EVENTS = 4;

function writeGuest32(v: Pv32Vcpu, va: number, value: number): boolean {
  const pa = v.translate(BigInt(va >>> 0), true);
  if (pa < 0 || (pa & 4095) > 4092) {
    for (let i = 0; i < 4; i++) {
      const p = v.translate(BigInt((va + i) >>> 0), true);
      if (p < 0) return false;
      v.machine.memory.bytes[p] = (value >>> (8 * i)) & 0xff;
      v.cpu.invalidateCode(p, 1);
    }
    return true;
  }
  v.machine.memory.view.setUint32(pa, value >>> 0, true);
  v.cpu.invalidateCode(pa, 4);
  return true;
}

function readGuest32(v: Pv32Vcpu, va: number): number | null {
  let r = 0;
  for (let i = 3; i >= 0; i--) {
    const p = v.translate(BigInt((va + i) >>> 0), false);
    if (p < 0) return null;
    r = (r << 8) | v.machine.memory.bytes[p];
  }
  return r >>> 0;
}

/**
 * compat_create_bounce_frame: pushes the frame and enters `cs:eip`. `errorCode` < 0
 * means none; `maskEvents` (TBF_INTERRUPT) sets the upcall mask.
 */
export function createBounceFrame32(
  v: Pv32Vcpu,
  cs: number,
  eip: number,
  errorCode: number,
  maskEvents: boolean,
): string | null {
  const cpu = v.cpu;
  const oldCs = cpu.sel[Seg.CS];
  const oldEsp = cpu.getReg32(Reg.RSP);
  let esp: number;
  let ss: number;
  const fromUser = (oldCs & 2) !== 0;
  if (fromUser) {
    esp = (v.kernelSp - 8) | 0;
    ss = v.kernelSs;
    if (!writeGuest32(v, esp, oldEsp) || !writeGuest32(v, esp + 4, cpu.sel[Seg.SS]))
      return `fault writing the bounce frame at ${(esp >>> 0).toString(16)}`;
  } else {
    esp = oldEsp;
    ss = cpu.sel[Seg.SS];
  }
  esp = (esp - 12) | 0;
  const saved = v.upcallMask;
  if (maskEvents) v.upcallMask = 1;
  let eflags = cpu.rflags & ~(Eflags.IF | Eflags.IOPL);
  if (!saved) eflags |= Eflags.IF;
  if (v.domain.hasVmAssist(VmAssistType.architectural_iopl)) eflags |= v.iopl;
  if (
    !writeGuest32(v, esp + 4, (oldCs | (saved << 16)) >>> 0) ||
    !writeGuest32(v, esp + 8, eflags >>> 0) ||
    !writeGuest32(v, esp, Number(cpu.rip & 0xffffffffn))
  )
    return `fault writing the bounce frame at ${(esp >>> 0).toString(16)}`;
  if (errorCode >= 0) {
    esp = (esp - 4) | 0;
    if (!writeGuest32(v, esp, errorCode >>> 0))
      return `fault writing the bounce frame at ${(esp >>> 0).toString(16)}`;
  }
  // Null selectors (0–3) are not allowed (compat_bounce_null_selector).
  if ((cs & ~3) === 0) return "bounce to a null code selector";
  cpu.rflags = (cpu.rflags & ~(Eflags.VM | Eflags.RF | Eflags.NT | Eflags.TF)) >>> 0;
  // Xen enters the handler with iretq: CS and SS loaded from their descriptors (base,
  // limit, code size, stack width), data segments the new ring may not use made null.
  cpu.returnToOuterLevel(cs, ss);
  v.kernelMode = cpu.cpl !== 3;
  cpu.setReg(Reg.RSP, BigInt(esp >>> 0));
  cpu.rip = BigInt(eip >>> 0);
  return null;
}

/**
 * pv_inject_event for a hardware exception or software interrupt `vector` (`errorCode`
 * < 0 for none). A vector with no handler crashes the domain, as Xen's null_trap_bounce.
 */
export function injectEvent32(v: Pv32Vcpu, vector: number, errorCode: number): string | null {
  const eip = v.trapAddr[vector];
  if (eip === 0) {
    const ec = errorCode >= 0 ? `[${errorCode.toString(16).padStart(4, "0")}]` : "";
    const extra = vector === Vector.PF ? ` at ${v.cr2.toString(16)}` : "";
    return `Unhandled: vec ${vector}${ec}${extra}`;
  }
  const mask = (v.trapFlags[vector] & TI_MASK_EVENTS) !== 0;
  return createBounceFrame32(v, v.trapCs[vector], eip, errorCode, mask);
}

/**
 * A `syscall` from a 32-bit PV guest: Xen's compat_syscall (x86_64/compat/entry.S). The
 * frame reports FLAT_COMPAT_USER_CS/SS whatever the guest had loaded, and the bounce goes
 * to the CALLBACKTYPE_syscall32 cs:eip, events masked when it was registered with
 * CALLBACKF_mask_events. With a null syscall32 selector the guest's #GP handler gets
 * error code 0 at the `syscall` itself (eip less its 2 bytes).
 */
export function bounceSyscall32(v: Pv32Vcpu): string | null {
  const cpu = v.cpu;
  cpu.sel[Seg.CS] = Pv32Selector.USER_CS;
  cpu.sel[Seg.SS] = Pv32Selector.USER_DS;
  if ((v.syscall32Cs & ~3) === 0) {
    cpu.rip -= 2n;
    return injectEvent32(v, Vector.GP, 0);
  }
  return createBounceFrame32(v, v.syscall32Cs, v.syscall32Eip, -1, v.syscall32MasksEvents);
}

/**
 * A `sysenter` from a 32-bit PV guest: Xen's sysenter_entry then compat_sysenter. The
 * hardware leaves no return address, so the frame holds eip 0, a null ring-3 CS (3), esp 0
 * and FLAT_COMPAT_USER_SS; NT, RF and VM are cleared. The bounce goes to the
 * CALLBACKTYPE_sysenter address with its selector (the #GP trap's selector when that is
 * null), events masked as registered; with no sysenter address, the guest's #GP handler
 * gets error code 0 at that frame.
 */
export function bounceSysenter32(v: Pv32Vcpu): string | null {
  const cpu = v.cpu;
  cpu.rflags = (cpu.rflags & ~(Eflags.NT | Eflags.RF | Eflags.VM)) >>> 0;
  cpu.sel[Seg.CS] = 3;
  cpu.sel[Seg.SS] = Pv32Selector.USER_DS;
  cpu.rip = 0n;
  cpu.setReg(Reg.RSP, 0n);
  if (v.sysenterEip === 0) return injectEvent32(v, Vector.GP, 0);
  const cs = (v.sysenterCs & ~3) !== 0 ? v.sysenterCs : v.trapCs[Vector.GP];
  return createBounceFrame32(v, cs, v.sysenterEip, -1, v.sysenterMasksEvents);
}

/** A #PF at `va`: CR2 and the compat vcpu_info's arch.cr2 are set, then the bounce. */
function injectPageFault32(v: Pv32Vcpu, va: number, errorCode: number): string | null {
  v.cr2 = va >>> 0;
  const vi = v.vcpuInfoAddr();
  if (vi >= 0) v.machine.memory.view.setUint32(vi + v.cr2Offset, v.cr2, true);
  return injectEvent32(v, Vector.PF, errorCode);
}

/** The last `in`/`out` emulated. */
const io: PvIoAccess = { port: -1, bytes: 0 };

/**
 * The guest kernel's `clts`, `mov` from/to %crN (pv/emul-priv-op.c read_cr / write_cr,
 * shared in pv-ctrlreg.ts), rdmsr/wrmsr (read_msr / write_msr, pv-msr.ts), `rdtsc` under
 * its CR4.TSD, and wbinvd, in 32-bit code. Returns true when emulated (eip advanced);
 * false leaves the #GP(0) to the guest, as for a register or value Xen refuses.
 */
function emulateCr(v: Pv32Vcpu): boolean {
  if (!v.kernelMode) return false;
  const cpu = v.cpu;
  const mem = v.machine.memory.bytes;
  const byteAt = (i: number): number => {
    const pa = cpu.translate(cpu.rip + BigInt(i), false, false);
    return pa < 0 ? -1 : mem[pa];
  };
  if (byteAt(0) !== 0x0f) return false;
  const op = byteAt(1);
  if (op === 0x06) {
    v.cr0Ts = false; // clts
    cpu.rip += 2n;
    return true;
  }
  switch (op) {
    case 0x09: // wbinvd: ignored for a domain that may not flush caches
      cpu.rip += 2n;
      return true;
    case 0x31: {
      // rdtsc, faulting under the guest's CR4.TSD: answered for the kernel
      const tsc = currentTsc(v);
      cpu.setReg(Reg.RAX, tsc & 0xffffffffn);
      cpu.setReg(Reg.RDX, (tsc >> 32n) & 0xffffffffn);
      cpu.rip += 2n;
      return true;
    }
    case 0x32: {
      // rdmsr (read_msr)
      const val = readMsr(v, cpu.getReg32(Reg.RCX));
      if (val === null) return false;
      cpu.setReg(Reg.RAX, val & 0xffffffffn);
      cpu.setReg(Reg.RDX, (val >> 32n) & 0xffffffffn);
      cpu.rip += 2n;
      return true;
    }
    case 0x30: {
      // wrmsr (write_msr)
      const val = (BigInt(cpu.getReg32(Reg.RDX)) << 32n) | BigInt(cpu.getReg32(Reg.RAX));
      if (!writeMsr(v, cpu.getReg32(Reg.RCX), val)) return false;
      cpu.rip += 2n;
      return true;
    }
  }
  if (op !== 0x20 && op !== 0x22) return false;
  const modrm = byteAt(2);
  if (modrm < 0) return false;
  const cr = (modrm >> 3) & 7;
  const reg = (modrm & 7) as Reg;
  if (op === 0x20) {
    const val = readCr(v, cr);
    if (val === null) return false;
    cpu.setReg(reg, val & 0xffffffffn);
  } else if (!writeCr(v, cr, BigInt(cpu.getReg32(reg)))) return false;
  cpu.rip += 3n;
  return true;
}

/** Handles an Exception exit of the CPU that is not the hypercall. */
export function handleException32(v: Pv32Vcpu): string | null {
  const x = v.cpu.exit;
  const vector = x.vector;
  if (x.software) {
    if (vector === Vector.BP || vector === Vector.OF) return injectEvent32(v, vector, -1);
    // permit_softint: the gate's DPL must be at least the ring the guest is in.
    const dpl = v.trapFlags[vector] & 3;
    if (vector !== HYPERCALL_VECTOR && dpl >= v.cpu.cpl && v.trapAddr[vector] !== 0)
      return injectEvent32(v, vector, -1);
    v.cpu.rip -= BigInt(x.instructionLength);
    return injectEvent32(v, Vector.GP, (vector << 3) | 2);
  }
  // do_general_protection: a 32-bit vCPU's #GP naming a selector goes to the call-gate
  // emulation (pv-gate-op.ts), which delivers #GP(selector) itself for anything else.
  if (vector === Vector.GP && x.errorCode > 0 && (x.errorCode & 2) === 0) {
    const f = emulateGateOp(v, x.errorCode);
    if (f === null) return null;
    if (f.vector === Vector.PF) return injectPageFault32(v, f.cr2, f.errorCode);
    return injectEvent32(v, f.vector, f.errorCode);
  }
  // The privileged-op emulator: debug and control registers from the kernel, cli/sti/in/out
  // under the virtual IOPL.
  if (vector === Vector.GP && x.errorCode === 0) {
    if (v.kernelMode) {
      const cpu = v.cpu;
      const dr = emulateMovDr(v, (i) => {
        const pa = cpu.translate(cpu.rip + BigInt(i), false, false);
        return pa < 0 ? -1 : v.machine.memory.bytes[pa];
      });
      if (dr === 0) return null;
      if (dr > 0) return injectEvent32(v, dr, dr === Vector.GP ? 0 : -1);
    }
    if (emulateIoplOp(v, io) || emulateCr(v)) return null;
  }
  // Writable page tables: a store to a read-only mapping of the guest's own L1 table.
  if (
    vector === Vector.PF &&
    (x.errorCode & (PfErr.P | PfErr.W | PfErr.RSVD | PfErr.I)) === (PfErr.P | PfErr.W) &&
    emulatePtWrite(v, x.cr2)
  )
    return null;
  if (vector === Vector.PF) return injectPageFault32(v, Number(x.cr2 & 0xffffffffn), x.errorCode);
  const hasEc = vector < 32 && (HAVE_EC & (1 << vector)) !== 0;
  return injectEvent32(v, vector, hasEc ? (x.errorCode < 0 ? 0 : x.errorCode) : -1);
}

/**
 * compat_iret (HYPERVISOR_iret): pops eax, eip, cs, eflags (and esp, ss for a return to
 * ring 2/3) from the guest stack; the upcall mask follows the popped IF. Returns the value
 * for eax, or crashes the domain on an unreadable frame, a return to ring 0 or to vm86.
 */
export function compatIret(v: Pv32Vcpu): number {
  const cpu = v.cpu;
  const esp = cpu.getReg32(Reg.RSP);
  const crash = (why: string): number => {
    v.machine.shutdownDomain(
      v.domain,
      ShutdownReason.Crash,
      `d${v.domain.id}v${v.vcpu.id}: ${why}`,
    );
    return 0;
  };
  const f: number[] = [];
  for (let i = 0; i < 4; i++) {
    const w = readGuest32(v, esp + 4 * i);
    if (w === null) return crash(`fault reading the IRET frame at ${(esp >>> 0).toString(16)}`);
    f.push(w);
  }
  const [eax, eip, cs, eflags] = f;
  if (v.domain.hasVmAssist(VmAssistType.architectural_iopl)) v.iopl = eflags & Eflags.IOPL;
  if (eflags & Eflags.VM) return crash("IRET to vm86 mode (unavailable)");
  if ((cs & 3) === 0) return crash("IRET to ring 0");
  let nesp = (esp + 16) >>> 0;
  let ss = cpu.sel[Seg.SS];
  if ((cs & 3) !== 1) {
    const e = readGuest32(v, esp + 16);
    const s = readGuest32(v, esp + 20);
    if (e === null || s === null) return crash("fault reading the IRET frame's esp/ss");
    nesp = e;
    ss = s & 0xffff;
  }
  cpu.rflags = ((eflags & ~Eflags.IOPL & 0x3f7fd5) | Eflags.IF | Eflags.MBS) >>> 0;
  cpu.rip = BigInt(eip);
  v.upcallMask = eflags & Eflags.IF ? 0 : 1;
  if (!cpu.checkReturnFrame(cs & 0xffff, ss, eip)) {
    // The iretq faults: Xen's pre-exception fixup (x86_64/entry.S, exception_with_ints_
    // disabled) turns the frame it was returning to into the guest's exception frame, so
    // the guest takes the fault at that cs:eip.
    const x = cpu.exit;
    const vector = x.vector;
    const ec = x.errorCode;
    const cr2 = Number(x.cr2 & 0xffffffffn);
    cpu.sel[Seg.CS] = cs & 0xffff;
    cpu.sel[Seg.SS] = ss;
    cpu.cpl = cs & 3;
    v.kernelMode = cpu.cpl !== 3;
    cpu.setReg(Reg.RSP, BigInt(nesp));
    const msg = vector === Vector.PF ? injectPageFault32(v, cr2, ec) : injectEvent32(v, vector, ec);
    if (msg) return crash(msg);
    return eax;
  }
  // The exit to the guest is an iretq: CS and SS (with their limits) come from their
  // descriptors, and a return to ring 3 makes null the data segments with DPL 1.
  cpu.returnToOuterLevel(cs & 0xffff, ss);
  v.kernelMode = cpu.cpl !== 3;
  cpu.setReg(Reg.RSP, BigInt(nesp));
  return eax;
}
