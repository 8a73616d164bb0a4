/**
 * The floating-point unit: 32 FPRs (IEEE doubles, kept as bits so loads, stores and moves
 * never touch a NaN's payload), the FPSCR, and the arithmetic compilers emit with IEEE
 * results in the four FPSCR rounding modes and the sticky exception bits.
 *
 * JavaScript arithmetic rounds to nearest even only. Every operation here computes that
 * result and its exact error (error-free transformations: two-sum, Dekker's product, the
 * division and square-root remainders), then rounds the exact value to double or single
 * in the mode RN selects; FR, FI, XX, OX and UX follow from the same pair. Facts: Power
 * ISA 2.01 Book I chapter 4 (FPSCR, the execution models of 4.5/4.6).
 *
 * @module
 */
import { Op as Op_, RowFlag as RowFlag_, field as field_, type InsnRow } from "./table.js";

// Imported bindings read through module-namespace getters when the sources run through a
// CommonJS transform (tsx, vitest); the instruction path uses these module-local copies.
const Op = Op_;
const RowFlag = RowFlag_;
const field = field_;
type Op = Op_;

/** FPSCR bits (value masks; the ISA numbers them 0 = FX … 31). */
export const Fpscr = {
  /** Exception summary (sticky). */ FX: 0x80000000 | 0,
  /** Enabled exception summary. */ FEX: 0x40000000,
  /** Invalid operation summary. */ VX: 0x20000000,
  /** Overflow. */ OX: 0x10000000,
  /** Underflow. */ UX: 0x08000000,
  /** Zero divide. */ ZX: 0x04000000,
  /** Inexact. */ XX: 0x02000000,
  /** Invalid: signalling NaN. */ VXSNAN: 0x01000000,
  /** Invalid: ∞ − ∞. */ VXISI: 0x00800000,
  /** Invalid: ∞ ÷ ∞. */ VXIDI: 0x00400000,
  /** Invalid: 0 ÷ 0. */ VXZDZ: 0x00200000,
  /** Invalid: ∞ × 0. */ VXIMZ: 0x00100000,
  /** Invalid compare. */ VXVC: 0x00080000,
  /** Fraction rounded (the result's magnitude was increased). */ FR: 0x00040000,
  /** Fraction inexact. */ FI: 0x00020000,
  /** Result flags: class and FPCC (C, FL, FG, FE, FU). */ FPRF: 0x0001f000,
  /** FPCC alone. */ FPCC: 0x0000f000,
  /** Invalid: software request. */ VXSOFT: 0x400,
  /** Invalid: square root of a negative number. */ VXSQRT: 0x200,
  /** Invalid: integer conversion. */ VXCVI: 0x100,
  /** Invalid operation exception enable. */ VE: 0x80,
  /** Overflow enable. */ OE: 0x40,
  /** Underflow enable. */ UE: 0x20,
  /** Zero-divide enable. */ ZE: 0x10,
  /** Inexact enable. */ XE: 0x8,
  /** Non-IEEE mode. */ NI: 0x4,
  /** Rounding mode: 0 nearest, 1 toward zero, 2 toward +∞, 3 toward −∞. */ RN: 0x3,
} as const;

const VX_ALL =
  Fpscr.VXSNAN |
  Fpscr.VXISI |
  Fpscr.VXIDI |
  Fpscr.VXZDZ |
  Fpscr.VXIMZ |
  Fpscr.VXVC |
  Fpscr.VXSOFT |
  Fpscr.VXSQRT |
  Fpscr.VXCVI;
/** Exception bits whose 0 → 1 transition sets FX. */
const EXC = Fpscr.OX | Fpscr.UX | Fpscr.ZX | Fpscr.XX | VX_ALL;

/** FPRF values by result class (ISA table 2). */
const CLASS_QNAN = 0x11;
const CLASS_NINF = 0x09;
const CLASS_NNORM = 0x08;
const CLASS_NDENORM = 0x18;
const CLASS_NZERO = 0x12;
const CLASS_PZERO = 0x02;
const CLASS_PDENORM = 0x14;
const CLASS_PNORM = 0x04;
const CLASS_PINF = 0x05;

