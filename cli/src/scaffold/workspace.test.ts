/**
 * A package scaffolded inside hvkit's workspace (a copy of the repository's root files in a
 * temporary folder): it is `@hvkit/<folder>`, builds like its siblings, and the scaffold
 * writes exactly what has no glob — the tsconfig reference, the lock entries npm would
 * write, the node_modules link, the baseline entry — keeping each file's layout.
 */
import { describe, expect, it } from "vitest";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as prettier from "prettier";
import { findBaselineEntry, parseBaseline } from "@hvkit/conformance";
import { REPOSITORY_ROOT, runHvkit } from "../testing.js";
import { lintProblems, readPackage, typeErrors } from "./package-checks.js";
import { isHvkitWorkspace } from "./workspace.js";
import { hvkitVersion } from "./package-scaffold.js";

/** A workspace root with the repository's root files and core's manifest. */
function fakeWorkspace(): string {
  const root = mkdtempSync(join(tmpdir(), "hvkit-workspace-"));
  for (const f of ["package.json", "package-lock.json", "tsconfig.json"])
    cpSync(join(REPOSITORY_ROOT, f), join(root, f));
  mkdirSync(join(root, "conformance"));
  cpSync(
    join(REPOSITORY_ROOT, "conformance", "baseline.json"),
    join(root, "conformance", "baseline.json"),
  );
  mkdirSync(join(root, "core"));
  cpSync(join(REPOSITORY_ROOT, "core", "package.json"), join(root, "core", "package.json"));
  mkdirSync(join(root, "node_modules", "@hvkit"), { recursive: true });
  return root;
}

async function cli(...argv: string[]) {
  const r = await runHvkit(...argv);
  return { status: r.status, output: r.stdout + r.stderr };
}

async function laidOut(root: string, file: string): Promise<boolean> {
  const config = await prettier.resolveConfig(join(REPOSITORY_ROOT, "package.json"));
  return prettier.check(readFileSync(join(root, file), "utf8"), {
    ...config,
    filepath: join(REPOSITORY_ROOT, file),
  });
}

describe("a package scaffolded inside hvkit's workspace", () => {
  const root = fakeWorkspace();

  it("is recognised by the root's workspace globs and core's manifest", () => {
    expect(isHvkitWorkspace(root, "arch-zz")).toBe(true);
    expect(isHvkitWorkspace(root, "guest-yy")).toBe(true);
    expect(isHvkitWorkspace(root, "tools-zz")).toBe(false);
    expect(isHvkitWorkspace(join(root, "conformance"), "arch-zz")).toBe(false);
    expect(isHvkitWorkspace(REPOSITORY_ROOT, "arch-zz")).toBe(true);
  });

  it("wires an arch in: reference, lock entries, link and baseline entry, and says so", async () => {
    const r = await cli("new-arch", "zz", "--elf-machine", "243", "--dir", root);
    expect(r.status).toBe(0);
    expect(r.output).toMatch(
      /changed in the workspace:\n {2}tsconfig\.json: .*\n {2}package-lock\.json: .*\n {2}node_modules\/@hvkit\/arch-zz: .*\n {2}conformance\/baseline\.json: "zz\/\*" expected ERROR/,
    );
    const pkg = JSON.parse(readFileSync(join(root, "arch-zz", "package.json"), "utf8"));
    expect(pkg).toMatchObject({
      name: "@hvkit/arch-zz",
      version: hvkitVersion(),
      license: "MIT",
      dependencies: { "@hvkit/core": hvkitVersion() },
    });
    expect(pkg.devDependencies).toBeUndefined();

    const tsconfig = readFileSync(join(root, "tsconfig.json"), "utf8");
    expect(tsconfig).toMatch(
      /\{ "path": "arch-ppc" \},\n {4}\{ "path": "arch-zz" \},\n {4}\{ "path": "guests" \}/,
    );
    expect(await laidOut(root, "tsconfig.json")).toBe(true);

    const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
    expect(lock.packages["arch-zz"]).toEqual({
      name: "@hvkit/arch-zz",
      version: hvkitVersion(),
      license: "MIT",
      dependencies: { "@hvkit/core": hvkitVersion() },
      engines: { node: ">=20" },
    });
    expect(lock.packages["node_modules/@hvkit/arch-zz"]).toEqual({
      resolved: "arch-zz",
      link: true,
    });
    const keys = Object.keys(lock.packages);
    expect(keys[0]).toBe("");
    expect(keys.slice(1)).toEqual([...keys.slice(1)].sort((a, b) => a.localeCompare(b, "en")));

    const link = join(root, "node_modules", "@hvkit", "arch-zz");
    expect(readlinkSync(link)).toBe(join("..", "..", "arch-zz"));
    expect(realpathSync(link)).toBe(realpathSync(join(root, "arch-zz")));

    const baseline = parseBaseline(
      readFileSync(join(root, "conformance", "baseline.json"), "utf8"),
    );
    expect(findBaselineEntry(baseline, "zz/pv/hvkit-test/dom0/boot/hello")).toMatchObject({
      expect: "ERROR",
    });
    expect(findBaselineEntry(baseline, "x86_64/pv/hvkit-test/dom0/boot/hello")).toBeUndefined();
    expect(await laidOut(root, "conformance/baseline.json")).toBe(true);
  });

  it("writes the arch package as its siblings are: it typechecks, lints and has a golden-layout to-do", async () => {
    const dir = join(root, "arch-zz");
    expect(readFileSync(join(dir, "tsconfig.json"), "utf8")).toMatch(
      /"extends": "\.\.\/tsconfig\.base\.json"/,
    );
    expect(readFileSync(join(dir, "src", "layouts.test.ts"), "utf8")).toMatch(
      /describeGoldenLayouts/,
    );
    expect(typeErrors(dir)).toEqual([]);
    expect(await lintProblems(readPackage(dir), "arch-zz")).toEqual([]);
  }, 60_000);

  it("wires a guest adapter in beside the guest packages, its baseline entry on its own cells", async () => {
    const r = await cli("new-guest", "yy", "--arch", "x86_64", "--dir", root);
    expect(r.status).toBe(0);
    const tsconfig = readFileSync(join(root, "tsconfig.json"), "utf8");
    expect(tsconfig).toMatch(
      /\{ "path": "guests" \},\n {4}\{ "path": "guest-yy" \},\n {4}\{ "path": "runner" \}/,
    );
    const baseline = parseBaseline(
      readFileSync(join(root, "conformance", "baseline.json"), "utf8"),
    );
    expect(findBaselineEntry(baseline, "x86_64/pv/yy/domU/guest/boot")).toMatchObject({
      expect: "ERROR",
    });
    expect(findBaselineEntry(baseline, "x86_64/pv/hvkit-test/domU/yy/boot")).toBeUndefined();
    expect(await laidOut(root, "tsconfig.json")).toBe(true);
  });

  it("leaves alone what is there already, and says what it could not do", async () => {
    writeFileSync(join(root, "tsconfig.json"), '{ "files": [], "references": [] }\n');
    const r = await cli("new-arch", "aa", "--dir", root);
    expect(r.status).toBe(0);
    expect(r.output).toMatch(
      /tsconfig\.json: add \{ "path": "arch-aa" \} to "references" yourself/,
    );
    expect(readFileSync(join(root, "tsconfig.json"), "utf8")).toBe(
      '{ "files": [], "references": [] }\n',
    );
  });
});
