/**
 * x87 arithmetic: a software 80-bit extended float working in place on the register file
 * of fpu.ts, and the D8–DF instructions built on it (SDM vol. 1 ch. 4 and 8, vol. 2).
 *
 * Numbers are handled unpacked in module scratch (sign, biased exponent, the 64-bit
 * significand as two uint32 halves, and a 128-bit working significand in `W`), so an
 * instruction allocates nothing. Every result goes through {@link roundPack}: IEEE rounding
 * in the four RC modes at the precision PC selects (24, 53 or 64 bits; the rounding point
 * stays fixed in the register for denormal results, as the hardware does), tininess
 * detected after rounding, and the masked and unmasked responses of SDM vol. 1, 4.9 and
 * 8.5: a masked overflow gives ∞ or the largest finite number by RC, an unmasked overflow
 * or underflow to a register gives the result with its exponent biased by ∓24576 (0x6000),
 * and to memory stores nothing. An unmasked IE, DE or ZE leaves the destination and TOP
 * unchanged. C1 reports "rounded up"; a stack fault sets IE and SF with C1 = 1 for
 * overflow and 0 for underflow, and a masked one works with the real indefinite.
 *
 * NaNs follow SDM vol. 1, table 4-7: an SNaN operand raises IE and is quieted; of two
 * NaNs the one with the larger significand is the result (on a tie the positive one);
 * an invalid operation without NaN operands gives the real indefinite (negative QNaN
 * 0xC000000000000000). Unnormals, pseudo-NaNs and pseudo-infinities are invalid operands.
 *
 * The transcendental instructions (fsin, fcos, fsincos, fptan, fpatan, f2xm1, fyl2x,
 * fyl2xp1) compute with 256+ bits of precision and round once (correctly rounded), reducing
 * trigonometric arguments with the x87's 66-bit π; a real CPU is within one ulp of that and
 * can differ in the last bit.
 *
 * @module
 */
import { Seg, Vector } from "./cpu-api.js";
import type { X86Cpu } from "./cpu.js";
import { X_EXT } from "./decode-cache.js";
import { D, Pfx } from "./insn.js";
import { materialize, mulu128 } from "./alu.js";
import { Fsw, x87Available, x87CheckPending, x87Init, x87StatusWord } from "./fpu.js";

/** FSW exception flags (bits 0–5) and condition codes. */
export const X87Flag = {
  /** Invalid operation. */ IE: 0x01,
  /** Denormal operand. */ DE: 0x02,
  /** Zero divide. */ ZE: 0x04,
  /** Overflow. */ OE: 0x08,
  /** Underflow. */ UE: 0x10,
  /** Precision (inexact). */ PE: 0x20,
  /** Stack fault. */ SF: 0x40,
  /** Condition code C0. */ C0: 0x100,
  /** Condition code C1. */ C1: 0x200,
  /** Condition code C2. */ C2: 0x400,
  /** Condition code C3. */ C3: 0x4000,
} as const;
const { IE, DE, ZE, OE, UE, PE, SF, C0, C1, C2, C3 } = X87Flag;
const CC = C0 | C1 | C2 | C3;
const TWO32 = 4294967296;

/** Operand classes ({@link classify}). */
export const X87Class = {
  /** ±0. */ ZERO: 0,
  /** Normal (integer bit set, exponent 1–0x7ffe). */ NORMAL: 1,
  /** Denormal or pseudo-denormal (exponent 0, significand not 0). */ DENORMAL: 2,
  /** ±∞. */ INF: 3,
  /** Quiet NaN. */ QNAN: 4,
  /** Signaling NaN. */ SNAN: 5,
  /** Unnormal, pseudo-NaN or pseudo-infinity: an invalid operand. */ UNSUPPORTED: 6,
} as const;
const K_ZERO = 0,
  K_NORM = 1,
  K_DEN = 2,
  K_INF = 3,
  K_QNAN = 4,
  K_SNAN = 5,
  K_BAD = 6;

/** The class of the extended value (sign/exponent word, significand high and low halves as int32). */
export function classify(se: number, hi: number, lo: number): number {
  const e = se & 0x7fff;
  if (e === 0x7fff) {
    if (hi >= 0) return K_BAD;
    if ((hi & 0x7fffffff) === 0 && lo === 0) return K_INF;
    return (hi & 0x40000000) !== 0 ? K_QNAN : K_SNAN;
  }
  if (e === 0) return (hi | lo) === 0 ? K_ZERO : K_DEN;
  return hi < 0 ? K_NORM : K_BAD;
}

// ---- scratch ----

/** Operands A and B: sign/exponent word and significand halves (int32). */
let aSE = 0,
  aHi = 0,
  aLo = 0,
  bSE = 0,
  bHi = 0,
  bLo = 0;
/** The result of the last operation, in register form. */
let rSE = 0,
  rHi = 0,
  rLo = 0;
/** Exceptions raised by the current instruction, and whether its result was rounded up. */
let exc = 0;
let up = false;
/** The control word the current instruction runs under. */
let fcw = 0x37f;
/** Working value: sign, biased exponent (unbounded) and a 128-bit significand W[0] (msb) – W[3]. */
let wS = 0;
let wE = 0;
const W = new Uint32Array(4);
const V = new Uint32Array(4);
/** A 128-bit product, little-endian words (alu.ts mulu128). */
const PROD = new Int32Array(4);
/** Square root scratch (96-bit integers, msb first). */
const SQ = new Uint32Array(3);
const SR = new Uint32Array(3);
const ST = new Uint32Array(3);

const INDEF_SE = 0xffff;
const INDEF_HI = 0xc0000000 | 0;

/** The result is A. */
function resultA(): void {
  rSE = aSE;
  rHi = aHi;
  rLo = aLo;
}
/** The result is ∞ with sign `s` (0 or 1). */
function resultInf(s: number): void {
  rSE = (s << 15) | 0x7fff;
  rHi = 0x80000000 | 0;
  rLo = 0;
}
/** The result is 0 with sign `s` (0 or 1). */
function resultZero(s: number): void {
  rSE = s << 15;
  rHi = rLo = 0;
}
/** The result of a one-operand instruction on the NaN A (class `k`). */
function nanOfA(k: number): void {
  bSE = aSE;
  bHi = aHi;
  bLo = aLo;
  propagateNaN(k, K_ZERO);
}

function setIndefinite(): void {
  rSE = INDEF_SE;
  rHi = INDEF_HI;
  rLo = 0;
}

/** Whether any of `f` is unmasked in the current control word. */
function unmasked(f: number): boolean {
  return (f & ~fcw & 0x3f) !== 0;
}

/** Raises `f`; returns true when one of them is unmasked (the caller then stores nothing). */
function signal(f: number): boolean {
  exc |= f;
  return unmasked(f);
}

// ---- W: the 128-bit working significand ----

/** Shifts the 128-bit `w` right by `n` bits, OR-ing the bits shifted out into bit 0 (jamming). */
function shiftRightJam(w: Uint32Array, n: number): void {
  if (n <= 0) return;
  if (n >= 128) {
    const any = w[0] | w[1] | w[2] | w[3];
    w[0] = w[1] = w[2] = 0;
    w[3] = any !== 0 ? 1 : 0;
    return;
  }
  let sticky = 0;
  while (n >= 32) {
    sticky |= w[3];
    w[3] = w[2];
    w[2] = w[1];
    w[1] = w[0];
    w[0] = 0;
    n -= 32;
  }
  if (n > 0) {
    sticky |= w[3] << (32 - n);
    w[3] = (w[3] >>> n) | (w[2] << (32 - n));
    w[2] = (w[2] >>> n) | (w[1] << (32 - n));
    w[1] = (w[1] >>> n) | (w[0] << (32 - n));
    w[0] = w[0] >>> n;
  }
  if (sticky !== 0) w[3] |= 1;
}

/** Shifts W left until its top bit is set (W must not be 0); adjusts wE. */
function normalizeW(): void {
  while (W[0] === 0) {
    W[0] = W[1];
    W[1] = W[2];
    W[2] = W[3];
    W[3] = 0;
    wE -= 32;
  }
  const s = Math.clz32(W[0]);
  if (s !== 0) {
    W[0] = (W[0] << s) | (W[1] >>> (32 - s));
    W[1] = (W[1] << s) | (W[2] >>> (32 - s));
    W[2] = (W[2] << s) | (W[3] >>> (32 - s));
    W[3] = W[3] << s;
    wE -= s;
  }
}

function wIsZero(): boolean {
  return (W[0] | W[1] | W[2] | W[3]) === 0;
}

/** Loads the finite non-zero extended value (se, hi, lo) into wS/wE/W, normalized. */
function loadW(se: number, hi: number, lo: number): void {
  wS = se >> 15;
  const e = se & 0x7fff;
  wE = e === 0 ? 1 : e;
  W[0] = hi;
  W[1] = lo;
  W[2] = W[3] = 0;
  normalizeW();
}

/** Rounding control: 0 nearest, 1 down, 2 up, 3 toward zero. */
function rcMode(): number {
  return (fcw >> 10) & 3;
}

/** The significand precision PC selects. */
function pcBits(): number {
  const pc = (fcw >> 8) & 3;
  return pc === 0 ? 24 : pc === 2 ? 53 : 64;
}

/**
 * Whether rounding W at `p` bits increments it, by the round and sticky bits and RC.
 * Also reports inexactness in `inexact`.
 */
let inexact = false;
function roundIncrement(p: number): boolean {
  let lsb: number, rnd: number, sticky: number;
  if (p === 64) {
    lsb = W[1] & 1;
    rnd = W[2] >>> 31;
    sticky = (W[2] & 0x7fffffff) | W[3];
  } else if (p === 53) {
    lsb = (W[1] >>> 11) & 1;
    rnd = (W[1] >>> 10) & 1;
    sticky = (W[1] & 0x3ff) | W[2] | W[3];
  } else {
    lsb = (W[0] >>> 8) & 1;
    rnd = (W[0] >>> 7) & 1;
    sticky = (W[0] & 0x7f) | W[1] | W[2] | W[3];
  }
  inexact = (rnd | sticky) !== 0;
  switch (rcMode()) {
    case 0:
      return rnd !== 0 && (sticky !== 0 || lsb !== 0);
    case 1:
      return inexact && wS !== 0;
    case 2:
      return inexact && wS === 0;
    default:
      return false;
  }
}

/** Truncates W to `p` bits and adds one unit in the last place when `inc`; returns the carry out. */
function roundApply(p: number, inc: boolean): boolean {
  W[2] = W[3] = 0;
  if (p === 53) W[1] &= ~0x7ff;
  else if (p === 24) {
    W[0] &= ~0xff;
    W[1] = 0;
  }
  if (!inc) return false;
  if (p === 24) {
    const s = W[0] + 0x100;
    W[0] = s;
    return s >= TWO32;
  }
  const s1 = W[1] + (p === 64 ? 1 : 0x800);
  W[1] = s1;
  if (s1 < TWO32) return false;
  const s0 = W[0] + 1;
  W[0] = s0;
  return s0 >= TWO32;
}

/** Exponent range of the destination, in extended bias: extended, double, single. */
const EMIN_80 = 1,
  EMAX_80 = 0x7ffe,
  EMIN_64 = 16383 - 1022,
  EMAX_64 = 16383 + 1023,
  EMIN_32 = 16383 - 126,
  EMAX_32 = 16383 + 127;

/**
 * Rounds the working value (wS, wE, W normalized, or W = 0) to `p` bits within the exponent
 * range [emin, emax], raising OE/UE/PE and setting `up`. The result is left in rSE/rHi/rLo
 * in the extended bias (a denormal has the integer bit clear and exponent emin; the caller
 * encodes it for its format). Returns false when an unmasked overflow or underflow means
 * nothing is stored (`reg` false: a memory destination).
 */
