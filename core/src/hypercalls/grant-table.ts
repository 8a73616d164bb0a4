/**
 * grant_table_op, v1 (xen/common/grant_table.c `do_grant_table_op`).
 *
 * - setup_table / query_size: grow and list the caller's table (XSM_TARGET for another
 *   domain's). A frame_list the arch's `guestAccessOk` refuses is −EFAULT before anything
 *   else (guest_handle_okay); one that faults while written is GNTST_bad_virt_addr.
 * - map_grant_ref: pins a grant of another domain (or the caller's own) for host and/or
 *   device access. Most failures are reported in the op's `status` (GNTST_*), not in the
 *   hypercall's return. The granter's entry must say permit_access for the caller's domid
 *   (else GNTST_general_error, as Xen's _set_status_v1 — not permission_denied, which is
 *   the XSM answer); a read-only grant refuses writable maps (general_error). While
 *   pinned, GTF_reading (and GTF_writing for writable pins) is set in the granter's
 *   entry and cleared when the last such pin goes. Each map holds a general reference on
 *   the frame (two with host and device), and a writable type reference per writable
 *   host or device map, through the arch (`ArchPlugin.getWritableFrame`).
 * - unmap_grant_ref: by handle; host_addr 0 and dev_bus_addr 0 skip that half.
 *   unmap_and_replace: the host half only, moving the mapping at new_addr into its slot
 *   (−ENOSYS when the arch cannot replace host mappings).
 * - copy: either end by grant reference (any domain) or by frame (DOMID_SELF only);
 *   offsets and length must stay within a page (GNTST_bad_copy_arg).
 * - transfer: gives a page the caller owns (no other references) to a domain that has
 *   an accept-transfer entry for the caller. Unlike Xen, which takes the page first and
 *   loses it on a later failure, hvkit checks the receiver first, so a failed transfer
 *   leaves the page with the caller.
 * - map, unmap, unmap_and_replace, transfer and copy first check their array with the
 *   arch's `guestAccessOk` (guest_handle_okay): −EFAULT, even for count 0.
 * - set_version: 1 only (Xen with gnttab=max-ver:1: version 2 is −ENOSYS); get_version.
 * - get_status_frames: count ≠ 1 −EINVAL, −EFAULT (struct, or a frame_list the arch
 *   refuses), then in status: bad_domain, permission_denied (XSM_TARGET), and
 *   general_error for any frame asked of a v1 table (it has no status frames).
 * - swap_grant_ref: per op, bad_gntref for a ref past the table, okay for a ref with
 *   itself, eagain while either entry is pinned, else the two v1 entries are exchanged.
 * Frames named in grant entries and copies are guest frames: machine frames for PV
 * guests, p2m-translated for the others.
 *
 * @module
 */
import {
  GNTCOPY_DEST_GREF,
  GNTCOPY_SOURCE_GREF,
  GNTMAP_DEVICE_MAP,
  GNTMAP_HOST_MAP,
  GNTMAP_READONLY,
  GNTTAB_COPY,
  GNTTAB_GET_STATUS_FRAMES,
  GNTTAB_GET_VERSION,
  GNTTAB_MAP_GRANT_REF,
  GNTTAB_QUERY_SIZE,
  GNTTAB_SET_VERSION,
  GNTTAB_SETUP_TABLE,
  GNTTAB_SWAP_GRANT_REF,
  GNTTAB_TRANSFER,
  GNTTAB_UNMAP_AND_REPLACE,
  GNTTAB_UNMAP_GRANT_REF,
  GTF_TRANSFER_COMMITTED,
  GTF_TRANSFER_COMPLETED,
} from "../abi/grant-table.js";
import { GrantFlags, GrantStatus, GrantTableOp, GTF_TYPE_MASK, Hypercall } from "../abi/numbers.js";
import { DomainState, type Domain } from "../domain.js";
import { Errno } from "../errno.js";
import {
  type ActiveGrant,
  existingGrantTable,
  GntPin,
  GRANT_ENTRY_V1_SIZE,
  type GrantTable,
  grantTableOf,
  growGrantTable,
  pinWouldOverflow,
} from "../grant-table.js";
import {
  readGuestStruct,
  StructBuffer,
  writeGuestField,
  writeGuestStruct,
  writeGuestU32,
  writeGuestU64,
} from "../guest-memory.js";
import type { HypercallArgs, HypercallContext, HypercallEntry } from "../hypercall.js";
import type { Machine } from "../machine.js";
import { m2pSet, physmapAdd, putFrame } from "../p2m.js";
import type { StructDef, StructLayout } from "../structs.js";

export { INITIAL_NR_GRANT_FRAMES, MAX_GRANT_FRAMES, grantTableFrame } from "../grant-table.js";

const DOMID_SELF = 0x7ff0;
/** GNTTABOP_CONTINUATION_ARG_SHIFT: command bits above it are a continuation argument. */
const CMD_MASK = (1 << 12) - 1;
/** GTF_sub_page: refused in entries being mapped. */
const GTF_SUB_PAGE = GrantFlags.sub_page;

const buf = new StructBuffer(64);

/** A domain by real id, as rcu_lock_domain_by_id (no DOMID_SELF; a destroyed domain is gone). */
function domainById(machine: Machine, id: number): Domain | null {
  const d = machine.domains.get(id);
  return d && d.state !== DomainState.Dying ? d : null;
}

