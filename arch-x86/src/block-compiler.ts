/**
 * Block compiler: turns a hot run of cached decodings (straight-line code up to and
 * including a branch, all in one machine frame) into one JavaScript function built with
 * `new Function`, with the guest registers it touches held in locals.
 *
 * A compiled block changes architectural state exactly as the interpreter would: the same
 * flags after every flag writer (a lazy-flag record that materializes to the same RFLAGS),
 * the same memory accesses through the CPU's TLB in the same order, and on a fault rip,
 * the instruction length and the retired count of the faulting instruction (the generated
 * `catch` writes them, and the interpreter loop turns the fault into its exception exit).
 * The common SSE and x87 instructions are compiled inline (block-compiler-sse.ts); the
 * rest of SSE, MMX and x87 are run by the interpreter's own helpers, called from the
 * block with the lazy flags stored and, for helpers that use general registers, the
 * block's registers written back before and read again after. A conditional branch (jcc,
 * loop, jrcxz) leaves the block only when taken, and the block goes on along the
 * fall-through path (a superblock); a direct jmp or call to another instruction of the
 * same frame is followed (the call pushing its return address); every other branch ends its
 * block: jmp and call out of the frame, ret (64-bit stack, through the TLB fast path),
 * indirect jmp and call. The interpreter loop
 * enters the next compiled block directly (execute.ts). A branch back to the block's own
 * first instruction loops inside the function while the budget allows. Anything the
 * compiler does not know ends the block before it; the interpreter runs it.
 *
 * The cache holds at most {@link BLOCK_BUDGET} blocks: past it, the blocks not entered
 * since the last eviction are dropped ({@link BlockCache.budget}).
 *
 * 32-bit code (compatibility mode) is compiled too while ES, CS, SS and DS are flat and the
 * stack is 32-bit, which the interpreter checks before it enters a block: eip, esp and
 * effective addresses wrap at 4 GiB, and its blocks live in a cache of their own
 * (`X86Cpu.blocks32`), so a block never runs in the other code size.
 *
 * Blocks are keyed like the decode cache (by the machine address of the first
 * instruction) and checked against the decode cache's per-frame generation, which any
 * write to a line holding compiled bytes (or dropping the frame) bumps; a store inside a
 * block re-checks it and leaves the block if its own code changed.
 *
 * @module
 */
import {
  PARITY,
  add,
  add64,
  condLazy,
  imul,
  lazyCF,
  materialize,
  mulhu32,
  sub,
  sub64,
} from "./alu.js";
import type { X86Cpu } from "./cpu.js";
import { DC_BITS, DecodeCache, RM_MOFFS } from "./decode-cache.js";
import { Pfx } from "./insn.js";
import { Op } from "./ops.js";
import { F, L, LZ, O, eagerFlagsOp } from "./execute.js";
import { BlockStop, profileKey } from "./exec-profile.js";
import { SSE_SCOPE, SseEmit, emitSse, sseScope } from "./block-compiler-sse.js";
import { vectorOp } from "./simd.js";
import { extOp } from "./simd-ext.js";
import { floatOp } from "./simd-float.js";
import { x87Op } from "./x87.js";

/**
 * A compiled block: runs from the block's first instruction at virtual rip
 * (`ripLo`, `ripHi`) with `n` instructions retired so far, never past `budget`; returns
 * the new retired count and leaves the next rip in `c.ripLo`/`c.ripHi`. On a fault it
 * leaves rip, `c.exit.instructionLength` and `c.blockRetired` describing the faulting
 * instruction and rethrows.
 */
export type BlockFn = (
  c: X86Cpu,
  R: Int32Array,
  H: Int32Array,
  ripLo: number,
  ripHi: number,
  n: number,
  budget: number,
) => number;

const SIZE = 1 << DC_BITS;
/** Longest block, in instructions. */
const MAX_INSNS = 64;
/** {@link BlockCache.budget}'s default. */
export const BLOCK_BUDGET = 4096;

/**
 * Collects the blocks an eviction dropped at once, when the host exposes V8's collector
 * (`globalThis.gc`: the `hvkit` launcher runs Node with `--expose-gc`). V8 otherwise leaves
 * dropped generated functions in its heap until the heap has grown well past them, so
 * peak memory would follow V8's growth heuristics rather than the budget. Guest-visible
 * behaviour is the same either way.
 */
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Compiled blocks of one CPU, direct-mapped by machine address like the decode cache. */
export class BlockCache {
  /** Machine address of each slot's block; −1 for none. */
  readonly tag = new Int32Array(SIZE).fill(-1);
  /** The frame generation ({@link DecodeCache.frameGen}) each slot's block was built under. */
  readonly gen = new Int32Array(SIZE);
  /** Instructions in one pass of each slot's block (the most it runs before a budget check). */
  readonly count = new Int32Array(SIZE);
  /** How often the interpreter reached each slot's address without a block. */
  readonly heat = new Uint16Array(SIZE);
  /**
   * How often each slot's block went stale because its code was written (at most 8); the
   * interpreter waits `threshold << strikes` visits (at most 65,535) before compiling again,
   * so code that keeps rewriting itself is not recompiled at every turn.
   */
  readonly strikes = new Uint8Array(SIZE);
  /**
   * Whether each slot's block was entered since the last eviction (set by the dispatch
   * loop on every entry): the reference bit of a clock sweep ({@link reserve}).
   */
  readonly entered = new Uint8Array(SIZE);
  /** Each slot's block; null when its code cannot be compiled. */
  readonly fns: (BlockFn | null)[] = new Array<BlockFn | null>(SIZE).fill(null);
  /** Blocks compiled so far (for tests and statistics). */
  compiled = 0;
  /** Blocks compiled since the cache was last emptied, less those evicted. */
  filled = 0;
  /**
   * The slots compiled into since the last eviction or kept by it (`filled` of them; a
   * slot compiled twice appears twice): what an eviction sweeps, so its cost follows the
   * budget, not the cache's size.
   */
  private readonly held = new Int32Array(SIZE);
  /**
   * Most compiled blocks held at once (at most the cache's slots). Each block holds a
   * generated function (its source and its machine code) that V8 keeps while the slot
   * refers to it; without a bound a long run holds up to one per slot. When a compile
   * would pass it, the blocks not entered since the last eviction are dropped (a clock
   * sweep), so a working set that fits stays compiled; when more than three quarters are
   * still in use, every block is dropped, as QEMU's tb_flush empties its code buffer when
   * it is full.
   */
  budget = BLOCK_BUDGET;

  /** Makes room for a block about to be compiled into `slot`, evicting when the budget is used up. */
  reserve(slot: number): void {
    if (this.filled >= Math.min(this.budget, SIZE)) this.evict();
    this.held[this.filled++] = slot;
  }

  /**
   * Drops every compiled block not entered since the last eviction and clears the
   * reference bits of the rest; when more than three quarters of the budget is still in
   * use, drops every block ({@link flush}) so the next eviction is not due at once.
   */
  private evict(): void {
    const { tag, fns, entered, heat, held } = this;
    let kept = 0;
    for (let j = 0; j < this.filled; j++) {
      const s = held[j];
      if (fns[s] === null || entered[s] === 2) continue;
      if (entered[s] === 1) {
        // Kept; 2 marks it seen until the sweep ends (a slot may be listed twice).
        entered[s] = 2;
        held[kept++] = s;
      } else {
        tag[s] = -1;
        fns[s] = null;
        heat[s] = 0;
      }
    }
    for (let j = 0; j < kept; j++) entered[held[j]] = 0;
    if (kept > (Math.min(this.budget, SIZE) * 3) >> 2) this.flush();
    else this.filled = kept;
    collectGarbage();
  }

  /** Drops every block. */
  flush(): void {
    this.tag.fill(-1);
    this.heat.fill(0);
    this.strikes.fill(0);
    this.fns.fill(null);
    this.entered.fill(0);
    this.filled = 0;
  }
}

/** {@link Gen.entry}: nothing has read or replaced the entry flags yet. */
const ENTRY_OPEN = 0;
/** {@link Gen.entry}: the entry flags are read, or may be seen, before they are replaced. */
const ENTRY_SEEN = 1;
/** {@link Gen.entry}: a flag writer replaces all of them before anything sees them. */
const ENTRY_REPLACED = 2;

// Flag state known at compile time: the last flag writer in the current pass.
interface FlagInfo {
  /** `LZ` kind, or −1 when unknown (block start or loop top). */
  kind: number;
  sz: number;
  a: string;
  ah: string;
  b: string;
  bh: string;
  /** Expression for CF kept by inc/dec (kind Inc/Dec), or for LZ.None: read c.flags. */
  cf: string;
  /**
   * For LZ.None: the local holding the six status flags the writer computed (its pending
   * stores put them in `c.flags`), or "" when they are in `c.flags` only.
   */
  fl: string;
}

const UNKNOWN: FlagInfo = { kind: -1, sz: 0, a: "", ah: "", b: "", bh: "", cf: "", fl: "" };

/** The flags of a writer that computed all six status flags into the local `fl`. */
function computedFlags(fl: string): FlagInfo {
  return { ...UNKNOWN, kind: LZ.None, fl };
}

class Gen {
  /**
   * 32-bit code (compatibility mode, flat ES/CS/SS/DS and a 32-bit stack, which the
   * interpreter checks before it enters the block): eip, esp and addresses wrap at 4 GiB.
   */
  constructor(readonly m32: boolean) {}

  /** Guest registers the block reads or writes (bit r for register r, 0–15). */
  used = 0;
  /** Guest registers the block writes. */
  written = 0;
  out: string[] = [];
  flags: FlagInfo = UNKNOWN;
  /**
   * Stores of the last flag writer's lazy-flag record not yet emitted: a later writer that
   * replaces the whole record drops them; anything that may fault, read the record or
   * leave the block emits them first ({@link flush}).
   */
  pending = "";
  /**
   * What becomes of the flags the block is entered with: {@link ENTRY_OPEN} until the
   * block reads them, stores the record (before anything that may fault or leave) or
   * replaces them all ({@link ENTRY_SEEN} for the first two, {@link ENTRY_REPLACED}).
   * When they are replaced first, a branch back to the block's start need not store the
   * flags of the pass that ends: the next pass replaces them before anything sees them.
   */
  entry = ENTRY_OPEN;

  flush(): void {
    if (this.entry === ENTRY_OPEN) this.entry = ENTRY_SEEN;
    if (this.pending !== "") this.out.push(this.pending);
    this.pending = "";
  }

  /** The flags the block was entered with are read here (unless replaced already). */
  readEntry(): void {
    if (this.entry === ENTRY_OPEN) this.entry = ENTRY_SEEN;
  }

  lo(r: number, write = false): string {
    this.used |= 1 << r;
    if (write) this.written |= 1 << r;
    return `l${r}`;
  }

  hi(r: number, write = false): string {
    this.used |= 1 << r;
    if (write) this.written |= 1 << r;
    return `h${r}`;
  }

  emit(s: string): void {
    this.out.push(s);
  }
}

