/**
 * The guest's end of the xenstore ring page: a {@link XenbusTransport} that produces
 * into `req` and consumes from `rsp` with the free-running indexes of
 * docs/misc/xenstore-ring.txt.
 *
 * @module
 */
import { XENSTORE_RING_SIZE, type DataModel } from "@hvkit/core";
import { xenstoreRingOffsets, type XenstoreRingOffsets } from "../xenstore/ring.js";
import type { XenbusTransport } from "./client.js";

/** Guest-side ring access; `notify` signals the store event channel and lets the daemon run. */
export class XenbusRingTransport implements XenbusTransport {
  /** @inheritdoc */
  readonly littleEndian: boolean;
  private readonly o: XenstoreRingOffsets;

  /**
   * @param view - memory holding the ring page.
   * @param base - byte offset of the page.
   * @param notify - signals the other end; returns false when it can make no progress.
   * @param model - the guest's data model.
   */
  constructor(
    private readonly view: DataView,
    private readonly base: number,
    private readonly notify: () => boolean,
    model: DataModel,
  ) {
    const { offsets, littleEndian } = xenstoreRingOffsets(model);
    this.o = offsets;
    this.littleEndian = littleEndian;
  }

  private u32(off: number): number {
    return this.view.getUint32(this.base + off, this.littleEndian);
  }

  /** @inheritdoc */
  write(bytes: Uint8Array): number {
    const cons = this.u32(this.o.reqCons);
    let prod = this.u32(this.o.reqProd);
    let n = 0;
    while (n < bytes.length && (prod - cons) >>> 0 < XENSTORE_RING_SIZE) {
      this.view.setUint8(this.base + this.o.req + (prod & (XENSTORE_RING_SIZE - 1)), bytes[n++]);
      prod = (prod + 1) >>> 0;
    }
    this.view.setUint32(this.base + this.o.reqProd, prod, this.littleEndian);
    return n;
  }

  /** @inheritdoc */
  read(max: number): Uint8Array {
    let cons = this.u32(this.o.rspCons);
    const prod = this.u32(this.o.rspProd);
    const avail = Math.min(max, (prod - cons) >>> 0, XENSTORE_RING_SIZE);
    const out = new Uint8Array(avail);
    for (let i = 0; i < avail; i++) {
      out[i] = this.view.getUint8(this.base + this.o.rsp + (cons & (XENSTORE_RING_SIZE - 1)));
      cons = (cons + 1) >>> 0;
    }
    this.view.setUint32(this.base + this.o.rspCons, cons, this.littleEndian);
    return out;
  }

  /** @inheritdoc */
  kick(): boolean {
    return this.notify();
  }
}
