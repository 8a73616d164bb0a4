/**
 * An {@link AgentIo} over plain byte blocks, for tests of an arch's `GuestAgent` that need
 * no machine: reads come from the blocks, writes are recorded.
 *
 * @module
 */
import type { AgentBootReport, AgentIo } from "../agent.js";
import type { DataModel } from "../structs.js";

/** An {@link AgentIo} whose writes a test can inspect. */
export interface RecordingAgentIo extends AgentIo {
  /** Every write, in order: address and bytes. */
  readonly writes: [bigint, Uint8Array][];
}

/**
 * An agent I/O in data model `model` with page size `pageSize`, the boot report `boot`
 * (everything else 0) and guest memory `blocks` (`[address, bytes]`). A read outside the
 * blocks and any hypercall throw; writes are recorded, not applied.
 */
export function blockAgentIo(
  model: DataModel,
  pageSize: number,
  boot: Partial<AgentBootReport>,
  blocks: readonly (readonly [bigint, Uint8Array])[] = [],
): RecordingAgentIo {
  const writes: [bigint, Uint8Array][] = [];
  const find = (va: bigint, n: number): Uint8Array => {
    for (const [base, bytes] of blocks) {
      const off = Number(va - base);
      if (va >= base && off + n <= bytes.length) return bytes.subarray(off, off + n);
    }
    throw new Error(`0x${va.toString(16)} (${n} bytes) is not in the test's memory`);
  };
  return {
    model,
    pageSize,
    boot: {
      startInfo: 0n,
      sharedInfo: 0n,
      hypercallPage: 0n,
      scratch: 0n,
      scratchLength: 0,
      window: 0n,
      windowLength: 0,
      apEntry: 0n,
      mailboxCount: 1,
      bootArg: 0n,
      arch: [0n, 0n, 0n, 0n],
      ...boot,
    },
    writes,
    hypercall: () => {
      throw new Error("this test's agent makes no hypercalls");
    },
    read: (va, n) => find(va, n).slice(),
    write: (va, bytes) => {
      writes.push([va, bytes.slice()]);
    },
  };
}
