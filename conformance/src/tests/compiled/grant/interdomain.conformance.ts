/**
 * Grants between two domains, from a real PV dom0 acting as a toolstack: it creates a
 * domain, gives it pages (increase_reservation on it), sizes its grant table and maps
 * that table's frame with mmu_update naming the domain as page owner, writes the
 * domain's grant entries, and uses them as a grantee: host map (GTF_reading/GTF_writing
 * in the granter's entry, dev_bus_addr its frame), read-only map, copy both ways,
 * refusals (read-only grant mapped writable, grant to another domid, a frame the
 * granter does not own → GNTST_bad_page) and transfer of a dom0 page to the domain
 * (ownership and tot_pages move; no headroom → GNTST_general_error). Each result is
 * checked by the guest against Xen; the expected output is the check list.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** grant/interdomain. */
export const grantInterdomain = guestBootTest({
  area: "grant",
  name: "interdomain",
  description:
    "dom0 maps, copies and receives through another domain's grant entries and transfers a page to it, checked by the guest",
  guest: "gnttab-interdomain",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["pv-mmu-radix"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
