import { XENSTORE_DOMAIN_INTERFACE, XenstoreError, XenstoreMessageType as T } from "@hvkit/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { XenbusClient, XenbusError } from "../xenbus/client.js";
import { XenbusRingTransport } from "../xenbus/ring.js";
import { XenstoreDaemon } from "./daemon.js";
import { XenstoreRingServer } from "./ring.js";
import { createDomainHome } from "./toolstack.js";
import { encodeMessage, nulStrings } from "./wire.js";
import { TEST_LP64_LE } from "@hvkit/core/testing";

const L = XENSTORE_DOMAIN_INTERFACE.layout(TEST_LP64_LE);
const PAGE = 4096;

function world(domids = [1, 2]) {
  const memory = new DataView(new ArrayBuffer(PAGE * (domids.length + 1)));
  const daemon = new XenstoreDaemon({ domainExists: () => true });
  const servers = new Map<number, XenstoreRingServer>();
  const clients = new Map<number, XenbusClient>();
  domids.forEach((domid, i) => {
    const base = PAGE * (i + 1);
    createDomainHome(daemon, {
      domid,
      name: `d${domid}`,
      storePort: 1,
      storeRingRef: i + 1,
      memoryKiB: 1024,
    });
    const server = new XenstoreRingServer(
      daemon,
      daemon.connect(domid),
      memory,
      base,
      TEST_LP64_LE,
    );
    servers.set(domid, server);
    clients.set(
      domid,
      new XenbusClient(new XenbusRingTransport(memory, base, () => server.pump(), TEST_LP64_LE)),
    );
  });
  return { memory, daemon, servers, clients };
}