/** True when `d`'s guest frames go through its p2m (paging_mode_translate). */
function translated(d: Domain): boolean {
  return d.mode !== "pv";
}

/**
 * get_paged_frame: the machine frame behind guest frame `gfn` of `rd`, with a general
 * reference taken; −1 when `rd` does not own a frame there (GNTST_bad_page).
 */
function getPagedFrame(machine: Machine, rd: Domain, gfn: number): number {
  const ft = machine.memory.frameTable;
  let mfn = gfn;
  if (translated(rd)) mfn = gfn >= 0 && gfn < rd.p2m.length ? rd.p2m[gfn] : -1;
  if (!Number.isInteger(mfn) || mfn < 0 || mfn >= ft.frames || ft.owner[mfn] !== rd.id) return -1;
  ft.refCount[mfn]++;
  return mfn;
}

function getWritable(machine: Machine, mfn: number): boolean {
  return machine.arch.getWritableFrame?.(machine, mfn) ?? true;
}

function putWritable(machine: Machine, mfn: number): void {
  machine.arch.putWritableFrame?.(machine, mfn);
}

/** Reads the flags word of entry `ref`. */
function entryFlags(machine: Machine, gt: GrantTable, ref: number): number {
  return machine.memory.read16(gt.entryAddress(ref));
}

function setEntryFlags(machine: Machine, gt: GrantTable, ref: number, flags: number): void {
  const pa = gt.entryAddress(ref);
  machine.memory.write16(pa, flags);
  machine.arch.onMemoryWritten?.(machine, pa, 2);
}

/**
 * _set_status_v1: checks the entry grants `ldomid` access (unless already pinned) and
 * sets GTF_reading, plus GTF_writing for a writable use. GNTST_okay or general_error.
 */
function setStatus(
  machine: Machine,
  gt: GrantTable,
  ref: number,
  act: ActiveGrant,
  readonly: boolean,
  mapping: boolean,
  ldomid: number,
): number {
  const pa = gt.entryAddress(ref);
  const flags = machine.memory.read16(pa);
  const domid = machine.memory.read16(pa + 2);
  const mask = GTF_TYPE_MASK | (mapping ? GTF_SUB_PAGE : 0);
  if (act.pin === 0 && ((flags & mask) !== GrantFlags.permit_access || domid !== ldomid))
    return GrantStatus.general_error;
  let next = flags | GrantFlags.reading;
  if (!readonly) {
    if (flags & GrantFlags.readonly) return GrantStatus.general_error;
    next |= GrantFlags.writing;
  }
  setEntryFlags(machine, gt, ref, next);
  return GrantStatus.okay;
}

/** reduce_status_for_pin: clears GTF_reading / GTF_writing once no pin needs them. */
function reduceStatusForPin(
  machine: Machine,
  gt: GrantTable,
  ref: number,
  act: ActiveGrant,
  readonly: boolean,
): void {
  let clear = act.pin ? 0 : GrantFlags.reading;
  if (!readonly && !(act.pin & (GntPin.hstwMask | GntPin.devwMask))) clear |= GrantFlags.writing;
  if (clear) setEntryFlags(machine, gt, ref, entryFlags(machine, gt, ref) & ~clear);
}

// ---------------------------------------------------------------- setup_table, query_size

/**
 * The frame-list ops, setup_table and get_status_frames (Xen 4.19): one op (count 1, else
 * −EINVAL) naming a domain and a guest array of frames; the array passes
 * guest_handle_okay before the domain lookup (−EFAULT); then bad_domain, XSM's
 * permission_denied, or the status `frames` gives; the status is written back.
 */
function frameListOp(
  ctx: HypercallContext,
  uop: bigint,
  count: number,
  def: StructDef,
  frames: (d: Domain, nr: number, list: bigint) => number,
): number {
  if (count !== 1) return -Errno.EINVAL;
  const layout = def.layout(ctx.machine.arch.dataModel);
  if (readGuestStruct(ctx.vcpu, uop, layout, buf) !== 0) return -Errno.EFAULT;
  const nr = layout.getNumber(buf.view, 0, "nr_frames");
  const list = layout.getBigInt(buf.view, 0, "frame_list");
  if (ctx.machine.arch.guestAccessOk?.(ctx.domain, list, BigInt(8 * nr)) === false)
    return -Errno.EFAULT;
  const d = ctx.machine.findDomain(layout.getNumber(buf.view, 0, "dom"), ctx.domain);
  let status: number;
  if (!d) status = GrantStatus.bad_domain;
  else if (ctx.machine.xsm.grant("setup", ctx.domain, d) !== 0)
    status = GrantStatus.permission_denied;
  else status = frames(d, nr, list);
  layout.set(buf.view, 0, "status", status);
  return writeGuestField(ctx.vcpu, uop, layout, buf, "status") === 0 ? 0 : -Errno.EFAULT;
}

