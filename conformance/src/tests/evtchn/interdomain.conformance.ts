/**
 * Event channels and grant tables between two domains, from the control domain acting as a
 * toolstack on a domain D it creates (XEN_DOMCTL_createdomain), the way libxl sets up a
 * domU's store and console channels: alloc_unbound and status in D, a dom0 ↔ D
 * interdomain channel, EVTCHNOP_reset of D (only while paused by the toolstack), the
 * peer left unbound by reset and by destroydomain, setup_table / query_size of D's grant
 * table, and map_grant_ref refused when D grants dom0 nothing.
 *
 * Facts, from github:xen-project/xen:
 * - xen/common/event_channel.c: evtchn_alloc_unbound and evtchn_status take any domain
 *   the caller may target (xsm_evtchn_unbound / xsm_evtchn_status, XSM_TARGET: a
 *   privileged domain may); bind_interdomain needs the remote port unbound *for the
 *   caller*; evtchn_close (and so reset and evtchn_destroy on domain_kill) leaves the
 *   other end ECS_UNBOUND for the closing domain; evtchn_reset of another domain is
 *   −EINVAL unless the toolstack has it paused (d->controller_pause_count).
 * - xen/common/grant_table.c: setup_table / query_size of another domain (XSM_TARGET);
 *   map_grant_ref of an entry that does not grant the caller access: GNTST_general_error
 *   (_set_status_v1); max_grant_frames −1 takes the default, 64 frames.
 * - xen/common/domain.c domain_create: a new domain starts with controller_pause_count 1.
 * - xen/include/public/domctl.h (interface 0x17): createdomain 1, destroydomain 2,
 *   pausedomain 3, unpausedomain 4.
 */
import {
  DomId,
  DomctlCmd,
  Errno,
  EventChannelStatus as S,
  GNTMAP_HOST_MAP,
  GNTTAB_MAP_GRANT_REF,
  GNTTAB_QUERY_SIZE,
  GNTTAB_SETUP_TABLE,
  GrantStatus,
  GrantTableOp,
} from "@hvkit/core";
import type { Agent } from "../../agent.js";
import { agentTest, type Checks } from "../agent-test.js";
import { EventChannels } from "../../event-channels.js";
import { domctl } from "../domctl/calls.js";
import { createPeer, grantOp } from "./peer.js";

/** A port no binding has made valid (its bucket does not exist). */
const INVALID_PORT = 4000;
/** A port in D's first bucket that is never allocated. */
const FREE_PORT = 60;

/** evtchn/interdomain. */
export const evtchnInterdomain = agentTest({
  area: "evtchn",
  name: "interdomain",
  description:
    "dom0 binds, resets and outlives channels into a domain it creates, and sizes its grant table",
  requires: { modes: ["pv"], roles: ["dom0"] },
  run(agent, check) {
    const ev = new EventChannels(agent);
    const created = createPeer(agent);
    check.equal("createdomain rc", created.rc, 0);
    const d = created.domid;
    check.that("the new domain's id is not 0", d !== 0, d);
    channels(agent, ev, check, d);
    grants(agent, check, d);

    // domain_kill → evtchn_destroy: D's ports closed, dom0's ends left unbound for D.
    let lp = 0;
    for (let p = 1; p < 8; p++) {
      const st = ev.status(DomId.SELF, p);
      if (st.rc === 0n && st.status === S.interdomain) lp = p;
    }
    check.that("dom0 has an interdomain port to D", lp !== 0);
    check.equal("destroydomain(D) rc", domctl(agent, DomctlCmd.destroydomain, d).rc, 0);
    const st = ev.status(DomId.SELF, lp);
    check.equal("after destroydomain(D): dom0's end unbound", st.status, S.unbound);
    check.equal("after destroydomain(D): unbound for D", st.out.getNumber("u.unbound.dom"), d);
    check.equal("send on it is dropped: rc 0", ev.send(lp), 0);
  },
});

