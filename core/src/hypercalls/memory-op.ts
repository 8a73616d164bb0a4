/**
 * memory_op (xen/common/memory.c `do_memory_op`).
 *
 * The command word carries the operation in its low 6 bits and a continuation's start
 * extent above; the queries take no continuation, so a non-zero start extent is −EINVAL.
 * - maximum_ram_page: the number of machine frames (Xen's `max_page`).
 * - current_reservation / maximum_reservation / maximum_gpfn: the argument points to a
 *   domid (DOMID_SELF or an id). Unknown domain −ESRCH; another domain's figures need
 *   XSM_TARGET (self or control domain), else −EPERM. maximum_gpfn is the arch's
 *   `domain_get_maximum_gpfn` (`ArchPlugin.maximumGpfn`; x86 PV: shared_info's
 *   `arch.max_pfn` less one), or without the hook the highest guest frame with a machine
 *   frame behind it in the p2m (0 when none).
 * - increase_reservation / decrease_reservation / populate_physmap: see
 *   {@link reservationOp}; exchange: see {@link memoryExchange}; add_to_physmap: see
 *   {@link addToPhysmap}.
 * Every other operation goes to the arch (`ArchPlugin.memoryOp`, Xen's `arch_memory_op`:
 * e.g. memory_map, set_memory_map and machphys_mapping on x86), or is −ENOSYS.
 *
 * @module
 */
import { grantTableFrame } from "../grant-table.js";
import { MEMOP_CMD_MASK, MEMOP_EXTENT_SHIFT, MemoryOp } from "../abi/numbers.js";
import {
  XEN_ADD_TO_PHYSMAP,
  XEN_MEMORY_EXCHANGE,
  XEN_MEMORY_RESERVATION,
  XENMAPSPACE_GMFN,
  XENMAPSPACE_GMFN_FOREIGN,
  XENMAPSPACE_GMFN_RANGE,
  XENMAPSPACE_GRANT_TABLE,
  XENMAPSPACE_SHARED_INFO,
  XENMEMF_ADDRESS_BITS_MASK,
  XENMEMF_EXACT_NODE_REQUEST,
  XENMEMF_NODE_SHIFT,
  XENMEMF_POPULATE_ON_DEMAND,
  XENMEMF_VNODE,
} from "../abi/memory.js";
import type { Domain } from "../domain.js";
import { Errno } from "../errno.js";
import {
  readGuestStruct,
  readGuestU16,
  readGuestU32,
  readGuestU64,
  StructBuffer,
  writeGuestField,
  writeGuestU32,
  writeGuestU64,
} from "../guest-memory.js";
import type { HypercallArgs, HypercallContext } from "../hypercall.js";
import type { Machine } from "../machine.js";
import {
  frameReleasable,
  m2pGet,
  m2pSet,
  p2mGet,
  p2mSet,
  physmapAdd,
  releaseFrame,
} from "../p2m.js";

/** `memory_op(cmd, arg)`. */
export function memoryOp(ctx: HypercallContext, args: HypercallArgs): number | bigint {
  const cmd = args.u64(0);
  const arg = args.u64(1);
  const op = Number(cmd & BigInt(MEMOP_CMD_MASK));
  const startExtent = cmd >> BigInt(MEMOP_EXTENT_SHIFT);
  switch (op) {
    case MemoryOp.maximum_ram_page:
      if (startExtent !== 0n) return -Errno.EINVAL;
      return ctx.machine.memory.frames;

    case MemoryOp.current_reservation:
    case MemoryOp.maximum_reservation:
    case MemoryOp.maximum_gpfn: {
      if (startExtent !== 0n) return -Errno.EINVAL;
      const domid = readGuestU16(ctx.vcpu, arg);
      if (domid < 0) return -Errno.EFAULT;
      const target = ctx.machine.findDomain(domid, ctx.domain);
      if (target === null) return -Errno.ESRCH;
      const denied = ctx.machine.xsm.memoryStatReservation(ctx.domain, target);
      if (denied !== 0) return denied;
      if (op === MemoryOp.current_reservation) return target.totPages;
      if (op === MemoryOp.maximum_reservation) return target.maxPages;
      return ctx.machine.arch.maximumGpfn?.(ctx.machine, target) ?? highestMappedGpfn(target);
    }

    case MemoryOp.increase_reservation:
    case MemoryOp.decrease_reservation:
    case MemoryOp.populate_physmap:
      return reservationOp(ctx, op, startExtent, arg);

    case MemoryOp.exchange:
      if (startExtent !== 0n) return -Errno.EINVAL;
      return memoryExchange(ctx, arg);

    case MemoryOp.add_to_physmap:
      return addToPhysmap(ctx, startExtent, arg);

    default:
      return ctx.machine.arch.memoryOp?.(ctx, op, cmd, arg) ?? -Errno.ENOSYS;
  }
}

