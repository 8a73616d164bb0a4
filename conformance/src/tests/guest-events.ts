/**
 * The event-channel calls a kernel makes to wait for events without taking upcalls, done
 * through the agent for tests written once for every arch: bind a VIRQ or an IPI port
 * (event_channel.h), send, and wait in SCHEDOP_poll (sched.h) until a port is pending,
 * its bit read from shared_info ({@link GuestSharedInfo}). Each vCPU sends and polls
 * through its own argument block, written by its own stores, so one vCPU can send while
 * another waits ({@link GuestEvents.beginPoll}); the block is taken from scratch memory
 * (by vCPU 0) the first time a vCPU needs it.
 *
 * @module
 */
import {
  EVTCHN_BIND_IPI,
  EVTCHN_BIND_VIRQ,
  EVTCHN_SEND,
  EventChannelOp,
  Hypercall,
  SCHED_POLL,
  SchedOp,
  AgentOp,
} from "@hvkit/core";
import type { Agent } from "../agent.js";
import { ConformanceFailure } from "../conformance-test.js";
import type { GuestSharedInfo } from "./shared-info.js";

/** A bind's result: the hypercall's return value and the port it gave (0 when it failed). */
export interface Bound {
  /** The hypercall's result. */
  readonly result: bigint;
  /** The port (`port` OUT field). */
  readonly port: number;
}

/** Ports one poll can name (the tests here name one). */
const MAX_POLL_PORTS = 4;
/** The longest a wait for an event lasts, in ns of system time (1 s). */
export const WAIT_LIMIT_NS = 1_000_000_000n;

interface ArgBlock {
  readonly poll: bigint;
  readonly ports: bigint;
  readonly send: bigint;
}

/** Event channels as the agent's kernel uses them. */
export class GuestEvents {
  private readonly blocks = new Map<number, ArgBlock>();

  /** @param agent - the booted agent. @param shared - its shared_info. */
  constructor(
    readonly agent: Agent,
    readonly shared: GuestSharedInfo,
  ) {}

  /** EVTCHNOP_bind_virq: a port for `virq` delivered to vCPU `vcpu`. */
  bindVirq(virq: number, vcpu = 0): Bound {
    const arg = this.agent.placeStruct(EVTCHN_BIND_VIRQ, { virq, vcpu });
    const result = this.agent.hypercall(
      Hypercall.event_channel_op,
      EventChannelOp.bind_virq,
      this.agent.handle(arg),
    );
    return { result, port: this.agent.readStruct(EVTCHN_BIND_VIRQ, arg).getNumber("port") };
  }

  /** EVTCHNOP_bind_ipi: a port that notifies vCPU `vcpu` of the caller's domain. */
  bindIpi(vcpu: number): Bound {
    const arg = this.agent.placeStruct(EVTCHN_BIND_IPI, { vcpu });
    const result = this.agent.hypercall(
      Hypercall.event_channel_op,
      EventChannelOp.bind_ipi,
      this.agent.handle(arg),
    );
    return { result, port: this.agent.readStruct(EVTCHN_BIND_IPI, arg).getNumber("port") };
  }

  /** EVTCHNOP_send on `port` from vCPU `vcpu`. */
  send(port: number, vcpu = 0): bigint {
    const arg = this.block(vcpu).send;
    this.agent.write(arg, this.agent.structBytes(EVTCHN_SEND, { port }), vcpu);
    return this.agent
      .vcpu(vcpu)
      .hypercall(Hypercall.event_channel_op, EventChannelOp.send, this.agent.handle(arg));
  }

  /**
   * SCHEDOP_poll from vCPU `vcpu` on `ports` (none: a sleep) until one is pending or system
   * time reaches `timeout` (0: no timeout). Returns its result.
   */
  poll(ports: readonly number[], timeout = 0n, vcpu = 0): bigint {
    this.beginPoll(ports, timeout, vcpu);
    return this.agent.complete(vcpu);
  }

  /**
   * Starts {@link GuestEvents.poll} on vCPU `vcpu` without waiting for it to return (the
   * caller finishes it with `agent.complete(vcpu)`), for a vCPU another one wakes.
   */
  beginPoll(ports: readonly number[], timeout: bigint, vcpu: number): void {
    if (ports.length > MAX_POLL_PORTS)
      throw new RangeError(`a poll here names at most ${MAX_POLL_PORTS} ports`);
    const block = this.block(vcpu);
    const agent = this.agent;
    const portBytes = new Uint8Array(4 * MAX_POLL_PORTS);
    const view = new DataView(portBytes.buffer);
    ports.forEach((p, i) => view.setUint32(4 * i, p, agent.model.littleEndian));
    agent.write(block.ports, portBytes, vcpu);
    const args = agent.structBytes(SCHED_POLL, {
      ports: ports.length > 0 ? agent.handle(block.ports) : 0n,
      nr_ports: ports.length,
      timeout,
    });
    agent.write(block.poll, args, vcpu);
    agent.begin(vcpu, AgentOp.Hypercall, [
      Hypercall.sched_op,
      SchedOp.poll,
      agent.handle(block.poll),
    ]);
  }

  /**
   * A SCHEDOP_poll timeout for vCPU `vcpu`: {@link WAIT_LIMIT_NS} from now, so that a wait
   * for an event that never comes ends (and the test sees the port not pending) instead
   * of leaving every vCPU blocked.
   */
  waitDeadline(vcpu = 0): bigint {
    return this.shared.systemTime(this.agent.vcpuInfo(vcpu), vcpu) + WAIT_LIMIT_NS;
  }

  /**
   * The C guests' wait: SCHEDOP_poll on `port` from vCPU `vcpu` until its pending bit is
   * set (a poll may return early), then clears the bit. Throws a {@link ConformanceFailure}
   * when the port is not pending within {@link WAIT_LIMIT_NS} of system time.
   */
  waitFor(port: number, vcpu = 0): void {
    if (!this.pollUntil(port, 0n, vcpu)) {
      throw new ConformanceFailure(
        `port ${port} was not pending within ${WAIT_LIMIT_NS / 1_000_000n} ms of SCHEDOP_poll on vCPU ${vcpu}`,
      );
    }
    this.shared.clearPending(port, vcpu);
  }

  /**
   * Polls `port` from vCPU `vcpu` until it is pending or system time reaches `deadline` (0:
   * no deadline of the test's own); returns whether it is pending (the bit is left set).
   * System time is read from the vCPU's vcpu_info as the agent knows it
   * (`agent.vcpuInfo`, so after a move too). A wait never lasts more than
   * {@link WAIT_LIMIT_NS}: hvkit's clock jumps from timer to timer while every vCPU waits,
   * so a port that never turns pending must not keep the test polling.
   */
  pollUntil(port: number, deadline: bigint, vcpu = 0): boolean {
    const info = this.agent.vcpuInfo(vcpu);
    const limit = this.waitDeadline(vcpu);
    const until = deadline !== 0n && deadline < limit ? deadline : limit;
    for (;;) {
      if (this.shared.pending(port, vcpu)) return true;
      this.poll([port], until, vcpu);
      if (this.shared.systemTime(info, vcpu) >= until) return this.shared.pending(port, vcpu);
    }
  }

  private block(vcpu: number): ArgBlock {
    let b = this.blocks.get(vcpu);
    if (b === undefined) {
      b = {
        poll: this.agent.placeStruct(SCHED_POLL, {}),
        ports: this.agent.alloc(4 * MAX_POLL_PORTS, 8),
        send: this.agent.placeStruct(EVTCHN_SEND, {}),
      };
      this.blocks.set(vcpu, b);
    }
    return b;
  }
}
