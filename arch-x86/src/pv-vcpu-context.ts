/**
 * A `vcpu_guest_context` loaded into, read from and dropped by an x86 PV vCPU of either
 * width — Xen's `arch_set_info_guest` (xen/arch/x86/domain.c: VCPUOP_initialise, domctl
 * setvcpucontext), `arch_get_info_guest` (xen/arch/x86/domctl.c: domctl getvcpucontext)
 * and `arch_vcpu_reset` (domain.c; mm.c `vcpu_destroy_pagetables`,
 * pv/descriptor-tables.c `pv_destroy_gdt`: setvcpucontext with a null context). The
 * context is the target domain's: the native layout for a 64-bit PV domain, the compat
 * one (xen-x86_32.h) for a PV32 domain; a {@link PvContextFormat} says what differs.
 *
 * Loading, in Xen's order:
 * 1. Refused with −EINVAL before anything changes: the width's own address checks
 *    ({@link PvContextFormat.addressesOk}; 64-bit: DR6/DR7 wider than 32 bits,
 *    breakpoints, rip, rsp, kernel_sp, LDT base, FS/GS bases, callbacks and trap-table
 *    addresses non-canonical or in Xen's range; compat: none, every 32-bit address is the
 *    guest's); an LDT base not page aligned or more than 8192 entries.
 * 2. Loaded: kernel mode (64-bit: VGCF_in_kernel; compat: always, the ring of CS decides),
 *    the registers (zero-extended from a compat frame, as XLAT_cpu_user_regs), flags
 *    (the architectural ones, IOPL virtualised, IF set), selectors with an RPL below the
 *    guest kernel's raised to it (fixup_guest_code/stack_selector: RPL 3 for 64-bit PV,
 *    1 for PV32) and the trap table.
 * 3. −EINVAL: for vCPU 0, vm_assist bits the domain may not have; more GDT entries than
 *    16 frames hold. (Registers and trap table stay as loaded in 2, as in Xen.)
 * 4. A vCPU never initialised: 64-bit only, −EINVAL for user mode without a user page
 *    table (ctrlreg[1]); the LDT base and size are taken. An initialised vCPU (a
 *    toolstack's reload): −EOPNOTSUPP unless the page tables (compat: the L3 the
 *    vCPU's L4 slot 0 names, compared as compat_pfn_to_cr3), the GDT frames and
 *    entries, and the LDT are the ones it has.
 * 5. Loaded: kernel stack, callbacks (compat: cs:eip pairs; 64-bit: syscall callback and
 *    FS/GS bases too), CR0.TS (the only CR0 bit a guest owns), CR4 through
 *    pv_fixup_guest_cr4, the debug registers. An initialised vCPU is done here.
 * 6. A vCPU never initialised: vCPU 0 takes the domain's vm_assist; the GDT frames are
 *    typed as descriptor pages (−EINVAL when one cannot be, or for more than
 *    FIRST_RESERVED_GDT_ENTRY entries); the page table ctrlreg[3] names (64-bit:
 *    xen_cr3_to_pfn, an L4; compat: compat_cr3_to_pfn, an L3 put in slot 0 of the vCPU's
 *    L4) and, 64-bit only, the user one (ctrlreg[1]) are validated and referenced as
 *    new_baseptr does (−EINVAL for a frame the domain does not own or that does not
 *    validate; what was taken is released).
 * Then VGCF_online says whether the vCPU is to run (the core applies it).
 *
 * The flags are kept (Xen's `arch.pv.vgc_flags`, set right after step 1; callback
 * registration updates their *_disables_events bits) and the FPU state is loaded there
 * too, as `vcpu_setup_fpu` (xen/arch/x86/i387.c) does: with VGCF_i387_valid, the FXSAVE
 * image in `fpu_ctxt`, restored in the form its byte 511 names (Xen's
 * FPU_WORD_SIZE_OFFSET: 4 or 2 the 32-bit form, anything else FXRSTOR64); without it,
 * the initial state (xstate_bv 0: FCW 0x37f, MXCSR 0x1f80, the rest zero). An image whose
 * MXCSR has reserved bits gets what `xrstor`'s fault fixup (xstate.c, stage 1) leaves:
 * x87 and SSE in their initial state with the image's MXCSR masked to the implemented
 * bits. The FPU state is the guest's (`fpu_initialised`) after a load with
 * VGCF_i387_valid and once the vCPU has run (Xen's fully eager FPU restores it at every
 * context switch, `vcpu_restore_fpu_nonlazy`); not after a load without it, nor after a
 * reset (`vcpu_reset`).
 *
 * @module
 */
