/**
 * The PowerPC PV vCPU: drives a {@link PpcCpu} and turns its exits into what Xen/ppc did
 * (`abi/ppc.md`). `sc 1` from supervisor state is a hypercall — a Xen call (r3 carries
 * XEN_MARK) goes to the core's table, any other r3 is a PAPR hcall answered here; from
 * problem state both fail at once (−EPERM, H_Privilege). The guest's own interrupts go
 * straight to its vectors at guest-physical 0x100 × n with SRR0/SRR1, unless MSR[RI] is
 * 0, when the domain crashes (hvkit's "no handler" rule). Between runs of the CPU, an
 * event upcall (external interrupt, 0x500) or the decrementer (0x900) is delivered when
 * MSR[EE] = 1. The CPU stops after each instruction that can make one deliverable
 * (`mtmsr`/`mtmsrd`/`rfid` setting EE, `mtspr DEC`) and each run ends where DEC turns
 * negative, so the interrupt is taken before the next instruction, as on hardware. Only
 * an upcall the guest unmasks by a plain store to its vcpu_info waits for the next look,
 * at most 256 instructions on.
 *
 * Time: the time base ticks at the device tree's `timebase-frequency` (the plugin's
 * `counterHz`, which `vcpu_time_info` scales) from the machine's virtual clock, one virtual
 * ns per instruction; the decrementer counts with it.
 *
 * @module
 */
import {
  counterTicks,
  KERNEL_SERVICE_CALL,
  VcpuExitKind,
  type ArchVcpu,
  type Domain,
  type ExecutionProfile,
  type HypercallArgs,
  type HypercallContext,
  type Machine,
  type Vcpu,
  type VcpuExit,
} from "@hvkit/core";
import { TIMEBASE_FREQUENCY } from "./builder.js";
import { PpcCpu } from "./cpu/cpu.js";
import {
  Msr,
  PpcExitReason,
  ProgramKind,
  Spr,
  STORAGE_FAULT,
  type PpcMemory,
} from "./cpu/cpu-api.js";
import { disassemble } from "./cpu/disasm.js";
import { createGuestStorage, guestPhysicalToMachine, rmaBytes } from "./guest-storage.js";
import type { PpcForeignFrame } from "./mmu/frames.js";
import type { PpcHashedPageTable } from "./mmu/hpt.js";
import { startPpcProfile } from "./jit/exec-profile.js";
import { PpcMmu } from "./mmu/mmu.js";
import { HStatus } from "./mmu/papr.js";
import { papr } from "./papr.js";
import { savePpcGuestContext } from "./vcpu-context.js";
import { XENCOMM_INLINE_FLAG, XencommHandles } from "./xencomm.js";

/** Interrupt vectors (PowerPC Book III, the 970 user manual). */
export const Vector = {
  /** Data storage. */ DSI: 0x300,
  /** Instruction storage. */ ISI: 0x400,
  /** Data segment (no SLB entry for the data address). */ DATA_SEGMENT: 0x380,
  /** Instruction segment (no SLB entry for the fetch). */ INSTRUCTION_SEGMENT: 0x480,
  /** External: the event upcall (hvkit choice). */ EXTERNAL: 0x500,
  /** Alignment. */ ALIGNMENT: 0x600,
  /** Program (illegal, privileged, trap, FP enabled). */ PROGRAM: 0x700,
  /** Floating-point unavailable. */ FP_UNAVAILABLE: 0x800,
  /** Decrementer. */ DECREMENTER: 0x900,
  /** System call (`sc`, LEV = 0). */ SYSTEM_CALL: 0xc00,
} as const;

/** r3's high 48 bits for a Xen call (`abi/ppc.md` XEN_MARK: every bit from 16 up set). */
const XEN_MARK_HI = -1;
const XEN_MARK_LO_HI16 = 0xffff0000 | 0;
/** EPERM: a Xen call from problem state. */
const EPERM = 1;
/** SRR1 bits an interrupt sets or clears rather than copying from the MSR (33–36, 42–47). */
const SRR1_CAUSE_MASK = 0x783f0000;
/** Real mode keeps 42 bits of an effective address. */
const REAL_ADDRESS_MASK = (1n << 42n) - 1n;
/** Instructions between looks for a deliverable interrupt (MSR[EE], DEC, upcall). */
const POLL = 256;
/** DEC after reset and at vCPU creation: the largest positive value. */
const DEC_MAX = 0x7fffffff;

