/**
 * The x86 arch hypercalls for 64-bit PV guests (rows of the machine's one hypercall
 * table, modes ["pv"]). Behaviour and error codes follow Xen: xen/arch/x86/mm.c
 * (do_mmu_update, do_update_va_mapping, do_mmuext_op), pv/descriptor-tables.c (set_gdt,
 * update_descriptor), pv/callback.c, pv/iret.c, x86_64/mm.c (stack_switch,
 * set_segment_base), pv/traps.c (set_trap_table).
 *
 * @module
 */
import {
  DomainState,
  Errno,
  type HypercallArgs,
  type HypercallContext,
  type HypercallEntry,
  type Vcpu,
  Hypercall,
  MmuUpdateCmd,
  MmuextCmd,
  UVMF_ALL,
  UVMF_INVLPG,
  UVMF_LOCAL,
  UVMF_TLB_FLUSH,
} from "@hvkit/core";
import { isCanonical, PageFlag, PageType, Seg, type PvMmu } from "@hvkit/arch-x86";
import type { PvVcpu } from "./pv-vcpu.js";
import { getDebugregHypercall, setDebugregHypercall } from "./debugreg.js";
import { doIret, newGuestCr3 } from "./traps.js";
import { physdevOp } from "./physdev.js";
import { checkDescriptor } from "@hvkit/arch-x86";
import type { X86_64Pv } from "./plugin.js";

/** set_segment_base selectors. */
export const SegBase = { FS: 0, GS_USER: 1, GS_KERNEL: 2, GS_USER_SEL: 3 } as const;

/** First GDT entry Xen reserves for itself (FIRST_RESERVED_GDT_ENTRY = 14 pages × 512). */
export const FIRST_RESERVED_GDT_ENTRY = 14 * 512;

const MMU_UPDATE_PREEMPTED = 0x80000000;
const DOMID_SELF = 0x7ff0;
const DOMID_IO = 0x7ff1;
const DOMID_XEN = 0x7ff2;

/**
 * Guest memory of one calling vCPU, through its kernel page tables (the same rules as the
 * core's guest-memory door: unmapped → null/false, never a fault in the guest).
 */
class GuestVirt {
  constructor(private readonly vcpu: Vcpu<X86_64Pv>) {}
  /** The u64 at `va`, or null when any byte is unmapped. */
  u64(va: bigint): bigint | null {
    const mem = this.vcpu.machine.memory;
    const pa = this.vcpu.arch.translate(va, false);
    if (pa < 0) return null;
    if ((pa & 4095) <= 4088) return mem.view.getBigUint64(pa, true);
    let r = 0n;
    for (let i = 7; i >= 0; i--) {
      const p = this.vcpu.arch.translate(va + BigInt(i), false);
      if (p < 0) return null;
      r = (r << 8n) | BigInt(mem.bytes[p]);
    }
    return r;
  }
  /** Writes a u32 (a C `unsigned int`); false when unmapped or read-only. */
  setU32(va: bigint, value: number): boolean {
    const m = this.vcpu.machine;
    for (let i = 0; i < 4; i++) {
      const pa = this.vcpu.arch.translate(va + BigInt(i), true);
      if (pa < 0) return false;
      m.memory.bytes[pa] = (value >>> (8 * i)) & 0xff;
      m.arch.onMemoryWritten?.(m, pa, 1);
    }
    return true;
  }
}

function pv(ctx: HypercallContext<X86_64Pv>): PvVcpu {
  return ctx.vcpu.arch;
}

function guest(ctx: HypercallContext<X86_64Pv>): GuestVirt {
  return new GuestVirt(ctx.vcpu);
}

