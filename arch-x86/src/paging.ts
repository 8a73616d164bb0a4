/**
 * x86 paging (Intel SDM vol. 3, chapter 4): the page walk and a software TLB.
 *
 * The walk reads machine memory directly: a PV guest's page tables hold machine frame
 * numbers, so there is no guest-physical step. EFER.LMA selects the format: 4-level
 * paging in long mode; PAE paging (CR4.PAE, SDM 4.4) outside it — the same 8-byte
 * entries below a top level of four PDPTEs at CR3 (32-byte aligned), which grant no
 * rights of their own, have no accessed bit and reserve bits 1–2, 5–8 and NX. 32-bit
 * non-PAE paging is not modelled (every walk faults as a reserved-bit #PF).
 *
 * The TLB is direct-mapped and indexed by virtual page number; an entry holds the virtual
 * page (`tagLo` = address bits 12–31 with the offset cleared, `tagHi` = bits 32–63), the
 * machine frame, and permission bits for supervisor/user read, write and execute. Write
 * permission is only cached once the leaf's dirty bit is set and when the frame holds no
 * cached decoded code, so the first write to a clean page or to a code page takes the slow
 * path (which sets D, or drops the stale decodings).
 *
 * @module
 */
import { PfErr } from "./cpu-api.js";

/** log2 of the number of TLB entries. */
export const TLB_BITS = 12;
/** Number of TLB entries. */
export const TLB_SIZE = 1 << TLB_BITS;
/** Mask applied to a virtual page number to index the TLB. */
export const TLB_MASK = TLB_SIZE - 1;

/** TLB permission bit: supervisor read. */
export const P_RS = 1;
/** TLB permission bit: supervisor write. */
export const P_WS = 2;
/** TLB permission bit: supervisor execute. */
export const P_XS = 4;
/** TLB permission bit: user read. */
export const P_RU = 8;
/** TLB permission bit: user write. */
export const P_WU = 16;
/** TLB permission bit: user execute. */
export const P_XU = 32;

/** TLB permission bit: supervisor write allowed, withheld because the frame holds cached code. */
export const P_WS_CODE = 64;
/** TLB permission bit: user write allowed, withheld because the frame holds cached code. */
export const P_WU_CODE = 128;

/** Moves write rights of `p` to the withheld bits (the frame holds cached code). */
export function withholdWrite(p: number): number {
  return (p & ~(P_WS | P_WU)) | (p & P_WS ? P_WS_CODE : 0) | (p & P_WU ? P_WU_CODE : 0);
}

/** Kind of access for a walk. */
export const enum Access {
  /** Data read. */
  Read = 0,
  /** Data write. */
  Write = 1,
  /** Instruction fetch. */
  Exec = 2,
}

/** CR0.PG. */
export const CR0_PG = 0x80000000;
/** CR0.WP. */
export const CR0_WP = 0x10000;
/** CR4.PAE. */
export const CR4_PAE = 0x20;
/** CR4.SMEP. */
export const CR4_SMEP = 0x100000;
/** EFER.NXE. */
export const EFER_NXE = 0x800;
/** EFER.LMA. */
export const EFER_LMA = 0x400;

const PTE_P = 1;
const PTE_RW = 2;
const PTE_US = 4;
const PTE_A = 0x20;
const PTE_D = 0x40;
const PTE_PS = 0x80;

/** Page walker and software TLB of one CPU. */
export class Paging {
  /** TLB: virtual address bits 12–31 (offset cleared) of each entry. */
  readonly tagLo = new Int32Array(TLB_SIZE);
  /** TLB: virtual address bits 32–63 of each entry. */
  readonly tagHi = new Int32Array(TLB_SIZE);
  /** TLB: permission bits (`P_*`); 0 = empty. */
  readonly perm = new Uint8Array(TLB_SIZE);
  /** TLB: machine address of the page (machine memory is below 2 GiB, so this is an int32). */
  readonly base = new Int32Array(TLB_SIZE);
  /** CR0. */
  cr0 = CR0_PG | CR0_WP | 1;
  /** CR3 (machine address of the top-level table). */
  cr3 = 0;
  /** CR4. */
  cr4 = CR4_PAE;
  /** EFER. */
  efer = EFER_LMA | 0x100 | EFER_NXE | 1;
  /** Error code of the last failed walk (`PfErr` bits). */
  faultCode = 0;
  private readonly view: DataView;
  private readonly walked = new Float64Array(4);
  private readonly frames: number;

