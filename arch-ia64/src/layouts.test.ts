/**
 * The IA-64 data model. No IA-64 cross compiler is packaged, so instead of golden data
 * this checks what follows from arch-ia64.h and the LP64 psABI: every struct without an
 * arch part lays out exactly as gcc lays it out for x86_64 (same widths, same natural
 * alignment), and the arch parts have the sizes arch-ia64.h gives them.
 */
import { describe, expect, it } from "vitest";
import { ABI_STRUCTS, SHARED_INFO, START_INFO, VCPU_INFO, type StructDef } from "@hvkit/core";
import { X86_64_DATA_MODEL } from "@hvkit/arch-x86";
import { ARCH_SHARED_INFO_IA64, ARCH_VCPU_INFO_IA64 } from "./abi.js";
import { IA64_DATA_MODEL } from "./data-model.js";

/** Common structs with an arch hole (directly or inside), which differ from x86_64's. */
const ARCH_DEPENDENT = new Set<string>([
  "shared_info",
  "vcpu_info",
  "xen_domctl_createdomain",
  "xen_domctl_getdomaininfo",
  "xen_domctl_u",
  "xen_domctl",
]);

describe("IA-64 (LP64 little-endian; no gcc here)", () => {
  const plain = ABI_STRUCTS.filter((d: StructDef) => !ARCH_DEPENDENT.has(d.name));
  it.each(plain.map((d) => [d.name, d] as const))("%s as on x86_64", (_n, def) => {
    const a = def.layout(IA64_DATA_MODEL);
    const b = def.layout(X86_64_DATA_MODEL);
    expect(a.size).toBe(b.size);
    for (const p of b.paths()) expect(a.offsetOf(p), p).toBe(b.offsetOf(p));
  });
  it("arch parts from arch-ia64.h: empty arch_vcpu_info, 272-byte arch_shared_info, 64 legacy vCPUs", () => {
    expect(ARCH_VCPU_INFO_IA64.layout(IA64_DATA_MODEL).size).toBe(0);
    expect(VCPU_INFO.layout(IA64_DATA_MODEL).size).toBe(48);
    expect(ARCH_SHARED_INFO_IA64.layout(IA64_DATA_MODEL).size).toBe(272);
    const s = SHARED_INFO.layout(IA64_DATA_MODEL);
    expect(s.sizeOf("vcpu_info")).toBe(64 * 48);
    expect(s.offsetOf("evtchn_pending")).toBe(3072);
    expect(s.offsetOf("arch")).toBe(3072 + 1024 + 16);
    expect(s.size).toBe(3072 + 1024 + 16 + 272);
    expect(() => s.offsetOf("vcpu_info.63")).not.toThrow();
  });
  it("has its published sizes and is little-endian", () => {
    for (const { struct, size } of IA64_DATA_MODEL.publishedSizes) {
      expect(struct.layout(IA64_DATA_MODEL).size, struct.name).toBe(size);
    }
    const v = new DataView(new ArrayBuffer(2048));
    START_INFO.layout(IA64_DATA_MODEL).set(v, 0, "nr_pages", 0x0102030405060708n);
    expect(v.getUint8(32)).toBe(8);
  });
});
