/**
 * A PowerPC vCPU's registers as `vcpu_guest_context` (`arch-powerpc.h`): loaded by
 * VCPUOP_initialise and domctl setvcpucontext (Xen/ppc's `arch_set_info_guest` copied
 * `user_regs` and did not load `sdr1`), saved for domctl getvcpucontext.
 *
 * @module
 */
import { copyToGuest, Errno, type DataModel, type HypercallContext } from "@hvkit/core";
import { MSR_SF, VCPU_GUEST_CONTEXT_PPC } from "./abi.js";
import { Msr, Spr } from "./cpu/cpu-api.js";
import type { PpcCpu } from "./cpu/cpu.js";

/** Registers of `cpu_user_regs` that are SPRs, by field name. */
const USER_SPRS: readonly [string, number][] = [
  ["lr", Spr.LR],
  ["ctr", Spr.CTR],
  ["srr0", Spr.SRR0],
  ["srr1", Spr.SRR1],
  ["dar", Spr.DAR],
];

const spr64 = (cpu: PpcCpu, n: number): bigint =>
  (BigInt(cpu.sprHi[n]! >>> 0) << 32n) | BigInt(cpu.sprLo[n]! >>> 0);

/**
 * Loads `context` (a `vcpu_guest_context` in `model`'s layout) into `cpu`: GPRs, LR, CTR,
 * SRR0/1, DAR, pc, XER, CR and the MSR — of which SF and the low word are the guest's
 * (HV and ME are never set from a context, LE stays 0: big-endian only).
 */
export function loadPpcGuestContext(cpu: PpcCpu, model: DataModel, context: DataView): void {
  const l = VCPU_GUEST_CONTEXT_PPC.layout(model);
  const u = (path: string): bigint => l.getBigInt(context, 0, `user_regs.${path}`);
  for (let r = 0; r < 32; r++) cpu.setGpr(r, u(`gprs.${r}`));
  for (const [name, spr] of USER_SPRS) {
    const v = u(name);
    cpu.sprHi[spr] = Number(BigInt.asIntN(32, v >> 32n));
    cpu.sprLo[spr] = Number(BigInt.asIntN(32, v));
  }
  cpu.setPc(u("pc"));
  const msr = u("msr");
  cpu.msrHi = Number(BigInt.asIntN(32, (msr & MSR_SF) >> 32n));
  cpu.msrLo = Number(BigInt.asIntN(32, msr)) & ~(Msr.ME | 1);
  cpu.xer = Number(BigInt.asIntN(32, u("xer")));
  cpu.cr = l.getNumber(context, 0, "user_regs.cr") | 0;
}

/**
 * Writes `cpu`'s registers as a `vcpu_guest_context` at `va` of `ctx.vcpu` (the caller's
 * guest handle). Returns 0 or −EFAULT.
 */
export function savePpcGuestContext(cpu: PpcCpu, ctx: HypercallContext, va: bigint): number {
  const l = VCPU_GUEST_CONTEXT_PPC.layout(ctx.machine.arch.dataModel);
  const bytes = new Uint8Array(l.size);
  const view = new DataView(bytes.buffer);
  for (let r = 0; r < 32; r++) l.set(view, 0, `user_regs.gprs.${r}`, cpu.gpr(r));
  for (const [name, spr] of USER_SPRS) l.set(view, 0, `user_regs.${name}`, spr64(cpu, spr));
  l.set(view, 0, "user_regs.pc", cpu.pc);
  l.set(view, 0, "user_regs.msr", (BigInt(cpu.msrHi >>> 0) << 32n) | BigInt(cpu.msrLo >>> 0));
  l.set(view, 0, "user_regs.xer", BigInt(cpu.xer >>> 0));
  l.set(view, 0, "user_regs.cr", cpu.cr >>> 0);
  l.set(view, 0, "user_regs.dsisr", cpu.sprLo[Spr.DSISR]! >>> 0);
  return copyToGuest(ctx.vcpu, va, bytes) === 0 ? 0 : -Errno.EFAULT;
}