/** Register operand readable/writable by the compiler at size `sz`. */
function regOk(loc: number, sz: number): boolean {
  if (loc >= 0 && loc < 16) return true;
  return sz === 1 && loc >= 20 && loc < 24;
}

/** Expression for register `r` at size 1–4 (unsigned), as the interpreter's readReg. */
function readRegExpr(g: Gen, r: number, sz: number): string {
  if (sz === 1) return r < 16 ? `(${g.lo(r)} & 255)` : `((${g.lo(r - 20)} >>> 8) & 255)`;
  if (sz === 2) return `(${g.lo(r)} & 65535)`;
  return `(${g.lo(r)} >>> 0)`;
}

/** Statement writing `v` (int) to register `r` at size 1–4, as the interpreter's writeReg. */
function writeRegStmt(g: Gen, r: number, sz: number, v: string): string {
  if (sz === 1) {
    if (r < 16) {
      const l = g.lo(r, true);
      return `${l} = (${l} & -256) | ((${v}) & 255);`;
    }
    const l = g.lo(r - 20, true);
    return `${l} = (${l} & -65281) | (((${v}) & 255) << 8);`;
  }
  if (sz === 2) {
    const l = g.lo(r, true);
    return `${l} = (${l} & -65536) | ((${v}) & 65535);`;
  }
  return `${g.lo(r, true)} = (${v}) | 0; ${g.hi(r, true)} = 0;`;
}

const MASKS = [0, 255, 65535, 0, -1];

/** The compiler's view of one cached record, read at compile time. */
interface Insn {
  op: number;
  len: number;
  osz: number;
  mem: number;
  rec: Int32Array;
  b: number;
  /** Offset of the instruction from the block's first byte. */
  off: number;
}

function field(i: Insn, f: number): number {
  return i.rec[i.b + f];
}

/**
 * Emits the effective-address computation of `i` into `e{k}l`/`e{k}h`; false when the
 * form is not compiled (moffs, fs/gs).
 */
function emitEa(g: Gen, i: Insn, k: number): boolean {
  if (i.mem !== 1) return false;
  const ea = field(i, F.EA);
  const sg = (ea >> 13) & 7;
  const fsGs = sg === 4 || sg === 5;
  if (fsGs && g.m32) return false;
  const disp = field(i, F.DISP);
  const base = ea & 31;
  const idx = (ea >> 5) & 31;
  const sc = (ea >> 10) & 3;
  const wide = (ea & 0x1000) !== 0;
  if (g.m32) return emitEa32(g, k, disp, base, idx, sc, ea);
  g.emit(`let e${k}l = ${disp}, e${k}h = ${disp >> 31};`);
  if (base !== 31) {
    let bl: string, bh: string;
    if (base === 16) {
      // RIP-relative: the next instruction's address.
      g.emit(
        `const n${k} = (ripLo >>> 0) + ${i.off + i.len}; const n${k}l = n${k} | 0, n${k}h = n${k} >= 4294967296 ? (ripHi + 1) | 0 : ripHi;`,
      );
      bl = `n${k}l`;
      bh = `n${k}h`;
    } else if (base < 16) {
      bl = g.lo(base);
      bh = g.hi(base);
    } else return false;
    g.emit(
      `{ const s = (e${k}l >>> 0) + (${bl} >>> 0); e${k}l = s | 0; e${k}h = (e${k}h + ${bh} + (s >= 4294967296 ? 1 : 0)) | 0; }`,
    );
  }
  if (idx !== 31) {
    if (idx >= 16) return false;
    const il = g.lo(idx);
    const ih = g.hi(idx);
    const xl = sc === 0 ? il : `(${il} << ${sc})`;
    const xh = sc === 0 ? ih : `((${ih} << ${sc}) | (${il} >>> ${32 - sc}))`;
    g.emit(
      `{ const s = (e${k}l >>> 0) + (${xl} >>> 0); e${k}l = s | 0; e${k}h = (e${k}h + ${xh} + (s >= 4294967296 ? 1 : 0)) | 0; }`,
    );
  }
  if (!wide) g.emit(`e${k}h = 0;`);
  // An fs or gs override adds the segment's base (64-bit mode has no other), read at run
  // time: what changes a base (wrmsr, swapgs, set_segment_base) ends a block. Linux reaches
  // its per-CPU data through gs (the stack protector's canary, preempt_count, current).
  if (fsGs && i.op !== O.LEA) {
    const base = sg === 4 ? "c.fs" : "c.gs";
    g.emit(
      `{ const s = (e${k}l >>> 0) + (${base}Lo >>> 0); e${k}l = s | 0; e${k}h = (e${k}h + ${base}Hi + (s >= 4294967296 ? 1 : 0)) | 0; }`,
    );
  }
  return true;
}

/**
 * {@link emitEa} in 32-bit code: the offset wraps at 4 GiB and is the linear address
 * (flat segments); false for 16-bit addressing (0x67).
 */
function emitEa32(
  g: Gen,
  k: number,
  disp: number,
  base: number,
  idx: number,
  sc: number,
  ea: number,
): boolean {
  if ((ea & 0x10000) !== 0 || (base !== 31 && base >= 8) || (idx !== 31 && idx >= 8)) return false;
  let sum = `${disp}`;
  if (base !== 31) sum += ` + ${g.lo(base)}`;
  if (idx !== 31) sum += sc === 0 ? ` + ${g.lo(idx)}` : ` + (${g.lo(idx)} << ${sc})`;
  g.emit(`const e${k}l = (${sum}) | 0, e${k}h = 0;`);
  return true;
}

/**
 * The moffs operand of mov (a0–a3) in 32-bit code: memory at the immediate offset (flat
 * segments), from then on compiled as an ordinary memory operand; false for a 16-bit
 * address size or an fs/gs override.
 */
function emitMoffs32(g: Gen, i: Insn, k: number): boolean {
  const sg = field(i, F.SEG);
  if (field(i, F.ASZ) !== 4 || sg === 4 || sg === 5) return false;
  g.emit(`const e${k}l = ${field(i, F.IMM_LO)}, e${k}h = 0;`);
  i.mem = 1;
  return true;
}

/**
 * Statements reading the memory operand at `e{k}` (size `sz`) into `{name}` (1–4:
 * unsigned; 8: int32 halves `{name}`, `{name}h`): the CPU's TLB fast path inline, its
 * `rd*` methods (page walk, faults) otherwise.
 */
function emitMemRead(g: Gen, k: number, sz: number, name: string): void {
  const e = `e${k}l`;
  const eh = `e${k}h`;
  g.emit(
    `const tr${k} = (${e} >>> 12) & 4095;` +
      ` const mr${k} = TL[tr${k}] === (${e} & -4096) && TH[tr${k}] === ${eh} && (TP[tr${k}] & RM) !== 0 && (${e} & 4095) <= ${4096 - sz};` +
      ` const pr${k} = TB[tr${k}] | (${e} & 4095);`,
  );
  switch (sz) {
    case 1:
      g.emit(`const ${name} = mr${k} ? MB[pr${k}] : c.rd8(${e}, ${eh});`);
      break;
    case 2:
      g.emit(`const ${name} = mr${k} ? DV.getUint16(pr${k}, true) : c.rd16(${e}, ${eh});`);
      break;
    case 4:
      g.emit(`const ${name} = mr${k} ? DV.getUint32(pr${k}, true) : c.rd32(${e}, ${eh});`);
      break;
    default:
      g.emit(
        `const ${name} = mr${k} ? DV.getInt32(pr${k}, true) : c.rd64(${e}, ${eh});` +
          ` const ${name}h = mr${k} ? DV.getInt32(pr${k} + 4, true) : c.hi;`,
      );
  }
}

/** Statement writing `v` (`vh`: high half, size 8) to the memory operand at `e{k}`. */
function memWrite(k: number, sz: number, v: string, vh: string): string {
  const e = `e${k}l`;
  const eh = `e${k}h`;
  const head =
    `{ const t = (${e} >>> 12) & 4095;` +
    ` if (TL[t] === (${e} & -4096) && TH[t] === ${eh} && (TP[t] & WM) !== 0 && (${e} & 4095) <= ${4096 - sz}) {` +
    ` const pa = TB[t] | (${e} & 4095);`;
  switch (sz) {
    case 1:
      return `${head} MB[pa] = ${v}; } else c.wr8(${e}, ${eh}, ${v}); }`;
    case 2:
      return `${head} DV.setUint16(pa, ${v}, true); } else c.wr16(${e}, ${eh}, ${v}); }`;
    case 4:
      return `${head} DV.setInt32(pa, ${v}, true); } else c.wr32(${e}, ${eh}, ${v}); }`;
    default:
      return `${head} DV.setInt32(pa, ${v}, true); DV.setInt32(pa + 4, ${vh}, true); } else c.wr64(${e}, ${eh}, ${v}, ${vh}); }`;
  }
}

/**
 * Emits operand `loc` of `i` read at size `sz` into consts `{name}` (and `{name}h` for
 * size 8); sizes 1–4 unsigned, size 8 as int32 halves. False when not compiled.
 */
function readOperand(g: Gen, i: Insn, k: number, loc: number, sz: number, name: string): boolean {
  if (sz === 8) {
    if (loc >= 0) {
      if (loc >= 16) return false;
      g.emit(`const ${name} = ${g.lo(loc)}, ${name}h = ${g.hi(loc)};`);
    } else if (loc === L.MEM && i.mem === 1) {
      emitMemRead(g, k, 8, name);
    } else if (loc === L.IMM) {
      g.emit(`const ${name} = ${field(i, F.IMM_LO)}, ${name}h = ${field(i, F.IMM_HI)};`);
    } else return false;
    return true;
  }
  if (loc >= 0) {
    if (!regOk(loc, sz)) return false;
    g.emit(`const ${name} = ${readRegExpr(g, loc, sz)};`);
  } else if (loc === L.MEM && i.mem === 1) {
    emitMemRead(g, k, sz, name);
  } else if (loc === L.IMM) {
    g.emit(`const ${name} = ${(field(i, F.IMM_LO) & MASKS[sz]) >>> 0};`);
  } else return false;
  return true;
}

/** Stores the lazy-flag record exactly as the interpreter does, and remembers it. */
function setFlags(g: Gen, kind: number, sz: number, a: string, ah: string, b: string, bh: string) {
  let st = `c.lz = ${kind}; c.lzSz = ${sz}; c.lzA = ${a};`;
  if (kind !== LZ.Logic) st += ` c.lzB = ${b};`;
  if (sz === 8) {
    st += ` c.lzAh = ${ah};`;
    if (kind !== LZ.Logic) st += ` c.lzBh = ${bh};`;
  }
  g.pending = st;
  g.flags = { kind, sz, a, ah, b, bh, cf: "", fl: "" };
  if (g.entry === ENTRY_OPEN) g.entry = ENTRY_REPLACED;
}

