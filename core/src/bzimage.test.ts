import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import {
  describeBzImage,
  isBzImage,
  loadKernelImage,
  parseBzImageHeader,
  XC_DOM_DECOMPRESS_MAX,
} from "./bzimage.js";
import { computeLoadLayout, parseElf } from "./elf.js";
import { ImageError, ImageErrorCode } from "./errors.js";
import { bcjX86Decode } from "./xz.js";
import { buildBzImage } from "./testing/bzimage.js";
import { fixtureKernel } from "./golden/bzimage/fixture-kernel.js";

const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`./golden/bzimage/${name}`, import.meta.url)));
const elf = fixtureKernel();

async function refusal(file: Uint8Array): Promise<ImageError> {
  const err = await loadKernelImage(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageError);
  expect((err as ImageError).code).toBe(ImageErrorCode.BadBzImage);
  return err as ImageError;
}

describe("bzImage kernels (xg_dom_bzimageloader.c)", () => {
  it("an ELF file is returned as it is, with no bzImage header", async () => {
    const k = await loadKernelImage(elf);
    expect(k.elf).toBe(elf);
    expect(k.bzImage).toBeNull();
    expect(isBzImage(elf)).toBe(false);
  });

  it.each([
    ["gzip (node:zlib)", () => gzipSync(elf), "gzip"],
    ["xz with the x86 BCJ filter, CRC32, as Linux's xz_wrap.sh", () => fixture("kernel.xz"), "xz"],
    ["xz in several blocks, CRC64", () => fixture("kernel-blocks.xz"), "xz"],
    ["xz without BCJ, SHA-256", () => fixture("kernel-plain.xz"), "xz"],
    ["zstd (fzstd)", () => fixture("kernel.zst"), "zstd"],
  ])("unwraps a %s payload to the ELF kernel inside", async (_what, payload, kind) => {
    const compressed = payload();
    // Linux appends the uncompressed size after every payload but a gzip one (its
    // trailer has it): arch/x86/boot/compressed/Makefile's *_with_size.
    const sized = new Uint8Array(compressed.length + (kind === "gzip" ? 0 : 4));
    sized.set(compressed);
    if (kind !== "gzip") new DataView(sized.buffer).setUint32(compressed.length, elf.length, true);
    const file = buildBzImage(sized, { setupSects: 7, gap: 0x123 });
    const k = await loadKernelImage(file);
    expect(k.bzImage).toEqual({
      setupSects: 7,
      version: 0x020f,
      payloadOffset: 0x123,
      payloadLength: sized.length,
      payloadFileOffset: 8 * 512 + 0x123,
      compression: kind,
    });
    expect(Buffer.from(k.elf).equals(Buffer.from(elf))).toBe(true);
    const image = parseElf(k.elf);
    expect(computeLoadLayout(image).entry).toBe(0x100000n);
    expect(describeBzImage(k.bzImage!, k.elf.length)).toBe(
      `Linux bzImage, boot protocol 2.15, 7 setup sectors\n` +
        `payload ${kind} at file offset 0x1123, 0x${sized.length.toString(16)} bytes, decompressed to 0x${elf.length.toString(16)} bytes of ELF:`,
    );
  });

  it("bcjX86Decode turns an absolute call target back into a relative one", () => {
    // At stream position 0x100, `call` to absolute 0x1234 (as the encoder writes it):
    // relative = 0x1234 - (0x100 + 5) = 0x112f.
    const buf = Uint8Array.from([0xe8, 0x34, 0x12, 0x00, 0x00, 0x90, 0x90, 0x90, 0x90]);
    bcjX86Decode(buf, 0x100);
    expect([...buf.subarray(0, 5)]).toEqual([0xe8, 0x2f, 0x11, 0x00, 0x00]);
    // A negative displacement keeps its FF sign byte; an E8 whose top byte is neither 00
    // nor FF is left alone.
    const back = Uint8Array.from([0xe8, 0x00, 0x00, 0x00, 0x00, 0xe8, 1, 2, 3, 4, 0, 0, 0, 0]);
    bcjX86Decode(back, 0x10);
    expect([...back.subarray(0, 5)]).toEqual([0xe8, 0xeb, 0xff, 0xff, 0xff]);
    expect([...back.subarray(5, 10)]).toEqual([0xe8, 1, 2, 3, 4]);
  });

  it("refuses what libxenguest refuses: an old boot protocol, a payload outside the file, an unknown compression", async () => {
    const gz = gzipSync(elf);
    const old = await refusal(buildBzImage(gz, { version: 0x0207 }));
    expect(old.where).toMatch(/0x206/);
    expect(old.detail).toMatch(/boot protocol 2\.07 is too old/);
    const far = await refusal(buildBzImage(gz, { payloadOffset: 0x100000 }));
    expect(far.detail).toMatch(/past the end of the/);
    const long = await refusal(buildBzImage(gz, { payloadLength: gz.length + 17, tail: 16 }));
    expect(long.where).toMatch(/payload_length/);
    const unknown = await refusal(buildBzImage(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])));
    expect(unknown.detail).toBe("unknown compression format");
    expect(() => parseBzImageHeader(elf)).toThrow(/not a bzImage/);
  });

  it("refuses compressions it does not decompress, undecodable payloads, and a payload that is not ELF", async () => {
    const lz4 = await refusal(buildBzImage(Uint8Array.from([0x02, 0x21, 0x4c, 0x18, 0, 0])));
    expect(lz4.detail).toMatch(/does not decompress lz4 payloads/);
    const bad = gzipSync(elf);
    bad.fill(0x55, 20, 60);
    expect((await refusal(buildBzImage(bad))).detail).toMatch(/^cannot decompress it/);
    const delta = await refusal(buildBzImage(fixture("kernel-delta.xz")));
    expect(delta.detail).toMatch(/unsupported filter chain \(filter 0x3\)/);
    const corrupt = fixture("kernel.xz");
    corrupt[corrupt.length - 20] ^= 0xff; // in the index
    expect((await refusal(buildBzImage(corrupt))).detail).toMatch(/^cannot decompress it/);
    const text = await refusal(buildBzImage(gzipSync(Buffer.from("not a kernel"))));
    expect(text.detail).toMatch(/do not start with \\x7fELF/);
  });

  it("refuses an xz payload whose index declares more than XC_DOM_DECOMPRESS_MAX, before decoding", async () => {
    // The index of kernel-plain.xz holds one record; rewrite its uncompressed size.
    const xz = fixture("kernel-plain.xz");
    const err = await refusal(buildBzImage(withHugeSize(xz)));
    expect(err.detail).toMatch(new RegExp(`more than 0x${XC_DOM_DECOMPRESS_MAX.toString(16)}`));
  });

  it("the ELF loader points a bzImage given to it straight to loadKernelImage", () => {
    expect(() => parseElf(buildBzImage(gzipSync(elf)))).toThrow(/Linux bzImage.*loadKernelImage/);
  });
});

