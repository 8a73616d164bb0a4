/**
 * The interpreter: fetch through the TLB, decode through the decode cache, and one `case`
 * per {@link Op}. Nothing in the loop allocates; a faulting instruction throws the shared
 * `FAULT` object, which the loop turns into an exception exit with rip on the instruction.
 *
 * Budget accounting: every retired instruction counts one, and so does every iteration of
 * a `rep` string instruction (so a long `rep movs` is interruptible and its cost is
 * visible in virtual time).
 *
 * @module
 */
import {
  MASK,
  PARITY,
  TF,
  add,
  add64,
  condLazy,
  divu128,
  imul,
  lazyCF,
  materialize,
  muls128,
  mulu128,
  shift,
  shift64,
  shiftDouble,
  shiftDouble64,
  sub,
  sub64,
} from "./alu.js";
import { Reg, Seg, Vector, X86ExitReason } from "./cpu-api.js";
import { type BlockCache, type BlockFn, compileBlock } from "./block-compiler.js";
import { profileKey } from "./exec-profile.js";
import { FAULT, type X86Cpu } from "./cpu.js";
import { Dr6, Dr7, executeDebug, mergeDr6 } from "./debug.js";
import { DecodeCache } from "./decode-cache.js";
import { decodeInsn, newInsnRecord } from "./decode.js";
import {
  cacheFlat,
  cacheSegment,
  checkReturnStack,
  checkSegmentLimit,
  farReturnTarget,
  farTarget,
  loadSegment,
  probeSelector,
  stackBigOf,
} from "./segment.js";
import { fpuStateOp } from "./fpu.js";
import { Pfx } from "./insn.js";
import { FarOp, LegacyOp } from "./ops.js";
import { Access, CR0_PG } from "./paging.js";
import { vectorOp } from "./simd.js";
import { floatOp } from "./simd-float.js";
import { extOp } from "./simd-ext.js";
import { x87Op } from "./x87.js";
import { OpMap, TABLE } from "./table.js";

// The switch and the record reads use literal constants: V8 then compiles the dispatch to
// a jump table instead of a chain of property loads. execute.test.ts checks every value
// below against Op, D and decode-cache.ts.

/** Mirror of the `Op` enum (ops.ts). */
export const enum O {
  INVALID = 0,
  ADD = 1,
  OR = 2,
  ADC = 3,
  SBB = 4,
  AND = 5,
  SUB = 6,
  XOR = 7,
  CMP = 8,
  TEST = 9,
  INC = 10,
  DEC = 11,
  NEG = 12,
  NOT = 13,
  ROL = 14,
  ROR = 15,
  RCL = 16,
  RCR = 17,
  SHL = 18,
  SHR = 19,
  SAR = 20,
  SHLD = 21,
  SHRD = 22,
  MUL = 23,
  IMUL1 = 24,
  IMUL2 = 25,
  IMUL3 = 26,
  DIV = 27,
  IDIV = 28,
  BT = 29,
  BTS = 30,
  BTR = 31,
  BTC = 32,
  BSF = 33,
  BSR = 34,
  BSWAP = 35,
  POPCNT = 36,
  TZCNT = 37,
  LZCNT = 38,
  SETCC = 39,
  CMOVCC = 40,
  JCC = 41,
  JMP = 42,
  JMP_IND = 43,
  CALL = 44,
  CALL_IND = 45,
  RET = 46,
  RET_FAR = 47,
  LOOP = 48,
  JRCXZ = 49,
  MOV = 50,
  MOVZX = 51,
  MOVSX = 52,
  MOVSXD = 53,
  LEA = 54,
  XCHG = 55,
  CMPXCHG = 56,
  CMPXCHG16B = 57,
  XADD = 58,
  PUSH = 59,
  POP = 60,
  PUSHF = 61,
  POPF = 62,
  ENTER = 63,
  LEAVE = 64,
  CBW = 65,
  CWD = 66,
  MOV_SREG = 67,
  LAHF = 68,
  SAHF = 69,
  MOVS = 70,
  CMPS = 71,
  STOS = 72,
  LODS = 73,
  SCAS = 74,
  INS = 75,
  OUTS = 76,
  CLC = 77,
  STC = 78,
  CMC = 79,
  CLD = 80,
  STD = 81,
  CLI = 82,
  STI = 83,
  NOP = 84,
  CPUID = 85,
  RDTSC = 86,
  RDTSCP = 87,
  SYSCALL = 88,
  SYSRET = 89,
  IRET = 90,
  INT = 91,
  INT3 = 92,
  INTO = 93,
  UD2 = 94,
  HLT = 95,
  IN = 96,
  OUT = 97,
  RDMSR = 98,
  WRMSR = 99,
  MOV_CR = 100,
  MOV_DR = 101,
  SYSDESC = 102,
  INVLPG = 103,
  SWAPGS = 104,
  FSGSBASE = 105,
  CLTS = 106,
  WBINVD = 107,
  FENCE = 108,
  XLAT = 109,
  FXSTATE = 110,
  PREFETCH = 111,
  VMCALL = 112,
  FWAIT = 113,
  EMMS = 114,
  XCR = 115,
  VMOV = 116,
  VMOVD = 117,
  VMOVQ = 118,
  VMOVS = 119,
  VMOVLH = 120,
  VMOVMSK = 121,
  VMASKMOV = 122,
  PEXTRW = 123,
  PINSRW = 124,
  PAND = 125,
  PANDN = 126,
  POR = 127,
  PXOR = 128,
  PADD = 129,
  PADDS = 130,
  PADDUS = 131,
  PSUB = 132,
  PSUBS = 133,
  PSUBUS = 134,
  PCMPEQ = 135,
  PCMPGT = 136,
  PMINU = 137,
  PMAXU = 138,
  PMINS = 139,
  PMAXS = 140,
  PAVG = 141,
  PMULL = 142,
  PMULH = 143,
  PMULHU = 144,
  PMULUDQ = 145,
  PMADDWD = 146,
  PSADBW = 147,
  PSLL = 148,
  PSRL = 149,
  PSRA = 150,
  PSLLDQ = 151,
  PSRLDQ = 152,
  PSHUFD = 153,
  PSHUFLW = 154,
  PSHUFHW = 155,
  PSHUFW = 156,
  PUNPCKL = 157,
  PUNPCKH = 158,
  PACKSS = 159,
  PACKUS = 160,
  SHUF = 161,
  FARITH = 162,
  FCMP = 163,
  FCOMI = 164,
  FAPPROX = 165,
  FCVT = 166,
  FROUND = 167,
  VEXT = 168,
  PCMPSTR = 169,
  CRC32 = 170,
  X87 = 171,
  LEGACY = 172,
  FAR = 173,
}

/** Mirror of the record layout: `D` (insn.ts) and the decode cache's `X_*` fields. */
export const enum F {
  ROW = 0,
  OP = 1,
  LEN = 2,
  OSZ = 3,
  ASZ = 4,
  PFX = 5,
  SEG = 6,
  REG = 7,
  RM_MEM = 8,
  BASE = 9,
  INDEX = 10,
  SCALE = 11,
  DISP = 12,
  IMM_LO = 13,
  IMM_HI = 14,
  IMM2 = 15,
  CC = 16,
  X_DST = 20,
  X_SRC = 21,
  X_AUX = 22,
  X_EXT = 23,
  PACK = 24,
  EA = 25,
  SLOT = 26,
}

/** Mirror of the decode cache's operand locations (LOC_*) and RM_MOFFS. */
export const enum L {
  MEM = -1,
  IMM = -2,
  NONE = -3,
  SPECIAL = -4,
  MOFFS = 2,
}

/** Mirror of alu.ts `Lazy`. */
export const enum LZ {
  None = 0,
  Add = 1,
  Sub = 2,
  Logic = 3,
  Inc = 4,
  Dec = 5,
}

/** Segment numbers (`Seg.FS`, `Seg.GS`) and `BASE_RIP` (insn.ts) as literals. */
export const enum S {
  FS = 4,
  GS = 5,
  BASE_RIP = 16,
}

/** RFLAGS bits (alu.ts) and table masks (paging.ts `TLB_MASK`, `DecodeCache.MASK`) as literals. */
export const enum K {
  CF = 0x1,
  PF = 0x4,
  AF = 0x10,
  ZF = 0x40,
  SF = 0x80,
  IF = 0x200,
  DF = 0x400,
  OF = 0x800,
  IOPL = 0x3000,
  STATUS = 0x8d5,
  TLB_MASK = 4095,
  DC_MASK = 32767,
}

const TWO32 = 4294967296;
/** CR4.DE: DR4/DR5 are #UD instead of aliases of DR6/DR7. */
const CR4_DE = 0x8;
/** The table row of `icebp` / `int1` (F1). */
const INT1_ROW = TABLE.findIndex((r) => r.map === OpMap.Primary && r.opcode === 0xf1);

const DC_SCRATCH = DecodeCache.SCRATCH;
/** RFLAGS bits popf/iret may change at CPL 0 (IF and IOPL further limited by CPL). */
const POPF_MASK =
  K.CF |
  K.PF |
  K.AF |
  K.ZF |
  K.SF |
  0x100 |
  K.IF |
  K.DF |
  K.OF |
  K.IOPL |
  0x4000 |
  0x40000 |
  0x200000;

// ---- operand access ----

function readReg(c: X86Cpu, r: number, sz: number): number {
  const R = c.regLo;
  switch (sz) {
    case 1:
      return r < 16 ? R[r] & 0xff : (R[r - 20] >>> 8) & 0xff;
    case 2:
      return R[r] & 0xffff;
    case 4:
      return R[r] >>> 0;
    default:
      c.hi = c.regHi[r];
      return R[r];
  }
}

function writeReg(c: X86Cpu, r: number, sz: number, v: number, vhi: number): void {
  const R = c.regLo;
  switch (sz) {
    case 1:
      if (r < 16) R[r] = (R[r] & ~0xff) | (v & 0xff);
      else R[r - 20] = (R[r - 20] & ~0xff00) | ((v & 0xff) << 8);
      return;
    case 2:
      R[r] = (R[r] & ~0xffff) | (v & 0xffff);
      return;
    case 4:
      R[r] = v;
      c.regHi[r] = 0;
      return;
    default:
      R[r] = v;
      c.regHi[r] = vhi;
  }
}

/** Value of operand `loc` (unsigned for sizes 1–4; for 8 the low half, high in c.hi). */
function get(
  c: X86Cpu,
  loc: number,
  sz: number,
  eLo: number,
  eHi: number,
  rec: Int32Array,
  b: number,
): number {
  if (loc >= 0) return readReg(c, loc, sz);
  if (loc === L.MEM) {
    switch (sz) {
      case 1:
        return c.rd8(eLo, eHi);
      case 2:
        return c.rd16(eLo, eHi);
      case 4:
        return c.rd32(eLo, eHi);
      default:
        return c.rd64(eLo, eHi);
    }
  }
  if (sz === 8) {
    c.hi = rec[b + F.IMM_HI];
    return rec[b + F.IMM_LO];
  }
  return (rec[b + F.IMM_LO] & MASK[sz]) >>> 0;
}

function put(
  c: X86Cpu,
  loc: number,
  sz: number,
  eLo: number,
  eHi: number,
  v: number,
  vhi: number,
): void {
  if (loc >= 0) writeReg(c, loc, sz, v, vhi);
  else c.wr(eLo, eHi, sz, v, vhi);
}

function push(c: X86Cpu, sz: number, v: number, vhi: number): void {
  if (c.stackSize !== 8) {
    pushCompat(c, sz, v);
    return;
  }
  const R = c.regLo,
    H = c.regHi;
  const l = (R[4] - sz) | 0;
  const h = l >>> 0 > R[4] >>> 0 ? (H[4] - 1) | 0 : H[4];
  c.wr(l, h, sz, v, vhi);
  R[4] = l;
  H[4] = h;
}

/** Reads the value at the stack top (size `sz`) without moving rsp. */
function peek(c: X86Cpu, sz: number, off: number): number {
  const R = c.regLo;
  if (c.stackSize !== 8) {
    const sp = c.stackSize === 4 ? (R[4] + off) | 0 : (R[4] + off) & 0xffff;
    if ((c.segCheck & 4) !== 0) checkSegmentLimit(c, Seg.SS, sp, sz);
    return c.rd((sp + c.segBase[2]) | 0, 0, sz);
  }
  const l = (R[4] + off) | 0;
  const h = l >>> 0 < R[4] >>> 0 ? (c.regHi[4] + 1) | 0 : c.regHi[4];
  return c.rd(l, h, sz);
}

function addRsp(c: X86Cpu, n: number): void {
  const R = c.regLo;
  if (c.stackSize !== 8) {
    R[4] = c.stackSize === 4 ? (R[4] + n) | 0 : (R[4] & ~0xffff) | ((R[4] + n) & 0xffff);
    c.regHi[4] = 0;
    return;
  }
  const s = (R[4] >>> 0) + n;
  R[4] = s | 0;
  if (s >= TWO32) c.regHi[4] = (c.regHi[4] + 1) | 0;
}

/** push outside 64-bit mode: esp or sp (SS.B), wrapping within it, plus the SS base. */
function pushCompat(c: X86Cpu, sz: number, v: number): void {
  const R = c.regLo;
  const sp = c.stackSize === 4 ? (R[4] - sz) | 0 : (R[4] - sz) & 0xffff;
  if ((c.segCheck & 4) !== 0) checkSegmentLimit(c, Seg.SS, sp, sz);
  c.wr((sp + c.segBase[2]) | 0, 0, sz, v, 0);
  R[4] = c.stackSize === 4 ? sp : (R[4] & ~0xffff) | sp;
  c.regHi[4] = 0;
}