function setupTable(ctx: HypercallContext, uop: bigint, count: number): number {
  return frameListOp(ctx, uop, count, GNTTAB_SETUP_TABLE, (d, nr, list) => {
    const gt = grantTableOf(ctx.machine, d);
    if (!gt || nr > gt.maxFrames || !growGrantTable(ctx.machine, d, gt, nr))
      return GrantStatus.general_error;
    // xen_pfn_t entries: 4 bytes for a 32-bit guest (compat setup_table), else 8.
    const w = ctx.machine.arch.dataModel.xenPfn;
    for (let i = 0; i < nr; i++) {
      // gnttab_shared_gfn: the MFN (translated guests map frames with add_to_physmap instead).
      const at = list + BigInt(w * i);
      const rc =
        w === 4
          ? writeGuestU32(ctx.vcpu, at, gt.frames[i])
          : writeGuestU64(ctx.vcpu, at, BigInt(gt.frames[i]));
      if (rc !== 0) return GrantStatus.bad_virt_addr;
    }
    return GrantStatus.okay;
  });
}

function querySize(ctx: HypercallContext, uop: bigint, count: number): number {
  if (count !== 1) return -Errno.EINVAL;
  const layout = GNTTAB_QUERY_SIZE.layout(ctx.machine.arch.dataModel);
  if (readGuestStruct(ctx.vcpu, uop, layout, buf) !== 0) return -Errno.EFAULT;
  const d = ctx.machine.findDomain(layout.getNumber(buf.view, 0, "dom"), ctx.domain);
  if (!d) layout.set(buf.view, 0, "status", GrantStatus.bad_domain);
  else if (ctx.machine.xsm.grant("query_size", ctx.domain, d) !== 0)
    layout.set(buf.view, 0, "status", GrantStatus.permission_denied);
  else {
    const gt = grantTableOf(ctx.machine, d);
    if (!gt) layout.set(buf.view, 0, "status", GrantStatus.general_error);
    else {
      layout.set(buf.view, 0, "nr_frames", gt.frames.length);
      layout.set(buf.view, 0, "max_nr_frames", gt.maxFrames);
      layout.set(buf.view, 0, "status", GrantStatus.okay);
    }
  }
  return writeGuestStruct(ctx.vcpu, uop, layout, buf) === 0 ? 0 : -Errno.EFAULT;
}

// ---------------------------------------------------------------- map_grant_ref

/** map_grant_ref for the op decoded in `buf`: fills status, handle, dev_bus_addr. */
function mapOne(ctx: HypercallContext, layout: StructLayout): void {
  const { machine, domain: ld } = ctx;
  const ft = machine.memory.frameTable;
  const flags = layout.getNumber(buf.view, 0, "flags");
  const ref = layout.getNumber(buf.view, 0, "ref");
  const dom = layout.getNumber(buf.view, 0, "dom");
  const hostAddr = layout.getBigInt(buf.view, 0, "host_addr");
  const readonly = (flags & GNTMAP_READONLY) !== 0;
  const setStatusField = (s: number): void => layout.set(buf.view, 0, "status", s);

  let pinIncr = 0;
  if (flags & GNTMAP_DEVICE_MAP) pinIncr += readonly ? GntPin.devrInc : GntPin.devwInc;
  if (flags & GNTMAP_HOST_MAP) pinIncr += readonly ? GntPin.hstrInc : GntPin.hstwInc;
  if (pinIncr === 0) return setStatusField(GrantStatus.bad_gntref);

  const rd = domainById(machine, dom);
  if (!rd) return setStatusField(GrantStatus.bad_domain);
  if (machine.xsm.grant("mapref", ld, rd) !== 0)
    return setStatusField(GrantStatus.permission_denied);
  const lgt = grantTableOf(machine, ld);
  const rgt = grantTableOf(machine, rd);
  if (!lgt || !rgt) return setStatusField(GrantStatus.general_error);
  const handle = lgt.takeHandle();
  if (handle < 0) return setStatusField(GrantStatus.no_space);
  if (ref >= rgt.nrEntries) return setStatusField(GrantStatus.bad_gntref);

  const act = rgt.activeEntry(ref);
  if (act.pin !== 0 && (act.domid !== ld.id || pinWouldOverflow(act.pin, pinIncr)))
    return setStatusField(GrantStatus.general_error);

  let refcnt = 0;
  if (act.pin === 0 || (!readonly && !(act.pin & (GntPin.hstwMask | GntPin.devwMask)))) {
    const rc = setStatus(machine, rgt, ref, act, readonly, true, ld.id);
    if (rc !== GrantStatus.okay) return setStatusField(rc);
    if (act.pin === 0) {
      const gfn = machine.memory.read32(rgt.entryAddress(ref) + 4);
      const mfn = getPagedFrame(machine, rd, gfn);
      if (mfn < 0) {
        reduceStatusForPin(machine, rgt, ref, act, readonly);
        return setStatusField(GrantStatus.bad_page);
      }
      refcnt = 1;
      act.domid = ld.id;
      act.mfn = mfn;
    }
  }
  act.pin += pinIncr;
  const mfn = act.mfn;

  // page_get_owner_and_reference when the frame was pinned already.
  if (refcnt === 0 && ft.owner[mfn] === rd.id) {
    ft.refCount[mfn]++;
    refcnt = 1;
  }
  let typecnt = 0;
  let hostMapped = false;
  let rc: number = GrantStatus.okay;
  if (refcnt === 0) rc = GrantStatus.general_error;
  if (rc === GrantStatus.okay && flags & GNTMAP_DEVICE_MAP && !readonly) {
    if (getWritable(machine, mfn)) typecnt++;
    else rc = GrantStatus.general_error;
  }
  if (rc === GrantStatus.okay && flags & GNTMAP_HOST_MAP) {
    if (flags & GNTMAP_DEVICE_MAP) {
      if (ft.owner[mfn] === rd.id) {
        ft.refCount[mfn]++;
        refcnt++;
      } else rc = GrantStatus.general_error;
    }
    if (rc === GrantStatus.okay && !readonly) {
      if (getWritable(machine, mfn)) typecnt++;
      else rc = GrantStatus.general_error;
    }
    if (rc === GrantStatus.okay) {
      rc =
        machine.arch.createGrantHostMapping?.(ctx.vcpu, hostAddr, mfn, flags) ??
        GrantStatus.general_error;
      hostMapped = rc === GrantStatus.okay;
    }
  }
  if (rc !== GrantStatus.okay) {
    if (hostMapped) machine.arch.replaceGrantHostMapping?.(ctx.vcpu, hostAddr, mfn, 0n, flags);
    while (typecnt-- > 0) putWritable(machine, mfn);
    while (refcnt-- > 0) putFrame(machine, mfn);
    act.pin -= pinIncr;
    reduceStatusForPin(machine, rgt, ref, act, readonly);
    return setStatusField(rc);
  }
  const mt = lgt.maptrack[handle];
  mt.domid = dom;
  mt.ref = ref;
  mt.mfn = mfn;
  mt.flags = flags;
  layout.set(buf.view, 0, "dev_bus_addr", BigInt(mfn) * BigInt(machine.memory.pageSize));
  layout.set(buf.view, 0, "handle", handle);
  setStatusField(GrantStatus.okay);
}

