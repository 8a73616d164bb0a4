/**
 * Linux bzImage kernels, accepted as libxenguest's bzImage loader accepts them
 * (tools/libs/guest/xg_dom_bzimageloader.c, `xc_dom_probe_bzimage_kernel`): a file with
 * the x86 boot protocol's setup header ("HdrS" at 0x202) of version 2.08 or later
 * carries, at `(setup_sects + 1) * 512 + payload_offset`, `payload_length` bytes of a
 * compressed ELF kernel (the vmlinux). The payload's first bytes say how it is
 * compressed; once decompressed, the ELF is loaded as any other ({@link parseElf}).
 *
 * gzip is inflated with node:zlib, zstd with fzstd and xz with xz-decompress (xz-embedded
 * compiled to WebAssembly, which only runs asynchronously: hence {@link loadKernelImage}
 * returns a promise, and what boots a domain takes its result) and the x86 BCJ filter of
 * ./xz.ts. bzip2, LZMA, LZO and LZ4
 * payloads, which libxenguest also accepts, are refused as not supported here.
 *
 * @module
 */
import { gunzipSync } from "node:zlib";
import { Decompress as ZstdDecompress } from "fzstd";
import { decompressXz } from "./xz.js";
import { ImageError, ImageErrorCode } from "./errors.js";

/**
 * libxenguest's bound on a decompressed kernel or module (XC_DOM_DECOMPRESS_MAX,
 * xenguest.h, the default `max_kernel_size`): 1 GiB.
 */
export const XC_DOM_DECOMPRESS_MAX = 1024 * 1024 * 1024;

/** Bytes of `struct setup_header` as libxenguest declares it (up to `payload_length`). */
export const BZIMAGE_SETUP_HEADER_SIZE = 0x250;

/** The oldest boot protocol with `payload_offset`/`payload_length`: 2.08. */
export const BZIMAGE_MIN_VERSION = 0x0208;

/** How a bzImage's payload is compressed, by its magic (libxenguest's order). */
export type BzImageCompression = "gzip" | "bzip2" | "xz" | "zstd" | "lzma" | "lzo" | "lz4";

/** The setup header fields the loader reads. */
export interface BzImageHeader {
  /** `setup_sects` (0x1f1): 512-byte sectors of real-mode setup after the boot sector. */
  readonly setupSects: number;
  /** `version` (0x206): boot protocol, major << 8 | minor. */
  readonly version: number;
  /** `payload_offset` (0x248): from the end of the setup code. */
  readonly payloadOffset: number;
  /** `payload_length` (0x24c). */
  readonly payloadLength: number;
  /** File offset of the payload: `(setup_sects + 1) * 512 + payload_offset`. */
  readonly payloadFileOffset: number;
  /** The payload's compression. */
  readonly compression: BzImageCompression;
}

/** A kernel file made ready for the ELF loader. */
export interface KernelFile {
  /** The ELF kernel: the file itself, or a bzImage's decompressed payload. */
  readonly elf: Uint8Array;
  /** The bzImage setup header, when the file was one; null for an ELF file. */
  readonly bzImage: BzImageHeader | null;
}