/**
 * push of a segment register: the stack pointer moves by the operand size, but Intel
 * processors write only the selector's 16 bits (SDM PUSH: "all recent Core and Atom
 * processors perform a 16-bit move, leaving the upper portion of the stack location
 * unmodified").
 */
function pushSelector(c: X86Cpu, sz: number, sel: number): void {
  const R = c.regLo,
    H = c.regHi;
  if (c.stackSize !== 8) {
    const sp = c.stackSize === 4 ? (R[4] - sz) | 0 : (R[4] - sz) & 0xffff;
    if ((c.segCheck & 4) !== 0) checkSegmentLimit(c, Seg.SS, sp, 2);
    c.wr16((sp + c.segBase[2]) | 0, 0, sel);
    R[4] = c.stackSize === 4 ? sp : (R[4] & ~0xffff) | sp;
    H[4] = 0;
    return;
  }
  const l = (R[4] - sz) | 0;
  const h = l >>> 0 > R[4] >>> 0 ? (H[4] - 1) | 0 : H[4];
  c.wr16(l, h, sel);
  R[4] = l;
  H[4] = h;
}

function canonical(hi: number): boolean {
  return (hi << 16) >> 16 === hi;
}

/** Negates the 128-bit value in w[0..3]. */
function neg128(w: Int32Array): void {
  let carry = 1;
  for (let k = 0; k < 4; k++) {
    const s = (~w[k] >>> 0) + carry;
    w[k] = s | 0;
    carry = s >= TWO32 ? 1 : 0;
  }
}

/** Fetches and decodes the instruction at machine address `pa` (virtual rip lo/hi). */
function fetchDecode(c: X86Cpu, pa: number, ripLo: number, ripHi: number): number {
  const bytes = c.bytes;
  const pageEnd = Math.min(pa - (pa % 4096) + 4096, bytes.length);
  const r = c.dcache.fill(bytes, pa, pageEnd, c.codeSize);
  if (r > 0) return pa & K.DC_MASK;
  if (r < 0) c.raise(Vector.UD, -1);
  // The instruction continues on the next page: decode a copy, do not cache it.
  const buf = c.fetchBuf;
  const k = pageEnd - pa;
  for (let i = 0; i < k; i++) buf[i] = bytes[pa + i];
  const nl = ((ripLo & -4096) + 4096) | 0;
  // Outside 64-bit mode eip wraps at 4 GiB: the bytes after 0xffffffff are at 0.
  const nh = nl === 0 && c.codeSize === 64 ? (ripHi + 1) | 0 : ripHi;
  const pa2 = c.addr(nl, nh, Access.Exec);
  for (let i = k; i < 15; i++) buf[i] = pa2 + i - k < bytes.length ? bytes[pa2 + i - k] : 0;
  const r2 = c.dcache.fillScratch(buf, 15, c.codeSize);
  if (r2 <= 0) c.raise(Vector.UD, -1);
  return DC_SCRATCH;
}

/**
 * Instructions per call of {@link slice}: the interpreter loop is entered often, so V8
 * optimises it at function entry (not only by on-stack replacement) and re-optimises it
 * soon after a deoptimisation instead of running a whole `run` in the bytecode interpreter.
 */
const SLICE = 4096;

/**
 * Runs `c` until `budget` instructions retire or an exit happens.
 * @returns the exit reason (details in `c.exit`).
 */
export function execute(c: X86Cpu, budget: number): X86ExitReason {
  let done = 0;
  for (;;) {
    if (c.debugActive || (c.flags & TF) !== 0 || c.pendingDb !== 0) {
      // Breakpoints armed or single-stepping: one instruction at a time (debug.ts).
      const r = executeDebug(c, budget, done, slice);
      done = c.exit.retired;
      if (r !== X86ExitReason.Budget || done >= budget) return r;
    }
    const limit = budget - done > SLICE ? done + SLICE : budget;
    const r = slice(c, done, limit, budget);
    done = c.exit.retired;
    if (r !== X86ExitReason.Budget || done >= budget) return r;
  }
}

/**
 * Runs `c` from `start` retired instructions until `limit` (counted from the run's start):
 * instructions start while fewer than `limit` have retired, and none retires past `budget`
 * (at least `limit`): compiled blocks and repeated string instructions run on to it, so the
 * slice's end does not cut them short.
 */
