/**
 * The x86 CPU's execution profile (`hvkit run --profile`): instructions retired by the
 * interpreter and by compiled blocks, how blocks were left, and the operations that kept
 * code out of blocks. Counts only, so a run's profile is the same every time. The
 * interpreter loop feeds it only while {@link X86Cpu.profile} is set; without it the
 * loop pays one null test per instruction and per block.
 *
 * Operations are counted by a key of the decoded record: the {@link Op}, the operand
 * size, whether the r/m operand is memory, a rep prefix, and 32/16-bit code.
 *
 * @module
 */
import { profileCounts, type ExecutionProfile } from "@hvkit/core";
import type { X86Cpu } from "./cpu.js";
import { DC_BITS } from "./decode-cache.js";
import { D, Pfx } from "./insn.js";
import { Op } from "./ops.js";

/** Why a block stopped where it did, when it ends before an instruction it does compile. */
export const enum BlockStop {
  /** Ended by an unconditional branch it compiled (jmp, call, ret, jmp/call indirect). */
  Branch = -1,
  /** The next instruction is on the next page. */
  PageEnd = -2,
  /** The block reached its length limit. */
  Length = -3,
  /** The next instruction could not be decoded into the cache (straddles a page, invalid). */
  Undecodable = -4,
  /** A string op (movs/stos) ends its block. */
  StringOp = -5,
}

/** How a compiled block was left (index into {@link ExecProfile.exits}). */
const enum Exit {
  Uncompiled,
  PageEnd,
  Length,
  Undecodable,
  AfterString,
  Taken,
  LoopBudget,
  Stale,
  Fault,
  NotEntered,
  COUNT,
}

const EXIT_NAMES: readonly string[] = [
  "uncompiled op ahead",
  "end of page",
  "length limit",
  "undecodable ahead",
  "end after a string op",
  "branch taken or jump out",
  "budget (in a loop or a rep)",
  "stale code (written)",
  "fault",
  "not entered (budget or stepping)",
];

const SLOTS = 1 << DC_BITS;
const KEY_F3 = 0x4000;
const KEY_COMPAT = 0x8000;
const KEY_F2 = 0x10000;
const KEYS = 0x20000;

/**
 * The profile key of the decoded record at `b` of `rec`: Op (bits 0–7), operand size
 * (8–11), r/m in memory (12–13), an f3 (rep) prefix (14), 32/16-bit code (15), an f2
 * (repne) prefix (16).
 */
export function profileKey(rec: Int32Array, b: number, compat: boolean): number {
  return (
    (rec[b + D.OP] & 0xff) |
    ((rec[b + D.OSZ] & 15) << 8) |
    ((rec[b + D.RM_MEM] & 3) << 12) |
    ((rec[b + D.PFX] & Pfx.REP) !== 0 ? KEY_F3 : 0) |
    ((rec[b + D.PFX] & Pfx.REPNE) !== 0 ? KEY_F2 : 0) |
    (compat ? KEY_COMPAT : 0)
  );
}

/** String operations, whose f3/f2 prefixes are rep/repne. */
const STRING_OPS = new Set([Op.MOVS, Op.CMPS, Op.STOS, Op.LODS, Op.SCAS, Op.INS, Op.OUTS]);

/**
 * The name of a {@link profileKey}: `add 32-bit memory`, `movs 8-bit rep, 32-bit code`,
 * `farith 32-bit f3` (elsewhere f3 and f2 select the operation: addss is `farith` with f3).
 */
export function profileKeyName(key: number): string {
  const op = key & 0xff;
  const parts = [(Op[op] ?? `op ${op}`).toLowerCase(), `${((key >> 8) & 15) * 8}-bit`];
  if (((key >> 12) & 3) !== 0) parts.push("memory");
  const string = STRING_OPS.has(op);
  if ((key & KEY_F3) !== 0) parts.push(string ? "rep" : "f3");
  if ((key & KEY_F2) !== 0) parts.push(string ? "repne" : "f2");
  return parts.join(" ") + ((key & KEY_COMPAT) !== 0 ? ", 32/16-bit code" : "");
}

