/**
 * The 64-bit PowerPC instruction table: one row per instruction, the single source from
 * which the decoder builds its lookup arrays ({@link decodeWord}), the interpreter picks
 * its semantics ({@link Op} and the row's {@link RowFlag}s) and the disassembler prints
 * (mnemonic, operand kinds and the extended mnemonics GNU objdump prefers).
 *
 * Encodings are data: a row gives its form ({@link Form}), primary opcode, extended opcode
 * and operands in assembler order. Everything else follows from those: the operands name
 * the instruction fields that vary, the Rc/OE/AA/LK flags name the bits that select the
 * variants (`add`, `add.`, `addo`, `addo.`), and every other bit is fixed — the opcode
 * fields, and reserved fields, which must be zero (the Power ISA calls an instruction with
 * a reserved bit set invalid form; binutils' opcode table, like the decoder here, rejects
 * it). Facts from the Power ISA 2.01 / PowerPC 970 user manual (Book I–III) and the
 * PowerPC operating environment architecture; instruction words are big-endian and fields
 * are numbered as the ISA numbers them, bit 0 the most significant.
 *
 * Scope: the user and supervisor ISA of a 970-class CPU (POWER4 instruction set) without
 * AltiVec: what compilers emit for integer and floating-point code, and what a kernel uses
 * (MSR, SPRs, SLB, TLB, cache control, `rfid`, `sc 1`).
 *
 * @module
 */

/** Instruction forms (Power ISA Book I, 1.7): which fields sit where. */
export enum Form {
  /** `b`: LI, AA, LK. */ I = 0,
  /** `bc`: BO, BI, BD, AA, LK. */ B,
  /** `sc`: LEV. */ SC,
  /** 16-bit immediate or displacement. */ D,
  /** Doubleword displacement (low two bits are an extended opcode). */ DS,
  /** Ten-bit extended opcode in bits 21–30. */ X,
  /** As X, for opcode 19 (branch to LR/CTR, CR logical, rfid, isync). */ XL,
  /** SPR/TBR field or CR field mask (mfspr, mtspr, mtcrf). */ XFX,
  /** FPSCR field mask (mtfsf). */ XFL,
  /** Nine-bit extended opcode and the OE bit. */ XO,
  /** Four FPR fields and a five-bit extended opcode. */ A,
  /** Rotate word: SH/RB, MB, ME. */ M,
  /** Rotate doubleword by immediate: six-bit SH and MB/ME. */ MD,
  /** Rotate doubleword by register. */ MDS,
  /** `sradi`: nine-bit extended opcode and a six-bit SH. */ XS,
}

/**
 * Operand kinds: which field an operand lives in and how it prints. Field positions in
 * the comments are the ISA's bit numbers.
 */
export enum Opd {
  /** GPR, bits 6–10 (RT or RS). */ RT = 0,
  /** GPR, bits 11–15. */ RA,
  /** GPR bits 11–15 where 0 means the value 0 (base of a load/store, addi). */ RA0,
  /** GPR, bits 16–20. */ RB,
  /** FPR, bits 6–10. */ FRT,
  /** FPR, bits 11–15. */ FRA,
  /** FPR, bits 16–20. */ FRB,
  /** FPR, bits 21–25. */ FRC,
  /** CR field, bits 6–8. */ BF,
  /** CR field, bits 11–13. */ BFA,
  /** CR bit, bits 6–10. */ BT,
  /** CR bit, bits 11–15. */ BA,
  /** CR bit, bits 16–20. */ BB,
  /** Branch options, bits 6–10. */ BO,
  /** CR bit tested by a conditional branch, bits 11–15. */ BI,
  /** Branch displacement, bits 16–29 (× 4, signed). */ BD,
  /** Branch displacement, bits 6–29 (× 4, signed). */ LI,
  /** Signed 16-bit immediate, bits 16–31. */ SI,
  /** Unsigned 16-bit immediate, bits 16–31. */ UI,
  /** `d(RA)`: signed 16-bit displacement and base RA0. */ DRA,
  /** `ds(RA)`: signed displacement bits 16–29 (× 4) and base RA0. */ DSRA,
  /** Trap condition, bits 6–10. */ TO,
  /** Compare length (0 word, 1 doubleword), bit 10. */ L10,
  /** Compare length as {@link Opd.L10} in cmpi/cmpli, whose bit 9 the 970 and objdump ignore. */ L910,
  /** Shift count, bits 16–20. */ SH,
  /** Mask begin, bits 21–25. */ MB,
  /** Mask end, bits 26–30. */ ME,
  /** Six-bit shift count: bits 16–20 and bit 30 (MD, XS). */ SH6,
  /** Six-bit mask begin/end: bits 21–25 and bit 26 as the high bit (MD, MDS). */ MB6,
  /** SPR number, bits 11–20 with the halves swapped. */ SPR,
  /** CR field mask, bits 12–19. */ FXM,
  /** FPSCR field mask, bits 7–14. */ FLM,
  /** FPSCR immediate, bits 16–19. */ U,
  /** Byte count of lswi/stswi, bits 16–20 (0 means 32). */ NB,
  /** Segment register, bits 12–15. */ SR,
  /** `sc` level, bits 20–26. */ LEV,
  /** `mtmsrd` L, bit 15. */ L15,
  /** `sync` L, bits 9–10. */ LS,
  /** FPSCR bit, bits 6–10. */ BTF,
  /** Touch hint of dcbt/dcbtst, bits 6–10. */ TH,
  /** Branch hint of bclr/bcctr, bits 19–20. */ BH,
  /** Exclusive-access hint of lwarx/ldarx, bit 31 (printed only when set). */ EH,
  /** FPSCR field, bits 6–8, printed as a number (mtfsfi). */ BFN,
}

