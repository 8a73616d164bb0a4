/**
 * Boot time of a real kernel: Debian 12's stock `linux-image-amd64` (a Xen PV kernel) with
 * the Linux adapter's busybox initramfs, booted by `hvkit run` as a PV domU and as dom0
 * until /init prints its line ({@link INIT_MARKER}), as a user would run it:
 *
 *     hvkit run --arch x86_64 [--role domu] --memory 256 --ramdisk initrd.img \
 *       --cmdline "console=hvc0 panic=-1" --until "<marker>" --stats vmlinuz
 *
 * Each boot is a fresh `node cli/bin/hvkit.js` process, so the wall time counts everything
 * a user waits for: Node's start-up, loading hvkit (the built CLI, which `npm run bench` builds
 * first; the sources through tsx when the build is older than them), the
 * bzImage's xz payload unpacked, the machine built and the kernel run to /init. `--stats`
 * gives the guest instructions up to the slice in which /init's line was written, the
 * time from building the machine to that point, and the process's peak RSS.
 *
 * When `qemu-system-x86_64` is installed, the same bzImage and initramfs boot under QEMU's
 * TCG (no KVM) on the same machine in the same run, console on the serial port, timed
 * from the spawn of QEMU to /init's line. It is the same kernel and init doing the same
 * work, booted the other way Linux can be: on an emulated PC (firmware, ACPI, devices
 * probed) instead of as a Xen PV guest, so the ratio compares two ways of getting the same
 * kernel to /init, not identical instruction streams.
 *
 * The packages come through the Linux adapter's cache (apt, into hvkit's cache folder);
 * without them the benchmark says so and reports nothing else. Runnable alone:
 * `npm run bench -- --only linux`; `HVKIT_BENCH_BOOT_RUNS=5` boots each way five times and
 * reports the best.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  buildInitramfs,
  DebianPackageCache,
  INIT_MARKER,
  INIT_PRINTS,
  LINUX_COMMAND_LINE,
  LINUX_MAX_INSTRUCTIONS,
  LINUX_MEMORY_MIB,
  obtainLinuxPackageFiles,
  PackageUnavailableError,
} from "../guests/src/index.js";
import type { BenchFigure, BenchReport } from "./run.js";

/** Which boots to measure and how often. */
export interface LinuxBootBenchOptions {
  /** Boots of each kind, at least 1; the best is reported (default `HVKIT_BENCH_BOOT_RUNS`, else 1). */
  readonly runs?: number;
  /** Instruction budget of each hvkit boot (default the adapter's). */
  readonly maxInstructions?: number;
  /** The roles booted under hvkit (default domU and dom0). */
  readonly roles?: readonly ("domU" | "dom0")[];
  /** Boot under QEMU TCG too when it is installed (default true). */
  readonly qemu?: boolean;
  /** Longest wait for one boot, seconds (default 1800). */
  readonly timeoutSeconds?: number;
}

/** What one boot showed. */
interface Boot {
  /** Wall seconds from the spawn to the process's end (hvkit) or to /init's line (QEMU). */
  wall: number;
  /** Whether /init's line was printed. */
  reached: boolean;
  /** Exit status (null when killed). */
  status: number | null;
  stdout: string;
  stderr: string;
}

const HVKIT = fileURLToPath(new URL("../cli/bin/hvkit.js", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * Spawns `cmd args`, collects its output, and ends it (SIGKILL) once `stopOn` appears on
 * its stdout, if given, or after `timeoutSeconds`. Resolves with what it saw, never rejects
 * for the program's own failure (a missing program is `status` 127).
 */
function boot(
  cmd: string,
  args: readonly string[],
  timeoutSeconds: number,
  stopOn?: string,
): Promise<Boot> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const out: string[] = [];
    const err: string[] = [];
    let reachedAt: number | null = null;
    let tail = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutSeconds * 1000);
    child.stdout.setEncoding("latin1").on("data", (s: string) => {
      out.push(s);
      if (stopOn === undefined || reachedAt !== null) return;
      tail = (tail + s).slice(-4096);
      if (tail.includes(stopOn)) {
        reachedAt = performance.now();
        child.kill("SIGKILL");
      }
    });
    child.stderr.setEncoding("latin1").on("data", (s: string) => err.push(s));
    const done = (status: number | null) => {
      clearTimeout(timer);
      const stdout = out.join("");
      resolve({
        wall: ((reachedAt ?? performance.now()) - t0) / 1000,
        reached: stdout.includes(INIT_MARKER),
        status,
        stdout,
        stderr: err.join(""),
      });
    };
    child.on("error", () => done(127));
    child.on("close", (code) => done(code));
  });
}

