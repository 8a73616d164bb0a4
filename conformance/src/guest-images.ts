/**
 * Where our own test guests are found: `conformance/guests/<arch>/bin/<name>.elf`, built
 * by the script beside them and committed (so the suite needs no cross toolchain), with
 * the console output each must print in `conformance/guests/<arch>/expected/<name>.txt`.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/**
 * The guest set of our own compiled test guests (C and assembly built per arch with that
 * arch's gcc). An arch with no `conformance/guests/<arch>/` folder has none (Debian has no
 * IA-64 compiler; a new port adds its folder when it has one): its cells of this set are
 * UNSUPPORTED, saying so.
 */
export const COMPILED_GUEST_SET = "hvkit-c";

/** Reads our own test guests and their expected output. */
export interface GuestFiles {
  /** True when guests are built for `arch` at all (its folder exists). */
  hasArch(arch: string): boolean;
  /** The ELF image of guest `name` built for `arch`; throws when it does not exist. */
  image(arch: string, name: string): Uint8Array;
  /** The console output guest `name` must print (Latin-1, byte for byte). */
  expectedOutput(arch: string, name: string): string;
}

/**
 * The `conformance/guests` folder: beside `src/` when running from sources and beside
 * `dist/` in the built package.
 */
export const GUESTS_DIR = fileURLToPath(new URL("../guests/", import.meta.url));

/** Raised when a test guest file is missing (a cell ERROR: the fixture is absent). */
export class GuestFileMissingError extends Error {
  /** @param path - the file that was looked for. */
  constructor(readonly path: string) {
    super(`test guest file ${path} does not exist (build it with conformance/guests/build.sh)`);
    this.name = "GuestFileMissingError";
  }
}

function read(path: string): Buffer {
  if (!existsSync(path)) throw new GuestFileMissingError(path);
  return readFileSync(path);
}

/** The default {@link GuestFiles}: `<dir>/<arch>/bin/<name>.elf` and `<dir>/<arch>/expected/<name>.txt`. */
export function guestFilesIn(dir: string = GUESTS_DIR): GuestFiles {
  return {
    hasArch: (arch) => existsSync(join(dir, arch, "bin")),
    image: (arch, name) => new Uint8Array(read(join(dir, arch, "bin", `${name}.elf`))),
    expectedOutput: (arch, name) =>
      read(join(dir, arch, "expected", `${name}.txt`)).toString("latin1"),
  };
}
