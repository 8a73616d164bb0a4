/**
 * Plugin discovery and `--plugin`: the workspace's plugin packages are found by their
 * package.json manifest, not by a list; a tiny arch plugin package in a temporary folder
 * (outside the repository) is loaded with `--plugin` and used by `hvkit run`; each way a
 * plugin package can be wrong is a usage error (exit 2) naming the package and the problem.
 */
import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildElf } from "@hvkit/core";
import { runHvkit as cli } from "./testing.js";
import {
  commandPackageDir,
  discoverPluginPackages,
  loadPlugins,
  pluginArguments,
  PluginError,
} from "./plugins.js";

const CORE = fileURLToPath(new URL("../../core", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "hvkit-plugins-"));

/** Writes a package folder `dir` with `pkg` as package.json and `files`. */
function writePackage(dir: string, pkg: object, files: Record<string, string> = {}): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify(pkg));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/**
 * A tiny arch plugin package outside the repository, written as a user would: ESM, its
 * manifest, `@hvkit/core` in its own node_modules (a link to this repository's core).
 */
function tinyArchPackage(
  name: string,
  arch: string,
  index?: string,
  pluginExport = "export const plugin = stub;",
): string {
  const dir = writePackage(
    join(tmp, name),
    {
      name,
      type: "module",
      exports: "./index.js",
      hvkit: { plugin: "arch", provides: ["plugin"] },
    },
    {
      "index.js":
        index ??
        `import { createStubArchPlugin, defineStruct, ulong } from "@hvkit/core";
const part = defineStruct("arch_part", "none", {});
const dataModel = {
  name: "${arch}64", littleEndian: true, long: 8, pointer: 8, handle: 8, xenPfn: 8, xenUlong: 8,
  int64Align: 8, legacyMaxVcpus: 32, wcSecHiInArch: false,
  archParts: { archVcpuInfo: part, archSharedInfo: part, xenCallback: ulong, archDomainConfig: part },
  structs: [], publishedSizes: [],
};
const stub = createStubArchPlugin({
  name: "${arch}", elfMachines: [0x7777], elfClasses: [64], endianness: "little", wordBits: 64,
  pageSizes: [4096], dataModel, requiresXenNotes: false, startInfoMagic: "xen-3.0-${arch}",
  modes: ["pv"], features: [],
});
${pluginExport}
`,
    },
  );
  mkdirSync(join(dir, "node_modules", "@hvkit"), { recursive: true });
  symlinkSync(CORE, join(dir, "node_modules", "@hvkit", "core"), "dir");
  return dir;
}

describe("plugin discovery", () => {
  it("finds the workspace's plugin packages by their manifest, not libraries or the core", () => {
    const found = discoverPluginPackages();
    const names = found.map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(["@hvkit/arch-x86_64", "@hvkit/arch-ia64"]));
    expect(names).toContain("@hvkit/arch-ppc");
    expect(names).not.toContain("@hvkit/conformance");
    expect(names).not.toContain("@hvkit/core");
    expect(names).toEqual([...names].sort());
    expect(found.find((p) => p.name === "@hvkit/arch-x86_64")?.manifest).toEqual({
      plugin: "arch",
      provides: ["x86_64PvPlugin"],
    });
    expect(found.find((p) => p.name === "@hvkit/arch-x86")?.manifest).toEqual({
      plugin: "arch",
      provides: ["x86PvPlugin"],
    });
    expect(commandPackageDir()).toBe(fileURLToPath(new URL("..", import.meta.url)).slice(0, -1));
  });

  it("looks in node_modules/@hvkit from the command up and at the command's dependencies", () => {
    const root = join(tmp, "install");
    const cmd = writePackage(join(root, "node_modules", "hvkit"), {
      name: "hvkit",
      dependencies: { "third-party-arch": "1.0.0", "@hvkit/lib": "1.0.0" },
    });
    const manifest = (plugin: string) => ({ plugin, provides: ["x"] });
    writePackage(join(root, "node_modules", "third-party-arch"), {
      name: "third-party-arch",
      hvkit: manifest("arch"),
    });
    writePackage(join(root, "node_modules", "@hvkit", "guest-os"), {
      name: "@hvkit/guest-os",
      hvkit: manifest("guest"),
    });
    writePackage(join(root, "node_modules", "@hvkit", "lib"), { name: "@hvkit/lib" });
    writePackage(join(root, "node_modules", "unrelated"), {
      name: "unrelated",
      hvkit: manifest("arch"),
    });
    const found = discoverPluginPackages(cmd);
    expect(found.map((p) => [p.name, p.manifest.plugin, p.discovered])).toEqual([
      ["@hvkit/guest-os", "guest", true],
      ["third-party-arch", "arch", true],
    ]);
  });

  it("reads --plugin values before the command is parsed", () => {
    expect(
      pluginArguments(["run", "--plugin", "a", "--plugin=b", "x", "--", "--plugin", "c"]),
    ).toEqual(["a", "b"]);
  });
});