function slice(c: X86Cpu, start: number, limit: number, budget = limit): X86ExitReason {
  const rec = c.dcache.recs;
  const tag = c.dcache.tag;
  const dmode = c.dcache.mode;
  // The code size is fixed for a slice: instructions that change it end the slice.
  const mk = c.modeKey;
  const m32 = mk !== 0;
  const R = c.regLo;
  const H = c.regHi;
  const tlbLo = c.tlbLo;
  const tlbHi = c.tlbHi;
  const tlbPerm = c.tlbPerm;
  const tlbBase = c.tlbBase;
  const exit = c.exit;
  exit.software = false;
  exit.forced = false;
  c.nonCanonicalData = false;
  exit.errorCode = -1;
  exit.vector = 0;
  exit.instructionLength = 0;
  let n = start;
  let curLo = c.ripLo;
  let curHi = c.ripHi;
  // rip lives in these locals during the run; c.ripLo/c.ripHi are written on the way out.
  let rLo = curLo;
  let rHi = curHi;
  let len = 0;
  let reason = X86ExitReason.Budget;
  // Machine address of the next instruction when it is known to be on the page just
  // fetched from (a fall-through or a branch within the page), else −1 (look up the TLB).
  let fpa = -1;
  // 32-bit code has blocks of its own; 16-bit code is never compiled.
  const blocks = m32 ? c.blocks32 : c.blocks;
  const bTag = blocks.tag;
  const bGen = blocks.gen;
  const bFns = blocks.fns;
  const bCount = blocks.count;
  const bHeat = blocks.heat;
  const bStrikes = blocks.strikes;
  const fGen = c.dcache.frameGen;
  const threshold = c.blockThreshold;
  let inBlock = false;
  // Execution profile (exec-profile.ts), null unless one runs: one null test per instruction.
  const prof = c.profile;
  // esp before the current instruction, while CS's limit is checked (32/16-bit code).
  let spBefore = 0;
  try {
    loop: while (n < limit) {
      const ripLo = rLo;
      const ripHi = rHi;
      curLo = ripLo;
      curHi = ripHi;
      len = 0;
      let pa = fpa;
      let samePage = true;
      if (pa < 0) {
        const ti = (ripLo >>> 12) & K.TLB_MASK;
        if (tlbLo[ti] === (ripLo & -4096) && tlbHi[ti] === ripHi && (tlbPerm[ti] & c.xMask) !== 0) {
          pa = tlbBase[ti] | (ripLo & 4095);
        } else {
          pa = c.addr(ripLo, ripHi, Access.Exec) | 0;
        }
      }
      let ci = pa & K.DC_MASK;
      if (tag[ci] !== pa || dmode[ci] !== mk) ci = fetchDecode(c, pa, ripLo, ripHi);
      if (
        ci === DC_SCRATCH ||
        (m32 && (mk !== 1 || (c.segBaseMask | (c.segCheck & 15)) !== 0 || c.stackSize !== 4))
      ) {
        // Straddles a page boundary, or 16-bit code, or 32-bit code whose ES, CS, SS or DS
        // has a base or a limit below 4 GiB, or whose stack is 16-bit: never compiled
        // (compiled 32-bit code takes them flat).
      } else {
        if (bTag[ci] !== pa || bGen[ci] !== fGen[pa >>> 12]) {
          if (bTag[ci] === pa) {
            // Stale: its code was written. Each time, wait twice as long before compiling again.
            bTag[ci] = -1;
            bHeat[ci] = 0;
            if (bStrikes[ci] < 8) bStrikes[ci]++;
          }
          const due = threshold << bStrikes[ci];
          if (threshold >= 0 && bHeat[ci] >= (due > 65535 ? 65535 : due)) {
            const blk = compileBlock(c, pa);
            bTag[ci] = pa;
            bGen[ci] = fGen[pa >>> 12];
            bFns[ci] = blk === null ? null : blk.fn;
            bCount[ci] = blk === null ? 0 : blk.count;
            bHeat[ci] = 0;
            if (prof !== null && blk !== null) prof.compiledBlock(ci, blk.end, blk.stop);
          } else if (bHeat[ci] < 65535) bHeat[ci]++;
        }
        if (bTag[ci] === pa) {
          const fn = bFns[ci];
          if (fn !== null && n + bCount[ci] <= budget && !c.stepping) {
            inBlock = true;
            n = runBlocks(c, blocks, fn, ci, ripLo, ripHi, n, budget);
            inBlock = false;
            rLo = c.ripLo;
            rHi = c.ripHi;
            fpa = -1;
            continue;
          }
          if (prof !== null && fn !== null) prof.notEntered();
          // Compiling may have refilled this slot (a fetch that maps onto it).
          if (tag[ci] !== pa || dmode[ci] !== mk) ci = fetchDecode(c, pa, ripLo, ripHi);
        }
      }
      const b = ci * F.SLOT;
      const pk = rec[b + F.PACK];
      const op = pk & 0xff;
      len = (pk >> 8) & 15;
      if (prof !== null) prof.interpret(profileKey(rec, b, m32), n);
      // Outside 64-bit mode every byte of an instruction lies within CS's limit, else #GP(0)
      // (Intel SDM vol. 3A, 5.3 "Limit Checking").
      if (m32 && (c.segCheck & 2) !== 0) {
        checkSegmentLimit(c, Seg.CS, ripLo, len);
        spBefore = R[4];
      }
      const osz = (pk >> 12) & 15;
      let nLo = (ripLo + len) | 0;
      let nHi = ripHi;
      if (nLo >>> 0 < ripLo >>> 0 && !m32) nHi = (nHi + 1) | 0;
      let eLo = 0;
      let eHi = 0;
      const mm = pk >> 16;
      if (mm !== 0) {
        if (mm === L.MOFFS) {
          eLo = rec[b + F.IMM_LO];
          eHi = rec[b + F.ASZ] === 4 ? 0 : rec[b + F.IMM_HI];
          const sg = rec[b + F.SEG];
          if (sg === S.FS || sg === S.GS) {
            const s = (eLo >>> 0) + ((sg === S.FS ? c.fsLo : c.gsLo) >>> 0);
            eLo = s | 0;
            eHi = (eHi + (sg === S.FS ? c.fsHi : c.gsHi) + (s >= TWO32 ? 1 : 0)) | 0;
          }
          if (m32) {
            eHi = 0;
            if ((c.segBaseMask | c.segCheck) !== 0)
              eLo = compatLinear(c, sg < 0 ? Seg.DS : sg, eLo, osz);
          }
        } else {
          eLo = rec[b + F.DISP];
          eHi = eLo >> 31;
          const ea = rec[b + F.EA];
          const base = ea & 31;
          if (base !== 31) {
            let bl: number, bh: number;
            if (base === S.BASE_RIP) {
              bl = nLo;
              bh = nHi;
            } else {
              bl = R[base];
              bh = H[base];
            }
            const s = (eLo >>> 0) + (bl >>> 0);
            eLo = s | 0;
            eHi = (eHi + bh + (s >= TWO32 ? 1 : 0)) | 0;
          }
          const idx = (ea >> 5) & 31;
          if (idx !== 31) {
            const sc = (ea >> 10) & 3;
            const il = R[idx];
            const xl = il << sc;
            const xh = sc === 0 ? H[idx] : (H[idx] << sc) | (il >>> (32 - sc));
            const s = (eLo >>> 0) + (xl >>> 0);
            eLo = s | 0;
            eHi = (eHi + xh + (s >= TWO32 ? 1 : 0)) | 0;
          }
          if ((ea & 0x1000) === 0) eHi = 0;
          if ((ea & 0x10000) !== 0) eLo &= 0xffff;
          const sg = (ea >> 13) & 7;
          if ((sg === S.FS || sg === S.GS) && op !== O.LEA) {
            const s = (eLo >>> 0) + ((sg === S.FS ? c.fsLo : c.gsLo) >>> 0);
            eLo = s | 0;
            eHi = (eHi + (sg === S.FS ? c.fsHi : c.gsHi) + (s >= TWO32 ? 1 : 0)) | 0;
          }
          if (m32) {
            // Compatibility mode: 32-bit linear addresses; ES/CS/SS/DS bases and all limits apply.
            eHi = 0;
            if ((c.segBaseMask | c.segCheck) !== 0 && op !== O.LEA && op !== O.NOP)
              eLo = compatLinear(c, sg !== 7 ? sg : base === 4 || base === 5 ? 2 : 3, eLo, osz);
          }
        }
      }

      switch (op) {
        case O.ADD:
        case O.OR:
        case O.ADC:
        case O.SBB:
        case O.AND:
        case O.SUB:
        case O.XOR:
        case O.CMP:
        case O.TEST: {
          const dst = rec[b + F.X_DST];
          const src = rec[b + F.X_SRC];
          const writes = op !== O.CMP && op !== O.TEST;
          if (dst >= 0 && src !== L.MEM && osz >= 4) {
            // Fast path: register destination, register or immediate source, 32/64 bits.
            const bl = src >= 0 ? R[src] : rec[b + F.IMM_LO];
            if (op === O.ADC || op === O.SBB) {
              // Carry in: computed eagerly.
              materialize(c);
              const cin = c.flags & K.CF;
              if (osz === 8) {
                const bh = src >= 0 ? H[src] : rec[b + F.IMM_HI];
                const r =
                  op === O.ADC
                    ? add64(c, R[dst], H[dst], bl, bh, cin)
                    : sub64(c, R[dst], H[dst], bl, bh, cin);
                R[dst] = r;
                H[dst] = c.hi;
              } else {
                R[dst] =
                  op === O.ADC
                    ? add(c, R[dst] >>> 0, bl >>> 0, cin, 4)
                    : sub(c, R[dst] >>> 0, bl >>> 0, cin, 4);
                H[dst] = 0;
              }
              break;
            }
            const al = R[dst];
            if (osz === 8) {
              const bh = src >= 0 ? H[src] : rec[b + F.IMM_HI];
              const ah = H[dst];
              let r: number, rh: number, k: number;
              switch (op) {
                case O.ADD: {
                  const l = (al >>> 0) + (bl >>> 0);
                  r = l | 0;
                  rh = (ah + bh + (l > 0xffffffff ? 1 : 0)) | 0;
                  k = LZ.Add;
                  break;
                }
                case O.SUB:
                case O.CMP:
                  r = (al - bl) | 0;
                  rh = (ah - bh - (al >>> 0 < bl >>> 0 ? 1 : 0)) | 0;
                  k = LZ.Sub;
                  break;
                case O.OR:
                  r = al | bl;
                  rh = ah | bh;
                  k = LZ.Logic;
                  break;
                case O.XOR:
                  r = al ^ bl;
                  rh = ah ^ bh;
                  k = LZ.Logic;
                  break;
                default:
                  r = al & bl;
                  rh = ah & bh;
                  k = LZ.Logic;
                  break;
              }
              c.lz = k;
              c.lzSz = 8;
              if (k === LZ.Logic) {
                c.lzA = r;
                c.lzAh = rh;
              } else {
                c.lzA = al;
                c.lzAh = ah;
                c.lzB = bl;
                c.lzBh = bh;
              }
              if (writes) {
                R[dst] = r;
                H[dst] = rh;
              }
            } else {
              let r: number, k: number;
              switch (op) {
                case O.ADD:
                  r = (al + bl) | 0;
                  k = LZ.Add;
                  break;
                case O.SUB:
                case O.CMP:
                  r = (al - bl) | 0;
                  k = LZ.Sub;
                  break;
                case O.OR:
                  r = al | bl;
                  k = LZ.Logic;
                  break;
                case O.XOR:
                  r = al ^ bl;
                  k = LZ.Logic;
                  break;
                default:
                  r = al & bl;
                  k = LZ.Logic;
                  break;
              }
              c.lz = k;
              c.lzSz = 4;
              if (k === LZ.Logic) c.lzA = r;
              else {
                c.lzA = al;
                c.lzB = bl;
              }
              if (writes) {
                R[dst] = r;
                H[dst] = 0;
              }
            }
            break;
          }
          if (dst === L.MEM && writes) c.probeWrite(eLo, eHi, osz);
          if (op === O.ADC || op === O.SBB) {
            materialize(c);
            const cin = c.flags & K.CF;
            if (osz === 8) {
              const al = get(c, dst, 8, eLo, eHi, rec, b);
              const ah = c.hi;
              const bl = get(c, src, 8, eLo, eHi, rec, b);
              const bh = c.hi;
              const r =
                op === O.ADC ? add64(c, al, ah, bl, bh, cin) : sub64(c, al, ah, bl, bh, cin);
              put(c, dst, 8, eLo, eHi, r, c.hi);
            } else {
              const a = get(c, dst, osz, eLo, eHi, rec, b);
              const v = get(c, src, osz, eLo, eHi, rec, b);
              put(
                c,
                dst,
                osz,
                eLo,
                eHi,
                op === O.ADC ? add(c, a, v, cin, osz) : sub(c, a, v, cin, osz),
                0,
              );
            }
            break;
          }
          // General operand forms, flags deferred like the fast path.
          if (osz === 8) {
            const al = get(c, dst, 8, eLo, eHi, rec, b);
            const ah = c.hi;
            const bl = get(c, src, 8, eLo, eHi, rec, b);
            const bh = c.hi;
            let r: number, rh: number, k: number;
            switch (op) {
              case O.ADD: {
                const l = (al >>> 0) + (bl >>> 0);
                r = l | 0;
                rh = (ah + bh + (l > 0xffffffff ? 1 : 0)) | 0;
                k = LZ.Add;
                break;
              }
              case O.SUB:
              case O.CMP:
                r = (al - bl) | 0;
                rh = (ah - bh - (al >>> 0 < bl >>> 0 ? 1 : 0)) | 0;
                k = LZ.Sub;
                break;
              case O.OR:
                r = al | bl;
                rh = ah | bh;
                k = LZ.Logic;
                break;
              case O.XOR:
                r = al ^ bl;
                rh = ah ^ bh;
                k = LZ.Logic;
                break;
              default:
                r = al & bl;
                rh = ah & bh;
                k = LZ.Logic;
                break;
            }
            if (writes) put(c, dst, 8, eLo, eHi, r, rh);
            c.lz = k;
            c.lzSz = 8;
            if (k === LZ.Logic) {
              c.lzA = r;
              c.lzAh = rh;
            } else {
              c.lzA = al;
              c.lzAh = ah;
              c.lzB = bl;
              c.lzBh = bh;
            }
          } else {
            const a = get(c, dst, osz, eLo, eHi, rec, b);
            const v = get(c, src, osz, eLo, eHi, rec, b);
            let r: number, k: number;
            switch (op) {
              case O.ADD:
                r = a + v;
                k = LZ.Add;
                break;
              case O.SUB:
              case O.CMP:
                r = a - v;
                k = LZ.Sub;
                break;
              case O.OR:
                r = a | v;
                k = LZ.Logic;
                break;
              case O.XOR:
                r = a ^ v;
                k = LZ.Logic;
                break;
              default:
                r = a & v;
                k = LZ.Logic;
                break;
            }
            r = (r & MASK[osz]) >>> 0;
            if (writes) put(c, dst, osz, eLo, eHi, r, 0);
            c.lz = k;
            c.lzSz = osz;
            if (k === LZ.Logic) c.lzA = r;
            else {
              c.lzA = a;
              c.lzB = v;
            }
          }
          break;
        }
        case O.INC:
        case O.DEC:
        case O.NEG:
        case O.NOT: {
          const dst = rec[b + F.X_DST];
          if (op === O.INC || op === O.DEC) {
            const cf = lazyCF(c);
            c.flags = (c.flags & ~K.CF) | cf;
            if (dst >= 0 && osz >= 4) {
              // Fast path: register inc/dec with deferred flags (CF kept in flags).
              const al = R[dst];
              const d = op === O.INC ? 1 : -1;
              const r = (al + d) | 0;
              c.lz = op === O.INC ? LZ.Inc : LZ.Dec;
              c.lzSz = osz;
              c.lzA = al;
              R[dst] = r;
              if (osz === 8) {
                c.lzAh = H[dst];
                H[dst] = (H[dst] + (op === O.INC ? (r === 0 ? 1 : 0) : al === 0 ? -1 : 0)) | 0;
              } else H[dst] = 0;
              break;
            }
          }
          materialize(c);
          if (dst === L.MEM) c.probeWrite(eLo, eHi, osz);
          const keep = c.flags & K.CF;
          if (osz === 8) {
            const al = get(c, dst, 8, eLo, eHi, rec, b);
            const ah = c.hi;
            let r: number;
            if (op === O.INC) {
              r = add64(c, al, ah, 1, 0, 0);
              c.flags = (c.flags & ~K.CF) | keep;
            } else if (op === O.DEC) {
              r = sub64(c, al, ah, 1, 0, 0);
              c.flags = (c.flags & ~K.CF) | keep;
            } else if (op === O.NEG) r = sub64(c, 0, 0, al, ah, 0);
            else {
              r = ~al;
              c.hi = ~ah;
            }
            put(c, dst, 8, eLo, eHi, r, c.hi);
          } else {
            const a = get(c, dst, osz, eLo, eHi, rec, b);
            let r: number;
            if (op === O.INC) {
              r = add(c, a, 1, 0, osz);
              c.flags = (c.flags & ~K.CF) | keep;
            } else if (op === O.DEC) {
              r = sub(c, a, 1, 0, osz);
              c.flags = (c.flags & ~K.CF) | keep;
            } else if (op === O.NEG) r = sub(c, 0, a, 0, osz);
            else r = (~a & MASK[osz]) >>> 0;
            put(c, dst, osz, eLo, eHi, r, 0);
          }
          break;
        }
        case O.IMUL2:
        case O.IMUL3: {
          // mul/imul leave SF, ZF, AF, PF undefined; Intel (the oracle) gives SF and PF of the
          // low result and clears ZF and AF, and so does hvkit.
          c.lz = LZ.None;
          const dst = rec[b + F.X_DST];
          let al: number, ah: number, bl: number, bh: number;
          if (op === O.IMUL2) {
            al = get(c, dst, osz, eLo, eHi, rec, b);
            ah = c.hi;
            bl = get(c, rec[b + F.X_SRC], osz, eLo, eHi, rec, b);
            bh = c.hi;
          } else {
            al = get(c, rec[b + F.X_SRC], osz, eLo, eHi, rec, b);
            ah = c.hi;
            bl = rec[b + F.IMM_LO];
            bh = rec[b + F.IMM_HI];
          }
          const r = imul(c, c.wide, al, ah, bl, bh, osz);
          writeReg(c, dst, osz, r, c.hi);
          break;
        }
        case O.BSWAP: {
          const r = rec[b + F.X_DST];
          if (osz === 8) {
            const l = R[r],
              h = H[r];
            R[r] = (h >>> 24) | ((h >>> 8) & 0xff00) | ((h & 0xff00) << 8) | (h << 24) | 0;
            H[r] = (l >>> 24) | ((l >>> 8) & 0xff00) | ((l & 0xff00) << 8) | (l << 24) | 0;
          } else if (osz === 4) {
            const l = R[r];
            R[r] = (l >>> 24) | ((l >>> 8) & 0xff00) | ((l & 0xff00) << 8) | (l << 24);
            H[r] = 0;
          } else {
            // 16-bit bswap is undefined; Intel hardware clears the low word.
            R[r] &= ~0xffff;
          }
          break;
        }
        case O.SETCC:
          put(c, rec[b + F.X_DST], 1, eLo, eHi, condLazy(c, rec[b + F.CC]) ? 1 : 0, 0);
          break;
        case O.CMOVCC: {
          const v = get(c, rec[b + F.X_SRC], osz, eLo, eHi, rec, b);
          const vh = c.hi;
          const dst = rec[b + F.X_DST];
          if (condLazy(c, rec[b + F.CC])) writeReg(c, dst, osz, v, vh);
          else if (osz === 4) H[dst] = 0;
          break;
        }
        case O.JCC: {
          const cc = rec[b + F.CC];
          let taken: boolean;
          const lz = c.lz;
          if (lz === LZ.Sub && c.lzSz >= 4 && cc >= 2 && cc < 10) {
            // cmp/sub then jb/jae/je/jne/jbe/ja/js/jns, decided from the operands.
            let eq: boolean, below: boolean, neg: boolean;
            const al = c.lzA,
              bl = c.lzB;
            if (c.lzSz === 8) {
              const ah = c.lzAh,
                bh = c.lzBh;
              eq = al === bl && ah === bh;
              below = ah >>> 0 < bh >>> 0 || (ah === bh && al >>> 0 < bl >>> 0);
              neg = ((ah - bh - (al >>> 0 < bl >>> 0 ? 1 : 0)) | 0) < 0;
            } else {
              eq = al === bl;
              below = al >>> 0 < bl >>> 0;
              neg = ((al - bl) | 0) < 0;
            }
            const k = cc >> 1;
            taken = k === 1 ? below : k === 2 ? eq : k === 3 ? below || eq : neg;
            if ((cc & 1) !== 0) taken = !taken;
          } else if ((cc === 4 || cc === 5) && lz !== LZ.None && c.lzSz >= 4) {
            // je/jne after add, logic, inc or dec: only the zero test is needed.
            const al = c.lzA;
            const wide = c.lzSz === 8;
            const ah = wide ? c.lzAh : 0;
            let zero: boolean;
            switch (lz) {
              case LZ.Sub:
                zero = al === c.lzB && (!wide || ah === c.lzBh);
                break;
              case LZ.Logic:
                zero = al === 0 && ah === 0;
                break;
              case LZ.Inc:
                zero = al === -1 && (!wide || ah === -1);
                break;
              case LZ.Dec:
                zero = al === 1 && ah === 0;
                break;
              default: {
                const l = (al >>> 0) + (c.lzB >>> 0);
                zero =
                  (l | 0) === 0 && (!wide || ((ah + c.lzBh + (l > 0xffffffff ? 1 : 0)) | 0) === 0);
              }
            }
            taken = zero !== (cc === 5);
          } else taken = condLazy(c, cc);
          if (taken) {
            const s = (nLo >>> 0) + (rec[b + F.IMM_LO] >>> 0);
            nHi = (nHi + rec[b + F.IMM_HI] + (s >= TWO32 ? 1 : 0)) | 0;
            nLo = s | 0;
          }
          break;
        }
        case O.JMP:
        case O.CALL: {
          let s = (nLo >>> 0) + (rec[b + F.IMM_LO] >>> 0);
          let th = (nHi + rec[b + F.IMM_HI] + (s >= TWO32 ? 1 : 0)) | 0;
          if (m32) {
            th = 0;
            if (osz === 2) s &= 0xffff;
          }
          if (!canonical(th)) c.gp0();
          if (op === O.CALL) push(c, m32 ? osz : 8, nLo, nHi);
          nLo = s | 0;
          nHi = th;
          break;
        }
        case O.JMP_IND:
        case O.CALL_IND: {
          let tl = get(c, rec[b + F.X_DST], osz, eLo, eHi, rec, b);
          let th = osz === 8 ? c.hi : 0;
          if (osz === 2) {
            // 16-bit operand size: ip is truncated.
            th = 0;
            tl &= 0xffff;
          }
          if (!canonical(th)) c.gp0();
          if (op === O.CALL_IND) push(c, osz, nLo, nHi);
          nLo = tl | 0;
          nHi = th;
          break;
        }
        case O.RET: {
          const tl = peek(c, osz, 0);
          const th = osz === 8 ? c.hi : 0;
          if (!canonical(th)) c.gp0();
          addRsp(c, osz + (rec[b + F.X_DST] === L.IMM ? rec[b + F.IMM_LO] & 0xffff : 0));
          nLo = tl | 0;
          nHi = th;
          break;
        }
        case O.JRCXZ:
          if (
            (rec[b + F.ASZ] === 8 ? R[1] | H[1] : rec[b + F.ASZ] === 4 ? R[1] : R[1] & 0xffff) === 0
          ) {
            const s = (nLo >>> 0) + (rec[b + F.IMM_LO] >>> 0);
            nHi = (nHi + rec[b + F.IMM_HI] + (s >= TWO32 ? 1 : 0)) | 0;
            nLo = s | 0;
          }
          break;
        case O.MOV: {
          const dst = rec[b + F.X_DST];
          const src = rec[b + F.X_SRC];
          if (osz === 8) {
            // Fast paths for 64-bit register/immediate/memory moves.
            if (dst >= 0) {
              if (src >= 0) {
                R[dst] = R[src];
                H[dst] = H[src];
              } else if (src === L.MEM) {
                R[dst] = c.rd64(eLo, eHi);
                H[dst] = c.hi;
              } else {
                R[dst] = rec[b + F.IMM_LO];
                H[dst] = rec[b + F.IMM_HI];
              }
              break;
            }
            if (src >= 0) {
              c.wr64(eLo, eHi, R[src], H[src]);
              break;
            }
          } else if (osz === 4 && dst >= 0) {
            R[dst] = src >= 0 ? R[src] : src === L.MEM ? c.rd32(eLo, eHi) : rec[b + F.IMM_LO];
            H[dst] = 0;
            break;
          } else if (dst === L.MEM && src === L.IMM) {
            if (osz === 1) c.wr8(eLo, eHi, rec[b + F.IMM_LO]);
            else if (osz === 4) c.wr32(eLo, eHi, rec[b + F.IMM_LO]);
            else c.wr16(eLo, eHi, rec[b + F.IMM_LO]);
            break;
          }
          const v = get(c, src, osz, eLo, eHi, rec, b);
          put(c, dst, osz, eLo, eHi, v, c.hi);
          break;
        }
        case O.MOVZX:
        case O.MOVSX:
        case O.MOVSXD: {
          if (op === O.MOVZX && rec[b + F.X_SRC] === L.MEM && osz >= 4) {
            const dst = rec[b + F.X_DST];
            R[dst] = rec[b + F.X_EXT] === 1 ? c.rd8(eLo, eHi) : c.rd16(eLo, eHi);
            H[dst] = 0;
            break;
          }
          const ssz = op === O.MOVSXD ? (osz === 8 ? 4 : osz) : rec[b + F.X_EXT];
          let v = get(c, rec[b + F.X_SRC], ssz, eLo, eHi, rec, b);
          let vh = 0;
          if (op !== O.MOVZX) {
            const sh = 32 - ssz * 8;
            v = (v << sh) >> sh;
            vh = v >> 31;
          }
          writeReg(c, rec[b + F.X_DST], osz, v, vh);
          break;
        }
        case O.LEA:
          writeReg(c, rec[b + F.X_DST], osz, eLo, eHi);
          break;
        case O.XCHG: {
          const dst = rec[b + F.X_DST];
          const src = rec[b + F.X_SRC];
          if (dst === L.MEM) c.probeWrite(eLo, eHi, osz);
          const al = get(c, dst, osz, eLo, eHi, rec, b);
          const ah = c.hi;
          const bl = get(c, src, osz, eLo, eHi, rec, b);
          const bh = c.hi;
          put(c, dst, osz, eLo, eHi, bl, bh);
          writeReg(c, src, osz, al, ah);
          break;
        }
        case O.CMPXCHG: {
          const dst = rec[b + F.X_DST];
          const src = rec[b + F.X_SRC];
          if (dst === L.MEM) c.probeWrite(eLo, eHi, osz);
          const dl = get(c, dst, osz, eLo, eHi, rec, b);
          const dh = c.hi;
          let equal: boolean;
          if (osz === 8) {
            sub64(c, R[0], H[0], dl, dh, 0);
            equal = R[0] === dl && H[0] === dh;
          } else {
            const a = readReg(c, 0, osz);
            sub(c, a, dl, 0, osz);
            equal = a === dl;
          }
          if (equal) {
            const sl = get(c, src, osz, eLo, eHi, rec, b);
            put(c, dst, osz, eLo, eHi, sl, c.hi);
          } else {
            // The destination is written back unchanged (memory) and the accumulator loaded.
            if (dst === L.MEM) c.wr(eLo, eHi, osz, dl, dh);
            writeReg(c, 0, osz, dl, dh);
          }
          break;
        }
        case O.XADD: {
          const dst = rec[b + F.X_DST];
          const src = rec[b + F.X_SRC];
          if (dst === L.MEM) c.probeWrite(eLo, eHi, osz);
          const al = get(c, dst, osz, eLo, eHi, rec, b);
          const ah = c.hi;
          const bl = readReg(c, src, osz);
          const bh = c.hi;
          let r: number;
          let rh = 0;
          if (osz === 8) {
            r = add64(c, al, ah, bl, bh, 0);
            rh = c.hi;
          } else r = add(c, al, bl, 0, osz);
          writeReg(c, src, osz, al, ah);
          put(c, dst, osz, eLo, eHi, r, rh);
          break;
        }
        case O.PUSH: {
          const seg = rec[b + F.X_EXT];
          if (seg !== 0) {
            pushSelector(c, osz, c.sel[seg - 1]);
          } else {
            const v = get(c, rec[b + F.X_DST], osz, eLo, eHi, rec, b);
            push(c, osz, v, c.hi);
          }
          break;
        }
        case O.POP: {
          const v = peek(c, osz, 0);
          const vh = c.hi;
          const seg = rec[b + F.X_EXT];
          const dst = rec[b + F.X_DST];
          if (seg !== 0) {
            loadSegment(c, seg - 1, v);
            addRsp(c, osz);
          } else if (dst === L.MEM) {
            // The address of a pop to memory is computed after rsp is incremented.
            let al = eLo,
              ah = eHi;
            if (rec[b + F.BASE] === 4 || rec[b + F.INDEX] === 4) {
              const s = (al >>> 0) + osz;
              al = s | 0;
              if (s >= TWO32) ah = (ah + 1) | 0;
            }
            c.wr(al, ah, osz, v, vh);
            addRsp(c, osz);
          } else {
            addRsp(c, osz);
            writeReg(c, dst, osz, v, vh);
          }
          break;
        }
        case O.CBW:
          if (osz === 2) R[0] = (R[0] & ~0xffff) | (((R[0] << 24) >> 24) & 0xffff);
          else if (osz === 4) {
            R[0] = (R[0] << 16) >> 16;
            H[0] = 0;
          } else H[0] = R[0] >> 31;
          break;
        case O.CWD:
          if (osz === 2) R[2] = (R[2] & ~0xffff) | (((R[0] << 16) >> 31) & 0xffff);
          else if (osz === 4) {
            R[2] = R[0] >> 31;
            H[2] = 0;
          } else {
            R[2] = H[0] >> 31;
            H[2] = R[2];
          }
          break;
        case O.CLC:
          materialize(c);
          c.flags &= ~K.CF;
          break;
        case O.STC:
          materialize(c);
          c.flags |= K.CF;
          break;
        case O.CMC:
          materialize(c);
          c.flags ^= K.CF;
          break;
        case O.CLD:
          c.flags &= ~K.DF;
          break;
        case O.STD:
          c.flags |= K.DF;
          break;
        case O.CLI:
        case O.STI:
          if (c.cpl > ((c.flags >> 12) & 3)) c.gp0();
          if (op === O.CLI) c.flags &= ~K.IF;
          else c.flags |= K.IF;
          break;
        case O.NOP:
        case O.PREFETCH:
        case O.FENCE:
          break;
        case O.CPUID:
          reason = X86ExitReason.Cpuid;
          exit.instructionLength = len;
          break loop;
        case O.RDTSC:
        case O.RDTSCP: {
          if ((c.cr4 & 4) !== 0 && c.cpl > 0) c.gp0();
          const t = c.tscBase + n * c.tscPerInstruction;
          R[0] = t % TWO32;
          H[0] = 0;
          R[2] = Math.floor(t / TWO32) % TWO32;
          H[2] = 0;
          if (op === O.RDTSCP) {
            R[1] = c.syscallMsrs[8];
            H[1] = 0;
          }
          break;
        }
        case O.SHL:
        case O.SHR:
        case O.SAR: {
          const dst = rec[b + F.X_DST];
          const src = rec[b + F.X_SRC];
          const k = op === O.SAR ? 7 : op - O.ROL;
          const count = (src === L.IMM ? rec[b + F.IMM_LO] : R[1]) & (osz === 8 ? 63 : 31);
          if (count !== 0 && dst >= 0 && osz >= 4) {
            // A non-zero count rewrites all six status flags: nothing deferred to compute.
            c.lz = LZ.None;
            if (osz === 8) {
              R[dst] = shift64(c, k, R[dst], H[dst], count);
              H[dst] = c.hi;
            } else {
              R[dst] = shift(c, k, R[dst] >>> 0, count, 4);
              H[dst] = 0;
            }
            break;
          }
          eagerFlagsOp(c, op, rec, b, eLo, eHi);
          break;
        }
        case O.X87:
          x87Op(c, rec, b, eLo, eHi, ripLo, ripHi);
          break;
        case O.FWAIT:
        case O.EMMS:
        case O.XCR:
        case O.FXSTATE:
          fpuStateOp(c, op, rec, b, eLo, eHi);
          break;
        case O.VMOV:
        case O.VMOVD:
        case O.VMOVQ:
        case O.VMOVS:
        case O.VMOVLH:
        case O.VMOVMSK:
        case O.VMASKMOV:
        case O.PEXTRW:
        case O.PINSRW:
        case O.PAND:
        case O.PANDN:
        case O.POR:
        case O.PXOR:
        case O.PADD:
        case O.PADDS:
        case O.PADDUS:
        case O.PSUB:
        case O.PSUBS:
        case O.PSUBUS:
        case O.PCMPEQ:
        case O.PCMPGT:
        case O.PMINU:
        case O.PMAXU:
        case O.PMINS:
        case O.PMAXS:
        case O.PAVG:
        case O.PMULL:
        case O.PMULH:
        case O.PMULHU:
        case O.PMULUDQ:
        case O.PMADDWD:
        case O.PSADBW:
        case O.PSLL:
        case O.PSRL:
        case O.PSRA:
        case O.PSLLDQ:
        case O.PSRLDQ:
        case O.PSHUFD:
        case O.PSHUFLW:
        case O.PSHUFHW:
        case O.PSHUFW:
        case O.PUNPCKL:
        case O.PUNPCKH:
        case O.PACKSS:
        case O.PACKUS:
        case O.SHUF:
          vectorOp(c, op, rec, b, eLo, eHi);
          break;
        case O.FARITH:
        case O.FCMP:
        case O.FCOMI:
        case O.FAPPROX:
        case O.FCVT:
        case O.FROUND:
          floatOp(c, op, rec, b, eLo, eHi);
          break;
        case O.VEXT:
        case O.PCMPSTR:
        case O.CRC32:
          extOp(c, op, rec, b, eLo, eHi);
          break;
        default:
          // Everything else reads or writes the status flags directly: compute deferred ones first.
          materialize(c);
          switch (op) {
            case O.ROL:
            case O.ROR:
            case O.RCL:
            case O.RCR:
            case O.SHLD:
            case O.SHRD:
            case O.MUL:
            case O.IMUL1:
            case O.DIV:
            case O.IDIV:
            case O.BT:
            case O.BTS:
            case O.BTR:
            case O.BTC:
            case O.BSF:
            case O.BSR:
            case O.TZCNT:
            case O.LZCNT:
            case O.POPCNT:
              eagerFlagsOp(c, op, rec, b, eLo, eHi);
              break;
            case O.RET_FAR: {
              samePage = false;
              // Far return: pop ip, then cs (segment.ts checks it); to an outer level
              // (RPL > CPL) also esp and ss past the immediate's bytes (SDM vol. 2 RET).
              const sz = osz;
              let tl = peek(c, sz, 0);
              let th = sz === 8 ? c.hi : 0;
              const cs = peek(c, sz, sz) & 0xffff;
              farReturnTarget(c, cs);
              const t = c.tables;
              const size = t.targetSize;
              if (size !== 64) {
                th = 0;
                if (size === 16) tl &= 0xffff;
                if (tl >>> 0 > t.targetLimit >>> 0) c.gp0();
              } else if (!canonical(th)) c.gp0();
              const imm = rec[b + F.X_DST] === L.IMM ? rec[b + F.IMM_LO] & 0xffff : 0;
              if ((cs & 3) > c.cpl) {
                const spl = peek(c, sz, 2 * sz + imm);
                const sph = sz === 8 ? c.hi : 0;
                const ss = peek(c, sz, 3 * sz + imm) & 0xffff;
                checkReturnStack(c, ss, cs & 3, size);
                R[4] = spl;
                H[4] = sph;
                c.returnToOuterLevel(cs, ss);
                addRsp(c, imm);
              } else {
                addRsp(c, 2 * sz + imm);
                c.sel[Seg.CS] = t.targetCs;
                cacheSegment(c, Seg.CS, cs);
                c.setCodeSize(size);
              }
              nLo = tl | 0;
              nHi = th;
              if (c.modeKey !== mk) limit = n + 1;
              break;
            }
            case O.FAR:
              samePage = false;
              if (farOp(c, rec, b, osz, eLo, eHi, nLo, nHi)) {
                // A far jmp/call: the target is in the descriptor tables' scratch.
                nLo = c.tables.targetLo;
                nHi = c.tables.targetHi;
                if (c.modeKey !== mk) limit = n + 1;
              }
              break;
            case O.LEGACY:
              legacyOp(c, rec, b, osz, eLo, eHi);
              break;
            case O.LOOP: {
              const k = rec[b + F.X_EXT];
              let cl: number;
              if (rec[b + F.ASZ] === 8) {
                const l = (R[1] - 1) | 0;
                if (R[1] === 0) H[1] = (H[1] - 1) | 0;
                R[1] = l;
                cl = l | H[1];
              } else if (rec[b + F.ASZ] === 2) {
                R[1] = (R[1] & ~0xffff) | ((R[1] - 1) & 0xffff);
                cl = R[1] & 0xffff;
              } else {
                R[1] = (R[1] - 1) | 0;
                H[1] = 0;
                cl = R[1];
              }
              const z = (c.flags & K.ZF) !== 0;
              if (cl !== 0 && (k === 2 || (k === 1 ? z : !z))) {
                const s = (nLo >>> 0) + (rec[b + F.IMM_LO] >>> 0);
                nHi = (nHi + rec[b + F.IMM_HI] + (s >= TWO32 ? 1 : 0)) | 0;
                nLo = s | 0;
              }
              break;
            }
            case O.CMPXCHG16B: {
              if (osz === 8) {
                if ((eLo & 15) !== 0) c.gp0();
                c.probeWrite(eLo, eHi, 16);
                const l0 = c.rd64(eLo, eHi);
                const h0 = c.hi;
                const a2 = (eLo + 8) | 0;
                const a2h = a2 >>> 0 < eLo >>> 0 ? (eHi + 1) | 0 : eHi;
                const l1 = c.rd64(a2, a2h);
                const h1 = c.hi;
                if (l0 === R[0] && h0 === H[0] && l1 === R[2] && h1 === H[2]) {
                  c.wr64(eLo, eHi, R[3], H[3]);
                  c.wr64(a2, a2h, R[1], H[1]);
                  c.flags |= K.ZF;
                } else {
                  c.wr64(eLo, eHi, l0, h0);
                  c.wr64(a2, a2h, l1, h1);
                  R[0] = l0;
                  H[0] = h0;
                  R[2] = l1;
                  H[2] = h1;
                  c.flags &= ~K.ZF;
                }
              } else {
                c.probeWrite(eLo, eHi, 8);
                const l0 = c.rd64(eLo, eHi);
                const h0 = c.hi;
                if (l0 === R[0] && h0 === R[2]) {
                  c.wr64(eLo, eHi, R[3], R[1]);
                  c.flags |= K.ZF;
                } else {
                  c.wr64(eLo, eHi, l0, h0);
                  R[0] = l0;
                  H[0] = 0;
                  R[2] = h0;
                  H[2] = 0;
                  c.flags &= ~K.ZF;
                }
              }
              break;
            }
            case O.PUSHF:
              push(c, osz, c.flags & 0xfcffff, 0);
              break;
            case O.POPF: {
              const v = peek(c, osz, 0);
              const cpl = c.cpl;
              const iopl = (c.flags >> 12) & 3;
              let m = POPF_MASK;
              if (cpl > 0) m &= ~K.IOPL;
              if (cpl > iopl) m &= ~K.IF;
              if (osz === 2) m &= 0xffff;
              c.flags = ((c.flags & ~m) | (v & m) | 2) >>> 0;
              addRsp(c, osz);
              // TF set: end the slice after this instruction, so execute() single-steps.
              if ((c.flags & TF) !== 0) limit = n + 1;
              break;
            }
            case O.ENTER: {
              const size = rec[b + F.IMM_LO] & 0xffff;
              const level = rec[b + F.IMM2] & 31;
              const sz = osz;
              push(c, sz, R[5], H[5]);
              const fl = R[4],
                fh = H[4];
              if (level > 0) {
                let bl = R[5],
                  bh = H[5];
                for (let i = 1; i < level; i++) {
                  const l = (bl - sz) | 0;
                  bh = l >>> 0 > bl >>> 0 ? (bh - 1) | 0 : bh;
                  bl = l;
                  const v = c.rd(bl, bh, sz);
                  push(c, sz, v, c.hi);
                }
                push(c, sz, fl, fh);
              }
              if (sz === 8) {
                R[5] = fl;
                H[5] = fh;
              } else if (sz === 4) {
                R[5] = fl;
                H[5] = 0;
              } else R[5] = (R[5] & ~0xffff) | (fl & 0xffff);
              if (c.stackSize !== 8) {
                addRsp(c, -size);
                break;
              }
              const l = (R[4] - size) | 0;
              if (l >>> 0 > R[4] >>> 0) H[4] = (H[4] - 1) | 0;
              R[4] = l;
              break;
            }
            case O.LEAVE: {
              const sl = R[5],
                sh = m32 ? 0 : H[5];
              const v = c.rd(sl, sh, osz);
              const vh = c.hi;
              R[4] = sl;
              H[4] = sh;
              addRsp(c, osz);
              writeReg(c, 5, osz, v, vh);
              break;
            }
            case O.MOV_SREG: {
              const sr = rec[b + F.REG];
              if (sr > 5) c.raise(Vector.UD, -1);
              if (rec[b + F.X_EXT] === 1) {
                if (sr === Seg.CS) c.raise(Vector.UD, -1);
                loadSegment(c, sr, get(c, rec[b + F.X_SRC], 2, eLo, eHi, rec, b));
              } else {
                const dst = rec[b + F.X_DST];
                put(c, dst, dst === L.MEM ? 2 : osz, eLo, eHi, c.sel[sr], 0);
              }
              break;
            }
            case O.LAHF:
              R[0] = (R[0] & ~0xff00) | (((c.flags & 0xd5) | 2) << 8);
              break;
            case O.SAHF:
              c.flags = (c.flags & ~0xd5) | ((R[0] >>> 8) & 0xd5);
              break;
            case O.MOVS:
            case O.CMPS:
            case O.STOS:
            case O.LODS:
            case O.SCAS: {
              const pfx = rec[b + F.PFX];
              const rep = (pfx & (Pfx.REP | Pfx.REPNE)) !== 0;
              const a8 = rec[b + F.ASZ] === 8;
              // 16-bit address size (0x67 in 32-bit code): si, di and cx, upper halves kept.
              const a16 = rec[b + F.ASZ] === 2;
              const step = (c.flags & K.DF) !== 0 ? -osz : osz;
              const sg = rec[b + F.SEG];
              const segLo =
                sg === Seg.FS
                  ? c.fsLo
                  : sg === Seg.GS
                    ? c.gsLo
                    : m32 && c.segBaseMask !== 0
                      ? compatBase(c, sg < 0 ? Seg.DS : sg)
                      : 0;
              const segHi = m32 ? 0 : sg === Seg.FS ? c.fsHi : sg === Seg.GS ? c.gsHi : 0;
              const esLo = m32 ? compatBase(c, Seg.ES) : 0;
              const usesSrc = op === O.MOVS || op === O.CMPS || op === O.LODS;
              const usesDst = op !== O.LODS;
              for (;;) {
                if (rep) {
                  if ((a8 ? R[1] | H[1] : a16 ? R[1] & 0xffff : R[1]) === 0) break;
                  if (n >= budget) {
                    // Interrupted: rip stays on the instruction with rcx/rsi/rdi updated.
                    nLo = curLo;
                    nHi = curHi;
                    break;
                  }
                }
                let sl = 0,
                  sh = 0,
                  dl = 0,
                  dh = 0;
                const si = a16 ? R[6] & 0xffff : R[6];
                const di = a16 ? R[7] & 0xffff : R[7];
                if (m32 && c.segCheck !== 0) {
                  if (usesSrc && (c.segCheck & (1 << (sg < 0 ? Seg.DS : sg))) !== 0)
                    checkSegmentLimit(c, sg < 0 ? Seg.DS : sg, si, osz);
                  if (usesDst && (c.segCheck & 1) !== 0) checkSegmentLimit(c, Seg.ES, di, osz);
                }
                if (usesSrc) {
                  sl = si;
                  sh = a8 ? H[6] : 0;
                  if ((segLo | segHi) !== 0) {
                    const s = (sl >>> 0) + (segLo >>> 0);
                    sl = s | 0;
                    sh = m32 ? 0 : (sh + segHi + (s >= TWO32 ? 1 : 0)) | 0;
                  }
                }
                if (usesDst) {
                  dl = (di + esLo) | 0;
                  dh = a8 ? H[7] : 0;
                }
                let stop = false;
                switch (op) {
                  case O.MOVS: {
                    const v = c.rd(sl, sh, osz);
                    c.wr(dl, dh, osz, v, c.hi);
                    break;
                  }
                  case O.STOS:
                    c.wr(dl, dh, osz, R[0], H[0]);
                    break;
                  case O.LODS: {
                    const v = c.rd(sl, sh, osz);
                    writeReg(c, 0, osz, v, c.hi);
                    break;
                  }
                  default: {
                    // cmps compares [rsi] − [rdi]; scas compares rax − [rdi].
                    let al: number, ah: number;
                    if (op === O.CMPS) {
                      al = c.rd(sl, sh, osz);
                      ah = c.hi;
                    } else {
                      al = readReg(c, 0, osz);
                      ah = c.hi;
                    }
                    const bl = c.rd(dl, dh, osz);
                    const bh = c.hi;
                    if (osz === 8) sub64(c, al, ah, bl, bh, 0);
                    else sub(c, al, bl, 0, osz);
                    if (rep) {
                      const z = (c.flags & K.ZF) !== 0;
                      stop = (pfx & Pfx.REPNE) !== 0 ? z : !z;
                    }
                  }
                }
                if (usesSrc) {
                  if (a8) {
                    const s = (R[6] >>> 0) + step;
                    R[6] = s | 0;
                    H[6] = (H[6] + (s >= TWO32 ? 1 : s < 0 ? -1 : 0)) | 0;
                  } else if (a16) {
                    R[6] = (R[6] & ~0xffff) | ((R[6] + step) & 0xffff);
                  } else {
                    R[6] = (R[6] + step) | 0;
                    H[6] = 0;
                  }
                }
                if (usesDst) {
                  if (a8) {
                    const s = (R[7] >>> 0) + step;
                    R[7] = s | 0;
                    H[7] = (H[7] + (s >= TWO32 ? 1 : s < 0 ? -1 : 0)) | 0;
                  } else if (a16) {
                    R[7] = (R[7] & ~0xffff) | ((R[7] + step) & 0xffff);
                  } else {
                    R[7] = (R[7] + step) | 0;
                    H[7] = 0;
                  }
                }
                if (!rep) break;
                if (a8) {
                  if (R[1] === 0) H[1] = (H[1] - 1) | 0;
                  R[1] = (R[1] - 1) | 0;
                } else if (a16) {
                  R[1] = (R[1] & ~0xffff) | ((R[1] - 1) & 0xffff);
                } else {
                  R[1] = (R[1] - 1) | 0;
                  H[1] = 0;
                }
                n++;
                if (stop) break;
              }
              if (nLo === curLo && nHi === curHi) {
                reason = X86ExitReason.Budget;
                break loop;
              }
              break;
            }
            case O.IN:
            case O.OUT:
            case O.INS:
            case O.OUTS:
              if (c.cpl > ((c.flags >> 12) & 3)) c.gp0();
              // No I/O devices: in reads all ones, out and outs are dropped, ins is refused.
              if (op === O.IN) writeReg(c, 0, osz, -1, 0);
              else if (op === O.INS) c.gp0();
              break;
            case O.SYSCALL: {
              // sysenter (X_EXT 1) is handed to the hypervisor as it stands; sysexit (2) is
              // #GP(0) outside CPL 0 and with IA32_SYSENTER_CS 0, which the model never sets.
              if (rec[b + F.X_EXT] === 2) c.gp0();
              const enter = rec[b + F.X_EXT] === 1;
              if (!enter) {
                if ((c.efer & 1) === 0 || (m32 && !c.syscallInCompat)) c.raise(Vector.UD, -1);
                R[1] = nLo;
                H[1] = nHi;
                R[11] = c.flags & ~0x10000;
                H[11] = 0;
              }
              c.ripLo = nLo;
              c.ripHi = nHi;
              n++;
              reason = enter ? X86ExitReason.Sysenter : X86ExitReason.Syscall;
              exit.instructionLength = len;
              break loop;
            }
            case O.SYSRET: {
              samePage = false;
              if ((c.efer & 1) === 0) c.raise(Vector.UD, -1);
              if (c.cpl !== 0) c.gp0();
              const star = c.syscallMsrs[1] >>> 16;
              if (osz === 8) {
                if (!canonical(H[1])) c.gp0();
                nLo = R[1];
                nHi = H[1];
                c.sel[Seg.CS] = ((star + 16) | 3) & 0xffff;
              } else {
                nLo = R[1];
                nHi = 0;
                c.sel[Seg.CS] = (star | 3) & 0xffff;
              }
              c.sel[Seg.SS] = ((star + 8) | 3) & 0xffff;
              cacheFlat(c, Seg.CS);
              cacheFlat(c, Seg.SS);
              c.flags = ((R[11] & 0x3c7fd7) | 2) >>> 0;
              c.cpl = 3;
              // sysret loads fixed flat descriptors: 64-bit code, or 32-bit code and stack.
              c.setCodeSize(osz === 8 ? 64 : 32, true);
              if (c.modeKey !== mk) limit = n + 1;
              break;
            }
            case O.IRET: {
              samePage = false;
              // Return to the same or an outer privilege level (long mode pops ss:rsp always).
              // EFLAGS.NT asks for a task return, which long mode does not have: #GP(0)
              // (SDM vol. 2 IRET, IA32_EFER.LMA = 1). A PV guest reaches it after popf.
              if ((c.flags & 0x4000) !== 0) c.gp0();
              const sz = osz;
              let ipl = peek(c, sz, 0);
              let iph = sz === 8 ? c.hi : 0;
              const cs = peek(c, sz, sz) & 0xffff;
              const fl = peek(c, sz, 2 * sz);
              const cpl = c.cpl;
              // Compatibility mode pops ss:esp only for a return to an outer level.
              const popStack = !m32 || (cs & 3) > cpl;
              const spl = popStack ? peek(c, sz, 3 * sz) : R[4];
              const sph = sz === 8 ? c.hi : popStack ? 0 : H[4];
              const ss = popStack ? peek(c, sz, 4 * sz) & 0xffff : c.sel[Seg.SS];
              // CS (RPL ≥ CPL, a code segment whose DPL fits), then for an outer level SS
              // (SDM vol. 2 IRET, RETURN-TO-OUTER-PRIVILEGE-LEVEL).
              farReturnTarget(c, cs);
              const outer = (cs & 3) > cpl;
              const size = c.tables.targetSize;
              if (size !== 64) {
                iph = 0;
                if (size === 16) ipl &= 0xffff;
                if (ipl >>> 0 > c.tables.targetLimit >>> 0) c.gp0();
              } else if (!canonical(iph)) c.gp0();
              if (outer) checkReturnStack(c, ss, cs & 3, size);
              const iopl = (c.flags >> 12) & 3;
              let m = POPF_MASK | 0x10000;
              if (cpl > 0) m &= ~K.IOPL;
              if (cpl > iopl) m &= ~K.IF;
              if (sz === 2) m &= 0xffff;
              c.flags = ((c.flags & ~m) | (fl & m) | 2) >>> 0;
              if (popStack) {
                R[4] = spl;
                H[4] = sph;
              } else addRsp(c, 3 * sz);
              if (outer) c.returnToOuterLevel(cs, ss);
              else {
                c.sel[Seg.CS] = cs;
                cacheSegment(c, Seg.CS, cs);
                if (popStack) {
                  c.sel[Seg.SS] = ss;
                  cacheSegment(c, Seg.SS, ss);
                }
                c.setCodeSize(size, popStack ? stackBigOf(c, ss) : c.ssBig);
              }
              nLo = ipl;
              nHi = iph;
              if ((c.flags & TF) !== 0 || c.modeKey !== mk) limit = n + 1;
              break;
            }
            case O.INT:
            case O.INT3:
            case O.INTO:
              if (op === O.INTO && (c.flags & K.OF) === 0) break;
              c.ripLo = nLo;
              c.ripHi = nHi;
              n++;
              exit.vector =
                op === O.INT ? rec[b + F.IMM_LO] & 0xff : op === O.INT3 ? Vector.BP : Vector.OF;
              exit.software = true;
              exit.instructionLength = len;
              reason = X86ExitReason.Exception;
              break loop;
            case O.UD2: {
              // Forced emulation prefix: ud2; .ascii "xen" before cpuid.
              if (len === 2 && isForcedCpuid(c, nLo, nHi)) {
                reason = X86ExitReason.Cpuid;
                exit.forced = true;
                exit.instructionLength = 7;
                break loop;
              }
              c.raise(Vector.UD, -1);
              break;
            }
            case O.HLT:
              if (c.cpl !== 0) c.gp0();
              c.ripLo = nLo;
              c.ripHi = nHi;
              n++;
              reason = X86ExitReason.Halt;
              exit.instructionLength = len;
              break loop;
            case O.RDMSR:
              if (c.cpl !== 0) c.gp0();
              c.retiredInRun = n;
              if (!c.readMsr(R[1])) c.gp0();
              R[0] = c.wide[0];
              H[0] = 0;
              R[2] = c.hi;
              H[2] = 0;
              break;
            case O.WRMSR:
              samePage = false;
              if (c.cpl !== 0) c.gp0();
              c.retiredInRun = n;
              if (!c.writeMsr(R[1], R[0], R[2])) c.gp0();
              break;
            case O.MOV_CR: {
              samePage = false;
              if (c.cpl !== 0) c.gp0();
              const cr = rec[b + F.REG];
              const gpr = rec[b + F.BASE];
              if (rec[b + F.X_EXT] === 1) {
                const l = R[gpr],
                  h = H[gpr];
                switch (cr) {
                  case 0:
                    if (h !== 0 || (l & CR0_PG) === 0) c.gp0();
                    c.cr0 = l;
                    break;
                  case 2:
                    c.cr2Lo = l;
                    c.cr2Hi = h;
                    break;
                  case 3:
                    c.cr3 = (h & 0xfffff) * TWO32 + (l >>> 0);
                    break;
                  case 4:
                    if (h !== 0 || (l & 0x20) === 0) c.gp0();
                    c.cr4 = l;
                    break;
                  case 8:
                    break;
                  default:
                    c.raise(Vector.UD, -1);
                }
              } else {
                let l = 0,
                  h = 0;
                switch (cr) {
                  case 0:
                    l = c.cr0;
                    break;
                  case 2:
                    l = c.cr2Lo;
                    h = c.cr2Hi;
                    break;
                  case 3:
                    l = c.cr3 % TWO32;
                    h = Math.floor(c.cr3 / TWO32);
                    break;
                  case 4:
                    l = c.cr4;
                    break;
                  case 8:
                    break;
                  default:
                    c.raise(Vector.UD, -1);
                }
                R[gpr] = l;
                H[gpr] = h;
              }
              break;
            }
            case O.MOV_DR: {
              if (c.cpl !== 0) c.gp0();
              const dr = rec[b + F.REG];
              const gpr = rec[b + F.BASE];
              if (dr > 7 || ((dr === 4 || dr === 5) && (c.cr4 & CR4_DE) !== 0))
                c.raise(Vector.UD, -1);
              if ((c.dr[7] & Dr7.GD) !== 0) {
                // General detect: a #DB fault with DR6.BD; GD is cleared for the handler.
                c.dr[6] = mergeDr6(c.dr[6], Dr6.BD);
                c.dr[7] &= ~Dr7.GD;
                c.raise(Vector.DB, -1);
              }
              if (rec[b + F.X_EXT] === 1) {
                c.writeDebugReg(dr, R[gpr], H[gpr]);
                if (c.debugActive) limit = n + 1;
              } else {
                R[gpr] = c.dr[dr === 4 || dr === 5 ? dr + 2 : dr];
                H[gpr] = dr < 4 ? c.drHi[dr] : 0;
              }
              break;
            }
            case O.SYSDESC: {
              samePage = false;
              const group = rec[b + F.X_EXT];
              const sub = rec[b + F.REG] & 7;
              const dt = c.descTables;
              // Stores (sgdt, sidt, smsw, sldt, str) are allowed at any CPL (no UMIP); loads are privileged.
              const store =
                group === 1 ? sub === 0 || sub === 1 || sub === 4 : sub === 0 || sub === 1;
              if (!store && c.cpl !== 0) c.gp0();
              const dst = rec[b + F.X_DST];
              if (group === 1) {
                if (sub === 0 || sub === 1) {
                  const k = sub * 3;
                  c.wr16(eLo, eHi, dt[k]);
                  const a = (eLo + 2) | 0;
                  c.wr64(a, a >>> 0 < eLo >>> 0 ? (eHi + 1) | 0 : eHi, dt[k + 1], dt[k + 2]);
                } else if (sub === 2 || sub === 3) {
                  const k = (sub - 2) * 3;
                  const lim = c.rd16(eLo, eHi);
                  const a = (eLo + 2) | 0;
                  const bl = c.rd64(a, a >>> 0 < eLo >>> 0 ? (eHi + 1) | 0 : eHi);
                  dt[k] = lim;
                  dt[k + 1] = bl;
                  dt[k + 2] = c.hi;
                } else if (sub === 4)
                  put(c, dst, dst === L.MEM ? 2 : osz, eLo, eHi, c.cr0 & 0xffff, 0);
                else if (sub === 6)
                  c.cr0 = (c.cr0 & ~0xe) | (get(c, dst, 2, eLo, eHi, rec, b) & 0xf) | (c.cr0 & 1);
                else c.raise(Vector.UD, -1);
              } else if (sub < 2) put(c, dst, dst === L.MEM ? 2 : osz, eLo, eHi, dt[6 + sub], 0);
              else dt[6 + sub - 2] = get(c, dst, 2, eLo, eHi, rec, b);
              break;
            }
            case O.INVLPG:
              samePage = false;
              if (c.cpl !== 0) c.gp0();
              c.paging.invlpg(eLo, eHi);
              break;
            case O.SWAPGS: {
              if (c.cpl !== 0) c.gp0();
              const l = c.gsLo,
                h = c.gsHi;
              c.gsLo = c.kgsLo;
              c.gsHi = c.kgsHi;
              c.kgsLo = l;
              c.kgsHi = h;
              break;
            }
            case O.FSGSBASE: {
              if ((c.cr4 & 0x10000) === 0) c.raise(Vector.UD, -1);
              const r = rec[b + F.BASE];
              const k = rec[b + F.REG] & 3;
              if (k < 2) {
                writeReg(c, r, osz, k === 0 ? c.fsLo : c.gsLo, k === 0 ? c.fsHi : c.gsHi);
              } else {
                const l = R[r];
                const h = osz === 8 ? H[r] : 0;
                if (!canonical(h)) c.gp0();
                if (k === 2) {
                  c.fsLo = l;
                  c.fsHi = h;
                } else {
                  c.gsLo = l;
                  c.gsHi = h;
                }
              }
              break;
            }
            case O.CLTS:
              if (c.cpl !== 0) c.gp0();
              c.cr0 = c.cr0 & ~8;
              break;
            case O.WBINVD:
              if (c.cpl !== 0) c.gp0();
              break;
            case O.XLAT: {
              const sg = rec[b + F.SEG];
              let l = R[3],
                h = rec[b + F.ASZ] === 8 ? H[3] : 0;
              if (rec[b + F.ASZ] !== 8) l = R[3];
              let s = (l >>> 0) + (R[0] & 0xff);
              l = s | 0;
              h = (h + (s >= TWO32 ? 1 : 0)) | 0;
              if (rec[b + F.ASZ] !== 8) h = 0;
              if (sg >= Seg.FS) {
                s = (l >>> 0) + ((sg === Seg.FS ? c.fsLo : c.gsLo) >>> 0);
                l = s | 0;
                h = (h + (sg === Seg.FS ? c.fsHi : c.gsHi) + (s >= TWO32 ? 1 : 0)) | 0;
              }
              if (m32) {
                h = 0;
                l = (l + compatBase(c, sg < 0 ? Seg.DS : sg)) | 0;
              }
              R[0] = (R[0] & ~0xff) | c.rd8(l, h);
              break;
            }
            default:
              if (rec[b + F.ROW] === INT1_ROW) {
                // icebp (int1): a #DB trap, not subject to the IDT gate's DPL (SDM vol. 3, 18.3.2).
                c.ripLo = nLo;
                c.ripHi = nHi;
                n++;
                exit.vector = Vector.DB;
                exit.instructionLength = len;
                reason = X86ExitReason.Exception;
                break loop;
              }
              // INVALID, UNIMPLEMENTED, VMCALL (no hardware-assisted mode yet).
              c.raise(Vector.UD, -1);
          }
      }
      if (
        m32 &&
        (c.segCheck & 2) !== 0 &&
        nLo !== ((ripLo + len) | 0) &&
        nLo >>> 0 > c.segLimit[Seg.CS] >>> 0
      ) {
        // A branch past CS's limit faults at the branch, before it changes esp (SDM vol. 2
        // JMP, CALL, RET, Jcc: "IF tempEIP is beyond the code segment limit THEN #GP(0)").
        R[4] = spBefore;
        c.gp0();
      }
      rLo = nLo;
      rHi = m32 ? 0 : nHi;
      n++;
      fpa =
        samePage && ((nLo ^ ripLo) & -4096) === 0 && nHi === ripHi
          ? (pa & -4096) | (nLo & 4095)
          : -1;
    }
  } catch (e) {
    if (e !== FAULT) throw e;
    reason = X86ExitReason.Exception;
    if (c.nonCanonicalData) {
      c.nonCanonicalData = false;
      if (inBlock ? stackSegmentAccess(c, c.ripLo, c.ripHi) : stackSegmentAccess(c, curLo, curHi))
        exit.vector = Vector.SS;
    }
    if (inBlock) {
      // The block left rip, the instruction length and the retired count of the fault.
      n = c.blockRetired;
      if (prof !== null) prof.blockFaulted(n);
    } else {
      c.ripLo = curLo;
      c.ripHi = curHi;
      exit.instructionLength = len;
    }
  }
  if (reason === X86ExitReason.Budget) {
    c.ripLo = rLo;
    c.ripHi = rHi;
  } else if (reason === X86ExitReason.Cpuid) {
    c.ripLo = curLo;
    c.ripHi = curHi;
  }
  exit.reason = reason;
  exit.retired = n;
  c.retiredInRun = n;
  if (prof !== null) prof.settle(n);
  return reason;
}

