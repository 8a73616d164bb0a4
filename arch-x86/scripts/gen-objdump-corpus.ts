/**
 * Regenerates arch-x86/src/corpus/objdump-x86_64.json (64-bit mode) and objdump-i386.json
 * (32-bit protected mode, for the 32-bit PV guests to come): encodings with the length and
 * text GNU objdump gives them, the oracle for corpus.test.ts.
 *
 *   node --import tsx arch-x86/scripts/gen-objdump-corpus.ts
 *
 * What it generates (seeded PRNG, so the output is the same on every run with the same
 * objdump):
 *  1. Table-driven: every table row valid in the mode × every opcode it covers (+r, +cc)
 *     × ModRM shapes (register; base; RIP-relative; SIB with and without base/index;
 *     disp8/disp32, random scale) × prefix sets (none, 66, REX.W, random REX, 66+REX.W, 67,
 *     fs/gs, lock on lockable memory forms (no REX in 32-bit mode), rep/repne on string rows, random mixes of up to
 *     three legacy prefixes plus REX). Each encoding is followed by eight random bytes, so
 *     immediates and displacements get random values and objdump decides how many it takes.
 *  2. Sweep: every one-byte and 0F opcode outside the VEX ranges (and the 0F 38/3A
 *     escapes) × every ModRM.reg × a memory and a register form — the 0F opcodes of the
 *     MMX/SSE space also with each of 66, F3 and F2; the x87 escapes D8–DF also with every
 *     register-form ModRM byte — to catch in-scope encodings the table lacks.
 *
 * Each encoding sits alone in a 64-byte slot padded with nops, so objdump resynchronises
 * after it whatever it makes of the bytes; the line objdump prints at the slot start is the
 * oracle. Dropped from the corpus (documented in corpus.test.ts):
 *  - lines objdump calls `(bad)`;
 *  - mnemonics outside the interpreter's scope (SSE4a, VMX/SVM operand forms, MPX, SGX, TSX with operands,
 *    monitor/mwait and other instructions with implicit register operands) — see
 *    OUT_OF_SCOPE below;
 *  - nothing else: a line the decoder gets wrong stays in and fails the test.
 * Encodings where objdump and the CPU knowingly differ are not generated: a REX prefix
 * followed by a legacy prefix (objdump prints the REX as a separate instruction; the CPU
 * ignores it), lock on non-lockable instructions (objdump prints `lock`; the CPU raises
 * #UD), more than 15 bytes.
 *
 * Nothing here runs in the test suite; the tests read only the committed JSON.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModMatch, Opd, RowFlag, TABLE, rowValidIn, type InsnRow } from "../src/table.js";

const SLOT = 64;
/** Which corpus is being generated: 64 (x86-64, `-m i386:x86-64`) or 32 (`-m i386`). */
let MODE: 64 | 32 = 64;

let seed = 0x5eed1234;
/** mulberry32. */
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const ri = (n: number): number => Math.floor(rand() * n);
const pickOf = <T>(a: readonly T[]): T => a[ri(a.length)];
const randBytes = (n: number): number[] =>
  Array.from({ length: n }, () => (rand() < 0.3 ? pickOf([0, 0xff, 0x80, 0x7f, 1]) : ri(256)));

const SEGS = [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];
const MAP_BYTES = [[], [0x0f], [0x0f, 0x38], [0x0f, 0x3a]];

/** Opcode keys (map*256+opcode) that have a row with a mandatory prefix. */
const mandatoryKeys = new Set<number>();
for (const r of TABLE) if (r.prefix !== 0) mandatoryKeys.add(r.map * 256 + r.opcode);

