/**
 * What xl makes of a parsed config (Xen 4.19 tools/xl/xl_parse.c `parse_config_data`,
 * with libxl's defaults from libxl_create.c), for the keys hvkit's toolstack acts on:
 *
 * - `name` (required), `type` (`pv`, `pvh` or `hvm`; any prefix of them, as xl compares
 *   with `strncmp`; default `pv`) and the deprecated `builder` (`generic` or `hvm`, which
 *   must not contradict `type`).
 * - `kernel`, `ramdisk`: paths as given. xl hands them to libxl unchanged, so a relative
 *   path is relative to the directory xl runs in, not to the config's folder.
 * - `cmdline`; without it `root` and `extra` make `root=<root> <extra>` (xl's
 *   `parse_cmdline`; with `cmdline`, both are ignored with a warning).
 * - `memory` and `maxmem` in MiB: the domain is built with `memory` (libxl's
 *   `target_memkb`); `maxmem` is its `memory/static-max`. Either defaults to the other,
 *   both to libxl's 32 MiB. xl.cfg(5) says `maxmem` must not be below `memory`; xl does
 *   not check it for a PV domain (the guest would be told a static maximum below what it
 *   has), hvkit refuses it.
 * - `vcpus` (online at boot, default 1) and `maxvcpus` (the domain's vCPUs, default
 *   `vcpus`; fewer than `vcpus` is an error).
 * - `max_event_channels`: the domain's `max_evtchn_port` (libxl's `event_channels`;
 *   default, and for 0, libxl's 1023), so a domU gets ports 1 to 1023 unless its config
 *   asks for more (XTF's xsa-317 test asks for 4096).
 * - `on_poweroff` (default `destroy`), `on_reboot` (`restart`), `on_watchdog` and
 *   `on_crash` (`destroy`): xl's action names. hvkit's toolstack carries out `destroy`,
 *   `restart` and `preserve`; `rename-restart`, `coredump-destroy`, `coredump-restart`
 *   and `soft-reset` are refused as not implemented.
 *
 * Numbers are read as xl reads them (C `strtol` with base 0: `0x10` and `020` are 16),
 * quoted or not. Where xl only warns about a bad value and goes on without it (a list
 * for a number, `+=` on a number, a number it cannot read) hvkit refuses the config,
 * since the domain would not be the one the file describes. Every other key is reported
 * as ignored (xl, too, ignores keys it does not know, and hvkit models no devices).
 *
 * @module
 */
import {
  LIBXL_DEFAULT_EVENT_CHANNELS,
  MAX_EVTCHN_PORT_UNLIMITED,
  MAX_MEMORY_MIB,
  MAX_VCPUS_PER_DOMAIN,
} from "@hvkit/core";
import {
  formatXlProblem,
  XlConfigError,
  type XlConfig,
  type XlConfigProblem,
  type XlSetting,
} from "./config-file.js";

/** The domain types xl knows (`type =`). */
export type XlDomainType = "pv" | "pvh" | "hvm";

/** xl's actions on a domain's shutdown (`on_poweroff = ...`), in libxl's order. */
export const XL_SHUTDOWN_ACTIONS = [
  "destroy",
  "restart",
  "rename-restart",
  "preserve",
  "coredump-destroy",
  "coredump-restart",
  "soft-reset",
] as const;

/** One of xl's shutdown actions. */
export type XlShutdownAction = (typeof XL_SHUTDOWN_ACTIONS)[number];

/** The shutdown actions hvkit's toolstack carries out. */
export type ShutdownAction = "destroy" | "restart" | "preserve";

/** The shutdown reasons a config gives an action for (xl's `on_<reason>` keys). */
export type ShutdownActionReason = "poweroff" | "reboot" | "watchdog" | "crash";

/** What the toolstack does on each shutdown reason (absent: leave the domain as it is). */
export type ShutdownActions = Readonly<Partial<Record<ShutdownActionReason, ShutdownAction>>>;

/** xl's defaults (`parse_config_data`): destroy, but restart on reboot. */
const DEFAULT_ACTIONS: Readonly<Record<ShutdownActionReason, ShutdownAction>> = {
  poweroff: "destroy",
  reboot: "restart",
  watchdog: "destroy",
  crash: "destroy",
};

/** libxl's memory when a config gives neither `memory` nor `maxmem` (MiB). */
export const LIBXL_DEFAULT_MEMORY_MIB = 32;

