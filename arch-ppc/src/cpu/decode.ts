/**
 * The decoder: an instruction word to its {@link TABLE} row, through lookup arrays built
 * once from the table (primary opcode, then the extended-opcode bits of that opcode's
 * forms, then a check of every fixed bit).
 *
 * @module
 */
import {
  Op as Op_,
  Opd as Opd_,
  RowFlag as RowFlag_,
  TABLE as TABLE_,
  type InsnRow,
} from "./table.js";

// Imported bindings read through module-namespace getters when the sources run through a
// CommonJS transform (tsx, vitest); the instruction path uses these module-local copies.
const Op = Op_;
const Opd = Opd_;
const RowFlag = RowFlag_;
const TABLE = TABLE_;
type Op = Op_;
type Opd = Opd_;

/** Per primary opcode: the extended-opcode bits its rows use (a contiguous run) and where they start. */
const keyMask = new Int32Array(64);
const keyShift = new Int8Array(64);
/** Per primary opcode: the offset of its candidate slots in {@link FIRST}/{@link SECOND}. */
const base = new Int32Array(64);

const { FIRST, SECOND } = (() => {
  for (const r of TABLE) {
    const p = r.match >>> 26;
    keyMask[p]! |= r.match & 0x7ff & r.mask & xoOf(r.form);
  }
  let total = 0;
  for (let p = 0; p < 64; p++) {
    const m = keyMask[p]!;
    keyShift[p] = m === 0 ? 0 : 31 - Math.clz32(m & -m);
    // Make the run contiguous from its lowest to its highest bit.
    if (m !== 0) keyMask[p] = ((1 << (32 - Math.clz32(m))) - 1) & ~((m & -m) - 1);
    base[p] = total;
    total += (keyMask[p]! >>> keyShift[p]!) + 1;
  }
  const first = new Int16Array(total).fill(-1);
  const second = new Int16Array(total).fill(-1);
  TABLE.forEach((r, i) => {
    const p = r.match >>> 26;
    const km = keyMask[p]!;
    const sh = keyShift[p]!;
    for (let k = 0; k <= km >>> sh; k++) {
      const bits = k << sh;
      if ((bits & r.mask & km) !== (r.match & r.mask & km)) continue;
      const slot = base[p]! + k;
      if (first[slot] === -1) first[slot] = i;
      else if (second[slot] === -1) second[slot] = i;
      else throw new Error(`ppc decoder: more than two rows share a key (${r.name})`);
    }
  });
  return { FIRST: first, SECOND: second };
})();

function xoOf(form: number): number {
  // Every form's extended opcode lies in bits 21–31 (word bits 0–10).
  return form === 0 || form === 1 || form === 2 || form === 3 ? 0 : 0x7ff;
}

/**
 * The {@link TABLE} index of the row that `word` (the instruction word as the big-endian
 * load gives it) encodes, or −1 when no row does: an unassigned opcode, an instruction
 * outside the table's scope, or a reserved field that is not zero.
 */
export function decodeWord(word: number): number {
  const p = word >>> 26;
  const slot = base[p]! + ((word & keyMask[p]!) >>> keyShift[p]!);
  let i = FIRST[slot]!;
  if (i >= 0) {
    const r = TABLE[i]!;
    if (((word ^ r.match) & r.mask) === 0) return fieldsValid(r, word) ? i : -1;
    i = SECOND[slot]!;
    if (i >= 0) {
      const s = TABLE[i]!;
      if (((word ^ s.match) & s.mask) === 0) return fieldsValid(s, word) ? i : -1;
    }
  }
  return -1;
}

/**
 * Field values the ISA reserves although the field is an operand: BO encodings outside
 * the ISA 2.01 list (the "z" bits of 1z1zz set, "at" = 01; BO 17 and 19 are only
 * accepted as the old `bdnz`/`bdz` y-bit spellings of `bc`, with BI = 0), a `sync` L of 3, and an
 * `mtocrf`/`mfocrf` field mask that does not name exactly one CR field; update forms with
 * RA = 0 (or RA = RT for integer loads), `lmw` loading RA, `lswx` with RT = RA or RB, `lswi` with RT = RA.
 */
function fieldsValid(r: InsnRow, w: number): boolean {
  switch (r.op) {
    case Op.Bc:
    case Op.Bclr:
    case Op.Bcctr: {
      const bo = (w >>> 21) & 31;
      if (bo === 21 || bo === 22 || bo === 23 || bo >= 28) return false;
      // bclr/bcctr take no y-bit spellings: an odd BO must be a "+" hint (at = 11).
      if (r.op !== Op.Bc && bo & 1 && bo !== 7 && bo !== 15 && bo !== 25 && bo !== 27) return false;
      return !((bo === 17 || bo === 19) && ((w >>> 16) & 31) !== 0);
    }
    case Op.Barrier:
      return (w & 0x00600000) !== 0x00600000;
    case Op.Mtocrf:
    case Op.Mfocrf: {
      const fxm = (w >>> 12) & 0xff;
      return fxm !== 0 && (fxm & (fxm - 1)) === 0;
    }
    case Op.Load:
    case Op.LoadFp:
    case Op.Store:
    case Op.StoreFp: {
      if (!(r.flags & RowFlag.UPDATE)) return true;
      const ra = (w >>> 16) & 31;
      return ra !== 0 && (r.op !== Op.Load || ra !== ((w >>> 21) & 31));
    }
    case Op.LoadMultiple:
      return ((w >>> 16) & 31) < ((w >>> 21) & 31);
    case Op.LoadString: {
      const rt = (w >>> 21) & 31;
      const ra = (w >>> 16) & 31;
      if (r.opds.length === 3 && r.opds[2] === Opd.RB) return rt !== ra && rt !== ((w >>> 11) & 31);
      // lswi: objdump (like the ISA's simplest case) rejects RA = RT only.
      return ra !== rt;
    }
    default:
      return true;
  }
}
