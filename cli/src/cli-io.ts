/**
 * The command's view of the outside world: its two output streams and whether stderr is a
 * terminal. Tests pass buffers; `main.ts` passes the process's streams.
 *
 * @module
 */

/** An output stream the command writes to. */
export interface CliStream {
  /** Writes text or raw bytes (guest console output is written as it comes). */
  write(chunk: string | Uint8Array): unknown;
  /** True when the stream is a terminal (progress bars go only to terminals). */
  readonly isTTY?: boolean;
}

/** The streams a command uses. */
export interface CliIo {
  /** Guest console output, reports and help. */
  readonly stdout: CliStream;
  /** Hypervisor messages, diagnostics, progress, traces. */
  readonly stderr: CliStream;
}
