/**
 * The x86 instruction decoder: bytes → a decoded-instruction record ({@link D}).
 *
 * Lookup arrays are built once from {@link TABLE} at module load, so decoding an
 * instruction is a prefix loop and a few typed-array reads; nothing is allocated per call.
 *
 * @module
 */
import { BASE_RIP, D, INSN_FIELDS, Pfx, REG_AH } from "./insn.js";
import { ModMatch, Opd, RowFlag, TABLE, rowValidIn, type InsnRow } from "./table.js";

// Module-local copies of imported constants: some loaders (tsx, vite-node) turn imported
// bindings into getter calls, which would cost more than the rest of the decoder.
const {
  ROW,
  OP,
  LEN,
  OSZ,
  ASZ,
  PFX,
  SEG,
  REG,
  RM_MEM,
  BASE,
  INDEX,
  SCALE,
  DISP,
  IMM_LO,
  IMM_HI,
  IMM2,
  CC,
  REX,
  PFX_SEQ,
  MODRM,
} = D;
const {
  LOCK: P_LOCK,
  REP: P_REP,
  REPNE: P_REPNE,
  OPSIZE: P_OPSIZE,
  ADSIZE: P_ADSIZE,
  REX: P_REX,
  REXW: P_REXW,
} = Pfx;
const { D64: F_D64, F64: F_F64, Z32: F_Z32, FAR: F_FAR, LOCK: F_LOCK, MODREG: F_MODREG } = RowFlag;
const RIP = BASE_RIP;
const AH = REG_AH;

/** Immediate encodings a row can carry (precomputed per row). */
const enum Imm {
  None = 0,
  /** imm8, zero-extended. */ B,
  /** imm8 / rel8, sign-extended. */ BS,
  /** imm16, zero-extended. */ W,
  /** imm16/imm32 by operand size, sign-extended. */ Z,
  /** imm16/32/64 by operand size. */ V,
  /** moffs by address size, zero-extended. */ O,
  /** ptr16:16/32: offset (z) then selector. */ AP,
}

const NROWS = TABLE.length;
const R_OP = new Int32Array(NROWS);
const R_FLAGS = new Int32Array(NROWS);
const R_IMM = new Uint8Array(NROWS);
const R_IMM2 = new Uint8Array(NROWS);
/** REG field source: 0 none/extension (ModRM reg written raw), 1 ModRM reg, 2 opcode low bits. */
const R_REGSRC = new Uint8Array(NROWS);
const R_BYTEREG = new Uint8Array(NROWS);
const R_BYTERM = new Uint8Array(NROWS);
const R_BYTE = new Uint8Array(NROWS);
const R_CC = new Uint8Array(NROWS);
const R_SREG = new Uint8Array(NROWS);
/** 1 for rows with MMX/XMM operands: 66 is their mandatory prefix, never an operand size. */
const R_VEC = new Uint8Array(NROWS);

const immOf = (o: Opd): Imm => {
  switch (o) {
    case Opd.Ib:
      return Imm.B;
    case Opd.Ibs:
    case Opd.Jb:
      return Imm.BS;
    case Opd.Iw:
      return Imm.W;
    case Opd.Iz:
    case Opd.Jz:
      return Imm.Z;
    case Opd.Iv:
      return Imm.V;
    case Opd.Ob:
    case Opd.Ov:
      return Imm.O;
    case Opd.Ap:
      return Imm.AP;
    default:
      return Imm.None;
  }
};

for (const row of TABLE) {
  const i = row.index;
  R_OP[i] = row.op;
  R_FLAGS[i] = row.flags;
  R_BYTE[i] = row.byteSized ? 1 : 0;
  R_CC[i] = row.cc ? 1 : 0;
  R_VEC[i] = row.vector !== 0 ? 1 : 0;
  let n = 0;
  for (const o of row.operands) {
    const k = immOf(o);
    if (k !== Imm.None) {
      if (n++ === 0) R_IMM[i] = k;
      else R_IMM2[i] = k;
    }
    if (
      o === Opd.Gb ||
      o === Opd.Gw ||
      o === Opd.Gd ||
      o === Opd.Gv ||
      o === Opd.Gy ||
      o === Opd.Cy ||
      o === Opd.Dy ||
      o === Opd.Vx ||
      o === Opd.Pq
    )
      R_REGSRC[i] = 1;
    if (o === Opd.Sw) {
      R_REGSRC[i] = 1;
      R_SREG[i] = row.operands[0] === Opd.Sw ? 2 : 1;
    }
    if (o === Opd.Zb || o === Opd.Zv) R_REGSRC[i] = 2;
    if (o === Opd.Gb || o === Opd.Zb) R_BYTEREG[i] = 1;
    if (o === Opd.Eb) R_BYTERM[i] = 1;
  }
}

