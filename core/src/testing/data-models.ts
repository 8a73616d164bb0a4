/**
 * Data models for tests of the core, which knows no real arch: two LP64 models (little-
 * and big-endian) and an ILP32 one with 4-aligned 64-bit integers and the wall clock's
 * high word in the arch part. Their arch parts are made up, shaped only to exercise what
 * the core must take from a model (holes of non-zero size, a far-pointer callback, the
 * alternative place of `wc_sec_hi`, a `vcpu_guest_context` for the core to copy); real
 * models live in the arch packages.
 *
 * @module
 */
import {
  LP64_WIDTHS,
  array,
  defineStruct,
  field,
  struct,
  u32,
  ulong,
  type ArchParts,
  type DataModel,
} from "../structs.js";
import { START_INFO } from "../abi/xen.js";

const TEST_VCPU_ARCH = defineStruct("arch_vcpu_info", "Test arch part of vcpu_info.", {
  fault_addr: field(ulong, "A made-up per-vCPU arch register."),
  pad: field(array(ulong, 1), "Padding."),
});

const TEST_SHARED_ARCH = defineStruct(
  "arch_shared_info",
  "Test arch tail of shared_info.",
  (model) => ({
    max_pfn: field(ulong, "A made-up arch word."),
    ...(model.wcSecHiInArch ? { wc_sec_hi: field(u32, "The wall clock's high word.") } : {}),
  }),
);

const TEST_DOMAINCONFIG = defineStruct("xen_arch_domainconfig", "Test arch config.", {
  flags: field(u32, "Made-up flags."),
  more: field(u32, "More."),
});

const TEST_VCPU_CONTEXT = defineStruct(
  "vcpu_guest_context",
  "Test vCPU context (what VCPUOP_initialise and setvcpucontext carry).",
  {
    flags: field(ulong, "Made-up flags; bit 0 asks for the vCPU to be online."),
    pc: field(ulong, "A made-up program counter."),
    sp: field(ulong, "A made-up stack pointer."),
  },
);

const LP64_PARTS: ArchParts = {
  archVcpuInfo: TEST_VCPU_ARCH,
  archSharedInfo: TEST_SHARED_ARCH,
  xenCallback: ulong,
  archDomainConfig: TEST_DOMAINCONFIG,
};

const lp64 = (name: string, littleEndian: boolean): DataModel => ({
  name,
  littleEndian,
  ...LP64_WIDTHS,
  legacyMaxVcpus: 32,
  wcSecHiInArch: false,
  archParts: LP64_PARTS,
  vcpuGuestContext: TEST_VCPU_CONTEXT,
  structs: [TEST_VCPU_ARCH, TEST_SHARED_ARCH, TEST_DOMAINCONFIG, TEST_VCPU_CONTEXT],
  // start_info has no arch part: 1168 bytes in any LP64 model (xen.h).
  publishedSizes: [{ struct: START_INFO, size: 1168 }],
});

/** A little-endian LP64 test model (`test-lp64`). */
export const TEST_LP64_LE: DataModel = lp64("test-lp64", true);

/** A big-endian LP64 test model (`test-lp64be`). */
export const TEST_LP64_BE: DataModel = lp64("test-lp64be", false);

/**
 * An ILP32 test model (`test-ilp32`): every model-dependent type 4 bytes, 64-bit integers
 * 4-aligned, 16 legacy vCPUs, `wc_sec_hi` in the arch part and a `{cs, ip}` callback.
 */
export const TEST_ILP32: DataModel = {
  name: "test-ilp32",
  littleEndian: true,
  long: 4,
  pointer: 4,
  handle: 4,
  xenPfn: 4,
  xenUlong: 4,
  int64Align: 4,
  legacyMaxVcpus: 16,
  wcSecHiInArch: true,
  archParts: {
    archVcpuInfo: TEST_VCPU_ARCH,
    archSharedInfo: TEST_SHARED_ARCH,
    xenCallback: struct({ cs: field(ulong, "Selector."), ip: field(ulong, "Address.") }),
    archDomainConfig: TEST_DOMAINCONFIG,
  },
  vcpuGuestContext: TEST_VCPU_CONTEXT,
  structs: [TEST_VCPU_ARCH, TEST_SHARED_ARCH, TEST_DOMAINCONFIG, TEST_VCPU_CONTEXT],
  publishedSizes: [],
};
