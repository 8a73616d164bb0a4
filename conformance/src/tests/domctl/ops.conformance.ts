/**
 * Every domctl and sysctl command of a toolstack with its success and error paths, from a
 * real control domain (Xen 4.19: domctl interface 0x17, sysctl 0x15):
 *
 * - xen/common/domctl.c do_domctl: an unreadable request −EFAULT; an interface_version
 *   other than XEN_DOMCTL_INTERFACE_VERSION −EACCES; any command but createdomain on a
 *   domain rcu_lock_domain_by_id cannot find −ESRCH (before XSM; DOMID_SELF is no domain
 *   id there); an unknown command −ENOSYS (arch_do_domctl's default).
 * - createdomain: max_evtchn_port caps the ports get_free_port hands out in the new
 *   domain (evtchn_init; 0 leaves it none, port 0 being reserved), −ENOSPC above it.
 * - createdomain: a requested id in use −EEXIST; sanitise_domain_config: unknown
 *   XEN_DOMCTL_CDF_* flags, unknown grant_opts bits, max_vcpus 0 or above the limit, hap
 *   without hvm −EINVAL; an HVM domain where the host has no hardware-assisted mode
 *   −EINVAL (x86's arch_sanitise_domain_config without VMX/SVM); grant_table_init: a
 *   grant version (grant_opts) of 0 or above the hypervisor's 2, max_grant_frames 0
 *   −EINVAL. The new domain is paused once by the
 *   controller, has no vCPU online, max_vcpu_id = max_vcpus − 1, and its id is copied back.
 * - pausedomain: oneself −EINVAL; unpausedomain: domain_unpause_by_systemcontroller, −EINVAL
 *   when the controller's count is 0; XEN_DOMINF_paused while paused.
 * - max_mem: max_pages = max_memkb >> (PAGE_SHIFT − 10), capped at (unsigned int)−1.
 * - setvcpucontext: oneself or a vCPU id ≥ max_vcpus −EINVAL; a null ctxt is vcpu_reset
 *   (0; an initialised vCPU becomes down and uninitialised: getvcpucontext −ENODATA); else
 *   the context is copied in (−EFAULT) and arch_set_info_guest loads it, whose refusals
 *   are the arch's (`GuestAgent.refusedVcpuContexts`); on an initialised vCPU it is a
 *   reload, refused where the arch keeps state fixed (`ForeignVcpuContext.reloadRefused`,
 *   x86 PV: the page tables, GDT and LDT −EOPNOTSUPP); its end sets the vCPU up or down as
 *   the context's online flag says (getdomaininfo's nr_online_vcpus).
 *   getvcpucontext: an id ≥ max_vcpus −EINVAL, a vCPU never initialised −ENODATA, the
 *   copy to ctxt failing −EFAULT.
 * - setdebugging: oneself −EINVAL; XEN_DOMINF_debugged follows `enable`.
 * - set_address_size / get_address_size (xen/arch/x86/domctl.c): the arch's word size, a
 *   size neither 32 nor 64 −EINVAL.
 * - max_vcpus (removed in Xen 4.12; hvkit keeps it as a check that `max` is the number of
 *   vCPUs created, −EINVAL otherwise or on oneself) and getmemlist (removed in 4.11; its
 *   last form: up to max_pfns MFNs into buffer, num_pfns written back), as hvkit defines them.
 * - shadow_op (xen/arch/x86/mm/paging.c paging_domctl): oneself −EINVAL; hvkit's log-dirty
 *   stubs: OFF 0, GET_ALLOCATION 0 MiB, ENABLE_LOGDIRTY/CLEAN/PEEK −EOPNOTSUPP, an unknown
 *   op −EINVAL.
 * - destroydomain: domain_kill; afterwards the id is gone (−ESRCH).
 * - xen/common/sysctl.c do_sysctl: −EFAULT, −EACCES for another interface version, an
 *   unknown command −ENOSYS; getdomaininfolist: domains with id ≥ first_domain, at most
 *   max_domains, num_domains written back, a failing copy −EFAULT.
 * Layouts: public/domctl.h, public/sysctl.h, public/memory.h, the arch's vcpu_guest_context.
 */
