/**
 * The matrix: which (cell, test) pairs a run covers. Cells are arch × mode × guest × role;
 * a test appears in a cell when its requirements match. Selection (`--arch`, `--mode`,
 * `--guest`, `--role`, `--filter`) and sharding (`--shard i/n`) are applied here so that
 * every shard of one configuration sees the same ordered list and takes a disjoint part.
 *
 * A test that pins both its arches and its modes (an XTF image, whose environment names
 * them) is never dropped: where no registered arch plugin offers that arch and mode, its
 * entries are still listed, UNSUPPORTED with the reason, so a report shows what could not
 * run and why.
 *
 * @module
 */
import type { ArchPlugin, GuestMode } from "@hvkit/core";
import {
  cellId,
  testId,
  type Cell,
  type ConformanceTest,
  type GuestRole,
} from "./conformance-test.js";

/**
 * The guest sets known so far: `hvkit-test`, the tests written once for every arch (they
 * drive the arch's guest agent), and `hvkit-c`, our compiled guests where the arch has them.
 */
export const GUEST_SETS = ["hvkit-test", "hvkit-c"] as const;
/** The guest sets of a test that names none: the tests written once for every arch. */
const OWN_GUEST_SETS: readonly string[] = ["hvkit-test"];

/**
 * The roles cells are made for, in column order: the guest under test boots as the initial
 * domain (`dom0`) or as an unprivileged domU under the built-in dom0 (`domU`).
 */
export const ROLES: readonly GuestRole[] = ["dom0", "domU"];

/** A part of the matrix for one runner (`--shard 2/4` is `{ index: 2, count: 4 }`). */
export interface Shard {
  /** 1-based shard number. */
  readonly index: number;
  /** Number of shards. */
  readonly count: number;
}

/** What to run. Omitted lists mean "all". */
export interface MatrixSelection {
  /** Arch names. */
  readonly arches?: readonly string[];
  /** Guest modes; a mode an arch does not implement gives UNSUPPORTED cells. */
  readonly modes?: readonly GuestMode[];
  /** Guest sets. */
  readonly guests?: readonly string[];
  /** Roles. */
  readonly roles?: readonly GuestRole[];
  /** Keep only entries whose id contains this substring. */
  readonly filter?: string;
  /** Keep only this shard's part. */
  readonly shard?: Shard;
}

/** What every matrix entry has. */
interface MatrixEntryBase {
  /** `arch/mode/guest/role/area/name`. */
  readonly id: string;
  /** Where. */
  readonly cell: Cell;
  /** What. */
  readonly test: ConformanceTest;
}

/** A (cell, test) pair that runs. */
export interface RunnableEntry extends MatrixEntryBase {
  /** The cell's arch plugin. */
  readonly arch: ArchPlugin;
  /** Never set on a runnable entry. */
  readonly unsupported?: undefined;
}

/** A (cell, test) pair declined by design: it is listed, never run. */
export interface DeclinedEntry extends MatrixEntryBase {
  /** The cell's arch plugin; absent when no registered plugin provides the cell's arch. */
  readonly arch?: ArchPlugin;
  /** Why the cell cannot run (the UNSUPPORTED cell's message). */
  readonly unsupported: string;
}

/** One (cell, test) pair of the matrix. */
export type MatrixEntry = RunnableEntry | DeclinedEntry;

/** Parses `i/n` (1 ≤ i ≤ n); returns null when malformed. */
export function parseShard(text: string): Shard | null {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) return null;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) return null;
  return { index, count };
}

function matches<T>(wanted: readonly T[] | undefined, value: T): boolean {
  return wanted === undefined || wanted.includes(value);
}

/** True when `test` names `arch` and `mode` explicitly (both lists given). */
function pins(test: ConformanceTest, arch: string, mode: GuestMode): boolean {
  const r = test.requires;
  return (
    r.arches !== undefined &&
    r.modes !== undefined &&
    r.arches.includes(arch) &&
    r.modes.includes(mode)
  );
}

/**
 * Why no registered plugin runs guests of `arch` in `mode`, or undefined when one does.
 * The text is the message of every UNSUPPORTED entry of such a cell.
 */
function unsupportedReason(
  arches: readonly ArchPlugin[],
  arch: string,
  mode: GuestMode,
): string | undefined {
  const plugin = arches.find((a) => a.name === arch);
  if (plugin === undefined) {
    const known = arches.map((a) => a.name).join(", ") || "none";
    return `needs arch ${arch} in mode ${mode}, which no registered arch plugin provides (registered: ${known})`;
  }
  if (plugin.modes.includes(mode)) return undefined;
  return `${arch} does not implement mode ${mode} (it offers ${plugin.modes.join(", ")})`;
}

/** One arch of the matrix with the modes its cells have. */
interface CellAxis {
  readonly arch: string;
  readonly plugin: ArchPlugin | undefined;
  readonly modes: readonly GuestMode[];
}

/**
 * The cells' arches and modes in matrix order: each registered arch with its own modes
 * (or the selected ones), then the modes of that arch only pinning tests name, then the
 * arches no plugin provides that pinning tests name.
 */
