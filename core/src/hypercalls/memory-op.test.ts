import { describe, expect, it } from "vitest";
import { Hypercall, MemoryOp } from "../abi/numbers.js";
import type { Domain } from "../domain.js";
import { Errno } from "../errno.js";
import { writeGuestU16 } from "../guest-memory.js";
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

  it("maximum_gpfn without the arch hook is the highest populated guest frame", () => {
    const { domU } = setup();
    expect(hypercall(domU, mo, [MemoryOp.maximum_gpfn, domidArg(domU, 0x7ff0)])).toBe(0);
    domU.p2m = Int32Array.from([5, 6, -1, 9, -1, -1]);
    expect(hypercall(domU, mo, [MemoryOp.maximum_gpfn, domidArg(domU, 0x7ff0)])).toBe(3);
  });

  it("maximum_gpfn is the arch's domain_get_maximum_gpfn when it has one, for the domain named", () => {
    const asked: number[] = [];
    const { machine, dom0, domU } = setup();
    Object.assign(machine.arch, {
      maximumGpfn: (_m: unknown, d: Domain): bigint => {
        asked.push(d.id);
        return BigInt(d.id) * 1000n + 7n;
      },
    });
    domU.p2m = Int32Array.from([5, 6, -1, 9]);
    expect(hypercall(domU, mo, [MemoryOp.maximum_gpfn, domidArg(domU, 0x7ff0)])).toBe(
      BigInt(domU.id) * 1000n + 7n,
    );
    expect(hypercall(dom0, mo, [MemoryOp.maximum_gpfn, domidArg(dom0, domU.id)])).toBe(
      BigInt(domU.id) * 1000n + 7n,
    );
    // Checks first: the hook is not asked for a domain the caller may not see.
    expect(hypercall(domU, mo, [MemoryOp.maximum_gpfn, domidArg(domU, dom0.id)])).toBe(
      -Errno.EPERM,
    );
    expect(asked).toEqual([domU.id, domU.id]);
  });

  it("other operations go to the arch hook, else -ENOSYS", () => {
    const plain = setup();
    for (const op of [5, 9, 10, 12, 13, 15, 28, 40, 63]) {
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
    // The memory map is the arch's (x86: e820): the core passes memory_map on.
    expect(hypercall(hooked.domU, mo, [MemoryOp.memory_map, DATA_VA])).toBe(-Errno.ENOSYS);
    expect(hypercall(hooked.domU, mo, [MemoryOp.machphys_mfn_list | (3 << 6), 8])).toBe(
      -Errno.ENOSYS,
    );
    expect(seen).toEqual([
      [12, 12n, DATA_VA],
      [9, 9n, DATA_VA],
      [5, 5n | (3n << 6n), 8n],
    ]);
  });
});
