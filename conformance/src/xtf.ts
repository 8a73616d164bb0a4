/**
 * Real Xen Test Framework images as conformance tests. A user builds XTF elsewhere and
 * points `hvkit conformance --xtf DIR` at the build (or any folder of images); every file
 * named `test-<env>-<name>` becomes one test of the `xtf` guest set, run in the cells of
 * the arch and mode its environment names. The test's result is the `Test result:` line
 * the image prints, exactly as XTF's own runner reads it; no images are ever part of this
 * repository. An image whose environment no registered arch plugin offers (today every
 * `pv32pae` and `hvm*` one) is not dropped: the matrix lists its cells as UNSUPPORTED,
 * saying which arch and mode it needs.
 *
 * xl configs: XTF's build writes an xl config beside each image (`<image>.cfg`), and
 * xtf-runner starts every test with `xl create` of it. hvkit reads that config with the
 * same parser and reading of the keys as `hvkit create` (`parseXlConfig`,
 * `xlDomainConfig`), so a test runs with its config's vCPUs (`vcpus`, `maxvcpus`),
 * command line, memory and `maxmem`, event channels (`max_event_channels`), name and
 * shutdown actions. One exception: the image
 * is always the file the config sits beside, not the config's `kernel`, which is where
 * `make install` would put the image (XTF's `xtfdir`), a place a build tree need not have.
 * A config xl would refuse makes its test an ERROR with xl's messages; an image without a
 * config runs with libxl's defaults.
 *
 * Roles: XTF's runner always starts an image as a domU, and an image detects whether it
 * is the initial domain (SIF_INITDOMAIN) and writes through console_io or its PV console
 * ring accordingly, so every image runs in both the `dom0` and the `domU` cell of its
 * environment (narrowed with `--role`). The domU cell is the one xtf-runner's run matches;
 * in the dom0 cell the config's command line and vCPUs apply, the rest (what xl tells the
 * toolstack) does not.
 *
 * Variations: a test with variations is built once and run once per variation, each from
 * its own xl config `test-<env>-<name>~<variation>.cfg`, whose `cmdline=` the image reads
 * (pv-iopl runs as `hypercall` and as `vmassist`; with no command line it reports ERROR
 * under real Xen too). Each variation is its own test, `<env>-<name>~<variation>`.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { GuestMode } from "@hvkit/core";
import { ShutdownReason } from "@hvkit/core";
import { parseXlConfig, XlConfigError, xlDomainConfig, type XlDomainConfig } from "@hvkit/guests";
import type { CellBootOptions, ConformanceTest, GuestRole } from "./conformance-test.js";
import { parseXtfResult } from "./result.js";

/** The guest-set name XTF images run under. */
export const XTF_GUEST_SET = "xtf";

/** An XTF environment: the arch/mode cell its images run in, and what kind of guest it is. */
export interface XtfEnvironment {
  /** Arch name of the cells. */
  readonly arch: string;
  /** Guest mode of the cells. */
  readonly mode: GuestMode;
  /** The guest, in XTF's words (`32-bit PAE PV`). */
  readonly guest: string;
}

/**
 * XTF's environments and the arch/mode cells they run in (XTF's `docs/environments`:
 * `pv64` a 64-bit PV guest, `pv32pae` a 32-bit PAE PV guest, `hvm64` a long-mode HVM
 * guest, `hvm32pae`/`hvm32pse`/`hvm32` 32-bit HVM guests with PAE, PSE or no paging).
 * Every image appears in the matrix: where no registered arch plugin offers its
 * environment's arch and mode, its cells are UNSUPPORTED with the reason.
 */
export const XTF_ENVIRONMENTS: Readonly<Record<string, XtfEnvironment>> = {
  pv64: { arch: "x86_64", mode: "pv", guest: "64-bit PV" },
  pv32pae: { arch: "x86", mode: "pv", guest: "32-bit PAE PV" },
  hvm64: { arch: "x86_64", mode: "hvm-vmx", guest: "64-bit HVM" },
  hvm32pae: { arch: "x86", mode: "hvm-vmx", guest: "32-bit PAE-paging HVM" },
  hvm32pse: { arch: "x86", mode: "hvm-vmx", guest: "32-bit PSE-paging HVM" },
  hvm32: { arch: "x86", mode: "hvm-vmx", guest: "32-bit unpaged HVM" },
};

/** One XTF image found on disk. */
export interface XtfImage {
  /** Environment (`pv64`, ...). */
  readonly env: string;
  /** Test name (`example`, `selftest`, ...). */
  readonly name: string;
  /** File path. */
  readonly path: string;
  /** The xl config it runs with: `<path>.cfg`, or `<path>~<variation>.cfg` for a variation. */
  readonly cfg: string;
  /**
   * The domain its xl config describes, or null when there is no config (libxl's
   * defaults then) or it cannot be used (see `configError`).
   */
  readonly config: XlDomainConfig | null;
  /** Why the config cannot be used (xl's messages, one a line), or null. */
  readonly configError: string | null;
}

const IMAGE_NAME = /^test-([a-z0-9]+)-([A-Za-z0-9_-]+)$/;

/**
 * Reads a file found in the XTF folder, an image or an xl config, whole. The `hvkit`
 * command passes its own, which refuses anything but a regular file of bounded size; the
 * default reads the file as it is.
 */
export type XtfFileReader = (path: string, kind: "image" | "xl config") => Uint8Array;

