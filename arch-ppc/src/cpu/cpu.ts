/**
 * The PowerPC interpreter: 64-bit registers as int32 halves, the {@link TABLE} row of each
 * fetched word selecting the semantics, storage through a {@link PpcMemory}. Runs until
 * the budget ends or something the CPU does not decide happens ({@link PpcExitReason}).
 *
 * @module
 */
import {
  Msr as Msr_,
  PpcExitReason as PpcExitReason_,
  ProgramKind as ProgramKind_,
  STORAGE_FAULT as STORAGE_FAULT_,
  Spr as Spr_,
  Xer as Xer_,
  retiresAtExit as retiresAtExit_,
  storageFaultExit as storageFaultExit_,
  type PpcExit,
  type PpcMemory,
} from "./cpu-api.js";
import { counterTicks } from "@hvkit/core";
import { decodeWord as decodeWord_ } from "./decode.js";
import { Fpscr as Fpscr_, Fpu } from "./fpu.js";
import { Op as Op_, RowFlag as RowFlag_, TABLE as TABLE_, field as field_ } from "./table.js";
import { clz64 as clz64_, divu64 as divu64_, mul128 as mul128_ } from "./wide.js";
import { PpcBlockCompiler } from "../jit/block-compiler.js";

// Imported bindings read through module-namespace getters when the sources run through a
// CommonJS transform (tsx, vitest); the instruction path uses these module-local copies.
const Msr = Msr_;
const PpcExitReason = PpcExitReason_;
const ProgramKind = ProgramKind_;
const STORAGE_FAULT = STORAGE_FAULT_;
const Spr = Spr_;
const Xer = Xer_;
const retiresAtExit = retiresAtExit_;
const storageFaultExit = storageFaultExit_;
const decodeWord = decodeWord_;
const Fpscr = Fpscr_;
const Op = Op_;
const RowFlag = RowFlag_;
const TABLE = TABLE_;
const field = field_;
const clz64 = clz64_;
const divu64 = divu64_;
const mul128 = mul128_;
type Op = Op_;
type PpcExitReason = PpcExitReason_;
type Spr = Spr_;

/** The SPRs a guest may read or write, and whether they are privileged (number bit 4). */
const SPR_KNOWN = new Uint8Array(1024);
for (const s of [
  Spr.XER,
  Spr.LR,
  Spr.CTR,
  Spr.DSISR,
  Spr.DAR,
  Spr.DEC,
  Spr.SDR1,
  Spr.SRR0,
  Spr.SRR1,
  Spr.CTRL_READ,
  Spr.CTRL,
  Spr.VRSAVE,
  Spr.TBL_READ,
  Spr.TBU_READ,
  Spr.SPRG0,
  Spr.SPRG1,
  Spr.SPRG2,
  Spr.SPRG3,
  Spr.EAR,
  Spr.TBL_WRITE,
  Spr.TBU_WRITE,
  Spr.PVR,
  Spr.HID0,
  Spr.HID1,
  Spr.HID4,
  Spr.HID5,
  Spr.DABR,
  Spr.PIR,
])
  SPR_KNOWN[s] = 1;

/** PVR of a PowerPC 970FX (version 0x003C, revision 0x0300), as a G5 reports it. */
export const PVR_970FX = 0x003c0300;

const NOT_EXIT = -1;

/** A 64-bit PowerPC CPU (970 class): the register file and the interpreter. */
export class PpcCpu {
  /** GPR high halves (bits 0–31 of each register). */
  readonly gprHi = new Int32Array(32);
  /** GPR low halves (bits 32–63). */
  readonly gprLo = new Int32Array(32);
  /** SPR high halves, indexed by SPR number (LR, CTR, SRR0/1, SPRGs, ...). */
  readonly sprHi = new Int32Array(1024);
  /** SPR low halves. */
  readonly sprLo = new Int32Array(1024);
  /** The FPU: FPRs and FPSCR. */
  readonly fpu = new Fpu();
  /** Condition register (CR0 in the top nibble). */
  cr = 0;
  /** XER: SO, OV, CA and the string byte count. */
  xer = 0;
  /** Program counter, high half. */
  pcHi = 0;
  /** Program counter, low half. */
  pcLo = 0;
  /** MSR high half (SF, HV). */
  msrHi: number = Msr.SF_HI;
  /** MSR low half (EE, PR, FP, IR, DR, ...). */
  msrLo: number = Msr.FP;
  /** A reservation from lwarx/ldarx is held. */
  reserved = false;
  /** Reservation address, high half. */
  resHi = 0;
  /** Reservation address, low half. */
  resLo = 0;
  /** Instructions retired since the CPU was created (virtual time). */
  instructions = 0;
  /**
   * Virtual ns at {@link PpcCpu.instructions} = 0 (one instruction is one virtual ns): the
   * time base is `counterTicks(instructions + clockBase, timebaseHz) + timebaseOffset`.
   */
  clockBase = 0;
  /** Time-base ticks per second of virtual time (1 GHz, one per instruction, unless set). */
  timebaseHz = 1_000_000_000;
  /** Ticks added by writes of TBL/TBU (hypervisor state): 0 unless the time base was set. */
  timebaseOffset = 0;
  /** Details of the last exit. */
  readonly exit: PpcExit = {
    reason: PpcExitReason.Budget,
    retired: 0,
    program: 0,
    dar: 0n,
    dsisr: 0,
    word: 0,
  };
  /** Storage. */
  memory: PpcMemory;
  /**
   * The block compiler {@link PpcCpu.run} hands its loop to (the same exits and state as
   * the interpreter, faster); null to interpret every instruction.
   */
  compiler: PpcBlockCompiler | null = new PpcBlockCompiler();

  /** Effective address of the current access (scratch, no allocation). */
  private eaHi = 0;
  private eaLo = 0;
  /** Results of the add/carry helper. */
  private rHi = 0;
  private rLo = 0;
  private ca = 0;
  private ov = 0;
  /** Mask of the rotate helpers. */
  private mHi = 0;
  private mLo = 0;
  private readonly wide = new Int32Array(4);

