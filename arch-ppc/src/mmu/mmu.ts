/**
 * The PowerPC MMU of one vCPU, as a 970 running a logical partition sees it: real mode
 * reaches the real-mode area (RMA), translated mode goes through the segment lookaside
 * buffer (SLB) and the domain's hashed page table ({@link PpcHashedPageTable}). It is the
 * {@link PpcMemory} the CPU calls; SLB and TLB instructions reach it through
 * {@link PpcMmu.emulate} after a {@link PpcExitReason.Emulate} exit.
 *
 * Facts from the Power ISA 2.01 Book III (storage control: real addressing, segment
 * lookaside buffer, page table search, storage protection; interrupts: DSISR and SRR1
 * bits) and the PowerPC 970 user manual (64-entry SLB, 4 KiB pages, real mode
 * ignoring effective-address bits 0:21). See `docs/internals/ppc-mmu.md`.
 *
 * @module
 */
import {
  Msr,
  raiseStorageFault,
  STORAGE_FAULT,
  StorageStatus,
  type PpcMemory,
} from "../cpu/cpu-api.js";
import type { PpcCpu } from "../cpu/cpu.js";
import {
  Pte0,
  Pte1,
  PTEG_ENTRIES,
  type HptTranslationCache,
  type PpcHashedPageTable,
} from "./hpt.js";

/**
 * Guest-physical memory as the arch plugin exposes it to the MMU: the domain's p2m. Guest
 * frame numbers are 4 KiB frames from guest-physical 0.
 */
export interface PpcGuestFrames {
  /** The bytes every frame lives in (the machine's memory, or a test's flat array). */
  readonly bytes: Uint8Array;
  /** The byte offset in {@link PpcGuestFrames.bytes} of guest frame `gpfn`, or −1 (no frame). */
  frameBase(gpfn: number): number;
  /** Whether the guest may map `gpfn` with H_ENTER: a frame it owns, or one granted to it. */
  mayMap(gpfn: number): boolean;
  /** Whether H_ENTER may map `gpfn` only without write access (a read-only grant map). */
  readOnly?(gpfn: number): boolean;
}

/** The MSR halves the MMU reads on every access ({@link PpcCpu} has them). */
export interface PpcMsrState {
  /** MSR high half (SF). */
  readonly msrHi: number;
  /** MSR low half (PR, IR, DR). */
  readonly msrLo: number;
}

/** SLB entry bits of the VSID half (`slbmte` RS, `slbmfev`), low word. */
export const SlbFlag = {
  /** Supervisor-state storage key (bit 52). */
  KS: 0x800,
  /** Problem-state storage key (bit 53). */
  KP: 0x400,
  /** No-execute segment (bit 54). */
  N: 0x200,
  /** Large-page segment (bit 55). */
  L: 0x100,
  /** Class (bit 56). */
  C: 0x80,
} as const;

/** SLB entries of the 970. */
export const SLB_ENTRIES = 64;
/** ESID valid bit of `slbmte` RB / `slbmfee` RT (bit 36), low word. */
const SLB_V = 0x08000000;
const ESID_LO = 0xf0000000 | 0;
const VSID_LO = 0xffffff80 | 0;
/** The VSID's bits in the low word of `slbmte` RS (bits 32:51). */
const VSID_PAGE_LO = 0xfffff000 | 0;

const LOAD = 0;
const STORE = 1;
const FETCH = 2;
const READ = 1;
const WRITE = 2;
/** Translation cache entries (per kind, direct-mapped by page number). */
const TLB_SIZE = 64;
const TLB_MASK = TLB_SIZE - 1;
const PAGE = 4096;

/**
 * The MMU's data translation cache as compiled code reads it for its inline fast path
 * (only the MMU writes it). Entry `i = (EA >>> 12) & PPC_DATA_TLB_MASK` holds a page when
 * `tagLo[i] === (EA & ~0xfff | dataTranslationContext(msr))` and `tagHi[i]` is EA's high
 * word; the access then reaches `bytes` at `base[i] + (EA & 0xfff)` (big-endian through
 * `view`) if it stays in the page and `perm[i]` has {@link PpcDataPerm.READ} (loads) or
 * {@link PpcDataPerm.WRITE} (stores). Anything else goes through the MMU's own accessors,
 * which translate, record R/C, fault, or split an access across pages.
 */
