import { describe, expect, it } from "vitest";
import {
  GNTCOPY_DEST_GREF,
  GNTCOPY_SOURCE_GREF,
  GNTMAP_DEVICE_MAP,
  GNTMAP_HOST_MAP,
  GNTMAP_READONLY,
  GNTTAB_GET_STATUS_FRAMES,
  GNTTAB_SWAP_GRANT_REF,
  GNTTAB_UNMAP_AND_REPLACE,
  GTF_TRANSFER_COMMITTED,
  GTF_TRANSFER_COMPLETED,
} from "../abi/grant-table.js";
import { XEN_ADD_TO_PHYSMAP, XENMAPSPACE_GRANT_TABLE } from "../abi/memory.js";
import { GrantFlags, GrantStatus, GrantTableOp, Hypercall, MemoryOp } from "../abi/numbers.js";
import type { Domain } from "../domain.js";
import { Errno } from "../errno.js";
import { grantTableFrame, grantTableOf, initGrantTable } from "../grant-table.js";
import {
  readGuestU16,
  readGuestU32,
  readGuestU64,
  StructBuffer,
  writeGuestStruct,
  writeGuestU16,
  writeGuestU32,
  writeGuestU64,
} from "../guest-memory.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "../testing/fake-machine.js";
import type { FakeTypes } from "../testing/fake-arch.js";
import {
  copyGrant,
  grantFlags,
  grantOp,
  grantWorld,
  MAP_VA,
  mapGrant,
  mfnAt,
  PAGE_VA,
  setGrantVersion,
  transferPage,
  unmapGrant,
  writeGrant,
} from "../testing/grant-fixture.js";
import { MAX_GRANT_FRAMES } from "./grant-table.js";
import type { StructDef } from "../structs.js";
import { TEST_LP64_LE } from "../testing/data-models.js";

const DOMID_SELF = 0x7ff0;
const PERMIT = GrantFlags.permit_access;
const RW = GrantFlags.reading | GrantFlags.writing;

