/**
 * Where our own test guests are found: `conformance/guests/<arch>/bin/<name>.elf`, built
 * by the script beside them and committed (so the suite needs no cross toolchain), with
 * the console output each must print in `conformance/guests/<arch>/expected/<name>.txt`.
 * Both ship in the `@hvkit/conformance` package (its `files` list), so an installed suite
 * runs the same cells as a clone.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { HvkitError } from "@hvkit/core";

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
  /**
   * The ELF image of guest `name` built for `arch`.
   * @throws {@link GuestFileMissingError} when the file does not exist.
   */
  image(arch: string, name: string): Uint8Array;
  /**
   * The console output guest `name` must print (Latin-1, byte for byte).
   * @throws {@link GuestFileMissingError} when the file does not exist.
   */
  expectedOutput(arch: string, name: string): string;
}

/**
 * The `conformance/guests` folder: beside `src/` when running from sources and beside
 * `dist/` in the built package.
 */
export const GUESTS_DIR = fileURLToPath(new URL("../guests/", import.meta.url));

/** The package whose {@link GUESTS_DIR} holds the test guests. */
export const GUESTS_PACKAGE = "@hvkit/conformance";

/**
 * A test guest file is missing: the cell that needs it is an ERROR saying which file of
 * which package, never a stack trace. In a clone the guest was not built
 * (`conformance/guests/build.sh`); in an installed package it was not packed.
 */
export class GuestFileMissingError extends HvkitError {
  /**
   * @param file - the file relative to the guests folder, e.g. `x86_64/bin/hello.elf`.
   * @param path - the absolute path that was looked for.
   * @param packageName - the package that should hold the file.
   */
  constructor(
    readonly file: string,
    readonly path: string,
    readonly packageName: string,
  ) {
    super(
      `test guest file guests/${file} of ${packageName} is missing (looked for ${path}): ` +
        `reinstall the package, or in a clone build it with conformance/guests/build.sh`,
    );
  }
}

/**
 * The default {@link GuestFiles}: `<dir>/<arch>/bin/<name>.elf` and
 * `<dir>/<arch>/expected/<name>.txt`.
 * @param dir - the guests folder (default {@link GUESTS_DIR}).
 * @param packageName - the package named when a file is missing (default {@link GUESTS_PACKAGE}).
 */
export function guestFilesIn(
  dir: string = GUESTS_DIR,
  packageName: string = GUESTS_PACKAGE,
): GuestFiles {
  const read = (file: string): Buffer => {
    const path = join(dir, file);
    try {
      return readFileSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") {
        throw new GuestFileMissingError(file, path, packageName);
      }
      throw e;
    }
  };
  return {
    hasArch: (arch) => existsSync(join(dir, arch, "bin")),
    image: (arch, name) => new Uint8Array(read(`${arch}/bin/${name}.elf`)),
    expectedOutput: (arch, name) => read(`${arch}/expected/${name}.txt`).toString("latin1"),
  };
}
