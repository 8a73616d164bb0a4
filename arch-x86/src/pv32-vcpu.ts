/**
 * The 32-bit PAE PV vCPU (Xen's PV32: a compat guest of a 64-bit hypervisor): drives an
 * {@link X86CpuApi} in long mode on a per-vCPU L4 Xen owns (slot 0 the guest's L3,
 * {@link PvMmu.newCompatL4}); the guest kernel runs in ring 1 on FLAT_RING1_CS. Its exits
 * become what Xen does: `int $0x82` from ring 1 is a hypercall (number in eax, arguments
 * in ebx, ecx, edx, esi, edi, ebp, result in eax), exceptions and software interrupts
 * bounce to the guest's trap table (pv32-traps.ts), CPUID is answered by the PV32 policy.
 *
 * @module
 */
import {
  VCPU_INFO,
  VcpuExitKind,
  type ArchVcpu,
  type Domain,
  type HypercallArgs,
  type HypercallContext,
  type Machine,
  type Vcpu,
  type VcpuExit,
  type ExecutionProfile,
} from "@hvkit/core";
import { Reg, Seg, Vector, type X86CpuApi } from "./cpu-api.js";
import { cpuidPolicyPv32 } from "./cpuid.js";
import { X86_32_DATA_MODEL } from "./data-model.js";
import { disassembleAt } from "./disasm.js";
import { installXenGdt, loadGuestDescriptorTables, XEN_COMPAT_GDT } from "./pv-descriptors.js";
import { Cr4, setGuestCr4 } from "./pv-ctrlreg.js";
import { VcpuMsrs, type PvMsrVcpu } from "./pv-msr.js";
import { pvCpuid } from "./pv-priv-op.js";
import type { PvDomainState } from "./pv-plugin.js";
import { writeHypercallPage32 } from "./pv32-plugin.js";
import { newGuestCr3 } from "./pv-mm-hypercalls.js";
import type { PvMmu } from "./pv-mmu.js";
import {
  compatCr3ToPfn,
  compatPfnToCr3,
  getPvVcpuContext,
  type PvContextVcpu,
} from "./pv-vcpu-context.js";
import { PV32_CONTEXT } from "./pv32-context.js";
import { pvFatal, PvExitAction, runPvVcpu, type PvExitResult, type PvRunVcpu } from "./pv-run.js";
import {
  bounceSyscall32,
  bounceSysenter32,
  createBounceFrame32,
  handleException32,
  HYPERCALL_VECTOR,
  injectEvent32,
  Pv32Selector,
} from "./pv32-traps.js";

/** Offset of arch.cr2 in a compat vcpu_info (where #PF addresses are published). */
const CR2_OFFSET = VCPU_INFO.layout(X86_32_DATA_MODEL).offsetOf("arch.cr2");

/** One 32-bit PAE PV vCPU's architectural and hypervisor-side state. */
export class Pv32Vcpu implements ArchVcpu, PvContextVcpu, PvMsrVcpu, PvRunVcpu {
  /** The exit record {@link run} fills. */
  readonly exit: VcpuExit = { kind: VcpuExitKind.BudgetExhausted, retired: 0, message: "" };
  /** The interpreter. */
  readonly cpu: X86CpuApi;
  /** True while the guest is in ring 1 (its kernel), false in ring 3. */
  kernelMode = true;
  /** The guest's L3 (guest_table as the guest names it), −1 none. */
  guestTable = -1;
  /** guest_table_user: unused by compat guests (one table for both rings), −1. */
  guestTableUser = -1;
  /** The Xen-owned L4 the CPU runs on (setup_compat_l4); slot 0 is {@link guestTable}. */
  readonly compatL4: number;
  /** Trap table handler addresses by vector (0 = none). */
  readonly trapAddr = new Uint32Array(256);
  /** Trap table flags by vector (bits 0–1 DPL, bit 2 mask events). */
  readonly trapFlags = new Uint8Array(256);
  /** Trap table code selectors by vector. */
  readonly trapCs = new Uint16Array(256);
  /** Event upcall code selector (FLAT_COMPAT_KERNEL_CS until set_callbacks). */
  eventCs: number = Pv32Selector.KERNEL_CS;
  /** Event upcall address, 0 none. */
  eventEip = 0;
  /** Failsafe callback code selector. */
  failsafeCs: number = Pv32Selector.KERNEL_CS;
  /** Failsafe callback address. */
  failsafeEip = 0;
  /** CALLBACKTYPE_syscall32 code selector (null: #GP at the `syscall`). */
  syscall32Cs = 0;
  /** CALLBACKTYPE_syscall32 address. */
  syscall32Eip = 0;
  /** Whether the syscall32 callback masks events. */
  syscall32MasksEvents = false;
  /** CALLBACKTYPE_sysenter code selector. */
  sysenterCs = 0;
  /** CALLBACKTYPE_sysenter address, 0 none. */
  sysenterEip = 0;
  /** Whether the sysenter callback masks events. */
  sysenterMasksEvents = false;
  /** Ring-1 stack selector for bounces from ring 3 (stack_switch). */
  kernelSs: number = Pv32Selector.KERNEL_DS;
  /** Ring-1 stack pointer for bounces from ring 3 (stack_switch). */
  kernelSp = 0;
  /** GDT frames (set_gdt). */
  gdtFrames: number[] = [];
  /** GDT entries. */
  gdtEntries = 0;
  /** LDT base (MMUEXT_SET_LDT). */
  ldtBase = 0n;
  /** LDT entries. */
  ldtEntries = 0;
  /** CR0.TS as the guest set it (fpu_taskswitch). */
  cr0Ts = false;
  /** VGCF_* flags of the last context loaded (pv-vcpu-context.ts). */
  contextFlags = 0;
  /** Whether the FPU state is the guest's (pv-vcpu-context.ts). */
  fpuInitialised = false;
  /** Virtual IOPL (EFLAGS.IOPL bits in place). */
  iopl = 0;
  /** The last #PF address delivered. */
  cr2 = 0;
  /** The guest's view of CR4 (pv_fixup_guest_cr4, pv-ctrlreg.ts). */
  cr4 = 0;
  /** The guest's CR4.DE (debugging extensions: DR4/DR5 invalid, I/O breakpoints allowed). */
  get cr4De(): boolean {
    return (this.cr4 & Cr4.DE) !== 0;
  }
  /** Enables of the guest's I/O breakpoints, kept out of hardware DR7 (pv.dr7_emul). */
  dr7Emul = 0;
  /** The vCPU's MSRs (CPUID faulting enable, virtual machine-check banks), pv-msr.ts. */
  readonly msrs = new VcpuMsrs();
  /** A 32-bit guest (PvMsrVcpu). */
  readonly compat = true;
  /** Unused by a 32-bit guest (no SHADOW_GS_BASE). */
  inactiveGsBase = 0n;
  /** Offset of arch.cr2 in this guest's vcpu_info. */
  readonly cr2Offset = CR2_OFFSET;
  /** Scratch for CPUID results. */
  readonly cpuidOut = new Uint32Array(4);