/** A domain as an xl config describes it. */
export interface XlDomainConfig {
  /** `name`. */
  readonly name: string;
  /** `type` (or `builder`). */
  readonly type: XlDomainType;
  /** `kernel` as written (required for a PV domain), or null. */
  readonly kernel: string | null;
  /** `ramdisk` as written, or null. */
  readonly ramdisk: string | null;
  /** The kernel command line from `cmdline`, or `root` and `extra`; "" for none. */
  readonly cmdline: string;
  /** `memory`: MiB the domain is built with. */
  readonly memoryMiB: number;
  /** `maxmem`: the domain's static maximum, MiB. */
  readonly maxMemoryMiB: number;
  /** `vcpus`: vCPUs online at boot. */
  readonly vcpus: number;
  /** `maxvcpus`: the domain's vCPUs. */
  readonly maxVcpus: number;
  /** `max_event_channels`: the domain's highest event-channel port (libxl's default 1023). */
  readonly maxEventChannels: number;
  /** The `on_<reason>` actions, defaults filled in. */
  readonly onShutdown: Readonly<Record<ShutdownActionReason, ShutdownAction>>;
  /**
   * Things xl would do without comment or with only a warning that the user should
   * know: keys hvkit ignores, `root`/`extra` dropped for `cmdline`. Each is a whole line,
   * `<file>:<line>: warning: ...`.
   */
  readonly warnings: readonly string[];
  /** The line each key given was last set on (for messages about its value later). */
  readonly lines: Readonly<Record<string, number>>;
}

/** The keys this module reads; every other one is reported as ignored. */
const KNOWN_KEYS = new Set([
  "name",
  "type",
  "builder",
  "kernel",
  "ramdisk",
  "cmdline",
  "root",
  "extra",
  "memory",
  "maxmem",
  "vcpus",
  "maxvcpus",
  "max_event_channels",
  "on_poweroff",
  "on_reboot",
  "on_watchdog",
  "on_crash",
  "bootloader",
]);

type Strtol = { value: bigint } | { error: string };

const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

/** C's `strtol(text, &end, 0)` with xlu's checks: the whole text must be the number. */
function strtol(text: string): Strtol {
  let i = 0;
  while (i < text.length && " \t\n\v\f\r".includes(text[i])) i++;
  let negative = false;
  if (text[i] === "+" || text[i] === "-") negative = text[i++] === "-";
  let base = 10;
  let digits = /[0-9]/;
  if (
    text[i] === "0" &&
    (text[i + 1] === "x" || text[i + 1] === "X") &&
    /[0-9a-fA-F]/.test(text[i + 2] ?? "")
  ) {
    base = 16;
    digits = /[0-9a-fA-F]/;
    i += 2;
  } else if (text[i] === "0") {
    base = 8;
    digits = /[0-7]/;
  }
  const start = i;
  let value = 0n;
  while (i < text.length && digits.test(text[i]))
    value = value * BigInt(base) + BigInt(parseInt(text[i++], 16));
  if (negative) value = -value;
  if (i > start && (value > LONG_MAX || value < LONG_MIN))
    return { error: "could not be parsed as a number: Numerical result out of range" };
  if (i === start || i !== text.length) return { error: "is not a valid number" };
  return { value };
}

/**
 * Reads the domain `cfg` describes, as xl does. Throws {@link XlConfigError} listing every
 * problem (each with its line where it has one) when xl would refuse the config, a value
 * cannot be what xl reads, or hvkit cannot carry it out.
 */
