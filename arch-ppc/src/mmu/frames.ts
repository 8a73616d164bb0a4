/**
 * The {@link PpcGuestFrames} of a domain on a machine: its p2m over machine memory, with
 * H_ENTER allowed on the frames the frame table says it owns, and the frames other
 * domains granted it at guest frames of their own ({@link PpcForeignFrame}).
 *
 * @module
 */
import type { Domain, PhysicalMemory } from "@hvkit/core";
import type { PpcGuestFrames } from "./mmu.js";

/**
 * Another domain's frame at a guest frame of this one — granted (a grant map,
 * GNTMAP_host_map) or mapped by a privileged toolstack (XENMAPSPACE_gmfn_foreign) — as
 * Xen/ppc's domain foreign map, which pfn2mfn resolved for H_ENTER
 * (xen/arch/powerpc/mm.c, PFN_TYPE_FOREIGN). It shows the frame only while `owner` owns
 * it.
 */
export interface PpcForeignFrame {
  /** The machine frame. */
  readonly mfn: number;
  /** The domain that owned it when it was mapped. */
  readonly owner: number;
  /** Mapped read-only (GNTMAP_readonly): H_ENTER gives it no write access. */
  readonly readOnly: boolean;
}

/**
 * The guest-physical memory of `domain` on machine memory `memory`: guest frame → its
 * machine frame through `domain.p2m` (read on every miss, so a p2m that grows or changes is
 * followed; {@link PpcHashedPageTable.invalidate} drops cached translations when an entry
 * changes, which the plugin's `onP2mChanged` does), mappable when
 * the machine frame's owner is the domain; a guest frame with no p2m entry may hold
 * another domain's frame (`foreign`, by guest frame), mappable read-only when so mapped.
 */
export function domainGuestFrames(
  memory: PhysicalMemory,
  domain: Pick<Domain, "id" | "p2m">,
  foreign: ReadonlyMap<number, PpcForeignFrame> = new Map(),
): PpcGuestFrames {
  const owner = memory.frameTable.owner;
  const pageSize = memory.pageSize;
  const foreignAt = (gpfn: number): PpcForeignFrame | undefined => {
    const f = foreign.get(gpfn);
    return f !== undefined && owner[f.mfn] === f.owner ? f : undefined;
  };
  const mfnOf = (gpfn: number): number => {
    const p2m = domain.p2m;
    const mfn = gpfn >= 0 && gpfn < p2m.length ? p2m[gpfn]! : -1;
    return mfn >= 0 ? mfn : (foreignAt(gpfn)?.mfn ?? -1);
  };
  return {
    bytes: memory.bytes,
    frameBase: (gpfn) => {
      const mfn = mfnOf(gpfn);
      return mfn >= 0 ? mfn * pageSize : -1;
    },
    mayMap: (gpfn) => {
      const mfn = mfnOf(gpfn);
      return mfn >= 0 && (owner[mfn] === domain.id || foreignAt(gpfn) !== undefined);
    },
    readOnly: (gpfn) => (domain.p2m[gpfn] ?? -1) < 0 && foreignAt(gpfn)?.readOnly === true,
  };
}
