/**
 * Boots one image as the initial domain of a fresh machine — or, with role `domU`, as a
 * domU under the built-in dom0 (toolstack, xenstored and console daemon as host code) —
 * and runs it to the end: the one path both `hvkit run` and the conformance cells take,
 * so a cell sees exactly what the command line shows.
 *
 * @module
 */
import type { DependencyContainer } from "tsyringe";
import { BuiltinDom0 } from "@hvkit/guests";
import {
  bootInitialDomain,
  createMachine,
  type ArchPlugin,
  type ConsoleSink,
  type Domain,
  type GuestMode,
  type RunOutcome,
  type ShutdownReason,
} from "@hvkit/core";
import type { BootRole } from "./conformance-test.js";

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
  /**
   * Which domain the image becomes (default `dom0`): `dom0` the initial domain
   * (privileged, SIF_INITDOMAIN; its console is console_io), `domU` an unprivileged
   * domain (id 1) built by the built-in dom0's toolstack (`BuiltinDom0`), whose PV console
   * ring is served to the same output and whose shutdown the result reports.
   */
  readonly role?: BootRole;
  /** Role `domU`: bytes typed at the domU's PV console, queued into its in ring at boot. */
  readonly consoleInput?: Uint8Array;
  /** Role `domU`: the domain's name in xenstore (default `domU-1`). */
  readonly name?: string;
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
  /** The booted domain's shutdown reason, or null if it did not shut down. */
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
  const boot = {
    cmdline: options.cmdline ?? "",
    mode: options.mode ?? options.arch.modes[0],
    vcpus: options.vcpus ?? 1,
  };
  let guest: Domain;
  if (options.role === "domU") {
    const dom0 = new BuiltinDom0(machine);
    guest = dom0.launch(options.image, {
      ...boot,
      ...(options.name !== undefined ? { name: options.name } : {}),
    }).domain;
    if (options.consoleInput !== undefined) dom0.consoles.input(guest.id, options.consoleInput);
  } else {
    guest = bootInitialDomain(machine, options.image, boot);
  }
  const outcome = machine.run({
    maxInstructions: options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS,
  });
  const d = outcome.domains.find((o) => o.id === guest.id);
  return {
    end: outcome.kind,
    instructions: outcome.instructions,
    console: chunks.join(""),
    hypervisorMessages: messages,
    shutdownReason: d?.shutdownReason ?? guest.shutdownReason,
    shutdownCode: d?.shutdownCode ?? guest.shutdownCode,
  };
}