describe("xenstore ring transport and xenbus client", () => {
  it("round trips, interleaved watch events, wrap-around of free-running indexes", () => {
    const { memory, clients } = world();
    // Start the indexes near 2^32 so they wrap during the test.
    for (const f of ["req_cons", "req_prod", "rsp_cons", "rsp_prod"])
      L.set(memory, PAGE, f, 0xffffff00);
    const c = clients.get(1)!;
    c.watch("data", "tok");
    for (let i = 0; i < 200; i++) c.write(`data/k${i}`, "v".repeat(i));
    expect(c.read("data/k199")).toBe("v".repeat(199));
    expect(L.getNumber(memory, PAGE, "req_prod")).toBeLessThan(0xffffff00);
    const ev = c.poll();
    expect(ev[0]).toEqual({ path: "data", token: "tok" });
    expect(ev.length).toBe(201);
    expect(c.directory("data").length).toBe(200);
    expect(c.getDomainPath(1)).toBe("/local/domain/1");
    expect(() => c.read("data/none")).toThrow(XenbusError);
    try {
      c.read("/local/domain/2/data");
    } catch (e) {
      expect((e as XenbusError).code).toBe("EACCES");
    }
  });

  it("transactions retry on EAGAIN", () => {
    const { clients } = world();
    const a = clients.get(1)!;
    a.write("data/counter", "0");
    let runs = 0;
    a.transaction((tx) => {
      const v = Number(a.read("data/counter", tx));
      if (runs++ === 0) a.write("data/counter", "10"); // conflicting write outside
      a.write("data/counter", String(v + 1), tx);
    });
    expect(runs).toBe(2);
    expect(a.read("data/counter")).toBe("11");
  });

  it("a header split across pump calls and a message across the ring end are reassembled", () => {
    const { memory, daemon, servers } = world([1]);
    const base = PAGE;
    L.set(memory, base, "req_prod", 1020);
    L.set(memory, base, "req_cons", 1020);
    const msg = encodeMessage(
      { type: T.READ, reqId: 77, txId: 0, payload: nulStrings("domid") },
      true,
    );
    let prod = 1020;
    for (const chunk of [msg.subarray(0, 5), msg.subarray(5, 13), msg.subarray(13)]) {
      for (const b of chunk) memory.setUint8(base + L.offsetOf("req") + (prod++ & 1023), b);
      L.set(memory, base, "req_prod", prod);
      servers.get(1)!.pump();
    }
    expect(L.getNumber(memory, base, "req_cons")).toBe(prod);
    expect(L.getNumber(memory, base, "rsp_prod") - L.getNumber(memory, base, "rsp_cons")).toBe(
      16 + 1,
    );
    expect(daemon.domain(1)!.conn!.ignored).toBe(false);
  });

  it("an overlong payload sets error PROTO; bad indexes set RINGIDX", () => {
    const { memory, daemon, servers } = world([1, 2]);
    const msg = encodeMessage(
      { type: T.READ, reqId: 1, txId: 0, payload: new Uint8Array(0) },
      true,
    );
    const view = new DataView(msg.buffer);
    view.setUint32(12, 4097, true);
    for (let i = 0; i < 16; i++) memory.setUint8(PAGE + L.offsetOf("req") + i, msg[i]);
    L.set(memory, PAGE, "req_prod", 16);
    servers.get(1)!.pump();
    expect(L.getNumber(memory, PAGE, "error")).toBe(XenstoreError.PROTO);
    expect(daemon.domain(1)!.conn!.ignored).toBe(true);
    L.set(memory, 2 * PAGE, "req_prod", 5000);
    servers.get(2)!.pump();
    expect(L.getNumber(memory, 2 * PAGE, "error")).toBe(XenstoreError.RINGIDX);
  });

  it("INTRODUCE resets the ring and writes server_features", () => {
    const memory = new DataView(new ArrayBuffer(PAGE * 2));
    const daemon = new XenstoreDaemon({
      domainExists: () => true,
      introduce: () => 0,
      attach: (conn) => new XenstoreRingServer(daemon, conn, memory, PAGE, TEST_LP64_LE),
    });
    L.set(memory, PAGE, "req_prod", 33);
    L.set(memory, PAGE, "connection", 1);
    const dom0 = daemon.connect(0);
    daemon.handle(dom0, {
      type: T.INTRODUCE,
      reqId: 1,
      txId: 0,
      payload: nulStrings("5", "99", "3"),
    });
    expect(L.getNumber(memory, PAGE, "req_prod")).toBe(0);
    expect(L.getNumber(memory, PAGE, "server_features")).toBe(14);
    expect(L.getNumber(memory, PAGE, "connection")).toBe(0);
    expect(daemon.domain(5)).toMatchObject({ port: 3, gfn: 99, introduced: true });
  });

  it("property: random request-ring bytes never throw and never disturb another domain", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0xffffffff })),
          {
            maxLength: 12,
          },
        ),
        fc.boolean(),
        (steps, wellFormedHeaders) => {
          const { memory, daemon, servers, clients } = world([1, 2]);
          const good = clients.get(2)!;
          good.write("data/mine", "safe");
          good.watch("data", "w");
          good.poll();
          const base = PAGE;
          const reqOff = L.offsetOf("req");
          for (const [bytes, prodJitter] of steps) {
            let prod = L.getNumber(memory, base, "req_prod");
            let data = bytes;
            if (wellFormedHeaders && bytes.length >= 16) {
              data = bytes.slice();
              const v = new DataView(data.buffer);
              v.setUint32(0, v.getUint32(0, true) % 30, true);
              v.setUint32(12, Math.min(data.length - 16, v.getUint32(12, true) % 64), true);
            }
            for (const b of data) memory.setUint8(base + reqOff + (prod++ & 1023), b);
            L.set(memory, base, "req_prod", prodJitter % 7 === 0 ? prodJitter : prod >>> 0);
            expect(() => servers.get(1)!.pump()).not.toThrow();
            // Drain domain 1's responses as a guest would.
            L.set(memory, base, "rsp_cons", L.getNumber(memory, base, "rsp_prod"));
          }
          expect(good.read("data/mine")).toBe("safe");
          expect(good.getPerms("data/mine")).toEqual([{ id: 2, perms: 0 }]);
          expect(daemon.peek("/local/domain/2/data/mine")).toBeDefined();
          expect(good.poll().every((e) => e.path.startsWith("data"))).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("outstanding-request quota", () => {
  it("an unprivileged domain whose replies are not consumed stops being read", () => {
    const { memory, daemon, servers } = world([1]);
    const req = L.offsetOf("req");
    let prod = 0;
    // 40 small READ requests, more than the ring holds replies for.
    for (let i = 0; i < 40; i++) {
      const m = encodeMessage(
        { type: T.READ, reqId: i + 1, txId: 0, payload: nulStrings("domid") },
        true,
      );
      for (const b of m) memory.setUint8(PAGE + req + (prod++ & 1023), b);
    }
    L.set(memory, PAGE, "req_prod", prod);
    servers.get(1)!.pump();
    const conn = daemon.domain(1)!.conn!;
    // 17-byte replies: 60 fit in 1024 bytes, the rest queue; reading stops at 20 queued.
    expect(conn.outstanding).toBe(0);
    expect(L.getNumber(memory, PAGE, "req_cons")).toBe(prod);
    for (let i = 0; i < 100; i++) {
      const m = encodeMessage(
        { type: T.READ, reqId: 100 + i, txId: 0, payload: nulStrings("domid") },
        true,
      );
      for (const b of m) memory.setUint8(PAGE + req + (prod++ & 1023), b);
      L.set(memory, PAGE, "req_prod", prod);
      servers.get(1)!.pump();
      if (L.getNumber(memory, PAGE, "req_cons") !== prod) break;
    }
    expect(conn.outstanding).toBe(20);
    expect(L.getNumber(memory, PAGE, "req_cons")).toBeLessThan(prod);
    // The guest consumes replies: reading resumes.
    L.set(memory, PAGE, "rsp_cons", L.getNumber(memory, PAGE, "rsp_prod"));
    servers.get(1)!.pump();
    expect(conn.outstanding).toBeLessThan(20);
  });
});
