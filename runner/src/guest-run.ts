/**
 * Boots one image as the initial domain of a fresh machine — or, with role `domU`, as a
 * domU under the built-in dom0 (toolstack, xenstored and console daemon as host code) —
 * and runs it to the end: the one path both `hvkit run` and the conformance cells take,
 * so a cell sees exactly what the command line shows.
 *
 * @module
 */
import type { DependencyContainer } from "tsyringe";
import { BuiltinDom0, LIBXL_MAXMEM_CONSTANT_KIB, type ShutdownActions } from "@hvkit/guests";
import {
  bootInitialDomain,
  createMachine,
  hypervisorConsoleInput,
  type ArchPlugin,
  type ConsoleSink,
  type Domain,
  type GuestMode,
  type HvMachine,
  type RunOutcome,
  type ShutdownCause,
  type ShutdownReason,
} from "@hvkit/core";

/**
 * The roles an image can be booted in: `dom0` the initial, privileged domain, `domU` an
 * unprivileged domain built by the built-in dom0's toolstack.
 */
export type BootRole = "dom0" | "domU";

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
  /**
   * The initial ramdisk's file (xl's `ramdisk`; for dom0, the module Xen is given), or
   * absent. A domU's is loaded as libxc loads it (a gzip file inflated).
   */
  readonly ramdisk?: Uint8Array;
  /**
   * Machine memory in MiB (default {@link DEFAULT_MEMORY_MIB}, or for a domU given
   * `domainMemoryMiB`, {@link machineMemoryForDomU} of it).
   */
  readonly memoryMiB?: number;
  /** vCPUs of the domain (default 1; only vCPU 0 starts, the guest brings up the rest). */
  readonly vcpus?: number;
  /** Instruction budget for the whole run (default {@link DEFAULT_MAX_INSTRUCTIONS}). */
  readonly maxInstructions?: number;
  /** Called with guest console bytes as they are written (for streaming to stdout). */
  readonly onGuestOutput?: (bytes: Uint8Array) => void;
  /** Called with each hypervisor message line as it is produced. */
  readonly onHypervisorMessage?: (line: string) => void;
  /**
   * Ends the run ("stopped") at the end of the slice in which the guests' console output
   * first matches this pattern (tested against the last {@link UNTIL_WINDOW} characters
   * written, so a match may span writes); {@link GuestRun.untilMatched} is the text it
   * matched. A pattern with the `g` or `y` flag is used without them.
   */
  readonly until?: RegExp;
  /**
   * Which domain the image becomes (default `dom0`): `dom0` the initial domain
   * (privileged, SIF_INITDOMAIN; its console is console_io), `domU` an unprivileged
   * domain (id 1) built by the built-in dom0's toolstack (`BuiltinDom0`), whose PV console
   * ring is served to the same output and whose shutdown the result reports.
   */
  readonly role?: BootRole;
  /**
   * Bytes typed at the guest's console: for a domU into its PV console's in ring (the
   * console daemon's input side), for dom0 into the hypervisor console's input ring, read
   * with CONSOLEIO_read; queued at boot and fed as the guest makes room.
   */
  readonly consoleInput?: Uint8Array;
  /** Role `domU`: the domain's name in xenstore (default `domU-1`). */
  readonly name?: string;
  /**
   * Role `domU`: the memory the domain is built with, MiB (xl's `memory`, libxl's
   * `target_memkb`; default libxl's 32 MiB, less on a machine too small for that).
   */
  readonly domainMemoryMiB?: number;
  /** Role `domU`: its `memory/static-max`, MiB (xl's `maxmem`; default `domainMemoryMiB`). */
  readonly domainMaxMemoryMiB?: number;
  /** Role `domU`: vCPUs online at boot (xl's `vcpus` below `maxvcpus`; default `vcpus`). */
  readonly onlineVcpus?: number;
  /**
   * Role `domU`: its highest event-channel port (xl's `max_event_channels`; default
   * libxl's 1023).
   */
  readonly maxEventChannels?: number;
  /**
   * Role `domU`: what the toolstack does when the domain shuts down (xl's `on_poweroff`,
   * `on_reboot`, `on_watchdog`, `on_crash`). Default none: the run ends when the domain
   * shuts down, whatever the reason. A `restart` builds the same image again as a new
   * domain, whose console goes on to the same output.
   */
  readonly onShutdown?: ShutdownActions;
  /**
   * Xen's `pv-linear-pt` boot option (`MachineConfig.pvLinearPt`, default on): whether PV
   * guests may install linear page-table entries.
   */
  readonly pvLinearPt?: boolean;
}

