/**
 * Event channels with the 2-level ABI (xen/common/event_channel.c, event_2l.c): each
 * domain's port table (Xen's `struct evtchn` array), the binding operations, and the
 * delivery path into the guest's shared_info.
 *
 * Storage is columnar typed arrays (plain data, serializable), grown one bucket of
 * {@link EVTCHNS_PER_BUCKET} ports at a time up to {@link EventChannelTable.limit}, as
 * Xen grows its port array. As in Xen, a port is *valid* only once its bucket exists
 * (`port_is_valid`): a fresh domain has ports 0–63, and naming port 64 fails with −EINVAL
 * until a binding operation has needed it. The pending and mask bits live in the guest's
 * shared_info page, where the guest reads them; they are reached through the
 * `SHARED_INFO` layout of the machine's data model.
 *
 * Delivery (`evtchn_2l_set_pending`): set the port's pending bit; if it was clear and the
 * port is not masked, set bit `port / BITS_PER_EVTCHN_WORD` of the notified vCPU's
 * `evtchn_pending_sel`; if that bit was clear, set `evtchn_upcall_pending`; if that was
 * clear, kick the vCPU (wake it if blocked, then `ArchVcpu.kick`); the arch enters
 * the guest's event callback on its next entry when `evtchn_upcall_mask` is clear. Then
 * vCPUs polling the port (SCHEDOP_poll) are woken, masked or not.
 *
 * The exported operations take already-resolved domains and return 0 / a port, or
 * −errno, never throwing for guest input.
 *
 * @module
 */
import { SHARED_INFO } from "./abi/xen.js";
import { Virq } from "./abi/numbers.js";
import { DomainState, DomId } from "./domain.js";
import type { Domain } from "./domain.js";
import { Errno } from "./errno.js";
import type { Machine } from "./machine.js";
import type { DataModel, StructLayout } from "./structs.js";
import { Timer } from "./clock.js";
import type { Vcpu } from "./vcpu.js";

/**
 * Ports per bucket of the port array: Xen's EVTCHNS_PER_BUCKET, PAGE_SIZE divided by the
 * (power-of-two rounded) size of `struct evtchn`, 64 on an x86_64 build.
 */
export const EVTCHNS_PER_BUCKET = 64;

/**
 * `max_evtchn_port` of a domain without a cap: INT_MAX, what `evtchn_init` makes of the
 * −1 Xen gives its dom0 (`min(max_port, INT_MAX)`).
 */
export const MAX_EVTCHN_PORT_UNLIMITED = 0x7fffffff;

/** Number of VIRQ numbers (`NR_VIRQS`, xen.h); bind_virq rejects others with −EINVAL. */
export const NR_VIRQS = 24;

/** Most ports SCHEDOP_poll accepts (`do_poll`'s "fairly arbitrary limit"); more is −EINVAL. */
export const POLL_MAX_PORTS = 128;

/**
 * Number of ports the 2-level ABI gives a guest of data model `model`:
 * BITS_PER_EVTCHN_WORD², where the word is `xen_ulong_t` (4096 for 64-bit words, 1024
 * for 32-bit ones).
 */
export function evtchnPortLimit(model: DataModel): number {
  const bits = model.xenUlong * 8;
  return bits * bits;
}

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

/** How a VIRQ is bound (Xen's `enum virq_type`). */
export enum VirqType {
  /** Bound on each vCPU separately (timer, debug, xenoprof, xenpmu). */
  Vcpu = 0,
  /** Bound once per domain, on vCPU 0 (argo). */
  Domain = 1,
  /** Bound once, by the domain that handles it host-wide (the hardware domain by default). */
  Global = 2,
}

/** The binding type of VIRQ `virq` (< {@link NR_VIRQS}), as Xen's `get_virq_type` (x86: arch VIRQs are global). */
export function virqType(virq: number): VirqType {
  switch (virq) {
    case Virq.timer:
    case Virq.debug:
    case Virq.xenoprof:
    case Virq.xenpmu:
      return VirqType.Vcpu;
    case Virq.argo:
      return VirqType.Domain;
    default:
      return VirqType.Global;
  }
}

