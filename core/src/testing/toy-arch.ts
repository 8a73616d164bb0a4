/**
 * Toy arches for tests that need a machine but no guest code: an identity to hand to
 * {@link createStubArchPlugin}, and an arch whose vCPUs do nothing, for services that act
 * on a machine's memory, rings and event channels (console daemon, xenstored, dom0).
 *
 * @module
 */
import type { ArchPlugin, ArchVcpu } from "../arch-plugin.js";
import { createStubArchPlugin, type ArchIdentity } from "../arch-stub.js";
import { TEST_LP64_LE } from "./data-models.js";

/**
 * The identity of a toy 64-bit little-endian PV arch called `name`: ELF machine 1 (no real
 * arch's), 4 KiB pages, the little-endian LP64 test data model, no Xen notes required,
 * start_info magic `xen-3.0-<name>`, no features; `overrides` replace any of these.
 */
export function toyArchIdentity(name: string, overrides: Partial<ArchIdentity> = {}): ArchIdentity {
  return {
    name,
    elfMachines: [1],
    elfClasses: [64],
    endianness: "little",
    wordBits: 64,
    pageSizes: [4096],
    dataModel: TEST_LP64_LE,
    requiresXenNotes: false,
    startInfoMagic: `xen-3.0-${name}`,
    modes: ["pv"],
    features: [],
    ...overrides,
  };
}

/**
 * A toy arch ({@link toyArchIdentity}, start_info magic `xen-3.0-x86_64`) with no arch
 * hypercalls, vCPUs that do nothing and no optional hooks (the core's fallbacks apply);
 * `buildDomain`, when given, builds its domains (otherwise building throws, as the stub's
 * hooks do).
 */
export function idleArch(name: string, buildDomain?: ArchPlugin["buildDomain"]): ArchPlugin {
  const identity = toyArchIdentity(name, { startInfoMagic: "xen-3.0-x86_64" });
  const stub = createStubArchPlugin(identity);
  return {
    ...identity,
    hypercalls: () => [],
    createDomainState: () => null,
    createVcpu: () => ({}) as unknown as ArchVcpu,
    buildDomain: buildDomain ?? stub.buildDomain,
    guestAgent: stub.guestAgent,
    disassemble: stub.disassemble,
  };
}
