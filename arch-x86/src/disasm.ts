/**
 * The x86 disassembler: a decoded-instruction record → text in AT&T syntax as GNU objdump
 * prints it (`mov    %rax,0x8(%rbx)`), including objdump's habits: size suffixes only
 * where no register operand shows the size, unused prefixes printed by name (`data16`,
 * `rex.W`, `repz`, `cs`, `addr32`), `bnd`/`notrack`/`,pt` spellings, `%riz` for a SIB
 * byte without index, and relative branch targets as absolute addresses.
 *
 * For traces and error messages, not the hot path: it allocates strings freely.
 *
 * @module
 */
import { REG64_NAMES } from "./cpu-api.js";
import { decodeInsn } from "./decode.js";
import { BASE_RIP, D, INSN_FIELDS, Pfx, PfxCode, REG_AH } from "./insn.js";
import { Op } from "./ops.js";
import { CC_NAMES, Opd, RowFlag, TABLE } from "./table.js";

// prettier-ignore
const R64 = REG64_NAMES;
// prettier-ignore
const R32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"];
// prettier-ignore
const R16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"];
// prettier-ignore
const R8 = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"];
const R8H = ["ah", "ch", "dh", "bh"];
const SREG = ["es", "cs", "ss", "ds", "fs", "gs", "?", "?"];
const SFX = ["", "b", "w", "", "l", "", "", "", "q"];
const M64 = (1n << 64n) - 1n;

const hex = (v: bigint | number): string => "0x" + v.toString(16);
const signedHex = (v: number): string =>
  v < 0 ? "-0x" + (-v).toString(16) : "0x" + v.toString(16);

/** Register name for number `r` at `size` bytes (byte registers: record numbering, {@link REG_AH}). */
function regName(r: number, size: number): string {
  switch (size) {
    case 1:
      return r >= REG_AH ? R8H[r - REG_AH] : R8[r];
    case 2:
      return R16[r];
    case 4:
      return R32[r];
    default:
      return R64[r];
  }
}

/** Sizes (bytes) of kinds that print a general register; 0 for other kinds. */
function regSize(k: Opd, osz: number, long: boolean): number {
  switch (k) {
    case Opd.Eb:
    case Opd.Gb:
    case Opd.Zb:
    case Opd.AL:
      return 1;
    case Opd.Ew:
    case Opd.Gw:
      return 2;
    case Opd.Ed:
    case Opd.Gd:
      return 4;
    case Opd.Ev:
    case Opd.Gv:
    case Opd.Zv:
    case Opd.Rv:
    case Opd.rAX:
    case Opd.eAX:
      return osz;
    case Opd.Ey:
    case Opd.Gy:
      return osz === 8 ? 8 : 4;
    case Opd.Ry:
      return long ? 8 : 4;
    default:
      return 0;
  }
}

/** Kinds whose printing depends on the operand size: 66 (and REX.W) count as used. */
// prettier-ignore
const SIZE_DEP = new Set([
  Opd.Ev, Opd.Gv, Opd.Zv, Opd.Rv, Opd.rAX, Opd.eAX, Opd.Iz, Opd.Ibs, Opd.Iv, Opd.Ov, Opd.Xv,
  Opd.Yv, Opd.Jz,
]);
/** Kinds that are 32 or 64 bits: REX.W counts as used, 66 does not. */
/** The predicates of cmpps/cmppd/cmpss/cmpsd as objdump names them (imm8 0–7). */
const CMP_PREDICATES = ["eq", "lt", "le", "unord", "neq", "nlt", "nle", "ord"];
const SIZE_DEP_W = new Set([Opd.Ey, Opd.Gy]);

/**
 * Formats the decoded record at `rec[base ..]` in objdump's AT&T syntax. `address` is the
 * instruction's own address (for branch targets and RIP-relative comments).
 */
