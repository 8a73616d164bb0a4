/**
 * xencomm handles: how a PowerPC guest passes a buffer to a hypercall (Xen's
 * `public/xencomm.h`, `common/xencomm.c`; `abi/ppc.md`). A handle with bit 63 set is
 * inline: the rest is the buffer's guest-physical address. Otherwise it is the
 * guest-physical address of a descriptor — u32 magic "XCOM", u32 nr_addrs, then nr_addrs
 * u64 guest-physical addresses, big-endian — each entry covering from its address to the
 * end of its page (an entry of ~0 is skipped).
 *
 * @module
 */

/** XENCOMM_INLINE_FLAG: the handle is the buffer's guest-physical address. */
export const XENCOMM_INLINE_FLAG = 1n << 63n;
/** XENCOMM_MAGIC: the first word of a descriptor ("XCOM"). */
export const XENCOMM_MAGIC = 0x58434f4d;
/** XENCOMM_INVALID: a descriptor entry that is skipped. */
export const XENCOMM_INVALID = 0xffff_ffff_ffff_ffffn;

/** Reads a big-endian word of guest-physical memory; null when there is none. */
export interface GuestPhysicalReader {
  /** The u32 at `gpa`, or null. */
  u32(gpa: bigint): number | null;
  /** The u64 at `gpa`, or null. */
  u64(gpa: bigint): bigint | null;
}

/**
 * The guest-physical address of byte `offset` of the buffer xencomm `handle` describes,
 * or null when the handle is bad (a descriptor that is unreadable, misaligned, with its
 * header across a page, with the wrong magic, or too short for `offset`).
 */
export function xencommAddress(
  handle: bigint,
  offset: number,
  memory: GuestPhysicalReader,
): bigint | null {
  if ((handle & XENCOMM_INLINE_FLAG) !== 0n)
    return (handle & ~XENCOMM_INLINE_FLAG) + BigInt(offset);
  if ((handle & 7n) !== 0n || (handle & 0xfffn) > 0xff8n) return null;
  if (memory.u32(handle) !== XENCOMM_MAGIC) return null;
  const n = memory.u32(handle + 4n);
  if (n === null) return null;
  let left = BigInt(offset);
  for (let i = 0n; i < BigInt(n); i++) {
    const address = memory.u64(handle + 8n + 8n * i);
    if (address === null) return null;
    if (address === XENCOMM_INVALID) continue;
    const chunk = 0x1000n - (address & 0xfffn);
    if (left < chunk) return address + left;
    left -= chunk;
  }
  return null;
}

/** Most descriptor handles one hypercall resolves (a multicall's entries included). */
const MAX_DESCRIPTORS = 16;

/**
 * The descriptor handles of the hypercall a vCPU is making, for the core's copies. The
 * core adds byte offsets to handles as if they were addresses (`handle + offset`); for a
 * descriptor that sum means "byte `offset` of the buffer the descriptor at `handle`
 * lists", as Xen's `xencomm_add_offset` makes it. So an address is resolved as: a
 * descriptor seen at offset 0 during this hypercall; else a valid descriptor itself
 * (remembered); else byte `address − base` of the nearest remembered descriptor below it.
 * Forgotten when the next hypercall starts.
 */
export class XencommHandles {
  private readonly bases = new BigUint64Array(MAX_DESCRIPTORS);
  private count = 0;

  /** @param memory - the domain's guest-physical memory. */
  constructor(private readonly memory: GuestPhysicalReader) {}

  /** A new hypercall: no descriptor known yet. */
  begin(): void {
    this.count = 0;
  }

  /** The guest-physical address behind `address` (see the class comment), or null. */
  resolve(address: bigint): bigint | null {
    let below = -1n;
    for (let i = 0; i < this.count; i++) {
      const base = this.bases[i]!;
      if (base === address) return xencommAddress(base, 0, this.memory);
      if (base < address && base > below) below = base;
    }
    const own = xencommAddress(address, 0, this.memory);
    if (own !== null) {
      if (this.count < MAX_DESCRIPTORS) this.bases[this.count++] = address;
      return own;
    }
    const offset = address - below;
    if (below < 0n || offset > 0xffff_ffffn) return null;
    return xencommAddress(below, Number(offset), this.memory);
  }
}
