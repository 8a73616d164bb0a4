/**
 * ELF image loading for guest kernels, following Xen's libelf (xen/common/libelf/):
 * {@link parseElf} reads the headers, program and section headers, the Xen ELF notes and
 * the legacy `__xen_guest` string; {@link computeLoadLayout} decides where the image goes
 * (as libelf's `elf_xen_parse` + `elf_xen_addr_calc_check` do) and applies the checks
 * that turn a bad image into an {@link ImageError} saying what is wrong and where.
 *
 * Every address and size read from the file is a bigint (ELF64 kernels live at
 * addresses above 2^53). Nothing here allocates according to a size read from the file;
 * a hostile image can only make the loader throw {@link ImageError}.
 *
 * @module
 */
import type { Endianness } from "./arch-plugin.js";
import { DomainMemoryError, ImageError, ImageErrorCode } from "./errors.js";
import { XenFeature } from "./abi/numbers.js";
import { isBzImage } from "./bzimage.js";

/** `e_machine` of 32-bit x86. */
export const EM_386 = 3;
/** `e_machine` of 64-bit PowerPC. */
export const EM_PPC64 = 21;
/** `e_machine` of IA-64. */
export const EM_IA_64 = 50;
/** `e_machine` of x86-64. */
export const EM_X86_64 = 62;
/** `e_type` of an executable. */
export const ET_EXEC = 2;
/** `e_type` of a position-independent executable or shared object. */
export const ET_DYN = 3;
/** `p_type` of a loadable segment. */
export const PT_LOAD = 1;
/** `p_type` of a note segment. */
export const PT_NOTE = 4;
/** `sh_type` of a note section. */
export const SHT_NOTE = 7;
/** `sh_type` of a section with file contents. */
export const SHT_PROGBITS = 1;
/** `sh_type` of a symbol table. */
export const SHT_SYMTAB = 2;
/** `sh_type` of a string table. */
export const SHT_STRTAB = 3;
/** `sh_type` of a section with no file contents (.bss). */
export const SHT_NOBITS = 8;
/** `p_flags`: executable. */
export const PF_X = 1;
/** `p_flags`: writable. */
export const PF_W = 2;
/** `p_flags`: readable. */
export const PF_R = 4;

/**
 * Xen ELF note types (name "Xen"; xen/include/public/elfnote.h). The value of each is
 * decoded by {@link parseElf} into its natural type (see {@link XenNoteValue}).
 */
export enum XenElfNote {
  /** Legacy NAME=VALUE string. */
  INFO = 0,
  /** Virtual address of the entry point (numeric; default e_entry). */
  ENTRY = 1,
  /** Virtual address of the page the builder fills with hypercall stubs (numeric). */
  HYPERCALL_PAGE = 2,
  /** Virtual address the image's pseudo-physical 0 is mapped at (numeric; default 0). */
  VIRT_BASE = 3,
  /** Amount subtracted from p_paddr to get the pseudo-physical load address (numeric; default 0). */
  PADDR_OFFSET = 4,
  /** Hypervisor ABI the kernel was built for (string, must start with "xen-3.0"). */
  XEN_VERSION = 5,
  /** Guest OS name (string, e.g. "linux", "Mini-OS", "XTF"). */
  GUEST_OS = 6,
  /** Guest OS version (string). */
  GUEST_VERSION = 7,
  /** Loader the image expects (string; "generic"). */
  LOADER = 8,
  /** 32-bit x86: PAE support (string "yes", "no", "bimodal"). */
  PAE_MODE = 9,
  /** Features supported and, with a leading '!', required ('|'-separated string). */
  FEATURES = 10,
  /** The kernel wants its symbol table loaded (string "yes"/"no"). */
  BSD_SYMTAB = 11,
  /** Lowest address the hypervisor hole may start at (numeric). */
  HV_START_LOW = 12,
  /** mask/value pairs recognising L1 entries that carry valid MFNs (numeric pairs). */
  L1_MFN_VALID = 13,
  /** The kernel supports cooperative suspend cancellation (numeric). */
  SUSPEND_CANCEL = 14,
  /** Virtual address the initial p2m list should be mapped at (numeric). */
  INIT_P2M = 15,
  /** The kernel accepts an initrd given by pfn and not mapped (numeric). */
  MOD_START_PFN = 16,
  /** Bitmaps of supported XENFEAT_* bits, 32 per word (numeric array). */
  SUPPORTED_FEATURES = 17,
  /** 32-bit physical entry point for PVH (numeric). */
  PHYS32_ENTRY = 18,
}

/**
 * The XENFEAT names a FEATURES note (or `__xen_guest` FEATURES=) may use: exactly the
 * ones libelf's table knows (libelf-dominfo.c). Other names are ignored, and refused
 * when marked required with '!'.
 */
export const ELF_FEATURE_NAMES: readonly string[] = [
  "writable_page_tables",
  "writable_descriptor_tables",
  "auto_translated_physmap",
  "supervisor_mode_kernel",
  "pae_pgdir_above_4gb",
  "hvm_callback_vector",
  "dom0",
];

/** The features a kernel declares, as libelf reads them. */
export interface XenFeatureSet {
  /** Names the kernel supports (including every required one, as in libelf). */
  readonly supported: ReadonlySet<string>;
  /** Names the kernel cannot run without ('!' prefix). */
  readonly required: ReadonlySet<string>;
  /** XENFEAT_* bitmap (submap 0) of `supported`, plus SUPPORTED_FEATURES notes. */
  readonly supportedMask: number;
  /** XENFEAT_* bitmap of `required`. */
  readonly requiredMask: number;
  /** Names libelf does not know (ignored). */
  readonly unknown: readonly string[];
}

/** A decoded Xen note value. */
export type XenNoteValue =
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "number"; readonly value: bigint }
  | { readonly kind: "features"; readonly value: string; readonly features: XenFeatureSet }
  | { readonly kind: "bitmaps"; readonly value: readonly number[] }
  | { readonly kind: "pairs"; readonly value: readonly (readonly [bigint, bigint])[] }
  | { readonly kind: "bytes"; readonly value: Uint8Array };

/** One note named "Xen". */
export interface XenNote {
  /** Note type (a {@link XenElfNote} for known ones). */
  readonly type: number;
  /** `XEN_ELFNOTE_<NAME>`, or `XEN_ELFNOTE_<type>` for types this loader does not know. */
  readonly name: string;
  /** File offset of the note header. */
  readonly fileOffset: number;
  /** Size of the descriptor in bytes. */
  readonly descSize: number;
  /** Where it was found: in a PT_NOTE segment or an SHT_NOTE section. */
  readonly from: "segment" | "section";
  /** The decoded value. */
  readonly value: XenNoteValue;
}

/** The ELF file header fields hvkit uses. */
export interface ElfHeader {
  /** `e_type` (ET_EXEC, ET_DYN...). */
  readonly type: number;
  /** `e_machine`. */
  readonly machine: number;
  /** `EI_OSABI`. */
  readonly osabi: number;
  /** `e_version`. */
  readonly version: number;
  /** `e_entry`. */
  readonly entry: bigint;
  /** `e_phoff`. */
  readonly phoff: bigint;
  /** `e_shoff`. */
  readonly shoff: bigint;
  /** `e_flags`. */
  readonly flags: number;
  /** `e_phentsize`. */
  readonly phentsize: number;
  /** `e_phnum`. */
  readonly phnum: number;
  /** `e_shentsize`. */
  readonly shentsize: number;
  /** `e_shnum`. */
  readonly shnum: number;
  /** `e_shstrndx`. */
  readonly shstrndx: number;
}

