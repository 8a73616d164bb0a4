/**
 * The x86_64 PV vCPU's state as a `vcpu_guest_context` (Xen's `arch_get_info_guest`),
 * for domctl getvcpucontext.
 *
 * @module
 */
import { StructBuffer, VcpuState, writeGuestStruct, type HypercallContext } from "@hvkit/core";
import {
  REG64_NAMES,
  Seg,
  type Reg,
  TRAP_INFO,
  VCPU_GUEST_CONTEXT_X86,
  VGCF_IN_KERNEL,
  VGCF_ONLINE,
  VGCF_SYSCALL_DISABLES_EVENTS,
  X86_64_DATA_MODEL,
} from "@hvkit/arch-x86";
import type { PvVcpu } from "./pv-vcpu.js";

/** Scratch for one vcpu_guest_context (5168 bytes). */
const buffer = new StructBuffer(VCPU_GUEST_CONTEXT_X86.layout(X86_64_DATA_MODEL).size);
/** CR0.TS. */
const CR0_TS = 8;

/**
 * Writes `v`'s state as a 64-bit `vcpu_guest_context` to guest virtual `va` through
 * `ctx.vcpu`: flags (in-kernel, online, syscall masks events), the register frame
 * (saved_upcall_mask = the event mask), the trap table, LDT/GDT, kernel stack, ctrlreg
 * 0/2/4, ctrlreg 3 and 1 as xen_pfn_to_cr3 of the kernel and user page tables (MFN << 12),
 * callbacks, vm_assist and segment bases. No FPU state yet (fpu_ctxt zero,
 * VGCF_i387_valid clear); debug registers zero. Returns 0 or −EFAULT.
 */
export function saveGuestContext(v: PvVcpu, ctx: HypercallContext, va: bigint): number {
  const l = VCPU_GUEST_CONTEXT_X86.layout(X86_64_DATA_MODEL);
  const view = buffer.view;
  buffer.bytes.fill(0);
  const cpu = v.cpu;
  let flags = 0;
  if (v.kernelMode) flags |= VGCF_IN_KERNEL;
  if (v.vcpu.state !== VcpuState.Down) flags |= VGCF_ONLINE;
  if (v.syscallMasksEvents) flags |= VGCF_SYSCALL_DISABLES_EVENTS;
  l.set(view, 0, "flags", BigInt(flags));
  for (let r = 0; r < 16; r++) {
    l.set(view, 0, `user_regs.${REG64_NAMES[r]}`, BigInt.asUintN(64, cpu.getReg(r as Reg)));
  }
  l.set(view, 0, "user_regs.rip", cpu.rip);
  // arch_get_info_guest reports the virtual IOPL in EFLAGS.
  l.set(view, 0, "user_regs.rflags", BigInt((cpu.rflags | (v.iopl & 0x3000)) >>> 0));
  l.set(view, 0, "user_regs.saved_upcall_mask", v.upcallMask);
  l.set(view, 0, "user_regs.cs", cpu.sel[Seg.CS]);
  l.set(view, 0, "user_regs.ss", cpu.sel[Seg.SS]);
  l.set(view, 0, "user_regs.ds", cpu.sel[Seg.DS]);
  l.set(view, 0, "user_regs.es", cpu.sel[Seg.ES]);
  l.set(view, 0, "user_regs.fs", cpu.sel[Seg.FS]);
  l.set(view, 0, "user_regs.gs", cpu.sel[Seg.GS]);
  const ti = TRAP_INFO.layout(X86_64_DATA_MODEL);
  const traps = l.offsetOf("trap_ctxt");
  for (let vec = 0; vec < 256; vec++) {
    const at = traps + vec * ti.size;
    ti.set(view, at, "vector", vec);
    ti.set(view, at, "flags", v.trapFlags[vec]);
    ti.set(view, at, "cs", v.trapCs[vec]);
    ti.set(view, at, "address", v.trapAddr[vec]);
  }
  l.set(view, 0, "ldt_base", v.ldtBase);
  l.set(view, 0, "ldt_ents", BigInt(v.ldtEntries));
  v.gdtFrames.forEach((f, i) => l.set(view, 0, `gdt_frames.${i}`, BigInt(f)));
  l.set(view, 0, "gdt_ents", BigInt(v.gdtEntries));
  l.set(view, 0, "kernel_ss", BigInt(v.kernelSs));
  l.set(view, 0, "kernel_sp", v.kernelSp);
  l.set(view, 0, "ctrlreg.0", BigInt(((cpu.cr0 & ~CR0_TS) | (v.cr0Ts ? CR0_TS : 0)) >>> 0));
  l.set(view, 0, "ctrlreg.2", v.cr2);
  l.set(view, 0, "ctrlreg.4", BigInt(v.cr4)); // the guest's view (arch.pv.ctrlreg[4])
  if (v.guestTable >= 0) l.set(view, 0, "ctrlreg.3", BigInt(v.guestTable) << 12n);
  if (v.guestTableUser >= 0) l.set(view, 0, "ctrlreg.1", BigInt(v.guestTableUser) << 12n);
  l.set(view, 0, "event_callback_eip", v.eventCallback);
  l.set(view, 0, "failsafe_callback_eip", v.failsafeCallback);
  l.set(view, 0, "syscall_callback_eip", v.syscallCallback);
  l.set(view, 0, "vm_assist", BigInt(v.domain.vmAssist));
  // arch_get_info_guest: DR0-3, DR6, and DR7 with the emulated I/O breakpoint enables.
  for (const i of [0, 1, 2, 3, 6]) l.set(view, 0, `debugreg.${i}`, cpu.getDebugReg(i));
  l.set(view, 0, "debugreg.7", cpu.getDebugReg(7) | BigInt(v.dr7Emul));
  l.set(view, 0, "fs_base", cpu.fsBase);
  l.set(view, 0, "gs_base_kernel", v.kernelMode ? cpu.gsBase : v.inactiveGsBase);
  l.set(view, 0, "gs_base_user", v.kernelMode ? v.inactiveGsBase : cpu.gsBase);
  return writeGuestStruct(ctx.vcpu, va, l, buffer);
}