function modrmShapes(row: InsnRow, count: number): number[][] {
  const out: number[][] = [];
  const allowMem = row.mod !== ModMatch.Reg && !(row.flags & RowFlag.MODREG);
  const allowReg = row.mod !== ModMatch.Mem;
  for (let i = 0; i < count; i++) {
    const reg =
      row.ext >= 0
        ? row.ext
        : row.operands.includes(Opd.Sw)
          ? pickOf(row.operands[0] === Opd.Sw ? [0, 2, 3, 4, 5] : [0, 1, 2, 3, 4, 5])
          : ri(8);
    if (row.rm >= 0) {
      out.push([0xc0 | (reg << 3) | row.rm]);
      continue;
    }
    const useReg = allowReg && (!allowMem || i % 3 === 0);
    if (useReg) {
      out.push([0xc0 | (reg << 3) | ri(8)]);
      continue;
    }
    const shape = i % 7;
    const rm = shape === 0 ? pickOf([0, 1, 2, 3, 6, 7]) : shape === 1 ? 5 : shape <= 3 ? 4 : ri(8);
    const mod = shape <= 2 ? 0 : shape === 3 ? ri(3) : 1 + ri(2);
    const b = [(mod << 6) | (reg << 3) | rm];
    if (rm === 4) b.push(shape === 2 ? (ri(4) << 6) | (ri(8) << 3) | 5 : ri(256));
    out.push(b);
  }
  return out;
}

/** Legacy prefix sets for one row (the mandatory prefix is added by the caller). */
function prefixSets(row: InsnRow, mem: boolean): { legacy: number[]; rex: number }[] {
  const key = row.map * 256 + row.opcode;
  const restricted = mandatoryKeys.has(key);
  const string = (row.flags & (RowFlag.REP | RowFlag.REPZ)) !== 0;
  const sets: { legacy: number[]; rex: number }[] = [
    { legacy: [], rex: 0 },
    { legacy: [], rex: 0x48 },
    { legacy: [], rex: 0x40 | ri(16) },
    { legacy: [], rex: 0x40 | ri(16) },
  ];
  if (!restricted || row.prefix === 0xf3)
    sets.push({ legacy: [0x66], rex: 0 }, { legacy: [0x66], rex: 0x48 });
  if (mem || string)
    sets.push({ legacy: [0x67], rex: 0 }, { legacy: [pickOf([0x64, 0x65])], rex: 0 });
  if (mem && row.flags & RowFlag.LOCK)
    sets.push({ legacy: [0xf0], rex: 0 }, { legacy: [0xf0], rex: 0x48 });
  if (string)
    sets.push(
      { legacy: [0xf3], rex: 0 },
      { legacy: [0xf2], rex: 0x48 },
      { legacy: [0xf3, 0x66], rex: 0 },
    );
  // Random mixes.
  for (let i = 0; i < 3; i++) {
    const pool = [0x66, 0x67, ...SEGS, ...(restricted ? [] : [0xf2, 0xf3])].filter(
      (p) => !(restricted && p === 0x66 && row.prefix !== 0xf3),
    );
    const n = 1 + ri(3);
    const legacy = Array.from({ length: n }, () => pickOf(pool));
    if (mem && row.flags & RowFlag.LOCK && rand() < 0.3)
      legacy.splice(ri(legacy.length + 1), 0, 0xf0);
    sets.push({ legacy, rex: rand() < 0.5 ? 0x40 | ri(16) : 0 });
  }
  return sets;
}

interface Candidate {
  bytes: number[];
  source: string;
}