/** One domain's ports, VIRQ bindings and SCHEDOP_poll state. */
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
   * Xen's per-vCPU `virq_to_evtchn`: entry `vcpu * NR_VIRQS + virq` is the bound port, 0
   * none. Non-per-vCPU VIRQs are recorded under vCPU 0. Grown on demand.
   */
  virqPorts = new Uint32Array(NR_VIRQS);
  /**
   * SCHEDOP_poll state per vCPU id (Xen's `poll_mask` bit and `poll_evtchn`): 0 not
   * polling, −1 polling several ports (any port wakes it), p > 0 polling port p only.
   * Grown on demand.
   */
  pollPort = new Int32Array(0);
  /** Whether each vCPU is polling (Xen's `poll_mask`). Grown with {@link pollPort}. */
  polling = new Uint8Array(0);
  /** Per-vCPU poll timeout timers, made on first use. */
  readonly pollTimers: (Timer | undefined)[] = [];
  /**
   * The highest port number the domain may allocate (Xen's `d->max_evtchn_port`): the
   * `max_evtchn_port` of XEN_DOMCTL_createdomain, capped at INT_MAX (`evtchn_init`).
   * A domain created without that domctl has no cap of its own, as Xen's dom0 (whose
   * `max_evtchn_port` is −1); the 2-level ABI's {@link EventChannelTable.limit} still
   * applies.
   */
  maxPort = MAX_EVTCHN_PORT_UNLIMITED;

  /**
   * @param limit - number of valid port numbers for the guest's ABI
   *   ({@link evtchnPortLimit}: 4096 for 64-bit guests, 1024 for 32-bit ones).
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
   * Returns false when `port` is at or beyond {@link EventChannelTable.limit} or above
   * {@link EventChannelTable.maxPort} (`evtchn_allocate_port`'s −ENOSPC).
   */
  ensure(port: number): boolean {
    if (!Number.isInteger(port) || port < 0 || port >= this.limit || port > this.maxPort) {
      return false;
    }
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

  /** The port VIRQ `virq` is bound to on vCPU `vcpu` (0 none). */
  virqPort(vcpu: number, virq: number): number {
    const i = vcpu * NR_VIRQS + virq;
    return i < this.virqPorts.length ? this.virqPorts[i] : 0;
  }

  /** Records the port of VIRQ `virq` on vCPU `vcpu` (0 unbinds). */
  setVirqPort(vcpu: number, virq: number, port: number): void {
    const i = vcpu * NR_VIRQS + virq;
    if (i >= this.virqPorts.length) {
      this.virqPorts = grow(this.virqPorts, new Uint32Array((vcpu + 1) * NR_VIRQS));
    }
    this.virqPorts[i] = port;
  }

  /** Makes the per-vCPU poll arrays cover vCPU `vcpu`. */
  ensurePollSlot(vcpu: number): void {
    if (vcpu < this.pollPort.length) return;
    this.pollPort = grow(this.pollPort, new Int32Array(vcpu + 1));
    this.polling = grow(this.polling, new Uint8Array(vcpu + 1));
  }
}

function grow<T extends Uint8Array | Uint32Array | Int32Array>(old: T, next: T): T {
  next.set(old);
  return next;
}

// ---------------------------------------------------------------------------------------
// shared_info bit access

interface SharedInfoOffsets {
  readonly pending: number;
  readonly mask: number;
  readonly wordBytes: number;
  readonly littleEndian: boolean;
  readonly maxVcpuInfo: number;
  readonly vcpuInfoSize: number;
  readonly vcpuInfoBase: number;
  readonly upcallPending: number;
  readonly upcallMask: number;
  readonly pendingSel: number;
}

const offsetCache = new WeakMap<DataModel, SharedInfoOffsets>();

