import { describe, expect, it } from "vitest";
import {
  GNTCOPY_DEST_GREF,
  GNTCOPY_SOURCE_GREF,
  GNTMAP_DEVICE_MAP,
  GNTMAP_HOST_MAP,
  GNTMAP_READONLY,
  GNTTAB_GET_STATUS_FRAMES,
  GNTTAB_QUERY_SIZE,
  GNTTAB_SETUP_TABLE,
  GNTTAB_SWAP_GRANT_REF,
  GTF_TRANSFER_COMMITTED,
  GTF_TRANSFER_COMPLETED,
} from "../abi/grant-table.js";
import {
  XEN_ADD_TO_PHYSMAP,
  XENMAPIDX_GRANT_TABLE_STATUS,
  XENMAPSPACE_GRANT_TABLE,
} from "../abi/memory.js";
import { GrantFlags, GrantStatus, GrantTableOp, Hypercall, MemoryOp } from "../abi/numbers.js";
import type { Domain } from "../domain.js";
import { Errno } from "../errno.js";
import { grantTableOf, heldGrantFrames, initGrantTable } from "../grant-table.js";
import { readGuestStruct, readGuestU64, StructBuffer, writeGuestStruct } from "../guest-memory.js";
import { FRAME_FREE, FRAME_XEN } from "../memory.js";
import type { FakeTypes } from "../testing/fake-arch.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "../testing/fake-machine.js";
import {
  copyGrant,
  grantFlags,
  grantOp,
  grantStatusWord,
  grantWorld,
  MAP_VA,
  mapGrant,
  mfnAt,
  PAGE_VA,
  setGrantVersion,
  transferPage,
  unmapGrant,
  writeGrant,
  writeGrantV2,
} from "../testing/grant-fixture.js";

const DOMID_SELF = 0x7ff0;
const PERMIT = GrantFlags.permit_access;
const RW = GrantFlags.reading | GrantFlags.writing;
const LIST_VA = DATA_VA + 0x800n;

/** GNTTABOP_get_status_frames for `nr` frames: rc, status and the frames listed. */
function statusFrames(d: Domain<FakeTypes>, nr: number) {
  const { rc, out } = grantOp(d, GrantTableOp.get_status_frames, GNTTAB_GET_STATUS_FRAMES, [
    { nr_frames: nr, dom: DOMID_SELF, frame_list: LIST_VA },
  ]);
  const frames = Array.from({ length: nr }, (_, i) =>
    Number(readGuestU64(d.vcpus[0], LIST_VA + BigInt(8 * i))),
  );
  return { rc, status: Number(out[0].status), frames };
}

function setupTable(d: Domain<FakeTypes>, nr: number) {
  const { rc, out } = grantOp(d, GrantTableOp.setup_table, GNTTAB_SETUP_TABLE, [
    { dom: DOMID_SELF, nr_frames: nr, frame_list: LIST_VA },
  ]);
  return { rc, status: Number(out[0].status) };
}

