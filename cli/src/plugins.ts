/**
 * Finding and loading hvkit plugin packages: arch plugins (`ArchPlugin`) and guest adapters
 * (`GuestAdapter`). Nothing is listed by hand: a package is a plugin package when its
 * package.json says so,
 *
 * ```json
 * "hvkit": { "plugin": "arch", "provides": ["x86_64PvPlugin"] }
 * ```
 *
 * (`"plugin": "guest"` for guest adapters), and `provides` names the exports of its entry
 * module that are plugins. The `hvkit` command loads
 *
 * - every plugin package it can resolve: its own dependencies, and every package in a
 *   `node_modules/@hvkit/` folder on the way from the command's package up to the root (in
 *   the repository, the workspace's packages: a new port is found as soon as it exists);
 * - the packages named with `--plugin <package name or path>` (repeatable), for a plugin
 *   outside the repository: a folder holding the package, or a package name installed in a
 *   `node_modules` folder from the working directory up.
 *
 * Loading is a dynamic import. A package that cannot be loaded, lacks the manifest, or
 * names an export that is missing or does not have the shape of its kind is a
 * {@link PluginError} naming the package and what is wrong (the command exits 2).
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ArchPlugin, GuestAdapter } from "@hvkit/core";

/** The kinds of plugin a package can provide. */
export type PluginKind = "arch" | "guest";

/** The `hvkit` field of a plugin package's package.json. */
export interface PluginManifest {
  /** What the package provides. */
  readonly plugin: PluginKind;
  /** Names of the entry module's exports that are plugins of that kind (at least one). */
  readonly provides: readonly string[];
}

/** A plugin package found on disk. */
export interface PluginPackage {
  /** The package's name (package.json `name`). */
  readonly name: string;
  /** Its folder. */
  readonly dir: string;
  /** Its manifest. */
  readonly manifest: PluginManifest;
  /**
   * True when it was found by discovery (so `import(name)` resolves it from the command),
   * false when given with `--plugin` (loaded from its folder).
   */
  readonly discovered: boolean;
}

/** What loading the plugin packages gave. */
export interface LoadedPlugins {
  /** Arch plugins, in package-name order, then in `provides` order. */
  readonly arches: readonly ArchPlugin[];
  /** Guest adapters, in the same order. */
  readonly guests: readonly GuestAdapter[];
  /** The packages they came from. */
  readonly packages: readonly PluginPackage[];
}

/** A plugin package that cannot be used; the message names the package and the problem. */
export class PluginError extends Error {
  /**
   * @param pkg - the package (name or the path it was given as).
   * @param detail - what is wrong.
   */
  constructor(
    readonly pkg: string,
    readonly detail: string,
  ) {
    super(`plugin package ${pkg}: ${detail}`);
    this.name = "PluginError";
  }
}

interface PackageJson {
  readonly name?: unknown;
  readonly main?: unknown;
  readonly exports?: unknown;
  readonly dependencies?: Record<string, string>;
  readonly hvkit?: unknown;
}

function readPackageJson(dir: string): PackageJson | null {
  const file = join(dir, "package.json");
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, "utf8")) as PackageJson;
}

/** The folder of the package holding the command (its package.json's folder). */
export function commandPackageDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** Every `node_modules` folder from `dir` up to the file system's root, nearest first. */
function nodeModulesFrom(dir: string): string[] {
  const out: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    const nm = join(d, "node_modules");
    if (existsSync(nm)) out.push(nm);
    if (dirname(d) === d) return out;
  }
}

/** The folder of package `name` as Node would find it from `dir`, or null. */
function findPackage(name: string, dir: string): string | null {
  for (const nm of nodeModulesFrom(dir)) {
    const p = join(nm, name);
    if (existsSync(join(p, "package.json"))) return p;
  }
  return null;
}

/**
 * The manifest in package.json's `hvkit` field; null when there is none; throws
 * {@link PluginError} for one that is malformed.
 */
export function readManifest(
  pkg: string,
  json: { readonly hvkit?: unknown },
): PluginManifest | null {
  const m = json.hvkit as { plugin?: unknown; provides?: unknown } | undefined;
  if (m === undefined) return null;
  if (typeof m !== "object" || m === null) {
    throw new PluginError(pkg, `package.json "hvkit" must be { "plugin": "arch" | "guest", ... }`);
  }
  if (m.plugin === undefined) return null;
  if (m.plugin !== "arch" && m.plugin !== "guest") {
    throw new PluginError(
      pkg,
      `package.json "hvkit.plugin" is "${m.plugin}", not "arch" or "guest"`,
    );
  }
  const provides = m.provides;
  if (
    !Array.isArray(provides) ||
    provides.length === 0 ||
    !provides.every((p) => typeof p === "string")
  ) {
    throw new PluginError(
      pkg,
      `package.json "hvkit.provides" must list the names of the exports that are ${m.plugin} plugins`,
    );
  }
  return { plugin: m.plugin, provides };
}

