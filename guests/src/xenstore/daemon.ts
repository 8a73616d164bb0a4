/**
 * xenstored: the store tree, permissions, watches, transactions, quotas and the whole
 * request set, with the behaviour of the C xenstored (tools/xenstored/core.c, domain.c,
 * watch.c, transaction.c) and docs/misc/xenstore.txt.
 *
 * The daemon is transport-free: a {@link XenstoreConnection} receives whole requests
 * through {@link XenstoreDaemon.handle} and collects replies and watch events in its
 * {@link XenstoreConnection.outbox}; a ring transport (ring.ts) moves bytes. Nothing a
 * client sends makes the daemon throw: every failure becomes an XS_ERROR reply.
 *
 * Model notes (as in C): nodes are kept by full name with a generation count; a
 * transaction copies a node into its own overlay on first access and records the
 * generation it saw; TRANSACTION_END "T" fails with EAGAIN when any node read in the
 * transaction changed generation since. Node ownership is the first ACL entry; counts of
 * nodes and bytes are charged to the owner, quota checks look at the requesting domain.
 *
 * @module
 */
import { DomId, XenstoreMessageType as T, XenstoreServerFeature } from "@hvkit/core";
import {
  XS_DOMID_ANY,
  XS_ERROR_NAMES,
  XS_PAYLOAD_MAX,
  XS_TYPE_COUNT,
  XsPerm,
  bytesOf,
  formatPermission,
  nulStrings,
  parsePermission,
  splitStrings,
  textOf,
  type XsErrorName,
  type XsMessage,
  type XsPermission,
} from "./wire.js";
import {
  XS_QUOTA_DEFAULTS,
  XS_QUOTA_DISABLED,
  XS_QUOTA_NAMES,
  XS_SOFT_MEMORY_DEFAULT,
  XsQuota,
} from "./quota.js";

/** Features the daemon offers (C xenstored's XENSTORE_FEATURES: no reconnection). */
export const XENSTORED_FEATURES =
  XenstoreServerFeature.ERROR | XenstoreServerFeature.WATCHDEPTH | XenstoreServerFeature.DOMID_ANY;

/** The privileged domain (xenstored's priv_domid). */
export const XS_PRIV_DOMID = 0;

const NO_GENERATION = -1;

/** One node of the store. Treated as immutable: a change stores a new object. */
export interface XsNode {
  /** ACL: entry 0 is the owner and the rights of every domain without an entry. */
  readonly perms: readonly XsPermission[];
  /** The value (binary). */
  readonly data: Uint8Array;
  /** Child names, in creation order. */
  readonly children: readonly string[];
  /** Generation count of the last change. */
  generation: number;
}

/** Bytes xenstored accounts for a node (16-byte header + 8 per ACL entry + value + children). */
export function nodeSize(node: XsNode): number {
  let n = 16 + 8 * node.perms.length + node.data.length;
  for (const c of node.children) n += c.length + 1;
  return n;
}

enum Match {
  Exact,
  Subtree,
  Depth,
  NoDepth,
}

interface Watch {
  readonly node: string;
  readonly token: string;
  readonly depth: number;
  readonly prefixLen: number;
}

interface Accessed {
  generation: number;
  checkGen: boolean;
  modified: boolean;
  fireWatch: boolean;
  match: Match;
  oldPerms: readonly XsPermission[] | null;
}

interface Transaction {
  readonly id: number;
  readonly accessed: Map<string, Accessed>;
  readonly overlay: Map<string, XsNode | null>;
  readonly nodeDelta: Map<number, number>;
  nodeCreated: boolean;
  fail: boolean;
}

/**
 * What a transport attached to a connection lets the daemon do to the ring (set by the
 * ring server; absent for connections driven directly, e.g. in tests).
 */
export interface XenstoreRingLink {
  /** Empties both rings (indexes to 0) and drops partial messages (domain_conn_reset). */
  reset(): void;
  /** Writes the `server_features` word. */
  setFeatures(features: number): void;
  /** Sets `connection` back to CONNECTED if the guest asked for a reconnect; true if it did. */
  finishReconnect(): boolean;
  /** Writes the `error` field (only when the ERROR feature is enabled). */
  setError(error: number): void;
}

/** One client of the daemon: a domain's ring (or dom0's local connection). */
export class XenstoreConnection {
  /** Replies and watch events not yet handed to the transport, oldest first. */
  readonly outbox: XsMessage[] = [];
  /** @internal */ readonly watches: Watch[] = [];
  /** @internal */ readonly transactions = new Map<number, Transaction>();
  /** @internal */ nextTransactionId = 0;
  /** Connection this one acts for (SET_TARGET), or null. */
  target: XenstoreConnection | null = null;
  /** True once the daemon stopped serving this connection (protocol error, release). */
  ignored = false;
  /** The ring transport, if any. */
  ring: XenstoreRingLink | null = null;

  /**
   * @param domid - the domain on the other end.
   * @param home - its home path, `/local/domain/<domid>` (base of relative paths).
   */
  constructor(
    readonly domid: number,
    readonly home: string,
  ) {}

  /** True for the privileged domain, which bypasses permissions and quotas. */
  get privileged(): boolean {
    return this.domid === XS_PRIV_DOMID;
  }

  /** Replies (not watch events) waiting in the outbox: the "outstanding" count. */
  get outstanding(): number {
    let n = 0;
    for (const m of this.outbox) if (m.type !== T.WATCH_EVENT) n++;
    return n;
  }
}

/** What xenstored knows about a domain (`struct domain`). */
export interface XsDomainRecord {
  /** Domain id. */
  readonly domid: number;
  /** INTRODUCE'd and not released. */
  introduced: boolean;
  /** The connection, while introduced. */
  conn: XenstoreConnection | null;
  /** XENSTORE_SERVER_FEATURE_* bits enabled for it. */
  features: number;
  /** Hard quotas, indexed by {@link XsQuota}. */
  readonly quota: number[];
  /** Soft memory quota. */
  softMemory: number;
  /** Accounted values, indexed by {@link XsQuota}. */
  readonly used: number[];
  /** Has shut down (for @releaseDomain), cleared by RESUME. */
  shutdown: boolean;
  /** The domain's store ring event channel (from INTRODUCE). */
  port: number;
  /** The ring page's frame (from INTRODUCE). */
  gfn: number;
}

/**
 * A domain's state as xenstored learns it from the hypervisor (xenmanage_get_domain_info,
 * i.e. XEN_DOMCTL_get_domain_state).
 */
