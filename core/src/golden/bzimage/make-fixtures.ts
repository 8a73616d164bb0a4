/**
 * Writes the compressed fixtures of the bzImage tests from {@link fixtureKernel}, with the
 * xz and zstd command-line tools, as Linux's build compresses an x86 kernel
 * (scripts/xz_wrap.sh: CRC32 check, the x86 BCJ filter, LZMA2). Run from the repository
 * root:
 *
 *     TSX_TSCONFIG_PATH=tsconfig.base.json node --conditions=source --import tsx \
 *       core/src/golden/bzimage/make-fixtures.ts
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fixtureKernel } from "./fixture-kernel.js";

const elf = fixtureKernel();
const here = (name: string): URL => new URL(`./${name}`, import.meta.url);
const run = (tool: string, args: string[]): Buffer => execFileSync(tool, args, { input: elf });

// Linux's x86 payload: BCJ then LZMA2, CRC32.
writeFileSync(here("kernel.xz"), run("xz", ["-c", "--check=crc32", "--x86", "--lzma2=dict=1MiB"]));
// Several blocks, each with its own BCJ state; CRC64 checks.
writeFileSync(
  here("kernel-blocks.xz"),
  run("xz", ["-c", "--check=crc64", "--block-size=12KiB", "--x86", "--lzma2=dict=1MiB"]),
);
// No BCJ filter; SHA-256 checks.
writeFileSync(here("kernel-plain.xz"), run("xz", ["-c", "--check=sha256", "--lzma2=dict=1MiB"]));
// A filter chain hvkit does not undo (Delta before LZMA2).
writeFileSync(here("kernel-delta.xz"), run("xz", ["-c", "--delta=dist=4", "--lzma2=dict=1MiB"]));
writeFileSync(here("kernel.zst"), run("zstd", ["-c", "-19", "--no-progress"]));
