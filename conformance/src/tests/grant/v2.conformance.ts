/**
 * Grant table v2 from the guest. The domain switches its own table between versions
 * with GNTTABOP_set_version, lists its status frames with GNTTABOP_get_status_frames and
 * maps them, and uses v2 entries: full-page grants (mapped; GTF_reading/GTF_writing show
 * in the status frame, not in the entry), sub-page grants (copied within their byte
 * range only, never mapped) and transitive grants. As dom0, it also passes on another
 * domain's grant transitively and copies through it.
 *
 * Facts, from xen-project/xen RELEASE-4.19.0:
 * - xen/include/public/grant_table.h: union grant_entry_v2 (16 bytes: full_page,
 *   sub_page, transitive), grant_status_t, GNTTAB_NR_RESERVED_ENTRIES 8.
 * - xen/common/grant_table.c gnttab_set_version: a version other than 1 or 2 −EINVAL;
 *   the version in use is a no-op; −EBUSY while an entry at or past the 8 reserved ones
 *   is pinned; to v2 the status frames are allocated (gnttab_populate_status_frames);
 *   back to v1 gnttab_unpopulate_status_frames refuses with −EBUSY while one is still
 *   mapped (XSA-255); the reserved entries are carried over in the new format, the rest
 *   cleared; op.version is the version in use on every path. gnttab_get_status_frames:
 *   more frames than nr_status_frames (none in v1) GNTST_general_error.
 *   gnttab_get_version: the version. _set_status_v2: GTF_reading/GTF_writing in the
 *   status entry; mapping refuses GTF_sub_page and transitive entries. gnttab_copy_buf:
 *   a copy outside a sub-page grant's [page_off, page_off + length) is
 *   GNTST_general_error. acquire_grant_for_copy: a transitive grant naming its own domain
 *   or a domain that does not exist GNTST_general_error; else the grant it names is
 *   acquired for the transitive grant's owner (opt_transitive_grants, on by default).
 */
import {
  DomId,
  DomctlCmd,
  GNTMAP_HOST_MAP,
  GrantFlags as GTF,
  GrantStatus as GNTST,
  Errno,
  XENMAPIDX_GRANT_TABLE_STATUS,
} from "@hvkit/core";
import { domctl } from "../domctl/calls.js";
import { createPeer } from "../evtchn/peer.js";
import { XenMem } from "../memory/xenmem.js";
import { agentTest, hexBytes } from "../agent-test.js";
import { Gnttab, frameEnd, gref } from "./gnttab.js";

const PAGE = 4096;
const RW = GTF.reading | GTF.writing;

