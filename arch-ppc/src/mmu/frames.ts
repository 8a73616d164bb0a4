/**
 * The {@link PpcGuestFrames} of a domain on a machine: its p2m over machine memory, with
 * H_ENTER allowed on the frames the frame table says it owns, and the frames other
 * domains granted it at guest frames of their own ({@link PpcGrantMapping}).
 *
 * @module
 */
import type { Domain, PhysicalMemory } from "@hvkit/core";
import type { PpcGuestFrames } from "./mmu.js";

/**
 * A granted frame a grant map (GNTMAP_host_map) placed at a guest frame of the grantee,
 * as Xen/ppc's create_grant_va_mapping recorded it in the domain's foreign map, which
 * pfn2mfn resolved for H_ENTER (xen/arch/powerpc/mm.c, PFN_TYPE_FOREIGN).
 */
export interface PpcGrantMapping {
  /** The machine frame granted. */
  readonly mfn: number;
  /** Mapped with GNTMAP_readonly: H_ENTER gives it no write access. */
  readonly readOnly: boolean;
}

/**
 * The guest-physical memory of `domain` on machine memory `memory`: guest frame → its
 * machine frame through `domain.p2m` (read on every miss, so a p2m that grows or changes is
 * followed; {@link PpcHashedPageTable.invalidate} drops cached translations when an entry
 * changes, which the plugin's `onP2mChanged` does), mappable when
 * the machine frame's owner is the domain; a guest frame with no p2m entry may hold a
 * grant map (`grants`, by guest frame), mappable read-only when the map is.
 */
export function domainGuestFrames(
  memory: PhysicalMemory,
  domain: Pick<Domain, "id" | "p2m">,
  grants: ReadonlyMap<number, PpcGrantMapping> = new Map(),
): PpcGuestFrames {
  const owner = memory.frameTable.owner;
  const pageSize = memory.pageSize;
  const mfnOf = (gpfn: number): number => {
    const p2m = domain.p2m;
    const mfn = gpfn >= 0 && gpfn < p2m.length ? p2m[gpfn]! : -1;
    return mfn >= 0 ? mfn : (grants.get(gpfn)?.mfn ?? -1);
  };
  return {
    bytes: memory.bytes,
    frameBase: (gpfn) => {
      const mfn = mfnOf(gpfn);
      return mfn >= 0 ? mfn * pageSize : -1;
    },
    mayMap: (gpfn) => {
      const mfn = mfnOf(gpfn);
      return mfn >= 0 && (owner[mfn] === domain.id || grants.get(gpfn)?.mfn === mfn);
    },
    readOnly: (gpfn) => grants.get(gpfn)?.readOnly === true && grants.get(gpfn)?.mfn === mfnOf(gpfn),
  };
}
