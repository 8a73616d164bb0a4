/**
 * Regenerates arch-ppc/src/cpu/corpus/exec-*.json: instruction cases run under qemu-ppc64
 * (qemu-user, `-cpu 970fx`) with the register, CR, XER, LR, CTR, FPR and FPSCR state and
 * the 128-byte buffer they end with — the oracle for arch-ppc/src/cpu/exec-corpus.test.ts.
 *
 *   node --import tsx arch-ppc/scripts/gen-exec-corpus.ts
 *
 * Needs powerpc64-linux-gnu-gcc and qemu-ppc64. How: each case is one or a few instruction
 * words built from the instruction table with random operands (registers r0 and r3–r12,
 * FPRs f0–f13, the buffer through r9 = buffer + 64 and r10 = a small index), and a random
 * input state. The generator writes a C program per chunk of cases: each case is a
 * function whose inline assembly loads the state (FPSCR, f0–f13, XER, LR, CTR, CR, the
 * GPRs), runs the words (`.long`) at a global label and stores the state back; main runs
 * every case and prints the state and the buffer. The label's address is recorded, so the
 * test runs the words at the address qemu ran them (branch-and-link results depend on it).
 *
 * `in` lists the input words that differ from the default state (zero; f0–f13 = 0.0 … 13.0),
 * `out` the words that changed; `buf`/`bufOut` the buffer before and, if changed, after.
 *
 * Left out, with the reason: divides by zero and the overflowing divides (the ISA leaves
 * RT undefined; OV is tested by the other cases), traps and `sc` (they leave the program),
 * `mftb` (wall time), lmw/stmw (they reach r13–r31, which the C harness owns; string
 * instructions are kept to r3–r8), FP enabled exceptions (FPSCR enable bits stay 0, so no SIGFPE).
 *
 * Seeded PRNG: the same qemu gives the same files.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeWord } from "../src/cpu/decode.js";
import { Form, OPD_BITS, Op, Opd, RowFlag, TABLE, type InsnRow } from "../src/cpu/table.js";
import { xorshift32 } from "./xorshift.js";

/** State words: gpr 0–31, fpr 32–63, cr 64, xer 65, lr 66, ctr 67, fpscr 68. */
const WORDS = 69;
const CHUNK = 1500;

const rnd = xorshift32(0x2545f491);
const pick = <T>(a: readonly T[]): T => a[rnd() % a.length]!;
const u64 = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

const REGS = [0, 3, 4, 5, 6, 7, 8, 11, 12];
const INT_EDGES = [
  0n,
  1n,
  2n,
  0xffffffffffffffffn,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0xffffffff80000000n,
  0x7fffffffffffffffn,
  0x8000000000000000n,
  0x100000000n,
  0xfffffffffffffffen,
];

function randGpr(): bigint {
  switch (rnd() % 5) {
    case 0:
      return pick(INT_EDGES);
    case 1:
      return BigInt.asUintN(64, BigInt((rnd() % 41) - 20));
    case 2:
      return BigInt.asUintN(64, BigInt(rnd() | 0));
    default:
      return u64(rnd(), rnd());
  }
}

const F = new Float64Array(1);
const FW = new BigUint64Array(F.buffer);
const dbl = (x: number): bigint => {
  F[0] = x;
  return FW[0]!;
};
const FP_EDGES = [
  0,
  -0,
  1,
  -1,
  0.5,
  1.5,
  2.5,
  -2.5,
  3,
  Infinity,
  -Infinity,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  2.2250738585072014e-308,
  1e300,
  1e-300,
  3.4028234663852886e38,
  1.1754943508222875e-38,
  4294967296.5,
  -2147483648.5,
  2147483647.5,
  9.3e18,
  -9.3e18,
];
function randFpr(single: boolean): bigint {
  switch (rnd() % 8) {
    case 0:
      return dbl(pick(FP_EDGES));
    case 1:
      return pick([
        0x7ff8000000000000n,
        0x7ff0000000000001n,
        0xfff4000012345678n,
        0x7ff8123400000000n,
      ]);
    case 2:
      return u64(rnd(), rnd());
    case 3:
      return dbl((rnd() % 2001) - 1000);
    case 4:
      return dbl(((rnd() | 0) / 65536) * (rnd() % 2 ? 1 : 1e-3));
    default: {
      const x = Math.fround(((rnd() | 0) / 2 ** 20) * 2 ** ((rnd() % 40) - 20));
      return dbl(single ? x : x * (1 + (rnd() % 1000) * 2 ** -40));
    }
  }
}

