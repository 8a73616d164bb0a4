/**
 * Unpacked kernels kept between runs: a bzImage's payload (Debian's is about 8 MiB of xz
 * that unpacks to 64 MiB of ELF) takes a second or more to decompress at every `hvkit run`,
 * so the ELF is kept in hvkit's cache folder under the SHA-256 of the bzImage file, and a
 * later run of the same file reads it back instead. Small kernels are not kept (unpacking
 * them costs less than the disk), nor more than a few: the least recently used go first.
 * A cache that cannot be read or written is passed over; the run unpacks as without one.
 *
 * @module
 */
import { createHash } from "node:crypto";
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { isBzImage, loadKernelImage } from "@hvkit/core";
import { hvkitCacheDir } from "@hvkit/guests";

const SUFFIX = ".elf";

/** A folder of unpacked kernels, keyed by their bzImage's SHA-256. */
export class KernelCache {
  /**
   * @param dir - the folder (created when first written), e.g. `<hvkit cache>/kernels`.
   * @param keep - how many unpacked kernels to keep; the least recently used go first.
   * @param minBytes - unpacked kernels smaller than this are not kept.
   */
  constructor(
    readonly dir: string,
    readonly keep = 4,
    readonly minBytes = 8 << 20,
  ) {}

  /**
   * The kernel in `file`: for a bzImage the ELF inside it (from the cache when this file
   * was unpacked before), else `file` itself. Errors are {@link loadKernelImage}'s.
   */
  async load(file: Uint8Array): Promise<Uint8Array> {
    if (!isBzImage(file)) return file;
    return this.loadWith(file, async (f) => (await loadKernelImage(f)).elf);
  }

  /** {@link load} with `unpack` in place of {@link loadKernelImage} (for tests). */
  async loadWith(
    file: Uint8Array,
    unpack: (file: Uint8Array) => Promise<Uint8Array>,
  ): Promise<Uint8Array> {
    const key = createHash("sha256").update(file).digest("hex");
    const path = join(this.dir, key + SUFFIX);
    const cached = this.read(path);
    if (cached !== null) return cached;
    const elf = await unpack(file);
    if (elf !== file && elf.length >= this.minBytes) this.write(path, elf);
    return elf;
  }

  private read(path: string): Uint8Array | null {
    try {
      const bytes = readFileSync(path);
      if (bytes.length < 4 || bytes.readUInt32BE(0) !== 0x7f454c46) return null;
      const now = new Date();
      utimesSync(path, now, now);
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    } catch {
      return null;
    }
  }

  private write(path: string, elf: Uint8Array): void {
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(tmp, elf);
      renameSync(tmp, path);
      this.trim();
    } catch {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // Nothing was written.
      }
    }
  }

  /** Removes all but the `keep` most recently used kernels. */
  private trim(): void {
    const entries = readdirSync(this.dir)
      .filter((f) => f.endsWith(SUFFIX))
      .map((f) => ({ path: join(this.dir, f), used: statSync(join(this.dir, f)).mtimeMs }))
      .sort((a, b) => b.used - a.used);
    for (const e of entries.slice(this.keep)) rmSync(e.path, { force: true });
  }
}

/** The commands' kernel cache: `kernels/` in hvkit's cache folder. */
export function userKernelCache(): KernelCache {
  return new KernelCache(join(hvkitCacheDir(), "kernels"));
}
