/**
 * Linear (recursive) page tables as a guest kernel sees them, on an arch whose guests keep
 * x86-style 4-level (or PAE 3-level) page tables that Xen validates (feature
 * `pv-mmu-radix`). Xen 4.19
 * (xen/arch/x86/mm.c, get_page_from_l{2,3,4}e → get_l{2,3,4}_linear_pagetable; boot option
 * `pv-linear-pt`, on by default):
 *
 * - An L2, L3 or L4 entry naming a table of its own level instead of the level below is a
 *   linear entry. Read-only it is accepted: naming the table that holds it, or another
 *   validated table of that level (here a freshly pinned L2). Through it the CPU reads the
 *   table as a page: the table's entries show at the matching virtual address, and a store
 *   there faults.
 * - Writable it is refused with −EINVAL (nothing written, done 0); so is making a read-only
 *   one writable in place (XSA-182: RW is not among the bits mod_l*_entry lets change
 *   without revalidating).
 * - With `pv-linear-pt=0` (mmu/linear-pt-off) every such entry is refused with −EINVAL,
 *   read-only ones naming their own table too.
 * - With PAE tables (feature `pv-mmu-pae`: L3 and L2 only) an L3 entry is never linear:
 *   get_page_from_l3e tries no linear table for a PV32 domain, so both are −EINVAL.
 */
import { Errno, MmuextCmd } from "@hvkit/core";
import type { Agent } from "../../agent.js";
import { agentTest, type Checks } from "../agent-test.js";
import {
  ENTRY_BYTES,
  GuestPageTables,
  PAGE_SHIFT,
  PTE_FRAME,
  PTE_RW,
  index,
  vaOf,
  type EntrySlot,
} from "./guest-page-tables.js";

/** The levels whose entries may be linear: every level above 1. */
function linearLevels(mmu: GuestPageTables): number[] {
  return mmu.levels === 4 ? [4, 3, 2] : [3, 2];
}

/** A PAE L3, whose entries Xen never takes as linear for a PV32 domain. */
function neverLinear(mmu: GuestPageTables, level: number): boolean {
  return mmu.levels === 3 && level === 3;
}

/**
 * The level-`level` table on the way to `va`, and a free slot in it (below Xen's root
 * slots), with the virtual address at which a linear entry there shows the table itself.
 * A PAE L3 has no free slot (Xen's builder fills all four) and takes no linear entry: its
 * last guest slot off the way to `va` then, whose entry a refused update leaves as it is.
 */
function linearPlace(
  mmu: GuestPageTables,
  va: bigint,
  level: number,
): { slot: EntrySlot; tableVa: bigint } {
  const table = mmu.slot(va, level).frame;
  const last = mmu.firstXenSlot - 1;
  const free = neverLinear(mmu, level)
    ? index(va, level) === last
      ? last - 1
      : last
    : mmu.freeIndex(table, 0, level === mmu.levels ? mmu.firstXenSlot : undefined);
  // Above the table's level the walk follows `va`; from it down, the linear slot each time.
  const levels = Array.from({ length: mmu.levels }, (_, i) => mmu.levels - i);
  const indices = levels.map((l) => (l > level ? index(va, l) : free));
  return { slot: { frame: table, index: free }, tableVa: vaOf(indices) };
}

