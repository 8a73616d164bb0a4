/**
 * Every memory_op sub-op a PV guest can reach, success and each documented error, as the
 * initial domain (a control domain: max_order 18).
 *
 * Sources (Xen, xen/common/memory.c unless said otherwise):
 * - do_memory_op: the command word's low 6 bits are the op, the rest a continuation's
 *   start extent (MEMOP_EXTENT_SHIFT 6, public/memory.h). Queries and exchange refuse a
 *   non-zero start extent with -EINVAL. increase/decrease_reservation and
 *   populate_physmap never return -errno: they return the number of extents done, and a
 *   bad argument (unreadable struct, nr_extents > UINT_MAX >> 6, start >= nr_extents,
 *   bad domain, extent_order > max_order(), an extent array failing
 *   guest_handle_subrange_okay) makes them return the start extent; an array element
 *   that cannot be read stops them there (the count so far).
 * - construct_memop_from_reservation: XENMEMF_address_bits at or below PAGE_SHIFT, and
 *   propagate_node: a node >= MAX_NUMNODES (64) for the control domain, fail the call
 *   (the start extent back; -EINVAL for exchange's out.mem_flags). populate_physmap with
 *   XENMEMF_populate_on_demand on oneself does nothing.
 * - max_order(): control domain CONFIG_CTLDOM_MAX_ORDER = 2 * PAGETABLE_ORDER = 18 on x86.
 * - alloc_domheap_pages/domain_adjust_tot_pages: an allocation past d->max_pages fails,
 *   so increase_reservation stops at max_pages with a partial count.
 * - populate_physmap for a PV domain: set_gpfn_from_mfn (the M2P maps the new frames to
 *   the pseudo-physical frames) and the machine frame is written back over the gpfn.
 * - memory_exchange: -EFAULT unreadable; -EPERM an order above max_order; -EINVAL for
 *   nr_exchanged > in.nr_extents, in/out domid differ, sizes overflowing a long, in/out
 *   sizes unequal; 0 with nothing to do when nr_exchanged == in.nr_extents; -EFAULT when
 *   guest_handle_subrange_okay fails for the in range [nr_exchanged, nr - 1] or the
 *   matching out range (XSA-212: checked from nr_exchanged, not from the array base, so
 *   a huge nr_exchanged cannot point the copies into Xen's address space); per chunk
 *   -EINVAL for a frame the domain cannot give (steal_page), and nr_exchanged written
 *   back with the extents of completed chunks.
 * - add_to_physmap: start extent above the u16 size -EDOM; unreadable -EFAULT;
 *   XENMAPSPACE_gmfn_foreign -ENOSYS; unknown domain -ESRCH; xatp_permission_check: a
 *   domain that is not translated (PV) -EACCES.
 * - memory_map (the arch's memoryOp; x86: xen/arch/x86/mm.c arch_memory_op, e820 entries,
 *   the model's `memoryMapEntry`; -ENOSYS for both calls on an arch without one): unreadable -EFAULT; no e820 set for
 *   the domain -ENOSYS (a PV dom0 has none); else min(nr_entries, the map's) entries
 *   copied and nr_entries written back; a failing copy -EFAULT. set_memory_map:
 *   unreadable -EFAULT; nr_entries > E820MAX (1024) -EINVAL; unknown domain -ESRCH;
 *   XSM_TARGET lets the domain set its own; an unreadable entry -EFAULT (map unchanged);
 *   0 entries leaves no map (memory_map -ENOSYS again).
 * - XEN_DOMCTL_max_mem (xen/common/domctl.c): max_pages = max_memkb >> (PAGE_SHIFT - 10).
 *
 * The guest balloons the agent's window pages (feature `frames`) and checks the frames it
 * knows (its scratch and window pages) against the M2P (feature `m2p`), whose address is
 * also this test's "address in Xen's range" (x86 __addr_ok refuses it).
 */
import {
  DomctlCmd,
  Errno,
  Hypercall,
  MemoryOp,
  XEN_ADD_TO_PHYSMAP,
  XEN_MEMORY_MAP,
  XENMAPSPACE_GMFN_FOREIGN,
  XENMAPSPACE_GRANT_TABLE,
  XENMAPSPACE_SHARED_INFO,
  XENMEMF_NODE_SHIFT,
  XENMEMF_POPULATE_ON_DEMAND,
  DomId,
} from "@hvkit/core";
import type { Agent } from "../../agent.js";
import { agentTest, type Checks } from "../agent-test.js";
import { domctl } from "../domctl/calls.js";
import { FrameList, XenMem } from "./xenmem.js";