  /** A CPU on `memory`, in the entry state of `abi/ppc.md` apart from pc and registers. */
  constructor(memory: PpcMemory) {
    this.memory = memory;
    this.sprLo[Spr.PVR] = PVR_970FX;
    // HID5 as the 970 leaves reset (qemu's model): dcbz clears 32 bytes until a kernel
    // clears the DCBZ size field, as Linux's 970 setup does.
    this.sprLo[Spr.HID5] = 0x80;
  }

  /** 64-bit mode (MSR[SF]). */
  get sf(): boolean {
    return this.msrHi < 0;
  }

  /** Set pc from a bigint. */
  setPc(pc: bigint): void {
    this.pcHi = Number(BigInt.asIntN(32, pc >> 32n));
    this.pcLo = Number(BigInt.asIntN(32, pc));
  }

  /** pc as a bigint. */
  get pc(): bigint {
    return (BigInt(this.pcHi >>> 0) << 32n) | BigInt(this.pcLo >>> 0);
  }

  /** GPR `n` as an unsigned bigint (for callers outside the instruction path). */
  gpr(n: number): bigint {
    return (BigInt(this.gprHi[n]! >>> 0) << 32n) | BigInt(this.gprLo[n]! >>> 0);
  }

  /** Set GPR `n` from a bigint (two's complement, 64 bits). */
  setGpr(n: number, v: bigint): void {
    this.gprHi[n] = Number(BigInt.asIntN(32, v >> 32n));
    this.gprLo[n] = Number(BigInt.asIntN(32, v));
  }

  /** Advance pc past the instruction at pc (after an {@link PpcExitReason.Emulate} exit). */
  skipInstruction(): void {
    this.advance(4);
  }

  /** The time base when DEC was last written. */
  decWrittenAt = 0;

  /**
   * The decrementer now (32 bits, signed): the value last written, less the time-base
   * ticks since. It counts through zero; the interrupt layer raises the decrementer
   * interrupt when it turns negative (and MSR[EE] allows).
   */
  get decrementer(): number {
    return (this.sprLo[Spr.DEC]! - ((this.timebase - this.decWrittenAt) % 0x100000000)) | 0;
  }

  /** The time base now (64 bits, as a Number: exact up to 2^53 ticks). */
  get timebase(): number {
    return counterTicks(this.instructions + this.clockBase, this.timebaseHz) + this.timebaseOffset;
  }

  /**
   * Execute up to `budget` instructions. Returns the exit (also in {@link PpcCpu.exit});
   * `retired` counts the instructions completed, the one that exited excluded unless it
   * completed (`sc`).
   */
  run(budget: number): PpcExit {
    if (this.compiler !== null) return this.compiler.run(this, budget);
    const exit = this.exit;
    let n = 0;
    let reason: number = PpcExitReason.Budget;
    let word = 0;
    try {
      while (n < budget) {
        word = this.memory.fetch(this.pcHi, this.pcLo);
        reason = this.step(word);
        if (reason !== NOT_EXIT) {
          if (retiresAtExit(reason)) {
            n++;
            this.instructions++;
          }
          break;
        }
        n++;
        this.instructions++;
        reason = PpcExitReason.Budget;
      }
      if (reason === PpcExitReason.Budget) word = 0;
    } catch (e) {
      if (e !== STORAGE_FAULT) throw e;
      if (STORAGE_FAULT.fetch) word = 0;
      reason = storageFaultExit(exit);
    }
    exit.reason = reason;
    exit.retired = n;
    exit.word = word;
    return exit;
  }

  private advance(d: number): void {
    const lo = (this.pcLo >>> 0) + d;
    this.pcLo = lo | 0;
    if (lo > 0xffffffff) this.pcHi = (this.pcHi + 1) | 0;
    if (!this.sf) this.pcHi = 0;
  }

  private program(kind: number): number {
    this.exit.program = kind;
    return PpcExitReason.Program;
  }

  /** EA = (RA|0) + disp (sign-extended 32-bit), into eaHi/eaLo. */
  private eaDisp(ra: number, disp: number): void {
    const bhi = ra === 0 ? 0 : this.gprHi[ra]!;
    const blo = ra === 0 ? 0 : this.gprLo[ra]!;
    const lo = (blo >>> 0) + (disp >>> 0);
    this.eaLo = lo | 0;
    this.eaHi = (bhi + (disp >> 31) + (lo > 0xffffffff ? 1 : 0)) | 0;
    if (!this.sf) this.eaHi = 0;
  }

  /** EA = (RA|0) + RB. */
  private eaIndexed(ra: number, rb: number): void {
    const bhi = ra === 0 ? 0 : this.gprHi[ra]!;
    const blo = ra === 0 ? 0 : this.gprLo[ra]!;
    const lo = (blo >>> 0) + (this.gprLo[rb]! >>> 0);
    this.eaLo = lo | 0;
    this.eaHi = (bhi + this.gprHi[rb]! + (lo > 0xffffffff ? 1 : 0)) | 0;
    if (!this.sf) this.eaHi = 0;
  }

  /** ea += d (string/multiple accesses). */
  private eaStep(d: number): void {
    const lo = (this.eaLo >>> 0) + d;
    this.eaLo = lo | 0;
    if (lo > 0xffffffff) this.eaHi = (this.eaHi + 1) | 0;
    if (!this.sf) this.eaHi = 0;
  }

  /** a + b + cin → rHi/rLo, CA and OV per the current mode. */
  private add3(ahi: number, alo: number, bhi: number, blo: number, cin: number): void {
    const lo = (alo >>> 0) + (blo >>> 0) + cin;
    const c32 = lo > 0xffffffff ? 1 : 0;
    const hi = (ahi >>> 0) + (bhi >>> 0) + c32;
    const rlo = lo | 0;
    const rhi = hi | 0;
    this.rLo = rlo;
    this.rHi = rhi;
    if (this.sf) {
      this.ca = hi > 0xffffffff ? 1 : 0;
      this.ov = ((ahi ^ rhi) & (bhi ^ rhi)) < 0 ? 1 : 0;
    } else {
      this.ca = c32;
      this.ov = ((alo ^ rlo) & (blo ^ rlo)) < 0 ? 1 : 0;
    }
  }

