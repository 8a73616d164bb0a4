/**
 * The PowerPC block compiler: a hot run of instructions (straight-line code up to and
 * including a branch, `sc`, `rfid`, `mtmsr(d)`, an SLB/TLB instruction or the end of its
 * page) becomes one JavaScript function built with `new Function`, run by
 * {@link PpcBlockCompiler.run} in place of the interpreter loop of {@link PpcCpu.run}.
 *
 * A compiled block changes architectural state exactly as the interpreter would. Integer
 * arithmetic, logical, rotate and shift, compare, multiply and divide instructions, the
 * integer loads and stores of every size (inline through the MMU's data translation
 * cache, {@link PpcDataTranslations}, else through the CPU's {@link PpcMemory}, so the
 * MMU's faults), CR field updates, XER CA, `mflr`/`mtlr`/`mfctr`/
 * `mtctr`/`mfcr`/`mtcrf` and `b`/`bc`/`bclr`/`bcctr` with CTR and LR are compiled; every
 * other instruction calls the interpreter's {@link PpcCpu.step} for that one word, with pc
 * and the retired count set as the interpreter would have them. A block runs only in
 * 64-bit mode (MSR[SF] = 1); 32-bit code is interpreted.
 *
 * Exactness: the block never runs past the budget it is given, so the vCPU's decrementer
 * and interrupt checks see the same instruction counts. A block is entered with the
 * budget for the rest of it (it checks the budget only where it loops back to its start);
 * with less, its counted form runs, which checks it before every instruction. A run that
 * stops inside a block resumes there (each instruction is an entry of the block's
 * switch). A storage fault leaves pc at the faulting instruction and
 * the count of the instructions before it (the generated `catch`), and the run loop
 * turns it into the same exit. Entering a block fetches its first word through the
 * memory (an instruction storage interrupt is raised there, and every instruction of a
 * block lies in that page).
 *
 * Code that changes: blocks are keyed by effective address and MSR context and hold
 * their instruction words. The CPU's storage is wrapped ({@link CodeWatch}) so that a
 * store by the guest to a 64-byte line holding compiled code marks every block for
 * checking (and leaves the running block after the store); so do `icbi` (which the ISA
 * requires, with `isync`, before modified code is executed: instruction fetch is not
 * coherent with stores) and an exit the hypervisor acts on (a hypercall, which may write
 * guest memory or change the page table, and an SLB/TLB instruction). A block marked for
 * checking compares its words with memory at its next entry (which also raises the
 * instruction storage interrupt its first fetch would) and is dropped if they differ.
 * Code written behind the CPU's back without an `icbi` after it (through a second
 * effective mapping of the page, by another vCPU or domain, or by a caller writing the
 * memory directly) may run stale until the next of these events; a caller that writes
 * code directly calls {@link PpcBlockCompiler.codeMayHaveChanged}.
 *
 * @module
 */
import {
  Msr,
  PpcExitReason,
  STORAGE_FAULT,
  Spr,
  Xer,
  retiresAtExit,
  storageFaultExit,
  type PpcExit,
  type PpcMemory,
} from "../cpu/cpu-api.js";
import type { PpcCpu } from "../cpu/cpu.js";
import { decodeWord } from "../cpu/decode.js";
import { Op, RowFlag, TABLE, field, type InsnRow } from "../cpu/table.js";
import { divu64, mul128 } from "../cpu/wide.js";
import { PpcBlockExit, PpcExecProfile, profileRow } from "./exec-profile.js";
import {
  PPC_DATA_TLB_MASK,
  PpcDataPerm,
  PpcMmu,
  dataTranslationContext,
  type PpcDataTranslations,
} from "../mmu/mmu.js";

/**
 * A compiled block: runs from its instruction `k0` (0: its first) with at most `left`
 * instructions to retire (at least 1; at least the rest of the block unless counted). Returns −1 with pc and {@link PpcCpu.instructions} past what it
 * ran, or the {@link PpcExitReason} of an instruction the interpreter ended the run on
 * (pc and the count as {@link PpcCpu.step} left them, the instruction not counted; its
 * word in {@link PpcBlockCompiler.word}).
 */
export type PpcBlockFn = (
  c: PpcCpu,
  G: Int32Array,
  H: Int32Array,
  M: PpcMemory,
  J: PpcBlockCompiler,
  L: Uint8Array,
  left: number,
  T: PpcDataTranslations,
  k0: number,
) => number;

/** The translations of a storage without a cache of its own: no entry ever matches. */
const NO_TRANSLATIONS: PpcDataTranslations = {
  tagHi: new Int32Array(PPC_DATA_TLB_MASK + 1),
  tagLo: new Int32Array(PPC_DATA_TLB_MASK + 1).fill(-1),
  base: new Float64Array(PPC_DATA_TLB_MASK + 1),
  perm: new Uint8Array(PPC_DATA_TLB_MASK + 1),
  view: new DataView(new ArrayBuffer(8)),
  bytes: new Uint8Array(8),
};

const NOT_EXIT = -1;
/** Direct-mapped slots of the block cache (by pc / 4). */
const SLOTS = 2048;
const SLOT_MASK = SLOTS - 1;
/** Longest block, in instructions. */
const MAX_INSNS = 32;
/** {@link PpcBlockCompiler.threshold}'s default. */
export const PPC_BLOCK_THRESHOLD = 16;
/** Code lines (64 bytes) tracked, by effective address bits 6–23 (aliases only add checks). */
const LINE_BITS = 18;
const LINE_MASK = (1 << LINE_BITS) - 1;
/** Blocks compiled between two flushes of the whole cache (as the x86 block cache's budget). */
export const PPC_BLOCK_BUDGET = 4096;

/** Counters of a compiler's work, for `--profile` and tests. */
export interface PpcBlockProfile {
  /** Instructions the interpreter ran one by one. */
  interpreted: number;
  /** Blocks entered. */
  entered: number;
  /** Blocks compiled. */
  compiled: number;
  /** Blocks dropped because their words changed. */
  stale: number;
  /** Times the cache was emptied because its budget was used up. */
  flushes: number;
}

/**
 * The CPU's storage as the compiler gives it to the interpreter: every access goes to
 * `inner`; a store that reaches a line holding compiled code tells the compiler.
 */
export class CodeWatch implements PpcMemory {
  /** The storage watched (the MMU or a real-mode memory). */
  inner: PpcMemory;

  /** Watches stores to `compiler`'s code lines. */
  constructor(
    inner: PpcMemory,
    private readonly compiler: PpcBlockCompiler,
  ) {
    this.inner = inner;
  }

  /** {@inheritDoc PpcMemory.fetch} */
  fetch(eaHi: number, eaLo: number): number {
    return this.inner.fetch(eaHi, eaLo);
  }
  /** {@inheritDoc PpcMemory.read8} */
  read8(eaHi: number, eaLo: number): number {
    return this.inner.read8(eaHi, eaLo);
  }
  /** {@inheritDoc PpcMemory.read16} */
  read16(eaHi: number, eaLo: number): number {
    return this.inner.read16(eaHi, eaLo);
  }
  /** {@inheritDoc PpcMemory.read32} */
  read32(eaHi: number, eaLo: number): number {
    return this.inner.read32(eaHi, eaLo);
  }
  /** {@inheritDoc PpcMemory.write8} */
  write8(eaHi: number, eaLo: number, v: number): void {
    this.inner.write8(eaHi, eaLo, v);
    this.compiler.stored(eaLo, 1);
  }
  /** {@inheritDoc PpcMemory.write16} */
  write16(eaHi: number, eaLo: number, v: number): void {
    this.inner.write16(eaHi, eaLo, v);
    this.compiler.stored(eaLo, 2);
  }
  /** {@inheritDoc PpcMemory.write32} */
  write32(eaHi: number, eaLo: number, v: number): void {
    this.inner.write32(eaHi, eaLo, v);
    this.compiler.stored(eaLo, 4);
  }
  /** {@inheritDoc PpcMemory.write64} */
  write64(eaHi: number, eaLo: number, hi: number, lo: number): void {
    this.inner.write64(eaHi, eaLo, hi, lo);
    this.compiler.stored(eaLo, 8);
  }
}