/** One PowerPC vCPU (see the module comment). */
export class PpcVcpu implements ArchVcpu {
  /** The exit record {@link PpcVcpu.run} fills. */
  readonly exit: VcpuExit = { kind: VcpuExitKind.BudgetExhausted, retired: 0, message: "" };
  /** The interpreter. */
  readonly cpu: PpcCpu;
  /** The MMU the CPU runs on once the domain has its hashed page table ({@link PpcVcpu.useMmu}). */
  mmu: PpcMmu | null = null;
  /** Between readHypercall and completeHypercall of a Xen call: addresses are xencomm handles. */
  private inHypercall = false;
  /** The descriptor handles of the current hypercall. */
  private readonly handles: XencommHandles;
  /** The DEC value whose turning negative has been delivered (its write's time base), or −1. */
  private decDelivered = -1;

  /**
   * @param machine - the machine.
   * @param domain - the owning domain.
   * @param vcpu - the core vCPU.
   * @param storage - the storage the CPU runs on (`createGuestStorage`: real mode until
   *   {@link PpcVcpu.useMmu}, unless a test gives one).
   */
  constructor(
    readonly machine: Machine,
    readonly domain: Domain,
    readonly vcpu: Vcpu,
    storage: PpcMemory = createGuestStorage(machine, domain),
  ) {
    const cpu = (this.cpu = new PpcCpu(storage));
    cpu.msrHi = Msr.SF_HI;
    cpu.msrLo = 0;
    cpu.sprLo[Spr.DEC] = DEC_MAX;
    cpu.timebaseHz = TIMEBASE_FREQUENCY;
    cpu.clockBase = machine.clock.now;
    cpu.sprLo[Spr.PIR] = vcpu.id;
    const bytes = machine.memory.bytes;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.handles = new XencommHandles({
      u32: (gpa) => {
        const pa = guestPhysicalToMachine(domain, gpa);
        return pa < 0 || (gpa & 0xfffn) > 0xffcn ? null : view.getUint32(pa, false);
      },
      u64: (gpa) => {
        const pa = guestPhysicalToMachine(domain, gpa);
        return pa < 0 || (gpa & 0xfffn) > 0xff8n ? null : view.getBigUint64(pa, false);
      },
    });
  }

  /**
   * Runs the CPU on the MMU of the domain's hashed page table `hpt` from now on (the
   * builder made the table; SLB, translation cache and PAPR page-table hcalls are this
   * vCPU's from here), with `foreign` the other domains' frames at its guest frames.
   */
  useMmu(hpt: PpcHashedPageTable, foreign?: ReadonlyMap<number, PpcForeignFrame>): void {
    const mmu = createGuestStorage(this.machine, this.domain, hpt, foreign);
    if (!(mmu instanceof PpcMmu)) return;
    mmu.attach(this.cpu);
    this.mmu = mmu;
  }

  /** The CPU's execution profile (`hvkit run --profile`). */
  startProfile(): () => ExecutionProfile {
    return startPpcProfile(this.cpu);
  }