describe("grant table v2: set_version and status frames (Xen 4.19 gnttab_set_version)", () => {
  it("switching to v2 allocates one status frame per 8 grant frames; get_status_frames lists them; setup_table grows both", () => {
    const { machine, a } = grantWorld();
    const gt = grantTableOf(machine, a)!;
    expect(statusFrames(a, 1).status).toBe(GrantStatus.general_error); // v1: none
    expect(setGrantVersion(a, 2)).toEqual({ rc: 0, version: 2 });
    expect(gt.version).toBe(2);
    expect(gt.statusFrames).toHaveLength(1);
    const [sf] = gt.statusFrames;
    expect(machine.memory.frameTable.owner[sf]).toBe(a.id);
    expect(gt.nrEntries).toBe(256); // 16-byte entries in the one grant frame
    expect(statusFrames(a, 1)).toEqual({ rc: 0, status: GrantStatus.okay, frames: [sf] });
    expect(statusFrames(a, 2).status).toBe(GrantStatus.general_error);
    expect(statusFrames(a, 0).status).toBe(GrantStatus.okay);
    // Nine grant frames need two status frames.
    expect(setupTable(a, 9)).toEqual({ rc: 0, status: GrantStatus.okay });
    expect([gt.frames.length, gt.statusFrames.length]).toEqual([9, 2]);
    expect(statusFrames(a, 2).frames).toEqual(gt.statusFrames);
    // Status frames, like grant frames, are outside the reservation and cannot be given away.
    const tot = a.totPages;
    expect(transferPage(a, { mfn: sf, domid: a.id, ref: 0 }).status).toBe(GrantStatus.bad_page);
    expect(a.totPages).toBe(tot);
    // Back to v1: the status frames return to the free pool.
    const free = machine.freeFrameCount();
    expect(setGrantVersion(a, 1)).toEqual({ rc: 0, version: 1 });
    expect(gt.statusFrames).toHaveLength(0);
    expect(machine.memory.frameTable.owner[sf]).toBe(FRAME_FREE);
    expect(machine.freeFrameCount()).toBe(free + 2);
    expect(statusFrames(a, 1).status).toBe(GrantStatus.general_error);
  });

  it("the first 8 entries are carried over in the new format, with their status; the rest is cleared", () => {
    const { machine, a, b } = grantWorld();
    const page = mfnAt(machine, a, PAGE_VA);
    writeGrant(machine, a, 1, PERMIT | GrantFlags.readonly, b.id, page);
    writeGrant(machine, a, 2, GrantFlags.accept_transfer, b.id, 0x123);
    writeGrant(machine, a, 7, PERMIT, b.id, page);
    writeGrant(machine, a, 8, PERMIT, b.id, page);
    // b keeps entry 7 mapped across the switch (the reserved entries may be in use).
    const m = mapGrant(b, { ref: 7, dom: a.id, flags: GNTMAP_HOST_MAP, host_addr: MAP_VA });
    expect(m.status).toBe(GrantStatus.okay);
    expect(setGrantVersion(a, 2).rc).toBe(0);
    const gt = grantTableOf(machine, a)!;
    const mem = machine.memory;
    const entry = (ref: number) => {
      const pa = gt.entryAddress(ref);
      return [mem.read16(pa), mem.read16(pa + 2), mem.read64(pa + 8)];
    };
    expect(entry(1)).toEqual([PERMIT | GrantFlags.readonly, b.id, BigInt(page)]);
    expect(entry(2)).toEqual([GrantFlags.accept_transfer, b.id, 0x123n]);
    expect(entry(7)).toEqual([PERMIT, b.id, BigInt(page)]); // reading|writing moved out
    expect(grantStatusWord(machine, a, 7)).toBe(RW);
    expect(entry(8)).toEqual([0, 0, 0n]);
    // The mapping made under v1 unmaps under v2, clearing the status word.
    expect(unmapGrant(b, { handle: m.handle, host_addr: MAP_VA }).status).toBe(GrantStatus.okay);
    expect(grantStatusWord(machine, a, 7)).toBe(0);
    expect(machine.memory.frameTable.refCount[page]).toBe(0);
    // And back: full-page access grants keep their place, status folded into the flags;
    // other kinds are dropped.
    const m2 = mapGrant(b, { ref: 1, dom: a.id, flags: GNTMAP_DEVICE_MAP | GNTMAP_READONLY });
    expect(m2.status).toBe(GrantStatus.okay);
    expect(setGrantVersion(a, 1).rc).toBe(0);
    expect(grantFlags(machine, a, 1)).toBe(PERMIT | GrantFlags.readonly | GrantFlags.reading);
    expect(mem.read32(gt.entryAddress(1) + 4)).toBe(page);
    expect(grantFlags(machine, a, 2)).toBe(0);
    expect(grantFlags(machine, a, 7)).toBe(PERMIT);
    expect(unmapGrant(b, { handle: m2.handle, dev_bus_addr: m2.devBusAddr }).status).toBe(0);
    expect(grantFlags(machine, a, 1)).toBe(PERMIT | GrantFlags.readonly);
  });

  it("−EBUSY while an entry past the reserved 8 is pinned; −ERANGE back to v1 with a reserved entry v1 cannot hold", () => {
    const { machine, a, b } = grantWorld();
    const page = mfnAt(machine, a, PAGE_VA);
    writeGrant(machine, a, 8, PERMIT, b.id, page);
    const m = mapGrant(b, { ref: 8, dom: a.id, flags: GNTMAP_DEVICE_MAP });
    expect(setGrantVersion(a, 2)).toEqual({ rc: -Errno.EBUSY, version: 1 });
    expect(grantTableOf(machine, a)!.statusFrames).toHaveLength(0);
    expect(grantFlags(machine, a, 8)).toBe(PERMIT | RW); // untouched
    unmapGrant(b, { handle: m.handle, dev_bus_addr: m.devBusAddr });
    expect(setGrantVersion(a, 2).rc).toBe(0);
    writeGrantV2(machine, a, 3, { flags: PERMIT, domid: b.id, frame: 1n << 32n });
    expect(setGrantVersion(a, 1)).toEqual({ rc: -Errno.ERANGE, version: 2 });
    writeGrantV2(machine, a, 3, { flags: GrantFlags.transitive, domid: b.id, transDomid: 2 });
    expect(setGrantVersion(a, 1)).toEqual({ rc: -Errno.ERANGE, version: 2 });
    // A large frame in a non-access entry is no obstacle (it is dropped).
    writeGrantV2(machine, a, 3, {
      flags: GrantFlags.accept_transfer,
      domid: b.id,
      frame: 1n << 40n,
    });
    expect(setGrantVersion(a, 1)).toEqual({ rc: 0, version: 1 });
  });

  it("XSA-255: −EBUSY back to v1 while a status frame is referenced (mapped); the table stays v2; then it succeeds", () => {
    const { machine, a } = grantWorld();
    expect(setGrantVersion(a, 2).rc).toBe(0);
    const gt = grantTableOf(machine, a)!;
    const [sf] = gt.statusFrames;
    const ft = machine.memory.frameTable;
    ft.refCount[sf]++; // the guest's page table maps it (get_page_from_l1e)
    expect(setGrantVersion(a, 1)).toEqual({ rc: -Errno.EBUSY, version: 2 });
    expect(gt.version).toBe(2);
    expect(gt.statusFrames).toEqual([sf]);
    expect(ft.owner[sf]).toBe(a.id);
    expect(a.isDead).toBe(false); // a PV guest is not crashed
    ft.refCount[sf]--;
    expect(setGrantVersion(a, 1)).toEqual({ rc: 0, version: 1 });
    expect(ft.owner[sf]).toBe(FRAME_FREE);
  });

  it("add_to_physmap with XENMAPIDX_grant_table_status maps a v2 status frame (growing the table); back to v1 unhooks it", () => {
    const { machine } = fakeMachine();
    const hvm = addFakeDomain(machine, { mode: "hvm-vmx", pages: 2 });
    const add = (idx: number, gpfn: number) => {
      const layout = XEN_ADD_TO_PHYSMAP.layout(machine.arch.dataModel);
      const sb = new StructBuffer(layout.size);
      layout.set(sb.view, 0, "domid", DOMID_SELF);
      layout.set(sb.view, 0, "space", XENMAPSPACE_GRANT_TABLE);
      layout.set(sb.view, 0, "idx", BigInt(idx));
      layout.set(sb.view, 0, "gpfn", BigInt(gpfn));
      writeGuestStruct(hvm.vcpus[0], DATA_VA, layout, sb);
      return hypercall(hvm, Hypercall.memory_op, [MemoryOp.add_to_physmap, DATA_VA]);
    };
    const STATUS = XENMAPIDX_GRANT_TABLE_STATUS;
    expect(add(STATUS, 0x70)).toBe(-Errno.EINVAL); // v1: no status frames (an index too large)
    expect(setGrantVersion(hvm, 2).rc).toBe(0);
    const gt = grantTableOf(machine, hvm)!;
    expect(add(STATUS + 1, 0x71)).toBe(0); // status frame 1 needs 9..16 grant frames
    expect([gt.frames.length, gt.statusFrames.length]).toEqual([16, 2]);
    expect(hvm.p2m[0x71]).toBe(gt.statusFrames[1]);
    expect(add(STATUS + 8, 0x72)).toBe(-Errno.EINVAL); // 72 grant frames > 64
    expect(setGrantVersion(hvm, 1).rc).toBe(0);
    expect(hvm.p2m[0x71]).toBe(-1);
  });

  it("a translated guest whose status frame is still in use is crashed, as Xen does", () => {
    const { machine } = fakeMachine();
    const hvm = addFakeDomain(machine, { mode: "hvm-vmx", pages: 2 });
    expect(setGrantVersion(hvm, 2).rc).toBe(0);
    const [sf] = grantTableOf(machine, hvm)!.statusFrames;
    machine.memory.frameTable.refCount[sf]++;
    expect(setGrantVersion(hvm, 1).rc).toBe(-Errno.EBUSY);
    expect(hvm.isDead).toBe(true);
  });
});

