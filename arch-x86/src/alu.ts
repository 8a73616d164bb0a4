/**
 * Integer ALU with exact RFLAGS (Intel SDM vol. 1, 3.4.3 and each instruction's "Flags
 * Affected"). Flags are computed eagerly into `s.flags`. Operands of 1, 2 and 4 bytes are
 * unsigned numbers below 2^32; 8-byte operands are passed as 32-bit halves and the high
 * half of a 64-bit result is returned in `s.hi`. Nothing here allocates.
 *
 * Where the SDM leaves a flag undefined, the value chosen is the one observed on an Intel
 * host by the execution oracle (scripts/gen-exec-corpus.ts); alu.test.ts keeps those
 * observations, and the corpus test masks those flags (each case's `undef`) for other CPUs.
 *
 * @module
 */

/** Carry flag. */
export const CF = 0x1;
/** Parity flag (even parity of the low result byte). */
export const PF = 0x4;
/** Auxiliary carry (carry out of bit 3). */
export const AF = 0x10;
/** Zero flag. */
export const ZF = 0x40;
/** Sign flag. */
export const SF = 0x80;
/** Trap flag. */
export const TF = 0x100;
/** Interrupt enable flag. */
export const IF = 0x200;
/** Direction flag. */
export const DF = 0x400;
/** Overflow flag. */
export const OF = 0x800;
/** I/O privilege level field (bits 12–13). */
export const IOPL = 0x3000;
/** Nested task. */
export const NT = 0x4000;
/** Resume flag. */
export const RF = 0x10000;
/** Alignment check. */
export const AC = 0x40000;
/** The ID flag (cpuid support). */
export const ID = 0x200000;
/** The six arithmetic status flags. */
export const STATUS = CF | PF | AF | ZF | SF | OF;

/** PF for each value of a result's low byte. */
export const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let p = i;
  p ^= p >> 4;
  p ^= p >> 2;
  p ^= p >> 1;
  PARITY[i] = p & 1 ? 0 : PF;
}

/** Operand mask by size in bytes (index 1, 2, 4); applied as `(x & MASK[s]) >>> 0`. */
export const MASK = new Int32Array([0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1]);
/** Operand width in bits minus one by size in bytes. */
export const TOPBIT = new Int32Array([0, 7, 15, 0, 31, 0, 0, 0, 63]);

/**
 * Kinds of deferred ("lazy") status flags: the interpreter's hottest flag writers record
 * their operands instead of computing the six status flags, and the flags are computed
 * when something reads them ({@link materialize}, {@link condLazy}).
 */
export const enum Lazy {
  /** The status bits in `flags` are current. */
  None = 0,
  /** a + b. */
  Add = 1,
  /** a − b (sub, cmp). */
  Sub = 2,
  /** Result in `lzA` (and, or, xor, test). */
  Logic = 3,
  /** a + 1, CF kept in `flags`. */
  Inc = 4,
  /** a − 1, CF kept in `flags`. */
  Dec = 5,
}

/** Where ALU routines put flags and the high half of a 64-bit result. */
export interface AluState {
  /** RFLAGS; the six status bits are stale while {@link lz} is not `Lazy.None`. */
  flags: number;
  /** High 32 bits of the last 64-bit result. */
  hi: number;
  /** Deferred flag kind ({@link Lazy}). */
  lz: number;
  /** Operand size in bytes of the deferred operation. */
  lzSz: number;
  /** First operand (or the result, for `Logic`), low half. */
  lzA: number;
  /** First operand, high half (size 8). */
  lzAh: number;
  /** Second operand, low half. */
  lzB: number;
  /** Second operand, high half. */
  lzBh: number;
}

function szp(res: number, top: number): number {
  return (res === 0 ? ZF : 0) | (((res >>> top) & 1) << 7) | PARITY[res & 0xff];
}

