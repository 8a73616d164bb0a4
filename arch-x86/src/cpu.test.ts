/**
 * X86Cpu behaviours the differential corpus cannot reach (it runs user code that never
 * faults): exceptions and their error codes, paging side effects, TLB and decode-cache
 * invalidation, budget interruption, exits, privilege checks.
 */
import { PhysicalMemory } from "@hvkit/core";
import { describe, expect, it } from "vitest";
import { PfErr, Vector, X86ExitReason } from "./cpu-api.js";
import { X86Cpu } from "./cpu.js";
import { resolveOperands } from "./decode-cache.js";
import { decodeInsn } from "./decode.js";

const P = 1,
  RW = 2,
  US = 4,
  A = 0x20,
  D = 0x40;
const NX_HI = 0x80000000;
const CODE = 0x400000;

/** A machine with 4 KiB page tables built on demand from frames 1.. (frame 0 unused). */
class Machine {
  readonly mem = new PhysicalMemory(4096, 1024, "little");
  readonly cpu = new X86Cpu(this.mem, decodeInsn, resolveOperands);
  private next = 2;
  readonly pml4 = 0x1000;

  constructor() {
    this.cpu.cr3 = this.pml4;
    this.cpu.cpl = 3;
  }

  private table(addr: number, index: number): number {
    const v = this.mem.view;
    let e = v.getUint32(addr + index * 8, true);
    if ((e & P) === 0) {
      e = (this.next++ * 4096) | P | RW | US;
      v.setUint32(addr + index * 8, e, true);
    }
    return e & ~0xfff;
  }

  /** Address of the PTE for `va`, creating intermediate tables (present, RW, user). */
  pteAddr(va: number): number {
    const l3 = this.table(this.pml4, Math.floor(va / 2 ** 39) & 511);
    const l2 = this.table(l3, Math.floor(va / 2 ** 30) & 511);
    const l1 = this.table(l2, (va >>> 21) & 511);
    return l1 + ((va >>> 12) & 511) * 8;
  }

  /** Maps virtual page `va` to machine frame `mfn` with `flags` (and NX in `hiFlags`). */
  map(va: number, mfn: number, flags = P | RW | US, hiFlags = 0): number {
    const a = this.pteAddr(va);
    this.mem.view.setUint32(a, mfn * 4096 + flags, true);
    this.mem.view.setUint32(a + 4, hiFlags, true);
    return a;
  }

  /** Maps code page(s) at CODE onto frames 512.. and loads `bytes`; rip = CODE. */
  load(bytes: number[], at = CODE): void {
    for (let va = at & ~0xfff; va < at + bytes.length + 16; va += 4096)
      this.map(va, 512 + (va - CODE) / 4096);
    this.cpu.flushTlb();
    bytes.forEach((b, i) => this.write8(at + i, b));
    this.cpu.rip = BigInt(at);
  }

  /** Writes through the page tables as the hypervisor would (and invalidates decodings). */
  write8(va: number, b: number): void {
    const pa = this.cpu.translate(BigInt(va), true, false);
    this.mem.bytes[pa] = b;
    this.cpu.invalidateCode(pa, 1);
  }
}

const ud2xen = [0x0f, 0x0b, 0x78, 0x65, 0x6e];
const cpuid = [0x0f, 0xa2];