/**
 * The {@link GuestRunOptions} that say what xl's toolstack is told about a domU (an xl
 * config's `name`, `memory`, `maxmem`, `vcpus` below `maxvcpus`, `max_event_channels`);
 * a dom0 boot ignores them.
 */
export type DomUConfigOption =
  "name" | "domainMemoryMiB" | "domainMaxMemoryMiB" | "onlineVcpus" | "maxEventChannels";

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
  /** The booted domain's id (for a domU restarted, the last one's). */
  readonly domid: number;
  /** The booted domain's shutdown reason, or null if it did not shut down. */
  readonly shutdownReason: ShutdownReason | null;
  /** The code given with SCHEDOP_shutdown_code, if any. */
  readonly shutdownCode: number | null;
  /** How the booted domain's shutdown came about (null if it did not shut down). */
  readonly shutdownCause: ShutdownCause | null;
  /** The console text {@link GuestRunOptions.until} matched; absent when it never did. */
  readonly untilMatched?: string;
}

/** How much of the latest console output {@link GuestRunOptions.until} is tested against. */
export const UNTIL_WINDOW = 4096;

/** Default machine memory, MiB. */
export const DEFAULT_MEMORY_MIB = 64;
/** Default instruction budget. */
export const DEFAULT_MAX_INSTRUCTIONS = 100_000_000;

/**
 * The machine memory (MiB) a domU of `domainMiB` is given when no machine size is asked
 * for: the domain's memory, libxl's {@link LIBXL_MAXMEM_CONSTANT_KIB} on top, and room for
 * the hypervisor's own frames (the M2P table, shared_info, grant tables): a sixty-fourth
 * more and at least 4 MiB; never less than {@link DEFAULT_MEMORY_MIB}.
 */
export function machineMemoryForDomU(domainMiB: number): number {
  const slack = Math.ceil(LIBXL_MAXMEM_CONSTANT_KIB / 1024);
  return Math.max(DEFAULT_MEMORY_MIB, domainMiB + slack + Math.max(4, Math.ceil(domainMiB / 64)));
}

const latin1 = new TextDecoder("latin1");

/**
 * A booted machine that has not (necessarily) run to its end: what {@link startGuest}
 * returns, for drivers that take turns with the guest (the conformance agent harness).
 */
export interface GuestSession {
  /** The machine. */
  readonly machine: HvMachine;
  /** The domain the image became (dom0, or the domU; once restarted, the last one built). */
  readonly domain: Domain;
  /** The built-in dom0, in role `domU`; null in role `dom0`. */
  readonly dom0: BuiltinDom0 | null;
  /**
   * Runs the machine on until every domain has shut down, `maxInstructions` more
   * instructions have retired, nothing can happen, or a driver requests a stop; may be
   * called again to continue.
   */
  run(maxInstructions: number): RunOutcome;
  /** What happened so far: instructions of every run, console, messages, shutdown. */
  result(end: RunEnd): GuestRun;
}

/**
 * Builds a machine (in a child container of `container`) and boots `options.image` in it,
 * in the role asked for, without running it. Image errors (`ImageError`), bad machine
 * configs and missing arch hooks propagate as thrown typed errors.
 */
