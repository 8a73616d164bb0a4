/**
 * Grant tables v1 from the guest, every sub-op with its success and error paths, each
 * result checked against Xen. The domain grants pages to itself (an entry naming its own
 * domid), which is all one domain can do; grants "to another domain" name domid 5.
 *
 * Facts, from xen-project/xen:
 * - xen/include/public/grant_table.h: sub-ops, struct layouts, GTF_* and GNTMAP_* bits,
 *   GNTST_* codes.
 * - xen/common/grant_table.c: gnttab_setup_table, gnttab_query_size, map_grant_ref,
 *   unmap_common(+_complete), gnttab_copy_*, gnttab_transfer, _set_status_v1 and
 *   reduce_status_for_pin (how GTF_reading/GTF_writing follow the pins); cited per check.
 *   INITIAL_NR_GRANT_FRAMES is 1, opt_max_grant_frames 64.
 * - xen/arch/x86/pv/grant_table.c: create_grant_pv_mapping / replace_grant_pv_mapping
 *   fail with GNTST_general_error for an address with nothing mapped or whose mapping is
 *   not the granted frame (GNTST_bad_virt_addr comes only from setup_table's frame_list).
 * - xen/common/memory.c xatp_permission_check: add_to_physmap on a PV (non-translated)
 *   domain is -EACCES; guest_physmap_add_page for PV sets the M2P entry, which transfer
 *   relies on.
 *
 * It runs as dom0 and as a domU. The guest reaches its frames through the agent's
 * window (feature `frames`); "an address in Xen's range" is the read-only M2P's (feature
 * `m2p`), which transfer's M2P check also reads.
 */
import {
  DomId,
  Errno,
  GNTMAP_DEVICE_MAP,
  GNTMAP_HOST_MAP,
  GNTMAP_READONLY,
  GrantFlags as GTF,
  GrantStatus as GNTST,
  GrantTableOp,
  GTF_TRANSFER_COMMITTED,
  GTF_TRANSFER_COMPLETED,
  Hypercall,
  MemoryOp,
  XEN_ADD_TO_PHYSMAP,
  XENMAPSPACE_GRANT_TABLE,
} from "@hvkit/core";
import type { Agent } from "../../agent.js";
import { agentTest, type Checks, hexBytes } from "../agent-test.js";
import { Gnttab, HYPERCALL_FAILED, frameEnd, gref } from "./gnttab.js";

const PAGE = 4096;
/** A machine frame far beyond any domain's memory. */
const NOT_OWNED = 0xfffffn;

/** The test's pages: window pages it remaps, scratch pages it grants. */
interface Pages {
  readonly gt0: bigint;
  readonly gt1: bigint;
  readonly win: readonly bigint[];
  readonly xfer: bigint;
  readonly xf: readonly bigint[];
  readonly pa: bigint;
  readonly pb: bigint;
  readonly pc: bigint;
  readonly dst: bigint;
}

interface Ctx {
  readonly agent: Agent;
  readonly check: Checks;
  readonly gt: Gnttab;
  readonly p: Pages;
  readonly bad: bigint;
  readonly xen: bigint;
  /** The guest's own domain id, which a guest reads from xenstore ("domid"). */
  readonly self: number;
  frameOf(va: bigint): bigint;
  map(va: bigint, frame: bigint | null): bigint;
}

/** grant/ops. */
export const grantOps = agentTest({
  area: "grant",
  name: "ops",
  description:
    "setup_table, query_size, map/unmap (host, device, read-only), copy, transfer: success and each GNTST_* Xen gives",
  requires: { modes: ["pv"], features: ["frames", "frame-mapping", "m2p"] },
  run(agent, check) {
    const w = (i: number): bigint => agent.boot.window + BigInt(i * PAGE);
    const p: Pages = {
      gt0: w(0),
      gt1: w(1),
      win: [w(2), w(3), w(4), w(5)],
      xfer: w(6),
      xf: [w(7), w(8), w(9)],
      pa: agent.alloc(PAGE, PAGE),
      pb: agent.alloc(PAGE, PAGE),
      pc: agent.alloc(PAGE, PAGE),
      dst: agent.alloc(PAGE, PAGE),
    };
    const c: Ctx = {
      agent,
      check,
      gt: new Gnttab(agent, p.gt0),
      p,
      bad: agent.spec.unmappedAddress(agent),
      xen: agent.machphysMapping().start,
      self: agent.session.domain.id,
      frameOf: (va) => agent.frameOf(va),
      map: (va, frame) => agent.mapFrame(va, frame, true),
    };
    setupAndQuery(c);
    const handles = mapOps(c);
    reuseAndUnmap(c, handles);
    copyOps(c);
    transferOps(c);
    dispatcher(c);
  },
});

