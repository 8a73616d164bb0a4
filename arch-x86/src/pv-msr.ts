/**
 * rdmsr and wrmsr of a PV guest, 64-bit or 32-bit, as Xen 4.19 emulates them. The guest
 * kernel runs in ring 3 (ring 1 for a 32-bit one), so both instructions fault (#GP) and
 * reach the privileged-op emulator
 * (pv/emul-priv-op.c read_msr / write_msr), which first asks the MSR layer common to PV
 * and HVM (msr.c guest_rdmsr / guest_wrmsr, with the virtual machine-check MSRs of
 * cpu/mcheck/vmce.c and the Xen range of traps.c guest_rdmsr_xen / guest_wrmsr_xen) and
 * then handles the PV-only ones. Every MSR neither knows is #GP — unless the domain was
 * created with XEN_X86_MSR_RELAXED (xen_arch_domainconfig.misc_flags): then an MSR the
 * host has reads as 0 and takes writes, which are dropped. A read that would #GP while the
 * guest has no #GP handler registered reads as 0 instead when the host has the MSR
 * (read_msr's "faking RDMSR", for kernels that probe before setting up their trap table);
 * the hypervisor's range 0x4000xxxx is never faked.
 *
 * The answers depend on the CPU vendor and on the domain's CPUID policy; hvkit models one
 * Intel host whose policy is cpuid.ts's (no SPEC_CTRL, ARCH_CAPS, XSAVES, RDTSCP/RDPID,
 * PKS, MPX or DBEXT; CPUID faulting available, as on every Intel CPU since Ivy Bridge) and
 * Xen's defaults (vPMU off, no cpufreq controller, dom0 vCPUs not pinned). So:
 *
 * | MSR | read | write |
 * | --- | --- | --- |
 * | TSC 0x10 | the TSC | #GP (not emulated for PV) |
 * | PLATFORM_ID 0x17 | the host's (0) | #GP |
 * | APIC_BASE 0x1b | 0xfee00800, BSP bit 0x100 on vCPU 0 | #GP |
 * | FEATURE_CONTROL 0x3a | 1 (locked) | #GP |
 * | UCODE_REV 0x8b | the host's (0) | 0 accepted and ignored, else #GP |
 * | PLATFORM_INFO 0xce | 0x80000000 (CPUID faulting) | #GP |
 * | MISC_FEATURES_ENABLES 0x140 | the vCPU's | bit 0 (CPUID faulting) only, else #GP |
 * | P5_MC_ADDR/TYPE 0, 1; MCG_CAP 0x179, MCG_STATUS 0x17a, MCG_CTL 0x17b; MCi_CTL2 0x280–0x29f; MCi_* 0x400–0x47f | vMCE: MCG_CAP 0x1000c02 (SER, TES, CMCI, 2 banks), MCi_CTL all ones, the rest the vCPU's (0) | MCG_STATUS and MCi_CTL2 (banks 0–1) kept; MCi_STATUS/ADDR/MISC of banks 0–1 only 0, else #GP; the rest ignored |
 * | MCG_EXT_CTL 0x4d0 | #GP (no LMCE) | #GP |
 * | PERF_STATUS 0x198, PERF_CTL 0x199, THERM_STATUS 0x19c | 0 | PERF_CTL ignored, the others #GP |
 * | MISC_ENABLE 0x1a0 | the host's with PERF_AVAIL and MONITOR cleared, BTS/PEBS unavailable, xTPR disabled | ignored |
 * | PAT 0x277 | XEN_MSR_PAT 0x0000050100070406 | #GP |
 * | PERF_CAPABILITIES 0x345 | 0 | #GP |
 * | Intel PMU (PERFCTR 0xc1–0xc8, EVNTSEL 0x186–0x189, FIXED_CTR 0x309–0x30b, 0x38d–0x390) | 0 | ignored |
 * | MPERF 0xe7, APERF 0xe8, THERM_CONTROL 0x19a, ENERGY_PERF_BIAS 0x1b0 | #GP | ignored |
 * | 0x40000000 (Xen's hypercall page) | 0 | the page at the frame in bits 12 and up is filled with hypercall stubs (the guest's kind: `syscall` or `int $0x82`); bits 0–11 set, or a frame not the guest's plain memory: #GP |
 * | 0x40000001–0x400002ff | #GP | #GP |
 * | EFER 0xc0000080 | SCE, LME, LMA, NXE (0xd01); a 32-bit guest NXE only (guest_efer hides LME, LMA and, on Intel, SCE) | the same value accepted, else #GP |
 * | FS_BASE, GS_BASE, SHADOW_GS_BASE 0xc0000100–2 | the bases (a 32-bit guest: #GP) | canonical values, else #GP (a 32-bit guest: #GP) |
 * | AMD64_NB_CFG 0xc001001f | 0 | ignored |
 *
 * Reads and writes of MSRs Xen names but withholds (SPEC_CTRL, PRED_CMD, ARCH_CAPS,
 * TSX_CTRL, CET, XSS, TSC_AUX, x2APIC, the AMD-only ones ...) are #GP even under
 * msr_relaxed. MSR_DEBUGCTL (0x1d9) is not emulated for PV in 4.19: #GP, or 0 under
 * msr_relaxed (XTF debug-regs stops at that #GP on Xen 4.19).
 *
 * @module
 */
