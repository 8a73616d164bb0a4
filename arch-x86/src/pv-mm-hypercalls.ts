/**
 * The PV memory-management hypercalls shared by 64-bit and 32-bit PAE (compat) PV guests:
 * mmu_update, update_va_mapping(_otherdomain) and mmuext_op as Xen 4.19's mm.c has them
 * (do_mmu_update, do_update_va_mapping, do_mmuext_op, new_guest_cr3). Each arch plugin's
 * hypercall rows decode their own argument registers (a compat guest passes 64-bit
 * values in register pairs) and call these; structs are read in the arch's data model
 * (mmuext_op is 24 bytes for 64-bit guests, 12 for compat ones).
 *
 * @module
 */
import {
  DomainState,
  Errno,
  MMUEXT_OP,
  MmuUpdateCmd,
  MmuextCmd,
  UVMF_ALL,
  UVMF_INVLPG,
  UVMF_LOCAL,
  UVMF_TLB_FLUSH,
  type ArchTypes,
  type ArchVcpu,
  type Domain,
  type HypercallContext,
  type Vcpu,
} from "@hvkit/core";
import type { X86CpuApi } from "./cpu-api.js";
import { FIRST_RESERVED_GDT_ENTRY } from "./pv-descriptors.js";
import { checkDescriptor, PageFlag, PageType, type PvMmu } from "./pv-mmu.js";

/** What the shared PV hypercalls need of a PV vCPU (both plugins' vCPUs have it). */
export interface PvMmVcpu extends ArchVcpu {
  /** The interpreter. */
  readonly cpu: X86CpuApi;
  /** The machine's PV MMU. */
  readonly mmu: PvMmu;
  /** Kernel top-level page table (guest_table; a compat guest's L3), −1 none. */
  guestTable: number;
  /** User top-level page table (guest_table_user), −1 none. */
  guestTableUser: number;
  /** True in guest kernel mode. */
  kernelMode: boolean;
  /** LDT base address (MMUEXT_SET_LDT). */
  ldtBase: bigint;
  /** LDT entries. */
  ldtEntries: number;
  /** GDT frames (set_gdt). */
  gdtFrames: number[];
  /** GDT entries. */
  gdtEntries: number;
  /** Loads the page-table base of the current mode into the CPU (flushing its TLB). */
  loadCr3(): void;
  /** Hands the GDT and LDT the guest set to the CPU (when the vCPU models them). */
  loadDescriptorTables?(): void;
}

/** The state types of a PV plugin whose vCPUs are {@link PvMmVcpu}s. */
export interface PvArchTypes extends ArchTypes {
  /** Per-vCPU state. */
  readonly vcpu: PvMmVcpu;
}

const MMU_UPDATE_PREEMPTED = 0x80000000;
const DOMID_SELF = 0x7ff0;
const DOMID_IO = 0x7ff1;
const DOMID_XEN = 0x7ff2;

/**
 * Guest memory of one calling vCPU, through its kernel page tables (the same rules as the
 * core's guest-memory door: unmapped → null/false, never a fault in the guest).
 */
