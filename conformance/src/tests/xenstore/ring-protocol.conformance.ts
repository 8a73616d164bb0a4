/**
 * The xenstore protocol over a ring page laid out in the cell's data model (byte order of
 * the indexes and `xsd_sockmsg` headers): a guest-side xenbus client talks to xenstored
 * through `struct xenstore_domain_interface` as a guest of that arch would, and each
 * reply is the one docs/misc/xenstore.txt and the C xenstored give. Guest code driving
 * the ring through the store event channel comes with the built-in dom0.
 */
import { XENSTORE_DOMAIN_INTERFACE, XenstoreError, XenstoreMessageType as T } from "@hvkit/core";
import {
  XenbusClient,
  XenbusError,
  XenbusRingTransport,
  XenstoreDaemon,
  XenstoreRingServer,
  createDomainHome,
  encodeMessage,
  nulStrings,
} from "@hvkit/guests";
import { expectEqual, success, type ConformanceTest } from "../../conformance-test.js";

function code(f: () => unknown): string {
  try {
    f();
    return "OK";
  } catch (e) {
    return e instanceof XenbusError ? e.code : String(e);
  }
}

/** Xenstore requests, errors, watches and transactions over the cell's ring layout. */
export const xenstoreRingProtocol: ConformanceTest = {
  area: "xenstore",
  name: "ring-protocol",
  description:
    "xenstored answers every request over a xenstore_domain_interface ring in the cell's byte order: errors by name, watches with the initial fire and relative paths, EAGAIN on a conflicting commit, error PROTO for an oversized payload",
  requires: { guests: ["hvkit-test"] },
  run(ctx) {
    const model = ctx.arch.dataModel;
    const layout = XENSTORE_DOMAIN_INTERFACE.layout(model);
    const view = new DataView(new ArrayBuffer(3 * 4096));
    const daemon = new XenstoreDaemon({ domainExists: () => true });
    const client = (domid: number, base: number): XenbusClient => {
      createDomainHome(daemon, {
        domid,
        name: `d${domid}`,
        storePort: 1,
        storeRingRef: 1,
        memoryKiB: 1024,
      });
      const server = new XenstoreRingServer(daemon, daemon.connect(domid), view, base, model);
      return new XenbusClient(new XenbusRingTransport(view, base, () => server.pump(), model));
    };
    const a = client(1, 4096);
    const b = client(2, 8192);

    expectEqual("READ domid", a.read("domid"), "1");
    expectEqual("GET_DOMAIN_PATH", a.getDomainPath(1), "/local/domain/1");
    a.watch("data", "tok");
    expectEqual(
      "initial watch event",
      JSON.stringify(a.poll()),
      JSON.stringify([{ path: "data", token: "tok" }]),
    );
    a.write("data/x", "1");
    expectEqual(
      "relative watch event",
      JSON.stringify(a.poll()),
      JSON.stringify([{ path: "data/x", token: "tok" }]),
    );
    expectEqual(
      "READ of a missing node",
      code(() => a.read("data/none")),
      "ENOENT",
    );
    expectEqual(
      "READ of another domain's data",
      code(() => b.read("/local/domain/1/data/x")),
      "EACCES",
    );
    expectEqual(
      "WRITE of a read-only node",
      code(() => a.write("name", "x")),
      "EACCES",
    );
    expectEqual(
      "READ of a bad path",
      code(() => a.read("data//x")),
      "EINVAL",
    );
    expectEqual(
      "INTRODUCE from a domU",
      code(() => a.request(T.INTRODUCE, nulStrings("5", "1", "1"))),
      "EACCES",
    );
    expectEqual(
      "the removed RESTRICT type",
      code(() => a.request(20, nulStrings(""))),
      "ENOSYS",
    );

    const tx = a.transactionStart();
    a.read("data/x", tx);
    a.write("data/x", "2");
    a.write("data/y", "1", tx);
    expectEqual(
      "conflicting commit",
      code(() => a.transactionEnd(tx, true)),
      "EAGAIN",
    );
    expectEqual(
      "aborted write is gone",
      code(() => a.read("data/y")),
      "ENOENT",
    );

    // An oversized payload: xenstored stops serving the ring and says why.
    const bad = encodeMessage(
      { type: T.READ, reqId: 9, txId: 0, payload: new Uint8Array(0) },
      layout.littleEndian,
    );
    new DataView(bad.buffer).setUint32(12, 4097, layout.littleEndian);
    const prod = layout.getNumber(view, 8192, "req_prod");
    for (let i = 0; i < 16; i++)
      view.setUint8(8192 + layout.offsetOf("req") + ((prod + i) & 1023), bad[i]);
    layout.set(view, 8192, "req_prod", prod + 16);
    expectEqual(
      "overlong payload",
      code(() => b.read("domid")),
      "EIO",
    );
    expectEqual("ring error field", layout.getNumber(view, 8192, "error"), XenstoreError.PROTO);
    expectEqual("other ring unaffected", a.read("data/x"), "2");
    return success(`${model}: requests, errors, watches, transactions, PROTO error`);
  },
};