function offsets(model: DataModel): SharedInfoOffsets {
  let o = offsetCache.get(model);
  if (o === undefined) {
    const l: StructLayout = SHARED_INFO.layout(model);
    const base = l.offsetOf("vcpu_info.0");
    o = {
      pending: l.offsetOf("evtchn_pending"),
      mask: l.offsetOf("evtchn_mask"),
      wordBytes: model.xenUlong,
      littleEndian: model.littleEndian,
      maxVcpuInfo: l.sizeOf("vcpu_info") / l.sizeOf("vcpu_info.0"),
      vcpuInfoSize: l.sizeOf("vcpu_info.0"),
      vcpuInfoBase: base,
      upcallPending: l.offsetOf("vcpu_info.0.evtchn_upcall_pending") - base,
      upcallMask: l.offsetOf("vcpu_info.0.evtchn_upcall_mask") - base,
      pendingSel: l.offsetOf("vcpu_info.0.evtchn_pending_sel") - base,
    };
    offsetCache.set(model, o);
  }
  return o;
}

/** Machine address of the domain's shared_info page, or −1 when it has none. */
function sharedInfoAddress(machine: Machine, domain: Domain): number {
  const mfn = domain.sharedInfoMfn;
  return mfn < 0 ? -1 : mfn * machine.memory.pageSize;
}

/**
 * Machine address of `vcpu`'s `vcpu_info` (its slot in shared_info), or −1 when the
 * domain has no shared_info or the vCPU id is past `XEN_LEGACY_MAX_VCPUS`.
 */
export function vcpuInfoAddress(machine: Machine, vcpu: Vcpu): number {
  if (vcpu.registeredVcpuInfo >= 0) return vcpu.registeredVcpuInfo; // VCPUOP_register_vcpu_info
  const si = sharedInfoAddress(machine, vcpu.domain);
  const o = offsets(machine.arch.dataModel);
  if (si < 0 || vcpu.id >= o.maxVcpuInfo) return -1;
  return si + o.vcpuInfoBase + vcpu.id * o.vcpuInfoSize;
}

/** Byte address and bit of bit `bit` of the xen_ulong array at `base`. */
function bitByte(o: SharedInfoOffsets, base: number, bit: number): number {
  const wordBits = o.wordBytes * 8;
  const word = Math.floor(bit / wordBits);
  const inWord = bit % wordBits;
  const byteInWord = inWord >> 3;
  return base + word * o.wordBytes + (o.littleEndian ? byteInWord : o.wordBytes - 1 - byteInWord);
}

function testBit(machine: Machine, o: SharedInfoOffsets, base: number, bit: number): boolean {
  return (machine.memory.bytes[bitByte(o, base, bit)] & (1 << (bit & 7))) !== 0;
}

/** Sets a bit; returns its old value (Xen's test_and_set_bit). */
function testAndSetBit(machine: Machine, o: SharedInfoOffsets, base: number, bit: number): boolean {
  const a = bitByte(o, base, bit);
  const m = 1 << (bit & 7);
  const bytes = machine.memory.bytes;
  if ((bytes[a] & m) !== 0) return true;
  bytes[a] |= m;
  machine.arch.onMemoryWritten?.(machine, a, 1);
  return false;
}

/** Clears a bit; returns its old value (Xen's test_and_clear_bit). */
function testAndClearBit(
  machine: Machine,
  o: SharedInfoOffsets,
  base: number,
  bit: number,
): boolean {
  const a = bitByte(o, base, bit);
  const m = 1 << (bit & 7);
  const bytes = machine.memory.bytes;
  if ((bytes[a] & m) === 0) return false;
  bytes[a] &= ~m;
  machine.arch.onMemoryWritten?.(machine, a, 1);
  return true;
}

/** True when `port`'s pending bit is set in `domain`'s shared_info. */
export function evtchnIsPending(machine: Machine, domain: Domain, port: number): boolean {
  const si = sharedInfoAddress(machine, domain);
  if (si < 0 || port < 0 || port >= domain.eventChannels.limit) return false;
  const o = offsets(machine.arch.dataModel);
  return testBit(machine, o, si + o.pending, port);
}