export interface PpcDataTranslations {
  /** EA high words of the cached pages. */
  readonly tagHi: Int32Array;
  /** EA page ‖ context of the cached pages (−1: empty). */
  readonly tagLo: Int32Array;
  /** Byte offsets in {@link PpcDataTranslations.bytes} of the cached pages. */
  readonly base: Float64Array;
  /** {@link PpcDataPerm} bits of the cached pages. */
  readonly perm: Uint8Array;
  /** A big-endian view of {@link PpcDataTranslations.bytes}. */
  readonly view: DataView;
  /** The guest frames' bytes. */
  readonly bytes: Uint8Array;
}

/** Access bits of a {@link PpcDataTranslations} entry. */
export const PpcDataPerm = { READ, WRITE } as const;

/** Index mask of {@link PpcDataTranslations} (entries − 1). */
export const PPC_DATA_TLB_MASK = TLB_MASK;

/** The context bits of data translations under an MSR: DR (bit 0), PR (bit 1), SF (bit 2). */
export function dataTranslationContext(msrHi: number, msrLo: number): number {
  return ((msrLo >>> 4) & 1) | ((msrLo >>> 13) & 2) | ((msrHi >>> 29) & 4);
}

/**
 * One vCPU's MMU. Build it on the domain's frames and HPT, then {@link PpcMmu.attach} it
 * to the CPU. Translations found are kept in a small per-vCPU cache (separate for fetches
 * and data, tagged with the page, MSR[PR], the relocation bit and MSR[SF]), dropped by
 * `slbmte`/`slbie`/`slbia`, `tlbie`/`tlbiel`/`tlbia` and any HPT change
 * ({@link PpcHashedPageTable.invalidate}), so a hit allocates nothing and reads no table.
 */
export class PpcMmu implements PpcMemory, HptTranslationCache {
  /** SLB ESID halves (`slbmte` RB high word). */
  readonly slbEsidHi = new Int32Array(SLB_ENTRIES);
  /** SLB ESID low nibble and V bit (`slbmte` RB low word, bits 32:36). */
  readonly slbEsidLo = new Int32Array(SLB_ENTRIES);
  /** SLB VSID high halves (`slbmte` RS high word). */
  readonly slbVsidHi = new Int32Array(SLB_ENTRIES);
  /** SLB VSID low bits and {@link SlbFlag} bits (`slbmte` RS low word, bits 32:56). */
  readonly slbVsidLo = new Int32Array(SLB_ENTRIES);
  /** The CPU whose MSR selects real or translated mode and the key. */
  cpu: PpcMsrState = { msrHi: Msr.SF_HI, msrLo: 0 };

  private readonly view: DataView;
  private readonly bytes: Uint8Array;
  private readonly dTagHi = new Int32Array(TLB_SIZE);
  private readonly dTagLo = new Int32Array(TLB_SIZE).fill(-1);
  private readonly dBase = new Float64Array(TLB_SIZE);
  private readonly dPerm = new Uint8Array(TLB_SIZE);
  private readonly iTagHi = new Int32Array(TLB_SIZE);
  private readonly iTagLo = new Int32Array(TLB_SIZE).fill(-1);
  private readonly iBase = new Float64Array(TLB_SIZE);
  private slbHint = 0;
  /** The data translation cache, for compiled code's inline fast path. */
  readonly dataTranslations: PpcDataTranslations;

