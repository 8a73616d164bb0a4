/**
 * The package cache, with apt and dpkg-deb played by a recorded runner: where the cache
 * lives, that a version is downloaded once and unpacked once, what apt's records say, and
 * that a host without apt (or a package apt does not know) is "unavailable", saying why.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  DebianPackageCache,
  debFileName,
  hvkitCacheDir,
  PackageUnavailableError,
  parsePackageRecord,
  type CommandRunner,
} from "./debian-packages.js";

const BUSYBOX_RECORD = `Package: busybox-static
Version: 1:1.35.0-4+b1
Architecture: amd64
Depends: libc6 (>= 2.34), foo | bar:any

Package: busybox-static
Version: 1:1.30.1-6
`;

describe("hvkitCacheDir", () => {
  it("is $XDG_CACHE_HOME/hvkit when that is an absolute path, else ~/.cache/hvkit", () => {
    expect(hvkitCacheDir({ XDG_CACHE_HOME: "/var/cache/me" }, "/home/u")).toBe(
      "/var/cache/me/hvkit",
    );
    expect(hvkitCacheDir({}, "/home/u")).toBe("/home/u/.cache/hvkit");
    expect(hvkitCacheDir({ XDG_CACHE_HOME: "relative" }, "/home/u")).toBe("/home/u/.cache/hvkit");
  });
});

describe("apt records", () => {
  it("reads the candidate's name, version, architecture and depended-on names", () => {
    const r = parsePackageRecord(BUSYBOX_RECORD)!;
    expect(r).toEqual({
      name: "busybox-static",
      version: "1:1.35.0-4+b1",
      architecture: "amd64",
      depends: ["libc6", "foo"],
    });
    expect(debFileName(r)).toBe("busybox-static_1%3a1.35.0-4+b1_amd64.deb");
    expect(parsePackageRecord("N: Unable to locate package x\n")).toBeNull();
  });
});

describe("DebianPackageCache", () => {
  let dir: string;
  let calls: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "hvkit-debcache-"));
    calls = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const aptLike: CommandRunner = async (command, args, cwd) => {
    calls.push(`${command} ${args.join(" ")}`);
    if (command === "apt-cache") return args[2] === "busybox-static" ? BUSYBOX_RECORD : "";
    if (command === "apt-get")
      writeFileSync(join(cwd, "busybox-static_1%3a1.35.0-4+b1_amd64.deb"), "deb");
    if (command === "dpkg-deb") {
      mkdirSync(join(args[2], "bin"), { recursive: true });
      writeFileSync(join(args[2], "bin", "busybox"), "elf");
    }
    return "";
  };

  it("downloads a version once and unpacks it once", async () => {
    const cache = new DebianPackageCache(join(dir, "debian"), aptLike);
    const unpacked = await cache.unpack("busybox-static");
    expect(unpacked).toBe(join(dir, "debian", "busybox-static_1%3a1.35.0-4+b1_amd64"));
    expect(existsSync(join(unpacked, "bin", "busybox"))).toBe(true);
    expect(await cache.unpack("busybox-static")).toBe(unpacked);
    expect(calls).toEqual([
      "apt-cache show --no-all-versions busybox-static",
      "apt-get download busybox-static=1:1.35.0-4+b1",
      `dpkg-deb -x ${join(dir, "debian", "busybox-static_1%3a1.35.0-4+b1_amd64.deb")} ${unpacked}.partial`,
      "apt-cache show --no-all-versions busybox-static",
    ]);
  });

  it("says a package is unavailable when apt knows none, or is not installed", async () => {
    const cache = new DebianPackageCache(dir, aptLike);
    await expect(cache.download("no-such-package")).rejects.toThrow(
      /^Debian package no-such-package: apt knows no such package \(run apt-get update\?\)$/,
    );
    const noApt = new DebianPackageCache(dir, async (command) => {
      throw Object.assign(new Error(`spawn ${command} ENOENT`), { code: "ENOENT" });
    });
    const e = await noApt.unpack("busybox-static").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PackageUnavailableError);
    expect((e as Error).message).toBe(
      "Debian package busybox-static: apt-cache is not installed (needs Debian's apt and dpkg)",
    );
  });

  it("leaves no half-unpacked folder behind when dpkg-deb fails", async () => {
    const failing: CommandRunner = async (command, args, cwd) => {
      if (command === "dpkg-deb") {
        mkdirSync(args[2], { recursive: true });
        throw new Error("dpkg-deb: error: not a Debian format archive");
      }
      return aptLike(command, args, cwd);
    };
    const cache = new DebianPackageCache(dir, failing);
    await expect(cache.unpack("busybox-static")).rejects.toThrow(
      /dpkg-deb -x failed: dpkg-deb: error: not a Debian format archive/,
    );
    expect(existsSync(join(dir, "busybox-static_1%3a1.35.0-4+b1_amd64.partial"))).toBe(false);
    expect(existsSync(join(dir, "busybox-static_1%3a1.35.0-4+b1_amd64"))).toBe(false);
  });
});
