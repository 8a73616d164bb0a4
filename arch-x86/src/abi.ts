/**
 * The x86 PV ABI structs (32- and 64-bit guests): the arch parts of the common structs
 * (`struct arch_vcpu_info`, `struct arch_shared_info`, `xen_callback_t`,
 * `struct xen_arch_domainconfig`), the virtual IDT
 * entry, the register frame, the full vCPU context, the iret frame and the e820 map entry.
 * Sources: xen/include/public/arch-x86/xen.h, xen-x86_32.h, xen-x86_64.h, and
 * xen/arch/x86/include/asm/e820.h for `struct e820entry`.
 *
 * x86 has two guest ABIs; a struct whose members differ between them takes the shape of
 * the model's word size (`long` 4: the 32-bit guest's, 8: the 64-bit guest's). The models
 * themselves are in `data-model.ts`.
 *
 * @module
 */
import {
  array,
  defineStruct,
  field,
  pad,
  struct,
  u16,
  u32,
  u64,
  u8,
  ulong,
  xenPfn,
  type DataModel,
  type FieldMap,
} from "@hvkit/core";

/** True for the 32-bit x86 guest ABI (ILP32). */
function is32(model: DataModel): boolean {
  return model.long === 4;
}

const VCPU_ARCH = (padWords: number): FieldMap => ({
  cr2: field(
    ulong,
    "Faulting linear address of the most recent page fault delivered to this vCPU: x86 PV " +
      "guests cannot read the real CR2, so Xen copies it here before bouncing #PF to the guest.",
  ),
  pad: field(
    array(ulong, padWords),
    "Unused; sized so that vcpu_info is 64 bytes on x86 (one cache line per vCPU).",
  ),
});

/**
 * `struct arch_vcpu_info` (x86): the guest's CR2, padded so vcpu_info is 64 bytes in both
 * guest ABIs.
 */
export const ARCH_VCPU_INFO_X86 = defineStruct(
  "arch_vcpu_info",
  "Per-vCPU arch state published in vcpu_info: the page-fault address.",
  (model) => VCPU_ARCH(is32(model) ? 5 : 1),
);

const SHARED_ARCH: FieldMap = {
  max_pfn: field(
    ulong,
    "Number of valid entries in the guest's p2m (pseudo-physical to machine) table; the guest writes it for tools that save or migrate it.",
  ),
  pfn_to_mfn_frame_list_list: field(
    xenPfn,
    "Machine frame of the top of the guest's three-level list of p2m frames (written by the " +
      "guest for save/restore); 0 when not set up, all ones when the p2m is only reachable " +
      "through p2m_vaddr.",
  ),
  nmi_reason: field(
    ulong,
    "Why the last NMI was raised (bits as in the platform's NMI reason port); read by dom0's NMI handler.",
  ),
  p2m_cr3: field(
    ulong,
    "Page-table root (as a CR3 value) of the address space in which p2m_vaddr is valid; 0 means the next two fields are unused.",
  ),
  p2m_vaddr: field(ulong, "Virtual address of the guest's linear p2m list, valid under p2m_cr3."),
  p2m_generation: field(
    ulong,
    "Counter the guest bumps before and after changing the p2m mapping (odd while a change is in progress).",
  ),
};

/**
 * `struct arch_shared_info` (x86): the guest's p2m described for toolstacks; on 32-bit x86
 * also the wall clock's high word (`wc_sec_hi`), for which the common part has no room.
 */
export const ARCH_SHARED_INFO_X86 = defineStruct(
  "arch_shared_info",
  "Arch-specific tail of the shared_info page: the p2m description.",
  (model) =>
    is32(model)
      ? {
          ...SHARED_ARCH,
          wc_sec_hi: field(
            u32,
            "Upper 32 bits of the wall-clock seconds. Only 32-bit x86 keeps it here: in its " +
              "shared_info there is no room after wc_nsec, so it moved into the arch part.",
          ),
        }
      : SHARED_ARCH,
);

/**
 * `struct xen_arch_domainconfig` (x86, Xen 4.19): the arch part of a domain's domctl
 * configuration.
 */
export const XEN_ARCH_DOMAINCONFIG_X86 = defineStruct(
  "xen_arch_domainconfig",
  "Arch part of a domain's configuration: emulated devices and MSR policy.",
  {
    emulation_flags: field(u32, "XEN_X86_EMU_*: emulated devices of an HVM guest (0 for PV)."),
    misc_flags: field(u32, "XEN_X86_MSR_RELAXED and future flags."),
  },
);

/** `xen_callback_t` of 32-bit x86: a far pointer (code selector and entry address). */
export const XEN_CALLBACK_X86_32 = struct({
  cs: field(ulong, "Code selector."),
  eip: field(ulong, "Entry address."),
});

