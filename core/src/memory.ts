/**
 * Machine (host-physical) memory: the frames every domain's pages live in.
 *
 * One contiguous typed array holds all frames, so a machine address is a byte index and
 * a machine frame number (MFN) is `address / pageSize`. Per-frame bookkeeping (owner,
 * reference and type counts, as Xen's `struct page_info`) lives in the {@link FrameTable}.
 * Multi-byte accessors use the arch's byte order.
 *
 * @module
 */
import type { Endianness } from "./arch-plugin.js";

/** Frame owner value for a frame no domain owns. */
export const FRAME_FREE = -1;
/** Frame owner value for frames the hypervisor itself owns (DOMID_XEN). */
export const FRAME_XEN = 0x7ff2;

/**
 * Per-frame bookkeeping, one slot per machine frame (Xen's frame table). The `type` and
 * `typeCount` columns are interpreted by the arch's PV MMU (e.g. x86 page types L1–L4,
 * writable, segment descriptor); the core only keeps them.
 */
export class FrameTable {
  /** Owning domain id, {@link FRAME_FREE} or {@link FRAME_XEN}. */
  readonly owner: Int32Array;
  /** General reference count (mappings, grant maps, hypervisor references). */
  readonly refCount: Int32Array;
  /** Arch-defined page type (0 = none). */
  readonly type: Int32Array;
  /** References to the current type (e.g. pins and uses as a page table). */
  readonly typeCount: Int32Array;
  /** Arch-defined flag bits (e.g. pinned, validated). */
  readonly flags: Int32Array;
  /**
   * 1 when the owner gave the frame back (decrease_reservation) while references to it
   * remained: Xen's `PGC_allocated` cleared. The frame stays the owner's, counted in its
   * `totPages` and reachable through those references, until the last general reference
   * goes; then it returns to the free pool (`putFrame` in p2m.ts).
   */
  readonly released: Uint8Array;
  /**
   * Arch-defined signed count of same-level page-table links (Xen x86's
   * `linear_pt_count`: positive, how many such entries a table holds; negative, how many
   * tables hold one naming it). 16 bits, as Xen's, so its limits are Xen's.
   */
  readonly linearCount: Int16Array;
  /**
   * 1 once the frame has been handed out (to a domain or the hypervisor): its bytes may
   * be non-zero. A frame never handed out still holds the zeros machine memory starts
   * with, so allocation need not scrub it, and its host pages are never touched: a
   * machine's resident memory grows with the frames used, not with its size.
   */
  readonly used: Uint8Array;

  /** @param frames - number of machine frames. */
  constructor(readonly frames: number) {
    this.owner = new Int32Array(frames).fill(FRAME_FREE);
    this.refCount = new Int32Array(frames);
    this.type = new Int32Array(frames);
    this.typeCount = new Int32Array(frames);
    this.flags = new Int32Array(frames);
    this.released = new Uint8Array(frames);
    this.linearCount = new Int16Array(frames);
    this.used = new Uint8Array(frames);
  }

  /**
   * Marks `n` frames from `mfn` handed out and says whether any of them may hold old
   * bytes (was handed out before), so that the caller scrubs them.
   */
  takeUsed(mfn: number, n = 1): boolean {
    let dirty = false;
    for (let i = mfn; i < mfn + n; i++) {
      if (this.used[i] !== 0) dirty = true;
      this.used[i] = 1;
    }
    return dirty;
  }

  /** Makes `mfn` a free frame again: no owner, every count, type and flag cleared. */
  free(mfn: number): void {
    this.owner[mfn] = FRAME_FREE;
    this.refCount[mfn] = 0;
    this.type[mfn] = 0;
    this.typeCount[mfn] = 0;
    this.flags[mfn] = 0;
    this.released[mfn] = 0;
    this.linearCount[mfn] = 0;
  }
}

/** All machine memory of one hvkit machine. */
export class PhysicalMemory {
  /** Every byte of machine memory. */
  readonly bytes: Uint8Array;
  /** The same memory as a DataView, for unaligned and byte-order-aware access. */
  readonly view: DataView;
  /** Number of machine frames. */
  readonly frames: number;
  /** Per-frame bookkeeping. */
  readonly frameTable: FrameTable;
  /** True when guest byte order is little-endian. */
  readonly littleEndian: boolean;

  /**
   * @param pageSize - bytes per frame (a power of two, e.g. 4096 or 16384).
   * @param frames - number of frames.
   * @param endianness - byte order of multi-byte accesses.
   */
  constructor(
    readonly pageSize: number,
    frames: number,
    readonly endianness: Endianness,
  ) {
    this.frames = frames;
    this.bytes = new Uint8Array(pageSize * frames);
    this.view = new DataView(this.bytes.buffer);
    this.frameTable = new FrameTable(frames);
    this.littleEndian = endianness === "little";
  }

  /** Total size in bytes. */
  get size(): number {
    return this.bytes.length;
  }

  /** Reads an unsigned 8-bit value at machine address `pa`. */
  read8(pa: number): number {
    return this.bytes[pa];
  }
  /** Reads an unsigned 16-bit value. */
  read16(pa: number): number {
    return this.view.getUint16(pa, this.littleEndian);
  }
  /** Reads an unsigned 32-bit value. */
  read32(pa: number): number {
    return this.view.getUint32(pa, this.littleEndian);
  }
  /** Reads a 64-bit value as a bigint (slow path: hypercalls, builder). */
  read64(pa: number): bigint {
    return this.view.getBigUint64(pa, this.littleEndian);
  }
  /** Writes an 8-bit value. */
  write8(pa: number, v: number): void {
    this.bytes[pa] = v;
  }
  /** Writes a 16-bit value. */
  write16(pa: number, v: number): void {
    this.view.setUint16(pa, v, this.littleEndian);
  }
  /** Writes a 32-bit value. */
  write32(pa: number, v: number): void {
    this.view.setUint32(pa, v >>> 0, this.littleEndian);
  }
  /** Writes a 64-bit value (slow path). */
  write64(pa: number, v: bigint): void {
    this.view.setBigUint64(pa, BigInt.asUintN(64, v), this.littleEndian);
  }
}
