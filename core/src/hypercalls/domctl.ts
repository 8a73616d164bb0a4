/**
 * domctl (`__HYPERVISOR_domctl`): per-domain control for a toolstack (xen/common/domctl.c
 * and x86's arch_do_domctl, Xen 4.19). The argument is a pointer to `struct xen_domctl`.
 *
 * Errors come in Xen's order: the request cannot be read → −EFAULT; `interface_version`
 * is not {@link XEN_DOMCTL_INTERFACE_VERSION} → −EACCES; the target (`domain`, any
 * command but createdomain; DOMID_SELF is not accepted, as `rcu_lock_domain_by_id`) does
 * not exist or is being destroyed → −ESRCH; the XSM policy's `domctl` hook says no
 * (dummy policy: the control domain only, see `xsm.ts`) → its −EPERM; then the command.
 * Commands that change the result struct copy the whole struct back (−EFAULT if that
 * fails). Unknown commands → −ENOSYS.
 *
 * - createdomain: `domain` 1–0x7fef asks for that id (−EEXIST if taken), anything else
 *   allocates the next free id after the last one given (−ENOMEM when none is left). The
 *   config is checked as `sanitise_domain_config` (unknown CDF flags, grant_opts bits
 *   above the version, max_vcpus 0 or above the machine's limit, hap without hvm, an
 *   IOMMU, vmtrace or vPMU request, iommu_opts without the IOMMU flag, an HVM domain on an
 *   arch without a hardware-assisted mode → −EINVAL), then XSM's domain_create, then
 *   `grant_table_init`: grant_opts must name a grant-table version from 1 to 2 (the
 *   domain's highest for GNTTABOP_set_version), max_grant_frames may not be 0, and
 *   negative frame limits take the defaults (64 grant frames, 1024 maptrack frames)
 *   (−EINVAL otherwise); the grant limits apply to the new domain. Then the arch part
 *   (`ArchPlugin.checkDomainConfig`, e.g. x86's misc_flags and emulation_flags; its
 *   −errno), which the new domain's arch state takes (x86: msr_relaxed). The domain is
 *   created empty: no memory, max_pages 0, its vCPUs all down, paused once by the
 *   controller (as Xen: the toolstack's first unpausedomain starts it). The id is written
 *   back into `domain`. `max_evtchn_port` caps the ports the domain may allocate
 *   (`evtchn_init`; above it get_free_port is −ENOSPC). Not modelled yet: the xs_domain
 *   flag, ssidref labels, a shared_info page for the new domain
 *   (getdomaininfo reports shared_info_frame 0 until one exists).
 * - destroydomain: the domain's frames go back to the free pool and its id is forgotten
 *   (later calls naming it → −ESRCH). A domain cannot destroy itself (−EINVAL).
 * - pausedomain / unpausedomain: Xen's controller pause count (−EINVAL pausing oneself,
 *   −EOVERFLOW past 255, −EINVAL unpausing at 0). A paused domain's vCPUs do not run.
 * - getdomaininfo: see {@link fillDomainInfo}.
 * - getmemlist: removed from Xen in 4.11, kept here in its last form: up to `max_pfns`
 *   MFNs of the domain's frames (ascending) into `buffer` as uint64, `num_pfns` written;
 *   `max_pfns` above 4 GiB worth of pages → −EOPNOTSUPP (XSA-74's limit).
 * - shadow_op: log-dirty is defined for later. OFF succeeds (nothing is enabled),
 *   GET_ALLOCATION reports 0 MiB; ENABLE*, CLEAN, PEEK and SET_ALLOCATION → −EOPNOTSUPP;
 *   other ops → −EINVAL; on oneself → −EINVAL.
 * - max_mem: max_pages = max_memkb >> (PAGE_SHIFT − 10), capped at 2^32 − 1; a limit
 *   below tot_pages is allowed (the domain may only shrink).
 * - max_vcpus: vCPUs are created with the domain, so this only checks `max` equals their
 *   number (−EINVAL otherwise, or on oneself).
 * - setvcpucontext: −EINVAL on oneself or for a vCPU id out of range. A null `ctxt` is
 *   Xen's `vcpu_reset`: the arch drops what the loaded context holds
 *   (`ArchPlugin.resetVcpu`; an initialised vCPU without the hook −EOPNOTSUPP) and the
 *   vCPU is down, not polling and no longer initialised (getvcpucontext −ENODATA). Else the
 *   context is copied in (−EFAULT) and the arch applies it (`ArchPlugin.setVcpuContext`,
 *   the hook VCPUOP_initialise uses, every reference taken for the target domain;
 *   −EOPNOTSUPP without it): a vCPU never initialised gets everything; an initialised one
 *   a reload as the arch's Xen allows (x86 PV: with unchanged page tables and descriptor
 *   tables, else −EOPNOTSUPP). On success the vCPU is up or down as the context's online
 *   flag says (`arch_set_info_guest`'s end, then `domain_unpause` wakes it); whether it
 *   runs is then up to the domain's pause count.
 * - getvcpucontext: −EINVAL for an id out of range or the calling vCPU, −ENODATA for a
 *   vCPU never initialised, −EOPNOTSUPP without `ArchVcpu.saveGuestContext`; else the
 *   arch writes `vcpu_guest_context` to `ctxt`.
 * - getvcpuinfo: online / blocked / running, cpu_time, cpu 0.
 * - setdomainhandle, setdebugging (−EINVAL on oneself).
 * - set_address_size / get_address_size: PV only (−EOPNOTSUPP for a hardware-assisted
 *   guest). The width is the arch's word size; asking for another (x86_64: 32, until
 *   32-bit PV guests exist) → −EINVAL.
 *
 * @module
 */
