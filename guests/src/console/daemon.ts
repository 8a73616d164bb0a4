/**
 * The console daemon (xenconsoled's role, tools/console/daemon/io.c) for domUs' PV
 * consoles: each guest's `struct xencons_interface` page (start_info.console.domU.mfn)
 * and its event channel (console.domU.evtchn, bound from dom0 with the core's
 * event-channel API as xenconsoled's `xenevtchn_bind_interdomain`).
 *
 * The daemon is host code with no thread: the owner (the built-in dom0) calls
 * {@link ConsoleDaemon.handleEvent} when dom0's end of a console channel fires, which
 * happens between scheduling slices at a fixed virtual time, so output and input are
 * deterministic. On each service:
 *
 * - output (`buffer_append`): read `out_cons` and `out_prod`, then the bytes
 *   `out[MASK(cons++)]` up to prod, then publish `out_cons = prod` and notify the guest.
 *   Indices are free-running u32; a byte index is masked with the ring size. If
 *   `prod - cons` (mod 2^32) exceeds the ring (a guest that corrupts its indices), the
 *   ring is left alone this round, exactly as xenconsoled ignores it — nothing is read
 *   out of bounds and nothing throws.
 * - input (`handle_tty_read`): bytes queued with {@link ConsoleDaemon.input} go into
 *   `in[MASK(prod++)]` while the ring has room (`in_prod - in_cons` ≤ 1024; a larger
 *   value means a corrupt ring: no room), then `in_prod` is published after the bytes
 *   (xen_wmb) and the guest is notified. What does not fit waits for the next event.
 *
 * The page is the guest's: before touching it the daemon checks the guest still owns the
 * frame (a guest that gives the page away — ballooning it out — loses its console rather
 * than letting the daemon write into someone else's memory; xenconsoled's foreign mapping
 * would keep the frame alive instead). Every write to guest memory is reported through
 * `ArchPlugin.onMemoryWritten` so arch caches stay coherent.
 *
 * @module
 */
import {
  DomainState,
  Errno,
  XENCONS_IN_SIZE,
  XENCONS_INTERFACE,
  XENCONS_OUT_SIZE,
  XENCONSOLE_CONNECTED,
  evtchnBindInterdomain,
  evtchnClose,
  evtchnSend,
  type Domain,
  type Machine,
  type StructLayout,
} from "@hvkit/core";

/** Where console output goes: bytes read from `guest`'s out ring. */
export type ConsoleOutput = (guest: Domain, bytes: Uint8Array) => void;

/** Why a console stopped being served. */
export type ConsoleBreak = "frame-lost" | "domain-gone";

/** One guest's console as the daemon sees it. */
export interface ConsoleState {
  /** The guest's domain id. */
  readonly domid: number;
  /** Machine frame of the ring page. */
  readonly mfn: number;
  /** The guest's port (start_info.console.domU.evtchn). */
  readonly remotePort: number;
  /** dom0's port of the channel. */
  readonly localPort: number;
  /** Input bytes queued and not yet in the ring. */
  readonly queuedInput: number;
  /** Times the out ring's indices were found inconsistent (and the ring left alone). */
  readonly badOutIndices: number;
  /** Times the in ring's indices were found inconsistent (no room assumed). */
  readonly badInIndices: number;
  /** Set once the console is no longer served, with why. */
  readonly broken: ConsoleBreak | null;
}

interface Connection {
  readonly guest: Domain;
  readonly mfn: number;
  readonly remotePort: number;
  readonly localPort: number;
  input: Uint8Array[];
  inputBytes: number;
  badOutIndices: number;
  badInIndices: number;
  broken: ConsoleBreak | null;
}

/** xenconsoled for the domUs of one machine, run from dom0. */
export class ConsoleDaemon {
  private readonly byDomid = new Map<number, Connection>();
  private readonly byLocalPort = new Map<number, Connection>();
  private readonly layout: StructLayout;
  private readonly off: {
    in: number;
    out: number;
    inCons: number;
    inProd: number;
    outCons: number;
    outProd: number;
  };