import type { Domain, Machine } from "@hvkit/core";
import type { X86CpuApi } from "./cpu-api.js";
import { isCanonical, PageType, type PvMmu } from "./pv-mmu.js";

/** What rdmsr/wrmsr use of a PV vCPU (x86_64's PvVcpu, x86's Pv32Vcpu). */
export interface PvMsrVcpu {
  /** The vCPU's CPU (segment bases, TSC). */
  readonly cpu: X86CpuApi;
  /** The machine (memory for the hypercall page). */
  readonly machine: Machine;
  /** The domain (its pages). */
  readonly domain: Domain;
  /** The machine's PV MMU (the hypercall page frame's type). */
  readonly mmu: PvMmu;
  /** The vCPU's number (the BSP bit of APIC_BASE). */
  readonly vcpuId: number;
  /** The vCPU's MSRs. */
  readonly msrs: VcpuMsrs;
  /** Whether the guest is 32-bit (is_pv_32bit_domain). */
  readonly compat: boolean;
  /** The domain's XEN_X86_MSR_RELAXED. */
  readonly msrRelaxed: boolean;
  /** Whether the guest registered a #GP handler (read_msr's "faking RDMSR" otherwise). */
  readonly hasGpHandler: boolean;
  /** The user GS base a 64-bit guest swaps in with swapgs (SHADOW_GS_BASE). */
  inactiveGsBase: bigint;
  /** Fills the page at machine address `pa` with the guest's hypercall stubs. */
  writeHypercallPage(pa: number): void;
}

/** MSR numbers (Xen's asm/msr-index.h) the PV emulation answers. */
export const PvMsr = {
  /** P5 machine-check address (bank 1's ADDR). */ P5_MC_ADDR: 0x0,
  /** P5 machine-check type (bank 1's STATUS). */ P5_MC_TYPE: 0x1,
  /** Time-stamp counter. */ TSC: 0x10,
  /** Platform id (bits 52:50). */ PLATFORM_ID: 0x17,
  /** Local APIC base and enables. */ APIC_BASE: 0x1b,
  /** VMX/SMX and LMCE enables, lock. */ FEATURE_CONTROL: 0x3a,
  /** Speculation control (IBRS ...). */ SPEC_CTRL: 0x48,
  /** Microcode revision (AMD PATCHLEVEL). */ UCODE_REV: 0x8b,
  /** Platform information (bit 31: CPUID faulting). */ PLATFORM_INFO: 0xce,
  /** Architectural capabilities. */ ARCH_CAPABILITIES: 0x10a,
  /** Misc feature enables (bit 0: CPUID faulting). */ MISC_FEATURES_ENABLES: 0x140,
  /** Machine-check capabilities. */ MCG_CAP: 0x179,
  /** Machine-check status. */ MCG_STATUS: 0x17a,
  /** Machine-check control. */ MCG_CTL: 0x17b,
  /** Miscellaneous enables. */ MISC_ENABLE: 0x1a0,
  /** Debug control (LBR, BTF): not emulated for PV. */ DEBUGCTL: 0x1d9,
  /** Page attribute table. */ PAT: 0x277,
  /** Bank 0's CMCI control; bank n at + n. */ MC0_CTL2: 0x280,
  /** Bank 0's control; bank n's CTL, STATUS, ADDR, MISC at + 4n + 0..3. */ MC0_CTL: 0x400,
  /** Local machine-check control. */ MCG_EXT_CTL: 0x4d0,
  /** Xen's hypercall-page MSR (cpuid leaf 0x40000002 ebx). */ XEN_HYPERCALL_PAGE: 0x40000000,
  /** Extended feature enables. */ EFER: 0xc0000080,
  /** FS base. */ FS_BASE: 0xc0000100,
  /** GS base. */ GS_BASE: 0xc0000101,
  /** The swapgs shadow of GS base (the guest's user GS base while in its kernel). */
  SHADOW_GS_BASE: 0xc0000102,
} as const;

