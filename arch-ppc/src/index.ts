/**
 * `@hvkit/arch-ppc`: the 64-bit PowerPC (970 class) port. Its identity is real (`docs/abi/ppc.md`), its
 * conformance guest agent exists ({@link PpcGuestAgent}) and so does its CPU ({@link PpcCpu}:
 * one instruction table driving decoder, interpreter and disassembler); every other hook
 * fails loudly with its name until ported.
 *
 * @packageDocumentation
 */
import { createStubArchPlugin, type ArchPlugin } from "@hvkit/core";
import { PpcGuestAgent } from "./agent.js";
import { PPC64_DATA_MODEL } from "./data-model.js";

export * from "./agent.js";
export * from "./abi.js";
export * from "./data-model.js";
export * from "./device-tree.js";
export * from "./cpu/cpu-api.js";
export * from "./cpu/cpu.js";
export * from "./cpu/decode.js";
export * from "./cpu/disasm.js";
export * from "./cpu/fpu.js";
export * from "./cpu/memory.js";
export * from "./cpu/table.js";

/**
 * The PowerPC arch plugin: ELF64 big-endian EM_PPC64 (21), 4 KiB pages, no hypercall page
 * (hypercalls are `sc 1`), capabilities "xen-3.0-powerpc64"; PV and hypervisor-mode. Plain
 * ELF kernels boot without Xen notes (libelf requires them on x86 only).
 */
export const ppcPlugin: ArchPlugin = {
  ...createStubArchPlugin({
    name: "ppc",
    elfMachines: [21],
    elfClasses: [64],
    endianness: "big",
    wordBits: 64,
    pageSizes: [4096],
    dataModel: PPC64_DATA_MODEL,
    requiresXenNotes: false,
    startInfoMagic: "xen-3.0-powerpc64",
    modes: ["pv", "hv"],
    // A guest names and maps its frames (H_ENTER into its hashed page table).
    features: ["frames", "pv-mmu-hashed"],
  }),
  guestAgent: () => new PpcGuestAgent(),
};
