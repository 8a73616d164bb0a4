/**
 * `@hvkit/arch-ppc`: the 64-bit PowerPC (970 class) PV port (`docs/abi/ppc.md`): its CPU
 * ({@link PpcCpu}: one instruction table driving decoder, interpreter and disassembler),
 * vCPUs ({@link PpcVcpu}), domain builder with its flattened device tree, xencomm handles
 * and conformance guest agent ({@link PpcGuestAgent}). The MMU ({@link PpcMmu}: SLB,
 * hashed page table, RMA) and the PAPR page-table hcalls ({@link paprHcall}) exist; the
 * vCPU runs on real-mode storage until it is wired to them.
 *
 * @packageDocumentation
 */
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
export * from "./jit/block-compiler.js";
export * from "./jit/exec-profile.js";
export * from "./builder.js";
export * from "./guest-storage.js";
export * from "./papr.js";
export * from "./plugin.js";
export * from "./vcpu.js";
export * from "./vcpu-context.js";
export * from "./vcpu-op.js";
export * from "./xencomm.js";
export * from "./mmu/frames.js";
export * from "./mmu/hpt.js";
export * from "./mmu/mmu.js";
export { HFlag, HStatus, PAPR_HCALL_END, PaprHcall, paprHcall } from "./mmu/papr.js";
