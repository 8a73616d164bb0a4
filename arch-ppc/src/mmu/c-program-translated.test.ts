/**
 * The compiled C program of the CPU's corpus (cpu/corpus/c/compute.elf), run in problem
 * state with instruction and data relocation on: every page of its 4 MiB reached through
 * an SLB entry and PTEs entered with H_ENTER (problem-state key, PP = 2). It must print
 * what it prints under qemu-ppc64, as it does on flat real-mode memory.
 */
import { describe, expect, it } from "vitest";
import { computeExpected, loadCompute, runCompute } from "../cpu/compute-program.js";
import { Msr } from "../cpu/cpu-api.js";
import { PpcCpu } from "../cpu/cpu.js";
import { PpcHashedPageTable } from "./hpt.js";
import { PpcMmu } from "./mmu.js";
import { HStatus, PaprHcall, paprHcall } from "./papr.js";

const MEMORY = 4 << 20;
const PAGES = MEMORY / 4096;
const VSID = 0x5a5a5n;

describe("a C program through the hashed page table", () => {
  it("prints what it prints under qemu-ppc64", () => {
    const bytes = new Uint8Array(MEMORY);
    const { entry, toc } = loadCompute(bytes);
    const frames = {
      bytes,
      frameBase: (g: number) => (g >= 0 && g < PAGES ? g * 4096 : -1),
      mayMap: (g: number) => g >= 0 && g < PAGES,
    };
    // An RMA of 64 KiB: the program lives above it, so only the mapping reaches it.
    const mmu = new PpcMmu(frames, new PpcHashedPageTable(18), 0x10000);
    const cpu = new PpcCpu(mmu);
    mmu.attach(cpu);
    cpu.msrLo = 0;
    // SLB entry 0: ESID 0 → VSID, Kp = 1.
    cpu.setGpr(5, (VSID << 12n) | 0x400n);
    cpu.setGpr(6, 1n << 27n);
    expect(mmu.emulate(cpu, (31 << 26) | (5 << 21) | (6 << 11) | (402 << 1))).toBe(true);
    for (let p = 0; p < PAGES; p++) {
      const ptex = BigInt(((Number(VSID) ^ p) & 0x7ff) * 8);
      const dw0 = (VSID << 12n) | (BigInt(p >> 11) << 7n) | 1n;
      const dw1 = (BigInt(p) << 12n) | 0x12n; // M, PP = 2
      expect(paprHcall(mmu, PaprHcall.H_ENTER, [0n, ptex, dw0, dw1], [])).toBe(HStatus.Success);
    }
    cpu.msrLo = Msr.PR | Msr.FP | Msr.EE | Msr.IR | Msr.DR;
    cpu.setPc(entry);
    cpu.setGpr(2, toc);
    cpu.setGpr(1, BigInt(MEMORY - 4096));
    expect(runCompute(cpu, bytes)).toEqual({ status: 0, out: computeExpected() });
  });
});
