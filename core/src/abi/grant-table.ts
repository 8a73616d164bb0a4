/**
 * Grant tables (xen/include/public/grant_table.h): the entries a granting domain writes
 * in its shared grant frames (v1, or v2 after GNTTABOP_set_version), and the argument
 * structs of grant_table_op.
 *
 * A domain's table holds entries of one version only. v1 entries are 8 bytes, the flags
 * word carrying both what the granter says (type, readonly, ...) and what the hypervisor
 * reports (GTF_reading, GTF_writing). v2 entries are 16 bytes with a 64-bit frame and two
 * more kinds of grant (a sub-range of a page, and a transitive grant of another domain's
 * grant); the hypervisor's GTF_reading / GTF_writing move to separate status frames, one
 * `grant_status_t` (u16) per entry, which the guest lists with GNTTABOP_get_status_frames
 * and maps like its grant frames. Whichever version a granter uses, grantees address its
 * grants the same way.
 *
 * @module
 */
import {
  array,
  defineStruct,
  defineUnion,
  domid,
  field,
  grantRef,
  handle,
  i16,
  struct,
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

/**
 * The first entries of a table that GNTTABOP_set_version carries over to the new format
 * (GNTTAB_NR_RESERVED_ENTRIES): the toolstack's grants of the console and xenstore pages
 * (GNTTAB_RESERVED_CONSOLE 0, GNTTAB_RESERVED_XENSTORE 1), which may stay mapped by the
 * back ends while a guest (a kexec'd kernel, say) switches version.
 */
export const GNTTAB_NR_RESERVED_ENTRIES = 8;

/** `struct grant_entry_header` (4 bytes): the prefix v1 and v2 entries share. */
export const GRANT_ENTRY_HEADER = defineStruct(
  "grant_entry_header",
  "The flags and grantee of a grant entry, the same in both versions.",
  {
    flags: field(
      u16,
      "GrantFlags type and flags. In a v2 table GTF_reading / GTF_writing are not here but in the entry's grant_status_t.",
    ),
    domid: field(domid, "The domain allowed to use the grant."),
  },
);

/**
 * `union grant_entry_v2` (16 bytes): one entry of a domain's v2 grant table. Which member
 * applies follows from `hdr.flags`: `full_page` for GTF_permit_access without
 * GTF_sub_page and for GTF_accept_transfer; `sub_page` for GTF_permit_access with
 * GTF_sub_page (the grantee may copy bytes [page_off, page_off + length) of the frame,
 * never map it); `transitive` for GTF_transitive (the grantee may copy through grant
 * `gref` of domain `trans_domid`, which must have granted it to this domain; never map).
 */
export const GRANT_ENTRY_V2 = defineUnion(
  "grant_entry_v2",
  "One v2 grant: a full page, a sub-range of a page, or a transitive grant.",
  {
    hdr: field(GRANT_ENTRY_HEADER, "Flags and grantee, as in every member."),
    full_page: field(
      struct({
        hdr: field(GRANT_ENTRY_HEADER, "Flags and grantee."),
        pad0: field(u32, "Padding."),
        frame: field(
          u64,
          "The granted frame (permit_access), or the frame transferred in (accept_transfer).",
        ),
      }),
      "A whole-page grant or an accept-transfer entry.",
    ),
    sub_page: field(
      struct({
        hdr: field(GRANT_ENTRY_HEADER, "Flags (GTF_sub_page set) and grantee."),
        page_off: field(u16, "First byte the grantee may copy."),
        length: field(u16, "Number of bytes the grantee may copy."),
        frame: field(u64, "The granted frame."),
      }),
      "Access to a byte range of one page, for copies only.",
    ),
    transitive: field(
      struct({
        hdr: field(GRANT_ENTRY_HEADER, "Flags (type GTF_transitive) and grantee."),
        trans_domid: field(domid, "The domain whose grant is passed on."),
        pad0: field(u16, "Padding."),
        gref: field(grantRef, "The grant of trans_domid that is passed on."),
      }),
      "Access through another domain's grant, for copies only.",
    ),
    __spacer: field(array(u32, 4), "Pads the union to 16 bytes."),
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
