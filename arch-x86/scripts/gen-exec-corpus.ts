/**
 * Regenerates arch-x86/src/corpus/exec-*.json: random instruction sequences with their
 * initial registers, flags and scratch buffer, and the final state after running them
 * NATIVELY on this x86_64 host — the oracle for exec-corpus.test.ts.
 *
 *   node --conditions=source --import tsx arch-x86/scripts/gen-exec-corpus.ts [seed] [--only=a,b]
 *
 * Each category draws from its own xorshift stream, seeded from the base seed (default 1)
 * and the category's name (`seedCategory`): a category's file depends only on its generator,
 * its count and the seed, so adding, reordering or skipping categories leaves the others'
 * cases as they are, and `--only` (which rewrites just the named categories) gives them
 * exactly as a full run does. Every file records the `host` it was generated on; the test
 * checks the host's choices for undefined flags beyond the `undef` mask only where that host
 * is an Intel CPU (hvkit reproduces Intel's). The committed files all come from an AMD EPYC
 * host: the integer categories, `vector` (MMX and SSE/SSE2 moves and integer operations),
 * `float` (SSE–SSE4.1 floating point from float-shaped operands — zeros, denormals,
 * infinities, NaNs, integer-conversion edges — under random MXCSR rounding, DAZ, FZ, masks
 * and sticky flags), `ssex` (SSE3, SSSE3, SSE4.1/4.2 integer and string operations,
 * crc32, popcnt), `x87`, `x87trans` and `compat`. `float` keeps the cases that raise #XM (`fault`, `faultAt`: the offset
 * of the faulting instruction) with the registers and FXSAVE image the kernel saved.
 *
 * The `compat` category is 32-bit code (assembled with .code32) that the harness runs in
 * compatibility mode: each case's code is the sequence wrapped by `compatWrap`, a far jump
 * to Linux's 32-bit user code segment and one back, so the native run and the emulator
 * (given the same GDT entries) execute the same bytes.
 *
 * Needs gcc and GNU as/objcopy/nm. Steps: generate sequences (seeded xorshift PRNG) as AT&T
 * assembly; assemble them all into one object with a label before and after each; cut each
 * sequence's bytes out of the flat .text; run them in exec-harness.c (compiled into a
 * temporary directory), which loads registers and RFLAGS, jumps to the bytes at a fixed
 * address and saves everything back; write JSON.
 *
 * Each case also starts from an FXSAVE64 image (x87/MMX registers and tags, MXCSR, XMM0–15):
 * FNINIT state and zero registers for the integer categories, random register contents for
 * `vector`, whose cases record it (`fxIn`, bytes 0–415) and the bytes fxsave64 gives after
 * the sequence that differ (`fxOut`, runs like `bufOut`; MXCSR_MASK, bytes 28–31, is the
 * host's and left out).
 *
 * Registers rbx (the buffer base, 0x200000) and rsp (0x200100, the top of the buffer's
 * stack half) are never destinations of generated instructions. Memory operands stay inside
 * the 256-byte buffer. Operands that would fault (#DE) or give undefined results (zero
 * source of bsf/bsr, 16-bit shld/shrd counts above 16, 16-bit bswap) are not generated.
 *
 * Flags the SDM leaves undefined: each instruction carries the set it leaves undefined
 * (UNDEF below, per Op and count); the sequence's `undef` mask is what is still undefined
 * at the end, and the test ignores those bits. An instruction that reads flags (adc, sbb,
 * rcl, rcr, setcc, cmovcc, jcc, pushf, lahf, cmc) while some are undefined is preceded by
 * a `cmp` that defines all six. Native execution shows one real CPU's choice (recorded in
 * the JSON's `host`); the masked bits are where another CPU may differ.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { REG64_NAMES } from "../src/cpu-api.js";
import { CC_NAMES } from "../src/table.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT_DIR = join(HERE, "../src/corpus");
const DATA = 0x200000n;
const RSP0 = DATA + 0x100n;
const BUF = 256;
const DATA_BYTES = 128;

const CF = 1,
  PF = 4,
  AF = 0x10,
  ZF = 0x40,
  SF = 0x80,
  OF = 0x800;
const ALL = CF | PF | AF | ZF | SF | OF;

// ---- PRNG ----
const MASK64 = 0xffffffffffffffffn;
/** The xorshift64 state; {@link seedCategory} sets it before each category is drawn. */
let state = 0x9e3779b97f4a7c15n;
/**
 * Starts `name`'s own stream: the state is splitmix64's finalizer of the base seed times an
 * odd constant xor the FNV-1a hash of the category name, so a category's cases depend only
 * on its generator, its count and the base seed, not on which categories come before it.
 */
