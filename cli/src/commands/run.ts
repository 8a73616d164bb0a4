/**
 * `hvkit run`: boot an image as the initial domain (or, with `--role domu`, as a domU under
 * the built-in dom0) and run it, guest console to stdout.
 *
 * @module
 */
import type { DependencyContainer } from "tsyringe";
import {
  ArchHookMissingError,
  DomainMemoryError,
  HvkitError,
  ImageError,
  MachineConfigError,
  MAX_MEMORY_MIB,
  ShutdownReason,
  type ArchRegistry,
} from "@hvkit/core";
import {
  runGuest,
  startGuest,
  DEFAULT_MAX_INSTRUCTIONS,
  DEFAULT_MEMORY_MIB,
  machineMemoryForDomU,
  type GuestRun,
  type GuestRunOptions,
} from "@hvkit/runner";
import type { CliIo } from "../cli-io.js";
import { ExitStatus, shutdownExitStatus, shutdownReasonName } from "../exit-status.js";
import { CONSOLE_INPUT_FILE, IMAGE_FILE, readFileArgument } from "../file-arguments.js";
import { userKernelCache } from "../kernel-cache.js";
import { knownName, type RunRole } from "../options.js";
import { observeRun } from "../observe-run.js";
import type { TraceKind } from "../trace.js";
import { UsageError } from "../usage-error.js";

/** Options of `hvkit run`, as parsed. */
export interface RunCommandOptions {
  /** Arch name. */
  readonly arch: string;
  /** Guest mode (default: the arch's first). */
  readonly mode?: string;
  /** Machine memory, MiB; with role domU the domU's memory (the machine sized to fit). */
  readonly memory?: number;
  /** Role domU: the domU's maximum memory, MiB (xl's maxmem; default `memory`). */
  readonly maxmem?: number;
  /** The initial ramdisk's file. */
  readonly ramdisk?: string;
  /** Kernel command line. */
  readonly cmdline?: string;
  /** vCPUs of the domain. */
  readonly vcpus?: number;
  /** Instruction budget. */
  readonly maxInstructions?: number;
  /** Stop (exit 0) once the console output matches this. */
  readonly until?: RegExp;
  /** What to trace on stderr: hypercalls, exits, instructions (where the arch allows). */
  readonly trace?: ReadonlySet<TraceKind>;
  /** Print the run's statistics on stderr at its end. */
  readonly stats?: boolean;
  /** Print where the run's instructions ran (interpreted, compiled) on stderr at its end. */
  readonly profile?: boolean;
  /** What the image boots as (default dom0). */
  readonly role?: RunRole;
  /**
   * Text typed at the guest's console (`@file` for a file's bytes, `@-` stdin), queued
   * before it starts: a domU's PV console, dom0's hypervisor console.
   */
  readonly consoleInput?: string;
  /**
   * A file (`-` for stdin) read whole before the run, its bytes queued as typed at the
   * console after `consoleInput` (input enters once, so runs repeat exactly).
   */
  readonly consoleInputFile?: string;
}

/** Runs `hvkit run`; returns the exit status. */
export async function runCommand(
  io: CliIo,
  root: DependencyContainer,
  arches: ArchRegistry,
  imagePath: string,
  options: RunCommandOptions,
): Promise<number> {
  const plugin = arches.get(knownName("arch", options.arch, arches.names()));
  const given = options.mode;
  const mode =
    given === undefined
      ? plugin.modes[0]
      : plugin.modes.find((m) => m.toLowerCase() === given.toLowerCase());
  if (mode === undefined) {
    throw new UsageError(
      `arch ${plugin.name} does not implement mode "${given ?? ""}" (it offers ${plugin.modes.join(", ")})`,
    );
  }
  const image = await kernelArgument(imagePath);
  const err = (line: string) => void io.stderr.write(line + "\n");
  const budget = options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
  const role = options.role ?? "dom0";
  const input = consoleInput(options);
  const memoryMiB = options.memory ?? DEFAULT_MEMORY_MIB;
  const ramdisk =
    options.ramdisk === undefined ? null : readFileArgument(options.ramdisk, IMAGE_FILE);
  const request: GuestRunOptions = {
    arch: plugin,
    mode,
    image,
    cmdline: options.cmdline ?? "",
    ...guestMemory(options, role, plugin.maxMemoryMiB),
    ...(ramdisk !== null ? { ramdisk } : {}),
    vcpus: options.vcpus ?? 1,
    role,
    ...(input !== null ? { consoleInput: input } : {}),
    ...(options.until !== undefined ? { until: options.until } : {}),
  };
  const watch = observeRun(root, plugin, options, err);
  let run;
  try {
    run = runGuest(watch.container, {
      ...request,
      arch: watch.arch,
      maxInstructions: budget,
      onGuestOutput: (bytes) => void io.stdout.write(bytes),
      onHypervisorMessage: (msg) => {
        for (const line of msg.split("\n")) err(`(hvkit) ${line}`);
      },
    });
  } catch (e) {
    if (e instanceof ImageError)
      throw new UsageError(`bad image ${imagePath}: ${e.where}: ${e.detail}`);
    if (e instanceof DomainMemoryError) {
      const given = options.memory === undefined ? " (the default)" : "";
      const what = options.ramdisk === undefined ? "" : ` and ramdisk ${options.ramdisk}`;
      throw new UsageError(
        `--memory ${memoryMiB}${given} is too small for ${imagePath}${what}: ${e.where}: ` +
          `${e.detail}; ${memoryAdvice(root, request, e)}`,
      );
    }
    throw bootFailure(e);
  }
  const status = runExitStatus(err, run, budget, options.until);
  watch.finish(run.instructions);
  return status;
}

