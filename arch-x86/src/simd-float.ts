/**
 * SSE/SSE2/SSE3/SSE4.1 floating point: arithmetic (packed and scalar, single and double),
 * min/max, compares, comis/ucomis, rcp/rsqrt, conversions, round and dot products, with
 * IEEE 754 results under MXCSR (rounding control, DAZ, FTZ, sticky flags, masks) and the
 * SDM's SIMD exception rules (vol. 1, 11.5): pre-computation exceptions (invalid, divide
 * by zero, denormal) of every element are found first, and if one is unmasked the
 * instruction stops with its flags set and #XM (#UD without CR4.OSXMMEXCPT) before any
 * result; otherwise the post-computation ones (overflow, underflow, precision) follow,
 * and an unmasked one of those also leaves the destination unchanged.
 *
 * How results are rounded exactly with JavaScript's round-to-nearest doubles: every
 * operation is reduced to a double `hi` — the exact result rounded to nearest, computed on
 * operands scaled by a power of two so that `hi` is normal — and the sign of the error
 * (exact − hi), found with error-free transformations (Knuth's TwoSum for sums; Dekker's
 * product for the remainder of a quotient or square root and the tail of a product), plus
 * the scale. Rounding that pair to 24 or 53 bits in any mode, with gradual underflow,
 * is then exact ({@link roundTo}): the target's rounding boundaries are doubles, so `hi` is
 * on the exact result's side of each of them unless it equals one, and then the error's
 * sign decides. Tininess is detected after rounding, as x86 does; overflow and underflow
 * get the masked responses of the SDM (vol. 1, 4.9.1).
 *
 * rcp and rsqrt are the hardware's approximations: tables read off a real CPU
 * (simd-approx.ts). NaN operands are handled on their bit patterns, never as JS numbers,
 * so payloads and signalling bits survive. Scratch state is module-level; nothing here
 * allocates.
 *
 * @module
 */
import { materialize } from "./alu.js";
import type { X86Cpu } from "./cpu.js";
import { F, L, O } from "./execute.js";
import { mmxAvailable, mmxEnter, simdFloatingPointError, sseAvailable } from "./fpu.js";
import { CvtFn, FpFn } from "./ops.js";
import { loadSource } from "./simd.js";
import { RCP_TABLE, RSQRT_TABLE } from "./simd-approx.js";
import { Vec } from "./table.js";

/** MXCSR bits (SDM vol. 1, 10.2.3). */
export const Mxcsr = {
  /** Invalid operation. */ IE: 0x1,
  /** Denormal operand. */ DE: 0x2,
  /** Divide by zero. */ ZE: 0x4,
  /** Overflow. */ OE: 0x8,
  /** Underflow. */ UE: 0x10,
  /** Precision (inexact). */ PE: 0x20,
  /** Denormals are zeros: denormal operands read as zero of their sign. */ DAZ: 0x40,
  /** Shift of the six exception masks (IM at bit 7). */ MASK_SHIFT: 7,
  /** Shift of the rounding control: 0 nearest, 1 down, 2 up, 3 toward zero. */ RC_SHIFT: 13,
  /** Flush to zero: tiny results become zero when underflow is masked. */ FZ: 0x8000,
} as const;

const { IE, DE, ZE, OE, UE, PE } = Mxcsr;
const RN = 0;
const RD = 1;
const RU = 2;
const RZ = 3;

// ---- scratch ----

const BV = new DataView(new ArrayBuffer(8));
/** Destination, source and result lanes. */
const DA = new Int32Array(4);
const SA = new Int32Array(4);
const RA = new Int32Array(4);
/** Powers of two 2^-1100 … 2^1100 (exact; 0 and ∞ outside the double range). */
const POW2 = new Float64Array(2201);
POW2[1100] = 1;
for (let k = 1; k <= 1100; k++) {
  POW2[1100 + k] = POW2[1099 + k] * 2;
  POW2[1100 - k] = POW2[1101 - k] / 2;
}
/** 2^k for |k| ≤ 1100. */
function pow2(k: number): number {
  return POW2[1100 + (k < -1100 ? -1100 : k > 1100 ? 1100 : k)];
}
/** m × 2^k exactly (when representable), for any k. */
function scale(m: number, k: number): number {
  if (k > 1000 || k < -1000) {
    const h = k >> 1;
    return m * pow2(h) * pow2(k - h);
  }
  return m * pow2(k);
}

/** The approximation tables (simd-approx.ts) decoded once. */
const RCP = new Uint16Array(RCP_TABLE.length / 4);
const RSQRT = new Uint16Array(RSQRT_TABLE.length / 4);
for (let i = 0; i < RCP.length; i++) RCP[i] = parseInt(RCP_TABLE.slice(4 * i, 4 * i + 4), 16);
for (let i = 0; i < RSQRT.length; i++) RSQRT[i] = parseInt(RSQRT_TABLE.slice(4 * i, 4 * i + 4), 16);