const MAX_DOUBLE = Number.MAX_VALUE;
const MAX_SINGLE = 3.4028234663852886e38;
const MIN_NORMAL_DOUBLE = 2.2250738585072014e-308;
const MIN_NORMAL_SINGLE = 1.1754943508222875e-38;
const SPLIT = 134217729; // 2^27 + 1
const QNAN_HI = 0x7ff80000;

const scratchF = new Float64Array(1);
const scratchW = new Int32Array(scratchF.buffer);
const scratchS = new Float32Array(1);
const scratchSW = new Int32Array(scratchS.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO = LITTLE ? 0 : 1;
const HI = LITTLE ? 1 : 0;

/** The exact error of a·b against its rounded product p (Dekker; scaled for huge operands). */
function productError(a: number, b: number, p: number): number {
  let scale = 1;
  if (Math.abs(a) > 1e300) {
    a *= 2 ** -60;
    scale *= 2 ** 60;
    p *= 2 ** -60;
  }
  if (Math.abs(b) > 1e300) {
    b *= 2 ** -60;
    scale *= 2 ** 60;
    p *= 2 ** -60;
  }
  if (Math.abs(p) < 1e-280 && a !== 0 && b !== 0) {
    // A tiny product: scale it up so the split and the error stay representable.
    a *= 2 ** 300;
    b *= 2 ** 300;
    p *= 2 ** 600;
    scale *= 2 ** -600;
  }
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  const x = ah * bh - p + ah * bl + al * bh + al * bl;
  const e = x * scale;
  // An error below the smallest denormal keeps its sign (it only decides directed rounding).
  if (e === 0 && x !== 0) return (x > 0 ? 1 : -1) * Number.MIN_VALUE;
  return e;
}

function nextUp(x: number, single: boolean): number {
  if (single) {
    scratchS[0] = x;
    if (x === 0) scratchSW[0] = 1;
    else if (x > 0) scratchSW[0]!++;
    else scratchSW[0]!--;
    return scratchS[0]!;
  }
  scratchF[0] = x;
  if (x === 0) {
    scratchW[HI] = 0;
    scratchW[LO] = 1;
  } else {
    const d = x > 0 ? 1 : -1;
    const lo = (scratchW[LO]! >>> 0) + d;
    scratchW[LO] = lo | 0;
    if (lo > 0xffffffff) scratchW[HI]!++;
    else if (lo < 0) scratchW[HI]!--;
  }
  return scratchF[0]!;
}

function nextDown(x: number, single: boolean): number {
  return -nextUp(-x, single);
}

/** The FPU state and operations. */
export class Fpu {
  /** The FPRs as doubles (aliasing {@link Fpu.words}). */
  readonly fpr = new Float64Array(32);
  /** The FPRs as int32 words in host order (use {@link Fpu.hiBits}/{@link Fpu.loBits}). */
  readonly words = new Int32Array(this.fpr.buffer);
  /** The FPSCR. */
  fpscr = 0;
  /** After {@link Fpu.execute}: the CR field value a compare or mcrfs produced, else −1. */
  crField = -1;
  /** After {@link Fpu.execute}: the CR field it goes to. */
  crBf = 0;

  /** High word of FPR `i` (sign, exponent, top of the fraction). */
  hiBits(i: number): number {
    return this.words[2 * i + HI]!;
  }
  /** Low word of FPR `i`. */
  loBits(i: number): number {
    return this.words[2 * i + LO]!;
  }
  /** Set FPR `i` from its two words. */
  setBits(i: number, hi: number, lo: number): void {
    this.words[2 * i + HI] = hi;
    this.words[2 * i + LO] = lo;
  }

  /** lfs: FPR `i` ← the single-precision value `w` (bits), converted exactly (NaNs keep their payload). */
  setSingleBits(i: number, w: number): void {
    const exp = (w >>> 23) & 0xff;
    const sign = w & 0x80000000;
    let frac = w & 0x7fffff;
    if (exp === 255) this.setBits(i, sign | 0x7ff00000 | (frac >>> 3), frac << 29);
    else if (exp !== 0) this.setBits(i, sign | ((exp + 896) << 20) | (frac >>> 3), frac << 29);
    else if (frac === 0) this.setBits(i, sign, 0);
    else {
      // Denormal single: normalise.
      let e = 897;
      while ((frac & 0x800000) === 0) {
        frac <<= 1;
        e--;
      }
      frac &= 0x7fffff;
      this.setBits(i, sign | (e << 20) | (frac >>> 3), frac << 29);
    }
  }

  /** stfs: the single-precision bits of FPR `i`, by the ISA's conversion (truncating, not rounding). */
  singleBits(i: number): number {
    const hi = this.hiBits(i);
    const lo = this.loBits(i);
    const exp = (hi >>> 20) & 0x7ff;
    const sign = hi & 0x80000000;
    if (
      exp > 896 ||
      exp === 0x7ff ||
      (exp === 0 && (hi & 0xfffff) === 0 && lo === 0) ||
      exp === 0
    ) {
      if (exp > 896 || exp === 0x7ff)
        return sign | (((hi >>> 30) & 1) << 30) | ((hi & 0x07ffffff) << 3) | (lo >>> 29);
      return sign;
    }
    if (exp >= 874) {
      // Denormalised single: shift the significand (with its implicit 1) right.
      const sh = 897 - exp;
      const mant = ((1 << 23) | ((hi & 0xfffff) << 3) | (lo >>> 29)) >>> sh;
      return sign | mant;
    }
    return sign;
  }

  /** CR1 for a recording FP instruction: FX, FEX, VX, OX. */
  cr1(): number {
    return (this.fpscr >>> 28) & 15;
  }

  private raise(bits: number): void {
    if (bits & EXC & ~this.fpscr) this.fpscr |= Fpscr.FX;
    this.fpscr |= bits;
    this.summary();
  }

  private summary(): void {
    let f = this.fpscr & ~(Fpscr.VX | Fpscr.FEX | 0x800); // bit 20 is reserved
    if (f & VX_ALL) f |= Fpscr.VX;
    const en = f & (Fpscr.VE | Fpscr.OE | Fpscr.UE | Fpscr.ZE | Fpscr.XE);
    const ex = (f >>> 22) & en & 0x78; // OX UX ZX XX line up with OE UE ZE XE
    if ((f & Fpscr.VX && en & Fpscr.VE) || ex) f |= Fpscr.FEX;
    this.fpscr = f;
  }

  private setClass(c: number): void {
    this.fpscr = (this.fpscr & ~Fpscr.FPRF) | (c << 12);
  }

  private classOf(x: number, single: boolean): number {
    if (x !== x) return CLASS_QNAN;
    const neg = x < 0 || (x === 0 && 1 / x < 0);
    if (x === Infinity || x === -Infinity) return neg ? CLASS_NINF : CLASS_PINF;
    if (x === 0) return neg ? CLASS_NZERO : CLASS_PZERO;
    // The class of the double FRT holds, single-precision results included (as qemu reports).
    void single;
    if (Math.abs(x) < MIN_NORMAL_DOUBLE) return neg ? CLASS_NDENORM : CLASS_PDENORM;
    return neg ? CLASS_NNORM : CLASS_PNORM;
  }

  private isSnan(i: number): boolean {
    const hi = this.hiBits(i);
    return (hi & 0x7ff80000) === 0x7ff00000 && ((hi & 0x7ffff) !== 0 || this.loBits(i) !== 0);
  }

  private isNan(i: number): boolean {
    const hi = this.hiBits(i);
    return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || this.loBits(i) !== 0);
  }

  /**
   * NaN operands: FRT ← the first NaN of `a`, `b`, `c` (register numbers, −1 for none),
   * quieted (and cut to single precision for single results); VXSNAN for a signalling one.
   * Returns false when no operand is a NaN.
   */
  private nanOperand(t: number, a: number, b: number, c: number, single: boolean): boolean {
    const first =
      a >= 0 && this.isNan(a) ? a : b >= 0 && this.isNan(b) ? b : c >= 0 && this.isNan(c) ? c : -1;
    if (first < 0) return false;
    const snan =
      (a >= 0 && this.isSnan(a)) || (b >= 0 && this.isSnan(b)) || (c >= 0 && this.isSnan(c));
    if (snan) {
      this.raise(Fpscr.VXSNAN);
      if (this.fpscr & Fpscr.VE) return true;
    }
    const lo = this.loBits(first);
    this.setBits(t, this.hiBits(first) | 0x00080000, single ? lo & 0xe0000000 : lo);
    this.setClass(CLASS_QNAN);
    return true;
  }

  /** An invalid operation: `bits` raised, FRT ← the default QNaN unless VE. */
  private invalid(t: number, bits: number): void {
    this.raise(bits);
    if (this.fpscr & Fpscr.VE) return;
    this.setBits(t, QNAN_HI, 0);
    this.setClass(CLASS_QNAN);
  }

  /**
   * Round the exact value `r + e` (r the round-to-nearest double of it, e the exact or
   * sign-exact error; `e2` a smaller error term beyond it, which decides ties) to double or
   * single in the current mode; sets FR, FI, XX, OX, UX and returns the result. `r`
   * infinite means the exact value overflowed the double range.
   */
  private round(r: number, e: number, single: boolean, e2 = 0): number {
    const mode = this.fpscr & 3;
    const max = single ? MAX_SINGLE : MAX_DOUBLE;
    let t = single ? Math.fround(r) : r;
    const rem = single ? r - t + e : e;
    if (!isFinite(r) || (single && !isFinite(t))) {
      // Overflow beyond what nearest rounding can return.
      const pos = r > 0;
      t =
        mode === 0 || (mode === 2 && pos) || (mode === 3 && !pos)
          ? pos
            ? Infinity
            : -Infinity
          : pos
            ? max
            : -max;
      this.raise(Fpscr.OX | Fpscr.XX);
      this.fpscr |= Fpscr.FI;
      if (t === Infinity || t === -Infinity) this.fpscr |= Fpscr.FR;
      return t;
    }
    if (rem === 0 && e2 !== 0 && !single) return this.round(r, e2, single);
    if (rem === 0 || rem !== rem) return t;
    const other = rem > 0 ? nextUp(t, single) : nextDown(t, single);
    let pick: boolean;
    switch (mode) {
      case 0: {
        if (!single && e2 === 0) {
          pick = false; // t is the hardware's nearest-even result already
          break;
        }
        const half = Math.abs(other - t) / 2;
        const a = Math.abs(rem);
        if (a !== half) pick = a > half;
        else if (e2 !== 0) pick = e2 > 0 === rem > 0;
        else {
          if (single) scratchS[0] = t;
          else scratchF[0] = t;
          pick = ((single ? scratchSW[0]! : scratchW[LO]!) & 1) === 1;
        }
        break;
      }
      case 1:
        pick = Math.abs(other) < Math.abs(t);
        break;
      case 2:
        pick = rem > 0;
        break;
      default:
        pick = rem < 0;
    }
    const res = pick ? other : t;
    // FR: |result| > |exact| (the exact value lies between t and other, on rem's side of t).
    const fr = pick ? (rem > 0 ? other > 0 : other < 0) : rem > 0 ? t < 0 : t > 0;
    this.fpscr |= Fpscr.FI | (fr ? Fpscr.FR : 0);
    this.raise(Fpscr.XX);
    if (!isFinite(res)) this.raise(Fpscr.OX);
    else if (Math.abs(res) < (single ? MIN_NORMAL_SINGLE : MIN_NORMAL_DOUBLE)) this.raise(Fpscr.UX);
    return res;
  }

  /** Write a rounded result and its class. */
  private result(t: number, v: number, single: boolean): void {
    this.fpr[t] = v;
    this.setClass(this.classOf(v, single));
  }

  /** Execute the FP row `row` (word `w`). Sets {@link Fpu.crField} for compares and mcrfs. */
  execute(row: InsnRow, w: number): void {
    this.crField = -1;
    const t = field.rt(w);
    const a = field.ra(w);
    const b = field.rb(w);
    const c = field.rc(w);
    const single = (row.flags & RowFlag.SINGLE) !== 0;
    const f = this.fpr;
    switch (row.op) {
      case Op.FpArith:
      case Op.FpMulAdd:
      case Op.FpSqrt:
      case Op.FpRes:
      case Op.FpRsqrte:
      case Op.FpRsp:
      case Op.FpCfid:
        this.fpscr &= ~(Fpscr.FR | Fpscr.FI);
        this.arith(row, t, a, b, c, single);
        return;
      case Op.FpCvtToInt:
        this.fpscr &= ~(Fpscr.FR | Fpscr.FI);
        this.toInt(row.xo, t, b);
        return;
      case Op.FpSel: {
        const x = f[a]!;
        if (x >= 0) this.setBits(t, this.hiBits(c), this.loBits(c));
        else this.setBits(t, this.hiBits(b), this.loBits(b));
        return;
      }
      case Op.FpMove: {
        const hi = this.hiBits(b);
        const lo = this.loBits(b);
        const s =
          row.xo === 72
            ? hi
            : row.xo === 40
              ? hi ^ 0x80000000
              : row.xo === 264
                ? hi & 0x7fffffff
                : hi | 0x80000000;
        this.setBits(t, s, lo);
        return;
      }
      case Op.FpCmp: {
        const x = f[a]!;
        const y = f[b]!;
        let cc: number;
        if (x !== x || y !== y) {
          cc = 1;
          const snan = this.isSnan(a) || this.isSnan(b);
          if (snan) this.raise(Fpscr.VXSNAN);
          if (row.xo === 32 && (!snan || !(this.fpscr & Fpscr.VE))) {
            this.raise(Fpscr.VXVC);
            this.setClass(CLASS_QNAN); // FPCC is set below; C as qemu leaves it
          }
        } else cc = x < y ? 8 : x > y ? 4 : 2;
        this.fpscr = (this.fpscr & ~Fpscr.FPCC) | (cc << 12);
        this.crField = cc;
        this.crBf = field.bf(w);
        return;
      }
      case Op.Mffs:
        this.setBits(t, 0, this.fpscr);
        return;
      case Op.Mtfsf: {
        const flm = field.flm(w);
        let m = 0;
        for (let k = 0; k < 8; k++) if (flm & (0x80 >> k)) m |= 0xf0000000 >>> (4 * k);
        this.fpscr = (this.fpscr & ~m) | (this.loBits(b) & m & ~0x800); // bit 20 is reserved
        this.summary();
        return;
      }
      case Op.Mtfsfi: {
        const bf = field.bf(w);
        const sh = 28 - 4 * bf;
        this.fpscr = (this.fpscr & ~(15 << sh)) | (field.u(w) << sh);
        this.summary();
        return;
      }
      case Op.Mtfsb0:
      case Op.Mtfsb1: {
        const bit = (0x80000000 >>> t) | 0;
        if (t === 1 || t === 2) return;
        // mtfsb1 of an exception bit leaves FX alone (as qemu does; the ISA lists FX only
        // for exceptions an operation raises).
        this.fpscr = row.op === Op.Mtfsb0 ? this.fpscr & ~bit : this.fpscr | bit;
        this.summary();
        return;
      }
      case Op.Mcrfs: {
        const bfa = field.bfa(w);
        const sh = 28 - 4 * bfa;
        this.crField = (this.fpscr >>> sh) & 15;
        this.crBf = field.bf(w);
        this.fpscr &= ~((15 << sh) & (Fpscr.FX | EXC));
        this.summary();
        return;
      }
      default:
        return;
    }
  }

  /** The FRT of the instruction being executed. */
  private target = 0;

  private arith(
    row: InsnRow,
    t: number,
    ia: number,
    ib: number,
    ic: number,
    single: boolean,
  ): void {
    const f = this.fpr;
    const xo = row.xo;
    const op = row.op;
    this.target = t;
    if (op === Op.FpCfid) {
      const hi = this.hiBits(ib);
      const lo = this.loBits(ib) >>> 0;
      const big = hi * 4294967296;
      const r = big + lo;
      const e = big - r + lo;
      this.result(t, this.round(r, e, false), false);
      return;
    }
    // Operands as the instruction names them: A, B and (fma, fmul) C.
    const ua = op === Op.FpArith || op === Op.FpMulAdd ? ia : -1;
    const uc = op === Op.FpMulAdd || (op === Op.FpArith && xo === 25) ? ic : -1;
    const ub = op === Op.FpArith && xo === 25 ? -1 : ib;
    if (this.nanOperand(t, ua, ub, uc, single || op === Op.FpRsp)) return;
    const a = ua >= 0 ? f[ua]! : 0;
    const b = ub >= 0 ? f[ub]! : 0;
    const c = uc >= 0 ? f[uc]! : 0;
    let r: number;
    let e = 0;
    switch (op) {
      case Op.FpArith:
        if (xo === 21 || xo === 20) {
          const bb = xo === 20 ? -b : b;
          if (a === -bb && !isFinite(a)) return this.invalid(t, Fpscr.VXISI);
          r = a + bb;
          if (isFinite(r)) {
            const v = r - a;
            e = a - (r - v) + (bb - v);
          }
          // An exact zero sum of opposite signs is −0 when rounding toward −∞.
          if (r === 0 && e === 0 && (this.fpscr & 3) === 3 && (a !== 0 || bb !== 0)) r = -0;
        } else if (xo === 25) {
          if ((a === 0 && !isFinite(c)) || (c === 0 && !isFinite(a)))
            return this.invalid(t, Fpscr.VXIMZ);
          r = a * c;
          if (isFinite(r)) e = productError(a, c, r);
          if (r === 0 && a !== 0 && c !== 0) return this.tiny(a < 0 !== c < 0, single);
        } else {
          if (!isFinite(a) && !isFinite(b)) return this.invalid(t, Fpscr.VXIDI);
          if (a === 0 && b === 0) return this.invalid(t, Fpscr.VXZDZ);
          if (b === 0) {
            this.raise(Fpscr.ZX);
            if (this.fpscr & Fpscr.ZE) return;
            const neg = a < 0 !== 1 / b < 0;
            return this.result(t, neg ? -Infinity : Infinity, single);
          }
          r = a / b;
          e = this.divError(a, b, r);
          if (r === 0 && a !== 0 && isFinite(b)) return this.tiny(a < 0 !== b < 0, single);
        }
        break;
      case Op.FpMulAdd: {
        const neg = xo === 30 || xo === 31;
        const bb = xo === 28 || xo === 30 ? -b : b;
        if ((a === 0 && !isFinite(c)) || (c === 0 && !isFinite(a)))
          return this.invalid(t, Fpscr.VXIMZ);
        const p = a * c;
        const productInfinite = !isFinite(a) || !isFinite(c);
        if (productInfinite && !isFinite(bb) && Math.sign(p) !== Math.sign(bb))
          return this.invalid(t, Fpscr.VXISI);
        // A finite product that overflows the double range is still finite in the fused
        // operation: an infinite addend decides the result exactly.
        if (!productInfinite && !isFinite(bb)) r = bb;
        else r = p + bb;
        let e2 = 0;
        if (isFinite(r) && isFinite(p)) {
          const pe = productError(a, c, p);
          // (sh, sl) = p + bb exactly; the exact value is sh + sl + pe = sh + lo + loErr.
          const sh = r;
          const v = sh - p;
          const sl = p - (sh - v) + (bb - v);
          const lo = sl + pe;
          const w1 = lo - sl;
          e2 = sl - (lo - w1) + (pe - w1);
          r = sh + lo;
          const v2 = r - sh;
          e = sh - (r - v2) + (lo - v2);
        }
        // fnmadd/fnmsub: the exact value is negated, then rounded (as qemu does).
        if (neg) {
          r = -r;
          e = -e;
          e2 = -e2;
        }
        if (!isFinite(r) && (!isFinite(a) || !isFinite(b) || !isFinite(c)))
          return this.result(t, r, single);
        this.result(t, this.round(r, e, single, e2), single);
        return;
      }
      case Op.FpSqrt:
        if (b < 0) return this.invalid(t, Fpscr.VXSQRT);
        r = Math.sqrt(b);
        if (isFinite(r) && r !== 0) {
          const p = r * r;
          const rem = b - p - productError(r, r, p);
          e = rem / (2 * r);
        }
        break;
      case Op.FpRes:
        if (b === 0) {
          this.raise(Fpscr.ZX);
          if (this.fpscr & Fpscr.ZE) return;
          return this.result(t, 1 / b, true);
        }
        r = 1 / b;
        e = this.divError(1, b, r);
        break;
      case Op.FpRsqrte:
        if (b < 0) return this.invalid(t, Fpscr.VXSQRT);
        if (b === Infinity) return this.result(t, 0, false);
        if (b === 0) {
          this.raise(Fpscr.ZX);
          if (this.fpscr & Fpscr.ZE) return;
          return this.result(t, 1 / b, false);
        }
        {
          const q = Math.sqrt(b);
          const p = q * q;
          const sq = this.round(q, (b - p - productError(q, q, p)) / (2 * q), false);
          this.fpscr &= ~(Fpscr.FR | Fpscr.FI);
          r = 1 / sq;
          e = this.divError(1, sq, r);
        }
        break;
      default:
        // frsp
        r = b;
        single = true;
    }
    if (!isFinite(r) && (!isFinite(a) || !isFinite(b) || !isFinite(c)))
      return this.result(t, r, single);
    this.result(t, this.round(r, e, single), single);
  }

  /** A nonzero result below the smallest denormal (sign `neg`): rounded by mode; UX, XX. */
  private tiny(neg: boolean, single: boolean): void {
    const mode = this.fpscr & 3;
    const min = single ? 1.401298464324817e-45 : Number.MIN_VALUE;
    const away = (mode === 2 && !neg) || (mode === 3 && neg);
    const v = away ? (neg ? -min : min) : neg ? -0 : 0;
    this.fpscr |= Fpscr.FI | (away ? Fpscr.FR : 0);
    this.raise(Fpscr.UX | Fpscr.XX);
    this.result(this.target, v, single);
  }

  private divError(a: number, b: number, q: number): number {
    if (!isFinite(q) || q === 0) return 0;
    const p = q * b;
    if (!isFinite(p)) return 0;
    const rem = a - p - productError(q, b, p);
    const e = rem / b;
    if (e === 0 && rem !== 0) return (rem > 0 === b > 0 ? 1 : -1) * Number.MIN_VALUE;
    return e;
  }

  /** fctiw(z)/fctid(z): FRT ← the integer, saturated; VXCVI for NaN and out-of-range. */
  private toInt(xo: number, t: number, ib: number): void {
    const x = this.fpr[ib]!;
    const word = xo === 14 || xo === 15;
    const mode = xo === 15 || xo === 815 ? 1 : this.fpscr & 3;
    if (x !== x) {
      this.raise(Fpscr.VXCVI | (this.isSnan(ib) ? Fpscr.VXSNAN : 0));
      if (this.fpscr & Fpscr.VE) return;
      this.setBits(t, word ? 0 : 0x80000000 | 0, word ? 0x80000000 | 0 : 0);
      this.setClass(CLASS_QNAN);
      return;
    }
    let r = Math.trunc(x);
    const frac = x - r;
    if (frac !== 0) {
      if (mode === 0) {
        const a = Math.abs(frac);
        if (a > 0.5 || (a === 0.5 && r % 2 !== 0)) r += Math.sign(frac);
      } else if (mode === 2 && frac > 0) r += 1;
      else if (mode === 3 && frac < 0) r -= 1;
    }
    const lim = word ? 2147483648 : 9223372036854775808;
    if (r >= lim || r < -lim) {
      this.raise(Fpscr.VXCVI);
      if (this.fpscr & Fpscr.VE) return;
      this.setClass(CLASS_QNAN);
      if (word) this.setBits(t, r < 0 ? -1 : 0, r < 0 ? 0x80000000 | 0 : 0x7fffffff);
      else this.setBits(t, r < 0 ? 0x80000000 | 0 : 0x7fffffff, r < 0 ? 0 : -1);
      return;
    }
    if (frac !== 0) {
      const fr = Math.abs(r) > Math.abs(x);
      this.fpscr |= Fpscr.FI | (fr ? Fpscr.FR : 0);
      this.raise(Fpscr.XX);
    }
    if (word) this.setBits(t, r < 0 ? -1 : 0, r | 0);
    else {
      const hi = Math.floor(r / 4294967296);
      this.setBits(t, hi | 0, (r - hi * 4294967296) | 0);
    }
  }
}
