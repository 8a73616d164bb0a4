/**
 * The xenstore protocol over a domU's own store ring (start_info store_mfn/store_evtchn,
 * or the arch's equivalent), from the guest side: the guest writes `xsd_sockmsg` requests
 * into the ring page it mapped, in its byte order, notifies the store event channel and
 * reads xenstored's replies (docs/misc/xenstore.txt, xenstore-ring.txt, the C xenstored):
 * its domid in the home the toolstack wrote, GET_DOMAIN_PATH, a watch with the initial
 * fire and relative paths, errors by name (ENOENT, EACCES for a node it may not read or
 * write, EINVAL for a bad path, EACCES for INTRODUCE from a domU, ENOSYS for the removed
 * RESTRICT type), EAGAIN on a conflicting transaction commit, and — last, since it ends
 * the connection — an overlong payload: xenstored stops serving the ring and sets its
 * error field to XENSTORE_ERROR_PROTO.
 */
import { XenstoreError, XenstoreMessageType as T, XENSTORE_DOMAIN_INTERFACE } from "@hvkit/core";
import { XenbusClient, XenbusError, encodeMessage, nulStrings } from "@hvkit/guests";
import { skip } from "../../conformance-test.js";
import { AgentStoreTransport, mapBootFrame } from "../../agent-rings.js";
import { agentTest } from "../agent-test.js";

/** What `f` returns, or the xenstore error it fails with ("ENOENT", "EIO"); `true` for no value. */
function attempt(f: () => unknown): string | boolean {
  try {
    const v = f();
    return typeof v === "string" ? v : true;
  } catch (e) {
    return e instanceof XenbusError ? e.code : String(e);
  }
}

/** xenstore/ring-protocol. */
export const xenstoreRingProtocol = agentTest({
  area: "xenstore",
  name: "ring-protocol",
  description:
    "a domU's xenbus requests over its store ring: replies, errors by name, watches, EAGAIN on a conflicting commit, error PROTO for an oversized payload",
  requires: { roles: ["domU"], features: ["frames"] },
  run(agent, check) {
    const info = agent.bootInfo();
    if (info.storeFrame === null || info.storeEvtchn === null) {
      return skip("the domain has no store ring");
    }
    const page = mapBootFrame(agent, info.storeFrame, 0);
    const transport = new AgentStoreTransport(agent, page, info.storeEvtchn);
    const xs = new XenbusClient(transport);
    const id = agent.session.domain.id;

    check.equal(
      "READ domid",
      attempt(() => xs.read("domid")),
      String(id),
    );
    check.equal(
      "GET_DOMAIN_PATH",
      attempt(() => xs.getDomainPath(id)),
      `/local/domain/${id}`,
    );
    xs.watch("data", "tok");
    check.equal(
      "initial watch event",
      JSON.stringify(xs.poll()),
      JSON.stringify([{ path: "data", token: "tok" }]),
    );
    xs.write("data/x", "1");
    check.equal(
      "relative watch event",
      JSON.stringify(xs.poll()),
      JSON.stringify([{ path: "data/x", token: "tok" }]),
    );
    check.equal(
      "READ data/x",
      attempt(() => xs.read("data/x")),
      "1",
    );
    check.equal(
      "READ of a missing node",
      attempt(() => xs.read("data/none")),
      "ENOENT",
    );
    check.equal(
      "READ /tool/xenstored",
      attempt(() => xs.read("/tool/xenstored")),
      "EACCES",
    );
    check.equal(
      "WRITE of the read-only node name",
      attempt(() => xs.write("name", "x")),
      "EACCES",
    );
    check.equal(
      "READ of a bad path",
      attempt(() => xs.read("data//x")),
      "EINVAL",
    );
    check.equal(
      "INTRODUCE from a domU",
      attempt(() => xs.request(T.INTRODUCE, nulStrings("5", "1", "1"))),
      "EACCES",
    );
    check.equal(
      "the removed RESTRICT type (20)",
      attempt(() => xs.request(20, nulStrings(""))),
      "ENOSYS",
    );

    const tx = xs.transactionStart();
    xs.read("data/x", tx);
    xs.write("data/x", "2");
    xs.write("data/y", "1", tx);
    check.equal(
      "conflicting commit",
      attempt(() => xs.transactionEnd(tx, true)),
      "EAGAIN",
    );
    check.equal(
      "the aborted write is gone",
      attempt(() => xs.read("data/y")),
      "ENOENT",
    );
    check.equal(
      "the write outside the transaction stays",
      attempt(() => xs.read("data/x")),
      "2",
    );

    // An oversized payload (len 4097 > XENSTORE_PAYLOAD_MAX): xenstored stops serving.
    const bad = encodeMessage(
      { type: T.READ, reqId: 9, txId: 0, payload: new Uint8Array(0) },
      transport.littleEndian,
    );
    new DataView(bad.buffer).setUint32(12, 4097, transport.littleEndian);
    transport.write(bad);
    check.equal(
      "after an overlong payload the ring is dead",
      attempt(() => xs.read("domid")),
      "EIO",
    );
    const layout = XENSTORE_DOMAIN_INTERFACE.layout(agent.arch.dataModel);
    check.equal(
      "the ring's error field",
      agent.readUint(page + BigInt(layout.offsetOf("error")), 4),
      XenstoreError.PROTO,
    );
  },
});