/** Pre- and post-computation exception flags of the instruction so far. */
let pre = 0;
let post = 0;
/** MXCSR of the instruction: rounding control, DAZ, FZ, underflow masked. */
let rc = RN;
let daz = false;
let ftz = false;
let underflowMasked = true;
let overflowMasked = true;
/** Result of an element in bits (single: rLo; double: rLo, rHi). */
let rLo = 0;
let rHi = 0;

function single(bits: number): number {
  BV.setInt32(0, bits, true);
  return BV.getFloat32(0, true);
}
function singleBits(x: number): number {
  BV.setFloat32(0, x, true);
  return BV.getInt32(0, true);
}
function double(lo: number, hi: number): number {
  BV.setInt32(0, lo, true);
  BV.setInt32(4, hi, true);
  return BV.getFloat64(0, true);
}
/** The bits of double `x` into rLo/rHi. */
function doubleBits(x: number): void {
  BV.setFloat64(0, x, true);
  rLo = BV.getInt32(0, true);
  rHi = BV.getInt32(4, true);
}
/** Unbiased exponent of a normal double. */
function exponentOf(m: number): number {
  BV.setFloat64(0, m, true);
  return ((BV.getInt32(4, true) >>> 20) & 0x7ff) - 1023;
}

// ---- classification on bits (lane pair lo/hi; single uses hi only) ----

/** 0 zero, 1 denormal, 2 normal, 3 infinity, 4 QNaN, 5 SNaN. */
function classify(w: number, lo: number, hi: number): number {
  if (w === 4) {
    const e = hi & 0x7f800000;
    const m = hi & 0x7fffff;
    if (e === 0) return m === 0 ? 0 : 1;
    if (e !== 0x7f800000) return 2;
    if (m === 0) return 3;
    return (m & 0x400000) !== 0 ? 4 : 5;
  }
  const e = hi & 0x7ff00000;
  const m = (hi & 0xfffff) | lo;
  if (e === 0) return m === 0 ? 0 : 1;
  if (e !== 0x7ff00000) return 2;
  if (m === 0) return 3;
  return (hi & 0x80000) !== 0 ? 4 : 5;
}
const ZERO = 0;
const DENORMAL = 1;
const INF = 3;
const QNAN = 4;

/** The value of an operand that is not a NaN, with DAZ applied (and DE noted in `den`). */
let den = false;
function value(w: number, lo: number, hi: number, cls: number): number {
  if (cls === DENORMAL) {
    if (daz) return hi < 0 ? -0 : 0;
    den = true;
  }
  return w === 4 ? single(hi) : double(lo, hi);
}
/** The quiet form of a NaN into rLo/rHi. */
function quiet(w: number, lo: number, hi: number): void {
  rLo = lo;
  rHi = hi | (w === 4 ? 0x400000 : 0x80000);
}
/** The default NaN (the "QNaN floating-point indefinite"). */
function indefinite(w: number): void {
  rLo = 0;
  rHi = w === 4 ? 0xffc00000 | 0 : 0xfff80000 | 0;
}
/** An exact (unrounded) result value into rLo/rHi. */
function put(w: number, x: number): void {
  if (w === 4) rHi = singleBits(x);
  else doubleBits(x);
}

// ---- exact rounding ----

