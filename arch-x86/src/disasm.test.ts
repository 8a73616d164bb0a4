/**
 * Disassembler tests: objdump's spelling for representative encodings (every expected
 * string below is what GNU objdump 2.40 prints for the bytes), branch targets from the
 * instruction's address, the buffer walker, and 32-bit mode. The bulk comparison against
 * objdump is corpus.test.ts.
 */
import { describe, expect, it } from "vitest";
import { decodeInsn } from "./decode.js";
import { disassemble, disassembleAt, disassembleBytes, type GuestCodeView } from "./disasm.js";
import { INSN_FIELDS } from "./insn.js";

const bytes = (hex: string): Uint8Array =>
  Uint8Array.from(
    hex
      .trim()
      .split(/\s+/)
      .map((x) => parseInt(x, 16)),
  );
const text = (hex: string, address = 0n, mode: 64 | 32 | 16 = 64): string => {
  const b = bytes(hex);
  const r = new Int32Array(INSN_FIELDS);
  const n = decodeInsn(b, 0, b.length, mode, r, 0);
  expect(n, hex).toBe(b.length);
  return disassemble(r, 0, address).replace(/\s+/g, " ");
};

describe("disassemble (AT&T, objdump spelling)", () => {
  it.each([
    ["48 89 43 08", "mov %rax,0x8(%rbx)"],
    ["c7 00 01 00 00 00", "movl $0x1,(%rax)"],
    ["48 83 c0 ff", "add $0xffffffffffffffff,%rax"],
    ["66 83 c0 ff", "add $0xffff,%ax"],
    ["d1 20", "shll (%rax)"],
    ["d3 e0", "shl %cl,%eax"],
    ["0f b6 c4", "movzbl %ah,%eax"],
    ["48 63 c7", "movslq %edi,%rax"],
    ["66 0f 1f 44 00 00", "nopw 0x0(%rax,%rax,1)"],
    ["66 2e 0f 1f 84 00 00 00 00 00", "cs nopw 0x0(%rax,%rax,1)"],
    ["48 8d 04 60", "lea (%rax,%riz,2),%rax"],
    ["8b 04 e5 f8 ff ff ff", "mov -0x8(,%riz,8),%eax"],
    ["48 8b 04 25 f8 ff ff ff", "mov 0xfffffffffffffff8,%rax"],
    ["64 48 8b 04 25 28 00 00 00", "mov %fs:0x28,%rax"],
    ["48 b8 01 00 00 00 00 00 00 00", "movabs $0x1,%rax"],
    ["65 a0 11 22 33 44 55 66 77 88", "movabs %gs:0x8877665544332211,%al"],
    ["f3 48 a5", "rep movsq %ds:(%rsi),%es:(%rdi)"],
    ["f2 ae", "repnz scas %es:(%rdi),%al"],
    ["f0 48 0f c1 08", "lock xadd %rcx,(%rax)"],
    ["f0 48 0f c7 0e", "lock cmpxchg16b (%rsi)"],
    ["66 e5 01", "in $0x1,%ax"],
    ["ee", "out %al,(%dx)"],
    ["c8 08 00 01", "enter $0x8,$0x1"],
    ["48 cf", "iretq"],
    ["48 0f 07", "sysretq"],
    ["0f 01 f8", "swapgs"],
    ["44 0f 20 c0", "mov %cr8,%rax"],
    ["0f 21 f8", "mov %db7,%rax"],
    ["8e d8", "mov %eax,%ds"],
    ["f3 0f 1e fa", "endbr64"],
    ["f3 0f b8 c1", "popcnt %ecx,%eax"],
    ["48 0f ae 00", "fxsave64 (%rax)"],
    ["f3 48 0f ae c0", "rdfsbase %rax"],
    ["40 88 e0", "mov %spl,%al"],
    ["48 90", "rex.W nop"],
    ["66 48 01 c0", "data16 add %rax,%rax"],
    ["f3 c3", "repz ret"],
    ["3e ff e0", "notrack jmp *%rax"],
    ["ff 14 c5 00 00 00 00", "call *0x0(,%rax,8)"],
    ["0f 0b", "ud2"],
    ["d7", "xlat %ds:(%rbx)"],
  ])("%s → %s", (hex, want) => {
    expect(text(hex)).toBe(want);
  });

  it("prints branch targets as absolute addresses from the instruction's address", () => {
    expect(text("e8 00 00 00 00", 0x1000n)).toBe("call 0x1005");
    expect(text("eb fe", 0xffffffff80001000n)).toBe("jmp 0xffffffff80001000");
    expect(text("0f 85 f0 ff ff ff", 0x100n)).toBe("jne 0xf6");
    expect(text("2e 74 00", 0x10n)).toBe("je,pn 0x13");
    expect(text("e9 00 00 00 80", 0x5e0n)).toBe("jmp 0xffffffff800005e5");
  });

  it("annotates RIP-relative operands with their target, as objdump does", () => {
    expect(text("48 8d 05 10 00 00 00", 0x400000n)).toBe("lea 0x10(%rip),%rax # 0x400017");
    expect(text("c7 05 f8 ff ff ff 01 00 00 00", 0x20n)).toBe("movl $0x1,-0x8(%rip) # 0x22");
  });

  it("prints 32-bit mode encodings", () => {
    expect(text("40", 0n, 32)).toBe("inc %eax");
    expect(text("06", 0n, 32)).toBe("push %es");
    expect(text("63 c0", 0n, 32)).toBe("arpl %ax,%ax");
    expect(text("ea 78 56 34 12 08 00", 0n, 32)).toBe("ljmp $0x8,$0x12345678");
    expect(text("8b 05 00 10 00 00", 0n, 32)).toBe("mov 0x1000,%eax");
    expect(text("67 8b 40 10", 0n, 32)).toBe("mov 0x10(%bx,%si),%eax");
    expect(text("2e 8b 00", 0n, 32)).toBe("mov %cs:(%eax),%eax");
    expect(text("6a ff", 0n, 32)).toBe("push $0xffffffff");
    expect(text("67 e3 00", 0x280n, 32)).toBe("jcxz 0x283");
    expect(text("8d 04 20", 0n, 32)).toBe("lea (%eax,%eiz,1),%eax");
    expect(text("f3 a5", 0n, 32)).toBe("rep movsl %ds:(%esi),%es:(%edi)");
  });
});

