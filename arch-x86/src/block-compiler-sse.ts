/**
 * SSE instructions compiled inline by the block compiler (block-compiler.ts): data
 * movement, bitwise and integer-add vector ops, and the floating-point arithmetic,
 * compares and conversions gcc emits for C `double`/`float` code, as JavaScript on the
 * XMM register file (`X86Cpu.xmm`, read through Float64Array and Float32Array views).
 *
 * Exactness. The interpreter's floating point (simd-float.ts) is exact under every MXCSR
 * setting; a compiled instruction takes a fast path only where a plain JavaScript
 * operation gives the same bits and the same MXCSR flags, and otherwise calls the
 * interpreter's own helper with the decoded record (which reads its operands again):
 * - operands are zero or normal (no NaN, infinity or denormal: no invalid or denormal
 *   exception, DAZ irrelevant), and the result is zero or normal (no overflow or
 *   underflow, FTZ irrelevant; a zero from nonzero factors is an underflow);
 * - a rounding operation also needs round-to-nearest with the precision exception masked
 *   and its flag already set (MXCSR & 0x7020 = 0x1020): then an inexact result changes
 *   nothing but the destination. IEEE 754 round-to-nearest of a double is JavaScript's;
 *   a single is `Math.fround` of the double result, which for +, −, ×, ÷ and sqrt is the
 *   correctly rounded single (53 ≥ 2 × 24 + 2: double rounding is innocuous).
 * Rounding-free operations (moves, logic, integer adds, min/max, compares, widening and
 * int32 → double conversions) need no MXCSR condition.
 *
 * The x87 register moves (fld ST(i), fxch, fst/fstp ST(i), fld m32fp/m64fp, fild m32int)
 * and fcomi/fucomi(p) are compiled the same way: inline when no exception is pending, the
 * stack has what they need and the values are zeros or normals; otherwise `x87Op`.
 *
 * Faults come in the interpreter's order: #UD/#NM from CR0/CR4 (checked at the block's
 * first compiled SSE instruction: nothing a block runs changes them), #GP(0) for a
 * misaligned 16-byte operand, then the memory access through the TLB fast path or the
 * CPU's `rd*`/`wr*` methods. The views assume a little-endian host, as x86 and the
 * common Node hosts are; on a big-endian one nothing is compiled here and the helpers run.
 *
 * @module
 */
import { Seg } from "./cpu-api.js";
import type { X86Cpu } from "./cpu.js";
import { F, L, O } from "./execute.js";
import { FpuCr, Fsw, sseAvailable, x87Available } from "./fpu.js";
import { D } from "./insn.js";
import { CvtFn, FpFn } from "./ops.js";
import { Vec } from "./table.js";
import { X87Flag } from "./x87.js";

/** What the SSE emitters use of the block compiler's code generator (`Gen`). */
export interface SseGen {
  /** 32-bit code: addresses wrap at 4 GiB. */
  readonly m32: boolean;
  /** Stores of the last flag writer's lazy-flag record not yet emitted. */
  pending: string;
  /** Emits the pending flag stores. */
  flush(): void;
  /** The local holding the low half of general register `r` (noted as written when `write`). */
  lo(r: number, write?: boolean): string;
  /** The local holding the high half of general register `r`. */
  hi(r: number, write?: boolean): string;
  /** Appends a statement. */
  emit(s: string): void;
}

/** The block compiler's view of the instruction being compiled (its `Insn`). */
export interface SseInsn {
  /** The Op (ops.ts). */
  readonly op: number;
  /** 1 when the r/m operand is memory (its address is in `e{k}l`/`e{k}h`). */
  readonly mem: number;
  /** The decode cache's records. */
  readonly rec: Int32Array;
  /** Where this instruction's record starts in {@link rec}. */
  readonly b: number;
  /** Offset of the instruction from the block's first byte. */
  readonly off: number;
}

/** What the block compiler lends the SSE emitters for one instruction. */
export interface SseContext {
  /** Emits the check that a store did not rewrite the block's own code. */
  readonly afterStore: () => void;
  /** The block's copies of the records its helper calls pass (`HREC`). */
  readonly hrec: number[];
  /** Placeholder writing the block's general registers back (before a helper that reads them). */
  readonly writeBack: string;
  /** Placeholder reading them again (after a helper that writes one). */
  readonly reload: string;
}

/** What {@link emitSse} did. */
export const enum SseEmit {
  /** Nothing: the instruction is not compiled here. */
  No = 0,
  /** Compiled; the flags are as before. */
  Done = 1,
  /**
   * Compiled; the six status flags were replaced and are in `c.flags` once the pending
   * stores it left are emitted (`c.lz` 0).
   */
  Flags = 2,
}

