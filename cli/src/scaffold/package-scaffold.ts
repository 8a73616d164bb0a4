/**
 * What `hvkit new-arch` and `hvkit new-guest` share: checking the port's name and deriving
 * the package's names from it, the files every hvkit package has (package.json with the
 * plugin manifest, tsconfig.json, tsup.config.ts, typedoc.json), and writing a package
 * folder without ever overwriting one.
 *
 * A package is written for one of two homes. Inside hvkit's workspace (a clone, where the
 * folder lands among the root's workspaces) it is `@hvkit/<folder>` and builds like its
 * siblings: its tsconfig extends the workspace's and references core, its tsup config is
 * the shared one. Anywhere else it stands alone as `hvkit-<folder>`, with its own compiler
 * settings and development dependencies, and `@hvkit/core` as a peer: it is loaded with
 * `--plugin` by an hvkit installed beside it, and must share that hvkit's core.
 *
 * Generated sources are laid out as prettier lays them out with the repository's settings
 * (printWidth 100), so a scaffolded package passes `npm run lint` at once.
 *
 * @module
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { commandPackageDir } from "../plugins.js";
import { UsageError } from "../usage-error.js";

/** The kinds of package the scaffold writes. */
export type ScaffoldKind = "arch" | "guest";

/**
 * The longest port name accepted: it is spelled into identifiers, ids and file names, and
 * `xen-3.0-<name>` must fit start_info's 32-byte magic.
 */
export const MAX_PORT_NAME = 23;

/**
 * What a port's name (and an arch name a guest adapter declares) may be: a lowercase letter,
 * then lowercase letters and digits, words joined by single `-` or `_`.
 */
export const PORT_NAME = /^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$/;

/** A port's name and everything derived from it. */
export interface PortNames {
  /** The name as the matrix and the CLI spell it (`riscv64`). */
  readonly name: string;
  /** The package's folder (`arch-riscv64`, `guest-netbsd`). */
  readonly folder: string;
  /** camelCase, for values (`riscv64`, `armV7` for `arm-v7`). */
  readonly camel: string;
  /** PascalCase, for classes (`Riscv64`). */
  readonly pascal: string;
  /** CONSTANT_CASE, for constants (`RISCV64`, `ARM_V7`). */
  readonly constant: string;
}

/** Where a package is written and how it builds there. */
export interface ScaffoldHome {
  /** True inside hvkit's workspace (see the module comment). */
  readonly workspace: boolean;
  /** hvkit's version: the `@hvkit/core` the package depends on. */
  readonly version: string;
}

/** One file of a package, relative to its folder. */
export interface ScaffoldFile {
  /** Path inside the package, `/`-separated. */
  readonly path: string;
  /** Its text. */
  readonly text: string;
  /** True for a script (mode 755). */
  readonly executable?: boolean;
}

/**
 * Checks a port's name and derives its names; throws {@link UsageError} saying what a name
 * may hold. `taken` lists the names already in use for this kind (registered arches, guest
 * sets) and why each is taken.
 */
export function portNames(
  kind: ScaffoldKind,
  name: string,
  taken: ReadonlyMap<string, string> = new Map(),
): PortNames {
  const what = kind === "arch" ? "arch" : "guest adapter";
  if (!PORT_NAME.test(name) || name.length > MAX_PORT_NAME) {
    throw new UsageError(
      `${what} name "${name}" must be 1 to ${MAX_PORT_NAME} characters: a lowercase letter, then ` +
        `lowercase letters and digits, words joined by single - or _ (e.g. riscv64, arm-v7); ` +
        `it names the package, its folder and the ${kind === "arch" ? "arch's column" : "guest set"} of the matrix`,
    );
  }
  const why = taken.get(name);
  if (why !== undefined) throw new UsageError(`${what} name "${name}" is taken: ${why}`);
  const words = name.split("-");
  const cap = (w: string): string => w[0].toUpperCase() + w.slice(1);
  return {
    name,
    folder: `${kind}-${name}`,
    camel: words[0] + words.slice(1).map(cap).join(""),
    pascal: words.map(cap).join(""),
    constant: name.replace(/-/g, "_").toUpperCase(),
  };
}

