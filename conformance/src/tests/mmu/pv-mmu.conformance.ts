/**
 * The PV MMU as a guest kernel sees it, on an arch whose guests keep x86-style 4-level
 * (or, feature `pv-mmu-pae`, 3-level PAE) page tables that Xen validates (feature `pv-mmu-radix`; entries in x86's format: frame
 * in bits 12–51, present, writable, accessed, dirty). The guest walks its own tables from
 * the root (each table mapped read-only at a window page), then (Xen 4.19,
 * xen/arch/x86/mm.c):
 *
 * - update_va_mapping (`__do_update_va_mapping` → mod_l1_entry) remaps a page onto another
 *   of its frames; mmu_update (MMU_NORMAL_PT_UPDATE, the entry by machine address) puts
 *   the first back and writes the count done to `pdone` (an `unsigned int`); MMUEXT_INVLPG_LOCAL.
 * - Writable page tables (the image's `writable_page_tables` feature; ptwr emulation): a
 *   store to a read-only mapping of an L1 table is carried out as a checked update.
 * - get_page_from_l1e: a writable mapping of a page-table page, or a mapping of a frame
 *   the domain does not own (machine frame 0), −EBUSY; a read-only mapping of an L1 table
 *   is fine and shows the same entries.
 * - MMUEXT_PIN_L1_TABLE: a frame mapped writable somewhere cannot take the L1 type
 *   (−EINVAL); an unmapped zeroed frame can; pinning it twice −EINVAL; while pinned it
 *   cannot be mapped writable (−EBUSY); MMUEXT_UNPIN_TABLE, twice −EINVAL; afterwards a
 *   writable mapping is fine again.
 * - mod_l4_entry: the L4 slots Xen keeps for itself (256–271, is_guest_l4_slot) −EINVAL;
 *   with PAE tables (feature `pv-mmu-pae`) mod_l3_entry's slot 3, which holds Xen's L2.
 * - do_mmu_update: command 3 (MMU_PT_UPDATE_NO_TRANSLATE, a normal update for a PV owner)
 *   on machine address 0, a page the domain does not own, −EINVAL; a command past 3
 *   −ENOSYS (the switch's default).
 * - With feature `m2p`: the machine-to-physical table maps a page's frame to its
 *   pseudo-physical frame.
 *
 * Left to the compiled mmu guest: the atomic exchange and compare-exchange on an L1
 * entry (ptwr emulation of xchg/cmpxchg), which the agent's plain stores cannot make.
 */
import { Errno, MmuextCmd, MmuUpdateCmd } from "@hvkit/core";
import type { Agent } from "../../agent.js";
import { agentTest } from "../agent-test.js";
import {
  ENTRY_BYTES,
  GuestPageTables,
  PAGE_SHIFT,
  POISON,
  PTE_FRAME,
  PTE_P,
  PTE_RW,
} from "./guest-page-tables.js";

/** Markers written to two pages, to tell which one a virtual page shows. */
const MARK_0 = 0xa5;
const MARK_1 = 0x5a;

