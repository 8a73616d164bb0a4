/**
 * The x86_64 PV vCPU: drives an {@link X86CpuApi} and turns its exits into what Xen does
 * for a 64-bit PV guest — hypercalls from guest kernel mode, system calls and exceptions
 * bounced to the guest kernel, CPUID answered by policy, privileged instructions emulated.
 *
 * @module
 */
import {
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
import {
  disassembleAt,
  Reg,
  REG64_NAMES,
  Seg,
  Vector,
  pvCpuid,
  pvFatal,
  PvExitAction,
  runPvVcpu,
  type PvExitResult,
  type PvRunVcpu,
  getPvVcpuContext,
  type PvContextVcpu,
  type PvMsrVcpu,
  type PvMmu,
  type X86CpuApi,
  VGCF_SYSCALL_DISABLES_EVENTS,
} from "@hvkit/arch-x86";
import { cpuidPolicy } from "@hvkit/arch-x86";
import { Cr4, setGuestCr4 } from "@hvkit/arch-x86";
import { VcpuMsrs } from "@hvkit/arch-x86";
import { PV64_CONTEXT } from "./vcpu-context.js";
import { installXenGdt, loadGuestDescriptorTables } from "@hvkit/arch-x86";
import {
  bounceCompatSyscall,
  bounceSysenter,
  bounceSyscall,
  createBounceFrame,
  handleException,
  injectEvent,
  newGuestCr3,
  retireEmulated,
  Rflags,
  Selector,
} from "./traps.js";
import type { X86_64Pv } from "./plugin.js";
import { writeHypercallPage } from "./builder.js";

/** Builds the X86 CPU model for one vCPU. */
export type X86CpuFactory = (machine: Machine) => X86CpuApi;

/** One 64-bit PV vCPU's architectural and hypervisor-side state. */
export class PvVcpu implements ArchVcpu, PvContextVcpu, PvMsrVcpu, PvRunVcpu {
  /** The exit record {@link run} fills. */
  readonly exit: VcpuExit = { kind: VcpuExitKind.BudgetExhausted, retired: 0, message: "" };
  /** The interpreter. */
  readonly cpu: X86CpuApi;
  /** True in guest kernel mode (TF_kernel_mode), false in guest user mode. */
  kernelMode = true;
  /** Kernel top-level page table (guest_table), −1 none. */
  guestTable = -1;
  /** User top-level page table (guest_table_user), −1 none. */
  guestTableUser = -1;
  /** Trap table handler addresses by vector (0 = none). */
  readonly trapAddr = new BigUint64Array(256);
  /** Trap table flags by vector (bits 0–1 DPL, bit 2 mask events). */
  readonly trapFlags = new Uint8Array(256);
  /** Trap table code selectors by vector. */
  readonly trapCs = new Uint16Array(256);
  /** Event upcall address (CALLBACKTYPE_event), 0 none. */
  eventCallback = 0n;
  /** Failsafe callback address. */
  failsafeCallback = 0n;
  /** 64-bit syscall callback address. */
  syscallCallback = 0n;
  /** VGCF_* flags of the last context loaded (arch-x86's pv-vcpu-context.ts). */
  contextFlags = 0;
  /** Whether the FPU state is the guest's (arch-x86's pv-vcpu-context.ts). */
  fpuInitialised = false;
  /** Whether the syscall callback masks events: VGCF_syscall_disables_events of {@link contextFlags}. */
  get syscallMasksEvents(): boolean {
    return (this.contextFlags & VGCF_SYSCALL_DISABLES_EVENTS) !== 0;
  }
  set syscallMasksEvents(mask: boolean) {
    this.contextFlags = mask
      ? this.contextFlags | VGCF_SYSCALL_DISABLES_EVENTS
      : this.contextFlags & ~VGCF_SYSCALL_DISABLES_EVENTS;
  }
  /** NMI callback address. */
  nmiCallback = 0n;
  /** CALLBACKTYPE_syscall32: `syscall` from compat code (AMD processors), 0 none. */
  syscall32Callback = 0n;
  /** Whether the syscall32 callback was registered with CALLBACKF_mask_events (kept, as Xen keeps it; delivery uses the syscall flag). */
  syscall32MasksEvents = false;
  /** CALLBACKTYPE_sysenter: `sysenter` from guest code, 0 none. */
  sysenterCallback = 0n;
  /** Whether the sysenter callback masks events. */
  sysenterMasksEvents = false;
  /** Kernel stack selector (stack_switch). */
  kernelSs = 0;
  /** Kernel stack pointer used when a bounce enters from user mode. */
  kernelSp = 0n;
  /** GS base of the mode not currently active (swapped on mode changes). */
  inactiveGsBase = 0n;
  /** GDT frames (set_gdt) and entry count. */
  gdtFrames: number[] = [];
  /** Number of GDT entries. */
  gdtEntries = 0;
  /** LDT base address and entry count (MMUEXT_SET_LDT). */
  ldtBase = 0n;
  /** LDT entries. */
  ldtEntries = 0;
  /** CR0.TS as the guest set it (fpu_taskswitch). */
  cr0Ts = false;
  /**
   * Virtual IOPL (arch.pv.iopl): EFLAGS.IOPL as the guest asked for it, in place (0 or
   * a multiple of 0x1000 up to 0x3000). The CPU always runs the guest at IOPL 0; in/out,
   * cli and sti that fault are checked against this (PHYSDEVOP_set_iopl, or iret under
   * VMASST_TYPE_architectural_iopl).
   */
  iopl = 0;
  /** Guest-visible CR2: the last #PF address delivered. */
  cr2 = 0n;
  /**
   * The guest's view of CR4 (arch.pv.ctrlreg[4]): what `mov %cr4` reads, filtered by
   * pv_fixup_guest_cr4 (ctrlreg.ts). Change it with `setGuestCr4`, which also loads the
   * CPU's CR4.
   */
  cr4 = 0;
  /** The guest's CR4.DE (debugging extensions: DR4/DR5 invalid, I/O breakpoints allowed). */
  get cr4De(): boolean {
    return (this.cr4 & Cr4.DE) !== 0;
  }
  /** The vCPU's MSRs (CPUID faulting enable, virtual machine-check banks), msr.ts. */
  readonly msrs = new VcpuMsrs();
  /** Enables of the guest's I/O breakpoints, kept out of hardware DR7 (Xen's pv.dr7_emul). */
  dr7Emul = 0;
  /** Scratch for CPUID results. */
  readonly cpuidOut = new Uint32Array(4);

  /**
   * @param machine - the machine.
   * @param domain - the owning domain.
   * @param vcpu - the core vCPU.
   * @param mmu - the machine's PV MMU.
   * @param cpuFactory - builds the interpreter.
   */
  constructor(
    readonly machine: Machine<X86_64Pv>,
    readonly domain: Domain<X86_64Pv>,
    readonly vcpu: Vcpu<X86_64Pv>,
    readonly mmu: PvMmu,
    cpuFactory: X86CpuFactory,
  ) {
    this.cpu = cpuFactory(machine);
    const cpu = this.cpu;
    cpu.cr0 = 0x80050033; // PG | AM | WP | NE | ET | MP | PE
    setGuestCr4(this, 0); // pv_vcpu_initialise
    cpu.efer = 0x100 | 0x400 | 0x800 | 0x1; // LME | LMA | NXE | SCE
    cpu.cpl = 3;
    cpu.sel[Seg.CS] = Selector.CS64;
    cpu.sel[Seg.SS] = Selector.SS;
    cpu.rflags = Rflags.MBS | Rflags.IF;
    installXenGdt(cpu);
  }

  /** Hands the GDT frames and LDT (after set_gdt, MMUEXT_SET_LDT, a context load) to the CPU. */
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

  /** A 64-bit guest (PvMsrVcpu). */
  readonly compat = false;

  /** The domain's XEN_X86_MSR_RELAXED. */
  get msrRelaxed(): boolean {
    return this.domain.arch.msrRelaxed;
  }

  /** Whether the guest registered a #GP handler. */
  get hasGpHandler(): boolean {
    return this.trapAddr[13] !== 0n;
  }

  /** Fills the page at `pa` with the `syscall` hypercall stubs (the MSR's hypercall page). */
  writeHypercallPage(pa: number): void {
    writeHypercallPage(this.machine.memory.bytes, pa);
  }

  /** CR2 as `mov %cr2` reads it. */
  readCr2(): bigint {
    return this.cr2;
  }

  /** `mov reg, %cr2`: also vcpu_info's arch.cr2. */
  writeCr2(value: bigint): void {
    this.cr2 = value;
    const vi = this.vcpuInfoAddr();
    if (vi >= 0) this.machine.memory.view.setBigUint64(vi + 16, value, true);
  }

  /** CR3 as `mov %cr3` reads it (xen_pfn_to_cr3: the frame's address). */
  readCr3(): bigint {
    return BigInt(Math.max(0, this.guestTable) * 4096);
  }

  /** `mov reg, %cr3`: xen_cr3_to_pfn (everything above bit 12), then new_guest_cr3. */
  writeCr3(value: bigint): number {
    return newGuestCr3(this, Number(value >> 12n));
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

  /** Loads the page-table base of the current mode into the CPU (flushing its TLB). */
  loadCr3(): void {
    const t = this.kernelMode ? this.guestTable : this.guestTableUser;
    if (t >= 0) this.cpu.cr3 = t * 4096;
  }

  /** toggle_guest_mode: kernel ↔ user, swapping GS bases and page tables. */
  toggleGuestMode(): void {
    const gs = this.cpu.gsBase;
    this.cpu.gsBase = this.inactiveGsBase;
    this.inactiveGsBase = gs;
    this.kernelMode = !this.kernelMode;
    this.loadCr3();
  }

  /** Writes this vCPU's `vcpu_guest_context` to `va` (domctl getvcpucontext; arch-x86's pv-vcpu-context.ts). */
  saveGuestContext(ctx: HypercallContext, va: bigint): number {
    return getPvVcpuContext(PV64_CONTEXT, this, ctx, va);
  }

  /** Sets the domain crashing with `message`; the run loop reports it as a Fatal exit. */
  fatal(message: string): VcpuExit {
    return pvFatal(this, message);
  }

  /** Runs the guest (arch-x86's shared PV loop, pv-run.ts). */
  run(budget: number): VcpuExit {
    return runPvVcpu(this, budget);
  }

  /** Set by the privileged-op emulator for `hlt` (block until an event). */
  idleRequested = false;

  /** test_guest_events: the event callback, events masked. */
  bounceToEventCallback(): string | null {
    if (this.eventCallback === 0n) return null;
    return createBounceFrame(this, this.eventCallback, -1, true);
  }

  /**
   * `syscall` left rcx = return rip and r11 = rflags; with what sysret would restore, a
   * hypercall from guest kernel mode, else the guest's own system call (from compat code:
   * CALLBACKTYPE_syscall32).
   */
  onSyscall(): PvExitResult {
    const cpu = this.cpu;
    cpu.rflags = (Number(cpu.getReg(Reg.R11) & 0x3f7fd5n) | Rflags.MBS) >>> 0;
    cpu.cpl = 3;
    if (cpu.codeSize !== 64) return bounceCompatSyscall(this) ?? PvExitAction.Continue;
    cpu.sel[Seg.CS] = Selector.CS64;
    cpu.sel[Seg.SS] = Selector.SS;
    if (this.kernelMode) return PvExitAction.Hypercall;
    return bounceSyscall(this) ?? PvExitAction.Continue;
  }

  /** Bounces to the trap table or emulates (traps.ts). */
  onException(): PvExitResult {
    return handleException(this) ?? PvExitAction.Continue;
  }

  /** CPUID from the policy, single-stepped like any instruction; faulting: #GP(0) from user mode. */
  onCpuid(): PvExitResult {
    if (!pvCpuid(this, cpuidPolicy))
      return injectEvent(this, Vector.GP, 0) ?? PvExitAction.Continue;
    return retireEmulated(this) ?? PvExitAction.Continue;
  }

  /** CALLBACKTYPE_sysenter (traps.ts). */
  onSysenter(): PvExitResult {
    return bounceSysenter(this) ?? PvExitAction.Continue;
  }

  readHypercall(args: HypercallArgs): number {
    const cpu = this.cpu;
    setArg(args, 0, cpu.getReg(Reg.RDI));
    setArg(args, 1, cpu.getReg(Reg.RSI));
    setArg(args, 2, cpu.getReg(Reg.RDX));
    setArg(args, 3, cpu.getReg(Reg.R10));
    setArg(args, 4, cpu.getReg(Reg.R8));
    setArg(args, 5, cpu.getReg(Reg.R9));
    return cpu.getReg32(Reg.RAX);
  }

  completeHypercall(result: number | bigint): void {
    this.cpu.setReg(Reg.RAX, BigInt.asUintN(64, BigInt(result)));
  }

  translate(va: bigint, write: boolean): number {
    return this.mmu.translate(this.guestTable, BigInt.asUintN(64, va), write);
  }

  /** The guest rip: lets `hvkit run --trace` single-step and print each instruction. */
  pc(): bigint {
    return this.cpu.rip;
  }

  /** The CPU's execution profile (`hvkit run --profile`). */
  startProfile(): () => ExecutionProfile {
    return this.cpu.startProfile();
  }

  describe(): string {
    const cpu = this.cpu;
    const hex = (v: bigint): string => v.toString(16).padStart(16, "0");
    const names = REG64_NAMES;
    const lines: string[] = [];
    lines.push(
      `d${this.domain.id}v${this.vcpu.id} ${this.kernelMode ? "guest kernel" : "guest user"} mode  rip ${hex(cpu.rip)}  rflags ${cpu.rflags.toString(16).padStart(8, "0")}  cs ${cpu.sel[Seg.CS].toString(16)} ss ${cpu.sel[Seg.SS].toString(16)}  cr3 ${cpu.cr3.toString(16)} cr2 ${hex(this.cr2)}`,
    );
    for (let i = 0; i < 16; i += 4) {
      lines.push(
        names
          .slice(i, i + 4)
          .map((n, j) => `${n.padStart(3)} ${hex(cpu.getReg((i + j) as Reg))}`)
          .join("  "),
      );
    }
    lines.push(`code: ${disassembleAt(this, cpu.rip, 1)[0]}`);
    return lines.join("\n");
  }
}

function setArg(args: HypercallArgs, i: number, v: bigint): void {
  args.set(i, Number(v & 0xffffffffn), Number((v >> 32n) & 0xffffffffn));
}
