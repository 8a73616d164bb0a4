/**
 * A new package inside hvkit's own workspace (a clone of the repository). The root's
 * workspace list and typedoc's entry points name packages by glob (`arch-*`, `guest*`), so
 * they pick the package up as they are, and the plugin is discovered from
 * `node_modules/@hvkit`. What has no glob the scaffold writes itself, as npm and a porter
 * would, and reports each change:
 *
 * - `tsconfig.json`: the project reference (`tsc --build` takes no globs);
 * - `package-lock.json`: the package's workspace entries, as `npm install` writes them, so
 *   `npm ci` on a clean clone stays in step;
 * - `node_modules/@hvkit/<folder>`: the link `npm install` makes for a workspace package;
 * - `conformance/baseline.json`: the port's cells as expected ERRORs, so the repository's
 *   own suite test (`npm test`) stays green while the port is unfinished; the runner reports
 *   the entry as fixed once its cells pass.
 *
 * @module
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

/** True when workspace pattern `pattern` (`arch-*`, `guest*`, `core`) names `folder`. */
function matchesWorkspace(pattern: string, folder: string): boolean {
  const re = new RegExp(`^${pattern.split("*").map(escapeRegExp).join("[^/]*")}$`);
  return re.test(folder);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * True when `parent` is the root of hvkit's workspace (its package.json lists workspaces,
 * one of them `core`, which is `@hvkit/core`) and a package folder `folder` made there is
 * one of its workspaces.
 */
export function isHvkitWorkspace(parent: string, folder: string): boolean {
  const root = readJson(join(parent, "package.json")) as { workspaces?: unknown } | undefined;
  const workspaces = root?.workspaces;
  if (!Array.isArray(workspaces) || !workspaces.every((w) => typeof w === "string")) return false;
  const core = readJson(join(parent, "core", "package.json")) as { name?: unknown } | undefined;
  return (
    core?.name === "@hvkit/core" &&
    (workspaces as string[]).some((w) => matchesWorkspace(w, folder))
  );
}

/** A new workspace package, as the lock file records it. */
export interface WorkspacePackage {
  /** Its folder under the root. */
  readonly folder: string;
  /** Its package.json's text. */
  readonly packageJson: string;
}

/** A baseline entry for the port's cells. */
export interface BaselineSpec {
  /** Entry id pattern. */
  readonly id: string;
  /** Why the cells fail. */
  readonly reason: string;
}

/**
 * Adds the reference to `folder` to the root tsconfig.json's list, after the last one of
 * the same kind (`arch-`, `guest`), keeping the file's layout. Returns what it did.
 */
function addReference(root: string, folder: string): string | null {
  const path = join(root, "tsconfig.json");
  if (!existsSync(path)) return null;
  const lines = readFileSync(path, "utf8").split("\n");
  const ref = /^(\s*)\{ "path": "([^"]+)" \}(,?)\s*$/;
  const refs = lines.flatMap((l, i) => {
    const m = ref.exec(l);
    return m ? [{ i, indent: m[1], path: m[2], comma: m[3] === "," }] : [];
  });
  if (refs.some((r) => r.path === folder)) return null;
  if (refs.length === 0) {
    return `tsconfig.json: add { "path": "${folder}" } to "references" yourself (its list is not in the usual layout)`;
  }
  const kind = folder.startsWith("arch-") ? "arch-" : "guest";
  const after = [...refs].reverse().find((r) => r.path.startsWith(kind)) ?? refs[refs.length - 1];
  const line = `${after.indent}{ "path": "${folder}" }${after.comma ? "," : ""}`;
  if (!after.comma) lines[after.i] = lines[after.i].replace(/\}\s*$/, "},");
  lines.splice(after.i + 1, 0, line);
  writeFileSync(path, lines.join("\n"));
  return `tsconfig.json: the project reference { "path": "${folder}" } (tsc --build takes no globs)`;
}

/**
 * Adds the workspace entries of the new package to package-lock.json, as `npm install`
 * writes them: the package's own (name, version, license, dependency lists, engines) and
 * the `node_modules/<name>` link, keys in npm's order.
 */
function addLockEntries(root: string, pkg: WorkspacePackage): string | null {
  const path = join(root, "package-lock.json");
  const lock = readJson(path) as { packages?: Record<string, unknown> } | undefined;
  if (lock?.packages === undefined) return null;
  const json = JSON.parse(pkg.packageJson) as Record<string, unknown> & { name: string };
  if (lock.packages[pkg.folder] !== undefined) return null;
  const entry: Record<string, unknown> = {};
  for (const key of [
    "name",
    "version",
    "license",
    "dependencies",
    "devDependencies",
    "peerDependencies",
    "engines",
  ]) {
    if (json[key] !== undefined) entry[key] = json[key];
  }
  const packages: Record<string, unknown> = {
    ...lock.packages,
    [pkg.folder]: entry,
    [`node_modules/${json.name}`]: { resolved: pkg.folder, link: true },
  };
  const keys = Object.keys(packages)
    .filter((k) => k !== "")
    .sort((a, b) => a.localeCompare(b, "en"));
  lock.packages = Object.fromEntries(
    ["", ...keys].filter((k) => k in packages).map((k) => [k, packages[k]]),
  );
  writeFileSync(path, JSON.stringify(lock, null, 2) + "\n");
  return "package-lock.json: the package's workspace entries, as npm install writes them";
}

/** Links `node_modules/<name>` to the package, as npm does for a workspace package. */
function linkPackage(root: string, pkg: WorkspacePackage): string | null {
  const { name } = JSON.parse(pkg.packageJson) as { name: string };
  const modules = join(root, "node_modules");
  if (!existsSync(modules)) return null;
  const link = join(modules, ...name.split("/"));
  try {
    lstatSync(link);
    return null;
  } catch {
    // Not there yet (not even a dangling link): make it.
  }
  mkdirSync(join(link, ".."), { recursive: true });
  const up = name.split("/").map(() => "..");
  symlinkSync(join(...up, pkg.folder), link, "dir");
  return `node_modules/${name}: a link to ${pkg.folder}/, as npm install makes it (so hvkit finds the plugin)`;
}

/** Appends `spec` to conformance/baseline.json as an expected ERROR. */
function addBaselineEntry(root: string, spec: BaselineSpec): string | null {
  const path = join(root, "conformance", "baseline.json");
  const baseline = readJson(path) as { entries?: unknown[] } | undefined;
  if (!Array.isArray(baseline?.entries)) return null;
  if (baseline.entries.some((e) => (e as { id?: unknown }).id === spec.id)) return null;
  baseline.entries.push({ id: spec.id, expect: "ERROR", reason: spec.reason });
  writeFileSync(path, JSON.stringify(baseline, null, 2) + "\n");
  return `conformance/baseline.json: "${spec.id}" expected ERROR until the port's cells pass (the run reports it fixed then)`;
}

/**
 * Wires the new package `pkg` into the workspace at `root` (see the module comment);
 * returns one line per file changed.
 */
export function wireIntoWorkspace(
  root: string,
  pkg: WorkspacePackage,
  baseline: BaselineSpec,
): string[] {
  return [
    addReference(root, pkg.folder),
    addLockEntries(root, pkg),
    linkPackage(root, pkg),
    addBaselineEntry(root, baseline),
  ].filter((l): l is string => l !== null);
}
