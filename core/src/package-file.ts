/**
 * Files a package ships beside its code and reads at run time: an arch's guest agent
 * (`agent/agent.elf`), the conformance suite's test guests and their expected output.
 *
 * Such a file is found relative to the code (`new URL("../agent/agent.elf",
 * import.meta.url)` resolves the same from `src/` and from the built `dist/`) and must be
 * listed in the package's `files` to be published. When it is missing — a guest not built
 * in a clone, a package packed without it — the reader raises
 * {@link PackageFileMissingError}, which names the file and the package it belongs to, so
 * a conformance cell or the CLI reports what is missing instead of a stack trace.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { HvkitError } from "./errors.js";

/** A file a package should ship is not there. */
export class PackageFileMissingError extends HvkitError {
  /**
   * @param file - the file relative to its package's folder, e.g. `agent/agent.elf`.
   * @param path - the absolute path that was looked for.
   * @param packageName - the package that should hold it (`(no package)` when the path is
   *   in no package's folder).
   * @param hint - how to get the file back, if there is more to say than reinstalling.
   */
  constructor(
    readonly file: string,
    readonly path: string,
    readonly packageName: string,
    hint = "",
  ) {
    super(
      `${file} of ${packageName} is missing (looked for ${path}): reinstall the package` +
        (hint ? `, or ${hint}` : ""),
    );
  }
}

/** The package folder `path` lies in: the nearest folder above it with a package.json. */
function owningPackage(path: string): { name: string; dir: string } | undefined {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        const { name } = JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown };
        if (typeof name === "string") return { name, dir };
      } catch {
        // An unreadable manifest names no package; keep looking above it.
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Reads a file its package ships.
 * @param location - the file, usually `new URL("<relative>", import.meta.url)`.
 * @param hint - how a developer regenerates it in a clone (e.g. `run agent/build.sh`);
 *   included in the error's message.
 * @returns the file's bytes.
 * @throws {@link PackageFileMissingError} when the file (or a folder on its path) does not
 *   exist; any other read error as Node raised it.
 */
export function readPackageFile(location: URL | string, hint = ""): Uint8Array {
  const path = location instanceof URL ? fileURLToPath(location) : location;
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
    const owner = owningPackage(path);
    throw new PackageFileMissingError(
      owner ? relative(owner.dir, path).split("\\").join("/") : path,
      path,
      owner?.name ?? "(no package)",
      hint,
    );
  }
}
