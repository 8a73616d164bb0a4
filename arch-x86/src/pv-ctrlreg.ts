/**
 * Control registers of a PV guest as Xen 4.19 presents them, 64-bit and 32-bit alike. The
 * guest kernel runs in ring 3 (ring 1 for a 32-bit one), so its `mov` to and from %crN,
 * and `clts`, fault (#GP) and reach Xen's privileged-op emulator (pv/emul-priv-op.c
 * read_cr / write_cr); this file is that part.
 *
 * - CR0: the guest reads Xen's own CR0 with TS replaced by its own (the virtual TS of
 *   fpu_taskswitch). Only TS is the guest's: a write that changes any other bit is
 *   refused (write_cr: "Attempt to change unmodifiable CR0 flags", the #GP is delivered).
 * - CR2: the last page-fault address; a write also updates vcpu_info's arch.cr2.
 * - CR3: the kernel page-table base (new_guest_cr3), in the guest's encoding: a 32-bit
 *   guest's frame number is rotated into the register (compat_pfn_to_cr3).
 * - CR4: the guest's own view (arch.pv.ctrlreg[4]). A write never faults: it is filtered
 *   by pv_fixup_guest_cr4 (pv/domain.c) — the guest keeps the bits of PV_CR4_GUEST_MASK
 *   (TSD, DE, FSGSBASE, OSXSAVE) that its CPUID policy offers, and sees the bits of
 *   PV_CR4_GUEST_VISIBLE_MASK (PAE, MCE, OSFXSR, OSXMMEXCPT) as Xen set them on the host,
 *   whatever it wrote. What the CPU actually runs with is pv_make_cr4's value: the host's
 *   CR4 with the guest's TSD and FSGSBASE choices.
 * - Other control registers (CR1, CR5–CR15, CR8 included): #GP, as read_cr/write_cr
 *   return X86EMUL_UNHANDLEABLE for them.
 *
 * The modelled host (`hvkit virtual x86_64 CPU`, cpuid.ts) runs Xen with CR4 =
 * PAE | PGE | MCE | OSFXSR | OSXMMEXCPT | FSGSBASE, plus OSXSAVE when its CPUID offers
 * XSAVE (setup.c, mcheck_init, xstate_init; no SMEP, SMAP, PCID or XPTI).
 *
 * @module
 */
import { cpuidPolicy } from "./cpuid.js";
import type { X86CpuApi } from "./cpu-api.js";

/** What read_cr/write_cr use of a PV vCPU (x86_64's PvVcpu, x86's Pv32Vcpu). */
export interface PvCtrlRegVcpu {
  /** The vCPU's CPU (pv_make_cr4's value goes to its CR4). */
  readonly cpu: X86CpuApi;
  /** The virtual CR0.TS (fpu_taskswitch, clts). */
  cr0Ts: boolean;
  /** The guest's view of CR4 (arch.pv.ctrlreg[4]). */
  cr4: number;
  /** CR2 as the guest reads it. */
  readCr2(): bigint;
  /** A CR2 write: the vCPU's CR2 and vcpu_info's arch.cr2. */
  writeCr2(value: bigint): void;
  /** CR3 as the guest reads it (xen_pfn_to_cr3 or compat_pfn_to_cr3 of the kernel table). */
  readCr3(): bigint;
  /** A CR3 write: new_guest_cr3 of the frame the value names; 0 or −errno. */
  writeCr3(value: bigint): number;
}

/** CR0 bits (x86-defns.h). */
export const Cr0 = {
  /** Protection enable. */ PE: 0x1,
  /** Monitor coprocessor. */ MP: 0x2,
  /** Emulate coprocessor. */ EM: 0x4,
  /** Task switched. */ TS: 0x8,
  /** Extension type. */ ET: 0x10,
  /** Numeric error. */ NE: 0x20,
  /** Write protect. */ WP: 0x10000,
  /** Alignment mask. */ AM: 0x40000,
  /** Paging. */ PG: 0x80000000,
} as const;

/** CR4 bits (x86-defns.h). */
export const Cr4 = {
  /** Time stamp disable: rdtsc faults outside ring 0. */ TSD: 0x4,
  /** Debugging extensions. */ DE: 0x8,
  /** Physical address extension. */ PAE: 0x20,
  /** Machine-check enable. */ MCE: 0x40,
  /** Global pages. */ PGE: 0x80,
  /** OS supports fxsave/fxrstor. */ OSFXSR: 0x200,
  /** OS handles unmasked SIMD exceptions. */ OSXMMEXCPT: 0x400,
  /** rd/wr{fs,gs}base enabled. */ FSGSBASE: 0x10000,
  /** Process-context identifiers. */ PCIDE: 0x20000,
  /** OS supports xsave. */ OSXSAVE: 0x40000,
  /** Protection keys. */ PKE: 0x400000,
} as const;

/**
 * Xen's own CR0 (boot/trampoline.S, efi-boot.h): PE | MP | ET | NE | WP | AM | PG. What a
 * PV guest reads, with TS its own.
 */
export const XEN_CR0 = 0x80050033;

/** PV_CR4_GUEST_MASK (asm/pv/domain.h): the bits a PV guest toggles in its view of CR4. */
export const PV_CR4_GUEST_MASK = Cr4.TSD | Cr4.DE | Cr4.FSGSBASE | Cr4.OSXSAVE;

