/**
 * A guest's side of event channels, 2-level ABI, driven through the agent as a kernel
 * drives them: EVTCHNOP_* with their argument structs laid out by the arch's data model,
 * the pending and mask bitmaps and each vCPU's selector and upcall flags read and written
 * in shared_info with the guest's own loads and stores, SCHEDOP_poll / SCHEDOP_block and
 * set_timer_op. Sources: xen/include/public/event_channel.h, xen.h (`struct shared_info`,
 * `struct vcpu_info`), sched.h.
 *
 * Calls are made by vCPU 0 unless a `vcpu` is named: sends, polls and pending bits can be
 * made and read by any started vCPU, each through its own argument buffer written with its
 * own stores (taken from scratch memory by vCPU 0 the first time), so one vCPU can send
 * while another waits in a poll ({@link EventChannels.beginPoll}).
 *
 * @module
 */
import {
  DomId,
  EVTCHN_ALLOC_UNBOUND,
  EVTCHN_BIND_INTERDOMAIN,
  EVTCHN_BIND_IPI,
  EVTCHN_BIND_VCPU,
  EVTCHN_BIND_VIRQ,
  EVTCHN_RESET,
  EVTCHN_SEND,
  EVTCHN_STATUS,
  EventChannelOp,
  Hypercall,
  SCHED_POLL,
  SHARED_INFO,
  AgentOp,
  SchedOp,
  type StructDef,
  type StructLayout,
  type StructRef,
} from "@hvkit/core";
import { AgentError, type Agent, type StructValues } from "./agent.js";
import { ConformanceFailure } from "./conformance-test.js";

/** What a binding operation returned. */
export interface Bound {
  /** The hypercall's result (0 or −errno). */
  readonly rc: bigint;
  /** The port it wrote back (meaningful when `rc` is 0). */
  readonly port: number;
}

/** EVTCHNOP_status's answer. */
export interface PortStatus {
  /** The hypercall's result. */
  readonly rc: bigint;
  /** `status` (EVTCHNSTAT_*). */
  readonly status: number;
  /** `vcpu`: the vCPU the port notifies. */
  readonly vcpu: number;
  /** The whole struct as written back, for the state-specific union members. */
  readonly out: StructRef;
}

/**
 * Written into OUT fields before a call, so that a field the hypervisor fails to write
 * reads as neither 0 nor a plausible port (the C guests memset 0x5a).
 */
const UNWRITTEN = 0x5a5a5a5a;

/** Bytes of the scratch buffer that holds one argument struct (the largest is 24). */
const ARG_BYTES = 64;

/** Bytes of the port array of SCHEDOP_poll (room for twice the 128 ports Xen accepts). */
const POLL_ARRAY_BYTES = 4 * 256;

/**
 * The longest {@link EventChannels.waitFor} and {@link EventChannels.pollUntil} wait, in ns
 * of system time (1 s): hvkit's clock jumps from timer to timer while every vCPU waits, so
 * a wait for a port that never turns pending must end by itself.
 */
export const WAIT_LIMIT_NS = 1_000_000_000n;

/** A vCPU's argument buffers. */
interface VcpuBuffers {
  readonly arg: bigint;
  ports: bigint;
}

/** Event channels of the agent's domain, as its kernel sees them. */
export class EventChannels {
  /** BITS_PER_EVTCHN_WORD: bits of one `xen_ulong_t` word of the bitmaps (and of a selector). */
  readonly wordBits: number;
  /** Ports of the 2-level ABI: BITS_PER_EVTCHN_WORD² (event_2l.c). */
  readonly portLimit: number;
  private readonly wordBytes: 4 | 8;
  private readonly shared: StructLayout;
  private readonly buffers = new Map<number, VcpuBuffers>();

  /** @param agent - the booted agent. */
  constructor(readonly agent: Agent) {
    this.wordBytes = agent.model.xenUlong;
    this.wordBits = this.wordBytes * 8;
    this.portLimit = this.wordBits * this.wordBits;
    this.shared = SHARED_INFO.layout(agent.model);
    this.buffers.set(0, { arg: agent.alloc(ARG_BYTES), ports: 0n });
  }

  // ----- EVTCHNOP_* -----

  /**
   * Lays out `def` with `values` in vCPU `vcpu`'s argument buffer, makes event_channel_op
   * `cmd` on it from that vCPU, and reads it back.
   */
  op(
    cmd: EventChannelOp,
    def: StructDef,
    values: StructValues,
    vcpu = 0,
  ): { rc: bigint; out: StructRef } {
    const a = this.agent;
    const arg = this.buffersOf(vcpu).arg;
    a.write(arg, a.structBytes(def, values), vcpu);
    const rc = a.vcpu(vcpu).hypercall(Hypercall.event_channel_op, cmd, a.handle(arg));
    return { rc, out: a.readStruct(def, arg, vcpu) };
  }