import {
  Errno,
  StructBuffer,
  VcpuContextRun,
  VcpuState,
  writeGuestStruct,
  type DataModel,
  type Domain,
  type HypercallContext,
  type Machine,
  type StructLayout,
  type Vcpu,
} from "@hvkit/core";
import { FIRST_RESERVED_GDT_ENTRY } from "./pv-descriptors.js";
import {
  TRAP_INFO,
  VCPU_GUEST_CONTEXT_X86,
  VGCF_I387_VALID,
  VGCF_IN_KERNEL,
  VGCF_ONLINE,
} from "./abi.js";
import { Seg, type Reg, type X86CpuApi } from "./cpu-api.js";
import { setGuestCr4, type PvCtrlRegVcpu } from "./pv-ctrlreg.js";
import { setDebugreg, type PvDebugRegVcpu } from "./pv-debugreg.js";
import { newGuestCr3, type PvMmVcpu } from "./pv-mm-hypercalls.js";
import { PageType } from "./pv-mmu.js";

/** What a context touches on an x86 PV vCPU, whatever its width. */
export interface PvContextVcpu extends PvMmVcpu, PvCtrlRegVcpu, PvDebugRegVcpu {
  /** The owning domain. */
  readonly domain: Domain;
  /** The core vCPU. */
  readonly vcpu: Vcpu;
  /** Trap-table handler addresses by vector (0 none). */
  readonly trapAddr: BigUint64Array | Uint32Array;
  /** Trap-table flags by vector. */
  readonly trapFlags: Uint8Array;
  /** Trap-table code selectors by vector. */
  readonly trapCs: Uint16Array;
  /** Virtual IOPL (EFLAGS.IOPL bits in place). */
  iopl: number;
  /** Kernel stack selector (stack_switch). */
  kernelSs: number;
  /** evtchn_upcall_mask of the vCPU. */
  readonly upcallMask: number;
  /**
   * The VGCF_* flags of the last context loaded (Xen's `arch.pv.vgc_flags`, 32 bits);
   * callback registration with CALLBACKF_mask_events sets or clears
   * VGCF_failsafe_disables_events / VGCF_syscall_disables_events in it.
   */
  contextFlags: number;
  /**
   * Whether the FPU state is the guest's (Xen's `fpu_initialised`): set by a context load
   * with VGCF_i387_valid and when the vCPU runs; cleared by a load without it and by a reset.
   */
  fpuInitialised: boolean;
}

/** What differs between the 64-bit and the compat (PV32) `vcpu_guest_context`. */
export interface PvContextFormat<V extends PvContextVcpu> {
  /** The data model the context is laid out in (the target domain's). */
  readonly model: DataModel;
  /** A compat (PV32) context: one page table (an L3), CR3 as compat_pfn_to_cr3. */
  readonly compat: boolean;
  /** The general registers: `user_regs` field names and the register each loads. */
  readonly registers: readonly (readonly [string, Reg])[];
  /** The instruction pointer's field (`user_regs.rip` or `user_regs.eip`). */
  readonly ipField: string;
  /** The flags' field (`user_regs.rflags` or `user_regs.eflags`). */
  readonly flagsField: string;
  /**
   * The width's own checks of step 1 (see the module comment), on the context as given;
   * false refuses it with −EINVAL.
   */
  addressesOk(view: DataView): boolean;
  /**
   * Step 5's width-specific part: kernel stack pointer, callbacks (selectors fixed up
   * with `fixup`), and whatever else the width has (64-bit: syscall callback,
   * VGCF_syscall_disables_events, FS/GS bases).
   */
  loadEntryPoints(v: V, view: DataView, fixup: (sel: number) => number): void;
  /** The same fields written back into a context (arch_get_info_guest). */
  saveEntryPoints(v: V, view: DataView): void;
}

