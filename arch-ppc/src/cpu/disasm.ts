/**
 * The disassembler: an instruction word as GNU objdump prints it for a 970-class CPU
 * (`powerpc64-linux-gnu-objdump -M power4`), extended mnemonics included where objdump
 * uses them (`li`, `mr`, `nop`, `blr`, `beq- cr7,…`, `cmpwi`, `rotlwi`, `mflr`, `twgti`,
 * ...). Operands come from the row's operand kinds; the choices between an extended
 * mnemonic and the base one are objdump's, checked against the committed corpus.
 *
 * @module
 */
import { decodeWord } from "./decode.js";
import { Form, Op, Opd, RowFlag, TABLE, field, type InsnRow } from "./table.js";

const CR_BITS = ["lt", "gt", "eq", "so"];
const COND_TRUE = ["lt", "gt", "eq", "so"];
const COND_FALSE = ["ge", "le", "ne", "ns"];
/** Trap conditions objdump names, by TO. */
const TRAP: Record<number, string> = {
  1: "lgt",
  2: "llt",
  4: "eq",
  5: "lge",
  6: "lle",
  8: "gt",
  12: "ge",
  16: "lt",
  20: "le",
  24: "ne",
  31: "u",
};
/** SPRs objdump names in mfspr/mtspr (`mf<name>`/`mt<name>`); mfspr-only and mtspr-only ones separately. */
const SPR_NAMES: Record<number, string> = {
  1: "xer",
  8: "lr",
  9: "ctr",
  18: "dsisr",
  19: "dar",
  22: "dec",
  25: "sdr1",
  26: "srr0",
  27: "srr1",
  280: "asr",
  282: "ear",
};
const MF_ONLY: Record<number, string> = {
  4: "rtcu",
  5: "rtcl",
  136: "ctrl",
  268: "tb",
  269: "tbu",
  287: "pvr",
};
const MT_ONLY: Record<number, string> = {
  20: "rtcu",
  21: "rtcl",
  152: "ctrl",
  284: "tbl",
  285: "tbu",
};

const hex = (v: bigint): string => "0x" + v.toString(16);
const gpr = (n: number): string => `r${n}`;
const crField = (n: number): string => `cr${n}`;
const crBit = (n: number): string => (n < 4 ? CR_BITS[n]! : `4*cr${n >> 2}+${CR_BITS[n & 3]!}`);

/** The branch target: relative to `address`, or absolute (AA); objdump prints absolute ones as 32-bit values. */
function target(disp: number, w: number, address: bigint): string {
  if (w & 2) return hex(BigInt(disp >>> 0));
  return hex(BigInt.asUintN(64, address + BigInt(disp)));
}

/** The `+`/`-` hint of a BO with the "at" bits (ISA 2.01: 11 likely taken, 10 likely not). */
function hint(bo: number): string {
  if ((bo & 0x14) === 0x04 || (bo & 0x14) === 0x10) {
    const at = (bo & 0x10) === 0 ? bo & 3 : ((bo >> 2) & 2) | (bo & 1);
    return at === 3 ? "+" : at === 2 ? "-" : "";
  }
  return "";
}