/** Dekker's product: the tail of a × b (a, b well inside the double range). */
function productTail(a: number, b: number, p: number): number {
  const ca = 134217729 * a;
  const ah = ca - (ca - a);
  const al = a - ah;
  const cb = 134217729 * b;
  const bh = cb - (cb - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/** Significand in [1, 2) and exponent of a finite nonzero |x| (set by {@link split}). */
let sm = 0;
let se = 0;
function split(x: number): void {
  let m = x < 0 ? -x : x;
  let k = 0;
  if (m < 2.2250738585072014e-308) {
    m *= 18446744073709551616;
    k = -64;
  }
  const e = exponentOf(m);
  sm = m * pow2(-e);
  se = e + k;
}

/**
 * Rounds (hi + ε) × 2^sc — `hi` the exact value rounded to a double, ε of sign `ds` and
 * smaller than half an ulp of hi — to the format of `w` bytes under {@link rc}, setting
 * the post-computation flags; returns the result (FTZ and masked overflow applied).
 */
function roundTo(hi: number, ds: number, sc: number, w: number): number {
  const p = w === 4 ? 24 : 53;
  const emin = w === 4 ? -126 : -1022;
  const emax = w === 4 ? 127 : 1023;
  const neg = hi < 0;
  let m = neg ? -hi : hi;
  const d = neg ? -ds : ds;
  if (m < 2.2250738585072014e-308) {
    m *= 18446744073709551616;
    sc -= 64;
  }
  // On magnitudes: 0 nearest, 1 toward zero, 2 away from zero.
  const mode = rc === RN ? 0 : rc === RZ ? 1 : (rc === RU) !== neg ? 2 : 1;
  let e = exponentOf(m) + sc;
  // hi a power of two with the exact value below it: the exact value is in the binade below.
  if (d < 0 && m === pow2(e - sc)) e -= 1;
  const tiny0 = e < emin;
  const q = tiny0 ? emin - p + 1 : e - p + 1;
  let n = roundInt(m, d, sc - q, mode);
  const inexact = lastInexact;
  const sgn = neg ? -1 : 1;
  if (!tiny0 && (e > emax || (e === emax && n >= pow2(p)))) {
    // Unmasked, the instruction stops with OE, and PE when the rounded result (with an
    // unbounded exponent) is inexact.
    if (!overflowMasked) {
      post |= inexact ? OE | PE : OE;
      return 0;
    }
    post |= OE | PE;
    if (mode === 1) return sgn * (2 - pow2(1 - p)) * pow2(emax);
    return sgn * Infinity;
  }
  if (tiny0) {
    let tiny = true;
    if (e === emin - 1 && roundInt(m, d, sc - (e - p + 1), mode) >= pow2(p)) tiny = false;
    if (tiny && underflowMasked && ftz) {
      post |= UE | PE;
      return neg ? -0 : 0;
    }
    if (tiny && !underflowMasked) {
      // Unmasked, the instruction stops with UE, and PE when the result rounded with an
      // unbounded exponent is inexact.
      roundInt(m, d, sc - (e - p + 1), mode);
      post |= lastInexact ? UE | PE : UE;
      return 0;
    }
    if (tiny && inexact) post |= UE;
  }
  if (inexact) post |= PE;
  if (n === 0) return neg ? -0 : 0;
  n *= sgn;
  return scale(n, q);
}

let lastInexact = false;
/** Rounds m × 2^k (m > 0, error sign d) to an integer in `mode`; sets {@link lastInexact}. */
function roundInt(m: number, d: number, k: number, mode: number): number {
  const h = scale(m, k);
  let n: number;
  // 0 exact, 1 below half, 2 half, 3 above half.
  let cat: number;
  if (h < 0.25) {
    n = 0;
    cat = 1;
  } else {
    n = Math.floor(h);
    const f = h - n;
    if (f === 0) {
      if (d === 0) cat = 0;
      else if (d > 0) cat = 1;
      else {
        n -= 1;
        cat = 3;
      }
    } else if (f === 0.5) cat = d === 0 ? 2 : d > 0 ? 3 : 1;
    else cat = f < 0.5 ? 1 : 3;
  }
  lastInexact = cat !== 0;
  if (cat === 0) return n;
  if (mode === 0) return cat === 3 || (cat === 2 && n % 2 === 1) ? n + 1 : n;
  return mode === 2 ? n + 1 : n;
}

// ---- element operations ----

/**
 * One element of add/sub/mul/div/min/max (`fn`) on operands a (destination side) and b,
 * each as a lane pair; the result goes to rLo/rHi.
 */
function binary(fn: number, w: number, alo: number, ahi: number, blo: number, bhi: number): void {
  const ca = classify(w, alo, ahi);
  const cb = classify(w, blo, bhi);
  if (fn === FpFn.MIN || fn === FpFn.MAX) {
    // The source unless the destination is strictly smaller (larger); any NaN is invalid.
    if (ca >= QNAN || cb >= QNAN) {
      pre |= IE;
      if (daz && cb === DENORMAL) put(w, bhi < 0 ? -0 : 0);
      else {
        rLo = blo;
        rHi = bhi;
      }
      return;
    }
    den = false;
    const x = value(w, alo, ahi, ca);
    const y = value(w, blo, bhi, cb);
    if (den) pre |= DE;
    const takeA = fn === FpFn.MIN ? x < y : x > y;
    if (takeA) {
      if (daz && ca === DENORMAL) put(w, x);
      else {
        rLo = alo;
        rHi = ahi;
      }
    } else if (daz && cb === DENORMAL) put(w, y);
    else {
      rLo = blo;
      rHi = bhi;
    }
    return;
  }
  if (ca >= QNAN || cb >= QNAN) {
    if (ca === 5 || cb === 5) pre |= IE;
    if (ca >= QNAN) quiet(w, alo, ahi);
    else quiet(w, blo, bhi);
    return;
  }
  den = false;
  const x = value(w, alo, ahi, ca);
  let y = value(w, blo, bhi, cb);
  const zx = x === 0;
  const zy = y === 0;
  switch (fn) {
    case FpFn.SUB:
    case FpFn.ADD: {
      if (fn === FpFn.SUB) y = -y;
      if (ca === INF && cb === INF && x !== y) {
        pre |= IE;
        indefinite(w);
        return;
      }
      if (den) pre |= DE;
      let s = x + y;
      if (ca === INF || cb === INF) {
        put(w, s);
        return;
      }
      if (s === 0 || zx || zy) {
        // Exact: a zero operand, or cancellation (+0, or −0 rounding down).
        if (s === 0 && rc === RD && !(zx && zy && 1 / x === 1 / y)) s = -0;
        if (!(zx || zy) || s === 0) {
          put(w, s);
          return;
        }
        put(w, roundTo(s, 0, 0, w));
        return;
      }
      let sc = 0;
      let xs = x;
      let ys = y;
      if (!Number.isFinite(s)) {
        xs *= 0.5;
        ys *= 0.5;
        sc = 1;
        s = xs + ys;
      }
      const bv = s - xs;
      const err = xs - (s - bv) + (ys - bv);
      put(w, roundTo(s, err, sc, w));
      return;
    }
    case FpFn.MUL: {
      if ((ca === INF && zy) || (cb === INF && zx)) {
        pre |= IE;
        indefinite(w);
        return;
      }
      if (den) pre |= DE;
      if (ca === INF || cb === INF || zx || zy) {
        put(w, x * y);
        return;
      }
      split(x);
      const mx = sm;
      const ex = se;
      split(y);
      const pr = mx * sm;
      const t = productTail(mx, sm, pr);
      put(w, roundTo(x < 0 !== y < 0 ? -pr : pr, x < 0 !== y < 0 ? -t : t, ex + se, w));
      return;
    }
    case FpFn.DIV: {
      if ((zx && zy) || (ca === INF && cb === INF)) {
        pre |= IE;
        indefinite(w);
        return;
      }
      if (zy && ca !== INF) {
        // x / 0 with x finite and nonzero (DE has lower priority).
        pre |= ZE;
        put(w, x / y);
        return;
      }
      if (den) pre |= DE;
      if (ca === INF || cb === INF || zx) {
        put(w, x / y);
        return;
      }
      split(x);
      const mx = sm;
      const ex = se;
      split(y);
      const qt = mx / sm;
      const pr = qt * sm;
      const rem = mx - pr - productTail(qt, sm, pr);
      const neg = x < 0 !== y < 0;
      put(w, roundTo(neg ? -qt : qt, neg ? -rem : rem, ex - se, w));
      return;
    }
    default:
      return;
  }
}

/** One element of sqrt of b. */
function sqrtElement(w: number, blo: number, bhi: number): void {
  const cb = classify(w, blo, bhi);
  if (cb >= QNAN) {
    if (cb === 5) pre |= IE;
    quiet(w, blo, bhi);
    return;
  }
  den = false;
  const y = value(w, blo, bhi, cb);
  if (y === 0) {
    put(w, y);
    return;
  }
  if (y < 0) {
    pre |= IE;
    indefinite(w);
    return;
  }
  if (den) pre |= DE;
  if (cb === INF) {
    put(w, y);
    return;
  }
  split(y);
  let m = sm;
  let e = se;
  if ((e & 1) !== 0) {
    m *= 2;
    e -= 1;
  }
  const r = Math.sqrt(m);
  const pr = r * r;
  const rem = m - pr - productTail(r, r, pr);
  put(w, roundTo(r, rem, e / 2, w));
}

/** Fills {@link DA} (destination register) and {@link SA} (source operand) and reads MXCSR. */
function operands(c: X86Cpu, rec: Int32Array, b: number, d: number, lo: number, hi: number): void {
  loadSource(c, rec, b, d, lo, hi, SA);
  const dl = rec[b + F.X_DST];
  if (dl >= 0 && (d & Vec.DST_MM) === 0) for (let k = 0; k < 4; k++) DA[k] = c.xmm[4 * dl + k];
  readMxcsr(c);
}

/** Raises #XM for unmasked pre-computation exceptions, merges the flags, then the post ones. */
function finish(c: X86Cpu): void {
  const masks = (c.mxcsr >> Mxcsr.MASK_SHIFT) & 0x3f;
  if ((pre & ~masks) !== 0) {
    c.mxcsr |= pre;
    simdFloatingPointError(c);
  }
  c.mxcsr |= pre | post;
  if ((post & ~masks) !== 0) simdFloatingPointError(c);
}

/** Writes {@link RA} to XMM register `r`. */
function store(c: X86Cpu, r: number): void {
  for (let k = 0; k < 4; k++) c.xmm[4 * r + k] = RA[k];
}

/** Element `i` of size `w` of `a` as (lo, hi) arguments: single elements use hi only. */
function elLo(a: Int32Array, w: number, i: number): number {
  return w === 4 ? 0 : a[2 * i];
}
function elHi(a: Int32Array, w: number, i: number): number {
  return w === 4 ? a[i] : a[2 * i + 1];
}
function setEl(w: number, i: number): void {
  if (w === 4) RA[i] = rHi;
  else {
    RA[2 * i] = rLo;
    RA[2 * i + 1] = rHi;
  }
}

// ---- the instructions ----

/**
 * Executes a floating-point Op (FARITH, FCMP, FCOMI, FAPPROX, FCVT, FROUND) of the record
 * at `rec[b ..]` with memory operand (`lo`, `hi`). Faults raise through `c.raise`.
 */
export function floatOp(
  c: X86Cpu,
  op: number,
  rec: Int32Array,
  b: number,
  lo: number,
  hi: number,
): void {
  const d = rec[b + F.X_EXT];
  sseAvailable(c);
  const w = d & Vec.AUX;
  const fn = d >>> Vec.FN_SHIFT;
  const memSize = (d >> Vec.MEM_SHIFT) & 31;
  const scalar = memSize === w;
  const n = scalar ? 1 : 16 / w;
  const dl = rec[b + F.X_DST];
  if (op === O.FCVT) {
    convert(c, fn, w, rec, b, d, lo, hi);
    return;
  }
  operands(c, rec, b, d, lo, hi);
  for (let k = 0; k < 4; k++) RA[k] = DA[k];
  switch (op) {
    case O.FARITH:
      if (fn === FpFn.HADD || fn === FpFn.HSUB) {
        const f = fn === FpFn.HADD ? FpFn.ADD : FpFn.SUB;
        const half = n >> 1;
        for (let i = 0; i < n; i++) {
          const a = i < half ? DA : SA;
          const j = 2 * (i < half ? i : i - half);
          binary(f, w, elLo(a, w, j), elHi(a, w, j), elLo(a, w, j + 1), elHi(a, w, j + 1));
          setEl(w, i);
        }
      } else if (fn === FpFn.DP)
        dotProduct(w, rec[b + F.IMM_LO], (c.mxcsr >> Mxcsr.MASK_SHIFT) & 0x3f);
      else {
        for (let i = 0; i < n; i++) {
          const f = fn === FpFn.ADDSUB ? ((i & 1) === 0 ? FpFn.SUB : FpFn.ADD) : fn;
          if (f === FpFn.SQRT) sqrtElement(w, elLo(SA, w, i), elHi(SA, w, i));
          else binary(f, w, elLo(DA, w, i), elHi(DA, w, i), elLo(SA, w, i), elHi(SA, w, i));
          setEl(w, i);
        }
      }
      break;
    case O.FCMP: {
      const pred = rec[b + F.IMM_LO] & 7;
      for (let i = 0; i < n; i++) {
        const r = compare(w, elLo(DA, w, i), elHi(DA, w, i), elLo(SA, w, i), elHi(SA, w, i));
        // r: 0 less, 1 equal, 2 greater, 3 unordered; predicates 1, 2, 5, 6 signal on QNaN.
        if (r === 3 && (pred & 3) !== 0 && (pred & 3) !== 3) pre |= IE;
        let t: boolean;
        switch (pred & 3) {
          case 0:
            t = r === 1;
            break;
          case 1:
            t = r === 0;
            break;
          case 2:
            t = r <= 1;
            break;
          default:
            t = r === 3;
        }
        if (pred >= 4) t = !t;
        rLo = rHi = t ? -1 : 0;
        setEl(w, i);
      }
      break;
    }
    case O.FCOMI: {
      const r = compare(w, elLo(DA, w, 0), elHi(DA, w, 0), elLo(SA, w, 0), elHi(SA, w, 0));
      if (r === 3 && fn === 1) pre |= IE;
      finish(c);
      materialize(c);
      // ZF PF CF: unordered 111, greater 000, less 001, equal 100; OF SF AF cleared.
      const f = r === 3 ? 0x45 : r === 0 ? 0x1 : r === 1 ? 0x40 : 0;
      c.flags = (c.flags & ~0x8d5) | f;
      return;
    }
    case O.FAPPROX:
      for (let i = 0; i < n; i++) {
        RA[i] = approx(fn, SA[i]);
      }
      for (let k = 0; k < 4; k++) c.xmm[4 * dl + k] = RA[k];
      return;
    case O.FROUND: {
      const imm = rec[b + F.IMM_LO];
      const save = rc;
      if ((imm & 4) === 0) rc = imm & 3;
      for (let i = 0; i < n; i++) {
        roundIntegral(w, elLo(SA, w, i), elHi(SA, w, i));
        setEl(w, i);
      }
      rc = save;
      if ((imm & 8) !== 0) post &= ~PE;
      break;
    }
    default:
      break;
  }
  finish(c);
  store(c, dl);
}

/** Compares a with b: 0 less, 1 equal, 2 greater, 3 unordered (IE for an SNaN, DE noted). */
function compare(w: number, alo: number, ahi: number, blo: number, bhi: number): number {
  const ca = classify(w, alo, ahi);
  const cb = classify(w, blo, bhi);
  if (ca >= QNAN || cb >= QNAN) {
    if (ca === 5 || cb === 5) pre |= IE;
    return 3;
  }
  den = false;
  const x = value(w, alo, ahi, ca);
  const y = value(w, blo, bhi, cb);
  if (den) pre |= DE;
  return x < y ? 0 : x === y ? 1 : 2;
}

/**
 * dpps/dppd of {@link DA} and {@link SA}: products under imm[7:4], sums to imm[3:0];
 * `masks` are MXCSR's exception masks.
 */
function dotProduct(w: number, imm: number, masks: number): void {
  const n = 16 / w;
  // Products (masked ones are +0), then pairwise sums, each rounded (SDM DPPS/DPPD).
  let p0lo = 0;
  let p0hi = 0;
  let p1lo = 0;
  let p1hi = 0;
  let p2hi = 0;
  let p3hi = 0;
  for (let i = 0; i < n; i++) {
    if (((imm >> (4 + i)) & 1) !== 0) {
      binary(FpFn.MUL, w, elLo(DA, w, i), elHi(DA, w, i), elLo(SA, w, i), elHi(SA, w, i));
    } else rLo = rHi = 0;
    if (i === 0) {
      p0lo = rLo;
      p0hi = rHi;
    } else if (i === 1) {
      p1lo = rLo;
      p1hi = rHi;
    } else if (i === 2) p2hi = rHi;
    else p3hi = rHi;
  }
  // An unmasked exception of the products stops the instruction before the sums.
  if (((pre | post) & ~masks) !== 0) return;
  binary(FpFn.ADD, w, p0lo, p0hi, p1lo, p1hi);
  if (w === 4) {
    const t = rHi;
    binary(FpFn.ADD, w, 0, p2hi, 0, p3hi);
    binary(FpFn.ADD, w, 0, t, 0, rHi);
  }
  for (let i = 0; i < n; i++) {
    if (((imm >> i) & 1) !== 0) setEl(w, i);
    else if (w === 4) RA[i] = 0;
    else RA[2 * i] = RA[2 * i + 1] = 0;
  }
}

/** Round to an integral value of the element's format (roundps and kin); rounding in {@link rc}. */
function roundIntegral(w: number, lo: number, hi: number): void {
  const cl = classify(w, lo, hi);
  if (cl >= QNAN) {
    if (cl === 5) pre |= IE;
    quiet(w, lo, hi);
    return;
  }
  den = false;
  const x = value(w, lo, hi, cl);
  if (cl === INF || x === 0 || Math.abs(x) >= (w === 4 ? 8388608 : 4503599627370496)) {
    put(w, x);
    return;
  }
  let r = Math.floor(x);
  const f = x - r;
  if (f !== 0) {
    post |= PE;
    if (rc === RU || (rc === RZ && x < 0)) r += 1;
    else if (rc === RN && (f > 0.5 || (f === 0.5 && r % 2 !== 0))) r += 1;
  }
  // A zero result keeps the operand's sign.
  put(w, r === 0 ? (x < 0 ? -0 : 0) : r);
}

/** rcp (fn 1) or rsqrt (fn 0) of a single, from the hardware tables; no flags. */
function approx(fn: number, x: number): number {
  const cl = classify(4, 0, x);
  const neg = x < 0;
  if (cl >= QNAN) return x | 0x400000;
  // Denormal operands read as zero; results too small for a normal single are zero.
  if (cl === ZERO || cl === DENORMAL) return neg ? 0xff800000 | 0 : 0x7f800000;
  if (cl === INF) return fn === 1 || !neg ? x & (0x80000000 | 0) : 0xffc00000 | 0;
  const e = ((x >>> 23) & 0xff) - 127;
  const top = (x >>> 11) & 0xfff;
  if (fn === 1) {
    const t = RCP[top];
    const r = 0x3f000000 + (t << 11) - (e << 23);
    if (((r >>> 23) & 0xff) === 0 || e >= 127) return neg ? 0x80000000 | 0 : 0;
    return neg ? r | (0x80000000 | 0) : r;
  }
  if (neg) return 0xffc00000 | 0;
  const i = ((e & 1) << 12) | top;
  const t = RSQRT[i];
  return 0x3f000000 + (t << 11) - ((e >> 1) << 23);
}

// ---- conversions ----

/** Integer result of a float-to-integer conversion (lo, hi in rLo, rHi). */
function toInteger(x: number, cls: number, wide: boolean, trunc: boolean): void {
  // NaN, infinity and out-of-range values give the integer indefinite (IE).
  if (cls >= INF) {
    pre |= IE;
    rLo = wide ? 0 : 0x80000000 | 0;
    rHi = wide ? 0x80000000 | 0 : 0;
    return;
  }
  let r = Math.trunc(x);
  const f = x - r;
  if (f !== 0) {
    const mode = trunc ? RZ : rc;
    if (mode === RU && f > 0) r += 1;
    else if (mode === RD && f < 0) r -= 1;
    else if (mode === RN) {
      const a = Math.abs(f);
      if (a > 0.5 || (a === 0.5 && r % 2 !== 0)) r += f > 0 ? 1 : -1;
    }
  }
  const lim = wide ? 9223372036854775808 : 2147483648;
  if (r >= lim || r < -lim) {
    pre |= IE;
    rLo = wide ? 0 : 0x80000000 | 0;
    rHi = wide ? 0x80000000 | 0 : 0;
    return;
  }
  if (f !== 0) post |= PE;
  if (!wide) {
    rLo = r | 0;
    rHi = 0;
    return;
  }
  const h = Math.floor(r / 4294967296);
  rLo = (r - h * 4294967296) | 0;
  rHi = h | 0;
}

/** The conversions (FCVT variant `fn`, source element size `w`). */
function convert(
  c: X86Cpu,
  fn: number,
  w: number,
  rec: Int32Array,
  b: number,
  d: number,
  lo: number,
  hi: number,
): void {
  const trunc = fn >= CvtFn.TRUNC;
  const kind = trunc ? fn - CvtFn.TRUNC : fn;
  const srcLoc = rec[b + F.X_SRC];
  const dl = rec[b + F.X_DST];
  const mmxSrc = (d & Vec.SRC_MM) !== 0;
  const mmxDst = (d & Vec.DST_MM) !== 0;
  // A memory source does not switch the x87 unit to MMX use (SDM CVTPI2PS).
  if (mmxDst || (mmxSrc && srcLoc !== L.MEM)) mmxAvailable(c);
  if (kind === CvtFn.SI2SS || kind === CvtFn.SI2SD) {
    // From a general register or memory: int32, or int64 with REX.W.
    const wide = ((rec[b + F.PACK] >> 12) & 15) === 8;
    let vl: number;
    let vh: number;
    if (srcLoc === L.MEM) {
      vl = wide ? c.rd64(lo, hi) : c.rd32(lo, hi);
      vh = wide ? c.hi : vl >> 31;
    } else {
      vl = c.regLo[srcLoc];
      vh = wide ? c.regHi[srcLoc] : vl >> 31;
    }
    for (let k = 0; k < 4; k++) DA[k] = c.xmm[4 * dl + k];
    readMxcsr(c);
    for (let k = 0; k < 4; k++) RA[k] = DA[k];
    fromInteger(kind === CvtFn.SI2SS ? 4 : 8, vl, vh);
    setEl(kind === CvtFn.SI2SS ? 4 : 8, 0);
    finish(c);
    store(c, dl);
    return;
  }
  loadSource(c, rec, b, d, lo, hi, SA);
  if (!mmxDst) for (let k = 0; k < 4; k++) DA[k] = c.xmm[4 * dl + k];
  readMxcsr(c);
  for (let k = 0; k < 4; k++) RA[k] = DA[k];
  switch (kind) {
    case CvtFn.PI2PS:
    case CvtFn.PI2PD: {
      const ow = kind === CvtFn.PI2PS ? 4 : 8;
      for (let i = 0; i < 2; i++) {
        fromInteger(ow, SA[i], SA[i] >> 31);
        setEl(ow, i);
      }
      if (mmxSrc && srcLoc !== L.MEM) mmxEnter(c);
      finish(c);
      store(c, dl);
      return;
    }
    case CvtFn.SS2SI:
    case CvtFn.SD2SI: {
      const wide = ((rec[b + F.PACK] >> 12) & 15) === 8;
      floatToInt(w, 0, wide, trunc);
      finish(c);
      c.regLo[dl] = rLo;
      c.regHi[dl] = wide ? rHi : 0;
      return;
    }
    case CvtFn.PS2PI:
    case CvtFn.PD2PI: {
      for (let i = 0; i < 2; i++) {
        floatToInt(w, i, false, trunc);
        RA[i] = rLo;
      }
      // The x87 → MMX transition happens even when the conversion raises #XM.
      mmxEnter(c);
      finish(c);
      c.fpuMant[2 * (dl & 7)] = RA[0];
      c.fpuMant[2 * (dl & 7) + 1] = RA[1];
      c.fpuSignExp[dl & 7] = 0xffff;
      return;
    }
    case CvtFn.PS2DQ:
    case CvtFn.PD2DQ: {
      const cnt = 16 / w;
      for (let i = 0; i < cnt; i++) {
        floatToInt(w, i, false, trunc);
        RA[i] = rLo;
      }
      if (w === 8) RA[2] = RA[3] = 0;
      break;
    }
    case CvtFn.DQ2PS:
      for (let i = 0; i < 4; i++) {
        fromInteger(4, SA[i], SA[i] >> 31);
        RA[i] = rHi;
      }
      break;
    case CvtFn.DQ2PD:
      for (let i = 1; i >= 0; i--) {
        fromInteger(8, SA[i], SA[i] >> 31);
        setEl(8, i);
      }
      break;
    case CvtFn.PS2PD:
    case CvtFn.SS2SD: {
      const cnt = kind === CvtFn.PS2PD ? 2 : 1;
      for (let i = cnt - 1; i >= 0; i--) {
        widen(SA[i]);
        setEl(8, i);
      }
      break;
    }
    case CvtFn.PD2PS:
    case CvtFn.SD2SS: {
      const cnt = kind === CvtFn.PD2PS ? 2 : 1;
      for (let i = 0; i < cnt; i++) {
        narrow(SA[2 * i], SA[2 * i + 1]);
        RA[i] = rHi;
      }
      if (kind === CvtFn.PD2PS) RA[2] = RA[3] = 0;
      break;
    }
    default:
      break;
  }
  finish(c);
  store(c, dl);
}

/** Takes the instruction's rounding control, DAZ, FZ and underflow mask from MXCSR; clears the flags found. */
function readMxcsr(c: X86Cpu): void {
  const m = c.mxcsr;
  pre = post = 0;
  rc = (m >> Mxcsr.RC_SHIFT) & 3;
  daz = (m & Mxcsr.DAZ) !== 0;
  ftz = (m & Mxcsr.FZ) !== 0;
  underflowMasked = (m & (UE << Mxcsr.MASK_SHIFT)) !== 0;
  overflowMasked = (m & (OE << Mxcsr.MASK_SHIFT)) !== 0;
}

/** Element `i` of {@link SA} (format `w`) to an integer in rLo/rHi. */
function floatToInt(w: number, i: number, wide: boolean, trunc: boolean): void {
  const lo = elLo(SA, w, i);
  const hi = elHi(SA, w, i);
  const cl = classify(w, lo, hi);
  if (cl >= QNAN) {
    toInteger(0, INF, wide, trunc);
    return;
  }
  den = false;
  const x = value(w, lo, hi, cl);
  toInteger(x, cl, wide, trunc);
}

/** The signed 64-bit integer (vl, vh) rounded to format `w` into rLo/rHi. */
function fromInteger(w: number, vl: number, vh: number): void {
  const hiPart = vh * 4294967296;
  const loPart = vl >>> 0;
  const s = hiPart + loPart;
  if (s === 0) {
    put(w, 0);
    return;
  }
  const bv = s - hiPart;
  const err = hiPart - (s - bv) + (loPart - bv);
  put(w, roundTo(s, err, 0, w));
}

/** cvtss2sd / cvtps2pd of single `x` (exact) into rLo/rHi. */
function widen(x: number): void {
  const cl = classify(4, 0, x);
  if (cl >= QNAN) {
    if (cl === 5) pre |= IE;
    // The quieted significand moves to the top of the double's.
    const q = x | 0x400000;
    rHi = (q & (0x80000000 | 0)) | 0x7ff00000 | ((q & 0x7fffff) >>> 3);
    rLo = (q & 7) << 29;
    return;
  }
  den = false;
  const v = value(4, 0, x, cl);
  if (den) pre |= DE;
  doubleBits(v);
}

/** cvtsd2ss / cvtpd2ps of the double (lo, hi) into rHi. */
function narrow(lo: number, hi: number): void {
  const cl = classify(8, lo, hi);
  if (cl >= QNAN) {
    if (cl === 5) pre |= IE;
    rHi = (hi & (0x80000000 | 0)) | 0x7fc00000 | ((hi & 0xfffff) << 3) | (lo >>> 29);
    return;
  }
  den = false;
  const v = value(8, lo, hi, cl);
  if (den) pre |= DE;
  if (cl === INF || v === 0) {
    rHi = singleBits(v);
    return;
  }
  rHi = singleBits(roundTo(v, 0, 0, 4));
}