function roundPack(p: number, emin: number, emax: number, reg: boolean): boolean {
  up = false;
  if (wIsZero()) {
    resultZero(wS);
    return true;
  }
  let e = wE;
  let tiny = false;
  if (e < emin) {
    // Tiny after rounding: still below 2^emin once rounded with an unbounded exponent.
    tiny = true;
    if (e === emin - 1) {
      const save0 = W[0],
        save1 = W[1],
        save2 = W[2],
        save3 = W[3];
      if (roundApply(p, roundIncrement(p))) tiny = false;
      W[0] = save0;
      W[1] = save1;
      W[2] = save2;
      W[3] = save3;
    }
    if (tiny && unmasked(UE) && (!reg || e + 0x6000 >= emin)) {
      if (!reg) {
        exc |= UE;
        return false;
      }
      // Unmasked underflow to a register: the normalized result, exponent biased up.
      const inc = roundIncrement(p);
      up = inc;
      if (roundApply(p, inc)) {
        W[0] = 0x80000000;
        e++;
      }
      exc |= UE | (inexact ? PE : 0);
      rSE = (wS << 15) | ((e + 0x6000) & 0x7fff);
      rHi = W[0] | 0;
      rLo = W[1] | 0;
      return true;
    }
    shiftRightJam(W, emin - e);
    e = emin;
  }
  const inc = roundIncrement(p);
  up = inc;
  if (roundApply(p, inc)) {
    W[0] = 0x80000000;
    e++;
  }
  if (inexact) exc |= PE;
  if (tiny && inexact) exc |= UE;
  if (e > emax) {
    if (unmasked(OE) && (!reg || e - 0x6000 <= emax)) {
      // To memory: nothing stored, and no #P (as the host reports).
      if (!reg) {
        exc = (exc & ~PE) | OE;
        return false;
      }
      exc |= OE;
      rSE = (wS << 15) | ((e - 0x6000) & 0x7fff);
      rHi = W[0] | 0;
      rLo = W[1] | 0;
      return true;
    }
    exc |= OE | PE;
    const rc = rcMode();
    // Unmasked but beyond what the bias can bring back (fscale): ∞ whatever RC (as the host).
    const toInf = unmasked(OE) || rc === 0 || (rc === 1 && wS !== 0) || (rc === 2 && wS === 0);
    up = toInf;
    if (toInf) {
      resultInf(wS);
    } else {
      rSE = (wS << 15) | emax;
      rHi = p === 24 ? 0xffffff00 | 0 : -1;
      rLo = p === 64 ? -1 : p === 53 ? 0xfffff800 | 0 : 0;
    }
    return true;
  }
  rSE = (wS << 15) | e;
  rHi = W[0] | 0;
  rLo = W[1] | 0;
  return true;
}

/** roundPack to an x87 register at the PC precision (or `p`), encoding denormals with exponent 0. */
function roundToReg(p: number): boolean {
  if (!roundPack(p, EMIN_80, EMAX_80, true)) return false;
  if (rHi >= 0 && (rSE & 0x7fff) === EMIN_80 && (rHi | rLo) !== 0) rSE &= 0x8000;
  else if (rHi >= 0 && (rHi | rLo) === 0) rSE &= 0x8000;
  return true;
}

// ---- NaNs ----

/** The result of an operation with NaN operands A and/or B (SDM vol. 1, table 4-7). */
function propagateNaN(ka: number, kb: number): void {
  const aNaN = ka === K_QNAN || ka === K_SNAN;
  const bNaN = kb === K_QNAN || kb === K_SNAN;
  if (ka === K_SNAN || kb === K_SNAN) exc |= IE;
  let pickA: boolean;
  if (aNaN && bNaN) {
    const ah = aHi & 0x3fffffff,
      bh = bHi & 0x3fffffff;
    if (ah !== bh) pickA = ah > bh;
    else if (aLo !== bLo) pickA = aLo >>> 0 > bLo >>> 0;
    else pickA = aSE <= bSE;
    // An SNaN and a QNaN: the QNaN.
    if (ka === K_SNAN && kb === K_QNAN) pickA = false;
    else if (ka === K_QNAN && kb === K_SNAN) pickA = true;
  } else pickA = aNaN;
  if (pickA) {
    rSE = aSE;
    rHi = aHi | 0x40000000;
    rLo = aLo;
  } else {
    rSE = bSE;
    rHi = bHi | 0x40000000;
    rLo = bLo;
  }
}

/**
 * Common operand checks of a two-operand arithmetic instruction: NaNs, unsupported
 * formats, denormals. Returns 0 to go on, 1 when the result is decided (in rSE/rHi/rLo),
 * 2 when an unmasked exception means nothing is stored.
 */
function checkOperands(ka: number, kb: number): number {
  if (ka === K_BAD || kb === K_BAD) {
    setIndefinite();
    return signal(IE) ? 2 : 1;
  }
  if (ka >= K_QNAN || kb >= K_QNAN) {
    propagateNaN(ka, kb);
    return unmasked(exc & IE) ? 2 : 1;
  }
  if ((ka === K_DEN || kb === K_DEN) && signal(DE)) return 2;
  return 0;
}

/** Operations of {@link arith} (the /digit; 6 is div, the fall-through case). */
const A_ADD = 0,
  A_MUL = 1,
  A_SUB = 4,
  A_SUBR = 5,
  A_DIVR = 7;

/**
 * A ∘ B for the D8/DA/DC/DE /digit operations (0 add, 1 mul, 4 sub, 5 subr, 6 div,
 * 7 divr) at precision `p`, result in rSE/rHi/rLo. Returns false when nothing is stored.
 */
function arith(op: number, p: number): boolean {
  if (op === A_SUBR || op === A_DIVR) {
    let t = aSE;
    aSE = bSE;
    bSE = t;
    t = aHi;
    aHi = bHi;
    bHi = t;
    t = aLo;
    aLo = bLo;
    bLo = t;
    op--;
  }
  const ka = classify(aSE, aHi, aLo);
  const kb = classify(bSE, bHi, bLo);
  // A denormal divided by zero reports only ZE (as the host does).
  const chk = checkOperands(op > A_SUBR && ka === K_DEN && kb === K_ZERO ? K_NORM : ka, kb);
  if (chk !== 0) return chk === 1;
  const sa = aSE >> 15;
  let sb = bSE >> 15;
  if (op === A_SUB) sb ^= 1;
  if (op === A_ADD || op === A_SUB) {
    if (ka === K_INF || kb === K_INF) {
      if (ka === K_INF && kb === K_INF && sa !== sb) {
        setIndefinite();
        return !signal(IE);
      }
      resultInf(ka === K_INF ? sa : sb);
      return true;
    }
    if (ka === K_ZERO && kb === K_ZERO) {
      rSE = (sa === sb ? sa : rcMode() === 1 ? 1 : 0) << 15;
      rHi = rLo = 0;
      return true;
    }
    if (kb === K_ZERO) {
      loadW(aSE, aHi, aLo);
      return roundToReg(p);
    }
    if (ka === K_ZERO) {
      loadW(bSE, bHi, bLo);
      wS = sb;
      return roundToReg(p);
    }
    addSigs(sa, sb);
    return roundToReg(p);
  }
  const s = sa ^ sb;
  if (op === A_MUL) {
    if (ka === K_INF || kb === K_INF) {
      if (ka === K_ZERO || kb === K_ZERO) {
        setIndefinite();
        return !signal(IE);
      }
      resultInf(s);
      return true;
    }
    if (ka === K_ZERO || kb === K_ZERO) {
      resultZero(s);
      return true;
    }
    mulSigs();
    wS = s;
    return roundToReg(p);
  }
  // divide
  if (ka === K_INF) {
    if (kb === K_INF) {
      setIndefinite();
      return !signal(IE);
    }
    resultInf(s);
    return true;
  }
  if (kb === K_INF) {
    resultZero(s);
    return true;
  }
  if (kb === K_ZERO) {
    if (ka === K_ZERO) {
      setIndefinite();
      return !signal(IE);
    }
    resultInf(s);
    return !signal(ZE);
  }
  if (ka === K_ZERO) {
    resultZero(s);
    return true;
  }
  divSigs();
  wS = s;
  return roundToReg(p);
}

/** A and B normalized (finite, non-zero): biased exponents and significand halves (uint32). */
let naE = 0,
  na0 = 0,
  na1 = 0,
  nbE = 0,
  nb0 = 0,
  nb1 = 0;
function unpackBoth(): void {
  loadW(aSE, aHi, aLo);
  naE = wE;
  na0 = W[0];
  na1 = W[1];
  loadW(bSE, bHi, bLo);
  nbE = wE;
  nb0 = W[0];
  nb1 = W[1];
}

/**
 * A 65-bit partial remainder (remC:remH:remL) for the shift-and-subtract loops of fdiv and
 * fprem, against the divisor (nb0, nb1).
 */
let remC = 0,
  remH = 0,
  remL = 0;
/** Subtracts the divisor when the remainder is at least it; returns 1 when it did. */
function remStep(): number {
  if (remC === 0 && (remH < nb0 || (remH === nb0 && remL < nb1))) return 0;
  let l = remL - nb1;
  let br = 0;
  if (l < 0) {
    l += TWO32;
    br = 1;
  }
  remL = l;
  remH = remH - nb0 - br;
  if (remH < 0) remH += TWO32;
  remC = 0;
  return 1;
}
function remShift(): void {
  remC = remH >>> 31;
  remH = ((remH << 1) | (remL >>> 31)) >>> 0;
  remL = (remL << 1) >>> 0;
}

/** W = |A| ± |B| (signs sa, sb), both finite non-zero; sets wS, wE. */
function addSigs(sa: number, sb: number): void {
  unpackBoth();
  const ea = naE,
    eb = nbE;
  V[0] = nb0;
  V[1] = nb1;
  V[2] = V[3] = 0;
  W[0] = na0;
  W[1] = na1;
  W[2] = W[3] = 0;
  // W: A, V: B. Make W the larger exponent.
  let s1 = sa,
    s2 = sb;
  let e = ea;
  if (eb > ea || (eb === ea && (V[0] > W[0] || (V[0] === W[0] && V[1] > W[1])))) {
    for (let i = 0; i < 4; i++) {
      const t = W[i];
      W[i] = V[i];
      V[i] = t;
    }
    s1 = sb;
    s2 = sa;
    e = eb;
    shiftRightJam(V, eb - ea);
  } else shiftRightJam(V, ea - eb);
  wS = s1;
  wE = e;
  if (s1 === s2) {
    let carry = 0;
    for (let i = 3; i >= 0; i--) {
      const t = W[i] + V[i] + carry;
      W[i] = t;
      carry = t >= TWO32 ? 1 : 0;
    }
    if (carry !== 0) {
      shiftRightJam(W, 1);
      W[0] |= 0x80000000;
      wE++;
    }
  } else {
    let borrow = 0;
    for (let i = 3; i >= 0; i--) {
      const t = W[i] - V[i] - borrow;
      W[i] = t;
      borrow = t < 0 ? 1 : 0;
    }
    if (wIsZero()) {
      wS = rcMode() === 1 ? 1 : 0;
      return;
    }
    normalizeW();
  }
}

/** W = A × B significands (exact 128-bit product), wE set. */
function mulSigs(): void {
  unpackBoth();
  mulu128(PROD, na1, na0, nb1, nb0);
  W[0] = PROD[3] >>> 0;
  W[1] = PROD[2] >>> 0;
  W[2] = PROD[1] >>> 0;
  W[3] = PROD[0] >>> 0;
  wE = naE + nbE - 16383 + 1;
  normalizeW();
}

/** W = A / B significands: 66 quotient bits and a sticky bit, wE set. */
function divSigs(): void {
  unpackBoth();
  remC = 0;
  remH = na0;
  remL = na1;
  let e = naE - nbE + 16383;
  if (na0 < nb0 || (na0 === nb0 && na1 < nb1)) {
    remShift();
    e--;
  }
  W[0] = W[1] = W[2] = W[3] = 0;
  for (let i = 0; i < 66; i++) {
    if (remStep() !== 0) W[i >> 5] |= 1 << (31 - (i & 31));
    remShift();
  }
  if ((remC | remH | remL) !== 0) W[3] |= 1;
  wE = e;
}

/** Bit `p` (0–63) of the 64-bit (h, l); 0 outside. */
function bitOf(h: number, l: number, p: number): number {
  return p < 0 || p > 63 ? 0 : p >= 32 ? (h >>> (p - 32)) & 1 : (l >>> p) & 1;
}