/** The smallest normal double and single. */
const MIN64 = 2.2250738585072014e-308;
const MIN32 = 1.1754943508222875e-38;
/** MXCSR bits of the rounding fast path: RC, PM and PE; and their required value. */
const RN_PM_PE = 0x7020;
const RN_PM_PE_SET = 0x1020;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Lanes of a memory source, read before the operation (one instruction at a time). */
const MS = new Int32Array(4);
const MSF = new Float64Array(MS.buffer);
const MSS = new Float32Array(MS.buffer);

/** Whether `v` is zero or a finite normal of magnitude at least `min`. */
function normalOrZero(v: number, min: number): boolean {
  const a = Math.abs(v);
  return v === 0 || (a >= min && a < Infinity);
}

/** Whether a nonzero result `r` is finite and above the normal threshold `min` (not tiny). */
function normalResult(r: number, min: number): boolean {
  const a = Math.abs(r);
  return a > min && a < Infinity;
}

const views = new WeakMap<Int32Array, [Float64Array, Float32Array]>();

/** Names of the constants the compiled SSE code uses, for the block's factory. */
export const SSE_SCOPE = [
  "XI",
  "XF",
  "XS",
  "MS",
  "MSF",
  "MSS",
  "sseAvailable",
  "x87Available",
  "NZ",
  "NR",
];

/** The values of {@link SSE_SCOPE} for CPU `c` (its XMM registers and their views). */
export function sseScope(c: X86Cpu): unknown[] {
  let v = views.get(c.xmm);
  if (v === undefined) {
    v = [
      new Float64Array(c.xmm.buffer, c.xmm.byteOffset, c.xmm.length >> 1),
      new Float32Array(c.xmm.buffer, c.xmm.byteOffset, c.xmm.length),
    ];
    views.set(c.xmm, v);
  }
  return [c.xmm, v[0], v[1], MS, MSF, MSS, sseAvailable, x87Available, normalOrZero, normalResult];
}

/** Generators whose block already checked that SSE instructions may run. */
const checked = new WeakSet<SseGen>();
/** Generators whose block already checked that x87 instructions may run (CR0.EM, TS). */
const x87Checked = new WeakSet<SseGen>();

/** Per-instruction state of one emission. */
interface Emit {
  g: SseGen;
  i: SseInsn;
  k: number;
  ctx: SseContext;
  d: number;
  dst: number;
  src: number;
}

function field(i: SseInsn, f: number): number {
  return i.rec[i.b + f];
}

/** The helper call for the instruction: the interpreter's `fn` on the record copied to HREC. */
function helperCall(e: Emit, fn: string): string {
  const at = e.ctx.hrec.length;
  for (let f = 0; f < F.SLOT; f++) e.ctx.hrec.push(e.i.rec[e.i.b + f]);
  const ea = e.i.mem === 1 ? `e${e.k}l, e${e.k}h` : "0, 0";
  return `${fn}(c, ${e.i.op}, HREC, ${at}, ${ea});`;
}

/** Emits what comes before the operation: the stored flags and the CR0/CR4 check. */
function prologue(e: Emit, mayFault: boolean): void {
  const first = !checked.has(e.g);
  if (mayFault || first || e.i.mem === 1) e.g.flush();
  if (first)
    e.g.emit(
      `if ((c.cr4 & ${FpuCr.OSFXSR}) === 0 || (c.cr0 & ${FpuCr.EM | FpuCr.TS}) !== 0) sseAvailable(c);`,
    );
}

/** Emits the read of the `size`-byte memory operand into MS (#GP(0) first when aligned). */
function readSource(e: Emit, size: number): void {
  const k = e.k;
  const el = `e${k}l`;
  const eh = `e${k}h`;
  if ((e.d & Vec.ALIGN) !== 0) e.g.emit(`if ((${el} & 15) !== 0) c.gp0();`);
  let fast = "";
  for (let j = 0; j < size >> 2; j++) fast += ` MS[${j}] = DV.getInt32(p + ${4 * j}, true);`;
  let slow: string;
  if (size === 4) slow = `MS[0] = c.rd32(${el}, ${eh});`;
  else {
    slow = `MS[0] = c.rd64(${el}, ${eh}); MS[1] = c.hi;`;
    if (size === 16)
      slow +=
        ` const l = (${el} >>> 0) + 8;` +
        ` MS[2] = c.rd64(l | 0, l >= 4294967296 ? (${eh} + 1) | 0 : ${eh}); MS[3] = c.hi;`;
  }
  e.g.emit(
    `{ const t = (${el} >>> 12) & 4095;` +
      ` if (TL[t] === (${el} & -4096) && TH[t] === ${eh} && (TP[t] & RM) !== 0 && (${el} & 4095) <= ${4096 - size}) {` +
      ` const p = TB[t] | (${el} & 4095);${fast} } else { ${slow} } }`,
  );
}

/**
 * Emits the write of int32 lanes `v` (4, 8 or 16 bytes) to the memory operand, as the
 * interpreter writes them (a 16-byte store is probed whole first); then the code check.
 */
