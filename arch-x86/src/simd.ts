/**
 * MMX and SSE/SSE2 data movement and integer SIMD: the interpreter hands every vector Op
 * (ops.ts, VMOV … SHUF) to {@link vectorOp}, which reads the row's {@link Vec} descriptor
 * from the record's `X_EXT`.
 *
 * An XMM register is four int32 lanes of `X86Cpu.xmm`, an MMX register two of
 * `X86Cpu.fpuMant`; byte and word elements are taken from the lanes with shifts, so the
 * result does not depend on the host's byte order. Before any operand is touched the
 * instruction is checked against CR0/CR4 and pending x87 exceptions (fpu.ts); an MMX
 * instruction then switches the x87 unit to MMX use (TOP 0, every tag valid) and a write to
 * MMi sets Ri's exponent field to all ones (SDM vol. 1, 9.5). A 16-byte memory operand of
 * a row without `RowFlag.MISALIGN` must be 16-byte aligned (#GP(0)). Nothing here
 * allocates: the scratch vectors are module-level.
 *
 * @module
 */
import { mulhu32 } from "./alu.js";
import type { X86Cpu } from "./cpu.js";
import { F, L, O } from "./execute.js";
import { mmxAvailable, mmxEnter, sseAvailable } from "./fpu.js";
import { Vec } from "./table.js";

const { AUX, DST_MM, SRC_MM, XMM, MEM_SHIFT, ALIGN } = Vec;
const TWO32 = 4294967296;

/** The source operand, copied (shuffles, memory operands). */
const SRC = new Int32Array(4);
/** The destination's old value, copied (shuffles, unpacks, packs). */
const DST = new Int32Array(4);
/** Byte views for byte shuffles (filled from lanes with shifts). */
const DB = new Uint8Array(16);
const SB = new Uint8Array(16);
const RB = new Uint8Array(16);

/** Where the operand {@link locate} found lives: `arr[at ..]`. */
let arr: Int32Array = SRC;
let at = 0;

/** Points {@link arr}/{@link at} at vector register `r` (MMX when `mm`). */
function locate(c: X86Cpu, r: number, mm: boolean): void {
  if (mm) {
    arr = c.fpuMant;
    at = 2 * (r & 7);
  } else {
    arr = c.xmm;
    at = 4 * r;
  }
}

/** Reads `size` bytes (2, 4, 8 or 16) at (lo, hi) into {@link SRC}, zero-filling the rest. */
function readMem(c: X86Cpu, lo: number, hi: number, size: number): void {
  if (size === 2) {
    SRC[0] = c.rd16(lo, hi);
    SRC[1] = SRC[2] = SRC[3] = 0;
    return;
  }
  if (size === 4) {
    SRC[0] = c.rd32(lo, hi);
    SRC[1] = SRC[2] = SRC[3] = 0;
    return;
  }
  SRC[0] = c.rd64(lo, hi);
  SRC[1] = c.hi;
  if (size === 8) {
    SRC[2] = SRC[3] = 0;
    return;
  }
  const l = (lo >>> 0) + 8;
  SRC[2] = c.rd64(l | 0, l >= TWO32 ? (hi + 1) | 0 : hi);
  SRC[3] = c.hi;
}

/** Writes `size` bytes (4, 8 or 16) of `a[o ..]` to (lo, hi); nothing is written if any byte faults. */
function writeMem(c: X86Cpu, lo: number, hi: number, size: number, a: Int32Array, o: number): void {
  if (size === 4) {
    c.wr32(lo, hi, a[o]);
    return;
  }
  if (size === 16) c.probeWrite(lo, hi, 16);
  c.wr64(lo, hi, a[o], a[o + 1]);
  if (size === 16) {
    const l = (lo >>> 0) + 8;
    c.wr64(l | 0, l >= TWO32 ? (hi + 1) | 0 : hi, a[o + 2], a[o + 3]);
  }
}

/**
 * Loads the source operand (`X_SRC`): a vector register in place, or memory into
 * {@link SRC} (alignment checked); leaves it at {@link arr}/{@link at}.
 */
function source(c: X86Cpu, rec: Int32Array, b: number, d: number, lo: number, hi: number): void {
  const loc = rec[b + F.X_SRC];
  if (loc === L.MEM) {
    if ((d & ALIGN) !== 0 && (lo & 15) !== 0) c.gp0();
    readMem(c, lo, hi, (d >> MEM_SHIFT) & 31);
    arr = SRC;
    at = 0;
  } else locate(c, loc, (d & SRC_MM) !== 0);
}

