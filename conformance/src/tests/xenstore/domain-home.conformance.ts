/**
 * What xl's toolstack (libxl__build_pre, libxl__build_post) leaves a domU built from a
 * config with `memory`, `maxmem`, `maxvcpus` and `vcpus`, as the guest sees it: the domain
 * has `memory` (start_info nr_pages, current_reservation), Xen lets it grow by libxl's
 * LIBXL_MAXMEM_CONSTANT of 1 MiB (`xc_domain_setmaxmem(target_memkb + 1024)`:
 * maximum_reservation), and its xenstore home holds its name, `memory/target` (`memory`),
 * `memory/static-max` (`maxmem`) and `cpu/<n>/availability`, `online` for the first
 * `vcpus` and `offline` for the rest.
 */
import { MemoryOp } from "@hvkit/core";
import { XenbusClient, XenbusError } from "@hvkit/guests";
import { skip } from "../../conformance-test.js";
import { AgentStoreTransport, mapBootFrame } from "../../agent-rings.js";
import { XenMem } from "../memory/xenmem.js";
import { agentTest } from "../agent-test.js";

const MEMORY_MIB = 40;
const MAXMEM_MIB = 72;

/** xenstore/domain-home. */
export const xenstoreDomainHome = agentTest({
  area: "xenstore",
  name: "domain-home",
  description:
    "a domU built from an xl config has its memory (and libxl's 1 MiB of room above it), and finds its name, memory target, static-max and vCPU availability in its xenstore home",
  requires: { roles: ["domU"], features: ["frames"] },
  boot: {
    name: "xl-home",
    domainMemoryMiB: MEMORY_MIB,
    domainMaxMemoryMiB: MAXMEM_MIB,
    vcpus: 2,
    onlineVcpus: 1,
  },
  run(agent, check) {
    const info = agent.bootInfo();
    if (info.storeFrame === null || info.storeEvtchn === null) {
      return skip("the domain has no store ring");
    }
    const pages = (MEMORY_MIB * 1024 * 1024) / agent.pageSize;
    check.equal("start_info nr_pages is memory", info.nrPages, pages);
    const mem = new XenMem(agent);
    check.equal("current_reservation", mem.query(MemoryOp.current_reservation), pages);
    check.equal(
      "maximum_reservation is memory + LIBXL_MAXMEM_CONSTANT",
      mem.query(MemoryOp.maximum_reservation),
      pages + (1024 * 1024) / agent.pageSize,
    );
    const page = mapBootFrame(agent, info.storeFrame, 0);
    const xs = new XenbusClient(new AgentStoreTransport(agent, page, info.storeEvtchn));
    const read = (path: string): string => {
      try {
        return xs.read(path);
      } catch (e) {
        return e instanceof XenbusError ? e.code : String(e);
      }
    };
    check.equal("name", read("name"), "xl-home");
    check.equal("memory/target (KiB)", read("memory/target"), String(MEMORY_MIB * 1024));
    check.equal("memory/static-max (KiB)", read("memory/static-max"), String(MAXMEM_MIB * 1024));
    check.equal("cpu/0/availability", read("cpu/0/availability"), "online");
    check.equal("cpu/1/availability", read("cpu/1/availability"), "offline");
    check.equal("no cpu/2", read("cpu/2/availability"), "ENOENT");
  },
});
