import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createStubArchPlugin, ShutdownCause, ShutdownReason } from "@hvkit/core";
import { toyArchIdentity } from "@hvkit/core/testing";
import { runCli } from "./program.js";
import { createRootContainer } from "./composition.js";
import { shutdownExitStatus } from "./exit-status.js";
import { MAX_COUNT, knownName, parseCount, parseList, parseMemoryMiB } from "./options.js";
import type { CliIo } from "./cli-io.js";

function capture(isTTY = false): CliIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  const text = (c: string | Uint8Array) =>
    typeof c === "string" ? c : Buffer.from(c).toString("latin1");
  return {
    stdout: { write: (c) => out.push(text(c)), isTTY },
    stderr: { write: (c) => err.push(text(c)), isTTY },
    out: () => out.join(""),
    err: () => err.join(""),
  };
}

const stub = createStubArchPlugin(toyArchIdentity("toy"));

const tmp = mkdtempSync(join(tmpdir(), "hvkit-cli-"));
const image = join(tmp, "image.elf");
writeFileSync(image, new Uint8Array(64));

describe("hvkit command line", () => {
  it("prints help with options, exit codes and an example for every command", async () => {
    for (const cmd of [[], ["run"], ["inspect"], ["conformance"], ["new-arch"], ["new-guest"]]) {
      const io = capture();
      expect(await runCli([...cmd, "--help"], io)).toBe(0);
      expect(io.out()).toMatch(/Usage: hvkit/);
      expect(io.out()).toMatch(/Example/);
      expect(io.out()).toMatch(/Exit status:/);
    }
    const io = capture();
    await runCli(["run", "--help"], io);
    for (const opt of [
      "--arch",
      "--mode",
      "--memory",
      "--cmdline",
      "--max-instructions",
      "--trace [what]",
      "--stats",
      "124",
      "13",
    ]) {
      expect(io.out()).toContain(opt);
    }
    const conf = capture();
    await runCli(["conformance", "--help"], conf);
    expect(conf.out()).toMatch(/--role <list>\s+guest roles, comma-separated: dom0, domU/);
    for (const opt of [
      "--shard",
      "--baseline",
      "--json",
      "--junit",
      "--html",
      "--xtf",
      "--filter",
      "--role",
      "--guest",
    ]) {
      expect(conf.out()).toContain(opt);
    }
  });

  it.each([
    [["bogus"], /unknown command 'bogus'/],
    [["run", "x.elf"], /required option '--arch <arch>'/],
    [["run", "--arch", "toy", "--memory", "0", "x.elf"], /--memory <MiB>.*invalid/],
    [
      ["run", "--arch", "toy", "--max-instructions", "lots", "x.elf"],
      /--max-instructions <N>.*invalid/,
    ],
    [["conformance", "--shard", "3/2"], /--shard wants i\/n/],
    [["conformance", "--arch", "nope"], /unknown arch "nope" \(known: toy\)/],
    [
      ["conformance", "--baseline", "/nonexistent/b.json"],
      /^hvkit: cannot read baseline \/nonexistent\/b\.json: no such file\n$/,
    ],
    [
      ["conformance", "--xtf", "/nonexistent-dir"],
      /^hvkit: --xtf \/nonexistent-dir: no such folder\n$/,
    ],
    [
      ["conformance", "--guest", "linux"],
      /unknown guest set "linux" \(known: hvkit-test, hvkit-c, xtf\)/,
    ],
    [
      ["conformance", "--role", "domU,domX"],
      /^hvkit: unknown role "domX" \(known: dom0, domU\)\n$/,
    ],
    [["conformance", "--mode", "pv,smm"], /unknown mode "smm"/],
  ])("exits 2 on usage error %j", async (argv, message) => {
    const io = capture();
    expect(await runCli(argv, io, createRootContainer([stub]))).toBe(2);
    expect(io.err()).toMatch(message);
  });

  it("lists the known arches for an unknown one", async () => {
    const io = capture();
    expect(await runCli(["run", "--arch", "sparc", image], io, createRootContainer([stub]))).toBe(
      2,
    );
    expect(io.err()).toBe('hvkit: unknown arch "sparc" (known: toy)\n');
  });

  it("refuses a mode the arch does not implement", async () => {
    const io = capture();
    expect(
      await runCli(
        ["run", "--arch", "toy", "--mode", "hv", image],
        io,
        createRootContainer([stub]),
      ),
    ).toBe(2);
    expect(io.err()).toMatch(/arch toy does not implement mode "hv" \(it offers pv\)/);
  });

  it("says what is wrong with an unreadable image", async () => {
    const io = capture();
    expect(
      await runCli(
        ["run", "--arch", "toy", join(tmp, "missing.elf")],
        io,
        createRootContainer([stub]),
      ),
    ).toBe(2);
    expect(io.err()).toMatch(/cannot read image .*missing\.elf: no such file/);
  });

  it("exits 2 naming the missing hook of a stub arch", async () => {
    const io = capture();
    expect(await runCli(["run", "--arch", "toy", image], io, createRootContainer([stub]))).toBe(2);
    // Until the core's machine factory lands, the message names that instead.
    expect(io.err()).toMatch(/hook \w+ is not implemented|cannot boot images yet/);
  });

  it("writes the requested reports and plain progress lines when stderr is no terminal", async () => {
    const io = capture(false);
    const json = join(tmp, "r", "report.json");
    const junit = join(tmp, "r", "junit.xml");
    const html = join(tmp, "r", "report.html");
    const status = await runCli(
      [
        "conformance",
        "--no-baseline",
        "--filter",
        "abi/",
        "--json",
        json,
        "--junit",
        junit,
        "--html",
        html,
      ],
      io,
      createRootContainer([stub]),
    );
    expect(status).toBe(0);
    expect(JSON.parse(readFileSync(json, "utf8")).version).toBe(2);
    expect(readFileSync(junit, "utf8")).toMatch(/^<\?xml/);
    expect(readFileSync(html, "utf8")).toMatch(/^<!doctype html>/);
    expect(io.out()).toMatch(/conformance: PASS/);
    expect(io.err()).toBe(
      "[1/2] SUCCESS     toy/pv/hvkit-test/dom0/abi/published-sizes\n" +
        "[2/2] SUCCESS     toy/pv/hvkit-test/domU/abi/published-sizes\n",
    );
  });

  it("--role domU (any case) runs the domU cells only", async () => {
    for (const role of ["domU", "domu"]) {
      const io = capture(false);
      const status = await runCli(
        ["conformance", "--no-baseline", "--filter", "abi/", "--role", role],
        io,
        createRootContainer([stub]),
      );
      expect(status).toBe(0);
      expect(io.err()).toBe("[1/1] SUCCESS     toy/pv/hvkit-test/domU/abi/published-sizes\n");
    }
  });

  it("exits 1 when a cell fails that the baseline does not expect", async () => {
    const io = capture(false);
    const status = await runCli(
      ["conformance", "--no-baseline", "--filter", "hypercall/numbers"],
      io,
      createRootContainer([stub]),
    );
    expect(status).toBe(1);
    expect(io.out()).toMatch(
      /FAIL +ERROR +toy\/pv\/hvkit-test\/dom0\/hypercall\/numbers: missing arch hook guestAgent \(toy\)/,
    );
    expect(io.out()).toMatch(/conformance: FAIL/);
  });
});

