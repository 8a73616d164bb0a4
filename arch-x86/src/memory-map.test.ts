/**
 * XENMEM_memory_map and XENMEM_set_memory_map (x86's arch_memory_op), reached through the
 * core's memory_op and the arch's memoryOp hook, for 64-bit and 32-bit guests. The test
 * arch (no optional hook but memoryOp) has vCPUs that see machine memory identity-mapped
 * (va = pa) above the first page.
 */
import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { container } from "tsyringe";
import {
  createMachine,
  createStubArchPlugin,
  Errno,
  Hypercall,
  HypercallArgs,
  MemoryOp,
  readGuestU32,
  readGuestU64,
  writeGuestU32,
  writeGuestU64,
  type ArchPlugin,
  type ArchVcpu,
  type DataModel,
  type Domain,
} from "@hvkit/core";
import { toyArchIdentity } from "@hvkit/core/testing";
import { X86_32_DATA_MODEL, X86_64_DATA_MODEL } from "./data-model.js";
import { E820MAX, e820MemoryOp, hostE820, type E820ArchTypes } from "./memory-map.js";

const MEMORY = 1 << 20;
const ARG = 0x2000n;
const BUFFER = 0x3000n;

function e820Arch(model: DataModel): ArchPlugin<E820ArchTypes> {
  const identity = toyArchIdentity("e820-test", {
    dataModel: model,
    wordBits: model.long === 4 ? 32 : 64,
  });
  const stub = createStubArchPlugin(identity);
  return {
    ...identity,
    buildDomain: stub.buildDomain,
    disassemble: stub.disassemble,
    guestAgent: stub.guestAgent,
    hypercalls: () => [],
    createDomainState: () => ({ memoryMap: null }),
    createVcpu: () =>
      ({
        translate: (va: bigint) => (va >= 0x1000n && va < BigInt(MEMORY) ? Number(va) : -1),
      }) as unknown as ArchVcpu,
    memoryOp: (ctx, op, _cmd, arg) => e820MemoryOp(ctx, op, arg),
  };
}

function setup(model: DataModel = X86_64_DATA_MODEL) {
  const machine = createMachine(container.createChildContainer(), {
    arch: e820Arch(model),
    memoryMiB: 1,
  });
  const dom0 = machine.createDomain({ privileged: true, mode: "pv", vcpus: 1, id: 0 });
  const domU = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
  const memoryOp = (d: Domain<E820ArchTypes>, op: number, arg: bigint): number => {
    const a = new HypercallArgs();
    a.set(0, op, 0);
    a.set(1, Number(arg & 0xffffffffn), Number(arg >> 32n));
    return Number(machine.dispatchHypercall(d.vcpus[0], Hypercall.memory_op, a));
  };
  return { machine, dom0, domU, memoryOp };
}