export function disassemble(rec: Int32Array, base: number, address: bigint): string {
  const row = TABLE[rec[base + D.ROW]];
  const osz = rec[base + D.OSZ];
  const asz = rec[base + D.ASZ];
  const pfx = rec[base + D.PFX];
  const len = rec[base + D.LEN];
  const rex = rec[base + D.REX];
  const mrm = rec[base + D.MODRM];
  const mode =
    asz === 8 ? 64 : asz === 4 ? (pfx & Pfx.ADSIZE ? 64 : 32) : pfx & Pfx.ADSIZE ? 32 : 16;
  const long = mode === 64;
  const flags = row.flags;
  const rexW = (pfx & Pfx.REXW) !== 0;
  const tmpl = row.mnemonic;

  // Which prefixes the instruction uses (objdump prints the others by name).
  const isMem = rec[base + D.RM_MEM] !== 0;
  const sizeDep =
    !row.byteSized &&
    (row.operands.some((k) => SIZE_DEP.has(k)) ||
      /%[SWAE]|\|/.test(tmpl) ||
      (!long && tmpl.includes("%G")));
  const sizeDepW = sizeDep || row.operands.some((k) => SIZE_DEP_W.has(k));
  // objdump quirk: rdrand/rdseed (Rv) take 66 as used even when REX.W overrides it.
  // objdump quirk: an MMX register in r/m of an f3/f2 row (movq2dq) reads as an XMM
  // register, and the 66 as used, when a 66 prefix is present too.
  const mmAsXmm =
    (pfx & Pfx.OPSIZE) !== 0 &&
    (row.prefix === 0xf3 || row.prefix === 0xf2) &&
    row.operands.includes(Opd.Nq);
  const used66 =
    mmAsXmm ||
    tmpl.includes("%Z") ||
    row.prefix === 0x66 ||
    row.operands.includes(Opd.Rv) ||
    (row.op === Op.MOVSXD && (!rexW || !isMem)) ||
    (sizeDep && (!rexW || (flags & RowFlag.FAR) !== 0) && (flags & RowFlag.F64) === 0);
  let usedBits = 0;
  if (
    (sizeDepW && (flags & (RowFlag.D64 | RowFlag.F64 | RowFlag.Z32 | RowFlag.FAR)) === 0) ||
    /%[Q6KYR]|\|/.test(tmpl)
  )
    usedBits |= 8;
  let rex0 = false;
  let used67 = /%[LJ]/.test(tmpl);
  let memOperand = false;
  let segUsed = false;

  // Legacy prefixes in byte order. objdump's segment model: in 64-bit mode only fs/gs
  // become the active segment (in other modes the last override does); when an operand
  // prints the active segment, the *last* segment prefix byte counts as used.
  const seq: number[] = [];
  for (let v = rec[base + D.PFX_SEQ]; v !== 0; v >>>= 4) seq.push(PfxCode[v & 15]);
  const SEG_BYTES = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];
  let active = -1;
  for (const b of seq) {
    const sg = SEG_BYTES.indexOf(b);
    if (sg >= 0 && (!long || sg >= 4)) active = sg;
  }
  const notrack =
    (flags & RowFlag.NOTRACK) !== 0 && seq.includes(0x3e) && !(long && seq.includes(0x66));
  if (notrack) active = -1;

  const memString = (): string => {
    memOperand = true;
    used67 = true;
    const mod = (mrm >> 6) & 3;
    const sib = (mrm >> 8) & 0xff;
    const haveSib = (mrm & 0x20000) !== 0;
    const b = rec[base + D.BASE];
    const idx = rec[base + D.INDEX];
    const scale = rec[base + D.SCALE];
    let disp = rec[base + D.DISP];
    const names = asz === 8 ? R64 : asz === 4 ? R32 : R16;
    let s = segPrefix();
    if (haveSib) usedBits |= 2;
    if (asz === 2) {
      const rm = mrm & 7;
      if (mod !== 0 || rm === 6) s += signedHex(disp);
      if (b >= 0) s += `(%${names[b]}${idx >= 0 ? `,%${names[idx]}` : ""})`;
      return s;
    }
    const riprel = b === BASE_RIP;
    const haveBase = b >= 0 && !riprel;
    const haveIndex = idx >= 0;
    let needIndex = false;
    if (haveSib && !haveBase && !haveIndex) {
      if (!long) needIndex = true;
      else if (asz === 4) {
        needIndex = true;
        disp = disp >>> 0;
      }
    }
    const haveDisp = haveBase || needIndex || (haveSib && (haveIndex || scale !== 0));
    if (mod !== 0 || (mrm & 7) === 5 || (haveSib && (sib & 7) === 5 && mod === 0)) {
      if (haveDisp || riprel) s += signedHex(disp);
      else s += hex(long && asz === 8 ? BigInt(disp) & M64 : BigInt(disp >>> 0));
    }
    if (riprel) s += asz === 8 ? "(%rip)" : "(%eip)";
    if (haveDisp) {
      s += "(";
      if (haveBase) s += "%" + names[b];
      if (haveSib && (scale !== 0 || needIndex || haveIndex || (haveBase && (sib & 7) !== 4))) {
        s += ",%" + (haveIndex ? names[idx] : asz === 8 ? "riz" : "eiz") + "," + (1 << scale);
      }
      s += ")";
    }
    return s;
  };
  const segPrefix = (): string => {
    if (active < 0) return "";
    segUsed = true;
    return `%${SREG[active]}:`;
  };
  const reg = (r: number, size: number): string => {
    if (size === 1 && rex !== 0 && r < 16 && (r & 4) !== 0) rex0 = true;
    return "%" + regName(r, size);
  };
  const imm = (): bigint =>
    (BigInt(rec[base + D.IMM_HI]) << 32n) | BigInt(rec[base + D.IMM_LO] >>> 0);
  const masked = (v: bigint, size: number): bigint => v & ((1n << BigInt(8 * size)) - 1n);

  const ops: string[] = [];
  let sizedReg = false;
  let nimm = 0;
  for (const k of row.operands) {
    let s = "";
    const rs = regSize(k, osz, long);
    switch (k) {
      case Opd.Eb:
      case Opd.Ew:
      case Opd.Ed:
      case Opd.Ev:
      case Opd.Ey:
      case Opd.Rv:
      case Opd.Ry:
      case Opd.M:
        usedBits |= 1;
        if (rec[base + D.RM_MEM] !== 0) s = memString();
        else {
          s = reg(rec[base + D.BASE], rs);
          sizedReg = true;
        }
        if (flags & RowFlag.IND) s = "*" + s;
        break;
      case Opd.Gb:
      case Opd.Gw:
      case Opd.Gd:
      case Opd.Gv:
      case Opd.Gy:
        usedBits |= 4;
        s = reg(rec[base + D.REG], rs);
        sizedReg = true;
        break;
      case Opd.Zb:
      case Opd.Zv:
        usedBits |= 1;
        s = reg(rec[base + D.REG], rs);
        sizedReg = true;
        break;
      case Opd.AL:
      case Opd.rAX:
      case Opd.eAX:
        s = "%" + regName(0, rs);
        sizedReg = true;
        break;
      case Opd.CL:
        s = "%cl";
        break;
      case Opd.DX:
        s = "(%dx)";
        break;
      case Opd.ONE:
        continue;
      case Opd.Sw:
        s = "%" + SREG[rec[base + D.REG]];
        break;
      case Opd.Cy:
        usedBits |= 4;
        s = "%cr" + rec[base + D.REG];
        break;
      case Opd.Dy:
        usedBits |= 4;
        s = "%db" + rec[base + D.REG];
        break;
      case Opd.ES:
      case Opd.CS:
      case Opd.SS:
      case Opd.DS:
      case Opd.FS:
      case Opd.GS:
        s = "%" + SREG[k - Opd.ES];
        break;
      case Opd.Ib:
        s = "$" + hex(rec[base + (nimm++ === 0 ? D.IMM_LO : D.IMM2)] & 0xff);
        break;
      case Opd.Iw:
        nimm++;
        s = "$" + hex(rec[base + D.IMM_LO] & 0xffff);
        break;
      case Opd.Ibs:
      case Opd.Iz:
      case Opd.Iv:
        s = "$" + hex(masked(imm(), osz));
        break;
      case Opd.Jb:
      case Opd.Jz: {
        let t = (address + BigInt(len) + BigInt(rec[base + D.IMM_LO])) & M64;
        if (k === Opd.Jz && osz === 2) t &= 0xffffn;
        else if (!long) t &= 0xffffffffn;
        s = hex(t);
        break;
      }
      case Opd.Ob:
      case Opd.Ov:
        memOperand = true;
        s = segPrefix() + hex(masked(imm(), asz));
        break;
      case Opd.Xb:
      case Opd.Xv:
        used67 = true;
        s = `%${SREG[active < 0 ? 3 : active]}:(%${asz === 8 ? "rsi" : asz === 4 ? "esi" : "si"})`;
        segUsed = true;
        break;
      case Opd.Yb:
      case Opd.Yv:
        used67 = true;
        s = `%es:(%${asz === 8 ? "rdi" : asz === 4 ? "edi" : "di"})`;
        break;
      case Opd.XLAT:
        used67 = true;
        s = `%${SREG[active < 0 ? 3 : active]}:(%${asz === 8 ? "rbx" : asz === 4 ? "ebx" : "bx"})`;
        segUsed = true;
        break;
      case Opd.Ap:
        s = `$${hex(rec[base + D.IMM2] & 0xffff)},$${hex(rec[base + D.IMM_LO] >>> 0)}`;
        break;
      case Opd.Vx:
        usedBits |= 4;
        s = "%xmm" + rec[base + D.REG];
        break;
      case Opd.Pq:
        // REX.R does not extend an MMX register (objdump prints it as unused).
        s = "%mm" + (rec[base + D.REG] & 7);
        break;
      case Opd.Wx:
      case Opd.Wq:
      case Opd.Wd:
      case Opd.Ww:
      case Opd.Ux:
        usedBits |= 1;
        s = isMem ? memString() : "%xmm" + rec[base + D.BASE];
        break;
      case Opd.Qq:
      case Opd.Qd:
      case Opd.Nq:
        if (isMem) {
          usedBits |= 1;
          s = memString();
        } else if (mmAsXmm && k === Opd.Nq) {
          usedBits |= 1;
          s = "%xmm" + rec[base + D.BASE];
        } else s = "%mm" + (rec[base + D.BASE] & 7);
        break;
      case Opd.RdMw:
      case Opd.RdMb:
        usedBits |= 1;
        s = isMem ? memString() : reg(rec[base + D.BASE], 4);
        break;
      case Opd.XMM0:
        s = "%xmm0";
        break;
      case Opd.ST:
        s = "%st";
        break;
      case Opd.STi:
        s = `%st(${rec[base + D.BASE] & 7})`;
        break;
      default:
        s = "?";
    }
    ops.push(s);
  }

  // Mnemonic.
  const ambiguous = !sizedReg;
  let mn: string;
  if (tmpl.includes("|")) mn = tmpl.split("|")[[0, 0, 1, 0, 2, 0, 0, 0, 3][osz]];
  else {
    mn = tmpl.replace(/%[SWAQ6KEGCLJVMPYRZ]/g, (m) => {
      switch (m) {
        case "%Y":
          return isMem && long ? (rexW ? "q" : "l") : "";
        case "%R":
          return rexW ? "q" : "";
        case "%P": {
          // cmpps and kin: objdump names predicates 0–7 and then leaves the immediate out.
          const p = rec[base + D.IMM_LO] & 0xff;
          if (p >= 8) return "";
          ops.pop();
          return CMP_PREDICATES[p];
        }
        case "%Z":
          return (pfx & Pfx.OPSIZE) !== 0 ? "s" : "";
        case "%K":
          return rexW ? "16b" : "8b";
        case "%E":
          return isMem ? (row.operands.includes(Opd.Eb) ? "b" : SFX[osz]) : "";
        case "%S":
          return ambiguous && memOperand ? SFX[osz] : "";
        case "%W":
          return ambiguous && osz === 2 ? "w" : "";
        case "%A":
          return SFX[osz];
        case "%Q":
          return long ? (rexW ? "q" : "l") : "";
        case "%G":
          return long ? "" : SFX[osz];
        case "%6":
          return rexW ? "64" : "";
        case "%C":
          return CC_NAMES[rec[base + D.CC]];
        case "%L":
          return (long && asz === 4) || (!long && asz !== (mode === 32 ? 4 : 2))
            ? asz === 4
              ? "l"
              : "w"
            : "";
        case "%J":
          return asz === 8 ? "jrcxz" : asz === 4 ? "jecxz" : "jcxz";
        case "%V":
          return osz === 8 ? "movabs" : "mov";
        default:
          return asz === 8 ? "movabs" : "mov";
      }
    });
  }

  // Prefixes: print those the instruction did not use, in byte order.
  const lastOf = (pred: (b: number) => boolean): number => {
    for (let i = seq.length - 1; i >= 0; i--) if (pred(seq[i])) return i;
    return -1;
  };
  const lastSeg = lastOf((b) => SEG_BYTES.includes(b));
  const last66 = lastOf((b) => b === 0x66);
  const last67 = lastOf((b) => b === 0x67);
  const lastRep = lastOf((b) => b === 0xf2 || b === 0xf3);
  const lastF2 = lastOf((b) => b === 0xf2);
  const lastF3 = lastOf((b) => b === 0xf3);
  let hint = "";
  if (flags & RowFlag.HINT && seq.includes(0x2e) !== seq.includes(0x3e)) {
    hint = seq.includes(0x2e) ? ",pn" : ",pt";
    segUsed = true;
  }
  // Hardware lock elision: f2/f3 spell xacquire/xrelease on locked (or implicitly locked
  // xchg) memory forms; f3 on a plain mov store is xrelease.
  const hle = isMem && (flags & RowFlag.LOCK) !== 0 && (seq.includes(0xf0) || row.op === Op.XCHG);
  const hleMov =
    isMem && row.op === Op.MOV && [0x88, 0x89, 0xc6, 0xc7].includes(row.opcode) && row.map === 0;
  const names: string[] = [];
  seq.forEach((b, i) => {
    switch (b) {
      case 0xf0:
        names.push("lock");
        return;
      case 0xf3:
        if (i === lastRep && row.prefix === 0xf3) return;
        names.push(
          i !== lastF3
            ? "repz"
            : hle || (hleMov && i === lastRep)
              ? "xrelease"
              : flags & RowFlag.REP
                ? "rep"
                : "repz",
        );
        return;
      case 0xf2:
        if (i === lastRep && row.prefix === 0xf2) return;
        names.push(
          i !== lastF2 ? "repnz" : hle ? "xacquire" : flags & RowFlag.BND ? "bnd" : "repnz",
        );
        return;
      case 0x66:
        if (i === last66 && used66) return;
        names.push(mode === 16 ? "data32" : "data16");
        return;
      case 0x67:
        if (i === last67 && used67) return;
        names.push(mode === 64 ? "addr32" : mode === 32 ? "addr16" : "addr32");
        return;
      default:
        if (i === lastSeg && notrack) names.push("notrack");
        else if (i === lastSeg && segUsed) return;
        else names.push(SREG[SEG_BYTES.indexOf(b)]);
    }
  });
  if (rex !== 0) {
    const bits = rex & 15;
    const used = bits & usedBits;
    if ((bits & ~used) !== 0 || (used === 0 && !rex0)) {
      names.push(
        "rex" +
          (bits
            ? "." +
              (bits & 8 ? "W" : "") +
              (bits & 4 ? "R" : "") +
              (bits & 2 ? "X" : "") +
              (bits & 1 ? "B" : "")
            : ""),
      );
    }
  }
  names.push(mn + hint);
  let text = names.join(" ");
  // AT&T order is the reverse of the table's Intel order; enter and bound keep theirs.
  if (row.op !== Op.ENTER && row.mnemonic !== "bound") ops.reverse();
  if (ops.length > 0) text = text.padEnd(6) + " " + ops.join(",");
  if (rec[base + D.RM_MEM] !== 0 && rec[base + D.BASE] === BASE_RIP) {
    let t = (address + BigInt(len) + BigInt(rec[base + D.DISP])) & M64;
    if (asz === 4) t &= 0xffffffffn;
    text += "        # " + hex(t);
  }
  return text;
}

