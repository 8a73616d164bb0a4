/**
 * PV MMU rules: update_va_mapping and mmu_update work; a writable mapping of a page-table
 * page, a mapping of a frame the domain does not own and double pins are refused with
 * Xen's errors; unpinning restores writability; M2P lookups match.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** mmu/pv-mmu. */
export const pvMmu = guestBootTest({
  area: "mmu",
  name: "pv-mmu",
  description:
    "mmu_update, update_va_mapping and mmuext_op enforce page types, pinning and ownership as Xen does",
  guest: "mmu",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["pv-mmu-radix"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