  /** Runs the guest for at most `budget` instructions (see the module comment). */
  run(budget: number): VcpuExit {
    const cpu = this.cpu;
    const e = this.exit;
    e.message = "";
    e.retired = 0;
    cpu.clockBase = this.machine.clock.now - cpu.instructions;
    let remaining = budget;
    for (;;) {
      if (cpu.msrLo & Msr.EE) {
        if (this.upcallPending()) this.interrupt(Vector.EXTERNAL, cpu.pcHi, cpu.pcLo, 0);
        else if (this.decrementerPending()) {
          this.decDelivered = cpu.decWrittenAt;
          this.interrupt(Vector.DECREMENTER, cpu.pcHi, cpu.pcLo, 0);
        }
      }
      // Look again exactly when DEC turns negative, and at least every POLL instructions
      // (for an upcall unmasked by a store) while MSR[EE] is set; with EE clear nothing can
      // be delivered before the instruction that sets it, which ends the run
      // (InterruptWindow).
      let chunk = remaining < 1 ? 1 : remaining > POLL && cpu.msrLo & Msr.EE ? POLL : remaining;
      if (this.decDelivered !== cpu.decWrittenAt) {
        const dec = cpu.decrementer;
        if (dec >= 0) {
          const n = this.instructionsForTicks(dec + 1);
          if (n < chunk) chunk = n;
        }
      }
      const x = cpu.run(chunk);
      e.retired += x.retired;
      remaining -= x.retired > 0 ? x.retired : 1;
      let fatal: string | null = null;
      switch (x.reason) {
        case PpcExitReason.Budget:
        case PpcExitReason.InterruptWindow:
          break;
        case PpcExitReason.HypervisorCall:
          if (this.hypervisorCall()) {
            e.kind = VcpuExitKind.Hypercall;
            return e;
          }
          break;
        case PpcExitReason.SystemCall:
          fatal = this.synchronous(Vector.SYSTEM_CALL, 0);
          break;
        case PpcExitReason.Program:
          fatal = this.synchronous(Vector.PROGRAM, x.program);
          break;
        case PpcExitReason.DataStorage:
        case PpcExitReason.Alignment:
          fatal = this.synchronous(
            x.reason === PpcExitReason.Alignment ? Vector.ALIGNMENT : Vector.DSI,
            0,
            x.dar,
            x.dsisr,
          );
          break;
        case PpcExitReason.InstructionStorage:
          fatal = this.synchronous(Vector.ISI, x.dsisr);
          break;
        case PpcExitReason.DataSegment:
          fatal = this.synchronous(Vector.DATA_SEGMENT, 0, x.dar);
          break;
        case PpcExitReason.InstructionSegment:
          fatal = this.synchronous(Vector.INSTRUCTION_SEGMENT, 0);
          break;
        case PpcExitReason.FpUnavailable:
          fatal = this.synchronous(Vector.FP_UNAVAILABLE, 0);
          break;
        case PpcExitReason.Emulate:
          fatal = this.emulate(x.word);
          break;
      }
      if (fatal !== null) {
        e.kind = VcpuExitKind.Fatal;
        e.message = `${fatal}\n${this.describe()}`;
        return e;
      }
      if (remaining <= 0 || this.domain.isDead) {
        e.kind = VcpuExitKind.BudgetExhausted;
        return e;
      }
    }
  }

  /**
   * `sc 1` just retired. True for a Xen call from supervisor state (the core dispatches
   * it); PAPR hcalls and calls from problem state are answered here (r3) and false.
   */
  private hypervisorCall(): boolean {
    const cpu = this.cpu;
    const xen =
      cpu.gprHi[3] === XEN_MARK_HI && (cpu.gprLo[3]! & XEN_MARK_LO_HI16) === XEN_MARK_LO_HI16;
    const user = (cpu.msrLo & Msr.PR) !== 0;
    if (xen && !user) return true;
    const r3 = xen ? -EPERM : user ? HStatus.Privilege : papr(this, cpu.gpr(3));
    cpu.setGpr(3, BigInt(r3));
    return false;
  }

  /**
   * An SLB or TLB instruction: the MMU performs it (one it does not know is an illegal
   * instruction). Without an MMU (a test's storage) it retires with no effect
   * (`slbmfee`/`slbmfev` read 0). From problem state it is a privileged-instruction
   * program interrupt.
   */
  private emulate(word: number): string | null {
    const cpu = this.cpu;
    if (cpu.msrLo & Msr.PR) return this.synchronous(Vector.PROGRAM, ProgramKind.PRIVILEGED);
    if (this.mmu !== null)
      return this.mmu.emulate(cpu, word)
        ? null
        : this.synchronous(Vector.PROGRAM, ProgramKind.ILLEGAL);
    const xo = (word >>> 1) & 0x3ff;
    // slbmfev (851) and slbmfee (915) write RT.
    if (xo === 851 || xo === 915) cpu.setGpr((word >>> 21) & 31, 0n);
    cpu.skipInstruction();
    return null;
  }