export interface XsDomainInfo {
  /** Its shutdown has completed (XENMANAGE_GETDOMSTATE_STATE_SHUTDOWN). */
  readonly shutdown: boolean;
  /** Destroyed and only waiting to be freed (XENMANAGE_GETDOMSTATE_STATE_DEAD). */
  readonly dead: boolean;
}

/** The environment the daemon runs in: which domains exist, ring mapping. */
export interface XenstoreHost {
  /** Whether a domain with this id exists (xenmanage_get_domain_info succeeds). */
  domainExists(domid: number): boolean;
  /**
   * The state of domain `domid`, or null if there is no such domain (any more). Absent:
   * a domain that exists counts as running.
   */
  domainInfo?(domid: number): XsDomainInfo | null;
  /**
   * Maps the domain's ring page and binds its event channel for INTRODUCE; returns 0 or
   * an error name. Absent: the connection is created without a transport.
   */
  introduce?(domid: number, gfn: number, port: number): 0 | XsErrorName;
  /** Called after a (re)introduced domain's connection exists, to attach a ring. */
  attach?(conn: XenstoreConnection, record: XsDomainRecord): void;
  /** Called when a domain's connection is released (unmap and unbind). */
  release?(domid: number): void;
}

/** Thrown inside the daemon only; turned into an XS_ERROR reply by {@link XenstoreDaemon.handle}. */
class XsFail {
  constructor(readonly errno: XsErrorName) {}
}

function fail(errno: XsErrorName): never {
  throw new XsFail(errno);
}

const VALID_PATH = /^[A-Za-z0-9\-/_@]*$/;
const LOCAL_PREFIX = /^\/local\/domain\/\d{1,5}\//;

function parentOf(name: string): string {
  const slash = name.indexOf("/", 1) < 0 ? -1 : name.lastIndexOf("/");
  return slash <= 0 ? "/" : name.slice(0, slash);
}

function baseName(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

function childName(parent: string, child: string): string {
  return parent === "/" ? `/${child}` : `${parent}/${child}`;
}

/** C `atoi`: leading blanks, a sign, digits; 0 when there are none. */
function atoi(text: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(text);
  return m ? Number(BigInt.asIntN(32, BigInt(m[1]))) : 0;
}

/** xenstored's parse_domid: strtoul base 10, all of the string, at most 65535. */
function parseDomid(text: string): number {
  if (text === "") return 0;
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)$/.exec(text);
  if (!m) fail("EINVAL");
  let v = BigInt(m[2]);
  if (m[1] === "-") v = BigInt.asUintN(64, -v);
  if (v > 65535n) fail("EINVAL");
  return Number(v);
}

/** Is `child` at or below `parent`, within `depth` levels (-1: any)? (watch.c is_child) */
function isChild(child: string, parent: string, depth: number): boolean {
  let len = parent.length;
  let sub = len === 1 ? 1 : 0;
  if (!child.startsWith(parent)) return false;
  const at = child[len];
  if (at !== "/" && at !== undefined && len > 1) return false;
  if (depth < 0 || at === undefined) return true;
  while (sub <= depth) {
    const c = child[len];
    if (c === undefined) return true;
    if (c === "/") sub++;
    len++;
  }
  return false;
}

/** The xenstore daemon. */
export class XenstoreDaemon {
  private readonly nodes = new Map<string, XsNode>();
  private readonly connections: XenstoreConnection[] = [];
  private readonly domains = new Map<number, XsDomainRecord>();
  private generation = 0;
  /** Global (default) hard quotas, indexed by {@link XsQuota}. */
  readonly quota: number[] = [...XS_QUOTA_DEFAULTS];
  /** Global soft memory quota. */
  softMemory = XS_SOFT_MEMORY_DEFAULT;

  /** @param host - domain existence and ring hooks. */
  constructor(private readonly host: XenstoreHost = { domainExists: () => true }) {
    const none: XsPermission[] = [{ id: XS_PRIV_DOMID, perms: XsPerm.NONE }];
    this.put(null, "/", {
      perms: none,
      data: new Uint8Array(0),
      children: ["tool"],
      generation: 0,
    });
    this.put(null, "/tool", {
      perms: none,
      data: new Uint8Array(0),
      children: ["xenstored"],
      generation: 0,
    });
    this.put(null, "/tool/xenstored", {
      perms: none,
      data: new Uint8Array(0),
      children: [],
      generation: 0,
    });
    this.put(null, "@releaseDomain", {
      perms: [...none, { id: XS_DOMID_ANY, perms: XsPerm.READ }],
      data: new Uint8Array(0),
      children: [],
      generation: 0,
    });
    this.put(null, "@introduceDomain", {
      perms: none,
      data: new Uint8Array(0),
      children: [],
      generation: 0,
    });
  }

  // ---------------------------------------------------------------- connections, domains

  /**
   * The connection of a domain, creating it (without INTRODUCE) if needed: dom0's local
   * connection, or a test's direct client. The domain counts as introduced.
   */
  connect(domid: number): XenstoreConnection {
    const rec = this.record(domid);
    if (rec.conn) return rec.conn;
    const conn = new XenstoreConnection(domid, `/local/domain/${domid}`);
    rec.conn = conn;
    rec.introduced = true;
    this.connections.push(conn);
    return conn;
  }

  /** The record of a known domain, or undefined. */
  domain(domid: number): XsDomainRecord | undefined {
    return this.domains.get(domid);
  }

  /** Whether INTRODUCE has been done for `domid` and not undone. */
  isIntroduced(domid: number): boolean {
    return this.domains.get(domid)?.introduced ?? false;
  }

  /** A node as stored outside any transaction (for tests and tools), or undefined. */
  peek(path: string): XsNode | undefined {
    return this.nodes.get(path);
  }

  /** Number of nodes in the store (special nodes included). */
  get nodeCount(): number {
    return this.nodes.size;
  }

  private record(domid: number): XsDomainRecord {
    let rec = this.domains.get(domid);
    if (!rec) {
      rec = {
        domid,
        introduced: false,
        conn: null,
        features: XENSTORED_FEATURES,
        quota: [...this.quota],
        softMemory: this.softMemory,
        used: XS_QUOTA_NAMES.map(() => 0),
        shutdown: false,
        port: 0,
        gfn: 0,
      };
      this.domains.set(domid, rec);
    }
    return rec;
  }

