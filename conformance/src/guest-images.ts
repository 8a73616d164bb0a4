/**
 * Where our own test guests are found: `conformance/guests/<arch>/bin/<name>`, built by
 * the scripts beside them and committed (so the suite needs no cross toolchain).
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

/** Reads the bytes of test guest `name` for `arch`; throws when it does not exist. */
export type GuestImageSource = (arch: string, name: string) => Uint8Array;

/**
 * The `conformance/guests` folder: beside `src/` when running from sources and beside
 * `dist/` in the built package.
 */
export const GUESTS_DIR = fileURLToPath(new URL("../guests/", import.meta.url));

/** Raised when a test guest image is missing (a cell ERROR: the fixture is absent). */
export class GuestImageMissingError extends Error {
  /** @param path - the file that was looked for. */
  constructor(readonly path: string) {
    super(
      `test guest image ${path} does not exist (build it with the script in conformance/guests/)`,
    );
    this.name = "GuestImageMissingError";
  }
}

/** The default {@link GuestImageSource}: reads `<dir>/<arch>/bin/<name>`. */
export function guestImagesIn(dir: string = GUESTS_DIR): GuestImageSource {
  return (arch, name) => {
    const path = join(dir, arch, "bin", name);
    if (!existsSync(path)) throw new GuestImageMissingError(path);
    return new Uint8Array(readFileSync(path));
  };
}