import {
  CREATEDOMAIN_KNOWN_FLAGS,
  CreateDomainFlag,
  DomainInfoFlag,
  DomctlCmd,
  ShadowOp,
  XEN_DOMCTL,
  XEN_DOMCTL_GETDOMAININFO,
  XEN_DOMCTL_GRANT_VERSION_MASK,
  XEN_DOMCTL_INTERFACE_VERSION,
  XEN_DOMINF_SHUTDOWN_SHIFT,
  XEN_INVALID_MAX_VCPU_ID,
} from "../abi/domctl.js";
import type { GuestMode } from "../arch-plugin.js";
import { NS_PER_INSTRUCTION } from "../clock.js";
import { DomId, DomainState, type Domain } from "../domain.js";
import { Errno } from "../errno.js";
import { MAX_EVTCHN_PORT_UNLIMITED } from "../event-channel.js";
import { m2pGet } from "../p2m.js";
import { grantLimitsOf, initGrantTable } from "../grant-table.js";
import { readGuestStruct, StructBuffer, writeGuestStruct, writeGuestU64 } from "../guest-memory.js";
import type { HypercallArgs, HypercallContext } from "../hypercall.js";
import type { Machine } from "../machine.js";
import type { StructLayout } from "../structs.js";
import { vcpuTimers } from "../time.js";
import {
  canSetVcpuContext,
  readVcpuContext,
  resetVcpu,
  setVcpuContext,
} from "../vcpu-lifecycle.js";
import { VcpuState } from "../vcpu.js";

/** The most vCPUs createdomain accepts (the machine's limit, `MAX_VCPUS_PER_DOMAIN`). */
const MAX_VCPUS = 128;
/** Most toolstack pauses outstanding (Xen's arbitrary 255). */
const MAX_CONTROLLER_PAUSES = 255;

const req = new StructBuffer(256);
/** Next id to try per machine (Xen's static `rover`). */
const rovers = new WeakMap<Machine, number>();

/** `domctl(u_domctl)`. */
export function domctl(ctx: HypercallContext, args: HypercallArgs): number {
  const { machine, vcpu } = ctx;
  const layout = XEN_DOMCTL.layout(machine.arch.dataModel);
  const ptr = args.u64(0);
  const view = req.view;
  if (readGuestStruct(vcpu, ptr, layout, req) !== 0) return -Errno.EFAULT;
  if (layout.getNumber(view, 0, "interface_version") !== XEN_DOMCTL_INTERFACE_VERSION) {
    return -Errno.EACCES;
  }
  const cmd = layout.getNumber(view, 0, "cmd");
  let target: Domain | null = null;
  if (cmd !== DomctlCmd.createdomain) {
    const d = machine.domains.get(layout.getNumber(view, 0, "domain"));
    if (d === undefined || d.state === DomainState.Dying) return -Errno.ESRCH;
    target = d;
  }
  const denied = machine.xsm.domctl(ctx.domain, target, cmd);
  if (denied !== 0) return denied;

  const rc = target === null ? createDomain(ctx, layout) : command(ctx, layout, cmd, target);
  if (rc === COPYBACK) {
    return writeGuestStruct(vcpu, ptr, layout, req) === 0 ? 0 : -Errno.EFAULT;
  }
  return rc;
}

/** Internal result: success, and copy the request struct back to the guest. */
const COPYBACK = 1;

