/**
 * The debug facilities of the x86 CPU model (Intel SDM vol. 3, chapter 18): breakpoints
 * in DR0–DR3 enabled by DR7, single-step (RFLAGS.TF), the status bits in DR6, and the
 * deferral of debug exceptions across the instruction after `mov ss` (the interrupt
 * shadow, SDM 6.8.3).
 *
 * The interpreter's normal loop does no debug work at all: `execute` looks at one flag
 * ({@link X86Cpu.debugActive}, or TF) when a run or slice starts, and while it is set runs
 * the guest one instruction at a time through {@link executeDebug}, with compiled blocks
 * off. Around each instruction this module
 * - raises an instruction breakpoint as a fault before it (unless RFLAGS.RF is set, or a
 *   `mov ss` shadow is in force), rip on the instruction;
 * - after it, matches its explicit memory operand against the data breakpoints (RW = 01
 *   writes, RW = 11 reads or writes; lengths 1, 2, 4 or 8 mask the low address bits), adds
 *   BS when TF was set as it began, and raises the #DB as a trap (rip after it);
 * - after a `mov ss`, holds those conditions until the next instruction has completed.
 *   When that instruction leaves the guest instead (syscall, a software interrupt, any
 *   exception) the held #DB belongs to the hypervisor's entry path; Xen ignores a #DB in
 *   its own context (traps.c do_debug, since XSA-260), so it is dropped.
 *
 * Besides the explicit memory operand, the implicit accesses of push/pop/pushf/popf/call/
 * ret (the stack slot) and of the string instructions (rsi, rdi) are matched.
 *
 * DR6 is updated as Xen merges it (debug.c x86_merge_dr6): the breakpoint bits B0–B3 are
 * replaced by the new hits, all other bits accumulate. Not modelled: other implicit
 * accesses (enter/leave, iret, descriptor-table reads), I/O breakpoints (RW = 10),
 * general detect, task-switch (BT).
 *
 * @module
 */
import { Seg, Vector, X86ExitReason } from "./cpu-api.js";
import { type X86Cpu } from "./cpu.js";
import { decodeInsn } from "./decode.js";
import { LOC_MEM, RM_MOFFS, SLOT, X_DST, X_EXT, resolveOperands } from "./decode-cache.js";
import { BASE_RIP, D, Pfx } from "./insn.js";
import { Op } from "./ops.js";
import { Access } from "./paging.js";

/** DR6 bits (SDM vol. 3, 18.2.3; Xen x86-defns.h). */
export const Dr6 = {
  /** Breakpoint conditions B0–B3 (bit n for DRn). */
  BP_MASK: 0xf,
  /** A debug-register access with DR7.GD set. */
  BD: 0x2000,
  /** Single step. */
  BS: 0x4000,
  /** Task switch. */
  BT: 0x8000,
  /** Bits that read as 1 (X86_DR6_DEFAULT): DR6's value at reset. */
  DEFAULT: 0xffff0ff0,
  /** Bits forced to 0 (X86_DR6_ZEROS). */
  ZEROS: 0x1000,
} as const;

/** DR7 fields (SDM vol. 3, 18.2.4; Xen debugreg.h and x86-defns.h). */
export const Dr7 = {
  /** L0–L3 and G0–G3: any set arms a breakpoint (DR7_ACTIVE_MASK). */
  ACTIVE: 0xff,
  /** General detect enable. */
  GD: 0x2000,
  /** Bit 10, always 1 (X86_DR7_DEFAULT): DR7's value at reset. */
  DEFAULT: 0x400,
  /** Bits forced to 0 (X86_DR7_ZEROS). */
  ZEROS: 0xd000,
  /** RTM debugging enable (forced to 0 without RTM). */
  RTM: 0x800,
  /** R/Wn value of an I/O breakpoint (valid only with CR4.DE). */
  RW_IO: 2,
} as const;

/** RFLAGS.TF. */
const TF = 0x100;
/** RFLAGS.RF. */
const RF = 0x10000;
/** Breakpoint kinds by their DR7 R/W encoding. */
const EXEC = 0;
const WRITE = 1;
const READ = 3;
/** Breakpoint lengths by DR7 LEN encoding (00 = 1, 01 = 2, 10 = 8, 11 = 4). */
const LEN_BYTES = [1, 2, 8, 4];

/** The interpreter's one-slice entry point (execute.ts `slice`). */
export type SliceFn = (c: X86Cpu, start: number, budget: number) => X86ExitReason;

/** Whether debug stepping is needed: a breakpoint is armed or TF is set. */
export function debugWanted(c: X86Cpu): boolean {
  return c.debugActive || (c.flags & TF) !== 0 || c.pendingDb !== 0;
}

/** DR6 after new breakpoint hits and other conditions `bits` (Xen's x86_merge_dr6). */
export function mergeDr6(dr6: number, bits: number): number {
  let v = (dr6 ^ Dr6.DEFAULT) >>> 0;
  v = ((v & ~Dr6.BP_MASK) | bits) >>> 0;
  return ((v ^ Dr6.DEFAULT) | Dr6.DEFAULT) & ~Dr6.ZEROS;
}

