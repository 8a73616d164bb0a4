/**
 * `@hvkit/arch-x86`: the x86 family — one instruction table driving decoder, interpreter
 * and disassembler; paging; the PV MMU shared by 32- and 64-bit PV guests; the two x86
 * data models (x86_32, x86_64) with x86's ABI structs, the e820 memory map and PV's
 * XENMEM_maximum_gpfn.
 *
 * @packageDocumentation
 */
export * from "./cpu-api.js";
export * from "./insn.js";
export * from "./ops.js";
export * from "./table.js";
export * from "./decode.js";
export * from "./disasm.js";
export * from "./paging.js";
export * from "./decode-cache.js";
export * from "./segment.js";
export * from "./cpu.js";
export { execute } from "./execute.js";
export { Dr6, Dr7, mergeDr6 } from "./debug.js";
export * from "./pv-mmu.js";
export { BlockCache, compileBlock, type BlockFn } from "./block-compiler.js";
export { ExecProfile, profileKey, profileKeyName } from "./exec-profile.js";
export * from "./abi.js";
export * from "./domain-config.js";
export * from "./data-model.js";
export * from "./memory-map.js";
export * from "./maximum-gpfn.js";
export * from "./pv-builder.js";
export * from "./pv-mm-hypercalls.js";
export * from "./cpuid.js";
export * from "./pv32-traps.js";
export * from "./pv32-vcpu.js";
export * from "./pv32-hypercalls.js";
export * from "./pv-plugin.js";
export * from "./pv32-plugin.js";
export * from "./pv-descriptors.js";
export * from "./agent-traps.js";
export * from "./pv32-agent.js";
export * from "./pv-grant-mapping.js";
export * from "./pv-priv-op.js";
export * from "./pv-physdev.js";
export * from "./pv-ctrlreg.js";
export * from "./pv-debugreg.js";
export * from "./pv-msr.js";
export * from "./xenpmu-op.js";
export * from "./pv-vcpu-op.js";
export * from "./pv-vcpu-context.js";
export * from "./pv-run.js";
export * from "./pv-ptwr.js";