describe("grant_table_op setup_table, query_size, versions", () => {
  it("query_size reports the initial frame and Xen's default maximum", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, { privileged: true, pages: 2 });
    const v = d.vcpus[0];
    writeGuestU16(v, DATA_VA, DOMID_SELF);
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.query_size, DATA_VA, 1])).toBe(0);
    expect(readGuestU32(v, DATA_VA + 4n)).toBe(1);
    expect(readGuestU32(v, DATA_VA + 8n)).toBe(MAX_GRANT_FRAMES);
    expect(readGuestU16(v, DATA_VA + 12n)).toBe(GrantStatus.okay);
  });

  it("setup_table grows the table and lists frames the domain may map", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, { privileged: false, pages: 2 });
    const v = d.vcpus[0];
    writeGuestU16(v, DATA_VA, DOMID_SELF);
    writeGuestU32(v, DATA_VA + 4n, 2);
    writeGuestU16(v, DATA_VA + 8n, 0x7777);
    writeGuestU64(v, DATA_VA + 16n, DATA_VA + 0x100n);
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.setup_table, DATA_VA, 1])).toBe(0);
    expect(readGuestU16(v, DATA_VA + 8n)).toBe(GrantStatus.okay);
    const f0 = Number(readGuestU64(v, DATA_VA + 0x100n));
    const f1 = Number(readGuestU64(v, DATA_VA + 0x108n));
    expect(f0).not.toBe(f1);
    expect(machine.memory.frameTable.owner[f0]).toBe(d.id);
    expect(machine.memory.frameTable.owner[f1]).toBe(d.id);
    expect(d.totPages).toBe(2); // grant frames are outside the reservation
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.setup_table, DATA_VA, 1])).toBe(0);
    expect(Number(readGuestU64(v, DATA_VA + 0x100n))).toBe(f0);
    expect(grantTableOf(machine, d)?.frames).toEqual([f0, f1]);
  });

  it("returns Xen's errors: counts, bad pointers, too many frames, domains, other commands", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, { privileged: false, pages: 2, id: 1 });
    addFakeDomain(machine, { privileged: false, pages: 1, id: 2 });
    const v = d.vcpus[0];
    const op = (cmd: number, count: number, at = DATA_VA) =>
      hypercall(d, Hypercall.grant_table_op, [cmd, at, count]);
    expect(op(GrantTableOp.setup_table, 2)).toBe(-Errno.EINVAL);
    expect(op(GrantTableOp.query_size, 0)).toBe(-Errno.EINVAL);
    expect(op(GrantTableOp.setup_table, -1)).toBe(-Errno.EINVAL);
    expect(op(GrantTableOp.query_size | (1 << 12), 1)).toBe(-Errno.EINVAL);
    expect(op(GrantTableOp.setup_table, 1, 0x9990000n)).toBe(-Errno.EFAULT);
    expect(op(GrantTableOp.query_size, 1, 0x9990000n)).toBe(-Errno.EFAULT);
    writeGuestU16(v, DATA_VA, DOMID_SELF);
    writeGuestU32(v, DATA_VA + 4n, MAX_GRANT_FRAMES + 1);
    writeGuestU64(v, DATA_VA + 16n, DATA_VA + 0x100n);
    expect(op(GrantTableOp.setup_table, 1)).toBe(0);
    expect(readGuestU16(v, DATA_VA + 8n)).toBe(0x10000 + GrantStatus.general_error);
    writeGuestU16(v, DATA_VA, 77); // no such domain
    writeGuestU32(v, DATA_VA + 4n, 1);
    expect(op(GrantTableOp.setup_table, 1)).toBe(0);
    expect(readGuestU16(v, DATA_VA + 8n)).toBe(0x10000 + GrantStatus.bad_domain);
    writeGuestU16(v, DATA_VA, 2); // another domain: XSM_TARGET
    expect(op(GrantTableOp.setup_table, 1)).toBe(0);
    expect(readGuestU16(v, DATA_VA + 8n)).toBe(0x10000 + GrantStatus.permission_denied);
    expect(op(GrantTableOp.query_size, 1)).toBe(0);
    expect(readGuestU16(v, DATA_VA + 12n)).toBe(0x10000 + GrantStatus.permission_denied);
    writeGuestU16(v, DATA_VA, 77);
    expect(op(GrantTableOp.query_size, 1)).toBe(0);
    expect(readGuestU16(v, DATA_VA + 12n)).toBe(0x10000 + GrantStatus.bad_domain);
    writeGuestU16(v, DATA_VA, DOMID_SELF); // a frame list that cannot be written
    writeGuestU64(v, DATA_VA + 16n, 0x9990000n);
    expect(op(GrantTableOp.setup_table, 1)).toBe(0);
    expect(readGuestU16(v, DATA_VA + 8n)).toBe(0x10000 + GrantStatus.bad_virt_addr);
    expect(op(GrantTableOp.dump_table, 1)).toBe(-Errno.ENOSYS);
    expect(op(GrantTableOp.cache_flush, 1)).toBe(-Errno.ENOSYS); // Arm only (CONFIG_HAS_GRANT_CACHE_FLUSH)
  });

  it("set_version: 1 is a no-op, 2 with max version 1 −ENOSYS, others −EINVAL, the version written back; get_version", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, { pages: 2, id: 1 });
    const e = addFakeDomain(machine, { pages: 1, id: 2 });
    initGrantTable(machine, d, { maxFrames: 4, maxMaptrackFrames: 1, maxVersion: 1 });
    const v = d.vcpus[0];
    expect(setGrantVersion(d, 1)).toEqual({ rc: 0, version: 1 });
    expect(setGrantVersion(d, 2)).toEqual({ rc: -Errno.ENOSYS, version: 1 });
    expect(setGrantVersion(d, 3)).toEqual({ rc: -Errno.EINVAL, version: 1 });
    expect(setGrantVersion(d, 0)).toEqual({ rc: -Errno.EINVAL, version: 1 });
    const op = (cmd: number) => hypercall(d, Hypercall.grant_table_op, [cmd, DATA_VA, 1]);
    writeGuestU16(v, DATA_VA, DOMID_SELF);
    writeGuestU32(v, DATA_VA + 4n, 0);
    expect(op(GrantTableOp.get_version)).toBe(0);
    expect(readGuestU32(v, DATA_VA + 4n)).toBe(1);
    // The default limits allow v2 (e, like a domain xl builds).
    expect(setGrantVersion(e, 2)).toEqual({ rc: 0, version: 2 });
    writeGuestU16(v, DATA_VA, 77);
    expect(op(GrantTableOp.get_version)).toBe(-Errno.ESRCH);
    writeGuestU16(v, DATA_VA, 2);
    expect(op(GrantTableOp.get_version)).toBe(-Errno.EPERM);
    writeGuestU16(e.vcpus[0], DATA_VA, DOMID_SELF);
    expect(hypercall(e, Hypercall.grant_table_op, [GrantTableOp.get_version, DATA_VA, 1])).toBe(0);
    expect(readGuestU32(e.vcpus[0], DATA_VA + 4n)).toBe(2);
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.get_version, 0x9990000n, 1])).toBe(
      -Errno.EFAULT,
    );
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.set_version, 0x9990000n, 1])).toBe(
      -Errno.EFAULT,
    );
  });
});

