/**
 * Test fixtures other packages' tests use, as `@hvkit/core/testing` (a source-only export:
 * the published package does not ship it).
 *
 * @module
 */
export * from "./toy-arch.js";
export * from "./agent-io.js";
export * from "./data-models.js";
export * from "./golden-layouts.js";
export * from "./bzimage.js";
