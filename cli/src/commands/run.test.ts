/**
 * `hvkit run` end to end through the real core (machine, scheduler, console_io and
 * sched_op handlers) with a scripted arch whose vCPU makes the hypercalls a guest would:
 * checks what reaches stdout and stderr and the exit status for each way a guest can end.
 */
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { tmpdir } from "node:os";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import {
  ArchHookMissingError,
  buildElf,
  DomainMemoryError,
  standardXenNotes,
  VcpuExitKind,
  type ArchPlugin,
  type ArchVcpu,
  type DomainBuildRequest,
  type HypercallArgs,
  type Machine,
  type Vcpu,
  type VcpuExit,
} from "@hvkit/core";
import { buildBzImage, TEST_LP64_LE } from "@hvkit/core/testing";
import { runCli } from "../program.js";
import { createRootContainer } from "../composition.js";
import type { CliIo } from "../cli-io.js";

/** One step of a scripted guest. */
type Step =
  | { console: string }
  | { shutdown: number }
  | { hypercall: number }
  | { spin: true }
  | { idle: true }
  | { echo: number }
  | { fatal: string };

const BUF_VA = 0x1000n;
const ELF_MACHINE = 0x4243;

/** A vCPU that performs its script, one hypercall per run. */
class ScriptVcpu implements ArchVcpu {
  readonly exit: VcpuExit = { kind: VcpuExitKind.BudgetExhausted, retired: 0, message: "" };
  private step = 0;
  private pending: { nr: number; args: (number | bigint)[] } | null = null;
  /** Bytes an `echo` step read, written back with the next run. */
  private echoed = 0;
  readonly results: (number | bigint)[] = [];
  mfn = -1;

  constructor(
    private readonly machine: Machine,
    private readonly script: readonly Step[],
  ) {}

  private put(bytes: Uint8Array): void {
    this.machine.memory.bytes.set(bytes, this.mfn * this.machine.memory.pageSize);
  }

  run(budget: number): VcpuExit {
    const s = this.script[this.step];
    this.exit.retired = 1;
    this.exit.kind = VcpuExitKind.Hypercall;
    if (this.echoed > 0) {
      this.pending = { nr: 18, args: [0, this.echoed, BUF_VA] }; // console_io(CONSOLEIO_write)
      this.echoed = 0;
      return this.exit;
    }
    if (s === undefined || "spin" in s) {
      this.exit.kind = VcpuExitKind.BudgetExhausted;
      this.exit.retired = budget;
      return this.exit;
    }
    this.step++;
    if ("console" in s) {
      const bytes = Uint8Array.from([...s.console].map((c) => c.charCodeAt(0)));
      this.put(bytes);
      this.pending = { nr: 18, args: [0, bytes.length, BUF_VA] }; // console_io(CONSOLEIO_write)
    } else if ("shutdown" in s) {
      this.put(Uint8Array.of(s.shutdown, 0, 0, 0));
      this.pending = { nr: 29, args: [2, BUF_VA] }; // sched_op(SCHEDOP_shutdown, &{reason})
    } else if ("hypercall" in s) {
      this.pending = { nr: s.hypercall, args: [] };
    } else if ("echo" in s) {
      this.pending = { nr: 18, args: [1, s.echo, BUF_VA] }; // console_io(CONSOLEIO_read)
    } else if ("idle" in s) {
      this.exit.kind = VcpuExitKind.Idle;
    } else {
      this.exit.kind = VcpuExitKind.Fatal;
      this.exit.message = s.fatal;
    }
    return this.exit;
  }

  readHypercall(args: HypercallArgs): number {
    const p = this.pending!;
    for (let i = 0; i < 6; i++) {
      const v = BigInt(p.args[i] ?? 0);
      args.set(i, Number(v & 0xffffffffn), Number(v >> 32n));
    }
    return p.nr;
  }

  completeHypercall(result: number | bigint): void {
    if (this.pending?.nr === 18 && this.pending.args[0] === 1 && Number(result) > 0)
      this.echoed = Number(result);
    this.results.push(result);
    this.pending = null;
  }

  translate(va: bigint): number {
    return va >= BUF_VA && va < BUF_VA + 4096n ? this.mfn * 4096 + Number(va - BUF_VA) : -1;
  }

  /** One "instruction" per completed hypercall. */
  pc(): bigint {
    return 0x400000n + BigInt(this.results.length);
  }

  describe(): string {
    return `step ${this.step}`;
  }
}

function scriptArch(script: readonly Step[], vcpus: ScriptVcpu[] = []): ArchPlugin {
  return {
    name: "script",
    elfMachines: [ELF_MACHINE],
    elfClasses: [64],
    endianness: "little",
    wordBits: 64,
    pageSizes: [4096],
    dataModel: TEST_LP64_LE,
    requiresXenNotes: true,
    startInfoMagic: "xen-3.0-script",
    modes: ["pv"],
    features: [],
    guestAgent: () => {
      throw new ArchHookMissingError("script", "guestAgent");
    },
    hypercalls: () => [],
    createDomainState: () => null,
    createVcpu: (machine: Machine, _domain, _vcpu: Vcpu) => {
      const v = new ScriptVcpu(machine, script);
      vcpus.push(v);
      return v;
    },
    buildDomain: (req: DomainBuildRequest) => {
      const [mfn] = req.machine.allocFrames(req.domain, 1)!;
      vcpus[vcpus.length - 1].mfn = mfn;
    },
    disassemble: (_vcpu, va, count) =>
      Array.from({ length: count }, () => `${va.toString(16)}: (script)`),
  };
}