describe("grant_table_op map_grant_ref / unmap_grant_ref", () => {
  it("host-maps a granted page writable, sets reading|writing, and unmapping restores everything", () => {
    const { machine, a, b } = grantWorld();
    const ft = machine.memory.frameTable;
    const page = mfnAt(machine, a, PAGE_VA);
    machine.memory.write32(page * 4096 + 8, 0xcafe);
    writeGrant(machine, a, 5, PERMIT, b.id, page);
    const m = mapGrant(b, { ref: 5, dom: a.id, flags: GNTMAP_HOST_MAP, host_addr: MAP_VA });
    expect(m).toMatchObject({ rc: 0, status: GrantStatus.okay, devBusAddr: BigInt(page * 4096) });
    expect(grantFlags(machine, a, 5)).toBe(PERMIT | RW);
    expect(ft.refCount[page]).toBe(1);
    expect(readGuestU32(b.vcpus[0], MAP_VA + 8n)).toBe(0xcafe);
    expect(writeGuestU32(b.vcpus[0], MAP_VA + 12n, 7)).toBe(0);
    expect(machine.memory.read32(page * 4096 + 12)).toBe(7);
    expect(unmapGrant(b, { handle: m.handle, host_addr: MAP_VA })).toEqual({ rc: 0, status: 0 });
    expect(grantFlags(machine, a, 5)).toBe(PERMIT);
    expect(ft.refCount[page]).toBe(0);
    expect(readGuestU32(b.vcpus[0], MAP_VA)).toBe(-Errno.EFAULT);
    // The handle is free again: unmapping twice is bad_handle.
    expect(unmapGrant(b, { handle: m.handle, host_addr: MAP_VA }).status).toBe(
      GrantStatus.bad_handle,
    );
  });

  it("read-only maps set only GTF_reading and cannot write; read-only grants refuse writable maps", () => {
    const { machine, a, b } = grantWorld();
    const page = mfnAt(machine, a, PAGE_VA);
    writeGrant(machine, a, 1, PERMIT | GrantFlags.readonly, b.id, page);
    const w = mapGrant(b, { ref: 1, dom: a.id, flags: GNTMAP_HOST_MAP, host_addr: MAP_VA });
    expect(w.status).toBe(GrantStatus.general_error);
    expect(grantFlags(machine, a, 1)).toBe(PERMIT | GrantFlags.readonly);
    const r = mapGrant(b, {
      ref: 1,
      dom: a.id,
      flags: GNTMAP_HOST_MAP | GNTMAP_READONLY,
      host_addr: MAP_VA,
    });
    expect(r.status).toBe(GrantStatus.okay);
    expect(grantFlags(machine, a, 1)).toBe(PERMIT | GrantFlags.readonly | GrantFlags.reading);
    expect(writeGuestU32(b.vcpus[0], MAP_VA, 1)).toBe(-Errno.EFAULT);
    expect(machine.memory.frameTable.refCount[page]).toBe(1);
    // Unmapping with the wrong access flags recorded would not match: the fixture checks.
    expect(unmapGrant(b, { handle: r.handle, host_addr: MAP_VA }).status).toBe(GrantStatus.okay);
    expect(grantFlags(machine, a, 1)).toBe(PERMIT | GrantFlags.readonly);
    expect(machine.memory.frameTable.refCount[page]).toBe(0);
  });

  it("device maps return dev_bus_addr; host+device take two references; halves unmap separately", () => {
    const { machine, a, b } = grantWorld();
    const ft = machine.memory.frameTable;
    const page = mfnAt(machine, a, PAGE_VA);
    writeGrant(machine, a, 2, PERMIT, b.id, page);
    const m = mapGrant(b, {
      ref: 2,
      dom: a.id,
      flags: GNTMAP_HOST_MAP | GNTMAP_DEVICE_MAP,
      host_addr: MAP_VA,
    });
    expect(m.status).toBe(GrantStatus.okay);
    expect(m.devBusAddr).toBe(BigInt(page) * 4096n);
    expect(ft.refCount[page]).toBe(2);
    const bus = m.devBusAddr;
    expect(unmapGrant(b, { handle: m.handle, dev_bus_addr: bus + 4096n }).status).toBe(
      GrantStatus.bad_dev_addr,
    );
    expect(unmapGrant(b, { handle: m.handle, dev_bus_addr: bus }).status).toBe(GrantStatus.okay);
    expect(ft.refCount[page]).toBe(1);
    expect(grantFlags(machine, a, 2)).toBe(PERMIT | RW);
    // Neither half given: nothing happens, the handle stays.
    expect(unmapGrant(b, { handle: m.handle }).status).toBe(GrantStatus.okay);
    expect(ft.refCount[page]).toBe(1);
    expect(unmapGrant(b, { handle: m.handle, host_addr: MAP_VA }).status).toBe(GrantStatus.okay);
    expect(ft.refCount[page]).toBe(0);
    expect(grantFlags(machine, a, 2)).toBe(PERMIT);
    const d = mapGrant(b, { ref: 2, dom: a.id, flags: GNTMAP_DEVICE_MAP | GNTMAP_READONLY });
    expect(d.status).toBe(GrantStatus.okay);
    expect(grantFlags(machine, a, 2)).toBe(PERMIT | GrantFlags.reading);
    expect(unmapGrant(b, { handle: d.handle, dev_bus_addr: d.devBusAddr }).status).toBe(0);
    expect(grantFlags(machine, a, 2)).toBe(PERMIT);
  });

  it("a writable pin keeps GTF_writing until the last writable mapping goes", () => {
    const { machine, a, b } = grantWorld();
    const page = mfnAt(machine, a, PAGE_VA);
    writeGrant(machine, a, 3, PERMIT, b.id, page);
    const ro = mapGrant(b, { ref: 3, dom: a.id, flags: GNTMAP_DEVICE_MAP | GNTMAP_READONLY });
    const rw = mapGrant(b, { ref: 3, dom: a.id, flags: GNTMAP_DEVICE_MAP });
    expect(ro.handle).not.toBe(rw.handle);
    expect(grantFlags(machine, a, 3)).toBe(PERMIT | RW);
    unmapGrant(b, { handle: rw.handle, dev_bus_addr: rw.devBusAddr });
    expect(grantFlags(machine, a, 3)).toBe(PERMIT | GrantFlags.reading);
    unmapGrant(b, { handle: ro.handle, dev_bus_addr: ro.devBusAddr });
    expect(grantFlags(machine, a, 3)).toBe(PERMIT);
    expect(machine.memory.frameTable.refCount[page]).toBe(0);
  });

  it("status codes: no flags, bad domain, bad ref, wrong grantee, not a grant, bad page, bad address", () => {
    const { machine, a, b } = grantWorld();
    const ft = machine.memory.frameTable;
    const page = mfnAt(machine, a, PAGE_VA);
    const bPage = mfnAt(machine, b, PAGE_VA);
    writeGrant(machine, a, 1, PERMIT, 3, page); // issued to domain 3, not b
    writeGrant(machine, a, 2, GrantFlags.invalid, b.id, page);
    writeGrant(machine, a, 3, PERMIT, b.id, bPage); // a frame a does not own
    writeGrant(machine, a, 4, PERMIT, b.id, page);
    writeGrant(machine, a, 6, PERMIT | GrantFlags.sub_page, b.id, page);
    const host = { flags: GNTMAP_HOST_MAP, host_addr: MAP_VA };
    expect(mapGrant(b, { ref: 4, dom: a.id, flags: 0 }).status).toBe(GrantStatus.bad_gntref);
    expect(mapGrant(b, { ref: 4, dom: 99, ...host }).status).toBe(GrantStatus.bad_domain);
    expect(mapGrant(b, { ref: 4, dom: DOMID_SELF, ...host }).status).toBe(GrantStatus.bad_domain);
    expect(mapGrant(b, { ref: 512, dom: a.id, ...host }).status).toBe(GrantStatus.bad_gntref);
    expect(mapGrant(b, { ref: 1, dom: a.id, ...host }).status).toBe(GrantStatus.general_error);
    expect(mapGrant(b, { ref: 2, dom: a.id, ...host }).status).toBe(GrantStatus.general_error);
    expect(mapGrant(b, { ref: 6, dom: a.id, ...host }).status).toBe(GrantStatus.general_error);
    expect(mapGrant(b, { ref: 3, dom: a.id, ...host }).status).toBe(GrantStatus.bad_page);
    expect(grantFlags(machine, a, 3)).toBe(PERMIT); // reading/writing cleared again
    const bad = mapGrant(b, { ref: 4, dom: a.id, flags: GNTMAP_HOST_MAP, host_addr: 0x40001n });
    expect(bad.status).toBe(GrantStatus.general_error);
    expect(grantFlags(machine, a, 4)).toBe(PERMIT);
    expect(ft.refCount[page]).toBe(0);
    expect(ft.refCount[bPage]).toBe(0);
    // Once pinned by b, another domain may not pin it even with a matching entry.
    const c = addFakeDomain(machine, { id: 3, pages: 2 });
    const m = mapGrant(b, { ref: 4, dom: a.id, flags: GNTMAP_DEVICE_MAP });
    writeGrant(machine, a, 4, PERMIT | RW, c.id, page);
    expect(mapGrant(c, { ref: 4, dom: a.id, flags: GNTMAP_DEVICE_MAP }).status).toBe(
      GrantStatus.general_error,
    );
    unmapGrant(b, { handle: m.handle, dev_bus_addr: m.devBusAddr });
    expect(ft.refCount[page]).toBe(0);
    // A bad op pointer is −EFAULT for the hypercall.
    expect(
      hypercall(b, Hypercall.grant_table_op, [GrantTableOp.map_grant_ref, 0x9990000n, 1]),
    ).toBe(-Errno.EFAULT);
    expect(
      hypercall(b, Hypercall.grant_table_op, [GrantTableOp.unmap_grant_ref, 0x9990000n, 1]),
    ).toBe(-Errno.EFAULT);
  });

  it("without the arch's host-mapping hook, host maps fail cleanly; device maps still work", () => {
    const { machine, a, b } = grantWorld(false);
    const page = mfnAt(machine, a, PAGE_VA);
    writeGrant(machine, a, 1, PERMIT, b.id, page);
    expect(
      mapGrant(b, { ref: 1, dom: a.id, flags: GNTMAP_HOST_MAP, host_addr: MAP_VA }).status,
    ).toBe(GrantStatus.general_error);
    expect(grantFlags(machine, a, 1)).toBe(PERMIT);
    expect(machine.memory.frameTable.refCount[page]).toBe(0);
    expect(mapGrant(b, { ref: 1, dom: a.id, flags: GNTMAP_DEVICE_MAP }).status).toBe(0);
  });

  it("unmap status codes: bad handle, handle out of range", () => {
    const { b } = grantWorld();
    expect(unmapGrant(b, { handle: 0, host_addr: MAP_VA }).status).toBe(GrantStatus.bad_handle);
    expect(unmapGrant(b, { handle: 0xffffffff, host_addr: MAP_VA }).status).toBe(
      GrantStatus.bad_handle,
    );
  });

  it("the arch's writable-type hook refuses writable maps of frames it may not write", () => {
    const { machine, arch, a, b } = grantWorld();
    const page = mfnAt(machine, a, PAGE_VA);
    const taken: number[] = [];
    Object.assign(arch, {
      getWritableFrame: (_m: unknown, mfn: number) => (mfn === page ? false : true),
      putWritableFrame: (_m: unknown, mfn: number) => taken.push(mfn),
    });
    writeGrant(machine, a, 1, PERMIT, b.id, page);
    expect(
      mapGrant(b, { ref: 1, dom: a.id, flags: GNTMAP_HOST_MAP, host_addr: MAP_VA }).status,
    ).toBe(GrantStatus.general_error);
    expect(machine.memory.frameTable.refCount[page]).toBe(0);
    expect(grantFlags(machine, a, 1)).toBe(PERMIT);
    const r = mapGrant(b, {
      ref: 1,
      dom: a.id,
      flags: GNTMAP_HOST_MAP | GNTMAP_READONLY,
      host_addr: MAP_VA,
    });
    expect(r.status).toBe(GrantStatus.okay);
    expect(taken).toEqual([]);
  });
});

