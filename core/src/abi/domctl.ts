/**
 * domctl: the toolstack's per-domain control hypercall (`__HYPERVISOR_domctl`, 36).
 * Source: xen/include/public/domctl.h of Xen 4.19 (RELEASE-4.19.0), the version hvkit
 * reports from xen_version.
 *
 * Every call passes one `struct xen_domctl`: a command, the interface version the caller
 * was built against ({@link XEN_DOMCTL_INTERFACE_VERSION}; any other value gets −EACCES),
 * the target domain and a 128-byte union of per-command payloads. Fields the tools must
 * see on every data model are `uint64_aligned_t` and `XEN_GUEST_HANDLE_64` (8 bytes,
 * 8-aligned even for a 32-bit caller: xen-x86_32.h), so the layout is the same for a
 * 32-bit and a 64-bit toolstack except for the arch part of the config.
 *
 * `struct xen_arch_domainconfig` is the arch's (x86: emulation_flags and misc_flags,
 * arch-x86/xen.h): the data model's `archDomainConfig` fills that hole.
 *
 * @module
 */
import {
  aligned,
  archPart,
  array,
  defineStruct,
  defineUnion,
  field,
  i32,
  pad,
  u16,
  u32,
  u64,
  u8,
} from "../structs.js";

/** The domctl interface version of Xen 4.19 (domctl.h `XEN_DOMCTL_INTERFACE_VERSION`). */
export const XEN_DOMCTL_INTERFACE_VERSION = 0x17;

/** domctl commands (`XEN_DOMCTL_*`): those hvkit implements and their neighbours. */
export enum DomctlCmd {
  /** Create an empty domain; the id is IN/OUT in `xen_domctl.domain`. */
  createdomain = 1,
  /** Tear a domain down (frees its memory; its id then gives −ESRCH). */
  destroydomain = 2,
  /** Pause by the toolstack (counted, at most 255 deep). */
  pausedomain = 3,
  /** Undo one pausedomain (a new domain starts paused once). */
  unpausedomain = 4,
  /** Fill `xen_domctl_getdomaininfo`. */
  getdomaininfo = 5,
  /**
   * Removed from Xen in 4.11 (XSA-74 made it a restricted debug aid), kept by hvkit
   * as a toolstack debugging aid: the domain's MFNs into a buffer (last upstream layout,
   * {@link XEN_DOMCTL_GETMEMLIST}).
   */
  getmemlist = 6,
  /** Shadow paging / log-dirty control ({@link ShadowOp}). */
  shadow_op = 10,
  /** Set the memory limit in KiB. */
  max_mem = 11,
  /** Load a vCPU's state from a vcpu_guest_context (null handle: reset the vCPU). */
  setvcpucontext = 12,
  /** Save a vCPU's state into a vcpu_guest_context. */
  getvcpucontext = 13,
  /** Per-vCPU status. */
  getvcpuinfo = 14,
  /** Allocate vCPUs; must equal createdomain's max_vcpus. */
  max_vcpus = 15,
  /** Set the 16-byte domain handle (UUID). */
  setdomainhandle = 17,
  /** Attach or detach a debugger (XEN_DOMINF_debugged). */
  setdebugging = 18,
  /** Set the PV guest width (32 or 64 bits). */
  set_address_size = 35,
  /** Read the PV guest width. */
  get_address_size = 36,
  /** Bind a passed-through IRQ (device model; not implemented). */
  bind_pt_irq = 38,
  /** Map machine memory into a domain (device model; not implemented). */
  memory_mapping = 39,
  /** Map I/O ports (device model; not implemented). */
  ioport_mapping = 40,
  /** Unbind a passed-through IRQ (device model; not implemented). */
  unbind_pt_irq = 48,
}

/** `xen_domctl_createdomain.flags` (XEN_DOMCTL_CDF_*). */
export enum CreateDomainFlag {
  /** An HVM guest. */
  hvm = 1 << 0,
  /** Hardware-assisted paging (HVM only). */
  hap = 1 << 1,
  /** tboot S3 integrity. */
  s3_integrity = 1 << 2,
  /** No out-of-sync shadows. */
  oos_off = 1 << 3,
  /** A xenstore domain. */
  xs_domain = 1 << 4,
  /** May use the IOMMU. */
  iommu = 1 << 5,
  /** Nested virtualization. */
  nested_virt = 1 << 6,
  /** Expose the vPMU. */
  vpmu = 1 << 7,
}

