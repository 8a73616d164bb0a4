/**
 * Grant host mappings in the PV MMU (create_grant_pv_mapping / replace_grant_pv_mapping):
 * the L1 entry a grant writes, what it releases, what it refuses, and that ordinary
 * updates over a grant entry release nothing the grant holds.
 */
import { describe, expect, it } from "vitest";
import {
  Domain,
  Errno,
  GNTMAP_APPLICATION_MAP,
  GNTMAP_CONTAINS_PTE,
  GNTMAP_READONLY,
  PhysicalMemory,
} from "@hvkit/core";
import {
  claimXenFrames,
  PageType,
  Pte,
  PTE_HI_GNTTAB,
  PTE_HI_GUEST_KERNEL,
  PTE_HI_NX,
  PV64_PAGING,
  PvMmu,
} from "./pv-mmu.js";

const RW = Pte.P | Pte.RW | Pte.A | Pte.D;

function setup() {
  const memory = new PhysicalMemory(4096, 256, "little");
  const flushes: number[] = [];
  const mmu = new PvMmu(
    memory,
    PV64_PAGING,
    { flushAll: (d) => flushes.push(d.id), flushVa: () => {}, invalidateCode: () => {} },
    (n) => claimXenFrames(memory, n),
    () => {},
  );
  const d = new Domain(1, false, "pv");
  const granter = new Domain(2, false, "pv");
  const ft = memory.frameTable;
  for (const f of [10, 11, 12, 13, 14]) ft.owner[f] = d.id;
  ft.owner[40] = granter.id;
  // L4 10 → L3 11 → L2 12 → L1 13; va 0 maps data frame 14.
  mmu.writeEntry(10 * 4096, 11, RW, 0);
  mmu.writeEntry(11 * 4096, 12, RW, 0);
  mmu.writeEntry(12 * 4096, 13, RW, 0);
  mmu.writeEntry(13 * 4096, 14, RW, 0);
  expect(mmu.getPageAndType(10, PageType.L4, d)).toBe(0);
  return { memory, mmu, d, ft, flushes };
}

