/**
 * The two frame maps memory_op keeps consistent when frames are given and taken: each
 * domain's p2m (`Domain.p2m`, guest frame → machine frame) and the machine's M2P
 * (machine frame → guest frame).
 *
 * Xen keeps the M2P for every guest type (`set_gpfn_from_mfn`); PV guests read it
 * through a read-only mapping and keep their own p2m, so for them `Domain.p2m` is
 * hvkit's record of what memory_op and the builder put where (what maximum_gpfn and the
 * invariant checks read). A translated guest's p2m is the real one. The M2P lives in
 * the arch when it has one guests can see (`ArchPlugin.setM2p`), else here.
 *
 * A frame given back while something still references it (a mapping, a page-table use,
 * a grant mapping: general or type references in the `FrameTable`) leaves the physmap at
 * once but is freed only with its last reference, as Xen's `guest_remove_page` drops the
 * page's allocation reference and `put_page` frees it at zero: until then it stays the
 * domain's (`FrameTable.released`), counted in its `totPages` (Xen adjusts `tot_pages`
 * in `free_domheap_pages`). Every general reference is dropped through {@link putFrame}.
 *
 * @module
 */
import type { Domain } from "./domain.js";
import { Errno } from "./errno.js";
import { grantTableOwnsFrame } from "./grant-table.js";
import type { Machine } from "./machine.js";

/**
 * Highest guest frame number (exclusive) memory_op places frames at: 2^24 frames
 * (64 GiB of guest-physical space with 4 KiB pages), so a guest's p2m stays a bounded
 * array. Xen's PV bound is the M2P entry width; larger gpfns fail the extent here.
 */
export const MAX_GPFN = 1 << 24;

/** The core's own M2P for arches without one (one entry per machine frame, −1 none). */
const coreM2p = new WeakMap<Machine, Int32Array>();

/** The M2P entry of machine frame `mfn`: its guest frame, or −1. */
export function m2pGet(machine: Machine, mfn: number): number {
  if (machine.arch.getM2p) return machine.arch.getM2p(machine, mfn);
  return coreM2p.get(machine)?.[mfn] ?? -1;
}

/** Sets the M2P entry of machine frame `mfn` to `pfn` (−1: none). */
export function m2pSet(machine: Machine, mfn: number, pfn: number): void {
  if (machine.arch.setM2p) {
    machine.arch.setM2p(machine, mfn, pfn);
    return;
  }
  let table = coreM2p.get(machine);
  if (!table) {
    table = new Int32Array(machine.memory.frames).fill(-1);
    coreM2p.set(machine, table);
  }
  table[mfn] = pfn;
}

/**
 * Sets `domain.p2m[pfn] = mfn` (−1: hole), growing the array (holes) as needed. When the
 * guest frame named another machine frame before, the arch is told
 * (`ArchPlugin.onP2mChanged`): translations it cached from the old entry are stale.
 */
export function p2mSet(machine: Machine, domain: Domain, pfn: number, mfn: number): void {
  if (pfn >= domain.p2m.length) {
    if (mfn < 0) return;
    const grown = new Int32Array(Math.min(MAX_GPFN, Math.max(pfn + 1, domain.p2m.length * 2)));
    grown.fill(-1);
    grown.set(domain.p2m);
    domain.p2m = grown;
  }
  const old = domain.p2m[pfn];
  domain.p2m[pfn] = mfn;
  if (old >= 0 && old !== mfn) machine.arch.onP2mChanged?.(machine, domain, pfn);
}

/** The machine frame behind guest frame `pfn` of `domain`, or −1. */
export function p2mGet(domain: Domain, pfn: number): number {
  return pfn >= 0 && pfn < domain.p2m.length ? domain.p2m[pfn] : -1;
}

/**
 * Xen's `guest_physmap_add_page`: records 2^`order` machine frames from `mfn` at guest
 * frames from `gpfn` in the domain's p2m and the M2P. Returns 0, or −EINVAL when the
 * range passes {@link MAX_GPFN}.
 */