export function xlDomainConfig(cfg: XlConfig): XlDomainConfig {
  const problems: XlConfigProblem[] = [];
  const warnings: string[] = [];
  const problem = (s: XlSetting | null, message: string): void =>
    void problems.push({ line: s?.line ?? null, message });
  const warn = (s: XlSetting | null, message: string): void =>
    void warnings.push(
      formatXlProblem(cfg.source, { line: s?.line ?? null, message: `warning: ${message}` }),
    );

  /** A single-valued setting's text (xlu_cfg_get_string), or null when absent or a list. */
  const string = (name: string): { text: string; setting: XlSetting } | null => {
    const s = cfg.get(name);
    if (s === undefined) return null;
    if (s.value.kind !== "string") {
      problem(s, `parameter \`${name}' is a list but should be a single value`);
      return null;
    }
    return { text: s.value.text, setting: s };
  };
  /** A number setting within [min, max] (xlu_cfg_get_long), or null when absent or bad. */
  const number = (name: string, min: number, max: number, unit: string): number | null => {
    const s = string(name);
    if (s === null) return null;
    if (s.setting.op === "+=") {
      problem(s.setting, `can't use += with numbers for parameter \`${name}'`);
      return null;
    }
    const r = strtol(s.text);
    if ("error" in r) {
      problem(s.setting, `parameter \`${name}' ${r.error}`);
      return null;
    }
    if (r.value < BigInt(min) || r.value > BigInt(max)) {
      problem(s.setting, `${name} = ${r.value}: expected ${min} to ${max} ${unit}`);
      return null;
    }
    return Number(r.value);
  };

  const type = domainType(string("type"), string("builder"), problem);
  const name = string("name");
  if (name === null && cfg.get("name") === undefined)
    problem(null, 'Domain name must be specified (name = "...")');

  const memory = number("memory", 1, MAX_MEMORY_MIB, "MiB");
  const maxmem = number("maxmem", 1, MAX_MEMORY_MIB, "MiB");
  const vcpus = number("vcpus", 1, MAX_VCPUS_PER_DOMAIN, "vCPUs");
  const maxVcpus = number("maxvcpus", 1, MAX_VCPUS_PER_DOMAIN, "vCPUs");
  if (vcpus !== null && maxVcpus !== null && maxVcpus < vcpus)
    problem(cfg.get("maxvcpus")!, `maxvcpus < vcpus (${maxVcpus} < ${vcpus})`);
  if (memory !== null && maxmem !== null && maxmem < memory)
    problem(
      cfg.get("maxmem")!,
      `maxmem < memory (${maxmem} < ${memory}): xl.cfg(5) asks for maxmem >= memory`,
    );
  const eventChannels = number("max_event_channels", 0, MAX_EVTCHN_PORT_UNLIMITED, "ports");

  const kernel = string("kernel");
  const ramdisk = string("ramdisk");
  const bootloader = string("bootloader");
  if (bootloader !== null)
    problem(
      bootloader.setting,
      'bootloader is not supported by hvkit: give the kernel with kernel = "..."',
    );
  if (type === "pv" && kernel === null && cfg.get("kernel") === undefined && bootloader === null)
    problem(null, 'a PV domain needs a kernel (kernel = "...")');

  const cmdline = string("cmdline");
  const root = string("root");
  const extra = string("extra");
  let commandLine = "";
  if (cmdline !== null) {
    commandLine = cmdline.text;
    if (root !== null || extra !== null)
      warn(cmdline.setting, "ignoring root= and extra= in favour of cmdline=");
  } else if (root !== null) {
    commandLine = extra !== null ? `root=${root.text} ${extra.text}` : `root=${root.text}`;
  } else if (extra !== null) {
    commandLine = extra.text;
  }

  const onShutdown = { ...DEFAULT_ACTIONS };
  for (const reason of Object.keys(DEFAULT_ACTIONS) as ShutdownActionReason[]) {
    const key = `on_${reason}`;
    const s = string(key);
    if (s === null) continue;
    if (!(XL_SHUTDOWN_ACTIONS as readonly string[]).includes(s.text)) {
      problem(s.setting, `Unknown ${key} action "${s.text}" specified`);
    } else if (s.text === "destroy" || s.text === "restart" || s.text === "preserve") {
      onShutdown[reason] = s.text;
    } else {
      problem(
        s.setting,
        `${key} = "${s.text}" is not implemented by hvkit (it carries out destroy, restart and preserve)`,
      );
    }
  }

  const lines: Record<string, number> = {};
  for (const key of cfg.names()) {
    const s = cfg.get(key)!;
    lines[key] = s.line;
    if (!KNOWN_KEYS.has(key)) warn(s, `\`${key}' is not modelled by hvkit; ignored`);
  }
  if (problems.length > 0) {
    problems.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
    throw new XlConfigError(cfg.source, problems);
  }
  const memoryMiB = memory ?? maxmem ?? LIBXL_DEFAULT_MEMORY_MIB;
  return {
    name: name!.text,
    type,
    kernel: kernel?.text ?? null,
    ramdisk: ramdisk?.text ?? null,
    cmdline: commandLine,
    memoryMiB,
    maxMemoryMiB: maxmem ?? memoryMiB,
    vcpus: vcpus ?? 1,
    maxVcpus: maxVcpus ?? vcpus ?? 1,
    // libxl__domain_build_info_setdefault: `if (!b_info->event_channels)` it is 1023.
    maxEventChannels: eventChannels || LIBXL_DEFAULT_EVENT_CHANNELS,
    onShutdown,
    warnings,
    lines,
  };
}

/** `type` and `builder` as xl reads them: prefixes of the names, compared with strncmp. */
function domainType(
  type: { text: string; setting: XlSetting } | null,
  builder: { text: string; setting: XlSetting } | null,
  problem: (s: XlSetting | null, message: string) => void,
): XlDomainType {
  const prefixOf = (word: string, text: string) => word.startsWith(text);
  let result: XlDomainType | null = null;
  if (type !== null) {
    const t = type.text;
    result = prefixOf("hvm", t)
      ? "hvm"
      : prefixOf("pv", t)
        ? "pv"
        : prefixOf("pvh", t)
          ? "pvh"
          : null;
    if (result === null) problem(type.setting, `Invalid domain type ${t}.`);
  }
  if (builder !== null) {
    const b = builder.text;
    const fromBuilder = prefixOf("hvm", b) ? "hvm" : prefixOf("generic", b) ? "pv" : null;
    if (fromBuilder === null) problem(builder.setting, `Invalid domain type ${b}.`);
    else if (result !== null && result !== fromBuilder)
      problem(builder.setting, 'Contradicting "builder" and "type" options specified.');
    else result = fromBuilder;
  }
  return result ?? "pv";
}