import {
  CreateDomainFlag,
  DomainInfoFlag,
  DomctlCmd,
  DomId,
  Errno,
  Hypercall,
  MAX_VCPUS_PER_DOMAIN,
  MemoryOp,
  ShadowOp,
  SysctlCmd,
  XEN_DOMCTL_GETDOMAININFO,
  type StructRef,
  xenDomctlGrantVersion,
  XenFeature,
  XenVersionOp,
} from "@hvkit/core";
import { AgentError, type Agent, type StructValues } from "../../agent.js";
import { agentTest, hexBytes, type Checks } from "../agent-test.js";
import { FrameList, XenMem } from "../memory/xenmem.js";
import { domctl, sysctl } from "./calls.js";
import { EventChannels } from "../../event-channels.js";

/** A domain id no domain has. */
const NO_SUCH_DOMAIN = 0x7fe0;
/** The caller, the initial domain. */
const SELF = 0;
const GI = "u.getdomaininfo";
const CD = "u.createdomain";

/** The commands that name an existing domain (−ESRCH for one that does not exist). */
const TARGETED: readonly (readonly [number, string])[] = [
  [DomctlCmd.destroydomain, "destroydomain"],
  [DomctlCmd.pausedomain, "pausedomain"],
  [DomctlCmd.unpausedomain, "unpausedomain"],
  [DomctlCmd.getdomaininfo, "getdomaininfo"],
  [DomctlCmd.getmemlist, "getmemlist"],
  [DomctlCmd.shadow_op, "shadow_op"],
  [DomctlCmd.max_mem, "max_mem"],
  [DomctlCmd.setvcpucontext, "setvcpucontext"],
  [DomctlCmd.getvcpucontext, "getvcpucontext"],
  [DomctlCmd.max_vcpus, "max_vcpus"],
  [DomctlCmd.setdebugging, "setdebugging"],
  [DomctlCmd.set_address_size, "set_address_size"],
  [DomctlCmd.get_address_size, "get_address_size"],
  [99, "an unknown command"],
];

/** shadow_op sub-ops and hvkit's answers (its log-dirty stubs). */
const SHADOW_OPS: readonly (readonly [number, number, string])[] = [
  [ShadowOp.OFF, 0, "OFF"],
  [ShadowOp.GET_ALLOCATION, 0, "GET_ALLOCATION"],
  [ShadowOp.ENABLE_LOGDIRTY, -Errno.EOPNOTSUPP, "ENABLE_LOGDIRTY (stub)"],
  [ShadowOp.CLEAN, -Errno.EOPNOTSUPP, "CLEAN (stub)"],
  [ShadowOp.PEEK, -Errno.EOPNOTSUPP, "PEEK (stub)"],
  [99, -Errno.EINVAL, "an unknown op"],
];

