/**
 * Fixtures the command's tests share: running the command with its output captured, a
 * temporary folder from which the workspace's `@hvkit/*` packages resolve (as they would
 * for a plugin installed beside hvkit), and running with the `source` export condition.
 *
 * @module
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect } from "vitest";
import type { CliIo } from "./cli-io.js";
import { runCli } from "./program.js";

/** The repository's root folder. */
export const REPOSITORY_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** What a run of the command gave. */
export interface CapturedRun {
  /** The exit status. */
  readonly status: number;
  /** Everything written to stdout. */
  readonly stdout: string;
  /** Everything written to stderr. */
  readonly stderr: string;
}

/** Runs the `hvkit` command line `argv` in this process, capturing its output. */
export async function runHvkit(...argv: string[]): Promise<CapturedRun> {
  const out: string[] = [];
  const err: string[] = [];
  // A guest's console output arrives as bytes: kept byte for byte (latin1), as written.
  const text = (c: string | Uint8Array): string =>
    typeof c === "string" ? c : Buffer.from(c).toString("latin1");
  const io: CliIo = {
    stdout: { write: (c) => void out.push(text(c)) },
    stderr: { write: (c) => void err.push(text(c)) },
  };
  const status = await runCli(argv, io);
  return { status, stdout: out.join(""), stderr: err.join("") };
}

/**
 * A new temporary folder (name starting `prefix`) whose `node_modules/@hvkit` is the
 * workspace's, so a plugin package made in it imports the same core as the command.
 */
export function pluginHome(prefix: string): string {
  const home = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(home, "node_modules"));
  symlinkSync(
    join(REPOSITORY_ROOT, "node_modules", "@hvkit"),
    join(home, "node_modules", "@hvkit"),
    "dir",
  );
  return home;
}

/**
 * Makes the tests of the calling `describe` run the command as `npm run hvkit` does in a
 * clone, with the `source` export condition, so `--plugin` loads a package's TypeScript.
 */
export function useSourceCondition(): void {
  const saved = process.env.NODE_OPTIONS;
  beforeAll(() => {
    process.env.NODE_OPTIONS = `${saved ?? ""} --conditions=source`;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  });
}

/**
 * A copy of the package folder `dir` as `to`, with `edit` applied to its file `file` (which
 * must change). A new folder each time, since a module once imported stays loaded.
 */
export function editedCopy(
  dir: string,
  to: string,
  file: string,
  edit: (text: string) => string,
): string {
  cpSync(dir, to, { recursive: true });
  const path = join(to, file);
  const text = readFileSync(path, "utf8");
  const edited = edit(text);
  expect(edited, `the edit of ${file}`).not.toBe(text);
  writeFileSync(path, edited);
  return to;
}
