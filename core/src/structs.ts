/**
 * Declarative ABI struct definitions, laid out per data model. (Skeleton: the codec is
 * being written.)
 *
 * @module
 */

/**
 * The C data models Xen's public structs are laid out in: `x86_32` (ILP32, 64-bit fields
 * aligned to 4), `x86_64`, `ia64` (LP64, little-endian), `ppc64` (LP64, big-endian).
 */
export type DataModelName = "x86_32" | "x86_64" | "ia64" | "ppc64";