/** set_trap_table: installs trap_info entries {u8 vector, u8 flags, u16 cs, u64 address} until address 0. */
function setTrapTable(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const v = pv(ctx);
  const ptr = args.u64(0);
  if (ptr === 0n) {
    v.trapAddr.fill(0n);
    v.trapFlags.fill(0);
    v.trapCs.fill(0);
    return 0;
  }
  const g = guest(ctx);
  for (let i = 0n; ; i++) {
    const head = g.u64(ptr + i * 16n);
    const addr = g.u64(ptr + i * 16n + 8n);
    if (head === null || addr === null) return -Errno.EFAULT;
    if (addr === 0n) return 0;
    // do_set_trap_table (pv/callback.c): a non-canonical handler stops the table, −EINVAL.
    if (!isCanonical(addr)) return -Errno.EINVAL;
    const vector = Number(head & 0xffn);
    v.trapFlags[vector] = Number((head >> 8n) & 0xffn);
    v.trapCs[vector] = Number((head >> 16n) & 0xffffn) | 3;
    v.trapAddr[vector] = addr;
  }
}

/** Registers one callback (register_guest_callback). */
function registerCallback(v: PvVcpu, type: number, flags: number, address: bigint): number {
  if (!isCanonical(address)) return -Errno.EINVAL;
  const mask = (flags & 1) !== 0;
  switch (type) {
    case 0:
      v.eventCallback = address;
      return 0;
    case 1:
      v.failsafeCallback = address;
      return 0;
    case 2:
      v.syscallCallback = address;
      v.syscallMasksEvents = mask;
      return 0;
    case 7:
      v.syscall32Callback = address;
      v.syscall32MasksEvents = mask;
      return 0;
    case 5:
      v.sysenterCallback = address;
      v.sysenterMasksEvents = mask;
      return 0;
    case 4:
      v.nmiCallback = address;
      return 0;
    default:
      return -Errno.ENOSYS;
  }
}

function setCallbacks(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const v = pv(ctx);
  registerCallback(v, 0, 0, args.u64(0));
  registerCallback(v, 1, 0, args.u64(1));
  registerCallback(v, 2, 0, args.u64(2));
  return 0;
}

/** callback_op: CALLBACKOP_register 0 ({u16 type, u16 flags, u64 address}), unregister 1 ({u16 type}). */
function callbackOp(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const v = pv(ctx);
  const cmd = args.i32(0);
  const g = guest(ctx);
  if (cmd === 0) {
    const head = g.u64(args.u64(1));
    const addr = g.u64(args.u64(1) + 8n);
    if (head === null || addr === null) return -Errno.EFAULT;
    return registerCallback(v, Number(head & 0xffffn), Number((head >> 16n) & 0xffffn), addr);
  }
  if (cmd === 1) {
    const head = g.u64(args.u64(1));
    if (head === null) return -Errno.EFAULT;
    const type = Number(head & 0xffffn);
    if (type === 4) {
      v.nmiCallback = 0n;
      return 0;
    }
    return type === 0 || type === 1 || type === 2 || type === 5 || type === 7
      ? -Errno.EINVAL
      : -Errno.ENOSYS;
  }
  return -Errno.ENOSYS;
}

function stackSwitch(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const v = pv(ctx);
  v.kernelSs = args.u32(0) | 3;
  v.kernelSp = args.u64(1);
  return 0;
}

function setSegmentBase(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const v = pv(ctx);
  const which = args.u32(0);
  const base = args.u64(1);
  switch (which) {
    case SegBase.FS:
      if (!isCanonical(base)) return -Errno.EINVAL;
      v.cpu.fsBase = base;
      return 0;
    case SegBase.GS_USER:
      if (!isCanonical(base)) return -Errno.EINVAL;
      if (v.kernelMode) v.inactiveGsBase = base;
      else v.cpu.gsBase = base;
      return 0;
    case SegBase.GS_KERNEL:
      if (!isCanonical(base)) return -Errno.EINVAL;
      if (v.kernelMode) v.cpu.gsBase = base;
      else v.inactiveGsBase = base;
      return 0;
    case SegBase.GS_USER_SEL:
      // Loads the user %gs selector; a flat selector leaves the user GS base at 0.
      v.cpu.sel[Seg.GS] = Number(base & 0xffffn);
      if (v.kernelMode) v.inactiveGsBase = 0n;
      else v.cpu.gsBase = 0n;
      return 0;
    default:
      return -Errno.EINVAL;
  }
}

function fpuTaskswitch(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  pv(ctx).cr0Ts = args.u32(0) !== 0;
  return 0;
}

