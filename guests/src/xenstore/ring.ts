/**
 * The daemon's end of a domain's xenstore ring page (`struct xenstore_domain_interface`,
 * docs/misc/xenstore-ring.txt), following xenstored's domain.c readchn/writechn and
 * core.c handle_input: free-running u32 indexes, byte `x` at `x mod 1024`, a header may
 * arrive in pieces across calls, a payload longer than 4096 or inconsistent indexes make
 * the daemon stop serving the ring and record why in its `error` field.
 *
 * @module
 */
import {
  XENSTORE_DOMAIN_INTERFACE,
  XENSTORE_RING_SIZE,
  XenstoreConnection as ConnState,
  XenstoreError,
  type DataModel,
  type StructLayout,
} from "@hvkit/core";
import type { XenstoreConnection, XenstoreDaemon, XenstoreRingLink } from "./daemon.js";
import { XS_HEADER_SIZE, XS_PAYLOAD_MAX, decodeHeader, encodeMessage } from "./wire.js";

/** Byte offsets of the ring page's fields, from the struct codec. */
export interface XenstoreRingOffsets {
  /** `req` ring. */
  readonly req: number;
  /** `rsp` ring. */
  readonly rsp: number;
  /** `req_cons`. */
  readonly reqCons: number;
  /** `req_prod`. */
  readonly reqProd: number;
  /** `rsp_cons`. */
  readonly rspCons: number;
  /** `rsp_prod`. */
  readonly rspProd: number;
  /** `server_features`. */
  readonly serverFeatures: number;
  /** `connection`. */
  readonly connection: number;
  /** `error`. */
  readonly error: number;
}

/** The field offsets and byte order of the ring page for a data model. */
export function xenstoreRingOffsets(model: DataModel): {
  offsets: XenstoreRingOffsets;
  littleEndian: boolean;
} {
  const l: StructLayout = XENSTORE_DOMAIN_INTERFACE.layout(model);
  return {
    offsets: {
      req: l.offsetOf("req"),
      rsp: l.offsetOf("rsp"),
      reqCons: l.offsetOf("req_cons"),
      reqProd: l.offsetOf("req_prod"),
      rspCons: l.offsetOf("rsp_cons"),
      rspProd: l.offsetOf("rsp_prod"),
      serverFeatures: l.offsetOf("server_features"),
      connection: l.offsetOf("connection"),
      error: l.offsetOf("error"),
    },
    littleEndian: l.littleEndian,
  };
}

/** Serves one connection over a ring page lying at `base` in `view`. */
export class XenstoreRingServer implements XenstoreRingLink {
  private readonly o: XenstoreRingOffsets;
  private readonly le: boolean;
  private readonly header = new Uint8Array(XS_HEADER_SIZE);
  private headerUsed = 0;
  private payload: Uint8Array | null = null;
  private payloadUsed = 0;
  private type = 0;
  private reqId = 0;
  private txId = 0;
  private out: Uint8Array | null = null;
  private outUsed = 0;

  /**
   * @param daemon - the daemon requests go to.
   * @param conn - the domain's connection (this server becomes its `ring`).
   * @param view - memory holding the ring page.
   * @param base - byte offset of the page in `view`.
   * @param model - the guest's data model (byte order of the indexes and headers).
   */
  constructor(
    private readonly daemon: XenstoreDaemon,
    readonly conn: XenstoreConnection,
    private readonly view: DataView,
    private readonly base: number,
    model: DataModel,
  ) {
    const { offsets, littleEndian } = xenstoreRingOffsets(model);
    this.o = offsets;
    this.le = littleEndian;
    conn.ring = this;
  }

  private u32(off: number): number {
    return this.view.getUint32(this.base + off, this.le);
  }

  private setU32(off: number, v: number): void {
    this.view.setUint32(this.base + off, v >>> 0, this.le);
  }

  /** @inheritdoc */
  reset(): void {
    this.headerUsed = 0;
    this.payload = null;
    this.out = null;
    this.setU32(this.o.reqCons, 0);
    this.setU32(this.o.reqProd, 0);
    this.setU32(this.o.rspCons, 0);
    this.setU32(this.o.rspProd, 0);
  }