/** The bits of the instruction word each operand kind occupies. */
export const OPD_BITS: readonly number[] = (() => {
  const b: number[] = [];
  b[Opd.RT] = 0x03e00000;
  b[Opd.RA] = b[Opd.RA0] = 0x001f0000;
  b[Opd.RB] = 0x0000f800;
  b[Opd.FRT] = 0x03e00000;
  b[Opd.FRA] = 0x001f0000;
  b[Opd.FRB] = 0x0000f800;
  b[Opd.FRC] = 0x000007c0;
  b[Opd.BF] = 0x03800000;
  b[Opd.BFA] = 0x001c0000;
  b[Opd.BT] = 0x03e00000;
  b[Opd.BA] = 0x001f0000;
  b[Opd.BB] = 0x0000f800;
  b[Opd.BO] = 0x03e00000;
  b[Opd.BI] = 0x001f0000;
  b[Opd.BD] = 0x0000fffc;
  b[Opd.LI] = 0x03fffffc;
  b[Opd.SI] = b[Opd.UI] = 0x0000ffff;
  b[Opd.DRA] = 0x001fffff;
  b[Opd.DSRA] = 0x001ffffc;
  b[Opd.TO] = 0x03e00000;
  b[Opd.L10] = 0x00200000;
  b[Opd.L910] = 0x00600000;
  b[Opd.SH] = 0x0000f800;
  b[Opd.MB] = 0x000007c0;
  b[Opd.ME] = 0x0000003e;
  b[Opd.SH6] = 0x0000f802;
  b[Opd.MB6] = 0x000007e0;
  b[Opd.SPR] = 0x001ff800;
  b[Opd.FXM] = 0x000ff000;
  b[Opd.FLM] = 0x01fe0000;
  b[Opd.U] = 0x0000f000;
  b[Opd.NB] = 0x0000f800;
  b[Opd.SR] = 0x000f0000;
  b[Opd.LEV] = 0x00000fe0;
  b[Opd.L15] = 0x00010000;
  b[Opd.LS] = 0x00600000;
  b[Opd.BTF] = 0x03e00000;
  b[Opd.TH] = 0x03e00000;
  b[Opd.BH] = 0x00001800;
  b[Opd.EH] = 0x00000001;
  b[Opd.BFN] = 0x03800000;
  return b;
})();

/** Row flags: variant bits the row allows and attributes the interpreter reads. */
export const RowFlag = {
  /** Bit 31 (Rc) selects the recording form (`.`): CR0 (CR1 for FP) gets the result's summary. */
  RC: 1,
  /** Bit 21 (OE) selects the overflow form (`o`): XER OV and SO are set. */
  OE: 2,
  /** Bit 30 (AA): absolute branch target (`a`). */
  AA: 4,
  /** Bit 31 (LK): the branch writes the next address into LR (`l`). */
  LK: 8,
  /** Only the recording form exists (`stwcx.`, `andi.`): bit 31 must be 1 / is part of the opcode. */
  RC_ONLY: 16,
  /** Load/store: RA is updated with the effective address; RA = 0 (and RA = RT for loads) is invalid. */
  UPDATE: 32,
  /** Load: sign-extend (algebraic). */
  ALGEBRAIC: 64,
  /** Load/store: byte-reversed (little-endian) access. */
  REVERSED: 128,
  /** Privileged (MSR[PR] = 1 raises a privileged-instruction program interrupt). */
  PRIV: 256,
  /** FP single-precision result (the `s` forms): rounded to single. */
  SINGLE: 512,
} as const;

