/**
 * The `hvkit` command line: commands, options, help texts and exit statuses, parsed by
 * commander. Usage errors exit 2; see {@link EXIT_STATUS_HELP}.
 *
 * @module
 */
import { Command, CommanderError, Option } from "commander";
import type { DependencyContainer } from "tsyringe";
import { GUEST_SETS, ROLES, XTF_GUEST_SET } from "@hvkit/conformance";
import { DEFAULT_MAX_INSTRUCTIONS, DEFAULT_MEMORY_MIB, UNTIL_WINDOW } from "@hvkit/runner";
import { XlConfigError } from "@hvkit/guests";
import {
  ALL_GUEST_MODES,
  ARCH_REGISTRY,
  GUEST_ADAPTER_REGISTRY,
  MAX_MEMORY_MIB,
} from "@hvkit/core";
import type { CliIo } from "./cli-io.js";
import { discoverRootContainer } from "./composition.js";
import { PluginError, pluginArguments } from "./plugins.js";
import { EXIT_STATUS_HELP, ExitStatus } from "./exit-status.js";
import { CONSOLE_INPUT_FILE, IMAGE_FILE, XL_CONFIG_FILE, type FileKind } from "./file-arguments.js";
import {
  MAX_COUNT,
  parseCount,
  parseList,
  parseMemoryMiB,
  parseRunRole,
  parseUntilPattern,
  parseVcpus,
} from "./options.js";
import { conformanceCommand, type ConformanceCommandOptions } from "./commands/conformance.js";
import { createCommand, type CreateCommandOptions } from "./commands/create.js";
import { inspectCommand } from "./commands/inspect.js";
import { runCommand, type RunCommandOptions } from "./commands/run.js";
import { newArchCommand, type NewArchOptions } from "./commands/new-arch.js";
import { newGuestCommand, type NewGuestOptions } from "./commands/new-guest.js";
import { bareTraceMeansAll, parseTraceKinds } from "./trace.js";
import { UsageError } from "./usage-error.js";

/** The command's name. */
export const COMMAND_NAME = "hvkit";

/** The version printed by `--version`. */
export const VERSION = "0.0.0";

/** A file kind's limit as help texts print it ("256 MiB"). */
function mib(kind: FileKind): string {
  return `${kind.maxBytes / (1024 * 1024)} MiB`;
}

