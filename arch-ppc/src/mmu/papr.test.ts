/**
 * The PAPR page-table hcalls: H_ENTER's slot choice and validation, H_READ, H_REMOVE and
 * H_PROTECT with their AVPN/AND conditions, H_CLEAR_REF/H_CLEAR_MOD, the dispatcher's
 * token and privilege checks, and properties over random arguments.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Msr } from "../cpu/cpu-api.js";
import {
  FOREIGN,
  FRAMES,
  faultOf,
  guest,
  hEnter,
  primaryPteg,
  pte0,
  pte1,
  relocate,
  slbmte,
  slbRb,
  slbRs,
} from "./mmu-fixture.js";
import { HFlag, HStatus, PaprHcall, paprHcall } from "./papr.js";

const VSID = 0x2468acen;
const U64 = (1n << 64n) - 1n;
/** What H_ENTER keeps of dword 0 and dword 1 (hypervisor-reserved, pp0/ts and bits 52:53 cleared). */
const KEEP0 = U64 & ~0x60n;
const KEEP1 = U64 & ~((0xc0000000n << 32n) | 0xc00n);

function call(
  mmu: ReturnType<typeof guest>["mmu"],
  nr: number,
  ...args: bigint[]
): [number, bigint[]] {
  const out: bigint[] = [];
  return [paprHcall(mmu, nr, args, out), out];
}

const ownedFrame = fc.integer({ min: 0, max: FRAMES - 1 }).filter((g) => g !== FOREIGN);
/** A dword 1 for an owned frame with memory attributes (W = I = 0). */
const memoryDw1 = fc
  .tuple(ownedFrame, fc.bigInt({ min: 0n, max: U64 }))
  .map(([g, r]) => (r & ~((((1n << 50n) - 1n) << 12n) | 0x60n)) | (BigInt(g) << 12n));
const dw0Arb = fc.bigInt({ min: 0n, max: U64 }).map((v) => (v & ~0x4n) | 1n);