/** set_gdt(frame_list, entries): frames typed segdesc; the old GDT released. */
function setGdt(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const v = pv(ctx);
  const entries = args.u32(1);
  if (entries > FIRST_RESERVED_GDT_ENTRY) return -Errno.EINVAL;
  const nr = Math.ceil(entries / 512);
  const g = guest(ctx);
  const frames: number[] = [];
  for (let i = 0; i < nr; i++) {
    const f = g.u64(args.u64(0) + BigInt(8 * i));
    if (f === null) return -Errno.EFAULT;
    frames.push(f > 0x7fffffffn ? -1 : Number(f));
  }
  const mmu = v.mmu;
  for (let i = 0; i < nr; i++) {
    const rc =
      frames[i] < 0 ? -Errno.EINVAL : mmu.getPageAndType(frames[i], PageType.SegDesc, ctx.domain);
    if (rc !== 0) {
      for (let j = 0; j < i; j++) mmu.putPageAndType(frames[j], ctx.domain);
      return -Errno.EINVAL;
    }
  }
  for (const f of v.gdtFrames) mmu.putPageAndType(f, ctx.domain);
  v.gdtFrames = frames;
  v.gdtEntries = entries;
  v.loadDescriptorTables();
  v.cpu.flushTlb();
  return 0;
}

/** update_descriptor(maddr, desc): one checked descriptor write into a frame of the caller. */
function updateDescriptor(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const v = pv(ctx);
  const ma = args.u64(0);
  const desc = args.u64(1);
  if ((ma & 7n) !== 0n) return -Errno.EINVAL;
  const d = checkDescriptor(Number(desc & 0xffffffffn), Number(desc >> 32n));
  if (d === null) return -Errno.EINVAL;
  const mfn = Number(ma >> 12n);
  const mmu = v.mmu;
  const ft = ctx.machine.memory.frameTable;
  if (mfn >= ft.frames || !mmu.getPage(mfn, ctx.domain)) return -Errno.EINVAL;
  const type =
    ft.typeCount[mfn] > 0 && ft.type[mfn] === PageType.SegDesc
      ? PageType.SegDesc
      : PageType.Writable;
  if ((ft.flags[mfn] & PageFlag.Shared) !== 0 || mmu.getPageType(mfn, type, ctx.domain) !== 0) {
    mmu.putPage(mfn);
    return -Errno.EINVAL;
  }
  const pa = Number(ma);
  ctx.machine.memory.view.setUint32(pa, d.lo, true);
  ctx.machine.memory.view.setUint32(pa + 4, d.hi, true);
  mmu.putPageAndType(mfn, ctx.domain);
  return 0;
}

/**
 * Resolves mmu_update/mmuext_op's foreigndom as Xen 4.19's get_pg_owner
 * (common/page_alloc.c): DOMID_SELF is the caller; the caller's own id is refused ("Cannot
 * specify itself as foreign domain": −ESRCH); any other id names the domain while it
 * exists, shut down or not (rcu_lock_domain_by_any_id), else −ESRCH. DOMID_IO and
 * DOMID_XEN (dom_io, dom_xen) are not modelled: −EPERM, what XSM answers an unprivileged
 * caller. Privilege is checked separately ({@link pageOwnerDenied}).
 */
function pageOwner(
  ctx: HypercallContext<X86_64Pv>,
  domid: number,
): { d: HypercallContext<X86_64Pv>["domain"] } | number {
  if (domid === DOMID_SELF) return { d: ctx.domain };
  if (domid === ctx.domain.id) return -Errno.ESRCH;
  if (domid === DOMID_IO || domid === DOMID_XEN) return -Errno.EPERM;
  const d = ctx.machine.findDomain(domid, ctx.domain);
  return d === null ? -Errno.ESRCH : { d };
}

/** xsm_mmu_update / xsm_mmuext_op (XSM_TARGET): another domain's pages need privilege. */
function pageOwnerDenied(
  ctx: HypercallContext<X86_64Pv>,
  owner: HypercallContext<X86_64Pv>["domain"],
): number {
  return owner === ctx.domain || ctx.domain.privileged ? 0 : -Errno.EPERM;
}

