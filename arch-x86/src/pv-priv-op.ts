/**
 * The part of Xen's privileged-op emulator (xen/arch/x86/pv/emul-priv-op.c) that both PV
 * kinds share: the IOPL-checked instructions `cli`, `sti`, `in` and `out` after the #GP(0)
 * they raise in the guest's ring (1 or 3 for a 32-bit kernel, 3 for a 64-bit one), checked
 * against the vCPU's virtual IOPL as `iopl_ok` does; and `cpuid` with CPUID faulting.
 *
 * @module
 */
import { VmAssistType, type Domain } from "@hvkit/core";
import { Reg, Vector, type X86CpuApi } from "./cpu-api.js";
import { Cr4 } from "./pv-ctrlreg.js";
import type { VcpuMsrs } from "./pv-msr.js";

/** What the IOPL checks read of a PV vCPU (x86_64's PvVcpu, x86's Pv32Vcpu). */
export interface PvIoplVcpu {
  /** The vCPU's CPU. */
  readonly cpu: X86CpuApi;
  /** The machine, whose memory holds the instruction. */
  readonly machine: { readonly memory: { readonly bytes: Uint8Array } };
  /** The domain the vCPU belongs to (its VMASST_TYPE_architectural_iopl). */
  readonly domain: Domain;
  /** Whether the guest is in kernel mode (guest_kernel_mode). */
  readonly kernelMode: boolean;
  /** The virtual IOPL in EFLAGS.IOPL's place (PHYSDEVOP_set_iopl, or iret under architectural_iopl). */
  readonly iopl: number;
}

/** The port and size of the last `in`/`out` {@link emulateIoplOp} emulated (port −1: none). */
export interface PvIoAccess {
  /** The I/O port, or −1 when the last emulated instruction was not an I/O access. */
  port: number;
  /** Its size in bytes. */
  bytes: number;
}

/**
 * iopl_ok (pv/emul-priv-op.c): whether the virtual IOPL admits the vCPU's virtual CPL,
 * 3 in guest user mode; in guest kernel mode 1, or 0 under VMASST_TYPE_architectural_iopl.
 */
export function ioplOk(v: PvIoplVcpu): boolean {
  const cpl = !v.kernelMode ? 3 : v.domain.hasVmAssist(VmAssistType.architectural_iopl) ? 0 : 1;
  return cpl << 12 <= v.iopl;
}

/**
 * The IOPL-checked instructions of Xen's privileged-op emulator, from guest kernel or
 * user mode: `cli`/`sti` and `in`/`out` with an immediate or %dx port, decoded in the
 * CPU's current code size (REX prefixes only in 64-bit code). When {@link ioplOk} refuses
 * (and, as hvkit has no I/O bitmap, always then) the #GP(0) goes to the guest. Otherwise
 * `cli`/`sti` retire with no effect (Xen leaves the upcall mask alone, X86EMUL_DONE), and
 * an I/O access goes to a port the domain has no access to: hvkit has no I/O ports, so,
 * as Xen's guest_io_read/guest_io_write do for such a port, a read gives all ones and a
 * write is dropped; `io` records the port and size (for I/O breakpoints). Returns true
 * when emulated (rip advanced).
 */
export function emulateIoplOp(v: PvIoplVcpu, io: PvIoAccess): boolean {
  io.port = -1;
  const cpu = v.cpu;
  const mem = v.machine.memory.bytes;
  const user = !v.kernelMode;
  const long = cpu.codeSize === 64;
  let i = 0;
  let opsize = cpu.codeSize === 16 ? 2 : 4;
  let b = -1;
  for (; i < 15; i++) {
    const pa = cpu.translate(cpu.rip + BigInt(i), false, user);
    if (pa < 0) return false;
    b = mem[pa];
    if (b === 0x66) opsize = cpu.codeSize === 16 ? 4 : 2;
    else if (!(
      (long && b >= 0x40 && b <= 0x4f) ||
      b === 0x26 ||
      b === 0x2e ||
      b === 0x36 ||
      b === 0x3e
    ))
      break;
  }
  let len = i + 1;
  switch (b) {
    case 0xfa: // cli
    case 0xfb: // sti
      if (!ioplOk(v)) return false;
      cpu.rip += BigInt(len);
      return true;
    case 0xe4: // in $imm8, %al
    case 0xe5: // in $imm8, %(e)ax
    case 0xe6: // out %al, $imm8
    case 0xe7: // out %(e)ax, $imm8
      len++; // the port byte
      break;
    case 0xec: // in %dx, %al
    case 0xed: // in %dx, %(e)ax
    case 0xee: // out %al, %dx
    case 0xef: // out %(e)ax, %dx
      break;
    default:
      return false;
  }
  if (!ioplOk(v)) return false;
  const portPa = (b & 8) === 0 ? cpu.translate(cpu.rip + BigInt(len - 1), false, user) : -1;
  io.port = portPa >= 0 ? mem[portPa] : cpu.getReg32(Reg.RDX) & 0xffff;
  io.bytes = (b & 1) === 0 ? 1 : opsize;
  if ((b & 2) === 0) {
    // in: all ones, written as the architecture writes a register of that size.
    const rax = cpu.getReg(Reg.RAX);
    const val =
      io.bytes === 4
        ? 0xffffffffn
        : io.bytes === 2
          ? (rax & ~0xffffn) | 0xffffn
          : (rax & ~0xffn) | 0xffn;
    cpu.setReg(Reg.RAX, val);
  }
  cpu.rip += BigInt(len);
  return true;
}