/** True when `port`'s mask bit is set in `domain`'s shared_info (a port without shared_info counts as masked). */
export function evtchnIsMasked(machine: Machine, domain: Domain, port: number): boolean {
  const si = sharedInfoAddress(machine, domain);
  if (si < 0 || port < 0 || port >= domain.eventChannels.limit) return true;
  const o = offsets(machine.arch.dataModel);
  return testBit(machine, o, si + o.mask, port);
}

/**
 * Xen's `local_events_need_delivery` for PV: `evtchn_upcall_pending` set and
 * `evtchn_upcall_mask` clear in `vcpu`'s vcpu_info.
 */
export function eventsNeedDelivery(machine: Machine, vcpu: Vcpu): boolean {
  const vi = vcpuInfoAddress(machine, vcpu);
  if (vi < 0) return false;
  const o = offsets(machine.arch.dataModel);
  const bytes = machine.memory.bytes;
  return bytes[vi + o.upcallPending] !== 0 && bytes[vi + o.upcallMask] === 0;
}

/** Writes `vcpu`'s `evtchn_upcall_mask` (0 enables delivery); nothing without a vcpu_info. */
export function setUpcallMask(machine: Machine, vcpu: Vcpu, mask: number): void {
  const vi = vcpuInfoAddress(machine, vcpu);
  if (vi < 0) return;
  const a = vi + offsets(machine.arch.dataModel).upcallMask;
  machine.memory.bytes[a] = mask;
  machine.arch.onMemoryWritten?.(machine, a, 1);
}

/**
 * Xen's `vcpu_mark_events_pending`: sets `evtchn_upcall_pending`; if it was clear, kicks
 * the vCPU: wakes it when blocked (whatever its upcall mask, as `vcpu_kick`) and calls
 * the optional `ArchVcpu.kick`.
 */
export function markEventsPending(machine: Machine, vcpu: Vcpu): void {
  const vi = vcpuInfoAddress(machine, vcpu);
  if (vi >= 0) {
    const a = vi + offsets(machine.arch.dataModel).upcallPending;
    const bytes = machine.memory.bytes;
    if ((bytes[a] & 1) !== 0) return;
    bytes[a] |= 1;
    machine.arch.onMemoryWritten?.(machine, a, 1);
  }
  machine.wakeVcpu(vcpu);
  vcpu.arch.kick?.();
}

/**
 * Marks `port` of `domain` pending for vCPU `vcpuId` (`evtchn_port_set_pending` with the
 * 2-level `set_pending`), then wakes pollers. Ports that are free or reserved are
 * ignored (`evtchn_usable`). For a built-in domain (`Domain.hostEvents`) the port goes to
 * its host-side queue instead.
 */
export function evtchnSetPending(
  machine: Machine,
  domain: Domain,
  vcpuId: number,
  port: number,
): void {
  const table = domain.eventChannels;
  if (!table.isValid(port) || table.state[port] <= PortState.Reserved) return;
  if (domain.hostEvents !== null) {
    // A built-in domain (host-side services): queued for its handler (host-domain.ts).
    domain.hostEvents.raise(port);
    return;
  }
  const vcpu = domain.vcpus[vcpuId];
  const si = sharedInfoAddress(machine, domain);
  if (vcpu === undefined || si < 0) return;
  const o = offsets(machine.arch.dataModel);
  if (testAndSetBit(machine, o, si + o.pending, port)) return;
  if (!testBit(machine, o, si + o.mask, port)) {
    const vi = vcpuInfoAddress(machine, vcpu);
    const wordBits = o.wordBytes * 8;
    if (vi >= 0 && !testAndSetBit(machine, o, vi + o.pendingSel, Math.floor(port / wordBits))) {
      markEventsPending(machine, vcpu);
    }
  }
  checkPollers(machine, domain, port);
}

/** Clears `port`'s pending bit (`evtchn_2l_clear_pending`). */
function clearPending(machine: Machine, domain: Domain, port: number): void {
  const si = sharedInfoAddress(machine, domain);
  if (si < 0) return;
  const o = offsets(machine.arch.dataModel);
  testAndClearBit(machine, o, si + o.pending, port);
}