/** guest_handle_okay(handle, count) over `size`-byte elements: the arch's access_ok. */
function handleOkay(
  ctx: HypercallContext<X86_64Pv>,
  va: bigint,
  count: number,
  size: number,
): boolean {
  return ctx.machine.arch.guestAccessOk?.(ctx.domain, va, BigInt(count * size)) ?? true;
}

function mmuUpdate(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const v = pv(ctx);
  const mmu = v.mmu;
  const ft = ctx.machine.memory.frameTable;
  const reqs = args.u64(0);
  let count = args.u32(1);
  if (count & MMU_UPDATE_PREEMPTED) count &= ~MMU_UPDATE_PREEMPTED;
  // do_mmu_update (Xen 4.19): the request array, then the page-table owner (foreigndom's
  // top 16 bits, domid + 1: −ESRCH when missing, −EINVAL without vCPUs), then get_pg_owner.
  if (!handleOkay(ctx, reqs, count, 16)) return -Errno.EFAULT;
  const foreigndom = args.u32(3);
  let ptOwner = ctx.domain;
  const ptDom = foreigndom >>> 16;
  if (ptDom !== 0) {
    const pt = ctx.machine.domains.get(ptDom - 1);
    if (pt === undefined || pt.state === DomainState.Dying) return -Errno.ESRCH;
    if (pt !== ctx.domain && pt.vcpus.length === 0) return -Errno.EINVAL;
    ptOwner = pt;
  }
  const owner = pageOwner(ctx, foreigndom & 0xffff);
  if (typeof owner === "number") return owner;
  const pgOwner = owner.d;
  // xsm_mmu_update (XSM_TARGET on the page and page-table owners), per request as Xen
  // does, so an empty batch naming another domain succeeds.
  const denied = pageOwnerDenied(ctx, pgOwner) || pageOwnerDenied(ctx, ptOwner);
  const g = guest(ctx);
  const dv = ctx.machine.memory.view;
  let rc = 0;
  let done = 0;
  for (; done < count; done++) {
    const ptr = g.u64(reqs + BigInt(16 * done));
    const val = g.u64(reqs + BigInt(16 * done) + 8n);
    if (ptr === null || val === null) {
      rc = -Errno.EFAULT;
      break;
    }
    const cmd = Number(ptr & 7n);
    const addr = ptr & ~7n;
    const mfnBig = addr >> 12n;
    const mfn = mfnBig >= BigInt(ft.frames) ? -1 : Number(mfnBig);
    if (
      cmd === MmuUpdateCmd.normal_pt_update ||
      cmd === MmuUpdateCmd.pt_update_preserve_ad ||
      cmd === MmuUpdateCmd.pt_update_no_translate // for a PV owner, a normal update (Xen 4.19)
    ) {
      if (denied !== 0) {
        rc = denied;
        break;
      }
      if (mfn < 0 || !mmu.getPage(mfn, ctx.domain)) {
        rc = -Errno.EINVAL;
        break;
      }
      const pa = Number(addr);
      const lo = Number(val & 0xffffffffn);
      const hi = Number((val >> 32n) & 0xffffffffn);
      const type = ft.type[mfn];
      if (ft.typeCount[mfn] > 0 && type >= PageType.L1 && type <= PageType.L4) {
        rc = mmu.modEntry(pa, lo, hi, pgOwner, cmd === MmuUpdateCmd.pt_update_preserve_ad);
      } else if (
        (ft.flags[mfn] & PageFlag.Shared) !== 0 ||
        mmu.getPageType(mfn, PageType.Writable, ctx.domain) === 0
      ) {
        dv.setUint32(pa, lo, true);
        dv.setUint32(pa + 4, hi, true);
        v.cpu.invalidateCode(pa, 8);
        if (!(ft.flags[mfn] & PageFlag.Shared)) mmu.putPageType(mfn, ctx.domain);
      } else {
        rc = -Errno.EINVAL;
      }
      mmu.putPage(mfn);
    } else if (cmd === MmuUpdateCmd.machphys_update) {
      // Xen: a foreign page-table owner −EPERM, then XSM, then the frame −EINVAL.
      if (ptOwner !== ctx.domain || denied !== 0) {
        rc = ptOwner !== ctx.domain ? -Errno.EPERM : denied;
        break;
      }
      if (mfn < 0 || ft.owner[mfn] !== pgOwner.id) {
        rc = -Errno.EINVAL;
        break;
      }
      mmu.setM2p(mfn, val > 0x1fffffffffffffn ? -1 : Number(val));
    } else {
      rc = -Errno.ENOSYS;
    }
    if (rc !== 0) break;
  }
  const pdone = args.u64(2);
  if (pdone !== 0n) g.setU32(pdone, done); // XEN_GUEST_HANDLE_PARAM(uint) pdone
  return rc;
}