function mapGrantRef(ctx: HypercallContext, uop: bigint, count: number): number {
  const layout = GNTTAB_MAP_GRANT_REF.layout(ctx.machine.arch.dataModel);
  for (let i = 0; i < count; i++) {
    const at = uop + BigInt(i * layout.size);
    if (readGuestStruct(ctx.vcpu, at, layout, buf) !== 0) return -Errno.EFAULT;
    mapOne(ctx, layout);
    if (writeGuestStruct(ctx.vcpu, at, layout, buf) !== 0) return -Errno.EFAULT;
  }
  return 0;
}

// ---------------------------------------------------------------- unmap_grant_ref

/**
 * unmap_common + unmap_common_complete for the op in `buf` (an unmap_grant_ref, or with
 * `replace` an unmap_and_replace: no device half, new_addr moves into host_addr); sets
 * its status.
 */
function unmapOne(ctx: HypercallContext, layout: StructLayout, replace: boolean): void {
  const { machine, domain: ld } = ctx;
  const handle = layout.getNumber(buf.view, 0, "handle");
  const hostAddr = layout.getBigInt(buf.view, 0, "host_addr");
  const devBusAddr = replace ? 0n : layout.getBigInt(buf.view, 0, "dev_bus_addr");
  const newAddr = replace ? layout.getBigInt(buf.view, 0, "new_addr") : 0n;
  const setStatusField = (s: number): void => layout.set(buf.view, 0, "status", s);
  const lgt = grantTableOf(machine, ld);
  if (!lgt || handle >= lgt.maptrack.length || lgt.maptrack[handle].flags === 0)
    return setStatusField(GrantStatus.bad_handle);
  const map = lgt.maptrack[handle];
  // A granter destroyed while this mapping lived kept the frame (destroyDomain), as Xen
  // keeps a dying domain until its last mapped page is released, so the unmap is an
  // ordinary one; only the pins went with the granter's table.
  const rd = domainById(machine, map.domid);
  if (rd && machine.xsm.grant("unmapref", ld, rd) !== 0)
    return setStatusField(GrantStatus.permission_denied);
  const rgt = rd ? grantTableOf(machine, rd) : null;
  if (rd && (!rgt || map.ref >= rgt.nrEntries)) return setStatusField(GrantStatus.bad_handle);
  const ref = map.ref;
  const act = rgt ? rgt.activeEntry(ref) : null;
  const flags = map.flags;
  const mfn = act ? act.mfn : map.mfn;
  const pageSize = BigInt(machine.memory.pageSize);
  if (devBusAddr !== 0n && flags & GNTMAP_DEVICE_MAP && devBusAddr !== BigInt(mfn) * pageSize)
    return setStatusField(GrantStatus.bad_dev_addr);
  let done = 0;
  if (hostAddr !== 0n && flags & GNTMAP_HOST_MAP) {
    const rc =
      machine.arch.replaceGrantHostMapping?.(ctx.vcpu, hostAddr, mfn, newAddr, flags) ??
      GrantStatus.general_error;
    if (rc < 0) return setStatusField(rc);
    map.flags &= ~GNTMAP_HOST_MAP;
    done |= GNTMAP_HOST_MAP;
  }
  if (devBusAddr !== 0n && flags & GNTMAP_DEVICE_MAP) {
    map.flags &= ~GNTMAP_DEVICE_MAP;
    done |= GNTMAP_DEVICE_MAP;
  }
  if (!(map.flags & (GNTMAP_DEVICE_MAP | GNTMAP_HOST_MAP))) map.flags = 0;
  setStatusField(GrantStatus.okay);

  // unmap_common_complete
  const readonly = (flags & GNTMAP_READONLY) !== 0;
  if (done & GNTMAP_DEVICE_MAP) {
    if (!readonly) putWritable(machine, mfn);
    putFrame(machine, mfn);
    if (act) act.pin -= readonly ? GntPin.devrInc : GntPin.devwInc;
  }
  if (done & GNTMAP_HOST_MAP) {
    if (!readonly) putWritable(machine, mfn);
    putFrame(machine, mfn);
    if (act) act.pin -= readonly ? GntPin.hstrInc : GntPin.hstwInc;
  }
  if (done && act && rgt) reduceStatusForPin(machine, rgt, ref, act, readonly);
}