/** mmu/pv-mmu. */
export const pvMmu = agentTest({
  area: "mmu",
  name: "pv-mmu",
  description:
    "mmu_update, update_va_mapping and mmuext_op enforce page types, pinning and ownership as Xen does",
  requires: { features: ["pv-mmu-radix", "frames"] },
  run(agent, check) {
    const mmu = new GuestPageTables(agent, 3);
    const [spare0, spare1, probe, , fresh] = [0, 1, 2, 3, 4].map((n) => mmu.window(n));
    const frame0 = mmu.frame(spare0);
    const frame1 = mmu.frame(spare1);
    const byte = (va: bigint): number => Number(agent.readUint(va, 1));
    const invlpg = (va: bigint): bigint => mmu.mmuext(MmuextCmd.invlpg_local, va);
    agent.writeUint(spare0, 1, MARK_0);
    agent.writeUint(spare1, 1, MARK_1);

    const slot = mmu.l1Slot(spare0);
    const l1e = mmu.entry(slot);
    check.equal("the spare page's L1 entry is present", l1e & PTE_P, PTE_P);
    check.equal("the spare page's L1 entry is writable", l1e & PTE_RW, PTE_RW);
    check.equal(
      "the spare page's L1 entry names its frame",
      (l1e & PTE_FRAME) >> PAGE_SHIFT,
      frame0,
    );

    // update_va_mapping: the spare page's virtual page onto the second spare's frame.
    check.equal(
      "update_va_mapping onto another frame",
      mmu.updateVaMapping(spare0, mmu.pte(frame1, true)),
      0,
    );
    check.equal("update_va_mapping: the page shows the other frame", byte(spare0), MARK_1);

    // mmu_update: the original frame back, through the L1 entry's machine address.
    const put = mmu.mmuUpdate(mmu.machineAddress(slot), mmu.pte(frame0, true));
    check.equal("mmu_update of the L1 entry", put.rc, 0);
    check.equal("mmu_update: done 1", put.done, 1);
    check.equal(
      "mmu_update: done is an unsigned int (the next 4 bytes untouched)",
      put.after,
      POISON,
    );
    check.equal("MMUEXT_INVLPG_LOCAL", invlpg(spare0), 0);
    check.equal("mmu_update: the page shows its own frame again", byte(spare0), MARK_0);

    // A writable mapping of a page-table page is refused; a read-only one is fine.
    check.equal(
      "writable mapping of an L1 table: EBUSY",
      mmu.updateVaMapping(probe, mmu.pte(slot.frame, true)),
      -Errno.EBUSY,
    );
    check.equal(
      "read-only mapping of an L1 table",
      mmu.updateVaMapping(probe, mmu.pte(slot.frame, false)),
      0,
    );
    const entryVa = probe + BigInt(slot.index * ENTRY_BYTES);
    const orig = agent.readUint(entryVa, 8);
    check.equal("read-only mapping of an L1 table: the same entry", orig, mmu.entry(slot));

    // Writable page tables: a store to the read-only mapped entry is emulated by Xen.
    const stored = agent.tryWrite(entryVa, word64(agent, mmu.pte(frame1, true)));
    check.that(
      "store to the read-only mapped L1 entry: no fault",
      stored === null,
      stored?.detail ?? null,
    );
    invlpg(spare0);
    check.equal("store to the L1 entry: the page shows the other frame", byte(spare0), MARK_1);
    check.equal(
      "store to the L1 entry: the table holds the new frame",
      (agent.readUint(entryVa, 8) & PTE_FRAME) >> PAGE_SHIFT,
      frame1,
    );
    agent.tryWrite(entryVa, word64(agent, orig));
    invlpg(spare0);
    check.equal("store of the old entry: the page shows its own frame again", byte(spare0), MARK_0);

    // A frame the domain does not own.
    check.equal(
      "mapping machine frame 0: EBUSY",
      mmu.updateVaMapping(probe, mmu.pte(0n, false)),
      -Errno.EBUSY,
    );

    // Pinning.
    check.equal(
      "pin a writable-mapped frame as L1: EINVAL",
      mmu.mmuext(MmuextCmd.pin_l1_table, frame1),
      -Errno.EINVAL,
    );
    agent.write(fresh, new Uint8Array(agent.pageSize));
    const table = mmu.frame(fresh);
    check.equal("unmap a zeroed page", mmu.updateVaMapping(fresh, 0n), 0);
    check.equal("pin the unmapped frame as L1", mmu.mmuext(MmuextCmd.pin_l1_table, table), 0);
    check.equal("pin it again: EINVAL", mmu.mmuext(MmuextCmd.pin_l1_table, table), -Errno.EINVAL);
    check.equal(
      "writable mapping of the pinned table: EBUSY",
      mmu.updateVaMapping(probe, mmu.pte(table, true)),
      -Errno.EBUSY,
    );
    check.equal("unpin", mmu.mmuext(MmuextCmd.unpin_table, table), 0);
    check.equal("unpin again: EINVAL", mmu.mmuext(MmuextCmd.unpin_table, table), -Errno.EINVAL);
    check.equal(
      "writable mapping after unpin",
      mmu.updateVaMapping(probe, mmu.pte(table, true)),
      0,
    );

    // Xen's root slots are not the guest's.
    const xen = mmu.firstXenSlot;
    const root = `L${mmu.levels} slot ${xen}`;
    const xenSlot = mmu.mmuUpdate(mmu.machineAddress({ frame: mmu.rootFrame, index: xen }), 0n);
    check.equal(`mmu_update of ${root}: EINVAL`, xenSlot.rc, -Errno.EINVAL);
    check.equal(`mmu_update of ${root}: done 0`, xenSlot.done, 0);

    if (agent.arch.features.includes("m2p") && agent.spec.pfnOf !== undefined) {
      check.equal(
        "the M2P maps the spare page's frame to its pseudo-physical frame",
        agent.m2p(frame0),
        agent.spec.pfnOf(agent, spare0),
      );
    }

    // Commands.
    check.equal(
      "mmu_update command 3 (no-translate) on machine address 0: EINVAL",
      mmu.mmuUpdate(BigInt(MmuUpdateCmd.pt_update_no_translate), 0n).rc,
      -Errno.EINVAL,
    );
    check.equal("mmu_update command 7: ENOSYS", mmu.mmuUpdate(7n, 0n).rc, -Errno.ENOSYS);
  },
});

/** `value` as 8 bytes in the arch's byte order (written as one aligned store: a page-table entry). */
function word64(agent: Agent, value: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, value, agent.model.littleEndian);
  return b;
}
