/**
 * The x86 instruction table: one row per encoding, the single source from which the
 * decoder builds its lookup arrays, the interpreter picks its semantics ({@link Op}) and
 * the disassembler prints (mnemonic template and operand kinds).
 *
 * Encodings are data (in the spirit of QEMU's decodetree and Sail): each row is written as
 * the SDM writes it — `"0F B6 /r"`, `"80 /7 ib"` without the immediate, `"F3 0F B8 /r"`,
 * `"0F 01 F8"` — and its operands as the SDM's operand-type codes in Intel order
 * (`"Ev,Gv"`). Sources: Intel SDM vol. 2 (opcode map, appendix A) and AMD APM vol. 3.
 * Mnemonics are GNU objdump's AT&T spellings, checked against the committed objdump corpus.
 *
 * Mode validity: every row is valid in 64-bit mode unless flagged {@link RowFlag.I64}
 * (invalid in 64-bit mode: push es, aaa, inc/dec 40–4F, ...); rows flagged
 * {@link RowFlag.O64} exist only in 64-bit mode (movsxd, swapgs, rd/wr fs/gs base).
 *
 * @module
 */
import { CvtFn, ExtFn, FpFn, Op } from "./ops.js";

/**
 * Operand kinds, after the SDM's appendix A codes: the letter says where the operand comes
 * from (E = ModRM r/m, G = ModRM reg, I = immediate, J = relative offset, O = moffs,
 * Z = register in the opcode's low three bits, S/C/D = segment/control/debug register in
 * ModRM reg, R = ModRM r/m that must name a register, X/Y = the string source `ds:rSI` /
 * destination `es:rDI`); the suffix gives the size: b byte, w word, d dword, q qword,
 * v the operand size (16/32/64), y 32 or 64 (64 with REX.W, 64 for control registers in
 * long mode), z 16 or 32 (never 64).
 */
export enum Opd {
  /** No operand. */ None = 0,
  /** r/m, byte. */ Eb,
  /** r/m, word. */ Ew,
  /** r/m, dword. */ Ed,
  /** r/m, operand size. */ Ev,
  /** r/m, 32 or 64 bits (REX.W). */ Ey,
  /** reg, byte. */ Gb,
  /** reg, word. */ Gw,
  /** reg, dword. */ Gd,
  /** reg, operand size. */ Gv,
  /** reg, 32 or 64 bits (REX.W). */ Gy,
  /** r/m naming a register, operand size. */ Rv,
  /** r/m naming a register, 64-bit in long mode (mov cr/dr). */ Ry,
  /** r/m naming memory; no size is implied (lea, lgdt, invlpg, far pointers, ...). */ M,
  /** imm8, zero-extended. */ Ib,
  /** imm8, sign-extended to the operand size. */ Ibs,
  /** imm16, zero-extended. */ Iw,
  /** imm16 or imm32, sign-extended to the operand size. */ Iz,
  /** imm16, imm32 or imm64 (mov r, imm): the full operand size. */ Iv,
  /** rel8. */ Jb,
  /** rel16 or rel32. */ Jz,
  /** moffs, byte operand. */ Ob,
  /** moffs, operand-size operand. */ Ov,
  /** Register in the opcode's low bits, byte. */ Zb,
  /** Register in the opcode's low bits, operand size. */ Zv,
  /** al. */ AL,
  /** ax/eax/rax by operand size. */ rAX,
  /** ax/eax (operand size 16 or 32; in/out). */ eAX,
  /** cl (shift count). */ CL,
  /** dx as an I/O port: printed `(%dx)`. */ DX,
  /** The constant 1 (shift count); objdump does not print it. */ ONE,
  /** Segment register in ModRM reg. */ Sw,
  /** Control register in ModRM reg (with REX.R). */ Cy,
  /** Debug register in ModRM reg (with REX.R). */ Dy,
  /** String source ds:rSI (segment overridable), byte. */ Xb,
  /** String source ds:rSI, operand size. */ Xv,
  /** String destination es:rDI, byte. */ Yb,
  /** String destination es:rDI, operand size. */ Yv,
  /** es. */ ES,
  /** cs. */ CS,
  /** ss. */ SS,
  /** ds. */ DS,
  /** fs. */ FS,
  /** gs. */ GS,
  /** Far pointer immediate ptr16:16/32 (offset in IMM, selector in IMM2). */ Ap,
  /** xlat's table operand ds:[rBX + al]. */ XLAT,
  /** XMM register in ModRM reg (with REX.R). */ Vx,
  /** XMM register or 128-bit memory in ModRM r/m. */ Wx,
  /** XMM register or 64-bit memory in ModRM r/m. */ Wq,
  /** XMM register or 32-bit memory in ModRM r/m. */ Wd,
  /** XMM register in ModRM r/m (register forms only). */ Ux,
  /** MMX register in ModRM reg (REX.R does not apply: mm0–mm7). */ Pq,
  /** MMX register or 64-bit memory in ModRM r/m. */ Qq,
  /** MMX register or 32-bit memory in ModRM r/m (MMX punpckl*). */ Qd,
  /** MMX register in ModRM r/m (register forms only). */ Nq,
  /** 32-bit general register or 16-bit memory in ModRM r/m (pinsrw). */ RdMw,
  /** XMM register or 16-bit memory in ModRM r/m (pmovsxbq). */ Ww,
  /** 32-bit general register or 8-bit memory in ModRM r/m (pinsrb, pextrb). */ RdMb,
  /** The implicit xmm0 operand of pblendvb, blendvps and blendvpd. */ XMM0,
  /** The x87 stack top ST(0), printed `%st`. */ ST,
  /** The x87 register ST(i), i in ModRM r/m (REX.B does not apply). */ STi,
}

/** Row flags. */
export const RowFlag = {
  /** Accepts a lock prefix (when its destination is memory). */
  LOCK: 1,
  /** Operand size defaults to 64 in long mode (66 gives 16; 32 is not encodable). */
  D64: 2,
  /** Invalid in 64-bit mode. */
  I64: 4,
  /** Valid only in 64-bit mode. */
  O64: 8,
  /** String instruction that f3 repeats (`rep`): ins, outs, movs, lods, stos. */
  REP: 16,
  /** String instruction that f3/f2 repeat with a condition (`repz`/`repnz`): cmps, scas. */
  REPZ: 32,
  /** Near branch: f2 is printed as `bnd` (MPX). */
  BND: 64,
  /** Conditional branch: 2e/3e are the branch hints `,pn`/`,pt`. */
  HINT: 128,
  /** Near indirect branch: 3e is `notrack` (CET). */
  NOTRACK: 256,
  /** Indirect branch: the r/m operand is printed with `*`. */
  IND: 512,
  /** ModRM mod is ignored: r/m always names a register (mov cr/dr). */
  MODREG: 1024,
  /** Operand size is the address width regardless of 66/REX.W (mov cr/dr). */
  F64: 2048,
  /** Operand size is z: 16 or 32, never 64 (in/out/ins/outs: REX.W gives 32). */
  Z32: 4096,
  /** Operand size 16 with 66, else 32; REX.W ignored (far indirect call/jmp, as objdump and AMD decode them). */
  FAR: 8192,
  /** Matches only without a 66/f2/f3 prefix (the SDM's "NP"). */
  NP: 16384,
  /**
   * Its 128-bit memory operand may be misaligned (movups, movdqu, ...). Every other legacy
   * SSE instruction with a 16-byte memory operand raises #GP(0) when it is not 16-byte aligned.
   */
  MISALIGN: 32768,
} as const;

/**
 * Bits of {@link InsnRow.vector}, the descriptor of a row with MMX or XMM operands (the
 * interpreter finds it in the decoded record's `X_EXT`).
 */
export const Vec = {
  /** The row's {@link InsnRow.aux} (element size in bytes, or the variant). */
  AUX: 0xf,
  /** The destination (first operand) is an MMX register. */
  DST_MM: 0x10,
  /** The source (second operand) is an MMX register. */
  SRC_MM: 0x20,
  /** Some operand is an XMM register (the instruction needs CR4.OSFXSR). */
  XMM: 0x40,
  /** Shift of the memory operand's size in bytes (5 bits; 0 = the operand size, movd/movq). */
  MEM_SHIFT: 7,
  /** The memory operand must be 16-byte aligned (#GP(0) otherwise). */
  ALIGN: 0x1000,
  /** Always set, so a vector row's descriptor is never 0. */
  VECTOR: 0x2000,
  /** Shift of the variant (8 bits): {@link InsnRow.aux} bits 4 and up, which operation of an Op family. */
  FN_SHIFT: 16,
} as const;

/** Opcode maps: the one-byte map and the 0F, 0F 38 and 0F 3A escapes. */
export enum OpMap {
  /** One-byte opcodes. */ Primary = 0,
  /** 0F xx. */ M0F = 1,
  /** 0F 38 xx. */ M0F38 = 2,
  /** 0F 3A xx. */ M0F3A = 3,
}

/** Constraint on ModRM.mod. */
export enum ModMatch {
  /** Register or memory. */ Any = 0,
  /** Memory only (mod ≠ 3). */ Mem = 1,
  /** Register only (mod = 3). */ Reg = 2,
}