function branch(row: InsnRow, w: number, address: bigint): string {
  const bo = field.rt(w);
  const bi = field.ra(w);
  const lk = w & 1 ? "l" : "";
  const aa = row.op === Op.Bc && w & 2 ? "a" : "";
  const kind = row.op === Op.Bc ? "" : row.op === Op.Bclr ? "lr" : "ctr";
  const tgt = row.op === Op.Bc ? target(field.ds(w), w, address) : "";
  const bh = row.op === Op.Bc ? 0 : (w >>> 11) & 3;
  const tail = (ops: string[]): string => {
    if (tgt) ops.push(tgt);
    if (bh) ops.push(String(bh));
    return ops.length ? " " + ops.join(",") : "";
  };
  const crf = bi >> 2 || bh ? [crField(bi >> 2)] : [];
  if ((bo & 0x14) === 0x04) {
    // Branch on a CR bit, CTR untouched.
    const name = ((bo & 8 ? COND_TRUE : COND_FALSE)[bi & 3] as string) + kind;
    return `b${name}${lk}${aa}${hint(bo)}` + tail(crf);
  }
  if ((bo & 0x14) === 0 && kind !== "ctr") {
    // Decrement CTR and test a CR bit.
    const name = `bd${bo & 2 ? "z" : "nz"}${bo & 8 ? "t" : "f"}${kind}`;
    return `${name}${lk}${aa}` + tail([crBit(bi)]);
  }
  if ((bo & 0x14) === 0x10 && kind !== "ctr" && bi === 0)
    return `bd${bo & 2 ? "z" : "nz"}${kind}${lk}${aa}${hint(bo)}` + tail([]);
  if (bo === 20 && bi === 0 && kind !== "") return `b${kind}${lk}` + tail([]);
  const base = row.op === Op.Bc ? "bc" : row.op === Op.Bclr ? "bclr" : "bcctr";
  const h = (bo & 0x14) === 0x10 ? hint(bo) : "";
  return `${base}${lk}${aa}${h}` + tail([String(bo), crBit(bi)]);
}

function operand(k: Opd, w: number, address: bigint): string {
  switch (k) {
    case Opd.RT:
      return gpr(field.rt(w));
    case Opd.RA:
      return gpr(field.ra(w));
    case Opd.RA0:
      return field.ra(w) === 0 ? "0" : gpr(field.ra(w));
    case Opd.RB:
      return gpr(field.rb(w));
    case Opd.FRT:
      return `f${field.rt(w)}`;
    case Opd.FRA:
      return `f${field.ra(w)}`;
    case Opd.FRB:
      return `f${field.rb(w)}`;
    case Opd.FRC:
      return `f${field.rc(w)}`;
    case Opd.BF:
      return crField(field.bf(w));
    case Opd.BFA:
      return crField(field.bfa(w));
    case Opd.BT:
      return crBit(field.rt(w));
    case Opd.BA:
      return crBit(field.ra(w));
    case Opd.BB:
      return crBit(field.rb(w));
    case Opd.BO:
    case Opd.TO:
    case Opd.BTF:
      return String(field.rt(w));
    case Opd.BI:
      return crBit(field.ra(w));
    case Opd.BD:
      return target(field.ds(w), w, address);
    case Opd.LI:
      return target(field.li(w), w, address);
    case Opd.SI:
      return String(field.si(w));
    case Opd.UI:
      return String(w & 0xffff);
    case Opd.DRA:
      return `${field.si(w)}(${field.ra(w) === 0 ? "0" : gpr(field.ra(w))})`;
    case Opd.DSRA:
      return `${field.ds(w)}(${field.ra(w) === 0 ? "0" : gpr(field.ra(w))})`;
    case Opd.L10:
    case Opd.L910:
      return String((w >>> 21) & 1);
    case Opd.TH:
      return String(field.rt(w));
    case Opd.BH:
      return String((w >>> 11) & 3);
    case Opd.EH:
      return String(w & 1);
    case Opd.BFN:
      return String(field.bf(w));
    case Opd.SH:
      return String(field.rb(w));
    case Opd.NB:
      return String(field.rb(w) || 32);
    case Opd.MB:
      return String(field.rc(w));
    case Opd.ME:
      return String(field.me(w));
    case Opd.SH6:
      return String(field.sh6(w));
    case Opd.MB6:
      return String(field.mb6(w));
    case Opd.SPR:
      return String(field.spr(w));
    case Opd.FXM:
      return String(field.fxm(w));
    case Opd.FLM:
      return String(field.flm(w));
    case Opd.U:
      return String(field.u(w));
    case Opd.SR:
      return String(field.sr(w));
    case Opd.LEV:
      return String(field.lev(w));
    case Opd.L15:
      return String((w >>> 16) & 1);
    case Opd.LS:
      return String((w >>> 21) & 3);
  }
}

