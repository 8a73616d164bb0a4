/**
 * `hvkit new-guest`: bad names and values are usage errors; the package it writes outside
 * the repository is loaded with `--plugin` and is a guest set of `hvkit conformance` of its
 * own: the cells it declines are UNSUPPORTED with its reason, the others ERROR naming the
 * member they need first, and the report moves on as members are written (up to a real boot
 * of our x86_64 hello guest, judged by the milestones). The sources typecheck, lint and are
 * laid out as prettier lays them out.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GUEST_ADAPTER_HOOK_NAMES } from "@hvkit/core";
import { filesUnder, lintProblems, readPackage, typeErrors } from "../scaffold/package-checks.js";
import {
  REPOSITORY_ROOT,
  editedCopy,
  pluginHome,
  runHvkit as cli,
  useSourceCondition,
  type CapturedRun,
} from "../testing.js";

const tmp = pluginHome("hvkit-new-guest-");
const HELLO = join(REPOSITORY_ROOT, "conformance", "guests", "x86_64", "bin", "hello.elf");

let reports = 0;

/** `hvkit conformance --plugin <dir> --guest yy --arch x86_64,ppc`: each cell's id, result, message. */
async function conformance(dir: string): Promise<[string, string, string][]> {
  const json = join(tmp, `report-${++reports}.json`);
  const r = await cli(
    "conformance",
    ...["--plugin", dir, "--guest", "yy", "--arch", "x86_64,ppc", "--no-baseline"],
    ...["--json", json],
  );
  expect(r.stderr).not.toMatch(/plugin package|internal error/);
  const { entries } = JSON.parse(readFileSync(json, "utf8")) as {
    entries: { id: string; result: string; message: string }[];
  };
  return entries.map((e) => [e.id, e.result, e.message]);
}

/** A copy of package `dir` in a new folder `name`, with `edit` applied to its `src/index.ts`. */
const step = (dir: string, name: string, edit: (text: string) => string): string =>
  editedCopy(dir, join(tmp, name, "guest-yy"), "src/index.ts", edit);

/** Adds `members` where the generated adapter takes them. */
const writeMembers = (members: string) => (text: string) =>
  text.replace(/( *)\/\/ Written members replace their stubs here.*\n/, `$&${members}\n`);

describe("hvkit new-guest", () => {
  useSourceCondition();

  const bad: [string, string[], RegExp][] = [
    ["an upper-case name", ["NetBSD"], /guest adapter name "NetBSD" must be 1 to 23 characters/],
    [
      "the name of a built-in guest set",
      ["xtf"],
      /guest adapter name "xtf" is taken: a built-in guest set has that name/,
    ],
    ["hvkit-test", ["hvkit-test"], /"hvkit-test" is taken/],
    [
      "an arch that is no name",
      ["ww", "--arch", "x86_64,PPC!"],
      /--arch: "PPC!" is not an arch name/,
    ],
    ["an unknown role", ["ww", "--role", "driver"], /unknown role "driver" \(known: dom0, domU\)/],
    ["an unknown mode", ["ww", "--mode", "hvm"], /unknown mode "hvm"/],
    [
      "an unknown image format",
      ["ww", "--image-format", "pe"],
      /unknown image format "pe" \(known: elf, mach-o\)/,
    ],
  ];
  it.each(bad)("refuses %s (exit 2, saying what is wanted)", async (_what, args, message) => {
    const r = await cli("new-guest", ...args, "--dir", tmp);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(tmp, "guest-ww"))).toBe(false);
  });

  let written: CapturedRun;
  beforeAll(async () => {
    written = await cli(
      "new-guest",
      "yy",
      "--arch",
      "x86_64,riscv",
      "--role",
      "dom0,DOMU",
      "--dir",
      tmp,
    );
  });

  it("writes the package of a guest-OS port, naming arches no plugin provides yet", () => {
    expect(written.stderr).toBe("");
    expect(written.status).toBe(0);
    expect(written.stdout).toMatch(/note: no registered arch is called riscv/);
    const dir = join(tmp, "guest-yy");
    expect(filesUnder(dir)).toEqual([
      "README.md",
      "package.json",
      "src/adapter.test.ts",
      "src/index.ts",
      "tsconfig.json",
      "tsup.config.ts",
      "typedoc.json",
    ]);
    expect(JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))).toMatchObject({
      name: "hvkit-guest-yy",
      hvkit: { plugin: "guest", provides: ["yyAdapter"] },
    });
    const readme = readFileSync(join(dir, "README.md"), "utf8");
    for (const m of GUEST_ADAPTER_HOOK_NAMES) expect(readme, m).toContain(`\`${m}\``);
  });

  it("is a guest set whose cells are UNSUPPORTED or ERROR naming the member to write next", async () => {
    const first = join(tmp, "guest-yy");
    expect(await conformance(first)).toEqual([
      [
        "ppc/pv/yy/dom0/guest/boot",
        "UNSUPPORTED",
        "yy is not ported to ppc (it runs on x86_64, riscv)",
      ],
      [
        "ppc/pv/yy/domU/guest/boot",
        "UNSUPPORTED",
        "yy is not ported to ppc (it runs on x86_64, riscv)",
      ],
      ["x86_64/pv/yy/dom0/guest/boot", "ERROR", "missing guest adapter hook buildImage (yy)"],
      ["x86_64/pv/yy/domU/guest/boot", "ERROR", "missing guest adapter hook buildImage (yy)"],
    ]);

    const second = step(
      first,
      "step2",
      writeMembers(`  buildImage: () => new Uint8Array(readFileSync(${JSON.stringify(HELLO)})),`),
    );
    const withImport = (text: string) => `import { readFileSync } from "node:fs";\n${text}`;
    writeFileSync(
      join(second, "src", "index.ts"),
      withImport(readFileSync(join(second, "src", "index.ts"), "utf8")),
    );
    const two = await conformance(second);
    expect(two.slice(-2).map((c) => c[2])).toEqual([
      "missing guest adapter hook commandLine (yy)",
      "missing guest adapter hook commandLine (yy)",
    ]);

    // The fallback command line, and a milestone: the dom0 greets, a domU's console_io is
    // refused (Xen's XSM default), so it never does.
    const third = step(
      second,
      "step3",
      writeMembers(
        `  commandLine: undefined,\n  milestones: () => [{ name: "greeting", console: /Hello from/ }],`,
      ),
    );
    const three = await conformance(third);
    expect(three[2]).toEqual([
      "x86_64/pv/yy/dom0/guest/boot",
      "SUCCESS",
      expect.stringMatching(/^reached "greeting"/),
    ]);
    expect(three[3]).toEqual([
      "x86_64/pv/yy/domU/guest/boot",
      "FAILURE",
      expect.stringMatching(/^milestone "greeting" \(\/Hello from\/\) not reached/),
    ]);
  });

  it("writes sources that typecheck, lint and are laid out as prettier does", async () => {
    expect(typeErrors(join(tmp, "guest-yy"))).toEqual([]);
    expect(await lintProblems(readPackage(join(tmp, "guest-yy")), "guest-yy")).toEqual([]);
  }, 60_000);
});
