/**
 * `npm run bench`: runs every registered benchmark and prints its figures with the
 * method used to measure them. Benchmarks measure host time, so they never run as tests.
 *
 * A benchmark is a module in this folder exporting a function that returns (or resolves
 * to) a {@link BenchReport}-like object; register it in {@link BENCHMARKS}. A module that
 * does not exist yet is reported as such, not as an error. `npm run bench -- --only evtchn`
 * runs only the benchmarks whose name or file name contains "evtchn" (comma-separated
 * names select several).
 *
 * Each guest benchmark checks inside itself that the work really happened (call counts,
 * round trips, values read back); bench/bench.test.ts runs each one with a tiny count so
 * they keep working, and never asserts a speed.
 */
import "reflect-metadata";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One measured figure. */
export interface BenchFigure {
  /** What was measured. */
  label: string;
  /** The value. */
  value: number | string;
  /** Its unit (MIPS, s, ×). */
  unit?: string;
}

/** What a benchmark reports. */
export interface BenchReport {
  /** The figures. */
  figures: BenchFigure[];
  /** How they were measured (workload, repetitions, clock, what is excluded). */
  method: string;
}

/** A registered benchmark: a module and the function it exports. */
interface BenchEntry {
  name: string;
  module: string;
  exportName: string;
}

/** The benchmarks `npm run bench` runs, in order. */
const BENCHMARKS: readonly BenchEntry[] = [
  { name: "x86_64 interpreter", module: "./interpreter.ts", exportName: "runInterpreterBench" },
  { name: "null hypercall", module: "./hypercall.ts", exportName: "runHypercallBench" },
  { name: "evtchn ping-pong", module: "./evtchn.ts", exportName: "runEvtchnBench" },
  { name: "xenstore", module: "./xenstore.ts", exportName: "runXenstoreBench" },
  { name: "Linux boot", module: "./linux-boot.ts", exportName: "runLinuxBootBench" },
  { name: "C guests", module: "./c-guests.ts", exportName: "runCGuestBench" },
];

/**
 * The benchmarks `--only <names>` selects (comma-separated, repeatable; each matches a
 * benchmark whose name or module file name contains it, case-insensitively), or all.
 */
function selected(argv: readonly string[]): readonly BenchEntry[] {
  const wanted: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--only" && i + 1 < argv.length) wanted.push(...argv[++i].split(","));
    else if (a.startsWith("--only=")) wanted.push(...a.slice(7).split(","));
    else
      throw new Error(
        `unknown argument ${a} (usage: npm run bench -- [--only <name>[,<name>...]])`,
      );
  }
  if (wanted.length === 0) return BENCHMARKS;
  const picked = BENCHMARKS.filter((b) =>
    wanted.some((w) => `${b.name} ${b.module}`.toLowerCase().includes(w.toLowerCase())),
  );
  if (picked.length === 0)
    throw new Error(
      `--only ${wanted.join(",")} matches no benchmark (have: ${BENCHMARKS.map((b) => b.name).join(", ")})`,
    );
  return picked;
}

/**
 * Turns whatever a benchmark returned into figures: a {@link BenchReport} as it is, or
 * any plain object's number and string fields (a `method` field becomes the method).
 */
function toReport(result: unknown): BenchReport {
  if (typeof result !== "object" || result === null) {
    return { figures: [{ label: "result", value: String(result) }], method: "(not stated)" };
  }
  const r = result as Record<string, unknown>;
  if (Array.isArray(r.figures)) {
    return {
      figures: r.figures as BenchFigure[],
      method: typeof r.method === "string" ? r.method : "(not stated)",
    };
  }
  const figures: BenchFigure[] = [];
  for (const [label, value] of Object.entries(r)) {
    if (label === "method") continue;
    if (typeof value === "number") figures.push({ label, value });
    else if (typeof value === "string" || typeof value === "boolean")
      figures.push({ label, value: String(value) });
    else if (value === null) figures.push({ label, value: "n/a" });
  }
  return { figures, method: typeof r.method === "string" ? r.method : "(not stated)" };
}

function formatValue(v: number | string): string {
  if (typeof v === "string") return v;
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  return Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);
}

async function main(): Promise<number> {
  let chosen: readonly BenchEntry[];
  try {
    chosen = selected(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bench: ${(e as Error).message}\n`);
    return 2;
  }
  const rows: string[][] = [];
  const methods: string[] = [];
  let failed = 0;
  for (const bench of chosen) {
    const path = fileURLToPath(new URL(bench.module, import.meta.url));
    if (!existsSync(path)) {
      rows.push([bench.name, "(not built yet)", "", ""]);
      continue;
    }
    process.stderr.write(`bench: running ${bench.name} ...\n`);
    try {
      const mod = (await import(bench.module)) as Record<string, unknown>;
      const fn = mod[bench.exportName];
      if (typeof fn !== "function")
        throw new Error(`${bench.module} does not export ${bench.exportName}()`);
      const report = toReport(await (fn as () => unknown)());
      for (const f of report.figures)
        rows.push([bench.name, f.label, formatValue(f.value), f.unit ?? ""]);
      methods.push(`${bench.name}: ${report.method}`);
    } catch (e) {
      failed++;
      rows.push([bench.name, "FAILED", (e as Error).message, ""]);
    }
  }
  const header = ["benchmark", "figure", "value", "unit"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 2 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  const out = [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
  if (methods.length > 0) out.push("", "Method:", ...methods.map((m) => `  ${m}`));
  process.stdout.write(out.join("\n") + "\n");
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