/** Every CDF flag Xen 4.19 knows; others are −EINVAL (`sanitise_domain_config`). */
export const CREATEDOMAIN_KNOWN_FLAGS = 0xff;

/**
 * `xen_domctl_createdomain.grant_opts` (XEN_DOMCTL_GRANT_version_mask): the low 4 bits
 * are the highest grant-table version the domain may use (GNTTABOP_set_version); 0 is
 * refused, as is any other bit.
 */
export const XEN_DOMCTL_GRANT_VERSION_MASK = 0xf;

/** XEN_DOMCTL_GRANT_version(v): `grant_opts` allowing grant-table versions up to `v`. */
export function xenDomctlGrantVersion(v: number): number {
  return v & XEN_DOMCTL_GRANT_VERSION_MASK;
}

/** `xen_domctl_getdomaininfo.flags` (XEN_DOMINF_*). */
export enum DomainInfoFlag {
  /** Scheduled to die (fully dead). */
  dying = 1 << 0,
  /** An HVM guest. */
  hvm_guest = 1 << 1,
  /** The guest has shut down; the reason is in bits 16–23. */
  shutdown = 1 << 2,
  /** Paused by the toolstack. */
  paused = 1 << 3,
  /** Every online vCPU is blocked. */
  blocked = 1 << 4,
  /** A vCPU is running on a physical CPU right now. */
  running = 1 << 5,
  /** A debugger is attached (setdebugging). */
  debugged = 1 << 6,
  /** A xenstore domain. */
  xs_domain = 1 << 7,
  /** Uses hardware-assisted paging. */
  hap = 1 << 8,
}

/** Where the shutdown code sits in getdomaininfo flags (`XEN_DOMINF_shutdownshift`). */
export const XEN_DOMINF_SHUTDOWN_SHIFT = 16;
/** Its mask after the shift (`XEN_DOMINF_shutdownmask`). */
export const XEN_DOMINF_SHUTDOWN_MASK = 255;
/** max_vcpu_id of a domain without vCPUs (`XEN_INVALID_MAX_VCPU_ID`). */
export const XEN_INVALID_MAX_VCPU_ID = 0xffffffff;

/** `xen_domctl_shadow_op.op` (XEN_DOMCTL_SHADOW_OP_*). */
export enum ShadowOp {
  /** Disable shadow mode. */
  OFF = 0,
  /** Legacy: ENABLE with no mode flags. */
  ENABLE_TEST = 1,
  /** Legacy: ENABLE with ENABLE_LOG_DIRTY. */
  ENABLE_LOGDIRTY = 2,
  /** Return the dirty bitmap and clear it. */
  CLEAN = 11,
  /** Return the dirty bitmap, keep it. */
  PEEK = 12,
  /** Shadow pool size in MiB (deprecated upstream). */
  GET_ALLOCATION = 30,
  /** Set the shadow pool size (deprecated upstream). */
  SET_ALLOCATION = 31,
  /** Enable with XEN_DOMCTL_SHADOW_ENABLE_* mode flags. */
  ENABLE = 32,
}

/** `XEN_DOMCTL_SHADOW_ENABLE_*` mode flags for {@link ShadowOp.ENABLE}. */
export enum ShadowEnableFlag {
  /** Refcounted shadows. */
  REFCOUNT = 1 << 1,
  /** Log pages as they are dirtied (live migration). */
  LOG_DIRTY = 1 << 2,
  /** Translate GPFNs. */
  TRANSLATE = 1 << 3,
  /** External paging (HVM). */
  EXTERNAL = 1 << 4,
}

/** `uint64_aligned_t`: 8 bytes, 8-aligned on every model. */
const u64a = aligned(u64, 8);
/** `XEN_GUEST_HANDLE_64(T)`: a guest pointer in 8 bytes, 8-aligned on every model. */
const handle64 = aligned(u64, 8);
/** `xen_domain_handle_t`: 16 bytes. */
const domainHandle = array(u8, 16);