  /** event_channel_op `cmd` with a raw argument pointer (e.g. an unmapped one). */
  opAt(cmd: EventChannelOp | number, va: bigint): bigint {
    return this.agent.hypercall(Hypercall.event_channel_op, cmd, this.agent.handle(va));
  }

  /** EVTCHNOP_alloc_unbound in domain `dom` for `remoteDom`. */
  allocUnbound(dom: number, remoteDom: number): Bound {
    return this.bound(EventChannelOp.alloc_unbound, EVTCHN_ALLOC_UNBOUND, "port", {
      dom,
      remote_dom: remoteDom,
      port: UNWRITTEN,
    });
  }

  /** EVTCHNOP_bind_interdomain to `remotePort` of `remoteDom`. */
  bindInterdomain(remoteDom: number, remotePort: number): Bound {
    return this.bound(EventChannelOp.bind_interdomain, EVTCHN_BIND_INTERDOMAIN, "local_port", {
      remote_dom: remoteDom,
      remote_port: remotePort,
      local_port: UNWRITTEN,
    });
  }

  /** EVTCHNOP_bind_virq of `virq` on `vcpu`. */
  bindVirq(virq: number, vcpu: number): Bound {
    return this.bound(EventChannelOp.bind_virq, EVTCHN_BIND_VIRQ, "port", {
      virq,
      vcpu,
      port: UNWRITTEN,
    });
  }

  /** EVTCHNOP_bind_ipi for `vcpu`. */
  bindIpi(vcpu: number): Bound {
    return this.bound(EventChannelOp.bind_ipi, EVTCHN_BIND_IPI, "port", {
      vcpu,
      port: UNWRITTEN,
    });
  }

  /** EVTCHNOP_bind_vcpu: `port` notifies `vcpu` from now on. */
  bindVcpu(port: number, vcpu: number): bigint {
    return this.op(EventChannelOp.bind_vcpu, EVTCHN_BIND_VCPU, { port, vcpu }).rc;
  }

  /** EVTCHNOP_status of `port` in `dom`. */
  status(dom: number, port: number): PortStatus {
    const { rc, out } = this.op(EventChannelOp.status, EVTCHN_STATUS, {
      dom,
      port,
      status: UNWRITTEN,
      vcpu: UNWRITTEN,
      "u.interdomain.dom": 0x5a5a,
      "u.interdomain.port": UNWRITTEN,
    });
    return { rc, status: out.getNumber("status"), vcpu: out.getNumber("vcpu"), out };
  }

  /** EVTCHNOP_send, close or unmask of `port` (each takes `{ evtchn_port_t port }`). */
  portOp(
    cmd: EventChannelOp.send | EventChannelOp.close | EventChannelOp.unmask,
    port: number,
    vcpu = 0,
  ): bigint {
    return this.op(cmd, EVTCHN_SEND, { port }, vcpu).rc;
  }

  /** EVTCHNOP_send, from vCPU `vcpu`. */
  send(port: number, vcpu = 0): bigint {
    return this.portOp(EventChannelOp.send, port, vcpu);
  }

  /** EVTCHNOP_close. */
  close(port: number): bigint {
    return this.portOp(EventChannelOp.close, port);
  }

  /** EVTCHNOP_unmask. */
  unmask(port: number): bigint {
    return this.portOp(EventChannelOp.unmask, port);
  }

  /** EVTCHNOP_reset of domain `dom` (default: the caller). */
  reset(dom: number = DomId.SELF): bigint {
    return this.op(EventChannelOp.reset, EVTCHN_RESET, { dom }).rc;
  }

  // ----- shared_info, as the guest reads and writes it -----

  /** The port's bit in `evtchn_pending`, read by vCPU `vcpu`. */
  pending(port: number, vcpu = 0): boolean {
    return this.bit("evtchn_pending", port, vcpu);
  }

  /** The port's bit in `evtchn_mask`. */
  masked(port: number): boolean {
    return this.bit("evtchn_mask", port);
  }

  /** Word `word` of `evtchn_pending`. */
  pendingWord(word: number): bigint {
    return this.agent.readUint(this.wordVa("evtchn_pending", word), this.wordBytes);
  }

  /** Clears the port's pending bit (by vCPU `vcpu`), as an upcall handler does before handling it. */
  clearPending(port: number, vcpu = 0): void {
    this.setBit("evtchn_pending", port, false, vcpu);
  }

