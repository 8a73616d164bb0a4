/**
 * `@hvkit/core`: the architecture-neutral hypervisor core.
 *
 * @packageDocumentation
 */
export * from "./errno.js";
export * from "./arch-plugin.js";
export * from "./hypercall.js";
export * from "./memory.js";
export * from "./domain.js";
export * from "./vcpu.js";
export * from "./machine.js";
export * from "./structs.js";
export * from "./elf.js";
export * from "./arch-stub.js";
export * from "./errors.js";
