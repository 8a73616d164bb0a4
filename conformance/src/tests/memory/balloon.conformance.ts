/**
 * A balloon driver's round trip through memory_op: the domain reads its
 * reservation, unmaps four pages and gives their frames back (decrease_reservation: the
 * M2P entries become invalid, the count drops by four), populates the same
 * pseudo-physical frames again (new machine frames come back in place of the frame
 * numbers; the M2P maps them to those frames, contents zeroed), asks for more than its
 * limit (increase_reservation stops partway), exchanges one page for another, gives
 * back a page it still maps (freed only at the unmap: guest_remove_page and x86
 * put_page), and gets Xen's errors for bad orders and inconsistent exchanges. Numbers:
 * xen/include/public/memory.h; behaviour: xen/common/memory.c, page_alloc.c.
 *
 * It runs as dom0 and as a domU (which never names a domain: DOMID_SELF throughout).
 * The pages are the agent's window pages (feature `frames`); their pseudo-physical frame
 * numbers and the M2P checks come from the M2P (feature `m2p`).
 */
import { Errno, MemoryOp } from "@hvkit/core";
import { agentTest } from "../agent-test.js";
import { FrameList, XenMem } from "./xenmem.js";

const NR = 4;
const PAGE = 4096;
/** Entries of the array increase_reservation may fill. */
const EXTRA = 2048;

