/**
 * `hvkit create` end to end on the x86_64 PV port with our own guests: configs written to a
 * temporary folder, the domain's console on stdout, shutdown actions, the exit status as
 * `hvkit run`'s, and an xl-style message with the file and line (exit 2) for each way a
 * config can be wrong.
 */
import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "../program.js";
import { runHvkit } from "../testing.js";
import { parseXlConfig, xlDomainConfig } from "@hvkit/guests";

const guests = fileURLToPath(new URL("../../../conformance/guests/x86_64/", import.meta.url));
const elf = (name: string) => join(guests, "bin", `${name}.elf`);
const expected = (name: string) => readFileSync(join(guests, "expected", `${name}.txt`), "latin1");
const tmp = mkdtempSync(join(tmpdir(), "hvkit-create-"));

/** Writes `text` as `<tmp>/<name>` and returns its path. */
function config(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

/** A config for guest `guest` with `extra` lines. */
function guestConfig(file: string, guest: string, ...extra: string[]): string {
  return config(
    file,
    [`name = "${guest}-test"`, `kernel = "${elf(guest)}"`, ...extra, ""].join("\n"),
  );
}

/** Runs the command, stdout kept as the bytes the guest wrote (Latin-1). */
async function create(...argv: string[]) {
  const out: Uint8Array[] = [];
  const err: string[] = [];
  const status = await runCli(["create", ...argv], {
    stdout: { write: (c) => out.push(typeof c === "string" ? Buffer.from(c) : Uint8Array.from(c)) },
    stderr: { write: (c) => err.push(String(c)) },
  });
  return { status, stdout: Buffer.concat(out).toString("latin1"), stderr: err.join("") };
}

describe("hvkit create", () => {
  it("runs the config's domain as a domU with its console on stdout, named as the config says", async () => {
    const cfg = guestConfig("ring.cfg", "console-ring", "memory = 48", "vcpus = 2");
    const r = await create("--console-input", "hello hvkit\n", cfg);
    expect(r.stderr).toBe("(hvkit) console input: 12 bytes typed at domain 1's console\n"); // input from outside, logged
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      expected("console-ring").replace("xenstore name: domU-1", "xenstore name: console-ring-test"),
    );
  });

  it("takes key=value settings after the config, as xl create does, over the file's", async () => {
    const cfg = guestConfig("settings.cfg", "console-ring", "memory = 48");
    const r = await create("--console-input", "hello hvkit\n", cfg, 'name="over"', "memory+=1");
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "hvkit: command line `memory+=1': can't use += with numbers for parameter `memory'\n",
    );
    const typed = join(tmp, "typed.txt");
    writeFileSync(typed, "hello hvkit\n");
    const ok = await create("--console-input", "@" + typed, cfg, 'name="over"', "vcpus=2");
    expect(ok.stderr).toBe("(hvkit) console input: 12 bytes typed at domain 1's console\n");
    expect(ok.stdout).toBe(
      expected("console-ring").replace("xenstore name: domU-1", "xenstore name: over"),
    );
    const notSetting = await runHvkit("create", cfg, "vcpus=2", "other.cfg");
    expect(notSetting.status).toBe(2);
    expect(notSetting.stderr).toBe(
      'hvkit: "other.cfg" is not a setting: after the config, give key=value\n',
    );
  });

  it("resolves a relative kernel path against the current folder, as xl does, not the config's", async () => {
    const fromCwd = config(
      "relative.cfg",
      `name = "r"\nkernel = "${relative(process.cwd(), elf("console-ring"))}"\n`,
    );
    expect((await runHvkit("create", fromCwd)).status).toBe(0);
    mkdirSync(join(tmp, "beside"));
    writeFileSync(join(tmp, "beside", "k.elf"), readFileSync(elf("console-ring")));
    const beside = config("beside/beside.cfg", 'name = "b"\nkernel = "k.elf"\n');
    const r = await runHvkit("create", beside);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`hvkit: ${beside}:2: cannot read kernel k.elf: no such file\n`);
  });

  it("carries out on_reboot and on_crash, and exits as hvkit run would", async () => {
    const destroy = await runHvkit(
      "create",
      guestConfig("reboot-destroy.cfg", "exit-reboot", 'on_reboot = "destroy"'),
    );
    expect(destroy.status).toBe(11);
    expect(destroy.stderr).toMatch(/^\(hvkit\) domain 1 shut down: reboot \(exit 11\)$/m);

    const restart = await runHvkit(
      "create",
      "--max-instructions",
      "200",
      guestConfig("reboot-restart.cfg", "exit-reboot"),
    );
    expect(restart.status).toBe(124);
    expect(restart.stderr).toMatch(
      /^\(hvkit\) domain 1 \(exit-reboot-test\) shut down \(reboot\): on_reboot = "restart": started again as domain 2$/m,
    );
    expect(restart.stderr).toMatch(/^\(hvkit\) instruction budget of 200 ran out/m);

    const crash = await runHvkit(
      "create",
      guestConfig("crash.cfg", "exit-crash", 'on_crash = "preserve"'),
    );
    expect(crash.status).toBe(13);
    expect(crash.stderr).toMatch(/^\(hvkit\) domain 1 shut down: crash \(exit 13\)$/m);
  });

  it("--trace=hypercalls follows the domain through its restarts; --stats sums them all", async () => {
    const cfg = guestConfig("reboot-trace.cfg", "exit-reboot");
    const r = await create("--trace=hypercalls", "--stats", "--max-instructions", "60", cfg);
    expect(r.status).toBe(124);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    for (const line of lines) expect(line).toMatch(/^(\[trace\] d\d+v0 |\(hvkit\) )/);
    const shutdowns = lines.filter((l) => l.includes("sched_op("));
    expect(shutdowns.length).toBeGreaterThan(1);
    shutdowns.forEach((line, i) =>
      expect(line).toMatch(
        new RegExp(
          `^\\[trace\\] d${i + 1}v0 sched_op\\(SCHEDOP_shutdown, arg=0x[0-9a-f]+ \\{reason=SHUTDOWN_reboot\\}\\) = 0$`,
        ),
      ),
    );
    const table = lines.map((l) => l.replace(/ +/g, " "));
    expect(table).toContain(`(hvkit) SCHEDOP_shutdown ${shutdowns.length}`);
    expect(table).toContain(
      `(hvkit) CONSOLEIO_write ${shutdowns.length} -EPERM ${shutdowns.length}`,
    );
    expect(lines.at(-1)).toMatch(/^\(hvkit\) total +\d+ +-EPERM \d+$/);
  });

  it("warns about each key it ignores, with its line, and runs anyway", async () => {
    const cfg = guestConfig("extra-keys.cfg", "console-ring", 'vif = [ "bridge=xenbr0" ]');
    const r = await runHvkit("create", cfg);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe(`hvkit: ${cfg}:3: warning: \`vif' is not modelled by hvkit; ignored\n`);
  });

  it.each([
    [
      "a syntax error on each of two lines",
      'name = "x"\nmemory = 64M\nvcpus\n',
      (f: string) => [
        `${f}:2: config parsing error near \`M': lexical error (a number has no unit suffix)`,
        `${f}:3: config parsing error near <newline>: syntax error, unexpected NEWLINE, expecting += or '='`,
      ],
    ],
    [
      "no name and no kernel",
      "memory = 64\n",
      (f: string) => [
        `${f}: Domain name must be specified (name = "...")`,
        `${f}: a PV domain needs a kernel (kernel = "...")`,
      ],
    ],
    [
      "an HVM domain",
      'name = "h"\ntype = "hvm"\n',
      (f: string) => [`${f}:2: an HVM domain: hvkit creates PV domains only (type = "pv")`],
    ],
    [
      "a PVH domain",
      'name = "h"\nkernel = "k"\ntype = "pvh"\n',
      (f: string) => [`${f}:3: a PVH domain: hvkit creates PV domains only (type = "pv")`],
    ],
    [
      "maxmem below memory",
      `name = "m"\nkernel = "${elf("hello")}"\nmemory = 64\nmaxmem = 32\n`,
      (f: string) => [`${f}:4: maxmem < memory (32 < 64): xl.cfg(5) asks for maxmem >= memory`],
    ],
    [
      "an unknown and an unimplemented action",
      `name = "a"\nkernel = "${elf("hello")}"\non_crash = "explode"\non_reboot = "rename-restart"\n`,
      (f: string) => [
        `${f}:3: Unknown on_crash action "explode" specified`,
        `${f}:4: on_reboot = "rename-restart" is not implemented by hvkit (it carries out destroy, restart and preserve)`,
      ],
    ],
    [
      "a number xl cannot read",
      `name = "n"\nkernel = "${elf("hello")}"\nvcpus = "two"\n`,
      (f: string) => [`${f}:3: parameter \`vcpus' is not a valid number`],
    ],
    [
      "more memory than the arch's machines hold",
      `name = "big"\nkernel = "${elf("hello")}"\nmemory = 2047\n`,
      (f: string) => [
        `${f}:3: memory = 2047: the machine would need 2080 MiB (with libxl's 1 MiB over it and the hypervisor's own frames), more than arch x86_64's 2048 MiB`,
      ],
    ],
    [
      "a kernel that is not an ELF image",
      `name = "k"\nkernel = "${join(guests, "hello.S")}"\n`,
      (f: string) => [
        `${f}:2: kernel ${join(guests, "hello.S")}: bad image: ELF header (file offset 0x0): the file does not start with \\x7fELF: not an ELF image`,
      ],
    ],
    [
      "a ramdisk that is not there",
      `name = "r"\nkernel = "${elf("hello")}"\nramdisk = "${join(tmp, "initrd.img")}"\n`,
      (f: string) => [`${f}:3: cannot read ramdisk ${join(tmp, "initrd.img")}: no such file`],
    ],
  ])("refuses %s with xl-style messages (exit 2)", async (_what, text, lines) => {
    const file = config(`bad-${_what.replace(/\W+/g, "-")}.cfg`, text);
    const r = await runHvkit("create", file);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trimEnd().split("\n")).toEqual(lines(file).map((l) => `hvkit: ${l}`));
  });

  it("loads the config's ramdisk (the run is the same; the builder's tests check where it lands)", async () => {
    const initrd = join(tmp, "initrd.cpio");
    writeFileSync(initrd, "070701".repeat(2000));
    const cfg = guestConfig("ramdisk.cfg", "console-ring", `ramdisk = "${initrd}"`);
    const r = await create("--console-input", "hello hvkit\n", cfg);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      expected("console-ring").replace("xenstore name: domU-1", "xenstore name: console-ring-test"),
    );
    const tooBig = guestConfig(
      "ramdisk-big.cfg",
      "console-ring",
      `ramdisk = "${initrd}"`,
      "memory = 1",
    );
    expect((await create(tooBig)).stderr).toMatch(
      new RegExp(
        `^hvkit: ${tooBig}:4: memory = 1 is too small for kernel .*console-ring\\.elf and ramdisk ${initrd}: `,
      ),
    );
  });

  it("says when memory is too small for the kernel, at the memory line", async () => {
    const cfg = guestConfig("tiny.cfg", "console-ring", "memory = 1");
    const r = await runHvkit("create", cfg);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^hvkit: ${cfg}:3: memory = 1 is too small for kernel .*console-ring\\.elf: program header 0 .*beyond the domain's 0x100000 bytes of memory\n$`,
      ),
    );
  });

  it("reads the config only as a regular file of bounded size", async () => {
    const missing = await runHvkit("create", join(tmp, "nope.cfg"));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(
      `hvkit: cannot read xl config ${join(tmp, "nope.cfg")}: no such file\n`,
    );
    const dir = await runHvkit("create", tmp);
    expect(dir.stderr).toBe(`hvkit: cannot read xl config ${tmp}: is a directory\n`);
    const huge = config("huge.cfg", "#".repeat(1024 * 1024 + 1));
    expect((await runHvkit("create", huge)).stderr).toMatch(
      /more than the 1 MiB limit for xl config files/,
    );
  });

  it("takes --arch, refusing an unknown one, and -c for xl's sake", async () => {
    const cfg = guestConfig("arch.cfg", "console-ring");
    expect((await runHvkit("create", "-c", "--arch", "X86_64", cfg)).status).toBe(0);
    const bad = await runHvkit("create", "--arch", "vax", cfg);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown arch "vax"/);
  });

  it("--help shows a config xl and hvkit accept, and a bad one with the message hvkit really prints", async () => {
    const r = await runHvkit("create", "--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\$ hvkit create guest\.cfg/);
    const section = (title: string): string[] => {
      const lines = r.stdout.split("\n");
      const at = lines.indexOf(title);
      expect(at).toBeGreaterThan(0);
      const end = lines.indexOf("", at);
      return lines.slice(at + 1, end).map((l) => l.replace(/^ {2}/, ""));
    };
    const example = xlDomainConfig(
      parseXlConfig(section("Example config (guest.cfg):").join("\n") + "\n", "guest.cfg"),
    );
    expect(example).toMatchObject({
      name: "guest",
      kernel: "guest.elf",
      ramdisk: "initrd.img",
      cmdline: "console=hvc0",
      memoryMiB: 64,
      maxMemoryMiB: 128,
      vcpus: 2,
      warnings: [],
    });
    expect(example.onShutdown.crash).toBe("preserve");
    const [bad, ...said] = section("A bad config, and what hvkit says:");
    const file = config("guest.cfg", bad + "\n");
    const run = await runHvkit("create", file);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(said.map((l) => l.replace("guest.cfg", file) + "\n").join(""));
  });
});