/** Checks a vCPU-mask pointer of a *_MULTI flush (vcpumask_to_pcpumask): −EFAULT when unreadable. */
function readVcpuMask(g: GuestVirt, ptr: bigint): number {
  return g.u64(ptr) === null ? -Errno.EFAULT : 0;
}

function updateVaMapping(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  return updateVaMappingOf(ctx, args, ctx.domain);
}

/**
 * update_va_mapping_otherdomain (Xen 4.19 do_update_va_mapping_otherdomain): as
 * update_va_mapping with a page owner named by args[3] (get_pg_owner: nobody → −ESRCH),
 * whose frames the caller may map when XSM_TARGET allows (xsm_update_va_mapping: −EPERM).
 */
function updateVaMappingOtherdomain(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const owner = pageOwner(ctx, args.u32(3) & 0xffff);
  if (typeof owner === "number") return owner;
  const denied = pageOwnerDenied(ctx, owner.d);
  if (denied !== 0) return denied;
  return updateVaMappingOf(ctx, args, owner.d);
}

function updateVaMappingOf(
  ctx: HypercallContext<X86_64Pv>,
  args: HypercallArgs,
  pgOwner: HypercallContext<X86_64Pv>["domain"],
): number {
  const v = pv(ctx);
  const mmu = v.mmu;
  const ft = ctx.machine.memory.frameTable;
  const va = args.u64(0);
  const val = args.u64(1);
  const flags = args.u64(2);
  if (!isCanonical(va)) return -Errno.EINVAL;
  const l1e = mmu.l1eAddress(v.guestTable, va);
  if (l1e < 0) return -Errno.EINVAL;
  const l1 = Math.floor(l1e / 4096);
  if (ft.owner[l1] !== ctx.domain.id || ft.type[l1] !== PageType.L1 || ft.typeCount[l1] === 0)
    return -Errno.EINVAL;
  let rc = mmu.modEntry(
    l1e,
    Number(val & 0xffffffffn),
    Number((val >> 32n) & 0xffffffffn),
    pgOwner,
    false,
  );
  const type = Number(flags & 3n);
  const target = flags & ~3n;
  if (type === UVMF_TLB_FLUSH || type === UVMF_INVLPG) {
    if (target !== BigInt(UVMF_LOCAL) && target !== BigInt(UVMF_ALL)) {
      const r = readVcpuMask(guest(ctx), target);
      if (r !== 0 && rc === 0) rc = r;
    }
    if (type === UVMF_INVLPG) v.cpu.invlpg(va);
    else v.cpu.flushTlb();
  }
  return rc;
}