/** The mnemonic of `row` with the variant bits of `w` (`o`, `.`, `l`, `a`). */
function mnemonic(row: InsnRow, w: number): string {
  let m = row.name;
  if (row.flags & RowFlag.OE && w & 0x400) m += "o";
  if (row.flags & RowFlag.RC && w & 1) m += ".";
  if (row.flags & RowFlag.LK && w & 1) m += "l";
  if (row.flags & RowFlag.AA && w & 2) m += "a";
  return m;
}

/** The extended mnemonic objdump prints for `w`, or undefined to print the row as it is. */
function extended(row: InsnRow, w: number, address: bigint): string | undefined {
  const rt = field.rt(w);
  const ra = field.ra(w);
  const rb = field.rb(w);
  const dot = w & 1 ? "." : "";
  switch (row.name) {
    case "addi":
      return ra === 0 ? `li ${gpr(rt)},${field.si(w)}` : undefined;
    case "addis":
      return ra === 0 ? `lis ${gpr(rt)},${field.si(w)}` : undefined;
    case "ori":
      return w === 0x60000000 ? "nop" : undefined;
    case "xori":
      return w === 0x68000000 ? "xnop" : undefined;
    case "or":
      return rt === rb ? `mr${dot} ${gpr(ra)},${gpr(rt)}` : undefined;
    case "nor":
      return rt === rb ? `not${dot} ${gpr(ra)},${gpr(rt)}` : undefined;
    case "cmp":
    case "cmpl":
    case "cmpi":
    case "cmpli": {
      const l = (w >>> 21) & 1;
      const name = `cmp${row.name.startsWith("cmpl") ? "l" : ""}${l ? "d" : "w"}${row.name.endsWith("i") ? "i" : ""}`;
      const bf = field.bf(w);
      const last =
        row.name === "cmpi"
          ? String(field.si(w))
          : row.name === "cmpli"
            ? String(w & 0xffff)
            : gpr(rb);
      return `${name} ${bf ? crField(bf) + "," : ""}${gpr(ra)},${last}`;
    }
    case "tw":
    case "td":
    case "twi":
    case "tdi": {
      if (row.name === "tw" && w === 0x7fe00008) return "trap";
      const c = TRAP[rt];
      if (c === undefined) return undefined;
      const imm = row.name.endsWith("i");
      return `${row.name.slice(0, 2)}${c}${imm ? "i" : ""} ${gpr(ra)},${imm ? field.si(w) : gpr(rb)}`;
    }
    case "rlwinm": {
      const sh = rb;
      const mb = field.rc(w);
      const me = field.me(w);
      if (mb === 0 && me === 31) return `rotlwi${dot} ${gpr(ra)},${gpr(rt)},${sh}`;
      if (sh === 0 && me === 31) return `clrlwi${dot} ${gpr(ra)},${gpr(rt)},${mb}`;
      if (sh === 0 && mb === 0) return `clrrwi${dot} ${gpr(ra)},${gpr(rt)},${31 - me}`;
      return undefined;
    }
    case "rlwnm":
      return field.rc(w) === 0 && field.me(w) === 31
        ? `rotlw${dot} ${gpr(ra)},${gpr(rt)},${gpr(rb)}`
        : undefined;
    case "rldicl": {
      const sh = field.sh6(w);
      const mb = field.mb6(w);
      if (mb === 0) return `rotldi${dot} ${gpr(ra)},${gpr(rt)},${sh}`;
      if (sh + mb === 64) return `srdi${dot} ${gpr(ra)},${gpr(rt)},${mb}`;
      if (sh === 0) return `clrldi${dot} ${gpr(ra)},${gpr(rt)},${mb}`;
      return undefined;
    }
    case "rldicr": {
      const sh = field.sh6(w);
      const me = field.mb6(w);
      if (me === 63 - sh) return `sldi${dot} ${gpr(ra)},${gpr(rt)},${sh}`;
      if (sh === 0) return `clrrdi${dot} ${gpr(ra)},${gpr(rt)},${63 - me}`;
      return undefined;
    }
    case "rldcl":
      return field.mb6(w) === 0 ? `rotld${dot} ${gpr(ra)},${gpr(rt)},${gpr(rb)}` : undefined;
    case "crnor":
      return ra === rb ? `crnot ${crBit(rt)},${crBit(ra)}` : undefined;
    case "cror":
      return ra === rb ? `crmove ${crBit(rt)},${crBit(ra)}` : undefined;
    case "crxor":
      return rt === ra && ra === rb ? `crclr ${crBit(rt)}` : undefined;
    case "creqv":
      return rt === ra && ra === rb ? `crset ${crBit(rt)}` : undefined;
    case "mtcrf":
      return field.fxm(w) === 0xff ? `mtcr ${gpr(rt)}` : undefined;
    case "mfspr":
    case "mtspr": {
      const spr = field.spr(w);
      const mf = row.name === "mfspr";
      const name = SPR_NAMES[spr] ?? (mf ? MF_ONLY : MT_ONLY)[spr];
      if (name !== undefined) return `${mf ? "mf" : "mt"}${name} ${gpr(rt)}`;
      let n = -1;
      let group = "";
      if (spr >= 272 && spr <= 275) [group, n] = ["sprg", spr - 272];
      else if (spr >= 528 && spr <= 535)
        [group, n] = [spr & 1 ? "ibatl" : "ibatu", (spr - 528) >> 1];
      else if (spr >= 536 && spr <= 543)
        [group, n] = [spr & 1 ? "dbatl" : "dbatu", (spr - 536) >> 1];
      if (n < 0) return undefined;
      return mf ? `mf${group} ${gpr(rt)},${n}` : `mt${group} ${n},${gpr(rt)}`;
    }
    case "sync":
      return ["hwsync", "lwsync", "ptesync"][(w >>> 21) & 3];
    case "tlbie":
    case "tlbiel":
      return `${row.name} ${gpr(rb)}${(w >>> 21) & 1 ? ",1" : ""}`;
    case "mtmsrd":
      return `mtmsrd ${gpr(rt)}${(w >>> 16) & 1 ? ",1" : ""}`;
    case "sc":
      return field.lev(w) ? `sc ${field.lev(w)}` : "sc";
    case "dcbt":
    case "dcbtst": {
      const th = rt;
      const name = th < 8 ? `${row.name}ct` : th < 16 ? `${row.name}ds` : row.name;
      const keep = th !== 0 && th !== 8;
      return `${name} ${ra === 0 ? "0" : gpr(ra)},${gpr(rb)}${keep ? "," + th : ""}`;
    }
    default:
      void address;
      return undefined;
  }
}

/**
 * The text of the instruction `word` at `address` as objdump prints it (mnemonic, one
 * space, operands separated by commas), or `.long 0x…` for a word the decoder rejects.
 */
export function disassemble(word: number, address: bigint): string {
  const i = decodeWord(word);
  if (i < 0) return `.long 0x${(word >>> 0).toString(16)}`;
  const row = TABLE[i]!;
  if (row.form === Form.B || row.op === Op.Bclr || row.op === Op.Bcctr)
    return branch(row, word, address);
  const ext = extended(row, word, address);
  if (ext !== undefined) return ext;
  const ops = row.opds
    .filter(
      (k) => !((k === Opd.LEV && field.lev(word) === 0) || (k === Opd.EH && (word & 1) === 0)),
    )
    .map((k) => operand(k, word, address));
  return mnemonic(row, word) + (ops.length ? " " + ops.join(",") : "");
}
