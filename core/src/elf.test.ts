import { describe, expect, it } from "vitest";
import { buildElf, standardXenNotes, type ElfSpec } from "./elf-builder.js";
import {
  computeLoadLayout,
  describeImage,
  EM_386,
  EM_PPC64,
  EM_X86_64,
  parseElf,
  XenElfNote,
  type ElfLoadOptions,
} from "./elf.js";
import { DomainMemoryError, ImageError, ImageErrorCode } from "./errors.js";

const X86_64: ElfLoadOptions = {
  elfMachines: [EM_X86_64],
  elfClasses: [64],
  endianness: "little",
  requiresXenNotes: true,
  memoryBytes: 16 << 20,
};
const code = (n: number, fill = 0x90): Uint8Array => new Uint8Array(n).fill(fill);

/** A valid x86_64 PV kernel at 1 MiB with a hypercall page, like XTF's. */
function xtfLike(overrides: Partial<ElfSpec> = {}): ElfSpec {
  return {
    machine: EM_X86_64,
    entry: 0x100000,
    segments: [{ vaddr: 0x100000, data: code(0x3000), memSize: 0x5000, align: 4096 }],
    xenNotes: standardXenNotes(0x100000, 0x101000),
    ...overrides,
  };
}

function load(spec: ElfSpec, opts: ElfLoadOptions = X86_64) {
  const image = parseElf(buildElf(spec), opts);
  return { image, layout: computeLoadLayout(image, opts) };
}

function expectImageError(fn: () => unknown, code: ImageErrorCode, where?: RegExp): ImageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ImageError);
    const err = e as ImageError;
    expect(err.code).toBe(code);
    if (where) expect(err.where).toMatch(where);
    expect(err.message).toContain(err.where);
    return err;
  }
  throw new Error(`expected ImageError ${code}, nothing was thrown`);
}

/** Overwrites bytes of a built image. */
function patch(bytes: Uint8Array, offset: number, values: number[]): Uint8Array {
  const b = bytes.slice();
  b.set(values, offset);
  return b;
}