  /**
   * @param frames - the domain's guest-physical memory.
   * @param hpt - the domain's hashed page table (shared by its vCPUs).
   * @param rmaBytes - size of the real-mode area from guest-physical 0 (`abi/ppc.md`: 64 MiB).
   */
  constructor(
    readonly frames: PpcGuestFrames,
    readonly hpt: PpcHashedPageTable,
    readonly rmaBytes: number,
  ) {
    if (!Number.isInteger(rmaBytes) || rmaBytes <= 0 || rmaBytes % PAGE !== 0)
      throw new RangeError(`RMA size ${rmaBytes}: must be a positive multiple of ${PAGE}`);
    this.bytes = frames.bytes;
    this.view = new DataView(frames.bytes.buffer, frames.bytes.byteOffset, frames.bytes.byteLength);
    this.dataTranslations = {
      tagHi: this.dTagHi,
      tagLo: this.dTagLo,
      base: this.dBase,
      perm: this.dPerm,
      view: this.view,
      bytes: this.bytes,
    };
    hpt.attach(this);
  }

  /** Makes this the memory of `cpu` and follows its MSR. */
  attach(cpu: PpcCpu): void {
    this.cpu = cpu;
    cpu.memory = this;
    this.flushTranslations();
  }

  /** {@inheritDoc HptTranslationCache.flushTranslations} */
  flushTranslations(): void {
    this.dTagLo.fill(-1);
    this.iTagLo.fill(-1);
  }

  /** {@inheritDoc PpcMemory.fetch} */
  fetch(eaHi: number, eaLo: number): number {
    const c = this.cpu;
    const i = (eaLo >>> 12) & TLB_MASK;
    const ctx = ((c.msrLo >>> 5) & 1) | ((c.msrLo >>> 13) & 2) | ((c.msrHi >>> 29) & 4);
    if (this.iTagLo[i] === ((eaLo & ~0xfff) | ctx) && this.iTagHi[i] === eaHi)
      return this.view.getInt32(this.iBase[i]! + (eaLo & 0xffc));
    return this.view.getInt32(this.translate(eaHi, eaLo & ~3, FETCH));
  }
  /** {@inheritDoc PpcMemory.read8} */
  read8(eaHi: number, eaLo: number): number {
    return this.bytes[this.dataAt(eaHi, eaLo, 1, false)]!;
  }
  /** {@inheritDoc PpcMemory.read16} */
  read16(eaHi: number, eaLo: number): number {
    const a = this.dataAt(eaHi, eaLo, 2, false);
    return a >= 0 ? this.view.getUint16(a) : this.splitRead(eaHi, eaLo, 2);
  }
  /** {@inheritDoc PpcMemory.read32} */
  read32(eaHi: number, eaLo: number): number {
    const a = this.dataAt(eaHi, eaLo, 4, false);
    return a >= 0 ? this.view.getInt32(a) : this.splitRead(eaHi, eaLo, 4) | 0;
  }
  /** {@inheritDoc PpcMemory.write8} */
  write8(eaHi: number, eaLo: number, v: number): void {
    this.bytes[this.dataAt(eaHi, eaLo, 1, true)] = v;
  }
  /** {@inheritDoc PpcMemory.write16} */
  write16(eaHi: number, eaLo: number, v: number): void {
    const a = this.dataAt(eaHi, eaLo, 2, true);
    if (a >= 0) this.view.setUint16(a, v & 0xffff);
    else this.splitWrite(eaHi, eaLo, 2, v);
  }
  /** {@inheritDoc PpcMemory.write32} */
  write32(eaHi: number, eaLo: number, v: number): void {
    const a = this.dataAt(eaHi, eaLo, 4, true);
    if (a >= 0) this.view.setInt32(a, v | 0);
    else this.splitWrite(eaHi, eaLo, 4, v);
  }
  /** {@inheritDoc PpcMemory.write64} */
  write64(eaHi: number, eaLo: number, hi: number, lo: number): void {
    // Both pages are checked (and may fault) before either word is written.
    const a = this.dataAt(eaHi, eaLo, 8, true);
    if (a >= 0) {
      this.view.setInt32(a, hi | 0);
      this.view.setInt32(a + 4, lo | 0);
      return;
    }
    this.splitWrite(eaHi, eaLo, 4, hi);
    const l = (eaLo >>> 0) + 4;
    this.splitWrite(l > 0xffffffff ? (eaHi + 1) | 0 : eaHi, l | 0, 4, lo);
  }

