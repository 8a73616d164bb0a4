/**
 * The contract of the x86 CPU model (`X86Cpu` in `cpu.ts`) towards its users: the PV
 * layer (traps, hypercalls, PV MMU), the domain builders, the CLI's tracer and the tests.
 *
 * The CPU executes guest instructions; it never decides policy. Anything a hypervisor must
 * decide — `syscall` (a hypercall, or the guest's own system call), an exception (bounce
 * to the guest's trap table, emulate, or crash), `cpuid`, privileged instructions —
 * stops the run with an {@link X86ExitReason} and the details in {@link X86Exit}; the
 * caller acts and runs the CPU again.
 *
 * @module
 */
import type { ExecutionProfile } from "@hvkit/core";
import type { DescriptorTables } from "./segment.js";

/** General-purpose register numbers as the ModRM/REX encoding numbers them. */
export enum Reg {
  /** rax */ RAX = 0,
  /** rcx */ RCX = 1,
  /** rdx */ RDX = 2,
  /** rbx */ RBX = 3,
  /** rsp */ RSP = 4,
  /** rbp */ RBP = 5,
  /** rsi */ RSI = 6,
  /** rdi */ RDI = 7,
  /** r8 */ R8 = 8,
  /** r9 */ R9 = 9,
  /** r10 */ R10 = 10,
  /** r11 */ R11 = 11,
  /** r12 */ R12 = 12,
  /** r13 */ R13 = 13,
  /** r14 */ R14 = 14,
  /** r15 */ R15 = 15,
}

/** The 64-bit register names, index {@link Reg} (as disassemblers and crash reports print them). */
export const REG64_NAMES: readonly string[] = [
  "rax",
  "rcx",
  "rdx",
  "rbx",
  "rsp",
  "rbp",
  "rsi",
  "rdi",
  "r8",
  "r9",
  "r10",
  "r11",
  "r12",
  "r13",
  "r14",
  "r15",
];

/** Segment register numbers (the encoding's sreg field). */
export enum Seg {
  /** es */ ES = 0,
  /** cs */ CS = 1,
  /** ss */ SS = 2,
  /** ds */ DS = 3,
  /** fs */ FS = 4,
  /** gs */ GS = 5,
}

/** Architectural exception vectors (Intel SDM vol. 3, table 6-1). */
export enum Vector {
  /** Divide error. */ DE = 0,
  /** Debug. */ DB = 1,
  /** Non-maskable interrupt. */ NMI = 2,
  /** Breakpoint (int3). */ BP = 3,
  /** Overflow (into). */ OF = 4,
  /** BOUND range exceeded. */ BR = 5,
  /** Invalid opcode. */ UD = 6,
  /** Device not available. */ NM = 7,
  /** Double fault. */ DF = 8,
  /** Invalid TSS. */ TS = 10,
  /** Segment not present. */ NP = 11,
  /** Stack-segment fault. */ SS = 12,
  /** General protection. */ GP = 13,
  /** Page fault. */ PF = 14,
  /** x87 floating-point error. */ MF = 16,
  /** Alignment check. */ AC = 17,
  /** Machine check. */ MC = 18,
  /** SIMD floating-point exception. */ XM = 19,
}

/** #PF error-code bits (SDM vol. 3, 4.7). */
export const PfErr = {
  /** The fault was a protection violation (else: not present). */
  P: 1,
  /** The access was a write. */
  W: 2,
  /** The access was from CPL 3. */
  U: 4,
  /** A reserved bit was set in a paging entry. */
  RSVD: 8,
  /** The access was an instruction fetch. */
  I: 16,
} as const;

/** Why {@link X86CpuApi.run} stopped. */
export enum X86ExitReason {
  /** The instruction budget ran out. */
  Budget = 0,
  /**
   * `syscall` executed. The CPU has already done the architectural part (rcx = address of
   * the next instruction, r11 = rflags); rip points after the instruction. The PV layer
   * decides whether it is a hypercall (guest kernel mode) or the guest's system call.
   */
  Syscall = 1,
  /**
   * An exception was raised and not delivered: {@link X86Exit.vector},
   * {@link X86Exit.errorCode}, {@link X86Exit.cr2}. rip is the faulting instruction for
   * faults, the next instruction for traps and software interrupts
   * ({@link X86Exit.software} is true for `int n`, `int3`, `into`).
   */
  Exception = 2,
  /** `cpuid` executed: leaf in eax, subleaf in ecx; rip still points at it. The caller writes eax–edx and calls {@link X86CpuApi.skipInstruction}. {@link X86Exit.forced} tells whether the forced-emulation prefix preceded it. */
  Cpuid = 3,
  /** `hlt` executed at CPL 0 (for hardware-assisted guests; at CPL > 0 it is a #GP). */
  Halt = 4,
  /**
   * `sysenter` executed (32-bit or 64-bit code). The CPU changed nothing but rip, which
   * points after the instruction; the hypervisor delivers it (Xen: sysenter_entry, the
   * guest's CALLBACKTYPE_sysenter).
   */
  Sysenter = 5,
}