/** One program header. */
export interface ElfProgramHeader {
  /** Index in the table. */
  readonly index: number;
  /** File offset of this header. */
  readonly headerOffset: number;
  /** `p_type`. */
  readonly type: number;
  /** `p_flags` (PF_R/W/X). */
  readonly flags: number;
  /** `p_offset`. */
  readonly offset: bigint;
  /** `p_vaddr`. */
  readonly vaddr: bigint;
  /** `p_paddr` (what Xen loads by). */
  readonly paddr: bigint;
  /** `p_filesz`. */
  readonly filesz: bigint;
  /** `p_memsz`. */
  readonly memsz: bigint;
  /** `p_align`. */
  readonly align: bigint;
}

/** One section header (when the image has a section table). */
export interface ElfSection {
  /** Index in the table. */
  readonly index: number;
  /** File offset of this header. */
  readonly headerOffset: number;
  /** Name from the section-name string table ("" if unavailable). */
  readonly name: string;
  /** `sh_type`. */
  readonly type: number;
  /** `sh_flags`. */
  readonly flags: bigint;
  /** `sh_addr`. */
  readonly addr: bigint;
  /** `sh_offset`. */
  readonly offset: bigint;
  /** `sh_size`. */
  readonly size: bigint;
}

/**
 * What a kernel tells the domain builder, merged from its Xen notes or its `__xen_guest`
 * string (libelf's `struct elf_dom_parms`). Absent fields were not given.
 */
export interface XenGuestParams {
  /** Where the facts came from. */
  readonly source: "notes" | "__xen_guest" | "none";
  /** LOADER. */
  readonly loader?: string;
  /** GUEST_OS. */
  readonly guestOs?: string;
  /** GUEST_VERSION (GUEST_VER). */
  readonly guestVersion?: string;
  /** XEN_VERSION (XEN_VER). */
  readonly xenVersion?: string;
  /** PAE_MODE (PAE). */
  readonly paeMode?: string;
  /** BSD_SYMTAB requested. */
  readonly bsdSymtab: boolean;
  /** VIRT_BASE. */
  readonly virtBase?: bigint;
  /** PADDR_OFFSET (ELF_PADDR_OFFSET). */
  readonly paddrOffset?: bigint;
  /** ENTRY (VIRT_ENTRY). */
  readonly entry?: bigint;
  /**
   * HYPERCALL_PAGE as a virtual address. The legacy string gives a page number relative
   * to VIRT_BASE; it is converted here (pfn << 12, plus VIRT_BASE when given), as libelf does.
   */
  readonly hypercallPage?: bigint;
  /** HV_START_LOW. */
  readonly hvStartLow?: bigint;
  /** INIT_P2M. */
  readonly initP2m?: bigint;
  /** MOD_START_PFN. */
  readonly modStartPfn?: bigint;
  /** SUSPEND_CANCEL. */
  readonly suspendCancel?: bigint;
  /** PHYS32_ENTRY. */
  readonly phys32Entry?: bigint;
  /** FEATURES and SUPPORTED_FEATURES combined. */
  readonly features: XenFeatureSet;
}

/** The legacy `__xen_guest` section. */
export interface XenGuestSection {
  /** File offset of the section contents. */
  readonly fileOffset: number;
  /** The string up to its NUL. */
  readonly text: string;
  /** Its KEY=VALUE items in order (a key without '=' has value ""). */
  readonly items: readonly (readonly [string, string])[];
}

/** A parsed guest kernel image. */
export interface ElfImage {
  /** The raw file bytes. */
  readonly bytes: Uint8Array;
  /** ELF class: 32 or 64. */
  readonly elfClass: 32 | 64;
  /** Byte order of the file (and of the guest). */
  readonly endianness: Endianness;
  /** File header. */
  readonly header: ElfHeader;
  /** Program headers in file order. */
  readonly programHeaders: readonly ElfProgramHeader[];
  /** Section headers in file order (empty when the image has none). */
  readonly sections: readonly ElfSection[];
  /** Xen notes, in file order, from the source libelf would use (segments, else sections). */
  readonly xenNotes: readonly XenNote[];
  /** The `__xen_guest` section, if present. */
  readonly xenGuestSection?: XenGuestSection;
  /** The merged guest parameters. */
  readonly xen: XenGuestParams;
}

/** What an arch accepts; an {@link ArchPlugin} satisfies the first four members. */
export interface ElfLoadOptions {
  /** Accepted `e_machine` values (default: any). */
  readonly elfMachines?: readonly number[];
  /** Accepted classes (default: both). */
  readonly elfClasses?: readonly (32 | 64)[];
  /** Required byte order (default: either). */
  readonly endianness?: Endianness;
  /**
   * Whether an image without Xen notes or `__xen_guest` is refused: the arch's
   * `ArchPlugin.requiresXenNotes` (libelf refuses such images for x86 only). Default false.
   */
  readonly requiresXenNotes?: boolean;
  /** Guest memory in bytes: every segment must fit below it, counted from VIRT_BASE. */
  readonly memoryBytes?: bigint | number;
  /** Page size for the hypercall page alignment check (default 4096). */
  readonly pageSize?: number;
  /** XENFEAT_* bitmap the hypervisor offers; a required feature outside it is refused. */
  readonly offeredFeatures?: number;
}

/** One loadable segment placed in the guest's address space. */
export interface LoadSegment {
  /** Its program header. */
  readonly header: ElfProgramHeader;
  /** Virtual destination: p_paddr − paddr_offset + virt_base. */
  readonly virtualAddress: bigint;
  /** Pseudo-physical destination: virtualAddress − virt_base. */
  readonly physicalAddress: bigint;
  /** The bytes to copy (p_filesz of them); the rest up to memSize is zeroed. */
  readonly data: Uint8Array;
  /** p_memsz. */
  readonly memSize: bigint;
}

/** Where an image goes (libelf's `elf_xen_addr_calc_check` results). */
export interface LoadLayout {
  /** Virtual address of pseudo-physical 0 of the image. */
  readonly virtBase: bigint;
  /** Subtracted from p_paddr to get the pseudo-physical address. */
  readonly paddrOffset: bigint;
  /** Loadable segments (PT_LOAD with any of R/W/X), in file order. */
  readonly segments: readonly LoadSegment[];
  /** Lowest virtual address of the image. */
  readonly virtKstart: bigint;
  /** End (exclusive) of the image's virtual range. */
  readonly virtKend: bigint;
  /** Entry point (ENTRY note, else e_entry). */
  readonly entry: bigint;
  /** Virtual address of the hypercall page, if the image asks for one. */
  readonly hypercallPage?: bigint;
  /** Declared features. */
  readonly features: XenFeatureSet;
  /** The symbol table loaded after the image for a BSD_SYMTAB kernel ({@link BsdSymbolTable}). */
  readonly symbolTable?: BsdSymbolTable;
}

/**
 * The symbol table a kernel with `XEN_ELFNOTE_BSD_SYMTAB` "yes" gets after its image, as
 * libelf lays it out (libelf-loader.c `elf_parse_bsdsyms`, `elf_load_bsdsyms`): at the
 * image's end rounded up to the word size, a 32-bit size, then an ELF header of the
 * image's class (program header fields zeroed, `e_shoff` 64, three section headers),
 * the null, symbol table and string table section headers (their `sh_offset`s relative
 * to that ELF header), then the symbol table and the string table, each at a word
 * boundary. Every gap is zero.
 */
