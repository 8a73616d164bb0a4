import { describe, expect, it } from "vitest";
import { SCHED_REMOTE_SHUTDOWN } from "./abi/sched.js";
import { Errno } from "./errno.js";
import {
  clearGuest,
  copyFromGuest,
  copyToGuest,
  readGuestStruct,
  readGuestU16,
  readGuestU32,
  readGuestU64,
  readGuestU8,
  StructBuffer,
  writeGuestField,
  writeGuestStruct,
  writeGuestU16,
  writeGuestU32,
  writeGuestU64,
  writeGuestU8,
} from "./guest-memory.js";
import { mapFakeFrames, mapFakePages } from "./testing/fake-arch.js";
import { fakeMachine } from "./testing/fake-machine.js";
import { TEST_LP64_LE } from "./testing/data-models.js";

const EFAULT = -Errno.EFAULT;

/** A domain with two writable pages at 0x2000 (backed by non-adjacent frames, in reverse order) and a read-only page at 0x4000. */
function setup(endianness: "little" | "big" = "little", pageSize = 4096) {
  const { machine, arch } = fakeMachine({ endianness, pageSize }, { memoryMiB: 1 });
  const d = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
  d.maxPages = 16;
  const frames = machine.allocFrames(d, 5)!;
  const ps = BigInt(pageSize);
  mapFakeFrames(machine, d, 2n * ps, [frames[3], frames[1]]);
  mapFakeFrames(machine, d, 4n * ps, [frames[4]], false);
  arch.writes.length = 0;
  return { machine, arch, vcpu: d.vcpus[0], frames, ps, domain: d };
}

