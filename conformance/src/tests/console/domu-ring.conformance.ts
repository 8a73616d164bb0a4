/**
 * A domU's PV console under the built-in dom0 (io/console.h `xencons_interface`; the
 * toolstack's console nodes, xl/libxl): a domU gets neither SIF_PRIVILEGED nor
 * SIF_INITDOMAIN, distinct console and store event channels, and a console ring whose out
 * side the console daemon drains to the console when the guest notifies it, byte for
 * byte; what was typed at the console waits in the in ring; `console/port` in the
 * domain's xenstore home names the same event channel the boot information gives.
 */
import { skip } from "../../conformance-test.js";
import { AgentConsole, mapBootFrame, storeClient } from "../../agent-rings.js";
import { agentTest } from "../agent-test.js";

const TYPED = "hello hvkit\n";
const LINES = [
  "console-ring: a domU writing to its PV console ring\n",
  "a second line, 0123456789\n",
];

/** console/domu-ring. */
export const consoleDomuRing = agentTest({
  area: "console",
  name: "domu-ring",
  description:
    "a domU's console ring (out and in) served by the console daemon, its port as xenstore names it, under the built-in dom0",
  requires: { roles: ["domU"], features: ["frames"] },
  boot: { consoleInput: new TextEncoder().encode(TYPED) },
  run(agent, check) {
    const info = agent.bootInfo();
    check.equal("boot info: not privileged", info.privileged, false);
    check.equal("boot info: not the initial domain", info.initialDomain, false);
    if (info.consoleFrame === null || info.consoleEvtchn === null || info.storeFrame === null) {
      return skip("the domain has no console or store ring");
    }
    check.that(
      "console and store event channels are distinct ports",
      info.consoleEvtchn !== info.storeEvtchn,
      info.consoleEvtchn,
    );
    const console = new AgentConsole(
      agent,
      mapBootFrame(agent, info.consoleFrame, 1),
      info.consoleEvtchn,
    );
    for (const line of LINES) console.write(line);
    check.equal("the console shows what the guest wrote", agent.result().console, LINES.join(""));
    check.equal("the in ring holds what was typed", console.read(), TYPED);
    check.equal("the in ring is then empty", console.read(), "");
    const xs = storeClient(agent, info.storeFrame, info.storeEvtchn!, 0);
    check.equal(
      "xenstore console/port is the console event channel",
      xs.read("console/port"),
      String(info.consoleEvtchn),
    );
    check.equal("xenstore name", xs.read("name"), `domU-${agent.session.domain.id}`);
  },
});
