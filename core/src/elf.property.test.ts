/**
 * Property: whatever bytes the loader is fed, parseElf + computeLoadLayout (+ describeImage)
 * either succeed or throw ImageError (or DomainMemoryError when the options give too little
 * memory). Valid images are generated with the ELF builder and
 * then damaged: bit flips, byte overwrites, numeric rewrites of header / program-header /
 * note fields (including extreme values), and truncation at any length.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildElf, type ElfSpec, type XenNoteSpec } from "./elf-builder.js";
import {
  computeLoadLayout,
  describeImage,
  EM_X86_64,
  parseElf,
  XenElfNote,
  type ElfLoadOptions,
} from "./elf.js";
import { DomainMemoryError, ImageError } from "./errors.js";

const noteArb: fc.Arbitrary<XenNoteSpec> = fc.oneof(
  fc.record({
    type: fc.constantFrom(1, 2, 3, 4, 12, 14, 15, 16, 18),
    value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    size: fc.constantFrom(1, 2, 4, 8) as fc.Arbitrary<1 | 2 | 4 | 8>,
  }),
  fc.record({
    type: fc.constantFrom(0, 5, 6, 7, 8, 9, 10, 11),
    value: fc.constantFrom(
      "xen-3.0",
      "generic",
      "linux",
      "!writable_page_tables|dom0",
      "yes",
      "",
      "!nope",
    ),
  }),
  fc.record({ type: fc.integer({ min: 0, max: 40 }), value: fc.uint8Array({ maxLength: 24 }) }),
);

const specArb: fc.Arbitrary<ElfSpec> = fc.record({
  elfClass: fc.constantFrom(32, 64) as fc.Arbitrary<32 | 64>,
  endianness: fc.constantFrom("little", "big") as fc.Arbitrary<"little" | "big">,
  machine: fc.constantFrom(EM_X86_64, 3, 21, 50),
  entry: fc.constantFrom(0x100000, 0x100010, 0),
  segments: fc.array(
    fc.record({
      vaddr: fc.constantFrom(0x100000, 0x101000, 0x200000, 0xfffff000),
      data: fc.uint8Array({ maxLength: 64 }),
      memSize: fc.constantFrom(0x40, 0x1000, 0x100000),
    }),
    { minLength: 0, maxLength: 3 },
  ),
  xenNotes: fc.oneof(
    fc.constant<XenNoteSpec[]>([
      { type: XenElfNote.LOADER, value: "generic" },
      { type: XenElfNote.XEN_VERSION, value: "xen-3.0" },
      { type: XenElfNote.HYPERCALL_PAGE, value: 0x100000 },
    ]),
    fc.array(noteArb, { maxLength: 6 }),
  ),
  xenGuest: fc.option(
    fc.constantFrom(
      "GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0x0,HYPERCALL_PAGE=0x100",
      "LOADER=generic,,=,VIRT_BASE=0xzz",
      "FEATURES=!dom0|x",
    ),
    { nil: undefined },
  ),
  sectionHeaders: fc.boolean(),
});

/** Images that load: XTF-like kernels in either class and byte order, 1-3 disjoint segments. */
const validSpecArb: fc.Arbitrary<ElfSpec> = fc
  .record({
    elfClass: fc.constantFrom(32, 64) as fc.Arbitrary<32 | 64>,
    endianness: fc.constantFrom("little", "big") as fc.Arbitrary<"little" | "big">,
    count: fc.integer({ min: 1, max: 3 }),
    data: fc.uint8Array({ minLength: 1, maxLength: 48 }),
    sections: fc.boolean(),
    legacy: fc.boolean(),
  })
  .map(({ elfClass, endianness, count, data, sections, legacy }) => ({
    elfClass,
    endianness,
    machine: EM_X86_64,
    entry: 0x100000,
    segments: Array.from({ length: count }, (_, i) => ({
      vaddr: 0x100000 + i * 0x2000,
      data,
      memSize: 0x2000,
      align: 16,
    })),
    ...(legacy
      ? {
          xenGuest:
            "GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0x0,ELF_PADDR_OFFSET=0x0,HYPERCALL_PAGE=0x101",
        }
      : {
          xenNotes: [
            { type: XenElfNote.LOADER, value: "generic" },
            { type: XenElfNote.XEN_VERSION, value: "xen-3.0" },
            { type: XenElfNote.ENTRY, value: 0x100000 },
            { type: XenElfNote.HYPERCALL_PAGE, value: 0x101000 },
            { type: XenElfNote.FEATURES, value: "!writable_page_tables" },
          ],
        }),
    sectionHeaders: sections,
  }));

