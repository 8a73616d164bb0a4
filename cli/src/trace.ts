/**
 * `hvkit run --trace`: wraps an arch plugin so every vCPU it creates reports what it does
 * on stderr. Uses only the `ArchPlugin`/`ArchVcpu` contracts, so it works for every arch:
 *
 * - hypercalls: number, name and arguments when the vCPU exits for one, the result when
 *   the core completes it;
 * - exits: idle and fatal exits with their message;
 * - instructions: the vCPU is single-stepped (`run(1)`) and each instruction is printed at
 *   its program counter (`ArchVcpu.pc`) as the arch's disassembler shows it (address,
 *   bytes, mnemonic and operands) before it executes.
 *
 * @module
 */
import { HypercallArgs, VcpuExitKind, type ArchPlugin, type ArchVcpu } from "@hvkit/core";

/** Where trace lines go (one line each, no trailing newline). */
export type TraceSink = (line: string) => void;

function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

/** Wraps `plugin` so its vCPUs trace to `sink`; every other member is the plugin's own. */
export function tracingArchPlugin(plugin: ArchPlugin, sink: TraceSink): ArchPlugin {
  const createVcpu: ArchPlugin["createVcpu"] = (machine, domain, vcpu) => {
    const inner = plugin.createVcpu(machine, domain, vcpu);
    const who = `d${domain.id}v${vcpu.id}`;
    const args = new HypercallArgs();
    const run = (budget: number) => {
      const exit = stepRun(inner, budget);
      if (exit.kind === VcpuExitKind.Hypercall) {
        const nr = inner.readHypercall(args);
        const name = machine.hypercalls[nr]?.name ?? "unknown";
        const shown = [0, 1, 2, 3, 4, 5].map((i) => hex(args.u64(i))).join(", ");
        sink(`[trace] ${who} hypercall ${nr} ${name}(${shown})`);
      } else if (exit.kind === VcpuExitKind.Idle) {
        sink(`[trace] ${who} idle`);
      } else if (exit.kind === VcpuExitKind.Fatal) {
        sink(`[trace] ${who} fatal: ${exit.message}`);
      }
      return exit;
    };
    const stepRun = (cpu: ArchVcpu, budget: number) => {
      let retired = 0;
      for (;;) {
        const pc = cpu.pc();
        const [line] = plugin.disassemble(vcpu, pc, 1);
        sink(`[trace] ${who} ${line ?? hex(pc)}`);
        const exit = cpu.run(1);
        retired += exit.retired;
        if (exit.kind !== VcpuExitKind.BudgetExhausted || retired >= budget) {
          exit.retired = retired;
          return exit;
        }
      }
    };
    return new Proxy(inner, {
      get(target, prop) {
        if (prop === "run") return run;
        if (prop === "completeHypercall") {
          return (result: number | bigint) => {
            sink(`[trace] ${who}   -> ${result}`);
            target.completeHypercall(result);
          };
        }
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
