/**
 * The xenstore wire format shared by the daemon and the xenbus client: the 16-byte
 * `xsd_sockmsg` header (laid out by core's {@link XSD_SOCKMSG}), nul-separated string
 * payloads, the error names of `xsd_errors[]` (io/xs_wire.h) and the permission bits and
 * letters of xenstore_lib.h / xenstore-common.h.
 *
 * Headers are in the guest's byte order: a ring page is shared memory, so xenstored
 * reads the fields natively, as the guest wrote them.
 *
 * @module
 */
import { fixedLayout, XENSTORE_PAYLOAD_MAX, XSD_SOCKMSG, XenstoreMessageType } from "@hvkit/core";

/** Size of the `xsd_sockmsg` header. */
export const XS_HEADER_SIZE = 16;

/** Number of message types xenstored knows (`XS_TYPE_COUNT`). */
export const XS_TYPE_COUNT = 27;

/**
 * The error names xenstored may send in an XS_ERROR payload, in `xsd_errors[]` order.
 * An errno not in the table is sent as "EINVAL" (xenstored's send_error).
 */
export const XS_ERROR_NAMES = [
  "EINVAL",
  "EACCES",
  "EEXIST",
  "EISDIR",
  "ENOENT",
  "ENOMEM",
  "ENOSPC",
  "EIO",
  "ENOTEMPTY",
  "ENOSYS",
  "EROFS",
  "EBUSY",
  "EAGAIN",
  "EISCONN",
  "E2BIG",
  "EPERM",
] as const;

/** One of the error names of {@link XS_ERROR_NAMES}. */
export type XsErrorName = (typeof XS_ERROR_NAMES)[number];

/** A decoded message header. */
export interface XsHeader {
  /** XenstoreMessageType (any u32 on input). */
  type: number;
  /** Client-chosen id, echoed in the reply. */
  reqId: number;
  /** Transaction id, 0 outside a transaction. */
  txId: number;
  /** Payload length. */
  len: number;
}

/** A whole message: header fields and payload. */
export interface XsMessage {
  /** XenstoreMessageType. */
  readonly type: number;
  /** Request id. */
  readonly reqId: number;
  /** Transaction id. */
  readonly txId: number;
  /** Payload bytes (`len` of them). */
  readonly payload: Uint8Array;
}

const HDR = {
  le: fixedLayout(XSD_SOCKMSG, true),
  be: fixedLayout(XSD_SOCKMSG, false),
};

/** Decodes a header from `bytes` (at least 16 bytes) in the given byte order. */
export function decodeHeader(bytes: Uint8Array, littleEndian: boolean): XsHeader {
  const layout = littleEndian ? HDR.le : HDR.be;
  const view = new DataView(bytes.buffer, bytes.byteOffset, XS_HEADER_SIZE);
  return {
    type: layout.getNumber(view, 0, "type"),
    reqId: layout.getNumber(view, 0, "req_id"),
    txId: layout.getNumber(view, 0, "tx_id"),
    len: layout.getNumber(view, 0, "len"),
  };
}

/** Encodes a message (header and payload) in the given byte order. */
export function encodeMessage(message: XsMessage, littleEndian: boolean): Uint8Array {
  const layout = littleEndian ? HDR.le : HDR.be;
  const out = new Uint8Array(XS_HEADER_SIZE + message.payload.length);
  const view = new DataView(out.buffer);
  layout.set(view, 0, "type", message.type >>> 0);
  layout.set(view, 0, "req_id", message.reqId >>> 0);
  layout.set(view, 0, "tx_id", message.txId >>> 0);
  layout.set(view, 0, "len", message.payload.length);
  out.set(message.payload, XS_HEADER_SIZE);
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("latin1");

/** Bytes of a string (UTF-8; paths and tokens are ASCII). */
export function bytesOf(text: string): Uint8Array {
  return encoder.encode(text);
}

/** A string from bytes, one char per byte (paths are ASCII; never throws). */
export function textOf(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Joins strings into a payload, each followed by a nul (`<s>|<s>|`). */
export function nulStrings(...parts: (string | Uint8Array)[]): Uint8Array {
  const chunks = parts.map((p) => (typeof p === "string" ? bytesOf(p) : p));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length + 1, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length + 1;
  }
  return out;
}

/**
 * The nul-terminated strings at the start of a payload (xenstored's get_strings): bytes
 * after the last nul are not a string and are ignored.
 */
export function splitStrings(payload: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < payload.length; i++) {
    if (payload[i] === 0) {
      out.push(textOf(payload.subarray(start, i)));
      start = i + 1;
    }
  }
  return out;
}

/** Is `type` one a reply may carry for a request of `requestType` (same type or ERROR)? */
export function isReplyType(type: number, requestType: number): boolean {
  return type === requestType || type === XenstoreMessageType.ERROR;
}

/** Largest payload either side may send. */
export const XS_PAYLOAD_MAX = XENSTORE_PAYLOAD_MAX;

/** Permission bits of a node's ACL entry (`XS_PERM_*`, xenstore_lib.h). */
export enum XsPerm {
  /** No access. */
  NONE = 0x00,
  /** Read. */
  READ = 0x01,
  /** Write. */
  WRITE = 0x02,
  /** Internal to the permission check: owner rights. */
  OWNER = 0x08,
  /** Internal: the entry names a domain that does not exist and is skipped. */
  IGNORE = 0x10,
}

/** One ACL entry: a domain and its rights. */
export interface XsPermission {
  /** Domain id (`unsigned int`; DOMID_ANY 0x7ff5 matches every domain). */
  readonly id: number;
  /** {@link XsPerm} bits. */
  readonly perms: number;
}

/** DOMID_ANY (xen.h): in an ACL, matches every domain (XENSTORE_SERVER_FEATURE_DOMID_ANY). */
export const XS_DOMID_ANY = 0x7ff5;

/**
 * Parses one `<letter><domid>` string ("r", "w", "b", "n" then an integer in C `strtol`
 * base-0 syntax, as xenstore_strings_to_perms); null when malformed.
 */
export function parsePermission(text: string): XsPermission | null {
  const letter = text[0];
  const bits =
    letter === "r"
      ? XsPerm.READ
      : letter === "w"
        ? XsPerm.WRITE
        : letter === "b"
          ? XsPerm.READ | XsPerm.WRITE
          : letter === "n"
            ? XsPerm.NONE
            : -1;
  if (bits < 0) return null;
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text.slice(1));
  if (!m) return null;
  let value = Number.parseInt(
    m[2],
    m[2].startsWith("0x") || m[2].startsWith("0X")
      ? 16
      : m[2].startsWith("0") && m[2].length > 1
        ? 8
        : 10,
  );
  if (m[1] === "-") value = -value;
  return { id: Number(BigInt.asUintN(32, BigInt(value))), perms: bits };
}

/** Formats an ACL entry as xenstore_perm_to_string does ("b0", "r5"); IGNORE is not shown. */
export function formatPermission(p: XsPermission): string {
  const bits = p.perms & ~XsPerm.IGNORE & (XsPerm.READ | XsPerm.WRITE);
  const letter = bits === 3 ? "b" : bits === XsPerm.READ ? "r" : bits === XsPerm.WRITE ? "w" : "n";
  return `${letter}${p.id | 0}`;
}
