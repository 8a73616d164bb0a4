/**
 * XENMEM_maximum_gpfn where a PV guest keeps its own p2m (feature `shared-info-max-pfn`):
 * Xen answers with what the guest publishes in shared_info, not with what it has
 * allocated.
 *
 * - xen/common/memory.c do_memory_op: XENMEM_maximum_gpfn reads a `domid_t`, finds the
 *   domain (DOMID_SELF or an id), checks XSM_TARGET, then returns
 *   `domain_get_maximum_gpfn(d)`.
 * - xen/arch/x86/mm.c domain_get_maximum_gpfn for a PV domain:
 *   `(arch_get_max_pfn(d) ?: 1) - 1` — shared_info's `arch.max_pfn` (the number of p2m
 *   entries the guest has, "nr_pfns rather than max_pfn"), less one, and 0 while it is 0.
 * - The domain builders leave `arch.max_pfn` 0 (libxc clears shared_info; Xen's dom0
 *   builder does not write it), as does a domain the toolstack has just created (its
 *   shared_info is a cleared page), so a guest that has not published its p2m size gets 0.
 *
 * The guest writes `arch.max_pfn` in its own shared_info (laid out by the arch's data
 * model) and reads the answer back, then puts the 0 back.
 */
import { DomctlCmd, MemoryOp, SHARED_INFO, xenDomctlGrantVersion } from "@hvkit/core";
import { agentTest } from "../agent-test.js";
import { domctl } from "../domctl/calls.js";
import { XenMem } from "./xenmem.js";

/** memory/maximum-gpfn. */
export const memoryMaximumGpfn = agentTest({
  area: "memory",
  name: "maximum-gpfn",
  description:
    "XENMEM_maximum_gpfn is shared_info's arch.max_pfn less one, 0 while the guest has not set it",
  requires: { modes: ["pv"], features: ["shared-info-max-pfn"] },
  run(agent, check) {
    const mem = new XenMem(agent);
    const layout = SHARED_INFO.layout(agent.model);
    const at = agent.boot.sharedInfo + BigInt(layout.offsetOf("arch.max_pfn"));
    const width = layout.sizeOf("arch.max_pfn") as 4 | 8;
    const gpfn = (): bigint => mem.query(MemoryOp.maximum_gpfn);
    const nrPages = BigInt(agent.bootInfo().nrPages);

    check.equal("arch.max_pfn as the domain builder left it", agent.readUint(at, width), 0);
    check.equal("maximum_gpfn with max_pfn 0", gpfn(), 0);
    agent.writeUint(at, width, nrPages);
    check.equal("maximum_gpfn with max_pfn = nr_pages: nr_pages - 1", gpfn(), nrPages - 1n);
    agent.writeUint(at, width, 1);
    check.equal("maximum_gpfn with max_pfn 1", gpfn(), 0);
    agent.writeUint(at, width, 0x12345);
    check.equal("maximum_gpfn with max_pfn 0x12345", gpfn(), 0x12344);
    agent.writeUint(at, width, 0);
    check.equal("maximum_gpfn with max_pfn 0 again", gpfn(), 0);

    if (!agent.bootInfo().privileged) return;
    // A domain the toolstack has just created: its shared_info is a cleared page.
    const created = domctl(agent, DomctlCmd.createdomain, 0, {
      "u.createdomain.max_vcpus": 1,
      "u.createdomain.max_grant_frames": -1,
      "u.createdomain.max_maptrack_frames": -1,
      "u.createdomain.grant_opts": xenDomctlGrantVersion(2),
    });
    check.equal("createdomain", created.rc, 0);
    const dom = created.out.getNumber("domain");
    check.equal("maximum_gpfn of a domain just created", mem.query(MemoryOp.maximum_gpfn, dom), 0);
    check.equal("destroydomain", domctl(agent, DomctlCmd.destroydomain, dom).rc, 0);
  },
});