function status(r: { rc: bigint; status: number }): number {
  return r.rc === 0n ? r.status : HYPERCALL_FAILED;
}

function pattern(mul: number, add: number): Uint8Array {
  return new Uint8Array(PAGE).map((_, i) => (i * mul + add) & 0xff);
}

function setupAndQuery(c: Ctx): void {
  const { self } = c;
  const { agent, check, gt } = c;
  const pfnBytes = agent.model.xenPfn;
  const frames = agent.alloc(64 * pfnBytes);
  const frame = (i: number): bigint => agent.readUint(frames + BigInt(i * pfnBytes), pfnBytes);
  const nrFrames = (): number => {
    const q = gt.querySize(DomId.SELF);
    return q.rc === 0n ? q.nrFrames : -1;
  };
  // gnttab_query_size: a fresh table has INITIAL_NR_GRANT_FRAMES (1) of at most 64.
  const q = gt.querySize(DomId.SELF);
  check.equal("query_size rc", q.rc, 0);
  check.equal("query_size status okay", q.status, GNTST.okay);
  check.equal("query_size nr_frames 1 (INITIAL_NR_GRANT_FRAMES)", q.nrFrames, 1);
  check.equal("query_size max_nr_frames 64 (gnttab_max_frames)", q.maxNrFrames, 64);
  // rcu_lock_domain_by_any_id NULL: status GNTST_bad_domain, hypercall rc 0.
  const q77 = gt.querySize(77);
  check.equal("query_size(dom 77) rc", q77.rc, 0);
  check.equal("query_size(dom 77) GNTST_bad_domain", q77.status, GNTST.bad_domain);
  // count != 1: -EINVAL; copy_from_guest fails: -EFAULT.
  const qs = agent.alloc(64);
  check.equal("query_size count 2 EINVAL", gt.op(GrantTableOp.query_size, qs, 2), -Errno.EINVAL);
  check.equal("query_size count 0 EINVAL", gt.op(GrantTableOp.query_size, qs, 0), -Errno.EINVAL);
  check.equal(
    "query_size(bad pointer) EFAULT",
    gt.op(GrantTableOp.query_size, c.bad, 1),
    -Errno.EFAULT,
  );

  const s2 = gt.setupTable(DomId.SELF, 2, frames);
  check.equal("setup_table(2) rc", s2.rc, 0);
  check.equal("setup_table(2) status okay", s2.status, GNTST.okay);
  const f0 = frame(0);
  const f1 = frame(1);
  check.that("setup_table(2) lists two distinct frames", f0 !== 0n && f1 !== 0n && f0 !== f1);
  check.equal("query_size after setup_table(2): 2 frames", nrFrames(), 2);
  // A smaller request does not shrink the table and lists the same first frame.
  agent.writeUint(frames, pfnBytes, 0);
  check.equal("setup_table(1) status okay", status(gt.setupTable(DomId.SELF, 1, frames)), 0);
  check.equal("setup_table(1) lists the same frame 0", frame(0), f0);
  check.equal("setup_table(1) keeps 2 frames", nrFrames(), 2);
  // By its real domid: rcu_lock_domain_by_any_id accepts it as DOMID_SELF.
  check.equal(
    "setup_table(own domid) status okay",
    status(gt.setupTable(self, 2, frames)),
    GNTST.okay,
  );
  check.that("setup_table(own domid) same frames", frame(0) === f0 && frame(1) === f1);
  // op.nr_frames > gt->max_grant_frames: GNTST_general_error; the table is unchanged.
  check.equal(
    "setup_table(65 > max) GNTST_general_error",
    status(gt.setupTable(DomId.SELF, 65, frames)),
    GNTST.general_error,
  );
  check.equal("setup_table(65) leaves 2 frames", nrFrames(), 2);
  check.equal(
    "setup_table(dom 77) GNTST_bad_domain",
    status(gt.setupTable(77, 1, frames)),
    GNTST.bad_domain,
  );
  check.equal(
    "setup_table count 2 EINVAL",
    gt.setupTable(DomId.SELF, 1, frames, 2).rc,
    -Errno.EINVAL,
  );
  check.equal(
    "setup_table(bad pointer) EFAULT",
    gt.op(GrantTableOp.setup_table, c.bad, 1),
    -Errno.EFAULT,
  );
  // __copy_to_guest_offset(frame_list) fails: GNTST_bad_virt_addr.
  check.equal(
    "setup_table(unmapped frame_list) GNTST_bad_virt_addr",
    status(gt.setupTable(DomId.SELF, 1, c.bad)),
    GNTST.bad_virt_addr,
  );
  // guest_handle_okay(frame_list): an address in Xen's range is -EFAULT before the domain
  // is even looked up.
  check.equal(
    "setup_table(frame_list in Xen's range) EFAULT",
    gt.setupTable(77, 1, c.xen).rc,
    -Errno.EFAULT,
  );
  // Exactly the maximum is allowed; frames 0 and 1 stay where they were.
  check.equal(
    "setup_table(64 = max) status okay",
    status(gt.setupTable(DomId.SELF, 64, frames)),
    GNTST.okay,
  );
  check.that("setup_table(64) keeps frames 0 and 1", frame(0) === f0 && frame(1) === f1);
  check.equal("query_size after setup_table(64): 64 frames", nrFrames(), 64);

  // The frames setup_table lists are the table: map them (a PV guest maps by frame).
  check.equal("map grant frame 0 writable", c.map(c.p.gt0, f0), 0);
  check.equal("map grant frame 1 writable", c.map(c.p.gt1, f1), 0);
  // add_to_physmap is for translated guests only (xatp_permission_check).
  const xatp = agent.placeStruct(XEN_ADD_TO_PHYSMAP, {
    domid: DomId.SELF,
    space: XENMAPSPACE_GRANT_TABLE,
    idx: 0,
    gpfn: 0x3000,
  });
  check.equal(
    "add_to_physmap(grant_table) from a PV guest EACCES",
    agent.hypercall(Hypercall.memory_op, MemoryOp.add_to_physmap, agent.handle(xatp)),
    -Errno.EACCES,
  );
}