/**
 * Reads the kernel at `path` and, for a bzImage, decompresses the ELF inside
 * (`loadKernelImage`, or the copy {@link userKernelCache} kept of an earlier run's); a
 * bzImage that cannot be loaded is a {@link UsageError} saying why.
 */
export async function kernelArgument(path: string, what = "image"): Promise<Uint8Array> {
  const file = readFileArgument(path, { ...IMAGE_FILE, what });
  try {
    return await userKernelCache().load(file);
  } catch (e) {
    if (e instanceof ImageError)
      throw new UsageError(`bad ${what} ${path}: ${e.where}: ${e.detail}`);
    throw e;
  }
}

/**
 * The memory settings of a run: for dom0, `--memory` is the machine's; for a domU it is the
 * domain's (xl's `memory`, with `--maxmem` as xl's `maxmem`), and the machine gets what
 * that domain needs ({@link machineMemoryForDomU}). Without `--memory` a domU gets
 * libxl's default. Refuses `--maxmem` for dom0, below `--memory`, or a domU the arch's
 * largest machine cannot hold.
 */
function guestMemory(
  options: RunCommandOptions,
  role: RunRole,
  archMaxMiB: number | undefined,
): Pick<GuestRunOptions, "memoryMiB" | "domainMemoryMiB" | "domainMaxMemoryMiB"> {
  const { memory, maxmem } = options;
  if (role !== "domU") {
    if (maxmem !== undefined)
      throw new UsageError("--maxmem needs --role domu (dom0 is given the machine's memory)");
    return { memoryMiB: memory ?? DEFAULT_MEMORY_MIB };
  }
  if (memory === undefined && maxmem === undefined) return { memoryMiB: DEFAULT_MEMORY_MIB };
  const domain = memory ?? maxmem!;
  const max = maxmem ?? domain;
  if (max < domain)
    throw new UsageError(
      `--maxmem ${max} is below --memory ${domain} (xl asks for maxmem >= memory)`,
    );
  const machine = machineMemoryForDomU(domain);
  const limit = Math.min(archMaxMiB ?? MAX_MEMORY_MIB, MAX_MEMORY_MIB);
  if (machine > limit) {
    throw new UsageError(
      `--memory ${domain}: a domU of ${domain} MiB needs a machine of ${machine} MiB, more ` +
        `than the arch's ${limit} MiB`,
    );
  }
  return { memoryMiB: machine, domainMemoryMiB: domain, domainMaxMemoryMiB: max };
}

/**
 * What a failed boot becomes once the command has said what it knows (its image, its
 * memory): an arch port whose hooks are stubs, or any other {@link HvkitError} (a machine
 * hvkit cannot build, e.g. too much memory), is the user's to fix, a {@link UsageError};
 * anything else is returned as it is, an hvkit bug.
 */
export function bootFailure(e: unknown): unknown {
  if (e instanceof ArchHookMissingError) {
    return new UsageError(
      `arch ${e.arch} cannot boot images yet: its hook ${e.hook} is not implemented (the port is a stub)`,
    );
  }
  if (e instanceof HvkitError) return new UsageError(e.message);
  return e;
}

/**
 * The exit status of a finished run (`hvkit run` and `hvkit create`): 0 when `until` matched
 * the console (the run stopped there), 124 when the budget ran out, 3 for a deadlock, else
 * the booted domain's shutdown reason, except that a clean poweroff without `until`'s text
 * is 1. Says on `err` how the run ended unless the guest powered off as expected.
 */
