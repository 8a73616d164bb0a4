/**
 * The PV MMU's rules, checked on hand-built page tables: what validation accepts and
 * refuses (with Xen's error numbers), type and reference counting, pinning, the
 * hypervisor's L4 slots and the read-only M2P, and the `_PAGE_USER` adjustment of 64-bit
 * PV entries.
 */
import { describe, expect, it } from "vitest";
import { Domain, Errno, PhysicalMemory } from "@hvkit/core";
import {
  claimXenFrames,
  checkDescriptor,
  isCanonical,
  PageFlag,
  PageType,
  Pte,
  PTE_HI_GUEST_KERNEL,
  PV64_PAGING,
  PvMmu,
  RO_MPT_VIRT_START,
  shareXenFrame,
  XEN_L4_FIRST,
  type PvPagingFormat,
} from "./pv-mmu.js";

const P = Pte.P | Pte.A;
const RW = Pte.P | Pte.RW | Pte.A | Pte.D;

function setup(frames = 256, format: PvPagingFormat = PV64_PAGING, linearPt = true) {
  const memory = new PhysicalMemory(4096, frames, "little");
  const flushes: string[] = [];
  const freed: number[] = [];
  const mmu = new PvMmu(
    memory,
    format,
    {
      flushAll: (d) => flushes.push(`all d${d.id}`),
      flushVa: (d, va) => flushes.push(`va d${d.id} ${va.toString(16)}`),
      invalidateCode: () => {},
    },
    (n) => claimXenFrames(memory, n),
    (mfn) => freed.push(mfn),
    linearPt,
  );
  const d = new Domain(1, false, "pv");
  const own = (mfn: number): number => {
    memory.frameTable.owner[mfn] = d.id;
    return mfn;
  };
  return { memory, mmu, d, own, flushes, freed, ft: memory.frameTable };
}