export interface BsdSymbolTable {
  /** Virtual address of the size word (virt_kend of the image before the table, rounded). */
  readonly virtualAddress: bigint;
  /** Its pseudo-physical address. */
  readonly physicalAddress: bigint;
  /** The bytes written, from the size word to the end of the string table. */
  readonly data: Uint8Array;
  /**
   * The room libelf reserves (`bsd_symtab_pend - bsd_symtab_pstart`), which the image's
   * end moves to; at least `data.length`.
   */
  readonly memSize: bigint;
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;
const MASK64 = (1n << 64n) - 1n;

/** Bounds-checked reader over the file in its byte order. */
class Reader {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly le: boolean,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(offset: bigint | number, size: bigint | number, where: string, what: string): number {
    const end = BigInt(offset) + BigInt(size);
    if (BigInt(offset) < 0n || end > BigInt(this.bytes.length)) {
      throw new ImageError(
        ImageErrorCode.Truncated,
        where,
        `${what} needs bytes ${hex(BigInt(offset))}..${hex(end)} but the file is ${hex(this.bytes.length)} bytes long`,
      );
    }
    return Number(offset);
  }
  u8(o: number): number {
    return this.view.getUint8(o);
  }
  u16(o: number): number {
    return this.view.getUint16(o, this.le);
  }
  u32(o: number): number {
    return this.view.getUint32(o, this.le);
  }
  u64(o: number): bigint {
    return this.view.getBigUint64(o, this.le);
  }
  /** An unsigned integer of `size` (1, 2, 4, 8) bytes. */
  uint(o: number, size: number): bigint {
    switch (size) {
      case 1:
        return BigInt(this.u8(o));
      case 2:
        return BigInt(this.u16(o));
      case 4:
        return BigInt(this.u32(o));
      default:
        return this.u64(o);
    }
  }
  /** A NUL-terminated string inside [o, o+max), or undefined if no NUL is found there. */
  cstring(o: number, max: number): string | undefined {
    const end = this.bytes.indexOf(0, o);
    if (end < 0 || end >= o + max) return undefined;
    let s = "";
    for (let i = o; i < end; i++) s += String.fromCharCode(this.bytes[i]);
    return s;
  }
}

const NOTE_NAMES: readonly string[] = Object.keys(XenElfNote).filter((k) =>
  Number.isNaN(Number(k)),
);

/** `XEN_ELFNOTE_<NAME>` for a note type. */
export function xenNoteName(type: number): string {
  const name = (XenElfNote as unknown as Record<number, string | undefined>)[type];
  return name !== undefined && NOTE_NAMES.includes(name)
    ? `XEN_ELFNOTE_${name}`
    : `XEN_ELFNOTE_${type}`;
}

/** Parses a FEATURES string as libelf does ('|'-separated, '!' = required). */
export function parseXenFeatures(
  text: string,
  where: string,
  extraSupportedMask = 0,
): XenFeatureSet {
  const supported = new Set<string>();
  const required = new Set<string>();
  const unknown: string[] = [];
  let supportedMask = extraSupportedMask;
  let requiredMask = 0;
  for (const item of text.split("|")) {
    if (item === "") continue;
    const isRequired = item.startsWith("!");
    const name = isRequired ? item.slice(1) : item;
    if (!ELF_FEATURE_NAMES.includes(name)) {
      if (isRequired) {
        throw new ImageError(
          ImageErrorCode.UnsupportedFeature,
          where,
          `the kernel requires feature "${name}", which this hypervisor does not know`,
        );
      }
      unknown.push(name);
      continue;
    }
    const bit = (XenFeature as unknown as Record<string, number>)[name];
    supported.add(name);
    supportedMask |= 1 << bit;
    if (isRequired) {
      required.add(name);
      requiredMask |= 1 << bit;
    }
  }
  return {
    supported,
    required,
    supportedMask: supportedMask >>> 0,
    requiredMask: requiredMask >>> 0,
    unknown,
  };
}

const NO_FEATURES: XenFeatureSet = {
  supported: new Set(),
  required: new Set(),
  supportedMask: 0,
  requiredMask: 0,
  unknown: [],
};

/** libelf's ELF_MAX_STRING_LENGTH: the longest string a note may hold. */
const ELF_MAX_STRING_LENGTH = 4096;

const STRING_NOTES = new Set<number>([
  XenElfNote.INFO,
  XenElfNote.XEN_VERSION,
  XenElfNote.GUEST_OS,
  XenElfNote.GUEST_VERSION,
  XenElfNote.LOADER,
  XenElfNote.PAE_MODE,
  XenElfNote.FEATURES,
  XenElfNote.BSD_SYMTAB,
]);
const NUMBER_NOTES = new Set<number>([
  XenElfNote.ENTRY,
  XenElfNote.HYPERCALL_PAGE,
  XenElfNote.VIRT_BASE,
  XenElfNote.PADDR_OFFSET,
  XenElfNote.HV_START_LOW,
  XenElfNote.SUSPEND_CANCEL,
  XenElfNote.INIT_P2M,
  XenElfNote.MOD_START_PFN,
  XenElfNote.PHYS32_ENTRY,
]);

function decodeNote(
  r: Reader,
  type: number,
  desc: number,
  size: number,
  where: string,
): XenNoteValue {
  if (STRING_NOTES.has(type)) {
    // libelf's elf_strval: the string runs from the descriptor to the first NUL in the
    // file, not only in the descriptor (Linux writes FEATURES with .ascii, no NUL; the
    // note's zero padding ends it), at most ELF_MAX_STRING_LENGTH bytes. libelf ignores
    // a note whose string never ends; here that is an error.
    const s = r.cstring(desc, Math.min(ELF_MAX_STRING_LENGTH + 1, r.bytes.length - desc));
    if (s === undefined)
      throw new ImageError(
        ImageErrorCode.BadNote,
        where,
        `the string (descriptor of ${size} bytes) has no NUL within ${ELF_MAX_STRING_LENGTH} bytes or before the end of the file`,
      );
    return type === XenElfNote.FEATURES
      ? { kind: "features", value: s, features: parseXenFeatures(s, where) }
      : { kind: "string", value: s };
  }
  if (NUMBER_NOTES.has(type)) {
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
      throw new ImageError(
        ImageErrorCode.BadNote,
        where,
        `a numeric note must be 1, 2, 4 or 8 bytes, this one is ${size}`,
      );
    }
    return { kind: "number", value: r.uint(desc, size) };
  }
  if (type === XenElfNote.SUPPORTED_FEATURES) {
    if (size === 0 || size % 4 !== 0)
      throw new ImageError(
        ImageErrorCode.BadNote,
        where,
        `expected 32-bit bitmap words, got ${size} bytes`,
      );
    const words: number[] = [];
    for (let i = 0; i < size; i += 4) words.push(r.u32(desc + i));
    return { kind: "bitmaps", value: words };
  }
  if (type === XenElfNote.L1_MFN_VALID) {
    const unit = size % 16 === 0 ? 8 : size % 8 === 0 ? 4 : 0;
    if (unit === 0 || size === 0)
      throw new ImageError(
        ImageErrorCode.BadNote,
        where,
        `expected mask/value pairs, got ${size} bytes`,
      );
    const pairs: (readonly [bigint, bigint])[] = [];
    for (let i = 0; i < size; i += 2 * unit)
      pairs.push([r.uint(desc + i, unit), r.uint(desc + i + unit, unit)]);
    return { kind: "pairs", value: pairs };
  }
  return { kind: "bytes", value: r.bytes.slice(desc, desc + size) };
}

const align4 = (n: number): number => n + ((4 - (n % 4)) % 4);