function command(ctx: HypercallContext, l: StructLayout, cmd: number, d: Domain): number {
  const { machine, domain: self } = ctx;
  const view = req.view;
  switch (cmd) {
    case DomctlCmd.destroydomain:
      if (d === self) return -Errno.EINVAL;
      machine.destroyDomain(d);
      return 0;

    case DomctlCmd.pausedomain:
      if (d === self) return -Errno.EINVAL;
      if (d.controllerPauseCount + 1 > MAX_CONTROLLER_PAUSES) return -Errno.EOVERFLOW;
      d.controllerPauseCount++;
      if (d.state === DomainState.Running) d.state = DomainState.Paused;
      return 0;

    case DomctlCmd.unpausedomain:
      if (d.controllerPauseCount === 0) return -Errno.EINVAL;
      d.controllerPauseCount--;
      if (d.controllerPauseCount === 0 && d.state === DomainState.Paused) {
        d.state = DomainState.Running;
      }
      return 0;

    case DomctlCmd.getdomaininfo: {
      const denied = machine.xsm.getdomaininfo(self, d);
      if (denied !== 0) return denied;
      const info = XEN_DOMCTL_GETDOMAININFO.layout(machine.arch.dataModel);
      fillDomainInfo(ctx, d, info, view, l.offsetOf("u.getdomaininfo"));
      l.set(view, 0, "domain", d.id);
      return COPYBACK;
    }

    case DomctlCmd.getmemlist:
      return getMemList(ctx, l, d);

    case DomctlCmd.shadow_op:
      if (d === self) return -Errno.EINVAL;
      switch (l.getNumber(view, 0, "u.shadow_op.op")) {
        case ShadowOp.OFF:
          return COPYBACK;
        case ShadowOp.GET_ALLOCATION:
          l.set(view, 0, "u.shadow_op.mb", 0);
          return COPYBACK;
        case ShadowOp.ENABLE_TEST:
        case ShadowOp.ENABLE_LOGDIRTY:
        case ShadowOp.ENABLE:
        case ShadowOp.CLEAN:
        case ShadowOp.PEEK:
        case ShadowOp.SET_ALLOCATION:
          return -Errno.EOPNOTSUPP;
        default:
          return -Errno.EINVAL;
      }

    case DomctlCmd.max_mem: {
      const shift = BigInt(Math.log2(machine.memory.pageSize) - 10);
      const pages = l.getBigInt(view, 0, "u.max_mem.max_memkb") >> shift;
      d.maxPages = Number(pages > 0xffffffffn ? 0xffffffffn : pages);
      return 0;
    }

    case DomctlCmd.setvcpucontext:
      return setVcpuContextOp(ctx, l, d);

    case DomctlCmd.getvcpucontext: {
      const id = l.getNumber(view, 0, "u.vcpucontext.vcpu");
      const v = d.vcpus[id];
      if (v === undefined || v === ctx.vcpu) return -Errno.EINVAL;
      if (!vcpuTimers(machine, v).initialised) return -Errno.ENODATA;
      const save = v.arch.saveGuestContext;
      if (save === undefined) return -Errno.EOPNOTSUPP;
      const rc = save.call(v.arch, ctx, l.getBigInt(view, 0, "u.vcpucontext.ctxt"));
      return rc !== 0 ? rc : COPYBACK;
    }

    case DomctlCmd.getvcpuinfo: {
      const v = d.vcpus[l.getNumber(view, 0, "u.getvcpuinfo.vcpu")];
      if (v === undefined) return -Errno.EINVAL;
      l.set(view, 0, "u.getvcpuinfo.online", v.state === VcpuState.Down ? 0 : 1);
      l.set(view, 0, "u.getvcpuinfo.blocked", v.state === VcpuState.Blocked ? 1 : 0);
      l.set(view, 0, "u.getvcpuinfo.running", v === ctx.vcpu ? 1 : 0);
      l.set(view, 0, "u.getvcpuinfo.cpu_time", BigInt(v.retired * NS_PER_INSTRUCTION));
      l.set(view, 0, "u.getvcpuinfo.cpu", 0);
      return COPYBACK;
    }

    case DomctlCmd.max_vcpus:
      if (d === self || l.getNumber(view, 0, "u.max_vcpus.max") !== d.vcpus.length) {
        return -Errno.EINVAL;
      }
      return 0;

    case DomctlCmd.setdomainhandle: {
      const at = l.offsetOf("u.setdomainhandle.handle");
      d.handle.set(req.bytes.subarray(at, at + 16));
      return 0;
    }

    case DomctlCmd.setdebugging:
      if (d === self) return -Errno.EINVAL;
      d.debuggerAttached = l.getNumber(view, 0, "u.setdebugging.enable") !== 0;
      return 0;

    case DomctlCmd.set_address_size: {
      if (d.mode !== "pv") return -Errno.EOPNOTSUPP;
      const size = l.getNumber(view, 0, "u.address_size.size");
      return size === machine.arch.wordBits ? 0 : -Errno.EINVAL;
    }

    case DomctlCmd.get_address_size:
      if (d.mode !== "pv") return -Errno.EOPNOTSUPP;
      l.set(view, 0, "u.address_size.size", machine.arch.wordBits);
      return COPYBACK;

    default:
      return -Errno.ENOSYS;
  }
}

