/**
 * A domain's vCPU MMU as the rest of hvkit meets it:
 * - the translation cache and the p2m: when a guest frame leaves the domain (here given
 *   back, as decrease_reservation does) the core tells the plugin
 *   (`ArchPlugin.onP2mChanged`) and every vCPU drops what it cached, so the next access
 *   to the frame faults instead of reaching a machine frame the domain no longer owns — in
 *   real mode and through an HPT entry alike;
 * - the host's accesses outside hypercalls (`PpcVcpu.translate`, the core's guest-memory
 *   door): an address is what the vCPU's next load or store would reach, through the HPT
 *   once MSR[DR] = 1.
 */
import { describe, expect, it } from "vitest";
import { copyFromGuest, Errno, releaseFrame } from "@hvkit/core";
import { Msr, STORAGE_FAULT } from "../cpu/cpu-api.js";
import { bootSpinningDomain } from "../spinning-domain.js";
import { HStatus, PaprHcall, paprHcall } from "./papr.js";

const GPFN = 0x300;
const VSID = 0x4d2n;
const EA_PAGE = 0x123;

function boot() {
  const { m, domain } = bootSpinningDomain();
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
  /** SLB entry 0: ESID 0 → VSID (Ks = Kp = 0); a PTE for page EA_PAGE → GPFN with `pp`. */
  const mapPage = (pp: number): void => {
    v.cpu.setGpr(5, VSID << 12n);
    v.cpu.setGpr(6, 1n << 27n);
    expect(mmu.emulate(v.cpu, (31 << 26) | (5 << 21) | (6 << 11) | (402 << 1))).toBe(true);
    const hash = (Number(VSID) ^ EA_PAGE) & domain.arch.hpt!.ptegMask;
    const dw0 = (VSID << 12n) | 1n;
    const dw1 = (BigInt(GPFN) << 12n) | 0x10n | BigInt(pp);
    expect(paprHcall(mmu, PaprHcall.H_ENTER, [0n, BigInt(hash * 8), dw0, dw1], [])).toBe(
      HStatus.Success,
    );
  };
  return { m, domain, v, cpu: v.cpu, mmu, mfn, gone, mapPage };
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
    const { m, domain, cpu, mmu, mfn, gone, mapPage } = boot();
    mapPage(2);
    cpu.msrLo |= Msr.DR;
    expect(mmu.read32(0, EA_PAGE * 4096 + 16)).toBe(0x5eed1e55);
    expect(releaseFrame(m, domain, mfn)).toBe(0);
    expect(gone(() => mmu.read32(0, EA_PAGE * 4096 + 16))).toBe("storage fault");
  });
});

describe("ppc host accesses outside hypercalls", () => {
  it("reach what the vCPU's next access reaches: the RMA in real mode, the HPT with DR = 1", () => {
    const { domain, v, cpu, mfn, mapPage } = boot();
    const ea = BigInt(EA_PAGE * 4096 + 16);
    // Real mode: EA_PAGE is a guest-physical page of the RMA.
    expect(v.translate(ea, false)).toBe(domain.p2m[EA_PAGE]! * 4096 + 16);
    mapPage(2);
    cpu.msrLo |= Msr.DR;
    expect(v.translate(ea, false)).toBe(mfn * 4096 + 16);
    expect(v.translate(ea, true)).toBe(mfn * 4096 + 16);
    const out = new Uint8Array(4);
    expect(copyFromGuest(domain.vcpus[0]!, ea, out)).toBe(0);
    expect(new DataView(out.buffer).getUint32(0, false)).toBe(0x5eed1e55);
    // No PTE for the next page: the copy fails instead of faulting the guest.
    expect(v.translate(ea + 4096n, false)).toBe(-1);
    expect(copyFromGuest(domain.vcpus[0]!, ea + 4096n, out)).toBe(-Errno.EFAULT);
    // Inline xencomm handles stay guest-physical whatever the MSR.
    expect(v.translate(BigInt(GPFN * 4096) | (1n << 63n), false)).toBe(mfn * 4096);
  });

  it("refuse a store where the PTE allows only reads (PP = 3)", () => {
    const { v, cpu, mfn, mapPage } = boot();
    mapPage(3);
    cpu.msrLo |= Msr.DR;
    const ea = BigInt(EA_PAGE * 4096);
    expect(v.translate(ea, false)).toBe(mfn * 4096);
    expect(v.translate(ea, true)).toBe(-1);
  });
});