function rowCandidates(row: InsnRow): Candidate[] {
  const res: Candidate[] = [];
  const opcodes = Array.from({ length: row.opcodeCount }, (_, k) => row.opcode + k);
  const nShapes = row.modrm ? (row.rm >= 0 ? 1 : 16) : 1;
  const shapes = row.modrm ? modrmShapes(row, nShapes) : [[]];
  for (const shape of shapes) {
    const mem = shape.length > 0 && shape[0] < 0xc0 && !(row.flags & RowFlag.MODREG);
    const sets = prefixSets(row, mem);
    const take = row.modrm ? (row.rm >= 0 ? sets.length : 5) : sets.length * 2;
    for (let i = 0; i < take; i++) {
      const ps = row.modrm && row.rm < 0 ? sets[ri(sets.length)] : sets[i % sets.length];
      const opc = pickOf(opcodes);
      const legacy = [...ps.legacy];
      if (row.prefix) legacy.push(row.prefix);
      const rex = MODE === 32 || (row.map === 0 && row.opcode === 0x9b) ? 0 : ps.rex;
      const bytes = [...legacy, ...(rex ? [rex] : []), ...MAP_BYTES[row.map], opc, ...shape];
      if (bytes.length + 8 > 15 && legacy.length > 0) continue;
      // fwait is a prefix to objdump when x87 follows: keep its tail inert.
      const tail = row.map === 0 && row.opcode === 0x9b ? [0x90] : randBytes(8);
      res.push({ bytes: [...bytes, ...tail], source: `row ${row.index} ${row.encoding}` });
    }
  }
  return res;
}

function sweepCandidates(): Candidate[] {
  const res: Candidate[] = [];
  const skip1 = (b: number): boolean =>
    (MODE === 64 && b >= 0x40 && b <= 0x4f) ||
    [
      0x8f, 0x9b, 0x0f, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x62,
      0xc4, 0xc5,
    ].includes(b);
  const sse = (b: number): boolean =>
    (b >= 0x10 && b <= 0x17) ||
    (b >= 0x28 && b <= 0x2f) ||
    (b >= 0x50 && b <= 0x7f) ||
    b === 0xc2 ||
    (b >= 0xc4 && b <= 0xc6) ||
    (b >= 0xd0 && b <= 0xfe);
  for (let map = 0; map < 2; map++) {
    for (let op = 0; op < 256; op++) {
      if (map === 0 && skip1(op)) continue;
      if (map === 1 && [0x0e, 0x0f, 0x38, 0x3a, 0x78, 0x79].includes(op)) continue;
      // The MMX/SSE part of the 0F map is swept with each mandatory prefix too.
      const prefixes = map === 1 && sse(op) ? [[], [0x66], [0xf3], [0xf2]] : [[]];
      for (const pfx of prefixes) {
        for (let reg = 0; reg < 8; reg++) {
          // mov to/from a segment register that does not exist, or into cs: #UD on the CPU.
          if (map === 0 && (op === 0x8c || op === 0x8e) && (reg >= 6 || (op === 0x8e && reg === 1)))
            continue;
          for (const m of [(ri(0xc0) & ~0x07) | pickOf([0, 1, 3, 6]), 0xc0 | ri(8)]) {
            const modrm = (m & 0xc7) | (reg << 3);
            res.push({
              bytes: [...pfx, ...MAP_BYTES[map], op, modrm, ...randBytes(8)],
              source: `sweep ${pfx.map((p) => p.toString(16) + " ").join("")}${map ? "0f " : ""}${op.toString(16)}`,
            });
          }
        }
      }
    }
  }
  // The x87 escapes: every register-form ModRM byte, and each /digit as memory.
  for (let op = 0xd8; op <= 0xdf; op++) {
    for (let m = 0xc0; m <= 0xff; m++)
      res.push({
        bytes: [op, m, ...randBytes(8)],
        source: `sweep ${op.toString(16)} ${m.toString(16)}`,
      });
  }
  return res;
}

/** SSE4a (AMD's extrq, insertq, movntss, movntsd): decoded by objdump in the swept space, not in the table. */
const SSE4A = /^(extrq|insertq|movnts[sd])$/;