const tmp = mkdtempSync(join(tmpdir(), "hvkit-run-"));
const image = join(tmp, "guest.elf");
writeFileSync(
  image,
  buildElf({
    machine: ELF_MACHINE,
    entry: 0x400000,
    segments: [{ vaddr: 0x400000, data: new Uint8Array(16) }],
    xenNotes: standardXenNotes(0x400000),
  }),
);

/** What stderr logs of 12 bytes typed at domain 1's PV console (input from outside). */
const TYPED_12 = "(hvkit) console input: 12 bytes typed at domain 1's console\n";

async function run(script: Step[], ...extra: string[]) {
  return runWith(scriptArch(script), ...extra);
}

async function runWith(arch: ArchPlugin, ...extra: string[]) {
  const out: Uint8Array[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: { write: (c) => out.push(typeof c === "string" ? Buffer.from(c) : Uint8Array.from(c)) },
    stderr: { write: (c) => err.push(String(c)) },
  };
  const status = await runCli(
    ["run", "--arch", "script", ...extra, image],
    io,
    createRootContainer([arch]),
  );
  return { status, stdout: Buffer.concat(out).toString("latin1"), stderr: err.join("") };
}

describe("hvkit run", () => {
  it("writes console output to stdout byte for byte and exits 0 on poweroff", async () => {
    const r = await run([{ console: "hello\n" }, { console: "\x00\xff\x1b[0m" }, { shutdown: 0 }]);
    expect(r.stdout).toBe("hello\n\x00\xff\x1b[0m");
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
  });

  it.each([
    [1, 11, "reboot"],
    [2, 12, "suspend"],
    [3, 13, "crash"],
    [4, 14, "watchdog"],
    [5, 15, "soft_reset"],
  ])("exits 10 + reason for shutdown reason %i", async (reason, status, name) => {
    const r = await run([{ shutdown: reason }]);
    expect(r.status).toBe(status);
    expect(r.stderr).toContain(`domain 0 shut down: ${name}`);
  });

  it("exits 13 and reports on stderr when the guest faults fatally", async () => {
    const r = await run([
      { console: "before\n" },
      { fatal: "#GP at 0x400010 with no trap handler" },
    ]);
    expect(r.stdout).toBe("before\n");
    expect(r.status).toBe(13);
    expect(r.stderr).toMatch(/\(hvkit\) .*#GP at 0x400010 with no trap handler/);
  });

  it("exits 124 when the instruction budget runs out", async () => {
    const r = await run([{ spin: true }], "--max-instructions", "5k");
    expect(r.status).toBe(124);
    expect(r.stderr).toBe(
      "(hvkit) instruction budget of 5000 ran out (raise it with --max-instructions)\n",
    );
  });

  it("exits 3 when every vCPU blocks with nothing pending", async () => {
    const r = await run([{ idle: true }]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^\(hvkit\) deadlock after \d+ instructions: every vCPU is blocked/);
  });

  it("exits 2 saying what and where for a bad image", async () => {
    const bad = join(tmp, "bad.elf");
    writeFileSync(bad, new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]));
    const out: string[] = [];
    const io: CliIo = { stdout: { write: () => 0 }, stderr: { write: (c) => out.push(String(c)) } };
    const status = await runCli(
      ["run", "--arch", "script", bad],
      io,
      createRootContainer([scriptArch([])]),
    );
    expect(status).toBe(2);
    expect(out.join("")).toMatch(/^hvkit: bad image .*bad\.elf: .+: .+/);
  });

  it("--role domu: the guest is domain 1 under the built-in dom0 and its shutdown sets the status", async () => {
    const r = await run([{ console: "denied to a domU\n" }, { shutdown: 3 }], "--role", "domu");
    expect(r.status).toBe(13);
    expect(r.stdout).toBe(""); // console_io is the control domain's (XSM dummy policy)
    expect(r.stderr).toContain("\n(hvkit) domain 1 shut down: crash (exit 13)\n");
    // The refused console_io write is explained, once, on stderr.
    expect(r.stderr).toMatch(
      /^\(hvkit\) domain 1: console_io write refused \(-EPERM\): only the control domain may write to the hypervisor console .*a domU writes to its PV console ring, or is booted as dom0/,
    );
    const ok = await run([{ shutdown: 0 }], "--role", "DomU");
    expect(ok).toEqual({ status: 0, stdout: "", stderr: "" });
    expect((await run([{ shutdown: 1 }], "--role", "domu")).status).toBe(11);
  });

  it("--role domu: a domU that blocks forever is a deadlock (exit 3), its budget 124", async () => {
    expect((await run([{ idle: true }], "--role", "domu")).status).toBe(3);
    expect((await run([{ spin: true }], "--role", "domu", "--max-instructions", "5k")).status).toBe(
      124,
    );
  });

  it("every message about the guest's fate is prefixed (hvkit), never hvkit:", async () => {
    for (const r of [
      await run([{ shutdown: 3 }]),
      await run([{ fatal: "#GP" }]),
      await run([{ idle: true }]),
      await run([{ spin: true }], "--max-instructions", "1k"),
      await run([{ console: "x" }, { console: "y" }, { shutdown: 1 }], "--role", "domu"),
    ]) {
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(/^\(hvkit\) /);
    }
  });

  it("--role domu: console_io refusals are reported once, not per write, and never for dom0", async () => {
    const r = await run(
      [{ console: "one\n" }, { console: "two\n" }, { console: "three\n" }, { shutdown: 0 }],
      "--role",
      "domu",
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr.match(/console_io write refused/g)).toHaveLength(1);
    const dom0 = await run([{ console: "one\n" }, { shutdown: 0 }]);
    expect(dom0).toEqual({ status: 0, stdout: "one\n", stderr: "" });
  });

  it("exits 2 for an unknown role", async () => {
    const bad = await run([{ shutdown: 0 }], "--role", "driver");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/expected dom0 or domu, got "driver"/);
  });

  it("dom0 reads --console-input (text, @file, @@) with CONSOLEIO_read, logged as outside input", async () => {
    const echo: Step[] = [{ echo: 5 }, { echo: 100 }, { echo: 100 }, { shutdown: 0 }];
    const typed = await run(echo, "--console-input", "hello hvkit\n");
    expect(typed).toEqual({
      status: 0,
      stdout: "hello hvkit\n",
      stderr:
        "(hvkit) console input: 12 bytes typed at the hypervisor console (read by the hardware domain with console_io)\n",
    });
    const file = join(tmp, "dom0-typed.txt");
    writeFileSync(file, "from a file\n");
    expect((await run(echo, "--console-input", "@" + file)).stdout).toBe("from a file\n");
    expect((await run(echo, "--console-input", "@@at")).stdout).toBe("@at");
    const both = await run(echo, "--console-input", "ab", "--console-input-file", file);
    expect(both.stdout).toBe("abfrom a file\n");
    const missing = await run(echo, "--console-input", "@" + tmp + "/nope");
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read console input .*nope: no such file/);
    expect((await run(echo)).stdout).toBe("");
  });

  it("--until stops where the console first matches, across writes, and exits 1 if it never does", async () => {
    const script: Step[] = [
      { console: "boot\nlog" },
      { console: "in: " },
      { console: "after\n" },
      { shutdown: 1 },
    ];
    const stopped = await run(script, "--until", "login: ?$", "--stats");
    expect(stopped.status).toBe(0);
    expect(stopped.stdout).toBe("boot\nlogin: ");
    expect(stopped.stderr).toMatch(
      /^\(hvkit\) stopped after 2 instructions: the console printed "login: " \(--until login: \?\$\)\n\(hvkit\) 2 instructions/,
    );
    // Not matched: the run's own status (reboot, 11) stands; a clean poweroff becomes 1.
    expect((await run(script, "--until", "nowhere")).status).toBe(11);
    const clean = await run([{ console: "hi\n" }, { shutdown: 0 }], "--until", "nowhere");
    expect(clean.status).toBe(1);
    expect(clean.stderr).toBe(
      "(hvkit) domain 0 powered off without printing --until nowhere (exit 1)\n",
    );
    const bad = await run(script, "--until", "a|");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/"a\|" matches the empty string/);
  });

  it("traces hypercalls with Xen's names, their arguments and results with --trace", async () => {
    const r = await run([{ console: "hi" }, { hypercall: 60 }, { shutdown: 0 }], "--trace");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("hi");
    const calls = r.stderr.split("\n").filter((l) => !l.endsWith("(script)"));
    expect(calls).toEqual([
      "[trace] d0v0 console_io(CONSOLEIO_write, count=2, buffer=0x1000) = 0",
      "[trace] d0v0 hypercall_60(0x0, 0x0, 0x0, 0x0, 0x0, 0x0) = -ENOSYS",
      "[trace] d0v0 sched_op(SCHEDOP_shutdown, arg=0x1000 {reason=SHUTDOWN_poweroff}) = 0",
      "",
    ]);
  });

  it("prints each instruction at the vCPU's pc before it executes", async () => {
    const r = await runWith(scriptArch([{ console: "x" }, { shutdown: 0 }]), "--trace");
    expect(r.status).toBe(0);
    expect(r.stderr.split("\n").slice(0, 3)).toEqual([
      "[trace] d0v0 400000: (script)",
      "[trace] d0v0 console_io(CONSOLEIO_write, count=1, buffer=0x1000) = 0",
      "[trace] d0v0 400001: (script)",
    ]);
  });

  it("--trace=<what> picks hypercalls, exits or instructions; a bare --trace is all", async () => {
    const script: Step[] = [{ console: "x" }, { idle: true }];
    const only = async (what: string) => (await run(script, what)).stderr.split("\n");
    const hypercall = "[trace] d0v0 console_io(CONSOLEIO_write, count=1, buffer=0x1000) = 0";
    const idle = "[trace] d0v0 idle";
    const instruction = "[trace] d0v0 400000: (script)";
    const deadlock = expect.stringMatching(/^\(hvkit\) deadlock/);
    expect(await only("--trace=hypercalls")).toEqual([hypercall, deadlock, ""]);
    expect(await only("--trace=exits")).toEqual([idle, deadlock, ""]);
    expect(await only("--trace=Exits,hypercalls")).toEqual([hypercall, idle, deadlock, ""]);
    const all = await only("--trace=all");
    expect(all).toEqual(await only("--trace"));
    expect(all).toEqual([
      instruction,
      hypercall,
      "[trace] d0v0 400001: (script)",
      idle,
      deadlock,
      "",
    ]);
    expect(await only("--trace=instructions")).toEqual(
      all.filter((l) => l !== hypercall && l !== idle),
    );
    const bad = await run(script, "--trace=syscalls");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(
      /expected all or a comma-separated list of hypercalls, exits, instructions, got "syscalls"/,
    );
  });

  it("a fatal exit is traced in one line; its registers are reported once, every line prefixed", async () => {
    const reason =
      "Unhandled: vec 13, #GP\nrip 0000000000400010  rflags 00000002\ncode: 400010: 0f 0b  ud2";
    const r = await run([{ console: "x" }, { fatal: reason }], "--trace");
    expect(r.status).toBe(13);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    expect(lines).toContain("[trace] d0v0 fatal: Unhandled: vec 13, #GP");
    expect(lines.filter((l) => l.includes("rip 0000000000400010"))).toEqual([
      "(hvkit) rip 0000000000400010  rflags 00000002",
    ]);
    for (const line of lines) expect(line).toMatch(/^(\[trace\] d0v0 |\(hvkit\) )/);
  });

  it("--stats counts hypercalls by call and sub-operation with failures by errno, and exits", async () => {
    const r = await run(
      [{ console: "a" }, { console: "b" }, { hypercall: 60 }, { hypercall: 60 }, { shutdown: 0 }],
      "--stats",
    );
    expect(r.status).toBe(0);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    for (const line of lines) expect(line).toMatch(/^\(hvkit\) /);
    expect(lines[0]).toMatch(
      /^\(hvkit\) 5 instructions in \d+\.\d{3} s of wall time \(\d+\.\d\d MIPS\), peak RSS \d+\.\d MiB$/,
    );
    expect(lines.slice(1).map((l) => l.replace(/ +/g, " "))).toEqual([
      "(hvkit) vCPU exits: hypercall 5, idle 0, fatal 0, end of slice 0",
      "(hvkit) hypercall / sub-op calls failed (by errno)",
      "(hvkit) console_io 2",
      "(hvkit) CONSOLEIO_write 2",
      "(hvkit) hypercall_60 2 -ENOSYS 2",
      "(hvkit) sched_op 1",
      "(hvkit) SCHEDOP_shutdown 1",
      "(hvkit) total 5 -ENOSYS 2",
    ]);
    // Sub-operations are indented under their call.
    expect(lines).toContain("(hvkit)   CONSOLEIO_write       2");
  });

  it("--stats comes after the run's end, on a crash and when the budget runs out too", async () => {
    const crash = await run([{ fatal: "#GP" }], "--stats");
    expect(crash.stderr).toMatch(
      /domain 0 shut down: crash \(exit 13\)\n\(hvkit\) 1 instructions in /,
    );
    expect(crash.stderr).toMatch(/vCPU exits: hypercall 0, idle 0, fatal 1, end of slice 0\n/);
    const spin = await run([{ spin: true }], "--stats", "--max-instructions", "5k");
    expect(spin.status).toBe(124);
    expect(spin.stderr).toMatch(/ran out .*\n\(hvkit\) 5000 instructions in /);
    expect(spin.stderr).toMatch(
      /hypercall \/ sub-op +calls +failed \(by errno\)\n\(hvkit\) total +0\n$/,
    );
  });
  it("--profile names an arch that does not count where its instructions run", async () => {
    const r = await run([{ console: "a" }, { shutdown: 0 }], "--profile");
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(
      /^\(hvkit\) profile: arch \w+ does not count where its instructions run\n$/m,
    );
  });
});