/**
 * The B0–B3 bits of the enabled breakpoints of `kind` that an access of `size` bytes at
 * (lo, hi) touches. Kind WRITE matches R/W 01 and 11; READ matches 11; EXEC matches 00.
 */
export function matchBreakpoints(
  c: X86Cpu,
  lo: number,
  hi: number,
  size: number,
  kind: number,
): number {
  const dr7 = c.dr[7];
  let hits = 0;
  for (let i = 0; i < 4; i++) {
    if (((dr7 >>> (2 * i)) & 3) === 0) continue;
    const rw = (dr7 >>> (16 + 4 * i)) & 3;
    if (kind === EXEC ? rw !== 0 : kind === WRITE ? rw !== 1 && rw !== 3 : rw !== 3) continue;
    const len = kind === EXEC ? 1 : LEN_BYTES[(dr7 >>> (18 + 4 * i)) & 3];
    if (c.drHi[i] !== hi) continue;
    const b = (c.dr[i] & -len) >>> 0;
    const a = lo >>> 0;
    if (a < b + len && b < a + size) hits |= 1 << i;
  }
  return hits;
}

/** Scratch for decoding the instruction about to run (debug path only). */
const bytes = new Uint8Array(16);
const rec = new Int32Array(SLOT);

/** The explicit memory access of the instruction at rip: set by {@link inspect}. */
let accLo = 0;
let accHi = 0;
/** Bytes accessed (0 none). */
let accSize = 0;
/** The access writes its operand. */
let accWrite = false;
/** The instruction is `mov ss`. */
let movSs = false;
/** A second access: the stack (push, pop, call, ret) or a string operand. */
let acc2Lo = 0;
let acc2Hi = 0;
let acc2Size = 0;
let acc2Write = false;

/** (lo, hi) + `delta` (a small signed number), as a 64-bit address pair into acc2. */
function setAcc2(lo: number, hi: number, delta: number, size: number, write: boolean): void {
  const s = (lo >>> 0) + delta;
  acc2Lo = s | 0;
  acc2Hi = (hi + (s < 0 ? -1 : s > 0xffffffff ? 1 : 0)) | 0;
  acc2Size = size;
  acc2Write = write;
}

/** The implicit accesses of stack and string instructions (into acc2, and accLo for movs/cmps). */
function implicitAccess(c: X86Cpu, op: number, osz: number, a32: boolean, seg: number): void {
  const R = c.regLo;
  const H = c.regHi;
  switch (op) {
    case Op.PUSH:
    case Op.PUSHF:
      return setAcc2(R[4], H[4], -osz, osz, true);
    case Op.CALL:
    case Op.CALL_IND:
      return setAcc2(R[4], H[4], -8, 8, true);
    case Op.POP:
    case Op.POPF:
      return setAcc2(R[4], H[4], 0, osz, false);
    case Op.RET:
      return setAcc2(R[4], H[4], 0, 8, false);
    case Op.STOS:
    case Op.SCAS:
      return setAcc2(R[7], a32 ? 0 : H[7], 0, osz, op === Op.STOS);
    case Op.LODS:
    case Op.MOVS:
    case Op.CMPS: {
      // The source: rsi, with an fs:/gs: override's base.
      let lo = R[6];
      let hi = a32 ? 0 : H[6];
      if (seg === Seg.FS || seg === Seg.GS) {
        const s = (lo >>> 0) + ((seg === Seg.FS ? c.fsLo : c.gsLo) >>> 0);
        lo = s | 0;
        hi = (hi + (seg === Seg.FS ? c.fsHi : c.gsHi) + (s > 0xffffffff ? 1 : 0)) | 0;
      }
      if (op === Op.LODS) return setAcc2(lo, hi, 0, osz, false);
      accLo = lo;
      accHi = hi;
      accSize = osz;
      accWrite = false;
      return setAcc2(R[7], a32 ? 0 : H[7], 0, osz, op === Op.MOVS);
    }
  }
}