/** One row of the instruction table. */
export interface InsnRow {
  /** Position in {@link TABLE} (the record's `D.ROW`). */
  readonly index: number;
  /** The encoding as written in the table (SDM notation). */
  readonly encoding: string;
  /**
   * objdump's AT&T mnemonic, as a template: `%S` appends b/w/l/q when no register operand
   * shows the size, `%W` appends w for a 16-bit operand size likewise (stack and branch
   * rows), `%A` always appends the size letter, `%Q` appends q with REX.W else l, `%6`
   * appends 64 with REX.W, `%K` is 16b with REX.W else 8b, `%E` appends the r/m operand's
   * size letter when it is memory, `%G` appends the size letter outside long mode
   * (lgdtl), `%Y` appends l/q by REX.W to a memory operand in long mode (cvtsi2ss), `%R`
   * appends q with REX.W (pcmpestri), `%P` is a cmpps predicate name (imm8 0–7, which
   * then is not printed), `%C` is the condition code, `%L` appends l/w for a non-default
   * address size, `%V`/`%M` are mov or movabs by operand/address size, `%J` is
   * jrcxz/jecxz/jcxz, `%Z` appends s with a 66 prefix (the x87 environment's 16-bit
   * format; REX.W does not change it). A `|`-separated list names the mnemonic per operand size 1|2|4|8.
   */
  readonly mnemonic: string;
  /** The semantic operation the interpreter executes. */
  readonly op: Op;
  /** Opcode map. */
  readonly map: OpMap;
  /** Opcode byte (the first one, for `+r` and `+cc` rows). */
  readonly opcode: number;
  /** Number of consecutive opcodes the row covers: 1, 8 (`+r`) or 16 (`+cc`). */
  readonly opcodeCount: number;
  /** Mandatory prefix (0x66, 0xf3, 0xf2) or 0. */
  readonly prefix: number;
  /** Whether a ModRM byte follows the opcode. */
  readonly modrm: boolean;
  /** ModRM.reg opcode extension (/digit), or −1. */
  readonly ext: number;
  /** ModRM.mod constraint. */
  readonly mod: ModMatch;
  /** ModRM.rm value required (register forms like 0F 01 F8), or −1. */
  readonly rm: number;
  /** Operands in Intel order (destination first). */
  readonly operands: readonly Opd[];
  /** {@link RowFlag} bits. */
  readonly flags: number;
  /** The low nibble of the opcode is a condition code (jcc, setcc, cmovcc). */
  readonly cc: boolean;
  /** Operand size is 1 (the row's sized operands are all bytes). */
  readonly byteSized: boolean;
  /**
   * What the row's {@link Op} leaves open: the element size in bytes (1, 2, 4, 8) of a
   * packed or scalar vector operation; which quadword movlps/movhps and kin address
   * (0 low, 1 high); movd/movq's direction (0 into, 1 out of the vector register); which
   * instruction an Op.LEGACY or Op.FAR row is (ops.ts `LegacyOp`, `FarOp`); 1 for
   * sysenter and 2 for sysexit (Op.SYSCALL); else 0.
   * Bits 4 and up name the variant of an Op family (simd-float.ts, simd-ext.ts), carried
   * to the descriptor at {@link Vec.FN_SHIFT}.
   */
  readonly aux: number;
  /** The {@link Vec} descriptor of a row with MMX or XMM operands; 0 for other rows. */
  readonly vector: number;
}

const {
  LOCK,
  D64,
  I64,
  O64,
  REP,
  REPZ,
  BND,
  HINT,
  NOTRACK,
  IND,
  MODREG,
  F64,
  Z32,
  FAR,
  NP,
  MISALIGN,
} = RowFlag;
const U = Op.UNIMPLEMENTED;
const LG = Op.LEGACY;
const FR = Op.FAR;

type Spec = readonly [
  encoding: string,
  mnemonic: string,
  op: Op,
  operands: string,
  flags?: number,
  aux?: number,
];

const ALU: readonly [string, Op][] = [
  ["add", Op.ADD],
  ["or", Op.OR],
  ["adc", Op.ADC],
  ["sbb", Op.SBB],
  ["and", Op.AND],
  ["sub", Op.SUB],
  ["xor", Op.XOR],
  ["cmp", Op.CMP],
];
const SHIFT: readonly [string, Op][] = [
  ["rol", Op.ROL],
  ["ror", Op.ROR],
  ["rcl", Op.RCL],
  ["rcr", Op.RCR],
  ["shl", Op.SHL],
  ["shr", Op.SHR],
  ["shl", Op.SHL],
  ["sar", Op.SAR],
];
const hex = (n: number): string => n.toString(16).toUpperCase().padStart(2, "0");

