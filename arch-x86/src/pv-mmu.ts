/**
 * The x86 PV MMU: page types, type and reference counts, pinning and validation of guest
 * page tables, as Xen's `arch/x86/mm.c` does it for paravirtualized guests that manage
 * their own page tables (no shadow, no writable page tables). Shared by 64-bit PV
 * (4 levels) and 32-bit PAE PV (3 levels) guests; entries are 8 bytes in both.
 *
 * The rules it enforces, from Xen:
 * - An entry may only map a frame the domain owns (or one Xen shares with it).
 * - A writable mapping takes a `Writable` type reference, so a frame in use as a page
 *   table (or descriptor table) can never be mapped writable, and a frame mapped
 *   writable can never become a page table (get_page_from_l1e → −EBUSY).
 * - L2–L4 entries must point at frames validated as the next lower level, or (linear page
 *   tables, Xen's `pv-linear-pt`, on by default) read-only at a table of their own level:
 *   itself, taking nothing, or another one already validated that holds no such entries
 *   itself, while the table holding the entry is not itself in use that way
 *   (get_*_linear_pagetable, XSA-240's 16-bit counts). 32-bit PAE guests get no L3 ones.
 * - Flag bits outside Xen's allowed set (base_disallow_mask: PWT/PCD/PSE/G above L1 ...)
 *   are rejected with −EINVAL.
 * - The hypervisor's L4 slots (256–271, 0xFFFF800000000000–0xFFFF87FFFFFFFFFF) are
 *   filled by Xen on validation (the read-only M2P lives in slot 256) and cannot be
 *   changed by the guest.
 * - 64-bit PV kernels run in ring 3, so every present entry gets `_PAGE_USER`
 *   (adjust_guest_l*e); kernel-only L1 mappings are tagged `_PAGE_GUEST_KERNEL` (bit 52).
 * - 32-bit PAE PV guests (Xen's PV32, run in compatibility mode under a per-vCPU L4 Xen
 *   makes, {@link PvMmu.newCompatL4}): an L3 has 4 entries (the rest of its page is
 *   cleared on validation); slot 3 must be present and point at an L2 that is used
 *   nowhere else (`PGT_pae_xen_l2`, {@link PageFlag.PaeXenL2}) whose slots from
 *   {@link COMPAT_L2_FIRST_XEN_SLOT} up Xen fills with the read-only compat M2P (4-byte
 *   entries at {@link MACH2PHYS_COMPAT_VIRT_START}); L3 entries may carry only P, RW, US,
 *   A, D and the available bits (l3_disallow_mask 0xFFFFF198) and get RW and US added;
 *   slot 3 cannot be changed later (mod_l3_entry), nor the L2's Xen slots (−EPERM).
 *
 * Counts live in the core `FrameTable`: `type`/`typeCount` are the page type and
 * its reference count, `refCount` the general references, `flags` {@link PageFlag},
 * `linearCount` Xen's `linear_pt_count`.
 *
 * @module
 */
import {
  Errno,
  FRAME_FREE,
  FRAME_XEN,
  GNTMAP_APPLICATION_MAP,
  GNTMAP_CONTAINS_PTE,
  GNTMAP_READONLY,
  type ArchTypes,
  type Domain,
  type PhysicalMemory,
} from "@hvkit/core";

/** Xen's page types (PGT_*), kept in `FrameTable.type` (core). */
export enum PageType {
  /** Not typed. */
  None = 0,
  /** Level-1 page table (maps 4 KiB pages). */
  L1 = 1,
  /** Level-2 page table. */
  L2 = 2,
  /** Level-3 page table. */
  L3 = 3,
  /** Level-4 page table (the root for 64-bit PV). */
  L4 = 4,
  /** Mapped writable somewhere. */
  Writable = 5,
  /** A GDT/LDT page (segment descriptors). */
  SegDesc = 6,
}

/** Bits of `FrameTable.flags` (core) the PV MMU uses. */
export const PageFlag = {
  /** The frame is pinned as a page table (MMUEXT_PIN_L*_TABLE). */
  Pinned: 1,
  /** A read-only M2P frame (mappable only through Xen's slot). */
  M2p: 2,
  /** A Xen frame shared writable with the owning domain (shared_info, grant table). */
  Shared: 4,
  /**
   * The frame's type is fully validated (PGT_validated): set when validation of a frame
   * gaining its type succeeds, cleared when its last type reference goes. Only a validated
   * table can be the target of a linear entry.
   */
  Validated: 8,
  /**
   * PGT_pae_xen_l2: an L2 typed for slot 3 of a PV32 L3 (holds Xen's slots). Part of the
   * type: an L2 with it cannot be referenced as a plain L2 and the reverse; dropped with
   * the last type reference.
   */
  PaeXenL2: 16,
} as const;

/** x86 page-table entry flag bits (low word). */
export const Pte = {
  /** Present. */ P: 0x1,
  /** Writable. */ RW: 0x2,
  /** User. */ US: 0x4,
  /** Write-through. */ PWT: 0x8,
  /** Cache disable. */ PCD: 0x10,
  /** Accessed. */ A: 0x20,
  /** Dirty. */ D: 0x40,
  /** PSE (L2/L3) or PAT (L1). */ PSE: 0x80,
  /** Global. */ G: 0x100,
  /** Available to software (bits 9–11). */ AVAIL: 0xe00,
} as const;

/** `_PAGE_GUEST_KERNEL` (bit 52): a kernel-only mapping of a 64-bit PV guest, in the high word. */
export const PTE_HI_GUEST_KERNEL = 1 << 20;
/**
 * `_PAGE_GNTTAB` (bit 62), in the high word: marks an L1 entry made by a grant map (as
 * Xen's debug builds do). Guests may not set it; the references such an entry stands for
 * belong to the grant, so an ordinary update over it releases none.
 */
export const PTE_HI_GNTTAB = 1 << 30;
/** NX (bit 63), in the high word. */
export const PTE_HI_NX = 0x80000000;