  private existing(domid: number): XsDomainRecord {
    const rec = this.domains.get(domid);
    if (rec) return rec;
    if (!this.host.domainExists(domid)) fail("ENOENT");
    return this.record(domid);
  }

  /** Would `value` exceed quota `what` of `conn`'s domain (never for dom0)? */
  private exceeds(conn: XenstoreConnection | null, what: XsQuota, value: number): boolean {
    if (!conn || conn.privileged) return false;
    const rec = this.domains.get(conn.domid);
    const q = rec ? rec.quota[what] : this.quota[what];
    return q !== 0 && value >= q;
  }

  /**
   * Whether the ring transport may read another request from `conn` (domain_can_read):
   * an unprivileged domain at its outstanding-reply or memory quota waits.
   */
  canRead(conn: XenstoreConnection): boolean {
    if (conn.ignored) return false;
    if (conn.privileged) return true;
    const rec = this.domains.get(conn.domid);
    return !(
      this.exceeds(conn, XsQuota.Outstanding, conn.outstanding) ||
      this.exceeds(conn, XsQuota.Memory, rec?.used[XsQuota.Memory] ?? 0)
    );
  }

  /**
   * Stops serving a connection after a protocol error (ignore_connection): the ring's
   * error field is set (if the ERROR feature is on), its watches, transactions and
   * queued output are dropped.
   */
  ignore(conn: XenstoreConnection, error: number): void {
    const rec = this.domains.get(conn.domid);
    if (conn.ring && rec && rec.features & XenstoreServerFeature.ERROR) conn.ring.setError(error);
    conn.ignored = true;
    this.dropWatches(conn);
    conn.transactions.clear();
    this.recount(conn);
    conn.outbox.length = 0;
  }

  // ---------------------------------------------------------------- message processing

  /**
   * Processes one request from `conn` (process_message); the reply (and any watch events)
   * land in the outboxes. Never throws for any input.
   */
  handle(conn: XenstoreConnection, request: XsMessage): void {
    if (conn.ignored) return;
    try {
      const type = request.type;
      const handler = type < XS_TYPE_COUNT ? this.handlers[type] : undefined;
      if (!handler) fail("ENOSYS");
      if (PRIV_ONLY.has(type) && !conn.privileged) fail("EACCES");
      let tx: Transaction | null = null;
      if (!NO_TXID.has(type) && request.txId !== 0) {
        tx = conn.transactions.get(request.txId) ?? fail("ENOENT");
      }
      handler.call(this, conn, tx, request);
    } catch (e) {
      if (!(e instanceof XsFail)) throw e;
      this.reply(conn, request, T.ERROR, nulStrings(e.errno));
    }
  }

  private reply(conn: XenstoreConnection, req: XsMessage, type: number, payload: Uint8Array): void {
    if (payload.length > XS_PAYLOAD_MAX) {
      type = T.ERROR;
      payload = nulStrings("E2BIG");
    }
    conn.outbox.push({ type, reqId: req.reqId, txId: req.txId, payload });
  }

  private ack(conn: XenstoreConnection, req: XsMessage): void {
    this.reply(conn, req, req.type, nulStrings("OK"));
  }

  private sendEvent(conn: XenstoreConnection, path: string, token: string): void {
    const payload = nulStrings(path, token);
    if (payload.length > XS_PAYLOAD_MAX) return;
    if (path[0] !== "@") {
      for (const m of conn.outbox) {
        if (m.type === T.WATCH_EVENT && sameBytes(m.payload, payload)) return;
      }
    }
    conn.outbox.push({ type: T.WATCH_EVENT, reqId: 0, txId: 0, payload });
  }

  // ---------------------------------------------------------------- paths and permissions

  private canonicalize(conn: XenstoreConnection, path: string | null, special: boolean): string {
    if (path === null || !VALID_PATH.test(path) || (path[0] === "@" && !special)) fail("EINVAL");
    const name = path[0] !== "/" && path[0] !== "@" ? `${conn.home}/${path}` : path;
    const local = LOCAL_PREFIX.exec(name);
    const off = local ? local[0].length : 0;
    if ((name.endsWith("/") && name !== "/") || name.includes("//")) fail("EINVAL");
    if (this.exceeds(conn, XsQuota.PathMax, name.length - off)) fail("EINVAL");
    return name;
  }

  /** perm_for_conn: the rights `conn` has under `perms`. */
  private permFor(conn: XenstoreConnection, perms: readonly XsPermission[]): number {
    const all = XsPerm.READ | XsPerm.WRITE | XsPerm.OWNER;
    if (conn.privileged || this.permAllows(conn, perms[0])) return all;
    for (let i = 1; i < perms.length; i++) {
      if (!(perms[i].perms & XsPerm.IGNORE) && this.permAllows(conn, perms[i])) {
        return perms[i].perms & all;
      }
    }
    return perms[0].perms & all;
  }

  private permAllows(conn: XenstoreConnection, p: XsPermission): boolean {
    return (
      p.id === conn.domid ||
      (conn.target !== null && p.id === conn.target.domid) ||
      p.id === XS_DOMID_ANY
    );
  }

  /** read_node: the node as `conn`'s transaction sees it; records the access. */
  private lookup(
    conn: XenstoreConnection | null,
    tx: Transaction | null,
    name: string,
  ): XsNode | null {
    if (!tx) return this.nodes.get(name) ?? null;
    if (tx.accessed.has(name)) return tx.overlay.get(name) ?? null;
    const node = this.nodes.get(name) ?? null;
    this.access(conn, tx, name, node, true);
    if (node) tx.overlay.set(name, node);
    return node;
  }

  private access(
    conn: XenstoreConnection | null,
    tx: Transaction,
    name: string,
    node: XsNode | null,
    read: boolean,
  ): Accessed {
    let acc = tx.accessed.get(name);
    if (!acc) {
      if (this.exceeds(conn, XsQuota.TransactionNodes, tx.accessed.size + 1)) {
        tx.fail = true;
        fail("ENOSPC");
      }
      acc = {
        generation: node ? node.generation : NO_GENERATION,
        checkGen: read,
        modified: false,
        fireWatch: false,
        match: Match.Exact,
        oldPerms: node ? node.perms : null,
      };
      tx.accessed.set(name, acc);
    }
    return acc;
  }

