/**
 * IA-64's own public ABI structs and numbers (Xen's `arch-ia64.h`, last present in Xen
 * 4.1): the vCPU context a guest passes to VCPUOP_initialise, and the PSR and flag bits it
 * is filled with. Core's common structs (start_info, shared_info, vcpu_info) are laid out
 * for IA-64 by the `ia64` data model (`data-model.ts`), whose arch parts are at the end of this file; this is what only the arch has.
 *
 * `struct vcpu_guest_context` on IA-64 is a full register image: the 32 static general
 * registers, branch registers, the banked r16–r31, ip/psr/cfm/pr, 128 application and 128
 * control registers (each a union of an array and named registers in C; declared here by
 * the names, which cover the same words: `ar.rsc` is ar[16], `cr.iva` is cr[2]), the 128
 * floating-point registers (16 bytes each, 16-byte aligned), debug, region and protection
 * key registers, the translation registers, and up to 2048 words of dirty register stack.
 * Xen's `arch_set_info_guest` (arch/ia64/xen/domain.c) loads: r1–r31, b0/b6/b7, ip (as
 * cr.iip), psr (as the virtual PSR), cfm (as cr.ifs), pr, ar.rsc/bspstore/rnat/pfs/unat/
 * fpsr/ccv/csd/ssd/lc/ec, the register stack between ar.bspstore and ar.bsp from `rbs`,
 * f2–f127, the debug and region registers; and, only with {@link VGCF_EXTRA_REGS}, the
 * translation registers, `event_callback_ip` and `cr.iva`.
 *
 * @module
 */
import {
  aligned,
  array,
  defineStruct,
  field,
  u32,
  u64,
  ulong,
  type FieldSpec,
  i32,
} from "@hvkit/core";

/** vcpu_guest_context.flags: also load the TRs, event_callback_ip and cr.iva. */
export const VGCF_EXTRA_REGS = 1n << 1n;
/** vcpu_guest_context.flags: also load cr.irr[0..3]. */
export const VGCF_SET_CR_IRR = 1n << 2n;

/** PSR.ic (bit 13): interruption collection; a fault reflected while it is 0 crashes a PV guest. */
export const IA64_PSR_IC = 1n << 13n;
/** PSR.i (bit 14): external interrupts (for a PV guest: events) enabled. */
export const IA64_PSR_I = 1n << 14n;
/** PSR.bn (bit 44): register bank 1 is active (a kernel runs in bank 1; handlers in bank 0). */
export const IA64_PSR_BN = 1n << 44n;
/** cr.ifs.v (bit 63): the frame marker in cr.ifs is valid (an empty frame when the rest is 0). */
export const IA64_IFS_V = 1n << 63n;
/**
 * The Linux default of ar.fpsr (0x0009804c0270033f: all FP traps disabled, round to
 * nearest, 64-bit precision in status field 0), which Xen gives a new vCPU.
 */
export const IA64_FPSR_DEFAULT = 0x0009804c0270033fn;

/** `struct pt_fpreg`: one 82-bit floating-point register in 16 bytes, 16-byte aligned. */
const PT_FPREG = aligned(
  defineStruct("pt_fpreg", "A floating-point register as spilled by stf.spill.", {
    bits: field(array(u64, 2), "The spilled register (stf.spill format)."),
  }),
  16,
);

/** `struct ia64_tr_entry`: one translation register. */
const IA64_TR_ENTRY = defineStruct(
  "ia64_tr_entry",
  "One instruction or data translation register.",
  {
    pte: field(ulong, "The translation's PTE (physical page, attributes, present bit)."),
    itir: field(ulong, "Page size and protection key (cr.itir format)."),
    vadr: field(ulong, "Virtual address the translation covers."),
    rid: field(ulong, "Region id it belongs to."),
  },
);

const reserved = (words: number, doc = "Reserved."): FieldSpec => field(array(ulong, words), doc);