function mmuextOp(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const v = pv(ctx);
  const mmu = v.mmu;
  const ft = ctx.machine.memory.frameTable;
  const ops = args.u64(0);
  let count = args.u32(1);
  if (count & MMU_UPDATE_PREEMPTED) count &= ~MMU_UPDATE_PREEMPTED;
  // do_mmuext_op (Xen 4.19): the op array −EFAULT, get_pg_owner −ESRCH, a non-PV owner
  // −EINVAL, then XSM_TARGET −EPERM, all before the first op.
  if (!handleOkay(ctx, ops, count, 24)) return -Errno.EFAULT;
  const owner = pageOwner(ctx, args.u32(3) & 0xffff);
  if (typeof owner === "number") return owner;
  const pgOwner = owner.d;
  if (pgOwner.mode !== "pv") return -Errno.EINVAL;
  const denied = pageOwnerDenied(ctx, pgOwner);
  if (denied !== 0) return denied;
  const self = pgOwner === ctx.domain;
  const g = guest(ctx);
  const mem = ctx.machine.memory.bytes;
  let rc = 0;
  let done = 0;
  for (; done < count; done++) {
    const base = ops + BigInt(24 * done);
    const cmdWord = g.u64(base);
    const arg1 = g.u64(base + 8n);
    const arg2 = g.u64(base + 16n);
    if (cmdWord === null || arg1 === null || arg2 === null) {
      rc = -Errno.EFAULT;
      break;
    }
    const cmd = Number(cmdWord & 0xffffffffn);
    const mfn = arg1 >= BigInt(ft.frames) ? -1 : Number(arg1);
    switch (cmd) {
      case MmuextCmd.pin_l1_table:
      case MmuextCmd.pin_l2_table:
      case MmuextCmd.pin_l3_table:
      case MmuextCmd.pin_l4_table: {
        if (mfn < 0) {
          rc = -Errno.EINVAL;
          break;
        }
        rc = mmu.getPageAndType(mfn, (cmd + 1) as PageType, pgOwner);
        if (rc !== 0) break;
        if (ft.flags[mfn] & PageFlag.Pinned) {
          mmu.putPageAndType(mfn, pgOwner);
          rc = -Errno.EINVAL;
          break;
        }
        ft.flags[mfn] |= PageFlag.Pinned;
        break;
      }
      case MmuextCmd.unpin_table:
        if (mfn < 0 || ft.owner[mfn] !== pgOwner.id || !(ft.flags[mfn] & PageFlag.Pinned)) {
          rc = -Errno.EINVAL;
          break;
        }
        ft.flags[mfn] &= ~PageFlag.Pinned;
        mmu.putPageAndType(mfn, pgOwner);
        v.cpu.flushTlb();
        break;
      case MmuextCmd.new_baseptr:
        if (pgOwner !== ctx.domain) rc = -Errno.EPERM;
        else rc = mfn < 0 ? -Errno.EINVAL : newGuestCr3(v, mfn);
        break;
      case MmuextCmd.new_user_baseptr: {
        if (pgOwner !== ctx.domain) {
          rc = -Errno.EPERM;
          break;
        }
        const old = v.guestTableUser;
        if (arg1 === 0n) {
          v.guestTableUser = -1;
        } else {
          if (mfn < 0) {
            rc = -Errno.EINVAL;
            break;
          }
          rc = mmu.getPageAndType(mfn, PageType.L4, ctx.domain);
          if (rc !== 0) break;
          v.guestTableUser = mfn;
        }
        if (old >= 0) mmu.putPageAndType(old, ctx.domain);
        if (!v.kernelMode) v.loadCr3();
        break;
      }
      // The flushes act on the caller's own TLBs: another page owner is −EPERM.
      case MmuextCmd.tlb_flush_local:
      case MmuextCmd.tlb_flush_all:
        if (!self) rc = -Errno.EPERM;
        else v.cpu.flushTlb();
        break;
      case MmuextCmd.invlpg_local:
      case MmuextCmd.invlpg_all:
        if (!self) rc = -Errno.EPERM;
        else if (isCanonical(arg1)) v.cpu.invlpg(arg1);
        break;
      case MmuextCmd.tlb_flush_multi:
      case MmuextCmd.invlpg_multi:
        // Xen turns any vcpumask_to_pcpumask failure (an unreadable mask) into −EINVAL.
        if (!self) rc = -Errno.EPERM;
        else if (readVcpuMask(g, arg2) !== 0) rc = -Errno.EINVAL;
        else if (cmd === MmuextCmd.tlb_flush_multi) v.cpu.flushTlb();
        else if (isCanonical(arg1)) v.cpu.invlpg(arg1);
        break;
      case MmuextCmd.flush_cache:
        if (!self) rc = -Errno.EPERM;
        else if (!ctx.domain.privileged) rc = -Errno.EACCES;
        break;
      case MmuextCmd.set_ldt: {
        const ents = Number(arg2 & 0xffffffffn);
        if (pgOwner !== ctx.domain) rc = -Errno.EPERM;
        else if (
          (arg1 & 4095n) !== 0n ||
          ents > 8192 ||
          !isCanonical(arg1) ||
          !isCanonical(arg1 + BigInt(ents * 8))
        )
          rc = -Errno.EINVAL;
        else {
          v.ldtBase = arg1;
          v.ldtEntries = ents;
          v.loadDescriptorTables();
        }
        break;
      }
      case MmuextCmd.clear_page:
      case MmuextCmd.copy_page: {
        if (mfn < 0 || !mmu.getPage(mfn, pgOwner)) {
          rc = -Errno.EINVAL;
          break;
        }
        if (mmu.getPageType(mfn, PageType.Writable, pgOwner) !== 0) {
          mmu.putPage(mfn);
          rc = -Errno.EINVAL;
          break;
        }
        if (cmd === MmuextCmd.clear_page) {
          mem.fill(0, mfn * 4096, mfn * 4096 + 4096);
        } else {
          const src = arg2 >= BigInt(ft.frames) ? -1 : Number(arg2);
          if (src < 0 || ft.owner[src] !== pgOwner.id) rc = -Errno.EINVAL;
          else mem.copyWithin(mfn * 4096, src * 4096, src * 4096 + 4096);
        }
        v.cpu.invalidateCode(mfn * 4096, 4096);
        mmu.putPageAndType(mfn, pgOwner);
        break;
      }
      default:
        rc = -Errno.ENOSYS;
    }
    if (rc !== 0) break;
  }
  const pdone = args.u64(2);
  if (pdone !== 0n) g.setU32(pdone, done); // XEN_GUEST_HANDLE_PARAM(uint) pdone
  return rc;
}

