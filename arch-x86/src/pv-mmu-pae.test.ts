/**
 * The PV MMU's 32-bit PAE (PV32) rules, as Xen's mm.c has them for compat guests: the
 * 4-entry L3 with slot 3's dedicated L2 (PGT_pae_xen_l2) and Xen's slots in it holding
 * the compat M2P, the L3 flag mask and adjustment, the slots mod_l3_entry/mod_l2_entry
 * refuse, the per-vCPU compat L4, and guest addresses limited to 4 GiB.
 */
import { describe, expect, it } from "vitest";
import { Domain, Errno, PhysicalMemory } from "@hvkit/core";
import {
  claimXenFrames,
  COMPAT_L2_FIRST_XEN_SLOT,
  MACH2PHYS_COMPAT_VIRT_START,
  PageFlag,
  PageType,
  Pte,
  PV32_PAGING,
  PvMmu,
  XEN_L4_FIRST,
} from "./pv-mmu.js";

const RW = Pte.P | Pte.RW | Pte.A | Pte.D;
const P = Pte.P;

function setup(frames = 256) {
  const memory = new PhysicalMemory(4096, frames, "little");
  const mmu = new PvMmu(
    memory,
    PV32_PAGING,
    { flushAll: () => {}, flushVa: () => {}, invalidateCode: () => {} },
    (n) => claimXenFrames(memory, n),
    () => {},
  );
  const d = new Domain(1, false, "pv");
  const own = (mfn: number): number => {
    memory.frameTable.owner[mfn] = d.id;
    return mfn;
  };
  return { memory, mmu, d, own, ft: memory.frameTable, dv: memory.view };
}

/** An L3 whose slots 0 and 3 point at L2s, each with an L1 mapping one data page. */
function chain(s: ReturnType<typeof setup>) {
  const [l3, l2a, l2x, l1, data] = [10, 11, 12, 13, 14].map(s.own);
  s.mmu.writeEntry(l3 * 4096, l2a, P, 0);
  s.mmu.writeEntry(l3 * 4096 + 24, l2x, P, 0);
  s.mmu.writeEntry(l2a * 4096, l1, RW, 0);
  s.mmu.writeEntry(l1 * 4096, data, RW, 0);
  return { l3, l2a, l2x, l1, data };
}