function writeDest(e: Emit, v: string[]): void {
  const k = e.k;
  const el = `e${k}l`;
  const eh = `e${k}h`;
  const size = 4 * v.length;
  let fast = "";
  for (let j = 0; j < v.length; j++) fast += ` DV.setInt32(p + ${4 * j}, ${v[j]}, true);`;
  let slow: string;
  if (size === 4) slow = `c.wr32(${el}, ${eh}, ${v[0]});`;
  else {
    slow = `c.wr64(${el}, ${eh}, ${v[0]}, ${v[1]});`;
    if (size === 16)
      slow =
        `c.probeWrite(${el}, ${eh}, 16); ${slow}` +
        ` const l = (${el} >>> 0) + 8;` +
        ` c.wr64(l | 0, l >= 4294967296 ? (${eh} + 1) | 0 : ${eh}, ${v[2]}, ${v[3]});`;
  }
  e.g.emit(
    `{ const t = (${el} >>> 12) & 4095;` +
      ` if (TL[t] === (${el} & -4096) && TH[t] === ${eh} && (TP[t] & WM) !== 0 && (${el} & 4095) <= ${4096 - size}) {` +
      ` const p = TB[t] | (${el} & 4095);${fast} } else { ${slow} } }`,
  );
  e.ctx.afterStore();
}

/** Expression for int32 lane `j` of the source: a register's or the memory operand's. */
function srcLane(e: Emit, j: number): string {
  return e.src === L.MEM ? `MS[${j}]` : `XI[${4 * e.src + j}]`;
}

/** Reads the source's `n` lanes into consts `s{k}_{j}` (memory read first when it is one). */
function sourceLanes(e: Emit, n: number, size: number): string[] {
  if (e.src === L.MEM) readSource(e, size);
  const out: string[] = [];
  for (let j = 0; j < n; j++) {
    // A memory operand shorter than the register reads as zeros beyond its end.
    const v = e.src === L.MEM && 4 * j >= size ? "0" : srcLane(e, j);
    e.g.emit(`const vs${e.k}_${j} = ${v};`);
    out.push(`vs${e.k}_${j}`);
  }
  return out;
}

/** Emits the writes of int32 lanes `v` to the destination register from lane `from`. */
function setLanes(e: Emit, v: string[], from = 0): void {
  e.g.emit(v.map((x, j) => `XI[${4 * e.dst + from + j}] = ${x};`).join(" "));
}

// ---- data movement and integer ops ----

/** movaps/movapd/movups/movupd/movdqa/movdqu/movnt*: 16 bytes, register or memory. */
function emitMove(e: Emit): boolean {
  prologue(e, false);
  if (e.dst === L.MEM) {
    const v = [0, 1, 2, 3].map((j) => srcLane(e, j));
    e.g.emit(
      `const vs${e.k}_0 = ${v[0]}, vs${e.k}_1 = ${v[1]}, vs${e.k}_2 = ${v[2]}, vs${e.k}_3 = ${v[3]};`,
    );
    if ((e.d & Vec.ALIGN) !== 0) e.g.emit(`if ((e${e.k}l & 15) !== 0) c.gp0();`);
    writeDest(
      e,
      [0, 1, 2, 3].map((j) => `vs${e.k}_${j}`),
    );
    return true;
  }
  setLanes(e, sourceLanes(e, 4, 16));
  return true;
}

/** movss/movsd: the low element; a load from memory zeroes the rest, a register move keeps it. */
function emitMoveScalar(e: Emit): boolean {
  const words = (e.d & Vec.AUX) >> 2;
  prologue(e, false);
  if (e.dst === L.MEM) {
    const v = [];
    for (let j = 0; j < words; j++) v.push(srcLane(e, j));
    writeDest(e, v);
    return true;
  }
  const s = sourceLanes(e, words, 4 * words);
  if (e.src === L.MEM) while (s.length < 4) s.push("0");
  setLanes(e, s);
  return true;
}

/** movq xmm, xmm/m64 (f3 0f 7e) and movq xmm/m64, xmm (66 0f d6): the low quadword. */
function emitMoveQ(e: Emit): boolean {
  prologue(e, false);
  if (e.dst === L.MEM) {
    writeDest(e, [srcLane(e, 0), srcLane(e, 1)]);
    return true;
  }
  setLanes(e, [...sourceLanes(e, 2, 8), "0", "0"]);
  return true;
}