  /** Sets the port's mask bit. */
  mask(port: number): void {
    this.setBit("evtchn_mask", port, true);
  }

  /**
   * Clears the port's mask bit with a store, as a guest may (unlike EVTCHNOP_unmask, the
   * hypervisor is not told: an event already pending raises nothing now).
   */
  clearMask(port: number): void {
    this.setBit("evtchn_mask", port, false);
  }

  /** The bit of a vCPU's `evtchn_pending_sel` that stands for `port`'s bitmap word. */
  selectorBit(port: number): bigint {
    return 1n << BigInt(Math.floor(port / this.wordBits));
  }

  /** Masks every port, as a kernel does before it binds any (Linux's xen_init_IRQ). */
  maskAll(): void {
    const all = new Uint8Array(this.shared.sizeOf("evtchn_mask")).fill(0xff);
    this.agent.write(this.wordVa("evtchn_mask", 0), all);
  }

  /** `evtchn_pending_sel` of vCPU `vcpu`'s vcpu_info in shared_info. */
  selector(vcpu: number): bigint {
    return this.agent.readUint(this.vcpuInfoField(vcpu, "evtchn_pending_sel"), this.wordBytes);
  }

  /** `evtchn_upcall_pending` of vCPU `vcpu`. */
  upcallPending(vcpu: number): number {
    return Number(this.agent.readUint(this.vcpuInfoField(vcpu, "evtchn_upcall_pending"), 1));
  }

  /** `evtchn_upcall_mask` of vCPU `vcpu`. */
  upcallMask(vcpu: number): number {
    return Number(this.agent.readUint(this.vcpuInfoField(vcpu, "evtchn_upcall_mask"), 1));
  }

  /**
   * Writes `evtchn_upcall_mask` of vCPU `vcpu` (0 enables events, as Linux's
   * xen_irq_enable; an upcall already pending is delivered on the way back from the
   * next hypercall, or any other entry to the hypervisor).
   */
  setUpcallMask(vcpu: number, value: 0 | 1): void {
    this.agent.writeUint(this.vcpuInfoField(vcpu, "evtchn_upcall_mask"), 1, value);
  }

  /** Clears vCPU `vcpu`'s selector and upcall_pending, as an upcall handler's scan does. */
  clearVcpuBits(vcpu: number): void {
    this.agent.writeUint(this.vcpuInfoField(vcpu, "evtchn_pending_sel"), this.wordBytes, 0);
    this.agent.writeUint(this.vcpuInfoField(vcpu, "evtchn_upcall_pending"), 1, 0);
  }

  /** Sets vCPU `vcpu`'s selector word. */
  setSelector(vcpu: number, value: bigint): void {
    this.agent.writeUint(this.vcpuInfoField(vcpu, "evtchn_pending_sel"), this.wordBytes, value);
  }

  // ----- sched_op and the timer -----

  /**
   * SCHEDOP_poll on `ports` until `timeout` (absolute system time in ns, 0 none), with
   * `nrPorts` (default: their number) in the struct, from vCPU `vcpu`.
   */
  poll(ports: readonly number[], timeout: bigint, nrPorts = ports.length, vcpu = 0): bigint {
    this.beginPoll(ports, timeout, vcpu, nrPorts);
    return this.agent.complete(vcpu);
  }

  /**
   * Starts {@link EventChannels.poll} on vCPU `vcpu` without waiting for it to return;
   * `agent.complete(vcpu)` (or `finish`) waits. For a vCPU another one wakes.
   */
  beginPoll(ports: readonly number[], timeout: bigint, vcpu: number, nrPorts = ports.length): void {
    const bytes = new Uint8Array(Math.max(4, ports.length * 4));
    const view = new DataView(bytes.buffer);
    ports.forEach((p, i) => view.setUint32(i * 4, p, this.agent.model.littleEndian));
    const b = this.buffersOf(vcpu);
    if (b.ports === 0n) b.ports = this.agent.alloc(POLL_ARRAY_BYTES);
    if (bytes.length > POLL_ARRAY_BYTES) throw new AgentError(`a poll of ${ports.length} ports`);
    this.agent.write(b.ports, bytes, vcpu);
    this.beginPollAt(this.agent.handle(b.ports), nrPorts, timeout, vcpu);
  }

  /** SCHEDOP_poll with `ports` as the raw value of the struct's port-array handle. */
  pollAt(ports: bigint, nrPorts: number, timeout: bigint): bigint {
    this.beginPollAt(ports, nrPorts, timeout, 0);
    return this.agent.complete(0);
  }