  /**
   * @param bytes - machine memory.
   * @param codePages - per machine frame, non-zero when decoded code of it is cached.
   */
  constructor(
    private readonly bytes: Uint8Array,
    private readonly codePages: Uint8Array,
  ) {
    if (bytes.length > 0x80000000)
      throw new RangeError("x86 paging: machine memory above 2 GiB is not supported");
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.frames = Math.floor(bytes.length / 4096);
  }

  /** Drops every TLB entry. */
  flush(): void {
    this.perm.fill(0);
  }

  /** Drops the entry for the page holding virtual address (lo, hi). */
  invlpg(lo: number, hi: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.tagLo[i] === (lo & -4096) && this.tagHi[i] === hi) this.perm[i] = 0;
  }

  /** Removes cached write permission for machine frame `mfn` (it now holds cached code). */
  protectFrame(mfn: number): void {
    const perm = this.perm;
    const base = this.base;
    const pa = mfn * 4096;
    for (let i = 0; i < TLB_SIZE; i++) {
      if (base[i] === pa && perm[i] !== 0) perm[i] = withholdWrite(perm[i]);
    }
  }

  /**
   * Translates virtual address (lo, hi) for `access` at user (`user`) or supervisor
   * privilege, setting accessed and dirty bits, and fills the TLB.
   * @returns the machine address, or −1 with {@link faultCode} set (a #PF), or −2 when
   * the address is not canonical (#GP).
   */
  walk(lo: number, hi: number, access: Access, user: boolean): number {
    if ((this.cr0 & CR0_PG) === 0) {
      // Paging off: linear = physical (only reachable below 4 GiB).
      if (hi !== 0 || lo >>> 0 >= this.bytes.length) {
        this.faultCode = 0;
        return -1;
      }
      this.fill(lo, hi, lo >>> 12, 0x3f);
      return lo >>> 0;
    }
    const longMode = (this.efer & EFER_LMA) !== 0;
    if (longMode) {
      if ((hi << 16) >> 16 !== hi) return -2;
    } else if ((this.cr4 & CR4_PAE) === 0) {
      this.faultCode = PfErr.RSVD | PfErr.P;
      return -1;
    }
    const view = this.view;
    const nxe = (this.efer & EFER_NXE) !== 0;
    // PAE: the four PDPTEs at CR3 bits 31–5 stand in for the PML4E's level.
    let table = longMode ? this.cr3 - (this.cr3 % 4096) : (this.cr3 & ~0x1f) >>> 0;
    let rw = PTE_RW;
    let us = PTE_US;
    let nx = 0;
    // 4-level: PML4 (bits 47–39), PDPT (38–30), PD (29–21), PT (20–12).
    const idx0 = ((hi & 0xffff) >>> 7) & 0x1ff;
    const idx1 = longMode ? ((hi & 0x7f) << 2) | (lo >>> 30) : lo >>> 30;
    const idx2 = (lo >>> 21) & 0x1ff;
    const idx3 = (lo >>> 12) & 0x1ff;
    let mfn = 0;
    let leafLo = 0;
    let err = (access === Access.Write ? PfErr.W : 0) | (user ? PfErr.U : 0);
    if (access === Access.Exec && (nxe || (this.cr4 & CR4_SMEP) !== 0)) err |= PfErr.I;
    const walked = this.walked;
    let level = longMode ? 0 : 1;
    for (; level < 4; level++) {
      const index = level === 0 ? idx0 : level === 1 ? idx1 : level === 2 ? idx2 : idx3;
      const addr = table + index * 8;
      if (addr + 8 > this.bytes.length) {
        this.faultCode = err | PfErr.RSVD | PfErr.P;
        return -1;
      }
      const eLo = view.getInt32(addr, true);
      const eHi = view.getInt32(addr + 4, true);
      if ((eLo & PTE_P) === 0) {
        this.faultCode = err;
        return -1;
      }
      walked[level] = addr;
      if (!longMode && level === 1) {
        // A PDPTE: reserved bits 1–2, 5–8 and 63 and frame bits beyond 2^40; no rights.
        if ((eLo & 0x1e6) !== 0 || eHi < 0 || (eHi & 0xfffff) > 0xff) {
          this.faultCode = err | PfErr.RSVD | PfErr.P;
          return -1;
        }
        table = (eHi & 0xfffff) * 4294967296 + ((eLo & -4096) >>> 0);
        continue;
      }
      // Reserved: NX without EFER.NXE, PS in a PML4E, frame bits beyond 2^40.
      let rsvd =
        (eHi < 0 && !nxe) || (level === 0 && (eLo & PTE_PS) !== 0) || (eHi & 0xfffff) > 0xff;
      rw &= eLo;
      us &= eLo;
      nx |= eHi >>> 31;
      if ((level === 1 && longMode) || level === 2) {
        if ((eLo & PTE_PS) !== 0) {
          // 1 GiB (PDPTE) or 2 MiB (PDE) page; bits 13..29 / 13..20 are reserved (bit 12 is PAT).
          if ((eLo & (level === 1 ? 0x3fffe000 : 0x1fe000)) !== 0) rsvd = true;
          const pageBase =
            (eHi & 0xfffff) * 4294967296 + ((eLo & (level === 1 ? 0xc0000000 : 0xffe00000)) >>> 0);
          mfn = (pageBase + ((lo & (level === 1 ? 0x3ffff000 : 0x1ff000)) >>> 0)) / 4096;
          leafLo = eLo;
          if (rsvd) {
            this.faultCode = err | PfErr.RSVD | PfErr.P;
            return -1;
          }
          break;
        }
      }
      if (rsvd) {
        this.faultCode = err | PfErr.RSVD | PfErr.P;
        return -1;
      }
      table = (eHi & 0xfffff) * 4294967296 + ((eLo & -4096) >>> 0);
      if (level === 3) {
        mfn = table / 4096;
        leafLo = eLo;
      }
    }
    if (level === 4) level = 3;
    const wp = (this.cr0 & CR0_WP) !== 0;
    const nxOn = nx !== 0 && nxe;
    let ok: boolean;
    if (access === Access.Exec) ok = !nxOn && (!user || us !== 0);
    else if (access === Access.Write) ok = user ? us !== 0 && rw !== 0 : rw !== 0 || !wp;
    else ok = !user || us !== 0;
    if (!ok) {
      this.faultCode = err | PfErr.P;
      return -1;
    }
    if (mfn >= this.frames) {
      this.faultCode = err | PfErr.P | PfErr.RSVD;
      return -1;
    }
    // Accessed on every entry used; dirty on the leaf for writes.
    const bytes = this.bytes;
    // (PDPTEs have no accessed bit.)
    for (let l = longMode ? 0 : 2; l < level; l++) bytes[walked[l]] |= PTE_A;
    bytes[walked[level]] |= access === Access.Write ? PTE_A | PTE_D : PTE_A;
    const dirty = access === Access.Write || (leafLo & PTE_D) !== 0;
    let p = P_RS;
    if (!nxOn) p |= P_XS;
    if (dirty && (rw !== 0 || !wp)) p |= P_WS;
    if (us !== 0) {
      p |= P_RU;
      if (!nxOn) p |= P_XU;
      if (dirty && rw !== 0) p |= P_WU;
    }
    this.fill(lo, hi, mfn, p);
    return mfn * 4096 + (lo & 4095);
  }

  private fill(lo: number, hi: number, mfn: number, p: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    this.tagLo[i] = lo & -4096;
    this.tagHi[i] = hi;
    this.base[i] = mfn * 4096;
    this.perm[i] = this.codePages[mfn] !== 0 ? withholdWrite(p) : p;
  }
}
