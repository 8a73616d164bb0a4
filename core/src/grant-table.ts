/**
 * Per-domain grant-table state, v1 (xen/common/grant_table.c): the shared frames the
 * granting domain writes its entries in, the hypervisor's active entry per pinned grant
 * (pin counts, the frame pinned, the grantee) and the grantee's maptrack (one record
 * per map handle).
 *
 * Frames are hypervisor frames shared with the domain (share_xen_page_with_guest): their
 * owner is the domain, so it may map them, but they are not part of its reservation.
 * A table starts with {@link INITIAL_NR_GRANT_FRAMES} frame and grows, on setup_table or
 * add_to_physmap, up to {@link MAX_GRANT_FRAMES}.
 *
 * Pin counts use Xen's packing (GNTPIN_*: four 8-bit counters, host-write, host-read,
 * device-write, device-read), so the overflow rule is Xen's too.
 *
 * @module
 */
import type { Domain } from "./domain.js";
import { Errno } from "./errno.js";
import type { Machine } from "./machine.js";

/** Frames a grant table has when the domain is created (INITIAL_NR_GRANT_FRAMES). */
export const INITIAL_NR_GRANT_FRAMES = 1;
/** Xen's default limit on grant-table frames per domain (gnttab_max_frames). */
export const MAX_GRANT_FRAMES = 64;
/** Xen's default limit on maptrack frames per domain (gnttab_max_maptrack_frames). */
export const MAX_MAPTRACK_FRAMES = 1024;
/** Bytes of one v1 grant entry (`grant_entry_v1_t`). */
export const GRANT_ENTRY_V1_SIZE = 8;
/** Bytes of one maptrack record (`struct grant_mapping`), which sets handles per frame. */
const GRANT_MAPPING_SIZE = 16;

/** Pin-count increments (GNTPIN_*_inc) and masks; 8 bits per counter. */
export const GntPin = {
  /** Host mapping, writable. */
  hstwInc: 1 << 0,
  /** Host mapping, read-only. */
  hstrInc: 1 << 8,
  /** Device mapping, writable. */
  devwInc: 1 << 16,
  /** Device mapping, read-only. */
  devrInc: 1 << 24,
  /** All host-write pins. */
  hstwMask: 0xff << 0,
  /** All device-write pins. */
  devwMask: 0xff << 16,
} as const;

/** True when adding `incr` (a sum of GNTPIN increments) to `pin` could overflow a counter. */
export function pinWouldOverflow(pin: number, incr: number): boolean {
  // GNTPIN_incr2oflow_mask: the top bit of each counter being incremented.
  return ((pin >>> 0) & ((incr << 7) >>> 0)) !== 0;
}

/** The hypervisor's record of one grant in use (`struct active_grant_entry`). */
export class ActiveGrant {
  /** Packed pin counts ({@link GntPin}); 0 when the grant is not in use. */
  pin = 0;
  /** The domain using it (valid while pinned). */
  domid = -1;
  /** The machine frame pinned. */
  mfn = -1;
}

/** One map handle of the grantee (`struct grant_mapping`); `flags` 0 when free. */
export class MaptrackEntry {
  /** GNTMAP_* flags still mapped (host and/or device, readonly). */
  flags = 0;
  /** The granting domain. */
  domid = 0;
  /** The grant reference in the granter's table. */
  ref = 0;
  /**
   * The machine frame mapped, so the mapping can still be undone after the granter is
   * destroyed (its active entries go with it; the frame stays, see
   * {@link grantFramesMappedByOthers}).
   */
  mfn = -1;
}

/** A domain's grant table. */
export class GrantTable {
  /** Machine frames of the shared entries, in order. */
  readonly frames: number[] = [];
  /** The most frames this table may grow to. */
  readonly maxFrames = MAX_GRANT_FRAMES;
  /** Active entries by grant reference (absent: never pinned). */
  readonly active = new Map<number, ActiveGrant>();
  /** Map handles this domain holds, by handle. */
  readonly maptrack: MaptrackEntry[] = [];
  /** The most map handles this domain may hold. */
  readonly maxMaptrack: number;

  /** @param pageSize - the machine's page size. */
  constructor(readonly pageSize: number) {
    this.maxMaptrack = MAX_MAPTRACK_FRAMES * (pageSize / GRANT_MAPPING_SIZE);
  }

  /** Number of v1 entries the current frames hold (nr_grant_entries). */
  get nrEntries(): number {
    return (this.frames.length * this.pageSize) / GRANT_ENTRY_V1_SIZE;
  }

