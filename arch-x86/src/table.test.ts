/**
 * Instruction-table invariants: rows are well formed and unambiguous, every `Op` has a
 * row, the general-purpose ISA the interpreter promises is covered, and the flags say what the rows are.
 */
import { describe, expect, it } from "vitest";
import { decodeInsn } from "./decode.js";
import { disassemble } from "./disasm.js";
import { D, INSN_FIELDS } from "./insn.js";
import { Op } from "./ops.js";
import { ModMatch, Opd, RowFlag, TABLE, rowValidIn, type InsnRow } from "./table.js";

const mnemonics = new Set(TABLE.flatMap((r) => r.mnemonic.replace(/%.*/, "").split("|")));

describe("instruction table", () => {
  it("numbers rows by position", () => {
    TABLE.forEach((r, i) => expect(r.index).toBe(i));
  });

  it("has no two rows for the same encoding in the same mode", () => {
    const key = (r: InsnRow, k: number): string =>
      [r.map, r.opcode + k, r.prefix, r.ext, r.mod, r.rm].join(":");
    for (const mode of [64, 32] as const) {
      const seen = new Map<string, string>();
      for (const r of TABLE) {
        // 90 (nop) is the one deliberate overlap: the decoder picks it over 90+r (xchg)
        // when the register is eax without 66.
        if (!rowValidIn(r, mode) || r.encoding === "90") continue;
        for (let k = 0; k < r.opcodeCount; k++) {
          const kk = key(r, k);
          expect(seen.get(kk), `${r.encoding} vs ${seen.get(kk)} (mode ${mode})`).toBeUndefined();
          seen.set(kk, r.encoding);
        }
      }
    }
  });

  it("gives every Op (but INVALID) at least one row", () => {
    const used = new Set(TABLE.map((r) => r.op));
    const missing = Object.values(Op)
      .filter((v): v is Op => typeof v === "number" && v !== Op.INVALID)
      .filter((op) => !used.has(op))
      .map((op) => Op[op]);
    expect(missing).toEqual([]);
  });

  it("covers the general-purpose ISA the interpreter promises", () => {
    const want = [
      "add",
      "or",
      "adc",
      "sbb",
      "and",
      "sub",
      "xor",
      "cmp",
      "test",
      "inc",
      "dec",
      "neg",
      "not",
      "rol",
      "ror",
      "rcl",
      "rcr",
      "shl",
      "shr",
      "sar",
      "shld",
      "shrd",
      "mul",
      "imul",
      "div",
      "idiv",
      "bt",
      "bts",
      "btr",
      "btc",
      "bsf",
      "bsr",
      "tzcnt",
      "lzcnt",
      "popcnt",
      "bswap",
      "set",
      "cmov",
      "j",
      "call",
      "ret",
      "jmp",
      "lcall",
      "ljmp",
      "lret",
      "loop",
      "loope",
      "loopne",
      "push",
      "pop",
      "enter",
      "leave",
      "movzb",
      "movzw",
      "movsb",
      "movsw",
      "lea",
      "mov",
      "xchg",
      "cmpxchg",
      "xadd",
      "movs",
      "cmps",
      "stos",
      "lods",
      "scas",
      "ins",
      "outs",
      "in",
      "out",
      "lahf",
      "sahf",
      "pushf",
      "popf",
      "clc",
      "stc",
      "cmc",
      "cld",
      "std",
      "cli",
      "sti",
      "cpuid",
      "rdtsc",
      "rdtscp",
      "syscall",
      "sysret",
      "int",
      "int3",
      "into",
      "ud2",
      "ud0",
      "ud1",
      "hlt",
      "rdmsr",
      "wrmsr",
      "lgdt",
      "lidt",
      "sgdt",
      "sidt",
      "lldt",
      "ltr",
      "sldt",
      "str",
      "swapgs",
      "invlpg",
      "clts",
      "wbinvd",
      "invd",
      "lfence",
      "mfence",
      "sfence",
      "xlat",
      "nop",
      "pause",
      "prefetchnta",
      "prefetcht0",
      "prefetchw",
      "fxsave",
      "fxrstor",
      "ldmxcsr",
      "stmxcsr",
      "xsave",
      "xrstor",
      "clflush",
      "rdfsbase",
      "rdgsbase",
      "wrfsbase",
      "wrgsbase",
      "vmcall",
      "vmmcall",
      "endbr64",
    ];
    expect(want.filter((m) => !mnemonics.has(m))).toEqual([]);
    for (const t of [
      "|cbtw|cwtl|cltq",
      "|cwtd|cltd|cqto",
      "|iretw|iret|iretq",
      "|movsxd|movsxd|movslq",
      "cmpxchg%K",
    ]) {
      expect(
        TABLE.some((r) => r.mnemonic === t),
        t,
      ).toBe(true);
    }
  });

  it("marks the rows that are invalid in 64-bit mode", () => {
    const i64 = (enc: string): boolean =>
      TABLE.filter((r) => r.encoding === enc).every((r) => (r.flags & RowFlag.I64) !== 0);
    for (const enc of [
      "06",
      "07",
      "27",
      "37",
      "40+r",
      "48+r",
      "60",
      "61",
      "CE",
      "D4",
      "D5",
      "9A",
      "EA",
      "C4 /r mem",
    ]) {
      expect(i64(enc), enc).toBe(true);
    }
  });

  it("flags coherently: lock needs a writable r/m, rep needs a string, D64 rows exist in long mode", () => {
    for (const r of TABLE) {
      if (r.flags & RowFlag.LOCK) {
        expect([Opd.Eb, Opd.Ev, Opd.M], r.encoding).toContain(r.operands[0]);
        expect(r.mod, r.encoding).not.toBe(ModMatch.Reg);
      }
      if (r.flags & (RowFlag.REP | RowFlag.REPZ)) {
        expect(
          [Op.MOVS, Op.CMPS, Op.STOS, Op.LODS, Op.SCAS, Op.INS, Op.OUTS],
          r.encoding,
        ).toContain(r.op);
      }
      if (r.flags & RowFlag.D64) expect(rowValidIn(r, 64), r.encoding).toBe(true);
      if (r.cc) expect([Op.JCC, Op.SETCC, Op.CMOVCC], r.encoding).toContain(r.op);
      if (r.rm >= 0) expect(r.mod, r.encoding).toBe(ModMatch.Reg);
    }
  });

  it("records what the encodings say", () => {
    const row = (enc: string): InsnRow => {
      const r = TABLE.find((x) => x.encoding === enc);
      if (!r) throw new Error(enc);
      return r;
    };
    expect(row("0F 01 F8")).toMatchObject({
      map: 1,
      opcode: 1,
      ext: 7,
      rm: 0,
      mod: ModMatch.Reg,
      op: Op.SWAPGS,
    });
    expect(row("F3 0F B8 /r")).toMatchObject({
      prefix: 0xf3,
      map: 1,
      opcode: 0xb8,
      modrm: true,
      ext: -1,
    });
    expect(row("0F 40+cc /r")).toMatchObject({ opcodeCount: 16, cc: true, op: Op.CMOVCC });
    expect(row("B8+r")).toMatchObject({ opcodeCount: 8, operands: [Opd.Zv, Opd.Iv] });
    expect(row("80 /7")).toMatchObject({ ext: 7, op: Op.CMP, byteSized: true, flags: 0 });
    expect(row("0F 38 F0 /r mem")).toMatchObject({ map: 2, mod: ModMatch.Mem });
  });

  it("reaches every row through the decoder, and the disassembler prints it", () => {
    // A canonical encoding per row, opcode and ModRM form: the decoder must land on that
    // row (no row is shadowed by another), and the text must name no unknown operand.
    const rec = new Int32Array(INSN_FIELDS);
    for (const mode of [64, 32] as const) {
      for (const r of TABLE) {
        if (!rowValidIn(r, mode) || r.encoding === "90") continue;
        const regs = r.ext >= 0 ? [r.ext] : [0, 1, 2, 3, 4, 5, 6, 7];
        const forms: number[][][] = !r.modrm
          ? [[[]]]
          : r.rm >= 0
            ? [[[0xc0 | (r.ext << 3) | r.rm]]]
            : [
                ...(r.mod !== ModMatch.Reg ? [regs.map((g) => [(g << 3) | 3])] : []),
                ...(r.mod !== ModMatch.Mem ? [regs.map((g) => [0xc0 | (g << 3) | 1])] : []),
              ];
        for (let k = 0; k < r.opcodeCount; k++) {
          for (const alternatives of forms) {
            // A generic row (no /digit) may be shadowed for some ModRM.reg values by more
            // specific rows; it must be reached for at least one.
            let hit = false;
            let what = r.encoding;
            for (const form of alternatives) {
              const esc = [[], [0x0f], [0x0f, 0x38], [0x0f, 0x3a]][r.map];
              const b = Uint8Array.from([
                ...(r.prefix ? [r.prefix] : []),
                ...esc,
                r.opcode + k,
                ...form,
                1,
                2,
                3,
                4,
                5,
                6,
                7,
                8,
              ]);
              const n = decodeInsn(b, 0, b.length, mode, rec, 0);
              what = `${r.encoding} (${mode}-bit) ${Array.from(b.subarray(0, Math.max(n, 1)), (x) => x.toString(16)).join(" ")}`;
              if (n <= 0) continue; // a Sw row with a nonexistent segment register
              // 90+r with register 0 is nop; everything else must decode to its own row.
              if (rec[D.ROW] === r.index || (r.opcode === 0x90 && k === 0 && r.map === 0))
                hit = true;
              expect(disassemble(rec, 0, 0x1000n), what).not.toMatch(/\?/);
            }
            expect(hit, what).toBe(true);
          }
        }
      }
    }
  });
});