const readWhole: XtfFileReader = (path) => new Uint8Array(readFileSync(path));

/**
 * Finds XTF images under `dir` (its own files and, as an XTF build tree has them, those
 * one and two levels down, e.g. `tests/example/test-pv64-example`), sorted by name.
 * Files whose `<env>` is none of XTF's environments are not XTF images and are left out.
 * xl configs are read with `read`.
 */
export function findXtfImages(dir: string, read: XtfFileReader = readWhole): XtfImage[] {
  const found = new Map<string, XtfImage>();
  const walk = (d: string, depth: number): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) {
        if (depth < 2 && !entry.name.startsWith(".")) walk(path, depth + 1);
        continue;
      }
      const m = IMAGE_NAME.exec(entry.name);
      if (!m || !(m[1] in XTF_ENVIRONMENTS) || !statSync(path).isFile()) continue;
      const variations = readdirSync(d)
        .map((f) =>
          f.startsWith(`${entry.name}~`) && f.endsWith(".cfg")
            ? f.slice(entry.name.length + 1, -4)
            : "",
        )
        .filter((v) => /^[A-Za-z0-9_-]+$/.test(v));
      if (variations.length === 0) variations.push("");
      for (const v of variations) {
        const key = v === "" ? entry.name : `${entry.name}~${v}`;
        const cfg = `${path}${v === "" ? "" : `~${v}`}.cfg`;
        const name = v === "" ? m[2] : `${m[2]}~${v}`;
        if (!found.has(key))
          found.set(key, { env: m[1], name, path, cfg, ...xtfConfig(cfg, read) });
      }
    }
  };
  walk(dir, 0);
  return [...found.values()].sort((a, b) =>
    `${a.env}-${a.name}`.localeCompare(`${b.env}-${b.name}`),
  );
}

/** The roles every XTF image runs in: as the initial domain, and as XTF's own default, a domU. */
export const XTF_ROLES: readonly GuestRole[] = ["dom0", "domU"];

/** Instruction budget for one XTF image (XTF tests are short; a hang ends as an ERROR). */
export const XTF_MAX_INSTRUCTIONS = 500_000_000;

/**
 * The domain the xl config `cfgPath` describes, read with `read` and parsed as
 * `hvkit create` parses one; `config` null when the file does not exist.
 */
export function xtfConfig(
  cfgPath: string,
  read: XtfFileReader = readWhole,
): Pick<XtfImage, "config" | "configError"> {
  if (!existsSync(cfgPath)) return { config: null, configError: null };
  const text = new TextDecoder().decode(read(cfgPath, "xl config"));
  try {
    return { config: xlDomainConfig(parseXlConfig(text, cfgPath)), configError: null };
  } catch (e) {
    if (e instanceof XlConfigError) return { config: null, configError: e.message };
    throw e;
  }
}

/** The boot options of an image's xl config, as `hvkit create` passes them on. */
function bootOptions(config: XlDomainConfig | null): CellBootOptions {
  if (config === null) return {};
  return {
    name: config.name,
    cmdline: config.cmdline,
    vcpus: config.maxVcpus,
    onlineVcpus: config.vcpus,
    maxEventChannels: config.maxEventChannels,
    domainMemoryMiB: config.memoryMiB,
    domainMaxMemoryMiB: config.maxMemoryMiB,
    onShutdown: config.onShutdown,
  };
}

/** Makes one conformance test per image; its image and xl config are read with `read`. */
export function xtfTests(
  images: readonly XtfImage[],
  read: XtfFileReader = readWhole,
): ConformanceTest[] {
  return images.map((image): ConformanceTest => {
    const env = XTF_ENVIRONMENTS[image.env];
    const cmdline = image.config?.cmdline ?? "";
    return {
      area: "xtf",
      name: `${image.env}-${image.name}`,
      description: `XTF test-${image.env}-${image.name} (environment ${image.env}: ${env.guest}, arch ${env.arch} mode ${env.mode})${cmdline === "" ? "" : ` with cmdline "${cmdline}"`} prints "Test result: SUCCESS" (or SKIP) as under real Xen`,
      requires: {
        arches: [env.arch],
        modes: [env.mode],
        guests: [XTF_GUEST_SET],
        roles: XTF_ROLES,
      },
      run(ctx) {
        if (image.configError !== null) {
          for (const line of image.configError.split("\n")) ctx.log(line);
          return { result: "ERROR", message: `xl would refuse ${image.cfg}` };
        }
        for (const line of image.config?.warnings ?? []) ctx.log(line);
        const run = ctx.boot(read(image.path, "image"), {
          maxInstructions: XTF_MAX_INSTRUCTIONS,
          ...bootOptions(image.config),
        });
        for (const line of run.console.split("\n").slice(-8)) if (line !== "") ctx.log(line);
        for (const line of run.hypervisorMessages.slice(-8)) ctx.log(`(hvkit) ${line}`);
        const result = parseXtfResult(run.console);
        if (result !== null) return { result, message: `Test result: ${result}` };
        const how =
          run.end === "budget-exhausted"
            ? `no result after ${run.instructions} instructions`
            : run.shutdownReason !== null
              ? `no result line; domain shut down (${ShutdownReason[run.shutdownReason]})`
              : `no result line; run ended: ${run.end}`;
        return { result: "ERROR", message: how };
      },
    };
  });
}
