/**
 * ELF image parsing for guest kernels. (Skeleton: the loader is being written.)
 *
 * @module
 */

/** A parsed guest kernel image. */
export interface ElfImage {
  /** The raw file bytes. */
  readonly bytes: Uint8Array;
}
