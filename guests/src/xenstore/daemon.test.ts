import { XenstoreMessageType as T, XenstoreServerFeature } from "@hvkit/core";
import { describe, expect, it } from "vitest";
import { XenstoreDaemon, type XenstoreConnection, type XsDomainInfo } from "./daemon.js";
import { XsQuota } from "./quota.js";
import { createDomainHome } from "./toolstack.js";
import { bytesOf, nulStrings, splitStrings, textOf } from "./wire.js";

let reqId = 1;
/** Sends one request; returns [type, strings or text] of its reply. */
function rq(d: XenstoreDaemon, c: XenstoreConnection, type: number, payload: Uint8Array, txId = 0) {
  const id = reqId++;
  d.handle(c, { type, reqId: id, txId, payload });
  const i = c.outbox.findIndex((m) => m.reqId === id && m.type !== T.WATCH_EVENT);
  expect(i).toBeGreaterThanOrEqual(0);
  const [m] = c.outbox.splice(i, 1);
  return { type: m.type, strings: splitStrings(m.payload), text: textOf(m.payload), txId: m.txId };
}
const s = (...p: string[]) => nulStrings(...p);
function wr(path: string, value: string): Uint8Array {
  const a = bytesOf(path);
  const out = new Uint8Array(a.length + 1 + value.length);
  out.set(a);
  out.set(bytesOf(value), a.length + 1);
  return out;
}
function err(r: { type: number; strings: string[] }): string | null {
  return r.type === T.ERROR ? r.strings[0] : null;
}
function events(c: XenstoreConnection): string[] {
  const out: string[] = [];
  for (let i = 0; i < c.outbox.length;) {
    if (c.outbox[i].type === T.WATCH_EVENT) {
      out.push(splitStrings(c.outbox[i].payload).join(" "));
      c.outbox.splice(i, 1);
    } else i++;
  }
  return out;
}
function setup() {
  const d = new XenstoreDaemon({ domainExists: (id) => id < 100 });
  const dom0 = d.connect(0);
  createDomainHome(d, {
    domid: 1,
    name: "guest",
    storePort: 2,
    storeRingRef: 0x1234,
    memoryKiB: 65536,
  });
  createDomainHome(d, {
    domid: 2,
    name: "other",
    storePort: 2,
    storeRingRef: 0x2234,
    memoryKiB: 65536,
  });
  return { d, dom0, u1: d.connect(1), u2: d.connect(2) };
}