describe("disassembleBytes", () => {
  it("walks a buffer and marks undecodable bytes (bad)", () => {
    const out = disassembleBytes(bytes("55 48 89 e5 06 0f 0b c3"), 0x1000n);
    expect(
      out.map((i) => [Number(i.address - 0x1000n), i.length, i.text.replace(/\s+/g, " ")]),
    ).toEqual([
      [0, 1, "push %rbp"],
      [1, 3, "mov %rsp,%rbp"],
      [4, 1, "(bad)"],
      [5, 2, "ud2"],
      [7, 1, "ret"],
    ]);
  });

  it("marks a truncated final instruction (bad)", () => {
    expect(disassembleBytes(bytes("90 48 b8 01"), 0n).map((i) => i.text)).toEqual([
      "nop",
      "(bad)",
      "(bad)",
      "(bad)",
    ]);
  });
});

describe("disassembleAt (a guest's code through its address space)", () => {
  // One mapped page at 0x100000 (machine page 2); everything else unmapped.
  const view = (codeSize: 64 | 32 | 16, code: string): GuestCodeView => {
    const bytes = new Uint8Array(3 * 4096);
    bytes.set(
      Uint8Array.from(code.split(" "), (x) => parseInt(x, 16)),
      2 * 4096 + 0xff8,
    );
    return {
      translate: (va) =>
        va >= 0x100000n && va < 0x101000n ? 2 * 4096 + Number(va - 0x100000n) : -1,
      machine: { memory: { bytes } },
      cpu: { codeSize },
    };
  };
  // dec %eax; mov %esp,%ebp; ud2 as 32-bit code, mov %rsp,%rbp; ud2 as 64-bit code.
  const code = "48 89 e5 0f 0b";

  it("decodes in the vCPU's code size: a compat guest's bytes as 32-bit code", () => {
    const at = (size: 64 | 32, count: number): string[] =>
      disassembleAt(view(size, code), 0x100ff8n, count).map((l) => l.replace(/\s+/g, " "));
    expect(at(32, 3)).toEqual([
      "100ff8: 48 dec %eax",
      "100ff9: 89 e5 mov %esp,%ebp",
      "100ffb: 0f 0b ud2",
    ]);
    expect(at(64, 2)).toEqual(["100ff8: 48 89 e5 mov %rsp,%rbp", "100ffb: 0f 0b ud2"]);
  });

  it("says where the mapping ends instead of reading past it", () => {
    const lines = disassembleAt(view(32, "90 90 90 90 90 90 90 90"), 0x100ffcn, 6);
    expect(lines.map((l) => l.replace(/\s+/g, " "))).toEqual([
      "100ffc: 90 nop",
      "100ffd: 90 nop",
      "100ffe: 90 nop",
      "100fff: 90 nop",
      "101000: (unmapped)",
    ]);
    expect(disassembleAt(view(32, "90"), 0x2000n, 1)).toEqual(["2000: (unmapped)"]);
  });
});