describe("PvMmu", () => {
  it("validates a 4-level table chain, taking one type reference per level and Writable on data", () => {
    const { mmu, d, own, ft } = setup();
    const [l4, l3, l2, l1, data] = [10, 11, 12, 13, 14].map(own);
    mmu.writeEntry(l4 * 4096, l3, RW, 0);
    mmu.writeEntry(l3 * 4096, l2, RW, 0);
    mmu.writeEntry(l2 * 4096, l1, RW, 0);
    mmu.writeEntry(l1 * 4096, data, RW, 0);
    mmu.writeEntry(l1 * 4096 + 8, l1, P, 0); // the L1 mapped read-only: allowed
    expect(mmu.getPageAndType(l4, PageType.L4, d)).toBe(0);
    expect([ft.type[l4], ft.type[l3], ft.type[l2], ft.type[l1], ft.type[data]]).toEqual([
      PageType.L4,
      PageType.L3,
      PageType.L2,
      PageType.L1,
      PageType.Writable,
    ]);
    expect([ft.typeCount[l3], ft.typeCount[l1], ft.typeCount[data]]).toEqual([1, 1, 1]);
    expect(ft.refCount[l1]).toBe(2); // from the L2 entry and from its own read-only mapping
    // Releasing the root releases everything below it.
    mmu.putPageAndType(l4, d);
    expect([ft.typeCount[l4], ft.typeCount[l3], ft.typeCount[l1], ft.typeCount[data]]).toEqual([
      0, 0, 0, 0,
    ]);
    expect(ft.refCount[data]).toBe(0);
  });

  it("refuses a writable mapping of a page-table page (−EBUSY) and rolls back what it took", () => {
    const { mmu, d, own, ft } = setup();
    const [l1, data] = [20, 21].map(own);
    mmu.writeEntry(l1 * 4096, data, RW, 0);
    mmu.writeEntry(l1 * 4096 + 8, l1, RW, 0);
    expect(mmu.getPageAndType(l1, PageType.L1, d)).toBe(-Errno.EBUSY);
    expect(ft.typeCount[l1]).toBe(0);
    expect(ft.typeCount[data]).toBe(0);
    expect(ft.refCount[data]).toBe(0);
  });

  it("refuses a frame the domain does not own and flags outside Xen's allowed set", () => {
    const { mmu, d, own } = setup();
    const [l1, l2] = [30, 31].map(own);
    mmu.writeEntry(l1 * 4096, 40, P, 0); // frame 40 is free, not the domain's
    expect(mmu.getPageAndType(l1, PageType.L1, d)).toBe(-Errno.EBUSY);
    mmu.writeEntry(l1 * 4096, 0, 0, 0);
    mmu.writeEntry(l2 * 4096, l1, RW | Pte.PSE, 0); // superpage in an L2: disallowed
    expect(mmu.getPageAndType(l2, PageType.L2, d)).toBe(-Errno.EINVAL);
    mmu.writeEntry(l2 * 4096, l1, RW | Pte.PCD, 0); // cache attributes above L1: disallowed
    expect(mmu.getPageAndType(l2, PageType.L2, d)).toBe(-Errno.EINVAL);
    mmu.writeEntry(l1 * 4096, own(41), RW | Pte.PCD, 0); // in an L1 only a privileged domain may
    expect(mmu.getPageAndType(l1, PageType.L1, d)).toBe(-Errno.EINVAL);
  });

  it("an upper-level entry must point at a frame of the next lower type", () => {
    const { mmu, d, own } = setup();
    const [l3, l3b, data] = [50, 51, 52].map(own);
    mmu.writeEntry(data * 4096, 0, 0, 0);
    expect(mmu.getPageAndType(data, PageType.Writable, d)).toBe(0);
    mmu.writeEntry(l3 * 4096, data, RW, 0); // data is Writable, cannot be an L2
    expect(mmu.getPageAndType(l3, PageType.L3, d)).toBe(-Errno.EINVAL);
    mmu.writeEntry(l3b * 4096, l3b, RW, 0); // a writable self-reference (linear) is refused
    expect(mmu.getPageAndType(l3b, PageType.L3, d)).toBe(-Errno.EINVAL);
  });

  it("adds _PAGE_USER to every entry of a 64-bit PV table and tags kernel-only L1 mappings", () => {
    const { mmu, d, own, memory } = setup();
    const [l2, l1, a, b] = [60, 61, 62, 63].map(own);
    mmu.writeEntry(l2 * 4096, l1, Pte.P | Pte.RW, 0);
    mmu.writeEntry(l1 * 4096, a, Pte.P | Pte.RW, 0);
    mmu.writeEntry(l1 * 4096 + 8, b, Pte.P | Pte.US, 0);
    expect(mmu.getPageAndType(l2, PageType.L2, d)).toBe(0);
    expect(memory.read32(l2 * 4096) & Pte.US).toBe(Pte.US);
    expect(memory.read32(l1 * 4096) & Pte.US).toBe(Pte.US);
    expect(memory.read32(l1 * 4096 + 4) & PTE_HI_GUEST_KERNEL).toBe(PTE_HI_GUEST_KERNEL);
    expect(memory.read32(l1 * 4096 + 8) & Pte.G).toBe(Pte.G); // user mapping: global
    expect(memory.read32(l1 * 4096 + 12) & PTE_HI_GUEST_KERNEL).toBe(0);
  });

  it("fills Xen's L4 slot 256 with the read-only M2P and refuses guest writes to slots 256–271", () => {
    const { mmu, d, own, memory } = setup();
    const l4 = own(70);
    mmu.writeEntry(l4 * 4096 + 300 * 8, 0, 0, 0);
    expect(mmu.getPageAndType(l4, PageType.L4, d)).toBe(0);
    expect(
      PvMmu.frameOf(
        memory.read32(l4 * 4096 + XEN_L4_FIRST * 8),
        memory.read32(l4 * 4096 + XEN_L4_FIRST * 8 + 4),
      ),
    ).toBe(mmu.m2pL3);
    expect(mmu.modEntry(l4 * 4096 + 256 * 8, 0, 0, d, false)).toBe(-Errno.EINVAL);
    expect(mmu.modEntry(l4 * 4096 + 271 * 8, 0, 0, d, false)).toBe(-Errno.EINVAL);
    // The M2P reads back through the guest's own table, read-only.
    mmu.setM2p(77, 5);
    const pa = mmu.translate(l4, RO_MPT_VIRT_START + 77n * 8n, false);
    expect(pa).toBe(mmu.m2pBase + 77 * 8);
    expect(memory.view.getBigUint64(pa, true)).toBe(5n);
    expect(mmu.translate(l4, RO_MPT_VIRT_START + 77n * 8n, true)).toBe(-1);
    expect(mmu.getM2p(78)).toBe(-1);
  });

  it("modEntry swaps references, preserves A/D on request and flushes the domain's TLBs", () => {
    const { mmu, d, own, ft, memory, flushes } = setup();
    const [l1, a, b] = [80, 81, 82].map(own);
    expect(mmu.getPageAndType(l1, PageType.L1, d)).toBe(0);
    expect(mmu.modEntry(l1 * 4096, a * 4096 + RW, 0, d, false)).toBe(0);
    expect(ft.typeCount[a]).toBe(1);
    expect(mmu.modEntry(l1 * 4096, b * 4096 + (Pte.P | Pte.RW), 0, d, true)).toBe(0);
    expect(ft.typeCount[a]).toBe(0);
    expect(ft.refCount[a]).toBe(0);
    expect(ft.typeCount[b]).toBe(1);
    expect(memory.read32(l1 * 4096) & (Pte.A | Pte.D)).toBe(Pte.A | Pte.D);
    expect(flushes).toContain("all d1");
    // A refused update leaves the old entry in place.
    expect(mmu.modEntry(l1 * 4096, l1 * 4096 + RW, 0, d, false)).toBe(-Errno.EBUSY);
    expect(PvMmu.frameOf(memory.read32(l1 * 4096), memory.read32(l1 * 4096 + 4))).toBe(b);
  });

  it("modEntry writes the entry asked for when validating its target adjusts other entries", () => {
    const { mmu, d, own, ft, memory } = setup();
    const [l4, l3, l2, l1, data] = [90, 91, 92, 93, 94].map(own);
    expect(mmu.getPageAndType(l4, PageType.L4, d)).toBe(0);
    mmu.writeEntry(l3 * 4096 + 511 * 8, l2, RW, 0);
    mmu.writeEntry(l2 * 4096 + 511 * 8, l1, RW, 0);
    mmu.writeEntry(l1 * 4096 + 511 * 8, data, RW, 0);
    // The new L4 entry names the L3; validating it validates (and adjusts) the L2 and L1.
    expect(mmu.modEntry(l4 * 4096 + 255 * 8, l3 * 4096 + RW, 0, d, false)).toBe(0);
    expect(PvMmu.frameOf(memory.read32(l4 * 4096 + 255 * 8), 0)).toBe(l3);
    expect([ft.type[l3], ft.type[l2], ft.type[l1]]).toEqual([
      PageType.L3,
      PageType.L2,
      PageType.L1,
    ]);
  });

  it("a frame its owner gave back is freed with its last general reference, not before", () => {
    const { mmu, d, own, ft, freed } = setup();
    const [l1, data, kept] = [90, 91, 92].map(own);
    expect(mmu.getPageAndType(l1, PageType.L1, d)).toBe(0);
    expect(mmu.modEntry(l1 * 4096, data * 4096 + RW, 0, d, false)).toBe(0);
    expect(mmu.modEntry(l1 * 4096 + 8, data * 4096 + P, 0, d, false)).toBe(0);
    expect(mmu.modEntry(l1 * 4096 + 16, kept * 4096 + P, 0, d, false)).toBe(0);
    ft.released[data] = 1; // decrease_reservation while mapped twice
    expect(mmu.modEntry(l1 * 4096, 0, 0, d, false)).toBe(0);
    expect(freed).toEqual([]);
    expect(mmu.modEntry(l1 * 4096 + 8, 0, 0, d, false)).toBe(0);
    expect(freed).toEqual([data]);
    // A frame still allocated is not freed when its mappings go.
    expect(mmu.modEntry(l1 * 4096 + 16, 0, 0, d, false)).toBe(0);
    expect(ft.refCount[kept]).toBe(0);
    expect(freed).toEqual([data]);
    // A refused writable mapping of a released frame drops the reference it took.
    ft.released[kept] = 1;
    ft.refCount[kept] = 1;
    expect(mmu.getPageAndType(kept, PageType.L1, d)).toBe(0);
    expect(mmu.modEntry(l1 * 4096, kept * 4096 + RW, 0, d, false)).toBe(-Errno.EBUSY);
    expect(freed).toEqual([data]);
    mmu.putPageAndType(kept, d);
    expect(freed).toEqual([data]);
    mmu.putPage(kept);
    expect(freed).toEqual([data, kept]);
  });

  it("shared hypervisor frames map writable but never take a page type", () => {
    const { mmu, d, own, memory, ft } = setup();
    const [si] = claimXenFrames(memory, 1);
    shareXenFrame(memory, si, d.id);
    const l1 = own(90);
    mmu.writeEntry(l1 * 4096, si, RW, 0);
    expect(mmu.getPageAndType(l1, PageType.L1, d)).toBe(0);
    expect(ft.typeCount[si]).toBe(0);
    expect(ft.flags[si] & PageFlag.Shared).toBe(PageFlag.Shared);
    expect(mmu.getPageAndType(si, PageType.L1, d)).toBe(-Errno.EINVAL);
  });

  it("walks tables for hypervisor accesses, honouring present and writable and setting A/D", () => {
    const { mmu, d, own, memory } = setup();
    const [l4, l3, l2, l1, data] = [100, 101, 102, 103, 104].map(own);
    const va = 0x7f1234567000n;
    const idx = (lvl: number): number => Number((va >> BigInt(12 + 9 * (lvl - 1))) & 511n);
    mmu.writeEntry(l4 * 4096 + idx(4) * 8, l3, Pte.P | Pte.RW, 0);
    mmu.writeEntry(l3 * 4096 + idx(3) * 8, l2, Pte.P | Pte.RW, 0);
    mmu.writeEntry(l2 * 4096 + idx(2) * 8, l1, Pte.P | Pte.RW, 0);
    mmu.writeEntry(l1 * 4096 + idx(1) * 8, data, Pte.P, 0);
    expect(mmu.translate(l4, va + 0x10n, false)).toBe(data * 4096 + 0x10);
    expect(mmu.translate(l4, va, true)).toBe(-1);
    expect(memory.read32(l1 * 4096 + idx(1) * 8) & Pte.A).toBe(Pte.A);
    expect(mmu.l1eAddress(l4, va)).toBe(l1 * 4096 + idx(1) * 8);
    expect(mmu.l1eAddress(l4, 0x1000n)).toBe(-1);
    expect(mmu.translate(l4, 0x0000800000000000n, false)).toBe(-1); // non-canonical
    void d;
  });
});

