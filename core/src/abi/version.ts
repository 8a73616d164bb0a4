/**
 * Result buffers of xen_version (xen/include/public/version.h). The XENFEAT_* bit numbers
 * are XenFeature in abi/numbers.ts.
 *
 * @module
 */
import { chars, defineStruct, field, u32, xenUlong } from "../structs.js";

/** `xen_extraversion_t` (char[16]): XENVER_extraversion's buffer, e.g. ".0" or "-unstable". */
export const XEN_EXTRAVERSION = defineStruct("xen_extraversion", "XENVER_extraversion's result.", {
  extraversion: field(chars(16), "Version suffix after major.minor."),
});

/** `struct xen_compile_info`: XENVER_compile_info's result. */
export const XEN_COMPILE_INFO = defineStruct(
  "xen_compile_info",
  "Who built the hypervisor, when and with what.",
  {
    compiler: field(chars(64), "Compiler name and version."),
    compile_by: field(chars(16), "User who built it."),
    compile_domain: field(chars(32), "DNS domain of the build host."),
    compile_date: field(chars(32), "Build date."),
  },
);

/** `xen_capabilities_info_t` (char[1024]): XENVER_capabilities' result, e.g. "xen-3.0-x86_64 xen-3.0-x86_32p". */
export const XEN_CAPABILITIES_INFO = defineStruct(
  "xen_capabilities_info",
  "Guest ABIs the hypervisor supports.",
  {
    capabilities: field(
      chars(1024),
      "Space-separated ABI names (the start_info magic strings it can boot).",
    ),
  },
);

/** `xen_changeset_info_t` (char[64]): XENVER_changeset's result. */
export const XEN_CHANGESET_INFO = defineStruct(
  "xen_changeset_info",
  "Source revision of the hypervisor.",
  {
    changeset: field(chars(64), "Revision identifier."),
  },
);

/** `struct xen_platform_parameters`: XENVER_platform_parameters' result. */
export const XEN_PLATFORM_PARAMETERS = defineStruct(
  "xen_platform_parameters",
  "Where the hypervisor's part of the address space begins.",
  {
    virt_start: field(
      xenUlong,
      "Lowest virtual address reserved by the hypervisor (x86_64 PV: 0xffff800000000000).",
    ),
  },
);

/** `struct xen_feature_info`: XENVER_get_features' argument. */
export const XEN_FEATURE_INFO = defineStruct(
  "xen_feature_info",
  "One 32-bit word of the hypervisor's feature bitmap.",
  {
    submap_idx: field(u32, "IN: which 32-bit word (only 0 is defined)."),
    submap: field(u32, "OUT: the feature bits (XENFEAT_*)."),
  },
);