/**
 * Runs compiled blocks, from `fn` (the block of slot `at`, at rip `lo`/`hi`) with `n`
 * retired, never past `budget`: while the next rip starts a current block that fits the
 * budget, it enters that block directly (a TLB hit and the block's tag; its frame
 * generation vouches for its code, as it does in {@link slice}). Returns the retired count
 * and leaves the next rip in `c.ripLo`/`c.ripHi`. A function of its own, and a small one,
 * so that V8 optimises it within the first blocks run and keeps it optimised whatever the
 * interpreter loop around it meets.
 */
function runBlocks(
  c: X86Cpu,
  blocks: BlockCache,
  fn: BlockFn,
  at: number,
  lo: number,
  hi: number,
  n: number,
  budget: number,
): number {
  const R = c.regLo;
  const H = c.regHi;
  const tlbLo = c.tlbLo;
  const tlbHi = c.tlbHi;
  const tlbPerm = c.tlbPerm;
  const tlbBase = c.tlbBase;
  const xMask = c.xMask;
  const bTag = blocks.tag;
  const bGen = blocks.gen;
  const bFns = blocks.fns;
  const bCount = blocks.count;
  const bEntered = blocks.entered;
  const fGen = c.dcache.frameGen;
  const prof = c.profile;
  for (;;) {
    const n0 = n;
    if (prof !== null) prof.blockEntered(n0);
    bEntered[at] = 1;
    n = fn(c, R, H, lo, hi, n, budget);
    const from = lo;
    lo = c.ripLo;
    hi = c.ripHi;
    if (prof !== null) prof.blockReturned(at, from, n0, n, lo, bGen[at] !== fGen[bTag[at] >>> 12]);
    if (n >= budget) return n;
    const ti = (lo >>> 12) & K.TLB_MASK;
    if (tlbLo[ti] !== (lo & -4096) || tlbHi[ti] !== hi || (tlbPerm[ti] & xMask) === 0) return n;
    const np = tlbBase[ti] | (lo & 4095);
    const nc = np & K.DC_MASK;
    if (bTag[nc] !== np || bGen[nc] !== fGen[np >>> 12]) return n;
    const next = bFns[nc];
    if (next === null || n + bCount[nc] > budget) return n;
    fn = next;
    at = nc;
  }
}