interface Handles {
  readonly h1: number;
  readonly h2: number;
  readonly hc: number;
  readonly hd: number;
}

function mapOps(c: Ctx): Handles {
  const { self } = c;
  const { agent, check, gt, p } = c;
  const [win1, win2, win3, win4] = p.win;
  const same = (a: bigint, b: bigint): boolean =>
    hexBytes(agent.read(a, PAGE)) === hexBytes(agent.read(b, PAGE));
  agent.write(p.pa, pattern(7, 3));
  agent.write(p.pb, pattern(5, 1));
  agent.write(p.pc, pattern(3, 2));
  const fa = c.frameOf(p.pa);
  const fb = c.frameOf(p.pb);
  const fc = c.frameOf(p.pc);
  gt.grant(8, GTF.permit_access, self, fa);
  gt.grant(9, GTF.permit_access | GTF.readonly, self, fb);
  gt.grant(10, GTF.permit_access, self, fc);
  gt.grant(11, GTF.permit_access, self, fc);
  gt.grant(600, GTF.permit_access, self, fb); // an entry in grant frame 1

  // Host map, writable: GTF_reading and GTF_writing set (_set_status_v1).
  const m1 = gt.map(win1, GNTMAP_HOST_MAP, 8, self);
  check.equal("map(8, host) GNTST_okay", m1.status, GNTST.okay);
  check.equal("map(8, host) dev_bus_addr is the granted frame", m1.devBusAddr, fa << 12n);
  check.equal(
    "map(8, host) sets GTF_reading|GTF_writing",
    gt.flags(8),
    GTF.permit_access | GTF.reading | GTF.writing,
  );
  check.that("host map: the window shows the granted page", same(win1, p.pa));
  agent.write(win1 + 9n, new Uint8Array([0x99]));
  check.equal(
    "host map: writes through the window reach the page",
    agent.readUint(p.pa + 9n, 1),
    0x99,
  );
  // Host map, read-only, of a GTF_readonly grant: GTF_reading only.
  const m2 = gt.map(win2, GNTMAP_HOST_MAP | GNTMAP_READONLY, 9, self);
  check.equal("map(9 readonly grant, host|readonly) GNTST_okay", m2.status, GNTST.okay);
  check.equal(
    "map(9, readonly) sets GTF_reading only",
    gt.flags(9),
    GTF.permit_access | GTF.readonly | GTF.reading,
  );
  check.that("readonly host map shows the page", same(win2, p.pb));
  check.that("map(9) handle differs from map(8)", m2.handle !== m1.handle, m2.handle);
  // Device map only (no host mapping): dev_bus_addr for DMA, same pin accounting.
  const mc = gt.map(0n, GNTMAP_DEVICE_MAP, 10, self);
  check.equal("map(10, device) GNTST_okay", mc.status, GNTST.okay);
  check.equal("map(10, device) dev_bus_addr", mc.devBusAddr, fc << 12n);
  check.equal(
    "map(10, device) sets GTF_reading|GTF_writing",
    gt.flags(10),
    GTF.permit_access | GTF.reading | GTF.writing,
  );
  const md = gt.map(0n, GNTMAP_DEVICE_MAP | GNTMAP_READONLY, 11, self);
  check.equal("map(11, device|readonly) GNTST_okay", md.status, GNTST.okay);
  check.equal(
    "map(11, device|readonly) sets GTF_reading only",
    gt.flags(11),
    GTF.permit_access | GTF.reading,
  );
  // An entry in the second grant frame.
  const m600 = gt.map(win4, GNTMAP_HOST_MAP | GNTMAP_READONLY, 600, self);
  check.equal("map(600, host|readonly) in grant frame 1 GNTST_okay", m600.status, GNTST.okay);
  check.that("map(600) shows its page", same(win4, p.pb));
  check.equal("unmap(600) GNTST_okay", gt.unmap(win4, 0n, m600.handle), GNTST.okay);
  check.equal("unmap(600) clears GTF_reading", gt.flags(600), GTF.permit_access);

  // Errors, reported in the op's status (the hypercall itself returns 0).
  // pin_incr 0 (neither host nor device map): GNTST_bad_gntref.
  check.equal(
    "map with no host/device flag GNTST_bad_gntref",
    gt.map(win3, 0, 8, self).status,
    GNTST.bad_gntref,
  );
  check.equal(
    "map with GNTMAP_readonly only GNTST_bad_gntref",
    gt.map(win3, GNTMAP_READONLY, 8, self).status,
    GNTST.bad_gntref,
  );
  // ref >= nr_grant_entries(rgt): GNTST_bad_gntref (64 frames x 512 = 32768 entries).
  check.equal(
    "map(ref 32768) GNTST_bad_gntref",
    gt.map(win3, GNTMAP_HOST_MAP, 32768, self).status,
    GNTST.bad_gntref,
  );
  check.equal(
    "map(ref 0xffffffff) GNTST_bad_gntref",
    gt.map(win3, GNTMAP_HOST_MAP, 0xffffffff, self).status,
    GNTST.bad_gntref,
  );
  // rcu_lock_domain_by_id: an unknown domain, and DomId.SELF (not accepted here).
  check.equal(
    "map(dom 77) GNTST_bad_domain",
    gt.map(win3, GNTMAP_HOST_MAP, 8, 77).status,
    GNTST.bad_domain,
  );
  check.equal(
    "map(dom DomId.SELF) GNTST_bad_domain",
    gt.map(win3, GNTMAP_HOST_MAP, 10, DomId.SELF).status,
    GNTST.bad_domain,
  );
  // _set_status_v1: entry for another domid, or not GTF_permit_access: general_error.
  gt.grant(12, GTF.permit_access, 5, fc);
  check.equal(
    "map of a grant issued to dom 5 GNTST_general_error",
    gt.map(win3, GNTMAP_HOST_MAP, 12, self).status,
    GNTST.general_error,
  );
  check.equal("failed map leaves the entry's flags", gt.flags(12), GTF.permit_access);
  const refused = (what: string, ref: number, flags: number, frame: bigint): void => {
    gt.grant(ref, flags, self, frame);
    check.equal(what, gt.map(win3, GNTMAP_HOST_MAP, ref, self).status, GNTST.general_error);
  };
  refused("map of a GTF_invalid entry GNTST_general_error", 13, GTF.invalid, fc);
  refused("map of a GTF_accept_transfer entry GNTST_general_error", 14, GTF.accept_transfer, fc);
  refused(
    "map of a GTF_sub_page entry GNTST_general_error",
    15,
    GTF.permit_access | GTF.sub_page,
    fc,
  );
  // "Attempt to write-pin a r/o grant entry": general_error (not permission_denied).
  refused(
    "writable map of a GTF_readonly grant GNTST_general_error",
    16,
    GTF.permit_access | GTF.readonly,
    fc,
  );
  check.equal(
    "refused writable map leaves GTF_readonly entry unpinned",
    gt.flags(16),
    GTF.permit_access | GTF.readonly,
  );
  check.equal(
    "writable device map of a GTF_readonly grant GNTST_general_error",
    gt.map(0n, GNTMAP_DEVICE_MAP, 16, self).status,
    GNTST.general_error,
  );
  // get_paged_frame: a frame the granter does not own: GNTST_bad_page; flags undone.
  gt.grant(17, GTF.permit_access, self, NOT_OWNED);
  check.equal(
    "map of an entry naming a frame not owned GNTST_bad_page",
    gt.map(win3, GNTMAP_HOST_MAP, 17, self).status,
    GNTST.bad_page,
  );
  check.equal("bad_page map clears GTF_reading|GTF_writing again", gt.flags(17), GTF.permit_access);
  // create_grant_pv_mapping: nothing mapped at the address: general_error, undone.
  gt.grant(18, GTF.permit_access, self, fc);
  check.equal(
    "host map at an address with nothing mapped GNTST_general_error (ref 18)",
    gt.map(c.bad, GNTMAP_HOST_MAP, 18, self).status,
    GNTST.general_error,
  );
  check.equal(
    "failed host map clears GTF_reading|GTF_writing again",
    gt.flags(18),
    GTF.permit_access,
  );
  check.equal(
    "map(bad pointer) EFAULT",
    gt.op(GrantTableOp.map_grant_ref, c.bad, 1),
    -Errno.EFAULT,
  );
  return { h1: m1.handle, h2: m2.handle, hc: mc.handle, hd: md.handle };
}

