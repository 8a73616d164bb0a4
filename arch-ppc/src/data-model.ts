/**
 * The 64-bit PowerPC guest ABI as a data model: LP64 big-endian, with every guest handle,
 * `xen_pfn_t` and `xen_ulong_t` 8 bytes (PowerPC Xen fixed them so 32- and 64-bit guests
 * share one layout), an empty `struct arch_vcpu_info` and the boot timebase as
 * `struct arch_shared_info`. Source: xen/include/public/arch-powerpc.h (in Xen until its
 * removal in 2008) and the 64-bit PowerPC ELF ABI.
 *
 * @module
 */
import { LP64_WIDTHS, BLKIF_REQUEST, START_INFO, ulong, type DataModel } from "@hvkit/core";
import {
  CPU_USER_REGS_PPC,
  ARCH_SHARED_INFO_PPC,
  ARCH_VCPU_INFO_PPC,
  XEN_ARCH_DOMAINCONFIG_PPC,
  VCPU_GUEST_CONTEXT_PPC,
} from "./abi.js";

/**
 * 64-bit PowerPC PV guests (`xen-3.0-powerpc64`): LP64 big-endian, 32 vcpu_info slots, an
 * address as `xen_callback_t`. Its vcpu_guest_context is in `abi.ts`.
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
  vcpuGuestContext: VCPU_GUEST_CONTEXT_PPC,
  structs: [
    ARCH_VCPU_INFO_PPC,
    ARCH_SHARED_INFO_PPC,
    XEN_ARCH_DOMAINCONFIG_PPC,
    CPU_USER_REGS_PPC,
    VCPU_GUEST_CONTEXT_PPC,
  ],
  publishedSizes: [
    { struct: START_INFO, size: 1168 },
    { struct: BLKIF_REQUEST, size: 112 },
  ],
};