  /**
   * Performs the SLB or TLB instruction `word` the CPU stopped on
   * ({@link PpcExitReason.Emulate}) and moves pc past it. Returns false, changing nothing,
   * for a word that is not one of them (the caller raises the illegal-instruction program
   * interrupt).
   */
  emulate(cpu: PpcCpu, word: number): boolean {
    if (word >>> 26 !== 31) return false;
    const rt = (word >>> 21) & 31;
    const rb = (word >>> 11) & 31;
    const xo = (word >>> 1) & 0x3ff;
    switch (xo) {
      case 402: {
        // slbmte RS, RB: RB = ESID ‖ V ‖ index (bits 52:63), RS = VSID ‖ flags.
        const k = cpu.gprLo[rb]! & 0xfff;
        if (k < SLB_ENTRIES) {
          this.slbEsidHi[k] = cpu.gprHi[rb]!;
          this.slbEsidLo[k] = cpu.gprLo[rb]! & (ESID_LO | SLB_V);
          this.slbVsidHi[k] = cpu.gprHi[rt]!;
          this.slbVsidLo[k] = cpu.gprLo[rt]! & VSID_LO;
        }
        this.flushTranslations();
        break;
      }
      case 434: {
        // slbie RB: invalidate the entry translating ESID RB[0:35].
        const hi = cpu.gprHi[rb]!;
        const lo = cpu.gprLo[rb]! & ESID_LO;
        for (let k = 0; k < SLB_ENTRIES; k++)
          if (this.slbEsidHi[k] === hi && (this.slbEsidLo[k]! & ESID_LO) === lo)
            this.slbEsidLo[k] = this.slbEsidLo[k]! & ~SLB_V;
        this.flushTranslations();
        break;
      }
      case 498:
        // slbia: every entry but entry 0.
        for (let k = 1; k < SLB_ENTRIES; k++) this.slbEsidLo[k] = this.slbEsidLo[k]! & ~SLB_V;
        this.flushTranslations();
        break;
      case 851:
      case 915: {
        // slbmfev / slbmfee RT, RB: entry RB[52:63]; zero beyond the SLB.
        const k = cpu.gprLo[rb]! & 0xfff;
        const inSlb = k < SLB_ENTRIES;
        const ev = xo === 851;
        cpu.gprHi[rt] = inSlb ? (ev ? this.slbVsidHi : this.slbEsidHi)[k]! : 0;
        cpu.gprLo[rt] = inSlb ? (ev ? this.slbVsidLo : this.slbEsidLo)[k]! : 0;
        break;
      }
      case 274:
      case 306:
      case 370:
        // tlbiel, tlbie, tlbia: hvkit drops its whole translation cache.
        this.flushTranslations();
        break;
      case 566:
        // tlbsync: nothing is in flight.
        break;
      default:
        return false;
    }
    cpu.skipInstruction();
    return true;
  }

  /**
   * The host byte address of a data access of `size` bytes at `ea`, or −1 when it spans
   * two pages (both translated and checked: the split copy cannot fault).
   */
  private dataAt(eaHi: number, eaLo: number, size: number, store: boolean): number {
    const c = this.cpu;
    const i = (eaLo >>> 12) & TLB_MASK;
    const ctx = dataTranslationContext(c.msrHi, c.msrLo);
    const o = eaLo & 0xfff;
    if (
      this.dTagLo[i] === ((eaLo & ~0xfff) | ctx) &&
      this.dTagHi[i] === eaHi &&
      this.dPerm[i]! & (store ? WRITE : READ) &&
      o + size <= PAGE
    )
      return this.dBase[i]! + o;
    const a = this.translate(eaHi, eaLo, store ? STORE : LOAD);
    if (o + size <= PAGE) return a;
    const l = (eaLo >>> 0) + size - 1;
    this.translate(l > 0xffffffff ? (eaHi + 1) | 0 : eaHi, l | 0, store ? STORE : LOAD);
    return -1;
  }

