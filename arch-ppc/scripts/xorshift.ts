/**
 * The corpus generators' PRNG: xorshift32 (Marsaglia), deterministic from its seed, so a
 * generator reproduces its files bit for bit.
 */
export function xorshift32(seed: number): () => number {
  let s = seed | 0 || 1;
  return (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}
