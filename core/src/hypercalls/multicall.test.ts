import { describe, expect, it } from "vitest";
import { Hypercall, VcpuOp, XenVersionOp } from "../abi/numbers.js";
import { MULTICALL_ENTRY } from "../abi/xen.js";
import { DomainState } from "../domain.js";
import { Errno } from "../errno.js";
import { readGuestU64, writeGuestU64 } from "../guest-memory.js";
import type { Domain } from "../domain.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "../testing/fake-machine.js";
import { TEST_LP64_LE } from "../testing/data-models.js";

const SIZE = 64; // sizeof(multicall_entry) on x86_64: op, result, args[6]

function writeEntries(d: Domain, calls: readonly (readonly (number | bigint)[])[], base = DATA_VA) {
  const l = MULTICALL_ENTRY.layout(TEST_LP64_LE);
  expect(l.size).toBe(SIZE);
  calls.forEach((c, i) => {
    const at = base + BigInt(i * SIZE);
    writeGuestU64(d.vcpus[0], at, BigInt(c[0]));
    writeGuestU64(d.vcpus[0], at + 8n, 0xdeadn); // result, to be overwritten
    for (let a = 0; a < 6; a++) {
      writeGuestU64(
        d.vcpus[0],
        at + 16n + BigInt(8 * a),
        BigInt.asUintN(64, BigInt(c[a + 1] ?? 0)),
      );
    }
  });
}

const result = (d: Domain, i: number, base = DATA_VA) =>
  BigInt.asIntN(64, readGuestU64(d.vcpus[0], base + BigInt(i * SIZE) + 8n));

describe("multicall", () => {
  it("runs the entries in order through the dispatcher and writes back only each result", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, { vcpus: 2 });
    writeEntries(d, [
      [Hypercall.xen_version, XenVersionOp.version, 0],
      [Hypercall.vcpu_op, VcpuOp.is_up, 0, 0],
      [Hypercall.vcpu_op, VcpuOp.is_up, 1, 0],
      [99], // no such hypercall
      [Hypercall.vcpu_op, VcpuOp.is_up, 7, 0],
      [1n << 40n], // op beyond 32 bits
    ]);
    expect(hypercall(d, Hypercall.multicall, [DATA_VA, 6])).toBe(0);
    const direct = hypercall(d, Hypercall.xen_version, [XenVersionOp.version, 0]);
    expect(result(d, 0)).toBe(BigInt(direct));
    expect(result(d, 1)).toBe(1n);
    expect(result(d, 2)).toBe(0n);
    expect(result(d, 3)).toBe(BigInt(-Errno.ENOSYS));
    expect(result(d, 4)).toBe(BigInt(-Errno.ENOENT));
    expect(result(d, 5)).toBe(BigInt(-Errno.ENOSYS));
    // Op and arguments are left as the guest wrote them.
    expect(readGuestU64(d.vcpus[0], DATA_VA + BigInt(SIZE) + 16n)).toBe(BigInt(VcpuOp.is_up));
  });

  it("a multicall inside a multicall gets -EINVAL in its result; the batch goes on", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine);
    writeEntries(d, [
      [Hypercall.multicall, DATA_VA + 512n, 1],
      [Hypercall.vcpu_op, VcpuOp.is_up, 0, 0],
    ]);
    writeEntries(d, [[Hypercall.vcpu_op, VcpuOp.is_up, 0, 0]], DATA_VA + 512n);
    expect(hypercall(d, Hypercall.multicall, [DATA_VA, 2])).toBe(0);
    expect(result(d, 0)).toBe(BigInt(-Errno.EINVAL));
    expect(result(d, 1)).toBe(1n);
    expect(result(d, 0, DATA_VA + 512n)).toBe(0xdeadn); // never run
    // Not left "in a multicall": a later one works.
    expect(hypercall(d, Hypercall.multicall, [DATA_VA + 512n, 1])).toBe(0);
    expect(result(d, 0, DATA_VA + 512n)).toBe(1n);
  });

  it("-EFAULT for an unreadable entry (after running those before it) or a list past 2^64", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, { pages: 1 });
    const last = DATA_VA + 4096n - BigInt(SIZE);
    writeEntries(d, [[Hypercall.vcpu_op, VcpuOp.is_up, 0, 0]], last);
    expect(hypercall(d, Hypercall.multicall, [last, 2])).toBe(-Errno.EFAULT);
    expect(result(d, 0, last)).toBe(1n);
    expect(hypercall(d, Hypercall.multicall, [0, 1])).toBe(-Errno.EFAULT);
    expect(hypercall(d, Hypercall.multicall, [(1n << 64n) - 64n, 2])).toBe(-Errno.EFAULT);
    expect(hypercall(d, Hypercall.multicall, [0, 0])).toBe(0);
  });

  it("takes nr_calls as 32 bits, as Xen 4.19 does (the register's upper half ignored)", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, { pages: 1 });
    writeEntries(d, [
      [Hypercall.vcpu_op, VcpuOp.is_up, 0, 0],
      [Hypercall.vcpu_op, VcpuOp.is_up, 0, 0],
    ]);
    expect(hypercall(d, Hypercall.multicall, [DATA_VA, 1n << 62n])).toBe(0);
    expect(result(d, 0)).toBe(0xdeadn);
    expect(hypercall(d, Hypercall.multicall, [DATA_VA, (1n << 32n) + 1n])).toBe(0);
    expect(result(d, 0)).toBe(1n);
    expect(result(d, 1)).toBe(0xdeadn);
  });

  it("-EFAULT when a result cannot be written back (read-only list)", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine);
    writeEntries(d, [[Hypercall.vcpu_op, VcpuOp.is_up, 0, 0]]);
    const space = d.arch as { pages: Map<bigint, { mfn: number; writable: boolean }> };
    const p = space.pages.get(DATA_VA / 4096n)!;
    space.pages.set(DATA_VA / 4096n, { mfn: p.mfn, writable: false });
    expect(hypercall(d, Hypercall.multicall, [DATA_VA, 1])).toBe(-Errno.EFAULT);
  });

  it("entries act as direct calls: a shutdown inside the batch shuts the domain down", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine);
    writeGuestU64(d.vcpus[0], DATA_VA + 1024n, 0n); // sched_shutdown { reason: poweroff }
    writeEntries(d, [[Hypercall.sched_op, 2, DATA_VA + 1024n]]);
    expect(hypercall(d, Hypercall.multicall, [DATA_VA, 1])).toBe(0);
    expect(d.state).toBe(DomainState.Shutdown);
    expect(result(d, 0)).toBe(0n);
  });
});