function reuseAndUnmap(c: Ctx, h: Handles): void {
  const { self } = c;
  const { check, gt, p } = c;
  const [win1, win2, win3] = p.win;
  const fa = c.frameOf(p.pa);
  const fb = c.frameOf(p.pb);
  const fc = c.frameOf(p.pc);
  const inUse = (): number => gt.flags(8) & (GTF.reading | GTF.writing);
  // A second writable map of entry 8 while it is pinned: shares the active entry.
  const m3 = gt.map(win3, GNTMAP_HOST_MAP, 8, self);
  check.equal("second map(8, host) while mapped GNTST_okay", m3.status, GNTST.okay);
  check.equal("second map(8) same frame", m3.devBusAddr, fa << 12n);
  // The granter rewrites the entry while it is mapped: the active entry keeps the pinned
  // frame (map_grant_ref uses act->mfn while act->pin != 0).
  gt.grant(8, GTF.permit_access | GTF.reading | GTF.writing, self, fb);
  const m4 = gt.map(0n, GNTMAP_DEVICE_MAP | GNTMAP_READONLY, 8, self);
  check.equal("map(8, readonly) after the entry was rewritten GNTST_okay", m4.status, GNTST.okay);
  check.equal(
    "map of a pinned entry uses the pinned frame, not the rewritten one",
    m4.devBusAddr,
    fa << 12n,
  );
  // An entry cannot be reused while mapped: the status bits stay set, so the granter's
  // end-of-access (Linux gnttab_end_foreign_access_ref: refuse while reading|writing)
  // cannot succeed.
  check.equal(
    "entry in use: GTF_reading|GTF_writing stay while mapped",
    inUse(),
    GTF.reading | GTF.writing,
  );
  // Unmapping the first writable host map: a writable pin (h3) remains.
  check.equal("unmap(h1) GNTST_okay", gt.unmap(win1, 0n, h.h1), GNTST.okay);
  check.equal(
    "after unmap(h1): GTF_reading|GTF_writing stay (h3 pins)",
    inUse(),
    GTF.reading | GTF.writing,
  );
  // Last writable pin gone, a read-only device pin (h4) remains: GTF_writing clears.
  check.equal("unmap(h3) GNTST_okay", gt.unmap(win3, 0n, m3.handle), GNTST.okay);
  check.equal("after unmap(h3): GTF_writing cleared, GTF_reading stays", inUse(), GTF.reading);
  // unmap_common: dev_bus_addr not the mapped frame: GNTST_bad_dev_addr, nothing done.
  check.equal(
    "unmap(h4) with a wrong dev_bus_addr GNTST_bad_dev_addr",
    gt.unmap(0n, fb << 12n, m4.handle),
    GNTST.bad_dev_addr,
  );
  check.equal("unmap(h4) GNTST_okay", gt.unmap(0n, fa << 12n, m4.handle), GNTST.okay);
  check.equal("all pins gone: GTF_reading cleared", inUse(), 0);
  // Now the granter may end access: flags back to 0.
  gt.grant(8, GTF.permit_access, self, fa);

  // Handles: unmapped (flags 0) and beyond maptrack_limit: GNTST_bad_handle.
  check.equal("unmap(h1) again GNTST_bad_handle", gt.unmap(win1, 0n, h.h1), GNTST.bad_handle);
  check.equal(
    "unmap(handle 0xffffffff) GNTST_bad_handle",
    gt.unmap(win1, 0n, 0xffffffff),
    GNTST.bad_handle,
  );
  // replace_grant_pv_mapping: the mapping at host_addr is not the frame: general_error.
  check.equal(
    "unmap(h2) at a window not mapping its frame GNTST_general_error",
    gt.unmap(win1, 0n, h.h2),
    GNTST.general_error,
  );
  check.equal(
    "unmap that failed keeps GTF_reading",
    gt.flags(9),
    GTF.permit_access | GTF.readonly | GTF.reading,
  );
  // Neither host_addr nor dev_bus_addr: nothing to undo, status okay, mapping kept.
  check.equal("unmap(h2) with no addresses GNTST_okay", gt.unmap(0n, 0n, h.h2), GNTST.okay);
  check.equal(
    "unmap with no addresses keeps the pin",
    gt.flags(9),
    GTF.permit_access | GTF.readonly | GTF.reading,
  );
  check.equal("unmap(h2) GNTST_okay", gt.unmap(win2, 0n, h.h2), GNTST.okay);
  check.equal("unmap(h2) clears GTF_reading", gt.flags(9), GTF.permit_access | GTF.readonly);
  check.equal(
    "unmap(device h10) wrong dev_bus_addr GNTST_bad_dev_addr",
    gt.unmap(0n, 0x1000n, h.hc),
    GNTST.bad_dev_addr,
  );
  check.equal("unmap(device h10) GNTST_okay", gt.unmap(0n, fc << 12n, h.hc), GNTST.okay);
  check.equal("unmap(device h10) clears GTF_reading|GTF_writing", gt.flags(10), GTF.permit_access);
  check.equal("unmap(device h11) GNTST_okay", gt.unmap(0n, fc << 12n, h.hd), GNTST.okay);
  check.equal("unmap(device h11) clears GTF_reading", gt.flags(11), GTF.permit_access);
  check.equal(
    "unmap(bad pointer) EFAULT",
    gt.op(GrantTableOp.unmap_grant_ref, c.bad, 1),
    -Errno.EFAULT,
  );
  // The windows lost their mappings with the unmaps; give them their own pages back.
  for (const win of p.win) c.map(win, c.frameOf(win));
}

