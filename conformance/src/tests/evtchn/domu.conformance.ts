/**
 * The event-channel and grant-table answers only an unprivileged domain gets, from a domU
 * under the built-in dom0.
 *
 * Facts, from github:xen-project/xen:
 * - xen/include/xsm/dummy.h (the default policy): XSM_TARGET lets a domain act on itself
 *   or, if privileged, on others (−EPERM otherwise): xsm_evtchn_unbound,
 *   xsm_evtchn_status, xsm_evtchn_reset; xsm_grant_setup and xsm_grant_query_size, whose
 *   refusal grant_table.c reports as GNTST_permission_denied.
 * - xen/common/event_channel.c: evtchn_alloc_unbound allocates the port before the XSM
 *   check (and gives it back on failure); evtchn_status checks the port (−EINVAL) before
 *   XSM; evtchn_bind_virq: a VIRQ_GLOBAL VIRQ from a domain that is not its handler (the
 *   hardware domain by default, get_global_virq_handler) is −EBUSY; VIRQ_ARGO is per
 *   domain and per-vCPU VIRQs are anyone's.
 * - tools/libs/light (libxl) and xenstored: the store port in start_info is the domU's,
 *   allocated unbound for dom0 and bound by xenstored on XS_INTRODUCE (before the domain
 *   is unpaused). The console port is left alone: xenconsoled binds it asynchronously.
 */
import {
  DomId,
  Errno,
  EventChannelStatus as S,
  GNTTAB_QUERY_SIZE,
  GNTTAB_SETUP_TABLE,
  GrantStatus,
  GrantTableOp,
  Virq,
} from "@hvkit/core";
import { agentTest } from "../agent-test.js";
import { EventChannels } from "../../event-channels.js";
import { grantOp } from "./peer.js";

/** A port no binding has made valid (its bucket does not exist). */
const INVALID_PORT = 4000;

/** evtchn/domu. */
export const evtchnDomu = agentTest({
  area: "evtchn",
  name: "domu",
  description:
    "an unprivileged domU gets -EPERM, -EBUSY and GNTST_permission_denied where Xen's dummy XSM policy says so",
  requires: { modes: ["pv"], roles: ["domU"] },
  run(agent, check) {
    const ev = new EventChannels(agent);
    const info = agent.bootInfo();
    const self = agent.session.domain.id;
    check.equal("start_info: not privileged", info.privileged, false);
    check.equal("start_info: not the initial domain", info.initialDomain, false);

    // The store port the toolstack allocated, bound by xenstored when it was introduced.
    const store = ev.status(DomId.SELF, info.storeEvtchn ?? 0);
    check.equal("status(store port) rc", store.rc, 0);
    check.equal("the store port is interdomain", store.status, S.interdomain);
    check.equal(
      "the store port is connected to dom 0",
      store.out.getNumber("u.interdomain.dom"),
      0,
    );

    // XSM_TARGET: another domain's table is not ours to touch.
    check.equal(
      "alloc_unbound(dom 0) unprivileged EPERM",
      ev.allocUnbound(0, self).rc,
      -Errno.EPERM,
    );
    const own = ev.allocUnbound(DomId.SELF, 0);
    check.equal("alloc_unbound(self, remote 0) rc", own.rc, 0);
    const st = ev.status(DomId.SELF, own.port);
    check.equal(
      "status(self, new port) unbound for dom 0",
      st.rc === 0n ? st.out.getNumber("u.unbound.dom") : -1,
      0,
    );
    check.equal("status(dom 0, 1) unprivileged EPERM", ev.status(0, 1).rc, -Errno.EPERM);
    check.equal(
      "status(dom 0, an invalid port): the port is checked first, EINVAL",
      ev.status(0, INVALID_PORT).rc,
      -Errno.EINVAL,
    );
    check.equal("reset(dom 0) unprivileged EPERM", ev.reset(0), -Errno.EPERM);

    // Global VIRQs belong to their handler (the hardware domain): −EBUSY.
    check.equal(
      "bind_virq(console, global) from a domU EBUSY",
      ev.bindVirq(Virq.console, 0).rc,
      -Errno.EBUSY,
    );
    check.equal(
      "bind_virq(dom_exc, global) from a domU EBUSY",
      ev.bindVirq(Virq.dom_exc, 0).rc,
      -Errno.EBUSY,
    );
    check.equal("bind_virq(timer, per-vCPU) from a domU rc", ev.bindVirq(Virq.timer, 0).rc, 0);
    check.equal("bind_virq(argo, per-domain) from a domU rc", ev.bindVirq(Virq.argo, 0).rc, 0);

    // Grant tables: another domain's is refused with GNTST_permission_denied.
    const frames = agent.alloc(2 * agent.model.xenPfn);
    const setup = (dom: number): { rc: bigint; status: number } => {
      const r = grantOp(agent, GrantTableOp.setup_table, GNTTAB_SETUP_TABLE, {
        dom,
        nr_frames: 1,
        frame_list: agent.handle(frames),
      });
      return { rc: r.rc, status: r.out.getNumber("status") };
    };
    const query = (dom: number): { rc: bigint; status: number } => {
      const r = grantOp(agent, GrantTableOp.query_size, GNTTAB_QUERY_SIZE, { dom });
      return { rc: r.rc, status: r.out.getNumber("status") };
    };
    const s0 = setup(0);
    check.equal("gnttab setup_table(dom 0) rc", s0.rc, 0);
    check.equal(
      "gnttab setup_table(dom 0) unprivileged GNTST_permission_denied",
      s0.status,
      GrantStatus.permission_denied,
    );
    const q0 = query(0);
    check.equal("gnttab query_size(dom 0) rc", q0.rc, 0);
    check.equal(
      "gnttab query_size(dom 0) unprivileged GNTST_permission_denied",
      q0.status,
      GrantStatus.permission_denied,
    );
    check.equal("gnttab query_size(self) GNTST_okay", query(DomId.SELF).status, GrantStatus.okay);
    check.equal("gnttab setup_table(own domid) GNTST_okay", setup(self).status, GrantStatus.okay);
  },
});