  private setCa(ca: number): void {
    this.xer = ca ? this.xer | Xer.CA : this.xer & ~Xer.CA;
  }

  private setOv(ov: number): void {
    this.xer = ov ? this.xer | Xer.OV | Xer.SO : this.xer & ~Xer.OV;
  }

  /** CR field `bf` ← the signed comparison of a result with 0, and SO. */
  private recordCr0(hi: number, lo: number): void {
    let c: number;
    if (this.sf) c = hi < 0 ? 8 : hi > 0 || lo !== 0 ? 4 : 2;
    else c = lo < 0 ? 8 : lo > 0 ? 4 : 2;
    this.cr = (this.cr & 0x0fffffff) | ((c | (this.xer >>> 31)) << 28);
  }

  private setCrField(bf: number, c: number): void {
    const sh = 28 - 4 * bf;
    this.cr = (this.cr & ~(15 << sh)) | (c << sh);
  }

  private setRt(rt: number, hi: number, lo: number): void {
    this.gprHi[rt] = hi;
    this.gprLo[rt] = lo;
  }

  /** MASK(b, e) of the ISA (bit 0 the most significant of 64) → mHi/mLo. */
  private mask(b: number, e: number): void {
    if (b <= e) {
      this.mHi = b <= 31 ? ones32(b, e > 31 ? 31 : e) : 0;
      this.mLo = e >= 32 ? ones32(b < 32 ? 0 : b - 32, e - 32) : 0;
    } else if (b === e + 1) {
      this.mHi = this.mLo = -1;
    } else {
      this.mask(e + 1, b - 1);
      this.mHi = ~this.mHi;
      this.mLo = ~this.mLo;
    }
  }

  /** ROTL64(hi:lo, n) → rHi/rLo. */
  private rotl64(hi: number, lo: number, n: number): void {
    n &= 63;
    if (n >= 32) {
      const t = hi;
      hi = lo;
      lo = t;
      n -= 32;
    }
    if (n === 0) {
      this.rHi = hi;
      this.rLo = lo;
    } else {
      this.rHi = (hi << n) | (lo >>> (32 - n));
      this.rLo = (lo << n) | (hi >>> (32 - n));
    }
  }

  /** A compare into CR field `bf`: signed (`signed`) or unsigned, 64-bit or (`!l`) the low words. */
  private compare(
    bf: number,
    l: boolean,
    signed: boolean,
    ahi: number,
    alo: number,
    bhi: number,
    blo: number,
  ): void {
    let c: number;
    if (l) {
      if (ahi !== bhi) c = (signed ? ahi < bhi : ahi >>> 0 < bhi >>> 0) ? 8 : 4;
      else c = alo === blo ? 2 : alo >>> 0 < blo >>> 0 ? 8 : 4;
    } else if (signed) c = alo < blo ? 8 : alo > blo ? 4 : 2;
    else c = alo >>> 0 < blo >>> 0 ? 8 : alo >>> 0 > blo >>> 0 ? 4 : 2;
    this.setCrField(bf, c | (this.xer >>> 31));
  }

  /** Whether a trap with condition `to` fires (64-bit compare when `d`). */
  private trap(
    to: number,
    d: boolean,
    ahi: number,
    alo: number,
    bhi: number,
    blo: number,
  ): boolean {
    let lt: boolean, gt: boolean, ltu: boolean, gtu: boolean;
    if (d && ahi !== bhi) {
      lt = ahi < bhi;
      gt = !lt;
      ltu = ahi >>> 0 < bhi >>> 0;
      gtu = !ltu;
    } else if (d) {
      lt = gt = false;
      ltu = alo >>> 0 < blo >>> 0;
      gtu = alo >>> 0 > blo >>> 0;
      lt = ltu;
      gt = gtu;
    } else {
      lt = alo < blo;
      gt = alo > blo;
      ltu = alo >>> 0 < blo >>> 0;
      gtu = alo >>> 0 > blo >>> 0;
    }
    const eq = d ? ahi === bhi && alo === blo : alo === blo;
    return ((to & 16 && lt) ||
      (to & 8 && gt) ||
      (to & 4 && eq) ||
      (to & 2 && ltu) ||
      (to & 1 && gtu)) as boolean;
  }

  /** The branch condition of BO/BI, decrementing CTR when BO says so. */
  private branchTaken(bo: number, bi: number): boolean {
    let ok = true;
    if ((bo & 4) === 0) {
      const lo = (this.sprLo[Spr.CTR]! >>> 0) - 1;
      this.sprLo[Spr.CTR] = lo;
      if (lo < 0) this.sprHi[Spr.CTR] = (this.sprHi[Spr.CTR]! - 1) | 0;
      const zero = this.sf
        ? this.sprLo[Spr.CTR] === 0 && this.sprHi[Spr.CTR] === 0
        : this.sprLo[Spr.CTR] === 0;
      ok = bo & 2 ? zero : !zero;
    }
    if ((bo & 16) === 0) ok &&= ((this.cr >>> (31 - bi)) & 1) === ((bo >>> 3) & 1);
    return ok;
  }

  /** Jump to hi:lo (low two bits cleared; high half dropped in 32-bit mode). */
  private jump(hi: number, lo: number): void {
    this.pcHi = this.sf ? hi : 0;
    this.pcLo = lo & ~3;
  }

  private setLrNext(): void {
    const lo = (this.pcLo >>> 0) + 4;
    this.sprLo[Spr.LR] = lo | 0;
    this.sprHi[Spr.LR] = this.sf ? (this.pcHi + (lo > 0xffffffff ? 1 : 0)) | 0 : 0;
  }

  private load(size: number, algebraic: boolean, reversed: boolean, rt: number): void {
    const m = this.memory;
    let hi = 0;
    let lo: number;
    if (size === 8) {
      hi = m.read32(this.eaHi, this.eaLo);
      this.eaStep(4);
      lo = m.read32(this.eaHi, this.eaLo);
      this.eaStep(-4);
    } else if (size === 4) {
      lo = m.read32(this.eaHi, this.eaLo);
      if (reversed) lo = bswap32(lo);
      hi = algebraic ? lo >> 31 : 0;
    } else if (size === 2) {
      lo = m.read16(this.eaHi, this.eaLo);
      if (reversed) lo = ((lo & 0xff) << 8) | (lo >>> 8);
      if (algebraic) lo = (lo << 16) >> 16;
      hi = lo >> 31;
    } else lo = m.read8(this.eaHi, this.eaLo);
    this.setRt(rt, hi, lo);
  }