function pluginPackageAt(dir: string, discovered: boolean, given = dir): PluginPackage | null {
  const json = readPackageJson(dir);
  if (json === null) throw new PluginError(given, "no package.json there");
  const name = typeof json.name === "string" ? json.name : given;
  const manifest = readManifest(name, json);
  return manifest === null ? null : { name, dir, manifest, discovered };
}

/**
 * The plugin packages resolvable from the command's package `from`: its dependencies, and
 * every package in a `node_modules/@hvkit/` folder from `from` up; each name once (the
 * nearest), sorted by name.
 */
export function discoverPluginPackages(from: string = commandPackageDir()): PluginPackage[] {
  const dirs = new Map<string, string>();
  for (const nm of nodeModulesFrom(from)) {
    const scope = join(nm, "@hvkit");
    if (!existsSync(scope)) continue;
    for (const entry of readdirSync(scope)) {
      const name = `@hvkit/${entry}`;
      if (!dirs.has(name) && existsSync(join(scope, entry, "package.json")))
        dirs.set(name, join(scope, entry));
    }
  }
  for (const name of Object.keys(readPackageJson(from)?.dependencies ?? {})) {
    if (dirs.has(name)) continue;
    const dir = findPackage(name, from);
    if (dir !== null) dirs.set(name, dir);
  }
  const found: PluginPackage[] = [];
  for (const [name, dir] of [...dirs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const p = pluginPackageAt(dir, true, name);
    if (p !== null) found.push(p);
  }
  return found;
}

/**
 * The package a `--plugin` argument names: a path (absolute, or relative to `cwd`) to a
 * package folder, else a package name found in a `node_modules` folder from `cwd` up or
 * from the command's package up. Throws {@link PluginError} when there is no package or it
 * has no manifest.
 */
export function resolvePluginArgument(spec: string, cwd: string, from: string): PluginPackage {
  const path = isAbsolute(spec) ? spec : resolve(cwd, spec);
  let dir: string | null = null;
  if (existsSync(path)) {
    if (!statSync(path).isDirectory()) {
      throw new PluginError(spec, "is a file; give the folder that holds the package.json");
    }
    dir = path;
  } else if (!spec.startsWith(".") && !isAbsolute(spec)) {
    dir = findPackage(spec, cwd) ?? findPackage(spec, from);
  }
  if (dir === null)
    throw new PluginError(spec, "no such folder, and no installed package of that name");
  const p = pluginPackageAt(dir, false, spec);
  if (p === null) {
    throw new PluginError(
      spec,
      `its package.json has no "hvkit": { "plugin": "arch" | "guest", "provides": [...] } field, so it is not an hvkit plugin package`,
    );
  }
  return p;
}

/** True when this process resolves the `source` export condition (TypeScript sources). */
function sourceCondition(): boolean {
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  return args.some(
    (a, i) =>
      a === "--conditions=source" ||
      a === "-C=source" ||
      ((a === "--conditions" || a === "-C") && args[i + 1] === "source"),
  );
}

/** The entry module of the package in `dir`: its `exports` "." target, else `main`, else index.js. */
function entryOf(pkg: PluginPackage): string {
  const json = readPackageJson(pkg.dir)!;
  const conditions = [...(sourceCondition() ? ["source"] : []), "import", "node", "default"];
  const pick = (target: unknown): string | null => {
    if (typeof target === "string") return target;
    if (typeof target !== "object" || target === null) return null;
    const t = target as Record<string, unknown>;
    if ("." in t) return pick(t["."]);
    for (const c of conditions) if (c in t) return pick(t[c]);
    return null;
  };
  const target = pick(json.exports) ?? (typeof json.main === "string" ? json.main : "index.js");
  const file = resolve(pkg.dir, target);
  if (!existsSync(file))
    throw new PluginError(pkg.name, `its entry ${target} does not exist (not built?)`);
  return file;
}

const ARCH_DATA = [
  ["name", "string"],
  ["endianness", "string"],
  ["wordBits", "number"],
  ["startInfoMagic", "string"],
  ["requiresXenNotes", "boolean"],
] as const;
const ARCH_LISTS = ["elfMachines", "elfClasses", "pageSizes", "modes", "features"] as const;
const ARCH_HOOKS = [
  "hypercalls",
  "createDomainState",
  "createVcpu",
  "buildDomain",
  "disassemble",
  "guestAgent",
] as const;

/** What keeps `value` from being an `ArchPlugin` (its required members), or null when nothing. */
export function archPluginProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return "it is not an object";
  const v = value as Record<string, unknown>;
  for (const [key, type] of ARCH_DATA) {
    if (typeof v[key] !== type) return `its ${key} is not a ${type}`;
  }
  for (const key of ARCH_LISTS) if (!Array.isArray(v[key])) return `its ${key} is not an array`;
  const model = v.dataModel as Record<string, unknown> | undefined;
  if (
    typeof model !== "object" ||
    model === null ||
    typeof model.name !== "string" ||
    typeof model.archParts !== "object"
  ) {
    return "its dataModel is not a DataModel (name, widths, archParts ...)";
  }
  for (const key of ARCH_HOOKS) {
    if (typeof v[key] !== "function") return `it has no ${key} hook (a function)`;
  }
  return null;
}

