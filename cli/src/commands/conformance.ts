/**
 * `hvkit conformance`: run the conformance matrix and report it.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { DependencyContainer } from "tsyringe";
import { SingleBar, Presets } from "cli-progress";
import { ALL_GUEST_MODES, GUEST_ADAPTER_REGISTRY, type ArchRegistry } from "@hvkit/core";
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
  parseBaseline,
  parseShard,
  runSuite,
  xtfTests,
  type Baseline,
  type ConformanceTest,
  type XtfFileReader,
} from "@hvkit/conformance";
import type { CliIo } from "../cli-io.js";
import { ExitStatus } from "../exit-status.js";
import {
  BASELINE_FILE,
  IMAGE_FILE,
  XL_CONFIG_FILE,
  checkFileArgument,
  checkFolderArgument,
  checkOutputFile,
  describeFileError,
  readFileArgument,
} from "../file-arguments.js";
import { knownName } from "../options.js";
import { UsageError } from "../usage-error.js";

/** Options of `hvkit conformance`, as parsed. */
export interface ConformanceCommandOptions {
  /** Arch names (default: every registered arch). */
  readonly arch?: string[];
  /** Modes (default: each arch's own modes). */
  readonly mode?: string[];
  /** Guest sets (default: the built-in sets and every guest adapter's but the on-demand ones, or `xtf` with `--xtf`). */
  readonly guest?: string[];
  /** Roles, `dom0` and/or `domU` (default: both). */
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
    throw new UsageError(`cannot write ${path}: ${describeFileError(e)}`);
  }
}

/** Reads the files under `--xtf` (images and xl configs) with the command's bounded reader. */
const readXtfFile: XtfFileReader = (path, kind) =>
  readFileArgument(path, kind === "image" ? IMAGE_FILE : XL_CONFIG_FILE);

/** Runs `hvkit conformance`; returns the exit status. */
export async function conformanceCommand(
  io: CliIo,
  root: DependencyContainer,
  arches: ArchRegistry,
  options: ConformanceCommandOptions,
): Promise<number> {
  // Names of a fixed set are taken in any case and passed on in their own spelling.
  const archNames = options.arch?.map((a) => knownName("arch", a, arches.names()));
  const modes = options.mode?.map((m) => knownName("mode", m, ALL_GUEST_MODES));
  const roles = options.role?.map((r) => knownName("role", r, ROLES));
  const adapters = root.resolve(GUEST_ADAPTER_REGISTRY).all();
  const guestSets = options.guest?.map((g) =>
    knownName("guest set", g, [...GUEST_SETS, XTF_GUEST_SET, ...adapters.map((a) => a.name)]),
  );
  const shard = options.shard === undefined ? undefined : parseShard(options.shard);
  if (shard === null)
    throw new UsageError(`--shard wants i/n with 1 ≤ i ≤ n, got "${options.shard}"`);
  for (const [option, path] of [
    ["--json", options.json],
    ["--junit", options.junit],
    ["--html", options.html],
  ] as const) {
    if (path !== undefined) checkOutputFile(option, path);
  }
  let baseline: Baseline | undefined;
  if (options.baseline !== false) {
    const path = options.baseline ?? DEFAULT_BASELINE_PATH;
    const text = new TextDecoder().decode(readFileArgument(path, BASELINE_FILE));
    try {
      baseline = parseBaseline(text, path);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  }
  const tests: ConformanceTest[] = [...CONFORMANCE_TESTS];
  if (options.xtf !== undefined) {
    checkFolderArgument(
      "--xtf",
      options.xtf,
      "give the folder XTF was built in (test-<env>-<name> images are found in it and up to two levels below)",
    );
    let found;
    try {
      found = findXtfImages(options.xtf, readXtfFile);
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`cannot read XTF folder ${options.xtf}: ${describeFileError(e)}`);
    }
    if (found.length === 0) {
      throw new UsageError(
        `no XTF images (files named test-<env>-<name>, e.g. test-pv64-example) in ${options.xtf}`,
      );
    }
    for (const image of found) checkFileArgument(image.path, IMAGE_FILE);
    tests.push(...xtfTests(found, readXtfFile));
  }
  const guests = guestSets ?? (options.xtf !== undefined ? [XTF_GUEST_SET] : undefined);
  if (guests?.includes(XTF_GUEST_SET) && options.xtf === undefined) {
    throw new UsageError(
      `--guest ${XTF_GUEST_SET} needs --xtf <dir>: the folder of XTF images to run (hvkit ships none)`,
    );
  }

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
    adapters,
    container: root,
    selection: {
      ...(archNames ? { arches: archNames } : {}),
      ...(modes ? { modes } : {}),
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
