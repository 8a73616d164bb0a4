/**
 * Block-device ring messages (xen/include/public/io/blkif.h). The `id` and
 * `sector_number` fields are 64-bit, so their offsets differ between x86_32 (aligned to 4)
 * and the LP64 models: a 32-bit front end and a 64-bit back end must agree on the
 * protocol ("x86_32-abi" vs "x86_64-abi" in xenstore) — the classic blkif pitfall.
 *
 * @module
 */
import {
  array,
  defineStruct,
  defineUnion,
  field,
  grantRef,
  i16,
  u16,
  u64,
  u8,
} from "../structs.js";

/** blkif_request.operation: read sectors into the granted pages. */
export const BLKIF_OP_READ = 0;
/** blkif_request.operation: write sectors from the granted pages. */
export const BLKIF_OP_WRITE = 1;
/** blkif_request.operation: write with a barrier (ordered after all earlier writes). */
export const BLKIF_OP_WRITE_BARRIER = 2;
/** blkif_request.operation: flush the disk's write cache. */
export const BLKIF_OP_FLUSH_DISKCACHE = 3;
/** blkif_request.operation: discard sectors. */
export const BLKIF_OP_DISCARD = 5;
/** blkif_request.operation: segments are listed in indirect pages. */
export const BLKIF_OP_INDIRECT = 6;
/** Segments per direct request. */
export const BLKIF_MAX_SEGMENTS_PER_REQUEST = 11;
/** blkif_response.status: success. */
export const BLKIF_RSP_OKAY = 0;
/** blkif_response.status: I/O error. */
export const BLKIF_RSP_ERROR = -1;
/** blkif_response.status: operation not supported. */
export const BLKIF_RSP_EOPNOTSUPP = -2;

/** `struct blkif_request_segment` (8 bytes): one granted page of an I/O request. */
export const BLKIF_REQUEST_SEGMENT = defineStruct(
  "blkif_request_segment",
  "One page of a block request.",
  {
    gref: field(grantRef, "Grant reference of the data page."),
    first_sect: field(u8, "First 512-byte sector in the page to transfer."),
    last_sect: field(u8, "Last sector in the page to transfer (inclusive)."),
  },
);

/** `struct blkif_request`: 112 bytes on LP64, 108 on x86_32. */
export const BLKIF_REQUEST = defineStruct(
  "blkif_request",
  "A block I/O request from front end to back end.",
  {
    operation: field(u8, "BLKIF_OP_*."),
    nr_segments: field(u8, "Number of valid entries in seg."),
    handle: field(u16, "The virtual device (blkif_vdev_t)."),
    id: field(u64, "Opaque value echoed in the response."),
    sector_number: field(u64, "First 512-byte sector on the disk."),
    seg: field(array(BLKIF_REQUEST_SEGMENT, BLKIF_MAX_SEGMENTS_PER_REQUEST), "The data pages."),
  },
);

/** `struct blkif_response`: 16 bytes on LP64, 12 on x86_32. */
export const BLKIF_RESPONSE = defineStruct(
  "blkif_response",
  "The back end's answer to a request.",
  {
    id: field(u64, "The request's id."),
    operation: field(u8, "The request's operation."),
    status: field(i16, "BLKIF_RSP_*."),
  },
);

/** `union blkif_sring_entry`: one slot of the block ring (a request or a response). */
export const BLKIF_SRING_ENTRY = defineUnion("blkif_sring_entry", "One block-ring slot.", {
  req: field(BLKIF_REQUEST, "A request (front end to back end)."),
  rsp: field(BLKIF_RESPONSE, "A response (back end to front end)."),
});
