/**
 * A small machine for the CPU's own tests and benchmark: machine memory with identity-mapped
 * 4-level page tables (2 MiB pages, user and writable) over its low `mapMiB` MiB, and an
 * {@link X86Cpu} in 64-bit mode at CPL 3 with SSE and XSAVE enabled as an OS enables them.
 *
 * @module
 */
import { PhysicalMemory } from "@hvkit/core";
import { X86Cpu } from "./cpu.js";
import { resolveOperands } from "./decode-cache.js";
import { decodeInsn } from "./decode.js";
import { FpuCr, XCR0_SUPPORTED } from "./fpu.js";

/** Machine address of the PML4 built by {@link makeTestCpu}. */
export const TEST_PML4 = 0x1000;

/**
 * Builds memory of `memMiB` MiB whose first `mapMiB` MiB are identity-mapped (2 MiB pages,
 * present, writable, user) and a CPU over it at CPL 3.
 */
export function makeTestCpu(memMiB = 8, mapMiB = memMiB): { cpu: X86Cpu; mem: PhysicalMemory } {
  const mem = new PhysicalMemory(4096, (memMiB << 20) / 4096, "little");
  const v = mem.view;
  // PML4 at 0x1000 -> PDPT at 0x2000 -> PD at 0x3000 with 2 MiB leaves.
  v.setUint32(TEST_PML4, 0x2000 | 7, true);
  v.setUint32(0x2000, 0x3000 | 7, true);
  for (let i = 0; i < mapMiB / 2; i++) v.setUint32(0x3000 + i * 8, ((i << 21) | 0x87) >>> 0, true);
  const cpu = new X86Cpu(mem, decodeInsn, resolveOperands);
  cpu.cr3 = TEST_PML4;
  // As an OS that saves SSE state with fxsave/xsave and takes #XM: CR4.OSFXSR,
  // OSXMMEXCPT, OSXSAVE; CR0.MP and NE; XCR0 x87 | SSE.
  cpu.cr4 |= FpuCr.OSFXSR | FpuCr.OSXMMEXCPT | FpuCr.OSXSAVE;
  cpu.cr0 |= FpuCr.MP | FpuCr.NE;
  cpu.xcr0 = XCR0_SUPPORTED;
  cpu.cpl = 3;
  return { cpu, mem };
}