/** a + b + cin for 1/2/4-byte operands. */
export function add(s: AluState, a: number, b: number, cin: number, sz: number): number {
  s.lz = Lazy.None;
  const r = a + b + cin;
  const res = (r & MASK[sz]) >>> 0;
  const top = TOPBIT[sz];
  s.flags =
    (s.flags & ~STATUS) |
    (r !== res ? CF : 0) |
    ((a ^ b ^ res) & AF) |
    (((((a ^ res) & (b ^ res)) >>> top) & 1) * OF) |
    szp(res, top);
  return res;
}

/** a − b − bin for 1/2/4-byte operands. */
export function sub(s: AluState, a: number, b: number, bin: number, sz: number): number {
  s.lz = Lazy.None;
  const r = a - b - bin;
  const res = (r & MASK[sz]) >>> 0;
  const top = TOPBIT[sz];
  s.flags =
    (s.flags & ~STATUS) |
    (r !== res ? CF : 0) |
    ((a ^ b ^ res) & AF) |
    (((((a ^ b) & (a ^ res)) >>> top) & 1) * OF) |
    szp(res, top);
  return res;
}

/** Flags of and/or/xor/test: CF = OF = 0, AF = 0 (undefined; Intel clears it). */
export function logic(s: AluState, res: number, sz: number): number {
  s.lz = Lazy.None;
  res = (res & MASK[sz]) >>> 0;
  s.flags = (s.flags & ~STATUS) | szp(res, TOPBIT[sz]);
  return res;
}

/** 64-bit a + b + cin; low half returned, high half in `s.hi`. */
export function add64(
  s: AluState,
  alo: number,
  ahi: number,
  blo: number,
  bhi: number,
  cin: number,
): number {
  s.lz = Lazy.None;
  const l = (alo >>> 0) + (blo >>> 0) + cin;
  const rlo = l >>> 0;
  const h = (ahi >>> 0) + (bhi >>> 0) + (l > 0xffffffff ? 1 : 0);
  const rhi = h >>> 0;
  s.hi = rhi | 0;
  s.flags =
    (s.flags & ~STATUS) |
    (h > 0xffffffff ? CF : 0) |
    ((alo ^ blo ^ rlo) & AF) |
    ((((ahi ^ rhi) & (bhi ^ rhi)) >>> 31) * OF) |
    ((rlo | rhi) === 0 ? ZF : 0) |
    ((rhi >>> 31) << 7) |
    PARITY[rlo & 0xff];
  return rlo | 0;
}

/** 64-bit a − b − bin; low half returned, high half in `s.hi`. */
export function sub64(
  s: AluState,
  alo: number,
  ahi: number,
  blo: number,
  bhi: number,
  bin: number,
): number {
  s.lz = Lazy.None;
  const l = (alo >>> 0) - (blo >>> 0) - bin;
  const rlo = l >>> 0;
  const h = (ahi >>> 0) - (bhi >>> 0) - (l < 0 ? 1 : 0);
  const rhi = h >>> 0;
  s.hi = rhi | 0;
  s.flags =
    (s.flags & ~STATUS) |
    (h < 0 ? CF : 0) |
    ((alo ^ blo ^ rlo) & AF) |
    ((((ahi ^ bhi) & (ahi ^ rhi)) >>> 31) * OF) |
    ((rlo | rhi) === 0 ? ZF : 0) |
    ((rhi >>> 31) << 7) |
    PARITY[rlo & 0xff];
  return rlo | 0;
}

/** Flags of a 64-bit logic result (lo, hi). */
export function logic64(s: AluState, lo: number, hi: number): number {
  s.lz = Lazy.None;
  s.hi = hi | 0;
  s.flags =
    (s.flags & ~STATUS) | ((lo | hi) === 0 ? ZF : 0) | ((hi >>> 31) << 7) | PARITY[lo & 0xff];
  return lo | 0;
}

