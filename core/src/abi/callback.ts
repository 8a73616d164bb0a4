/**
 * Argument structs of callback_op (xen/include/public/callback.h).
 *
 * @module
 */
import { defineStruct, field, perModel, struct, u16, ulong } from "../structs.js";

/**
 * `xen_callback_t`: a callback entry point. On x86_32 a `{cs, eip}` pair (8 bytes, a far
 * pointer); elsewhere just the address.
 */
export const XEN_CALLBACK = perModel({
  x86_32: struct({
    cs: field(ulong, "Code selector."),
    eip: field(ulong, "Entry address."),
  }),
  x86_64: ulong,
  ia64: ulong,
  ppc64: ulong,
});

/** `struct callback_register`: CALLBACKOP_register's argument. 16 bytes on LP64, 12 on x86_32. */
export const CALLBACK_REGISTER = defineStruct(
  "callback_register",
  "Register a guest entry point for hypervisor callbacks.",
  {
    type: field(u16, "CallbackType (abi/numbers.ts)."),
    flags: field(u16, "CallbackFlags (abi/numbers.ts)."),
    address: field(XEN_CALLBACK, "The entry point."),
  },
);

/** `struct callback_unregister`: CALLBACKOP_unregister's argument. */
export const CALLBACK_UNREGISTER = defineStruct("callback_unregister", "Unregister a callback.", {
  type: field(u16, "CallbackType (abi/numbers.ts)."),
  _unused: field(u16, "Unused."),
});
