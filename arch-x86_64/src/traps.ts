/**
 * Exceptions, software interrupts and system calls of 64-bit PV guests, delivered as Xen
 * does (xen/arch/x86/x86_64/entry.S create_bounce_frame, pv/traps.c pv_inject_event,
 * traps.c do_general_protection, pv/iret.c do_iret).
 *
 * Bounce frame, pushed on the guest kernel stack (the current stack when already in
 * kernel mode, else the stack_switch stack), 16-byte aligned, lowest address first:
 * `rcx, r11, [error code], rip, cs | saved_upcall_mask << 32, rflags, rsp, ss`.
 * From kernel mode the saved CS has its RPL cleared (that is how the guest, and its
 * later iret, tell a kernel frame from a user one).
 *
 * Functions return null on success, or a message when the domain must crash.
 *
 * @module
 */
import { ShutdownReason, VmAssistType } from "@hvkit/core";
import {
  Dr6,
  mergeDr6,
  newGuestCr3 as newGuestCr3Of,
  emulateIoplOp,
  emulatePtWrite,
  type PvIoAccess,
  PfErr,
  Reg,
  Seg,
  Vector,
} from "@hvkit/arch-x86";
import { readCr, writeCr } from "@hvkit/arch-x86";
import { emulateMovDr, emulateXsetbv } from "@hvkit/arch-x86";
import { currentTsc, readMsr, writeMsr } from "@hvkit/arch-x86";
import type { PvVcpu } from "./pv-vcpu.js";

/** Flat selectors of 64-bit PV guests (xen-x86_64.h). */
export const Selector = {
  /** FLAT_RING3_CS64: kernel and user 64-bit code. */
  CS64: 0xe033,
  /** FLAT_RING3_CS32: 32-bit user code. */
  CS32: 0xe023,
  /** FLAT_RING3_SS64 / DS32. */
  SS: 0xe02b,
} as const;

/** RFLAGS bits the PV layer touches. */
export const Rflags = {
  /** Reserved, always 1. */ MBS: 0x2,
  /** Trap flag. */ TF: 0x100,
  /** Interrupt enable (virtual for PV). */ IF: 0x200,
  /** Direction. */ DF: 0x400,
  /** I/O privilege level. */ IOPL: 0x3000,
  /** Nested task. */ NT: 0x4000,
  /** Resume. */ RF: 0x10000,
  /** Virtual-8086. */ VM: 0x20000,
  /** Alignment check. */ AC: 0x40000,
} as const;

/** Start of the hypervisor's hole in the 64-bit address space. */
const HYPERVISOR_VIRT_START = 0xffff800000000000n;
/** End of the hypervisor's hole. */
const HYPERVISOR_VIRT_END = 0xffff880000000000n;
/** Vectors whose hardware exceptions push an error code (X86_EXC_HAVE_EC). */
const HAVE_EC =
  (1 << 8) | (1 << 10) | (1 << 11) | (1 << 12) | (1 << 13) | (1 << 14) | (1 << 17) | (1 << 21);
/** Trap-info flag: mask events on entry. */
const TI_MASK_EVENTS = 4;
/** iret_context.flags: VGCF_in_syscall. */
const VGCF_IN_SYSCALL = 1 << 8;
/** RFLAGS bits a guest may set (X86_EFLAGS_ALL minus IOPL and VM). */
const RFLAGS_GUEST = 0x3f7fd5 & ~(Rflags.IOPL | Rflags.VM);

const VECTOR_NAMES = [
  "#DE",
  "#DB",
  "NMI",
  "#BP",
  "#OF",
  "#BR",
  "#UD",
  "#NM",
  "#DF",
  "#CSO",
  "#TS",
  "#NP",
  "#SS",
  "#GP",
  "#PF",
  "#15",
  "#MF",
  "#AC",
  "#MC",
  "#XM",
  "#VE",
  "#CP",
];

/** Name of vector `v` as Xen prints it. */
export function vectorName(v: number): string {
  return v < VECTOR_NAMES.length ? VECTOR_NAMES[v] : `vec ${v}`;
}

/** Writes a 64-bit value to guest virtual `va` through the kernel page tables. */
function pushGuest(v: PvVcpu, va: bigint, value: bigint): boolean {
  const pa = v.translate(va, true);
  if (pa < 0) return false;
  v.machine.memory.view.setBigUint64(pa, BigInt.asUintN(64, value), true);
  v.cpu.invalidateCode(pa, 8);
  return true;
}

