/**
 * A guest reporting its own crash (SCHEDOP_shutdown with SHUTDOWN_crash) is crashed, and
 * the hypervisor says so on its console, naming the domain (Xen's domain_shutdown prints
 * "Domain N crashed" / hvkit "domain N crashed").
 */
import { ShutdownReason } from "@hvkit/core";
import { agentTest } from "../agent-test.js";

/** boot/exit-crash. */
export const exitCrash = agentTest({
  area: "boot",
  name: "exit-crash",
  description:
    "SCHEDOP_shutdown(SHUTDOWN_crash) shuts the domain down with reason crash and logs it",
  requires: { modes: ["pv"] },
  run(agent, check) {
    const id = agent.session.domain.id;
    const run = agent.shutdown(ShutdownReason.Crash);
    check.shutdown(run, "Crash");
    check.that(
      `a hypervisor message says domain ${id} crashed`,
      run.hypervisorMessages.some((l) => l.includes(`domain ${id} crashed`)),
      run.hypervisorMessages.join(" | "),
    );
  },
});