/** `union vcpu_ar_regs`, by the names of its 128 words (ar.N is word N). */
const VCPU_AR_REGS = defineStruct("vcpu_ar_regs", "The 128 application registers.", {
  kr: field(array(ulong, 8), "ar.k0–k7, the kernel registers."),
  rsv1: reserved(8),
  rsc: field(ulong, "ar.rsc (ar16): RSE mode, privilege level, byte order, loadrs."),
  bsp: field(ulong, "ar.bsp (ar17): where the current frame would be spilled."),
  bspstore: field(ulong, "ar.bspstore (ar18): next spill address of the register stack."),
  rnat: field(ulong, "ar.rnat (ar19): NaT bits of the spilled stacked registers."),
  rsv2: reserved(1),
  fcr: field(ulong, "ar.fcr (ar21), IA-32 only."),
  rsv3: reserved(2),
  eflag: field(ulong, "ar.eflag (ar24), IA-32 only."),
  csd: field(ulong, "ar.csd (ar25)."),
  ssd: field(ulong, "ar.ssd (ar26)."),
  cflg: field(ulong, "ar.cflg (ar27), IA-32 only."),
  fsr: field(ulong, "ar.fsr (ar28), IA-32 only."),
  fir: field(ulong, "ar.fir (ar29), IA-32 only."),
  fdr: field(ulong, "ar.fdr (ar30), IA-32 only."),
  rsv4: reserved(1),
  ccv: field(ulong, "ar.ccv (ar32): compare value of cmpxchg."),
  rsv5: reserved(3),
  unat: field(ulong, "ar.unat (ar36): NaT bits of st8.spill."),
  rsv6: reserved(3),
  fpsr: field(ulong, "ar.fpsr (ar40): floating-point status."),
  rsv7: reserved(3),
  itc: field(ulong, "ar.itc (ar44): the interval time counter."),
  rsv8: reserved(3),
  ign1: reserved(16, "Ignored (ar48–ar63)."),
  pfs: field(ulong, "ar.pfs (ar64): previous function state."),
  lc: field(ulong, "ar.lc (ar65): loop count."),
  ec: field(ulong, "ar.ec (ar66): epilog count."),
  rsv9: reserved(45),
  ign2: reserved(16, "Ignored (ar112–ar127)."),
});

/** `union vcpu_cr_regs`, by the names of its 128 words (cr.N is word N). */
const VCPU_CR_REGS = defineStruct("vcpu_cr_regs", "The 128 control registers.", {
  dcr: field(ulong, "cr.dcr (cr0): default control."),
  itm: field(ulong, "cr.itm (cr1): interval timer match."),
  iva: field(ulong, "cr.iva (cr2): the interruption vector table (32 KiB aligned)."),
  rsv1: reserved(5),
  pta: field(ulong, "cr.pta (cr8): page table address (VHPT)."),
  rsv2: reserved(7),
  ipsr: field(ulong, "cr.ipsr (cr16): PSR at the last interruption."),
  isr: field(ulong, "cr.isr (cr17): interruption status."),
  rsv3: reserved(1),
  iip: field(ulong, "cr.iip (cr19): bundle of the last interruption."),
  ifa: field(ulong, "cr.ifa (cr20): faulting address."),
  itir: field(ulong, "cr.itir (cr21): translation insertion (page size, key)."),
  iipa: field(ulong, "cr.iipa (cr22): last successfully executed bundle."),
  ifs: field(ulong, "cr.ifs (cr23): interruption frame state."),
  iim: field(ulong, "cr.iim (cr24): immediate of a break."),
  iha: field(ulong, "cr.iha (cr25): VHPT hash address."),
  rsv4: reserved(38),
  lid: field(ulong, "cr.lid (cr64): local processor id."),
  ivr: field(ulong, "cr.ivr (cr65): interrupt vector (read acknowledges)."),
  tpr: field(ulong, "cr.tpr (cr66): task priority."),
  eoi: field(ulong, "cr.eoi (cr67): end of interrupt."),
  irr: field(array(ulong, 4), "cr.irr0–3 (cr68–71): pending interrupt vectors."),
  itv: field(ulong, "cr.itv (cr72): interval timer vector."),
  pmv: field(ulong, "cr.pmv (cr73): performance monitor vector."),
  cmcv: field(ulong, "cr.cmcv (cr74): corrected machine check vector."),
  rsv5: reserved(5),
  lrr0: field(ulong, "cr.lrr0 (cr80): local redirection 0."),
  lrr1: field(ulong, "cr.lrr1 (cr81): local redirection 1."),
  rsv6: reserved(46),
});