/** trap_info.flags: mask of the privilege level allowed to raise the vector with `int n` (0-3). */
export const TI_DPL_MASK = 3;
/** trap_info.flags: set event mask (evtchn_upcall_mask) on entry to the handler, like an interrupt gate. */
export const TI_MASK_EVENTS = 4;

/** vcpu_guest_context.flags: fpu_ctxt holds valid FPU/SSE state. */
export const VGCF_I387_VALID = 1 << 0;
/** vcpu_guest_context.flags: the vCPU is in guest kernel mode. */
export const VGCF_IN_KERNEL = 1 << 2;
/** vcpu_guest_context.flags: entering the failsafe callback masks events. */
export const VGCF_FAILSAFE_DISABLES_EVENTS = 1 << 3;
/** vcpu_guest_context.flags: entering the syscall callback masks events. */
export const VGCF_SYSCALL_DISABLES_EVENTS = 1 << 4;
/** vcpu_guest_context.flags: the vCPU is online. */
export const VGCF_ONLINE = 1 << 5;
/** vcpu_guest_context.flags (x86_64): the guest left in a syscall; return with sysret. */
export const VGCF_IN_SYSCALL = 1 << 8;

/**
 * `struct trap_info`: one entry of the virtual IDT a PV guest installs with
 * set_trap_table (the list ends at an entry whose address is 0). 16 bytes on LP64, 8 on
 * x86_32.
 */
export const TRAP_INFO = defineStruct("trap_info", "One virtual IDT entry of a PV guest.", {
  vector: field(u8, "Exception or interrupt vector (0-255)."),
  flags: field(
    u8,
    "Bits 0-1: highest privilege level that may raise the vector with `int n` (TI_DPL_MASK); bit 2: mask events on entry (TI_MASK_EVENTS).",
  ),
  cs: field(u16, "Code selector of the handler."),
  address: field(ulong, "Handler address (virtual)."),
});

const REGS_64: FieldMap = {
  r15: field(u64, "r15."),
  r14: field(u64, "r14."),
  r13: field(u64, "r13."),
  r12: field(u64, "r12."),
  rbp: field(u64, "rbp."),
  rbx: field(u64, "rbx."),
  r11: field(u64, "r11."),
  r10: field(u64, "r10."),
  r9: field(u64, "r9."),
  r8: field(u64, "r8."),
  rax: field(u64, "rax."),
  rcx: field(u64, "rcx."),
  rdx: field(u64, "rdx."),
  rsi: field(u64, "rsi."),
  rdi: field(u64, "rdi."),
  error_code: field(u32, "Hypervisor-private: error code of the exception being handled."),
  entry_vector: field(u32, "Hypervisor-private: vector that entered the hypervisor."),
  rip: field(u64, "Instruction pointer."),
  cs: field(u16, "Code selector."),
  _pad0: field(pad(2), "Unused."),
  saved_upcall_mask: field(
    u8,
    "The vCPU's evtchn_upcall_mask at the time of the frame (a virtual IF: rflags.IF = !mask).",
  ),
  _pad1: field(pad(3), "Unused."),
  rflags: field(u64, "Flags."),
  rsp: field(u64, "Stack pointer."),
  ss: field(u16, "Stack selector."),
  _pad2: field(pad(6), "Unused."),
  es: field(u16, "es."),
  _pad3: field(pad(6), "Unused."),
  ds: field(u16, "ds."),
  _pad4: field(pad(6), "Unused."),
  fs: field(u16, "fs."),
  _pad5: field(pad(6), "Unused."),
  gs: field(u16, "gs."),
  _pad6: field(pad(6), "Unused."),
};

const REGS_32: FieldMap = {
  ebx: field(u32, "ebx."),
  ecx: field(u32, "ecx."),
  edx: field(u32, "edx."),
  esi: field(u32, "esi."),
  edi: field(u32, "edi."),
  ebp: field(u32, "ebp."),
  eax: field(u32, "eax."),
  error_code: field(u16, "Hypervisor-private: error code of the exception being handled."),
  entry_vector: field(u16, "Hypervisor-private: vector that entered the hypervisor."),
  eip: field(u32, "Instruction pointer."),
  cs: field(u16, "Code selector."),
  saved_upcall_mask: field(
    u8,
    "The vCPU's evtchn_upcall_mask at the time of the frame (a virtual IF).",
  ),
  _pad0: field(pad(1), "Unused."),
  eflags: field(u32, "Flags."),
  esp: field(u32, "Stack pointer."),
  ss: field(u16, "Stack selector."),
  _pad1: field(pad(2), "Unused."),
  es: field(u16, "es."),
  _pad2: field(pad(2), "Unused."),
  ds: field(u16, "ds."),
  _pad3: field(pad(2), "Unused."),
  fs: field(u16, "fs."),
  _pad4: field(pad(2), "Unused."),
  gs: field(u16, "gs."),
  _pad5: field(pad(2), "Unused."),
};

