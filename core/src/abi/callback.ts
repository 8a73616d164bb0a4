/**
 * Argument structs of callback_op (xen/include/public/callback.h).
 *
 * @module
 */
import { archPart, defineStruct, field, u16 } from "../structs.js";

/** `struct callback_register`: CALLBACKOP_register's argument. 16 bytes on LP64, 12 on x86_32. */
export const CALLBACK_REGISTER = defineStruct(
  "callback_register",
  "Register a guest entry point for hypervisor callbacks.",
  {
    type: field(u16, "CallbackType (abi/numbers.ts)."),
    flags: field(u16, "CallbackFlags (abi/numbers.ts)."),
    address: field(
      archPart("xenCallback"),
      "The entry point, as the data model's xen_callback_t (an address, or x86_32's {cs, eip}).",
    ),
  },
);

/** `struct callback_unregister`: CALLBACKOP_unregister's argument. */
export const CALLBACK_UNREGISTER = defineStruct("callback_unregister", "Unregister a callback.", {
  type: field(u16, "CallbackType (abi/numbers.ts)."),
  _unused: field(u16, "Unused."),
});
