/**
 * `hvkit run --profile` and `hvkit create --profile`: where the guest's instructions ran,
 * on stderr at the end of the run, each line prefixed "(hvkit)": instructions retired by
 * the interpreter against those retired in compiled code, blocks compiled, how compiled
 * code was left (by cause), and the operations that ended blocks or ran interpreted, most
 * counted first. It comes from each vCPU's `ArchVcpu.startProfile`, summed over the run's
 * vCPUs; an arch without it is named as such. Counts only (no times), so a run's profile
 * is the same every time.
 *
 * @module
 */
import type { ArchPlugin, ExecutionProfile, ProfileCount } from "@hvkit/core";
import { byCalls } from "./stats.js";
import { archPluginWithRun } from "./trace.js";

/** Rows shown of each operation table. */
const TOP = 12;

/** Collects the execution profile of every vCPU a wrapped arch plugin creates. */
export class RunProfile {
  private readonly readers: (() => ExecutionProfile)[] = [];
  private missing = 0;

  /** `plugin` with a profile started on each vCPU it creates. */
  profiling(plugin: ArchPlugin): ArchPlugin {
    return archPluginWithRun(plugin, (inner) => {
      const read = inner.startProfile?.();
      if (read === undefined) this.missing++;
      else this.readers.push(read);
      return (budget) => inner.run(budget);
    });
  }

  /** The profile summed over the vCPUs, or null when no vCPU had one. */
  total(): ExecutionProfile | null {
    if (this.readers.length === 0) return null;
    const parts = this.readers.map((read) => read());
    return {
      interpreted: parts.reduce((n, p) => n + p.interpreted, 0),
      compiled: parts.reduce((n, p) => n + p.compiled, 0),
      blocksCompiled: parts.reduce((n, p) => n + p.blocksCompiled, 0),
      blockExits: summed(parts.map((p) => p.blockExits)),
      blockEnders: summed(parts.map((p) => p.blockEnders)),
      interpretedOps: summed(parts.map((p) => p.interpretedOps)),
    };
  }

  /** The summary lines (without prefix); `arch` names the arch when it has no profile. */
  summary(arch: string): string[] {
    const p = this.total();
    if (p === null) return [`profile: arch ${arch} does not count where its instructions run`];
    const all = p.interpreted + p.compiled;
    const pct = (n: number) => (all === 0 ? "0.0" : ((100 * n) / all).toFixed(1));
    const exits = p.blockExits.reduce((n, [, k]) => n + k, 0);
    const lines = [
      `profile: ${all} instructions: ${p.interpreted} interpreted (${pct(p.interpreted)}%), ` +
        `${p.compiled} compiled (${pct(p.compiled)}%)`,
      `profile: ${p.blocksCompiled} blocks compiled; ${exits} block exits: ` +
        (p.blockExits.map(([name, n]) => `${name} ${n}`).join(", ") || "none"),
    ];
    table(lines, "ops ending a block (not compiled), by block exits", p.blockEnders);
    table(lines, "ops interpreted, by instructions", p.interpretedOps);
    if (this.missing > 0) lines.push(`profile: ${this.missing} vCPU(s) without a profile`);
    return lines;
  }
}

function table(lines: string[], title: string, rows: readonly ProfileCount[]): void {
  lines.push(`profile: ${title}${rows.length === 0 ? ": none" : ""}`);
  const shown = rows.slice(0, TOP);
  const width = Math.max(0, ...shown.map(([, n]) => `${n}`.length));
  for (const [name, n] of shown) lines.push(`  ${`${n}`.padStart(width)}  ${name}`);
  if (rows.length > TOP) {
    const rest = rows.slice(TOP).reduce((s, [, n]) => s + n, 0);
    lines.push(`  ${`${rest}`.padStart(width)}  (${rows.length - TOP} more)`);
  }
}

/** Tables of named counts added up by name, largest first (then by name). */
function summed(tables: readonly (readonly ProfileCount[])[]): ProfileCount[] {
  const sums = new Map<string, number>();
  for (const t of tables) for (const [name, n] of t) sums.set(name, (sums.get(name) ?? 0) + n);
  return byCalls(sums);
}