export class GuestVirt {
  /** @param vcpu - the calling vCPU. */
  constructor(private readonly vcpu: Vcpu<PvArchTypes>) {}
  /** The little-endian integer of `bytes` (1–8) at `va`, or null when any byte is unmapped. */
  read(va: bigint, bytes: number): bigint | null {
    const mem = this.vcpu.machine.memory;
    const pa = this.vcpu.arch.translate(va, false);
    if (pa < 0) return null;
    if (bytes === 8 && (pa & 4095) <= 4088) return mem.view.getBigUint64(pa, true);
    if (bytes === 4 && (pa & 4095) <= 4092) return BigInt(mem.view.getUint32(pa, true));
    let r = 0n;
    for (let i = bytes - 1; i >= 0; i--) {
      const p = this.vcpu.arch.translate(va + BigInt(i), false);
      if (p < 0) return null;
      r = (r << 8n) | BigInt(mem.bytes[p]);
    }
    return r;
  }
  /** The u64 at `va`, or null when any byte is unmapped. */
  u64(va: bigint): bigint | null {
    return this.read(va, 8);
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

function guest(ctx: HypercallContext<PvArchTypes>): GuestVirt {
  return new GuestVirt(ctx.vcpu);
}

/** True when `va` is an address of the calling guest's kind (canonical; below 4 GiB for compat). */
function addressOk(ctx: HypercallContext<PvArchTypes>, va: bigint): boolean {
  return ctx.vcpu.arch.mmu.inAddressSpace(va);
}

/**
 * Resolves mmu_update/mmuext_op's foreigndom as Xen 4.19's get_pg_owner
 * (common/page_alloc.c): DOMID_SELF is the caller; the caller's own id is refused ("Cannot
 * specify itself as foreign domain": −ESRCH); any other id names the domain while it
 * exists, shut down or not (rcu_lock_domain_by_any_id), else −ESRCH. DOMID_IO and
 * DOMID_XEN (dom_io, dom_xen) are not modelled: −EPERM, what XSM answers an unprivileged
 * caller. Privilege is checked separately ({@link pageOwnerDenied}).
 */
export function pageOwner(
  ctx: HypercallContext<PvArchTypes>,
  domid: number,
): { d: Domain<PvArchTypes> } | number {
  if (domid === DOMID_SELF) return { d: ctx.domain };
  if (domid === ctx.domain.id) return -Errno.ESRCH;
  if (domid === DOMID_IO || domid === DOMID_XEN) return -Errno.EPERM;
  const d = ctx.machine.findDomain(domid, ctx.domain);
  return d === null ? -Errno.ESRCH : { d };
}

/** xsm_mmu_update / xsm_mmuext_op (XSM_TARGET): another domain's pages need privilege. */
export function pageOwnerDenied(
  ctx: HypercallContext<PvArchTypes>,
  owner: Domain<PvArchTypes>,
): number {
  return owner === ctx.domain || ctx.domain.privileged ? 0 : -Errno.EPERM;
}

/** guest_handle_okay(handle, count) over `size`-byte elements: the arch's access_ok. */
function handleOkay(
  ctx: HypercallContext<PvArchTypes>,
  va: bigint,
  count: number,
  size: number,
): boolean {
  return ctx.machine.arch.guestAccessOk?.(ctx.domain, va, BigInt(count * size)) ?? true;
}

/**
 * mmu_update(reqs, count, pdone, foreigndom): `count` requests {u64 ptr, u64 val} (16
 * bytes in both data models); the number done written to `pdone` (0: none).
 */
export function mmuUpdate(
  ctx: HypercallContext<PvArchTypes>,
  reqs: bigint,
  count: number,
  pdone: bigint,
  foreigndom: number,
): number {
  const v = ctx.vcpu.arch;
  const mmu = v.mmu;
  const ft = ctx.machine.memory.frameTable;
  if (count & MMU_UPDATE_PREEMPTED) count = (count & ~MMU_UPDATE_PREEMPTED) >>> 0;
  // do_mmu_update (Xen 4.19): the request array, then the page-table owner (foreigndom's
  // top 16 bits, domid + 1: −ESRCH when missing, −EINVAL without vCPUs), then get_pg_owner.
  if (!handleOkay(ctx, reqs, count, 16)) return -Errno.EFAULT;
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
  if (pdone !== 0n) g.setU32(pdone, done); // XEN_GUEST_HANDLE_PARAM(uint) pdone
  return rc;
}

/** Checks a vCPU-mask pointer of a *_MULTI flush (vcpumask_to_pcpumask): −EFAULT when unreadable. */
function readVcpuMask(ctx: HypercallContext<PvArchTypes>, ptr: bigint): number {
  return guest(ctx).read(ptr, ctx.machine.arch.dataModel.long) === null ? -Errno.EFAULT : 0;
}

/**
 * update_va_mapping(va, val, flags) for the page owner `pgOwner` (the caller, or the
 * domain update_va_mapping_otherdomain names, {@link updateVaMappingOtherdomain}).
 */
export function updateVaMapping(
  ctx: HypercallContext<PvArchTypes>,
  va: bigint,
  val: bigint,
  flags: bigint,
  pgOwner: Domain<PvArchTypes> = ctx.domain,
): number {
  const v = ctx.vcpu.arch;
  const mmu = v.mmu;
  const ft = ctx.machine.memory.frameTable;
  if (!addressOk(ctx, va)) return -Errno.EINVAL;
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
      const r = readVcpuMask(ctx, target);
      if (r !== 0 && rc === 0) rc = r;
    }
    if (type === UVMF_INVLPG) v.cpu.invlpg(va);
    else v.cpu.flushTlb();
  }
  return rc;
}

/**
 * update_va_mapping_otherdomain (Xen 4.19 do_update_va_mapping_otherdomain): as
 * update_va_mapping with a page owner named by `domid` (get_pg_owner: nobody → −ESRCH),
 * whose frames the caller may map when XSM_TARGET allows (xsm_update_va_mapping: −EPERM).
 */
export function updateVaMappingOtherdomain(
  ctx: HypercallContext<PvArchTypes>,
  va: bigint,
  val: bigint,
  flags: bigint,
  domid: number,
): number {
  const owner = pageOwner(ctx, domid & 0xffff);
  if (typeof owner === "number") return owner;
  const denied = pageOwnerDenied(ctx, owner.d);
  if (denied !== 0) return denied;
  return updateVaMapping(ctx, va, val, flags, owner.d);
}

/**
 * mmuext_op(ops, count, pdone, foreigndom): `count` struct mmuext_op in the arch's data
 * model; the number done written to `pdone` (0: none).
 */