describe("xenstored requests", () => {
  it("initial tree and toolstack home", () => {
    const { d, dom0, u1 } = setup();
    expect(rq(d, dom0, T.DIRECTORY, s("/")).strings).toEqual(["tool", "local"]);
    expect(rq(d, dom0, T.GET_PERMS, s("@releaseDomain")).strings).toEqual(["n0", "r32757"]);
    expect(rq(d, u1, T.READ, s("domid")).text).toBe("1");
    expect(rq(d, u1, T.READ, s("store/ring-ref")).text).toBe(String(0x1234));
    expect(rq(d, u1, T.GET_PERMS, s("data")).strings).toEqual(["n1"]);
    expect(rq(d, u1, T.GET_PERMS, s("/local/domain/1")).strings).toEqual(["n0", "r1"]);
    expect(err(rq(d, u1, T.READ, s("/tool/xenstored")))).toBe("EACCES");
    expect(err(rq(d, u1, T.WRITE, wr("name", "x")))).toBe("EACCES");
  });

  it("write/read/mkdir/rm/directory success and errors", () => {
    const { d, u1 } = setup();
    expect(rq(d, u1, T.WRITE, wr("data/a/b", "v")).strings).toEqual(["OK"]);
    expect(rq(d, u1, T.READ, s("data/a/b")).text).toBe("v");
    expect(rq(d, u1, T.READ, s("data/a")).text).toBe("");
    expect(rq(d, u1, T.GET_PERMS, s("data/a/b")).strings).toEqual(["n1"]);
    expect(rq(d, u1, T.MKDIR, s("data/a")).strings).toEqual(["OK"]);
    expect(rq(d, u1, T.DIRECTORY, s("data/a")).strings).toEqual(["b"]);
    expect(err(rq(d, u1, T.READ, s("data/none")))).toBe("ENOENT");
    expect(err(rq(d, u1, T.READ, s("data//x")))).toBe("EINVAL");
    expect(err(rq(d, u1, T.READ, s("data/x/")))).toBe("EINVAL");
    expect(err(rq(d, u1, T.READ, s("data/x y")))).toBe("EINVAL");
    expect(err(rq(d, u1, T.READ, s("@releaseDomain")))).toBe("EINVAL");
    expect(err(rq(d, u1, T.READ, new Uint8Array([0x61, 0, 0x62, 0])))).toBe("EINVAL");
    expect(err(rq(d, u1, T.WRITE, bytesOf("nonul")))).toBe("EINVAL");
    expect(rq(d, u1, T.RM, s("data/a")).strings).toEqual(["OK"]);
    expect(err(rq(d, u1, T.READ, s("data/a/b")))).toBe("ENOENT");
    expect(rq(d, u1, T.RM, s("data/a")).strings).toEqual(["OK"]);
    expect(err(rq(d, u1, T.RM, s("data/a/b")))).toBe("ENOENT");
    expect(err(rq(d, u1, T.READ, s("/local/domain/2/data")))).toBe("EACCES");
    expect(err(rq(d, u1, T.READ, s("/local/domain/2/nothing")))).toBe("EACCES");
    expect(err(rq(d, u1, 20, s("x")))).toBe("ENOSYS");
    expect(err(rq(d, u1, T.WATCH_EVENT, s("x")))).toBe("ENOSYS");
    expect(err(rq(d, u1, 0xffff, s("x")))).toBe("ENOSYS");
  });

  it("reply keeps req_id and tx_id; oversized DIRECTORY is E2BIG; DIRECTORY_PART pages", () => {
    const { d, dom0 } = setup();
    for (let i = 0; i < 300; i++) rq(d, dom0, T.MKDIR, s(`/big/child-with-a-long-name-${i}`));
    expect(err(rq(d, dom0, T.DIRECTORY, s("/big")))).toBe("E2BIG");
    const names: string[] = [];
    let off = 0;
    let gen = "";
    for (;;) {
      const r = rq(d, dom0, T.DIRECTORY_PART, s("/big", String(off)));
      const [g, ...rest] = r.strings;
      if (gen) expect(g).toBe(gen);
      gen = g;
      const done = rest.length > 0 && rest[rest.length - 1] === "";
      const kids = done ? rest.slice(0, -1) : rest;
      names.push(...kids);
      off += kids.reduce((n, k) => n + k.length + 1, 0);
      if (done || kids.length === 0) break;
    }
    expect(names.length).toBe(300);
    expect(err(rq(d, dom0, T.DIRECTORY_PART, s("/big")))).toBe("EINVAL");
  });

  it("permissions: owner, ACL entries, default, SET_PERMS rules", () => {
    const { d, dom0, u1, u2 } = setup();
    rq(d, u1, T.WRITE, wr("data/shared", "x"));
    expect(err(rq(d, u2, T.READ, s("/local/domain/1/data/shared")))).toBe("EACCES");
    expect(rq(d, u1, T.SET_PERMS, s("data/shared", "n1", "r2")).strings).toEqual(["OK"]);
    expect(rq(d, u2, T.READ, s("/local/domain/1/data/shared")).text).toBe("x");
    expect(err(rq(d, u2, T.WRITE, wr("/local/domain/1/data/shared", "y")))).toBe("EACCES");
    rq(d, u1, T.SET_PERMS, s("data/shared", "r1", "w2"));
    expect(err(rq(d, u2, T.READ, s("/local/domain/1/data/shared")))).toBe("EACCES");
    expect(rq(d, u2, T.WRITE, wr("/local/domain/1/data/shared", "y")).strings).toEqual(["OK"]);
    rq(d, u1, T.SET_PERMS, s("data/shared", "b1"));
    expect(rq(d, u2, T.READ, s("/local/domain/1/data/shared")).text).toBe("y");
    expect(err(rq(d, u2, T.SET_PERMS, s("/local/domain/1/data/shared", "b2")))).toBe("EACCES");
    expect(err(rq(d, u1, T.SET_PERMS, s("data/shared", "n2")))).toBe("EPERM");
    expect(err(rq(d, u1, T.SET_PERMS, s("data/shared", "x1")))).toBe("EINVAL");
    expect(err(rq(d, u1, T.SET_PERMS, s("data/shared", "r")))).toBe("EINVAL");
    expect(err(rq(d, u1, T.SET_PERMS, s("data/shared")))).toBe("EINVAL");
    expect(err(rq(d, u1, T.SET_PERMS, s("data/shared", "n500")))).toBe("ENOENT");
    // Entries for domains that do not exist are kept but ignored.
    rq(d, u1, T.SET_PERMS, s("data/shared", "n1", "r500"));
    expect(rq(d, u1, T.GET_PERMS, s("data/shared")).strings).toEqual(["n1", "r500"]);
    // dom0 can change the owner and bypasses the ACL.
    expect(rq(d, dom0, T.SET_PERMS, s("/local/domain/1/data/shared", "n2")).strings).toEqual([
      "OK",
    ]);
    expect(rq(d, u2, T.READ, s("/local/domain/1/data/shared")).text).toBe("y");
    expect(rq(d, dom0, T.READ, s("/local/domain/1/data/shared")).text).toBe("y");
    // Children created by dom0 inherit the parent's ACL unchanged; by a domU, owned by it.
    rq(d, dom0, T.WRITE, wr("/local/domain/1/data/byzero", ""));
    expect(rq(d, dom0, T.GET_PERMS, s("/local/domain/1/data/byzero")).strings).toEqual(["n1"]);
    // DOMID_ANY entries grant every domain.
    rq(d, u1, T.SET_PERMS, s("data/byzero", "n1", "r32757"));
    expect(rq(d, u2, T.READ, s("/local/domain/1/data/byzero")).text).toBe("");
  });

  it("SET_TARGET lets a domain act as another", () => {
    const { d, dom0, u1, u2 } = setup();
    rq(d, u1, T.WRITE, wr("data/t", "v"));
    expect(err(rq(d, u2, T.READ, s("/local/domain/1/data/t")))).toBe("EACCES");
    expect(rq(d, dom0, T.SET_TARGET, s("2", "1")).strings).toEqual(["OK"]);
    expect(rq(d, u2, T.READ, s("/local/domain/1/data/t")).text).toBe("v");
    expect(err(rq(d, dom0, T.SET_TARGET, s("2", "77")))).toBe("ENOENT");
    expect(err(rq(d, dom0, T.SET_TARGET, s("2")))).toBe("EINVAL");
    expect(err(rq(d, u1, T.SET_TARGET, s("1", "2")))).toBe("EACCES");
  });
});