function channels(agent: Agent, ev: EventChannels, check: Checks, d: number): void {
  const statusOf = (dom: number, port: number): number => {
    const st = ev.status(dom, port);
    return st.rc === 0n ? st.status : -1;
  };
  // libxl: dom0 allocates the domU's store port, unbound for dom0 (XSM_TARGET: privileged).
  const p = ev.allocUnbound(d, 0);
  check.equal("alloc_unbound(dom D, remote 0) rc", p.rc, 0);
  check.equal("alloc_unbound in D gives D's lowest free port 1", p.port, 1);
  let st = ev.status(d, 1);
  check.equal("status(D, 1) rc", st.rc, 0);
  check.equal("status(D, 1) unbound", st.status, S.unbound);
  check.equal("status(D, 1) unbound for dom 0", st.out.getNumber("u.unbound.dom"), 0);
  // dom0 binds to it: a real interdomain channel.
  const lp = ev.bindInterdomain(d, 1);
  check.equal("bind_interdomain(D, 1) rc", lp.rc, 0);
  check.equal("bind_interdomain(D, 1) local port 1", lp.port, 1);
  st = ev.status(0, lp.port);
  check.equal("status(0, local) interdomain", st.status, S.interdomain);
  check.equal("status(0, local) remote dom D", st.out.getNumber("u.interdomain.dom"), d);
  check.equal("status(0, local) remote port 1", st.out.getNumber("u.interdomain.port"), 1);
  st = ev.status(d, 1);
  check.equal("status(D, 1) interdomain", st.status, S.interdomain);
  check.equal("status(D, 1) remote dom 0", st.out.getNumber("u.interdomain.dom"), 0);
  check.equal(
    "status(D, 1) remote port is dom0's",
    st.out.getNumber("u.interdomain.port"),
    lp.port,
  );
  check.equal("send to D rc", ev.send(lp.port), 0);
  // A port D allocated for itself is not bindable by dom0.
  const q = ev.allocUnbound(d, d);
  check.equal("alloc_unbound(dom D, remote D) rc", q.rc, 0);
  check.equal(
    "bind_interdomain to D's port unbound for D EINVAL",
    ev.bindInterdomain(d, q.port).rc,
    -Errno.EINVAL,
  );
  check.equal(
    "bind_interdomain to D's unallocated port 60 EINVAL",
    ev.bindInterdomain(d, FREE_PORT).rc,
    -Errno.EINVAL,
  );
  check.equal("status(D, an invalid port) EINVAL", ev.status(d, INVALID_PORT).rc, -Errno.EINVAL);

  // evtchn_reset of another domain: only while the toolstack has it paused. A new domain
  // starts paused by its controller (domain_create: controller_pause_count = 1), so the
  // toolstack unpauses it first, as libxl does once it is built.
  check.equal("unpausedomain(D) after create rc", domctl(agent, DomctlCmd.unpausedomain, d).rc, 0);
  check.equal("reset(D) not paused EINVAL", ev.reset(d), -Errno.EINVAL);
  check.equal("reset(D) did not close D's port", statusOf(d, 1), S.interdomain);
  check.equal("pausedomain(D) rc", domctl(agent, DomctlCmd.pausedomain, d).rc, 0);
  check.equal("reset(D) paused rc", ev.reset(d), 0);
  check.equal("reset(D) closed D's port", statusOf(d, 1), S.closed);
  st = ev.status(0, lp.port);
  check.equal("reset(D) left dom0's end unbound", st.status, S.unbound);
  check.equal("reset(D) left dom0's end unbound for D", st.out.getNumber("u.unbound.dom"), d);
  check.equal("unpausedomain(D) rc", domctl(agent, DomctlCmd.unpausedomain, d).rc, 0);
  check.equal("reset(D) after unpause EINVAL again", ev.reset(d), -Errno.EINVAL);
  check.equal("close dom0's end rc", ev.close(lp.port), 0);

  // The other direction: dom0 allocates a port for D; a fresh channel to destroy later.
  const p2 = ev.allocUnbound(d, 0);
  check.equal("alloc_unbound(dom D, remote 0) again rc", p2.rc, 0);
  check.equal("bind_interdomain(D, again) rc", ev.bindInterdomain(d, p2.port).rc, 0);
  const mine = ev.allocUnbound(DomId.SELF, d);
  check.equal("alloc_unbound(self, remote D) rc", mine.rc, 0);
  check.equal(
    "status of dom0's port unbound for D",
    ev.status(DomId.SELF, mine.port).out.getNumber("u.unbound.dom"),
    d,
  );
}

function grants(agent: Agent, check: Checks, d: number): void {
  const query = (): ReturnType<typeof grantOp> =>
    grantOp(agent, GrantTableOp.query_size, GNTTAB_QUERY_SIZE, { dom: d });
  let q = query();
  check.equal("gnttab query_size(D) rc", q.rc, 0);
  check.equal("gnttab query_size(D) status okay", q.out.getNumber("status"), GrantStatus.okay);
  check.equal("gnttab query_size(D) nr_frames 1", q.out.getNumber("nr_frames"), 1);
  check.equal(
    "gnttab query_size(D) max_nr_frames 64 (max_grant_frames -1: the default)",
    q.out.getNumber("max_nr_frames"),
    64,
  );
  const pfn = agent.model.xenPfn;
  const frames = agent.alloc(2 * pfn);
  const s = grantOp(agent, GrantTableOp.setup_table, GNTTAB_SETUP_TABLE, {
    dom: d,
    nr_frames: 2,
    frame_list: agent.handle(frames),
  });
  check.equal("gnttab setup_table(D, 2) rc", s.rc, 0);
  check.equal("gnttab setup_table(D, 2) status okay", s.out.getNumber("status"), GrantStatus.okay);
  const f0 = agent.readUint(frames, pfn);
  const f1 = agent.readUint(frames + BigInt(pfn), pfn);
  if (agent.arch.translatedPv === true) {
    // A translated domain's grant frames are in no slot of its physmap until it places
    // them there (XENMEM_add_to_physmap): gnttab_shared_gfn gives INVALID_GFN.
    const invalid = (1n << BigInt(8 * pfn)) - 1n;
    check.that(
      "gnttab setup_table(D, 2) lists INVALID_GFN for frames D has not placed",
      f0 === invalid && f1 === invalid,
    );
  } else {
    check.that("gnttab setup_table(D, 2) lists two frames", f0 !== 0n && f1 !== 0n && f0 !== f1);
  }
  q = query();
  check.equal("gnttab query_size(D) after setup_table: 2 frames", q.out.getNumber("nr_frames"), 2);
  // D has granted nothing to dom0 (its entries are zero): _set_status_v1 refuses.
  const m = grantOp(agent, GrantTableOp.map_grant_ref, GNTTAB_MAP_GRANT_REF, {
    host_addr: agent.boot.window,
    flags: GNTMAP_HOST_MAP,
    ref: 0,
    dom: d,
  });
  check.equal("gnttab map_grant_ref rc", m.rc, 0);
  check.equal(
    "gnttab map of D's entry not granted to dom0 GNTST_general_error",
    m.out.getNumber("status"),
    GrantStatus.general_error,
  );
}
