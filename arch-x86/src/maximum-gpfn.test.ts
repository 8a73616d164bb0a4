import { describe, expect, it } from "vitest";
import { Domain, PhysicalMemory, SHARED_INFO, type Machine } from "@hvkit/core";
import { X86_32_DATA_MODEL, X86_64_DATA_MODEL } from "./data-model.js";
import { pvMaximumGpfn } from "./maximum-gpfn.js";

/** A machine as far as pvMaximumGpfn looks: its data model and memory. */
function machineOf(model: typeof X86_64_DATA_MODEL): Machine {
  const memory = new PhysicalMemory(4096, 16, "little");
  return { arch: { dataModel: model }, memory } as unknown as Machine;
}

describe("XENMEM_maximum_gpfn for x86 PV (domain_get_maximum_gpfn)", () => {
  it.each([
    ["x86_64", X86_64_DATA_MODEL, 8],
    ["x86_32", X86_32_DATA_MODEL, 4],
  ] as const)("%s: shared_info's arch.max_pfn less one, 0 while it is 0", (_, model, width) => {
    const machine = machineOf(model);
    const d = new Domain(1, false, "pv");
    // No shared_info yet (a domain the toolstack created but did not build).
    expect(pvMaximumGpfn(machine, d)).toBe(0n);
    d.sharedInfoMfn = 5;
    const layout = SHARED_INFO.layout(model);
    expect(layout.sizeOf("arch.max_pfn")).toBe(width);
    // After 32 vcpu_info, the event bitmaps and wc_*: 2048 + 2 × 128 + 12 on x86_32 (whose
    // wc_sec_hi is in arch_shared_info, after it), 2048 + 2 × 512 + 16 on x86_64.
    expect(layout.offsetOf("arch.max_pfn")).toBe(width === 8 ? 3088 : 2316);
    const pa = 5 * 4096 + layout.offsetOf("arch.max_pfn");
    expect(pvMaximumGpfn(machine, d)).toBe(0n);
    const set = (v: bigint): void => {
      if (width === 8) machine.memory.write64(pa, v);
      else machine.memory.write32(pa, Number(v));
    };
    set(1n);
    expect(pvMaximumGpfn(machine, d)).toBe(0n);
    set(0x4000n);
    expect(pvMaximumGpfn(machine, d)).toBe(0x3fffn);
    // The whole unsigned long, whatever the guest wrote there.
    set(width === 8 ? 0xffffffffffffffffn : 0xffffffffn);
    expect(pvMaximumGpfn(machine, d)).toBe(width === 8 ? 0xfffffffffffffffen : 0xfffffffen);
    // Bytes next to the field are not part of it.
    set(0n);
    machine.memory.write32(pa - 4, 0xffffffff);
    machine.memory.write32(pa + width, 0xffffffff);
    expect(pvMaximumGpfn(machine, d)).toBe(0n);
  });
});
