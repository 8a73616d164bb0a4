/**
 * Where our own test guests are found: `conformance/guests/<arch>/bin/<name>.elf`, built
 * by the script beside them and committed (so the suite needs no cross toolchain), with
 * the console output each must print in `conformance/guests/<arch>/expected/<name>.txt`.
 * Both ship in the `@hvkit/conformance` package (its `files` list), so an installed suite
 * runs the same cells as a clone.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { readPackageFile } from "@hvkit/core";

/**
 * The guest set of our own compiled test guests (C and assembly built per arch with that
 * arch's gcc). An arch with no `conformance/guests/<arch>/` folder has none (Debian has no
 * IA-64 compiler; a new port adds its folder when it has one): its cells of this set are
 * UNSUPPORTED, saying so. An arch builds only the guests that apply to it (x86 builds
 * 32-bit versions of some of x86_64's): a test whose guest it lacks
 * (`Requirements.compiledGuests`) is UNSUPPORTED there too.
 */
export const COMPILED_GUEST_SET = "hvkit-c";

/** Reads our own test guests and their expected output. */
export interface GuestFiles {
  /** True when guests are built for `arch` at all (its folder exists). */
  hasArch(arch: string): boolean;
  /** True when guest `name` is built for `arch` (its image exists). */
  has(arch: string, name: string): boolean;
  /**
   * The ELF image of guest `name` built for `arch`.
   * @throws `PackageFileMissingError` (from `@hvkit/core`) when the file does not exist.
   */
  image(arch: string, name: string): Uint8Array;
  /**
   * The console output guest `name` must print (Latin-1, byte for byte).
   * @throws `PackageFileMissingError` (from `@hvkit/core`) when the file does not exist.
   */
  expectedOutput(arch: string, name: string): string;
}

/**
 * The `conformance/guests` folder: beside `src/` when running from sources and beside
 * `dist/` in the built package.
 */
export const GUESTS_DIR = fileURLToPath(new URL("../guests/", import.meta.url));

/**
 * The default {@link GuestFiles}: `<dir>/<arch>/bin/<name>.elf` and
 * `<dir>/<arch>/expected/<name>.txt`. A missing file is a `PackageFileMissingError` (from
 * `@hvkit/core`) naming it and the package that should ship it.
 * @param dir - the guests folder (default {@link GUESTS_DIR}).
 */
export function guestFilesIn(dir: string = GUESTS_DIR): GuestFiles {
  const read = (file: string): Uint8Array =>
    readPackageFile(join(dir, file), "in a clone, build it with conformance/guests/build.sh");
  return {
    hasArch: (arch) => existsSync(join(dir, arch, "bin")),
    has: (arch, name) => existsSync(join(dir, arch, "bin", `${name}.elf`)),
    image: (arch, name) => read(`${arch}/bin/${name}.elf`),
    expectedOutput: (arch, name) =>
      Buffer.from(read(`${arch}/expected/${name}.txt`)).toString("latin1"),
  };
}