  private splitRead(eaHi: number, eaLo: number, size: number): number {
    let v = 0;
    for (let k = 0; k < size; k++) {
      const l = (eaLo >>> 0) + k;
      v =
        v * 256 + this.bytes[this.dataAt(l > 0xffffffff ? (eaHi + 1) | 0 : eaHi, l | 0, 1, false)]!;
    }
    return v;
  }

  private splitWrite(eaHi: number, eaLo: number, size: number, v: number): void {
    for (let k = 0; k < size; k++) {
      const l = (eaLo >>> 0) + k;
      const a = this.dataAt(l > 0xffffffff ? (eaHi + 1) | 0 : eaHi, l | 0, 1, true);
      this.bytes[a] = v >>> (8 * (size - 1 - k));
    }
  }

  /**
   * The host byte address of data at effective address `ea` as this vCPU's next load (or
   * store, when `write`) reaches it under its current MSR — the RMA in real mode, the
   * SLB and HPT with DR = 1, with the same checks and R/C recording — or −1 where that
   * access would fault. For the hypervisor reading or writing guest memory by the guest's
   * own addresses; no fault is delivered.
   */
  hostAddress(ea: bigint, write: boolean): number {
    try {
      return this.translate(
        Number(BigInt.asIntN(32, ea >> 32n)),
        Number(BigInt.asIntN(32, ea)),
        write ? STORE : LOAD,
      );
    } catch (err) {
      if (err === STORAGE_FAULT) return -1;
      throw err;
    }
  }

  /**
   * Translates `ea` for `access` (LOAD, STORE, FETCH) the slow way, sets R/C, caches the
   * page and returns the host byte address; or raises a storage fault ({@link raiseStorageFault}).
   */
  private translate(eaHi: number, eaLo: number, access: number): number {
    const c = this.cpu;
    const msrLo = c.msrLo;
    // In 32-bit mode the high word of the effective address is treated as zero.
    const hi = c.msrHi < 0 ? eaHi : 0;
    const fetch = access === FETCH;
    let gpfn: number;
    let perm = READ | WRITE;
    if (!(msrLo & (fetch ? Msr.IR : Msr.DR))) {
      // Real mode: the 970 ignores EA bits 0:21; the partition reaches only its RMA.
      const ra = (hi & 0x3ff) * 0x100000000 + (eaLo >>> 0);
      if (ra >= this.rmaBytes) this.fault(hi, eaLo, access, StorageStatus.PROTECTION, false);
      gpfn = Math.floor(ra / PAGE);
      // A read-only grant map at a guest frame of the RMA stays read-only without the page
      // table: H_ENTER refuses it a writable entry, and real mode must not bypass that.
      if (this.frames.readOnly?.(gpfn) === true) {
        if (access === STORE) this.fault(hi, eaLo, access, StorageStatus.PROTECTION, false);
        perm = READ;
      }
    } else {
      const s = this.slbFind(hi, eaLo);
      if (s < 0) this.fault(hi, eaLo, access, 0, true);
      const vsidLo = this.slbVsidLo[s]!;
      if (fetch && vsidLo & SlbFlag.N)
        this.fault(hi, eaLo, access, StorageStatus.NO_EXECUTE, false);
      // A large-page segment needs large-page PTEs, which H_ENTER never enters.
      const w =
        vsidLo & SlbFlag.L ? -1 : this.findPte(this.slbVsidHi[s]!, vsidLo, (eaLo >>> 12) & 0xffff);
      if (w < 0) this.fault(hi, eaLo, access, StorageStatus.NOT_FOUND, false);
      const words = this.hpt.words;
      const pte1 = words[w + 3]!;
      // Storage protection (ISA 2.01 Book III): key 0 may write unless PP = 3; key 1 reads
      // with PP ≠ 0 and writes only with PP = 2.
      const key = vsidLo & (msrLo & Msr.PR ? SlbFlag.KP : SlbFlag.KS);
      const pp = pte1 & Pte1.PP;
      const canRead = key === 0 || pp !== 0;
      const canWrite = key === 0 ? pp !== 3 : pp === 2;
      if (fetch && pte1 & (Pte1.N | Pte1.G))
        this.fault(hi, eaLo, access, StorageStatus.NO_EXECUTE, false);
      if (access === STORE ? !canWrite : !canRead)
        this.fault(hi, eaLo, access, StorageStatus.PROTECTION, false);
      gpfn = (words[w + 2]! & Pte1.RPN_HI) * 0x100000 + (pte1 >>> 12);
      const rc = access === STORE ? Pte1.R | Pte1.C : Pte1.R;
      const now = pte1 | rc;
      words[w + 3] = now;
      perm = (canRead ? READ : 0) | (canWrite && now & Pte1.C ? WRITE : 0);
    }
    const base = this.frames.frameBase(gpfn);
    if (base < 0) this.fault(hi, eaLo, access, StorageStatus.NOT_FOUND, false);
    const i = (eaLo >>> 12) & TLB_MASK;
    const page = eaLo & ~0xfff;
    if (fetch) {
      this.iTagHi[i] = eaHi;
      this.iTagLo[i] = page | ((msrLo >>> 5) & 1) | ((msrLo >>> 13) & 2) | ((c.msrHi >>> 29) & 4);
      this.iBase[i] = base;
    } else {
      this.dTagHi[i] = eaHi;
      this.dTagLo[i] = page | dataTranslationContext(c.msrHi, msrLo);
      this.dBase[i] = base;
      this.dPerm[i] = perm;
    }
    return base + (eaLo & 0xfff);
  }

