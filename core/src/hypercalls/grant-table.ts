/**
 * grant_table_op (xen/common/grant_table.c `do_grant_table_op`, Xen 4.19), for v1 and v2
 * tables.
 *
 * - setup_table / query_size: grow and list the caller's table (XSM_TARGET for another
 *   domain's); a v2 table grows its status frames with it. A frame_list the arch's
 *   `guestAccessOk` refuses is −EFAULT before anything else (guest_handle_okay); one that
 *   faults while written is GNTST_bad_virt_addr.
 * - map_grant_ref: pins a grant of another domain (or the caller's own) for host and/or
 *   device access. Most failures are reported in the op's `status` (GNTST_*), not in the
 *   hypercall's return. The granter's entry must say permit_access for the caller's domid
 *   (else GNTST_general_error, as Xen's _set_status_v1/_v2 — not permission_denied,
 *   which is the XSM answer); sub-page and transitive grants cannot be mapped, nor can an
 *   entry already pinned as one (general_error); a read-only grant refuses writable maps
 *   (general_error). While pinned, GTF_reading (and GTF_writing for writable pins) is set
 *   — in the entry's flags in v1, in its grant_status_t in v2 — and cleared when the last
 *   such pin goes. Each map holds a general reference on the frame (two with host and
 *   device), and a writable type reference per writable host or device map, through the
 *   arch (`ArchPlugin.getWritableFrame`).
 * - unmap_grant_ref: by handle; host_addr 0 and dev_bus_addr 0 skip that half.
 *   unmap_and_replace: the host half only, moving the mapping at new_addr into its slot
 *   (−ENOSYS when the arch cannot replace host mappings). Unmapping the last mapping of a
 *   frame whose granter was destroyed meanwhile gives the frame back to the free pool.
 * - copy: either end by grant reference (any domain) or by frame (DOMID_SELF only);
 *   offsets and length must stay within a page (GNTST_bad_copy_arg) and within what the
 *   grant gives: a v2 sub-page grant's [page_off, page_off + length), else
 *   general_error. A v2 transitive grant (gnttab=transitive, on by default) is copied
 *   through the grant it names, which must be granted to the transitive grant's owner
 *   and may not itself be transitive; both are pinned for the copy.
 * - transfer: gives a page the caller owns (no other references) to a domain that has
 *   an accept-transfer entry for the caller. Unlike Xen, which takes the page first and
 *   loses it on a later failure, hvkit checks the receiver first, so a failed transfer
 *   leaves the page with the caller.
 * - map, unmap, unmap_and_replace, transfer, copy and swap_grant_ref first check their
 *   array with the arch's `guestAccessOk` (guest_handle_okay): −EFAULT, even for count 0.
 * - set_version: 1 or 2 (else −EINVAL); 2 when the domain's max version (createdomain's
 *   grant_opts) is 1 is −ENOSYS; the version in use is a no-op. A switch fails with
 *   −EBUSY while an entry at or past GNTTAB_NR_RESERVED_ENTRIES (8) is pinned; to v2 it
 *   allocates the status frames (−ENOMEM); back to v1 it refuses with −ERANGE a reserved
 *   entry v1 cannot hold (a frame above 32 bits, a transitive grant) and with −EBUSY
 *   while a status frame is still referenced (mapped by the guest, XSA-255; a translated
 *   guest, which has the frames unhooked from its p2m first, is crashed as well), then
 *   frees them. The table is cleared but for the reserved entries, carried over in the
 *   new format. The version in use is written back in every case. get_version: −ESRCH,
 *   XSM_TARGET's −EPERM, else the version.
 * - get_status_frames: count ≠ 1 −EINVAL, −EFAULT (struct, or a frame_list the arch
 *   refuses), then in status: bad_domain, permission_denied (XSM_TARGET), general_error
 *   when more frames are asked for than the table has (any, for a v1 table), else the
 *   status frames' numbers (as setup_table lists the grant frames).
 * - swap_grant_ref: per op, bad_gntref for a ref past the table, okay for a ref with
 *   itself, eagain while either entry is pinned, else the two entries (and in v2 their
 *   status words) are exchanged.
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
  GNTTAB_NR_RESERVED_ENTRIES,
  GNTTAB_QUERY_SIZE,
  GNTTAB_SET_VERSION,
  GNTTAB_SETUP_TABLE,
  GNTTAB_SWAP_GRANT_REF,
  GNTTAB_TRANSFER,
  GNTTAB_UNMAP_AND_REPLACE,
  GNTTAB_UNMAP_GRANT_REF,
  GRANT_ENTRY_V2,
  GTF_TRANSFER_COMMITTED,
  GTF_TRANSFER_COMPLETED,
} from "../abi/grant-table.js";
import { GrantFlags, GrantStatus, GrantTableOp, GTF_TYPE_MASK, Hypercall } from "../abi/numbers.js";
import { DomainState, ShutdownReason, type Domain } from "../domain.js";
import { Errno } from "../errno.js";
import {
  type ActiveGrant,
  existingGrantTable,
  GntPin,
  GRANT_STATUS_SIZE,
  type GrantTable,
  grantTableOf,
  growGrantTable,
  type MaptrackEntry,
  pinWouldOverflow,
  populateStatusFrames,
  releaseHeldFrame,
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
import { m2pGet, m2pSet, p2mGet, p2mSet, physmapAdd, putFrame, sharedXenFrame } from "../p2m.js";
import { fixedLayout, type StructDef, type StructLayout } from "../structs.js";

export { INITIAL_NR_GRANT_FRAMES, MAX_GRANT_FRAMES, grantTableFrame } from "../grant-table.js";

const DOMID_SELF = 0x7ff0;
/** GNTTABOP_CONTINUATION_ARG_SHIFT: command bits above it are a continuation argument. */
const CMD_MASK = (1 << 12) - 1;
/** GTF_sub_page: refused in entries being mapped. */
const GTF_SUB_PAGE = GrantFlags.sub_page;
/** GTF_reading | GTF_writing: the hypervisor's part of a status word. */
const GTF_IN_USE = GrantFlags.reading | GrantFlags.writing;