/** Walks the notes in [start, start+size) of the file; returns the Xen ones. */
function readNotes(
  r: Reader,
  start: number,
  size: number,
  from: "segment" | "section",
  container: string,
): XenNote[] {
  const notes: XenNote[] = [];
  let o = start;
  const end = start + size;
  while (o < end) {
    const where = `note at file offset ${hex(o)} in ${container}`;
    if (end - o < 12)
      throw new ImageError(
        ImageErrorCode.Truncated,
        where,
        `${end - o} bytes left, a note header needs 12`,
      );
    const namesz = r.u32(o);
    const descsz = r.u32(o + 4);
    const type = r.u32(o + 8);
    const name = o + 12;
    const desc = name + align4(namesz);
    const next = desc + align4(descsz);
    if (namesz > end - name || desc + descsz > end) {
      throw new ImageError(
        ImageErrorCode.Truncated,
        where,
        `name (${namesz} bytes) and descriptor (${descsz} bytes) run past the end of the ${from}`,
      );
    }
    if (
      namesz === 4 &&
      r.u8(name) === 0x58 &&
      r.u8(name + 1) === 0x65 &&
      r.u8(name + 2) === 0x6e &&
      r.u8(name + 3) === 0
    ) {
      const noteName = xenNoteName(type);
      const value = decodeNote(r, type, desc, descsz, `note ${noteName} at file offset ${hex(o)}`);
      notes.push({ type, name: noteName, fileOffset: o, descSize: descsz, from, value });
    }
    o = next;
  }
  return notes;
}

function parseXenGuest(r: Reader, section: ElfSection): XenGuestSection {
  const where = `section ${section.index} "__xen_guest" (file offset ${hex(section.offset)})`;
  const o = r.need(section.offset, section.size, where, "the __xen_guest string");
  const text = r.cstring(o, Number(section.size));
  if (text === undefined)
    throw new ImageError(
      ImageErrorCode.BadNote,
      where,
      "the string has no terminating NUL inside the section",
    );
  const items: (readonly [string, string])[] = [];
  for (const item of text.split(",")) {
    if (item === "") continue;
    const eq = item.indexOf("=");
    items.push(eq < 0 ? [item, ""] : [item.slice(0, eq), item.slice(eq + 1)]);
  }
  return { fileOffset: o, text, items };
}

/** C `strtoull(s, NULL, 0)`-style parse: 0x hex, leading 0 octal, else decimal. */
function parseCNumber(s: string, where: string, key: string): bigint {
  const t = s.trim();
  const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(t);
  if (!m) throw new ImageError(ImageErrorCode.BadNote, where, `${key}="${s}" is not a number`);
  const digits = m[1];
  const v = /^0[xX]/.test(digits)
    ? BigInt(digits)
    : digits.length > 1 && digits[0] === "0"
      ? BigInt(`0o${digits.slice(1)}`)
      : BigInt(digits);
  if (v > MASK64)
    throw new ImageError(ImageErrorCode.BadNote, where, `${key}="${s}" does not fit in 64 bits`);
  return v;
}

function paramsFromNotes(notes: readonly XenNote[]): XenGuestParams {
  const seen = new Map<number, XenNote>();
  for (const n of notes) {
    const prev = seen.get(n.type);
    if (prev !== undefined && noteValueText(prev.value) !== noteValueText(n.value)) {
      throw new ImageError(
        ImageErrorCode.ContradictoryNotes,
        `note ${n.name} at file offset ${hex(n.fileOffset)}`,
        `says ${noteValueText(n.value)} but the earlier one at file offset ${hex(prev.fileOffset)} says ${noteValueText(prev.value)}`,
      );
    }
    seen.set(n.type, n);
  }
  const str = (t: XenElfNote): string | undefined => {
    const v = seen.get(t)?.value;
    return v === undefined
      ? undefined
      : v.kind === "string" || v.kind === "features"
        ? v.value
        : undefined;
  };
  const num = (t: XenElfNote): bigint | undefined => {
    const v = seen.get(t)?.value;
    return v?.kind === "number" ? v.value : undefined;
  };
  let extra = 0;
  const bitmaps = seen.get(XenElfNote.SUPPORTED_FEATURES)?.value;
  if (bitmaps?.kind === "bitmaps") extra = bitmaps.value[0] ?? 0;
  const f = seen.get(XenElfNote.FEATURES)?.value;
  const features =
    f?.kind === "features"
      ? { ...f.features, supportedMask: (f.features.supportedMask | extra) >>> 0 }
      : { ...NO_FEATURES, supportedMask: extra >>> 0 };
  return {
    source: "notes",
    loader: str(XenElfNote.LOADER),
    guestOs: str(XenElfNote.GUEST_OS),
    guestVersion: str(XenElfNote.GUEST_VERSION),
    xenVersion: str(XenElfNote.XEN_VERSION),
    paeMode: str(XenElfNote.PAE_MODE),
    bsdSymtab: str(XenElfNote.BSD_SYMTAB) === "yes",
    virtBase: num(XenElfNote.VIRT_BASE),
    paddrOffset: num(XenElfNote.PADDR_OFFSET),
    entry: num(XenElfNote.ENTRY),
    hypercallPage: num(XenElfNote.HYPERCALL_PAGE),
    hvStartLow: num(XenElfNote.HV_START_LOW),
    initP2m: num(XenElfNote.INIT_P2M),
    modStartPfn: num(XenElfNote.MOD_START_PFN),
    suspendCancel: num(XenElfNote.SUSPEND_CANCEL),
    phys32Entry: num(XenElfNote.PHYS32_ENTRY),
    features,
  };
}

function paramsFromGuestSection(g: XenGuestSection): XenGuestParams {
  const where = `__xen_guest string at file offset ${hex(g.fileOffset)}`;
  const values = new Map<string, string>();
  for (const [k, v] of g.items) {
    const prev = values.get(k);
    if (prev !== undefined && prev !== v) {
      throw new ImageError(
        ImageErrorCode.ContradictoryNotes,
        where,
        `${k} is given twice: "${prev}" and "${v}"`,
      );
    }
    values.set(k, v);
  }
  const num = (k: string): bigint | undefined =>
    values.has(k) ? parseCNumber(values.get(k)!, where, k) : undefined;
  const virtBase = num("VIRT_BASE");
  const hcPfn = num("HYPERCALL_PAGE");
  const features = values.has("FEATURES")
    ? parseXenFeatures(values.get("FEATURES")!, where)
    : NO_FEATURES;
  return {
    source: "__xen_guest",
    loader: values.get("LOADER"),
    guestOs: values.get("GUEST_OS"),
    guestVersion: values.get("GUEST_VER"),
    xenVersion: values.get("XEN_VER"),
    paeMode: values.get("PAE"),
    bsdSymtab: values.has("BSD_SYMTAB"),
    virtBase,
    paddrOffset: num("ELF_PADDR_OFFSET"),
    entry: num("VIRT_ENTRY"),
    // libelf: the legacy value is a page number, relative to VIRT_BASE when that is given.
    hypercallPage: hcPfn === undefined ? undefined : ((hcPfn << 12n) + (virtBase ?? 0n)) & MASK64,
    features,
  };
}

/** A note value as text (for messages and {@link describeImage}). */
export function noteValueText(v: XenNoteValue): string {
  switch (v.kind) {
    case "string":
    case "features":
      return JSON.stringify(v.value);
    case "number":
      return hex(v.value);
    case "bitmaps":
      return v.value.map((w) => hex(w)).join(" ");
    case "pairs":
      return v.value.map(([m, x]) => `mask ${hex(m)} value ${hex(x)}`).join(", ");
    case "bytes":
      return `${v.value.length} bytes`;
  }
}

/**
 * Parses an ELF kernel image: header, program headers, section headers, Xen notes and
 * the `__xen_guest` string. Checks the class, byte order and machine against `options`
 * and that every table and note lies inside the file. Placement checks are
 * {@link computeLoadLayout}'s.
 *
 * @throws {@link ImageError} for anything malformed or not accepted.
 */