/** movd/movq between a general register or memory and an XMM register. */
function emitMoveD(e: Emit): boolean {
  const wide = ((field(e.i, F.PACK) >> 12) & 15) === 8;
  const g = e.g;
  if ((e.d & Vec.AUX) === 0) {
    // Into the XMM register.
    if (e.src !== L.MEM && (e.src < 0 || e.src >= 16)) return false;
    prologue(e, false);
    if (e.src === L.MEM) {
      readSource(e, wide ? 8 : 4);
      setLanes(e, ["MS[0]", wide ? "MS[1]" : "0", "0", "0"]);
    } else setLanes(e, [g.lo(e.src), wide ? g.hi(e.src) : "0", "0", "0"]);
    return true;
  }
  // From the XMM register (X_SRC) to a general register or memory.
  if (e.dst !== L.MEM && (e.dst < 0 || e.dst >= 16)) return false;
  prologue(e, false);
  const lo = `XI[${4 * e.src}]`;
  const hi = `XI[${4 * e.src + 1}]`;
  if (e.dst === L.MEM) writeDest(e, wide ? [lo, hi] : [lo]);
  else g.emit(`${g.lo(e.dst, true)} = ${lo}; ${g.hi(e.dst, true)} = ${wide ? hi : "0"};`);
  return true;
}

/** pand/pandn/por/pxor (and the ps/pd forms), paddd/q and psubd/q. */
function emitInteger(e: Emit): boolean {
  const lane = e.d & Vec.AUX;
  const op = e.i.op;
  if ((op === O.PADD || op === O.PSUB) && lane !== 4 && lane !== 8) return false;
  prologue(e, false);
  const s = sourceLanes(e, 4, 16);
  const k = e.k;
  const a = (j: number): string => `XI[${4 * e.dst + j}]`;
  const r: string[] = [];
  for (let j = 0; j < 4; j++) {
    let x: string;
    switch (op) {
      case O.PAND:
        x = `${a(j)} & ${s[j]}`;
        break;
      case O.PANDN:
        x = `~${a(j)} & ${s[j]}`;
        break;
      case O.POR:
        x = `${a(j)} | ${s[j]}`;
        break;
      case O.PXOR:
        x = `${a(j)} ^ ${s[j]}`;
        break;
      case O.PADD:
        if (lane === 4) x = `(${a(j)} + ${s[j]}) | 0`;
        else if ((j & 1) === 0) {
          e.g.emit(`const vt${k}_${j} = (${a(j)} >>> 0) + (${s[j]} >>> 0);`);
          x = `vt${k}_${j} | 0`;
        } else x = `(${a(j)} + ${s[j]} + (vt${k}_${j - 1} > 4294967295 ? 1 : 0)) | 0`;
        break;
      default:
        if (lane === 4 || (j & 1) === 0) x = `(${a(j)} - ${s[j]}) | 0`;
        else x = `(${a(j)} - ${s[j]} - (${a(j - 1)} >>> 0 < ${s[j - 1]} >>> 0 ? 1 : 0)) | 0`;
    }
    e.g.emit(`const vr${k}_${j} = ${x};`);
    r.push(`vr${k}_${j}`);
  }
  setLanes(e, r);
  return true;
}

/** pshufd, shufps/shufpd, unpckl/h ps/pd and punpckl/h dq/qdq. */
function emitShuffle(e: Emit): boolean {
  const lane = e.d & Vec.AUX;
  const op = e.i.op;
  if ((op === O.PUNPCKL || op === O.PUNPCKH) && lane !== 4 && lane !== 8) return false;
  prologue(e, false);
  const s = sourceLanes(e, 4, (e.d >> Vec.MEM_SHIFT) & 31 || 16);
  const k = e.k;
  const imm = field(e.i, F.IMM_LO);
  e.g.emit([0, 1, 2, 3].map((j) => `const vd${k}_${j} = XI[${4 * e.dst + j}];`).join(" "));
  const d = [0, 1, 2, 3].map((j) => `vd${k}_${j}`);
  let r: string[];
  if (op === O.PSHUFD) r = [0, 1, 2, 3].map((j) => s[(imm >> (2 * j)) & 3]);
  else if (op === O.SHUF) {
    if (lane === 4) r = [d[imm & 3], d[(imm >> 2) & 3], s[(imm >> 4) & 3], s[(imm >> 6) & 3]];
    else {
      const q0 = 2 * (imm & 1);
      const q1 = 2 * ((imm >> 1) & 1);
      r = [d[q0], d[q0 + 1], s[q1], s[q1 + 1]];
    }
  } else {
    const h = op === O.PUNPCKH ? 2 : 0;
    r = lane === 4 ? [d[h], s[h], d[h + 1], s[h + 1]] : [d[h], d[h + 1], s[h], s[h + 1]];
  }
  setLanes(e, r);
  return true;
}

// ---- floating point ----

/** Element `j` of format `w` (4 or 8 bytes) of XMM register `r`, as a number. */
function regEl(w: number, r: number, j: number): string {
  return w === 8 ? `XF[${2 * r + j}]` : `XS[${4 * r + j}]`;
}

/** Element `j` of the source (register or MS) as a number. */
function srcEl(e: Emit, w: number, j: number): string {
  if (e.src !== L.MEM) return regEl(w, e.src, j);
  return w === 8 ? `MSF[${j}]` : `MSS[${j}]`;
}

