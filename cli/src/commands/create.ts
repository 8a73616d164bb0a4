/**
 * `hvkit create`: `xl create -c` for hvkit. Reads an xl config (`@hvkit/guests`'
 * `parseXlConfig` and `xlDomainConfig`: xl's syntax and its reading of the keys), builds
 * the domain it describes as a domU under the built-in dom0 and runs it with its console
 * on stdout, carrying out the config's shutdown actions.
 *
 * @module
 */
import type { DependencyContainer } from "tsyringe";
import {
  DomainMemoryError,
  ImageError,
  MAX_MEMORY_MIB,
  parseElf,
  type ArchPlugin,
  type ArchRegistry,
} from "@hvkit/core";
import { parseXlConfig, XlConfigError, xlDomainConfig } from "@hvkit/guests";
import { DEFAULT_MAX_INSTRUCTIONS, machineMemoryForDomU, runGuest } from "@hvkit/runner";
import type { CliIo } from "../cli-io.js";
import { IMAGE_FILE, readFileArgument, XL_CONFIG_FILE } from "../file-arguments.js";
import { userKernelCache } from "../kernel-cache.js";
import { knownName } from "../options.js";
import { observeRun } from "../observe-run.js";
import type { TraceKind } from "../trace.js";
import { UsageError } from "../usage-error.js";
import { bootFailure, consoleInput, runExitStatus } from "./run.js";

/** Options of `hvkit create`, as parsed. */
export interface CreateCommandOptions {
  /** Arch name (default: the one registered arch that boots the kernel's ELF machine). */
  readonly arch?: string;
  /** Instruction budget. */
  readonly maxInstructions?: number;
  /** Stop (exit 0) once the console output matches this. */
  readonly until?: RegExp;
  /** What to trace on stderr: hypercalls, exits, instructions. */
  readonly trace?: ReadonlySet<TraceKind>;
  /** Print the run's statistics on stderr at its end. */
  readonly stats?: boolean;
  /** Print where the run's instructions ran (interpreted, compiled) on stderr at its end. */
  readonly profile?: boolean;
  /** Text typed at the domain's console (`@file`: a file's bytes), queued before it starts. */
  readonly consoleInput?: string;
  /** A file (`-`: stdin) read whole and typed at the console after `consoleInput`. */
  readonly consoleInputFile?: string;
}

/**
 * Runs `hvkit create` of `configPath` with `settings` (`key=value` statements from the
 * command line, which override the file's, as xl's); returns the exit status (as
 * `hvkit run`'s). Every problem of the
 * config, including a kernel or ramdisk it names that cannot be read or booted and a
 * memory size the domain cannot have, is thrown as an {@link XlConfigError} with the file
 * and the line of the key at fault (the program prints it as a usage error, exit 2).
 */
