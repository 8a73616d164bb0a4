/**
 * `arch_set_info_guest` and `arch_vcpu_reset` for 64-bit PV vCPUs
 * (xen/arch/x86/domain.c, the native path; xen/arch/x86/mm.c `vcpu_destroy_pagetables`;
 * pv/descriptor-tables.c `pv_destroy_gdt`): loading a `vcpu_guest_context` (VCPUOP_initialise,
 * domctl setvcpucontext) and dropping what a loaded one holds (setvcpucontext with a null
 * context).
 *
 * Loading, in Xen's order:
 * 1. Refused with −EINVAL before anything changes: DR6/DR7 wider than 32 bits; a
 *    breakpoint address (DR0–DR3) in the hypervisor's range; a non-canonical rip, rsp,
 *    kernel_sp, LDT base (when it has entries), FS/GS base, callback or trap-table
 *    address; an LDT base in the hypervisor's range, not page aligned, or more than 8192
 *    entries.
 * 2. Loaded: the flags' kernel mode, the registers (flags masked to the architectural
 *    ones; selectors with RPL 0 moved to ring 3, where 64-bit PV kernels run) and the
 *    trap table.
 * 3. −EINVAL: for vCPU 0, vm_assist bits the domain may not have; more GDT entries than
 *    16 frames hold. (Registers and trap table stay as loaded in 2, as in Xen.)
 * 4. A vCPU never initialised: −EINVAL for user mode (VGCF_in_kernel clear) without a user
 *    page table (ctrlreg[1]); the LDT base and size are taken. An initialised vCPU (a
 *    toolstack's reload): −EOPNOTSUPP unless the kernel and user page tables, the GDT
 *    frames and entries, and the LDT are the ones it has.
 * 5. Loaded: IOPL virtualised, IF set, kernel stack, callbacks, FS/GS bases, CR0.TS, the
 *    debug registers. An initialised vCPU is done here.
 * 6. A vCPU never initialised: vCPU 0 takes the domain's vm_assist; the GDT frames are
 *    typed as descriptor pages (−EINVAL when one cannot be, or for more than
 *    FIRST_RESERVED_GDT_ENTRY entries); the kernel page table (ctrlreg[3] as
 *    xen_pfn_to_cr3) and the user one (ctrlreg[1], if any) are validated as L4 tables and
 *    referenced as new_baseptr does (−EINVAL for a frame the domain does not own or that
 *    does not validate; what was taken is released).
 * Then VGCF_online says whether the vCPU is to run (the core applies it). The FPU state is
 * not loaded (not modelled yet).
 *
 * @module
 */
import { Errno, VcpuContextRun, type Machine, type Vcpu } from "@hvkit/core";
import {
  isCanonical,
  PageType,
  Reg,
  VCPU_GUEST_CONTEXT_X86,
  VGCF_IN_KERNEL,
  VGCF_ONLINE,
  VGCF_SYSCALL_DISABLES_EVENTS,
  X86_64_DATA_MODEL,
  FIRST_RESERVED_GDT_ENTRY,
} from "@hvkit/arch-x86";
import { setGuestCr4 } from "@hvkit/arch-x86";
import { setDebugreg } from "@hvkit/arch-x86";
import { newGuestCr3, Rflags } from "./traps.js";
import type { X86_64Pv } from "./plugin.js";
import type { PvVcpu } from "./pv-vcpu.js";

const layout = VCPU_GUEST_CONTEXT_X86.layout(X86_64_DATA_MODEL);

/** The arithmetic and system flags a context may set (X86_EFLAGS_ALL: bits 0–21 less reserved). */
const X86_EFLAGS_ALL = 0x3f7fd5;
/** EFLAGS.IOPL (virtualised for PV guests, never loaded). */
const X86_EFLAGS_IOPL = 0x3000;
/** End of the hypervisor's reserved range (HYPERVISOR_VIRT_END). */
const HYPERVISOR_VIRT_END = 0xffff880000000000n;
/** GDT frames a vCPU has (ARRAY_SIZE(v->arch.pv.gdt_frames): FIRST_RESERVED_GDT_PAGE). */
const GDT_FRAMES = 16;

