/**
 * Boots one image as the initial domain of a fresh machine and runs it to the end: the one
 * path both `hvkit run` and the conformance cells take, so a cell sees exactly what the
 * command line shows.
 *
 * @module
 */
import type { DependencyContainer } from "tsyringe";
import {
  bootInitialDomain,
  createMachine,
  type ArchPlugin,
  type ConsoleSink,
  type GuestMode,
  type RunOutcome,
  type ShutdownReason,
} from "@hvkit/core";

/** How a run ended, as the core's scheduler reports it. */
export type RunEnd = RunOutcome["kind"];

/** What to boot and how. */
export interface GuestRunOptions {
  /** The arch plugin to run (need not be registered: a wrapped plugin is fine). */
  readonly arch: ArchPlugin;
  /** Guest mode; defaults to the plugin's first mode. */
  readonly mode?: GuestMode;
  /** The kernel image (an ELF file's bytes). */
  readonly image: Uint8Array;
  /** Kernel command line. */
  readonly cmdline?: string;
  /** Machine memory in MiB (default {@link DEFAULT_MEMORY_MIB}). */
  readonly memoryMiB?: number;
  /** vCPUs of the initial domain (default 1; only vCPU 0 starts, the guest brings up the rest). */
  readonly vcpus?: number;
  /** Instruction budget for the whole run (default {@link DEFAULT_MAX_INSTRUCTIONS}). */
  readonly maxInstructions?: number;
  /** Called with guest console bytes as they are written (for streaming to stdout). */
  readonly onGuestOutput?: (bytes: Uint8Array) => void;
  /** Called with each hypervisor message line as it is produced. */
  readonly onHypervisorMessage?: (line: string) => void;
}

/** What happened in a run. */
export interface GuestRun {
  /** Why the run stopped. */
  readonly end: RunEnd;
  /** Guest instructions retired in total. */
  readonly instructions: number;
  /** Everything the guests wrote to the console, decoded as Latin-1 (byte for byte). */
  readonly console: string;
  /** Hypervisor messages, one line each. */
  readonly hypervisorMessages: readonly string[];
  /** The initial domain's shutdown reason, or null if it did not shut down. */
  readonly shutdownReason: ShutdownReason | null;
  /** The code given with SCHEDOP_shutdown_code, if any. */
  readonly shutdownCode: number | null;
}

/** Default machine memory, MiB. */
export const DEFAULT_MEMORY_MIB = 64;
/** Default instruction budget. */
export const DEFAULT_MAX_INSTRUCTIONS = 100_000_000;

const latin1 = new TextDecoder("latin1");

/**
 * Builds a machine (in a child container of `container`), boots `options.image` as its
 * initial domain and runs it. Image errors (`ImageError`), bad machine configs and missing
 * arch hooks propagate as thrown typed errors; anything the guest does is reported in the
 * result, never thrown.
 */
export function runGuest(container: DependencyContainer, options: GuestRunOptions): GuestRun {
  const chunks: string[] = [];
  const messages: string[] = [];
  const sink: ConsoleSink = {
    guestOutput(_domain, bytes) {
      chunks.push(latin1.decode(bytes));
      options.onGuestOutput?.(bytes);
    },
    hypervisorMessage(line) {
      messages.push(line);
      options.onHypervisorMessage?.(line);
    },
  };
  const machine = createMachine(container, {
    arch: options.arch,
    memoryMiB: options.memoryMiB ?? DEFAULT_MEMORY_MIB,
    console: sink,
  });
  const dom0 = bootInitialDomain(machine, options.image, {
    cmdline: options.cmdline ?? "",
    mode: options.mode ?? options.arch.modes[0],
    vcpus: options.vcpus ?? 1,
  });
  const outcome = machine.run({
    maxInstructions: options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS,
  });
  const d0 = outcome.domains.find((d) => d.id === dom0.id);
  return {
    end: outcome.kind,
    instructions: outcome.instructions,
    console: chunks.join(""),
    hypervisorMessages: messages,
    shutdownReason: d0?.shutdownReason ?? dom0.shutdownReason,
    shutdownCode: d0?.shutdownCode ?? dom0.shutdownCode,
  };
}
