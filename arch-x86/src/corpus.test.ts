/**
 * The decoder and disassembler against GNU objdump, the oracle: every entry of the
 * committed corpora — x86-64 (`objdump-x86_64.json`, 64-bit mode) and 32-bit protected
 * mode (`objdump-i386.json`, for the 32-bit PV guests to come) — is decoded and printed by
 * hvkit (arch-x86/scripts/gen-objdump-corpus.ts regenerates them; this test needs no objdump).
 *
 * - Length must agree on every entry (100%).
 * - Text (mnemonic and operands) must agree on at least 99%. Normalisation, applied to
 *   both sides: whitespace runs collapse to one space, ends are trimmed, and objdump's
 *   trailing `# comment` (the RIP-relative target) is dropped. Nothing else: suffixes,
 *   prefix names and number formats must match as printed.
 *
 * Corpus content: encodings objdump calls `(bad)` are not in it, nor out-of-scope
 * instructions (x87, SSE/MMX, VMX operand forms, MPX, SGX, ...), nor encodings where
 * objdump and a real CPU knowingly disagree (REX before a legacy prefix, lock on a
 * non-lockable instruction, > 15 bytes); decode.test.ts checks the CPU's behaviour there.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeInsn } from "./decode.js";
import { disassemble } from "./disasm.js";
import { INSN_FIELDS } from "./insn.js";

interface Corpus {
  objdump: string;
  command: string;
  entries: [hex: string, address: number, text: string][];
}

const normalise = (t: string): string =>
  t
    .replace(/\s+#.*$/, "")
    .replace(/\s+/g, " ")
    .trim();
const bytesOf = (hex: string): Uint8Array => {
  // The instruction followed by the nop padding objdump saw after it.
  const b = new Uint8Array(hex.length / 2 + 16).fill(0x90);
  for (let i = 0; i < hex.length / 2; i++) b[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return b;
};

for (const [file, mode] of [
  ["objdump-x86_64.json", 64],
  ["objdump-i386.json", 32],
] as const) {
  const corpus = JSON.parse(
    readFileSync(new URL(`./corpus/${file}`, import.meta.url), "utf8"),
  ) as Corpus;
  describe(`${file}: ${corpus.command} (${corpus.objdump})`, () => {
    const rec = new Int32Array(INSN_FIELDS);
    const lenBad: string[] = [];
    const textBad: string[] = [];
    for (const [hex, address, text] of corpus.entries) {
      const n = decodeInsn(bytesOf(hex), 0, hex.length / 2 + 16, mode, rec, 0);
      if (n !== hex.length / 2) {
        lenBad.push(`${hex}: hvkit ${n}, objdump ${hex.length / 2} (${text})`);
        continue;
      }
      const mine = normalise(disassemble(rec, 0, BigInt(address)));
      if (mine !== normalise(text))
        textBad.push(`${hex}: hvkit "${mine}" objdump "${normalise(text)}"`);
    }
    const total = corpus.entries.length;
    const lenPct = (100 * (total - lenBad.length)) / total;
    const textPct = (100 * (total - lenBad.length - textBad.length)) / total;
    console.log(
      `${file}: ${total} encodings; length agreement ${lenPct.toFixed(3)}%, text agreement ${textPct.toFixed(3)}%`,
    );
    if (lenBad.length)
      console.log("first length disagreements:\n  " + lenBad.slice(0, 20).join("\n  "));
    if (textBad.length)
      console.log("first text disagreements:\n  " + textBad.slice(0, 30).join("\n  "));

    it("has at least 20,000 encodings", () => {
      expect(total).toBeGreaterThanOrEqual(20_000);
    });
    it("agrees with objdump on the length of every encoding", () => {
      expect(lenBad.slice(0, 10)).toEqual([]);
    });
    it("agrees with objdump on mnemonic and operands for at least 99%", () => {
      expect(textPct).toBeGreaterThanOrEqual(99);
    });
  });
}