/** One instruction of {@link disassembleBytes}' output. */
export interface DisassembledInsn {
  /** Address of the instruction. */
  address: bigint;
  /** Length in bytes; for undecodable bytes, 1. */
  length: number;
  /** objdump-style AT&T text; `(bad)` for bytes that do not decode. */
  text: string;
}

/**
 * Disassembles a whole buffer, one instruction after another, the first at `address`.
 * Bytes that do not decode (invalid or truncated) come out as a one-byte `(bad)`.
 */
export function disassembleBytes(
  bytes: Uint8Array,
  address: bigint,
  mode: 64 | 32 | 16 = 64,
): DisassembledInsn[] {
  const rec = new Int32Array(INSN_FIELDS);
  const res: DisassembledInsn[] = [];
  let off = 0;
  while (off < bytes.length) {
    const a = address + BigInt(off);
    const n = decodeInsn(bytes, off, bytes.length, mode, rec, 0);
    if (n <= 0) {
      res.push({ address: a, length: 1, text: "(bad)" });
      off += 1;
    } else {
      res.push({ address: a, length: n, text: disassemble(rec, 0, a) });
      off += n;
    }
  }
  return res;
}

/**
 * What {@link disassembleAt} reads of a PV vCPU: its address space (`translate`, as
 * `ArchVcpu.translate` gives it) over the machine's memory, and the CPU's current code size.
 */
