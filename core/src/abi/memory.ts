/**
 * Argument structs of memory_op (xen/include/public/memory.h). The entries of a memory map
 * (XENMEM_memory_map's buffer) are the arch's (x86: `struct e820entry`, in arch-x86).
 *
 * @module
 */
import { defineStruct, domid, field, handle, u16, u32, xenPfn, xenUlong } from "../structs.js";

/** XENMAPSPACE_* for xen_add_to_physmap.space: a shared_info frame. */
export const XENMAPSPACE_SHARED_INFO = 0;
/** XENMAPSPACE_*: a grant-table frame (idx is the frame number; bit 31 selects status frames). */
export const XENMAPSPACE_GRANT_TABLE = 1;
/** XENMAPSPACE_*: move an existing pseudo-physical frame. */
export const XENMAPSPACE_GMFN = 2;
/** XENMAPSPACE_*: a range of frames (size of them). */
export const XENMAPSPACE_GMFN_RANGE = 3;
/** XENMAPSPACE_*: a frame of another domain. */
export const XENMAPSPACE_GMFN_FOREIGN = 4;
/**
 * XENMAPIDX_grant_table_status: with XENMAPSPACE_grant_table, this bit of `idx` asks for
 * the domain's v2 status frame `idx & ~bit` instead of its grant frame `idx`.
 */
export const XENMAPIDX_GRANT_TABLE_STATUS = 0x80000000;

/**
 * `struct xen_memory_reservation`: increase/decrease_reservation and populate_physmap.
 * 32 bytes on LP64, 20 on x86_32.
 */
export const XEN_MEMORY_RESERVATION = defineStruct(
  "xen_memory_reservation",
  "Add or remove extents of memory.",
  {
    extent_start: field(
      handle,
      "Guest pointer to an array of xen_pfn_t: frames to free, or (populate) where to put new ones / receives the new frames.",
    ),
    nr_extents: field(xenUlong, "Number of extents."),
    extent_order: field(u32, "Each extent is 2^extent_order pages."),
    mem_flags: field(u32, "XENMEMF_* flags (low 8 bits: address-width limit; NUMA node above)."),
    domid: field(domid, "The domain (DOMID_SELF unless privileged)."),
  },
);

/**
 * `struct xen_memory_exchange`: XENMEM_exchange's argument — give back `in` extents,
 * receive `out` extents of the same total size. `nr_exchanged` (IN/OUT) is the progress
 * in input extents, so a continued or failed call can resume. 72 bytes on LP64.
 */
export const XEN_MEMORY_EXCHANGE = defineStruct(
  "xen_memory_exchange",
  "Exchange memory reservations (e.g. for frames under an address limit).",
  {
    in: field(XEN_MEMORY_RESERVATION, "The extents the domain gives back (their frame numbers)."),
    out: field(
      XEN_MEMORY_RESERVATION,
      "The extents it receives: IN pseudo-physical frames; OUT (PV) their machine frames.",
    ),
    nr_exchanged: field(xenUlong, "Input extents exchanged so far (IN and OUT)."),
  },
);

/** XENMEMF_address_bits(x): the low 8 bits of mem_flags bound the machine address width. */
export const XENMEMF_ADDRESS_BITS_MASK = 0xff;
/** XENMEMF_node(n) puts (n + 1) in bits 8–15; 0 there means no NUMA node. */
export const XENMEMF_NODE_SHIFT = 8;
/** XENMEMF_populate_on_demand: populate-on-demand entries instead of memory (HVM only). */
export const XENMEMF_POPULATE_ON_DEMAND = 1 << 16;
/** XENMEMF_exact_node_request: the node in bits 8–15 is a hard requirement. */
export const XENMEMF_EXACT_NODE_REQUEST = 1 << 17;
/** XENMEMF_vnode: the node in bits 8–15 is a virtual NUMA node. */
export const XENMEMF_VNODE = 1 << 18;

/** `struct xen_add_to_physmap`: map a special frame into the pseudo-physical space. 24 / 16 bytes. */
export const XEN_ADD_TO_PHYSMAP = defineStruct(
  "xen_add_to_physmap",
  "Place a hypervisor-provided frame at a guest frame number.",
  {
    domid: field(domid, "The domain."),
    size: field(u16, "Number of frames for XENMAPSPACE_gmfn_range."),
    space: field(u32, "XENMAPSPACE_* source."),
    idx: field(xenUlong, "Index within the source space."),
    gpfn: field(xenPfn, "Pseudo-physical frame to map it at."),
  },
);

/**
 * `struct xen_add_to_physmap_batch`: XENMEM_add_to_physmap_batch's argument — `size`
 * frames at once, each result in `errs`; the only way to ask for XENMAPSPACE_gmfn_foreign
 * (frames of domain `u.foreign_domid`). 32 bytes on LP64.
 */
export const XEN_ADD_TO_PHYSMAP_BATCH = defineStruct(
  "xen_add_to_physmap_batch",
  "Place several frames at guest frame numbers of a translated domain.",
  {
    domid: field(domid, "The domain whose physmap changes."),
    space: field(u16, "XENMAPSPACE_* source."),
    size: field(u16, "Number of frames."),
    u: field(
      defineStruct("xen_add_to_physmap_batch_extra", "Per-space extra argument.", {
        foreign_domid: field(domid, "XENMAPSPACE_gmfn_foreign: the domain owning the frames."),
      }),
      "Per-space extra argument (0 for other spaces).",
    ),
    idxs: field(handle, "Guest pointer to `size` xen_ulong_t indexes in the source space."),
    gpfns: field(handle, "Guest pointer to `size` xen_pfn_t guest frames to map them at."),
    errs: field(handle, "Guest pointer to `size` int results (0 or −errno), written by Xen."),
  },
);

/** `struct xen_memory_map`: XENMEM_memory_map's argument. 16 bytes on LP64, 8 on x86_32. */
export const XEN_MEMORY_MAP = defineStruct(
  "xen_memory_map",
  "Fetch the domain's (pseudo-physical) memory map.",
  {
    nr_entries: field(u32, "IN: capacity of buffer in entries; OUT: entries written."),
    buffer: field(
      handle,
      "Guest pointer to an array of the arch's memory-map entries (x86: e820entry).",
    ),
  },
);

/** `struct xen_machphys_mapping`: where the read-only machine-to-physical table is mapped. */
export const XEN_MACHPHYS_MAPPING = defineStruct(
  "xen_machphys_mapping",
  "Location of the guest-visible M2P table.",
  {
    v_start: field(xenUlong, "First virtual address of the M2P table."),
    v_end: field(xenUlong, "End (exclusive) of its mapping."),
    max_mfn: field(xenUlong, "Largest machine frame number it can translate."),
  },
);