/** The package name of `folder` in `home`. */
export function packageName(folder: string, home: ScaffoldHome): string {
  return home.workspace ? `@hvkit/${folder}` : `hvkit-${folder}`;
}

/** hvkit's own version (its package.json's), which every `@hvkit/*` package shares. */
export function hvkitVersion(): string {
  const json = JSON.parse(readFileSync(join(commandPackageDir(), "package.json"), "utf8")) as {
    version?: unknown;
  };
  return typeof json.version === "string" ? json.version : "0.0.0";
}

/**
 * Development dependencies of a package that stands alone: the versions hvkit itself is
 * built and tested with (a test keeps them equal to the workspace's).
 */
export const STANDALONE_DEV_DEPENDENCIES: Readonly<Record<string, string>> = {
  "@types/node": "^20.19.43",
  tsup: "^8.5.0",
  typescript: "^5.9.3",
  vitest: "^4.1.12",
};

/**
 * `items` between `open` and `close` as prettier prints a list: on one line when it fits
 * in 100 columns after `indent` spaces, else one item per line, each followed by a comma.
 * `close` may carry what follows the list on its line (`];`, `} from "./x.js";`).
 */
export function fitList(
  indent: number,
  open: string,
  items: readonly string[],
  close: string,
  spaced = false,
): string {
  const pad = spaced && items.length > 0 ? " " : "";
  const line = `${open}${pad}${items.join(", ")}${pad}${close}`;
  if (indent + line.length <= 100 || items.length === 0) return line;
  const inner = " ".repeat(indent + 2);
  let body = items.map((i) => `${inner}${i},`);
  if (items.length > 1 && items.every((i) => /^(0x[0-9a-f]+|\d+)$/i.test(i))) {
    // Prettier fills a list of numbers: as many to a line as fit.
    body = [];
    let line = "";
    for (const i of items) {
      if (line !== "" && inner.length + line.length + 1 + i.length + 1 > 100) {
        body.push(inner + line);
        line = "";
      }
      line = line === "" ? `${i},` : `${line} ${i},`;
    }
    body.push(inner + line);
  }
  return `${open}\n${body.join("\n")}\n${" ".repeat(indent)}${close}`;
}

/**
 * `text` as lines of at most 92 columns (so a line stays under prettier's 100 with room for
 * the reader), each starting with `prefix`; words are never split.
 */
