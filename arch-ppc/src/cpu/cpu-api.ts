/**
 * The contract of the PowerPC CPU model ({@link PpcCpu}) towards its users: the MMU (which
 * implements {@link PpcMemory}), the PV layer (hypercalls, interrupts, the guest's own
 * system calls), the domain builder, tracers and tests.
 *
 * The CPU executes guest instructions; it never decides policy. What a hypervisor must
 * decide — `sc` (the guest's system call) and `sc 1` (a hypercall), a program interrupt
 * (illegal or privileged instruction, trap), a storage interrupt from the MMU, an
 * instruction the MMU owns (SLB and TLB management) — stops the run with a
 * {@link PpcExitReason} and the details in {@link PpcExit}; the caller acts (delivers the
 * interrupt through SRR0/SRR1 to the guest's vector, emulates, or crashes the domain) and
 * runs the CPU again.
 *
 * Registers are 64-bit and held as two int32 halves (`…Hi`/`…Lo`), as the x86 model holds
 * them: no BigInt and no allocation on the instruction path.
 *
 * @module
 */
import { MSR_EE, MSR_PR, MSR_RI, MSR_SF } from "../abi.js";

/** Why {@link PpcCpu.run} stopped. */
export enum PpcExitReason {
  /** The instruction budget ran out. */
  Budget = 0,
  /**
   * `sc` with LEV = 0: the guest's own system call (vector 0xC00). pc points after the
   * instruction, as SRR0 must on delivery.
   */
  SystemCall = 1,
  /**
   * `sc 1` (LEV = 1): a hypervisor call (`abi/ppc.md`: r3 = call number). pc points after
   * the instruction; the caller writes the result into r3 and runs again.
   */
  HypervisorCall = 2,
  /**
   * A program interrupt (vector 0x700): {@link PpcExit.program} says which kind (SRR1 bits
   * 43/44/45/46 of the ISA: FP enabled, illegal, privileged, trap). pc points at the
   * instruction.
   */
  Program = 3,
  /**
   * A data storage interrupt raised by the {@link PpcMemory} (vector 0x300): DAR and
   * DSISR as the memory reported them ({@link PpcExit.dar}, {@link PpcExit.dsisr}); pc
   * points at the instruction, which had no effect.
   */
  DataStorage = 4,
  /** An instruction storage interrupt (vector 0x400): the fetch at pc failed. */
  InstructionStorage = 5,
  /** A floating-point instruction ran with MSR[FP] = 0 (vector 0x800); pc points at it. */
  FpUnavailable = 6,
  /**
   * An instruction the CPU leaves to its owner (the MMU): SLB and TLB management
   * (`slbie`, `slbia`, `slbmte`, `slbmfev`, `slbmfee`, `tlbie`, `tlbiel`, `tlbia`,
   * `tlbsync`). pc points at it; {@link PpcExit.word} is the instruction word. The owner
   * performs it and calls {@link PpcCpu.skipInstruction}.
   */
  Emulate = 7,
  /** An alignment interrupt (vector 0x600): `lmw`/`stmw`/`lwarx`/`stwcx.` etc. at a misaligned address. */
  Alignment = 8,
  /**
   * A data segment interrupt (vector 0x380): the MMU found no SLB entry for the effective
   * address ({@link PpcExit.dar}); DSISR is not reported. pc points at the instruction.
   */
  DataSegment = 9,
  /** An instruction segment interrupt (vector 0x480): no SLB entry for the fetch at pc. */
  InstructionSegment = 10,
  /**
   * An instruction that may make an interrupt deliverable retired: `mtmsr`/`mtmsrd`/`rfid`
   * that set MSR[EE], or `mtspr DEC`. pc points at the next instruction; the caller takes
   * a pending external or decrementer interrupt there, as the processor does right after
   * the instruction (context synchronising), and runs again.
   */
  InterruptWindow = 11,
}

/** Program interrupt kinds (SRR1 bits as the ISA numbers them, 64-bit: bit 43 … 46). */
export const ProgramKind = {
  /** Floating-point enabled exception (bit 43). */
  FP: 0x100000,
  /** Illegal instruction (bit 44). */
  ILLEGAL: 0x80000,
  /** Privileged instruction (bit 45). */
  PRIVILEGED: 0x40000,
  /** Trap (bit 46). */
  TRAP: 0x20000,
} as const;