/**
 * One CPU's block compiler and block cache. {@link PpcCpu.run} hands its loop to
 * {@link PpcBlockCompiler.run} while the CPU has one ({@link PpcCpu.compiler}).
 */
export class PpcBlockCompiler {
  /** Blocks compiled between two flushes of the whole cache. */
  budget = PPC_BLOCK_BUDGET;
  /** Visits of an address (at most 255) before its block is compiled. */
  threshold = PPC_BLOCK_THRESHOLD;
  /** What the compiler has done. */
  readonly profile: PpcBlockProfile = {
    interpreted: 0,
    entered: 0,
    compiled: 0,
    stale: 0,
    flushes: 0,
  };
  /** The word of the instruction a block ended the run on (see {@link PpcBlockFn}). */
  word = 0;
  /** Set by a store to a code line; a block leaves after the store that set it. */
  dirty = false;
  /**
   * The execution profile being counted (`--profile`, `startPpcProfile`), or null:
   * then the run loop pays one null test per block and blocks report nothing.
   */
  exec: PpcExecProfile | null = null;
  /** 1 for each 64-byte line (effective address bits 6–23) holding compiled code. */
  readonly lines = new Uint8Array(1 << LINE_BITS);

  private readonly tagLo = new Int32Array(SLOTS).fill(-1);
  private readonly tagHi = new Int32Array(SLOTS);
  private readonly tagCtx = new Int32Array(SLOTS);
  private readonly count = new Int32Array(SLOTS);
  private readonly words = new Int32Array(SLOTS * MAX_INSNS);
  /** The {@link PpcBlockCompiler.epoch} each slot's words were last found current in. */
  private readonly checked = new Int32Array(SLOTS);
  private readonly heat = new Uint8Array(SLOTS);
  /** Per slot, for the profile: why its block ends where it does ({@link blockStop}). */
  private readonly stop = new Int32Array(SLOTS);
  /** The profile's marks at the running block's entry: retired count, steps, counted form. */
  private profAt = -1;
  private profSteps = 0;
  private profLeft = -1;
  private readonly fns: (PpcBlockFn | null)[] = new Array<PpcBlockFn | null>(SLOTS).fill(null);
  /** Each slot's block built as `counted` ({@link blockSource}), when it was needed. */
  private readonly countedFns: (PpcBlockFn | null)[] = new Array<PpcBlockFn | null>(SLOTS).fill(
    null,
  );
  /** Bumped whenever code may have changed: every block checks its words once after. */
  private epoch = 1;
  /** A pc inside the block of {@link PpcBlockCompiler.resumeSlot}, where the last block left. */
  private resumeLo = 1;
  private resumeHi = 0;
  private resumeSlot = 0;
  private filled = 0;
  private watch: CodeWatch | null = null;

  /** Drops every block. */
  flush(): void {
    this.tagLo.fill(-1);
    this.heat.fill(0);
    this.fns.fill(null);
    this.countedFns.fill(null);
    this.lines.fill(0);
    this.filled = 0;
  }

  /** Every block checks its words against memory before it runs again. */
  codeMayHaveChanged(): void {
    this.epoch = (this.epoch + 1) | 0;
  }

  /** A store of `size` bytes at effective address low half `eaLo` completed. */
  stored(eaLo: number, size: number): void {
    const l = this.lines;
    if (l[(eaLo >>> 6) & LINE_MASK] !== 0 || l[((eaLo + size - 1) >>> 6) & LINE_MASK] !== 0)
      this.codeWritten();
  }

  /** A store reached a line holding compiled code. */
  codeWritten(): void {
    this.epoch = (this.epoch + 1) | 0;
    this.dirty = true;
  }

  /**
   * {@link PpcCpu.run} with compiled blocks: the same exits, counts and state as the
   * interpreter.
   */
  run(cpu: PpcCpu, budget: number): PpcExit {
    const exit = cpu.exit;
    const start = cpu.instructions;
    let watch = this.watch;
    if (watch === null || cpu.memory !== watch) {
      watch = this.watch = new CodeWatch(cpu.memory, this);
      cpu.memory = watch;
      this.codeMayHaveChanged();
    }
    const M = watch.inner;
    const T = M instanceof PpcMmu ? M.dataTranslations : NO_TRANSLATIONS;
    const G = cpu.gprLo;
    const H = cpu.gprHi;
    const prof = this.profile;
    const ex = this.exec;
    const tagLo = this.tagLo;
    const tagHi = this.tagHi;
    const tagCtx = this.tagCtx;
    const checked = this.checked;
    const count = this.count;
    const lines = this.lines;
    let reason: number = PpcExitReason.Budget;
    let word = 0;
    try {
      for (;;) {
        const n = cpu.instructions - start;
        if (n >= budget) break;
        const pcLo = cpu.pcLo;
        const pcHi = cpu.pcHi;
        const slot = (pcLo >>> 2) & SLOT_MASK;
        const ctx = cpu.msrHi < 0 ? (cpu.msrLo & (Msr.IR | Msr.PR)) | 1 : 0;
        if (ctx !== 0) {
          let at = slot;
          let k0 = 0;
          if (
            !(tagLo[slot] === pcLo && tagHi[slot] === pcHi && tagCtx[slot] === ctx) &&
            pcLo === this.resumeLo &&
            pcHi === this.resumeHi
          ) {
            // Inside the block the last one left (its budget ran out there, or it branched
            // into itself): entered there, in the epoch its words were checked in.
            at = this.resumeSlot;
            k0 = ((pcLo - tagLo[at]!) | 0) >> 2;
            if (
              k0 <= 0 ||
              k0 >= count[at]! ||
              tagHi[at] !== pcHi ||
              tagCtx[at] !== ctx ||
              checked[at] !== this.epoch
            )
              k0 = -1;
          }
          if (
            k0 > 0 ||
            (k0 === 0 && tagLo[slot] === pcLo && tagHi[slot] === pcHi && tagCtx[slot] === ctx)
          ) {
            // In the epoch its words were checked in, the page's translation and its words
            // are as they were: the fetch the interpreter makes could not fault or differ.
            if (k0 > 0 || checked[at] === this.epoch || this.current(at, M, pcHi, pcLo)) {
              this.dirty = false;
              prof.entered++;
              const left = budget - n;
              // With less budget than the rest of the block: its counted form.
              const fn = left >= count[at]! - k0 ? this.fns[at]! : this.countedFn(at);
              if (ex !== null) this.profEnter(ex, cpu, fn === this.fns[at] ? -1 : left);
              const r = fn(cpu, G, H, M, this, lines, left, T, k0);
              if (r !== NOT_EXIT) {
                reason = r;
                word = this.word;
                if (retiresAtExit(r)) cpu.instructions++;
                if (ex !== null) this.profRunExit(ex, cpu, r, word);
                break;
              }
              if (ex !== null) this.profLeave(ex, cpu, at);
              const off = (cpu.pcLo - tagLo[at]!) | 0;
              if (off > 0 && off < 4 * count[at]! && cpu.pcHi === pcHi) {
                this.resumeLo = cpu.pcLo;
                this.resumeHi = pcHi;
                this.resumeSlot = at;
              }
              continue;
            }
            prof.stale++;
            if (ex !== null) ex.exits[PpcBlockExit.Stale]++;
            tagLo[slot] = -1;
          } else if (k0 === 0 && ++this.heat[slot]! >= this.threshold) {
            this.heat[slot] = 0;
            this.compile(slot, M, pcHi, pcLo, ctx);
            continue;
          }
        }
        word = M.fetch(pcHi, pcLo);
        this.word = word;
        prof.interpreted++;
        if (isIcbi(word)) this.codeMayHaveChanged();
        reason = cpu.step(word);
        if (reason !== NOT_EXIT) {
          if (retiresAtExit(reason)) {
            cpu.instructions++;
            if (ex !== null) ex.ops[profileRow(word)]++;
          }
          break;
        }
        cpu.instructions++;
        if (ex !== null) ex.ops[profileRow(word)]++;
        reason = PpcExitReason.Budget;
      }
      if (reason === PpcExitReason.Budget) word = 0;
    } catch (e) {
      if (ex !== null && this.profAt >= 0) {
        ex.compiled += cpu.instructions - this.profAt - (ex.stepped - this.profSteps);
        ex.exits[PpcBlockExit.Fault]++;
        this.profAt = -1;
      }
      if (e !== STORAGE_FAULT) throw e;
      word = STORAGE_FAULT.fetch ? 0 : this.word;
      reason = storageFaultExit(exit);
    }
    // The hypervisor acts on these exits: it may write guest memory or remap it.
    if (reason === PpcExitReason.HypervisorCall || reason === PpcExitReason.Emulate)
      this.codeMayHaveChanged();
    exit.reason = reason;
    exit.retired = cpu.instructions - start;
    exit.word = word;
    return exit;
  }