  /**
   * @param machine - the machine.
   * @param domain - the owning domain.
   * @param vcpu - the core vCPU.
   * @param mmu - the machine's PV MMU (PV32 format).
   * @param cpu - the interpreter for this vCPU.
   */
  constructor(
    readonly machine: Machine,
    readonly domain: Domain,
    readonly vcpu: Vcpu,
    readonly mmu: PvMmu,
    cpu: X86CpuApi,
  ) {
    this.cpu = cpu;
    this.compatL4 = mmu.newCompatL4();
    cpu.cr0 = 0x80050033; // PG | AM | WP | NE | ET | MP | PE
    setGuestCr4(this, 0); // pv_vcpu_initialise
    cpu.efer = 0x100 | 0x400 | 0x800 | 0x1; // LME | LMA | NXE | SCE
    cpu.cpl = 1;
    cpu.sel[Seg.CS] = Pv32Selector.KERNEL_CS;
    cpu.sel[Seg.SS] = Pv32Selector.KERNEL_DS;
    cpu.setCodeSize(32);
    cpu.rflags = 0x202;
    installXenGdt(cpu, XEN_COMPAT_GDT);
  }

  /** Hands the guest's GDT frames and LDT to the CPU (set_gdt, MMUEXT_SET_LDT). */
  loadDescriptorTables(): void {
    loadGuestDescriptorTables(this.cpu, this.gdtFrames, this.ldtBase, this.ldtEntries);
  }

  /** Machine address of this vCPU's vcpu_info in shared_info, or −1. */
  vcpuInfoAddr(): number {
    return this.vcpu.vcpuInfoAddr();
  }

  /** The vCPU's number (PvMsrVcpu). */
  get vcpuId(): number {
    return this.vcpu.id;
  }

  /** The domain's XEN_X86_MSR_RELAXED. */
  get msrRelaxed(): boolean {
    return (this.domain.arch as PvDomainState).msrRelaxed;
  }

  /** Whether the guest registered a #GP handler. */
  get hasGpHandler(): boolean {
    return this.trapAddr[13] !== 0;
  }

  /** Fills the page at `pa` with the `int $0x82` hypercall stubs (the MSR's hypercall page). */
  writeHypercallPage(pa: number): void {
    writeHypercallPage32(this.machine.memory.bytes, pa);
  }

  /** CR2 as `mov %cr2` reads it. */
  readCr2(): bigint {
    return BigInt(this.cr2);
  }

  /** `mov reg, %cr2`: also the compat vcpu_info's arch.cr2. */
  writeCr2(value: bigint): void {
    this.cr2 = Number(value & 0xffffffffn);
    const vi = this.vcpuInfoAddr();
    if (vi >= 0) this.machine.memory.view.setUint32(vi + this.cr2Offset, this.cr2, true);
  }

  /** CR3 as `mov %cr3` reads it: compat_pfn_to_cr3 (frame bits 20+ rotated into 0–11). */
  readCr3(): bigint {
    return BigInt(compatPfnToCr3(Math.max(0, this.guestTable)));
  }

