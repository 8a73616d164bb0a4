/**
 * Structural checks of the interpreter: every Op the instruction table uses has a `case`,
 * and the literal mirrors execute.ts switches on (O, F, L) equal the contracts they copy
 * (a drift would silently execute the wrong operation).
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  LOC_IMM,
  LOC_MEM,
  LOC_NONE,
  LOC_SPECIAL,
  RM_MOFFS,
  SLOT,
  X_AUX,
  X_DST,
  X_EA,
  X_EXT,
  X_PACK,
  X_SRC,
} from "./decode-cache.js";
import { AF, CF, DF, IF, IOPL, OF, PF, SF, STATUS, ZF } from "./alu.js";
import { DecodeCache } from "./decode-cache.js";
import { Seg } from "./cpu-api.js";
import { BASE_RIP, D } from "./insn.js";
import { TLB_MASK } from "./paging.js";
import { Op } from "./ops.js";
import { TABLE } from "./table.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const SRC = readFileSync(join(HERE, "execute.ts"), "utf8");
const ALU_SRC = readFileSync(join(HERE, "alu.ts"), "utf8");

function mirror(name: string, src = SRC): Map<string, number> {
  const m = new RegExp(`export const enum ${name} \\{([^}]*)\\}`).exec(src);
  if (!m) throw new Error(`enum ${name} not found in execute.ts`);
  const out = new Map<string, number>();
  for (const [, k, v] of m[1].matchAll(/([A-Z0-9_]+) = (-?(?:0x[0-9a-f]+|\d+))/g))
    out.set(k, Number(v));
  return out;
}

describe("interpreter dispatch", () => {
  it("the O mirror equals Op for every name it lists", () => {
    const o = mirror("O");
    expect(o.size).toBeGreaterThan(100);
    for (const [k, v] of o) expect(v, k).toBe((Op as unknown as Record<string, number>)[k]);
  });

  it("the F and L mirrors equal the record layout and operand locations", () => {
    const f = mirror("F");
    for (const [k, v] of f) {
      const want =
        { X_DST, X_SRC, X_AUX, X_EXT, PACK: X_PACK, EA: X_EA, SLOT }[k] ??
        (D as Record<string, number>)[k];
      expect(v, k).toBe(want);
    }
    const l = mirror("L");
    expect(Object.fromEntries(l)).toEqual({
      MEM: LOC_MEM,
      IMM: LOC_IMM,
      NONE: LOC_NONE,
      SPECIAL: LOC_SPECIAL,
      MOFFS: RM_MOFFS,
    });
  });

  it("the LZ and K mirrors equal alu.ts Lazy, the RFLAGS bits and the table masks", () => {
    expect(Object.fromEntries(mirror("LZ"))).toEqual(Object.fromEntries(mirror("Lazy", ALU_SRC)));
    const want: Record<string, number> = {
      CF,
      PF,
      AF,
      ZF,
      SF,
      IF,
      DF,
      OF,
      IOPL,
      STATUS,
      TLB_MASK,
      DC_MASK: DecodeCache.MASK,
    };
    expect(Object.fromEntries(mirror("K"))).toEqual(want);
    expect(Object.fromEntries(mirror("S"))).toEqual({ FS: Seg.FS, GS: Seg.GS, BASE_RIP });
  });

  it("has a case for every Op the instruction table uses", () => {
    const cases = new Set([...SRC.matchAll(/case O\.([A-Z0-9_]+)/g)].map((m) => m[1]));
    const used = new Set(TABLE.map((r) => Op[r.op]));
    const missing = [...used].filter(
      (n) => n !== "UNIMPLEMENTED" && n !== "INVALID" && n !== "VMCALL" && !cases.has(n),
    );
    expect(missing).toEqual([]);
    console.log(
      `${used.size} Ops used by ${TABLE.length} table rows; ${cases.size} implemented cases`,
    );
  });
});