  /**
   * Whether slot's words are still in memory (then current in this epoch). The first
   * fetch raises the instruction storage interrupt the interpreter would; the others are
   * in the same page.
   */
  private current(slot: number, M: PpcMemory, pcHi: number, pcLo: number): boolean {
    const n = this.count[slot]!;
    const base = slot * MAX_INSNS;
    for (let k = 0; k < n; k++)
      if (M.fetch(pcHi, (pcLo + 4 * k) | 0) !== this.words[base + k]) return false;
    this.checked[slot] = this.epoch;
    return true;
  }

  /** Profile: a block is entered (`left` its budget when counted, else −1). */
  private profEnter(ex: PpcExecProfile, cpu: PpcCpu, left: number): void {
    this.profAt = cpu.instructions;
    this.profSteps = ex.stepped;
    this.profLeft = left;
  }

  /** Profile: the block of `slot` returned without an exit. */
  private profLeave(ex: PpcExecProfile, cpu: PpcCpu, slot: number): void {
    const ran = cpu.instructions - this.profAt;
    ex.compiled += ran - (ex.stepped - this.profSteps);
    this.profAt = -1;
    const end = (this.tagLo[slot]! + 4 * this.count[slot]!) | 0;
    let cause: number = PpcBlockExit.Branch;
    if (this.dirty) cause = PpcBlockExit.CodeWritten;
    else if (ran === this.profLeft) cause = PpcBlockExit.Budget;
    else if (cpu.pcLo === end && cpu.pcHi === this.tagHi[slot]) {
      const stop = this.stop[slot]!;
      if (stop >= 0) {
        cause = PpcBlockExit.Ender;
        ex.enders[stop]++;
      } else if (stop === STOP_PAGE_END) cause = PpcBlockExit.PageEnd;
      else if (stop === STOP_LENGTH) cause = PpcBlockExit.Length;
    }
    ex.exits[cause]++;
  }

  /** Profile: a block's stepped instruction `word` ended the run with `r`. */
  private profRunExit(ex: PpcExecProfile, cpu: PpcCpu, r: number, word: number): void {
    const ran = cpu.instructions - this.profAt;
    const row = profileRow(word);
    let compiled = ran - (ex.stepped - this.profSteps);
    if (retiresAtExit(r)) {
      ex.ops[row]++;
      compiled--;
    }
    ex.compiled += compiled;
    this.profAt = -1;
    ex.enders[row]++;
    if (r >= 0 && r < ex.runExits.length) ex.runExits[r]++;
    ex.exits[PpcBlockExit.RunExit]++;
  }

  /** The counted form of slot's block (built at its first use). */
  private countedFn(slot: number): PpcBlockFn {
    let fn = this.countedFns[slot];
    if (fn === null || fn === undefined) {
      const base = slot * MAX_INSNS;
      const words = this.words.subarray(base, base + this.count[slot]!);
      fn = buildBlock(words, this.tagHi[slot]!, this.tagLo[slot]!, true, this.exec !== null);
      this.countedFns[slot] = fn;
    }
    return fn;
  }

  /** Compiles the block at pc into `slot` (its first word already fetched). */
  private compile(slot: number, M: PpcMemory, pcHi: number, pcLo: number, ctx: number): void {
    if (this.filled >= this.budget) {
      this.flush();
      this.profile.flushes++;
    }
    this.filled++;
    const base = slot * MAX_INSNS;
    let n = 0;
    for (;;) {
      const w = M.fetch(pcHi, (pcLo + 4 * n) | 0);
      this.words[base + n] = w;
      n++;
      if (n === MAX_INSNS || endsBlock(w) || ((pcLo + 4 * n) & 0xfff) === 0) break;
    }
    const words = this.words.subarray(base, base + n);
    const fn = buildBlock(words, pcHi, pcLo, false, this.exec !== null);
    if (this.exec !== null) {
      this.exec.blocksCompiled++;
      this.stop[slot] = blockStop(words, pcLo);
    }
    this.tagLo[slot] = pcLo;
    this.tagHi[slot] = pcHi;
    this.tagCtx[slot] = ctx;
    this.count[slot] = n;
    this.checked[slot] = this.epoch;
    this.fns[slot] = fn;
    this.countedFns[slot] = null;
    for (let a = pcLo >>> 6; a <= (pcLo + 4 * n - 1) >>> 6; a++) this.lines[a & LINE_MASK] = 1;
    this.profile.compiled++;
  }
}

const STOP_BRANCH = -1;
const STOP_PAGE_END = -2;
const STOP_LENGTH = -3;

/**
 * Why a block of `words` at `pcLo` ends where it does, for the profile: the {@link TABLE}
 * row of its last instruction when that ends blocks and is not a compiled branch, else
 * STOP_BRANCH, STOP_PAGE_END or STOP_LENGTH.
 */
function blockStop(words: Int32Array, pcLo: number): number {
  const w = words[words.length - 1]!;
  if (endsBlock(w)) {
    const i = decodeWord(w);
    const op = i < 0 ? Op.Illegal : TABLE[i]!.op;
    const branch = op === Op.B || op === Op.Bc || op === Op.Bclr || op === Op.Bcctr;
    return branch ? STOP_BRANCH : profileRow(w);
  }
  return ((pcLo + 4 * words.length) & 0xfff) === 0 ? STOP_PAGE_END : STOP_LENGTH;
}