/**
 * create_bounce_frame: switches to guest kernel mode if needed, pushes the frame and
 * enters `handler`. `errorCode` < 0 means none; `maskEvents` sets the upcall mask.
 */
export function createBounceFrame(
  v: PvVcpu,
  handler: bigint,
  errorCode: number,
  maskEvents: boolean,
): string | null {
  const cpu = v.cpu;
  const oldRsp = cpu.getReg(Reg.RSP);
  const oldSs = BigInt(cpu.sel[Seg.SS]);
  let cs = cpu.sel[Seg.CS];
  let rsp: bigint;
  if (!v.kernelMode) {
    if (v.guestTable < 0) return "bounce with no kernel page tables";
    v.toggleGuestMode();
    rsp = v.kernelSp;
  } else {
    rsp = oldRsp;
    cs &= ~3;
  }
  rsp &= ~0xfn;
  if (rsp > HYPERVISOR_VIRT_START && rsp < HYPERVISOR_VIRT_END + 64n) {
    return `bounce frame stack pointer ${rsp.toString(16)} is in the hypervisor's area`;
  }
  const saved = v.upcallMask;
  if (maskEvents) v.upcallMask = 1;
  let rflags = cpu.rflags & ~(Rflags.IF | Rflags.IOPL);
  if (!saved) rflags |= Rflags.IF;
  // Under VMASST_TYPE_architectural_iopl the frame reports the virtual IOPL (entry.S).
  if (v.domain.hasVmAssist(VmAssistType.architectural_iopl)) rflags |= v.iopl;
  const words = errorCode >= 0 ? 8 : 7;
  const base = rsp - BigInt(words * 8);
  let i = 0;
  const ok =
    pushGuest(v, base + BigInt(8 * i++), cpu.getReg(Reg.RCX)) &&
    pushGuest(v, base + BigInt(8 * i++), cpu.getReg(Reg.R11)) &&
    (errorCode < 0 || pushGuest(v, base + BigInt(8 * i++), BigInt(errorCode >>> 0))) &&
    pushGuest(v, base + BigInt(8 * i++), cpu.rip) &&
    pushGuest(v, base + BigInt(8 * i++), BigInt(cs) | (BigInt(saved) << 32n)) &&
    pushGuest(v, base + BigInt(8 * i++), BigInt(rflags >>> 0)) &&
    pushGuest(v, base + BigInt(8 * i++), oldRsp) &&
    pushGuest(v, base + BigInt(8 * i++), oldSs);
  if (!ok) return `fault writing the bounce frame at ${base.toString(16)}`;
  if (handler === 0n) return "bounce to a null handler";
  cpu.rflags = (cpu.rflags & ~(Rflags.AC | Rflags.VM | Rflags.RF | Rflags.NT | Rflags.TF)) >>> 0;
  cpu.loadCodeSegment(Selector.CS64, Selector.SS);
  cpu.cpl = 3;
  cpu.setReg(Reg.RSP, base);
  cpu.rip = handler;
  return null;
}

/**
 * pv_inject_event for a hardware exception or software interrupt `vector`.
 * `errorCode` < 0 for none. A vector with no handler crashes the domain.
 */
export function injectEvent(v: PvVcpu, vector: number, errorCode: number): string | null {
  const handler = v.trapAddr[vector];
  if (handler === 0n) {
    const ec = errorCode >= 0 ? `[${errorCode.toString(16).padStart(4, "0")}]` : "";
    const extra = vector === Vector.PF ? ` at ${v.cr2.toString(16)}` : "";
    return `Unhandled: vec ${vector}, ${vectorName(vector)}${ec}${extra}`;
  }
  return createBounceFrame(v, handler, errorCode, (v.trapFlags[vector] & TI_MASK_EVENTS) !== 0);
}

/**
 * After an instruction Xen emulated for the guest (privileged op, page-table write, and in
 * hvkit also cpuid, which the CPU model hands to the PV layer): with
 * TF set the guest gets the single-step #DB it would have had, DR6.BS merged in
 * (emul-priv-op.c / ro-page-fault.c `retire.singlestep`, pv_inject_DB).
 */
export function retireEmulated(v: PvVcpu, bpmatch = 0): string | null {
  const cpu = v.cpu;
  const bits = bpmatch | ((cpu.rflags & Rflags.TF) !== 0 ? Dr6.BS : 0);
  if (bits === 0) return null;
  cpu.setDebugReg(6, BigInt(mergeDr6(Number(cpu.getDebugReg(6)), bits) >>> 0));
  return injectEvent(v, Vector.DB, -1);
}