/** `__addr_ok`: a guest address, below the canonical hole or above the hypervisor. */
function addrOk(a: bigint): boolean {
  return a < 1n << 47n || a >= HYPERVISOR_VIRT_END;
}

/** RPL 0 selectors become RPL 3 (fixup_guest_code/stack_selector for 64-bit PV). */
function fixupSelector(sel: number): number {
  return (sel & 3) === 0 ? sel | 3 : sel;
}

const REGS: readonly (readonly [string, Reg])[] = [
  ["r15", Reg.R15],
  ["r14", Reg.R14],
  ["r13", Reg.R13],
  ["r12", Reg.R12],
  ["rbp", Reg.RBP],
  ["rbx", Reg.RBX],
  ["r11", Reg.R11],
  ["r10", Reg.R10],
  ["r9", Reg.R9],
  ["r8", Reg.R8],
  ["rax", Reg.RAX],
  ["rcx", Reg.RCX],
  ["rdx", Reg.RDX],
  ["rsi", Reg.RSI],
  ["rdi", Reg.RDI],
  ["rsp", Reg.RSP],
];

const CANONICAL: readonly string[] = [
  "user_regs.rip",
  "user_regs.rsp",
  "kernel_sp",
  "fs_base",
  "gs_base_kernel",
  "gs_base_user",
  "event_callback_eip",
  "syscall_callback_eip",
  "failsafe_callback_eip",
];

/**
 * Loads `context` (a 64-bit `vcpu_guest_context`, already copied from the caller) into
 * `target`; `initialised` is the vCPU's `is_initialised`. Returns the
 * {@link VcpuContextRun} VGCF_online asks for, or −errno; never throws.
 */
