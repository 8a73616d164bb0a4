/**
 * The `hvkit` command's exit statuses. `run` mirrors how the guest ended, so scripts can
 * test a guest's fate with `$?` alone.
 *
 * @module
 */
import { ShutdownCause, ShutdownReason } from "@hvkit/core";

/** Exit statuses. */
export const ExitStatus = {
  /** Success: the guest powered off, or every conformance cell passed. */
  OK: 0,
  /** `conformance`: at least one cell failed that the baseline does not expect. */
  CONFORMANCE_FAILED: 1,
  /** `run`, `create`: the guest powered off without printing `--until`'s pattern (as grep's 1). */
  UNTIL_NOT_SEEN: 1,
  /**
   * Bad usage, unknown arch or mode, unreadable or malformed image, too little memory for
   * the image, an output that cannot be written, unfinished arch port.
   */
  USAGE: 2,
  /** `run`: every vCPU blocked with nothing pending (the guest can never make progress). */
  DEADLOCK: 3,
  /**
   * `run`: the guest's kernel stopped without asking for a shutdown: its last vCPU went
   * down (VCPUOP_down), which Xen reports as poweroff, as Linux's halt after a BUG or an
   * early panic does.
   */
  HALTED: 4,
  /** `run`: base of "shut down with reason r" (status 10 + r; poweroff is 0 instead). */
  SHUTDOWN_BASE: 10,
  /** An hvkit bug: an exception no guest or input should be able to cause. */
  INTERNAL: 70,
  /** `run`: the instruction budget ran out (as timeout(1) reports a timeout). */
  BUDGET_EXHAUSTED: 124,
} as const;

/**
 * The exit status of `hvkit run` for a guest that shut down with `reason`, brought about
 * by `cause`: a poweroff nobody asked for (the last vCPU went down) is {@link
 * ExitStatus.HALTED}, not success.
 */
export function shutdownExitStatus(
  reason: ShutdownReason,
  cause: ShutdownCause | null = ShutdownCause.Request,
): number {
  if (reason !== ShutdownReason.Poweroff) return ExitStatus.SHUTDOWN_BASE + reason;
  return cause === ShutdownCause.LastVcpuDown ? ExitStatus.HALTED : ExitStatus.OK;
}

/** Xen's names of the shutdown reasons (SHUTDOWN_* in sched.h, lower-cased). */
export function shutdownReasonName(reason: ShutdownReason): string {
  return (
    ["poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset"][reason] ??
    `reason ${reason}`
  );
}

/** The exit-status table as the help texts and the README print it. */
export const EXIT_STATUS_HELP = `Exit status:
  0    the guest shut down with reason poweroff, or printed --until's pattern
       (conformance: every cell passed)
  1    conformance: a cell failed that the baseline does not expect;
       run/create --until: the guest powered off without printing the pattern
  2    usage error, unknown arch or mode, unreadable or malformed image,
       too little --memory, or an arch port whose hooks are still stubs
  3    deadlock: every vCPU blocked with nothing pending
  4    the guest's kernel stopped without asking for a shutdown: its last
       vCPU went down (Xen reports poweroff; Linux halting after a BUG or
       an early panic)
  10+r the guest shut down with reason r: 11 reboot, 12 suspend, 13 crash,
       14 watchdog, 15 soft_reset
  70   internal error (a bug in hvkit; please report it)
  124  the instruction budget (--max-instructions) ran out`;
