/**
 * The MMU's translation cache and the p2m: when a guest frame leaves the domain (here
 * given back, as decrease_reservation does) the core tells the plugin
 * (`ArchPlugin.onP2mChanged`) and every vCPU drops what it cached, so the next access to
 * the frame faults instead of reaching a machine frame the domain no longer owns — in
 * real mode and through an HPT entry alike.
 */
import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { container } from "tsyringe";
import { bootInitialDomain, buildElf, createMachine, releaseFrame } from "@hvkit/core";
import { Msr, STORAGE_FAULT } from "../cpu/cpu-api.js";
import { PpcPvPlugin, type PpcPv } from "../plugin.js";
import { HStatus, PaprHcall, paprHcall } from "./papr.js";

const GPFN = 0x300;
const VSID = 0x4d2n;
const EA_PAGE = 0x123;

function boot() {
  const m = createMachine<PpcPv>(container.createChildContainer(), {
    arch: new PpcPvPlugin(),
    memoryMiB: 16,
  });
  const code = new Uint8Array(0x1000);
  new DataView(code.buffer).setUint32(0, 0x48000000, false); // b .
  const image = buildElf({
    machine: 21,
    endianness: "big",
    entry: 0n,
    segments: [{ vaddr: 0n, paddr: 0n, data: code }],
  });
  const domain = bootInitialDomain(m, image, { cmdline: "" });
  const v = domain.vcpus[0]!.arch;
  const mmu = v.mmu!;
  const mfn = domain.p2m[GPFN]!;
  m.memory.view.setUint32(mfn * 4096 + 16, 0x5eed1e55, false);
  const gone = (read: () => number): unknown => {
    try {
      return read();
    } catch (err) {
      return err === STORAGE_FAULT ? "storage fault" : err;
    }
  };
  return { m, domain, cpu: v.cpu, mmu, mfn, gone };
}

describe("ppc MMU after a p2m change", () => {
  it("a real-mode access to a frame given back faults, though it was cached", () => {
    const { m, domain, mmu, mfn, gone } = boot();
    expect(mmu.read32(0, GPFN * 4096 + 16)).toBe(0x5eed1e55);
    expect(releaseFrame(m, domain, mfn)).toBe(0);
    expect(domain.p2m[GPFN]).toBe(-1);
    expect(gone(() => mmu.read32(0, GPFN * 4096 + 16))).toBe("storage fault");
  });

  it("an access through an HPT entry to a frame given back faults, though it was cached", () => {
    const { m, domain, cpu, mmu, mfn, gone } = boot();
    // SLB entry 0: ESID 0 → VSID (Ks = Kp = 0); a PTE for page EA_PAGE → GPFN, PP = 2.
    cpu.setGpr(5, VSID << 12n);
    cpu.setGpr(6, 1n << 27n);
    expect(mmu.emulate(cpu, (31 << 26) | (5 << 21) | (6 << 11) | (402 << 1))).toBe(true);
    const hash = (Number(VSID) ^ EA_PAGE) & domain.arch.hpt!.ptegMask;
    const dw0 = (VSID << 12n) | 1n;
    const dw1 = (BigInt(GPFN) << 12n) | 0x12n;
    expect(paprHcall(mmu, PaprHcall.H_ENTER, [0n, BigInt(hash * 8), dw0, dw1], [])).toBe(
      HStatus.Success,
    );
    cpu.msrLo |= Msr.DR;
    expect(mmu.read32(0, EA_PAGE * 4096 + 16)).toBe(0x5eed1e55);
    expect(releaseFrame(m, domain, mfn)).toBe(0);
    expect(gone(() => mmu.read32(0, EA_PAGE * 4096 + 16))).toBe("storage fault");
  });
});
