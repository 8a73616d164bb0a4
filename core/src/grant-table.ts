/**
 * Per-domain grant-table state (xen/common/grant_table.c, Xen 4.19): the shared frames the
 * granting domain writes its entries in, in version 1 or 2, the v2 status frames, the
 * hypervisor's active entry per pinned grant (pin counts, the frame pinned, the grantee,
 * for v2 the byte range and the grant a transitive grant stands for) and the grantee's
 * maptrack (one record per map handle).
 *
 * Frames are hypervisor frames shared with the domain (share_xen_page_with_guest): their
 * owner is the domain, so it may map them, but they are not part of its reservation.
 * A table starts with {@link INITIAL_NR_GRANT_FRAMES} frame, version 1, and grows, on
 * setup_table or add_to_physmap, up to its domain's `max_grant_frames`. A v2 table has
 * one status frame per 8 grant frames (a 2-byte `grant_status_t` per 16-byte entry),
 * allocated with them (gnttab_populate_status_frames) and freed when the domain goes back
 * to v1.
 *
 * Pin counts use Xen's packing (GNTPIN_*: four 8-bit counters, host-write, host-read,
 * device-write, device-read), so the overflow rule is Xen's too.
 *
 * @module
 */
import { XEN_DOMCTL_GRANT_VERSION_MASK } from "./abi/domctl.js";
import { GNTTAB_NR_RESERVED_ENTRIES } from "./abi/grant-table.js";
import { XENMAPIDX_GRANT_TABLE_STATUS } from "./abi/memory.js";
import type { Domain } from "./domain.js";
import { Errno } from "./errno.js";
import type { Machine } from "./machine.js";

/** Frames a grant table has when the domain is created (INITIAL_NR_GRANT_FRAMES). */
export const INITIAL_NR_GRANT_FRAMES = 1;
/** Xen's default limit on grant-table frames per domain (gnttab_max_frames). */
export const MAX_GRANT_FRAMES = 64;
/** Xen's default limit on maptrack frames per domain (gnttab_max_maptrack_frames). */
export const MAX_MAPTRACK_FRAMES = 1024;
/**
 * The highest grant-table version the hypervisor offers (opt_gnttab_max_version, the
 * `gnttab=max-ver:` option; 2 by default). It bounds createdomain's grant_opts and is
 * what sysctl physinfo advertises (XEN_SYSCTL_PHYSCAP_gnttab_v1/_v2).
 */
export const GNTTAB_MAX_VERSION = 2;
/** Bytes of one v1 grant entry (`grant_entry_v1_t`). */
export const GRANT_ENTRY_V1_SIZE = 8;
/** Bytes of one v2 grant entry (`grant_entry_v2_t`). */
export const GRANT_ENTRY_V2_SIZE = 16;
/** Bytes of one v2 status entry (`grant_status_t`). */
export const GRANT_STATUS_SIZE = 2;
/** Bytes of one maptrack record (`struct grant_mapping`), which sets handles per frame. */
const GRANT_MAPPING_SIZE = 16;

export { GNTTAB_NR_RESERVED_ENTRIES };

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

/** The number of mappings (host or device halves) a packed pin count stands for. */
function pinnedHalves(pin: number): number {
  return (pin & 0xff) + ((pin >>> 8) & 0xff) + ((pin >>> 16) & 0xff) + ((pin >>> 24) & 0xff);
}

/** The hypervisor's record of one grant in use (`struct active_grant_entry`). */
export class ActiveGrant {
  /** Packed pin counts ({@link GntPin}); 0 when the grant is not in use. */
  pin = 0;
  /** The domain using it (valid while pinned). */
  domid = -1;
  /** The machine frame pinned. */
  mfn = -1;
  /**
   * The domain whose grant this pin stands on: the granter itself, or for a transitive
   * grant the domain it passes on (`src_domid`).
   */
  srcDomid = -1;
  /** The grant of {@link srcDomid} pinned with it (`trans_gref`; the entry itself if direct). */
  transGref = 0;
  /** First byte the grantee may access (`start`; a sub-page or transitive grant's offset). */
  start = 0;
  /** Bytes the grantee may access from {@link start} (`length`). */
  length = 0;
  /** True for a sub-page or transitive grant, which may be copied but not mapped. */
  isSubPage = false;
}

