import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildElf, createStubArchPlugin, standardXenNotes, type ArchPlugin } from "@hvkit/core";
import { buildBzImage, toyArchIdentity } from "@hvkit/core/testing";
import { gzipSync } from "node:zlib";
import { runCli } from "../program.js";
import { createRootContainer } from "../composition.js";
import type { CliIo } from "../cli-io.js";

const tmp = mkdtempSync(join(tmpdir(), "hvkit-inspect-"));

async function inspect(bytes: Uint8Array, arches: ArchPlugin[] = []) {
  const path = join(tmp, `image-${Math.floor(bytes.length)}-${bytes[bytes.length - 1]}.elf`);
  writeFileSync(path, bytes);
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: { write: (c) => out.push(String(c)) },
    stderr: { write: (c) => err.push(String(c)) },
  };
  const status = await runCli(["inspect", path], io, createRootContainer(arches));
  return { status, stdout: out.join(""), stderr: err.join(""), path };
}

describe("hvkit inspect", () => {
  it("prints the header, segments and decoded Xen notes", async () => {
    const r = await inspect(
      buildElf({
        machine: 62,
        entry: 0xffffffff80001000n,
        segments: [{ vaddr: 0xffffffff80000000n, data: new Uint8Array(0x2000), memSize: 0x3000 }],
        xenNotes: standardXenNotes(0xffffffff80001000n, 0xffffffff80002000n),
      }),
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`${r.path}:\n`);
    expect(r.stdout).toMatch(/ELF64 little-endian, executable/);
    expect(r.stdout).toMatch(/entry 0xffffffff80001000/);
    expect(r.stdout).toMatch(/Program headers \(2\)/);
    expect(r.stdout).toMatch(/hvkit-test/);
    expect(r.stdout).toMatch(/xen-3\.0/);
  });

  it("describes a bzImage's setup header and payload, then the ELF kernel inside it", async () => {
    const elf = buildElf({
      machine: 62,
      entry: 0x400000,
      segments: [{ vaddr: 0x400000, data: new Uint8Array(0x2000) }],
      xenNotes: standardXenNotes(0x400000),
    });
    const payload = gzipSync(elf);
    const r = await inspect(buildBzImage(payload, { setupSects: 2, gap: 0x10 }));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      `${r.path}:\nLinux bzImage, boot protocol 2.15, 2 setup sectors\n` +
        `payload gzip at file offset 0x610, 0x${payload.length.toString(16)} bytes, ` +
        `decompressed to 0x${elf.length.toString(16)} bytes of ELF:\n\nELF64 little-endian`,
    );
    expect(r.stdout).toMatch(/XEN_ELFNOTE_GUEST_OS +"hvkit-test"/);
    const old = await inspect(buildBzImage(payload, { version: 0x0206 }));
    expect(old.status).toBe(2);
    expect(old.stderr).toMatch(/^hvkit: bad image .*: setup header version .*too old/);
  });

  it("describes an image the loader refuses to place, then exits 2 saying why", async () => {
    const r = await inspect(
      buildElf({
        machine: 62,
        entry: 0x400000,
        segments: [
          { vaddr: 0x400000, data: new Uint8Array(0x2000) },
          { vaddr: 0x401000, data: new Uint8Array(0x1000) },
        ],
        xenNotes: standardXenNotes(0x400000),
      }),
    );
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/Program headers \(3\)/);
    expect(r.stderr).toMatch(/^hvkit: bad image .*: program header \d.*: .*overlap/);
  });

  it("requires Xen notes only when the arch booting the image's machine does", async () => {
    const bare = buildElf({
      machine: 0x4242,
      entry: 0x400000,
      segments: [{ vaddr: 0x400000, data: new Uint8Array(0x1000) }],
    });
    expect((await inspect(bare)).status).toBe(0);
    const strict = createStubArchPlugin(
      toyArchIdentity("strict", { elfMachines: [0x4242], requiresXenNotes: true }),
    );
    const r = await inspect(bare, [strict]);
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/Program headers/);
    expect(r.stderr).toMatch(/no Xen ELF notes/);
    const lax = createStubArchPlugin(toyArchIdentity("lax", { elfMachines: [0x4242] }));
    expect((await inspect(bare, [lax])).status).toBe(0);
  });

  it("exits 2 for a file that is not ELF", async () => {
    const r = await inspect(new TextEncoder().encode("#!/bin/sh\necho hi\n"));
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^hvkit: bad image .*: .+: .+\n$/);
  });
});