describe("grant_table_op copy", () => {
  it("copies from a granted page to a local frame and back, by reference and by frame", () => {
    const { machine, a, b } = grantWorld();
    const aPage = mfnAt(machine, a, PAGE_VA);
    const bPage = mfnAt(machine, b, PAGE_VA);
    machine.memory.bytes.set([1, 2, 3, 4], aPage * 4096 + 100);
    writeGrant(machine, a, 7, PERMIT, b.id, aPage);
    const r = copyGrant(b, {
      "source.u.ref": 7,
      "source.domid": a.id,
      "source.offset": 100,
      "dest.u.gmfn": BigInt(bPage),
      "dest.domid": DOMID_SELF,
      "dest.offset": 4000,
      len: 4,
      flags: GNTCOPY_SOURCE_GREF,
    });
    expect(r).toEqual({ rc: 0, status: 0 });
    expect([...machine.memory.bytes.subarray(bPage * 4096 + 4000, bPage * 4096 + 4004)]).toEqual([
      1, 2, 3, 4,
    ]);
    machine.memory.bytes.set([9, 8], bPage * 4096);
    const w = copyGrant(b, {
      "source.u.gmfn": BigInt(bPage),
      "source.domid": DOMID_SELF,
      "dest.u.ref": 7,
      "dest.domid": a.id,
      "dest.offset": 4094,
      len: 2,
      flags: GNTCOPY_DEST_GREF,
    });
    expect(w.status).toBe(0);
    expect([...machine.memory.bytes.subarray(aPage * 4096 + 4094, aPage * 4096 + 4096)]).toEqual([
      9, 8,
    ]);
    expect(grantFlags(machine, a, 7)).toBe(PERMIT);
    expect(machine.memory.frameTable.refCount[aPage]).toBe(0);
    expect(machine.memory.frameTable.refCount[bPage]).toBe(0);
  });

  it("a domain can copy through a grant to itself (both ends by reference)", () => {
    const { machine, a } = grantWorld();
    const p0 = mfnAt(machine, a, PAGE_VA);
    const p1 = mfnAt(machine, a, PAGE_VA + 0x1000n);
    machine.memory.write32(p0 * 4096, 0x11223344);
    writeGrant(machine, a, 1, PERMIT, a.id, p0);
    writeGrant(machine, a, 2, PERMIT, a.id, p1);
    const r = copyGrant(a, {
      "source.u.ref": 1,
      "source.domid": DOMID_SELF,
      "dest.u.ref": 2,
      "dest.domid": a.id,
      "dest.offset": 8,
      len: 4,
      flags: GNTCOPY_SOURCE_GREF | GNTCOPY_DEST_GREF,
    });
    expect(r.status).toBe(0);
    expect(machine.memory.read32(p1 * 4096 + 8)).toBe(0x11223344);
  });

  it("status codes: frame of another domain, bad domain, bounds, read-only dest, wrong grantee, zero length", () => {
    const { machine, a, b } = grantWorld();
    const aPage = mfnAt(machine, a, PAGE_VA);
    const bPage = mfnAt(machine, b, PAGE_VA);
    writeGrant(machine, a, 1, PERMIT | GrantFlags.readonly, b.id, aPage);
    writeGrant(machine, a, 2, PERMIT, 9, aPage);
    writeGrant(machine, a, 3, PERMIT, b.id, aPage);
    const toLocal = {
      "dest.u.gmfn": BigInt(bPage),
      "dest.domid": DOMID_SELF,
      len: 8,
    };
    const cases: [Record<string, number | bigint>, number][] = [
      [
        { "source.u.gmfn": BigInt(aPage), "source.domid": a.id, ...toLocal, flags: 0 },
        GrantStatus.permission_denied,
      ],
      [
        { "source.u.gmfn": BigInt(aPage), "source.domid": DOMID_SELF, ...toLocal, flags: 0 },
        GrantStatus.bad_page,
      ],
      [
        { "source.u.ref": 3, "source.domid": 55, ...toLocal, flags: GNTCOPY_SOURCE_GREF },
        GrantStatus.bad_domain,
      ],
      [
        { "source.u.ref": 9999, "source.domid": a.id, ...toLocal, flags: GNTCOPY_SOURCE_GREF },
        GrantStatus.bad_gntref,
      ],
      [
        { "source.u.ref": 2, "source.domid": a.id, ...toLocal, flags: GNTCOPY_SOURCE_GREF },
        GrantStatus.general_error,
      ],
      [
        {
          "source.u.ref": 3,
          "source.domid": a.id,
          "source.offset": 4090,
          ...toLocal,
          flags: GNTCOPY_SOURCE_GREF,
        },
        GrantStatus.bad_copy_arg,
      ],
      [
        {
          "source.u.ref": 3,
          "source.domid": a.id,
          ...toLocal,
          "dest.offset": 4089,
          flags: GNTCOPY_SOURCE_GREF,
        },
        GrantStatus.bad_copy_arg,
      ],
      [
        {
          "source.u.gmfn": BigInt(bPage),
          "source.domid": DOMID_SELF,
          "dest.u.ref": 1,
          "dest.domid": a.id,
          len: 8,
          flags: GNTCOPY_DEST_GREF,
        },
        GrantStatus.general_error,
      ],
      [
        { "source.u.ref": 3, "source.domid": 55, ...toLocal, len: 0, flags: GNTCOPY_SOURCE_GREF },
        GrantStatus.okay,
      ],
    ];
    for (const [op, status] of cases) {
      expect(
        copyGrant(b, op).status,
        JSON.stringify(op, (_k, v) => String(v)),
      ).toBe(status);
      expect(grantFlags(machine, a, 1) & RW).toBe(0);
      expect(grantFlags(machine, a, 2) & RW).toBe(0);
      expect(grantFlags(machine, a, 3) & RW).toBe(0);
      expect(machine.memory.frameTable.refCount[aPage]).toBe(0);
      expect(machine.memory.frameTable.refCount[bPage]).toBe(0);
    }
    expect(hypercall(b, Hypercall.grant_table_op, [GrantTableOp.copy, 0x9990000n, 1])).toBe(
      -Errno.EFAULT,
    );
  });
});

