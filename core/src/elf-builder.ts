/**
 * A small ELF writer for making guest kernels in tests and in the conformance suite:
 * ELF32 or ELF64, either byte order, loadable segments, Xen notes in a PT_NOTE segment
 * (mirrored by a `.note.Xen` SHT_NOTE section) and an optional legacy `__xen_guest`
 * section.
 *
 * File layout: ELF header, program headers, the note data, each segment's bytes (at an
 * offset congruent to its address modulo its alignment, as a linker would place it), then
 * the section-name string table and the section headers.
 *
 * @module
 */
import type { Endianness } from "./arch-plugin.js";
import {
  ET_EXEC,
  PF_R,
  PF_W,
  PF_X,
  PT_LOAD,
  PT_NOTE,
  SHT_NOTE,
  SHT_PROGBITS,
  SHT_STRTAB,
  SHT_SYMTAB,
  XenElfNote,
} from "./elf.js";

/** One loadable segment to write. */
export interface ElfSegmentSpec {
  /** `p_vaddr`. */
  readonly vaddr: bigint | number;
  /** `p_paddr` (default: vaddr). */
  readonly paddr?: bigint | number;
  /** The file bytes (`p_filesz` = their length). */
  readonly data: Uint8Array;
  /** `p_memsz` (default: data length; more means zero-filled .bss). */
  readonly memSize?: bigint | number;
  /** `p_flags` (default R|W|X). */
  readonly flags?: number;
  /** `p_align` (default 16; a power of two). */
  readonly align?: number;
}

/** One Xen note to write. */
export interface XenNoteSpec {
  /** The note type ({@link XenElfNote}). */
  readonly type: number;
  /**
   * The descriptor: a string (written NUL-terminated), a number (written as `size`
   * bytes), or raw bytes.
   */
  readonly value: string | bigint | number | Uint8Array;
  /** Byte width of a numeric value (default: 8 for ELF64, 4 for ELF32). */
  readonly size?: 1 | 2 | 4 | 8;
}

/** Everything {@link buildElf} writes. */
export interface ElfSpec {
  /** ELF class (default 64). */
  readonly elfClass?: 32 | 64;
  /** Byte order (default little). */
  readonly endianness?: Endianness;
  /** `e_machine`. */
  readonly machine: number;
  /** `e_type` (default ET_EXEC). */
  readonly type?: number;
  /** `e_entry`. */
  readonly entry: bigint | number;
  /** Loadable segments, in program-header order after any note segment. */
  readonly segments: readonly ElfSegmentSpec[];
  /** Xen notes (name "Xen"), all in one PT_NOTE segment placed first. */
  readonly xenNotes?: readonly XenNoteSpec[];
  /** Text of a `__xen_guest` section (written NUL-terminated). */
  readonly xenGuest?: string;
  /** Write section headers (default: true; always when `xenGuest` is given, which is a section). */
  readonly sectionHeaders?: boolean;
  /**
   * Symbols for a `.symtab` section (after a null symbol; global, absolute) with its
   * `.strtab`, the two sections last (default none; sections are then written).
   */
  readonly symbols?: readonly { readonly name: string; readonly value: bigint | number }[];
}

