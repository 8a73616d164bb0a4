/**
 * multicall checked by the guest itself (multicall-ops: one "ok"/"FAIL" line per check,
 * the reasons cited in its source): each entry's result (a value, −ENOSYS for an unknown
 * or 2^32 + n op, −ENOENT from a sub-call while the batch goes on), a nested multicall
 * (−EINVAL in its entry, its list not run, the next multicall unaffected), nr_calls 0,
 * and −EFAULT for lists guest_handle_okay refuses (unmapped, non-canonical even with
 * nr_calls 0, Xen's range, nr_calls ≥ ~0UL / 64), an unreadable second entry (the first
 * has run) and a result that cannot be written back (the call has run).
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** multicall/ops. */
export const multicallOps = guestBootTest({
  area: "multicall",
  name: "ops",
  description: "multicall per-entry results, nested multicall refused, and each -EFAULT path",
  guest: "multicall-ops",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