  /** get_node: a node `conn` has rights `perm` on, else ENOENT or EACCES as C decides. */
  private getNode(
    conn: XenstoreConnection,
    tx: Transaction | null,
    name: string,
    perm: number,
  ): XsNode {
    const node = this.lookup(conn, tx, name);
    let errno: XsErrorName = "ENOENT";
    if (node) {
      if ((this.permFor(conn, node.perms) & perm) === perm) return node;
      errno = "EACCES";
    }
    // errno_from_parents: only say ENOENT/EACCES if the nearest existing parent allows it.
    let parent = name;
    let pnode: XsNode | null = null;
    do {
      parent = parentOf(parent);
      pnode = this.lookup(conn, tx, parent);
    } while (!pnode && parent !== "/");
    if (!pnode || !(this.permFor(conn, pnode.perms) & perm)) fail("EACCES");
    fail(errno);
  }

  // ---------------------------------------------------------------- storing

  /** Stores a node (write_node): node-size quota, transaction overlay or global tree. */
  private store(
    conn: XenstoreConnection | null,
    tx: Transaction | null,
    name: string,
    node: XsNode,
    checkQuota = true,
  ): void {
    node.generation = ++this.generation;
    if (checkQuota && this.exceeds(conn, XsQuota.NodeSize, nodeSize(node))) {
      if (tx) tx.fail = true;
      fail("ENOSPC");
    }
    if (tx) {
      const prev = tx.accessed.has(name)
        ? (tx.overlay.get(name) ?? null)
        : (this.nodes.get(name) ?? null);
      const acc = this.access(conn, tx, name, prev, false);
      acc.modified = true;
      if (prev?.perms[0].id !== node.perms[0].id) {
        if (prev) addTo(tx.nodeDelta, prev.perms[0].id, -1);
        addTo(tx.nodeDelta, node.perms[0].id, 1);
      }
      tx.overlay.set(name, node);
      return;
    }
    const prev = this.nodes.get(name);
    const owner = node.perms[0].id;
    const rec = this.record(owner);
    const add =
      nodeSize(node) +
      name.length -
      (prev && prev.perms[0].id === owner ? nodeSize(prev) + name.length : 0);
    if (checkQuota && conn && !conn.privileged && add > 0) {
      if (this.exceeds(conn, XsQuota.Memory, rec.used[XsQuota.Memory] + add)) fail("EIO");
    }
    this.put(conn, name, node);
  }

  /** Global put with owner accounting (nodes and memory). */
  private put(_conn: XenstoreConnection | null, name: string, node: XsNode): void {
    const prev = this.nodes.get(name);
    if (prev) this.charge(prev.perms[0].id, -1, -(nodeSize(prev) + name.length));
    this.charge(node.perms[0].id, 1, nodeSize(node) + name.length);
    this.nodes.set(name, node);
  }

  private unput(name: string): void {
    const prev = this.nodes.get(name);
    if (!prev) return;
    this.charge(prev.perms[0].id, -1, -(nodeSize(prev) + name.length));
    this.nodes.delete(name);
  }

  private charge(domid: number, nodes: number, memory: number): void {
    const rec = this.record(domid);
    rec.used[XsQuota.Nodes] = Math.max(0, rec.used[XsQuota.Nodes] + nodes);
    rec.used[XsQuota.Memory] = Math.max(0, rec.used[XsQuota.Memory] + memory);
  }

  private remove(conn: XenstoreConnection | null, tx: Transaction | null, name: string): void {
    ++this.generation;
    if (tx) {
      const prev = tx.accessed.has(name)
        ? (tx.overlay.get(name) ?? null)
        : (this.nodes.get(name) ?? null);
      const acc = this.access(conn, tx, name, prev, false);
      acc.modified = true;
      if (prev) addTo(tx.nodeDelta, prev.perms[0].id, -1);
      tx.overlay.set(name, null);
      return;
    }
    this.unput(name);
  }

  /** create_node: the node and any missing parents, inheriting the parent's ACL. */
  private create(
    conn: XenstoreConnection,
    tx: Transaction | null,
    name: string,
    data: Uint8Array,
  ): XsNode {
    const missing: string[] = [];
    let parentName = name;
    let parent: XsNode | null = null;
    for (;;) {
      missing.push(parentName);
      parentName = parentOf(parentName);
      parent = this.lookup(conn, tx, parentName);
      if (parent) break;
      if (parentName === "/") fail("ENOENT");
    }
    if (tx) tx.nodeCreated = true;
    // missing[0] is the node asked for, missing[last] the topmost missing ancestor. New
    // nodes inherit the ACL of the node above; an unprivileged creator owns them.
    const created: XsNode[] = new Array<XsNode>(missing.length);
    let above = parent;
    for (let i = missing.length - 1; i >= 0; i--) {
      const perms = above.perms.map((e) => ({ ...e }));
      if (!conn.privileged) perms[0] = { id: conn.domid, perms: perms[0].perms };
      created[i] = {
        perms,
        data: i === 0 ? data : new Uint8Array(0),
        children: i > 0 ? [baseName(missing[i - 1])] : [],
        generation: 0,
      };
      above = created[i];
    }
    // Written bottom-up as C does; the node quota is checked against the count before
    // this request (acc_val is only committed once the request succeeds).
    const before = this.domains.get(conn.domid)?.used[XsQuota.Nodes] ?? 0;
    const written: string[] = [];
    try {
      for (let i = 0; i < missing.length; i++) {
        if (this.exceeds(conn, XsQuota.Nodes, before + 1)) fail("ENOSPC");
        this.store(conn, tx, missing[i], created[i]);
        written.push(missing[i]);
      }
      const top = baseName(missing[missing.length - 1]);
      this.store(conn, tx, parentName, { ...parent, children: [...parent.children, top] });
    } catch (e) {
      for (const n of written) this.remove(conn, tx, n);
      if (tx) tx.fail = true;
      throw e;
    }
    return created[0];
  }

  /** rm_node: removes `name` and its subtree, children first, firing watches. */
  private removeTree(conn: XenstoreConnection | null, tx: Transaction | null, name: string): void {
    const parentName = parentOf(name);
    const parent = this.lookup(conn, tx, parentName);
    if (!parent) fail("EINVAL");
    const walk = (n: string, node: XsNode): void => {
      for (const c of node.children) {
        const cn = childName(n, c);
        const child = this.lookup(conn, tx, cn);
        if (child) walk(cn, child);
      }
      this.remove(conn, tx, n);
      this.fire(conn, tx, n, node, n === name ? Match.Subtree : Match.Exact, null);
    };
    const node = this.lookup(conn, tx, name);
    if (node) walk(name, node);
    const base = baseName(name);
    this.store(
      conn,
      tx,
      parentName,
      { ...parent, children: parent.children.filter((c) => c !== base) },
      false,
    );
  }