describe("parseElf + computeLoadLayout on valid images", () => {
  it("lays out an XTF-like kernel: virtual = p_paddr, entry and hypercall page from notes", () => {
    const { image, layout } = load(xtfLike());
    expect(image.elfClass).toBe(64);
    expect(image.xen.source).toBe("notes");
    expect(image.xenNotes.map((n) => n.name)).toContain("XEN_ELFNOTE_HYPERCALL_PAGE");
    expect(layout.virtBase).toBe(0n);
    expect(layout.entry).toBe(0x100000n);
    expect(layout.hypercallPage).toBe(0x101000n);
    expect(layout.virtKstart).toBe(0x100000n);
    expect(layout.virtKend).toBe(0x105000n);
    expect(layout.segments[0].data.length).toBe(0x3000);
    expect(layout.features.required.has("writable_page_tables")).toBe(true);
    expect(layout.features.requiredMask).toBe(1);
  });

  it("relocates by VIRT_BASE and PADDR_OFFSET as Linux images use them", () => {
    const { layout } = load(
      {
        machine: EM_X86_64,
        entry: 0xffffffff81000000n,
        segments: [
          { vaddr: 0xffffffff81000000n, paddr: 0x1000000, data: code(0x2000), align: 4096 },
        ],
        xenNotes: [
          { type: XenElfNote.GUEST_OS, value: "linux" },
          { type: XenElfNote.XEN_VERSION, value: "xen-3.0" },
          { type: XenElfNote.VIRT_BASE, value: 0xffffffff80000000n },
          { type: XenElfNote.PADDR_OFFSET, value: 0 },
          { type: XenElfNote.ENTRY, value: 0xffffffff81000010n },
          { type: XenElfNote.HYPERCALL_PAGE, value: 0xffffffff81001000n },
        ],
      },
      { ...X86_64, memoryBytes: 64 << 20 },
    );
    expect(layout.segments[0].virtualAddress).toBe(0xffffffff81000000n);
    expect(layout.segments[0].physicalAddress).toBe(0x1000000n);
    expect(layout.entry).toBe(0xffffffff81000010n);
  });

  it("reads 4-byte numeric notes and ELF32 big-endian images", () => {
    const { image, layout } = load(
      {
        elfClass: 32,
        endianness: "big",
        machine: EM_PPC64,
        entry: 0x4000,
        segments: [{ vaddr: 0x4000, data: code(0x100) }],
        xenNotes: [
          { type: XenElfNote.LOADER, value: "generic" },
          { type: XenElfNote.XEN_VERSION, value: "xen-3.0" },
          { type: XenElfNote.ENTRY, value: 0x4010, size: 4 },
        ],
      },
      { elfClasses: [32], endianness: "big" },
    );
    expect(image.endianness).toBe("big");
    expect(image.xenNotes.find((n) => n.type === XenElfNote.ENTRY)?.descSize).toBe(4);
    expect(layout.entry).toBe(0x4010n);
  });

  it("falls back to SHT_NOTE sections when no PT_NOTE segment holds Xen notes", () => {
    const bytes = buildElf(xtfLike());
    // Turn the PT_NOTE program header (index 0) into PT_NULL.
    const image = parseElf(patch(bytes, 64, [0, 0, 0, 0]), X86_64);
    expect(image.xenNotes[0].from).toBe("section");
    expect(computeLoadLayout(image, X86_64).hypercallPage).toBe(0x101000n);
  });

  it("reads the legacy __xen_guest string, HYPERCALL_PAGE being a pfn relative to VIRT_BASE", () => {
    const { image, layout } = load(
      {
        elfClass: 32,
        machine: EM_386,
        entry: 0xc0100000,
        segments: [{ vaddr: 0xc0100000, paddr: 0xc0100000, data: code(0x4000), align: 4096 }],
        xenGuest:
          "GUEST_OS=linux,GUEST_VER=2.6,XEN_VER=xen-3.0,VIRT_BASE=0xC0000000,HYPERCALL_PAGE=0x102,LOADER=generic,FEATURES=writable_page_tables|!pae_pgdir_above_4gb,PAE=yes",
      },
      { elfClasses: [32], memoryBytes: 16 << 20 },
    );
    expect(image.xen.source).toBe("__xen_guest");
    // legacy ELF_PADDR_OFFSET defaults to VIRT_BASE, so virtual = p_paddr here
    expect(layout.paddrOffset).toBe(0xc0000000n);
    expect(layout.segments[0].virtualAddress).toBe(0xc0100000n);
    expect(layout.hypercallPage).toBe(0xc0102000n);
    expect([...layout.features.required]).toEqual(["pae_pgdir_above_4gb"]);
    expect(layout.features.supported.has("writable_page_tables")).toBe(true);
  });

  it("accepts an image without Xen notes when the arch does not require them", () => {
    const { layout } = load(
      { machine: 50, entry: 0x1000, segments: [{ vaddr: 0x1000, data: code(16) }] },
      {},
    );
    expect(layout.entry).toBe(0x1000n);
  });

  it("describes header, segments, notes and layout", () => {
    const { image, layout } = load(xtfLike());
    const text = describeImage(image, layout);
    expect(text).toContain("ELF64 little-endian, executable, machine x86-64");
    expect(text).toMatch(/LOAD\s+0x1000\s+0x0000000000100000/);
    expect(text).toMatch(/XEN_ELFNOTE_HYPERCALL_PAGE\s+0x101000/);
    expect(text).toMatch(/XEN_ELFNOTE_XEN_VERSION\s+"xen-3.0"/);
    expect(text).toContain("hypercall page 0x0000000000101000");
  });

  it("decodes SUPPORTED_FEATURES bitmaps and L1_MFN_VALID pairs", () => {
    const pairs = new Uint8Array(16);
    new DataView(pairs.buffer).setBigUint64(0, 0xffn, true);
    new DataView(pairs.buffer).setBigUint64(8, 0x1n, true);
    const { image, layout } = load(
      xtfLike({
        xenNotes: [
          ...standardXenNotes(0x100000),
          { type: XenElfNote.SUPPORTED_FEATURES, value: Uint8Array.from([0x20, 0, 0, 0]) },
          { type: XenElfNote.L1_MFN_VALID, value: pairs },
        ],
      }),
    );
    expect(layout.features.supportedMask).toBe(0x21);
    const l1 = image.xenNotes.find((n) => n.type === XenElfNote.L1_MFN_VALID)!.value;
    expect(l1).toEqual({ kind: "pairs", value: [[0xffn, 1n]] });
  });
});