/** Expression for the carry flag (0 or 1) as alu.ts `lazyCF` computes it. */
function cfExpr(g: Gen): string {
  const f = g.flags;
  switch (f.kind) {
    case -1:
      g.readEntry();
      return "(lazyCF(c) | 0)";
    case LZ.None:
      return f.fl !== "" ? `(${f.fl} & 1)` : "(c.flags & 1)";
    case LZ.Inc:
    case LZ.Dec:
      return f.cf;
    case LZ.Logic:
      return "0";
    case LZ.Sub:
      if (f.sz === 8)
        return `((${f.ah} >>> 0 < ${f.bh} >>> 0 || (${f.ah} === ${f.bh} && ${f.a} >>> 0 < ${f.b} >>> 0)) ? 1 : 0)`;
      return `(((${f.a} & ${MASKS[f.sz]}) >>> 0 < (${f.b} & ${MASKS[f.sz]}) >>> 0) ? 1 : 0)`;
    default:
      if (f.sz === 8)
        return `((${f.ah} >>> 0) + (${f.bh} >>> 0) + ((${f.a} >>> 0) + (${f.b} >>> 0) > 4294967295 ? 1 : 0) > 4294967295 ? 1 : 0)`;
      return `(((${f.a} & ${MASKS[f.sz]}) >>> 0) + ((${f.b} & ${MASKS[f.sz]}) >>> 0) > ${MASKS[f.sz] >>> 0} ? 1 : 0)`;
  }
}

/**
 * Whether condition `cc` after the flag writer `f` is read from the CPU's flags (which the
 * pending stores must reach first) rather than from the writer's operands.
 */
function condReadsCpu(f: FlagInfo, cc: number): boolean {
  const t = cc >> 1;
  if (f.kind === LZ.None) return f.fl === "";
  if (f.kind === LZ.Inc || f.kind === LZ.Dec) return t !== 2;
  return (f.kind !== LZ.Sub && f.kind !== LZ.Add && f.kind !== LZ.Logic) || t === 5;
}

/** Expression for condition `cc` (alu.ts `condLazy`, decided at compile time where it can). */
function condExpr(g: Gen, cc: number, k: number): string {
  const f = g.flags;
  if (f.kind === -1) g.readEntry();
  const neg = (cc & 1) !== 0;
  const t = cc >> 1;
  if (f.kind === LZ.None && f.fl !== "") {
    // From the status bits (CF 1, PF 4, ZF 64, SF 128, OF 2048), as alu.ts `cond` reads them.
    const fl = f.fl;
    const bits = [
      `(${fl} & 2048)`,
      `(${fl} & 1)`,
      `(${fl} & 64)`,
      `(${fl} & 65)`,
      `(${fl} & 128)`,
      `(${fl} & 4)`,
    ][t];
    const e =
      t < 6
        ? `${bits} !== 0`
        : t === 6
          ? `(((${fl} >> 7) ^ (${fl} >> 11)) & 1) !== 0`
          : `((${fl} & 64) !== 0 || (((${fl} >> 7) ^ (${fl} >> 11)) & 1) !== 0)`;
    return neg ? `!(${e})` : `(${e})`;
  }
  if (f.kind === LZ.Inc || f.kind === LZ.Dec) {
    if (t !== 2) return `condLazy(c, ${cc})`;
    let zero: string;
    if (f.kind === LZ.Inc)
      zero = f.sz === 8 ? `(${f.a} === -1 && ${f.ah} === -1)` : `(${f.a} === -1)`;
    else zero = f.sz === 8 ? `(${f.a} === 1 && ${f.ah} === 0)` : `(${f.a} === 1)`;
    // The interpreter's zero test compares the int32 operand; sizes below 4 never get here.
    return neg ? `!${zero}` : zero;
  }
  if (f.kind !== LZ.Sub && f.kind !== LZ.Add && f.kind !== LZ.Logic) return `condLazy(c, ${cc})`;
  if (t === 5) return `condLazy(c, ${cc})`;
  // zf, sf, cf, of as booleans, per condLazy.
  if (f.sz === 8) {
    if (f.kind === LZ.Logic) {
      g.emit(
        `const z${k} = (${f.a} | ${f.ah}) === 0, s${k} = ${f.ah} < 0, c${k} = false, o${k} = false;`,
      );
    } else if (f.kind === LZ.Sub) {
      g.emit(
        `const rl${k} = (${f.a} - ${f.b}) | 0, rh${k} = (${f.ah} - ${f.bh} - (${f.a} >>> 0 < ${f.b} >>> 0 ? 1 : 0)) | 0;` +
          `const z${k} = (rl${k} | rh${k}) === 0, s${k} = rh${k} < 0;` +
          `const c${k} = ${f.ah} >>> 0 < ${f.bh} >>> 0 || (${f.ah} === ${f.bh} && ${f.a} >>> 0 < ${f.b} >>> 0);` +
          `const o${k} = ((${f.ah} ^ ${f.bh}) & (${f.ah} ^ rh${k})) < 0;`,
      );
    } else {
      g.emit(
        `const ll${k} = (${f.a} >>> 0) + (${f.b} >>> 0), rl${k} = ll${k} | 0;` +
          `const hh${k} = (${f.ah} >>> 0) + (${f.bh} >>> 0) + (ll${k} > 4294967295 ? 1 : 0), rh${k} = hh${k} | 0;` +
          `const z${k} = (rl${k} | rh${k}) === 0, s${k} = rh${k} < 0, c${k} = hh${k} > 4294967295;` +
          `const o${k} = ((${f.ah} ^ rh${k}) & (${f.bh} ^ rh${k})) < 0;`,
      );
    }
  } else {
    const sh = 32 - f.sz * 8;
    g.emit(`const a${k} = ${f.a} << ${sh};`);
    if (f.kind === LZ.Logic) {
      g.emit(`const z${k} = a${k} === 0, s${k} = a${k} < 0, c${k} = false, o${k} = false;`);
    } else if (f.kind === LZ.Sub) {
      g.emit(
        `const b${k} = ${f.b} << ${sh}, r${k} = (a${k} - b${k}) | 0;` +
          `const z${k} = r${k} === 0, s${k} = r${k} < 0, c${k} = a${k} >>> 0 < b${k} >>> 0, o${k} = ((a${k} ^ b${k}) & (a${k} ^ r${k})) < 0;`,
      );
    } else {
      g.emit(
        `const b${k} = ${f.b} << ${sh}, r${k} = (a${k} + b${k}) | 0;` +
          `const z${k} = r${k} === 0, s${k} = r${k} < 0, c${k} = r${k} >>> 0 < a${k} >>> 0, o${k} = ((a${k} ^ r${k}) & (b${k} ^ r${k})) < 0;`,
      );
    }
  }
  let e: string;
  switch (t) {
    case 0:
      e = `o${k}`;
      break;
    case 1:
      e = `c${k}`;
      break;
    case 2:
      e = `z${k}`;
      break;
    case 3:
      e = `(c${k} || z${k})`;
      break;
    case 4:
      e = `s${k}`;
      break;
    case 6:
      e = `(s${k} !== o${k})`;
      break;
    default:
      e = `(z${k} || s${k} !== o${k})`;
  }
  return neg ? `!${e}` : e;
}

/**
 * Writes the result `r{k}` (high half `q{k}` at size 8) to register `dst` or, storing the
 * pending flags first, to the memory operand (then checks the block's own code).
 */
function writeResult(g: Gen, k: number, dst: number, sz: number, afterStore: () => void): void {
  if (dst >= 0) {
    if (sz === 8) g.emit(`${g.lo(dst, true)} = r${k}; ${g.hi(dst, true)} = q${k};`);
    else g.emit(writeRegStmt(g, dst, sz, `r${k}`));
    return;
  }
  g.flush();
  g.emit(memWrite(k, sz, `r${k}`, sz === 8 ? `q${k}` : "0"));
  afterStore();
}

/** Emits one ALU instruction (add/or/and/sub/xor/cmp/test); false when not compiled. */
function emitAlu(g: Gen, i: Insn, k: number, afterStore: () => void): boolean {
  const op = i.op;
  const sz = i.osz;
  const dst = field(i, F.X_DST);
  const src = field(i, F.X_SRC);
  const writes = op !== O.CMP && op !== O.TEST;
  if (dst === L.MEM && i.mem !== 1) return false;
  if (dst === L.MEM && writes) g.emit(`c.probeWrite(e${k}l, e${k}h, ${sz});`);
  if (!readOperand(g, i, k, dst, sz, `x${k}`)) return false;
  if (!readOperand(g, i, k, src, sz, `y${k}`)) return false;
  const a = `x${k}`;
  const b = `y${k}`;
  const kind = op === O.ADD ? LZ.Add : op === O.SUB || op === O.CMP ? LZ.Sub : LZ.Logic;
  const jsOp = op === O.OR ? "|" : op === O.XOR ? "^" : "&";
  if (sz === 8) {
    if (kind === LZ.Add)
      g.emit(
        `const t${k} = (${a} >>> 0) + (${b} >>> 0), r${k} = t${k} | 0, q${k} = (${a}h + ${b}h + (t${k} > 4294967295 ? 1 : 0)) | 0;`,
      );
    else if (kind === LZ.Sub)
      g.emit(
        `const r${k} = (${a} - ${b}) | 0, q${k} = (${a}h - ${b}h - (${a} >>> 0 < ${b} >>> 0 ? 1 : 0)) | 0;`,
      );
    else g.emit(`const r${k} = ${a} ${jsOp} ${b}, q${k} = ${a}h ${jsOp} ${b}h;`);
    if (kind === LZ.Logic) setFlags(g, kind, 8, `r${k}`, `q${k}`, "", "");
    else setFlags(g, kind, 8, a, `${a}h`, b, `${b}h`);
    // A memory operand was probed writable: the store cannot fault after the flags are set.
    if (writes) writeResult(g, k, dst, 8, afterStore);
    return true;
  }
  if (sz === 4) {
    // int32 operands, as the interpreter's register fast path keeps them.
    if (kind === LZ.Add) g.emit(`const r${k} = (${a} + ${b}) | 0;`);
    else if (kind === LZ.Sub) g.emit(`const r${k} = (${a} - ${b}) | 0;`);
    else g.emit(`const r${k} = ${a} ${jsOp} ${b};`);
    if (kind === LZ.Logic) setFlags(g, kind, 4, `r${k}`, "", "", "");
    else setFlags(g, kind, 4, `(${a} | 0)`, "", `(${b} | 0)`, "");
    if (writes) writeResult(g, k, dst, 4, afterStore);
    return true;
  }
  const m = MASKS[sz];
  if (kind === LZ.Add) g.emit(`const r${k} = (${a} + ${b}) & ${m};`);
  else if (kind === LZ.Sub) g.emit(`const r${k} = (${a} - ${b}) & ${m};`);
  else g.emit(`const r${k} = (${a} ${jsOp} ${b}) & ${m};`);
  if (kind === LZ.Logic) setFlags(g, kind, sz, `r${k}`, "", "", "");
  else setFlags(g, kind, sz, a, "", b, "");
  if (writes) writeResult(g, k, dst, sz, afterStore);
  return true;
}