/** First and last L4 slot Xen keeps for itself (HYPERVISOR_VIRT_START..END). */
export const XEN_L4_FIRST = 256;
/** Last hypervisor-owned L4 slot. */
export const XEN_L4_LAST = 271;
/** Virtual address of the read-only M2P table for 64-bit PV guests (RO_MPT_VIRT_START). */
export const RO_MPT_VIRT_START = 0xffff800000000000n;
/**
 * Start of the hypervisor's area in a 32-bit PV guest and of its read-only M2P
 * (x86_64/config.h __HYPERVISOR_COMPAT_VIRT_START = MACH2PHYS_COMPAT_VIRT_START).
 */
export const MACH2PHYS_COMPAT_VIRT_START = 0xf5800000;
/** End of the compat M2P area (MACH2PHYS_COMPAT_VIRT_END). */
export const MACH2PHYS_COMPAT_VIRT_END = 0xffe00000;
/** First L2 slot Xen owns in a PV32 guest's slot-3 L2 (COMPAT_L2_PAGETABLE_FIRST_XEN_SLOT: 428). */
export const COMPAT_L2_FIRST_XEN_SLOT = (MACH2PHYS_COMPAT_VIRT_START >>> 21) & 511;
/** Flag bits refused in a PV32 L3 entry (mm.c l3_disallow_mask; bits 12–23 stand for PTE bits 52–63). */
const COMPAT_L3_DISALLOW = 0xfffff198;

/** Flag bits a guest may set in an L2–L4 entry (Xen's ~base_disallow_mask, low word). */
const UPPER_ALLOWED = Pte.P | Pte.RW | Pte.US | Pte.A | Pte.D | Pte.AVAIL;
/** Flag bits a guest may set in an L1 entry (adds Global; cache attributes for privileged domains). */
const L1_ALLOWED = UPPER_ALLOWED | Pte.G;
const CACHE_ATTRS = Pte.PWT | Pte.PCD | Pte.PSE;
/**
 * Low-word bits of an L2–L4 entry a guest may change without revalidation (Xen's
 * FASTPATH_PDE_FLAG_WHITELIST with CONFIG_PV_LINEAR_PT: not RW, so a read-only linear
 * entry cannot be made writable in place, XSA-182). In the high word: NX and bits 52–62.
 */
const PDE_FASTPATH_LO = Pte.US | Pte.A | Pte.D | Pte.G | Pte.AVAIL;
/** The largest type count `FrameTable.typeCount` holds (Xen's PGT_count_mask). */
const TYPE_COUNT_MAX = 0x7fffffff;

/**
 * What the MMU must tell the CPUs when a mapping changes. `A`: the state types of the arch
 * that owns the CPUs (its domains' vCPUs carry them).
 */
export interface TlbControl<A extends ArchTypes = ArchTypes> {
  /** Drop every cached translation of `domain`'s vCPUs. */
  flushAll(domain: Domain<A>): void;
  /** Drop cached translations of `va` on `domain`'s vCPUs. */
  flushVa(domain: Domain<A>, va: bigint): void;
  /** Machine bytes `[pa, pa+len)` were written by the hypervisor (drop cached decodes). */
  invalidateCode(pa: number, len: number): void;
}

/** Paging geometry of one PV guest kind. */
export interface PvPagingFormat {
  /** Paging levels: 4 for 64-bit PV, 3 for PAE. */
  readonly levels: 3 | 4;
  /** True for 64-bit PV (entries get `_PAGE_USER`, Xen owns L4 slots 256–271). */
  readonly longMode: boolean;
}

/** The 64-bit PV paging format. */
export const PV64_PAGING: PvPagingFormat = { levels: 4, longMode: true };
/** The 32-bit PAE PV (compat) paging format. */
export const PV32_PAGING: PvPagingFormat = { levels: 3, longMode: false };

/**
 * The PV MMU of one machine. Stateless apart from the machine's frame table and the
 * read-only M2P it maintains.
 */
export class PvMmu {
  /** Machine address of the M2P table (one 8-byte guest pfn per machine frame). */
  readonly m2pBase: number;
  /** Frames holding the M2P. */
  readonly m2pFrames: number[];
  /** The Xen-owned L3 table Xen's L4 slot 256 points at (maps the M2P read-only). */
  readonly m2pL3: number;
  /** PV32: machine address of the compat M2P (one 4-byte pfn per machine frame); −1 otherwise. */
  readonly compatM2pBase: number = -1;
  /** PV32: the Xen-owned L1 tables mapping the compat M2P read-only (Xen's L2 slots from 428). */
  readonly compatM2pL1s: readonly number[] = [];
  private readonly ft;
  private readonly mem: Uint8Array;
  private readonly dv: DataView;

