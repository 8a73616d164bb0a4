import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KernelCache } from "./kernel-cache.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "hvkit-kernels-"));
  dirs.push(d);
  return d;
}

/** An "unpacker" that counts its calls and returns an ELF-looking copy of `size` bytes. */
function unpacker(size: number) {
  const calls: Uint8Array[] = [];
  const unpack = (file: Uint8Array): Promise<Uint8Array> => {
    calls.push(file);
    const elf = new Uint8Array(size);
    elf.set([0x7f, 0x45, 0x4c, 0x46]);
    elf.set(file.subarray(0, Math.min(file.length, size - 4)), 4);
    return Promise.resolve(elf);
  };
  return { calls, unpack };
}

const image = (tag: number): Uint8Array => Uint8Array.from({ length: 64 }, (_, i) => i ^ tag);

describe("KernelCache", () => {
  it("unpacks a file once: a later load of the same bytes reads the kept copy", async () => {
    const cache = new KernelCache(tempDir(), 4, 16);
    const { calls, unpack } = unpacker(100);
    const a = await cache.loadWith(image(1), unpack);
    const b = await cache.loadWith(image(1), unpack);
    expect(calls.length).toBe(1);
    expect(b).toEqual(a);
    // Other bytes are another kernel.
    const c = await cache.loadWith(image(2), unpack);
    expect(calls.length).toBe(2);
    expect(c).not.toEqual(a);
  });

  it("does not keep kernels smaller than its minimum", async () => {
    const dir = tempDir();
    const cache = new KernelCache(dir, 4, 1000);
    const { calls, unpack } = unpacker(100);
    await cache.loadWith(image(1), unpack);
    await cache.loadWith(image(1), unpack);
    expect(calls.length).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("keeps the most recently used kernels only", async () => {
    const dir = tempDir();
    const cache = new KernelCache(dir, 2, 16);
    const { calls, unpack } = unpacker(100);
    await cache.loadWith(image(1), unpack);
    await new Promise((r) => setTimeout(r, 20));
    await cache.loadWith(image(2), unpack);
    await new Promise((r) => setTimeout(r, 20));
    await cache.loadWith(image(1), unpack); // used again: now newer than 2
    await new Promise((r) => setTimeout(r, 20));
    await cache.loadWith(image(3), unpack); // 2 goes
    expect(calls.length).toBe(3);
    expect(readdirSync(dir).length).toBe(2);
    await cache.loadWith(image(1), unpack);
    await cache.loadWith(image(3), unpack);
    expect(calls.length).toBe(3);
    await cache.loadWith(image(2), unpack);
    expect(calls.length).toBe(4);
  });

  it("passes over a kept file that is not an ELF, and replaces it", async () => {
    const dir = tempDir();
    const cache = new KernelCache(dir, 4, 16);
    const { calls, unpack } = unpacker(100);
    const first = await cache.loadWith(image(1), unpack);
    const [name] = readdirSync(dir);
    writeFileSync(join(dir, name), "garbage");
    expect(await cache.loadWith(image(1), unpack)).toEqual(first);
    expect(await cache.loadWith(image(1), unpack)).toEqual(first);
    expect(calls.length).toBe(2);
  });

  it("runs without a cache when its folder cannot be made", async () => {
    const parent = tempDir();
    writeFileSync(join(parent, "file"), "");
    const cache = new KernelCache(join(parent, "file", "kernels"), 4, 16);
    const { calls, unpack } = unpacker(100);
    const a = await cache.loadWith(image(1), unpack);
    expect(await cache.loadWith(image(1), unpack)).toEqual(a);
    expect(calls.length).toBe(2);
  });

  it("returns a file that is not a bzImage as it is, without a cache folder", async () => {
    const dir = join(tempDir(), "kernels");
    const elf = Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
    expect(await new KernelCache(dir, 4, 0).load(elf)).toBe(elf);
    expect(existsSync(dir)).toBe(false);
  });
});