function highestMappedGpfn(domain: Domain): number {
  const p2m = domain.p2m;
  for (let pfn = p2m.length - 1; pfn >= 0; pfn--) if (p2m[pfn] >= 0) return pfn;
  return 0;
}

// ---------------------------------------------------------------------------------------
// Reservations (xen/common/memory.c)

/**
 * Largest extent order a domain may ask for (memory.c `max_order`, x86 figures): the
 * control domain CONFIG_PAGEALLOC_MAX_ORDER = 18, others CONFIG_DOMU_MAX_ORDER = 9.
 */
export function maxExtentOrder(domain: Domain): number {
  return domain.privileged ? 18 : 9;
}

/** Xen's MAX_ORDER on x86 (2 × PAGETABLE_ORDER): the populate-on-demand bound. */
const MAX_ORDER = 18;
/** MAX_NUMNODES: a node number at or above it is −EINVAL. */
const MAX_NUMNODES = 64;
/** XENMEMF_get_node's "no node" (NUMA_NO_NODE). */
const NUMA_NO_NODE = 0xff;

/** A translated guest's frame numbers are guest frames; an x86 PV guest's are machine frames. */
function translated(domain: Domain): boolean {
  return domain.translated;
}

/** Bytes of one xen_pfn_t and the mask of an unsigned long in the arch's data model. */
function widths(machine: Machine): { pfn: number; ulongMask: bigint } {
  const model = machine.arch.dataModel;
  return { pfn: model.xenPfn, ulongMask: (1n << BigInt(model.long * 8)) - 1n };
}

/**
 * `guest_handle_subrange_okay(hnd, first, last)` over an array of `size`-byte elements:
 * `array_access_ok` — the count (last − first + 1, unsigned) below ~0UL / size, and the
 * start address acceptable to the arch's `access_ok`.
 */
function subrangeOk(
  machine: Machine,
  domain: Domain,
  hnd: bigint,
  first: bigint,
  last: bigint,
  size: number,
): boolean {
  const { ulongMask } = widths(machine);
  const count = (last - first + 1n) & ulongMask;
  if (count >= ulongMask / BigInt(size)) return false;
  const start = (hnd + first * BigInt(size)) & ulongMask;
  return machine.arch.guestAccessOk?.(domain, start, count * BigInt(size)) ?? true;
}

