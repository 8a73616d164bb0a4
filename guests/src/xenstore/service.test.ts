import "reflect-metadata";
import {
  createMachine,
  evtchnAllocUnbound,
  evtchnIsPending,
  type Domain,
  type HvMachine,
} from "@hvkit/core";
import { idleArch } from "@hvkit/core/testing";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { XenbusClient } from "../xenbus/client.js";
import { XenbusRingTransport } from "../xenbus/ring.js";
import { XenstoreService } from "./service.js";
import { createDomainHome } from "./toolstack.js";

function machineWithDomains(): { machine: HvMachine; dom0: Domain; guest: Domain } {
  const arch = idleArch("xs-test");
  const machine = createMachine(container.createChildContainer(), { arch, memoryMiB: 4 });
  const dom0 = machine.createDomain({ privileged: true, mode: "pv", vcpus: 1, id: 0 });
  const guest = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1, id: 1 });
  for (const d of [dom0, guest]) {
    d.maxPages = 16;
    d.sharedInfoMfn = machine.allocXenFrames(1)![0];
  }
  return { machine, dom0, guest };
}

/**
 * A guest whose store ring (a fresh page, a port unbound for dom0) is introduced to a new
 * service, with its home in the store, and a client over that ring; `introduced` is what
 * introduce returned.
 */
function introducedGuest() {
  const { machine, dom0, guest } = machineWithDomains();
  const mfn = machine.allocFrames(guest, 1)![0];
  const port = evtchnAllocUnbound(machine, guest, 0);
  const service = new XenstoreService(machine, dom0);
  const introduced = service.introduce(guest, mfn, port);
  createDomainHome(service.daemon, {
    domid: 1,
    name: "g",
    storePort: port,
    storeRingRef: mfn,
    memoryKiB: 4096,
  });
  const client = new XenbusClient(
    new XenbusRingTransport(
      machine.memory.view,
      mfn * 4096,
      () => service.poll() > 0,
      machine.arch.dataModel,
    ),
  );
  return { machine, dom0, guest, mfn, port, service, introduced, client };
}

describe("XenstoreService", () => {
  it("introduces a domain's store ring and serves it over the event channel", () => {
    const { machine, guest, mfn, port, service, introduced, client } = introducedGuest();
    expect(port).toBeGreaterThan(0);
    expect(introduced).toBe(0);
    expect(service.daemon.isIntroduced(1)).toBe(true);
    expect(machine.memory.read32(mfn * 4096 + 2064)).toBe(14);
    client.write("data/hello", "world");
    expect(client.read("data/hello")).toBe("world");
    expect(client.read("store/ring-ref")).toBe(String(mfn));
    expect(evtchnIsPending(machine, guest, port)).toBe(true);
  });

  it("refuses a ring page the domain does not own and a port that is not unbound for dom0", () => {
    const { machine, dom0, guest } = machineWithDomains();
    const other = machine.allocFrames(dom0, 1)![0];
    const mine = machine.allocFrames(guest, 1)![0];
    const service = new XenstoreService(machine, dom0);
    const port = evtchnAllocUnbound(machine, guest, 0);
    expect(service.introduce(guest, other, port)).toBe("EINVAL");
    expect(service.introduce(guest, mine, port + 5)).toBe("EINVAL");
    expect(service.daemon.isIntroduced(1)).toBe(false);
    expect(service.introduce(guest, mine, port)).toBe(0);
  });

  it("stops serving a ring page the guest gave away (no reply written into the new owner's frame)", () => {
    const { machine, dom0, guest, mfn, service, introduced, client } = introducedGuest();
    expect(introduced).toBe(0);
    expect(client.read("domid")).toBe("1");
    // The guest balloons the page out; dom0 gets the frame and fills it with data that
    // happens to look like a ring holding a request.
    machine.freeFrame(guest, mfn);
    expect(machine.allocFrames(dom0, 1)).toEqual([mfn]);
    const transport = new XenbusRingTransport(
      machine.memory.view,
      mfn * 4096,
      () => false,
      machine.arch.dataModel,
    );
    transport.write(new Uint8Array([2, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0]));
    transport.write(new TextEncoder().encode("domid\0"));
    const before = machine.memory.bytes.slice(mfn * 4096, mfn * 4096 + 4096);
    expect(service.poll()).toBe(0);
    expect(machine.memory.bytes.slice(mfn * 4096, mfn * 4096 + 4096)).toEqual(before);
  });
});