  /** Machine byte address of entry `ref` (which must be below {@link nrEntries}). */
  entryAddress(ref: number): number {
    const byte = ref * GRANT_ENTRY_V1_SIZE;
    const frame = Math.floor(byte / this.pageSize);
    return this.frames[frame] * this.pageSize + (byte % this.pageSize);
  }

  /** The active entry of `ref`, created unpinned on first use. */
  activeEntry(ref: number): ActiveGrant {
    let a = this.active.get(ref);
    if (!a) {
      a = new ActiveGrant();
      this.active.set(ref, a);
    }
    return a;
  }

  /** A free map handle (lowest first), or −1 when the maptrack is full (get_maptrack_handle). */
  takeHandle(): number {
    for (let h = 0; h < this.maptrack.length; h++) if (this.maptrack[h].flags === 0) return h;
    if (this.maptrack.length >= this.maxMaptrack) return -1;
    this.maptrack.push(new MaptrackEntry());
    return this.maptrack.length - 1;
  }
}

const tables = new WeakMap<Domain, GrantTable>();

/**
 * The grant table of `domain`, created with its initial frames on first use; null when
 * machine memory is too short for them.
 */
export function grantTableOf(machine: Machine, domain: Domain): GrantTable | null {
  let gt = tables.get(domain);
  if (!gt) {
    gt = new GrantTable(machine.memory.pageSize);
    tables.set(domain, gt);
  }
  if (gt.frames.length < INITIAL_NR_GRANT_FRAMES) {
    if (!growGrantTable(machine, domain, gt, INITIAL_NR_GRANT_FRAMES)) return null;
  }
  return gt;
}

/**
 * Grows `gt` to `nr` frames (gnttab_grow_table): new frames are zeroed hypervisor frames
 * owned by `domain`. False when `nr` exceeds the maximum or memory is short (nothing
 * changes then). Asking for no more than it has is a no-op.
 */
export function growGrantTable(
  machine: Machine,
  domain: Domain,
  gt: GrantTable,
  nr: number,
): boolean {
  if (nr > gt.maxFrames) return false;
  const need = nr - gt.frames.length;
  if (need <= 0) return true;
  const got = machine.allocXenFrames(need);
  if (!got) return false;
  for (const mfn of got) {
    machine.memory.frameTable.owner[mfn] = domain.id;
    gt.frames.push(mfn);
  }
  return true;
}

/**
 * The machine frame of grant-table frame `index` of `domain`, growing the table up to
 * `index + 1` frames first (gnttab_map_frame, for XENMEM_add_to_physmap with
 * XENMAPSPACE_grant_table). `index` with bit 31 set names a v2 status frame, which v1
 * tables do not have. Returns the MFN, or −EINVAL for an index at or past the maximum
 * (or a status frame) and when the table cannot grow (Xen's gnttab_get_shared_frame_mfn
 * gives −EINVAL for both).
 */
export function grantTableFrame(machine: Machine, domain: Domain, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_GRANT_FRAMES) return -Errno.EINVAL;
  const gt = grantTableOf(machine, domain);
  if (!gt || !growGrantTable(machine, domain, gt, index + 1)) return -Errno.EINVAL;
  return gt.frames[index];
}

/**
 * Every map handle `domain` holds, as [handle, entry] pairs with non-zero flags (for
 * invariant checks and tools).
 */
export function grantMappingsOf(domain: Domain): [number, MaptrackEntry][] {
  const gt = tables.get(domain);
  const out: [number, MaptrackEntry][] = [];
  if (!gt) return out;
  gt.maptrack.forEach((m, h) => {
    if (m.flags !== 0) out.push([h, m]);
  });
  return out;
}

/** The grant table of `domain` if it has one, without creating it. */
export function existingGrantTable(domain: Domain): GrantTable | undefined {
  return tables.get(domain);
}

/**
 * The frames of `domain` that other domains' grant mappings still pin (active entries
 * with a non-zero pin for another domain). When `domain` is destroyed these are not given
 * back to the free pool: Xen keeps a dying domain and its referenced pages until the last
 * mapping goes, so a grantee never ends up mapping a frame handed to someone else.
 */
export function grantFramesMappedByOthers(domain: Domain): Set<number> {
  const held = new Set<number>();
  const gt = tables.get(domain);
  if (!gt) return held;
  for (const act of gt.active.values())
    if (act.pin !== 0 && act.domid !== domain.id && act.mfn >= 0) held.add(act.mfn);
  return held;
}
