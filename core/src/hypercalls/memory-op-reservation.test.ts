import { describe, expect, it } from "vitest";
import { XEN_ADD_TO_PHYSMAP, XEN_MEMORY_EXCHANGE, XEN_MEMORY_RESERVATION } from "../abi/memory.js";
import { Hypercall, MemoryOp } from "../abi/numbers.js";
import type { Domain } from "../domain.js";
import { Errno } from "../errno.js";
import { readGuestU64, StructBuffer, writeGuestStruct, writeGuestU64 } from "../guest-memory.js";
import { FRAME_FREE } from "../memory.js";
import { m2pGet, p2mGet, putFrame } from "../p2m.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "../testing/fake-machine.js";
import { TEST_LP64_LE } from "../testing/data-models.js";

const mo = Hypercall.memory_op;
const SELF = 0x7ff0;
const RES = XEN_MEMORY_RESERVATION.layout(TEST_LP64_LE);
const EXCH = XEN_MEMORY_EXCHANGE.layout(TEST_LP64_LE);
const XATP = XEN_ADD_TO_PHYSMAP.layout(TEST_LP64_LE);
const LIST = DATA_VA + 0x100n;
const OUT = DATA_VA + 0x800n;

function setup(memoryMiB = 2) {
  const { machine } = fakeMachine({}, { memoryMiB });
  const dom0 = addFakeDomain(machine, { privileged: true, pages: 2 });
  const domU = addFakeDomain(machine, { pages: 2 });
  domU.maxPages = 64;
  // The data areas are mapped: hold a reference as a page-table mapping would.
  for (const d of [dom0, domU]) {
    for (let mfn = 0; mfn < machine.memory.frames; mfn++) {
      if (machine.memory.frameTable.owner[mfn] === d.id) machine.memory.frameTable.refCount[mfn]++;
    }
  }
  return { machine, dom0, domU };
}

interface Res {
  list?: bigint;
  nr: number | bigint;
  order?: number;
  flags?: number;
  domid?: number;
}

function reservation(d: Domain, r: Res, at = DATA_VA): bigint {
  const b = new StructBuffer(RES.size);
  RES.set(b.view, 0, "extent_start", r.list ?? LIST);
  RES.set(b.view, 0, "nr_extents", BigInt(r.nr));
  RES.set(b.view, 0, "extent_order", r.order ?? 0);
  RES.set(b.view, 0, "mem_flags", r.flags ?? 0);
  RES.set(b.view, 0, "domid", r.domid ?? SELF);
  expect(writeGuestStruct(d.vcpus[0], at, RES, b)).toBe(0);
  return at;
}

function setList(d: Domain, values: number[], at = LIST) {
  values.forEach((x, i) => writeGuestU64(d.vcpus[0], at + BigInt(8 * i), BigInt(x)));
}

function getList(d: Domain, n: number, at = LIST): number[] {
  return Array.from({ length: n }, (_, i) => Number(readGuestU64(d.vcpus[0], at + BigInt(8 * i))));
}

function owned(d: Domain): number {
  const owners = d.vcpus[0].machine.memory.frameTable.owner;
  return owners.filter((o) => o === d.id).length;
}