const PAGE = 4096;
/** A domain id no domain has. */
const NO_SUCH_DOMAIN = 0x7fe0;
/** XENMEMF_node(n). */
const node = (n: number): number => (n + 1) << XENMEMF_NODE_SHIFT;

interface Ctx {
  readonly agent: Agent;
  readonly check: Checks;
  readonly mem: XenMem;
  /** An address the guest has nothing mapped at. */
  readonly unmapped: bigint;
  /** An address in Xen's range (the M2P's). */
  readonly xen: bigint;
  /** The pages ballooned (page(0), page(1) an order-1 pair) and, after them, two edge pages. */
  readonly pages: readonly bigint[];
  readonly edge: bigint;
  /** The guest's p2m for its ballooned pages: the frame now backing each (null: none). */
  readonly backing: Map<bigint, bigint | null>;
  frame(va: bigint): bigint | null;
  pfn(va: bigint): bigint;
  map(va: bigint, frame: bigint | null): bigint;
  /** Known pages whose frame the M2P does not map back to their pseudo-physical frame. */
  mismatches(): number;
}

/** memory/ops. */
export const memoryOps = agentTest({
  area: "memory",
  name: "ops",
  description:
    "each memory_op sub-op's success and error paths, and the p2m/M2P kept consistent while ballooning",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["frames", "frame-mapping", "m2p"] },
  run(agent, check) {
    const spec = agent.spec;
    const pfn = (va: bigint): bigint => agent.pfnOf(va);
    // The ballooned pages start at an even pseudo-physical frame (an order-1 pair).
    const first = agent.boot.window + (pfn(agent.boot.window) % 2n === 0n ? 0n : BigInt(PAGE));
    const pages = Array.from({ length: 8 }, (_, i) => first + BigInt(i * PAGE));
    const backing = new Map<bigint, bigint | null>();
    const known = [
      ...pageRange(agent.boot.scratch, agent.boot.scratchLength),
      ...pageRange(agent.boot.window, agent.boot.windowLength),
    ];
    const c: Ctx = {
      agent,
      check,
      mem: new XenMem(agent),
      unmapped: spec.unmappedAddress(agent),
      xen: agent.machphysMapping().start,
      pages,
      edge: first + BigInt(8 * PAGE),
      backing,
      frame: (va) => (backing.has(va) ? backing.get(va)! : agent.frameOf(va)),
      pfn,
      map: (va, frame) => agent.mapFrame(va, frame, true),
      mismatches: () =>
        known.filter((va) => {
          const f = c.frame(va);
          return f !== null && agent.m2p(f) !== pfn(va);
        }).length,
    };
    queries(c, known);
    reservations(c);
    exchanges(c);
    physmap(c);
  },
});

function pageRange(start: bigint, length: number): bigint[] {
  return Array.from({ length: Math.floor(length / PAGE) }, (_, i) => start + BigInt(i * PAGE));
}

