/**
 * 64- and 128-bit integer arithmetic on 32-bit halves, for the interpreter's doubleword
 * multiply and divide: no BigInt, no allocation (results go into a caller's scratch
 * array). Halves are int32 values (`lo`, `hi`) as the register file holds them.
 *
 * @module
 */

const limbA = new Uint32Array(4);
const limbB = new Uint32Array(4);
const limbP = new Uint32Array(8);

/**
 * The unsigned 128-bit product of two 64-bit values into `out[0..3]` (least significant
 * word first), or the signed product when `signed` (two's complement).
 */
export function mul128(
  out: Int32Array,
  alo: number,
  ahi: number,
  blo: number,
  bhi: number,
  signed: boolean,
): void {
  limbA[0] = alo & 0xffff;
  limbA[1] = alo >>> 16;
  limbA[2] = ahi & 0xffff;
  limbA[3] = ahi >>> 16;
  limbB[0] = blo & 0xffff;
  limbB[1] = blo >>> 16;
  limbB[2] = bhi & 0xffff;
  limbB[3] = bhi >>> 16;
  limbP.fill(0);
  for (let i = 0; i < 4; i++) {
    let carry = 0;
    const a = limbA[i]!;
    for (let j = 0; j < 4; j++) {
      const t = a * limbB[j]! + limbP[i + j]! + carry;
      limbP[i + j] = t & 0xffff;
      carry = Math.floor(t / 0x10000);
    }
    limbP[i + 4] = carry;
  }
  for (let k = 0; k < 4; k++) out[k] = limbP[2 * k]! | (limbP[2 * k + 1]! << 16) | 0;
  if (signed) {
    // Two's complement: subtract b·2^64 when a < 0 and a·2^64 when b < 0.
    if (ahi < 0) sub64Into(out, blo, bhi);
    if (bhi < 0) sub64Into(out, alo, ahi);
  }
}

/** out[2..3] −= (lo, hi). */
function sub64Into(out: Int32Array, lo: number, hi: number): void {
  const l = (out[2]! >>> 0) - (lo >>> 0);
  const borrow = l < 0 ? 1 : 0;
  out[2] = l | 0;
  out[3] = (out[3]! - hi - borrow) | 0;
}

/**
 * Unsigned 64-bit division: quotient into `out[0..1]`, remainder into `out[2..3]`
 * (lo, hi). The divisor must not be zero.
 */
export function divu64(out: Int32Array, nlo: number, nhi: number, dlo: number, dhi: number): void {
  if (nhi === 0 && dhi === 0) {
    const n = nlo >>> 0;
    const d = dlo >>> 0;
    const q = Math.floor(n / d);
    out[0] = q | 0;
    out[1] = 0;
    out[2] = (n - q * d) | 0;
    out[3] = 0;
    return;
  }
  // Restoring division, one bit at a time.
  let qlo = 0;
  let qhi = 0;
  let rlo = 0;
  let rhi = 0;
  const dl = dlo >>> 0;
  const dh = dhi >>> 0;
  for (let i = 63; i >= 0; i--) {
    const bit = i >= 32 ? (nhi >>> (i - 32)) & 1 : (nlo >>> i) & 1;
    // Remainder may need 65 bits: keep the bit shifted out.
    const top = rhi >>> 31;
    rhi = ((rhi << 1) | (rlo >>> 31)) >>> 0;
    rlo = ((rlo << 1) | bit) >>> 0;
    if (top || rhi > dh || (rhi === dh && rlo >= dl)) {
      const l = rlo - dl;
      rhi = (rhi - dh - (l < 0 ? 1 : 0)) >>> 0;
      rlo = l >>> 0;
      if (i >= 32) qhi |= 1 << (i - 32);
      else qlo |= 1 << i;
    }
  }
  out[0] = qlo | 0;
  out[1] = qhi | 0;
  out[2] = rlo | 0;
  out[3] = rhi | 0;
}

/** Count leading zeros of a 64-bit value. */
export function clz64(lo: number, hi: number): number {
  return hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(lo);
}