/** Mnemonics outside the interpreter's scope that objdump decodes in the swept opcode space. */
const OUT_OF_SCOPE =
  /^(monitor|mwait|monitorx|mwaitx|vmptrld|vmptrst|vmclear|vmxon|vmread|vmwrite|bnd\w*|rdsspd|rdsspq|incssp\w*|saveprevssp|rstorssp|setssbsy|clrssbsy|wrss\w*|wruss\w*|encls|enclu|enclv|xabort|xbegin|getsec|rdpid|invept|invvpid|invpcid|ptwrite|umonitor|umwait|tpause|uiret|testui|clui|stui|senduipi|hreset|enqcmd\w*|movdir\w*|xresldtrk|xsusldtrk|pconfig|wbnoinvd|rdpru|invlpgb|tlbsync|mcommit|psmash|pvalidate|rmpadjust|rmpupdate|seamcall|seamops|seamret|tdcall|aadd|aand|aor|axor|cmp\w+xadd|rdmsrlist|wrmsrlist|wrmsrns|erets|eretu|lkgs|femms|xstore\S*|xcrypt\S*|montmul|xsha\S*|prefetchit\d)$/;

function main(mode: 64 | 32): void {
  MODE = mode;
  seed = 0x5eed1234;
  const arch = mode === 64 ? "i386:x86-64" : "i386";
  const out = new URL(
    `../src/corpus/objdump-${mode === 64 ? "x86_64" : "i386"}.json`,
    import.meta.url,
  );
  const cands: Candidate[] = [];
  for (const row of TABLE) if (rowValidIn(row, mode)) cands.push(...rowCandidates(row));
  cands.push(...sweepCandidates());
  const blob = new Uint8Array(cands.length * SLOT).fill(0x90);
  cands.forEach((c, i) => blob.set(c.bytes, i * SLOT));
  const dir = mkdtempSync(join(tmpdir(), "hvkit-objdump-"));
  const bin = join(dir, "corpus.bin");
  writeFileSync(bin, blob);
  const text = execFileSync("objdump", ["-D", "-b", "binary", "-m", arch, "--insn-width=16", bin], {
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const version = execFileSync("objdump", ["--version"], { encoding: "utf8" }).split("\n")[0];
  rmSync(dir, { recursive: true });
  const seen = new Set<string>();
  const entries: [string, number, string][] = [];
  let bad = 0;
  let scope = 0;
  for (const line of text.split("\n")) {
    const m = /^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(.*)$/.exec(line);
    if (!m) continue;
    const addr = parseInt(m[1], 16);
    if (addr % SLOT !== 0) continue;
    const hex = m[2].replace(/ /g, "");
    const t = m[3].replace(/\s+/g, " ").trim();
    if (t.includes("(bad)")) {
      bad++;
      continue;
    }
    // 0F 24/26: the 386's test registers, gone since the Pentium; swapgs outside 64-bit
    // mode, which objdump decodes and the CPU rejects (#UD).
    if (t.includes("%tr") || (mode === 32 && t === "swapgs")) {
      scope++;
      continue;
    }
    const words = t.split(" ");
    const mnem =
      words.find(
        (w) =>
          !/^(rex(\.\w+)?|data16|addr16|addr32|lock|rep|repz|repnz|bnd|notrack|[c-gs]s)$/.test(w),
      ) ?? "";
    if (OUT_OF_SCOPE.test(mnem.replace(/,p[nt]$/, "")) || SSE4A.test(mnem)) {
      scope++;
      continue;
    }
    const key = hex;
    if (seen.has(key)) continue;
    seen.add(key);
    entries.push([hex, addr, t]);
  }
  const doc = {
    about: `${mode === 64 ? "x86-64" : "32-bit x86"} encodings disassembled by GNU objdump; regenerate with arch-x86/scripts/gen-objdump-corpus.ts`,
    objdump: version,
    command: `objdump -D -b binary -m ${arch} --insn-width=16`,
    mode,
    format:
      "entries: [hex bytes objdump consumed, address objdump printed it at, objdump text with whitespace runs collapsed]",
    entries,
  };
  writeFileSync(out, JSON.stringify(doc).replace(/\],\[/g, "],\n["));
  console.log(
    `${arch}: ${cands.length} encodings generated; ${entries.length} kept; ${bad} (bad) dropped; ${scope} out of scope dropped`,
  );
}

main(64);
main(32);