/** Semantics: what the interpreter does with a row (the row's flags and size refine it). */
export enum Op {
  /** Integer load of {@link InsnRow.size} bytes (update, indexed, algebraic, reversed from flags). */
  Load = 0,
  /** Integer store of {@link InsnRow.size} bytes. */ Store,
  /** FP load (size 4: single, converted; 8: double). */ LoadFp,
  /** FP store (size 4: converted to single; 8: double). */ StoreFp,
  /** stfiwx: low word of an FPR. */ StoreFpInt,
  /** lmw. */ LoadMultiple,
  /** stmw. */ StoreMultiple,
  /** lswi/lswx. */ LoadString,
  /** stswi/stswx. */ StoreString,
  /** lwarx/ldarx. */ LoadReserve,
  /** stwcx./stdcx. */ StoreConditional,
  /** addi/addis/li/lis. */ Addi,
  /** addis. */ Addis,
  /** addic, addic. */ Addic,
  /** subfic. */ Subfic,
  /** mulli. */ Mulli,
  /** add. */ Add,
  /** addc. */ Addc,
  /** adde. */ Adde,
  /** addme. */ Addme,
  /** addze. */ Addze,
  /** subf. */ Subf,
  /** subfc. */ Subfc,
  /** subfe. */ Subfe,
  /** subfme. */ Subfme,
  /** subfze. */ Subfze,
  /** neg. */ Neg,
  /** mullw. */ Mullw,
  /** mulld. */ Mulld,
  /** mulhw. */ Mulhw,
  /** mulhwu. */ Mulhwu,
  /** mulhd. */ Mulhd,
  /** mulhdu. */ Mulhdu,
  /** divw. */ Divw,
  /** divwu. */ Divwu,
  /** divd. */ Divd,
  /** divdu. */ Divdu,
  /** cmp/cmpi (signed). */ Cmp,
  /** cmpl/cmpli (unsigned). */ Cmpl,
  /** cmpi. */ Cmpi,
  /** cmpli. */ Cmpli,
  /** tw. */ Tw,
  /** twi. */ Twi,
  /** td. */ Td,
  /** tdi. */ Tdi,
  /** and. */ And,
  /** or. */ Or,
  /** xor. */ Xor,
  /** nand. */ Nand,
  /** nor. */ Nor,
  /** eqv. */ Eqv,
  /** andc. */ Andc,
  /** orc. */ Orc,
  /** andi. */ Andi,
  /** andis. */ Andis,
  /** ori. */ Ori,
  /** oris. */ Oris,
  /** xori. */ Xori,
  /** xoris. */ Xoris,
  /** extsb. */ Extsb,
  /** extsh. */ Extsh,
  /** extsw. */ Extsw,
  /** cntlzw. */ Cntlzw,
  /** cntlzd. */ Cntlzd,
  /** rlwinm. */ Rlwinm,
  /** rlwnm. */ Rlwnm,
  /** rlwimi. */ Rlwimi,
  /** rldicl. */ Rldicl,
  /** rldicr. */ Rldicr,
  /** rldic. */ Rldic,
  /** rldimi. */ Rldimi,
  /** rldcl. */ Rldcl,
  /** rldcr. */ Rldcr,
  /** slw. */ Slw,
  /** srw. */ Srw,
  /** sraw. */ Sraw,
  /** srawi. */ Srawi,
  /** sld. */ Sld,
  /** srd. */ Srd,
  /** srad. */ Srad,
  /** sradi. */ Sradi,
  /** b. */ B,
  /** bc. */ Bc,
  /** bclr. */ Bclr,
  /** bcctr. */ Bcctr,
  /** sc. */ Sc,
  /** rfid. */ Rfid,
  /** hrfid. */ Hrfid,
  /** CR logical (crand ... crorc): the extended opcode selects the function. */ CrLogical,
  /** mcrf. */ Mcrf,
  /** mcrxr. */ Mcrxr,
  /** mfcr. */ Mfcr,
  /** mfocrf. */ Mfocrf,
  /** mtcrf. */ Mtcrf,
  /** mtocrf. */ Mtocrf,
  /** mfspr. */ Mfspr,
  /** mtspr. */ Mtspr,
  /** mftb. */ Mftb,
  /** mfmsr. */ Mfmsr,
  /** mtmsr. */ Mtmsr,
  /** mtmsrd. */ Mtmsrd,
  /** Memory barriers and context synchronisation: nothing to do in a sequential model. */ Barrier,
  /** Cache hints with no architected effect here (dcbt, dcbst, dcbf, icbi, ...). */ CacheHint,
  /** dcbz: zero the cache block (128 bytes on the 970). */ Dcbz,
  /** Segment/TLB management (slbie, slbia, slbmte, slbmfev, slbmfee, tlbie, tlbiel, tlbsync, mtsr, mfsr, ...): the MMU's. */ Mmu,
  /** fadd, fsub, fmul, fdiv (and single forms): the extended opcode selects. */ FpArith,
  /** fmadd, fmsub, fnmadd, fnmsub (and single forms). */ FpMulAdd,
  /** fsqrt(s). */ FpSqrt,
  /** fres. */ FpRes,
  /** frsqrte. */ FpRsqrte,
  /** fsel. */ FpSel,
  /** fmr, fneg, fabs, fnabs. */ FpMove,
  /** frsp. */ FpRsp,
  /** fctiw, fctiwz, fctid, fctidz. */ FpCvtToInt,
  /** fcfid. */ FpCfid,
  /** fcmpu, fcmpo. */ FpCmp,
  /** mffs. */ Mffs,
  /** mtfsf. */ Mtfsf,
  /** mtfsfi. */ Mtfsfi,
  /** mtfsb0. */ Mtfsb0,
  /** mtfsb1. */ Mtfsb1,
  /** mcrfs. */ Mcrfs,
  /** attn and other instructions that stop the model (illegal here). */ Illegal,
}

/** One instruction of the table. */
export interface InsnRow {
  /** Mnemonic of the base variant (no `o`, `.`, `l`, `a`). */
  readonly name: string;
  /** The form. */
  readonly form: Form;
  /** Operands in assembler order. */
  readonly opds: readonly Opd[];
  /** Semantics. */
  readonly op: Op;
  /** {@link RowFlag} bits. */
  readonly flags: number;
  /** Access size in bytes for loads/stores; 0 otherwise. */
  readonly size: number;
  /** The bits that must equal {@link InsnRow.match}. */
  readonly mask: number;
  /** The fixed bits (primary and extended opcode, zero reserved fields). */
  readonly match: number;
  /** The extended opcode, as the form places it (0 for forms without one). */
  readonly xo: number;
}

const { RC, OE, AA, LK, RC_ONLY, UPDATE, ALGEBRAIC, REVERSED, PRIV, SINGLE } = RowFlag;

/** Where a form's extended opcode goes. */
function placeXo(form: Form, xo: number): number {
  switch (form) {
    case Form.DS:
      return xo;
    case Form.X:
    case Form.XL:
    case Form.XFX:
    case Form.XFL:
      return xo << 1;
    case Form.XO:
      return xo << 1;
    case Form.A:
      return xo << 1;
    case Form.MD:
      return xo << 2;
    case Form.MDS:
      return xo << 1;
    case Form.XS:
      return xo << 2;
    case Form.SC:
      return 2;
    default:
      return 0;
  }
}

