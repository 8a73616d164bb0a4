/**
 * The vector instructions after SSE2 that are not floating-point arithmetic: SSE3's
 * duplicating moves, SSSE3 (pshufb, horizontal add/subtract, pmaddubsw, pmulhrsw, psign,
 * pabs, palignr; MMX and XMM forms), SSE4.1 (blends, ptest, pmovsx/zx, pmuldq, pcmpeqq,
 * phminposuw, mpsadbw, insert/extract) and SSE4.2 (pcmpgtq, the four string compares
 * pcmpestri/estrm/istri/istrm with every imm8 mode, crc32). The SSE4.1 and SSE4.2 integer
 * operations that only extend an SSE2 one to new element sizes (pminsb, pmulld,
 * packusdw, ...) run in simd.ts.
 *
 * Semantics from the SDM (vol. 2, each instruction's Operation section; pcmpXstrX from
 * vol. 1, 12.10 and vol. 2, 4.1). Registers are read as int32 lanes and spread into bytes
 * where bytes are the elements; nothing here allocates.
 *
 * @module
 */
import { materialize, mulhu32 } from "./alu.js";
import type { X86Cpu } from "./cpu.js";
import { F, L, O } from "./execute.js";
import { mmxAvailable, mmxEnter, sseAvailable } from "./fpu.js";
import { REG_AH } from "./insn.js";
import { ExtFn } from "./ops.js";
import { fromBytes, loadSource, toBytes } from "./simd.js";
import { TABLE, Vec } from "./table.js";

const S = new Int32Array(4);
const D = new Int32Array(4);
const R = new Int32Array(4);
const DB = new Uint8Array(16);
const SB = new Uint8Array(16);
const RB = new Uint8Array(32);

/** CRC-32C (Castagnoli, reflected polynomial 0x82f63b78) byte table. */
const CRC_TABLE = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  let r = i;
  for (let k = 0; k < 8; k++) r = (r & 1) !== 0 ? (r >>> 1) ^ 0x82f63b78 : r >>> 1;
  CRC_TABLE[i] = r;
}

/** Signed element `i` of `lane` bytes from the byte array. */
function sel(a: Uint8Array, lane: number, i: number): number {
  const o = i * lane;
  if (lane === 1) return (a[o] << 24) >> 24;
  if (lane === 2) return ((a[o] | (a[o + 1] << 8)) << 16) >> 16;
  return a[o] | (a[o + 1] << 8) | (a[o + 2] << 16) | (a[o + 3] << 24);
}
/** Unsigned element `i` of `lane` bytes (1 or 2). */
function uel(a: Uint8Array, lane: number, i: number): number {
  const o = i * lane;
  return lane === 1 ? a[o] : a[o] | (a[o + 1] << 8);
}
/** Stores element `i` of `lane` bytes into {@link RB}. */
function setEl(lane: number, i: number, v: number): void {
  const o = i * lane;
  RB[o] = v;
  if (lane > 1) RB[o + 1] = v >>> 8;
  if (lane > 2) {
    RB[o + 2] = v >>> 16;
    RB[o + 3] = v >>> 24;
  }
}
function sat16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : v;
}

/**
 * Executes VEXT, PCMPSTR or CRC32 for the decoded record at `rec[b ..]` with memory operand
 * (`lo`, `hi`). Faults raise through `c.raise`.
 */
