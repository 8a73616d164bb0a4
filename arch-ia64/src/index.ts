/**
 * `@hvkit/arch-ia64`: the IA-64 port (not started; its hooks fail loudly).
 *
 * @packageDocumentation
 */
/** The arch's name as the CLI spells it. */
export const ARCH_NAME = "ia64";
