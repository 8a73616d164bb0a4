/**
 * sysctl: the toolstack's host-wide control hypercall (`__HYPERVISOR_sysctl`, 35).
 * Source: xen/include/public/sysctl.h of Xen 4.19 (RELEASE-4.19.0). Like domctl, a call
 * passes one `struct xen_sysctl` whose `interface_version` must be
 * {@link XEN_SYSCTL_INTERFACE_VERSION} (else −EACCES), with a 128-byte payload union.
 *
 * @module
 */
import { aligned, array, defineStruct, defineUnion, field, u16, u32, u64, u8 } from "../structs.js";

/** The sysctl interface version of Xen 4.19 (sysctl.h `XEN_SYSCTL_INTERFACE_VERSION`). */
export const XEN_SYSCTL_INTERFACE_VERSION = 0x15;

/** sysctl commands (`XEN_SYSCTL_*`) hvkit implements. */
export enum SysctlCmd {
  /** Host facts: CPUs, memory, clock rate, capabilities. */
  physinfo = 3,
  /** getdomaininfo for a range of domains. */
  getdomaininfolist = 6,
}

/** `xen_sysctl_physinfo.capabilities` (XEN_SYSCTL_PHYSCAP_*). */
export enum PhysCap {
  /** HVM guests can run. */
  hvm = 1 << 0,
  /** PV guests can run. */
  pv = 1 << 1,
  /** Device pass-through (IOMMU). */
  directio = 1 << 2,
  /** Hardware-assisted paging. */
  hap = 1 << 3,
  /** Shadow paging. */
  shadow = 1 << 4,
  /** IOMMU shares HAP tables. */
  iommu_hap_pt_share = 1 << 5,
  /** Processor tracing. */
  vmtrace = 1 << 6,
  /** vPMU. */
  vpmu = 1 << 7,
  /** Grant tables v1. */
  gnttab_v1 = 1 << 8,
  /** Grant tables v2. */
  gnttab_v2 = 1 << 9,
}

const u64a = aligned(u64, 8);
const handle64 = aligned(u64, 8);

/** `struct xen_sysctl_physinfo` (112 bytes). */
export const XEN_SYSCTL_PHYSINFO = defineStruct("xen_sysctl_physinfo", "Host facts.", {
  threads_per_core: field(u32, "Threads per core."),
  cores_per_socket: field(u32, "Cores per socket."),
  nr_cpus: field(u32, "CPUs online."),
  max_cpu_id: field(u32, "Largest possible CPU id."),
  nr_nodes: field(u32, "NUMA nodes online."),
  max_node_id: field(u32, "Largest possible node id."),
  cpu_khz: field(u32, "CPU (TSC) frequency in kHz."),
  capabilities: field(u32, "XEN_SYSCTL_PHYSCAP_*."),
  arch_capabilities: field(u32, "Arch-specific capability bits."),
  pad: field(u32, "Padding."),
  total_pages: field(u64a, "Machine pages."),
  free_pages: field(u64a, "Pages no domain owns."),
  scrub_pages: field(u64a, "Pages waiting to be scrubbed."),
  outstanding_pages: field(u64a, "Claimed pages."),
  max_mfn: field(u64a, "Largest possible MFN."),
  hw_cap: field(array(u32, 8), "CPUID feature words."),
});

/** `struct xen_sysctl_getdomaininfolist` (24 bytes). */
export const XEN_SYSCTL_GETDOMAININFOLIST = defineStruct(
  "xen_sysctl_getdomaininfolist",
  "A range of domains' getdomaininfo.",
  {
    first_domain: field(u16, "IN: lowest domain id to report."),
    max_domains: field(u32, "IN: entries the buffer holds."),
    buffer: field(handle64, "IN: guest pointer to xen_domctl_getdomaininfo entries."),
    num_domains: field(u32, "OUT: entries written."),
  },
);

/** The payload union of `xen_sysctl` (128 bytes). */
export const XEN_SYSCTL_U = defineUnion("xen_sysctl_u", "Per-command payloads.", {
  physinfo: field(XEN_SYSCTL_PHYSINFO, "physinfo."),
  getdomaininfolist: field(XEN_SYSCTL_GETDOMAININFOLIST, "getdomaininfolist."),
  pad: field(array(u8, 128), "Fixes the union's size at 128 bytes."),
});

/** `struct xen_sysctl` (136 bytes, 8-aligned). */
export const XEN_SYSCTL = defineStruct("xen_sysctl", "One sysctl request.", {
  cmd: field(u32, "XEN_SYSCTL_* command."),
  interface_version: field(u32, "XEN_SYSCTL_INTERFACE_VERSION the caller was built with."),
  u: field(XEN_SYSCTL_U, "The command's payload."),
});