/** The counters of one CPU's profile (see the module description). */
export class ExecProfile {
  /** Instructions retired by the interpreter, by {@link profileKey}. */
  readonly ops = new Float64Array(KEYS);
  /** Block exits at an uncompiled instruction, by that instruction's {@link profileKey}. */
  readonly enders = new Float64Array(KEYS);
  /** Block exits by cause. */
  readonly exits = new Float64Array(Exit.COUNT);
  /** Instructions retired in compiled blocks. */
  compiled = 0;
  /** Blocks compiled. */
  blocksCompiled = 0;
  /** Per block-cache slot: offset of the end of its block from its start. */
  private readonly blockEnd = new Int32Array(SLOTS);
  /** Per block-cache slot: why its block ends there (a {@link profileKey} or {@link BlockStop}). */
  private readonly blockStop = new Int32Array(SLOTS);
  /** Key of the instruction the interpreter is running, −1 when none. */
  private key = -1;
  /** Retired count when it started. */
  private at = 0;
  /** Retired count when the last compiled block was entered. */
  private entry = 0;

  /** The interpreter starts the instruction of key `key` at retired count `n`. */
  interpret(key: number, n: number): void {
    if (this.key >= 0) this.ops[this.key] += n - this.at;
    this.key = key;
    this.at = n;
  }

  /** Credits the interpreter's last instruction with what retired up to `n`. */
  settle(n: number): void {
    if (this.key >= 0) this.ops[this.key] += n - this.at;
    this.key = -1;
  }

  /** A block was compiled into slot `slot`: it ends `end` bytes on, for reason `stop`. */
  compiledBlock(slot: number, end: number, stop: number): void {
    this.blocksCompiled++;
    this.blockEnd[slot] = end;
    this.blockStop[slot] = stop;
  }

  /**
   * The block of slot `slot`, entered at rip (low half) `startLo` with `n0` retired,
   * returned with `n` retired and rip (low half) `ripLo`; `stale` when its code was
   * written meanwhile.
   */
  blockReturned(
    slot: number,
    startLo: number,
    n0: number,
    n: number,
    ripLo: number,
    stale: boolean,
  ): void {
    this.settle(n0);
    this.compiled += n - n0;
    const off = (ripLo - startLo) | 0;
    const stop = this.blockStop[slot];
    // A block ended by a branch is left through it, taken, even when its target is the
    // address after it: a conditional branch not taken stays in its block (superblocks).
    if (off === this.blockEnd[slot] && stop !== BlockStop.Branch) {
      if (stop >= 0) {
        this.exits[Exit.Uncompiled]++;
        this.enders[stop]++;
      } else if (stop === BlockStop.PageEnd) this.exits[Exit.PageEnd]++;
      else if (stop === BlockStop.Length) this.exits[Exit.Length]++;
      else if (stop === BlockStop.StringOp) this.exits[Exit.AfterString]++;
      else this.exits[Exit.Undecodable]++;
    } else if (stale) this.exits[Exit.Stale]++;
    else if (off === 0) this.exits[Exit.LoopBudget]++;
    else this.exits[Exit.Taken]++;
  }

  /** A compiled block is entered with `n0` retired. */
  blockEntered(n0: number): void {
    this.entry = n0;
  }

  /** The block entered last ({@link blockEntered}) faulted with `n` retired. */
  blockFaulted(n: number): void {
    this.settle(this.entry);
    this.compiled += n - this.entry;
    this.exits[Exit.Fault]++;
  }

  /** A compiled block was there but not entered. */
  notEntered(): void {
    this.exits[Exit.NotEntered]++;
  }

  /** The counts so far, as the core's {@link ExecutionProfile}. */
  snapshot(): ExecutionProfile {
    let interpreted = 0;
    for (let k = 0; k < this.ops.length; k++) interpreted += this.ops[k];
    return {
      interpreted,
      compiled: this.compiled,
      blocksCompiled: this.blocksCompiled,
      blockExits: profileCounts(this.exits, (k) => EXIT_NAMES[k]),
      blockEnders: profileCounts(this.enders, profileKeyName),
      interpretedOps: profileCounts(this.ops, profileKeyName),
    };
  }
}

/**
 * Starts `c`'s profile (dropping its compiled blocks, so every block is seen compiled)
 * and returns the reader of its counts.
 */
export function startProfile(c: X86Cpu): () => ExecutionProfile {
  const p = c.profile ?? new ExecProfile();
  if (c.profile === null) {
    c.profile = p;
    c.blocks.flush();
    c.blocks32.flush();
  }
  return () => p.snapshot();
}