const MAGICS: readonly (readonly [BzImageCompression, readonly number[]])[] = [
  ["gzip", [0x1f, 0x8b]],
  ["bzip2", [0x42, 0x5a, 0x68]],
  ["xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ["zstd", [0x28, 0xb5, 0x2f, 0xfd]],
  ["lzma", [0x5d, 0x00]],
  ["lzo", [0x89, 0x4c, 0x5a, 0x4f, 0x00]],
  ["lz4", [0x02, 0x21]],
];

const hex = (v: number): string => `0x${v.toString(16)}`;

/** Whether `file` has a boot protocol setup header ("HdrS" at 0x202), as libxc's probe asks. */
export function isBzImage(file: Uint8Array): boolean {
  return (
    file.length >= BZIMAGE_SETUP_HEADER_SIZE &&
    file[0x202] === 0x48 &&
    file[0x203] === 0x64 &&
    file[0x204] === 0x72 &&
    file[0x205] === 0x53
  );
}

/**
 * Reads a bzImage's setup header and checks it as `xc_dom_probe_bzimage_kernel` does:
 * boot protocol 2.08 or later, the payload inside the file, a compression it knows.
 *
 * @throws {@link ImageError} (`bad-bzimage`) saying which check failed.
 */
export function parseBzImageHeader(file: Uint8Array): BzImageHeader {
  if (!isBzImage(file))
    throw new ImageError(
      ImageErrorCode.BadBzImage,
      "setup header (file offset 0x202)",
      'no "HdrS" boot protocol signature: not a bzImage',
    );
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const setupSects = file[0x1f1];
  const version = view.getUint16(0x206, true);
  if (version < BZIMAGE_MIN_VERSION)
    throw new ImageError(
      ImageErrorCode.BadBzImage,
      "setup header version (file offset 0x206)",
      `boot protocol ${version >> 8}.${String(version & 0xff).padStart(2, "0")} is too old (a payload needs 2.08)`,
    );
  const payloadOffset = view.getUint32(0x248, true);
  const payloadLength = view.getUint32(0x24c, true);
  const payloadFileOffset = (setupSects + 1) * 512 + payloadOffset;
  if (payloadFileOffset >= file.length)
    throw new ImageError(
      ImageErrorCode.BadBzImage,
      "setup header payload_offset (file offset 0x248)",
      `the payload would start at ${hex(payloadFileOffset)}, past the end of the ${hex(file.length)}-byte file`,
    );
  if (payloadFileOffset + payloadLength > file.length)
    throw new ImageError(
      ImageErrorCode.BadBzImage,
      "setup header payload_length (file offset 0x24c)",
      `the payload ${hex(payloadFileOffset)}..${hex(payloadFileOffset + payloadLength)} runs past the end of the ${hex(file.length)}-byte file`,
    );
  const found = MAGICS.find(
    ([, magic]) =>
      magic.length <= payloadLength && magic.every((b, i) => file[payloadFileOffset + i] === b),
  );
  if (found === undefined)
    throw new ImageError(
      ImageErrorCode.BadBzImage,
      `payload (file offset ${hex(payloadFileOffset)})`,
      "unknown compression format",
    );
  return {
    setupSects,
    version,
    payloadOffset,
    payloadLength,
    payloadFileOffset,
    compression: found[0],
  };
}

/**
 * The ELF kernel in `file`: the file itself when it is not a bzImage (the ELF loader then
 * judges it), else its payload decompressed, at most {@link XC_DOM_DECOMPRESS_MAX} bytes.
 *
 * @throws {@link ImageError} (`bad-bzimage`) for a bzImage whose header or payload is
 * bad, whose compression hvkit does not decompress, or whose payload is not an ELF file.
 */
export async function loadKernelImage(file: Uint8Array): Promise<KernelFile> {
  if (!isBzImage(file)) return { elf: file, bzImage: null };
  const header = parseBzImageHeader(file);
  const payload = file.subarray(
    header.payloadFileOffset,
    header.payloadFileOffset + header.payloadLength,
  );
  const where = `${header.compression} payload (file offset ${hex(header.payloadFileOffset)}, ${hex(header.payloadLength)} bytes)`;
  let elf: Uint8Array;
  try {
    elf = await decompress(header.compression, payload, where);
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError(
      ImageErrorCode.BadBzImage,
      where,
      `cannot decompress it: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (elf.length < 4 || elf[0] !== 0x7f || elf[1] !== 0x45 || elf[2] !== 0x4c || elf[3] !== 0x46)
    throw new ImageError(
      ImageErrorCode.BadBzImage,
      where,
      `decompressed to ${hex(elf.length)} bytes that do not start with \\x7fELF: not a kernel Xen can load`,
    );
  return { elf, bzImage: header };
}

/** The lines `hvkit inspect` prints for a bzImage before the ELF inside it. */
export function describeBzImage(h: BzImageHeader, elfBytes: number): string {
  return [
    `Linux bzImage, boot protocol ${h.version >> 8}.${String(h.version & 0xff).padStart(2, "0")}, ${h.setupSects} setup sectors`,
    `payload ${h.compression} at file offset ${hex(h.payloadFileOffset)}, ${hex(h.payloadLength)} bytes, decompressed to ${hex(elfBytes)} bytes of ELF:`,
  ].join("\n");
}

function tooLarge(where: string): ImageError {
  return new ImageError(
    ImageErrorCode.BadBzImage,
    where,
    `decompresses to more than ${hex(XC_DOM_DECOMPRESS_MAX)} bytes (libxenguest's XC_DOM_DECOMPRESS_MAX)`,
  );
}

async function decompress(
  kind: BzImageCompression,
  payload: Uint8Array,
  where: string,
): Promise<Uint8Array> {
  switch (kind) {
    case "gzip":
      try {
        return gunzipSync(payload, { maxOutputLength: XC_DOM_DECOMPRESS_MAX });
      } catch (e) {
        if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(where);
        throw e;
      }
    case "zstd": {
      const chunks = new Collector(where);
      const z = new ZstdDecompress((chunk) => chunks.add(chunk));
      z.push(payload.subarray(0, zstdFramesEnd(payload)), true);
      return chunks.bytes();
    }
    case "xz":
      return decompressXz(payload, XC_DOM_DECOMPRESS_MAX);
    default:
      throw new ImageError(
        ImageErrorCode.BadBzImage,
        where,
        `hvkit does not decompress ${kind} payloads (gzip, xz and zstd only); rebuild the kernel with one of those, or give its vmlinux ELF`,
      );
  }
}

/**
 * Where the zstd frames at the start of `data` end (RFC 8878 section 3.1.1: frame
 * header, blocks, optional checksum): a Linux payload has its 4-byte size after them,
 * which a zstd decoder would take for the start of another frame.
 */
function zstdFramesEnd(data: Uint8Array): number {
  let o = 0;
  const u32 = (at: number): number =>
    (data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (data[at + 3] << 24)) >>> 0;
  while (o + 4 <= data.length && u32(o) === 0xfd2fb528) {
    const fhd = data[o + 4];
    const fcsBytes = [fhd & 0x20 ? 1 : 0, 2, 4, 8][fhd >> 6];
    o += 5 + (fhd & 0x20 ? 0 : 1) + [0, 1, 2, 4][fhd & 3] + fcsBytes;
    for (let last = false; !last;) {
      if (o + 3 > data.length) return data.length; // truncated: the decoder says so
      const h = data[o] | (data[o + 1] << 8) | (data[o + 2] << 16);
      last = (h & 1) === 1;
      o += 3 + (((h >> 1) & 3) === 1 ? 1 : h >>> 3);
    }
    if (fhd & 4) o += 4;
  }
  return Math.min(o, data.length);
}

/** Decompressed chunks, joined at the end; refuses more than the libxenguest bound. */
class Collector {
  private readonly chunks: Uint8Array[] = [];
  private total = 0;
  constructor(private readonly where: string) {}
  add(chunk: Uint8Array): void {
    this.total += chunk.length;
    if (this.total > XC_DOM_DECOMPRESS_MAX) throw tooLarge(this.where);
    this.chunks.push(chunk.slice());
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.total);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}