/** add/sub/mul/div/min/max/sqrt, scalar and packed, single and double. */
function emitArith(e: Emit): boolean {
  const w = e.d & Vec.AUX;
  const fn = e.d >>> Vec.FN_SHIFT;
  const memSize = (e.d >> Vec.MEM_SHIFT) & 31;
  const n = memSize === w ? 1 : 16 / w;
  if (fn > FpFn.SQRT || (w !== 4 && w !== 8)) return false;
  prologue(e, true);
  if (e.src === L.MEM) readSource(e, memSize);
  const k = e.k;
  const lim = w === 8 ? MIN64 : MIN32;
  const conds: string[] = [];
  const rounds = fn !== FpFn.MIN && fn !== FpFn.MAX;
  if (rounds) conds.push(`(c.mxcsr & ${RN_PM_PE}) === ${RN_PM_PE_SET}`);
  const writes: string[] = [];
  for (let j = 0; j < n; j++) {
    const x = `vx${k}_${j}`;
    const y = `vy${k}_${j}`;
    const r = `vr${k}_${j}`;
    e.g.emit(`const ${x} = ${regEl(w, e.dst, j)}, ${y} = ${srcEl(e, w, j)};`);
    let v: string;
    let ok: string;
    const nz = (a: string): string => `NZ(${a}, ${lim})`;
    const res = `NR(${r}, ${lim})`;
    switch (fn) {
      case FpFn.ADD:
      case FpFn.SUB:
        v = `${x} ${fn === FpFn.ADD ? "+" : "-"} ${y}`;
        // A sum of doubles that is zero is exact.
        ok = `${nz(x)} && ${nz(y)} && (${r} === 0 || ${res})`;
        break;
      case FpFn.MUL:
        v = `${x} * ${y}`;
        ok = `${nz(x)} && ${nz(y)} && (${r} === 0 ? ${x} === 0 || ${y} === 0 : ${res})`;
        break;
      case FpFn.DIV:
        v = `${x} / ${y}`;
        ok = `${nz(x)} && ${y} !== 0 && ${nz(y)} && (${r} === 0 ? ${x} === 0 : ${res})`;
        break;
      case FpFn.MIN:
        // The source unless the destination is strictly smaller (zeros of either sign too).
        v = `${x} < ${y} ? ${x} : ${y}`;
        ok = `${nz(x)} && ${nz(y)}`;
        break;
      case FpFn.MAX:
        v = `${x} > ${y} ? ${x} : ${y}`;
        ok = `${nz(x)} && ${nz(y)}`;
        break;
      default:
        // sqrt of the source; −0 stays −0.
        v = `Math.sqrt(${y})`;
        ok = `(${y} === 0 || (${y} >= ${lim} && ${y} < Infinity))`;
    }
    if (w === 4 && rounds) v = `Math.fround(${v})`;
    e.g.emit(`const ${r} = ${v};`);
    conds.push(ok);
    writes.push(`${regEl(w, e.dst, j)} = ${r};`);
  }
  e.g.emit(`if (${conds.join(" && ")}) { ${writes.join(" ")} } else ${helperCall(e, "floatOp")}`);
  return true;
}

/** comisd/ucomisd/comiss/ucomiss: ZF, PF, CF from the compare; OF, SF, AF cleared. */
function emitCompareFlags(e: Emit): SseEmit {
  const w = e.d & Vec.AUX;
  const lim = w === 8 ? MIN64 : MIN32;
  prologue(e, true);
  if (e.src === L.MEM) readSource(e, w);
  const k = e.k;
  e.g.emit(`const vx${k} = ${regEl(w, e.dst, 0)}, vy${k} = ${srcEl(e, w, 0)};`);
  // Unordered 111, greater 000, less 001, equal 100 (ZF PF CF); the helper for NaN,
  // infinite and denormal operands (invalid, denormal exceptions).
  e.g.emit(
    `let vf${k} = 0; if (NZ(vx${k}, ${lim}) && NZ(vy${k}, ${lim})) vf${k} = vx${k} < vy${k} ? 1 : vx${k} === vy${k} ? 64 : 0;` +
      ` else { ${helperCall(e, "floatOp")} vf${k} = c.flags & 2261; }`,
  );
  e.g.pending = `c.lz = 0; c.flags = (c.flags & -2262) | vf${k};`;
  return SseEmit.Flags;
}

