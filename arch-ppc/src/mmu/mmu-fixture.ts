/**
 * Test fixture for the PowerPC MMU: a flat guest-physical memory, an HPT, an MMU attached
 * to a CPU, and the ISA's formulas for SLB operands and PTEs written out independently of
 * the MMU's own code.
 *
 * @module
 */
import { Msr, STORAGE_FAULT } from "../cpu/cpu-api.js";
import { PpcCpu } from "../cpu/cpu.js";
import { PpcHashedPageTable } from "./hpt.js";
import { PpcMmu, type PpcGuestFrames } from "./mmu.js";
import { HFlag, PaprHcall, paprHcall } from "./papr.js";

/** Frames of the fixture's guest-physical memory. */
export const FRAMES = 64;
/** Its RMA: the first 16 frames. */
export const RMA = 16 * 4096;
/** A frame that exists but the guest does not own (a foreign frame in its p2m). */
export const FOREIGN = 40;

/** A guest with `FRAMES` frames, an HPT of 2^18 bytes and one vCPU. */
export function guest(): { cpu: PpcCpu; mmu: PpcMmu; frames: PpcGuestFrames; bytes: Uint8Array } {
  const bytes = new Uint8Array(FRAMES * 4096);
  const frames: PpcGuestFrames = {
    bytes,
    frameBase: (g) => (g >= 0 && g < FRAMES ? g * 4096 : -1),
    mayMap: (g) => g >= 0 && g < FRAMES && g !== FOREIGN,
  };
  const mmu = new PpcMmu(frames, new PpcHashedPageTable(18), RMA);
  const cpu = new PpcCpu(mmu);
  mmu.attach(cpu);
  cpu.msrLo = 0;
  return { cpu, mmu, frames, bytes };
}

/** `slbmte` RB: ESID ‖ V ‖ index. */
export function slbRb(esid: bigint, index: number): bigint {
  return (esid << 28n) | (1n << 27n) | BigInt(index);
}

/** `slbmte` RS: VSID ‖ Ks ‖ Kp ‖ N. */
export function slbRs(vsid: bigint, ks = 0, kp = 0, n = 0): bigint {
  return (vsid << 12n) | (BigInt(ks) << 11n) | (BigInt(kp) << 10n) | (BigInt(n) << 9n);
}

/** The primary PTEG of page `p` of segment `vsid` in a 2^11-PTEG table. */
export function primaryPteg(vsid: bigint, p: number): number {
  return Number(((vsid & ((1n << 39n) - 1n)) ^ BigInt(p)) & 0x7ffn);
}

/** PTE dword 0 for page `p` of segment `vsid`: AVPN ‖ H ‖ V. */
export function pte0(vsid: bigint, p: number, secondary = false): bigint {
  return (vsid << 12n) | (BigInt(p >> 11) << 7n) | (secondary ? 2n : 0n) | 1n;
}

/** PTE dword 1 mapping guest frame `gpfn`, coherent (M), with PP `pp` and optional N/G. */
export function pte1(gpfn: number, pp: number, extra = 0): bigint {
  return (BigInt(gpfn) << 12n) | 0x10n | BigInt(extra) | BigInt(pp);
}

/** Loads an SLB entry the way a guest does (`slbmte`, through {@link PpcMmu.emulate}). */
export function slbmte(cpu: PpcCpu, mmu: PpcMmu, rs: bigint, rb: bigint): void {
  cpu.setGpr(5, rs);
  cpu.setGpr(6, rb);
  // slbmte r5, r6
  if (!mmu.emulate(cpu, (31 << 26) | (5 << 21) | (6 << 11) | (402 << 1))) throw new Error("slbmte");
}

/** H_ENTER into the PTEG of ptex (or the exact slot); returns [status, slot]. */
export function hEnter(
  mmu: PpcMmu,
  ptex: number,
  dw0: bigint,
  dw1: bigint,
  exact = false,
): [number, bigint] {
  const out: bigint[] = [];
  const s = paprHcall(
    mmu,
    PaprHcall.H_ENTER,
    [exact ? HFlag.EXACT : 0n, BigInt(ptex), dw0, dw1],
    out,
  );
  return [s, out[0] ?? -1n];
}

/** Translation on for data (and instructions when `ir`), supervisor unless `pr`. */
export function relocate(cpu: PpcCpu, pr = false, ir = false): void {
  cpu.msrLo = Msr.DR | (ir ? Msr.IR : 0) | (pr ? Msr.PR : 0);
}

/** The fault an access threw (a copy of {@link STORAGE_FAULT}), or null when it completed. */
export function faultOf(
  f: () => unknown,
): { fetch: boolean; ea: number; status: number; segment: boolean } | null {
  try {
    f();
    return null;
  } catch (e) {
    if (e !== STORAGE_FAULT) throw e;
    const s = STORAGE_FAULT;
    return { fetch: s.fetch, ea: s.eaLo >>> 0, status: s.status, segment: s.segment };
  }
}