  /**
   * @param memory - machine memory (little-endian, 4 KiB frames).
   * @param format - paging format of the guests this MMU serves.
   * @param tlb - how to keep CPU TLBs coherent.
   * @param allocXen - allocates zeroed hypervisor-owned frames (the machine's allocator).
   * @param freeReleased - frees a frame its owner gave back while it was referenced
   *   (`FrameTable.released`) once its last general reference is gone: the core's
   *   `freeReleasedFrame` for the machine (Xen's `put_page` reaching zero).
   * @param linearPt - allow linear page tables (Xen's `pv-linear-pt`, default true).
   */
  constructor(
    readonly memory: PhysicalMemory,
    readonly format: PvPagingFormat,
    readonly tlb: TlbControl,
    readonly allocXen: (count: number) => number[],
    readonly freeReleased: (mfn: number) => void,
    readonly linearPt = true,
  ) {
    this.ft = memory.frameTable;
    this.mem = memory.bytes;
    this.dv = memory.view;
    const entries = memory.frames;
    const m2pPages = Math.ceil((entries * 8) / 4096);
    const l1Pages = Math.ceil(m2pPages / 512);
    const l2Pages = Math.ceil(l1Pages / 512);
    if (l2Pages > 1) throw new RangeError("machine too large for a one-L2 M2P mapping");
    const frames = allocXen(m2pPages + l1Pages + 2);
    if (frames.length < m2pPages + l1Pages + 2)
      throw new RangeError("no machine memory for the M2P table");
    this.m2pFrames = frames.slice(0, m2pPages);
    const l1s = frames.slice(m2pPages, m2pPages + l1Pages);
    const l2 = frames[m2pPages + l1Pages];
    this.m2pL3 = frames[m2pPages + l1Pages + 1];
    this.m2pBase = this.m2pFrames[0] * 4096;
    // The M2P frames are contiguous when claimed from a free tail; fall back to per-entry lookups otherwise.
    for (let i = 1; i < m2pPages; i++) {
      if (this.m2pFrames[i] !== this.m2pFrames[0] + i)
        throw new RangeError("M2P frames are not contiguous");
    }
    for (const f of this.m2pFrames) {
      this.mem.fill(0xff, f * 4096, f * 4096 + 4096);
      this.ft.flags[f] |= PageFlag.M2p;
    }
    const ro = Pte.P | Pte.US | Pte.A;
    for (let i = 0; i < m2pPages; i++)
      this.writeEntry(l1s[i >> 9] * 4096 + (i & 511) * 8, this.m2pFrames[i], ro, 0);
    for (let i = 0; i < l1Pages; i++) this.writeEntry(l2 * 4096 + i * 8, l1s[i], ro, 0);
    this.writeEntry(this.m2pL3 * 4096, l2, ro, 0);
    if (!format.longMode) {
      // The compat M2P: 4-byte entries, 1024 a page, one L1 per 2 MiB of them.
      const cPages = Math.ceil((entries * 4) / 4096);
      const cL1s = Math.ceil(cPages / 512);
      if (cL1s > 512 - COMPAT_L2_FIRST_XEN_SLOT)
        throw new RangeError("machine too large for the compat M2P area");
      const cf = allocXen(cPages + cL1s);
      for (let i = 1; i < cPages; i++) {
        if (cf[i] !== cf[0] + i) throw new RangeError("compat M2P frames are not contiguous");
      }
      for (let i = 0; i < cPages; i++) {
        this.mem.fill(0xff, cf[i] * 4096, cf[i] * 4096 + 4096);
        this.ft.flags[cf[i]] |= PageFlag.M2p;
        this.writeEntry(cf[cPages + (i >> 9)] * 4096 + (i & 511) * 8, cf[i], ro, 0);
      }
      this.compatM2pBase = cf[0] * 4096;
      this.compatM2pL1s = cf.slice(cPages);
    }
  }

  /**
   * PV32: a hypervisor-owned L4 for one vCPU (setup_compat_l4: a page with no owner):
   * Xen's slots filled, slot 0 (the guest's L3, {@link setCompatRoot}) empty. The CPU
   * runs the compat guest on it; the plugin gives it back with the domain
   * ({@link releaseCompatL4}).
   */
  newCompatL4(): number {
    const [l4] = this.allocXen(1);
    this.writeXenSlots(l4 * 4096);
    return l4;
  }

  /** Hands a vCPU's compat L4 to `d` so that destroying `d` frees it (free_compat_l4). */
  releaseCompatL4(l4: number, d: Domain): void {
    this.ft.owner[l4] = d.id;
  }

  /** Points slot 0 of a compat L4 at the guest's L3 `l3` (−1: none); takes no reference. */
  setCompatRoot(l4: number, l3: number): void {
    if (l3 < 0) this.dv.setBigUint64(l4 * 4096, 0n, true);
    else this.writeEntry(l4 * 4096, l3, Pte.P | Pte.RW | Pte.US | Pte.A, 0);
  }

  /** The check_descriptor rules of this MMU's guests (32-bit ones: ring 1, the compat area). */
  get descriptorRules(): DescriptorCheckOptions {
    return this.format.longMode ? {} : { pv32: true, compatVirtStart: MACH2PHYS_COMPAT_VIRT_START };
  }

  /** Records `pfn` as the guest frame of machine frame `mfn` in the M2P. */
  setM2p(mfn: number, pfn: number): void {
    const pa = this.m2pBase + mfn * 8;
    this.dv.setUint32(pa, pfn >>> 0, true);
    this.dv.setUint32(pa + 4, pfn < 0 ? 0xffffffff : Math.floor(pfn / 0x100000000), true);
    if (this.compatM2pBase >= 0) this.dv.setUint32(this.compatM2pBase + mfn * 4, pfn >>> 0, true);
  }

  /** The guest frame M2P records for `mfn` (−1 for none). */
  getM2p(mfn: number): number {
    const pa = this.m2pBase + mfn * 8;
    const hi = this.dv.getUint32(pa + 4, true);
    if (hi >= 0x200000) return -1;
    return hi * 0x100000000 + this.dv.getUint32(pa, true);
  }

  /** Reads the entry at machine address `pa` as [low word, high word]. */
  readEntryLo(pa: number): number {
    return this.dv.getUint32(pa, true);
  }
  /** High word of the entry at `pa`. */
  readEntryHi(pa: number): number {
    return this.dv.getUint32(pa + 4, true);
  }

  /** Writes an entry mapping `mfn` with low flags `lo` and high-word flags `hiFlags`. */
  writeEntry(pa: number, mfn: number, lo: number, hiFlags: number): void {
    this.dv.setUint32(pa, ((mfn % 0x100000) * 4096 + (lo & 0xfff)) >>> 0, true);
    this.dv.setUint32(
      pa + 4,
      ((Math.floor(mfn / 0x100000) & 0xfffff) | (hiFlags & 0xfff00000)) >>> 0,
      true,
    );
  }

  /** The frame number of an entry given its two words. */
  static frameOf(lo: number, hi: number): number {
    return (hi & 0xfffff) * 0x100000 + (lo >>> 12);
  }