describe("H_ENTER and H_READ", () => {
  it("H_READ returns what H_ENTER entered, less the bits reserved to the hypervisor", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 14 - 1 }),
        dw0Arb,
        memoryDw1,
        fc.boolean(),
        (ptex, dw0, dw1, exact) => {
          const { mmu } = guest();
          const [s, slot] = hEnter(mmu, ptex, dw0, dw1, exact);
          expect(s).toBe(HStatus.Success);
          expect(slot).toBe(BigInt(exact ? ptex : ptex & ~7));
          const [r, out] = call(mmu, PaprHcall.H_READ, 0n, slot);
          expect(r).toBe(HStatus.Success);
          expect(out).toEqual([dw0 & KEEP0, dw1 & KEEP1]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("fills the PTEG's first free slot; a ninth entry finds the PTEG full; H_EXACT needs its slot free", () => {
    const { mmu } = guest();
    for (let k = 0; k < 8; k++)
      expect(hEnter(mmu, 16 + 3, pte0(VSID, k), pte1(20, 2))).toEqual([0, BigInt(16 + k)]);
    expect(hEnter(mmu, 16, pte0(VSID, 9), pte1(20, 2))[0]).toBe(HStatus.PtegFull);
    expect(call(mmu, PaprHcall.H_REMOVE, 0n, 21n)[0]).toBe(HStatus.Success);
    expect(hEnter(mmu, 22, pte0(VSID, 9), pte1(20, 2), true)[0]).toBe(HStatus.PtegFull);
    expect(hEnter(mmu, 21, pte0(VSID, 9), pte1(20, 2), true)).toEqual([0, 21n]);
  });

  it("H_READ_4 returns the four entries from ptex & ~3", () => {
    const { mmu } = guest();
    for (let k = 0; k < 4; k++) hEnter(mmu, 40 + k, pte0(VSID, k), pte1(k + 1, 2), true);
    const [r, out] = call(mmu, PaprHcall.H_READ, HFlag.READ_4, 42n);
    expect(r).toBe(HStatus.Success);
    expect(out).toEqual([0, 1, 2, 3].flatMap((k) => [pte0(VSID, k), pte1(k + 1, 2)]));
  });

  it("refuses a ptex beyond the table, a large page, write-through or caching-inhibited memory", () => {
    const { mmu } = guest();
    const ptes = BigInt(mmu.hpt.ptes);
    expect(hEnter(mmu, Number(ptes), pte0(VSID, 0), pte1(1, 2))[0]).toBe(HStatus.Parameter);
    expect(call(mmu, PaprHcall.H_READ, 0n, ptes)[0]).toBe(HStatus.Parameter);
    expect(call(mmu, PaprHcall.H_REMOVE, 0n, ptes)[0]).toBe(HStatus.Parameter);
    expect(call(mmu, PaprHcall.H_PROTECT, 0n, ptes)[0]).toBe(HStatus.Parameter);
    expect(call(mmu, PaprHcall.H_CLEAR_REF, 0n, ptes)[0]).toBe(HStatus.Parameter);
    expect(call(mmu, PaprHcall.H_READ, HFlag.READ_4, ptes + 3n)[0]).toBe(HStatus.Parameter);
    expect(hEnter(mmu, 0, pte0(VSID, 0) | 4n, pte1(1, 2))[0]).toBe(HStatus.Parameter);
    expect(hEnter(mmu, 0, pte0(VSID, 0), pte1(1, 2, 0x40))[0]).toBe(HStatus.Parameter);
    expect(hEnter(mmu, 0, pte0(VSID, 0), pte1(1, 2, 0x20))[0]).toBe(HStatus.Parameter);
    expect(hEnter(mmu, 0, pte0(VSID, 0), pte1(1, 2, 0x18))[0]).toBe(HStatus.Success);
  });

  it("a guest cannot map a frame it does not own", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constant(FOREIGN), fc.integer({ min: FRAMES, max: 2 ** 40 })),
        fc.integer({ min: 0, max: 2 ** 14 - 1 }),
        (gpfn, ptex) => {
          const { mmu } = guest();
          expect(hEnter(mmu, ptex, pte0(VSID, 0), pte1(gpfn, 2))[0]).toBe(HStatus.Parameter);
          expect(mmu.hpt.words.every((w) => w === 0)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it("H_ZERO_PAGE clears the frame before entering it", () => {
    const { mmu, bytes } = guest();
    bytes.fill(0xff, 20 * 4096, 21 * 4096 + 1);
    call(mmu, PaprHcall.H_ENTER, HFlag.ZERO_PAGE, 0n, pte0(VSID, 0), pte1(20, 2));
    expect(bytes.subarray(20 * 4096, 21 * 4096).every((b) => b === 0)).toBe(true);
    expect(bytes[21 * 4096]).toBe(0xff);
  });
});

describe("H_REMOVE and H_PROTECT", () => {
  it("H_REMOVE returns the old entry and the page faults afterwards", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), ownedFrame, (p, gpfn) => {
        const g = guest();
        slbmte(g.cpu, g.mmu, slbRs(VSID), slbRb(2n, 0));
        const [, slot] = hEnter(g.mmu, primaryPteg(VSID, p) * 8, pte0(VSID, p), pte1(gpfn, 2));
        relocate(g.cpu);
        const ea = 0x20000000 + p * 4096;
        g.bytes[gpfn * 4096 + 5] = 0x42;
        expect(g.mmu.read8(0, ea + 5)).toBe(0x42);
        const [r, out] = call(g.mmu, PaprHcall.H_REMOVE, HFlag.AVPN, slot, pte0(VSID, p));
        expect(r).toBe(HStatus.Success);
        expect(out).toEqual([pte0(VSID, p), pte1(gpfn, 2) | 0x100n]);
        expect(faultOf(() => g.mmu.read8(0, ea + 5)) !== null).toBe(true);
        expect(call(g.mmu, PaprHcall.H_REMOVE, 0n, slot)[0]).toBe(HStatus.NotFound);
      }),
      { numRuns: 50 },
    );
  });

  it("H_REMOVE's AVPN and AND conditions leave a non-matching entry in place", () => {
    const { mmu } = guest();
    hEnter(mmu, 8, pte0(VSID, 0), pte1(3, 2), true);
    expect(call(mmu, PaprHcall.H_REMOVE, HFlag.AVPN, 8n, pte0(VSID + 1n, 0))[0]).toBe(
      HStatus.NotFound,
    );
    // dword 0 (VSID 0x2468ace << 12 | V) has no bit 40: the AND condition holds.
    expect(call(mmu, PaprHcall.H_REMOVE, HFlag.ANDCOND, 8n, 1n << 40n)[0]).toBe(HStatus.Success);
    hEnter(mmu, 8, pte0(VSID, 0), pte1(3, 2), true);
    expect(call(mmu, PaprHcall.H_REMOVE, HFlag.ANDCOND, 8n, 1n)[0]).toBe(HStatus.NotFound);
    expect(mmu.hpt.dword(8, 0)).toBe(pte0(VSID, 0));
    // The AVPN comparison ignores dword 0's low seven bits.
    expect(call(mmu, PaprHcall.H_REMOVE, HFlag.AVPN, 8n, pte0(VSID, 0) ^ 0x7fn)[0]).toBe(
      HStatus.Success,
    );
    expect(mmu.hpt.dword(8, 0)).toBe(0n);
  });

  it("H_PROTECT sets PP and N from the flags, keeps the rest, checks the AVPN", () => {
    const { mmu } = guest();
    hEnter(mmu, 8, pte0(VSID, 0), pte1(3, 2, 0x8), true);
    expect(call(mmu, PaprHcall.H_PROTECT, HFlag.AVPN | 1n, 8n, pte0(VSID, 1 << 11))[0]).toBe(
      HStatus.NotFound,
    );
    expect(call(mmu, PaprHcall.H_PROTECT, HFlag.N | 1n, 8n)[0]).toBe(HStatus.Success);
    expect(mmu.hpt.dword(8, 1)).toBe(pte1(3, 1, 0x8 | 0x4));
    expect(call(mmu, PaprHcall.H_PROTECT, 0n, 9n)[0]).toBe(HStatus.NotFound);
  });

  it("H_CLEAR_REF and H_CLEAR_MOD return dword 1 and clear R or C", () => {
    const { mmu } = guest();
    hEnter(mmu, 8, pte0(VSID, 0), pte1(3, 2, 0x180), true);
    expect(call(mmu, PaprHcall.H_CLEAR_REF, 0n, 8n)).toEqual([0, [pte1(3, 2, 0x180)]]);
    expect(call(mmu, PaprHcall.H_CLEAR_MOD, 0n, 8n)).toEqual([0, [pte1(3, 2, 0x80)]]);
    expect(mmu.hpt.dword(8, 1)).toBe(pte1(3, 2));
  });
});

