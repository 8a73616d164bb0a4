#!/usr/bin/env node
// The `hvkit` command's launcher (the package's `bin`).
//
// In a clone of the repository (the TypeScript sources, the workspace's tsconfig and tsx
// are all present) it runs the sources exactly as `npm run hvkit` does, so `npx hvkit`
// works right after `npm install` and is never older than the code; but when every
// package's build (`npm run build`) is newer than all of that package's sources, it runs
// the build, which starts in a fraction of the time tsx takes to load the sources.
// Everywhere else (an installed package ships no sources) it runs the built `dist/main.js`.
//
// Node runs without V8's compilation cache (--no-compilation-cache): the x86 block compiler
// builds each compiled block from source (`new Function`), and the cache kept the blocks
// the compiler had dropped alive through ordinary garbage collections, so a Linux boot's
// heap grew with every block ever compiled (peak RSS 930-980 MiB with the cache, 562 without,
// to /init in a 256 MiB domU). hvkit loads each of its own modules once, which the cache
// would not speed up. It also exposes V8's collector (--expose-gc): when the block cache
// evicts blocks it collects them at once, so peak memory follows the cache's budget.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

const NODE_FLAGS = ["--no-compilation-cache", "--expose-gc"];

const sources = fileURLToPath(new URL("../src/main.ts", import.meta.url));
const tsconfig = fileURLToPath(new URL("../../tsconfig.base.json", import.meta.url));
const built = new URL("../dist/main.js", import.meta.url);

/** tsx's loader, when the workspace has it installed (a development dependency). */
function tsxLoader() {
  try {
    return import.meta.resolve("tsx");
  } catch {
    return undefined;
  }
}

/** Whether any file under `dir` was modified after `time` (ms since the epoch). */
function changedSince(dir, time) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() ? changedSince(path, time) : statSync(path).mtimeMs > time) return true;
  }
  return false;
}

/**
 * Whether each package of the workspace (a folder with a package.json and a src/) has a
 * build (dist/index.js) newer than every file of its src/: then the build is the code.
 */
function buildIsCurrent() {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  try {
    for (const dir of readdirSync(root)) {
      const src = join(root, dir, "src");
      if (!existsSync(join(root, dir, "package.json")) || !existsSync(src)) continue;
      const index = join(root, dir, "dist", "index.js");
      if (!existsSync(index) || changedSince(src, statSync(index).mtimeMs)) return false;
    }
    return existsSync(fileURLToPath(built));
  } catch {
    return false;
  }
}

const loader =
  existsSync(sources) && existsSync(tsconfig) && !buildIsCurrent() ? tsxLoader() : undefined;

if (loader !== undefined) {
  const child = spawn(
    process.execPath,
    [...NODE_FLAGS, "--conditions=source", "--import", loader, sources, ...process.argv.slice(2)],
    { stdio: "inherit", env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig } },
  );
  // The child shares the terminal, so it sees Ctrl-C itself; a signal sent to this
  // process alone is passed on. Either way the child decides how hvkit ends.
  const forward = (signal) => child.kill(signal);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, forward);
  child.on("error", (e) => {
    process.stderr.write(`hvkit: cannot start node for the sources: ${e.message}\n`);
    process.exitCode = 70;
  });
  child.on("exit", (code, signal) => {
    if (signal !== null) {
      for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.off(s, forward);
      process.kill(process.pid, signal);
    } else process.exitCode = code ?? 70;
  });
} else if (existsSync(fileURLToPath(built))) {
  for (const flag of NODE_FLAGS) setFlagsFromString(flag);
  // A flag set now does not define gc in this context; a new context has it.
  globalThis.gc ??= runInNewContext("gc");
  await import(built.href);
} else {
  process.stderr.write(
    "hvkit: neither the built command (dist/main.js) nor the TypeScript sources with tsx " +
      "are available; run `npm run build`, or `npm install` in the repository\n",
  );
  process.exitCode = 70;
}
