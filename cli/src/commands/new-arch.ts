/**
 * `hvkit new-arch <name>`: writes `arch-<name>/`, a new arch package whose every hook fails
 * loudly with its name (see `scaffold/arch-package.ts`), into `--dir` (default: the working
 * directory), never over an existing folder. Inside hvkit's workspace it also wires the
 * package in (see `scaffold/workspace.ts`), so it builds, typechecks and shows up in
 * `hvkit conformance` at once; elsewhere it is a package for `--plugin`.
 *
 * @module
 */
import { ALL_GUEST_MODES, type ArchRegistry, type Endianness, type GuestMode } from "@hvkit/core";
import type { CliIo } from "../cli-io.js";
import { ExitStatus } from "../exit-status.js";
import { knownName } from "../options.js";
import { UsageError } from "../usage-error.js";
import { archPackageFiles, type ArchSpec } from "../scaffold/arch-package.js";
import { portNames } from "../scaffold/package-scaffold.js";
import { writePort } from "../scaffold/write-port.js";

/** Options of `hvkit new-arch`, as parsed. */
export interface NewArchOptions {
  /** `--elf-machine`: e_machine values, comma-separated. */
  readonly elfMachine?: string[];
  /** `--elf-class`: 32 and/or 64. */
  readonly elfClass?: string[];
  /** `--endianness`: little or big. */
  readonly endianness?: string;
  /** `--word-bits`: 32 or 64. */
  readonly wordBits?: string;
  /** `--page-size`: bytes, comma-separated, the default first. */
  readonly pageSize?: string[];
  /** `--start-info-magic`. */
  readonly startInfoMagic?: string;
  /** `--mode`: guest modes, the default first. */
  readonly mode?: string[];
  /** `--dir`: the folder the package is written in. */
  readonly dir?: string;
}

/** The largest ELF `e_machine` (a 16-bit field). */
const MAX_ELF_MACHINE = 0xffff;

/** Parses an ELF machine number (decimal or 0x hex, 1 … 65535). */
function elfMachine(text: string): number {
  const t = text.trim();
  const value = /^(0x[0-9a-f]+|\d+)$/i.test(t) ? Number(t) : NaN;
  if (!Number.isInteger(value) || value < 1 || value > MAX_ELF_MACHINE) {
    throw new UsageError(
      `--elf-machine wants ELF e_machine numbers from 1 to ${MAX_ELF_MACHINE} (e.g. 243 for RISC-V, 0xf3), got "${text}"`,
    );
  }
  return value;
}

/** Parses a page size: a power of two from 1 KiB to 1 MiB, in bytes or with a k suffix. */
function pageSize(text: string): number {
  const m = /^(\d+)([kK]?)$/.exec(text.trim());
  const value = m ? Number(m[1]) * (m[2] === "" ? 1 : 1024) : NaN;
  if (!Number.isInteger(value) || value < 1024 || value > 1 << 20 || (value & (value - 1)) !== 0) {
    throw new UsageError(
      `--page-size wants powers of two from 1024 to 1048576 bytes (e.g. 4096, 16k), got "${text}"`,
    );
  }
  return value;
}

/** Parses `32` or `64`. */
function bits(option: string, text: string): 32 | 64 {
  const t = text.trim();
  if (t === "32" || t === "64") return Number(t) as 32 | 64;
  throw new UsageError(`${option} wants 32 or 64, got "${text}"`);
}

/** Checks a start_info magic: `xen-<major>.<minor>-<abi>`, printable, at most 31 bytes. */
function startInfoMagic(text: string): string {
  if (!/^xen-\d+\.\d+-[\x21-\x7e]+$/.test(text) || text.length > 31) {
    throw new UsageError(
      `--start-info-magic wants "xen-<version>-<abi>" (e.g. xen-3.0-riscv64) of at most 31 ` +
        `printable characters (start_info.magic is 32 bytes with its NUL), got "${text}"`,
    );
  }
  return text;
}

function unique<T>(list: readonly T[]): T[] {
  return [...new Set(list)];
}

/** The arch spec `options` describe for arch `name`, defaults filled in. */
export function archSpec(name: string, options: NewArchOptions): ArchSpec {
  const wordBits = options.wordBits === undefined ? 64 : bits("--word-bits", options.wordBits);
  const endianness = knownName<Endianness>("endianness", options.endianness ?? "little", [
    "little",
    "big",
  ]);
  const modes = unique(
    (options.mode ?? ["pv"]).map((m) => knownName<GuestMode>("mode", m, ALL_GUEST_MODES)),
  );
  if (modes.length === 0) throw new UsageError("--mode wants at least one guest mode");
  const pageSizes = unique((options.pageSize ?? ["4096"]).map(pageSize));
  if (pageSizes.length === 0) throw new UsageError("--page-size wants at least one page size");
  const elfClasses = unique(
    (options.elfClass ?? [String(wordBits)]).map((c) => bits("--elf-class", c)),
  );
  if (elfClasses.length === 0) throw new UsageError("--elf-class wants 32 and/or 64");
  return {
    elfMachines: unique((options.elfMachine ?? []).map(elfMachine)),
    elfClasses,
    endianness,
    wordBits,
    pageSizes,
    startInfoMagic: startInfoMagic(options.startInfoMagic ?? `xen-3.0-${name}`),
    modes,
  };
}

/** Runs `hvkit new-arch`; returns the exit status. */
export function newArchCommand(
  io: CliIo,
  arches: ArchRegistry,
  name: string,
  options: NewArchOptions,
): number {
  const taken = new Map(
    arches
      .names()
      .map((a) => [a, `an arch of that name is registered (${arches.names().join(", ")})`]),
  );
  const n = portNames("arch", name, taken);
  const spec = archSpec(name, options);
  const report = writePort({
    names: n,
    parent: options.dir ?? ".",
    files: (home) => archPackageFiles(n, spec, home),
    baseline: {
      id: `${n.name}/*`,
      reason: `${n.name} port scaffolded by hvkit new-arch: its hooks are loud-failing stubs`,
    },
    select: `--arch ${n.name}`,
    firstRun: "every cell ERROR naming the hook it needs",
    notes:
      spec.elfMachines.length === 0
        ? ["no --elf-machine given; the plugin boots no image until src/index.ts names it"]
        : [],
  });
  io.stdout.write(report);
  return ExitStatus.OK;
}