describe("watches", () => {
  it("fire once on WATCH, on subtree changes, relative paths stay relative", () => {
    const { d, u1 } = setup();
    expect(rq(d, u1, T.WATCH, s("data", "tok")).strings).toEqual(["OK"]);
    expect(events(u1)).toEqual(["data tok"]);
    rq(d, u1, T.WRITE, wr("data/x/y", "1"));
    expect(events(u1)).toEqual(["data/x/y tok"]);
    rq(d, u1, T.WATCH, s("/local/domain/1/data/x", "abs"));
    events(u1);
    rq(d, u1, T.WRITE, wr("data/x/y", "2"));
    expect(events(u1).sort()).toEqual(["/local/domain/1/data/x/y abs", "data/x/y tok"]);
    rq(d, u1, T.WATCH, s("data/x/y", "leaf"));
    events(u1);
    // Removal fires children first, each only for watches on exactly that node, then the
    // removed root for every watch at or above it (delnode_sub).
    rq(d, u1, T.RM, s("data/x"));
    expect(events(u1)).toEqual(["data/x/y leaf", "data/x tok", "/local/domain/1/data/x abs"]);
    expect(err(rq(d, u1, T.WATCH, s("data", "tok")))).toBe("EEXIST");
    expect(rq(d, u1, T.UNWATCH, s("data", "tok")).strings).toEqual(["OK"]);
    expect(err(rq(d, u1, T.UNWATCH, s("data", "tok")))).toBe("ENOENT");
    expect(err(rq(d, u1, T.WATCH, s("data")))).toBe("EINVAL");
    expect(err(rq(d, u1, T.WATCH, s("data", "t", "-1")))).toBe("EINVAL");
  });

  it("depth limits matches; watches need read access to the node or its parent", () => {
    const { d, u1, u2 } = setup();
    rq(d, u1, T.WATCH, s("data", "d0", "0"));
    rq(d, u1, T.WATCH, s("data", "d1", "1"));
    events(u1);
    rq(d, u1, T.WRITE, wr("data/a", "1"));
    expect(events(u1)).toEqual(["data/a d1"]);
    rq(d, u1, T.WRITE, wr("data/a/b", "1"));
    expect(events(u1)).toEqual([]);
    rq(d, u2, T.WATCH, s("/local/domain/1/data", "spy"));
    expect(events(u2)).toEqual(["/local/domain/1/data spy"]);
    rq(d, u1, T.WRITE, wr("data/a/b", "2"));
    expect(events(u2)).toEqual([]);
  });

  it("duplicate pending events are merged", () => {
    const { d, u1 } = setup();
    rq(d, u1, T.WATCH, s("data", "t"));
    events(u1);
    rq(d, u1, T.WRITE, wr("data/a", "1"));
    rq(d, u1, T.WRITE, wr("data/a", "2"));
    expect(events(u1)).toEqual(["data/a t"]);
  });

  it("@introduceDomain and @releaseDomain, RELEASE removes the domain's nodes", () => {
    const { d, dom0, u1 } = setup();
    rq(d, dom0, T.WATCH, s("@introduceDomain", "i"));
    rq(d, dom0, T.WATCH, s("@releaseDomain", "r"));
    rq(d, dom0, T.WATCH, s("@releaseDomain/7", "r7"));
    rq(d, u1, T.WATCH, s("@releaseDomain", "u"));
    rq(d, u1, T.WATCH, s("@introduceDomain", "ui"));
    events(dom0);
    events(u1);
    expect(rq(d, dom0, T.INTRODUCE, s("7", "4096", "3")).strings).toEqual(["OK"]);
    expect(events(dom0)).toEqual(["@introduceDomain i"]);
    expect(events(u1)).toEqual([]);
    expect(rq(d, dom0, T.IS_DOMAIN_INTRODUCED, s("7")).strings).toEqual(["T"]);
    expect(rq(d, dom0, T.IS_DOMAIN_INTRODUCED, s("8")).strings).toEqual(["F"]);
    expect(rq(d, dom0, T.IS_DOMAIN_INTRODUCED, s(String(0x7ff0))).strings).toEqual(["T"]);
    expect(err(rq(d, dom0, T.IS_DOMAIN_INTRODUCED, s("70000")))).toBe("EINVAL");
    expect(err(rq(d, u1, T.IS_DOMAIN_INTRODUCED, s("7")))).toBe("EACCES");
    const u7 = d.domain(7)!.conn!;
    createDomainHome(d, {
      domid: 7,
      name: "seven",
      storePort: 3,
      storeRingRef: 1,
      memoryKiB: 1024,
    });
    rq(d, u7, T.WRITE, wr("data/mine", "1"));
    rq(d, u1, T.SET_PERMS, s("data", "n1", "r7"));
    expect(rq(d, dom0, T.RELEASE, s("7")).strings).toEqual(["OK"]);
    expect(events(dom0)).toEqual(["@releaseDomain r", "@releaseDomain/7 r7"]);
    expect(events(u1)).toEqual(["@releaseDomain u"]);
    expect(d.peek("/local/domain/7/data/mine")).toBeUndefined();
    expect(d.peek("/local/domain/7/domid")).toBeDefined();
    expect(rq(d, u1, T.GET_PERMS, s("data")).strings).toEqual(["n1"]);
    expect(err(rq(d, dom0, T.RELEASE, s("7")))).toBe("ENOENT");
    expect(err(rq(d, dom0, T.RELEASE, s("0")))).toBe("EINVAL");
    expect(err(rq(d, dom0, T.RESUME, s("7")))).toBe("ENOENT");
    expect(rq(d, dom0, T.RESUME, s("1")).strings).toEqual(["OK"]);
    expect(err(rq(d, dom0, T.INTRODUCE, s("9", "1", "0")))).toBe("EINVAL");
    expect(err(rq(d, dom0, T.INTRODUCE, s("9", "1")))).toBe("EINVAL");
    expect(err(rq(d, u1, T.INTRODUCE, s("9", "1", "1")))).toBe("EACCES");
    expect(rq(d, u1, T.GET_DOMAIN_PATH, s("12")).strings).toEqual(["/local/domain/12"]);
    expect(err(rq(d, u1, T.GET_DOMAIN_PATH, s("x")))).toBe("EINVAL");
  });

  it("RESET_WATCHES drops watches and transactions", () => {
    const { d, u1 } = setup();
    rq(d, u1, T.WATCH, s("data", "t"));
    const tx = Number(rq(d, u1, T.TRANSACTION_START, s("")).strings[0]);
    events(u1);
    expect(rq(d, u1, T.RESET_WATCHES, s("")).strings).toEqual(["OK"]);
    rq(d, u1, T.WRITE, wr("data/a", "1"));
    expect(events(u1)).toEqual([]);
    expect(err(rq(d, u1, T.READ, s("data"), tx))).toBe("ENOENT");
  });
});