/** Xen's `evtchn_check_pollers`: wakes vCPUs polling `port` (or polling several ports). */
function checkPollers(machine: Machine, domain: Domain, port: number): void {
  const table = domain.eventChannels;
  const n = table.polling.length;
  for (let id = 0; id < n; id++) {
    if (table.polling[id] === 0) continue;
    const p = table.pollPort[id];
    if (p <= 0 || p === port) {
      endPoll(machine, domain, id);
      const v = domain.vcpus[id];
      if (v !== undefined) machine.wakeVcpu(v);
    }
  }
}

function endPoll(machine: Machine, domain: Domain, id: number): void {
  const table = domain.eventChannels;
  table.polling[id] = 0;
  table.pollPort[id] = 0;
  const t = table.pollTimers[id];
  if (t !== undefined) machine.clock.cancel(t);
}

/**
 * Puts `vcpu` into SCHEDOP_poll's wait: blocked until one of the domain's ports fires
 * (only `singlePort` when it is > 0) or virtual time reaches `timeoutNs` (0: no timeout).
 * The caller has already checked that none of the ports is pending.
 */
export function evtchnStartPoll(
  machine: Machine,
  vcpu: Vcpu,
  singlePort: number,
  timeoutNs: bigint,
): void {
  const domain = vcpu.domain;
  const table = domain.eventChannels;
  const id = vcpu.id;
  table.ensurePollSlot(id);
  table.polling[id] = 1;
  table.pollPort[id] = singlePort > 0 ? singlePort : -1;
  if (timeoutNs !== 0n) {
    let t = table.pollTimers[id];
    if (t === undefined) {
      t = new Timer(() => {
        if (table.polling[id] !== 0) {
          table.polling[id] = 0;
          table.pollPort[id] = 0;
          machine.wakeVcpu(vcpu);
        }
      });
      table.pollTimers[id] = t;
    }
    const deadline =
      timeoutNs > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(timeoutNs);
    machine.clock.arm(t, deadline);
  }
  machine.blockVcpu(vcpu);
}

/** Ends `vcpu`'s SCHEDOP_poll wait, if any, cancelling its timeout (no wake-up). */
export function evtchnEndPoll(machine: Machine, vcpu: Vcpu): void {
  const table = vcpu.domain.eventChannels;
  if (vcpu.id < table.polling.length) endPoll(machine, vcpu.domain, vcpu.id);
}

/** True while `vcpu` waits in SCHEDOP_poll. */
export function evtchnIsPolling(vcpu: Vcpu): boolean {
  const table = vcpu.domain.eventChannels;
  return vcpu.id < table.polling.length && table.polling[vcpu.id] !== 0;
}

// ---------------------------------------------------------------------------------------
// Operations

/**
 * Xen's `get_free_port`: the lowest free port up to the domain's `max_evtchn_port`,
 * growing the table; −EINVAL dying, −ENOSPC full (every port up to the cap in use, or
 * the 2-level ABI's limit reached: `evtchn_allocate_port`).
 */
function getFreePort(domain: Domain): number {
  if (domain.state === DomainState.Dying) return -Errno.EINVAL;
  const table = domain.eventChannels;
  for (let port = 0; port < table.limit && port <= table.maxPort; port++) {
    if (port < table.state.length) {
      if (table.state[port] === PortState.Free) return port;
      continue;
    }
    table.ensure(port);
    return port;
  }
  return -Errno.ENOSPC;
}

/** Frees a port (`evtchn_free`): clears its pending bit, resets its binding to vCPU 0. */
function freePort(machine: Machine, domain: Domain, port: number): void {
  const table = domain.eventChannels;
  clearPending(machine, domain, port);
  table.state[port] = PortState.Free;
  table.notifyVcpu[port] = 0;
  table.remoteDomain[port] = 0;
  table.remotePort[port] = 0;
  table.binding[port] = 0;
}