  // ---------------------------------------------------------------- watches

  private fire(
    conn: XenstoreConnection | null,
    tx: Transaction | null,
    name: string,
    node: XsNode | null,
    match: Match,
    oldPerms: readonly XsPermission[] | null,
  ): void {
    if (tx) {
      const acc = tx.accessed.get(name);
      if (!acc) {
        tx.fail = true;
        return;
      }
      if (!acc.fireWatch) {
        acc.fireWatch = true;
        acc.match = match;
      } else if (match === Match.Subtree) acc.match = Match.Subtree;
      return;
    }
    for (const c of this.connections) {
      if (c.ignored || !this.watchPermitted(c, name, node, oldPerms)) continue;
      for (const w of c.watches) {
        let send = false;
        switch (match) {
          case Match.Exact:
            send = name === w.node;
            break;
          case Match.Subtree:
            send = isChild(name, w.node, w.depth);
            break;
          case Match.Depth:
            send = name === w.node || (w.depth > 0 && isChild(name, w.node, w.depth));
            break;
          case Match.NoDepth:
            send = name === w.node && w.depth < 0;
            break;
        }
        if (send) this.sendEvent(c, name.slice(w.prefixLen), w.token);
      }
    }
  }

  private watchPermitted(
    c: XenstoreConnection,
    name: string,
    node: XsNode | null,
    oldPerms: readonly XsPermission[] | null,
  ): boolean {
    if (oldPerms && this.permFor(c, oldPerms) & XsPerm.READ) return true;
    const n = node ?? this.nodes.get(name);
    if (!n) return false;
    if (this.permFor(c, n.perms) & XsPerm.READ) return true;
    const parent = this.nodes.get(parentOf(name));
    return parent !== undefined && (this.permFor(c, parent.perms) & XsPerm.READ) !== 0;
  }

  private fireSpecial(
    name: "@introduceDomain" | "@releaseDomain",
    domid: number,
    nodom: boolean,
    dom: boolean,
  ): void {
    const node = this.nodes.get(name);
    if (!node) return;
    if (nodom) this.fire(null, null, name, node, Match.NoDepth, null);
    if (dom) this.fire(null, null, `${name}/${domid}`, node, Match.Depth, null);
  }

  private dropWatches(conn: XenstoreConnection): void {
    const rec = this.domains.get(conn.domid);
    for (const w of conn.watches) {
      if (rec)
        rec.used[XsQuota.Memory] = Math.max(
          0,
          rec.used[XsQuota.Memory] - w.node.length - w.token.length,
        );
    }
    conn.watches.length = 0;
    if (rec) rec.used[XsQuota.Watches] = 0;
  }

  private recount(conn: XenstoreConnection): void {
    const rec = this.domains.get(conn.domid);
    if (rec) rec.used[XsQuota.Transactions] = conn.transactions.size;
  }

  // ---------------------------------------------------------------- handlers

  private readonly handlers: (
    ((conn: XenstoreConnection, tx: Transaction | null, req: XsMessage) => void) | undefined
  )[] = [
    this.doControl,
    this.doDirectory,
    this.doRead,
    this.doGetPerms,
    this.doWatch,
    this.doUnwatch,
    this.doTransactionStart,
    this.doTransactionEnd,
    this.doIntroduce,
    this.doRelease,
    this.doGetDomainPath,
    this.doWrite,
    this.doMkdir,
    this.doRm,
    this.doSetPerms,
    undefined,
    undefined,
    this.doIsDomainIntroduced,
    this.doResume,
    this.doSetTarget,
    undefined,
    this.doResetWatches,
    this.doDirectoryPart,
    this.doGetFeature,
    this.doSetFeature,
    this.doGetQuota,
    this.doSetQuota,
  ];

  private doControl(conn: XenstoreConnection, _tx: Transaction | null, req: XsMessage): void {
    const args = splitStrings(req.payload);
    const cmd = args[0];
    if (cmd === "check" || cmd === "print") this.ack(conn, req);
    else if (cmd === "help")
      this.reply(conn, req, req.type, nulStrings("check\nprint <string>\nhelp\n"));
    else fail("EINVAL");
  }

  private doDirectory(conn: XenstoreConnection, tx: Transaction | null, req: XsMessage): void {
    const node = this.getNode(
      conn,
      tx,
      this.canonicalize(conn, onearg(req.payload), false),
      XsPerm.READ,
    );
    this.reply(conn, req, req.type, childBytes(node));
  }

  private doDirectoryPart(conn: XenstoreConnection, tx: Transaction | null, req: XsMessage): void {
    const args = splitStrings(req.payload);
    if (args.length !== 2) fail("EINVAL");
    const node = this.getNode(conn, tx, this.canonicalize(conn, args[0], false), XsPerm.READ);
    const off = atoi(args[1]) >>> 0;
    const children = childBytes(node);
    const gen = bytesOf(`${node.generation}\0`);
    if (off >= children.length) {
      const out = new Uint8Array(gen.length + 1);
      out.set(gen);
      this.reply(conn, req, req.type, out);
      return;
    }
    const maxlen = XS_PAYLOAD_MAX - gen.length - 1;
    let len = 0;
    let at = off;
    for (;;) {
      const end = children.indexOf(0, at);
      const slen = end - at;
      if (len + slen >= maxlen) break;
      len += slen + 1;
      at += slen + 1;
      if (off + len === children.length) break;
    }
    const last = off + len === children.length;
    const out = new Uint8Array(gen.length + len + (last ? 1 : 0));
    out.set(gen);
    out.set(children.subarray(off, off + len), gen.length);
    this.reply(conn, req, req.type, out);
  }

  private doRead(conn: XenstoreConnection, tx: Transaction | null, req: XsMessage): void {
    const node = this.getNode(
      conn,
      tx,
      this.canonicalize(conn, onearg(req.payload), false),
      XsPerm.READ,
    );
    this.reply(conn, req, req.type, node.data);
  }

