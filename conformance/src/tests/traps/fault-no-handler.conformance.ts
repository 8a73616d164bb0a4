/**
 * A fault with no handler registered crashes only the domain, never the hypervisor (x86 PV:
 * pv_inject_event finds no trap_info entry, "Unhandled ..." and domain_crash; PowerPC: an
 * interrupt with MSR[RI] clear is unrecoverable; IA-64: a reflection with virtual psr.ic
 * clear panics the domain), and the hypervisor says which domain crashed.
 */
import { AgentOp } from "@hvkit/core";
import { agentTest } from "../agent-test.js";

/** traps/fault-no-handler. */
export const faultNoHandler = agentTest({
  area: "traps",
  name: "fault-no-handler",
  description:
    "an illegal instruction with no handler registered crashes the domain (not hvkit) and is reported",
  requires: { modes: ["pv"] },
  run(agent, check) {
    const id = agent.session.domain.id;
    agent.spec.disarmTraps(agent);
    agent.begin(0, AgentOp.Illegal, []);
    const run = agent.runToEnd();
    check.shutdown(run, "Crash");
    check.that(
      `a hypervisor message says domain ${id} crashed`,
      run.hypervisorMessages.some((l) => l.includes(`domain ${id} crashed`)),
      run.hypervisorMessages.join(" | "),
    );
  },
});