export function setPvVcpuContext(
  machine: Machine<X86_64Pv>,
  target: Vcpu<X86_64Pv>,
  view: DataView,
  initialised: boolean,
): number {
  const u64 = (path: string): bigint => layout.getBigInt(view, 0, path);
  const v = target.arch;
  const domain = target.domain;
  const flags = Number(u64("flags") & 0xffffffffn);

  // 1. Checks before anything is loaded.
  if (u64("debugreg.6") >> 32n !== 0n || u64("debugreg.7") >> 32n !== 0n) return -Errno.EINVAL;
  for (let i = 0; i < 4; i++) if (!addrOk(u64(`debugreg.${i}`))) return -Errno.EINVAL;
  const ldtEnts = u64("ldt_ents");
  const ldtBase = u64("ldt_base");
  for (const p of CANONICAL) if (!isCanonical(u64(p))) return -Errno.EINVAL;
  if (ldtEnts !== 0n && !isCanonical(ldtBase)) return -Errno.EINVAL;
  for (let i = 0; i < 256; i++) {
    if (!isCanonical(u64(`trap_ctxt.${i}.address`))) return -Errno.EINVAL;
  }
  if (!addrOk(ldtBase)) return -Errno.EINVAL;
  if ((ldtBase & 0xfffn) !== 0n || ldtEnts > 8192n) return -Errno.EINVAL;

  // 2. Kernel mode, registers and trap table.
  const wasKernel = v.kernelMode;
  v.kernelMode = (flags & VGCF_IN_KERNEL) !== 0;
  v.syscallMasksEvents = (flags & VGCF_SYSCALL_DISABLES_EVENTS) !== 0;
  loadRegisters(v, view);

  // 3. Checks after the registers are in.
  if (target.id === 0) {
    const valid = machine.arch.vmAssistTypes?.(domain) ?? [];
    const asked = u64("vm_assist");
    for (let b = 0n; b < 64n; b++) {
      if ((asked >> b) & 1n && !valid.includes(Number(b))) return -Errno.EINVAL;
    }
  }
  const gdtEnts = u64("gdt_ents");
  const nrFrames = (gdtEnts + 511n) / 512n;
  if (nrFrames > BigInt(GDT_FRAMES)) return -Errno.EINVAL;
  const userCr3 = u64("ctrlreg.1");

  // 4. A first load or a reload.
  if (!initialised) {
    if ((flags & VGCF_IN_KERNEL) === 0 && userCr3 === 0n) return -Errno.EINVAL;
    v.ldtEntries = Number(ldtEnts);
    v.ldtBase = ldtEnts !== 0n ? ldtBase : 0n;
  } else if (!sameTables(v, view, Number(nrFrames))) {
    return -Errno.EOPNOTSUPP;
  }

  // 5. Stack, callbacks, bases, CR0.TS, debug registers.
  loadRest(v, view, wasKernel);
  const run = (flags & VGCF_ONLINE) !== 0 ? VcpuContextRun.Online : VcpuContextRun.Down;
  if (initialised) return run;

  // 6. Descriptor tables and page tables of a vCPU never initialised.
  if (target.id === 0) domain.vmAssist = Number(BigInt.asUintN(53, u64("vm_assist")));
  if (gdtEnts > BigInt(FIRST_RESERVED_GDT_ENTRY)) return -Errno.EINVAL;
  const mmu = v.mmu;
  const frames: number[] = [];
  const frameCount = machine.memory.frameTable.frames;
  for (let i = 0; i < Number(nrFrames); i++) {
    const f = u64(`gdt_frames.${i}`);
    const rc =
      f >= BigInt(frameCount) ? -1 : mmu.getPageAndType(Number(f), PageType.SegDesc, domain);
    if (rc !== 0) {
      for (const g of frames) mmu.putPageAndType(g, domain);
      return -Errno.EINVAL;
    }
    frames.push(Number(f));
  }
  const undoGdt = (): number => {
    for (const g of frames) mmu.putPageAndType(g, domain);
    return -Errno.EINVAL;
  };

  // The kernel page table (new_baseptr's rules), then the user one.
  const cr3Mfn = u64("ctrlreg.3") >> 12n;
  if (cr3Mfn >= BigInt(frameCount)) return undoGdt();
  const oldKernel = v.guestTable;
  if (newGuestCr3(v, Number(cr3Mfn)) !== 0) return undoGdt();
  if (userCr3 !== 0n) {
    const userMfn = userCr3 >> 12n;
    const rc =
      userMfn >= BigInt(frameCount) ? -1 : mmu.getPageAndType(Number(userMfn), PageType.L4, domain);
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
  v.loadDescriptorTables();
  v.loadCr3();
  v.cpu.flushTlb();
  return run;
}

/**
 * Reload of an initialised vCPU: the page tables (kernel, and user — none asked when it
 * has none, and then the context must be in kernel mode), the GDT and the LDT must be
 * the ones the vCPU has.
 */
function sameTables(v: PvVcpu, view: DataView, nrFrames: number): boolean {
  const u64 = (path: string): bigint => layout.getBigInt(view, 0, path);
  const inKernel = (Number(u64("flags") & 0xffffffffn) & VGCF_IN_KERNEL) !== 0;
  if (v.guestTable < 0 || BigInt(v.guestTable) << 12n !== u64("ctrlreg.3")) return false;
  if (v.guestTableUser < 0) {
    if (u64("ctrlreg.1") !== 0n || !inKernel) return false;
  } else if (BigInt(v.guestTableUser) << 12n !== u64("ctrlreg.1")) return false;
  if (BigInt(v.gdtEntries) !== u64("gdt_ents")) return false;
  for (let i = 0; i < nrFrames; i++) {
    if (BigInt(v.gdtFrames[i] ?? 0) !== u64(`gdt_frames.${i}`)) return false;
  }
  if (BigInt(v.ldtEntries) !== u64("ldt_ents")) return false;
  return v.ldtEntries === 0 || v.ldtBase === u64("ldt_base");
}

/** The register frame and the trap table (step 2). */
function loadRegisters(v: PvVcpu, view: DataView): void {
  const u64 = (path: string): bigint => layout.getBigInt(view, 0, path);
  const cpu = v.cpu;
  for (const [name, reg] of REGS) cpu.setReg(reg, u64(`user_regs.${name}`));
  cpu.rip = u64("user_regs.rip");
  const rflags = Number(u64("user_regs.rflags") & 0xffffffffn);
  cpu.rflags = (((rflags & X86_EFLAGS_ALL) | Rflags.MBS) & ~X86_EFLAGS_IOPL) | Rflags.IF;
  v.iopl = rflags & X86_EFLAGS_IOPL; // arch_set_info_guest: the virtual IOPL
  cpu.loadCodeSegment(
    fixupSelector(layout.getNumber(view, 0, "user_regs.cs")),
    fixupSelector(layout.getNumber(view, 0, "user_regs.ss")),
  );
  for (let i = 0; i < 256; i++) {
    v.trapAddr[i] = u64(`trap_ctxt.${i}.address`);
    v.trapFlags[i] = layout.getNumber(view, 0, `trap_ctxt.${i}.flags`);
    v.trapCs[i] = fixupSelector(layout.getNumber(view, 0, `trap_ctxt.${i}.cs`));
  }
}

/**
 * Kernel stack, callbacks, FS/GS bases, CR0.TS and the debug registers (step 5); the
 * page-table base of the mode the context is in, when that changed.
 */
function loadRest(v: PvVcpu, view: DataView, wasKernel: boolean): void {
  const u64 = (path: string): bigint => layout.getBigInt(view, 0, path);
  const cpu = v.cpu;
  v.kernelSs = fixupSelector(Number(u64("kernel_ss") & 0xffffn));
  v.kernelSp = u64("kernel_sp");
  v.eventCallback = u64("event_callback_eip");
  v.failsafeCallback = u64("failsafe_callback_eip");
  v.syscallCallback = u64("syscall_callback_eip");
  v.cr0Ts = (u64("ctrlreg.0") & 8n) !== 0n;
  setGuestCr4(v, Number(u64("ctrlreg.4") & 0xffffffffn)); // pv_fixup_guest_cr4
  cpu.fsBase = u64("fs_base");
  cpu.gsBase = v.kernelMode ? u64("gs_base_kernel") : u64("gs_base_user");
  v.inactiveGsBase = v.kernelMode ? u64("gs_base_user") : u64("gs_base_kernel");
  // arch_set_info_guest: set_debugreg for DR0-3, DR6, DR7 (already validated above).
  for (const i of [0, 1, 2, 3, 6, 7]) setDebugreg(v, i, u64(`debugreg.${i}`));
  if (v.kernelMode !== wasKernel) v.loadCr3();
}

/**
 * `arch_vcpu_reset` of a 64-bit PV vCPU: `pv_destroy_gdt` (the GDT frames' descriptor
 * type and references dropped, no entries) and `vcpu_destroy_pagetables` (the kernel and
 * user page-table bases released, CR3 cleared). Returns 0.
 */
export function resetPvVcpu(target: Vcpu<X86_64Pv>): number {
  const v = target.arch;
  const mmu = v.mmu;
  const domain = target.domain;
  for (const f of v.gdtFrames) mmu.putPageAndType(f, domain);
  v.gdtFrames = [];
  v.gdtEntries = 0;
  v.loadDescriptorTables();
  if (v.guestTable >= 0) mmu.putPageAndType(v.guestTable, domain);
  if (v.guestTableUser >= 0) mmu.putPageAndType(v.guestTableUser, domain);
  v.guestTable = -1;
  v.guestTableUser = -1;
  v.cpu.cr3 = 0;
  v.cpu.flushTlb();
  return 0;
}
