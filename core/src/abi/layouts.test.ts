/**
 * The common ABI structs, laid out by data models the core does not know: the catalog is
 * complete, the arch holes take the model's parts, and the model's counts and choices
 * (legacy vCPUs, event words, where wc_sec_hi lives, byte order) shape shared_info.
 *
 * Each arch package checks its own models against gcc (`describeGoldenLayouts` in
 * `@hvkit/core/testing`, golden data from core/scripts/gen-struct-golden.sh).
 */
import { describe, expect, it } from "vitest";
import { readdirSync } from "node:fs";
import { ABI_STRUCTS, abiStructsOf } from "./catalog.js";
import { StructDef } from "../structs.js";
import { START_INFO, SHARED_INFO, VCPU_INFO, VCPU_TIME_INFO } from "./xen.js";
import { SRING_HEADER, sringSlots } from "./ring.js";
import { CALLBACK_REGISTER } from "./callback.js";
import { TEST_ILP32, TEST_LP64_BE, TEST_LP64_LE } from "../testing/data-models.js";

const MODELS = [TEST_LP64_LE, TEST_LP64_BE, TEST_ILP32];

describe("catalog", () => {
  it("every named struct exported by core/src/abi is in the catalog", async () => {
    const dir = new URL("./", import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"));
    expect(files).toContain("catalog.ts");
    const inCatalog = new Set<StructDef>(ABI_STRUCTS);
    const missing: string[] = [];
    let seen = 0;
    for (const f of files) {
      const mod = (await import(new URL(f, dir).href)) as Record<string, unknown>;
      for (const [exportName, value] of Object.entries(mod)) {
        if (!(value instanceof StructDef) || value.name === "") continue;
        seen++;
        if (!inCatalog.has(value)) missing.push(`${f}: ${exportName} (${value.name})`);
      }
    }
    expect(missing).toEqual([]);
    expect(seen).toBeGreaterThanOrEqual(ABI_STRUCTS.length);
  });

  it("catalog names are unique", () => {
    const names = ABI_STRUCTS.map((d) => d.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });

  it("abiStructsOf adds the model's own structs after the common ones", () => {
    const all = abiStructsOf(TEST_LP64_LE);
    expect(all.slice(0, ABI_STRUCTS.length)).toEqual(ABI_STRUCTS);
    expect(all.slice(ABI_STRUCTS.length)).toEqual(TEST_LP64_LE.structs);
  });

  it.each(MODELS.map((m) => [m.name, m] as const))("every struct lays out in %s", (_n, m) => {
    for (const def of abiStructsOf(m)) expect(def.layout(m).size, def.name).toBeGreaterThan(0);
  });
});

describe("model-independent sizes", () => {
  it("the shared ring header is 64 bytes and vcpu_time_info 32 in every model", () => {
    for (const m of MODELS) {
      expect(SRING_HEADER.layout(m).size).toBe(64);
      expect(VCPU_TIME_INFO.layout(m).size).toBe(32);
    }
  });
  it("a ring of 112-byte slots holds 32 in a 4 KiB page", () => {
    expect(sringSlots(4096, 112)).toBe(32);
    expect(sringSlots(4096, 4096)).toBe(0);
  });
  it("start_info follows the model's long width (1168 bytes LP64, 1112 ILP32)", () => {
    expect(START_INFO.layout(TEST_LP64_LE).size).toBe(1168);
    expect(START_INFO.layout(TEST_ILP32).size).toBe(1112);
  });
});

describe("arch holes filled by the model", () => {
  it("vcpu_info's arch member is the model's arch_vcpu_info", () => {
    const l = VCPU_INFO.layout(TEST_LP64_LE);
    const part = TEST_LP64_LE.archParts.archVcpuInfo.layout(TEST_LP64_LE);
    expect(l.sizeOf("arch")).toBe(part.size);
    expect(l.offsetOf("arch.fault_addr")).toBe(l.offsetOf("arch"));
    expect(l.offsetOf("time")).toBe(l.offsetOf("arch") + part.size);
  });
  it("shared_info: legacyMaxVcpus slots, xenUlong*8 event words, the arch tail last", () => {
    for (const m of MODELS) {
      const l = SHARED_INFO.layout(m);
      const vi = VCPU_INFO.layout(m).size;
      expect(l.sizeOf("vcpu_info")).toBe(m.legacyMaxVcpus * vi);
      expect(() => l.offsetOf(`vcpu_info.${m.legacyMaxVcpus}`)).toThrow();
      expect(l.sizeOf("evtchn_pending")).toBe(m.xenUlong * 8 * m.xenUlong);
      expect(l.sizeOf("evtchn_mask")).toBe(l.sizeOf("evtchn_pending"));
      const arch = m.archParts.archSharedInfo.layout(m);
      expect(l.sizeOf("arch")).toBe(arch.size);
      expect(l.size).toBe(l.offsetOf("arch") + arch.size);
    }
  });
  it("wc_sec_hi follows wc_nsec unless the model puts it in the arch part", () => {
    const lp = SHARED_INFO.layout(TEST_LP64_LE);
    expect(lp.offsetOf("wc_sec_hi")).toBe(lp.offsetOf("wc_nsec") + 4);
    expect(() => lp.offsetOf("arch.wc_sec_hi")).toThrow();
    const ilp = SHARED_INFO.layout(TEST_ILP32);
    expect(() => ilp.offsetOf("wc_sec_hi")).toThrow();
    expect(ilp.sizeOf("arch.wc_sec_hi")).toBe(4);
  });
  it("callback_register's address is the model's xen_callback_t", () => {
    expect(CALLBACK_REGISTER.layout(TEST_LP64_LE).sizeOf("address")).toBe(8);
    const l = CALLBACK_REGISTER.layout(TEST_ILP32);
    expect(l.sizeOf("address")).toBe(8);
    expect(l.offsetOf("address.ip")).toBe(8);
    expect(l.size).toBe(12);
  });
  it("layouts are cached per model object", () => {
    expect(SHARED_INFO.layout(TEST_LP64_LE)).toBe(SHARED_INFO.layout(TEST_LP64_LE));
    expect(SHARED_INFO.layout(TEST_LP64_LE)).not.toBe(SHARED_INFO.layout(TEST_LP64_BE));
  });
});

describe("byte order", () => {
  it("writes start_info fields big-endian in a big-endian model and reads them back", () => {
    const v = new DataView(new ArrayBuffer(2048));
    const l = START_INFO.layout(TEST_LP64_BE);
    l.set(v, 0, "nr_pages", 0x0102030405060708n);
    l.set(v, 0, "flags", 0xa0b0c0d0);
    l.set(v, 0, "console.domU.evtchn", 7);
    l.setString(v, 0, "magic", "xen-3.0-powerpc64HV");
    expect([...new Uint8Array(v.buffer, 32, 8)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...new Uint8Array(v.buffer, 48, 4)]).toEqual([0xa0, 0xb0, 0xc0, 0xd0]);
    expect(v.getUint8(80 + 3)).toBe(7);
    expect(l.get(v, 0, "nr_pages")).toBe(0x0102030405060708n);
    expect(l.get(v, 0, "flags")).toBe(0xa0b0c0d0);
    expect(l.getString(v, 0, "magic")).toBe("xen-3.0-powerpc64HV");
  });
  it("writes them little-endian in a little-endian model", () => {
    const v = new DataView(new ArrayBuffer(2048));
    START_INFO.layout(TEST_LP64_LE).set(v, 0, "nr_pages", 0x0102030405060708n);
    expect(v.getUint8(32)).toBe(8);
  });
});