  /** Takes a general reference on `mfn` for `d`; false when `d` may not reference it. */
  getPage(mfn: number, d: Domain): boolean {
    if (mfn < 0 || mfn >= this.ft.frames) return false;
    const owner = this.ft.owner[mfn];
    if (owner !== d.id) return false;
    this.ft.refCount[mfn]++;
    return true;
  }

  /** Drops a general reference; a frame given back by its owner is freed with its last. */
  putPage(mfn: number): void {
    if (--this.ft.refCount[mfn] === 0 && this.ft.released[mfn] !== 0) this.freeReleased(mfn);
  }

  /**
   * Takes a type reference of `type` on `mfn`, validating the frame when it gains the
   * type (Xen's get_page_type). Returns 0 or −errno.
   */
  getPageType(mfn: number, type: PageType, d: Domain, paeXenL2 = false): number {
    const ft = this.ft;
    if (ft.flags[mfn] & PageFlag.Shared) return -Errno.EINVAL;
    const xenL2 = paeXenL2 ? PageFlag.PaeXenL2 : 0;
    if (ft.typeCount[mfn] > 0) {
      if (
        ft.type[mfn] !== type ||
        (ft.flags[mfn] & PageFlag.PaeXenL2) !== xenL2 ||
        ft.typeCount[mfn] === TYPE_COUNT_MAX
      )
        return -Errno.EINVAL;
      ft.typeCount[mfn]++;
      return 0;
    }
    ft.type[mfn] = type;
    ft.typeCount[mfn] = 1;
    ft.flags[mfn] = (ft.flags[mfn] & ~(PageFlag.Validated | PageFlag.PaeXenL2)) | xenL2;
    let rc = 0;
    if (type >= PageType.L1 && type <= PageType.L4) {
      ft.linearCount[mfn] = 0;
      rc = this.validateTable(mfn, type, d);
    } else if (type === PageType.SegDesc)
      rc = validateDescriptorPage(this.mem, mfn * 4096, this.descriptorRules);
    if (rc !== 0) {
      ft.typeCount[mfn] = 0;
      ft.type[mfn] = PageType.None;
      ft.flags[mfn] &= ~PageFlag.PaeXenL2;
      return rc;
    }
    ft.flags[mfn] |= PageFlag.Validated;
    return 0;
  }

  /** Drops a type reference; a page table losing its last one releases what its entries held. */
  putPageType(mfn: number, d: Domain): void {
    const ft = this.ft;
    if (--ft.typeCount[mfn] > 0) return;
    ft.flags[mfn] &= ~PageFlag.Validated;
    const type = ft.type[mfn];
    if (type >= PageType.L1 && type <= PageType.L4) this.devalidateTable(mfn, type, d, 512);
    ft.typeCount[mfn] = 0;
    ft.flags[mfn] &= ~PageFlag.PaeXenL2;
  }

  /** get_page + get_page_type together; undoes the first when the second fails. */
  getPageAndType(mfn: number, type: PageType, d: Domain, paeXenL2 = false): number {
    if (!this.getPage(mfn, d)) return -Errno.EINVAL;
    const rc = this.getPageType(mfn, type, d, paeXenL2);
    if (rc !== 0) this.putPage(mfn);
    return rc;
  }

  /** put_page_type + put_page. */
  putPageAndType(mfn: number, d: Domain): void {
    this.putPageType(mfn, d);
    this.putPage(mfn);
  }

  /**
   * True when `slot` of the table `mfn` at `level` is the hypervisor's, not the guest's:
   * 64-bit PV L4 slots 256–271; a PV32 slot-3 L2's slots from 428 (is_guest_l2_slot).
   */
  isXenSlot(mfn: number, level: number, slot: number): boolean {
    if (this.format.longMode) return level === 4 && slot >= XEN_L4_FIRST && slot <= XEN_L4_LAST;
    return (
      level === 2 &&
      slot >= COMPAT_L2_FIRST_XEN_SLOT &&
      (this.ft.flags[mfn] & PageFlag.PaeXenL2) !== 0
    );
  }

  /** Validates every entry of a page-table frame becoming `level`; on failure releases what it took. */
  private validateTable(mfn: number, level: number, d: Domain): number {
    const base = mfn * 4096;
    if (!this.format.longMode && level === 3) return this.validateCompatL3(mfn, d);
    for (let i = 0; i < 512; i++) {
      if (this.isXenSlot(mfn, level, i)) continue;
      const pa = base + i * 8;
      const lo = this.dv.getUint32(pa, true);
      if (!(lo & Pte.P)) continue;
      const hi = this.dv.getUint32(pa + 4, true);
      const rc = this.getPageFromEntry(level, lo, hi, d, mfn);
      if (rc !== 0) {
        this.devalidateTable(mfn, level, d, i);
        return rc;
      }
      this.adjust(level, lo, hi);
      this.dv.setUint32(pa, this.adjLo, true);
      this.dv.setUint32(pa + 4, this.adjHi, true);
    }
    if (this.format.longMode && level === 4) this.writeXenSlots(base);
    else if (this.isXenSlot(mfn, level, COMPAT_L2_FIRST_XEN_SLOT)) this.writeCompatL2Slots(base);
    this.tlb.invalidateCode(base, 4096);
    return 0;
  }

