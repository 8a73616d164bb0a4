import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DomId, type Domain } from "./domain.js";
import {
  evtchnAllocUnbound,
  evtchnBindInterdomain,
  evtchnBindIpi,
  evtchnBindVcpu,
  evtchnBindVirq,
  evtchnClose,
  evtchnReset,
  evtchnSend,
  evtchnSendVirq,
  evtchnUnmask,
  NR_VIRQS,
  PortState,
  virqType,
  VirqType,
} from "./event-channel.js";
import type { HvMachine } from "./machine-impl.js";
import { addFakeDomain, fakeMachine } from "./testing/fake-machine.js";

/** Checks the table invariants Xen relies on; returns a description of the first broken one. */
function brokenInvariant(machine: HvMachine, domains: Domain[]): string | null {
  for (const d of domains) {
    const t = d.eventChannels;
    if (t.state[0] !== PortState.Reserved) return `d${d.id} port 0 not reserved`;
    for (let p = 1; p < t.state.length; p++) {
      if (t.state[p] === PortState.Interdomain) {
        const r = machine.domains.get(t.remoteDomain[p]);
        const q = t.remotePort[p];
        if (r === undefined) return `d${d.id}:${p} points at a missing domain`;
        const rt = r.eventChannels;
        if (!rt.isValid(q) || rt.state[q] !== PortState.Interdomain) {
          return `d${d.id}:${p} → d${r.id}:${q} is not interdomain`;
        }
        if (rt.remoteDomain[q] !== d.id || rt.remotePort[q] !== p) {
          return `d${d.id}:${p} → d${r.id}:${q} is not symmetric`;
        }
      }
      if (t.notifyVcpu[p] >= d.vcpus.length) return `d${d.id}:${p} notifies a missing vCPU`;
    }
    for (let v = 0; v < d.vcpus.length; v++) {
      for (let virq = 0; virq < NR_VIRQS; virq++) {
        const p = t.virqPort(v, virq);
        if (p === 0) continue;
        if (t.state[p] !== PortState.Virq || t.binding[p] !== virq) {
          return `d${d.id} vCPU ${v} VIRQ ${virq} → port ${p} is not that VIRQ`;
        }
        if (virqType(virq) === VirqType.Vcpu && t.notifyVcpu[p] !== v) {
          return `d${d.id} per-vCPU VIRQ ${virq} port ${p} notifies the wrong vCPU`;
        }
      }
    }
  }
  return null;
}

const op = fc.record({
  // Binding and closing often, reset rarely, so channels build up between domains.
  kind: fc.constantFrom(0, 0, 0, 1, 11, 11, 11, 2, 3, 4, 5, 6, 7, 7, 7, 8, 9, 10),
  dom: fc.integer({ min: 0, max: 2 }),
  other: fc.integer({ min: 0, max: 3 }),
  port: fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: 6 }), weight: 6 },
    { arbitrary: fc.integer({ min: -5, max: 5000 }), weight: 1 },
  ),
  n: fc.integer({ min: -2, max: 30 }),
});

describe("event channels under random operation sequences", () => {
  it("never throw, keep interdomain links symmetric and VIRQ maps consistent", () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 40, maxLength: 150 }), (ops) => {
        const { machine } = fakeMachine();
        const ds = [0, 1, 2].map((id) => {
          const d = addFakeDomain(machine, { id, vcpus: 2, privileged: id === 0 });
          d.sharedInfoMfn = machine.allocXenFrames(1)![0];
          return d;
        });
        const domid = (i: number) => (i === 3 ? DomId.SELF : i);
        for (const o of ops) {
          const d = ds[o.dom];
          let rc = 0;
          switch (o.kind) {
            case 0:
              rc = evtchnAllocUnbound(machine, d, domid(o.other));
              break;
            case 1:
              rc = evtchnBindInterdomain(machine, d, domid(o.other), o.port);
              break;
            case 2:
              rc = evtchnBindVirq(machine, d, o.n, o.other);
              break;
            case 3:
              rc = evtchnBindIpi(machine, d, o.other);
              break;
            case 4:
              rc = evtchnBindVcpu(machine, d, o.port, o.other);
              break;
            case 5:
            case 6:
              rc = evtchnSend(machine, d, o.port);
              break;
            case 7:
              rc = evtchnClose(machine, d, o.port);
              break;
            case 8:
              rc = evtchnUnmask(machine, d, o.port);
              break;
            case 9:
              evtchnSendVirq(machine, d, o.n, o.other);
              break;
            case 10:
              rc = evtchnReset(machine, d, d);
              break;
            default: {
              // Bind to a port the other domain offered to this one, if there is one.
              const r = ds[o.other % 3];
              const offer = r.eventChannels.state.findIndex(
                (s, p) => s === PortState.Unbound && r.eventChannels.remoteDomain[p] === d.id,
              );
              rc = evtchnBindInterdomain(machine, d, r.id, offer);
              break;
            }
          }
          expect(Number.isInteger(rc)).toBe(true);
          const broken = brokenInvariant(machine, ds);
          if (broken !== null) throw new Error(`after ${JSON.stringify(o)}: ${broken}`);
        }
      }),
      { numRuns: 200, seed: 4 },
    );
  });

  it("the invariant check notices a half-closed channel", () => {
    const { machine } = fakeMachine();
    const a = addFakeDomain(machine, { id: 1 });
    const b = addFakeDomain(machine, { id: 2 });
    const pb = evtchnAllocUnbound(machine, b, a.id);
    const pa = evtchnBindInterdomain(machine, a, b.id, pb);
    expect(brokenInvariant(machine, [a, b])).toBeNull();
    a.eventChannels.state[pa] = PortState.Free;
    expect(brokenInvariant(machine, [a, b])).toMatch(/is not interdomain/);
  });
});
