/**
 * Loud-failing stubs for an unfinished arch port, as Xen's new-arch stubs are: every hook
 * throws {@link ArchHookMissingError} naming itself, so the conformance matrix can show
 * which cells a missing hook blocks. A port replaces hooks one by one.
 *
 * @module
 */
import { ArchHookMissingError, type ArchPlugin } from "./arch-plugin.js";

/** The descriptive members of {@link ArchPlugin}: what an arch is, without behaviour. */
export type ArchIdentity = Pick<
  ArchPlugin,
  | "name"
  | "elfMachines"
  | "elfClasses"
  | "endianness"
  | "wordBits"
  | "pageSizes"
  | "dataModel"
  | "startInfoMagic"
  | "modes"
  | "features"
>;

/**
 * Creates a plugin with `identity` whose behavioural hooks all throw
 * {@link ArchHookMissingError}.
 */
export function createStubArchPlugin(identity: ArchIdentity): ArchPlugin {
  const missing = (hook: string): never => {
    throw new ArchHookMissingError(identity.name, hook);
  };
  return {
    ...identity,
    hypercalls: () => missing("hypercalls"),
    createVcpu: () => missing("createVcpu"),
    buildDomain: () => missing("buildDomain"),
    disassemble: () => missing("disassemble"),
    guestAgent: () => missing("guestAgent"),
  };
}