  private doWrite(conn: XenstoreConnection, tx: Transaction | null, req: XsMessage): void {
    const nul = req.payload.indexOf(0);
    if (nul < 0) fail("EINVAL");
    const name = this.canonicalize(conn, textOf(req.payload.subarray(0, nul)), false);
    const data = req.payload.slice(nul + 1);
    let node: XsNode;
    try {
      const old = this.getNode(conn, tx, name, XsPerm.WRITE);
      node = { ...old, data };
      this.store(conn, tx, name, node);
    } catch (e) {
      if (!(e instanceof XsFail) || e.errno !== "ENOENT") throw e;
      node = this.create(conn, tx, name, data);
    }
    this.fire(conn, tx, name, node, Match.Subtree, null);
    this.ack(conn, req);
  }

  private doMkdir(conn: XenstoreConnection, tx: Transaction | null, req: XsMessage): void {
    const name = this.canonicalize(conn, onearg(req.payload), false);
    try {
      this.getNode(conn, tx, name, XsPerm.WRITE);
    } catch (e) {
      if (!(e instanceof XsFail) || e.errno !== "ENOENT") throw e;
      const node = this.create(conn, tx, name, new Uint8Array(0));
      this.fire(conn, tx, name, node, Match.Subtree, null);
    }
    this.ack(conn, req);
  }

  private doRm(conn: XenstoreConnection, tx: Transaction | null, req: XsMessage): void {
    const name = this.canonicalize(conn, onearg(req.payload), false);
    try {
      this.getNode(conn, tx, name, XsPerm.WRITE);
    } catch (e) {
      if (!(e instanceof XsFail) || e.errno !== "ENOENT") throw e;
      if (this.lookup(conn, tx, parentOf(name))) {
        this.ack(conn, req);
        return;
      }
      throw e;
    }
    if (name === "/") fail("EINVAL");
    this.removeTree(conn, tx, name);
    this.ack(conn, req);
  }

  private doGetPerms(conn: XenstoreConnection, tx: Transaction | null, req: XsMessage): void {
    const node = this.getNode(
      conn,
      tx,
      this.canonicalize(conn, onearg(req.payload), true),
      XsPerm.READ,
    );
    this.reply(conn, req, req.type, nulStrings(...node.perms.map(formatPermission)));
  }

  private doSetPerms(conn: XenstoreConnection, tx: Transaction | null, req: XsMessage): void {
    const args = splitStrings(req.payload);
    if (args.length < 2) fail("EINVAL");
    const count = args.length - 1;
    if (this.exceeds(conn, XsQuota.NodePermissions, count)) fail("ENOSPC");
    const perms: XsPermission[] = [];
    for (let i = 1; i < args.length; i++) {
      const p = parsePermission(args[i]);
      if (!p) fail("EINVAL");
      perms.push(p);
    }
    const rec = this.domains.get(conn.domid);
    for (let i = 0; i < perms.length; i++) {
      const id = perms[i].id;
      const ignore =
        id === XS_DOMID_ANY
          ? !((rec?.features ?? XENSTORED_FEATURES) & XenstoreServerFeature.DOMID_ANY)
          : !this.domains.has(id) && !this.host.domainExists(id);
      if (ignore) perms[i] = { id, perms: perms[i].perms | XsPerm.IGNORE };
    }
    if (perms[0].perms & XsPerm.IGNORE) fail("ENOENT");
    const name = this.canonicalize(conn, args[0], true);
    const node = this.getNode(conn, tx, name, XsPerm.WRITE | XsPerm.OWNER);
    if (!conn.privileged && perms[0].id !== node.perms[0].id) fail("EPERM");
    const updated = { ...node, perms };
    this.store(conn, tx, name, updated);
    this.fire(conn, tx, name, updated, Match.Subtree, node.perms);
    this.ack(conn, req);
  }

  private doWatch(conn: XenstoreConnection, _tx: Transaction | null, req: XsMessage): void {
    const args = splitStrings(req.payload);
    const rec = this.domains.get(conn.domid);
    let depth = -1;
    if (
      args.length === 3 &&
      ((rec?.features ?? XENSTORED_FEATURES) & XenstoreServerFeature.WATCHDEPTH) !== 0
    ) {
      depth = atoi(args[2]);
      if (depth < 0) fail("EINVAL");
    } else if (args.length !== 2) fail("EINVAL");
    const relative = !args[0].startsWith("/") && !args[0].startsWith("@");
    const node = this.canonicalize(conn, args[0], true);
    const token = args[1];
    if (conn.watches.some((w) => w.node === node && w.token === token)) fail("EEXIST");
    const used = rec?.used ?? [];
    if (this.exceeds(conn, XsQuota.Watches, (used[XsQuota.Watches] ?? 0) + 1)) fail("ENOSPC");
    const mem = node.length + token.length;
    if (this.exceeds(conn, XsQuota.Memory, (used[XsQuota.Memory] ?? 0) + mem)) fail("ENOMEM");
    const watch: Watch = { node, token, depth, prefixLen: relative ? conn.home.length + 1 : 0 };
    conn.watches.push(watch);
    if (rec) {
      rec.used[XsQuota.Watches]++;
      rec.used[XsQuota.Memory] += mem;
    }
    this.ack(conn, req);
    this.sendEvent(conn, node.slice(watch.prefixLen), token);
  }

  private doUnwatch(conn: XenstoreConnection, _tx: Transaction | null, req: XsMessage): void {
    const args = splitStrings(req.payload);
    if (args.length !== 2) fail("EINVAL");
    const node = this.canonicalize(conn, args[0], true);
    const i = conn.watches.findIndex((w) => w.node === node && w.token === args[1]);
    if (i < 0) fail("ENOENT");
    const [w] = conn.watches.splice(i, 1);
    const rec = this.domains.get(conn.domid);
    if (rec) {
      rec.used[XsQuota.Watches] = Math.max(0, rec.used[XsQuota.Watches] - 1);
      rec.used[XsQuota.Memory] = Math.max(
        0,
        rec.used[XsQuota.Memory] - w.node.length - w.token.length,
      );
    }
    this.ack(conn, req);
  }

  private doTransactionStart(
    conn: XenstoreConnection,
    tx: Transaction | null,
    req: XsMessage,
  ): void {
    if (tx) fail("EBUSY");
    if (this.exceeds(conn, XsQuota.Transactions, conn.transactions.size + 1)) fail("ENOSPC");
    ++this.generation;
    let id: number;
    do {
      id = conn.nextTransactionId;
      conn.nextTransactionId = (conn.nextTransactionId + 1) >>> 0;
    } while (id === 0 || conn.transactions.has(id));
    conn.transactions.set(id, {
      id,
      accessed: new Map(),
      overlay: new Map(),
      nodeDelta: new Map(),
      nodeCreated: false,
      fail: false,
    });
    this.recount(conn);
    this.reply(conn, req, req.type, nulStrings(String(id)));
  }