/** Decodes the instruction at rip and notes its memory operand (no side effects on the guest). */
function inspect(c: X86Cpu): void {
  accSize = 0;
  acc2Size = 0;
  movSs = false;
  let k = 0;
  for (let l = c.ripLo, h = c.ripHi; k < 15; k++) {
    const pa = c.paging.walk(l, h, Access.Exec, c.cpl === 3);
    if (pa < 0) break;
    bytes[k] = c.bytes[pa];
    l = (l + 1) | 0;
    if (l === 0) h = (h + 1) | 0;
  }
  const len = decodeInsn(bytes, 0, k, 64, rec, 0);
  if (len <= 0) return;
  resolveOperands(rec, 0);
  const op = rec[D.OP];
  if (op === Op.MOV_SREG && rec[X_EXT] === 1 && rec[D.REG] === Seg.SS) movSs = true;
  const a32 = rec[D.ASZ] === 4;
  const repNone =
    (rec[D.PFX] & (Pfx.REP | Pfx.REPNE)) !== 0 &&
    (a32 ? c.regLo[1] : c.regLo[1] | c.regHi[1]) === 0;
  if (!repNone) implicitAccess(c, op, rec[D.OSZ], a32, rec[D.SEG]);
  const mem = rec[D.RM_MEM];
  if (mem === 0 || op === Op.LEA || op === Op.NOP || op === Op.PREFETCH) return;
  let lo: number, hi: number;
  if (mem === RM_MOFFS) {
    lo = rec[D.IMM_LO];
    hi = rec[D.ASZ] === 4 ? 0 : rec[D.IMM_HI];
  } else {
    lo = rec[D.DISP];
    hi = lo >> 31;
    const base = rec[D.BASE];
    if (base >= 0) {
      let bl: number, bh: number;
      if (base === BASE_RIP) {
        bl = (c.ripLo + len) | 0;
        bh = bl >>> 0 < c.ripLo >>> 0 ? (c.ripHi + 1) | 0 : c.ripHi;
      } else {
        bl = c.regLo[base];
        bh = c.regHi[base];
      }
      const s = (lo >>> 0) + (bl >>> 0);
      lo = s | 0;
      hi = (hi + bh + (s > 0xffffffff ? 1 : 0)) | 0;
    }
    const idx = rec[D.INDEX];
    if (idx >= 0) {
      const sc = rec[D.SCALE];
      const il = c.regLo[idx];
      const xl = il << sc;
      const xh = sc === 0 ? c.regHi[idx] : (c.regHi[idx] << sc) | (il >>> (32 - sc));
      const s = (lo >>> 0) + (xl >>> 0);
      lo = s | 0;
      hi = (hi + xh + (s > 0xffffffff ? 1 : 0)) | 0;
    }
    if (rec[D.ASZ] === 4) hi = 0;
  }
  const sg = rec[D.SEG];
  if (sg === Seg.FS || sg === Seg.GS) {
    const s = (lo >>> 0) + ((sg === Seg.FS ? c.fsLo : c.gsLo) >>> 0);
    lo = s | 0;
    hi = (hi + (sg === Seg.FS ? c.fsHi : c.gsHi) + (s > 0xffffffff ? 1 : 0)) | 0;
  }
  accLo = lo;
  accHi = hi;
  accSize = op === Op.MOV_SREG ? 2 : rec[D.OSZ];
  accWrite = rec[X_DST] === LOC_MEM && op !== Op.CMP && op !== Op.TEST;
}

/** Ends the run with a #DB: DR6 merged with `bits`; rip as the caller left it. */
function raiseDebug(c: X86Cpu, bits: number, retired: number): X86ExitReason {
  c.dr[6] = mergeDr6(c.dr[6], bits);
  const e = c.exit;
  e.reason = X86ExitReason.Exception;
  e.vector = Vector.DB;
  e.errorCode = -1;
  e.software = false;
  e.forced = false;
  e.instructionLength = 0;
  e.retired = retired;
  c.retiredInRun = retired;
  return X86ExitReason.Exception;
}

/**
 * Runs `c` one instruction at a time from `done` retired instructions until `budget`,
 * with the debug checks described in the module comment. Compiled blocks are not entered.
 * @returns the exit reason (details in `c.exit`).
 */
export function executeDebug(
  c: X86Cpu,
  budget: number,
  done: number,
  slice: SliceFn,
): X86ExitReason {
  const exit = c.exit;
  c.stepping = true;
  try {
    while (done < budget) {
      if ((c.flags & RF) === 0 && c.pendingDb === 0 && c.debugActive) {
        const hits = matchBreakpoints(c, c.ripLo, c.ripHi, 1, EXEC);
        if (hits !== 0) return raiseDebug(c, hits, done);
      }
      const tf = (c.flags & TF) !== 0;
      if (c.debugActive) inspect(c);
      else {
        accSize = 0;
        acc2Size = 0;
        movSs = false;
      }
      const size = accSize;
      const lo = accLo;
      const hi = accHi;
      const write = accWrite;
      const size2 = acc2Size;
      const lo2 = acc2Lo;
      const hi2 = acc2Hi;
      const write2 = acc2Write;
      const shadow = movSs;
      const r = slice(c, done, done + 1);
      done = exit.retired;
      if (r !== X86ExitReason.Budget) {
        // Left the guest: a held #DB is taken in the hypervisor's context and ignored.
        c.pendingDb = 0;
        return r;
      }
      c.flags &= ~RF;
      let hits = c.pendingDb;
      c.pendingDb = 0;
      if (tf) hits |= Dr6.BS;
      if (size !== 0) hits |= matchBreakpoints(c, lo, hi, size, write ? WRITE : READ);
      if (size2 !== 0) hits |= matchBreakpoints(c, lo2, hi2, size2, write2 ? WRITE : READ);
      if (shadow) {
        c.pendingDb = hits;
        continue;
      }
      if (hits !== 0) return raiseDebug(c, hits, done);
      if (!debugWanted(c)) {
        // Debugging switched off (DR7 cleared, TF dropped): back to the normal loop.
        exit.retired = done;
        return X86ExitReason.Budget;
      }
    }
    exit.retired = done;
    return X86ExitReason.Budget;
  } finally {
    c.stepping = false;
  }
}
