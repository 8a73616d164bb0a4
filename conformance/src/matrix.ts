/**
 * The matrix: which (cell, test) pairs a run covers. Cells are arch × mode × guest × role;
 * a test appears in a cell when its requirements match. Selection (`--arch`, `--mode`,
 * `--guest`, `--role`, `--filter`) and sharding (`--shard i/n`) are applied here so that
 * every shard of one configuration sees the same ordered list and takes a disjoint part.
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

/** One (cell, test) pair to run. */
export interface MatrixEntry {
  /** `arch/mode/guest/role/area/name`. */
  readonly id: string;
  /** Where. */
  readonly cell: Cell;
  /** What. */
  readonly test: ConformanceTest;
  /** The cell's arch plugin. */
  readonly arch: ArchPlugin;
  /** Set when the cell is declined by design: the reason, and the entry is not run. */
  readonly unsupported?: string;
}

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

/**
 * Lists the matrix entries for `arches` × modes × guests × roles × `tests`, in a stable
 * order (arch, mode, guest, role as given; tests in registration order), then filters and
 * shards it.
 */
export function buildMatrix(
  arches: readonly ArchPlugin[],
  tests: readonly ConformanceTest[],
  selection: MatrixSelection = {},
): MatrixEntry[] {
  const entries: MatrixEntry[] = [];
  for (const arch of arches) {
    if (!matches(selection.arches, arch.name)) continue;
    const modes = selection.modes ?? arch.modes;
    for (const mode of modes) {
      const unsupported = arch.modes.includes(mode)
        ? undefined
        : `${arch.name} does not implement mode ${mode} (it offers ${arch.modes.join(", ")})`;
      for (const guest of selection.guests ?? GUEST_SETS) {
        for (const role of selection.roles ?? ROLES) {
          const cell: Cell = { arch: arch.name, mode, guest, role };
          for (const test of tests) {
            const r = test.requires;
            if (!matches(r.arches, arch.name) || !matches(r.modes, mode)) continue;
            if (!matches(r.guests ?? OWN_GUEST_SETS, guest) || !matches(r.roles, role)) continue;
            const id = `${cellId(cell)}/${testId(test)}`;
            if (selection.filter !== undefined && !id.includes(selection.filter)) continue;
            entries.push(
              unsupported ? { id, cell, test, arch, unsupported } : { id, cell, test, arch },
            );
          }
        }
      }
    }
  }
  const shard = selection.shard;
  return shard ? entries.filter((_, k) => k % shard.count === shard.index - 1) : entries;
}