describe("BSD_SYMTAB: the symbol table after the image (libelf elf_parse_bsdsyms/elf_load_bsdsyms)", () => {
  const symbols = [
    { name: "_start", value: 0x100000 },
    { name: "hypercall_page", value: 0x101000 },
  ];
  function symtabImage(elfClass: 32 | 64, bsd: boolean, endianness: "little" | "big" = "little") {
    const spec: ElfSpec = {
      ...xtfLike(),
      elfClass,
      endianness,
      machine: elfClass === 64 ? EM_X86_64 : EM_386,
      // p_paddr end 0x105003: rounded to the word size for the table.
      segments: [{ vaddr: 0x100000, data: code(0x3000), memSize: 0x5003, align: 4096 }],
      xenNotes: [
        ...standardXenNotes(0x100000, 0x101000),
        ...(bsd ? [{ type: XenElfNote.BSD_SYMTAB, value: "yes" }] : []),
      ],
      symbols,
    };
    const bytes = buildElf(spec);
    const image = parseElf(bytes);
    const opts = {
      ...X86_64,
      elfMachines: undefined,
      elfClasses: undefined,
      endianness: undefined,
    };
    return { bytes, image, layout: computeLoadLayout(image, opts) };
  }

  it.each([32, 64] as const)(
    "ELF%i: size word, ELF header, three section headers, symtab, strtab",
    (cls) => {
      const { bytes, image, layout } = symtabImage(cls, true);
      const t = layout.symbolTable!;
      const word = cls === 64 ? 8 : 4;
      const ehdrSize = cls === 64 ? 64 : 52;
      const shdrSize = cls === 64 ? 64 : 40;
      expect(t.virtualAddress).toBe(cls === 64 ? 0x105008n : 0x105004n);
      expect(t.physicalAddress).toBe(t.virtualAddress);
      const d = new DataView(t.data.buffer);
      const sym = image.sections.find((x) => x.name === ".symtab")!;
      const str = image.sections.find((x) => x.name === ".strtab")!;
      const symtabBase = Math.ceil(260 / word) * word;
      const strtabBase = Math.ceil((symtabBase + Number(sym.size)) / word) * word;
      expect(t.data.length).toBe(strtabBase + Number(str.size));
      expect(d.getUint32(0, true)).toBe(t.data.length - 4); // the size, from the ELF header
      // The ELF header: the image's, program headers gone, three sections at offset 64.
      const e = t.data.subarray(4, 4 + 64);
      const ev = new DataView(e.buffer, e.byteOffset);
      expect([...e.subarray(0, 16)]).toEqual([...bytes.subarray(0, 16)]);
      const half = cls === 64 ? 52 : 40;
      expect(ev.getUint16(half, true)).toBe(ehdrSize); // e_ehsize
      expect(ev.getUint16(half + 4, true)).toBe(0); // e_phnum
      expect(ev.getUint16(half + 6, true)).toBe(shdrSize); // e_shentsize
      expect(ev.getUint16(half + 8, true)).toBe(3); // e_shnum
      expect(ev.getUint16(half + 10, true)).toBe(0); // e_shstrndx
      const shoff = cls === 64 ? Number(ev.getBigUint64(40, true)) : ev.getUint32(32, true);
      expect(shoff).toBe(64);
      // XSA-194: nothing but zeros between a 32-bit ELF header and the section headers.
      expect([...e.subarray(ehdrSize, 64)].every((b) => b === 0)).toBe(true);
      const sh = (i: number) => new DataView(t.data.buffer, 4 + 64 + i * shdrSize);
      expect([...t.data.subarray(68, 68 + shdrSize)].every((b) => b === 0)).toBe(true); // null
      const off = (i: number) =>
        cls === 64 ? Number(sh(i).getBigUint64(24, true)) : sh(i).getUint32(16, true);
      const link = (i: number) => sh(i).getUint32(cls === 64 ? 40 : 24, true);
      expect(sh(1).getUint32(4, true)).toBe(2); // SHT_SYMTAB
      expect(off(1)).toBe(symtabBase - 4);
      expect(link(1)).toBe(2);
      expect(sh(2).getUint32(4, true)).toBe(3); // SHT_STRTAB
      expect(off(2)).toBe(strtabBase - 4);
      expect(t.data.subarray(symtabBase, symtabBase + Number(sym.size))).toEqual(
        bytes.subarray(Number(sym.offset), Number(sym.offset + sym.size)),
      );
      expect(new TextDecoder().decode(t.data.subarray(strtabBase))).toBe(
        "\0_start\0hypercall_page\0",
      );
      // The image ends after the room libelf reserves for it.
      expect(layout.virtKend).toBe(t.virtualAddress + t.memSize);
      expect(t.memSize).toBeGreaterThanOrEqual(BigInt(t.data.length));
      expect(describeImage(image, layout)).toContain(`symbol table -> `);
    },
  );

  it("big-endian images get their fields in their own byte order", () => {
    const { layout } = symtabImage(64, true, "big");
    const d = new DataView(layout.symbolTable!.data.buffer);
    expect(d.getUint16(4 + 60, false)).toBe(3); // e_shnum
  });

  it("no table without the note, or without a symbol table to load", () => {
    expect(symtabImage(64, false).layout.symbolTable).toBeUndefined();
    const noSyms = parseElf(
      buildElf(
        xtfLike({
          xenNotes: [
            ...standardXenNotes(0x100000, 0x101000),
            { type: XenElfNote.BSD_SYMTAB, value: "yes" },
          ],
        }),
      ),
    );
    expect(noSyms.xen.bsdSymtab).toBe(true);
    const layout = computeLoadLayout(noSyms, X86_64);
    expect(layout.symbolTable).toBeUndefined();
    expect(layout.virtKend).toBe(0x105000n);
  });
});