/**
 * Boots `runs` times with `attempt` and resolves with the fastest boot by wall time, or
 * with the figure `failure` makes of the first boot that failed (null: it did not).
 */
async function fastestBoot(
  runs: number,
  what: string,
  attempt: () => Promise<Boot>,
  failure: (b: Boot) => BenchFigure | null,
): Promise<Boot | BenchFigure> {
  let fastest: Boot | null = null;
  for (let i = 0; i < runs; i++) {
    process.stderr.write(`bench: booting ${what} (${i + 1}/${runs}) ...\n`);
    const b = await attempt();
    const failed = failure(b);
    if (failed !== null) return failed;
    if (fastest === null || b.wall < fastest.wall) fastest = b;
  }
  return fastest!;
}

/** The figures `--stats` and `--until` print on stderr, or null where absent. */
export function statsOf(stderr: string): {
  instructions: number | null;
  runSeconds: number | null;
  mips: number | null;
  rssMiB: number | null;
} {
  const total =
    /\(hvkit\) (\d+) instructions in ([\d.]+) s of wall time \(([\d.]+) MIPS\), peak RSS ([\d.]+) MiB/.exec(
      stderr,
    );
  return {
    instructions: total ? Number(total[1]) : null,
    runSeconds: total ? Number(total[2]) : null,
    mips: total ? Number(total[3]) : null,
    rssMiB: total ? Number(total[4]) : null,
  };
}

/**
 * What hvkit said about how the run ended: the line before `--stats`'s summary, or the
 * last line.
 */
function endLine(stderr: string): string {
  const lines = stderr.split("\n");
  const at = lines.findIndex((l) => / instructions in [\d.]+ s of wall time/.test(l));
  return at > 0 ? lines[at - 1].trim() : lastLine(stderr);
}

/** The last line of `text` that is not empty (what a failed boot said last). */
export const lastLine = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .at(-1) ?? "(nothing)";