describe("memory_op reservations", () => {
  it("increase_reservation returns MFNs to a PV guest; decrease gives them back", () => {
    const { machine, domU } = setup();
    const before = domU.totPages;
    expect(hypercall(domU, mo, [MemoryOp.increase_reservation, reservation(domU, { nr: 3 })])).toBe(
      3,
    );
    expect(domU.totPages).toBe(before + 3);
    const mfns = getList(domU, 3);
    for (const m of mfns) {
      expect(machine.memory.frameTable.owner[m]).toBe(domU.id);
      expect(m2pGet(machine, m)).toBe(-1);
    }
    expect(hypercall(domU, mo, [MemoryOp.current_reservation, 0])).toBe(-Errno.EFAULT);
    expect(hypercall(domU, mo, [MemoryOp.decrease_reservation, reservation(domU, { nr: 3 })])).toBe(
      3,
    );
    expect(domU.totPages).toBe(before);
    for (const m of mfns) expect(machine.memory.frameTable.owner[m]).toBe(FRAME_FREE);
    expect(owned(domU)).toBe(domU.totPages);
  });

  it("increase_reservation with a null list allocates without telling", () => {
    const { domU } = setup();
    const before = domU.totPages;
    expect(
      hypercall(domU, mo, [MemoryOp.increase_reservation, reservation(domU, { nr: 2, list: 0n })]),
    ).toBe(2);
    expect(domU.totPages).toBe(before + 2);
  });

  it("populate_physmap records p2m and M2P and writes the MFN over the gpfn (PV)", () => {
    const { machine, domU } = setup();
    setList(domU, [100, 104]);
    const arg = reservation(domU, { nr: 2, order: 2 });
    expect(hypercall(domU, mo, [MemoryOp.populate_physmap, arg])).toBe(2);
    const [a, b] = getList(domU, 2);
    expect(a % 4).toBe(0);
    expect(b % 4).toBe(0);
    for (let j = 0; j < 4; j++) {
      expect(p2mGet(domU, 100 + j)).toBe(a + j);
      expect(m2pGet(machine, a + j)).toBe(100 + j);
      expect(m2pGet(machine, b + j)).toBe(104 + j);
    }
    // decrease takes MFNs for PV; the p2m slots become holes, M2P entries invalid.
    setList(domU, [a]);
    expect(
      hypercall(domU, mo, [MemoryOp.decrease_reservation, reservation(domU, { nr: 1, order: 2 })]),
    ).toBe(1);
    for (let j = 0; j < 4; j++) {
      expect(p2mGet(domU, 100 + j)).toBe(-1);
      expect(m2pGet(machine, a + j)).toBe(-1);
    }
  });

  it("translated guests: populate does not write back; decrease takes guest frames", () => {
    const { machine } = fakeMachine({}, { memoryMiB: 2 });
    const hvm = addFakeDomain(machine, { mode: "hvm-vmx", pages: 2 });
    hvm.maxPages = 32;
    setList(hvm, [7]);
    expect(hypercall(hvm, mo, [MemoryOp.populate_physmap, reservation(hvm, { nr: 1 })])).toBe(1);
    expect(getList(hvm, 1)).toEqual([7]);
    const mfn = p2mGet(hvm, 7);
    expect(m2pGet(machine, mfn)).toBe(7);
    expect(hypercall(hvm, mo, [MemoryOp.decrease_reservation, reservation(hvm, { nr: 1 })])).toBe(
      1,
    );
    expect(machine.memory.frameTable.owner[mfn]).toBe(FRAME_FREE);
    expect(p2mGet(hvm, 7)).toBe(-1);
  });

  it("partial progress: stops at max_pages and at a frame it cannot give back", () => {
    const { machine, domU } = setup();
    domU.maxPages = domU.totPages + 3;
    expect(hypercall(domU, mo, [MemoryOp.increase_reservation, reservation(domU, { nr: 5 })])).toBe(
      3,
    );
    const mfns = getList(domU, 3);
    // A frame that is not the domain's (free again) stops progress there (-ENXIO).
    setList(domU, [mfns[0], mfns[0], mfns[1]]);
    expect(hypercall(domU, mo, [MemoryOp.decrease_reservation, reservation(domU, { nr: 3 })])).toBe(
      1,
    );
    // Another domain's frame, a frame past the end of memory: nothing done.
    setList(domU, [0]);
    expect(hypercall(domU, mo, [MemoryOp.decrease_reservation, reservation(domU, { nr: 1 })])).toBe(
      0,
    );
    setList(domU, [machine.memory.frames + 5]);
    expect(hypercall(domU, mo, [MemoryOp.decrease_reservation, reservation(domU, { nr: 1 })])).toBe(
      0,
    );
    // A start extent continues from there (continuation encoding in the command).
    setList(domU, [999, mfns[1], mfns[2]]);
    expect(
      hypercall(domU, mo, [MemoryOp.decrease_reservation | (1 << 6), reservation(domU, { nr: 3 })]),
    ).toBe(3);
    expect(owned(domU)).toBe(domU.totPages);
  });

  it("a frame still referenced leaves the physmap at once and the pool with its last reference (guest_remove_page, put_page)", () => {
    const { machine, domU } = setup();
    const ft = machine.memory.frameTable;
    expect(hypercall(domU, mo, [MemoryOp.populate_physmap, reservation(domU, { nr: 0 })])).toBe(0);
    setList(domU, [40, 41]);
    expect(hypercall(domU, mo, [MemoryOp.populate_physmap, reservation(domU, { nr: 2 })])).toBe(2);
    const [a, b] = getList(domU, 2);
    const pages = domU.totPages;
    const free = machine.freeFrameCount();
    // a is mapped twice (a page table and a grant map, say); b is a page table.
    ft.refCount[a] = 2;
    ft.refCount[b] = 1;
    ft.typeCount[b] = 1;
    setList(domU, [a, b]);
    expect(hypercall(domU, mo, [MemoryOp.decrease_reservation, reservation(domU, { nr: 2 })])).toBe(
      2,
    );
    // Out of the physmap and the M2P now, still the domain's and in its reservation.
    expect([p2mGet(domU, 40), p2mGet(domU, 41)]).toEqual([-1, -1]);
    expect([m2pGet(machine, a), m2pGet(machine, b)]).toEqual([-1, -1]);
    expect([ft.owner[a], ft.owner[b]]).toEqual([domU.id, domU.id]);
    expect(domU.totPages).toBe(pages);
    writeGuestU64(domU.vcpus[0], DATA_VA + 0x600n, BigInt(SELF));
    expect(hypercall(domU, mo, [MemoryOp.current_reservation, DATA_VA + 0x600n])).toBe(pages);
    // Given back again while still referenced: done again (Xen's get_page still works).
    setList(domU, [a]);
    expect(hypercall(domU, mo, [MemoryOp.decrease_reservation, reservation(domU, { nr: 1 })])).toBe(
      1,
    );
    // Exchange will not take it (steal_page wants the allocation reference alone).
    setList(domU, [42], OUT);
    expect(hypercall(domU, mo, [MemoryOp.exchange, exchange(domU, { inNr: 1, outNr: 1 })])).toBe(
      -Errno.EINVAL,
    );
    setList(domU, [a]);
    putFrame(machine, a);
    expect(ft.owner[a]).toBe(domU.id);
    putFrame(machine, a);
    expect(ft.owner[a]).toBe(FRAME_FREE);
    expect(ft.released[a]).toBe(0);
    expect(domU.totPages).toBe(pages - 1);
    // b: its type reference goes first (an unpin), then the general one frees it.
    ft.typeCount[b] = 0;
    expect(ft.owner[b]).toBe(domU.id);
    putFrame(machine, b);
    expect(ft.owner[b]).toBe(FRAME_FREE);
    expect(domU.totPages).toBe(pages - 2);
    expect(machine.freeFrameCount()).toBe(free + 2);
    // A frame freed is no longer the domain's: giving it back again is refused (-ENXIO).
    expect(hypercall(domU, mo, [MemoryOp.decrease_reservation, reservation(domU, { nr: 1 })])).toBe(
      0,
    );
    expect(owned(domU)).toBe(domU.totPages);
  });

  it("destroying a domain frees the frames it gave back while they were referenced", () => {
    const { machine, domU } = setup();
    const ft = machine.memory.frameTable;
    expect(hypercall(domU, mo, [MemoryOp.increase_reservation, reservation(domU, { nr: 1 })])).toBe(
      1,
    );
    const [a] = getList(domU, 1);
    ft.refCount[a] = 1;
    expect(hypercall(domU, mo, [MemoryOp.decrease_reservation, reservation(domU, { nr: 1 })])).toBe(
      1,
    );
    expect(ft.released[a]).toBe(1);
    machine.destroyDomain(domU);
    expect([ft.owner[a], ft.released[a], ft.refCount[a]]).toEqual([FRAME_FREE, 0, 0]);
  });

  it("out of machine memory: populate stops (ENOMEM is reported as the count done)", () => {
    const { machine, dom0 } = setup(1);
    dom0.maxPages = 10000;
    const free = machine.freeFrameCount();
    expect(
      hypercall(dom0, mo, [
        MemoryOp.increase_reservation,
        reservation(dom0, { nr: free + 10, list: 0n }),
      ]),
    ).toBe(free);
    expect(machine.freeFrameCount()).toBe(0);
  });

  it("errors do nothing and return the start extent, as Xen (never -errno)", () => {
    const { dom0, domU } = setup();
    const t0 = domU.totPages;
    const inc = MemoryOp.increase_reservation;
    const pop = MemoryOp.populate_physmap;
    // EFAULT: unreadable struct, list outside guest-accessible space is checked by the arch.
    expect(hypercall(domU, mo, [inc, 0])).toBe(0);
    expect(hypercall(domU, mo, [inc | (2 << 6), 0])).toBe(2);
    // Unmapped list for populate: the first read fails.
    expect(hypercall(domU, mo, [pop, reservation(domU, { nr: 1, list: 0x9000000n })])).toBe(0);
    // EINVAL-class: order above 9 for a domU (dom0 may use 18), address bits <= PAGE_SHIFT.
    expect(hypercall(domU, mo, [inc, reservation(domU, { nr: 1, order: 10 })])).toBe(0);
    expect(hypercall(domU, mo, [inc, reservation(domU, { nr: 1, flags: 12 })])).toBe(0);
    expect(hypercall(domU, mo, [inc, reservation(domU, { nr: 1, flags: 20 })])).toBe(1);
    // nr_extents beyond UINT_MAX >> 6, start extent past the end.
    expect(hypercall(domU, mo, [inc, reservation(domU, { nr: 1n << 26n })])).toBe(0);
    expect(hypercall(domU, mo, [inc | (4 << 6), reservation(domU, { nr: 2 })])).toBe(4);
    // EPERM-class: a domU naming dom0; ESRCH-class: no such domain.
    expect(hypercall(domU, mo, [inc, reservation(domU, { nr: 1, domid: dom0.id })])).toBe(0);
    expect(hypercall(domU, mo, [inc, reservation(domU, { nr: 1, domid: 77 })])).toBe(0);
    // Exact NUMA node request from a domU; a node number >= MAX_NUMNODES from dom0.
    expect(
      hypercall(domU, mo, [inc, reservation(domU, { nr: 1, flags: (1 << 8) | (1 << 17) })]),
    ).toBe(0);
    expect(hypercall(dom0, mo, [inc, reservation(dom0, { nr: 1, flags: 70 << 8, list: 0n })])).toBe(
      0,
    );
    // Populate-on-demand on oneself.
    expect(hypercall(domU, mo, [pop, reservation(domU, { nr: 1, flags: 1 << 16 })])).toBe(0);
    expect(domU.totPages).toBe(t0 + 1);
    // dom0 may balloon a domU (XSM_TARGET), and use larger orders.
    expect(
      hypercall(dom0, mo, [inc, reservation(dom0, { nr: 1, order: 4, domid: domU.id, list: 0n })]),
    ).toBe(1);
    expect(domU.totPages).toBe(t0 + 17);
  });

  it("address bits bound the frames handed out", () => {
    const { domU } = setup(2);
    // 2 MiB = 512 frames; 20 address bits = frames below 256.
    expect(
      hypercall(domU, mo, [MemoryOp.increase_reservation, reservation(domU, { nr: 4, flags: 20 })]),
    ).toBe(4);
    for (const m of getList(domU, 4)) expect(m).toBeLessThan(256);
  });
});