/** The PAE format of 32-bit PV guests: 3 levels, no L3 linear entries. */
const PAE_PAGING: PvPagingFormat = { levels: 3, longMode: false };

describe("linear page tables (get_*_linear_pagetable)", () => {
  /** Validated, empty L4 tables of `d` (each holding one type reference, as a pin). */
  function tables(t: ReturnType<typeof setup>, level: PageType, ...mfns: number[]): number[] {
    for (const m of mfns) {
      t.own(m);
      expect(t.mmu.getPageAndType(m, level, t.d)).toBe(0);
    }
    return mfns;
  }
  const entry = (table: number, slot: number): number => table * 4096 + slot * 8;

  it("an L4 may map itself read-only, taking nothing; never writable, not even by the fast path (XSA-182)", () => {
    const t = setup();
    const { mmu, d, ft, memory } = t;
    const [l4] = tables(t, PageType.L4, 10);
    const before = [ft.refCount[l4], ft.typeCount[l4]];
    expect(mmu.modEntry(entry(l4, 5), l4 * 4096 + P, 0, d, false)).toBe(0);
    expect([ft.refCount[l4], ft.typeCount[l4], ft.linearCount[l4]]).toEqual([...before, 0]);
    // Read through the self-map: slot 5 at every level reaches the L4 itself, read-only.
    const va = (5n << 39n) | (5n << 30n) | (5n << 21n) | (5n << 12n);
    expect(mmu.translate(l4, va + 5n * 8n, false)).toBe(entry(l4, 5));
    expect(mmu.translate(l4, va, true)).toBe(-1);
    // Making it writable needs revalidation, which refuses it; the entry stays.
    expect(mmu.modEntry(entry(l4, 5), l4 * 4096 + RW, 0, d, false)).toBe(-Errno.EINVAL);
    expect(memory.read32(entry(l4, 5)) & Pte.RW).toBe(0);
    expect(mmu.modEntry(entry(l4, 6), l4 * 4096 + RW, 0, d, false)).toBe(-Errno.EINVAL);
    // Accessed/dirty/available bits change in place; removing it gives nothing back.
    expect(mmu.modEntry(entry(l4, 5), l4 * 4096 + P + Pte.D + 0x200, 0, d, false)).toBe(0);
    expect(mmu.modEntry(entry(l4, 5), 0, 0, d, false)).toBe(0);
    expect([ft.refCount[l4], ft.typeCount[l4], ft.linearCount[l4]]).toEqual([...before, 0]);
  });

  it("a table validated with a read-only self-entry keeps no reference to itself", () => {
    const t = setup();
    const { mmu, d, ft, own } = t;
    const l2 = own(20);
    mmu.writeEntry(entry(l2, 3), l2, P, 0);
    expect(mmu.getPageAndType(l2, PageType.L2, d)).toBe(0);
    expect([ft.refCount[l2], ft.typeCount[l2], ft.linearCount[l2]]).toEqual([1, 1, 0]);
    mmu.putPageAndType(l2, d);
    expect([ft.refCount[l2], ft.typeCount[l2]]).toEqual([0, 0]);
    expect(ft.flags[l2] & PageFlag.Validated).toBe(0);
  });

  it("another validated table of the level: a type reference and the linear counts; one direction only", () => {
    const t = setup();
    const { mmu, d, ft } = t;
    const [a, b, c] = tables(t, PageType.L4, 30, 31, 32);
    expect(mmu.modEntry(entry(a, 1), b * 4096 + P, 0, d, false)).toBe(0);
    expect([ft.typeCount[b], ft.refCount[b]]).toEqual([2, 2]);
    expect([ft.linearCount[a], ft.linearCount[b]]).toEqual([1, -1]);
    // B is in linear use: it may hold no linear entry. A holds one: it may be no target.
    expect(mmu.modEntry(entry(b, 1), c * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    expect(mmu.modEntry(entry(c, 1), a * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    // B's and A's own self-entries are still fine.
    expect(mmu.modEntry(entry(b, 2), b * 4096 + P, 0, d, false)).toBe(0);
    expect(mmu.modEntry(entry(a, 2), a * 4096 + P, 0, d, false)).toBe(0);
    // Several tables may map B, and A may map several times.
    expect(mmu.modEntry(entry(c, 1), b * 4096 + P, 0, d, false)).toBe(0);
    expect(mmu.modEntry(entry(a, 3), b * 4096 + P, 0, d, false)).toBe(0);
    expect([ft.linearCount[a], ft.linearCount[b], ft.linearCount[c]]).toEqual([2, -3, 1]);
    expect(ft.typeCount[b]).toBe(4);
    // Writable: refused, counts unchanged.
    expect(mmu.modEntry(entry(a, 4), b * 4096 + RW, 0, d, false)).toBe(-Errno.EINVAL);
    expect(mmu.modEntry(entry(a, 1), b * 4096 + RW, 0, d, false)).toBe(-Errno.EINVAL);
    expect([ft.linearCount[a], ft.linearCount[b], ft.typeCount[b]]).toEqual([2, -3, 4]);
    // Replacing and removing the entries gives everything back.
    expect(mmu.modEntry(entry(a, 1), c * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL); // C holds one
    expect(mmu.modEntry(entry(a, 1), 0, 0, d, false)).toBe(0);
    expect(mmu.modEntry(entry(a, 3), 0, 0, d, false)).toBe(0);
    expect(mmu.modEntry(entry(c, 1), 0, 0, d, false)).toBe(0);
    expect([ft.linearCount[a], ft.linearCount[b], ft.linearCount[c]]).toEqual([0, 0, 0]);
    expect([ft.typeCount[b], ft.refCount[b]]).toEqual([1, 1]);
    // Now the other direction is allowed.
    expect(mmu.modEntry(entry(b, 1), a * 4096 + P, 0, d, false)).toBe(0);
    expect([ft.linearCount[a], ft.linearCount[b]]).toEqual([-1, 1]);
  });

  it("the target must be a validated table of the same level, owned by the domain, as must the table", () => {
    const t = setup();
    const { mmu, d, ft, own } = t;
    const [a, b] = tables(t, PageType.L3, 40, 41);
    const [l4] = tables(t, PageType.L4, 42);
    const [l1] = tables(t, PageType.L1, 43);
    const data = own(44);
    expect(mmu.getPageAndType(data, PageType.Writable, d)).toBe(0);
    // An L3 entry naming an L4, an L1 or a writable page: none is an L2 or an L3.
    expect(mmu.modEntry(entry(a, 0), l4 * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    expect(mmu.modEntry(entry(a, 0), l1 * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    expect(mmu.modEntry(entry(a, 0), data * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    // An L3 typed but not (yet) validated: refused (Xen: PGT_validated clear).
    ft.flags[b] &= ~PageFlag.Validated;
    expect(mmu.modEntry(entry(a, 0), b * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    ft.flags[b] |= PageFlag.Validated;
    expect(mmu.modEntry(entry(a, 0), b * 4096 + P, 0, d, false)).toBe(0);
    // Another domain's L3; or the table, not the target, another domain's.
    const e = new Domain(2, false, "pv");
    const theirs = 45;
    ft.owner[theirs] = e.id;
    expect(mmu.getPageAndType(theirs, PageType.L3, e)).toBe(0);
    expect(mmu.modEntry(entry(a, 1), theirs * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    expect(mmu.modEntry(entry(theirs, 1), b * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    expect([ft.linearCount[theirs], ft.linearCount[b]]).toEqual([0, -1]);
    expect(ft.refCount[theirs]).toBe(1);
  });

  it("linear counts are 16-bit and a full type count refuses (XSA-240); the fast path needs no room", () => {
    const t = setup();
    const { mmu, d, ft } = t;
    const [a, b, c] = tables(t, PageType.L2, 50, 51, 52);
    expect(mmu.modEntry(entry(a, 0), b * 4096 + P, 0, d, false)).toBe(0);
    ft.linearCount[a] = 0x7fff; // as many entries as the count holds
    expect(mmu.modEntry(entry(a, 1), b * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    expect(mmu.modEntry(entry(a, 0), b * 4096 + P + Pte.D, 0, d, false)).toBe(0); // in place
    ft.linearCount[a] = 1;
    ft.linearCount[b] = -0x8000; // in as many tables as the count holds
    expect(mmu.modEntry(entry(c, 0), b * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    ft.linearCount[b] = -1;
    ft.typeCount[b] = 0x7fffffff;
    expect(mmu.modEntry(entry(c, 0), b * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    ft.typeCount[b] = 2;
    expect(mmu.modEntry(entry(c, 0), b * 4096 + P, 0, d, false)).toBe(0);
    expect([ft.linearCount[b], ft.linearCount[c], ft.typeCount[b]]).toEqual([-2, 1, 3]);
  });

  it("a table losing its last reference gives back its linear entries, and the target may go with it", () => {
    const t = setup();
    const { mmu, d, ft, own } = t;
    const [b] = tables(t, PageType.L4, 60);
    const a = own(61);
    mmu.writeEntry(entry(a, 0), a, P, 0);
    mmu.writeEntry(entry(a, 1), b, P, 0);
    expect(mmu.getPageAndType(a, PageType.L4, d)).toBe(0);
    expect([ft.linearCount[a], ft.linearCount[b], ft.typeCount[b]]).toEqual([1, -1, 2]);
    mmu.putPageAndType(b, d); // B's own reference (an unpin): A's entry keeps it an L4
    expect([ft.type[b], ft.typeCount[b], ft.flags[b] & PageFlag.Validated]).toEqual([
      PageType.L4,
      1,
      PageFlag.Validated,
    ]);
    mmu.putPageAndType(a, d);
    expect([ft.typeCount[a], ft.typeCount[b], ft.refCount[a], ft.refCount[b]]).toEqual([
      0, 0, 0, 0,
    ]);
    expect([ft.linearCount[a], ft.linearCount[b]]).toEqual([0, 0]);
    expect(ft.flags[b] & PageFlag.Validated).toBe(0);
  });

  it("a failed validation gives back the linear references it took", () => {
    const t = setup();
    const { mmu, d, ft, own } = t;
    const [b] = tables(t, PageType.L2, 70);
    const a = own(71);
    mmu.writeEntry(entry(a, 0), b, P, 0);
    mmu.writeEntry(entry(a, 1), b, P | Pte.PCD, 0);
    expect(mmu.getPageAndType(a, PageType.L2, d)).toBe(-Errno.EINVAL);
    expect([ft.linearCount[a], ft.linearCount[b], ft.typeCount[b], ft.refCount[b]]).toEqual([
      0, 0, 1, 1,
    ]);
    expect(ft.typeCount[a]).toBe(0);
  });

  it("32-bit PAE guests get L2 linear entries but no L3 ones", () => {
    const t = setup(256, PAE_PAGING);
    const { mmu, d } = t;
    const [l3a, l3b] = tables(t, PageType.L3, 80, 81);
    const [l2a, l2b] = tables(t, PageType.L2, 82, 83);
    expect(mmu.modEntry(entry(l3a, 0), l3a * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    expect(mmu.modEntry(entry(l3a, 0), l3b * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    expect(mmu.modEntry(entry(l2a, 0), l2a * 4096 + P, 0, d, false)).toBe(0);
    expect(mmu.modEntry(entry(l2a, 1), l2b * 4096 + P, 0, d, false)).toBe(0);
  });

  it("with pv-linear-pt=0 every same-level entry is refused, a self-entry too", () => {
    const t = setup(256, PV64_PAGING, false);
    const { mmu, d, own } = t;
    const [a, b] = tables(t, PageType.L4, 90, 91);
    expect(mmu.modEntry(entry(a, 0), a * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    expect(mmu.modEntry(entry(a, 0), b * 4096 + P, 0, d, false)).toBe(-Errno.EINVAL);
    const c = own(92);
    mmu.writeEntry(entry(c, 0), c, P, 0);
    expect(mmu.getPageAndType(c, PageType.L4, d)).toBe(-Errno.EINVAL);
  });
});

describe("descriptor and address checks", () => {
  it("accepts code/data descriptors with DPL forced to 3, refuses most system descriptors", () => {
    const code64 = 0x00af9a00; // present, S, code, DPL 0, L
    expect(checkDescriptor(0xffff, code64)).toEqual({ lo: 0xffff, hi: (code64 | 0x6000) >>> 0 });
    expect(checkDescriptor(0x1234, 0x00af1a00)).toEqual({ lo: 0x1234, hi: 0x00af1a00 }); // not present
    expect(checkDescriptor(0, 0x00008900)).toBeNull(); // available TSS
    expect(checkDescriptor(0, 0x00000f00)).toEqual({ lo: 0, hi: 0x00000f00 }); // not present
    expect(checkDescriptor(0, 0x00000000)).toEqual({ lo: 0, hi: 0 }); // type 0
  });

  it("call gates: DPL moved into the target RPL, DPL 0, target and reserved bits checked", () => {
    // 64-bit guest: a DPL-3 gate to selector 0x0010 (the guest's GDT), offset 0x1000.
    expect(checkDescriptor(0x00101000, 0x0000ec00)).toEqual({ lo: 0x00131000, hi: 0x00008c00 });
    // DPL 0 is raised to the kernel's 3 first.
    expect(checkDescriptor(0x00101000, 0x00008c00)).toEqual({ lo: 0x00131000, hi: 0x00008c00 });
    // Targets: the flat kernel CS and LDT selectors are fine, other Xen selectors are not.
    expect(checkDescriptor(0xe0331000, 0x0000ec00)).not.toBeNull();
    expect(checkDescriptor(0xe0241000, 0x0000ec00)).not.toBeNull(); // TI = 1
    expect(checkDescriptor(0xe0081000, 0x0000ec00)).toBeNull();
    expect(checkDescriptor(0xe0231000, 0x0000ec00)).toBeNull(); // CS32: not a 64-bit guest's kernel CS
    // Reserved bits: 7-0 for 64-bit guests, 7-5 for 32-bit ones (the parameter count is allowed).
    expect(checkDescriptor(0x00101000, 0x0000ec01)).toBeNull();
    expect(checkDescriptor(0x00101000, 0x0000ec01, { pv32: true })).toEqual({
      lo: 0x00131000,
      hi: 0x00008c01,
    });
    expect(checkDescriptor(0x00101000, 0x00008c00, { pv32: true })?.lo).toBe(0x00111000);
    expect(checkDescriptor(0xe0191000, 0x0000ec00, { pv32: true })).not.toBeNull();
  });

  it("32-bit guests: DPL raised to 1, no L, flat segments widened over the M2P area", () => {
    expect(checkDescriptor(0x0000ffff, 0x00cf9a00, { pv32: true })).toEqual({
      lo: 0x0000ffff,
      hi: 0x00cfba00,
    });
    expect(checkDescriptor(0x0000ffff, 0x00af9a00, { pv32: true })).toBeNull();
    // Limit 0xf67ff (4 KiB units): 0xf6800000 > 0xf5800000, widened to 4 GiB.
    expect(checkDescriptor(0x000067ff, 0x00cff300, { pv32: true })).toEqual({
      lo: 0x0000ffff,
      hi: 0x00cff300,
    });
    // A base other than 0 is left alone.
    expect(checkDescriptor(0x100067ff, 0x00cff300, { pv32: true })).toEqual({
      lo: 0x100067ff,
      hi: 0x00cff300,
    });
  });

  it("knows canonical addresses", () => {
    expect(isCanonical(0x00007fffffffffffn)).toBe(true);
    expect(isCanonical(0xffff800000000000n)).toBe(true);
    expect(isCanonical(0x0000800000000000n)).toBe(false);
  });
});
