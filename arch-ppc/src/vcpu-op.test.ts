/**
 * VCPUOP_register_vcpu_time_memory_area on PowerPC (`vcpu-op.ts`): the handle in the
 * struct is a xencomm handle, resolved once to a guest-physical address; the copy is the
 * big-endian vcpu_time_info and follows every later update, whatever the vCPU's MSR.
 */
import { describe, expect, it } from "vitest";
import {
  Errno,
  updateVcpuSystemTime,
  VCPU_INFO,
  VCPU_TIME_INFO,
  VcpuOp,
  type Domain,
} from "@hvkit/core";
import type { PpcPv } from "./plugin.js";
import { bootSpinningDomain } from "./spinning-domain.js";
import { XENCOMM_INLINE_FLAG, XENCOMM_MAGIC } from "./xencomm.js";

const ARG = 0x4000n;
const DESC = 0x5000n;

function boot() {
  const { m, domain } = bootSpinningDomain();
  const vcpu = domain.vcpus[0]!;
  const pa = (d: Domain<PpcPv>, gpa: bigint): number =>
    d.p2m[Number(gpa >> 12n)]! * 4096 + Number(gpa & 0xfffn);
  const view = m.memory.view;
  const u64 = (gpa: bigint, v: bigint): void => view.setBigUint64(pa(domain, gpa), v, false);
  const register = (handle: bigint): number => {
    u64(ARG, handle);
    return m.arch.vcpuOp!(
      { machine: m, domain, vcpu },
      VcpuOp.register_vcpu_time_memory_area,
      vcpu,
      ARG | XENCOMM_INLINE_FLAG,
    );
  };
  const t = VCPU_TIME_INFO.layout(m.arch.dataModel);
  const primary = vcpu.vcpuInfoAddr() + VCPU_INFO.layout(m.arch.dataModel).offsetOf("time");
  const copyAt = (gpa: bigint, field: string): bigint => t.getBigInt(view, pa(domain, gpa), field);
  const descriptor = (entries: readonly bigint[]): bigint => {
    view.setUint32(pa(domain, DESC), XENCOMM_MAGIC, false);
    view.setUint32(pa(domain, DESC) + 4, entries.length, false);
    entries.forEach((e, i) => u64(DESC + 8n + 8n * BigInt(i), e));
    return DESC;
  };
  return { m, domain, vcpu, register, t, primary, copyAt, descriptor };
}

describe("ppc VCPUOP_register_vcpu_time_memory_area", () => {
  it("copies the big-endian vcpu_time_info to an inline handle's address at once and on each update", () => {
    const { m, vcpu, register, t, primary, copyAt } = boot();
    const area = 0x6008n;
    expect(register(area | XENCOMM_INLINE_FLAG)).toBe(0);
    const system = t.getBigInt(m.memory.view, primary, "system_time");
    expect(copyAt(area, "system_time")).toBe(system);
    expect(copyAt(area, "tsc_to_system_mul")).toBe(
      t.getBigInt(m.memory.view, primary, "tsc_to_system_mul"),
    );
    // An instruction-counted virtual clock: run, update, and the copy follows.
    m.run({ maxInstructions: 1000 });
    updateVcpuSystemTime(m, vcpu);
    expect(copyAt(area, "system_time")).toBeGreaterThan(system);
    expect(copyAt(area, "system_time")).toBe(t.getBigInt(m.memory.view, primary, "system_time"));
    // A null handle stops the copies.
    expect(register(0n)).toBe(0);
    const kept = copyAt(area, "system_time");
    m.run({ maxInstructions: 1000 });
    updateVcpuSystemTime(m, vcpu);
    expect(copyAt(area, "system_time")).toBe(kept);
  });

  it("resolves a descriptor handle once, to the record's guest-physical address", () => {
    const { m, vcpu, register, t, primary, copyAt, descriptor } = boot();
    expect(register(descriptor([0x7010n]))).toBe(0);
    // The descriptor is forgotten: the copies still reach 0x7010.
    descriptor([0x8000n]);
    m.run({ maxInstructions: 1000 });
    updateVcpuSystemTime(m, vcpu);
    expect(copyAt(0x7010n, "system_time")).toBe(t.getBigInt(m.memory.view, primary, "system_time"));
  });

  it("refuses handles whose record has no memory or is split by a descriptor", () => {
    const { domain, register, descriptor } = boot();
    const beyond = BigInt(domain.p2m.length) * 4096n;
    expect(register(beyond | XENCOMM_INLINE_FLAG)).toBe(-Errno.EFAULT);
    expect(register((beyond - 8n) | XENCOMM_INLINE_FLAG)).toBe(-Errno.EFAULT);
    expect(register(descriptor([0x7ff0n, 0x9000n]))).toBe(-Errno.EFAULT);
    expect(register(0x5001n)).toBe(-Errno.EFAULT); // a misaligned descriptor
  });
});
