/**
 * The console daemon against xenconsoled's ring rules: output read between the indices
 * with masking and wrap-around, out_cons published, the guest notified; input written
 * while there is room and the rest kept; inconsistent indices ignored as xenconsoled does;
 * a hostile guest (any index values, a page given away) never makes it throw or touch
 * memory outside the ring page.
 */
import "reflect-metadata";
import fc from "fast-check";
import {
  createMachine,
  Errno,
  evtchnAllocUnbound,
  evtchnIsPending,
  XENCONS_INTERFACE,
  type Domain,
  type HvMachine,
} from "@hvkit/core";
import { idleArch, TEST_LP64_LE } from "@hvkit/core/testing";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { ConsoleDaemon } from "./daemon.js";

const L = XENCONS_INTERFACE.layout(TEST_LP64_LE);
const OUT = L.offsetOf("out");
const IN = L.offsetOf("in");

function setup() {
  const arch = idleArch("cons-test");
  const machine: HvMachine = createMachine(container.createChildContainer(), {
    arch,
    memoryMiB: 1,
  });
  const dom0 = machine.createDomain({ privileged: true, mode: "pv", vcpus: 1, id: 0 });
  const guest = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1, id: 1 });
  for (const d of [dom0, guest]) {
    d.maxPages = 4;
    d.sharedInfoMfn = machine.allocXenFrames(1)![0];
  }
  const mfn = machine.allocFrames(guest, 1)![0];
  const port = evtchnAllocUnbound(machine, guest, 0);
  const out: number[] = [];
  const daemon = new ConsoleDaemon(machine, dom0, (d: Domain, bytes) => {
    expect(d).toBe(guest);
    out.push(...bytes);
  });
  const base = mfn * 4096;
  const view = machine.memory.view;
  const get = (f: string): number => L.get(view, base, f) as number;
  const set = (f: string, v: number): void => L.set(view, base, f, v);
  /** The guest writes `text` at out_prod (masked) and advances it. */
  const guestWrite = (text: string): void => {
    let prod = get("out_prod");
    for (const ch of new TextEncoder().encode(text)) {
      machine.memory.bytes[base + OUT + (prod & 2047)] = ch;
      prod = (prod + 1) >>> 0;
    }
    set("out_prod", prod);
  };
  return { machine, dom0, guest, mfn, port, out, daemon, base, get, set, guestWrite };
}

const text = (bytes: number[]): string => String.fromCharCode(...bytes);

