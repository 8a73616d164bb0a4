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
  ShutdownReason,
  type ArchRegistry,
} from "@hvkit/core";
import {
  runGuest,
  startGuest,
  DEFAULT_MAX_INSTRUCTIONS,
  DEFAULT_MEMORY_MIB,
  type GuestRun,
  type GuestRunOptions,
} from "@hvkit/runner";
import type { CliIo } from "../cli-io.js";
import { ExitStatus, shutdownExitStatus, shutdownReasonName } from "../exit-status.js";
import { CONSOLE_INPUT_FILE, IMAGE_FILE, readFileArgument } from "../file-arguments.js";
import { knownName, type RunRole } from "../options.js";
import { tracingArchPlugin } from "../trace.js";
import { UsageError } from "../usage-error.js";

/** Options of `hvkit run`, as parsed. */
export interface RunCommandOptions {
  /** Arch name. */
  readonly arch: string;
  /** Guest mode (default: the arch's first). */
  readonly mode?: string;
  /** Machine memory, MiB. */
  readonly memory?: number;
  /** Kernel command line. */
  readonly cmdline?: string;
  /** vCPUs of the domain. */
  readonly vcpus?: number;
  /** Instruction budget. */
  readonly maxInstructions?: number;
  /** Trace hypercalls, exits and (where the arch allows) instructions on stderr. */
  readonly trace?: boolean;
  /** What the image boots as (default dom0). */
  readonly role?: RunRole;
  /** Role domU: text typed at the guest's PV console, queued before it starts. */
  readonly consoleInput?: string;
  /**
   * Role domU: a file (`-` for stdin) read whole before the run, its bytes queued as typed
   * at the console after `consoleInput` (input enters once, so runs repeat exactly).
   */
  readonly consoleInputFile?: string;
}

/** Runs `hvkit run`; returns the exit status. */
export function runCommand(
  io: CliIo,
  root: DependencyContainer,
  arches: ArchRegistry,
  imagePath: string,
  options: RunCommandOptions,
): number {
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
  const image = readFileArgument(imagePath, IMAGE_FILE);
  const err = (line: string) => void io.stderr.write(line + "\n");
  const budget = options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
  const role = options.role ?? "dom0";
  const input = consoleInput(options, role);
  const memoryMiB = options.memory ?? DEFAULT_MEMORY_MIB;
  const request: GuestRunOptions = {
    arch: plugin,
    mode,
    image,
    cmdline: options.cmdline ?? "",
    memoryMiB,
    vcpus: options.vcpus ?? 1,
    role,
    ...(input !== null ? { consoleInput: input } : {}),
  };
  let run;
  try {
    run = runGuest(root, {
      ...request,
      ...(options.trace ? { arch: tracingArchPlugin(plugin, err) } : {}),
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
      throw new UsageError(
        `--memory ${memoryMiB}${given} is too small for ${imagePath}: ${e.where}: ${e.detail}; ` +
          memoryAdvice(root, request, e),
      );
    }
    throw bootFailure(e);
  }
  return runExitStatus(err, run, budget);
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
 * The exit status of a finished run (`hvkit run` and `hvkit create`): 124 when the budget
 * ran out, 3 for a deadlock, else the booted domain's shutdown reason. Says on `err` how
 * the run ended unless the guest powered off.
 */
export function runExitStatus(err: (line: string) => void, run: GuestRun, budget: number): number {
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
  const status = shutdownExitStatus(reason);
  if (status !== ExitStatus.OK) {
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
  const fits = (memoryMiB: number): boolean | string => {
    try {
      startGuest(root, { ...request, memoryMiB });
      return true;
    } catch (e) {
      if (e instanceof DomainMemoryError) return e.message;
      if (e instanceof MachineConfigError) return false;
      return true; // past the memory checks; any other problem is reported when it runs
    }
  };
  let low = request.memoryMiB ?? DEFAULT_MEMORY_MIB;
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
      const domU =
        request.role === "domU"
          ? " (a domU gets libxl's default of 32 MiB at most; `hvkit create` builds one with its config's memory)"
          : "";
      return `a larger --memory does not give the domain more${domU}`;
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

/** The bytes `--console-input` and `--console-input-file` give, or null for neither. */
export function consoleInput(
  options: Pick<RunCommandOptions, "consoleInput" | "consoleInputFile">,
  role: RunRole,
): Uint8Array | null {
  const { consoleInput: text, consoleInputFile: file } = options;
  if (text === undefined && file === undefined) return null;
  if (role !== "domU") {
    const flag = text !== undefined ? "--console-input" : "--console-input-file";
    throw new UsageError(
      `${flag} needs --role domu (a dom0's console is console_io, which has no input)`,
    );
  }
  const head = new TextEncoder().encode(text ?? "");
  if (file === undefined) return head;
  const tail = readFileArgument(file, CONSOLE_INPUT_FILE);
  const all = new Uint8Array(head.length + tail.length);
  all.set(head);
  all.set(tail, head.length);
  return all;
}