export function parseElf(bytes: Uint8Array, options: ElfLoadOptions = {}): ElfImage {
  const fileHeader = "ELF header";
  const magic = [0x7f, 0x45, 0x4c, 0x46];
  if (magic.some((m, i) => i < bytes.length && bytes[i] !== m)) {
    throw new ImageError(
      ImageErrorCode.BadMagic,
      `${fileHeader} (file offset 0x0)`,
      isBzImage(bytes)
        ? "the file is a Linux bzImage, whose ELF kernel is compressed inside: give it to loadKernelImage first (hvkit's commands do)"
        : "the file does not start with \\x7fELF: not an ELF image",
    );
  }
  if (bytes.length < 16)
    throw new ImageError(
      ImageErrorCode.Truncated,
      fileHeader,
      `the file is ${bytes.length} bytes long, shorter than e_ident`,
    );
  const cls = bytes[4];
  if (cls !== 1 && cls !== 2)
    throw new ImageError(
      ImageErrorCode.WrongClass,
      `${fileHeader} (file offset 0x4, EI_CLASS)`,
      `unknown ELF class ${cls}`,
    );
  const elfClass = cls === 1 ? 32 : 64;
  if (options.elfClasses !== undefined && !options.elfClasses.includes(elfClass)) {
    throw new ImageError(
      ImageErrorCode.WrongClass,
      `${fileHeader} (file offset 0x4, EI_CLASS)`,
      `ELF${elfClass} images are not accepted (only ELF${options.elfClasses.join("/ELF")})`,
    );
  }
  const data = bytes[5];
  if (data !== 1 && data !== 2)
    throw new ImageError(
      ImageErrorCode.WrongEndianness,
      `${fileHeader} (file offset 0x5, EI_DATA)`,
      `unknown byte order ${data}`,
    );
  const endianness: Endianness = data === 1 ? "little" : "big";
  if (options.endianness !== undefined && options.endianness !== endianness) {
    throw new ImageError(
      ImageErrorCode.WrongEndianness,
      `${fileHeader} (file offset 0x5, EI_DATA)`,
      `the image is ${endianness}-endian, the arch is ${options.endianness}-endian`,
    );
  }
  if (bytes[6] !== 1)
    throw new ImageError(
      ImageErrorCode.BadHeader,
      `${fileHeader} (file offset 0x6, EI_VERSION)`,
      `ELF version ${bytes[6]}, expected 1`,
    );
  const r = new Reader(bytes, endianness === "little");
  const is64 = elfClass === 64;
  r.need(0, is64 ? 64 : 52, fileHeader, `the ELF${elfClass} header`);
  const word = (o: number): bigint => (is64 ? r.u64(o) : BigInt(r.u32(o)));
  const header: ElfHeader = {
    type: r.u16(16),
    machine: r.u16(18),
    osabi: bytes[7],
    version: r.u32(20),
    entry: word(24),
    phoff: word(is64 ? 32 : 28),
    shoff: word(is64 ? 40 : 32),
    flags: r.u32(is64 ? 48 : 36),
    phentsize: r.u16(is64 ? 54 : 42),
    phnum: r.u16(is64 ? 56 : 44),
    shentsize: r.u16(is64 ? 58 : 46),
    shnum: r.u16(is64 ? 60 : 48),
    shstrndx: r.u16(is64 ? 62 : 50),
  };
  if (options.elfMachines !== undefined && !options.elfMachines.includes(header.machine)) {
    throw new ImageError(
      ImageErrorCode.WrongMachine,
      `${fileHeader} (file offset 0x12, e_machine)`,
      `machine ${header.machine} is not one this arch boots (${options.elfMachines.join(", ")})`,
    );
  }
  if (header.type !== ET_EXEC && header.type !== ET_DYN) {
    throw new ImageError(
      ImageErrorCode.WrongType,
      `${fileHeader} (file offset 0x10, e_type)`,
      `e_type ${header.type} is not an executable (ET_EXEC 2 or ET_DYN 3)`,
    );
  }
  const phentsize = is64 ? 56 : 32;
  const shentsize = is64 ? 64 : 40;
  if (header.phnum === 0)
    throw new ImageError(
      ImageErrorCode.NoSegments,
      `${fileHeader} (e_phnum)`,
      "the image has no program headers",
    );
  if (header.phentsize !== phentsize) {
    throw new ImageError(
      ImageErrorCode.BadHeader,
      `${fileHeader} (e_phentsize)`,
      `program header size ${header.phentsize}, expected ${phentsize} for ELF${elfClass}`,
    );
  }
  r.need(
    header.phoff,
    header.phnum * phentsize,
    `program header table (file offset ${hex(header.phoff)})`,
    `${header.phnum} program headers`,
  );

  const programHeaders: ElfProgramHeader[] = [];
  for (let i = 0; i < header.phnum; i++) {
    const o = Number(header.phoff) + i * phentsize;
    programHeaders.push(
      is64
        ? {
            index: i,
            headerOffset: o,
            type: r.u32(o),
            flags: r.u32(o + 4),
            offset: r.u64(o + 8),
            vaddr: r.u64(o + 16),
            paddr: r.u64(o + 24),
            filesz: r.u64(o + 32),
            memsz: r.u64(o + 40),
            align: r.u64(o + 48),
          }
        : {
            index: i,
            headerOffset: o,
            type: r.u32(o),
            offset: BigInt(r.u32(o + 4)),
            vaddr: BigInt(r.u32(o + 8)),
            paddr: BigInt(r.u32(o + 12)),
            filesz: BigInt(r.u32(o + 16)),
            memsz: BigInt(r.u32(o + 20)),
            flags: r.u32(o + 24),
            align: BigInt(r.u32(o + 28)),
          },
    );
  }

  for (const p of programHeaders) {
    const where = `program header ${p.index} (file offset ${hex(p.headerOffset)})`;
    if (p.type !== PT_LOAD && p.type !== PT_NOTE) continue;
    if (p.filesz > p.memsz && p.type === PT_LOAD)
      throw new ImageError(
        ImageErrorCode.BadSegment,
        where,
        `p_filesz ${hex(p.filesz)} is larger than p_memsz ${hex(p.memsz)}`,
      );
    r.need(
      p.offset,
      p.filesz,
      where,
      `the segment's ${hex(p.filesz)} file bytes at offset ${hex(p.offset)}`,
    );
  }

  const sections: ElfSection[] = [];
  if (header.shnum > 0 && header.shoff !== 0n) {
    if (header.shentsize !== shentsize) {
      throw new ImageError(
        ImageErrorCode.BadHeader,
        `${fileHeader} (e_shentsize)`,
        `section header size ${header.shentsize}, expected ${shentsize} for ELF${elfClass}`,
      );
    }
    r.need(
      header.shoff,
      header.shnum * shentsize,
      `section header table (file offset ${hex(header.shoff)})`,
      `${header.shnum} section headers`,
    );
    const raw: (Omit<ElfSection, "name"> & { nameOffset: number })[] = [];
    for (let i = 0; i < header.shnum; i++) {
      const o = Number(header.shoff) + i * shentsize;
      raw.push(
        is64
          ? {
              index: i,
              headerOffset: o,
              nameOffset: r.u32(o),
              type: r.u32(o + 4),
              flags: r.u64(o + 8),
              addr: r.u64(o + 16),
              offset: r.u64(o + 24),
              size: r.u64(o + 32),
            }
          : {
              index: i,
              headerOffset: o,
              nameOffset: r.u32(o),
              type: r.u32(o + 4),
              flags: BigInt(r.u32(o + 8)),
              addr: BigInt(r.u32(o + 12)),
              offset: BigInt(r.u32(o + 16)),
              size: BigInt(r.u32(o + 20)),
            },
      );
    }
    const strtab =
      header.shstrndx < raw.length && raw[header.shstrndx].type === SHT_STRTAB
        ? raw[header.shstrndx]
        : undefined;
    let strBase = -1;
    if (strtab !== undefined) {
      strBase = r.need(
        strtab.offset,
        strtab.size,
        `section ${strtab.index} (section-name string table, file offset ${hex(strtab.offset)})`,
        "the section-name string table",
      );
    }
    for (const s of raw) {
      let name = "";
      if (strtab !== undefined && s.nameOffset < Number(strtab.size))
        name = r.cstring(strBase + s.nameOffset, Number(strtab.size) - s.nameOffset) ?? "";
      const { nameOffset: _n, ...rest } = s;
      sections.push({ ...rest, name });
    }
  }

  // Notes: PT_NOTE segments first (skipping p_offset 0, as libelf does for old binutils),
  // then SHT_NOTE sections if the segments held no Xen note.
  let xenNotes: XenNote[] = [];
  for (const p of programHeaders) {
    if (p.type !== PT_NOTE || p.offset === 0n) continue;
    xenNotes.push(
      ...readNotes(r, Number(p.offset), Number(p.filesz), "segment", `program header ${p.index}`),
    );
  }
  if (xenNotes.length === 0) {
    for (const s of sections) {
      if (s.index === 0 || s.type !== SHT_NOTE) continue;
      const where = `section ${s.index} "${s.name}" (file offset ${hex(s.offset)})`;
      const o = r.need(s.offset, s.size, where, "the note section");
      xenNotes = xenNotes.concat(
        readNotes(r, o, Number(s.size), "section", `section ${s.index} "${s.name}"`),
      );
    }
  }
  const guestSection = sections.find((s) => s.name === "__xen_guest" && s.type !== SHT_NOBITS);
  const xenGuestSection = guestSection !== undefined ? parseXenGuest(r, guestSection) : undefined;

  let xen: XenGuestParams;
  if (xenNotes.length > 0) {
    xen = paramsFromNotes(xenNotes);
    if (xenGuestSection !== undefined)
      checkAgreement(xen, paramsFromGuestSection(xenGuestSection), xenGuestSection);
  } else if (xenGuestSection !== undefined) {
    xen = paramsFromGuestSection(xenGuestSection);
  } else {
    xen = { source: "none", bsdSymtab: false, features: NO_FEATURES };
  }
  return {
    bytes,
    elfClass,
    endianness,
    header,
    programHeaders,
    sections,
    xenNotes,
    xenGuestSection,
    xen,
  };
}