/** cvtsi2sd/ss, cvttsd2si/cvttss2si, cvtss2sd and cvtsd2ss. */
function emitConvert(e: Emit): boolean {
  const fn = e.d >>> Vec.FN_SHIFT;
  const wide = ((field(e.i, F.PACK) >> 12) & 15) === 8;
  const g = e.g;
  const k = e.k;
  const rn = `(c.mxcsr & ${RN_PM_PE}) === ${RN_PM_PE_SET}`;
  switch (fn) {
    case CvtFn.SI2SD:
    case CvtFn.SI2SS: {
      if (wide || (e.src !== L.MEM && (e.src < 0 || e.src >= 16))) return false;
      prologue(e, fn === CvtFn.SI2SS);
      if (e.src === L.MEM) readSource(e, 4);
      const v = e.src === L.MEM ? "MS[0]" : `(${g.lo(e.src)} | 0)`;
      // int32 to double is exact; to single it rounds (the helper unless exact or nearest).
      if (fn === CvtFn.SI2SD) g.emit(`XF[${2 * e.dst}] = ${v};`);
      else
        g.emit(
          `const vv${k} = ${v}, vr${k} = Math.fround(vv${k});` +
            ` if (vr${k} === vv${k} || ${rn}) XS[${4 * e.dst}] = vr${k};` +
            ` else { ${e.ctx.writeBack} ${helperCall(e, "floatOp")} }`,
        );
      return true;
    }
    case CvtFn.SD2SI + CvtFn.TRUNC:
    case CvtFn.SS2SI + CvtFn.TRUNC: {
      if (e.dst < 0 || e.dst >= 16) return false;
      const w = fn === CvtFn.SD2SI + CvtFn.TRUNC ? 8 : 4;
      const lim = w === 8 ? MIN64 : MIN32;
      prologue(e, true);
      if (e.src === L.MEM) readSource(e, w);
      const top = wide ? 9223372036854775808 : 2147483648;
      // In range and not denormal (whose result 0 is exact only under DAZ): truncate,
      // noting an inexact result when the precision exception is masked.
      g.emit(
        `const vx${k} = ${srcEl(e, w, 0)};` +
          ` if ((c.mxcsr & 4096) !== 0 && (vx${k} === 0 || (Math.abs(vx${k}) >= ${lim} && Math.abs(vx${k}) < ${top}))) {` +
          ` const vt${k} = Math.trunc(vx${k}); if (vt${k} !== vx${k}) c.mxcsr |= 32;` +
          (wide
            ? ` const vh${k} = Math.floor(vt${k} / 4294967296); ${g.lo(e.dst, true)} = (vt${k} - vh${k} * 4294967296) | 0; ${g.hi(e.dst, true)} = vh${k} | 0;`
            : ` ${g.lo(e.dst, true)} = vt${k} | 0; ${g.hi(e.dst, true)} = 0;`) +
          ` } else { ${e.ctx.writeBack} ${helperCall(e, "floatOp")} ${e.ctx.reload} }`,
      );
      return true;
    }
    case CvtFn.SS2SD: {
      prologue(e, true);
      if (e.src === L.MEM) readSource(e, 4);
      g.emit(
        `const vx${k} = ${srcEl(e, 4, 0)};` +
          ` if (NZ(vx${k}, ${MIN32})) XF[${2 * e.dst}] = vx${k}; else ${helperCall(e, "floatOp")}`,
      );
      return true;
    }
    case CvtFn.SD2SS: {
      prologue(e, true);
      if (e.src === L.MEM) readSource(e, 8);
      g.emit(
        `const vx${k} = ${srcEl(e, 8, 0)}, vr${k} = Math.fround(vx${k});` +
          ` if (${rn} && NZ(vx${k}, ${MIN64}) && (vr${k} === 0 ? vx${k} === 0 : NR(vr${k}, ${MIN32}))) XS[${4 * e.dst}] = vr${k};` +
          ` else ${helperCall(e, "floatOp")}`,
      );
      return true;
    }
    default:
      return false;
  }
}

// ---- x87 register moves ----

/**
 * fld ST(i), fxch, fst/fstp ST(i), fld m32fp/m64fp, fild m32int and fcomi/fucomi(p)
 * inline: when no
 * unmasked x87 exception is pending and the stack has what the instruction needs (no
 * stack fault), and the values are zeros or normals (no invalid or denormal operand), the
 * registers move as x87.ts moves them (C1 cleared; kept by the compares); otherwise the
 * interpreter's `x87Op` runs the instruction. FOP, FIP and FDP are set before the memory
 * read, as x87Op sets them.
 */