describe("--plugin", () => {
  const tiny = tinyArchPackage("tiny-arch", "tiny");

  it("loads a plugin package from a folder outside the repository, next to the found ones", async () => {
    const loaded = await loadPlugins({ extra: [tiny] });
    const names = loaded.arches.map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(["x86_64", "ia64", "ppc", "tiny"]));
    expect(loaded.packages.find((p) => p.name === "tiny-arch")?.discovered).toBe(false);
    // Given twice (and a found package given again): each package loads once.
    const again = await loadPlugins({ extra: [tiny, tiny, "@hvkit/arch-ppc"] });
    expect(again.arches.filter((a) => a.name === "tiny")).toHaveLength(1);
    expect(again.arches.filter((a) => a.name === "ppc")).toHaveLength(1);
  });

  it("hvkit run offers the arch and reaches its hooks; a relative path works from the cwd", async () => {
    const help = await cli("run", "--help", "--plugin", tiny);
    expect(help.stdout).toMatch(/arch to run \([^)]*\btiny\b/);
    const image = join(tmp, "tiny.elf");
    writeFileSync(
      image,
      buildElf({
        machine: 0x7777,
        entry: 0x1000,
        segments: [{ vaddr: 0x1000, data: new Uint8Array(16) }],
      }),
    );
    const r = await cli("run", "--plugin", tiny, "--arch", "tiny", image);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /arch tiny cannot boot images yet: its hook hypercalls is not implemented/,
    );
    const relative = await loadPlugins({ extra: ["./tiny-arch"], cwd: tmp });
    expect(relative.arches.map((x) => x.name)).toContain("tiny");
  });

  it("without --plugin the outside package is not there", async () => {
    const r = await cli("run", "--help");
    expect(r.stdout).not.toMatch(/\btiny\b/);
  });

  const bad: [string, () => string, RegExp][] = [
    ["a missing folder", () => join(tmp, "nowhere"), /no such folder, and no installed package/],
    [
      "a file",
      () => (writeFileSync(join(tmp, "plain.txt"), "x"), join(tmp, "plain.txt")),
      /is a file; give the folder/,
    ],
    [
      "a folder without package.json",
      () => (mkdirSync(join(tmp, "empty"), { recursive: true }), join(tmp, "empty")),
      /empty: no package\.json there/,
    ],
    [
      "a package without the manifest",
      () => writePackage(join(tmp, "no-manifest"), { name: "no-manifest" }),
      /plugin package .*no-manifest: its package\.json has no "hvkit"/,
    ],
    [
      "a manifest of an unknown kind",
      () =>
        writePackage(join(tmp, "odd-kind"), {
          name: "odd-kind",
          hvkit: { plugin: "device", provides: ["x"] },
        }),
      /plugin package odd-kind: package\.json "hvkit\.plugin" is "device"/,
    ],
    [
      "a manifest that provides nothing",
      () =>
        writePackage(join(tmp, "provides-none"), {
          name: "provides-none",
          hvkit: { plugin: "arch", provides: [] },
        }),
      /plugin package provides-none: package\.json "hvkit\.provides" must list/,
    ],
    [
      "an entry that throws",
      () => tinyArchPackage("throws-arch", "t", `throw new Error("boom at load");\n`),
      /plugin package throws-arch: cannot be loaded: boom at load/,
    ],
    [
      "a provided name the entry does not export",
      () => tinyArchPackage("missing-export", "m", `export const other = 1;\n`),
      /plugin package missing-export: exports no plugin \(its hvkit\.provides names it\)/,
    ],
    [
      "an export without a required hook",
      () =>
        tinyArchPackage(
          "hookless",
          "h",
          undefined,
          "export const plugin = { ...stub, createVcpu: undefined };",
        ),
      /plugin package hookless: plugin is not an arch plugin: it has no createVcpu hook/,
    ],
    [
      "an export that is not a plugin at all",
      () => tinyArchPackage("not-plugin", "n", `export const plugin = { name: "n" };\n`),
      /plugin package not-plugin: plugin is not an arch plugin: its endianness is not a string/,
    ],
    [
      "an arch name another package provides",
      () => tinyArchPackage("second-x86_64", "x86_64"),
      /plugin package second-x86_64: provides arch x86_64, which @hvkit\/arch-x86_64 provides already/,
    ],
  ];
  it.each(bad)("%s is a usage error naming the package", async (_what, make, message) => {
    const r = await cli("run", "--help", "--plugin", make());
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/^hvkit: plugin package /);
  });

  it("a bad package found by discovery is the same error", async () => {
    const root = join(tmp, "bad-install");
    const cmd = writePackage(join(root, "node_modules", "hvkit"), { name: "hvkit" });
    writePackage(join(root, "node_modules", "@hvkit", "broken"), {
      name: "@hvkit/broken",
      hvkit: { plugin: "arch" },
    });
    await expect(loadPlugins({ from: cmd })).rejects.toThrow(PluginError);
    await expect(loadPlugins({ from: cmd })).rejects.toThrow(
      /@hvkit\/broken: package\.json "hvkit\.provides"/,
    );
  });
});