function unmapGrantRef(
  ctx: HypercallContext,
  uop: bigint,
  count: number,
  replace: boolean,
): number {
  if (replace && !ctx.machine.arch.replaceGrantHostMapping) return -Errno.ENOSYS;
  const def = replace ? GNTTAB_UNMAP_AND_REPLACE : GNTTAB_UNMAP_GRANT_REF;
  const layout = def.layout(ctx.machine.arch.dataModel);
  for (let i = 0; i < count; i++) {
    const at = uop + BigInt(i * layout.size);
    if (readGuestStruct(ctx.vcpu, at, layout, buf) !== 0) return -Errno.EFAULT;
    unmapOne(ctx, layout, replace);
    if (writeGuestField(ctx.vcpu, at, layout, buf, "status") !== 0) return -Errno.EFAULT;
  }
  return 0;
}

// ---------------------------------------------------------------- copy

/** One end of a copy while it is claimed (struct gnttab_copy_buf). */
interface CopyEnd {
  domain: Domain | null;
  mfn: number;
  haveGrant: boolean;
  haveType: boolean;
  ref: number;
}

function newEnd(): CopyEnd {
  return { domain: null, mfn: -1, haveGrant: false, haveType: false, ref: 0 };
}

/** acquire_grant_for_copy (v1): pins `gref` of `rd` for `ldom`; sets end.mfn with a reference. */
function acquireForCopy(
  machine: Machine,
  rd: Domain,
  gref: number,
  ldom: number,
  readonly: boolean,
  end: CopyEnd,
): number {
  const ft = machine.memory.frameTable;
  const rgt = grantTableOf(machine, rd);
  if (!rgt) return GrantStatus.general_error;
  if (gref >= rgt.nrEntries) return GrantStatus.bad_gntref;
  const act = rgt.activeEntry(gref);
  const pinIncr = readonly ? GntPin.hstrInc : GntPin.hstwInc;
  if (act.pin !== 0 && (act.domid !== ldom || pinWouldOverflow(act.pin, pinIncr)))
    return GrantStatus.general_error;
  const oldPin = act.pin;
  let mfn: number;
  if (oldPin === 0 || (!readonly && !(oldPin & (GntPin.devwMask | GntPin.hstwMask)))) {
    const rc = setStatus(machine, rgt, gref, act, readonly, false, ldom);
    if (rc !== GrantStatus.okay) return rc;
    mfn = getPagedFrame(machine, rd, machine.memory.read32(rgt.entryAddress(gref) + 4));
    if (mfn < 0) {
      reduceStatusForPin(machine, rgt, gref, act, readonly);
      return GrantStatus.bad_page;
    }
    if (act.pin === 0) {
      act.domid = ldom;
      act.mfn = mfn;
    } else if (act.mfn !== mfn) {
      putFrame(machine, mfn);
      reduceStatusForPin(machine, rgt, gref, act, readonly);
      return GrantStatus.general_error;
    }
  } else {
    mfn = act.mfn;
    if (ft.owner[mfn] !== rd.id || rd.state === DomainState.Dying) {
      reduceStatusForPin(machine, rgt, gref, act, readonly);
      return GrantStatus.bad_domain;
    }
    ft.refCount[mfn]++;
  }
  act.pin += pinIncr;
  end.mfn = mfn;
  end.haveGrant = true;
  end.ref = gref;
  return GrantStatus.okay;
}

/** release_grant_for_copy + the page and type references (gnttab_copy_release_buf). */
function releaseEnd(machine: Machine, end: CopyEnd, readonly: boolean): void {
  if (end.haveGrant && end.domain) {
    const rgt = grantTableOf(machine, end.domain);
    if (rgt) {
      const act = rgt.activeEntry(end.ref);
      act.pin -= readonly ? GntPin.hstrInc : GntPin.hstwInc;
      reduceStatusForPin(machine, rgt, end.ref, act, readonly);
    }
  }
  if (end.haveType) putWritable(machine, end.mfn);
  if (end.mfn >= 0) putFrame(machine, end.mfn);
  end.haveGrant = false;
  end.haveType = false;
  end.mfn = -1;
}