describe("grant_table_op transfer", () => {
  it("moves a page to a domain with an accept-transfer entry and completes the entry", () => {
    const { machine, a, b } = grantWorld();
    const ft = machine.memory.frameTable;
    const page = mfnAt(machine, b, PAGE_VA + 0x1000n);
    b.vcpus[0].domain.p2m = new Int32Array([page]);
    a.maxPages = a.totPages + 1;
    writeGrant(machine, a, 4, GrantFlags.accept_transfer, b.id, 0);
    const [aTot, bTot] = [a.totPages, b.totPages];
    expect(transferPage(b, { mfn: page, domid: a.id, ref: 4 })).toEqual({ rc: 0, status: 0 });
    expect(ft.owner[page]).toBe(a.id);
    expect([a.totPages, b.totPages]).toEqual([aTot + 1, bTot - 1]);
    expect(b.p2m[0]).toBe(-1);
    expect(grantFlags(machine, a, 4)).toBe(
      GrantFlags.accept_transfer | GTF_TRANSFER_COMMITTED | GTF_TRANSFER_COMPLETED,
    );
    const gt = grantTableOf(machine, a);
    expect(machine.memory.read32((gt?.entryAddress(4) ?? 0) + 4)).toBe(page);
  });

  it("to itself at its limit: the page it gives up is its headroom", () => {
    const { machine, b } = grantWorld();
    const page = mfnAt(machine, b, PAGE_VA + 0x1000n);
    b.maxPages = b.totPages;
    writeGrant(machine, b, 4, GrantFlags.accept_transfer, b.id, 0x40);
    const tot = b.totPages;
    expect(transferPage(b, { mfn: page, domid: b.id, ref: 4 })).toEqual({ rc: 0, status: 0 });
    expect(machine.memory.frameTable.owner[page]).toBe(b.id);
    expect(b.totPages).toBe(tot);
    expect(grantFlags(machine, b, 4)).toBe(
      GrantFlags.accept_transfer | GTF_TRANSFER_COMMITTED | GTF_TRANSFER_COMPLETED,
    );
  });

  it("status codes: not the caller's page, unknown domain, no accept entry, no headroom", () => {
    const { machine, a, b } = grantWorld();
    const page = mfnAt(machine, b, PAGE_VA);
    const aPage = mfnAt(machine, a, PAGE_VA);
    a.maxPages = a.totPages + 1;
    writeGrant(machine, a, 1, GrantFlags.accept_transfer, b.id, 0);
    writeGrant(machine, a, 2, GrantFlags.accept_transfer, 9, 0);
    expect(transferPage(b, { mfn: aPage, domid: a.id, ref: 1 }).status).toBe(GrantStatus.bad_page);
    expect(transferPage(b, { mfn: 1 << 30, domid: a.id, ref: 1 }).status).toBe(
      GrantStatus.bad_page,
    );
    expect(transferPage(b, { mfn: page, domid: 77, ref: 1 }).status).toBe(GrantStatus.bad_domain);
    expect(transferPage(b, { mfn: page, domid: a.id, ref: 2 }).status).toBe(
      GrantStatus.general_error,
    );
    expect(transferPage(b, { mfn: page, domid: a.id, ref: 3 }).status).toBe(
      GrantStatus.general_error,
    );
    a.maxPages = a.totPages;
    expect(transferPage(b, { mfn: page, domid: a.id, ref: 1 }).status).toBe(
      GrantStatus.general_error,
    );
    expect(machine.memory.frameTable.owner[page]).toBe(b.id);
    expect(grantFlags(machine, a, 1)).toBe(GrantFlags.accept_transfer);
    // A page with other references (mapped by a grant) cannot be given away.
    a.maxPages = a.totPages + 1;
    writeGrant(machine, b, 1, PERMIT, a.id, page);
    const m = mapGrant(a, { ref: 1, dom: b.id, flags: GNTMAP_DEVICE_MAP });
    expect(m.status).toBe(0);
    expect(transferPage(b, { mfn: page, domid: a.id, ref: 1 }).status).toBe(GrantStatus.bad_page);
    // Nor can a grant-table frame.
    const gframe = grantTableOf(machine, b)?.frames[0] ?? -1;
    expect(transferPage(b, { mfn: gframe, domid: a.id, ref: 1 }).status).toBe(GrantStatus.bad_page);
  });
});