function exchange(
  d: Domain,
  e: {
    inNr: bigint | number;
    inOrder?: number;
    outNr: bigint | number;
    outOrder?: number;
    done?: bigint;
    inDom?: number;
    outDom?: number;
    outFlags?: number;
    inList?: bigint;
    outList?: bigint;
  },
): bigint {
  const b = new StructBuffer(EXCH.size);
  EXCH.set(b.view, 0, "in.extent_start", e.inList ?? LIST);
  EXCH.set(b.view, 0, "in.nr_extents", BigInt(e.inNr));
  EXCH.set(b.view, 0, "in.extent_order", e.inOrder ?? 0);
  EXCH.set(b.view, 0, "in.domid", e.inDom ?? SELF);
  EXCH.set(b.view, 0, "out.extent_start", e.outList ?? OUT);
  EXCH.set(b.view, 0, "out.nr_extents", BigInt(e.outNr));
  EXCH.set(b.view, 0, "out.extent_order", e.outOrder ?? 0);
  EXCH.set(b.view, 0, "out.mem_flags", e.outFlags ?? 0);
  EXCH.set(b.view, 0, "out.domid", e.outDom ?? SELF);
  EXCH.set(b.view, 0, "nr_exchanged", e.done ?? 0n);
  expect(writeGuestStruct(d.vcpus[0], DATA_VA, EXCH, b)).toBe(0);
  return DATA_VA;
}

