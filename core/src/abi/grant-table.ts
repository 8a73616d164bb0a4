/**
 * Grant tables (xen/include/public/grant_table.h): the v1 entry a granting domain writes
 * in its shared grant frames, and the argument structs of grant_table_op.
 *
 * @module
 */
import {
  defineStruct,
  domid,
  field,
  grantRef,
  handle,
  i16,
  u16,
  u32,
  u64,
  union,
  xenPfn,
} from "../structs.js";

/** grant_entry_v1.flags (accept-transfer entries): the transfer is committed. */
export const GTF_TRANSFER_COMMITTED = 1 << 2;
/** grant_entry_v1.flags (accept-transfer entries): the transfer is complete; frame holds the new frame. */
export const GTF_TRANSFER_COMPLETED = 1 << 3;

/** gnttab_map_grant_ref.flags: map for device (DMA) access; returns dev_bus_addr. */
export const GNTMAP_DEVICE_MAP = 1 << 0;
/** gnttab_map_grant_ref.flags: map into the caller's address space at host_addr. */
export const GNTMAP_HOST_MAP = 1 << 1;
/** gnttab_map_grant_ref.flags: map read-only. */
export const GNTMAP_READONLY = 1 << 2;
/** gnttab_map_grant_ref.flags: the mapping is accessible from guest user mode. */
export const GNTMAP_APPLICATION_MAP = 1 << 3;
/** gnttab_map_grant_ref.flags: host_addr is the machine address of the PTE to write. */
export const GNTMAP_CONTAINS_PTE = 1 << 4;

/** gnttab_copy.flags: source.u.ref is a grant reference (else source.u.gmfn is a local frame). */
export const GNTCOPY_SOURCE_GREF = 1 << 0;
/** gnttab_copy.flags: dest.u.ref is a grant reference. */
export const GNTCOPY_DEST_GREF = 1 << 1;

/** `struct grant_entry_v1` (8 bytes): one entry of a domain's v1 grant table. */
export const GRANT_ENTRY_V1 = defineStruct(
  "grant_entry_v1",
  "One v1 grant: who may access which of the granter's frames, and how.",
  {
    flags: field(
      u16,
      "GrantFlags type and flags (abi/numbers.ts). The granter writes type/readonly last (after domid and frame); the hypervisor sets reading/writing while in use.",
    ),
    domid: field(domid, "The domain allowed to use the grant."),
    frame: field(
      u32,
      "The granted frame (for access grants), or the frame transferred in (accept-transfer).",
    ),
  },
);

/** `struct gnttab_map_grant_ref` (24 bytes): map a granted frame. */
export const GNTTAB_MAP_GRANT_REF = defineStruct(
  "gnttab_map_grant_ref",
  "Map another domain's granted frame.",
  {
    host_addr: field(
      u64,
      "IN: where to map (a virtual address, or a PTE's machine address with GNTMAP_contains_pte).",
    ),
    flags: field(u32, "IN: GNTMAP_* flags."),
    ref: field(grantRef, "IN: the grant reference in the granter's table."),
    dom: field(domid, "IN: the granting domain."),
    status: field(i16, "OUT: GrantStatus (abi/numbers.ts)."),
    handle: field(u32, "OUT: handle to unmap with."),
    dev_bus_addr: field(u64, "OUT: bus address for device mappings."),
  },
);

/** `struct gnttab_unmap_grant_ref` (24 bytes): undo a map. */
export const GNTTAB_UNMAP_GRANT_REF = defineStruct(
  "gnttab_unmap_grant_ref",
  "Unmap a granted frame.",
  {
    host_addr: field(u64, "IN: the address it was mapped at (0 to skip the host mapping)."),
    dev_bus_addr: field(u64, "IN: the device mapping's bus address (0 to skip)."),
    handle: field(u32, "IN: the handle returned by the map."),
    status: field(i16, "OUT: GrantStatus (abi/numbers.ts)."),
  },
);

/** `struct gnttab_unmap_and_replace` (24 bytes): unmap, moving another mapping into the slot. */
export const GNTTAB_UNMAP_AND_REPLACE = defineStruct(
  "gnttab_unmap_and_replace",
  "Unmap a granted frame and move the mapping at new_addr into its place.",
  {
    host_addr: field(u64, "IN: the address the grant is mapped at."),
    new_addr: field(u64, "IN: the address whose mapping moves to host_addr (then left empty)."),
    handle: field(u32, "IN: the handle returned by the map."),
    status: field(i16, "OUT: GrantStatus (abi/numbers.ts)."),
  },
);