describe("memory_op add_to_physmap XENMAPSPACE_grant_table", () => {
  const add = (d: Domain, idx: number, gpfn: number): number | bigint => {
    const layout = XEN_ADD_TO_PHYSMAP.layout(d.vcpus[0].machine.arch.dataModel);
    const sb = new StructBuffer(layout.size);
    layout.set(sb.view, 0, "domid", DOMID_SELF);
    layout.set(sb.view, 0, "space", XENMAPSPACE_GRANT_TABLE);
    layout.set(sb.view, 0, "idx", BigInt(idx));
    layout.set(sb.view, 0, "gpfn", BigInt(gpfn));
    writeGuestStruct(d.vcpus[0], DATA_VA, layout, sb);
    return hypercall(d, Hypercall.memory_op, [MemoryOp.add_to_physmap, DATA_VA]);
  };

  it("maps grant frame idx at gpfn, growing the table; past the maximum is −EINVAL", () => {
    const { machine } = fakeMachine();
    const hvm = addFakeDomain(machine, { mode: "hvm-vmx", pages: 2 });
    expect(add(hvm, 3, 0x70)).toBe(0);
    const gt = grantTableOf(machine, hvm);
    expect(gt?.frames.length).toBe(4);
    expect(hvm.p2m[0x70]).toBe(gt?.frames[3]);
    expect(add(hvm, MAX_GRANT_FRAMES, 0x71)).toBe(-Errno.EINVAL);
    expect(grantTableFrame(machine, hvm, 0)).toBe(gt?.frames[0]);
    expect(grantTableFrame(machine, hvm, -1)).toBe(-Errno.EINVAL);
    expect(grantTableFrame(machine, hvm, 0x80000000)).toBe(-Errno.EINVAL);
  });
});

