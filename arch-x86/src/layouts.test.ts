/**
 * The x86 data models against gcc (golden data from core/scripts/gen-struct-golden.sh:
 * `gcc -m64` for x86_64, `gcc -m32` for x86_32), and the sizes and offsets Xen's x86
 * headers and boot contract publish.
 */
import { describe, expect, it } from "vitest";
import { MMU_UPDATE, MMUEXT_OP, SHARED_INFO, START_INFO } from "@hvkit/core";
import { describeGoldenLayouts, readGoldenLayouts } from "@hvkit/core/testing";
import { CPU_USER_REGS_X86, TRAP_INFO } from "./abi.js";
import { X86_32_DATA_MODEL, X86_64_DATA_MODEL } from "./data-model.js";

const MODELS = [X86_64_DATA_MODEL, X86_32_DATA_MODEL];

describeGoldenLayouts(readGoldenLayouts(new URL("./golden/layouts.json", import.meta.url)), MODELS);

describe("published sizes", () => {
  it.each(MODELS.map((m) => [m.name, m] as const))("%s", (_n, model) => {
    expect(model.publishedSizes.length).toBeGreaterThan(0);
    for (const { struct, size } of model.publishedSizes) {
      expect(struct.layout(model).size, struct.name).toBe(size);
    }
  });

  it("shared_info is 3136 bytes for 64-bit guests and 2344 for 32-bit ones", () => {
    expect(SHARED_INFO.layout(X86_64_DATA_MODEL).size).toBe(3136);
    expect(SHARED_INFO.layout(X86_32_DATA_MODEL).size).toBe(2344);
    expect(SHARED_INFO.layout(X86_32_DATA_MODEL).offsetOf("arch.wc_sec_hi")).toBe(2340);
  });

  it("start_info offsets from the x86_64 boot contract", () => {
    const l = START_INFO.layout(X86_64_DATA_MODEL);
    const want: Record<string, number> = {
      magic: 0,
      nr_pages: 32,
      shared_info: 40,
      flags: 48,
      store_mfn: 56,
      store_evtchn: 64,
      "console.domU.mfn": 72,
      "console.dom0.info_off": 72,
      "console.dom0.info_size": 76,
      "console.domU.evtchn": 80,
      pt_base: 88,
      nr_pt_frames: 96,
      mfn_list: 104,
      mod_start: 112,
      mod_len: 120,
      cmd_line: 128,
      first_p2m_pfn: 1152,
      nr_p2m_frames: 1160,
    };
    for (const [p, off] of Object.entries(want)) expect(l.offsetOf(p), p).toBe(off);
  });

  it("small fixed structs", () => {
    expect(MMU_UPDATE.layout(X86_32_DATA_MODEL).size).toBe(16);
    expect(MMUEXT_OP.layout(X86_64_DATA_MODEL).size).toBe(24);
    expect(MMUEXT_OP.layout(X86_32_DATA_MODEL).size).toBe(12);
    expect(TRAP_INFO.layout(X86_64_DATA_MODEL).size).toBe(16);
    expect(TRAP_INFO.layout(X86_32_DATA_MODEL).size).toBe(8);
    expect(CPU_USER_REGS_X86.layout(X86_64_DATA_MODEL).size).toBe(200);
    expect(CPU_USER_REGS_X86.layout(X86_32_DATA_MODEL).size).toBe(68);
  });
});
