/**
 * Decoder unit tests: the record fields the interpreter relies on, for encodings where a
 * decoder is easy to get wrong (prefix interplay, REX placement, lock validity, moffs,
 * RIP-relative with an immediate, the 15-byte limit, truncated input, mode differences),
 * plus property tests for the decoder's contract (never throws, reads nothing at or past
 * `limit`, truncation gives 0). Text and length against objdump: corpus.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Reg, Seg } from "./cpu-api.js";
import { decodeInsn } from "./decode.js";
import { BASE_RIP, D, INSN_FIELDS, Pfx, REG_AH } from "./insn.js";
import { Op } from "./ops.js";
import { TABLE } from "./table.js";

const bytes = (hex: string): Uint8Array =>
  Uint8Array.from(
    hex
      .trim()
      .split(/\s+/)
      .map((x) => parseInt(x, 16)),
  );

/** Decodes `hex` (with the whole buffer available) and returns the length and record. */
function dec(hex: string, mode: 64 | 32 | 16 = 64): { n: number; r: Int32Array; mn: string } {
  const b = bytes(hex);
  const r = new Int32Array(INSN_FIELDS);
  const n = decodeInsn(b, 0, b.length, mode, r, 0);
  return { n, r, mn: n > 0 ? TABLE[r[D.ROW]].mnemonic : "" };
}

describe("prefixes", () => {
  it("uses REX only when it immediately precedes the opcode", () => {
    // 48 66 01 c0: the REX is followed by a legacy prefix, so the CPU ignores it: add ax, ax.
    const a = dec("48 66 01 c0");
    expect(a.n).toBe(4);
    expect(a.r[D.OSZ]).toBe(2);
    expect(a.r[D.REX]).toBe(0);
    expect(a.r[D.PFX] & Pfx.REX).toBe(0);
    // 41 66 01 c0: REX.B ignored too, so the r/m register is eax's number 0, not r8.
    expect(dec("41 66 01 c0").r[D.BASE]).toBe(Reg.RAX);
    // 66 48 01 c0: REX.W wins over 66.
    const b = dec("66 48 01 c0");
    expect(b.r[D.OSZ]).toBe(8);
    expect(b.r[D.PFX] & (Pfx.OPSIZE | Pfx.REXW)).toBe(Pfx.OPSIZE | Pfx.REXW);
  });

  it("takes the last segment override and any order and repetition of prefixes", () => {
    const a = dec("64 65 2e 8b 00");
    expect(a.n).toBe(5);
    expect(a.r[D.SEG]).toBe(Seg.CS);
    const b = dec("66 66 66 f3 f2 8b 00");
    expect(b.n).toBe(7);
    expect(b.r[D.OSZ]).toBe(2);
    expect(b.r[D.PFX] & (Pfx.REP | Pfx.REPNE)).toBe(Pfx.REPNE);
    expect(dec("8b 00").r[D.SEG]).toBe(-1);
  });

  it("keeps f3 on a non-string instruction as a recorded, harmless prefix", () => {
    const a = dec("f3 01 c0");
    expect(a.n).toBe(3);
    expect(a.r[D.OP]).toBe(Op.ADD);
    expect(a.r[D.PFX] & Pfx.REP).toBe(Pfx.REP);
  });

  it("treats f3 as a mandatory prefix where the table has one (popcnt, tzcnt, pause)", () => {
    expect(dec("f3 0f b8 c1").r[D.OP]).toBe(Op.POPCNT);
    expect(dec("0f bc c1").r[D.OP]).toBe(Op.BSF);
    expect(dec("f3 0f bc c1").r[D.OP]).toBe(Op.TZCNT);
    expect(dec("66 f3 0f bd c1").r[D.OSZ]).toBe(2); // lzcnt ax: 66 stays the operand size
    expect(dec("f3 90").mn).toBe("pause");
    expect(dec("90").mn).toBe("nop");
    expect(dec("66 90").r[D.OP]).toBe(Op.XCHG);
    const x = dec("41 90"); // xchg r8d, eax
    expect(x.r[D.OP]).toBe(Op.XCHG);
    expect(x.r[D.REG]).toBe(Reg.R8);
  });

  it("accepts lock only on lockable instructions with a memory destination", () => {
    expect(dec("f0 01 00").n).toBe(3);
    expect(dec("f0 01 c0").n).toBe(-1); // register destination
    expect(dec("f0 03 00").n).toBe(-1); // add r, r/m: destination is a register
    expect(dec("f0 89 00").n).toBe(-1); // mov is not lockable
    expect(dec("f0 83 38 01").n).toBe(-1); // cmp is not lockable
    expect(dec("f0 87 00").n).toBe(3); // xchg
    expect(dec("f0 48 0f c7 0f").r[D.OP]).toBe(Op.CMPXCHG16B);
    expect(dec("f0 0f ba 28 03").r[D.OP]).toBe(Op.BTS);
    expect(dec("f0 0f ba 20 03").n).toBe(-1); // bt does not write
    expect(dec("f0 90").n).toBe(-1);
  });
});