/** Byte offsets in entries (fixed-width fields: the same in every data model). */
const V1_FRAME = 4;
const V2 = fixedLayout(GRANT_ENTRY_V2, true);
const V2_FRAME = V2.offsetOf("full_page.frame");
const V2_PAGE_OFF = V2.offsetOf("sub_page.page_off");
const V2_LENGTH = V2.offsetOf("sub_page.length");
const V2_TRANS_DOMID = V2.offsetOf("transitive.trans_domid");
const V2_TRANS_GREF = V2.offsetOf("transitive.gref");

const buf = new StructBuffer(64);

/** A domain by real id, as rcu_lock_domain_by_id (no DOMID_SELF; a destroyed domain is gone). */
function domainById(machine: Machine, id: number): Domain | null {
  const d = machine.domains.get(id);
  return d && d.state !== DomainState.Dying ? d : null;
}

/** The granter of map handle `map`, or null once it has been destroyed. */
function granterOf(map: MaptrackEntry): Domain | null {
  return map.granter && map.granter.state !== DomainState.Dying ? map.granter : null;
}

/** True when `d`'s guest frames go through its p2m (paging_mode_translate). */
function translated(d: Domain): boolean {
  return d.translated;
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

/** The frame entry `ref` names (v1 `frame`, v2 `full_page.frame` / `sub_page.frame`); −1 past 2^53. */
function entryFrame(machine: Machine, gt: GrantTable, ref: number): number {
  const pa = gt.entryAddress(ref);
  if (gt.version === 1) return machine.memory.read32(pa + V1_FRAME);
  const frame = machine.memory.read64(pa + V2_FRAME);
  return frame <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(frame) : -1;
}

/** Writes `frame` into entry `ref`'s frame field (a completed transfer). */
function setEntryFrame(machine: Machine, gt: GrantTable, ref: number, frame: number): void {
  const pa = gt.entryAddress(ref);
  if (gt.version === 1) machine.memory.write32(pa + V1_FRAME, frame);
  else machine.memory.write64(pa + V2_FRAME, BigInt(frame));
  machine.arch.onMemoryWritten?.(machine, pa, gt.entrySize);
}

function write16(machine: Machine, pa: number, value: number): void {
  machine.memory.write16(pa, value);
  machine.arch.onMemoryWritten?.(machine, pa, 2);
}

/**
 * _set_status_v1 / _set_status_v2: checks the entry grants `ldomid` access (unless
 * already pinned: permit_access, or for a v2 copy also transitive; a mapping refuses
 * GTF_sub_page) and sets GTF_reading, plus GTF_writing for a writable use, in the entry's
 * status word. GNTST_okay or general_error (also for a writable use of a read-only grant).
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
  const type = flags & (GTF_TYPE_MASK | (mapping ? GTF_SUB_PAGE : 0));
  const granted =
    type === GrantFlags.permit_access ||
    (gt.version === 2 && !mapping && type === GrantFlags.transitive);
  if (act.pin === 0 && (!granted || domid !== ldomid)) return GrantStatus.general_error;
  if (!readonly && flags & GrantFlags.readonly) return GrantStatus.general_error;
  const sa = gt.statusAddress(ref);
  const set = readonly ? GrantFlags.reading : GTF_IN_USE;
  write16(machine, sa, machine.memory.read16(sa) | set);
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
  if (!clear) return;
  const sa = gt.statusAddress(ref);
  write16(machine, sa, machine.memory.read16(sa) & ~clear);
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

/**
 * Writes `nr` frames of `d`'s table `from` to the guest array at `list`: okay, or
 * bad_virt_addr. gnttab_shared_gfn / gnttab_status_gfn: the machine frame for a PV `d`;
 * for a translated one the guest frame it placed the frame at with XENMEM_add_to_physmap
 * (x86 mfn_to_gfn through the M2P, ARM the xenheap page's gfn), INVALID_GFN (all ones)
 * while it is in no slot of its physmap.
 */
function listFrames(
  ctx: HypercallContext,
  d: Domain,
  from: readonly number[],
  nr: number,
  list: bigint,
  width: number = 8,
): number {
  for (let i = 0; i < nr; i++) {
    let frame = BigInt(from[i]);
    if (translated(d)) {
      const gfn = m2pGet(ctx.machine, from[i]);
      frame = gfn >= 0 && p2mGet(d, gfn) === from[i] ? BigInt(gfn) : (1n << BigInt(8 * width)) - 1n;
    }
    const at = list + BigInt(width * i);
    const rc =
      width === 4 ? writeGuestU32(ctx.vcpu, at, Number(frame)) : writeGuestU64(ctx.vcpu, at, frame);
    if (rc !== 0) return GrantStatus.bad_virt_addr;
  }
  return GrantStatus.okay;
}

function setupTable(ctx: HypercallContext, uop: bigint, count: number): number {
  return frameListOp(ctx, uop, count, GNTTAB_SETUP_TABLE, (d, nr, list) => {
    const gt = grantTableOf(ctx.machine, d);
    if (!gt || nr > gt.maxFrames || !growGrantTable(ctx.machine, d, gt, nr))
      return GrantStatus.general_error;
    // xen_pfn_t entries: 4 bytes for a 32-bit guest (compat setup_table), else 8.
    return listFrames(ctx, d, gt.frames, nr, list, ctx.machine.arch.dataModel.xenPfn);
  });
}

/** gnttab_get_status_frames: the v2 status frames (a v1 table has none). */
function getStatusFrames(ctx: HypercallContext, uop: bigint, count: number): number {
  return frameListOp(ctx, uop, count, GNTTAB_GET_STATUS_FRAMES, (d, nr, list) => {
    const gt = grantTableOf(ctx.machine, d);
    if (!gt || nr > gt.statusFrames.length) return GrantStatus.general_error;
    return listFrames(ctx, d, gt.statusFrames, nr, list);
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
  if (act.pin !== 0 && (act.domid !== ld.id || pinWouldOverflow(act.pin, pinIncr) || act.isSubPage))
    return setStatusField(GrantStatus.general_error);

  let refcnt = 0;
  if (act.pin === 0 || (!readonly && !(act.pin & (GntPin.hstwMask | GntPin.devwMask)))) {
    const rc = setStatus(machine, rgt, ref, act, readonly, true, ld.id);
    if (rc !== GrantStatus.okay) return setStatusField(rc);
    if (act.pin === 0) {
      const mfn = getPagedFrame(machine, rd, entryFrame(machine, rgt, ref));
      if (mfn < 0) {
        reduceStatusForPin(machine, rgt, ref, act, readonly);
        return setStatusField(GrantStatus.bad_page);
      }
      refcnt = 1;
      act.domid = ld.id;
      act.mfn = mfn;
      act.start = 0;
      act.length = machine.memory.pageSize;
      act.isSubPage = false;
      act.srcDomid = rd.id;
      act.transGref = ref;
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
  mt.granter = rd;
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
 * Gives back what the `done` halves (GNTMAP_host_map / GNTMAP_device_map) of a mapping
 * with `flags` held on `mfn`: frame and writable type references, pins on `act` (null:
 * the granter is gone, and the frame is one the hypervisor kept for the mapping).
 */
function releaseHalves(
  machine: Machine,
  mfn: number,
  flags: number,
  done: number,
  act: ActiveGrant | null,
): void {
  const readonly = (flags & GNTMAP_READONLY) !== 0;
  for (const [half, incr] of [
    [GNTMAP_DEVICE_MAP, readonly ? GntPin.devrInc : GntPin.devwInc],
    [GNTMAP_HOST_MAP, readonly ? GntPin.hstrInc : GntPin.hstwInc],
  ] as const) {
    if (!(done & half)) continue;
    if (!readonly) putWritable(machine, mfn);
    putFrame(machine, mfn);
    if (act) act.pin -= incr;
    else releaseHeldFrame(machine, mfn);
  }
}

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
  // A granter destroyed while this mapping lived left the frame with the hypervisor
  // (destroyDomain), as Xen keeps a dying domain until its last mapped page is released,
  // so the unmap is an ordinary one; only the pins went with the granter's table.
  const rd = granterOf(map);
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
  releaseHalves(machine, mfn, flags, done, act);
  if (done && act && rgt)
    reduceStatusForPin(machine, rgt, ref, act, (flags & GNTMAP_READONLY) !== 0);
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
  /** First byte of the page the end may touch (a sub-page grant's offset; else 0). */
  start: number;
  /** Bytes from `start` the end may touch. */
  length: number;
}

function newEnd(): CopyEnd {
  return {
    domain: null,
    mfn: -1,
    haveGrant: false,
    haveType: false,
    ref: 0,
    start: 0,
    length: 0,
  };
}

/** What {@link acquireForCopy} got: the frame (with a reference) and the byte range. */
const acquired = { mfn: -1, start: 0, length: 0 };

/**
 * acquire_grant_for_copy: pins `gref` of `rd` for `ldom` and takes a reference on the
 * frame it names; on GNTST_okay {@link acquired} says which frame and range. A v2
 * transitive grant (when `allowTransitive`) is followed to the grant it names, pinned
 * for `rd`, one level deep.
 */
function acquireForCopy(
  machine: Machine,
  rd: Domain,
  gref: number,
  ldom: number,
  readonly: boolean,
  allowTransitive: boolean,
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
  const needStatus = oldPin === 0 || (!readonly && !(oldPin & (GntPin.devwMask | GntPin.hstwMask)));
  const fail = (rc: number): number => {
    reduceStatusForPin(machine, rgt, gref, act, readonly);
    return rc;
  };
  const pa = rgt.entryAddress(gref);
  const flags = machine.memory.read16(pa);
  if (rgt.version === 2 && (flags & GTF_TYPE_MASK) === GrantFlags.transitive) {
    if (needStatus) {
      const rc = setStatus(machine, rgt, gref, act, readonly, false, ldom);
      if (rc !== GrantStatus.okay) return rc;
    }
    if (!allowTransitive) return fail(GrantStatus.general_error);
    const transDomid = machine.memory.read16(pa + V2_TRANS_DOMID);
    const transGref = machine.memory.read32(pa + V2_TRANS_GREF);
    // Not self-referential; back to the grantee (trans_domid == ldom) is allowed.
    if (transDomid === rd.id) return fail(GrantStatus.general_error);
    const td = domainById(machine, transDomid);
    if (!td) return fail(GrantStatus.general_error);
    const rc = acquireForCopy(machine, td, transGref, rd.id, readonly, false);
    if (rc !== GrantStatus.okay) return fail(rc);
    // Xen re-checks the entry here, having dropped its locks for the nested acquire;
    // nothing runs in between in hvkit.
    if (oldPin === 0) {
      act.domid = ldom;
      act.start = acquired.start;
      act.length = acquired.length;
      act.srcDomid = td.id;
      act.transGref = transGref;
      act.mfn = acquired.mfn;
      // Always a "sub-page" grant, so that it can never be mapped.
      act.isSubPage = true;
    }
  } else if (needStatus) {
    const rc = setStatus(machine, rgt, gref, act, readonly, false, ldom);
    if (rc !== GrantStatus.okay) return rc;
    const mfn = getPagedFrame(machine, rd, entryFrame(machine, rgt, gref));
    if (mfn < 0) return fail(GrantStatus.bad_page);
    const subPage = rgt.version === 2 && (flags & GTF_SUB_PAGE) !== 0;
    if (act.pin === 0) {
      act.domid = ldom;
      act.mfn = mfn;
      act.isSubPage = subPage;
      act.start = subPage ? machine.memory.read16(pa + V2_PAGE_OFF) : 0;
      act.length = subPage ? machine.memory.read16(pa + V2_LENGTH) : machine.memory.pageSize;
      act.srcDomid = rd.id;
      act.transGref = gref;
    } else if (act.mfn !== mfn) {
      // The granter changed the frame while it was pinned: refused (Xen would copy to
      // the pinned frame while holding a reference on the new one).
      putFrame(machine, mfn);
      return fail(GrantStatus.general_error);
    }
  } else {
    const mfn = act.mfn;
    if (ft.owner[mfn] !== rd.id || rd.state === DomainState.Dying)
      return fail(GrantStatus.bad_domain);
    ft.refCount[mfn]++;
  }
  act.pin += pinIncr;
  acquired.mfn = act.mfn;
  acquired.start = act.start;
  acquired.length = act.length;
  return GrantStatus.okay;
}

/** release_grant_for_copy: unpins `gref` of `rd` (and what a transitive grant pinned). */
function releaseForCopy(machine: Machine, rd: Domain, gref: number, readonly: boolean): void {
  const rgt = existingGrantTable(rd);
  if (!rgt) return;
  const act = rgt.activeEntry(gref);
  const td = rgt.version === 2 && act.srcDomid !== rd.id ? machine.domains.get(act.srcDomid) : rd;
  act.pin -= readonly ? GntPin.hstrInc : GntPin.hstwInc;
  reduceStatusForPin(machine, rgt, gref, act, readonly);
  if (td && td !== rd) releaseForCopy(machine, td, act.transGref, readonly);
}

/** gnttab_copy_release_buf: the grant, the writable type and the frame reference. */
function releaseEnd(machine: Machine, end: CopyEnd, readonly: boolean): void {
  if (end.haveGrant && end.domain) releaseForCopy(machine, end.domain, end.ref, readonly);
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
  const pageSize = machine.memory.pageSize;
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
      end.ref = layout.getNumber(v, 0, `${name}.u.ref`);
      const rc = acquireForCopy(machine, d, end.ref, ctx.domain.id, readonly, true);
      if (rc !== GrantStatus.okay) return rc;
      end.haveGrant = true;
      end.mfn = acquired.mfn;
      end.start = acquired.start;
      end.length = acquired.length;
    } else {
      const gmfn = layout.getBigInt(v, 0, `${name}.u.gmfn`);
      const mfn = gmfn < 0x80000000n ? getPagedFrame(machine, d, Number(gmfn)) : -1;
      if (mfn < 0) return GrantStatus.bad_page;
      end.mfn = mfn;
      end.start = 0;
      end.length = pageSize;
    }
    if (!readonly) {
      if (!getWritable(machine, end.mfn)) return GrantStatus.general_error;
      end.haveType = true;
    }
  }
  // gnttab_copy_buf: within the page, then within what each end's grant allows.
  const so = layout.getNumber(v, 0, "source.offset");
  const dof = layout.getNumber(v, 0, "dest.offset");
  if (so + len > pageSize || dof + len > pageSize) return GrantStatus.bad_copy_arg;
  for (const [end, off] of [
    [src, so],
    [dst, dof],
  ] as const) {
    if (off < end.start || off + len > end.start + end.length) return GrantStatus.general_error;
  }
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
    mfn === d.sharedInfoMfn ||
    sharedXenFrame(d, mfn)
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
  write16(machine, pa, GrantFlags.accept_transfer | GTF_TRANSFER_COMMITTED);
  // steal_page + guest_physmap_remove_page
  if (pfn >= 0 && p2mGet(d, pfn) === mfn) p2mSet(machine, d, pfn, -1);
  d.totPages--;
  // assign_pages + guest_physmap_add_page
  ft.owner[mfn] = e.id;
  e.totPages++;
  // guest_physmap_add_page (x86 mm/physmap.c): a translated receiver's p2m; for a PV one
  // the M2P entry (set_gpfn_from_mfn, which cannot fail), and the MFN in the entry
  // (v1 `frame`, v2 `full_page.frame`).
  const frame = entryFrame(machine, egt, ref);
  let status: number = GrantStatus.okay;
  if (translated(e)) {
    if (physmapAdd(machine, e, frame, mfn, 0) !== 0) status = GrantStatus.general_error;
  } else {
    m2pSet(machine, mfn, frame);
    setEntryFrame(machine, egt, ref, mfn);
  }
  write16(
    machine,
    pa,
    GrantFlags.accept_transfer | GTF_TRANSFER_COMMITTED | GTF_TRANSFER_COMPLETED,
  );
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

/** A reserved entry carried across a version switch, as a v1 entry (flags incl. status). */
interface ReservedEntry {
  flags: number;
  domid: number;
  frame: number;
}

/**
 * gnttab_unpopulate_status_frames: frees a v2 table's status frames, unless one is still
 * referenced (−EBUSY: a mapping of it, XSA-255). A translated domain has each unhooked
 * from its p2m first and is crashed when one is still in use, as Xen does.
 */
function unpopulateStatusFrames(machine: Machine, d: Domain, gt: GrantTable): number {
  const ft = machine.memory.frameTable;
  for (const mfn of gt.statusFrames) {
    if (translated(d)) {
      const pfn = m2pGet(machine, mfn);
      if (pfn >= 0 && p2mGet(d, pfn) === mfn) p2mSet(machine, d, pfn, -1);
      m2pSet(machine, mfn, -1);
    }
    if (ft.refCount[mfn] !== 0 || ft.typeCount[mfn] !== 0) {
      if (translated(d))
        machine.shutdownDomain(d, ShutdownReason.Crash, "grant status frame still in use");
      return -Errno.EBUSY;
    }
  }
  for (const mfn of gt.statusFrames) machine.freeXenFrame(mfn);
  gt.statusFrames.length = 0;
  return 0;
}

/**
 * gnttab_set_version for the caller's table `gt`: switches to `version` (checked to be 1
 * or 2 and allowed) or fails with −EBUSY, −ENOMEM or −ERANGE leaving the table as it was.
 */
function switchVersion(machine: Machine, d: Domain, gt: GrantTable, version: 1 | 2): number {
  const mem = machine.memory;
  if (gt.inUseBeyondReserved()) return -Errno.EBUSY;
  const reserved: ReservedEntry[] = [];
  if (gt.version === 1) {
    if (!populateStatusFrames(machine, d, gt)) return -Errno.ENOMEM;
    for (let i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++) {
      const pa = gt.entryAddress(i);
      reserved.push({
        flags: mem.read16(pa),
        domid: mem.read16(pa + 2),
        frame: mem.read32(pa + V1_FRAME),
      });
    }
  } else {
    for (let i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++) {
      const pa = gt.entryAddress(i);
      const type = mem.read16(pa) & GTF_TYPE_MASK;
      const frame = mem.read64(pa + V2_FRAME);
      if (type === GrantFlags.transitive || (type === GrantFlags.permit_access && frame >> 32n))
        return -Errno.ERANGE;
    }
    for (let i = 0; i < GNTTAB_NR_RESERVED_ENTRIES; i++) {
      const pa = gt.entryAddress(i);
      const flags = mem.read16(pa);
      // Access grants survive (the frame read as full_page.frame); anything else is emptied.
      reserved.push(
        (flags & GTF_TYPE_MASK) === GrantFlags.permit_access
          ? {
              flags: flags | mem.read16(gt.statusAddress(i)),
              domid: mem.read16(pa + 2),
              frame: Number(mem.read64(pa + V2_FRAME)),
            }
          : { flags: 0, domid: 0, frame: 0 },
      );
    }
    const rc = unpopulateStatusFrames(machine, d, gt);
    if (rc !== 0) return rc;
  }
  // No crud left over from the old version, then the reserved entries in the new format.
  const pageSize = mem.pageSize;
  for (const f of gt.frames) mem.bytes.fill(0, f * pageSize, (f + 1) * pageSize);
  gt.version = version;
  reserved.forEach((e, i) => {
    const pa = gt.entryAddress(i);
    if (version === 1) {
      mem.write16(pa, e.flags);
      mem.write16(pa + 2, e.domid);
      mem.write32(pa + V1_FRAME, e.frame);
    } else {
      mem.write16(gt.statusAddress(i), e.flags & GTF_IN_USE);
      mem.write16(pa, e.flags & ~GTF_IN_USE);
      mem.write16(pa + 2, e.domid);
      mem.write64(pa + V2_FRAME, BigInt(e.frame));
    }
  });
  for (const f of [...gt.frames, ...gt.statusFrames.slice(0, 1)])
    machine.arch.onMemoryWritten?.(machine, f * pageSize, pageSize);
  return 0;
}

function setVersion(ctx: HypercallContext, uop: bigint): number {
  const { machine, domain: d } = ctx;
  const layout = GNTTAB_SET_VERSION.layout(machine.arch.dataModel);
  if (readGuestStruct(ctx.vcpu, uop, layout, buf) !== 0) return -Errno.EFAULT;
  const version = layout.getNumber(buf.view, 0, "version");
  const gt = grantTableOf(machine, d);
  let rc = 0;
  if (version !== 1 && version !== 2) rc = -Errno.EINVAL;
  else if (!gt) rc = -Errno.ENOMEM;
  else if (version === 2 && gt.maxVersion < 2) rc = -Errno.ENOSYS;
  else if (gt.version !== version) rc = switchVersion(machine, d, gt, version);
  layout.set(buf.view, 0, "version", gt?.version ?? 1);
  return writeGuestStruct(ctx.vcpu, uop, layout, buf) === 0 ? rc : -Errno.EFAULT;
}

function getVersion(ctx: HypercallContext, uop: bigint): number {
  const layout = GNTTAB_GET_VERSION.layout(ctx.machine.arch.dataModel);
  if (readGuestStruct(ctx.vcpu, uop, layout, buf) !== 0) return -Errno.EFAULT;
  const d = ctx.machine.findDomain(layout.getNumber(buf.view, 0, "dom"), ctx.domain);
  if (!d) return -Errno.ESRCH;
  const denied = ctx.machine.xsm.grant("query_size", ctx.domain, d);
  if (denied !== 0) return denied;
  layout.set(buf.view, 0, "version", existingGrantTable(d)?.version ?? 1);
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
 * granter can end foreign access and give the page back (or, the granter being gone
 * already, the last such mapping gives the frame back to the free pool). The mappings
 * themselves go with the dying domain's address space. Called by the machine's
 * destroyDomain.
 */
export function grantReleaseMappings(machine: Machine, domain: Domain): void {
  const lgt = existingGrantTable(domain);
  if (!lgt) return;
  for (const map of lgt.maptrack) {
    if (map.flags === 0) continue;
    const rd = granterOf(map);
    const rgt = rd ? existingGrantTable(rd) : undefined;
    const act = rgt && map.ref < rgt.nrEntries ? rgt.activeEntry(map.ref) : null;
    const mfn = act ? act.mfn : map.mfn;
    if (mfn >= 0) releaseHalves(machine, mfn, map.flags, map.flags, act);
    if (act && rgt)
      reduceStatusForPin(machine, rgt, map.ref, act, (map.flags & GNTMAP_READONLY) !== 0);
    map.flags = 0;
  }
}

// ---------------------------------------------------------------- swap

/** swap_grant_ref (Xen 4.19) on the caller's table: a GNTST_* status. */
function swapOne(machine: Machine, d: Domain, refA: number, refB: number): number {
  const gt = grantTableOf(machine, d);
  if (!gt) return GrantStatus.general_error;
  if (refA >= gt.nrEntries || refB >= gt.nrEntries) return GrantStatus.bad_gntref;
  if (refA === refB) return GrantStatus.okay;
  if ((gt.active.get(refA)?.pin ?? 0) !== 0 || (gt.active.get(refB)?.pin ?? 0) !== 0)
    return GrantStatus.eagain;
  const swap = (a: number, b: number, size: number): void => {
    const bytes = machine.memory.bytes;
    const saved = bytes.slice(a, a + size);
    bytes.copyWithin(a, b, b + size);
    bytes.set(saved, b);
    machine.arch.onMemoryWritten?.(machine, a, size);
    machine.arch.onMemoryWritten?.(machine, b, size);
  };
  swap(gt.entryAddress(refA), gt.entryAddress(refB), gt.entrySize);
  if (gt.version === 2) swap(gt.statusAddress(refA), gt.statusAddress(refB), GRANT_STATUS_SIZE);
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