  /** @inheritdoc */
  setFeatures(features: number): void {
    this.setU32(this.o.serverFeatures, features);
  }

  /** @inheritdoc */
  finishReconnect(): boolean {
    if (this.u32(this.o.connection) !== ConnState.RECONNECT) return false;
    this.setU32(this.o.connection, ConnState.CONNECTED);
    return true;
  }

  /** @inheritdoc */
  setError(error: number): void {
    this.setU32(this.o.error, error);
  }

  /**
   * Moves what can move: replies into `rsp`, requests out of `req` (each processed as
   * soon as it is whole). Returns true when an index changed (the caller then signals
   * the domain's event channel, as xenstored does after every read and write).
   */
  pump(): boolean {
    let moved = false;
    for (let guard = 0; guard < 4096; guard++) {
      if (this.conn.ignored) return moved;
      const w = this.writeOut();
      if (w < 0) {
        this.daemon.ignore(this.conn, XenstoreError.RINGIDX);
        return true;
      }
      const r = this.daemon.canRead(this.conn) ? this.readIn() : 0;
      if (r < 0) return true;
      if (w === 0 && r === 0) break;
      moved = true;
    }
    return moved;
  }

  private writeOut(): number {
    let total = 0;
    for (;;) {
      if (!this.out) {
        const next = this.conn.outbox.shift();
        if (!next) return total;
        this.out = encodeMessage(next, this.le);
        this.outUsed = 0;
      }
      const cons = this.u32(this.o.rspCons);
      const prod = this.u32(this.o.rspProd);
      const used = (prod - cons) >>> 0;
      if (used > XENSTORE_RING_SIZE) return -1;
      const at = prod & (XENSTORE_RING_SIZE - 1);
      const len = Math.min(
        XENSTORE_RING_SIZE - at,
        XENSTORE_RING_SIZE - used,
        this.out.length - this.outUsed,
      );
      if (len === 0) return total;
      const dst = this.base + this.o.rsp + at;
      for (let i = 0; i < len; i++) this.view.setUint8(dst + i, this.out[this.outUsed + i]);
      this.setU32(this.o.rspProd, prod + len);
      this.outUsed += len;
      total += len;
      if (this.outUsed === this.out.length) this.out = null;
    }
  }

  /** Reads bytes of the current message; processes it once whole. -1: connection dropped. */
  private readIn(): number {
    const cons = this.u32(this.o.reqCons);
    const prod = this.u32(this.o.reqProd);
    const avail = (prod - cons) >>> 0;
    if (avail > XENSTORE_RING_SIZE) {
      this.daemon.ignore(this.conn, XenstoreError.RINGIDX);
      return -1;
    }
    if (avail === 0) return 0;
    const at = cons & (XENSTORE_RING_SIZE - 1);
    const want = this.payload
      ? this.payload.length - this.payloadUsed
      : XS_HEADER_SIZE - this.headerUsed;
    const len = Math.min(XENSTORE_RING_SIZE - at, avail, want);
    const src = this.base + this.o.req + at;
    const into = this.payload ?? this.header;
    const used = this.payload ? this.payloadUsed : this.headerUsed;
    for (let i = 0; i < len; i++) into[used + i] = this.view.getUint8(src + i);
    this.setU32(this.o.reqCons, cons + len);
    if (this.payload) this.payloadUsed += len;
    else {
      this.headerUsed += len;
      if (this.headerUsed === XS_HEADER_SIZE) {
        const h = decodeHeader(this.header, this.le);
        if (h.len > XS_PAYLOAD_MAX) {
          this.daemon.ignore(this.conn, XenstoreError.PROTO);
          return -1;
        }
        this.type = h.type;
        this.reqId = h.reqId;
        this.txId = h.txId;
        this.payload = new Uint8Array(h.len);
        this.payloadUsed = 0;
      }
    }
    if (this.payload && this.payloadUsed === this.payload.length) {
      const payload = this.payload;
      this.payload = null;
      this.headerUsed = 0;
      this.daemon.handle(this.conn, {
        type: this.type,
        reqId: this.reqId,
        txId: this.txId,
        payload,
      });
    }
    return len;
  }
}