/** Emits a mov; false when not compiled. */
function emitMov(g: Gen, i: Insn, k: number, afterStore: () => void): boolean {
  const sz = i.osz;
  const dst = field(i, F.X_DST);
  const src = field(i, F.X_SRC);
  if (dst === L.MEM) {
    if (i.mem !== 1) return false;
    if (!readOperand(g, i, k, src, sz, `x${k}`)) return false;
    g.emit(memWrite(k, sz, `x${k}`, `x${k}h`));
    afterStore();
    return true;
  }
  if (!regOk(dst, sz)) return false;
  if (sz === 8) {
    if (!readOperand(g, i, k, src, 8, `x${k}`)) return false;
    g.emit(`${g.lo(dst, true)} = x${k}; ${g.hi(dst, true)} = x${k}h;`);
    return true;
  }
  if (!readOperand(g, i, k, src, sz, `x${k}`)) return false;
  g.emit(writeRegStmt(g, dst, sz, `x${k}`));
  return true;
}

/** Emits a 64-bit push of a register or immediate, or a pop into a register; else false. */
function emitStack(g: Gen, i: Insn, k: number, afterStore: () => void): boolean {
  const dst = field(i, F.X_DST);
  if (g.m32) return emitStack32(g, i, k, afterStore);
  if (i.osz !== 8 || field(i, F.X_EXT) !== 0 || i.mem !== 0) return false;
  g.flush();
  const sl = g.lo(4, true);
  const sh = g.hi(4, true);
  if (i.op === O.PUSH) {
    if (dst >= 0 && dst < 16) g.emit(`const x${k} = ${g.lo(dst)}, x${k}h = ${g.hi(dst)};`);
    else if (dst === L.IMM)
      g.emit(`const x${k} = ${field(i, F.IMM_LO)}, x${k}h = ${field(i, F.IMM_HI)};`);
    else return false;
    g.emit(
      `const e${k}l = (${sl} - 8) | 0, e${k}h = e${k}l >>> 0 > ${sl} >>> 0 ? (${sh} - 1) | 0 : ${sh};`,
    );
    g.emit(memWrite(k, 8, `x${k}`, `x${k}h`));
    g.emit(`${sl} = e${k}l; ${sh} = e${k}h;`);
    afterStore();
    return true;
  }
  if (dst < 0 || dst >= 16) return false;
  g.emit(`const e${k}l = ${sl}, e${k}h = ${sh};`);
  emitMemRead(g, k, 8, `x${k}`);
  g.emit(
    `{ const s = (${sl} >>> 0) + 8; ${sl} = s | 0; if (s >= 4294967296) ${sh} = (${sh} + 1) | 0; }`,
  );
  g.emit(`${g.lo(dst, true)} = x${k}; ${g.hi(dst, true)} = x${k}h;`);
  return true;
}

/**
 * {@link emitStack} in 32-bit code: a 4-byte push of a register or immediate, or pop into
 * a register, through esp (wrapping at 4 GiB, SS flat), as execute.ts `push`/`peek` and
 * `addRsp` do with a 32-bit stack; else false.
 */
function emitStack32(g: Gen, i: Insn, k: number, afterStore: () => void): boolean {
  const dst = field(i, F.X_DST);
  if (i.osz !== 4 || field(i, F.X_EXT) !== 0 || i.mem !== 0) return false;
  if (i.op === O.PUSH ? dst !== L.IMM && (dst < 0 || dst >= 8) : dst < 0 || dst >= 8) return false;
  g.flush();
  const sl = g.lo(4, true);
  const sh = g.hi(4, true);
  if (i.op === O.PUSH) {
    g.emit(`const x${k} = ${dst === L.IMM ? field(i, F.IMM_LO) : g.lo(dst)};`);
    g.emit(`const e${k}l = (${sl} - 4) | 0, e${k}h = 0;`);
    g.emit(memWrite(k, 4, `x${k}`, "0"));
    g.emit(`${sl} = e${k}l; ${sh} = 0;`);
    afterStore();
    return true;
  }
  g.emit(`const e${k}l = ${sl}, e${k}h = 0;`);
  emitMemRead(g, k, 4, `x${k}`);
  g.emit(`${sl} = (${sl} + 4) | 0; ${sh} = 0;`);
  g.emit(writeRegStmt(g, dst, 4, `x${k}`));
  return true;
}

/** Emits movzx/movsx/movsxd; false when not compiled. */
function emitMovx(g: Gen, i: Insn, k: number): boolean {
  const sz = i.osz;
  const dst = field(i, F.X_DST);
  if (sz < 4 || dst < 0 || dst >= 16) return false;
  const ssz = i.op === O.MOVSXD ? 4 : field(i, F.X_EXT);
  if (ssz !== 1 && ssz !== 2 && ssz !== 4) return false;
  if (!readOperand(g, i, k, field(i, F.X_SRC), ssz, `x${k}`)) return false;
  if (i.op === O.MOVZX) {
    g.emit(`${g.lo(dst, true)} = x${k} | 0; ${g.hi(dst, true)} = 0;`);
    return true;
  }
  const sh = 32 - ssz * 8;
  g.emit(`const v${k} = (x${k} << ${sh}) >> ${sh};`);
  g.emit(`${g.lo(dst, true)} = v${k}; ${g.hi(dst, true)} = ${sz === 8 ? `v${k} >> 31` : "0"};`);
  return true;
}

/**
 * Statements computing imul of `x{k}` by `y{k}` into `r{k}` (and `q{k}`, size 8) with the
 * status flags alu.ts `imul` gives in `fl{k}`; the 128-bit product case is left to it.
 */
function imulCode(sz: number, k: number): string {
  const x = `x${k}`;
  const y = `y${k}`;
  if (sz === 4) {
    return (
      `const r${k} = Math.imul(${x}, ${y}), v${k} = (${x} | 0) * (${y} | 0) !== r${k};` +
      ` const fl${k} = ((r${k} >>> 31) << 7) | PARITY[r${k} & 255] | (v${k} ? 2049 : 0);`
    );
  }
  return (
    `let r${k}, q${k}, fl${k};` +
    `if (${x}h === ${x} >> 31 && ${y}h === ${y} >> 31) {` +
    ` const a1 = ${x} >> 16, a0 = ${x} & 65535, b1 = ${y} >> 16, b0 = ${y} & 65535;` +
    ` r${k} = Math.imul(${x}, ${y});` +
    ` q${k} = (a1 * b1 + Math.floor(((a1 * b0 + a0 * b1) * 65536 + a0 * b0) / 4294967296)) | 0;` +
    ` fl${k} = ((q${k} >>> 31) << 7) | PARITY[r${k} & 255];` +
    `} else {` +
    ` const est = (${x}h * 4294967296 + (${x} >>> 0)) * (${y}h * 4294967296 + (${y} >>> 0));` +
    ` if (Math.abs(est) < 4.6e18 || est > 1e19 || est < -1e19) {` +
    `  r${k} = Math.imul(${x}, ${y});` +
    `  q${k} = (Math.imul(${x}h, ${y}) + Math.imul(${x}, ${y}h) + mulhu32(${x}, ${y})) | 0;` +
    `  fl${k} = ((q${k} >>> 31) << 7) | PARITY[r${k} & 255] | (est > 1e19 || est < -1e19 ? 2049 : 0);` +
    ` } else {` +
    `  r${k} = imul(c, c.wide, ${x}, ${x}h, ${y}, ${y}h, 8); q${k} = c.hi; fl${k} = c.flags & 2261;` +
    ` }` +
    `}`
  );
}

/**
 * Statements for shl/shr/sar of register (`l`, `h`) by the constant `count` (1–63), as
 * alu.ts `shift`/`shift64` compute them: the result, and all six status flags in `fl{k}`.
 */
function shiftCode(op: number, sz: number, count: number, l: string, h: string, k: number): string {
  let cf: string, rl: string, rh: string, of: string;
  if (sz === 4) {
    if (op === O.SHL) {
      cf = `(${l} >>> ${32 - count}) & 1`;
      rl = `${l} << ${count}`;
      of = `((${l} >>> 31) ^ (${l} >>> 30)) & 1`;
    } else if (op === O.SHR) {
      cf = `(${l} >>> ${count - 1}) & 1`;
      rl = `${l} >>> ${count}`;
      of = `${l} >>> 31`;
    } else {
      cf = `(${l} >> ${count - 1}) & 1`;
      rl = `${l} >> ${count}`;
      of = "0";
    }
    return (
      `const c${k} = ${cf}, o${k} = ${of}, r${k} = (${rl}) | 0; ${l} = r${k}; ${h} = 0;` +
      ` const fl${k} = c${k} | (o${k} << 11) | (r${k} === 0 ? 64 : 0) |` +
      ` ((r${k} >>> 31) << 7) | PARITY[r${k} & 255];`
    );
  }
  if (op === O.SHL) {
    of = `((${h} >>> 31) ^ (${h} >>> 30)) & 1`;
    if (count < 32) {
      cf = `(${h} >>> ${32 - count}) & 1`;
      rh = `(${h} << ${count}) | (${l} >>> ${32 - count})`;
      rl = `${l} << ${count}`;
    } else {
      cf = count === 32 ? `${h} & 1` : `(${l} >>> ${64 - count}) & 1`;
      rh = `${l} << ${count - 32}`;
      rl = "0";
    }
  } else {
    const sr = op === O.SHR ? ">>>" : ">>";
    of = op === O.SHR ? `${h} >>> 31` : "0";
    if (count < 32) {
      cf = `(${l} >>> ${count - 1}) & 1`;
      rl = `(${l} >>> ${count}) | (${h} << ${32 - count})`;
      rh = `${h} ${sr} ${count}`;
    } else {
      cf = count === 32 ? `${l} >>> 31` : `(${h} >>> ${count - 33}) & 1`;
      rl = `${h} ${sr} ${count - 32}`;
      rh = op === O.SHR ? "0" : `${h} >> 31`;
    }
  }
  return (
    `const c${k} = ${cf}, o${k} = ${of}, r${k} = (${rl}) | 0, q${k} = (${rh}) | 0;` +
    ` ${l} = r${k}; ${h} = q${k};` +
    ` const fl${k} = c${k} | (o${k} << 11) | ((r${k} | q${k}) === 0 ? 64 : 0) |` +
    ` ((q${k} >>> 31) << 7) | PARITY[r${k} & 255];`
  );
}

// ---- data ops beyond the ALU core: neg/not, and ops run by the interpreter's own helpers ----

/**
 * Readies the destination `dst` of a read-modify-write op at size `sz`: a register the
 * block holds, or memory checked writable before it is read, as the interpreter checks
 * it; false when not compiled.
 */
function rmwDestination(g: Gen, i: Insn, k: number, dst: number, sz: number): boolean {
  if (dst !== L.MEM) return regOk(dst, sz) && (sz < 8 || dst < 16);
  if (i.mem !== 1) return false;
  g.emit(`c.probeWrite(e${k}l, e${k}h, ${sz});`);
  return true;
}

