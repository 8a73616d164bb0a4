/**
 * Decode cache: decoded-instruction records kept in one flat `Int32Array`, direct-mapped
 * by the machine address of the instruction's first byte, so a hit costs a tag compare.
 *
 * Each slot holds the decoder's record ({@link INSN_FIELDS} fields) followed by the
 * interpreter's resolved operand locations (`X_DST`, `X_SRC`, `X_AUX`), computed once
 * from the instruction table row when the slot is filled. Frames holding cached code are
 * marked in `codePages`; any write to such a frame (by the CPU, which finds out on its
 * TLB slow path, or by the hypervisor via `invalidateCode`) drops that frame's slots.
 * Instructions that straddle a page boundary are never cached.
 *
 * @module
 */
import { D, INSN_FIELDS, Pfx } from "./insn.js";
import { Op } from "./ops.js";
import { Opd, OpMap, RowFlag, TABLE } from "./table.js";

/** Record field: destination operand location (a register 0–23, or `LOC_*`). */
export const X_DST = INSN_FIELDS;
/** Record field: source operand location (a register 0–23, or `LOC_*`). */
export const X_SRC = INSN_FIELDS + 1;
/** Record field: third operand location (imul3's immediate, shld/shrd's count). */
export const X_AUX = INSN_FIELDS + 2;
/**
 * Record field: per-row extra — source size of movzx/movsx; loopne/loope/loop 0/1/2;
 * 0F 00 vs 0F 01 group for SYSDESC; 1 when a segment/control/debug register is the
 * destination (MOV_SREG, MOV_CR, MOV_DR); the segment of push/pop sreg (+1); 1 when
 * in/out/ins/outs take the port from dx; the row's `Vec` descriptor for
 * rows with MMX/XMM operands; for FXSTATE the ModRM /digit, + 8 in the 0F C7 group, + 16
 * with a 66 prefix (clwb, clflushopt); for XCR 0 xgetbv, 1 xsetbv; for X87 the opcode's
 * low three bits (bits 8–10) and the ModRM byte (register forms) or its reg field (memory); for LEGACY and FAR the
 * row's `aux` (which instruction); for SYSCALL 1 for sysenter, 2 for sysexit.
 */
export const X_EXT = INSN_FIELDS + 3;
/**
 * Record field: OP, LEN, OSZ and RM_MEM packed into one word (bits 0–7, 8–11, 12–15,
 * 16–17), so the interpreter's dispatch reads one field instead of four.
 */
export const X_PACK = INSN_FIELDS + 4;
/**
 * Record field: the memory operand's BASE (bits 0–4, 31 = none), INDEX (5–9, 31 = none),
 * SCALE (10–11), address size 8 (bit 12), SEG (13–15, 7 = none) and address size 2
 * (bit 16: 16-bit addressing wraps the offset at 64 KiB), packed like X_PACK.
 */
export const X_EA = INSN_FIELDS + 5;
/** Int32 fields per cache slot. */
export const SLOT = INSN_FIELDS + 6;

/** Operand location: the memory operand at the effective address. */
export const LOC_MEM = -1;
/** Operand location: the immediate (IMM_LO/IMM_HI). */
export const LOC_IMM = -2;
/** Operand location: none. */
export const LOC_NONE = -3;
/** Operand location: a segment, control or debug register (number in D.REG or X_EXT). */
export const LOC_SPECIAL = -4;

/** `D.RM_MEM` value the resolver writes for moffs operands: the address is IMM_LO/IMM_HI. */
export const RM_MOFFS = 2;

const SEG_OF: Partial<Record<Opd, number>> = {
  [Opd.ES]: 0,
  [Opd.CS]: 1,
  [Opd.SS]: 2,
  [Opd.DS]: 3,
  [Opd.FS]: 4,
  [Opd.GS]: 5,
};