const optionsArb: fc.Arbitrary<ElfLoadOptions> = fc.record(
  {
    elfMachines: fc.constant([EM_X86_64, 3, 21, 50]),
    memoryBytes: fc.constantFrom(0, 0x101000, 16 << 20),
    requiresXenNotes: fc.boolean(),
    offeredFeatures: fc.constantFrom(0, 1, 0xffffffff),
  },
  { requiredKeys: [] },
);

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "bytes"; at: number; values: Uint8Array }
  | { kind: "field"; at: number; size: 1 | 2 | 4 | 8; value: bigint }
  | { kind: "truncate"; at: number };

const EXTREMES = [
  0n,
  1n,
  0x7fn,
  0xffn,
  0x7fffn,
  0xffffn,
  0x7fffffffn,
  0xffffffffn,
  0x100000n,
  0x7fffffffffffffffn,
  (1n << 64n) - 1n,
];

/** Offsets worth hitting: header fields, program-header fields, note headers. */
function interestingOffsets(bytes: Uint8Array): number[] {
  const out = [4, 5, 6, 16, 18, 24, 28, 32, 40, 44, 48, 52, 54, 56, 58, 60, 62];
  try {
    const img = parseElf(bytes);
    for (const p of img.programHeaders)
      for (let k = 0; k < (img.elfClass === 64 ? 56 : 32); k += 4) out.push(p.headerOffset + k);
    for (const n of img.xenNotes)
      out.push(n.fileOffset, n.fileOffset + 4, n.fileOffset + 8, n.fileOffset + 16);
  } catch {
    // generated spec was already invalid: header offsets only
  }
  return out;
}

const mutationArb = (len: number, offsets: number[]): fc.Arbitrary<Mutation> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("flip" as const),
        at: fc.nat({ max: len - 1 }),
        bit: fc.nat({ max: 7 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("bytes" as const),
        at: fc.nat({ max: len - 1 }),
        values: fc.uint8Array({ minLength: 1, maxLength: 8 }),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("field" as const),
        at: fc.constantFrom(...offsets),
        size: fc.constantFrom(1, 2, 4, 8) as fc.Arbitrary<1 | 2 | 4 | 8>,
        value: fc.oneof(
          fc.constantFrom(...EXTREMES),
          fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        ),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.nat({ max: len }) }),
    },
  );

function mutate(bytes: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b = bytes.slice();
  for (const m of ms) {
    switch (m.kind) {
      case "flip":
        if (m.at < b.length) b[m.at] ^= 1 << m.bit;
        break;
      case "bytes":
        for (let i = 0; i < m.values.length && m.at + i < b.length; i++) b[m.at + i] = m.values[i];
        break;
      case "field":
        for (let i = 0; i < m.size && m.at + i < b.length; i++)
          b[m.at + i] = Number((m.value >> BigInt(8 * i)) & 0xffn);
        break;
      case "truncate":
        b = b.subarray(0, Math.min(m.at, b.length));
        break;
    }
  }
  return b;
}

function loadOrImageError(bytes: Uint8Array, options: ElfLoadOptions): void {
  try {
    const image = parseElf(bytes, options);
    const layout = computeLoadLayout(image, options);
    describeImage(image, layout);
  } catch (e) {
    if (!(e instanceof ImageError) && !(e instanceof DomainMemoryError)) throw e;
    expect(e.where.length).toBeGreaterThan(0);
  }
}

const caseArb = fc
  .oneof({ weight: 3, arbitrary: validSpecArb }, { weight: 1, arbitrary: specArb })
  .chain((spec) => {
    const bytes = buildElf(spec);
    return fc.tuple(
      fc.constant(bytes),
      fc.array(mutationArb(bytes.length, interestingOffsets(bytes)), {
        minLength: 1,
        maxLength: 3,
      }),
      optionsArb,
    );
  });

describe("loader robustness (fast-check)", () => {
  it("valid generated images load", () => {
    fc.assert(
      fc.property(validSpecArb, (spec) => {
        const image = parseElf(buildElf(spec), { elfMachines: [EM_X86_64] });
        expect(computeLoadLayout(image, { memoryBytes: 16 << 20 }).hypercallPage).toBe(0x101000n);
      }),
      { numRuns: 200 },
    );
  });

  it("generated images (unmutated) load or fail with ImageError", () => {
    fc.assert(
      fc.property(specArb, optionsArb, (spec, options) =>
        loadOrImageError(buildElf(spec), options),
      ),
      { numRuns: 500 },
    );
  });

  it("mutated images load or fail with ImageError, nothing else", () => {
    fc.assert(
      fc.property(caseArb, ([bytes, mutations, options]) =>
        loadOrImageError(mutate(bytes, mutations), options),
      ),
      { numRuns: 3000 },
    );
  });

  it("random byte strings starting with the ELF magic fail with ImageError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (tail) =>
        loadOrImageError(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, ...tail]), {}),
      ),
      { numRuns: 1000 },
    );
  });
});
