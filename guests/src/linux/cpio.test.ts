/**
 * The newc writer, read back two ways: by a reader written here from the format's
 * description (field by field, independent of the writer), and, where GNU cpio is
 * installed, by `cpio -itv`, whose listing must name every member with its type, mode,
 * size and link target.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CPIO_TRAILER, writeCpioNewc, type CpioEntry } from "./cpio.js";

interface Member {
  readonly ino: number;
  readonly mode: number;
  readonly uid: number;
  readonly nlink: number;
  readonly mtime: number;
  readonly rdev: [number, number];
  readonly name: string;
  readonly data: Uint8Array;
}

/** Reads a newc archive as buffer-format.rst describes it; throws on anything malformed. */
function readNewc(archive: Uint8Array): Member[] {
  const text = (a: number, n: number): string =>
    Buffer.from(archive.subarray(a, a + n)).toString("latin1");
  const out: Member[] = [];
  let at = 0;
  for (;;) {
    if (text(at, 6) !== "070701") throw new Error(`no magic at ${at}`);
    const f = (i: number): number => parseInt(text(at + 6 + i * 8, 8), 16);
    const namesize = f(11);
    const size = f(6);
    const name = text(at + 110, namesize - 1);
    if (archive[at + 110 + namesize - 1] !== 0) throw new Error(`name at ${at} not NUL-terminated`);
    const dataAt = Math.ceil((at + 110 + namesize) / 4) * 4;
    const member: Member = {
      ino: f(0),
      mode: f(1),
      uid: f(2),
      nlink: f(4),
      mtime: f(5),
      rdev: [f(9), f(10)],
      name,
      data: archive.slice(dataAt, dataAt + size),
    };
    at = Math.ceil((dataAt + size) / 4) * 4;
    if (name === CPIO_TRAILER) {
      if (at !== archive.length) throw new Error(`${archive.length - at} bytes after the trailer`);
      return out;
    }
    out.push(member);
  }
}

const ENTRIES: CpioEntry[] = [
  { kind: "directory", path: "bin", mode: 0o755 },
  { kind: "char-device", path: "dev-console", mode: 0o600, major: 5, minor: 1 },
  { kind: "file", path: "bin/busybox", mode: 0o755, data: new Uint8Array([1, 2, 3, 4, 5]) },
  { kind: "symlink", path: "bin/sh", target: "busybox" },
  { kind: "file", path: "init", mode: 0o744, data: new TextEncoder().encode("#!/bin/sh\n") },
  { kind: "file", path: "empty", mode: 0o644, data: new Uint8Array(0) },
];

describe("cpio newc writer", () => {
  it("writes each member's header, name and data, 4-byte aligned, and the trailer last", () => {
    const archive = writeCpioNewc(ENTRIES);
    expect(archive.length % 4).toBe(0);
    const members = readNewc(archive);
    expect(members.map((m) => [m.name, m.mode.toString(8), m.ino, m.nlink])).toEqual([
      ["bin", "40755", 1, 2],
      ["dev-console", "20600", 2, 1],
      ["bin/busybox", "100755", 3, 1],
      ["bin/sh", "120777", 4, 1],
      ["init", "100744", 5, 1],
      ["empty", "100644", 6, 1],
    ]);
    expect(members[1].rdev).toEqual([5, 1]);
    expect([...members[2].data]).toEqual([1, 2, 3, 4, 5]);
    expect(Buffer.from(members[3].data).toString()).toBe("busybox");
    expect(members.every((m) => m.uid === 0 && m.mtime === 0)).toBe(true);
    // The first header: magic, ino 1, mode 040755, uid 0, gid 0, nlink 2, ... namesize 4.
    expect(Buffer.from(archive.subarray(0, 54)).toString()).toBe(
      "070701" + "00000001" + "000041ed" + "00000000" + "00000000" + "00000002" + "00000000",
    );
  });

  it("refuses a path that is absolute or empty", () => {
    expect(() => writeCpioNewc([{ kind: "directory", path: "/bin", mode: 0o755 }])).toThrow(
      /"\/bin": not a relative path/,
    );
    expect(() => writeCpioNewc([{ kind: "symlink", path: "", target: "x" }])).toThrow(RangeError);
  });

  it("round-trips any files through the reader, whatever their name and data lengths", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            name: fc.stringMatching(/^[a-z][a-z0-9._-]{0,20}$/),
            data: fc.uint8Array({ maxLength: 40 }),
          }),
          { maxLength: 8 },
        ),
        (files) => {
          const entries = files.map((f): CpioEntry => ({
            kind: "file",
            path: f.name,
            mode: 0o644,
            data: f.data,
          }));
          const back = readNewc(writeCpioNewc(entries));
          expect(back.map((m) => m.name)).toEqual(files.map((f) => f.name));
          expect(back.map((m) => [...m.data])).toEqual(files.map((f) => [...f.data]));
        },
      ),
    );
  });

  const hasCpio = spawnSync("cpio", ["--version"]).status === 0;
  it.skipIf(!hasCpio)(
    "is read by GNU cpio (cpio -itv) with every member's type, mode, size and target",
    () => {
      const listing = execFileSync("cpio", ["-itv", "--quiet", "--numeric-uid-gid"], {
        input: writeCpioNewc(ENTRIES),
      }).toString();
      const lines = listing
        .trim()
        .split("\n")
        .map((l) => l.split(/\s+/));
      // mode, links, uid, gid, size (or major, minor), month, day, year, name [-> target]
      expect(lines.map((l) => [l[0], l[1], l[2], l[3]])).toEqual([
        ["drwxr-xr-x", "2", "0", "0"],
        ["crw-------", "1", "0", "0"],
        ["-rwxr-xr-x", "1", "0", "0"],
        ["lrwxrwxrwx", "1", "0", "0"],
        ["-rwxr--r--", "1", "0", "0"],
        ["-rw-r--r--", "1", "0", "0"],
      ]);
      expect(lines.map((l) => l.slice(l.indexOf("1970") + 1).join(" "))).toEqual([
        "bin",
        "dev-console",
        "bin/busybox",
        "bin/sh -> busybox",
        "init",
        "empty",
      ]);
      expect(lines[1].slice(4, 6)).toEqual(["5,", "1"]);
      expect(lines[2][4]).toBe("5");
    },
  );
});
