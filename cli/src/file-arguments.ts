/**
 * The files named on the command line, read and checked in one place. Only regular files
 * are read: a FIFO, a device or a folder is refused before a byte is read, so
 * `hvkit inspect /dev/zero` neither waits nor fills memory. Nothing is read past a stated
 * limit per kind of file (standard input included). Report outputs are checked before a
 * run starts, so a bad path does not cost a whole run. Every refusal is a
 * {@link UsageError} (exit 2) naming the file and saying why.
 *
 * @module
 */
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  openSync,
  readSync,
  statSync,
  type Stats,
} from "node:fs";
import { dirname } from "node:path";
import { UsageError } from "./usage-error.js";

/** A kind of input file: what it is called in messages, and the most bytes read from it. */
export interface FileKind {
  /** What the file is, in messages: "image", "console input", ... */
  readonly what: string;
  /** The largest file accepted, in bytes. */
  readonly maxBytes: number;
  /** Whether `-` names standard input (read up to the same limit). */
  readonly stdin?: boolean;
}

const MiB = 1024 * 1024;

/** A kernel image (`run`, `inspect`, the images under `--xtf`): more than any guest needs. */
export const IMAGE_FILE: FileKind = { what: "image", maxBytes: 256 * MiB };

/** `--console-input-file` (`-`: standard input): bytes typed at a domU's console. */
export const CONSOLE_INPUT_FILE: FileKind = {
  what: "console input",
  maxBytes: 16 * MiB,
  stdin: true,
};

/** `--baseline`: a JSON list of expected failures. */
export const BASELINE_FILE: FileKind = { what: "baseline", maxBytes: 16 * MiB };

/** An xl config: `hvkit create`'s, or one beside an XTF image (`test-<env>-<name>.cfg`). */
export const XL_CONFIG_FILE: FileKind = { what: "xl config", maxBytes: 1 * MiB };

/** Describes a failed file operation in words (no raw `ENOENT: ...` text). */
export function describeFileError(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return "no such file";
    case "ENOTDIR":
      return "a part of the path is not a folder";
    case "EISDIR":
      return "is a directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "too many symbolic links";
    case "ENAMETOOLONG":
      return "path too long";
    default:
      return (e as Error).message;
  }
}

function size(bytes: number): string {
  if (bytes >= MiB) return `${Number((bytes / MiB).toFixed(1))} MiB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${bytes} bytes`;
}

function notRegular(st: Stats): string | null {
  if (st.isFile()) return null;
  if (st.isDirectory()) return "is a directory";
  const what = st.isFIFO()
    ? "a FIFO"
    : st.isCharacterDevice()
      ? "a character device"
      : st.isBlockDevice()
        ? "a block device"
        : st.isSocket()
          ? "a socket"
          : "not a file";
  return `is ${what}, not a regular file`;
}

function tooLarge(kind: FileKind, itIs?: string): string {
  const limit = `more than the ${size(kind.maxBytes)} limit for ${kind.what} files`;
  return itIs === undefined ? limit : `${itIs}, ${limit}`;
}

/** "it is 300 MiB" (in bytes when rounding would show the limit itself). */
function itIs(bytes: number, kind: FileKind): string {
  const shown = size(bytes);
  return `it is ${shown === size(kind.maxBytes) ? `${bytes} bytes` : shown}`;
}

/**
 * Opens `path` for reading without waiting (a FIFO without a writer would block `open`)
 * and checks it is a regular file within `kind`'s limit; returns the descriptor.
 */
function openRegular(path: string, kind: FileKind): number {
  const refuse = (why: string) => new UsageError(`cannot read ${kind.what} ${path}: ${why}`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw refuse(describeFileError(e));
  }
  try {
    const st = fstatSync(fd);
    const why = notRegular(st);
    if (why !== null) throw refuse(why);
    if (st.size > kind.maxBytes) throw refuse(tooLarge(kind, itIs(st.size, kind)));
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** Waits `ms` milliseconds (standard input that is not ready yet). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Reads `fd` to its end, refusing more than `kind.maxBytes`. `expected` (the size a
 * regular file had when opened) sizes the first read, so a file is read in one piece.
 */
function readBounded(fd: number, name: string, kind: FileKind, expected = 0): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const want = chunks.length === 0 ? Math.max(expected + 1, 64 * 1024) : MiB;
    const chunk = new Uint8Array(Math.min(want, kind.maxBytes + 1 - total));
    let n: number;
    try {
      n = readSync(fd, chunk, 0, chunk.length, null);
    } catch (e) {
      // Standard input set non-blocking by whoever started us: wait for the writer.
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") {
        pause(10);
        continue;
      }
      throw new UsageError(`cannot read ${kind.what} ${name}: ${describeFileError(e)}`);
    }
    if (n === 0) break;
    total += n;
    if (total > kind.maxBytes) {
      throw new UsageError(`cannot read ${kind.what} ${name}: ${tooLarge(kind)}`);
    }
    chunks.push(chunk.subarray(0, n));
  }
  if (chunks.length === 1) return chunks[0];
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return all;
}

/**
 * Reads the file `path` named on the command line: a regular file of at most
 * `kind.maxBytes` (or, for a kind that allows it, standard input when `path` is `-`).
 * Throws {@link UsageError} saying which file and why otherwise.
 */
export function readFileArgument(path: string, kind: FileKind): Uint8Array {
  if (path === "-" && kind.stdin === true) return readBounded(0, "from stdin", kind);
  const fd = openRegular(path, kind);
  try {
    return readBounded(fd, path, kind, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

/**
 * Checks, without reading it, that `path` is a regular file within `kind`'s limit (for
 * files read later, during a run). Throws {@link UsageError} as {@link readFileArgument}.
 */
export function checkFileArgument(path: string, kind: FileKind): void {
  closeSync(openRegular(path, kind));
}

/**
 * Checks that `path`, given to `option`, is an existing folder. Throws {@link UsageError}
 * (`<option> <path>: no such folder`, or `...: not a folder` followed by `hint`) otherwise.
 */
export function checkFolderArgument(option: string, path: string, hint: string): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" || code === "ENOTDIR" ? "no such folder" : describeFileError(e);
    throw new UsageError(`${option} ${path}: ${why}`);
  }
  if (!st.isDirectory()) throw new UsageError(`${option} ${path}: not a folder; ${hint}`);
}

/**
 * Checks before a run that the output file `path` given to `option` can be written
 * afterwards: it is not a folder, and it is writable or can be created (missing folders
 * above it are created when the file is written, under the nearest existing one, which
 * must be a writable folder). Devices such as `/dev/stdout` are accepted. Throws
 * {@link UsageError} naming the option and the path.
 */
export function checkOutputFile(option: string, path: string): void {
  const refuse = (why: string) => new UsageError(`${option} ${path}: ${why}`);
  let st: Stats | null = null;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") throw refuse(describeFileError(e));
  }
  if (st !== null) {
    if (st.isDirectory()) throw refuse("is a directory; give a file name to write to");
    try {
      accessSync(path, constants.W_OK);
    } catch (e) {
      throw refuse(`cannot be written: ${describeFileError(e)}`);
    }
    return;
  }
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    let up: Stats;
    try {
      up = statSync(dir);
    } catch {
      if (dirname(dir) === dir) throw refuse("no folder on its path exists");
      continue;
    }
    if (!up.isDirectory()) throw refuse(`cannot be created: ${dir} is not a folder`);
    try {
      accessSync(dir, constants.W_OK);
    } catch (e) {
      throw refuse(`cannot be created in ${dir}: ${describeFileError(e)}`);
    }
    return;
  }
}
