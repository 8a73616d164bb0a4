/**
 * The per-architecture parts of the common structs: `struct arch_vcpu_info` (inside every
 * {@link VCPU_INFO}) and `struct arch_shared_info` (at the end of {@link SHARED_INFO}).
 *
 * Xen's common headers leave a hole for each arch to fill; hvkit declares the hole once
 * with one variant per data model. Sources: arch-x86/xen-x86_32.h, xen-x86_64.h and
 * arch-x86/xen.h (current Xen), arch-ia64.h (last present in Xen 4.1) and
 * arch-powerpc.h (removed from Xen in 2008).
 *
 * @module
 */
import {
  array,
  defineStruct,
  field,
  i32,
  u32,
  u64,
  ulong,
  xenPfn,
  type FieldMap,
} from "../structs.js";

const X86_VCPU_ARCH = (padWords: number): FieldMap => ({
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
 * `struct arch_vcpu_info`: arch state in each vCPU's vcpu_info. x86 carries the guest's
 * CR2 there; IA-64 and PowerPC left it empty (size 0, a GNU C empty struct).
 */
export const ARCH_VCPU_INFO = defineStruct(
  "arch_vcpu_info",
  "Per-vCPU arch state published in vcpu_info (x86: the page-fault address).",
  (model) => (model === "x86_32" ? X86_VCPU_ARCH(5) : model === "x86_64" ? X86_VCPU_ARCH(1) : {}),
);

const X86_SHARED_ARCH: FieldMap = {
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
 * `struct arch_shared_info`: the arch tail of shared_info. x86 describes the guest's p2m
 * for toolstacks; IA-64 locates start_info and the memory map; PowerPC gives the
 * timebase at boot.
 */
export const ARCH_SHARED_INFO = defineStruct(
  "arch_shared_info",
  "Arch-specific tail of the shared_info page.",
  (model) => {
    switch (model) {
      case "x86_32":
        return {
          ...X86_SHARED_ARCH,
          wc_sec_hi: field(
            u32,
            "Upper 32 bits of the wall-clock seconds. Only 32-bit x86 keeps it here: in its " +
              "shared_info there is no room after wc_nsec, so it moved into the arch part.",
          ),
        };
      case "x86_64":
        return X86_SHARED_ARCH;
      case "ia64":
        return {
          start_info_pfn: field(
            ulong,
            "Pseudo-physical frame of the start_info page (IA-64 passes it here rather than in a register).",
          ),
          evtchn_vector: field(
            i32,
            "Interrupt vector the guest wants event-channel upcalls delivered on.",
          ),
          memmap_info_num_pages: field(
            u32,
            "Number of pages of the memory-map info area (only 1 was supported).",
          ),
          memmap_info_pfn: field(
            ulong,
            "Pseudo-physical frame of the memory-map info area (an EFI memory map).",
          ),
          pad: field(array(u64, 31), "Reserved."),
        };
      case "ppc64":
        return {
          boot_timebase: field(
            u64,
            "Value of the PowerPC timebase register when the domain booted.",
          ),
        };
    }
  },
);