// The table is laid out by hand, several rows to a line where they belong together.
// prettier-ignore
function specs(): Spec[] {
  const s: Spec[] = [];
  ALU.forEach(([m, op], i) => {
    const b = i * 8;
    const lk = op === Op.CMP ? 0 : LOCK;
    s.push(
      [`${hex(b)} /r`, m, op, "Eb,Gb", lk],
      [`${hex(b + 1)} /r`, m, op, "Ev,Gv", lk],
      [`${hex(b + 2)} /r`, m, op, "Gb,Eb"],
      [`${hex(b + 3)} /r`, m, op, "Gv,Ev"],
      [`${hex(b + 4)}`, m, op, "AL,Ib"],
      [`${hex(b + 5)}`, m, op, "rAX,Iz"],
      [`80 /${i}`, `${m}%S`, op, "Eb,Ib", lk],
      [`81 /${i}`, `${m}%S`, op, "Ev,Iz", lk],
      [`82 /${i}`, `${m}%S`, op, "Eb,Ib", lk | I64],
      [`83 /${i}`, `${m}%S`, op, "Ev,Ibs", lk],
    );
  });
  const segs = ["ES", "CS", "SS", "DS"];
  segs.forEach((sg, i) => {
    s.push([`${hex(i * 8 + 6)}`, "push%W", Op.PUSH, sg, I64]);
    if (i !== 1) s.push([`${hex(i * 8 + 7)}`, "pop%W", Op.POP, sg, I64]);
  });
  s.push(
    ["27", "daa", LG, "", I64, 2], ["2F", "das", LG, "", I64, 3],
    ["37", "aaa", LG, "", I64, 4], ["3F", "aas", LG, "", I64, 5],
    ["40+r", "inc", Op.INC, "Zv", I64], ["48+r", "dec", Op.DEC, "Zv", I64],
    ["50+r", "push", Op.PUSH, "Zv", D64], ["58+r", "pop", Op.POP, "Zv", D64],
    ["60", "|pushaw|pusha|", LG, "", I64, 0], ["61", "|popaw|popa|", LG, "", I64, 1],
    ["62 /r mem", "bound", LG, "Gv,M", I64, 8],
    ["63 /r", "arpl", LG, "Ew,Gw", I64, 9],
    ["63 /r", "|movsxd|movsxd|movslq", Op.MOVSXD, "Gv,Ed", O64],
    ["68", "push%W", Op.PUSH, "Iz", D64],
    ["69 /r", "imul", Op.IMUL3, "Gv,Ev,Iz"],
    ["6A", "push%W", Op.PUSH, "Ibs", D64],
    ["6B /r", "imul", Op.IMUL3, "Gv,Ev,Ibs"],
    ["6C", "insb", Op.INS, "Yb,DX", REP],
    ["6D", "ins%A", Op.INS, "Yv,DX", REP | Z32],
    ["6E", "outsb", Op.OUTS, "DX,Xb", REP],
    ["6F", "outs%A", Op.OUTS, "DX,Xv", REP | Z32],
    ["70+cc", "j%C", Op.JCC, "Jb", BND | HINT | D64],
  );
  s.push(
    ["84 /r", "test", Op.TEST, "Eb,Gb"], ["85 /r", "test", Op.TEST, "Ev,Gv"],
    ["86 /r", "xchg", Op.XCHG, "Eb,Gb", LOCK], ["87 /r", "xchg", Op.XCHG, "Ev,Gv", LOCK],
    ["88 /r", "mov", Op.MOV, "Eb,Gb"], ["89 /r", "mov", Op.MOV, "Ev,Gv"],
    ["8A /r", "mov", Op.MOV, "Gb,Eb"], ["8B /r", "mov", Op.MOV, "Gv,Ev"],
    ["8C /r mem", "mov", Op.MOV_SREG, "Ew,Sw"], ["8C /r reg", "mov", Op.MOV_SREG, "Ev,Sw"],
    ["8D /r mem", "lea", Op.LEA, "Gv,M"],
    ["8E /r mem", "mov", Op.MOV_SREG, "Sw,Ew"], ["8E /r reg", "mov", Op.MOV_SREG, "Sw,Ev"],
    ["8F /0", "pop%W", Op.POP, "Ev", D64],
    ["90", "nop", Op.NOP, ""],
    ["F3 90", "pause", Op.NOP, ""],
    ["90+r", "xchg", Op.XCHG, "Zv,rAX"],
    ["98", "|cbtw|cwtl|cltq", Op.CBW, ""],
    ["99", "|cwtd|cltd|cqto", Op.CWD, ""],
    ["9A", "lcall%W", FR, "Ap", I64, 1],
    ["9B", "fwait", Op.FWAIT, ""],
    ["9C", "pushf%W", Op.PUSHF, "", D64],
    ["9D", "popf%W", Op.POPF, "", D64],
    ["9E", "sahf", Op.SAHF, ""], ["9F", "lahf", Op.LAHF, ""],
    ["A0", "%M", Op.MOV, "AL,Ob"], ["A1", "%M", Op.MOV, "rAX,Ov"],
    ["A2", "%M", Op.MOV, "Ob,AL"], ["A3", "%M", Op.MOV, "Ov,rAX"],
    ["A4", "movsb", Op.MOVS, "Yb,Xb", REP], ["A5", "movs%A", Op.MOVS, "Yv,Xv", REP],
    ["A6", "cmpsb", Op.CMPS, "Xb,Yb", REPZ], ["A7", "cmps%A", Op.CMPS, "Xv,Yv", REPZ],
    ["A8", "test", Op.TEST, "AL,Ib"], ["A9", "test", Op.TEST, "rAX,Iz"],
    ["AA", "stos", Op.STOS, "Yb,AL", REP], ["AB", "stos", Op.STOS, "Yv,rAX", REP],
    ["AC", "lods", Op.LODS, "AL,Xb", REP], ["AD", "lods", Op.LODS, "rAX,Xv", REP],
    ["AE", "scas", Op.SCAS, "AL,Yb", REPZ], ["AF", "scas", Op.SCAS, "rAX,Yv", REPZ],
    ["B0+r", "mov", Op.MOV, "Zb,Ib"], ["B8+r", "%V", Op.MOV, "Zv,Iv"],
  );
  SHIFT.forEach(([m, op], i) => {
    s.push(
      [`C0 /${i}`, `${m}%S`, op, "Eb,Ib"], [`C1 /${i}`, `${m}%S`, op, "Ev,Ib"],
      [`D0 /${i}`, `${m}%S`, op, "Eb,ONE"], [`D1 /${i}`, `${m}%S`, op, "Ev,ONE"],
      [`D2 /${i}`, `${m}%S`, op, "Eb,CL"], [`D3 /${i}`, `${m}%S`, op, "Ev,CL"],
    );
  });
  s.push(
    ["C2", "ret%W", Op.RET, "Iw", D64 | BND], ["C3", "ret%W", Op.RET, "", D64 | BND],
    ["C4 /r mem", "les", FR, "Gv,M", I64, 8], ["C5 /r mem", "lds", FR, "Gv,M", I64, 11],
    ["C6 /0", "mov%S", Op.MOV, "Eb,Ib"], ["C7 /0", "mov%S", Op.MOV, "Ev,Iz"],
    ["C8", "enter%W", Op.ENTER, "Iw,Ib", D64], ["C9", "leave%W", Op.LEAVE, "", D64],
    ["CA", "|lretw|lret|lretq", Op.RET_FAR, "Iw"], ["CB", "|lretw|lret|lretq", Op.RET_FAR, ""],
    ["CC", "int3", Op.INT3, ""], ["CD", "int", Op.INT, "Ib"], ["CE", "into", Op.INTO, "", I64],
    ["CF", "|iretw|iret|iretq", Op.IRET, ""],
    ["D4", "aam", LG, "Ib", I64, 6], ["D5", "aad", LG, "Ib", I64, 7],
    ["D7", "xlat", Op.XLAT, "XLAT"],
    ["E0", "loopne%L", Op.LOOP, "Jb", D64 | HINT], ["E1", "loope%L", Op.LOOP, "Jb", D64 | HINT],
    ["E2", "loop%L", Op.LOOP, "Jb", D64 | HINT], ["E3", "%J", Op.JRCXZ, "Jb", D64 | HINT],
    ["E4", "in", Op.IN, "AL,Ib"], ["E5", "in", Op.IN, "eAX,Ib", Z32],
    ["E6", "out", Op.OUT, "Ib,AL"], ["E7", "out", Op.OUT, "Ib,eAX", Z32],
    ["E8", "call%W", Op.CALL, "Jz", D64 | BND], ["E9", "jmp%W", Op.JMP, "Jz", D64 | BND],
    ["EA", "ljmp%W", FR, "Ap", I64, 0], ["EB", "jmp", Op.JMP, "Jb", D64 | BND],
    ["EC", "in", Op.IN, "AL,DX"], ["ED", "in", Op.IN, "eAX,DX", Z32],
    ["EE", "out", Op.OUT, "DX,AL"], ["EF", "out", Op.OUT, "DX,eAX", Z32],
    ["F1", "int1", U, ""], ["F4", "hlt", Op.HLT, ""], ["F5", "cmc", Op.CMC, ""],
    ["F6 /0", "test%S", Op.TEST, "Eb,Ib"], ["F6 /1", "test%S", Op.TEST, "Eb,Ib"],
    ["F6 /2", "not%S", Op.NOT, "Eb", LOCK], ["F6 /3", "neg%S", Op.NEG, "Eb", LOCK],
    ["F6 /4", "mul%S", Op.MUL, "Eb"], ["F6 /5", "imul%S", Op.IMUL1, "Eb"],
    ["F6 /6", "div%S", Op.DIV, "Eb"], ["F6 /7", "idiv%S", Op.IDIV, "Eb"],
    ["F7 /0", "test%S", Op.TEST, "Ev,Iz"], ["F7 /1", "test%S", Op.TEST, "Ev,Iz"],
    ["F7 /2", "not%S", Op.NOT, "Ev", LOCK], ["F7 /3", "neg%S", Op.NEG, "Ev", LOCK],
    ["F7 /4", "mul%S", Op.MUL, "Ev"], ["F7 /5", "imul%S", Op.IMUL1, "Ev"],
    ["F7 /6", "div%S", Op.DIV, "Ev"], ["F7 /7", "idiv%S", Op.IDIV, "Ev"],
    ["F8", "clc", Op.CLC, ""], ["F9", "stc", Op.STC, ""], ["FA", "cli", Op.CLI, ""],
    ["FB", "sti", Op.STI, ""], ["FC", "cld", Op.CLD, ""], ["FD", "std", Op.STD, ""],
    ["FE /0", "inc%S", Op.INC, "Eb", LOCK], ["FE /1", "dec%S", Op.DEC, "Eb", LOCK],
    ["FF /0", "inc%S", Op.INC, "Ev", LOCK], ["FF /1", "dec%S", Op.DEC, "Ev", LOCK],
    ["FF /2", "call%W", Op.CALL_IND, "Ev", D64 | BND | NOTRACK | IND],
    ["FF /3 mem", "lcall%W", FR, "M", IND | FAR, 3],
    ["FF /4", "jmp%W", Op.JMP_IND, "Ev", D64 | BND | NOTRACK | IND],
    ["FF /5 mem", "ljmp%W", FR, "M", IND | FAR, 2],
    ["FF /6", "push%W", Op.PUSH, "Ev", D64],
  );
  // Two-byte map (0F xx).
  const g6 = ["sldt", "str", "lldt", "ltr", "verr", "verw"];
  g6.forEach((m, i) => {
    // sldt/str store 16 bits to memory, the operand size to a register.
    if (i < 2) s.push([`0F 00 /${i} mem`, m, Op.SYSDESC, "Ew"], [`0F 00 /${i} reg`, m, Op.SYSDESC, "Ev"]);
    else s.push([`0F 00 /${i}`, m, i < 4 ? Op.SYSDESC : FR, "Ew", 0, i === 4 ? 18 : 19]);
  });
  ["sgdt", "sidt", "lgdt", "lidt"].forEach((m, i) => s.push([`0F 01 /${i} mem`, `${m}%G`, Op.SYSDESC, "M"]));
  s.push(
    ["0F 01 /4 mem", "smsw", Op.SYSDESC, "Ew"], ["0F 01 /4 reg", "smsw", Op.SYSDESC, "Ev"],
    ["0F 01 /6", "lmsw", Op.SYSDESC, "Ew"],
    ["0F 01 /7 mem", "invlpg", Op.INVLPG, "M"],
    ["0F 01 C1", "vmcall", Op.VMCALL, ""], ["0F 01 C2", "vmlaunch", U, ""],
    ["0F 01 C3", "vmresume", U, ""], ["0F 01 C4", "vmxoff", U, ""], ["0F 01 D4", "vmfunc", U, ""],
    ["F2 0F 01 D9", "vmgexit", U, ""],
    ["0F 01 CA", "clac", U, ""], ["0F 01 CB", "stac", U, ""],
    ["0F 01 D0", "xgetbv", Op.XCR, ""], ["0F 01 D1", "xsetbv", Op.XCR, ""],
    ["0F 01 D5", "xend", U, ""], ["0F 01 D6", "xtest", U, ""],
    ["0F 01 D8", "vmrun", U, ""], ["0F 01 D9", "vmmcall", Op.VMCALL, ""],
    ["0F 01 DA", "vmload", U, ""], ["0F 01 DB", "vmsave", U, ""],
    ["0F 01 DC", "stgi", U, ""], ["0F 01 DD", "clgi", U, ""],
    ["0F 01 DE", "skinit", U, ""], ["0F 01 DF", "invlpga", U, ""],
    ["0F 01 E8", "serialize", U, ""],
    ["0F 01 EE", "rdpkru", U, ""], ["0F 01 EF", "wrpkru", U, ""],
    ["0F 01 F8", "swapgs", Op.SWAPGS, "", O64], ["0F 01 F9", "rdtscp", Op.RDTSCP, ""],
    ["0F 01 FC", "clzero", U, ""],
    ["0F 02 /r", "lar", FR, "Gv,Ev", 0, 16], ["0F 03 /r", "lsl", FR, "Gv,Ev", 0, 17],
    ["0F 05", "syscall", Op.SYSCALL, ""], ["0F 06", "clts", Op.CLTS, ""],
    ["0F 07", "sysret%Q", Op.SYSRET, ""],
    ["0F 08", "invd", Op.WBINVD, ""], ["0F 09", "wbinvd", Op.WBINVD, ""],
    ["0F 0B", "ud2", Op.UD2, ""],
    ["0F 0D /0 mem", "prefetch", Op.PREFETCH, "M"], ["0F 0D /1 mem", "prefetchw", Op.PREFETCH, "M"],
    ["0F 0D /2 mem", "prefetchwt1", Op.PREFETCH, "M"], ["0F 0D /r mem", "prefetch", Op.PREFETCH, "M"],
    ["0F 18 /0 mem", "prefetchnta", Op.PREFETCH, "M"], ["0F 18 /1 mem", "prefetcht0", Op.PREFETCH, "M"],
    ["0F 18 /2 mem", "prefetcht1", Op.PREFETCH, "M"], ["0F 18 /3 mem", "prefetcht2", Op.PREFETCH, "M"],
    ["0F 18 /r", "nop%S", Op.NOP, "Ev"],
    ["0F 19 /r", "nop%S", Op.NOP, "Ev"],
    ["0F 1A /r", "nop%S", Op.NOP, "Ev"], ["0F 1B /r", "nop%S", Op.NOP, "Ev"],
    ["0F 1C /0 mem", "cldemote", Op.PREFETCH, "M", NP], ["0F 1C /r", "nop%S", Op.NOP, "Ev"],
    ["66 0F 1C /r", "nop%S", Op.NOP, "Ev"], ["66 0F 1E /r", "nop%S", Op.NOP, "Ev"],
    ["0F 1D /r", "nop%S", Op.NOP, "Ev"],
    ["0F 1E /r", "nop%S", Op.NOP, "Ev"],
    ["F3 0F 1E FA", "endbr64", Op.NOP, ""], ["F3 0F 1E FB", "endbr32", Op.NOP, ""],
    ["0F 1F /r", "nop%S", Op.NOP, "Ev"],
    ["0F 20 /r", "mov", Op.MOV_CR, "Ry,Cy", MODREG | F64],
    ["0F 21 /r", "mov", Op.MOV_DR, "Ry,Dy", MODREG | F64],
    ["0F 22 /r", "mov", Op.MOV_CR, "Cy,Ry", MODREG | F64],
    ["0F 23 /r", "mov", Op.MOV_DR, "Dy,Ry", MODREG | F64],
    ["0F 30", "wrmsr", Op.WRMSR, ""], ["0F 31", "rdtsc", Op.RDTSC, ""],
    ["0F 32", "rdmsr", Op.RDMSR, ""], ["0F 33", "rdpmc", U, ""],
    ["0F 34", "sysenter", Op.SYSCALL, "", 0, 1], ["0F 35", "sysexit%Q", Op.SYSCALL, "", 0, 2],
    ["0F 40+cc /r", "cmov%C", Op.CMOVCC, "Gv,Ev"],
    ["0F 80+cc", "j%C", Op.JCC, "Jz", BND | HINT | D64],
    ["0F 90+cc /r", "set%C", Op.SETCC, "Eb"],
    ["0F A0", "push%W", Op.PUSH, "FS", D64], ["0F A1", "pop%W", Op.POP, "FS", D64],
    ["0F A2", "cpuid", Op.CPUID, ""],
    ["0F A3 /r", "bt", Op.BT, "Ev,Gv"],
    ["0F A4 /r", "shld", Op.SHLD, "Ev,Gv,Ib"], ["0F A5 /r", "shld", Op.SHLD, "Ev,Gv,CL"],
    ["0F A8", "push%W", Op.PUSH, "GS", D64], ["0F A9", "pop%W", Op.POP, "GS", D64],
    ["0F AA", "rsm", U, ""],
    ["0F AB /r", "bts", Op.BTS, "Ev,Gv", LOCK],
    ["0F AC /r", "shrd", Op.SHRD, "Ev,Gv,Ib"], ["0F AD /r", "shrd", Op.SHRD, "Ev,Gv,CL"],
    ["0F AE /0 mem", "fxsave%6", Op.FXSTATE, "M"], ["0F AE /1 mem", "fxrstor%6", Op.FXSTATE, "M"],
    ["0F AE /2 mem", "ldmxcsr", Op.FXSTATE, "M"], ["0F AE /3 mem", "stmxcsr", Op.FXSTATE, "M"],
    ["0F AE /4 mem", "xsave%6", Op.FXSTATE, "M"], ["0F AE /5 mem", "xrstor%6", Op.FXSTATE, "M"],
    ["0F AE /6 mem", "xsaveopt%6", Op.FXSTATE, "M"], ["0F AE /7 mem", "clflush", Op.FXSTATE, "M"],
    ["66 0F AE /6 mem", "clwb", Op.FXSTATE, "M"], ["66 0F AE /7 mem", "clflushopt", Op.FXSTATE, "M"],
    ["0F AE /5 reg", "lfence", Op.FENCE, ""], ["0F AE F0", "mfence", Op.FENCE, ""],
    ["0F AE F8", "sfence", Op.FENCE, ""],
    ["F3 0F AE /0 reg", "rdfsbase", Op.FSGSBASE, "Ev", O64],
    ["F3 0F AE /1 reg", "rdgsbase", Op.FSGSBASE, "Ev", O64],
    ["F3 0F AE /2 reg", "wrfsbase", Op.FSGSBASE, "Ev", O64],
    ["F3 0F AE /3 reg", "wrgsbase", Op.FSGSBASE, "Ev", O64],
    ["0F AF /r", "imul", Op.IMUL2, "Gv,Ev"],
    ["0F B0 /r", "cmpxchg", Op.CMPXCHG, "Eb,Gb", LOCK], ["0F B1 /r", "cmpxchg", Op.CMPXCHG, "Ev,Gv", LOCK],
    ["0F B2 /r mem", "lss", FR, "Gv,M", 0, 10],
    ["0F B3 /r", "btr", Op.BTR, "Ev,Gv", LOCK],
    ["0F B4 /r mem", "lfs", FR, "Gv,M", 0, 12], ["0F B5 /r mem", "lgs", FR, "Gv,M", 0, 13],
    ["0F B6 /r", "movzb%A", Op.MOVZX, "Gv,Eb"], ["0F B7 /r", "movzw%A", Op.MOVZX, "Gv,Ew"],
    ["F3 0F B8 /r", "popcnt", Op.POPCNT, "Gv,Ev"],
    ["0F B9 /r", "ud1", Op.UD2, "Gv,Ev"],
    ["0F BA /4", "bt%S", Op.BT, "Ev,Ib"], ["0F BA /5", "bts%S", Op.BTS, "Ev,Ib", LOCK],
    ["0F BA /6", "btr%S", Op.BTR, "Ev,Ib", LOCK], ["0F BA /7", "btc%S", Op.BTC, "Ev,Ib", LOCK],
    ["0F BB /r", "btc", Op.BTC, "Ev,Gv", LOCK],
    ["0F BC /r", "bsf", Op.BSF, "Gv,Ev"], ["F3 0F BC /r", "tzcnt", Op.TZCNT, "Gv,Ev"],
    ["0F BD /r", "bsr", Op.BSR, "Gv,Ev"], ["F3 0F BD /r", "lzcnt", Op.LZCNT, "Gv,Ev"],
    ["0F BE /r", "movsb%A", Op.MOVSX, "Gv,Eb"], ["0F BF /r", "movsw%A", Op.MOVSX, "Gv,Ew"],
    ["0F C0 /r", "xadd", Op.XADD, "Eb,Gb", LOCK], ["0F C1 /r", "xadd", Op.XADD, "Ev,Gv", LOCK],
    ["0F C3 /r mem", "movnti", Op.MOV, "Ey,Gy", NP],
    ["0F C7 /1 mem", "cmpxchg%K", Op.CMPXCHG16B, "M", LOCK],
    ["0F C7 /3 mem", "xrstors%6", U, "M"], ["0F C7 /4 mem", "xsavec%6", Op.FXSTATE, "M"],
    ["0F C7 /5 mem", "xsaves%6", U, "M"],
    ["0F C7 /6 reg", "rdrand", U, "Rv"], ["0F C7 /7 reg", "rdseed", U, "Rv"],
    ["0F C8+r", "bswap", Op.BSWAP, "Zv"],
    ["0F FF /r", "ud0", Op.UD2, "Gv,Ev"],
    ["0F 38 F0 /r mem", "movbe", U, "Gv,Ev"], ["0F 38 F1 /r mem", "movbe", U, "Ev,Gv"],
    ["F2 0F 38 F0 /r", "crc32%E", Op.CRC32, "Gy,Eb"], ["F2 0F 38 F1 /r", "crc32%E", Op.CRC32, "Gy,Ev"],
    ["66 0F 38 F6 /r", "adcx", U, "Gy,Ey"], ["F3 0F 38 F6 /r", "adox", U, "Gy,Ey"],
  );
  s.push(...vectorSpecs());
  s.push(...sseSpecs());
  s.push(...x87Specs());
  return s;
}