export function startGuest(container: DependencyContainer, options: GuestRunOptions): GuestSession {
  const chunks: string[] = [];
  const messages: string[] = [];
  const until =
    options.until === undefined
      ? null
      : new RegExp(options.until.source, options.until.flags.replace(/[gy]/g, ""));
  let recent = "";
  let untilMatched: string | undefined;
  const sink: ConsoleSink = {
    guestOutput(_domain, bytes) {
      const text = latin1.decode(bytes);
      chunks.push(text);
      options.onGuestOutput?.(bytes);
      if (until !== null && untilMatched === undefined) {
        recent = (recent + text).slice(-UNTIL_WINDOW);
        const m = until.exec(recent);
        if (m !== null) {
          untilMatched = m[0];
          machine.requestStop();
        }
      }
    },
    hypervisorMessage(line) {
      messages.push(line);
      options.onHypervisorMessage?.(line);
    },
  };
  const domU = options.role === "domU";
  const machine = createMachine(container, {
    arch: options.arch,
    memoryMiB:
      options.memoryMiB ??
      (domU && options.domainMemoryMiB !== undefined
        ? machineMemoryForDomU(options.domainMemoryMiB)
        : DEFAULT_MEMORY_MIB),
    console: sink,
    ...(options.pvLinearPt !== undefined ? { pvLinearPt: options.pvLinearPt } : {}),
  });
  const boot = {
    cmdline: options.cmdline ?? "",
    mode: options.mode ?? options.arch.modes[0],
    vcpus: options.vcpus ?? 1,
    ...(options.ramdisk !== undefined ? { ramdisk: options.ramdisk } : {}),
  };
  let first: Domain;
  let dom0: BuiltinDom0 | null = null;
  if (domU) {
    dom0 = new BuiltinDom0(machine);
    const kib = (mib: number) => mib * 1024;
    first = dom0.launch(options.image, {
      ...boot,
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.domainMemoryMiB !== undefined
        ? { maxPages: (kib(options.domainMemoryMiB) * 1024) / machine.memory.pageSize }
        : {}),
      ...(options.domainMaxMemoryMiB !== undefined
        ? { maxMemoryKiB: kib(options.domainMaxMemoryMiB) }
        : {}),
      ...(options.onlineVcpus !== undefined ? { onlineVcpus: options.onlineVcpus } : {}),
      ...(options.maxEventChannels !== undefined
        ? { maxEvtchnPort: options.maxEventChannels }
        : {}),
      ...(options.onShutdown !== undefined ? { onShutdown: options.onShutdown } : {}),
    }).domain;
    if (options.consoleInput !== undefined) dom0.consoles.input(first.id, options.consoleInput);
  } else {
    first = bootInitialDomain(machine, options.image, boot);
    if (options.consoleInput !== undefined)
      hypervisorConsoleInput(machine).type(options.consoleInput);
  }
  const launched = dom0?.launched;
  const current = (): Domain => launched?.at(-1)?.domain ?? first;
  let instructions = 0;
  return {
    machine,
    get domain() {
      return current();
    },
    dom0,
    run(maxInstructions) {
      const outcome = machine.run({ maxInstructions });
      instructions += outcome.instructions;
      return outcome;
    },
    result(end) {
      return {
        end,
        instructions,
        console: chunks.join(""),
        hypervisorMessages: messages,
        domid: current().id,
        shutdownReason: current().shutdownReason,
        shutdownCode: current().shutdownCode,
        shutdownCause: current().shutdownCause,
        ...(untilMatched !== undefined ? { untilMatched } : {}),
      };
    },
  };
}

/**
 * Builds a machine (in a child container of `container`), boots `options.image` as its
 * initial domain (or a domU) and runs it to its end. Image errors (`ImageError`), bad
 * machine configs and missing arch hooks propagate as thrown typed errors; anything the
 * guest does is reported in the result, never thrown.
 */
export function runGuest(container: DependencyContainer, options: GuestRunOptions): GuestRun {
  const session = startGuest(container, options);
  const outcome = session.run(options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS);
  return session.result(outcome.kind);
}