describe("dispatch", () => {
  it("problem state gets H_Privilege; a bad token H_Parameter; a token not implemented H_Function", () => {
    const { mmu, cpu } = guest();
    expect(call(mmu, 0x1c)[0]).toBe(HStatus.Function);
    expect(call(mmu, 0x1d8)[0]).toBe(HStatus.Parameter);
    expect(call(mmu, 0x0a)[0]).toBe(HStatus.Parameter);
    cpu.msrLo = Msr.PR;
    expect(call(mmu, PaprHcall.H_READ, 0n, 0n)[0]).toBe(HStatus.Privilege);
  });

  it("random hcalls never throw, return a PAPR code, and leave only valid memory entries", () => {
    const codes = new Set<number>(Object.values(HStatus));
    const nr = fc.oneof(
      fc.constantFrom(0x04, 0x08, 0x0c, 0x10, 0x14, 0x18),
      fc.integer({ min: -8, max: 0x200 }),
    );
    const word = fc.oneof(
      fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }),
      fc.bigInt({ min: 0n, max: 0x4000n }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(nr, fc.array(word, { maxLength: 7 }), fc.boolean()), {
          minLength: 5,
          maxLength: 30,
        }),
        (calls) => {
          const { mmu, cpu } = guest();
          for (const [n, args, pr] of calls) {
            cpu.msrLo = pr ? Msr.PR : 0;
            const out: bigint[] = [];
            expect(codes.has(paprHcall(mmu, n, args, out))).toBe(true);
            for (const v of out) expect(v >= 0n && v <= U64).toBe(true);
          }
          for (let k = 0; k < mmu.hpt.ptes; k++) {
            if ((mmu.hpt.dword(k, 0) & 1n) === 0n) continue;
            const dw1 = mmu.hpt.dword(k, 1);
            const gpfn = Number((dw1 >> 12n) & ((1n << 50n) - 1n));
            expect(gpfn < FRAMES && gpfn !== FOREIGN && (dw1 & 0x60n) === 0n).toBe(true);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