/**
 * x87 rows (D8–DF; SDM vol. 2 and the opcode map's escape tables, A.4). Register forms
 * name ST(i) from ModRM r/m. objdump spells the DC/DE register forms of fsub/fsubr and
 * fdiv/fdivr the other way round from Intel (the AT&T "UnixWare" convention); the rows use
 * objdump's names, the interpreter Intel's semantics by opcode. Aliases that objdump calls
 * (bad) (DC D0+i, DD C8+i, DF C8–DF, ...) are not listed (#UD here).
 */
// prettier-ignore
function x87Specs(): Spec[] {
  const s: Spec[] = [];
  const X = Op.X87;
  const ar = ["add", "mul", "com", "comp", "sub", "subr", "div", "divr"];
  ar.forEach((m, d) => {
    s.push(
      [`D8 /${d} mem`, `f${m}s`, X, "M"], [`DC /${d} mem`, `f${m}l`, X, "M"],
      [`DA /${d} mem`, `fi${m}l`, X, "M"], [`DE /${d} mem`, `fi${m}s`, X, "M"],
    );
    if (d === 2 || d === 3) s.push([`D8 /${d} reg`, `f${m}`, X, "STi"]);
    else s.push([`D8 /${d} reg`, `f${m}`, X, "ST,STi"], [`DC /${d} reg`, `f${m}`, X, "STi,ST"], [`DE /${d} reg`, `f${m}p`, X, "STi,ST"]);
  });
  ["b", "e", "be", "u"].forEach((cc, d) => {
    s.push([`DA /${d} reg`, `fcmov${cc}`, X, "ST,STi"], [`DB /${d} reg`, `fcmovn${cc}`, X, "ST,STi"]);
  });
  s.push(
    ["DE D9", "fcompp", X, ""], ["DA E9", "fucompp", X, ""],
    ["D9 /0 mem", "flds", X, "M"], ["D9 /2 mem", "fsts", X, "M"], ["D9 /3 mem", "fstps", X, "M"],
    ["D9 /4 mem", "fldenv%Z", X, "M"], ["D9 /5 mem", "fldcw", X, "M"],
    ["D9 /6 mem", "fnstenv%Z", X, "M"], ["D9 /7 mem", "fnstcw", X, "M"],
    ["D9 /0 reg", "fld", X, "STi"], ["D9 /1 reg", "fxch", X, "STi"], ["D9 D0", "fnop", X, ""],
    ["D9 E0", "fchs", X, ""], ["D9 E1", "fabs", X, ""], ["D9 E4", "ftst", X, ""], ["D9 E5", "fxam", X, ""],
    ["D9 E8", "fld1", X, ""], ["D9 E9", "fldl2t", X, ""], ["D9 EA", "fldl2e", X, ""], ["D9 EB", "fldpi", X, ""],
    ["D9 EC", "fldlg2", X, ""], ["D9 ED", "fldln2", X, ""], ["D9 EE", "fldz", X, ""],
    ["D9 F0", "f2xm1", X, ""], ["D9 F1", "fyl2x", X, ""], ["D9 F2", "fptan", X, ""], ["D9 F3", "fpatan", X, ""],
    ["D9 F4", "fxtract", X, ""], ["D9 F5", "fprem1", X, ""], ["D9 F6", "fdecstp", X, ""], ["D9 F7", "fincstp", X, ""],
    ["D9 F8", "fprem", X, ""], ["D9 F9", "fyl2xp1", X, ""], ["D9 FA", "fsqrt", X, ""], ["D9 FB", "fsincos", X, ""],
    ["D9 FC", "frndint", X, ""], ["D9 FD", "fscale", X, ""], ["D9 FE", "fsin", X, ""], ["D9 FF", "fcos", X, ""],
    ["DB /0 mem", "fildl", X, "M"], ["DB /1 mem", "fisttpl", X, "M"], ["DB /2 mem", "fistl", X, "M"],
    ["DB /3 mem", "fistpl", X, "M"], ["DB /5 mem", "fldt", X, "M"], ["DB /7 mem", "fstpt", X, "M"],
    ["DB E0", "fneni(8087 only)", X, ""], ["DB E1", "fndisi(8087 only)", X, ""],
    ["DB E2", "fnclex", X, ""], ["DB E3", "fninit", X, ""], ["DB E4", "fnsetpm(287 only)", X, ""], ["DB E5", "frstpm(287 only)", U, ""],
    ["DB /5 reg", "fucomi", X, "ST,STi"], ["DB /6 reg", "fcomi", X, "ST,STi"],
    ["DD /0 mem", "fldl", X, "M"], ["DD /1 mem", "fisttpll", X, "M"], ["DD /2 mem", "fstl", X, "M"],
    ["DD /3 mem", "fstpl", X, "M"], ["DD /4 mem", "frstor%Z", X, "M"],
    ["DD /6 mem", "fnsave%Z", X, "M"], ["DD /7 mem", "fnstsw", X, "M"],
    ["DD /0 reg", "ffree", X, "STi"], ["DD /2 reg", "fst", X, "STi"], ["DD /3 reg", "fstp", X, "STi"],
    ["DD /4 reg", "fucom", X, "STi"], ["DD /5 reg", "fucomp", X, "STi"],
    ["DF /0 mem", "filds", X, "M"], ["DF /1 mem", "fisttps", X, "M"], ["DF /2 mem", "fists", X, "M"],
    ["DF /3 mem", "fistps", X, "M"], ["DF /4 mem", "fbld", X, "M"], ["DF /5 mem", "fildll", X, "M"],
    ["DF /6 mem", "fbstp", X, "M"], ["DF /7 mem", "fistpll", X, "M"],
    ["DF /0 reg", "ffreep", X, "STi"], ["DF E0", "fnstsw %ax", X, ""],
    ["DF /5 reg", "fucomip", X, "ST,STi"], ["DF /6 reg", "fcomip", X, "ST,STi"],
  );
  return s;
}

