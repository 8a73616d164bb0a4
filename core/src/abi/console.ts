/**
 * The PV console ring page (xen/include/public/io/console.h). Two byte rings with
 * free-running indices: `in` carries bytes to the guest, `out` bytes from it.
 *
 * @module
 */
import { chars, defineStruct, field, u32, u8 } from "../structs.js";

/** Size of xencons_interface.in. */
export const XENCONS_IN_SIZE = 1024;
/** Size of xencons_interface.out. */
export const XENCONS_OUT_SIZE = 2048;
/** xencons_interface.connection: the back end is connected. */
export const XENCONSOLE_CONNECTED = 0;
/** xencons_interface.connection: the back end is gone (e.g. during a console daemon restart). */
export const XENCONSOLE_DISCONNECTED = 1;

/** `struct xencons_interface` (3092 bytes): the console ring page. */
export const XENCONS_INTERFACE = defineStruct(
  "xencons_interface",
  "A domain's console ring page.",
  {
    in: field(
      chars(XENCONS_IN_SIZE),
      "Input ring: bytes typed at the console, for the guest to read.",
    ),
    out: field(
      chars(XENCONS_OUT_SIZE),
      "Output ring: bytes the guest writes, for the console daemon.",
    ),
    in_cons: field(u32, "Guest's read index into `in`."),
    in_prod: field(u32, "Daemon's write index into `in`."),
    out_cons: field(u32, "Daemon's read index into `out`."),
    out_prod: field(u32, "Guest's write index into `out`."),
    connection: field(u8, "XENCONSOLE_* state, written by the back end."),
  },
);