function kindLoc(rec: Int32Array, b: number, k: Opd): number {
  switch (k) {
    case Opd.None:
      return LOC_NONE;
    case Opd.Eb:
    case Opd.Ew:
    case Opd.Ed:
    case Opd.Ev:
    case Opd.Ey:
    case Opd.Wx:
    case Opd.Wq:
    case Opd.Wd:
    case Opd.Qq:
    case Opd.Qd:
    case Opd.RdMw:
    case Opd.Ww:
    case Opd.RdMb:
      return rec[b + D.RM_MEM] !== 0 ? LOC_MEM : rec[b + D.BASE];
    case Opd.Rv:
    case Opd.Ry:
    case Opd.Ux:
    case Opd.Nq:
      return rec[b + D.BASE];
    case Opd.Vx:
    case Opd.Pq:
    case Opd.Gb:
    case Opd.Gw:
    case Opd.Gd:
    case Opd.Gv:
    case Opd.Gy:
    case Opd.Zb:
    case Opd.Zv:
      return rec[b + D.REG];
    case Opd.AL:
    case Opd.rAX:
    case Opd.eAX:
      return 0;
    case Opd.CL:
      return 1;
    case Opd.DX:
      return 2;
    case Opd.Ib:
    case Opd.Ibs:
    case Opd.Iw:
    case Opd.Iz:
    case Opd.Iv:
    case Opd.Jb:
    case Opd.Jz:
    case Opd.ONE:
    case Opd.Ap:
      return LOC_IMM;
    case Opd.Ob:
    case Opd.Ov:
    case Opd.M:
    case Opd.Xb:
    case Opd.Xv:
    case Opd.Yb:
    case Opd.Yv:
    case Opd.XLAT:
      return LOC_MEM;
    default:
      return LOC_SPECIAL;
  }
}

/**
 * The interpreter's operand resolver: operand locations from the table row's operand
 * kinds; `ONE` becomes the immediate 1; moffs becomes a memory operand at the immediate
 * address; a lock prefix on a row that does not accept it, or without a memory
 * destination, turns the record into `Op.INVALID` (#UD).
 */
export function resolveOperands(rec: Int32Array, b: number): void {
  const row = TABLE[rec[b + D.ROW]];
  const ops = row.operands;
  const k0 = ops.length > 0 ? ops[0] : Opd.None;
  const k1 = ops.length > 1 ? ops[1] : Opd.None;
  const k2 = ops.length > 2 ? ops[2] : Opd.None;
  rec[b + X_DST] = kindLoc(rec, b, k0);
  rec[b + X_SRC] = kindLoc(rec, b, k1);
  rec[b + X_AUX] = kindLoc(rec, b, k2);
  if (k1 === Opd.ONE || k2 === Opd.ONE) {
    rec[b + D.IMM_LO] = 1;
    rec[b + D.IMM_HI] = 0;
  }
  if (k0 === Opd.Ob || k0 === Opd.Ov || k1 === Opd.Ob || k1 === Opd.Ov)
    rec[b + D.RM_MEM] = RM_MOFFS;
  let ext = 0;
  switch (row.op) {
    case Op.MOVZX:
    case Op.MOVSX:
      ext = k1 === Opd.Eb ? 1 : k1 === Opd.Ew ? 2 : 4;
      break;
    case Op.LOOP:
      ext = row.opcode - 0xe0;
      break;
    case Op.SYSDESC:
      ext = row.map === OpMap.M0F ? row.opcode : 0;
      break;
    case Op.MOV_SREG:
    case Op.MOV_CR:
    case Op.MOV_DR:
      ext = kindLoc(rec, b, k0) === LOC_SPECIAL ? 1 : 0;
      break;
    case Op.PUSH:
    case Op.POP:
      ext = SEG_OF[k0] !== undefined ? (SEG_OF[k0] as number) + 1 : 0;
      break;
    case Op.IN:
    case Op.OUT:
    case Op.INS:
    case Op.OUTS:
      ext = k0 === Opd.DX || k1 === Opd.DX ? 1 : 0;
      break;
    case Op.FXSTATE:
      ext = row.ext | (row.opcode === 0xc7 ? 8 : 0) | (row.prefix === 0x66 ? 16 : 0);
      break;
    case Op.XCR:
      ext = row.rm;
      break;
    case Op.X87: {
      const modrm = rec[b + D.MODRM] & 0xff;
      ext = ((row.opcode & 7) << 8) | (rec[b + D.RM_MEM] !== 0 ? modrm & 0x38 : modrm);
      break;
    }
    case Op.LEGACY:
    case Op.FAR:
    case Op.SYSCALL:
      ext = row.aux;
      break;
    default:
      ext = row.vector;
  }
  rec[b + X_EXT] = ext;
  if (
    (rec[b + D.PFX] & Pfx.LOCK) !== 0 &&
    ((row.flags & RowFlag.LOCK) === 0 || rec[b + D.RM_MEM] === 0)
  ) {
    rec[b + D.OP] = Op.INVALID;
  }
  rec[b + X_EA] =
    (rec[b + D.BASE] & 31) |
    ((rec[b + D.INDEX] & 31) << 5) |
    ((rec[b + D.SCALE] & 3) << 10) |
    (rec[b + D.ASZ] === 8 ? 1 << 12 : 0) |
    ((rec[b + D.SEG] & 7) << 13) |
    (rec[b + D.ASZ] === 2 ? 1 << 16 : 0);
  rec[b + X_PACK] =
    (rec[b + D.OP] & 0xff) |
    (rec[b + D.LEN] << 8) |
    (rec[b + D.OSZ] << 12) |
    (rec[b + D.RM_MEM] << 16);
}

