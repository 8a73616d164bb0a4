/**
 * A console sink that keeps everything in memory: the default for machines whose
 * composition root binds no `CONSOLE_SINK`, and what tests read output from.
 *
 * @module
 */
import type { Domain } from "./domain.js";
import type { ConsoleSink } from "./machine.js";

/** Records guest output per domain and hypervisor messages in order. */
export class RecordingConsoleSink implements ConsoleSink {
  /** Hypervisor messages, one line each, in the order they were emitted. */
  readonly messages: string[] = [];
  private readonly output = new Map<number, number[]>();

  /** {@inheritDoc ConsoleSink.guestOutput} */
  guestOutput(domain: Domain, bytes: Uint8Array): void {
    let out = this.output.get(domain.id);
    if (out === undefined) this.output.set(domain.id, (out = []));
    for (let i = 0; i < bytes.length; i++) out.push(bytes[i]);
  }

  /** {@inheritDoc ConsoleSink.hypervisorMessage} */
  hypervisorMessage(line: string): void {
    this.messages.push(line);
  }

  /** The bytes domain `id` has written so far. */
  bytesOf(id: number): Uint8Array {
    return Uint8Array.from(this.output.get(id) ?? []);
  }

  /** What domain `id` has written so far, decoded as Latin-1 (one char per byte). */
  textOf(id: number): string {
    return String.fromCharCode(...(this.output.get(id) ?? []));
  }
}
