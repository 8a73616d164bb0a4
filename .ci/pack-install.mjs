#!/usr/bin/env node
// Packs every workspace package, checks each tarball, installs them all into a fresh
// directory outside the workspace and runs the installed `hvkit` there, as a user would:
//
//   1. `npm pack` of every package the root package.json lists under `workspaces` (but a
//      private one, which is never published);
//   2. per tarball: publint (strict, every message fails), every file the package's code
//      loads at run time (`new URL("...", import.meta.url)` in dist/) is packed and inside
//      the package, and every tracked file that is not a development file is packed;
//   3. `npm install` of all tarballs into an empty temporary directory;
//   4. there: `npx hvkit --help`, `hvkit run --arch x86_64 <the packed hello.elf>` (its
//      output must be the packed expected output, exit 0), and `hvkit conformance --json`,
//      whose cells (id, result, verdict, message, console log) and exit status must equal
//      those of the repository's own built `hvkit conformance`, run at the same time.
//
// Needs `npm run build` first (the tarballs ship dist/). Usage: node .ci/pack-install.mjs
// [--keep] (--keep leaves the temporary directory for a look).
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, posix, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { publint } from "publint";
import { formatMessage } from "publint/utils";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const keep = process.argv.includes("--keep");
const problems = [];
const fail = (message) => void problems.push(message);
const started = performance.now();
const step = (what) =>
  console.log(`\n==> ${what} (${((performance.now() - started) / 1000).toFixed(1)}s)`);

/**
 * Tracked files a package keeps out of its tarball: what is compiled into dist/, or only
 * builds, documents, configures or tests the package. Every other tracked file (a guest
 * image, an expected output, a baseline, an agent binary, data) must be packed.
 */
const DEVELOPMENT_FILES = [
  /^src\//, // TypeScript sources, compiled into dist/
  /^scripts\//, // generators of committed data
  /\.ts$/, // tests, tools and configs: an installed package runs dist/
  /\.(c|h|S|s|ld|sh)$/, // sources and build scripts of committed guest binaries
  /(^|\/)(tsconfig|typedoc)\.json$/,
  /\.md$/, // documentation (npm packs README.md by itself)
  /(^|\/)\.[^/]+$/, // dotfiles
];

/**
 * The workspace folders, in the order the root package.json lists them; an entry with `*`
 * in its last segment ("arch-*", "packages/*") expands to the matching folders holding a
 * package.json, in name order, as npm expands it.
 */
