/**
 * The CPUID policy hvkit shows PV guests: one fixed, deterministic CPU, claiming
 * only what the interpreter implements, presented as Xen 4.19's default PV policy presents
 * such a host (xen/arch/x86/cpu-policy.c, lib/x86/cpuid.c; the "A" features of
 * public/arch-x86/cpufeatureset.h are the ones every PV guest of a host that has them
 * sees), plus Xen's hypervisor leaves at 0x40000000. 32-bit PAE PV guests see it through
 * {@link cpuidPolicyPv32}.
 *
 * Decisions:
 * - Vendor "GenuineIntel", family 6, model 0x0F, stepping 1; one logical CPU.
 * - Leaf 0: maximum basic leaf 0xD (the XSAVE leaf).
 * - Leaf 1 EDX: FPU (the x87 unit, x87.ts: arithmetic, control/status/tag words,
 *   environments), DE (CR4.DE: DR4/DR5 and I/O breakpoints, debugreg.ts), TSC (rdtsc on
 *   virtual time, CR4.TSD honoured), MSR (rdmsr/wrmsr emulated by the PV layer, msr.ts),
 *   PAE, MCE and MCA (Xen's virtual machine-check MSRs, msr.ts), CX8, PGE, CMOV, MMX,
 *   FXSR, SSE, SSE2 (arch-x86 simd.ts, simd-float.ts, fpu.ts).
 * - Leaf 1 ECX: SSE3, SSSE3, CX16, SSE4.1, SSE4.2, POPCNT (simd-float.ts, simd-ext.ts),
 *   XSAVE (xsave/xrstor/xsaveopt/xsavec/xgetbv/xsetbv for x87 | SSE), and the hypervisor bit
 *   (31), as Xen sets for PV. Not MONITOR (never offered to PV guests: no "A"), MOVBE,
 *   PCLMULQDQ, AES or AVX (not implemented). OSXSAVE is dynamic, as Xen's guest_cpuid
 *   gives it to a PV guest (xen/arch/x86/cpuid.c, "OSXSAVE handling for PV guests is
 *   non-architectural"): set when the guest's own CR4.OSXSAVE is, and also for the
 *   guest kernel's forced-emulation cpuid (the `ud2; .ascii "xen"` prefix), where Xen leaks
 *   its own CR4.OSXSAVE (set, since the host has XSAVE).
 * - Leaf 7 subleaf 0 EBX: FSGSBASE (rd/wr{fs,gs}base, enabled by the guest's CR4.FSGSBASE
 *   as Xen's pv_make_cr4 does; an "A" feature). Not BMI1: tzcnt alone is not the set.
 * - Leaf 0xD (recalculate_xstate in cpu-policy.c, and guest_cpuid's dynamic sizes):
 *   subleaf 0 EAX = XCR0 bits x87 | SSE, EBX = the XSAVE size of the enabled XCR0 (576),
 *   ECX = the largest (576); subleaf 1 EAX = XSAVEOPT | XSAVEC (not XGETBV1, not XSAVES,
 *   which Xen gives HVM guests only), EBX = the compacted size (576).
 * - Leaf 0x80000001: ECX ABM (lzcnt); EDX SYSCALL, NX, LM. 0x80000008: 40 physical / 48
 *   virtual address bits.
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

/** Leaf 1 EDX: FPU, DE, TSC, MSR, PAE, MCE, CX8, PGE, MCA, CMOV. */
const CPUID1_EDX =
  (1 << 0) |
  (1 << 2) |
  (1 << 4) |
  (1 << 5) |
  (1 << 6) |
  (1 << 7) |
  (1 << 8) |
  (1 << 13) |
  (1 << 14) |
  (1 << 15);
/** Leaf 1 EDX: MMX (23), FXSR (24), SSE (25), SSE2 (26). */
const CPUID1_EDX_SIMD = (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26);
/** Leaf 1 ECX: SSE3 (0), SSSE3 (9), CX16 (13), SSE4.1 (19), SSE4.2 (20), POPCNT (23), XSAVE (26), hypervisor (31). */
const CPUID1_ECX =
  ((1 << 0) | (1 << 9) | (1 << 13) | (1 << 19) | (1 << 20) | (1 << 23) | (1 << 26) | (1 << 31)) >>>
  0;
/** Leaf 1 ECX bit 27: OSXSAVE. */
const CPUID1_ECX_OSXSAVE = 1 << 27;
/** XCR0 components the CPU supports (x87, SSE) and the size of their XSAVE area. */
const XSTATE_XCR0 = 3;
const XSTATE_SIZE = 576;
/** Leaf 7 subleaf 0 EBX bit 0: FSGSBASE. */
const CPUID7_EBX_FSGSBASE = 1;

/** Packs 4 ASCII characters little-endian into a register value. */
function ascii4(s: string, at: number): number {
  let v = 0;
  for (let i = 3; i >= 0; i--) v = (v << 8) | (at + i < s.length ? s.charCodeAt(at + i) : 0);
  return v >>> 0;
}

/**
 * Answers CPUID `leaf`/`subleaf` into `out` (eax, ebx, ecx, edx). `osxsave` is whether
 * leaf 1 shows OSXSAVE (see the module comment for when Xen sets it for a PV guest).
 * Allocates nothing.
 */
export function cpuidPolicy(
  leaf: number,
  subleaf: number,
  out: Uint32Array,
  osxsave = false,
): void {
  out[0] = out[1] = out[2] = out[3] = 0;
  switch (leaf >>> 0) {
    case 0:
      out[0] = 0xd;
      out[1] = 0x756e6547; // "Genu"
      out[3] = 0x49656e69; // "ineI"
      out[2] = 0x6c65746e; // "ntel"
      return;
    case 1:
      out[0] = 0x000006f1;
      out[1] = (1 << 16) | (8 << 8); // one logical CPU, 64-byte clflush line
      out[2] = (CPUID1_ECX | (osxsave ? CPUID1_ECX_OSXSAVE : 0)) >>> 0;
      out[3] = (CPUID1_EDX | CPUID1_EDX_SIMD) >>> 0;
      return;
    case 7:
      if (subleaf === 0) out[1] = CPUID7_EBX_FSGSBASE;
      return;
    case 0xd:
      if (subleaf === 0) {
        out[0] = XSTATE_XCR0;
        out[1] = XSTATE_SIZE;
        out[2] = XSTATE_SIZE;
      } else if (subleaf === 1) {
        out[0] = 3; // XSAVEOPT, XSAVEC
        out[1] = XSTATE_SIZE;
      }
      return;
    case 0x80000000:
      out[0] = 0x80000008;
      return;
    case 0x80000001:
      out[2] = 1 << 5; // ABM (lzcnt)
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
 * recalculate_cpuid_policy for is_pv_32bit_domain. `osxsave` as for {@link cpuidPolicy}.
 */
export function cpuidPolicyPv32(
  leaf: number,
  subleaf: number,
  out: Uint32Array,
  osxsave = false,
): void {
  cpuidPolicy(leaf, subleaf, out, osxsave);
  if (leaf === 0x80000001) out[3] = (out[3] & ~((1 << 29) | (1 << 11))) >>> 0;
}
