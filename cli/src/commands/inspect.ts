/**
 * `hvkit inspect`: what the loader sees in an image — ELF header, segments, Xen notes.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import * as core from "@hvkit/core";
import { ImageError } from "@hvkit/core";
import type { CliIo } from "../cli-io.js";
import { ExitStatus } from "../exit-status.js";
import { UsageError, describeReadError } from "./run.js";

/** The loader API this command uses (core/src/elf.ts). */
interface ElfDescribeApi {
  parseElf(bytes: Uint8Array): unknown;
  describeImage(image: unknown): string | readonly string[];
}

/** Runs `hvkit inspect`; returns the exit status. */
export function inspectCommand(io: CliIo, imagePath: string): number {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(imagePath));
  } catch (e) {
    throw new UsageError(`cannot read image ${imagePath}: ${describeReadError(e)}`);
  }
  const api = core as unknown as Partial<ElfDescribeApi>;
  if (typeof api.parseElf !== "function" || typeof api.describeImage !== "function") {
    throw new UsageError(
      "this build cannot inspect images yet: @hvkit/core has no parseElf/describeImage",
    );
  }
  try {
    const text = api.describeImage(api.parseElf(bytes));
    const lines = typeof text === "string" ? text.replace(/\n$/, "") : text.join("\n");
    io.stdout.write(`${imagePath}:\n${lines}\n`);
  } catch (e) {
    if (e instanceof ImageError)
      throw new UsageError(`bad image ${imagePath}: ${e.where}: ${e.detail}`);
    throw e;
  }
  return ExitStatus.OK;
}
