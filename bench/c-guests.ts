/**
 * Speed on compiled C: the repository's own CPU-bound C workloads (conformance/guests/
 * common: compute for integer code, simd for SSE float/double/vector code, x87 for long
 * double on the x87 unit), built by gcc and repeated by common/bench.c so that one run is a
 * few hundred million guest instructions, on every arch that runs C guests (x86_64, x86;
 * ppc: compute).
 *
 * hvkit: each run is a fresh `hvkit run --arch <arch> --cmdline <passes> --stats
 * bin/bench-<work>.elf` process (the domain builder and run loop a user gets); the best of
 * the runs is reported. `--stats` gives the instructions, the seconds from building the
 * machine to the end (the run) and the process's peak RSS; start-up is the rest of the
 * process's wall time (Node, loading hvkit — the built CLI once `npm run bench` has built the
 * workspace, else the sources through tsx — and reading the image).
 *
 * Peers, in the same run, on the same C:
 * - qemu-user (qemu-x86_64, qemu-i386, qemu-ppc64): the same objects linked as a static
 *   Linux program (`build.sh native`, into a temporary folder, when gcc,
 *   i686-linux-gnu-gcc or powerpc64-linux-gnu-gcc is installed), best of the same number
 *   of runs, wall time of the whole process.
 * - v86 (32-bit x86 only): the npm package (a devDependency) booting SeaBIOS from Debian's
 *   `seabios` package, which starts the same objects linked as a multiboot kernel
 *   (bin/bench-<work>-multiboot.elf) with output on COM1; timed from the kernel's first
 *   byte to its last line, in a process of its own per run (bench/v86-run.ts).
 *
 * The native program, run directly (ppc's under qemu-ppc64), is the reference: hvkit's
 * output must be the same byte for byte (the first pass's output and an FNV-1a hash of every pass's), or the
 * benchmark fails. A peer whose output differs is reported as such (qemu-user's and v86's
 * floating point are not always exact) and its time is still given, the work being the
 * same. Runnable alone: `npm run bench -- --only c-guests`; `HVKIT_BENCH_C_RUNS=1
 * HVKIT_BENCH_C_PASSES=10` makes a quick one (the passes for every workload, or per
 * workload as `compute=80,simd=20`).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { which } from "./interpreter.js";
import { lastLine, statsOf } from "./linux-boot.js";
import type { BenchFigure, BenchReport } from "./run.js";
import type { V86Run } from "./v86-run.js";

/** The workloads (common/<name>.c; each guest is bin/bench-<name>.elf). */
export const C_BENCH_WORKLOADS = ["compute", "simd", "x87"] as const;

/** A workload's name. */
export type CBenchWorkload = (typeof C_BENCH_WORKLOADS)[number];

/** An arch that runs the C bench guests, and its peers. */
interface CBenchArch {
  readonly arch: "x86_64" | "x86" | "ppc";
  /** The qemu-user binary for its Linux programs. */
  readonly qemu: string;
  /** Whether the guests have multiboot builds, for v86. */
  readonly multiboot: boolean;
  /** The C compiler of its Linux programs. */
  readonly cc: string;
  /**
   * Whether its Linux programs run only under {@link CBenchArch.qemu} (another ISA than
   * the host's): the reference output is then qemu-user's.
   */
  readonly foreign?: boolean;
  /** The workloads it has bench guests for (default all). */
  readonly workloads?: readonly CBenchWorkload[];
}

/** The arches that run C guests. */
export const C_BENCH_ARCHES: readonly CBenchArch[] = [
  { arch: "x86_64", qemu: "qemu-x86_64", multiboot: false, cc: "gcc" },
  { arch: "x86", qemu: "qemu-i386", multiboot: true, cc: "i686-linux-gnu-gcc" },
  // 64-bit PowerPC: compute (integer C); its Linux program runs under qemu-ppc64.
  {
    arch: "ppc",
    qemu: "qemu-ppc64",
    multiboot: false,
    cc: "powerpc64-linux-gnu-gcc",
    foreign: true,
    workloads: ["compute"],
  },
];

/**
 * Passes of each workload in a run: about 250 M (compute), 220 M (simd) and 210 M (x87)
 * guest instructions on x86_64, 360 M, 410 M and 215 M on x86.
 */
export const C_BENCH_PASSES: Readonly<Record<CBenchWorkload, number>> = {
  compute: 80,
  simd: 120,
  x87: 250,
};