interface Case {
  words: number[];
  input: bigint[];
  buf: number[] | null;
  kind: string;
}

/** A word of `row` with operands drawn for the harness. */
function encode(row: InsnRow): number {
  let w = row.match;
  for (const k of row.opds) {
    switch (k) {
      case Opd.RT:
      case Opd.FRT:
        w |= (k === Opd.FRT ? rnd() % 14 : pick(REGS)) << 21;
        break;
      case Opd.RA:
        w |= pick(REGS) << 16;
        break;
      case Opd.RA0:
        w |= pick(REGS) << 16;
        break;
      case Opd.RB:
        w |= pick(REGS) << 11;
        break;
      case Opd.FRA:
        w |= (rnd() % 14) << 16;
        break;
      case Opd.FRB:
        w |= (rnd() % 14) << 11;
        break;
      case Opd.FRC:
        w |= (rnd() % 14) << 6;
        break;
      case Opd.BF:
      case Opd.BFN:
        w |= (rnd() % 8) << 23;
        break;
      case Opd.BFA:
        w |= (rnd() % 8) << 18;
        break;
      case Opd.BT:
      case Opd.BTF:
        w |= (rnd() % 32) << 21;
        break;
      case Opd.BA:
        w |= (rnd() % 32) << 16;
        break;
      case Opd.BB:
        w |= (rnd() % 32) << 11;
        break;
      case Opd.SI:
      case Opd.UI:
        w |= rnd() % 3 === 0 ? pick([0, 1, 0xffff, 0x8000, 0x7fff, 31, 32, 63]) : rnd() & 0xffff;
        break;
      case Opd.L10:
      case Opd.L910:
        w |= (rnd() & 1) << 21;
        break;
      case Opd.SH:
      case Opd.MB:
      case Opd.ME:
      case Opd.SH6:
      case Opd.MB6:
      case Opd.FXM:
      case Opd.FLM:
      case Opd.U:
        w |= rnd() & OPD_BITS[k]!;
        break;
      default:
        break;
    }
  }
  if (row.flags & RowFlag.RC && rnd() & 1) w |= 1;
  if (row.flags & RowFlag.OE && rnd() & 1) w |= 0x400;
  return w >>> 0;
}

function baseState(fp: boolean, singleFp: boolean): bigint[] {
  const s = new Array<bigint>(WORDS).fill(0n);
  for (const r of REGS) s[r] = randGpr();
  for (let f = 0; f < 14; f++) s[32 + f] = fp ? randFpr(singleFp) : dbl(f);
  s[64] = BigInt(rnd());
  s[65] = BigInt((rnd() & 0xe0000000) >>> 0) | BigInt(rnd() & 0x7f);
  s[66] = u64(0, rnd() & ~3);
  s[67] = rnd() % 3 === 0 ? BigInt(rnd() % 3) : randGpr();
  // FPSCR: a rounding mode, some sticky bits, no enables (no SIGFPE), summaries consistent.
  let fpscr = rnd() & 3;
  if (rnd() % 4 === 0) fpscr |= 0x82000000; // FX, XX
  if (rnd() % 8 === 0) fpscr |= 0x80040000 | (rnd() & 0x1f000);
  s[68] = BigInt(fpscr >>> 0);
  return s;
}

