/**
 * Input to the hypervisor console: what a user types on Xen's serial line, which the
 * hardware domain reads with CONSOLEIO_read (xen/drivers/char/console.c).
 *
 * Xen keeps received characters in `serial_rx_ring` ({@link SERIAL_RX_SIZE} bytes,
 * free-running `serial_rx_cons`/`serial_rx_prod`), drops a character when the ring is
 * full, and raises the global VIRQ_CONSOLE after each one so the hardware domain comes
 * and reads (`__serial_rx`). CONSOLEIO_read copies from the ring, at most `count` bytes,
 * in at most two pieces where the ring wraps.
 *
 * In hvkit the input comes from the user before the run (`--console-input`), so it never
 * arrives "at some moment": it waits in a queue, as a serial line with flow control would
 * hold it, and enters the ring when the machine starts and each time a read makes room.
 * Every refill raises VIRQ_CONSOLE (dropped, as in Xen, while dom0 has not bound it; Linux
 * polls the console once when it opens it). Where and when input enters depends only on
 * what the guest does, so runs repeat exactly; the queueing is reported once as a
 * hypervisor message, the log of input from outside the machine.
 *
 * @module
 */
import { Virq } from "./abi/numbers.js";
import type { Domain } from "./domain.js";
import { evtchnSendVirq } from "./event-channel.js";
import type { Machine } from "./machine.js";

/** Xen's `SERIAL_RX_SIZE`: bytes the hypervisor console's input ring holds. */
export const SERIAL_RX_SIZE = 128;

/** The hypervisor console's input: `serial_rx_ring` and what waits to enter it. */
export class HypervisorConsoleInput {
  private readonly ring = new Uint8Array(SERIAL_RX_SIZE);
  private cons = 0;
  private prod = 0;
  private readonly queue: Uint8Array[] = [];
  private queueHead = 0;

  /** @param machine - the machine whose hardware domain reads the console. */
  constructor(private readonly machine: Machine) {}

  /** Bytes in the ring, not yet read by the guest. */
  get buffered(): number {
    return (this.prod - this.cons) >>> 0;
  }

  /** Bytes waiting for room in the ring. */
  get queued(): number {
    let n = 0;
    for (const chunk of this.queue) n += chunk.length;
    return n - this.queueHead;
  }

  /**
   * Queues `bytes` as typed on the console and moves what fits into the ring (raising
   * VIRQ_CONSOLE when anything moved). The bytes are copied.
   */
  type(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.queue.push(bytes.slice());
    this.machine.console.hypervisorMessage(
      `console input: ${bytes.length} bytes typed at the hypervisor console (read by the hardware domain with console_io)`,
    );
    this.refill();
  }

  /**
   * CONSOLEIO_read's copy: hands up to `count` bytes from the ring to `copy` (at most two
   * calls, split where the ring wraps; `copy` returns false when the guest buffer faults,
   * and that piece stays in the ring). Returns the bytes read, or −1 after a fault (the
   * pieces before it are consumed, as Xen's `rc = -EFAULT`). Refills the ring afterwards.
   */
  read(
    count: number,
    copy: (ring: Uint8Array, start: number, length: number, offset: number) => boolean,
  ): number {
    let done = 0;
    let fault = false;
    while (this.cons !== this.prod && done < count) {
      const idx = this.cons & (SERIAL_RX_SIZE - 1);
      let len = (this.prod - this.cons) >>> 0;
      if (idx + len > SERIAL_RX_SIZE) len = SERIAL_RX_SIZE - idx;
      if (done + len > count) len = count - done;
      if (!copy(this.ring, idx, len, done)) {
        fault = true;
        break;
      }
      done += len;
      this.cons = (this.cons + len) >>> 0;
    }
    this.refill();
    return fault ? -1 : done;
  }

  private refill(): void {
    let moved = false;
    while (this.queue.length > 0 && this.buffered < SERIAL_RX_SIZE) {
      const chunk = this.queue[0];
      this.ring[this.prod & (SERIAL_RX_SIZE - 1)] = chunk[this.queueHead++];
      this.prod = (this.prod + 1) >>> 0;
      moved = true;
      if (this.queueHead === chunk.length) {
        this.queue.shift();
        this.queueHead = 0;
      }
    }
    const hardware = this.machine.domains.get(0);
    if (moved && hardware !== undefined) sendConsoleVirq(this.machine, hardware);
  }
}

function sendConsoleVirq(machine: Machine, domain: Domain): void {
  if (!domain.isDead) evtchnSendVirq(machine, domain, Virq.console, 0);
}

const inputs = new WeakMap<Machine, HypervisorConsoleInput>();

/** The hypervisor console input of `machine`, made on first use. */
export function hypervisorConsoleInput(machine: Machine): HypervisorConsoleInput {
  let input = inputs.get(machine);
  if (input === undefined) inputs.set(machine, (input = new HypervisorConsoleInput(machine)));
  return input;
}
