/**
 * The PV control protocol a domU's kernel follows for `xl shutdown` and `xl reboot`
 * (libxl__domain_pvcontrol, Xen 4.19 tools/libs/light/libxl_domain.c; Linux's and
 * Mini-OS's shutdown watchers): the toolstack creates `control/shutdown` empty and
 * writable by the domain; a request writes `poweroff` or `reboot` there, which fires the
 * guest's watch on it; the guest acknowledges by writing it back empty (what xl waits
 * for) and shuts itself down with that reason.
 */
import { ShutdownReason } from "@hvkit/core";
import { skip } from "../../conformance-test.js";
import { storeClient } from "../../agent-rings.js";
import { agentTest } from "../agent-test.js";

/** xenstore/control-shutdown. */
export const xenstoreControlShutdown = agentTest({
  area: "xenstore",
  name: "control-shutdown",
  description:
    "xl shutdown / reboot reach a domU through its watch on control/shutdown; it acknowledges by emptying the node and powers off",
  requires: { roles: ["domU"], features: ["frames"] },
  run(agent, check) {
    const info = agent.bootInfo();
    const dom0 = agent.session.dom0;
    if (info.storeFrame === null || info.storeEvtchn === null || dom0 === null) {
      return skip("the domain has no store ring");
    }
    const xs = storeClient(agent, info.storeFrame, info.storeEvtchn, 0);
    const id = agent.session.domain.id;
    const events = () => JSON.stringify(xs.poll());
    const fired = JSON.stringify([{ path: "control/shutdown", token: "ctl" }]);

    check.equal("control/shutdown starts empty", xs.read("control/shutdown"), "");
    xs.watch("control/shutdown", "ctl");
    check.equal("the watch's initial event", events(), fired);
    check.equal("no request: nothing to acknowledge", dom0.controlAcknowledged(id), true);

    dom0.requestShutdown(id, "reboot");
    check.equal("xl reboot fires the watch", events(), fired);
    check.equal("xl reboot's request", xs.read("control/shutdown"), "reboot");
    check.equal("not acknowledged yet", dom0.controlAcknowledged(id), false);
    xs.write("control/shutdown", "");
    check.equal("the guest's own write fires its watch", events(), fired);
    check.equal("emptying the node acknowledges", dom0.controlAcknowledged(id), true);

    dom0.requestShutdown(id, "poweroff");
    check.equal("xl shutdown fires the watch", events(), fired);
    check.equal("xl shutdown's request", xs.read("control/shutdown"), "poweroff");
    xs.write("control/shutdown", "");
    check.equal("acknowledged", dom0.controlAcknowledged(id), true);
    check.shutdown(agent.shutdown(ShutdownReason.Poweroff), "Poweroff", "after xl shutdown: ");
  },
});