/** The bits a form's extended opcode occupies. */
function xoBits(form: Form): number {
  switch (form) {
    case Form.DS:
      return 3;
    case Form.X:
    case Form.XL:
    case Form.XFX:
    case Form.XFL:
      return 0x7fe;
    case Form.XO:
      return 0x3fe;
    case Form.A:
      return 0x3e;
    case Form.MD:
      return 0x1c;
    case Form.MDS:
      return 0x1e;
    case Form.XS:
      return 0x7fc;
    case Form.SC:
      return 2;
    default:
      return 0;
  }
}

const OPD_NAMES: Record<string, Opd> = Object.fromEntries(
  Object.entries(Opd).filter(([, v]) => typeof v === "number"),
) as Record<string, Opd>;

function row(
  name: string,
  form: Form,
  primary: number,
  xo: number,
  opds: string,
  op: Op,
  flags = 0,
  size = 0,
  fixed = 0,
): InsnRow {
  const kinds = opds === "" ? [] : opds.split(",").map((s) => OPD_NAMES[s]!);
  let varying = 0;
  for (const k of kinds) varying |= OPD_BITS[k]!;
  if (flags & RC) varying |= 1;
  if (flags & OE) varying |= 0x400;
  if (flags & AA) varying |= 2;
  if (flags & LK) varying |= 1;
  const mask = ~varying >>> 0;
  let match = ((primary << 26) | placeXo(form, xo) | fixed) >>> 0;
  if (flags & RC_ONLY) match |= 1;
  if ((match & ~mask) !== 0 || (xoBits(form) & varying) !== 0)
    throw new Error(`ppc table: ${name}: fixed bits overlap its operands`);
  return { name, form, opds: kinds, op, flags, size, mask, match, xo };
}

const D = Form.D;
const X = Form.X;
const XO = Form.XO;
const A = Form.A;

/**
 * The table. Order matters only where two rows match the same word (none do: each word
 * decodes to at most one row, which a test checks).
 */
