/**
 * What the x86 guest agents (x86_64 and x86 PV) share: how a trap record the agent wrote
 * (vector, error code, faulting address, pc) reads in arch-neutral terms.
 *
 * @module
 */
import type { AgentTrapRecord, GuestTrap, GuestTrapKind } from "@hvkit/core";

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