/** Details of the last exit, overwritten by every run. */
export interface X86Exit {
  /** Why the run stopped. */
  reason: X86ExitReason;
  /** Instructions retired during the run. */
  retired: number;
  /** For exceptions: the vector. */
  vector: number;
  /** For exceptions with an error code: the code; −1 when the vector has none. */
  errorCode: number;
  /** For #PF: the faulting linear address. */
  cr2: bigint;
  /** For exceptions: raised by `int n` / `int3` / `into` rather than by a fault. */
  software: boolean;
  /** For Cpuid: the forced-emulation prefix (`ud2; .ascii "xen"`) preceded the instruction. */
  forced: boolean;
  /** Length of the instruction that caused the exit (0 if not decoded). */
  instructionLength: number;
}

/** The x86 CPU model's public surface. */
export interface X86CpuApi {
  /** Details of the last exit. */
  readonly exit: X86Exit;
  /**
   * Starts counting where instructions run (the interpreter or compiled blocks) and
   * returns the reader of the counts so far (`ArchVcpu.startProfile`).
   */
  startProfile(): () => ExecutionProfile;
  /** Runs until `budget` instructions retire or an exit happens; returns the reason. */
  run(budget: number): X86ExitReason;
  /** Advances rip past the instruction that caused the current exit. */
  skipInstruction(): void;