/** `xz` (one block) with its index's uncompressed size set to 2 GiB, CRCs fixed. */
function withHugeSize(xz: Uint8Array): Uint8Array {
  const dv = new DataView(xz.buffer, xz.byteOffset, xz.byteLength);
  const footer = xz.length - 12;
  const indexSize = (dv.getUint32(footer + 4, true) + 1) * 4;
  const index = footer - indexSize;
  const fields: number[] = [0x00, 0x01];
  let o = index + 2;
  const unpadded: number[] = [];
  do unpadded.push(xz[o]);
  while (xz[o++] & 0x80);
  fields.push(...unpadded);
  let v = 2 ** 31;
  while (v >= 0x80) {
    fields.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  fields.push(v);
  while (fields.length % 4 !== 0) fields.push(0);
  const crc = (b: Uint8Array): number => {
    let c = 0xffffffff;
    for (const x of b) {
      c ^= x;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    return (c ^ 0xffffffff) >>> 0;
  };
  const newIndex = new Uint8Array(fields.length + 4);
  newIndex.set(fields);
  new DataView(newIndex.buffer).setUint32(fields.length, crc(Uint8Array.from(fields)), true);
  const foot = xz.slice(footer);
  new DataView(foot.buffer).setUint32(4, newIndex.length / 4 - 1, true);
  new DataView(foot.buffer).setUint32(0, crc(foot.subarray(4, 10)), true);
  const out = new Uint8Array(index + newIndex.length + 12);
  out.set(xz.subarray(0, index));
  out.set(newIndex, index);
  out.set(foot, index + newIndex.length);
  return out;
}
