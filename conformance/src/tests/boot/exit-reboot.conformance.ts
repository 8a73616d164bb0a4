/** SCHEDOP_shutdown with SHUTDOWN_reboot ends the domain with that reason (sched.h). */
import { ShutdownReason } from "@hvkit/core";
import { agentTest } from "../agent-test.js";

/** boot/exit-reboot. */
export const exitReboot = agentTest({
  area: "boot",
  name: "exit-reboot",
  description: "SCHEDOP_shutdown(SHUTDOWN_reboot) shuts the domain down with reason reboot",
  requires: { modes: ["pv"] },
  run(agent, check) {
    const run = agent.shutdown(ShutdownReason.Reboot);
    check.shutdown(run, "Reboot");
    check.equal("no hypervisor message", run.hypervisorMessages.join("\n"), "");
  },
});
