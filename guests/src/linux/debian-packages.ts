/**
 * Debian packages obtained by name at run time, through the host's apt, and kept in a
 * cache folder outside any repository (`$XDG_CACHE_HOME/hvkit/debian`, else
 * `~/.cache/hvkit/debian`): `apt-get download` fetches a package's .deb into the cache
 * (once per version) and `dpkg-deb -x` unpacks it beside. Nothing of what is fetched is
 * part of hvkit.
 *
 * @module
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Runs `command` with `args` in `cwd` and resolves with its standard output; rejects when
 * it cannot be started (an error whose `code` is `ENOENT` when it does not exist) or exits
 * non-zero (the message holds its standard error).
 */
export type CommandRunner = (
  command: string,
  args: readonly string[],
  cwd: string,
) => Promise<string>;

/** Runs commands on the host ({@link CommandRunner}). */
export const hostCommand: CommandRunner = (command, args, cwd) =>
  new Promise((resolve, reject) => {
    execFile(command, [...args], { cwd, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else {
        const e = error as NodeJS.ErrnoException;
        if (e.code === "ENOENT") reject(e);
        else reject(new Error(`${command} ${args.join(" ")}: ${stderr.trim() || e.message}`));
      }
    });
  });

/** A package that cannot be had on this host; the message says why and what would help. */
export class PackageUnavailableError extends Error {
  /**
   * @param pkg - the package's name.
   * @param reason - why it cannot be had.
   */
  constructor(
    readonly pkg: string,
    readonly reason: string,
  ) {
    super(`Debian package ${pkg}: ${reason}`);
    this.name = "PackageUnavailableError";
  }
}

/**
 * hvkit's cache folder: `$XDG_CACHE_HOME/hvkit` when XDG_CACHE_HOME is set (and absolute,
 * as the XDG base directory specification asks), else `<home>/.cache/hvkit`.
 */
export function hvkitCacheDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
  home: string = homedir(),
): string {
  const xdg = env.XDG_CACHE_HOME;
  return xdg !== undefined && xdg.startsWith("/")
    ? join(xdg, "hvkit")
    : join(home, ".cache", "hvkit");
}

/** What apt knows of a package (`apt-cache show`, the candidate version). */
export interface PackageRecord {
  /** Its name. */
  readonly name: string;
  /** The candidate version (with its epoch, `1:1.35.0-4`). */
  readonly version: string;
  /** Its architecture (`amd64`, `all`). */
  readonly architecture: string;
  /** The package names of its Depends field, alternatives and version constraints dropped. */
  readonly depends: readonly string[];
}

/** Reads the first stanza of `apt-cache show` output; null when it has no Package/Version. */
export function parsePackageRecord(text: string): PackageRecord | null {
  const stanza = text.split(/\n\n/)[0];
  const field = (name: string): string | undefined =>
    new RegExp(`^${name}: *(.*)$`, "m").exec(stanza)?.[1].trim();
  const name = field("Package");
  const version = field("Version");
  if (name === undefined || version === undefined) return null;
  const depends = (field("Depends") ?? "")
    .split(",")
    .map(
      (d) =>
        d
          .split("|")[0]
          .trim()
          .split(/[\s(:]/)[0],
    )
    .filter((d) => d !== "");
  return { name, version, architecture: field("Architecture") ?? "all", depends };
}

/** The file name `apt-get download` gives a package's .deb (an epoch's `:` as `%3a`). */
export function debFileName(p: PackageRecord): string {
  return `${p.name}_${p.version.replace(/:/g, "%3a")}_${p.architecture}.deb`;
}

/**
 * Debian packages by name in a cache folder. Each package version is downloaded once;
 * later calls find it in the cache (apt is still asked which version is the candidate).
 */
export class DebianPackageCache {
  /**
   * @param dir - the cache folder (created when needed), e.g. `<hvkitCacheDir()>/debian`.
   * @param run - how commands are run (the host's, by default).
   */
  constructor(
    readonly dir: string = join(hvkitCacheDir(), "debian"),
    private readonly run: CommandRunner = hostCommand,
  ) {}

  /** apt's record of `name`; {@link PackageUnavailableError} when apt is missing or knows none. */
  async record(name: string): Promise<PackageRecord> {
    let out: string;
    try {
      out = await this.run("apt-cache", ["show", "--no-all-versions", name], this.ensureDir());
    } catch (e) {
      throw this.unavailable(name, e, "apt-cache show");
    }
    const record = parsePackageRecord(out);
    if (record === null)
      throw new PackageUnavailableError(name, "apt knows no such package (run apt-get update?)");
    return record;
  }

  /** The cached .deb of `name`'s candidate version, downloaded first when absent. */
  async download(name: string): Promise<string> {
    const record = await this.record(name);
    const file = join(this.ensureDir(), debFileName(record));
    if (existsSync(file)) return file;
    try {
      await this.run("apt-get", ["download", `${record.name}=${record.version}`], this.dir);
    } catch (e) {
      throw this.unavailable(name, e, "apt-get download");
    }
    if (!existsSync(file))
      throw new PackageUnavailableError(name, `apt-get download wrote no ${debFileName(record)}`);
    return file;
  }

  /**
   * The folder holding the files of `name`'s candidate version, downloaded and unpacked
   * (`dpkg-deb -x`) first when absent.
   */
  async unpack(name: string): Promise<string> {
    const deb = await this.download(name);
    const dir = deb.replace(/\.deb$/, "");
    if (existsSync(dir)) return dir;
    const partial = `${dir}.partial`;
    rmSync(partial, { recursive: true, force: true });
    try {
      await this.run("dpkg-deb", ["-x", deb, partial], this.dir);
    } catch (e) {
      rmSync(partial, { recursive: true, force: true });
      throw this.unavailable(name, e, "dpkg-deb -x");
    }
    renameSync(partial, dir);
    return dir;
  }

  private ensureDir(): string {
    mkdirSync(this.dir, { recursive: true });
    return this.dir;
  }

  private unavailable(name: string, e: unknown, what: string): PackageUnavailableError {
    const err = e as NodeJS.ErrnoException;
    if (err?.code === "ENOENT")
      return new PackageUnavailableError(
        name,
        `${what.split(" ")[0]} is not installed (needs Debian's apt and dpkg)`,
      );
    return new PackageUnavailableError(name, `${what} failed: ${err?.message ?? String(e)}`);
  }
}
