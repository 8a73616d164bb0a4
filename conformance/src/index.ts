/**
 * `@hvkit/conformance`: the conformance suite and its matrix runner.
 *
 * @packageDocumentation
 */
/** XTF's result lattice, lowest to highest severity. */
export const RESULT_ORDER = ["SUCCESS", "SKIP", "ERROR", "FAILURE"] as const;