describe("guest-memory door", () => {
  it("copies across a page boundary into whichever frames are mapped there", () => {
    const { machine, vcpu, frames, ps } = setup();
    const src = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const va = 3n * ps - 8n; // last 8 bytes of the first page, first 8 of the second
    expect(copyToGuest(vcpu, va, src)).toBe(0);
    const mem = machine.memory.bytes;
    const p = Number(ps);
    expect([...mem.subarray(frames[3] * p + p - 8, frames[3] * p + p)]).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
    expect([...mem.subarray(frames[1] * p, frames[1] * p + 8)]).toEqual([
      9, 10, 11, 12, 13, 14, 15, 16,
    ]);
    const back = new Uint8Array(20);
    expect(copyFromGuest(vcpu, va, back, 2, 16)).toBe(0);
    expect([...back.subarray(2, 18)]).toEqual([...src]);
  });

  it("fails with -EFAULT, never throws, on unmapped, read-only and wrapping ranges", () => {
    const { vcpu, ps } = setup();
    const buf = new Uint8Array(16);
    expect(copyFromGuest(vcpu, 0n, buf)).toBe(EFAULT);
    expect(copyFromGuest(vcpu, 5n * ps - 8n, buf)).toBe(EFAULT); // second half unmapped
    expect(copyFromGuest(vcpu, 4n * ps, buf)).toBe(0); // read-only is readable
    expect(copyToGuest(vcpu, 4n * ps, buf)).toBe(EFAULT);
    expect(copyToGuest(vcpu, 0xffff_ffff_ffff_fff8n, buf)).toBe(EFAULT);
    expect(copyFromGuest(vcpu, -1n, buf)).toBe(EFAULT);
    expect(copyFromGuest(vcpu, 1n << 64n, buf)).toBe(EFAULT);
    expect(copyFromGuest(vcpu, 0n, buf, 0, 0)).toBe(0); // nothing to copy
    expect(readGuestU8(vcpu, 0n)).toBe(EFAULT);
    expect(readGuestU8(vcpu, -1n)).toBe(EFAULT);
    expect(readGuestU16(vcpu, 1n << 64n)).toBe(EFAULT);
    expect(readGuestU32(vcpu, 5n * ps - 2n)).toBe(EFAULT);
    expect(copyToGuest(vcpu, 4n * ps - 8n, buf)).toBe(EFAULT); // second half read-only
    expect(readGuestU64(vcpu, 0x1000n)).toBe(-14n);
    expect(writeGuestU32(vcpu, 4n * ps, 1)).toBe(EFAULT);
    expect(clearGuest(vcpu, 4n * ps, 4)).toBe(EFAULT);
  });

  it("a failed write leaves the pages before the bad one written (as Xen)", () => {
    const { machine, vcpu, frames, ps } = setup();
    const src = new Uint8Array(8).fill(0x5a);
    expect(copyToGuest(vcpu, 4n * ps - 4n, src)).toBe(EFAULT); // 4 bytes in page 3, then read-only page 4
    const p = Number(ps);
    expect([...machine.memory.bytes.subarray(frames[1] * p + p - 4, frames[1] * p + p)]).toEqual([
      0x5a, 0x5a, 0x5a, 0x5a,
    ]);
  });

  it("reads and writes typed values in the arch's byte order, also across pages", () => {
    for (const endianness of ["little", "big"] as const) {
      const { vcpu, ps } = setup(endianness);
      const le = endianness === "little";
      for (const va of [2n * ps + 16n, 3n * ps - 3n]) {
        expect(writeGuestU64(vcpu, va, 0x0102030405060708n)).toBe(0);
        expect(readGuestU64(vcpu, va)).toBe(0x0102030405060708n);
        expect(readGuestU8(vcpu, va)).toBe(le ? 0x08 : 0x01);
        expect(readGuestU16(vcpu, va)).toBe(le ? 0x0708 : 0x0102);
        expect(readGuestU32(vcpu, va + 4n)).toBe(le ? 0x01020304 : 0x05060708);
        expect(writeGuestU32(vcpu, va, 0xfffffffe)).toBe(0);
        expect(readGuestU32(vcpu, va)).toBe(0xfffffffe);
        expect(writeGuestU16(vcpu, va, 0xbeef)).toBe(0);
        expect(readGuestU16(vcpu, va)).toBe(0xbeef);
        expect(writeGuestU8(vcpu, va, 0x7f)).toBe(0);
        expect(readGuestU8(vcpu, va)).toBe(0x7f);
      }
    }
  });

  it("uses the machine's page size (16 KiB pages)", () => {
    const { vcpu, ps, machine, frames } = setup("big", 16384);
    expect(ps).toBe(16384n);
    expect(writeGuestU32(vcpu, 3n * ps - 2n, 0xa1b2c3d4)).toBe(0);
    const p = 16384;
    expect(machine.memory.bytes[frames[3] * p + p - 2]).toBe(0xa1);
    expect(machine.memory.bytes[frames[1] * p + 1]).toBe(0xd4);
  });

  it("tells the arch which machine bytes the hypervisor wrote, page by page", () => {
    const { arch, vcpu, frames, ps } = setup();
    const p = Number(ps);
    copyToGuest(vcpu, 3n * ps - 2n, new Uint8Array(6));
    expect(arch.writes).toEqual([
      { pa: frames[3] * p + p - 2, len: 2 },
      { pa: frames[1] * p, len: 4 },
    ]);
    arch.writes.length = 0;
    copyFromGuest(vcpu, 2n * ps, new Uint8Array(8));
    expect(arch.writes).toEqual([]);
    clearGuest(vcpu, 2n * ps + 8n, 8);
    expect(arch.writes).toEqual([{ pa: frames[3] * p + 8, len: 8 }]);
  });

  it("reads and writes structs through a layout; writeGuestField touches only that field", () => {
    const { vcpu, ps } = setup();
    const layout = SCHED_REMOTE_SHUTDOWN.layout(TEST_LP64_LE);
    const buf = new StructBuffer(16);
    layout.set(buf.view, 0, "domain_id", 7);
    layout.set(buf.view, 0, "reason", 3);
    const va = 2n * ps + 100n;
    expect(writeGuestStruct(vcpu, va, layout, buf)).toBe(0);
    const back = new StructBuffer(16);
    expect(readGuestStruct(vcpu, va, layout, back)).toBe(0);
    expect(layout.get(back.view, 0, "domain_id")).toBe(7);
    expect(layout.get(back.view, 0, "reason")).toBe(3);
    layout.set(buf.view, 0, "domain_id", 9);
    layout.set(buf.view, 0, "reason", 1);
    expect(writeGuestField(vcpu, va, layout, buf, "reason")).toBe(0);
    expect(readGuestU16(vcpu, va)).toBe(7);
    expect(readGuestU32(vcpu, va + 4n)).toBe(1);
    expect(readGuestStruct(vcpu, 0n, layout, back)).toBe(EFAULT);
  });

  it("refuses a host buffer overrun (an hvkit bug) loudly", () => {
    const { vcpu, ps } = setup();
    expect(() => copyFromGuest(vcpu, 2n * ps, new Uint8Array(4), 2, 4)).toThrow(RangeError);
  });

  it("rejects a translation outside machine memory as -EFAULT", () => {
    const { machine, domain, vcpu } = setup();
    mapFakeFrames(machine, domain, 0x100000n, [machine.memory.frames + 5]);
    expect(readGuestU32(vcpu, 0x100000n)).toBe(EFAULT);
    expect(mapFakePages(machine, domain, 0x200000n, 1).length).toBe(1);
  });
});
