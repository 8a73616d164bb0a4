/**
 * xz decompression for kernel payloads. The LZMA2 decoding is xz-decompress's (xz-embedded
 * compiled to WebAssembly, asynchronous); that build has no branch/call/jump filters, and
 * Linux compresses x86 kernels with the x86 BCJ filter before LZMA2 (scripts/xz_wrap.sh:
 * `--x86 --lzma2`). So {@link decompressXz} re-frames each block of the .xz stream without
 * its BCJ filter and integrity check (the container layout of the .xz file format
 * specification 1.x: stream header and footer, block headers, index), lets xz-decompress
 * undo LZMA2, and then undoes the x86 BCJ filter itself ({@link bcjX86Decode}). Blocks with
 * other filter chains are refused.
 *
 * @module
 */
import xzDecompress from "xz-decompress";

/** Filter IDs of the .xz format. */
const FILTER_X86 = 0x04;
const FILTER_LZMA2 = 0x21;
/** Bytes of the integrity check of each check type (.xz spec 2.1.1.2). */
const CHECK_SIZES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];
const MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

/** A malformed or unsupported .xz stream; the message says what. */
export class XzFormatError extends Error {}

let crcTable: Uint32Array | undefined;
/** CRC-32 (IEEE 802.3, the .xz container's). */
function crc32(bytes: Uint8Array): number {
  if (crcTable === undefined) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const b of bytes) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Reads a .xz variable-length integer at `o`; returns [value, next offset]. */
function vli(b: Uint8Array, o: number, end: number): [number, number] {
  let v = 0;
  for (let i = 0; i < 9; i++) {
    if (o >= end) throw new XzFormatError("truncated variable-length integer");
    const x = b[o++];
    v += (x & 0x7f) * 2 ** (7 * i);
    if ((x & 0x80) === 0) return [v, o];
  }
  throw new XzFormatError("variable-length integer too long");
}