describe("transactions", () => {
  it("snapshot, commit, watches fire on commit only", () => {
    const { d, u1 } = setup();
    rq(d, u1, T.WATCH, s("data", "t"));
    events(u1);
    const r = rq(d, u1, T.TRANSACTION_START, s(""));
    const tx = Number(r.strings[0]);
    expect(tx).toBe(1);
    rq(d, u1, T.WRITE, wr("data/a", "1"), tx);
    expect(events(u1)).toEqual([]);
    expect(err(rq(d, u1, T.READ, s("data/a")))).toBe("ENOENT");
    expect(rq(d, u1, T.READ, s("data/a"), tx).text).toBe("1");
    expect(err(rq(d, u1, T.TRANSACTION_START, s(""), tx))).toBe("EBUSY");
    expect(rq(d, u1, T.TRANSACTION_END, s("T"), tx).txId).toBe(tx);
    expect(rq(d, u1, T.READ, s("data/a")).text).toBe("1");
    expect(events(u1)).toEqual(["data/a t"]);
    expect(err(rq(d, u1, T.TRANSACTION_END, s("T"), tx))).toBe("ENOENT");
    expect(err(rq(d, u1, T.READ, s("data/a"), 99))).toBe("ENOENT");
  });

  it("abort discards; conflict gives EAGAIN; bad END argument is EINVAL", () => {
    const { d, u1 } = setup();
    rq(d, u1, T.WRITE, wr("data/a", "0"));
    let tx = Number(rq(d, u1, T.TRANSACTION_START, s("")).strings[0]);
    rq(d, u1, T.WRITE, wr("data/b", "1"), tx);
    expect(err(rq(d, u1, T.TRANSACTION_END, s("X"), tx))).toBe("EINVAL");
    expect(rq(d, u1, T.TRANSACTION_END, s("F"), tx).strings).toEqual(["OK"]);
    expect(err(rq(d, u1, T.READ, s("data/b")))).toBe("ENOENT");
    tx = Number(rq(d, u1, T.TRANSACTION_START, s("")).strings[0]);
    expect(rq(d, u1, T.READ, s("data/a"), tx).text).toBe("0");
    rq(d, u1, T.WRITE, wr("data/a", "outside"));
    expect(rq(d, u1, T.READ, s("data/a"), tx).text).toBe("0");
    rq(d, u1, T.WRITE, wr("data/c", "1"), tx);
    expect(err(rq(d, u1, T.TRANSACTION_END, s("T"), tx))).toBe("EAGAIN");
    expect(err(rq(d, u1, T.READ, s("data/c")))).toBe("ENOENT");
    // A write to a node the transaction never read is no conflict.
    tx = Number(rq(d, u1, T.TRANSACTION_START, s("")).strings[0]);
    rq(d, u1, T.WRITE, wr("data/a", "tx"), tx);
    rq(d, u1, T.WRITE, wr("data/other", "x"));
    expect(rq(d, u1, T.TRANSACTION_END, s("T"), tx).strings).toEqual(["OK"]);
    expect(rq(d, u1, T.READ, s("data/a")).text).toBe("tx");
  });

  it("rm inside a transaction", () => {
    const { d, u1 } = setup();
    rq(d, u1, T.WRITE, wr("data/a/b", "0"));
    const tx = Number(rq(d, u1, T.TRANSACTION_START, s("")).strings[0]);
    rq(d, u1, T.RM, s("data/a"), tx);
    expect(err(rq(d, u1, T.READ, s("data/a/b"), tx))).toBe("ENOENT");
    expect(rq(d, u1, T.READ, s("data/a/b")).text).toBe("0");
    rq(d, u1, T.TRANSACTION_END, s("T"), tx);
    expect(err(rq(d, u1, T.READ, s("data/a")))).toBe("ENOENT");
    expect(rq(d, u1, T.DIRECTORY, s("data")).strings).toEqual([]);
  });
});

