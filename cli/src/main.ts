#!/usr/bin/env node
/**
 * The `hvkit` executable: runs the command line with the process's streams.
 *
 * @module
 */
import "reflect-metadata";
import { runCli } from "./program.js";

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
});
