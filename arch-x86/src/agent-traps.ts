/**
 * What the x86 guest agents (x86_64 and x86 PV) share: how a trap record the agent wrote
 * (vector, error code, faulting address, pc) reads in arch-neutral terms.
 *
 * @module
 */
import type { AgentIo, AgentTrapRecord, GuestTrap, GuestTrapKind } from "@hvkit/core";
import { TRAP_INFO } from "./abi.js";

const TRAP_NAMES: Readonly<Record<number, string>> = {
  0: "#DE",
  1: "#DB",
  3: "#BP",
  4: "#OF",
  5: "#BR",
  6: "#UD",
  7: "#NM",
  8: "#DF",
  10: "#TS",
  11: "#NP",
  12: "#SS",
  13: "#GP",
  14: "#PF",
  16: "#MF",
  17: "#AC",
  18: "#MC",
  19: "#XM",
  256: "failsafe callback",
};

const TRAP_KINDS: Readonly<Record<number, GuestTrapKind>> = {
  3: "breakpoint",
  6: "illegal-instruction",
  13: "protection-fault",
  14: "page-fault",
  17: "alignment",
};

/** Describes an x86 agent's trap record (vector 256: Xen's failsafe callback). */
export function describeX86Trap(trap: AgentTrapRecord): GuestTrap {
  const vector = Number(trap.vector);
  const name = TRAP_NAMES[vector] ?? `vector ${vector}`;
  const kind = TRAP_KINDS[vector] ?? "other";
  const detail = `${name}, error code ${trap.code.toString(16)}`;
  if (kind === "page-fault") {
    // #PF error code bit 1: the access was a write (SDM vol. 3, 4.7).
    return { kind, address: trap.address, write: (trap.code & 2n) !== 0n, pc: trap.pc, detail };
  }
  return { kind, pc: trap.pc, detail };
}

/**
 * Copies the agent's trap table at `table` (trap_info entries up to the one with address
 * 0) into `context`'s `trap_ctxt` at byte `offset`, entry by entry at its vector: the
 * virtual IDT of a vcpu_guest_context that starts a vCPU in the agent.
 */
export function copyTrapTable(
  io: AgentIo,
  table: bigint,
  context: Uint8Array,
  offset: number,
): void {
  const entry = TRAP_INFO.layout(io.model);
  for (let va = table; ; va += BigInt(entry.size)) {
    const raw = io.read(va, entry.size);
    const e = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (entry.getBigInt(e, 0, "address") === 0n) return;
    context.set(raw, offset + entry.getNumber(e, 0, "vector") * entry.size);
  }
}
