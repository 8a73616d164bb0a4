/**
 * domctl and sysctl from a real control domain acting as a toolstack (Xen 4.19
 * xen/common/domctl.c, sysctl.c; public/domctl.h interface 0x17, sysctl.h 0x15): its own
 * getdomaininfo (flags, pages, the shared_info frame against what its boot information
 * and its own frame numbers say), the DOMID_SELF, interface-version, bad-pointer and
 * unknown-command errors, sysctl physinfo and getdomaininfolist, and a domain's life:
 * createdomain with its id written back, −EEXIST, −EINVAL for no vCPUs, max_vcpus,
 * max_mem, pause/unpause counting (a new domain starts paused once), getmemlist,
 * the log-dirty stub, destroydomain freeing its pages and its id.
 */
import {
  DomctlCmd,
  DomainInfoFlag,
  DomId,
  Errno,
  Hypercall,
  ShadowOp,
  SysctlCmd,
  XEN_DOMCTL_GETDOMAININFO,
  xenDomctlGrantVersion,
} from "@hvkit/core";
import type { StructValues } from "../../agent.js";
import { agentTest } from "../agent-test.js";
import { domctl, sysctl } from "./calls.js";

/** domctl/toolstack. */
export const domctlToolstack = agentTest({
  area: "domctl",
  name: "toolstack",
  description:
    "dom0 calls getdomaininfo on itself, sysctl physinfo and getdomaininfolist, and creates, inspects, pauses and destroys a domain",
  requires: { roles: ["dom0"] },
  run(agent, check) {
    const info = agent.bootInfo();
    const self = domctl(agent, DomctlCmd.getdomaininfo, 0);
    const gi = "u.getdomaininfo";
    check.equal("getdomaininfo(0)", self.rc, 0);
    check.equal("dom0: domain", self.out.getNumber(`${gi}.domain`), 0);
    const flags = self.out.getNumber(`${gi}.flags`);
    check.that("dom0: XEN_DOMINF_running", (flags & DomainInfoFlag.running) !== 0, flags);
    check.that("dom0: not XEN_DOMINF_shutdown", (flags & DomainInfoFlag.shutdown) === 0, flags);
    check.equal(
      "dom0: tot_pages is the boot information's page count",
      self.out.getNumber(`${gi}.tot_pages`),
      info.nrPages,
    );
    check.that(
      "dom0: max_pages ≥ tot_pages",
      self.out.getBigInt(`${gi}.max_pages`) >= self.out.getBigInt(`${gi}.tot_pages`),
    );
    check.equal("dom0: nr_online_vcpus", self.out.getNumber(`${gi}.nr_online_vcpus`), 1);
    check.equal("dom0: max_vcpu_id", self.out.getNumber(`${gi}.max_vcpu_id`), 0);
    check.that("dom0: cpu_time > 0", self.out.getBigInt(`${gi}.cpu_time`) > 0n);
    check.equal(
      "dom0: shared_info_frame is the boot information's",
      self.out.getBigInt(`${gi}.shared_info_frame`),
      info.sharedInfoFrame,
    );
    check.equal(
      "getdomaininfo(DOMID_SELF)",
      domctl(agent, DomctlCmd.getdomaininfo, DomId.SELF).rc,
      -Errno.ESRCH,
    );
    check.equal(
      "getdomaininfo with interface version 0x16",
      domctl(agent, DomctlCmd.getdomaininfo, 0, {}, 0x16).rc,
      -Errno.EACCES,
    );
    check.equal(
      "domctl with an unmapped pointer",
      agent.hypercall(Hypercall.domctl, agent.handle(agent.spec.unmappedAddress(agent))),
      -Errno.EFAULT,
    );
    check.equal("pausedomain(self)", domctl(agent, DomctlCmd.pausedomain, 0).rc, -Errno.EINVAL);
    check.equal("unknown domctl 99", domctl(agent, 99, 0).rc, -Errno.ENOSYS);

    const phys = sysctl(agent, SysctlCmd.physinfo);
    const pi = "u.physinfo";
    check.equal("physinfo", phys.rc, 0);
    check.equal("physinfo: nr_cpus", phys.out.getNumber(`${pi}.nr_cpus`), 1);
    const total = phys.out.getBigInt(`${pi}.total_pages`);
    check.equal(
      "physinfo: total_pages is the machine's memory",
      total,
      BigInt(agent.session.machine.config.memoryMiB * 1024 * 1024) / BigInt(agent.pageSize),
    );
    check.equal("physinfo: max_mfn", phys.out.getBigInt(`${pi}.max_mfn`), total - 1n);
    const freeBefore = phys.out.getBigInt(`${pi}.free_pages`);
    check.that("physinfo: free_pages < total_pages", freeBefore < total, freeBefore);
    check.equal(
      "physinfo with interface version 0x14",
      sysctl(agent, SysctlCmd.physinfo, {}, 0x14).rc,
      -Errno.EACCES,
    );

    const cd = "u.createdomain";
    const handle: StructValues = Object.fromEntries(
      Array.from({ length: 16 }, (_, i) => [`${cd}.handle.${i}`, 0x10 + i]),
    );
    const created = domctl(agent, DomctlCmd.createdomain, 0, {
      [`${cd}.max_vcpus`]: 2,
      [`${cd}.max_grant_frames`]: -1,
      [`${cd}.max_maptrack_frames`]: -1,
      [`${cd}.grant_opts`]: xenDomctlGrantVersion(2),
      ...handle,
    });
    check.equal("createdomain", created.rc, 0);
    const dom = created.out.getNumber("domain");
    check.that("createdomain writes back a new domain id", dom > 0 && dom < DomId.SELF, dom);
    check.equal(
      "createdomain again with that id",
      domctl(agent, DomctlCmd.createdomain, dom, { [`${cd}.max_vcpus`]: 1 }).rc,
      -Errno.EEXIST,
    );
    check.equal(
      "createdomain with max_vcpus 0",
      domctl(agent, DomctlCmd.createdomain, 0).rc,
      -Errno.EINVAL,
    );
    check.equal(
      "max_vcpus 2",
      domctl(agent, DomctlCmd.max_vcpus, dom, { "u.max_vcpus.max": 2 }).rc,
      0,
    );
    check.equal(
      "max_mem 1024 KiB",
      domctl(agent, DomctlCmd.max_mem, dom, { "u.max_mem.max_memkb": 1024 }).rc,
      0,
    );
    const fresh = domctl(agent, DomctlCmd.getdomaininfo, dom);
    check.equal("getdomaininfo(new)", fresh.rc, 0);
    const nflags = fresh.out.getNumber(`${gi}.flags`);
    check.that("new: paused (XEN_DOMINF_paused)", (nflags & DomainInfoFlag.paused) !== 0, nflags);
    check.equal("new: tot_pages", fresh.out.getNumber(`${gi}.tot_pages`), 0);
    check.equal(
      "new: max_pages = 1024 KiB in pages",
      fresh.out.getNumber(`${gi}.max_pages`),
      (1024 * 1024) / agent.pageSize,
    );
    check.equal("new: nr_online_vcpus", fresh.out.getNumber(`${gi}.nr_online_vcpus`), 0);
    check.equal("new: max_vcpu_id", fresh.out.getNumber(`${gi}.max_vcpu_id`), 1);
    check.equal("new: handle[0]", fresh.out.getNumber(`${gi}.handle.0`), 0x10);
    check.equal("new: handle[15]", fresh.out.getNumber(`${gi}.handle.15`), 0x1f);
    check.equal("pausedomain(new)", domctl(agent, DomctlCmd.pausedomain, dom).rc, 0);
    check.equal("unpausedomain(new)", domctl(agent, DomctlCmd.unpausedomain, dom).rc, 0);
    check.equal(
      "unpausedomain(new), the creation pause",
      domctl(agent, DomctlCmd.unpausedomain, dom).rc,
      0,
    );
    check.equal(
      "unpausedomain(new) with no pause left",
      domctl(agent, DomctlCmd.unpausedomain, dom).rc,
      -Errno.EINVAL,
    );
    const unpaused = domctl(agent, DomctlCmd.getdomaininfo, dom).out.getNumber(`${gi}.flags`);
    check.that("new: no longer paused", (unpaused & DomainInfoFlag.paused) === 0, unpaused);
    const size = domctl(agent, DomctlCmd.get_address_size, dom);
    check.equal("get_address_size", size.rc, 0);
    check.equal(
      "get_address_size: the arch's word size",
      size.out.getNumber("u.address_size.size"),
      agent.arch.wordBits,
    );
    const list = agent.alloc(8 * 8);
    const mem = domctl(agent, DomctlCmd.getmemlist, dom, {
      "u.getmemlist.max_pfns": 8,
      "u.getmemlist.buffer": agent.handle(list),
    });
    check.equal("getmemlist", mem.rc, 0);
    check.equal(
      "getmemlist of an empty domain: 0 frames",
      mem.out.getNumber("u.getmemlist.num_pfns"),
      0,
    );
    check.equal(
      "shadow_op enable log-dirty",
      domctl(agent, DomctlCmd.shadow_op, dom, { "u.shadow_op.op": ShadowOp.ENABLE_LOGDIRTY }).rc,
      -Errno.EOPNOTSUPP,
    );
    const entry = XEN_DOMCTL_GETDOMAININFO.layout(agent.arch.dataModel).size;
    const buf = agent.alloc(entry * 4);
    const dl = sysctl(agent, SysctlCmd.getdomaininfolist, {
      "u.getdomaininfolist.max_domains": 4,
      "u.getdomaininfolist.buffer": agent.handle(buf),
    });
    check.equal("getdomaininfolist", dl.rc, 0);
    check.equal(
      "getdomaininfolist: 2 domains",
      dl.out.getNumber("u.getdomaininfolist.num_domains"),
      2,
    );
    check.equal(
      "getdomaininfolist: the second is the new one",
      agent.readStruct(XEN_DOMCTL_GETDOMAININFO, buf + BigInt(entry)).getNumber("domain"),
      dom,
    );
    check.equal("destroydomain(new)", domctl(agent, DomctlCmd.destroydomain, dom).rc, 0);
    check.equal(
      "getdomaininfo(new) after destroy",
      domctl(agent, DomctlCmd.getdomaininfo, dom).rc,
      -Errno.ESRCH,
    );
    check.equal("destroydomain(self)", domctl(agent, DomctlCmd.destroydomain, 0).rc, -Errno.EINVAL);
    check.equal(
      "free_pages unchanged after create and destroy",
      sysctl(agent, SysctlCmd.physinfo).out.getBigInt(`${pi}.free_pages`),
      freeBefore,
    );
  },
});