/** `struct xen_domctl_createdomain` (68 bytes, 4-aligned, with x86's 8-byte arch part). */
export const XEN_DOMCTL_CREATEDOMAIN = defineStruct(
  "xen_domctl_createdomain",
  "The configuration of a domain to create.",
  {
    ssidref: field(u32, "XSM security label id (0 with the dummy policy)."),
    handle: field(domainHandle, "The domain handle (UUID) to record."),
    flags: field(u32, "XEN_DOMCTL_CDF_* (hvm, hap, xs_domain, ...)."),
    iommu_opts: field(u32, "XEN_DOMCTL_IOMMU_*; must be 0 without CDF_iommu."),
    max_vcpus: field(u32, "Number of vCPUs the domain may have (at least 1)."),
    max_evtchn_port: field(u32, "Highest event-channel port."),
    max_grant_frames: field(i32, "Grant-table frames; < 0 for the hypervisor default."),
    max_maptrack_frames: field(i32, "Maptrack frames; < 0 for the default."),
    grant_opts: field(
      u32,
      "Highest grant-table version in the low 4 bits (1 or 2; see XEN_DOMCTL_GRANT_VERSION_MASK); other bits must be 0.",
    ),
    altp2m_opts: field(u32, "altp2m mode (HVM)."),
    vmtrace_size: field(u32, "Per-vCPU trace buffer size (0: none)."),
    cpupool_id: field(u32, "CPU pool (0: the default pool)."),
    arch: field(archPart("archDomainConfig"), "Arch configuration (the model's)."),
  },
);

/** `struct xen_domctl_getdomaininfo` (112 bytes with x86's arch part, 8-aligned); also sysctl getdomaininfolist's element. */
export const XEN_DOMCTL_GETDOMAININFO = defineStruct(
  "xen_domctl_getdomaininfo",
  "A domain's status as the toolstack sees it.",
  {
    domain: field(u16, "The domain id (also echoed in xen_domctl.domain)."),
    pad1: field(u16, "Padding."),
    flags: field(u32, "XEN_DOMINF_* bits; shutdown code in bits 16-23."),
    tot_pages: field(u64a, "Pages the domain owns."),
    max_pages: field(u64a, "Its page limit (max_mem)."),
    outstanding_pages: field(u64a, "Claimed but not yet allocated pages."),
    shr_pages: field(u64a, "Shared pages (mem_sharing)."),
    paged_pages: field(u64a, "Paged-out pages (mem_paging)."),
    shared_info_frame: field(u64a, "Guest frame of shared_info (the MFN for a PV guest)."),
    cpu_time: field(u64a, "Nanoseconds its vCPUs have run."),
    nr_online_vcpus: field(u32, "vCPUs that are up."),
    max_vcpu_id: field(u32, "Highest vCPU id (XEN_INVALID_MAX_VCPU_ID with none)."),
    ssidref: field(u32, "XSM label id."),
    handle: field(domainHandle, "The domain handle."),
    cpupool: field(u32, "CPU pool id."),
    gpaddr_bits: field(u8, "Guest physical address width."),
    pad2: field(array(u8, 7), "Padding."),
    arch_config: field(archPart("archDomainConfig"), "Arch configuration (the model's)."),
  },
);

/** `struct xen_domctl_shadow_op_stats`. */
export const XEN_DOMCTL_SHADOW_OP_STATS = defineStruct(
  "xen_domctl_shadow_op_stats",
  "Log-dirty statistics of one CLEAN/PEEK round.",
  {
    fault_count: field(u32, "Write faults taken."),
    dirty_count: field(u32, "Pages found dirty."),
  },
);

/** `struct xen_domctl_shadow_op` (40 bytes). */
export const XEN_DOMCTL_SHADOW_OP = defineStruct(
  "xen_domctl_shadow_op",
  "Shadow paging and log-dirty control.",
  {
    op: field(u32, "XEN_DOMCTL_SHADOW_OP_*."),
    mode: field(u32, "ENABLE: XEN_DOMCTL_SHADOW_ENABLE_*; CLEAN/PEEK: LOGDIRTY_FINAL."),
    mb: field(u32, "GET/SET_ALLOCATION: pool size in MiB."),
    dirty_bitmap: field(handle64, "CLEAN/PEEK: buffer for the dirty bitmap."),
    pages: field(u64a, "CLEAN/PEEK: bitmap size in pages (bits); updated."),
    stats: field(XEN_DOMCTL_SHADOW_OP_STATS, "CLEAN/PEEK: statistics."),
  },
);

/** `struct xen_domctl_max_mem`. */
export const XEN_DOMCTL_MAX_MEM = defineStruct("xen_domctl_max_mem", "New memory limit.", {
  max_memkb: field(u64a, "Limit in KiB (becomes max_pages = KiB >> (PAGE_SHIFT - 10))."),
});

/** `struct xen_domctl_vcpucontext` (16 bytes). */
export const XEN_DOMCTL_VCPUCONTEXT = defineStruct(
  "xen_domctl_vcpucontext",
  "Which vCPU's context, and where it is.",
  {
    vcpu: field(u32, "vCPU id."),
    ctxt: field(handle64, "Guest pointer to a vcpu_guest_context (set: null resets the vCPU)."),
  },
);