/**
 * Copies the source operand (`X_SRC`: an MMX or XMM register, or memory of the
 * descriptor's size with its alignment checked) into `to[0..3]`, zero-filling what the
 * operand does not cover.
 */
export function loadSource(
  c: X86Cpu,
  rec: Int32Array,
  b: number,
  d: number,
  lo: number,
  hi: number,
  to: Int32Array,
): void {
  source(c, rec, b, d, lo, hi);
  const n = (d & SRC_MM) !== 0 && rec[b + F.X_SRC] !== L.MEM ? 2 : 4;
  for (let k = 0; k < 4; k++) to[k] = k < n ? arr[at + k] : 0;
}

/** Copies `n` lanes of `a[o ..]` to `to[t ..]`. */
function copy(to: Int32Array, t: number, a: Int32Array, o: number, n: number): void {
  for (let k = 0; k < n; k++) to[t + k] = a[o + k];
}

/** Spreads `n` lanes of `a[o ..]` into the bytes of `to` (little-endian order). */
export function toBytes(to: Uint8Array, a: Int32Array, o: number, n: number): void {
  for (let k = 0; k < n; k++) {
    const v = a[o + k];
    to[4 * k] = v;
    to[4 * k + 1] = v >>> 8;
    to[4 * k + 2] = v >>> 16;
    to[4 * k + 3] = v >>> 24;
  }
}

/** Gathers the bytes of `from` (default {@link RB}) back into `n` lanes of `a[o ..]`. */
export function fromBytes(a: Int32Array, o: number, n: number, from: Uint8Array = RB): void {
  for (let k = 0; k < n; k++) {
    a[o + k] =
      from[4 * k] | (from[4 * k + 1] << 8) | (from[4 * k + 2] << 16) | (from[4 * k + 3] << 24);
  }
}

/** Word `w` (0–3) of the quadword at {@link SRC} lane `q`. */
function wordOf(q: number, w: number): number {
  return (SRC[q + (w >> 1)] >>> (16 * (w & 1))) & 0xffff;
}

/** Signed saturation of `v` to `bits` bits, as an unsigned field value. */
function satS(v: number, bits: number): number {
  const max = (1 << (bits - 1)) - 1;
  const r = v > max ? max : v < -max - 1 ? -max - 1 : v;
  return r & ((1 << bits) - 1);
}

/** Unsigned saturation of `v` to `bits` bits. */
function satU(v: number, bits: number): number {
  const max = (1 << bits) - 1;
  return v > max ? max : v < 0 ? 0 : v;
}

/**
 * One lane-wise operation on int32 lanes `a` (destination) and `s` (source) with elements
 * of `lane` bytes (1, 2 or 4); 8-byte elements are handled by the caller.
 */
function lanewise(op: number, lane: number, a: number, s: number): number {
  switch (op) {
    case O.PAND:
      return a & s;
    case O.PANDN:
      return ~a & s;
    case O.POR:
      return a | s;
    case O.PXOR:
      return a ^ s;
    case O.PADD:
      if (lane === 4) return (a + s) | 0;
      if (lane === 2) return ((a & 0x7fff7fff) + (s & 0x7fff7fff)) ^ ((a ^ s) & 0x80008000);
      return ((a & 0x7f7f7f7f) + (s & 0x7f7f7f7f)) ^ ((a ^ s) & 0x80808080);
    case O.PSUB:
      if (lane === 4) return (a - s) | 0;
      if (lane === 2) return ((a | 0x80008000) - (s & 0x7fff7fff)) ^ ((a ^ ~s) & 0x80008000);
      return ((a | 0x80808080) - (s & 0x7f7f7f7f)) ^ ((a ^ ~s) & 0x80808080);
    default:
      break;
  }
  const bits = lane * 8;
  const m = lane === 4 ? -1 : (1 << bits) - 1;
  let r = 0;
  for (let k = 0; k < 32; k += bits) {
    // Signed (x, y) and unsigned (ux, uy) element values.
    const x = (a << (32 - bits - k)) >> (32 - bits);
    const y = (s << (32 - bits - k)) >> (32 - bits);
    const ux = lane === 4 ? a >>> 0 : (a >>> k) & m;
    const uy = lane === 4 ? s >>> 0 : (s >>> k) & m;
    let e: number;
    switch (op) {
      case O.PADDS:
        e = satS(x + y, bits);
        break;
      case O.PADDUS:
        e = satU(ux + uy, bits);
        break;
      case O.PSUBS:
        e = satS(x - y, bits);
        break;
      case O.PSUBUS:
        e = satU(ux - uy, bits);
        break;
      case O.PCMPEQ:
        e = x === y ? m : 0;
        break;
      case O.PCMPGT:
        e = x > y ? m : 0;
        break;
      case O.PMINU:
        e = ux < uy ? ux : uy;
        break;
      case O.PMAXU:
        e = ux > uy ? ux : uy;
        break;
      case O.PMINS:
        e = (x < y ? x : y) & m;
        break;
      case O.PMAXS:
        e = (x > y ? x : y) & m;
        break;
      case O.PAVG:
        e = (ux + uy + 1) >>> 1;
        break;
      case O.PMULL:
        e = Math.imul(x, y) & m;
        break;
      case O.PMULH:
        e = (Math.imul(x, y) >> 16) & m;
        break;
      case O.PMULHU:
        e = ((ux * uy) / 65536) & m;
        break;
      default:
        e = 0;
    }
    r |= e << k;
  }
  return r;
}