/** One map handle of the grantee (`struct grant_mapping`); `flags` 0 when free. */
export class MaptrackEntry {
  /** GNTMAP_* flags still mapped (host and/or device, readonly). */
  flags = 0;
  /** The granting domain's id. */
  domid = 0;
  /**
   * The granting domain itself, so that an id given to a new domain after the granter
   * was destroyed is never taken for it (Xen keeps a dying domain's id until its last
   * page is freed).
   */
  granter: Domain | null = null;
  /** The grant reference in the granter's table. */
  ref = 0;
  /**
   * The machine frame mapped, so the mapping can still be undone after the granter is
   * destroyed (its active entries go with it; the frame stays, see
   * {@link holdGrantMappedFrames}).
   */
  mfn = -1;
}

/** The limits createdomain sets for a domain's grant table (grant_table_init). */
export interface GrantLimits {
  /** Most grant frames (`max_grant_frames`). */
  readonly maxFrames: number;
  /** Most maptrack frames (`max_maptrack_frames`); 0 leaves the domain unable to map grants. */
  readonly maxMaptrackFrames: number;
  /** Highest version GNTTABOP_set_version may choose (`grant_opts` & XEN_DOMCTL_GRANT_version_mask). */
  readonly maxVersion: number;
}

/** The hypervisor's defaults, which a domain built without createdomain gets (xl's too). */
export const DEFAULT_GRANT_LIMITS: GrantLimits = {
  maxFrames: MAX_GRANT_FRAMES,
  maxMaptrackFrames: MAX_MAPTRACK_FRAMES,
  maxVersion: GNTTAB_MAX_VERSION,
};

/**
 * grant_table_init's checks of createdomain's grant fields: `grantOpts` must name a
 * version from 1 to {@link GNTTAB_MAX_VERSION} (0 or higher: −EINVAL; other bits are
 * sanitise_domain_config's to refuse); a negative frame limit takes the default; a
 * `maxGrantFrames` below {@link INITIAL_NR_GRANT_FRAMES} is −EINVAL. Returns the limits
 * or −EINVAL.
 */
export function grantLimitsOf(
  maxGrantFrames: number,
  maxMaptrackFrames: number,
  grantOpts: number,
): GrantLimits | number {
  const maxVersion = grantOpts & XEN_DOMCTL_GRANT_VERSION_MASK;
  if (maxVersion === 0 || maxVersion > GNTTAB_MAX_VERSION) return -Errno.EINVAL;
  const maxFrames = maxGrantFrames < 0 ? MAX_GRANT_FRAMES : maxGrantFrames;
  if (maxFrames < INITIAL_NR_GRANT_FRAMES) return -Errno.EINVAL;
  return {
    maxFrames,
    maxMaptrackFrames: maxMaptrackFrames < 0 ? MAX_MAPTRACK_FRAMES : maxMaptrackFrames,
    maxVersion,
  };
}

/** v2 status frames needed for `grantFrames` grant frames (grant_to_status_frames). */
export function grantToStatusFrames(pageSize: number, grantFrames: number): number {
  const perGrantFrame = pageSize / GRANT_ENTRY_V2_SIZE;
  const perStatusFrame = pageSize / GRANT_STATUS_SIZE;
  return Math.ceil((grantFrames * perGrantFrame) / perStatusFrame);
}

/** Grant frames whose status fills `statusFrames` status frames (status_to_grant_frames). */
function statusToGrantFrames(pageSize: number, statusFrames: number): number {
  const perGrantFrame = pageSize / GRANT_ENTRY_V2_SIZE;
  const perStatusFrame = pageSize / GRANT_STATUS_SIZE;
  return Math.ceil((statusFrames * perStatusFrame) / perGrantFrame);
}

