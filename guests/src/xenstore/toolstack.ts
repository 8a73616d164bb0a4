/**
 * What the toolstack (xl/libxl: libxl__domain_make, libxl__build_post) leaves in
 * xenstore for a new domU, written as dom0 through the daemon.
 *
 * @module
 */
import { HvkitError, XenstoreMessageType as T } from "@hvkit/core";
import { XenstoreDaemon, type XenstoreConnection } from "./daemon.js";
import { bytesOf, nulStrings, splitStrings, type XsMessage } from "./wire.js";

/** The facts xl writes into a domU's home. */
export interface DomainHomeSpec {
  /** The domain id. */
  readonly domid: number;
  /** Its name. */
  readonly name: string;
  /** Store event channel (the domain's unbound port for xenstored). */
  readonly storePort: number;
  /** The store ring's machine frame (PV: start_info.store_mfn). */
  readonly storeRingRef: number;
  /** Console event channel and frame, if the domain has a PV console. */
  readonly console?: { readonly port: number; readonly ringRef: number };
  /** Memory target in KiB (xl's `memory`): `memory/target`. */
  readonly memoryKiB: number;
  /** Static maximum in KiB (xl's `maxmem`): `memory/static-max` (default `memoryKiB`). */
  readonly staticMaxKiB?: number;
  /**
   * The domain's vCPUs and how many of them are online at boot (xl's `maxvcpus` and
   * `vcpus`): `cpu/<n>/availability` is `online` for the first `online`, `offline` for
   * the rest (libxl__build_post). Absent: no `cpu/<n>` nodes.
   */
  readonly vcpus?: { readonly max: number; readonly online: number };
}

/** Directories under the home the domain may write (owned by it, no access for others). */
export const DOMAIN_WRITABLE_DIRS: readonly string[] = [
  "control/shutdown",
  "control/feature-poweroff",
  "control/feature-reboot",
  "control/feature-suspend",
  "control/sysrq",
  "data",
  "drivers",
  "feature",
  "attr",
  "error",
];

/**
 * Creates `/local/domain/<domid>` as libxl does: the home and its read-only directories
 * {owner 0, none} + {domid, read}; the writable ones {owner domid, none}; then `domid`,
 * `name`, `memory/*`, `store/*`, `cpu/<n>/availability`, `console/*` values. Throws if the daemon refuses (only a
 * programming error: dom0 is privileged).
 */
export function createDomainHome(daemon: XenstoreDaemon, spec: DomainHomeSpec): void {
  const dom0 = daemon.connect(0);
  const home = `/local/domain/${spec.domid}`;
  const ro = [`n0`, `r${spec.domid}`];
  const rw = [`n${spec.domid}`];
  let reqId = 0x40000000;
  const run = (type: T, payload: Uint8Array): void =>
    toolstackRequest(daemon, dom0, { type, reqId: reqId++, txId: 0, payload });
  const mknod = (path: string, perms: string[]): void => {
    run(T.MKDIR, nulStrings(path));
    run(T.SET_PERMS, nulStrings(path, ...perms));
  };
  const write = (path: string, value: string): void => run(T.WRITE, writePayload(path, value));
  mknod(home, ro);
  for (const d of ["cpu", "memory", "device", "control"]) mknod(`${home}/${d}`, ro);
  for (const d of DOMAIN_WRITABLE_DIRS) mknod(`${home}/${d}`, rw);
  write(`${home}/domid`, String(spec.domid));
  write(`${home}/name`, spec.name);
  write(`${home}/memory/static-max`, String(spec.staticMaxKiB ?? spec.memoryKiB));
  write(`${home}/memory/target`, String(spec.memoryKiB));
  write(`${home}/store/port`, String(spec.storePort));
  write(`${home}/store/ring-ref`, String(spec.storeRingRef));
  if (spec.vcpus) {
    for (let i = 0; i < spec.vcpus.max; i++)
      write(`${home}/cpu/${i}/availability`, i < spec.vcpus.online ? "online" : "offline");
  }
  if (spec.console) {
    // libxl__device_console_add for the primary console served by xenconsoled in dom0
    // (limit LIBXL_XENCONSOLE_LIMIT, output "pty"; the tty is filled in by xenconsoled).
    write(`${home}/console/backend-id`, "0");
    write(`${home}/console/limit`, "1048576");
    write(`${home}/console/type`, "xenconsoled");
    write(`${home}/console/output`, "pty");
    write(`${home}/console/tty`, "");
    write(`${home}/console/port`, String(spec.console.port));
    write(`${home}/console/ring-ref`, String(spec.console.ringRef));
  }
}

/** Sends `req` on dom0's connection `dom0` and takes its reply; throws on an error reply. */
function toolstackRequest(daemon: XenstoreDaemon, dom0: XenstoreConnection, req: XsMessage): void {
  daemon.handle(dom0, req);
  const i = dom0.outbox.findIndex((m) => m.reqId === req.reqId);
  const reply = dom0.outbox.splice(i, 1)[0];
  if (reply.type === T.ERROR) {
    throw new HvkitError(`toolstack ${T[req.type]}: ${splitStrings(reply.payload)[0]}`);
  }
}

/** An XS_WRITE payload: the path, NUL, the value (no NUL after it). */
function writePayload(path: string, value: string): Uint8Array {
  const p = bytesOf(path);
  const v = bytesOf(value);
  const payload = new Uint8Array(p.length + 1 + v.length);
  payload.set(p);
  payload.set(v, p.length + 1);
  return payload;
}

/**
 * What a toolstack asks of a running PV guest through its `control/shutdown` node:
 * `poweroff` (`xl shutdown`, libxl_domain_shutdown) or `reboot` (`xl reboot`,
 * libxl_domain_reboot).
 */
export type PvControlRequest = "poweroff" | "reboot";

/** The node a guest's PV control requests go to (libxl__domain_pvcontrol_xspath). */
function pvControlPath(domid: number): string {
  return `/local/domain/${domid}/control/shutdown`;
}

/**
 * Writes `request` to the domain's `control/shutdown` as dom0, as libxl__domain_pvcontrol
 * does (Xen 4.19 tools/libs/light/libxl_domain.c): the guest, which watches the node,
 * reads it, writes it back empty to acknowledge ({@link pvControlAcknowledged}) and shuts
 * itself down. The watch event is queued on the guest's connection; serving its ring sends
 * it. Throws if the daemon refuses (only a programming error: dom0 is privileged).
 */
export function requestPvControl(
  daemon: XenstoreDaemon,
  domid: number,
  request: PvControlRequest,
): void {
  toolstackRequest(daemon, daemon.connect(0), {
    type: T.WRITE,
    reqId: 0x50000000,
    txId: 0,
    payload: writePayload(pvControlPath(domid), request),
  });
}

/**
 * Whether the guest has acknowledged the last PV control request: its `control/shutdown`
 * is empty or gone (libxl's pvcontrol_acked, which xl waits for before it reports the
 * request done).
 */
export function pvControlAcknowledged(daemon: XenstoreDaemon, domid: number): boolean {
  const node = daemon.peek(pvControlPath(domid));
  return node === undefined || node.data.length === 0;
}