describe("grant table v2: map, unmap, copy, transfer, swap", () => {
  /** a (the granter) on v2. */
  function v2World() {
    const w = grantWorld();
    expect(setGrantVersion(w.a, 2).rc).toBe(0);
    return w;
  }

  it("full-page grants map; GTF_reading|writing go to the status word, the entry is left alone", () => {
    const { machine, a, b } = v2World();
    const page = mfnAt(machine, a, PAGE_VA);
    machine.memory.write32(page * 4096 + 16, 0xfeed);
    writeGrantV2(machine, a, 20, { flags: PERMIT, domid: b.id, frame: page });
    const m = mapGrant(b, { ref: 20, dom: a.id, flags: GNTMAP_HOST_MAP, host_addr: MAP_VA });
    expect(m).toMatchObject({ rc: 0, status: GrantStatus.okay, devBusAddr: BigInt(page * 4096) });
    expect(grantFlags(machine, a, 20)).toBe(PERMIT);
    expect(grantStatusWord(machine, a, 20)).toBe(RW);
    expect(machine.memory.read32(mfnAt(machine, b, MAP_VA) * 4096 + 16)).toBe(0xfeed);
    expect(unmapGrant(b, { handle: m.handle, host_addr: MAP_VA }).status).toBe(GrantStatus.okay);
    expect(grantStatusWord(machine, a, 20)).toBe(0);
    expect(machine.memory.frameTable.refCount[page]).toBe(0);
    // A read-only grant: GTF_reading only, and no writable map.
    writeGrantV2(machine, a, 21, { flags: PERMIT | GrantFlags.readonly, domid: b.id, frame: page });
    expect(mapGrant(b, { ref: 21, dom: a.id, flags: GNTMAP_DEVICE_MAP }).status).toBe(
      GrantStatus.general_error,
    );
    const r = mapGrant(b, { ref: 21, dom: a.id, flags: GNTMAP_DEVICE_MAP | GNTMAP_READONLY });
    expect(grantStatusWord(machine, a, 21)).toBe(GrantFlags.reading);
    unmapGrant(b, { handle: r.handle, dev_bus_addr: r.devBusAddr });
    // Entries past the 256 of one v2 frame do not exist.
    expect(mapGrant(b, { ref: 256, dom: a.id, flags: GNTMAP_DEVICE_MAP }).status).toBe(
      GrantStatus.bad_gntref,
    );
  });

  it("sub-page and transitive grants cannot be mapped", () => {
    const { machine, a, b } = v2World();
    const page = mfnAt(machine, a, PAGE_VA);
    writeGrantV2(machine, a, 10, {
      flags: PERMIT | GrantFlags.sub_page,
      domid: b.id,
      frame: page,
      pageOff: 0,
      length: 4096,
    });
    writeGrantV2(machine, a, 11, {
      flags: GrantFlags.transitive,
      domid: b.id,
      transDomid: b.id,
      gref: 1,
    });
    for (const ref of [10, 11]) {
      expect(mapGrant(b, { ref, dom: a.id, flags: GNTMAP_DEVICE_MAP }).status).toBe(
        GrantStatus.general_error,
      );
      expect(grantStatusWord(machine, a, ref)).toBe(0);
    }
  });

  it("sub-page grants copy only within [page_off, page_off + length)", () => {
    const { machine, a, b } = v2World();
    const page = mfnAt(machine, a, PAGE_VA);
    const bPage = mfnAt(machine, b, PAGE_VA);
    machine.memory.bytes.set([5, 6, 7, 8], page * 4096 + 100);
    writeGrantV2(machine, a, 12, {
      flags: PERMIT | GrantFlags.sub_page,
      domid: b.id,
      frame: page,
      pageOff: 100,
      length: 4,
    });
    const from = (offset: number, len: number) =>
      copyGrant(b, {
        "source.u.ref": 12,
        "source.domid": a.id,
        "source.offset": offset,
        "dest.u.gmfn": BigInt(bPage),
        "dest.domid": DOMID_SELF,
        "dest.offset": 0,
        len,
        flags: GNTCOPY_SOURCE_GREF,
      }).status;
    expect(from(100, 4)).toBe(GrantStatus.okay);
    expect([...machine.memory.bytes.subarray(bPage * 4096, bPage * 4096 + 4)]).toEqual([
      5, 6, 7, 8,
    ]);
    expect(from(101, 3)).toBe(GrantStatus.okay);
    expect(from(99, 2)).toBe(GrantStatus.general_error);
    expect(from(102, 3)).toBe(GrantStatus.general_error);
    expect(from(4095, 2)).toBe(GrantStatus.bad_copy_arg);
    // The destination end of a sub-page grant is bounded the same way.
    const to = (offset: number, len: number) =>
      copyGrant(b, {
        "source.u.gmfn": BigInt(bPage),
        "source.domid": DOMID_SELF,
        "dest.u.ref": 12,
        "dest.domid": a.id,
        "dest.offset": offset,
        len,
        flags: GNTCOPY_DEST_GREF,
      }).status;
    expect(to(100, 4)).toBe(GrantStatus.okay);
    expect(to(104, 1)).toBe(GrantStatus.general_error);
    expect(grantStatusWord(machine, a, 12)).toBe(0);
    expect(machine.memory.frameTable.refCount[page]).toBe(0);
  });

  it("transitive grants: c copies through b's grant of a's grant; both are pinned only during the copy", () => {
    const { machine, a, b } = grantWorld(); // a stays v1: the grant passed on may be either
    const c = addFakeDomain(machine, { id: 3, pages: 2 });
    expect(setGrantVersion(b, 2).rc).toBe(0);
    const page = mfnAt(machine, a, PAGE_VA);
    const cPage = mfnAt(machine, c, PAGE_VA);
    machine.memory.bytes.set([0xaa, 0xbb], page * 4096 + 8);
    writeGrant(machine, a, 4, PERMIT, b.id, page); // a grants its page to b ...
    writeGrantV2(machine, b, 30, {
      flags: GrantFlags.transitive,
      domid: c.id,
      transDomid: a.id,
      gref: 4,
    }); // ... and b passes it on to c
    const copyFrom = (ref: number, dom: number, offset = 8) =>
      copyGrant(c, {
        "source.u.ref": ref,
        "source.domid": dom,
        "source.offset": offset,
        "dest.u.gmfn": BigInt(cPage),
        "dest.domid": DOMID_SELF,
        "dest.offset": 0,
        len: 2,
        flags: GNTCOPY_SOURCE_GREF,
      }).status;
    expect(copyFrom(30, b.id)).toBe(GrantStatus.okay);
    expect([...machine.memory.bytes.subarray(cPage * 4096, cPage * 4096 + 2)]).toEqual([
      0xaa, 0xbb,
    ]);
    expect(grantFlags(machine, a, 4)).toBe(PERMIT);
    expect(grantStatusWord(machine, b, 30)).toBe(0);
    expect(grantTableOf(machine, a)!.activeEntry(4).pin).toBe(0);
    expect(grantTableOf(machine, b)!.activeEntry(30).pin).toBe(0);
    expect(machine.memory.frameTable.refCount[page]).toBe(0);
    // Writes go through as well.
    machine.memory.bytes.set([1, 2], cPage * 4096);
    const w = copyGrant(c, {
      "source.u.gmfn": BigInt(cPage),
      "source.domid": DOMID_SELF,
      "dest.u.ref": 30,
      "dest.domid": b.id,
      "dest.offset": 4094,
      len: 2,
      flags: GNTCOPY_DEST_GREF,
    });
    expect(w.status).toBe(GrantStatus.okay);
    expect([...machine.memory.bytes.subarray(page * 4096 + 4094, page * 4096 + 4096)]).toEqual([
      1, 2,
    ]);
    // Refused: the grant passed on is not b's to pass (issued to c); self-referential;
    // an unknown domain; a transitive grant of a transitive grant; mapping one.
    writeGrant(machine, a, 5, PERMIT, c.id, page);
    writeGrantV2(machine, b, 31, {
      flags: GrantFlags.transitive,
      domid: c.id,
      transDomid: a.id,
      gref: 5,
    });
    writeGrantV2(machine, b, 32, {
      flags: GrantFlags.transitive,
      domid: c.id,
      transDomid: b.id,
      gref: 4,
    });
    writeGrantV2(machine, b, 33, {
      flags: GrantFlags.transitive,
      domid: c.id,
      transDomid: 77,
      gref: 4,
    });
    expect(setGrantVersion(a, 2).rc).toBe(0);
    writeGrantV2(machine, a, 6, {
      flags: GrantFlags.transitive,
      domid: b.id,
      transDomid: c.id,
      gref: 0,
    });
    writeGrantV2(machine, b, 34, {
      flags: GrantFlags.transitive,
      domid: c.id,
      transDomid: a.id,
      gref: 6,
    });
    for (const ref of [31, 32, 33, 34]) {
      expect([ref, copyFrom(ref, b.id)]).toEqual([ref, GrantStatus.general_error]);
      expect(grantStatusWord(machine, b, ref)).toBe(0);
    }
    expect(grantStatusWord(machine, a, 6)).toBe(0);
    expect(mapGrant(c, { ref: 30, dom: b.id, flags: GNTMAP_DEVICE_MAP }).status).toBe(
      GrantStatus.general_error,
    );
  });

  it("a transitive grant's byte range is the sub-page grant's it passes on", () => {
    const { machine, a, b } = v2World();
    const c = addFakeDomain(machine, { id: 3, pages: 2 });
    expect(setGrantVersion(b, 2).rc).toBe(0);
    const page = mfnAt(machine, a, PAGE_VA);
    const cPage = mfnAt(machine, c, PAGE_VA);
    writeGrantV2(machine, a, 9, {
      flags: PERMIT | GrantFlags.sub_page,
      domid: b.id,
      frame: page,
      pageOff: 512,
      length: 16,
    });
    writeGrantV2(machine, b, 9, {
      flags: GrantFlags.transitive,
      domid: c.id,
      transDomid: a.id,
      gref: 9,
    });
    const copyAt = (offset: number) =>
      copyGrant(c, {
        "source.u.ref": 9,
        "source.domid": b.id,
        "source.offset": offset,
        "dest.u.gmfn": BigInt(cPage),
        "dest.domid": DOMID_SELF,
        len: 16,
        flags: GNTCOPY_SOURCE_GREF,
      }).status;
    expect(copyAt(512)).toBe(GrantStatus.okay);
    expect(copyAt(511)).toBe(GrantStatus.general_error);
    expect(grantStatusWord(machine, a, 9)).toBe(0);
    expect(grantStatusWord(machine, b, 9)).toBe(0);
  });

  it("transfer into a v2 accept-transfer entry writes full_page.frame", () => {
    const { machine, a, b } = v2World();
    const page = mfnAt(machine, b, PAGE_VA + 0x1000n);
    a.maxPages = a.totPages + 1;
    writeGrantV2(machine, a, 40, { flags: GrantFlags.accept_transfer, domid: b.id, frame: 0x55 });
    expect(transferPage(b, { mfn: page, domid: a.id, ref: 40 })).toEqual({ rc: 0, status: 0 });
    const gt = grantTableOf(machine, a)!;
    expect(machine.memory.read64(gt.entryAddress(40) + 8)).toBe(BigInt(page));
    expect(grantFlags(machine, a, 40)).toBe(
      GrantFlags.accept_transfer | GTF_TRANSFER_COMMITTED | GTF_TRANSFER_COMPLETED,
    );
    expect(machine.memory.frameTable.owner[page]).toBe(a.id);
  });

  it("swap_grant_ref exchanges 16-byte entries and their status words", () => {
    const { machine, a } = v2World();
    writeGrantV2(machine, a, 50, { flags: PERMIT, domid: 2, frame: 0x1_0000_0001n });
    writeGrantV2(machine, a, 51, {
      flags: GrantFlags.transitive,
      domid: 3,
      transDomid: 4,
      gref: 5,
    });
    const gt = grantTableOf(machine, a)!;
    machine.memory.write16(gt.statusAddress(50), GrantFlags.reading); // stale, not pinned
    const { rc, out } = grantOp(a, GrantTableOp.swap_grant_ref, GNTTAB_SWAP_GRANT_REF, [
      { ref_a: 50, ref_b: 51 },
    ]);
    expect([rc, out[0].status]).toEqual([0, GrantStatus.okay]);
    expect(grantFlags(machine, a, 50)).toBe(GrantFlags.transitive);
    expect(machine.memory.read32(gt.entryAddress(50) + 8)).toBe(5);
    expect(machine.memory.read64(gt.entryAddress(51) + 8)).toBe(0x1_0000_0001n);
    expect(grantStatusWord(machine, a, 51)).toBe(GrantFlags.reading);
    expect(grantStatusWord(machine, a, 50)).toBe(0);
  });
});