/** Emits neg/not of a register or memory operand (sizes 1–8); false when not compiled. */
function emitNegNot(g: Gen, i: Insn, k: number, afterStore: () => void): boolean {
  const sz = i.osz;
  const dst = field(i, F.X_DST);
  if (!rmwDestination(g, i, k, dst, sz)) return false;
  if (!readOperand(g, i, k, dst, sz, `x${k}`)) return false;
  const neg = i.op === O.NEG;
  if (sz === 8) {
    if (neg) {
      g.emit(`const r${k} = -x${k} | 0, q${k} = (-x${k}h - (x${k} !== 0 ? 1 : 0)) | 0;`);
      // neg sets the flags of 0 − x (SDM vol. 2 NEG).
      setFlags(g, LZ.Sub, 8, "0", "0", `x${k}`, `x${k}h`);
    } else g.emit(`const r${k} = ~x${k}, q${k} = ~x${k}h;`);
    writeResult(g, k, dst, 8, afterStore);
    return true;
  }
  if (neg) {
    g.emit(`const r${k} = -x${k} & ${MASKS[sz]};`);
    setFlags(g, LZ.Sub, sz, "0", "", sz === 4 ? `(x${k} | 0)` : `x${k}`, "");
  } else g.emit(`const r${k} = ~x${k} & ${MASKS[sz]};`);
  writeResult(g, k, dst, sz, afterStore);
  return true;
}

/**
 * The interpreter's helper for each op a block runs by calling it (helper name, GPR use).
 * Built when the module loads, so by `Op` (ops.ts): execute.ts, whose `O` mirrors it, may
 * still be loading then.
 */
const HELPER_OPS = new Map<number, [helper: string, gprs: boolean]>();
for (const op of [
  Op.VMOV,
  Op.VMOVS,
  Op.VMOVLH,
  Op.PAND,
  Op.PANDN,
  Op.POR,
  Op.PXOR,
  Op.PADD,
  Op.PADDS,
  Op.PADDUS,
  Op.PSUB,
  Op.PSUBS,
  Op.PSUBUS,
  Op.PCMPEQ,
  Op.PCMPGT,
  Op.PMINU,
  Op.PMAXU,
  Op.PMINS,
  Op.PMAXS,
  Op.PAVG,
  Op.PMULL,
  Op.PMULH,
  Op.PMULHU,
  Op.PMULUDQ,
  Op.PMADDWD,
  Op.PSADBW,
  Op.PSLL,
  Op.PSRL,
  Op.PSRA,
  Op.PSLLDQ,
  Op.PSRLDQ,
  Op.PSHUFD,
  Op.PSHUFLW,
  Op.PSHUFHW,
  Op.PSHUFW,
  Op.PUNPCKL,
  Op.PUNPCKH,
  Op.PACKSS,
  Op.PACKUS,
  Op.SHUF,
])
  HELPER_OPS.set(op, ["vectorOp", false]);
for (const op of [Op.VMOVD, Op.VMOVQ, Op.VMOVMSK, Op.VMASKMOV, Op.PEXTRW, Op.PINSRW])
  HELPER_OPS.set(op, ["vectorOp", true]);
for (const op of [Op.FARITH, Op.FCMP, Op.FCOMI, Op.FAPPROX, Op.FROUND])
  HELPER_OPS.set(op, ["floatOp", false]);
HELPER_OPS.set(Op.FCVT, ["floatOp", true]);
for (const op of [Op.VEXT, Op.PCMPSTR, Op.CRC32]) HELPER_OPS.set(op, ["extOp", true]);
// fnstsw %ax writes a GPR.
HELPER_OPS.set(Op.X87, ["x87Op", true]);
for (const op of [
  Op.ROL,
  Op.ROR,
  Op.RCL,
  Op.RCR,
  Op.SHL,
  Op.SHR,
  Op.SAR,
  Op.SHLD,
  Op.SHRD,
  Op.MUL,
  Op.IMUL1,
  Op.DIV,
  Op.IDIV,
  Op.BT,
  Op.BTS,
  Op.BTR,
  Op.BTC,
  Op.BSF,
  Op.BSR,
  Op.TZCNT,
  Op.LZCNT,
  Op.POPCNT,
])
  HELPER_OPS.set(op, ["eagerFlagsOp", true]);

/**
 * Emits adc/sbb: the carry in from the flags so far, then alu.ts `add`/`sub` (their 64-bit
 * forms for size 8), which set all six status flags as the interpreter's do.
 */
function emitAdcSbb(g: Gen, i: Insn, k: number, afterStore: () => void): boolean {
  const sz = i.osz;
  const dst = field(i, F.X_DST);
  if (!rmwDestination(g, i, k, dst, sz)) return false;
  if (!readOperand(g, i, k, dst, sz, `x${k}`)) return false;
  if (!readOperand(g, i, k, field(i, F.X_SRC), sz, `y${k}`)) return false;
  // The carry in is read from the CPU when the compiler does not know the last writer.
  if (g.flags.kind === -1 || (g.flags.kind === LZ.None && g.flags.fl === "")) g.flush();
  g.emit(`const ci${k} = ${cfExpr(g)};`);
  // The six status flags are replaced: earlier pending stores are dead.
  g.pending = "";
  if (sz === 4) {
    // Inline, as alu.ts `add`/`sub` compute them (operands unsigned, the sum exact).
    const adc = i.op === O.ADC;
    const x = `x${k}`;
    const y = `y${k}`;
    g.emit(
      `const s${k} = ${x} ${adc ? "+" : "-"} ${y} ${adc ? "+" : "-"} ci${k}, r${k} = s${k} | 0;` +
        ` const fl${k} = (s${k} ${adc ? "> 4294967295" : "< 0"} ? 1 : 0) | ((${x} ^ ${y} ^ r${k}) & 16) |` +
        ` ((((${x} ^ r${k}) & (${adc ? y : x} ^ ${adc ? `r${k}` : y})) >>> 31) << 11) |` +
        ` (r${k} === 0 ? 64 : 0) | ((r${k} >>> 31) << 7) | PARITY[r${k} & 255];`,
    );
    g.pending = `c.lz = 0; c.flags = (c.flags & -2262) | fl${k};`;
    g.flags = computedFlags(`fl${k}`);
    writeResult(g, k, dst, sz, afterStore);
    return true;
  }
  const fn = i.op === O.ADC ? "add" : "sub";
  if (sz === 8)
    g.emit(`const r${k} = ${fn}64(c, x${k}, x${k}h, y${k}, y${k}h, ci${k}), q${k} = c.hi;`);
  else g.emit(`const r${k} = ${fn}(c, x${k}, y${k}, ci${k}, ${sz});`);
  g.flags = { ...UNKNOWN, kind: LZ.None };
  writeResult(g, k, dst, sz, afterStore);
  return true;
}

/**
 * Emits mul/imul r/m32 (one operand): edx:eax = eax × the operand, unsigned or signed,
 * with the flags execute.ts `eagerFlagsOp` gives them: SF and PF of eax, ZF and AF clear,
 * CF = OF = whether edx is more than eax's extension. False when not compiled.
 */
function emitMul32(g: Gen, i: Insn, k: number): boolean {
  if (!readOperand(g, i, k, field(i, F.X_DST), 4, `x${k}`)) return false;
  const a = `a${k}`;
  const x = `x${k}`;
  const r = `r${k}`;
  const q = `q${k}`;
  g.emit(`const ${a} = ${g.lo(0)}, ${r} = Math.imul(${a}, ${x});`);
  if (i.op === O.IMUL1) {
    // The signed high half: the unsigned one less each negative factor's partner.
    g.emit(
      `const ${q} = (mulhu32(${a}, ${x}) - (${a} < 0 ? ${x} : 0) - ((${x} | 0) < 0 ? ${a} : 0)) | 0, o${k} = ${q} !== ${r} >> 31;`,
    );
  } else g.emit(`const ${q} = mulhu32(${a}, ${x}), o${k} = ${q} !== 0;`);
  g.emit(
    `${g.lo(0, true)} = ${r}; ${g.hi(0, true)} = 0; ${g.lo(2, true)} = ${q}; ${g.hi(2, true)} = 0;` +
      ` const fl${k} = ((${r} >>> 31) << 7) | PARITY[${r} & 255] | (o${k} ? 2049 : 0);`,
  );
  // mul replaces all six status flags: earlier pending stores are dead.
  g.pending = `c.lz = 0; c.flags = (c.flags & -2262) | fl${k};`;
  g.flags = computedFlags(`fl${k}`);
  return true;
}

/**
 * Emits inc/dec of memory (sizes 1–8) or of an 8/16-bit register as the interpreter's
 * general path runs them: CF from the flags so far, the write checked before the read,
 * alu.ts `add`/`sub` (`add64`/`sub64` for size 8) with 1 for the other five status flags,
 * CF put back; false when not compiled.
 */
function emitIncDecEager(g: Gen, i: Insn, k: number, afterStore: () => void): boolean {
  const sz = i.osz;
  const dst = field(i, F.X_DST);
  if (!rmwDestination(g, i, k, dst, sz)) return false;
  if (g.flags.kind === -1 || (g.flags.kind === LZ.None && g.flags.fl === "")) g.flush();
  g.emit(`const f${k} = ${cfExpr(g)};`);
  if (!readOperand(g, i, k, dst, sz, `x${k}`)) return false;
  // The six status flags are replaced: earlier pending stores are dead.
  g.pending = "";
  const fn = i.op === O.INC ? "add" : "sub";
  if (sz === 8) g.emit(`const r${k} = ${fn}64(c, x${k}, x${k}h, 1, 0, 0), q${k} = c.hi;`);
  else g.emit(`const r${k} = ${fn}(c, x${k}, 1, 0, ${sz});`);
  g.emit(`c.flags = (c.flags & -2) | f${k};`);
  g.flags = { ...UNKNOWN, kind: LZ.None };
  writeResult(g, k, dst, sz, afterStore);
  return true;
}

/** Emits xchg of a register with a register or memory (the write checked before the read). */
function emitXchg(g: Gen, i: Insn, k: number, afterStore: () => void): boolean {
  const sz = i.osz;
  const dst = field(i, F.X_DST);
  const src = field(i, F.X_SRC);
  if (!regOk(src, sz) || (sz === 8 && src >= 16)) return false;
  if (!rmwDestination(g, i, k, dst, sz)) return false;
  if (!readOperand(g, i, k, dst, sz, `x${k}`)) return false;
  if (!readOperand(g, i, k, src, sz, `y${k}`)) return false;
  const put = (r: number, v: string): void => {
    if (sz === 8) g.emit(`${g.lo(r, true)} = ${v}; ${g.hi(r, true)} = ${v}h;`);
    else g.emit(writeRegStmt(g, r, sz, v));
  };
  if (dst >= 0) put(dst, `y${k}`);
  else g.emit(memWrite(k, sz, `y${k}`, sz === 8 ? `y${k}h` : "0"));
  put(src, `x${k}`);
  if (dst < 0) afterStore();
  return true;
}