/**
 * EVTCHNOP_alloc_unbound on `domain` made by `caller` (Xen's `evtchn_alloc_unbound` after
 * the domain lookup): a free port of `domain` that only `remoteDomid` may bind
 * (DOMID_SELF means the caller). The port is allocated before the XSM_TARGET check, so a
 * full table gives −ENOSPC even without permission; −EPERM leaves the port free.
 * `remoteDomid` is not checked for existence, as in Xen.
 */
export function evtchnAllocUnboundFor(
  machine: Machine,
  caller: Domain,
  domain: Domain,
  remoteDomid: number,
): number {
  const port = getFreePort(domain);
  if (port < 0) return port;
  const denied = machine.xsm.evtchnUnbound(caller, domain);
  if (denied !== 0) return denied;
  const table = domain.eventChannels;
  table.state[port] = PortState.Unbound;
  table.remoteDomain[port] = remoteDomid === DomId.SELF ? caller.id : remoteDomid;
  table.remotePort[port] = 0;
  table.binding[port] = 0;
  return port;
}

/** Allocates an unbound port of `domain` that `remoteDomid` may bind: the port, or −errno. */
export function evtchnAllocUnbound(machine: Machine, domain: Domain, remoteDomid: number): number {
  return evtchnAllocUnboundFor(machine, domain, domain, remoteDomid);
}

/**
 * EVTCHNOP_bind_interdomain: connects a new port of `domain` to `remotePort` of
 * `remoteDomid` (DOMID_SELF allowed: loopback), which must be unbound and allocated for
 * `domain`. Returns the local port or −errno (−ESRCH unknown domain, −ENOSPC no free
 * port, −EINVAL bad remote port). The local port is set pending at once, as Xen does
 * for notifications lost while the remote end was unbound.
 */
export function evtchnBindInterdomain(
  machine: Machine,
  domain: Domain,
  remoteDomid: number,
  remotePort: number,
): number {
  const rd = machine.findDomain(remoteDomid, domain);
  if (rd === null) return -Errno.ESRCH;
  const lport = getFreePort(domain);
  if (lport < 0) return lport;
  const rt = rd.eventChannels;
  if (!rt.isValid(remotePort)) return -Errno.EINVAL;
  if (rt.state[remotePort] !== PortState.Unbound || rt.remoteDomain[remotePort] !== domain.id) {
    return -Errno.EINVAL;
  }
  const denied = machine.xsm.evtchnInterdomain(domain, rd);
  if (denied !== 0) return denied;
  const lt = domain.eventChannels;
  lt.state[lport] = PortState.Interdomain;
  lt.remoteDomain[lport] = rd.id;
  lt.remotePort[lport] = remotePort;
  rt.state[remotePort] = PortState.Interdomain;
  rt.remoteDomain[remotePort] = domain.id;
  rt.remotePort[remotePort] = lport;
  evtchnSetPending(machine, domain, lt.notifyVcpu[lport], lport);
  return lport;
}

/** The domain that may bind global VIRQs: the hardware domain (domain 0), as Xen's default handler. */
function isGlobalVirqHandler(domain: Domain): boolean {
  return domain.id === 0;
}

/**
 * EVTCHNOP_bind_virq: binds VIRQ `virq` of vCPU `vcpuId` to a new port. −EINVAL for a
 * VIRQ number ≥ NR_VIRQS (or negative as a C int) or a non-per-vCPU VIRQ on a vCPU other
 * than 0; −ENOENT no such vCPU; −EBUSY a global VIRQ from a domain that is not its
 * handler; −EEXIST already bound; −ENOSPC no free port.
 */
export function evtchnBindVirq(
  machine: Machine,
  domain: Domain,
  virq: number,
  vcpuId: number,
): number {
  const v = virq | 0;
  const id = vcpuId | 0;
  if (v < 0 || v >= NR_VIRQS) return -Errno.EINVAL;
  const type = virqType(v);
  if (type !== VirqType.Vcpu && id !== 0) return -Errno.EINVAL;
  if (id < 0 || domain.vcpus[id] === undefined) return -Errno.ENOENT;
  if (type === VirqType.Global && !isGlobalVirqHandler(domain)) return -Errno.EBUSY;
  const table = domain.eventChannels;
  if (table.virqPort(id, v) !== 0) return -Errno.EEXIST;
  const port = getFreePort(domain);
  if (port < 0) return port;
  table.state[port] = PortState.Virq;
  table.notifyVcpu[port] = id;
  table.binding[port] = v;
  table.setVirqPort(id, v, port);
  return port;
}