describe("operands", () => {
  it("decodes moffs64 and its 32-bit-address form", () => {
    const a = dec("48 a1 88 77 66 55 44 33 22 11");
    expect(a.n).toBe(10);
    expect(a.r[D.OSZ]).toBe(8);
    expect(a.r[D.IMM_LO] >>> 0).toBe(0x55667788);
    expect(a.r[D.IMM_HI] >>> 0).toBe(0x11223344);
    const b = dec("67 a0 f0 ff ff ff");
    expect(b.n).toBe(6);
    expect(b.r[D.ASZ]).toBe(4);
    expect(b.r[D.IMM_LO] >>> 0).toBe(0xfffffff0);
    expect(b.r[D.IMM_HI]).toBe(0); // zero-extended address, not sign-extended
  });

  it("decodes RIP-relative memory followed by an immediate", () => {
    const a = dec("c7 05 f8 ff ff ff 78 56 34 12"); // movl $0x12345678, -8(%rip)
    expect(a.n).toBe(10);
    expect(a.r[D.RM_MEM]).toBe(1);
    expect(a.r[D.BASE]).toBe(BASE_RIP);
    expect(a.r[D.INDEX]).toBe(-1);
    expect(a.r[D.DISP]).toBe(-8);
    expect(a.r[D.IMM_LO]).toBe(0x12345678);
    const b = dec("48 81 3d 00 01 00 00 ff ff ff ff"); // cmpq $-1, 0x100(%rip)
    expect(b.n).toBe(11);
    expect(b.r[D.DISP]).toBe(0x100);
    expect(b.r[D.IMM_LO]).toBe(-1);
    expect(b.r[D.IMM_HI]).toBe(-1);
    // In 32-bit mode the same ModRM is an absolute disp32.
    expect(dec("8b 05 00 10 00 00", 32).r[D.BASE]).toBe(-1);
  });

  it("decodes SIB forms: no base, no index, REX.X making index 4 into r12", () => {
    const a = dec("8b 04 25 10 00 00 00"); // mov 0x10, %eax
    expect([a.r[D.BASE], a.r[D.INDEX], a.r[D.DISP]]).toEqual([-1, -1, 0x10]);
    const b = dec("42 8b 04 a0"); // mov (%rax,%r12,4), %eax
    expect([b.r[D.BASE], b.r[D.INDEX], b.r[D.SCALE]]).toEqual([Reg.RAX, Reg.R12, 2]);
    const c = dec("41 8b 44 24 08"); // mov 8(%r12), %eax
    expect([c.r[D.BASE], c.r[D.INDEX], c.r[D.DISP]]).toEqual([Reg.R12, -1, 8]);
    const d = dec("41 8b 45 00"); // mov 0(%r13), %eax: r13 base needs the disp8
    expect([d.n, d.r[D.BASE]]).toEqual([4, Reg.R13]);
  });

  it("maps byte registers 4-7 to ah..bh without REX and spl..dil with it", () => {
    const a = dec("88 e0"); // mov %ah, %al
    expect([a.r[D.REG], a.r[D.BASE]]).toEqual([REG_AH, Reg.RAX]);
    const b = dec("40 88 e0"); // mov %spl, %al
    expect(b.r[D.REG]).toBe(Reg.RSP);
    expect(dec("b7 01").r[D.REG]).toBe(REG_AH + 3); // mov $1, %bh
    expect(dec("41 b7 01").r[D.REG]).toBe(Reg.R15);
    expect(dec("0f b6 c4").r[D.BASE]).toBe(REG_AH); // movzbl %ah, %eax
  });

  it("sign- and zero-extends immediates per operand kind", () => {
    const push = dec("6a ff");
    expect([push.r[D.OSZ], push.r[D.IMM_LO], push.r[D.IMM_HI]]).toEqual([8, -1, -1]);
    const mov = dec("48 c7 c0 00 00 00 80");
    expect([mov.r[D.IMM_LO], mov.r[D.IMM_HI]]).toEqual([-0x80000000, -1]);
    const imm16 = dec("66 05 ff ff"); // add $0xffff, %ax
    expect([imm16.n, imm16.r[D.OSZ]]).toEqual([4, 2]);
    const int = dec("cd 80");
    expect(int.r[D.IMM_LO]).toBe(0x80); // imm8 zero-extended
    const enter = dec("c8 10 02 03");
    expect([enter.r[D.IMM_LO], enter.r[D.IMM2]]).toEqual([0x210, 3]);
    const ret = dec("c2 ff ff");
    expect(ret.r[D.IMM_LO]).toBe(0xffff);
    const jmp = dec("eb fe");
    expect(jmp.r[D.IMM_LO]).toBe(-2);
    const abs = dec("48 b8 ef cd ab 89 67 45 23 01");
    expect([abs.n, abs.r[D.IMM_LO] >>> 0, abs.r[D.IMM_HI]]).toEqual([10, 0x89abcdef, 0x01234567]);
  });

  it("records the condition code, control/debug and segment register numbers", () => {
    expect(dec("0f 94 c0").r[D.CC]).toBe(4);
    expect(dec("7f 00").r[D.CC]).toBe(15);
    expect(dec("0f 4c c1").r[D.CC]).toBe(12);
    const cr = dec("44 0f 22 c0"); // mov %rax, %cr8
    expect([cr.r[D.OP], cr.r[D.REG], cr.r[D.BASE], cr.r[D.OSZ]]).toEqual([
      Op.MOV_CR,
      8,
      Reg.RAX,
      8,
    ]);
    const cr3 = dec("0f 20 18"); // mod is ignored: mov %cr3, %rax
    expect([cr3.n, cr3.r[D.RM_MEM], cr3.r[D.BASE]]).toEqual([3, 0, Reg.RAX]);
    expect(dec("8e d8").r[D.REG]).toBe(Seg.DS);
    expect(dec("8e c8").n).toBe(-1); // mov to cs
    expect(dec("8c f0").n).toBe(-1); // no segment register 6
  });

  it("gives near branches and push/pop a 64-bit operand size", () => {
    expect(dec("50").r[D.OSZ]).toBe(8);
    expect(dec("66 50").r[D.OSZ]).toBe(2);
    expect(dec("ff d0").r[D.OSZ]).toBe(8);
    expect(dec("e8 00 00 00 00").r[D.OSZ]).toBe(8);
    expect(dec("0f 20 c0").r[D.OSZ]).toBe(8);
    expect(dec("48 e5 10").r[D.OSZ]).toBe(4); // in never has a 64-bit operand
  });
});