function createDomain(ctx: HypercallContext, l: StructLayout): number {
  const { machine } = ctx;
  const view = req.view;
  const c = "u.createdomain.";
  let id = l.getNumber(view, 0, "domain");
  if (id > 0 && id < DomId.SELF) {
    if (machine.domains.has(id)) return -Errno.EEXIST;
  } else {
    const rover = rovers.get(machine) ?? 0;
    let found = -1;
    for (let dom = (rover + 1) % DomId.SELF; dom !== rover; dom = (dom + 1) % DomId.SELF) {
      if (dom !== 0 && !machine.domains.has(dom)) {
        found = dom;
        break;
      }
    }
    if (found < 0) return -Errno.ENOMEM;
    id = found;
    rovers.set(machine, id);
  }

  const flags = l.getNumber(view, 0, c + "flags");
  const hvm = (flags & CreateDomainFlag.hvm) !== 0;
  const maxVcpus = l.getNumber(view, 0, c + "max_vcpus");
  const mode: GuestMode | undefined = hvm
    ? machine.arch.modes.find((m) => m !== "pv")
    : machine.arch.modes.includes("pv")
      ? "pv"
      : undefined;
  if (
    (flags & ~CREATEDOMAIN_KNOWN_FLAGS) !== 0 ||
    (l.getNumber(view, 0, c + "grant_opts") & ~XEN_DOMCTL_GRANT_VERSION_MASK) !== 0 ||
    maxVcpus < 1 ||
    maxVcpus > MAX_VCPUS ||
    ((flags & CreateDomainFlag.hap) !== 0 && !hvm) ||
    (flags & (CreateDomainFlag.iommu | CreateDomainFlag.vpmu)) !== 0 ||
    l.getNumber(view, 0, c + "iommu_opts") !== 0 ||
    l.getNumber(view, 0, c + "vmtrace_size") !== 0 ||
    mode === undefined
  ) {
    return -Errno.EINVAL;
  }
  const denied = machine.xsm.domainCreate(ctx.domain, l.getNumber(view, 0, c + "ssidref"));
  if (denied !== 0) return denied;
  // grant_table_init (domain_create, after the XSM hook, before arch_domain_create).
  const grants = grantLimitsOf(
    l.getNumber(view, 0, c + "max_grant_frames"),
    l.getNumber(view, 0, c + "max_maptrack_frames"),
    l.getNumber(view, 0, c + "grant_opts"),
  );
  if (typeof grants === "number") return grants;
  const archAt = l.offsetOf(c + "arch");
  const archConfig = new DataView(
    view.buffer,
    view.byteOffset + archAt,
    machine.arch.dataModel.archParts.archDomainConfig.layout(machine.arch.dataModel).size,
  );
  const refused = machine.arch.checkDomainConfig?.(archConfig, mode) ?? 0;
  if (refused !== 0) return refused;

  const d = machine.createDomain({ privileged: false, mode, vcpus: maxVcpus, id, archConfig });
  initGrantTable(machine, d, grants);
  const at = l.offsetOf(c + "handle");
  d.handle.set(req.bytes.subarray(at, at + 16));
  // evtchn_init: d->max_evtchn_port = min(config->max_evtchn_port, INT_MAX).
  d.eventChannels.maxPort = Math.min(
    l.getNumber(view, 0, c + "max_evtchn_port"),
    MAX_EVTCHN_PORT_UNLIMITED,
  );
  d.controllerPauseCount = 1;
  d.state = DomainState.Paused;
  l.set(view, 0, "domain", id);
  return COPYBACK;
}

function setVcpuContextOp(ctx: HypercallContext, l: StructLayout, d: Domain): number {
  const { machine } = ctx;
  const view = req.view;
  const v = d.vcpus[l.getNumber(view, 0, "u.vcpucontext.vcpu")];
  if (d === ctx.domain || v === undefined) return -Errno.EINVAL;
  const ptr = l.getBigInt(view, 0, "u.vcpucontext.ctxt");
  if (ptr === 0n) return resetVcpu(machine, v);
  if (!canSetVcpuContext(machine)) return -Errno.EOPNOTSUPP;
  const context = readVcpuContext(ctx, ptr);
  if (typeof context === "number") return context;
  return setVcpuContext(machine, v, context, true);
}