// 96-bit helpers for the square root (msb first).
function cmp3(x: Uint32Array, y: Uint32Array): number {
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] > y[i] ? 1 : -1;
  return 0;
}
function sub3(x: Uint32Array, y: Uint32Array): void {
  let br = 0;
  for (let i = 2; i >= 0; i--) {
    const t = x[i] - y[i] - br;
    x[i] = t;
    br = t < 0 ? 1 : 0;
  }
}
function shl3(x: Uint32Array, n: number, low: number): void {
  x[0] = (x[0] << n) | (x[1] >>> (32 - n));
  x[1] = (x[1] << n) | (x[2] >>> (32 - n));
  x[2] = (x[2] << n) | low;
}

/** W = √(A significand × 2^(A exponent)), rounded later: 66 bits and a sticky bit. */
function sqrtSig(): void {
  loadW(aSE, aHi, aLo);
  const e = wE - 16383;
  const odd = e & 1;
  const h = W[0],
    l = W[1];
  // N = m × 2^(67 + odd); the pair j of N (bits 2j+1, 2j) for j = 65 … 0.
  const sh = 67 + odd;
  SQ.fill(0);
  SR.fill(0);
  for (let j = 65; j >= 0; j--) {
    const p1 = 2 * j + 1 - sh,
      p0 = 2 * j - sh;
    shl3(SR, 2, (bitOf(h, l, p1) << 1) | bitOf(h, l, p0));
    ST[0] = SQ[0];
    ST[1] = SQ[1];
    ST[2] = SQ[2];
    shl3(ST, 2, 1);
    shl3(SQ, 1, 0);
    if (cmp3(SR, ST) >= 0) {
      sub3(SR, ST);
      SQ[2] |= 1;
    }
  }
  // SQ holds 66 bits (bit 65 set): left-align into W.
  W[0] = (SQ[0] << 30) | (SQ[1] >>> 2);
  W[1] = (SQ[1] << 30) | (SQ[2] >>> 2);
  W[2] = SQ[2] << 30;
  W[3] = (SR[0] | SR[1] | SR[2]) !== 0 ? 1 : 0;
  wS = 0;
  wE = ((e - odd) >> 1) + 16383;
}

// ---- conversions from memory formats (into B) ----

/** Set by the loaders when the memory operand was a single or double denormal (#D). */
let memDenormal = false;

/** B = the binary32 `v`, exactly (an SNaN stays signaling). */
function loadF32(v: number): void {
  const s = v >>> 31;
  const e = (v >>> 23) & 0xff;
  const f = v & 0x7fffff;
  memDenormal = false;
  bLo = 0;
  if (e === 0xff) {
    bSE = (s << 15) | 0x7fff;
    bHi = 0x80000000 | (f << 8);
  } else if (e === 0) {
    if (f === 0) {
      bSE = s << 15;
      bHi = 0;
    } else {
      memDenormal = true;
      const k = Math.clz32(f);
      bHi = f << k;
      bSE = (s << 15) | (16383 + 31 - k - 149);
    }
  } else {
    bSE = (s << 15) | (e - 127 + 16383);
    bHi = 0x80000000 | (f << 8);
  }
}

/** B = the binary64 (lo, hi), exactly. */
function loadF64(lo: number, hi: number): void {
  const s = hi >>> 31;
  const e = (hi >>> 20) & 0x7ff;
  const fh = hi & 0xfffff;
  memDenormal = false;
  const mh = (fh << 11) | (lo >>> 21);
  const ml = lo << 11;
  if (e === 0x7ff) {
    bSE = (s << 15) | 0x7fff;
    bHi = 0x80000000 | mh;
    bLo = ml;
  } else if (e === 0) {
    if ((fh | lo) === 0) {
      bSE = s << 15;
      bHi = bLo = 0;
    } else {
      memDenormal = true;
      W[0] = mh;
      W[1] = ml;
      W[2] = W[3] = 0;
      wE = EMIN_64;
      normalizeW();
      bSE = (s << 15) | wE;
      bHi = W[0] | 0;
      bLo = W[1] | 0;
    }
  } else {
    bSE = (s << 15) | (e - 1023 + 16383);
    bHi = 0x80000000 | mh;
    bLo = ml;
  }
}

/** B = the signed 64-bit integer (lo, hi), exactly. */
function loadInt(lo: number, hi: number): void {
  memDenormal = false;
  const s = hi >>> 31;
  if (s !== 0) {
    lo = -lo | 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) | 0;
  }
  if ((hi | lo) === 0) {
    bSE = s << 15;
    bHi = bLo = 0;
    return;
  }
  W[0] = hi >>> 0;
  W[1] = lo >>> 0;
  W[2] = W[3] = 0;
  wE = 16383 + 63;
  normalizeW();
  bSE = (s << 15) | wE;
  bHi = W[0] | 0;
  bLo = W[1] | 0;
}

// ---- the register stack ----

function physOf(c: X86Cpu, i: number): number {
  return (c.ftop + i) & 7;
}
function isEmpty(c: X86Cpu, i: number): boolean {
  return ((c.ftw >> ((c.ftop + i) & 7)) & 1) === 0;
}
function loadA(c: X86Cpu, i: number): void {
  const p = (c.ftop + i) & 7;
  aSE = c.fpuSignExp[p];
  aHi = c.fpuMant[2 * p + 1];
  aLo = c.fpuMant[2 * p];
}
function loadB(c: X86Cpu, i: number): void {
  const p = (c.ftop + i) & 7;
  bSE = c.fpuSignExp[p];
  bHi = c.fpuMant[2 * p + 1];
  bLo = c.fpuMant[2 * p];
}
/** ST(i) = (se, hi, lo), tagged valid. */
function setST(c: X86Cpu, i: number, se: number, hi: number, lo: number): void {
  const p = (c.ftop + i) & 7;
  c.fpuSignExp[p] = se;
  c.fpuMant[2 * p + 1] = hi;
  c.fpuMant[2 * p] = lo;
  c.ftw |= 1 << p;
}
function setResult(c: X86Cpu, i: number): void {
  setST(c, i, rSE, rHi, rLo);
}
function pop(c: X86Cpu): void {
  c.ftw &= ~(1 << c.ftop);
  c.ftop = (c.ftop + 1) & 7;
}
/**
 * Makes room for a push: true when ST(7) is empty. Otherwise a stack overflow (IE, SF,
 * C1 = 1): masked, the push goes on with the real indefinite (the caller stores it, then
 * this returns true with the indefinite in rSE/rHi/rLo and `overflowed` set).
 */
let overflowed = false;
function pushRoom(c: X86Cpu): boolean {
  overflowed = false;
  if (isEmpty(c, 7)) return true;
  exc |= IE | SF;
  up = true;
  if (unmasked(IE)) return false;
  overflowed = true;
  setIndefinite();
  return true;
}
function push(c: X86Cpu, se: number, hi: number, lo: number): void {
  c.ftop = (c.ftop - 1) & 7;
  if (overflowed) setST(c, 0, INDEF_SE, INDEF_HI, 0);
  else setST(c, 0, se, hi, lo);
}
/** A stack underflow (IE, SF, C1 = 0); returns true when it is masked (go on with the indefinite). */
function underflow(): boolean {
  exc |= IE | SF;
  up = false;
  setIndefinite();
  return !unmasked(IE);
}

/** FSW update at the end of an instruction: raised flags, C1 from `up`. */
function finish(c: X86Cpu): void {
  c.fsw = (c.fsw & ~C1) | (exc & 0x7f) | (up ? C1 : 0);
}
/** FSW update of a compare: C3, C2, C0 as given, C1 = 0. */
function finishCc(c: X86Cpu, cc: number): void {
  c.fsw = (c.fsw & ~(C0 | C1 | C2 | C3)) | (exc & 0x7f) | cc;
}

// ---- instruction bodies ----

/** ST(dst) = A op B (operands already in A, B), popping when `doPop`. */
function storeArith(c: X86Cpu, op: number, dst: number, doPop: boolean): void {
  if (arith(op, pcBits())) {
    setResult(c, dst);
    if (doPop) pop(c);
  }
  finish(c);
}

/**
 * Compares A with B: -1 less, 0 equal, 1 greater, 2 unordered. `quiet` (fucom): only SNaNs
 * raise IE. Returns 3 when an unmasked exception leaves the flags unchanged.
 */
function compare(quiet: boolean): number {
  const ka = classify(aSE, aHi, aLo);
  const kb = classify(bSE, bHi, bLo);
  if (ka >= K_QNAN || kb >= K_QNAN) {
    const sig = ka === K_SNAN || kb === K_SNAN || ka === K_BAD || kb === K_BAD || !quiet;
    if (sig) exc |= IE;
    return 2;
  }
  // An unmasked #D still lets the comparison set the condition codes (the host does).
  if (ka === K_DEN || kb === K_DEN || memDenormal) exc |= DE;
  if (ka === K_ZERO && kb === K_ZERO) return 0;
  const sa = aSE >> 15,
    sb = bSE >> 15;
  if (ka === K_ZERO) return sb !== 0 ? 1 : -1;
  if (kb === K_ZERO) return sa !== 0 ? -1 : 1;
  if (sa !== sb) return sa !== 0 ? -1 : 1;
  // Same sign: compare magnitudes (denormals normalized).
  let ea: number, ah: number, al: number;
  if (ka === K_DEN) {
    loadW(aSE, aHi, aLo);
    ea = wE;
    ah = W[0];
    al = W[1];
  } else {
    ea = aSE & 0x7fff;
    ah = aHi >>> 0;
    al = aLo >>> 0;
  }
  let eb: number, bh: number, bl: number;
  if (kb === K_DEN) {
    loadW(bSE, bHi, bLo);
    eb = wE;
    bh = W[0];
    bl = W[1];
  } else {
    eb = bSE & 0x7fff;
    bh = bHi >>> 0;
    bl = bLo >>> 0;
  }
  let r =
    ea !== eb
      ? ea > eb
        ? 1
        : -1
      : ah !== bh
        ? ah > bh
          ? 1
          : -1
        : al !== bl
          ? al > bl
            ? 1
            : -1
          : 0;
  if (sa !== 0) r = -r;
  return r;
}

const CMP_CC = [C0, 0, 0, C3 | C2 | C0];
function ccOf(r: number): number {
  return r === 0 ? C3 : CMP_CC[r + 1];
}

/** fcom/fcomp/fcompp/fucom* and ficom: A = ST(0) vs B. */
function fcom(c: X86Cpu, quiet: boolean, pops: number, bEmpty: boolean): void {
  if (isEmpty(c, 0) || bEmpty) {
    // The host sets "unordered" even when IE is unmasked (then nothing is popped).
    const masked = underflow();
    finishCc(c, C3 | C2 | C0);
    if (!masked) return;
  } else {
    loadA(c, 0);
    const r = compare(quiet);
    finishCc(c, ccOf(r === 3 ? 2 : r));
    if (unmasked(exc)) return;
  }
  for (let i = 0; i < pops; i++) pop(c);
}

/** fcomi/fucomi(p): EFLAGS ZF, PF, CF from ST(0) vs ST(i). */
function fcomi(c: X86Cpu, i: number, quiet: boolean, doPop: boolean): void {
  let r: number;
  if (isEmpty(c, 0) || isEmpty(c, i)) {
    underflow();
    r = 2;
  } else {
    loadA(c, 0);
    loadB(c, i);
    memDenormal = false;
    r = compare(quiet);
    if (r === 3) r = 2;
  }
  // C1 is left as it was except on a stack underflow (as the host does).
  c.fsw = (c.fsw & ~((exc & SF) !== 0 ? C1 : 0)) | (exc & 0x7f);
  materialize(c);
  const z = r === 0 || r === 2 ? 0x40 : 0;
  const p = r === 2 ? 0x4 : 0;
  const cf = r === -1 || r === 2 ? 0x1 : 0;
  c.flags = (c.flags & ~0x8d5) | z | p | cf;
  // EFLAGS are set even when the exception is unmasked (as the host does); no pop then.
  if (doPop && !unmasked(exc)) pop(c);
}