function emitX87(e: Emit): SseEmit {
  const ext = field(e.i, F.X_EXT);
  const opc = (ext >> 8) & 7;
  const m = ext & 0xff;
  const reg = (m >> 3) & 7;
  const st = m & 7;
  const mem = m < 0xc0;
  let kind: string;
  if (mem) {
    if (reg !== 0 || (opc !== 1 && opc !== 5 && opc !== 3)) return SseEmit.No;
    kind = opc === 1 ? "m32" : opc === 5 ? "m64" : "i32";
  } else if (opc === 1 && reg === 0) kind = "fld";
  else if (opc === 1 && reg === 1) kind = "fxch";
  else if (opc === 5 && (reg === 2 || reg === 3)) kind = reg === 3 ? "fstp" : "fst";
  else if ((opc === 3 || opc === 7) && (reg === 5 || reg === 6)) kind = "fcomi";
  else return SseEmit.No;
  const g = e.g;
  const k = e.k;
  g.flush();
  if (!x87Checked.has(g)) g.emit(`if ((c.cr0 & ${FpuCr.EM | FpuCr.TS}) !== 0) x87Available(c);`);
  const at = e.ctx.hrec.length;
  for (let f = 0; f < F.SLOT; f++) e.ctx.hrec.push(e.i.rec[e.i.b + f]);
  const ea = mem ? `e${k}l, e${k}h` : "0, 0";
  const helper = `x87Op(c, HREC, ${at}, ${ea}, (ripLo + ${e.i.off}) | 0, ripHi);`;
  const sg = field(e.i, F.SEG);
  const fop =
    `c.fop = ${(opc << 8) | (field(e.i, D.MODRM) & 0xff)}; c.fipLo = (ripLo + ${e.i.off}) | 0;` +
    ` c.fipHi = ripHi; c.fcs = c.sel[${Seg.CS}];` +
    (mem ? ` c.fdpLo = e${k}l; c.fdpHi = e${k}h; c.fds = c.sel[${sg >= 0 ? sg : Seg.DS}];` : "");
  const t = `vt${k}`;
  // Physical registers: p(j) of ST(j); the tag bit of each (1 valid).
  const p = (j: number): string => (j === 0 ? t : `((${t} + ${j}) & 7)`);
  const tag = (j: number): string => `((c.ftw >> ${p(j)}) & 1)`;
  // Copies physical register `from` to `to` and tags it valid.
  const copy = (from: string, to: string): string =>
    `FM[2 * ${to}] = FM[2 * ${from}]; FM[2 * ${to} + 1] = FM[2 * ${from} + 1]; FS[${to}] = FS[${from}]; c.ftw |= 1 << ${to};`;
  const clearC1 = `c.fsw &= ${~X87Flag.C1};`;
  // In a scope of its own: FM and FS are the same names in every x87 instruction.
  if (kind === "fcomi") g.emit(`let vf${k} = 0;`);
  g.emit(`{ const ${t} = c.ftop, FM = c.fpuMant, FS = c.fpuSignExp;`);
  const ok = `(c.fsw & ~c.fcw & ${Fsw.EXCEPTIONS}) === 0`;
  switch (kind) {
    case "fxch": {
      const q = p(st);
      g.emit(
        `if (${ok} && ${tag(0)} !== 0 && ${tag(st)} !== 0) { ${fop}` +
          ` const q = ${q}, a0 = FM[2 * ${t}], a1 = FM[2 * ${t} + 1], a2 = FS[${t}];` +
          ` ${copy("q", t)} FM[2 * q] = a0; FM[2 * q + 1] = a1; FS[q] = a2; ${clearC1} } else ${helper}`,
      );
      break;
    }
    case "fst":
    case "fstp":
      g.emit(
        `if (${ok} && ${tag(0)} !== 0) { ${fop} const q = ${p(st)}; ${copy(t, "q")}` +
          (kind === "fstp" ? ` c.ftw &= ~(1 << ${t}); c.ftop = (${t} + 1) & 7;` : "") +
          ` ${clearC1} } else ${helper}`,
      );
      break;
    case "fcomi": {
      // fcomi/fucomi (DB), fcomip/fucomip (DF) of zeros and normals: ordered, no
      // exception; C1 is left as it was. ZF, PF, CF from the compare, OF, SF, AF cleared.
      const q = p(st);
      const kind = (se: string, hi: string, lo: string): string =>
        `((${se} & 32767) === 0 ? ((${hi} | ${lo}) === 0 ? 0 : 2) : (${se} & 32767) !== 32767 && ${hi} < 0 ? 1 : 2)`;
      g.emit(
        `if (${ok} && ${tag(0)} !== 0 && ${tag(st)} !== 0) {` +
          ` const q = ${q}, as = FS[${t}], ah = FM[2 * ${t} + 1], al = FM[2 * ${t}], bs = FS[q], bh = FM[2 * q + 1], bl = FM[2 * q];` +
          ` const ka = ${kind("as", "ah", "al")}, kb = ${kind("bs", "bh", "bl")};` +
          ` if ((ka | kb) < 2) { ${fop}` +
          ` let r = 0;` +
          ` if (ka === 0 && kb === 0) r = 0;` +
          ` else if (ka === 0) r = bs >= 32768 ? 1 : -1;` +
          ` else if (kb === 0) r = as >= 32768 ? -1 : 1;` +
          ` else if ((as ^ bs) >= 32768) r = as >= 32768 ? -1 : 1;` +
          ` else { const ea = as & 32767, eb = bs & 32767;` +
          ` r = ea !== eb ? (ea > eb ? 1 : -1) : ah !== bh ? (ah >>> 0 > bh >>> 0 ? 1 : -1) : al !== bl ? (al >>> 0 > bl >>> 0 ? 1 : -1) : 0;` +
          ` if (as >= 32768) r = -r; }` +
          ` vf${k} = r === 0 ? 64 : r < 0 ? 1 : 0;` +
          (opc === 7 ? ` c.ftw &= ~(1 << ${t}); c.ftop = (${t} + 1) & 7;` : "") +
          ` } else { ${helper} vf${k} = c.flags & 2261; } } else { ${helper} vf${k} = c.flags & 2261; }`,
      );
      break;
    }
    case "fld":
      g.emit(
        `if (${ok} && ${tag(st)} !== 0 && ${tag(7)} === 0) { ${fop} const q = ${p(7)};` +
          ` ${copy(p(st), "q")} c.ftop = q; ${clearC1} } else ${helper}`,
      );
      break;
    default: {
      // fld m32fp / m64fp: B as x87.ts loadF32/loadF64 make it, for zeros and normals;
      // fild m32int as loadInt makes it.
      g.emit(`if (${ok} && ${tag(7)} === 0) { ${fop}`);
      readSource(e, kind === "m64" ? 8 : 4);
      const set = (se: string, hi: string, lo: string): string =>
        `{ const q = ${p(7)}; FS[q] = ${se}; FM[2 * q + 1] = ${hi}; FM[2 * q] = ${lo}; c.ftw |= 1 << q; c.ftop = q; ${clearC1} }`;
      if (kind === "i32")
        // fild m32int: exact; the magnitude normalized to the top of the significand.
        g.emit(
          `const v = MS[0];` +
            ` if (v === 0) ${set("0", "0", "0")}` +
            ` else { const a = v < 0 ? -v >>> 0 : v, z = Math.clz32(a);` +
            ` ${set("((v >>> 31) << 15) | (16414 - z)", "(a << z) | 0", "0")} } } else ${helper}`,
        );
      else if (kind === "m32")
        g.emit(
          `const v = MS[0], x = (v >>> 23) & 255;` +
            ` if (x !== 0 && x !== 255) ${set("((v >>> 31) << 15) | (x + 16256)", "0x80000000 | (v << 8)", "0")}` +
            ` else if ((v & 0x7fffffff) === 0) ${set("(v >>> 31) << 15", "0", "0")}` +
            ` else ${helper} } else ${helper}`,
        );
      else
        g.emit(
          `const lo = MS[0], hi = MS[1], x = (hi >>> 20) & 2047;` +
            ` if (x !== 0 && x !== 2047) ${set("((hi >>> 31) << 15) | (x + 15360)", "0x80000000 | ((hi & 0xfffff) << 11) | (lo >>> 21)", "lo << 11")}` +
            ` else if (((hi & 0x7fffffff) | lo) === 0) ${set("(hi >>> 31) << 15", "0", "0")}` +
            ` else ${helper} } else ${helper}`,
        );
    }
  }
  g.emit("}");
  x87Checked.add(g);
  if (kind !== "fcomi") return SseEmit.Done;
  g.pending = `c.lz = 0; c.flags = (c.flags & -2262) | vf${k};`;
  return SseEmit.Flags;
}