/**
 * `icbi`: the ISA's way (after the stores, `dcbst`, `sync`) to make modified code visible
 * to instruction fetch; every block checks its words again after it.
 */
function isIcbi(w: number): boolean {
  return (w & 0xfc0007fe) === ((31 << 26) | (982 << 1));
}

/** Whether `w` ends a block (after it): control flow, `icbi`, or what changes MSR, SLB or TLB. */
function endsBlock(w: number): boolean {
  if (isIcbi(w)) return true;
  const i = decodeWord(w);
  if (i < 0) return true;
  switch (TABLE[i]!.op) {
    case Op.Bc:
      // A conditional branch leaves the block when taken; not taken, the block goes on.
      return (w & 1) !== 0;
    case Op.B:
    case Op.Bclr:
    case Op.Bcctr:
    case Op.Sc:
    case Op.Rfid:
    case Op.Hrfid:
    case Op.Mtmsr:
    case Op.Mtmsrd:
    case Op.Mmu:
    case Op.Illegal:
      return true;
    default:
      return false;
  }
}

/** The high of the unsigned 64-bit product of two 32-bit values. */
function mulhu(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const mid = a1 * b0 + ((a0 * b0) >>> 16);
  const mid2 = a0 * b1 + (mid & 0xffff);
  return (a1 * b1 + Math.floor(mid / 0x10000) + Math.floor(mid2 / 0x10000)) | 0;
}

