/**
 * `@hvkit/arch-ppc`: the 64-bit PowerPC port (not started; its hooks fail loudly).
 *
 * @packageDocumentation
 */
/** The arch's name as the CLI spells it. */
export const ARCH_NAME = "ppc";