function copyOne(ctx: HypercallContext, layout: StructLayout, src: CopyEnd, dst: CopyEnd): number {
  const { machine } = ctx;
  const v = buf.view;
  const len = layout.getNumber(v, 0, "len");
  if (len === 0) return GrantStatus.okay;
  const flags = layout.getNumber(v, 0, "flags");
  const ends: [CopyEnd, string, number][] = [
    [src, "source", GNTCOPY_SOURCE_GREF],
    [dst, "dest", GNTCOPY_DEST_GREF],
  ];
  // gnttab_copy_lock_domains
  for (const [end, name, flag] of ends) {
    const domid = layout.getNumber(v, 0, `${name}.domid`);
    if (domid !== DOMID_SELF && !(flags & flag)) return GrantStatus.permission_denied;
    end.domain = machine.findDomain(domid, ctx.domain);
    if (!end.domain) return GrantStatus.bad_domain;
  }
  if (src.domain && dst.domain && machine.xsm.grant("copy", src.domain, dst.domain) !== 0)
    return GrantStatus.permission_denied;
  // gnttab_copy_claim_buf
  for (const [end, name, flag] of ends) {
    const readonly = end === src;
    const d = end.domain as Domain;
    if (flags & flag) {
      const ref = layout.getNumber(v, 0, `${name}.u.ref`);
      const rc = acquireForCopy(machine, d, ref, ctx.domain.id, readonly, end);
      if (rc !== GrantStatus.okay) return rc;
    } else {
      const gmfn = layout.getBigInt(v, 0, `${name}.u.gmfn`);
      const mfn = gmfn < 0x80000000n ? getPagedFrame(machine, d, Number(gmfn)) : -1;
      if (mfn < 0) return GrantStatus.bad_page;
      end.mfn = mfn;
    }
    if (!readonly) {
      if (!getWritable(machine, end.mfn)) return GrantStatus.general_error;
      end.haveType = true;
    }
  }
  // gnttab_copy_buf
  const pageSize = machine.memory.pageSize;
  const so = layout.getNumber(v, 0, "source.offset");
  const dof = layout.getNumber(v, 0, "dest.offset");
  if (so + len > pageSize || dof + len > pageSize) return GrantStatus.bad_copy_arg;
  const from = src.mfn * pageSize + so;
  const to = dst.mfn * pageSize + dof;
  machine.memory.bytes.copyWithin(to, from, from + len);
  machine.arch.onMemoryWritten?.(machine, to, len);
  return GrantStatus.okay;
}

function copy(ctx: HypercallContext, uop: bigint, count: number): number {
  const layout = GNTTAB_COPY.layout(ctx.machine.arch.dataModel);
  const src = newEnd();
  const dst = newEnd();
  for (let i = 0; i < count; i++) {
    const at = uop + BigInt(i * layout.size);
    if (readGuestStruct(ctx.vcpu, at, layout, buf) !== 0) return -Errno.EFAULT;
    const rc = copyOne(ctx, layout, src, dst);
    releaseEnd(ctx.machine, src, true);
    releaseEnd(ctx.machine, dst, false);
    layout.set(buf.view, 0, "status", rc);
    if (writeGuestField(ctx.vcpu, at, layout, buf, "status") !== 0) return -Errno.EFAULT;
  }
  return 0;
}

// ---------------------------------------------------------------- transfer

/** True when `mfn` is a hypervisor frame shared with `d` (its grant table or shared_info). */
function sharedXenFrame(machine: Machine, d: Domain, mfn: number): boolean {
  if (mfn === d.sharedInfoMfn) return true;
  const gt = grantTableOf(machine, d);
  return gt !== null && gt.frames.includes(mfn);
}

function transferOne(ctx: HypercallContext, layout: StructLayout): number {
  const { machine, domain: d } = ctx;
  const ft = machine.memory.frameTable;
  const v = buf.view;
  const gfn = layout.getBigInt(v, 0, "mfn");
  // get_gfn_unshare + steal_page's checks: a page the caller owns with no other use.
  let mfn = -1;
  let pfn = -1;
  if (gfn < 0x80000000n) {
    const g = Number(gfn);
    if (translated(d)) {
      mfn = g < d.p2m.length ? d.p2m[g] : -1;
      pfn = g;
    } else {
      mfn = g < ft.frames ? g : -1;
      if (mfn >= 0) pfn = d.p2m.indexOf(mfn);
    }
  }
  if (mfn < 0 || mfn >= ft.frames) return GrantStatus.bad_page;
  if (
    ft.owner[mfn] !== d.id ||
    ft.refCount[mfn] !== 0 ||
    ft.typeCount[mfn] !== 0 ||
    sharedXenFrame(machine, d, mfn)
  )
    return GrantStatus.bad_page;
  const e = domainById(machine, layout.getNumber(v, 0, "domid"));
  if (!e) return GrantStatus.bad_domain;
  if (machine.xsm.grant("transfer", d, e) !== 0) return GrantStatus.permission_denied;
  // Xen steals the page (tot_pages − 1) before this headroom check, so a domain at its
  // limit may still transfer a page to itself.
  const receiverPages = e === d ? e.totPages - 1 : e.totPages;
  if (e.isDead || receiverPages >= e.maxPages) return GrantStatus.general_error;
  // gnttab_prepare_for_transfer
  const egt = grantTableOf(machine, e);
  const ref = layout.getNumber(v, 0, "ref");
  if (!egt || ref >= egt.nrEntries) return GrantStatus.general_error;
  const pa = egt.entryAddress(ref);
  if (
    machine.memory.read16(pa) !== GrantFlags.accept_transfer ||
    machine.memory.read16(pa + 2) !== d.id
  )
    return GrantStatus.general_error;
  setEntryFlags(machine, egt, ref, GrantFlags.accept_transfer | GTF_TRANSFER_COMMITTED);
  // steal_page + guest_physmap_remove_page
  if (pfn >= 0 && pfn < d.p2m.length && d.p2m[pfn] === mfn) d.p2m[pfn] = -1;
  d.totPages--;
  // assign_pages + guest_physmap_add_page
  ft.owner[mfn] = e.id;
  e.totPages++;
  // guest_physmap_add_page (x86 mm/physmap.c): a translated receiver's p2m; for a PV one
  // the M2P entry (set_gpfn_from_mfn, which cannot fail), and the MFN in the entry.
  const frame = machine.memory.read32(pa + 4);
  let status: number = GrantStatus.okay;
  if (translated(e)) {
    if (physmapAdd(machine, e, frame, mfn, 0) !== 0) status = GrantStatus.general_error;
  } else {
    m2pSet(machine, mfn, frame);
    machine.memory.write32(pa + 4, mfn);
  }
  setEntryFlags(
    machine,
    egt,
    ref,
    GrantFlags.accept_transfer | GTF_TRANSFER_COMMITTED | GTF_TRANSFER_COMPLETED,
  );
  machine.arch.onMemoryWritten?.(machine, pa, 8);
  return status;
}

