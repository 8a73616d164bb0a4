#!/usr/bin/env node
/**
 * The `hvkit` executable: runs the command line with the process's streams.
 *
 * @module
 */
import "reflect-metadata";
import { runCli } from "./program.js";

// `npm run hvkit -- ...` runs in the repository root; paths the user typed are relative to
// the folder npm was started in.
if (process.env.npm_lifecycle_event !== undefined && process.env.INIT_CWD)
  process.chdir(process.env.INIT_CWD);

// A reader that stops early (`hvkit run guest.elf | head`) is not an error of hvkit's.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    process.exit(process.exitCode ?? 0);
  });
}

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
