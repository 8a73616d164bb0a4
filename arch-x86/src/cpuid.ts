/**
 * The CPUID policy hvkit shows PV guests: one fixed, deterministic CPU, claiming only
 * what the interpreter implements, plus Xen's hypervisor leaves at 0x40000000. 32-bit
 * PAE PV guests see it through {@link cpuidPolicyPv32}.
 *
 * Decisions (the interpreter covers the general-purpose integer ISA only):
 * - Vendor "GenuineIntel", family 6, model 0x0F, stepping 1; one logical CPU.
 * - Leaf 1 EDX: DE (CR4.DE: DR4/DR5 and I/O breakpoints, debugreg.ts), TSC (rdtsc on
 *   virtual time, CR4.TSD honoured), MSR (rdmsr/wrmsr emulated by the PV layer, msr.ts),
 *   PAE, MCE and MCA (Xen's virtual machine-check MSRs, msr.ts), CX8, PGE, CMOV. No FPU,
 *   MMX, SSE or SSE2: there is no x87/SSE unit to back them, so the claim would be false (a
 *   guest compiled with -mgeneral-regs-only is fine). DE, MCE and MCA are "A" features in
 *   Xen's cpufeatureset.h: every PV guest of a host that has them sees them.
 * - Leaf 1 ECX: CX16 (cmpxchg16b) and the hypervisor bit (31), as Xen sets for PV.
 * - Leaf 7 subleaf 0 EBX: FSGSBASE (rd/wr{fs,gs}base, enabled by the guest's CR4.FSGSBASE
 *   as Xen's pv_make_cr4 does; an "A" feature).
 * - Leaf 0x80000001: SYSCALL, NX, LM. 0x80000008: 40 physical / 48 virtual address bits.
 * - Xen leaves (xen/include/public/arch-x86/cpuid.h, xen/arch/x86/cpuid.c): 0x40000000
 *   signature "XenVMMXenVMM" with eax = the last Xen leaf; 0x40000001 eax = version
 *   (major << 16 | minor); 0x40000002 eax = number of hypercall pages (1), ebx = the MSR
 *   base for hypercall-page setup (0x40000000); later Xen leaves read as zero.
 * Unknown leaves read as zero.
 *
 * @module
 */

/** Xen version the hypervisor reports (XENVER_version and CPUID leaf 0x40000001). */
export const XEN_VERSION_MAJOR = 4;
/** Minor part of {@link XEN_VERSION_MAJOR}. */
export const XEN_VERSION_MINOR = 19;

/** First Xen CPUID leaf (XEN_CPUID_FIRST_LEAF). */
export const XEN_CPUID_FIRST_LEAF = 0x40000000;
/** Last Xen leaf hvkit answers (Xen's current layout reaches leaf 5). */
const XEN_CPUID_LAST_LEAF = 0x40000005;
/** MSR base for writing the hypercall page's address (as Xen reports it). */
export const XEN_HYPERCALL_MSR = 0x40000000;

const BRAND = "hvkit virtual x86_64 CPU";

/** Leaf 1 EDX: DE, TSC, MSR, PAE, MCE, CX8, PGE, MCA, CMOV. */
const CPUID1_EDX =
  (1 << 2) |
  (1 << 4) |
  (1 << 5) |
  (1 << 6) |
  (1 << 7) |
  (1 << 8) |
  (1 << 13) |
  (1 << 14) |
  (1 << 15);
/** Leaf 7 subleaf 0 EBX bit 0: FSGSBASE. */
const CPUID7_EBX_FSGSBASE = 1;

/** Packs 4 ASCII characters little-endian into a register value. */
function ascii4(s: string, at: number): number {
  let v = 0;
  for (let i = 3; i >= 0; i--) v = (v << 8) | (at + i < s.length ? s.charCodeAt(at + i) : 0);
  return v >>> 0;
}

/**
 * Answers CPUID `leaf`/`subleaf` into `out` (eax, ebx, ecx, edx). Allocates nothing.
 */
export function cpuidPolicy(leaf: number, subleaf: number, out: Uint32Array): void {
  out[0] = out[1] = out[2] = out[3] = 0;
  switch (leaf >>> 0) {
    case 0:
      out[0] = 7;
      out[1] = 0x756e6547; // "Genu"
      out[3] = 0x49656e69; // "ineI"
      out[2] = 0x6c65746e; // "ntel"
      return;
    case 1:
      out[0] = 0x000006f1;
      out[1] = (1 << 16) | (8 << 8); // one logical CPU, 64-byte clflush line
      out[2] = (1 << 13) | (1 << 31); // CX16, hypervisor
      out[3] = CPUID1_EDX;
      return;
    case 7:
      if (subleaf === 0) out[1] = CPUID7_EBX_FSGSBASE;
      return;
    case 0x80000000:
      out[0] = 0x80000008;
      return;
    case 0x80000001:
      out[3] = ((1 << 11) | (1 << 20) | (1 << 29)) >>> 0;
      return;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004: {
      const at = (leaf - 0x80000002) * 16;
      for (let i = 0; i < 4; i++) out[i] = ascii4(BRAND, at + 4 * i);
      return;
    }
    case 0x80000008:
      out[0] = 0x3028;
      return;
    case XEN_CPUID_FIRST_LEAF:
      out[0] = XEN_CPUID_LAST_LEAF;
      out[1] = 0x566e6558; // "XenV"
      out[2] = 0x65584d4d; // "MMXe"
      out[3] = 0x4d4d566e; // "nVMM"
      return;
    case XEN_CPUID_FIRST_LEAF + 1:
      out[0] = ((XEN_VERSION_MAJOR << 16) | XEN_VERSION_MINOR) >>> 0;
      return;
    case XEN_CPUID_FIRST_LEAF + 2:
      out[0] = 1;
      out[1] = XEN_HYPERCALL_MSR;
      return;
    default:
      return;
  }
}

/**
 * The policy a 32-bit PV guest sees: as {@link cpuidPolicy}, without LM and (on a host
 * that is not AMD or Hygon) SYSCALL in leaf 0x80000001 EDX — Xen's
 * recalculate_cpuid_policy for is_pv_32bit_domain.
 */
export function cpuidPolicyPv32(leaf: number, subleaf: number, out: Uint32Array): void {
  cpuidPolicy(leaf, subleaf, out);
  if (leaf === 0x80000001) out[3] = (out[3] & ~((1 << 29) | (1 << 11))) >>> 0;
}