/** Evaluates condition code `cc` (jcc/setcc/cmovcc low nibble) against `f`. */
export function cond(f: number, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0:
      r = (f & OF) !== 0;
      break;
    case 1:
      r = (f & CF) !== 0;
      break;
    case 2:
      r = (f & ZF) !== 0;
      break;
    case 3:
      r = (f & (CF | ZF)) !== 0;
      break;
    case 4:
      r = (f & SF) !== 0;
      break;
    case 5:
      r = (f & PF) !== 0;
      break;
    case 6:
      r = ((f & SF) !== 0) !== ((f & OF) !== 0);
      break;
    default:
      r = (f & ZF) !== 0 || ((f & SF) !== 0) !== ((f & OF) !== 0);
      break;
  }
  return (cc & 1) !== 0 ? !r : r;
}

/**
 * Shifts and rotates of 1/2/4-byte operands. `op` is 0 rol, 1 ror, 2 rcl, 3 rcr, 4 shl,
 * 5 shr, 7 sar (the ModRM /digit of the C0/D0/D2 groups). `count` is already masked to 5
 * bits. A zero count leaves value and flags alone.
 */
export function shift(s: AluState, op: number, v: number, count: number, sz: number): number {
  if (count === 0) return v;
  const bits = sz * 8;
  const top = bits - 1;
  const mask = MASK[sz];
  let f = s.flags;
  let res: number;
  switch (op) {
    case 0: {
      const c = count & top;
      res = c === 0 ? v : ((v << c) | (v >>> (bits - c))) & mask;
      res >>>= 0;
      const cf = res & 1;
      f = (f & ~(CF | OF)) | cf | ((((res >>> top) & 1) ^ cf) * OF);
      s.flags = f;
      return res;
    }
    case 1: {
      const c = count & top;
      res = c === 0 ? v : ((v >>> c) | (v << (bits - c))) & mask;
      res >>>= 0;
      const cf = (res >>> top) & 1;
      f = (f & ~(CF | OF)) | cf | ((cf ^ ((res >>> (top - 1)) & 1)) * OF);
      s.flags = f;
      return res;
    }
    case 2: {
      const c = sz === 4 ? count : count % (bits + 1);
      let cf = f & CF;
      res = v;
      for (let i = 0; i < c; i++) {
        const out = (res >>> top) & 1;
        res = (((res << 1) | cf) & mask) >>> 0;
        cf = out;
      }
      f = (f & ~(CF | OF)) | cf | ((((res >>> top) & 1) ^ cf) * OF);
      s.flags = f;
      return res;
    }
    case 3: {
      const c = sz === 4 ? count : count % (bits + 1);
      let cf = f & CF;
      res = v;
      // OF for a count of 1 is MSB(dest) XOR CF before the rotation.
      const of = ((res >>> top) & 1) ^ cf;
      for (let i = 0; i < c; i++) {
        const out = res & 1;
        res = ((res >>> 1) | (cf << top)) >>> 0;
        cf = out;
      }
      f = (f & ~(CF | OF)) | cf | (of * OF);
      s.flags = f;
      return res;
    }
    case 4:
    case 6: {
      let cf: number;
      if (count <= bits) {
        cf = (v >>> (bits - count)) & 1;
        res = count === bits ? 0 : ((v << count) & mask) >>> 0;
      } else {
        cf = 0;
        res = 0;
      }
      // OF is defined for count 1 (MSB(result) XOR CF = the top two bits of the operand
      // differ); Intel computes that same count-1 value for every count.
      const of = ((v >>> top) ^ (v >>> (top - 1))) & 1;
      s.flags = (f & ~STATUS) | cf | (of * OF) | szp(res, top);
      return res;
    }
    case 5: {
      let cf: number;
      if (count <= bits) {
        cf = count === 32 ? v >>> 31 : (v >>> (count - 1)) & 1;
        res = count === bits ? 0 : v >>> count;
      } else {
        cf = 0;
        res = 0;
      }
      // OF (defined for count 1) = MSB of the original operand; Intel gives it for every count.
      const of = (v >>> top) & 1;
      s.flags = (f & ~STATUS) | cf | (of * OF) | szp(res, top);
      return res;
    }
    default: {
      const sv = (v << (32 - bits)) >> (32 - bits);
      const c = count > top ? top : count;
      const cf = count > top ? (sv < 0 ? 1 : 0) : (sv >> (c - 1)) & 1;
      res = ((sv >> c) & mask) >>> 0;
      s.flags = (f & ~STATUS) | cf | szp(res, top);
      return res;
    }
  }
}

