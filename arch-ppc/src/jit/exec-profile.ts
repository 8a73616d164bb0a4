/**
 * The PowerPC CPU's execution profile (`hvkit run --profile`): instructions retired by
 * the interpreter and by compiled blocks, how blocks were left, and the instructions that
 * ended blocks or ran interpreted (in the run loop, or stepped inside a block because the
 * compiler leaves them to the interpreter), by mnemonic. Counts only, so a run's profile
 * is the same every time. The block compiler feeds it only while
 * {@link PpcBlockCompiler.exec} is set, and builds blocks that report their interpreted
 * steps only then.
 *
 * @module
 */
import { largestFirst, profileCounts, type ExecutionProfile, type ProfileCount } from "@hvkit/core";
import { PpcExitReason } from "../cpu/cpu-api.js";
import { decodeWord } from "../cpu/decode.js";
import { TABLE } from "../cpu/table.js";
import type { PpcCpu } from "../cpu/cpu.js";

/** How a compiled block was left (index into {@link PpcExecProfile.exits}). */
export const enum PpcBlockExit {
  /** A branch it compiled, taken (or the block's last branch, either way). */
  Branch,
  /** It reached its end: the next instruction is on the next page. */
  PageEnd,
  /** It reached its end: the length limit. */
  Length,
  /** After an instruction that ends a block (sc, rfid, mtmsr, SLB/TLB, icbi), interpreted. */
  Ender,
  /** Its counted form ran out of the run's budget. */
  Budget,
  /** A store reached a line holding compiled code. */
  CodeWritten,
  /** An instruction it stepped ended the run (an interrupt, a hypercall, an emulation). */
  RunExit,
  /** A storage fault. */
  Fault,
  /** Its words had changed: dropped before it ran. */
  Stale,
  /** The number of causes. */
  COUNT,
}

const EXIT_NAMES: readonly string[] = [
  "branch taken or jump out",
  "end of page",
  "length limit",
  "after an op that ends a block",
  "budget (counted form)",
  "store to compiled code",
  "exit from a stepped op",
  "fault",
  "stale code (written)",
];

/** Row index for a word that decodes to no instruction. */
const NO_ROW = TABLE.length;

/** The {@link TABLE} row of `word`, or the row after the table for a word that is no instruction. */
export function profileRow(word: number): number {
  const i = decodeWord(word);
  return i < 0 ? NO_ROW : i;
}

/** The counters of one CPU's profile (see the module description). */
export class PpcExecProfile {
  /** Instructions the interpreter retired, by {@link TABLE} row. */
  readonly ops = new Float64Array(NO_ROW + 1);
  /** Block exits at or after an interpreted instruction, by its row. */
  readonly enders = new Float64Array(NO_ROW + 1);
  /** Block exits by {@link PpcBlockExit}. */
  readonly exits = new Float64Array(PpcBlockExit.COUNT);
  /** Exits from a stepped instruction, by {@link PpcExitReason}. */
  readonly runExits = new Float64Array(32);
  /** Instructions retired in compiled blocks (their interpreted steps not included). */
  compiled = 0;
  /** Blocks compiled. */
  blocksCompiled = 0;
  /** Instructions stepped by the interpreter inside the running block. */
  stepped = 0;

  /** A block stepped the instruction of row `row` (it retired). */
  step(row: number): void {
    this.ops[row]++;
    this.stepped++;
  }

  /** The counts so far, as the core's {@link ExecutionProfile}. */
  snapshot(): ExecutionProfile {
    let interpreted = 0;
    for (let k = 0; k < this.ops.length; k++) interpreted += this.ops[k]!;
    const exits: ProfileCount[] = [];
    for (let k = 0; k < PpcBlockExit.COUNT; k++) {
      if (k === PpcBlockExit.RunExit) {
        for (let r = 0; r < this.runExits.length; r++)
          if (this.runExits[r] !== 0)
            exits.push([`${EXIT_NAMES[k]!} (${PpcExitReason[r] ?? r})`, this.runExits[r]!]);
      } else if (this.exits[k] !== 0) exits.push([EXIT_NAMES[k]!, this.exits[k]!]);
    }
    return {
      interpreted,
      compiled: this.compiled,
      blocksCompiled: this.blocksCompiled,
      blockExits: largestFirst(exits),
      blockEnders: profileCounts(this.enders, rowName),
      interpretedOps: profileCounts(this.ops, rowName),
    };
  }
}

/** The name of instruction-table row `k` in the profile's tables. */
function rowName(k: number): string {
  return k === NO_ROW ? "(illegal)" : TABLE[k]!.name;
}

/**
 * Starts the profile of `cpu`'s block compiler (dropping its blocks, so every block is
 * built reporting its steps) and returns the reader of its counts. A CPU without a
 * compiler interprets everything: its reader says so.
 */
export function startPpcProfile(cpu: PpcCpu): () => ExecutionProfile {
  const compiler = cpu.compiler;
  if (compiler === null) {
    const start = cpu.instructions;
    return () => ({ ...new PpcExecProfile().snapshot(), interpreted: cpu.instructions - start });
  }
  let p = compiler.exec;
  if (p === null) {
    p = compiler.exec = new PpcExecProfile();
    compiler.flush();
  }
  const profile = p;
  return () => profile.snapshot();
}
