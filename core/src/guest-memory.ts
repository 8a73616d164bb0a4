/**
 * The one door to guest memory (Xen's copy_from_guest / copy_to_guest).
 *
 * Hypercall handlers and arch hypercall code reach guest memory only through these
 * functions. Each translates the guest virtual address page by page with the vCPU's MMU
 * (`vcpu.arch.translate`), so a buffer that crosses pages lands in whichever frames the
 * guest mapped there, and a missing or read-only mapping fails the call with −EFAULT —
 * never an exception, never a fault injected into the guest. Writes tell the arch which
 * machine bytes changed (`ArchPlugin.onMemoryWritten`) so decode caches stay coherent.
 *
 * Results follow the handler convention: 0 or a value ≥ 0 on success, −errno on failure.
 * A copy that fails part-way may have transferred the pages before the bad one, as in Xen.
 *
 * @module
 */
import { Errno } from "./errno.js";
import type { StructLayout } from "./structs.js";
import type { Vcpu } from "./vcpu.js";

const EFAULT = -Errno.EFAULT;
const VA_LIMIT = 1n << 64n;

/**
 * A reusable buffer for one struct's bytes and a DataView over them, so handlers can
 * read and write structs through a {@link StructLayout} without allocating per call.
 */
export class StructBuffer {
  /** The bytes. */
  readonly bytes: Uint8Array;
  /** A view over {@link StructBuffer.bytes}. */
  readonly view: DataView;

  /** @param capacity - the largest struct this buffer will hold, in bytes. */
  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
    this.view = new DataView(this.bytes.buffer);
  }
}

/** Scratch for multi-byte values that cross a page boundary. */
const scratch = new StructBuffer(8);

/**
 * Copies guest memory at `va` into `dst[offset, offset + length)`.
 *
 * @returns 0, or −EFAULT if any byte is unmapped (or the range wraps the address space).
 */
export function copyFromGuest(
  vcpu: Vcpu,
  va: bigint,
  dst: Uint8Array,
  offset = 0,
  length = dst.length - offset,
): number {
  return transfer(vcpu, va, dst, offset, length, false);
}

/**
 * Copies `src[offset, offset + length)` into guest memory at `va` (which must be mapped
 * writable for the guest kernel).
 *
 * @returns 0, or −EFAULT if any page is unmapped or read-only.
 */
export function copyToGuest(
  vcpu: Vcpu,
  va: bigint,
  src: Uint8Array,
  offset = 0,
  length = src.length - offset,
): number {
  return transfer(vcpu, va, src, offset, length, true);
}

/**
 * Fills `length` bytes of guest memory at `va` with zeros (clear_guest).
 *
 * @returns 0 or −EFAULT.
 */
export function clearGuest(vcpu: Vcpu, va: bigint, length: number): number {
  const memory = vcpu.machine.memory;
  const pageSize = memory.pageSize;
  if (!inRange(va, length)) return EFAULT;
  let done = 0;
  while (done < length) {
    const at = va + BigInt(done);
    const inPage = pageSize - Number(at & BigInt(pageSize - 1));
    const chunk = Math.min(inPage, length - done);
    const pa = vcpu.arch.translate(at, true);
    if (!validPa(pa, chunk, memory.size)) return EFAULT;
    memory.bytes.fill(0, pa, pa + chunk);
    vcpu.machine.arch.onMemoryWritten?.(vcpu.machine, pa, chunk);
    done += chunk;
  }
  return 0;
}

/** Reads an unsigned byte; returns it, or −EFAULT. */
export function readGuestU8(vcpu: Vcpu, va: bigint): number {
  const pa = translateWithin(vcpu, va, 1, false);
  return pa >= 0 ? vcpu.machine.memory.read8(pa) : EFAULT;
}

/** Reads an unsigned 16-bit value in the guest's byte order; returns it, or −EFAULT. */
export function readGuestU16(vcpu: Vcpu, va: bigint): number {
  const pa = translateWithin(vcpu, va, 2, false);
  if (pa >= 0) return vcpu.machine.memory.read16(pa);
  if (pa === EFAULT || transfer(vcpu, va, scratch.bytes, 0, 2, false) !== 0) return EFAULT;
  return scratch.view.getUint16(0, vcpu.machine.memory.littleEndian);
}

/** Reads an unsigned 32-bit value in the guest's byte order; returns it, or −EFAULT. */
export function readGuestU32(vcpu: Vcpu, va: bigint): number {
  const pa = translateWithin(vcpu, va, 4, false);
  if (pa >= 0) return vcpu.machine.memory.read32(pa);
  if (pa === EFAULT || transfer(vcpu, va, scratch.bytes, 0, 4, false) !== 0) return EFAULT;
  return scratch.view.getUint32(0, vcpu.machine.memory.littleEndian);
}

/**
 * Reads an unsigned 64-bit value in the guest's byte order; returns it (≥ 0n), or
 * −EFAULT as a bigint (−14n).
 */
export function readGuestU64(vcpu: Vcpu, va: bigint): bigint {
  const pa = translateWithin(vcpu, va, 8, false);
  if (pa >= 0) return vcpu.machine.memory.read64(pa);
  if (pa === EFAULT || transfer(vcpu, va, scratch.bytes, 0, 8, false) !== 0) {
    return BigInt(EFAULT);
  }
  return scratch.view.getBigUint64(0, vcpu.machine.memory.littleEndian);
}

