/**
 * The cpio "newc" (SVR4, no CRC) archive format, as the Linux kernel unpacks an initramfs
 * (init/initramfs.c; Documentation/driver-api/early-userspace/buffer-format.rst): each
 * entry is the magic `070701`, thirteen 8-digit hexadecimal fields, the NUL-terminated
 * name padded to a multiple of 4 bytes from the header's start, and the data padded to 4;
 * the archive ends with the entry `TRAILER!!!`.
 *
 * @module
 */

/** File type bits of `st_mode` (S_IFMT values). */
export const CpioType = {
  /** S_IFREG: a regular file. */
  File: 0o100000,
  /** S_IFDIR: a directory. */
  Directory: 0o040000,
  /** S_IFLNK: a symbolic link; its data is the target. */
  Symlink: 0o120000,
  /** S_IFCHR: a character device. */
  CharDevice: 0o020000,
} as const;

/** One member of an archive. Paths are relative (`bin/sh`), as the kernel expects them. */
export type CpioEntry =
  | {
      readonly kind: "file";
      readonly path: string;
      readonly mode: number;
      readonly data: Uint8Array;
    }
  | { readonly kind: "directory"; readonly path: string; readonly mode: number }
  | { readonly kind: "symlink"; readonly path: string; readonly target: string }
  | {
      readonly kind: "char-device";
      readonly path: string;
      readonly mode: number;
      readonly major: number;
      readonly minor: number;
    };

/** The name of the entry that ends an archive. */
export const CPIO_TRAILER = "TRAILER!!!";

const encoder = new TextEncoder();

function typeOf(e: CpioEntry): number {
  switch (e.kind) {
    case "file":
      return CpioType.File;
    case "directory":
      return CpioType.Directory;
    case "symlink":
      return CpioType.Symlink;
    case "char-device":
      return CpioType.CharDevice;
  }
}

/**
 * Writes `entries`, in order, as a newc archive ending with the trailer. Every entry is
 * owned by root (uid and gid 0) with mtime 0, so the same entries give the same bytes;
 * inode numbers count from 1 in entry order; a directory has nlink 2, others 1. A
 * symlink's mode is 0777. A path that is empty, absolute or holds a NUL is a RangeError.
 */
export function writeCpioNewc(entries: readonly CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let length = 0;
  const push = (bytes: Uint8Array): void => {
    parts.push(bytes);
    length += bytes.length;
    const pad = (4 - (length % 4)) % 4;
    if (pad > 0) {
      parts.push(new Uint8Array(pad));
      length += pad;
    }
  };
  const member = (
    ino: number,
    mode: number,
    nlink: number,
    name: string,
    data: Uint8Array,
    rdev: readonly [number, number] = [0, 0],
  ): void => {
    const nameBytes = encoder.encode(`${name}\0`);
    const fields = [
      ino,
      mode,
      0,
      0,
      nlink,
      0,
      data.length,
      0,
      0,
      rdev[0],
      rdev[1],
      nameBytes.length,
      0,
    ];
    const header = `070701${fields.map((f) => (f >>> 0).toString(16).padStart(8, "0")).join("")}`;
    const head = new Uint8Array(header.length + nameBytes.length);
    head.set(encoder.encode(header));
    head.set(nameBytes, header.length);
    push(head);
    if (data.length > 0) push(data);
  };
  entries.forEach((e, i) => {
    if (e.path === "" || e.path.startsWith("/") || e.path.includes("\0"))
      throw new RangeError(`cpio entry ${JSON.stringify(e.path)}: not a relative path`);
    const perm = e.kind === "symlink" ? 0o777 : e.mode & 0o7777;
    const data =
      e.kind === "file"
        ? e.data
        : e.kind === "symlink"
          ? encoder.encode(e.target)
          : new Uint8Array(0);
    const rdev: [number, number] = e.kind === "char-device" ? [e.major, e.minor] : [0, 0];
    member(i + 1, typeOf(e) | perm, e.kind === "directory" ? 2 : 1, e.path, data, rdev);
  });
  member(0, 0, 1, CPIO_TRAILER, new Uint8Array(0));
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