const INT_OPS = new Set<Op>([
  Op.Addi,
  Op.Addis,
  Op.Addic,
  Op.Subfic,
  Op.Mulli,
  Op.Add,
  Op.Addc,
  Op.Adde,
  Op.Addme,
  Op.Addze,
  Op.Subf,
  Op.Subfc,
  Op.Subfe,
  Op.Subfme,
  Op.Subfze,
  Op.Neg,
  Op.Mullw,
  Op.Mulld,
  Op.Mulhw,
  Op.Mulhwu,
  Op.Mulhd,
  Op.Mulhdu,
  Op.Divw,
  Op.Divwu,
  Op.Divd,
  Op.Divdu,
  Op.Cmp,
  Op.Cmpl,
  Op.Cmpi,
  Op.Cmpli,
  Op.And,
  Op.Or,
  Op.Xor,
  Op.Nand,
  Op.Nor,
  Op.Eqv,
  Op.Andc,
  Op.Orc,
  Op.Andi,
  Op.Andis,
  Op.Ori,
  Op.Oris,
  Op.Xori,
  Op.Xoris,
  Op.Extsb,
  Op.Extsh,
  Op.Extsw,
  Op.Cntlzw,
  Op.Cntlzd,
  Op.Rlwinm,
  Op.Rlwnm,
  Op.Rlwimi,
  Op.Rldicl,
  Op.Rldicr,
  Op.Rldic,
  Op.Rldimi,
  Op.Rldcl,
  Op.Rldcr,
  Op.Slw,
  Op.Srw,
  Op.Sraw,
  Op.Srawi,
  Op.Sld,
  Op.Srd,
  Op.Srad,
  Op.Sradi,
  Op.CrLogical,
  Op.Mcrf,
  Op.Mcrxr,
  Op.Mfcr,
  Op.Mfocrf,
  Op.Mtcrf,
  Op.Mtocrf,
]);
const FP_OPS = new Set<Op>([
  Op.FpArith,
  Op.FpMulAdd,
  Op.FpSqrt,
  Op.FpRes,
  Op.FpRsqrte,
  Op.FpSel,
  Op.FpMove,
  Op.FpRsp,
  Op.FpCvtToInt,
  Op.FpCfid,
  Op.FpCmp,
  Op.Mffs,
  Op.Mtfsf,
  Op.Mtfsfi,
  Op.Mtfsb0,
  Op.Mtfsb1,
  Op.Mcrfs,
]);
const MEM_OPS = new Set<Op>([Op.Load, Op.Store, Op.LoadFp, Op.StoreFp, Op.StoreFpInt, Op.Dcbz]);

function divisorFix(row: InsnRow, w: number, s: bigint[]): void {
  if (![Op.Divw, Op.Divwu, Op.Divd, Op.Divdu].includes(row.op)) return;
  const ra = (w >>> 16) & 31;
  const rb = (w >>> 11) & 31;
  const word = row.op === Op.Divw || row.op === Op.Divwu;
  const b = word ? s[rb]! & 0xffffffffn : s[rb]!;
  const a = word ? s[ra]! & 0xffffffffn : s[ra]!;
  const minus1 = word ? 0xffffffffn : 0xffffffffffffffffn;
  const min = word ? 0x80000000n : 0x8000000000000000n;
  if (
    b === 0n ||
    ((row.op === Op.Divw || row.op === Op.Divd) && a === min && b === minus1) ||
    ra === rb
  )
    s[rb] = 7n;
}

function memCase(row: InsnRow): Case | null {
  // Base r9 (buffer + 64, patched in by the harness), index r10 in [-64, 56].
  let w = row.match;
  const size = row.op === Op.Dcbz ? 1 : row.size;
  const isX = row.form === Form.X;
  const fp = row.op === Op.LoadFp || row.op === Op.StoreFp || row.op === Op.StoreFpInt;
  const rt = fp ? rnd() % 14 : pick(REGS);
  if (row.op !== Op.Dcbz) w |= rt << 21;
  const off =
    size === 8 || size === 4
      ? (rnd() % 15) * 8 - 64 + (row.form === Form.DS ? 0 : pick([0, 0, 0, 2, 4, 1]))
      : (rnd() % 120) - 64;
  const input = baseState(fp, row.size === 4);
  if (isX) {
    w |= (9 << 16) | (10 << 11);
    input[10] = BigInt.asUintN(64, BigInt(row.form === Form.DS ? off & ~3 : off));
  } else {
    const d = row.form === Form.DS ? off & ~3 : off;
    w |= (9 << 16) | (d & 0xffff);
  }
  w >>>= 0;
  if (decodeWord(w) < 0) return null;
  const buf = Array.from({ length: 128 }, () => rnd() & 0xff);
  return { words: [w], input, buf, kind: "mem" };
}

function branchCase(): Case {
  const input = baseState(false, false);
  const kind = rnd() % 4;
  const skip = 0x38630001; // addi r3,r3,1 — skipped when the branch is taken
  let bo: number;
  do bo = rnd() % 32;
  while (bo === 21 || bo === 22 || bo === 23 || bo >= 28 || bo & 1);
  const bi = rnd() % 32;
  const lk = rnd() & 1;
  if (kind === 0)
    return { words: [(0x48000008 | lk) >>> 0, skip], input, buf: null, kind: "branch" };
  if (kind === 1)
    return {
      words: [((16 << 26) | (bo << 21) | (bi << 16) | 8 | lk) >>> 0, skip],
      input,
      buf: null,
      kind: "branch",
    };
  // bclr/bcctr: bl +4 to learn the address, r11 = target (the word after the skipped one).
  const toCtr = kind === 3;
  if (toCtr) bo = pick([4, 6, 12, 14, 20]);
  const setup = [
    0x48000005,
    0x7d6802a6 /* mflr r11 */,
    0x396b0014 /* addi r11,r11,20 */,
    toCtr ? 0x7d6903a6 : 0x7d6803a6,
  ];
  const br = ((19 << 26) | (bo << 21) | (bi << 16) | ((toCtr ? 528 : 16) << 1) | lk) >>> 0;
  return { words: [...setup, br, skip], input, buf: null, kind: "branch" };
}