function copyOps(c: Ctx): void {
  const { self } = c;
  const { agent, check, gt, p } = c;
  const win1 = p.win[0];
  const fdst = c.frameOf(p.dst);
  const fb = c.frameOf(p.pb);
  const pa = pattern(7, 3);
  const pb = pattern(5, 1);
  agent.write(p.pa, pa);
  agent.write(p.pb, pb);
  agent.write(p.dst, new Uint8Array(PAGE));
  const bytes = (va: bigint, n: number): string => hexBytes(agent.read(va, n));
  // gref -> frame and frame -> gref; frame ends must be DomId.SELF.
  check.equal(
    "copy gref 8 -> own frame GNTST_okay",
    gt.copy(gref(8, self, 100), frameEnd(fdst, 200), 64),
    GNTST.okay,
  );
  check.equal(
    "copy gref -> frame: bytes arrive",
    bytes(p.dst + 200n, 64),
    hexBytes(pa.subarray(100, 164)),
  );
  check.equal(
    "copy releases its pin: flags back to GTF_permit_access",
    gt.flags(8),
    GTF.permit_access,
  );
  agent.write(p.dst, new Uint8Array([0xab, 0xcd]));
  check.equal(
    "copy own frame -> gref 8 at offset 4094 GNTST_okay",
    gt.copy(frameEnd(fdst), gref(8, self, 4094), 2),
    GNTST.okay,
  );
  check.equal("copy frame -> gref: bytes arrive", bytes(p.pa + 4094n, 2), "abcd");
  check.equal("copy to a gref releases GTF_writing", gt.flags(8), GTF.permit_access);
  check.equal(
    "copy gref 9 (readonly) -> gref 10 GNTST_okay",
    gt.copy(gref(9, self), gref(10, self), 16),
    GNTST.okay,
  );
  check.equal("copy gref -> gref: bytes arrive", bytes(p.pc, 16), hexBytes(pb.subarray(0, 16)));
  check.equal(
    "copy frame -> frame (both DomId.SELF) GNTST_okay",
    gt.copy(frameEnd(fb, 8), frameEnd(fdst, 8), 8),
    GNTST.okay,
  );
  check.equal(
    "copy frame -> frame: bytes arrive",
    bytes(p.dst + 8n, 8),
    hexBytes(pb.subarray(8, 16)),
  );
  check.equal(
    "copy at offset 4095 length 1 GNTST_okay",
    gt.copy(gref(8, self, 4095), frameEnd(fdst, 4095), 1),
    GNTST.okay,
  );
  // gnttab_copy_one: len 0 is okay before anything else is looked at.
  check.equal(
    "copy of length 0 with a bad gref GNTST_okay",
    gt.copy(gref(40000, 77), frameEnd(0n, 0, 77), 0),
    GNTST.okay,
  );
  // gnttab_copy_buf: offset + len > PAGE_SIZE: GNTST_bad_copy_arg.
  check.equal(
    "copy source crossing the page GNTST_bad_copy_arg",
    gt.copy(gref(8, self, 4000), frameEnd(fdst), 200),
    GNTST.bad_copy_arg,
  );
  check.equal(
    "copy dest crossing the page GNTST_bad_copy_arg",
    gt.copy(frameEnd(fdst), gref(8, self, 4095), 2),
    GNTST.bad_copy_arg,
  );
  check.equal(
    "copy of 4097 bytes GNTST_bad_copy_arg",
    gt.copy(frameEnd(fb), frameEnd(fdst), 4097),
    GNTST.bad_copy_arg,
  );
  check.equal("failed copy releases its pins", gt.flags(8), GTF.permit_access);
  // gnttab_copy_lock_domain: "Only DOMID_SELF may reference via frame".
  check.equal(
    "copy by frame naming the own domid GNTST_permission_denied",
    gt.copy(frameEnd(fb, 0, self), frameEnd(fdst), 8),
    GNTST.permission_denied,
  );
  check.equal(
    "copy to a frame naming the own domid GNTST_permission_denied",
    gt.copy(frameEnd(fb), frameEnd(fdst, 0, self), 8),
    GNTST.permission_denied,
  );
  const toDst = (what: string, source: ReturnType<typeof gref>, want: number): void =>
    check.equal(what, gt.copy(source, frameEnd(fdst), 8), want);
  toDst("copy from gref of dom 77 GNTST_bad_domain", gref(8, 77), GNTST.bad_domain);
  toDst("copy from gref 40000 GNTST_bad_gntref", gref(40000, self), GNTST.bad_gntref);
  toDst(
    "copy from a grant issued to dom 5 GNTST_general_error",
    gref(12, self),
    GNTST.general_error,
  );
  check.equal(
    "copy into a GTF_readonly grant GNTST_general_error",
    gt.copy(frameEnd(fdst), gref(9, self), 8),
    GNTST.general_error,
  );
  toDst("copy from a frame not owned GNTST_bad_page", frameEnd(NOT_OWNED), GNTST.bad_page);
  toDst(
    "copy from an entry naming a frame not owned GNTST_bad_page",
    gref(17, self),
    GNTST.bad_page,
  );
  // Copy from an entry while it is mapped: the pin's status bits stay after the copy.
  const m = gt.map(win1, GNTMAP_HOST_MAP, 8, self);
  check.equal("map(8) for copy-while-mapped GNTST_okay", m.status, GNTST.okay);
  toDst("copy from a mapped gref GNTST_okay", gref(8, self), GNTST.okay);
  check.equal(
    "copy from a mapped gref leaves GTF_reading|GTF_writing",
    gt.flags(8),
    GTF.permit_access | GTF.reading | GTF.writing,
  );
  check.equal("unmap after copy GNTST_okay", gt.unmap(win1, 0n, m.handle), GNTST.okay);
  c.map(win1, c.frameOf(win1));
  // A batch: each op has its own status, the hypercall returns 0.
  const batch = gt.copyBatch([
    gt.copyOp(gref(8, self), frameEnd(fdst), 4),
    gt.copyOp(gref(8, self, 4090), frameEnd(fdst), 10),
    gt.copyOp(gref(40000, self), frameEnd(fdst), 4),
  ]);
  const statusOf = (i: number): number => batch.statuses[i];
  check.equal("copy batch of 3 rc", batch.rc, 0);
  check.equal("copy batch op 0 GNTST_okay", statusOf(0), GNTST.okay);
  check.equal("copy batch op 1 GNTST_bad_copy_arg", statusOf(1), GNTST.bad_copy_arg);
  check.equal("copy batch op 2 GNTST_bad_gntref", statusOf(2), GNTST.bad_gntref);
  check.equal("copy(bad pointer) EFAULT", gt.op(GrantTableOp.copy, c.bad, 1), -Errno.EFAULT);
}