/** commander's accumulator for the repeatable `--plugin` (read again by {@link runCli}). */
function collectPlugin(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--plugin <package>`, repeatable (commands that load plugins). */
function pluginOption(): Option {
  return new Option(
    "--plugin <package>",
    "load an hvkit plugin package outside the ones found (a folder, or an installed package\n" +
      "name); repeatable",
  ).argParser(collectPlugin);
}

/** `--max-instructions <N>` (commands that run a guest). */
function budgetOption(): Option {
  return new Option(
    "--max-instructions <N>",
    `instruction budget; 124 when it runs out (default ${DEFAULT_MAX_INSTRUCTIONS}, ` +
      `at most ${MAX_COUNT}; k/M/G suffixes)`,
  ).argParser(parseCount);
}

/** `--trace[=<what>]` (commands that run a guest). */
function traceOption(): Option {
  return new Option(
    "--trace [what]",
    "print to stderr what the guest does, one [trace] line each; what, given with = " +
      "(--trace=hypercalls), is all (the default) or a comma-separated list of: " +
      "hypercalls (each call by Xen's names, with its sub-operation, arguments and result, " +
      "e.g. -ENOSYS), exits (idle and fatal), instructions (each one with its address, " +
      "bytes and disassembly, before it executes)",
  ).argParser(parseTraceKinds);
}

/** Makes `command` read a bare `--trace` as `--trace=all` ({@link bareTraceMeansAll}). */
function bareTraceMeansAllIn(command: Command): void {
  const parseOptions = command.parseOptions.bind(command);
  command.parseOptions = (args) => parseOptions(bareTraceMeansAll(args));
}

/** `--stats` (commands that run a guest). */
function statsOption(): Option {
  return new Option(
    "--stats",
    'at the end, print to stderr ("(hvkit)" lines) the instructions, wall time, MIPS and ' +
      "the process's peak resident memory, " +
      "the vCPU exits by cause and the hypercalls by call and sub-operation with their " +
      "failures by errno",
  );
}

/** `--until <pattern>` (commands that run a guest). */
function untilOption(): Option {
  return new Option(
    "--until <pattern>",
    "stop the run, exit 0, once the guest's console output matches this JavaScript " +
      `regular expression (e.g. 'login:'; tested on the last ${UNTIL_WINDOW / 1024} KiB written); exit 1 ` +
      "if the guest shuts down cleanly without printing it",
  ).argParser(parseUntilPattern);
}

/** `--profile` (commands that run a guest). */
function profileOption(): Option {
  return new Option(
    "--profile",
    'at the end, print to stderr ("(hvkit)" lines) where the instructions ran: ' +
      "interpreted against compiled, blocks compiled, block exits by cause, and the " +
      "operations that ended blocks or ran interpreted, most counted first",
  );
}

function buildProgram(
  io: CliIo,
  root: DependencyContainer,
  setStatus: (status: number) => void,
): Command {
  const arches = root.resolve(ARCH_REGISTRY);
  const archNames = arches.names().join(", ");
  const guestAdapters = root.resolve(GUEST_ADAPTER_REGISTRY).names();
  const program = new Command(COMMAND_NAME);
  program
    .description(
      "hvkit: a porting kit and conformance suite for a Xen-style hypervisor. " +
        "Boots guest kernels on per-ISA interpreters behind Xen's real public ABI.\n\n" +
        'Messages about guests and the hypervisor go to stderr prefixed "(hvkit)"; problems ' +
        'with the command line itself (exit 2) are prefixed "hvkit:". Values naming an arch, ' +
        "mode, role or guest set may be given in any case.",
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: (s, write) => write(s.startsWith("error:") ? `${COMMAND_NAME}: ${s}` : s),
    })
    .showHelpAfterError(`(run "${COMMAND_NAME} --help" for usage)`)
    .addHelpText(
      "after",
      `\nExamples:\n  $ ${COMMAND_NAME} run --arch x86_64 guest.elf\n  $ ${COMMAND_NAME} create guest.cfg\n  $ ${COMMAND_NAME} inspect guest.elf\n  $ ${COMMAND_NAME} conformance --arch x86_64\n\n${EXIT_STATUS_HELP}\n`,
    );

  program
    .command("run")
    .summary("boot an image as the initial domain (or a domU) and run it")
    .description(
      "Boot <image> as the initial domain (dom0), as Xen boots the kernel it is given, and " +
        "run it. With --role domu it boots instead as an unprivileged domU (domain 1) under " +
        "a built-in dom0; the domU's PV console ring goes to stdout and the exit status is " +
        "the domU's.\n\n" +
        "What the guest writes through console_io goes to stdout, byte for byte, as it comes. " +
        'Hypervisor messages go to stderr, prefixed "(hvkit)": a domain crash with registers ' +
        "and the faulting instruction, a console_io write refused to a domU, how the run " +
        "ended. The exit status says how the guest ended.\n\n" +
        `Only regular files are read: an image and a ramdisk of at most ${mib(IMAGE_FILE)} ` +
        `each, console input of at most ${mib(CONSOLE_INPUT_FILE)}.`,
    )
    .argument("<image>", "ELF kernel image with Xen notes, or a Linux bzImage holding one")
    .requiredOption("--arch <arch>", `arch to run (${archNames})`)
    .option(
      "--mode <mode>",
      "guest mode: pv, hvm-vmx, hvm-svm, vt-i, hv (default: the arch's first)",
    )
    .option(
      "--memory <MiB>",
      `memory in MiB, 1 to ${MAX_MEMORY_MIB}: the machine's, which dom0 gets less the ` +
        `hypervisor's frames (default ${DEFAULT_MEMORY_MIB}); with --role domu the domU's ` +
        "(xl's memory, default 32), the machine sized to fit. When the image needs more, " +
        "the error says how much",
      parseMemoryMiB,
    )
    .option(
      "--maxmem <MiB>",
      "with --role domu: the domU's maximum memory (xl's maxmem; default --memory)",
      parseMemoryMiB,
    )
    .option(
      "--ramdisk <file>",
      "initial ramdisk (boot module): after the kernel, or by frame number when the " +
        "kernel's MOD_START_PFN note asks; a domU's gzip one inflated, as libxc does",
    )
    .option("--cmdline <string>", "kernel command line (start_info.cmd_line)")
    .option(
      "--role <role>",
      "dom0 (default): the initial domain; domu: a domU under the built-in dom0",
      parseRunRole,
    )
    .option(
      "--console-input <text|@file>",
      "text (or @file's bytes, @- stdin) typed at the console: a domU's PV console, dom0's console_io input",
    )
    .option(
      "--console-input-file <path>",
      "a file (- for stdin) read whole and typed at the console after --console-input",
    )
    .option(
      "--vcpus <N>",
      "vCPUs of the domain (default 1; vCPU 0 starts, the guest brings up the rest)",
      parseVcpus,
    )
    .addOption(budgetOption())
    .addOption(untilOption())
    .addOption(traceOption())
    .addOption(statsOption())
    .addOption(profileOption())
    .addOption(pluginOption())
    .addHelpText(
      "after",
      `\nExamples:\n  $ ${COMMAND_NAME} run --arch x86_64 --cmdline "console=hvc0" guest.elf\n` +
        `  $ ${COMMAND_NAME} run --arch x86_64 --role domu --memory 256 --ramdisk initrd.img \\\n` +
        `      --cmdline console=hvc0 --until 'Run /init' --stats vmlinuz\n` +
        `  $ ${COMMAND_NAME} run --arch x86_64 --max-instructions 10M --trace guest.elf 2>trace.log\n` +
        `  $ ${COMMAND_NAME} run --arch x86_64 --trace=hypercalls --stats guest.elf\n` +
        `  $ ${COMMAND_NAME} run --arch x86_64 --role domu guest.elf\n\n${EXIT_STATUS_HELP}\n`,
    )
    .action(async (image: string, opts: RunCommandOptions) =>
      setStatus(await runCommand(io, root, arches, image, opts)),
    );

  program
    .command("create")
    .summary("build and run the domain an xl config describes, its console on stdout")
    .description(
      "Do what `xl create -c <config> [key=value ...]` does: read an xl config file " +
        "(xl.cfg(5)) with the settings given after it, build the " +
        "PV domain it describes as a domU (domain 1) under a built-in dom0, and run it with " +
        "its PV console on stdout. Hypervisor and toolstack messages go to stderr, " +
        'prefixed "(hvkit)".\n\n' +
        "The file is read as xl reads it: `key = value` statements ended by a newline or " +
        "`;`, lower-case keys, strings in single or double quotes, bare numbers (no unit: " +
        'memory is in MiB; 0x40 and 0100 are 64), lists [ "a", "b" ] that may span ' +
        "lines, # comments to the end of the line, += to extend a string or a list. The " +
        "last setting of a key counts.\n\n" +
        "Keys used: name (required), type (pv, the default; builder as xl reads it), " +
        "kernel, ramdisk (a gzip one inflated, as libxc does), cmdline (or root and " +
        "extra), memory and maxmem (MiB; each defaults to the other, both to 32), vcpus " +
        "(online at boot, default 1) and maxvcpus, max_event_channels (default 1023), " +
        "on_poweroff, on_reboot, on_watchdog and on_crash (destroy, restart or preserve; " +
        "xl's defaults: restart on reboot, destroy otherwise). Other keys are reported and " +
        "ignored. Paths are relative to the current folder, as xl leaves them, not to the " +
        "config's.\n\n" +
        "A config xl would refuse is refused with xl's messages, every bad line at once, " +
        "each as <file>:<line>: <what> (exit 2); so is one hvkit cannot carry out (an HVM " +
        "or PVH domain, a kernel it cannot read or boot, memory the domain cannot have).\n\n" +
        "Unlike xl, which exits 0 once the domain is built and detaches the console when " +
        "the domain is restarted, the exit status is the domain's fate, as for `hvkit run`, " +
        "and a restarted domain's console goes on to stdout until a shutdown without a " +
        "restart or the instruction budget ends the run.\n\n" +
        `Only regular files are read: a config of at most ${mib(XL_CONFIG_FILE)}, a kernel ` +
        `and a ramdisk of at most ${mib(IMAGE_FILE)} each, console input of at most ` +
        `${mib(CONSOLE_INPUT_FILE)}.`,
    )
    .argument("<config>", "xl config file")
    .argument(
      "[settings...]",
      "key=value settings appended to the config, as xl create takes them (they override the " +
        "file's: memory=128 'extra=\"quiet\"')",
    )
    .option(
      "--arch <arch>",
      `arch to run (${archNames}; default: the one whose ELF machine the kernel has)`,
    )
    .option("-c", "accepted for xl's sake: the console is always attached")
    .option(
      "--console-input <text|@file>",
      "text (or @file's bytes, @- stdin) typed at the domain's console (queued before it starts)",
    )
    .option(
      "--console-input-file <path>",
      "a file (- for stdin) read whole and typed at the domain's console",
    )
    .addOption(budgetOption())
    .addOption(untilOption())
    .addOption(traceOption())
    .addOption(statsOption())
    .addOption(profileOption())
    .addOption(pluginOption())
    .addHelpText(
      "after",
      `\nExample config (guest.cfg):\n` +
        `  # a PV guest with two vCPUs\n` +
        `  name = "guest"\n` +
        `  type = "pv"\n` +
        `  kernel = "guest.elf"       # from the current folder\n` +
        `  ramdisk = "initrd.img"\n` +
        `  extra = "console=hvc0"\n` +
        `  memory = 64                # MiB\n` +
        `  maxmem = 128\n` +
        `  vcpus = 2\n` +
        `  on_crash = "preserve"      # leave a crashed domain for inspection\n\n` +
        `A bad config, and what hvkit says:\n` +
        `  memory = 64M\n` +
        `  hvkit: guest.cfg:1: config parsing error near \`M': lexical error (a number has no unit suffix)\n\n` +
        `Examples:\n  $ ${COMMAND_NAME} create guest.cfg\n` +
        `  $ ${COMMAND_NAME} create guest.cfg memory=128 'extra="console=hvc0 quiet"'\n` +
        `  $ ${COMMAND_NAME} create --max-instructions 1G --console-input-file keys.txt guest.cfg\n` +
        `  $ ${COMMAND_NAME} create --trace=hypercalls --stats guest.cfg 2>trace.log\n\n` +
        `${EXIT_STATUS_HELP}\n`,
    )
    .action(async (config: string, settings: string[], opts: CreateCommandOptions) =>
      setStatus(await createCommand(io, root, arches, config, settings, opts)),
    );

  program
    .command("inspect")
    .summary("print an image's ELF header, segments and Xen notes")
    .description(
      "Print what the loader sees in <image>: ELF header summary, loadable segments and " +
        "decoded Xen notes; for a Linux bzImage, its boot protocol and compressed payload " +
        "first, then the ELF kernel inside. " +
        `The image must be a regular file of at most ${mib(IMAGE_FILE)}.`,
    )
    .argument("<image>", "ELF kernel image, or a Linux bzImage")
    .addHelpText(
      "after",
      `\nExample:\n  $ ${COMMAND_NAME} inspect guest.elf\n\nExit status:\n  0    the image was read and described\n  2    unreadable or malformed image (stderr says what and where)\n`,
    )
    .action(async (image: string) => setStatus(await inspectCommand(io, image, arches)));

  program
    .command("conformance")
    .summary("run the conformance suite and print the matrix")
    .description(
      "Run the conformance suite over arch × mode × guest × role × test and print the " +
        "matrix. Each cell runs in a fresh machine. Results use XTF's lattice (SUCCESS < " +
        "SKIP < ERROR < FAILURE) plus UNSUPPORTED for cells declined by design. Cells listed " +
        "in the baseline as expected failures or flakes do not fail the run.\n\n" +
        "Progress goes to stderr. Report files (--json, --junit, --html) are checked before " +
        "the run starts. Names in --arch, --mode, --guest and --role may be given in any case.",
    )
    .option("--arch <list>", `arches, comma-separated (default: all: ${archNames})`, parseList)
    .option("--mode <list>", "guest modes, comma-separated (default: each arch's own)", parseList)
    .option(
      "--guest <list>",
      `guest sets, comma-separated: ${[...GUEST_SETS, XTF_GUEST_SET, ...guestAdapters].join(", ")} ` +
        "(each guest adapter is a set of its own; default: all but xtf and the on-demand adapters' (linux), or xtf with --xtf)",
      parseList,
    )
    .option(
      "--role <list>",
      `guest roles, comma-separated: ${ROLES.join(", ")} (default: both; dom0 boots the guest as the ` +
        "initial domain, domU as an unprivileged domain under a built-in dom0)",
      parseList,
    )
    .option(
      "--filter <substring>",
      "run only entries whose id (arch/mode/guest/role/area/name) contains this",
    )
    .option("--shard <i/n>", "run only the i-th of n disjoint parts of the matrix")
    .option(
      "--baseline <file>",
      "expected failures and flakes (default: conformance/baseline.json)",
    )
    .option("--no-baseline", "judge every cell as if nothing were expected to fail")
    .option("--json <file>", "also write the report as JSON")
    .option("--junit <file>", "also write the report as JUnit XML")
    .option("--html <file>", "also write the matrix as a static HTML page")
    .option(
      "--xtf <dir>",
      "run the Xen Test Framework images (test-pv64-* and other known environments) built in <dir>",
    )
    .addOption(pluginOption())
    .addHelpText(
      "after",
      `\nExamples:\n  $ ${COMMAND_NAME} conformance --arch x86_64 --html report.html\n` +
        `  $ ${COMMAND_NAME} conformance --shard 2/4 --junit junit-2.xml\n` +
        `  $ ${COMMAND_NAME} conformance --xtf ~/src/xtf\n\nExit status:\n` +
        `  0    every cell passed (or failed as the baseline expects)\n  1    some cell failed unexpectedly\n` +
        `  2    usage error: unknown arch, mode, guest set or role, bad --shard, unreadable\n` +
        `       baseline or XTF folder, a report file that cannot be written; or nothing to\n` +
        `       run (a --filter that matches no entry, --guest xtf without --xtf, only\n` +
        `       UNSUPPORTED cells such as XTF images no registered arch can run)\n`,
    )
    .action(async (opts: ConformanceCommandOptions) =>
      setStatus(await conformanceCommand(io, root, arches, opts)),
    );

  program
    .command("new-arch")
    .summary("write a new arch package: every hook a loud stub, tests, a checklist")
    .description(
      "Write arch-<name>/, the package of a new arch port, with the file set of hvkit's own " +
        "arch packages: the plugin (its identity from the options, every hook a stub that " +
        "fails naming itself), its data model, the guest agent's TypeScript half and assembly " +
        "template, tests that pass at once and a README checklist from the scaffold to a " +
        "green column. An existing folder is never overwritten.\n\n" +
        "Inside hvkit's repository (--dir its root) the package is a workspace: the scaffold " +
        "adds its tsconfig reference, lock entry and node_modules link and a baseline entry, " +
        "and lists them; it then builds, typechecks and shows up in `hvkit conformance` at " +
        "once, every cell ERROR naming the hook it needs. Elsewhere it is a package for " +
        "`--plugin`.",
    )
    .argument("<name>", "the arch's name: lowercase letters and digits, words joined by - or _")
    .option(
      "--elf-machine <list>",
      "ELF e_machine numbers of its kernels, comma-separated (decimal or 0x; default: none yet)",
      parseList,
    )
    .option(
      "--elf-class <list>",
      "ELF classes accepted: 32, 64 (default: the word size)",
      parseList,
    )
    .option("--endianness <order>", "byte order: little or big (default little)")
    .option("--word-bits <bits>", "size of long and pointers: 32 or 64 (default 64)")
    .option(
      "--page-size <list>",
      "guest page sizes in bytes, the default first: powers of two, 1024 to 1048576, k suffix " +
        "allowed (default 4096)",
      parseList,
    )
    .option("--start-info-magic <magic>", "start_info magic (default xen-3.0-<name>)")
    .option(
      "--mode <list>",
      `guest modes, the default first: ${ALL_GUEST_MODES.join(", ")} (default pv)`,
      parseList,
    )
    .option("--dir <folder>", "the folder to write arch-<name>/ in (default: the current one)")
    .addHelpText(
      "after",
      `\nExamples:\n  $ ${COMMAND_NAME} new-arch riscv64 --elf-machine 243\n` +
        `  $ ${COMMAND_NAME} new-arch arm32 --word-bits 32 --elf-machine 40 --dir ~/ports\n\n` +
        `Exit status:\n  0    the package was written\n  2    usage error: a bad name or value, ` +
        `a name in use, a folder that exists\n`,
    )
    .action((name: string, opts: NewArchOptions) =>
      setStatus(newArchCommand(io, arches, name, opts)),
    );

  program
    .command("new-guest")
    .summary("write a new guest-OS adapter package: every member a loud stub")
    .description(
      "Write guest-<name>/, the package of a new guest-OS port: the adapter (its arches, roles, " +
        "modes and image format from the options; cells outside them declined, every other " +
        "member a stub that fails naming itself), a test and a README checklist. An existing " +
        "folder is never overwritten. In `hvkit conformance` the adapter is a guest set of its " +
        "own name: declined cells are UNSUPPORTED with the reason, the others boot its image " +
        "and judge the boot by its milestones.\n\n" +
        "Inside hvkit's repository (--dir its root) the package is wired in as new-arch does it; " +
        "elsewhere it is a package for `--plugin`.",
    )
    .argument("<name>", "the OS's name: lowercase letters and digits, words joined by - or _")
    .option(
      "--arch <list>",
      `arches the port exists for, comma-separated (default: all registered: ${archNames})`,
      parseList,
    )
    .option(
      "--role <list>",
      "dom0 and/or domU (default domU; dom0 only for a dom0-capable port)",
      parseList,
    )
    .option("--mode <list>", "guest modes (default pv)", parseList)
    .option("--image-format <format>", "elf or mach-o (default elf)")
    .option("--dir <folder>", "the folder to write guest-<name>/ in (default: the current one)")
    .addHelpText(
      "after",
      `\nExamples:\n  $ ${COMMAND_NAME} new-guest netbsd --arch x86_64,x86 --role domU,dom0\n\n` +
        `Exit status:\n  0    the package was written\n  2    usage error: a bad name or value, ` +
        `a name in use, a folder that exists\n`,
    )
    .action((name: string, opts: NewGuestOptions) =>
      setStatus(newGuestCommand(io, arches, root.resolve(GUEST_ADAPTER_REGISTRY), name, opts)),
    );

  for (const command of program.commands) {
    if (command.options.some((o) => o.long === "--trace")) bareTraceMeansAllIn(command);
  }

  program.addOption(
    new Option("--no-color", "accepted for compatibility; output is never coloured").hideHelp(),
  );
  return program;
}