  /**
   * A PV32 L3 (promote_l3_table): entries 4–511 cleared; 0–2 as any L3 entry; slot 3
   * present with allowed flags, its L2 typed `PGT_pae_xen_l2` and referenced only there
   * (pae_xen_mappings_check). −EINVAL otherwise, releasing what was taken.
   */
  private validateCompatL3(mfn: number, d: Domain): number {
    const base = mfn * 4096;
    this.mem.fill(0, base + 32, base + 4096);
    for (let i = 0; i < 4; i++) {
      const pa = base + i * 8;
      const lo = this.dv.getUint32(pa, true);
      const hi = this.dv.getUint32(pa + 4, true);
      let rc = 0;
      if (i === 3) {
        if (!(lo & Pte.P)) rc = -Errno.EINVAL;
        else rc = this.getPageFromEntry(3, lo, hi, d, mfn, true);
        if (rc === 0 && this.ft.typeCount[PvMmu.frameOf(lo, hi)] !== 1) {
          this.putPageFromEntry(3, lo, hi, d, mfn);
          rc = -Errno.EINVAL;
        }
      } else if (lo & Pte.P) {
        rc = this.getPageFromEntry(3, lo, hi, d, mfn);
      } else continue;
      if (rc !== 0) {
        this.devalidateTable(mfn, 3, d, i);
        return rc;
      }
      this.adjust(3, lo, hi);
      this.dv.setUint32(pa, this.adjLo, true);
      this.dv.setUint32(pa + 4, this.adjHi, true);
    }
    this.tlb.invalidateCode(base, 4096);
    return 0;
  }

  /** Fills Xen's slots of a PV32 slot-3 L2 at `base` (init_xen_pae_l2_slots): the compat M2P. */
  writeCompatL2Slots(base: number): void {
    for (let i = COMPAT_L2_FIRST_XEN_SLOT; i < 512; i++)
      this.dv.setBigUint64(base + i * 8, 0n, true);
    const l1s = this.compatM2pL1s;
    for (let i = 0; i < l1s.length; i++)
      this.writeEntry(base + (COMPAT_L2_FIRST_XEN_SLOT + i) * 8, l1s[i], Pte.P | Pte.US | Pte.A, 0);
  }

  /** Fills Xen's L4 slots of the L4 at machine address `base` (init_xen_l4_slots). */
  writeXenSlots(base: number): void {
    for (let i = XEN_L4_FIRST; i <= XEN_L4_LAST; i++) this.dv.setBigUint64(base + i * 8, 0n, true);
    this.writeEntry(base + XEN_L4_FIRST * 8, this.m2pL3, Pte.P | Pte.US | Pte.A, 0);
  }

  /** Releases the references held by entries `[0, upTo)` of a page-table frame. */
  private devalidateTable(mfn: number, level: number, d: Domain, upTo: number): void {
    const base = mfn * 4096;
    for (let i = 0; i < upTo; i++) {
      if (this.isXenSlot(mfn, level, i)) continue;
      const lo = this.dv.getUint32(base + i * 8, true);
      if (lo & Pte.P)
        this.putPageFromEntry(level, lo, this.dv.getUint32(base + i * 8 + 4, true), d, mfn);
    }
  }

  /** Low word of the last {@link adjust} result. */
  adjLo = 0;
  /** High word of the last {@link adjust} result. */
  adjHi = 0;

  /**
   * An entry as Xen stores it (adjust_guest_l*e): 64-bit PV kernels run in ring 3, so
   * every present entry gets `_PAGE_USER`; an L1 entry the guest made supervisor-only is
   * tagged `_PAGE_GUEST_KERNEL`, one it made user gets Global. Result in
   * {@link adjLo}/{@link adjHi}.
   */
  adjust(level: number, lo: number, hi: number): void {
    this.adjLo = lo >>> 0;
    this.adjHi = hi >>> 0;
    if (!(lo & Pte.P)) return;
    if (!this.format.longMode) {
      // adjust_guest_l3e for PV32: the guest's PAE L3 entries become long-mode ones.
      if (level === 3) this.adjLo = (lo | Pte.US | Pte.RW) >>> 0;
      return;
    }
    if (level > 1) {
      this.adjLo = (lo | Pte.US) >>> 0;
    } else if (!(lo & Pte.US)) {
      this.adjLo = (lo | Pte.US) >>> 0;
      this.adjHi = (hi | PTE_HI_GUEST_KERNEL) >>> 0;
    } else if (!(hi & PTE_HI_GUEST_KERNEL)) {
      this.adjLo = (lo | Pte.G) >>> 0;
    }
  }

  /**
   * The references an entry at `level` of table `table` needs (get_page_from_l*e). Returns
   * 0 or −errno: −EINVAL for disallowed flags or a bad table (also a refused linear
   * entry), −EBUSY for a frame the domain may not map (writable) — as Xen.
   */
  getPageFromEntry(
    level: number,
    lo: number,
    hi: number,
    d: Domain,
    table: number,
    paeXenL2 = false,
  ): number {
    if (!(lo & Pte.P)) return 0;
    const mfn = PvMmu.frameOf(lo, hi);
    if (level === 1) {
      const allowed = d.privileged ? L1_ALLOWED | CACHE_ATTRS : L1_ALLOWED;
      if (lo & 0xfff & ~allowed || hi & PTE_HI_GNTTAB) return -Errno.EINVAL;
      if (mfn >= this.ft.frames) return -Errno.EINVAL;
      if (this.ft.owner[mfn] !== d.id) return -Errno.EBUSY;
      const shared = (this.ft.flags[mfn] & PageFlag.Shared) !== 0;
      this.ft.refCount[mfn]++;
      if (lo & Pte.RW && !shared) {
        if (this.getPageType(mfn, PageType.Writable, d) !== 0) {
          this.putPage(mfn);
          return -Errno.EBUSY;
        }
      }
      return 0;
    }
    if (level === 3 && !this.format.longMode) {
      if (((lo & 0xfff) | ((hi >>> 20) << 12)) & COMPAT_L3_DISALLOW) return -Errno.EINVAL;
    } else if (lo & 0xfff & ~UPPER_ALLOWED) return -Errno.EINVAL;
    if (mfn >= this.ft.frames) return -Errno.EINVAL;
    const rc = this.getPageAndType(mfn, (level - 1) as PageType, d, paeXenL2);
    // Xen tries a linear entry when the frame is refused as the next level down with
    // −EINVAL; 32-bit PV guests get none at L3 (get_page_from_l3e).
    if (
      rc === -Errno.EINVAL &&
      (level !== 3 || this.format.longMode) &&
      this.getLinearPageTable(level, lo, mfn, table, d)
    )
      return 0;
    return rc;
  }