/**
 * Emits movs/stos with 64- or 32-bit addresses (no fs/gs override), with or without a rep
 * prefix, as the interpreter runs them: each iteration retires one (so the budget
 * interrupts a long one with rip on it and rcx, rsi, rdi as far as they got), the
 * instruction itself one more; a fault leaves the registers of the iterations done. The block ends after it, so
 * the retired count never passes the budget. With 32-bit addresses, rcx, rsi and rdi are
 * ecx, esi and edi (each write clears the upper half), wrapping at 4 GiB. False when not
 * compiled.
 */
function emitString(g: Gen, i: Insn, k: number): boolean {
  const sz = i.osz;
  const sg = field(i, F.SEG);
  const asz = field(i, F.ASZ);
  if (asz === 2 || sg === 4 || sg === 5) return false;
  const a32 = asz === 4;
  const rep = (field(i, F.PFX) & (Pfx.REP | Pfx.REPNE)) !== 0;
  const movs = i.op === O.MOVS;
  const rd = ["", "rd8", "rd16", "", "rd32", "", "", "", "rd64"][sz];
  const wr = ["", "wr8", "wr16", "", "wr32", "", "", "", "wr64"][sz];
  g.flush();
  const cl = g.lo(1, rep);
  const ch = g.hi(1, rep);
  const dl = g.lo(7, true);
  const dh = g.hi(7, true);
  // The address's high half: 0 with 32-bit addresses.
  const ah = (h: string): string => (a32 ? "0" : h);
  const step = (l: string, h: string): string =>
    a32
      ? `${l} = (${l} + st${k}) | 0; ${h} = 0;`
      : `{ const s = (${l} >>> 0) + st${k}; ${l} = s | 0; ${h} = (${h} + (s >= 4294967296 ? 1 : s < 0 ? -1 : 0)) | 0; }`;
  let body: string;
  if (movs) {
    const sl = g.lo(6, true);
    const sh = g.hi(6, true);
    body =
      `const v = c.${rd}(${sl}, ${ah(sh)});` +
      (sz === 8 ? ` c.${wr}(${dl}, ${ah(dh)}, v, c.hi);` : ` c.${wr}(${dl}, ${ah(dh)}, v);`) +
      ` ${step(sl, sh)} ${step(dl, dh)}`;
  } else {
    const al = g.lo(0);
    body =
      (sz === 8
        ? `c.${wr}(${dl}, ${ah(dh)}, ${al}, ${g.hi(0)});`
        : `c.${wr}(${dl}, ${ah(dh)}, ${al});`) + ` ${step(dl, dh)}`;
  }
  const count = a32 ? cl : `(${cl} | ${ch})`;
  const countDown = a32
    ? `${cl} = (${cl} - 1) | 0; ${ch} = 0;`
    : `if (${cl} === 0) ${ch} = (${ch} - 1) | 0; ${cl} = (${cl} - 1) | 0;`;
  const interrupt = `{ ${WB} c.ripLo = (ripLo + ${i.off}) | 0; c.ripHi = ripHi; return n + ${k}; }`;
  g.emit(
    `{ const st${k} = (c.flags & 1024) !== 0 ? ${-sz} : ${sz};` +
      (rep
        ? ` for (;;) { if (${count} === 0) break; if (n + ${k} >= budget) ${interrupt}` +
          ` ${body} ${countDown} n++; } }`
        : ` ${body} }`),
  );
  return true;
}

/**
 * Emits a control transfer of 32-bit code that ends the block: call rel32, ret (imm16),
 * jmp or call through a register or memory, with 4-byte stack slots through esp, as
 * execute.ts runs them there: the target is read and the return address pushed before esp
 * moves, so a fault leaves esp as it was. With `follow`, a call rel32 only pushes (the block
 * goes on at its target). False for a 16-bit operand size.
 */
function emitBranch32(g: Gen, i: Insn, k: number, follow = false): boolean {
  if (i.osz !== 4) return false;
  const next = i.off + i.len;
  g.flush();
  const sl = g.lo(4, true);
  const sh = g.hi(4, true);
  let target = `t${k}`;
  if (i.op === O.CALL) g.emit(`const t${k} = (ripLo + ${next + field(i, F.IMM_LO)}) | 0;`);
  else if (i.op === O.RET) {
    g.emit(`const e${k}l = ${sl}, e${k}h = 0;`);
    emitMemRead(g, k, 4, `x${k}`);
    const pop = 4 + (field(i, F.X_DST) === L.IMM ? field(i, F.IMM_LO) & 0xffff : 0);
    g.emit(`${sl} = (${sl} + ${pop}) | 0; ${sh} = 0;`);
    target = `(x${k} | 0)`;
  } else {
    if (!readOperand(g, i, k, field(i, F.X_DST), 4, `x${k}`)) return false;
    target = `(x${k} | 0)`;
  }
  if (i.op === O.CALL || i.op === O.CALL_IND) {
    // In a scope of its own: the push's address names shadow the operand's.
    g.emit(
      `{ const e${k}l = (${sl} - 4) | 0, e${k}h = 0;` +
        ` ${memWrite(k, 4, `((ripLo + ${next}) | 0)`, "0")} ${sl} = e${k}l; ${sh} = 0; }`,
    );
  }
  if (!follow) g.emit(`{ ${WB} c.ripLo = ${target}; c.ripHi = 0; return n + ${k + 1}; }`);
  return true;
}

/** Emits cbw/cwde/cdqe (`O.CBW`) or cwd/cdq/cqo (`O.CWD`). */
function emitSignExtendAcc(g: Gen, i: Insn): void {
  const sz = i.osz;
  const l0 = g.lo(0, i.op === O.CBW);
  if (i.op === O.CBW) {
    if (sz === 2) g.emit(`${l0} = (${l0} & -65536) | (((${l0} << 24) >> 24) & 65535);`);
    else if (sz === 4) g.emit(`${l0} = (${l0} << 16) >> 16; ${g.hi(0, true)} = 0;`);
    else g.emit(`${g.hi(0, true)} = ${l0} >> 31;`);
    return;
  }
  const l2 = g.lo(2, true);
  if (sz === 2) g.emit(`${l2} = (${l2} & -65536) | (((${l0} << 16) >> 31) & 65535);`);
  else if (sz === 4) g.emit(`${l2} = ${l0} >> 31; ${g.hi(2, true)} = 0;`);
  else g.emit(`${l2} = ${g.hi(0)} >> 31; ${g.hi(2, true)} = ${l2};`);
}

/** Placeholders for statements known once the whole block is seen. */
const WB = "/*WB*/";
const RELOAD = "/*RELOAD*/";
const COUNT = "/*COUNT*/";

/**
 * Emits a call of the interpreter's own helper for `i` (SSE, x87): the decoded record is
 * copied into the block's `HREC` (a later fill of the decode-cache slot must not change
 * it), the lazy flags are stored first and taken as unknown after; for helpers that may
 * read or write general registers, the block's registers are written back before and
 * read again after.
 */
function emitHelper(g: Gen, i: Insn, k: number, afterStore: () => void, hrec: number[]): void {
  const [helper, gprs] = HELPER_OPS.get(i.op)!;
  g.flush();
  const at = hrec.length;
  for (let f = 0; f < F.SLOT; f++) hrec.push(i.rec[i.b + f]);
  const ea = i.mem === 1 ? `e${k}l, e${k}h` : "0, 0";
  if (gprs) g.emit(WB);
  if (helper === "x87Op") g.emit(`x87Op(c, HREC, ${at}, ${ea}, (ripLo + ${i.off}) | 0, ripHi);`);
  else g.emit(`${helper}(c, ${i.op}, HREC, ${at}, ${ea});`);
  if (gprs) g.emit(RELOAD);
  g.flags = UNKNOWN;
  if (i.mem === 1) afterStore();
}

/**
 * Statement pushing the return address (the entry rip plus `next`) on the 64-bit stack, as
 * call does (in its own scope: the address names may shadow the operand's).
 */
function pushReturn(g: Gen, k: number, next: number): string {
  const sl = g.lo(4, true);
  const sh = g.hi(4, true);
  return (
    `{ const r = (ripLo >>> 0) + ${next}, rh = r >= 4294967296 ? (ripHi + 1) | 0 : ripHi;` +
    ` const e${k}l = (${sl} - 8) | 0, e${k}h = e${k}l >>> 0 > ${sl} >>> 0 ? (${sh} - 1) | 0 : ${sh};` +
    ` ${memWrite(k, 8, "(r | 0)", "rh")} ${sl} = e${k}l; ${sh} = e${k}h; }`
  );
}

/** Calls in generated code that never raise a guest fault. */
const PURE_CALLS = new Set([
  "Math.imul",
  "Math.floor",
  "Math.abs",
  "mulhu32",
  "lazyCF",
  "condLazy",
]);

/**
 * Whether the statements of `out` from `from` on may raise a guest fault: they call
 * something other than arithmetic, the lazy-flag readers and the memory view's accessors
 * (reached only after the TLB check).
 */
