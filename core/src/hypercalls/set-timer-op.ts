/**
 * set_timer_op(timeout) (xen/common/sched/core.c `do_set_timer_op`): arms the caller's
 * single-shot timer for absolute system time `timeout` (ns), which raises VIRQ_TIMER.
 *
 * - 0 stops the timer.
 * - A deadline already passed fires at once (at the end of the current exit).
 * - A negative deadline, or one more than 2^50 ns (about 13 days) ahead, is taken as a
 *   guest's wrapped jiffies and set to 100 ms from now, as Xen does.
 * The 64-bit argument is one register on 64-bit guests and two 32-bit halves (lo, hi)
 * on 32-bit ones. Always returns 0.
 *
 * @module
 */
import type { HypercallArgs, HypercallContext } from "../hypercall.js";
import { HUGE_TIMEOUT_DELAY_NS, vcpuTimers } from "../time.js";

/** `set_timer_op(timeout)`. */
export function setTimerOp(ctx: HypercallContext, args: HypercallArgs): number {
  const { machine, vcpu } = ctx;
  const raw =
    machine.arch.wordBits === 64 ? args.u64(0) : (BigInt(args.u32(1)) << 32n) | BigInt(args.u32(0));
  const timeout = BigInt.asIntN(64, raw);
  const t = vcpuTimers(machine, vcpu);
  const now = machine.clock.now;
  const offset = timeout - BigInt(now);
  if (timeout === 0n) {
    machine.clock.cancel(t.singleshot);
  } else if (timeout < 0n || (offset > 0n && offset >> 50n !== 0n)) {
    machine.clock.arm(t.singleshot, now + HUGE_TIMEOUT_DELAY_NS);
  } else {
    machine.clock.arm(t.singleshot, Number(timeout));
  }
  return 0;
}