export const TABLE: readonly InsnRow[] = [
  // Integer arithmetic, immediate forms.
  row("tdi", D, 2, 0, "TO,RA,SI", Op.Tdi),
  row("twi", D, 3, 0, "TO,RA,SI", Op.Twi),
  row("mulli", D, 7, 0, "RT,RA,SI", Op.Mulli),
  row("subfic", D, 8, 0, "RT,RA,SI", Op.Subfic),
  row("cmpli", D, 10, 0, "BF,L910,RA,UI", Op.Cmpli),
  row("cmpi", D, 11, 0, "BF,L910,RA,SI", Op.Cmpi),
  row("addic", D, 12, 0, "RT,RA,SI", Op.Addic),
  row("addic.", D, 13, 0, "RT,RA,SI", Op.Addic),
  row("addi", D, 14, 0, "RT,RA0,SI", Op.Addi),
  row("addis", D, 15, 0, "RT,RA0,SI", Op.Addis),
  // Branches and system call.
  row("bc", Form.B, 16, 0, "BO,BI,BD", Op.Bc, AA | LK),
  row("sc", Form.SC, 17, 0, "LEV", Op.Sc),
  row("b", Form.I, 18, 0, "LI", Op.B, AA | LK),
  // Opcode 19: XL form.
  row("mcrf", Form.XL, 19, 0, "BF,BFA", Op.Mcrf),
  row("bclr", Form.XL, 19, 16, "BO,BI,BH", Op.Bclr, LK),
  row("crnor", Form.XL, 19, 33, "BT,BA,BB", Op.CrLogical),
  row("rfid", Form.XL, 19, 18, "", Op.Rfid, PRIV),
  row("crandc", Form.XL, 19, 129, "BT,BA,BB", Op.CrLogical),
  row("isync", Form.XL, 19, 150, "", Op.Barrier),
  row("crxor", Form.XL, 19, 193, "BT,BA,BB", Op.CrLogical),
  row("crnand", Form.XL, 19, 225, "BT,BA,BB", Op.CrLogical),
  row("crand", Form.XL, 19, 257, "BT,BA,BB", Op.CrLogical),
  row("hrfid", Form.XL, 19, 274, "", Op.Hrfid, PRIV),
  row("creqv", Form.XL, 19, 289, "BT,BA,BB", Op.CrLogical),
  row("crorc", Form.XL, 19, 417, "BT,BA,BB", Op.CrLogical),
  row("cror", Form.XL, 19, 449, "BT,BA,BB", Op.CrLogical),
  row("bcctr", Form.XL, 19, 528, "BO,BI,BH", Op.Bcctr, LK),
  // Rotates (M form) and logical immediates.
  row("rlwimi", Form.M, 20, 0, "RA,RT,SH,MB,ME", Op.Rlwimi, RC),
  row("rlwinm", Form.M, 21, 0, "RA,RT,SH,MB,ME", Op.Rlwinm, RC),
  row("rlwnm", Form.M, 23, 0, "RA,RT,RB,MB,ME", Op.Rlwnm, RC),
  row("ori", D, 24, 0, "RA,RT,UI", Op.Ori),
  row("oris", D, 25, 0, "RA,RT,UI", Op.Oris),
  row("xori", D, 26, 0, "RA,RT,UI", Op.Xori),
  row("xoris", D, 27, 0, "RA,RT,UI", Op.Xoris),
  row("andi.", D, 28, 0, "RA,RT,UI", Op.Andi),
  row("andis.", D, 29, 0, "RA,RT,UI", Op.Andis),
  // Opcode 30: doubleword rotates.
  row("rldicl", Form.MD, 30, 0, "RA,RT,SH6,MB6", Op.Rldicl, RC),
  row("rldicr", Form.MD, 30, 1, "RA,RT,SH6,MB6", Op.Rldicr, RC),
  row("rldic", Form.MD, 30, 2, "RA,RT,SH6,MB6", Op.Rldic, RC),
  row("rldimi", Form.MD, 30, 3, "RA,RT,SH6,MB6", Op.Rldimi, RC),
  row("rldcl", Form.MDS, 30, 8, "RA,RT,RB,MB6", Op.Rldcl, RC),
  row("rldcr", Form.MDS, 30, 9, "RA,RT,RB,MB6", Op.Rldcr, RC),
  // Opcode 31.
  row("cmp", X, 31, 0, "BF,L10,RA,RB", Op.Cmp),
  row("tw", X, 31, 4, "TO,RA,RB", Op.Tw),
  row("subfc", XO, 31, 8, "RT,RA,RB", Op.Subfc, RC | OE),
  row("mulhdu", XO, 31, 9, "RT,RA,RB", Op.Mulhdu, RC),
  row("addc", XO, 31, 10, "RT,RA,RB", Op.Addc, RC | OE),
  row("mulhwu", XO, 31, 11, "RT,RA,RB", Op.Mulhwu, RC),
  row("mfcr", Form.XFX, 31, 19, "RT", Op.Mfcr),
  row("mfocrf", Form.XFX, 31, 19, "RT,FXM", Op.Mfocrf, 0, 0, 0x00100000),
  row("lwarx", X, 31, 20, "RT,RA0,RB,EH", Op.LoadReserve, 0, 4),
  row("ldx", X, 31, 21, "RT,RA0,RB", Op.Load, 0, 8),
  row("lwzx", X, 31, 23, "RT,RA0,RB", Op.Load, 0, 4),
  row("slw", X, 31, 24, "RA,RT,RB", Op.Slw, RC),
  row("cntlzw", X, 31, 26, "RA,RT", Op.Cntlzw, RC),
  row("sld", X, 31, 27, "RA,RT,RB", Op.Sld, RC),
  row("and", X, 31, 28, "RA,RT,RB", Op.And, RC),
  row("cmpl", X, 31, 32, "BF,L10,RA,RB", Op.Cmpl),
  row("subf", XO, 31, 40, "RT,RA,RB", Op.Subf, RC | OE),
  row("ldux", X, 31, 53, "RT,RA,RB", Op.Load, UPDATE, 8),
  row("dcbst", X, 31, 54, "RA0,RB", Op.CacheHint),
  row("lwzux", X, 31, 55, "RT,RA,RB", Op.Load, UPDATE, 4),
  row("cntlzd", X, 31, 58, "RA,RT", Op.Cntlzd, RC),
  row("andc", X, 31, 60, "RA,RT,RB", Op.Andc, RC),
  row("td", X, 31, 68, "TO,RA,RB", Op.Td),
  row("mulhd", XO, 31, 73, "RT,RA,RB", Op.Mulhd, RC),
  row("mulhw", XO, 31, 75, "RT,RA,RB", Op.Mulhw, RC),
  row("mfmsr", X, 31, 83, "RT", Op.Mfmsr, PRIV),
  row("ldarx", X, 31, 84, "RT,RA0,RB,EH", Op.LoadReserve, 0, 8),
  row("dcbf", X, 31, 86, "RA0,RB", Op.CacheHint),
  row("lbzx", X, 31, 87, "RT,RA0,RB", Op.Load, 0, 1),
  row("neg", XO, 31, 104, "RT,RA", Op.Neg, RC | OE),
  row("lbzux", X, 31, 119, "RT,RA,RB", Op.Load, UPDATE, 1),
  row("nor", X, 31, 124, "RA,RT,RB", Op.Nor, RC),
  row("subfe", XO, 31, 136, "RT,RA,RB", Op.Subfe, RC | OE),
  row("adde", XO, 31, 138, "RT,RA,RB", Op.Adde, RC | OE),
  row("mtcrf", Form.XFX, 31, 144, "FXM,RT", Op.Mtcrf),
  row("mtocrf", Form.XFX, 31, 144, "FXM,RT", Op.Mtocrf, 0, 0, 0x00100000),
  row("mtmsr", X, 31, 146, "RT", Op.Mtmsr, PRIV),
  row("stdx", X, 31, 149, "RT,RA0,RB", Op.Store, 0, 8),
  row("stwcx.", X, 31, 150, "RT,RA0,RB", Op.StoreConditional, RC_ONLY, 4),
  row("stwx", X, 31, 151, "RT,RA0,RB", Op.Store, 0, 4),
  row("mtmsrd", X, 31, 178, "RT,L15", Op.Mtmsrd, PRIV),
  row("stdux", X, 31, 181, "RT,RA,RB", Op.Store, UPDATE, 8),
  row("stwux", X, 31, 183, "RT,RA,RB", Op.Store, UPDATE, 4),
  row("subfze", XO, 31, 200, "RT,RA", Op.Subfze, RC | OE),
  row("addze", XO, 31, 202, "RT,RA", Op.Addze, RC | OE),
  row("stdcx.", X, 31, 214, "RT,RA0,RB", Op.StoreConditional, RC_ONLY, 8),
  row("stbx", X, 31, 215, "RT,RA0,RB", Op.Store, 0, 1),
  row("subfme", XO, 31, 232, "RT,RA", Op.Subfme, RC | OE),
  row("mulld", XO, 31, 233, "RT,RA,RB", Op.Mulld, RC | OE),
  row("addme", XO, 31, 234, "RT,RA", Op.Addme, RC | OE),
  row("mullw", XO, 31, 235, "RT,RA,RB", Op.Mullw, RC | OE),
  row("dcbtst", X, 31, 246, "RA0,RB,TH", Op.CacheHint),
  row("stbux", X, 31, 247, "RT,RA,RB", Op.Store, UPDATE, 1),
  row("add", XO, 31, 266, "RT,RA,RB", Op.Add, RC | OE),
  row("tlbiel", X, 31, 274, "RB,L10", Op.Mmu, PRIV),
  row("dcbt", X, 31, 278, "RA0,RB,TH", Op.CacheHint),
  row("lhzx", X, 31, 279, "RT,RA0,RB", Op.Load, 0, 2),
  row("eqv", X, 31, 284, "RA,RT,RB", Op.Eqv, RC),
  row("tlbie", X, 31, 306, "RB,L10", Op.Mmu, PRIV),
  row("eciwx", X, 31, 310, "RT,RA0,RB", Op.Illegal),
  row("lhzux", X, 31, 311, "RT,RA,RB", Op.Load, UPDATE, 2),
  row("xor", X, 31, 316, "RA,RT,RB", Op.Xor, RC),
  row("mfspr", Form.XFX, 31, 339, "RT,SPR", Op.Mfspr),
  row("lwax", X, 31, 341, "RT,RA0,RB", Op.Load, ALGEBRAIC, 4),
  row("lhax", X, 31, 343, "RT,RA0,RB", Op.Load, ALGEBRAIC, 2),
  row("tlbia", X, 31, 370, "", Op.Mmu, PRIV),
  row("mftb", Form.XFX, 31, 371, "RT,SPR", Op.Mftb),
  row("lwaux", X, 31, 373, "RT,RA,RB", Op.Load, UPDATE | ALGEBRAIC, 4),
  row("lhaux", X, 31, 375, "RT,RA,RB", Op.Load, UPDATE | ALGEBRAIC, 2),
  row("slbmte", X, 31, 402, "RT,RB", Op.Mmu, PRIV),
  row("sthx", X, 31, 407, "RT,RA0,RB", Op.Store, 0, 2),
  row("orc", X, 31, 412, "RA,RT,RB", Op.Orc, RC),
  row("sradi", Form.XS, 31, 413, "RA,RT,SH6", Op.Sradi, RC),
  row("slbie", X, 31, 434, "RB", Op.Mmu, PRIV),
  row("ecowx", X, 31, 438, "RT,RA0,RB", Op.Illegal),
  row("sthux", X, 31, 439, "RT,RA,RB", Op.Store, UPDATE, 2),
  row("or", X, 31, 444, "RA,RT,RB", Op.Or, RC),
  row("divdu", XO, 31, 457, "RT,RA,RB", Op.Divdu, RC | OE),
  row("divwu", XO, 31, 459, "RT,RA,RB", Op.Divwu, RC | OE),
  row("mtspr", Form.XFX, 31, 467, "SPR,RT", Op.Mtspr),
  row("dcbi", X, 31, 470, "RA0,RB", Op.CacheHint, PRIV),
  row("nand", X, 31, 476, "RA,RT,RB", Op.Nand, RC),
  row("divd", XO, 31, 489, "RT,RA,RB", Op.Divd, RC | OE),
  row("divw", XO, 31, 491, "RT,RA,RB", Op.Divw, RC | OE),
  row("slbia", X, 31, 498, "", Op.Mmu, PRIV),
  row("mcrxr", X, 31, 512, "BF", Op.Mcrxr),
  row("lswx", X, 31, 533, "RT,RA0,RB", Op.LoadString),
  row("lwbrx", X, 31, 534, "RT,RA0,RB", Op.Load, REVERSED, 4),
  row("lfsx", X, 31, 535, "FRT,RA0,RB", Op.LoadFp, 0, 4),
  row("srw", X, 31, 536, "RA,RT,RB", Op.Srw, RC),
  row("srd", X, 31, 539, "RA,RT,RB", Op.Srd, RC),
  row("tlbsync", X, 31, 566, "", Op.Mmu, PRIV),
  row("lfsux", X, 31, 567, "FRT,RA,RB", Op.LoadFp, UPDATE, 4),
  row("lswi", X, 31, 597, "RT,RA0,NB", Op.LoadString),
  row("sync", X, 31, 598, "LS", Op.Barrier),
  row("lfdx", X, 31, 599, "FRT,RA0,RB", Op.LoadFp, 0, 8),
  row("lfdux", X, 31, 631, "FRT,RA,RB", Op.LoadFp, UPDATE, 8),
  row("stswx", X, 31, 661, "RT,RA0,RB", Op.StoreString),
  row("stwbrx", X, 31, 662, "RT,RA0,RB", Op.Store, REVERSED, 4),
  row("stfsx", X, 31, 663, "FRT,RA0,RB", Op.StoreFp, 0, 4),
  row("stfsux", X, 31, 695, "FRT,RA,RB", Op.StoreFp, UPDATE, 4),
  row("stswi", X, 31, 725, "RT,RA0,NB", Op.StoreString),
  row("stfdx", X, 31, 727, "FRT,RA0,RB", Op.StoreFp, 0, 8),
  row("stfdux", X, 31, 759, "FRT,RA,RB", Op.StoreFp, UPDATE, 8),
  row("lhbrx", X, 31, 790, "RT,RA0,RB", Op.Load, REVERSED, 2),
  row("sraw", X, 31, 792, "RA,RT,RB", Op.Sraw, RC),
  row("srad", X, 31, 794, "RA,RT,RB", Op.Srad, RC),
  row("srawi", X, 31, 824, "RA,RT,SH", Op.Srawi, RC),
  row("slbmfev", X, 31, 851, "RT,RB", Op.Mmu, PRIV),
  row("eieio", X, 31, 854, "", Op.Barrier),
  row("slbmfee", X, 31, 915, "RT,RB", Op.Mmu, PRIV),
  row("sthbrx", X, 31, 918, "RT,RA0,RB", Op.Store, REVERSED, 2),
  row("extsh", X, 31, 922, "RA,RT", Op.Extsh, RC),
  row("extsb", X, 31, 954, "RA,RT", Op.Extsb, RC),
  row("icbi", X, 31, 982, "RA0,RB", Op.CacheHint),
  row("stfiwx", X, 31, 983, "FRT,RA0,RB", Op.StoreFpInt, 0, 4),
  row("extsw", X, 31, 986, "RA,RT", Op.Extsw, RC),
  row("dcbz", X, 31, 1014, "RA0,RB", Op.Dcbz),
  // Loads and stores, D and DS forms.
  row("lwz", D, 32, 0, "RT,DRA", Op.Load, 0, 4),
  row("lwzu", D, 33, 0, "RT,DRA", Op.Load, UPDATE, 4),
  row("lbz", D, 34, 0, "RT,DRA", Op.Load, 0, 1),
  row("lbzu", D, 35, 0, "RT,DRA", Op.Load, UPDATE, 1),
  row("stw", D, 36, 0, "RT,DRA", Op.Store, 0, 4),
  row("stwu", D, 37, 0, "RT,DRA", Op.Store, UPDATE, 4),
  row("stb", D, 38, 0, "RT,DRA", Op.Store, 0, 1),
  row("stbu", D, 39, 0, "RT,DRA", Op.Store, UPDATE, 1),
  row("lhz", D, 40, 0, "RT,DRA", Op.Load, 0, 2),
  row("lhzu", D, 41, 0, "RT,DRA", Op.Load, UPDATE, 2),
  row("lha", D, 42, 0, "RT,DRA", Op.Load, ALGEBRAIC, 2),
  row("lhau", D, 43, 0, "RT,DRA", Op.Load, UPDATE | ALGEBRAIC, 2),
  row("sth", D, 44, 0, "RT,DRA", Op.Store, 0, 2),
  row("sthu", D, 45, 0, "RT,DRA", Op.Store, UPDATE, 2),
  row("lmw", D, 46, 0, "RT,DRA", Op.LoadMultiple, 0, 4),
  row("stmw", D, 47, 0, "RT,DRA", Op.StoreMultiple, 0, 4),
  row("lfs", D, 48, 0, "FRT,DRA", Op.LoadFp, 0, 4),
  row("lfsu", D, 49, 0, "FRT,DRA", Op.LoadFp, UPDATE, 4),
  row("lfd", D, 50, 0, "FRT,DRA", Op.LoadFp, 0, 8),
  row("lfdu", D, 51, 0, "FRT,DRA", Op.LoadFp, UPDATE, 8),
  row("stfs", D, 52, 0, "FRT,DRA", Op.StoreFp, 0, 4),
  row("stfsu", D, 53, 0, "FRT,DRA", Op.StoreFp, UPDATE, 4),
  row("stfd", D, 54, 0, "FRT,DRA", Op.StoreFp, 0, 8),
  row("stfdu", D, 55, 0, "FRT,DRA", Op.StoreFp, UPDATE, 8),
  row("ld", Form.DS, 58, 0, "RT,DSRA", Op.Load, 0, 8),
  row("ldu", Form.DS, 58, 1, "RT,DSRA", Op.Load, UPDATE, 8),
  row("lwa", Form.DS, 58, 2, "RT,DSRA", Op.Load, ALGEBRAIC, 4),
  row("std", Form.DS, 62, 0, "RT,DSRA", Op.Store, 0, 8),
  row("stdu", Form.DS, 62, 1, "RT,DSRA", Op.Store, UPDATE, 8),
  // Opcode 59: single-precision arithmetic.
  row("fdivs", A, 59, 18, "FRT,FRA,FRB", Op.FpArith, RC | SINGLE),
  row("fsubs", A, 59, 20, "FRT,FRA,FRB", Op.FpArith, RC | SINGLE),
  row("fadds", A, 59, 21, "FRT,FRA,FRB", Op.FpArith, RC | SINGLE),
  row("fsqrts", A, 59, 22, "FRT,FRB", Op.FpSqrt, RC | SINGLE),
  row("fres", A, 59, 24, "FRT,FRB", Op.FpRes, RC | SINGLE),
  row("fmuls", A, 59, 25, "FRT,FRA,FRC", Op.FpArith, RC | SINGLE),
  row("fmsubs", A, 59, 28, "FRT,FRA,FRC,FRB", Op.FpMulAdd, RC | SINGLE),
  row("fmadds", A, 59, 29, "FRT,FRA,FRC,FRB", Op.FpMulAdd, RC | SINGLE),
  row("fnmsubs", A, 59, 30, "FRT,FRA,FRC,FRB", Op.FpMulAdd, RC | SINGLE),
  row("fnmadds", A, 59, 31, "FRT,FRA,FRC,FRB", Op.FpMulAdd, RC | SINGLE),
  // Opcode 63: double-precision arithmetic, conversions, FPSCR.
  row("fcmpu", X, 63, 0, "BF,FRA,FRB", Op.FpCmp),
  row("frsp", X, 63, 12, "FRT,FRB", Op.FpRsp, RC),
  row("fctiw", X, 63, 14, "FRT,FRB", Op.FpCvtToInt, RC),
  row("fctiwz", X, 63, 15, "FRT,FRB", Op.FpCvtToInt, RC),
  row("fdiv", A, 63, 18, "FRT,FRA,FRB", Op.FpArith, RC),
  row("fsub", A, 63, 20, "FRT,FRA,FRB", Op.FpArith, RC),
  row("fadd", A, 63, 21, "FRT,FRA,FRB", Op.FpArith, RC),
  row("fsqrt", A, 63, 22, "FRT,FRB", Op.FpSqrt, RC),
  row("fsel", A, 63, 23, "FRT,FRA,FRC,FRB", Op.FpSel, RC),
  row("fmul", A, 63, 25, "FRT,FRA,FRC", Op.FpArith, RC),
  row("frsqrte", A, 63, 26, "FRT,FRB", Op.FpRsqrte, RC),
  row("fmsub", A, 63, 28, "FRT,FRA,FRC,FRB", Op.FpMulAdd, RC),
  row("fmadd", A, 63, 29, "FRT,FRA,FRC,FRB", Op.FpMulAdd, RC),
  row("fnmsub", A, 63, 30, "FRT,FRA,FRC,FRB", Op.FpMulAdd, RC),
  row("fnmadd", A, 63, 31, "FRT,FRA,FRC,FRB", Op.FpMulAdd, RC),
  row("fcmpo", X, 63, 32, "BF,FRA,FRB", Op.FpCmp),
  row("mtfsb1", X, 63, 38, "BTF", Op.Mtfsb1, RC),
  row("fneg", X, 63, 40, "FRT,FRB", Op.FpMove, RC),
  row("mcrfs", X, 63, 64, "BF,BFA", Op.Mcrfs),
  row("mtfsb0", X, 63, 70, "BTF", Op.Mtfsb0, RC),
  row("fmr", X, 63, 72, "FRT,FRB", Op.FpMove, RC),
  row("mtfsfi", X, 63, 134, "BFN,U", Op.Mtfsfi, RC),
  row("fnabs", X, 63, 136, "FRT,FRB", Op.FpMove, RC),
  row("fabs", X, 63, 264, "FRT,FRB", Op.FpMove, RC),
  row("mffs", X, 63, 583, "FRT", Op.Mffs, RC),
  row("mtfsf", Form.XFL, 63, 711, "FLM,FRB", Op.Mtfsf, RC),
  row("fctid", X, 63, 814, "FRT,FRB", Op.FpCvtToInt, RC),
  row("fctidz", X, 63, 815, "FRT,FRB", Op.FpCvtToInt, RC),
  row("fcfid", X, 63, 846, "FRT,FRB", Op.FpCfid, RC),
];