export interface GuestCodeView {
  /** Guest virtual → machine byte address with guest-kernel rights, −1 when unmapped. */
  translate(va: bigint, write: boolean): number;
  /** The machine whose memory holds the code. */
  readonly machine: { readonly memory: { readonly bytes: Uint8Array } };
  /** The CPU: 64-bit code, or 32-/16-bit code (a compat guest, or compatibility mode). */
  readonly cpu: { readonly codeSize: 64 | 32 | 16 };
}

/**
 * The instructions at `va` (up to `count`), disassembled from the bytes mapped there
 * (`address: bytes  text`) in the vCPU's current code size; a line says where the
 * mapping ends. Both x86 PV plugins' `disassemble` hook and crash reports use it.
 */
export function disassembleAt(v: GuestCodeView, va: bigint, count: number): string[] {
  const bytes = new Uint8Array(15 * count);
  let n = 0;
  for (; n < bytes.length; n++) {
    const pa = v.translate(va + BigInt(n), false);
    if (pa < 0) break;
    bytes[n] = v.machine.memory.bytes[pa];
  }
  const out: string[] = [];
  let off = 0;
  for (const insn of disassembleBytes(bytes.subarray(0, n), va, v.cpu.codeSize)) {
    if (out.length >= count) break;
    const raw = Array.from(bytes.subarray(off, off + insn.length), (b) =>
      b.toString(16).padStart(2, "0"),
    ).join(" ");
    out.push(`${insn.address.toString(16)}: ${raw.padEnd(24)} ${insn.text}`);
    off += insn.length;
  }
  if (out.length < count) out.push(`${(va + BigInt(n)).toString(16)}: (unmapped)`);
  return out;
}