/**
 * MMX, SSE and SSE2 data movement and integer rows. An MMX row (no prefix, mm registers)
 * and its SSE2 twin (66, xmm registers) share the Op; the last element is the element size.
 */
// prettier-ignore
function vectorSpecs(): Spec[] {
  const s: Spec[] = [];
  /** MMX form (0F xx, NP) and SSE2 form (66 0F xx) of one packed integer operation. */
  const pair = (opc: string, m: string, op: Op, lane: number, mm = "Pq,Qq", xmm = "Vx,Wx"): void => {
    s.push([`0F ${opc} /r`, m, op, mm, NP, lane], [`66 0F ${opc} /r`, m, op, xmm, 0, lane]);
  };
  pair("DB", "pand", Op.PAND, 8); pair("DF", "pandn", Op.PANDN, 8);
  pair("EB", "por", Op.POR, 8); pair("EF", "pxor", Op.PXOR, 8);
  ([["54", "and", Op.PAND], ["55", "andn", Op.PANDN], ["56", "or", Op.POR], ["57", "xor", Op.PXOR]] as const)
    .forEach(([o, m, op]) => s.push([`0F ${o} /r`, `${m}ps`, op, "Vx,Wx", NP, 4], [`66 0F ${o} /r`, `${m}pd`, op, "Vx,Wx", 0, 8]));
  pair("FC", "paddb", Op.PADD, 1); pair("FD", "paddw", Op.PADD, 2);
  pair("FE", "paddd", Op.PADD, 4); pair("D4", "paddq", Op.PADD, 8);
  pair("EC", "paddsb", Op.PADDS, 1); pair("ED", "paddsw", Op.PADDS, 2);
  pair("DC", "paddusb", Op.PADDUS, 1); pair("DD", "paddusw", Op.PADDUS, 2);
  pair("F8", "psubb", Op.PSUB, 1); pair("F9", "psubw", Op.PSUB, 2);
  pair("FA", "psubd", Op.PSUB, 4); pair("FB", "psubq", Op.PSUB, 8);
  pair("E8", "psubsb", Op.PSUBS, 1); pair("E9", "psubsw", Op.PSUBS, 2);
  pair("D8", "psubusb", Op.PSUBUS, 1); pair("D9", "psubusw", Op.PSUBUS, 2);
  pair("74", "pcmpeqb", Op.PCMPEQ, 1); pair("75", "pcmpeqw", Op.PCMPEQ, 2);
  pair("76", "pcmpeqd", Op.PCMPEQ, 4);
  pair("64", "pcmpgtb", Op.PCMPGT, 1); pair("65", "pcmpgtw", Op.PCMPGT, 2);
  pair("66", "pcmpgtd", Op.PCMPGT, 4);
  pair("DA", "pminub", Op.PMINU, 1); pair("DE", "pmaxub", Op.PMAXU, 1);
  pair("EA", "pminsw", Op.PMINS, 2); pair("EE", "pmaxsw", Op.PMAXS, 2);
  pair("E0", "pavgb", Op.PAVG, 1); pair("E3", "pavgw", Op.PAVG, 2);
  pair("D5", "pmullw", Op.PMULL, 2); pair("E5", "pmulhw", Op.PMULH, 2);
  pair("E4", "pmulhuw", Op.PMULHU, 2); pair("F4", "pmuludq", Op.PMULUDQ, 4);
  pair("F5", "pmaddwd", Op.PMADDWD, 2); pair("F6", "psadbw", Op.PSADBW, 1);
  pair("D1", "psrlw", Op.PSRL, 2); pair("D2", "psrld", Op.PSRL, 4); pair("D3", "psrlq", Op.PSRL, 8);
  pair("E1", "psraw", Op.PSRA, 2); pair("E2", "psrad", Op.PSRA, 4);
  pair("F1", "psllw", Op.PSLL, 2); pair("F2", "pslld", Op.PSLL, 4); pair("F3", "psllq", Op.PSLL, 8);
  ([["71", 2, "w"], ["72", 4, "d"], ["73", 8, "q"]] as const).forEach(([o, lane, sfx]) => {
    ([[2, "psrl", Op.PSRL], [4, "psra", Op.PSRA], [6, "psll", Op.PSLL]] as const).forEach(([ext, m, op]) => {
      if (lane === 8 && op === Op.PSRA) return;
      s.push([`0F ${o} /${ext} reg`, `${m}${sfx}`, op, "Nq,Ib", NP, lane], [`66 0F ${o} /${ext} reg`, `${m}${sfx}`, op, "Ux,Ib", 0, lane]);
    });
  });
  s.push(
    ["66 0F 73 /3 reg", "psrldq", Op.PSRLDQ, "Ux,Ib", 0, 1], ["66 0F 73 /7 reg", "pslldq", Op.PSLLDQ, "Ux,Ib", 0, 1],
    ["66 0F 70 /r", "pshufd", Op.PSHUFD, "Vx,Wx,Ib", 0, 4], ["F2 0F 70 /r", "pshuflw", Op.PSHUFLW, "Vx,Wx,Ib", 0, 2],
    ["F3 0F 70 /r", "pshufhw", Op.PSHUFHW, "Vx,Wx,Ib", 0, 2], ["0F 70 /r", "pshufw", Op.PSHUFW, "Pq,Qq,Ib", NP, 2],
    ["0F C6 /r", "shufps", Op.SHUF, "Vx,Wx,Ib", NP, 4], ["66 0F C6 /r", "shufpd", Op.SHUF, "Vx,Wx,Ib", 0, 8],
  );
  pair("60", "punpcklbw", Op.PUNPCKL, 1, "Pq,Qd"); pair("61", "punpcklwd", Op.PUNPCKL, 2, "Pq,Qd");
  pair("62", "punpckldq", Op.PUNPCKL, 4, "Pq,Qd");
  pair("68", "punpckhbw", Op.PUNPCKH, 1); pair("69", "punpckhwd", Op.PUNPCKH, 2);
  pair("6A", "punpckhdq", Op.PUNPCKH, 4);
  s.push(
    ["66 0F 6C /r", "punpcklqdq", Op.PUNPCKL, "Vx,Wx", 0, 8], ["66 0F 6D /r", "punpckhqdq", Op.PUNPCKH, "Vx,Wx", 0, 8],
    ["0F 14 /r", "unpcklps", Op.PUNPCKL, "Vx,Wx", NP, 4], ["66 0F 14 /r", "unpcklpd", Op.PUNPCKL, "Vx,Wx", 0, 8],
    ["0F 15 /r", "unpckhps", Op.PUNPCKH, "Vx,Wx", NP, 4], ["66 0F 15 /r", "unpckhpd", Op.PUNPCKH, "Vx,Wx", 0, 8],
  );
  pair("63", "packsswb", Op.PACKSS, 2); pair("6B", "packssdw", Op.PACKSS, 4);
  pair("67", "packuswb", Op.PACKUS, 2);
  s.push(
    ["0F 28 /r", "movaps", Op.VMOV, "Vx,Wx", NP], ["0F 29 /r", "movaps", Op.VMOV, "Wx,Vx", NP],
    ["66 0F 28 /r", "movapd", Op.VMOV, "Vx,Wx"], ["66 0F 29 /r", "movapd", Op.VMOV, "Wx,Vx"],
    ["0F 10 /r", "movups", Op.VMOV, "Vx,Wx", NP | MISALIGN], ["0F 11 /r", "movups", Op.VMOV, "Wx,Vx", NP | MISALIGN],
    ["66 0F 10 /r", "movupd", Op.VMOV, "Vx,Wx", MISALIGN], ["66 0F 11 /r", "movupd", Op.VMOV, "Wx,Vx", MISALIGN],
    ["66 0F 6F /r", "movdqa", Op.VMOV, "Vx,Wx"], ["66 0F 7F /r", "movdqa", Op.VMOV, "Wx,Vx"],
    ["F3 0F 6F /r", "movdqu", Op.VMOV, "Vx,Wx", MISALIGN], ["F3 0F 7F /r", "movdqu", Op.VMOV, "Wx,Vx", MISALIGN],
    ["0F 6F /r", "movq", Op.VMOV, "Pq,Qq", NP], ["0F 7F /r", "movq", Op.VMOV, "Qq,Pq", NP],
    ["0F 2B /r mem", "movntps", Op.VMOV, "Wx,Vx", NP], ["66 0F 2B /r mem", "movntpd", Op.VMOV, "Wx,Vx"],
    ["66 0F E7 /r mem", "movntdq", Op.VMOV, "Wx,Vx"], ["0F E7 /r mem", "movntq", Op.VMOV, "Qq,Pq", NP],
    ["F3 0F 10 /r", "movss", Op.VMOVS, "Vx,Wd", 0, 4], ["F3 0F 11 /r", "movss", Op.VMOVS, "Wd,Vx", 0, 4],
    ["F2 0F 10 /r", "movsd", Op.VMOVS, "Vx,Wq", 0, 8], ["F2 0F 11 /r", "movsd", Op.VMOVS, "Wq,Vx", 0, 8],
    ["0F 6E /r", "|movd|movd|movq", Op.VMOVD, "Pq,Ey", NP], ["66 0F 6E /r", "|movd|movd|movq", Op.VMOVD, "Vx,Ey"],
    ["0F 7E /r", "|movd|movd|movq", Op.VMOVD, "Ey,Pq", NP, 1], ["66 0F 7E /r", "|movd|movd|movq", Op.VMOVD, "Ey,Vx", 0, 1],
    ["F3 0F 7E /r", "movq", Op.VMOVQ, "Vx,Wq"], ["66 0F D6 /r", "movq", Op.VMOVQ, "Wq,Vx"],
    ["F3 0F D6 /r reg", "movq2dq", Op.VMOVQ, "Vx,Nq"], ["F2 0F D6 /r reg", "movdq2q", Op.VMOVQ, "Pq,Ux"],
    ["0F 12 /r mem", "movlps", Op.VMOVLH, "Vx,Wq", NP, 0], ["0F 12 /r reg", "movhlps", Op.VMOVLH, "Vx,Ux", NP, 0],
    ["66 0F 12 /r mem", "movlpd", Op.VMOVLH, "Vx,Wq", 0, 0],
    ["0F 13 /r mem", "movlps", Op.VMOVLH, "Wq,Vx", NP, 0], ["66 0F 13 /r mem", "movlpd", Op.VMOVLH, "Wq,Vx", 0, 0],
    ["0F 16 /r mem", "movhps", Op.VMOVLH, "Vx,Wq", NP, 1], ["0F 16 /r reg", "movlhps", Op.VMOVLH, "Vx,Ux", NP, 1],
    ["66 0F 16 /r mem", "movhpd", Op.VMOVLH, "Vx,Wq", 0, 1],
    ["0F 17 /r mem", "movhps", Op.VMOVLH, "Wq,Vx", NP, 1], ["66 0F 17 /r mem", "movhpd", Op.VMOVLH, "Wq,Vx", 0, 1],
    // objdump takes f3/f2 on the MMX pmovmskb as unused prefixes, not as (bad).
    ["0F D7 /r reg", "pmovmskb", Op.VMOVMSK, "Gy,Nq", 0, 1], ["66 0F D7 /r reg", "pmovmskb", Op.VMOVMSK, "Gy,Ux", 0, 1],
    ["0F 50 /r reg", "movmskps", Op.VMOVMSK, "Gy,Ux", NP, 4], ["66 0F 50 /r reg", "movmskpd", Op.VMOVMSK, "Gy,Ux", 0, 8],
    ["0F F7 /r reg", "maskmovq", Op.VMASKMOV, "Pq,Nq", NP], ["66 0F F7 /r reg", "maskmovdqu", Op.VMASKMOV, "Vx,Ux"],
    ["0F C5 /r reg", "pextrw", Op.PEXTRW, "Gd,Nq,Ib", NP, 2], ["66 0F C5 /r reg", "pextrw", Op.PEXTRW, "Gd,Ux,Ib", 0, 2],
    ["0F C4 /r", "pinsrw", Op.PINSRW, "Pq,RdMw,Ib", NP, 2], ["66 0F C4 /r", "pinsrw", Op.PINSRW, "Vx,RdMw,Ib", 0, 2],
    ["0F 77", "emms", Op.EMMS, "", NP],
  );
  return s;
}