function cellAxes(
  arches: readonly ArchPlugin[],
  tests: readonly ConformanceTest[],
  selection: MatrixSelection,
): CellAxis[] {
  const pinned = new Map<string, GuestMode[]>();
  for (const t of tests) {
    if (t.requires.arches === undefined || t.requires.modes === undefined) continue;
    for (const a of t.requires.arches) {
      const modes = pinned.get(a) ?? [];
      for (const m of t.requires.modes) if (!modes.includes(m)) modes.push(m);
      pinned.set(a, modes);
    }
  }
  const axes = arches.map((plugin): CellAxis => ({
    arch: plugin.name,
    plugin,
    modes: selection.modes ?? [
      ...plugin.modes,
      ...(pinned.get(plugin.name) ?? []).filter((m) => !plugin.modes.includes(m)),
    ],
  }));
  for (const [arch, modes] of pinned) {
    if (arches.some((a) => a.name === arch)) continue;
    axes.push({ arch, plugin: undefined, modes: selection.modes ?? modes });
  }
  return axes.filter((a) => matches(selection.arches, a.arch));
}

/**
 * Lists the matrix entries for `arches` × modes × guests × roles × `tests`, in a stable
 * order (arch, mode, guest, role as given; tests in registration order), then filters and
 * shards it. Cells no registered plugin offers hold UNSUPPORTED entries: every matching
 * test where the mode was selected explicitly, else only the tests that pin that arch and
 * mode.
 */
export function buildMatrix(
  arches: readonly ArchPlugin[],
  tests: readonly ConformanceTest[],
  selection: MatrixSelection = {},
): MatrixEntry[] {
  const entries: MatrixEntry[] = [];
  for (const { arch, plugin, modes } of cellAxes(arches, tests, selection)) {
    for (const mode of modes) {
      const unsupported = unsupportedReason(arches, arch, mode);
      const selected = plugin !== undefined && selection.modes !== undefined;
      for (const guest of selection.guests ?? GUEST_SETS) {
        for (const role of selection.roles ?? ROLES) {
          const cell: Cell = { arch, mode, guest, role };
          for (const test of tests) {
            const r = test.requires;
            if (!matches(r.arches, arch) || !matches(r.modes, mode)) continue;
            if (!matches(r.guests ?? OWN_GUEST_SETS, guest) || !matches(r.roles, role)) continue;
            if (unsupported !== undefined && !selected && !pins(test, arch, mode)) continue;
            const id = `${cellId(cell)}/${testId(test)}`;
            if (selection.filter !== undefined && !id.includes(selection.filter)) continue;
            if (unsupported !== undefined)
              entries.push({ id, cell, test, ...(plugin ? { arch: plugin } : {}), unsupported });
            else entries.push({ id, cell, test, arch: plugin! });
          }
        }
      }
    }
  }
  const shard = selection.shard;
  return shard ? entries.filter((_, k) => k % shard.count === shard.index - 1) : entries;
}

/**
 * Raised by {@link buildSelectedMatrix} when a selection leaves no entry; the message says
 * which part of the selection is to blame and what would match instead.
 */
export class EmptySelectionError extends Error {
  /** @param message - why nothing is selected. */
  constructor(message: string) {
    super(message);
    this.name = "EmptySelectionError";
  }
}

/** At most `n` items of `list`, with "…" when there are more. */
function few(list: readonly string[], n = 6): string {
  return list.length <= n ? list.join(", ") : `${list.slice(0, n).join(", ")}, …`;
}

/** Why `selection` leaves no entry of the matrix of `arches` × `tests`. */
export function explainEmptySelection(
  arches: readonly ArchPlugin[],
  tests: readonly ConformanceTest[],
  selection: MatrixSelection,
): string {
  const { filter, shard, ...cells } = selection;
  const unfiltered = buildMatrix(arches, tests, cells).map((e) => e.id);
  if (unfiltered.length === 0) {
    if (arches.length === 0) return "no arch plugin is registered";
    if (tests.length === 0) return "no test is registered";
    const given = (
      [
        ["arch", cells.arches],
        ["mode", cells.modes],
        ["guest set", cells.guests],
        ["role", cells.roles],
      ] as const
    )
      .filter(([, list]) => list !== undefined)
      .map(([what, list]) => `${what} ${list!.join(",")}`);
    return given.length === 0
      ? "no registered test applies to any cell of the registered arches"
      : `no registered test applies to the selected cells (${given.join("; ")})`;
  }
  if (filter !== undefined) {
    const here = buildMatrix(arches, tests, { ...cells, filter });
    if (here.length === 0) {
      const prefixes = [
        ...new Set(unfiltered.map((id) => id.split("/").slice(0, 4).join("/") + "/")),
      ];
      const areas = [...new Set(unfiltered.map((id) => id.split("/")[4] + "/"))];
      let near: string[] = [];
      for (let n = filter.length - 1; n >= 3 && near.length === 0; n--) {
        const part = filter.slice(0, n);
        near = unfiltered.filter((id) => id.includes(part));
      }
      return (
        `--filter "${filter}" matches none of the ${unfiltered.length} selected entry ids ` +
        `(arch/mode/guest/role/area/name); they start ${few(prefixes, 4)} and their areas are ${few(areas)}` +
        (near.length > 0 ? `; closest: ${few(near, 3)}` : "")
      );
    }
  }
  const total = buildMatrix(arches, tests, {
    ...cells,
    ...(filter !== undefined ? { filter } : {}),
  }).length;
  return shard
    ? `--shard ${shard.index}/${shard.count} is empty: the selection has only ${total} entries`
    : "the selection is empty";
}

/**
 * {@link buildMatrix}, refusing an empty result: throws {@link EmptySelectionError}
 * saying why (a misspelled filter, a guest set no test applies to, a shard past the end).
 */
export function buildSelectedMatrix(
  arches: readonly ArchPlugin[],
  tests: readonly ConformanceTest[],
  selection: MatrixSelection = {},
): MatrixEntry[] {
  const entries = buildMatrix(arches, tests, selection);
  if (entries.length === 0)
    throw new EmptySelectionError(explainEmptySelection(arches, tests, selection));
  return entries;
}