  /**
   * A read-only entry of table `table` (at `level`) naming `mfn`, a table of the same
   * level (get_l*_linear_pagetable): true when allowed, with the references taken. Naming
   * `table` itself takes none. Another table must be `d`'s, as must `table`, validated at
   * `level` with room in its type count; it may hold no linear entries itself, nor may
   * `table` be the target of one ({@link FrameTable.linearCount}, 16 bits: XSA-240).
   */
  private getLinearPageTable(
    level: number,
    lo: number,
    mfn: number,
    table: number,
    d: Domain,
  ): boolean {
    if (!this.linearPt || lo & Pte.RW) return false;
    if (mfn === table) return true;
    const ft = this.ft;
    if (ft.owner[table] !== d.id || !this.getPage(mfn, d)) return false;
    const entries = ft.linearCount[table] + 1;
    const uses = ft.linearCount[mfn] - 1;
    if ((entries << 16) >> 16 <= 0 || (uses << 16) >> 16 >= 0) {
      this.putPage(mfn);
      return false;
    }
    if (
      ft.typeCount[mfn] === TYPE_COUNT_MAX ||
      ft.type[mfn] !== level ||
      !(ft.flags[mfn] & PageFlag.Validated)
    ) {
      this.putPage(mfn);
      return false;
    }
    ft.linearCount[table] = entries;
    ft.linearCount[mfn] = uses;
    ft.typeCount[mfn]++;
    return true;
  }

  /** Releases what {@link getPageFromEntry} took for an entry of table `table`. */
  putPageFromEntry(level: number, lo: number, hi: number, d: Domain, table: number): void {
    if (!(lo & Pte.P)) return;
    const mfn = PvMmu.frameOf(lo, hi);
    if (mfn >= this.ft.frames) return;
    if (level === 1) {
      if (hi & PTE_HI_GNTTAB) return;
      if (lo & Pte.RW && !(this.ft.flags[mfn] & PageFlag.Shared)) this.putPageType(mfn, d);
      this.putPage(mfn);
      return;
    }
    // put_page_from_l*e: a table naming itself holds nothing; one naming another table of
    // its own level gives back that linear use (_put_page_type with ptpg).
    if (mfn === table) return;
    if (this.ft.type[mfn] === level) {
      this.ft.linearCount[mfn]++;
      this.ft.linearCount[table]--;
    }
    this.putPageAndType(mfn, d);
  }

  /**
   * Changes the page-table entry at machine address `pa` (mod_l*_entry; the frame's
   * current page type gives its level): validates the new entry, takes its references,
   * writes it, releases the old entry's and flushes the domain's TLBs. An L2–L4 entry that
   * keeps its frame and every bit but accessed, dirty, user, global and the available ones
   * is written as it is, holding what it held (Xen's fast path). Returns 0 or −errno.
   */
  modEntry(pa: number, lo: number, hi: number, d: Domain, preserveAd: boolean): number {
    const tableMfn = Math.floor(pa / 4096);
    const level = this.ft.type[tableMfn];
    const slot = (pa & 4095) >> 3;
    if (this.isXenSlot(tableMfn, level, slot))
      return this.format.longMode ? -Errno.EINVAL : -Errno.EPERM;
    // mod_l3_entry: a PV32 L3's slot 3 (Xen's L2) and beyond cannot change.
    if (!this.format.longMode && level === 3 && slot >= 3) return -Errno.EINVAL;
    const olo = this.dv.getUint32(pa, true);
    const ohi = this.dv.getUint32(pa + 4, true);
    if (preserveAd) lo |= olo & (Pte.A | Pte.D);
    let held = false;
    if (lo & Pte.P) {
      if (level > 1 && lo & 0xfff & ~UPPER_ALLOWED) return -Errno.EINVAL;
      if (level === 3 && !this.format.longMode && ((hi >>> 20) << 12) & COMPAT_L3_DISALLOW)
        return -Errno.EINVAL;
      this.adjust(level, lo, hi);
      // Kept before validation, which adjusts the entries of the tables it validates.
      const alo = this.adjLo;
      const ahi = this.adjHi;
      held = level > 1 && ((olo ^ alo) & ~PDE_FASTPATH_LO) === 0 && ((ohi ^ hi) & 0xfffff) === 0;
      if (!held) {
        const rc = this.getPageFromEntry(level, lo, hi, d, tableMfn);
        if (rc !== 0) return rc;
      }
      lo = alo;
      hi = ahi;
    }
    this.dv.setUint32(pa, lo >>> 0, true);
    this.dv.setUint32(pa + 4, hi >>> 0, true);
    if (olo & Pte.P && !held) this.putPageFromEntry(level, olo, ohi, d, tableMfn);
    this.tlb.invalidateCode(pa, 8);
    this.tlb.flushAll(d);
    return 0;
  }

  /**
   * The machine address of the L1 entry a grant host mapping names (GNTMAP_contains_pte:
   * `addr` is that address, 8-byte aligned; else the L1 entry for virtual address `addr`
   * in the tables rooted at `rootMfn`), provided the entry lies in an L1 table `d` owns;
   * −1 otherwise.
   */
  private grantL1e(rootMfn: number, addr: bigint, flags: number, d: Domain): number {
    let pa: number;
    if (flags & GNTMAP_CONTAINS_PTE) {
      if (addr % 8n !== 0n || addr >= BigInt(this.ft.frames * 4096)) return -1;
      pa = Number(addr);
    } else {
      pa = this.l1eAddress(rootMfn, addr);
      if (pa < 0) return -1;
    }
    const l1 = Math.floor(pa / 4096);
    const ft = this.ft;
    if (ft.owner[l1] !== d.id || ft.type[l1] !== PageType.L1 || ft.typeCount[l1] === 0) return -1;
    return pa;
  }