  private doTransactionEnd(conn: XenstoreConnection, tx: Transaction | null, req: XsMessage): void {
    const arg = onearg(req.payload);
    if (arg !== "T" && arg !== "F") fail("EINVAL");
    if (!tx) fail("ENOENT");
    conn.transactions.delete(tx.id);
    this.recount(conn);
    if (arg === "T") {
      if (tx.fail) fail("ENOMEM");
      if (tx.nodeCreated && !conn.privileged) {
        for (const [domid, delta] of tx.nodeDelta) {
          const rec = this.domains.get(domid);
          if (!rec || delta < 0 || domid === XS_PRIV_DOMID) continue;
          const q = rec.quota[XsQuota.Nodes];
          if (q !== 0 && rec.used[XsQuota.Nodes] + delta >= q) fail("ENOSPC");
        }
      }
      for (const [name, acc] of tx.accessed) {
        if (!acc.checkGen) continue;
        const now = this.nodes.get(name);
        if ((now ? now.generation : NO_GENERATION) !== acc.generation) fail("EAGAIN");
      }
      for (const [name, acc] of tx.accessed) {
        if (!acc.modified) continue;
        const node = tx.overlay.get(name);
        if (node) {
          node.generation = ++this.generation;
          this.put(conn, name, node);
        } else this.unput(name);
      }
      for (const [name, acc] of tx.accessed) {
        if (acc.fireWatch) this.fire(conn, null, name, null, acc.match, acc.oldPerms);
      }
    }
    this.ack(conn, req);
  }

  private doIntroduce(conn: XenstoreConnection, _tx: Transaction | null, req: XsMessage): void {
    const args = splitStrings(req.payload);
    if (args.length < 3) fail("EINVAL");
    const domid = parseDomid(args[0]);
    const gfn = atoi(args[1]);
    const port = atoi(args[2]);
    if (port <= 0) fail("EINVAL");
    const existed = this.domains.has(domid);
    const rec = this.record(domid);
    if (!rec.introduced) {
      const err = this.host.introduce?.(domid, gfn, port) ?? 0;
      if (err !== 0) {
        if (!existed) this.domains.delete(domid);
        fail(err);
      }
      rec.port = port;
      rec.gfn = gfn;
      rec.shutdown = false;
      rec.introduced = true;
      const c = new XenstoreConnection(domid, `/local/domain/${domid}`);
      rec.conn = c;
      this.connections.push(c);
      this.host.attach?.(c, rec);
      c.ring?.setFeatures(rec.features);
      if (domid !== XS_PRIV_DOMID) this.fireSpecial("@introduceDomain", domid, true, true);
    } else {
      const err = this.host.introduce?.(domid, gfn, port) ?? 0;
      rec.port = err === 0 ? port : 0;
    }
    const c = rec.conn;
    if (c) {
      this.dropWatches(c);
      c.transactions.clear();
      this.recount(c);
      c.outbox.length = 0;
      c.ignored = false;
      c.ring?.reset();
      c.ring?.finishReconnect();
    }
    this.ack(conn, req);
  }

  private connected(domid: number): XsDomainRecord {
    const rec = this.domains.get(domid);
    if (!rec || !rec.introduced) fail("ENOENT");
    if (!rec.conn) fail("EINVAL");
    return rec;
  }

  private oneargDomain(req: XsMessage): XsDomainRecord {
    const arg = onearg(req.payload);
    if (arg === null) fail("EINVAL");
    const domid = parseDomid(arg);
    if (domid === XS_PRIV_DOMID) fail("EINVAL");
    return this.connected(domid);
  }

  private doRelease(conn: XenstoreConnection, _tx: Transaction | null, req: XsMessage): void {
    const rec = this.oneargDomain(req);
    this.releaseDomain(rec);
    this.ack(conn, req);
  }

  /**
   * Forgets a domain as xenstored does when its connection goes (RELEASE, or destruction):
   * nodes it owns are removed, its ACL entries elsewhere dropped, `@releaseDomain` fires.
   */
  releaseDomain(rec: XsDomainRecord): void {
    const c = rec.conn;
    if (c) {
      this.dropWatches(c);
      c.transactions.clear();
      c.outbox.length = 0;
      c.ignored = true;
      const i = this.connections.indexOf(c);
      if (i >= 0) this.connections.splice(i, 1);
      for (const other of this.connections) if (other.target === c) other.target = null;
    }
    rec.conn = null;
    this.host.release?.(rec.domid);
    const introduced = rec.introduced;
    rec.introduced = false;
    this.treeRemove(rec.domid);
    this.domains.delete(rec.domid);
    if (introduced) this.fireSpecial("@releaseDomain", rec.domid, true, true);
  }

  private treeRemove(domid: number): void {
    const visit = (name: string): void => {
      const node = this.nodes.get(name);
      if (!node) return;
      if (node.perms[0].id === domid) {
        try {
          this.removeTree(null, null, name);
        } catch {
          // xenstored logs and continues.
        }
        return;
      }
      const perms = node.perms.filter((p, i) => i === 0 || p.id !== domid);
      if (perms.length !== node.perms.length) this.put(null, name, { ...node, perms });
      for (const c of [...node.children]) visit(childName(name, c));
    };
    visit("/");
    visit("@releaseDomain");
    visit("@introduceDomain");
  }

  /**
   * What xenstored does on VIRQ_DOM_EXC (check_domains in domain.c): asks the host for the
   * state of every domain it knows. An introduced domain whose shutdown is new gets
   * `@releaseDomain/<domid>` fired (watches with depth 1) and, once per check,
   * `@releaseDomain` itself; one that is dead or gone is released ({@link releaseDomain}:
   * connection, watches, transactions, accounting and its nodes go, `@releaseDomain` fires
   * in both forms). A domain known only for accounting (never introduced) that no longer
   * exists is forgotten the same way, without a watch event. RESUME clears the shutdown mark.
   */
  checkDomains(): void {
    let notify = false;
    for (const rec of [...this.domains.values()]) {
      if (this.domains.get(rec.domid) !== rec) continue;
      const info = this.host.domainInfo
        ? this.host.domainInfo(rec.domid)
        : this.host.domainExists(rec.domid)
          ? { shutdown: false, dead: false }
          : null;
      if (!rec.introduced) {
        // DOMID_ANY and the other reserved ids own nodes but are never domains.
        if (!info && rec.domid < DomId.SELF) this.releaseDomain(rec);
        continue;
      }
      if (info) {
        if (info.shutdown && !rec.shutdown) {
          rec.shutdown = true;
          this.fireSpecial("@releaseDomain", rec.domid, false, true);
          notify = true;
        }
        if (!info.dead) continue;
      }
      if (rec.conn) {
        this.releaseDomain(rec);
        // As in C: the release fired both forms, and clears the pending notification.
        notify = false;
      }
    }
    if (notify) this.fireSpecial("@releaseDomain", 0, true, false);
  }

