import { describe, expect, it } from "vitest";
import { Hypercall, MemoryOp } from "../abi/numbers.js";
import type { Domain } from "../domain.js";
import { Errno } from "../errno.js";
import {
  readGuestU32,
  readGuestU64,
  writeGuestU16,
  writeGuestU32,
  writeGuestU64,
} from "../guest-memory.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "../testing/fake-machine.js";

const mo = Hypercall.memory_op;

function setup(arch = {}) {
  const { machine } = fakeMachine(arch, { memoryMiB: 2 });
  const dom0 = addFakeDomain(machine, { privileged: true, pages: 2 });
  const domU = addFakeDomain(machine, { pages: 3 });
  domU.maxPages = 100;
  return { machine, dom0, domU };
}

function domidArg(d: Domain, domid: number) {
  writeGuestU16(d.vcpus[0], DATA_VA, domid);
  return DATA_VA;
}

describe("memory_op", () => {
  it("maximum_ram_page is the number of machine frames; a start extent is -EINVAL", () => {
    const { domU } = setup();
    expect(hypercall(domU, mo, [MemoryOp.maximum_ram_page, 0])).toBe(512);
    expect(hypercall(domU, mo, [MemoryOp.maximum_ram_page | (1 << 6), 0])).toBe(-Errno.EINVAL);
  });

  it("reservations of self (DOMID_SELF or own id) and, for dom0, of others", () => {
    const { dom0, domU } = setup();
    expect(hypercall(domU, mo, [MemoryOp.current_reservation, domidArg(domU, 0x7ff0)])).toBe(3);
    expect(hypercall(domU, mo, [MemoryOp.current_reservation, domidArg(domU, domU.id)])).toBe(3);
    expect(hypercall(domU, mo, [MemoryOp.maximum_reservation, domidArg(domU, 0x7ff0)])).toBe(100);
    expect(hypercall(dom0, mo, [MemoryOp.maximum_reservation, domidArg(dom0, domU.id)])).toBe(100);
    expect(hypercall(dom0, mo, [MemoryOp.current_reservation, domidArg(dom0, domU.id)])).toBe(3);
  });

  it("another domain's figures: -EPERM unprivileged, -ESRCH when missing (checked first)", () => {
    const { dom0, domU } = setup();
    for (const op of [
      MemoryOp.current_reservation,
      MemoryOp.maximum_reservation,
      MemoryOp.maximum_gpfn,
    ]) {
      expect(hypercall(domU, mo, [op, domidArg(domU, dom0.id)])).toBe(-Errno.EPERM);
      expect(hypercall(domU, mo, [op, domidArg(domU, 77)])).toBe(-Errno.ESRCH);
      expect(hypercall(dom0, mo, [op, domidArg(dom0, 0x7ff2)])).toBe(-Errno.ESRCH);
      expect(hypercall(domU, mo, [op, 0])).toBe(-Errno.EFAULT);
      expect(hypercall(domU, mo, [op | (5 << 6), domidArg(domU, 0x7ff0)])).toBe(-Errno.EINVAL);
    }
  });

  it("maximum_gpfn is the highest populated guest frame", () => {
    const { domU } = setup();
    expect(hypercall(domU, mo, [MemoryOp.maximum_gpfn, domidArg(domU, 0x7ff0)])).toBe(0);
    domU.p2m = Int32Array.from([5, 6, -1, 9, -1, -1]);
    expect(hypercall(domU, mo, [MemoryOp.maximum_gpfn, domidArg(domU, 0x7ff0)])).toBe(3);
  });

  it("memory_map: -ENOSYS with no map (as Xen); copies up to nr_entries 20-byte entries", () => {
    const { domU } = setup();
    const v = domU.vcpus[0];
    const buffer = DATA_VA + 0x100n;
    writeGuestU32(v, DATA_VA, 8);
    writeGuestU64(v, DATA_VA + 8n, buffer);
    expect(hypercall(domU, mo, [MemoryOp.memory_map, DATA_VA])).toBe(-Errno.ENOSYS);
    domU.memoryMap = [
      { addr: 0n, size: 0x9f000n, type: 1 },
      { addr: 0x9f000n, size: 0x61000n, type: 2 },
      { addr: 0x100000n, size: 0x7f00000n, type: 1 },
    ];
    expect(hypercall(domU, mo, [MemoryOp.memory_map, DATA_VA])).toBe(0);
    expect(readGuestU32(v, DATA_VA)).toBe(3);
    expect(readGuestU64(v, buffer + 20n)).toBe(0x9f000n);
    expect(readGuestU64(v, buffer + 28n)).toBe(0x61000n);
    expect(readGuestU32(v, buffer + 36n)).toBe(2);
    expect(readGuestU64(v, buffer + 40n)).toBe(0x100000n);
    expect(readGuestU32(v, buffer + 56n)).toBe(1);
    writeGuestU32(v, DATA_VA, 1);
    writeGuestU32(v, buffer + 20n, 0xeeeeeeee);
    expect(hypercall(domU, mo, [MemoryOp.memory_map, DATA_VA])).toBe(0);
    expect(readGuestU32(v, DATA_VA)).toBe(1);
    expect(readGuestU32(v, buffer + 20n)).toBe(0xeeeeeeee); // only one entry written
    writeGuestU64(v, DATA_VA + 8n, 0x7000000n);
    expect(hypercall(domU, mo, [MemoryOp.memory_map, DATA_VA])).toBe(-Errno.EFAULT);
    expect(hypercall(domU, mo, [MemoryOp.memory_map, 0])).toBe(-Errno.EFAULT);
  });

  it("set_memory_map (x86): -EFAULT, > E820MAX -EINVAL, -ESRCH; replaces the map; 0 entries: none", () => {
    const { domU } = setup();
    const v = domU.vcpus[0];
    const buffer = DATA_VA + 0x100n;
    // xen_foreign_memory_map: domid at 0, map.nr_entries at 8, map.buffer at 16 (LP64).
    writeGuestU32(v, DATA_VA, 0x7ff0);
    writeGuestU32(v, DATA_VA + 8n, 2);
    writeGuestU64(v, DATA_VA + 16n, buffer);
    writeGuestU64(v, buffer + 20n, 0x100000n);
    writeGuestU64(v, buffer + 28n, 0x1000n);
    writeGuestU32(v, buffer + 36n, 1);
    const set = MemoryOp.set_memory_map;
    expect(hypercall(domU, mo, [set, DATA_VA])).toBe(0);
    expect(domU.memoryMap?.[1]).toEqual({ addr: 0x100000n, size: 0x1000n, type: 1 });
    writeGuestU32(v, DATA_VA + 8n, 1025);
    expect(hypercall(domU, mo, [set, DATA_VA])).toBe(-Errno.EINVAL);
    writeGuestU32(v, DATA_VA + 8n, 2);
    writeGuestU64(v, DATA_VA + 16n, 0x7000000n);
    expect(hypercall(domU, mo, [set, DATA_VA])).toBe(-Errno.EFAULT);
    expect(domU.memoryMap?.length).toBe(2);
    expect(hypercall(domU, mo, [set, 0])).toBe(-Errno.EFAULT);
    writeGuestU32(v, DATA_VA, 77);
    expect(hypercall(domU, mo, [set, DATA_VA])).toBe(-Errno.ESRCH);
    writeGuestU32(v, DATA_VA, 0x7ff0);
    writeGuestU32(v, DATA_VA + 8n, 0);
    expect(hypercall(domU, mo, [set, DATA_VA])).toBe(0);
    expect(domU.memoryMap).toEqual([]);
  });

  it("memory_map uses the guest's struct layout (x86_32: buffer at offset 4, 4 bytes)", () => {
    const { domU } = setup({ wordBits: 32, dataModel: "x86_32" });
    const v = domU.vcpus[0];
    domU.memoryMap = [{ addr: 0n, size: 0x1000000n, type: 1 }];
    writeGuestU32(v, DATA_VA, 4);
    writeGuestU32(v, DATA_VA + 4n, Number(DATA_VA) + 0x40);
    expect(hypercall(domU, mo, [MemoryOp.memory_map, DATA_VA])).toBe(0);
    expect(readGuestU64(v, DATA_VA + 0x48n)).toBe(0x1000000n);
  });

  it("other operations go to the arch hook, else -ENOSYS", () => {
    const plain = setup();
    for (const op of [5, 10, 12, 15, 28, 40, 63]) {
      expect(hypercall(plain.domU, mo, [op, DATA_VA])).toBe(-Errno.ENOSYS);
    }
    const seen: [number, bigint, bigint][] = [];
    const hooked = setup({
      memoryOp: (_ctx: unknown, op: number, cmd: bigint, arg: bigint) => (
        seen.push([op, cmd, arg]),
        op === 12 ? 0 : -38
      ),
    });
    expect(hypercall(hooked.domU, mo, [MemoryOp.machphys_mapping, DATA_VA])).toBe(0);
    expect(hypercall(hooked.domU, mo, [MemoryOp.machphys_mfn_list | (3 << 6), 8])).toBe(
      -Errno.ENOSYS,
    );
    expect(seen).toEqual([
      [12, 12n, DATA_VA],
      [5, 5n | (3n << 6n), 8n],
    ]);
  });
});