/** The domain handle's 16 bytes, `first`, `first` + 1, ... */
function handleBytes(path: string, first: number): StructValues {
  return Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${path}.${i}`, first + i]));
}

function info(agent: Agent, dom: number): StructRef {
  return domctl(agent, DomctlCmd.getdomaininfo, dom).out;
}

function create(
  agent: Agent,
  dom: number,
  flags: number,
  maxVcpus: number,
  more: StructValues = {},
): ReturnType<typeof domctl> {
  return domctl(agent, DomctlCmd.createdomain, dom, {
    [`${CD}.flags`]: flags,
    [`${CD}.max_vcpus`]: maxVcpus,
    [`${CD}.max_grant_frames`]: -1,
    [`${CD}.max_maptrack_frames`]: -1,
    [`${CD}.grant_opts`]: xenDomctlGrantVersion(2),
    ...handleBytes(`${CD}.handle`, 0x40),
    ...more,
  });
}

function freePages(agent: Agent): bigint {
  return sysctl(agent, SysctlCmd.physinfo).out.getBigInt("u.physinfo.free_pages");
}

function genericErrors(agent: Agent, check: Checks): void {
  const unmapped = agent.handle(agent.spec.unmappedAddress(agent));
  check.equal(
    "domctl EFAULT bad pointer",
    agent.hypercall(Hypercall.domctl, unmapped),
    -Errno.EFAULT,
  );
  for (const version of [0x16, 0x18]) {
    check.equal(
      `domctl EACCES interface version 0x${version.toString(16)}`,
      domctl(agent, DomctlCmd.getdomaininfo, SELF, {}, version).rc,
      -Errno.EACCES,
    );
  }
  check.equal("domctl ENOSYS unknown command 99", domctl(agent, 99, SELF).rc, -Errno.ENOSYS);
  for (const [cmd, name] of TARGETED) {
    check.equal(
      `domctl ${name} ESRCH no such domain`,
      domctl(agent, cmd, NO_SUCH_DOMAIN).rc,
      -Errno.ESRCH,
    );
  }
  check.equal(
    "domctl DOMID_SELF is no domain id: ESRCH",
    domctl(agent, DomctlCmd.getdomaininfo, DomId.SELF).rc,
    -Errno.ESRCH,
  );
}

function creation(agent: Agent, check: Checks): number {
  check.equal("domctl createdomain EINVAL max_vcpus 0", create(agent, 0, 0, 0).rc, -Errno.EINVAL);
  check.equal(
    `domctl createdomain EINVAL max_vcpus ${MAX_VCPUS_PER_DOMAIN + 1}`,
    create(agent, 0, 0, MAX_VCPUS_PER_DOMAIN + 1).rc,
    -Errno.EINVAL,
  );
  check.equal(
    "domctl createdomain EINVAL unknown flag",
    create(agent, 0, 1 << 31, 1).rc,
    -Errno.EINVAL,
  );
  check.equal(
    "domctl createdomain EINVAL hap without hvm",
    create(agent, 0, CreateDomainFlag.hap, 1).rc,
    -Errno.EINVAL,
  );
  // grant_table_init: a grant version from 1 to 2, at least INITIAL_NR_GRANT_FRAMES (1).
  for (const [what, more] of [
    ["grant_opts 0 (no grant version)", { [`${CD}.grant_opts`]: 0 }],
    ["grant_opts 3 (above gnttab max-ver 2)", { [`${CD}.grant_opts`]: xenDomctlGrantVersion(3) }],
    ["grant_opts bit 4 (unknown option)", { [`${CD}.grant_opts`]: 0x12 }],
    ["max_grant_frames 0", { [`${CD}.max_grant_frames`]: 0 }],
  ] as const) {
    const r = create(agent, 0, 0, 1, more);
    check.equal(`domctl createdomain EINVAL ${what}`, r.rc, -Errno.EINVAL);
    if (r.rc === 0n) domctl(agent, DomctlCmd.destroydomain, r.out.getNumber("domain"));
  }
  const hvm = create(agent, 0, CreateDomainFlag.hvm | CreateDomainFlag.hap, 1);
  if (agent.arch.modes.some((m) => m !== "pv")) {
    check.equal("domctl createdomain hvm on a host with a hardware-assisted mode", hvm.rc, 0);
    domctl(agent, DomctlCmd.destroydomain, hvm.out.getNumber("domain"));
  } else {
    check.equal(
      "domctl createdomain EINVAL hvm without a hardware-assisted mode",
      hvm.rc,
      -Errno.EINVAL,
    );
  }
  const created = create(agent, 0, 0, 2);
  check.equal("domctl createdomain", created.rc, 0);
  const dom = created.out.getNumber("domain");
  check.that("domctl createdomain writes back a new id", dom > 0 && dom < DomId.SELF, dom);
  check.equal("domctl createdomain EEXIST id in use", create(agent, dom, 0, 1).rc, -Errno.EEXIST);
  const asked = create(agent, 42, 0, 1);
  check.equal("domctl createdomain with id 42", asked.rc, 0);
  check.equal("domctl createdomain with id 42 writes back 42", asked.out.getNumber("domain"), 42);

  const fresh = domctl(agent, DomctlCmd.getdomaininfo, dom);
  check.equal("domctl getdomaininfo new domain", fresh.out.getNumber("domain"), dom);
  const flags = fresh.out.getNumber(`${GI}.flags`);
  check.that(
    "domctl getdomaininfo new domain paused by the controller",
    (flags & DomainInfoFlag.paused) !== 0,
    flags,
  );
  check.equal(
    "domctl getdomaininfo new domain tot_pages 0",
    fresh.out.getBigInt(`${GI}.tot_pages`),
    0,
  );
  check.equal(
    "domctl getdomaininfo new domain no vCPU online",
    fresh.out.getNumber(`${GI}.nr_online_vcpus`),
    0,
  );
  check.equal(
    "domctl getdomaininfo new domain max_vcpu_id 1",
    fresh.out.getNumber(`${GI}.max_vcpu_id`),
    1,
  );
  check.that(
    "domctl getdomaininfo new domain handle",
    fresh.out.getNumber(`${GI}.handle.0`) === 0x40 &&
      fresh.out.getNumber(`${GI}.handle.15`) === 0x4f,
  );
  maxEvtchnPort(agent, check);
  check.equal("domctl destroydomain 42", domctl(agent, DomctlCmd.destroydomain, 42).rc, 0);
  check.equal(
    "domctl getdomaininfo 42 after destroy ESRCH",
    domctl(agent, DomctlCmd.getdomaininfo, 42).rc,
    -Errno.ESRCH,
  );
  check.equal(
    "domctl destroydomain 42 again ESRCH",
    domctl(agent, DomctlCmd.destroydomain, 42).rc,
    -Errno.ESRCH,
  );
  return dom;
}

/**
 * createdomain's max_evtchn_port (evtchn_init: d->max_evtchn_port, capped at INT_MAX) caps
 * the ports get_free_port hands out: above it −ENOSPC. Domain 42 was created with 0: port
 * 0 is reserved, so it has none to give.
 */
function maxEvtchnPort(agent: Agent, check: Checks): void {
  const ev = new EventChannels(agent);
  check.equal(
    "evtchn alloc_unbound in a domain with max_evtchn_port 0: ENOSPC",
    ev.allocUnbound(42, SELF).rc,
    -Errno.ENOSPC,
  );
  const capped = domctl(agent, DomctlCmd.createdomain, 0, {
    [`${CD}.max_vcpus`]: 1,
    [`${CD}.max_evtchn_port`]: 2,
    [`${CD}.max_grant_frames`]: -1,
    [`${CD}.max_maptrack_frames`]: -1,
    [`${CD}.grant_opts`]: xenDomctlGrantVersion(2),
  });
  check.equal("domctl createdomain with max_evtchn_port 2", capped.rc, 0);
  const dom = capped.out.getNumber("domain");
  const first = ev.allocUnbound(dom, SELF);
  const second = ev.allocUnbound(dom, SELF);
  check.equal(
    "evtchn alloc_unbound below max_evtchn_port 2: port 1",
    first.rc === 0n ? first.port : first.rc,
    1,
  );
  check.equal(
    "evtchn alloc_unbound at max_evtchn_port 2: port 2",
    second.rc === 0n ? second.port : second.rc,
    2,
  );
  check.equal(
    "evtchn alloc_unbound past max_evtchn_port 2: ENOSPC",
    ev.allocUnbound(dom, SELF).rc,
    -Errno.ENOSPC,
  );
  check.equal(
    "domctl destroydomain (max_evtchn_port 2)",
    domctl(agent, DomctlCmd.destroydomain, dom).rc,
    0,
  );
}

function pausing(agent: Agent, check: Checks, dom: number): void {
  const paused = (): number => info(agent, dom).getNumber(`${GI}.flags`) & DomainInfoFlag.paused;
  check.equal(
    "domctl pausedomain self EINVAL",
    domctl(agent, DomctlCmd.pausedomain, SELF).rc,
    -Errno.EINVAL,
  );
  check.equal("domctl pausedomain (count 2)", domctl(agent, DomctlCmd.pausedomain, dom).rc, 0);
  check.equal("domctl unpausedomain (count 1)", domctl(agent, DomctlCmd.unpausedomain, dom).rc, 0);
  check.equal("domctl still paused at count 1", paused(), DomainInfoFlag.paused);
  check.equal("domctl unpausedomain (count 0)", domctl(agent, DomctlCmd.unpausedomain, dom).rc, 0);
  check.equal("domctl unpaused at count 0", paused(), 0);
  check.equal(
    "domctl unpausedomain at count 0 EINVAL",
    domctl(agent, DomctlCmd.unpausedomain, dom).rc,
    -Errno.EINVAL,
  );
  check.equal("domctl pausedomain again", domctl(agent, DomctlCmd.pausedomain, dom).rc, 0);
  check.equal("domctl paused again", paused(), DomainInfoFlag.paused);
}

function limits(agent: Agent, check: Checks, dom: number): void {
  const maxMem = (kib: bigint): bigint =>
    domctl(agent, DomctlCmd.max_mem, dom, { "u.max_mem.max_memkb": kib }).rc;
  const maxPages = (): bigint => info(agent, dom).getBigInt(`${GI}.max_pages`);
  check.equal("domctl max_mem 8192 KiB", maxMem(8192n), 0);
  check.equal("domctl max_mem 8192 KiB in pages", maxPages(), (8192 * 1024) / agent.pageSize);
  check.equal("domctl max_mem ~0 KiB", maxMem((1n << 64n) - 1n), 0);
  check.equal("domctl max_mem capped at 2^32 - 1 pages", maxPages(), 0xffffffff);
  maxMem(64n);

  const maxVcpus = (d: number, n: number): bigint =>
    domctl(agent, DomctlCmd.max_vcpus, d, { "u.max_vcpus.max": n }).rc;
  check.equal("domctl max_vcpus 2 (as created)", maxVcpus(dom, 2), 0);
  check.equal("domctl max_vcpus 3 EINVAL", maxVcpus(dom, 3), -Errno.EINVAL);
  check.equal("domctl max_vcpus self EINVAL", maxVcpus(SELF, 1), -Errno.EINVAL);

  const words = agent.arch.wordBits;
  const size = domctl(agent, DomctlCmd.get_address_size, dom);
  check.equal("domctl get_address_size", size.rc, 0);
  check.equal(`domctl get_address_size ${words}`, size.out.getNumber("u.address_size.size"), words);
  const setSize = (bits: number): bigint =>
    domctl(agent, DomctlCmd.set_address_size, dom, { "u.address_size.size": bits }).rc;
  check.equal(`domctl set_address_size ${words}`, setSize(words), 0);
  check.equal("domctl set_address_size 48 EINVAL", setSize(48), -Errno.EINVAL);

  check.equal(
    "domctl setdomainhandle",
    domctl(agent, DomctlCmd.setdomainhandle, dom, handleBytes("u.setdomainhandle.handle", 0xa0)).rc,
    0,
  );
  const renamed = info(agent, dom);
  check.that(
    "domctl setdomainhandle seen by getdomaininfo",
    renamed.getNumber(`${GI}.handle.0`) === 0xa0 && renamed.getNumber(`${GI}.handle.15`) === 0xaf,
  );

  const debugging = (d: number, enable: number): bigint =>
    domctl(agent, DomctlCmd.setdebugging, d, { "u.setdebugging.enable": enable }).rc;
  const debugged = (): number =>
    info(agent, dom).getNumber(`${GI}.flags`) & DomainInfoFlag.debugged;
  check.equal("domctl setdebugging on", debugging(dom, 1), 0);
  check.equal("domctl setdebugging on: XEN_DOMINF_debugged", debugged(), DomainInfoFlag.debugged);
  check.equal("domctl setdebugging off", debugging(dom, 0), 0);
  check.equal("domctl setdebugging off: flag clear", debugged(), 0);
  check.equal("domctl setdebugging self EINVAL", debugging(SELF, 1), -Errno.EINVAL);
}

function shadow(agent: Agent, check: Checks, dom: number): void {
  for (const [op, want, name] of SHADOW_OPS) {
    const r = domctl(agent, DomctlCmd.shadow_op, dom, {
      "u.shadow_op.op": op,
      "u.shadow_op.mb": 77,
    });
    check.equal(`domctl shadow_op ${name}`, r.rc, want);
    if (op === ShadowOp.GET_ALLOCATION) {
      check.equal("domctl shadow_op GET_ALLOCATION 0 MiB", r.out.getNumber("u.shadow_op.mb"), 0);
    }
  }
  check.equal(
    "domctl shadow_op self EINVAL",
    domctl(agent, DomctlCmd.shadow_op, SELF).rc,
    -Errno.EINVAL,
  );
}

/**
 * Whether the caller's guests are auto-translated (XENVER_get_features submap 0 has
 * XENFEAT_auto_translated_physmap): a new domain of the same arch and mode is too.
 */
function autoTranslated(agent: Agent): boolean {
  const info = agent.alloc(8);
  agent.write(info, new Uint8Array(8));
  if (agent.hypercall(Hypercall.xen_version, XenVersionOp.get_features, agent.handle(info)) !== 0n)
    throw new AgentError("XENVER_get_features failed");
  return ((agent.readUint(info + 4n, 4) >> BigInt(XenFeature.auto_translated_physmap)) & 1n) === 1n;
}

function memoryAndContext(agent: Agent, check: Checks, dom: number): void {
  // Two frames for the new domain (dom0 may adjust its reservation: XSM_TARGET).
  const frameList = new FrameList(agent, 2);
  check.equal(
    "domctl new domain gets 2 frames (increase_reservation)",
    new XenMem(agent).reservation(MemoryOp.increase_reservation, {
      list: frameList.va,
      nr: 2,
      domid: dom,
    }),
    2,
  );
  const frames = [frameList.get(0), frameList.get(1)];
  check.equal("domctl getdomaininfo tot_pages 2", info(agent, dom).getBigInt(`${GI}.tot_pages`), 2);

  const mfns = agent.alloc(8 * 8);
  const memlist = (max: number, buffer: bigint): ReturnType<typeof domctl> =>
    domctl(agent, DomctlCmd.getmemlist, dom, {
      "u.getmemlist.max_pfns": max,
      "u.getmemlist.buffer": buffer,
    });
  const all = memlist(8, agent.handle(mfns));
  check.equal("domctl getmemlist", all.rc, 0);
  check.equal("domctl getmemlist num_pfns 2", all.out.getBigInt("u.getmemlist.num_pfns"), 2);
  const listed = [0, 1].map((i) => agent.readUint(mfns + BigInt(8 * i), 8));
  if (autoTranslated(agent)) {
    // increase_reservation writes no frames back for a translated domain (Xen's
    // `if ( !paging_mode_translate(d) )`), so only the machine frames' order can be checked.
    check.that("domctl getmemlist lists two ascending frames", listed[0] < listed[1], listed[0]);
  } else {
    const sorted = [...frames].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    check.that(
      "domctl getmemlist lists the domain's frames",
      listed[0] === sorted[0] && listed[1] === sorted[1],
      listed[0],
    );
  }
  const one = memlist(1, agent.handle(mfns));
  check.equal("domctl getmemlist max_pfns 1", one.rc, 0);
  check.equal(
    "domctl getmemlist max_pfns 1: num_pfns 1",
    one.out.getBigInt("u.getmemlist.num_pfns"),
    1,
  );
  const unmapped = agent.handle(agent.spec.unmappedAddress(agent));
  check.equal("domctl getmemlist EFAULT bad buffer", memlist(8, unmapped).rc, -Errno.EFAULT);

  // vCPU contexts, in the arch's vcpu_guest_context.
  const foreignContext = agent.spec.foreignVcpuContext?.bind(agent.spec);
  if (foreignContext === undefined) {
    throw new AgentError(`the ${agent.arch.name} GuestAgent has no foreignVcpuContext`);
  }
  const foreign = foreignContext(agent, 0, frames[0], { id: dom, spareFrame: frames[1] });
  const size = foreign.context.length;
  const got = agent.alloc(size, 16);
  const context = (cmd: number, vcpu: number, ctxt: bigint, d = dom): bigint =>
    domctl(agent, cmd, d, { "u.vcpucontext.vcpu": vcpu, "u.vcpucontext.ctxt": ctxt }).rc;
  const { getvcpucontext: get, setvcpucontext: set } = DomctlCmd;
  check.equal(
    "domctl getvcpucontext never initialised ENODATA",
    context(get, 0, agent.handle(got)),
    -Errno.ENODATA,
  );
  check.equal(
    "domctl getvcpucontext vcpu 2 of 2 EINVAL",
    context(get, 2, agent.handle(got)),
    -Errno.EINVAL,
  );
  const ctx = agent.handle(agent.place(foreign.context, 16));
  check.equal("domctl setvcpucontext vcpu 2 of 2 EINVAL", context(set, 2, ctx), -Errno.EINVAL);
  check.equal("domctl setvcpucontext self EINVAL", context(set, 0, ctx, SELF), -Errno.EINVAL);
  check.equal("domctl setvcpucontext null ctxt on a fresh vCPU", context(set, 1, 0n), 0);
  for (const refused of agent.spec.refusedVcpuContexts?.(agent, 1, foreign.context) ?? []) {
    check.equal(
      `domctl setvcpucontext EINVAL: ${refused.why}`,
      context(set, 1, agent.handle(agent.place(refused.context, 16))),
      -Errno.EINVAL,
    );
  }
  check.equal(
    "domctl getvcpucontext of the vCPU that refused them: still ENODATA",
    context(get, 1, agent.handle(got)),
    -Errno.ENODATA,
  );
  check.equal("domctl setvcpucontext EFAULT bad ctxt", context(set, 0, unmapped), -Errno.EFAULT);
  check.equal("domctl setvcpucontext vcpu 0", context(set, 0, ctx), 0);
  check.equal("domctl getvcpucontext vcpu 0", context(get, 0, agent.handle(got)), 0);
  const back = agent.read(got, size);
  for (const part of foreign.kept) {
    const end = part.offset + part.length;
    check.equal(
      `domctl getvcpucontext ${part.name}`,
      hexBytes(back.subarray(part.offset, end)),
      hexBytes(foreign.context.subarray(part.offset, end)),
    );
  }
  check.equal("domctl getvcpucontext EFAULT bad ctxt", context(get, 0, unmapped), -Errno.EFAULT);
  const online = (): number => info(agent, dom).getNumber(`${GI}.nr_online_vcpus`);
  check.equal("domctl getdomaininfo still no vCPU online", online(), 0);

  // An initialised vCPU: arch_set_info_guest reloads it (the domain paused around it),
  // within what the arch keeps fixed; VGCF_online sets whether it is up.
  check.equal("domctl setvcpucontext vcpu 0 again: a reload", context(set, 0, ctx), 0);
  for (const refused of foreign.reloadRefused) {
    check.equal(
      `domctl setvcpucontext reload with ${refused.why}`,
      context(set, 0, agent.handle(agent.place(refused.context, 16))),
      BigInt(refused.errno),
    );
  }
  check.equal(
    "domctl setvcpucontext EFAULT bad ctxt on an initialised vCPU",
    context(set, 0, unmapped),
    -Errno.EFAULT,
  );
  if (foreign.online !== undefined) {
    const up = agent.handle(agent.place(foreign.online, 16));
    check.equal("domctl setvcpucontext reload asking for online", context(set, 0, up), 0);
    check.equal("domctl getdomaininfo: the reloaded vCPU is online", online(), 1);
    check.equal("domctl setvcpucontext reload without online", context(set, 0, ctx), 0);
    check.equal("domctl getdomaininfo: the reloaded vCPU is down again", online(), 0);
    check.equal("domctl setvcpucontext online again", context(set, 0, up), 0);
  } else {
    // No online flag in the arch's context: a reload leaves the vCPU down as it was.
    check.equal("domctl setvcpucontext reload", context(set, 0, ctx), 0);
    check.equal("domctl getdomaininfo: the reloaded vCPU is still down", online(), 0);
  }

  // A null context: vcpu_reset. The vCPU is down and no longer initialised, what it held
  // released, so a context loads into it afresh.
  check.equal("domctl setvcpucontext null ctxt resets vcpu 0", context(set, 0, 0n), 0);
  check.equal("domctl getdomaininfo: the reset vCPU is down", online(), 0);
  check.equal(
    "domctl getvcpucontext of the reset vCPU ENODATA",
    context(get, 0, agent.handle(got)),
    -Errno.ENODATA,
  );
  check.equal("domctl setvcpucontext vcpu 0 after the reset", context(set, 0, ctx), 0);
  check.equal("domctl getvcpucontext after the reset", context(get, 0, agent.handle(got)), 0);
  check.equal("domctl setvcpucontext null ctxt resets vcpu 0 again", context(set, 0, 0n), 0);
}

function host(agent: Agent, check: Checks, dom: number): void {
  const phys = sysctl(agent, SysctlCmd.physinfo);
  const pi = "u.physinfo";
  check.equal("sysctl physinfo", phys.rc, 0);
  const top = agent.hypercall(Hypercall.memory_op, MemoryOp.maximum_ram_page, 0);
  const total = phys.out.getBigInt(`${pi}.total_pages`);
  check.equal("sysctl physinfo total_pages is maximum_ram_page", total, top);
  check.equal(
    "sysctl physinfo max_mfn is the last frame",
    phys.out.getBigInt(`${pi}.max_mfn`),
    top - 1n,
  );
  const free = phys.out.getBigInt(`${pi}.free_pages`);
  check.that("sysctl physinfo free_pages below total", free < total, free);
  const cpus = phys.out.getNumber(`${pi}.nr_cpus`);
  check.that(
    "sysctl physinfo at least one cpu",
    cpus >= 1 && phys.out.getNumber(`${pi}.max_cpu_id`) === cpus - 1,
    cpus,
  );
  check.equal(
    "sysctl EACCES interface version 0x14",
    sysctl(agent, SysctlCmd.physinfo, {}, 0x14).rc,
    -Errno.EACCES,
  );
  const unmapped = agent.handle(agent.spec.unmappedAddress(agent));
  check.equal(
    "sysctl EFAULT bad pointer",
    agent.hypercall(Hypercall.sysctl, unmapped),
    -Errno.EFAULT,
  );
  check.equal("sysctl ENOSYS unknown command 99", sysctl(agent, 99).rc, -Errno.ENOSYS);

  const entry = XEN_DOMCTL_GETDOMAININFO.layout(agent.arch.dataModel).size;
  const list = agent.alloc(entry * 4);
  const dl = "u.getdomaininfolist";
  const domains = (first: number, max: number, buffer: bigint): ReturnType<typeof sysctl> =>
    sysctl(agent, SysctlCmd.getdomaininfolist, {
      [`${dl}.first_domain`]: first,
      [`${dl}.max_domains`]: max,
      [`${dl}.buffer`]: buffer,
    });
  const listed = domains(0, 4, agent.handle(list));
  check.equal("sysctl getdomaininfolist", listed.rc, 0);
  check.equal("sysctl getdomaininfolist 2 domains", listed.out.getNumber(`${dl}.num_domains`), 2);
  const first = agent.readStruct(XEN_DOMCTL_GETDOMAININFO, list);
  const second = agent.readStruct(XEN_DOMCTL_GETDOMAININFO, list + BigInt(entry));
  check.that(
    "sysctl getdomaininfolist dom0 then the new one",
    first.getNumber("domain") === SELF && second.getNumber("domain") === dom,
    second.getNumber("domain"),
  );
  check.equal(
    "sysctl getdomaininfolist entry as getdomaininfo (max_vcpu_id)",
    second.getNumber("max_vcpu_id"),
    1,
  );
  check.equal(
    "sysctl getdomaininfolist from first_domain 1",
    domains(1, 4, agent.handle(list)).out.getNumber(`${dl}.num_domains`),
    1,
  );
  check.equal(
    "sysctl getdomaininfolist max_domains 1",
    domains(0, 1, agent.handle(list)).out.getNumber(`${dl}.num_domains`),
    1,
  );
  check.equal(
    "sysctl getdomaininfolist EFAULT bad buffer",
    domains(0, 4, unmapped).rc,
    -Errno.EFAULT,
  );
}

/** domctl/ops. */
export const domctlOps = agentTest({
  area: "domctl",
  name: "ops",
  description:
    "each domctl/sysctl command of a toolstack: success and each error path, from a real dom0",
  requires: { roles: ["dom0"] },
  run(agent, check) {
    genericErrors(agent, check);
    const free0 = freePages(agent);
    const dom = creation(agent, check);
    pausing(agent, check, dom);
    limits(agent, check, dom);
    shadow(agent, check, dom);
    memoryAndContext(agent, check, dom);
    host(agent, check, dom);
    check.equal("domctl destroydomain", domctl(agent, DomctlCmd.destroydomain, dom).rc, 0);
    check.equal(
      "domctl getdomaininfo after destroy ESRCH",
      domctl(agent, DomctlCmd.getdomaininfo, dom).rc,
      -Errno.ESRCH,
    );
    check.equal(
      "domctl pausedomain after destroy ESRCH",
      domctl(agent, DomctlCmd.pausedomain, dom).rc,
      -Errno.ESRCH,
    );
    check.equal("sysctl physinfo free_pages back after create + destroy", freePages(agent), free0);
  },
});
