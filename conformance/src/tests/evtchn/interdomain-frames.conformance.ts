/**
 * The grant operations of evtchn/interdomain that name one of the caller's own frames:
 * the control domain creates a domain D, which grants it nothing, and is refused a copy
 * from D's grant reference into a frame of its own, and a transfer of one of its pages to
 * D (which has room for it after XEN_DOMCTL_max_mem, but no accept-transfer entry for
 * dom0), both with GNTST_general_error.
 *
 * Facts, from github:xen-project/xen, xen/common/grant_table.c: acquire_grant_for_copy of
 * an entry that does not grant the caller access (_set_status_v1); gnttab_transfer to a
 * domain without an accept-transfer entry for the caller (gnttab_prepare_for_transfer),
 * the page stolen first (steal_page: the caller unmaps it beforehand).
 */
import {
  DomctlCmd,
  DomId,
  GNTCOPY_SOURCE_GREF,
  GNTTAB_COPY,
  GNTTAB_TRANSFER,
  GrantStatus,
  GrantTableOp,
} from "@hvkit/core";
import { agentTest } from "../agent-test.js";
import { domctl } from "../domctl/calls.js";
import { createPeer, grantOp } from "./peer.js";

/** evtchn/interdomain-frames. */
export const evtchnInterdomainFrames = agentTest({
  area: "evtchn",
  name: "interdomain-frames",
  description:
    "dom0 is refused a grant copy from, and a page transfer to, a domain it creates that grants it nothing",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["frames", "frame-mapping"] },
  run(agent, check) {
    const created = createPeer(agent);
    check.equal("createdomain rc", created.rc, 0);
    const d = created.domid;

    const page = agent.alloc(agent.pageSize, agent.pageSize);
    const copy = grantOp(agent, GrantTableOp.copy, GNTTAB_COPY, {
      "source.u.ref": 5,
      "source.domid": d,
      "dest.u.gmfn": agent.frameOf(page),
      "dest.domid": DomId.SELF,
      len: 8,
      flags: GNTCOPY_SOURCE_GREF,
    });
    check.equal("gnttab copy rc", copy.rc, 0);
    check.equal(
      "gnttab copy from D's entry not granted to dom0 GNTST_general_error",
      copy.out.getNumber("status"),
      GrantStatus.general_error,
    );

    // Transfer to D: D has headroom but no accept-transfer entry for dom0 in its table.
    const maxMem = domctl(agent, DomctlCmd.max_mem, d, { "u.max_mem.max_memkb": 1024 });
    check.equal("domctl max_mem(D, 1024 KiB) rc", maxMem.rc, 0);
    const window = agent.boot.window;
    const frame = agent.frameOf(window);
    check.equal("unmap the page to give away", agent.mapFrame(window, null, false), 0);
    const transfer = grantOp(agent, GrantTableOp.transfer, GNTTAB_TRANSFER, {
      mfn: frame,
      domid: d,
      ref: 3,
    });
    check.equal("gnttab transfer rc", transfer.rc, 0);
    check.equal(
      "gnttab transfer to D without an accept-transfer entry GNTST_general_error",
      transfer.out.getNumber("status"),
      GrantStatus.general_error,
    );
    check.equal("destroydomain(D) rc", domctl(agent, DomctlCmd.destroydomain, d).rc, 0);
  },
});
