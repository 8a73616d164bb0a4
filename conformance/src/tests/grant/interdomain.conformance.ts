/**
 * Grants between two domains. dom0, acting as a toolstack, creates a domain D, gives it
 * two pages (increase_reservation on D), sizes its grant table (setup_table on D) and
 * maps D's grant frame in its own address space naming D as the frame's owner, as libxc
 * does to seed a guest's grant table. Writing D's entries there, dom0 then uses D's
 * grants as a grantee would: host map, read-only map, copy, and transfers a page of its
 * own to D.
 *
 * Facts, from xen-project/xen:
 * - xen/common/grant_table.c: map_grant_ref of a foreign grant sets GTF_reading and
 *   GTF_writing in the granter's entry (_set_status_v1) and reports dev_bus_addr as the
 *   frame; a grant naming a frame the granter does not own is GNTST_bad_page
 *   (get_paged_frame on rd); an entry for another domid or a read-only grant mapped
 *   writable is GNTST_general_error; gnttab_transfer to a domain with no headroom
 *   (tot_pages >= max_pages) is GNTST_general_error, with headroom the page becomes the
 *   receiver's (assign_pages), GTF_transfer_committed|completed are set and a PV
 *   receiver gets the frame in its entry.
 * - xen/common/memory.c: increase_reservation on another domain (XSM_TARGET: dom0 may)
 *   writes the new frames of a PV domain into extent_start.
 * - xen/common/domctl.c: XEN_DOMCTL_max_mem sets max_pages = max_memkb >> 2.
 *
 * Guests that are translated (the arch's `translatedPv`) name guest frames: D's pages are
 * given guest frames with populate_physmap (`XenMem.givePages`), its grant frame is put in
 * its physmap first (XENMEM_add_to_physmap on D, as libxc seeds a translated guest's
 * table) and mapped here as a foreign frame, grants are host-mapped at guest-physical
 * addresses (`gnttab.ts`), and a page transferred to D keeps the guest frame D's
 * accept-transfer entry names: gnttab_transfer adds it to a translated receiver's physmap
 * there instead of writing the frame into the entry.
 */
import {
  DomId,
  DomctlCmd,
  GNTMAP_HOST_MAP,
  GNTMAP_READONLY,
  GrantFlags as GTF,
  GrantStatus as GNTST,
  GTF_TRANSFER_COMMITTED,
  GTF_TRANSFER_COMPLETED,
} from "@hvkit/core";
import { domctl } from "../domctl/calls.js";
import { createPeer } from "../evtchn/peer.js";
import { agentTest, hexBytes } from "../agent-test.js";
import { XenMem } from "../memory/xenmem.js";
import { Gnttab, frameEnd, gref } from "./gnttab.js";

/** dom0's domain id. */
const SELF_ID = 0;
const PAGE = 4096;
/** Where a translated D gets its grant frame: a guest frame far past its pages. */
const D_GRANT_FRAME = 0x1000n;
/** The guest frame D's accept-transfer entry names. */
const TRANSFER_FRAME = 0x40n;