/** MSR_PLATFORM_INFO_CPUID_FAULTING. */
const PLATFORM_INFO_CPUID_FAULTING = 1n << 31n;
/** MSR_MISC_FEATURES_CPUID_FAULTING. */
export const MISC_FEATURES_CPUID_FAULTING = 1n;
/** IA32_FEATURE_CONTROL_LOCK. */
const FEATURE_CONTROL_LOCK = 1n;
/** APIC_BASE_ENABLE | APIC_DEFAULT_PHYS_BASE, and APIC_BASE_BSP. */
const APIC_BASE = 0xfee00800n;
const APIC_BASE_BSP = 0x100n;
/** XEN_MSR_PAT (asm/processor.h): WB, WT, UC-, UC, WC, WP, UC, UC. */
export const XEN_MSR_PAT = 0x0000050100070406n;
/** EFER of a 64-bit PV guest (guest_efer): the host's SCE | LME | LMA | NXE. */
export const GUEST_EFER = 0xd01n;
/** EFER of a 32-bit PV guest: guest_efer hides LME, LMA and (Intel host) SCE. */
export const GUEST_EFER_COMPAT = 0x800n;
/** INTEL_GUEST_MCG_CAP (vmce.c): MCG_SER_P | MCG_TES_P | MCG_CMCI_P | GUEST_MC_BANK_NUM. */
export const GUEST_MCG_CAP = (1n << 24n) | (1n << 11n) | (1n << 10n) | 2n;
/** GUEST_MC_BANK_NUM. */
const GUEST_MC_BANKS = 2;

/** The modelled host's MSR_IA32_PLATFORM_ID. */
const HOST_PLATFORM_ID = 0n;
/** The modelled host's microcode revision (none loaded). */
const HOST_UCODE_REV = 0n;
/**
 * The modelled host's MSR_IA32_MISC_ENABLE: fast strings, automatic thermal control,
 * performance monitoring, enhanced SpeedStep, MONITOR/MWAIT, xTPR disabled (0x850089,
 * a common value on Intel hosts).
 */
const HOST_MISC_ENABLE = 0x850089n;

/**
 * guest_misc_enable: the host's MISC_ENABLE with PERF_AVAIL and MONITOR_ENABLE cleared,
 * BTS_UNAVAIL, PEBS_UNAVAIL and XTPR_DISABLE set.
 */
const GUEST_MISC_ENABLE = (HOST_MISC_ENABLE & ~((1n << 7n) | (1n << 18n))) | 0x801800n;

/**
 * The MSRs the modelled host implements (what Xen's `rdmsr_safe` finds): inclusive
 * ranges, sorted. An Intel 64 processor with the features cpuid.ts reports, 6 machine-check
 * banks, 4 general and 3 fixed performance counters, 8 variable MTRRs.
 */