/** A shift count from the source operand (low 64 bits) or the immediate, saturated at 255. */
function shiftCount(rec: Int32Array, b: number): number {
  if (rec[b + F.X_SRC] === L.IMM) return rec[b + F.IMM_LO] & 0xff;
  return arr[at + 1] !== 0 || arr[at] >>> 0 > 255 ? 255 : arr[at];
}

/** psll/psrl/psra of `n` lanes at `d[o ..]` by `count`, elements of `lane` bytes. */
function shiftLanes(
  op: number,
  lane: number,
  d: Int32Array,
  o: number,
  n: number,
  count: number,
): void {
  if (lane === 8) {
    for (let k = 0; k < n; k += 2) {
      const lo = d[o + k];
      const hi = d[o + k + 1];
      let rl = 0;
      let rh = 0;
      if (count < 64) {
        if (op === O.PSLL) {
          if (count >= 32) rh = lo << (count - 32);
          else if (count > 0) {
            rh = (hi << count) | (lo >>> (32 - count));
            rl = lo << count;
          } else {
            rh = hi;
            rl = lo;
          }
        } else if (count >= 32) rl = hi >>> (count - 32);
        else if (count > 0) {
          rl = (lo >>> count) | (hi << (32 - count));
          rh = hi >>> count;
        } else {
          rl = lo;
          rh = hi;
        }
      }
      d[o + k] = rl;
      d[o + k + 1] = rh;
    }
    return;
  }
  const bits = lane * 8;
  const m = lane === 4 ? -1 : (1 << bits) - 1;
  let c = count;
  if (c >= bits) {
    if (op !== O.PSRA) {
      for (let k = 0; k < n; k++) d[o + k] = 0;
      return;
    }
    c = bits - 1;
  }
  for (let k = 0; k < n; k++) {
    const a = d[o + k];
    let r = 0;
    for (let p = 0; p < 32; p += bits) {
      let e: number;
      if (op === O.PSLL) e = ((a >>> p) << c) & m;
      else if (op === O.PSRL) e = ((a >>> p) & m) >>> c;
      else e = (((a << (32 - bits - p)) >> (32 - bits)) >> c) & m;
      r |= e << p;
    }
    d[o + k] = r;
  }
}

/**
 * Executes vector Op `op` (VMOV … SHUF) of the decoded record at `rec[b ..]`, whose memory
 * operand (if any) is at linear (`lo`, `hi`). Faults raise through `c.raise`.
 */
