/**
 * The vcpu_op calls a kernel makes (vcpu.h) and SCHEDOP_yield, done through
 * the agent for tests written once for every arch, each argument struct laid out by the
 * arch's data model. Each vCPU writes its arguments into its own block with its own stores
 * (taken from scratch memory by vCPU 0 the first time), so a vCPU can make these calls
 * while another one is busy or down.
 *
 * @module
 */
import {
  Hypercall,
  SchedOp,
  VCPU_RUNSTATE_INFO,
  VCPU_SET_PERIODIC_TIMER,
  VCPU_SET_SINGLESHOT_TIMER,
  VcpuOp,
  type StructDef,
} from "@hvkit/core";
import type { Agent, StructValues } from "../agent.js";

/** A vCPU's `struct vcpu_runstate_info` as VCPUOP_get_runstate_info returned it. */
export interface Runstate {
  /** The call's result. */
  readonly result: bigint;
  /** `state`: RUNSTATE_running 0, runnable 1, blocked 2, offline 3. */
  readonly state: number;
  /** `state_entry_time`. */
  readonly entryTime: bigint;
  /** `time[4]`: ns spent in each state. */
  readonly time: readonly bigint[];
  /** The sum of `time`: Xen's NOW() when the call was made (`vcpu_runstate_get`). */
  readonly sum: bigint;
}

interface ArgBlock {
  readonly runstate: bigint;
  readonly timer: bigint;
}

/** SCHEDOP_yield calls {@link GuestVcpus.yieldUntil} makes before it gives up. */
const MAX_YIELDS = 50;

/** Bytes of each vCPU's argument block (the largest argument is vcpu_runstate_info). */
const BLOCK_BYTES = 64;

/** vcpu_op and the timer calls, as the agent's kernel makes them. */
export class GuestVcpus {
  private readonly blocks = new Map<number, ArgBlock>();

  /** @param agent - the booted agent. */
  constructor(readonly agent: Agent) {}

  /** `vcpu_op(cmd, id, arg)` from vCPU `vcpu`. */
  op(cmd: VcpuOp, id: number, arg: bigint = 0n, vcpu = 0): bigint {
    return this.agent.vcpu(vcpu).hypercall(Hypercall.vcpu_op, cmd, id, arg);
  }

  /**
   * VCPUOP_initialise of vCPU `id` from vCPU 0 with `context` (a `vcpu_guest_context` laid
   * out by the arch, e.g. the arch's `secondaryVcpuContext` or one of its
   * `refusedVcpuContexts`), placed in scratch memory.
   */
  initialise(id: number, context: Uint8Array): bigint {
    return this.op(VcpuOp.initialise, id, this.agent.handle(this.agent.place(context, 16)));
  }

  /** VCPUOP_is_up of vCPU `id`, asked by vCPU `vcpu`. */
  isUp(id: number, vcpu = 0): bigint {
    return this.op(VcpuOp.is_up, id, 0n, vcpu);
  }

  /**
   * VCPUOP_get_runstate_info of vCPU `id`, asked by vCPU `vcpu`; the buffer is filled with
   * 0xff first, so fields Xen does not write show.
   */
  runstate(id: number, vcpu = 0): Runstate {
    const va = this.block(vcpu).runstate;
    const layout = VCPU_RUNSTATE_INFO.layout(this.agent.arch.dataModel);
    this.agent.write(va, new Uint8Array(layout.size).fill(0xff), vcpu);
    const result = this.op(VcpuOp.get_runstate_info, id, this.agent.handle(va), vcpu);
    const r = this.agent.readStruct(VCPU_RUNSTATE_INFO, va, vcpu);
    const time = [0, 1, 2, 3].map((s) => r.getBigInt(`time.${s}`));
    return {
      result,
      state: r.getNumber("state"),
      entryTime: r.getBigInt("state_entry_time"),
      time,
      sum: time.reduce((a, b) => a + b, 0n),
    };
  }

  /** VCPUOP_set_singleshot_timer for vCPU `id` at system time `deadline`, from vCPU `vcpu`. */
  singleshot(id: number, deadline: bigint, flags = 0, vcpu = 0): bigint {
    const arg = this.timerArg(VCPU_SET_SINGLESHOT_TIMER, { timeout_abs_ns: deadline, flags }, vcpu);
    return this.op(VcpuOp.set_singleshot_timer, id, arg, vcpu);
  }

  /** VCPUOP_set_periodic_timer for vCPU `id` every `periodNs`, from vCPU `vcpu`. */
  periodic(id: number, periodNs: bigint, vcpu = 0): bigint {
    const arg = this.timerArg(VCPU_SET_PERIODIC_TIMER, { period_ns: periodNs }, vcpu);
    return this.op(VcpuOp.set_periodic_timer, id, arg, vcpu);
  }

  /** SCHEDOP_yield from vCPU `vcpu`. */
  yield(vcpu = 0): bigint {
    return this.agent.vcpu(vcpu).hypercall(Hypercall.sched_op, SchedOp.yield, 0);
  }

  /**
   * vCPU `vcpu` yields until `done()` holds, at most 50 times, so that the
   * other vCPUs get to run (a request on one vCPU runs the machine only until that vCPU
   * waits again); returns whether `done()` came to hold.
   */
  yieldUntil(vcpu: number, done: () => boolean): boolean {
    for (let i = 0; i < MAX_YIELDS; i++) {
      if (done()) return true;
      this.yield(vcpu);
    }
    return done();
  }

  private timerArg(def: StructDef, values: StructValues, vcpu: number): bigint {
    const va = this.block(vcpu).timer;
    this.agent.write(va, this.agent.structBytes(def, values), vcpu);
    return this.agent.handle(va);
  }

  private block(vcpu: number): ArgBlock {
    let b = this.blocks.get(vcpu);
    if (b === undefined) {
      b = { runstate: this.agent.alloc(BLOCK_BYTES, 8), timer: this.agent.alloc(BLOCK_BYTES, 8) };
      this.blocks.set(vcpu, b);
    }
    return b;
  }
}