function transfer(ctx: HypercallContext, uop: bigint, count: number): number {
  const layout = GNTTAB_TRANSFER.layout(ctx.machine.arch.dataModel);
  for (let i = 0; i < count; i++) {
    const at = uop + BigInt(i * layout.size);
    if (readGuestStruct(ctx.vcpu, at, layout, buf) !== 0) return -Errno.EFAULT;
    layout.set(buf.view, 0, "status", transferOne(ctx, layout));
    if (writeGuestField(ctx.vcpu, at, layout, buf, "status") !== 0) return -Errno.EFAULT;
  }
  return 0;
}

// ---------------------------------------------------------------- versions

function setVersion(ctx: HypercallContext, uop: bigint): number {
  const layout = GNTTAB_SET_VERSION.layout(ctx.machine.arch.dataModel);
  if (readGuestStruct(ctx.vcpu, uop, layout, buf) !== 0) return -Errno.EFAULT;
  const version = layout.getNumber(buf.view, 0, "version");
  let rc = 0;
  if (version !== 1 && version !== 2) rc = -Errno.EINVAL;
  else if (version === 2) rc = -Errno.ENOSYS;
  layout.set(buf.view, 0, "version", 1);
  return writeGuestStruct(ctx.vcpu, uop, layout, buf) === 0 ? rc : -Errno.EFAULT;
}

function getVersion(ctx: HypercallContext, uop: bigint): number {
  const layout = GNTTAB_GET_VERSION.layout(ctx.machine.arch.dataModel);
  if (readGuestStruct(ctx.vcpu, uop, layout, buf) !== 0) return -Errno.EFAULT;
  const d = ctx.machine.findDomain(layout.getNumber(buf.view, 0, "dom"), ctx.domain);
  if (!d) return -Errno.ESRCH;
  const denied = ctx.machine.xsm.grant("query_size", ctx.domain, d);
  if (denied !== 0) return denied;
  layout.set(buf.view, 0, "version", 1);
  return writeGuestField(ctx.vcpu, uop, layout, buf, "version") === 0 ? 0 : -Errno.EFAULT;
}

/**
 * The layout of the array `uop` points to for the ops do_grant_table_op checks with
 * guest_handle_okay(uop, count) before running (−EFAULT even for count 0); null for others.
 */
function arrayLayout(cmd: number, machine: Machine): StructLayout | null {
  const model = machine.arch.dataModel;
  switch (cmd) {
    case GrantTableOp.map_grant_ref:
      return GNTTAB_MAP_GRANT_REF.layout(model);
    case GrantTableOp.unmap_grant_ref:
      return GNTTAB_UNMAP_GRANT_REF.layout(model);
    case GrantTableOp.unmap_and_replace:
      return GNTTAB_UNMAP_AND_REPLACE.layout(model);
    case GrantTableOp.transfer:
      return GNTTAB_TRANSFER.layout(model);
    case GrantTableOp.copy:
      return GNTTAB_COPY.layout(model);
    case GrantTableOp.swap_grant_ref:
      return GNTTAB_SWAP_GRANT_REF.layout(model);
    default:
      return null;
  }
}

/**
 * Xen's gnttab_release_mappings, for a domain being destroyed: each map handle it still
 * holds gives back its pins, the frame references and writable type references its host
 * and device halves took, and the granter's GTF_reading / GTF_writing are reduced, so the
 * granter can end foreign access and give the page back. The mappings themselves go with
 * the dying domain's address space. Called by the machine's destroyDomain.
 */
export function grantReleaseMappings(machine: Machine, domain: Domain): void {
  const lgt = existingGrantTable(domain);
  if (!lgt) return;
  for (const map of lgt.maptrack) {
    if (map.flags === 0) continue;
    const rd = domainById(machine, map.domid);
    const rgt = rd ? existingGrantTable(rd) : undefined;
    const act = rgt && map.ref < rgt.nrEntries ? rgt.activeEntry(map.ref) : null;
    // Without the granter (destroyed before), only the frame references remain.
    const mfn = act ? act.mfn : map.mfn;
    const readonly = (map.flags & GNTMAP_READONLY) !== 0;
    if (mfn >= 0) {
      if (map.flags & GNTMAP_DEVICE_MAP) {
        if (!readonly) putWritable(machine, mfn);
        putFrame(machine, mfn);
        if (act) act.pin -= readonly ? GntPin.devrInc : GntPin.devwInc;
      }
      if (map.flags & GNTMAP_HOST_MAP) {
        if (!readonly) putWritable(machine, mfn);
        putFrame(machine, mfn);
        if (act) act.pin -= readonly ? GntPin.hstrInc : GntPin.hstwInc;
      }
    }
    if (act && rgt) reduceStatusForPin(machine, rgt, map.ref, act, readonly);
    map.flags = 0;
  }
}