describe("hvkit run with too little memory for the image", () => {
  /** The script arch with a builder that wants `pages` pages in the domain. */
  function hungryArch(pages: number, script: Step[] = [{ shutdown: 0 }]): ArchPlugin {
    const base = scriptArch(script);
    return {
      ...base,
      buildDomain: (req) => {
        if (req.domain.maxPages < pages)
          throw new DomainMemoryError(
            "domain memory",
            `needs ${pages} pages, has ${req.domain.maxPages}`,
          );
        return base.buildDomain(req);
      },
    };
  }

  it("says how much --memory the image needs, found by booting it, and that amount boots", async () => {
    const r = await runWith(hungryArch(3000), "--memory", "4");
    expect(r.status).toBe(2);
    const m =
      /^hvkit: --memory 4 is too small for .*guest\.elf: domain memory: needs 3000 pages, has \d+; it boots with --memory (\d+) or more\n$/.exec(
        r.stderr,
      );
    expect(m).not.toBeNull();
    const need = Number(m![1]);
    expect(need).toBeGreaterThan(11); // 3000 pages are more than 11 MiB
    expect((await runWith(hungryArch(3000), "--memory", String(need))).status).toBe(0);
    const less = await runWith(hungryArch(3000), "--memory", String(need - 1));
    expect(less.stderr).toMatch(`it boots with --memory ${need} or more`);
    const byDefault = await runWith(hungryArch(20_000));
    expect(byDefault.stderr).toMatch(
      /^hvkit: --memory 64 \(the default\) is too small .*--memory \d+ or more\n$/,
    );
  });

  it("says when more memory would not help a domU (libxl's default size) or is beyond what it tries", async () => {
    const domU = await runWith(hungryArch(10_000), "--role", "domu");
    expect(domU.status).toBe(2);
    expect(domU.stderr).toMatch(
      /needs 10000 pages, has 8192; a larger --memory does not give the domain more \(a domU without --memory gets libxl's default of 32 MiB; give it --memory\)\n$/,
    );
    const huge = await runWith(hungryArch(70_000), "--memory", "64");
    expect(huge.status).toBe(2);
    expect(huge.stderr).toMatch(/it needs more than --memory 256; try a larger value\n$/);
  });
});

describe("hvkit run --memory, --maxmem and --ramdisk", () => {
  /** The script arch, recording what its builder is given. */
  function recordingArch(): { arch: ArchPlugin; seen: DomainBuildRequest[] } {
    const base = scriptArch([{ shutdown: 0 }]);
    const seen: DomainBuildRequest[] = [];
    return {
      seen,
      arch: {
        ...base,
        buildDomain: (req) => {
          seen.push(req);
          return base.buildDomain(req);
        },
      },
    };
  }
  const tmp = mkdtempSync(join(tmpdir(), "hvkit-run-ramdisk-"));

  it("--memory is the domU's with --role domu (the machine sized to fit), the machine's for dom0", async () => {
    const domU = recordingArch();
    expect((await runWith(domU.arch, "--role", "domu", "--memory", "100")).status).toBe(0);
    // max_pages: the memory and libxl's LIBXL_MAXMEM_CONSTANT (1 MiB) on top; maxmem is
    // only memory/static-max (libxl__build_pre sets max from target_memkb).
    expect(domU.seen[0].domain.maxPages).toBe(100 * 256 + 256);
    const maxmem = recordingArch();
    const args = ["--role", "domu", "--memory", "100", "--maxmem", "200"];
    expect((await runWith(maxmem.arch, ...args)).status).toBe(0);
    expect(maxmem.seen[0].domain.maxPages).toBe(100 * 256 + 256);
    const dom0 = recordingArch();
    expect((await runWith(dom0.arch, "--memory", "100")).status).toBe(0);
    expect(dom0.seen[0].domain.maxPages).toBeGreaterThan(90 * 256);
    expect(dom0.seen[0].domain.maxPages).toBeLessThanOrEqual(100 * 256);
    const byDefault = recordingArch();
    expect((await runWith(byDefault.arch, "--role", "domu")).status).toBe(0);
    expect(byDefault.seen[0].domain.maxPages).toBe(32 * 256 + 256); // libxl's default
  });

  it("a domU's --memory too small: the advice is the domU memory it needs", async () => {
    const base = scriptArch([{ shutdown: 0 }]);
    const hungry: ArchPlugin = {
      ...base,
      buildDomain: (req) => {
        if (req.domain.maxPages < 10_000)
          throw new DomainMemoryError("domain memory", `has ${req.domain.maxPages}`);
        return base.buildDomain(req);
      },
    };
    const r = await runWith(hungry, "--role", "domu", "--memory", "8");
    expect(r.status).toBe(2);
    // 10,000 pages are 39.06 MiB.
    expect(r.stderr).toMatch(
      /--memory 8 is too small .*has 2048; it boots with --memory 40 or more\n$/,
    );
    expect((await runWith(hungry, "--role", "domu", "--memory", "40")).status).toBe(0);
  });

  it("refuses --maxmem below --memory, --maxmem for dom0, and a domU larger than the arch's machine", async () => {
    const a = await runWith(
      recordingArch().arch,
      "--role",
      "domu",
      "--memory",
      "64",
      "--maxmem",
      "32",
    );
    expect(a.status).toBe(2);
    expect(a.stderr).toBe(
      "hvkit: --maxmem 32 is below --memory 64 (xl asks for maxmem >= memory)\n",
    );
    const b = await runWith(recordingArch().arch, "--maxmem", "64");
    expect(b.stderr).toMatch(/^hvkit: --maxmem needs --role domu/);
    const small = { ...recordingArch().arch, maxMemoryMiB: 128 };
    const c = await runWith(small, "--role", "domu", "--memory", "128");
    expect(c.stderr).toMatch(
      /^hvkit: --memory 128: a domU of 128 MiB needs a machine of \d+ MiB, more than the arch's 128 MiB\n$/,
    );
  });

  it("boots a bzImage's ELF kernel, and refuses a bad bzImage saying where", async () => {
    const io = (err: string[]): CliIo => ({
      stdout: { write: () => true },
      stderr: { write: (c) => void err.push(String(c)) },
    });
    const bz = join(tmp, "vmlinuz");
    writeFileSync(bz, buildBzImage(gzipSync(readFileSync(image))));
    const rec = recordingArch();
    const err: string[] = [];
    const status = await runCli(
      ["run", "--arch", "script", bz],
      io(err),
      createRootContainer([rec.arch]),
    );
    expect(err.join("")).toBe("");
    expect(status).toBe(0);
    expect(rec.seen[0].image.header.entry).toBe(0x400000n);
    writeFileSync(bz, buildBzImage(gzipSync(readFileSync(image)), { version: 0x0200 }));
    const bad: string[] = [];
    expect(
      await runCli(["run", "--arch", "script", bz], io(bad), createRootContainer([rec.arch])),
    ).toBe(2);
    expect(bad.join("")).toMatch(
      /^hvkit: bad image .*vmlinuz: setup header version \(file offset 0x206\): boot protocol 2\.00 is too old/,
    );
  });

  it("--ramdisk hands the file to the builder: as it is for dom0, a gzip one inflated for a domU", async () => {
    const plain = join(tmp, "initrd.cpio");
    writeFileSync(plain, "070701".repeat(1000));
    const gz = join(tmp, "initrd.cpio.gz");
    writeFileSync(gz, gzipSync(Buffer.from("hello initrd")));
    const dom0 = recordingArch();
    expect((await runWith(dom0.arch, "--ramdisk", gz)).status).toBe(0);
    expect(Buffer.from(dom0.seen[0].ramdisk!)).toEqual(readFileSync(gz));
    const domU = recordingArch();
    expect((await runWith(domU.arch, "--role", "domu", "--ramdisk", gz)).status).toBe(0);
    const inflated = domU.seen[0].ramdisk!;
    expect(new TextDecoder().decode(inflated.subarray(0, 12))).toBe("hello initrd");
    expect(inflated.length).toBe(Math.max(12 + 16, readFileSync(gz).length));
    const asIs = recordingArch();
    expect((await runWith(asIs.arch, "--role", "domu", "--ramdisk", plain)).status).toBe(0);
    expect(asIs.seen[0].ramdisk!.length).toBe(6000);
    const missing = await runWith(recordingArch().arch, "--ramdisk", join(tmp, "nope"));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/nope/);
  });
});

