/**
 * The PAE page walk (SDM vol. 3, 4.4): four PDPTEs at CR3, 2 MiB and 4 KiB pages, the
 * PDPTE's reserved bits and missing rights, accessed/dirty updates; and the long-mode
 * walk still refusing non-canonical addresses.
 */
import { describe, expect, it } from "vitest";
import { PfErr } from "./cpu-api.js";
import {
  Access,
  CR0_PG,
  CR0_WP,
  CR4_PAE,
  EFER_LMA,
  EFER_NXE,
  Paging,
  P_WS,
  P_XS,
} from "./paging.js";

const FRAMES = 64;

/** A PAE machine: PDPT at 0x1020 (32-byte aligned inside frame 1), PD in frame 2, PT in frame 3. */
function paeMachine(): { bytes: Uint8Array; dv: DataView; p: Paging } {
  const bytes = new Uint8Array(FRAMES * 4096);
  const dv = new DataView(bytes.buffer);
  const p = new Paging(bytes, new Uint8Array(FRAMES));
  p.cr0 = CR0_PG | CR0_WP | 1;
  p.cr4 = CR4_PAE;
  p.efer = EFER_NXE;
  p.cr3 = 0x1020;
  return { bytes, dv, p };
}

function entry(dv: DataView, pa: number, lo: number, hi = 0): void {
  dv.setUint32(pa, lo >>> 0, true);
  dv.setUint32(pa + 4, hi >>> 0, true);
}

describe("PAE paging", () => {
  it("walks PDPTE (by VA bits 31-30) → PD → PT to a 4 KiB page and sets A/D below the PDPT", () => {
    const { dv, p } = paeMachine();
    // VA 0xC0403123: PDPTE 3, PDE 2, PTE 3.
    entry(dv, 0x1020 + 3 * 8, 0x2000 | 1);
    entry(dv, 0x2000 + 2 * 8, 0x3000 | 7);
    entry(dv, 0x3000 + 3 * 8, 0x9000 | 7);
    expect(p.walk(0xc0403123 | 0, 0, Access.Write, false)).toBe(0x9123);
    expect(dv.getUint32(0x3000 + 24, true) & 0x60).toBe(0x60);
    expect(dv.getUint32(0x2000 + 16, true) & 0x60).toBe(0x20);
    // The PDPTE has no accessed bit (bit 5 is reserved there).
    expect(dv.getUint32(0x1020 + 24, true)).toBe(0x2001);
  });

  it("maps a 2 MiB page from a PDE with PS", () => {
    const { dv, p } = paeMachine();
    entry(dv, 0x1020, 0x2000 | 1);
    entry(dv, 0x2000 + 8, 0x00000000 | 0x83 | 4);
    expect(p.walk(0x00212345, 0, Access.Read, true)).toBe(0x12345);
  });

  it("faults not-present at each level with the access's error code", () => {
    const { dv, p } = paeMachine();
    expect(p.walk(0x40000000, 0, Access.Write, true)).toBe(-1);
    expect(p.faultCode).toBe(PfErr.W | PfErr.U);
    entry(dv, 0x1020 + 8, 0x2000 | 1);
    expect(p.walk(0x40000000, 0, Access.Read, false)).toBe(-1);
    expect(p.faultCode).toBe(0);
  });

  it("takes a reserved-bit #PF for a PDPTE with RW, US, A, PS or NX set", () => {
    for (const [lo, hi] of [
      [0x2003, 0],
      [0x2005, 0],
      [0x2021, 0],
      [0x2081, 0],
      [0x2001, 0x80000000],
    ]) {
      const { dv, p } = paeMachine();
      entry(dv, 0x1020, lo, hi);
      entry(dv, 0x2000, 0x3000 | 7);
      entry(dv, 0x3000, 0x9000 | 7);
      expect(p.walk(0x123, 0, Access.Read, false)).toBe(-1);
      expect(p.faultCode).toBe(PfErr.RSVD | PfErr.P);
    }
  });

  it("takes rights from the PDE and PTE only: a read-only PTE refuses a write, NX an exec", () => {
    const { dv, p } = paeMachine();
    entry(dv, 0x1020, 0x2000 | 1);
    entry(dv, 0x2000, 0x3000 | 7);
    entry(dv, 0x3000, 0x9000 | 5, 0x80000000);
    expect(p.walk(0x10, 0, Access.Read, true)).toBe(0x9010);
    expect(p.perm[0] & (P_WS | P_XS)).toBe(0);
    expect(p.walk(0x10, 0, Access.Write, false)).toBe(-1);
    expect(p.faultCode).toBe(PfErr.W | PfErr.P);
    p.flush();
    expect(p.walk(0x10, 0, Access.Exec, false)).toBe(-1);
    expect(p.faultCode).toBe(PfErr.I | PfErr.P);
  });

  it("uses only CR3 bits 31-5 for the PDPT", () => {
    const { dv, p } = paeMachine();
    p.cr3 = 0x1020 | 0x18; // PWT/PCD-like low bits are ignored
    entry(dv, 0x1020, 0x2000 | 1);
    entry(dv, 0x2000, 0x3000 | 7);
    entry(dv, 0x3000, 0x5000 | 7);
    expect(p.walk(0x7, 0, Access.Read, false)).toBe(0x5007);
  });

  it("faults every access with 32-bit non-PAE paging (not modelled)", () => {
    const { p } = paeMachine();
    p.cr4 = 0;
    expect(p.walk(0, 0, Access.Read, false)).toBe(-1);
    expect(p.faultCode & PfErr.RSVD).not.toBe(0);
  });

  it("keeps refusing non-canonical addresses in long mode", () => {
    const { p } = paeMachine();
    p.efer = EFER_LMA | EFER_NXE;
    expect(p.walk(0, 0x8000, Access.Read, false)).toBe(-2);
  });
});
