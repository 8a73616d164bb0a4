/**
 * Grant tables from a real guest: the domain sizes its table (query_size, setup_table),
 * maps a grant frame, grants pages to itself and copies through them (GNTTABOP_copy with
 * gref and frame ends, both directions), host-maps a grant (GTF_reading/GTF_writing set
 * while mapped, cleared on unmap) and gets Xen's GNTST_* codes for bad copies and maps.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** grant/copy. */
export const grantCopy = guestBootTest({
  area: "grant",
  name: "copy",
  description:
    "setup_table, copy by gref and by frame, host map/unmap with GTF flags, and GNTST_* status codes",
  guest: "gnttab-copy",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["frame-mapping"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
