import { describe, expect, it } from "vitest";
import { p2mSet, physmapAdd, releaseFrame } from "./p2m.js";
import { addFakeDomain, fakeMachine } from "./testing/fake-machine.js";

describe("p2m changes reach the arch (ArchPlugin.onP2mChanged)", () => {
  it("tells the arch when a guest frame stops naming its machine frame, not when a hole fills", () => {
    const { machine, arch } = fakeMachine();
    const d = addFakeDomain(machine, { pages: 0 });
    d.maxPages = 16;
    const [a, b] = machine.allocFrames(d, 2)!;
    expect(physmapAdd(machine, d, 5, a, 0)).toBe(0);
    p2mSet(machine, d, 9, b);
    expect(arch.p2mChanges).toEqual([]);
    p2mSet(machine, d, 9, b); // the same frame again: nothing changed
    expect(arch.p2mChanges).toEqual([]);
    p2mSet(machine, d, 9, a); // another machine frame
    expect(arch.p2mChanges).toEqual([{ domain: d.id, gpfn: 9 }]);
    expect(releaseFrame(machine, d, a)).toBe(0); // given back: its gpfn (the M2P's: 5) becomes a hole
    expect(d.p2m[5]).toBe(-1);
    expect(arch.p2mChanges).toEqual([
      { domain: d.id, gpfn: 9 },
      { domain: d.id, gpfn: 5 },
    ]);
  });
});