  private store(size: number, reversed: boolean, rs: number): void {
    const m = this.memory;
    const lo = this.gprLo[rs]!;
    if (size === 8) m.write64(this.eaHi, this.eaLo, this.gprHi[rs]!, lo);
    else if (size === 4) m.write32(this.eaHi, this.eaLo, reversed ? bswap32(lo) : lo);
    else if (size === 2)
      m.write16(this.eaHi, this.eaLo, reversed ? ((lo & 0xff) << 8) | ((lo >>> 8) & 0xff) : lo);
    else m.write8(this.eaHi, this.eaLo, lo);
  }

  private mfspr(rt: number, spr: number): number {
    if (spr & 0x10 && this.msrLo & Msr.PR) return this.program(ProgramKind.PRIVILEGED);
    if (SPR_KNOWN[spr] === 0 || spr === Spr.CTRL || spr === Spr.TBL_WRITE || spr === Spr.TBU_WRITE)
      return this.program(ProgramKind.ILLEGAL);
    if (spr === Spr.XER) this.setRt(rt, 0, this.xer);
    else if (spr === Spr.TBL_READ) this.setRt(rt, hiOf(this.timebase), loOf(this.timebase));
    else if (spr === Spr.TBU_READ) this.setRt(rt, 0, hiOf(this.timebase));
    else if (spr === Spr.CTRL_READ) this.setRt(rt, 0, this.sprLo[Spr.CTRL]!);
    else if (spr === Spr.DEC) this.setRt(rt, this.decrementer >> 31, this.decrementer);
    else this.setRt(rt, this.sprHi[spr]!, this.sprLo[spr]!);
    return NOT_EXIT;
  }

  private mtspr(spr: number, rs: number): number {
    if (spr & 0x10 && this.msrLo & Msr.PR) return this.program(ProgramKind.PRIVILEGED);
    if (
      SPR_KNOWN[spr] === 0 ||
      spr === Spr.CTRL_READ ||
      spr === Spr.TBL_READ ||
      spr === Spr.TBU_READ ||
      spr === Spr.PVR
    )
      return this.program(ProgramKind.ILLEGAL);
    const hi = this.gprHi[rs]!;
    const lo = this.gprLo[rs]!;
    // XER keeps every bit written but OV32/CA32's positions (bits 44/45), as qemu's 970 does.
    if (spr === Spr.XER) this.xer = lo & ~0x000c0000;
    else if (spr === Spr.TBL_WRITE)
      this.timebaseOffset += hiOf(this.timebase) * 0x100000000 + (lo >>> 0) - this.timebase;
    else if (spr === Spr.TBU_WRITE)
      this.timebaseOffset += (lo >>> 0) * 0x100000000 + (loOf(this.timebase) >>> 0) - this.timebase;
    else if (spr === Spr.DEC) {
      this.sprLo[spr] = lo;
      this.decWrittenAt = this.timebase;
    } else {
      this.sprHi[spr] = hi;
      this.sprLo[spr] = lo;
    }
    return NOT_EXIT;
  }