describe("PvMmu grant mappings", () => {
  it("writes a grant entry (P|A|D|RW, NX, _PAGE_GNTTAB, kernel-only) and releases the old one", () => {
    const { mmu, d, ft, flushes } = setup();
    expect(ft.typeCount[14]).toBe(1);
    expect(mmu.createGrantMapping(10, 0n, 40, 0, d)).toBe(0);
    const lo = mmu.readEntryLo(13 * 4096);
    const hi = mmu.readEntryHi(13 * 4096);
    expect(PvMmu.frameOf(lo, hi)).toBe(40);
    expect(lo & 0xfff).toBe(Pte.P | Pte.RW | Pte.A | Pte.D | Pte.US);
    expect((hi & (PTE_HI_NX | PTE_HI_GNTTAB | PTE_HI_GUEST_KERNEL)) >>> 0).toBe(
      (PTE_HI_NX | PTE_HI_GNTTAB | PTE_HI_GUEST_KERNEL) >>> 0,
    );
    // The entry takes nothing of its own; the old mapping of frame 14 was released.
    expect([ft.refCount[40], ft.typeCount[40]]).toEqual([0, 0]);
    expect([ft.refCount[14], ft.typeCount[14]]).toEqual([0, 0]);
    expect(flushes).toContain(d.id);
    expect(mmu.translate(10, 0x10n, true)).toBe(40 * 4096 + 0x10);
    // Wrong frame or wrong access: refused, entry unchanged.
    expect(mmu.replaceGrantMapping(10, 0n, 41, 0n, 0, d)).toBe(-1);
    expect(mmu.replaceGrantMapping(10, 0n, 40, 0n, GNTMAP_READONLY, d)).toBe(-1);
    expect(mmu.replaceGrantMapping(10, 0n, 40, 0n, 0, d)).toBe(0);
    expect(mmu.readEntryLo(13 * 4096)).toBe(0);
    expect(mmu.translate(10, 0n, false)).toBe(-1);
  });

  it("read-only and application maps; contains_pte names the entry by machine address", () => {
    const { mmu, d } = setup();
    expect(
      mmu.createGrantMapping(10, 13n * 4096n + 8n, 40, GNTMAP_CONTAINS_PTE | GNTMAP_READONLY, d),
    ).toBe(0);
    expect(mmu.translate(10, 0x1000n, false)).toBe(40 * 4096);
    expect(mmu.translate(10, 0x1000n, true)).toBe(-1);
    expect(mmu.readEntryHi(13 * 4096 + 8) & PTE_HI_GUEST_KERNEL).toBe(PTE_HI_GUEST_KERNEL);
    expect(mmu.createGrantMapping(10, 0x2000n, 40, GNTMAP_APPLICATION_MAP, d)).toBe(0);
    expect(mmu.readEntryLo(13 * 4096 + 16) & (Pte.US | Pte.G)).toBe(Pte.US | Pte.G);
    expect(mmu.readEntryHi(13 * 4096 + 16) & PTE_HI_GUEST_KERNEL).toBe(0);
    // Misaligned or foreign PTE addresses, unmapped linear addresses, non-canonical ones.
    expect(mmu.createGrantMapping(10, 13n * 4096n + 4n, 40, GNTMAP_CONTAINS_PTE, d)).toBe(-1);
    expect(mmu.createGrantMapping(10, 40n * 4096n, 40, GNTMAP_CONTAINS_PTE, d)).toBe(-1);
    expect(mmu.createGrantMapping(10, 14n * 4096n, 40, GNTMAP_CONTAINS_PTE, d)).toBe(-1);
    expect(mmu.createGrantMapping(10, 0x40000000n, 40, 0, d)).toBe(-1);
    expect(mmu.createGrantMapping(10, 0x0000800000000000n, 40, 0, d)).toBe(-1);
  });

  it("guests cannot forge grant entries, and an ordinary update over one releases nothing", () => {
    const { mmu, d, ft } = setup();
    expect(mmu.modEntry(13 * 4096 + 8, (14 * 4096) | RW, PTE_HI_GNTTAB, d, false)).toBe(
      -Errno.EINVAL,
    );
    expect(mmu.createGrantMapping(10, 0x1000n, 40, 0, d)).toBe(0);
    ft.refCount[40] = 1; // what the grant holds
    ft.type[40] = PageType.Writable;
    ft.typeCount[40] = 1;
    expect(mmu.modEntry(13 * 4096 + 8, 0, 0, d, false)).toBe(0);
    expect([ft.refCount[40], ft.typeCount[40]]).toEqual([1, 1]);
  });
});

describe("PvMmu unmap_and_replace", () => {
  it("steals the entry at new_addr into the grant's slot; on mismatch releases it", () => {
    const { mmu, d, ft } = setup();
    mmu.writeEntry(13 * 4096 + 16, 14, RW, 0); // va 0x2000 maps frame 14 too
    ft.refCount[14]++;
    expect(ft.refCount[14]).toBe(2);
    expect(mmu.createGrantMapping(10, 0x1000n, 40, 0, d)).toBe(0);
    // Not with contains_pte.
    expect(mmu.replaceGrantMapping(10, 13n * 4096n + 8n, 40, 0x2000n, GNTMAP_CONTAINS_PTE, d)).toBe(
      -1,
    );
    expect(mmu.replaceGrantMapping(10, 0x1000n, 40, 0x2000n, 0, d)).toBe(0);
    expect(mmu.translate(10, 0x1000n, false)).toBe(14 * 4096);
    expect(mmu.translate(10, 0x2000n, false)).toBe(-1);
    expect(ft.refCount[14]).toBe(2); // the moved entry keeps its reference
    // A mismatch (read-only asked of a writable grant entry) releases the stolen entry.
    expect(mmu.createGrantMapping(10, 0x3000n, 40, 0, d)).toBe(0);
    expect(mmu.replaceGrantMapping(10, 0x3000n, 40, 0x1000n, GNTMAP_READONLY, d)).toBe(-1);
    expect(mmu.translate(10, 0x1000n, false)).toBe(-1);
    expect(ft.refCount[14]).toBe(1);
    expect(mmu.translate(10, 0x3000n, false)).toBe(40 * 4096);
  });
});