/** An image with both notes and `__xen_guest` must not say two different things. */
function checkAgreement(notes: XenGuestParams, legacy: XenGuestParams, g: XenGuestSection): void {
  const keys: [keyof XenGuestParams, string][] = [
    ["virtBase", "VIRT_BASE"],
    ["paddrOffset", "ELF_PADDR_OFFSET / PADDR_OFFSET"],
    ["entry", "VIRT_ENTRY / ENTRY"],
    ["hypercallPage", "HYPERCALL_PAGE"],
    ["xenVersion", "XEN_VER / XEN_VERSION"],
    ["guestOs", "GUEST_OS"],
    ["loader", "LOADER"],
  ];
  for (const [k, label] of keys) {
    const a = notes[k];
    const b = legacy[k];
    if (a !== undefined && b !== undefined && a !== b) {
      throw new ImageError(
        ImageErrorCode.ContradictoryNotes,
        `__xen_guest string at file offset ${hex(g.fileOffset)}`,
        `${label} is ${typeof b === "bigint" ? hex(b) : JSON.stringify(b)} there but ${typeof a === "bigint" ? hex(a) : JSON.stringify(a)} in the Xen notes`,
      );
    }
  }
}

function noteWhere(image: ElfImage, type: XenElfNote, legacyKey: string): string {
  const n = image.xenNotes.find((x) => x.type === type);
  if (n !== undefined) return `note ${n.name} at file offset ${hex(n.fileOffset)}`;
  if (image.xen.source === "__xen_guest")
    return `__xen_guest ${legacyKey} (file offset ${hex(image.xenGuestSection!.fileOffset)})`;
  return "ELF header";
}

/** `offsetof(struct elf_sym_header, elf_header.section)`: the size word and an `elf_ehdr` union. */
const SYM_HEADER_SECTIONS = 4 + 64;
/** `sizeof(struct elf_sym_header)` (packed): that and three `elf_shdr` unions. */
const SYM_HEADER_SIZE = SYM_HEADER_SECTIONS + 3 * 64;

/**
 * The BSD symbol table of `image` placed after pseudo-physical (p_paddr space) `pend`,
 * or undefined when libelf finds none: no SHT_SYMTAB section whose `sh_link` names a
 * section (elf_init), or one whose linked section is not SHT_STRTAB.
 */
function bsdSymbolTable(
  image: ElfImage,
  pend: bigint,
  virtOffset: bigint,
  virtBase: bigint,
): BsdSymbolTable | undefined {
  const sections = image.sections;
  let symtab: ElfSection | undefined;
  for (let i = 1; i < sections.length; i++) {
    if (sections[i].type !== SHT_SYMTAB) continue;
    const link = sectionLink(image, sections[i]);
    if (link === 0 || link >= sections.length) return undefined;
    symtab = sections[i];
    break;
  }
  if (symtab === undefined) return undefined;
  const strtab = sections[sectionLink(image, symtab)];
  if (strtab.type !== SHT_STRTAB) return undefined;
  const is64 = image.elfClass === 64;
  const word = is64 ? 8n : 4n;
  const round = (v: bigint): bigint => (v + word - 1n) & ~(word - 1n);
  const ehdrSize = is64 ? 64 : 52;
  const shdrSize = is64 ? 64 : 40;
  const reserved = round(
    round(round(4n + BigInt(SYM_HEADER_SECTIONS + 3 * shdrSize)) + symtab.size) + strtab.size,
  );
  const r = new Reader(image.bytes, image.endianness === "little");
  const where = (s: ElfSection): string =>
    `section ${s.index} "${s.name}" (file offset ${hex(s.offset)}), loaded for BSD_SYMTAB`;
  const symData = r.need(symtab.offset, symtab.size, where(symtab), "the symbol table");
  const strData = r.need(strtab.offset, strtab.size, where(strtab), "the string table");
  const symtabBase = Number(round(BigInt(SYM_HEADER_SIZE)));
  const strtabBase = Number(round(BigInt(symtabBase) + symtab.size));
  const data = new Uint8Array(strtabBase + Number(strtab.size));
  const view = new DataView(data.buffer);
  const le = r.le;
  const ehdr = 4;
  const word64 = (o: number, v: number): void =>
    is64 ? view.setBigUint64(o, BigInt(v), le) : view.setUint32(o, v, le);
  view.setUint32(0, strtabBase + Number(strtab.size) - ehdr, le);
  data.set(image.bytes.subarray(0, ehdrSize), ehdr);
  view.setUint32(ehdr + 20, 1, le); // e_version = EV_CURRENT
  word64(ehdr + (is64 ? 32 : 28), 0); // e_phoff
  word64(ehdr + (is64 ? 40 : 32), 64); // e_shoff: offsetof(elf_header.section)
  const half = is64 ? 52 : 40;
  view.setUint16(ehdr + half, ehdrSize, le); // e_ehsize
  view.setUint16(ehdr + half + 2, 0, le); // e_phentsize
  view.setUint16(ehdr + half + 4, 0, le); // e_phnum
  view.setUint16(ehdr + half + 6, shdrSize, le); // e_shentsize
  view.setUint16(ehdr + half + 8, 3, le); // e_shnum
  view.setUint16(ehdr + half + 10, 0, le); // e_shstrndx
  const copyHeader = (s: ElfSection, slot: number, offset: number, link?: number): void => {
    const at = SYM_HEADER_SECTIONS + slot * shdrSize;
    const o = r.need(s.headerOffset, shdrSize, where(s), "the section header");
    data.set(image.bytes.subarray(o, o + shdrSize), at);
    word64(at + (is64 ? 24 : 16), offset - ehdr); // sh_offset
    if (link !== undefined) view.setUint32(at + (is64 ? 40 : 24), link, le); // sh_link
  };
  copyHeader(symtab, 1, symtabBase, 2);
  copyHeader(strtab, 2, strtabBase);
  data.set(image.bytes.subarray(symData, symData + Number(symtab.size)), symtabBase);
  data.set(image.bytes.subarray(strData, strData + Number(strtab.size)), strtabBase);
  const pstart = round(pend);
  const memSize = reserved > BigInt(data.length) ? reserved : BigInt(data.length);
  return {
    virtualAddress: pstart + virtOffset,
    physicalAddress: pstart + virtOffset - virtBase,
    data,
    memSize,
  };
}

