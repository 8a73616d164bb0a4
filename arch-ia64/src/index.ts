/**
 * `@hvkit/arch-ia64`: the IA-64 port. Not started: its identity is real (from
 * `docs/abi/ia64.md`), its hooks fail loudly with their names until ported.
 *
 * @packageDocumentation
 */
import { createStubArchPlugin, type ArchPlugin } from "@hvkit/core";

/**
 * The IA-64 arch plugin: ELF64 little-endian EM_IA_64 (50), 16 KiB pages, no hypercall
 * page (hypercalls are `break` with the hypercall immediate), start_info magic
 * "xen-3.0-ia64"; PV and VT-i modes.
 */
export const ia64Plugin: ArchPlugin = createStubArchPlugin({
  name: "ia64",
  elfMachines: [50],
  elfClasses: [64],
  endianness: "little",
  wordBits: 64,
  pageSizes: [16384],
  dataModel: "ia64",
  startInfoMagic: "xen-3.0-ia64",
  modes: ["pv", "vt-i"],
  // A guest names its frames and maps them with its own translation inserts (abi/ia64.md).
  features: ["frames"],
});
