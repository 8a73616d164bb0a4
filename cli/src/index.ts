/**
 * `hvkit`: the command-line interface and composition root. The command itself is
 * `main.ts`; this module exposes its parts for embedding and tests.
 *
 * @packageDocumentation
 */
export { runCli, COMMAND_NAME, VERSION } from "./program.js";
export {
  ExitStatus,
  EXIT_STATUS_HELP,
  shutdownExitStatus,
  shutdownReasonName,
} from "./exit-status.js";
export type { CliIo, CliStream } from "./cli-io.js";
export {
  archPluginProblem,
  commandPackageDir,
  discoverPluginPackages,
  guestAdapterProblem,
  loadPlugins,
  pluginArguments,
  PluginError,
  readManifest,
  resolvePluginArgument,
  type LoadedPlugins,
  type PluginKind,
  type PluginManifest,
  type PluginPackage,
  type PluginSearch,
} from "./plugins.js";
export { createRootContainer, discoverRootContainer } from "./composition.js";
export {
  HypercallTrace,
  parseTraceKinds,
  TRACE_KINDS,
  tracingArchPlugin,
  type TraceKind,
  type TraceSink,
} from "./trace.js";
export { RunStatistics } from "./stats.js";
export {
  describeHypercall,
  hypercallErrno,
  hypercallName,
  hypercallResult,
  hypercallSubOp,
} from "./hypercall-decoder.js";
export { MAX_COUNT, parseCount, parseMemoryMiB, parseList } from "./options.js";
export { UsageError } from "./usage-error.js";
