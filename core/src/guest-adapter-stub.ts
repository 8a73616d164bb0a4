/**
 * Loud-failing stubs for an unfinished guest-OS port, as {@link createStubArchPlugin} is
 * for an arch: the declarations (name, arches, roles, modes, image format) are data the
 * porter gives at once, {@link GuestAdapter.declines} follows from them, and every other
 * member, optional ones included, throws {@link GuestAdapterHookMissingError} naming itself,
 * so the conformance matrix shows the cells each missing piece blocks. A port replaces the
 * stubs one by one; for an optional member whose fallback it wants, it sets the member to
 * `undefined`.
 *
 * @module
 */
import {
  GuestAdapterHookMissingError,
  type GuestAdapter,
  type GuestCell,
} from "./guest-adapter.js";

/** The declarations of a {@link GuestAdapter}: what it is, without behaviour. */
export type GuestAdapterIdentity = Pick<
  GuestAdapter,
  "name" | "arches" | "roles" | "modes" | "imageFormat" | "onDemand"
>;

/** The name of a member of {@link GuestAdapter} that {@link createStubGuestAdapter} stubs. */
export type GuestAdapterHookName = Exclude<
  keyof GuestAdapter,
  keyof GuestAdapterIdentity | "declines"
>;

/** Every member of {@link GuestAdapter} present (optional ones too), as the stub has them. */
export type GuestAdapterHooks = {
  readonly [K in GuestAdapterHookName]-?: NonNullable<GuestAdapter[K]>;
};

/** A guest adapter with every member present: what {@link createStubGuestAdapter} returns. */
export type StubGuestAdapter = GuestAdapterIdentity &
  GuestAdapterHooks &
  Pick<GuestAdapter, "declines">;

/** One entry per stubbed member; the type makes the table complete. */
const HOOK_TABLE: { readonly [K in GuestAdapterHookName]-?: K } = {
  buildImage: "buildImage",
  commandLine: "commandLine",
  milestones: "milestones",
};

/**
 * The members of {@link GuestAdapter} a stub adapter fails loudly in, in the order the
 * conformance runner reaches them in a supported cell (image, command line, judging).
 */
export const GUEST_ADAPTER_HOOK_NAMES: readonly GuestAdapterHookName[] = Object.values(HOOK_TABLE);

/**
 * Why `identity` declines `cell` by its declarations alone (an arch, mode or role it does
 * not list), or null when the cell is one it declares. What a {@link GuestAdapter.declines}
 * must at least answer.
 */
export function declinedByDeclarations(
  identity: GuestAdapterIdentity,
  cell: GuestCell,
): string | null {
  if (!identity.arches.includes(cell.arch))
    return `${identity.name} is not ported to ${cell.arch} (it runs on ${identity.arches.join(", ") || "no arch yet"})`;
  if (!identity.modes.includes(cell.mode))
    return `${identity.name} does not run in mode ${cell.mode} (it runs in ${identity.modes.join(", ")})`;
  if (!identity.roles.includes(cell.role))
    return `${identity.name} cannot be ${cell.role} (it plays ${identity.roles.join(", ")})`;
  return null;
}

/**
 * Creates an adapter with `identity` that declines the cells outside its declarations and
 * whose other members all throw {@link GuestAdapterHookMissingError} naming themselves.
 */
export function createStubGuestAdapter(identity: GuestAdapterIdentity): StubGuestAdapter {
  const hooks = Object.fromEntries(
    GUEST_ADAPTER_HOOK_NAMES.map((hook) => [
      hook,
      (): never => {
        throw new GuestAdapterHookMissingError(identity.name, hook);
      },
    ]),
  ) as unknown as GuestAdapterHooks;
  return {
    ...identity,
    declines: (cell) => declinedByDeclarations(identity, cell),
    ...hooks,
  };
}