describe("frames a destroyed granter left mapped", () => {
  it("stay out of the free pool while mapped and return to it with the last mapping", () => {
    const { machine, a, b } = grantWorld();
    const ft = machine.memory.frameTable;
    const page = mfnAt(machine, a, PAGE_VA);
    writeGrant(machine, a, 3, PERMIT, b.id, page);
    const m = mapGrant(b, {
      ref: 3,
      dom: a.id,
      flags: GNTMAP_HOST_MAP | GNTMAP_DEVICE_MAP,
      host_addr: MAP_VA,
    });
    expect(m.status).toBe(GrantStatus.okay);
    const ro = mapGrant(b, { ref: 3, dom: a.id, flags: GNTMAP_DEVICE_MAP | GNTMAP_READONLY });
    machine.destroyDomain(a);
    expect(ft.owner[page]).toBe(FRAME_XEN);
    expect(heldGrantFrames(machine).get(page)).toBe(3);
    // A new domain given a's id is not taken for the granter.
    const a2 = addFakeDomain(machine, { id: a.id, pages: 1 });
    const free = machine.freeFrameCount();
    expect(unmapGrant(b, { handle: m.handle, dev_bus_addr: m.devBusAddr }).status).toBe(0);
    expect(unmapGrant(b, { handle: ro.handle, dev_bus_addr: ro.devBusAddr }).status).toBe(0);
    expect(ft.owner[page]).toBe(FRAME_XEN);
    expect(unmapGrant(b, { handle: m.handle, host_addr: MAP_VA }).status).toBe(0);
    expect(ft.owner[page]).toBe(FRAME_FREE);
    expect(ft.refCount[page]).toBe(0);
    expect(machine.freeFrameCount()).toBe(free + 1);
    expect(heldGrantFrames(machine).has(page)).toBe(false);
    expect(grantTableOf(machine, a2)!.activeEntry(3).pin).toBe(0);
  });

  it("also when the grantee is destroyed instead of unmapping", () => {
    const { machine, a, b } = grantWorld();
    const ft = machine.memory.frameTable;
    const page = mfnAt(machine, a, PAGE_VA);
    writeGrant(machine, a, 3, PERMIT, b.id, page);
    expect(mapGrant(b, { ref: 3, dom: a.id, flags: GNTMAP_DEVICE_MAP }).status).toBe(0);
    machine.destroyDomain(a);
    expect(ft.owner[page]).toBe(FRAME_XEN);
    machine.destroyDomain(b);
    expect(ft.owner[page]).toBe(FRAME_FREE);
    expect(heldGrantFrames(machine).size).toBe(0);
  });
});

