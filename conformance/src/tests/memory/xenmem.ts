/**
 * A guest's side of memory_op for the memory tests, through the agent: the sub-op's
 * argument laid out by the arch's data model in a reused scratch buffer, extent arrays of
 * `xen_pfn_t` in scratch memory, and the guest's own record of which frame backs each of
 * its pages (the p2m a PV kernel keeps up to date after ballooning).
 *
 * @module
 */
import {
  DomId,
  Hypercall,
  MEMOP_EXTENT_SHIFT,
  MemoryOp,
  XEN_MEMORY_EXCHANGE,
  XEN_MEMORY_RESERVATION,
} from "@hvkit/core";
import type { Agent, StructValues } from "../../agent.js";

/** An array of `xen_pfn_t` in the agent's scratch memory. */
export class FrameList {
  /** Its guest address. */
  readonly va: bigint;
  private readonly size: 4 | 8;

  /** @param agent - the agent. @param length - entries. */
  constructor(
    readonly agent: Agent,
    readonly length: number,
  ) {
    this.size = agent.model.xenPfn;
    this.va = agent.alloc(Math.max(1, length) * this.size, 8);
  }

  /** Entry `i`. */
  get(i: number): bigint {
    return this.agent.readUint(this.at(i), this.size);
  }

  /** Sets entry `i`. */
  set(i: number, value: bigint): void {
    this.agent.writeUint(this.at(i), this.size, value);
  }

  /** Sets entries from 0. */
  fill(values: readonly bigint[]): this {
    values.forEach((v, i) => this.set(i, v));
    return this;
  }

  /** The address of entry `i`. */
  at(i: number): bigint {
    return this.va + BigInt(i * this.size);
  }
}

/** The fields of a `xen_memory_reservation`, by name. */
export interface Reservation {
  /** Guest address of the extent array (0: none), passed as a guest handle. */
  readonly list: bigint;
  /** nr_extents. */
  readonly nr: bigint | number;
  /** extent_order. */
  readonly order?: number;
  /** mem_flags. */
  readonly memFlags?: number;
  /** domid (default DomId.SELF). */
  readonly domid?: number;
}

/** memory_op from the agent's guest. */
export class XenMem {
  private readonly buf: bigint;

  /** @param agent - the agent. */
  constructor(readonly agent: Agent) {
    this.buf = agent.alloc(XEN_MEMORY_EXCHANGE.layout(agent.model).size, 8);
  }

  /** memory_op(`cmd` | `start` << MEMOP_EXTENT_SHIFT, the buffer at `va`). */
  op(cmd: MemoryOp | number, va: bigint, start: bigint | number = 0): bigint {
    const word = BigInt(cmd) | (BigInt(start) << BigInt(MEMOP_EXTENT_SHIFT));
    return this.agent.hypercall(Hypercall.memory_op, word, this.agent.handle(va));
  }

  /** A query taking a `domid_t` (current_reservation, maximum_reservation). */
  query(cmd: MemoryOp, domid: number = DomId.SELF, start = 0): bigint {
    this.agent.writeUint(this.buf, 2, domid);
    return this.op(cmd, this.buf, start);
  }

  /**
   * Gives domain `dom` `n` new pages, as a toolstack does, and says which frames `dom`
   * knows them by. A PV domain names machine frames, which increase_reservation writes
   * back; a translated one names guest frames, and a new page has one only once it is in
   * the domain's physmap — increase_reservation writes nothing back for it
   * (xen/common/memory.c), so this is populate_physmap at its guest frames 0 … n − 1.
   * `what` names the call for a check's message.
   */
  givePages(dom: number, n: number): { what: string; done: bigint; frames: bigint[] } {
    const translated = this.agent.arch.translatedPv === true;
    const list = new FrameList(this.agent, n);
    if (translated) list.fill(Array.from({ length: n }, (_, i) => BigInt(i)));
    const cmd = translated ? MemoryOp.populate_physmap : MemoryOp.increase_reservation;
    const done = this.reservation(cmd, { list: list.va, nr: n, domid: dom });
    const what = `${translated ? "populate_physmap" : "increase_reservation"}(${dom}, ${n})`;
    return { what, done, frames: Array.from({ length: n }, (_, i) => list.get(i)) };
  }

  /** increase_reservation, decrease_reservation or populate_physmap: extents done. */
  reservation(cmd: MemoryOp, r: Reservation, start = 0): bigint {
    this.agent.writeStruct(XEN_MEMORY_RESERVATION, this.buf, this.values("", r));
    return this.op(cmd, this.buf, start);
  }

  /**
   * XENMEM_exchange of `input` for `output` from `nrExchanged` on: its result and the
   * nr_exchanged Xen wrote back.
   */
  exchange(
    input: Reservation,
    output: Reservation,
    nrExchanged: bigint | number = 0,
    start = 0,
  ): { rc: bigint; nrExchanged: bigint } {
    const a = this.agent;
    a.writeStruct(XEN_MEMORY_EXCHANGE, this.buf, {
      ...this.values("in.", input),
      ...this.values("out.", output),
      nr_exchanged: BigInt(nrExchanged),
    });
    const rc = this.op(MemoryOp.exchange, this.buf, start);
    return {
      rc,
      nrExchanged: a.readStruct(XEN_MEMORY_EXCHANGE, this.buf).getBigInt("nr_exchanged"),
    };
  }

  /** current_reservation of the guest itself. */
  current(): bigint {
    return this.query(MemoryOp.current_reservation);
  }

  private values(prefix: string, r: Reservation): StructValues {
    return {
      [`${prefix}extent_start`]: r.list === 0n ? 0n : this.agent.handle(r.list),
      [`${prefix}nr_extents`]: BigInt(r.nr),
      [`${prefix}extent_order`]: r.order ?? 0,
      [`${prefix}mem_flags`]: r.memFlags ?? 0,
      [`${prefix}domid`]: r.domid ?? DomId.SELF,
    };
  }
}
