/**
 * Writable page tables for a PV32 guest (ptwr emulation in 32-bit code): a 4-byte `mov`
 * to the low half of a PAE entry, through the read-only mapping the builder gives the
 * guest of its own L1 table, is carried out as a checked update merged into the 8-byte
 * entry; one naming a frame the domain does not own is not (the #PF stays).
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { bootInitialDomain, createMachine, RecordingConsoleSink } from "@hvkit/core";
import { Reg } from "./cpu-api.js";
import { emulatePtWrite } from "./pv-ptwr.js";
import { X86PvPlugin } from "./pv32-plugin.js";

const AGENT = new URL("../agent/agent.elf", import.meta.url);
/** The agent's image starts here; its virtual addresses are its pseudo-physical ones. */
const IMAGE = 0x100000n;

function setup() {
  const machine = createMachine(container.createChildContainer(), {
    arch: new X86PvPlugin(),
    memoryMiB: 32,
    console: new RecordingConsoleSink(),
  });
  const domain = bootInitialDomain(machine, readFileSync(AGENT));
  const v = domain.vcpus[0].arch;
  const mem = machine.memory;
  // The L1 entry mapping the image's first page, and where the guest sees it (read-only).
  const entryPa = v.mmu.l1eAddress(v.guestTable, IMAGE);
  const l1Pfn = v.mmu.getM2p(entryPa >> 12);
  const entryVa = BigInt(l1Pfn * 4096 + (entryPa & 4095));
  expect(v.translate(entryVa, false)).toBe(entryPa);
  expect(v.translate(entryVa, true)).toBe(-1);
  // `mov %eax, (%ebx)` on a writable page past the boot stack.
  const code = domain.arch.layout!.vStack + 4096n;
  mem.bytes.set([0x89, 0x03], v.translate(code, true));
  v.cpu.rip = code;
  v.cpu.setReg(Reg.RBX, entryVa);
  return { machine, domain, v, mem, entryPa, entryVa, code };
}

describe("ptwr emulation in 32-bit code (PV32)", () => {
  it("a 4-byte store to an L1 entry's low half remaps the page; the high half stays", () => {
    const { domain, v, mem, entryPa, entryVa, code } = setup();
    const high = mem.read32(entryPa + 4);
    const other = domain.p2m[0x101];
    v.cpu.setReg(Reg.RAX, BigInt(((other << 12) | 0x63) >>> 0));
    expect(v.cpu.codeSize).toBe(32);
    expect(emulatePtWrite(v, entryVa)).toBe(true);
    expect(mem.read32(entryPa) >>> 12).toBe(other);
    expect(mem.read32(entryPa + 4)).toBe(high);
    expect(v.cpu.rip).toBe(code + 2n);
  });

  it("a store naming a frame the domain does not own is refused: entry and eip unchanged", () => {
    const { v, mem, entryPa, entryVa, code } = setup();
    const before = mem.read32(entryPa);
    v.cpu.setReg(Reg.RAX, 0x63n); // machine frame 0, present and writable
    expect(emulatePtWrite(v, entryVa)).toBe(false);
    expect(mem.read32(entryPa)).toBe(before);
    expect(v.cpu.rip).toBe(code);
  });
});
