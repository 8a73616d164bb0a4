/**
 * The scaffold's names, layout and versions: a port's name gives the package's identifiers;
 * whatever names and lists a porter gives, the generated sources lint and are laid out as
 * prettier lays them out (lists that fit on a line, or one item a line, numbers filled); a
 * package standing alone is developed with the tool versions hvkit itself uses.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { archPackageFiles, type ArchSpec } from "./arch-package.js";
import { guestPackageFiles } from "./guest-package.js";
import { REPOSITORY_ROOT } from "../testing.js";
import { lintProblems } from "./package-checks.js";
import {
  MAX_PORT_NAME,
  STANDALONE_DEV_DEPENDENCIES,
  fitList,
  portNames,
  type ScaffoldHome,
} from "./package-scaffold.js";

describe("port names", () => {
  it("give the folder and the identifiers of values, classes and constants", () => {
    expect(portNames("arch", "riscv64")).toEqual({
      name: "riscv64",
      folder: "arch-riscv64",
      camel: "riscv64",
      pascal: "Riscv64",
      constant: "RISCV64",
    });
    expect(portNames("guest", "arm-v7_x")).toMatchObject({
      folder: "guest-arm-v7_x",
      camel: "armV7_x",
      pascal: "ArmV7_x",
      constant: "ARM_V7_X",
    });
  });

  it.each(["", "7up", "a--b", "a-", "_a", "a.b", "A", "a".repeat(MAX_PORT_NAME + 1)])(
    "refuse %j",
    (name) => {
      expect(() => portNames("arch", name)).toThrow(/must be 1 to 23 characters/);
    },
  );

  it("refuse a name that is taken, saying why", () => {
    expect(() => portNames("arch", "ppc", new Map([["ppc", "registered"]]))).toThrow(
      'arch name "ppc" is taken: registered',
    );
  });
});

describe("fitList", () => {
  it("keeps a list on one line when it fits, else one item a line, numbers filled", () => {
    expect(fitList(4, "modes: [", ['"pv"'], "],")).toBe('modes: ["pv"],');
    expect(fitList(0, "import {", ["a", "b"], '} from "x";', true)).toBe(
      'import { a, b } from "x";',
    );
    const long = Array.from({ length: 8 }, (_, i) => `ITEM_NUMBER_${i}`);
    expect(fitList(2, "xs: [", long, "],")).toBe(
      `xs: [\n${long.map((i) => `    ${i},`).join("\n")}\n  ],`,
    );
    const numbers = Array.from({ length: 40 }, (_, i) => String(1000 + i));
    const filled = fitList(0, "n = [", numbers, "];").split("\n");
    expect([filled[0], filled.at(-1)]).toEqual(["n = [", "];"]);
    const body = filled.slice(1, -1);
    expect(body.every((l) => l.startsWith("  ") && l.length <= 100)).toBe(true);
    expect(body.join(" ").trim().split(/\s+/)).toEqual(numbers.map((x) => `${x},`));
    // A line takes as many as fit: the next number would not.
    expect(body[0].length + " 1016,".length).toBeGreaterThan(100);
  });
});

describe("generated sources", () => {
  const home: ScaffoldHome = { workspace: true, version: "0.0.0" };
  const specs: [string, ArchSpec][] = [
    [
      "a long name and long lists",
      {
        elfMachines: Array.from({ length: 30 }, (_, i) => 0x1000 + i),
        elfClasses: [32, 64],
        endianness: "big",
        wordBits: 64,
        pageSizes: [4096, 8192, 16384, 65536, 1024, 2048, 32768, 131072, 262144, 524288],
        startInfoMagic: "xen-3.0-abcdefghijklmnopqrstuvw",
        modes: ["pv", "hvm-vmx", "hvm-svm", "vt-i", "hv"],
      },
    ],
    [
      "a 32-bit arch with no ELF machine yet",
      {
        elfMachines: [],
        elfClasses: [32],
        endianness: "little",
        wordBits: 32,
        pageSizes: [4096],
        startInfoMagic: "xen-3.0-x",
        modes: ["pv"],
      },
    ],
  ];

  it.each(specs)(
    "of an arch with %s lint and are laid out as prettier does",
    async (what, spec) => {
      const name = what.startsWith("a long") ? "abcdefghijklmnopqrstuvw" : "x";
      const n = portNames("arch", name);
      expect(await lintProblems(archPackageFiles(n, spec, home), n.folder)).toEqual([]);
    },
  );

  it("of a guest adapter with a long name and long lists lint and are laid out as prettier does", async () => {
    const n = portNames("guest", "abcdefghijklmnopqrstuvw");
    const files = guestPackageFiles(
      n,
      {
        arches: ["abcdefghijklmnopqrstuvw", "x86_64", "ppc", "ia64", "arm-v7", "riscv64", "mips"],
        roles: ["dom0", "domU"],
        modes: ["pv", "hvm-vmx", "hvm-svm", "vt-i", "hv"],
        imageFormat: "mach-o",
      },
      { ...home, workspace: false },
    );
    expect(await lintProblems(files, n.folder)).toEqual([]);
  });
});

describe("a package standing alone", () => {
  it("is developed with the versions of typescript, tsup, vitest and @types/node hvkit uses", () => {
    const root = JSON.parse(readFileSync(join(REPOSITORY_ROOT, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
    };
    for (const [name, version] of Object.entries(STANDALONE_DEV_DEPENDENCIES))
      expect(version, name).toBe(root.devDependencies[name]);
  });
});