/** A section header's `sh_link`. */
function sectionLink(image: ElfImage, s: ElfSection): number {
  const r = new Reader(image.bytes, image.endianness === "little");
  const at = s.headerOffset + (image.elfClass === 64 ? 40 : 24);
  return r.u32(r.need(at, 4, `section ${s.index} header`, "sh_link"));
}

/**
 * Decides where the image goes and checks it can be booted, as libelf's `elf_xen_parse`
 * (note checks) and `elf_xen_addr_calc_check` do, plus the checks the domain builder
 * makes (hypercall page inside the image, segments inside memory).
 *
 * - VIRT_BASE defaults to 0; PADDR_OFFSET defaults to 0 with notes and to VIRT_BASE with
 *   the legacy string; PADDR_OFFSET without VIRT_BASE is refused.
 * - Each loadable segment goes to `p_paddr − paddr_offset + virt_base` (so without both
 *   notes, virtual = p_paddr).
 * - The entry is ENTRY, else e_entry, and must lie inside a loadable segment.
 *
 * @throws {@link ImageError} for a bad image; {@link DomainMemoryError} when a segment
 * lies beyond `options.memoryBytes` (the image may be fine, the domain is too small).
 */
export function computeLoadLayout(image: ElfImage, options: ElfLoadOptions = {}): LoadLayout {
  const x = image.xen;
  if (x.source === "none" && options.requiresXenNotes === true) {
    throw new ImageError(
      ImageErrorCode.NoXenNotes,
      "the whole image",
      'no Xen ELF notes (PT_NOTE or SHT_NOTE named "Xen") and no __xen_guest section: not a Xen PV kernel',
    );
  }
  if (x.source !== "none") {
    const okLoader = x.loader !== undefined && x.loader.startsWith("generic");
    const okOs = x.guestOs !== undefined && x.guestOs.startsWith("linux");
    if (!okLoader && !okOs) {
      throw new ImageError(
        ImageErrorCode.BadLoader,
        noteWhere(image, XenElfNote.LOADER, "LOADER"),
        `LOADER is ${JSON.stringify(x.loader ?? "")} and GUEST_OS is ${JSON.stringify(x.guestOs ?? "")}: only the "generic" loader or Linux images can be loaded`,
      );
    }
    if (x.xenVersion === undefined || !x.xenVersion.startsWith("xen-3.0")) {
      throw new ImageError(
        ImageErrorCode.BadXenVersion,
        noteWhere(image, XenElfNote.XEN_VERSION, "XEN_VER"),
        `XEN_VERSION is ${JSON.stringify(x.xenVersion ?? "")}, expected "xen-3.0"`,
      );
    }
  }
  if (options.offeredFeatures !== undefined) {
    const missing = x.features.requiredMask & ~options.offeredFeatures;
    if (missing !== 0) {
      const names = [...x.features.required].filter(
        (n) => (missing >>> (XenFeature as unknown as Record<string, number>)[n]) & 1,
      );
      throw new ImageError(
        ImageErrorCode.UnsupportedFeature,
        noteWhere(image, XenElfNote.FEATURES, "FEATURES"),
        `the kernel requires ${names.join(", ")}, which this hypervisor does not offer`,
      );
    }
  }
  if (x.paddrOffset !== undefined && x.virtBase === undefined) {
    throw new ImageError(
      ImageErrorCode.BadAddresses,
      noteWhere(image, XenElfNote.PADDR_OFFSET, "ELF_PADDR_OFFSET"),
      "PADDR_OFFSET is set but VIRT_BASE is not",
    );
  }
  const virtBase = x.virtBase ?? 0n;
  const paddrOffset = x.paddrOffset ?? (x.source === "__xen_guest" ? virtBase : 0n);
  const addrMask = image.elfClass === 64 ? MASK64 : (1n << 32n) - 1n;

  const segments: LoadSegment[] = [];
  for (const p of image.programHeaders) {
    if (p.type !== PT_LOAD || (p.flags & (PF_R | PF_W | PF_X)) === 0) continue;
    const where = `program header ${p.index} (file offset ${hex(p.headerOffset)})`;
    if (p.paddr + p.memsz > addrMask + 1n)
      throw new ImageError(
        ImageErrorCode.BadSegment,
        where,
        `p_paddr ${hex(p.paddr)} + p_memsz ${hex(p.memsz)} wraps around the address space`,
      );
    if (p.paddr < paddrOffset) {
      throw new ImageError(
        ImageErrorCode.BadAddresses,
        where,
        `p_paddr ${hex(p.paddr)} is below PADDR_OFFSET ${hex(paddrOffset)}`,
      );
    }
    const virtualAddress = p.paddr - paddrOffset + virtBase;
    if (virtualAddress + p.memsz > addrMask + 1n) {
      throw new ImageError(
        ImageErrorCode.BadAddresses,
        where,
        `the segment would end past the top of the address space (virtual ${hex(virtualAddress)} + ${hex(p.memsz)})`,
      );
    }
    const off = Number(p.offset);
    segments.push({
      header: p,
      virtualAddress,
      physicalAddress: virtualAddress - virtBase,
      data: image.bytes.subarray(off, off + Number(p.filesz)),
      memSize: p.memsz,
    });
  }
  if (segments.length === 0)
    throw new ImageError(
      ImageErrorCode.NoSegments,
      "program header table",
      "no loadable (PT_LOAD with R, W or X) segment",
    );

  let virtKstart = segments[0].virtualAddress;
  let virtKend = segments[0].virtualAddress + segments[0].memSize;
  for (const s of segments) {
    if (s.virtualAddress < virtKstart) virtKstart = s.virtualAddress;
    if (s.virtualAddress + s.memSize > virtKend) virtKend = s.virtualAddress + s.memSize;
  }
  let symbolTable: BsdSymbolTable | undefined;
  if (x.bsdSymtab) {
    // elf_xen_addr_calc_check: after the segments' p_paddr end, virt_kend moves past it.
    let pend = 0n;
    for (const s of segments)
      if (s.header.paddr + s.memSize > pend) pend = s.header.paddr + s.memSize;
    symbolTable = bsdSymbolTable(image, pend, virtBase - paddrOffset, virtBase);
    if (symbolTable !== undefined) virtKend = symbolTable.virtualAddress + symbolTable.memSize;
  }
  if (virtBase > virtKstart) {
    throw new ImageError(
      ImageErrorCode.BadAddresses,
      noteWhere(image, XenElfNote.VIRT_BASE, "VIRT_BASE"),
      `VIRT_BASE ${hex(virtBase)} is above the image start ${hex(virtKstart)}`,
    );
  }

  const sorted = [...segments]
    .filter((s) => s.memSize > 0n)
    .sort((a, b) =>
      a.virtualAddress < b.virtualAddress ? -1 : a.virtualAddress > b.virtualAddress ? 1 : 0,
    );
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a.virtualAddress + a.memSize > b.virtualAddress) {
      const [first, second] = a.header.index < b.header.index ? [a, b] : [b, a];
      throw new ImageError(
        ImageErrorCode.OverlappingSegments,
        `program header ${second.header.index} (file offset ${hex(second.header.headerOffset)})`,
        `segment ${hex(second.virtualAddress)}..${hex(second.virtualAddress + second.memSize)} overlaps program header ${first.header.index} at ${hex(first.virtualAddress)}..${hex(first.virtualAddress + first.memSize)}`,
      );
    }
  }

  if (options.memoryBytes !== undefined) {
    const mem = BigInt(options.memoryBytes);
    for (const s of segments) {
      if (s.physicalAddress + s.memSize > mem) {
        throw new DomainMemoryError(
          `program header ${s.header.index} (file offset ${hex(s.header.headerOffset)})`,
          `the segment ends at pseudo-physical ${hex(s.physicalAddress + s.memSize)}, beyond the domain's ${hex(mem)} bytes of memory`,
        );
      }
    }
    const t = symbolTable;
    if (t !== undefined && t.physicalAddress + t.memSize > mem) {
      throw new DomainMemoryError(
        "BSD_SYMTAB symbol table",
        `it ends at pseudo-physical ${hex(t.physicalAddress + t.memSize)}, beyond the domain's ${hex(mem)} bytes of memory`,
      );
    }
  }

  const entry = x.entry ?? image.header.entry;
  if (!segments.some((s) => entry >= s.virtualAddress && entry < s.virtualAddress + s.memSize)) {
    throw new ImageError(
      ImageErrorCode.EntryOutsideSegments,
      x.entry !== undefined
        ? noteWhere(image, XenElfNote.ENTRY, "VIRT_ENTRY")
        : "ELF header (e_entry)",
      `entry point ${hex(entry)} is not inside any loadable segment (image spans ${hex(virtKstart)}..${hex(virtKend)})`,
    );
  }

  const page = BigInt(options.pageSize ?? 4096);
  const hc = x.hypercallPage;
  if (hc !== undefined) {
    const where = noteWhere(image, XenElfNote.HYPERCALL_PAGE, "HYPERCALL_PAGE");
    if (hc % page !== 0n)
      throw new ImageError(
        ImageErrorCode.BadHypercallPage,
        where,
        `hypercall page ${hex(hc)} is not aligned to the ${hex(page)}-byte page size`,
      );
    if (hc < virtKstart || hc + page > virtKend) {
      throw new ImageError(
        ImageErrorCode.BadHypercallPage,
        where,
        `hypercall page ${hex(hc)} is outside the image ${hex(virtKstart)}..${hex(virtKend)}`,
      );
    }
  }
  if (x.initP2m !== undefined && x.initP2m >= virtKstart && x.initP2m < virtKend) {
    throw new ImageError(
      ImageErrorCode.BadAddresses,
      noteWhere(image, XenElfNote.INIT_P2M, "INIT_P2M"),
      `INIT_P2M ${hex(x.initP2m)} lies inside the image`,
    );
  }
  return {
    virtBase,
    paddrOffset,
    segments,
    virtKstart,
    virtKend,
    entry,
    hypercallPage: hc,
    features: x.features,
    ...(symbolTable !== undefined ? { symbolTable } : {}),
  };
}

