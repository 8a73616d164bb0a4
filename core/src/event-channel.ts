/**
 * A domain's event-channel port table: the hypervisor-side state of each port (Xen's
 * `struct evtchn` array). Issue 3 needs only EVTCHNOP_status and EVTCHNOP_send; the
 * binding operations of the next issue fill in the other states, so the table already
 * has every state Xen reports and the per-port fields they need.
 *
 * Storage is columnar typed arrays (plain data, serializable), grown one bucket of
 * {@link EVTCHNS_PER_BUCKET} ports at a time up to {@link EventChannelTable.limit}, as
 * Xen grows its port array. As in Xen, a port is *valid* only once its bucket exists
 * (`port_is_valid`): a fresh domain has ports 0–63, and naming port 64 fails with −EINVAL
 * until a binding operation has needed it. The pending and mask bits of the 2-level ABI
 * are not kept here: they live in the guest's shared_info page, where the guest reads them.
 *
 * @module
 */

/**
 * Ports per bucket of the port array: Xen's EVTCHNS_PER_BUCKET, PAGE_SIZE divided by the
 * (power-of-two rounded) size of `struct evtchn`, 64 on an x86_64 build.
 */
export const EVTCHNS_PER_BUCKET = 64;

/** Hypervisor-side state of one port (Xen's `ECS_*`, not an ABI value). */
export enum PortState {
  /** Not allocated. */
  Free = 0,
  /** Never allocatable (port 0). */
  Reserved = 1,
  /** Allocated, waiting for `remoteDomain` to bind (alloc_unbound). */
  Unbound = 2,
  /** Connected to `remotePort` of `remoteDomain`. */
  Interdomain = 3,
  /** Bound to physical IRQ `binding`. */
  Pirq = 4,
  /** Bound to virtual IRQ `binding`. */
  Virq = 5,
  /** Bound for inter-vCPU notification. */
  Ipi = 6,
}

/** One domain's ports. */
export class EventChannelTable {
  /** State of each valid port ({@link PortState}); its length is the number of valid ports. */
  state: Uint8Array;
  /** vCPU notified when the port fires. */
  notifyVcpu: Uint32Array;
  /** Unbound: the domain allowed to bind; Interdomain: the remote domain. */
  remoteDomain: Int32Array;
  /** Interdomain: the remote port. */
  remotePort: Int32Array;
  /** Pirq: the IRQ; Virq: the VIRQ number. */
  binding: Int32Array;

  /**
   * @param limit - number of valid port numbers for the guest's ABI (the 2-level ABI
   *   gives BITS_PER_LONG²: 4096 for 64-bit guests, 1024 for 32-bit ones).
   */
  constructor(readonly limit: number) {
    const initial = Math.min(limit, EVTCHNS_PER_BUCKET);
    this.state = new Uint8Array(initial);
    this.notifyVcpu = new Uint32Array(initial);
    this.remoteDomain = new Int32Array(initial);
    this.remotePort = new Int32Array(initial);
    this.binding = new Int32Array(initial);
    // Port 0 is never handed out (Xen reserves it, ECS_RESERVED).
    if (initial > 0) this.state[0] = PortState.Reserved;
  }

  /**
   * True when `port` names an existing slot (Xen's `port_is_valid`): below the number
   * of ports whose bucket has been allocated, and below {@link EventChannelTable.limit}.
   */
  isValid(port: number): boolean {
    return Number.isInteger(port) && port >= 0 && port < this.state.length;
  }

  /** The state of a valid port. */
  stateOf(port: number): PortState {
    return this.state[port] as PortState;
  }

  /**
   * Allocates buckets until `port` is valid, for a binding operation about to use it.
   * Returns false when `port` is at or beyond {@link EventChannelTable.limit} (the
   * caller fails with −ENOSPC or −EINVAL as the operation specifies).
   */
  ensure(port: number): boolean {
    if (!Number.isInteger(port) || port < 0 || port >= this.limit) return false;
    if (port < this.state.length) return true;
    const size = Math.min(
      this.limit,
      (Math.floor(port / EVTCHNS_PER_BUCKET) + 1) * EVTCHNS_PER_BUCKET,
    );
    this.state = grow(this.state, new Uint8Array(size));
    this.notifyVcpu = grow(this.notifyVcpu, new Uint32Array(size));
    this.remoteDomain = grow(this.remoteDomain, new Int32Array(size));
    this.remotePort = grow(this.remotePort, new Int32Array(size));
    this.binding = grow(this.binding, new Int32Array(size));
    return true;
  }
}

function grow<T extends Uint8Array | Uint32Array | Int32Array>(old: T, next: T): T {
  next.set(old);
  return next;
}
