/**
 * The decoded form of one x86 instruction, shared by the decoder (which writes it), the
 * interpreter (which executes it) and the disassembler (which prints it).
 *
 * A decoded instruction is a fixed-size record of 32-bit fields in an `Int32Array`, so a
 * decode cache is a flat typed array and decoding allocates nothing. `D.*` are the field
 * offsets within a record; `INSN_FIELDS` is the record size.
 *
 * Register numbers follow {@link Reg} (0–15). For 8-bit operands without a REX prefix,
 * encodings 4–7 mean AH, CH, DH, BH and the decoder stores them as {@link REG_AH}+0..3.
 *
 * @module
 */

/** Field offsets within a decoded-instruction record. */
export const D = {
  /** Index of the matching row in the instruction table (`TABLE[row]`). */
  ROW: 0,
  /** The row's semantic operation ({@link Op}), copied for the interpreter's switch. */
  OP: 1,
  /** Total instruction length in bytes (1–15). */
  LEN: 2,
  /** Operand size in bytes: 1, 2, 4 or 8. */
  OSZ: 3,
  /** Address size in bytes: 4 or 8 (2 only outside long mode). */
  ASZ: 4,
  /** Prefix bits, {@link Pfx}. */
  PFX: 5,
  /** Segment override ({@link Seg}), or −1. */
  SEG: 6,
  /** The ModRM reg field (with REX.R), or the register encoded in the opcode (with REX.B). */
  REG: 7,
  /** 1 when the r/m operand is memory, 0 when it is a register. */
  RM_MEM: 8,
  /** r/m register (when RM_MEM = 0) or base register (memory); −1 none; {@link BASE_RIP} for RIP-relative. */
  BASE: 9,
  /** Index register, or −1. */
  INDEX: 10,
  /** Scale as a shift count 0–3. */
  SCALE: 11,
  /** Displacement, sign-extended to 32 bits. */
  DISP: 12,
  /** Immediate (or relative branch offset), low 32 bits, sign- or zero-extended per the row. */
  IMM_LO: 13,
  /** Immediate, high 32 bits (sign extension of IMM_LO, or a real imm64 / moffs64). */
  IMM_HI: 14,
  /** Second immediate (e.g. `enter`'s nesting level), or 0. */
  IMM2: 15,
  /** Condition code 0–15 for jcc/setcc/cmovcc (the low nibble of the opcode), else 0. */
  CC: 16,
  /** The REX byte (0x40–0x4f) that applied, or 0 (a REX followed by a legacy prefix is ignored). */
  REX: 17,
  /**
   * The legacy prefixes in the order they appeared, 4 bits each, first in the low nibble
   * (codes {@link PfxCode}); the last 8 when there were more. The disassembler needs the
   * order to print unused prefixes as objdump does.
   */
  PFX_SEQ: 18,
  /**
   * Raw ModRM and SIB bytes: bits 0–7 ModRM, 8–15 SIB, bit 16 set when a ModRM byte is
   * present, bit 17 set when a SIB byte is present. The disassembler uses them to print
   * what the encoding said (`0x0(%rax)` vs `(%rax)`, `%riz`).
   */
  MODRM: 19,
} as const;

/** Number of Int32 fields in one decoded-instruction record. */
export const INSN_FIELDS = 20;

/** Codes of legacy prefixes in {@link D.PFX_SEQ}: index = code, value = prefix byte. */
export const PfxCode: readonly number[] = [
  0, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x66, 0x67,
];

/** Base value meaning "RIP-relative" (disp is relative to the next instruction). */
export const BASE_RIP = 16;
/** First of the legacy high-byte registers AH, CH, DH, BH (stored as 20–23). */
export const REG_AH = 20;

/** Prefix bits in the {@link D.PFX} field. */
export const Pfx = {
  /** f0 lock. */ LOCK: 1,
  /** f3 rep/repe. */ REP: 2,
  /** f2 repne. */ REPNE: 4,
  /** 66 operand-size override. */ OPSIZE: 8,
  /** 67 address-size override. */ ADSIZE: 16,
  /** A REX prefix was present. */ REX: 32,
  /** REX.W. */ REXW: 64,
} as const;