/** The port and size of the last `in`/`out` emulated. */
const io: PvIoAccess = { port: -1, bytes: 0 };

/**
 * check_guest_io_breakpoint: the B0–B3 bits of the guest's I/O breakpoints (enabled in
 * dr7_emul, with CR4.DE) that an access of `bytes` at `port` touches; widths from DR7 LEN.
 */
export function ioBreakpoints(v: PvVcpu, port: number, bytes: number): number {
  if (v.dr7Emul === 0 || !v.cr4De) return 0;
  const dr7 = Number(v.cpu.getDebugReg(7));
  let match = 0;
  for (let i = 0; i < 4; i++) {
    if ((v.dr7Emul & (3 << (2 * i))) === 0) continue;
    const width = [1, 2, 8, 4][(dr7 >>> (18 + 4 * i)) & 3];
    const start = Number(v.cpu.getDebugReg(i) & ~BigInt(width - 1));
    if (start < port + bytes && start + width > port) match |= 1 << i;
  }
  return match;
}

/** Handles an Exception exit of the CPU. */
export function handleException(v: PvVcpu): string | null {
  const x = v.cpu.exit;
  const vector = x.vector;
  if (x.software) {
    if (vector === Vector.BP || vector === Vector.OF) return injectEvent(v, vector, -1);
    // int $0x80 goes straight to a registered handler (Xen's entry_int80 fast path).
    if (vector === 0x80 && v.trapAddr[vector] !== 0n) return injectEvent(v, vector, -1);
    const dpl = v.trapFlags[vector] & 3;
    // permit_softint: DPL ≥ 1 from guest kernel mode, DPL 3 from guest user mode.
    if (dpl >= (v.kernelMode ? 1 : 3) && v.trapAddr[vector] !== 0n)
      return injectEvent(v, vector, -1);
    // Otherwise a #GP with the IDT vector in the error code, at the int instruction.
    v.cpu.rip -= BigInt(x.instructionLength);
    return injectEvent(v, Vector.GP, (vector << 3) | 2);
  }
  if (vector === Vector.GP && x.errorCode === 0 && v.kernelMode) {
    const dr = emulateMovDr(v, (i) => {
      const pa = v.translate(v.cpu.rip + BigInt(i), false);
      return pa < 0 ? -1 : v.machine.memory.bytes[pa];
    });
    if (dr === 0) return retireEmulated(v);
    if (dr > 0) return injectEvent(v, dr, dr === Vector.GP ? 0 : -1);
  }
  if (vector === Vector.GP && x.errorCode === 0) {
    const xcr = emulateXsetbv(v, (i) => {
      const pa = v.translate(v.cpu.rip + BigInt(i), false);
      return pa < 0 ? -1 : v.machine.memory.bytes[pa];
    });
    if (xcr === 0) return retireEmulated(v);
    if (xcr > 0) return injectEvent(v, xcr, xcr === Vector.GP ? 0 : -1);
    const r = emulatePrivileged(v);
    if (r === true) return retireEmulated(v, io.port < 0 ? 0 : ioBreakpoints(v, io.port, io.bytes));
  }
  if (
    vector === Vector.PF &&
    (x.errorCode & (PfErr.P | PfErr.W | PfErr.RSVD | PfErr.I)) === (PfErr.P | PfErr.W)
  ) {
    if (emulatePtWrite(v, x.cr2)) return retireEmulated(v);
  }
  if (vector === Vector.PF) {
    v.cr2 = x.cr2;
    const vi = v.vcpuInfoAddr();
    if (vi >= 0) v.machine.memory.view.setBigUint64(vi + 16, BigInt.asUintN(64, x.cr2), true);
    let ec = x.errorCode & ~PfErr.U;
    if (!v.kernelMode) ec |= PfErr.U;
    return injectEvent(v, vector, ec);
  }
  const hasEc = vector < 32 && (HAVE_EC & (1 << vector)) !== 0;
  return injectEvent(v, vector, hasEc ? (x.errorCode < 0 ? 0 : x.errorCode) : -1);
}

/** A `syscall` from guest user mode: bounce to the registered syscall callback, or #UD. */
export function bounceSyscall(v: PvVcpu): string | null {
  if (v.syscallCallback === 0n) {
    v.cpu.rip -= 2n;
    return injectEvent(v, Vector.UD, -1);
  }
  const err = createBounceFrame(v, v.syscallCallback, -1, v.syscallMasksEvents);
  if (err) return err;
  v.cpu.rflags = (v.cpu.rflags & ~Rflags.DF) >>> 0;
  return null;
}