/** Lookup sets: 0 = long mode, 1 = legacy/compatibility (32- and 16-bit). */
const ENTRY = new Int32Array(2 * 1024).fill(-1);
const HAS_MODRM = new Uint8Array(2 * 1024);
const blocks: number[] = [];
/** Row index of the plain `nop` (90 without REX.B) and `pause` (f3 90). */
let NOP90 = -1;
let PAUSE = -1;
/** Row index of `xchg Zv, rAX` at opcode 90, per lookup set. */
const XCHG90 = [-1, -1];

const PFX_CLASS = [0, 0x66, 0xf3, 0xf2];
function pick(rows: InsnRow[], cls: number, isReg: boolean, reg: number, rm: number): number {
  let best = -1;
  let bestScore = -1;
  for (const pass of cls === 0 ? [0] : [PFX_CLASS[cls], 0]) {
    for (const r of rows) {
      if (r.prefix !== pass) continue;
      if (r.flags & RowFlag.NP && cls !== 0) continue;
      if (r.ext >= 0 && r.ext !== reg) continue;
      if (r.mod === ModMatch.Mem && isReg) continue;
      if (r.mod === ModMatch.Reg && !isReg) continue;
      if (r.rm >= 0 && (!isReg || r.rm !== rm)) continue;
      const score = (r.rm >= 0 ? 4 : 0) + (r.ext >= 0 ? 2 : 0) + (r.mod !== ModMatch.Any ? 1 : 0);
      if (score > bestScore) {
        best = r.index;
        bestScore = score;
      }
    }
    if (best >= 0) return best;
  }
  return -1;
}

for (let set = 0; set < 2; set++) {
  const mode = set === 0 ? 64 : 32;
  const byKey = new Map<number, InsnRow[]>();
  for (const row of TABLE) {
    if (!rowValidIn(row, mode)) continue;
    if (row.map === 0 && row.opcode === 0x90 && row.opcodeCount === 1) {
      if (row.prefix === 0xf3) PAUSE = row.index;
      else NOP90 = row.index;
      continue;
    }
    for (let k = 0; k < row.opcodeCount; k++) {
      const key = row.map * 256 + row.opcode + k;
      let l = byKey.get(key);
      if (!l) byKey.set(key, (l = []));
      l.push(row);
    }
  }
  for (const [key, rows] of byKey) {
    const modrm = rows[0].modrm;
    if (rows.some((r) => r.modrm !== modrm))
      throw new Error(`table: mixed ModRM use at ${key.toString(16)}`);
    HAS_MODRM[set * 1024 + key] = modrm ? 1 : 0;
    const r0 = rows[0];
    if (
      rows.length === 1 &&
      r0.prefix === 0 &&
      r0.ext < 0 &&
      r0.mod === ModMatch.Any &&
      r0.rm < 0
    ) {
      ENTRY[set * 1024 + key] = r0.index;
      continue;
    }
    if (!modrm) throw new Error(`table: ambiguous rows without ModRM at ${key.toString(16)}`);
    const b = blocks.length / 512;
    for (let cls = 0; cls < 4; cls++)
      for (let isReg = 0; isReg < 2; isReg++)
        for (let reg = 0; reg < 8; reg++)
          for (let rm = 0; rm < 8; rm++) blocks.push(pick(rows, cls, isReg === 1, reg, rm));
    ENTRY[set * 1024 + key] = -2 - b;
  }
}
const BLOCKS = Int16Array.from(blocks);
XCHG90[0] = ENTRY[0x90];
XCHG90[1] = ENTRY[1024 + 0x90];

