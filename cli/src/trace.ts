/**
 * `hvkit run --trace` and `hvkit create --trace`: what a guest does, on stderr, one line
 * each, every line prefixed `[trace] d<domain>v<vcpu>`. `--trace=<what>` picks from:
 *
 * - `hypercalls`: each hypercall once it has run, by Xen's names: the call, its
 *   sub-operation, its arguments and its result with the errno's name
 *   (`console_io(CONSOLEIO_write, count=6, buffer=0x100047) = 0`,
 *   `platform_op(u_xenpf_op=0x7fe8 [XENPF_settime64]) = -ENOSYS`); the entries of a
 *   multicall follow their multicall, indented and numbered. Hung on the core's
 *   `HypercallObserver`, so it sees every call the dispatcher runs, on every arch.
 * - `exits`: the vCPU exits that are not hypercalls: idle, and fatal with the first line
 *   of its reason (the registers and the faulting instruction follow once, in the
 *   "(hvkit)" crash report).
 * - `instructions`: the vCPU is single-stepped (`run(1)`) and each instruction is printed
 *   at its program counter (`ArchVcpu.pc`) as the arch's disassembler shows it (address,
 *   bytes, mnemonic and operands) before it executes.
 *
 * A bare `--trace` is all three. Exits and instructions wrap the arch plugin (only the
 * `ArchPlugin`/`ArchVcpu` contracts are used, so every arch can be traced); without them
 * the plugin runs unwrapped.
 *
 * @module
 */
import { InvalidArgumentError } from "commander";
import {
  VcpuExitKind,
  type ArchPlugin,
  type ArchVcpu,
  type Domain,
  type HypercallArgs,
  type HypercallObserver,
  type Machine,
  type Vcpu,
  type VcpuExit,
} from "@hvkit/core";
import { describeHypercall, hypercallResult } from "./hypercall-decoder.js";

/** Where trace lines go (one line each, no trailing newline). */
export type TraceSink = (line: string) => void;

/** What a trace shows (see the module's description). */
export type TraceKind = "hypercalls" | "exits" | "instructions";

/** Every {@link TraceKind}, in the order the help lists them. */
export const TRACE_KINDS: readonly TraceKind[] = ["hypercalls", "exits", "instructions"];

/**
 * Parses `--trace`'s value: `all`, or a comma-separated list of {@link TRACE_KINDS} (in
 * any case). Throws commander's `InvalidArgumentError` naming the kinds for anything else.
 */
export function parseTraceKinds(text: string): ReadonlySet<TraceKind> {
  const items = text
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "");
  if (items.length === 1 && items[0] === "all") return new Set(TRACE_KINDS);
  const kinds = new Set<TraceKind>();
  for (const item of items) {
    const kind = TRACE_KINDS.find((k) => k === item);
    if (kind === undefined) {
      throw new InvalidArgumentError(
        `expected all or a comma-separated list of ${TRACE_KINDS.join(", ")}, got "${text}"`,
      );
    }
    kinds.add(kind);
  }
  if (kinds.size === 0) {
    throw new InvalidArgumentError(`expected all or some of ${TRACE_KINDS.join(", ")}`);
  }
  return kinds;
}

/**
 * The command line with each bare `--trace` (before a `--`) written `--trace=all`: the
 * option's value is optional and given with `=`, so a bare `--trace` never takes the next
 * word (`hvkit run --trace guest.elf` traces everything of `guest.elf`).
 */
export function bareTraceMeansAll(argv: readonly string[]): string[] {
  const end = argv.indexOf("--");
  return argv.map((a, i) => (a === "--trace" && (end < 0 || i < end) ? "--trace=all" : a));
}

/** `d<domain>v<vcpu>`, as trace lines and crash reports name a vCPU. */
function vcpuTag(domain: Pick<Domain, "id">, vcpu: Pick<Vcpu, "id">): string {
  return `d${domain.id}v${vcpu.id}`;
}

/**
 * Wraps `plugin` so that each vCPU it creates runs through `wrap(inner, machine, domain,
 * vcpu)`'s `run`; every other member is the plugin's own (and the vCPU's own). What the
 * tracer and `--stats` use to watch exits.
 */
export function archPluginWithRun(
  plugin: ArchPlugin,
  wrap: (inner: ArchVcpu, machine: Machine, domain: Domain, vcpu: Vcpu) => ArchVcpu["run"],
): ArchPlugin {
  const createVcpu: ArchPlugin["createVcpu"] = (machine, domain, vcpu) => {
    const inner = plugin.createVcpu(machine, domain, vcpu);
    const run = wrap(inner, machine, domain, vcpu);
    return new Proxy(inner, {
      get(target, prop) {
        if (prop === "run") return run;
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === "function"
          ? (value as (...a: unknown[]) => unknown).bind(target)
          : value;
      },
    });
  };
  return new Proxy(plugin, {
    get(target, prop) {
      if (prop === "createVcpu") return createVcpu;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function"
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

/**
 * Wraps `plugin` so its vCPUs trace exits and/or instructions to `sink` (the `exits` and
 * `instructions` of `kinds`; hypercalls are {@link HypercallTrace}'s). Returns `plugin`
 * itself when `kinds` has neither.
 */
export function tracingArchPlugin(
  plugin: ArchPlugin,
  sink: TraceSink,
  kinds: ReadonlySet<TraceKind> = new Set(TRACE_KINDS),
): ArchPlugin {
  const exits = kinds.has("exits");
  const instructions = kinds.has("instructions");
  if (!exits && !instructions) return plugin;
  return archPluginWithRun(plugin, (inner, _machine, domain, vcpu) => {
    const who = `[trace] ${vcpuTag(domain, vcpu)}`;
    const stepRun = (budget: number): VcpuExit => {
      let retired = 0;
      for (;;) {
        const pc = inner.pc();
        const [line] = plugin.disassemble(vcpu, pc, 1);
        sink(`${who} ${line ?? `0x${pc.toString(16)}`}`);
        const exit = inner.run(1);
        retired += exit.retired;
        if (exit.kind !== VcpuExitKind.BudgetExhausted || retired >= budget) {
          exit.retired = retired;
          return exit;
        }
      }
    };
    return (budget) => {
      const exit = instructions ? stepRun(budget) : inner.run(budget);
      if (exits && exit.kind === VcpuExitKind.Idle) sink(`${who} idle`);
      else if (exits && exit.kind === VcpuExitKind.Fatal) {
        sink(`${who} fatal: ${exit.message.split("\n", 1)[0]}`);
      }
      return exit;
    };
  });
}

/**
 * The `hypercalls` trace: a {@link HypercallObserver} printing one line per call to its
 * sink, `[trace] d0v0 name(args) = result`. A multicall's entries, which the dispatcher
 * reports before the multicall, are held and printed after its line, indented and
 * numbered from 0.
 */
export class HypercallTrace implements HypercallObserver {
  private readonly entries: string[] = [];

  /** @param sink - where the lines go. */
  constructor(private readonly sink: TraceSink) {}

  /** Prints the call (or holds it, for a multicall entry). */
  hypercall(
    vcpu: Vcpu,
    nr: number,
    args: HypercallArgs,
    result: number | bigint,
    depth: number,
  ): void {
    const call = `${describeHypercall(vcpu, nr, args)} = ${hypercallResult(result)}`;
    const who = `[trace] ${vcpuTag(vcpu.domain, vcpu)}`;
    if (depth > 0) {
      this.entries.push(`${who}   [${this.entries.length}] ${call}`);
      return;
    }
    this.sink(`${who} ${call}`);
    for (const line of this.entries) this.sink(line);
    this.entries.length = 0;
  }
}