/**
 * A `syscall` from compatibility-mode code (processors that execute it there; Intel's
 * raise #UD instead): Xen's cstar_enter and switch_to_kernel. The frame records the flat
 * compat selectors FLAT_USER_CS32/SS32 whatever the guest had loaded, and the bounce goes
 * to the CALLBACKTYPE_syscall32 address with events masked as the 64-bit syscall
 * callback's flag says (VGCF_syscall_disables_events), in guest kernel or user mode alike;
 * DF is cleared. With no syscall32 callback: #UD at the syscall.
 */
export function bounceCompatSyscall(v: PvVcpu): string | null {
  const cpu = v.cpu;
  cpu.sel[Seg.CS] = Selector.CS32;
  cpu.sel[Seg.SS] = Selector.SS;
  if (v.syscall32Callback === 0n) {
    cpu.rip -= 2n;
    return injectEvent(v, Vector.UD, -1);
  }
  const err = createBounceFrame(v, v.syscall32Callback, -1, v.syscallMasksEvents);
  if (err) return err;
  cpu.rflags = (cpu.rflags & ~Rflags.DF) >>> 0;
  return null;
}

/**
 * A `sysenter` from guest code: Xen's sysenter_entry. The hardware leaves no return
 * address, so the frame holds rip 0, a null ring-3 CS (3), rsp 0 and FLAT_USER_SS; NT is
 * cleared. The bounce goes to the CALLBACKTYPE_sysenter address (events masked when it
 * was registered with CALLBACKF_mask_events); with none, the guest's #GP handler gets
 * error code 0 at that frame.
 */
export function bounceSysenter(v: PvVcpu): string | null {
  const cpu = v.cpu;
  cpu.rflags = (cpu.rflags & ~(Rflags.NT | Rflags.RF | Rflags.VM)) >>> 0;
  cpu.loadCodeSegment(3, Selector.SS);
  cpu.rip = 0n;
  cpu.setReg(Reg.RSP, 0n);
  if (v.sysenterCallback === 0n) return injectEvent(v, Vector.GP, 0);
  return createBounceFrame(v, v.sysenterCallback, -1, v.sysenterMasksEvents);
}

/**
 * HYPERVISOR_iret: pops {rax, r11, rcx, flags, rip, cs, rflags, rsp, ss} from the guest
 * stack; switches to guest user mode for a CS with RPL 3. Returns the value for rax, or
 * crashes the domain on a bad frame.
 */
export function doIret(v: PvVcpu): number | bigint {
  const cpu = v.cpu;
  const rsp = cpu.getReg(Reg.RSP);
  const f: bigint[] = [];
  for (let i = 0; i < 9; i++) {
    const pa = v.translate(rsp + BigInt(8 * i), false);
    if (pa < 0) {
      v.machine.shutdownDomain(
        v.domain,
        ShutdownReason.Crash,
        `d${v.domain.id}v${v.vcpu.id}: fault while reading IRET context from guest stack at ${rsp.toString(16)}`,
      );
      return 0;
    }
    f.push(v.machine.memory.view.getBigUint64(pa, true));
  }
  const [rax, r11, rcx, flags, rip, cs, rflags, nrsp, ss] = f;
  if ((cs & 3n) === 3n) {
    if (v.guestTableUser < 0) {
      v.machine.shutdownDomain(
        v.domain,
        ShutdownReason.Crash,
        `d${v.domain.id}v${v.vcpu.id}: guest switching to user mode with no user page tables`,
      );
      return 0;
    }
    if (v.kernelMode) v.toggleGuestMode();
  }
  // Under VMASST_TYPE_architectural_iopl the frame's IOPL becomes the virtual IOPL.
  if (v.domain.hasVmAssist(VmAssistType.architectural_iopl))
    v.iopl = Number(rflags & BigInt(Rflags.IOPL));
  cpu.loadCodeSegment(Number((cs | 3n) & 0xffffn), Number((ss | 3n) & 0xffffn));
  cpu.rip = rip;
  cpu.rflags = ((Number(rflags & 0xffffffffn) & RFLAGS_GUEST) | Rflags.IF | Rflags.MBS) >>> 0;
  cpu.setReg(Reg.RSP, nrsp);
  cpu.cpl = 3;
  if (!(flags & BigInt(VGCF_IN_SYSCALL))) {
    cpu.setReg(Reg.R11, r11);
    cpu.setReg(Reg.RCX, rcx);
  } else {
    // Returning as sysret would: rcx = rip, r11 = rflags.
    cpu.setReg(Reg.RCX, rip);
    cpu.setReg(Reg.R11, BigInt(cpu.rflags));
  }
  v.upcallMask = rflags & BigInt(Rflags.IF) ? 0 : 1;
  return rax;
}

