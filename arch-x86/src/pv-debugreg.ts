/**
 * PV debug registers as Xen provides them: the set_debugreg / get_debugreg hypercalls
 * (pv/misc-hypercalls.c set_debugreg, do_get_debugreg) and the guest kernel's `mov` to
 * and from %drN, emulated through the privileged-op path (pv/emul-priv-op.c, read_dr and
 * write_dr; x86_emulate/util-xen.c x86emul_read_dr / x86emul_write_dr).
 *
 * Shared by both PV kinds (a 32-bit guest's registers and hypercall arguments are 32
 * bits wide). The values live in the CPU model (its breakpoints act on them); what Xen
 * keeps beside the hardware registers lives on the vCPU ({@link PvDebugRegVcpu}): the
 * guest's CR4.DE and the shadow of I/O breakpoints (`dr7_emul`), which never reach
 * hardware DR7.
 *
 * @module
 */
import {
  Errno,
  type ArchTypes,
  type ArchVcpu,
  type HypercallArgs,
  type HypercallContext,
} from "@hvkit/core";
import { Reg, Vector, type X86CpuApi } from "./cpu-api.js";
import { Dr6, Dr7 } from "./debug.js";

/** What the debug-register emulation uses of a PV vCPU (x86_64's PvVcpu, x86's Pv32Vcpu). */
export interface PvDebugRegVcpu {
  /** The vCPU's CPU, which holds DR0–DR3, DR6 and DR7. */
  readonly cpu: X86CpuApi;
  /** The guest's CR4.DE (DR4/DR5 invalid, I/O breakpoints allowed). */
  readonly cr4De: boolean;
  /** Enables of the guest's I/O breakpoints, kept out of hardware DR7 (pv.dr7_emul). */
  dr7Emul: number;
}

/** The arch types the debug-register hypercalls serve. */
export interface PvDebugRegArchTypes extends ArchTypes {
  /** The vCPU. */
  readonly vcpu: ArchVcpu & PvDebugRegVcpu;
}

/** End of the hypervisor's hole: breakpoints may sit at or above it, or below 2^47. */
const HYPERVISOR_VIRT_END = 0xffff880000000000n;

/** Xen's breakpoint_addr_ok (`__addr_ok`): the lower canonical half, or above Xen's range. */
export function breakpointAddrOk(a: bigint): boolean {
  return a < 1n << 47n || a >= HYPERVISOR_VIRT_END;
}

/**
 * set_debugreg(v, reg, value): 0, or −EPERM (a breakpoint address in Xen's range; DR7.GD;
 * an I/O breakpoint without CR4.DE), −EINVAL (DR6/DR7 upper 32 bits), −ENODEV (DR4/DR5
 * with CR4.DE, registers above 7). DR6 and DR7 get their fixed bits (x86_adj_dr6_rsvd /
 * x86_adj_dr7_rsvd, for a CPU without RTM or bus-lock detect).
 */
export function setDebugreg(v: PvDebugRegVcpu, reg: number, value: bigint): number {
  const cpu = v.cpu;
  switch (reg) {
    case 0:
    case 1:
    case 2:
    case 3:
      if (!breakpointAddrOk(value)) return -Errno.EPERM;
      cpu.setDebugReg(reg, value);
      return 0;
    case 4:
    case 6: {
      if (reg === 4 && v.cr4De) return -Errno.ENODEV;
      if (value >> 32n !== 0n) return -Errno.EINVAL;
      const dr6 = (Number(value) | Dr6.DEFAULT) & ~Dr6.ZEROS;
      cpu.setDebugReg(6, BigInt(dr6 >>> 0));
      return 0;
    }
    case 5:
    case 7: {
      if (reg === 5 && v.cr4De) return -Errno.ENODEV;
      if (value >> 32n !== 0n) return -Errno.EINVAL;
      let dr7 = ((Number(value) & ~(Dr7.ZEROS | Dr7.RTM)) | Dr7.DEFAULT) >>> 0;
      if ((dr7 & Dr7.GD) !== 0) return -Errno.EPERM;
      let ioEnable = 0;
      if ((dr7 & Dr7.ACTIVE) !== 0) {
        for (let i = 0; i < 4; i++) {
          if (((dr7 >>> (16 + 4 * i)) & 3) !== Dr7.RW_IO) continue;
          if (!v.cr4De) return -Errno.EPERM;
          ioEnable |= dr7 & (3 << (2 * i));
        }
      }
      // I/O breakpoints are emulated (pv.dr7_emul): hardware DR7 never enables them.
      v.dr7Emul = ioEnable;
      dr7 = (dr7 & ~ioEnable) >>> 0;
      cpu.setDebugReg(7, BigInt(dr7));
      return 0;
    }
    default:
      return -Errno.ENODEV;
  }
}