function queries(c: Ctx, known: readonly bigint[]): void {
  const { agent, check, mem } = c;
  const cur = mem.current();
  check.equal(
    "current_reservation DOMID_SELF is start_info nr_pages",
    cur,
    agent.bootInfo().nrPages,
  );
  check.equal("current_reservation by own id 0", mem.query(MemoryOp.current_reservation, 0), cur);
  check.equal(
    "current_reservation ESRCH unknown domain",
    mem.query(MemoryOp.current_reservation, NO_SUCH_DOMAIN),
    -Errno.ESRCH,
  );
  check.equal(
    "current_reservation EFAULT bad pointer",
    mem.op(MemoryOp.current_reservation, c.unmapped),
    -Errno.EFAULT,
  );
  check.equal(
    "current_reservation EINVAL start extent",
    mem.query(MemoryOp.current_reservation, DomId.SELF, 1),
    -Errno.EINVAL,
  );
  const max = mem.query(MemoryOp.maximum_reservation);
  check.that("maximum_reservation >= current", max >= cur, max);
  check.equal(
    "maximum_reservation ESRCH unknown domain",
    mem.query(MemoryOp.maximum_reservation, NO_SUCH_DOMAIN),
    -Errno.ESRCH,
  );
  check.equal(
    "maximum_reservation EFAULT bad pointer",
    mem.op(MemoryOp.maximum_reservation, c.unmapped),
    -Errno.EFAULT,
  );

  const top = agent.hypercall(Hypercall.memory_op, MemoryOp.maximum_ram_page, 0);
  const highest = known.reduce((h, va) => {
    const f = c.frame(va) ?? 0n;
    return f > h ? f : h;
  }, 0n);
  check.that("maximum_ram_page above every frame of the guest's", top > highest, top);
  check.equal(
    "maximum_ram_page EINVAL start extent",
    agent.hypercall(Hypercall.memory_op, MemoryOp.maximum_ram_page | (1 << 6), 0),
    -Errno.EINVAL,
  );

  // The memory map of memory_map / set_memory_map (the arch's memoryOp; x86: e820).
  const mapEntry = agent.model.memoryMapEntry;
  if (mapEntry === undefined) {
    check.equal(
      "memory_map ENOSYS: the arch has no memory map",
      mem.op(MemoryOp.memory_map, 0n),
      -Errno.ENOSYS,
    );
    check.equal(
      "set_memory_map ENOSYS: the arch has no memory map",
      mem.op(MemoryOp.set_memory_map, 0n),
      -Errno.ENOSYS,
    );
    return;
  }
  const e820 = mapEntry.layout(agent.model);
  const mapLayout = XEN_MEMORY_MAP.layout(agent.model);
  const buffer = agent.alloc(8 * e820.size);
  const mm = agent.alloc(mapLayout.size);
  const memoryMap = (nr: number, buf: bigint): void =>
    agent.writeStruct(XEN_MEMORY_MAP, mm, { nr_entries: nr, buffer: agent.handle(buf) });
  const poison = (): void => agent.write(buffer, new Uint8Array(8 * e820.size).fill(0xee));
  const entry = (i: number) => agent.readStruct(mapEntry, buffer + BigInt(i * e820.size));
  const nrEntries = (): number => agent.readStruct(XEN_MEMORY_MAP, mm).getNumber("nr_entries");
  memoryMap(8, buffer);
  check.equal(
    "memory_map ENOSYS no map set for a PV dom0",
    mem.op(MemoryOp.memory_map, mm),
    -Errno.ENOSYS,
  );
  check.equal(
    "memory_map EFAULT bad pointer",
    mem.op(MemoryOp.memory_map, c.unmapped),
    -Errno.EFAULT,
  );

  // struct xen_foreign_memory_map { domid_t domid; struct xen_memory_map map; }.
  const set = agent.alloc(3 * e820.size);
  [
    [0n, 0x9f000n, E820_RAM],
    [0xf0000n, 0x10000n, E820_RESERVED],
    [0x100000n, 0x3f00000n, E820_RAM],
  ].forEach(([addr, size, type], i) =>
    agent.writeStruct(mapEntry, set + BigInt(i * e820.size), { addr, size, type }),
  );
  const mapOffset = Math.ceil(2 / mapLayout.align) * mapLayout.align;
  const fm = agent.alloc(mapOffset + mapLayout.size);
  const foreignMap = (domid: number, nr: number, buf: bigint): void => {
    agent.writeUint(fm, 2, domid);
    agent.writeStruct(XEN_MEMORY_MAP, fm + BigInt(mapOffset), {
      nr_entries: nr,
      buffer: agent.handle(buf),
    });
  };
  foreignMap(DomId.SELF, 3, set);
  check.equal("set_memory_map 3 entries", mem.op(MemoryOp.set_memory_map, fm), 0);
  poison();
  check.equal("memory_map", mem.op(MemoryOp.memory_map, mm), 0);
  check.equal("memory_map nr_entries written back 3", nrEntries(), 3);
  check.that(
    "memory_map entries as set",
    entry(0).getBigInt("size") === 0x9f000n &&
      entry(1).getNumber("type") === E820_RESERVED &&
      entry(2).getBigInt("addr") === 0x100000n &&
      entry(2).getBigInt("size") === 0x3f00000n,
    entry(2).getBigInt("size"),
  );
  check.equal("memory_map leaves the rest of the buffer", entry(3).getNumber("type"), 0xeeeeeeee);
  memoryMap(2, buffer);
  poison();
  check.equal("memory_map nr_entries 2", mem.op(MemoryOp.memory_map, mm), 0);
  check.that(
    "memory_map nr_entries 2: 2 copied",
    nrEntries() === 2 &&
      entry(1).getNumber("type") === E820_RESERVED &&
      entry(2).getNumber("type") === 0xeeeeeeee,
  );
  memoryMap(8, c.unmapped);
  check.equal("memory_map EFAULT bad buffer", mem.op(MemoryOp.memory_map, mm), -Errno.EFAULT);
  memoryMap(8, buffer);
  foreignMap(DomId.SELF, 1025, set);
  check.equal(
    "set_memory_map EINVAL above E820MAX",
    mem.op(MemoryOp.set_memory_map, fm),
    -Errno.EINVAL,
  );
  foreignMap(NO_SUCH_DOMAIN, 3, set);
  check.equal(
    "set_memory_map ESRCH unknown domain",
    mem.op(MemoryOp.set_memory_map, fm),
    -Errno.ESRCH,
  );
  foreignMap(DomId.SELF, 3, c.unmapped);
  check.equal(
    "set_memory_map EFAULT bad buffer",
    mem.op(MemoryOp.set_memory_map, fm),
    -Errno.EFAULT,
  );
  check.equal(
    "set_memory_map EFAULT bad pointer",
    mem.op(MemoryOp.set_memory_map, c.unmapped),
    -Errno.EFAULT,
  );
  const rc = mem.op(MemoryOp.memory_map, mm);
  check.equal("memory_map unchanged by failed sets", rc === 0n ? nrEntries() : rc, 3);
  foreignMap(DomId.SELF, 0, set);
  check.equal("set_memory_map 0 entries", mem.op(MemoryOp.set_memory_map, fm), 0);
  check.equal(
    "memory_map ENOSYS again after an empty map",
    mem.op(MemoryOp.memory_map, mm),
    -Errno.ENOSYS,
  );
}