/** log2 of the number of cache slots. */
export const DC_BITS = 15;
const DC_SIZE = 1 << DC_BITS;
const DC_MASK = DC_SIZE - 1;

/** The decode cache's key for a code size: 0 for 64-bit code, 1 for 32-bit, 2 for 16-bit. */
export function modeKey(mode: 64 | 32 | 16): number {
  return mode === 64 ? 0 : mode === 32 ? 1 : 2;
}

/** The decoder's entry point (decode.ts `decodeInsn`). */
export type DecodeFn = (
  code: Uint8Array,
  offset: number,
  limit: number,
  mode: 64 | 32 | 16,
  out: Int32Array,
  base: number,
) => number;

/** Fills `X_DST`, `X_SRC`, `X_AUX` of the record at `base` from its table row. */
export type OperandResolver = (rec: Int32Array, base: number) => void;

/** The decode cache of one CPU. */
export class DecodeCache {
  /** Machine address (as int32) cached in each slot; −1 for empty. */
  readonly tag = new Int32Array(DC_SIZE).fill(-1);
  /**
   * The code size each slot was decoded for, as {@link modeKey} gives it: the same bytes
   * decode differently in 64-bit and in 32- or 16-bit code, so a hit needs both to match.
   */
  readonly mode = new Uint8Array(DC_SIZE);
  /** Slot records; the slot at index `DC_SIZE` is scratch for uncacheable instructions. */
  readonly recs = new Int32Array((DC_SIZE + 1) * SLOT);
  /** Per machine frame: 1 when some slot holds code of it. */
  readonly codePages: Uint8Array;
  /**
   * Per machine frame: a generation bumped whenever code that a compiled block was built
   * from may have changed (a write to a marked line, or the frame dropped); a block is
   * valid while the generation it was built under is current.
   */
  readonly frameGen: Int32Array;
  /** Per 64-byte line of machine memory: 1 when a compiled block holds bytes of it. */
  readonly blockLines: Uint8Array;
  /** Slot index used for an instruction decoded outside the cache. */
  static readonly SCRATCH = DC_SIZE;
  /** Mask from machine address to slot index. */
  static readonly MASK = DC_MASK;