describe("hvkit conformance with nothing to run", () => {
  it("exits 2 for a --filter that matches no entry, naming it and listing valid prefixes", async () => {
    const io = capture(false);
    const status = await runCli(
      ["conformance", "--no-baseline", "--arch", "toy", "--filter", "hypercall/numbrs"],
      io,
      createRootContainer([stub]),
    );
    expect(status).toBe(2);
    expect(io.out()).toBe("");
    expect(io.err()).toMatch(
      /^hvkit: nothing to run: --filter "hypercall\/numbrs" matches none of the \d+ selected entry ids \(arch\/mode\/guest\/role\/area\/name\); they start toy\/pv\/hvkit-test\/dom0\/, toy\/pv\/hvkit-test\/domU\/, .* and their areas are abi\/, .*hypercall\/.*; closest: toy\/pv\/hvkit-test\/dom0\/hypercall\/numbers, /,
    );
  });

  it("exits 2 for --guest xtf without --xtf", async () => {
    const io = capture(false);
    expect(await runCli(["conformance", "--guest", "xtf"], io, createRootContainer([stub]))).toBe(
      2,
    );
    expect(io.err()).toBe(
      "hvkit: --guest xtf needs --xtf <dir>: the folder of XTF images to run (hvkit ships none)\n",
    );
  });

  it("exits 2 for an --xtf folder with nothing runnable, showing each image as UNSUPPORTED", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-xtf-"));
    for (const f of ["test-pv32pae-bar", "test-hvm64-baz"]) writeFileSync(join(dir, f), "x");
    const io = capture(false);
    const json = join(dir, "report.json");
    const status = await runCli(
      ["conformance", "--no-baseline", "--xtf", dir, "--json", json],
      io,
      createRootContainer([stub]),
    );
    expect(status).toBe(2);
    expect(io.out()).toMatch(
      /UNSUPPORTED +x86_64\/hvm-vmx\/xtf\/dom0 \(1 test\): needs arch x86_64 in mode hvm-vmx, which no registered arch plugin provides \(registered: toy\)/,
    );
    expect(io.out()).toMatch(
      /UNSUPPORTED +x86\/pv\/xtf\/domU \(1 test\): needs arch x86 in mode pv/,
    );
    expect(io.out()).toMatch(/conformance: NOTHING RAN/);
    expect(io.err()).toMatch(
      new RegExp(
        `hvkit: nothing of the XTF images in ${dir} could run: every one of the 4 selected entries is UNSUPPORTED`,
      ),
    );
    expect(JSON.parse(readFileSync(json, "utf8"))).toMatchObject({ ok: false, version: 2 });
  });
});

