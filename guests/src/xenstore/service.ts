/**
 * xenstored attached to a machine: each domain's store ring page (start_info.store_mfn)
 * is served through {@link XenstoreRingServer}, its event channel bound from dom0 with
 * the core's event-channel API, as xenstored does with xenevtchn_bind_interdomain on
 * INTRODUCE. The service has no thread: whoever runs the machine calls
 * {@link XenstoreService.poll} between scheduling slices (and when dom0's store port is
 * pending); each ring that moved gets an event-channel notification.
 *
 * @module
 */
import {
  evtchnBindInterdomain,
  evtchnClose,
  evtchnSend,
  DomainState,
  Errno,
  XenstoreMessageType as T,
  type Domain,
  type Machine,
} from "@hvkit/core";
import { XenstoreDaemon, type XenstoreConnection } from "./daemon.js";
import { XenstoreRingServer } from "./ring.js";
import { XS_ERROR_NAMES, nulStrings, splitStrings, type XsErrorName } from "./wire.js";

interface Attached {
  readonly server: XenstoreRingServer;
  readonly localPort: number;
}

/** xenstored serving the domains of one machine, from dom0. */
export class XenstoreService {
  /** The daemon (its tree, domains and connections). */
  readonly daemon: XenstoreDaemon;
  private readonly rings = new Map<number, Attached>();
  private pendingBind: { domid: number; localPort: number } | null = null;

  /**
   * @param machine - the machine whose memory holds the rings.
   * @param dom0 - the domain xenstored runs in (binds the event channels).
   */
  constructor(
    private readonly machine: Machine,
    private readonly dom0: Domain,
  ) {
    this.daemon = new XenstoreDaemon({
      domainExists: (domid) => {
        const d = machine.domains.get(domid);
        return d !== undefined && d.state !== DomainState.Dying;
      },
      domainInfo: (domid) => {
        // A destroyed domain leaves the machine's table at once (there is no DEAD phase).
        const d = machine.domains.get(domid);
        if (d === undefined) return null;
        return { shutdown: d.state === DomainState.Shutdown, dead: d.state === DomainState.Dying };
      },
      introduce: (domid, gfn, port) => this.bind(domid, gfn, port),
      attach: (conn) => this.attachRing(conn),
      release: (domid) => this.unbind(domid),
    });
  }

  private bind(domid: number, gfn: number, port: number): 0 | XsErrorName {
    const guest = this.machine.domains.get(domid);
    if (!guest || gfn < 0 || gfn >= this.machine.memory.frames) return "ENOENT";
    if (this.machine.memory.frameTable.owner[gfn] !== domid) return "EINVAL";
    const old = this.rings.get(domid);
    if (old) evtchnClose(this.machine, this.dom0, old.localPort);
    const local = evtchnBindInterdomain(this.machine, this.dom0, domid, port);
    if (local < 0) {
      // xenstored replies with the errno of the failed bind; names outside xsd_errors
      // travel as EINVAL.
      const name = Errno[-local] as string | undefined;
      return name !== undefined && (XS_ERROR_NAMES as readonly string[]).includes(name)
        ? (name as XsErrorName)
        : "EINVAL";
    }
    this.pendingBind = { domid, localPort: local };
    return 0;
  }

  private attachRing(conn: XenstoreConnection): void {
    const bind = this.pendingBind;
    const rec = this.daemon.domain(conn.domid);
    if (!bind || bind.domid !== conn.domid || !rec) return;
    this.pendingBind = null;
    const base = rec.gfn * this.machine.memory.pageSize;
    const server = new XenstoreRingServer(
      this.daemon,
      conn,
      this.machine.memory.view,
      base,
      this.machine.arch.dataModel,
    );
    this.rings.set(conn.domid, { server, localPort: bind.localPort });
  }

  private unbind(domid: number): void {
    const a = this.rings.get(domid);
    if (!a) return;
    evtchnClose(this.machine, this.dom0, a.localPort);
    this.rings.delete(domid);
  }

  /**
   * Introduces `guest` as the toolstack does (XS_INTRODUCE from dom0): `storeMfn` is the
   * ring page (start_info.store_mfn), `storePort` the guest's unbound port for dom0
   * (start_info.store_evtchn). Returns 0 or the error name xenstored replied with.
   */
  introduce(guest: Domain, storeMfn: number, storePort: number): 0 | string {
    const dom0 = this.daemon.connect(this.dom0.id);
    const req = {
      type: T.INTRODUCE,
      reqId: 0x7fffffff,
      txId: 0,
      payload: nulStrings(String(guest.id), String(storeMfn), String(storePort)),
    };
    this.daemon.handle(dom0, req);
    const i = dom0.outbox.findIndex((m) => m.reqId === req.reqId);
    const [reply] = dom0.outbox.splice(i, 1);
    return reply.type === T.ERROR ? (splitStrings(reply.payload)[0] ?? "EINVAL") : 0;
  }

  /**
   * Handles VIRQ_DOM_EXC as xenstored does ({@link XenstoreDaemon.checkDomains}): domains
   * that shut down get `@releaseDomain` fired, destroyed ones are released (their rings
   * unbound and no longer served); then the rings are served so watch events go out.
   */
  domainException(): void {
    this.daemon.checkDomains();
    this.poll();
  }

  /** dom0's port for `domid`'s store ring, or undefined. */
  localPort(domid: number): number | undefined {
    return this.rings.get(domid)?.localPort;
  }

  /**
   * Serves every attached ring: reads whole requests, answers them, writes replies and
   * watch events; notifies each domain whose ring moved. Returns how many were notified.
   */
  poll(): number {
    let notified = 0;
    for (let round = 0; round < 8; round++) {
      let moved = 0;
      for (const [domid, a] of this.rings) {
        const d = this.machine.domains.get(domid);
        if (!d || d.state === DomainState.Dying) continue;
        // The ring page is the guest's: one it gave away (ballooned out) is not served,
        // so a reply never lands in another domain's memory.
        const gfn = this.daemon.domain(domid)?.gfn ?? -1;
        if (this.machine.memory.frameTable.owner[gfn] !== domid) continue;
        if (a.server.pump()) {
          const size = this.machine.memory.pageSize;
          this.machine.arch.onMemoryWritten?.(this.machine, gfn * size, size);
          evtchnSend(this.machine, this.dom0, a.localPort);
          moved++;
        }
      }
      notified += moved;
      if (moved === 0) break;
    }
    return notified;
  }
}