/** Runs the benchmark (see the module comment). */
export async function runLinuxBootBench(options: LinuxBootBenchOptions = {}): Promise<BenchReport> {
  const runs = Math.max(1, options.runs ?? (Number(process.env.HVKIT_BENCH_BOOT_RUNS ?? 1) || 1));
  const budget = options.maxInstructions ?? LINUX_MAX_INSTRUCTIONS;
  const timeout = options.timeoutSeconds ?? 1800;
  let files;
  try {
    files = await obtainLinuxPackageFiles(new DebianPackageCache());
  } catch (e) {
    if (!(e instanceof PackageUnavailableError)) throw e;
    return {
      figures: [{ label: "skipped", value: `Debian's packages cannot be had here: ${e.message}` }],
      method: "Debian's linux-image-amd64 and busybox-static through apt (not available here).",
    };
  }
  const dir = mkdtempSync(join(tmpdir(), "hvkit-bench-linux-"));
  const figures: BenchFigure[] = [];
  try {
    const initrd = join(dir, "initrd.img");
    writeFileSync(initrd, buildInitramfs(readFileSync(files.busybox)));
    const best: Partial<Record<"domU" | "dom0" | "qemu", number>> = {};
    for (const role of options.roles ?? (["domU", "dom0"] as const)) {
      const args = [
        HVKIT,
        "run",
        "--arch",
        "x86_64",
        ...(role === "domU" ? ["--role", "domu"] : []),
        "--memory",
        `${LINUX_MEMORY_MIB}`,
        "--ramdisk",
        initrd,
        "--cmdline",
        LINUX_COMMAND_LINE,
        "--until",
        INIT_PRINTS.console.source,
        "--max-instructions",
        `${budget}`,
        "--stats",
        files.vmlinuz,
      ];
      const r = await fastestBoot(
        runs,
        `Linux as ${role} under hvkit`,
        () => boot(process.execPath, args, timeout),
        (b) =>
          b.reached && b.status === 0
            ? null
            : {
                label: `${role}: /init not reached`,
                value: `exit ${b.status ?? "killed"} after ${statsOf(b.stderr).instructions ?? "?"} instructions: ${endLine(b.stderr)}`,
              },
      );
      if ("label" in r) {
        figures.push(r);
        continue;
      }
      const fastest = { ...r, ...statsOf(r.stderr) };
      best[role] = fastest.wall;
      figures.push(
        { label: `${role}: instructions to /init`, value: fastest.instructions ?? "?" },
        {
          label: `${role}: seconds to /init (best, wall, start-up included)`,
          value: fastest.wall,
          unit: "s",
        },
        {
          label: `${role}: seconds from machine build to /init`,
          value: fastest.runSeconds ?? "?",
          unit: "s",
        },
        {
          label: `${role}: MIPS (machine build to /init)`,
          value: fastest.mips ?? "?",
          unit: "MIPS",
        },
        { label: `${role}: peak RSS`, value: fastest.rssMiB ?? "?", unit: "MiB" },
        {
          label: `${role}: peak RSS / guest memory (${LINUX_MEMORY_MIB} MiB)`,
          value: fastest.rssMiB === null ? "?" : fastest.rssMiB / LINUX_MEMORY_MIB,
          unit: "×",
        },
      );
    }
    if (options.qemu ?? true) {
      const qemuArgs = [
        "-accel",
        "tcg",
        "-m",
        `${LINUX_MEMORY_MIB}`,
        "-display",
        "none",
        "-no-reboot",
        "-serial",
        "stdio",
        "-monitor",
        "none",
        "-kernel",
        files.vmlinuz,
        "-initrd",
        initrd,
        "-append",
        "console=ttyS0 panic=-1",
      ];
      const r = await fastestBoot(
        runs,
        "Linux under QEMU TCG",
        () => boot("qemu-system-x86_64", qemuArgs, timeout, INIT_MARKER),
        (b) =>
          b.reached
            ? null
            : b.status === 127
              ? { label: "QEMU TCG", value: "qemu-system-x86_64 is not installed" }
              : { label: "QEMU TCG: /init not reached", value: lastLine(b.stdout + b.stderr) },
      );
      if ("label" in r) figures.push(r);
      else {
        best.qemu = r.wall;
        figures.push({
          label: "QEMU TCG: seconds to /init (best, wall)",
          value: r.wall,
          unit: "s",
        });
        for (const role of ["domU", "dom0"] as const) {
          const t = best[role];
          if (t !== undefined)
            figures.push({
              label: `${role}: hvkit time / QEMU TCG time`,
              value: t / r.wall,
              unit: "×",
            });
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    figures,
    method:
      `Debian's linux-image-amd64 with a busybox initramfs, ${LINUX_MEMORY_MIB} MiB, cmdline ` +
      `"${LINUX_COMMAND_LINE}", booted by a fresh \`hvkit run --until <init's line> --stats\` ` +
      `process per boot (best of ${runs}); wall time from the spawn to the process's end, ` +
      `start-up and the bzImage's unpacking included; instructions, run time, MIPS and peak ` +
      `RSS as --stats prints them. QEMU TCG: qemu-system-x86_64 -accel tcg, the same bzImage ` +
      `and initramfs, console=ttyS0, timed from the spawn to /init's line on the serial port.`,
  };
}