/** Entry types written and read back: e820's RAM and reserved (kept as given). */
const E820_RAM = 1;
const E820_RESERVED = 2;

function setMaxMem(agent: Agent, pages: bigint): bigint {
  return domctl(agent, DomctlCmd.max_mem, 0, { "u.max_mem.max_memkb": pages * 4n }).rc;
}

function reservations(c: Ctx): void {
  const { agent, check, mem, pages } = c;
  const page = (i: number): bigint => pages[i];
  const R = MemoryOp;
  const pfnBytes = agent.model.xenPfn;
  const cur = mem.current();
  check.equal("p2m and M2P agree at start", c.mismatches(), 0);

  // Balloon down pages 0..3.
  const mfns = new FrameList(agent, 4);
  for (let i = 0; i < 4; i++) {
    agent.writeUint(page(i), 1, 0x11);
    mfns.set(i, c.frame(page(i))!);
    c.map(page(i), null);
  }
  check.equal(
    "decrease_reservation 4 frames",
    mem.reservation(R.decrease_reservation, { list: mfns.va, nr: 4 }),
    4,
  );
  let invalid = 0;
  for (let i = 0; i < 4; i++) {
    if (agent.m2p(mfns.get(i)) === null) invalid++;
    c.backing.set(page(i), null);
  }
  check.equal("decrease_reservation M2P entries invalid", invalid, 4);
  check.equal("decrease_reservation current down by 4", mem.current(), cur - 4n);
  check.equal(
    "decrease_reservation frame already given back: 0 done",
    mem.reservation(R.decrease_reservation, { list: mfns.va, nr: 1 }),
    0,
  );
  check.equal(
    "decrease_reservation extent_start in Xen's range: 0 done",
    mem.reservation(R.decrease_reservation, { list: c.xen, nr: 1 }),
    0,
  );
  check.equal(
    "decrease_reservation extent_order 19: 0 done",
    mem.reservation(R.decrease_reservation, { list: mfns.va, nr: 1, order: 19 }),
    0,
  );
  check.equal(
    "decrease_reservation nr_extents above UINT_MAX>>6: 0 done",
    mem.reservation(R.decrease_reservation, { list: mfns.va, nr: (0xffffffffn >> 6n) + 1n }),
    0,
  );
  check.equal(
    "decrease_reservation start extent >= nr_extents returns it",
    mem.reservation(R.decrease_reservation, { list: mfns.va, nr: 2 }, 3),
    3,
  );
  check.equal(
    "decrease_reservation unknown domain: 0 done",
    mem.reservation(R.decrease_reservation, { list: mfns.va, nr: 2, domid: NO_SUCH_DOMAIN }),
    0,
  );
  check.equal(
    "decrease_reservation EFAULT struct: 0 done",
    mem.op(R.decrease_reservation, c.unmapped),
    0,
  );

  // Balloon up: populate the same pseudo-physical frames; an order-1 extent for pages 0-1.
  const pair = new FrameList(agent, 1).fill([c.pfn(page(0))]);
  check.equal(
    "populate_physmap order 1",
    mem.reservation(R.populate_physmap, { list: pair.va, nr: 1, order: 1 }),
    1,
  );
  const p0 = pair.get(0);
  check.that(
    "populate_physmap order 1 M2P maps both frames",
    agent.m2p(p0) === c.pfn(page(0)) && agent.m2p(p0 + 1n) === c.pfn(page(1)),
    agent.m2p(p0),
  );
  c.backing.set(page(0), p0);
  c.backing.set(page(1), p0 + 1n);
  const g = new FrameList(agent, 2).fill([c.pfn(page(2)), c.pfn(page(3))]);
  check.equal(
    "populate_physmap 2 frames",
    mem.reservation(R.populate_physmap, { list: g.va, nr: 2 }),
    2,
  );
  check.that(
    "populate_physmap M2P maps the new frames to the gpfns",
    agent.m2p(g.get(0)) === c.pfn(page(2)) && agent.m2p(g.get(1)) === c.pfn(page(3)),
    agent.m2p(g.get(0)),
  );
  c.backing.set(page(2), g.get(0));
  c.backing.set(page(3), g.get(1));
  let zeroed = 0;
  for (let i = 0; i < 4; i++) {
    c.map(page(i), c.frame(page(i)));
    if (agent.readUint(page(i), 1) === 0n) zeroed++;
  }
  check.equal("populate_physmap frames are zeroed", zeroed, 4);
  check.equal("populate_physmap current back", mem.current(), cur);
  check.equal("p2m and M2P agree after balloon down and up", c.mismatches(), 0);

  // Decrease an order-1 extent (the pair), populate it again page by page.
  c.map(page(0), null);
  c.map(page(1), null);
  const ext = new FrameList(agent, 1).fill([c.frame(page(0))!]);
  check.equal(
    "decrease_reservation order 1",
    mem.reservation(R.decrease_reservation, { list: ext.va, nr: 1, order: 1 }),
    1,
  );
  c.backing.set(page(0), null);
  c.backing.set(page(1), null);
  check.equal("decrease_reservation order 1 current down by 2", mem.current(), cur - 2n);

  // Populate errors.
  const one = new FrameList(agent, 1).fill([c.pfn(page(0))]);
  const populate = (memFlags: number, order = 0): bigint =>
    mem.reservation(R.populate_physmap, { list: one.va, nr: 1, order, memFlags });
  check.equal("populate_physmap extent_order 19: 0 done", populate(0, 19), 0);
  check.equal(
    "populate_physmap extent_start in Xen's range: 0 done",
    mem.reservation(R.populate_physmap, { list: c.xen, nr: 1 }),
    0,
  );
  check.equal(
    "populate_physmap populate-on-demand on itself: 0 done",
    populate(XENMEMF_POPULATE_ON_DEMAND),
    0,
  );
  check.equal("populate_physmap address_bits 12: 0 done", populate(12), 0);
  check.equal("populate_physmap node 70 >= MAX_NUMNODES: 0 done", populate(node(70)), 0);
  // The array is checked from the start extent (guest_handle_subrange_okay): element 4
  // would be the first of Xen's range.
  check.equal(
    "decrease_reservation array checked from the start extent: returns it",
    mem.reservation(R.decrease_reservation, { list: c.xen - BigInt(4 * pfnBytes), nr: 8 }, 4),
    4,
  );
  check.equal("current unchanged by refused populates", mem.current(), cur - 2n);
  // An array whose second element faults: the first extent is done, then it stops.
  const tail = c.edge + BigInt(PAGE - pfnBytes);
  const edge1 = c.edge + BigInt(PAGE);
  const edge1Frame = c.frame(edge1)!;
  agent.writeUint(tail, pfnBytes, c.pfn(page(0)));
  c.map(edge1, null);
  check.equal(
    "populate_physmap unreadable element 1: 1 done",
    mem.reservation(R.populate_physmap, { list: tail, nr: 2 }),
    1,
  );
  c.map(edge1, edge1Frame);
  c.backing.set(page(0), agent.readUint(tail, pfnBytes));
  const p1 = new FrameList(agent, 1).fill([c.pfn(page(1))]);
  check.equal(
    "populate_physmap page 1 again",
    mem.reservation(R.populate_physmap, { list: p1.va, nr: 1 }),
    1,
  );
  c.backing.set(page(1), p1.get(0));
  c.map(page(0), c.frame(page(0)));
  c.map(page(1), c.frame(page(1)));
  check.equal("p2m and M2P agree after order-1 round trip", c.mismatches(), 0);

  // increase_reservation: frames without a gpfn (a null array is allowed).
  check.equal(
    "increase_reservation null array",
    mem.reservation(R.increase_reservation, { list: 0n, nr: 1 }),
    1,
  );
  check.equal("increase_reservation current up by 1", mem.current(), cur + 1n);
  const got = new FrameList(agent, 2);
  check.equal(
    "increase_reservation 2 frames",
    mem.reservation(R.increase_reservation, { list: got.va, nr: 2 }),
    2,
  );
  check.that(
    "increase_reservation frames written back",
    got.get(0) !== 0n && got.get(1) !== 0n && got.get(0) !== got.get(1),
    got.get(0),
  );
  check.equal(
    "decrease_reservation the increased frames",
    mem.reservation(R.decrease_reservation, { list: got.va, nr: 2 }),
    2,
  );
  check.equal(
    "increase_reservation extent_order 19: 0 done",
    mem.reservation(R.increase_reservation, { list: got.va, nr: 1, order: 19 }),
    0,
  );
  check.equal(
    "increase_reservation extent_start in Xen's range: 0 done",
    mem.reservation(R.increase_reservation, { list: c.xen, nr: 1 }),
    0,
  );
  // The null-array frame cannot be named again (its frame is unknown): accounted.
  const now = cur + 1n;

  // Per-domain max_pages: three frames of room, ask for five.
  const max = mem.query(R.maximum_reservation);
  check.equal("max_mem (domctl) to current + 3", setMaxMem(agent, now + 3n), 0);
  check.equal("maximum_reservation follows max_mem", mem.query(R.maximum_reservation), now + 3n);
  const list = new FrameList(agent, 5);
  check.equal(
    "increase_reservation past max_pages: partial 3",
    mem.reservation(R.increase_reservation, { list: list.va, nr: 5 }),
    3,
  );
  check.equal("current at max_pages", mem.current(), now + 3n);
  check.equal(
    "increase_reservation at max_pages: 0 done",
    mem.reservation(R.increase_reservation, { list: list.at(3), nr: 1 }),
    0,
  );
  c.map(page(4), null);
  const old4 = new FrameList(agent, 1).fill([c.frame(page(4))!]);
  check.equal(
    "decrease page 4 at max_pages",
    mem.reservation(R.decrease_reservation, { list: old4.va, nr: 1 }),
    1,
  );
  c.backing.set(page(4), null);
  const two = new FrameList(agent, 2).fill([c.pfn(page(4)), c.pfn(page(5))]);
  check.equal(
    "populate_physmap past max_pages: partial 1",
    mem.reservation(R.populate_physmap, { list: two.va, nr: 2 }),
    1,
  );
  c.backing.set(page(4), two.get(0));
  c.map(page(4), two.get(0));
  check.equal(
    "decrease_reservation the 3 frames",
    mem.reservation(R.decrease_reservation, { list: list.va, nr: 3 }),
    3,
  );
  check.equal("max_mem restored", setMaxMem(agent, max), 0);
  check.equal("current back after max_pages checks", mem.current(), now);
  check.equal("p2m and M2P agree after max_pages checks", c.mismatches(), 0);
}