describe("ConsoleDaemon", () => {
  it("attaches: binds dom0's end, marks the ring connected, reads what was written before", () => {
    const s = setup();
    s.set("connection", 1);
    s.guestWrite("early\n");
    const local = s.daemon.attach(s.guest, s.mfn, s.port);
    expect(local).toBeGreaterThan(0);
    expect(s.get("connection")).toBe(0); // XENCONSOLE_CONNECTED
    expect(text(s.out)).toBe("early\n");
    expect(s.get("out_cons")).toBe(6);
    expect(evtchnIsPending(s.machine, s.guest, s.port)).toBe(true);
    expect(s.daemon.state(1)).toMatchObject({ localPort: local, remotePort: s.port, broken: null });
  });

  it("refuses a frame the guest does not own, a second attach, and a port not offered to dom0", () => {
    const s = setup();
    const foreign = s.machine.allocFrames(s.dom0, 1)![0];
    expect(s.daemon.attach(s.guest, foreign, s.port)).toBe(-Errno.EINVAL);
    expect(s.daemon.attach(s.guest, -1, s.port)).toBe(-Errno.EINVAL);
    expect(s.daemon.attach(s.guest, 1e9, s.port)).toBe(-Errno.EINVAL);
    expect(s.daemon.attach(s.guest, s.mfn, 33)).toBe(-Errno.EINVAL);
    expect(s.daemon.attach(s.guest, s.mfn, s.port)).toBeGreaterThan(0);
    expect(s.daemon.attach(s.guest, s.mfn, s.port)).toBe(-Errno.EEXIST);
    expect(s.daemon.handleEvent(999)).toBe(false);
  });

  it("reads output across the ring's end and the u32 wrap of the indices", () => {
    const s = setup();
    s.set("out_cons", 0xfffffffc);
    s.set("out_prod", 0xfffffffc);
    const local = s.daemon.attach(s.guest, s.mfn, s.port);
    expect(s.out).toEqual([]);
    s.guestWrite("wrap-around\n");
    expect(s.get("out_prod")).toBe(8);
    expect(s.daemon.handleEvent(local)).toBe(true);
    expect(text(s.out)).toBe("wrap-around\n");
    expect(s.get("out_cons")).toBe(8);
    // A full ring (2048 bytes) is read whole.
    s.out.length = 0;
    s.guestWrite("x".repeat(2048));
    s.daemon.handleEvent(local);
    expect(s.out.length).toBe(2048);
  });

  it("feeds input while there is room, keeps the rest, publishes in_prod after the bytes", () => {
    const s = setup();
    const local = s.daemon.attach(s.guest, s.mfn, s.port);
    s.set("in_cons", 100);
    s.set("in_prod", 100);
    const data = new Uint8Array(1500).map((_, i) => i & 0xff);
    expect(s.daemon.input(1, data)).toBe(true);
    expect(s.get("in_prod")).toBe(1124);
    expect(s.daemon.state(1)!.queuedInput).toBe(476);
    const at = (i: number): number => s.machine.memory.bytes[s.base + IN + ((100 + i) & 1023)];
    expect(at(0)).toBe(0);
    expect(at(1023)).toBe(1023 & 0xff);
    // The guest consumes 500 bytes; the next event moves 476 more in.
    s.set("in_cons", 600);
    s.daemon.handleEvent(local);
    expect(s.get("in_prod")).toBe(1600);
    expect(s.daemon.state(1)!.queuedInput).toBe(0);
    expect(at(1499)).toBe(1499 & 0xff);
    expect(s.daemon.input(7, data)).toBe(false);
  });

  it("ignores inconsistent indices like xenconsoled: nothing read, nothing written, counted", () => {
    const s = setup();
    const local = s.daemon.attach(s.guest, s.mfn, s.port);
    s.set("out_cons", 10);
    s.set("out_prod", 10 + 2049);
    s.daemon.handleEvent(local);
    expect(s.out).toEqual([]);
    expect(s.get("out_cons")).toBe(10);
    s.set("in_cons", 5);
    s.set("in_prod", 4); // prod behind cons: 2^32 - 1 bytes "used"
    s.daemon.input(1, new Uint8Array([1, 2, 3]));
    expect(s.get("in_prod")).toBe(4);
    expect(s.daemon.state(1)).toMatchObject({ badOutIndices: 2, badInIndices: 1, queuedInput: 3 });
  });

  it("stops serving a page the guest gave away, and a destroyed domain", () => {
    const s = setup();
    const local = s.daemon.attach(s.guest, s.mfn, s.port);
    s.machine.freeFrame(s.guest, s.mfn);
    const other = s.machine.allocFrames(s.dom0, 1)!;
    expect(other).toContain(s.mfn);
    const before = s.machine.memory.bytes.slice(s.base, s.base + 4096);
    s.guestWrite("not yours");
    s.machine.memory.bytes.set(before, s.base);
    s.machine.memory.view.setUint32(s.base + L.offsetOf("out_prod"), 9, true);
    s.daemon.handleEvent(local);
    expect(s.out).toEqual([]);
    expect(s.daemon.state(1)!.broken).toBe("frame-lost");
    expect(s.machine.memory.view.getUint32(s.base + L.offsetOf("out_cons"), true)).toBe(0);
    const t = setup();
    t.daemon.attach(t.guest, t.mfn, t.port);
    t.machine.destroyDomain(t.guest);
    t.daemon.serviceAll();
    expect(t.daemon.state(1)!.broken).toBe("domain-gone");
    t.daemon.detach(1);
    expect(t.daemon.state(1)).toBeUndefined();
  });

  it("property: any index values and ring bytes from a hostile guest — no throw, no write outside the page, output only from the ring", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            outCons: fc.nat({ max: 0xffffffff }),
            outProd: fc.nat({ max: 0xffffffff }),
            inCons: fc.nat({ max: 0xffffffff }),
            inProd: fc.nat({ max: 0xffffffff }),
            input: fc.uint8Array({ maxLength: 1200 }),
            fill: fc.nat({ max: 255 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        (steps) => {
          const s = setup();
          const local = s.daemon.attach(s.guest, s.mfn, s.port);
          const mem = s.machine.memory.bytes;
          // Everything but the ring page and the shared_info pages (event bits change there).
          const skip = new Set([s.mfn, s.dom0.sharedInfoMfn, s.guest.sharedInfoMfn]);
          const outside = (): Uint8Array => {
            const copy = mem.slice();
            for (const f of skip) copy.fill(0, f * 4096, f * 4096 + 4096);
            return copy;
          };
          const before = outside();
          let queued = 0;
          for (const st of steps) {
            mem.fill(st.fill, s.base + OUT, s.base + OUT + 2048);
            s.set("out_cons", st.outCons);
            s.set("out_prod", st.outProd);
            s.set("in_cons", st.inCons);
            s.set("in_prod", st.inProd);
            s.out.length = 0;
            s.daemon.input(1, st.input);
            queued += st.input.length;
            s.daemon.handleEvent(local);
            const size = (st.outProd - st.outCons) >>> 0;
            if (size > 0 && size <= 2048) {
              expect(s.out.length).toBe(size);
              expect(s.out.every((b) => b === st.fill)).toBe(true);
              expect(s.get("out_cons")).toBe(st.outProd);
            } else {
              expect(s.out.length).toBe(0);
              expect(s.get("out_cons")).toBe(st.outCons);
            }
            const used = (s.get("in_prod") - st.inCons) >>> 0;
            const moved = (s.get("in_prod") - st.inProd) >>> 0;
            if ((st.inProd - st.inCons) >>> 0 > 1024) expect(moved).toBe(0);
            else expect(used).toBeLessThanOrEqual(1024);
            queued -= moved;
            expect(s.daemon.state(1)!.queuedInput).toBe(queued);
          }
          expect(Buffer.compare(outside(), before)).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});