/** Prefix byte → kind: 0 not a prefix, else its code in {@link PfxCode} order. */
const PREFIX = new Uint8Array(256);
[0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x66, 0x67].forEach(
  (b, i) => (PREFIX[b] = i + 1),
);
/** Segment register of a segment-override prefix code (codes 4–9). */
const SEG_OF_CODE = [-1, -1, -1, -1, 1, 2, 3, 0, 4, 5, -1, -1];
/** 16-bit addressing: base and index registers per ModRM.rm. */
const BASE16 = [3, 3, 5, 5, 6, 7, 5, 3];
const INDEX16 = [6, 7, 6, 7, -1, -1, -1, -1];

/**
 * Decodes the instruction at `code[offset]` into `out[base .. base + INSN_FIELDS)`.
 *
 * Reads no byte at or beyond `limit` (callers pass a scratch copy across page
 * boundaries; `limit` must not exceed `code.length`). `mode` is the code size: 64 (long
 * mode), 32 or 16.
 *
 * Record conventions beyond {@link D}'s field notes, by operand kind ({@link Opd}):
 * - G/C/D kinds and rows with a /digit: REG = ModRM.reg | REX.R << 3; Sw: REG = ModRM.reg
 *   (0–5; 6, 7 and a load of cs are #UD); Z kinds: REG = opcode & 7 | REX.B << 3.
 * - E/M/R kinds: RM_MEM, BASE, INDEX, SCALE, DISP; rows flagged MODREG (mov cr/dr) ignore
 *   mod and always name a register. 16-bit addressing uses BASE/INDEX pairs (bx+si, ...).
 * - moffs (Ob/Ov): no ModRM, RM_MEM = 0; the address is IMM_LO/IMM_HI (zero-extended
 *   from the address size).
 * - enter: IMM_LO = frame size, IMM2 = nesting level; far pointer (Ap): IMM_LO = offset,
 *   IMM2 = selector.
 * - Operand size follows AMD and objdump where they differ from Intel: 66 on a near
 *   branch gives a 16-bit operand (rel16), REX.W on a far indirect call/jmp is ignored.
 * - f3 90 is pause even with REX.B (as objdump decodes it).
 * - Rows with MMX/XMM operands: V/P kinds take REG like G kinds (P ignores REX.R when
 *   executed and printed), W/Q/U/N like E kinds; OSZ is 8 with REX.W, else 4 (66 selects
 *   the SSE form there, it is not an operand size).
 *
 * @returns the instruction length (1–15); 0 when it needs bytes at or beyond `limit`
 *   (retry with more); −1 when the bytes are not a valid instruction in this mode (#UD):
 *   unknown or out-of-mode opcode, more than 15 bytes, a lock prefix on an instruction
 *   that does not take one or on a register destination, an invalid segment register.
 *   On 0 or −1 the record is left partly written.
 */