  /** Reads general-purpose register `r` (64 bits). */
  getReg(r: Reg): bigint;
  /** Writes general-purpose register `r` (64 bits). */
  setReg(r: Reg, value: bigint): void;
  /** Low 32 bits of register `r`, as an unsigned number (fast path). */
  getReg32(r: Reg): number;
  /** The instruction pointer. */
  rip: bigint;
  /** The architectural RFLAGS value (materialised from lazy flags on read). */
  rflags: number;
  /** Current privilege level (0–3). */
  cpl: number;
  /** Segment selectors, index {@link Seg}. Writing one does not load a descriptor. */
  readonly sel: Uint16Array;
  /**
   * Code size the CPU decodes and executes with: 64 in 64-bit mode; 32 or 16 in
   * compatibility mode (a code segment with L = 0 and D = 1 or 0), where operand and
   * address sizes default to it, eip wraps at 4 GiB, the stack is esp (SS.B = 1) or sp,
   * and the instructions invalid in 64-bit mode (push/pop of es/cs/ss/ds, pusha/popa, the
   * BCD adjusts, bound, arpl, les/lds, inc/dec 40–4F, far call/jmp with a pointer) are valid.
   */
  readonly codeSize: 64 | 32 | 16;
  /**
   * Sets {@link codeSize} and the stack width (SS.B; ignored for 64-bit code) after the
   * hypervisor changed CS or SS itself (exception delivery, iret, context load).
   */
  setCodeSize(code: 64 | 32 | 16, stackB?: boolean): void;
  /**
   * The descriptor tables segment loads, far transfers and lar/lsl/verr/verw read
   * (segment.ts). A hypervisor sets {@link DescriptorTables.enabled} once it has filled
   * them, and updates them when the guest changes its GDT or LDT.
   */
  readonly tables: DescriptorTables;
  /**
   * Sets CS and SS as a hypervisor does when it resumes the guest at a frame it built or
   * checked (exception delivery, the iret hypercall, a context load): no privilege checks;
   * the code size and stack width come from the descriptors the selectors name (64-bit
   * code and a 32-bit stack when the tables are off or a descriptor is not code/usable),
   * and so do the bases and limits that apply to CS and SS outside 64-bit mode (flat when
   * the tables are off or the descriptor is not a code or data segment).
   */
  loadCodeSegment(cs: number, ss: number): void;
  /**
   * A return to the privilege level of `cs`'s RPL with CS and SS already checked (an
   * outer-level IRET, or a hypervisor's iretq to its guest as Xen's exit to a PV guest):
   * sets the CPL, loads CS and SS as {@link loadCodeSegment}, and makes null each data
   * segment register whose descriptor's DPL is below the new CPL (Intel SDM vol. 2, IRET).
   */
  returnToOuterLevel(cs: number, ss: number): void;
  /**
   * Checks a frame a hypervisor is about to return to with `iretq` from ring 0 (Xen's exit
   * to a PV guest) as the processor would: `cs` a present code segment whose DPL fits its
   * RPL, `eip` within its limit, `ss` a present writable data segment of that ring (Intel
   * SDM vol. 2, IRET). Changes no register state; on false the fault the `iretq` would
   * raise is in {@link exit} (`vector`, `errorCode`, and `cr2` for a #PF reading the LDT).
   */
  checkReturnFrame(cs: number, ss: number, eip: number): boolean;
  /**
   * Loads data segment register `seg` (DS, ES, FS or GS) with `sel` as Xen's
   * `load_segments` does on the way back to a PV guest: the checks of an instruction's
   * load at the current CPL, and where they refuse the selector a null selector instead
   * (`loadsegment`'s fixup), never faulting.
   * @returns false when `sel` was refused and the register made null.
   */
  loadDataSegment(seg: number, sel: number): boolean;
  /**
   * Reads the descriptor selector `sel` names into {@link DescriptorTables.lo}/`hi` as the
   * processor sees the tables (the guest's GDT frames, the hypervisor's reserved page, the
   * LDT), for a hypervisor emulating an instruction (Xen's pv_emul_read_descriptor). Never
   * faults: false for a null selector, tables not installed, an index beyond the table's
   * limit or an LDT page not mapped.
   */
  readDescriptor(sel: number): boolean;
  /**
   * Whether `syscall` executes in compatibility mode (AMD processors) rather than raising
   * #UD (Intel processors, whose behaviour the model follows by default).
   */
  syscallInCompat: boolean;
  /** FS base (64 bits). */
  fsBase: bigint;
  /** GS base (64 bits). */
  gsBase: bigint;
  /** KERNEL_GS_BASE: the value `swapgs` exchanges with the GS base (64 bits). */
  kernelGsBase: bigint;
  /** CR2: last page-fault address. */
  cr2: bigint;
  /**
   * CR3: machine address of the top-level page table. Writing it flushes the TLB
   * (non-global entries; hvkit flushes all).
   */
  cr3: number;
  /** CR0 (PG, WP, TS, ...). */
  cr0: number;
  /** CR4 (PAE, PGE, OSFXSR, ...). */
  cr4: number;
  /** EFER (LME, LMA, NXE, SCE). */
  efer: number;
  /** XCR0 (XFEATURE_ENABLED_MASK) as `xgetbv` reads it; a PV guest's is set by Xen's `xsetbv` emulation. */
  xcr0: number;
  /**
   * Virtual time: the time-stamp counter at the start of the next {@link run}. `rdtsc`
   * reads `tscBase + retired × tscPerInstruction`, where `retired` counts the instructions
   * retired so far in that run, so time depends only on guest progress (deterministic).
   * The owner advances it between runs (e.g. by `exit.retired × tscPerInstruction`).
   */
  tscBase: number;
  /** TSC ticks per retired instruction (see {@link tscBase}). */
  tscPerInstruction: number;
  /** Flushes the whole software TLB. */
  flushTlb(): void;
  /** Drops the TLB entry for the page containing `va`. */
  invlpg(va: bigint): void;
  /**
   * Walks the current page tables for a hypervisor access at CPL 0 rights, with the
   * hardware's side effects (accessed, and dirty for writes).
   * @returns the machine address, or −1 if the access would fault.
   */
  translate(va: bigint, write: boolean, user: boolean): number;
  /**
   * Debug register DRn: 0–3 breakpoint addresses, 6 status, 7 control; 4 and 5 read as 6
   * and 7 (the CR4.DE = 0 aliases). Reset values: DR6 0xffff0ff0, DR7 0x400.
   */
  getDebugReg(n: number): bigint;
  /**
   * Writes DRn as the hardware holds it (no validation: the hypervisor validates first).
   * Enabling a breakpoint in DR7 makes the CPU check breakpoints (debug stepping) until
   * DR7 disables them all again.
   */
  setDebugReg(n: number, value: bigint): void;
  /**
   * Tells the CPU that machine bytes `[pa, pa + length)` were written from outside the
   * CPU (hypercall copy, builder), so cached decodings of them are dropped.
   */
  invalidateCode(pa: number, length: number): void;

  // ---- the FPU state as a whole (a hypervisor's save area) ----
  /**
   * Writes the x87, MMX and SSE state as the 512-byte image `fxsave` stores at
   * `view[off ..]`: FIP/FDP as 64-bit offsets when `wide` (FXSAVE64, REX.W), else 32-bit
   * offsets with FCS/FDS. Bytes 416–511 are left as they are (software may use them).
   */
  saveFxImage(view: DataView, off: number, wide: boolean): void;
  /**
   * Loads such an image as `fxrstor` (FXRSTOR64 when `wide`). Returns false and loads
   * nothing when its MXCSR has a bit the CPU does not implement (where fxrstor raises #GP).
   */
  loadFxImage(view: DataView, off: number, wide: boolean): boolean;
  /**
   * Puts the x87 and SSE state in its initial configuration (XRSTOR's init: FNINIT's
   * FCW 0x37f and empty stack with ST0–7 zero, XMM registers zero, MXCSR 0x1f80).
   */
  resetFpuState(): void;
}
