/**
 * The JSON report: the whole {@link SuiteReport} with a format version, for tools that
 * compare runs or merge shards.
 *
 * @module
 */
import type { SuiteReport } from "../runner.js";

/**
 * Version of the JSON report format; bumped when a field changes meaning. 2: `ok` is false
 * when nothing ran (`nothingRan`); entries may carry `blockedBy`, the summary
 * `missingHooks`, the report `baselineReview`.
 */
export const JSON_REPORT_VERSION = 2;

/** Renders `report` as pretty-printed JSON. */
export function formatJson(report: SuiteReport): string {
  return (
    JSON.stringify(
      { version: JSON_REPORT_VERSION, tool: "hvkit conformance", ...report },
      null,
      2,
    ) + "\n"
  );
}