/**
 * SSE/SSE2 floating point, SSE3, SSSE3, SSE4.1 and SSE4.2 rows. The last element is the
 * element size in bytes plus 16 × the variant ({@link FpFn}, {@link CvtFn}, {@link ExtFn}).
 */
// prettier-ignore
function sseSpecs(): Spec[] {
  const s: Spec[] = [];
  const v = (lane: number, fn: number): number => lane | (fn << 4);
  /** The four forms ps, pd, ss, sd of one 0F xx floating-point operation. */
  const quad = (opc: string, m: string, op: Op, fn: number, forms = "pdsx", ib = ""): void => {
    if (forms.includes("p")) s.push([`0F ${opc} /r`, `${m}ps`, op, `Vx,Wx${ib}`, NP, v(4, fn)]);
    if (forms.includes("d")) s.push([`66 0F ${opc} /r`, `${m}pd`, op, `Vx,Wx${ib}`, 0, v(8, fn)]);
    if (forms.includes("s")) s.push([`F3 0F ${opc} /r`, `${m}ss`, op, `Vx,Wd${ib}`, 0, v(4, fn)]);
    if (forms.includes("x")) s.push([`F2 0F ${opc} /r`, `${m}sd`, op, `Vx,Wq${ib}`, 0, v(8, fn)]);
  };
  quad("58", "add", Op.FARITH, FpFn.ADD); quad("59", "mul", Op.FARITH, FpFn.MUL);
  quad("5C", "sub", Op.FARITH, FpFn.SUB); quad("5D", "min", Op.FARITH, FpFn.MIN);
  quad("5E", "div", Op.FARITH, FpFn.DIV); quad("5F", "max", Op.FARITH, FpFn.MAX);
  quad("51", "sqrt", Op.FARITH, FpFn.SQRT);
  quad("52", "rsqrt", Op.FAPPROX, 0, "ps"); quad("53", "rcp", Op.FAPPROX, 1, "ps");
  quad("C2", "cmp%P", Op.FCMP, 0, "pdsx", ",Ib");
  s.push(
    ["0F 2E /r", "ucomiss", Op.FCOMI, "Vx,Wd", NP, v(4, 0)], ["0F 2F /r", "comiss", Op.FCOMI, "Vx,Wd", NP, v(4, 1)],
    ["66 0F 2E /r", "ucomisd", Op.FCOMI, "Vx,Wq", 0, v(8, 0)], ["66 0F 2F /r", "comisd", Op.FCOMI, "Vx,Wq", 0, v(8, 1)],
    ["F2 0F D0 /r", "addsubps", Op.FARITH, "Vx,Wx", 0, v(4, FpFn.ADDSUB)],
    ["66 0F D0 /r", "addsubpd", Op.FARITH, "Vx,Wx", 0, v(8, FpFn.ADDSUB)],
    ["F2 0F 7C /r", "haddps", Op.FARITH, "Vx,Wx", 0, v(4, FpFn.HADD)],
    ["66 0F 7C /r", "haddpd", Op.FARITH, "Vx,Wx", 0, v(8, FpFn.HADD)],
    ["F2 0F 7D /r", "hsubps", Op.FARITH, "Vx,Wx", 0, v(4, FpFn.HSUB)],
    ["66 0F 7D /r", "hsubpd", Op.FARITH, "Vx,Wx", 0, v(8, FpFn.HSUB)],
    ["66 0F 3A 40 /r", "dpps", Op.FARITH, "Vx,Wx,Ib", 0, v(4, FpFn.DP)],
    ["66 0F 3A 41 /r", "dppd", Op.FARITH, "Vx,Wx,Ib", 0, v(8, FpFn.DP)],
    // Conversions.
    ["0F 2A /r", "cvtpi2ps", Op.FCVT, "Vx,Qq", NP, v(4, CvtFn.PI2PS)],
    ["66 0F 2A /r", "cvtpi2pd", Op.FCVT, "Vx,Qq", 0, v(8, CvtFn.PI2PD)],
    ["F3 0F 2A /r", "cvtsi2ss%Y", Op.FCVT, "Vx,Ey", 0, v(4, CvtFn.SI2SS)],
    ["F2 0F 2A /r", "cvtsi2sd%Y", Op.FCVT, "Vx,Ey", 0, v(8, CvtFn.SI2SD)],
    ["0F 2C /r", "cvttps2pi", Op.FCVT, "Pq,Wq", NP, v(4, CvtFn.PS2PI + CvtFn.TRUNC)],
    ["66 0F 2C /r", "cvttpd2pi", Op.FCVT, "Pq,Wx", 0, v(8, CvtFn.PD2PI + CvtFn.TRUNC)],
    ["F3 0F 2C /r", "cvttss2si", Op.FCVT, "Gy,Wd", 0, v(4, CvtFn.SS2SI + CvtFn.TRUNC)],
    ["F2 0F 2C /r", "cvttsd2si", Op.FCVT, "Gy,Wq", 0, v(8, CvtFn.SD2SI + CvtFn.TRUNC)],
    ["0F 2D /r", "cvtps2pi", Op.FCVT, "Pq,Wq", NP, v(4, CvtFn.PS2PI)],
    ["66 0F 2D /r", "cvtpd2pi", Op.FCVT, "Pq,Wx", 0, v(8, CvtFn.PD2PI)],
    ["F3 0F 2D /r", "cvtss2si", Op.FCVT, "Gy,Wd", 0, v(4, CvtFn.SS2SI)],
    ["F2 0F 2D /r", "cvtsd2si", Op.FCVT, "Gy,Wq", 0, v(8, CvtFn.SD2SI)],
    ["0F 5A /r", "cvtps2pd", Op.FCVT, "Vx,Wq", NP, v(4, CvtFn.PS2PD)],
    ["66 0F 5A /r", "cvtpd2ps", Op.FCVT, "Vx,Wx", 0, v(8, CvtFn.PD2PS)],
    ["F3 0F 5A /r", "cvtss2sd", Op.FCVT, "Vx,Wd", 0, v(4, CvtFn.SS2SD)],
    ["F2 0F 5A /r", "cvtsd2ss", Op.FCVT, "Vx,Wq", 0, v(8, CvtFn.SD2SS)],
    ["0F 5B /r", "cvtdq2ps", Op.FCVT, "Vx,Wx", NP, v(4, CvtFn.DQ2PS)],
    ["66 0F 5B /r", "cvtps2dq", Op.FCVT, "Vx,Wx", 0, v(4, CvtFn.PS2DQ)],
    ["F3 0F 5B /r", "cvttps2dq", Op.FCVT, "Vx,Wx", 0, v(4, CvtFn.PS2DQ + CvtFn.TRUNC)],
    ["66 0F E6 /r", "cvttpd2dq", Op.FCVT, "Vx,Wx", 0, v(8, CvtFn.PD2DQ + CvtFn.TRUNC)],
    ["F3 0F E6 /r", "cvtdq2pd", Op.FCVT, "Vx,Wq", 0, v(4, CvtFn.DQ2PD)],
    ["F2 0F E6 /r", "cvtpd2dq", Op.FCVT, "Vx,Wx", 0, v(8, CvtFn.PD2DQ)],
    // SSE3.
    ["F2 0F 12 /r", "movddup", Op.VEXT, "Vx,Wq", 0, v(8, ExtFn.MOVDDUP)],
    ["F3 0F 12 /r", "movsldup", Op.VEXT, "Vx,Wx", 0, v(4, ExtFn.MOVSLDUP)],
    ["F3 0F 16 /r", "movshdup", Op.VEXT, "Vx,Wx", 0, v(4, ExtFn.MOVSHDUP)],
    ["F2 0F F0 /r mem", "lddqu", Op.VMOV, "Vx,Wx", MISALIGN],
    // SSE4.1 rounding.
    ["66 0F 3A 08 /r", "roundps", Op.FROUND, "Vx,Wx,Ib", 0, 4], ["66 0F 3A 09 /r", "roundpd", Op.FROUND, "Vx,Wx,Ib", 0, 8],
    ["66 0F 3A 0A /r", "roundss", Op.FROUND, "Vx,Wd,Ib", 0, 4], ["66 0F 3A 0B /r", "roundsd", Op.FROUND, "Vx,Wq,Ib", 0, 8],
  );
  /** SSSE3: an MMX form (0F 38 xx) and an XMM form (66 0F 38 xx). */
  const ssse3 = (opc: string, m: string, op: Op, aux: number): void => {
    s.push([`0F 38 ${opc} /r`, m, op, "Pq,Qq", NP, aux], [`66 0F 38 ${opc} /r`, m, op, "Vx,Wx", 0, aux]);
  };
  ssse3("00", "pshufb", Op.VEXT, v(1, ExtFn.PSHUFB));
  ssse3("01", "phaddw", Op.VEXT, v(2, ExtFn.PHADD)); ssse3("02", "phaddd", Op.VEXT, v(4, ExtFn.PHADD));
  ssse3("03", "phaddsw", Op.VEXT, v(2, ExtFn.PHADDS)); ssse3("04", "pmaddubsw", Op.VEXT, v(2, ExtFn.PMADDUBSW));
  ssse3("05", "phsubw", Op.VEXT, v(2, ExtFn.PHSUB)); ssse3("06", "phsubd", Op.VEXT, v(4, ExtFn.PHSUB));
  ssse3("07", "phsubsw", Op.VEXT, v(2, ExtFn.PHSUBS));
  ssse3("08", "psignb", Op.VEXT, v(1, ExtFn.PSIGN)); ssse3("09", "psignw", Op.VEXT, v(2, ExtFn.PSIGN));
  ssse3("0A", "psignd", Op.VEXT, v(4, ExtFn.PSIGN)); ssse3("0B", "pmulhrsw", Op.VEXT, v(2, ExtFn.PMULHRSW));
  ssse3("1C", "pabsb", Op.VEXT, v(1, ExtFn.PABS)); ssse3("1D", "pabsw", Op.VEXT, v(2, ExtFn.PABS));
  ssse3("1E", "pabsd", Op.VEXT, v(4, ExtFn.PABS));
  s.push(["0F 3A 0F /r", "palignr", Op.VEXT, "Pq,Qq,Ib", NP, v(1, ExtFn.PALIGNR)], ["66 0F 3A 0F /r", "palignr", Op.VEXT, "Vx,Wx,Ib", 0, v(1, ExtFn.PALIGNR)]);
  /** An SSE4 form 66 0F 38 xx. */
  const x38 = (opc: string, m: string, op: Op, aux: number, ops = "Vx,Wx"): void => {
    s.push([`66 0F 38 ${opc} /r`, m, op, ops, 0, aux]);
  };
  x38("10", "pblendvb", Op.VEXT, v(1, ExtFn.BLENDV), "Vx,Wx,XMM0");
  x38("14", "blendvps", Op.VEXT, v(4, ExtFn.BLENDV), "Vx,Wx,XMM0");
  x38("15", "blendvpd", Op.VEXT, v(8, ExtFn.BLENDV), "Vx,Wx,XMM0");
  x38("17", "ptest", Op.VEXT, v(8, ExtFn.PTEST));
  (["bw", "bd", "bq", "wd", "wq", "dq"] as const).forEach((k, i) => {
    const dl = { b: 1, w: 2, d: 4, q: 8 }[k[1] as "w" | "d" | "q"];
    const sl = { b: 1, w: 2, d: 4 }[k[0] as "b" | "w" | "d"];
    const mem = ({ 2: "Ww", 4: "Wd", 8: "Wq" } as const)[(16 / dl) * sl as 2 | 4 | 8];
    x38(`2${i}`, `pmovsx${k}`, Op.VEXT, v(dl, ExtFn.PMOVSX), `Vx,${mem}`);
    x38(`3${i}`, `pmovzx${k}`, Op.VEXT, v(dl, ExtFn.PMOVZX), `Vx,${mem}`);
  });
  x38("28", "pmuldq", Op.VEXT, v(8, ExtFn.PMULDQ)); x38("29", "pcmpeqq", Op.VEXT, v(8, ExtFn.PCMPEQQ));
  s.push(["66 0F 38 2A /r mem", "movntdqa", Op.VMOV, "Vx,Wx"]);
  x38("2B", "packusdw", Op.PACKUS, 4); x38("37", "pcmpgtq", Op.VEXT, v(8, ExtFn.PCMPGTQ));
  x38("38", "pminsb", Op.PMINS, 1); x38("39", "pminsd", Op.PMINS, 4);
  x38("3A", "pminuw", Op.PMINU, 2); x38("3B", "pminud", Op.PMINU, 4);
  x38("3C", "pmaxsb", Op.PMAXS, 1); x38("3D", "pmaxsd", Op.PMAXS, 4);
  x38("3E", "pmaxuw", Op.PMAXU, 2); x38("3F", "pmaxud", Op.PMAXU, 4);
  x38("40", "pmulld", Op.PMULL, 4); x38("41", "phminposuw", Op.VEXT, v(2, ExtFn.PHMINPOSUW));
  /** An SSE4 form 66 0F 3A xx ib. */
  const x3a = (opc: string, m: string, op: Op, aux: number, ops = "Vx,Wx,Ib"): void => {
    s.push([`66 0F 3A ${opc} /r`, m, op, ops, 0, aux]);
  };
  x3a("0C", "blendps", Op.VEXT, v(4, ExtFn.BLEND)); x3a("0D", "blendpd", Op.VEXT, v(8, ExtFn.BLEND));
  x3a("0E", "pblendw", Op.VEXT, v(2, ExtFn.BLEND));
  x3a("14", "pextrb", Op.VEXT, v(1, ExtFn.PEXTR), "RdMb,Vx,Ib");
  x3a("15", "pextrw", Op.VEXT, v(2, ExtFn.PEXTR), "RdMw,Vx,Ib");
  x3a("16", "|pextrd|pextrd|pextrq", Op.VEXT, v(4, ExtFn.PEXTR), "Ey,Vx,Ib");
  x3a("17", "extractps", Op.VEXT, v(4, ExtFn.PEXTR), "Ed,Vx,Ib");
  x3a("20", "pinsrb", Op.VEXT, v(1, ExtFn.PINSR), "Vx,RdMb,Ib");
  x3a("21", "insertps", Op.VEXT, v(4, ExtFn.INSERTPS), "Vx,Wd,Ib");
  x3a("22", "|pinsrd|pinsrd|pinsrq", Op.VEXT, v(4, ExtFn.PINSR), "Vx,Ey,Ib");
  x3a("42", "mpsadbw", Op.VEXT, v(1, ExtFn.MPSADBW));
  // The string compares take a misaligned memory operand (SDM vol. 1, 12.10.3).
  s.push(
    ["66 0F 3A 60 /r", "pcmpestrm%R", Op.PCMPSTR, "Vx,Wx,Ib", MISALIGN, 0], ["66 0F 3A 61 /r", "pcmpestri%R", Op.PCMPSTR, "Vx,Wx,Ib", MISALIGN, 1],
    ["66 0F 3A 62 /r", "pcmpistrm", Op.PCMPSTR, "Vx,Wx,Ib", MISALIGN, 2], ["66 0F 3A 63 /r", "pcmpistri", Op.PCMPSTR, "Vx,Wx,Ib", MISALIGN, 3],
  );
  return s;
}

