/**
 * `@hvkit/arch-ia64`: the IA-64 port. Its identity is real (`docs/abi/ia64.md`) and its conformance guest
 * agent exists ({@link Ia64GuestAgent}); every other hook fails loudly with its name until
 * ported.
 *
 * @packageDocumentation
 */
import { createStubArchPlugin, type ArchPlugin } from "@hvkit/core";
import { Ia64GuestAgent } from "./agent.js";
import { IA64_DATA_MODEL } from "./data-model.js";

export * from "./agent.js";
export * from "./abi.js";
export * from "./data-model.js";

/**
 * The IA-64 arch plugin: ELF64 little-endian EM_IA_64 (50), 16 KiB pages, no hypercall
 * page (hypercalls are `break` with the hypercall immediate), start_info magic
 * "xen-3.0-ia64"; PV and VT-i modes. Plain ELF kernels boot without Xen notes (libelf
 * requires them on x86 only).
 */
export const ia64Plugin: ArchPlugin = {
  ...createStubArchPlugin({
    name: "ia64",
    elfMachines: [50],
    elfClasses: [64],
    endianness: "little",
    wordBits: 64,
    pageSizes: [16384],
    dataModel: IA64_DATA_MODEL,
    requiresXenNotes: false,
    startInfoMagic: "xen-3.0-ia64",
    modes: ["pv", "vt-i"],
    // A guest names its frames and maps them with its own translation inserts.
    features: ["frames"],
  }),
  guestAgent: () => new Ia64GuestAgent(),
};
