/**
 * PowerPC's own public ABI structs and numbers (Xen's `arch-powerpc.h`, removed from Xen in
 * 2008): the register frame and the vCPU context a guest passes to VCPUOP_initialise, and
 * the MSR bits the agent's context uses. Core's common structs (shared_info, vcpu_info)
 * are laid out for PowerPC by the `ppc64` data model (`data-model.ts`: LP64, big-endian), whose arch parts are at the end of this file; this is what
 * only the arch has.
 *
 * Xen/ppc's `arch_set_info_guest` (arch/powerpc/domain.c) copied `user_regs` into the vCPU
 * and started it there; `sdr1` (the hashed page table's base) was not loaded — the
 * hypervisor owns the page table and a guest reaches it through PAPR hcalls.
 *
 * @module
 */
import { array, defineStruct, field, u32, u64 } from "@hvkit/core";

/** MSR[SF] (bit 0, IBM numbering): 64-bit mode. */
export const MSR_SF = 1n << 63n;
/** MSR[EE]: external interrupts (the event upcall) enabled. */
export const MSR_EE = 0x8000n;
/** MSR[PR]: problem state (user mode). */
export const MSR_PR = 0x4000n;
/** MSR[RI]: recoverable interrupt; a guest sets it once its vectors are live. */
export const MSR_RI = 0x2n;

/** `struct cpu_user_regs` of PowerPC: 352 bytes. */
export const CPU_USER_REGS_PPC = defineStruct(
  "cpu_user_regs",
  "A PowerPC vCPU's user-visible registers, as Xen saves them on every entry.",
  {
    gprs: field(array(u64, 32), "r0–r31."),
    lr: field(u64, "Link register."),
    ctr: field(u64, "Count register."),
    srr0: field(u64, "Save/restore register 0 (address an interrupt returns to)."),
    srr1: field(u64, "Save/restore register 1 (MSR and cause bits of an interrupt)."),
    pc: field(u64, "Where the vCPU runs."),
    msr: field(u64, "Machine state register (MSR_SF for a 64-bit kernel; HV never visible)."),
    fpscr: field(u64, "Floating-point status and control."),
    xer: field(u64, "Fixed-point exception register."),
    hid4: field(u64, "HID4 (for debugging only)."),
    dar: field(u64, "Data address register (for debugging only)."),
    dsisr: field(u32, "Data storage interrupt status (for debugging only)."),
    cr: field(u32, "Condition register."),
    __pad: field(u32, "Unused."),
    entry_vector: field(u32, "Hypervisor-private: the vector that entered Xen."),
  },
);

/** `struct vcpu_guest_context` of PowerPC: the registers and SDR1, 360 bytes. */
export const VCPU_GUEST_CONTEXT_PPC = defineStruct(
  "vcpu_guest_context",
  "A PowerPC vCPU's state as VCPUOP_initialise takes it (arch-powerpc.h).",
  {
    user_regs: field(CPU_USER_REGS_PPC, "The registers the vCPU starts with."),
    sdr1: field(u64, "Hashed page table base (SDR1 format); Xen did not load it."),
  },
);

/** `struct arch_vcpu_info` (PowerPC): empty (a GNU C empty struct, size 0). */
export const ARCH_VCPU_INFO_PPC = defineStruct(
  "arch_vcpu_info",
  "Per-vCPU arch state in vcpu_info: none on PowerPC.",
  {},
);

/** `struct arch_shared_info` (PowerPC): the timebase at boot. */
export const ARCH_SHARED_INFO_PPC = defineStruct(
  "arch_shared_info",
  "Arch-specific tail of the shared_info page: the boot timebase.",
  {
    boot_timebase: field(u64, "Value of the PowerPC timebase register when the domain booted."),
  },
);

/**
 * `struct xen_arch_domainconfig` (PowerPC): empty, as the arch-ppc.h of Xen 4.19 declares it (the 970-class port left Xen before domctl had an arch configuration).
 */
export const XEN_ARCH_DOMAINCONFIG_PPC = defineStruct(
  "xen_arch_domainconfig",
  "Arch part of a domain's configuration: none.",
  {},
);
