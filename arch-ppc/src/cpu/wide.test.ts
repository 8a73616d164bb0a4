/** The 64/128-bit helpers against BigInt arithmetic. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clz64, divu64, mul128 } from "./wide.js";

const lo = (v: bigint): number => Number(BigInt.asIntN(32, v));
const hi = (v: bigint): number => Number(BigInt.asIntN(32, v >> 32n));
const u128 = (o: Int32Array): bigint =>
  o.reduceRight((acc, w) => (acc << 32n) | BigInt(w >>> 0), 0n);

describe("wide arithmetic", () => {
  const out = new Int32Array(4);
  it("mul128 is the exact unsigned and signed product", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        (a, b) => {
          mul128(out, lo(a), hi(a), lo(b), hi(b), false);
          expect(u128(out)).toBe(a * b);
          mul128(out, lo(a), hi(a), lo(b), hi(b), true);
          expect(u128(out)).toBe(BigInt.asUintN(128, BigInt.asIntN(64, a) * BigInt.asIntN(64, b)));
        },
      ),
    );
  });
  it("divu64 gives quotient and remainder", () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
        (n, d) => {
          divu64(out, lo(n), hi(n), lo(d), hi(d));
          expect(BigInt.asUintN(64, (BigInt(out[1]!) << 32n) | BigInt(out[0]! >>> 0))).toBe(n / d);
          expect(BigInt.asUintN(64, (BigInt(out[3]!) << 32n) | BigInt(out[2]! >>> 0))).toBe(n % d);
        },
      ),
    );
  });
  it("clz64 counts leading zeros", () => {
    expect([clz64(0, 0), clz64(1, 0), clz64(0, 1), clz64(0, -1)]).toEqual([64, 63, 31, 0]);
  });
});
