/**
 * The IA-64 guest ABI as a data model: LP64 little-endian like x86_64, 64 legacy vCPUs in
 * shared_info, an empty `struct arch_vcpu_info` and IA-64's own `struct arch_shared_info`.
 * Source: xen/include/public/arch-ia64.h (present in Xen up to the 4.1 release).
 *
 * @module
 */
import { LP64_WIDTHS, BLKIF_REQUEST, START_INFO, ulong, type DataModel } from "@hvkit/core";
import {
  ARCH_SHARED_INFO_IA64,
  ARCH_VCPU_INFO_IA64,
  XEN_ARCH_DOMAINCONFIG_IA64,
  VCPU_GUEST_CONTEXT_IA64,
} from "./abi.js";

/**
 * IA-64 PV guests (`xen-3.0-ia64`): LP64 little-endian, 64 vcpu_info slots, an address as
 * `xen_callback_t`. Its vcpu_guest_context is in `abi.ts`.
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
  vcpuGuestContext: VCPU_GUEST_CONTEXT_IA64,
  structs: [
    ARCH_VCPU_INFO_IA64,
    ARCH_SHARED_INFO_IA64,
    XEN_ARCH_DOMAINCONFIG_IA64,
    VCPU_GUEST_CONTEXT_IA64,
  ],
  publishedSizes: [
    { struct: START_INFO, size: 1168 },
    { struct: BLKIF_REQUEST, size: 112 },
  ],
};