/**
 * The integer ops whose flags are computed eagerly, of the record at `b` of `rec`
 * (`eLo`/`eHi`: its memory operand's address): shifts and rotates (count from the
 * immediate or cl) and shld/shrd, mul/imul (one operand), div/idiv, bt/bts/btr/btc and
 * bsf/bsr/tzcnt/lzcnt/popcnt. The interpreter runs them through here (but for its fast
 * shifts), and so do compiled blocks (block-compiler.ts); the flags are materialized first.
 */
export function eagerFlagsOp(
  c: X86Cpu,
  op: number,
  rec: Int32Array,
  b: number,
  eLo: number,
  eHi: number,
): void {
  const R = c.regLo;
  const H = c.regHi;
  const osz = rec[b + F.OSZ];
  materialize(c);
  switch (op) {
    case O.ROL:
    case O.ROR:
    case O.RCL:
    case O.RCR:
    case O.SHL:
    case O.SHR:
    case O.SAR: {
      const dst = rec[b + F.X_DST];
      const src = rec[b + F.X_SRC];
      const k = op === O.SAR ? 7 : op - O.ROL;
      const count = (src === L.IMM ? rec[b + F.IMM_LO] : R[1]) & (osz === 8 ? 63 : 31);
      if (dst === L.MEM) c.probeWrite(eLo, eHi, osz);
      if (osz === 8) {
        const al = get(c, dst, 8, eLo, eHi, rec, b);
        const ah = c.hi;
        const r = shift64(c, k, al, ah, count);
        if (count !== 0) put(c, dst, 8, eLo, eHi, r, c.hi);
      } else {
        const a = get(c, dst, osz, eLo, eHi, rec, b);
        const r = shift(c, k, a, count, osz);
        if (count !== 0 || (osz === 4 && dst >= 0)) put(c, dst, osz, eLo, eHi, r, 0);
      }
      break;
    }
    case O.SHLD:
    case O.SHRD: {
      const dst = rec[b + F.X_DST];
      const src = rec[b + F.X_SRC];
      const count = (rec[b + F.X_AUX] === L.IMM ? rec[b + F.IMM_LO] : R[1]) & (osz === 8 ? 63 : 31);
      if (dst === L.MEM) c.probeWrite(eLo, eHi, osz);
      if (osz === 8) {
        const al = get(c, dst, 8, eLo, eHi, rec, b);
        const ah = c.hi;
        const sl = R[src];
        const sh = H[src];
        const r = shiftDouble64(c, op === O.SHLD, al, ah, sl, sh, count);
        if (count !== 0) put(c, dst, 8, eLo, eHi, r, c.hi);
      } else {
        const a = get(c, dst, osz, eLo, eHi, rec, b);
        const v = readReg(c, src, osz);
        const r = shiftDouble(c, op === O.SHLD, a, v, count, osz);
        if (count !== 0 || (osz === 4 && dst >= 0)) put(c, dst, osz, eLo, eHi, r, 0);
      }
      break;
    }
    case O.MUL:
    case O.IMUL1: {
      const v = get(c, rec[b + F.X_DST], osz, eLo, eHi, rec, b);
      const vh = c.hi;
      let over: boolean;
      const signed = op === O.IMUL1;
      if (osz === 1) {
        const a = R[0] & 0xff;
        const p = signed ? ((a << 24) >> 24) * ((v << 24) >> 24) : a * v;
        R[0] = (R[0] & ~0xffff) | (p & 0xffff);
        over = signed ? (p << 24) >> 24 !== p : (p & 0xff00) !== 0;
        c.flags = (c.flags & ~K.STATUS) | (((p << 24) >> 31) & K.SF) | PARITY[p & 0xff];
      } else if (osz === 2) {
        const a = R[0] & 0xffff;
        const p = signed ? ((a << 16) >> 16) * ((v << 16) >> 16) : a * v;
        R[0] = (R[0] & ~0xffff) | (p & 0xffff);
        R[2] = (R[2] & ~0xffff) | ((p >>> 16) & 0xffff);
        over = signed ? (p << 16) >> 16 !== p : (p & 0xffff0000) !== 0;
        c.flags = (c.flags & ~K.STATUS) | (((p << 16) >> 31) & K.SF) | PARITY[p & 0xff];
      } else if (osz === 4) {
        const w = c.wide;
        if (signed) muls128(c.wide, R[0], R[0] >> 31, v | 0, (v | 0) >> 31);
        else mulu128(w, R[0], 0, v, 0);
        R[0] = w[0];
        H[0] = 0;
        R[2] = w[1];
        H[2] = 0;
        over = signed ? w[1] !== w[0] >> 31 : w[1] !== 0;
        c.flags = (c.flags & ~K.STATUS) | ((w[0] >>> 31) << 7) | PARITY[w[0] & 0xff];
      } else {
        const w = c.wide;
        if (signed) muls128(c.wide, R[0], H[0], v, vh);
        else mulu128(w, R[0], H[0], v, vh);
        R[0] = w[0];
        H[0] = w[1];
        R[2] = w[2];
        H[2] = w[3];
        over = signed ? w[2] !== w[1] >> 31 || w[3] !== w[1] >> 31 : (w[2] | w[3]) !== 0;
        c.flags = (c.flags & ~K.STATUS) | ((w[1] >>> 31) << 7) | PARITY[w[0] & 0xff];
      }
      if (over) c.flags |= K.CF | K.OF;
      break;
    }
    case O.DIV:
    case O.IDIV: {
      const v = get(c, rec[b + F.X_DST], osz, eLo, eHi, rec, b);
      const vh = c.hi;
      const signed = op === O.IDIV;
      if (osz === 1) {
        const d = signed ? (v << 24) >> 24 : v;
        if (d === 0) c.raise(Vector.DE, -1);
        const a = signed ? (R[0] << 16) >> 16 : R[0] & 0xffff;
        const q = Math.trunc(a / d);
        if (signed ? q > 127 || q < -128 : q > 255) c.raise(Vector.DE, -1);
        const rm = a - q * d;
        R[0] = (R[0] & ~0xffff) | (q & 0xff) | ((rm & 0xff) << 8);
      } else if (osz === 2) {
        const d = signed ? (v << 16) >> 16 : v;
        if (d === 0) c.raise(Vector.DE, -1);
        const a = signed
          ? (R[2] << 16) | (R[0] & 0xffff)
          : (R[2] & 0xffff) * 65536 + (R[0] & 0xffff);
        const q = Math.trunc(a / d);
        if (signed ? q > 32767 || q < -32768 : q > 65535) c.raise(Vector.DE, -1);
        const rm = a - q * d;
        R[0] = (R[0] & ~0xffff) | (q & 0xffff);
        R[2] = (R[2] & ~0xffff) | (rm & 0xffff);
      } else {
        const w = c.wide;
        let dlo: number, dhi: number;
        let negQ = false;
        let negR = false;
        if (osz === 4) {
          w[0] = R[0];
          w[1] = R[2];
          w[2] = signed ? R[2] >> 31 : 0;
          w[3] = w[2];
          dlo = v | 0;
          dhi = signed ? dlo >> 31 : 0;
        } else {
          w[0] = R[0];
          w[1] = H[0];
          w[2] = R[2];
          w[3] = H[2];
          dlo = v;
          dhi = vh;
        }
        if ((dlo | dhi) === 0) c.raise(Vector.DE, -1);
        if (signed) {
          if (w[3] < 0) {
            neg128(w);
            negQ = true;
            negR = true;
          }
          if (dhi < 0) {
            const l = (~dlo >>> 0) + 1;
            dlo = l | 0;
            dhi = (~dhi + (l >= TWO32 ? 1 : 0)) | 0;
            negQ = !negQ;
          }
        }
        if (!divu128(w, dlo, dhi)) c.raise(Vector.DE, -1);
        // Quotient in w[0..1], remainder in w[2..3]; check range.
        if (osz === 4) {
          if (w[1] !== 0) c.raise(Vector.DE, -1);
          if (signed && (negQ ? w[0] >>> 0 > 0x80000000 : w[0] < 0)) c.raise(Vector.DE, -1);
          const q = negQ ? -w[0] | 0 : w[0];
          const rm = negR ? -w[2] | 0 : w[2];
          R[0] = q;
          H[0] = 0;
          R[2] = rm;
          H[2] = 0;
        } else {
          if (
            signed &&
            (negQ ? w[1] >>> 0 > 0x80000000 || (w[1] >>> 0 === 0x80000000 && w[0] !== 0) : w[1] < 0)
          ) {
            c.raise(Vector.DE, -1);
          }
          let ql = w[0],
            qh = w[1],
            rl = w[2],
            rh = w[3];
          if (negQ) {
            const l = (~ql >>> 0) + 1;
            ql = l | 0;
            qh = (~qh + (l >= TWO32 ? 1 : 0)) | 0;
          }
          if (negR) {
            const l = (~rl >>> 0) + 1;
            rl = l | 0;
            rh = (~rh + (l >= TWO32 ? 1 : 0)) | 0;
          }
          R[0] = ql;
          H[0] = qh;
          R[2] = rl;
          H[2] = rh;
        }
      }
      break;
    }
    case O.BT:
    case O.BTS:
    case O.BTR:
    case O.BTC: {
      const dst = rec[b + F.X_DST];
      const src = rec[b + F.X_SRC];
      const bits = osz * 8;
      let bit: number;
      let aLo = eLo,
        aHi = eHi;
      if (src === L.IMM) bit = rec[b + F.IMM_LO] & (bits - 1);
      else if (dst !== L.MEM) bit = R[src] & (bits - 1);
      else {
        // Register bit offset with a memory operand: signed, may reach outside the operand.
        const off =
          osz === 8 ? H[src] * TWO32 + (R[src] >>> 0) : osz === 4 ? R[src] : (R[src] << 16) >> 16;
        const words = Math.floor(off / bits);
        bit = off - words * bits;
        const delta = words * osz;
        const s = (aLo >>> 0) + (((delta % TWO32) + TWO32) % TWO32);
        aLo = s | 0;
        aHi = (aHi + Math.floor(delta / TWO32) + (s >= TWO32 ? 1 : 0)) | 0;
        if (rec[b + F.ASZ] === 4) aHi = 0;
      }
      if (dst === L.MEM && op !== O.BT) c.probeWrite(aLo, aHi, osz);
      let vl = get(c, dst, osz, aLo, aHi, rec, b);
      let vh = c.hi;
      const word = bit >= 32 ? vh : vl;
      const m = 1 << (bit & 31);
      c.flags = (c.flags & ~K.CF) | ((word & m) !== 0 ? K.CF : 0);
      if (op !== O.BT) {
        const nw = op === O.BTS ? word | m : op === O.BTR ? word & ~m : word ^ m;
        if (bit >= 32) vh = nw;
        else vl = osz === 4 || osz === 8 ? nw : (nw & MASK[osz]) >>> 0;
        put(c, dst, osz, aLo, aHi, vl, vh);
      }
      break;
    }
    case O.BSF:
    case O.BSR:
    case O.TZCNT:
    case O.LZCNT:
    case O.POPCNT: {
      const dst = rec[b + F.X_DST];
      let vl = get(c, rec[b + F.X_SRC], osz, eLo, eHi, rec, b);
      const vh = osz === 8 ? c.hi : 0;
      if (osz < 8) vl = vl | 0;
      const zero = (vl | vh) === 0;
      const bits = osz * 8;
      let r = 0;
      if (op === O.POPCNT) {
        let x = vl >>> 0;
        let y = vh >>> 0;
        while (x !== 0) {
          x &= x - 1;
          r++;
        }
        while (y !== 0) {
          y &= y - 1;
          r++;
        }
        c.flags = (c.flags & ~K.STATUS) | (zero ? K.ZF : 0);
        writeReg(c, dst, osz, r, 0);
      } else if (op === O.BSF || op === O.TZCNT) {
        r = zero ? bits : vl !== 0 ? 31 - Math.clz32(vl & -vl) : 63 - Math.clz32(vh & -vh);
        if (op === O.BSF) {
          // CF OF SF AF PF are undefined; Intel clears them but gives PF of the index.
          c.flags = (c.flags & ~K.STATUS) | (zero ? K.ZF : PARITY[r]);
          if (!zero) writeReg(c, dst, osz, r, 0);
        } else {
          c.flags = (c.flags & ~K.STATUS) | (zero ? K.CF : 0) | (r === 0 ? K.ZF : 0);
          writeReg(c, dst, osz, r, 0);
        }
      } else {
        // Highest set bit index.
        const hiBit = vh !== 0 ? 63 - Math.clz32(vh) : vl !== 0 ? 31 - Math.clz32(vl) : -1;
        if (op === O.BSR) {
          c.flags = (c.flags & ~K.STATUS) | (zero ? K.ZF : PARITY[hiBit]);
          if (!zero) writeReg(c, dst, osz, hiBit, 0);
        } else {
          r = zero ? bits : bits - 1 - hiBit;
          c.flags = (c.flags & ~K.STATUS) | (zero ? K.CF : 0) | (r === 0 ? K.ZF : 0);
          writeReg(c, dst, osz, r, 0);
        }
      }
      break;
    }
  }
}

