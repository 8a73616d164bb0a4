/**
 * The 64-bit PowerPC guest ABI as a data model: LP64 big-endian, with every guest handle,
 * `xen_pfn_t` and `xen_ulong_t` 8 bytes (PowerPC Xen fixed them so 32- and 64-bit guests
 * share one layout), an empty `struct arch_vcpu_info` and the boot timebase as
 * `struct arch_shared_info`. Source: xen/include/public/arch-powerpc.h (in Xen until its
 * removal in 2008) and the 64-bit PowerPC ELF ABI.
 *
 * @module
 */
import {
  LP64_WIDTHS,
  BLKIF_REQUEST,
  defineStruct,
  field,
  START_INFO,
  u64,
  ulong,
  type DataModel,
} from "@hvkit/core";

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

/**
 * 64-bit PowerPC PV guests (`xen-3.0-powerpc64`): LP64 big-endian, 32 vcpu_info slots, an
 * address as `xen_callback_t`. No vcpu_guest_context yet (the port has not started).
 */
export const PPC64_DATA_MODEL: DataModel = {
  name: "ppc64",
  littleEndian: false,
  ...LP64_WIDTHS,
  legacyMaxVcpus: 32,
  wcSecHiInArch: false,
  archParts: {
    archVcpuInfo: ARCH_VCPU_INFO_PPC,
    archSharedInfo: ARCH_SHARED_INFO_PPC,
    xenCallback: ulong,
    archDomainConfig: XEN_ARCH_DOMAINCONFIG_PPC,
  },
  structs: [ARCH_VCPU_INFO_PPC, ARCH_SHARED_INFO_PPC, XEN_ARCH_DOMAINCONFIG_PPC],
  publishedSizes: [
    { struct: START_INFO, size: 1168 },
    { struct: BLKIF_REQUEST, size: 112 },
  ],
};