function putVli(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const u32 = (b: Uint8Array, o: number): number =>
  (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

interface XzBlock {
  /** Offset of the LZMA2 data and its size. */
  readonly dataOffset: number;
  readonly dataSize: number;
  readonly uncompressedSize: number;
  /** LZMA2's one property byte (dictionary size). */
  readonly lzma2Props: number;
  /** The x86 BCJ filter's start offset, or null when the block has no BCJ filter. */
  readonly bcjStart: number | null;
}

/**
 * Finds the blocks of the first .xz stream in `file` through its index (located from the
 * footer, which may be followed by stream padding or, as in a Linux payload, the 4-byte
 * uncompressed size).
 */
function readBlocks(file: Uint8Array): XzBlock[] {
  if (file.length < 24 || MAGIC.some((m, i) => file[i] !== m))
    throw new XzFormatError("not an .xz stream");
  if (file[6] !== 0 || file[7] > 0x0f || crc32(file.subarray(6, 8)) !== u32(file, 8))
    throw new XzFormatError("bad stream header");
  const check = file[7];
  // The footer ends with "YZ" at a multiple of four bytes; look back past up to 8 bytes of
  // trailer (stream padding or the appended size).
  let footer = -1;
  for (let end = file.length; end >= file.length - 8 && end >= 24; end--) {
    if (file[end - 2] === 0x59 && file[end - 1] === 0x5a && (end - 12) % 4 === 0) {
      footer = end - 12;
      break;
    }
  }
  if (footer < 12 || crc32(file.subarray(footer + 4, footer + 10)) !== u32(file, footer))
    throw new XzFormatError("no valid stream footer");
  if (file[footer + 8] !== 0 || file[footer + 9] !== check)
    throw new XzFormatError("stream footer flags differ from the header's");
  const indexSize = (u32(file, footer + 4) + 1) * 4;
  const index = footer - indexSize;
  if (index < 12 || file[index] !== 0) throw new XzFormatError("bad index");
  if (crc32(file.subarray(index, footer - 4)) !== u32(file, footer - 4))
    throw new XzFormatError("index CRC32 mismatch");
  const [count, first] = vli(file, index + 1, footer - 4);
  let o = first;
  const blocks: XzBlock[] = [];
  let at = 12;
  for (let n = 0; n < count; n++) {
    let unpadded, uncompressed;
    [unpadded, o] = vli(file, o, footer - 4);
    [uncompressed, o] = vli(file, o, footer - 4);
    blocks.push(readBlockHeader(file, at, unpadded, uncompressed, CHECK_SIZES[check], index));
    at += Math.ceil(unpadded / 4) * 4;
  }
  if (at !== index) throw new XzFormatError("index does not match the blocks");
  return blocks;
}

function readBlockHeader(
  file: Uint8Array,
  at: number,
  unpadded: number,
  uncompressed: number,
  checkSize: number,
  limit: number,
): XzBlock {
  const headerSize = (file[at] + 1) * 4;
  if (file[at] === 0 || at + headerSize > limit) throw new XzFormatError("bad block header");
  if (crc32(file.subarray(at, at + headerSize - 4)) !== u32(file, at + headerSize - 4))
    throw new XzFormatError("block header CRC32 mismatch");
  const flags = file[at + 1];
  const end = at + headerSize - 4;
  let o = at + 2;
  if (flags & 0x40) o = vli(file, o, end)[1];
  if (flags & 0x80) o = vli(file, o, end)[1];
  let bcjStart: number | null = null;
  let lzma2Props = -1;
  const filters = (flags & 3) + 1;
  for (let f = 0; f < filters; f++) {
    let id, size;
    [id, o] = vli(file, o, end);
    [size, o] = vli(file, o, end);
    if (o + size > end) throw new XzFormatError("bad filter flags");
    if (id === FILTER_X86 && f < filters - 1 && bcjStart === null && (size === 0 || size === 4))
      bcjStart = size === 4 ? u32(file, o) : 0;
    else if (id === FILTER_LZMA2 && f === filters - 1 && size === 1) lzma2Props = file[o];
    else throw new XzFormatError(`unsupported filter chain (filter 0x${id.toString(16)})`);
    o += size;
  }
  const dataSize = unpadded - headerSize - checkSize;
  if (dataSize <= 0 || at + headerSize + dataSize > limit)
    throw new XzFormatError("block sizes do not fit the stream");
  return {
    dataOffset: at + headerSize,
    dataSize,
    uncompressedSize: uncompressed,
    lzma2Props,
    bcjStart,
  };
}

/** One block as a stream of its own: LZMA2 only, no integrity check. */
function lzma2Stream(file: Uint8Array, b: XzBlock): Uint8Array {
  const header = [0, 0x00, FILTER_LZMA2, 0x01, b.lzma2Props, 0, 0, 0];
  header[0] = header.length / 4; // (size + 4) / 4 - 1
  const blockHeader = [...header, ...le32(crc32(Uint8Array.from(header)))];
  const index = [0x00, 0x01];
  putVli(index, blockHeader.length + b.dataSize);
  putVli(index, b.uncompressedSize);
  while (index.length % 4 !== 0) index.push(0);
  const indexCrc = le32(crc32(Uint8Array.from(index)));
  const flags = Uint8Array.from([0, 0]);
  const backward = le32((index.length + 4) / 4 - 1);
  const footer = [...backward, 0, 0, 0x59, 0x5a];
  const footerCrc = le32(crc32(Uint8Array.from(footer.slice(0, 6))));
  const pad = (4 - (b.dataSize % 4)) % 4;
  const out = new Uint8Array(12 + blockHeader.length + b.dataSize + pad + index.length + 4 + 12);
  let o = 0;
  const put = (bytes: ArrayLike<number>): void => {
    out.set(bytes, o);
    o += bytes.length;
  };
  put([...MAGIC, ...flags, ...le32(crc32(flags))]);
  put(blockHeader);
  put(file.subarray(b.dataOffset, b.dataOffset + b.dataSize));
  o += pad;
  put(index);
  put(indexCrc);
  put([...footerCrc, ...footer]);
  return out;
}

/** xz-embedded's `bcj_x86` tables, indexed by the previous-byte mask. */
const BCJ_ALLOWED = [true, true, true, false, true, false, false, false];
const BCJ_BIT_NUM = [0, 1, 2, 2, 3, 3, 3, 3];

/** The index of the first `byte` in `buf[from, end)`, or `end`. */
function bcjFind(buf: Buffer, byte: number, from: number, end: number): number {
  const at = buf.indexOf(byte, from);
  return at < 0 || at > end ? end : at;
}

/**
 * Undoes the x86 BCJ filter in place over `buf`, whose first byte is at stream position
 * `start` (the filter's start offset): every E8/E9 (call/jmp rel32) whose displacement's
 * top byte is 00 or FF had its relative target turned absolute by the encoder; this turns
 * it back (the algorithm of xz-embedded's `bcj_x86`, its previous-byte mask included).
 * The last four bytes are left as they are, as the decoder leaves them at the end of a
 * stream.
 */
export function bcjX86Decode(buf: Uint8Array, start = 0): void {
  if (buf.length <= 4) return;
  const size = buf.length - 4;
  let prevPos = -1;
  let prevMask = 0;
  // The next E8 and E9 at or after i, found with the native byte search.
  let e8 = -1;
  let e9 = -1;
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  for (let i = 0; i < size; i++) {
    if (e8 < i) e8 = bcjFind(bytes, 0xe8, i, size);
    if (e9 < i) e9 = bcjFind(bytes, 0xe9, i, size);
    i = e8 < e9 ? e8 : e9;
    if (i >= size) break;
    const gap = i - prevPos;
    if (gap > 3) {
      prevMask = 0;
    } else {
      prevMask = (prevMask << (gap - 1)) & 7;
      if (prevMask !== 0) {
        const b = buf[i + 4 - BCJ_BIT_NUM[prevMask]];
        if (!BCJ_ALLOWED[prevMask] || b === 0x00 || b === 0xff) {
          prevPos = i;
          prevMask = (prevMask << 1) | 1;
          continue;
        }
      }
    }
    prevPos = i;
    const top = buf[i + 4];
    if (top === 0x00 || top === 0xff) {
      let src = u32(buf, i + 1);
      let dest: number;
      for (;;) {
        dest = (src - (start + i + 5)) >>> 0;
        if (prevMask === 0) break;
        const j = BCJ_BIT_NUM[prevMask] * 8;
        const x = (dest >>> (24 - j)) & 0xff;
        if (x !== 0x00 && x !== 0xff) break;
        src = (dest ^ (2 ** (32 - j) - 1)) >>> 0;
      }
      dest &= 0x01ffffff;
      dest = (dest | -(dest & 0x01000000)) >>> 0;
      buf[i + 1] = dest & 0xff;
      buf[i + 2] = (dest >>> 8) & 0xff;
      buf[i + 3] = (dest >>> 16) & 0xff;
      buf[i + 4] = dest >>> 24;
      i += 4;
    } else {
      prevMask = (prevMask << 1) | 1;
    }
  }
}

/**
 * Decompresses the first .xz stream of `file` (anything after its footer is ignored, as
 * the kernel's appended size), refusing one whose index says it holds more than
 * `maxBytes` before decoding any of it.
 *
 * @throws {@link XzFormatError} for a malformed or too large stream or an unsupported
 * filter chain; xz-decompress's errors for corrupt LZMA2 data.
 */
export async function decompressXz(file: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  const blocks = readBlocks(file);
  const total = blocks.reduce((n, b) => n + b.uncompressedSize, 0);
  if (total > maxBytes)
    throw new XzFormatError(
      `its index says 0x${total.toString(16)} bytes, more than 0x${maxBytes.toString(16)}`,
    );
  const out = new Uint8Array(total);
  let o = 0;
  for (const block of blocks) {
    const stream = lzma2Stream(file, block);
    const input = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(stream);
        controller.close();
      },
    });
    const start = o;
    const end = o + block.uncompressedSize;
    const reader = new xzDecompress.XzReadableStream(input).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (o + value.length > end)
        throw new XzFormatError("a block decompresses to more than its index says");
      out.set(value, o);
      o += value.length;
    }
    if (o !== end) throw new XzFormatError("a block decompresses to less than its index says");
    if (block.bcjStart !== null) bcjX86Decode(out.subarray(start, end), block.bcjStart);
  }
  return out;
}