/** Details of the last exit, overwritten by every run. */
export interface PpcExit {
  /** Why the run stopped. */
  reason: PpcExitReason;
  /** Instructions retired during the run. */
  retired: number;
  /** For Program: the {@link ProgramKind} bit. */
  program: number;
  /** For DataStorage: the effective address (DAR). */
  dar: bigint;
  /** For DataStorage: DSISR as the memory reported it. */
  dsisr: number;
  /** The instruction word at the exit (0 for Budget and InstructionStorage). */
  word: number;
}

/**
 * What a storage access raised: the {@link PpcMemory} throws {@link STORAGE_FAULT} after
 * filling this in; the CPU catches it, abandons the instruction and exits.
 */
export interface StorageFault {
  /** True for an instruction fetch (ISI), false for a data access (DSI). */
  fetch: boolean;
  /** Faulting effective address, high half. */
  eaHi: number;
  /** Faulting effective address, low half. */
  eaLo: number;
  /** DSISR (data accesses) or the SRR1 bits (fetches) the interrupt reports. */
  status: number;
  /** True for an alignment interrupt rather than a storage interrupt. */
  alignment: boolean;
  /**
   * True for a segment interrupt (no SLB entry: 0x380 / 0x480) rather than a storage
   * interrupt. The CPU clears it after each fault it takes.
   */
  segment: boolean;
}

/** The one fault object storage accesses throw (filled in, never allocated per fault). */
export const STORAGE_FAULT: StorageFault = {
  fetch: false,
  eaHi: 0,
  eaLo: 0,
  status: 0,
  alignment: false,
  segment: false,
};

/** Interrupt status bits: DSISR for data accesses, SRR1 for fetches (ISA numbering in comments). */
export const StorageStatus = {
  /** No translation: no PTE in either PTEG (DSISR/SRR1 bit 33). */
  NOT_FOUND: 0x40000000,
  /** Fetch from no-execute or guarded storage (SRR1 bit 35). */
  NO_EXECUTE: 0x10000000,
  /** The access is not permitted by PP and the key, or lies beyond the RMA in real mode (bit 36). */
  PROTECTION: 0x08000000,
  /** The access was a store (DSISR bit 38). */
  STORE: 0x02000000,
} as const;

/**
 * Whether the instruction that ended a run with `reason` retired (`sc`, `sc 1` and an
 * instruction that opened an interrupt window complete; every other exit leaves its
 * instruction undone).
 */
export function retiresAtExit(reason: number): boolean {
  return (
    reason === PpcExitReason.SystemCall ||
    reason === PpcExitReason.HypervisorCall ||
    reason === PpcExitReason.InterruptWindow
  );
}

/**
 * The exit of the {@link STORAGE_FAULT} just caught: its reason, with DAR and DSISR
 * written into `exit` (the fault's segment flag is consumed, so a memory that never
 * raises segment faults need not clear it).
 */
export function storageFaultExit(exit: PpcExit): PpcExitReason {
  const f = STORAGE_FAULT;
  let reason: PpcExitReason;
  if (f.fetch)
    reason = f.segment ? PpcExitReason.InstructionSegment : PpcExitReason.InstructionStorage;
  else if (f.segment) reason = PpcExitReason.DataSegment;
  else reason = f.alignment ? PpcExitReason.Alignment : PpcExitReason.DataStorage;
  f.segment = false;
  exit.dar = (BigInt(f.eaHi >>> 0) << 32n) | BigInt(f.eaLo >>> 0);
  exit.dsisr = f.status;
  return reason;
}

/**
 * Fill in {@link STORAGE_FAULT} and throw it: how a {@link PpcMemory} reports a storage
 * (or, with `segment`, a segment) interrupt. `status` is DSISR for data accesses and the
 * SRR1 bits for fetches ({@link StorageStatus}).
 */
export function raiseStorageFault(
  fetch: boolean,
  eaHi: number,
  eaLo: number,
  status: number,
  segment = false,
): never {
  const f = STORAGE_FAULT;
  f.fetch = fetch;
  f.eaHi = eaHi;
  f.eaLo = eaLo;
  f.status = status;
  f.alignment = false;
  f.segment = segment;
  throw f;
}

/**
 * Guest storage as the CPU sees it: effective addresses in, big-endian values out. The
 * MMU implements it (translation per MSR[IR]/MSR[DR], SLB and hashed page table, the
 * RMA in real mode); {@link RealModeMemory} is the flat real-mode implementation tests use.
 *
 * Contract: an access either completes or throws {@link STORAGE_FAULT} having filled it
 * in, with no partial effect. Addresses are 64-bit as `hi`, `lo` int32 halves; the
 * memory is big-endian (byte-reversed instructions swap in the CPU). Accesses of 2 and 4
 * bytes may be misaligned (the 970 handles them in hardware); 8-byte accesses are made
 * by the CPU as two 4-byte ones.
 */