  /**
   * @param machine - the machine whose memory holds the rings.
   * @param dom0 - the domain the daemon runs in (binds the event channels).
   * @param output - where output goes (default: the machine's console sink, as if the
   *   guest had written it with console_io).
   */
  constructor(
    private readonly machine: Machine,
    private readonly dom0: Domain,
    private readonly output: ConsoleOutput = (guest, bytes) =>
      machine.console.guestOutput(guest, bytes),
  ) {
    this.layout = XENCONS_INTERFACE.layout(machine.arch.dataModel);
    const l = this.layout;
    this.off = {
      in: l.offsetOf("in"),
      out: l.offsetOf("out"),
      inCons: l.offsetOf("in_cons"),
      inProd: l.offsetOf("in_prod"),
      outCons: l.offsetOf("out_cons"),
      outProd: l.offsetOf("out_prod"),
    };
  }

  /**
   * Connects to `guest`'s console (xenconsoled's `domain_create_ring`): `mfn` is the ring
   * page, `remotePort` the guest's unbound port for dom0. Binds dom0's end, marks the
   * ring XENCONSOLE_CONNECTED and serves it once (the guest may have written already).
   * Returns dom0's local port, or −errno: −EINVAL when the frame is not the guest's,
   * −EEXIST when the guest is already attached, or the bind's error.
   */
  attach(guest: Domain, mfn: number, remotePort: number): number {
    if (this.byDomid.has(guest.id)) return -Errno.EEXIST;
    const ft = this.machine.memory.frameTable;
    if (!Number.isInteger(mfn) || mfn < 0 || mfn >= ft.frames || ft.owner[mfn] !== guest.id) {
      return -Errno.EINVAL;
    }
    const localPort = evtchnBindInterdomain(this.machine, this.dom0, guest.id, remotePort);
    if (localPort < 0) return localPort;
    const conn: Connection = {
      guest,
      mfn,
      remotePort,
      localPort,
      input: [],
      inputBytes: 0,
      badOutIndices: 0,
      badInIndices: 0,
      broken: null,
    };
    this.byDomid.set(guest.id, conn);
    this.byLocalPort.set(localPort, conn);
    const base = this.base(conn);
    this.layout.set(this.machine.memory.view, base, "connection", XENCONSOLE_CONNECTED);
    this.written(base + this.layout.offsetOf("connection"), 1);
    this.service(conn);
    return localPort;
  }

  /** Stops serving `domid`'s console and closes dom0's end of its channel. */
  detach(domid: number): void {
    const conn = this.byDomid.get(domid);
    if (conn === undefined) return;
    this.byDomid.delete(domid);
    this.byLocalPort.delete(conn.localPort);
    evtchnClose(this.machine, this.dom0, conn.localPort);
  }

  /**
   * Queues `bytes` as typed at `domid`'s console and puts what fits into its in ring now;
   * the input from outside is logged as a hypervisor message. Returns false when the
   * domain has no console here.
   */
  input(domid: number, bytes: Uint8Array): boolean {
    const conn = this.byDomid.get(domid);
    if (conn === undefined) return false;
    if (bytes.length > 0) {
      conn.input.push(bytes.slice());
      conn.inputBytes += bytes.length;
      this.machine.console.hypervisorMessage(
        `console input: ${bytes.length} bytes typed at domain ${domid}'s console`,
      );
    }
    this.service(conn);
    return true;
  }

  /**
   * dom0's port `port` fired: serves the console on it. Returns false when the port is
   * not a console channel (the caller routes it elsewhere).
   */
  handleEvent(port: number): boolean {
    const conn = this.byLocalPort.get(port);
    if (conn === undefined) return false;
    this.service(conn);
    return true;
  }

  /** Serves every console (e.g. to drain output after a domain shut down). */
  serviceAll(): void {
    for (const conn of this.byDomid.values()) this.service(conn);
  }