describe("hvkit run with the x86_64 PV port and our own guests", () => {
  const guests = join(
    fileURLToPath(new URL("../../../conformance/guests/x86_64/", import.meta.url)),
  );
  async function boot(name: string, ...extra: string[]) {
    const out: Uint8Array[] = [];
    const err: string[] = [];
    const io: CliIo = {
      stdout: {
        write: (c) => out.push(typeof c === "string" ? Buffer.from(c) : Uint8Array.from(c)),
      },
      stderr: { write: (c) => err.push(String(c)) },
    };
    const status = await runCli(
      ["run", "--arch", "x86_64", ...extra, join(guests, "bin", `${name}.elf`)],
      io,
    );
    return { status, stdout: Buffer.concat(out).toString("latin1"), stderr: err.join("") };
  }
  const expected = (name: string) =>
    readFileSync(join(guests, "expected", `${name}.txt`), "latin1");

  it("hello: prints its greeting and exits 0", async () => {
    const r = await boot("hello");
    expect(r).toEqual({ status: 0, stdout: expected("hello"), stderr: "" });
  });

  it("exit-reboot exits 11", async () => {
    expect((await boot("exit-reboot")).status).toBe(11);
  });

  it("a fault with no trap table exits 13 with registers and the instruction on stderr", async () => {
    const r = await boot("fault-no-handler");
    expect(r.status).toBe(13);
    expect(r.stdout).toBe(expected("fault-no-handler"));
    expect(r.stderr).toMatch(/^\(hvkit\) domain 0 crashed/m);
    expect(r.stderr).toMatch(/^\(hvkit\) rsp [0-9a-f]{16}/m);
    expect(r.stderr).toMatch(/^\(hvkit\) code: 10003f: 0f 0b\s+ud2$/m);
  });

  it("--trace prints each instruction with address, bytes and disassembly", async () => {
    const r = await boot("hello", "--trace");
    expect(r.status).toBe(0);
    expect(r.stderr.split("\n")[0]).toMatch(
      /^\[trace\] d0v0 100000: 48 89 35 01 01 00 00\s+mov\s+%rsi,0x101\(%rip\)/,
    );
    expect(r.stderr).toMatch(
      /\[trace\] d0v0 [0-9a-f]+: 0f 05\s+syscall\n\[trace\] d0v0 console_io\(CONSOLEIO_write, count=36, buffer=0x[0-9a-f]+\) = 0\n/,
    );
  });

  it("--trace=hypercalls: only the hypercalls, a multicall's entries after it, numbered", async () => {
    const r = await boot("multicall-ops", "--trace=hypercalls");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(expected("multicall-ops"));
    const lines = r.stderr.split("\n");
    for (const line of lines.slice(0, -1)) {
      expect(line).toMatch(/^\[trace\] d0v0 ( {2}\[\d+\] )?[a-z_0-9]+\(/);
    }
    const start = lines.findIndex((l) => l.includes("multicall(") && l.endsWith("nr_calls=6) = 0"));
    expect(lines.slice(start + 1, start + 7)).toEqual([
      "[trace] d0v0   [0] xen_version(XENVER_version, arg=0x0) = 0x40013",
      "[trace] d0v0   [1] vcpu_op(VCPUOP_is_up, vcpuid=0, arg=0x0) = 1",
      "[trace] d0v0   [2] hypercall_60(0x0, 0x0, 0x0, 0x0, 0x0, 0x0) = -ENOSYS",
      "[trace] d0v0   [3] vcpu_op(VCPUOP_is_up, vcpuid=99, arg=0x0) = -ENOENT",
      expect.stringMatching(
        /^\[trace\] d0v0 {3}\[4\] memory_op\(XENMEM_current_reservation, arg=0x[0-9a-f]+\) = \d+$/,
      ),
      "[trace] d0v0   [5] hypercall_out_of_range(0x0, 0x0, 0x0, 0x0, 0x0, 0x0) = -ENOSYS",
    ]);
  });

  it("--trace=hypercalls reads a sub-operation from the request struct (mmu_update, mmuext_op)", async () => {
    const r = await boot("mmu", "--trace=hypercalls");
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(
      /^\[trace\] d0v0 mmuext_op\(uops=0x[0-9a-f]+ \[MMUEXT_PIN_L1_TABLE\], count=1, pdone=0x0, foreigndom=DOMID_SELF\) = -EINVAL$/m,
    );
    expect(r.stderr).toMatch(
      /^\[trace\] d0v0 mmu_update\(ureqs=0x[0-9a-f]+ \[MMU_NORMAL_PT_UPDATE\], count=1, pdone=0x[0-9a-f]+, foreigndom=DOMID_SELF\) = 0$/m,
    );
    expect(r.stderr).toMatch(
      /^\[trace\] d0v0 update_va_mapping\(va=0x109000, val=0x[0-9a-f]+, flags=0x2\) = -EBUSY$/m,
    );
  });

  it("a crashing guest under --trace: one fatal line, the registers once, every line prefixed", async () => {
    const r = await boot("fault-no-handler", "--trace");
    expect(r.status).toBe(13);
    expect(r.stdout).toBe(expected("fault-no-handler"));
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    for (const line of lines) expect(line).toMatch(/^(\[trace\] d0v0 |\(hvkit\) )/);
    expect(lines.filter((l) => / rip [0-9a-f]{16} /.test(l))).toHaveLength(1);
    expect(lines.filter((l) => l.includes("fatal"))).toEqual([
      "[trace] d0v0 fatal: Unhandled: vec 6, #UD",
    ]);
    expect(lines.at(-1)).toBe("(hvkit) domain 0 shut down: crash (exit 13)");
  });

  it("tracing and --stats change nothing in the run: same output, status and instructions", async () => {
    const instructions = (stderr: string) => /^\(hvkit\) (\d+) instructions in /m.exec(stderr)?.[1];
    for (const guest of ["mmu", "multicall-ops", "fault-no-handler"]) {
      const plain = await boot(guest);
      const counted = await boot(guest, "--stats");
      const traced = await boot(guest, "--trace", "--stats");
      expect(counted.stdout).toBe(plain.stdout);
      expect(traced.stdout).toBe(plain.stdout);
      expect([counted.status, traced.status]).toEqual([plain.status, plain.status]);
      expect(instructions(counted.stderr)).toBeDefined();
      expect(instructions(traced.stderr)).toBe(instructions(counted.stderr));
    }
  });

  it("--profile: compute's instructions, interpreted plus compiled, are the run's; real ops named", async () => {
    const plain = await boot("compute", "--stats");
    const r = await boot("compute", "--stats", "--profile");
    expect(r.stdout).toBe(plain.stdout);
    const total = Number(/^\(hvkit\) (\d+) instructions in /m.exec(r.stderr)?.[1]);
    expect(total).toBe(Number(/^\(hvkit\) (\d+) instructions in /m.exec(plain.stderr)?.[1]));
    const split =
      /^\(hvkit\) profile: (\d+) instructions: (\d+) interpreted \([\d.]+%\), (\d+) compiled/m.exec(
        r.stderr,
      );
    expect(split).not.toBeNull();
    const [all, interpreted, compiled] = split!.slice(1).map(Number);
    expect(all).toBe(total);
    expect(interpreted + compiled).toBe(total);
    expect(compiled).toBeGreaterThan(interpreted);
    const blocks = /^\(hvkit\) profile: (\d+) blocks compiled; (\d+) block exits: (.*)$/m.exec(
      r.stderr,
    );
    expect(Number(blocks?.[1])).toBeGreaterThan(0);
    // The exits by cause add up to the exits.
    const causes = [...blocks![3].matchAll(/ (\d+)(?:,|$)/g)].map((m) => Number(m[1]));
    expect(causes.reduce((a, b) => a + b, 0)).toBe(Number(blocks![2]));
    expect(blocks![3]).toMatch(/branch taken or jump out \d+/);
    // The ops tables name the guest's real operations; the interpreted ones add up.
    const table = (title: string) => {
      const lines = r.stderr.split("\n");
      const at = lines.findIndex((l) => l.startsWith(`(hvkit) profile: ${title}`));
      const rows: [string, number][] = [];
      for (const l of lines.slice(at + 1)) {
        const m = /^\(hvkit\) {2}\s*(\d+) {2}(.*)$/.exec(l);
        if (m === null) break;
        rows.push([m[2], Number(m[1])]);
      }
      return rows;
    };
    const interp = table("ops interpreted");
    expect(interp.reduce((n, [, k]) => n + k, 0)).toBe(interpreted);
    const opName = /^[a-z0-9_]+ (8|16|32|64)-bit( memory)?( rep| f3)?( repne| f2)?$/;
    for (const [name] of interp.slice(0, -1)) expect(name).toMatch(opName);
    expect(interp.at(-1)?.[0]).toMatch(/^\(\d+ more\)$/);
    // Blocks ending before an op the compiler leaves out: none may be hot enough to be
    // compiled in compute, but the table is there and names real ops.
    expect(r.stderr).toMatch(/^\(hvkit\) profile: ops ending a block/m);
    const enders = table("ops ending a block");
    for (const [name] of enders.filter(([n]) => !n.endsWith(" more)")))
      expect(name).toMatch(opName);
    // Counts, not times: the same run gives the same profile.
    const again = await boot("compute", "--profile");
    const profile = (s: string) => s.split("\n").filter((l) => l.includes("profile"));
    expect(profile(again.stderr)).toEqual(profile(r.stderr));
  });

  it("--stats: the hypercalls of a guest by call and sub-operation, failures by errno", async () => {
    const r = await boot("mmu", "--stats");
    expect(r.status).toBe(0);
    const table = r.stderr.split("\n").map((l) => l.replace(/ +/g, " "));
    expect(table).toContain("(hvkit) mmuext_op 8 -EINVAL 3");
    expect(table).toContain("(hvkit) MMUEXT_PIN_L1_TABLE 3 -EINVAL 2");
    expect(table).toContain("(hvkit) total 37 -EINVAL 5, -EBUSY 3");
    expect(table).toContain("(hvkit) update_va_mapping 6 -EBUSY 3");
  });

  it("exits 124 when the budget runs out", async () => {
    expect((await boot("compute", "--max-instructions", "1000")).status).toBe(124);
  });

  it("--role domu prints the domU's PV console ring (xenstore answers and typed input included)", async () => {
    const r = await boot("console-ring", "--role", "domu", "--console-input", "hello hvkit\n");
    expect(r).toEqual({ status: 0, stdout: expected("console-ring"), stderr: TYPED_12 });
    const none = await boot("console-ring", "--role", "domu");
    expect(none.status).toBe(0);
    expect(none.stdout).toMatch(/^xenstore name: domU-1$/m);
    expect(none.stdout).toMatch(/^console input: \(none\)\npowering off\n$/m);
    const file = join(tmp, "typed.txt");
    writeFileSync(file, "hvkit\n");
    const fromFile = await boot(
      "console-ring",
      "--role",
      "domu",
      "--console-input",
      "hello ",
      "--console-input-file",
      file,
    );
    expect(fromFile).toEqual({ status: 0, stdout: expected("console-ring"), stderr: TYPED_12 });
    const missing = await boot(
      "console-ring",
      "--role",
      "domu",
      "--console-input-file",
      tmp + "/nope",
    );
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read console input .*nope: no such file/);
  });

  it("--memory 1 asks for more memory instead of blaming the image", async () => {
    const r = await boot("hello", "--memory", "1");
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    const m =
      /^hvkit: --memory 1 is too small for .*hello\.elf: program header 0 .*beyond the domain's 0x[0-9a-f]+ bytes of memory; it boots with --memory (\d+) or more\n$/.exec(
        r.stderr,
      );
    expect(m).not.toBeNull();
    expect(r.stderr).not.toMatch(/bad image/);
    const need = Number(m![1]);
    expect((await boot("hello", "--memory", String(need))).status).toBe(0);
    expect((await boot("hello", "--memory", String(need - 1))).stderr).toMatch(
      /initial mapping needs \d+ pages .*; it boots with --memory/,
    );
  });

  it("--console-input-file - reads stdin, and no more than 16 MiB of it", () => {
    const root = fileURLToPath(new URL("../../../", import.meta.url));
    const hvkit = (input: Uint8Array, ...args: string[]) =>
      spawnSync(
        process.execPath,
        ["--conditions=source", "--import", "tsx", join(root, "cli/src/main.ts"), ...args],
        {
          cwd: root,
          input,
          env: { ...process.env, TSX_TSCONFIG_PATH: join(root, "tsconfig.base.json") },
          encoding: "latin1",
        },
      );
    const ring = join(guests, "bin", "console-ring.elf");
    const args = ["run", "--arch", "x86_64", "--role", "domu", "--console-input-file", "-", ring];
    const ok = hvkit(new TextEncoder().encode("hello hvkit\n"), ...args);
    expect({ status: ok.status, stdout: ok.stdout, stderr: ok.stderr }).toEqual({
      status: 0,
      stdout: expected("console-ring"),
      stderr: TYPED_12,
    });
    const flood = hvkit(new Uint8Array(16 * 1024 * 1024 + 1).fill(0x61), ...args);
    expect(flood.status).toBe(2);
    expect(flood.stderr).toBe(
      "hvkit: cannot read console input from stdin: more than the 16 MiB limit for console input files\n",
    );
  });

  it("the domU-only guest booted as dom0 says so on console_io and crashes (exit 13)", async () => {
    const r = await boot("console-ring");
    expect(r.status).toBe(13);
    expect(r.stdout).toMatch(/run it with --role domu/);
  });
});