/** mmu/linear-pt. */
export const linearPt = agentTest({
  area: "mmu",
  name: "linear-pt",
  description:
    "read-only L2–L4 entries naming a table of their own level are accepted (pv-linear-pt), writable ones refused",
  requires: { features: ["pv-mmu-radix", "frames"] },
  run(agent, check) {
    const mmu = new GuestPageTables(agent, 3);
    const home = mmu.window(0);
    agent.writeUint(home, 1, 0);
    for (const level of linearLevels(mmu)) {
      const { slot, tableVa } = linearPlace(mmu, home, level);
      const at = mmu.machineAddress(slot);
      const what = `L${level} entry naming its own table`;
      const before = mmu.entry(slot);
      const writable = mmu.mmuUpdate(at, mmu.pte(slot.frame, true));
      check.equal(`writable ${what}: EINVAL`, writable.rc, -Errno.EINVAL);
      check.equal(`writable ${what}: done 0`, writable.done, 0);
      check.equal(`writable ${what}: nothing written`, mmu.entry(slot), before);

      const ro = mmu.mmuUpdate(at, mmu.pte(slot.frame, false));
      if (neverLinear(mmu, level)) {
        check.equal(`read-only PAE ${what}: EINVAL (no linear L3)`, ro.rc, -Errno.EINVAL);
        check.equal(`read-only PAE ${what}: nothing written`, mmu.entry(slot), before);
        continue;
      }
      check.equal(`read-only ${what}`, ro.rc, 0);
      check.equal(`read-only ${what}: done 1`, ro.done, 1);
      // The entry on the way to `home` in this table, read as a page through the link.
      const k = index(home, level);
      const seen = agent.tryRead(tableVa + BigInt(k * ENTRY_BYTES), 8);
      check.that(
        `read-only ${what}: the table reads as a page through it`,
        seen instanceof Uint8Array,
        seen instanceof Uint8Array ? null : seen.detail,
      );
      if (seen instanceof Uint8Array) {
        const e = new DataView(seen.buffer).getBigUint64(0, agent.model.littleEndian);
        check.equal(
          `read-only ${what}: entry ${k} read through it names the next table down`,
          e & PTE_FRAME,
          mmu.entry({ frame: slot.frame, index: k }) & PTE_FRAME,
        );
      }
      const store = agent.tryWrite(tableVa + BigInt(k * ENTRY_BYTES), new Uint8Array(8));
      check.that(
        `read-only ${what}: a store through it faults`,
        store !== null && store.write === true,
        store?.detail ?? null,
      );

      const inPlace = mmu.mmuUpdate(at, mmu.entry(slot) | PTE_RW);
      check.equal(`${what} made writable in place (XSA-182): EINVAL`, inPlace.rc, -Errno.EINVAL);
      check.equal(`${what} made writable in place: still read-only`, mmu.entry(slot) & PTE_RW, 0);
      check.equal(`${what} cleared`, mmu.mmuUpdate(at, 0n).rc, 0);
    }
    crossTable(agent, mmu, home, check);
  },
});

/** A read-only L2 entry naming another, pinned, L2 table: accepted; writable: refused. */
function crossTable(agent: Agent, mmu: GuestPageTables, home: bigint, check: Checks): void {
  const fresh = mmu.window(4);
  agent.write(fresh, new Uint8Array(agent.pageSize));
  const other = mmu.frame(fresh);
  check.equal("unmap a zeroed page", mmu.updateVaMapping(fresh, 0n), 0);
  check.equal("pin it as an L2 table", mmu.mmuext(MmuextCmd.pin_l2_table, other), 0);
  const { slot } = linearPlace(mmu, home, 2);
  const at = mmu.machineAddress(slot);
  check.equal(
    "writable L2 entry naming another L2 table: EINVAL",
    mmu.mmuUpdate(at, mmu.pte(other, true)).rc,
    -Errno.EINVAL,
  );
  check.equal(
    "read-only L2 entry naming another L2 table",
    mmu.mmuUpdate(at, mmu.pte(other, false)).rc,
    0,
  );
  check.equal(
    "the entry names the other table",
    (mmu.entry(slot) & PTE_FRAME) >> PAGE_SHIFT,
    other,
  );
  check.equal("the entry cleared", mmu.mmuUpdate(at, 0n).rc, 0);
  check.equal("unpin the other table", mmu.mmuext(MmuextCmd.unpin_table, other), 0);
}

/** mmu/linear-pt-off. */
export const linearPtOff = agentTest({
  area: "mmu",
  name: "linear-pt-off",
  description: "with pv-linear-pt=0 every L2–L4 entry naming a table of its own level is refused",
  requires: { features: ["pv-mmu-radix", "frames"] },
  boot: { pvLinearPt: false },
  run(agent, check) {
    const mmu = new GuestPageTables(agent, 3);
    for (const level of linearLevels(mmu)) {
      const { slot } = linearPlace(mmu, mmu.window(0), level);
      const r = mmu.mmuUpdate(mmu.machineAddress(slot), mmu.pte(slot.frame, false));
      check.equal(`read-only L${level} entry naming its own table: EINVAL`, r.rc, -Errno.EINVAL);
      check.equal(`read-only L${level} entry naming its own table: done 0`, r.done, 0);
    }
  },
});
