/**
 * Regenerates arch-ppc/src/cpu/corpus/objdump-ppc64.txt: instruction words with the text
 * GNU objdump (powerpc64-linux-gnu-objdump, `-M power4`: the 970's instruction set without
 * AltiVec) prints for them, the oracle for arch-ppc/src/cpu/corpus.test.ts.
 *
 *   node --import tsx arch-ppc/scripts/gen-objdump-corpus.ts
 *
 * What it generates (seeded PRNG, so the output is the same on every run with the same
 * objdump):
 *  1. Table-driven: every table row × 90 words with its fixed bits and random operand
 *     fields; every fourth word also gets operand fields biased to the values extended
 *     mnemonics look for (0, equal registers, BO/BI patterns, SPR numbers guests use).
 *  2. Sweep: every primary opcode × 40 random words, and every extended opcode of the
 *     opcodes 19, 31, 59 and 63 (1,024 each) and 30 (16) × 2 random words, to catch
 *     encodings the table lacks or wrongly accepts. objdump's `.long` lines stay in: the
 *     decoder must reject those words too.
 *
 * The words sit one after the other from address 0 (entry i at address 4·i, which the
 * branch targets objdump prints depend on). The file has a header line (the objdump
 * version and command), then one line per word: eight hex digits, a space, objdump's text
 * with runs of white space collapsed.
 *
 * Nothing here runs in the test suite; the test reads only the committed file.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Opd, TABLE } from "../src/cpu/table.js";
import { xorshift32 } from "./xorshift.js";

const OBJDUMP = "powerpc64-linux-gnu-objdump";
const ARGS = [
  "-D",
  "-b",
  "binary",
  "-m",
  "powerpc:common64",
  "-EB",
  "-M",
  "power4",
  "--no-show-raw-insn",
];

const rnd = xorshift32(0x9e3779b9);

const SPRS = [
  1, 8, 9, 18, 19, 22, 25, 26, 27, 29, 256, 259, 268, 269, 272, 273, 274, 275, 284, 285, 287, 1008,
  1009, 1013, 1023,
];

/** A word of `row` with operand fields biased to what extended mnemonics test. */
function biased(match: number, mask: number, opds: readonly Opd[]): number {
  let w = (rnd() & ~mask) | match;
  const r = rnd() & 31;
  for (const k of opds) {
    const c = rnd() % 4;
    switch (k) {
      case Opd.RA:
      case Opd.RA0:
        if (c === 0) w &= ~0x001f0000;
        else if (c === 1) w = (w & ~0x001f0000) | (r << 16);
        break;
      case Opd.RB:
        if (c === 0) w &= ~0xf800;
        else if (c === 1) w = (w & ~0xf800) | (r << 11);
        break;
      case Opd.RT:
        if (c === 1) w = (w & ~0x03e00000) | (r << 21);
        break;
      case Opd.SI:
      case Opd.UI:
        if (c === 0) w &= ~0xffff;
        break;
      case Opd.BO: {
        const bos = [4, 5, 6, 7, 12, 13, 14, 15, 20, 16, 17, 18, 19, 0, 2, 8, 10, 24, 25];
        w = (w & ~0x03e00000) | (bos[rnd() % bos.length]! << 21);
        break;
      }
      case Opd.BI:
        if (c < 2) w = (w & ~0x001f0000) | ((rnd() % 32) << 16);
        break;
      case Opd.SPR: {
        const s = c < 3 ? SPRS[rnd() % SPRS.length]! : rnd() & 1023;
        w = (w & ~0x001ff800) | ((s & 31) << 16) | ((s >>> 5) << 11);
        break;
      }
      case Opd.SH:
      case Opd.MB:
      case Opd.ME:
      case Opd.SH6:
      case Opd.MB6:
        if (c === 0) w &= ~(k === Opd.SH || k === Opd.SH6 ? 0xf802 : k === Opd.ME ? 0x3e : 0x7e0);
        else if (c === 1 && k === Opd.ME) w |= 0x3e;
        break;
      case Opd.TO: {
        const tos = [4, 8, 16, 24, 31, 1, 2, 5, 6, 12, 20];
        if (c < 3) w = (w & ~0x03e00000) | (tos[rnd() % tos.length]! << 21);
        break;
      }
      case Opd.FXM:
        if (c === 0) w |= 0x000ff000;
        else if (c === 1) w = (w & ~0x000ff000) | ((1 << (rnd() % 8)) << 12);
        break;
      default:
        break;
    }
  }
  return ((w & ~mask) | match) >>> 0;
}

const words: number[] = [];
for (const row of TABLE) {
  for (let i = 0; i < 90; i++)
    words.push(
      i % 4 === 3 ? biased(row.match, row.mask, row.opds) : ((rnd() & ~row.mask) | row.match) >>> 0,
    );
}
for (let p = 0; p < 64; p++)
  for (let i = 0; i < 40; i++) words.push(((p << 26) | (rnd() & 0x03ffffff)) >>> 0);
for (const p of [19, 31, 59, 63])
  for (let xo = 0; xo < 1024; xo++)
    for (let i = 0; i < 2; i++) {
      // Operand fields random, reserved-looking bits mostly zero so real instructions show.
      const ops = i === 0 ? rnd() & 0x03fff800 : rnd() & 0x03ffffff;
      words.push(((p << 26) | (ops & ~0x7fe) | (xo << 1) | (rnd() & 1)) >>> 0);
    }
for (let xo = 0; xo < 16; xo++)
  for (let i = 0; i < 2; i++) words.push(((30 << 26) | (rnd() & 0x03ffffe1) | (xo << 1)) >>> 0);

const dir = mkdtempSync(join(tmpdir(), "hvkit-ppc-objdump-"));
try {
  const bin = Buffer.alloc(words.length * 4);
  words.forEach((w, i) => bin.writeUInt32BE(w, i * 4));
  const file = join(dir, "words.bin");
  writeFileSync(file, bin);
  const out = execFileSync(OBJDUMP, [...ARGS, file], { maxBuffer: 1 << 28 }).toString();
  const text = new Map<number, string>();
  for (const line of out.split("\n")) {
    const m = /^\s*([0-9a-f]+):\s+(.*)$/.exec(line);
    if (m) text.set(parseInt(m[1]!, 16), m[2]!.replace(/\s+/g, " ").trim());
  }
  const version = execFileSync(OBJDUMP, ["--version"]).toString().split("\n")[0]!;
  const lines = [`# ${version} | ${OBJDUMP} ${ARGS.join(" ")}`];
  words.forEach((w, i) => {
    const t = text.get(i * 4);
    if (t === undefined) throw new Error(`objdump printed nothing at ${i * 4}`);
    lines.push(`${w.toString(16).padStart(8, "0")} ${t}`);
  });
  writeFileSync(
    new URL("../src/cpu/corpus/objdump-ppc64.txt", import.meta.url),
    lines.join("\n") + "\n",
  );
  console.log(`${words.length} words`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
