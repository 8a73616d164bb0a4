/**
 * A built-in domain's events reach its host-side handler between scheduling slices, at the
 * virtual time they were raised, coalesced per port and in port order — never during the
 * sender's hypercall, never through a shared_info page it does not have.
 */
import { describe, expect, it } from "vitest";
import { Virq } from "./abi/numbers.js";
import { ShutdownReason } from "./domain.js";
import {
  evtchnAllocUnbound,
  evtchnBindInterdomain,
  evtchnBindVirq,
  evtchnSend,
} from "./event-channel.js";
import { attachHostEvents } from "./host-domain.js";
import { fakeVcpu } from "./testing/fake-arch.js";
import { addFakeDomain, fakeMachine } from "./testing/fake-machine.js";

function setup() {
  const { machine } = fakeMachine();
  const dom0 = machine.createDomain({ privileged: true, mode: "pv", vcpus: 1, id: 0 });
  const seen: { port: number; at: number }[] = [];
  const queue = attachHostEvents(machine, dom0, (port) =>
    seen.push({ port, at: machine.clock.now }),
  );
  const guest = addFakeDomain(machine, { id: 1 });
  guest.sharedInfoMfn = machine.allocXenFrames(1)![0];
  return { machine, dom0, guest, seen, queue };
}

/** Connects a new unbound port of `guest` (remote dom0) to dom0; returns both ends. */
function connect(s: ReturnType<typeof setup>): { guestPort: number; dom0Port: number } {
  const guestPort = evtchnAllocUnbound(s.machine, s.guest, 0);
  const dom0Port = evtchnBindInterdomain(s.machine, s.dom0, 1, guestPort);
  expect(guestPort).toBeGreaterThan(0);
  expect(dom0Port).toBeGreaterThan(0);
  return { guestPort, dom0Port };
}

describe("host-side events of a built-in domain", () => {
  it("queues sends, coalesced per port, and hands them over in port order when the clock fires", () => {
    const s = setup();
    const a = connect(s);
    const b = connect(s);
    s.machine.clock.fireDue(); // the binds themselves signal dom0's new ports (Xen does too)
    s.seen.length = 0;
    expect(evtchnSend(s.machine, s.guest, b.guestPort)).toBe(0);
    expect(evtchnSend(s.machine, s.guest, a.guestPort)).toBe(0);
    expect(evtchnSend(s.machine, s.guest, b.guestPort)).toBe(0);
    expect(s.seen).toEqual([]); // not inside the sender's hypercall
    expect(s.queue.pending).toEqual([a.dom0Port, b.dom0Port]);
    expect(s.dom0.sharedInfoMfn).toBe(-1);
    s.machine.clock.fireDue();
    expect(s.seen.map((e) => e.port)).toEqual([a.dom0Port, b.dom0Port]);
    expect(s.queue.pending).toEqual([]);
    s.machine.clock.fireDue();
    expect(s.seen.length).toBe(2);
  });

  it("in the run loop: the sender's slice ends at its exit and the handler runs at that virtual time", () => {
    const s = setup();
    const { guestPort, dom0Port } = connect(s);
    s.machine.clock.fireDue();
    s.seen.length = 0;
    let handledBeforeNextStep = false;
    let nextStepAt = -1;
    fakeVcpu(s.guest.vcpus[0]).push(
      { kind: "compute", instructions: 100 },
      { kind: "call", fn: () => void evtchnSend(s.machine, s.guest, guestPort) },
      // The exit after the send (on a real arch the send is itself a hypercall exit).
      { kind: "hypercall", nr: 17, args: [0, 0] },
      {
        kind: "call",
        fn: () => {
          handledBeforeNextStep = s.seen.length === 1;
          nextStepAt = s.machine.clock.now;
        },
      },
      { kind: "compute", instructions: 1000 },
      { kind: "hypercall", nr: 29, args: [2, 0] },
    );
    s.machine.run({ maxInstructions: 5000 });
    expect(s.seen.map((e) => e.port)).toEqual([dom0Port]);
    expect(handledBeforeNextStep).toBe(true);
    expect(s.seen[0].at).toBeGreaterThanOrEqual(100);
    expect(s.seen[0].at).toBeLessThanOrEqual(nextStepAt);
  });

  it("a domU's shutdown raises VIRQ_DOM_EXC for domain 0, as Xen's __domain_finalise_shutdown", () => {
    const s = setup();
    const port = evtchnBindVirq(s.machine, s.dom0, Virq.dom_exc, 0);
    expect(port).toBeGreaterThan(0);
    s.machine.shutdownDomain(s.guest, ShutdownReason.Poweroff);
    s.machine.clock.fireDue();
    expect(s.seen.map((e) => e.port)).toEqual([port]);
    // dom0's own shutdown does not signal itself.
    s.machine.shutdownDomain(s.dom0, ShutdownReason.Poweroff);
    s.machine.clock.fireDue();
    expect(s.seen.length).toBe(1);
  });
});