  /**
   * A synchronous interrupt at pc (pc already past `sc` for a system call): to the guest's
   * vector, or a crash message when MSR[RI] = 0 (no handler).
   */
  private synchronous(vector: number, cause: number, dar?: bigint, dsisr?: number): string | null {
    const cpu = this.cpu;
    if ((cpu.msrLo & Msr.RI) === 0) {
      const what = vector === Vector.PROGRAM ? ` (SRR1 cause 0x${cause.toString(16)})` : "";
      return `interrupt 0x${vector.toString(16)}${what} at 0x${cpu.pc.toString(16)} with MSR[RI] = 0: no handler`;
    }
    if (dar !== undefined) {
      cpu.sprHi[Spr.DAR] = Number(BigInt.asIntN(32, dar >> 32n));
      cpu.sprLo[Spr.DAR] = Number(BigInt.asIntN(32, dar));
    }
    if (dsisr !== undefined) {
      cpu.sprHi[Spr.DSISR] = 0;
      cpu.sprLo[Spr.DSISR] = dsisr;
    }
    this.interrupt(vector, cpu.pcHi, cpu.pcLo, cause);
    return null;
  }

  /**
   * Enters the guest's vector: SRR0 = the return address, SRR1 = the MSR with the cause
   * bits, then MSR = SF | ME (real mode, supervisor, EE = RI = FP = 0) and pc = vector.
   */
  private interrupt(vector: number, srr0Hi: number, srr0Lo: number, cause: number): void {
    const cpu = this.cpu;
    cpu.sprHi[Spr.SRR0] = srr0Hi;
    cpu.sprLo[Spr.SRR0] = srr0Lo;
    cpu.sprHi[Spr.SRR1] = cpu.msrHi & ~Msr.HV_HI;
    cpu.sprLo[Spr.SRR1] = (cpu.msrLo & ~SRR1_CAUSE_MASK) | cause;
    cpu.msrHi = Msr.SF_HI | (cpu.msrHi & Msr.HV_HI);
    cpu.msrLo &= Msr.ME;
    cpu.reserved = false;
    cpu.pcHi = 0;
    cpu.pcLo = vector;
  }

  /** Instructions (virtual ns) until the time base has advanced `ticks` ticks (≥ 1). */
  private instructionsForTicks(ticks: number): number {
    const cpu = this.cpu;
    const hz = cpu.timebaseHz;
    const ns = cpu.instructions + cpu.clockBase;
    const target = counterTicks(ns, hz) + ticks;
    let n = Math.max(1, Math.ceil((ticks * 1_000_000_000) / hz));
    while (n > 1 && counterTicks(ns + n - 1, hz) >= target) n--;
    while (counterTicks(ns + n, hz) < target) n++;
    return n;
  }

  /** evtchn_upcall_pending set and evtchn_upcall_mask clear in this vCPU's vcpu_info. */
  private upcallPending(): boolean {
    const vi = this.vcpu.vcpuInfoAddr();
    if (vi < 0) return false;
    const bytes = this.machine.memory.bytes;
    return bytes[vi] !== 0 && bytes[vi + 1] === 0;
  }

  /** DEC has turned negative since it was last written and that was not delivered yet. */
  private decrementerPending(): boolean {
    return this.decDelivered !== this.cpu.decWrittenAt && this.cpu.decrementer < 0;
  }

  /**
   * r3's Xen call number; r4–r9 are the arguments. Until the call completes, the
   * addresses the core copies through are xencomm handles (see {@link PpcVcpu.translate}),
   * except for the kernel service call, whose arguments are the kernel's addresses.
   */
  readHypercall(args: HypercallArgs): number {
    const cpu = this.cpu;
    for (let i = 0; i < 6; i++) args.set(i, cpu.gprLo[4 + i]!, cpu.gprHi[4 + i]!);
    const nr = cpu.gprLo[3]! & 0xffff;
    this.inHypercall = nr !== KERNEL_SERVICE_CALL;
    this.handles.begin();
    return nr;
  }

  /** The result goes to r3, nothing else changes; pc is already past `sc 1`. */
  completeHypercall(result: number | bigint): void {
    this.cpu.setGpr(3, BigInt(result));
    this.inHypercall = false;
  }

