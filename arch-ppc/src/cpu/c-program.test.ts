/**
 * End to end: a freestanding C program built with powerpc64-linux-gnu-gcc (-O2, -mcpu=970 -mno-altivec: the CPU has no AltiVec;
 * corpus/c/compute.c, rebuilt by arch-ppc/scripts/gen-c-corpus.sh) runs on {@link PpcCpu}
 * from its ELFv1 entry descriptor, in problem state over a real-mode memory, with the two
 * Linux system calls it makes (write, exit_group) answered here; what it prints must be
 * what it printed under qemu-ppc64 (corpus/c/compute.out): integer and floating-point
 * results of compiled code, calls, function pointers and switch tables included.
 */
import { describe, expect, it } from "vitest";
import { computeExpected, loadCompute, runCompute } from "./compute-program.js";
import { Msr } from "./cpu-api.js";
import { PpcCpu } from "./cpu.js";
import { RealModeMemory } from "./memory.js";

const MEMORY = 4 << 20;

describe("a C program compiled for the 970", () => {
  it("prints what it prints under qemu-ppc64", () => {
    const mem = new RealModeMemory(new Uint8Array(MEMORY));
    const { entry, toc } = loadCompute(mem.bytes);
    const cpu = new PpcCpu(mem);
    cpu.msrLo = Msr.PR | Msr.FP | Msr.EE;
    cpu.setPc(entry);
    cpu.setGpr(2, toc);
    cpu.setGpr(1, BigInt(MEMORY - 4096));
    expect(runCompute(cpu, mem.bytes)).toEqual({ status: 0, out: computeExpected() });
  });
});