describe("x86 memory map (e820)", () => {
  it("memory_map: -ENOSYS with no map (as Xen); copies up to nr_entries 20-byte entries", () => {
    const { domU, memoryOp } = setup();
    const v = domU.vcpus[0];
    writeGuestU32(v, ARG, 8);
    writeGuestU64(v, ARG + 8n, BUFFER);
    expect(memoryOp(domU, MemoryOp.memory_map, ARG)).toBe(-Errno.ENOSYS);
    domU.arch.memoryMap = [
      { addr: 0n, size: 0x9f000n, type: 1 },
      { addr: 0x9f000n, size: 0x61000n, type: 2 },
      { addr: 0x100000n, size: 0x7f00000n, type: 1 },
    ];
    expect(memoryOp(domU, MemoryOp.memory_map, ARG)).toBe(0);
    expect(readGuestU32(v, ARG)).toBe(3);
    expect(readGuestU64(v, BUFFER + 20n)).toBe(0x9f000n);
    expect(readGuestU64(v, BUFFER + 28n)).toBe(0x61000n);
    expect(readGuestU32(v, BUFFER + 36n)).toBe(2);
    expect(readGuestU64(v, BUFFER + 40n)).toBe(0x100000n);
    expect(readGuestU32(v, BUFFER + 56n)).toBe(1);
    writeGuestU32(v, ARG, 1);
    writeGuestU32(v, BUFFER + 20n, 0xeeeeeeee);
    expect(memoryOp(domU, MemoryOp.memory_map, ARG)).toBe(0);
    expect(readGuestU32(v, ARG)).toBe(1);
    expect(readGuestU32(v, BUFFER + 20n)).toBe(0xeeeeeeee); // only one entry written
    writeGuestU64(v, ARG + 8n, BigInt(MEMORY));
    expect(memoryOp(domU, MemoryOp.memory_map, ARG)).toBe(-Errno.EFAULT);
    expect(memoryOp(domU, MemoryOp.memory_map, 0n)).toBe(-Errno.EFAULT);
  });

  it("set_memory_map: -EFAULT, > E820MAX -EINVAL, -ESRCH, -EPERM; replaces the map; 0 entries: none", () => {
    const { dom0, domU, memoryOp } = setup();
    const v = domU.vcpus[0];
    // xen_foreign_memory_map: domid at 0, map.nr_entries at 8, map.buffer at 16 (LP64).
    writeGuestU32(v, ARG, 0x7ff0);
    writeGuestU32(v, ARG + 8n, 2);
    writeGuestU64(v, ARG + 16n, BUFFER);
    writeGuestU64(v, BUFFER + 20n, 0x100000n);
    writeGuestU64(v, BUFFER + 28n, 0x1000n);
    writeGuestU32(v, BUFFER + 36n, 1);
    const set = MemoryOp.set_memory_map;
    expect(memoryOp(domU, set, ARG)).toBe(0);
    expect(domU.arch.memoryMap?.[1]).toEqual({ addr: 0x100000n, size: 0x1000n, type: 1 });
    writeGuestU32(v, ARG + 8n, E820MAX + 1);
    expect(memoryOp(domU, set, ARG)).toBe(-Errno.EINVAL);
    writeGuestU32(v, ARG + 8n, 2);
    writeGuestU64(v, ARG + 16n, BigInt(MEMORY));
    expect(memoryOp(domU, set, ARG)).toBe(-Errno.EFAULT);
    expect(domU.arch.memoryMap?.length).toBe(2);
    expect(memoryOp(domU, set, 0n)).toBe(-Errno.EFAULT);
    writeGuestU32(v, ARG, 77);
    expect(memoryOp(domU, set, ARG)).toBe(-Errno.ESRCH);
    writeGuestU32(v, ARG, dom0.id);
    expect(memoryOp(domU, set, ARG)).toBe(-Errno.EPERM);
    expect(dom0.arch.memoryMap).toBeNull();
    writeGuestU32(v, ARG, 0x7ff0);
    writeGuestU32(v, ARG + 8n, 0);
    expect(memoryOp(domU, set, ARG)).toBe(0);
    expect(domU.arch.memoryMap).toEqual([]);
    expect(memoryOp(domU, MemoryOp.memory_map, ARG)).toBe(-Errno.ENOSYS);
  });

  it("the control domain sets another domain's map", () => {
    const { dom0, domU, memoryOp } = setup();
    const v = dom0.vcpus[0];
    writeGuestU32(v, ARG, domU.id);
    writeGuestU32(v, ARG + 8n, 1);
    writeGuestU64(v, ARG + 16n, BUFFER);
    writeGuestU64(v, BUFFER, 0n);
    writeGuestU64(v, BUFFER + 8n, 0x200000n);
    writeGuestU32(v, BUFFER + 16n, 1);
    expect(memoryOp(dom0, MemoryOp.set_memory_map, ARG)).toBe(0);
    expect(domU.arch.memoryMap).toEqual([{ addr: 0n, size: 0x200000n, type: 1 }]);
    expect(dom0.arch.memoryMap).toBeNull();
  });

  it("uses the guest's struct layout (x86_32: buffer at offset 4, 4 bytes)", () => {
    const { domU, memoryOp } = setup(X86_32_DATA_MODEL);
    const v = domU.vcpus[0];
    domU.arch.memoryMap = [{ addr: 0n, size: 0x1000000n, type: 1 }];
    writeGuestU32(v, ARG, 4);
    writeGuestU32(v, ARG + 4n, Number(BUFFER));
    expect(memoryOp(domU, MemoryOp.memory_map, ARG)).toBe(0);
    expect(readGuestU64(v, BUFFER + 8n)).toBe(0x1000000n);
  });

  it("other operations are not the memory map's", () => {
    const { domU, machine } = setup();
    const ctx = { machine, domain: domU, vcpu: domU.vcpus[0] };
    expect(e820MemoryOp(ctx, MemoryOp.machphys_mapping, ARG)).toBe(-Errno.ENOSYS);
  });

  it("machine_memory_map: the host's RAM and the MSI window for dom0, -EPERM for a domU", () => {
    const { dom0, domU, memoryOp } = setup();
    const v = dom0.vcpus[0];
    writeGuestU32(v, ARG, 3);
    writeGuestU64(v, ARG + 8n, BUFFER);
    writeGuestU32(v, BUFFER + 40n, 0xdeadbeef);
    expect(memoryOp(dom0, MemoryOp.machine_memory_map, ARG)).toBe(0);
    expect(readGuestU32(v, ARG)).toBe(2);
    expect(readGuestU64(v, BUFFER)).toBe(0n);
    expect(readGuestU64(v, BUFFER + 8n)).toBe(BigInt(MEMORY));
    expect(readGuestU32(v, BUFFER + 16n)).toBe(1);
    expect(readGuestU64(v, BUFFER + 20n)).toBe(0xfee00000n);
    expect(readGuestU64(v, BUFFER + 28n)).toBe(0x100000n);
    expect(readGuestU32(v, BUFFER + 36n)).toBe(2);
    expect(readGuestU32(v, BUFFER + 40n)).toBe(0xdeadbeef);
    const u = domU.vcpus[0];
    writeGuestU32(u, ARG, 3);
    writeGuestU64(u, ARG + 8n, BUFFER);
    expect(memoryOp(domU, MemoryOp.machine_memory_map, ARG)).toBe(-Errno.EPERM);
  });

  it("machine_memory_map: wants a spare slot (-EINVAL), counts with a null buffer, -EFAULT", () => {
    const { dom0, memoryOp } = setup();
    const v = dom0.vcpus[0];
    writeGuestU32(v, ARG, 2);
    writeGuestU64(v, ARG + 8n, BUFFER);
    expect(memoryOp(dom0, MemoryOp.machine_memory_map, ARG)).toBe(-Errno.EINVAL);
    writeGuestU64(v, ARG + 8n, 0n);
    expect(memoryOp(dom0, MemoryOp.machine_memory_map, ARG)).toBe(0);
    expect(readGuestU32(v, ARG)).toBe(2);
    expect(memoryOp(dom0, MemoryOp.machine_memory_map, 0x10n)).toBe(-Errno.EFAULT);
    writeGuestU32(v, ARG, 8);
    writeGuestU64(v, ARG + 8n, BigInt(MEMORY) - 8n);
    expect(memoryOp(dom0, MemoryOp.machine_memory_map, ARG)).toBe(-Errno.EFAULT);
  });

  it("hostE820: a machine reaching the MSI window loses the frames under it", () => {
    expect(hostE820(0x100000000n)).toEqual([
      { addr: 0n, size: 0xfee00000n, type: 1 },
      { addr: 0xfee00000n, size: 0x100000n, type: 2 },
      { addr: 0xfef00000n, size: 0x1100000n, type: 1 },
    ]);
    expect(hostE820(0xfef00000n)).toHaveLength(2);
  });
});