  private doResume(conn: XenstoreConnection, _tx: Transaction | null, req: XsMessage): void {
    this.oneargDomain(req).shutdown = false;
    this.ack(conn, req);
  }

  private doGetDomainPath(conn: XenstoreConnection, _tx: Transaction | null, req: XsMessage): void {
    const arg = onearg(req.payload);
    if (arg === null) fail("EINVAL");
    this.reply(conn, req, req.type, nulStrings(`/local/domain/${parseDomid(arg)}`));
  }

  private doIsDomainIntroduced(
    conn: XenstoreConnection,
    _tx: Transaction | null,
    req: XsMessage,
  ): void {
    const arg = onearg(req.payload);
    if (arg === null) fail("EINVAL");
    const domid = parseDomid(arg);
    const yes = domid === DomId.SELF || this.isIntroduced(domid);
    this.reply(conn, req, req.type, nulStrings(yes ? "T" : "F"));
  }

  private doSetTarget(conn: XenstoreConnection, _tx: Transaction | null, req: XsMessage): void {
    const args = splitStrings(req.payload);
    if (args.length < 2) fail("EINVAL");
    const domid = parseDomid(args[0]);
    const tdomid = parseDomid(args[1]);
    const rec = this.connected(domid);
    const trec = this.connected(tdomid);
    (rec.conn as XenstoreConnection).target = trec.conn;
    this.ack(conn, req);
  }

  private doResetWatches(conn: XenstoreConnection, _tx: Transaction | null, req: XsMessage): void {
    this.dropWatches(conn);
    conn.transactions.clear();
    this.recount(conn);
    this.ack(conn, req);
  }

  private doGetFeature(conn: XenstoreConnection, _tx: Transaction | null, req: XsMessage): void {
    const args = splitStrings(req.payload);
    let features: number;
    if (args.length === 0) {
      features = this.domains.get(conn.domid)?.features ?? XENSTORED_FEATURES;
    } else {
      if (!conn.privileged) fail("EACCES");
      if (args.length > 1) fail("EINVAL");
      features = this.existing(parseDomid(args[0])).features;
    }
    this.reply(conn, req, req.type, nulStrings(String(features >>> 0)));
  }

  private doSetFeature(conn: XenstoreConnection, _tx: Transaction | null, req: XsMessage): void {
    const args = splitStrings(req.payload);
    if (args.length !== 2) fail("EINVAL");
    const domid = parseDomid(args[0]);
    const features = atoi(args[1]) >>> 0;
    const rec = this.existing(domid);
    if (rec.introduced) fail("EBUSY");
    if (features & ~XENSTORED_FEATURES) fail("EINVAL");
    rec.features = features;
    this.ack(conn, req);
  }

  private quotaSlot(name: string): { q: XsQuota; soft: boolean } {
    const soft = name.startsWith("soft-");
    const q = XS_QUOTA_NAMES.indexOf(soft ? name.slice(5) : name);
    if (q < 0 || (soft && q !== XsQuota.Memory)) fail("EINVAL");
    return { q, soft };
  }

  private doGetQuota(conn: XenstoreConnection, _tx: Transaction | null, req: XsMessage): void {
    const args = splitStrings(req.payload);
    if (args.length > 2) fail("EINVAL");
    let text: string;
    if (args.length === 0) {
      const names: string[] = [];
      XS_QUOTA_NAMES.forEach((n, q) => {
        names.push(n);
        if (q === XsQuota.Memory) names.push(`soft-${n}`);
      });
      text = names.join(" ");
    } else {
      const rec = args.length === 2 ? this.existing(parseDomid(args[0])) : null;
      const { q, soft } = this.quotaSlot(args[args.length - 1]);
      const value = soft
        ? rec
          ? rec.softMemory
          : this.softMemory
        : (rec ? rec.quota : this.quota)[q];
      text = String(value >>> 0);
    }
    this.reply(conn, req, req.type, nulStrings(text));
  }

  private doSetQuota(conn: XenstoreConnection, _tx: Transaction | null, req: XsMessage): void {
    const args = splitStrings(req.payload);
    if (args.length < 2 || args.length > 3) fail("EINVAL");
    const rec = args.length === 3 ? this.existing(parseDomid(args[0])) : null;
    const { q, soft } = this.quotaSlot(args[args.length - 2]);
    const value = atoi(args[args.length - 1]) >>> 0;
    if (value === XS_QUOTA_DISABLED) fail("EINVAL");
    if (soft) {
      if (rec) rec.softMemory = value;
      else this.softMemory = value;
    } else (rec ? rec.quota : this.quota)[q] = value;
    this.ack(conn, req);
  }
}

const PRIV_ONLY = new Set<number>([
  T.DEBUG,
  T.INTRODUCE,
  T.RELEASE,
  T.IS_DOMAIN_INTRODUCED,
  T.RESUME,
  T.SET_TARGET,
  T.SET_FEATURE,
  T.GET_QUOTA,
  T.SET_QUOTA,
]);
const NO_TXID = new Set<number>([T.WATCH, T.UNWATCH]);

/** onearg: the payload is exactly one nul-terminated string. */
function onearg(payload: Uint8Array): string | null {
  if (payload.length === 0 || payload.indexOf(0) !== payload.length - 1) return null;
  return textOf(payload.subarray(0, payload.length - 1));
}

function childBytes(node: XsNode): Uint8Array {
  return node.children.length === 0 ? new Uint8Array(0) : nulStrings(...node.children);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function addTo(map: Map<number, number>, key: number, n: number): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** The error name in an XS_ERROR payload, or null if it is not one xenstored sends. */
export function errorNameOf(payload: Uint8Array): XsErrorName | null {
  const [name] = splitStrings(payload);
  return (XS_ERROR_NAMES as readonly string[]).includes(name) ? (name as XsErrorName) : null;
}