describe("limits", () => {
  it("rejects instructions longer than 15 bytes", () => {
    expect(dec("66 ".repeat(13) + "01 c0").n).toBe(15);
    expect(dec("66 ".repeat(14) + "01 c0").n).toBe(-1);
    expect(dec("66 ".repeat(5) + "48 b8 01 02 03 04 05 06 07 08").n).toBe(15);
    expect(dec("66 66 66 66 66 66 48 b8 01 02 03 04 05 06 07 08").n).toBe(-1);
  });

  it("returns 0 when the instruction runs past limit", () => {
    const b = bytes("48 b8 01 02 03 04 05 06 07 08");
    const r = new Int32Array(INSN_FIELDS);
    for (let lim = 0; lim < b.length; lim++) expect(decodeInsn(b, 0, lim, 64, r, 0)).toBe(0);
    expect(decodeInsn(b, 0, b.length, 64, r, 0)).toBe(10);
    expect(decodeInsn(bytes("66 f3"), 0, 2, 64, r, 0)).toBe(0);
    expect(decodeInsn(bytes("0f"), 0, 1, 64, r, 0)).toBe(0);
    expect(decodeInsn(bytes("8b 04"), 0, 2, 64, r, 0)).toBe(0); // SIB missing
  });

  it("decodes at an offset and writes at a record base", () => {
    const b = bytes("cc cc 48 89 c3 cc");
    const r = new Int32Array(3 * INSN_FIELDS).fill(7);
    expect(decodeInsn(b, 2, b.length, 64, r, INSN_FIELDS)).toBe(3);
    expect(r[INSN_FIELDS + D.OP]).toBe(Op.MOV);
    expect(r[0]).toBe(7);
    expect(r[2 * INSN_FIELDS]).toBe(7);
    expect(decodeInsn(b, 2, 4, 64, r, 0)).toBe(0);
  });
});