export function extOp(
  c: X86Cpu,
  op: number,
  rec: Int32Array,
  b: number,
  lo: number,
  hi: number,
): void {
  if (op === O.CRC32) {
    crc32(c, rec, b, lo, hi);
    return;
  }
  const d = rec[b + F.X_EXT];
  const mm = (d & (Vec.DST_MM | Vec.SRC_MM)) !== 0;
  sseAvailable(c);
  if (mm) mmxAvailable(c);
  const lane = d & Vec.AUX;
  const fn = d >>> Vec.FN_SHIFT;
  const dl = rec[b + F.X_DST];
  const imm = rec[b + F.IMM_LO] & 0xff;
  if (op === O.PCMPSTR) {
    pcmpstr(c, rec, b, d, lo, hi, lane);
    return;
  }
  if (fn === ExtFn.PEXTR) {
    extract(c, rec, b, lo, hi, lane, imm);
    return;
  }
  if (fn === ExtFn.PINSR) {
    insert(c, rec, b, lo, hi, lane, imm);
    return;
  }
  loadSource(c, rec, b, d, lo, hi, S);
  const n = mm ? 2 : 4;
  const nb = 4 * n;
  if (mm) {
    D[0] = c.fpuMant[2 * (dl & 7)];
    D[1] = c.fpuMant[2 * (dl & 7) + 1];
    D[2] = D[3] = 0;
  } else for (let k = 0; k < 4; k++) D[k] = c.xmm[4 * dl + k];
  toBytes(DB, D, 0, 4);
  toBytes(SB, S, 0, 4);
  for (let k = 0; k < 16; k++) RB[k] = DB[k];
  const ne = nb / lane;
  switch (fn) {
    case ExtFn.MOVDDUP:
      R[0] = R[2] = S[0];
      R[1] = R[3] = S[1];
      break;
    case ExtFn.MOVSLDUP:
    case ExtFn.MOVSHDUP: {
      const o = fn === ExtFn.MOVSHDUP ? 1 : 0;
      R[0] = R[1] = S[o];
      R[2] = R[3] = S[2 + o];
      break;
    }
    case ExtFn.PSHUFB:
      for (let i = 0; i < nb; i++) {
        const x = SB[i];
        RB[i] = (x & 0x80) !== 0 ? 0 : DB[x & (nb - 1)];
      }
      break;
    case ExtFn.PHADD:
    case ExtFn.PHADDS:
    case ExtFn.PHSUB:
    case ExtFn.PHSUBS: {
      const half = ne >> 1;
      for (let i = 0; i < ne; i++) {
        const a = i < half ? DB : SB;
        const j = 2 * (i < half ? i : i - half);
        const x = sel(a, lane, j);
        const y = sel(a, lane, j + 1);
        let v = fn === ExtFn.PHADD || fn === ExtFn.PHADDS ? x + y : x - y;
        if (fn === ExtFn.PHADDS || fn === ExtFn.PHSUBS) v = sat16(v);
        setEl(lane, i, v | 0);
      }
      break;
    }
    case ExtFn.PMADDUBSW:
      for (let i = 0; i < ne; i++) {
        const v = DB[2 * i] * sel(SB, 1, 2 * i) + DB[2 * i + 1] * sel(SB, 1, 2 * i + 1);
        setEl(2, i, sat16(v));
      }
      break;
    case ExtFn.PSIGN:
      for (let i = 0; i < ne; i++) {
        const s = sel(SB, lane, i);
        const x = sel(DB, lane, i);
        setEl(lane, i, s < 0 ? -x | 0 : s === 0 ? 0 : x);
      }
      break;
    case ExtFn.PMULHRSW:
      for (let i = 0; i < ne; i++) {
        const p = sel(DB, 2, i) * sel(SB, 2, i);
        setEl(2, i, ((p >> 14) + 1) >> 1);
      }
      break;
    case ExtFn.PABS:
      for (let i = 0; i < ne; i++) {
        const x = sel(SB, lane, i);
        setEl(lane, i, x < 0 ? -x | 0 : x);
      }
      break;
    case ExtFn.PALIGNR:
      // (destination:source) shifted right by imm8 bytes.
      for (let i = 0; i < nb; i++) {
        const k = i + imm;
        RB[i] = k < nb ? SB[k] : k < 2 * nb ? DB[k - nb] : 0;
      }
      break;
    case ExtFn.BLENDV:
    case ExtFn.BLEND:
      for (let i = 0; i < 16 / lane; i++) {
        const pick =
          fn === ExtFn.BLEND
            ? (imm >> i) & 1
            : (c.xmm[(i * lane + lane - 1) >> 2] >>> (8 * ((i * lane + lane - 1) & 3) + 7)) & 1;
        if (pick !== 0) for (let k = 0; k < lane; k++) RB[i * lane + k] = SB[i * lane + k];
      }
      break;
    case ExtFn.PTEST: {
      let and = 0;
      let andn = 0;
      for (let k = 0; k < 4; k++) {
        and |= D[k] & S[k];
        andn |= ~D[k] & S[k];
      }
      materialize(c);
      c.flags = (c.flags & ~0x8d5) | (and === 0 ? 0x40 : 0) | (andn === 0 ? 1 : 0);
      return;
    }
    case ExtFn.PMOVSX:
    case ExtFn.PMOVZX: {
      const count = 16 / lane;
      const ss = ((d >> Vec.MEM_SHIFT) & 31) / count;
      for (let i = 0; i < count; i++) {
        const v =
          fn === ExtFn.PMOVSX ? sel(SB, ss, i) : ss === 4 ? sel(SB, 4, i) >>> 0 : uel(SB, ss, i);
        if (lane === 8) {
          setEl(4, 2 * i, v);
          setEl(4, 2 * i + 1, fn === ExtFn.PMOVSX ? v >> 31 : 0);
        } else setEl(lane, i, v);
      }
      break;
    }
    case ExtFn.PMULDQ:
      for (let k = 0; k < 4; k += 2) {
        const x = D[k];
        const y = S[k];
        R[k] = Math.imul(x, y);
        R[k + 1] = (mulhu32(x, y) - (x < 0 ? y : 0) - (y < 0 ? x : 0)) | 0;
      }
      break;
    case ExtFn.PCMPEQQ:
    case ExtFn.PCMPGTQ:
      for (let k = 0; k < 4; k += 2) {
        const t =
          fn === ExtFn.PCMPEQQ
            ? D[k] === S[k] && D[k + 1] === S[k + 1]
            : D[k + 1] > S[k + 1] || (D[k + 1] === S[k + 1] && D[k] >>> 0 > S[k] >>> 0);
        R[k] = R[k + 1] = t ? -1 : 0;
      }
      break;
    case ExtFn.PHMINPOSUW: {
      let m = uel(SB, 2, 0);
      let at = 0;
      for (let i = 1; i < 8; i++) {
        const v = uel(SB, 2, i);
        if (v < m) {
          m = v;
          at = i;
        }
      }
      R[0] = m | (at << 16);
      R[1] = R[2] = R[3] = 0;
      break;
    }
    case ExtFn.MPSADBW: {
      const so = (imm & 3) * 4;
      const dO = ((imm >> 2) & 1) * 4;
      for (let i = 0; i < 8; i++) {
        let sum = 0;
        for (let j = 0; j < 4; j++) {
          const x = DB[dO + i + j] - SB[so + j];
          sum += x < 0 ? -x : x;
        }
        setEl(2, i, sum);
      }
      break;
    }
    case ExtFn.INSERTPS: {
      const v = rec[b + F.X_SRC] === L.MEM ? S[0] : S[(imm >> 6) & 3];
      for (let k = 0; k < 4; k++) R[k] = D[k];
      R[(imm >> 4) & 3] = v;
      for (let k = 0; k < 4; k++) if (((imm >> k) & 1) !== 0) R[k] = 0;
      break;
    }
    default:
      break;
  }
  // Byte-wise results are in RB; lane-wise ones (MOVDDUP … INSERTPS) already in R.
  const lanewise =
    fn === ExtFn.MOVDDUP ||
    fn === ExtFn.MOVSLDUP ||
    fn === ExtFn.MOVSHDUP ||
    fn === ExtFn.PMULDQ ||
    fn === ExtFn.PCMPEQQ ||
    fn === ExtFn.PCMPGTQ ||
    fn === ExtFn.PHMINPOSUW ||
    fn === ExtFn.INSERTPS;
  if (!lanewise) fromBytes(R, 0, 4, RB);
  if (mm) {
    mmxEnter(c);
    c.fpuMant[2 * (dl & 7)] = R[0];
    c.fpuMant[2 * (dl & 7) + 1] = R[1];
    c.fpuSignExp[dl & 7] = 0xffff;
  } else for (let k = 0; k < 4; k++) c.xmm[4 * dl + k] = R[k];
}

