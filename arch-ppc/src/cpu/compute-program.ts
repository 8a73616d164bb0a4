/**
 * Test harness for the compiled C program of the corpus (corpus/c/compute.elf, rebuilt
 * by arch-ppc/scripts/gen-c-corpus.sh): loads it, runs it from its ELFv1 entry
 * descriptor and answers the two Linux system calls it makes (write, exit_group). Used by
 * the CPU's test on flat memory and the MMU's test through the hashed page table.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { PT_LOAD, parseElf } from "@hvkit/core";
import { PpcExitReason } from "./cpu-api.js";
import type { PpcCpu } from "./cpu.js";

const SYS_WRITE = 4;
const SYS_EXIT_GROUP = 234;

/** What the program printed under qemu-ppc64 (corpus/c/compute.out). */
export function computeExpected(): string {
  return readFileSync(new URL("./corpus/c/compute.out", import.meta.url), "latin1");
}

/**
 * Copies compute.elf's PT_LOAD segments into `bytes` at their addresses and returns the
 * entry point and TOC from its ELFv1 entry descriptor.
 */
export function loadCompute(bytes: Uint8Array): { entry: bigint; toc: bigint } {
  const elf = readFileSync(new URL("./corpus/c/compute.elf", import.meta.url));
  const image = parseElf(new Uint8Array(elf), {
    elfMachines: [21],
    elfClasses: [64],
    endianness: "big",
    requiresXenNotes: false,
  });
  for (const p of image.programHeaders) {
    if (p.type !== PT_LOAD) continue;
    bytes.set(elf.subarray(Number(p.offset), Number(p.offset + p.filesz)), Number(p.vaddr));
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const desc = Number(image.header.entry);
  return { entry: view.getBigUint64(desc), toc: view.getBigUint64(desc + 8) };
}

/**
 * Runs `cpu` (pc, r1, r2 and MSR already set) until the program exits, answering its
 * system calls; `write` buffers are read from `bytes` at the address the program passes
 * (its memory is identity-mapped). Returns the exit status and what it wrote.
 */
export function runCompute(cpu: PpcCpu, bytes: Uint8Array): { status: number; out: string } {
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
      out += Buffer.from(bytes.subarray(at, at + n)).toString("latin1");
      cpu.setGpr(3, BigInt(n));
      cpu.cr &= ~0x10000000; // CR0[SO] clear: success
    } else if (nr === SYS_EXIT_GROUP) status = Number(cpu.gpr(3));
    else throw new Error(`unexpected system call ${nr}`);
  }
  return { status, out };
}