/** The arithmetic and system flags a context may set (bits 0–21 less the reserved ones). */
const X86_EFLAGS_ALL = 0x3f7fd5;
/** EFLAGS.IOPL (virtualised for PV guests, never loaded). */
const X86_EFLAGS_IOPL = 0x3000;
/** EFLAGS bit 1 (always set) and IF. */
const X86_EFLAGS_MBS = 0x2;
const X86_EFLAGS_IF = 0x200;
/** CR0.TS. */
const CR0_TS = 8;
/** Where Xen keeps the FIP/FDP width of an FXSAVE image (FPU_WORD_SIZE_OFFSET, asm/i387.h). */
const FPU_WORD_SIZE_OFFSET = 511;
/** MXCSR's offset in an FXSAVE image. */
const FX_MXCSR = 24;
/** MXCSR bits the CPU implements (its MXCSR_MASK, FXSAVE byte 28). */
const FX_MXCSR_MASK = 28;
/** Scratch FXSAVE image for a corrected load. */
const fxScratch = new DataView(new ArrayBuffer(512));
/** GDT frames a vCPU has (ARRAY_SIZE(v->arch.pv.gdt_frames): FIRST_RESERVED_GDT_PAGE). */
const GDT_FRAMES = 16;
/** The data segment selectors of user_regs and the registers they load. */
const DATA_SEGMENTS: readonly (readonly [string, Seg])[] = [
  ["user_regs.ds", Seg.DS],
  ["user_regs.es", Seg.ES],
  ["user_regs.fs", Seg.FS],
  ["user_regs.gs", Seg.GS],
];

/**
 * `__fixup_guest_selector` (xen/arch/x86/include/asm/desc.h): a selector whose RPL is
 * below the guest kernel's (`rpl`: 3 for 64-bit PV, 1 for PV32) gets that RPL.
 */
export function fixupGuestSelector(sel: number, rpl: number): number {
  return (sel & 3) >= rpl ? sel : (sel & ~3) | rpl;
}

/** compat_pfn_to_cr3 (asm/mm.h): a compat CR3 holds frame bits 20 and up in bits 0–11. */
export function compatPfnToCr3(pfn: number): number {
  return ((pfn << 12) | (pfn >>> 20)) >>> 0;
}

/** compat_cr3_to_pfn (asm/mm.h), the inverse of {@link compatPfnToCr3}. */
export function compatCr3ToPfn(cr3: number): number {
  return ((cr3 >>> 12) | (cr3 << 20)) >>> 0;
}

/** The frame a context's CR3 value names (compat_cr3_to_pfn or xen_cr3_to_pfn). */
function cr3ToPfn(compat: boolean, cr3: bigint): bigint {
  return compat ? BigInt(compatCr3ToPfn(Number(cr3 & 0xffffffffn))) : cr3 >> 12n;
}

/** A frame as a context's CR3 value (compat_pfn_to_cr3 or xen_pfn_to_cr3). */
function pfnToCr3(compat: boolean, pfn: number): bigint {
  return compat ? BigInt(compatPfnToCr3(pfn)) : BigInt(pfn) << 12n;
}

/**
 * Loads `view` (a `vcpu_guest_context` in `format`'s layout, already copied from the
 * caller) into `target`; `initialised` is the vCPU's `is_initialised`. Returns the
 * {@link VcpuContextRun} VGCF_online asks for, or −errno; never throws.
 */
