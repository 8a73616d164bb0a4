/**
 * The IA-64 guest ABI as a data model: LP64 little-endian like x86_64, 64 legacy vCPUs in
 * shared_info, an empty `struct arch_vcpu_info` and IA-64's own `struct arch_shared_info`.
 * Source: xen/include/public/arch-ia64.h (present in Xen up to the 4.1 release).
 *
 * @module
 */
import {
  LP64_WIDTHS,
  array,
  BLKIF_REQUEST,
  defineStruct,
  field,
  i32,
  START_INFO,
  u32,
  u64,
  ulong,
  type DataModel,
} from "@hvkit/core";

/** `struct arch_vcpu_info` (IA-64): empty (a GNU C empty struct, size 0). */
export const ARCH_VCPU_INFO_IA64 = defineStruct(
  "arch_vcpu_info",
  "Per-vCPU arch state in vcpu_info: none on IA-64.",
  {},
);

/**
 * `struct arch_shared_info` (IA-64): where start_info and the memory map are, and the
 * vector event upcalls arrive on (272 bytes).
 */
export const ARCH_SHARED_INFO_IA64 = defineStruct(
  "arch_shared_info",
  "Arch-specific tail of the shared_info page: start_info, upcall vector, memory map.",
  {
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
  },
);

/**
 * `struct xen_arch_domainconfig` (IA-64): IA-64 left Xen (after 4.1) before domctl had an arch configuration, so its part is empty.
 */
export const XEN_ARCH_DOMAINCONFIG_IA64 = defineStruct(
  "xen_arch_domainconfig",
  "Arch part of a domain's configuration: none.",
  {},
);

/**
 * IA-64 PV guests (`xen-3.0-ia64`): LP64 little-endian, 64 vcpu_info slots, an address as
 * `xen_callback_t`. No vcpu_guest_context yet (the port has not started).
 */
export const IA64_DATA_MODEL: DataModel = {
  name: "ia64",
  littleEndian: true,
  ...LP64_WIDTHS,
  legacyMaxVcpus: 64,
  wcSecHiInArch: false,
  archParts: {
    archVcpuInfo: ARCH_VCPU_INFO_IA64,
    archSharedInfo: ARCH_SHARED_INFO_IA64,
    xenCallback: ulong,
    archDomainConfig: XEN_ARCH_DOMAINCONFIG_IA64,
  },
  structs: [ARCH_VCPU_INFO_IA64, ARCH_SHARED_INFO_IA64, XEN_ARCH_DOMAINCONFIG_IA64],
  publishedSizes: [
    { struct: START_INFO, size: 1168 },
    { struct: BLKIF_REQUEST, size: 112 },
  ],
};