// ---- compatibility mode and segmentation (segment.ts) ----

/**
 * Op.FAR: far jmp/call (pointer or memory), the far-pointer loads and lar/lsl/verr/verw.
 * A far memory pointer with REX.W is m16:64, as Intel processors read it (hvkit's CPUID
 * says GenuineIntel); without, m16:32 or m16:16 by operand size.
 * @returns true for a far jmp/call, whose target the caller takes from `c.tables`.
 */
function farOp(
  c: X86Cpu,
  rec: Int32Array,
  b: number,
  osz: number,
  eLo: number,
  eHi: number,
  nLo: number,
  nHi: number,
): boolean {
  const k = rec[b + F.X_EXT];
  const m32 = c.codeSize !== 64;
  if (k >= FarOp.LAR) {
    const src = k >= FarOp.VERR ? rec[b + F.X_DST] : rec[b + F.X_SRC];
    const v = probeSelector(c, k - FarOp.LAR, get(c, src, 2, eLo, eHi, rec, b));
    materialize(c);
    if (v < 0) c.flags &= ~K.ZF;
    else {
      c.flags |= K.ZF;
      if (k < FarOp.VERR) writeReg(c, rec[b + F.X_DST], osz, v, 0);
    }
    return false;
  }
  let offLo: number;
  let offHi = 0;
  let sel: number;
  let w = osz;
  if (k <= FarOp.CALL_PTR) {
    offLo = osz === 2 ? rec[b + F.IMM_LO] & 0xffff : rec[b + F.IMM_LO];
    sel = rec[b + F.IMM2] & 0xffff;
  } else {
    if (k < FarOp.LES && (rec[b + F.PFX] & Pfx.REXW) !== 0) w = 8;
    offLo = c.rd(eLo, eHi, w);
    offHi = w === 8 ? c.hi : 0;
    const a = (eLo + w) | 0;
    sel = c.rd16(a, m32 ? 0 : a >>> 0 < eLo >>> 0 ? (eHi + 1) | 0 : eHi);
  }
  if (k >= FarOp.LES) {
    loadSegment(c, k - FarOp.LES, sel);
    writeReg(c, rec[b + F.X_DST], osz, offLo, offHi);
    return false;
  }
  farTarget(c, sel, offLo, offHi);
  const t = c.tables;
  if (t.targetSize !== 64) {
    t.targetHi = 0;
    if (t.targetSize === 16) t.targetLo &= 0xffff;
    // The target offset beyond the code segment's limit: #GP(0) (SDM vol. 2 JMP, CALL).
    if (t.targetLo >>> 0 > t.targetLimit >>> 0) c.gp0();
  } else if (!canonical(t.targetHi)) c.gp0();
  if (k === FarOp.CALL_PTR || k === FarOp.CALL_MEM) {
    const psz = t.gate ? 8 : w;
    c.probeWrite(
      (c.regLo[Reg.RSP] - 2 * psz) | 0,
      m32 ? 0 : c.regHi[Reg.RSP] - (c.regLo[Reg.RSP] >>> 0 < 2 * psz ? 1 : 0),
      2 * psz,
    );
    push(c, psz, c.sel[Seg.CS], 0);
    push(c, psz, nLo, nHi);
  }
  c.sel[Seg.CS] = t.targetCs;
  cacheSegment(c, Seg.CS, t.targetCs);
  c.setCodeSize(t.targetSize);
  return true;
}

