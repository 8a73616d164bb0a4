/**
 * The {@link PpcGuestFrames} of a domain on a machine: its p2m over machine memory, with
 * H_ENTER allowed on the frames the frame table says it owns.
 *
 * @module
 */
import type { Domain, PhysicalMemory } from "@hvkit/core";
import type { PpcGuestFrames } from "./mmu.js";

/**
 * The guest-physical memory of `domain` on machine memory `memory`: guest frame → its
 * machine frame through `domain.p2m` (read on every miss, so a p2m that grows or changes is
 * followed; {@link PpcHashedPageTable.invalidate} drops cached translations when an entry
 * changes, which the plugin's `onP2mChanged` does), mappable when
 * the machine frame's owner is the domain.
 */
export function domainGuestFrames(
  memory: PhysicalMemory,
  domain: Pick<Domain, "id" | "p2m">,
): PpcGuestFrames {
  const owner = memory.frameTable.owner;
  const pageSize = memory.pageSize;
  const mfnOf = (gpfn: number): number => {
    const p2m = domain.p2m;
    return gpfn >= 0 && gpfn < p2m.length ? p2m[gpfn]! : -1;
  };
  return {
    bytes: memory.bytes,
    frameBase: (gpfn) => {
      const mfn = mfnOf(gpfn);
      return mfn >= 0 ? mfn * pageSize : -1;
    },
    mayMap: (gpfn) => {
      const mfn = mfnOf(gpfn);
      return mfn >= 0 && owner[mfn] === domain.id;
    },
  };
}