export function setPvVcpuContext<V extends PvContextVcpu>(
  format: PvContextFormat<V>,
  machine: Machine,
  target: Vcpu,
  view: DataView,
  initialised: boolean,
): number {
  const layout = VCPU_GUEST_CONTEXT_X86.layout(format.model);
  const word = (path: string): bigint => layout.getBigInt(view, 0, path);
  const v = target.arch as unknown as V;
  const domain = target.domain;
  const compat = format.compat;
  const flags = Number(word("flags") & 0xffffffffn);
  // GUEST_KERNEL_RPL: ring 1 for PV32, ring 3 for 64-bit PV.
  const fixup = (sel: number): number => fixupGuestSelector(sel, compat ? 1 : 3);

  // 1. Checks before anything is loaded.
  if (!format.addressesOk(view)) return -Errno.EINVAL;
  const ldtEnts = word("ldt_ents");
  const ldtBase = word("ldt_base");
  if ((ldtBase & 0xfffn) !== 0n || ldtEnts > 8192n) return -Errno.EINVAL;

  // vgc_flags and vcpu_setup_fpu.
  v.contextFlags = flags >>> 0;
  loadFpu(v, view, layout.offsetOf("fpu_ctxt"), (flags & VGCF_I387_VALID) !== 0);

  // 2. Kernel mode, registers and trap table.
  const wasKernel = v.kernelMode;
  loadRegisters(format, v, layout, view, fixup);
  // TF_kernel_mode may be clear only for 64-bit PV; a compat guest's mode is its ring.
  v.kernelMode = compat ? v.cpu.cpl !== 3 : (flags & VGCF_IN_KERNEL) !== 0;

  // 3. Checks after the registers are in.
  if (target.id === 0) {
    const valid = machine.arch.vmAssistTypes?.(domain) ?? [];
    const asked = word("vm_assist");
    for (let b = 0n; b < BigInt(format.model.xenUlong * 8); b++) {
      if ((asked >> b) & 1n && !valid.includes(Number(b))) return -Errno.EINVAL;
    }
  }
  const gdtEnts = word("gdt_ents");
  const nrFrames = (gdtEnts + 511n) / 512n;
  if (nrFrames > BigInt(GDT_FRAMES)) return -Errno.EINVAL;
  const userCr3 = compat ? 0n : word("ctrlreg.1");

  // 4. A first load or a reload.
  if (!initialised) {
    if (!compat && (flags & VGCF_IN_KERNEL) === 0 && userCr3 === 0n) return -Errno.EINVAL;
    v.ldtEntries = Number(ldtEnts);
    v.ldtBase = ldtEnts !== 0n ? ldtBase : 0n;
  } else if (!sameTables(format, v, layout, view, Number(nrFrames))) {
    return -Errno.EOPNOTSUPP;
  }

  // 5. Stack, callbacks, CR0.TS, CR4, debug registers.
  v.kernelSs = fixup(Number(word("kernel_ss") & 0xffffn));
  format.loadEntryPoints(v, view, fixup);
  v.cr0Ts = (word("ctrlreg.0") & BigInt(CR0_TS)) !== 0n;
  setGuestCr4(v, Number(word("ctrlreg.4") & 0xffffffffn)); // pv_fixup_guest_cr4
  for (const i of [0, 1, 2, 3, 6, 7]) setDebugreg(v, i, word(`debugreg.${i}`));
  if (v.kernelMode !== wasKernel) v.loadCr3();
  const run = (flags & VGCF_ONLINE) !== 0 ? VcpuContextRun.Online : VcpuContextRun.Down;
  if (initialised) return run;

  // 6. Descriptor tables and page tables of a vCPU never initialised.
  if (target.id === 0) domain.vmAssist = Number(BigInt.asUintN(53, word("vm_assist")));
  if (gdtEnts > BigInt(FIRST_RESERVED_GDT_ENTRY)) return -Errno.EINVAL;
  const mmu = v.mmu;
  const frames: number[] = [];
  const frameCount = BigInt(machine.memory.frameTable.frames);
  const undoGdt = (): number => {
    for (const g of frames) mmu.putPageAndType(g, domain);
    return -Errno.EINVAL;
  };
  for (let i = 0; i < Number(nrFrames); i++) {
    const f = word(`gdt_frames.${i}`);
    if (f >= frameCount || mmu.getPageAndType(Number(f), PageType.SegDesc, domain) !== 0) {
      return undoGdt();
    }
    frames.push(Number(f));
  }

  // The kernel page table (new_baseptr's rules), then the user one.
  const rootMfn = cr3ToPfn(compat, word("ctrlreg.3"));
  if (rootMfn >= frameCount) return undoGdt();
  const oldKernel = v.guestTable;
  if (newGuestCr3(v, domain, Number(rootMfn)) !== 0) return undoGdt();
  if (userCr3 !== 0n) {
    const userMfn = userCr3 >> 12n;
    const rc =
      userMfn >= frameCount ? -1 : mmu.getPageAndType(Number(userMfn), PageType.L4, domain);
    if (rc !== 0) {
      if (v.guestTable !== oldKernel) {
        mmu.putPageAndType(v.guestTable, domain);
        v.guestTable = oldKernel;
      }
      return undoGdt();
    }
    if (v.guestTableUser >= 0) mmu.putPageAndType(v.guestTableUser, domain);
    v.guestTableUser = Number(userMfn);
  }
  for (const f of v.gdtFrames) mmu.putPageAndType(f, domain);
  v.gdtFrames = frames;
  v.gdtEntries = Number(gdtEnts);
  v.loadDescriptorTables?.();
  // The code size and stack width now come from the tables the context named.
  loadCodeSegment(compat, v.cpu, v.cpu.sel[Seg.CS], v.cpu.sel[Seg.SS]);
  v.loadCr3();
  v.cpu.flushTlb();
  // A compat guest's data segments are loaded through its tables as load_segments does
  // on the way back to it (a refused selector becomes null; Xen then delivers the failsafe
  // callback, which hvkit does not model). 64-bit code ignores their bases and limits, and
  // FS/GS bases come from the context's fs_base/gs_base.
  if (compat) for (const [, seg] of DATA_SEGMENTS) v.cpu.loadDataSegment(seg, v.cpu.sel[seg]);
  return run;
}