describe("bad input found by trying", () => {
  const toy = () => createRootContainer([stub]);
  const fifo = join(tmp, "fifo");
  execFileSync("mkfifo", [fifo]);
  const big = join(tmp, "big.elf");
  writeFileSync(big, "");
  truncateSync(big, 300 * 1024 * 1024); // sparse: costs no disk

  it.each([
    ["/dev/zero", "is a character device, not a regular file"],
    [fifo, "is a FIFO, not a regular file"],
    [tmp, "is a directory"],
    [big, "it is 300 MiB, more than the 256 MiB limit for image files"],
  ])("inspect and run refuse %s at once (exit 2), reading nothing", async (path, why) => {
    for (const argv of [
      ["inspect", path],
      ["run", "--arch", "toy", path],
    ]) {
      const io = capture();
      expect(await runCli(argv, io, toy())).toBe(2);
      expect(io.err()).toBe(`hvkit: cannot read image ${path}: ${why}\n`);
      expect(io.out()).toBe("");
    }
  });

  it("says the size in bytes when rounding would show the limit itself", async () => {
    const edge = join(tmp, "edge.elf");
    writeFileSync(edge, "");
    truncateSync(edge, 256 * 1024 * 1024 + 1);
    const io = capture();
    expect(await runCli(["inspect", edge], io, toy())).toBe(2);
    expect(io.err()).toMatch(/it is 268435457 bytes, more than the 256 MiB limit/);
  });

  it("--baseline that is not a regular file, or not JSON, is refused before the run", async () => {
    const notJson = join(tmp, "baseline.txt");
    writeFileSync(notJson, "entries: none");
    for (const [path, message] of [
      ["/dev/zero", /^hvkit: cannot read baseline \/dev\/zero: is a character device/],
      [fifo, /^hvkit: cannot read baseline .*fifo: is a FIFO/],
      [notJson, /^hvkit: .*baseline\.txt: not JSON/],
    ] as const) {
      const io = capture();
      expect(await runCli(["conformance", "--baseline", path], io, toy())).toBe(2);
      expect(io.err()).toMatch(message);
      expect(io.err()).not.toMatch(/\[1\//); // no cell ran
    }
  });

  it("--xtf with a file says it wants a folder", async () => {
    const io = capture();
    expect(await runCli(["conformance", "--xtf", image], io, toy())).toBe(2);
    expect(io.err()).toBe(
      `hvkit: --xtf ${image}: not a folder; give the folder XTF was built in ` +
        "(test-<env>-<name> images are found in it and up to two levels below)\n",
    );
  });

  it("--xtf: an xl config that is a FIFO and an oversized image are refused before the run", async () => {
    const withFifo = join(tmp, "xtf-fifo");
    mkdirSync(withFifo);
    writeFileSync(join(withFifo, "test-pv64-example"), new Uint8Array(64));
    execFileSync("mkfifo", [join(withFifo, "test-pv64-example.cfg")]);
    const io = capture();
    expect(await runCli(["conformance", "--xtf", withFifo], io, toy())).toBe(2);
    expect(io.err()).toBe(
      `hvkit: cannot read xl config ${join(withFifo, "test-pv64-example.cfg")}: is a FIFO, not a regular file\n`,
    );
    const withBig = join(tmp, "xtf-big");
    mkdirSync(withBig);
    const bigImage = join(withBig, "test-pv64-big");
    writeFileSync(bigImage, "");
    truncateSync(bigImage, 257 * 1024 * 1024);
    const io2 = capture();
    expect(await runCli(["conformance", "--xtf", withBig], io2, toy())).toBe(2);
    expect(io2.err()).toBe(
      `hvkit: cannot read image ${bigImage}: it is 257 MiB, more than the 256 MiB limit for image files\n`,
    );
  });

  it("report outputs that cannot be written fail before the run, naming option and path", async () => {
    const file = join(tmp, "a-file");
    writeFileSync(file, "");
    for (const [argv, message] of [
      [["--junit", tmp], `hvkit: --junit ${tmp}: is a directory; give a file name to write to\n`],
      [
        ["--html", tmp + "/"],
        `hvkit: --html ${tmp}/: is a directory; give a file name to write to\n`,
      ],
      [
        ["--json", join(file, "r.json")],
        `hvkit: --json ${join(file, "r.json")}: cannot be created: ${file} is not a folder\n`,
      ],
      [
        ["--junit", "/dev/null/deeper/j.xml"],
        "hvkit: --junit /dev/null/deeper/j.xml: cannot be created: /dev/null is not a folder\n",
      ],
    ] as const) {
      const io = capture();
      const status = await runCli(
        ["conformance", "--no-baseline", "--filter", "abi/", ...argv],
        io,
        toy(),
      );
      expect(status).toBe(2);
      expect(io.err()).toBe(message); // no progress line: nothing ran
      expect(io.out()).toBe("");
    }
    // A new file in a folder that does not exist yet is fine (the folder is made).
    const fresh = join(tmp, "new", "deeper", "j.xml");
    const io = capture();
    expect(
      await runCli(
        ["conformance", "--no-baseline", "--filter", "abi/", "--junit", fresh],
        io,
        toy(),
      ),
    ).toBe(0);
    expect(existsSync(fresh)).toBe(true);
  });

  it("states the largest --max-instructions", async () => {
    const io = capture();
    expect(
      await runCli(
        ["run", "--arch", "toy", "--max-instructions", "99999999999999999999", image],
        io,
        toy(),
      ),
    ).toBe(2);
    expect(io.err()).toMatch(
      /--max-instructions <N>.*invalid\. expected at most 9007199254740991 \(2\^53 - 1, about 9000000G\)/,
    );
    expect(parseCount("9000000G")).toBe(9e15);
    expect(parseCount(String(MAX_COUNT))).toBe(MAX_COUNT);
    expect(() => parseCount(String(MAX_COUNT + 1))).toThrow(/at most 9007199254740991/);
  });

  it("takes names of a fixed set in any case, in both commands", async () => {
    const io = capture(false);
    const status = await runCli(
      [
        "conformance",
        "--no-baseline",
        "--filter",
        "abi/",
        "--arch",
        "TOY",
        "--mode",
        "PV",
        "--guest",
        "HVKIT-Test",
        "--role",
        "DOMU",
      ],
      io,
      toy(),
    );
    expect(status).toBe(0);
    expect(io.err()).toBe("[1/1] SUCCESS     toy/pv/hvkit-test/domU/abi/published-sizes\n");
    const run = capture();
    expect(await runCli(["run", "--arch", "Toy", "--mode", "PV", image], run, toy())).toBe(2);
    // Past arch and mode: the stub arch's missing hook is what stops it.
    expect(run.err()).toMatch(/cannot boot images yet/);
    expect(knownName("mode", "Hvm-VMX", ["pv", "hvm-vmx"])).toBe("hvm-vmx");
    expect(() => knownName("mode", "pv64", ["pv"])).toThrow('unknown mode "pv64" (known: pv)');
  });
});

describe("exit statuses", () => {
  it("maps shutdown reasons as documented", () => {
    expect(
      [
        ShutdownReason.Poweroff,
        ShutdownReason.Reboot,
        ShutdownReason.Suspend,
        ShutdownReason.Crash,
        ShutdownReason.Watchdog,
        ShutdownReason.SoftReset,
      ].map((r) => shutdownExitStatus(r)),
    ).toEqual([0, 11, 12, 13, 14, 15]);
  });

  it("a poweroff because the last vCPU went down is a halted kernel (4), not success", () => {
    expect(shutdownExitStatus(ShutdownReason.Poweroff, ShutdownCause.LastVcpuDown)).toBe(4);
    expect(shutdownExitStatus(ShutdownReason.Poweroff, ShutdownCause.Request)).toBe(0);
    expect(shutdownExitStatus(ShutdownReason.Crash, ShutdownCause.LastVcpuDown)).toBe(13);
  });
});

describe("option parsers", () => {
  it("parses counts with separators and suffixes", () => {
    expect(parseCount("1000")).toBe(1000);
    expect(parseCount("1_000_000")).toBe(1_000_000);
    expect(parseCount("50M")).toBe(50_000_000);
    expect(parseCount("2k")).toBe(2000);
    for (const bad of ["0", "-1", "1.5", "abc", "", "1T"])
      expect(() => parseCount(bad)).toThrow(/positive whole number/);
  });

  it("parses memory sizes within bounds", () => {
    expect(parseMemoryMiB("64")).toBe(64);
    for (const bad of ["0", "4096", "1.5", "64M"]) expect(() => parseMemoryMiB(bad)).toThrow(/MiB/);
  });

  it("splits comma lists and accumulates repeats", () => {
    expect(parseList("a, b,,c")).toEqual(["a", "b", "c"]);
    expect(parseList("d", ["a"])).toEqual(["a", "d"]);
  });
});
