/**
 * Decoder speed: instructions decoded per second over the objdump corpus's encodings.
 *
 *   node --import tsx arch-x86/scripts/bench-decode.ts
 *
 * Two streams: every corpus encoding back to back (prefix-heavy, all opcode forms), and the
 * corpus entries objdump prints without prefix words (closer to compiler output). Each
 * stream is decoded start to end, repeatedly, into one reused record, as the interpreter's
 * decode cache would on a miss. Timing uses this process's CPU time (process.cpuUsage), so a busy machine skews it less;
 * timing is fine here: this is a tool, not the model.
 */
import { readFileSync } from "node:fs";
import { decodeInsn } from "../src/decode.js";
import { INSN_FIELDS } from "../src/insn.js";

const corpus = JSON.parse(
  readFileSync(new URL("../src/corpus/objdump-x86_64.json", import.meta.url), "utf8"),
) as {
  entries: [string, number, string][];
};

function stream(entries: [string, number, string][]): { code: Uint8Array; count: number } {
  const hex = entries.map((e) => e[0]).join("");
  const code = new Uint8Array(hex.length / 2);
  for (let i = 0; i < code.length; i++) code[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return { code, count: entries.length };
}

function bench(name: string, s: { code: Uint8Array; count: number }): void {
  const rec = new Int32Array(INSN_FIELDS);
  const pass = (): number => {
    let off = 0;
    let n = 0;
    while (off < s.code.length) {
      const len = decodeInsn(s.code, off, s.code.length, 64, rec, 0);
      if (len <= 0) throw new Error(`decode failed at ${off}`);
      off += len;
      n++;
    }
    return n;
  };
  for (let i = 0; i < 20; i++) pass(); // warm up
  // CPU time of this process, not wall time: the machine may be shared.
  const cpu = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const t0 = cpu();
  let total = 0;
  while (cpu() - t0 < 2) total += pass();
  const secs = cpu() - t0;
  console.log(
    `${name}: ${s.count} instructions/pass, ${(total / secs / 1e6).toFixed(1)} M instructions/s (CPU time)`,
  );
}

const plain = corpus.entries.filter(
  ([, , t]) =>
    !/^(rex|data16|addr32|lock|rep|repz|repnz|bnd|notrack|xacquire|xrelease|[c-gs]s) /.test(t),
);
bench("corpus, all encodings", stream(corpus.entries));
bench("corpus, no prefix words", stream(plain));