  /**
   * A SCHEDOP_poll timeout for vCPU `vcpu`: {@link WAIT_LIMIT_NS} from now, so that a wait
   * for an event that never comes ends (and the port reads not pending) instead of
   * leaving every vCPU blocked.
   */
  waitDeadline(vcpu = 0): bigint {
    return this.agent.systemTime(vcpu) + WAIT_LIMIT_NS;
  }

  /**
   * Polls `port` from vCPU `vcpu` until it is pending or system time reaches `deadline`
   * (0: none of the test's own; never more than {@link WAIT_LIMIT_NS}); returns whether it
   * is pending (the bit is left set).
   */
  pollUntil(port: number, deadline: bigint, vcpu = 0): boolean {
    const limit = this.waitDeadline(vcpu);
    const until = deadline !== 0n && deadline < limit ? deadline : limit;
    for (;;) {
      if (this.pending(port, vcpu)) return true;
      this.poll([port], until, 1, vcpu);
      if (this.agent.systemTime(vcpu) >= until) return this.pending(port, vcpu);
    }
  }

  /**
   * The C guests' wait: SCHEDOP_poll on `port` from vCPU `vcpu` until its pending bit is
   * set (a poll may return early), then clears the bit. Throws a `ConformanceFailure`
   * when the port is not pending within {@link WAIT_LIMIT_NS}.
   */
  waitFor(port: number, vcpu = 0): void {
    if (!this.pollUntil(port, 0n, vcpu)) {
      throw new ConformanceFailure(
        `port ${port} was not pending within ${WAIT_LIMIT_NS / 1_000_000n} ms of SCHEDOP_poll on vCPU ${vcpu}`,
      );
    }
    this.clearPending(port, vcpu);
  }

  /** SCHEDOP_block. */
  block(): bigint {
    return this.agent.hypercall(Hypercall.sched_op, SchedOp.block, 0);
  }

  /**
   * set_timer_op(`deadline`), absolute system time in ns: one argument on a 64-bit
   * guest, the low and high halves on a 32-bit one (`long` is the register width).
   */
  setTimer(deadline: bigint): bigint {
    const bits = BigInt(this.agent.model.long * 8);
    const low = BigInt.asUintN(Number(bits), deadline);
    return this.agent.hypercall(Hypercall.set_timer_op, low, deadline >> bits);
  }

  private bound(cmd: EventChannelOp, def: StructDef, out: string, values: StructValues): Bound {
    const r = this.op(cmd, def, values);
    return { rc: r.rc, port: r.out.getNumber(out) };
  }

  private beginPollAt(ports: bigint, nrPorts: number, timeout: bigint, vcpu: number): void {
    const a = this.agent;
    const arg = this.buffersOf(vcpu).arg;
    a.write(arg, a.structBytes(SCHED_POLL, { ports, nr_ports: nrPorts, timeout }), vcpu);
    a.begin(vcpu, AgentOp.Hypercall, [Hypercall.sched_op, SchedOp.poll, a.handle(arg)]);
  }

  private buffersOf(vcpu: number): VcpuBuffers {
    let b = this.buffers.get(vcpu);
    if (b === undefined) {
      b = { arg: this.agent.alloc(ARG_BYTES), ports: 0n };
      this.buffers.set(vcpu, b);
    }
    return b;
  }

  private wordVa(array: "evtchn_pending" | "evtchn_mask", word: number): bigint {
    return this.agent.boot.sharedInfo + BigInt(this.shared.offsetOf(`${array}.${word}`));
  }

  private bit(array: "evtchn_pending" | "evtchn_mask", port: number, vcpu = 0): boolean {
    const word = this.agent.readUint(
      this.wordVa(array, Math.floor(port / this.wordBits)),
      this.wordBytes,
      vcpu,
    );
    return ((word >> BigInt(port % this.wordBits)) & 1n) !== 0n;
  }

  private setBit(
    array: "evtchn_pending" | "evtchn_mask",
    port: number,
    on: boolean,
    vcpu = 0,
  ): void {
    const va = this.wordVa(array, Math.floor(port / this.wordBits));
    const word = this.agent.readUint(va, this.wordBytes, vcpu);
    const b = 1n << BigInt(port % this.wordBits);
    this.agent.writeUint(va, this.wordBytes, on ? word | b : word & ~b, vcpu);
  }

  private vcpuInfoField(vcpu: number, field: string): bigint {
    return this.agent.boot.sharedInfo + BigInt(this.shared.offsetOf(`vcpu_info.${vcpu}.${field}`));
  }
}