function sprCase(): Case {
  const input = baseState(false, false);
  const spr = pick([1, 8, 9]);
  const r = pick(REGS);
  const enc = ((spr & 31) << 16) | ((spr >>> 5) << 11);
  const w =
    rnd() & 1
      ? (31 << 26) | (r << 21) | enc | (339 << 1)
      : (31 << 26) | (r << 21) | enc | (467 << 1);
  return { words: [w >>> 0], input, buf: null, kind: "spr" };
}

function stringCase(): Case {
  const input = baseState(false, false);
  const n = 1 + (rnd() % 24); // at most six registers: r3–r8, clear of r9 (base) and r10 (index)
  const rt = 3 + (rnd() % (7 - ((n + 3) >> 2)));
  const op = pick([597, 725, 533, 661]); // lswi, stswi, lswx, stswx
  const indexed = op === 533 || op === 661;
  input[10] = indexed ? BigInt.asUintN(64, BigInt((rnd() % 64) - 64)) : 0n;
  if (indexed) input[65] = (input[65]! & ~0x7fn) | BigInt(n);
  const w = (31 << 26) | (rt << 21) | (9 << 16) | ((indexed ? 10 : n & 31) << 11) | (op << 1);
  return {
    words: [w >>> 0],
    input,
    buf: Array.from({ length: 128 }, () => rnd() & 0xff),
    kind: "string",
  };
}

function reserveCase(): Case {
  const input = baseState(false, false);
  const d = rnd() & 1;
  const rt = pick([3, 4, 5, 6]);
  const rs = pick([7, 8, 11, 12]);
  // lwarx/ldarx rt,0,r9 ; stwcx./stdcx. rs,0,r9 (same or, with r10 = 8, another address)
  const other = rnd() % 4 === 0;
  input[10] = other ? 8n : 0n;
  const l = (31 << 26) | (rt << 21) | (9 << 11) | ((d ? 84 : 20) << 1);
  const s =
    (31 << 26) | (rs << 21) | (other ? 10 << 16 : 0) | (9 << 11) | ((d ? 214 : 150) << 1) | 1;
  return {
    words: [l >>> 0, s >>> 0],
    input,
    buf: Array.from({ length: 128 }, () => rnd() & 0xff),
    kind: "reserve",
  };
}

/** The state `in` is relative to: zero, but f0–f13 hold 0.0, 1.0, …, 13.0 (the non-FP cases' FPRs). */
const DEFAULT = new Array<bigint>(WORDS).fill(0n);
for (let f = 0; f < 14; f++) DEFAULT[32 + f] = dbl(f);