/** Writes a byte; returns 0 or −EFAULT. */
export function writeGuestU8(vcpu: Vcpu, va: bigint, value: number): number {
  scratch.bytes[0] = value;
  return transfer(vcpu, va, scratch.bytes, 0, 1, true);
}

/** Writes a 16-bit value in the guest's byte order; returns 0 or −EFAULT. */
export function writeGuestU16(vcpu: Vcpu, va: bigint, value: number): number {
  scratch.view.setUint16(0, value, vcpu.machine.memory.littleEndian);
  return transfer(vcpu, va, scratch.bytes, 0, 2, true);
}

/** Writes a 32-bit value in the guest's byte order; returns 0 or −EFAULT. */
export function writeGuestU32(vcpu: Vcpu, va: bigint, value: number): number {
  scratch.view.setUint32(0, value >>> 0, vcpu.machine.memory.littleEndian);
  return transfer(vcpu, va, scratch.bytes, 0, 4, true);
}

/** Writes a 64-bit value in the guest's byte order; returns 0 or −EFAULT. */
export function writeGuestU64(vcpu: Vcpu, va: bigint, value: bigint): number {
  scratch.view.setBigUint64(0, BigInt.asUintN(64, value), vcpu.machine.memory.littleEndian);
  return transfer(vcpu, va, scratch.bytes, 0, 8, true);
}

/**
 * Reads the struct at `va` (`layout.size` bytes) into `buffer`, to be decoded with
 * `layout.get(buffer.view, 0, path)`.
 *
 * @returns 0 or −EFAULT.
 */
export function readGuestStruct(
  vcpu: Vcpu,
  va: bigint,
  layout: StructLayout,
  buffer: StructBuffer,
): number {
  return transfer(vcpu, va, buffer.bytes, 0, layout.size, false);
}

/**
 * Writes `layout.size` bytes of `buffer` (filled with `layout.set(buffer.view, 0, ...)`)
 * to the struct at `va`.
 *
 * @returns 0 or −EFAULT.
 */
export function writeGuestStruct(
  vcpu: Vcpu,
  va: bigint,
  layout: StructLayout,
  buffer: StructBuffer,
): number {
  return transfer(vcpu, va, buffer.bytes, 0, layout.size, true);
}

/**
 * Writes only the field at `path` of the struct at `va` (from the same offset of
 * `buffer`), as Xen's `__copy_field_to_guest`: the guest's other fields are left alone.
 *
 * @returns 0 or −EFAULT.
 */
export function writeGuestField(
  vcpu: Vcpu,
  va: bigint,
  layout: StructLayout,
  buffer: StructBuffer,
  path: string,
): number {
  const slot = layout.slot(path);
  return transfer(vcpu, va + BigInt(slot.offset), buffer.bytes, slot.offset, slot.size, true);
}

/** True when `[va, va + length)` lies inside the 64-bit address space. */
function inRange(va: bigint, length: number): boolean {
  return va >= 0n && va + BigInt(length) <= VA_LIMIT;
}

/** True when the arch gave a machine address with `len` bytes inside memory. */
function validPa(pa: number, len: number, size: number): boolean {
  return Number.isInteger(pa) && pa >= 0 && pa + len <= size;
}

/**
 * The machine address of `[va, va + len)` when it lies in one page; −EFAULT when the page
 * is unmapped; −1 when it crosses a page (the caller takes the slow path).
 */
function translateWithin(vcpu: Vcpu, va: bigint, len: number, write: boolean): number {
  const pageSize = vcpu.machine.memory.pageSize;
  if (!inRange(va, len)) return EFAULT;
  if (Number(va & BigInt(pageSize - 1)) + len > pageSize) return -1;
  const pa = vcpu.arch.translate(va, write);
  return validPa(pa, len, vcpu.machine.memory.size) ? pa : EFAULT;
}

function transfer(
  vcpu: Vcpu,
  va: bigint,
  buf: Uint8Array,
  offset: number,
  length: number,
  write: boolean,
): number {
  if (length === 0) return 0;
  if (!Number.isInteger(length) || length < 0 || offset < 0 || offset + length > buf.length) {
    throw new RangeError(`guest copy of ${length} bytes at offset ${offset} overruns its buffer`);
  }
  if (!inRange(va, length)) return EFAULT;
  const machine = vcpu.machine;
  const memory = machine.memory;
  const bytes = memory.bytes;
  const pageMask = BigInt(memory.pageSize - 1);
  let done = 0;
  while (done < length) {
    const at = done === 0 ? va : va + BigInt(done);
    const chunk = Math.min(memory.pageSize - Number(at & pageMask), length - done);
    const pa = vcpu.arch.translate(at, write);
    if (!validPa(pa, chunk, memory.size)) return EFAULT;
    if (write) {
      bytes.set(buf.subarray(offset + done, offset + done + chunk), pa);
      machine.arch.onMemoryWritten?.(machine, pa, chunk);
    } else {
      buf.set(bytes.subarray(pa, pa + chunk), offset + done);
    }
    done += chunk;
  }
  return 0;
}