/** EVTCHNOP_bind_ipi: a new port notifying vCPU `vcpuId` of `domain`; −ENOENT no such vCPU. */
export function evtchnBindIpi(machine: Machine, domain: Domain, vcpuId: number): number {
  const id = vcpuId | 0;
  if (id < 0 || domain.vcpus[id] === undefined) return -Errno.ENOENT;
  const port = getFreePort(domain);
  if (port < 0) return port;
  const table = domain.eventChannels;
  table.state[port] = PortState.Ipi;
  table.notifyVcpu[port] = id;
  return port;
}

/**
 * EVTCHNOP_bind_vcpu: makes `port` notify vCPU `vcpuId`. −ENOENT no such vCPU (checked
 * first); −EINVAL invalid port, a per-vCPU VIRQ, an IPI, or a free/reserved port.
 * Unbound, interdomain and non-per-vCPU VIRQ ports move.
 */
export function evtchnBindVcpu(
  machine: Machine,
  domain: Domain,
  port: number,
  vcpuId: number,
): number {
  const id = vcpuId | 0;
  if (id < 0 || domain.vcpus[id] === undefined) return -Errno.ENOENT;
  const table = domain.eventChannels;
  if (!table.isValid(port)) return -Errno.EINVAL;
  switch (table.stateOf(port)) {
    case PortState.Virq:
      if (virqType(table.binding[port]) === VirqType.Vcpu) return -Errno.EINVAL;
      table.notifyVcpu[port] = id;
      return 0;
    case PortState.Unbound:
    case PortState.Interdomain:
      table.notifyVcpu[port] = id;
      return 0;
    default:
      return -Errno.EINVAL;
  }
}

/**
 * EVTCHNOP_close (`evtchn_close`): frees `port` of `domain`. −EINVAL for an invalid,
 * free or reserved port. A VIRQ port is unbound from its VIRQ; closing one end of an
 * interdomain channel leaves the other end unbound, bindable again by this domain.
 */
export function evtchnClose(machine: Machine, domain: Domain, port: number): number {
  const table = domain.eventChannels;
  if (!table.isValid(port)) return -Errno.EINVAL;
  switch (table.stateOf(port)) {
    case PortState.Free:
    case PortState.Reserved:
      return -Errno.EINVAL;
    case PortState.Virq: {
      const virq = table.binding[port];
      const owner = virqType(virq) === VirqType.Vcpu ? table.notifyVcpu[port] : 0;
      table.setVirqPort(owner, virq, 0);
      break;
    }
    case PortState.Interdomain: {
      const rd = machine.domains.get(table.remoteDomain[port]);
      const rport = table.remotePort[port];
      if (rd !== undefined && rd.eventChannels.isValid(rport)) {
        const rt = rd.eventChannels;
        rt.state[rport] = PortState.Unbound;
        rt.remoteDomain[rport] = domain.id;
        rt.remotePort[rport] = 0;
      }
      break;
    }
    default:
      break;
  }
  freePort(machine, domain, port);
  return 0;
}

/**
 * EVTCHNOP_send (`evtchn_send`): −EINVAL for an invalid port; the XSM hook; an
 * interdomain port sets the remote port pending on its notified vCPU, an IPI port the
 * local one; an unbound port drops the notification (0); any other state −EINVAL.
 */