/** Stores ST(0) to memory as binary32/binary64 (`size` 4/8); false when nothing was stored. */
function storeFloat(c: X86Cpu, lo: number, hi: number, size: number): boolean {
  let k: number;
  if (isEmpty(c, 0)) {
    if (!underflow()) return false;
    k = K_QNAN;
    aSE = rSE;
    aHi = rHi;
    aLo = rLo;
  } else {
    loadA(c, 0);
    k = classify(aSE, aHi, aLo);
  }
  const s = aSE >> 15;
  let vhi = 0,
    vlo = 0;
  if (k === K_BAD) {
    if (signal(IE)) return false;
    vhi = size === 4 ? 0xffc00000 | 0 : 0xfff80000 | 0;
  } else if (k === K_QNAN || k === K_SNAN) {
    if (k === K_SNAN && signal(IE)) return false;
    if (size === 4) vhi = (s << 31) | 0x7fc00000 | ((aHi >>> 8) & 0x3fffff);
    else {
      vhi = (s << 31) | 0x7ff80000 | ((aHi >>> 11) & 0x7ffff);
      vlo = (aHi << 21) | (aLo >>> 11);
    }
  } else if (k === K_INF) {
    vhi = (s << 31) | (size === 4 ? 0x7f800000 : 0x7ff00000);
  } else if (k === K_ZERO) {
    vhi = s << 31;
  } else {
    loadW(aSE, aHi, aLo);
    const ok =
      size === 4 ? roundPack(24, EMIN_32, EMAX_32, false) : roundPack(53, EMIN_64, EMAX_64, false);
    if (!ok) return false;
    const e = rSE & 0x7fff;
    let field: number;
    if (e === 0x7fff) field = size === 4 ? 0xff : 0x7ff;
    else if (rHi >= 0) field = 0;
    else field = e - 16383 + (size === 4 ? 127 : 1023);
    if (size === 4) vhi = (s << 31) | (field << 23) | ((rHi >>> 8) & 0x7fffff);
    else {
      vhi = (s << 31) | (field << 20) | ((rHi >>> 11) & 0xfffff);
      vlo = (rHi << 21) | (rLo >>> 11);
    }
  }
  if (size === 4) c.wr32(lo, hi, vhi);
  else c.wr64(lo, hi, vlo, vhi);
  return true;
}

/**
 * Rounds ST(0) to an integer of `size` bytes (RC, or truncation when `trunc`) into
 * (intLo, intHi); false on an invalid operand or overflow (IE raised).
 */
let intLo = 0,
  intHi = 0;
function toInt(size: number, trunc: boolean): boolean {
  const k = classify(aSE, aHi, aLo);
  if (k === K_ZERO) {
    intLo = intHi = 0;
    return true;
  }
  if (k !== K_NORM && k !== K_DEN) return false;
  loadW(aSE, aHi, aLo);
  const save = fcw;
  if (trunc) fcw |= 0xc00;
  const sh = 16383 + 63 - wE;
  if (sh < 0) {
    fcw = save;
    return false;
  }
  shiftRightJam(W, sh);
  const inc = roundIncrement(64);
  fcw = save;
  let h = W[0],
    l = W[1];
  if (inc) {
    l = l + 1;
    if (l >= TWO32) {
      l = 0;
      h = h + 1;
      if (h >= TWO32) return false;
    }
  }
  // Range: magnitude ≤ 2^(8·size−1) − 1, or exactly 2^(8·size−1) when negative.
  const neg = wS !== 0;
  if (size === 8) {
    if (h > 0x80000000 || (h === 0x80000000 && (l !== 0 || !neg))) return false;
  } else {
    const lim = size === 4 ? 0x80000000 : 0x8000;
    if (h !== 0 || l > lim || (l === lim && !neg)) return false;
  }
  if (inexact) exc |= PE;
  up = inc;
  if (neg) {
    l = -l | 0;
    h = (~h + (l === 0 ? 1 : 0)) | 0;
  }
  intLo = l | 0;
  intHi = h | 0;
  return true;
}

/** fist/fistp/fisttp to `size` bytes at (lo, hi). */
function fist(
  c: X86Cpu,
  lo: number,
  hi: number,
  size: number,
  doPop: boolean,
  trunc: boolean,
): void {
  let ok: boolean;
  if (isEmpty(c, 0)) {
    if (!underflow()) return finish(c);
    ok = false;
    exc &= ~0;
  } else {
    loadA(c, 0);
    up = false;
    ok = toInt(size, trunc);
    if (!ok && signal(IE)) return finish(c);
  }
  if (!ok) {
    intLo = size === 8 ? 0 : size === 4 ? 0x80000000 | 0 : 0x8000;
    intHi = size === 8 ? 0x80000000 | 0 : 0;
    up = false;
  }
  if (size === 2) c.wr16(lo, hi, intLo & 0xffff);
  else if (size === 4) c.wr32(lo, hi, intLo);
  else c.wr64(lo, hi, intLo, intHi);
  if (doPop) pop(c);
  finish(c);
}

/** A loaded value for fld from memory (B holds it); quiets SNaNs (IE) for the m32/m64 forms. */
function fldValue(c: X86Cpu, checkNaN: boolean): void {
  if (!pushRoom(c)) return finish(c);
  if (!overflowed && checkNaN) {
    const k = classify(bSE, bHi, bLo);
    if (k === K_SNAN) {
      if (signal(IE)) return finish(c);
      bHi |= 0x40000000;
    } else if (memDenormal && signal(DE)) return finish(c);
  }
  push(c, bSE, bHi, bLo);
  if (!overflowed) up = false;
  finish(c);
}

/** The full two-bit tag of physical register p (FSTENV/FSAVE format). */
function fullTag(c: X86Cpu, p: number): number {
  if (((c.ftw >> p) & 1) === 0) return 3;
  const k = classify(c.fpuSignExp[p], c.fpuMant[2 * p + 1], c.fpuMant[2 * p]);
  return k === K_ZERO ? 1 : k === K_NORM ? 0 : 2;
}

/** The full tag word. */
export function x87FullTagWord(c: X86Cpu): number {
  let t = 0;
  for (let p = 0; p < 8; p++) t |= fullTag(c, p) << (2 * p);
  return t;
}

/** Adds `k` to the address (lo, hi) (64-bit). */
function at(lo: number, k: number): number {
  return (lo + k) | 0;
}
function atHi(lo: number, hi: number, k: number): number {
  return (lo >>> 0) + k >= TWO32 ? (hi + 1) | 0 : hi;
}

/** fnstenv's image: 28 bytes (32-bit format) or 14 (`small`, 16-bit format). */
function storeEnv(c: X86Cpu, lo: number, hi: number, small: boolean): void {
  c.probeWrite(lo, hi, small ? 14 : 28);
  const fsw = x87StatusWord(c);
  const tw = x87FullTagWord(c);
  if (small) {
    c.wr16(lo, hi, c.fcw);
    c.wr16(at(lo, 2), atHi(lo, hi, 2), fsw);
    c.wr16(at(lo, 4), atHi(lo, hi, 4), tw);
    c.wr16(at(lo, 6), atHi(lo, hi, 6), c.fipLo & 0xffff);
    c.wr16(at(lo, 8), atHi(lo, hi, 8), c.fcs & 0xffff);
    c.wr16(at(lo, 10), atHi(lo, hi, 10), c.fdpLo & 0xffff);
    c.wr16(at(lo, 12), atHi(lo, hi, 12), c.fds & 0xffff);
    return;
  }
  c.wr32(lo, hi, c.fcw | 0xffff0000);
  c.wr32(at(lo, 4), atHi(lo, hi, 4), fsw | 0xffff0000);
  c.wr32(at(lo, 8), atHi(lo, hi, 8), tw | 0xffff0000);
  c.wr32(at(lo, 12), atHi(lo, hi, 12), c.fipLo);
  c.wr32(at(lo, 16), atHi(lo, hi, 16), (c.fcs & 0xffff) | ((c.fop & 0x7ff) << 16));
  c.wr32(at(lo, 20), atHi(lo, hi, 20), c.fdpLo);
  c.wr32(at(lo, 24), atHi(lo, hi, 24), (c.fds & 0xffff) | 0xffff0000);
}

/** Field `k` of an environment image: 16 bits each in the small format, 32 in the other. */
function envWord(c: X86Cpu, lo: number, hi: number, small: boolean, k: number): number {
  return small
    ? c.rd16(at(lo, 2 * k), atHi(lo, hi, 2 * k))
    : c.rd32(at(lo, 4 * k), atHi(lo, hi, 4 * k));
}

/** fldenv's image (as {@link storeEnv}). */
function loadEnv(c: X86Cpu, lo: number, hi: number, small: boolean): void {
  const fcwv = envWord(c, lo, hi, small, 0) & 0xffff;
  const fsw = envWord(c, lo, hi, small, 1) & 0xffff;
  const tw = envWord(c, lo, hi, small, 2) & 0xffff;
  const ip = envWord(c, lo, hi, small, 3);
  const cs = envWord(c, lo, hi, small, 4);
  const dp = envWord(c, lo, hi, small, 5);
  const ds = envWord(c, lo, hi, small, 6);
  c.fcw = (fcwv & 0x1f3f) | 0x40;
  c.ftop = (fsw >> 11) & 7;
  // ES and B follow from the flags and masks loaded.
  c.fsw = fsw & ~(Fsw.TOP | Fsw.ES | Fsw.B);
  let t = 0;
  for (let p = 0; p < 8; p++) if (((tw >> (2 * p)) & 3) !== 3) t |= 1 << p;
  c.ftw = t;
  c.fipLo = small ? ip & 0xffff : ip;
  c.fipHi = 0;
  c.fcs = cs & 0xffff;
  c.fop = small ? c.fop : (cs >>> 16) & 0x7ff;
  c.fdpLo = small ? dp & 0xffff : dp;
  c.fdpHi = 0;
  c.fds = ds & 0xffff;
}

/** The value of `fld` constant `k` (D9 E8 + k: 1, l2t, l2e, pi, lg2, ln2, 0) under RC. */
function constant(k: number): void {
  // 64-bit significands rounded toward zero, and whether the true value lies above (so
  // round-to-nearest and round-up give the next one up).
  rLo = 0;
  let nearestUp = false;
  let inexactC = true;
  switch (k) {
    case 0:
      rSE = 0x3fff;
      rHi = 0x80000000 | 0;
      inexactC = false;
      break;
    case 1: // log2(10) = 0xD49A784BCD1B8AFE 492B…
      rSE = 0x4000;
      rHi = 0xd49a784b | 0;
      rLo = 0xcd1b8afe | 0;
      break;
    case 2: // log2(e) = 0xB8AA3B295C17F0BB BE87…
      rSE = 0x3fff;
      rHi = 0xb8aa3b29 | 0;
      rLo = 0x5c17f0bb | 0;
      nearestUp = true;
      break;
    case 3: // π = 0xC90FDAA22168C234 C4C6…
      rSE = 0x4000;
      rHi = 0xc90fdaa2 | 0;
      rLo = 0x2168c234 | 0;
      nearestUp = true;
      break;
    case 4: // log10(2) = 0x9A209A84FBCFF798 8F89…
      rSE = 0x3ffd;
      rHi = 0x9a209a84 | 0;
      rLo = 0xfbcff798 | 0;
      nearestUp = true;
      break;
    case 5: // ln(2) = 0xB17217F7D1CF79AB C9E3…
      rSE = 0x3ffe;
      rHi = 0xb17217f7 | 0;
      rLo = 0xd1cf79ab | 0;
      nearestUp = true;
      break;
    default:
      rSE = 0;
      rHi = 0;
      inexactC = false;
  }
  const rc = rcMode();
  if (inexactC && ((rc === 0 && nearestUp) || rc === 2)) rLo = (rLo + 1) | 0;
}

// ---- the transcendental instructions ----
//
// Computed in BigInt fixed point with at least 256 fraction bits (more for tiny operands,
// so the relative precision stays), then rounded once by roundPack at 64 bits (PC does
// not apply to them). These are the slow, rare instructions; the BigInt work allocates.
// Arguments of fsin/fcos/fptan/fsincos are reduced modulo π/2 with the 66-bit π the x87
// uses (SDM vol. 1, 8.3.10): sin(0xC90FDAA22168C235 × 2^-62) is −2^-64 on the hardware.

/** π to 66 significant bits, × 2^-66. */
const PI66 = 0xc90fdaa22168c234cn;
/** Fraction bits of the fixed-point work (before the per-operand extension). */
const FIX = 256;