  /** The L1 flags of a grant mapping (grant_to_pte_flags): low word in {@link adjLo}, high in {@link adjHi}. */
  private grantEntryFlags(flags: number): void {
    let lo = Pte.P | Pte.A | Pte.D;
    if (flags & GNTMAP_APPLICATION_MAP) lo |= Pte.US;
    if (!(flags & GNTMAP_READONLY)) lo |= Pte.RW;
    this.adjust(1, lo, PTE_HI_NX | PTE_HI_GNTTAB);
  }

  /**
   * Installs a grant host mapping of `mfn` for `d` (create_grant_pv_mapping) and releases
   * what the entry mapped before. The entry takes no references (the grant holds them).
   * Returns 0, or −1 (GNTST_general_error) when `addr` names no L1 entry of `d`.
   */
  createGrantMapping(rootMfn: number, addr: bigint, mfn: number, flags: number, d: Domain): number {
    const pa = this.grantL1e(rootMfn, addr, flags, d);
    if (pa < 0) return -1;
    const olo = this.dv.getUint32(pa, true);
    const ohi = this.dv.getUint32(pa + 4, true);
    this.grantEntryFlags(flags);
    this.writeEntry(pa, mfn, this.adjLo, this.adjHi);
    if (olo & Pte.P) this.putPageFromEntry(1, olo, ohi, d, Math.floor(pa / 4096));
    this.tlb.invalidateCode(pa, 8);
    this.tlb.flushAll(d);
    return 0;
  }

  /**
   * Removes a grant host mapping (replace_grant_pv_mapping): the entry must map `mfn`
   * with the presence and write access of `flags`, else −1 (GNTST_general_error) and the
   * entry stays. With `newAddr` non-zero (unmap_and_replace; not with contains_pte) the
   * L1 entry for linear `newAddr` is first taken from there (steal_linear_address) and
   * written in place of the grant's, its references moving with it; on failure it is
   * released. Returns 0 or −1.
   */
  replaceGrantMapping(
    rootMfn: number,
    addr: bigint,
    mfn: number,
    newAddr: bigint,
    flags: number,
    d: Domain,
  ): number {
    let nlo = 0;
    let nhi = 0;
    let nTable = -1;
    if (newAddr !== 0n) {
      if (flags & GNTMAP_CONTAINS_PTE) return -1;
      const npa = this.grantL1e(rootMfn, newAddr, 0, d);
      if (npa < 0) return -1;
      nTable = Math.floor(npa / 4096);
      nlo = this.dv.getUint32(npa, true);
      nhi = this.dv.getUint32(npa + 4, true);
      this.dv.setBigUint64(npa, 0n, true);
      this.tlb.invalidateCode(npa, 8);
    }
    const pa = this.grantL1e(rootMfn, addr, flags, d);
    const olo = pa < 0 ? 0 : this.dv.getUint32(pa, true);
    const ohi = pa < 0 ? 0 : this.dv.getUint32(pa + 4, true);
    this.grantEntryFlags(flags);
    if (
      pa < 0 ||
      PvMmu.frameOf(olo, ohi) !== mfn ||
      ((olo ^ this.adjLo) & (Pte.P | Pte.RW)) !== 0
    ) {
      if (nlo & Pte.P) this.putPageFromEntry(1, nlo, nhi, d, nTable);
      if (newAddr !== 0n) this.tlb.flushAll(d);
      return -1;
    }
    this.dv.setUint32(pa, nlo >>> 0, true);
    this.dv.setUint32(pa + 4, nhi >>> 0, true);
    this.tlb.invalidateCode(pa, 8);
    this.tlb.flushAll(d);
    return 0;
  }

  /** True when `va` is an address of this format's guests: canonical, or below 4 GiB for PV32. */
  inAddressSpace(va: bigint): boolean {
    return this.format.longMode ? isCanonical(va) : va >= 0n && va < 0x100000000n;
  }

  /**
   * Walks the page tables rooted at `rootMfn` down to the L1 entry for `va`
   * (map_guest_l1e). Returns the L1 entry's machine address or −1.
   */
  l1eAddress(rootMfn: number, va: bigint): number {
    if (!this.inAddressSpace(va)) return -1;
    let table = rootMfn;
    for (let level: number = this.format.levels; level > 1; level--) {
      const idx = Number((va >> BigInt(12 + 9 * (level - 1))) & 511n);
      const pa = table * 4096 + idx * 8;
      const lo = this.dv.getUint32(pa, true);
      if (!(lo & Pte.P)) return -1;
      table = PvMmu.frameOf(lo, this.dv.getUint32(pa + 4, true));
      if (table >= this.ft.frames) return -1;
    }
    return table * 4096 + Number((va >> 12n) & 511n) * 8;
  }

  /**
   * Translates `va` through the tables rooted at `rootMfn` for a hypervisor access on the
   * guest's behalf: every level present, all levels writable for a write; sets accessed
   * (and dirty on writes). Returns the machine address or −1.
   */
  translate(rootMfn: number, va: bigint, write: boolean): number {
    if (rootMfn < 0 || !this.inAddressSpace(va)) return -1;
    let table = rootMfn;
    const vlo = Number(va & 0xffffffffn);
    const vhi = Number((va >> 32n) & 0xffffn);
    for (let level: number = this.format.levels; level >= 1; level--) {
      const shift = 12 + 9 * (level - 1);
      const idx =
        shift >= 32
          ? (vhi >>> (shift - 32)) & 511
          : ((vlo >>> shift) | (shift > 23 ? vhi << (32 - shift) : 0)) & 511;
      const pa = table * 4096 + idx * 8;
      let lo = this.dv.getUint32(pa, true);
      if (!(lo & Pte.P)) return -1;
      if (write && !(lo & Pte.RW)) return -1;
      const hi = this.dv.getUint32(pa + 4, true);
      lo |= Pte.A;
      if (level === 1 && write) lo |= Pte.D;
      this.dv.setUint32(pa, lo >>> 0, true);
      table = PvMmu.frameOf(lo, hi);
      if (table >= this.ft.frames) return -1;
    }
    return table * 4096 + (vlo & 4095);
  }
}