function iret(ctx: HypercallContext<X86_64Pv>): number | bigint {
  return doIret(pv(ctx));
}

/** The x86_64 PV arch rows of the hypercall table. */
export function x86_64PvHypercalls(): HypercallEntry<X86_64Pv>[] {
  const row = (
    number: number,
    name: string,
    handler: HypercallEntry<X86_64Pv>["handler"],
    xsm: HypercallEntry<X86_64Pv>["xsm"] = "none",
  ): HypercallEntry<X86_64Pv> => ({
    number,
    name,
    handler,
    modes: ["pv"],
    xsm,
  });
  return [
    row(Hypercall.set_trap_table, "set_trap_table", setTrapTable),
    row(Hypercall.mmu_update, "mmu_update", mmuUpdate, "mmu"),
    row(Hypercall.set_gdt, "set_gdt", setGdt),
    row(Hypercall.stack_switch, "stack_switch", stackSwitch),
    row(Hypercall.set_callbacks, "set_callbacks", setCallbacks),
    row(Hypercall.set_debugreg, "set_debugreg", setDebugregHypercall),
    row(Hypercall.get_debugreg, "get_debugreg", getDebugregHypercall),
    row(Hypercall.fpu_taskswitch, "fpu_taskswitch", fpuTaskswitch),
    row(Hypercall.update_descriptor, "update_descriptor", updateDescriptor),
    row(Hypercall.update_va_mapping, "update_va_mapping", updateVaMapping, "mmu"),
    row(
      Hypercall.update_va_mapping_otherdomain,
      "update_va_mapping_otherdomain",
      updateVaMappingOtherdomain,
      "mmu",
    ),
    row(Hypercall.iret, "iret", iret),
    row(Hypercall.set_segment_base, "set_segment_base", setSegmentBase),
    row(Hypercall.mmuext_op, "mmuext_op", mmuextOp, "mmu"),
    row(Hypercall.callback_op, "callback_op", callbackOp),
    row(Hypercall.physdev_op, "physdev_op", physdevOp),
  ];
}

/** The PV MMU a vCPU uses (for tests and tools). */
export function mmuOf(ctx: HypercallContext<X86_64Pv>): PvMmu {
  return pv(ctx).mmu;
}