describe("X86Cpu exceptions", () => {
  it("div by zero and quotient overflow raise #DE at the instruction", () => {
    const m = new Machine();
    m.load([0x31, 0xc9, 0xf7, 0xf1]); // xor %ecx,%ecx; div %ecx
    expect(m.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit.vector).toBe(Vector.DE);
    expect(m.cpu.exit.errorCode).toBe(-1);
    expect(m.cpu.rip).toBe(BigInt(CODE + 2));
    expect(m.cpu.exit.retired).toBe(1);

    const q = new Machine();
    q.load([0xf7, 0xf1]); // div %ecx with edx >= ecx
    q.cpu.setReg(2, 5n);
    q.cpu.setReg(1, 5n);
    expect(q.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(q.cpu.exit.vector).toBe(Vector.DE);

    const s = new Machine();
    s.load([0x48, 0xf7, 0xf9]); // idiv %rcx: INT64_MIN / -1
    s.cpu.setReg(0, -(2n ** 63n));
    s.cpu.setReg(2, -1n);
    s.cpu.setReg(1, -1n);
    expect(s.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(s.cpu.exit.vector).toBe(Vector.DE);
    expect(s.cpu.getReg(0)).toBe(-(2n ** 63n) & (2n ** 64n - 1n));
  });

  it("128/64 division gives quotient and remainder", () => {
    const m = new Machine();
    m.load([0x48, 0xf7, 0xf1, ...cpuid]); // div %rcx
    m.cpu.setReg(2, 0x1234n);
    m.cpu.setReg(0, 0x56789abcdef01234n);
    m.cpu.setReg(1, 0xfedcba9876543210n);
    expect(m.cpu.run(10)).toBe(X86ExitReason.Cpuid);
    const n = (0x1234n << 64n) | 0x56789abcdef01234n;
    expect(m.cpu.getReg(0)).toBe(n / 0xfedcba9876543210n);
    expect(m.cpu.getReg(2)).toBe(n % 0xfedcba9876543210n);
  });

  it("page faults carry the SDM error code and CR2, with rip on the instruction", () => {
    const m = new Machine();
    const data = 0x800000;
    m.load([0x8b, 0x03]); // mov (%rbx),%eax
    m.cpu.setReg(3, BigInt(data));
    // Not present, user read.
    expect(m.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit.vector).toBe(Vector.PF);
    expect(m.cpu.exit.errorCode).toBe(PfErr.U);
    expect(m.cpu.exit.cr2).toBe(BigInt(data));
    expect(m.cpu.cr2).toBe(BigInt(data));
    expect(m.cpu.rip).toBe(BigInt(CODE));
    // User access to a supervisor page.
    m.map(data, 100, P | RW);
    expect(m.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit.errorCode).toBe(PfErr.P | PfErr.U);
    // Write to a read-only page (read succeeds first).
    m.map(data, 100, P | US);
    m.load([0x8b, 0x03, 0x89, 0x03]); // mov (%rbx),%eax; mov %eax,(%rbx)
    expect(m.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit.errorCode).toBe(PfErr.P | PfErr.W | PfErr.U);
    expect(m.cpu.rip).toBe(BigInt(CODE + 2));
    // Supervisor writes to read-only pages fault only with CR0.WP.
    m.cpu.cpl = 0;
    expect(m.cpu.run(1)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit.errorCode).toBe(PfErr.P | PfErr.W);
    m.cpu.cr0 = m.cpu.cr0 & ~0x10000;
    expect(m.cpu.run(1)).toBe(X86ExitReason.Budget);
  });

  it("fetch from an NX page and from an unmapped page fault without a decode", () => {
    const m = new Machine();
    m.load([0x90]);
    m.map(CODE, 512, P | RW | US, NX_HI);
    m.cpu.flushTlb();
    expect(m.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit.vector).toBe(Vector.PF);
    expect(m.cpu.exit.errorCode).toBe(PfErr.P | PfErr.U | PfErr.I);
    expect(m.cpu.exit.instructionLength).toBe(0);
    m.cpu.rip = 0x10000000n;
    expect(m.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit.errorCode).toBe(PfErr.U | PfErr.I);
    expect(m.cpu.exit.cr2).toBe(0x10000000n);
  });

  it("non-canonical addresses raise #GP(0)", () => {
    const m = new Machine();
    m.load([0x8b, 0x03]);
    m.cpu.setReg(3, 0x0000800000000000n);
    expect(m.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit.vector).toBe(Vector.GP);
    expect(m.cpu.exit.errorCode).toBe(0);
  });

  it("a non-canonical access through SS raises #SS(0): base rsp/rbp or an implicit stack access, not fs:/gs:", () => {
    // SDM vol. 2 "64-Bit Mode Exceptions": #SS(0) when an address referencing SS is
    // non-canonical; in 64-bit mode the es/cs/ss/ds overrides are ignored.
    const bad = 0x8000_0000_4000_0000n;
    const cases: [string, number[], number, number][] = [
      ["mov (%rsp),%ecx", [0x8b, 0x0c, 0x24], 4, Vector.SS],
      ["mov 8(%rbp),%ecx", [0x8b, 0x4d, 0x08], 5, Vector.SS],
      ["mov %ecx,%ds:(%rbp)", [0x3e, 0x89, 0x4d, 0x00], 5, Vector.SS],
      ["mov %ss:(%rax),%ecx", [0x36, 0x8b, 0x08], 0, Vector.GP],
      ["mov %fs:(%rsp),%ecx", [0x64, 0x8b, 0x0c, 0x24], 4, Vector.GP],
      ["mov %gs:(%rbp),%ecx", [0x65, 0x8b, 0x4d, 0x00], 5, Vector.GP],
      ["mov (%rax,%rbp,1),%ecx", [0x8b, 0x0c, 0x28], 0, Vector.GP],
      ["push %rax", [0x50], 4, Vector.SS],
      ["pop %rcx", [0x59], 4, Vector.SS],
      ["leave", [0xc9], 5, Vector.SS],
      ["mov (%rsp),%ecx (rsp canonical, rbx not)", [0x8b, 0x0b], 3, Vector.GP],
    ];
    for (const [name, code, reg, vector] of cases) {
      const m = new Machine();
      m.load(code);
      m.cpu.setReg(reg, bad);
      expect(m.cpu.run(10), name).toBe(X86ExitReason.Exception);
      expect([m.cpu.exit.vector, m.cpu.exit.errorCode, m.cpu.rip], name).toEqual([
        vector,
        0,
        BigInt(CODE),
      ]);
    }
  });

  it("cmpxchg16b on a misaligned operand raises #GP(0); aligned it compares and swaps", () => {
    const m = new Machine();
    const data = 0x800000;
    m.map(data, 100);
    m.load([0xf0, 0x48, 0x0f, 0xc7, 0x0e, ...cpuid]); // lock cmpxchg16b (%rsi)
    m.cpu.setReg(6, BigInt(data + 8));
    expect(m.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit.vector).toBe(Vector.GP);
    expect(m.cpu.exit.errorCode).toBe(0);
    m.cpu.setReg(6, BigInt(data));
    m.cpu.setReg(3, 0x1111n);
    m.cpu.setReg(1, 0x2222n);
    expect(m.cpu.run(10)).toBe(X86ExitReason.Cpuid);
    expect(m.cpu.rflags & 0x40).toBe(0x40);
    expect(m.mem.view.getBigUint64(100 * 4096, true)).toBe(0x1111n);
    expect(m.mem.view.getBigUint64(100 * 4096 + 8, true)).toBe(0x2222n);
  });

  it("lock on a register destination or a non-lockable instruction is #UD", () => {
    const m = new Machine();
    m.load([0xf0, 0x01, 0xc0]); // lock add %eax,%eax
    expect(m.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit.vector).toBe(Vector.UD);
  });

  it("privileged instructions at CPL 3 raise #GP(0); at CPL 0 they run", () => {
    for (const code of [
      [0xf4],
      [0xfa],
      [0x0f, 0x22, 0xd8],
      [0x0f, 0x32],
      [0x0f, 0x01, 0xf8],
      [0x0f, 0x09],
      [0xe4, 0x60],
    ]) {
      const m = new Machine();
      m.load(code);
      expect(m.cpu.run(10), code.join(",")).toBe(X86ExitReason.Exception);
      expect(m.cpu.exit.vector).toBe(Vector.GP);
      expect(m.cpu.exit.errorCode).toBe(0);
    }
    const m = new Machine();
    m.cpu.cpl = 0;
    // mov $0xc0000082,%ecx; mov $0x1234,%eax; mov $0x5678,%edx; wrmsr; xor %eax,%eax; xor %edx,%edx; rdmsr; hlt
    m.load([
      0xb9, 0x82, 0, 0, 0xc0, 0xb8, 0x34, 0x12, 0, 0, 0xba, 0x78, 0x56, 0, 0, 0x0f, 0x30, 0x31,
      0xc0, 0x31, 0xd2, 0x0f, 0x32, 0xf4,
    ]);
    expect(m.cpu.run(100)).toBe(X86ExitReason.Halt);
    expect(m.cpu.getReg(0)).toBe(0x1234n);
    expect(m.cpu.getReg(2)).toBe(0x5678n);
    expect(m.cpu.rip).toBe(BigInt(CODE + 24));
  });
});

describe("X86Cpu exits", () => {
  it("syscall does the architectural part and exits after the instruction", () => {
    const m = new Machine();
    m.load([0x0f, 0x05]);
    m.cpu.rflags = 0x247;
    expect(m.cpu.run(10)).toBe(X86ExitReason.Syscall);
    expect(m.cpu.getReg(1)).toBe(BigInt(CODE + 2));
    expect(m.cpu.getReg(11)).toBe(0x247n);
    expect(m.cpu.rip).toBe(BigInt(CODE + 2));
    expect(m.cpu.exit.instructionLength).toBe(2);
  });

  it("int n, int3 and ud2 exit with the right vector and rip", () => {
    const m = new Machine();
    m.load([0xcd, 0x80, 0xcc, 0x0f, 0x0b]);
    expect(m.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit).toMatchObject({ vector: 0x80, software: true, instructionLength: 2 });
    expect(m.cpu.rip).toBe(BigInt(CODE + 2));
    expect(m.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit).toMatchObject({ vector: Vector.BP, software: true });
    expect(m.cpu.rip).toBe(BigInt(CODE + 3));
    expect(m.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit).toMatchObject({ vector: Vector.UD, software: false });
    expect(m.cpu.rip).toBe(BigInt(CODE + 3));
  });

  it("the forced-emulation prefix before cpuid is a forced Cpuid exit covering both", () => {
    const m = new Machine();
    m.load([...ud2xen, ...cpuid, ...cpuid]);
    expect(m.cpu.run(10)).toBe(X86ExitReason.Cpuid);
    expect(m.cpu.exit).toMatchObject({ forced: true, instructionLength: 7 });
    expect(m.cpu.rip).toBe(BigInt(CODE));
    m.cpu.skipInstruction();
    expect(m.cpu.rip).toBe(BigInt(CODE + 7));
    expect(m.cpu.run(10)).toBe(X86ExitReason.Cpuid);
    expect(m.cpu.exit).toMatchObject({ forced: false, instructionLength: 2 });
    // "xen" followed by something else: plain #UD.
    const u = new Machine();
    u.load([...ud2xen, 0x90]);
    expect(u.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(u.cpu.exit.vector).toBe(Vector.UD);
  });

  it("rdtsc counts virtual time from tscBase by retired instructions", () => {
    const m = new Machine();
    m.load([0x90, 0x90, 0x0f, 0x31, ...cpuid]);
    m.cpu.tscBase = 0x1_0000_0000;
    m.cpu.tscPerInstruction = 3;
    expect(m.cpu.run(10)).toBe(X86ExitReason.Cpuid);
    expect(m.cpu.getReg(0)).toBe(6n);
    expect(m.cpu.getReg(2)).toBe(1n);
  });

  it("a budget end mid-rep leaves rip on the instruction with the registers advanced", () => {
    const m = new Machine();
    const data = 0x800000;
    m.map(data, 100);
    m.load([0xf3, 0xa4, ...cpuid]); // rep movsb
    for (let i = 0; i < 100; i++) m.mem.bytes[100 * 4096 + i] = i + 1;
    m.cpu.setReg(6, BigInt(data));
    m.cpu.setReg(7, BigInt(data + 2048));
    m.cpu.setReg(1, 100n);
    expect(m.cpu.run(30)).toBe(X86ExitReason.Budget);
    expect(m.cpu.exit.retired).toBe(30);
    expect(m.cpu.rip).toBe(BigInt(CODE));
    expect(m.cpu.getReg(1)).toBe(70n);
    expect(m.cpu.getReg(6)).toBe(BigInt(data + 30));
    expect(m.cpu.run(1000)).toBe(X86ExitReason.Cpuid);
    expect(m.cpu.getReg(1)).toBe(0n);
    expect(Array.from(m.mem.bytes.subarray(100 * 4096 + 2048, 100 * 4096 + 2148))).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
  });
});

describe("X86Cpu paging, TLB and decode cache", () => {
  it("sets accessed bits on every level walked and dirty on the leaf for writes", () => {
    const m = new Machine();
    const data = 0x800000;
    const pte = m.map(data, 100);
    m.load([0x8b, 0x03, 0x89, 0x03, ...cpuid]);
    m.cpu.setReg(3, BigInt(data));
    expect(m.cpu.run(1)).toBe(X86ExitReason.Budget);
    const v = m.mem.view;
    expect(v.getUint32(pte, true) & (A | D)).toBe(A);
    expect(v.getUint32(m.pml4, true) & A).toBe(A);
    expect(m.cpu.run(10)).toBe(X86ExitReason.Cpuid);
    expect(v.getUint32(pte, true) & (A | D)).toBe(A | D);
  });

  it("keeps a stale translation until invlpg or a CR3 write, as hardware does", () => {
    const m = new Machine();
    const data = 0x800000;
    const pte = m.map(data, 100);
    m.mem.bytes[100 * 4096] = 0x11;
    m.mem.bytes[101 * 4096] = 0x22;
    m.load([0x8a, 0x03, ...cpuid]); // mov (%rbx),%al
    m.cpu.setReg(3, BigInt(data));
    m.cpu.run(10);
    expect(m.cpu.getReg(0) & 0xffn).toBe(0x11n);
    m.mem.view.setUint32(pte, 101 * 4096 + (P | RW | US), true);
    m.cpu.rip = BigInt(CODE);
    m.cpu.run(10);
    expect(m.cpu.getReg(0) & 0xffn).toBe(0x11n);
    m.cpu.invlpg(BigInt(data));
    m.cpu.rip = BigInt(CODE);
    m.cpu.run(10);
    expect(m.cpu.getReg(0) & 0xffn).toBe(0x22n);
    m.mem.view.setUint32(pte, 100 * 4096 + (P | RW | US), true);
    m.cpu.cr3 = m.pml4;
    m.cpu.rip = BigInt(CODE);
    m.cpu.run(10);
    expect(m.cpu.getReg(0) & 0xffn).toBe(0x11n);
  });

  it("invlpg and mov to cr3 executed at CPL 0 flush translations", () => {
    const m = new Machine();
    const data = 0x800000;
    const pte = m.map(data, 100);
    m.mem.bytes[101 * 4096] = 0x22;
    m.cpu.cpl = 0;
    // mov (%rbx),%al; invlpg (%rbx); mov (%rbx),%cl; mov %rdx,%cr3; mov (%rbx),%dl
    m.load([0x8a, 0x03, 0x0f, 0x01, 0x3b, 0x8a, 0x0b, 0x0f, 0x22, 0xda, 0x8a, 0x13, ...cpuid]);
    m.cpu.setReg(3, BigInt(data));
    m.cpu.setReg(2, BigInt(m.pml4));
    m.cpu.run(1);
    m.mem.view.setUint32(pte, 101 * 4096 + (P | RW | US), true);
    m.cpu.run(2);
    expect(m.cpu.getReg(1) & 0xffn).toBe(0x22n);
    m.mem.view.setUint32(pte, 100 * 4096 + (P | RW | US), true);
    m.mem.bytes[100 * 4096] = 0x33;
    expect(m.cpu.run(10)).toBe(X86ExitReason.Cpuid);
    expect(m.cpu.getReg(2) & 0xffn).toBe(0x33n);
  });

  it("handles accesses that straddle two pages mapped to distant frames", () => {
    const m = new Machine();
    const data = 0x800000;
    m.map(data, 100);
    m.map(data + 4096, 300);
    m.load([0x48, 0x8b, 0x03, 0x48, 0x89, 0x4b, 0x08, ...cpuid]); // mov (%rbx),%rax; mov %rcx,8(%rbx)
    m.mem.bytes.set([1, 2, 3, 4], 100 * 4096 + 4092);
    m.mem.bytes.set([5, 6, 7, 8], 300 * 4096);
    m.cpu.setReg(3, BigInt(data + 4092));
    m.cpu.setReg(1, 0x1122334455667788n);
    expect(m.cpu.run(10)).toBe(X86ExitReason.Cpuid);
    expect(m.cpu.getReg(0)).toBe(0x0807060504030201n);
    expect(Array.from(m.mem.bytes.subarray(300 * 4096 + 4, 300 * 4096 + 12))).toEqual([
      0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
    ]);
    // A write whose second page is read-only faults before changing either page.
    m.map(data + 4096, 300, P | US);
    m.cpu.invlpg(BigInt(data + 4096));
    m.load([0x48, 0x89, 0x0b]); // mov %rcx,(%rbx)
    expect(m.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit.errorCode).toBe(PfErr.P | PfErr.W | PfErr.U);
    expect(m.cpu.exit.cr2).toBe(BigInt(data + 4096));
    expect(Array.from(m.mem.bytes.subarray(100 * 4096 + 4092, 100 * 4096 + 4096))).toEqual([
      1, 2, 3, 4,
    ]);
  });

  it("executes an instruction that straddles a page boundary", () => {
    const m = new Machine();
    const at = CODE + 4096 - 3;
    m.load([0xb8, 0x78, 0x56, 0x34, 0x12, ...cpuid], at); // mov $0x12345678,%eax across the boundary
    expect(m.cpu.run(10)).toBe(X86ExitReason.Cpuid);
    expect(m.cpu.getReg(0)).toBe(0x12345678n);
  });

  it("self-modifying code drops the stale decoding", () => {
    const m = new Machine();
    // 0: movb $0x42, 4(%rip)  (patches the immediate of the mov at 10)
    // 7: jmp 10 ; 9: nop ; 10: mov $0x11,%al ; 12: cpuid
    // Run the mov at 10 first so it is cached, then patch and run it again.
    m.load([0xc6, 0x05, 0x04, 0x00, 0x00, 0x00, 0x42, 0xeb, 0x01, 0x90, 0xb0, 0x11, ...cpuid]);
    m.cpu.rip = BigInt(CODE + 10);
    expect(m.cpu.run(10)).toBe(X86ExitReason.Cpuid);
    expect(m.cpu.getReg(0) & 0xffn).toBe(0x11n);
    m.cpu.rip = BigInt(CODE);
    expect(m.cpu.run(10)).toBe(X86ExitReason.Cpuid);
    expect(m.cpu.getReg(0) & 0xffn).toBe(0x42n);
    // The hypervisor writing code (and saying so) is seen too.
    m.write8(CODE + 11, 0x77);
    m.cpu.rip = BigInt(CODE + 10);
    expect(m.cpu.run(10)).toBe(X86ExitReason.Cpuid);
    expect(m.cpu.getReg(0) & 0xffn).toBe(0x77n);
  });

  it("translate() walks for the hypervisor and reports faults as -1", () => {
    const m = new Machine();
    const pte = m.map(0x800000, 100, P | US);
    expect(m.cpu.translate(0x800123n, false, true)).toBe(100 * 4096 + 0x123);
    expect(m.cpu.translate(0x800123n, true, true)).toBe(-1);
    expect(m.cpu.translate(0x900000n, false, false)).toBe(-1);
    expect(m.mem.view.getUint32(pte, true) & A).toBe(A);
  });

  it("2 MiB and 1 GiB pages translate with the offset inside the large page", () => {
    const m = new Machine();
    const v = m.mem.view;
    // PML4[0] -> PDPT at frame 2 (from pteAddr of another address), PDPT[1] = 1 GiB page at 0, PD 2 MiB.
    m.pteAddr(0x200000);
    const pdpt = v.getUint32(m.pml4, true) & ~0xfff;
    v.setUint32(pdpt + 8 * 1, 0 | P | RW | US | 0x80, true); // 1 GiB at va 1 GiB -> pa 0
    const pd = v.getUint32(pdpt, true) & ~0xfff;
    v.setUint32(pd + 8 * 3, 0x200000 | P | RW | US | 0x80, true); // va 6 MiB -> pa 2 MiB
    expect(m.cpu.translate(BigInt(0x40000000 + 0x12345), false, true)).toBe(0x12345);
    expect(m.cpu.translate(BigInt(0x600000 + 0x1234), true, true)).toBe(0x200000 + 0x1234);
    expect(v.getUint32(pd + 24, true) & (A | D)).toBe(A | D);
    // Reserved low bits in a 2 MiB entry: #PF with RSVD.
    v.setUint32(pd + 8 * 4, 0x202000 | P | RW | US | 0x80, true);
    m.load([0x8b, 0x03]);
    m.cpu.setReg(3, 0x800000n);
    expect(m.cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(m.cpu.exit.errorCode).toBe(PfErr.P | PfErr.U | PfErr.RSVD);
  });

  it("runs code, stack and RIP-relative data at high canonical (kernel) addresses", () => {
    const m = new Machine();
    const base = 0xffffffff80000000;
    const hi = BigInt.asUintN(64, -0x80000000n);
    // Map code, data and stack pages in the top 2 GiB (frames 600..602).
    const v = m.mem.view;
    const map = (off: number, mfn: number): void => {
      const a = m.pteAddr(base + off);
      v.setUint32(a, mfn * 4096 + (P | RW | US), true);
    };
    map(0, 600);
    map(0x1000, 601);
    map(0x2000, 602);
    // call f; mov 0x1000-... rip-relative load; cpuid.  f: push %rax; pop %rbx; ret
    // 0: e8 0d 00 00 00        call 0x12
    // 5: 48 8b 0d f4 0f 00 00  mov 0xff4(%rip),%rcx   (0x5 + 7 + 0xff4 = 0x1000)
    // c: 0f a2                 cpuid
    // 12: 50 5b c3             push %rax; pop %rbx; ret
    const code = [
      0xe8, 0x0d, 0, 0, 0, 0x48, 0x8b, 0x0d, 0xf4, 0x0f, 0, 0, 0x0f, 0xa2, 0x90, 0x90, 0x90, 0x90,
      0x50, 0x5b, 0xc3,
    ];
    m.mem.bytes.set(code, 600 * 4096);
    v.setBigUint64(601 * 4096, 0x1122334455667788n, true);
    m.cpu.rip = hi;
    m.cpu.setReg(4, hi + 0x3000n);
    m.cpu.setReg(0, 0xabcdefn);
    expect(m.cpu.run(20)).toBe(X86ExitReason.Cpuid);
    expect(m.cpu.rip).toBe(hi + 0xcn);
    expect(m.cpu.getReg(1)).toBe(0x1122334455667788n);
    expect(m.cpu.getReg(3)).toBe(0xabcdefn);
    expect(m.cpu.getReg(4)).toBe(hi + 0x3000n);
    expect(v.getBigUint64(602 * 4096 + 4088, true)).toBe(hi + 5n);
  });
});