/** Op.LEGACY: the instructions valid only outside 64-bit mode that load no segment. */
function legacyOp(
  c: X86Cpu,
  rec: Int32Array,
  b: number,
  osz: number,
  eLo: number,
  eHi: number,
): void {
  const R = c.regLo;
  switch (rec[b + F.X_EXT] as LegacyOp) {
    case LegacyOp.PUSHA: {
      const sp = R[4];
      for (let r = 0; r < 8; r++) push(c, osz, r === 4 ? sp : R[r], 0);
      return;
    }
    case LegacyOp.POPA:
      for (let r = 7; r >= 0; r--) {
        if (r !== 4) writeReg(c, r, osz, peek(c, osz, (7 - r) * osz), 0);
      }
      addRsp(c, 8 * osz);
      return;
    case LegacyOp.DAA:
    case LegacyOp.DAS: {
      // The SDM leaves OF undefined; Intel sets it as for adding (subtracting) the adjustment.
      materialize(c);
      const sub = rec[b + F.X_EXT] === LegacyOp.DAS;
      const old = R[0] & 0xff;
      const oldCf = c.flags & K.CF;
      let adj = 0;
      let f = c.flags & ~K.STATUS;
      if ((old & 0xf) > 9 || (c.flags & K.AF) !== 0) {
        adj = 6;
        const t = sub ? old - 6 : old + 6;
        f |= K.AF | (oldCf !== 0 || t < 0 || t > 0xff ? K.CF : 0);
      }
      if (old > 0x99 || oldCf !== 0) {
        adj |= 0x60;
        f |= K.CF;
      }
      const al = (sub ? old - adj : old + adj) & 0xff;
      const ov = sub ? (old ^ adj) & (old ^ al) : (old ^ al) & (adj ^ al);
      R[0] = (R[0] & ~0xff) | al;
      c.flags = f | (al === 0 ? K.ZF : 0) | (al & K.SF) | PARITY[al] | (ov & 0x80 ? K.OF : 0);
      return;
    }
    case LegacyOp.AAA:
    case LegacyOp.AAS: {
      // Undefined flags as Intel gives them: SF, ZF, PF and OF of the 16-bit ax ± 0x106
      // (of ax unchanged, with OF clear, when there is nothing to adjust).
      materialize(c);
      const ax = R[0] & 0xffff;
      let v = ax;
      let f = c.flags & ~K.STATUS;
      if ((ax & 0xf) > 9 || (c.flags & K.AF) !== 0) {
        const add = rec[b + F.X_EXT] === LegacyOp.AAA;
        v = (add ? ax + 0x106 : ax - 0x106) & 0xffff;
        const ov = add ? (ax ^ v) & (0x106 ^ v) : (ax ^ 0x106) & (ax ^ v);
        f |= K.AF | K.CF | (ov & 0x8000 ? K.OF : 0);
      }
      f |= (v === 0 ? K.ZF : 0) | ((v >> 8) & K.SF) | PARITY[v & 0xff];
      R[0] = (R[0] & ~0xffff) | (v & 0xff0f);
      c.flags = f;
      return;
    }
    case LegacyOp.AAM:
    case LegacyOp.AAD: {
      materialize(c);
      const imm = rec[b + F.IMM_LO] & 0xff;
      if (rec[b + F.X_EXT] === LegacyOp.AAM) {
        // OF, AF and CF are undefined: Intel clears them.
        if (imm === 0) c.raise(Vector.DE, -1);
        const a = R[0] & 0xff;
        const al = a % imm;
        R[0] = (R[0] & ~0xffff) | ((Math.floor(a / imm) & 0xff) << 8) | al;
        c.flags = (c.flags & ~K.STATUS) | (al === 0 ? K.ZF : 0) | (al & K.SF) | PARITY[al];
      } else {
        // All flags as Intel gives them: those of the 8-bit add al + (ah × imm).
        const t = (((R[0] >>> 8) & 0xff) * imm) & 0xff;
        const al = add(c, R[0] & 0xff, t, 0, 1);
        R[0] = (R[0] & ~0xffff) | al;
      }
      return;
    }
    case LegacyOp.BOUND: {
      const sh = 32 - osz * 8;
      const idx = (readReg(c, rec[b + F.X_DST], osz) << sh) >> sh;
      const lower = (c.rd(eLo, eHi, osz) << sh) >> sh;
      const upper = (c.rd((eLo + osz) | 0, eHi, osz) << sh) >> sh;
      if (idx < lower || idx > upper) c.raise(Vector.BR, -1);
      return;
    }
    default: {
      // arpl r/m16, r16
      materialize(c);
      const dst = rec[b + F.X_DST];
      const d = get(c, dst, 2, eLo, eHi, rec, b);
      const srcRpl = readReg(c, rec[b + F.X_SRC], 2) & 3;
      if ((d & 3) < srcRpl) {
        put(c, dst, 2, eLo, eHi, (d & ~3) | srcRpl, 0);
        c.flags |= K.ZF;
      } else c.flags &= ~K.ZF;
    }
  }
}

