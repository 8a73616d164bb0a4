/**
 * A PowerPC domain's storage as its vCPUs see it with translation off (MSR[IR] = MSR[DR]
 * = 0): the effective address, its top 22 bits ignored (the 970 keeps 42 bits of real
 * address), is the guest-physical address, which must lie in the real-mode area (RMA,
 * the first 64 MiB of the domain: `abi/ppc.md`); the domain's p2m turns it into a machine
 * address. Memory beyond the RMA is reached only through the hashed page table, which
 * the MMU owns: {@link createGuestStorage} is the one place a vCPU's storage is made, real
 * mode before the domain is built and the MMU after.
 *
 * The guest-physical door ({@link guestPhysicalToMachine}) is what hypercalls use: xencomm
 * handles carry guest-physical addresses, valid whatever the vCPU's MSR.
 *
 * @module
 */
import type { Domain, Machine } from "@hvkit/core";
import { raiseStorageFault, StorageStatus, type PpcMemory } from "./cpu/cpu-api.js";
import { domainGuestFrames, type PpcForeignFrame } from "./mmu/frames.js";
import type { PpcHashedPageTable } from "./mmu/hpt.js";
import { PpcMmu } from "./mmu/mmu.js";

/** Bytes of the real-mode area (RMA_LOG 26: 64 MiB), counted from guest-physical 0. */
export const RMA_BYTES = 64 * 1024 * 1024;

/** PowerPC guest page size. */
const PAGE = 4096;

/**
 * The machine byte address of guest-physical `gpa` of `domain`, or −1 when the domain
 * has no frame there (beyond its memory, or a hole).
 */
export function guestPhysicalToMachine(domain: Domain, gpa: bigint): number {
  if (gpa < 0n) return -1;
  const p2m = domain.p2m;
  const pfn = gpa >> 12n;
  if (pfn >= BigInt(p2m.length)) return -1;
  const mfn = p2m[Number(pfn)]!;
  return mfn < 0 ? -1 : mfn * PAGE + Number(gpa & 0xfffn);
}

/** The RMA of `domain` in bytes: 64 MiB, or all of a smaller domain's memory. */
export function rmaBytes(domain: Domain): number {
  return Math.min(RMA_BYTES, domain.p2m.length * PAGE);
}

/**
 * Real-mode storage of one domain (see the module comment). Every access is bounds- and
 * hole-checked; a failed one raises a storage fault ({@link raiseStorageFault}: DSI or ISI with "not found").
 */