  /** `mov reg, %cr3`: compat_cr3_to_pfn, then new_guest_cr3. */
  writeCr3(value: bigint): number {
    return newGuestCr3(this, this.domain, compatCr3ToPfn(Number(value & 0xffffffffn)));
  }

  /** Writes this vCPU's compat `vcpu_guest_context` to `va` (domctl getvcpucontext; pv-vcpu-context.ts). */
  saveGuestContext(ctx: HypercallContext, va: bigint): number {
    return getPvVcpuContext(PV32_CONTEXT, this, ctx, va);
  }

  /** evtchn_upcall_mask of this vCPU (1 when it has no vcpu_info). */
  get upcallMask(): number {
    const a = this.vcpuInfoAddr();
    return a < 0 ? 1 : this.machine.memory.bytes[a + 1];
  }
  set upcallMask(v: number) {
    const a = this.vcpuInfoAddr();
    if (a >= 0) this.machine.memory.bytes[a + 1] = v;
  }

  /** Points the compat L4's slot 0 at the guest's L3 and loads the L4 into the CPU. */
  loadCr3(): void {
    this.mmu.setCompatRoot(this.compatL4, this.guestTable);
    this.cpu.cr3 = this.compatL4 * 4096;
  }

  /** Sets the domain crashing with `message`; the run loop reports it as a Fatal exit. */
  fatal(message: string): VcpuExit {
    return pvFatal(this, message);
  }

  /** Runs the guest (arch-x86's shared PV loop, pv-run.ts). */
  run(budget: number): VcpuExit {
    return runPvVcpu(this, budget);
  }

  /** Unused: the compat privileged-op emulator has no `hlt` yet. */
  idleRequested = false;

  /** test_guest_events: the event callback as its `cs:eip`. */
  bounceToEventCallback(): string | null {
    if (this.eventEip === 0) return null;
    return createBounceFrame32(this, this.eventCs, this.eventEip, -1, true);
  }

  /**
   * `syscall` from the guest's code, which only processors that execute it outside 64-bit
   * mode deliver here (Intel's raise #UD): Xen's compat_syscall (pv32-traps.ts).
   */
  onSyscall(): PvExitResult {
    return bounceSyscall32(this) ?? PvExitAction.Continue;
  }

  /** `int $0x82` from ring 1 is a hypercall; anything else bounces (pv32-traps.ts). */
  onException(): PvExitResult {
    const x = this.cpu.exit;
    if (x.software && x.vector === HYPERCALL_VECTOR && this.cpu.cpl === 1) {
      return PvExitAction.Hypercall;
    }
    return handleException32(this) ?? PvExitAction.Continue;
  }

  /** CPUID from the PV32 policy; with CPUID faulting on, #GP(0) from guest user mode. */
  onCpuid(): PvExitResult {
    if (pvCpuid(this, cpuidPolicyPv32)) return PvExitAction.Continue;
    return injectEvent32(this, Vector.GP, 0) ?? PvExitAction.Continue;
  }

  /** `sysenter` from the guest's code: Xen's compat_sysenter (pv32-traps.ts). */
  onSysenter(): PvExitResult {
    return bounceSysenter32(this) ?? PvExitAction.Continue;
  }

  readHypercall(args: HypercallArgs): number {
    const cpu = this.cpu;
    args.set(0, cpu.getReg32(Reg.RBX), 0);
    args.set(1, cpu.getReg32(Reg.RCX), 0);
    args.set(2, cpu.getReg32(Reg.RDX), 0);
    args.set(3, cpu.getReg32(Reg.RSI), 0);
    args.set(4, cpu.getReg32(Reg.RDI), 0);
    args.set(5, cpu.getReg32(Reg.RBP), 0);
    return cpu.getReg32(Reg.RAX);
  }

  completeHypercall(result: number | bigint): void {
    this.cpu.setReg(Reg.RAX, BigInt.asUintN(32, BigInt(result)));
  }

  translate(va: bigint, write: boolean): number {
    return this.mmu.translate(this.guestTable, va, write);
  }

  /** The guest eip. */
  pc(): bigint {
    return this.cpu.rip;
  }

  /** The CPU's execution profile (`hvkit run --profile`). */
  startProfile(): () => ExecutionProfile {
    return this.cpu.startProfile();
  }

  describe(): string {
    const cpu = this.cpu;
    const hex = (v: number): string => (v >>> 0).toString(16).padStart(8, "0");
    const names = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"];
    const regs = names.map((n, i) => `${n} ${hex(cpu.getReg32(i as Reg))}`);
    return [
      `d${this.domain.id}v${this.vcpu.id} ring ${cpu.cpl}  eip ${hex(Number(cpu.rip & 0xffffffffn))}  eflags ${hex(cpu.rflags)}  cs ${cpu.sel[Seg.CS].toString(16)} ss ${cpu.sel[Seg.SS].toString(16)}  cr2 ${hex(this.cr2)}`,
      regs.slice(0, 4).join("  "),
      regs.slice(4).join("  "),
      `code: ${disassembleAt(this, cpu.rip, 1)[0]}`,
    ].join("\n");
  }
}
