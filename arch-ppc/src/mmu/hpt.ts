/**
 * The hashed page table (HPT) of one PowerPC domain, and the layout of its entries.
 *
 * In the logical-partition model the hypervisor keeps the HPT in its own memory: the
 * guest never writes it, it asks through the PAPR hcalls (`papr.ts`: H_ENTER, H_REMOVE,
 * H_PROTECT, H_READ, ...), and the MMU of each of the domain's vCPUs searches it on a
 * translation miss. SDR1, which names the HPT on a bare machine, has no effect on a guest.
 *
 * An entry (PTE) is 16 bytes, two big-endian doublewords (Power ISA 2.01 Book III,
 * storage control; PowerPC 970 user manual): dword 0 = AVPN (bits 0:56) ‖ software (57:60) ‖ L (61) ‖
 * H (62) ‖ V (63); dword 1 = RPN (bits 2:51) ‖ AC (54) ‖ R (55) ‖ C (56) ‖ WIMG (57:60) ‖
 * N (61) ‖ PP (62:63). Eight entries make a PTE group (PTEG, 128 bytes); a page is looked
 * for in its primary PTEG (hash) and its secondary PTEG (one's complement of the hash).
 * The entries here hold the guest's own view: the RPN is a guest frame number, which the
 * MMU maps to a host frame when it translates, so H_READ returns what H_ENTER stored.
 *
 * @module
 */

/** Bits of a PTE's dword 0 low half (ISA bit n of the doubleword = value bit 63 − n). */
export const Pte0 = {
  /** Valid (bit 63). */
  V: 0x1,
  /** Entry is in its secondary PTEG (bit 62). */
  H: 0x2,
  /** Large page (bit 61). */
  L: 0x4,
  /** Bits 57 and 58: reserved to the hypervisor (Xen's lock bits), cleared by H_ENTER. */
  HV_RESERVED: 0x60,
  /** The AVPN's bits in the low half (bits 32:56). */
  AVPN_LO: 0xffffff80 | 0,
} as const;

/** Bits of a PTE's dword 1 (low half unless named `_HI`). */
export const Pte1 = {
  /** pp0 (bit 0) and the tag-set bit (bit 1), in the high half: not on the 970, cleared by H_ENTER. */
  RESERVED_HI: 0xc0000000 | 0,
  /** The RPN's bits in the high half (bits 2:31). */
  RPN_HI: 0x3fffffff,
  /** The RPN's bits in the low half (bits 32:51). */
  RPN_LO: 0xfffff000 | 0,
  /** Bits 52:53: reserved, cleared by H_ENTER. */
  RESERVED_LO: 0xc00,
  /** Referenced (bit 55). */
  R: 0x100,
  /** Changed (bit 56). */
  C: 0x80,
  /** Write-through (bit 57). */
  W: 0x40,
  /** Caching inhibited (bit 58). */
  I: 0x20,
  /** Memory coherence (bit 59). */
  M: 0x10,
  /** Guarded (bit 60). */
  G: 0x8,
  /** No-execute (bit 61). */
  N: 0x4,
  /** Page protection (bits 62:63). */
  PP: 0x3,
} as const;

/** Bytes of one PTE. */
export const PTE_BYTES = 16;
/** PTEs in a PTE group. */
export const PTEG_ENTRIES = 8;
/** The smallest HPT the ISA allows: 2^11 PTEGs, 256 KiB (log2 18). */
export const HPT_MIN_LOG2 = 18;
/** The largest HPT hvkit gives a domain: 64 MiB (log2 26), a 4M-entry table. */
export const HPT_MAX_LOG2 = 26;

/** Something that caches translations from the HPT and must drop them when it changes. */
export interface HptTranslationCache {
  /** Forget every cached translation. */
  flushTranslations(): void;
}

/**
 * One domain's HPT: `2^log2Bytes` bytes, held as four int32 words per entry (dword 0 high,
 * dword 0 low, dword 1 high, dword 1 low). The MMUs of the domain's vCPUs attach to it so
 * that an entry removed or changed reaches every vCPU's translation cache, as the
 * hypervisor's `tlbie` after H_REMOVE/H_PROTECT reaches every processor.
 */
export class PpcHashedPageTable {
  /** The entries: words 4n … 4n+3 are PTE n. */
  readonly words: Int32Array;
  /** Number of PTEs. */
  readonly ptes: number;
  /** Number of PTEGs − 1: the mask a hash is reduced by. */
  readonly ptegMask: number;
  private readonly caches: HptTranslationCache[] = [];

  /**
   * @param log2Bytes - log2 of the table's size in bytes (the device tree's
   *   `ibm,pft-size`), from {@link HPT_MIN_LOG2} to {@link HPT_MAX_LOG2}.
   */
  constructor(readonly log2Bytes: number = HPT_MIN_LOG2) {
    if (!Number.isInteger(log2Bytes) || log2Bytes < HPT_MIN_LOG2 || log2Bytes > HPT_MAX_LOG2)
      throw new RangeError(
        `HPT size 2^${log2Bytes} bytes: log2 must be an integer from ${HPT_MIN_LOG2} to ${HPT_MAX_LOG2}`,
      );
    this.ptes = 2 ** (log2Bytes - 4);
    this.ptegMask = this.ptes / PTEG_ENTRIES - 1;
    this.words = new Int32Array(this.ptes * 4);
  }

  /** Registers a translation cache to flush when an entry is removed or changed. */
  attach(cache: HptTranslationCache): void {
    if (!this.caches.includes(cache)) this.caches.push(cache);
  }

  /** Unregisters a cache (a vCPU going away). */
  detach(cache: HptTranslationCache): void {
    const i = this.caches.indexOf(cache);
    if (i >= 0) this.caches.splice(i, 1);
  }

  /**
   * Flushes every attached cache: after an entry is removed or changed, and whenever the
   * guest-physical map under the entries changes (a frame given back or moved).
   */
  invalidate(): void {
    for (const c of this.caches) c.flushTranslations();
  }

  /** Dword `which` (0 or 1) of PTE `ptex`, unsigned. */
  dword(ptex: number, which: 0 | 1): bigint {
    const w = ptex * 4 + which * 2;
    return (BigInt(this.words[w]! >>> 0) << 32n) | BigInt(this.words[w + 1]! >>> 0);
  }

  /** Sets PTE `ptex` to `dw0`, `dw1` (taken modulo 2^64). */
  setEntry(ptex: number, dw0: bigint, dw1: bigint): void {
    const w = ptex * 4;
    this.words[w] = Number(BigInt.asIntN(32, dw0 >> 32n));
    this.words[w + 1] = Number(BigInt.asIntN(32, dw0));
    this.words[w + 2] = Number(BigInt.asIntN(32, dw1 >> 32n));
    this.words[w + 3] = Number(BigInt.asIntN(32, dw1));
  }
}