const MM_KINDS = new Set([Opd.Pq, Opd.Qq, Opd.Qd, Opd.Nq]);
const XMM_KINDS = new Set([Opd.Vx, Opd.Wx, Opd.Wq, Opd.Wd, Opd.Ww, Opd.Ux]);
/** Memory operand size of the vector rows' r/m kinds. */
const MEM_SIZE: Partial<Record<Opd, number>> = {
  [Opd.Wx]: 16,
  [Opd.Wq]: 8,
  [Opd.Wd]: 4,
  [Opd.Qq]: 8,
  [Opd.Qd]: 4,
  [Opd.RdMw]: 2,
  [Opd.Ww]: 2,
  [Opd.RdMb]: 1,
};

/** The {@link Vec} descriptor of a row, 0 when no operand is an MMX or XMM register. */
function vectorDescriptor(ops: readonly Opd[], flags: number, aux: number): number {
  if (!ops.some((o) => MM_KINDS.has(o) || XMM_KINDS.has(o))) return 0;
  let d = Vec.VECTOR | (aux & Vec.AUX) | ((aux >> 4) << Vec.FN_SHIFT);
  if (MM_KINDS.has(ops[0])) d |= Vec.DST_MM;
  if (ops.length > 1 && MM_KINDS.has(ops[1])) d |= Vec.SRC_MM;
  if (ops.some((o) => XMM_KINDS.has(o))) d |= Vec.XMM;
  const size = ops.reduce((n, o) => MEM_SIZE[o] ?? n, 0);
  d |= size << Vec.MEM_SHIFT;
  if (size === 16 && (flags & RowFlag.MISALIGN) === 0) d |= Vec.ALIGN;
  return d;
}

