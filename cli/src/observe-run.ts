/**
 * What `--trace`, `--stats` and `--profile` add to a run of `hvkit run` or `hvkit create`: the
 * observers bound in a child container of the command's root, the arch plugin wrapped to
 * trace or count its vCPUs' exits, and the summary printed at the end.
 *
 * @module
 */
import type { DependencyContainer } from "tsyringe";
import { HYPERCALL_OBSERVERS, type ArchPlugin } from "@hvkit/core";
import { RunProfile } from "./profile.js";
import { RunStatistics } from "./stats.js";
import { HypercallTrace, tracingArchPlugin, type TraceKind } from "./trace.js";

/** What `--trace`, `--stats` and `--profile` add to a run (`hvkit run` and `hvkit create`). */
export interface RunWatch {
  /** The container to build the machine in: the root, or a child binding the observers. */
  readonly container: DependencyContainer;
  /** The arch plugin to run: the plugin, wrapped to trace and count its exits if asked. */
  readonly arch: ArchPlugin;
  /**
   * Prints the `--stats` summary of a run of `instructions` (nothing without `--stats`),
   * with the wall time since {@link observeRun} and the process's peak resident set, and
   * the `--profile` summary (nothing without `--profile`).
   */
  finish(instructions: number): void;
}

/**
 * Sets up `options.trace`, `options.stats` and `options.profile` for a run of `plugin` on
 * `err`; the wall time `--stats` reports starts here. With none, the run is the plain one:
 * the root container and the plugin itself, no observer.
 */
export function observeRun(
  root: DependencyContainer,
  plugin: ArchPlugin,
  options: {
    readonly trace?: ReadonlySet<TraceKind>;
    readonly stats?: boolean;
    readonly profile?: boolean;
  },
  err: (line: string) => void,
): RunWatch {
  const start = performance.now();
  const trace = options.trace;
  const stats = options.stats === true ? new RunStatistics() : null;
  const profile = options.profile === true ? new RunProfile() : null;
  if ((trace === undefined || trace.size === 0) && stats === null && profile === null) {
    return { container: root, arch: plugin, finish: () => {} };
  }
  const container = root.createChildContainer();
  let arch = plugin;
  if (trace !== undefined) {
    if (trace.has("hypercalls")) {
      container.register(HYPERCALL_OBSERVERS, { useValue: new HypercallTrace(err) });
    }
    arch = tracingArchPlugin(arch, err, trace);
  }
  if (stats !== null) {
    container.register(HYPERCALL_OBSERVERS, { useValue: stats });
    arch = stats.countingExits(arch);
  }
  if (profile !== null) arch = profile.profiling(arch);
  return {
    container,
    arch,
    finish(instructions) {
      if (stats !== null) {
        const wallMs = performance.now() - start;
        const peakRssKiB = process.resourceUsage().maxRSS;
        for (const line of stats.summary(instructions, wallMs, peakRssKiB)) err(`(hvkit) ${line}`);
      }
      if (profile !== null) for (const line of profile.summary(plugin.name)) err(`(hvkit) ${line}`);
    },
  };
}
