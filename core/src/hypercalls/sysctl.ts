/**
 * sysctl (`__HYPERVISOR_sysctl`): host-wide queries for a toolstack (xen/common/sysctl.c,
 * Xen 4.19). The argument is a pointer to `struct xen_sysctl`.
 *
 * Errors in Xen's order: unreadable request → −EFAULT; `interface_version` not
 * {@link XEN_SYSCTL_INTERFACE_VERSION} → −EACCES; the XSM policy's `sysctl` hook (dummy:
 * control domain only) → −EPERM; unknown commands → −ENOSYS. Results are copied back as
 * the whole struct (−EFAULT if that fails).
 *
 * - physinfo: one virtual CPU, one core, one thread, one node (max_node_id 0); cpu_khz
 *   the virtual clock's rate (1 / NS_PER_INSTRUCTION GHz); total_pages the machine's
 *   frames, free_pages those no one owns, max_mfn the last frame; capabilities pv / hvm
 *   from the arch's guest modes, plus gnttab_v1 and gnttab_v2 (the grant-table versions
 *   offered, opt_gnttab_max_version). Not modelled: hw_cap (CPUID words; 0),
 *   scrub and outstanding pages (0).
 * - getdomaininfolist: domains with id ≥ `first_domain`, ascending, at most
 *   `max_domains`, each as domctl getdomaininfo fills it; a domain the XSM
 *   `getdomaininfo` hook hides is skipped; `num_domains` says how many were written.
 *
 * @module
 */
import { XEN_DOMCTL_GETDOMAININFO } from "../abi/domctl.js";
import { PhysCap, SysctlCmd, XEN_SYSCTL, XEN_SYSCTL_INTERFACE_VERSION } from "../abi/sysctl.js";
import { NS_PER_INSTRUCTION } from "../clock.js";
import { Errno } from "../errno.js";
import { GNTTAB_MAX_VERSION } from "../grant-table.js";
import { readGuestStruct, StructBuffer, writeGuestStruct } from "../guest-memory.js";
import type { HypercallArgs, HypercallContext } from "../hypercall.js";
import type { StructLayout } from "../structs.js";
import { fillDomainInfo } from "./domctl.js";

const req = new StructBuffer(256);
const entry = new StructBuffer(256);

/** `sysctl(u_sysctl)`. */
export function sysctl(ctx: HypercallContext, args: HypercallArgs): number {
  const { machine, vcpu } = ctx;
  const l = XEN_SYSCTL.layout(machine.arch.dataModel);
  const ptr = args.u64(0);
  const view = req.view;
  if (readGuestStruct(vcpu, ptr, l, req) !== 0) return -Errno.EFAULT;
  if (l.getNumber(view, 0, "interface_version") !== XEN_SYSCTL_INTERFACE_VERSION) {
    return -Errno.EACCES;
  }
  const cmd = l.getNumber(view, 0, "cmd");
  const denied = machine.xsm.sysctl(ctx.domain, cmd);
  if (denied !== 0) return denied;
  let rc: number;
  switch (cmd) {
    case SysctlCmd.physinfo:
      rc = physinfo(ctx, l);
      break;
    case SysctlCmd.getdomaininfolist:
      rc = getDomainInfoList(ctx, l);
      break;
    default:
      return -Errno.ENOSYS;
  }
  if (rc !== 0) return rc;
  return writeGuestStruct(vcpu, ptr, l, req) === 0 ? 0 : -Errno.EFAULT;
}

function physinfo(ctx: HypercallContext, l: StructLayout): number {
  const { machine } = ctx;
  const view = req.view;
  const p = "u.physinfo.";
  const base = l.offsetOf("u.physinfo");
  req.bytes.fill(0, base, base + l.sizeOf("u.physinfo"));
  l.set(view, 0, p + "threads_per_core", 1);
  l.set(view, 0, p + "cores_per_socket", 1);
  l.set(view, 0, p + "nr_cpus", 1);
  l.set(view, 0, p + "max_cpu_id", 0);
  l.set(view, 0, p + "nr_nodes", 1);
  l.set(view, 0, p + "max_node_id", 0);
  l.set(view, 0, p + "cpu_khz", Math.round(1_000_000 / NS_PER_INSTRUCTION));
  // opt_gnttab_max_version: v1, and v2 when the hypervisor offers it.
  let caps = PhysCap.gnttab_v1 as number;
  if (GNTTAB_MAX_VERSION >= 2) caps |= PhysCap.gnttab_v2;
  if (machine.arch.modes.includes("pv")) caps |= PhysCap.pv;
  if (machine.arch.modes.some((m) => m !== "pv")) caps |= PhysCap.hvm;
  l.set(view, 0, p + "capabilities", caps);
  l.set(view, 0, p + "total_pages", BigInt(machine.memory.frames));
  l.set(view, 0, p + "free_pages", BigInt(machine.freeFrameCount()));
  l.set(view, 0, p + "max_mfn", BigInt(machine.memory.frames - 1));
  return 0;
}

function getDomainInfoList(ctx: HypercallContext, l: StructLayout): number {
  const { machine, vcpu } = ctx;
  const view = req.view;
  const g = "u.getdomaininfolist.";
  const first = l.getNumber(view, 0, g + "first_domain");
  const max = l.getNumber(view, 0, g + "max_domains");
  const buffer = l.getBigInt(view, 0, g + "buffer");
  const info = XEN_DOMCTL_GETDOMAININFO.layout(machine.arch.dataModel);
  const ids = [...machine.domains.keys()].sort((a, b) => a - b);
  let n = 0;
  for (const id of ids) {
    if (id < first) continue;
    if (n === max) break;
    const d = machine.domains.get(id)!;
    if (machine.xsm.getdomaininfo(ctx.domain, d) !== 0) continue;
    fillDomainInfo(ctx, d, info, entry.view, 0);
    if (writeGuestStruct(vcpu, buffer + BigInt(n * info.size), info, entry) !== 0) {
      return -Errno.EFAULT;
    }
    n++;
  }
  l.set(view, 0, g + "num_domains", n);
  return 0;
}