/**
 * Runs the command line `argv` (without `node` and the script) and returns the exit
 * status. Never throws: usage errors print a message and return 2, and an unexpected
 * exception (an hvkit bug) prints its stack and returns 70. The plugins are those found
 * from the command plus `--plugin` ones (see `plugins.ts`; a bad plugin package is a usage
 * error), unless the caller passes its own `root` container, which then has the say.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  root?: DependencyContainer,
): Promise<number> {
  let status: number = ExitStatus.OK;
  try {
    const container = root ?? (await discoverRootContainer({ extra: pluginArguments(argv) }));
    const program = buildProgram(io, container, (s) => (status = s));
    await program.parseAsync([...argv], { from: "user" });
    return status;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitStatus.OK : ExitStatus.USAGE;
    if (e instanceof UsageError || e instanceof PluginError || e instanceof XlConfigError) {
      // One problem a line (a config's every bad line), each with the prefix.
      for (const line of e.message.split("\n")) io.stderr.write(`${COMMAND_NAME}: ${line}\n`);
      return ExitStatus.USAGE;
    }
    io.stderr.write(
      `${COMMAND_NAME}: internal error (a bug in hvkit): ${(e as Error)?.stack ?? String(e)}\n`,
    );
    return ExitStatus.INTERNAL;
  }
}
