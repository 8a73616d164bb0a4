/**
 * `hvkit new-guest <name>`: writes `guest-<name>/`, a new guest-OS adapter package whose
 * members fail loudly with their names (see `scaffold/guest-package.ts`), into `--dir`
 * (default: the working directory), never over an existing folder. Inside hvkit's workspace
 * it also wires the package in (see `scaffold/workspace.ts`), so the adapter is a guest set
 * of `hvkit conformance` at once; elsewhere it is a package for `--plugin`.
 *
 * @module
 */
import {
  ALL_GUEST_MODES,
  type ArchRegistry,
  type GuestAdapterRegistry,
  type GuestMode,
  type GuestRole,
  type ImageFormat,
} from "@hvkit/core";
import { GUEST_SETS, XTF_GUEST_SET } from "@hvkit/conformance";
import type { CliIo } from "../cli-io.js";
import { ExitStatus } from "../exit-status.js";
import { knownName } from "../options.js";
import { UsageError } from "../usage-error.js";
import { guestPackageFiles, type GuestSpec } from "../scaffold/guest-package.js";
import { PORT_NAME, portNames } from "../scaffold/package-scaffold.js";
import { writePort } from "../scaffold/write-port.js";

/** Options of `hvkit new-guest`, as parsed. */
export interface NewGuestOptions {
  /** `--arch`: arch names the port exists for (default: every registered arch). */
  readonly arch?: string[];
  /** `--role`: dom0 and/or domU (default: domU). */
  readonly role?: string[];
  /** `--mode`: guest modes (default: pv). */
  readonly mode?: string[];
  /** `--image-format`: elf or mach-o (default: elf). */
  readonly imageFormat?: string;
  /** `--dir`: the folder the package is written in. */
  readonly dir?: string;
}

const ROLES: readonly GuestRole[] = ["dom0", "domU"];
const IMAGE_FORMATS: readonly ImageFormat[] = ["elf", "mach-o"];

/** The guest spec `options` describe, defaults filled in; unregistered arches are named too. */
export function guestSpec(
  arches: ArchRegistry,
  options: NewGuestOptions,
): GuestSpec & { readonly unregistered: readonly string[] } {
  const known = arches.names();
  const names = [...new Set(options.arch ?? known)].map(
    (a) => known.find((k) => k.toLowerCase() === a.toLowerCase()) ?? a,
  );
  for (const a of names) {
    if (!PORT_NAME.test(a))
      throw new UsageError(`--arch: "${a}" is not an arch name (known: ${known.join(", ")})`);
  }
  const roles = [...new Set((options.role ?? ["domU"]).map((r) => knownName("role", r, ROLES)))];
  const modes = [
    ...new Set(
      (options.mode ?? ["pv"]).map((m) => knownName<GuestMode>("mode", m, ALL_GUEST_MODES)),
    ),
  ];
  if (roles.length === 0) throw new UsageError("--role wants dom0 and/or domU");
  if (modes.length === 0) throw new UsageError("--mode wants at least one guest mode");
  return {
    arches: names,
    roles,
    modes,
    imageFormat: knownName("image format", options.imageFormat ?? "elf", IMAGE_FORMATS),
    unregistered: names.filter((a) => !known.includes(a)),
  };
}

/** Runs `hvkit new-guest`; returns the exit status. */
export function newGuestCommand(
  io: CliIo,
  arches: ArchRegistry,
  adapters: GuestAdapterRegistry,
  name: string,
  options: NewGuestOptions,
): number {
  const taken = new Map<string, string>([
    ...[...GUEST_SETS, XTF_GUEST_SET].map((s): [string, string] => [
      s,
      "a built-in guest set has that name",
    ]),
    ...adapters
      .names()
      .map((a): [string, string] => [a, "a guest adapter of that name is registered"]),
  ]);
  const n = portNames("guest", name, taken);
  const spec = guestSpec(arches, options);
  const report = writePort({
    names: n,
    parent: options.dir ?? ".",
    files: (home) => guestPackageFiles(n, spec, home),
    baseline: {
      id: `*/*/${n.name}/*/guest/boot`,
      reason: `${n.name} guest adapter scaffolded by hvkit new-guest: its members are loud-failing stubs`,
    },
    select: `--guest ${n.name}`,
    firstRun: "its cells UNSUPPORTED, or ERROR naming a member",
    notes:
      spec.unregistered.length > 0
        ? [
            `no registered arch is called ${spec.unregistered.join(", ")}; its cells appear once a plugin provides it`,
          ]
        : [],
  });
  io.stdout.write(report);
  return ExitStatus.OK;
}
