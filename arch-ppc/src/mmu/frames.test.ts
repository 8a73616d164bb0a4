/** A domain's p2m as the MMU's guest frames: machine offsets, holes, ownership. */
import { PhysicalMemory } from "@hvkit/core";
import { describe, expect, it } from "vitest";
import { domainGuestFrames } from "./frames.js";

describe("domainGuestFrames", () => {
  it("maps guest frames through the p2m and allows H_ENTER only on frames the domain owns", () => {
    const memory = new PhysicalMemory(4096, 8, "big");
    memory.frameTable.owner[5] = 3;
    memory.frameTable.owner[6] = 4;
    const domain = { id: 3, p2m: Int32Array.of(5, -1, 6) };
    const f = domainGuestFrames(memory, domain);
    expect(f.bytes).toBe(memory.bytes);
    expect([0, 1, 2, 3, -1].map((g) => f.frameBase(g))).toEqual([5 * 4096, -1, 6 * 4096, -1, -1]);
    expect([0, 1, 2, 3].map((g) => f.mayMap(g))).toEqual([true, false, false, false]);
    // A p2m replaced as it grows is followed.
    domain.p2m = Int32Array.of(5, -1, 6, 5);
    expect(f.frameBase(3)).toBe(5 * 4096);
    expect(f.mayMap(3)).toBe(true);
  });
});