/** What to run and how often. */
export interface CGuestBenchOptions {
  /** The arches (default every one in {@link C_BENCH_ARCHES}). */
  readonly arches?: readonly CBenchArch["arch"][];
  /** The workloads (default all). */
  readonly workloads?: readonly CBenchWorkload[];
  /**
   * Passes of every workload (default `HVKIT_BENCH_C_PASSES`, else
   * {@link C_BENCH_PASSES}).
   */
  readonly passes?: number;
  /** Runs of each; the best is reported (default `HVKIT_BENCH_C_RUNS`, else 5). */
  readonly runs?: number;
  /** Measure qemu-user and v86 too (default true). */
  readonly peers?: boolean;
}

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const GUESTS = join(ROOT, "conformance", "guests");
const HVKIT = join(ROOT, "cli", "bin", "hvkit.js");
const V86_RUN = fileURLToPath(new URL("./v86-run.ts", import.meta.url));
/** Where Debian's `seabios` package puts its images. */
const SEABIOS = "/usr/share/seabios";
/** The longest one run may take, seconds. */
const TIMEOUT_SECONDS = 1800;

/** One timed run of anything. */
interface Timed {
  /** Wall seconds of the whole process. */
  readonly wall: number;
  /** Its standard output (Latin-1). */
  readonly stdout: string;
  /** Its standard error. */
  readonly stderr: string;
  /** Its exit status (null when it did not exit by itself; 127 when it could not start). */
  readonly status: number | null;
}

function timed(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Timed {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, {
    cwd: ROOT,
    encoding: "latin1",
    maxBuffer: 64 * 1024 * 1024,
    timeout: TIMEOUT_SECONDS * 1000,
    ...(env !== undefined ? { env } : {}),
  });
  const wall = (performance.now() - t0) / 1000;
  return {
    wall,
    stdout: r.stdout ?? "",
    stderr: r.stderr ?? "",
    status: r.error !== undefined ? 127 : r.status,
  };
}

/** What `hvkit run --stats` said about one run. */
interface HvkitRun {
  readonly instructions: number;
  /** Seconds from building the machine to the end. */
  readonly runSeconds: number;
  /** The rest of the process's wall time. */
  readonly startupSeconds: number;
  readonly peakRssMiB: number;
  readonly output: string;
}

/** Runs `image` once under `hvkit run`; throws when it does not power off with its stats. */
function hvkitRun(arch: string, image: string, passes: number): HvkitRun {
  const args = [HVKIT, "run", "--arch", arch, "--cmdline", `${passes}`];
  args.push("--max-instructions", "1000G", "--stats", image);
  const r = timed(process.execPath, args);
  const { instructions, runSeconds, rssMiB } = statsOf(r.stderr);
  if (r.status !== 0 || instructions === null || runSeconds === null || rssMiB === null)
    throw new Error(`hvkit run ${image} ended with ${r.status}: ${lastLine(r.stderr)}`);
  return {
    instructions,
    runSeconds,
    startupSeconds: r.wall - runSeconds,
    peakRssMiB: rssMiB,
    output: r.stdout,
  };
}