/** The high of the signed 64-bit product of two int32 values. */
function mulhs(a: number, b: number): number {
  return (mulhu(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
}

/** Scratch of the 64-bit multiply and divide helpers (results only, read right after). */
const WIDE = new Int32Array(4);

/**
 * divd/divdu of hi:lo halves: the quotient into WIDE[1]:WIDE[0], 0 for a zero divisor
 * or (signed) −2^63 / −1, as the interpreter leaves RT.
 */
function div64(signed: boolean, ahi: number, alo: number, bhi: number, blo: number): void {
  if (
    (bhi === 0 && blo === 0) ||
    (signed && ahi === -0x80000000 && alo === 0 && bhi === -1 && blo === -1)
  ) {
    WIDE[0] = WIDE[1] = 0;
    return;
  }
  const neg = signed && (ahi ^ bhi) < 0;
  if (signed && ahi < 0) {
    alo = -alo | 0;
    ahi = (~ahi + (alo === 0 ? 1 : 0)) | 0;
  }
  if (signed && bhi < 0) {
    blo = -blo | 0;
    bhi = (~bhi + (blo === 0 ? 1 : 0)) | 0;
  }
  divu64(WIDE, alo, ahi, blo, bhi);
  if (neg) {
    WIDE[0] = -WIDE[0]! | 0;
    WIDE[1] = (~WIDE[1]! + (WIDE[0] === 0 ? 1 : 0)) | 0;
  }
}

/** MASK(b, e) of the ISA (bit 0 the most significant of 64), as [hi, lo]. */
function maskOf(b: number, e: number): [number, number] {
  const ones = (x: number, y: number): number =>
    ((0xffffffff >>> x) & ~(y === 31 ? 0 : 0xffffffff >>> (y + 1))) | 0;
  if (b <= e)
    return [
      b <= 31 ? ones(b, e > 31 ? 31 : e) : 0,
      e >= 32 ? ones(b < 32 ? 0 : b - 32, e - 32) : 0,
    ];
  if (b === e + 1) return [-1, -1];
  const [h, l] = maskOf(e + 1, b - 1);
  return [~h, ~l];
}

/**
 * The JavaScript of one block (see {@link PpcBlockFn}): `words` at pc `pcHi`:`pcLo`, in
 * 64-bit mode. The block is entered with a budget `left` of at least its length and
 * checks it only where it loops to its start; a `counted` block checks it before every
 * instruction and may be entered with less (the run loop's last instructions). A
 * `profiled` block reports each instruction it hands to the interpreter
 * ({@link PpcBlockCompiler.exec}).
 */
export function blockSource(
  words: Int32Array,
  pcHi: number,
  pcLo: number,
  counted = false,
  profiled = false,
): string {
  const out: string[] = [];
  const e = (s: string): number => out.push(s);
  const n = words.length;
  e("try { run: for (;;) { switch (k0) {");
  let ended = false;
  for (let k = 0; k < n; k++) {
    const w = words[k]!;
    const pc = (pcLo + 4 * k) | 0;
    e(`case ${k}:`);
    if (counted && k > 0) e(`if (left <= ${k}) ${leave(k, pc, pcHi)}`);
    const idx = decodeWord(w);
    const row = idx < 0 ? null : TABLE[idx]!;
    const body = row === null ? null : emit(row, w, k, pc, pcHi, n, pcLo, counted ? 1 : n);
    if (body === null) {
      // The interpreter's step, with pc and the count as it expects them.
      e(`i = ${k}; c.pcLo = ${pc}; c.pcHi = ${pcHi}; c.instructions = n0 + ${k};`);
      e(
        `${SPILL} r = c.step(${w}); ${RELOAD} ${RELOAD_MSR} if (r !== -1) { x = r; done = ${k}; pl = -1; break run; }`,
      );
      if (profiled) e(`J.exec.step(${profileRow(w)});`);
      if (row !== null && storesTo(row)) e(`if (J.dirty) { done = ${k + 1}; pl = -1; break run; }`);
      if (k === n - 1) {
        e(`done = ${n}; pl = -1; break run;`);
        ended = true;
      }
      continue;
    }
    e(body.code);
    if (body.branch) {
      ended = true;
      break;
    }
  }
  if (!ended) {
    const end = (pcLo + 4 * n) | 0;
    e(leave(n, end, pcHi));
  }
  e("} } } catch (f) {");
  e(
    `${SPILL} c.pcLo = (${pcLo} + 4 * i) | 0; c.pcHi = ${pcHi}; c.instructions = n0 + i; J.word = W[i]; throw f;`,
  );
  e("}");
  // Every exit but a fault comes here: the paths that leave assign locals only, so a
  // path first taken after V8 optimized the block does not deoptimize it.
  e(`${SPILL} c.instructions = n0 + done; if (pl !== -1) { c.pcLo = pl; c.pcHi = ph; }`);
  e(`if (x !== -1) J.word = W[done]; return x;`);
  return inLocals(out.join("\n"));
}

const SPILL = "@SPILL@";

/** Leave the block with `done` instructions retired and pc = `hi`:`lo`. */
function leave(done: number, lo: number, hi: number): string {
  return `{ done = ${done}; pl = ${lo}; ph = ${hi}; break run; }`;
}
const RELOAD = "@RELOAD@";
/** After the interpreter's step: the data translation context again (MSR may have changed). */
const RELOAD_MSR = "@MSR@";

/**
 * Holds the block's registers in locals: `G[n]`/`H[n]` (GPR halves), `c.cr`, `c.xer`,
 * LR and CTR become locals loaded at entry, written back (those the block writes) before
 * every return, the interpreter's step and a rethrown fault, and loaded again after a step.
 */
function inLocals(body: string): string {
  const used = new Map<string, string>();
  const written = new Set<string>();
  const local = (array: string, n: string): string => {
    const name =
      array === "SL" || array === "SH"
        ? `${n === String(Spr.LR) ? "lr" : "ctr"}${array === "SL" ? "L" : "H"}`
        : `${array === "G" ? "g" : "h"}${n}`;
    used.set(name, `${array === "SL" ? "c.sprLo" : array === "SH" ? "c.sprHi" : array}[${n}]`);
    return name;
  };
  let code = body
    .replace(/\b(G|H|SL|SH)\[(\d+)\](\s*=(?!=))?/g, (_m, a: string, n: string, assign?: string) => {
      const name = local(a, n);
      if (assign !== undefined) written.add(name);
      return assign !== undefined ? `${name} =` : name;
    })
    .replace(/\bc\.(cr|xer)\b(\s*=(?!=))?/g, (_m, f: string, assign?: string) => {
      used.set(f, `c.${f}`);
      if (assign !== undefined) written.add(f);
      return assign !== undefined ? `${f} =` : f;
    });
  const spill = [...written].map((l) => `${used.get(l)!} = ${l};`).join(" ");
  const reload = [...used].map(([l, home]) => `${l} = ${home};`).join(" ");
  code = code.replaceAll(SPILL, spill).replaceAll(RELOAD, reload);
  const decl = [...used].map(([l, home]) => `${l} = ${home}`).join(", ");
  const memory = code.includes("DL[");
  if (memory) code = code.replaceAll(RELOAD_MSR, "dx = DC(c.msrHi, c.msrLo);");
  else code = code.replaceAll(RELOAD_MSR, "");
  return (
    `let n0 = c.instructions - k0; left += k0; let i = k0, a = 0, b = 0, t = 0, u = 0, eh = 0, el = 0, r = 0;\n` +
    `let x = -1, done = 0, pl = -1, ph = 0;\n` +
    (memory
      ? `const DL = T.tagLo, DH = T.tagHi, DB = T.base, DP = T.perm, V = T.view, B = T.bytes;\n` +
        `let dx = DC(c.msrHi, c.msrLo), p = 0, o = 0, q = 0;\n`
      : "") +
    (decl === "" ? "" : `let ${decl};\n`) +
    code
  );
}

/** Builds the function of one block. */
function buildBlock(
  words: Int32Array,
  pcHi: number,
  pcLo: number,
  counted: boolean,
  profiled: boolean,
): PpcBlockFn {
  const src = blockSource(words, pcHi, pcLo, counted, profiled);
  const factory = new Function(
    "W",
    "mulhu",
    "mulhs",
    "X",
    "div64",
    "mul128",
    "DC",
    // Parenthesised: V8 compiles the block with the factory instead of parsing it twice.
    `return (function ${counted ? "countedBlock" : "block"}(c, G, H, M, J, L, left, T, k0) {\n${src}\n});`,
  ) as (
    w: Int32Array,
    hu: typeof mulhu,
    hs: typeof mulhs,
    x: Int32Array,
    d: typeof div64,
    m: typeof mul128,
    dc: typeof dataTranslationContext,
  ) => PpcBlockFn;
  return factory(Int32Array.from(words), mulhu, mulhs, WIDE, div64, mul128, dataTranslationContext);
}

/** Whether the interpreter's semantics of `row` store to memory. */
function storesTo(row: InsnRow): boolean {
  switch (row.op) {
    case Op.Store:
    case Op.StoreFp:
    case Op.StoreFpInt:
    case Op.StoreMultiple:
    case Op.StoreString:
    case Op.StoreConditional:
    case Op.Dcbz:
      return true;
    default:
      return false;
  }
}

interface Emitted {
  code: string;
  /** The block ends here (pc and count set, returned). */
  branch?: boolean;
}

/** CR0 ← the signed comparison with 0 of hi:lo (64-bit mode), and SO. */
function record(hi: string, lo: string): string {
  return (
    `c.cr = (c.cr & 0x0fffffff) | (((${hi} < 0 ? 8 : ${hi} > 0 || ${lo} !== 0 ? 4 : 2) | ` +
    `(c.xer >>> 31)) << 28);`
  );
}

const setCa = (v: string): string => `c.xer = ${v} ? c.xer | ${Xer.CA} : c.xer & ${~Xer.CA};`;

/** `rt` ← hi:lo (expressions of locals), then CR0 when `rc`. */
function setRt(rt: number, hi: string, lo: string, rc: boolean): string {
  return `H[${rt}] = ${hi}; G[${rt}] = ${lo};` + (rc ? record(`H[${rt}]`, `G[${rt}]`) : "");
}

/** EA of a D/DS/X form access into eh:el. */
function ea(row: InsnRow, w: number): string {
  const ra = field.ra(w);
  const rb = field.rb(w);
  if (row.form === 5 /* X */) {
    const bh = ra === 0 ? "0" : `H[${ra}]`;
    const bl = ra === 0 ? "0" : `G[${ra}]`;
    if (ra === 0) return `el = G[${rb}]; eh = H[${rb}];`;
    // 32-bit halves: the low half's carry is its unsigned sum below an addend.
    return `t = ${bl}; el = (t + G[${rb}]) | 0; eh = (${bh} + H[${rb}] + ((el >>> 0) < (t >>> 0) ? 1 : 0)) | 0;`;
  }
  const d = row.form === 4 /* DS */ ? field.ds(w) : field.si(w);
  if (ra === 0) return `el = ${d}; eh = ${d >> 31};`;
  if (d === 0) return `el = G[${ra}]; eh = H[${ra}];`;
  return `t = G[${ra}]; el = (t + ${d}) | 0; eh = (H[${ra}] + ${d >> 31} + ((el >>> 0) < (t >>> 0) ? 1 : 0)) | 0;`;
}

/**
 * The inline fast path of a data access of `size` bytes at eh:el: `if (...)` true when
 * the MMU's data translation cache holds its page for the block's context `dx` with
 * `perm` and the access stays in the page (host page offset in `DB[p]`, page offset `o`).
 */
function cached(size: number, perm: number): string {
  return (
    `p = (el >>> 12) & ${PPC_DATA_TLB_MASK}; o = el & 4095; ` +
    `if (DL[p] === ((el & -4096) | dx) && DH[p] === eh && (DP[p] & ${perm}) !== 0 && o <= ${4096 - size})`
  );
}

/** a+b+cin into t (low, unsigned) and u (high, unsigned) of locals a/b halves given. */
function add3(ahi: string, alo: string, bhi: string, blo: string, cin: string): string {
  return `t = (${alo} >>> 0) + (${blo} >>> 0) + ${cin}; u = (${ahi} >>> 0) + (${bhi} >>> 0) + (t > 4294967295 ? 1 : 0);`;
}

/**
 * The JavaScript of one instruction, or null for the interpreter's step. `k` is its
 * index in the block, `pc` its address (low half; `pcHi` the high half); a branch back to
 * `start` loops while `need` instructions of the budget are left.
 */
function emit(
  row: InsnRow,
  w: number,
  k: number,
  pc: number,
  pcHi: number,
  n: number,
  start: number,
  need: number,
): Emitted | null {
  if (row.flags & RowFlag.PRIV) return null;
  const rt = field.rt(w);
  const ra = field.ra(w);
  const rb = field.rb(w);
  const rc = (row.flags & RowFlag.RC) !== 0 && (w & 1) !== 0;
  const oe = (row.flags & RowFlag.OE) !== 0 && (w & 0x400) !== 0;
  const op = row.op;
  const at = `i = ${k};`;
  switch (op) {
    case Op.Load: {
      let code = `${at} ${ea(row, w)} `;
      const alg = (row.flags & RowFlag.ALGEBRAIC) !== 0;
      const rev = (row.flags & RowFlag.REVERSED) !== 0;
      const hit = cached(row.size, PpcDataPerm.READ);
      if (row.size === 8)
        code +=
          `${hit} { q = DB[p] + o; a = V.getInt32(q); b = V.getInt32(q + 4); } else { ` +
          `a = M.read32(eh, el); t = (el >>> 0) + 4; ` +
          `b = M.read32(t > 4294967295 ? (eh + 1) | 0 : eh, t | 0); } H[${rt}] = a; G[${rt}] = b;`;
      else if (row.size === 4) {
        code += `${hit} a = V.getInt32(DB[p] + o); else a = M.read32(eh, el);`;
        if (rev)
          code += ` a = ((a & 0xff) << 24) | ((a & 0xff00) << 8) | ((a >>> 8) & 0xff00) | (a >>> 24);`;
        code += ` G[${rt}] = a; H[${rt}] = ${alg ? "a >> 31" : "0"};`;
      } else if (row.size === 2) {
        code += `${hit} a = V.getUint16(DB[p] + o); else a = M.read16(eh, el);`;
        if (rev) code += ` a = ((a & 0xff) << 8) | (a >>> 8);`;
        if (alg) code += ` a = (a << 16) >> 16;`;
        code += ` G[${rt}] = a; H[${rt}] = a >> 31;`;
      } else
        code += `${hit} a = B[DB[p] + o]; else a = M.read8(eh, el); G[${rt}] = a; H[${rt}] = 0;`;
      if (row.flags & RowFlag.UPDATE) code += ` H[${ra}] = eh; G[${ra}] = el;`;
      return { code };
    }
    case Op.Store: {
      const rev = (row.flags & RowFlag.REVERSED) !== 0;
      let code = `${at} ${ea(row, w)} `;
      const hit = cached(row.size, PpcDataPerm.WRITE);
      if (row.size === 8)
        code += `${hit} { q = DB[p] + o; V.setInt32(q, H[${rt}]); V.setInt32(q + 4, G[${rt}]); } else M.write64(eh, el, H[${rt}], G[${rt}]);`;
      else if (row.size === 4) {
        code += rev
          ? `a = G[${rt}]; a = ((a & 0xff) << 24) | ((a & 0xff00) << 8) | ((a >>> 8) & 0xff00) | (a >>> 24);`
          : `a = G[${rt}];`;
        code += ` ${hit} V.setInt32(DB[p] + o, a); else M.write32(eh, el, a);`;
      } else if (row.size === 2) {
        code += rev
          ? `a = G[${rt}]; a = ((a & 0xff) << 8) | ((a >>> 8) & 0xff);`
          : `a = G[${rt}] & 0xffff;`;
        code += ` ${hit} V.setUint16(DB[p] + o, a); else M.write16(eh, el, a);`;
      } else code += `a = G[${rt}]; ${hit} B[DB[p] + o] = a; else M.write8(eh, el, a);`;
      if (row.flags & RowFlag.UPDATE) code += ` H[${ra}] = eh; G[${ra}] = el;`;
      // A store to a line holding compiled code leaves the block after it.
      const last = row.size === 1 ? "el" : `el + ${row.size - 1}`;
      code += ` if ((L[(el >>> 6) & ${LINE_MASK}] | L[((${last}) >>> 6) & ${LINE_MASK}]) !== 0) { J.codeWritten(); ${leave(k + 1, (pc + 4) | 0, pcHi)} }`;
      return { code };
    }
    case Op.Addi:
    case Op.Addis: {
      const imm = op === Op.Addi ? field.si(w) : field.si(w) << 16;
      if (ra === 0) return { code: setRt(rt, `${imm >> 31}`, `${imm}`, false) };
      if (imm === 0) return { code: `u = H[${ra}]; t = G[${ra}]; ${setRt(rt, "u", "t", false)}` };
      // 32-bit halves: the low half's carry is its unsigned sum below an addend.
      return {
        code:
          `a = G[${ra}]; t = (a + ${imm}) | 0; ` +
          `u = (H[${ra}] + ${imm >> 31} + ((t >>> 0) < (a >>> 0) ? 1 : 0)) | 0; ` +
          setRt(rt, "u", "t", false),
      };
    }
    case Op.Addic:
    case Op.Subfic: {
      const imm = field.si(w);
      const sub = op === Op.Subfic;
      const code =
        (sub
          ? add3(`~H[${ra}]`, `~G[${ra}]`, `${imm >> 31}`, `${imm}`, "1")
          : add3(`H[${ra}]`, `G[${ra}]`, `${imm >> 31}`, `${imm}`, "0")) +
        setCa("u > 4294967295") +
        setRt(rt, "u | 0", "t | 0", !sub && row.match >>> 26 === 13);
      return { code };
    }
    case Op.Add:
    case Op.Addc:
    case Op.Adde:
    case Op.Addze:
    case Op.Addme:
    case Op.Subf:
    case Op.Subfc:
    case Op.Subfe:
    case Op.Subfze:
    case Op.Subfme:
    case Op.Neg: {
      if (oe) return null;
      if (op === Op.Add)
        return {
          code:
            `a = G[${ra}]; t = (a + G[${rb}]) | 0; ` +
            `u = (H[${ra}] + H[${rb}] + ((t >>> 0) < (a >>> 0) ? 1 : 0)) | 0; ` +
            setRt(rt, "u", "t", rc),
        };
      const inv = op >= Op.Subf;
      const ahi = inv ? `~H[${ra}]` : `H[${ra}]`;
      const alo = inv ? `~G[${ra}]` : `G[${ra}]`;
      let bhi = `H[${rb}]`;
      let blo = `G[${rb}]`;
      if (op === Op.Addme || op === Op.Subfme) bhi = blo = "-1";
      else if (op === Op.Addze || op === Op.Subfze || op === Op.Neg) bhi = blo = "0";
      const cin =
        op === Op.Addc
          ? "0"
          : op === Op.Subf || op === Op.Subfc || op === Op.Neg
            ? "1"
            : `((c.xer >>> 29) & 1)`;
      let code = add3(ahi, alo, bhi, blo, cin);
      if (op !== Op.Subf && op !== Op.Neg) code += setCa("u > 4294967295");
      code += setRt(rt, "u | 0", "t | 0", rc);
      return { code };
    }
    case Op.Mulli: {
      const imm = field.si(w);
      return {
        code:
          `a = G[${ra}]; b = H[${ra}]; t = Math.imul(a, ${imm}); ` +
          `u = (mulhu(a, ${imm}) + Math.imul(a, ${imm >> 31}) + Math.imul(b, ${imm})) | 0; ` +
          setRt(rt, "u", "t", false),
      };
    }
    case Op.Mullw:
      if (oe) return null;
      return {
        code: `a = G[${ra}]; b = G[${rb}]; t = Math.imul(a, b); u = mulhs(a, b); ${setRt(rt, "u", "t", rc)}`,
      };
    case Op.Mulld:
      if (oe) return null;
      return {
        code:
          `a = G[${ra}]; b = G[${rb}]; t = Math.imul(a, b); ` +
          `u = (mulhu(a, b) + Math.imul(a, H[${rb}]) + Math.imul(H[${ra}], b)) | 0; ` +
          setRt(rt, "u", "t", rc),
      };
    case Op.Mulhw:
      return { code: `t = mulhs(G[${ra}], G[${rb}]); ${setRt(rt, "0", "t", rc)}` };
    case Op.Mulhwu:
      return { code: `t = mulhu(G[${ra}], G[${rb}]); ${setRt(rt, "0", "t", rc)}` };
    case Op.Divw:
    case Op.Divwu: {
      if (oe) return null;
      const q =
        op === Op.Divw
          ? `(a === 0 || (b === -2147483648 && a === -1)) ? 0 : (b / a) | 0`
          : `a === 0 ? 0 : ((b >>> 0) / (a >>> 0)) | 0`;
      return { code: `b = G[${ra}]; a = G[${rb}]; t = ${q}; ${setRt(rt, "0", "t", rc)}` };
    }
    case Op.Divd:
    case Op.Divdu:
      if (oe) return null;
      return {
        code: `div64(${op === Op.Divd}, H[${ra}], G[${ra}], H[${rb}], G[${rb}]); ${setRt(rt, "X[1]", "X[0]", rc)}`,
      };
    case Op.Mulhd:
    case Op.Mulhdu:
      return {
        code: `mul128(X, G[${ra}], H[${ra}], G[${rb}], H[${rb}], ${op === Op.Mulhd}); ${setRt(rt, "X[3]", "X[2]", rc)}`,
      };
    case Op.Cmp:
    case Op.Cmpl:
    case Op.Cmpi:
    case Op.Cmpli: {
      const bf = field.bf(w);
      const l = (w & 0x200000) !== 0;
      const signed = op === Op.Cmp || op === Op.Cmpi;
      let bhi: string, blo: string;
      if (op === Op.Cmpi) {
        const imm = field.si(w);
        bhi = `${imm >> 31}`;
        blo = `${imm}`;
      } else if (op === Op.Cmpli) {
        bhi = "0";
        blo = `${w & 0xffff}`;
      } else {
        bhi = `H[${rb}]`;
        blo = `G[${rb}]`;
      }
      let code = `a = G[${ra}]; b = ${blo};`;
      if (l) {
        code += ` t = H[${ra}]; u = ${bhi};`;
        code += signed
          ? ` r = t !== u ? (t < u ? 8 : 4) : a === b ? 2 : (a >>> 0) < (b >>> 0) ? 8 : 4;`
          : ` r = t !== u ? ((t >>> 0) < (u >>> 0) ? 8 : 4) : a === b ? 2 : (a >>> 0) < (b >>> 0) ? 8 : 4;`;
      } else
        code += signed
          ? ` r = a < b ? 8 : a > b ? 4 : 2;`
          : ` r = (a >>> 0) < (b >>> 0) ? 8 : (a >>> 0) > (b >>> 0) ? 4 : 2;`;
      const sh = 28 - 4 * bf;
      code += ` c.cr = (c.cr & ${~(15 << sh)}) | ((r | (c.xer >>> 31)) << ${sh});`;
      return { code };
    }
    case Op.And:
    case Op.Or:
    case Op.Xor:
    case Op.Nand:
    case Op.Nor:
    case Op.Eqv:
    case Op.Andc:
    case Op.Orc: {
      const f = (x: string, y: string): string => {
        switch (op) {
          case Op.And:
            return `${x} & ${y}`;
          case Op.Or:
            return `${x} | ${y}`;
          case Op.Xor:
            return `${x} ^ ${y}`;
          case Op.Nand:
            return `~(${x} & ${y})`;
          case Op.Nor:
            return `~(${x} | ${y})`;
          case Op.Eqv:
            return `~(${x} ^ ${y})`;
          case Op.Andc:
            return `${x} & ~${y}`;
          default:
            return `${x} | ~${y}`;
        }
      };
      return {
        code: `u = ${f(`H[${rt}]`, `H[${rb}]`)}; t = ${f(`G[${rt}]`, `G[${rb}]`)}; ${setRt(ra, "u", "t", rc)}`,
      };
    }
    case Op.Andi:
      return { code: setRt(ra, "0", `G[${rt}] & ${w & 0xffff}`, true) };
    case Op.Andis:
      return { code: setRt(ra, "0", `G[${rt}] & ${(w << 16) | 0}`, true) };
    case Op.Ori:
    case Op.Oris:
    case Op.Xori:
    case Op.Xoris: {
      const imm = op === Op.Ori || op === Op.Xori ? w & 0xffff : (w << 16) | 0;
      const o = op === Op.Ori || op === Op.Oris ? "|" : "^";
      return { code: `G[${ra}] = G[${rt}] ${o} ${imm}; H[${ra}] = H[${rt}];` };
    }
    case Op.Extsb:
    case Op.Extsh:
    case Op.Extsw: {
      const v =
        op === Op.Extsb
          ? `(G[${rt}] << 24) >> 24`
          : op === Op.Extsh
            ? `(G[${rt}] << 16) >> 16`
            : `G[${rt}]`;
      return { code: `t = ${v}; ${setRt(ra, "t >> 31", "t", rc)}` };
    }
    case Op.Cntlzw:
      return { code: setRt(ra, "0", `Math.clz32(G[${rt}])`, rc) };
    case Op.Cntlzd:
      return {
        code: `t = H[${rt}] !== 0 ? Math.clz32(H[${rt}]) : 32 + Math.clz32(G[${rt}]); ${setRt(ra, "0", "t", rc)}`,
      };
    case Op.Rlwinm:
    case Op.Rlwnm:
    case Op.Rlwimi: {
      const [mh, ml] = maskOf(field.rc(w) + 32, field.me(w) + 32);
      const rot =
        op === Op.Rlwnm
          ? `a = G[${rt}]; b = G[${rb}] & 31; t = (a << b) | (a >>> ((32 - b) & 31)); if (b === 0) t = a;`
          : rb === 0
            ? `t = G[${rt}];`
            : `a = G[${rt}]; t = (a << ${rb}) | (a >>> ${32 - rb});`;
      if (op === Op.Rlwimi)
        return {
          code: `${rot} ${setRt(ra, `(t & ${mh}) | (H[${ra}] & ${~mh})`, `(t & ${ml}) | (G[${ra}] & ${~ml})`, rc)}`,
        };
      return { code: `${rot} ${setRt(ra, `t & ${mh}`, `t & ${ml}`, rc)}` };
    }
    case Op.Rldicl:
    case Op.Rldicr:
    case Op.Rldic:
    case Op.Rldimi: {
      const nsh = field.sh6(w);
      const mb = field.mb6(w);
      const [mh, ml] =
        op === Op.Rldicl ? maskOf(mb, 63) : op === Op.Rldicr ? maskOf(0, mb) : maskOf(mb, 63 - nsh);
      // ROTL64 by a constant into u (hi) and t (lo).
      let code: string;
      const s = nsh & 31;
      const [x, y] = nsh >= 32 ? [`G[${rt}]`, `H[${rt}]`] : [`H[${rt}]`, `G[${rt}]`];
      if (s === 0) code = `u = ${x}; t = ${y};`;
      else
        code = `a = ${x}; b = ${y}; u = (a << ${s}) | (b >>> ${32 - s}); t = (b << ${s}) | (a >>> ${32 - s});`;
      if (op === Op.Rldimi)
        code += ` ${setRt(ra, `(u & ${mh}) | (H[${ra}] & ${~mh})`, `(t & ${ml}) | (G[${ra}] & ${~ml})`, rc)}`;
      else code += ` ${setRt(ra, `u & ${mh}`, `t & ${ml}`, rc)}`;
      return { code };
    }
    case Op.Slw:
    case Op.Srw: {
      const sh = op === Op.Slw ? "<<" : ">>>";
      return {
        code: `b = G[${rb}] & 63; t = b & 32 ? 0 : G[${rt}] ${sh} b; ${setRt(ra, "0", "t | 0", rc)}`,
      };
    }
    case Op.Sraw:
    case Op.Srawi: {
      const nExpr = op === Op.Sraw ? `G[${rb}] & 63` : `${rb}`;
      return {
        code:
          `b = ${nExpr}; a = G[${rt}]; ` +
          `if (b & 32) { t = a >> 31; u = a < 0 ? 1 : 0; } ` +
          `else { t = a >> b; u = a < 0 && b !== 0 && (a & ((1 << b) - 1)) !== 0 ? 1 : 0; } ` +
          setRt(ra, "t >> 31", "t", false) +
          setCa("u") +
          (rc ? record(`H[${ra}]`, `G[${ra}]`) : ""),
      };
    }
    case Op.Sld:
    case Op.Srd: {
      const left = op === Op.Sld;
      const code =
        `b = G[${rb}] & 127; a = H[${rt}]; r = G[${rt}]; ` +
        `if (b & 64) { u = 0; t = 0; } ` +
        (left
          ? `else if (b >= 32) { u = r << (b - 32); t = 0; } else if (b === 0) { u = a; t = r; } ` +
            `else { u = (a << b) | (r >>> (32 - b)); t = r << b; } `
          : `else if (b >= 32) { t = a >>> (b - 32); u = 0; } else if (b === 0) { u = a; t = r; } ` +
            `else { t = (r >>> b) | (a << (32 - b)); u = a >>> b; } `) +
        setRt(ra, "u | 0", "t | 0", rc);
      return { code };
    }
    case Op.Sradi: {
      const nsh = field.sh6(w);
      let code = `a = H[${rt}]; b = G[${rt}]; `;
      if (nsh === 0) code += `u = a; t = b; r = 0;`;
      else if (nsh >= 32)
        code += `u = a >> 31; t = a >> ${nsh - 32}; r = b !== 0 || (a & ${nsh > 32 ? (1 << (nsh - 32)) - 1 : 0}) !== 0 ? 1 : 0;`;
      else
        code += `u = a >> ${nsh}; t = (b >>> ${nsh}) | (a << ${32 - nsh}); r = (b & ${((1 << nsh) - 1) | 0}) !== 0 ? 1 : 0;`;
      code += ` ${setRt(ra, "u", "t", false)} ${setCa("a < 0 && r")}`;
      if (rc) code += record(`H[${ra}]`, `G[${ra}]`);
      return { code };
    }
    case Op.Mfspr: {
      const spr = field.spr(w);
      if (spr !== Spr.LR && spr !== Spr.CTR) return null;
      return { code: `H[${rt}] = SH[${spr}]; G[${rt}] = SL[${spr}];` };
    }
    case Op.Mtspr: {
      const spr = field.spr(w);
      if (spr !== Spr.LR && spr !== Spr.CTR) return null;
      return { code: `SH[${spr}] = H[${rt}]; SL[${spr}] = G[${rt}];` };
    }
    case Op.Mfcr:
      return { code: `H[${rt}] = 0; G[${rt}] = c.cr;` };
    case Op.Mtcrf:
    case Op.Mtocrf: {
      let m = 0;
      const fxm = field.fxm(w);
      for (let f = 0; f < 8; f++) if (fxm & (0x80 >> f)) m |= 0xf0000000 >>> (4 * f);
      return { code: `c.cr = (c.cr & ${~m}) | (G[${rt}] & ${m | 0});` };
    }
    case Op.Barrier:
    case Op.CacheHint:
      if (isIcbi(w))
        return {
          code: `J.codeMayHaveChanged(); ${leave(k + 1, (pc + 4) | 0, pcHi)}`,
          branch: true,
        };
      return { code: "" };
    case Op.B:
    case Op.Bc:
    case Op.Bclr:
    case Op.Bcctr:
      return branch(row, w, k, pc, pcHi, n, start, need);
    default:
      return null;
  }
}

/** Adds the signed 32-bit `d` to hi:lo (pc arithmetic at compile time). */
function add64(hi: number, lo: number, d: number): [number, number] {
  const l = (lo >>> 0) + (d >>> 0);
  return [(hi + (d >> 31) + (l > 0xffffffff ? 1 : 0)) | 0, l | 0];
}

/**
 * A compiled branch (instruction `k` of `n`): pc and the count set, returned; a taken
 * branch to the block's own start (`start`) runs the block again while at least `need`
 * instructions of the budget are left.
 * A conditional branch without LK before the block's end leaves it only when taken.
 */
function branch(
  row: InsnRow,
  w: number,
  k: number,
  pc: number,
  pcHi: number,
  n: number,
  start: number,
  need: number,
): Emitted {
  const again = `n0 += ${k + 1}; left -= ${k + 1}; if (left < ${need}) ${leave(0, start, pcHi)} k0 = 0; continue;`;
  const jumpTo = (th: number, tl: number): string =>
    th === pcHi && (tl & ~3) === start ? again : leave(k + 1, tl & ~3, th);
  const [nh, nl] = add64(pcHi, pc, 4);
  const link = w & 1 ? `SH[${Spr.LR}] = ${nh}; SL[${Spr.LR}] = ${nl};` : "";
  const fall = leave(k + 1, nl, nh);
  if (row.op === Op.B) {
    const d = field.li(w);
    const [th, tl] = w & 2 ? [d >> 31, d] : add64(pcHi, pc, d);
    return { code: `${link} ${jumpTo(th, tl)}`, branch: true };
  }
  let bo = field.rt(w);
  const bi = field.ra(w);
  if (row.op === Op.Bcctr) bo |= 4;
  const conds: string[] = [];
  let code = "";
  if ((bo & 4) === 0) {
    code += `t = (SL[${Spr.CTR}] >>> 0) - 1; SL[${Spr.CTR}] = t | 0; if (t < 0) SH[${Spr.CTR}] = (SH[${Spr.CTR}] - 1) | 0; `;
    const zero = `(SL[${Spr.CTR}] === 0 && SH[${Spr.CTR}] === 0)`;
    conds.push(bo & 2 ? zero : `!${zero}`);
  }
  if ((bo & 16) === 0) conds.push(`((c.cr >>> ${31 - bi}) & 1) === ${(bo >>> 3) & 1}`);
  const taken = conds.length === 0 ? "true" : conds.join(" && ");
  if (row.op === Op.Bc) {
    const d = field.ds(w);
    const [th, tl] = w & 2 ? [d >> 31, d] : add64(pcHi, pc, d);
    if (k < n - 1 && (w & 1) === 0) return { code: `${code} if (${taken}) { ${jumpTo(th, tl)} }` };
    code += `${link} if (${taken}) { ${jumpTo(th, tl)} } ${fall}`;
    return { code, branch: true };
  }
  const spr = row.op === Op.Bclr ? Spr.LR : Spr.CTR;
  code += `a = SH[${spr}]; b = SL[${spr}]; ${link} `;
  code += `if (${taken}) { done = ${k + 1}; pl = b & -4; ph = a; break run; } ${fall}`;
  return { code, branch: true };
}