const cases: Case[] = [];
const intRows = TABLE.filter((r) => INT_OPS.has(r.op));
const fpRows = TABLE.filter((r) => FP_OPS.has(r.op));
const memRows = TABLE.filter((r) => MEM_OPS.has(r.op));
for (let i = 0; i < 6000; i++) {
  const row = pick(intRows);
  const w = encode(row);
  if (decodeWord(w) < 0) continue;
  const input = baseState(false, false);
  divisorFix(row, w, input);
  cases.push({ words: [w], input, buf: null, kind: "int" });
}
for (let i = 0; i < 5000; i++) {
  const row = pick(fpRows);
  const w = encode(row);
  if (decodeWord(w) < 0) continue;
  const input = baseState(true, (row.flags & RowFlag.SINGLE) !== 0);
  // Never set an exception enable or NI (qemu-user would deliver SIGFPE / change modes).
  const bt = (w >>> 21) & 31;
  const u = (w >>> 12) & 15;
  const bf = (w >>> 23) & 7;
  if (row.op === Op.Mtfsb1 && bt >= 24 && bt <= 29) continue;
  if (row.op === Op.Mtfsfi && ((bf === 6 && u & 15) || (bf === 7 && u & 12))) continue;
  if (row.op === Op.Mtfsf) {
    const b = (w >>> 11) & 31;
    input[32 + b] = input[32 + b]! & ~0xfcn;
  }
  cases.push({ words: [w], input, buf: null, kind: "fp" });
}
for (let i = 0; i < 2500; i++) {
  const c = memCase(pick(memRows));
  if (c) cases.push(c);
}
for (let i = 0; i < 1200; i++) cases.push(branchCase());
for (let i = 0; i < 300; i++) cases.push(sprCase());
for (let i = 0; i < 300; i++) cases.push(reserveCase());
for (let i = 0; i < 400; i++) cases.push(stringCase());
// Sequences: four integer instructions in a row, so carries, overflow, CR fields and
// registers flow from one into the next (addc/adde chains, compares feeding CR logic, ...).
// FP sequences are left out: there qemu 7.2's FPSCR bookkeeping departs from the ISA (FX
// set when an already-set exception bit is raised again, FI cleared by compares, FR
// unmodelled), which single-instruction cases do not reach.
for (let i = 0; i < 1500; i++) {
  const input = baseState(false, false);
  const words: number[] = [];
  while (words.length < 4) {
    const row = pick(intRows);
    const w = encode(row);
    if (decodeWord(w) < 0 || [Op.Divw, Op.Divwu, Op.Divd, Op.Divdu].includes(row.op)) continue;
    words.push(w);
  }
  cases.push({ words, input, buf: null, kind: "sequence" });
}

const hex64 = (v: bigint): string => v.toString(16).padStart(16, "0");
const CLOBBERS = [
  ...["0", ...Array.from({ length: 10 }, (_, k) => String(k + 3))].map((r) => `"r${r}"`),
  ...Array.from({ length: 14 }, (_, k) => `"fr${k}"`),
  ...Array.from({ length: 8 }, (_, k) => `"cr${k}"`),
  '"xer"',
  '"lr"',
  '"ctr"',
  '"memory"',
].join(",");