describe("every ImageError code", () => {
  const good = buildElf(xtfLike());
  const img = parseElf(good, X86_64);

  it("truncated: file shorter than its header, phdr table or segment", () => {
    expectImageError(() => parseElf(good.subarray(0, 10)), ImageErrorCode.Truncated, /ELF header/);
    expectImageError(() => parseElf(good.subarray(0, 40)), ImageErrorCode.Truncated, /ELF header/);
    expectImageError(
      () => parseElf(good.subarray(0, 100)),
      ImageErrorCode.Truncated,
      /program header table/,
    );
    expectImageError(
      () => parseElf(good.subarray(0, 0x1800)),
      ImageErrorCode.Truncated,
      /program header 1 \(file offset 0x78\)/,
    );
  });
  it("bad-magic", () => {
    expectImageError(() => parseElf(patch(good, 1, [0x45 ^ 1])), ImageErrorCode.BadMagic);
    expectImageError(() => parseElf(new TextEncoder().encode("garbage")), ImageErrorCode.BadMagic);
  });
  it("wrong-class: unknown class, and a class the arch refuses", () => {
    expectImageError(() => parseElf(patch(good, 4, [3])), ImageErrorCode.WrongClass, /EI_CLASS/);
    expectImageError(() => parseElf(good, { elfClasses: [32] }), ImageErrorCode.WrongClass);
  });
  it("wrong-endianness", () => {
    expectImageError(
      () => parseElf(good, { endianness: "big" }),
      ImageErrorCode.WrongEndianness,
      /EI_DATA/,
    );
    expectImageError(() => parseElf(patch(good, 5, [7])), ImageErrorCode.WrongEndianness);
  });
  it("wrong-machine", () => {
    expectImageError(
      () => parseElf(good, { elfMachines: [EM_386] }),
      ImageErrorCode.WrongMachine,
      /e_machine/,
    );
  });
  it("wrong-type (a relocatable object)", () => {
    expectImageError(() => parseElf(patch(good, 16, [1, 0])), ImageErrorCode.WrongType, /e_type/);
  });
  it("bad-header: EI_VERSION and e_phentsize", () => {
    expectImageError(() => parseElf(patch(good, 6, [0])), ImageErrorCode.BadHeader, /EI_VERSION/);
    expectImageError(
      () => parseElf(patch(good, 54, [32, 0])),
      ImageErrorCode.BadHeader,
      /e_phentsize/,
    );
  });
  it("bad-segment: p_filesz larger than p_memsz", () => {
    const o = img.programHeaders[1].headerOffset;
    expectImageError(
      () => parseElf(patch(good, o + 40, [0x10, 0, 0, 0, 0, 0, 0, 0])),
      ImageErrorCode.BadSegment,
      /program header 1/,
    );
  });
  it("no-segments: no program headers, or none loadable", () => {
    expectImageError(() => parseElf(patch(good, 56, [0, 0])), ImageErrorCode.NoSegments);
    const o = img.programHeaders[1].headerOffset;
    expectImageError(
      () => computeLoadLayout(parseElf(patch(good, o + 4, [0, 0, 0, 0])), X86_64),
      ImageErrorCode.NoSegments,
    );
  });
  it("no-xen-notes: neither notes nor __xen_guest, for an arch that requires them", () => {
    const bare: ElfSpec = {
      machine: EM_X86_64,
      entry: 0x100000,
      segments: [{ vaddr: 0x100000, data: code(16) }],
    };
    expectImageError(() => load(bare), ImageErrorCode.NoXenNotes);
    expect(load(bare, { ...X86_64, requiresXenNotes: false }).layout.entry).toBe(0x100000n);
  });
  it("bad-note: a string no NUL ends, a numeric note of odd size, a bad legacy number", () => {
    const bare = buildElf(xtfLike({ sectionHeaders: false }));
    const str = parseElf(bare).xenNotes.find((n) => n.type === XenElfNote.GUEST_OS)!;
    // From GUEST_OS's descriptor to the end of the file, not one NUL.
    const start = str.fileOffset + 16;
    const err = expectImageError(
      () => parseElf(patch(bare, start, new Array<number>(bare.length - start).fill(0x78))),
      ImageErrorCode.BadNote,
      /note XEN_ELFNOTE_GUEST_OS at file offset/,
    );
    expect(err.message).toMatch(/no NUL within 4096 bytes or before the end of the file/);
    expectImageError(
      () =>
        load(
          xtfLike({
            xenNotes: [
              ...standardXenNotes(0x100000),
              { type: XenElfNote.VIRT_BASE, value: Uint8Array.from([1, 2, 3]) },
            ],
          }),
        ),
      ImageErrorCode.BadNote,
      /XEN_ELFNOTE_VIRT_BASE/,
    );
    expectImageError(
      () =>
        load({
          machine: EM_X86_64,
          entry: 0x100000,
          segments: [{ vaddr: 0x100000, data: code(16) }],
          xenGuest: "GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=zz",
        }),
      ImageErrorCode.BadNote,
      /__xen_guest/,
    );
  });
  it("string notes read as libelf's elf_strval: on past a descriptor without NUL to the first NUL", () => {
    const enc = (t: string): Uint8Array => new TextEncoder().encode(t);
    const img = parseElf(
      buildElf(
        xtfLike({
          xenNotes: [
            ...standardXenNotes(0x100000, 0x101000).filter((n) => n.type !== XenElfNote.FEATURES),
            // Linux: .ascii "!writable_page_tables", 21 bytes, the padding's zero ends it.
            { type: XenElfNote.FEATURES, value: enc("!writable_page_tables") },
            // 4 bytes, no padding: the string runs into the next note's namesz (4, 0...).
            { type: XenElfNote.GUEST_VERSION, value: enc("6.1.") },
            { type: XenElfNote.PAE_MODE, value: "yes" },
          ],
        }),
      ),
      X86_64,
    );
    expect(img.xen.features.required).toEqual(new Set(["writable_page_tables"]));
    expect(img.xen.guestVersion).toBe("6.1.\x04");
    expect(img.xen.paeMode).toBe("yes");
    expect(computeLoadLayout(img, X86_64).entry).toBe(0x100000n);
  });
  it("contradictory-notes: one note twice with two values, or notes against __xen_guest", () => {
    expectImageError(
      () =>
        load(
          xtfLike({
            xenNotes: [...standardXenNotes(0x100000), { type: XenElfNote.ENTRY, value: 0x100010 }],
          }),
        ),
      ImageErrorCode.ContradictoryNotes,
      /XEN_ELFNOTE_ENTRY/,
    );
    expectImageError(
      () => load(xtfLike({ xenGuest: "XEN_VER=xen-3.0,HYPERCALL_PAGE=0x102" })),
      ImageErrorCode.ContradictoryNotes,
      /__xen_guest/,
    );
    // the same fact twice is fine
    expect(() =>
      load(
        xtfLike({
          xenNotes: [...standardXenNotes(0x100000), { type: XenElfNote.ENTRY, value: 0x100000 }],
        }),
      ),
    ).not.toThrow();
  });
  it("bad-xen-version", () => {
    expectImageError(
      () =>
        load(
          xtfLike({
            xenNotes: [
              { type: XenElfNote.LOADER, value: "generic" },
              { type: XenElfNote.XEN_VERSION, value: "xen-2.0" },
            ],
          }),
        ),
      ImageErrorCode.BadXenVersion,
      /XEN_ELFNOTE_XEN_VERSION/,
    );
  });
  it("bad-loader: neither LOADER=generic nor GUEST_OS=linux", () => {
    expectImageError(
      () =>
        load(
          xtfLike({
            xenNotes: [
              { type: XenElfNote.GUEST_OS, value: "Plan9" },
              { type: XenElfNote.XEN_VERSION, value: "xen-3.0" },
            ],
          }),
        ),
      ImageErrorCode.BadLoader,
    );
  });
  it("unsupported-feature: unknown required name, or one the hypervisor does not offer", () => {
    expectImageError(
      () =>
        load(
          xtfLike({
            xenNotes: [
              ...standardXenNotes(0x100000).slice(0, 4),
              { type: XenElfNote.FEATURES, value: "!time_travel" },
            ],
          }),
        ),
      ImageErrorCode.UnsupportedFeature,
      /XEN_ELFNOTE_FEATURES/,
    );
    expectImageError(
      () => load(xtfLike(), { ...X86_64, offeredFeatures: 0 }),
      ImageErrorCode.UnsupportedFeature,
    );
    expect(() => load(xtfLike(), { ...X86_64, offeredFeatures: 1 })).not.toThrow();
  });
  it("overlapping-segments", () => {
    expectImageError(
      () =>
        load(
          xtfLike({
            segments: [
              { vaddr: 0x100000, data: code(0x2000) },
              { vaddr: 0x101000, data: code(0x1000) },
            ],
          }),
        ),
      ImageErrorCode.OverlappingSegments,
      /program header 2/,
    );
  });
  it("entry-outside-segments: from e_entry and from the ENTRY note", () => {
    expectImageError(
      () =>
        load(
          xtfLike({
            entry: 0x200000,
            xenNotes: standardXenNotes(0x100000).filter((n) => n.type !== XenElfNote.ENTRY),
          }),
        ),
      ImageErrorCode.EntryOutsideSegments,
      /e_entry/,
    );
    expectImageError(
      () => load(xtfLike({ xenNotes: standardXenNotes(0x105000) })),
      ImageErrorCode.EntryOutsideSegments,
      /XEN_ELFNOTE_ENTRY at file offset/,
    );
  });
  it("a segment beyond the domain's memory is a DomainMemoryError, not a bad image", () => {
    const small = () => load(xtfLike(), { ...X86_64, memoryBytes: 0x104000 });
    expect(small).toThrow(DomainMemoryError);
    expect(small).toThrow(/program header 1 .*beyond the domain's 0x104000 bytes of memory/);
    expect(() => load(xtfLike(), { ...X86_64, memoryBytes: 0x105000 })).not.toThrow();
  });
  it("bad-addresses: PADDR_OFFSET without VIRT_BASE, p_paddr below PADDR_OFFSET, INIT_P2M inside the image", () => {
    expectImageError(
      () =>
        load(
          xtfLike({
            xenNotes: [...standardXenNotes(0x100000), { type: XenElfNote.PADDR_OFFSET, value: 0 }],
          }),
        ),
      ImageErrorCode.BadAddresses,
      /PADDR_OFFSET/,
    );
    expectImageError(
      () =>
        load(
          xtfLike({
            xenNotes: [
              ...standardXenNotes(0x100000),
              { type: XenElfNote.VIRT_BASE, value: 0x200000 },
              { type: XenElfNote.PADDR_OFFSET, value: 0x200000 },
            ],
          }),
        ),
      ImageErrorCode.BadAddresses,
    );
    expectImageError(
      () =>
        load(
          xtfLike({
            xenNotes: [
              ...standardXenNotes(0x100000),
              { type: XenElfNote.INIT_P2M, value: 0x102000 },
            ],
          }),
        ),
      ImageErrorCode.BadAddresses,
      /XEN_ELFNOTE_INIT_P2M/,
    );
  });
  it("bad-hypercall-page: unaligned, or outside the image", () => {
    expectImageError(
      () => load(xtfLike({ xenNotes: standardXenNotes(0x100000, 0x101800) })),
      ImageErrorCode.BadHypercallPage,
      /XEN_ELFNOTE_HYPERCALL_PAGE/,
    );
    expectImageError(
      () => load(xtfLike({ xenNotes: standardXenNotes(0x100000, 0x200000) })),
      ImageErrorCode.BadHypercallPage,
    );
    expectImageError(
      () => load(xtfLike({ xenNotes: standardXenNotes(0x100000, 0x105000) })),
      ImageErrorCode.BadHypercallPage,
    );
  });
  it("covers every code", () => {
    // Keep this list in step with the tests above: a new code needs a test.
    expect(Object.values(ImageErrorCode).sort()).toEqual(
      [
        "truncated",
        "bad-magic",
        "wrong-class",
        "wrong-endianness",
        "wrong-machine",
        "wrong-type",
        "bad-header",
        "bad-segment",
        "no-segments",
        "no-xen-notes",
        "bad-note",
        "contradictory-notes",
        "bad-xen-version",
        "bad-loader",
        "unsupported-feature",
        "overlapping-segments",
        "entry-outside-segments",
        "bad-addresses",
        "bad-bzimage", // bzimage.test.ts
        "bad-hypercall-page",
      ].sort(),
    );
  });
});
