/**
 * What xl's toolstack (libxl__build_pre, libxl__build_post) leaves a domU built from a
 * config with `memory`, `maxmem`, `maxvcpus`, `vcpus` and `max_event_channels`, as the
 * guest sees it: the domain has `memory` (start_info nr_pages, current_reservation), Xen
 * lets it grow by libxl's LIBXL_MAXMEM_CONSTANT of 1 MiB
 * (`xc_domain_setmaxmem(target_memkb + 1024)`: maximum_reservation), its ports stop at
 * `max_event_channels` (libxl passes it to XEN_DOMCTL_createdomain as `max_evtchn_port`;
 * Xen's get_free_port fails with -ENOSPC above it), and its xenstore home holds its name,
 * `memory/target` (`memory`), `memory/static-max` (`maxmem`) and `cpu/<n>/availability`,
 * `online` for the first `vcpus` and `offline` for the rest.
 */
import { DomId, Errno, MemoryOp } from "@hvkit/core";
import { XenbusClient, XenbusError } from "@hvkit/guests";
import { skip } from "../../conformance-test.js";
import { AgentStoreTransport, mapBootFrame } from "../../agent-rings.js";
import { XenMem } from "../memory/xenmem.js";
import { agentTest } from "../agent-test.js";
import { EventChannels } from "../../event-channels.js";

const MEMORY_MIB = 40;
const MAXMEM_MIB = 72;
const MAX_EVENT_CHANNELS = 9;

/** xenstore/domain-home. */
export const xenstoreDomainHome = agentTest({
  area: "xenstore",
  name: "domain-home",
  description:
    "a domU built from an xl config has its memory (and libxl's 1 MiB of room above it) and its event channels, and finds its name, memory target, static-max and vCPU availability in its xenstore home",
  requires: { roles: ["domU"], features: ["frames"] },
  boot: {
    name: "xl-home",
    domainMemoryMiB: MEMORY_MIB,
    domainMaxMemoryMiB: MAXMEM_MIB,
    vcpus: 2,
    onlineVcpus: 1,
    maxEventChannels: MAX_EVENT_CHANNELS,
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
    // Ports up to max_event_channels, then -ENOSPC (the store and console ports and any
    // the agent holds are below it).
    const ev = new EventChannels(agent);
    const ports: number[] = [];
    let last = ev.allocUnbound(DomId.SELF, 0);
    while (last.rc === 0n && ports.length <= MAX_EVENT_CHANNELS) {
      ports.push(last.port);
      last = ev.allocUnbound(DomId.SELF, 0);
    }
    check.equal("alloc_unbound past max_event_channels: ENOSPC", last.rc, -Errno.ENOSPC);
    check.equal(
      "the last port allocated is max_event_channels",
      ports.at(-1) ?? -1,
      MAX_EVENT_CHANNELS,
    );
    for (const port of ports) ev.close(port);

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