/**
 * x86emul_read_dr / do_get_debugreg: the value of DRn, or −ENODEV (DR4/DR5 with CR4.DE,
 * registers above 7). DR7 reads back with the emulated I/O breakpoint enables.
 */
export function getDebugreg(v: PvDebugRegVcpu, reg: number): bigint | number {
  const cpu = v.cpu;
  if (reg <= 3) return reg < 0 ? -Errno.ENODEV : cpu.getDebugReg(reg);
  if ((reg === 4 || reg === 5) && v.cr4De) return -Errno.ENODEV;
  if (reg === 4 || reg === 6) return cpu.getDebugReg(6);
  if (reg === 5 || reg === 7) return cpu.getDebugReg(7) | BigInt(v.dr7Emul);
  return -Errno.ENODEV;
}

/**
 * Emulates `mov %drN, reg` (0F 21) and `mov reg, %drN` (0F 23) from the guest kernel, as
 * Xen's privileged-op emulator does, decoded in the CPU's current code size (REX and
 * 64-bit registers only in 64-bit code): returns 0 when done (rip advanced), −1 when the
 * instruction is not one of these, or the vector to deliver instead — #UD for −ENODEV
 * (DR4/DR5 with CR4.DE, DR8–DR15), #GP(0) for −EINVAL/−EPERM.
 */
export function emulateMovDr(v: PvDebugRegVcpu, bytes: (i: number) => number): number {
  const long = v.cpu.codeSize === 64;
  let i = 0;
  let rex = 0;
  let b = bytes(i);
  while (long && b >= 0x40 && b <= 0x4f) {
    rex = b;
    b = bytes(++i);
  }
  if (b !== 0x0f) return -1;
  const op = bytes(++i);
  if (op !== 0x21 && op !== 0x23) return -1;
  const modrm = bytes(++i);
  if (modrm < 0) return -1;
  const dr = ((modrm >> 3) & 7) | (rex & 4 ? 8 : 0);
  const reg = ((modrm & 7) | (rex & 1 ? 8 : 0)) as Reg;
  const cpu = v.cpu;
  if (op === 0x21) {
    const val = getDebugreg(v, dr);
    if (typeof val === "number") return Vector.UD;
    cpu.setReg(reg, long ? val : val & 0xffffffffn);
  } else {
    const rc = setDebugreg(v, dr, long ? cpu.getReg(reg) : BigInt(cpu.getReg32(reg)));
    if (rc === -Errno.ENODEV) return Vector.UD;
    if (rc !== 0) return Vector.GP;
  }
  cpu.rip += BigInt(i + 1);
  return 0;
}

/** HYPERVISOR_set_debugreg(reg, value) (do_set_debugreg). `reg` is an int in Xen. */
export function setDebugregHypercall(
  ctx: HypercallContext<PvDebugRegArchTypes>,
  args: HypercallArgs,
): number {
  const reg = args.i32(0);
  return reg < 0 ? -Errno.ENODEV : setDebugreg(ctx.vcpu.arch, reg, args.u64(1));
}

/** HYPERVISOR_get_debugreg(reg) (do_get_debugreg): the value, or −ENODEV. */
export function getDebugregHypercall(
  ctx: HypercallContext<PvDebugRegArchTypes>,
  args: HypercallArgs,
): number | bigint {
  const reg = args.i32(0);
  return reg < 0 ? -Errno.ENODEV : getDebugreg(ctx.vcpu.arch, reg);
}
