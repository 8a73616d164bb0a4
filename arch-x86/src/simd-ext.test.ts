/**
 * Worked examples of the SSSE3/SSE4 operations whose definitions are easy to get subtly
 * wrong (the native corpus exec-ssex.json covers them at random): CRC-32C's check value,
 * pcmpistri/pcmpestri in their aggregation modes with the flags, pshufb's zeroing, ptest.
 */
import { describe, expect, it } from "vitest";
import { X86ExitReason } from "./cpu-api.js";
import type { X86Cpu } from "./cpu.js";
import { resetVectorState } from "./fpu.js";
import { makeTestCpu } from "./test-machine.js";

const CODE = 0x100000;
const DATA = 0x200000;
const { cpu, mem } = makeTestCpu(8, 4);

function run(bytes: number[], setup: (c: X86Cpu) => void = () => {}): void {
  mem.bytes.fill(0, CODE, CODE + 4096);
  mem.bytes.set([...bytes, 0x0f, 0xa2], CODE);
  cpu.invalidateCode(CODE, 4096);
  cpu.cpl = 3;
  resetVectorState(cpu);
  cpu.setReg(6, BigInt(DATA));
  setup(cpu);
  cpu.rip = BigInt(CODE);
  expect(cpu.run(10_000)).toBe(X86ExitReason.Cpuid);
}
/** xmm`r` from 16 bytes of `s` (zero-padded). */
function setXmm(c: X86Cpu, r: number, s: string): void {
  const b = new Uint8Array(16);
  b.set(Buffer.from(s, "latin1").subarray(0, 16));
  for (let k = 0; k < 4; k++)
    c.xmm[4 * r + k] = b[4 * k] | (b[4 * k + 1] << 8) | (b[4 * k + 2] << 16) | (b[4 * k + 3] << 24);
}
const CF = 1;
const ZF = 0x40;
const SF = 0x80;
const OF = 0x800;

describe("SSE4.2", () => {
  it('crc32b over "123456789" gives CRC-32C\'s check value 0xe3069283', () => {
    mem.bytes.set(Buffer.from("123456789"), DATA);
    // mov $-1,%eax; mov $9,%ecx; 1: crc32b (%rsi),%eax; inc %rsi; loop 1b; not %eax
    run([
      0xb8, 0xff, 0xff, 0xff, 0xff, 0xb9, 0x09, 0, 0, 0, 0xf2, 0x0f, 0x38, 0xf0, 0x06, 0x48, 0xff,
      0xc6, 0xe2, 0xf6, 0xf7, 0xd0,
    ]);
    expect(cpu.getReg(0)).toBe(0xe3069283n);
  });

  it("pcmpistri: equal-ordered finds a substring; equal-any a character; flags from the lengths", () => {
    const flags = (): number => cpu.rflags & (CF | ZF | SF | OF);
    // pcmpistri $0x0c,%xmm1,%xmm0 (unsigned bytes, equal ordered): "lo" in "hello world".
    run([0x66, 0x0f, 0x3a, 0x63, 0xc1, 0x0c], (c) => {
      setXmm(c, 0, "lo");
      setXmm(c, 1, "hello world");
    });
    expect(cpu.getReg(1)).toBe(3n);
    expect(flags()).toBe(CF | ZF | SF); // found; both strings end inside the register
    // pcmpistri $0x00 (equal any): first of "wz" in "hello world" is at 6.
    run([0x66, 0x0f, 0x3a, 0x63, 0xc1, 0x00], (c) => {
      setXmm(c, 0, "wz");
      setXmm(c, 1, "hello world");
    });
    expect(cpu.getReg(1)).toBe(6n);
    // Not found: index 16, CF clear; a full-length operand clears ZF.
    run([0x66, 0x0f, 0x3a, 0x63, 0xc1, 0x00], (c) => {
      setXmm(c, 0, "q");
      setXmm(c, 1, "abcdefghijklmnop");
    });
    expect(cpu.getReg(1)).toBe(16n);
    expect(flags()).toBe(SF);
  });

  it("pcmpestri with ranges and negated polarity: the first character outside a-z", () => {
    // mov $2,%eax; mov $9,%edx; pcmpestri $0x14,%xmm1,%xmm0
    run([0xb8, 2, 0, 0, 0, 0xba, 9, 0, 0, 0, 0x66, 0x0f, 0x3a, 0x61, 0xc1, 0x14], (c) => {
      setXmm(c, 0, "az");
      setXmm(c, 1, "abcDefghi");
    });
    expect(cpu.getReg(1)).toBe(3n);
  });
});

describe("SSSE3 and SSE4.1", () => {
  it("pshufb zeroes bytes whose index has bit 7, else picks by the low four bits", () => {
    run([0x66, 0x0f, 0x38, 0x00, 0xc1], (c) => {
      setXmm(c, 0, "ABCDEFGHIJKLMNOP");
      c.xmm[4] = 0x80_0f_00_01 | 0;
      c.xmm[5] = c.xmm[6] = c.xmm[7] = 0x80808080 | 0;
    });
    expect(cpu.xmm[0] >>> 0).toBe(0x00_50_41_42);
    expect(cpu.xmm[1]).toBe(0);
  });

  it("ptest: ZF when the AND is zero, CF when the AND-NOT is zero", () => {
    run([0x66, 0x0f, 0x38, 0x17, 0xc1], (c) => {
      c.xmm[0] = 0xff;
      c.xmm[4] = 0x0f;
    });
    expect(cpu.rflags & (CF | ZF)).toBe(CF);
    run([0x66, 0x0f, 0x38, 0x17, 0xc1], (c) => {
      c.xmm[0] = 0xf0;
      c.xmm[4] = 0x0f;
    });
    expect(cpu.rflags & (CF | ZF)).toBe(ZF);
  });
});
