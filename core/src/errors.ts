/**
 * The typed errors hvkit raises for bad input and for programming mistakes.
 *
 * Every error hvkit throws on purpose extends {@link HvkitError}, so the CLI can tell an
 * expected failure ("this image has no Xen notes", exit 2) from a bug (anything else).
 * Guests never see these: a hypercall turns a guest's mistake into `-errno` instead.
 *
 * @module
 */

/** Base class of every error hvkit throws on purpose. */
export class HvkitError extends Error {
  /** @param message - what went wrong and where. */
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Why a kernel image was refused. Each code names one rule of the loader; the message
 * and {@link ImageError.where} say which bytes broke it.
 */
export enum ImageErrorCode {
  /** The file ends before a header, table or note it declares. */
  Truncated = "truncated",
  /** The first four bytes are not `\x7fELF`. */
  BadMagic = "bad-magic",
  /** `EI_CLASS` is not ELF32/ELF64, or is a class the arch does not boot. */
  WrongClass = "wrong-class",
  /** `EI_DATA` is not a known byte order, or not the arch's. */
  WrongEndianness = "wrong-endianness",
  /** `e_machine` is not one the arch boots. */
  WrongMachine = "wrong-machine",
  /** `e_type` is not ET_EXEC (Xen boots only executables). */
  WrongType = "wrong-type",
  /** A header field is inconsistent (entry sizes, version, counts). */
  BadHeader = "bad-header",
  /** A program header is malformed (filesz > memsz, address wrap-around). */
  BadSegment = "bad-segment",
  /** The image has no loadable segment. */
  NoSegments = "no-segments",
  /** The arch requires Xen notes (or `__xen_guest`) and the image has neither. */
  NoXenNotes = "no-xen-notes",
  /** A note or the `__xen_guest` string cannot be decoded. */
  BadNote = "bad-note",
  /** Two notes (or a note and `__xen_guest`) say different things. */
  ContradictoryNotes = "contradictory-notes",
  /** XEN_VERSION is not one this hypervisor speaks ("xen-3.0"). */
  BadXenVersion = "bad-xen-version",
  /** LOADER/GUEST_OS does not name a loader Xen knows ("generic", "linux"). */
  BadLoader = "bad-loader",
  /** The guest requires a feature the hypervisor does not offer. */
  UnsupportedFeature = "unsupported-feature",
  /** Two loadable segments overlap in the guest's address space. */
  OverlappingSegments = "overlapping-segments",
  /** The entry point is not inside any loadable segment. */
  EntryOutsideSegments = "entry-outside-segments",
  /** VIRT_BASE / PADDR_OFFSET place the image impossibly (below zero, above the kernel). */
  BadAddresses = "bad-addresses",
  /** The hypercall page is outside the image, or not page-aligned. */
  BadHypercallPage = "bad-hypercall-page",
  /**
   * A bzImage libxenguest's loader refuses (setup header too old, payload outside the
   * file, unknown compression, a payload that does not decompress to ELF), or whose
   * compression hvkit does not decompress.
   */
  BadBzImage = "bad-bzimage",
}

/**
 * A kernel image the loader refuses: says what is wrong ({@link ImageError.code}, the
 * message) and where ({@link ImageError.where}, e.g. `program header 2 (file offset 0x78)`).
 */
export class ImageError extends HvkitError {
  /**
   * @param code - which rule was broken.
   * @param where - the place in the file (or the loader step) it was broken at.
   * @param detail - what exactly is wrong, in words.
   */
  constructor(
    readonly code: ImageErrorCode,
    readonly where: string,
    readonly detail: string,
  ) {
    super(`bad kernel image (${code}) at ${where}: ${detail}`);
  }
}

/**
 * A domain too small for the image built into it: the image may be fine, the memory given
 * to the domain (or the machine) is not enough. A configuration problem, kept apart from
 * {@link ImageError} so that a front end asks for more memory instead of blaming the
 * image. {@link DomainMemoryError.where} names the build step that ran out.
 */
export class DomainMemoryError extends HvkitError {
  /**
   * @param where - the loader or builder step that needs more (e.g. `program header 0`).
   * @param detail - what it needs and what the domain has, in words.
   */
  constructor(
    readonly where: string,
    readonly detail: string,
  ) {
    super(`domain memory too small at ${where}: ${detail}`);
  }
}

/**
 * A struct path or value that does not fit a struct definition: a bug in the caller
 * (hvkit's own code), never something a guest can cause.
 */
export class StructPathError extends HvkitError {}