const HOST_MSRS: readonly (readonly [number, number])[] = [
  [0x0, 0x1], // P5_MC_ADDR, P5_MC_TYPE
  [0x10, 0x10], // TSC
  [0x17, 0x17], // PLATFORM_ID
  [0x1b, 0x1b], // APIC_BASE
  [0x3a, 0x3a], // FEATURE_CONTROL
  [0x8b, 0x8b], // BIOS_SIGN_ID (microcode revision)
  [0xc1, 0xc4], // PMC0-3
  [0xce, 0xce], // PLATFORM_INFO
  [0xe7, 0xe8], // MPERF, APERF
  [0xfe, 0xfe], // MTRRcap
  [0x140, 0x140], // MISC_FEATURES_ENABLES
  [0x174, 0x176], // SYSENTER_CS/ESP/EIP
  [0x179, 0x17a], // MCG_CAP, MCG_STATUS
  [0x186, 0x189], // PERFEVTSEL0-3
  [0x198, 0x19c], // PERF_STATUS, PERF_CTL, CLOCK_MODULATION, THERM_INTERRUPT, THERM_STATUS
  [0x1a0, 0x1a0], // MISC_ENABLE
  [0x1b0, 0x1b0], // ENERGY_PERF_BIAS
  [0x1d9, 0x1d9], // DEBUGCTL
  [0x200, 0x20f], // MTRR_PHYSBASE0 .. MTRR_PHYSMASK7
  [0x250, 0x250], // MTRR_FIX64K_00000
  [0x258, 0x259], // MTRR_FIX16K_*
  [0x268, 0x26f], // MTRR_FIX4K_*
  [0x277, 0x277], // PAT
  [0x280, 0x285], // MC0_CTL2 .. MC5_CTL2
  [0x2ff, 0x2ff], // MTRR_DEF_TYPE
  [0x309, 0x30b], // FIXED_CTR0-2
  [0x345, 0x345], // PERF_CAPABILITIES
  [0x38d, 0x390], // FIXED_CTR_CTRL, GLOBAL_STATUS, GLOBAL_CTRL, GLOBAL_OVF_CTRL
  [0x400, 0x417], // MC0-5 CTL, STATUS, ADDR, MISC
  [0xc0000080, 0xc0000084], // EFER, STAR, LSTAR, CSTAR, SYSCALL_MASK
  [0xc0000100, 0xc0000102], // FS_BASE, GS_BASE, KERNEL_GS_BASE
];

/** rdmsr_safe on the modelled host: whether it implements MSR `index`. */
export function hostHasMsr(index: number): boolean {
  for (const [lo, hi] of HOST_MSRS) if (index >= lo && index <= hi) return true;
  return false;
}

/** Per-vCPU MSR state (Xen's struct vcpu_msrs and the vCPU's vMCE state). */
export class VcpuMsrs {
  /** MSR_INTEL_MISC_FEATURES_ENABLES: bit 0 turns CPUID faulting on for guest user mode. */
  miscFeaturesEnables = 0n;
  /** vMCE MCG_STATUS. */
  mcgStatus = 0n;
  /** vMCE MCi_STATUS of banks 0 and 1. */
  readonly mciStatus = new BigUint64Array(GUEST_MC_BANKS);
  /** vMCE MCi_ADDR of banks 0 and 1. */
  readonly mciAddr = new BigUint64Array(GUEST_MC_BANKS);
  /** vMCE MCi_MISC of banks 0 and 1. */
  readonly mciMisc = new BigUint64Array(GUEST_MC_BANKS);
  /** vMCE MCi_CTL2 of banks 0 and 1. */
  readonly mciCtl2 = new BigUint64Array(GUEST_MC_BANKS);

  /** Whether the guest has CPUID faulting on (cpuid from guest user mode then #GP). */
  get cpuidFaulting(): boolean {
    return (this.miscFeaturesEnables & MISC_FEATURES_CPUID_FAULTING) !== 0n;
  }
}

/** A guest_rdmsr / guest_wrmsr outcome other than a value: #GP, or not the common layer's. */
const GP = -1n;
const UNHANDLEABLE = -2n;

/** In [lo, hi]. */
function within(index: number, lo: number, hi: number): boolean {
  return index >= lo && index <= hi;
}