function getMemList(ctx: HypercallContext, l: StructLayout, d: Domain): number {
  const { machine, vcpu } = ctx;
  const view = req.view;
  const max = l.getBigInt(view, 0, "u.getmemlist.max_pfns");
  if (max > BigInt(0x100000000 / machine.memory.pageSize)) return -Errno.EOPNOTSUPP;
  const limit = Number(max);
  const buffer = l.getBigInt(view, 0, "u.getmemlist.buffer");
  const owner = machine.memory.frameTable.owner;
  let n = 0;
  for (let mfn = 0; mfn < owner.length && n < limit; mfn++) {
    if (owner[mfn] !== d.id) continue;
    if (writeGuestU64(vcpu, buffer + BigInt(n * 8), BigInt(mfn)) !== 0) return -Errno.EFAULT;
    n++;
  }
  l.set(view, 0, "u.getmemlist.num_pfns", BigInt(n));
  return COPYBACK;
}

/**
 * Fills a `xen_domctl_getdomaininfo` at `base` of `view` for `d`, as Xen's
 * `getdomaininfo`: blocked only if every online vCPU is blocked, running if one is
 * executing now (in hvkit: the calling vCPU), neither with no vCPU online; dying,
 * shutdown, paused (controller pause count), debugged and hvm_guest from the domain; the
 * shutdown code in bits 16 up (Xen ORs its `shutdown_code`, ~0 before one is set, so an
 * unset code reads as 0xffff in the top half); tot/max pages, shared_info's frame (0
 * without one), cpu_time (ns the vCPUs ran), online vCPUs, the highest vCPU id, ssidref 0
 * (dummy XSM), the handle, cpupool 0, gpaddr_bits (bits to address the machine's memory).
 * Used by domctl getdomaininfo and sysctl getdomaininfolist.
 */
export function fillDomainInfo(
  ctx: HypercallContext,
  d: Domain,
  info: StructLayout,
  view: DataView,
  base: number,
): void {
  new Uint8Array(view.buffer, view.byteOffset + base, info.size).fill(0);
  let flags = DomainInfoFlag.blocked as number;
  let online = 0;
  let retired = 0;
  for (const v of d.vcpus) {
    retired += v.retired;
    if (v.state === VcpuState.Down) continue;
    online++;
    if (v.state !== VcpuState.Blocked) flags &= ~DomainInfoFlag.blocked;
    if (v === ctx.vcpu) flags |= DomainInfoFlag.running;
  }
  if (online === 0) flags = 0;
  if (d.state === DomainState.Dying) flags |= DomainInfoFlag.dying;
  if (d.state === DomainState.Shutdown) flags |= DomainInfoFlag.shutdown;
  if (d.controllerPauseCount > 0) flags |= DomainInfoFlag.paused;
  if (d.debuggerAttached) flags |= DomainInfoFlag.debugged;
  if (d.mode !== "pv") flags |= DomainInfoFlag.hvm_guest;
  const code = d.shutdownCode ?? 0xffffffff;
  flags = (flags | (code << XEN_DOMINF_SHUTDOWN_SHIFT)) >>> 0;
  const memory = ctx.machine.memory;
  info.set(view, base, "domain", d.id);
  info.set(view, base, "flags", flags);
  info.set(view, base, "tot_pages", BigInt(d.totPages));
  info.set(view, base, "max_pages", BigInt(d.maxPages));
  // mfn_to_gmfn: the guest frame of a translated domain's shared_info.
  const si = Math.max(d.sharedInfoMfn, 0);
  info.set(
    view,
    base,
    "shared_info_frame",
    BigInt(d.translated ? Math.max(m2pGet(ctx.machine, si), 0) : si),
  );
  info.set(view, base, "cpu_time", BigInt(retired * NS_PER_INSTRUCTION));
  info.set(view, base, "nr_online_vcpus", online);
  info.set(
    view,
    base,
    "max_vcpu_id",
    d.vcpus.length > 0 ? d.vcpus.length - 1 : XEN_INVALID_MAX_VCPU_ID,
  );
  const h = base + info.offsetOf("handle");
  new Uint8Array(view.buffer, view.byteOffset + h, 16).set(d.handle);
  info.set(view, base, "gpaddr_bits", Math.ceil(Math.log2(memory.size)));
}
