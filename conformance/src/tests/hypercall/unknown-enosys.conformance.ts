/**
 * A hypercall number no handler serves returns −ENOSYS (38) to the guest and the guest
 * carries on (an empty slot of Xen's hypercall table, or a number ≥ NR_hypercalls, is
 * −ENOSYS, never a fault): the unassigned numbers 43–47 and 56–62, numbers past the table,
 * all ones — through the arch's normal path and its bare hypercall instruction.
 */
import { Errno, Hypercall, XenVersionOp } from "@hvkit/core";
import { agentTest } from "../agent-test.js";

const UNASSIGNED = [43, 44, 45, 46, 47, 56, 57, 58, 59, 60, 61, 62];
const OUT_OF_RANGE = [64, 65, 255, 4096];

/** hypercall/unknown-enosys. */
export const unknownEnosys = agentTest({
  area: "hypercall",
  name: "unknown-enosys",
  description:
    "unassigned and out-of-range hypercall numbers return -ENOSYS and the guest carries on",
  run(agent, check) {
    for (const nr of [...UNASSIGNED, ...OUT_OF_RANGE]) {
      check.equal(`hypercall ${nr}`, agent.hypercall(nr, 1, 2, 3), -Errno.ENOSYS);
      check.equal(`hypercall ${nr}, bare instruction`, agent.hypercallDirect(nr), -Errno.ENOSYS);
    }
    check.equal("hypercall all ones", agent.hypercallDirect(-1), -Errno.ENOSYS);
    check.that(
      "xen_version still answers afterwards",
      agent.hypercall(Hypercall.xen_version, XenVersionOp.version, 0) > 0n,
    );
  },
});