/** The usual Xen notes of a 64-bit x86 PV test kernel (as XTF writes them). */
export function standardXenNotes(
  entry: bigint | number,
  hypercallPage?: bigint | number,
): XenNoteSpec[] {
  const notes: XenNoteSpec[] = [
    { type: XenElfNote.GUEST_OS, value: "hvkit-test" },
    { type: XenElfNote.XEN_VERSION, value: "xen-3.0" },
    { type: XenElfNote.LOADER, value: "generic" },
    { type: XenElfNote.ENTRY, value: entry },
    { type: XenElfNote.FEATURES, value: "!writable_page_tables" },
  ];
  if (hypercallPage !== undefined)
    notes.push({ type: XenElfNote.HYPERCALL_PAGE, value: hypercallPage });
  return notes;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Writes an ELF file from `spec`. */
export function buildElf(spec: ElfSpec): Uint8Array {
  const is64 = (spec.elfClass ?? 64) === 64;
  const le = (spec.endianness ?? "little") === "little";
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const shentsize = is64 ? 64 : 40;
  const enc = (s: string): Uint8Array => Uint8Array.from([...s].map((c) => c.charCodeAt(0) & 0xff));

  // Note segment contents.
  const noteChunks: Uint8Array[] = [];
  for (const n of spec.xenNotes ?? []) {
    let desc: Uint8Array;
    if (typeof n.value === "string") desc = Uint8Array.from([...enc(n.value), 0]);
    else if (n.value instanceof Uint8Array) desc = n.value;
    else {
      const size = n.size ?? (is64 ? 8 : 4);
      desc = new Uint8Array(size);
      const v = BigInt.asUintN(size * 8, BigInt(n.value));
      for (let i = 0; i < size; i++)
        desc[le ? i : size - 1 - i] = Number((v >> BigInt(8 * i)) & 0xffn);
    }
    const chunk = new Uint8Array(12 + 4 + align(desc.length, 4));
    const dv = new DataView(chunk.buffer);
    dv.setUint32(0, 4, le);
    dv.setUint32(4, desc.length, le);
    dv.setUint32(8, n.type, le);
    chunk.set([0x58, 0x65, 0x6e, 0], 12);
    chunk.set(desc, 16);
    noteChunks.push(chunk);
  }
  const notesSize = noteChunks.reduce((s, c) => s + c.length, 0);
  const hasNotes = noteChunks.length > 0;
  const phnum = spec.segments.length + (hasNotes ? 1 : 0);

  let off = ehsize + phnum * phentsize;
  const notesOffset = align(off, 4);
  off = notesOffset + notesSize;
  const segOffsets: number[] = [];
  for (const s of spec.segments) {
    const a = s.align ?? 16;
    const want = Number(BigInt(s.vaddr) % BigInt(a));
    let o = align(off, a) + want;
    if (o < off) o += a;
    segOffsets.push(o);
    off = o + s.data.length;
  }
  const guestOffset = off;
  const guestBytes =
    spec.xenGuest !== undefined ? Uint8Array.from([...enc(spec.xenGuest), 0]) : undefined;
  if (guestBytes) off += guestBytes.length;

  // .symtab (Elf64_Sym 24 bytes, Elf32_Sym 16) and its .strtab.
  const symbols = spec.symbols ?? [];
  const symentsize = is64 ? 24 : 16;
  let symNames = "\0";
  const symNameOffsets = symbols.map((sym) => {
    const at = symNames.length;
    symNames += sym.name + "\0";
    return at;
  });
  const symtabOffset = align(off, 8);
  const symtabSize = symbols.length > 0 ? (symbols.length + 1) * symentsize : 0;
  const symStrOffset = symtabOffset + symtabSize;
  if (symbols.length > 0) off = symStrOffset + symNames.length;

  const withSections =
    (spec.sectionHeaders ?? true) || guestBytes !== undefined || symbols.length > 0;
  const names = [
    "",
    ".shstrtab",
    ...(hasNotes ? [".note.Xen"] : []),
    ...(guestBytes ? ["__xen_guest"] : []),
    ...(symbols.length > 0 ? [".symtab", ".strtab"] : []),
  ];
  const nameOffsets: number[] = [];
  let strtab = "";
  for (const n of names) {
    nameOffsets.push(strtab.length);
    strtab += n + "\0";
  }
  const strtabOffset = off;
  if (withSections) off += strtab.length;
  const shoff = align(off, 8);
  const shnum = withSections ? names.length : 0;
  const total = withSections ? shoff + shnum * shentsize : off;

  const bytes = new Uint8Array(total);
  const v = new DataView(bytes.buffer);
  const word = (o: number, x: bigint | number): void => {
    if (is64) v.setBigUint64(o, BigInt.asUintN(64, BigInt(x)), le);
    else v.setUint32(o, Number(BigInt.asUintN(32, BigInt(x))), le);
  };
  bytes.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1, 0]);
  v.setUint16(16, spec.type ?? ET_EXEC, le);
  v.setUint16(18, spec.machine, le);
  v.setUint32(20, 1, le);
  word(24, spec.entry);
  word(is64 ? 32 : 28, ehsize);
  word(is64 ? 40 : 32, withSections ? shoff : 0);
  v.setUint16(is64 ? 52 : 40, ehsize, le);
  v.setUint16(is64 ? 54 : 42, phentsize, le);
  v.setUint16(is64 ? 56 : 44, phnum, le);
  v.setUint16(is64 ? 58 : 46, shentsize, le);
  v.setUint16(is64 ? 60 : 48, shnum, le);
  v.setUint16(is64 ? 62 : 50, withSections ? 1 : 0, le);

  const phdr = (
    i: number,
    type: number,
    flags: number,
    offset: number,
    vaddr: bigint | number,
    paddr: bigint | number,
    filesz: number,
    memsz: bigint | number,
    al: number,
  ): void => {
    const o = ehsize + i * phentsize;
    v.setUint32(o, type, le);
    if (is64) {
      v.setUint32(o + 4, flags, le);
      word(o + 8, offset);
      word(o + 16, vaddr);
      word(o + 24, paddr);
      word(o + 32, filesz);
      word(o + 40, memsz);
      word(o + 48, al);
    } else {
      word(o + 4, offset);
      word(o + 8, vaddr);
      word(o + 12, paddr);
      word(o + 16, filesz);
      word(o + 20, memsz);
      v.setUint32(o + 24, flags, le);
      word(o + 28, al);
    }
  };
  let i = 0;
  if (hasNotes) phdr(i++, PT_NOTE, PF_R, notesOffset, 0, 0, notesSize, notesSize, 4);
  let o = notesOffset;
  for (const c of noteChunks) {
    bytes.set(c, o);
    o += c.length;
  }
  spec.segments.forEach((s, k) => {
    phdr(
      i++,
      PT_LOAD,
      s.flags ?? PF_R | PF_W | PF_X,
      segOffsets[k],
      s.vaddr,
      s.paddr ?? s.vaddr,
      s.data.length,
      s.memSize ?? s.data.length,
      s.align ?? 16,
    );
    bytes.set(s.data, segOffsets[k]);
  });
  if (guestBytes) bytes.set(guestBytes, guestOffset);

  if (withSections) {
    bytes.set(enc(strtab), strtabOffset);
    const shdr = (idx: number, name: number, type: number, offset: number, size: number): void => {
      const b = shoff + idx * shentsize;
      v.setUint32(b, name, le);
      v.setUint32(b + 4, type, le);
      if (is64) {
        word(b + 24, offset);
        word(b + 32, size);
        word(b + 48, 1);
      } else {
        word(b + 16, offset);
        word(b + 20, size);
        word(b + 32, 1);
      }
    };
    let k = 1;
    shdr(k, nameOffsets[k], SHT_STRTAB, strtabOffset, strtab.length);
    k++;
    if (hasNotes) {
      shdr(k, nameOffsets[k], SHT_NOTE, notesOffset, notesSize);
      k++;
    }
    if (guestBytes) {
      shdr(k, nameOffsets[k], SHT_PROGBITS, guestOffset, guestBytes.length);
      k++;
    }
    if (symbols.length > 0) {
      shdr(k, nameOffsets[k], SHT_SYMTAB, symtabOffset, symtabSize);
      const b = shoff + k * shentsize;
      v.setUint32(b + (is64 ? 40 : 24), k + 1, le); // sh_link: .strtab
      v.setUint32(b + (is64 ? 44 : 28), 1, le); // sh_info: first non-local symbol
      word(b + (is64 ? 56 : 36), symentsize);
      shdr(k + 1, nameOffsets[k + 1], SHT_STRTAB, symStrOffset, symNames.length);
      bytes.set(enc(symNames), symStrOffset);
      symbols.forEach((sym, i) => {
        const e = symtabOffset + (i + 1) * symentsize;
        v.setUint32(e, symNameOffsets[i], le);
        const info = 0x10; // STB_GLOBAL, STT_NOTYPE
        if (is64) {
          bytes[e + 4] = info;
          v.setUint16(e + 6, 0xfff1, le); // SHN_ABS
          v.setBigUint64(e + 8, BigInt.asUintN(64, BigInt(sym.value)), le);
        } else {
          v.setUint32(e + 4, Number(BigInt.asUintN(32, BigInt(sym.value))), le);
          bytes[e + 12] = info;
          v.setUint16(e + 14, 0xfff1, le);
        }
      });
    }
  }
  return bytes;
}
