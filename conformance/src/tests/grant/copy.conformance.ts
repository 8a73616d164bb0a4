/**
 * Grant tables from the guest: the domain sizes its table (query_size, setup_table), maps
 * its first grant frame, grants pages to itself and copies through them (GNTTABOP_copy
 * with gref and frame ends, both directions), host-maps a grant (GTF_reading/GTF_writing
 * set while mapped, cleared on unmap) and gets Xen's GNTST_* codes for bad copies and
 * maps. Numbers and layouts: xen/include/public/grant_table.h; behaviour:
 * xen/common/grant_table.c (gnttab_copy_one, gnttab_copy_lock_domain, map_grant_ref,
 * unmap_common, _set_status_v1).
 *
 * The grant entries name the guest's own domain id; it runs as dom0 and as a domU. A
 * translated guest first puts its two grant frames in its physmap, and host-maps at a
 * guest-physical address (see `gnttab.ts`); the rest is the same for every guest.
 */
import { DomId, GNTMAP_HOST_MAP, GrantFlags as GTF, GrantStatus as GNTST } from "@hvkit/core";
import { agentTest, hexBytes } from "../agent-test.js";
import { Gnttab, frameEnd, gref } from "./gnttab.js";

const PAGE = 4096;

/** grant/copy. */
export const grantCopy = agentTest({
  area: "grant",
  name: "copy",
  description:
    "setup_table, copy by gref and by frame, host map/unmap with GTF flags, and GNTST_* status codes",
  requires: { modes: ["pv"], features: ["frames", "frame-mapping"] },
  run(agent, check) {
    // The domain's own id, which a guest reads from xenstore ("domid").
    const SELF_ID = agent.session.domain.id;
    const frameOf = (va: bigint): bigint => agent.frameOf(va);
    const table = agent.boot.window;
    const window = agent.boot.window + BigInt(PAGE);
    const src = agent.alloc(PAGE, PAGE);
    const dst = agent.alloc(PAGE, PAGE);
    const gt = new Gnttab(agent, table);

    const q = gt.querySize(DomId.SELF);
    check.equal("query_size rc", q.rc, 0);
    check.equal("query_size status", q.status, GNTST.okay);
    check.equal("query_size nr_frames (INITIAL_NR_GRANT_FRAMES)", q.nrFrames, 1);
    check.equal("query_size max_nr_frames", q.maxNrFrames, 64);

    const list = agent.alloc(16);
    if (gt.translated) {
      for (const i of [0, 1]) {
        check.equal(`add_to_physmap(grant_table ${i}) rc`, gt.placeFrame(i, gt.hole(i)), 0);
      }
    }
    const st = gt.setupTable(DomId.SELF, 2, list);
    check.equal("setup_table(2) rc", st.rc, 0);
    check.equal("setup_table(2) status", st.status, GNTST.okay);
    const f0 = agent.readUint(list, agent.model.xenPfn);
    const f1 = agent.readUint(list + BigInt(agent.model.xenPfn), agent.model.xenPfn);
    check.that("setup_table(2) lists two distinct frames", f0 !== 0n && f1 !== 0n && f0 !== f1);
    if (gt.translated) {
      check.equal("setup_table(2) lists grant frame 0 where it was placed", f0, gt.hole(0));
      check.equal("setup_table(2) lists grant frame 1 where it was placed", f1, gt.hole(1));
    }
    check.equal("map grant frame 0 writable", agent.mapFrame(table, f0, true), 0);

    const pattern = new Uint8Array(PAGE).map((_, i) => (i * 7 + 3) & 0xff);
    agent.write(src, pattern);
    gt.grant(8, GTF.permit_access, SELF_ID, frameOf(src));
    gt.grant(9, GTF.permit_access | GTF.readonly, SELF_ID, frameOf(src));
    gt.grant(10, GTF.permit_access, SELF_ID, frameOf(dst));

    check.equal(
      "copy gref 8 -> own frame status",
      gt.copy(gref(8, DomId.SELF, 100), frameEnd(frameOf(dst), 200), 64),
      GNTST.okay,
    );
    check.equal(
      "copy gref 8 -> own frame: the bytes arrive",
      hexBytes(agent.read(dst + 200n, 64)),
      hexBytes(pattern.subarray(100, 164)),
    );
    // The copy's pin is released: the entry is back to GTF_permit_access.
    check.equal("copy gref 8 -> own frame: entry flags after", gt.flags(8), GTF.permit_access);

    agent.write(dst, new Uint8Array([0xab, 0xcd]));
    check.equal(
      "copy own frame -> gref 8 at offset 4094 status",
      gt.copy(frameEnd(frameOf(dst), 0), gref(8, SELF_ID, 4094), 2),
      GNTST.okay,
    );
    check.equal(
      "copy own frame -> gref 8: the bytes arrive",
      hexBytes(agent.read(src + 4094n, 2)),
      "abcd",
    );
    check.equal(
      "copy gref 9 (read-only) -> gref 10 status",
      gt.copy(gref(9, SELF_ID), gref(10, DomId.SELF), 16),
      GNTST.okay,
    );
    check.equal(
      "copy gref 9 -> gref 10: the bytes arrive",
      hexBytes(agent.read(dst, 16)),
      hexBytes(agent.read(src, 16)),
    );
    // Errors, in each op's status (the hypercall returns 0).
    check.equal(
      "copy into read-only gref 9: GNTST_general_error",
      gt.copy(frameEnd(frameOf(dst)), gref(9, SELF_ID), 8),
      GNTST.general_error,
    );
    check.equal(
      "copy past the page end: GNTST_bad_copy_arg",
      gt.copy(gref(8, SELF_ID, 4000), frameEnd(frameOf(dst)), 200),
      GNTST.bad_copy_arg,
    );
    check.equal(
      "copy from a bad reference: GNTST_bad_gntref",
      gt.copy(gref(100000, SELF_ID), frameEnd(frameOf(dst)), 8),
      GNTST.bad_gntref,
    );
    // gnttab_copy_lock_domain: "Only DOMID_SELF may reference via frame".
    check.equal(
      "copy by frame naming a domain id: GNTST_permission_denied",
      gt.copy(frameEnd(frameOf(src), 0, SELF_ID), frameEnd(frameOf(dst)), 8),
      GNTST.permission_denied,
    );
    check.equal(
      "copy from an unknown domain: GNTST_bad_domain",
      gt.copy(gref(8, 77), frameEnd(frameOf(dst)), 8),
      GNTST.bad_domain,
    );
    gt.grant(11, GTF.permit_access, 5, frameOf(src));
    check.equal(
      "copy from a grant issued to another domain: GNTST_general_error",
      gt.copy(gref(11, SELF_ID), frameEnd(frameOf(dst)), 8),
      GNTST.general_error,
    );

    const m = gt.mapAt(window, GNTMAP_HOST_MAP, 8, SELF_ID);
    check.equal("map gref 8 at the window: status", m.status, GNTST.okay);
    check.equal(
      "map gref 8: dev_bus_addr is the granted frame",
      m.devBusAddr,
      gt.machineFrame(frameOf(src)) << 12n,
    );
    check.equal(
      "map gref 8: GTF_reading|GTF_writing set",
      gt.flags(8),
      GTF.permit_access | GTF.reading | GTF.writing,
    );
    check.equal(
      "the window shows the granted page",
      hexBytes(agent.read(window, 8)),
      hexBytes(agent.read(src, 8)),
    );
    agent.write(window + 9n, new Uint8Array([0x99]));
    check.equal("a write through the window reaches the page", agent.readUint(src + 9n, 1), 0x99);
    check.equal(
      "writable map of read-only gref 9: GNTST_general_error",
      gt.mapAt(window, GNTMAP_HOST_MAP, 9, SELF_ID).status,
      GNTST.general_error,
    );
    check.equal(
      "map of a grant issued to another domain: GNTST_general_error",
      gt.mapAt(window, GNTMAP_HOST_MAP, 11, SELF_ID).status,
      GNTST.general_error,
    );
    check.equal("unmap: status", gt.unmapAt(m), GNTST.okay);
    check.equal("unmap clears GTF_reading|GTF_writing", gt.flags(8), GTF.permit_access);
    check.equal("unmap again: GNTST_bad_handle", gt.unmapAt(m), GNTST.bad_handle);
  },
});