const BYTE_KINDS = new Set([Opd.Eb, Opd.Gb, Opd.Zb, Opd.AL, Opd.Ob, Opd.Xb, Opd.Yb]);
const V_KINDS = new Set([
  Opd.Ev,
  Opd.Gv,
  Opd.Zv,
  Opd.rAX,
  Opd.eAX,
  Opd.Ov,
  Opd.Xv,
  Opd.Yv,
  Opd.Iz,
  Opd.Iv,
  Opd.Ibs,
  Opd.Ey,
  Opd.Gy,
  Opd.Rv,
  Opd.Ry,
  Opd.Jz,
  Opd.Ew,
  Opd.Gw,
  Opd.Ed,
  Opd.Gd,
]);

function parseRow(
  index: number,
  [encoding, mnemonic, op, operands, flags = 0, aux = 0]: Spec,
): InsnRow {
  const t = encoding.split(" ");
  let i = 0;
  let prefix = 0;
  if (t.length > 1 && (t[0] === "66" || t[0] === "F3" || t[0] === "F2"))
    prefix = parseInt(t[i++], 16);
  let map = OpMap.Primary;
  if (t[i] === "0F" && t.length > i + 1) {
    i++;
    map = OpMap.M0F;
    if ((t[i] === "38" || t[i] === "3A") && t.length > i + 1) {
      map = t[i] === "38" ? OpMap.M0F38 : OpMap.M0F3A;
      i++;
    }
  }
  const opTok = t[i++];
  const opcode = parseInt(opTok, 16);
  const opcodeCount = opTok.endsWith("+r") ? 8 : opTok.endsWith("+cc") ? 16 : 1;
  let modrm = false;
  let ext = -1;
  let mod = ModMatch.Any;
  let rm = -1;
  for (; i < t.length; i++) {
    const k = t[i];
    if (k === "/r") modrm = true;
    else if (/^\/[0-7]$/.test(k)) {
      modrm = true;
      ext = +k[1];
    } else if (k === "mem") mod = ModMatch.Mem;
    else if (k === "reg") mod = ModMatch.Reg;
    else if (/^[0-9A-F]{2}$/.test(k)) {
      const b = parseInt(k, 16);
      if (b < 0xc0) throw new Error(`table: literal ModRM ${k} must be a register form`);
      modrm = true;
      mod = ModMatch.Reg;
      ext = (b >> 3) & 7;
      rm = b & 7;
    } else throw new Error(`table: bad encoding token ${k} in ${encoding}`);
  }
  const ops =
    operands === ""
      ? []
      : operands.split(",").map((n) => {
          const v = (Opd as unknown as Record<string, number>)[n];
          if (v === undefined) throw new Error(`table: unknown operand kind ${n}`);
          return v as Opd;
        });
  const byteSized = ops.some((o) => BYTE_KINDS.has(o)) && !ops.some((o) => V_KINDS.has(o));
  return {
    index,
    encoding,
    mnemonic,
    op,
    map,
    opcode,
    opcodeCount,
    prefix,
    modrm,
    ext,
    mod,
    rm,
    operands: ops,
    flags,
    cc: opcodeCount === 16,
    byteSized,
    aux,
    vector: vectorDescriptor(ops, flags, aux),
  };
}

/** The instruction table. A row's position is its index (`D.ROW` in a decoded record). */
export const TABLE: readonly InsnRow[] = specs().map((s, i) => parseRow(i, s));

/** Condition-code names as objdump spells them (jcc/setcc/cmovcc), by the low opcode nibble. */
export const CC_NAMES: readonly string[] = [
  "o",
  "no",
  "b",
  "ae",
  "e",
  "ne",
  "be",
  "a",
  "s",
  "ns",
  "p",
  "np",
  "l",
  "ge",
  "le",
  "g",
];

/** Whether `row` is valid in the given processor mode (64 = long mode, 32/16 = legacy or compatibility). */
export function rowValidIn(row: InsnRow, mode: 64 | 32 | 16): boolean {
  return mode === 64 ? (row.flags & RowFlag.I64) === 0 : (row.flags & RowFlag.O64) === 0;
}