function seedCategory(seed: bigint, name: string): void {
  let h = 0xcbf29ce484222325n;
  for (const ch of Buffer.from(name, "utf8")) h = ((h ^ BigInt(ch)) * 0x100000001b3n) & MASK64;
  let z = ((((seed * 0x2545f4914f6cdd1dn) & MASK64) ^ h) + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  z ^= z >> 31n;
  state = z === 0n ? 0x9e3779b97f4a7c15n : z;
}
function next64(): bigint {
  state ^= (state << 13n) & 0xffffffffffffffffn;
  state ^= state >> 7n;
  state ^= (state << 17n) & 0xffffffffffffffffn;
  return state;
}
function rnd(n: number): number {
  return Number(next64() % BigInt(n));
}
function pick<T>(a: readonly T[]): T {
  return a[rnd(a.length)];
}
const EDGE = [
  0n,
  1n,
  2n,
  0x7fn,
  0x80n,
  0xffn,
  0x7fffn,
  0x8000n,
  0xffffn,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x7fffffffffffffffn,
  0x8000000000000000n,
  0xffffffffffffffffn,
  0xfffffffffffffffen,
  0x100000000n,
];
function value64(): bigint {
  const k = rnd(8);
  if (k < 3) return pick(EDGE);
  if (k < 5) return BigInt(rnd(256));
  if (k < 6) return next64() & 0xffffffffn;
  return next64();
}

// ---- registers ----
const R64 = REG64_NAMES;
const R32 = [
  "eax",
  "ecx",
  "edx",
  "ebx",
  "esp",
  "ebp",
  "esi",
  "edi",
  ...[8, 9, 10, 11, 12, 13, 14, 15].map((i) => `r${i}d`),
];
const R16 = [
  "ax",
  "cx",
  "dx",
  "bx",
  "sp",
  "bp",
  "si",
  "di",
  ...[8, 9, 10, 11, 12, 13, 14, 15].map((i) => `r${i}w`),
];
const R8 = [
  "al",
  "cl",
  "dl",
  "bl",
  "spl",
  "bpl",
  "sil",
  "dil",
  ...[8, 9, 10, 11, 12, 13, 14, 15].map((i) => `r${i}b`),
];
const WRITABLE = [0, 1, 2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const SUFFIX: Record<number, string> = { 1: "b", 2: "w", 4: "l", 8: "q" };
const SIZES = [1, 2, 4, 8];

function reg(i: number, sz: number): string {
  return "%" + (sz === 8 ? R64 : sz === 4 ? R32 : sz === 2 ? R16 : R8)[i];
}
function wreg(sz: number): string {
  return reg(pick(WRITABLE), sz);
}
function mem(sz: number): string {
  return `${rnd(DATA_BYTES - sz + 1)}(%rbx)`;
}
function imm(sz: number): string {
  const v = value64();
  const bits = BigInt(Math.min(sz, 4) * 8);
  return `$${(v & ((1n << bits) - 1n)).toString()}`;
}

/** One generated instruction: its text and its flag effects. */
interface Insn {
  text: string;
  /** Flags left undefined by this instruction. */
  undef: number;
  /** Flags it writes with defined values. */
  def: number;
  /** Flags it reads. */
  reads: number;
}
const I = (text: string, def = 0, undef = 0, reads = 0): Insn => ({ text, def, undef, reads });

// ---- generators per category (each returns a short list, preludes included) ----
type Gen = () => Insn[];

const ALU_OPS = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp", "test"];
const alu: Gen = () => {
  const op = pick(ALU_OPS);
  const sz = pick(SIZES);
  const s = SUFFIX[sz];
  const logical = op === "and" || op === "or" || op === "xor" || op === "test";
  const reads = op === "adc" || op === "sbb" ? CF : 0;
  const def = logical ? ALL & ~AF : ALL;
  const undef = logical ? AF : 0;
  const form = rnd(6);
  let text: string;
  if (form === 0 && sz !== 8) text = `${op}${s} ${imm(sz)}, ${reg(0, sz)}`;
  else if (form === 0 || form === 1) text = `${op}${s} ${imm(sz)}, ${wreg(sz)}`;
  else if (form === 2) text = `${op}${s} ${imm(sz)}, ${mem(sz)}`;
  else if (form === 3) text = `${op}${s} ${mem(sz)}, ${wreg(sz)}`;
  else if (form === 4 && op !== "test") text = `${op}${s} ${wreg(sz)}, ${mem(sz)}`;
  else text = `${op}${s} ${wreg(sz)}, ${wreg(sz)}`;
  if (sz === 8 && text.startsWith(`${op}q $`)) {
    // imm32 sign-extended: keep values the assembler accepts.
    text = `${op}q $${rnd(2) ? -rnd(0x80000000) : rnd(0x80000000)}, ${text.split(", ")[1]}`;
  }
  if (sz === 1 && rnd(5) === 0)
    text = `${op}b ${pick(["%ah", "%ch", "%dh", "%al", "%cl", "%dl"])}, ${pick(["%ah", "%ch", "%dh"])}`;
  return [I(text, def, undef, reads)];
};

const unary: Gen = () => {
  const op = pick(["inc", "dec", "neg", "not"]);
  const sz = pick(SIZES);
  const dst = rnd(3) === 0 ? mem(sz) : wreg(sz);
  const def = op === "not" ? 0 : op === "neg" ? ALL : ALL & ~CF;
  return [I(`${op}${SUFFIX[sz]} ${dst}`, def)];
};

const shifts: Gen = () => {
  const op = pick(["rol", "ror", "rcl", "rcr", "shl", "shr", "sar"]);
  const sz = pick(SIZES);
  const bits = sz * 8;
  const dst = rnd(4) === 0 ? mem(sz) : wreg(sz);
  const k = rnd(10);
  let count =
    k < 2 ? 1 : k < 3 ? 0 : k < 5 ? pick([bits - 1, bits, bits + 1, 31, 32, 63]) : rnd(64);
  const masked = count & (sz === 8 ? 63 : 31);
  const pre: Insn[] = [];
  let text: string;
  const viaCl = rnd(2) === 0;
  if (viaCl) {
    pre.push(I(`movb $${count}, %cl`));
    text = `${op}${SUFFIX[sz]} %cl, ${dst.replace("%cl", "%dl").replace("%cx", "%dx").replace("%ecx", "%edx").replace("%rcx", "%rdx")}`;
  } else if (count === 1 && rnd(2) === 0) text = `${op}${SUFFIX[sz]} ${dst}`;
  else text = `${op}${SUFFIX[sz]} $${count}, ${dst}`;
  count = masked;
  const rot = op.startsWith("ro") || op.startsWith("rc");
  const reads = op === "rcl" || op === "rcr" ? CF : 0;
  if (masked === 0) return [...pre, I(text, 0, 0, reads)];
  let undef = 0;
  let def: number;
  if (rot) {
    def = CF | OF;
    if (masked !== 1) {
      undef = OF;
      def = CF;
    }
  } else {
    def = ALL & ~AF;
    undef = AF;
    if (masked !== 1) {
      undef |= OF;
      def &= ~OF;
    }
    if ((op === "shl" || op === "shr") && masked >= bits) {
      undef |= CF;
      def &= ~CF;
    }
  }
  return [...pre, I(text, def, undef, reads)];
};

const dshift: Gen = () => {
  const op = pick(["shld", "shrd"]);
  const sz = pick([2, 4, 8]);
  const max = sz === 2 ? 16 : sz === 4 ? 31 : 63;
  const count = rnd(4) === 0 ? pick([0, 1, max]) : rnd(max + 1);
  const dst = rnd(3) === 0 ? mem(sz) : reg(pick(WRITABLE.filter((r) => r !== 1)), sz);
  const src = reg(pick(WRITABLE.filter((r) => r !== 1)), sz);
  const pre: Insn[] = [];
  let text: string;
  if (rnd(2) === 0) {
    pre.push(I(`movb $${count}, %cl`));
    text = `${op}${SUFFIX[sz]} %cl, ${src}, ${dst}`;
  } else text = `${op}${SUFFIX[sz]} $${count}, ${src}, ${dst}`;
  if (count === 0) return [...pre, I(text)];
  return [...pre, I(text, count === 1 ? ALL & ~AF : ALL & ~AF & ~OF, count === 1 ? AF : AF | OF)];
};

const muldiv: Gen = () => {
  const k = rnd(6);
  const sz = pick(SIZES);
  const s = SUFFIX[sz];
  if (k === 0 || k === 1) {
    const op = k === 0 ? "mul" : "imul";
    const src = rnd(3) === 0 ? mem(sz) : wreg(sz);
    return [I(`${op}${s} ${src}`, CF | OF, SF | ZF | AF | PF)];
  }
  if (k === 2) {
    const sz2 = pick([2, 4, 8]);
    const dst = wreg(sz2);
    if (rnd(2) === 0)
      return [
        I(
          `imul${SUFFIX[sz2]} ${rnd(2) ? mem(sz2) : wreg(sz2)}, ${dst}`,
          CF | OF,
          SF | ZF | AF | PF,
        ),
      ];
    const im = rnd(2) ? rnd(256) - 128 : rnd(0x10000) - 0x8000;
    return [
      I(
        `imul${SUFFIX[sz2]} $${im}, ${rnd(2) ? mem(sz2) : wreg(sz2)}, ${dst}`,
        CF | OF,
        SF | ZF | AF | PF,
      ),
    ];
  }
  // div / idiv: divisor in a register other than rax/rdx, dividend set so no #DE.
  const signed = k >= 4;
  const dr = pick([1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  const bits = BigInt(sz * 8);
  const mask = (1n << bits) - 1n;
  let d = value64() & mask;
  if (d === 0n) d = 3n;
  const pre: Insn[] = [];
  const dreg = reg(dr, sz);
  pre.push(I(`mov${sz === 8 ? "abs" : ""}${s} $${d}, ${dreg}`));
  if (!signed) {
    // High half below the divisor.
    const hi = (value64() & mask) % d;
    if (sz === 1) pre.push(I(`movb $${hi}, %ah`));
    else pre.push(I(`mov${sz === 8 ? "abs" : ""}${s} $${hi}, ${reg(2, sz)}`));
    return [...pre, I(`div${s} ${dreg}`, 0, ALL)];
  }
  // Sign-extend the accumulator into the high half; avoid MIN / -1.
  const sd = d >= 1n << (bits - 1n) ? d - (1n << bits) : d;
  if (sd === -1n) pre.push(I(`mov${s} $1, ${reg(0, sz)}`));
  pre.push(I(sz === 1 ? "cbtw" : sz === 2 ? "cwtd" : sz === 4 ? "cltd" : "cqto"));
  return [...pre, I(`idiv${s} ${dreg}`, 0, ALL)];
};

const bitops: Gen = () => {
  const k = rnd(3);
  const sz = pick([2, 4, 8]);
  const s = SUFFIX[sz];
  if (k === 0) {
    const op = pick(["bt", "bts", "btr", "btc"]);
    const f = rnd(4);
    if (f === 0) return [I(`${op}${s} $${rnd(256)}, ${wreg(sz)}`, CF, OF | SF | AF | PF)];
    if (f === 1) return [I(`${op}${s} $${rnd(256)}, ${mem(sz)}`, CF, OF | SF | AF | PF)];
    if (f === 2) return [I(`${op}${s} ${wreg(sz)}, ${wreg(sz)}`, CF, OF | SF | AF | PF)];
    // Register offset into memory: offset in [-256, 511] bits around the buffer's middle.
    const ir = pick([6, 7, 8, 9, 10]);
    return [
      I(`mov${s} $${rnd(768) - 256}, ${reg(ir, sz)}`),
      I(`${op}${s} ${reg(ir, sz)}, 48(%rbx)`, CF, OF | SF | AF | PF),
    ];
  }
  if (k === 1) {
    const op = pick(["bsf", "bsr", "tzcnt", "lzcnt", "popcnt"]);
    const sr = pick(WRITABLE);
    const pre: Insn[] = [];
    let nonzero = value64() & ((1n << BigInt(sz * 8)) - 1n);
    if (nonzero === 0n && (op === "bsf" || op === "bsr")) nonzero = 0x10n;
    const fromMem = rnd(3) === 0;
    if (!fromMem) pre.push(I(`mov${sz === 8 ? "abs" : ""}${s} $${nonzero}, ${reg(sr, sz)}`));
    else if (op === "bsf" || op === "bsr")
      pre.push(I(`mov${s} $${Number(nonzero & 0x7fffn) | 1}, 64(%rbx)`));
    const src = fromMem ? "64(%rbx)" : reg(sr, sz);
    const flags =
      op === "popcnt"
        ? [ALL, 0]
        : op === "tzcnt" || op === "lzcnt"
          ? [CF | ZF, OF | SF | AF | PF]
          : [ZF, CF | OF | SF | AF | PF];
    return [...pre, I(`${op}${s} ${src}, ${wreg(sz)}`, flags[0], flags[1])];
  }
  const szb = pick([4, 8]);
  return [I(`bswap ${wreg(szb)}`)];
};

const conds: Gen = () => {
  const k = rnd(4);
  const cc = pick(CC_NAMES);
  if (k === 0) return [I(`set${cc} ${rnd(3) === 0 ? mem(1) : wreg(1)}`, 0, 0, ALL)];
  if (k === 1) {
    const sz = pick([2, 4, 8]);
    return [
      I(`cmov${cc}${SUFFIX[sz]} ${rnd(3) === 0 ? mem(sz) : wreg(sz)}, ${wreg(sz)}`, 0, 0, ALL),
    ];
  }
  if (k === 2) {
    const r = wreg(4);
    return [I(`j${cc} 1f`, 0, 0, ALL), I(`addl $${rnd(1000)}, ${r}`, ALL), I("1:")];
  }
  return [I(pick(["clc", "stc", "cmc"]), CF, 0, CF), I(`adcl $0, ${wreg(4)}`, ALL, 0, CF)];
};

const moves: Gen = () => {
  const k = rnd(7);
  if (k === 0) {
    const dsz = pick([2, 4, 8]);
    const ssz = pick([1, 2].filter((x) => x < dsz));
    const zx = rnd(2) === 0;
    const src =
      rnd(3) === 0
        ? mem(ssz)
        : rnd(6) === 0 && ssz === 1 && dsz !== 8
          ? pick(["%ah", "%ch", "%dh"])
          : wreg(ssz);
    const dst = /^%[acd]h$/.test(src) ? reg(pick([0, 1, 2, 5, 6, 7]), dsz) : wreg(dsz);
    const mn = `mov${zx ? "z" : "s"}${SUFFIX[ssz]}${SUFFIX[dsz]}`;
    return [I(`${mn} ${src}, ${dst}`)];
  }
  if (k === 1) return [I(`movslq ${rnd(3) === 0 ? mem(4) : wreg(4)}, ${wreg(8)}`)];
  if (k === 2) {
    const sz = pick([2, 4, 8]);
    const forms = [
      `${rnd(256) - 128}(%rbx)`,
      `${rnd(100000)}(%rbx,${reg(pick(WRITABLE), 8)},${pick([1, 2, 4, 8])})`,
      `(${reg(pick(WRITABLE), 8)},${reg(pick(WRITABLE), 8)})`,
      `${rnd(0x7fffffff)}(,${reg(pick(WRITABLE), 8)},${pick([1, 2, 4, 8])})`,
      `${rnd(1000)}(%rip)`,
      `-${rnd(1000)}(%rip)`,
      `${rnd(200)}(%ebx,%eax,2)`,
    ];
    return [I(`lea${SUFFIX[sz]} ${pick(forms)}, ${wreg(sz)}`)];
  }
  if (k === 3) {
    const sz = pick(SIZES);
    const s = SUFFIX[sz];
    const op = pick(["xchg", "xadd", "cmpxchg"]);
    const flags = op === "xchg" ? 0 : ALL;
    const lock = op !== "xchg" && rnd(2) === 0 ? "lock " : "";
    const dst = rnd(2) === 0 ? mem(sz) : wreg(sz);
    const pre: Insn[] = [];
    if (op === "cmpxchg" && rnd(2) === 0 && dst.includes("("))
      pre.push(I(`mov${s} ${dst}, ${reg(0, sz)}`));
    return [...pre, I(`${dst.includes("(") ? lock : ""}${op}${s} ${wreg(sz)}, ${dst}`, flags)];
  }
  if (k === 4) {
    return [I(pick(["cbtw", "cwtl", "cltq", "cwtd", "cltd", "cqto"]))];
  }
  if (k === 5) {
    // lahf / sahf
    return rnd(2) === 0 ? [I("lahf", 0, 0, ALL)] : [I("sahf", CF | PF | AF | ZF | SF)];
  }
  const sz = pick(SIZES);
  const s = SUFFIX[sz];
  if (sz === 8 && rnd(2) === 0) return [I(`movabsq $${value64()}, ${wreg(8)}`)];
  const src =
    rnd(2) === 0
      ? `$${sz === 8 ? rnd(0x7fffffff) - 0x40000000 : BigInt.asUintN(sz * 8, value64())}`
      : wreg(sz);
  return [I(`mov${s} ${src}, ${rnd(2) ? mem(sz) : wreg(sz)}`)];
};

const strings: Gen = () => {
  const op = pick(["movs", "stos", "lods", "cmps", "scas"]);
  const sz = pick(SIZES);
  const cond = op === "cmps" || op === "scas";
  const rep = rnd(3) === 0 ? "" : cond ? pick(["repe ", "repne "]) : "rep ";
  const pre: Insn[] = [
    I(rnd(4) === 0 ? "std" : "cld"),
    I(`lea ${40 + rnd(48)}(%rbx), %rsi`),
    I(`lea ${40 + rnd(48)}(%rbx), %rdi`),
  ];
  const count = rnd(6);
  if (rep) pre.push(I(`mov $${count}, %ecx`));
  // With rep and a zero count nothing executes and the flags keep their values.
  const def = cond && (!rep || count > 0) ? ALL : 0;
  return [...pre, I(`${rep}${op}${SUFFIX[sz]}`, def), I("cld")];
};

const stack: Gen = () => {
  const k = rnd(6);
  if (k === 0) return [I(`push ${reg(pick(WRITABLE), 8)}`), I(`pop ${wreg(8)}`)];
  if (k === 1)
    return [I(`pushq $${rnd(2) ? rnd(128) - 64 : rnd(0x7fffffff)}`), I(`popq ${mem(8)}`)];
  if (k === 2) return [I(`pushq ${mem(8)}`), I(`pop ${wreg(8)}`)];
  if (k === 3) return [I("pushfq", 0, 0, ALL), I(`pop ${wreg(8)}`)];
  if (k === 4) return [I(`pushw ${reg(pick(WRITABLE), 2)}`), I(`popw ${wreg(2)}`)];
  return [I(`lea ${64 + rnd(32)}(%rbx), %rbp`), I(`enter $${rnd(32)}, $${rnd(3)}`), I("leave")];
};

const misc: Gen = () => {
  const k = rnd(4);
  if (k === 0) return [I(`movb $${rnd(120)}, %al`), I("xlatb")];
  if (k === 1) {
    const wide = rnd(2) === 0;
    const pre: Insn[] = [];
    if (rnd(2) === 0)
      pre.push(
        I(`mov${wide ? "q" : "l"} 64(%rbx), ${wide ? "%rax" : "%eax"}`),
        I(`mov${wide ? "q" : "l"} 72(%rbx), ${wide ? "%rdx" : "%edx"}`),
      );
    return [...pre, I(`${wide ? "cmpxchg16b" : "cmpxchg8b"} 64(%rbx)`, ZF)];
  }
  if (k === 2)
    return [
      I(`mov $${1 + rnd(4)}, %ecx`),
      I("1:"),
      I(`addl $3, ${reg(pick(WRITABLE.filter((r) => r !== 1)), 4)}`, ALL),
      I("loop 1b"),
    ];
  return [I(`mov $${rnd(2)}, %ecx`), I("jrcxz 1f"), I(`incl ${wreg(4)}`, ALL & ~CF), I("1:")];
};

// ---- 32-bit code (compatibility mode) ----
/** 32-bit registers the compat category may write (not esp, not ebx: the buffer base). */
const W32 = [0, 1, 2, 5, 6, 7];
const creg = (sz: number): string => reg(pick(W32), sz);
const cmem = (sz: number): string => `${rnd(DATA_BYTES - sz + 1)}(%ebx)`;

/** Instructions of 32-bit code: the forms 64-bit mode lacks, and 32-bit stack, call and addressing. */
const compat: Gen = () => {
  const k = rnd(14);
  if (k === 0) return [I("daa", ALL & ~OF, OF, AF | CF)];
  if (k === 1) return [I("das", ALL & ~OF, OF, AF | CF)];
  if (k === 2) return [I("aaa", AF | CF, OF | SF | ZF | PF, AF)];
  if (k === 3) return [I("aas", AF | CF, OF | SF | ZF | PF, AF)];
  if (k === 4) return [I(`aam $${1 + rnd(255)}`, SF | ZF | PF, OF | AF | CF)];
  if (k === 5) return [I(`aad $${rnd(256)}`, SF | ZF | PF, OF | AF | CF)];
  if (k === 6) {
    const w = rnd(2) === 0;
    if (rnd(2) === 0)
      return [
        I(w ? "pushaw" : "pushal"),
        I(`movl $${rnd(1000)}, ${creg(4)}`),
        I(w ? "popaw" : "popal"),
      ];
    return [
      I(w ? "pushaw" : "pushal"),
      I(w ? `movw 4(%esp), ${creg(2)}` : `movl 12(%esp), ${creg(4)}`),
    ];
  }
  if (k === 7)
    return [
      I(`${pick(["inc", "dec"])}l ${creg(4)}`, ALL & ~CF),
      I(`${pick(["inc", "dec"])}w ${creg(2)}`, ALL & ~CF),
    ];
  if (k === 8)
    return [
      I(`push ${creg(4)}`),
      I(`pushl $${rnd(0x7fffffff)}`),
      I(`popl ${cmem(4)}`),
      I(`pop ${creg(4)}`),
    ];
  if (k === 9) return [I("call 1f"), I("1:"), I(`pop ${creg(4)}`)];
  if (k === 10) return [I(`arpl ${creg(2)}, ${creg(2)}`, ZF)];
  if (k === 11) {
    const sz = pick([4, 2]);
    const ea = pick(["(%bx,%si)", "(%bp,%di)", "4(%bx,%di)", "-2(%bp)", "(%si)"]);
    return [I(`lea${sz === 4 ? "l" : "w"} ${ea}, ${creg(sz)}`)];
  }
  if (k === 12)
    return [
      I(`lea ${rnd(64)}(%ebx), %esi`),
      I(`lea ${64 + rnd(56)}(%ebx), %edi`),
      I(`movs${pick(["b", "w", "l"])}`),
      I(`cmpsl`, ALL),
    ];
  return [
    I("pushfl", 0, 0, ALL),
    I(`pop ${creg(4)}`),
    I(`pushw ${creg(2)}`),
    I(`popw ${creg(2)}`),
    I(`movzbl ${cmem(1)}, ${creg(4)}`),
  ];
};

/**
 * Wraps a 32-bit sequence so a 64-bit caller runs it in compatibility mode: `ljmp *0(%rip)`
 * through a far pointer to Linux's __USER32_CS (0x23); there `push %ss; pop %ds; push %ss;
 * pop %es` (a 64-bit Linux process has null DS and ES, which 32-bit code cannot use; the
 * pushes leave the flat SS selector just below esp, in the buffer's zeroed stack half),
 * the sequence, and `ljmp $0x33` (__USER_CS) to the end of the wrapped code, where the
 * harness's return (and the emulator's stop marker) follows.
 */
function compatWrap(seq: Uint8Array, codeAddr: number): Uint8Array {
  const start = 16;
  const prologue = [0x16, 0x1f, 0x16, 0x07];
  const len = start + prologue.length + seq.length + 7;
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  out.set([0xff, 0x2d, 0, 0, 0, 0]);
  dv.setUint32(6, codeAddr + start, true);
  dv.setUint16(10, 0x23, true);
  out.fill(0x90, 12, start);
  out.set(prologue, start);
  out.set(seq, start + prologue.length);
  const end = len - 7;
  out[end] = 0xea;
  dv.setUint32(end + 1, codeAddr + len, true);
  dv.setUint16(end + 5, 0x33, true);
  return out;
}

// ---- MMX and SSE/SSE2 integer and data movement ----
const XR = (i: number): string => `%xmm${i}`;
const MR = (i: number): string => `%mm${i}`;
const anyX = (): string => XR(rnd(16));
const anyM = (): string => MR(rnd(8));
/** A 16-byte aligned memory operand (movaps, paddb m128, ...). */
const memA = (): string => `${16 * rnd(8)}(%rbx)`;
/** A memory operand of `sz` bytes at any offset. */
const memU = (sz: number): string => mem(sz);

/** Packed integer operations with an MMX and an SSE2 form: [mnemonic, MMX memory size]. */
const PACKED: readonly (readonly [string, number])[] = [
  ...["pand", "pandn", "por", "pxor", "paddb", "paddw", "paddd", "paddq", "paddsb", "paddsw"],
  ...["paddusb", "paddusw", "psubb", "psubw", "psubd", "psubq", "psubsb", "psubsw", "psubusb"],
  ...["psubusw", "pcmpeqb", "pcmpeqw", "pcmpeqd", "pcmpgtb", "pcmpgtw", "pcmpgtd", "pminub"],
  ...["pmaxub", "pminsw", "pmaxsw", "pavgb", "pavgw", "pmullw", "pmulhw", "pmulhuw", "pmuludq"],
  ...["pmaddwd", "psadbw", "punpckhbw", "punpckhwd", "punpckhdq", "packsswb", "packssdw"],
  "packuswb",
].map((m) => [m, 8] as const);
const PACKED_ALL = [...PACKED, ["punpcklbw", 4], ["punpcklwd", 4], ["punpckldq", 4]] as const;
/** SSE/SSE2-only register ops taking xmm/m128. */
const XMM_ONLY = [
  ...["punpcklqdq", "punpckhqdq", "unpcklps", "unpckhps", "unpcklpd", "unpckhpd", "andps"],
  ...["andnps", "orps", "xorps", "andpd", "andnpd", "orpd", "xorpd"],
];
const SHIFTS = [
  ["psrlw", 16],
  ["psrld", 32],
  ["psrlq", 64],
  ["psraw", 16],
  ["psrad", 32],
  ["psllw", 16],
  ["pslld", 32],
  ["psllq", 64],
] as const;

const vector: Gen = () => {
  const k = rnd(22);
  if (k < 5) {
    // Packed integer, SSE2 or MMX, register or memory source.
    const [m, mmSize] = pick(PACKED_ALL);
    if (rnd(3) === 0) return [I(`${m} ${rnd(3) ? anyM() : memU(mmSize)}, ${anyM()}`)];
    return [I(`${m} ${rnd(3) ? anyX() : memA()}, ${anyX()}`)];
  }
  if (k === 5) return [I(`${pick(XMM_ONLY)} ${rnd(3) ? anyX() : memA()}, ${anyX()}`)];
  if (k === 6) {
    // Shifts by an immediate, or by a count in a register loaded with movd.
    const [m, bits] = pick(SHIFTS);
    const count = pick([0, 1, 3, 7, bits - 1, bits, bits + 1, 255, rnd(bits)]);
    const mmx = rnd(3) === 0;
    const dst = mmx ? anyM() : anyX();
    if (rnd(2) === 0) return [I(`${m} $${count & 255}, ${dst}`)];
    const cr = mmx ? MR(rnd(8)) : XR(rnd(16));
    return [I(`mov $${count}, %eax`), I(`movd %eax, ${cr}`), I(`${m} ${cr}, ${dst}`)];
  }
  if (k === 7)
    return [I(`${pick(["psrldq", "pslldq"])} $${pick([0, 1, 4, 8, 15, 16, rnd(256)])}, ${anyX()}`)];
  if (k === 8) {
    const imm = rnd(256);
    const f = rnd(5);
    if (f === 0) return [I(`pshufw $${imm}, ${rnd(3) ? anyM() : memU(8)}, ${anyM()}`)];
    const m = ["pshufd", "pshuflw", "pshufhw", "shufps", "shufpd"][f === 4 ? 3 + rnd(2) : f - 1];
    return [I(`${m} $${imm}, ${rnd(3) ? anyX() : memA()}, ${anyX()}`)];
  }
  if (k === 9) {
    // Whole-register moves.
    const m = pick(["movaps", "movapd", "movdqa", "movups", "movupd", "movdqu"]);
    const aligned = !m.includes("u");
    const f = rnd(3);
    const mm = aligned ? memA() : memU(16);
    if (f === 0) return [I(`${m} ${anyX()}, ${anyX()}`)];
    if (f === 1) return [I(`${m} ${mm}, ${anyX()}`)];
    return [I(`${m} ${anyX()}, ${mm}`)];
  }
  if (k === 10) {
    const f = rnd(4);
    if (f === 0) return [I(`movq ${anyM()}, ${anyM()}`)];
    if (f === 1) return [I(`movq ${memU(8)}, ${anyM()}`)];
    if (f === 2) return [I(`movq ${anyM()}, ${memU(8)}`)];
    return [I(`${pick(["movntdq", "movntps", "movntpd"])} ${anyX()}, ${memA()}`)];
  }
  if (k === 11) {
    // movd/movq with general registers and memory.
    const mmx = rnd(3) === 0;
    const v = mmx ? anyM() : anyX();
    const f = rnd(4);
    if (f === 0) return [I(`movd ${wreg(4)}, ${v}`)];
    if (f === 1) return [I(`movq ${wreg(8)}, ${v}`)];
    if (f === 2) return [I(rnd(2) ? `movd ${v}, ${wreg(4)}` : `movq ${v}, ${wreg(8)}`)];
    return [I(rnd(2) ? `movd ${memU(4)}, ${v}` : `movd ${v}, ${memU(4)}`)];
  }
  if (k === 12) {
    const f = rnd(6);
    if (f === 0) return [I(`movq ${rnd(2) ? anyX() : memU(8)}, ${anyX()}`)];
    if (f === 1) return [I(`movq ${anyX()}, ${memU(8)}`)];
    if (f === 2) return [I(`movq2dq ${anyM()}, ${anyX()}`)];
    if (f === 3) return [I(`movdq2q ${anyX()}, ${anyM()}`)];
    if (f === 4) return [I(`movnti ${wreg(rnd(2) ? 4 : 8)}, ${memU(8)}`)];
    return [I(`movntq ${anyM()}, ${memU(8)}`)];
  }
  if (k === 13) {
    const [m, sz] = pick([
      ["movss", 4],
      ["movsd", 8],
    ] as const);
    const f = rnd(3);
    if (f === 0) return [I(`${m} ${anyX()}, ${anyX()}`)];
    if (f === 1) return [I(`${m} ${memU(sz)}, ${anyX()}`)];
    return [I(`${m} ${anyX()}, ${memU(sz)}`)];
  }
  if (k === 14) {
    const m = pick(["movlps", "movhps", "movlpd", "movhpd"]);
    if (rnd(2) === 0) return [I(`${m} ${memU(8)}, ${anyX()}`)];
    if (rnd(3) === 0) return [I(`${pick(["movhlps", "movlhps"])} ${anyX()}, ${anyX()}`)];
    return [I(`${m} ${anyX()}, ${memU(8)}`)];
  }
  if (k === 15) {
    const f = rnd(4);
    const dst = rnd(2) ? wreg(4) : wreg(8);
    if (f === 0) return [I(`pmovmskb ${anyX()}, ${dst}`)];
    if (f === 1) return [I(`pmovmskb ${anyM()}, ${dst}`)];
    return [I(`${pick(["movmskps", "movmskpd"])} ${anyX()}, ${dst}`)];
  }
  if (k === 16) {
    const mmx = rnd(3) === 0;
    const v = mmx ? anyM() : anyX();
    const i = rnd(8);
    if (rnd(2) === 0) return [I(`pextrw $${i}, ${v}, ${wreg(4)}`)];
    return [I(`pinsrw $${i}, ${rnd(2) ? wreg(4) : memU(2)}, ${v}`)];
  }
  if (k === 17) {
    const off = rnd(DATA_BYTES - 16);
    const mmx = rnd(3) === 0;
    return [
      I(`lea ${off}(%rbx), %rdi`),
      I(mmx ? `maskmovq ${anyM()}, ${anyM()}` : `maskmovdqu ${anyX()}, ${anyX()}`),
    ];
  }
  if (k === 18) return [I("emms")];
  if (k === 19)
    return [
      I(pick(["sfence", "lfence", "mfence", `prefetcht0 ${memU(1)}`, `prefetchnta ${memU(1)}`])),
    ];
  // Integer SIMD chains as compilers emit them: a zero idiom, then work on it.
  const z = rnd(16);
  return [
    I(`pxor ${XR(z)}, ${XR(z)}`),
    I(`pcmpeqb ${memA()}, ${XR(z)}`),
    I(`pmovmskb ${XR(z)}, %eax`),
  ];
};

// ---- SSE/SSE2/SSE3/SSE4.1 floating point ----
/** Single-precision operands worth testing: zeros, denormals, extremes, NaNs, integers' edges. */
const F32_EDGE = [
  0, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 1, 0x807fffff, 0x7fffff, 0x800000, 0x80800000,
  0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00000, 0xff800001,
  0x7fc12345, 0x3f800001, 0x4b000000, 0x4b000001, 0x4effffff, 0x4f000000, 0xcf000000, 0xcf000001,
  0x5effffff, 0x5f000000, 0xdf000000, 0x3f000000, 0x3fc00000, 0x40200000, 0xbfc00000, 0x00400000,
  0x0c000000, 0x34000000, 0x7e800000, 0x3effffff, 0x40400000,
];
/** Double-precision operands ([hi, lo] 32-bit halves). */
const F64_EDGE: readonly (readonly [number, number])[] = [
  [0, 0],
  [0x80000000, 0],
  [0x3ff00000, 0],
  [0xbff00000, 0],
  [0x3ff80000, 0],
  [0, 1],
  [0x000fffff, 0xffffffff],
  [0x80000000, 1],
  [0x00100000, 0],
  [0x7fefffff, 0xffffffff],
  [0xffefffff, 0xffffffff],
  [0x7ff00000, 0],
  [0xfff00000, 0],
  [0x7ff80000, 0],
  [0xfff80000, 0],
  [0x7ff40000, 0],
  [0xfff00000, 1],
  [0x3ff00000, 1],
  [0x43300000, 0],
  [0x41dfffff, 0xffc00000],
  [0x41e00000, 0],
  [0xc1e00000, 0],
  [0xc1e00000, 0x00200000],
  [0x43e00000, 0],
  [0xc3e00000, 0],
  [0x43dfffff, 0xffffffff],
  [0x3fe00000, 0],
  [0x36a00000, 0],
  [0x47efffff, 0xe0000000],
  [0x47efffff, 0xf0000000],
  [0x38100000, 0],
  [0x380fffff, 0xffffffff],
  [0x36900000, 1],
  [0x7fe00000, 0],
  [0x00080000, 0],
  [0x3fefffff, 0xffffffff],
  [0x40080000, 0],
];
/** A random single: an edge value, a nearby one, or random bits with a moderate exponent. */
function f32(): number {
  const k = rnd(4);
  if (k === 0) return pick(F32_EDGE);
  if (k === 1) return (pick(F32_EDGE) + rnd(5) - 2) >>> 0;
  const sign = rnd(2) << 31;
  const exp = rnd(5) === 0 ? rnd(256) : 100 + rnd(56);
  return (sign | (exp << 23) | rnd(0x800000)) >>> 0;
}
/** A random double as [hi, lo]. */
function f64(): [number, number] {
  const k = rnd(4);
  if (k === 0) return [...pick(F64_EDGE)];
  if (k === 1) {
    const [h, l] = pick(F64_EDGE);
    return [h, (l + rnd(5) - 2) >>> 0];
  }
  if (k === 2) {
    // A single's value widened: exercises cvtsd2ss and exact cases.
    const x = f32();
    const e = (x >>> 23) & 0xff;
    if (e === 0 || e === 255) return [...pick(F64_EDGE)];
    return [
      ((x & 0x80000000) | ((e - 127 + 1023) << 20) | ((x & 0x7fffff) >>> 3)) >>> 0,
      ((x & 7) << 29) >>> 0,
    ];
  }
  const sign = rnd(2) << 31;
  const exp = rnd(5) === 0 ? rnd(2048) : 900 + rnd(250);
  return [(sign | (exp << 20) | rnd(0x100000)) >>> 0, rnd(0x100000000)];
}
function putU32(b: Uint8Array, off: number, v: number): void {
  for (let i = 0; i < 4; i++) b[off + i] = (v >>> (8 * i)) & 0xff;
}
/** Fills `n` bytes at `b[off ..]` with singles or doubles. */
function floatBytes(b: Uint8Array, off: number, n: number): void {
  const dbl = rnd(2) === 0;
  for (let i = 0; i < n; i += dbl ? 8 : 4) {
    if (dbl) {
      const [h, l] = f64();
      putU32(b, off + i, l);
      putU32(b, off + i + 4, h);
    } else putU32(b, off + i, f32());
  }
}
/** An FXSAVE64 image for the float category: float XMM contents and a random MXCSR. */
function floatFx(): Uint8Array {
  const fx = defaultFx();
  for (let r = 0; r < 16; r++) floatBytes(fx, 160 + 16 * r, 16);
  let mxcsr = 0x1f80;
  if (rnd(4) !== 0) {
    mxcsr = (rnd(4) << 13) | 0x1f80;
    if (rnd(3) === 0) mxcsr |= 0x40; // DAZ
    if (rnd(3) === 0) mxcsr |= 0x8000; // FZ
    if (rnd(5) === 0) mxcsr &= ~(rnd(64) << 7); // unmask some exceptions
    if (rnd(4) === 0) mxcsr |= rnd(64); // sticky flags already set
  }
  putU32(fx, 24, mxcsr);
  return fx;
}
const FARITH = ["add", "sub", "mul", "div", "min", "max", "sqrt"];
const FCVT_X: readonly (readonly [string, number])[] = [
  ["cvtps2pd", 8],
  ["cvtpd2ps", 16],
  ["cvtss2sd", 4],
  ["cvtsd2ss", 8],
  ["cvtdq2ps", 16],
  ["cvtps2dq", 16],
  ["cvttps2dq", 16],
  ["cvttpd2dq", 16],
  ["cvtdq2pd", 8],
  ["cvtpd2dq", 16],
];
const float: Gen = () => {
  const k = rnd(16);
  const x = anyX();
  if (k < 5) {
    const m = pick(FARITH);
    const f =
      m === "sqrt" ? pick(["ps", "pd", "ss", "sd"]) : pick(["ps", "pd", "ss", "sd", "ss", "sd"]);
    const sz = f === "ss" ? 4 : f === "sd" ? 8 : 16;
    return [I(`${m}${f} ${rnd(3) ? anyX() : sz === 16 ? memA() : mem(sz)}, ${x}`)];
  }
  if (k === 5) {
    const f = pick(["ps", "pd", "ss", "sd"]);
    const sz = f === "ss" ? 4 : f === "sd" ? 8 : 16;
    const imm = rnd(4) === 0 ? rnd(256) : rnd(8);
    return [I(`cmp${f} $${imm}, ${rnd(3) ? anyX() : sz === 16 ? memA() : mem(sz)}, ${x}`)];
  }
  if (k === 6) {
    const m = pick(["comiss", "ucomiss", "comisd", "ucomisd"]);
    return [
      I(`${m} ${rnd(3) ? anyX() : mem(m.endsWith("s") ? 4 : 8)}, ${x}`, ALL),
      I(`setb %al`),
      I(`sete %ah`),
    ];
  }
  if (k === 7) {
    const [m, sz] = pick(FCVT_X);
    return [I(`${m} ${rnd(3) ? anyX() : sz === 16 ? memA() : mem(sz)}, ${x}`)];
  }
  if (k === 8) {
    // Float to integer (rounding and truncating) and back.
    const m = pick(["cvtss2si", "cvttss2si", "cvtsd2si", "cvttsd2si"]);
    const sz = m.includes("ss") ? 4 : 8;
    const r = wreg(rnd(2) ? 4 : 8);
    return [I(`${m} ${rnd(3) ? anyX() : mem(sz)}, ${r}`)];
  }
  if (k === 9) {
    const m = pick(["cvtsi2ss", "cvtsi2sd"]);
    const w = rnd(2) ? 4 : 8;
    if (rnd(3) === 0) return [I(`${m}${w === 4 ? "l" : "q"} ${mem(w)}, ${x}`)];
    return [I(`${m} ${wreg(w)}, ${x}`)];
  }
  if (k === 10) {
    const m = pick(["cvtpi2ps", "cvtpi2pd", "cvtps2pi", "cvttps2pi", "cvtpd2pi", "cvttpd2pi"]);
    if (m.startsWith("cvtpi")) return [I(`${m} ${rnd(3) ? anyM() : mem(8)}, ${x}`)];
    const src = m.includes("pd") ? (rnd(3) ? anyX() : memA()) : rnd(3) ? anyX() : mem(8);
    return [I(`${m} ${src}, ${anyM()}`)];
  }
  if (k === 11) {
    const m = pick(["haddps", "haddpd", "hsubps", "hsubpd", "addsubps", "addsubpd"]);
    return [I(`${m} ${rnd(3) ? anyX() : memA()}, ${x}`)];
  }
  if (k === 12) {
    const m = pick(["roundps", "roundpd", "roundss", "roundsd"]);
    const sz = m.endsWith("ss") ? 4 : m.endsWith("sd") ? 8 : 16;
    return [I(`${m} $${rnd(16)}, ${rnd(3) ? anyX() : sz === 16 ? memA() : mem(sz)}, ${x}`)];
  }
  if (k === 13) {
    const m = pick(["dpps", "dppd"]);
    return [I(`${m} $${rnd(256)}, ${rnd(3) ? anyX() : memA()}, ${x}`)];
  }
  if (k === 14) {
    const m = pick(["rcpps", "rsqrtps", "rcpss", "rsqrtss"]);
    return [I(`${m} ${rnd(3) ? anyX() : m.endsWith("ss") ? mem(4) : memA()}, ${x}`)];
  }
  const m = pick(["movddup", "movsldup", "movshdup", "movmskps", "movmskpd", "lddqu"]);
  if (m.startsWith("movmsk")) return [I(`${m} ${anyX()}, ${wreg(4)}`)];
  if (m === "lddqu") return [I(`lddqu ${mem(16)}, ${x}`)];
  return [I(`${m} ${rnd(3) ? anyX() : m === "movddup" ? mem(8) : memA()}, ${x}`)];
};

// ---- SSE3/SSSE3/SSE4.1/SSE4.2 integer, string and crc32 ----
const SSSE3 = [
  "pshufb",
  "phaddw",
  "phaddd",
  "phaddsw",
  "pmaddubsw",
  "phsubw",
  "phsubd",
  "phsubsw",
  "psignb",
  "psignw",
  "psignd",
  "pmulhrsw",
  "pabsb",
  "pabsw",
  "pabsd",
];
const SSE41 = [
  "ptest",
  "pmuldq",
  "pcmpeqq",
  "packusdw",
  "pcmpgtq",
  "pminsb",
  "pminsd",
  "pminuw",
  "pminud",
  "pmaxsb",
  "pmaxsd",
  "pmaxuw",
  "pmaxud",
  "pmulld",
  "phminposuw",
];
const PMOV: readonly (readonly [string, number])[] = [
  ["bw", 8],
  ["bd", 4],
  ["bq", 2],
  ["wd", 8],
  ["wq", 4],
  ["dq", 8],
];
/** A string for pcmpXstrX: bytes or words with a NUL somewhere (or none). */
function strBytes(b: Uint8Array, off: number): void {
  const alpha =
    rnd(2) === 0 ? [0x61, 0x62, 0x63, 0x41, 0x7a, 0x30] : [0, 1, 0x80, 0xff, 0x7f, 0x61];
  for (let i = 0; i < 16; i++) b[off + i] = rnd(6) === 0 ? rnd(256) : pick(alpha);
  if (rnd(3) !== 0) b[off + rnd(16)] = 0;
}
const ssex: Gen = () => {
  const k = rnd(12);
  const x = anyX();
  if (k < 3) {
    const m = pick(SSSE3);
    if (rnd(3) === 0) return [I(`${m} ${rnd(3) ? anyM() : mem(8)}, ${anyM()}`)];
    return [I(`${m} ${rnd(3) ? anyX() : memA()}, ${x}`)];
  }
  if (k === 3) {
    if (rnd(3) === 0)
      return [
        I(
          `palignr $${pick([0, 1, 7, 8, 15, 16, rnd(256)])}, ${rnd(2) ? anyM() : mem(8)}, ${anyM()}`,
        ),
      ];
    return [
      I(
        `palignr $${pick([0, 1, 4, 8, 15, 16, 17, 31, 32, rnd(256)])}, ${rnd(3) ? anyX() : memA()}, ${x}`,
      ),
    ];
  }
  if (k === 4) {
    const m = pick(SSE41);
    return [I(`${m} ${rnd(3) ? anyX() : memA()}, ${x}`, m === "ptest" ? ALL : 0)];
  }
  if (k === 5) {
    const [t, sz] = pick(PMOV);
    return [I(`pmov${pick(["sx", "zx"])}${t} ${rnd(3) ? anyX() : mem(sz)}, ${x}`)];
  }
  if (k === 6) {
    const m = pick([
      "pblendvb",
      "blendvps",
      "blendvpd",
      "pblendw",
      "blendps",
      "blendpd",
      "mpsadbw",
      "insertps",
    ]);
    if (m.includes("blendv")) return [I(`${m} %xmm0, ${rnd(3) ? anyX() : memA()}, ${x}`)];
    if (m === "insertps") return [I(`insertps $${rnd(256)}, ${rnd(3) ? anyX() : mem(4)}, ${x}`)];
    return [I(`${m} $${rnd(256)}, ${rnd(3) ? anyX() : memA()}, ${x}`)];
  }
  if (k === 7) {
    const f = rnd(8);
    const i = rnd(256);
    if (f === 0) return [I(`pextrb $${i}, ${x}, ${rnd(2) ? wreg(4) : mem(1)}`)];
    if (f === 1) return [I(`pextrw $${i}, ${x}, ${mem(2)}`)];
    if (f === 2) return [I(`pextrd $${i}, ${x}, ${rnd(2) ? wreg(4) : mem(4)}`)];
    if (f === 3) return [I(`pextrq $${i}, ${x}, ${rnd(2) ? wreg(8) : mem(8)}`)];
    if (f === 4) return [I(`extractps $${i}, ${x}, ${rnd(2) ? wreg(4) : mem(4)}`)];
    if (f === 5) return [I(`pinsrb $${i}, ${rnd(2) ? wreg(4) : mem(1)}, ${x}`)];
    if (f === 6) return [I(`pinsrd $${i}, ${rnd(2) ? wreg(4) : mem(4)}, ${x}`)];
    return [I(`pinsrq $${i}, ${rnd(2) ? wreg(8) : mem(8)}, ${x}`)];
  }
  if (k === 8 || k === 9) {
    // String compares on string-like data: load two registers from the buffer first.
    const m = pick(["pcmpestri", "pcmpestrm", "pcmpistri", "pcmpistrm"]);
    const a = XR(1 + rnd(15));
    const b2 = XR(1 + rnd(15));
    const imm = rnd(128);
    const pre: Insn[] = [I(`movdqu ${mem(16)}, ${a}`), I(`movdqu ${mem(16)}, ${b2}`)];
    if (m.includes("estr"))
      pre.push(
        I(
          `mov $${pick([0, 1, 3, 8, 15, 16, 17, -1, -5, -20, rnd(40) - 20])}, ${pick(["%eax", "%rax"])}`,
        ),
        I(`mov $${pick([0, 2, 7, 8, 16, 20, -3, rnd(40) - 20])}, ${pick(["%edx", "%rdx"])}`),
      );
    return [...pre, I(`${m} $${imm}, ${rnd(3) ? b2 : mem(16)}, ${a}`, ALL)];
  }
  if (k === 10) {
    const sz = pick([1, 2, 4, 8]);
    const suf = { 1: "b", 2: "w", 4: "l", 8: "q" }[sz];
    const dst = sz === 8 || (sz === 1 && rnd(3) === 0) ? wreg(8) : wreg(4);
    if (rnd(2)) return [I(`crc32${suf} ${mem(sz)}, ${dst}`)];
    const src =
      sz === 1 ? pick(["%al", "%cl", "%dl", "%bl", "%ah", "%dh", "%sil", "%r9b"]) : wreg(sz);
    if (sz === 1 && dst.startsWith("%r") && /%[a-d]h/.test(src)) return [I(`crc32b %cl, ${dst}`)];
    return [I(`crc32${suf} ${src}, ${dst}`)];
  }
  const f = rnd(3);
  if (f === 0) {
    const sz = pick([2, 4, 8]);
    return [I(`popcnt ${rnd(2) ? wreg(sz) : mem(sz)}, ${wreg(sz)}`, ALL)];
  }
  if (f === 1) return [I(`movntdqa ${memA()}, ${x}`)];
  return [I(`${pick(["movddup", "movsldup", "movshdup"])} ${rnd(2) ? anyX() : memA()}, ${x}`)];
};

// ---- x87 ----
const st = (i: number): string => `%st(${i})`;
const anySt = (): string => st(rnd(8));
const X87_ARITH = ["add", "sub", "subr", "mul", "div", "divr"];
/** A control word: all exceptions masked mostly, a random precision and rounding control. */
function x87Cw(): number {
  const masks = rnd(5) === 0 ? rnd(64) : 0x3f;
  return 0x40 | masks | (pick([0, 2, 3, 3]) << 8) | (rnd(4) << 10);
}
const x87: Gen = () => {
  const k = rnd(34);
  const op = pick(X87_ARITH);
  if (k < 4) {
    const f = rnd(3);
    if (f === 0) return [I(`f${op} ${anySt()}, %st`)];
    if (f === 1) return [I(`f${op} %st, ${anySt()}`)];
    return [I(`f${op}p %st, ${anySt()}`)];
  }
  if (k < 6) return [I(`f${op}${pick(["s", "l"])} ${mem(8)}`)];
  if (k === 6) return [I(`fi${op}${pick(["s", "l"])} ${mem(4)}`)];
  if (k === 7) return [I(`fld${pick(["s", "l", "t"])} ${mem(10)}`)];
  if (k === 8) return [I(`f${pick(["st", "stp"])}${pick(["s", "l"])} ${mem(8)}`)];
  if (k === 9) return [I(`fstpt ${mem(10)}`)];
  if (k === 10) return [I(`${pick(["fld", "fst", "fstp", "fxch", "ffree"])} ${anySt()}`)];
  if (k === 11) return [I(`fild${pick(["s", "l", "ll"])} ${mem(8)}`)];
  if (k === 12) return [I(`${pick(["fist", "fistp", "fisttp"])}${pick(["s", "l"])} ${mem(4)}`)];
  if (k === 13) return [I(`${pick(["fistpll", "fisttpll"])} ${mem(8)}`)];
  if (k === 14) return [I(pick(["fld1", "fldz", "fldpi", "fldl2e", "fldl2t", "fldlg2", "fldln2"]))];
  if (k === 15) return [I(pick(["fchs", "fabs", "fsqrt", "frndint", "ftst", "fxam"]))];
  if (k === 16) return [I(pick(["fscale", "fxtract", "fprem", "fprem1"]))];
  if (k === 17) return [I(pick(["fincstp", "fdecstp", "fnop", "fnclex"]))];
  if (k === 18) return [I(`${pick(["fcom", "fcomp", "fucom", "fucomp"])} ${anySt()}`)];
  if (k === 19) return [I(pick(["fcompp", "fucompp"]))];
  if (k === 20)
    return [
      I(
        `${pick(["fcomi", "fcomip", "fucomi", "fucomip"])} ${anySt()}, %st`,
        ALL,
        ALL & ~(ZF | PF | CF),
      ),
    ];
  if (k === 21)
    return [
      I(
        `${pick(["fcoms", "fcoml", "fcomps", "fcompl", "ficoml", "ficoms", "ficompl", "ficomps"])} ${mem(8)}`,
      ),
    ];
  if (k === 22) {
    const cc = pick(["b", "e", "be", "u", "nb", "ne", "nbe", "nu"]);
    return [I(`fcmov${cc} ${anySt()}, %st`)];
  }
  if (k === 23) return [I(pick(["fnstsw %ax", `fnstsw ${mem(2)}`, `fnstcw ${mem(2)}`]))];
  if (k === 24) {
    const off = rnd(DATA_BYTES - 2);
    return [I(`movw $${x87Cw()}, ${off}(%rbx)`), I(`fldcw ${off}(%rbx)`)];
  }
  if (k === 25) {
    const off = rnd(DATA_BYTES - 28);
    return [I(`fnstenv ${off}(%rbx)`), I(`fldenv ${off}(%rbx)`)];
  }
  if (k === 26) return [I(`fnstenv ${mem(28)}`)];
  if (k === 27) return [I(`fnsave ${8 * rnd(2)}(%rbx)`), I(`frstor ${8 * rnd(2)}(%rbx)`)];
  if (k === 28) return [I(`${pick(["fbld", "fbstp"])} ${mem(10)}`)];
  if (k === 29) return [I("fninit")];
  return [I(pick(["fsin", "fcos", "fsincos", "fptan", "fpatan", "f2xm1", "fyl2x"]))];
};

/**
 * fyl2xp1 alone: the SDM leaves its result undefined for |ST(0)| ≥ 1 − √2/2, so the
 * register image is redrawn until ST(0) is in range (see x87TransFx).
 */
const x87trans: Gen = () => [I(pick(["fyl2xp1", "fyl2xp1", "fsin", "fcos", "fptan", "fpatan"]))];
/** An x87 image whose ST(0) is a valid operand of fyl2xp1 (|x| < 1 − √2/2). */
function x87TransFx(): Uint8Array {
  for (;;) {
    const fx = x87Fx();
    const top = (fx[3] >> 3) & 7;
    const e = (fx[32 + 8] | (fx[32 + 9] << 8)) & 0x7fff;
    if ((fx[4] >> top) & 1 && e < 0x3ffd) return fx;
  }
}

/** One x87 register: random normals of all magnitudes, integers, and the special encodings. */
function x87Value(fx: Uint8Array, at: number): void {
  const k = rnd(20);
  let e: number;
  let hi: number;
  let lo = Number(next64() & 0xffffffffn);
  hi = Number(next64() & 0xffffffffn) | 0x80000000;
  const s = rnd(2) << 15;
  if (k < 8) e = 16383 + rnd(80) - 40;
  else if (k < 10) e = 16383 + rnd(4);
  else if (k === 10) {
    e = 16383 + rnd(20);
    lo = 0;
    hi = (hi & 0xfff00000) | 0x80000000;
  } else if (k === 11) e = rnd(0x7fff);
  else if (k === 12) {
    e = 0;
    hi = lo = 0;
  } else if (k === 13) {
    e = 0x7fff;
    hi = 0x80000000;
    lo = 0;
  } else if (k === 14) {
    e = 0x7fff;
    hi = rnd(2) ? hi | 0x40000000 : (hi & ~0x40000000) | 1;
  } else if (k === 15) {
    e = 0;
    hi &= 0x7fffffff;
  } else if (k === 16) e = pick([1, 2, 0x7ffe, 0x7ffd, 16383 + 62, 16383 + 63, 16383 + 64]);
  else if (k === 17) e = 16383 + 15 + rnd(50);
  else if (k === 18)
    e = pick([
      16383 - 16382 + 100,
      16383 - 1021,
      16383 - 1023,
      16383 - 126,
      16383 - 150,
      16383 + 1023,
      16383 + 128,
    ]);
  else e = 16383 + rnd(200) - 100;
  fx[at] = lo & 0xff;
  fx[at + 1] = (lo >>> 8) & 0xff;
  fx[at + 2] = (lo >>> 16) & 0xff;
  fx[at + 3] = lo >>> 24;
  fx[at + 4] = hi & 0xff;
  fx[at + 5] = (hi >>> 8) & 0xff;
  fx[at + 6] = (hi >>> 16) & 0xff;
  fx[at + 7] = hi >>> 24;
  fx[at + 8] = e & 0xff;
  fx[at + 9] = ((e >> 8) & 0x7f) | (s >> 8);
}

/** An FXSAVE64 image for x87 cases: a random control word, TOP, tags and register values. */
function x87Fx(): Uint8Array {
  const fx = defaultFx();
  const cw = x87Cw();
  fx[0] = cw & 0xff;
  fx[1] = cw >> 8;
  fx[3] = rnd(8) << 3;
  fx[4] = rnd(3) === 0 ? rnd(256) : 0xff;
  for (let i = 0; i < 8; i++) x87Value(fx, 32 + 16 * i);
  return fx;
}

/**
 * A category's generator, size and FPU state: `vector` cases start from random FPU/vector
 * state (`fx`: the image generator, default {@link randomFx}; `fill`: the buffer filler);
 * `faults` keeps cases that end in #XM (SIGFPE) with the state the kernel saved there.
 */
interface Category {
  gen: Gen;
  count: number;
  maxLen: number;
  vector?: boolean;
  fx?: () => Uint8Array;
  fill?: (b: Uint8Array) => void;
  faults?: boolean;
  /** 32-bit code, run in compatibility mode (see compatWrap). */
  compat?: boolean;
}

const CATEGORIES: Record<string, Category> = {
  alu: { gen: alu, count: 1400, maxLen: 4 },
  unary: { gen: unary, count: 300, maxLen: 3 },
  shift: { gen: shifts, count: 1000, maxLen: 1 },
  dshift: { gen: dshift, count: 300, maxLen: 1 },
  muldiv: { gen: muldiv, count: 700, maxLen: 1 },
  bitops: { gen: bitops, count: 500, maxLen: 2 },
  cond: { gen: conds, count: 500, maxLen: 3 },
  move: { gen: moves, count: 700, maxLen: 3 },
  string: { gen: strings, count: 400, maxLen: 1 },
  stack: { gen: stack, count: 300, maxLen: 1 },
  misc: { gen: misc, count: 200, maxLen: 1 },
  vector: { gen: vector, count: 1500, maxLen: 3, vector: true },
  float: {
    gen: float,
    count: 3000,
    maxLen: 2,
    vector: true,
    fx: floatFx,
    fill: (b) => {
      for (let i = 0; i < DATA_BYTES; i += 16) floatBytes(b, i, 16);
    },
    faults: true,
  },
  ssex: {
    gen: ssex,
    count: 1500,
    maxLen: 2,
    vector: true,
    fill: (b) => {
      for (let i = 0; i < DATA_BYTES; i += 16) if (rnd(2) === 0) strBytes(b, i);
    },
  },
  x87: { gen: x87, count: 3000, maxLen: 3, vector: true, fx: x87Fx },
  x87trans: { gen: x87trans, count: 400, maxLen: 1, vector: true, fx: x87TransFx },
  compat: { gen: compat, count: 600, maxLen: 3, compat: true },
};

/** Bytes of the FXSAVE64 image the corpus carries: the legacy region up to XMM15. */
const FX_BYTES = 416;
/** FXSAVE's MXCSR_MASK (bytes 28–31): the host's, not compared. */
const FX_MXCSR_MASK = 28;

/** The FXSAVE64 image cases of the non-vector categories start with (FNINIT, MXCSR 0x1f80). */
function defaultFx(): Uint8Array {
  const fx = new Uint8Array(512);
  fx[0] = 0x7f;
  fx[1] = 0x03;
  fx[24] = 0x80;
  fx[25] = 0x1f;
  return fx;
}

/** A random FXSAVE64 image: FCW 0x37f, some registers tagged valid, random ST/MM and XMM contents. */
function randomFx(): Uint8Array {
  const fx = defaultFx();
  fx[4] = rnd(256);
  for (let i = 0; i < 8; i++)
    for (let j = 0; j < 10; j++)
      fx[32 + 16 * i + j] = rnd(4) === 0 ? pick([0, 0xff, 0x80, 0x7f]) : rnd(256);
  for (let i = 0; i < 256; i++)
    fx[160 + i] = rnd(4) === 0 ? pick([0, 0xff, 0x80, 0x7f, 1]) : rnd(256);
  return fx;
}

interface Case {
  asm: string[];
  undef: number;
  regs: bigint[];
  flags: number;
  buf: Uint8Array;
  fx: Uint8Array;
  code?: Uint8Array;
}

function makeCase(cat: Category): Case {
  const { gen, maxLen } = cat;
  const vector = cat.vector === true;
  const code32 = cat.compat === true;
  const asm: string[] = [];
  let undef = 0;
  const n = 1 + rnd(maxLen);
  for (let i = 0; i < n; i++) {
    for (const ins of gen()) {
      if ((ins.reads & undef) !== 0) {
        asm.push(code32 ? "cmp %ecx, %eax" : "cmp %rcx, %rax");
        undef = 0;
      }
      asm.push(ins.text);
      undef = (undef & ~ins.def) | ins.undef;
      undef &= ~(ins.def & ~ins.undef);
    }
  }
  const regs = Array.from({ length: 16 }, () => value64());
  regs[3] = DATA;
  regs[4] = RSP0;
  const flags = 0x202 | (rnd(0x1000) & ALL);
  const buf = new Uint8Array(BUF);
  for (let i = 0; i < DATA_BYTES; i++) buf[i] = rnd(256);
  cat.fill?.(buf);
  // Only the vector categories draw FPU state; the others start from FNINIT state.
  const fx = vector ? (cat.fx ?? randomFx)() : defaultFx();
  return { asm, undef, regs, flags, buf, fx };
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}
function h64(v: bigint): string {
  return v.toString(16).padStart(16, "0");
}

/** Changed runs of `after` relative to `before`, as "offset:hexbytes" joined by spaces. */
function bufDiff(before: Uint8Array, after: Uint8Array): string {
  const runs: string[] = [];
  for (let i = 0; i < after.length;) {
    if (before[i] === after[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < after.length && before[j] !== after[j]) j++;
    runs.push(`${i}:${hex(after.subarray(i, j))}`);
    i = j;
  }
  return runs.join(" ");
}

function main(): void {
  const args = process.argv.slice(2);
  const only = args
    .find((a) => a.startsWith("--only="))
    ?.slice(7)
    .split(",");
  const seed = BigInt(args.find((a) => !a.startsWith("--")) ?? "1");
  const tmp = mkdtempSync(join(tmpdir(), "hvkit-exec-"));
  try {
    execFileSync("gcc", ["-O1", "-o", join(tmp, "harness"), join(HERE, "exec-harness.c")]);
    for (const [name, cat] of Object.entries(CATEGORIES)) {
      if (only && !only.includes(name)) continue;
      seedCategory(seed, name);
      const cases: Case[] = [];
      const count = Math.ceil(cat.count * Number(process.env.EXEC_CORPUS_SCALE ?? "1"));
      for (let i = 0; i < count; i++) cases.push(makeCase(cat));
      // Assemble all sequences at once, each between two labels.
      let src = cat.compat ? ".text\n.code32\n" : ".text\n";
      cases.forEach((c, i) => {
        src += `s${i}:\n${c.asm.map((l) => `  ${l}\n`).join("")}e${i}:\n`;
      });
      writeFileSync(join(tmp, "a.s"), src);
      execFileSync("as", ["--64", "-o", join(tmp, "a.o"), join(tmp, "a.s")]);
      execFileSync("objcopy", [
        "-O",
        "binary",
        "-j",
        ".text",
        join(tmp, "a.o"),
        join(tmp, "a.bin"),
      ]);
      const text = readFileSync(join(tmp, "a.bin"));
      const syms = new Map<string, number>();
      for (const line of execFileSync("nm", [join(tmp, "a.o")])
        .toString()
        .split("\n")) {
        const m = /^([0-9a-f]+) t ([se]\d+)$/.exec(line.trim());
        if (m) syms.set(m[2], parseInt(m[1], 16));
      }
      const input: Buffer[] = [];
      cases.forEach((c, i) => {
        const s = syms.get(`s${i}`),
          e = syms.get(`e${i}`);
        if (s === undefined || e === undefined) throw new Error(`labels of case ${i} missing`);
        c.code = new Uint8Array(text.subarray(s, e));
        if (cat.compat) c.code = compatWrap(c.code, 0x100000);
        const head = Buffer.alloc(4 + 17 * 8);
        head.writeUInt32LE(c.code.length, 0);
        const regs = Buffer.alloc(17 * 8);
        c.regs.forEach((v, k) => regs.writeBigUInt64LE(v, k * 8));
        regs.writeBigUInt64LE(BigInt(c.flags), 16 * 8);
        input.push(
          head.subarray(0, 4),
          Buffer.from(c.code),
          regs,
          Buffer.from(c.buf),
          Buffer.from(c.fx),
        );
      });
      const out = execFileSync(join(tmp, "harness"), {
        input: Buffer.concat(input),
        maxBuffer: 1 << 28,
      });
      const rec = 1 + 17 * 8 + BUF + 512 + 8;
      const json: unknown[] = [];
      let dropped = 0;
      cases.forEach((c, i) => {
        const o = out.subarray(i * rec, (i + 1) * rec);
        // SIGFPE (8): an unmasked SIMD floating-point exception, kept where the category asks.
        const fault = o[0] === 8 && cat.faults === true;
        if (o[0] !== 0 && !fault) {
          dropped++;
          return;
        }
        const regs = Array.from({ length: 16 }, (_, k) => o.readBigUInt64LE(1 + k * 8));
        const flags = Number(o.readBigUInt64LE(1 + 16 * 8));
        const buf = new Uint8Array(o.subarray(1 + 17 * 8, 1 + 17 * 8 + BUF));
        const fx = new Uint8Array(o.subarray(1 + 17 * 8 + BUF, 1 + 17 * 8 + BUF + FX_BYTES));
        fx.set(c.fx.subarray(FX_MXCSR_MASK, FX_MXCSR_MASK + 4), FX_MXCSR_MASK);
        const fxFields = cat.vector
          ? {
              fxIn: hex(c.fx.subarray(0, FX_BYTES)),
              fxOut: bufDiff(c.fx.subarray(0, FX_BYTES), fx),
            }
          : {};
        json.push({
          asm: c.asm.join("; "),
          code: hex(c.code as Uint8Array),
          regsIn: c.regs.map(h64).join(" "),
          flagsIn: c.flags,
          buf: hex(c.buf.subarray(0, DATA_BYTES)),
          regsOut: regs.flatMap((v, k) => (v === c.regs[k] ? [] : [`${k}:${h64(v)}`])).join(" "),
          flagsOut: flags,
          bufOut: bufDiff(c.buf, buf),
          undef: c.undef,
          ...fxFields,
          ...(fault
            ? { fault: "XM", faultAt: Number(o.readBigUInt64LE(1 + 17 * 8 + BUF + 512)) - 0x100000 }
            : {}),
        });
      });
      const file = {
        generator: "arch-x86/scripts/gen-exec-corpus.ts",
        seed: Number(seed),
        host: cpus()[0]?.model ?? "unknown",
        codeAddr: 0x100000,
        dataAddr: Number(DATA),
        bufSize: BUF,
        cases: json,
      };
      writeFileSync(
        join(OUT_DIR, `exec-${name}.json`),
        JSON.stringify(file, null, 0).replace(/\},\{/g, "},\n{") + "\n",
      );
      console.log(`exec-${name}.json: ${json.length} cases (${dropped} faulted natively, dropped)`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main();
