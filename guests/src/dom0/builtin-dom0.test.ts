/**
 * The built-in dom0 as xl would leave a new domU: ports bound, the xenstore home written
 * and the domain introduced, the console attached; its services run on the domU's
 * notifications (host-side events at virtual time), and it powers off once its domUs have.
 */
import "reflect-metadata";
import {
  createMachine,
  DomainState,
  evtchnSend,
  ImageError,
  XenstoreMessageType as T,
  PortState,
  ShutdownReason,
  XENCONS_INTERFACE,
  type DomainBuildRequest,
  type DomUBoot,
  type HvMachine,
} from "@hvkit/core";
import { idleArch, TEST_LP64_LE } from "@hvkit/core/testing";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { XenbusClient } from "../xenbus/client.js";
import { XenbusRingTransport } from "../xenbus/ring.js";
import { nulStrings, splitStrings } from "../xenstore/wire.js";
import { BuiltinDom0 } from "./builtin-dom0.js";

/** A minimal ELF64 executable for machine 1 (the stub arch below). */
function tinyElf(): Uint8Array {
  const bytes = new Uint8Array(0x40 + 0x38 + 16);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(0x10, 2, true);
  v.setUint16(0x12, 1, true);
  v.setUint32(0x14, 1, true);
  v.setBigUint64(0x18, 0x400000n, true);
  v.setBigUint64(0x20, 0x40n, true);
  v.setUint16(0x34, 0x40, true);
  v.setUint16(0x36, 0x38, true);
  v.setUint16(0x38, 1, true);
  v.setUint16(0x3a, 0x40, true);
  v.setUint32(0x40, 1, true);
  v.setUint32(0x44, 5, true);
  v.setBigUint64(0x48, 0x78n, true);
  v.setBigUint64(0x50, 0x400000n, true);
  v.setBigUint64(0x58, 0x400000n, true);
  v.setBigUint64(0x60, 16n, true);
  v.setBigUint64(0x68, 16n, true);
  v.setBigUint64(0x70, 0x1000n, true);
  return bytes;
}

function setup(build?: (req: DomainBuildRequest) => void) {
  const arch = idleArch("dom0-test", (req: DomainBuildRequest) => {
    build?.(req);
    const [store, console] = req.machine.allocFrames(req.domain, 2)!;
    req.domain.sharedInfoMfn = req.machine.allocXenFrames(1)![0];
    return { storeMfn: store, consoleMfn: console };
  });
  const out: string[] = [];
  const log: string[] = [];
  const machine: HvMachine = createMachine(container.createChildContainer(), {
    arch,
    memoryMiB: 4,
  });
  const dom0 = new BuiltinDom0(machine, {
    consoleOutput: (_d, bytes) => out.push(new TextDecoder().decode(bytes)),
    log: (line) => log.push(line),
  });
  return { machine, dom0, out, log };
}

const CONS = XENCONS_INTERFACE.layout(TEST_LP64_LE);

/** A xenbus client on `boot`'s store ring; each kick notifies and runs the due events. */
function storeClient(machine: HvMachine, boot: DomUBoot): XenbusClient {
  return new XenbusClient(
    new XenbusRingTransport(
      machine.memory.view,
      boot.storeMfn! * 4096,
      () => {
        evtchnSend(machine, boot.domain, boot.storeEvtchn);
        return machine.clock.fireDue() > 0;
      },
      machine.arch.dataModel,
    ),
  );
}

