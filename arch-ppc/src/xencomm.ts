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