export function physmapAdd(
  machine: Machine,
  domain: Domain,
  gpfn: number,
  mfn: number,
  order: number,
): number {
  const n = 2 ** order;
  if (!Number.isSafeInteger(gpfn) || gpfn < 0 || gpfn + n > MAX_GPFN) return -Errno.EINVAL;
  for (let j = 0; j < n; j++) {
    p2mSet(machine, domain, gpfn + j, mfn + j);
    m2pSet(machine, mfn + j, gpfn + j);
  }
  return 0;
}

/**
 * True when `mfn` is a hypervisor frame shared with `domain` (shared_info, a grant-table
 * or v2 status frame: Xen's xenheap pages from share_xen_page_with_guest). The domain
 * owns it but it is never given back to the free pool through it.
 */
export function sharedXenFrame(domain: Domain, mfn: number): boolean {
  return mfn === domain.sharedInfoMfn || grantTableOwnsFrame(domain, mfn);
}

/**
 * True when `domain` owns `mfn`, nothing references it and it is not a hypervisor frame
 * shared with the domain, so XENMEM_exchange may take it (Xen's steal_page: only the
 * allocation reference held, no xenheap page).
 */
export function frameReleasable(machine: Machine, domain: Domain, mfn: number): boolean {
  const ft = machine.memory.frameTable;
  return (
    mfn >= 0 &&
    mfn < ft.frames &&
    ft.owner[mfn] === domain.id &&
    ft.refCount[mfn] === 0 &&
    ft.typeCount[mfn] === 0 &&
    !sharedXenFrame(domain, mfn)
  );
}

/**
 * Gives machine frame `mfn` of `domain` back (Xen's guest_remove_page on a frame): its
 * p2m slot (when it still points here) and its M2P entry are cleared and the frame's
 * allocation is dropped — freed now when nothing references it, else marked
 * `FrameTable.released` and freed by {@link putFrame} with its last reference. A frame
 * already given back but still referenced is given back again without error, as Xen's
 * `get_page` still succeeds on it. Returns 0; −EINVAL for a frame number past the end of
 * memory; −ENXIO for a frame the domain does not own.
 *
 * A grant-table frame is only unhooked from the p2m and M2P and stays the grant
 * table's: in Xen, guest_remove_page drops the page's allocation reference, but
 * free_domheap_pages only unlinks a xenheap page from the domain (page_alloc.c), and
 * xenmem_add_to_physmap_one "simply unhooks" special pages. (Freeing it let a guest
 * hand its live grant table to the next domain that allocated memory.)
 */
export function releaseFrame(machine: Machine, domain: Domain, mfn: number): number {
  const ft = machine.memory.frameTable;
  if (!Number.isSafeInteger(mfn) || mfn < 0 || mfn >= ft.frames) return -Errno.EINVAL;
  if (ft.owner[mfn] !== domain.id) return -Errno.ENXIO;
  const pfn = m2pGet(machine, mfn);
  if (pfn >= 0 && p2mGet(domain, pfn) === mfn) p2mSet(machine, domain, pfn, -1);
  m2pSet(machine, mfn, -1);
  if (sharedXenFrame(domain, mfn)) return 0;
  if (ft.refCount[mfn] === 0 && ft.typeCount[mfn] === 0) machine.freeFrame(domain, mfn);
  else ft.released[mfn] = 1;
  return 0;
}

/**
 * Drops one general reference on machine frame `mfn` (Xen's `put_page`). When it was the
 * last and the owner has given the frame back ({@link releaseFrame} while it was still
 * referenced), the frame goes back to the free pool now.
 */
export function putFrame(machine: Machine, mfn: number): void {
  const ft = machine.memory.frameTable;
  if (--ft.refCount[mfn] === 0 && ft.released[mfn] !== 0) freeReleasedFrame(machine, mfn);
}

/**
 * Frees a frame its owner gave back (`FrameTable.released`) whose last general
 * reference has just gone: Xen's `free_domheap_page` from `put_page`, which also takes
 * it off the owner's `tot_pages`. For an arch that counts references itself (its PV MMU)
 * and calls this at zero.
 */
export function freeReleasedFrame(machine: Machine, mfn: number): void {
  const owner = machine.domains.get(machine.memory.frameTable.owner[mfn]);
  if (owner !== undefined) machine.freeFrame(owner, mfn);
}