  /**
   * @param frames - number of machine frames.
   * @param decode - the decoder.
   * @param resolve - operand resolver for decoded records.
   * @param onNewCodePage - called when a frame first gets cached code (to drop TLB write rights).
   */
  constructor(
    frames: number,
    readonly decode: DecodeFn,
    readonly resolve: OperandResolver,
    private readonly onNewCodePage: (mfn: number) => void,
  ) {
    this.codePages = new Uint8Array(frames);
    this.frameGen = new Int32Array(frames);
    this.blockLines = new Uint8Array(frames * 64);
  }

  /** Marks machine bytes `[pa, end)` (within one frame) as compiled into a block. */
  markBlock(pa: number, end: number): void {
    for (let l = pa >>> 6; l <= (end - 1) >>> 6; l++) this.blockLines[l] = 1;
  }

  /** Invalidates every compiled block of machine frame `mfn`. */
  private dropBlocks(mfn: number): void {
    this.frameGen[mfn] = (this.frameGen[mfn] + 1) | 0;
    this.blockLines.fill(0, mfn * 64, mfn * 64 + 64);
  }

  /**
   * Decodes the instruction at machine address `pa` (bytes up to `limit`) into its slot.
   * @returns the decoder's result: length, 0 (needs bytes beyond `limit`), −1 (invalid).
   */
  fill(bytes: Uint8Array, pa: number, limit: number, mode: 64 | 32 | 16): number {
    const i = pa & DC_MASK;
    const n = this.decode(bytes, pa, limit, mode, this.recs, i * SLOT);
    if (n <= 0) return n;
    this.resolve(this.recs, i * SLOT);
    this.tag[i] = pa | 0;
    this.mode[i] = modeKey(mode);
    const mfn = Math.floor(pa / 4096);
    if (this.codePages[mfn] === 0) {
      this.codePages[mfn] = 1;
      this.onNewCodePage(mfn);
    }
    return n;
  }

  /** Decodes `code` (a scratch copy) into the scratch slot without caching it. */
  fillScratch(code: Uint8Array, limit: number, mode: 64 | 32 | 16): number {
    const n = this.decode(code, 0, limit, mode, this.recs, DC_SIZE * SLOT);
    if (n > 0) this.resolve(this.recs, DC_SIZE * SLOT);
    return n;
  }

  /** Drops every cached decoding of machine frame `mfn`. */
  invalidateFrame(mfn: number): void {
    if (this.codePages[mfn] === 0) return;
    this.codePages[mfn] = 0;
    this.dropBlocks(mfn);
    const tag = this.tag;
    const first = mfn * 4096;
    for (let off = 0; off < 4096; off++) {
      const i = (first + off) & DC_MASK;
      if (tag[i] === ((first + off) | 0)) tag[i] = -1;
    }
  }

  /**
   * Drops cached decodings of instructions that overlap machine bytes `[pa, pa + length)`
   * (an instruction is at most 15 bytes, and none crosses a frame boundary).
   */
  invalidateRange(pa: number, length: number): void {
    if (length <= 0) return;
    if (length >= 4096) {
      const last = Math.floor((pa + length - 1) / 4096);
      for (let f = Math.floor(pa / 4096); f <= last && f < this.codePages.length; f++)
        this.invalidateFrame(f);
      return;
    }
    const lines = this.blockLines;
    const lastLine = Math.min((pa + length - 1) >>> 6, lines.length - 1);
    for (let l = Math.max(pa - 14, 0) >>> 6; l <= lastLine; l++) {
      if (lines[l] !== 0) this.dropBlocks(l >>> 6);
    }
    const tag = this.tag;
    for (let a = pa - 14; a < pa + length; a++) {
      const i = a & DC_MASK;
      if (tag[i] === (a | 0)) tag[i] = -1;
    }
  }

  /** Drops everything. */
  flush(): void {
    this.tag.fill(-1);
    this.codePages.fill(0);
    this.blockLines.fill(0);
    for (let f = 0; f < this.frameGen.length; f++) this.frameGen[f] = (this.frameGen[f] + 1) | 0;
  }
}
