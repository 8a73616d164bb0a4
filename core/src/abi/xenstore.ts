/**
 * The xenstore ring page and message header (xen/include/public/io/xs_wire.h). A guest
 * talks to xenstored through two 1 KiB byte rings; every message is a 16-byte
 * `xsd_sockmsg` header followed by `len` payload bytes. (Message type numbers are in
 * abi/numbers.ts.)
 *
 * @module
 */
import { chars, defineStruct, field, u32 } from "../structs.js";
import { XENSTORE_RING_SIZE } from "./numbers.js";

/** Longest absolute path. */
export const XENSTORE_ABS_PATH_MAX = 3072;
/** Longest relative path. */
export const XENSTORE_REL_PATH_MAX = 2048;
/** `struct xenstore_domain_interface` (2080 bytes): the xenstore ring page. */
export const XENSTORE_DOMAIN_INTERFACE = defineStruct(
  "xenstore_domain_interface",
  "A domain's xenstore ring page.",
  {
    req: field(chars(XENSTORE_RING_SIZE), "Requests from the guest to xenstored."),
    rsp: field(chars(XENSTORE_RING_SIZE), "Replies and watch events from xenstored."),
    req_cons: field(u32, "Server's read index into req."),
    req_prod: field(u32, "Guest's write index into req."),
    rsp_cons: field(u32, "Guest's read index into rsp."),
    rsp_prod: field(u32, "Server's write index into rsp."),
    server_features: field(
      u32,
      "XenstoreServerFeature bits the server supports (written by the server).",
    ),
    connection: field(u32, "XenstoreConnection state."),
    error: field(u32, "XenstoreError the server detected."),
    evtchn_port: field(u32, "Event channel the server uses (newer servers; 0 if unknown)."),
  },
);

/** `struct xsd_sockmsg` (16 bytes): the header of every xenstore message. */
export const XSD_SOCKMSG = defineStruct("xsd_sockmsg", "Header of a xenstore request or reply.", {
  type: field(u32, "XenstoreMessageType."),
  req_id: field(u32, "Request id chosen by the client, echoed in the reply."),
  tx_id: field(u32, "Transaction id, 0 outside a transaction."),
  len: field(u32, "Payload length in bytes (at most XENSTORE_PAYLOAD_MAX)."),
});
