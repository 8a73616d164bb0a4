/**
 * VCPUOP_initialise for 64-bit PV vCPUs: loading a `vcpu_guest_context` into a vCPU that
 * was never initialised (xen/arch/x86/domain.c `arch_set_info_guest`, the native path).
 *
 * Refused with −EINVAL, before anything changes: DR6/DR7 wider than 32 bits; a
 * breakpoint address (DR0–DR3) in the hypervisor's range; a non-canonical rip, rsp,
 * kernel_sp, LDT base (when it has entries), FS/GS base, callback or trap-table address;
 * an LDT base in the hypervisor's range, not page aligned, or more than 8192 entries;
 * more GDT entries than 16 frames hold; user mode requested (VGCF_in_kernel clear)
 * without a user page table (ctrlreg[1]). Then, as Xen: the GDT frames are typed as
 * descriptor pages (−EINVAL when one cannot be, or for more than FIRST_RESERVED_GDT_ENTRY
 * entries), the kernel page table (ctrlreg[3] as xen_pfn_to_cr3) and the user one
 * (ctrlreg[1], if any) are validated as L4 tables and referenced as new_baseptr does
 * (−EINVAL for a frame the domain does not own or that does not validate; what was taken
 * is released). Registers are loaded with flags masked to the architectural ones, IOPL
 * cleared and IF set; selectors with RPL 0 are moved to ring 3 (64-bit PV kernels run
 * there); the trap table, kernel stack, callbacks, FS/GS bases, CR0.TS and CR4 (filtered
 * by pv_fixup_guest_cr4) come from the context. The FPU state and the LDT are not loaded
 * (not modelled yet).
 *
 * @module
 */
import {
  Errno,
  readGuestStruct,
  StructBuffer,
  type HypercallContext,
  type Vcpu,
} from "@hvkit/core";
import {
  isCanonical,
  PageType,
  Reg,
  Seg,
  VCPU_GUEST_CONTEXT_X86,
  VGCF_IN_KERNEL,
  VGCF_SYSCALL_DISABLES_EVENTS,
  X86_64_DATA_MODEL,
} from "@hvkit/arch-x86";
import { FIRST_RESERVED_GDT_ENTRY } from "./hypercalls.js";
import { setGuestCr4 } from "./ctrlreg.js";
import { setDebugreg } from "./debugreg.js";
import { newGuestCr3, Rflags } from "./traps.js";
import type { X86_64Pv } from "./plugin.js";

const layout = VCPU_GUEST_CONTEXT_X86.layout(X86_64_DATA_MODEL);
const buf = new StructBuffer(layout.size);

/** The arithmetic and system flags a context may set (X86_EFLAGS_ALL: bits 0–21 less reserved). */
const X86_EFLAGS_ALL = 0x3f7fd5;
/** EFLAGS.IOPL (virtualised for PV guests, never loaded). */
const X86_EFLAGS_IOPL = 0x3000;
/** End of the hypervisor's reserved range (HYPERVISOR_VIRT_END). */
const HYPERVISOR_VIRT_END = 0xffff880000000000n;

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

/**
 * Loads the context at `arg` (read through the calling vCPU) into `target`, which is
 * down and not initialised. Returns 0 or −errno; never throws.
 */