/** The finite extended value (se, hi, lo) as (significand, exponent of its lsb). */
let fixSig = 0n;
let fixExp = 0;
function toRational(se: number, hi: number, lo: number): void {
  fixSig = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const e = se & 0x7fff;
  fixExp = (e === 0 ? 1 : e) - 16383 - 63;
}
/** a·b for fixed point a, b (F fraction bits), truncated toward zero (series terms reach 0). */
function mulFix(a: bigint, b: bigint, F: number): bigint {
  return (a * b) / (1n << BigInt(F));
}
/** m × 2^sh as an integer (sh may be negative: truncates). */
function shiftBig(m: bigint, sh: number): bigint {
  return sh >= 0 ? m << BigInt(sh) : m >> BigInt(-sh);
}
function bitLength(m: bigint): number {
  return m === 0n ? 0 : m.toString(2).length;
}

/** sin and cos of r (fixed point, F fraction bits, 0 ≤ r ≤ π/4 + ε) into fixS/fixC. */
let fixS = 0n;
let fixC = 0n;
function sinCosFix(r: bigint, F: number): void {
  const one = 1n << BigInt(F);
  const r2 = mulFix(r, r, F);
  let s = 0n;
  let t = r;
  for (let k = 1n; t !== 0n; k += 2n) {
    s += t;
    t = -mulFix(t, r2, F) / ((k + 1n) * (k + 2n));
  }
  let cs = 0n;
  t = one;
  for (let k = 0n; t !== 0n; k += 2n) {
    cs += t;
    t = -mulFix(t, r2, F) / ((k + 1n) * (k + 2n));
  }
  fixS = s;
  fixC = cs;
}

