/**
 * Every conformance test of hvkit's own suite, in the order the matrix lists them. A new
 * test is a file `tests/<area>/<name>.conformance.ts` exporting one `ConformanceTest`,
 * added here.
 *
 * @module
 */
import type { ConformanceTest } from "../conformance-test.js";
import { publishedSizes } from "./abi/published-sizes.conformance.js";

/** The suite. */
export const CONFORMANCE_TESTS: readonly ConformanceTest[] = [publishedSizes];