/** pextrb/w/d/q and extractps: an element of the XMM source to a general register or memory. */
function extract(
  c: X86Cpu,
  rec: Int32Array,
  b: number,
  lo: number,
  hi: number,
  lane: number,
  imm: number,
): void {
  const x = 4 * rec[b + F.X_SRC];
  const dst = rec[b + F.X_DST];
  const wide = lane === 4 && rec[b + F.OSZ] === 8 && TABLE[rec[b + F.ROW]].opcode === 0x16;
  let vl: number;
  let vh = 0;
  if (wide) {
    vl = c.xmm[x + 2 * (imm & 1)];
    vh = c.xmm[x + 2 * (imm & 1) + 1];
  } else if (lane === 4) vl = c.xmm[x + (imm & 3)];
  else {
    const i = lane === 1 ? imm & 15 : imm & 7;
    const byteAt = i * lane;
    vl = (c.xmm[x + (byteAt >> 2)] >>> (8 * (byteAt & 3))) & (lane === 1 ? 0xff : 0xffff);
  }
  if (dst === L.MEM) {
    if (wide) c.wr64(lo, hi, vl, vh);
    else if (lane === 4) c.wr32(lo, hi, vl);
    else if (lane === 2) c.wr16(lo, hi, vl);
    else c.wr8(lo, hi, vl);
    return;
  }
  c.regLo[dst] = vl;
  c.regHi[dst] = vh;
}