function program(chunk: Case[], base: number): string {
  const load = [
    "lfd 0,544(31)",
    "mtfsf 0xff,0",
    ...Array.from({ length: 14 }, (_, f) => `lfd ${f},${(32 + f) * 8}(31)`),
    "ld 0,520(31)",
    "mtxer 0",
    "ld 0,528(31)",
    "mtlr 0",
    "ld 0,536(31)",
    "mtctr 0",
    "lwz 0,516(31)",
    "mtcrf 0xff,0",
    ...REGS.filter((r) => r !== 0).map((r) => `ld ${r},${r * 8}(31)`),
    "ld 9,72(31)",
    "ld 10,80(31)",
    "ld 0,0(31)",
  ];
  const store = [
    "std 0,0(31)",
    ...[3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((r) => `std ${r},${r * 8}(31)`),
    "mfcr 0",
    "std 0,512(31)",
    "mfxer 0",
    "std 0,520(31)",
    "mflr 0",
    "std 0,528(31)",
    "mfctr 0",
    "std 0,536(31)",
    ...Array.from({ length: 14 }, (_, f) => `stfd ${f},${(32 + f) * 8}(31)`),
    "mffs 0",
    "stfd 0,544(31)",
  ];
  const fns = chunk.map((c, k) => {
    const n = base + k;
    const body = c.words.map((w) => `.long 0x${w.toString(16)}`);
    const asm = [...load, `.globl body${n}`, `body${n}:`, ...body, ...store]
      .map((l) => `"${l}\\n"`)
      .join("\n    ");
    return `static void case${n}(uint64_t *s) {\n  register uint64_t *p asm("r31") = s;\n  asm volatile(\n    ${asm}\n    : : "r"(p) : ${CLOBBERS});\n}\nextern char body${n}[];`;
  });
  const inputs = chunk
    .map((c) => `{${c.input.map((v) => `0x${hex64(v)}ULL`).join(",")}}`)
    .join(",\n");
  const bufs = chunk
    .map((c) => `{${(c.buf ?? new Array<number>(128).fill(0)).join(",")}}`)
    .join(",\n");
  return `#include <stdint.h>
#include <stdio.h>
#include <string.h>
static unsigned char buf[128] __attribute__((aligned(128)));
static const uint64_t in[${chunk.length}][${WORDS}] = {${inputs}};
static const unsigned char bufin[${chunk.length}][128] = {${bufs}};
${fns.join("\n")}
static void (*const fn[])(uint64_t *) = {${chunk.map((_, k) => `case${base + k}`).join(",")}};
static char *const body[] = {${chunk.map((_, k) => `body${base + k}`).join(",")}};
int main(void) {
  printf("buf %lx\\n", (unsigned long)buf);
  for (int k = 0; k < ${chunk.length}; k++) {
    uint64_t s[${WORDS}];
    memcpy(s, in[k], sizeof s);
    s[9] = (uint64_t)(buf + 64) + s[9] * 0; /* r9: the buffer */
    memcpy(buf, bufin[k], 128);
    fn[k](s);
    printf("%lx", (unsigned long)body[k]);
    for (int j = 0; j < ${WORDS}; j++) printf(" %lx", (unsigned long)s[j]);
    printf(" ");
    for (int j = 0; j < 128; j++) printf("%02x", buf[j]);
    printf("\\n");
  }
  return 0;
}
`;
}

interface Out {
  host: string;
  cases: {
    kind: string;
    code: string;
    addr: string;
    bufAddr: string;
    in: string;
    buf?: string;
    out: string;
    bufOut?: string;
  }[];
}

const dir = mkdtempSync(join(tmpdir(), "hvkit-ppc-exec-"));
const byKind = new Map<string, Out["cases"]>();
let bufAddr = "";
const qemu = execFileSync("qemu-ppc64", ["--version"]).toString().split("\n")[0]!;
const gcc = execFileSync("powerpc64-linux-gnu-gcc", ["--version"]).toString().split("\n")[0]!;
try {
  for (let base = 0; base < cases.length; base += CHUNK) {
    const chunk = cases.slice(base, base + CHUNK);
    const src = join(dir, `c${base}.c`);
    const exe = join(dir, `c${base}`);
    writeFileSync(src, program(chunk, base));
    execFileSync("powerpc64-linux-gnu-gcc", ["-O1", "-static", "-o", exe, src]);
    let out: string;
    try {
      out = execFileSync("qemu-ppc64", ["-cpu", "970fx", exe], {
        maxBuffer: 1 << 28,
        stdio: ["ignore", "pipe", "pipe"],
      }).toString();
    } catch (e) {
      const err = e as { stdout: Buffer; stderr: Buffer };
      const done = err.stdout.toString().trim().split("\n").length - 1;
      throw new Error(
        `qemu failed after ${done} cases of chunk ${base}: ${err.stderr.toString()}; next words ${chunk[done]?.words.map((w) => w.toString(16)).join(" ")}`,
      );
    }
    const lines = out.trim().split("\n");
    const b = lines.shift()!.split(" ")[1]!;
    bufAddr = b;
    lines.forEach((line, k) => {
      const c = chunk[k]!;
      const f = line.split(" ");
      const addr = f[0]!;
      const state = f.slice(1, 1 + WORDS).map((x) => BigInt("0x" + x));
      const bufOut = f[1 + WORDS]!;
      // Inputs as the case ran them: r9 points at the buffer.
      const input = c.input.slice();
      input[9] = BigInt("0x" + bufAddr) + 64n;
      const changed: string[] = [];
      state.forEach((v, j) => {
        if (v !== input[j]) changed.push(`${j}:${v.toString(16)}`);
      });
      const bufIn = Buffer.from(c.buf ?? new Array<number>(128).fill(0)).toString("hex");
      const list = byKind.get(c.kind) ?? [];
      list.push({
        kind: c.kind,
        code: c.words.map((w) => w.toString(16).padStart(8, "0")).join(""),
        addr,
        bufAddr,
        in: input
          .map((v, j) => (v === DEFAULT[j] || j === 9 ? "" : `${j}:${v.toString(16)}`))
          .filter((x) => x)
          .join(" "),
        ...(c.buf ? { buf: bufIn } : {}),
        out: changed.join(" "),
        ...(bufOut !== bufIn ? { bufOut } : {}),
      });
      byKind.set(c.kind, list);
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
for (const [kind, list] of byKind) {
  const file: Out = { host: `${qemu} -cpu 970fx; ${gcc}`, cases: list };
  writeFileSync(
    new URL(`../src/cpu/corpus/exec-${kind}.json`, import.meta.url),
    JSON.stringify(file).replace(/\},\{/g, "},\n{") + "\n",
  );
  console.log(`exec-${kind}.json: ${list.length} cases`);
}