/** MSRs guest_rdmsr and guest_wrmsr refuse outright (write-only, or not offered to guests). */
function withheld(index: number): boolean {
  switch (index) {
    case 0xc0010020: // AMD_PATCHLOADER
    case 0x79: // IA32_UCODE_WRITE
    case 0x49: // PRED_CMD
    case 0x10b: // FLUSH_CMD
    case 0x33: // TEST_CTRL
    case 0xcf: // CORE_CAPABILITIES
    case 0x10f: // TSX_FORCE_ABORT
    case 0x122: // TSX_CTRL
    case 0x123: // MCU_OPT_CTRL
    case 0x6a0: // U_CET
    case 0x6a2: // S_CET
    case 0xc0000105: // AMD64_LWP_CFG
    case 0xc0000106: // AMD64_LWP_CBADDR
    case 0x4e: // PPIN_CTL
    case 0x4f: // PPIN
    case 0xc00102f0: // AMD_PPIN_CTL
    case 0xc00102f1: // AMD_PPIN
    case PvMsr.SPEC_CTRL: // no IBRSB / IBRS in the policy
    case PvMsr.ARCH_CAPABILITIES: // no ARCH_CAPS in the policy
    case 0x6e1: // PKRS: no PKS
    case 0xd90: // BNDCFGS: no MPX
    case 0xda0: // XSS: no XSAVES
    case 0xc0000103: // TSC_AUX: no RDTSCP / RDPID
    case 0xc001011f: // VIRT_SPEC_CTRL: no VIRT_SSBD
    case PvMsr.MCG_EXT_CTL: // vmce: no LMCE
      return true;
  }
  return (
    within(index, 0x560, 0x58f) || // RTIT_OUTPUT_BASE .. RTIT_ADDR_B(7)
    within(index, 0x6a4, 0x6a8) || // PL0_SSP .. INTERRUPT_SSP_TABLE
    within(index, 0x800, 0x8ff) || // x2APIC: HVM only
    // AMD-only, on an Intel host: K8_SYSCFG, IORRs, TOP_MEM, TSEG, HWCR, DE_CFG, DR masks.
    index === 0xc0010010 ||
    within(index, 0xc0010015, 0xc001001a) ||
    index === 0xc001001d ||
    index === 0xc0010112 ||
    index === 0xc0010113 ||
    index === 0xc0011029 ||
    index === 0xc0011027 ||
    within(index, 0xc0011019, 0xc001101b)
  );
}

/** Whether `index` is one of vmce's MSRs on an Intel host (mce_bank_msr and the globals). */
function vmceMsr(index: number): boolean {
  return (
    index <= PvMsr.P5_MC_TYPE ||
    within(index, PvMsr.MCG_CAP, PvMsr.MCG_CTL) ||
    within(index, PvMsr.MC0_CTL2, 0x29f) ||
    within(index, PvMsr.MC0_CTL, 0x47f)
  );
}

/** vmce_rdmsr (Intel): the value, or GP. Bank MSRs of absent banks read 0. */
function vmceRdmsr(m: VcpuMsrs, index: number): bigint {
  if (index === PvMsr.P5_MC_ADDR) return m.mciAddr[1];
  if (index === PvMsr.P5_MC_TYPE) return m.mciStatus[1];
  if (index === PvMsr.MCG_STATUS) return m.mcgStatus;
  if (index === PvMsr.MCG_CAP) return GUEST_MCG_CAP;
  if (index === PvMsr.MCG_CTL) return 0n; // MCG_CTL_P clear
  if (index < PvMsr.MC0_CTL) {
    const bank = index - PvMsr.MC0_CTL2;
    return bank < GUEST_MC_BANKS ? m.mciCtl2[bank] : 0n;
  }
  const bank = (index - PvMsr.MC0_CTL) >> 2;
  if (bank >= GUEST_MC_BANKS) return 0n;
  switch (index & 3) {
    case 0:
      return 0xffffffffffffffffn; // MCi_CTL: all ones
    case 1:
      return m.mciStatus[bank];
    case 2:
      return m.mciAddr[bank];
    default:
      return m.mciMisc[bank];
  }
}