/** PV_CR4_GUEST_VISIBLE_MASK: the host's settings a PV guest may observe. */
export const PV_CR4_GUEST_VISIBLE_MASK = Cr4.PAE | Cr4.MCE | Cr4.OSFXSR | Cr4.OSXMMEXCPT;

const cpuid = new Uint32Array(4);

/**
 * mmu_cr4_features of the modelled host: XEN_MINIMAL_CR4 (PAE, PGE), MCE (mcheck_init,
 * the host has MCE and MCA), OSFXSR | OSXMMEXCPT (setup.c, always on x86_64), FSGSBASE
 * (the host has it), OSXSAVE when CPUID offers XSAVE (xstate_init).
 */
export function hostCr4(): number {
  cpuidPolicy(1, 0, cpuid);
  const xsave = (cpuid[2] & (1 << 26)) !== 0;
  return (
    Cr4.PAE |
    Cr4.PGE |
    Cr4.MCE |
    Cr4.OSFXSR |
    Cr4.OSXMMEXCPT |
    Cr4.FSGSBASE |
    (xsave ? Cr4.OSXSAVE : 0)
  );
}

/**
 * pv_fixup_guest_cr4: the guest-visible CR4 after the guest (or a vcpu_guest_context)
 * asked for `cr4`. Guest-controllable bits its CPUID policy lacks are discarded (TSD
 * without TSC, DE without DE, FSGSBASE without FSGSBASE, OSXSAVE without XSAVE); other
 * bits are ignored; the visible host bits are always there.
 */
export function pvFixupGuestCr4(cr4: number): number {
  cpuidPolicy(1, 0, cpuid);
  const edx = cpuid[3];
  const ecx = cpuid[2];
  cpuidPolicy(7, 0, cpuid);
  const ebx7 = cpuid[1];
  const refused =
    ((edx & (1 << 4)) === 0 ? Cr4.TSD : 0) |
    ((edx & (1 << 2)) === 0 ? Cr4.DE : 0) |
    ((ebx7 & 1) === 0 ? Cr4.FSGSBASE : 0) |
    ((ecx & (1 << 26)) === 0 ? Cr4.OSXSAVE : 0);
  return ((cr4 & ~refused & PV_CR4_GUEST_MASK) | (hostCr4() & PV_CR4_GUEST_VISIBLE_MASK)) >>> 0;
}

/**
 * pv_make_cr4: the CR4 the CPU runs guest `v` with: the host's, less PCIDE, PKE and TSD,
 * with TSD when the guest set it (hvkit's TSC is never virtualised by trapping, Xen's
 * `vtsc`), and FSGSBASE only when the guest set it (a 64-bit PV kernel must not have the
 * instructions enabled behind its back, XSA-293). PGE stays (no XPTI, no PCID).
 */
export function pvMakeCr4(guestCr4: number): number {
  let cr4 = hostCr4() & ~(Cr4.PCIDE | Cr4.TSD | Cr4.PKE);
  if (guestCr4 & Cr4.TSD) cr4 |= Cr4.TSD;
  if (!(guestCr4 & Cr4.FSGSBASE)) cr4 &= ~Cr4.FSGSBASE;
  return cr4 >>> 0;
}

/**
 * Sets the guest's view of CR4 to pv_fixup_guest_cr4(`cr4`) and loads pv_make_cr4 into the
 * CPU (write_cr's CR4 case; arch_set_info_guest).
 */
export function setGuestCr4(v: PvCtrlRegVcpu, cr4: number): void {
  v.cr4 = pvFixupGuestCr4(cr4);
  v.cpu.cr4 = pvMakeCr4(v.cr4);
}

/**
 * read_cr: the value `mov %crN, reg` gives the guest kernel, or null for a control
 * register Xen does not emulate (the #GP stands).
 */
export function readCr(v: PvCtrlRegVcpu, cr: number): bigint | null {
  switch (cr) {
    case 0:
      return BigInt((XEN_CR0 | (v.cr0Ts ? Cr0.TS : 0)) >>> 0);
    case 2:
      return v.readCr2();
    case 3:
      return v.readCr3();
    case 4:
      return BigInt(v.cr4);
    default:
      return null;
  }
}

/**
 * write_cr: `mov reg, %crN` from the guest kernel. Returns false when Xen refuses (a CR0
 * write changing more than TS, a CR3 that is not a valid L4 of the guest's, another
 * register): the #GP stands.
 */
export function writeCr(v: PvCtrlRegVcpu, cr: number, val: bigint): boolean {
  switch (cr) {
    case 0:
      if ((val ^ BigInt(XEN_CR0)) & ~BigInt(Cr0.TS)) return false;
      v.cr0Ts = (val & BigInt(Cr0.TS)) !== 0n;
      return true;
    case 2:
      v.writeCr2(val);
      return true;
    case 3:
      return v.writeCr3(val) === 0;
    case 4:
      // CR4 is 64 bits wide in long mode; no bit above 31 is one a PV guest may hold.
      setGuestCr4(v, Number(val & 0xffffffffn));
      return true;
    default:
      return false;
  }
}