/**
 * 64-bit shifts and rotates (same `op` numbering as {@link shift}); `count` masked to 6
 * bits. Low half returned, high half in `s.hi`.
 */
export function shift64(s: AluState, op: number, lo: number, hi: number, count: number): number {
  if (count === 0) {
    s.hi = hi;
    return lo;
  }
  let f = s.flags;
  let rlo = lo;
  let rhi = hi;
  let cf = 0;
  switch (op) {
    case 0:
    case 2: {
      // rol / rcl: one bit per step keeps this short; counts are below 64.
      cf = f & CF;
      for (let i = 0; i < count; i++) {
        const out = rhi >>> 31;
        rhi = (rhi << 1) | (rlo >>> 31);
        rlo = (rlo << 1) | (op === 0 ? out : cf);
        cf = out;
      }
      f = (f & ~(CF | OF)) | cf | (((rhi >>> 31) ^ cf) * OF);
      break;
    }
    case 1:
    case 3: {
      cf = f & CF;
      const of = op === 3 ? (rhi >>> 31) ^ cf : 0;
      for (let i = 0; i < count; i++) {
        const out = rlo & 1;
        rlo = (rlo >>> 1) | (rhi << 31);
        rhi = (rhi >>> 1) | ((op === 1 ? out : cf) << 31);
        cf = out;
      }
      f =
        (f & ~(CF | OF)) |
        cf |
        (op === 3 ? of * OF : (((rhi >>> 31) ^ ((rhi >>> 30) & 1)) & 1) * OF);
      break;
    }
    case 4:
    case 6:
      if (count < 32) {
        cf = (hi >>> (32 - count)) & 1;
        rhi = (hi << count) | (lo >>> (32 - count));
        rlo = lo << count;
      } else {
        cf = count === 32 ? hi & 1 : (lo >>> (64 - count)) & 1;
        rhi = lo << (count - 32);
        rlo = 0;
      }
      f = (f & ~STATUS) | cf | ((((hi >>> 31) ^ (hi >>> 30)) & 1) * OF);
      f |= ((rlo | rhi) === 0 ? ZF : 0) | ((rhi >>> 31) << 7) | PARITY[rlo & 0xff];
      break;
    case 5:
    case 7:
      if (count < 32) {
        cf = count === 0 ? 0 : (lo >>> (count - 1)) & 1;
        rlo = (lo >>> count) | (hi << (32 - count));
        rhi = op === 5 ? hi >>> count : hi >> count;
      } else {
        cf = count === 32 ? lo >>> 31 : (hi >>> (count - 33)) & 1;
        rlo = op === 5 ? hi >>> (count - 32) : hi >> (count - 32);
        rhi = op === 5 ? 0 : hi >> 31;
      }
      f = (f & ~STATUS) | cf | (op === 5 ? (hi >>> 31) * OF : 0);
      f |= ((rlo | rhi) === 0 ? ZF : 0) | ((rhi >>> 31) << 7) | PARITY[rlo & 0xff];
      break;
  }
  s.flags = f;
  s.hi = rhi | 0;
  return rlo | 0;
}

/**
 * shld (`left`) / shrd of 1/2/4-byte operands: shifts `v` by `count` (masked to 5 bits)
 * filling from `src`. For 16-bit operands a count above 16 is undefined in the SDM; the
 * value computed is what Intel hardware gives (the 32-bit concatenation keeps rotating).
 */
