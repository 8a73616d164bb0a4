/**
 * The 64-bit PowerPC data model against gcc (golden data from
 * core/scripts/gen-struct-golden.sh, powerpc64-linux-gnu-gcc -m64 -mbig-endian), its
 * published sizes and its byte order.
 */
import { describe, expect, it } from "vitest";
import { SHARED_INFO, VCPU_INFO } from "@hvkit/core";
import { describeGoldenLayouts, readGoldenLayouts } from "@hvkit/core/testing";
import { PPC64_DATA_MODEL } from "./data-model.js";

describeGoldenLayouts(readGoldenLayouts(new URL("./golden/layouts.json", import.meta.url)), [
  PPC64_DATA_MODEL,
]);

describe("ppc64", () => {
  it("has its published sizes", () => {
    for (const { struct, size } of PPC64_DATA_MODEL.publishedSizes) {
      expect(struct.layout(PPC64_DATA_MODEL).size, struct.name).toBe(size);
    }
  });
  it("puts the 64-bit evtchn_pending_sel of vcpu 3 in a 48-byte vcpu_info, big-endian", () => {
    expect(VCPU_INFO.layout(PPC64_DATA_MODEL).size).toBe(48);
    const v = new DataView(new ArrayBuffer(4096));
    const l = SHARED_INFO.layout(PPC64_DATA_MODEL);
    expect(l.offsetOf("vcpu_info.3.evtchn_pending_sel")).toBe(3 * 48 + 8);
    l.set(v, 0, "vcpu_info.3.evtchn_pending_sel", 1n);
    expect(v.getUint8(3 * 48 + 15)).toBe(1);
  });
});
