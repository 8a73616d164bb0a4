/**
 * Real-mode storage over a domain's frames: the 42-bit effective address, the RMA bound,
 * holes, accesses across a page (to a frame that is not the next machine frame), and
 * stores that fault leaving memory untouched.
 */
import { describe, expect, it } from "vitest";
import type { Domain, Machine } from "@hvkit/core";
import { STORAGE_FAULT } from "./cpu/cpu-api.js";
import { guestPhysicalToMachine, RealModeStorage, RMA_BYTES } from "./guest-storage.js";

/** A domain of 4 pages whose frames are scattered (pfn 0..3 → mfn 5, 2, 7, hole). */
function setup() {
  const bytes = new Uint8Array(8 * 4096);
  const machine = { memory: { bytes } } as unknown as Machine;
  const domain = { p2m: Int32Array.from([5, 2, 7, -1]) } as unknown as Domain;
  return { bytes, domain, s: new RealModeStorage(machine, domain) };
}

function faultOf(f: () => unknown): typeof STORAGE_FAULT | null {
  try {
    f();
    return null;
  } catch (e) {
    if (e !== STORAGE_FAULT) throw e;
    return { ...STORAGE_FAULT };
  }
}

describe("RealModeStorage", () => {
  it("maps guest-physical through the p2m, ignoring the top 22 EA bits", () => {
    const { bytes, domain, s } = setup();
    s.write32(0, 0x1010, 0x11223344);
    expect([...bytes.subarray(2 * 4096 + 0x10, 2 * 4096 + 0x14)]).toEqual([0x11, 0x22, 0x33, 0x44]);
    expect(s.read32(0xc0000000 | 0, 0x1010)).toBe(0x11223344);
    expect(guestPhysicalToMachine(domain, 0x1010n)).toBe(2 * 4096 + 0x10);
  });

  it("splits accesses across a page into the next guest page's frame", () => {
    const { bytes, s } = setup();
    s.write32(0, 0x0ffe, 0xaabbccdd);
    expect([bytes[5 * 4096 + 0xffe], bytes[5 * 4096 + 0xfff]]).toEqual([0xaa, 0xbb]);
    expect([bytes[2 * 4096], bytes[2 * 4096 + 1]]).toEqual([0xcc, 0xdd]);
    expect(s.read32(0, 0x0ffe)).toBe(0xaabbccdd | 0);
    expect(s.read16(0, 0x0fff)).toBe(0xbbcc);
    s.write64(0, 0x1ffc, 0x01020304, 0x05060708);
    expect(s.read32(0, 0x1ffc)).toBe(0x01020304);
    expect(s.read32(0, 0x2000)).toBe(0x05060708);
    expect(bytes[7 * 4096 + 3]).toBe(0x08);
  });

  it("faults on a hole, beyond the domain or the RMA, and leaves a faulting store unwritten", () => {
    const { bytes, s } = setup();
    expect(faultOf(() => s.read8(0, 0x3000))).toMatchObject({ fetch: false, status: 0x40000000 });
    expect(faultOf(() => s.fetch(0, 0x4000))).toMatchObject({ fetch: true });
    expect(faultOf(() => s.read8(1, 0))).not.toBeNull();
    expect(faultOf(() => s.read8(0, RMA_BYTES))).not.toBeNull();
    const before = bytes.slice();
    const f = faultOf(() => s.write64(0, 0x2ffc, 1, 2));
    expect(f).toMatchObject({ status: 0x40000000 | 0x02000000, eaLo: 0x2ffc + 4 });
    expect(bytes).toEqual(before);
    expect(faultOf(() => s.write32(0, 0x2ffe, 7))).not.toBeNull();
    expect(bytes).toEqual(before);
  });
});
