/**
 * Building the tables of an execution profile (`ExecutionProfile`) from an arch's counters, so every
 * arch orders them the same way.
 */
import type { ProfileCount } from "./arch-plugin.js";

/** Sorts `rows` in place, largest count first, then by name; returns them. */
export function largestFirst(rows: ProfileCount[]): ProfileCount[] {
  return rows.sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The non-zero entries of `counts` as named rows, largest first: `name(k)` names entry `k`
 * (an arch's operation, exit or instruction-table row).
 */
export function profileCounts(
  counts: ArrayLike<number>,
  name: (k: number) => string,
): ProfileCount[] {
  const rows: ProfileCount[] = [];
  for (let k = 0; k < counts.length; k++) if (counts[k] !== 0) rows.push([name(k), counts[k]!]);
  return largestFirst(rows);
}