  /** The valid SLB entry whose ESID is EA[0:35], or −1. */
  private slbFind(eaHi: number, eaLo: number): number {
    const want = (eaLo & ESID_LO) | SLB_V;
    const h = this.slbHint;
    if (this.slbEsidLo[h] === want && this.slbEsidHi[h] === eaHi) return h;
    for (let k = 0; k < SLB_ENTRIES; k++)
      if (this.slbEsidLo[k] === want && this.slbEsidHi[k] === eaHi) {
        this.slbHint = k;
        return k;
      }
    return -1;
  }

  /**
   * Searches the primary, then the secondary PTEG for page `p` (16 bits) of the segment
   * with VSID halves `vsidHi`/`vsidLo` (as `slbmte` RS holds them: VSID = RS >> 12).
   * Returns the index in {@link PpcHashedPageTable.words} of the entry, or −1.
   */
  private findPte(vsidHi: number, vsidLo: number, p: number): number {
    const hpt = this.hpt;
    const words = hpt.words;
    // AVPN = VSID ‖ p[0:4]; in dword 0 it sits above bit 57, so dword 0's high word is
    // RS's high word and its low word is RS's VSID bits with p's top five bits at bit 7.
    const avpnLo = (vsidLo & VSID_PAGE_LO) | ((p >>> 11) << 7);
    // Primary hash: the VSID's low 39 bits XOR the page index; the table size masks it.
    const hash = ((vsidHi << 20) | (vsidLo >>> 12)) ^ p;
    for (let h = 0; h < 2; h++) {
      const group = (h === 0 ? hash : ~hash) & hpt.ptegMask;
      const want = Pte0.V | (h === 0 ? 0 : Pte0.H);
      for (let k = 0; k < PTEG_ENTRIES; k++) {
        const w = (group * PTEG_ENTRIES + k) * 4;
        const lo = words[w + 1]!;
        if (
          (lo & (Pte0.V | Pte0.H | Pte0.L)) === want &&
          (lo & Pte0.AVPN_LO) === avpnLo &&
          words[w] === vsidHi
        )
          return w;
      }
    }
    return -1;
  }

  private fault(hi: number, eaLo: number, access: number, status: number, segment: boolean): never {
    const store = access === STORE && !segment;
    raiseStorageFault(
      access === FETCH,
      hi,
      eaLo,
      store ? status | StorageStatus.STORE : status,
      segment,
    );
  }
}