/** `struct gnttab_setup_table`: get the frames of a grant table. 24 bytes on LP64, 16 on x86_32. */
export const GNTTAB_SETUP_TABLE = defineStruct(
  "gnttab_setup_table",
  "Grow a grant table and list its frames.",
  {
    dom: field(domid, "IN: the domain (DOMID_SELF)."),
    nr_frames: field(u32, "IN: number of frames wanted."),
    status: field(i16, "OUT: GrantStatus (abi/numbers.ts)."),
    frame_list: field(handle, "IN: guest pointer to an array of xen_pfn_t receiving the frames."),
  },
);

/** `struct gnttab_query_size` (16 bytes): current and maximum grant-table size. */
export const GNTTAB_QUERY_SIZE = defineStruct("gnttab_query_size", "Query a grant table's size.", {
  dom: field(domid, "IN: the domain."),
  nr_frames: field(u32, "OUT: frames now in use."),
  max_nr_frames: field(u32, "OUT: maximum frames allowed."),
  status: field(i16, "OUT: GrantStatus (abi/numbers.ts)."),
});

/** `struct gnttab_copy_ptr`: one end of a grant copy. */
export const GNTTAB_COPY_PTR = defineStruct(
  "gnttab_copy_ptr",
  "One end (source or destination) of a grant copy.",
  {
    u: field(
      union({
        ref: field(grantRef, "A grant reference (GNTCOPY_*_gref set)."),
        gmfn: field(xenPfn, "A frame of the caller (flag clear)."),
      }),
      "Which page.",
    ),
    domid: field(domid, "Whose page (the granter for a reference, else DOMID_SELF)."),
    offset: field(u16, "Byte offset in the page."),
  },
);

/** `struct gnttab_copy`: copy bytes between granted/local pages. 40 bytes on LP64, 24 on x86_32. */
export const GNTTAB_COPY = defineStruct(
  "gnttab_copy",
  "Copy bytes between two pages, either of them granted.",
  {
    source: field(GNTTAB_COPY_PTR, "IN: where to copy from."),
    dest: field(GNTTAB_COPY_PTR, "IN: where to copy to."),
    len: field(u16, "IN: bytes to copy (may not cross a page boundary at either end)."),
    flags: field(u16, "IN: GNTCOPY_* flags."),
    status: field(i16, "OUT: GrantStatus (abi/numbers.ts)."),
  },
);

/** `struct gnttab_transfer`: give one of the caller's pages to another domain. 24 bytes on LP64, 12 on x86_32. */
export const GNTTAB_TRANSFER = defineStruct(
  "gnttab_transfer",
  "Transfer a page to a domain that offered an accept-transfer grant.",
  {
    mfn: field(
      xenPfn,
      "IN: the page to give away (a machine frame for PV guests, a guest frame otherwise).",
    ),
    domid: field(domid, "IN: the receiving domain."),
    ref: field(grantRef, "IN: the receiver's accept-transfer grant reference."),
    status: field(i16, "OUT: GrantStatus (abi/numbers.ts)."),
  },
);

/** `struct gnttab_set_version` (4 bytes). */
export const GNTTAB_SET_VERSION = defineStruct(
  "gnttab_set_version",
  "Choose the grant entry format.",
  {
    version: field(u32, "IN/OUT: the version wanted (1 or 2); OUT: the version in use."),
  },
);

/** `struct gnttab_get_version` (8 bytes). */
export const GNTTAB_GET_VERSION = defineStruct(
  "gnttab_get_version",
  "Report a domain's grant entry format.",
  {
    dom: field(domid, "IN: the domain (DOMID_SELF)."),
    pad: field(u16, "Padding."),
    version: field(u32, "OUT: the version in use."),
  },
);

/** `struct gnttab_get_status_frames` (24 bytes on LP64): a v2 table's status frames. */
export const GNTTAB_GET_STATUS_FRAMES = defineStruct(
  "gnttab_get_status_frames",
  "List the status frames of a version-2 grant table.",
  {
    nr_frames: field(u32, "IN: number of frames wanted."),
    dom: field(domid, "IN: the domain (DOMID_SELF)."),
    status: field(i16, "OUT: GrantStatus (abi/numbers.ts)."),
    frame_list: field(handle, "IN: guest pointer to a uint64_t array receiving the frames."),
  },
);

/** `struct gnttab_swap_grant_ref` (12 bytes): exchange two entries of the caller's table. */
export const GNTTAB_SWAP_GRANT_REF = defineStruct(
  "gnttab_swap_grant_ref",
  "Swap two of the caller's grant entries (neither may be in use).",
  {
    ref_a: field(grantRef, "IN: one entry."),
    ref_b: field(grantRef, "IN: the other entry."),
    status: field(i16, "OUT: GrantStatus (abi/numbers.ts)."),
  },
);
