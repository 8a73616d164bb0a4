/**
 * Host-side event delivery for a built-in domain: a domain whose "kernel" is host code
 * (e.g. hvkit's built-in dom0, whose xenstored and console daemon are TypeScript) rather
 * than guest machine code.
 *
 * Such a domain has no shared_info page and no running vCPU, so the 2-level delivery path
 * (pending bit → selector → upcall) has nowhere to go. Instead, when one of its ports is
 * set pending (`evtchnSetPending`: an interdomain send from a guest, a VIRQ, a bind), the
 * port is queued here and a zero-delay timer is armed on the machine's virtual clock. The
 * run loop ends the current slice at the next exit (a deadline is due) and fires the timer
 * between slices, which hands the queued ports to the domain's handler in ascending order,
 * once each however often they were signalled (as a pending bit coalesces notifications).
 *
 * So a back end runs exactly when a guest notifies it, at a point fixed by virtual time:
 * no polling, no host threads, no wall clock, and the same run twice gives the same
 * interleaving. The handler runs outside any hypercall; it may send events (to guests or
 * to itself: those are delivered at the next firing) and must not throw — an exception
 * from it is an hvkit bug and propagates out of `Machine.run`.
 *
 * @module
 */
import { Timer } from "./clock.js";
import type { Domain } from "./domain.js";
import type { Machine } from "./machine.js";

/** Called with each port of the built-in domain that was signalled. */
export type HostEventHandler = (port: number) => void;

/** The queue of signalled ports of one built-in domain (see the module comment). */
export class HostEventQueue {
  private readonly queued = new Set<number>();
  private readonly timer: Timer;

  /**
   * @param machine - the machine whose clock runs the deliveries.
   * @param handler - called once per signalled port, between scheduling slices.
   */
  constructor(
    private readonly machine: Machine,
    private readonly handler: HostEventHandler,
  ) {
    this.timer = new Timer(() => this.deliver());
  }

  /** Queues `port` and makes sure a delivery is due at the current virtual time. */
  raise(port: number): void {
    this.queued.add(port);
    if (!this.timer.armed) this.machine.clock.arm(this.timer, this.machine.clock.now);
  }

  /** Ports signalled and not yet delivered, ascending. */
  get pending(): number[] {
    return [...this.queued].sort((a, b) => a - b);
  }

  private deliver(): void {
    const ports = this.pending;
    this.queued.clear();
    for (const port of ports) this.handler(port);
  }
}

/**
 * Makes `domain` a built-in domain whose events go to `handler` (host code) instead of a
 * guest's shared_info. Call it right after `Machine.createDomain`, before any of the
 * domain's ports is bound. Returns the queue (tests look at its `pending` ports).
 */
export function attachHostEvents(
  machine: Machine,
  domain: Domain,
  handler: HostEventHandler,
): HostEventQueue {
  const queue = new HostEventQueue(machine, handler);
  domain.hostEvents = queue;
  return queue;
}
