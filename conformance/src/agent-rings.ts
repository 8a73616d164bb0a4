/**
 * A domU's two boot rings — its PV console and its xenstore connection — driven from the
 * guest side through the agent: every index and byte is read and written by the guest's
 * own loads and stores in the ring page it mapped, and the other end is told with
 * EVTCHNOP_send, as a kernel's console and xenbus drivers do (io/console.h,
 * io/xs_wire.h, docs/misc/xenstore-ring.txt: free-running u32 indexes, masked by the ring
 * size, bytes written before the index that publishes them).
 *
 * @module
 */
import {
  XENCONS_IN_SIZE,
  XENCONS_INTERFACE,
  XENCONS_OUT_SIZE,
  XENSTORE_DOMAIN_INTERFACE,
  XENSTORE_RING_SIZE,
  type StructLayout,
} from "@hvkit/core";
import { XenbusClient, type XenbusTransport } from "@hvkit/guests";
import { AgentError, type Agent } from "./agent.js";
import { EventChannels } from "./event-channels.js";

/** Kicks in a row that found no reply before the transport gives up (EIO). */
const IDLE_KICKS = 4;

/**
 * Makes boot-info frame `frame` reachable by the agent in window page `slot` (writable),
 * with the arch's `GuestAgent.mapFrame` (feature `frames`), or finds it where an
 * untranslated agent reaches it (`GuestAgent.frameAddress`); returns its address.
 */
export function mapBootFrame(agent: Agent, frame: bigint, slot: number): bigint {
  if (agent.spec.frameAddress !== undefined) return agent.spec.frameAddress(agent, frame);
  const va = agent.boot.window + BigInt(slot * agent.pageSize);
  const rc = agent.mapFrame(va, frame, true);
  if (rc !== 0n)
    throw new AgentError(`mapping frame ${frame} at ${va.toString(16)} returned ${rc}`);
  return va;
}

/** A ring of `size` bytes at `ring` in a page at `page`, with its two indexes. */
class ByteRing {
  constructor(
    private readonly agent: Agent,
    private readonly page: bigint,
    private readonly ring: number,
    private readonly size: number,
    private readonly cons: number,
    private readonly prod: number,
  ) {}

  private index(offset: number): number {
    return Number(this.agent.readUint(this.page + BigInt(offset), 4));
  }

  /** Producer side: copies as much of `bytes` as fits, then publishes; returns the count. */
  produce(bytes: Uint8Array): number {
    const cons = this.index(this.cons);
    let prod = this.index(this.prod);
    const room = this.size - ((prod - cons) >>> 0);
    const n = Math.min(room, bytes.length);
    for (let done = 0; done < n;) {
      const at = prod & (this.size - 1);
      const run = Math.min(n - done, this.size - at);
      this.agent.write(this.page + BigInt(this.ring + at), bytes.subarray(done, done + run));
      done += run;
      prod = (prod + run) >>> 0;
    }
    this.agent.writeUint(this.page + BigInt(this.prod), 4, prod);
    return n;
  }

  /** Consumer side: takes up to `max` bytes and moves the consumer index past them. */
  consume(max: number): Uint8Array {
    let cons = this.index(this.cons);
    const prod = this.index(this.prod);
    const n = Math.min(max, (prod - cons) >>> 0, this.size);
    const out = new Uint8Array(n);
    for (let done = 0; done < n;) {
      const at = cons & (this.size - 1);
      const run = Math.min(n - done, this.size - at);
      out.set(this.agent.read(this.page + BigInt(this.ring + at), run), done);
      done += run;
      cons = (cons + run) >>> 0;
    }
    this.agent.writeUint(this.page + BigInt(this.cons), 4, cons);
    return out;
  }
}

function ring(
  agent: Agent,
  page: bigint,
  layout: StructLayout,
  name: string,
  size: number,
  cons: string,
  prod: string,
): ByteRing {
  return new ByteRing(
    agent,
    page,
    layout.offsetOf(name),
    size,
    layout.offsetOf(cons),
    layout.offsetOf(prod),
  );
}

/** The guest's end of its xenstore ring, as a {@link XenbusTransport}. */
export class AgentStoreTransport implements XenbusTransport {
  /** {@inheritDoc XenbusTransport.littleEndian} */
  readonly littleEndian: boolean;
  private readonly req: ByteRing;
  private readonly rsp: ByteRing;
  private readonly events: EventChannels;
  private idle = 0;

  /**
   * @param agent - the agent.
   * @param page - where the agent mapped the store ring page.
   * @param port - the store event channel.
   */
  constructor(
    agent: Agent,
    readonly page: bigint,
    private readonly port: number,
  ) {
    const l = XENSTORE_DOMAIN_INTERFACE.layout(agent.arch.dataModel);
    this.littleEndian = agent.model.littleEndian;
    this.req = ring(agent, page, l, "req", XENSTORE_RING_SIZE, "req_cons", "req_prod");
    this.rsp = ring(agent, page, l, "rsp", XENSTORE_RING_SIZE, "rsp_cons", "rsp_prod");
    this.events = new EventChannels(agent);
  }

  /** {@inheritDoc XenbusTransport.write} */
  write(bytes: Uint8Array): number {
    return this.req.produce(bytes);
  }

  /** {@inheritDoc XenbusTransport.read} */
  read(max: number): Uint8Array {
    const bytes = this.rsp.consume(max);
    if (bytes.length > 0) this.idle = 0;
    return bytes;
  }

  /** {@inheritDoc XenbusTransport.kick} Notifies xenstored, which answers before the guest's next step. */
  kick(): boolean {
    this.events.send(this.port);
    return ++this.idle <= IDLE_KICKS;
  }
}

/** A xenbus client over the domain's store ring (mapped in window page `slot`). */
export function storeClient(
  agent: Agent,
  storeFrame: bigint,
  port: number,
  slot = 0,
): XenbusClient {
  return new XenbusClient(
    new AgentStoreTransport(agent, mapBootFrame(agent, storeFrame, slot), port),
  );
}

/** The guest's end of its PV console ring. */
export class AgentConsole {
  private readonly out: ByteRing;
  private readonly in: ByteRing;
  private readonly events: EventChannels;

  /**
   * @param agent - the agent.
   * @param page - where the agent mapped the console ring page.
   * @param port - the console event channel.
   */
  constructor(
    agent: Agent,
    readonly page: bigint,
    private readonly port: number,
  ) {
    const l = XENCONS_INTERFACE.layout(agent.arch.dataModel);
    this.out = ring(agent, page, l, "out", XENCONS_OUT_SIZE, "out_cons", "out_prod");
    this.in = ring(agent, page, l, "in", XENCONS_IN_SIZE, "in_cons", "in_prod");
    this.events = new EventChannels(agent);
  }

  /** Writes `text` (Latin-1) to the out ring, notifying the back end whenever it is full. */
  write(text: string): void {
    const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
    for (let done = 0, stalls = 0; done < bytes.length;) {
      const n = this.out.produce(bytes.subarray(done));
      done += n;
      this.events.send(this.port);
      stalls = n === 0 ? stalls + 1 : 0;
      if (stalls > IDLE_KICKS)
        throw new AgentError("the console back end does not drain the out ring");
    }
  }

  /** Takes what has been typed (the in ring), Latin-1. */
  read(): string {
    const bytes = this.in.consume(XENCONS_IN_SIZE);
    return String.fromCharCode(...bytes);
  }
}