export function wrapWords(text: string, prefix = ""): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && prefix.length + line.length + 1 + word.length > 92) {
      lines.push(prefix + line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(prefix + line);
  return lines;
}

/**
 * A TSDoc (or module) block comment of `text` at `indent`, each paragraph (separated by a
 * blank line) wrapped by {@link wrapWords}.
 */
export function docComment(text: string, indent = ""): string {
  const body = text
    .split("\n\n")
    .flatMap((p, i) => [...(i > 0 ? [`${indent} *`] : []), ...wrapWords(p, `${indent} * `)]);
  return [`${indent}/**`, ...body, `${indent} */`].join("\n");
}

/** What a package's package.json says beyond the common fields. */
export interface PackageJsonSpec {
  /** The package folder. */
  readonly folder: string;
  /** One line on what the package is. */
  readonly description: string;
  /** Folders shipped beside `dist` (an arch's `agent`). */
  readonly files: readonly string[];
  /** The plugin kind and the exports that are plugins. */
  readonly manifest: { readonly plugin: ScaffoldKind; readonly provides: readonly string[] };
}

/**
 * The package.json: ESM, Node 20, the `source` export condition (the TypeScript, for the
 * workspace's tests and `--plugin` from a clone), the hvkit manifest; in the workspace,
 * `@hvkit/core` of the same version as a dependency, as its siblings have it; standing
 * alone, as a peer (one core shared with the hvkit that loads it) and for development.
 */
export function packageJson(spec: PackageJsonSpec, home: ScaffoldHome): ScaffoldFile {
  const core = { "@hvkit/core": home.version };
  const json = {
    name: packageName(spec.folder, home),
    version: home.workspace ? home.version : "0.1.0",
    description: spec.description,
    type: "module",
    ...(home.workspace ? { license: "MIT" } : {}),
    engines: { node: ">=20" },
    exports: {
      ".": { source: "./src/index.ts", types: "./dist/index.d.ts", import: "./dist/index.js" },
    },
    files: [...spec.files, "dist"],
    scripts: home.workspace
      ? { build: "tsup" }
      : { build: "tsup", typecheck: "tsc --noEmit", test: "vitest run" },
    ...(home.workspace
      ? { dependencies: core }
      : { peerDependencies: core, devDependencies: { ...core, ...STANDALONE_DEV_DEPENDENCIES } }),
    hvkit: spec.manifest,
  };
  return { path: "package.json", text: JSON.stringify(json, null, 2) + "\n" };
}

/** tsconfig.json, tsup.config.ts and typedoc.json of a package in `home`. */
export function buildConfigFiles(home: ScaffoldHome): ScaffoldFile[] {
  const tsconfig = home.workspace
    ? `{
  "extends": "../tsconfig.base.json",
  "compilerOptions": {
    "rootDir": "src",
    "outDir": ".tsbuild",
    "tsBuildInfoFile": ".tsbuild/tsconfig.tsbuildinfo"
  },
  "include": ["src"],
  "references": [{ "path": "../core" }]
}
`
    : `{
  "compilerOptions": {
    "target": "ES2022",
    "lib": ["ES2023"],
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "types": ["node"],
    "strict": true,
    "isolatedModules": true,
    "esModuleInterop": true,
    "skipLibCheck": true,
    "noEmit": true
  },
  "include": ["src"]
}
`;
  const tsup = home.workspace
    ? `import { packageConfig } from "../tsup.base.js";

export default packageConfig(["src/index.ts"]);
`
    : `import { defineConfig } from "tsup";

// ESM and .d.ts for Node 20; @hvkit/core stays an import (one core, shared with hvkit).
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm"],
  dts: true,
  skipNodeModulesBundle: true,
  clean: true,
  target: "node20",
});
`;
  return [
    { path: "tsconfig.json", text: tsconfig },
    { path: "tsup.config.ts", text: tsup },
    {
      path: "typedoc.json",
      text: `{
  "$schema": "https://typedoc.org/schema.json",
  "entryPoints": ["src/index.ts"],
  "tsconfig": "tsconfig.json"
}
`,
    },
  ];
}

/**
 * Checks that `parent` is a folder in which `folder` does not exist yet; throws
 * {@link UsageError} otherwise (the scaffold never overwrites).
 */
export function checkTarget(parent: string, folder: string): void {
  if (!existsSync(parent)) throw new UsageError(`--dir ${parent}: no such folder`);
  if (!lstatSync(parent).isDirectory()) throw new UsageError(`--dir ${parent}: not a folder`);
  const dir = join(parent, folder);
  if (existsSync(dir) || isDanglingLink(dir)) {
    throw new UsageError(
      `${dir} exists already; hvkit never overwrites it: choose another name or --dir, or remove it`,
    );
  }
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Writes `files` into the new folder `parent`/`folder` (see {@link checkTarget}). */
export function writePackage(parent: string, folder: string, files: readonly ScaffoldFile[]): void {
  checkTarget(parent, folder);
  for (const f of files) {
    const path = join(parent, folder, ...f.path.split("/"));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.text);
    if (f.executable) chmodSync(path, 0o755);
  }
}
