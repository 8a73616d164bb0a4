#!/usr/bin/env node
// The `hvkit` command's launcher (the package's `bin`).
//
// In a clone of the repository (the TypeScript sources, the workspace's tsconfig and tsx
// are all present) it runs the sources exactly as `npm run hvkit` does, so `npx hvkit`
// works right after `npm install` and is never older than the code. Everywhere else (an
// installed package ships no sources) it runs the built `dist/main.js`.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

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

const loader = existsSync(sources) && existsSync(tsconfig) ? tsxLoader() : undefined;

if (loader !== undefined) {
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", loader, sources, ...process.argv.slice(2)],
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
  await import(built.href);
} else {
  process.stderr.write(
    "hvkit: neither the built command (dist/main.js) nor the TypeScript sources with tsx " +
      "are available; run `npm run build`, or `npm install` in the repository\n",
  );
  process.exitCode = 70;
}