/** `struct vcpu_guest_context_regs`: the register image inside the vCPU context. */
const VCPU_GUEST_CONTEXT_REGS = defineStruct(
  "vcpu_guest_context_regs",
  "A vCPU's registers as Xen saves and loads them.",
  {
    r: field(array(ulong, 32), "r0–r31 (r16–r31 of the bank PSR.bn selects)."),
    b: field(array(ulong, 8), "b0–b7."),
    bank: field(array(ulong, 16), "r16–r31 of the other bank."),
    ip: field(ulong, "The bundle to run (becomes cr.iip)."),
    psr: field(ulong, "The virtual PSR."),
    cfm: field(ulong, "The frame marker, in cr.ifs form (bit 63 = valid)."),
    pr: field(ulong, "The 64 predicates."),
    nats: field(u32, "NaT bits of r1–r31."),
    bnats: field(u32, "NaT bits of the banked registers."),
    ar: field(VCPU_AR_REGS, "Application registers."),
    cr: field(VCPU_CR_REGS, "Control registers (virtual)."),
    f: field(array(PT_FPREG, 128), "f0–f127."),
    dbr: field(array(ulong, 8), "Data breakpoint registers."),
    ibr: field(array(ulong, 8), "Instruction breakpoint registers."),
    rr: field(array(ulong, 8), "Region registers (0: leave unchanged)."),
    pkr: field(array(ulong, 16), "Protection key registers."),
    xip: field(ulong, "Saved ip of a debug event."),
    xpsr: field(ulong, "Saved psr of a debug event."),
    xfs: field(ulong, "Saved frame state of a debug event."),
    xr: field(array(ulong, 4), "Saved registers of a debug event."),
    tr: field(
      defineStruct("vcpu_tr_regs", "The translation registers.", {
        itrs: field(array(IA64_TR_ENTRY, 12), "Instruction TRs."),
        dtrs: field(array(IA64_TR_ENTRY, 12), "Data TRs."),
      }),
      "Translation registers (loaded with VGCF_EXTRA_REGS).",
    ),
    excp_iipa: field(ulong, "Physical cr.iipa of a debug event."),
    excp_ifa: field(ulong, "Physical cr.ifa of a debug event."),
    excp_isr: field(ulong, "Physical cr.isr of a debug event."),
    excp_vector: field(u32, "Vector of a debug event."),
    rbs_voff: field(u32, "Word offset of `rbs` in a 512-byte aligned image of the register stack."),
    rbs: field(
      array(ulong, 2048),
      "The dirty stacked registers (ar.bspstore .. ar.bsp), as if spilled at a 512-byte aligned address + rbs_voff words.",
    ),
    rbs_rnat: field(ulong, "NaT bits of the spilled `rbs` words."),
    num_phys_stacked: field(
      ulong,
      "RSE.N_STACKED_PHYS of the saving CPU (0: not checked); another value is refused.",
    ),
  },
);

/**
 * `struct vcpu_guest_context` of IA-64 (arch-ia64.h): what VCPUOP_initialise and domctl
 * setvcpucontext take. 22208 bytes, 16-byte aligned.
 */
export const VCPU_GUEST_CONTEXT_IA64 = defineStruct(
  "vcpu_guest_context",
  "An IA-64 vCPU's full state (arch-ia64.h).",
  {
    flags: field(ulong, "VGCF_EXTRA_REGS, VGCF_SET_CR_IRR."),
    regs: field(VCPU_GUEST_CONTEXT_REGS, "The registers."),
    event_callback_ip: field(
      ulong,
      "Where event upcalls are delivered (loaded with VGCF_EXTRA_REGS; callback_op sets it too).",
    ),
    privregs_pfn: field(
      ulong,
      "Frame of the vCPU's privileged-register area as Xen reports it; not loaded.",
    ),
  },
);

/** `struct arch_vcpu_info` (IA-64): empty (a GNU C empty struct, size 0). */
export const ARCH_VCPU_INFO_IA64 = defineStruct(
  "arch_vcpu_info",
  "Per-vCPU arch state in vcpu_info: none on IA-64.",
  {},
);

/**
 * `struct arch_shared_info` (IA-64): where start_info and the memory map are, and the
 * vector event upcalls arrive on (272 bytes).
 */
export const ARCH_SHARED_INFO_IA64 = defineStruct(
  "arch_shared_info",
  "Arch-specific tail of the shared_info page: start_info, upcall vector, memory map.",
  {
    start_info_pfn: field(
      ulong,
      "Pseudo-physical frame of the start_info page (IA-64 passes it here rather than in a register).",
    ),
    evtchn_vector: field(
      i32,
      "Interrupt vector the guest wants event-channel upcalls delivered on.",
    ),
    memmap_info_num_pages: field(
      u32,
      "Number of pages of the memory-map info area (only 1 was supported).",
    ),
    memmap_info_pfn: field(
      ulong,
      "Pseudo-physical frame of the memory-map info area (an EFI memory map).",
    ),
    pad: field(array(u64, 31), "Reserved."),
  },
);

/**
 * `struct xen_arch_domainconfig` (IA-64): IA-64 left Xen (after 4.1) before domctl had an arch configuration, so its part is empty.
 */
export const XEN_ARCH_DOMAINCONFIG_IA64 = defineStruct(
  "xen_arch_domainconfig",
  "Arch part of a domain's configuration: none.",
  {},
);