/** True when `va` is a canonical 48-bit address. */
export function isCanonical(va: bigint): boolean {
  const top = va >> 47n;
  return top === 0n || top === 0x1ffffn;
}

/**
 * Marks hypervisor frame `mfn` as shared writable with `domid` (share_xen_page_with_guest:
 * the domain becomes its owner, so it may map it writable, but it never takes a page type
 * and is not part of the domain's reservation).
 */
export function shareXenFrame(memory: PhysicalMemory, mfn: number, domid: number): void {
  const ft = memory.frameTable;
  ft.owner[mfn] = domid;
  ft.flags[mfn] |= PageFlag.Shared;
}

/**
 * Claims `count` free frames from the top of machine memory for the hypervisor itself
 * (owner `FRAME_XEN`), zeroed, in ascending order.
 */
export function claimXenFrames(memory: PhysicalMemory, count: number): number[] {
  const ft = memory.frameTable;
  const out: number[] = [];
  for (let f = ft.frames - 1; f >= 0 && out.length < count; f--) {
    if (ft.owner[f] === FRAME_FREE) {
      ft.owner[f] = FRAME_XEN;
      out.push(f);
    }
  }
  if (out.length < count)
    throw new RangeError(`out of machine memory claiming ${count} hypervisor frames`);
  out.reverse();
  for (const f of out) if (ft.takeUsed(f)) memory.bytes.fill(0, f * 4096, f * 4096 + 4096);
  return out;
}

/** A segment descriptor as {@link checkDescriptor} accepted it (possibly fixed up). */
export interface CheckedDescriptor {
  /** Low word. */
  lo: number;
  /** High word. */
  hi: number;
}

/** Which guests {@link checkDescriptor} checks for. */
export interface DescriptorCheckOptions {
  /** A 32-bit PV guest (kernel in ring 1) rather than a 64-bit one (kernel in ring 3). */
  pv32?: boolean;
  /** The domain's HYPERVISOR_COMPAT_VIRT_START (32-bit guests; Xen's default 0xf5800000). */
  compatVirtStart?: number;
}

/** FIRST_RESERVED_GDT_ENTRY: selectors at and above 0xe000 name Xen's descriptors. */
const FIRST_RESERVED_ENTRY = 7168;

/**
 * Checks one 8-byte segment descriptor as Xen's check_descriptor does
 * (pv/descriptor-tables.c), returning the words to store or null when refused:
 * - not present, and system type 0 (the upper half of a call gate): accepted unchanged;
 * - code/data: the DPL raised to the guest kernel's ring (3, or 1 for 32-bit guests); a
 *   32-bit guest's must not set L, and a flat segment reaching past the compat M2P area
 *   is widened to 4 GiB;
 * - a call gate whose target selector is in the guest's GDT range, its LDT, or the flat
 *   kernel CS: accepted with DPL 0 (so any use faults with #GP(gate) for Xen to emulate)
 *   and the original DPL kept in the target selector's RPL; its reserved bits (7–0 of the
 *   high word for 64-bit guests, 7–5 for 32-bit ones) must be clear;
 * - every other system descriptor: refused.
 */
export function checkDescriptor(
  lo: number,
  hi: number,
  options: DescriptorCheckOptions = {},
): CheckedDescriptor | null {
  let a = lo >>> 0;
  let b = hi >>> 0;
  if ((b & 0x8000) === 0) return { lo: a, hi: b };
  const kernelRpl = options.pv32 ? 1 : 3;
  let dpl = (b >>> 13) & 3;
  if (dpl < kernelRpl) dpl = kernelRpl;
  b = ((b & ~0x6000) | (dpl << 13)) >>> 0;
  if ((b & 0x1000) !== 0) {
    if (options.pv32) {
      if ((b & 0x200000) !== 0) return null;
      const base = (b & 0xff000000) | ((b & 0xff) << 16) | (a >>> 16);
      let limit = ((b & 0xf0000) | (a & 0xffff)) + 1;
      if ((b & 0x800000) !== 0) limit *= 4096;
      if (base === 0 && limit > (options.compatVirtStart ?? 0xf5800000)) {
        a = (a | 0xffff) >>> 0;
        b = (b | 0xf0000) >>> 0;
      }
    }
    return { lo: a, hi: b };
  }
  const type = (b >>> 8) & 0xf;
  if (type === 0) return { lo: lo >>> 0, hi: hi >>> 0 };
  if (type !== 0xc) return null;
  let cs = a >>> 16;
  const kernelCs = options.pv32 ? 0xe019 : 0xe033;
  if (cs >>> 3 >= FIRST_RESERVED_ENTRY && cs !== kernelCs && (cs & 4) === 0) return null;
  b = (b & ~0x6000) >>> 0;
  cs = (cs & ~3) | dpl;
  a = ((a & 0xffff) | (cs << 16)) >>> 0;
  if ((b & (options.pv32 ? 0xe0 : 0xff)) !== 0) return null;
  return { lo: a, hi: b };
}

/** Validates (and fixes up) every descriptor of a would-be GDT/LDT frame at machine address `pa`. */
export function validateDescriptorPage(
  mem: Uint8Array,
  pa: number,
  options: DescriptorCheckOptions = {},
): number {
  const dv = new DataView(mem.buffer, mem.byteOffset);
  for (let i = 0; i < 512; i++) {
    const d = checkDescriptor(
      dv.getUint32(pa + i * 8, true),
      dv.getUint32(pa + i * 8 + 4, true),
      options,
    );
    if (d === null) return -Errno.EINVAL;
    dv.setUint32(pa + i * 8, d.lo, true);
    dv.setUint32(pa + i * 8 + 4, d.hi, true);
  }
  return 0;
}