export function runExitStatus(
  err: (line: string) => void,
  run: GuestRun,
  budget: number,
  until?: RegExp,
): number {
  if (run.untilMatched !== undefined) {
    err(
      `(hvkit) stopped after ${run.instructions} instructions: the console printed ` +
        `${JSON.stringify(run.untilMatched)} (--until ${until?.source ?? ""})`,
    );
    return ExitStatus.OK;
  }
  if (run.end === "budget-exhausted") {
    err(`(hvkit) instruction budget of ${budget} ran out (raise it with --max-instructions)`);
    return ExitStatus.BUDGET_EXHAUSTED;
  }
  if (run.end === "deadlock") {
    err(
      `(hvkit) deadlock after ${run.instructions} instructions: every vCPU is blocked and nothing is pending`,
    );
    return ExitStatus.DEADLOCK;
  }
  const reason = run.shutdownReason ?? ShutdownReason.Crash;
  const status = shutdownExitStatus(reason, run.shutdownCause);
  if (until !== undefined && status === ExitStatus.OK) {
    err(
      `(hvkit) domain ${run.domid} powered off without printing --until ${until.source} (exit 1)`,
    );
    return ExitStatus.UNTIL_NOT_SEEN;
  }
  if (status === ExitStatus.HALTED) {
    err(
      `(hvkit) domain ${run.domid} stopped: its last vCPU went down (VCPUOP_down) without a ` +
        `shutdown request, as a kernel halting after a BUG or panic does; Xen reports this as ` +
        `poweroff (exit ${status})`,
    );
  } else if (status !== ExitStatus.OK) {
    const code =
      run.shutdownCode !== null && run.shutdownCode !== reason ? `, code ${run.shutdownCode}` : "";
    err(
      `(hvkit) domain ${run.domid} shut down: ${shutdownReasonName(reason)}${code} (exit ${status})`,
    );
  }
  return status;
}

/** The largest `--memory` tried when looking for the memory an image needs (MiB). */
const MEMORY_PROBE_LIMIT_MIB = 256;

/**
 * What to say after "--memory N is too small": the smallest `--memory` with which
 * `request` gets past the builder's memory checks, found by booting it (without running
 * it) with twice as much, and so on up to {@link MEMORY_PROBE_LIMIT_MIB}, then halving
 * the gap. The search stops early when more machine memory does not change the
 * builder's complaint (a domU gets libxl's default size whatever the machine has).
 */
function memoryAdvice(
  root: DependencyContainer,
  request: GuestRunOptions,
  first: DomainMemoryError,
): string {
  const domU = request.domainMemoryMiB !== undefined;
  const fits = (memoryMiB: number): boolean | string => {
    try {
      const max = Math.max(memoryMiB, request.domainMaxMemoryMiB ?? 0);
      const sized = domU
        ? {
            memoryMiB: machineMemoryForDomU(memoryMiB),
            domainMemoryMiB: memoryMiB,
            domainMaxMemoryMiB: max,
          }
        : { memoryMiB };
      startGuest(root, { ...request, ...sized });
      return true;
    } catch (e) {
      if (e instanceof DomainMemoryError) return e.message;
      if (e instanceof MachineConfigError) return false;
      return true; // past the memory checks; any other problem is reported when it runs
    }
  };
  let low = request.domainMemoryMiB ?? request.memoryMiB ?? DEFAULT_MEMORY_MIB;
  let lowMessage = first.message;
  let high = 0;
  for (let m = Math.min(2 * low, MEMORY_PROBE_LIMIT_MIB); m > low;) {
    const r = fits(m);
    if (r === true) {
      high = m;
      break;
    }
    if (r === false) return `it needs more than --memory ${low}`;
    if (r === lowMessage) {
      const hint =
        request.role === "domU" && !domU
          ? " (a domU without --memory gets libxl's default of 32 MiB; give it --memory)"
          : "";
      return `a larger --memory does not give the domain more${hint}`;
    }
    [low, lowMessage] = [m, r];
    m = Math.min(2 * m, MEMORY_PROBE_LIMIT_MIB);
  }
  if (high === 0) return `it needs more than --memory ${low}; try a larger value`;
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (fits(mid) === true) high = mid;
    else low = mid;
  }
  return `it boots with --memory ${high} or more`;
}

/**
 * The bytes `--console-input` and `--console-input-file` give, or null for neither. A
 * `--console-input` that starts with `@` names a file (`@-`: standard input) whose bytes
 * are typed, as curl's `-d @file`; `@@` types one literal `@`. A domU gets them at its PV
 * console, dom0 at the hypervisor console (CONSOLEIO_read).
 */
export function consoleInput(
  options: Pick<RunCommandOptions, "consoleInput" | "consoleInputFile">,
): Uint8Array | null {
  const { consoleInput: text, consoleInputFile: file } = options;
  if (text === undefined && file === undefined) return null;
  const parts: Uint8Array[] = [];
  if (text?.startsWith("@@")) parts.push(new TextEncoder().encode(text.slice(1)));
  else if (text?.startsWith("@")) parts.push(readFileArgument(text.slice(1), CONSOLE_INPUT_FILE));
  else if (text !== undefined) parts.push(new TextEncoder().encode(text));
  if (file !== undefined) parts.push(readFileArgument(file, CONSOLE_INPUT_FILE));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}