/** What a PV vCPU's `cpuid` reads. */
export interface PvCpuidVcpu {
  /** The vCPU's CPU, stopped at the cpuid (its exit says whether the form was forced). */
  readonly cpu: X86CpuApi;
  /** Whether the guest is in kernel mode. */
  readonly kernelMode: boolean;
  /** The guest's view of CR4 (its OSXSAVE). */
  readonly cr4: number;
  /** The vCPU's MSRs (CPUID faulting). */
  readonly msrs: VcpuMsrs;
  /** Scratch for the four result registers. */
  readonly cpuidOut: Uint32Array;
}

/**
 * A PV guest's `cpuid` (x86_emulate's cpuid, emul-inv-op.c for the forced form, Xen's
 * guest_cpuid): with CPUID faulting on, from guest user mode, returns false for the
 * caller to deliver #GP(0) (rip at the cpuid, after a forced prefix). Otherwise answers
 * eax..edx from `policy` with OSXSAVE as Xen gives it to PV (the guest's CR4.OSXSAVE, or
 * Xen's own, set, leaked to the kernel's forced cpuid), skips the instruction and returns
 * true.
 */
export function pvCpuid(
  v: PvCpuidVcpu,
  policy: (leaf: number, subleaf: number, out: Uint32Array, osxsave: boolean) => void,
): boolean {
  const cpu = v.cpu;
  if (!v.kernelMode && v.msrs.cpuidFaulting) {
    if (cpu.exit.forced) cpu.rip += 5n;
    return false;
  }
  const out = v.cpuidOut;
  const osxsave = (v.cr4 & Cr4.OSXSAVE) !== 0 || (cpu.exit.forced && v.kernelMode);
  policy(cpu.getReg32(Reg.RAX), cpu.getReg32(Reg.RCX), out, osxsave);
  cpu.setReg(Reg.RAX, BigInt(out[0]));
  cpu.setReg(Reg.RBX, BigInt(out[1]));
  cpu.setReg(Reg.RCX, BigInt(out[2]));
  cpu.setReg(Reg.RDX, BigInt(out[3]));
  cpu.skipInstruction();
  return true;
}

/** What `xsetbv` emulation reads and writes of a PV vCPU. */
export interface PvXsetbvVcpu {
  /** The vCPU's CPU, stopped at the instruction; its XCR0 is what the guest sets. */
  readonly cpu: X86CpuApi;
  /** Whether the guest is in kernel mode (ring 0 to the emulator). */
  readonly kernelMode: boolean;
  /** The guest's view of CR4 (its OSXSAVE). */
  readonly cr4: number;
}

/** XCR0 bits the hvkit CPU can save and restore (x87, SSE): Xen's xfeature_mask. */
const PV_XFEATURE_MASK = 3;

/**
 * `xsetbv` (0F 01 D1) after the #GP(0) it raises in the PV kernel's ring, as Xen's
 * privileged-op emulator runs it (x86_emulate/0f01.c, then x86emul_write_xcr and
 * xstate.c `handle_xsetbv`): #UD with a 66, F2 or F3 prefix or without the guest's
 * CR4.OSXSAVE; #GP(0) from guest user mode, for an XCR other than 0, or for a value
 * outside xfeature_mask or without x87 (`valid_xcr0`). `byteAt(i)` reads the
 * instruction's i-th byte (−1 when unmapped). Returns 0 when emulated (rip advanced), a
 * vector to deliver (#UD, or #GP with error code 0), or −1 when the instruction is not
 * `xsetbv`.
 */
export function emulateXsetbv(v: PvXsetbvVcpu, byteAt: (i: number) => number): number {
  let i = 0;
  let b = byteAt(0);
  let prefixed = false;
  const long = v.cpu.codeSize === 64;
  while (b === 0x66 || b === 0xf2 || b === 0xf3 || (long && b >= 0x40 && b <= 0x4f)) {
    if (b < 0x40 || b > 0x4f) prefixed = true;
    b = byteAt(++i);
  }
  if (b !== 0x0f || byteAt(i + 1) !== 0x01 || byteAt(i + 2) !== 0xd1) return -1;
  if (prefixed || (v.cr4 & Cr4.OSXSAVE) === 0) return Vector.UD;
  const cpu = v.cpu;
  if (!v.kernelMode || cpu.getReg32(Reg.RCX) !== 0) return Vector.GP;
  const hi = cpu.getReg32(Reg.RDX);
  const lo = cpu.getReg32(Reg.RAX);
  if (hi !== 0 || (lo & ~PV_XFEATURE_MASK) !== 0 || (lo & 1) === 0) return Vector.GP;
  cpu.xcr0 = lo;
  cpu.rip += BigInt(i + 3);
  return 0;
}