function exchanges(c: Ctx): void {
  const { agent, check, mem, pages } = c;
  const pfnBytes = BigInt(agent.model.xenPfn);
  const cur = mem.current();
  const pg = pages[6];
  const pfn = c.pfn(pg);
  c.map(pg, null);
  const input = new FrameList(agent, 1).fill([c.frame(pg)!]);
  const output = new FrameList(agent, 1).fill([pfn]);
  const inRes = { list: input.va, nr: 1 };
  const outRes = { list: output.va, nr: 1 };
  const x = mem.exchange(inRes, outRes);
  check.equal("exchange one page", x.rc, 0);
  check.equal("exchange nr_exchanged 1", x.nrExchanged, 1);
  const out = output.get(0);
  check.that("exchange new frame differs", out !== input.get(0), out);
  check.equal("exchange M2P maps the new frame", agent.m2p(out), pfn);
  check.equal("exchange current unchanged", mem.current(), cur);
  c.backing.set(pg, out);
  c.map(pg, out);
  check.equal("p2m and M2P agree after exchange", c.mismatches(), 0);

  // Nothing to do: nr_exchanged == in.nr_extents.
  const keep = input.get(0);
  check.equal("exchange nothing left: 0", mem.exchange(inRes, outRes, 1).rc, 0);
  check.equal("exchange nothing left: frame kept", input.get(0), keep);

  // The sanity checks (-EINVAL) and max_order (-EPERM).
  check.equal(
    "exchange EINVAL in/out sizes differ",
    mem.exchange(inRes, { ...outRes, nr: 2 }).rc,
    -Errno.EINVAL,
  );
  const beyond = mem.exchange(inRes, outRes, 2);
  check.equal("exchange EINVAL nr_exchanged beyond in.nr_extents", beyond.rc, -Errno.EINVAL);
  check.equal("exchange nr_exchanged written back unchanged", beyond.nrExchanged, 2);
  check.equal(
    "exchange EINVAL in/out domids differ",
    mem.exchange(inRes, { ...outRes, domid: 0 }).rc,
    -Errno.EINVAL,
  );
  // nr_extents is a guest long (xen_ulong_t): its top bit set, order 1 overflows it
  // (memory.c's `~0UL >> extent_order`, compat/memory.c's `~0U >> extent_order`).
  const top = 1n << BigInt(agent.model.xenUlong * 8 - 1);
  check.equal(
    "exchange EINVAL size overflows a long",
    mem.exchange({ ...inRes, order: 1, nr: top }, { ...outRes, order: 1, nr: top }).rc,
    -Errno.EINVAL,
  );
  check.equal(
    "exchange EPERM extent_order 19 above max_order",
    mem.exchange({ ...inRes, order: 19 }, { ...outRes, order: 19 }).rc,
    -Errno.EPERM,
  );
  check.equal(
    "exchange EINVAL non-zero start extent",
    mem.exchange(inRes, outRes, 0, 1).rc,
    -Errno.EINVAL,
  );
  check.equal("exchange EFAULT bad pointer", mem.op(MemoryOp.exchange, c.unmapped), -Errno.EFAULT);
  check.equal(
    "exchange EINVAL out node 70 >= MAX_NUMNODES",
    mem.exchange(inRes, { ...outRes, memFlags: node(70) }).rc,
    -Errno.EINVAL,
  );
  check.equal(
    "exchange ESRCH unknown domain",
    mem.exchange({ ...inRes, domid: NO_SUCH_DOMAIN }, { ...outRes, domid: NO_SUCH_DOMAIN }).rc,
    -Errno.ESRCH,
  );

  // XSA-212: arrays checked from nr_exchanged, so it cannot steer the copies.
  check.equal(
    "exchange EFAULT in range from nr_exchanged (XSA-212)",
    mem.exchange({ list: c.xen - pfnBytes, nr: 2 }, { ...outRes, nr: 2 }, 1).rc,
    -Errno.EFAULT,
  );
  const scratch = new FrameList(agent, 16);
  const steer = (c.xen - scratch.va) / pfnBytes;
  check.equal(
    "exchange EFAULT nr_exchanged pointing into Xen (XSA-212)",
    mem.exchange({ list: scratch.va, nr: steer + 1n }, { ...outRes, nr: steer + 1n }, steer).rc,
    -Errno.EFAULT,
  );
  check.equal(
    "exchange EFAULT out range from nr_exchanged (XSA-212)",
    mem.exchange({ ...inRes, nr: 2 }, { list: c.xen - pfnBytes, nr: 2 }, 1).rc,
    -Errno.EFAULT,
  );

  // A frame the domain does not own: -EINVAL, nothing exchanged.
  const p7 = pages[7];
  c.map(p7, null);
  const gone = c.frame(p7)!;
  mem.reservation(MemoryOp.decrease_reservation, {
    list: new FrameList(agent, 1).fill([gone]).va,
    nr: 1,
  });
  c.backing.set(p7, null);
  const ins = new FrameList(agent, 2).fill([gone, 0n]);
  const outs = new FrameList(agent, 2).fill([c.pfn(p7), 0n]);
  const y = mem.exchange({ list: ins.va, nr: 1 }, { list: outs.va, nr: 1 });
  check.equal("exchange EINVAL frame not the domain's", y.rc, -Errno.EINVAL);
  check.equal("exchange nr_exchanged 0 after a failed first chunk", y.nrExchanged, 0);
  // Two chunks, the second failing: the first stays exchanged, nr_exchanged 1.
  c.map(pg, null);
  ins.fill([c.frame(pg)!, gone]);
  outs.fill([pfn, c.pfn(p7)]);
  const z = mem.exchange({ list: ins.va, nr: 2 }, { list: outs.va, nr: 2 });
  check.equal("exchange EINVAL second chunk", z.rc, -Errno.EINVAL);
  check.equal("exchange nr_exchanged 1 after the first chunk", z.nrExchanged, 1);
  check.equal("exchange first chunk's M2P", agent.m2p(outs.get(0)), pfn);
  c.backing.set(pg, outs.get(0));
  c.map(pg, outs.get(0));
  const again = new FrameList(agent, 1).fill([c.pfn(p7)]);
  mem.reservation(MemoryOp.populate_physmap, { list: again.va, nr: 1 });
  c.backing.set(p7, again.get(0));
  c.map(p7, again.get(0));
  check.equal("current unchanged after exchanges", mem.current(), cur);
  check.equal("p2m and M2P agree after exchanges", c.mismatches(), 0);
}