const exchanged = (d: Domain) =>
  readGuestU64(d.vcpus[0], DATA_VA + BigInt(EXCH.offsetOf("nr_exchanged")));

describe("memory_op exchange", () => {
  it("swaps four single frames for one order-2 extent, keeping p2m, M2P and totPages", () => {
    const { machine, domU } = setup();
    setList(domU, [10, 11, 12, 13]);
    expect(
      hypercall(domU, mo, [
        MemoryOp.populate_physmap,
        reservation(domU, { nr: 4 }, DATA_VA + 0xc00n),
      ]),
    ).toBe(4);
    const old = getList(domU, 4);
    const t = domU.totPages;
    setList(domU, [10], OUT);
    expect(
      hypercall(domU, mo, [MemoryOp.exchange, exchange(domU, { inNr: 4, outNr: 1, outOrder: 2 })]),
    ).toBe(0);
    expect(exchanged(domU)).toBe(4n);
    const [base] = getList(domU, 1, OUT);
    expect(base % 4).toBe(0);
    for (let j = 0; j < 4; j++) {
      expect(p2mGet(domU, 10 + j)).toBe(base + j);
      expect(m2pGet(machine, base + j)).toBe(10 + j);
      expect(machine.memory.frameTable.owner[old[j]]).toBe(FRAME_FREE);
    }
    expect(domU.totPages).toBe(t);
    expect(owned(domU)).toBe(t);
  });

  it("the XSA-212 checks: sizes, overflow, ranges from nr_exchanged, progress", () => {
    const { domU, dom0 } = setup();
    const ex = (e: Parameters<typeof exchange>[1]) =>
      hypercall(domU, mo, [MemoryOp.exchange, exchange(domU, e)]);
    expect(hypercall(domU, mo, [MemoryOp.exchange, 0])).toBe(-Errno.EFAULT);
    expect(
      hypercall(domU, mo, [MemoryOp.exchange | (1 << 6), exchange(domU, { inNr: 1, outNr: 1 })]),
    ).toBe(-Errno.EINVAL);
    expect(ex({ inNr: 1, inOrder: 10, outNr: 1, outOrder: 10 })).toBe(-Errno.EPERM);
    expect(ex({ inNr: 2, outNr: 1 })).toBe(-Errno.EINVAL); // sizes differ
    expect(ex({ inNr: 1, outNr: 1, done: 2n })).toBe(-Errno.EINVAL); // nr_exchanged > nr
    expect(ex({ inNr: 1, outNr: 1, outDom: 0 })).toBe(-Errno.EINVAL); // domids differ
    // Overflow: in.nr << in.order wraps to equal the out size; (~0UL >> order) < nr catches it.
    expect(ex({ inNr: (1n << 63n) + 1n, inOrder: 1, outNr: 2 })).toBe(-Errno.EINVAL);
    expect(ex({ inNr: 3, outNr: 3, done: 3n })).toBe(0); // nothing left
    expect(ex({ inNr: 1, outNr: 1, inDom: 77, outDom: 77 })).toBe(-Errno.ESRCH);
    expect(ex({ inNr: 1, outNr: 1, inDom: dom0.id, outDom: dom0.id })).toBe(-Errno.EPERM);
    // A bad in frame (not ours / past memory): -EINVAL, nothing exchanged, nr_exchanged written.
    setList(domU, [0]);
    expect(ex({ inNr: 1, outNr: 1 })).toBe(-Errno.EINVAL);
    expect(exchanged(domU)).toBe(0n);
    setList(domU, [1 << 30]);
    expect(ex({ inNr: 1, outNr: 1 })).toBe(-Errno.EINVAL);
    // The same frame twice in one chunk (two in extents per order-1 out extent) cannot be stolen twice.
    setList(domU, [5, 6], DATA_VA + 0xc80n);
    const popped = hypercall(domU, mo, [
      MemoryOp.populate_physmap,
      reservation(domU, { nr: 1, list: DATA_VA + 0xc80n }, DATA_VA + 0xc00n),
    ]);
    expect(popped).toBe(1);
    const [f] = getList(domU, 1, DATA_VA + 0xc80n);
    setList(domU, [f, f]);
    expect(ex({ inNr: 2, outNr: 1, outOrder: 1 })).toBe(-Errno.EINVAL);
    expect(exchanged(domU)).toBe(0n);
    expect(domU.vcpus[0].machine.memory.frameTable.owner[f]).toBe(domU.id);
    // In separate chunks the first succeeds and the second finds the frame gone.
    expect(ex({ inNr: 2, outNr: 2 })).toBe(-Errno.EINVAL);
    expect(exchanged(domU)).toBe(1n);
    expect(domU.vcpus[0].machine.memory.frameTable.owner[f]).toBe(FRAME_FREE);
    expect(owned(domU)).toBe(domU.totPages);
  });

  it("XSA-212: a one-extent exchange far into the arrays has both ranges checked at that offset", () => {
    const { machine, domU } = setup();
    // x86_64's access_ok: below 2^47 or at/after HYPERVISOR_VIRT_END.
    Object.assign(machine.arch, {
      guestAccessOk: (_d: Domain, va: bigint) => va < 1n << 47n || va >= 0xffff880000000000n,
    });
    const pop = DATA_VA + 0xc80n;
    setList(domU, [3], pop);
    hypercall(domU, mo, [
      MemoryOp.populate_physmap,
      reservation(domU, { nr: 1, list: pop }, DATA_VA + 0xc00n),
    ]);
    setList(domU, getList(domU, 1, pop));
    const target = 0xffff800000001000n; // where the out element would be written
    const k = target / 8n;
    const mask = (1n << 64n) - 1n;
    const e = {
      inNr: k + 1n,
      outNr: k + 1n,
      done: k,
      inList: (LIST - target) & mask,
      outList: 0n,
      outFlags: 32,
    };
    expect(hypercall(domU, mo, [MemoryOp.exchange, exchange(domU, e)])).toBe(-Errno.EFAULT);
    expect(exchanged(domU)).toBe(k);
    // Refused before any work: the input frame is still the guest's, still at gpfn 3.
    const [inFrame] = getList(domU, 1);
    expect(machine.memory.frameTable.owner[inFrame]).toBe(domU.id);
    expect(p2mGet(domU, 3)).toBe(inFrame);
    // The in range is checked the same way.
    const e2 = { ...e, inList: 0n, outList: (OUT - target) & mask };
    expect(hypercall(domU, mo, [MemoryOp.exchange, exchange(domU, e2)])).toBe(-Errno.EFAULT);
  });

  it("a fault on the second chunk keeps the first and reports its progress", () => {
    const { domU } = setup();
    const pop = DATA_VA + 0xc80n;
    setList(domU, [20, 21], pop);
    hypercall(domU, mo, [
      MemoryOp.populate_physmap,
      reservation(domU, { nr: 2, list: pop }, DATA_VA + 0xc00n),
    ]);
    setList(domU, getList(domU, 2, pop));
    // Out list: element 0 in the data area, element 1 on the next, unmapped page.
    const outList = DATA_VA + 0x2000n - 8n;
    setList(domU, [30], outList);
    expect(
      hypercall(domU, mo, [MemoryOp.exchange, exchange(domU, { inNr: 2, outNr: 2, outList })]),
    ).toBe(-Errno.EFAULT);
    expect(exchanged(domU)).toBe(1n);
    expect(owned(domU)).toBe(domU.totPages);
  });

  it("out of memory: -ENOMEM and the chunk is undone", () => {
    const { machine, domU } = setup(1);
    const pop = DATA_VA + 0xc80n;
    setList(domU, [40], pop);
    hypercall(domU, mo, [
      MemoryOp.populate_physmap,
      reservation(domU, { nr: 1, list: pop }, DATA_VA + 0xc00n),
    ]);
    const [f] = getList(domU, 1, pop);
    setList(domU, [f]);
    // 13 address bits leave two frames (0, 1) which are taken: no frame fits.
    expect(
      hypercall(domU, mo, [MemoryOp.exchange, exchange(domU, { inNr: 1, outNr: 1, outFlags: 13 })]),
    ).toBe(-Errno.ENOMEM);
    expect(machine.memory.frameTable.owner[f]).toBe(domU.id);
    expect(p2mGet(domU, 40)).toBe(f);
    expect(owned(domU)).toBe(domU.totPages);
  });
});