/**
 * Reload of an initialised vCPU: the page tables (64-bit: kernel, and user — none asked
 * when it has none, and then the context must be in kernel mode; compat: the L3), the GDT
 * and the LDT must be the ones the vCPU has.
 */
function sameTables<V extends PvContextVcpu>(
  format: PvContextFormat<V>,
  v: V,
  layout: StructLayout,
  view: DataView,
  nrFrames: number,
): boolean {
  const word = (path: string): bigint => layout.getBigInt(view, 0, path);
  if (v.guestTable < 0 || pfnToCr3(format.compat, v.guestTable) !== word("ctrlreg.3")) {
    return false;
  }
  if (!format.compat) {
    const inKernel = (Number(word("flags") & 0xffffffffn) & VGCF_IN_KERNEL) !== 0;
    if (v.guestTableUser < 0) {
      if (word("ctrlreg.1") !== 0n || !inKernel) return false;
    } else if (BigInt(v.guestTableUser) << 12n !== word("ctrlreg.1")) return false;
  }
  if (BigInt(v.gdtEntries) !== word("gdt_ents")) return false;
  for (let i = 0; i < nrFrames; i++) {
    if (BigInt(v.gdtFrames[i] ?? 0) !== word(`gdt_frames.${i}`)) return false;
  }
  if (BigInt(v.ldtEntries) !== word("ldt_ents")) return false;
  return v.ldtEntries === 0 || v.ldtBase === word("ldt_base");
}

/**
 * vcpu_setup_fpu: the image at `view[at ..]` when `valid`, else the initial state (see
 * the module comment for the form and for an image with a bad MXCSR).
 */
function loadFpu(v: PvContextVcpu, view: DataView, at: number, valid: boolean): void {
  const cpu = v.cpu;
  v.fpuInitialised = valid;
  if (!valid) {
    cpu.resetFpuState();
    return;
  }
  const width = view.getUint8(at + FPU_WORD_SIZE_OFFSET);
  const wide = width !== 4 && width !== 2;
  if (cpu.loadFxImage(view, at, wide)) return;
  // xrstor's fixup, stage 1: the components to their initial state, MXCSR masked.
  cpu.resetFpuState();
  cpu.saveFxImage(fxScratch, 0, wide);
  const mask = fxScratch.getUint32(FX_MXCSR_MASK, true);
  fxScratch.setUint32(FX_MXCSR, view.getUint32(at + FX_MXCSR, true) & mask, true);
  cpu.loadFxImage(fxScratch, 0, wide);
}

/**
 * CS and SS of a context into the CPU. The CPU takes 64-bit code when CS names no usable
 * code descriptor; a compat vCPU never runs 64-bit code (check_descriptor refuses L in
 * a PV32 guest's descriptors), so it keeps 32-bit code with a 32-bit stack there.
 */
function loadCodeSegment(compat: boolean, cpu: X86CpuApi, cs: number, ss: number): void {
  cpu.loadCodeSegment(cs, ss);
  if (compat && cpu.codeSize === 64) cpu.setCodeSize(32, true);
}