export class RealModeStorage implements PpcMemory {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  /**
   * @param machine - the machine whose memory holds the domain's frames.
   * @param domain - the domain (its p2m is read on every access: memory_op may change it).
   */
  constructor(
    machine: Machine,
    private readonly domain: Domain,
  ) {
    this.bytes = machine.memory.bytes;
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /** Machine address of an access of `size` bytes inside one page, or −1 when it crosses one. */
  private pa(eaHi: number, eaLo: number, size: number, store: boolean, fetch: boolean): number {
    const gpa = eaLo >>> 0;
    const p2m = this.domain.p2m;
    if ((eaHi & 0x3ff) === 0 && gpa + size <= RMA_BYTES && gpa >>> 12 < p2m.length) {
      const mfn = p2m[gpa >>> 12]!;
      const off = gpa & 0xfff;
      if (mfn >= 0) return off + size <= PAGE ? mfn * PAGE + off : -1;
    }
    return fault(eaHi, eaLo, store, fetch);
  }

  /** A byte by byte access across a page boundary (each byte checked first for stores). */
  private readSplit(eaHi: number, eaLo: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v = (v << 8) | this.bytes[this.byteAt(eaHi, eaLo, i, false)]!;
    return v;
  }

  private writeSplit(eaHi: number, eaLo: number, size: number, v: number): void {
    for (let i = 0; i < size; i++) this.byteAt(eaHi, eaLo, i, true);
    for (let i = 0; i < size; i++)
      this.bytes[this.byteAt(eaHi, eaLo, i, true)] = (v >>> (8 * (size - 1 - i))) & 0xff;
  }

  private byteAt(eaHi: number, eaLo: number, i: number, store: boolean): number {
    const lo = (eaLo >>> 0) + i;
    return this.pa(lo > 0xffffffff ? (eaHi + 1) | 0 : eaHi, lo | 0, 1, store, false);
  }

  /** {@inheritDoc PpcMemory.fetch} */
  fetch(eaHi: number, eaLo: number): number {
    return this.view.getInt32(this.pa(eaHi, eaLo, 4, false, true));
  }
  /** {@inheritDoc PpcMemory.read8} */
  read8(eaHi: number, eaLo: number): number {
    return this.bytes[this.pa(eaHi, eaLo, 1, false, false)]!;
  }
  /** {@inheritDoc PpcMemory.read16} */
  read16(eaHi: number, eaLo: number): number {
    const a = this.pa(eaHi, eaLo, 2, false, false);
    return a >= 0 ? this.view.getUint16(a) : this.readSplit(eaHi, eaLo, 2);
  }
  /** {@inheritDoc PpcMemory.read32} */
  read32(eaHi: number, eaLo: number): number {
    const a = this.pa(eaHi, eaLo, 4, false, false);
    return a >= 0 ? this.view.getInt32(a) : this.readSplit(eaHi, eaLo, 4) | 0;
  }
  /** {@inheritDoc PpcMemory.write8} */
  write8(eaHi: number, eaLo: number, v: number): void {
    this.bytes[this.pa(eaHi, eaLo, 1, true, false)] = v;
  }
  /** {@inheritDoc PpcMemory.write16} */
  write16(eaHi: number, eaLo: number, v: number): void {
    const a = this.pa(eaHi, eaLo, 2, true, false);
    if (a >= 0) this.view.setUint16(a, v & 0xffff);
    else this.writeSplit(eaHi, eaLo, 2, v);
  }
  /** {@inheritDoc PpcMemory.write32} */
  write32(eaHi: number, eaLo: number, v: number): void {
    const a = this.pa(eaHi, eaLo, 4, true, false);
    if (a >= 0) this.view.setInt32(a, v | 0);
    else this.writeSplit(eaHi, eaLo, 4, v);
  }
  /** {@inheritDoc PpcMemory.write64} */
  write64(eaHi: number, eaLo: number, hi: number, lo: number): void {
    const a = this.pa(eaHi, eaLo, 8, true, false);
    if (a >= 0) {
      this.view.setInt32(a, hi | 0);
      this.view.setInt32(a + 4, lo | 0);
      return;
    }
    const lo2 = (eaLo >>> 0) + 4;
    const hi2 = lo2 > 0xffffffff ? (eaHi + 1) | 0 : eaHi;
    for (let i = 0; i < 8; i++) this.byteAt(eaHi, eaLo, i, true);
    this.writeSplit(eaHi, eaLo, 4, hi);
    this.writeSplit(hi2, lo2 | 0, 4, lo);
  }
}

function fault(eaHi: number, eaLo: number, store: boolean, fetch: boolean): never {
  const { NOT_FOUND, STORE } = StorageStatus;
  return raiseStorageFault(fetch, eaHi, eaLo, NOT_FOUND | (store ? STORE : 0));
}

/**
 * The storage a vCPU of `domain` runs on: once the domain has its hashed page table
 * (`hpt`, made by the builder), a {@link PpcMmu} on the domain's frames
 * (`domainGuestFrames`: H_ENTER maps only frames the domain owns, or another's `foreign` places in
 * its guest-physical space) and RMA, which follows
 * the CPU's MSR[IR]/[DR] once attached; before that, real-mode storage.
 */
export function createGuestStorage(
  machine: Machine,
  domain: Domain,
  hpt?: PpcHashedPageTable,
  foreign?: ReadonlyMap<number, PpcForeignFrame>,
): PpcMemory {
  if (hpt === undefined) return new RealModeStorage(machine, domain);
  return new PpcMmu(domainGuestFrames(machine.memory, domain, foreign), hpt, rmaBytes(domain));
}
