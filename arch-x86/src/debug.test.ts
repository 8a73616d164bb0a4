/**
 * Debug registers and #DB in the CPU model (debug.ts): reset values, single-step with
 * DR6.BS, instruction breakpoints (faults, RF suppresses), data breakpoints (traps, R/W
 * and length), the `mov ss` shadow, the DR6 merge, and blocks on/off agreeing while
 * debugging.
 */
import { describe, expect, it } from "vitest";
import { Vector, X86ExitReason } from "./cpu-api.js";
import { Dr6, mergeDr6 } from "./debug.js";
import { makeTestCpu } from "./test-machine.js";

const CODE = 0x100000;
const DATA = 0x200000;

function machine(bytes: number[], threshold = -1) {
  const { cpu, mem } = makeTestCpu(4);
  mem.bytes.set(bytes, CODE);
  cpu.rip = BigInt(CODE);
  cpu.blockThreshold = threshold;
  return { cpu, mem };
}

/** DR7 value enabling DRn (G bit) with R/W `rw` and LEN encoding `len`. */
function dr7(n: number, rw: number, len: number): bigint {
  return BigInt((2 << (2 * n)) | (rw << (16 + 4 * n)) | (len << (18 + 4 * n)) | 0x400);
}

describe("X86Cpu debug registers", () => {
  it("reset values: DR0-3 zero, DR6 0xffff0ff0, DR7 0x400; DR4/DR5 alias DR6/DR7", () => {
    const { cpu } = machine([0x90]);
    expect([0, 1, 2, 3].map((i) => cpu.getDebugReg(i))).toEqual([0n, 0n, 0n, 0n]);
    expect(cpu.getDebugReg(6)).toBe(0xffff0ff0n);
    expect(cpu.getDebugReg(7)).toBe(0x400n);
    expect(cpu.getDebugReg(4)).toBe(0xffff0ff0n);
    expect(cpu.getDebugReg(5)).toBe(0x400n);
    cpu.setDebugReg(1, 0xffff888000001000n);
    expect(cpu.getDebugReg(1)).toBe(0xffff888000001000n);
  });

  it("DR6 merge replaces B0-B3 and accumulates the others (Xen x86_merge_dr6)", () => {
    const withB0 = mergeDr6(Dr6.DEFAULT, 1);
    expect(withB0 >>> 0).toBe(0xffff0ff1);
    expect(mergeDr6(withB0, 2 | Dr6.BS) >>> 0).toBe(0xffff4ff2);
    expect(mergeDr6(0xffff6ff0 | 0, 0) >>> 0).toBe(0xffff6ff0);
  });

  it("TF single-steps: #DB trap after each instruction with DR6.BS, rip after it", () => {
    // mov $1, %eax; mov $2, %ebx
    const { cpu } = machine([0xb8, 1, 0, 0, 0, 0xbb, 2, 0, 0, 0]);
    cpu.rflags = 0x302;
    expect(cpu.run(100)).toBe(X86ExitReason.Exception);
    expect(cpu.exit).toMatchObject({ vector: Vector.DB, software: false, retired: 1 });
    expect(cpu.rip).toBe(BigInt(CODE + 5));
    expect(cpu.getReg(0)).toBe(1n);
    expect(cpu.getDebugReg(6)).toBe(0xffff4ff0n);
    expect(cpu.run(100)).toBe(X86ExitReason.Exception);
    expect(cpu.rip).toBe(BigInt(CODE + 10));
    expect(cpu.getReg(3)).toBe(2n);
  });

  it("popf setting TF single-steps from the instruction after it", () => {
    // push $0x302; popf; nop; nop
    const { cpu } = machine([0x68, 0x02, 0x03, 0, 0, 0x9d, 0x90, 0x90]);
    cpu.setReg(4, BigInt(DATA + 0x1000));
    expect(cpu.run(100)).toBe(X86ExitReason.Exception);
    expect(cpu.exit.vector).toBe(Vector.DB);
    expect(cpu.rip).toBe(BigInt(CODE + 7));
  });

  it("an instruction breakpoint faults before the instruction; RF lets it run once", () => {
    // nop; mov $5, %eax; nop
    const { cpu } = machine([0x90, 0xb8, 5, 0, 0, 0, 0x90]);
    cpu.setDebugReg(2, BigInt(CODE + 1));
    cpu.setDebugReg(7, dr7(2, 0, 0));
    expect(cpu.run(100)).toBe(X86ExitReason.Exception);
    expect(cpu.exit).toMatchObject({ vector: Vector.DB, retired: 1 });
    expect(cpu.rip).toBe(BigInt(CODE + 1));
    expect(cpu.getReg(0)).toBe(0n);
    expect(cpu.getDebugReg(6)).toBe(0xffff0ff4n);
    // Without RF it faults again; with RF the instruction runs and RF clears.
    expect(cpu.run(100)).toBe(X86ExitReason.Exception);
    expect(cpu.rip).toBe(BigInt(CODE + 1));
    cpu.rflags |= 0x10000;
    expect(cpu.run(2)).toBe(X86ExitReason.Budget);
    expect(cpu.getReg(0)).toBe(5n);
    expect(cpu.rflags & 0x10000).toBe(0);
  });

  it("data breakpoints trap after the access; R/W 01 ignores reads; LEN masks the address", () => {
    // mov (%rsi), %eax; mov %eax, 4(%rsi); nop
    const { cpu } = machine([0x8b, 0x06, 0x89, 0x46, 0x04, 0x90]);
    cpu.setReg(6, BigInt(DATA));
    cpu.setDebugReg(0, BigInt(DATA + 6)); // 8-byte breakpoint: covers DATA..DATA+7
    cpu.setDebugReg(7, dr7(0, 1, 2));
    expect(cpu.run(100)).toBe(X86ExitReason.Exception);
    expect(cpu.exit).toMatchObject({ vector: Vector.DB, retired: 2 });
    expect(cpu.rip).toBe(BigInt(CODE + 5));
    expect(cpu.getDebugReg(6)).toBe(0xffff0ff1n);
    // R/W 11 traps on the read too.
    cpu.rip = BigInt(CODE);
    cpu.setDebugReg(7, dr7(0, 3, 2));
    expect(cpu.run(100)).toBe(X86ExitReason.Exception);
    expect(cpu.rip).toBe(BigInt(CODE + 2));
    // A 1-byte breakpoint just past a 4-byte read does not match.
    cpu.rip = BigInt(CODE);
    cpu.setDebugReg(0, BigInt(DATA + 4));
    cpu.setDebugReg(7, dr7(0, 3, 0));
    expect(cpu.run(1)).toBe(X86ExitReason.Budget);
    expect(cpu.rip).toBe(BigInt(CODE + 2));
  });

  it("stack and string accesses match too: push, call, pop, rep stos (each iteration)", () => {
    // push %rax; call next; next: pop %rbx; pop %rbx; rep stosl; nop
    const code = [0x50, 0xe8, 0, 0, 0, 0, 0x5b, 0x5b, 0xf3, 0xab, 0x90];
    const { cpu } = machine(code);
    cpu.setReg(4, BigInt(DATA + 0x100));
    cpu.setDebugReg(0, BigInt(DATA + 0xf8)); // the slot push writes, then pop reads
    cpu.setDebugReg(1, BigInt(DATA + 0xf0)); // the slot call writes
    cpu.setDebugReg(2, BigInt(DATA + 0x8)); // the third dword rep stosl writes
    cpu.setDebugReg(7, dr7(0, 3, 2) | dr7(1, 1, 2) | dr7(2, 1, 3));
    const stops: [bigint, bigint][] = [];
    cpu.setReg(7, BigInt(DATA));
    cpu.setReg(1, 4n);
    for (let i = 0; i < 8; i++) {
      if (cpu.run(100) !== X86ExitReason.Exception) break;
      stops.push([cpu.rip - BigInt(CODE), cpu.getDebugReg(6) & 0xfn]);
    }
    expect(stops).toEqual([
      [1n, 1n], // push: B0
      [6n, 2n], // call: B1
      // The pop of the return address reads DR1's slot: R/W 01 ignores it.
      [8n, 1n], // pop of the pushed value: B0
      [8n, 4n], // rep stosl, third iteration: B2, rip still on the instruction
    ]);
  });

  it("mov ss holds its #DB until after the next instruction (interrupt shadow)", () => {
    // mov (%rsi), %ss; nop; nop
    const { cpu, mem } = machine([0x8e, 0x16, 0x90, 0x90]);
    mem.view.setUint16(DATA, 0xe02b, true);
    cpu.setReg(6, BigInt(DATA));
    cpu.setDebugReg(0, BigInt(DATA));
    cpu.setDebugReg(7, dr7(0, 3, 3));
    expect(cpu.run(100)).toBe(X86ExitReason.Exception);
    expect(cpu.exit).toMatchObject({ vector: Vector.DB, retired: 2 });
    expect(cpu.rip).toBe(BigInt(CODE + 3));
    expect(cpu.getDebugReg(6)).toBe(0xffff0ff1n);
  });

  it("a #DB held by mov ss is dropped when the next instruction leaves the guest (int3, syscall)", () => {
    // mov (%rsi), %ss; int3; nop
    const { cpu, mem } = machine([0x8e, 0x16, 0xcc, 0x90]);
    mem.view.setUint16(DATA, 0xe02b, true);
    cpu.setReg(6, BigInt(DATA));
    cpu.setDebugReg(0, BigInt(DATA));
    cpu.setDebugReg(7, dr7(0, 3, 3));
    expect(cpu.run(100)).toBe(X86ExitReason.Exception);
    expect(cpu.exit).toMatchObject({ vector: Vector.BP, software: true });
    expect(cpu.run(1)).toBe(X86ExitReason.Budget);
    expect(cpu.rip).toBe(BigInt(CODE + 4));
    // syscall likewise.
    const s = machine([0x8e, 0x16, 0x0f, 0x05, 0x90]);
    s.mem.view.setUint16(DATA, 0xe02b, true);
    s.cpu.setReg(6, BigInt(DATA));
    s.cpu.setDebugReg(0, BigInt(DATA));
    s.cpu.setDebugReg(7, dr7(0, 3, 3));
    expect(s.cpu.run(100)).toBe(X86ExitReason.Syscall);
    expect(s.cpu.run(1)).toBe(X86ExitReason.Budget);
    expect(s.cpu.rip).toBe(BigInt(CODE + 5));
  });

  it("icebp (F1) is a #DB trap, not a software interrupt, and leaves DR6 alone", () => {
    for (const threshold of [-1, 0]) {
      const { cpu } = machine([0x90, 0xf1, 0x90], threshold);
      expect(cpu.run(100)).toBe(X86ExitReason.Exception);
      expect(cpu.exit).toMatchObject({ vector: Vector.DB, software: false, retired: 2 });
      expect(cpu.rip).toBe(BigInt(CODE + 2));
      expect(cpu.getDebugReg(6)).toBe(0xffff0ff0n);
    }
  });

  it("mov %drN at CPL 0: general detect is a #DB fault with BD (GD cleared); DR4 with CR4.DE is #UD", () => {
    // mov %rax, %dr0; mov %dr4, %rax
    const { cpu } = machine([0x0f, 0x23, 0xc0, 0x0f, 0x21, 0xe0]);
    cpu.cpl = 0;
    cpu.setReg(0, 0x1234n);
    cpu.setDebugReg(7, 0x2400n);
    expect(cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(cpu.exit).toMatchObject({ vector: Vector.DB, retired: 0 });
    expect(cpu.rip).toBe(BigInt(CODE));
    expect(cpu.getDebugReg(6)).toBe(0xffff2ff0n);
    expect(cpu.getDebugReg(7)).toBe(0x400n);
    expect(cpu.run(1)).toBe(X86ExitReason.Budget);
    expect(cpu.getDebugReg(0)).toBe(0x1234n);
    cpu.cr4 = cpu.cr4 | 8;
    expect(cpu.run(10)).toBe(X86ExitReason.Exception);
    expect(cpu.exit.vector).toBe(Vector.UD);
    cpu.cr4 = cpu.cr4 & ~8;
    expect(cpu.run(1)).toBe(X86ExitReason.Budget);
    expect(cpu.getReg(0)).toBe(0xffff2ff0n); // DR4 reads DR6
  });

  it("disabling DR7 returns to the normal loop (blocks run again)", () => {
    const { cpu } = machine([0x90, 0x90, 0x90, 0x90]);
    cpu.setDebugReg(7, dr7(0, 0, 0));
    cpu.setDebugReg(7, 0x400n);
    expect(cpu.run(3)).toBe(X86ExitReason.Budget);
    expect(cpu.rip).toBe(BigInt(CODE + 3));
  });

  it("blocks on and off agree while single-stepping and with data breakpoints armed", () => {
    // A loop: add %ecx, %eax; mov %eax, (%rsi); dec %ecx; jnz loop; then int3.
    const code = [0x01, 0xc8, 0x89, 0x06, 0xff, 0xc9, 0x75, 0xf8, 0xcc];
    const runs = [-1, 0].map((threshold) => {
      const { cpu } = machine(code, threshold);
      cpu.setReg(1, 50n);
      cpu.setReg(6, BigInt(DATA));
      // Warm the blocks without debugging, then arm a write breakpoint.
      expect(cpu.run(12)).toBe(X86ExitReason.Budget);
      cpu.setDebugReg(0, BigInt(DATA));
      cpu.setDebugReg(7, dr7(0, 1, 3));
      const trail: string[] = [];
      for (let i = 0; i < 200; i++) {
        const r = cpu.run(1000);
        trail.push(`${r}:${cpu.exit.vector}:${cpu.rip}:${cpu.getReg(0)}:${cpu.getReg(1)}`);
        if (cpu.exit.vector === Vector.BP) break;
      }
      // Then single-step the same loop from the start with TF.
      cpu.setDebugReg(7, 0x400n);
      cpu.rip = BigInt(CODE);
      cpu.setReg(1, 5n);
      cpu.rflags = 0x302;
      for (let i = 0; i < 100; i++) {
        const r = cpu.run(1000);
        trail.push(`${r}:${cpu.exit.vector}:${cpu.rip}:${cpu.getReg(0)}:${cpu.getDebugReg(6)}`);
        if (cpu.exit.vector === Vector.BP) break;
      }
      return trail;
    });
    expect(runs[0].length).toBeGreaterThan(40);
    expect(runs[1]).toEqual(runs[0]);
  });
});
