/**
 * The two x86 guest ABIs as data models: `x86_32` (ILP32, the i386 System V quirk that
 * 64-bit integers are aligned to 4 inside structs) and `x86_64` (LP64). Sources: the i386
 * and x86-64 System V psABIs (what gcc does, which the golden-layout test checks) and
 * xen/include/public/arch-x86/xen.h, xen-x86_32.h, xen-x86_64.h.
 *
 * @module
 */
import {
  LP64_WIDTHS,
  BLKIF_REQUEST,
  START_INFO,
  ulong,
  VCPU_INFO,
  type ArchParts,
  type DataModel,
} from "@hvkit/core";
import {
  ARCH_SHARED_INFO_X86,
  ARCH_VCPU_INFO_X86,
  CPU_USER_REGS_X86,
  E820_ENTRY,
  IRET_CONTEXT_X86_64,
  TRAP_INFO,
  VCPU_GUEST_CONTEXT_X86,
  XEN_ARCH_DOMAINCONFIG_X86,
  XEN_CALLBACK_X86_32,
} from "./abi.js";

const X86_32_PARTS: ArchParts = {
  archVcpuInfo: ARCH_VCPU_INFO_X86,
  archSharedInfo: ARCH_SHARED_INFO_X86,
  xenCallback: XEN_CALLBACK_X86_32,
  archDomainConfig: XEN_ARCH_DOMAINCONFIG_X86,
};

const X86_64_PARTS: ArchParts = {
  archVcpuInfo: ARCH_VCPU_INFO_X86,
  archSharedInfo: ARCH_SHARED_INFO_X86,
  xenCallback: ulong,
  archDomainConfig: XEN_ARCH_DOMAINCONFIG_X86,
};

/** The x86 structs both guest ABIs have (64-bit guests add the iret frame). */
const X86_STRUCTS = [
  ARCH_VCPU_INFO_X86,
  ARCH_SHARED_INFO_X86,
  XEN_ARCH_DOMAINCONFIG_X86,
  TRAP_INFO,
  CPU_USER_REGS_X86,
  VCPU_GUEST_CONTEXT_X86,
  E820_ENTRY,
];

/**
 * 32-bit x86 PV guests (`xen-3.0-x86_32p`): every model-dependent type 4 bytes, 64-bit
 * integers 4-aligned, 32 legacy vCPUs, the wall clock's high word in the arch part and a
 * far-pointer `xen_callback_t`.
 */
export const X86_32_DATA_MODEL: DataModel = {
  name: "x86_32",
  littleEndian: true,
  long: 4,
  pointer: 4,
  handle: 4,
  xenPfn: 4,
  xenUlong: 4,
  int64Align: 4,
  legacyMaxVcpus: 32,
  wcSecHiInArch: true,
  archParts: X86_32_PARTS,
  vcpuGuestContext: VCPU_GUEST_CONTEXT_X86,
  memoryMapEntry: E820_ENTRY,
  structs: X86_STRUCTS,
  publishedSizes: [
    { struct: START_INFO, size: 1112 },
    { struct: BLKIF_REQUEST, size: 108 },
    { struct: VCPU_GUEST_CONTEXT_X86, size: 2800 },
    { struct: VCPU_INFO, size: 64 },
  ],
};

/**
 * 64-bit x86 PV guests (`xen-3.0-x86_64`): LP64 little-endian, 32 legacy vCPUs, an
 * address as `xen_callback_t`, and the iret hypercall's frame among its structs.
 */
export const X86_64_DATA_MODEL: DataModel = {
  name: "x86_64",
  littleEndian: true,
  ...LP64_WIDTHS,
  legacyMaxVcpus: 32,
  wcSecHiInArch: false,
  archParts: X86_64_PARTS,
  vcpuGuestContext: VCPU_GUEST_CONTEXT_X86,
  memoryMapEntry: E820_ENTRY,
  structs: [...X86_STRUCTS, IRET_CONTEXT_X86_64],
  publishedSizes: [
    { struct: START_INFO, size: 1168 },
    { struct: BLKIF_REQUEST, size: 112 },
    { struct: VCPU_GUEST_CONTEXT_X86, size: 5168 },
    { struct: VCPU_INFO, size: 64 },
  ],
};