/** The register frame and the trap table (step 2). */
function loadRegisters<V extends PvContextVcpu>(
  format: PvContextFormat<V>,
  v: V,
  layout: StructLayout,
  view: DataView,
  fixup: (sel: number) => number,
): void {
  const cpu = v.cpu;
  for (const [name, reg] of format.registers) cpu.setReg(reg, layout.getBigInt(view, 0, name));
  cpu.rip = layout.getBigInt(view, 0, format.ipField);
  const eflags = Number(layout.getBigInt(view, 0, format.flagsField) & 0xffffffffn);
  cpu.rflags = (((eflags & X86_EFLAGS_ALL) | X86_EFLAGS_MBS) & ~X86_EFLAGS_IOPL) | X86_EFLAGS_IF;
  v.iopl = eflags & X86_EFLAGS_IOPL; // arch_set_info_guest: the virtual IOPL
  const cs = fixup(layout.getNumber(view, 0, "user_regs.cs"));
  loadCodeSegment(format.compat, cpu, cs, fixup(layout.getNumber(view, 0, "user_regs.ss")));
  // A compat guest runs in the ring its CS names; a 64-bit PV guest always in ring 3.
  if (format.compat) cpu.cpl = cs & 3;
  for (const [name, seg] of DATA_SEGMENTS) cpu.sel[seg] = layout.getNumber(view, 0, name);
  const at = layout.offsetOf("trap_ctxt");
  const ti = TRAP_INFO.layout(format.model);
  const wide = v.trapAddr instanceof BigUint64Array;
  for (let i = 0; i < 256; i++) {
    const address = ti.getBigInt(view, at + i * ti.size, "address");
    if (wide) v.trapAddr[i] = address;
    else v.trapAddr[i] = Number(address);
    v.trapFlags[i] = ti.getNumber(view, at + i * ti.size, "flags");
    v.trapCs[i] = fixup(ti.getNumber(view, at + i * ti.size, "cs"));
  }
}

/**
 * `arch_vcpu_reset` of an x86 PV vCPU: `pv_destroy_gdt` (the GDT frames' descriptor type
 * and references dropped, no entries) and `vcpu_destroy_pagetables` (the page-table
 * bases released — a compat vCPU's L4 slot 0 emptied — and CR3 cleared); the FPU state is
 * no longer the guest's (`vcpu_reset`: fpu_initialised 0, the registers kept). Returns 0.
 */
export function resetPvVcpu(v: PvContextVcpu): number {
  const mmu = v.mmu;
  const domain = v.domain;
  for (const f of v.gdtFrames) mmu.putPageAndType(f, domain);
  v.gdtFrames = [];
  v.gdtEntries = 0;
  v.loadDescriptorTables?.();
  v.fpuInitialised = false; // vcpu_reset
  if (v.guestTable >= 0) mmu.putPageAndType(v.guestTable, domain);
  if (v.guestTableUser >= 0) mmu.putPageAndType(v.guestTableUser, domain);
  v.guestTable = -1;
  v.guestTableUser = -1;
  v.loadCr3();
  v.cpu.cr3 = 0;
  v.cpu.flushTlb();
  return 0;
}

/** Scratch for one context (grown to the largest layout seen; hypercalls run one at a time). */
let buffer = new StructBuffer(0);

/**
 * Writes `v`'s state as a `vcpu_guest_context` in `format`'s layout (Xen's
 * `arch_get_info_guest`) to guest virtual `va` through `ctx.vcpu`: the FXSAVE image of the
 * FPU state (as Xen's save leaves it: FXSAVE64 for a 64-bit guest, the 32-bit form with
 * FCS/FDS for a compat one — `x87_fip_width` 8 or 4 — and that width in byte 511), the
 * flags (those of the last load less VGCF_i387_valid and VGCF_in_kernel, then
 * VGCF_i387_valid when the FPU state is the guest's, VGCF_online when the vCPU is not
 * down, VGCF_in_kernel in kernel mode — compat: CS in ring 1), the register frame
 * (saved_upcall_mask = the event mask, EFLAGS with the virtual IOPL), the trap table,
 * LDT/GDT, kernel stack, ctrlreg 0/2/4, ctrlreg 3 (xen_pfn_to_cr3 of the kernel table,
 * or compat_pfn_to_cr3 of the L3) and, 64-bit, ctrlreg 1, callbacks, vm_assist and the
 * debug registers (DR7 with the emulated I/O breakpoint enables). Returns 0 or −EFAULT.
 */