/**
 * Emits SSE or x87 instruction `i` (the `k`th of its block) inline when it is one this
 * module compiles: XMM operands only (MMX forms are left to the helpers), memory through
 * the address the block computed into `e{k}l`/`e{k}h`.
 */
export function emitSse(g: SseGen, i: SseInsn, k: number, ctx: SseContext): SseEmit {
  if (!LITTLE_ENDIAN) return SseEmit.No;
  const d = i.rec[i.b + F.X_EXT];
  if (i.op === O.X87) {
    const x: Emit = { g, i, k, ctx, d, dst: 0, src: 0 };
    return emitX87(x);
  }
  if ((d & (Vec.DST_MM | Vec.SRC_MM)) !== 0 || (d & Vec.XMM) === 0) return SseEmit.No;
  const e: Emit = { g, i, k, ctx, d, dst: field(i, F.X_DST), src: field(i, F.X_SRC) };
  // Vector operands are XMM registers 0–15 or memory.
  let ok: boolean;
  switch (i.op) {
    case O.VMOV:
      ok = emitMove(e);
      break;
    case O.VMOVS:
      ok = emitMoveScalar(e);
      break;
    case O.VMOVQ:
      ok = emitMoveQ(e);
      break;
    case O.VMOVD:
      ok = emitMoveD(e);
      break;
    case O.PAND:
    case O.PANDN:
    case O.POR:
    case O.PXOR:
    case O.PADD:
    case O.PSUB:
      ok = emitInteger(e);
      break;
    case O.PSHUFD:
    case O.SHUF:
    case O.PUNPCKL:
    case O.PUNPCKH:
      ok = emitShuffle(e);
      break;
    case O.FARITH:
      ok = emitArith(e);
      break;
    case O.FCOMI: {
      const r = emitCompareFlags(e);
      checked.add(g);
      return r;
    }
    case O.FCVT:
      ok = emitConvert(e);
      break;
    default:
      ok = false;
  }
  if (!ok) return SseEmit.No;
  checked.add(g);
  return SseEmit.Done;
}