describe("quotas", () => {
  it("nodes, watches, transactions, node size, permissions, path length", () => {
    const { d, dom0, u1 } = setup();
    const q = (name: string, v: number) => rq(d, dom0, T.SET_QUOTA, s("1", name, String(v)));
    q("nodes", 20);
    const before = d.domain(1)!.used[0];
    let i = 0;
    let last = "";
    for (; i < 30; i++) {
      const r = rq(d, u1, T.WRITE, wr(`data/n${i}`, ""));
      if (r.type === T.ERROR) {
        last = r.strings[0];
        break;
      }
    }
    expect(last).toBe("ENOSPC");
    expect(before + i).toBe(19);
    expect(rq(d, dom0, T.GET_QUOTA, s("1", "nodes")).strings).toEqual(["20"]);
    expect(rq(d, dom0, T.GET_QUOTA, s("nodes")).strings).toEqual(["1000"]);
    q("watches", 3);
    rq(d, u1, T.WATCH, s("data", "a"));
    rq(d, u1, T.WATCH, s("data", "b"));
    expect(err(rq(d, u1, T.WATCH, s("data", "c")))).toBe("ENOSPC");
    q("transactions", 2);
    rq(d, u1, T.TRANSACTION_START, s(""));
    expect(err(rq(d, u1, T.TRANSACTION_START, s("")))).toBe("ENOSPC");
    expect(err(rq(d, u1, T.WRITE, wr("data/n0", "x".repeat(2048))))).toBe("ENOSPC");
    expect(rq(d, dom0, T.WRITE, wr("/local/domain/1/data/n0", "x".repeat(3000))).strings).toEqual([
      "OK",
    ]);
    expect(err(rq(d, u1, T.SET_PERMS, s("data/n1", "n1", "r0", "r2", "r3", "r4")))).toBe("ENOSPC");
    expect(rq(d, u1, T.SET_PERMS, s("data/n1", "n1", "r0", "r2", "r3")).strings).toEqual(["OK"]);
    expect(err(rq(d, u1, T.READ, s(`data/${"p".repeat(2048)}`)))).toBe("EINVAL");
    expect(err(rq(d, u1, T.READ, s(`data/${"p".repeat(2000)}`)))).toBe("ENOENT");
    expect(err(rq(d, u1, T.GET_QUOTA, s("nodes")))).toBe("EACCES");
    expect(err(rq(d, dom0, T.GET_QUOTA, s("bogus")))).toBe("EINVAL");
    expect(err(rq(d, dom0, T.SET_QUOTA, s("nodes")))).toBe("EINVAL");
    expect(rq(d, dom0, T.GET_QUOTA, s()).strings[0]).toBe(
      "nodes watches outstanding memory soft-memory transactions transaction-nodes node-permissions path-max node-size",
    );
  });

  it("transaction nodes quota fails the request with ENOSPC", () => {
    const { d, dom0, u1 } = setup();
    rq(d, dom0, T.SET_QUOTA, s("1", "transaction-nodes", "8"));
    const tx = Number(rq(d, u1, T.TRANSACTION_START, s("")).strings[0]);
    let code: string | null = null;
    for (let i = 0; i < 10 && !code; i++) code = err(rq(d, u1, T.WRITE, wr(`data/t${i}`, ""), tx));
    expect(code).toBe("ENOSPC");
  });

  it("features", () => {
    const { d, dom0, u1 } = setup();
    const all =
      XenstoreServerFeature.ERROR |
      XenstoreServerFeature.WATCHDEPTH |
      XenstoreServerFeature.DOMID_ANY;
    expect(rq(d, u1, T.GET_FEATURE, new Uint8Array(0)).strings).toEqual([String(all)]);
    expect(err(rq(d, u1, T.GET_FEATURE, s("1")))).toBe("EACCES");
    expect(rq(d, dom0, T.SET_FEATURE, s("50", "2")).strings).toEqual(["OK"]);
    expect(rq(d, dom0, T.GET_FEATURE, s("50")).strings).toEqual(["2"]);
    expect(err(rq(d, dom0, T.SET_FEATURE, s("1", "2")))).toBe("EBUSY");
    expect(err(rq(d, dom0, T.SET_FEATURE, s("51", "1")))).toBe("EINVAL");
    expect(err(rq(d, dom0, T.SET_FEATURE, s("500", "2")))).toBe("ENOENT");
  });
});