export function shiftDouble(
  s: AluState,
  left: boolean,
  v: number,
  src: number,
  count: number,
  sz: number,
): number {
  if (count === 0) return v;
  const bits = sz * 8;
  const top = bits - 1;
  let res: number;
  let cf: number;
  if (sz === 2) {
    // Counts above 16 are undefined for 16-bit operands; this keeps shifting the pair.
    if (left) {
      const pair = ((v << 16) | src) >>> 0;
      res = count < 32 ? (pair << count) >>> 16 : 0;
      cf = (pair >>> (32 - count)) & 1;
    } else {
      const pair = ((src << 16) | v) >>> 0;
      res = pair >>> count;
      cf = (pair >>> (count - 1)) & 1;
    }
  } else if (left) {
    res = ((v << count) | (src >>> (bits - count))) >>> 0;
    cf = (v >>> (bits - count)) & 1;
  } else {
    res = ((v >>> count) | (src << (bits - count))) >>> 0;
    cf = (v >>> (count - 1)) & 1;
  }
  res = (res & MASK[sz]) >>> 0;
  // OF as for a count of 1 (Intel gives that value for every count).
  const of = left ? ((v >>> top) ^ (v >>> (top - 1))) & 1 : (src ^ (v >>> top)) & 1;
  s.flags = (s.flags & ~STATUS) | cf | (of * OF) | szp(res, top);
  return res;
}

/** 64-bit shld/shrd; `count` masked to 6 bits. Low half returned, high half in `s.hi`. */
export function shiftDouble64(
  s: AluState,
  left: boolean,
  lo: number,
  hi: number,
  slo: number,
  shi: number,
  count: number,
): number {
  if (count === 0) {
    s.hi = hi;
    return lo;
  }
  // Shift the 128-bit value (dst:src for shld, src:dst for shrd) one bit at a time.
  let rlo = lo;
  let rhi = hi;
  let xlo = slo;
  let xhi = shi;
  let cf = 0;
  for (let i = 0; i < count; i++) {
    if (left) {
      cf = rhi >>> 31;
      rhi = (rhi << 1) | (rlo >>> 31);
      rlo = (rlo << 1) | (xhi >>> 31);
      xhi = (xhi << 1) | (xlo >>> 31);
      xlo <<= 1;
    } else {
      cf = rlo & 1;
      rlo = (rlo >>> 1) | (rhi << 31);
      rhi = (rhi >>> 1) | (xlo << 31);
      xlo = (xlo >>> 1) | (xhi << 31);
      xhi >>>= 1;
    }
  }
  // OF as for a count of 1 (Intel gives that value for every count).
  const of = left ? ((hi >>> 31) ^ (hi >>> 30)) & 1 : (slo ^ (hi >>> 31)) & 1;
  s.flags =
    (s.flags & ~STATUS) |
    cf |
    (of * OF) |
    ((rlo | rhi) === 0 ? ZF : 0) |
    ((rhi >>> 31) << 7) |
    PARITY[rlo & 0xff];
  s.hi = rhi | 0;
  return rlo | 0;
}

/**
 * Unsigned 64×64 → 128-bit multiply into `out[0..3]` (little-endian 32-bit words),
 * using 16-bit limbs so every partial product is exact in a double.
 */
export function mulu128(out: Int32Array, alo: number, ahi: number, blo: number, bhi: number): void {
  const a0 = alo & 0xffff,
    a1 = alo >>> 16,
    a2 = ahi & 0xffff,
    a3 = ahi >>> 16;
  const b0 = blo & 0xffff,
    b1 = blo >>> 16,
    b2 = bhi & 0xffff,
    b3 = bhi >>> 16;
  let c = a0 * b0;
  const r0 = c & 0xffff;
  c = Math.floor(c / 65536) + a0 * b1 + a1 * b0;
  const r1 = c % 65536;
  c = Math.floor(c / 65536) + a0 * b2 + a1 * b1 + a2 * b0;
  const r2 = c % 65536;
  c = Math.floor(c / 65536) + a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0;
  const r3 = c % 65536;
  c = Math.floor(c / 65536) + a1 * b3 + a2 * b2 + a3 * b1;
  const r4 = c % 65536;
  c = Math.floor(c / 65536) + a2 * b3 + a3 * b2;
  const r5 = c % 65536;
  c = Math.floor(c / 65536) + a3 * b3;
  const r6 = c % 65536;
  const r7 = Math.floor(c / 65536) % 65536;
  out[0] = r0 | (r1 << 16);
  out[1] = r2 | (r3 << 16);
  out[2] = r4 | (r5 << 16);
  out[3] = r6 | (r7 << 16);
}