/**
 * `struct cpu_user_regs` (x86): the guest register frame in vcpu_guest_context. 200 bytes
 * for 64-bit guests (r15 first, as pushed), 68 for 32-bit guests (ebx first).
 */
export const CPU_USER_REGS_X86 = defineStruct(
  "cpu_user_regs",
  "The general registers, instruction pointer, flags and segment selectors of an x86 PV vCPU.",
  (model) => (is32(model) ? REGS_32 : REGS_64),
);

/**
 * `struct vcpu_guest_context` (x86): a vCPU's whole PV state, as VCPUOP_initialise and
 * domctl getvcpucontext/setvcpucontext exchange it. 5168 bytes on x86_64, 2800 on x86_32.
 */
export const VCPU_GUEST_CONTEXT_X86 = defineStruct(
  "vcpu_guest_context",
  "The complete state of an x86 PV vCPU.",
  (model) => ({
    fpu_ctxt: field(
      array(u8, 512),
      "FPU/SSE state in FXSAVE format (first, so it can be 16-byte aligned).",
    ),
    flags: field(ulong, "VGCF_* flags."),
    user_regs: field(CPU_USER_REGS_X86, "General registers."),
    trap_ctxt: field(array(TRAP_INFO, 256), "The virtual IDT (one trap_info per vector)."),
    ldt_base: field(ulong, "Linear address of the LDT."),
    ldt_ents: field(ulong, "Number of LDT entries."),
    gdt_frames: field(array(ulong, 16), "Machine frames holding the guest's GDT."),
    gdt_ents: field(ulong, "Number of GDT entries."),
    kernel_ss: field(ulong, "Kernel stack selector (the virtual TSS's SS1/SS0)."),
    kernel_sp: field(ulong, "Kernel stack pointer used when entering the guest kernel."),
    ctrlreg: field(
      array(ulong, 8),
      "Control registers CR0-CR7; CR3 holds the page-table base as xen_pfn_to_cr3(mfn); on x86_64 ctrlreg[1] is the user page-table base.",
    ),
    debugreg: field(array(ulong, 8), "Debug registers DR0-DR7."),
    ...(is32(model)
      ? {
          event_callback_cs: field(ulong, "Code selector of the event upcall handler."),
          event_callback_eip: field(ulong, "Address of the event upcall handler."),
          failsafe_callback_cs: field(
            ulong,
            "Code selector of the failsafe handler (bad segment on return).",
          ),
          failsafe_callback_eip: field(ulong, "Address of the failsafe handler."),
        }
      : {
          event_callback_eip: field(ulong, "Address of the event upcall handler."),
          failsafe_callback_eip: field(
            ulong,
            "Address of the failsafe handler (bad segment on return).",
          ),
          syscall_callback_eip: field(
            ulong,
            "Address of the guest's syscall entry (user-mode `syscall`).",
          ),
        }),
    vm_assist: field(ulong, "Bitmap of enabled VMASST_TYPE_* assists."),
    ...(is32(model)
      ? {}
      : {
          fs_base: field(u64, "FS segment base."),
          gs_base_kernel: field(u64, "GS base while in guest kernel mode."),
          gs_base_user: field(u64, "GS base while in guest user mode."),
        }),
  }),
);

/**
 * `struct iret_context` (x86_64): the frame the iret hypercall pops from the guest stack,
 * lowest address first.
 */
export const IRET_CONTEXT_X86_64 = defineStruct(
  "iret_context",
  "The stack frame the x86_64 iret hypercall consumes.",
  {
    rax: field(u64, "rax to restore (the hypercall stub pushed it)."),
    r11: field(u64, "r11 to restore."),
    rcx: field(u64, "rcx to restore."),
    flags: field(u64, "VGCF_IN_SYSCALL: return as sysret would."),
    rip: field(u64, "Return address."),
    cs: field(u64, "Return code selector."),
    rflags: field(u64, "Return flags (IF restores the event mask)."),
    rsp: field(u64, "Return stack pointer."),
    ss: field(u64, "Return stack selector."),
  },
);

/** e820 type: usable RAM. */
export const E820_RAM = 1;
/** e820 type: reserved. */
export const E820_RESERVED = 2;
/** e820 type: ACPI tables (reclaimable). */
export const E820_ACPI = 3;
/** e820 type: ACPI non-volatile storage. */
export const E820_NVS = 4;
/** e820 type: unusable. */
export const E820_UNUSABLE = 5;

/**
 * `struct e820entry` (packed, 20 bytes): one range of an x86 memory map, the element of
 * XENMEM_memory_map's and XENMEM_set_memory_map's buffers.
 */
export const E820_ENTRY = defineStruct(
  "e820entry",
  "One range of an x86 BIOS-style memory map.",
  {
    addr: field(u64, "Start address."),
    size: field(u64, "Length in bytes."),
    type: field(u32, "E820_* type."),
  },
  { packed: true },
);