/**
 * Emulates the privileged instructions a PV kernel may execute in ring 3 (they #GP(0)),
 * as Xen's privileged-op emulator (pv/emul-priv-op.c): `mov` from/to CR0/CR2/CR3/CR4 and
 * `clts` (ctrlreg.ts), rdmsr/wrmsr (msr.ts), `rdtsc` and `rdtscp` when the guest's
 * CR4.TSD makes them fault, wbinvd, hlt. Returns true when emulated (rip advanced); false
 * to deliver the #GP(0), which is also what an instruction Xen refuses gets.
 */
export function emulatePrivileged(v: PvVcpu): boolean {
  if (emulateIoplOp(v, io)) return true;
  const cpu = v.cpu;
  const mem = v.machine.memory.bytes;
  const va = cpu.rip;
  const byteAt = (i: number): number => {
    const pa = cpu.translate(va + BigInt(i), false, !v.kernelMode);
    return pa < 0 ? -1 : mem[pa];
  };
  let i = 0;
  let rex = 0;
  let b = byteAt(i);
  while (b >= 0x40 && b <= 0x4f) {
    rex = b;
    b = byteAt(++i);
  }
  if (b !== 0x0f) {
    if (b !== 0xf4 || !v.kernelMode) return false;
    cpu.rip = va + BigInt(i + 1);
    v.idleRequested = true;
    return true;
  }
  const op = byteAt(++i);
  // rdtsc and rdtscp fault in either guest mode when the guest set CR4.TSD; x86_emulate
  // answers the guest kernel (ring 0 to it) and raises #GP for guest user mode.
  if (op === 0x31 || (op === 0x01 && byteAt(i + 1) === 0xf9)) {
    if (!v.kernelMode) return false;
    // rdtscp first reads MSR_TSC_AUX, which the policy withholds (no RDTSCP): #GP.
    if (op === 0x01) return false;
    const tsc = currentTsc(v);
    cpu.setReg(Reg.RAX, tsc & 0xffffffffn);
    cpu.setReg(Reg.RDX, (tsc >> 32n) & 0xffffffffn);
    cpu.rip = va + BigInt(i + 1);
    return true;
  }
  if (!v.kernelMode) return false;
  switch (op) {
    case 0x06: // clts: read_cr(0), then write_cr(0) of it without TS
      v.cr0Ts = false;
      cpu.rip = va + BigInt(i + 1);
      return true;
    case 0x09: // wbinvd: ignored for a domain that may not flush caches
      cpu.rip = va + BigInt(i + 1);
      return true;
    case 0x20: // mov %crN, reg
    case 0x22: {
      // mov reg, %crN
      const modrm = byteAt(++i);
      if (modrm < 0) return false;
      const cr = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0);
      const reg = ((modrm & 7) | (rex & 1 ? 8 : 0)) as Reg;
      if (op === 0x20) {
        const val = readCr(v, cr);
        if (val === null) return false;
        cpu.setReg(reg, val);
      } else if (!writeCr(v, cr, cpu.getReg(reg))) return false;
      cpu.rip = va + BigInt(i + 1);
      return true;
    }
    case 0x32: {
      // rdmsr
      const val = readMsr(v, cpu.getReg32(Reg.RCX));
      if (val === null) return false;
      cpu.setReg(Reg.RAX, val & 0xffffffffn);
      cpu.setReg(Reg.RDX, val >> 32n);
      cpu.rip = va + BigInt(i + 1);
      return true;
    }
    case 0x30: {
      // wrmsr
      const val = (BigInt(cpu.getReg32(Reg.RDX)) << 32n) | BigInt(cpu.getReg32(Reg.RAX));
      if (!writeMsr(v, cpu.getReg32(Reg.RCX), val)) return false;
      cpu.rip = va + BigInt(i + 1);
      return true;
    }
    default:
      return false;
  }
}

/**
 * new_guest_cr3: makes `mfn` (validated as an L4) the kernel page-table base, dropping
 * the reference on the old one. Returns 0 or −errno.
 */
export function newGuestCr3(v: PvVcpu, mfn: number): number {
  return newGuestCr3Of(v, v.domain, mfn);
}
