/**
 * Loud-failing stubs for an unfinished arch port, as Xen's new-arch stubs are: every hook,
 * optional ones included, throws {@link ArchHookMissingError} naming itself, so the
 * conformance matrix can show which cells a missing hook blocks. A port replaces hooks one
 * by one; for an optional hook whose fallback it wants (see each hook's contract in
 * {@link ArchPlugin}), it sets the member to `undefined`.
 *
 * The members of {@link ArchPlugin} fall in two kinds: identity (data that says what the
 * arch is, {@link ARCH_IDENTITY_KEYS}) and hooks (behaviour, {@link ARCH_HOOK_NAMES}). The
 * compiler checks that the two lists cover the interface: a member added to `ArchPlugin`
 * and listed in neither fails to compile here, so no hook can lack its stub.
 *
 * @module
 */
import { ArchHookMissingError, type ArchPlugin } from "./arch-plugin.js";

/**
 * The identity members of {@link ArchPlugin}: what an arch is, without behaviour. Every
 * other member is a hook.
 */
export const ARCH_IDENTITY_KEYS = [
  "name",
  "elfMachines",
  "elfClasses",
  "endianness",
  "wordBits",
  "pageSizes",
  "dataModel",
  "requiresXenNotes",
  "startInfoMagic",
  "modes",
  "features",
  "maxMemoryMiB",
  "capabilities",
  "translatedPv",
  "counterHz",
] as const satisfies readonly (keyof ArchPlugin)[];

/** One of {@link ARCH_IDENTITY_KEYS}. */
export type ArchIdentityKey = (typeof ARCH_IDENTITY_KEYS)[number];

/** The name of a behavioural member (hook) of {@link ArchPlugin}, optional ones included. */
export type ArchHookName = Exclude<keyof ArchPlugin, ArchIdentityKey>;

/**
 * The descriptive members of {@link ArchPlugin}, optional ones optional: what
 * {@link createStubArchPlugin} needs to know.
 */
export type ArchIdentity = Pick<ArchPlugin, ArchIdentityKey>;

/** Every hook of {@link ArchPlugin} present (optional ones too), as the stub has them. */
export type ArchHooks = { readonly [K in ArchHookName]-?: NonNullable<ArchPlugin[K]> };

/** An arch plugin with every hook present: what {@link createStubArchPlugin} returns. */
export type StubArchPlugin = ArchIdentity & ArchHooks;

/**
 * One entry per hook; the type makes the table complete and makes every entry a function
 * member (a data member left out of {@link ARCH_IDENTITY_KEYS} would land here as `never`).
 */
const HOOK_TABLE: {
  readonly [K in ArchHookName]-?: NonNullable<ArchPlugin[K]> extends (...args: never[]) => unknown
    ? K
    : never;
} = {
  hypercalls: "hypercalls",
  createDomainState: "createDomainState",
  createVcpu: "createVcpu",
  buildDomain: "buildDomain",
  guestAgent: "guestAgent",
  disassemble: "disassemble",
  onMemoryWritten: "onMemoryWritten",
  onP2mChanged: "onP2mChanged",
  hypervisorVirtStart: "hypervisorVirtStart",
  vmAssistTypes: "vmAssistTypes",
  xenFeatures: "xenFeatures",
  memoryOp: "memoryOp",
  vcpuOp: "vcpuOp",
  maximumGpfn: "maximumGpfn",
  createGrantHostMapping: "createGrantHostMapping",
  replaceGrantHostMapping: "replaceGrantHostMapping",
  getWritableFrame: "getWritableFrame",
  putWritableFrame: "putWritableFrame",
  setM2p: "setM2p",
  getM2p: "getM2p",
  guestAccessOk: "guestAccessOk",
  setVcpuContext: "setVcpuContext",
  resetVcpu: "resetVcpu",
  checkDomainConfig: "checkDomainConfig",
  releaseDomainFrames: "releaseDomainFrames",
};

/** Every hook of {@link ArchPlugin}, required and optional, in declaration order. */
export const ARCH_HOOK_NAMES: readonly ArchHookName[] = Object.values(HOOK_TABLE);

/**
 * Creates a plugin with `identity` whose hooks, optional ones included, all throw
 * {@link ArchHookMissingError} naming themselves.
 */
export function createStubArchPlugin(identity: ArchIdentity): StubArchPlugin {
  const hooks = Object.fromEntries(
    ARCH_HOOK_NAMES.map((hook) => [
      hook,
      (): never => {
        throw new ArchHookMissingError(identity.name, hook);
      },
    ]),
  ) as unknown as ArchHooks;
  return { ...identity, ...hooks };
}