describe("more request paths", () => {
  it("CONTROL is dom0-only; memory quota turns a write into EIO; payloads up to 4096", () => {
    const { d, dom0, u1 } = setup();
    expect(rq(d, dom0, T.DEBUG, s("check")).strings).toEqual(["OK"]);
    expect(err(rq(d, dom0, T.DEBUG, s("bogus")))).toBe("EINVAL");
    expect(err(rq(d, u1, T.DEBUG, s("check")))).toBe("EACCES");
    rq(d, dom0, T.SET_QUOTA, s("1", "node-size", "0"));
    expect(rq(d, u1, T.WRITE, wr("data/big", "x".repeat(4000))).strings).toEqual(["OK"]);
    rq(d, dom0, T.SET_QUOTA, s("1", "memory", "5000"));
    expect(err(rq(d, u1, T.WRITE, wr("data/big2", "x".repeat(4000))))).toBe("EIO");
    expect(err(rq(d, u1, T.WATCH, s("data", "t".repeat(3000))))).toBe("ENOMEM");
    expect(rq(d, dom0, T.GET_QUOTA, s("1", "memory")).strings).toEqual(["5000"]);
    expect(rq(d, dom0, T.GET_QUOTA, s("soft-memory")).strings).toEqual([String(2 * 1024 * 1024)]);
    expect(err(rq(d, dom0, T.SET_QUOTA, s("nodes", "-1")))).toBe("EINVAL");
  });

  it("watch on a node that is later removed with its parent gets the exact event; @releaseDomain/<id> with depth 1", () => {
    const { d, dom0, u1 } = setup();
    rq(d, u1, T.WRITE, wr("data/p/c", "1"));
    rq(d, u1, T.WATCH, s("data/p/c", "c"));
    events(u1);
    rq(d, u1, T.RM, s("data/p"));
    expect(events(u1)).toEqual(["data/p/c c"]);
    rq(d, dom0, T.WATCH, s("@releaseDomain", "any", "1"));
    events(dom0);
    rq(d, dom0, T.RELEASE, s("2"));
    expect(events(dom0)).toEqual(["@releaseDomain/2 any"]);
  });

  describe("VIRQ_DOM_EXC: checkDomains (domain.c check_domains)", () => {
    const RUNNING: XsDomainInfo = { shutdown: false, dead: false };
    /** A daemon whose host reports `states` (absent: running; null: no such domain). */
    function world() {
      const states = new Map<number, XsDomainInfo | null>();
      const released: number[] = [];
      const d = new XenstoreDaemon({
        domainExists: (id) => states.get(id) !== null,
        domainInfo: (id) => (states.has(id) ? (states.get(id) ?? null) : RUNNING),
        release: (id) => released.push(id),
      });
      const dom0 = d.connect(0);
      for (const id of [7, 8]) {
        createDomainHome(d, {
          domid: id,
          name: `g${id}`,
          storePort: 3,
          storeRingRef: id,
          memoryKiB: 1024,
        });
        expect(rq(d, dom0, T.INTRODUCE, s(String(id), String(id), "3")).strings).toEqual(["OK"]);
      }
      rq(d, dom0, T.WATCH, s("@releaseDomain", "r"));
      rq(d, dom0, T.WATCH, s("@releaseDomain", "d1", "1"));
      rq(d, dom0, T.WATCH, s("@releaseDomain/7", "r7"));
      const u7 = d.domain(7)!.conn!;
      const u8 = d.domain(8)!.conn!;
      // @releaseDomain is readable by every domain (its ACL has DOMID_ANY: read).
      rq(d, u8, T.WATCH, s("@releaseDomain", "u"));
      events(dom0);
      events(u8);
      return { d, dom0, u7, u8, states, released };
    }

    it("a shutdown fires @releaseDomain once (and @releaseDomain/<id> for depth-1 and per-domain watches); the domain stays connected", () => {
      const { d, dom0, u7, u8, states, released } = world();
      d.checkDomains();
      expect(events(dom0)).toEqual([]); // nothing changed, nothing fires
      states.set(7, { shutdown: true, dead: false });
      d.checkDomains();
      expect(events(dom0)).toEqual([
        "@releaseDomain/7 d1",
        "@releaseDomain/7 r7",
        "@releaseDomain r",
      ]);
      expect(events(u8)).toEqual(["@releaseDomain u"]);
      d.checkDomains();
      expect(events(dom0)).toEqual([]); // noticed once: the record remembers the shutdown
      expect(events(u8)).toEqual([]);
      // Until it is dead, xenstored keeps serving it (a suspended guest may resume).
      expect(d.isIntroduced(7)).toBe(true);
      expect(rq(d, u7, T.READ, s("name")).text).toBe("g7");
      expect(released).toEqual([]);
      // RESUME clears the mark, so a later shutdown is reported again.
      expect(rq(d, dom0, T.RESUME, s("7")).strings).toEqual(["OK"]);
      d.checkDomains();
      expect(events(dom0)).toEqual([
        "@releaseDomain/7 d1",
        "@releaseDomain/7 r7",
        "@releaseDomain r",
      ]);
    });

    it("a destroyed domain is released: connection, watches, transactions, nodes and accounting go; the other domain is untouched", () => {
      const { d, dom0, u7, u8, states, released } = world();
      rq(d, u7, T.WRITE, wr("data/x", "1"));
      rq(d, u7, T.WATCH, s("data", "w"));
      const tx = Number(rq(d, u7, T.TRANSACTION_START, s("")).strings[0]);
      expect(tx).toBeGreaterThan(0);
      rq(d, u8, T.WRITE, wr("data/y", "2"));
      events(u8);
      const before8 = [...d.domain(8)!.used];
      states.set(7, null);
      d.checkDomains();
      expect(events(dom0)).toEqual([
        "@releaseDomain r",
        "@releaseDomain/7 d1",
        "@releaseDomain/7 r7",
      ]);
      expect(events(u8)).toEqual(["@releaseDomain u"]);
      expect(released).toEqual([7]);
      expect(d.isIntroduced(7)).toBe(false);
      expect(d.domain(7)).toBeUndefined();
      expect(u7.ignored).toBe(true);
      expect(u7.watches).toEqual([]);
      expect(u7.transactions.size).toBe(0);
      expect(d.peek("/local/domain/7/data/x")).toBeUndefined();
      expect(d.peek("/local/domain/7/data")).toBeUndefined();
      expect(d.peek("/local/domain/7/name")).toBeDefined(); // the toolstack's nodes stay
      // A released connection is not served; a new request gets no reply at all.
      d.handle(u7, { type: T.READ, reqId: 99, txId: 0, payload: s("name") });
      expect(u7.outbox).toEqual([]);
      // Domain 8 goes on as before.
      expect(d.isIntroduced(8)).toBe(true);
      expect(d.domain(8)!.used).toEqual(before8);
      expect(rq(d, u8, T.READ, s("data/y")).text).toBe("2");
      d.checkDomains();
      expect(events(dom0)).toEqual([]);
      expect(released).toEqual([7]);
      // The id can be introduced afresh, with nothing charged to it from before.
      states.delete(7);
      expect(rq(d, dom0, T.INTRODUCE, s("7", "7", "3")).strings).toEqual(["OK"]);
      expect(d.domain(7)!.used[XsQuota.Watches]).toBe(0);
      expect(d.domain(7)!.used[XsQuota.Transactions]).toBe(0);
    });

    it("a dead domain that had shut down unnoticed: @releaseDomain/<id> then the release", () => {
      const { d, dom0, states } = world();
      states.set(8, { shutdown: true, dead: true });
      d.checkDomains();
      expect(events(dom0)).toEqual([
        "@releaseDomain/8 d1",
        "@releaseDomain r",
        "@releaseDomain/8 d1",
      ]);
      expect(d.isIntroduced(8)).toBe(false);
      expect(d.isIntroduced(7)).toBe(true);
    });

    it("a domain known only for accounting that is gone is forgotten silently, its nodes removed", () => {
      const { d, dom0 } = world();
      createDomainHome(d, { domid: 9, name: "g9", storePort: 3, storeRingRef: 9, memoryKiB: 1 });
      expect(d.peek("/local/domain/9/data")).toBeDefined();
      // Through the fallback (no domainInfo): domainExists turns false.
      let exists = true;
      const gone = new XenstoreDaemon({ domainExists: (id) => id === 0 || exists });
      createDomainHome(gone, { domid: 9, name: "g9", storePort: 3, storeRingRef: 9, memoryKiB: 1 });
      gone.checkDomains();
      expect(gone.peek("/local/domain/9/data")).toBeDefined();
      exists = false;
      gone.checkDomains();
      expect(gone.peek("/local/domain/9/data")).toBeUndefined();
      expect(gone.domain(9)).toBeUndefined();
      expect(gone.peek("/local/domain/9/name")).toBeDefined();
      d.checkDomains(); // 9 still exists in this world
      expect(d.peek("/local/domain/9/data")).toBeDefined();
      expect(events(dom0)).toEqual([]);
    });
  });
});