describe("a domain's grant limits (createdomain's max_grant_frames, max_maptrack_frames)", () => {
  it("bound setup_table and query_size's max_nr_frames, and the map handles", () => {
    const { machine, a, b } = grantWorld();
    initGrantTable(machine, b, { maxFrames: 3, maxMaptrackFrames: 0, maxVersion: 2 });
    const q = grantOp(b, GrantTableOp.query_size, GNTTAB_QUERY_SIZE, [{ dom: DOMID_SELF }]);
    expect(q.rc).toBe(0);
    expect(q.out[0].status).toBe(GrantStatus.okay);
    const layout = GNTTAB_QUERY_SIZE.layout(machine.arch.dataModel);
    const sb = new StructBuffer(layout.size);
    readGuestStruct(b.vcpus[0], DATA_VA, layout, sb);
    expect(layout.getNumber(sb.view, 0, "max_nr_frames")).toBe(3);
    expect(setupTable(b, 4).status).toBe(GrantStatus.general_error);
    expect(setupTable(b, 3).status).toBe(GrantStatus.okay);
    writeGrant(machine, a, 1, PERMIT, b.id, mfnAt(machine, a, PAGE_VA));
    expect(mapGrant(b, { ref: 1, dom: a.id, flags: GNTMAP_DEVICE_MAP }).status).toBe(
      GrantStatus.no_space,
    );
    expect(grantFlags(machine, a, 1)).toBe(PERMIT);
  });
});
