/**
 * Conformance results: XTF's severity lattice plus hvkit's UNSUPPORTED.
 *
 * XTF reports one of SUCCESS, SKIP, ERROR or FAILURE and, when a test reports several,
 * keeps the most severe (SUCCESS < SKIP < ERROR < FAILURE). hvkit uses the same words and
 * order so a cell of our own suite and a real XTF image read alike. UNSUPPORTED sits
 * outside the lattice: the cell is one an arch plugin or guest adapter declines on purpose
 * (e.g. a mode the plugin does not implement), so it is neither a pass nor a failure.
 *
 * @module
 */

/** XTF's result lattice, lowest to highest severity. */
export const RESULT_ORDER = ["SUCCESS", "SKIP", "ERROR", "FAILURE"] as const;

/** One of XTF's four results. */
export type XtfResult = (typeof RESULT_ORDER)[number];

/** The result of one conformance cell. */
export type CellResult = XtfResult | "UNSUPPORTED";

/**
 * The more severe of two lattice results (XTF's `xtf_set_result` rule: a later SUCCESS
 * never hides an earlier FAILURE).
 */
export function worstResult(a: XtfResult, b: XtfResult): XtfResult {
  return RESULT_ORDER.indexOf(a) >= RESULT_ORDER.indexOf(b) ? a : b;
}

/**
 * True when a result lets the suite pass: SUCCESS, SKIP (the test itself said it does not
 * apply) and UNSUPPORTED (declined by design). ERROR and FAILURE fail the suite unless
 * the baseline expects them.
 */
export function isPassing(result: CellResult): boolean {
  return result === "SUCCESS" || result === "SKIP" || result === "UNSUPPORTED";
}

/** Matches XTF's final console line, `Test result: <RESULT>`. */
const XTF_RESULT_LINE = /^Test result: (SUCCESS|SKIP|ERROR|FAILURE)\b/gm;

/**
 * Reads the result an XTF image printed: the most severe `Test result:` line in its
 * console output, or null when there is none (the image crashed or hung before it
 * reported).
 */
export function parseXtfResult(consoleText: string): XtfResult | null {
  let result: XtfResult | null = null;
  for (const m of consoleText.matchAll(XTF_RESULT_LINE)) {
    const r = m[1] as XtfResult;
    result = result === null ? r : worstResult(result, r);
  }
  return result;
}