export function mmuextOp(
  ctx: HypercallContext<PvArchTypes>,
  ops: bigint,
  count: number,
  pdone: bigint,
  foreigndom: number,
): number {
  const v = ctx.vcpu.arch;
  const mmu = v.mmu;
  const ft = ctx.machine.memory.frameTable;
  const model = ctx.machine.arch.dataModel;
  const op = MMUEXT_OP.layout(model);
  const a1 = op.offsetOf("arg1");
  const a2 = op.offsetOf("arg2");
  const word = model.long;
  if (count & MMU_UPDATE_PREEMPTED) count = (count & ~MMU_UPDATE_PREEMPTED) >>> 0;
  // do_mmuext_op (Xen 4.19): the op array −EFAULT, get_pg_owner −ESRCH, a non-PV owner
  // −EINVAL, then XSM_TARGET −EPERM, all before the first op.
  if (!handleOkay(ctx, ops, count, op.size)) return -Errno.EFAULT;
  const owner = pageOwner(ctx, foreigndom & 0xffff);
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
    const base = ops + BigInt(op.size * done);
    const cmdWord = g.read(base, 4);
    const arg1 = g.read(base + BigInt(a1), word);
    const arg2 = g.read(base + BigInt(a2), word);
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
        // Xen ignores pinning an L4 for a compat guest (rc 0).
        if (cmd === MmuextCmd.pin_l4_table && mmu.format.levels === 3) break;
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
        else rc = mfn < 0 ? -Errno.EINVAL : newGuestCr3(v, ctx.domain, mfn);
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
        else if (addressOk(ctx, arg1)) v.cpu.invlpg(arg1);
        break;
      case MmuextCmd.tlb_flush_multi:
      case MmuextCmd.invlpg_multi:
        // Xen turns any vcpumask_to_pcpumask failure (an unreadable mask) into −EINVAL.
        if (!self) rc = -Errno.EPERM;
        else if (readVcpuMask(ctx, arg2) !== 0) rc = -Errno.EINVAL;
        else if (cmd === MmuextCmd.tlb_flush_multi) v.cpu.flushTlb();
        else if (addressOk(ctx, arg1)) v.cpu.invlpg(arg1);
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
          !addressOk(ctx, arg1) ||
          !addressOk(ctx, arg1 + BigInt(ents * 8))
        )
          rc = -Errno.EINVAL;
        else {
          v.ldtBase = arg1;
          v.ldtEntries = ents;
          v.loadDescriptorTables?.();
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
  if (pdone !== 0n) g.setU32(pdone, done); // XEN_GUEST_HANDLE_PARAM(uint) pdone
  return rc;
}

/**
 * set_gdt(frame_list, entries): frames typed segdesc; the old GDT released. The list holds
 * `unsigned long`s (4-byte for compat guests: compat_set_gdt).
 */
export function setGdt(
  ctx: HypercallContext<PvArchTypes>,
  frameList: bigint,
  entries: number,
): number {
  const v = ctx.vcpu.arch;
  const word = ctx.machine.arch.dataModel.long;
  if (entries > FIRST_RESERVED_GDT_ENTRY) return -Errno.EINVAL;
  const nr = Math.ceil(entries / 512);
  const g = guest(ctx);
  const frames: number[] = [];
  for (let i = 0; i < nr; i++) {
    const f = g.read(frameList + BigInt(word * i), word);
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
  v.loadDescriptorTables?.();
  v.cpu.flushTlb();
  return 0;
}

/**
 * update_descriptor(maddr, desc): one checked descriptor write into a frame of the caller
 * (check_descriptor with the rules of the caller's kind, {@link PvMmu.descriptorRules}).
 */
export function updateDescriptor(
  ctx: HypercallContext<PvArchTypes>,
  ma: bigint,
  desc: bigint,
): number {
  const v = ctx.vcpu.arch;
  if ((ma & 7n) !== 0n) return -Errno.EINVAL;
  const d = checkDescriptor(
    Number(desc & 0xffffffffn),
    Number((desc >> 32n) & 0xffffffffn),
    v.mmu.descriptorRules,
  );
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
 * MMUEXT_NEW_BASEPTR (new_guest_cr3): `mfn` becomes the kernel's top-level table, typed
 * as the root (an L4; a compat guest's L3, which Xen puts in slot 0 of the vCPU's own L4),
 * releasing the old one.
 */
export function newGuestCr3(v: PvMmVcpu, domain: Domain, mfn: number): number {
  if (mfn === v.guestTable) {
    v.loadCr3();
    v.cpu.flushTlb();
    return 0;
  }
  const root = v.mmu.format.levels === 4 ? PageType.L4 : PageType.L3;
  const rc = v.mmu.getPageAndType(mfn, root, domain);
  if (rc !== 0) return rc;
  const old = v.guestTable;
  v.guestTable = mfn;
  if (old >= 0) v.mmu.putPageAndType(old, domain);
  if (v.kernelMode) v.loadCr3();
  return 0;
}