function transferOps(c: Ctx): void {
  const { self } = c;
  const { agent, check, gt, p } = c;
  const contents = pattern(11, 5);
  agent.write(p.xfer, contents);
  // The receiver names the guest frame the page is to appear at; a PV receiver keeps its
  // own p2m, so any number will do: one this guest does not use.
  const frame = c.frameOf(p.xfer);
  const pfn = 0x12345n;
  gt.grant(20, GTF.accept_transfer, self, pfn);
  // steal_page needs a page with no other reference: still mapped here, it fails with
  // -EINVAL, which transfer reports as GNTST_bad_page.
  check.equal(
    "transfer of a page still mapped GNTST_bad_page",
    gt.transfer(frame, self, 20),
    GNTST.bad_page,
  );
  check.equal("refused transfer leaves the entry", gt.flags(20), GTF.accept_transfer);
  check.equal(
    "transfer of an invalid frame GNTST_bad_page",
    gt.transfer(0xfffffffn, self, 20),
    GNTST.bad_page,
  );
  // To itself: the domain unmaps the page, then gives it to the entry's domid (its own).
  check.equal("unmap the page to transfer", c.map(p.xfer, null), 0);
  check.equal("transfer to self GNTST_okay", gt.transfer(frame, self, 20), GNTST.okay);
  check.equal(
    "transfer sets GTF_transfer_committed|GTF_transfer_completed",
    gt.flags(20),
    GTF.accept_transfer | GTF_TRANSFER_COMMITTED | GTF_TRANSFER_COMPLETED,
  );
  // A PV receiver gets the frame written over the entry's, and the M2P entry pointing at
  // the frame it named (guest_physmap_add_page).
  check.equal(
    "transfer writes the frame into the entry (PV)",
    gt.frame(20),
    BigInt.asUintN(32, frame),
  );
  check.equal("transfer sets the M2P entry to the named frame", agent.m2p(frame), pfn);
  check.equal("transferred page can be mapped again", c.map(p.xfer, frame), 0);
  check.equal(
    "transferred page keeps its contents",
    hexBytes(agent.read(p.xfer, PAGE)),
    hexBytes(contents),
  );
  // Failures after the page is taken (Xen frees it then, so each uses its own page).
  const [xfA, xfB, xfC] = p.xf;
  const fA = c.frameOf(xfA);
  const fB = c.frameOf(xfB);
  const fC = c.frameOf(xfC);
  c.map(xfA, null);
  check.equal("transfer to dom 77 GNTST_bad_domain", gt.transfer(fA, 77, 20), GNTST.bad_domain);
  c.map(xfB, null);
  gt.grant(21, GTF.permit_access, self, fB);
  // gnttab_prepare_for_transfer: flags != GTF_accept_transfer: general_error.
  check.equal(
    "transfer into a GTF_permit_access entry GNTST_general_error",
    gt.transfer(fB, self, 21),
    GNTST.general_error,
  );
  c.map(xfC, null);
  check.equal(
    "transfer into ref 32768 (past the table) GNTST_general_error",
    gt.transfer(fC, self, 32768),
    GNTST.general_error,
  );
  check.equal(
    "transfer(bad pointer) EFAULT",
    gt.op(GrantTableOp.transfer, c.bad, 1),
    -Errno.EFAULT,
  );
}