function mayFault(out: readonly string[], from: number): boolean {
  for (let j = from; j < out.length; j++) {
    if (out[j].includes(WB) || out[j].includes("throw")) return true;
    for (const m of out[j].matchAll(/([\w.]+)\(/g))
      if (!PURE_CALLS.has(m[1]) && !m[1].startsWith("DV.")) return true;
  }
  return false;
}

/**
 * Compiles the block starting at machine address `pa` (a decode-cache hit), or returns
 * null when its first instruction is not one the compiler handles. A block ends at its
 * first branch (call, ret and indirect branches included) but for conditional branches
 * (left when taken) and direct jmp and call within its frame (followed), before the first instruction it
 * does not compile, or at its frame's end; a branch back to its start loops inside it
 * while the budget allows. Fills decode-cache slots of the instructions after the first as
 * the interpreter's fetch would.
 */
export function compileBlock(
  c: X86Cpu,
  pa: number,
): { fn: BlockFn; count: number; end: number; stop: number } | null {
  // The interpreter compiles 64-bit code, and 32-bit code only while it is flat.
  const m32 = c.modeKey !== 0;
  (m32 ? c.blocks32 : c.blocks).reserve(pa & (SIZE - 1));
  const dc = c.dcache;
  const rec = dc.recs;
  const pageEnd = Math.min((pa & -4096) + 4096, c.bytes.length);
  const g = new Gen(m32);
  const offs: number[] = [];
  const lens: number[] = [];
  const mfn = pa >>> 12;
  const gen = dc.frameGen[mfn];
  let p = pa;
  let ended = false;
  const hrec: number[] = [];
  // Offsets of the instructions in the block so far.
  const seen = new Set<number>();
  // Why the block ends where it does (exec-profile.ts): the key of the first instruction
  // not compiled, or a BlockStop.
  let stop: number = BlockStop.Length;
  // Exits set the next rip (`xo`: offset from the block's rip, or `xl`/`xh` with `xa`)
  // and the instructions retired (`xr`), and leave through one shared epilogue (which
  // writes the registers back): exit paths taken rarely then hold no operation that needs
  // type feedback, so taking one does not deoptimise the block. `retired` counts like the
  // instruction index k (`k + 1` after instruction k).
  const exitAt = (retired: number, nextOff: number): string =>
    `{ xo = ${nextOff}; xr = ${retired}; break out; }`;
  /**
   * Ends the block before an instruction it does not compile (at `off` from `pa`,
   * `retired` as for exitAt): the flags still pending are stored first.
   */
  const endBefore = (retired: number, off: number): void => {
    g.flush();
    g.emit(exitAt(retired, off));
    ended = true;
  };
  const exitTo = (retired: number, tl: string, th: string): string =>
    `{ xl = ${tl}; xh = ${th}; xa = true; xr = ${retired}; break out; }`;
  // A branch back to the block's start loops when the budget allows (`COUNT`, the block's
  // length, is resolved once known), storing the flags `flags` unless the next pass
  // replaces them before anything sees them; else it leaves the block at its start.
  let loops = false;
  const self = (retired: number, flags: string): string => {
    loops = true;
    const again = g.entry === ENTRY_REPLACED ? "" : flags;
    return `{ n += ${retired}; if (n + ${COUNT} <= budget) { ${again} continue; } ${flags} xo = 0; xr = 0; break out; }`;
  };
  for (let k = 0; k < MAX_INSNS && !ended; k++) {
    if (p >= pageEnd) {
      stop = BlockStop.PageEnd;
      endBefore(k, p - pa);
      break;
    }
    if (dc.tag[p & DecodeCache.MASK] !== p || dc.mode[p & DecodeCache.MASK] !== c.modeKey) {
      if (dc.fill(c.bytes, p, pageEnd, c.codeSize) <= 0) {
        stop = BlockStop.Undecodable;
        endBefore(k, p - pa);
        break;
      }
    }
    const b = (p & DecodeCache.MASK) * F.SLOT;
    const pk = rec[b + F.PACK];
    const i: Insn = {
      op: pk & 0xff,
      len: (pk >> 8) & 15,
      osz: (pk >> 12) & 15,
      mem: pk >> 16,
      rec,
      b,
      off: p - pa,
    };
    // The decoder accepts lock only on the forms that take it (with a memory destination),
    // and one vCPU runs at a time: a locked form runs as the plain one.
    const pfx = rec[b + F.PFX] & (Pfx.REP | Pfx.REPNE);
    // f3/f2 select the operation of SSE ops (addss, movsd), which the helpers read, and
    // repeat movs/stos.
    const prefixed = HELPER_OPS.has(i.op) || i.op === O.MOVS || i.op === O.STOS;
    if (pfx !== 0 && i.op !== O.NOP && !prefixed) {
      stop = profileKey(rec, b, m32);
      endBefore(k, i.off);
      break;
    }
    const save = g.out.length;
    const saveFlags = g.flags;
    const savePending = g.pending;
    const saveUsed = g.used;
    const saveWritten = g.written;
    const saveEntry = g.entry;
    const hrecSave = hrec.length;
    g.emit(`k = ${k};`);
    // Set by a jmp or call the block follows: the offset it goes on at.
    let jumpTo: number | null = null;
    const afterStore = (): void => {
      g.emit(`if (FG[${mfn}] !== ${gen}) ${exitAt(k + 1, i.off + i.len)}`);
    };
    let ok = true;
    // Anything that may fault sees the flags of the instructions before it.
    if (i.mem !== 0 && i.op !== O.NOP && i.op !== O.LEA) g.flush();
    if (i.mem === RM_MOFFS && m32 && i.op === O.MOV) ok = emitMoffs32(g, i, k);
    else if (i.mem === 1 && i.op !== O.NOP) ok = emitEa(g, i, k);
    else if (i.mem !== 0 && i.op !== O.NOP) ok = false;
    if (ok) {
      switch (i.op) {
        case O.ADD:
        case O.OR:
        case O.AND:
        case O.SUB:
        case O.XOR:
        case O.CMP:
        case O.TEST:
          ok = emitAlu(g, i, k, afterStore);
          break;
        case O.MOV:
          ok = emitMov(g, i, k, afterStore);
          break;
        case O.MOVZX:
        case O.MOVSX:
        case O.MOVSXD:
          ok = emitMovx(g, i, k);
          break;
        case O.LEA: {
          const dst = field(i, F.X_DST);
          if (dst < 0 || dst >= 16 || i.osz < 4) ok = false;
          else
            g.emit(
              `${g.lo(dst, true)} = e${k}l; ${g.hi(dst, true)} = ${i.osz === 8 ? `e${k}h` : "0"};`,
            );
          break;
        }
        case O.NOP:
        case O.PREFETCH:
        case O.FENCE:
          // Hints and ordering: nothing to do for one vCPU at a time (as the interpreter).
          break;
        case O.PUSH:
        case O.POP:
          ok = emitStack(g, i, k, afterStore);
          break;
        case O.SETCC: {
          const dst = field(i, F.X_DST);
          if (dst !== L.MEM && !regOk(dst, 1)) {
            ok = false;
            break;
          }
          g.flush();
          const cond = condExpr(g, field(i, F.CC), k);
          if (dst >= 0) g.emit(writeRegStmt(g, dst, 1, `(${cond} ? 1 : 0)`));
          else {
            g.emit(memWrite(k, 1, `(${cond} ? 1 : 0)`, "0"));
            afterStore();
          }
          break;
        }
        case O.CMOVCC: {
          const dst = field(i, F.X_DST);
          if (dst < 0 || dst >= 16 || i.osz < 4) {
            ok = false;
            break;
          }
          g.flush();
          // The source is read (and may fault) whatever the condition.
          ok = readOperand(g, i, k, field(i, F.X_SRC), i.osz, `x${k}`);
          if (!ok) break;
          const cond = condExpr(g, field(i, F.CC), k);
          const l = g.lo(dst, true);
          const h = g.hi(dst, true);
          if (i.osz === 8) g.emit(`if (${cond}) { ${l} = x${k}; ${h} = x${k}h; }`);
          else g.emit(`if (${cond}) ${l} = x${k} | 0; ${h} = 0;`);
          break;
        }
        case O.INC:
        case O.DEC: {
          const dst = field(i, F.X_DST);
          if (dst === L.MEM || (i.osz < 4 && regOk(dst, i.osz))) {
            ok = emitIncDecEager(g, i, k, afterStore);
            break;
          }
          if (dst < 0 || dst >= 16 || i.osz < 4) {
            ok = false;
            break;
          }
          const inc = i.op === O.INC;
          if (g.flags.kind === -1 || (g.flags.kind === LZ.None && g.flags.fl === "")) g.flush();
          g.emit(`const f${k} = ${cfExpr(g)};`);
          const l = g.lo(dst, true);
          const h = g.hi(dst, true);
          g.emit(`const a${k} = ${l}, r${k} = (a${k} + ${inc ? 1 : -1}) | 0; ${l} = r${k};`);
          g.pending =
            `c.flags = (c.flags & -2) | f${k}; ` +
            `c.lz = ${inc ? LZ.Inc : LZ.Dec}; c.lzSz = ${i.osz}; c.lzA = a${k};` +
            (i.osz === 8 ? ` c.lzAh = ah${k};` : "");
          if (i.osz === 8) {
            g.emit(`const ah${k} = ${h};`);
            g.emit(
              `${h} = (ah${k} + ${inc ? `(r${k} === 0 ? 1 : 0)` : `(a${k} === 0 ? -1 : 0)`}) | 0;`,
            );
          } else g.emit(`${h} = 0;`);
          g.flags = {
            kind: inc ? LZ.Inc : LZ.Dec,
            sz: i.osz,
            a: `a${k}`,
            ah: i.osz === 8 ? `ah${k}` : "0",
            b: "",
            bh: "",
            cf: `f${k}`,
            fl: "",
          };
          break;
        }
        case O.IMUL2:
        case O.IMUL3: {
          const dst = field(i, F.X_DST);
          if (dst < 0 || dst >= 16 || i.osz < 4) {
            ok = false;
            break;
          }
          const sz = i.osz;
          if (i.op === O.IMUL2) {
            ok =
              readOperand(g, i, k, dst, sz, `x${k}`) &&
              readOperand(g, i, k, field(i, F.X_SRC), sz, `y${k}`);
            if (!ok) break;
            if (sz === 4) g.emit(`const x${k}h = 0, y${k}h = 0;`);
          } else {
            ok = readOperand(g, i, k, field(i, F.X_SRC), sz, `x${k}`);
            if (!ok) break;
            if (sz === 4) g.emit(`const x${k}h = 0;`);
            g.emit(`const y${k} = ${field(i, F.IMM_LO)}, y${k}h = ${field(i, F.IMM_HI)};`);
          }
          // imul replaces all six status flags: earlier pending stores are dead.
          g.emit(imulCode(sz, k));
          g.pending = `c.lz = 0; c.flags = (c.flags & -2262) | fl${k};`;
          g.emit(`${g.lo(dst, true)} = r${k}; ${g.hi(dst, true)} = ${sz === 8 ? `q${k}` : "0"};`);
          g.flags = computedFlags(`fl${k}`);
          break;
        }
        case O.SHL:
        case O.SHR:
        case O.SAR: {
          const dst = field(i, F.X_DST);
          const src = field(i, F.X_SRC);
          const count = field(i, F.IMM_LO) & (i.osz === 8 ? 63 : 31);
          if (dst < 0 || dst >= 16 || i.osz < 4 || src !== L.IMM || count === 0) {
            emitHelper(g, i, k, afterStore, hrec);
            break;
          }
          const l = g.lo(dst, true);
          const h = g.hi(dst, true);
          // A non-zero count replaces all six status flags: earlier pending stores are dead.
          g.emit(shiftCode(i.op, i.osz, count, l, h, k));
          g.pending = `c.lz = 0; c.flags = (c.flags & -2262) | fl${k};`;
          g.flags = computedFlags(`fl${k}`);
          break;
        }
        case O.NEG:
        case O.NOT:
          ok = emitNegNot(g, i, k, afterStore);
          break;
        case O.MUL:
        case O.IMUL1:
          if (i.osz === 4) ok = emitMul32(g, i, k);
          else emitHelper(g, i, k, afterStore, hrec);
          break;
        case O.CBW:
        case O.CWD:
          emitSignExtendAcc(g, i);
          break;
        case O.ADC:
        case O.SBB:
          ok = emitAdcSbb(g, i, k, afterStore);
          break;
        case O.MOVS:
        case O.STOS:
          ok = emitString(g, i, k);
          if (ok) {
            g.emit(exitAt(k + 1, i.off + i.len));
            ended = true;
            stop = BlockStop.StringOp;
          }
          break;
        case O.XCHG:
          ok = emitXchg(g, i, k, afterStore);
          break;
        case O.CLD:
        case O.STD:
          // DF is not one of the deferred flags: set it in place.
          g.emit(i.op === O.CLD ? "c.flags &= -1025;" : "c.flags |= 1024;");
          break;
        case O.CLC:
        case O.STC:
        case O.CMC:
          g.flush();
          g.emit(
            `materialize(c); c.flags ${i.op === O.CLC ? "&= -2" : i.op === O.STC ? "|= 1" : "^= 1"};`,
          );
          g.flags = { ...UNKNOWN, kind: LZ.None };
          break;
        // ---- control flow: each ends its block ----
        case O.JCC:
        case O.JMP:
        case O.CALL:
        case O.LOOP:
        case O.JRCXZ: {
          const next = i.off + i.len;
          const immLo = field(i, F.IMM_LO);
          const immHi = field(i, F.IMM_HI);
          const asz = field(i, F.ASZ);
          if ((i.op === O.LOOP || i.op === O.JRCXZ) && asz !== 8 && asz !== 4) {
            ok = false;
            break;
          }
          // A conditional branch decided from the last writer's operands leaves its flags
          // pending: the taken path stores them, the fall-through keeps them (a later
          // writer may drop them unstored).
          let exitFlags = "";
          if (i.op === O.JCC && !condReadsCpu(g.flags, field(i, F.CC))) exitFlags = g.pending;
          else g.flush();
          let cond = "true";
          if (i.op === O.JCC) cond = condExpr(g, field(i, F.CC), k);
          else if (i.op === O.JRCXZ)
            cond = asz === 8 ? `(${g.lo(1)} | ${g.hi(1)}) === 0` : `${g.lo(1)} === 0`;
          else if (i.op === O.LOOP) {
            const ext = field(i, F.X_EXT);
            // loopne/loope test ZF (loop writes no flag); the count drops first either way.
            if (ext !== 2) g.emit(`const z${k}x = ${condExpr(g, ext === 1 ? 4 : 5, k)};`);
            const l = g.lo(1, true);
            const h = g.hi(1, true);
            if (asz === 8) g.emit(`if (${l} === 0) ${h} = (${h} - 1) | 0; ${l} = (${l} - 1) | 0;`);
            else g.emit(`${l} = (${l} - 1) | 0; ${h} = 0;`);
            cond = asz === 8 ? `(${l} | ${h}) !== 0` : `${l} !== 0`;
            if (ext !== 2) cond += ` && z${k}x`;
          }
          // 32-bit code: eip wraps at 4 GiB; a 16-bit operand size (which truncates eip) is
          // left to the interpreter.
          // A direct jmp or call to another instruction of the block's frame (not its
          // first, which loops, nor one already in the block) does not end it: the block
          // goes on at the target, a call pushing its return address first.
          const to = next + immLo;
          const follow =
            (i.op === O.JMP || i.op === O.CALL) &&
            (m32 || immHi === immLo >> 31) &&
            pa + to >= (pa & -4096) &&
            pa + to < pageEnd &&
            to !== 0 &&
            !seen.has(to);
          if (m32 && i.op === O.CALL) {
            ok = emitBranch32(g, i, k, follow);
            if (ok && follow) jumpTo = to;
            else {
              ended = ok;
              stop = BlockStop.Branch;
            }
            break;
          }
          if (m32 && i.osz !== 4) {
            ok = false;
            break;
          }
          if (follow) {
            // Inside the frame, the target is canonical: no #GP to check.
            if (i.op === O.CALL) g.emit(pushReturn(g, k, next));
            jumpTo = to;
            break;
          }
          const loop = m32
            ? ((next + immLo) | 0) === 0
            : immHi === immLo >> 31 && next + immLo === 0;
          // The target (64-bit rip arithmetic; 32-bit code wraps it at 4 GiB).
          const far = m32
            ? `const t${k} = (ripLo + ${next + immLo}) | 0, th${k} = 0;`
            : `const s${k} = (ripLo >>> 0) + ${next}; const nh${k} = s${k} >= 4294967296 ? (ripHi + 1) | 0 : ripHi;` +
              ` const t${k} = (s${k} >>> 0) + ${immLo >>> 0}; const th${k} = (nh${k} + ${immHi} + (t${k} >= 4294967296 ? 1 : 0)) | 0;` +
              (i.op === O.JMP || i.op === O.CALL
                ? ` if (((th${k} << 16) >> 16) !== th${k}) c.gp0();`
                : "");
          const farExit = exitTo(k + 1, `t${k} | 0`, `th${k}`);
          if (i.op === O.CALL) {
            // #GP on the target comes before the push; then the return address is pushed.
            g.emit(far);
            g.emit(pushReturn(g, k, next));
            g.emit(farExit);
          } else {
            const taken = loop ? self(k + 1, exitFlags) : `{ ${exitFlags} ${far} ${farExit} }`;
            if (cond === "true") g.emit(taken);
            else {
              // A conditional branch leaves the block only when taken: the block goes on
              // with the fall-through path (a superblock), so a chain of not-taken
              // branches runs as one block instead of one block each.
              g.emit(`if (${cond}) ${taken}`);
              break;
            }
          }
          ended = true;
          stop = BlockStop.Branch;
          break;
        }
        case O.RET:
        case O.JMP_IND:
        case O.CALL_IND: {
          if (m32) {
            // 32-bit code: 4-byte slots through esp, eip wrapping at 4 GiB.
            ok = emitBranch32(g, i, k);
            ended = ok;
            stop = BlockStop.Branch;
            break;
          }
          if (i.osz !== 8) {
            ok = false;
            break;
          }
          g.flush();
          if (i.op === O.RET) {
            const sl = g.lo(4, true);
            const sh = g.hi(4, true);
            g.emit(`const e${k}l = ${sl}, e${k}h = ${sh};`);
            emitMemRead(g, k, 8, `x${k}`);
            g.emit(`if (((x${k}h << 16) >> 16) !== x${k}h) c.gp0();`);
            const imm = field(i, F.X_DST) === L.IMM ? field(i, F.IMM_LO) & 0xffff : 0;
            g.emit(
              `{ const s = (${sl} >>> 0) + ${8 + imm}; ${sl} = s | 0; if (s >= 4294967296) ${sh} = (${sh} + 1) | 0; }`,
            );
          } else {
            ok = readOperand(g, i, k, field(i, F.X_DST), 8, `x${k}`);
            if (!ok) break;
            g.emit(`if (((x${k}h << 16) >> 16) !== x${k}h) c.gp0();`);
            if (i.op === O.CALL_IND) {
              const next = i.off + i.len;
              g.emit(pushReturn(g, k, next));
            }
          }
          g.emit(exitTo(k + 1, `x${k}`, `x${k}h`));
          ended = true;
          stop = BlockStop.Branch;
          break;
        }
        default: {
          // SSE ops compiled inline (block-compiler-sse.ts), else the interpreter's helpers.
          const sse = emitSse(g, i, k, { afterStore, hrec, writeBack: WB, reload: RELOAD });
          if (sse === SseEmit.Flags) g.flags = { ...UNKNOWN, kind: LZ.None };
          if (sse !== SseEmit.No) break;
          if (HELPER_OPS.has(i.op)) emitHelper(g, i, k, afterStore, hrec);
          else ok = false;
        }
      }
    }
    if (!ok) {
      hrec.length = Math.min(hrec.length, hrecSave);
      g.out.length = save;
      g.flags = saveFlags;
      g.pending = savePending;
      g.used = saveUsed;
      g.written = saveWritten;
      g.entry = saveEntry;
      stop = profileKey(rec, b, m32);
      endBefore(k, i.off);
      break;
    }
    // The catch reads k only after a fault: an instruction that calls nothing that may
    // raise one (a memory access on the TLB's slow path, a helper) does not set it.
    if (!mayFault(g.out, save + 1)) g.out[save] = "";
    offs.push(i.off);
    lens.push(i.len);
    seen.add(i.off);
    dc.markBlock(p, p + i.len);
    p = jumpTo !== null ? pa + jumpTo : p + i.len;
  }
  const count = offs.length;
  if (count === 0) return null;
  if (!ended) endBefore(count, p - pa);
  let wb = "";
  let reload = "";
  let locals = "";
  for (let r = 0; r < 16; r++) {
    if ((g.written & (1 << r)) !== 0) wb += `R[${r}] = l${r}; H[${r}] = h${r}; `;
    if ((g.used & (1 << r)) !== 0) {
      reload += `l${r} = R[${r}]; h${r} = H[${r}]; `;
      locals += `let l${r} = R[${r}], h${r} = H[${r}];\n`;
    }
  }
  // One pass resolves the placeholders: loops back to the start, register write-back and
  // reload around helper calls.
  const body = g.out
    .join("\n")
    .replace(/\/\*(?:COUNT|WB|RELOAD)\*\//g, (m: string) =>
      m === COUNT ? `${count}` : m === WB ? wb : reload,
    );
  // The parentheses make V8 compile the block with its factory (an eagerly compiled
  // function expression) instead of pre-parsing it now and parsing it again at its first
  // call: about 30% less compile time per block.
  const src = [
    "return (function block(c, R, H, ripLo, ripHi, n, budget) {",
    locals,
    "const FG = c.dcache.frameGen;",
    "const TL = c.tlbLo, TH = c.tlbHi, TP = c.tlbPerm, TB = c.tlbBase;",
    "const MB = c.bytes, DV = c.view, RM = c.rMask, WM = c.wMask;",
    "let k = 0, xo = 0, xr = 0, xl = 0, xh = 0, xa = false;",
    "try {",
    loops ? "out: for (;;) {" : "out: {",
    body,
    "}",
    wb,
    "if (xa) { c.ripLo = xl; c.ripHi = xh; }",
    m32
      ? "else { c.ripLo = (ripLo + xo) | 0; c.ripHi = 0; }"
      : "else { const s = (ripLo >>> 0) + xo; c.ripLo = s | 0; c.ripHi = s >= 4294967296 ? (ripHi + 1) | 0 : ripHi; }",
    "return n + xr;",
    "} catch (e) {",
    wb,
    "c.ripLo = (ripLo + OFFS[k]) | 0; c.ripHi = ripHi;",
    "c.exit.instructionLength = LENS[k];",
    "c.blockRetired = n + k;",
    "throw e;",
    "}",
    "});",
  ].join("\n");
  // Instruction offsets below a frame's end from a frame-aligned rip never carry into ripHi.
  const factory = new Function(
    "OFFS",
    "LENS",
    "lazyCF",
    "condLazy",
    "imul",
    "PARITY",
    "mulhu32",
    "HREC",
    "vectorOp",
    "floatOp",
    "extOp",
    "x87Op",
    "eagerFlagsOp",
    "add",
    "sub",
    "add64",
    "sub64",
    "materialize",
    ...SSE_SCOPE,
    src,
  ) as (...a: unknown[]) => BlockFn;
  const fn = factory(
    Int32Array.from(offs),
    Int32Array.from(lens),
    lazyCF,
    condLazy,
    imul,
    PARITY,
    mulhu32,
    Int32Array.from(hrec),
    vectorOp,
    floatOp,
    extOp,
    x87Op,
    eagerFlagsOp,
    add,
    sub,
    add64,
    sub64,
    materialize,
    ...sseScope(c),
  );
  (m32 ? c.blocks32 : c.blocks).compiled++;
  return { fn, count, end: p - pa, stop };
}