/** A domain's grant table. */
export class GrantTable {
  /** Machine frames of the shared entries, in order. */
  readonly frames: number[] = [];
  /** Machine frames of the v2 status entries, in order (none in v1). */
  readonly statusFrames: number[] = [];
  /** The entry format in use (`gt_version`): 1 until GNTTABOP_set_version says 2. */
  version: 1 | 2 = 1;
  /** The most frames this table may grow to. */
  readonly maxFrames: number;
  /** The highest version the domain may switch to. */
  readonly maxVersion: number;
  /** Active entries by grant reference (absent: never pinned). */
  readonly active = new Map<number, ActiveGrant>();
  /** Map handles this domain holds, by handle. */
  readonly maptrack: MaptrackEntry[] = [];
  /** The most map handles this domain may hold. */
  readonly maxMaptrack: number;

  /**
   * @param pageSize - the machine's page size.
   * @param limits - the domain's limits.
   */
  constructor(
    readonly pageSize: number,
    limits: GrantLimits = DEFAULT_GRANT_LIMITS,
  ) {
    this.maxFrames = limits.maxFrames;
    this.maxVersion = limits.maxVersion;
    this.maxMaptrack = limits.maxMaptrackFrames * (pageSize / GRANT_MAPPING_SIZE);
  }

  /** Bytes of one entry in the current version. */
  get entrySize(): number {
    return this.version === 1 ? GRANT_ENTRY_V1_SIZE : GRANT_ENTRY_V2_SIZE;
  }

  /** Number of entries the current frames hold (nr_grant_entries). */
  get nrEntries(): number {
    return (this.frames.length * this.pageSize) / this.entrySize;
  }

  /** Machine byte address of entry `ref` (which must be below {@link nrEntries}). */
  entryAddress(ref: number): number {
    const byte = ref * this.entrySize;
    const frame = Math.floor(byte / this.pageSize);
    return this.frames[frame] * this.pageSize + (byte % this.pageSize);
  }