/** √v for fixed point v (F fraction bits). */
function sqrtFix(v: bigint, F: number): bigint {
  const n = v << BigInt(F);
  if (n === 0n) return 0n;
  let x = 1n << BigInt((bitLength(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** atan(t) for fixed point 0 ≤ t ≤ 1. */
function atanFix(t: bigint, F: number): bigint {
  const one = 1n << BigInt(F);
  // atan(t) = 2·atan(t / (1 + √(1 + t²))), three times: t ≤ tan(π/32).
  for (let i = 0; i < 3; i++) t = (t << BigInt(F)) / (one + sqrtFix(one + mulFix(t, t, F), F));
  const t2 = mulFix(t, t, F);
  let s = 0n;
  let p = t;
  for (let k = 1n; p !== 0n; k += 2n) {
    s += p / k;
    p = -mulFix(p, t2, F);
  }
  return s << 3n;
}

/** 2·atanh(z) = ln((1 + z)/(1 − z)) for fixed point |z| ≤ 1/3. */
function atanh2Fix(z: bigint, F: number): bigint {
  const z2 = mulFix(z, z, F);
  let s = 0n;
  let p = z;
  for (let k = 1n; p !== 0n; k += 2n) {
    s += p / k;
    p = mulFix(p, z2, F);
  }
  return s << 1n;
}

/** ln 2 and π at a given precision, computed once per precision. */
const LN2_CACHE = new Map<number, bigint>();
const PI_CACHE = new Map<number, bigint>();
function lnTwo(F: number): bigint {
  let v = LN2_CACHE.get(F);
  if (v === undefined) LN2_CACHE.set(F, (v = atanh2Fix((1n << BigInt(F)) / 3n, F)));
  return v;
}
function piFix(F: number): bigint {
  let v = PI_CACHE.get(F);
  if (v === undefined) PI_CACHE.set(F, (v = atanFix(1n << BigInt(F), F) << 2n));
  return v;
}
/**
 * Operands below 2^-TINY: the functions are x·(1 ± tiny) there; the result is x (times a
 * constant) nudged by one unit far below the 64 bits kept, on the side the next term puts it.
 */
const TINY = 150;

/**
 * rSE/rHi/rLo = (−1)^neg · m · 2^e rounded to 64 bits by RC; `inexactV`: the true value
 * lies strictly between m·2^e and the next representable point (an irrational result).
 */
function bigResult(neg: boolean, m: bigint, e: number, inexactV: boolean): void {
  if (m === 0n) {
    rSE = neg ? 0x8000 : 0;
    rHi = rLo = 0;
    return;
  }
  const L = bitLength(m);
  const sh = L - 128;
  const top = shiftBig(m, -sh);
  const sticky = inexactV || (sh > 0 && top << BigInt(sh) !== m);
  W[0] = Number((top >> 96n) & 0xffffffffn);
  W[1] = Number((top >> 64n) & 0xffffffffn);
  W[2] = Number((top >> 32n) & 0xffffffffn);
  W[3] = Number(top & 0xffffffffn) | (sticky ? 1 : 0);
  wS = neg ? 1 : 0;
  wE = 16383 + L - 1 + e;
  roundToReg(64);
}

/** sin, cos or tan (`kind` 0, 1, 2) of the finite non-zero A; `kind` 3: sin into r, cos into the second result. */
let secondSE = 0,
  secondHi = 0,
  secondLo = 0;
function trigValue(kind: number): void {
  toRational(aSE, aHi, aLo);
  const neg = (aSE & 0x8000) !== 0;
  if (fixExp + 63 < -TINY) {
    // sin x = x − x³/6 (below x), tan x = x + x³/3 (above), cos x = 1 − x²/2 (below 1).
    const m = fixSig << 200n;
    if (kind === 1 || kind === 3) {
      bigResult(false, (1n << 200n) - 1n, -200, true);
      secondSE = rSE;
      secondHi = rHi;
      secondLo = rLo;
      if (kind === 1) return;
    }
    bigResult(neg, kind === 2 ? m : m - 1n, fixExp - 200, true);
    return;
  }
  const F = FIX + Math.max(0, -fixExp);
  const x = shiftBig(fixSig, fixExp + F);
  const halfPi = shiftBig(PI66, F - 67);
  let q = x / halfPi;
  let r = x - q * halfPi;
  let swap = false;
  if (r > halfPi >> 1n) {
    // sin/cos of (q + 1)·π/2 − r'.
    r = halfPi - r;
    q += 1n;
    swap = true;
  }
  sinCosFix(r, F);
  // On [0, π/4]: s = sin(±r), c = cos(r); x = q·π/2 ± r.
  const s = swap ? -fixS : fixS;
  const cc = fixC;
  const quad = Number(q & 3n);
  const sinX = quad === 0 ? s : quad === 1 ? cc : quad === 2 ? -s : -cc;
  const cosX = quad === 0 ? cc : quad === 1 ? -s : quad === 2 ? -cc : s;
  if (kind === 2) {
    const t = (sinX << BigInt(F)) / cosX;
    bigResult(neg !== t < 0n, t < 0n ? -t : t, -F, true);
    return;
  }
  if (kind === 3) {
    bigResult(cosX < 0n, cosX < 0n ? -cosX : cosX, -F, true);
    secondSE = rSE;
    secondHi = rHi;
    secondLo = rLo;
  }
  const v = kind === 1 ? cosX : sinX;
  const vneg = kind === 1 ? v < 0n : neg !== v < 0n;
  bigResult(vneg, v < 0n ? -v : v, -F, true);
}

/** fsin/fcos/fptan/fsincos on ST(0): `kind` 0 sin, 1 cos, 2 tan, 3 sincos. */
function trig(c: X86Cpu, kind: number): void {
  c.fsw &= ~C2;
  if (isEmpty(c, 0)) {
    if (!underflow()) return finish(c);
    setST(c, 0, rSE, rHi, rLo);
    if (kind >= 2 && pushRoom(c)) push(c, INDEF_SE, INDEF_HI, 0);
    // With ST(7) also full, the underflow's C1 = 0 stands (as the host).
    up = false;
    return finish(c);
  }
  if (kind >= 2 && !isEmpty(c, 7)) {
    // Stack overflow before anything else: both results are the indefinite (as the host).
    exc |= IE | SF;
    up = true;
    c.fsw &= ~C2;
    if (!unmasked(IE)) {
      setST(c, 0, INDEF_SE, INDEF_HI, 0);
      c.ftop = (c.ftop - 1) & 7;
      setST(c, 0, INDEF_SE, INDEF_HI, 0);
    }
    return finish(c);
  }
  loadA(c, 0);
  const k = classify(aSE, aHi, aLo);
  c.fsw &= ~C2;
  if (k === K_NORM && (aSE & 0x7fff) >= 16383 + 63) {
    // Out of range: C2 = 1, ST(0) unchanged.
    c.fsw |= C2;
    return finish(c);
  }
  if (k >= K_INF || k === K_BAD) {
    if (k === K_QNAN || k === K_SNAN) {
      nanOfA(k);
      if (unmasked(exc & IE)) return finish(c);
    } else {
      setIndefinite();
      if (signal(IE)) return finish(c);
    }
    setST(c, 0, rSE, rHi, rLo);
    if (kind >= 2) {
      c.ftop = (c.ftop - 1) & 7;
      setST(c, 0, rSE, rHi, rLo);
    }
    return finish(c);
  }
  if (k === K_DEN && signal(DE)) return finish(c);
  let c1 = false;
  if (k === K_ZERO) {
    // sin/tan(±0) = ±0, cos(0) = 1, exactly.
    if (kind === 1) constant(0);
    else {
      rSE = aSE;
      rHi = rLo = 0;
    }
    secondSE = 0x3fff;
    secondHi = 0x80000000 | 0;
    secondLo = 0;
  } else {
    trigValue(kind);
    c1 = up;
  }
  const r1se = rSE,
    r1hi = rHi,
    r1lo = rLo;
  setST(c, 0, r1se, r1hi, r1lo);
  if (kind === 2) {
    c.ftop = (c.ftop - 1) & 7;
    setST(c, 0, 0x3fff, 0x80000000 | 0, 0);
  } else if (kind === 3) {
    c.ftop = (c.ftop - 1) & 7;
    setST(c, 0, secondSE, secondHi, secondLo);
  }
  up = c1 && (exc & SF) === 0;
  finish(c);
}

/** y·log2(x) (`kind` 1) or y·log2(1 + x) (`kind` 2) for finite non-zero y (A) and x (B), x in range. */
function logValue(kindIn: number): void {
  let kind = kindIn;
  toRational(bSE, bHi, bLo);
  const xs = fixSig,
    xe = fixExp;
  toRational(aSE, aHi, aLo);
  const ys = fixSig,
    ye = fixExp;
  const yneg = (aSE & 0x8000) !== 0;
  let F = FIX;
  let l: bigint;
  let exact = false;
  // fyl2xp1 with |x| ≥ 1/4: log2 of 1 + x, exactly formed.
  let ls = xs,
    le = xe;
  if (kind === 2 && xe + 63 >= -2) {
    const xneg = (bSE & 0x8000) !== 0;
    if (le >= 0) {
      ls = xneg ? 1n - (xs << BigInt(le)) : 1n + (xs << BigInt(le));
      le = 0;
    } else ls = xneg ? (1n << BigInt(-le)) - xs : (1n << BigInt(-le)) + xs;
    kind = 1;
  }
  if (kind === 1) {
    // x = m · 2^k with m in [1, 2).
    const L = bitLength(ls);
    const k = le + L - 1;
    const m = shiftBig(ls, F - (L - 1));
    const one = 1n << BigInt(F);
    exact = m === one;
    const ln = exact ? 0n : atanh2Fix(((m - one) << BigInt(F)) / (m + one), F);
    l = (BigInt(k) << BigInt(F)) + (exact ? 0n : (ln << BigInt(F)) / lnTwo(F));
  } else if (xe + 63 < -TINY) {
    // log2(1 + x) = x/ln 2 · (1 − x/2 + …): below x/ln 2 in magnitude for x > 0, above for x < 0.
    const xneg = (bSE & 0x8000) !== 0;
    const inv = (1n << BigInt(2 * FIX)) / lnTwo(FIX);
    const m = ys * xs * inv;
    if (xneg) bigResult(yneg !== xneg, m, ye + xe - FIX, true);
    else bigResult(yneg !== xneg, (m << 64n) - 1n, ye + xe - FIX - 64, true);
    return;
  } else {
    F = FIX + Math.max(0, -xe);
    const x = shiftBig(xs, xe + F) * ((bSE & 0x8000) !== 0 ? -1n : 1n);
    const two = 2n << BigInt(F);
    l = (atanh2Fix((x << BigInt(F)) / (two + x), F) << BigInt(F)) / lnTwo(F);
  }
  const neg = yneg !== l < 0n;
  bigResult(neg, (l < 0n ? -l : l) * ys, ye - F, !exact);
}

/** fpatan, fyl2x, fyl2xp1: ST(1) = f(ST(1), ST(0)), pop. `kind` 0 atan, 1 yl2x, 2 yl2xp1. */
function twoArg(c: X86Cpu, kind: number): void {
  if (isEmpty(c, 0) || isEmpty(c, 1)) {
    if (!underflow()) return finish(c);
    setST(c, 1, rSE, rHi, rLo);
    pop(c);
    return finish(c);
  }
  loadA(c, 1); // y
  loadB(c, 0); // x
  const ka = classify(aSE, aHi, aLo);
  const kb = classify(bSE, bHi, bLo);
  memDenormal = false;
  // fyl2x/fyl2xp1: an invalid x (negative) is reported before a denormal operand.
  const logInvalid =
    kind !== 0 &&
    ka < K_QNAN &&
    ka !== K_BAD &&
    kb < K_QNAN &&
    (bSE & 0x8000) !== 0 &&
    kb !== K_ZERO &&
    (kind === 1 || kb === K_INF);
  const chk = logInvalid ? 0 : checkOperands(ka, kb);
  if (chk === 2) return finish(c);
  if (chk === 0) {
    const ya = (aSE & 0x8000) !== 0;
    const xa = (bSE & 0x8000) !== 0;
    if (kind === 0) {
      atan2(ka, kb, ya, xa);
    } else {
      // Special operands, as y·log2(x) with IEEE infinities (SDM tables for FYL2X, FYL2XP1).
      const xNeg = xa && kb !== K_ZERO;
      if (kind === 2 && xa && kb !== K_INF && (bSE & 0x7fff) >= 0x3fff) {
        // x ≤ −1 is out of fyl2xp1's range: the host gives x itself, with PE.
        rSE = bSE;
        rHi = bHi;
        rLo = bLo;
        exc |= PE;
      } else if ((kind === 1 && xNeg) || (xa && kb === K_INF)) {
        setIndefinite();
        if (signal(IE)) return finish(c);
      } else if (kind === 1 && kb === K_ZERO) {
        if (ka === K_ZERO) {
          setIndefinite();
          if (signal(IE)) return finish(c);
        } else {
          if (signal(ZE)) return finish(c);
          rSE = (ya ? 0 : 0x8000) | 0x7fff;
          rHi = 0x80000000 | 0;
          rLo = 0;
        }
      } else if (kb === K_INF) {
        if (ka === K_ZERO) {
          setIndefinite();
          if (signal(IE)) return finish(c);
        } else {
          rSE = (ya ? 0x8000 : 0) | 0x7fff;
          rHi = 0x80000000 | 0;
          rLo = 0;
        }
      } else {
        // log2 of x: its sign, and whether it is 0 (x = 1, or x = 0 for yl2xp1).
        const one =
          kind === 1 && (bSE & 0xffff) === 0x3fff && bHi === (0x80000000 | 0) && bLo === 0;
        const zeroLog = one || (kind === 2 && kb === K_ZERO);
        const logNeg = kind === 1 ? (bSE & 0x7fff) < 0x3fff : xa;
        if (ka === K_INF) {
          if (zeroLog) {
            setIndefinite();
            if (signal(IE)) return finish(c);
          } else {
            rSE = (ya !== logNeg ? 0x8000 : 0) | 0x7fff;
            rHi = 0x80000000 | 0;
            rLo = 0;
          }
        } else if (ka === K_ZERO || zeroLog) {
          rSE = ya !== logNeg ? 0x8000 : 0;
          rHi = rLo = 0;
        } else logValue(kind);
      }
    }
  }
  setST(c, 1, rSE, rHi, rLo);
  pop(c);
  finish(c);
}

/** rSE/rHi/rLo = atan2(A, B) (y = A, x = B), both not NaN. */
function atan2(ka: number, kb: number, yNeg: boolean, xNeg: boolean): void {
  const F = FIX;
  const pi = piFix(F);
  let angle: bigint;
  let exact = false;
  if (ka === K_ZERO || (kb === K_INF && ka !== K_INF)) {
    // y = 0 or x = ±∞: 0 for x > 0, π for x < 0.
    angle = xNeg ? pi : 0n;
    exact = !xNeg;
  } else if (kb === K_ZERO || ka === K_INF) {
    angle = kb === K_INF ? (xNeg ? (pi * 3n) >> 2n : pi >> 2n) : pi >> 1n;
  } else {
    toRational(aSE, aHi, aLo);
    const ys = fixSig,
      ye = fixExp;
    toRational(bSE, bHi, bLo);
    const xs = fixSig,
      xe = fixExp;
    // t = min/max of |y|, |x| (both at the same scale), then the octant.
    const yBig = ye - xe >= 0 ? ys << BigInt(ye - xe) : ys;
    const xBig = ye - xe >= 0 ? xs : xs << BigInt(xe - ye);
    const swapped = yBig > xBig;
    const G = F + Math.min(600, Math.max(0, Math.abs(ye - xe) - 64));
    if (!swapped && !xNeg && ye - xe < -664) {
      // atan(t) = t − t³/3: just below y/x (so one unit below an exact quotient).
      const q = (ys << 400n) / xs;
      const exactQ = q * xs === ys << 400n;
      bigResult(yNeg, exactQ ? (q << 64n) - 1n : q, ye - xe - 400 - (exactQ ? 64 : 0), true);
      return;
    }
    const t = swapped ? (xBig << BigInt(G)) / yBig : (yBig << BigInt(G)) / xBig;
    let a = atanFix(t, G);
    const piG = G === F ? pi : piFix(G);
    if (swapped) a = (piG >> 1n) - a;
    if (xNeg) a = piG - a;
    bigResult(yNeg, a, -G, true);
    return;
  }
  bigResult(yNeg, angle, -F, !exact);
}

/**
 * A one-operand op on an empty ST(0): the stack underflow (the indefinite left in ST(0)
 * when #IS is masked) and the instruction finished.
 * @returns whether ST(0) was empty.
 */
function emptyST0(c: X86Cpu): boolean {
  if (!isEmpty(c, 0)) return false;
  if (underflow()) setST(c, 0, rSE, rHi, rLo);
  finish(c);
  return true;
}

/** f2xm1: ST(0) = 2^ST(0) − 1. */
function f2xm1(c: X86Cpu): void {
  if (emptyST0(c)) return;
  loadA(c, 0);
  const k = classify(aSE, aHi, aLo);
  memDenormal = false;
  bSE = 0;
  bHi = bLo = 0;
  const chk = checkOperands(k, K_ZERO);
  if (chk === 2) return finish(c);
  if (chk === 0) {
    const neg = (aSE & 0x8000) !== 0;
    if (k === K_ZERO) {
      rSE = aSE;
      rHi = rLo = 0;
    } else if (k === K_INF) {
      // 2^−∞ − 1 = −1, 2^+∞ − 1 = +∞.
      rSE = neg ? 0xbfff : aSE;
      rHi = 0x80000000 | 0;
      rLo = 0;
    } else if ((aSE & 0x7fff) === 0x3fff && aHi === (0x80000000 | 0) && aLo === 0) {
      // 2^1 − 1 = 1 and 2^−1 − 1 = −0.5, exactly.
      rSE = neg ? 0xbffe : 0x3fff;
      rHi = 0x80000000 | 0;
      rLo = 0;
    } else if ((aSE & 0x7fff) >= 0x3fff) {
      // |x| > 1 is out of range: the host leaves ST(0) as it is and reports PE.
      resultA();
      exc |= PE;
    } else {
      toRational(aSE, aHi, aLo);
      if (fixExp + 63 < -TINY) {
        // 2^x − 1 = x·ln 2 · (1 + x·ln 2/2 + …): above x·ln 2 for x > 0, below in magnitude for x < 0.
        const m = fixSig * lnTwo(FIX);
        if (neg) bigResult(true, (m << 64n) - 1n, fixExp - FIX - 64, true);
        else bigResult(false, m, fixExp - FIX, true);
        setST(c, 0, rSE, rHi, rLo);
        return finish(c);
      }
      const F = FIX + Math.max(0, -fixExp);
      const x = shiftBig(fixSig, fixExp + F) * (neg ? -1n : 1n);
      const a = mulFix(x, lnTwo(F), F);
      // expm1(a) = Σ a^n / n!.
      let s = 0n;
      let t = a;
      for (let n = 2n; t !== 0n; n++) {
        s += t;
        t = mulFix(t, a, F) / n;
      }
      bigResult(s < 0n, s < 0n ? -s : s, -F, true);
    }
  }
  setST(c, 0, rSE, rHi, rLo);
  finish(c);
}

/** fsqrt. */
function fsqrt(c: X86Cpu): void {
  if (emptyST0(c)) return;
  loadA(c, 0);
  const k = classify(aSE, aHi, aLo);
  if (k === K_QNAN || k === K_SNAN) {
    nanOfA(k);
    if (unmasked(exc & IE)) return finish(c);
  } else if (k === K_BAD || (aSE & 0x8000 && k !== K_ZERO)) {
    setIndefinite();
    if (signal(IE)) return finish(c);
  } else if (k === K_ZERO || k === K_INF) {
    resultA();
  } else {
    if (k === K_DEN && signal(DE)) return finish(c);
    sqrtSig();
    if (!roundToReg(pcBits())) return finish(c);
  }
  setST(c, 0, rSE, rHi, rLo);
  finish(c);
}

/** frndint: ST(0) rounded to an integer by RC. */
function frndint(c: X86Cpu): void {
  if (emptyST0(c)) return;
  loadA(c, 0);
  const k = classify(aSE, aHi, aLo);
  if (k !== K_NORM && k !== K_DEN) {
    if (k === K_QNAN || k === K_SNAN) {
      nanOfA(k);
      if (unmasked(exc & IE)) return finish(c);
    } else if (k === K_BAD) {
      setIndefinite();
      if (signal(IE)) return finish(c);
    } else {
      resultA();
    }
    setST(c, 0, rSE, rHi, rLo);
    return finish(c);
  }
  if (k === K_DEN && signal(DE)) return finish(c);
  loadW(aSE, aHi, aLo);
  const sh = 16383 + 63 - wE;
  if (sh <= 0) {
    setST(c, 0, aSE, aHi, aLo);
    return finish(c);
  }
  shiftRightJam(W, sh);
  const inc = roundIncrement(64);
  roundApply(64, inc);
  if (inexact) exc |= PE;
  up = inc;
  wE = 16383 + 63;
  if (W[0] === 0 && W[1] === 0) {
    if (inc) {
      // Carried out of 64 bits: 2^64.
      W[0] = 0x80000000;
      wE = 16383 + 64;
    } else {
      setST(c, 0, aSE & 0x8000, 0, 0);
      return finish(c);
    }
  }
  normalizeW();
  setST(c, 0, (wS << 15) | wE, W[0] | 0, W[1] | 0);
  finish(c);
}

/** fscale: ST(0) × 2^trunc(ST(1)). */
function fscale(c: X86Cpu): void {
  if (isEmpty(c, 0) || isEmpty(c, 1)) {
    if (underflow()) setST(c, 0, rSE, rHi, rLo);
    return finish(c);
  }
  loadA(c, 0);
  loadB(c, 1);
  const ka = classify(aSE, aHi, aLo);
  const kb = classify(bSE, bHi, bLo);
  memDenormal = false;
  const chk = checkOperands(ka, kb);
  if (chk === 2) return finish(c);
  if (chk === 0) {
    if (kb === K_INF) {
      const neg = (bSE & 0x8000) !== 0;
      if ((ka === K_ZERO && !neg) || (ka === K_INF && neg)) {
        setIndefinite();
        if (signal(IE)) return finish(c);
      } else if (ka === K_ZERO || ka === K_INF) {
        resultA();
      } else {
        rSE = (aSE & 0x8000) | (neg ? 0 : 0x7fff);
        rHi = neg ? 0 : 0x80000000 | 0;
        rLo = 0;
      }
    } else if (ka === K_ZERO || ka === K_INF) {
      resultA();
    } else {
      // trunc(ST(1)), clamped far beyond any exponent range.
      const be = (bSE & 0x7fff) - 16383;
      let n = kb === K_ZERO || be < 0 ? 0 : be > 20 ? 100000 : (bHi >>> 0) >>> (31 - be);
      if ((bSE & 0x8000) !== 0) n = -n;
      loadW(aSE, aHi, aLo);
      wE += n;
      if (!roundToReg(64)) return finish(c);
    }
  }
  setST(c, 0, rSE, rHi, rLo);
  finish(c);
}

/** fxtract: ST(0) → exponent in ST(1), significand in ST(0). */
function fxtract(c: X86Cpu): void {
  if (isEmpty(c, 0)) {
    // Underflow wins over a full stack (C1 = 0).
    if (!underflow()) return finish(c);
    setST(c, 0, INDEF_SE, INDEF_HI, 0);
    c.ftop = (c.ftop - 1) & 7;
    setST(c, 0, INDEF_SE, INDEF_HI, 0);
    return finish(c);
  }
  if (!isEmpty(c, 7)) {
    exc |= IE | SF;
    up = true;
    if (!unmasked(IE)) {
      setST(c, 0, INDEF_SE, INDEF_HI, 0);
      c.ftop = (c.ftop - 1) & 7;
      setST(c, 0, INDEF_SE, INDEF_HI, 0);
    }
    return finish(c);
  }
  loadA(c, 0);
  const k = classify(aSE, aHi, aLo);
  let ese: number, ehi: number, elo: number;
  if (k === K_QNAN || k === K_SNAN || k === K_BAD) {
    if (k === K_BAD) setIndefinite();
    else {
      nanOfA(k);
    }
    if (k !== K_QNAN && signal(IE)) return finish(c);
    ese = rSE;
    ehi = rHi;
    elo = rLo;
  } else if (k === K_ZERO) {
    if (signal(ZE)) return finish(c);
    ese = 0xffff;
    ehi = 0x80000000 | 0;
    elo = 0;
    rSE = aSE;
    rHi = rLo = 0;
  } else if (k === K_INF) {
    ese = 0x7fff;
    ehi = 0x80000000 | 0;
    elo = 0;
    resultA();
  } else {
    if (k === K_DEN && signal(DE)) return finish(c);
    loadW(aSE, aHi, aLo);
    const e = wE - 16383;
    rSE = (wS << 15) | 0x3fff;
    rHi = W[0] | 0;
    rLo = W[1] | 0;
    const sig = rSE,
      sh = rHi,
      sl = rLo;
    loadInt(e, e >> 31);
    ese = bSE;
    ehi = bHi;
    elo = bLo;
    rSE = sig;
    rHi = sh;
    rLo = sl;
  }
  setST(c, 0, ese, ehi, elo);
  c.ftop = (c.ftop - 1) & 7;
  setST(c, 0, rSE, rHi, rLo);
  up = false;
  finish(c);
}

/** fprem (`ieee` false) and fprem1 (`ieee` true). */
function fprem(c: X86Cpu, ieee: boolean): void {
  if (isEmpty(c, 0) || isEmpty(c, 1)) {
    if (underflow()) setST(c, 0, rSE, rHi, rLo);
    c.fsw &= ~C2;
    return finish(c);
  }
  loadA(c, 0);
  loadB(c, 1);
  const ka = classify(aSE, aHi, aLo);
  const kb = classify(bSE, bHi, bLo);
  memDenormal = false;
  const chk = checkOperands(ka, kb);
  if (chk === 2) return finish(c);
  // NaN and invalid operands leave C0 and C3 as they were (as the host does).
  let cc = c.fsw & (C0 | C3);
  if (chk === 0) {
    if (ka === K_INF || kb === K_ZERO) {
      setIndefinite();
      if (signal(IE)) return finish(c);
    } else if (ka === K_ZERO || kb === K_INF) {
      // Quotient 0.
      resultA();
      cc = 0;
    } else {
      unpackBoth();
      const bh = nb0,
        bl = nb1;
      let sign = aSE >> 15;
      const d = naE - nbE;
      let q = 0;
      let scale = nbE;
      if (d < 0) {
        if (ieee && d === -1 && (na0 > bh || (na0 === bh && na1 > bl))) {
          // |A| > |B|/2: A − sign(A)·|B|, exactly.
          bSE = (bSE & 0x7fff) | (aSE & 0x8000);
          arith(A_SUB, 64);
          q = 1;
          setST(c, 0, rSE, rHi, rLo);
          finishCc(c, C1);
          return;
        }
        resultA();
        setST(c, 0, rSE, rHi, rLo);
        finishCc(c, 0);
        return;
      }
      cc = 0;
      let steps = d;
      if (d >= 64) {
        // Partial remainder: reduce the exponent difference by N (32–63) and set C2.
        steps = 32 + ((d - 32) & 31);
        scale = nbE + (d - steps);
        cc |= C2;
      }
      remC = 0;
      remH = na0;
      remL = na1;
      for (let i = steps; i >= 0; i--) {
        q = ((q << 1) & 7) | remStep();
        if (i > 0) remShift();
      }
      let rh = remH,
        rl = remL;
      if (ieee && cc === 0) {
        // Round the quotient to nearest: compare 2·rem with B.
        const th = ((rh << 1) | (rl >>> 31)) >>> 0,
          tl = (rl << 1) >>> 0,
          tc = rh >>> 31;
        const gt = tc !== 0 || th > bh || (th === bh && tl > bl);
        const eq = tc === 0 && th === bh && tl === bl;
        if (gt || (eq && (q & 1) !== 0)) {
          let l = bl - rl;
          let br = 0;
          if (l < 0) {
            l += TWO32;
            br = 1;
          }
          rl = l;
          rh = bh - rh - br;
          if (rh < 0) rh += TWO32;
          sign ^= 1;
          q = (q + 1) & 7;
        }
      }
      W[0] = rh;
      W[1] = rl;
      W[2] = W[3] = 0;
      wS = sign;
      wE = scale;
      if (wIsZero()) {
        rSE = aSE & 0x8000;
        rHi = rLo = 0;
      } else {
        normalizeW();
        roundToReg(64);
      }
      if (cc === 0) cc = (q & 4 ? C0 : 0) | (q & 2 ? C3 : 0) | (q & 1 ? C1 : 0);
    }
  }
  setST(c, 0, rSE, rHi, rLo);
  finishCc(c, cc);
}

/** fxam: the class of ST(0) in C3, C2, C0 and its sign in C1. */
function fxam(c: X86Cpu): void {
  const p = physOf(c, 0);
  const se = c.fpuSignExp[p];
  let cc = (se & 0x8000) !== 0 ? C1 : 0;
  if (isEmpty(c, 0)) cc |= C3 | C0;
  else {
    const k = classify(se, c.fpuMant[2 * p + 1], c.fpuMant[2 * p]);
    cc |=
      k === K_ZERO
        ? C3
        : k === K_NORM
          ? C2
          : k === K_DEN
            ? C3 | C2
            : k === K_INF
              ? C2 | C0
              : k === K_BAD
                ? 0
                : C0;
  }
  c.fsw = (c.fsw & ~CC) | cc;
}

/** fbld: push the 18-digit packed BCD integer at (lo, hi). */
function fbld(c: X86Cpu, lo: number, hi: number): void {
  let v = 0n;
  for (let i = 8; i >= 0; i--) {
    const byte = c.rd8(at(lo, i), atHi(lo, hi, i));
    v = v * 100n + BigInt((byte >> 4) * 10 + (byte & 15));
  }
  const neg = (c.rd8(at(lo, 9), atHi(lo, hi, 9)) & 0x80) !== 0;
  loadInt(Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0);
  if (neg) bSE |= 0x8000;
  memDenormal = false;
  fldValue(c, false);
}

/** fbstp: ST(0) rounded by RC to an 18-digit packed BCD integer at (lo, hi), pop. */
function fbstp(c: X86Cpu, lo: number, hi: number): void {
  let ok = false;
  if (isEmpty(c, 0)) {
    if (!underflow()) return finish(c);
  } else {
    loadA(c, 0);
    up = false;
    ok = toInt(8, false);
    if (ok) {
      const v = (BigInt(intHi) << 32n) | BigInt(intLo >>> 0);
      if (v > 999999999999999999n || v < -999999999999999999n) ok = false;
    }
    if (!ok) {
      exc &= ~PE;
      if (signal(IE)) return finish(c);
    }
  }
  c.probeWrite(lo, hi, 10);
  if (!ok) {
    for (let i = 0; i < 7; i++) c.wr8(at(lo, i), atHi(lo, hi, i), 0);
    c.wr8(at(lo, 7), atHi(lo, hi, 7), 0xc0);
    c.wr8(at(lo, 8), atHi(lo, hi, 8), 0xff);
    c.wr8(at(lo, 9), atHi(lo, hi, 9), 0xff);
    up = false;
  } else {
    let v = (BigInt(intHi) << 32n) | BigInt(intLo >>> 0);
    const neg = v < 0n || (aSE & 0x8000) !== 0;
    if (v < 0n) v = -v;
    for (let i = 0; i < 9; i++) {
      const d = Number(v % 100n);
      v /= 100n;
      c.wr8(at(lo, i), atHi(lo, hi, i), ((Math.floor(d / 10) << 4) | (d % 10)) & 0xff);
    }
    c.wr8(at(lo, 9), atHi(lo, hi, 9), neg ? 0x80 : 0);
  }
  pop(c);
  finish(c);
}

/** fnsave (`save`) or frstor of the 108-byte (94-byte when `small`) image. */
function saveRestore(c: X86Cpu, lo: number, hi: number, small: boolean, save: boolean): void {
  const base = small ? 14 : 28;
  if (save) {
    c.probeWrite(lo, hi, base + 80);
    storeEnv(c, lo, hi, small);
    for (let i = 0; i < 8; i++) {
      const p = physOf(c, i);
      const k = base + 10 * i;
      c.wr32(at(lo, k), atHi(lo, hi, k), c.fpuMant[2 * p]);
      c.wr32(at(lo, k + 4), atHi(lo, hi, k + 4), c.fpuMant[2 * p + 1]);
      c.wr16(at(lo, k + 8), atHi(lo, hi, k + 8), c.fpuSignExp[p]);
    }
    x87Init(c);
    return;
  }
  // Read everything before changing any state (a fault leaves the FPU as it was).
  for (let i = 0; i < 8; i++) {
    const k = base + 10 * i;
    REGS[3 * i] = c.rd32(at(lo, k), atHi(lo, hi, k));
    REGS[3 * i + 1] = c.rd32(at(lo, k + 4), atHi(lo, hi, k + 4));
    REGS[3 * i + 2] = c.rd16(at(lo, k + 8), atHi(lo, hi, k + 8));
  }
  loadEnv(c, lo, hi, small);
  for (let i = 0; i < 8; i++) {
    const p = physOf(c, i);
    c.fpuMant[2 * p] = REGS[3 * i];
    c.fpuMant[2 * p + 1] = REGS[3 * i + 1];
    c.fpuSignExp[p] = REGS[3 * i + 2];
  }
}
const REGS = new Int32Array(24);

/** Condition of fcmovcc (DA/DB C0–DF): b, e, be, u and their negations. */
function fcmovCond(c: X86Cpu, k: number): boolean {
  materialize(c);
  const f = c.flags;
  const v = k === 0 ? f & 1 : k === 1 ? f & 0x40 : k === 2 ? f & 0x41 : f & 4;
  return v !== 0;
}

/**
 * Executes an x87 instruction (D8–DF) for the decoded record at `rec[b ..]`: `X_EXT`
 * holds the opcode's low three bits (bits 8–10) and the ModRM byte (register forms) or
 * its reg field (memory forms, bits 3–5). (`lo`, `hi`) is the memory operand's address,
 * (`ipLo`, `ipHi`) the instruction's (FIP). Faults raise through `c.raise`.
 */
export function x87Op(
  c: X86Cpu,
  rec: Int32Array,
  b: number,
  lo: number,
  hi: number,
  ipLo: number,
  ipHi: number,
): void {
  const ext = rec[b + X_EXT];
  const opc = (ext >> 8) & 7;
  const m = ext & 0xff;
  const reg = (m >> 3) & 7;
  const isMem = m < 0xc0;
  const i = m & 7;
  x87Available(c);
  // Control instructions that do not wait for pending exceptions.
  if (isMem) {
    if (opc === 1 && reg === 7) return c.wr16(lo, hi, c.fcw);
    if (opc === 5 && reg === 7) return c.wr16(lo, hi, x87StatusWord(c));
    if (opc === 1 && reg === 6) {
      storeEnv(c, lo, hi, (rec[b + D.PFX] & Pfx.OPSIZE) !== 0);
      c.fcw |= 0x3f;
      return;
    }
    if (opc === 5 && reg === 6)
      return saveRestore(c, lo, hi, (rec[b + D.PFX] & Pfx.OPSIZE) !== 0, true);
  } else if (opc === 3 && m === 0xe2) {
    c.fsw &= ~(0x7f | Fsw.ES | Fsw.B);
    return;
  } else if (opc === 3 && m === 0xe3) return x87Init(c);
  else if (opc === 7 && m === 0xe0) {
    c.regLo[0] = (c.regLo[0] & ~0xffff) | x87StatusWord(c);
    return;
  }
  x87CheckPending(c);
  if (isMem && opc === 1 && (reg === 4 || reg === 5)) {
    if (reg === 5) c.fcw = (c.rd16(lo, hi) & 0x1f3f) | 0x40;
    else loadEnv(c, lo, hi, (rec[b + D.PFX] & Pfx.OPSIZE) !== 0);
    return;
  }
  if (isMem && opc === 5 && reg === 4)
    return saveRestore(c, lo, hi, (rec[b + D.PFX] & Pfx.OPSIZE) !== 0, false);
  // A non-control instruction: FOP, FIP and FDP.
  c.fop = (opc << 8) | (rec[b + D.MODRM] & 0xff);
  c.fipLo = ipLo;
  c.fipHi = ipHi;
  c.fcs = c.sel[Seg.CS];
  if (isMem) {
    c.fdpLo = lo;
    c.fdpHi = hi;
    const sg = rec[b + D.SEG];
    c.fds = c.sel[sg >= 0 ? sg : Seg.DS];
  }
  fcw = c.fcw;
  exc = 0;
  up = false;
  memDenormal = false;
  if (isMem) memOp(c, opc, reg, lo, hi);
  else regOp(c, opc, m, reg, i);
}

/** The memory forms. */
function memOp(c: X86Cpu, opc: number, reg: number, lo: number, hi: number): void {
  // D8/DA/DC/DE: arithmetic with an m32fp, m32int, m64fp, m16int operand.
  if ((opc & 1) === 0) {
    if (opc === 0) loadF32(c.rd32(lo, hi));
    else if (opc === 4) loadF64(c.rd64(lo, hi), c.hi);
    else if (opc === 2) {
      const v = c.rd32(lo, hi);
      loadInt(v, v >> 31);
    } else {
      const v = (c.rd16(lo, hi) << 16) >> 16;
      loadInt(v, v >> 31);
    }
    if (reg === 2 || reg === 3) return fcom(c, false, reg === 3 ? 1 : 0, false);
    if (emptyST0(c)) return;
    loadA(c, 0);
    if (memDenormal) {
      const ka = classify(aSE, aHi, aLo);
      const kb = classify(bSE, bHi, bLo);
      if (ka < K_QNAN && ka !== K_BAD && kb < K_QNAN && signal(DE)) return finish(c);
    }
    return storeArith(c, reg, 0, false);
  }
  switch ((opc << 3) | reg) {
    case 0o10: // fld m32
      loadF32(c.rd32(lo, hi));
      return fldValue(c, true);
    case 0o12: // fst m32
    case 0o13: // fstp m32
      if (storeFloat(c, lo, hi, 4) && reg === 3) pop(c);
      return finish(c);
    case 0o30: {
      // fild m32
      const v = c.rd32(lo, hi);
      loadInt(v, v >> 31);
      return fldValue(c, false);
    }
    case 0o31: // fisttp m32
      return fist(c, lo, hi, 4, true, true);
    case 0o32: // fist m32
    case 0o33: // fistp m32
      return fist(c, lo, hi, 4, reg === 3, false);
    case 0o35: // fld m80
      bLo = c.rd64(lo, hi);
      bHi = c.hi;
      bSE = c.rd16(at(lo, 8), atHi(lo, hi, 8));
      return fldValue(c, false);
    case 0o37: // fstp m80
      if (isEmpty(c, 0)) {
        if (!underflow()) return finish(c);
        aSE = rSE;
        aHi = rHi;
        aLo = rLo;
      } else loadA(c, 0);
      c.probeWrite(lo, hi, 10);
      c.wr64(lo, hi, aLo, aHi);
      c.wr16(at(lo, 8), atHi(lo, hi, 8), aSE);
      pop(c);
      return finish(c);
    case 0o50: // fld m64
      loadF64(c.rd64(lo, hi), c.hi);
      return fldValue(c, true);
    case 0o51: // fisttp m64
      return fist(c, lo, hi, 8, true, true);
    case 0o52: // fst m64
    case 0o53: // fstp m64
      if (storeFloat(c, lo, hi, 8) && reg === 3) pop(c);
      return finish(c);
    case 0o70: {
      // fild m16
      const v = (c.rd16(lo, hi) << 16) >> 16;
      loadInt(v, v >> 31);
      return fldValue(c, false);
    }
    case 0o71: // fisttp m16
      return fist(c, lo, hi, 2, true, true);
    case 0o72: // fist m16
    case 0o73: // fistp m16
      return fist(c, lo, hi, 2, reg === 3, false);
    case 0o74: // fbld
      return fbld(c, lo, hi);
    case 0o75: {
      // fild m64
      const l = c.rd64(lo, hi);
      loadInt(l, c.hi);
      return fldValue(c, false);
    }
    case 0o76: // fbstp
      return fbstp(c, lo, hi);
    case 0o77: // fistp m64
      return fist(c, lo, hi, 8, true, false);
    default:
      c.raise(Vector.UD, -1);
  }
}

/** The register forms. */
function regOp(c: X86Cpu, opc: number, m: number, reg: number, i: number): void {
  switch (opc) {
    case 0: // D8: ST(0) = ST(0) op ST(i)
    case 4: // DC: ST(i) = ST(i) op ST(0)
    case 6: {
      // DE: as DC, then pop
      if (opc === 6 && m === 0xd9) {
        // fcompp
        loadB(c, 1);
        return fcom(c, false, 2, isEmpty(c, 1));
      }
      if (opc === 0 && (reg === 2 || reg === 3)) {
        loadB(c, i);
        return fcom(c, false, reg === 3 ? 1 : 0, isEmpty(c, i));
      }
      const dst = opc === 0 ? 0 : i;
      if (isEmpty(c, 0) || isEmpty(c, i)) {
        if (underflow()) {
          setST(c, dst, rSE, rHi, rLo);
          if (opc === 6) pop(c);
        }
        return finish(c);
      }
      if (opc === 0) {
        loadA(c, 0);
        loadB(c, i);
        return storeArith(c, reg, 0, false);
      }
      loadA(c, i);
      loadB(c, 0);
      return storeArith(c, reg >= 4 ? reg ^ 1 : reg, i, opc === 6);
    }
    case 1:
      return d9Reg(c, m, reg, i);
    case 2:
    case 3:
      if (m === 0xe9 && opc === 2) {
        // fucompp
        loadB(c, 1);
        return fcom(c, true, 2, isEmpty(c, 1));
      }
      if (reg < 4) {
        // fcmovcc
        if (isEmpty(c, 0) || isEmpty(c, i)) {
          if (underflow()) setST(c, 0, rSE, rHi, rLo);
          return finish(c);
        }
        if (fcmovCond(c, reg) === (opc === 2)) {
          loadB(c, i);
          setST(c, 0, bSE, bHi, bLo);
        }
        // C1 is left as it was (as the host does).
        return;
      }
      if (opc === 3 && reg === 5) return fcomi(c, i, true, false);
      if (opc === 3 && reg === 6) return fcomi(c, i, false, false);
      // fneni, fndisi, fnsetpm: no-ops on this FPU.
      return;
    case 5:
      switch (reg) {
        case 0: // ffree (the host clears C1)
          c.ftw &= ~(1 << physOf(c, i));
          c.fsw &= ~C1;
          return;
        case 2: // fst ST(i)
        case 3: // fstp ST(i)
          if (isEmpty(c, 0)) {
            if (!underflow()) return finish(c);
            setST(c, i, rSE, rHi, rLo);
          } else {
            loadA(c, 0);
            setST(c, i, aSE, aHi, aLo);
          }
          if (reg === 3) pop(c);
          return finish(c);
        case 4: // fucom
        case 5: // fucomp
          loadB(c, i);
          return fcom(c, true, reg === 5 ? 1 : 0, isEmpty(c, i));
        default:
          return c.raise(Vector.UD, -1);
      }
    default:
      // DF
      if (reg === 0) {
        // ffreep
        c.ftw &= ~(1 << physOf(c, i));
        c.ftop = (c.ftop + 1) & 7;
        c.fsw &= ~C1;
        return;
      }
      if (reg === 5) return fcomi(c, i, true, true);
      if (reg === 6) return fcomi(c, i, false, true);
      return c.raise(Vector.UD, -1);
  }
}

/** D9 register forms. */
function d9Reg(c: X86Cpu, m: number, reg: number, i: number): void {
  if (reg === 0) {
    // fld ST(i)
    // An empty source is a stack underflow (C1 = 0) whether or not ST(7) is free.
    if (isEmpty(c, i)) {
      if (!underflow()) return finish(c);
      c.ftop = (c.ftop - 1) & 7;
      setST(c, 0, INDEF_SE, INDEF_HI, 0);
      return finish(c);
    }
    loadB(c, i);
    if (!pushRoom(c)) return finish(c);
    push(c, bSE, bHi, bLo);
    if (!overflowed) up = false;
    return finish(c);
  }
  if (reg === 1) {
    // fxch
    const e0 = isEmpty(c, 0),
      ei = isEmpty(c, i);
    if (e0 || ei) {
      if (!underflow()) return finish(c);
      if (e0) setST(c, 0, INDEF_SE, INDEF_HI, 0);
      if (ei) setST(c, i, INDEF_SE, INDEF_HI, 0);
    }
    loadA(c, 0);
    loadB(c, i);
    setST(c, 0, bSE, bHi, bLo);
    setST(c, i, aSE, aHi, aLo);
    return finish(c);
  }
  switch (m) {
    case 0xd0: // fnop
      return;
    case 0xe0: // fchs
    case 0xe1: // fabs
      if (isEmpty(c, 0)) {
        if (underflow()) setST(c, 0, rSE, rHi, rLo);
        return finish(c);
      }
      loadA(c, 0);
      setST(c, 0, m === 0xe0 ? aSE ^ 0x8000 : aSE & 0x7fff, aHi, aLo);
      return finish(c);
    case 0xe4: // ftst
      bSE = 0;
      bHi = bLo = 0;
      return fcom(c, false, 0, false);
    case 0xe5:
      return fxam(c);
    case 0xe8:
    case 0xe9:
    case 0xea:
    case 0xeb:
    case 0xec:
    case 0xed:
    case 0xee:
      if (!pushRoom(c)) return finish(c);
      if (!overflowed) {
        constant(m - 0xe8);
        up = false;
      }
      push(c, rSE, rHi, rLo);
      return finish(c);
    case 0xf0:
      return f2xm1(c);
    case 0xf1:
      return twoArg(c, 1);
    case 0xf2:
      return trig(c, 2);
    case 0xf3:
      return twoArg(c, 0);
    case 0xf4:
      return fxtract(c);
    case 0xf5:
      return fprem(c, true);
    case 0xf6: // fdecstp
      c.ftop = (c.ftop - 1) & 7;
      c.fsw &= ~C1;
      return;
    case 0xf7: // fincstp
      c.ftop = (c.ftop + 1) & 7;
      c.fsw &= ~C1;
      return;
    case 0xf8:
      return fprem(c, false);
    case 0xf9:
      return twoArg(c, 2);
    case 0xfa:
      return fsqrt(c);
    case 0xfb:
      return trig(c, 3);
    case 0xfc:
      return frndint(c);
    case 0xfd:
      return fscale(c);
    case 0xfe:
      return trig(c, 0);
    case 0xff:
      return trig(c, 1);
    default:
      return c.raise(Vector.UD, -1);
  }
}