function workspaceDirs() {
  const { workspaces } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  return workspaces.flatMap((entry) => {
    if (!entry.includes("*")) return [entry];
    const parent = posix.dirname(entry);
    const pattern = new RegExp(
      `^${posix
        .basename(entry)
        .split("*")
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
    );
    return readdirSync(join(root, parent), { withFileTypes: true })
      .filter((d) => d.isDirectory() && pattern.test(d.name))
      .filter((d) => existsSync(join(root, parent, d.name, "package.json")))
      .map((d) => posix.join(parent, d.name))
      .sort();
  });
}

function run(command, args, options = {}) {
  return execFileSync(command, args, { encoding: "utf8", maxBuffer: 256 << 20, ...options });
}

/**
 * Runs a command to its end; resolves to its exit status and output, stdout as Latin-1 (a
 * guest's console is bytes), stderr as UTF-8. Never rejects on a non-zero status.
 */
function runAsync(command, args, options) {
  return new Promise((done, reject) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
    const out = [];
    const err = [];
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    child.on("error", reject);
    child.on("close", (status) =>
      done({
        status,
        stdout: Buffer.concat(out).toString("latin1"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
  });
}

/** The `new URL("<relative>", import.meta.url)` targets in a built file, relative to the package. */
function runtimeUrls(pkgDir, file) {
  const text = readFileSync(join(pkgDir, file), "utf8");
  const found = [];
  for (const m of text.matchAll(/new URL\(\s*["'`]([^"'`]+)["'`]\s*,\s*import\.meta\.url\s*\)/g))
    found.push(posix.normalize(posix.join(posix.dirname(file), m[1])));
  return found;
}

function checkPackage(dir, packed) {
  const pkgDir = join(root, dir);
  const files = new Set(packed.files.map((f) => f.path));
  for (const file of files) {
    if (!file.startsWith("dist/") || !file.endsWith(".js")) continue;
    for (const target of runtimeUrls(pkgDir, file)) {
      if (target.startsWith("../")) {
        fail(`${packed.name}: ${file} loads ${target}, outside the package`);
        continue;
      }
      const prefix = target.endsWith("/") ? target : `${target}/`;
      if (!files.has(target) && ![...files].some((f) => f.startsWith(prefix)))
        fail(`${packed.name}: ${file} loads ${target}, which is not packed (see "files")`);
    }
  }
  const tracked = run("git", ["ls-files", "-z", "--", "."], { cwd: pkgDir })
    .split("\0")
    .filter(Boolean);
  for (const file of tracked) {
    if (files.has(file) || DEVELOPMENT_FILES.some((re) => re.test(file))) continue;
    fail(`${packed.name}: ${dir}/${file} is tracked but not packed (add it to "files")`);
  }
}

// Every workspace package that is published (not private), by name.
const names = new Map();
for (const dir of workspaceDirs()) {
  const pkg = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"));
  if (pkg.private) continue;
  if (pkg.scripts?.build && !existsSync(join(root, dir, "dist")))
    throw new Error(`${dir} has no dist/: run \`npm run build\` first`);
  names.set(pkg.name, dir);
}

const work = mkdtempSync(join(tmpdir(), "hvkit-pack-install-"));
try {
  step(`npm pack of ${names.size} workspace packages`);
  const tarballs = join(work, "tarballs");
  mkdirSync(tarballs);
  const packs = JSON.parse(
    run(
      "npm",
      [
        "pack",
        "--json",
        "--pack-destination",
        tarballs,
        "--ignore-scripts",
        ...[...names.keys()].map((name) => `--workspace=${name}`),
      ],
      {
        cwd: root,
      },
    ),
  );
  for (const name of names.keys())
    if (!packs.some((p) => p.name === name)) fail(`${name} (${names.get(name)}) was not packed`);

  step("publint and file lists of every tarball");
  for (const packed of packs) {
    const dir = names.get(packed.name);
    const bytes = readFileSync(join(tarballs, packed.filename));
    const tarball = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const { messages, pkg } = await publint({ pack: { tarball }, strict: true });
    for (const m of messages)
      fail(`${packed.name}: publint ${m.type}: ${formatMessage(m, pkg, { color: false })}`);
    checkPackage(dir, packed);
    console.log(
      `  ${packed.name}: ${packed.entryCount} files, ${(packed.size / 1024).toFixed(0)} KiB`,
    );
  }
  if (problems.length > 0) throw new Error("not installing tarballs that lack what a user needs");

  step("npm install of the tarballs into an empty directory");
  const app = join(work, "app");
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({ name: "hvkit-user", private: true, type: "module" }),
  );
  run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--loglevel=error",
      ...packs.map((p) => join(tarballs, p.filename)),
    ],
    {
      cwd: app,
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  const installed = realpathSync(join(app, "node_modules", "@hvkit", "conformance"));
  if (!installed.startsWith(realpathSync(app)))
    fail(`@hvkit/conformance resolves to ${installed}, not the install`);

  step("npx hvkit --help");
  const help = run("npx", ["hvkit", "--help"], { cwd: app });
  if (!help.includes("Usage: hvkit")) fail(`npx hvkit --help printed:\n${help}`);

  step("hvkit run --arch x86_64 <packed hello.elf>");
  const guests = join(installed, "guests", "x86_64");
  const hello = await runAsync(
    "npx",
    ["hvkit", "run", "--arch", "x86_64", join(guests, "bin", "hello.elf")],
    { cwd: app },
  );
  const expected = readFileSync(join(guests, "expected", "hello.txt"), "latin1");
  if (hello.status !== 0) fail(`hvkit run hello.elf exited ${hello.status}: ${hello.stderr}`);
  if (hello.stdout !== expected)
    fail(
      `hvkit run hello.elf printed ${JSON.stringify(hello.stdout)}, expected ${JSON.stringify(expected)}`,
    );

  step("hvkit conformance, installed and in the repository");
  const [mine, theirs] = await Promise.all([
    runAsync("npx", ["hvkit", "conformance", "--json", join(work, "installed.json")], {
      cwd: app,
    }),
    runAsync(
      process.execPath,
      [join(root, "cli", "dist", "main.js"), "conformance", "--json", join(work, "repo.json")],
      { cwd: root },
    ),
  ]);
  compareReports(mine, theirs, join(work, "installed.json"), join(work, "repo.json"));
} catch (e) {
  fail(e instanceof Error ? e.message : String(e));
} finally {
  if (keep) console.log(`\nkept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

function compareReports(mine, theirs, minePath, theirsPath) {
  if (!existsSync(minePath))
    return fail(
      `installed hvkit conformance wrote no report (exit ${mine.status}):\n${mine.stderr}`,
    );
  if (!existsSync(theirsPath))
    return fail(
      `the repository's hvkit conformance wrote no report (exit ${theirs.status}):\n${theirs.stderr}`,
    );
  const cells = (path) =>
    new Map(
      JSON.parse(readFileSync(path, "utf8")).entries.map((e) => [
        e.id,
        JSON.stringify([e.result, e.verdict, e.message, e.log]),
      ]),
    );
  const a = cells(minePath);
  const b = cells(theirsPath);
  const differ = [...new Set([...a.keys(), ...b.keys()])].filter((id) => a.get(id) !== b.get(id));
  for (const id of differ.slice(0, 10))
    fail(`cell ${id}: installed ${a.get(id) ?? "absent"}, repository ${b.get(id) ?? "absent"}`);
  if (differ.length > 10) fail(`... and ${differ.length - 10} more cells differ`);
  if (mine.status !== theirs.status)
    fail(`hvkit conformance exited ${mine.status} installed, ${theirs.status} in the repository`);
  const summary = mine.stdout
    .trim()
    .split("\n")
    .find((l) => / cells: /.test(l));
  console.log(
    `  ${a.size} cells, the same as the repository's${differ.length ? " except the above" : ""}: ${summary ?? "?"}`,
  );
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (problems.length > 0) {
  console.error(`\npack-install: ${problems.length} problem(s) after ${seconds}s:`);
  for (const p of problems) console.error(`  - ${p}`);
  process.exitCode = 1;
} else
  console.log(
    `\npack-install: every package packs, installs and runs as in the repository (${seconds}s)`,
  );
