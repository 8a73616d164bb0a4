/**
 * The 64-bit (native) `vcpu_guest_context` of x86_64 PV vCPUs, for the shared
 * `arch_set_info_guest` / `arch_get_info_guest` / `arch_vcpu_reset` of `@hvkit/arch-x86`
 * (pv-vcpu-context.ts, which gives the order and every rule): what only the native layout
 * has — Xen's address checks (xen/arch/x86/domain.c: DR6/DR7 no wider than 32 bits,
 * breakpoints `breakpoint_addr_ok`, and `is_canonical_address` of rip, rsp, kernel_sp,
 * the LDT base when it has entries, FS/GS bases, callbacks and trap-table handlers, the
 * LDT base `__addr_ok`), the syscall callback (its VGCF_syscall_disables_events is
 * kept with the context's flags, as `arch.pv.vgc_flags`), and the
 * FS/GS bases (kernel and user, swapped with the guest's mode).
 *
 * @module
 */
import {
  breakpointAddrOk,
  isCanonical,
  Reg,
  TRAP_INFO,
  VCPU_GUEST_CONTEXT_X86,
  X86_64_DATA_MODEL,
  type PvContextFormat,
} from "@hvkit/arch-x86";
import type { PvVcpu } from "./pv-vcpu.js";

const layout = VCPU_GUEST_CONTEXT_X86.layout(X86_64_DATA_MODEL);
const trapInfo = TRAP_INFO.layout(X86_64_DATA_MODEL);

const REGS: readonly (readonly [string, Reg])[] = [
  ["user_regs.r15", Reg.R15],
  ["user_regs.r14", Reg.R14],
  ["user_regs.r13", Reg.R13],
  ["user_regs.r12", Reg.R12],
  ["user_regs.rbp", Reg.RBP],
  ["user_regs.rbx", Reg.RBX],
  ["user_regs.r11", Reg.R11],
  ["user_regs.r10", Reg.R10],
  ["user_regs.r9", Reg.R9],
  ["user_regs.r8", Reg.R8],
  ["user_regs.rax", Reg.RAX],
  ["user_regs.rcx", Reg.RCX],
  ["user_regs.rdx", Reg.RDX],
  ["user_regs.rsi", Reg.RSI],
  ["user_regs.rdi", Reg.RDI],
  ["user_regs.rsp", Reg.RSP],
];

const CANONICAL: readonly string[] = [
  "user_regs.rip",
  "user_regs.rsp",
  "kernel_sp",
  "fs_base",
  "gs_base_kernel",
  "gs_base_user",
  "event_callback_eip",
  "syscall_callback_eip",
  "failsafe_callback_eip",
];

/** The native x86_64 PV context. */
export const PV64_CONTEXT: PvContextFormat<PvVcpu> = {
  model: X86_64_DATA_MODEL,
  compat: false,
  registers: REGS,
  ipField: "user_regs.rip",
  flagsField: "user_regs.rflags",

  addressesOk(view: DataView): boolean {
    const u64 = (path: string): bigint => layout.getBigInt(view, 0, path);
    if (u64("debugreg.6") >> 32n !== 0n || u64("debugreg.7") >> 32n !== 0n) return false;
    for (let i = 0; i < 4; i++) if (!breakpointAddrOk(u64(`debugreg.${i}`))) return false;
    for (const p of CANONICAL) if (!isCanonical(u64(p))) return false;
    const ldtBase = u64("ldt_base");
    if (u64("ldt_ents") !== 0n && !isCanonical(ldtBase)) return false;
    const traps = layout.offsetOf("trap_ctxt");
    for (let i = 0; i < 256; i++) {
      if (!isCanonical(trapInfo.getBigInt(view, traps + i * trapInfo.size, "address"))) {
        return false;
      }
    }
    return breakpointAddrOk(ldtBase); // __addr_ok
  },

  loadEntryPoints(v: PvVcpu, view: DataView): void {
    const u64 = (path: string): bigint => layout.getBigInt(view, 0, path);
    const cpu = v.cpu;
    v.kernelSp = u64("kernel_sp");
    v.eventCallback = u64("event_callback_eip");
    v.failsafeCallback = u64("failsafe_callback_eip");
    v.syscallCallback = u64("syscall_callback_eip");
    cpu.fsBase = u64("fs_base");
    cpu.gsBase = v.kernelMode ? u64("gs_base_kernel") : u64("gs_base_user");
    v.inactiveGsBase = v.kernelMode ? u64("gs_base_user") : u64("gs_base_kernel");
  },

  saveEntryPoints(v: PvVcpu, view: DataView): void {
    const set = (path: string, value: bigint): void => layout.set(view, 0, path, value);
    set("kernel_sp", v.kernelSp);
    set("event_callback_eip", v.eventCallback);
    set("failsafe_callback_eip", v.failsafeCallback);
    set("syscall_callback_eip", v.syscallCallback);
    set("fs_base", v.cpu.fsBase);
    set("gs_base_kernel", v.kernelMode ? v.cpu.gsBase : v.inactiveGsBase);
    set("gs_base_user", v.kernelMode ? v.inactiveGsBase : v.cpu.gsBase);
  },
};