describe("memory_op add_to_physmap", () => {
  function xatp(d: Domain, space: number, idx: number, gpfn: number, domid = SELF): bigint {
    const b = new StructBuffer(XATP.size);
    XATP.set(b.view, 0, "domid", domid);
    XATP.set(b.view, 0, "space", space);
    XATP.set(b.view, 0, "idx", BigInt(idx));
    XATP.set(b.view, 0, "gpfn", BigInt(gpfn));
    expect(writeGuestStruct(d.vcpus[0], DATA_VA, XATP, b)).toBe(0);
    return DATA_VA;
  }

  it("maps shared_info into a translated guest; PV is -EACCES as in Xen", () => {
    const { machine, domU } = setup();
    const hvm = addFakeDomain(machine, { mode: "hvm-vmx", pages: 2 });
    const si = machine.allocXenFrames(1)?.[0] ?? -1;
    hvm.sharedInfoMfn = si;
    const add = MemoryOp.add_to_physmap;
    expect(hypercall(hvm, mo, [add, xatp(hvm, 0, 0, 0x50)])).toBe(0);
    expect(p2mGet(hvm, 0x50)).toBe(si);
    expect(m2pGet(machine, si)).toBe(0x50);
    // Moving it leaves a hole at the old gpfn.
    expect(hypercall(hvm, mo, [add, xatp(hvm, 0, 0, 0x60)])).toBe(0);
    expect(p2mGet(hvm, 0x50)).toBe(-1);
    expect(p2mGet(hvm, 0x60)).toBe(si);
    expect(hypercall(hvm, mo, [add, xatp(hvm, 0, 1, 0x60)])).toBe(-Errno.EINVAL);
    expect(hypercall(hvm, mo, [add, xatp(hvm, 1, 0, 0x61)])).toBe(0); // grant_table: grant-table.test.ts
    expect(hypercall(hvm, mo, [add, xatp(hvm, 4, 0, 0x61)])).toBe(-Errno.ENOSYS);
    expect(hypercall(hvm, mo, [add, xatp(hvm, 99, 0, 0x61)])).toBe(-Errno.EINVAL); // unknown space
    expect(hypercall(hvm, mo, [add, xatp(hvm, 0, 0, 0x61, 77)])).toBe(-Errno.ESRCH);
    expect(hypercall(hvm, mo, [add, 0])).toBe(-Errno.EFAULT);
    expect(hypercall(hvm, mo, [add | (0x10000 << 6), xatp(hvm, 0, 0, 0x61)])).toBe(-Errno.EDOM);
    expect(hypercall(domU, mo, [add, xatp(domU, 0, 0, 0x61, hvm.id)])).toBe(-Errno.EPERM);
    expect(hypercall(domU, mo, [add, xatp(domU, 0, 0, 0x61)])).toBe(-Errno.EACCES);
  });
});