describe("modes", () => {
  it("rejects encodings that do not exist in 64-bit mode", () => {
    for (const h of [
      "06",
      "07",
      "0e",
      "16",
      "1f",
      "27",
      "2f",
      "37",
      "3f",
      "60",
      "61",
      "62 00",
      "82 c0 01",
      "9a 00 00 00 00 00 00",
      "c4 00",
      "c5 00",
      "ce",
      "d4 0a",
      "d5 0a",
      "d6",
      "ea 00 00 00 00 00 00",
    ]) {
      expect(dec(h).n, h).toBe(-1);
    }
  });

  it("decodes the 32-bit forms of those opcodes", () => {
    expect(dec("40", 32)).toMatchObject({ n: 1, mn: "inc" });
    expect(dec("4f", 32).r[D.REG]).toBe(Reg.RDI);
    expect(dec("06", 32).r[D.OP]).toBe(Op.PUSH);
    expect(dec("63 c0", 32).mn).toBe("arpl");
    expect(dec("ea 78 56 34 12 08 00", 32).n).toBe(7);
    expect(dec("0f 01 f8", 32).n).toBe(-1); // swapgs is long mode only
    expect(dec("b8 01 00 00 00", 32)).toMatchObject({ n: 5 });
    expect(dec("66 b8 01 00", 32).r[D.OSZ]).toBe(2);
    expect(dec("a1 00 10 00 00", 32).n).toBe(5);
    expect(dec("50", 32).r[D.OSZ]).toBe(4);
    expect(dec("c4 00", 32).mn).toBe("les");
  });

  it("decodes 16-bit addressing", () => {
    const a = dec("67 8b 40 10", 32); // mov 0x10(%bx,%si), %eax
    expect([a.n, a.r[D.ASZ], a.r[D.BASE], a.r[D.INDEX], a.r[D.DISP]]).toEqual([
      4,
      2,
      Reg.RBX,
      Reg.RSI,
      0x10,
    ]);
    const b = dec("8b 06 34 12", 16); // mov 0x1234, %ax
    expect([b.n, b.r[D.OSZ], b.r[D.BASE], b.r[D.DISP]]).toEqual([4, 2, -1, 0x1234]);
    expect(dec("66 b8 01 00 00 00", 16).n).toBe(6);
  });
});

describe("decoder contract (property)", () => {
  const arb = fc.uint8Array({ minLength: 0, maxLength: 20 });
  it("returns -1, 0 or 1..15 and never throws", () => {
    const r = new Int32Array(INSN_FIELDS);
    fc.assert(
      fc.property(arb, fc.constantFrom<64 | 32 | 16>(64, 32, 16), (b, mode) => {
        const n = decodeInsn(b, 0, b.length, mode, r, 0);
        return n === -1 || (n >= 0 && n <= 15 && n <= b.length);
      }),
      { numRuns: 5000 },
    );
  });

  it("reads no byte at or beyond limit, and gives 0 exactly when the instruction is cut", () => {
    const r = new Int32Array(INSN_FIELDS);
    fc.assert(
      fc.property(
        arb,
        fc.nat(20),
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        (b, cut, junk) => {
          const full = decodeInsn(b, 0, b.length, 64, r, 0);
          const lim = Math.min(cut, b.length);
          const copy = new Uint8Array(b.length + 20);
          copy.set(b.subarray(0, lim));
          copy.set(junk, lim);
          const part = decodeInsn(copy, 0, lim, 64, r, 0);
          const again = decodeInsn(b, 0, lim, 64, r, 0);
          if (part !== again) return false; // bytes past limit made a difference
          if (full > 0) return full <= lim ? part === full : part === 0;
          return true;
        },
      ),
      { numRuns: 5000 },
    );
  });
});
