/**
 * Real-mode storage: effective address = real address (the 970 ignores the top 22 EA bits
 * with translation off), over one flat big-endian byte array. Tests and the real-mode part
 * of a domain's memory (the RMA) use it; translated accesses go through the MMU's own
 * {@link PpcMemory}.
 *
 * @module
 */
import { raiseStorageFault, StorageStatus, type PpcMemory } from "./cpu-api.js";

/** A flat big-endian memory of `bytes.length` bytes from real address 0. */
export class RealModeMemory implements PpcMemory {
  /** The storage. */
  readonly bytes: Uint8Array;
  /** A big-endian view of {@link RealModeMemory.bytes}. */
  readonly view: DataView;

  /** A memory over `bytes` (shared, not copied). */
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The real address of an access of `size` bytes at `ea`, or a thrown storage fault. */
  private real(eaHi: number, eaLo: number, size: number, store: boolean, fetch: boolean): number {
    const a = (eaHi & 0x3ff) * 0x100000000 + (eaLo >>> 0);
    if (a + size <= this.bytes.length) return a;
    const { NOT_FOUND, STORE } = StorageStatus;
    return raiseStorageFault(fetch, eaHi, eaLo, NOT_FOUND | (store ? STORE : 0));
  }

  /** {@inheritDoc PpcMemory.fetch} */
  fetch(eaHi: number, eaLo: number): number {
    return this.view.getInt32(this.real(eaHi, eaLo, 4, false, true));
  }
  /** {@inheritDoc PpcMemory.read8} */
  read8(eaHi: number, eaLo: number): number {
    return this.bytes[this.real(eaHi, eaLo, 1, false, false)]!;
  }
  /** {@inheritDoc PpcMemory.read16} */
  read16(eaHi: number, eaLo: number): number {
    return this.view.getUint16(this.real(eaHi, eaLo, 2, false, false));
  }
  /** {@inheritDoc PpcMemory.read32} */
  read32(eaHi: number, eaLo: number): number {
    return this.view.getInt32(this.real(eaHi, eaLo, 4, false, false));
  }
  /** {@inheritDoc PpcMemory.write8} */
  write8(eaHi: number, eaLo: number, v: number): void {
    this.bytes[this.real(eaHi, eaLo, 1, true, false)] = v;
  }
  /** {@inheritDoc PpcMemory.write16} */
  write16(eaHi: number, eaLo: number, v: number): void {
    this.view.setUint16(this.real(eaHi, eaLo, 2, true, false), v & 0xffff);
  }
  /** {@inheritDoc PpcMemory.write32} */
  write32(eaHi: number, eaLo: number, v: number): void {
    this.view.setInt32(this.real(eaHi, eaLo, 4, true, false), v | 0);
  }
  /** {@inheritDoc PpcMemory.write64} */
  write64(eaHi: number, eaLo: number, hi: number, lo: number): void {
    const a = this.real(eaHi, eaLo, 8, true, false);
    this.view.setInt32(a, hi | 0);
    this.view.setInt32(a + 4, lo | 0);
  }
}