export function getPvVcpuContext<V extends PvContextVcpu>(
  format: PvContextFormat<V>,
  v: V,
  ctx: HypercallContext,
  va: bigint,
): number {
  const l = VCPU_GUEST_CONTEXT_X86.layout(format.model);
  if (buffer.bytes.length < l.size) buffer = new StructBuffer(l.size);
  const view = buffer.view;
  buffer.bytes.fill(0, 0, l.size);
  const cpu = v.cpu;
  const cs = cpu.sel[Seg.CS];
  const fpuAt = l.offsetOf("fpu_ctxt");
  cpu.saveFxImage(view, fpuAt, !format.compat);
  view.setUint8(fpuAt + FPU_WORD_SIZE_OFFSET, format.compat ? 4 : 8);
  let flags = v.contextFlags & ~(VGCF_I387_VALID | VGCF_IN_KERNEL);
  if (v.fpuInitialised) flags |= VGCF_I387_VALID;
  if (v.vcpu.state !== VcpuState.Down) flags |= VGCF_ONLINE;
  if (format.compat ? (cs & 3) === 1 : v.kernelMode) flags |= VGCF_IN_KERNEL;
  l.set(view, 0, "flags", BigInt(flags >>> 0));
  const mask = format.model.xenUlong === 8 ? 64 : 32;
  for (const [name, reg] of format.registers) {
    l.set(view, 0, name, BigInt.asUintN(mask, cpu.getReg(reg)));
  }
  l.set(view, 0, format.ipField, BigInt.asUintN(mask, cpu.rip));
  l.set(view, 0, format.flagsField, BigInt((cpu.rflags | (v.iopl & X86_EFLAGS_IOPL)) >>> 0));
  l.set(view, 0, "user_regs.saved_upcall_mask", v.upcallMask);
  l.set(view, 0, "user_regs.cs", cs);
  l.set(view, 0, "user_regs.ss", cpu.sel[Seg.SS]);
  for (const [name, seg] of DATA_SEGMENTS) l.set(view, 0, name, cpu.sel[seg]);
  const ti = TRAP_INFO.layout(format.model);
  const traps = l.offsetOf("trap_ctxt");
  for (let vec = 0; vec < 256; vec++) {
    const at = traps + vec * ti.size;
    ti.set(view, at, "vector", vec);
    ti.set(view, at, "flags", v.trapFlags[vec]);
    ti.set(view, at, "cs", v.trapCs[vec]);
    ti.set(view, at, "address", BigInt(v.trapAddr[vec]));
  }
  l.set(view, 0, "ldt_base", v.ldtEntries !== 0 ? v.ldtBase : 0n);
  l.set(view, 0, "ldt_ents", BigInt(v.ldtEntries));
  v.gdtFrames.forEach((f, i) => l.set(view, 0, `gdt_frames.${i}`, BigInt(f)));
  l.set(view, 0, "gdt_ents", BigInt(v.gdtEntries));
  l.set(view, 0, "kernel_ss", BigInt(v.kernelSs));
  l.set(view, 0, "ctrlreg.0", BigInt(((cpu.cr0 & ~CR0_TS) | (v.cr0Ts ? CR0_TS : 0)) >>> 0));
  l.set(view, 0, "ctrlreg.2", v.readCr2());
  l.set(view, 0, "ctrlreg.4", BigInt(v.cr4)); // the guest's view (arch.pv.ctrlreg[4])
  if (v.guestTable >= 0) l.set(view, 0, "ctrlreg.3", pfnToCr3(format.compat, v.guestTable));
  if (v.guestTableUser >= 0) l.set(view, 0, "ctrlreg.1", BigInt(v.guestTableUser) << 12n);
  format.saveEntryPoints(v, view);
  l.set(view, 0, "vm_assist", BigInt(v.domain.vmAssist));
  for (const i of [0, 1, 2, 3, 6]) l.set(view, 0, `debugreg.${i}`, cpu.getDebugReg(i));
  l.set(view, 0, "debugreg.7", cpu.getDebugReg(7) | BigInt(v.dr7Emul));
  return writeGuestStruct(ctx.vcpu, va, l, buffer);
}
