/**
 * The table's own promises: each row's fixed bits decode to that row and to no other, for
 * random operand values; the table has every row name once; and the big-endian words the
 * disassembler prints for a few hand-checked encodings.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeWord } from "./decode.js";
import { disassemble } from "./disasm.js";
import { TABLE } from "./table.js";

describe("instruction table", () => {
  it("names every row once", () => {
    const names = TABLE.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it("decodes any word with a row's fixed bits to that row (or rejects a reserved field value)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: TABLE.length - 1 }), fc.integer(), (i, bits) => {
        const r = TABLE[i]!;
        const w = ((bits & ~r.mask) | r.match) >>> 0;
        const d = decodeWord(w);
        expect(d === i || d === -1).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it("prints extended mnemonics as objdump does", () => {
    expect(disassemble(0x38600005, 0n)).toBe("li r3,5");
    expect(disassemble(0x7c832378, 0n)).toBe("mr r3,r4");
    expect(disassemble(0x4e800020, 0n)).toBe("blr");
    expect(disassemble(0x41820008, 0x28n)).toBe("beq 0x30");
    expect(disassemble(0x7c6802a6, 0n)).toBe("mflr r3");
    expect(disassemble(0x78832800, 0n)).toBe("rotldi r3,r4,5");
    expect(disassemble(0, 0n)).toBe(".long 0x0");
  });
});