export function vectorOp(
  c: X86Cpu,
  op: number,
  rec: Int32Array,
  b: number,
  lo: number,
  hi: number,
): void {
  const d = rec[b + F.X_EXT];
  const mmx = (d & (DST_MM | SRC_MM)) !== 0;
  if ((d & XMM) !== 0) sseAvailable(c);
  if (mmx) mmxAvailable(c);
  const lane = d & AUX;
  const dstMm = (d & DST_MM) !== 0;
  const n = dstMm ? 2 : 4;
  const dl = rec[b + F.X_DST];
  switch (op) {
    case O.VMOV: {
      const size = dstMm || (d & SRC_MM) !== 0 ? 8 : 16;
      source(c, rec, b, d, lo, hi);
      if (dl === L.MEM) {
        if ((d & ALIGN) !== 0 && (lo & 15) !== 0) c.gp0();
        writeMem(c, lo, hi, size, arr, at);
        if (mmx) mmxEnter(c);
        return;
      }
      if (mmx) mmxEnter(c);
      const sa = arr;
      const so = at;
      locate(c, dl, dstMm);
      copy(arr, at, sa, so, size >> 2);
      if (dstMm) c.fpuSignExp[dl & 7] = 0xffff;
      return;
    }
    case O.VMOVD: {
      const osz = (rec[b + F.PACK] >> 12) & 15;
      if (lane === 0) {
        // movd/movq into a vector register from a general register or memory.
        const sl = rec[b + F.X_SRC];
        let vl: number;
        let vh = 0;
        if (sl === L.MEM) {
          vl = osz === 8 ? c.rd64(lo, hi) : c.rd32(lo, hi);
          if (osz === 8) vh = c.hi;
        } else {
          vl = c.regLo[sl];
          if (osz === 8) vh = c.regHi[sl];
        }
        if (mmx) mmxEnter(c);
        locate(c, dl, dstMm);
        arr[at] = vl;
        arr[at + 1] = vh;
        if (dstMm) c.fpuSignExp[dl & 7] = 0xffff;
        else arr[at + 2] = arr[at + 3] = 0;
        return;
      }
      // movd/movq from a vector register to a general register or memory.
      locate(c, rec[b + F.X_SRC], (d & SRC_MM) !== 0);
      const vl = arr[at];
      const vh = arr[at + 1];
      if (dl === L.MEM) {
        if (osz === 8) c.wr64(lo, hi, vl, vh);
        else c.wr32(lo, hi, vl);
      } else {
        c.regLo[dl] = vl;
        c.regHi[dl] = osz === 8 ? vh : 0;
      }
      if (mmx) mmxEnter(c);
      return;
    }
    case O.VMOVQ: {
      source(c, rec, b, d, lo, hi);
      const vl = arr[at];
      const vh = arr[at + 1];
      if (dl === L.MEM) {
        c.wr64(lo, hi, vl, vh);
        return;
      }
      if (mmx) mmxEnter(c);
      locate(c, dl, dstMm);
      arr[at] = vl;
      arr[at + 1] = vh;
      if (dstMm) c.fpuSignExp[dl & 7] = 0xffff;
      else arr[at + 2] = arr[at + 3] = 0;
      return;
    }
    case O.VMOVS: {
      const words = lane >> 2;
      if (dl === L.MEM) {
        locate(c, rec[b + F.X_SRC], false);
        writeMem(c, lo, hi, lane, arr, at);
        return;
      }
      const fromMem = rec[b + F.X_SRC] === L.MEM;
      source(c, rec, b, d, lo, hi);
      const sa = arr;
      const so = at;
      locate(c, dl, false);
      for (let k = 0; k < words; k++) arr[at + k] = sa[so + k];
      // A load from memory zeroes the rest of the register; a register move keeps it.
      if (fromMem) for (let k = words; k < 4; k++) arr[at + k] = 0;
      return;
    }
    case O.VMOVLH: {
      const q = 2 * lane;
      if (dl === L.MEM) {
        locate(c, rec[b + F.X_SRC], false);
        c.wr64(lo, hi, arr[at + q], arr[at + q + 1]);
        return;
      }
      const fromMem = rec[b + F.X_SRC] === L.MEM;
      source(c, rec, b, d, lo, hi);
      // movhlps/movlhps take the other quadword of the source register.
      const sq = fromMem ? 0 : 2 - q;
      const vl = arr[at + sq];
      const vh = arr[at + sq + 1];
      locate(c, dl, false);
      arr[at + q] = vl;
      arr[at + q + 1] = vh;
      return;
    }
    case O.VMOVMSK: {
      locate(c, rec[b + F.X_SRC], (d & SRC_MM) !== 0);
      const lanes = (d & SRC_MM) !== 0 ? 2 : 4;
      let m = 0;
      if (lane === 1) {
        for (let k = 0; k < lanes; k++) {
          const v = arr[at + k];
          m |=
            (((v >>> 7) & 1) | ((v >>> 14) & 2) | ((v >>> 21) & 4) | ((v >>> 28) & 8)) << (4 * k);
        }
      } else {
        const step = lane >> 2;
        for (let k = 0; k < lanes / step; k++) m |= (arr[at + k * step + step - 1] >>> 31) << k;
      }
      if (mmx) mmxEnter(c);
      c.regLo[dl] = m;
      c.regHi[dl] = 0;
      return;
    }
    case O.VMASKMOV: {
      // Stores the bytes of the REG register whose mask byte (the r/m register) has its top bit.
      const asz = rec[b + F.ASZ];
      let al = c.regLo[7];
      let ah = asz === 8 ? c.regHi[7] : 0;
      const sg = rec[b + F.SEG];
      if (sg === 4 || sg === 5) {
        const s = (al >>> 0) + ((sg === 4 ? c.fsLo : c.gsLo) >>> 0);
        al = s | 0;
        ah = (ah + (sg === 4 ? c.fsHi : c.gsHi) + (s >= TWO32 ? 1 : 0)) | 0;
      }
      locate(c, rec[b + F.X_SRC], (d & SRC_MM) !== 0);
      copy(SRC, 0, arr, at, n);
      locate(c, dl, dstMm);
      for (let k = 0; k < 4 * n; k++) {
        if (((SRC[k >> 2] >>> (8 * (k & 3) + 7)) & 1) === 0) continue;
        const l = (al >>> 0) + k;
        c.wr8(l | 0, l >= TWO32 ? (ah + 1) | 0 : ah, arr[at + (k >> 2)] >>> (8 * (k & 3)));
      }
      if (mmx) mmxEnter(c);
      return;
    }
    case O.PEXTRW: {
      locate(c, rec[b + F.X_SRC], (d & SRC_MM) !== 0);
      const i = rec[b + F.IMM_LO] & ((d & SRC_MM) !== 0 ? 3 : 7);
      const v = (arr[at + (i >> 1)] >>> (16 * (i & 1))) & 0xffff;
      if (mmx) mmxEnter(c);
      c.regLo[dl] = v;
      c.regHi[dl] = 0;
      return;
    }
    case O.PINSRW: {
      const sl = rec[b + F.X_SRC];
      const v = sl === L.MEM ? c.rd16(lo, hi) : c.regLo[sl] & 0xffff;
      const i = rec[b + F.IMM_LO] & (dstMm ? 3 : 7);
      if (mmx) mmxEnter(c);
      locate(c, dl, dstMm);
      const sh = 16 * (i & 1);
      arr[at + (i >> 1)] = (arr[at + (i >> 1)] & ~(0xffff << sh)) | (v << sh);
      if (dstMm) c.fpuSignExp[dl & 7] = 0xffff;
      return;
    }
    default:
      break;
  }

  // Operations on the destination register and a source (register, memory or immediate).
  if (rec[b + F.X_SRC] !== L.IMM) source(c, rec, b, d, lo, hi);
  if (mmx) mmxEnter(c);
  const sa = arr;
  const so = at;
  locate(c, dl, dstMm);
  const da = arr;
  const dO = at;
  switch (op) {
    case O.PSLL:
    case O.PSRL:
    case O.PSRA: {
      arr = sa;
      at = so;
      shiftLanes(op, lane, da, dO, n, shiftCount(rec, b));
      break;
    }
    case O.PSLLDQ:
    case O.PSRLDQ: {
      const k = rec[b + F.IMM_LO] & 0xff;
      toBytes(DB, da, dO, 4);
      for (let i = 0; i < 16; i++) {
        const j = op === O.PSLLDQ ? i - k : i + k;
        RB[i] = j >= 0 && j < 16 ? DB[j] : 0;
      }
      fromBytes(da, dO, 4);
      break;
    }
    case O.PADD:
    case O.PSUB:
      if (lane === 8) {
        for (let k = 0; k < n; k += 2) {
          const al = da[dO + k];
          const bl = sa[so + k];
          if (op === O.PADD) {
            const l = (al >>> 0) + (bl >>> 0);
            da[dO + k] = l | 0;
            da[dO + k + 1] = (da[dO + k + 1] + sa[so + k + 1] + (l >= TWO32 ? 1 : 0)) | 0;
          } else {
            da[dO + k] = (al - bl) | 0;
            da[dO + k + 1] = (da[dO + k + 1] - sa[so + k + 1] - (al >>> 0 < bl >>> 0 ? 1 : 0)) | 0;
          }
        }
        break;
      }
      for (let k = 0; k < n; k++) da[dO + k] = lanewise(op, lane, da[dO + k], sa[so + k]);
      break;
    case O.PMULUDQ:
      for (let k = 0; k < n; k += 2) {
        const x = da[dO + k];
        const y = sa[so + k];
        da[dO + k] = Math.imul(x, y);
        da[dO + k + 1] = mulhu32(x, y);
      }
      break;
    case O.PMADDWD:
      for (let k = 0; k < n; k++) {
        const x = da[dO + k];
        const y = sa[so + k];
        da[dO + k] =
          (Math.imul(x >> 16, y >> 16) + Math.imul((x << 16) >> 16, (y << 16) >> 16)) | 0;
      }
      break;
    case O.PSADBW:
      for (let k = 0; k < n; k += 2) {
        let sum = 0;
        for (let j = 0; j < 8; j++) {
          const x = (da[dO + k + (j >> 2)] >>> (8 * (j & 3))) & 0xff;
          const y = (sa[so + k + (j >> 2)] >>> (8 * (j & 3))) & 0xff;
          sum += x > y ? x - y : y - x;
        }
        da[dO + k] = sum;
        da[dO + k + 1] = 0;
      }
      break;
    case O.PSHUFD:
    case O.PSHUFLW:
    case O.PSHUFHW:
    case O.PSHUFW: {
      const imm = rec[b + F.IMM_LO];
      copy(SRC, 0, sa, so, n);
      if (op === O.PSHUFD) {
        for (let k = 0; k < 4; k++) da[dO + k] = SRC[(imm >> (2 * k)) & 3];
        break;
      }
      // Word shuffles: the four words of one quadword (pshufw: the whole MMX register).
      const q = op === O.PSHUFHW ? 2 : 0;
      const w0 = wordOf(q, imm & 3);
      const w1 = wordOf(q, (imm >> 2) & 3);
      const w2 = wordOf(q, (imm >> 4) & 3);
      const w3 = wordOf(q, (imm >> 6) & 3);
      if (op !== O.PSHUFW) {
        // The other quadword comes from the source unchanged.
        da[dO + 2 - q] = SRC[2 - q];
        da[dO + 3 - q] = SRC[3 - q];
      }
      da[dO + q] = w0 | (w1 << 16);
      da[dO + q + 1] = w2 | (w3 << 16);
      break;
    }
    case O.SHUF: {
      const imm = rec[b + F.IMM_LO];
      copy(DST, 0, da, dO, 4);
      copy(SRC, 0, sa, so, 4);
      if (lane === 4) {
        da[dO] = DST[imm & 3];
        da[dO + 1] = DST[(imm >> 2) & 3];
        da[dO + 2] = SRC[(imm >> 4) & 3];
        da[dO + 3] = SRC[(imm >> 6) & 3];
      } else {
        const q0 = 2 * (imm & 1);
        const q1 = 2 * ((imm >> 1) & 1);
        da[dO] = DST[q0];
        da[dO + 1] = DST[q0 + 1];
        da[dO + 2] = SRC[q1];
        da[dO + 3] = SRC[q1 + 1];
      }
      break;
    }
    case O.PUNPCKL:
    case O.PUNPCKH: {
      // Interleave elements of the low (high) halves: destination first.
      const bytes = 4 * n;
      copy(DST, 0, da, dO, n);
      copy(SRC, 0, sa, so, n);
      toBytes(DB, DST, 0, n);
      toBytes(SB, SRC, 0, n);
      const base = op === O.PUNPCKH ? bytes >> 1 : 0;
      for (let e = 0; e < bytes >> 1; e += lane) {
        for (let j = 0; j < lane; j++) {
          RB[2 * e + j] = DB[base + e + j];
          RB[2 * e + lane + j] = SB[base + e + j];
        }
      }
      fromBytes(da, dO, n);
      break;
    }
    case O.PACKSS:
    case O.PACKUS: {
      // Elements of `lane` bytes to half their size: destination's, then the source's.
      copy(DST, 0, da, dO, n);
      copy(SRC, 0, sa, so, n);
      const bits = lane * 4;
      const per = n * (4 / lane);
      for (let i = 0; i < 2 * per; i++) {
        const v = i < per ? DST : SRC;
        const e = i < per ? i : i - per;
        const w = lane === 2 ? (v[e >> 1] << (16 - 16 * (e & 1))) >> 16 : v[e];
        const r = op === O.PACKSS ? satS(w, bits) : satU(w, bits);
        const shift = (i * bits) & 31;
        const k = (i * bits) >> 5;
        da[dO + k] = shift === 0 ? r : da[dO + k] | (r << shift);
      }
      break;
    }
    default:
      for (let k = 0; k < n; k++) da[dO + k] = lanewise(op, lane, da[dO + k], sa[so + k]);
  }
  if (dstMm) c.fpuSignExp[dl & 7] = 0xffff;
}
