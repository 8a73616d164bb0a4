/**
 * `hvkit new-arch`: bad names and values are usage errors saying what is wanted; an existing
 * folder is never overwritten; the package it writes outside the repository is loaded with
 * `--plugin`, shows every applicable cell of `hvkit conformance` as ERROR naming the hook it
 * needs first, and the report moves on to the next hook as hooks are written into the
 * generated source. The generated sources typecheck against the workspace's core, pass
 * its lint rules and are laid out as prettier lays them out.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ARCH_HOOK_NAMES } from "@hvkit/core";
import type { EntryReport } from "@hvkit/conformance";
import { filesUnder, lintProblems, readPackage, typeErrors } from "../scaffold/package-checks.js";
import {
  editedCopy,
  pluginHome,
  runHvkit as cli,
  useSourceCondition,
  type CapturedRun,
} from "../testing.js";

const tmp = pluginHome("hvkit-new-arch-");

let reports = 0;

/**
 * Runs `hvkit conformance --plugin <dir> --arch <arch>` (our own tests, no baseline) from
 * the TypeScript sources, as `npm run hvkit` does in a clone, and returns its entries.
 */
async function conformance(dir: string, arch: string): Promise<EntryReport[]> {
  const json = join(dir, "..", `report-${++reports}.json`);
  const r = await cli(
    "conformance",
    ...["--plugin", dir, "--arch", arch, "--guest", "hvkit-test", "--no-baseline"],
    ...["--json", json],
  );
  expect(r.stderr).not.toMatch(/plugin package|internal error/);
  expect(r.status).toBe(1);
  return (JSON.parse(readFileSync(json, "utf8")) as { entries: EntryReport[] }).entries;
}

/** The hooks that block `entries`, and the results of those no hook blocks. */
function blocking(entries: readonly EntryReport[]): Record<string, string[]> {
  const by: Record<string, string[]> = {};
  for (const e of entries) (by[e.blockedBy?.hook ?? e.result] ??= []).push(e.test);
  return by;
}

/** A copy of package `dir` in a new folder `name`, with `edit` applied to its file `file`. */
const step = (dir: string, name: string, file: string, edit: (text: string) => string): string =>
  editedCopy(dir, join(tmp, name, "arch-zz"), file, edit);