/** `struct xen_domctl_getvcpuinfo` (24 bytes). */
export const XEN_DOMCTL_GETVCPUINFO = defineStruct("xen_domctl_getvcpuinfo", "One vCPU's status.", {
  vcpu: field(u32, "IN: vCPU id."),
  online: field(u8, "Up (not hot-unplugged)."),
  blocked: field(u8, "Blocked waiting for an event."),
  running: field(u8, "Running on a physical CPU now."),
  cpu_time: field(u64a, "Nanoseconds run."),
  cpu: field(u32, "Physical CPU it is mapped to."),
});

/** `struct xen_domctl_max_vcpus`. */
export const XEN_DOMCTL_MAX_VCPUS = defineStruct("xen_domctl_max_vcpus", "vCPU count.", {
  max: field(u32, "Must equal createdomain's max_vcpus."),
});

/** `struct xen_domctl_setdomainhandle`. */
export const XEN_DOMCTL_SETDOMAINHANDLE = defineStruct(
  "xen_domctl_setdomainhandle",
  "New domain handle.",
  { handle: field(domainHandle, "The 16-byte handle.") },
);

/** `struct xen_domctl_setdebugging`. */
export const XEN_DOMCTL_SETDEBUGGING = defineStruct(
  "xen_domctl_setdebugging",
  "Debugger attach flag.",
  { enable: field(u8, "Non-zero: a debugger is attached.") },
);

/** `struct xen_domctl_address_size`. */
export const XEN_DOMCTL_ADDRESS_SIZE = defineStruct("xen_domctl_address_size", "PV guest width.", {
  size: field(u32, "32 or 64 (bits)."),
});

/**
 * `struct xen_domctl_getmemlist` as Xen last had it (domctl.h before commit 94450e36,
 * Xen 4.10): 32 bytes.
 */
export const XEN_DOMCTL_GETMEMLIST = defineStruct(
  "xen_domctl_getmemlist",
  "The domain's machine frames.",
  {
    max_pfns: field(u64a, "IN: entries the buffer holds."),
    start_pfn: field(u64a, "IN: ignored, as in Xen (which never honoured it)."),
    buffer: field(handle64, "IN: guest pointer to max_pfns uint64 MFNs."),
    num_pfns: field(u64a, "OUT: entries written."),
  },
);

/** The payload union of `xen_domctl` (128 bytes: Xen pads it with `uint8_t pad[128]`). */
export const XEN_DOMCTL_U = defineUnion("xen_domctl_u", "Per-command payloads.", {
  createdomain: field(XEN_DOMCTL_CREATEDOMAIN, "createdomain."),
  getdomaininfo: field(XEN_DOMCTL_GETDOMAININFO, "getdomaininfo."),
  getmemlist: field(XEN_DOMCTL_GETMEMLIST, "getmemlist."),
  shadow_op: field(XEN_DOMCTL_SHADOW_OP, "shadow_op."),
  max_mem: field(XEN_DOMCTL_MAX_MEM, "max_mem."),
  vcpucontext: field(XEN_DOMCTL_VCPUCONTEXT, "set/getvcpucontext."),
  getvcpuinfo: field(XEN_DOMCTL_GETVCPUINFO, "getvcpuinfo."),
  max_vcpus: field(XEN_DOMCTL_MAX_VCPUS, "max_vcpus."),
  setdomainhandle: field(XEN_DOMCTL_SETDOMAINHANDLE, "setdomainhandle."),
  setdebugging: field(XEN_DOMCTL_SETDEBUGGING, "setdebugging."),
  address_size: field(XEN_DOMCTL_ADDRESS_SIZE, "set/get_address_size."),
  pad: field(array(u8, 128), "Fixes the union's size at 128 bytes."),
});

/** `struct xen_domctl` (144 bytes, 8-aligned, on every model). */
export const XEN_DOMCTL = defineStruct("xen_domctl", "One domctl request.", {
  cmd: field(u32, "XEN_DOMCTL_* command."),
  interface_version: field(u32, "XEN_DOMCTL_INTERFACE_VERSION the caller was built with."),
  domain: field(u16, "Target domain (IN/OUT for createdomain)."),
  _pad: field(pad(6), "uint16_t _pad[3]."),
  u: field(XEN_DOMCTL_U, "The command's payload."),
});
