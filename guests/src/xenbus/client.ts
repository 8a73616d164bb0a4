/**
 * The guest-side xenbus client: builds xenstore requests, matches replies by req_id,
 * queues watch events that arrive between replies, and retries transactions that end
 * with EAGAIN. It is written against {@link XenbusTransport}, so the same code talks to
 * the daemon through a ring page in tests and from inside a guest adapter.
 *
 * @module
 */
import { HvkitError, XenstoreMessageType as T } from "@hvkit/core";
import {
  XS_HEADER_SIZE,
  XS_PAYLOAD_MAX,
  bytesOf,
  decodeHeader,
  encodeMessage,
  formatPermission,
  nulStrings,
  parsePermission,
  splitStrings,
  textOf,
  type XsPermission,
} from "../xenstore/wire.js";

/** A byte stream to xenstored and back (a ring page, or anything else). */
export interface XenbusTransport {
  /** Writes up to `bytes.length` bytes of requests; returns how many were taken. */
  write(bytes: Uint8Array): number;
  /** Takes up to `max` bytes of replies and events (possibly none). */
  read(max: number): Uint8Array;
  /**
   * Signals the other end and lets it run (an event-channel notify and a wait). Returns
   * false when nothing more can happen (the request can never be answered).
   */
  kick(): boolean;
  /** True when headers travel little-endian (the guest's byte order). */
  readonly littleEndian: boolean;
}

/** A xenstore error reply ("ENOENT", "EAGAIN", ...) or a dead transport ("EIO"). */
export class XenbusError extends HvkitError {
  /**
   * @param code - the errno name xenstored sent.
   * @param request - what was asked.
   */
  constructor(
    readonly code: string,
    readonly request: string,
  ) {
    super(`xenstore ${request}: ${code}`);
  }
}

/** A watch event: the path that changed (relative if the watch was) and the token. */
export interface XenbusWatchEvent {
  /** The event path. */
  readonly path: string;
  /** The watch's token. */
  readonly token: string;
}

/** The xenbus client. */
export class XenbusClient {
  private nextReqId = 1;
  private inbuf = new Uint8Array(0);
  /** Watch events received and not yet taken, oldest first. */
  readonly events: XenbusWatchEvent[] = [];

  /** @param transport - the byte stream to xenstored. */
  constructor(private readonly transport: XenbusTransport) {}

  /** Sends one request and waits for its reply payload; throws {@link XenbusError}. */
  request(type: number, payload: Uint8Array, txId = 0): Uint8Array {
    const reqId = this.nextReqId;
    this.nextReqId = (this.nextReqId + 1) >>> 0 || 1;
    const name = (T[type] as string | undefined) ?? String(type);
    if (payload.length > XS_PAYLOAD_MAX) throw new XenbusError("E2BIG", name);
    const bytes = encodeMessage({ type, reqId, txId, payload }, this.transport.littleEndian);
    let sent = 0;
    for (;;) {
      if (sent < bytes.length) sent += this.transport.write(bytes.subarray(sent));
      const reply = this.take(reqId);
      if (reply) {
        if (reply.type === T.ERROR)
          throw new XenbusError(splitStrings(reply.payload)[0] ?? "EINVAL", name);
        return reply.payload;
      }
      if (!this.transport.kick()) throw new XenbusError("EIO", name);
    }
  }

  private take(reqId: number): { type: number; payload: Uint8Array } | null {
    const more = this.transport.read(4096 + XS_HEADER_SIZE);
    if (more.length) {
      const joined = new Uint8Array(this.inbuf.length + more.length);
      joined.set(this.inbuf);
      joined.set(more, this.inbuf.length);
      this.inbuf = joined;
    }
    while (this.inbuf.length >= XS_HEADER_SIZE) {
      const h = decodeHeader(this.inbuf, this.transport.littleEndian);
      if (this.inbuf.length < XS_HEADER_SIZE + h.len) break;
      const payload = this.inbuf.slice(XS_HEADER_SIZE, XS_HEADER_SIZE + h.len);
      this.inbuf = this.inbuf.slice(XS_HEADER_SIZE + h.len);
      if (h.type === T.WATCH_EVENT) {
        const [path, token] = splitStrings(payload);
        this.events.push({ path: path ?? "", token: token ?? "" });
      } else if (h.reqId === reqId) {
        return { type: h.type, payload };
      }
    }
    return null;
  }