/** grant/interdomain. */
export const grantInterdomain = agentTest({
  area: "grant",
  name: "interdomain",
  description:
    "dom0 maps, copies and receives through another domain's grant entries and transfers a page to it",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["frames", "frame-mapping"] },
  run(agent, check) {
    const frameOf = (va: bigint): bigint => agent.frameOf(va);
    const mapFrame = (va: bigint, frame: bigint | null, owner?: number): bigint =>
      agent.mapFrame(va, frame, true, owner);
    const w = (i: number): bigint => agent.boot.window + BigInt(i * PAGE);
    const [dgt, win, gift, gift2] = [w(0), w(1), w(2), w(3)];
    const buf = agent.alloc(PAGE, PAGE);
    const totPages = (dom: number): bigint => {
      const r = domctl(agent, DomctlCmd.getdomaininfo, dom);
      return r.rc === 0n ? r.out.getBigInt("u.getdomaininfo.tot_pages") : -1n;
    };

    const created = createPeer(agent);
    check.equal("createdomain rc", created.rc, 0);
    const dom = created.domid;
    check.equal(
      "domctl max_mem(D, 1024 KiB) rc",
      domctl(agent, DomctlCmd.max_mem, dom, { "u.max_mem.max_memkb": 1024 }).rc,
      0,
    );

    // Two pages for D, named as D names them.
    const pfnBytes = agent.model.xenPfn;
    const given = new XenMem(agent).givePages(dom, 2);
    check.equal(`memory_op ${given.what} done 2`, given.done, 2);
    const dframe = given.frames;
    check.equal("D owns 2 pages", totPages(dom), 2);

    // D's grant table, mapped writable here naming D as the frame's owner.
    const gt = new Gnttab(agent, dgt);
    if (gt.translated) {
      check.equal("add_to_physmap(D, grant_table 0) rc", gt.placeFrame(0, D_GRANT_FRAME, dom), 0);
    }
    const gfList = agent.alloc(pfnBytes);
    const s = gt.setupTable(dom, 1, gfList);
    check.equal("gnttab setup_table(D, 1) status okay", s.rc === 0n ? s.status : -1000, GNTST.okay);
    const gf = agent.readUint(gfList, pfnBytes);
    if (gt.translated) check.equal("setup_table(D) lists where it was placed", gf, D_GRANT_FRAME);
    check.equal("map D's grant frame (owner D) rc", mapFrame(dgt, gf, dom), 0);
    check.equal(
      "D's fresh grant entries read as zero",
      gt.flags(5) | gt.domid(5) | Number(gt.frame(5)),
      0,
    );

    // D grants dom0 its page 0: dom0 maps it, writes through it, copies it back.
    gt.grant(5, GTF.permit_access, SELF_ID, dframe[0]);
    const m = gt.mapAt(win, GNTMAP_HOST_MAP, 5, dom);
    check.equal("gnttab map(D:5, host) GNTST_okay", m.status, GNTST.okay);
    check.equal(
      "gnttab map(D:5) dev_bus_addr is D's frame",
      m.devBusAddr,
      gt.machineFrame(dframe[0], dom) << 12n,
    );
    check.equal(
      "gnttab map(D:5) sets GTF_reading|GTF_writing in D's entry",
      gt.flags(5),
      GTF.permit_access | GTF.reading | GTF.writing,
    );
    const written = new Uint8Array(64).map((_, i) => 0xa0 + i);
    agent.write(win, written);
    check.equal(
      "gnttab copy D:5 -> own frame GNTST_okay",
      gt.copy(gref(5, dom), frameEnd(frameOf(buf)), 64),
      GNTST.okay,
    );
    check.equal(
      "gnttab bytes written through the mapping of D's page come back by copy",
      hexBytes(agent.read(buf, 64)),
      hexBytes(written),
    );
    check.equal(
      "gnttab the copy leaves the mapping's GTF_reading|GTF_writing",
      gt.flags(5),
      GTF.permit_access | GTF.reading | GTF.writing,
    );
    check.equal("gnttab unmap(D:5) GNTST_okay", gt.unmapAt(m), GNTST.okay);
    check.equal(
      "gnttab unmap(D:5) clears GTF_reading|GTF_writing in D's entry",
      gt.flags(5),
      GTF.permit_access,
    );
    mapFrame(win, frameOf(win));
    // Copy into D's page by gref, both ends named by domain.
    agent.write(
      buf,
      new Uint8Array(16).map((_, i) => 0x30 + i),
    );
    check.equal(
      "gnttab copy own frame -> D:5 GNTST_okay",
      gt.copy(frameEnd(frameOf(buf), 0, DomId.SELF), gref(5, dom, 100), 16),
      GNTST.okay,
    );
    const ro = gt.mapAt(win, GNTMAP_HOST_MAP | GNTMAP_READONLY, 5, dom);
    check.equal("gnttab map(D:5, host|readonly) GNTST_okay", ro.status, GNTST.okay);
    check.equal(
      "gnttab read-only map of D:5 sets GTF_reading only",
      gt.flags(5),
      GTF.permit_access | GTF.reading,
    );
    check.equal(
      "gnttab D's page holds the copied bytes",
      hexBytes(agent.read(win + 100n, 16)),
      hexBytes(new Uint8Array(16).map((_, i) => 0x30 + i)),
    );
    check.equal("gnttab unmap(D:5 readonly) GNTST_okay", gt.unmapAt(ro), GNTST.okay);
    mapFrame(win, frameOf(win));

    // What D's entries do not allow.
    gt.grant(6, GTF.permit_access | GTF.readonly, SELF_ID, dframe[1]);
    check.equal(
      "gnttab writable map of D's read-only grant GNTST_general_error",
      gt.mapAt(win, GNTMAP_HOST_MAP, 6, dom).status,
      GNTST.general_error,
    );
    gt.grant(7, GTF.permit_access, 5, dframe[1]);
    check.equal(
      "gnttab map of D's grant to domain 5 GNTST_general_error",
      gt.mapAt(win, GNTMAP_HOST_MAP, 7, dom).status,
      GNTST.general_error,
    );
    gt.grant(8, GTF.permit_access, SELF_ID, frameOf(buf));
    check.equal(
      "gnttab map of D's grant naming a frame D does not own GNTST_bad_page",
      gt.mapAt(win, GNTMAP_HOST_MAP, 8, dom).status,
      GNTST.bad_page,
    );
    check.equal("gnttab the refused map left D's entry unpinned", gt.flags(8), GTF.permit_access);

    // Transfer a page of dom0's to D: D's accept-transfer entry for dom0.
    const before0 = totPages(SELF_ID);
    gt.grant(9, GTF.accept_transfer, SELF_ID, TRANSFER_FRAME);
    const gm = frameOf(gift);
    const giftMachine = gt.machineFrame(gm);
    mapFrame(gift, null);
    check.equal("gnttab transfer dom0 page -> D GNTST_okay", gt.transfer(gm, dom, 9), GNTST.okay);
    check.equal(
      "gnttab transfer sets GTF_transfer_committed|completed in D's entry",
      gt.flags(9),
      GTF.accept_transfer | GTF_TRANSFER_COMMITTED | GTF_TRANSFER_COMPLETED,
    );
    if (gt.translated) {
      check.equal(
        "gnttab transfer leaves D's entry naming its guest frame",
        gt.frame(9),
        TRANSFER_FRAME,
      );
      check.equal(
        "gnttab transfer puts the page at that guest frame of D",
        gt.machineFrame(TRANSFER_FRAME, dom),
        giftMachine,
      );
    } else {
      check.equal(
        "gnttab transfer writes the frame into D's entry (PV)",
        gt.frame(9),
        BigInt.asUintN(32, gm),
      );
    }
    check.equal("gnttab after the transfer D owns 3 pages", totPages(dom), 3);
    check.equal(
      "gnttab after the transfer dom0 owns one page less",
      totPages(SELF_ID),
      before0 - 1n,
    );
    // D full: XEN_DOMCTL_max_mem 12 KiB = 3 pages; the next transfer has no headroom.
    check.equal(
      "domctl max_mem(D, 12 KiB) rc",
      domctl(agent, DomctlCmd.max_mem, dom, { "u.max_mem.max_memkb": 12 }).rc,
      0,
    );
    gt.grant(10, GTF.accept_transfer, SELF_ID, 0x41n);
    const gm2 = frameOf(gift2);
    mapFrame(gift2, null);
    check.equal(
      "gnttab transfer to D without headroom GNTST_general_error",
      gt.transfer(gm2, dom, 10),
      GNTST.general_error,
    );
    check.equal(
      "gnttab a transfer refused for headroom leaves D's entry",
      gt.flags(10),
      GTF.accept_transfer,
    );

    // Give D's grant frame back before D goes: the mapping holds a reference on it.
    check.equal("unmap D's grant frame", mapFrame(dgt, frameOf(dgt)), 0);
    check.equal("domctl destroydomain(D) rc", domctl(agent, DomctlCmd.destroydomain, dom).rc, 0);
  },
});