export async function createCommand(
  io: CliIo,
  root: DependencyContainer,
  arches: ArchRegistry,
  configPath: string,
  settings: readonly string[],
  options: CreateCommandOptions,
): Promise<number> {
  for (const setting of settings) {
    // xl takes every argument after the config that has an `=` as a setting (main_create).
    if (!setting.includes("="))
      throw new UsageError(`"${setting}" is not a setting: after the config, give key=value`);
  }
  const text = new TextDecoder().decode(readFileArgument(configPath, XL_CONFIG_FILE));
  const cfg = parseXlConfig(text, configPath, settings);
  const domain = xlDomainConfig(cfg);
  const err = (line: string) => void io.stderr.write(line + "\n");
  for (const w of domain.warnings) err(`hvkit: ${w}`);
  /** The config's problem with `key` (at the line it was set on, if it was). */
  const refusal = (key: string, message: string): XlConfigError =>
    new XlConfigError(cfg.source, [{ line: domain.lines[key] ?? null, message }]);
  if (domain.type !== "pv") {
    throw refusal(
      domain.lines.type !== undefined ? "type" : "builder",
      `${domain.type === "hvm" ? "an HVM" : "a PVH"} domain: hvkit creates PV domains only (type = "pv")`,
    );
  }
  // As xl: the paths go to libxl as written, so a relative one is relative to the
  // current folder, not to the config's.
  const kernelPath = domain.kernel!;
  const kernel = await kernelFile(readConfigFile(kernelPath, "kernel", refusal), (message) =>
    refusal("kernel", `kernel ${kernelPath}: ${message}`),
  );
  const ramdisk =
    domain.ramdisk === null ? null : readConfigFile(domain.ramdisk, "ramdisk", refusal);
  const plugin = chooseArch(arches, options.arch, kernel, (message) =>
    refusal("kernel", `kernel ${kernelPath}: ${message}`),
  );
  if (!plugin.modes.includes("pv")) {
    throw new UsageError(
      `arch ${plugin.name} does not implement PV guests (it offers ${plugin.modes.join(", ")})`,
    );
  }
  const machineMiB = machineMemoryForDomU(domain.memoryMiB);
  const machineLimit = Math.min(plugin.maxMemoryMiB ?? MAX_MEMORY_MIB, MAX_MEMORY_MIB);
  if (machineMiB > machineLimit) {
    throw refusal(
      "memory",
      `memory = ${domain.memoryMiB}: the machine would need ${machineMiB} MiB ` +
        `(with libxl's 1 MiB over it and the hypervisor's own frames), more than arch ` +
        `${plugin.name}'s ${machineLimit} MiB`,
    );
  }
  const input = consoleInput(options);
  const budget = options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
  const watch = observeRun(root, plugin, options, err);
  let run;
  try {
    run = runGuest(watch.container, {
      arch: watch.arch,
      mode: "pv",
      image: kernel,
      cmdline: domain.cmdline,
      ...(ramdisk !== null ? { ramdisk } : {}),
      role: "domU",
      name: domain.name,
      vcpus: domain.maxVcpus,
      onlineVcpus: domain.vcpus,
      domainMemoryMiB: domain.memoryMiB,
      domainMaxMemoryMiB: domain.maxMemoryMiB,
      maxEventChannels: domain.maxEventChannels,
      onShutdown: domain.onShutdown,
      ...(input !== null ? { consoleInput: input } : {}),
      ...(options.until !== undefined ? { until: options.until } : {}),
      maxInstructions: budget,
      onGuestOutput: (bytes) => void io.stdout.write(bytes),
      onHypervisorMessage: (msg) => {
        for (const line of msg.split("\n")) err(`(hvkit) ${line}`);
      },
    });
  } catch (e) {
    if (e instanceof DomainMemoryError) {
      throw refusal(
        "memory",
        `memory = ${domain.memoryMiB} is too small for kernel ${kernelPath}` +
          `${domain.ramdisk === null ? "" : ` and ramdisk ${domain.ramdisk}`}: ${e.where}: ${e.detail}`,
      );
    }
    if (e instanceof ImageError)
      throw refusal("kernel", `bad kernel ${kernelPath}: ${e.where}: ${e.detail}`);
    throw bootFailure(e);
  }
  const status = runExitStatus(err, run, budget, options.until);
  watch.finish(run.instructions);
  return status;
}

/**
 * The ELF kernel in `file`, a bzImage's decompressed (or kept from an earlier run, see
 * {@link userKernelCache}); a bad bzImage is refused with `refuse`.
 */
async function kernelFile(
  file: Uint8Array,
  refuse: (message: string) => Error,
): Promise<Uint8Array> {
  try {
    return await userKernelCache().load(file);
  } catch (e) {
    if (e instanceof ImageError) throw refuse(`bad image: ${e.where}: ${e.detail}`);
    throw e;
  }
}

/** Reads a file the config names under `key`; one that cannot be read is the config's problem. */
function readConfigFile(
  path: string,
  key: string,
  refusal: (key: string, message: string) => XlConfigError,
): Uint8Array {
  try {
    return readFileArgument(path, { ...IMAGE_FILE, what: key });
  } catch (e) {
    if (e instanceof UsageError) throw refusal(key, e.message);
    throw e;
  }
}

/**
 * The arch to run `kernel` on: `--arch` when given, else the one registered arch whose
 * ELF machine and class the kernel has.
 */
function chooseArch(
  arches: ArchRegistry,
  name: string | undefined,
  kernel: Uint8Array,
  refuse: (message: string) => Error,
): ArchPlugin {
  if (name !== undefined) return arches.get(knownName("arch", name, arches.names()));
  let machine: number;
  let elfClass: 32 | 64;
  try {
    const image = parseElf(kernel);
    machine = image.header.machine;
    elfClass = image.elfClass;
  } catch (e) {
    if (e instanceof ImageError) throw refuse(`bad image: ${e.where}: ${e.detail}`);
    throw e;
  }
  const fits = arches
    .all()
    .filter((a) => a.elfMachines.includes(machine) && a.elfClasses.includes(elfClass));
  if (fits.length === 1) return fits[0];
  const which = `ELF${elfClass} machine ${machine}`;
  if (fits.length === 0) {
    throw refuse(`no registered arch boots ${which} images (arches: ${arches.names().join(", ")})`);
  }
  throw refuse(
    `arches ${fits.map((a) => a.name).join(", ")} all boot ${which} images; choose one with --arch`,
  );
}
