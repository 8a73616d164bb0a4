/**
 * The generic shared-ring header of split drivers (xen/include/public/io/ring.h).
 *
 * A front end and a back end share one page: this 64-byte header, then as many
 * request/response slots (a union of the two message types) as fit, rounded down to a
 * power of two. Indices are free-running 32-bit counters; slot = index mod ring size.
 *
 * @module
 */
import { array, defineStruct, field, struct, u32, u8, union } from "../structs.js";

/**
 * `struct *_sring` header (64 bytes in every model; the slots follow at offset 64).
 */
export const SRING_HEADER = defineStruct(
  "sring_header",
  "Producer/consumer indices at the start of every shared ring page.",
  {
    req_prod: field(
      u32,
      "Requests produced by the front end (written by it after filling the slots).",
    ),
    req_event: field(u32, "The back end wants an event when req_prod passes this value."),
    rsp_prod: field(u32, "Responses produced by the back end."),
    rsp_event: field(u32, "The front end wants an event when rsp_prod passes this value."),
    pvt: field(
      union({
        netif: field(
          struct({ smartpoll_active: field(u8, "Netfront polling hint.") }),
          "Net driver private byte.",
        ),
        tapif_user: field(struct({ msg: field(u8, "Blktap message.") }), "Blktap private byte."),
        pvt_pad: field(array(u8, 4), "Size of the private area."),
      }),
      "Driver-private bytes.",
    ),
    __pad: field(array(u8, 44), "Pads the header to 64 bytes."),
  },
);

/** Byte offset of the first slot in a shared ring page. */
export const SRING_SLOTS_OFFSET = 64;

/**
 * Number of slots of a shared ring (`__RING_SIZE`): the largest power of two of
 * `entrySize`-byte slots that fits in `pageSize` bytes after the header.
 */
export function sringSlots(pageSize: number, entrySize: number): number {
  const fit = Math.floor((pageSize - SRING_SLOTS_OFFSET) / entrySize);
  return fit < 1 ? 0 : 2 ** Math.floor(Math.log2(fit));
}