  /**
   * Execute the instruction word `w` as the instruction at pc (the interpreter's single
   * step; a block compiler calls it for what it does not compile). Returns −1 when
   * execution goes on (pc advanced or branched), else the {@link PpcExitReason} (the
   * details in {@link PpcCpu.exit}); a storage access may throw {@link STORAGE_FAULT},
   * which {@link PpcCpu.run} turns into an exit.
   */
  step(w: number): number {
    const i = decodeWord(w);
    if (i < 0) return this.program(ProgramKind.ILLEGAL);
    const row = TABLE[i]!;
    if (row.flags & RowFlag.PRIV && this.msrLo & Msr.PR)
      return this.program(ProgramKind.PRIVILEGED);
    const rt = (w >>> 21) & 31;
    const ra = (w >>> 16) & 31;
    const rb = (w >>> 11) & 31;
    const g = this.gprLo;
    const h = this.gprHi;
    const rc = row.flags & RowFlag.RC && w & 1;
    switch (row.op) {
      case Op.Load:
      case Op.Store: {
        if (row.form === 5 /* X */) this.eaIndexed(ra, rb);
        else if (row.form === 4 /* DS */) this.eaDisp(ra, field.ds(w));
        else this.eaDisp(ra, field.si(w));
        if (row.op === Op.Load)
          this.load(
            row.size,
            (row.flags & RowFlag.ALGEBRAIC) !== 0,
            (row.flags & RowFlag.REVERSED) !== 0,
            rt,
          );
        else this.store(row.size, (row.flags & RowFlag.REVERSED) !== 0, rt);
        if (row.flags & RowFlag.UPDATE) this.setRt(ra, this.eaHi, this.eaLo);
        break;
      }
      case Op.LoadFp:
      case Op.StoreFp:
      case Op.StoreFpInt: {
        if (!(this.msrLo & Msr.FP)) return PpcExitReason.FpUnavailable;
        if (row.form === 5) this.eaIndexed(ra, rb);
        else this.eaDisp(ra, field.si(w));
        const m = this.memory;
        const f = this.fpu;
        if (row.op === Op.LoadFp) {
          if (row.size === 8) {
            const hi = m.read32(this.eaHi, this.eaLo);
            this.eaStep(4);
            const lo = m.read32(this.eaHi, this.eaLo);
            this.eaStep(-4);
            f.setBits(rt, hi, lo);
          } else f.setSingleBits(rt, m.read32(this.eaHi, this.eaLo));
        } else if (row.op === Op.StoreFp) {
          if (row.size === 8) m.write64(this.eaHi, this.eaLo, f.hiBits(rt), f.loBits(rt));
          else m.write32(this.eaHi, this.eaLo, f.singleBits(rt));
        } else m.write32(this.eaHi, this.eaLo, f.loBits(rt));
        if (row.flags & RowFlag.UPDATE) this.setRt(ra, this.eaHi, this.eaLo);
        break;
      }
      case Op.LoadMultiple:
      case Op.StoreMultiple: {
        this.eaDisp(ra, field.si(w));
        if (this.eaLo & 3) return this.alignment(true);
        for (let r = rt; r < 32; r++) {
          if (row.op === Op.LoadMultiple)
            this.setRt(r, 0, this.memory.read32(this.eaHi, this.eaLo));
          else this.memory.write32(this.eaHi, this.eaLo, g[r]!);
          this.eaStep(4);
        }
        break;
      }
      case Op.LoadString:
      case Op.StoreString: {
        let n: number;
        if (row.opds[2] === 3 /* Opd.RB */) {
          this.eaIndexed(ra, rb);
          n = this.xer & Xer.COUNT;
        } else {
          this.eaDisp(ra, 0);
          n = rb === 0 ? 32 : rb;
        }
        let r = rt;
        let shift = 24;
        if (row.op === Op.LoadString) {
          let acc = 0;
          for (let k = 0; k < n; k++) {
            acc |= this.memory.read8(this.eaHi, this.eaLo) << shift;
            this.eaStep(1);
            shift -= 8;
            if (shift < 0 || k === n - 1) {
              this.setRt(r, 0, acc);
              r = (r + 1) & 31;
              acc = 0;
              shift = 24;
            }
          }
        } else {
          for (let k = 0; k < n; k++) {
            this.memory.write8(this.eaHi, this.eaLo, g[r]! >>> shift);
            this.eaStep(1);
            shift -= 8;
            if (shift < 0) {
              r = (r + 1) & 31;
              shift = 24;
            }
          }
        }
        break;
      }
      case Op.LoadReserve: {
        this.eaIndexed(ra, rb);
        if (this.eaLo & (row.size - 1)) return this.alignment(false);
        this.load(row.size, false, false, rt);
        this.reserved = true;
        this.resHi = this.eaHi;
        this.resLo = this.eaLo;
        break;
      }
      case Op.StoreConditional: {
        this.eaIndexed(ra, rb);
        if (this.eaLo & (row.size - 1)) return this.alignment(true);
        const ok = this.reserved && this.resHi === this.eaHi && this.resLo === this.eaLo;
        if (ok) this.store(row.size, false, rt);
        this.reserved = false;
        this.setCrField(0, (ok ? 2 : 0) | (this.xer >>> 31));
        break;
      }
      case Op.Addi:
      case Op.Addis: {
        const imm = row.op === Op.Addi ? field.si(w) : field.si(w) << 16;
        if (ra === 0) this.setRt(rt, imm >> 31, imm);
        else {
          this.add3(h[ra]!, g[ra]!, imm >> 31, imm, 0);
          this.setRt(rt, this.rHi, this.rLo);
        }
        break;
      }
      case Op.Addic: {
        const imm = field.si(w);
        this.add3(h[ra]!, g[ra]!, imm >> 31, imm, 0);
        this.setRt(rt, this.rHi, this.rLo);
        this.setCa(this.ca);
        if (row.match >>> 26 === 13) this.recordCr0(this.rHi, this.rLo);
        break;
      }
      case Op.Subfic: {
        const imm = field.si(w);
        this.add3(~h[ra]!, ~g[ra]!, imm >> 31, imm, 1);
        this.setRt(rt, this.rHi, this.rLo);
        this.setCa(this.ca);
        break;
      }
      case Op.Add:
      case Op.Addc:
      case Op.Adde:
      case Op.Addme:
      case Op.Addze:
      case Op.Subf:
      case Op.Subfc:
      case Op.Subfe:
      case Op.Subfme:
      case Op.Subfze:
      case Op.Neg: {
        const op = row.op;
        const inv = op >= Op.Subf;
        let ahi = h[ra]!;
        let alo = g[ra]!;
        if (inv) {
          ahi = ~ahi;
          alo = ~alo;
        }
        let bhi = h[rb]!;
        let blo = g[rb]!;
        if (op === Op.Addme || op === Op.Subfme) bhi = blo = -1;
        else if (op === Op.Addze || op === Op.Subfze || op === Op.Neg) bhi = blo = 0;
        const ca = (this.xer >>> 29) & 1;
        const cin =
          op === Op.Add || op === Op.Addc
            ? 0
            : op === Op.Subf || op === Op.Subfc || op === Op.Neg
              ? 1
              : ca;
        this.add3(ahi, alo, bhi, blo, cin);
        this.setRt(rt, this.rHi, this.rLo);
        if (op !== Op.Add && op !== Op.Subf && op !== Op.Neg) this.setCa(this.ca);
        if (w & 0x400) this.setOv(this.ov);
        break;
      }
      case Op.Mulli:
      case Op.Mullw:
      case Op.Mulld:
      case Op.Mulhw:
      case Op.Mulhwu:
      case Op.Mulhd:
      case Op.Mulhdu: {
        const x = this.wide;
        const op = row.op;
        if (op === Op.Mulli) {
          const imm = field.si(w);
          mul128(x, g[ra]!, h[ra]!, imm, imm >> 31, true);
          this.setRt(rt, x[1]!, x[0]!);
        } else if (op === Op.Mullw || op === Op.Mulhw) {
          mul128(x, g[ra]!, g[ra]! >> 31, g[rb]!, g[rb]! >> 31, true);
          if (op === Op.Mullw) {
            this.setRt(rt, x[1]!, x[0]!);
            if (w & 0x400) this.setOv(x[1] !== x[0]! >> 31 ? 1 : 0);
          } else this.setRt(rt, 0, x[1]!);
        } else if (op === Op.Mulhwu) {
          mul128(x, g[ra]!, 0, g[rb]!, 0, false);
          this.setRt(rt, 0, x[1]!);
        } else {
          mul128(x, g[ra]!, h[ra]!, g[rb]!, h[rb]!, op !== Op.Mulhdu);
          if (op === Op.Mulld) {
            this.setRt(rt, x[1]!, x[0]!);
            if (w & 0x400) this.setOv(x[2] !== x[1]! >> 31 || x[3] !== x[1]! >> 31 ? 1 : 0);
          } else this.setRt(rt, x[3]!, x[2]!);
        }
        break;
      }
      case Op.Divw:
      case Op.Divwu: {
        const a = g[ra]!;
        const b = g[rb]!;
        const signed = row.op === Op.Divw;
        const bad = b === 0 || (signed && a === -0x80000000 && b === -1);
        let q = 0;
        if (!bad) q = signed ? (a / b) | 0 : ((a >>> 0) / (b >>> 0)) >>> 0;
        this.setRt(rt, 0, q | 0);
        if (w & 0x400) this.setOv(bad ? 1 : 0);
        break;
      }
      case Op.Divd:
      case Op.Divdu: {
        const signed = row.op === Op.Divd;
        let ahi = h[ra]!;
        let alo = g[ra]!;
        let bhi = h[rb]!;
        let blo = g[rb]!;
        const bad =
          (bhi === 0 && blo === 0) ||
          (signed && ahi === -0x80000000 && alo === 0 && bhi === -1 && blo === -1);
        if (bad) this.setRt(rt, 0, 0);
        else {
          const neg = signed && (ahi ^ bhi) < 0;
          if (signed && ahi < 0) {
            neg64(ahi, alo);
            ahi = NEG[0]!;
            alo = NEG[1]!;
          }
          if (signed && bhi < 0) {
            neg64(bhi, blo);
            bhi = NEG[0]!;
            blo = NEG[1]!;
          }
          divu64(this.wide, alo, ahi, blo, bhi);
          if (neg) {
            neg64(this.wide[1]!, this.wide[0]!);
            this.setRt(rt, NEG[0]!, NEG[1]!);
          } else this.setRt(rt, this.wide[1]!, this.wide[0]!);
        }
        if (w & 0x400) this.setOv(bad ? 1 : 0);
        break;
      }
      case Op.Cmp:
      case Op.Cmpl:
        this.compare(
          field.bf(w),
          (w & 0x200000) !== 0,
          row.op === Op.Cmp,
          h[ra]!,
          g[ra]!,
          h[rb]!,
          g[rb]!,
        );
        break;
      case Op.Cmpi: {
        const imm = field.si(w);
        this.compare(field.bf(w), (w & 0x200000) !== 0, true, h[ra]!, g[ra]!, imm >> 31, imm);
        break;
      }
      case Op.Cmpli:
        this.compare(field.bf(w), (w & 0x200000) !== 0, false, h[ra]!, g[ra]!, 0, w & 0xffff);
        break;
      case Op.Tw:
      case Op.Td:
        if (this.trap(rt, row.op === Op.Td, h[ra]!, g[ra]!, h[rb]!, g[rb]!))
          return this.program(ProgramKind.TRAP);
        break;
      case Op.Twi:
      case Op.Tdi: {
        const imm = field.si(w);
        if (this.trap(rt, row.op === Op.Tdi, h[ra]!, g[ra]!, imm >> 31, imm))
          return this.program(ProgramKind.TRAP);
        break;
      }
      case Op.And:
        this.setRt(ra, h[rt]! & h[rb]!, g[rt]! & g[rb]!);
        break;
      case Op.Or:
        this.setRt(ra, h[rt]! | h[rb]!, g[rt]! | g[rb]!);
        break;
      case Op.Xor:
        this.setRt(ra, h[rt]! ^ h[rb]!, g[rt]! ^ g[rb]!);
        break;
      case Op.Nand:
        this.setRt(ra, ~(h[rt]! & h[rb]!), ~(g[rt]! & g[rb]!));
        break;
      case Op.Nor:
        this.setRt(ra, ~(h[rt]! | h[rb]!), ~(g[rt]! | g[rb]!));
        break;
      case Op.Eqv:
        this.setRt(ra, ~(h[rt]! ^ h[rb]!), ~(g[rt]! ^ g[rb]!));
        break;
      case Op.Andc:
        this.setRt(ra, h[rt]! & ~h[rb]!, g[rt]! & ~g[rb]!);
        break;
      case Op.Orc:
        this.setRt(ra, h[rt]! | ~h[rb]!, g[rt]! | ~g[rb]!);
        break;
      case Op.Andi:
        this.setRt(ra, 0, g[rt]! & (w & 0xffff));
        this.recordCr0(h[ra]!, g[ra]!);
        break;
      case Op.Andis:
        this.setRt(ra, 0, g[rt]! & (w << 16));
        this.recordCr0(h[ra]!, g[ra]!);
        break;
      case Op.Ori:
        this.setRt(ra, h[rt]!, g[rt]! | (w & 0xffff));
        break;
      case Op.Oris:
        this.setRt(ra, h[rt]!, g[rt]! | (w << 16));
        break;
      case Op.Xori:
        this.setRt(ra, h[rt]!, g[rt]! ^ (w & 0xffff));
        break;
      case Op.Xoris:
        this.setRt(ra, h[rt]!, g[rt]! ^ (w << 16));
        break;
      case Op.Extsb: {
        const v = (g[rt]! << 24) >> 24;
        this.setRt(ra, v >> 31, v);
        break;
      }
      case Op.Extsh: {
        const v = (g[rt]! << 16) >> 16;
        this.setRt(ra, v >> 31, v);
        break;
      }
      case Op.Extsw:
        this.setRt(ra, g[rt]! >> 31, g[rt]!);
        break;
      case Op.Cntlzw:
        this.setRt(ra, 0, Math.clz32(g[rt]!));
        break;
      case Op.Cntlzd:
        this.setRt(ra, 0, clz64(g[rt]!, h[rt]!));
        break;
      case Op.Rlwinm:
      case Op.Rlwnm:
      case Op.Rlwimi: {
        const n = row.op === Op.Rlwnm ? g[rb]! & 31 : rb;
        const v = g[rt]!;
        const rot = n === 0 ? v : (v << n) | (v >>> (32 - n));
        this.mask(field.rc(w) + 32, field.me(w) + 32);
        const rhi = rot & this.mHi;
        const rlo = rot & this.mLo;
        if (row.op === Op.Rlwimi)
          this.setRt(ra, rhi | (h[ra]! & ~this.mHi), rlo | (g[ra]! & ~this.mLo));
        else this.setRt(ra, rhi, rlo);
        break;
      }
      case Op.Rldicl:
      case Op.Rldicr:
      case Op.Rldic:
      case Op.Rldimi:
      case Op.Rldcl:
      case Op.Rldcr: {
        const op = row.op;
        const n = op === Op.Rldcl || op === Op.Rldcr ? g[rb]! & 63 : field.sh6(w);
        const mb = field.mb6(w);
        this.rotl64(h[rt]!, g[rt]!, n);
        if (op === Op.Rldicl || op === Op.Rldcl) this.mask(mb, 63);
        else if (op === Op.Rldicr || op === Op.Rldcr) this.mask(0, mb);
        else this.mask(mb, 63 - n);
        const rhi = this.rHi & this.mHi;
        const rlo = this.rLo & this.mLo;
        if (op === Op.Rldimi)
          this.setRt(ra, rhi | (h[ra]! & ~this.mHi), rlo | (g[ra]! & ~this.mLo));
        else this.setRt(ra, rhi, rlo);
        break;
      }
      case Op.Slw:
      case Op.Srw: {
        const n = g[rb]! & 63;
        const v = g[rt]!;
        this.setRt(ra, 0, n & 32 ? 0 : row.op === Op.Slw ? v << n : v >>> n);
        break;
      }
      case Op.Sraw:
      case Op.Srawi: {
        const n = row.op === Op.Sraw ? g[rb]! & 63 : rb;
        const v = g[rt]!;
        let r: number;
        let ca: number;
        if (n & 32) {
          r = v >> 31;
          ca = v < 0 ? 1 : 0;
        } else {
          r = v >> n;
          ca = v < 0 && n !== 0 && (v & ((1 << n) - 1)) !== 0 ? 1 : 0;
        }
        this.setRt(ra, r >> 31, r);
        this.setCa(ca);
        break;
      }
      case Op.Sld:
      case Op.Srd: {
        const n = g[rb]! & 127;
        if (n & 64) this.setRt(ra, 0, 0);
        else if (row.op === Op.Sld) {
          this.rotl64(h[rt]!, g[rt]!, n);
          this.mask(0, 63 - n);
          this.setRt(ra, this.rHi & this.mHi, this.rLo & this.mLo);
        } else {
          this.rotl64(h[rt]!, g[rt]!, 64 - n);
          this.mask(n, 63);
          this.setRt(ra, this.rHi & this.mHi, this.rLo & this.mLo);
        }
        break;
      }
      case Op.Srad:
      case Op.Sradi: {
        const n = row.op === Op.Srad ? g[rb]! & 127 : field.sh6(w);
        const vhi = h[rt]!;
        const vlo = g[rt]!;
        const s = vhi >> 31;
        let rhi: number;
        let rlo: number;
        let lost: boolean;
        if (n & 64 || n === 64) {
          rhi = rlo = s;
          lost = vhi !== 0 || vlo !== 0;
        } else if (n >= 32) {
          rhi = s;
          rlo = vhi >> (n - 32);
          lost = vlo !== 0 || (n > 32 && (vhi & ((1 << (n - 32)) - 1)) !== 0);
        } else if (n === 0) {
          rhi = vhi;
          rlo = vlo;
          lost = false;
        } else {
          rhi = vhi >> n;
          rlo = (vlo >>> n) | (vhi << (32 - n));
          lost = (vlo & ((1 << n) - 1)) !== 0;
        }
        this.setRt(ra, rhi, rlo);
        this.setCa(s < 0 && lost ? 1 : 0);
        break;
      }
      case Op.B: {
        const d = field.li(w);
        if (w & 1) this.setLrNext();
        if (w & 2) this.jump(d >> 31, d);
        else {
          const lo = (this.pcLo >>> 0) + (d >>> 0);
          this.jump((this.pcHi + (d >> 31) + (lo > 0xffffffff ? 1 : 0)) | 0, lo | 0);
        }
        return NOT_EXIT;
      }
      case Op.Bc: {
        const taken = this.branchTaken(rt, ra);
        if (w & 1) this.setLrNext();
        if (!taken) break;
        const d = field.ds(w);
        if (w & 2) this.jump(d >> 31, d);
        else {
          const lo = (this.pcLo >>> 0) + (d >>> 0);
          this.jump((this.pcHi + (d >> 31) + (lo > 0xffffffff ? 1 : 0)) | 0, lo | 0);
        }
        return NOT_EXIT;
      }
      case Op.Bclr:
      case Op.Bcctr: {
        const lr = row.op === Op.Bclr;
        const taken = this.branchTaken(lr ? rt : rt | 4, ra);
        const thi = lr ? this.sprHi[Spr.LR]! : this.sprHi[Spr.CTR]!;
        const tlo = lr ? this.sprLo[Spr.LR]! : this.sprLo[Spr.CTR]!;
        if (w & 1) this.setLrNext();
        if (!taken) break;
        this.jump(thi, tlo);
        return NOT_EXIT;
      }
      case Op.Sc:
        this.advance(4);
        return field.lev(w) & 1 ? PpcExitReason.HypervisorCall : PpcExitReason.SystemCall;
      case Op.Rfid:
      case Op.Hrfid: {
        const s1hi = this.sprHi[Spr.SRR1]!;
        const s1lo = this.sprLo[Spr.SRR1]!;
        const ee = this.msrLo & Msr.EE;
        this.setMsr(s1hi, s1lo);
        this.jump(this.sprHi[Spr.SRR0]!, this.sprLo[Spr.SRR0]!);
        this.reserved = false;
        return this.msrLo & ~ee & Msr.EE ? PpcExitReason.InterruptWindow : NOT_EXIT;
      }
      case Op.CrLogical: {
        const a = (this.cr >>> (31 - ra)) & 1;
        const b = (this.cr >>> (31 - rb)) & 1;
        let r: number;
        switch (row.xo) {
          case 257:
            r = a & b;
            break;
          case 449:
            r = a | b;
            break;
          case 193:
            r = a ^ b;
            break;
          case 225:
            r = (a & b) ^ 1;
            break;
          case 33:
            r = (a | b) ^ 1;
            break;
          case 289:
            r = a ^ b ^ 1;
            break;
          case 129:
            r = a & (b ^ 1);
            break;
          default:
            r = a | (b ^ 1);
        }
        const bit = 1 << (31 - rt);
        this.cr = r ? this.cr | bit : this.cr & ~bit;
        break;
      }
      case Op.Mcrf:
        this.setCrField(field.bf(w), (this.cr >>> (28 - 4 * field.bfa(w))) & 15);
        break;
      case Op.Mcrxr:
        this.setCrField(field.bf(w), (this.xer >>> 28) & 14);
        this.xer &= ~(Xer.SO | Xer.OV | Xer.CA);
        break;
      case Op.Mfcr:
        this.setRt(rt, 0, this.cr);
        break;
      case Op.Mfocrf:
        this.setRt(rt, 0, this.cr & crFieldMask(field.fxm(w)));
        break;
      case Op.Mtcrf:
      case Op.Mtocrf: {
        const m = crFieldMask(field.fxm(w));
        this.cr = (this.cr & ~m) | (g[rt]! & m);
        break;
      }
      case Op.Mfspr: {
        const r = this.mfspr(rt, field.spr(w));
        if (r !== NOT_EXIT) return r;
        break;
      }
      case Op.Mtspr: {
        const spr = field.spr(w);
        const r = this.mtspr(spr, rt);
        if (r !== NOT_EXIT) return r;
        if (spr === Spr.DEC) {
          this.advance(4);
          return PpcExitReason.InterruptWindow;
        }
        break;
      }
      case Op.Mftb: {
        const spr = field.spr(w);
        if (spr === Spr.TBL_READ) this.setRt(rt, hiOf(this.timebase), loOf(this.timebase));
        else if (spr === Spr.TBU_READ) this.setRt(rt, 0, hiOf(this.timebase));
        else return this.program(ProgramKind.ILLEGAL);
        break;
      }
      case Op.Mfmsr:
        this.setRt(rt, this.msrHi & ~Msr.HV_HI, this.msrLo);
        break;
      case Op.Mtmsr:
      case Op.Mtmsrd: {
        const ee = this.msrLo & Msr.EE;
        if (row.op === Op.Mtmsrd && w & 0x10000) {
          const m = Msr.EE | Msr.RI;
          this.msrLo = (this.msrLo & ~m) | (g[rt]! & m);
        } else this.setMsr(row.op === Op.Mtmsrd ? h[rt]! : this.msrHi, g[rt]!);
        if (this.msrLo & ~ee & Msr.EE) {
          this.advance(4);
          return PpcExitReason.InterruptWindow;
        }
        break;
      }
      case Op.Barrier:
      case Op.CacheHint:
        break;
      case Op.Dcbz: {
        // 128 bytes (the 970's cache block), or 32 in the HID5 "dcbz32" mode the 970 starts in.
        const n = ((this.sprLo[Spr.HID5]! >>> 7) & 3) === 1 ? 32 : 128;
        this.eaIndexed(ra, rb);
        this.eaLo &= -n;
        for (let k = 0; k < n / 8; k++) {
          this.memory.write64(this.eaHi, this.eaLo, 0, 0);
          this.eaStep(8);
        }
        break;
      }
      case Op.Mmu:
        return PpcExitReason.Emulate;
      case Op.Illegal:
        return this.program(ProgramKind.ILLEGAL);
      default: {
        if (!(this.msrLo & Msr.FP)) return PpcExitReason.FpUnavailable;
        const f = this.fpu;
        f.execute(row, w);
        if (f.crField >= 0) this.setCrField(f.crBf, f.crField);
        else if (rc) this.setCrField(1, f.cr1());
        // An enabled FP exception interrupts (precise mode) at the instruction, after its effects.
        if (f.fpscr & Fpscr.FEX && this.msrLo & (Msr.FE0 | Msr.FE1))
          return this.program(ProgramKind.FP);
        break;
      }
    }
    if (rc && row.op < Op.FpArith) {
      const d = isRtForm(row.op) ? rt : ra;
      this.recordCr0(h[d]!, g[d]!);
    }
    this.advance(4);
    return NOT_EXIT;
  }

