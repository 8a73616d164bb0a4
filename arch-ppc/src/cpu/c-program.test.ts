/**
 * End to end: a freestanding C program built with powerpc64-linux-gnu-gcc (-O2, -mcpu=970 -mno-altivec: the CPU has no AltiVec;
 * corpus/c/compute.c, rebuilt by arch-ppc/scripts/gen-c-corpus.sh) runs on {@link PpcCpu}
 * from its ELFv1 entry descriptor, in problem state over a real-mode memory, with the two
 * Linux system calls it makes (write, exit_group) answered here; what it prints must be
 * what it printed under qemu-ppc64 (corpus/c/compute.out): integer and floating-point
 * results of compiled code, calls, function pointers and switch tables included.
 */
import { readFileSync } from "node:fs";
import { PT_LOAD, parseElf } from "@hvkit/core";
import { describe, expect, it } from "vitest";
import { Msr, PpcExitReason } from "./cpu-api.js";
import { PpcCpu } from "./cpu.js";
import { RealModeMemory } from "./memory.js";

const SYS_WRITE = 4;
const SYS_EXIT_GROUP = 234;
const MEMORY = 4 << 20;

describe("a C program compiled for the 970", () => {
  it("prints what it prints under qemu-ppc64", () => {
    const elf = readFileSync(new URL("./corpus/c/compute.elf", import.meta.url));
    const expected = readFileSync(new URL("./corpus/c/compute.out", import.meta.url), "latin1");
    const image = parseElf(new Uint8Array(elf), {
      elfMachines: [21],
      elfClasses: [64],
      endianness: "big",
      requiresXenNotes: false,
    });
    const mem = new RealModeMemory(new Uint8Array(MEMORY));
    for (const p of image.programHeaders) {
      if (p.type !== PT_LOAD) continue;
      mem.bytes.set(elf.subarray(Number(p.offset), Number(p.offset + p.filesz)), Number(p.vaddr));
    }
    const cpu = new PpcCpu(mem);
    cpu.msrLo = Msr.PR | Msr.FP | Msr.EE;
    // ELFv1: e_entry is a function descriptor (entry point, TOC).
    const desc = Number(image.header.entry);
    cpu.setPc(mem.view.getBigUint64(desc));
    cpu.setGpr(2, mem.view.getBigUint64(desc + 8));
    cpu.setGpr(1, BigInt(MEMORY - 4096));
    let out = "";
    let status = -1;
    for (let calls = 0; status < 0 && calls < 1000; calls++) {
      const e = cpu.run(50_000_000);
      if (e.reason !== PpcExitReason.SystemCall)
        throw new Error(
          `${PpcExitReason[e.reason]} at ${cpu.pc.toString(16)} (word ${e.word.toString(16)})`,
        );
      const nr = Number(cpu.gpr(0));
      if (nr === SYS_WRITE) {
        const at = Number(cpu.gpr(4));
        const n = Number(cpu.gpr(5));
        out += Buffer.from(mem.bytes.subarray(at, at + n)).toString("latin1");
        cpu.setGpr(3, BigInt(n));
        cpu.cr &= ~0x10000000; // CR0[SO] clear: success
      } else if (nr === SYS_EXIT_GROUP) status = Number(cpu.gpr(3));
      else throw new Error(`unexpected system call ${nr}`);
    }
    expect(status).toBe(0);
    expect(out).toBe(expected);
  });
});