  /**
   * A guest address to a machine address, for the core's copies. During a hypercall every
   * address is a xencomm handle (plus the offset the core added): an inline handle (bit 63
   * set) is a guest-physical address whatever the MSR, any other a descriptor handle
   * (`XencommHandles`); one that resolves to nothing is −1, so the copy fails with
   * −EFAULT. Outside hypercalls (the host reading the guest's memory, the kernel service
   * call's arguments) an address without the inline flag is an effective address as the
   * vCPU's next load or store would see it: through its MMU, so translated when MSR[DR] = 1
   * (SLB and HPT, protection checked); without an MMU, real mode (the top 22 bits ignored,
   * inside the RMA).
   */
  translate(va: bigint, write: boolean): number {
    if ((va & XENCOMM_INLINE_FLAG) !== 0n)
      return guestPhysicalToMachine(this.domain, va & ~XENCOMM_INLINE_FLAG);
    if (this.inHypercall) {
      const gpa = this.handles.resolve(va);
      return gpa === null ? -1 : guestPhysicalToMachine(this.domain, gpa);
    }
    if (this.mmu !== null) return this.mmu.hostAddress(va, write);
    const gpa = va & REAL_ADDRESS_MASK;
    return gpa < BigInt(rmaBytes(this.domain)) ? guestPhysicalToMachine(this.domain, gpa) : -1;
  }

  /**
   * The guest-physical address of the `bytes`-byte buffer xencomm `handle` names, during a
   * hypercall: null when the handle does not resolve, when the buffer is not contiguous in
   * guest-physical memory, or when either end has no memory behind it.
   */
  guestPhysical(handle: bigint, bytes: number): bigint | null {
    const inline = (handle & XENCOMM_INLINE_FLAG) !== 0n;
    const first = inline ? handle & ~XENCOMM_INLINE_FLAG : this.handles.resolve(handle);
    if (first === null) return null;
    const end = BigInt(bytes - 1);
    const last = inline ? first + end : this.handles.resolve(handle + end);
    if (last !== first + end) return null;
    const ok =
      guestPhysicalToMachine(this.domain, first) >= 0 &&
      guestPhysicalToMachine(this.domain, last) >= 0;
    return ok ? first : null;
  }

  /** domctl getvcpucontext: this vCPU's registers as a `vcpu_guest_context` at `va`. */
  saveGuestContext(ctx: HypercallContext, va: bigint): number {
    return savePpcGuestContext(this.cpu, ctx, va);
  }

  /** The next instruction's effective address. */
  pc(): bigint {
    return this.cpu.pc;
  }

  /** Registers, MSR and the instruction at pc. */
  describe(): string {
    const cpu = this.cpu;
    const hex = (v: bigint): string => v.toString(16).padStart(16, "0");
    const spr = (n: number): bigint =>
      (BigInt(cpu.sprHi[n]! >>> 0) << 32n) | BigInt(cpu.sprLo[n]! >>> 0);
    const msr = (BigInt(cpu.msrHi >>> 0) << 32n) | BigInt(cpu.msrLo >>> 0);
    const lines = [
      `d${this.domain.id}v${this.vcpu.id} pc ${hex(cpu.pc)}  msr ${hex(msr)}  lr ${hex(spr(Spr.LR))}  ctr ${hex(spr(Spr.CTR))}`,
      `cr ${(cpu.cr >>> 0).toString(16).padStart(8, "0")}  xer ${(cpu.xer >>> 0).toString(16).padStart(8, "0")}  srr0 ${hex(spr(Spr.SRR0))}  srr1 ${hex(spr(Spr.SRR1))}  dar ${hex(spr(Spr.DAR))}`,
    ];
    for (let i = 0; i < 32; i += 4) {
      const row: string[] = [];
      for (let j = i; j < i + 4; j++) row.push(`r${j}`.padStart(3) + ` ${hex(cpu.gpr(j))}`);
      lines.push(row.join("  "));
    }
    lines.push(`code: ${disassembleAt(this, cpu.pc, 1)[0]}`);
    return lines.join("\n");
  }
}

/**
 * `count` instructions at effective address `va` of `v`'s storage, one line each
 * (`address: word  mnemonic operands`); unreachable words are shown as such.
 */
export function disassembleAt(v: PpcVcpu, va: bigint, count: number): string[] {
  const out: string[] = [];
  const memory = v.cpu.memory;
  for (let i = 0; i < count; i++) {
    const at = BigInt.asUintN(64, va + BigInt(4 * i));
    const addr = at.toString(16).padStart(16, "0");
    let word: number;
    try {
      word = memory.fetch(Number(BigInt.asIntN(32, at >> 32n)), Number(BigInt.asIntN(32, at)));
    } catch (err) {
      if (err !== STORAGE_FAULT) throw err;
      out.push(`${addr}: (unmapped)`);
      continue;
    }
    out.push(`${addr}: ${(word >>> 0).toString(16).padStart(8, "0")}  ${disassemble(word, at)}`);
  }
  return out;
}