  /**
   * Machine byte address of the u16 where the hypervisor keeps GTF_reading / GTF_writing
   * for entry `ref`: the entry's own flags in v1, its `grant_status_t` in v2.
   */
  statusAddress(ref: number): number {
    if (this.version === 1) return this.entryAddress(ref);
    const byte = ref * GRANT_STATUS_SIZE;
    const frame = Math.floor(byte / this.pageSize);
    return this.statusFrames[frame] * this.pageSize + (byte % this.pageSize);
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

  /** True when an entry at or past GNTTAB_NR_RESERVED_ENTRIES is pinned (set_version's −EBUSY). */
  inUseBeyondReserved(): boolean {
    const n = this.nrEntries;
    for (const [ref, act] of this.active)
      if (ref >= GNTTAB_NR_RESERVED_ENTRIES && ref < n && act.pin !== 0) return true;
    return false;
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
 * Gives `domain` a grant table with `limits` (grant_table_init at domain creation; the
 * frames come on first use). Replaces a table never used; a domain whose table exists
 * keeps it.
 */
export function initGrantTable(machine: Machine, domain: Domain, limits: GrantLimits): void {
  const gt = tables.get(domain);
  if (gt && gt.frames.length > 0) return;
  tables.set(domain, new GrantTable(machine.memory.pageSize, limits));
}

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
 * owned by `domain`; a v2 table gets the status frames they need too. False when `nr`
 * exceeds the maximum or memory is short (nothing changes then). Asking for no more than
 * it has is a no-op.
 */
export function growGrantTable(
  machine: Machine,
  domain: Domain,
  gt: GrantTable,
  nr: number,
): boolean {
  if (nr > gt.maxFrames) return false;
  const status = gt.version === 2 ? grantToStatusFrames(gt.pageSize, nr) : 0;
  return addFrames(machine, domain, gt, nr - gt.frames.length, status - gt.statusFrames.length);
}

/**
 * gnttab_populate_status_frames, for a v1 table becoming v2: allocates the status frames
 * its current grant frames need. False (nothing allocated) when memory is short.
 */
export function populateStatusFrames(machine: Machine, domain: Domain, gt: GrantTable): boolean {
  const status = grantToStatusFrames(gt.pageSize, gt.frames.length);
  return addFrames(machine, domain, gt, 0, status - gt.statusFrames.length);
}

/** Allocates `shared` more grant frames and `status` more status frames, all or none. */
function addFrames(
  machine: Machine,
  domain: Domain,
  gt: GrantTable,
  shared: number,
  status: number,
): boolean {
  shared = Math.max(0, shared);
  status = Math.max(0, status);
  if (shared + status === 0) return true;
  const got = machine.allocXenFrames(shared + status);
  if (!got) return false;
  got.forEach((mfn, i) => {
    machine.memory.frameTable.owner[mfn] = domain.id;
    (i < shared ? gt.frames : gt.statusFrames).push(mfn);
  });
  return true;
}

/**
 * The machine frame of grant-table frame `index` of `domain` (gnttab_map_frame, for
 * XENMEM_add_to_physmap with XENMAPSPACE_grant_table), growing the table first: to
 * `index + 1` frames, or for a v2 table and an index with XENMAPIDX_grant_table_status
 * set, to the grant frames status frame `index & ~bit` needs. Returns the MFN, or −EINVAL
 * for an index at or past the maximum and when the table cannot grow (Xen's
 * gnttab_get_shared_frame_mfn and gnttab_get_status_frame_mfn give −EINVAL for both). A
 * v1 table treats the status bit as part of a (far too large) index.
 */
export function grantTableFrame(machine: Machine, domain: Domain, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index > 0xffffffff) return -Errno.EINVAL;
  const gt = grantTableOf(machine, domain);
  if (!gt) return -Errno.EINVAL;
  if (gt.version === 2 && index >= XENMAPIDX_GRANT_TABLE_STATUS) {
    const idx = index - XENMAPIDX_GRANT_TABLE_STATUS;
    const nrGrant = statusToGrantFrames(gt.pageSize, idx + 1);
    if (idx >= gt.statusFrames.length && nrGrant <= gt.maxFrames)
      growGrantTable(machine, domain, gt, nrGrant);
    return idx < gt.statusFrames.length ? gt.statusFrames[idx] : -Errno.EINVAL;
  }
  if (index >= gt.maxFrames || !growGrantTable(machine, domain, gt, index + 1))
    return -Errno.EINVAL;
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

/** True when `mfn` is one of the grant or status frames of `domain`'s table. */
export function grantTableOwnsFrame(domain: Domain, mfn: number): boolean {
  const gt = tables.get(domain);
  return gt !== undefined && (gt.frames.includes(mfn) || gt.statusFrames.includes(mfn));
}

/** Per machine: frames of destroyed granters still grant-mapped → mappings left. */
const heldFrames = new WeakMap<Machine, Map<number, number>>();

/**
 * The frames of `domain`, being destroyed, that other domains' grant mappings still pin
 * (active entries with a non-zero pin, once the domain's own mappings are released),
 * recorded with the number of mapping halves (host, device) that hold each. The caller
 * keeps these out of the free pool (owner DOMID_XEN); each unmap of a half gives one back
 * ({@link releaseHeldFrame}) and the last frees the frame. So a grantee never maps a
 * frame handed to someone else, and the frame is not lost either: Xen keeps the dying
 * domain until the last reference to its pages goes, then frees them.
 */
export function holdGrantMappedFrames(machine: Machine, domain: Domain): Set<number> {
  const held = new Set<number>();
  const gt = tables.get(domain);
  if (!gt) return held;
  let counts = heldFrames.get(machine);
  for (const act of gt.active.values()) {
    if (act.pin === 0 || act.mfn < 0) continue;
    if (!counts) {
      counts = new Map();
      heldFrames.set(machine, counts);
    }
    counts.set(act.mfn, (counts.get(act.mfn) ?? 0) + pinnedHalves(act.pin));
    held.add(act.mfn);
  }
  return held;
}

/**
 * One mapping half of a frame kept by {@link holdGrantMappedFrames} is gone; the last one
 * gives the frame back to the free pool. Does nothing for any other frame.
 */
export function releaseHeldFrame(machine: Machine, mfn: number): void {
  const counts = heldFrames.get(machine);
  const left = counts?.get(mfn);
  if (counts === undefined || left === undefined) return;
  if (left > 1) {
    counts.set(mfn, left - 1);
    return;
  }
  counts.delete(mfn);
  machine.freeXenFrame(mfn);
}

/** The frames of destroyed granters still mapped, with the mapping halves left (for checks). */
export function heldGrantFrames(machine: Machine): ReadonlyMap<number, number> {
  return heldFrames.get(machine) ?? new Map();
}