describe("grant_table_op unmap_and_replace", () => {
  const replace = (d: Domain<FakeTypes>, handle: number, hostAddr: bigint, newAddr: bigint) =>
    grantOp(d, GrantTableOp.unmap_and_replace, GNTTAB_UNMAP_AND_REPLACE, [
      { host_addr: hostAddr, new_addr: newAddr, handle },
    ]);

  it("moves the mapping at new_addr into the grant's slot and releases the grant", () => {
    const { machine, a, b } = grantWorld();
    const page = mfnAt(machine, a, PAGE_VA);
    const own = mfnAt(machine, b, PAGE_VA);
    writeGrant(machine, a, 1, PERMIT, b.id, page);
    const m = mapGrant(b, { ref: 1, dom: a.id, flags: GNTMAP_HOST_MAP, host_addr: MAP_VA });
    const r = replace(b, m.handle, MAP_VA, PAGE_VA);
    expect(r.rc).toBe(0);
    expect(r.out[0].status).toBe(GrantStatus.okay);
    expect(mfnAt(machine, b, MAP_VA)).toBe(own);
    expect(() => mfnAt(machine, b, PAGE_VA)).toThrow();
    expect(machine.memory.frameTable.refCount[page]).toBe(0);
    expect(grantFlags(machine, a, 1)).toBe(PERMIT);
  });

  it("a mismatching slot fails with general_error and keeps the grant; no arch support is −ENOSYS", () => {
    const { machine, a, b } = grantWorld();
    const page = mfnAt(machine, a, PAGE_VA);
    writeGrant(machine, a, 1, PERMIT, b.id, page);
    const m = mapGrant(b, { ref: 1, dom: a.id, flags: GNTMAP_HOST_MAP, host_addr: MAP_VA });
    const r = replace(b, m.handle, MAP_VA + 0x1000n, PAGE_VA);
    expect(r.out[0].status).toBe(GrantStatus.general_error);
    expect(machine.memory.frameTable.refCount[page]).toBe(1);
    expect(replace(b, 77, MAP_VA, PAGE_VA).out[0].status).toBe(GrantStatus.bad_handle);
    const bare = grantWorld(false);
    expect(replace(bare.b, 0, MAP_VA, PAGE_VA).rc).toBe(-Errno.ENOSYS);
  });
});