/** grant/v2. */
export const grantV2 = agentTest({
  area: "grant",
  name: "v2",
  description:
    "set_version 1↔2 (−EBUSY with entries in use or a status frame mapped), get_status_frames, v2 full-page, sub-page and transitive grants",
  requires: { modes: ["pv"], features: ["frames", "frame-mapping"] },
  run(agent, check) {
    const SELF_ID = agent.session.domain.id;
    const frameOf = (va: bigint): bigint => agent.frameOf(va);
    const w = (i: number): bigint => agent.boot.window + BigInt(i * PAGE);
    const [table, win, statusWin] = [w(0), w(1), w(2)];
    const src = agent.alloc(PAGE, PAGE);
    const dst = agent.alloc(PAGE, PAGE);
    const list = agent.alloc(16, 8);
    const gt = new Gnttab(agent, table);
    const pattern = new Uint8Array(PAGE).map((_, i) => (i * 13 + 5) & 0xff);
    agent.write(src, pattern);
    const status = (ref: number): number => Number(agent.readUint(statusWin + BigInt(2 * ref), 2));

    if (gt.translated) {
      check.equal("add_to_physmap(grant_table 0) rc", gt.placeFrame(0, gt.hole(0)), 0);
    }
    const st = gt.setupTable(DomId.SELF, 1, list);
    check.equal("setup_table(1) status", st.rc === 0n ? st.status : -1000, GNTST.okay);
    check.equal(
      "map grant frame 0 writable",
      agent.mapFrame(table, agent.readUint(list, agent.model.xenPfn), true),
      0,
    );

    // A fresh table is v1; bad versions are refused with the version written back.
    check.equal("get_version(self) rc", gt.getVersion(DomId.SELF).rc, 0);
    check.equal("get_version(self): 1", gt.getVersion(DomId.SELF).version, 1);
    check.equal("get_version(unknown domain) −ESRCH", gt.getVersion(0x7fe0).rc, -Errno.ESRCH);
    check.equal("set_version(3) −EINVAL", gt.setVersion(3).rc, -Errno.EINVAL);
    check.equal("set_version(3) writes back 1", gt.setVersion(3).version, 1);
    check.equal("set_version(0) −EINVAL", gt.setVersion(0).rc, -Errno.EINVAL);
    check.equal("set_version(1) on v1: no-op", gt.setVersion(1).rc, 0);
    check.equal(
      "get_status_frames(1) of a v1 table: GNTST_general_error",
      gt.statusFrames(DomId.SELF, 1, list).status,
      GNTST.general_error,
    );

    // An entry past the 8 reserved ones in use blocks the switch; a reserved one does not.
    gt.grant(1, GTF.permit_access, SELF_ID, frameOf(src));
    gt.grant(9, GTF.permit_access, SELF_ID, frameOf(src));
    const m9 = gt.mapAt(win, GNTMAP_HOST_MAP, 9, SELF_ID);
    check.equal("map entry 9: status", m9.status, GNTST.okay);
    const busy = gt.setVersion(2);
    check.equal("set_version(2) with entry 9 mapped: −EBUSY", busy.rc, -Errno.EBUSY);
    check.equal("set_version(2) refused: version 1 written back", busy.version, 1);
    check.equal("unmap entry 9", gt.unmapAt(m9), GNTST.okay);
    const m1 = gt.mapAt(win, GNTMAP_HOST_MAP, 1, SELF_ID);
    check.equal("map reserved entry 1: status", m1.status, GNTST.okay);
    const to2 = gt.setVersion(2);
    check.equal("set_version(2) with only reserved entry 1 mapped: 0", to2.rc, 0);
    check.equal("set_version(2) writes back 2", to2.version, 2);
    check.equal("get_version(self): 2", gt.getVersion(DomId.SELF).version, 2);

    // Status frames: one for the one grant frame.
    check.equal(
      "get_status_frames(2) with one status frame: GNTST_general_error",
      gt.statusFrames(DomId.SELF, 2, list).status,
      GNTST.general_error,
    );
    if (gt.translated) {
      check.equal(
        "add_to_physmap(grant_table status frame 0) rc",
        gt.placeFrame(XENMAPIDX_GRANT_TABLE_STATUS, gt.hole(2)),
        0,
      );
    }
    const sf = gt.statusFrames(DomId.SELF, 1, list);
    check.equal("get_status_frames(1) rc", sf.rc, 0);
    check.equal("get_status_frames(1) status", sf.status, GNTST.okay);
    const statusFrame = agent.readUint(list, 8);
    if (gt.translated) {
      check.equal(
        "get_status_frames(1) lists the frame where it was placed",
        statusFrame,
        gt.hole(2),
      );
    }
    check.equal("map the status frame read-only", agent.mapFrame(statusWin, statusFrame, false), 0);

    // Reserved entry 1 carried over in the v2 format, its GTF_reading|writing in the
    // status frame; entry 9 cleared.
    check.equal("v2 entry 1: flags without GTF_reading|writing", gt.flags(1), GTF.permit_access);
    check.equal("v2 entry 1: domid", gt.domid(1), SELF_ID);
    check.equal("v2 entry 1: full_page.frame", gt.frame(1), frameOf(src));
    check.equal("status of entry 1: GTF_reading|GTF_writing", status(1), RW);
    check.equal("v2 entry 9 cleared", gt.flags(9) | gt.domid(9), 0);
    check.equal("unmap entry 1 under v2", gt.unmapAt(m1), GNTST.okay);
    check.equal("status of entry 1 cleared", status(1), 0);

    // Full-page v2 grants map; the status frame says they are in use.
    gt.grant(20, GTF.permit_access, SELF_ID, frameOf(src));
    const m20 = gt.mapAt(win, GNTMAP_HOST_MAP, 20, SELF_ID);
    check.equal("map v2 entry 20: status", m20.status, GNTST.okay);
    check.equal(
      "map v2 entry 20: dev_bus_addr",
      m20.devBusAddr,
      gt.machineFrame(frameOf(src)) << 12n,
    );
    check.equal(
      "the mapping shows the page",
      hexBytes(agent.read(win, 8)),
      hexBytes(pattern.subarray(0, 8)),
    );
    check.equal("map v2 entry 20: entry flags untouched", gt.flags(20), GTF.permit_access);
    check.equal("map v2 entry 20: status GTF_reading|GTF_writing", status(20), RW);
    check.equal("unmap v2 entry 20", gt.unmapAt(m20), GNTST.okay);
    check.equal("unmap v2 entry 20: status cleared", status(20), 0);
    gt.grant(21, GTF.permit_access | GTF.readonly, SELF_ID, frameOf(src));
    check.equal(
      "writable map of a read-only v2 grant: GNTST_general_error",
      gt.mapAt(win, GNTMAP_HOST_MAP, 21, SELF_ID).status,
      GNTST.general_error,
    );
    check.equal("the refused map leaves status 0", status(21), 0);

    // Sub-page grants: bytes [256, 320) of src, copied but never mapped.
    gt.grantV2(22, GTF.permit_access | GTF.sub_page, SELF_ID, {
      frame: frameOf(src),
      pageOff: 256,
      length: 64,
    });
    check.equal(
      "copy of sub-page entry 22 within [256, 320): status",
      gt.copy(gref(22, DomId.SELF, 256), frameEnd(frameOf(dst)), 64),
      GNTST.okay,
    );
    check.equal(
      "copy of sub-page entry 22: the bytes arrive",
      hexBytes(agent.read(dst, 64)),
      hexBytes(pattern.subarray(256, 320)),
    );
    check.equal(
      "copy of sub-page entry 22 from 255: GNTST_general_error",
      gt.copy(gref(22, DomId.SELF, 255), frameEnd(frameOf(dst)), 2),
      GNTST.general_error,
    );
    check.equal(
      "copy of sub-page entry 22 past 320: GNTST_general_error",
      gt.copy(gref(22, DomId.SELF, 300), frameEnd(frameOf(dst)), 21),
      GNTST.general_error,
    );
    check.equal(
      "copy into sub-page entry 22 at 312, 8 bytes: status",
      gt.copy(frameEnd(frameOf(dst)), gref(22, DomId.SELF, 312), 8),
      GNTST.okay,
    );
    check.equal(
      "copy past the page end still GNTST_bad_copy_arg",
      gt.copy(gref(22, DomId.SELF, 4090), frameEnd(frameOf(dst)), 8),
      GNTST.bad_copy_arg,
    );
    check.equal(
      "map of sub-page entry 22: GNTST_general_error",
      gt.mapAt(win, GNTMAP_HOST_MAP, 22, SELF_ID).status,
      GNTST.general_error,
    );
    check.equal("sub-page entry 22: status 0 after all", status(22), 0);

    // Transitive grants naming the granter itself or no domain are refused, and none maps.
    gt.grantV2(23, GTF.transitive, SELF_ID, { transDomid: SELF_ID, gref: 20 });
    gt.grantV2(24, GTF.transitive, SELF_ID, { transDomid: 0x7fe0, gref: 20 });
    for (const [ref, what] of [
      [23, "naming its own domain"],
      [24, "naming no domain"],
    ] as const) {
      check.equal(
        `copy of transitive entry ${ref} ${what}: GNTST_general_error`,
        gt.copy(gref(ref, DomId.SELF), frameEnd(frameOf(dst)), 8),
        GNTST.general_error,
      );
      check.equal(`transitive entry ${ref}: status 0 after`, status(ref), 0);
    }
    check.equal(
      "map of transitive entry 23: GNTST_general_error",
      gt.mapAt(win, GNTMAP_HOST_MAP, 23, SELF_ID).status,
      GNTST.general_error,
    );

    if (gt.translated) {
      // A translated guest's own mapping of its status frame holds no reference on it:
      // gnttab_unpopulate_status_frames takes the frame out of its physmap
      // (guest_physmap_remove_page) and the switch goes through; the page that showed it
      // shows nothing from then on.
      const to1 = gt.setVersion(1);
      check.equal("set_version(1) with the status frame in the physmap: 0", to1.rc, 0);
      check.equal("set_version(1) writes back 1", to1.version, 1);
      check.that(
        "the status frame's page faults once the frame left the physmap",
        !(agent.tryRead(statusWin, 2) instanceof Uint8Array),
      );
      check.equal("unmap the status frame", agent.mapFrame(statusWin, null, false), 0);
    } else {
      // XSA-255: back to v1 frees the status frames, so not while one is mapped.
      const mapped = gt.setVersion(1);
      check.equal("set_version(1) with the status frame mapped: −EBUSY", mapped.rc, -Errno.EBUSY);
      check.equal("set_version(1) refused: version 2 written back", mapped.version, 2);
      check.equal("get_version(self) still 2", gt.getVersion(DomId.SELF).version, 2);
      check.equal("unmap the status frame", agent.mapFrame(statusWin, null, false), 0);
      const to1 = gt.setVersion(1);
      check.equal("set_version(1) once unmapped: 0", to1.rc, 0);
      check.equal("set_version(1) writes back 1", to1.version, 1);
    }
    check.equal(
      "get_status_frames(1) after going back to v1: GNTST_general_error",
      gt.statusFrames(DomId.SELF, 1, list).status,
      GNTST.general_error,
    );
    check.equal("v1 entry 1 carried back: flags", gt.flags(1), GTF.permit_access);
    check.equal("v1 entry 1 carried back: frame", gt.frame(1), frameOf(src));
    check.equal("v1 entry 20 cleared", gt.flags(20) | Number(gt.frame(20)), 0);
  },
});

