/**
 * The first thing a kernel does: print through console_io and power off. A control domain's
 * CONSOLEIO_write reaches the hypervisor console and returns 0; an unprivileged domU's is
 * refused with −EPERM (Xen's dummy XSM policy, xsm/dummy.h `xsm_console_io`: only a
 * privileged domain, unless Xen was built with CONFIG_VERBOSE_DEBUG) and prints nothing.
 * SCHEDOP_shutdown(SHUTDOWN_poweroff) then ends the domain with reason poweroff.
 */
import { ConsoleIoCmd, Errno, Hypercall, ShutdownReason } from "@hvkit/core";
import { agentTest } from "../agent-test.js";

const TEXT = "Hello from the hvkit guest agent\n";

/** boot/hello. */
export const hello = agentTest({
  area: "boot",
  name: "hello",
  description:
    "console_io writes reach the console from the control domain (-EPERM from a domU) and SHUTDOWN_poweroff ends the domain",
  requires: { modes: ["pv"] },
  run(agent, check, ctx) {
    const bytes = new TextEncoder().encode(TEXT);
    const buf = agent.place(bytes);
    const rc = agent.hypercall(
      Hypercall.console_io,
      ConsoleIoCmd.write,
      bytes.length,
      agent.handle(buf),
    );
    const privileged = ctx.cell.role === "dom0";
    check.equal("CONSOLEIO_write returns", rc, privileged ? 0 : -Errno.EPERM);
    const run = agent.shutdown(ShutdownReason.Poweroff);
    check.equal("the console shows", run.console, privileged ? TEXT : "");
    check.shutdown(run, "Poweroff");
  },
});