  /** The console state of `domid`, or undefined when it is not attached. */
  state(domid: number): ConsoleState | undefined {
    const c = this.byDomid.get(domid);
    if (c === undefined) return undefined;
    return {
      domid,
      mfn: c.mfn,
      remotePort: c.remotePort,
      localPort: c.localPort,
      queuedInput: c.inputBytes,
      badOutIndices: c.badOutIndices,
      badInIndices: c.badInIndices,
      broken: c.broken,
    };
  }

  private base(conn: Connection): number {
    return conn.mfn * this.machine.memory.pageSize;
  }

  private written(pa: number, len: number): void {
    this.machine.arch.onMemoryWritten?.(this.machine, pa, len);
  }

  private service(conn: Connection): void {
    if (conn.broken !== null) return;
    const guest = conn.guest;
    if (this.machine.domains.get(guest.id) !== guest || guest.state === DomainState.Dying) {
      conn.broken = "domain-gone";
      return;
    }
    if (this.machine.memory.frameTable.owner[conn.mfn] !== guest.id) {
      conn.broken = "frame-lost";
      return;
    }
    const moved = this.readOutput(conn);
    const fed = guest.isDead ? false : this.writeInput(conn);
    if ((moved || fed) && !guest.isDead) evtchnSend(this.machine, this.dom0, conn.localPort);
  }

  /** xenconsoled's buffer_append. True when bytes were consumed. */
  private readOutput(conn: Connection): boolean {
    const view = this.machine.memory.view;
    const le = this.layout.littleEndian;
    const base = this.base(conn);
    const cons = view.getUint32(base + this.off.outCons, le);
    const prod = view.getUint32(base + this.off.outProd, le);
    // xen_mb(): indices are read before the bytes they cover.
    const size = (prod - cons) >>> 0;
    if (size === 0) return false;
    if (size > XENCONS_OUT_SIZE) {
      conn.badOutIndices++;
      return false;
    }
    const bytes = new Uint8Array(size);
    const ring = base + this.off.out;
    const mem = this.machine.memory.bytes;
    for (let i = 0; i < size; i++) bytes[i] = mem[ring + ((cons + i) & (XENCONS_OUT_SIZE - 1))];
    // xen_mb(): the bytes are read before out_cons frees their slots.
    view.setUint32(base + this.off.outCons, prod, le);
    this.written(base + this.off.outCons, 4);
    this.output(conn.guest, bytes);
    return true;
  }

  /** xenconsoled's handle_tty_read with queued input. True when bytes were produced. */
  private writeInput(conn: Connection): boolean {
    if (conn.inputBytes === 0) return false;
    const view = this.machine.memory.view;
    const le = this.layout.littleEndian;
    const base = this.base(conn);
    const cons = view.getUint32(base + this.off.inCons, le);
    const prod = view.getUint32(base + this.off.inProd, le);
    const used = (prod - cons) >>> 0;
    if (used > XENCONS_IN_SIZE) {
      conn.badInIndices++; // "ring is screwed: ignore it"
      return false;
    }
    const room = Math.min(XENCONS_IN_SIZE - used, conn.inputBytes);
    if (room === 0) return false;
    const ring = base + this.off.in;
    const mem = this.machine.memory.bytes;
    let p = prod;
    let left = room;
    while (left > 0) {
      const chunk = conn.input[0];
      const n = Math.min(chunk.length, left);
      for (let i = 0; i < n; i++) {
        mem[ring + (p & (XENCONS_IN_SIZE - 1))] = chunk[i];
        p = (p + 1) >>> 0;
      }
      left -= n;
      if (n === chunk.length) conn.input.shift();
      else conn.input[0] = chunk.subarray(n);
    }
    conn.inputBytes -= room;
    this.written(ring, XENCONS_IN_SIZE);
    // xen_wmb(): the bytes are visible before in_prod publishes them.
    view.setUint32(base + this.off.inProd, p, le);
    this.written(base + this.off.inProd, 4);
    return true;
  }
}