describe("PvMmu, 32-bit PAE PV", () => {
  it("validates an L3: slot 3's L2 typed pae_xen_l2, RW|US added to L3 entries, entries 4+ cleared", () => {
    const s = setup();
    const { l3, l2a, l2x, data } = chain(s);
    s.dv.setUint32(l3 * 4096 + 8 * 7, 0x12345001, true); // garbage beyond the 4 entries
    expect(s.mmu.getPageAndType(l3, PageType.L3, s.d)).toBe(0);
    expect([s.ft.type[l2a], s.ft.type[l2x], s.ft.type[data]]).toEqual([
      PageType.L2,
      PageType.L2,
      PageType.Writable,
    ]);
    expect(s.ft.flags[l2x] & PageFlag.PaeXenL2).toBe(PageFlag.PaeXenL2);
    expect(s.ft.flags[l2a] & PageFlag.PaeXenL2).toBe(0);
    expect(s.dv.getUint32(l3 * 4096, true) & 0xfff).toBe(P | Pte.RW | Pte.US);
    expect(s.dv.getUint32(l3 * 4096 + 56, true)).toBe(0);
  });

  it("fills the slot-3 L2's Xen slots with the compat M2P, readable through the tables", () => {
    const s = setup();
    const { l3, l2x } = chain(s);
    expect(s.mmu.getPageAndType(l3, PageType.L3, s.d)).toBe(0);
    expect(COMPAT_L2_FIRST_XEN_SLOT).toBe(428);
    const e = s.dv.getUint32(l2x * 4096 + COMPAT_L2_FIRST_XEN_SLOT * 8, true);
    expect(PvMmu.frameOf(e, 0)).toBe(s.mmu.compatM2pL1s[0]);
    expect(e & Pte.RW).toBe(0);
    s.mmu.setM2p(77, 0x1234);
    const pa = s.mmu.translate(l3, BigInt(MACH2PHYS_COMPAT_VIRT_START + 77 * 4), false);
    expect(pa).toBe(s.mmu.compatM2pBase + 77 * 4);
    expect(s.dv.getUint32(pa, true)).toBe(0x1234);
    expect(s.mmu.translate(l3, BigInt(MACH2PHYS_COMPAT_VIRT_START), true)).toBe(-1);
    // The L2's Xen slots hold no references: dropping the L3 releases only the guest's.
    s.mmu.putPageAndType(l3, s.d);
    expect([s.ft.typeCount[l2x], s.ft.flags[l2x] & PageFlag.PaeXenL2]).toEqual([0, 0]);
  });

  it("refuses an L3 whose slot 3 is empty, or whose slot-3 L2 is also in slot 0", () => {
    const s = setup();
    const { l3, l2a } = chain(s);
    s.dv.setBigUint64(l3 * 4096 + 24, 0n, true);
    expect(s.mmu.getPageAndType(l3, PageType.L3, s.d)).toBe(-Errno.EINVAL);
    expect([s.ft.typeCount[l3], s.ft.typeCount[l2a], s.ft.refCount[l2a]]).toEqual([0, 0, 0]);
    s.mmu.writeEntry(l3 * 4096 + 24, l2a, P, 0);
    expect(s.mmu.getPageAndType(l3, PageType.L3, s.d)).toBe(-Errno.EINVAL);
    expect([s.ft.typeCount[l2a], s.ft.refCount[l2a]]).toEqual([0, 0]);
  });

  it("refuses a second L3 sharing the first one's slot-3 L2", () => {
    const s = setup();
    const { l3, l2x } = chain(s);
    expect(s.mmu.getPageAndType(l3, PageType.L3, s.d)).toBe(0);
    const other = s.own(20);
    s.mmu.writeEntry(other * 4096 + 24, l2x, P, 0);
    expect(s.mmu.getPageAndType(other, PageType.L3, s.d)).toBe(-Errno.EINVAL);
    expect(s.ft.typeCount[l2x]).toBe(1);
  });

  it("applies l3_disallow_mask: PWT, PCD, PS, G and NX refused; RW, US, A, D, AVAIL accepted", () => {
    for (const [lo, hi, rc] of [
      [Pte.PWT, 0, -Errno.EINVAL],
      [Pte.PCD, 0, -Errno.EINVAL],
      [Pte.PSE, 0, -Errno.EINVAL],
      [Pte.G, 0, -Errno.EINVAL],
      [0, 0x80000000, -Errno.EINVAL],
      [Pte.RW | Pte.US | Pte.A | Pte.D | Pte.AVAIL, 0, 0],
    ]) {
      const s = setup();
      const { l3, l2a } = chain(s);
      s.mmu.writeEntry(l3 * 4096, l2a, P | lo, hi);
      expect(s.mmu.getPageAndType(l3, PageType.L3, s.d)).toBe(rc);
    }
  });

  it("mod_l3_entry: slots 0-2 change like any entry, slot 3 is refused with -EINVAL", () => {
    const s = setup();
    const { l3, l2a } = chain(s);
    expect(s.mmu.getPageAndType(l3, PageType.L3, s.d)).toBe(0);
    expect(s.mmu.modEntry(l3 * 4096 + 8, l2a * 4096 + P, 0, s.d, false)).toBe(0);
    expect(s.ft.typeCount[l2a]).toBe(2);
    expect(s.mmu.modEntry(l3 * 4096 + 24, 0, 0, s.d, false)).toBe(-Errno.EINVAL);
    expect(s.mmu.modEntry(l3 * 4096 + 16, l2a * 4096 + (P | Pte.PCD), 0, s.d, false)).toBe(
      -Errno.EINVAL,
    );
  });

  it("mod_l2_entry: the slot-3 L2's Xen slots are -EPERM, its guest slots and other L2s change", () => {
    const s = setup();
    const { l3, l2a, l2x, l1 } = chain(s);
    expect(s.mmu.getPageAndType(l3, PageType.L3, s.d)).toBe(0);
    expect(s.mmu.modEntry(l2x * 4096 + COMPAT_L2_FIRST_XEN_SLOT * 8, 0, 0, s.d, false)).toBe(
      -Errno.EPERM,
    );
    expect(s.mmu.modEntry(l2x * 4096 + 8, l1 * 4096 + RW, 0, s.d, false)).toBe(0);
    expect(s.mmu.modEntry(l2a * 4096 + 511 * 8, l1 * 4096 + RW, 0, s.d, false)).toBe(0);
    expect(s.ft.typeCount[l1]).toBe(3);
  });

  it("makes per-vCPU compat L4s with Xen's slots and the guest's L3 in slot 0", () => {
    const s = setup();
    const l4 = s.mmu.newCompatL4();
    expect(s.ft.owner[l4]).not.toBe(s.d.id);
    // Not the guest's: it cannot map it.
    expect(s.mmu.getPageFromEntry(1, l4 * 4096 + RW, 0, s.d, 13)).toBe(-Errno.EBUSY);
    expect(PvMmu.frameOf(s.dv.getUint32(l4 * 4096 + XEN_L4_FIRST * 8, true), 0)).toBe(s.mmu.m2pL3);
    s.mmu.setCompatRoot(l4, 10);
    expect(s.dv.getUint32(l4 * 4096, true)).toBe(10 * 4096 + (P | Pte.RW | Pte.US | Pte.A));
    s.mmu.setCompatRoot(l4, -1);
    expect(s.dv.getBigUint64(l4 * 4096, true)).toBe(0n);
  });

  it("translates only addresses below 4 GiB, and writes only through writable entries", () => {
    const s = setup();
    const { l3, data } = chain(s);
    expect(s.mmu.getPageAndType(l3, PageType.L3, s.d)).toBe(0);
    expect(s.mmu.translate(l3, 0x123n, true)).toBe(data * 4096 + 0x123);
    expect(s.mmu.translate(l3, 0x100000123n, false)).toBe(-1);
    expect(s.mmu.l1eAddress(l3, 0x1000n)).toBe(13 * 4096 + 8);
    expect(s.mmu.l1eAddress(l3, -1n)).toBe(-1);
  });
});