/**
 * Unsigned 128 / 64 division of `n[0..3]` by (dlo, dhi): quotient into `n[0..1]`,
 * remainder into `n[2..3]`. Returns false (quotient overflow, #DE) when the quotient does
 * not fit 64 bits. The divisor must be non-zero.
 */
export function divu128(n: Int32Array, dlo: number, dhi: number): boolean {
  const d = (dhi >>> 0) * 4294967296 + (dlo >>> 0);
  // Overflow iff high 64 bits of the dividend >= divisor.
  const nh = n[3] >>> 0,
    nl = n[2] >>> 0;
  if (nh > dhi >>> 0 || (nh === dhi >>> 0 && nl >= dlo >>> 0)) return false;
  if (nh === 0 && nl === 0 && n[1] >>> 0 < 0x200000 && d <= 9007199254740991) {
    const v = (n[1] >>> 0) * 4294967296 + (n[0] >>> 0);
    const q = Math.floor(v / d);
    const r = v - q * d;
    n[0] = q % 4294967296;
    n[1] = Math.floor(q / 4294967296);
    n[2] = r % 4294967296;
    n[3] = Math.floor(r / 4294967296);
    return true;
  }
  // Restoring division, one bit per step; the remainder stays below 2^64.
  let r0 = n[2],
    r1 = n[3];
  let q0 = n[0],
    q1 = n[1];
  for (let i = 0; i < 64; i++) {
    const carry = r1 >>> 31;
    r1 = (r1 << 1) | (r0 >>> 31);
    r0 = (r0 << 1) | (q1 >>> 31);
    q1 = (q1 << 1) | (q0 >>> 31);
    q0 <<= 1;
    if (carry || r1 >>> 0 > dhi >>> 0 || (r1 >>> 0 === dhi >>> 0 && r0 >>> 0 >= dlo >>> 0)) {
      const l = (r0 >>> 0) - (dlo >>> 0);
      r0 = l | 0;
      r1 = ((r1 >>> 0) - (dhi >>> 0) - (l < 0 ? 1 : 0)) | 0;
      q0 |= 1;
    }
  }
  n[0] = q0;
  n[1] = q1;
  n[2] = r0;
  n[3] = r1;
  return true;
}

/** Computes the deferred status flags into `s.flags` (no-op when none are deferred). */
export function materialize(s: AluState): void {
  const k = s.lz;
  if (k === Lazy.None) return;
  const sz = s.lzSz;
  const hi = s.hi;
  const m = MASK[sz];
  const a = (s.lzA & m) >>> 0;
  const b = (s.lzB & m) >>> 0;
  switch (k) {
    case Lazy.Add:
      if (sz === 8) add64(s, s.lzA, s.lzAh, s.lzB, s.lzBh, 0);
      else add(s, a, b, 0, sz);
      break;
    case Lazy.Sub:
      if (sz === 8) sub64(s, s.lzA, s.lzAh, s.lzB, s.lzBh, 0);
      else sub(s, a, b, 0, sz);
      break;
    case Lazy.Logic:
      if (sz === 8) logic64(s, s.lzA, s.lzAh);
      else logic(s, a, sz);
      break;
    default: {
      const cf = s.flags & CF;
      if (k === Lazy.Inc) {
        if (sz === 8) add64(s, s.lzA, s.lzAh, 1, 0, 0);
        else add(s, a, 1, 0, sz);
      } else if (sz === 8) sub64(s, s.lzA, s.lzAh, 1, 0, 0);
      else sub(s, a, 1, 0, sz);
      s.flags = (s.flags & ~CF) | cf;
    }
  }
  s.hi = hi;
  s.lz = Lazy.None;
}