function physmap(c: Ctx): void {
  const { agent, check, mem } = c;
  const a = agent.alloc(XEN_ADD_TO_PHYSMAP.layout(agent.model).size);
  const add = (space: number, domid: number = DomId.SELF, start = 0): bigint => {
    agent.writeStruct(XEN_ADD_TO_PHYSMAP, a, { domid, space, idx: 0, gpfn: c.pfn(c.pages[0]) });
    return mem.op(MemoryOp.add_to_physmap, a, start);
  };
  check.equal(
    "add_to_physmap shared_info EACCES for a PV domain",
    add(XENMAPSPACE_SHARED_INFO),
    -Errno.EACCES,
  );
  check.equal(
    "add_to_physmap grant_table EACCES for a PV domain",
    add(XENMAPSPACE_GRANT_TABLE),
    -Errno.EACCES,
  );
  check.equal("add_to_physmap bad space EACCES for a PV domain", add(99), -Errno.EACCES);
  check.equal("add_to_physmap gmfn_foreign ENOSYS", add(XENMAPSPACE_GMFN_FOREIGN), -Errno.ENOSYS);
  check.equal(
    "add_to_physmap ESRCH unknown domain",
    add(XENMAPSPACE_SHARED_INFO, NO_SUCH_DOMAIN),
    -Errno.ESRCH,
  );
  check.equal(
    "add_to_physmap EFAULT bad pointer",
    mem.op(MemoryOp.add_to_physmap, c.unmapped),
    -Errno.EFAULT,
  );
  check.equal(
    "add_to_physmap EDOM start extent above u16",
    add(XENMAPSPACE_SHARED_INFO, NO_SUCH_DOMAIN, 0x10000),
    -Errno.EDOM,
  );
}
