/**
 * `hvkit run`: boot an image as the initial domain (or, with `--role domu`, as a domU under
 * the built-in dom0) and run it, guest console to stdout.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import type { DependencyContainer } from "tsyringe";
import {
  ArchHookMissingError,
  HvkitError,
  ImageError,
  ShutdownReason,
  type ArchRegistry,
  type GuestMode,
} from "@hvkit/core";
import { runGuest, DEFAULT_MAX_INSTRUCTIONS, DEFAULT_MEMORY_MIB } from "@hvkit/runner";
import type { CliIo } from "../cli-io.js";
import { ExitStatus, shutdownExitStatus, shutdownReasonName } from "../exit-status.js";
import type { RunRole } from "../options.js";
import { tracingArchPlugin } from "../trace.js";

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

/** A problem the user must fix (exit 2); the message is printed after `hvkit: `. */
export class UsageError extends Error {
  /** @param message - what is wrong, and what would be right. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Describes a failed read of a file given on the command line. */
export function describeReadError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "is a directory";
  if (code === "EACCES") return "permission denied";
  return (e as Error).message;
}

/** Runs `hvkit run`; returns the exit status. */
export function runCommand(
  io: CliIo,
  root: DependencyContainer,
  arches: ArchRegistry,
  imagePath: string,
  options: RunCommandOptions,
): number {
  if (!arches.has(options.arch)) {
    throw new UsageError(`unknown arch "${options.arch}" (known: ${arches.names().join(", ")})`);
  }
  const plugin = arches.get(options.arch);
  const mode = (options.mode ?? plugin.modes[0]) as GuestMode;
  if (!plugin.modes.includes(mode)) {
    throw new UsageError(
      `arch ${plugin.name} does not implement mode "${mode}" (it offers ${plugin.modes.join(", ")})`,
    );
  }
  let image: Uint8Array;
  try {
    image = new Uint8Array(readFileSync(imagePath));
  } catch (e) {
    throw new UsageError(`cannot read image ${imagePath}: ${describeReadError(e)}`);
  }
  const err = (line: string) => void io.stderr.write(line + "\n");
  const arch = options.trace ? tracingArchPlugin(plugin, err) : plugin;
  const budget = options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
  const role = options.role ?? "dom0";
  const input = consoleInput(options, role);
  let run;
  try {
    run = runGuest(root, {
      arch,
      mode,
      image,
      cmdline: options.cmdline ?? "",
      memoryMiB: options.memory ?? DEFAULT_MEMORY_MIB,
      vcpus: options.vcpus ?? 1,
      maxInstructions: budget,
      role,
      ...(input !== null ? { consoleInput: input } : {}),
      onGuestOutput: (bytes) => void io.stdout.write(bytes),
      onHypervisorMessage: (msg) => {
        for (const line of msg.split("\n")) err(`(hvkit) ${line}`);
      },
    });
  } catch (e) {
    if (e instanceof ImageError)
      throw new UsageError(`bad image ${imagePath}: ${e.where}: ${e.detail}`);
    if (e instanceof ArchHookMissingError) {
      throw new UsageError(
        `arch ${e.arch} cannot boot images yet: its hook ${e.hook} is not implemented (the port is a stub)`,
      );
    }
    // A machine config hvkit cannot build (e.g. too much memory) is the user's to fix.
    if (e instanceof HvkitError) throw new UsageError(e.message);
    throw e;
  }
  if (run.end === "budget-exhausted") {
    err(`hvkit: instruction budget of ${budget} ran out (raise it with --max-instructions)`);
    return ExitStatus.BUDGET_EXHAUSTED;
  }
  if (run.end === "deadlock") {
    err(
      `hvkit: deadlock after ${run.instructions} instructions: every vCPU is blocked and nothing is pending`,
    );
    return ExitStatus.DEADLOCK;
  }
  const reason = run.shutdownReason ?? ShutdownReason.Crash;
  const status = shutdownExitStatus(reason);
  if (status !== ExitStatus.OK) {
    const code =
      run.shutdownCode !== null && run.shutdownCode !== reason ? `, code ${run.shutdownCode}` : "";
    const domid = role === "domU" ? 1 : 0;
    err(`hvkit: domain ${domid} shut down: ${shutdownReasonName(reason)}${code} (exit ${status})`);
  }
  return status;
}

/** The bytes `--console-input` and `--console-input-file` give, or null for neither. */
function consoleInput(options: RunCommandOptions, role: RunRole): Uint8Array | null {
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
  let tail: Uint8Array;
  try {
    tail = new Uint8Array(readFileSync(file === "-" ? 0 : file));
  } catch (e) {
    throw new UsageError(`cannot read console input ${file}: ${describeReadError(e)}`);
  }
  const all = new Uint8Array(head.length + tail.length);
  all.set(head);
  all.set(tail, head.length);
  return all;
}