/** pinsrb/d/q: a general register or memory element into the XMM destination. */
function insert(
  c: X86Cpu,
  rec: Int32Array,
  b: number,
  lo: number,
  hi: number,
  lane: number,
  imm: number,
): void {
  const x = 4 * rec[b + F.X_DST];
  const src = rec[b + F.X_SRC];
  const wide = lane === 4 && rec[b + F.OSZ] === 8;
  let vl: number;
  let vh = 0;
  if (src === L.MEM) {
    if (wide) {
      vl = c.rd64(lo, hi);
      vh = c.hi;
    } else vl = lane === 4 ? c.rd32(lo, hi) : c.rd8(lo, hi);
  } else {
    vl = c.regLo[src];
    vh = c.regHi[src];
  }
  if (wide) {
    c.xmm[x + 2 * (imm & 1)] = vl;
    c.xmm[x + 2 * (imm & 1) + 1] = vh;
  } else if (lane === 4) c.xmm[x + (imm & 3)] = vl;
  else {
    const i = imm & 15;
    const sh = 8 * (i & 3);
    c.xmm[x + (i >> 2)] = (c.xmm[x + (i >> 2)] & ~(0xff << sh)) | ((vl & 0xff) << sh);
  }
}

/** crc32: CRC-32C of the source's bytes (lowest first) onto the destination's low 32 bits. */
function crc32(c: X86Cpu, rec: Int32Array, b: number, lo: number, hi: number): void {
  const byteRow = TABLE[rec[b + F.ROW]].opcode === 0xf0;
  const osz = rec[b + F.OSZ];
  const size = byteRow ? 1 : osz;
  const src = rec[b + F.X_SRC];
  let vl: number;
  let vh = 0;
  if (src === L.MEM) {
    if (size === 8) {
      vl = c.rd64(lo, hi);
      vh = c.hi;
    } else vl = size === 4 ? c.rd32(lo, hi) : size === 2 ? c.rd16(lo, hi) : c.rd8(lo, hi);
  } else if (size === 1 && src >= REG_AH) vl = (c.regLo[src - REG_AH] >>> 8) & 0xff;
  else {
    vl = c.regLo[src];
    vh = c.regHi[src];
  }
  const dst = rec[b + F.X_DST];
  let crc = c.regLo[dst];
  for (let k = 0; k < size; k++) {
    const byte = (k < 4 ? vl >>> (8 * k) : vh >>> (8 * (k - 4))) & 0xff;
    crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ byte) & 0xff];
  }
  c.regLo[dst] = crc;
  c.regHi[dst] = 0;
}

/** Scratch of pcmpXstrX: the comparison result per xmm2 element, the element format. */
let intRes = 0;
let strLane = 1;
let strSigned = false;
/** Element `i` of a pcmpXstrX operand in the imm8's format. */
function el(a: Uint8Array, i: number): number {
  return strSigned ? sel(a, strLane, i) : uel(a, strLane, i);
}