export function decodeInsn(
  code: Uint8Array,
  offset: number,
  limit: number,
  mode: 64 | 32 | 16,
  out: Int32Array,
  base: number,
): number {
  const hard = offset + 15;
  const lim = limit < hard ? limit : hard;
  const long = mode === 64;
  let p = offset;
  let pfx = 0;
  let seg = -1;
  let seq = 0;
  let nseq = 0;
  let rex = 0;
  let repLast = 0;
  let b = 0;
  for (;;) {
    if (p >= lim) return p >= hard ? -1 : 0;
    b = code[p];
    const k = PREFIX[b];
    if (k !== 0) {
      rex = 0;
      if (nseq < 8) seq |= k << (4 * nseq++);
      else seq = (seq >>> 4) | (k << 28);
      switch (k) {
        case 1:
          pfx |= P_LOCK;
          break;
        case 2:
          repLast = P_REPNE;
          break;
        case 3:
          repLast = P_REP;
          break;
        case 10:
          pfx |= P_OPSIZE;
          break;
        case 11:
          pfx |= P_ADSIZE;
          break;
        default:
          seg = SEG_OF_CODE[k];
      }
      p++;
      continue;
    }
    if (long && (b & 0xf0) === 0x40) {
      rex = b;
      p++;
      continue;
    }
    break;
  }
  pfx |= repLast;
  if (rex !== 0) pfx |= rex & 8 ? P_REX | P_REXW : P_REX;
  // Opcode.
  let key = b;
  p++;
  if (b === 0x0f) {
    if (p >= lim) return p >= hard ? -1 : 0;
    b = code[p++];
    key = 256 + b;
    if (b === 0x38 || b === 0x3a) {
      if (p >= lim) return p >= hard ? -1 : 0;
      key = (b === 0x38 ? 512 : 768) + code[p++];
    }
  }
  const set = long ? 0 : 1024;
  let e = ENTRY[set + key];
  if (e === -1) return -1;
  let modrm = -1;
  let sib = -1;
  if (HAS_MODRM[set + key] !== 0) {
    if (p >= lim) return p >= hard ? -1 : 0;
    modrm = code[p++];
    if (e < -1) {
      const cls = repLast === P_REP ? 2 : repLast === P_REPNE ? 3 : pfx & P_OPSIZE ? 1 : 0;
      e =
        BLOCKS[
          (-2 - e) * 512 + cls * 128 + (modrm >= 0xc0 ? 64 : 0) + (modrm & 0x38) + (modrm & 7)
        ];
      if (e < 0) return -1;
    }
  }
  let row = e;
  const flags = R_FLAGS[row];
  const rexW = rex & 8;
  const rexR = (rex & 4) << 1;
  const rexX = (rex & 2) << 2;
  const rexB = (rex & 1) << 3;

  // Operand and address size.
  let osz: number;
  if (R_BYTE[row] !== 0) osz = 1;
  else if (R_VEC[row] !== 0) osz = rexW !== 0 ? 8 : 4;
  else if (long) {
    if (flags & F_F64) osz = 8;
    else if (flags & F_FAR) osz = pfx & P_OPSIZE ? 2 : 4;
    else if (rexW !== 0) osz = flags & F_Z32 ? 4 : 8;
    else if (pfx & P_OPSIZE) osz = 2;
    else osz = flags & F_D64 ? 8 : 4;
  } else if (flags & F_F64) osz = 4;
  else osz = (mode === 32) === ((pfx & P_OPSIZE) === 0) ? 4 : 2;
  const asz = long ? (pfx & P_ADSIZE ? 4 : 8) : (mode === 32) === ((pfx & P_ADSIZE) === 0) ? 4 : 2;

  // ModRM operands.
  let reg = -1;
  let rmMem = 0;
  let bse = -1;
  let index = -1;
  let scale = 0;
  let disp = 0;
  if (modrm >= 0) {
    const mod = modrm >> 6;
    const rm = modrm & 7;
    const r3 = (modrm >> 3) & 7;
    if (R_SREG[row] !== 0) {
      if (r3 > 5 || (r3 === 1 && R_SREG[row] === 2)) return -1;
      reg = r3;
    } else {
      reg = r3 | rexR;
      if (R_BYTEREG[row] !== 0 && rex === 0 && reg >= 4) reg = AH + reg - 4;
    }
    if (mod === 3 || flags & F_MODREG) {
      bse = rm | rexB;
      if (R_BYTERM[row] !== 0 && rex === 0 && bse >= 4) bse = AH + bse - 4;
    } else {
      rmMem = 1;
      if (asz !== 2) {
        let bb = rm;
        if (rm === 4) {
          if (p >= lim) return p >= hard ? -1 : 0;
          sib = code[p++];
          scale = sib >> 6;
          const ix = ((sib >> 3) & 7) | rexX;
          index = ix === 4 ? -1 : ix;
          bb = sib & 7;
        }
        if (bb === 5 && mod === 0) {
          bse = rm === 5 && long ? RIP : -1;
          if (p + 4 > lim) return p + 4 > hard ? -1 : 0;
          disp = code[p] | (code[p + 1] << 8) | (code[p + 2] << 16) | (code[p + 3] << 24);
          p += 4;
        } else {
          bse = bb | rexB;
          if (mod === 1) {
            if (p >= lim) return p >= hard ? -1 : 0;
            disp = (code[p++] << 24) >> 24;
          } else if (mod === 2) {
            if (p + 4 > lim) return p + 4 > hard ? -1 : 0;
            disp = code[p] | (code[p + 1] << 8) | (code[p + 2] << 16) | (code[p + 3] << 24);
            p += 4;
          }
        }
      } else {
        bse = BASE16[rm];
        index = INDEX16[rm];
        if (mod === 0 && rm === 6) {
          bse = -1;
          if (p + 2 > lim) return p + 2 > hard ? -1 : 0;
          disp = ((code[p] | (code[p + 1] << 8)) << 16) >> 16;
          p += 2;
        } else if (mod === 1) {
          if (p >= lim) return p >= hard ? -1 : 0;
          disp = (code[p++] << 24) >> 24;
        } else if (mod === 2) {
          if (p + 2 > lim) return p + 2 > hard ? -1 : 0;
          disp = ((code[p] | (code[p + 1] << 8)) << 16) >> 16;
          p += 2;
        }
      }
    }
  } else if (R_REGSRC[row] === 2) {
    reg = (key & 7) | rexB;
    if (R_BYTEREG[row] !== 0 && rex === 0 && reg >= 4) reg = AH + reg - 4;
  }
  if (row === XCHG90[set >> 10]) {
    // f3 90 is pause (objdump: also with REX.B); 90 without REX.B is nop, not xchg
    // eax,eax; 66 90 stays xchg ax,ax.
    if (repLast === P_REP) row = PAUSE;
    else if (reg === 0 && (pfx & P_OPSIZE) === 0) row = NOP90;
  }
  if (pfx & P_LOCK && ((flags & F_LOCK) === 0 || rmMem === 0)) return -1;

  // Immediates.
  let lo = 0;
  let hi = 0;
  let imm2 = 0;
  const k = R_IMM[row];
  if (k !== Imm.None) {
    let n: number;
    switch (k) {
      case Imm.B:
      case Imm.BS:
        n = 1;
        break;
      case Imm.W:
        n = 2;
        break;
      case Imm.Z:
        n = osz === 2 ? 2 : 4;
        break;
      case Imm.V:
        n = osz;
        break;
      case Imm.O:
        n = asz;
        break;
      default:
        n = osz === 2 ? 4 : 6; // AP: offset + selector
    }
    if (p + n > lim) return p + n > hard ? -1 : 0;
    switch (k) {
      case Imm.B:
        lo = code[p];
        break;
      case Imm.BS:
        lo = (code[p] << 24) >> 24;
        hi = lo >> 31;
        break;
      case Imm.W:
        lo = code[p] | (code[p + 1] << 8);
        break;
      case Imm.Z:
        lo =
          n === 2
            ? ((code[p] | (code[p + 1] << 8)) << 16) >> 16
            : code[p] | (code[p + 1] << 8) | (code[p + 2] << 16) | (code[p + 3] << 24);
        hi = lo >> 31;
        break;
      case Imm.V:
      case Imm.O:
        if (n === 2) lo = code[p] | (code[p + 1] << 8);
        else {
          lo = code[p] | (code[p + 1] << 8) | (code[p + 2] << 16) | (code[p + 3] << 24);
          if (n === 8)
            hi = code[p + 4] | (code[p + 5] << 8) | (code[p + 6] << 16) | (code[p + 7] << 24);
        }
        break;
      default:
        if (n === 4) lo = code[p] | (code[p + 1] << 8);
        else lo = code[p] | (code[p + 1] << 8) | (code[p + 2] << 16) | (code[p + 3] << 24);
        imm2 = code[p + n - 2] | (code[p + n - 1] << 8);
    }
    p += n;
    if (R_IMM2[row] === Imm.B) {
      if (p >= lim) return p >= hard ? -1 : 0;
      imm2 = code[p++];
    }
  }
  const o = base;
  out[o + ROW] = row;
  out[o + OP] = R_OP[row];
  out[o + LEN] = p - offset;
  out[o + OSZ] = osz;
  out[o + ASZ] = asz;
  out[o + PFX] = pfx;
  out[o + SEG] = seg;
  out[o + REG] = reg;
  out[o + RM_MEM] = rmMem;
  out[o + BASE] = bse;
  out[o + INDEX] = index;
  out[o + SCALE] = scale;
  out[o + DISP] = disp;
  out[o + IMM_LO] = lo;
  out[o + IMM_HI] = hi;
  out[o + IMM2] = imm2;
  out[o + CC] = R_CC[row] !== 0 ? key & 15 : 0;
  out[o + REX] = rex;
  out[o + PFX_SEQ] = seq;
  out[o + MODRM] = modrm < 0 ? 0 : modrm | 0x10000 | (sib < 0 ? 0 : (sib << 8) | 0x20000);
  return p - offset;
}

/** A scratch record for one-off decodes (tests, tools); the hot path passes its own array. */
export function newInsnRecord(): Int32Array {
  return new Int32Array(INSN_FIELDS);
}