  /** Collects pending watch events without sending anything. */
  poll(): XenbusWatchEvent[] {
    this.take(0);
    return this.events.splice(0);
  }

  /** XS_READ. */
  read(path: string, tx = 0): string {
    return textOf(this.request(T.READ, nulStrings(path), tx));
  }

  /** XS_WRITE. */
  write(path: string, value: string | Uint8Array, tx = 0): void {
    const v = typeof value === "string" ? bytesOf(value) : value;
    const p = bytesOf(path);
    const payload = new Uint8Array(p.length + 1 + v.length);
    payload.set(p);
    payload.set(v, p.length + 1);
    this.request(T.WRITE, payload, tx);
  }

  /** XS_MKDIR. */
  mkdir(path: string, tx = 0): void {
    this.request(T.MKDIR, nulStrings(path), tx);
  }

  /** XS_RM. */
  rm(path: string, tx = 0): void {
    this.request(T.RM, nulStrings(path), tx);
  }

  /** XS_DIRECTORY: the child names. */
  directory(path: string, tx = 0): string[] {
    return splitStrings(this.request(T.DIRECTORY, nulStrings(path), tx));
  }

  /** XS_GET_PERMS. */
  getPerms(path: string, tx = 0): XsPermission[] {
    return splitStrings(this.request(T.GET_PERMS, nulStrings(path), tx)).map(
      (s) => parsePermission(s) ?? { id: 0, perms: 0 },
    );
  }

  /** XS_SET_PERMS. */
  setPerms(path: string, perms: readonly XsPermission[], tx = 0): void {
    this.request(T.SET_PERMS, nulStrings(path, ...perms.map(formatPermission)), tx);
  }

  /** XS_WATCH (with a depth if given). */
  watch(path: string, token: string, depth?: number): void {
    const args = depth === undefined ? [path, token] : [path, token, String(depth)];
    this.request(T.WATCH, nulStrings(...args));
  }

  /** XS_UNWATCH. */
  unwatch(path: string, token: string): void {
    this.request(T.UNWATCH, nulStrings(path, token));
  }

  /** XS_TRANSACTION_START: the new transaction id. */
  transactionStart(): number {
    return Number(splitStrings(this.request(T.TRANSACTION_START, nulStrings("")))[0]);
  }

  /** XS_TRANSACTION_END: commit (`true`) or abort. */
  transactionEnd(tx: number, commit: boolean): void {
    this.request(T.TRANSACTION_END, nulStrings(commit ? "T" : "F"), tx);
  }

  /**
   * Runs `body` in a transaction and commits it, starting again when the commit fails
   * with EAGAIN (at most `attempts` times); any other error aborts the transaction.
   */
  transaction<R>(body: (tx: number) => R, attempts = 16): R {
    for (let i = 1; ; i++) {
      const tx = this.transactionStart();
      let result: R;
      try {
        result = body(tx);
      } catch (e) {
        try {
          this.transactionEnd(tx, false);
        } catch {
          // The transaction is gone either way.
        }
        throw e;
      }
      try {
        this.transactionEnd(tx, true);
        return result;
      } catch (e) {
        if (!(e instanceof XenbusError) || e.code !== "EAGAIN" || i >= attempts) throw e;
      }
    }
  }

  /** XS_GET_DOMAIN_PATH. */
  getDomainPath(domid: number): string {
    return splitStrings(this.request(T.GET_DOMAIN_PATH, nulStrings(String(domid))))[0] ?? "";
  }
}