/** vmce_wrmsr (Intel): true when accepted (or ignored), false for #GP. */
function vmceWrmsr(m: VcpuMsrs, index: number, val: bigint): boolean {
  if (index === PvMsr.MCG_STATUS) {
    m.mcgStatus = val;
    return true;
  }
  if (index <= PvMsr.P5_MC_TYPE || index === PvMsr.MCG_CAP || index === PvMsr.MCG_CTL) return true;
  if (index < PvMsr.MC0_CTL) {
    const bank = index - PvMsr.MC0_CTL2;
    if (bank < GUEST_MC_BANKS) m.mciCtl2[bank] = val;
    return true;
  }
  const bank = (index - PvMsr.MC0_CTL) >> 2;
  if (bank >= GUEST_MC_BANKS || (index & 3) === 0) return true;
  // MCi_STATUS, ADDR, MISC: only clearing is allowed.
  if (val !== 0n) return false;
  if ((index & 3) === 1) m.mciStatus[bank] = 0n;
  else if ((index & 3) === 2) m.mciAddr[bank] = 0n;
  else m.mciMisc[bank] = 0n;
  return true;
}

/** guest_rdmsr for a PV vCPU: the value, GP, or UNHANDLEABLE (for read_msr). */
function guestRdmsr(v: PvMsrVcpu, index: number): bigint {
  if (withheld(index)) return GP;
  switch (index) {
    case PvMsr.FEATURE_CONTROL:
      return FEATURE_CONTROL_LOCK; // no LMCE, no VMX for PV
    case PvMsr.PLATFORM_ID:
      return HOST_PLATFORM_ID;
    case PvMsr.UCODE_REV:
      return HOST_UCODE_REV;
    case PvMsr.PLATFORM_INFO:
      return PLATFORM_INFO_CPUID_FAULTING;
    case PvMsr.MISC_FEATURES_ENABLES:
      return v.msrs.miscFeaturesEnables;
    case 0x198: // PERF_STATUS
    case 0x199: // PERF_CTL
    case 0x19c: // THERM_STATUS
      return 0n;
  }
  if (vmceMsr(index)) return vmceRdmsr(v.msrs, index);
  if (within(index, 0x40000000, 0x400002ff)) return index === PvMsr.XEN_HYPERCALL_PAGE ? 0n : GP;
  return UNHANDLEABLE;
}

/** Intel's vPMU MSRs (read as 0 and writes dropped while vPMU is off, Xen's default). */
function intelPmuMsr(index: number): boolean {
  return (
    within(index, 0xc1, 0xc8) ||
    within(index, 0x186, 0x189) ||
    within(index, 0x309, 0x30b) ||
    within(index, 0x38d, 0x390)
  );
}

/** The TSC now: the CPU's base for this run plus what has retired since (see pv-vcpu.ts). */
export function currentTsc(v: PvMsrVcpu): bigint {
  return BigInt(v.cpu.tscBase);
}

/**
 * read_msr: what `rdmsr` of MSR `index` gives the guest kernel, or null for #GP(0).
 */
export function readMsr(v: PvMsrVcpu, index: number): bigint | null {
  let val = guestRdmsr(v, index);
  if (val === UNHANDLEABLE) {
    const cpu = v.cpu;
    switch (index) {
      case PvMsr.APIC_BASE:
        val = APIC_BASE | (v.vcpuId === 0 ? APIC_BASE_BSP : 0n);
        break;
      // A 32-bit guest has no segment-base MSRs (read_msr breaks out: #GP).
      case PvMsr.FS_BASE:
        val = v.compat ? GP : cpu.fsBase;
        break;
      case PvMsr.GS_BASE:
        val = v.compat ? GP : cpu.gsBase;
        break;
      case PvMsr.SHADOW_GS_BASE:
        val = v.compat ? GP : v.inactiveGsBase;
        break;
      case PvMsr.TSC:
        val = currentTsc(v);
        break;
      case PvMsr.EFER:
        val = v.compat ? GUEST_EFER_COMPAT : GUEST_EFER;
        break;
      case PvMsr.PAT:
        val = XEN_MSR_PAT;
        break;
      case 0xc001001f: // AMD64_NB_CFG: no vendor check in read_msr
        val = 0n;
        break;
      case PvMsr.MISC_ENABLE:
        val = GUEST_MISC_ENABLE;
        break;
      case 0x345: // PERF_CAPABILITIES
        val = 0n;
        break;
      default:
        if (intelPmuMsr(index)) val = 0n;
        else if (v.msrRelaxed && hostHasMsr(index)) val = 0n;
        else val = GP;
    }
  }
  if (val >= 0n) return val;
  // "faking RDMSR": no #GP handler yet, an MSR the host has, outside Xen's own range.
  if (!v.hasGpHandler && index >>> 16 !== 0x4000 && hostHasMsr(index)) return 0n;
  return null;
}