// ---------------------------------------------------------------- status frames, swap

/** gnttab_get_status_frames (Xen 4.19) for a v1 table, which has no status frames. */
function getStatusFrames(ctx: HypercallContext, uop: bigint, count: number): number {
  // nr_status_frames(v1) is 0: asking for any is general_error.
  return frameListOp(ctx, uop, count, GNTTAB_GET_STATUS_FRAMES, (_d, nr) =>
    nr > 0 ? GrantStatus.general_error : GrantStatus.okay,
  );
}

/** swap_grant_ref (Xen 4.19) on the caller's v1 table: a GNTST_* status. */
function swapOne(machine: Machine, d: Domain, refA: number, refB: number): number {
  const gt = grantTableOf(machine, d);
  if (!gt) return GrantStatus.general_error;
  if (refA >= gt.nrEntries || refB >= gt.nrEntries) return GrantStatus.bad_gntref;
  if (refA === refB) return GrantStatus.okay;
  if ((gt.active.get(refA)?.pin ?? 0) !== 0 || (gt.active.get(refB)?.pin ?? 0) !== 0)
    return GrantStatus.eagain;
  const a = gt.entryAddress(refA);
  const b = gt.entryAddress(refB);
  const bytes = machine.memory.bytes;
  const saved = bytes.slice(a, a + GRANT_ENTRY_V1_SIZE);
  bytes.copyWithin(a, b, b + GRANT_ENTRY_V1_SIZE);
  bytes.set(saved, b);
  machine.arch.onMemoryWritten?.(machine, a, GRANT_ENTRY_V1_SIZE);
  machine.arch.onMemoryWritten?.(machine, b, GRANT_ENTRY_V1_SIZE);
  return GrantStatus.okay;
}

function swapGrantRef(ctx: HypercallContext, uop: bigint, count: number): number {
  const layout = GNTTAB_SWAP_GRANT_REF.layout(ctx.machine.arch.dataModel);
  for (let i = 0; i < count; i++) {
    const at = uop + BigInt(i * layout.size);
    if (readGuestStruct(ctx.vcpu, at, layout, buf) !== 0) return -Errno.EFAULT;
    const refA = layout.getNumber(buf.view, 0, "ref_a");
    const refB = layout.getNumber(buf.view, 0, "ref_b");
    layout.set(buf.view, 0, "status", swapOne(ctx.machine, ctx.domain, refA, refB));
    if (writeGuestField(ctx.vcpu, at, layout, buf, "status") !== 0) return -Errno.EFAULT;
  }
  return 0;
}

/** HYPERVISOR_grant_table_op(cmd, uop, count). */
export function grantTableOp(ctx: HypercallContext, args: HypercallArgs): number {
  const rawCmd = args.u32(0);
  const uop = args.u64(1);
  const count = args.i32(2);
  if (count < 0) return -Errno.EINVAL;
  const cmd = rawCmd & CMD_MASK;
  if (rawCmd !== cmd && cmd !== GrantTableOp.cache_flush) return -Errno.EINVAL;
  const array = arrayLayout(cmd, ctx.machine);
  if (
    array !== null &&
    ctx.machine.arch.guestAccessOk?.(ctx.domain, uop, BigInt(count) * BigInt(array.size)) === false
  )
    return -Errno.EFAULT;
  switch (cmd) {
    case GrantTableOp.setup_table:
      return setupTable(ctx, uop, count);
    case GrantTableOp.query_size:
      return querySize(ctx, uop, count);
    case GrantTableOp.map_grant_ref:
      return mapGrantRef(ctx, uop, count);
    case GrantTableOp.unmap_grant_ref:
      return unmapGrantRef(ctx, uop, count, false);
    case GrantTableOp.unmap_and_replace:
      return unmapGrantRef(ctx, uop, count, true);
    case GrantTableOp.copy:
      return copy(ctx, uop, count);
    case GrantTableOp.transfer:
      return transfer(ctx, uop, count);
    case GrantTableOp.set_version:
      return setVersion(ctx, uop);
    case GrantTableOp.get_version:
      return getVersion(ctx, uop);
    case GrantTableOp.get_status_frames:
      return getStatusFrames(ctx, uop, count);
    case GrantTableOp.swap_grant_ref:
      return swapGrantRef(ctx, uop, count);
    default:
      return -Errno.ENOSYS;
  }
}

/** The grant_table_op row of the hypercall table. */
export const GRANT_TABLE_OP_ENTRY: HypercallEntry = {
  number: Hypercall.grant_table_op,
  name: "grant_table_op",
  handler: grantTableOp,
  modes: ["pv", "hvm-vmx", "hvm-svm", "vt-i", "hv"],
  xsm: "grant",
};
