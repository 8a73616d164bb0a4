/**
 * `@hvkit/arch-x86_64`: x86_64 PV guests as a variant of `@hvkit/arch-x86`.
 *
 * @packageDocumentation
 */
/** The arch's name as the CLI spells it. */
export const ARCH_NAME = "x86_64";
export * from "./plugin.js";
export * from "./builder.js";
export * from "./pv-vcpu.js";
export * from "./hypercalls.js";
export * from "./traps.js";
export * from "./agent.js";
export { VcpuMsrs } from "@hvkit/arch-x86";