describe("grant_table_op get_status_frames and swap_grant_ref (Xen 4.19)", () => {
  const sbuf = new StructBuffer(32);
  const put = (
    d: Domain,
    def: StructDef,
    fields: Record<string, number | bigint>,
    va = DATA_VA,
  ) => {
    const layout = def.layout(TEST_LP64_LE);
    sbuf.bytes.fill(0);
    for (const [k, v] of Object.entries(fields)) layout.set(sbuf.view, 0, k, v);
    expect(writeGuestStruct(d.vcpus[0], va, layout, sbuf)).toBe(0);
  };
  const status = (d: Domain, at: bigint) => (readGuestU16(d.vcpus[0], at) << 16) >> 16;
  const gt = Hypercall.grant_table_op;

  it("get_status_frames: -EINVAL count, -EFAULT struct or refused list, then bad_domain, permission_denied, and general_error for any frame of a v1 table", () => {
    const refused = 0xffff800000000000n;
    const { machine } = fakeMachine({ guestAccessOk: (_d, va) => va < refused });
    const a = addFakeDomain(machine, { id: 1 });
    addFakeDomain(machine, { id: 2 });
    const at = DATA_VA + 6n; // status: u32 nr_frames, u16 dom, i16 status
    const rows: [string, Record<string, number | bigint>, number, number | null][] = [
      [
        "v1: no status frames",
        { nr_frames: 1, dom: DOMID_SELF, frame_list: DATA_VA + 0x100n },
        0,
        GrantStatus.general_error,
      ],
      [
        "v1: asking for none is fine",
        { nr_frames: 0, dom: DOMID_SELF, frame_list: DATA_VA + 0x100n },
        0,
        GrantStatus.okay,
      ],
      [
        "unknown domain",
        { nr_frames: 1, dom: 77, frame_list: DATA_VA + 0x100n },
        0,
        GrantStatus.bad_domain,
      ],
      [
        "another domain (XSM_TARGET)",
        { nr_frames: 1, dom: 2, frame_list: DATA_VA + 0x100n },
        0,
        GrantStatus.permission_denied,
      ],
      [
        "a frame list access_ok refuses",
        { nr_frames: 1, dom: DOMID_SELF, frame_list: refused },
        -Errno.EFAULT,
        null,
      ],
    ];
    for (const [what, fields, rc, st] of rows) {
      put(a, GNTTAB_GET_STATUS_FRAMES, { ...fields, status: 0x5a5a });
      expect([what, hypercall(a, gt, [GrantTableOp.get_status_frames, DATA_VA, 1])]).toEqual([
        what,
        rc,
      ]);
      if (st !== null) expect([what, status(a, at)]).toEqual([what, st]);
    }
    expect(hypercall(a, gt, [GrantTableOp.get_status_frames, DATA_VA, 2])).toBe(-Errno.EINVAL);
    expect(hypercall(a, gt, [GrantTableOp.get_status_frames, 0x990000, 1])).toBe(-Errno.EFAULT);
  });

  it("swap_grant_ref: exchanges two idle entries; bad_gntref past the table, okay with itself, eagain while either is pinned", () => {
    const { machine, a, b } = grantWorld();
    const page = mfnAt(machine, a, PAGE_VA);
    writeGrant(machine, a, 3, GrantFlags.permit_access, b.id, page);
    writeGrant(machine, a, 4, GrantFlags.permit_access | GrantFlags.readonly, 9, 1234);
    const swap = (refA: number, refB: number): number => {
      put(a, GNTTAB_SWAP_GRANT_REF, { ref_a: refA, ref_b: refB, status: 0x5a5a });
      expect(hypercall(a, gt, [GrantTableOp.swap_grant_ref, DATA_VA, 1])).toBe(0);
      return status(a, DATA_VA + 8n);
    };
    expect(swap(3, 4)).toBe(GrantStatus.okay);
    expect(grantFlags(machine, a, 3)).toBe(GrantFlags.permit_access | GrantFlags.readonly);
    expect(grantFlags(machine, a, 4)).toBe(GrantFlags.permit_access);
    expect(swap(4, 4)).toBe(GrantStatus.okay);
    expect(swap(4, 512)).toBe(GrantStatus.bad_gntref);
    expect(swap(0xffffffff, 4)).toBe(GrantStatus.bad_gntref);
    // b maps entry 4 (now the writable grant for b): it is pinned, so neither order swaps.
    const m = mapGrant(b, { ref: 4, dom: a.id, flags: GNTMAP_HOST_MAP, host_addr: MAP_VA });
    expect(m.status).toBe(GrantStatus.okay);
    expect(swap(4, 3)).toBe(GrantStatus.eagain);
    expect(swap(3, 4)).toBe(GrantStatus.eagain);
    expect(grantFlags(machine, a, 4) & 3).toBe(GrantFlags.permit_access);
    // An unreadable op is -EFAULT; count 0 does nothing.
    expect(hypercall(a, gt, [GrantTableOp.swap_grant_ref, 0x990000, 1])).toBe(-Errno.EFAULT);
    expect(hypercall(a, gt, [GrantTableOp.swap_grant_ref, 0x990000, 0])).toBe(0);
  });
});
