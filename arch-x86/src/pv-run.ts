/**
 * The run loop of an x86 PV vCPU, either width: what Xen does between the guest's
 * instructions. Before resuming the guest, `test_guest_events` bounces a pending, unmasked
 * upcall to the event callback; the FPU state is the guest's from then on (Xen's fully
 * eager FPU restores it at every context switch). The CPU then runs until an exit, which
 * the width's vCPU turns into what its Xen does ({@link PvRunVcpu}: a hypercall, a bounce
 * to the guest's trap table, an emulated instruction, a crash), and the loop goes on
 * while budget is left, the domain lives and the vCPU has not asked to block.
 *
 * Time is virtual: the TSC counts the machine clock's nanoseconds plus
 * NS_PER_INSTRUCTION per retired instruction, and an exit that retired nothing still
 * uses one unit of budget, so fault loops stay bounded.
 *
 * @module
 */
import {
  NS_PER_INSTRUCTION,
  VcpuExitKind,
  type Domain,
  type Machine,
  type VcpuExit,
} from "@hvkit/core";
import { X86ExitReason, type X86CpuApi } from "./cpu-api.js";

/** What a width's exit handler tells the run loop; a string is a crash message. */
export const PvExitAction = {
  /** Resume the guest. */
  Continue: 0,
  /** A hypercall is pending: return it to the core's dispatcher. */
  Hypercall: 1,
} as const;

/** A {@link PvExitAction} or a crash message. */
export type PvExitResult = (typeof PvExitAction)[keyof typeof PvExitAction] | string;

/** What the run loop needs of a PV vCPU, and the width's answers to the CPU's exits. */
export interface PvRunVcpu {
  /** The interpreter. */
  readonly cpu: X86CpuApi;
  /** The exit record the loop fills. */
  readonly exit: VcpuExit;
  /** The machine (its clock and memory). */
  readonly machine: Machine;
  /** The owning domain. */
  readonly domain: Domain;
  /** Whether the FPU state is the guest's (pv-vcpu-context.ts). */
  fpuInitialised: boolean;
  /** Set by an emulated `hlt` (block until an event); the loop clears it and returns Idle. */
  idleRequested: boolean;
  /** Machine address of the vCPU's vcpu_info, or −1. */
  vcpuInfoAddr(): number;
  /**
   * Bounces to the event callback with events masked (an upcall is pending and unmasked);
   * null when done or when the guest has no callback, else the crash message.
   */
  bounceToEventCallback(): string | null;
  /** `syscall` executed. */
  onSyscall(): PvExitResult;
  /** An exception or software interrupt was raised. */
  onException(): PvExitResult;
  /** `cpuid` executed. */
  onCpuid(): PvExitResult;
  /** `sysenter` executed. */
  onSysenter(): PvExitResult;
  /** The exit record as a crash with `message` and the vCPU's registers. */
  fatal(message: string): VcpuExit;
}

/** Runs `v` for at most `budget` instructions (see the module comment). */
export function runPvVcpu(v: PvRunVcpu, budget: number): VcpuExit {
  const cpu = v.cpu;
  const e = v.exit;
  let remaining = budget;
  let retired = 0;
  e.message = "";
  v.fpuInitialised = true;
  cpu.tscBase = v.machine.clock.now;
  cpu.tscPerInstruction = NS_PER_INSTRUCTION;
  const vi = v.vcpuInfoAddr();
  if (vi >= 0) {
    const bytes = v.machine.memory.bytes;
    if (bytes[vi] !== 0 && bytes[vi + 1] === 0) {
      const msg = v.bounceToEventCallback();
      if (msg !== null) return v.fatal(msg);
    }
  }
  for (;;) {
    const reason = cpu.run(remaining < 1 ? 1 : remaining);
    const done = cpu.exit.retired;
    retired += done;
    // The next cpu.run counts from 0 again: keep the TSC going forward from here.
    cpu.tscBase += done * cpu.tscPerInstruction;
    remaining -= done > 0 ? done : 1;
    e.retired = retired;
    let action: PvExitResult = PvExitAction.Continue;
    switch (reason) {
      case X86ExitReason.Budget:
        e.kind = VcpuExitKind.BudgetExhausted;
        return e;
      case X86ExitReason.Halt:
        e.kind = VcpuExitKind.Idle;
        return e;
      case X86ExitReason.Syscall:
        action = v.onSyscall();
        break;
      case X86ExitReason.Exception:
        action = v.onException();
        break;
      case X86ExitReason.Cpuid:
        action = v.onCpuid();
        break;
      case X86ExitReason.Sysenter:
        action = v.onSysenter();
        break;
    }
    if (action !== PvExitAction.Continue) {
      if (typeof action === "string") return v.fatal(action);
      e.kind = VcpuExitKind.Hypercall;
      return e;
    }
    if (v.domain.isDead) {
      e.kind = VcpuExitKind.BudgetExhausted;
      return e;
    }
    if (v.idleRequested) {
      v.idleRequested = false;
      e.kind = VcpuExitKind.Idle;
      return e;
    }
    if (remaining <= 0) {
      e.kind = VcpuExitKind.BudgetExhausted;
      return e;
    }
  }
}

/** The exit record of `v` as a crash: `message`, then `describe()`'s registers. */
export function pvFatal(
  v: { readonly exit: VcpuExit; describe(): string },
  message: string,
): VcpuExit {
  const e = v.exit;
  e.kind = VcpuExitKind.Fatal;
  e.message = `${message}\n${v.describe()}`;
  return e;
}
