/**
 * The ELF kernel the compressed fixtures beside this file hold (make-fixtures.ts writes
 * them with the xz and zstd tools): an x86-64 PV image whose code segment is dense with
 * E8/E9 (call/jmp rel32) opcodes, so that the x86 BCJ filter changes many of them.
 *
 * @module
 */
import { buildElf, standardXenNotes } from "../../elf-builder.js";
import { EM_X86_64 } from "../../elf.js";

/** The fixture kernel, byte for byte the same on every call. */
export function fixtureKernel(): Uint8Array {
  const code = new Uint8Array(0x9000);
  let x = 12345;
  for (let i = 0; i < code.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const r = x >>> 24;
    // One byte in eight an E8/E9, displacements whose top byte is often 00 or FF.
    code[i] = r < 16 ? 0xe8 : r < 32 ? 0xe9 : r < 64 ? 0x00 : r < 96 ? 0xff : r;
  }
  return buildElf({
    machine: EM_X86_64,
    entry: 0x100000,
    segments: [{ vaddr: 0x100000, data: code, memSize: 0xa000, align: 4096 }],
    xenNotes: standardXenNotes(0x100000, 0x101000),
  });
}