/** grant/v2-transitive. */
export const grantV2Transitive = agentTest({
  area: "grant",
  name: "v2-transitive",
  description:
    "dom0 passes another domain's grant on with a v2 transitive entry and copies through it both ways",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["frames", "frame-mapping"] },
  run(agent, check) {
    const SELF_ID = agent.session.domain.id;
    const frameOf = (va: bigint): bigint => agent.frameOf(va);
    const w = (i: number): bigint => agent.boot.window + BigInt(i * PAGE);
    const [dtable, table] = [w(0), w(1)];
    const buf = agent.alloc(PAGE, PAGE);
    const pfnBytes = agent.model.xenPfn;
    const list = agent.alloc(2 * pfnBytes, 8);

    // D: a domain with one page and a v1 grant table, which dom0 writes as a toolstack.
    const created = createPeer(agent);
    check.equal("createdomain rc", created.rc, 0);
    const dom = created.domid;
    check.equal(
      "domctl max_mem(D, 1024 KiB) rc",
      domctl(agent, DomctlCmd.max_mem, dom, { "u.max_mem.max_memkb": 1024 }).rc,
      0,
    );
    const given = new XenMem(agent).givePages(dom, 1);
    check.equal(`memory_op ${given.what} done 1`, given.done, 1);
    const dframe = given.frames[0];
    const dgt = new Gnttab(agent, dtable);
    if (dgt.translated) {
      check.equal("add_to_physmap(D, grant_table 0) rc", dgt.placeFrame(0, 0x1000n, dom), 0);
    }
    const ds = dgt.setupTable(dom, 1, list);
    check.equal("setup_table(D, 1) status", ds.rc === 0n ? ds.status : -1000, GNTST.okay);
    check.equal(
      "map D's grant frame (owner D)",
      agent.mapFrame(dtable, agent.readUint(list, pfnBytes), true, dom),
      0,
    );
    dgt.grant(5, GTF.permit_access, SELF_ID, dframe); // D grants its page to dom0
    dgt.grant(6, GTF.permit_access, 5, dframe); // ... and to domain 5

    // dom0's own table, v2, passing D's grant 5 on to itself.
    const gt = new Gnttab(agent, table);
    if (gt.translated) {
      check.equal("add_to_physmap(grant_table 0) rc", gt.placeFrame(0, gt.hole(0)), 0);
    }
    const st = gt.setupTable(DomId.SELF, 1, list);
    check.equal("setup_table(self, 1) status", st.rc === 0n ? st.status : -1000, GNTST.okay);
    check.equal(
      "map own grant frame",
      agent.mapFrame(table, agent.readUint(list, pfnBytes), true),
      0,
    );
    check.equal("set_version(2)", gt.setVersion(2).rc, 0);
    gt.grantV2(30, GTF.transitive, SELF_ID, { transDomid: dom, gref: 5 });
    gt.grantV2(31, GTF.transitive, SELF_ID, { transDomid: dom, gref: 6 });

    const bytes = new Uint8Array(32).map((_, i) => 0x60 + i);
    agent.write(buf, bytes);
    check.equal(
      "copy own frame -> transitive entry 30 (D's page) at 100: status",
      gt.copy(frameEnd(frameOf(buf)), gref(30, DomId.SELF, 100), 32),
      GNTST.okay,
    );
    agent.write(buf, new Uint8Array(32));
    check.equal(
      "copy transitive entry 30 -> own frame: status",
      gt.copy(gref(30, DomId.SELF, 100), frameEnd(frameOf(buf)), 32),
      GNTST.okay,
    );
    check.equal(
      "the bytes made the round trip through D's page",
      hexBytes(agent.read(buf, 32)),
      hexBytes(bytes),
    );
    check.equal("D's entry 5 unpinned after the copies", dgt.flags(5), GTF.permit_access);
    check.equal(
      "copy through transitive entry 31 (D's grant is for domain 5): GNTST_general_error",
      gt.copy(gref(31, DomId.SELF), frameEnd(frameOf(buf)), 8),
      GNTST.general_error,
    );
    check.equal("D's entry 6 untouched", dgt.flags(6), GTF.permit_access);
    check.equal(
      "map of transitive entry 30: GNTST_general_error",
      gt.mapAt(w(2), GNTMAP_HOST_MAP, 30, SELF_ID).status,
      GNTST.general_error,
    );
    check.equal("set_version(1) (no status frame mapped)", gt.setVersion(1).rc, 0);
  },
});
