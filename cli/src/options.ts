/**
 * Parsers for option values shared by the commands. The parsers commander calls throw its
 * `InvalidArgumentError`, which the program turns into a usage error (exit 2). Values
 * that name one of a fixed set (arch, mode, role, guest set) are accepted in any case.
 *
 * @module
 */
import { InvalidArgumentError } from "commander";
import { MAX_MEMORY_MIB, MAX_VCPUS_PER_DOMAIN } from "@hvkit/core";
import { UsageError } from "./usage-error.js";

/** The largest count {@link parseCount} accepts: 2^53 − 1, the largest exact whole number. */
export const MAX_COUNT = Number.MAX_SAFE_INTEGER;

const SUFFIX: Readonly<Record<string, number>> = {
  "": 1,
  k: 1e3,
  K: 1e3,
  m: 1e6,
  M: 1e6,
  g: 1e9,
  G: 1e9,
};

/**
 * Parses a positive count: digits (with optional `_` separators) and an optional decimal
 * suffix k, M or G (`50M` = 50,000,000), at most {@link MAX_COUNT}.
 */
export function parseCount(text: string): number {
  const m = /^(\d[\d_]*)([kKmMgG]?)$/.exec(text.trim());
  const value = m ? Number(m[1].replace(/_/g, "")) * SUFFIX[m[2]] : NaN;
  if (value > MAX_COUNT) {
    throw new InvalidArgumentError(
      `expected at most ${MAX_COUNT} (2^53 - 1, about 9000000G), got "${text}"`,
    );
  }
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(
      `expected a positive whole number such as 1000000 or 50M, got "${text}"`,
    );
  }
  return value;
}

/** Parses a vCPU count (1 … the core's `MAX_VCPUS_PER_DOMAIN`). */
export function parseVcpus(text: string): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < 1 || value > MAX_VCPUS_PER_DOMAIN) {
    throw new InvalidArgumentError(
      `expected a whole number of vCPUs from 1 to ${MAX_VCPUS_PER_DOMAIN}, got "${text}"`,
    );
  }
  return value;
}

/** Parses a memory size in MiB (1 … the core's `MAX_MEMORY_MIB`). */
export function parseMemoryMiB(text: string): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < 1 || value > MAX_MEMORY_MIB) {
    throw new InvalidArgumentError(
      `expected a whole number of MiB from 1 to ${MAX_MEMORY_MIB}, got "${text}"`,
    );
  }
  return value;
}

/**
 * Parses `--until`'s pattern: a JavaScript regular expression, without slashes or flags
 * (`Run /init`, `login: ?$`); an empty one, or one that matches the empty string, would
 * stop at once and is refused.
 */
export function parseUntilPattern(text: string): RegExp {
  let pattern: RegExp;
  try {
    pattern = new RegExp(text);
  } catch (e) {
    throw new InvalidArgumentError(
      `expected a regular expression, got "${text}": ${(e as Error).message}`,
    );
  }
  if (pattern.test("")) {
    throw new InvalidArgumentError(
      `"${text}" matches the empty string, so the run would stop before the guest prints anything`,
    );
  }
  return pattern;
}

/** Parses a comma-separated list (`x86_64,ia64`), dropping empty items. */
export function parseList(text: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
  ];
}

/** What `hvkit run --role` accepts: the image boots as dom0 or as a domU. */
export type RunRole = "dom0" | "domU";

/** Parses `--role` of `hvkit run`: `dom0` or `domu` (any case). */
export function parseRunRole(text: string): RunRole {
  const t = text.trim().toLowerCase();
  if (t === "dom0") return "dom0";
  if (t === "domu") return "domU";
  throw new InvalidArgumentError(`expected dom0 or domu, got "${text}"`);
}

/**
 * The spelling in `known` of `given`, compared without regard to case (`PV` is `pv`,
 * `DomU` is `domU`). Throws {@link UsageError} `unknown <what> "<given>" (known: ...)`
 * when none matches.
 */
export function knownName<T extends string>(what: string, given: string, known: readonly T[]): T {
  const name = known.find((k) => k.toLowerCase() === given.toLowerCase());
  if (name === undefined)
    throw new UsageError(`unknown ${what} "${given}" (known: ${known.join(", ")})`);
  return name;
}