export function evtchnSend(machine: Machine, domain: Domain, port: number): number {
  const table = domain.eventChannels;
  if (!table.isValid(port)) return -Errno.EINVAL;
  const denied = machine.xsm.evtchnSend(domain);
  if (denied !== 0) return denied;
  switch (table.stateOf(port)) {
    case PortState.Interdomain: {
      const rd = machine.domains.get(table.remoteDomain[port]);
      const rport = table.remotePort[port];
      if (rd !== undefined && rd.eventChannels.isValid(rport)) {
        evtchnSetPending(machine, rd, rd.eventChannels.notifyVcpu[rport], rport);
      }
      return 0;
    }
    case PortState.Ipi:
      evtchnSetPending(machine, domain, table.notifyVcpu[port], port);
      return 0;
    case PortState.Unbound:
      return 0;
    default:
      return -Errno.EINVAL;
  }
}

/**
 * Raises VIRQ `virq` for `domain` if bound: per-vCPU VIRQs on vCPU `vcpuId`
 * (`send_guest_vcpu_virq`), others on the port's notified vCPU via vCPU 0's binding
 * (`send_guest_domain_virq` / `send_global_virq`). Does nothing when unbound.
 */
export function evtchnSendVirq(
  machine: Machine,
  domain: Domain,
  virq: number,
  vcpuId: number,
): void {
  if (!Number.isInteger(virq) || virq < 0 || virq >= NR_VIRQS) return;
  const table = domain.eventChannels;
  if (virqType(virq) === VirqType.Vcpu) {
    const port = table.virqPort(vcpuId, virq);
    if (port !== 0) evtchnSetPending(machine, domain, vcpuId, port);
  } else {
    const port = table.virqPort(0, virq);
    if (port !== 0) evtchnSetPending(machine, domain, table.notifyVcpu[port], port);
  }
}

/**
 * EVTCHNOP_unmask (`evtchn_unmask` with the 2-level `unmask`): −EINVAL for an invalid
 * port. For a bound port: clears its mask bit; if it was set and the port is pending and
 * the selector bit of the notified vCPU was clear, sets it and marks events pending (the
 * upcall is raised again). A free or reserved valid port is left alone (0).
 */
export function evtchnUnmask(machine: Machine, domain: Domain, port: number): number {
  const table = domain.eventChannels;
  if (!table.isValid(port)) return -Errno.EINVAL;
  if (table.state[port] <= PortState.Reserved) return 0;
  const si = sharedInfoAddress(machine, domain);
  const vcpu = domain.vcpus[table.notifyVcpu[port]];
  if (si < 0 || vcpu === undefined) return 0;
  const o = offsets(machine.arch.dataModel);
  if (testAndClearBit(machine, o, si + o.mask, port) && testBit(machine, o, si + o.pending, port)) {
    const vi = vcpuInfoAddress(machine, vcpu);
    const wordBits = o.wordBytes * 8;
    if (vi >= 0 && !testAndSetBit(machine, o, vi + o.pendingSel, Math.floor(port / wordBits))) {
      markEventsPending(machine, vcpu);
    }
  }
  return 0;
}

/**
 * EVTCHNOP_reset of `domain` by `caller` (after the XSM_TARGET check): closes every
 * port. −EINVAL when `caller` is another domain and `domain` is not paused by the
 * toolstack (Xen: `controller_pause_count` is 0). Ports stay valid (buckets are kept).
 */
export function evtchnReset(machine: Machine, caller: Domain, domain: Domain): number {
  if (domain !== caller && domain.controllerPauseCount === 0) return -Errno.EINVAL;
  const table = domain.eventChannels;
  for (let port = 1; port < table.state.length; port++) {
    if (table.state[port] > PortState.Reserved) evtchnClose(machine, domain, port);
  }
  return 0;
}

/**
 * Xen's `evtchn_destroy`, for a domain being destroyed: closes every port (the remote
 * ends of its interdomain channels become unbound, as on close) and cancels poll
 * timeouts.
 */
export function evtchnDestroy(machine: Machine, domain: Domain): void {
  const table = domain.eventChannels;
  for (let port = 1; port < table.state.length; port++) {
    if (table.state[port] > PortState.Reserved) evtchnClose(machine, domain, port);
  }
  for (const t of table.pollTimers) if (t !== undefined) machine.clock.cancel(t);
  table.polling.fill(0);
  table.pollPort.fill(0);
}
