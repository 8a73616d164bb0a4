/**
 * Virtual time and the timer queue: the machine's discrete-event loop.
 *
 * Time is a count of virtual nanoseconds since the machine started. It advances only as
 * guest instructions retire ({@link NS_PER_INSTRUCTION} each) or when every vCPU is
 * blocked and the scheduler jumps to the next timer deadline; nothing reads the wall
 * clock. Timers fire in (deadline, arming sequence) order, so two runs with the same
 * inputs fire the same timers in the same order at the same virtual times.
 *
 * Time is kept as a JavaScript number of nanoseconds (exact up to 2^53 ns, about 104 days
 * of virtual time), so advancing it allocates nothing; {@link VirtualClock.nowBigInt}
 * gives the bigint view the ABI uses (system time is a u64 of ns).
 *
 * @module
 */

/**
 * Virtual nanoseconds per retired guest instruction. hvkit models a 1 GHz CPU retiring
 * one instruction per cycle; the rate is fixed so virtual time depends only on what the
 * guests execute.
 */
export const NS_PER_INSTRUCTION = 1;

/**
 * A reusable timer. Create one per timer source (a vCPU's single-shot timer, a
 * watchdog) and re-arm it; arming allocates nothing.
 */
export class Timer {
  /** Absolute deadline in virtual ns (meaningful while armed). */
  deadline = 0;
  /** Arming order, the tie-break between equal deadlines. */
  sequence = 0;
  /** Position in the clock's heap, −1 when not armed. */
  heapIndex = -1;

  /** @param callback - called (once per arming) when the deadline is reached. */
  constructor(readonly callback: (timer: Timer) => void) {}

  /** True while the timer is waiting to fire. */
  get armed(): boolean {
    return this.heapIndex >= 0;
  }
}

/** The machine's virtual clock and timer queue. */
export class VirtualClock {
  private nowNs = 0;
  private readonly heap: Timer[] = [];
  private nextSequence = 0;

  /** Virtual time in ns. */
  get now(): number {
    return this.nowNs;
  }

  /** Virtual time in ns as a bigint (allocates; not for inner loops). */
  get nowBigInt(): bigint {
    return BigInt(this.nowNs);
  }

  /** Number of armed timers. */
  get pending(): number {
    return this.heap.length;
  }

  /** The earliest armed deadline, or Infinity when no timer is armed. */
  nextDeadline(): number {
    return this.heap.length > 0 ? this.heap[0].deadline : Infinity;
  }

  /** Moves time forward by `ns` (≥ 0). Does not fire timers; see {@link VirtualClock.fireDue}. */
  advance(ns: number): void {
    if (ns > 0) this.nowNs += ns;
  }

  /**
   * Arms `timer` for absolute time `deadline` (ns), re-arming it if already armed. A
   * deadline in the past fires at the next {@link VirtualClock.fireDue}.
   */
  arm(timer: Timer, deadline: number): void {
    if (timer.heapIndex >= 0) this.remove(timer);
    timer.deadline = deadline;
    timer.sequence = this.nextSequence++;
    timer.heapIndex = this.heap.length;
    this.heap.push(timer);
    this.siftUp(timer.heapIndex);
  }

  /** Disarms `timer` (no effect if it is not armed). */
  cancel(timer: Timer): void {
    if (timer.heapIndex >= 0) this.remove(timer);
  }

  /**
   * Fires, in (deadline, sequence) order, every timer due at the current time that was
   * armed before this call (one re-armed by a callback for "now" fires on the next call,
   * so a callback cannot loop forever). Returns how many fired.
   */
  fireDue(): number {
    const limit = this.nextSequence;
    let fired = 0;
    while (this.heap.length > 0) {
      const top = this.heap[0];
      if (top.deadline > this.nowNs || top.sequence >= limit) break;
      this.remove(top);
      fired++;
      top.callback(top);
    }
    return fired;
  }

  /**
   * Jumps time to the earliest deadline (if it is in the future) and fires what is due.
   * Returns false when no timer is armed.
   */
  jumpToNextDeadline(): boolean {
    if (this.heap.length === 0) return false;
    const deadline = this.heap[0].deadline;
    if (deadline > this.nowNs) this.nowNs = deadline;
    this.fireDue();
    return true;
  }

  private before(a: Timer, b: Timer): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.sequence < b.sequence);
  }

  private remove(timer: Timer): void {
    const i = timer.heapIndex;
    const last = this.heap.pop()!;
    timer.heapIndex = -1;
    if (last === timer) return;
    this.heap[i] = last;
    last.heapIndex = i;
    this.siftDown(i);
    this.siftUp(last.heapIndex);
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i], heap[parent])) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && this.before(heap[l], heap[m])) m = l;
      if (r < heap.length && this.before(heap[r], heap[m])) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(i: number, j: number): void {
    const heap = this.heap;
    const t = heap[i];
    heap[i] = heap[j];
    heap[j] = t;
    heap[i].heapIndex = i;
    heap[j].heapIndex = j;
  }
}