describe("hvkit new-arch", () => {
  // The command runs from the TypeScript sources (as `npm run hvkit` does), so --plugin
  // loads a package's `source` export: the generated package needs no build.
  useSourceCondition();

  const bad: [string, string[], RegExp][] = [
    ["an upper-case name", ["RISCV"], /arch name "RISCV" must be 1 to 23 characters: a lowercase/],
    ["a name with a slash", ["a/b"], /arch name "a\/b" must be/],
    ["a name too long", ["a".repeat(24)], /must be 1 to 23 characters/],
    ["the name of a registered arch", ["ppc"], /arch name "ppc" is taken: an arch of that name/],
    [
      "an ELF machine out of range",
      ["yy", "--elf-machine", "70000"],
      /--elf-machine wants ELF e_machine numbers from 1 to 65535 .* got "70000"/,
    ],
    ["an ELF machine that is no number", ["yy", "--elf-machine", "risc"], /got "risc"/],
    ["a word size of 16", ["yy", "--word-bits", "16"], /--word-bits wants 32 or 64, got "16"/],
    [
      "an ELF class of 128",
      ["yy", "--elf-class", "64,128"],
      /--elf-class wants 32 or 64, got "128"/,
    ],
    [
      "a page size not a power of two",
      ["yy", "--page-size", "4000"],
      /--page-size wants powers of two from 1024 to 1048576 bytes .* got "4000"/,
    ],
    ["a page size too small", ["yy", "--page-size", "512"], /got "512"/],
    [
      "an unknown byte order",
      ["yy", "--endianness", "middle"],
      /unknown endianness "middle" \(known: little, big\)/,
    ],
    ["an unknown mode", ["yy", "--mode", "pv,hvm"], /unknown mode "hvm" \(known: pv, hvm-vmx/],
    [
      "a magic that is not xen-x.y-abi",
      ["yy", "--start-info-magic", "linux"],
      /--start-info-magic wants "xen-<version>-<abi>"/,
    ],
    [
      "a magic too long for start_info",
      ["yy", "--start-info-magic", `xen-3.0-${"a".repeat(24)}`],
      /at most 31/,
    ],
    [
      "a --dir that does not exist",
      ["yy", "--dir", join(tmp, "nowhere")],
      /--dir .*nowhere: no such folder/,
    ],
  ];
  it.each(bad)("refuses %s (exit 2, saying what is wanted)", async (_what, args, message) => {
    const r = await cli("new-arch", ...args, ...(args.includes("--dir") ? [] : ["--dir", tmp]));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^hvkit: /);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(tmp, "arch-yy"))).toBe(false);
  });

  let written: CapturedRun;
  beforeAll(async () => {
    written = await cli("new-arch", "zz", "--elf-machine", "0x7777", "--dir", tmp);
  });

  it("writes the package of an arch port outside the repository, never over a folder", async () => {
    const r = written;
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const dir = join(tmp, "arch-zz");
    expect(filesUnder(dir)).toEqual([
      "README.md",
      "agent/agent.S",
      "agent/build.sh",
      "agent/link.ld",
      "package.json",
      "scripts/golden-models",
      "scripts/struct-oracle-arch.h",
      "src/abi.ts",
      "src/agent.test.ts",
      "src/agent.ts",
      "src/data-model.ts",
      "src/index.ts",
      "src/plugin.test.ts",
      "tsconfig.json",
      "tsup.config.ts",
      "typedoc.json",
    ]);
    expect(statSync(join(dir, "agent", "build.sh")).mode & 0o111).not.toBe(0);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    expect(pkg).toMatchObject({
      name: "hvkit-arch-zz",
      type: "module",
      files: ["agent", "dist"],
      exports: { ".": { source: "./src/index.ts", import: "./dist/index.js" } },
      hvkit: { plugin: "arch", provides: ["zzPlugin"] },
      peerDependencies: { "@hvkit/core": expect.any(String) },
    });
    expect(r.stdout).toMatch(/hvkit conformance --plugin \.\/arch-zz --arch zz/);
    // Again: the folder exists now.
    const again = await cli("new-arch", "zz", "--dir", tmp);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/arch-zz exists already; hvkit never overwrites it/);
  });

  it("shows every applicable cell ERROR naming the hook it needs, then the next as hooks are written", async () => {
    const first = join(tmp, "arch-zz");
    const entries = await conformance(first, "zz");
    const by = blocking(entries);
    // Every cell that boots the agent needs guestAgent first; the host-only layout check
    // needs the sizes the arch publishes; cells needing a feature the port does not
    // declare are SKIP.
    expect(Object.keys(by).sort()).toEqual(["SKIP", "dataModel.publishedSizes", "guestAgent"]);
    expect(by.guestAgent.length).toBeGreaterThan(10);
    expect(by["dataModel.publishedSizes"]).toEqual(["abi/published-sizes", "abi/published-sizes"]);
    for (const e of entries.filter((x) => x.blockedBy?.hook === "guestAgent"))
      expect(e.message).toBe("missing arch hook guestAgent (zz)");

    // Wire the agent in: its members are loud stubs too, so the cells name the image.
    const second = step(first, "step2", "src/index.ts", (text) =>
      text
        .replace(
          `import { ZZ_DATA_MODEL }`,
          `import { ZzGuestAgent } from "./agent.js";\nimport { ZZ_DATA_MODEL }`,
        )
        .replace(
          /( *)\/\/ Ported hooks replace their stubs here.*\n/,
          "$&$1guestAgent: () => new ZzGuestAgent(),\n",
        ),
    );
    const two = blocking(await conformance(second, "zz"));
    expect(Object.keys(two).sort()).toEqual([
      "SKIP",
      "dataModel.publishedSizes",
      "guestAgent.image",
    ]);
    expect(two["guestAgent.image"]).toEqual(by.guestAgent);

    // Give the agent an image: the machine is made, and needs the arch's hypercalls.
    const third = step(second, "step3", "src/agent.ts", (text) =>
      text.replace(`return missing("image");`, "return new Uint8Array(64);"),
    );
    const three = blocking(await conformance(third, "zz"));
    expect(Object.keys(three).sort()).toEqual(["SKIP", "dataModel.publishedSizes", "hypercalls"]);
  });

  it("writes sources that typecheck against the workspace's core", () => {
    expect(typeErrors(join(tmp, "arch-zz"))).toEqual([]);
  }, 60_000);

  it("writes sources that pass the repository's lint rules and prettier's layout", async () => {
    expect(await lintProblems(readPackage(join(tmp, "arch-zz")), "arch-zz")).toEqual([]);
  });

  it("names every hook of the arch plugin in the README's checklist", () => {
    const readme = readFileSync(join(tmp, "arch-zz", "README.md"), "utf8");
    for (const hook of ARCH_HOOK_NAMES) expect(readme, hook).toContain(`\`${hook}\``);
  });
});