/** What keeps `value` from being a `GuestAdapter` (its required members), or null. */
export function guestAdapterProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null) return "it is not an object";
  const v = value as Record<string, unknown>;
  if (typeof v.name !== "string") return "its name is not a string";
  if (typeof v.imageFormat !== "string") return "its imageFormat is not a string";
  for (const key of ["arches", "roles", "modes"]) {
    if (!Array.isArray(v[key])) return `its ${key} is not an array`;
  }
  for (const key of ["declines", "buildImage"]) {
    if (typeof v[key] !== "function") return `it has no ${key} method`;
  }
  return null;
}

async function loadPackage(
  pkg: PluginPackage,
): Promise<{ arches: ArchPlugin[]; guests: GuestAdapter[] }> {
  let mod: Record<string, unknown>;
  try {
    const specifier = pkg.discovered ? pkg.name : pathToFileURL(entryOf(pkg)).href;
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof PluginError) throw e;
    throw new PluginError(pkg.name, `cannot be loaded: ${(e as Error)?.message ?? String(e)}`);
  }
  const arches: ArchPlugin[] = [];
  const guests: GuestAdapter[] = [];
  const { plugin, provides } = pkg.manifest;
  for (const name of provides) {
    if (!(name in mod)) {
      throw new PluginError(pkg.name, `exports no ${name} (its hvkit.provides names it)`);
    }
    const value = mod[name];
    const problem = plugin === "arch" ? archPluginProblem(value) : guestAdapterProblem(value);
    if (problem !== null) {
      throw new PluginError(
        pkg.name,
        `${name} is not ${plugin === "arch" ? "an arch plugin" : "a guest adapter"}: ${problem}`,
      );
    }
    if (plugin === "arch") arches.push(value as ArchPlugin);
    else guests.push(value as GuestAdapter);
  }
  return { arches, guests };
}

/** Where {@link loadPlugins} looks. */
export interface PluginSearch {
  /** `--plugin` arguments, in order. */
  readonly extra?: readonly string[];
  /** The folder relative `--plugin` paths start from (default: the working directory). */
  readonly cwd?: string;
  /** The command's package folder discovery starts from (default: the `hvkit` package). */
  readonly from?: string;
}

/**
 * Discovers the plugin packages, adds the `--plugin` ones (a package found both ways is
 * loaded once), loads them and checks every plugin they provide. Two plugins of one kind
 * with one name are an error naming both packages.
 */
export async function loadPlugins(search: PluginSearch = {}): Promise<LoadedPlugins> {
  const from = search.from ?? commandPackageDir();
  const cwd = search.cwd ?? process.cwd();
  const packages = discoverPluginPackages(from);
  for (const spec of search.extra ?? []) {
    const p = resolvePluginArgument(spec, cwd, from);
    if (!packages.some((q) => q.name === p.name)) packages.push(p);
  }
  const arches: ArchPlugin[] = [];
  const guests: GuestAdapter[] = [];
  const owner = new Map<string, string>();
  const claim = (pkg: PluginPackage, key: string): void => {
    const first = owner.get(key);
    if (first !== undefined) {
      throw new PluginError(pkg.name, `provides ${key}, which ${first} provides already`);
    }
    owner.set(key, pkg.name);
  };
  for (const pkg of packages) {
    const loaded = await loadPackage(pkg);
    for (const a of loaded.arches) claim(pkg, `arch ${a.name}`);
    for (const g of loaded.guests) claim(pkg, `guest adapter ${g.name}`);
    arches.push(...loaded.arches);
    guests.push(...loaded.guests);
  }
  return { arches, guests, packages };
}

/**
 * The `--plugin` values in a command line (`--plugin X` and `--plugin=X`, before any
 * `--`), read before the command is parsed because the plugins decide which arches the
 * command offers.
 */
export function pluginArguments(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") break;
    if (a === "--plugin" && i + 1 < argv.length) out.push(argv[++i]);
    else if (a.startsWith("--plugin=")) out.push(a.slice("--plugin=".length));
  }
  return out;
}