describe("BuiltinDom0", () => {
  it("launches a domU as xl does: home in xenstore, introduced, console attached", () => {
    const { machine, dom0 } = setup();
    expect(dom0.domain.id).toBe(0);
    expect(dom0.domain.privileged).toBe(true);
    const boot = dom0.launch(tinyElf(), { name: "guest", maxPages: 16 });
    const d = boot.domain;
    expect(d.id).toBe(1);
    const xs = dom0.xenstore.daemon;
    const val = (p: string): string | undefined => {
      const n = xs.peek(`/local/domain/1/${p}`);
      return n && new TextDecoder().decode(n.data);
    };
    expect(val("name")).toBe("guest");
    expect(val("domid")).toBe("1");
    expect(val("store/port")).toBe(String(boot.storeEvtchn));
    expect(val("store/ring-ref")).toBe(String(boot.storeMfn));
    expect(val("console/port")).toBe(String(boot.consoleEvtchn));
    expect(val("console/ring-ref")).toBe(String(boot.consoleMfn));
    expect(val("console/type")).toBe("xenconsoled");
    expect(val("console/backend-id")).toBe("0");
    expect(val("memory/target")).toBe("64");
    expect(xs.isIntroduced(1)).toBe(true);
    // Both of the domU's ports are now connected to dom0.
    expect(d.eventChannels.stateOf(boot.storeEvtchn)).toBe(PortState.Interdomain);
    expect(d.eventChannels.stateOf(boot.consoleEvtchn)).toBe(PortState.Interdomain);
    expect(CONS.get(machine.memory.view, boot.consoleMfn! * 4096, "connection")).toBe(0);
    expect(dom0.launched).toEqual([boot]);
  });

  it("serves the console and xenstore when the domU notifies, at virtual time", () => {
    const { machine, dom0, out } = setup();
    const boot = dom0.launch(tinyElf(), { maxPages: 16 });
    const d = boot.domain;
    machine.clock.fireDue();
    const base = boot.consoleMfn! * 4096;
    const msg = new TextEncoder().encode("hello from domU\n");
    machine.memory.bytes.set(msg, base + CONS.offsetOf("out"));
    CONS.set(machine.memory.view, base, "out_prod", msg.length);
    expect(evtchnSend(machine, d, boot.consoleEvtchn)).toBe(0);
    expect(out).toEqual([]); // not inside the guest's hypercall
    machine.clock.fireDue();
    expect(out.join("")).toBe("hello from domU\n");
    expect(CONS.get(machine.memory.view, base, "out_cons")).toBe(msg.length);

    const client = new XenbusClient(
      new XenbusRingTransport(
        machine.memory.view,
        boot.storeMfn! * 4096,
        () => {
          evtchnSend(machine, d, boot.storeEvtchn);
          return machine.clock.fireDue() > 0;
        },
        machine.arch.dataModel,
      ),
    );
    expect(client.read("name")).toBe("domU-1");
    client.write("data/answer", "42");
    expect(client.read("data/answer")).toBe("42");
  });

  it("drains a domU's console when it shuts down, then powers dom0 off", () => {
    const { machine, dom0, out } = setup();
    const a = dom0.launch(tinyElf(), { maxPages: 16 });
    const b = dom0.launch(tinyElf(), { maxPages: 16 });
    machine.clock.fireDue();
    const base = a.consoleMfn! * 4096;
    machine.memory.bytes.set([0x62, 0x79, 0x65], base + CONS.offsetOf("out"));
    CONS.set(machine.memory.view, base, "out_prod", 3); // written, never notified
    machine.shutdownDomain(a.domain, ShutdownReason.Poweroff);
    machine.clock.fireDue();
    expect(out.join("")).toBe("bye");
    expect(dom0.domain.state).toBe(DomainState.Running); // b still runs
    machine.shutdownDomain(b.domain, ShutdownReason.Crash, "test");
    machine.clock.fireDue();
    expect(dom0.domain.state).toBe(DomainState.Shutdown);
    expect(dom0.domain.shutdownReason).toBe(ShutdownReason.Poweroff);
    expect(machine.run().kind).toBe("all-shutdown");
  });

  it("a bad image leaves nothing behind", () => {
    const { machine, dom0 } = setup();
    expect(() => dom0.launch(new Uint8Array([1, 2, 3]))).toThrow(ImageError);
    expect([...machine.domains.keys()]).toEqual([0]);
    expect(dom0.launched).toEqual([]);
  });

  it("xl shutdown / reboot: the request reaches the domU's watch on control/shutdown; emptying the node acknowledges it", () => {
    const { machine, dom0 } = setup();
    const a = dom0.launch(tinyElf(), { maxPages: 16 });
    const b = dom0.launch(tinyElf(), { maxPages: 16 });
    machine.clock.fireDue();
    const ca = storeClient(machine, a);
    const cb = storeClient(machine, b);
    ca.watch("control/shutdown", "ctl");
    cb.watch("control/shutdown", "ctl");
    expect(ca.poll()).toEqual([{ path: "control/shutdown", token: "ctl" }]);
    expect(cb.poll()).toEqual([{ path: "control/shutdown", token: "ctl" }]);
    expect(ca.read("control/shutdown")).toBe("");
    expect(dom0.controlAcknowledged(a.domain.id)).toBe(true);

    dom0.requestShutdown(a.domain.id, "reboot");
    expect(ca.poll()).toEqual([{ path: "control/shutdown", token: "ctl" }]);
    expect(cb.poll()).toEqual([]); // only the asked domain's node changed
    expect(ca.read("control/shutdown")).toBe("reboot");
    expect(dom0.controlAcknowledged(a.domain.id)).toBe(false);
    ca.write("control/shutdown", "");
    expect(dom0.controlAcknowledged(a.domain.id)).toBe(true);

    dom0.requestShutdown(b.domain.id);
    expect(cb.read("control/shutdown")).toBe("poweroff");
    expect(dom0.controlAcknowledged(b.domain.id)).toBe(false);

    machine.destroyDomain(a.domain);
    expect(() => dom0.requestShutdown(a.domain.id)).toThrow(/no domU 1 to ask to poweroff/);
    expect(() => dom0.requestShutdown(7, "reboot")).toThrow(/no domU 7 to ask to reboot/);
  });

  it("xenstored on VIRQ_DOM_EXC: @releaseDomain fires once on a domU's shutdown; to dom0's and a domU's watchers; the domU stays introduced", () => {
    const { machine, dom0 } = setup();
    const a = dom0.launch(tinyElf(), { maxPages: 16 });
    const b = dom0.launch(tinyElf(), { maxPages: 16 });
    machine.clock.fireDue();
    const xs = dom0.xenstore.daemon;
    // A dom0-side watcher (as xl/libxl's) on @releaseDomain, on dom0's local connection.
    const local = xs.connect(0);
    xs.handle(local, {
      type: T.WATCH,
      reqId: 1,
      txId: 0,
      payload: nulStrings("@releaseDomain", "rel"),
    });
    const released = (): string[] => {
      const out = local.outbox
        .filter((m) => m.type === T.WATCH_EVENT)
        .map((m) => splitStrings(m.payload).join(" "));
      local.outbox.length = 0;
      return out;
    };
    expect(released()).toEqual(["@releaseDomain rel"]); // the initial fire
    const ca = storeClient(machine, a);
    const cb = storeClient(machine, b);
    // A domU may watch it too (the node's ACL lets every domain read it).
    cb.watch("@releaseDomain", "b");
    expect(cb.poll()).toEqual([{ path: "@releaseDomain", token: "b" }]);
    expect(ca.read("name")).toBe("domU-1");

    machine.shutdownDomain(a.domain, ShutdownReason.Poweroff);
    machine.clock.fireDue();
    expect(released()).toEqual(["@releaseDomain rel"]);
    expect(cb.poll()).toEqual([{ path: "@releaseDomain", token: "b" }]);
    // Shut down is not dead: xenstored keeps the domain introduced (it could resume).
    expect(xs.isIntroduced(a.domain.id)).toBe(true);
    expect(xs.domain(a.domain.id)?.shutdown).toBe(true);
    // Another VIRQ_DOM_EXC with nothing new does not fire it again.
    dom0.xenstore.domainException();
    expect(released()).toEqual([]);
    expect(cb.poll()).toEqual([]);
    expect(cb.read("name")).toBe("domU-2");
  });

  it("xenstored releases a destroyed domU: its ring is no longer served, dom0's port is closed, the other domU goes on", () => {
    const { machine, dom0 } = setup();
    const a = dom0.launch(tinyElf(), { maxPages: 16 });
    const b = dom0.launch(tinyElf(), { maxPages: 16 });
    machine.clock.fireDue();
    const xs = dom0.xenstore.daemon;
    const local = xs.connect(0);
    xs.handle(local, {
      type: T.WATCH,
      reqId: 1,
      txId: 0,
      payload: nulStrings("@releaseDomain", "rel", "1"),
    });
    local.outbox.length = 0;
    const aPort = dom0.xenstore.localPort(a.domain.id)!;
    expect(aPort).toBeGreaterThan(0);
    const aConn = xs.domain(a.domain.id)!.conn!;
    // a leaves a request on its ring that nobody has served yet.
    const ta = new XenbusRingTransport(
      machine.memory.view,
      a.storeMfn! * 4096,
      () => false,
      machine.arch.dataModel,
    );
    ta.write(new Uint8Array([2, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0]));
    ta.write(new TextEncoder().encode("name\0"));

    machine.destroyDomain(a.domain);
    machine.clock.fireDue();
    expect(local.outbox.map((m) => splitStrings(m.payload).join(" "))).toEqual([
      `@releaseDomain/${a.domain.id} rel`,
    ]);
    expect(xs.isIntroduced(a.domain.id)).toBe(false);
    expect(xs.domain(a.domain.id)).toBeUndefined();
    expect(aConn.ignored).toBe(true);
    expect(dom0.xenstore.localPort(a.domain.id)).toBeUndefined();
    expect(dom0.domain.eventChannels.stateOf(aPort)).toBe(PortState.Free);
    // Its ring is not served: the request stays unanswered.
    expect(dom0.xenstore.poll()).toBe(0);
    expect(ta.read(4096).length).toBe(0);
    // b is still introduced and served; dom0 keeps running for it.
    expect(xs.isIntroduced(b.domain.id)).toBe(true);
    const cb = new XenbusClient(
      new XenbusRingTransport(
        machine.memory.view,
        b.storeMfn! * 4096,
        () => {
          evtchnSend(machine, b.domain, b.storeEvtchn);
          return machine.clock.fireDue() > 0;
        },
        machine.arch.dataModel,
      ),
    );
    expect(cb.read("name")).toBe("domU-2");
    expect(dom0.domain.state).toBe(DomainState.Running);
  });

  it("builds a domU with the memory asked for, lets it grow by libxl's 1 MiB, and writes memory and vCPUs to xenstore", () => {
    const { dom0 } = setup();
    const boot = dom0.launch(tinyElf(), {
      maxPages: 64,
      maxMemoryKiB: 1024,
      vcpus: 3,
      onlineVcpus: 2,
    });
    // (The stub builder allocates only the two ring pages; the arch's builds maxPages.)
    expect(boot.domain.maxPages).toBe(64 + 256);
    const val = (p: string) =>
      new TextDecoder().decode(dom0.xenstore.daemon.peek(`/local/domain/1/${p}`)!.data);
    expect(val("memory/target")).toBe("256");
    expect(val("memory/static-max")).toBe("1024");
    expect(["cpu/0", "cpu/1", "cpu/2"].map((c) => val(`${c}/availability`))).toEqual([
      "online",
      "online",
      "offline",
    ]);
  });

  it("on_<reason> = destroy: the domU is destroyed once shut down, and dom0 powers off", () => {
    const { machine, dom0 } = setup();
    const a = dom0.launch(tinyElf(), { maxPages: 16, onShutdown: { crash: "destroy" } });
    machine.clock.fireDue();
    machine.shutdownDomain(a.domain, ShutdownReason.Crash, "test");
    machine.clock.fireDue();
    expect(a.domain.state).toBe(DomainState.Dying);
    expect(a.domain.shutdownReason).toBe(ShutdownReason.Crash);
    expect(machine.domains.has(1)).toBe(false);
    expect(machine.freeFrameCount()).toBeGreaterThanOrEqual(16);
    expect(dom0.domain.state).toBe(DomainState.Shutdown);
    expect(machine.run().kind).toBe("all-shutdown");
  });

  it("on_reboot = restart: the domU is destroyed and built again as a new domain with the same options", () => {
    const { machine, dom0, log } = setup();
    const options = {
      name: "again",
      maxPages: 16,
      onShutdown: { reboot: "restart", poweroff: "destroy" },
    } as const;
    const first = dom0.launch(tinyElf(), options);
    machine.clock.fireDue();
    machine.shutdownDomain(first.domain, ShutdownReason.Reboot);
    machine.clock.fireDue();
    expect(first.domain.state).toBe(DomainState.Dying);
    expect(dom0.launched.length).toBe(2);
    const second = dom0.launched[1];
    expect(second.domain.id).toBe(2);
    expect(second.domain.state).toBe(DomainState.Running);
    expect(second.domain.maxPages).toBe(16 + 256);
    expect(new TextDecoder().decode(dom0.xenstore.daemon.peek("/local/domain/2/name")!.data)).toBe(
      "again",
    );
    expect(dom0.xenstore.daemon.isIntroduced(2)).toBe(true);
    expect(log).toEqual([
      'domain 1 (again) shut down (reboot): on_reboot = "restart": started again as domain 2',
    ]);
    expect(dom0.domain.state).toBe(DomainState.Running);
    // Powered off this time: on_poweroff = destroy ends it, and dom0 with it.
    machine.shutdownDomain(second.domain, ShutdownReason.Poweroff);
    machine.clock.fireDue();
    expect(machine.domains.has(2)).toBe(false);
    expect(dom0.domain.state).toBe(DomainState.Shutdown);
  });

  it("preserve, and a reason with no action, leave the domU shut down; a failed restart is reported and ends the run", () => {
    const { machine, dom0, log } = setup();
    const kept = dom0.launch(tinyElf(), { maxPages: 16, onShutdown: { poweroff: "preserve" } });
    const plain = dom0.launch(tinyElf(), { maxPages: 16 });
    machine.clock.fireDue();
    machine.shutdownDomain(kept.domain, ShutdownReason.Poweroff);
    machine.shutdownDomain(plain.domain, ShutdownReason.Reboot);
    machine.clock.fireDue();
    expect(kept.domain.state).toBe(DomainState.Shutdown);
    expect(plain.domain.state).toBe(DomainState.Shutdown);
    expect(machine.domains.has(1) && machine.domains.has(2)).toBe(true);
    expect(dom0.domain.state).toBe(DomainState.Shutdown);
    expect(log).toEqual([]);

    const big = setup();
    const d = big.dom0.launch(tinyElf(), { maxPages: 16, onShutdown: { reboot: "restart" } });
    big.machine.clock.fireDue();
    // Someone else takes the memory before the restart: it cannot be built again.
    const hog = big.machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
    hog.maxPages = 1 << 20;
    big.machine.allocFrames(hog, big.machine.freeFrameCount());
    big.machine.shutdownDomain(d.domain, ShutdownReason.Reboot);
    big.machine.clock.fireDue();
    expect(big.log).toHaveLength(1);
    expect(big.log[0]).toMatch(
      /^domain 1 \(domU-1\) shut down \(reboot\): on_reboot = "restart", but it cannot be built again: /,
    );
    expect(big.dom0.launched).toHaveLength(1);
  });
});