/** The carry flag, deferred or not. */
export function lazyCF(s: AluState): number {
  const sz = s.lzSz;
  switch (s.lz) {
    case Lazy.None:
    case Lazy.Inc:
    case Lazy.Dec:
      return s.flags & CF;
    case Lazy.Logic:
      return 0;
    case Lazy.Sub:
      if (sz === 8) {
        return s.lzAh >>> 0 < s.lzBh >>> 0 || (s.lzAh === s.lzBh && s.lzA >>> 0 < s.lzB >>> 0)
          ? CF
          : 0;
      }
      return (s.lzA & MASK[sz]) >>> 0 < (s.lzB & MASK[sz]) >>> 0 ? CF : 0;
    default: {
      if (sz === 8) {
        const l = (s.lzA >>> 0) + (s.lzB >>> 0);
        return (s.lzAh >>> 0) + (s.lzBh >>> 0) + (l > 0xffffffff ? 1 : 0) > 0xffffffff ? CF : 0;
      }
      const m = MASK[sz];
      return ((s.lzA & m) >>> 0) + ((s.lzB & m) >>> 0) > m >>> 0 ? CF : 0;
    }
  }
}

/**
 * Evaluates condition code `cc` (jcc/setcc/cmovcc) with the status flags possibly
 * deferred: sub/cmp, logic and add are decided from their operands; the parity
 * conditions and the rest materialize first.
 */
export function condLazy(s: AluState, cc: number): boolean {
  const k = s.lz;
  if (k === Lazy.None || cc >> 1 === 5 || k >= Lazy.Inc) {
    materialize(s);
    return cond(s.flags, cc);
  }
  const sz = s.lzSz;
  let f: number;
  if (sz === 8) {
    const al = s.lzA,
      ah = s.lzAh;
    if (k === Lazy.Logic) {
      f = ((al | ah) === 0 ? ZF : 0) | (ah < 0 ? SF : 0);
    } else {
      const bl = s.lzB,
        bh = s.lzBh;
      let rl: number, rh: number, cf: boolean, of: number;
      if (k === Lazy.Sub) {
        rl = (al - bl) | 0;
        rh = (ah - bh - (al >>> 0 < bl >>> 0 ? 1 : 0)) | 0;
        cf = ah >>> 0 < bh >>> 0 || (ah === bh && al >>> 0 < bl >>> 0);
        of = (ah ^ bh) & (ah ^ rh);
      } else {
        const l = (al >>> 0) + (bl >>> 0);
        rl = l | 0;
        const h = (ah >>> 0) + (bh >>> 0) + (l > 0xffffffff ? 1 : 0);
        rh = h | 0;
        cf = h > 0xffffffff;
        of = (ah ^ rh) & (bh ^ rh);
      }
      f = ((rl | rh) === 0 ? ZF : 0) | (rh < 0 ? SF : 0) | (cf ? CF : 0) | (of < 0 ? OF : 0);
    }
  } else {
    // Align the operands' sign bit with bit 31 so one set of formulas serves every size.
    const sh = 32 - sz * 8;
    const a = s.lzA << sh;
    if (k === Lazy.Logic) {
      f = (a === 0 ? ZF : 0) | (a < 0 ? SF : 0);
    } else {
      const b = s.lzB << sh;
      let r: number, cf: boolean, of: number;
      if (k === Lazy.Sub) {
        r = (a - b) | 0;
        cf = a >>> 0 < b >>> 0;
        of = (a ^ b) & (a ^ r);
      } else {
        r = (a + b) | 0;
        cf = r >>> 0 < a >>> 0;
        of = (a ^ r) & (b ^ r);
      }
      f = (r === 0 ? ZF : 0) | (r < 0 ? SF : 0) | (cf ? CF : 0) | (of < 0 ? OF : 0);
    }
  }
  return cond(f, cc);
}

/** High 32 bits of the unsigned 32×32-bit product of a and b. */
export function mulhu32(a: number, b: number): number {
  const a0 = a & 0xffff,
    a1 = a >>> 16,
    b0 = b & 0xffff,
    b1 = b >>> 16;
  let t = a0 * b0;
  t = a1 * b0 + (t >>> 16);
  const w1 = t & 0xffff;
  const w2 = t >>> 16;
  t = a0 * b1 + w1;
  return (a1 * b1 + w2 + (t >>> 16)) | 0;
}

