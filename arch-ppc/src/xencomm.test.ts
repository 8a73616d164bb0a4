/**
 * xencomm handles (`public/xencomm.h`, `abi/ppc.md`): inline handles, descriptors and
 * their checks, and the descriptor handles of one hypercall with the core's `handle +
 * offset` arithmetic.
 */
import { describe, expect, it } from "vitest";
import {
  XENCOMM_INLINE_FLAG,
  XENCOMM_INVALID,
  XENCOMM_MAGIC,
  xencommAddress,
  XencommHandles,
  type GuestPhysicalReader,
} from "./xencomm.js";

/** 64 KiB of big-endian guest-physical memory from 0. */
function memory(): { bytes: Uint8Array; view: DataView; reader: GuestPhysicalReader } {
  const bytes = new Uint8Array(0x10000);
  const view = new DataView(bytes.buffer);
  const reader: GuestPhysicalReader = {
    u32: (gpa) => (gpa + 4n <= 0x10000n ? view.getUint32(Number(gpa), false) : null),
    u64: (gpa) => (gpa + 8n <= 0x10000n ? view.getBigUint64(Number(gpa), false) : null),
  };
  return { bytes, view, reader };
}

function descriptor(view: DataView, at: number, addresses: bigint[], magic = XENCOMM_MAGIC): void {
  view.setUint32(at, magic, false);
  view.setUint32(at + 4, addresses.length, false);
  addresses.forEach((a, i) => view.setBigUint64(at + 8 + 8 * i, a, false));
}

describe("xencommAddress", () => {
  it("reads an inline handle as the guest-physical address, offset added", () => {
    const { reader } = memory();
    expect(xencommAddress(XENCOMM_INLINE_FLAG | 0x1234n, 0x10, reader)).toBe(0x1244n);
  });

  it("walks a descriptor: each entry to the end of its page, ~0 entries skipped", () => {
    const { view, reader } = memory();
    descriptor(view, 0x100, [0x2ff0n, XENCOMM_INVALID, 0x5000n]);
    expect(xencommAddress(0x100n, 0, reader)).toBe(0x2ff0n);
    expect(xencommAddress(0x100n, 15, reader)).toBe(0x2fffn);
    expect(xencommAddress(0x100n, 16, reader)).toBe(0x5000n);
    expect(xencommAddress(0x100n, 16 + 4095, reader)).toBe(0x5fffn);
    expect(xencommAddress(0x100n, 16 + 4096, reader)).toBeNull();
  });

  it("refuses a bad magic, a misaligned descriptor and a header across a page", () => {
    const { view, reader } = memory();
    descriptor(view, 0x100, [0x3000n], 0x58434f4e);
    expect(xencommAddress(0x100n, 0, reader)).toBeNull();
    descriptor(view, 0x204, [0x3000n]);
    expect(xencommAddress(0x204n, 0, reader)).toBeNull();
    descriptor(view, 0xffc, [0x3000n]);
    expect(xencommAddress(0xffcn, 0, reader)).toBeNull();
    expect(xencommAddress(0xfff8n + 0x10000n, 0, reader)).toBeNull();
  });
});

describe("XencommHandles", () => {
  it("resolves handle + offset through the descriptor seen at offset 0, until the next call", () => {
    const { view, reader } = memory();
    descriptor(view, 0x100, [0x2ffcn, 0x7000n]);
    descriptor(view, 0x180, [0x9000n]);
    const h = new XencommHandles(reader);
    h.begin();
    expect(h.resolve(0x100n)).toBe(0x2ffcn);
    expect(h.resolve(0x100n + 4n)).toBe(0x7000n);
    // A second descriptor above the first is its own handle, not an offset into the first.
    expect(h.resolve(0x180n)).toBe(0x9000n);
    expect(h.resolve(0x180n + 8n)).toBe(0x9008n);
    expect(h.resolve(0x100n + 6n)).toBe(0x7002n);
    // A plain address that is no descriptor and follows none resolves to nothing.
    h.begin();
    expect(h.resolve(0x108n)).toBeNull();
  });
});