/** guest_wrmsr for a PV vCPU: 0 done, 1 #GP, 2 not the common layer's. */
function guestWrmsr(v: PvMsrVcpu, index: number, val: bigint): number {
  if (withheld(index)) return 1;
  switch (index) {
    case PvMsr.PLATFORM_ID:
    case 0x35: // INTEL_CORE_THREAD_COUNT: read-only
    case PvMsr.PLATFORM_INFO:
      return 1;
    case PvMsr.UCODE_REV:
      // Intel documents writing 0 before reading the revision.
      return val === 0n ? 0 : 1;
    case PvMsr.MISC_FEATURES_ENABLES:
      if (val & ~MISC_FEATURES_CPUID_FAULTING) return 1;
      v.msrs.miscFeaturesEnables = val;
      return 0;
    case 0x199: // PERF_CTL: write-discard
      return 0;
  }
  if (vmceMsr(index)) return vmceWrmsr(v.msrs, index, val) ? 0 : 1;
  if (within(index, 0x40000000, 0x400002ff))
    return index === PvMsr.XEN_HYPERCALL_PAGE && writeHypercallPageMsr(v, val) ? 0 : 1;
  return 2;
}

/**
 * guest_wrmsr_xen's hypercall page: `val` names a frame of the guest's (PV: a machine
 * frame) in bits 12 and up, with bits 0–11 clear (the page index; only page 0 exists);
 * the frame must take a writable type (not a page table or descriptor page). The frame is
 * filled as the builder fills the hypercall page.
 */
function writeHypercallPageMsr(v: PvMsrVcpu, val: bigint): boolean {
  if ((val & 0xfffn) !== 0n) return false;
  const mfn = val >> 12n;
  const ft = v.machine.memory.frameTable;
  if (mfn >= BigInt(ft.frames)) return false;
  const frame = Number(mfn);
  if (v.mmu.getPageAndType(frame, PageType.Writable, v.domain) !== 0) return false;
  const pa = frame * 4096;
  v.writeHypercallPage(pa);
  v.machine.arch.onMemoryWritten?.(v.machine, pa, 4096);
  v.mmu.putPageAndType(frame, v.domain);
  return true;
}

/**
 * write_msr: `wrmsr` of `val` to MSR `index` from the guest kernel. Returns false for
 * #GP(0).
 */
export function writeMsr(v: PvMsrVcpu, index: number, val: bigint): boolean {
  const rc = guestWrmsr(v, index, val);
  if (rc !== 2) return rc === 0;
  const cpu = v.cpu;
  switch (index) {
    case PvMsr.FS_BASE:
    case PvMsr.GS_BASE:
    case PvMsr.SHADOW_GS_BASE:
      // A non-canonical base faults (#GP), as the hardware's wrmsr does (XSA-193); a
      // 32-bit guest has none of these.
      if (v.compat || !isCanonical(val)) return false;
      if (index === PvMsr.FS_BASE) cpu.fsBase = val;
      else if (index === PvMsr.GS_BASE) cpu.gsBase = val;
      else v.inactiveGsBase = val;
      return true;
    case PvMsr.EFER:
      // Linux writes back the value it read; any change is refused.
      return val === (v.compat ? GUEST_EFER_COMPAT : GUEST_EFER);
    case 0xc001001f: // AMD64_NB_CFG: dropped (not the pinned hardware domain)
    case PvMsr.MISC_ENABLE: // a different value is dropped with a warning
    case 0xe7: // MPERF
    case 0xe8: // APERF
    case 0x19a: // THERM_CONTROL
    case 0x1b0: // ENERGY_PERF_BIAS
      return true;
  }
  if (intelPmuMsr(index)) return true;
  return v.msrRelaxed && hostHasMsr(index);
}
