/**
 * A guest's own trap handlers, registered the arch's way (x86 PV: set_trap_table and Xen's
 * bounce frame; PowerPC: its vectors; IA-64: its IVT), receive the faults its code takes,
 * with what the hardware reports: an illegal instruction; a load and a store at an address
 * nothing maps, as page faults with that address and the access direction (x86: cr2 copied
 * to vcpu_info.arch.cr2 and error-code bit 1; PowerPC: DAR/DSISR; IA-64: ifa/isr). After
 * each, the guest carries on: the next hypercall works.
 */
import { Hypercall, XenVersionOp } from "@hvkit/core";
import { agentTest } from "../agent-test.js";

/** traps/handlers. */
export const trapHandlers = agentTest({
  area: "traps",
  name: "handlers",
  description:
    "the guest's handlers receive an illegal instruction and page faults on load and store with the faulting address, and the guest carries on",
  requires: { modes: ["pv"] },
  run(agent, check) {
    const ill = agent.illegal();
    check.equal("an illegal instruction traps as", ill?.kind ?? "no trap", "illegal-instruction");
    const bad = agent.spec.unmappedAddress(agent);
    const load = agent.tryRead(bad, 8);
    const loadTrap = load instanceof Uint8Array ? null : load;
    check.equal(
      "a load from an unmapped address traps as",
      loadTrap?.kind ?? "no trap",
      "page-fault",
    );
    check.equal("the page fault's address", loadTrap?.address ?? null, bad);
    check.equal("the load's page fault is a read", loadTrap?.write ?? null, false);
    const store = agent.tryWrite(bad + 16n, new Uint8Array(8));
    check.equal("a store to an unmapped address traps as", store?.kind ?? "no trap", "page-fault");
    check.equal("the store's page fault address", store?.address ?? null, bad + 16n);
    check.equal("the store's page fault is a write", store?.write ?? null, true);
    check.that(
      "the guest carries on: xen_version answers",
      agent.hypercall(Hypercall.xen_version, XenVersionOp.version, 0) > 0n,
    );
    check.that(
      "scratch memory still reads back what was written",
      (() => {
        const va = agent.place(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
        return agent.read(va, 8).join(",") === "1,2,3,4,5,6,7,8";
      })(),
    );
  },
});