/**
 * The linear address outside 64-bit mode of an access of `size` bytes through segment
 * `seg` at `lin` (the offset, or for FS/GS the offset plus the base already added): the
 * limit checked where the segment needs it, the ES/CS/SS/DS base added.
 */
function compatLinear(c: X86Cpu, seg: number, lin: number, size: number): number {
  if (seg >= Seg.FS) {
    if ((c.segCheck & (1 << seg)) !== 0)
      checkSegmentLimit(c, seg, (lin - (seg === Seg.FS ? c.fsLo : c.gsLo)) | 0, size);
    return lin;
  }
  if ((c.segCheck & (1 << seg)) !== 0) checkSegmentLimit(c, seg, lin, size);
  return (lin + c.segBase[seg]) | 0;
}

/** Base of segment `seg` outside 64-bit mode: ES/CS/SS/DS from their descriptors (FS/GS are added by the caller). */
function compatBase(c: X86Cpu, seg: number): number {
  return seg < 4 ? c.segBase[seg] : 0;
}

/** Scratch record for {@link stackSegmentAccess} (fault path only). */
const FAULT_INSN = newInsnRecord();

/**
 * Whether the instruction at (lo, hi), whose data access was non-canonical, addressed
 * memory through SS: then 64-bit mode raises #SS(0) instead of #GP(0) (Intel SDM vol. 2,
 * "64-Bit Mode Exceptions"; AMD APM vol. 2, 8.4.2). In 64-bit mode the ES, CS, SS and DS
 * overrides are ignored, so SS is the segment exactly when the memory operand's base is
 * RSP or RBP and there is no FS or GS override, or the access is an implicit stack one.
 * Decoded again here, off the hot path, so the interpreter and compiled blocks agree.
 */
function stackSegmentAccess(c: X86Cpu, lo: number, hi: number): boolean {
  const buf = c.fetchBuf;
  let k = 0;
  for (let l = lo, h = hi; k < 15; k++) {
    const pa = c.paging.walk(l, h, Access.Exec, c.cpl === 3);
    if (pa < 0) break;
    buf[k] = c.bytes[pa];
    l = (l + 1) | 0;
    if (l === 0) h = (h + 1) | 0;
  }
  const r = FAULT_INSN;
  if (decodeInsn(buf, 0, k, 64, r, 0) <= 0) return false;
  const op = r[F.OP];
  const stack =
    op === O.PUSH ||
    op === O.POP ||
    op === O.PUSHF ||
    op === O.POPF ||
    op === O.CALL ||
    op === O.CALL_IND ||
    op === O.RET ||
    op === O.ENTER ||
    op === O.IRET;
  const rspHi = c.regHi[Reg.RSP];
  if (stack && (rspHi << 16) >> 16 !== rspHi) return true;
  if (op === O.LEAVE) return true;
  if (r[F.RM_MEM] !== 1) return false;
  const seg = r[F.SEG];
  if (seg === Seg.FS || seg === Seg.GS) return false;
  return r[F.BASE] === Reg.RSP || r[F.BASE] === Reg.RBP;
}

const FORCED_TAIL = new Uint8Array([0x78, 0x65, 0x6e, 0x0f, 0xa2]);

/** Whether the bytes after a `ud2` at (lo, hi) are "xen" followed by cpuid (0F A2). */
function isForcedCpuid(c: X86Cpu, lo: number, hi: number): boolean {
  let l = lo;
  let h = hi;
  for (let k = 0; k < 5; k++) {
    const pa = c.paging.walk(l, h, Access.Exec, c.cpl === 3);
    if (pa < 0 || c.bytes[pa] !== FORCED_TAIL[k]) return false;
    l = (l + 1) | 0;
    if (l === 0) h = (h + 1) | 0;
  }
  return true;
}
