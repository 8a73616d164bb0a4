/**
 * `hvkit conformance`: run the conformance matrix and report it.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { DependencyContainer } from "tsyringe";
import { SingleBar, Presets } from "cli-progress";
import type { ArchRegistry, GuestMode } from "@hvkit/core";
import {
  CONFORMANCE_TESTS,
  DEFAULT_BASELINE_PATH,
  EmptySelectionError,
  GUEST_SETS,
  ROLES,
  XTF_GUEST_SET,
  findXtfImages,
  formatHtml,
  formatJson,
  formatJunit,
  formatTable,
  loadBaseline,
  parseShard,
  runSuite,
  xtfTests,
  type Baseline,
  type ConformanceTest,
  type GuestRole,
} from "@hvkit/conformance";
import type { CliIo } from "../cli-io.js";
import { ExitStatus } from "../exit-status.js";
import { UsageError, describeReadError } from "./run.js";

/** Options of `hvkit conformance`, as parsed. */
export interface ConformanceCommandOptions {
  /** Arch names (default: every registered arch). */
  readonly arch?: string[];
  /** Modes (default: each arch's own modes). */
  readonly mode?: string[];
  /** Guest sets (default: `hvkit-test`, or `xtf` with `--xtf`). */
  readonly guest?: string[];
  /** Roles, `dom0` and/or `domU`, any case (default: both). */
  readonly role?: string[];
  /** Substring filter on entry ids. */
  readonly filter?: string;
  /** `i/n`. */
  readonly shard?: string;
  /** Baseline file, or false for none (`--no-baseline`). */
  readonly baseline?: string | false;
  /** Report outputs. */
  readonly json?: string;
  /** JUnit XML output. */
  readonly junit?: string;
  /** HTML output. */
  readonly html?: string;
  /** Folder of XTF images. */
  readonly xtf?: string;
}

function writeReport(path: string, text: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${describeReadError(e)}`);
  }
}

/** Every guest mode name (the `GuestMode` union). */
const GUEST_MODES: readonly GuestMode[] = ["pv", "hvm-vmx", "hvm-svm", "vt-i", "hv"];

function checkKnown(
  what: string,
  given: readonly string[] | undefined,
  known: readonly string[],
): void {
  const unknown = (given ?? []).filter((g) => !known.includes(g));
  if (unknown.length > 0)
    throw new UsageError(`unknown ${what} "${unknown[0]}" (known: ${known.join(", ")})`);
}

/** A `--role` name in the matrix's spelling (`domu` → `domU`); unknown names are usage errors. */
function canonicalRole(given: string): GuestRole {
  const role = ROLES.find((r) => r.toLowerCase() === given.toLowerCase());
  if (role === undefined)
    throw new UsageError(`unknown role "${given}" (known: ${ROLES.join(", ")})`);
  return role;
}

/** Runs `hvkit conformance`; returns the exit status. */
export async function conformanceCommand(
  io: CliIo,
  root: DependencyContainer,
  arches: ArchRegistry,
  options: ConformanceCommandOptions,
): Promise<number> {
  for (const name of options.arch ?? []) {
    if (!arches.has(name)) {
      throw new UsageError(`unknown arch "${name}" (known: ${arches.names().join(", ")})`);
    }
  }
  const shard = options.shard === undefined ? undefined : parseShard(options.shard);
  if (shard === null)
    throw new UsageError(`--shard wants i/n with 1 ≤ i ≤ n, got "${options.shard}"`);
  let baseline: Baseline | undefined;
  if (options.baseline !== false) {
    try {
      baseline = loadBaseline(options.baseline ?? DEFAULT_BASELINE_PATH);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const tests: ConformanceTest[] = [...CONFORMANCE_TESTS];
  if (options.xtf !== undefined) {
    let found;
    try {
      found = findXtfImages(options.xtf);
    } catch (e) {
      throw new UsageError(`cannot read XTF folder ${options.xtf}: ${describeReadError(e)}`);
    }
    if (found.length === 0) {
      throw new UsageError(
        `no XTF images (files named test-<env>-<name>, e.g. test-pv64-example) in ${options.xtf}`,
      );
    }
    tests.push(...xtfTests(found));
  }
  const guests = options.guest ?? (options.xtf !== undefined ? [XTF_GUEST_SET] : undefined);
  checkKnown("guest set", options.guest, [...GUEST_SETS, XTF_GUEST_SET]);
  if (guests?.includes(XTF_GUEST_SET) && options.xtf === undefined) {
    throw new UsageError(
      `--guest ${XTF_GUEST_SET} needs --xtf <dir>: the folder of XTF images to run (hvkit ships none)`,
    );
  }
  const roles = options.role?.map((r) => canonicalRole(r));
  checkKnown("mode", options.mode, GUEST_MODES);

  const bar = io.stderr.isTTY
    ? new SingleBar(
        {
          stream: io.stderr as NodeJS.WritableStream,
          format: "conformance [{bar}] {value}/{total} {id}",
          hideCursor: true,
          clearOnComplete: true,
        },
        Presets.shades_classic,
      )
    : undefined;
  const run = runSuite({
    arches: arches.all(),
    tests,
    container: root,
    selection: {
      ...(options.arch ? { arches: options.arch } : {}),
      ...(options.mode ? { modes: options.mode as GuestMode[] } : {}),
      ...(guests ? { guests } : {}),
      ...(roles ? { roles } : {}),
      ...(options.filter !== undefined ? { filter: options.filter } : {}),
      ...(shard ? { shard } : {}),
    },
    ...(baseline ? { baseline } : {}),
    onStart: (total) => bar?.start(total, 0, { id: "" }),
    onEntry: (done, total, entry) => {
      if (bar) bar.update(done, { id: entry.id });
      else io.stderr.write(`[${done}/${total}] ${entry.result.padEnd(11)} ${entry.id}\n`);
    },
  });
  let report;
  try {
    report = await run;
  } catch (e) {
    if (e instanceof EmptySelectionError) throw new UsageError(`nothing to run: ${e.message}`);
    throw e;
  } finally {
    bar?.stop();
  }
  io.stdout.write(formatTable(report));
  if (options.json !== undefined) writeReport(options.json, formatJson(report));
  if (options.junit !== undefined) writeReport(options.junit, formatJunit(report));
  if (options.html !== undefined) writeReport(options.html, formatHtml(report));
  if (report.nothingRan !== undefined) {
    const where = options.xtf !== undefined ? ` of the XTF images in ${options.xtf}` : "";
    io.stderr.write(`hvkit: nothing${where} could run: ${report.nothingRan}\n`);
    return ExitStatus.USAGE;
  }
  return report.ok ? ExitStatus.OK : ExitStatus.CONFORMANCE_FAILED;
}
