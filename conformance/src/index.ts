/**
 * `@hvkit/conformance`: the conformance suite and its matrix runner.
 *
 * @packageDocumentation
 */
export * from "./result.js";
export * from "./conformance-test.js";
export * from "./matrix.js";
export * from "./baseline.js";
export * from "./runner.js";
export * from "./guest-adapters.js";
export * from "./guest-images.js";
export * from "./xtf.js";
export * from "./reports/matrix-grid.js";
export * from "./reports/table.js";
export * from "./reports/json.js";
export * from "./reports/junit.js";
export * from "./reports/html.js";
export * from "./reports/markup.js";
export { CONFORMANCE_TESTS } from "./tests/index.js";
export * from "./agent.js";