  /**
   * mtmsr/mtmsrd (L = 0) and rfid: the new MSR, with the ISA's rules — HV and ME are not
   * the guest's to change, LE stays 0 (big-endian only), and problem state forces EE, IR
   * and DR on.
   */
  private setMsr(hi: number, lo: number): void {
    if (lo & Msr.PR) lo |= Msr.EE | Msr.IR | Msr.DR;
    this.msrHi = (hi & ~Msr.HV_HI) | (this.msrHi & Msr.HV_HI);
    this.msrLo = (lo & ~(Msr.ME | 1)) | (this.msrLo & Msr.ME);
  }

  private alignment(store: boolean): number {
    const f = STORAGE_FAULT;
    f.fetch = false;
    f.eaHi = this.eaHi;
    f.eaLo = this.eaLo;
    f.status = store ? 0x02000000 : 0;
    f.alignment = true;
    throw f;
  }
}

/** Whether an op writes RT (XO forms) rather than RA. */
function isRtForm(op: Op): boolean {
  return op >= Op.Add && op <= Op.Divdu;
}

function ones32(b: number, e: number): number {
  return (0xffffffff >>> b) & ~(e === 31 ? 0 : 0xffffffff >>> (e + 1));
}

function bswap32(v: number): number {
  return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
}

function crFieldMask(fxm: number): number {
  let m = 0;
  for (let k = 0; k < 8; k++) if (fxm & (0x80 >> k)) m |= 0xf0000000 >>> (4 * k);
  return m;
}

function hiOf(v: number): number {
  return Math.floor(v / 0x100000000) | 0;
}

function loOf(v: number): number {
  return (v % 0x100000000) | 0;
}

/** −(hi:lo) → NEG[0] (hi), NEG[1] (lo). */
const NEG = new Int32Array(2);
function neg64(hi: number, lo: number): void {
  const l = (~lo >>> 0) + 1;
  NEG[1] = l | 0;
  NEG[0] = (~hi + (l > 0xffffffff ? 1 : 0)) | 0;
}