/** Signed 64×64 → 128-bit multiply into `w` (four 32-bit limbs, least significant first). */
export function muls128(w: Int32Array, alo: number, ahi: number, blo: number, bhi: number): void {
  mulu128(w, alo, ahi, blo, bhi);
  // Signed correction of the high 64 bits: subtract b if a < 0, a if b < 0.
  if (ahi < 0) {
    const l = (w[2] >>> 0) - (blo >>> 0);
    w[2] = l | 0;
    w[3] = (w[3] - bhi - (l < 0 ? 1 : 0)) | 0;
  }
  if (bhi < 0) {
    const l = (w[2] >>> 0) - (alo >>> 0);
    w[2] = l | 0;
    w[3] = (w[3] - ahi - (l < 0 ? 1 : 0)) | 0;
  }
}

/**
 * Two- and three-operand imul of `sz`-byte operands (a, b as read: unsigned below 2^32 for
 * sizes 1–4, halves for 8); `w` is 4 limbs of scratch. Returns the low half of the
 * truncated product (unsigned for sizes 1–4) with the high half in `s.hi` (size 8). CF = OF
 * = signed overflow; SF and PF of the low result, ZF = AF = 0 (undefined in the SDM; what
 * Intel hardware gives).
 */
export function imul(
  s: AluState,
  w: Int32Array,
  al: number,
  ah: number,
  bl: number,
  bh: number,
  sz: number,
): number {
  s.lz = Lazy.None;
  let over: boolean;
  let r: number;
  let rh = 0;
  let est = 0;
  if (sz === 8 && ah === al >> 31 && bh === bl >> 31) {
    // Both factors fit 32 bits: the product fits 64 (no overflow); 16-bit limbs keep it exact.
    const a1 = al >> 16,
      a0 = al & 0xffff,
      b1 = bl >> 16,
      b0 = bl & 0xffff;
    r = Math.imul(al, bl);
    rh = (a1 * b1 + Math.floor(((a1 * b0 + a0 * b1) * 65536 + a0 * b0) / 4294967296)) | 0;
    over = false;
    s.flags = (s.flags & ~STATUS) | ((rh >>> 31) << 7) | PARITY[r & 0xff];
  } else if (
    (sz === 8 &&
      Math.abs((est = (ah * 4294967296 + (al >>> 0)) * (bh * 4294967296 + (bl >>> 0)))) < 4.6e18) ||
    est > 1e19 ||
    est < -1e19
  ) {
    // A double estimate of the product decides overflow when it is far from ±2^63
    // (below 2^62 in magnitude: none; above 10^19: overflow); the low 64 bits are exact.
    r = Math.imul(al, bl);
    rh = (Math.imul(ah, bl) + Math.imul(al, bh) + mulhu32(al, bl)) | 0;
    over = est > 1e19 || est < -1e19;
    s.flags = (s.flags & ~STATUS) | ((rh >>> 31) << 7) | PARITY[r & 0xff];
  } else if (sz === 8) {
    muls128(w, al, ah, bl, bh);
    r = w[0];
    rh = w[1];
    over = w[2] !== w[1] >> 31 || w[3] !== w[1] >> 31;
    s.flags = (s.flags & ~STATUS) | ((rh >>> 31) << 7) | PARITY[r & 0xff];
  } else {
    const sh = 32 - sz * 8;
    const p = ((al << sh) >> sh) * ((bl << sh) >> sh);
    r = sz === 4 ? Math.imul(al, bl) : p & MASK[sz];
    over = sz === 4 ? p !== (r | 0) : (p << sh) >> sh !== p;
    r = (r & MASK[sz]) >>> 0;
    s.flags = (s.flags & ~STATUS) | (((r >>> TOPBIT[sz]) & 1) << 7) | PARITY[r & 0xff];
  }
  if (over) s.flags |= CF | OF;
  s.hi = rh;
  return r;
}