/** Field extractors (ISA bit numbers in the names' comments). */
export const field = {
  /** Primary opcode, bits 0–5. */
  opcd: (w: number): number => w >>> 26,
  /** Bits 6–10: RT, RS, FRT, BO, TO, BT. */
  rt: (w: number): number => (w >>> 21) & 31,
  /** Bits 11–15: RA, FRA, BI, BA. */
  ra: (w: number): number => (w >>> 16) & 31,
  /** Bits 16–20: RB, FRB, BB, SH, NB. */
  rb: (w: number): number => (w >>> 11) & 31,
  /** Bits 21–25: FRC, MB. */
  rc: (w: number): number => (w >>> 6) & 31,
  /** Bits 26–30: ME. */
  me: (w: number): number => (w >>> 1) & 31,
  /** Bits 6–8: BF. */
  bf: (w: number): number => (w >>> 23) & 7,
  /** Bits 11–13: BFA. */
  bfa: (w: number): number => (w >>> 18) & 7,
  /** Bits 16–31 sign-extended: D, SI. */
  si: (w: number): number => (w << 16) >> 16,
  /** Bits 16–29 × 4 sign-extended: DS, BD. */
  ds: (w: number): number => ((w & 0xfffc) << 16) >> 16,
  /** Bits 6–29 × 4 sign-extended: LI. */
  li: (w: number): number => ((w & 0x03fffffc) << 6) >> 6,
  /** Six-bit SH of MD/XS forms. */
  sh6: (w: number): number => ((w >>> 11) & 31) | ((w & 2) << 4),
  /** Six-bit MB/ME of MD/MDS forms. */
  mb6: (w: number): number => ((w >>> 6) & 31) | (w & 0x20),
  /** SPR/TBR number (halves swapped back). */
  spr: (w: number): number => ((w >>> 16) & 31) | (((w >>> 11) & 31) << 5),
  /** CR field mask, bits 12–19. */
  fxm: (w: number): number => (w >>> 12) & 0xff,
  /** FPSCR field mask, bits 7–14. */
  flm: (w: number): number => (w >>> 17) & 0xff,
  /** FPSCR immediate, bits 16–19. */
  u: (w: number): number => (w >>> 12) & 15,
  /** Segment register, bits 12–15. */
  sr: (w: number): number => (w >>> 16) & 15,
  /** sc LEV, bits 20–26. */
  lev: (w: number): number => (w >>> 5) & 0x7f,
} as const;
