/**
 * Grant tables v1 from a real PV guest, each result checked by the guest against Xen
 * (xen/common/grant_table.c, xen/arch/x86/pv/grant_table.c): setup_table and query_size
 * (growth, the 64-frame limit → GNTST_general_error, bad domain, an unwritable
 * frame_list → GNTST_bad_virt_addr), the grant frames mapped by MFN (add_to_physmap is
 * −EACCES for PV), map_grant_ref with host, device and read-only flags and every
 * GNTST_* a PV guest can reach, GTF_reading/GTF_writing following the pins as
 * reduce_status_for_pin does (an entry stays in use while mapped), unmap_grant_ref
 * (bad handle, bad dev_bus_addr, a PTE not mapping the frame), copy (gref and frame
 * ends both ways, page-crossing → GNTST_bad_copy_arg, a batch) and transfer to itself
 * (GTF_transfer_committed/completed, the MFN in the entry, the M2P entry).
 * The guest prints one "ok" line per check, so the expected output is the check list.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** grant/ops. */
export const grantOps = guestBootTest({
  area: "grant",
  name: "ops",
  description:
    "setup_table, query_size, map/unmap (host, device, read-only), copy, transfer: success and each GNTST_* Xen gives, checked by the guest",
  guest: "gnttab-ops",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["frame-mapping", "m2p"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