export function initialisePvVcpu(
  ctx: HypercallContext<X86_64Pv>,
  target: Vcpu<X86_64Pv>,
  arg: bigint,
): number {
  if (readGuestStruct(ctx.vcpu, arg, layout, buf) !== 0) return -Errno.EFAULT;
  const view = buf.view;
  const u64 = (path: string): bigint => layout.getBigInt(view, 0, path);
  const v = target.arch;
  const flags = Number(u64("flags") & 0xffffffffn);

  const dr6 = u64("debugreg.6");
  const dr7 = u64("debugreg.7");
  if (dr6 >> 32n !== 0n || dr7 >> 32n !== 0n) return -Errno.EINVAL;
  for (let i = 0; i < 4; i++) if (!addrOk(u64(`debugreg.${i}`))) return -Errno.EINVAL;
  const ldtEnts = u64("ldt_ents");
  const ldtBase = u64("ldt_base");
  for (const p of [
    "user_regs.rip",
    "user_regs.rsp",
    "kernel_sp",
    "fs_base",
    "gs_base_kernel",
    "gs_base_user",
    "event_callback_eip",
    "syscall_callback_eip",
    "failsafe_callback_eip",
  ]) {
    if (!isCanonical(u64(p))) return -Errno.EINVAL;
  }
  if (ldtEnts !== 0n && !isCanonical(ldtBase)) return -Errno.EINVAL;
  for (let i = 0; i < 256; i++) {
    if (!isCanonical(u64(`trap_ctxt.${i}.address`))) return -Errno.EINVAL;
  }
  if (!addrOk(ldtBase)) return -Errno.EINVAL;
  if ((ldtBase & 0xfffn) !== 0n || ldtEnts > 8192n) return -Errno.EINVAL;
  const gdtEnts = u64("gdt_ents");
  if ((gdtEnts + 511n) / 512n > 16n) return -Errno.EINVAL;
  const userCr3 = u64("ctrlreg.1");
  if ((flags & VGCF_IN_KERNEL) === 0 && userCr3 === 0n) return -Errno.EINVAL;

  // pv_set_gdt: type every frame as a descriptor page.
  if (gdtEnts > BigInt(FIRST_RESERVED_GDT_ENTRY)) return -Errno.EINVAL;
  const domain = target.domain;
  const mmu = v.mmu;
  const frames: number[] = [];
  const nrFrames = Number((gdtEnts + 511n) / 512n);
  const frameCount = ctx.machine.memory.frameTable.frames;
  for (let i = 0; i < nrFrames; i++) {
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

  const cpu = v.cpu;
  for (const [name, reg] of REGS) cpu.setReg(reg, u64(`user_regs.${name}`));
  cpu.rip = u64("user_regs.rip");
  const rflags = Number(u64("user_regs.rflags") & 0xffffffffn);
  cpu.rflags = (((rflags & X86_EFLAGS_ALL) | Rflags.MBS) & ~X86_EFLAGS_IOPL) | Rflags.IF;
  v.iopl = rflags & X86_EFLAGS_IOPL; // arch_set_info_guest: the virtual IOPL
  cpu.sel[Seg.CS] = fixupSelector(layout.getNumber(view, 0, "user_regs.cs"));
  cpu.sel[Seg.SS] = fixupSelector(layout.getNumber(view, 0, "user_regs.ss"));
  for (let i = 0; i < 256; i++) {
    v.trapAddr[i] = u64(`trap_ctxt.${i}.address`);
    v.trapFlags[i] = layout.getNumber(view, 0, `trap_ctxt.${i}.flags`);
    v.trapCs[i] = fixupSelector(layout.getNumber(view, 0, `trap_ctxt.${i}.cs`));
  }
  v.kernelSs = fixupSelector(Number(u64("kernel_ss") & 0xffffn));
  v.kernelSp = u64("kernel_sp");
  v.eventCallback = u64("event_callback_eip");
  v.failsafeCallback = u64("failsafe_callback_eip");
  v.syscallCallback = u64("syscall_callback_eip");
  v.syscallMasksEvents = (flags & VGCF_SYSCALL_DISABLES_EVENTS) !== 0;
  v.cr0Ts = (u64("ctrlreg.0") & 8n) !== 0n; // only CR0.TS is the guest's
  setGuestCr4(v, Number(u64("ctrlreg.4") & 0xffffffffn)); // pv_fixup_guest_cr4
  v.kernelMode = (flags & VGCF_IN_KERNEL) !== 0;
  cpu.fsBase = u64("fs_base");
  cpu.gsBase = v.kernelMode ? u64("gs_base_kernel") : u64("gs_base_user");
  v.inactiveGsBase = v.kernelMode ? u64("gs_base_user") : u64("gs_base_kernel");
  // arch_set_info_guest: set_debugreg for DR0-3, DR6, DR7 (already validated above).
  for (const i of [0, 1, 2, 3, 6, 7]) setDebugreg(v, i, u64(`debugreg.${i}`));
  v.loadCr3();
  cpu.flushTlb();
  return 0;
}