/** pcmpestri/estrm/istri/istrm (`kind` bit 0: index, bit 1: implicit lengths). */
function pcmpstr(
  c: X86Cpu,
  rec: Int32Array,
  b: number,
  d: number,
  lo: number,
  hi: number,
  kind: number,
): void {
  const imm = rec[b + F.IMM_LO] & 0xff;
  loadSource(c, rec, b, d, lo, hi, S);
  const x = 4 * rec[b + F.X_DST];
  for (let k = 0; k < 4; k++) D[k] = c.xmm[x + k];
  toBytes(DB, D, 0, 4);
  toBytes(SB, S, 0, 4);
  const words = (imm & 1) !== 0;
  const signed = (imm & 2) !== 0;
  const lane = words ? 2 : 1;
  const ne = words ? 8 : 16;
  strLane = lane;
  strSigned = signed;
  let len1: number;
  let len2: number;
  if ((kind & 2) !== 0) {
    len1 = ne;
    for (let i = 0; i < ne; i++)
      if (el(DB, i) === 0) {
        len1 = i;
        break;
      }
    len2 = ne;
    for (let i = 0; i < ne; i++)
      if (el(SB, i) === 0) {
        len2 = i;
        break;
      }
  } else {
    // Explicit lengths: rAX for xmm1, rDX for xmm2, absolute values saturated at the count.
    const wide = rec[b + F.OSZ] === 8;
    len1 = explicitLength(c.regLo[0], wide ? c.regHi[0] : c.regLo[0] >> 31, ne);
    len2 = explicitLength(c.regLo[2], wide ? c.regHi[2] : c.regLo[2] >> 31, ne);
  }
  const agg = (imm >> 2) & 3;
  intRes = 0;
  for (let j = 0; j < ne; j++) {
    let r = 0;
    switch (agg) {
      case 0: // equal any
        if (j < len2) for (let i = 0; i < len1; i++) if (el(DB, i) === el(SB, j)) r = 1;
        break;
      case 1: // ranges
        // Pairs (low, high) of xmm1; an incomplete last pair matches nothing.
        if (j < len2)
          for (let i = 0; i + 1 < len1; i += 2) {
            const v = el(SB, j);
            if (v >= el(DB, i) && v <= el(DB, i + 1)) r = 1;
          }
        break;
      case 2: // equal each
        if (j >= len1 && j >= len2) r = 1;
        else if (j < len1 && j < len2) r = el(DB, j) === el(SB, j) ? 1 : 0;
        break;
      default: {
        // equal ordered: the substring xmm1 starts at element j of xmm2
        r = 1;
        for (let i = 0; i < ne - j && i < len1; i++) {
          if (j + i >= len2 || el(DB, i) !== el(SB, j + i)) {
            r = 0;
            break;
          }
        }
        break;
      }
    }
    intRes |= r << j;
  }
  const all = words ? 0xff : 0xffff;
  const pol = (imm >> 4) & 3;
  let res2 = intRes;
  if (pol === 1) res2 = ~intRes & all;
  else if (pol === 3) res2 = intRes ^ ((1 << len2) - 1);
  if ((kind & 1) !== 0) {
    let idx = ne;
    if (res2 !== 0)
      idx = (imm & 0x40) !== 0 ? 31 - Math.clz32(res2) : 31 - Math.clz32(res2 & -res2);
    c.regLo[1] = idx;
    c.regHi[1] = 0;
  } else {
    if ((imm & 0x40) === 0) {
      c.xmm[0] = res2;
      c.xmm[1] = c.xmm[2] = c.xmm[3] = 0;
    } else {
      for (let i = 0; i < ne; i++) setEl(lane, i, ((res2 >> i) & 1) !== 0 ? -1 : 0);
      fromBytes(c.xmm, 0, 4, RB);
    }
  }
  materialize(c);
  c.flags =
    (c.flags & ~0x8d5) |
    (res2 !== 0 ? 1 : 0) |
    (len2 < ne ? 0x40 : 0) |
    (len1 < ne ? 0x80 : 0) |
    ((res2 & 1) !== 0 ? 0x800 : 0);
}

/** |(lo, hi)| saturated at `max`. */
function explicitLength(lo: number, hi: number, max: number): number {
  if (hi < 0) {
    // Negative: two's complement magnitude.
    const nl = -lo | 0;
    const nh = (~hi + (lo === 0 ? 1 : 0)) | 0;
    return nh !== 0 || nl >>> 0 >= max ? max : nl;
  }
  return hi !== 0 || lo >>> 0 >= max ? max : lo;
}