const SEGMENT_TYPES: Record<number, string> = {
  0: "NULL",
  1: "LOAD",
  2: "DYNAMIC",
  3: "INTERP",
  4: "NOTE",
  6: "PHDR",
  7: "TLS",
  0x6474e550: "GNU_EH_FRAME",
  0x6474e551: "GNU_STACK",
  0x6474e552: "GNU_RELRO",
};
const MACHINES: Record<number, string> = {
  [EM_386]: "x86 (EM_386)",
  [EM_PPC64]: "PowerPC64 (EM_PPC64)",
  [EM_IA_64]: "IA-64 (EM_IA_64)",
  [EM_X86_64]: "x86-64 (EM_X86_64)",
};

/**
 * The text `hvkit inspect` prints: the file header, the segments, the Xen notes decoded
 * (or the `__xen_guest` items) and, when `layout` is given, where it would load.
 */
export function describeImage(image: ElfImage, layout?: LoadLayout): string {
  const h = image.header;
  const w = image.elfClass === 64 ? 16 : 8;
  const a = (v: bigint): string => `0x${v.toString(16).padStart(w, "0")}`;
  const flags = (f: number): string =>
    `${f & PF_R ? "R" : "-"}${f & PF_W ? "W" : "-"}${f & PF_X ? "X" : "-"}`;
  const lines = [
    `ELF${image.elfClass} ${image.endianness}-endian, ${h.type === ET_EXEC ? "executable" : h.type === ET_DYN ? "shared object" : `type ${h.type}`}, machine ${MACHINES[h.machine] ?? h.machine}`,
    `entry ${a(h.entry)}`,
    "",
    `Program headers (${image.programHeaders.length}):`,
    `  #  type      offset     ${"vaddr".padEnd(w + 2)} ${"paddr".padEnd(w + 2)} filesz     memsz      flags`,
  ];
  for (const p of image.programHeaders) {
    lines.push(
      `  ${String(p.index).padEnd(2)} ${(SEGMENT_TYPES[p.type] ?? hex(p.type)).padEnd(9)} ${hex(p.offset).padEnd(10)} ${a(p.vaddr)} ${a(p.paddr)} ${hex(p.filesz).padEnd(10)} ${hex(p.memsz).padEnd(10)} ${flags(p.flags)}`,
    );
  }
  lines.push("");
  if (image.xenNotes.length > 0) {
    lines.push(
      `Xen notes (${image.xenNotes.length}, from ${image.xenNotes[0].from === "segment" ? "PT_NOTE segments" : "SHT_NOTE sections"}):`,
    );
    for (const n of image.xenNotes) lines.push(`  ${n.name.padEnd(31)} ${noteValueText(n.value)}`);
  } else if (image.xenGuestSection !== undefined) {
    lines.push(`__xen_guest: ${JSON.stringify(image.xenGuestSection.text)}`);
    for (const [k, v] of image.xenGuestSection.items) lines.push(`  ${k.padEnd(31)} ${v}`);
  } else {
    lines.push("No Xen notes and no __xen_guest section.");
  }
  const f = image.xen.features;
  if (f.supported.size > 0 || f.unknown.length > 0 || f.supportedMask !== 0) {
    lines.push(
      `Features: required {${[...f.required].join(", ")}}, supported {${[...f.supported].join(", ")}}${f.unknown.length ? `, unknown {${f.unknown.join(", ")}}` : ""}`,
    );
  }
  if (layout !== undefined) {
    lines.push("", "Load layout:");
    lines.push(`  virt_base      ${a(layout.virtBase)}`);
    lines.push(`  paddr_offset   ${a(layout.paddrOffset)}`);
    lines.push(`  image          ${a(layout.virtKstart)}..${a(layout.virtKend)}`);
    lines.push(`  entry          ${a(layout.entry)}`);
    lines.push(
      `  hypercall page ${layout.hypercallPage === undefined ? "none" : a(layout.hypercallPage)}`,
    );
    for (const s of layout.segments)
      lines.push(
        `  segment ${s.header.index} -> ${a(s.virtualAddress)} (${hex(s.data.length)} bytes from file, ${hex(s.memSize)} in memory)`,
      );
    const t = layout.symbolTable;
    if (t !== undefined)
      lines.push(
        `  symbol table -> ${a(t.virtualAddress)} (BSD_SYMTAB: ${hex(t.data.length)} bytes, ${hex(t.memSize)} reserved)`,
      );
  }
  return lines.join("\n") + "\n";
}