/** Reads element `i` of a xen_pfn_t array; a number ≥ 0, or −1 on a fault. */
function readPfn(ctx: HypercallContext, hnd: bigint, i: number, size: number): number {
  const va = hnd + BigInt(i) * BigInt(size);
  if (size === 4) {
    const v = readGuestU32(ctx.vcpu, va);
    return v < 0 ? -1 : v;
  }
  const v = readGuestU64(ctx.vcpu, va);
  if (v < 0n) return -1;
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** Writes element `i` of a xen_pfn_t array; 0 or −EFAULT. */
function writePfn(ctx: HypercallContext, hnd: bigint, i: number, size: number, v: number): number {
  const va = hnd + BigInt(i) * BigInt(size);
  return size === 4 ? writeGuestU32(ctx.vcpu, va, v) : writeGuestU64(ctx.vcpu, va, BigInt(v));
}

/**
 * The machine-frame bound of XENMEMF_address_bits (`construct_memop_from_reservation`):
 * 0 bits, or bits covering all memory, mean no bound; bits at or below PAGE_SHIFT are
 * −EINVAL (returned as a negative number).
 */
function frameLimit(machine: Machine, memFlags: number): number {
  const bits = memFlags & XENMEMF_ADDRESS_BITS_MASK;
  const pageShift = Math.log2(machine.memory.pageSize);
  const frames = machine.memory.frames;
  const orderOfMemory = Math.ceil(Math.log2(frames));
  if (bits === 0 || bits >= orderOfMemory + pageShift) return frames;
  if (bits <= pageShift) return -1;
  return Math.min(frames, 2 ** (bits - pageShift));
}

/**
 * `propagate_node`: a NUMA node in mem_flags is accepted (and, hvkit having one node,
 * ignored) for the control domain when below MAX_NUMNODES; others may name one only
 * without XENMEMF_exact_node_request.
 */
function nodeOk(caller: Domain, memFlags: number): boolean {
  const node = ((memFlags >>> XENMEMF_NODE_SHIFT) - 1) & 0xff;
  if (node === NUMA_NO_NODE) return true;
  if (caller.privileged) return node < MAX_NUMNODES;
  return (memFlags & XENMEMF_EXACT_NODE_REQUEST) === 0;
}

const resBuf = new StructBuffer(32);

/**
 * increase_reservation, decrease_reservation and populate_physmap. As Xen, the result is
 * the number of extents done (counting from the continuation's start extent), never
 * −errno: a bad argument (unreadable struct, nr_extents above UINT_MAX >> 6, a start
 * extent at or past nr_extents, unknown domain, XSM denial, bad address bits or node,
 * extent_order above {@link maxExtentOrder}, an extent array outside guest space) does
 * nothing and returns the start extent; a failing extent (out of memory, over max_pages,
 * an unreadable or unwritable array element, a frame past memory or not the domain's)
 * stops there.
 * - increase: allocates extents; a PV guest gets their MFNs in the array (may be null).
 * - populate: allocates one extent per guest frame read from the array, records it in
 *   the p2m and M2P; a PV guest gets the MFN written back over the gpfn.
 * - decrease: gives back the frames named in the array (MFNs for PV, guest frames for
 *   translated guests); pages of an extent before a failing one are already gone. A frame
 *   still referenced (mapped, a page table, granted) leaves the physmap now and is freed
 *   with its last reference (`releaseFrame`).
 */
export function reservationOp(
  ctx: HypercallContext,
  op: number,
  startExtent: bigint,
  arg: bigint,
): number {
  const { machine, domain: caller } = ctx;
  const layout = XEN_MEMORY_RESERVATION.layout(machine.arch.dataModel);
  const start = Number(startExtent);
  if (readGuestStruct(ctx.vcpu, arg, layout, resBuf) !== 0) return start;
  const nrExtents = BigInt(layout.get(resBuf.view, 0, "nr_extents"));
  if (nrExtents > BigInt(0xffffffff >>> MEMOP_EXTENT_SHIFT)) return start;
  if (startExtent >= nrExtents) return start;
  const nr = Number(nrExtents);
  const list = BigInt(layout.get(resBuf.view, 0, "extent_start"));
  const order = layout.getNumber(resBuf.view, 0, "extent_order");
  const memFlags = layout.getNumber(resBuf.view, 0, "mem_flags");
  const d = machine.findDomain(layout.getNumber(resBuf.view, 0, "domid"), caller);
  if (d === null) return start;
  const limit = frameLimit(machine, memFlags);
  if (limit < 0) return start;
  if ((memFlags & XENMEMF_VNODE) === 0 && !nodeOk(caller, memFlags)) return start;
  if (machine.xsm.memoryStatReservation(caller, d) !== 0) return start;
  const pod = op === MemoryOp.populate_physmap && (memFlags & XENMEMF_POPULATE_ON_DEMAND) !== 0;
  const { pfn: size } = widths(machine);
  const listOk = subrangeOk(machine, caller, list, startExtent, nrExtents - 1n, size);
  if (op === MemoryOp.increase_reservation) {
    if ((list !== 0n && !listOk) || order > maxExtentOrder(caller)) return start;
  } else if (!listOk || order > (pod ? MAX_ORDER : maxExtentOrder(caller))) return start;

  let i = start;
  for (; i < nr; i++) {
    if (op === MemoryOp.decrease_reservation) {
      const gmfn = readPfn(ctx, list, i, size);
      if (gmfn < 0 || !decreaseExtent(machine, d, gmfn, order)) break;
      continue;
    }
    if (op === MemoryOp.populate_physmap) {
      const gpfn = readPfn(ctx, list, i, size);
      if (gpfn < 0) break;
      if (pod) {
        // No populate-on-demand in hvkit: never on oneself (Xen's rule), and a translated
        // target cannot be marked; a PV target has nothing to mark, as in Xen.
        if (d === caller || translated(d)) break;
        continue;
      }
      const mfn = machine.allocExtent(d, order, limit);
      if (mfn < 0) break;
      if (physmapAdd(machine, d, gpfn, mfn, order) !== 0) {
        for (let j = 0; j < 2 ** order; j++) machine.freeFrame(d, mfn + j);
        break;
      }
      if (!translated(d) && writePfn(ctx, list, i, size, mfn) !== 0) break;
      continue;
    }
    const mfn = machine.allocExtent(d, order, limit);
    if (mfn < 0) break;
    for (let j = 0; j < 2 ** order; j++) m2pSet(machine, mfn + j, -1);
    if (!translated(d) && list !== 0n && writePfn(ctx, list, i, size, mfn) !== 0) break;
  }
  return i;
}

/** Gives back one extent of 2^`order` frames from `gmfn`; false at the first that fails. */
function decreaseExtent(machine: Machine, d: Domain, gmfn: number, order: number): boolean {
  for (let j = 0; j < 2 ** order; j++) {
    const mfn = translated(d) ? p2mGet(d, gmfn + j) : gmfn + j;
    if (releaseFrame(machine, d, mfn) !== 0) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------
// Exchange

const exchBuf = new StructBuffer(80);

/**
 * XENMEM_exchange (memory.c `memory_exchange`): gives back `in` extents and receives
 * `out` extents of equal total size, chunk by chunk (a chunk is the larger of one in or
 * one out extent). Checks, in Xen's order: unreadable struct −EFAULT; either order above
 * {@link maxExtentOrder} −EPERM; nr_exchanged > in.nr_extents, differing domids, an
 * extent count whose size overflows an unsigned long, or unequal in/out sizes −EINVAL;
 * nothing left to do 0; the remaining in-array range and the out-array range from the
 * matching offset not guest-accessible −EFAULT (XSA-212: ranges are checked from
 * nr_exchanged, not from the array base); a NUMA node not allowed −EINVAL; unknown domain
 * −ESRCH; XSM −EPERM. Per chunk: an unreadable in element −EFAULT; a frame not valid or
 * not stealable (not the domain's, referenced) −EINVAL; out of memory −ENOMEM. A chunk
 * that fails leaves the domain as before it. nr_exchanged is written back (−EFAULT if it
 * cannot be) with the count of input extents in completed chunks.
 */
export function memoryExchange(ctx: HypercallContext, arg: bigint): number {
  const { machine, domain: caller } = ctx;
  const layout = XEN_MEMORY_EXCHANGE.layout(machine.arch.dataModel);
  if (readGuestStruct(ctx.vcpu, arg, layout, exchBuf) !== 0) return -Errno.EFAULT;
  const v = exchBuf.view;
  const num = (path: string): number => layout.getNumber(v, 0, path);
  const big = (path: string): bigint => BigInt(layout.get(v, 0, path));
  const inOrder = num("in.extent_order");
  const outOrder = num("out.extent_order");
  const inNr = big("in.nr_extents");
  const outNr = big("out.nr_extents");
  const inList = big("in.extent_start");
  const outList = big("out.extent_start");
  const outFlags = num("out.mem_flags");
  let exchanged = big("nr_exchanged");
  const { pfn: size, ulongMask } = widths(machine);

  const finish = (rc: number): number => {
    layout.set(v, 0, "nr_exchanged", exchanged);
    return writeGuestField(ctx.vcpu, arg, layout, exchBuf, "nr_exchanged") !== 0
      ? -Errno.EFAULT
      : rc;
  };

  if (Math.max(inOrder, outOrder) > maxExtentOrder(caller)) return finish(-Errno.EPERM);
  if (
    exchanged > inNr ||
    num("in.domid") !== num("out.domid") ||
    ulongMask >> BigInt(inOrder) < inNr ||
    ulongMask >> BigInt(outOrder) < outNr ||
    inNr << BigInt(inOrder) !== outNr << BigInt(outOrder)
  ) {
    return finish(-Errno.EINVAL);
  }
  if (exchanged === inNr) return 0;
  if (!subrangeOk(machine, caller, inList, exchanged, inNr - 1n, size)) {
    return finish(-Errno.EFAULT);
  }
  const inChunkOrder = inOrder <= outOrder ? outOrder - inOrder : 0;
  const outChunkOrder = inOrder <= outOrder ? 0 : inOrder - outOrder;
  const outFirst =
    inOrder <= outOrder ? exchanged >> BigInt(inChunkOrder) : exchanged << BigInt(outChunkOrder);
  if (!subrangeOk(machine, caller, outList, outFirst & ulongMask, outNr - 1n, size)) {
    return finish(-Errno.EFAULT);
  }
  if (!nodeOk(caller, outFlags)) return finish(-Errno.EINVAL);
  const d = machine.findDomain(num("in.domid"), caller);
  if (d === null) return finish(-Errno.ESRCH);
  const denied = machine.xsm.memoryStatReservation(caller, d);
  if (denied !== 0) return finish(denied);
  const bits = outFlags & XENMEMF_ADDRESS_BITS_MASK;
  const pageShift = Math.log2(machine.memory.pageSize);
  const limit = bits === 0 ? machine.memory.frames : 2 ** Math.max(0, bits - pageShift);

  const inPerChunk = 2 ** inChunkOrder;
  const outPerChunk = 2 ** outChunkOrder;
  const firstChunk = Number(exchanged >> BigInt(inChunkOrder));
  const chunks = Number(inNr >> BigInt(inChunkOrder));
  for (let i = firstChunk; i < chunks; i++) {
    const rc = exchangeChunk(ctx, d, {
      inList,
      outList,
      inOrder,
      outOrder,
      inFirst: i * inPerChunk,
      inCount: inPerChunk,
      outFirst: i * outPerChunk,
      outCount: outPerChunk,
      limit,
      size,
    });
    if (rc !== 0) {
      exchanged = BigInt(i) << BigInt(inChunkOrder);
      return finish(rc);
    }
  }
  exchanged = inNr;
  return finish(0);
}

/** One chunk of an exchange: which elements of the two arrays, and the allocation bound. */
interface ExchangeChunk {
  readonly inList: bigint;
  readonly outList: bigint;
  readonly inOrder: number;
  readonly outOrder: number;
  readonly inFirst: number;
  readonly inCount: number;
  readonly outFirst: number;
  readonly outCount: number;
  readonly limit: number;
  readonly size: number;
}

/** Steals the chunk's input frames, allocates its output extents, then swaps them; 0 or −errno. */
function exchangeChunk(ctx: HypercallContext, d: Domain, c: ExchangeChunk): number {
  const { machine } = ctx;
  const stolen = new Set<number>();
  for (let j = 0; j < c.inCount; j++) {
    const gmfn = readPfn(ctx, c.inList, c.inFirst + j, c.size);
    if (gmfn < 0) return -Errno.EFAULT;
    for (let k = 0; k < 2 ** c.inOrder; k++) {
      const mfn = translated(d) ? p2mGet(d, gmfn + k) : gmfn + k;
      if (mfn < 0 || mfn >= machine.memory.frames) return -Errno.EINVAL;
      if (stolen.has(mfn) || !frameReleasable(machine, d, mfn)) return -Errno.EINVAL;
      stolen.add(mfn);
    }
  }
  const out: number[] = [];
  for (let j = 0; j < c.outCount; j++) {
    const mfn = machine.allocExtent(d, c.outOrder, c.limit, true);
    if (mfn < 0) {
      for (const m of out) for (let k = 0; k < 2 ** c.outOrder; k++) machine.freeFrame(d, m + k);
      return -Errno.ENOMEM;
    }
    out.push(mfn);
  }
  for (const mfn of stolen) releaseFrame(machine, d, mfn);
  let rc = 0;
  for (let j = 0; j < c.outCount; j++) {
    const mfn = out[j];
    for (let k = 0; k < 2 ** c.outOrder; k++) m2pSet(machine, mfn + k, -1);
    const gpfn = readPfn(ctx, c.outList, c.outFirst + j, c.size);
    if (gpfn < 0) {
      rc = -Errno.EFAULT;
      continue;
    }
    rc = physmapAdd(machine, d, gpfn, mfn, c.outOrder) || rc;
    if (!translated(d) && writePfn(ctx, c.outList, c.outFirst + j, c.size, mfn) !== 0) {
      rc = -Errno.EFAULT;
    }
  }
  return rc;
}

// ---------------------------------------------------------------------------------------
// add_to_physmap

const xatpBuf = new StructBuffer(32);

/**
 * XENMEM_add_to_physmap: places a hypervisor-provided frame at a guest frame of a
 * translated guest. Order of checks as Xen: a start extent that does not fit the u16
 * size −EDOM; unreadable struct −EFAULT; XENMAPSPACE_gmfn_foreign −ENOSYS (batch only);
 * unknown domain −ESRCH; a PV (non-translated) domain −EACCES; XSM −EPERM. Spaces:
 * shared_info (idx 0, else −EINVAL); grant_table (grantTableFrame: grows the table; bad
 * index −EINVAL); gmfn and gmfn_range −ENOSYS (not yet); any other space −EINVAL. A frame
 * already at the gpfn is given back first (guest_remove_page: see `releaseFrame`), and
 * the frame's previous gpfn, if any, becomes a hole, as `xenmem_add_to_physmap_one`.
 */
export function addToPhysmap(ctx: HypercallContext, startExtent: bigint, arg: bigint): number {
  const { machine, domain: caller } = ctx;
  if (startExtent > 0xffffn) return -Errno.EDOM;
  const layout = XEN_ADD_TO_PHYSMAP.layout(machine.arch.dataModel);
  if (readGuestStruct(ctx.vcpu, arg, layout, xatpBuf) !== 0) return -Errno.EFAULT;
  const space = layout.getNumber(xatpBuf.view, 0, "space");
  if (space === XENMAPSPACE_GMFN_FOREIGN) return -Errno.ENOSYS;
  const d = machine.findDomain(layout.getNumber(xatpBuf.view, 0, "domid"), caller);
  if (d === null) return -Errno.ESRCH;
  if (!translated(d)) return -Errno.EACCES;
  const denied = machine.xsm.memoryStatReservation(caller, d);
  if (denied !== 0) return denied;
  const idx = BigInt(layout.get(xatpBuf.view, 0, "idx"));
  const gpfnBig = BigInt(layout.get(xatpBuf.view, 0, "gpfn"));
  let mfn: number;
  switch (space) {
    case XENMAPSPACE_SHARED_INFO:
      if (idx !== 0n || d.sharedInfoMfn < 0) return -Errno.EINVAL;
      mfn = d.sharedInfoMfn;
      break;
    case XENMAPSPACE_GRANT_TABLE:
      mfn = grantTableFrame(machine, d, Number(idx & 0xffffffffn));
      if (mfn < 0) return mfn;
      break;
    case XENMAPSPACE_GMFN:
    case XENMAPSPACE_GMFN_RANGE:
      return -Errno.ENOSYS;
    default:
      // x86 xenmem_add_to_physmap_one: an unknown space leaves mfn INVALID_MFN → −EINVAL.
      return -Errno.EINVAL;
  }
  const { ulongMask } = widths(machine);
  if (gpfnBig === ulongMask || gpfnBig > BigInt(Number.MAX_SAFE_INTEGER)) return -Errno.EINVAL;
  const gpfn = Number(gpfnBig);
  const prev = p2mGet(d, gpfn);
  if (prev >= 0 && prev !== mfn) {
    if (machine.memory.frameTable.owner[prev] === d.id) {
      const rc = releaseFrame(machine, d, prev);
      if (rc !== 0) return rc;
    } else {
      p2mSet(machine, d, gpfn, -1);
    }
  }
  const old = m2pGet(machine, mfn);
  if (old >= 0 && p2mGet(d, old) === mfn) p2mSet(machine, d, old, -1);
  return physmapAdd(machine, d, gpfn, mfn, 0);
}
