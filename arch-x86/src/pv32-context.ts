/**
 * The compat `vcpu_guest_context` of 32-bit PAE PV vCPUs (xen-x86_32.h), for the shared
 * `arch_set_info_guest` / `arch_get_info_guest` of pv-vcpu-context.ts (which gives the
 * order and every rule). What only the compat layout has: eight 32-bit registers
 * zero-extended into the CPU (XLAT_cpu_user_regs), no address checks (every 32-bit
 * address is the guest's: `breakpoint_addr_ok` and the LDT checks of a 64-bit context do
 * not apply), and the event and failsafe callbacks as `cs:eip` pairs whose selectors get
 * ring 1 (fixup_guest_code_selector). It has no syscall callback and no FS/GS bases.
 *
 * @module
 */
import { VCPU_GUEST_CONTEXT_X86 } from "./abi.js";
import { Reg } from "./cpu-api.js";
import { X86_32_DATA_MODEL } from "./data-model.js";
import type { PvContextFormat } from "./pv-vcpu-context.js";
import type { Pv32Vcpu } from "./pv32-vcpu.js";

const layout = VCPU_GUEST_CONTEXT_X86.layout(X86_32_DATA_MODEL);

/** The compat PV32 context. */
export const PV32_CONTEXT: PvContextFormat<Pv32Vcpu> = {
  model: X86_32_DATA_MODEL,
  compat: true,
  registers: [
    ["user_regs.ebx", Reg.RBX],
    ["user_regs.ecx", Reg.RCX],
    ["user_regs.edx", Reg.RDX],
    ["user_regs.esi", Reg.RSI],
    ["user_regs.edi", Reg.RDI],
    ["user_regs.ebp", Reg.RBP],
    ["user_regs.eax", Reg.RAX],
    ["user_regs.esp", Reg.RSP],
  ],
  ipField: "user_regs.eip",
  flagsField: "user_regs.eflags",

  addressesOk(): boolean {
    return true;
  },

  loadEntryPoints(v: Pv32Vcpu, view: DataView, fixup: (sel: number) => number): void {
    const u32 = (path: string): number => layout.getNumber(view, 0, path);
    v.kernelSp = u32("kernel_sp") | 0;
    v.eventCs = fixup(u32("event_callback_cs") & 0xffff);
    v.eventEip = u32("event_callback_eip");
    v.failsafeCs = fixup(u32("failsafe_callback_cs") & 0xffff);
    v.failsafeEip = u32("failsafe_callback_eip");
  },

  saveEntryPoints(v: Pv32Vcpu, view: DataView): void {
    const set = (path: string, value: number): void => layout.set(view, 0, path, value >>> 0);
    set("kernel_sp", v.kernelSp);
    set("event_callback_cs", v.eventCs);
    set("event_callback_eip", v.eventEip);
    set("failsafe_callback_cs", v.failsafeCs);
    set("failsafe_callback_eip", v.failsafeEip);
  },
};