/** memory/balloon. */
export const memoryBalloon = agentTest({
  area: "memory",
  name: "balloon",
  description:
    "increase/decrease_reservation, populate_physmap and exchange keep the reservation and the M2P consistent",
  requires: { modes: ["pv"], features: ["frames", "frame-mapping", "m2p"] },
  run(agent, check) {
    const mem = new XenMem(agent);
    const frameOf = (va: bigint): bigint => agent.frameOf(va);
    const map = (va: bigint, frame: bigint | null): bigint => agent.mapFrame(va, frame, true);
    const pages = Array.from({ length: NR }, (_, i) => agent.boot.window + BigInt(i * PAGE));

    const cur = mem.current();
    const max = mem.query(MemoryOp.maximum_reservation);
    check.equal("current_reservation is start_info nr_pages", cur, agent.bootInfo().nrPages);
    check.that("maximum_reservation >= current", max >= cur, max);

    // Balloon down: unmap the pages, give back their frames.
    const frames = new FrameList(agent, NR);
    const pfns: bigint[] = [];
    pages.forEach((va, i) => {
      agent.writeUint(va, 1, 0x11 * (i + 1));
      const frame = frameOf(va);
      frames.set(i, frame);
      pfns.push(agent.m2p(frame) ?? -1n);
    });
    for (const va of pages) map(va, null);
    check.equal(
      "decrease_reservation 4 frames: done",
      mem.reservation(MemoryOp.decrease_reservation, { list: frames.va, nr: NR }),
      NR,
    );
    const given = pfns.map((_, i) => frames.get(i));
    check.equal(
      "decrease_reservation: M2P entries invalid",
      given.filter((f) => agent.m2p(f) === null).length,
      NR,
    );
    check.equal("decrease_reservation: current down by 4", mem.current() - cur, -NR);
    check.equal(
      "decrease a frame already given back: 0 done",
      mem.reservation(MemoryOp.decrease_reservation, { list: frames.va, nr: 1 }),
      0,
    );

    // Balloon up: the same pseudo-physical frames get new machine frames.
    const gpfns = new FrameList(agent, NR).fill(pfns);
    check.equal(
      "populate_physmap 4 frames: done",
      mem.reservation(MemoryOp.populate_physmap, { list: gpfns.va, nr: NR }),
      NR,
    );
    let m2pOk = 0;
    let zeroed = 0;
    pages.forEach((va, i) => {
      const frame = gpfns.get(i);
      if (agent.m2p(frame) === pfns[i]) m2pOk++;
      map(va, frame);
      if (agent.readUint(va, 1) === 0n) zeroed++;
      agent.writeUint(va, 1, 0x5a);
    });
    check.equal("populate_physmap: the M2P maps the new frames back", m2pOk, NR);
    check.equal("populate_physmap: the new frames are zeroed", zeroed, NR);
    check.equal("populate_physmap: current back", mem.current() - cur, 0);

    // Ask for more than max_pages allows (or memory holds): increase_reservation does what
    // it can and returns the count; the frames come back in the array.
    const want = max - cur + 1n < BigInt(EXTRA) ? max - cur + 1n : BigInt(EXTRA);
    const extra = new FrameList(agent, EXTRA);
    const got = mem.reservation(MemoryOp.increase_reservation, { list: extra.va, nr: want });
    const now = mem.current();
    // With headroom some frames come (dom0); a domain built at its limit gets none.
    if (max > cur) check.that("increase past the limit: partial", got > 0n && got < want, got);
    else check.equal("increase with no headroom: 0 done", got, 0);
    check.equal("increase past the limit: current grew by the count", now - cur, got);
    check.that("increase past the limit: within maximum", now <= max, now);
    check.equal(
      "give them back: all",
      mem.reservation(MemoryOp.decrease_reservation, { list: extra.va, nr: got }),
      got,
    );
    check.equal("give them back: current", mem.current() - cur, 0);

    // Exchange one page's frame for a fresh one at the same pseudo-physical frame.
    const page = pages[1];
    map(page, null);
    const input = new FrameList(agent, 1).fill([gpfns.get(1)]);
    const output = new FrameList(agent, 1).fill([pfns[1]]);
    const x = mem.exchange({ list: input.va, nr: 1 }, { list: output.va, nr: 1 });
    check.equal("exchange one page", x.rc, 0);
    check.equal("exchange one page: nr_exchanged", x.nrExchanged, 1);
    const out = output.get(0);
    check.that("exchange one page: the new frame differs", out !== input.get(0), out);
    check.equal("exchange one page: M2P", agent.m2p(out), pfns[1]);
    map(page, out);

    // Give back a page the guest still maps: guest_remove_page drops the allocation
    // reference, so the frame leaves the physmap (its M2P entry goes) but stays the
    // domain's — counted in tot_pages, still reachable through the mapping, and given back
    // again without error (get_page still succeeds) — until put_page drops the last
    // reference at the unmap, which frees it (free_domheap_pages: tot_pages down).
    const kept = pages[2];
    const keptFrame = gpfns.get(2);
    agent.writeUint(kept, 1, 0x77);
    const one = new FrameList(agent, 1).fill([keptFrame]);
    const giveBack = (): bigint =>
      mem.reservation(MemoryOp.decrease_reservation, { list: one.va, nr: 1 });
    check.equal("decrease a frame still mapped: done", giveBack(), 1);
    check.equal("decrease a frame still mapped: its M2P entry invalid", agent.m2p(keptFrame), null);
    check.equal("decrease a frame still mapped: current unchanged", mem.current() - cur, 0);
    check.equal(
      "decrease a frame still mapped: the mapping still reads it",
      agent.readUint(kept, 1),
      0x77,
    );
    agent.writeUint(kept, 1, 0x78);
    check.equal("decrease a frame still mapped: and writes it", agent.readUint(kept, 1), 0x78);
    check.equal("decrease it again while mapped: done", giveBack(), 1);
    check.equal("unmap it", map(kept, null), 0);
    check.equal(
      "unmapped: the last reference frees it, current down by 1",
      mem.current() - cur,
      -1,
    );
    check.equal("decrease it after the unmap: 0 done (not the domain's)", giveBack(), 0);
    one.set(0, pfns[2]);
    check.equal(
      "populate its frame again",
      mem.reservation(MemoryOp.populate_physmap, { list: one.va, nr: 1 }),
      1,
    );
    check.equal("map the new frame", map(kept, one.get(0)), 0);
    check.equal("the new frame is zeroed", agent.readUint(kept, 1), 0);

    // Errors.
    check.equal(
      "exchange with unequal sizes EINVAL",
      mem.exchange({ list: input.va, nr: 1 }, { list: output.va, nr: 2 }).rc,
      -Errno.EINVAL,
    );
    check.equal(
      "exchange with order 19 EPERM",
      mem.exchange({ list: input.va, nr: 1, order: 19 }, { list: output.va, nr: 1, order: 19 }).rc,
      -Errno.EPERM,
    );
    check.equal(
      "populate with order 19: 0 done",
      mem.reservation(MemoryOp.populate_physmap, { list: gpfns.va, nr: 1, order: 19 }),
      0,
    );
    check.equal(
      "exchange at a non-zero start extent EINVAL",
      mem.exchange({ list: input.va, nr: 1 }, { list: output.va, nr: 1 }, 0, 1).rc,
      -Errno.EINVAL,
    );
    check.equal("reservation at the end: current", mem.current() - cur, 0);
    check.equal(
      "reservation at the end: maximum",
      mem.query(MemoryOp.maximum_reservation) - max,
      0,
    );
  },
});
