/**
 * The vCPU scheduler: round-robin over runnable vCPUs in quanta of guest instructions.
 *
 * vCPUs are considered in creation order (domain by domain, vCPU id within). Each turn
 * runs the next runnable vCPU of a running domain for at most one quantum, cut short when
 * it blocks, yields, its domain shuts down, or the next timer falls due (so timers fire at
 * their exact virtual time). Blocked, down and paused vCPUs are skipped. When no vCPU can
 * run, virtual time jumps to the next timer deadline; with no timer either, nothing can
 * ever happen again and the run ends as a deadlock — as it does when timers keep expiring
 * without waking any vCPU ({@link IDLE_EXPIRY_LIMIT} in a row). The loop allocates nothing
 * per quantum.
 *
 * @module
 */
import { NS_PER_INSTRUCTION, type VirtualClock } from "./clock.js";
import { DomainState } from "./domain.js";
import { VcpuState, type Vcpu } from "./vcpu.js";

/** What the scheduler needs from the machine. */
export interface SchedulerHost {
  /** Number of domains not shut down or dying. */
  readonly liveDomains: number;
  /**
   * Runs `vcpu` for at most `budget` instructions, handling its exits, and returns the
   * instructions charged (at least 1).
   */
  runSlice(vcpu: Vcpu, budget: number): number;
}

/**
 * Timer expiries in a row, with no vCPU able to run between them, after which a run counts
 * as deadlocked (a million 1 ms ticks is over 16 minutes of virtual time).
 */
export const IDLE_EXPIRY_LIMIT = 1_000_000;

/** Why {@link Scheduler.run} stopped. */
export type StopReason = "all-shutdown" | "budget-exhausted" | "deadlock" | "stopped";

/** Round-robin scheduler of one machine. */
export class Scheduler {
  /** Every vCPU of the machine, in the order turns go round. */
  readonly vcpus: Vcpu[] = [];
  /** Set by {@link Scheduler.yield}; ends the current slice. Cleared at each slice start. */
  yieldPending = false;
  /**
   * Set by {@link Scheduler.requestStop}: the run ends after the current slice, with
   * "stopped". Cleared when a run starts.
   */
  stopPending = false;
  /** Instructions charged by the last {@link Scheduler.run}. */
  instructions = 0;
  private cursor = 0;

  /**
   * @param clock - the machine's clock (timer deadlines bound slices; idle time jumps).
   * @param quantum - instructions per turn (≥ 1).
   */
  constructor(
    private readonly clock: VirtualClock,
    readonly quantum: number,
  ) {}

  /** Adds a vCPU at the end of the rotation. */
  add(vcpu: Vcpu): void {
    this.vcpus.push(vcpu);
  }

  /** Removes a vCPU from the rotation (its domain was destroyed). */
  remove(vcpu: Vcpu): void {
    const i = this.vcpus.indexOf(vcpu);
    if (i < 0) return;
    this.vcpus.splice(i, 1);
    if (this.cursor > i) this.cursor--;
    if (this.cursor >= this.vcpus.length) this.cursor = 0;
  }

  /** True when `vcpu` may run now: runnable, not paused, in a running domain. */
  static canRun(vcpu: Vcpu): boolean {
    return (
      vcpu.state === VcpuState.Runnable &&
      vcpu.pauseCount === 0 &&
      vcpu.domain.state === DomainState.Running
    );
  }

  /** Blocks a runnable vCPU (it stops at the end of its current exit). */
  block(vcpu: Vcpu): void {
    if (vcpu.state === VcpuState.Runnable) {
      vcpu.state = VcpuState.Blocked;
      vcpu.setRunstate(2, this.clock.now); // RUNSTATE_blocked
    }
  }

  /**
   * Makes a blocked vCPU runnable. A vCPU that went down blocked is no longer blocked but
   * stays down, its runstate offline (Xen's `vcpu_wake` of a vCPU with `_VPF_down`).
   */
  wake(vcpu: Vcpu): void {
    if (vcpu.state === VcpuState.Blocked) {
      vcpu.state = VcpuState.Runnable;
      vcpu.setRunstate(1, this.clock.now); // RUNSTATE_runnable
    } else if (vcpu.state === VcpuState.Down && vcpu.blockedWhileDown) {
      vcpu.blockedWhileDown = false;
      vcpu.setRunstate(3, this.clock.now); // RUNSTATE_offline
    }
  }

  /** Ends the current slice (the running vCPU gives up the rest of its quantum). */
  yield(): void {
    this.yieldPending = true;
  }

  /** Ends the current slice and the run ({@link Scheduler.run} returns "stopped"). */
  requestStop(): void {
    this.yieldPending = true;
    this.stopPending = true;
  }

  /**
   * The next vCPU that can run, after the one that ran last, or null. Advances the
   * rotation past it.
   */
  pickNext(): Vcpu | null {
    const n = this.vcpus.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.cursor + i) % n;
      const v = this.vcpus[idx];
      if (Scheduler.canRun(v)) {
        this.cursor = (idx + 1) % n;
        return v;
      }
    }
    return null;
  }

  /**
   * Runs turns until every domain is down, `maxInstructions` have been charged, a stop
   * was requested, or nothing can run and no timer is pending. {@link Scheduler.instructions} then holds
   * the instructions charged.
   */
  run(host: SchedulerHost, maxInstructions: number): StopReason {
    const clock = this.clock;
    let executed = 0;
    let idleExpiries = 0;
    this.instructions = 0;
    this.stopPending = false;
    for (;;) {
      if (this.stopPending) return this.stop("stopped", executed);
      if (host.liveDomains === 0) return this.stop("all-shutdown", executed);
      if (executed >= maxInstructions) return this.stop("budget-exhausted", executed);
      const vcpu = this.pickNext();
      if (vcpu === null) {
        // Timers that keep expiring without waking anyone (a periodic timer whose event is
        // masked, say) would jump virtual time forever: after IDLE_EXPIRY_LIMIT of them in a
        // row nothing can happen that would not have happened already.
        if (!clock.jumpToNextDeadline() || ++idleExpiries > IDLE_EXPIRY_LIMIT) {
          return this.stop("deadlock", executed);
        }
        continue;
      }
      idleExpiries = 0;
      let budget = Math.min(this.quantum, maxInstructions - executed);
      const untilTimer = clock.nextDeadline() - clock.now;
      if (untilTimer < budget * NS_PER_INSTRUCTION) {
        budget = Math.max(1, Math.ceil(untilTimer / NS_PER_INSTRUCTION));
      }
      this.yieldPending = false;
      executed += host.runSlice(vcpu, budget);
      clock.fireDue();
    }
  }

  private stop(reason: StopReason, executed: number): StopReason {
    this.instructions = executed;
    return reason;
  }
}