export interface PpcMemory {
  /** The instruction word at `ea` (4-aligned). */
  fetch(eaHi: number, eaLo: number): number;
  /** A byte, zero-extended. */
  read8(eaHi: number, eaLo: number): number;
  /** A big-endian halfword, zero-extended. */
  read16(eaHi: number, eaLo: number): number;
  /** A big-endian word, as an int32. */
  read32(eaHi: number, eaLo: number): number;
  /** Store the low byte of `v`. */
  write8(eaHi: number, eaLo: number, v: number): void;
  /** Store the low halfword of `v`, big-endian. */
  write16(eaHi: number, eaLo: number, v: number): void;
  /** Store `v` as a big-endian word. */
  write32(eaHi: number, eaLo: number, v: number): void;
  /**
   * Store a doubleword: both words or neither (a fault in the second word must not leave
   * the first written; implementations check both before writing).
   */
  write64(eaHi: number, eaLo: number, hi: number, lo: number): void;
}

/** SPR numbers the CPU implements (Power ISA Book I/III, PowerPC 970 user manual). */
export enum Spr {
  /** Fixed-point exception register. */ XER = 1,
  /** Link register. */ LR = 8,
  /** Count register. */ CTR = 9,
  /** Data storage interrupt status. */ DSISR = 18,
  /** Data address register. */ DAR = 19,
  /** Decrementer. */ DEC = 22,
  /** Hashed page table base and size. */ SDR1 = 25,
  /** Save/restore register 0 (interrupted pc). */ SRR0 = 26,
  /** Save/restore register 1 (interrupted MSR). */ SRR1 = 27,
  /** Access control register (user read). */ CTRL_READ = 136,
  /** Control register (supervisor write). */ CTRL = 152,
  /** VRSAVE: which vector registers are live (user read/write; a plain register here). */ VRSAVE = 256,
  /** Time base, lower (user read). */ TBL_READ = 268,
  /** Time base, upper (user read). */ TBU_READ = 269,
  /** SPRG0. */ SPRG0 = 272,
  /** SPRG1. */ SPRG1 = 273,
  /** SPRG2. */ SPRG2 = 274,
  /** SPRG3. */ SPRG3 = 275,
  /** External access register. */ EAR = 282,
  /** Time base, lower (supervisor write). */ TBL_WRITE = 284,
  /** Time base, upper (supervisor write). */ TBU_WRITE = 285,
  /** Processor version register. */ PVR = 287,
  /** Hardware implementation register 0. */ HID0 = 1008,
  /** HID1. */ HID1 = 1009,
  /** HID4. */ HID4 = 1012,
  /** HID5. */ HID5 = 1014,
  /** Data address breakpoint. */ DABR = 1013,
  /** Processor identification register. */ PIR = 1023,
}

/**
 * MSR bits (64-bit register, ISA bit n = value bit 63 − n) as masks of the register's
 * int32 halves; the bigint constants of `abi.ts` ({@link MSR_SF}, {@link MSR_EE}, ...) are
 * the same bits for ABI code.
 */
export const Msr = {
  /** 64-bit mode (bit 0), in the high half. */
  SF_HI: Number(MSR_SF >> 32n) | 0,
  /** Hypervisor state (bit 3), in the high half. */
  HV_HI: 0x10000000,
  /** External interrupts enabled (bit 48). */
  EE: Number(MSR_EE),
  /** Problem (user) state (bit 49). */
  PR: Number(MSR_PR),
  /** FP available (bit 50). */
  FP: 0x2000,
  /** Machine check enable (bit 51). */
  ME: 0x1000,
  /** FP exception mode 0 (bit 52). */
  FE0: 0x800,
  /** Single-step trace (bit 53). */
  SE: 0x400,
  /** Branch trace (bit 54). */
  BE: 0x200,
  /** FP exception mode 1 (bit 55). */
  FE1: 0x100,
  /** Instruction relocate (bit 58). */
  IR: 0x20,
  /** Data relocate (bit 59). */
  DR: 0x10,
  /** Performance monitor mark (bit 61). */
  PMM: 0x4,
  /** Recoverable interrupt (bit 62). */
  RI: Number(MSR_RI),
} as const;

/** XER bits (low word). */
export const Xer = {
  /** Summary overflow (bit 32). */
  SO: 0x80000000 | 0,
  /** Overflow (bit 33). */
  OV: 0x40000000,
  /** Carry (bit 34). */
  CA: 0x20000000,
  /** Byte count for lswx/stswx (bits 57–63). */
  COUNT: 0x7f,
} as const;