/** FNV-1a (64-bit) of `text`'s bytes, as common/bench.c folds its output. */
function fnv1a(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++)
    h = ((h ^ BigInt(text.charCodeAt(i) & 0xff)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

/**
 * Checks the output of one bench run on its own, without a native program: the first
 * pass's output is the workload's golden text (`<arch>/expected/<work>.txt`), and the
 * last line names the workload and the passes; for one pass, the hash is the golden
 * text's. Throws saying what differs.
 */
export function checkBenchOutput(
  arch: string,
  work: CBenchWorkload,
  passes: number,
  output: string,
): void {
  const golden = readFileSync(join(GUESTS, arch, "expected", `${work}.txt`), "latin1");
  const last = `bench ${work}_main: ${passes} passes, fnv-1a 0x`;
  const at = output.lastIndexOf(last);
  if (!output.startsWith(golden) || at !== golden.length)
    throw new Error(
      `${arch} bench-${work}: the first pass's output is not expected/${work}.txt followed by "${last}..."`,
    );
  const tail = output.slice(at + last.length);
  if (!/^[0-9a-f]+\n$/.test(tail))
    throw new Error(`${arch} bench-${work}: the last line does not end in a hash: ${tail}`);
  if (passes === 1 && tail !== `${fnv1a(golden).toString(16)}\n`)
    throw new Error(`${arch} bench-${work}: the hash of one pass is not the golden text's`);
}

/**
 * Builds the native bench programs of `arch` into `dir` (`build.sh native`); null when
 * they are built, else why not.
 */
function buildNatives(a: CBenchArch, dir: string): string | null {
  if (!which(a.cc)) return `${a.cc} is not installed`;
  if (a.foreign && !which(a.qemu)) return `${a.qemu} is not installed`;
  const r = timed("sh", [join(GUESTS, "build.sh"), "native", a.arch, dir]);
  return r.status === 0 ? null : `build.sh native ${a.arch} failed: ${lastLine(r.stderr)}`;
}

/** The SeaBIOS and VGA BIOS images, or why v86 cannot run. */
function v86Firmware(): { bios: string; vgaBios: string } | string {
  try {
    createRequire(import.meta.url).resolve("v86");
  } catch {
    return "the v86 package is not installed (a devDependency: npm ci)";
  }
  const bios = join(SEABIOS, "bios.bin");
  const vga = ["vgabios-stdvga.bin", "vgabios.bin"].map((f) => join(SEABIOS, f)).find(existsSync);
  if (!existsSync(bios) || vga === undefined)
    return `SeaBIOS is not installed (Debian's seabios package: ${SEABIOS}/bios.bin and a vgabios)`;
  return { bios, vgaBios: vga };
}

/** One run of a multiboot kernel under v86, in a process of its own. */
function v86Run(
  firmware: { bios: string; vgaBios: string },
  kernel: string,
  passes: number,
): V86Run {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
  const args = ["--conditions=source", "--import", tsx, V86_RUN];
  args.push(firmware.bios, firmware.vgaBios, kernel, `${passes}`);
  const r = timed(process.execPath, args, {
    ...process.env,
    TSX_TSCONFIG_PATH: join(ROOT, "tsconfig.base.json"),
  });
  if (r.status !== 0) throw new Error(`v86 run of ${kernel} failed: ${lastLine(r.stderr)}`);
  return JSON.parse(lastLine(r.stdout)) as V86Run;
}

/**
 * The passes `HVKIT_BENCH_C_PASSES` (`setting`) gives `work`: a number for every workload,
 * or `name=number` pairs separated by commas; else {@link C_BENCH_PASSES}.
 */
function passesFromEnvironment(setting: string | undefined, work: CBenchWorkload): number {
  const given = (setting ?? "").split(",").map((p) => p.trim().split("="));
  const n = Number(given.find((p) => (p.length === 1 ? p[0] !== "" : p[0] === work))?.at(-1));
  return Number.isInteger(n) && n > 0 ? n : C_BENCH_PASSES[work];
}

/** The best (least `key`) of `n` results of `f`. */
function best<T>(n: number, key: (t: T) => number, f: () => T): T {
  let b = f();
  for (let i = 1; i < n; i++) {
    const t = f();
    if (key(t) < key(b)) b = t;
  }
  return b;
}

/** Runs the benchmark (see the module comment). */
export function runCGuestBench(options: CGuestBenchOptions = {}): BenchReport {
  const runs = options.runs ?? (Math.max(1, Number(process.env.HVKIT_BENCH_C_RUNS ?? 5)) || 5);
  const passesOf = (work: CBenchWorkload): number =>
    options.passes ?? passesFromEnvironment(process.env.HVKIT_BENCH_C_PASSES, work);
  const peers = options.peers ?? true;
  const figures: BenchFigure[] = [];
  const firmware = peers ? v86Firmware() : "not asked for";
  for (const a of C_BENCH_ARCHES) {
    if (options.arches !== undefined && !options.arches.includes(a.arch)) continue;
    const dir = mkdtempSync(join(tmpdir(), "hvkit-bench-c-"));
    try {
      const noNative = peers ? buildNatives(a, dir) : "not asked for";
      const qemu = which(a.qemu);
      for (const work of options.workloads ?? C_BENCH_WORKLOADS) {
        if (a.workloads !== undefined && !a.workloads.includes(work)) continue;
        const passes = passesOf(work);
        const name = `${a.arch} ${work}`;
        const fig = (label: string, value: number | string, unit?: string) =>
          figures.push({ label: `${name}: ${label}`, value, ...(unit ? { unit } : {}) });
        const native = join(dir, `bench-${work}`);
        const reference =
          noNative === null
            ? a.foreign
              ? timed(a.qemu, [native, `${passes}`])
              : timed(native, [`${passes}`])
            : null;
        if (reference !== null && reference.status !== 0)
          throw new Error(`the native ${name} program ended with ${reference.status}`);

        const image = join(GUESTS, a.arch, "bin", `bench-${work}.elf`);
        if (!existsSync(image)) {
          fig(
            "hvkit",
            `bin/bench-${work}.elf is not built (conformance/guests/build.sh ${a.arch})`,
          );
          continue;
        }
        process.stderr.write(`bench: ${name} under hvkit (${passes} passes, ${runs} runs) ...\n`);
        const h = best(
          runs,
          (r) => r.runSeconds,
          () => hvkitRun(a.arch, image, passes),
        );
        checkBenchOutput(a.arch, work, passes, h.output);
        if (reference !== null && h.output !== reference.stdout)
          throw new Error(`${name}: hvkit's output differs from the native program's`);
        fig("guest instructions", h.instructions);
        fig("hvkit MIPS (best, run)", h.instructions / h.runSeconds / 1e6, "MIPS");
        fig("hvkit seconds (best, run)", h.runSeconds, "s");
        fig("hvkit start-up seconds", h.startupSeconds, "s");
        fig("hvkit peak RSS", h.peakRssMiB, "MiB");

        if (noNative !== null) fig("qemu-user", noNative);
        else if (!qemu) fig("qemu-user", `${a.qemu} is not installed`);
        else {
          const q = best(
            runs,
            (r) => r.wall,
            () => timed(a.qemu, [native, `${passes}`]),
          );
          if (q.status !== 0) throw new Error(`${a.qemu} ${native} ended with ${q.status}`);
          fig("qemu-user seconds (best)", q.wall, "s");
          fig("hvkit time / qemu-user time", h.runSeconds / q.wall, "×");
          if (q.stdout !== reference?.stdout)
            fig("qemu-user output", "differs from the native program's (its emulation)");
        }

        if (!a.multiboot) continue;
        if (typeof firmware === "string") {
          fig("v86", firmware);
          continue;
        }
        process.stderr.write(`bench: ${name} under v86 (${runs} runs) ...\n`);
        const kernel = join(GUESTS, a.arch, "bin", `bench-${work}-multiboot.elf`);
        const v = best(
          runs,
          (r) => r.runSeconds,
          () => v86Run(firmware, kernel, passes),
        );
        if (!v.finished) throw new Error(`${name}: v86 did not finish: ${lastLine(v.output)}`);
        fig("v86 seconds (best, run)", v.runSeconds, "s");
        fig("v86 MIPS (its own instruction counter)", v.instructions / v.runSeconds / 1e6, "MIPS");
        fig("hvkit time / v86 time", h.runSeconds / v.runSeconds, "×");
        fig("v86 start-up seconds (SeaBIOS boot)", v.startupSeconds, "s");
        fig("v86 peak RSS", v.peakRssKiB / 1024, "MiB");
        if (reference !== null && v.output !== reference.stdout)
          fig("v86 output", "differs from the native program's (its emulation)");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return {
    figures,
    method:
      `gcc-compiled C of conformance/guests/common (compute: integer; simd: SSE float, ` +
      `double and vectors, -O3; x87: long double), repeated by common/bench.c ` +
      `(${(options.workloads ?? C_BENCH_WORKLOADS).map((w) => `${w} ${passesOf(w)}`).join(", ")} ` +
      `passes), best of ${runs} runs. hvkit: a fresh ` +
      "`hvkit run --stats` process per run; seconds and MIPS from building the machine to " +
      "the guest's poweroff, start-up the rest of the process's wall time, peak RSS from " +
      "getrusage. qemu-user: the same objects as a static Linux program, wall time of the " +
      "whole process; ratio = hvkit run seconds / qemu seconds. v86: the same objects as a " +
      "multiboot kernel started by SeaBIOS, output on COM1, timed from its first byte to its " +
      "last line in a process of its own; v86 MIPS are from v86's own instruction counter, " +
      "the ratio is of seconds for the same work. Every hvkit run's output matches the native " +
      "program's byte for byte (its first pass and a hash of every pass).",
  };
}