function dispatcher(c: Ctx): void {
  const { agent, check, gt } = c;
  // do_grant_table_op: (int)count < 0 -EINVAL; bits above GNTTABOP_CMD_MASK (continuation
  // state a guest may not pass) -EINVAL; an unknown op -ENOSYS.
  const q = agent.alloc(64);
  check.equal("grant_table_op count -1 EINVAL", gt.op(GrantTableOp.copy, q, -1), -Errno.EINVAL);
  check.equal(
    "grant_table_op cmd with continuation bits EINVAL",
    gt.op(GrantTableOp.query_size | (1 << 12), q, 1),
    -Errno.EINVAL,
  );
  check.equal("grant_table_op unknown cmd 99 ENOSYS", gt.op(99, q, 1), -Errno.ENOSYS);
  // map, unmap, transfer and copy check their array with guest_handle_okay(uop, count)
  // first: an array in Xen's range is -EFAULT even for count 0; a good one with count 0
  // does nothing.
  for (const [name, cmd] of [
    ["map_grant_ref", GrantTableOp.map_grant_ref],
    ["unmap_grant_ref", GrantTableOp.unmap_grant_ref],
    ["copy", GrantTableOp.copy],
    ["transfer", GrantTableOp.transfer],
  ] as const) {
    check.equal(
      `${name} count 0, array in Xen's range EFAULT`,
      gt.op(cmd, c.xen, 0),
      -Errno.EFAULT,
    );
  }
  check.equal("map_grant_ref count 0 rc", gt.op(GrantTableOp.map_grant_ref, q, 0), 0);
  check.equal("copy count 0 rc", gt.op(GrantTableOp.copy, q, 0), 0);
}
