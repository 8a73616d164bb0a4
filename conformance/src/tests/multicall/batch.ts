/**
 * Multicall batches as a kernel lays them out (xen.h `struct multicall_entry { xen_ulong_t
 * op, result; xen_ulong_t args[6]; }`, by the arch's data model), for the tests that
 * make multicalls. Each entry's `result` starts as {@link RESULT_SENTINEL}, so an entry
 * Xen did not run (or whose result it could not write back) shows.
 *
 * @module
 */
import { MULTICALL_ENTRY } from "@hvkit/core";
import type { Agent } from "../../agent.js";

/** The `result` an entry holds until Xen writes it. */
export const RESULT_SENTINEL = 0xdeadn;

/** One call of a batch: a hypercall number and up to six arguments. */
export interface MulticallCall {
  /** `op`: the hypercall number (the whole xen_ulong_t is compared by Xen). */
  readonly op: number | bigint;
  /** `args`: up to six arguments (buffer addresses already through `agent.handle`). */
  readonly args?: readonly (number | bigint)[];
}

/** The bytes of `calls` as consecutive multicall_entry structs, results set to the sentinel. */
export function multicallBytes(agent: Agent, calls: readonly MulticallCall[]): Uint8Array {
  const size = MULTICALL_ENTRY.layout(agent.arch.dataModel).size;
  const bits = agent.model.xenUlong * 8;
  const out = new Uint8Array(size * calls.length);
  calls.forEach((call, i) => {
    const values: Record<string, bigint> = {
      op: BigInt.asUintN(bits, BigInt(call.op)),
      result: RESULT_SENTINEL,
    };
    (call.args ?? []).forEach((a, j) => (values[`args.${j}`] = BigInt.asUintN(bits, BigInt(a))));
    out.set(agent.structBytes(MULTICALL_ENTRY, values), i * size);
  });
  return out;
}

/** Places `calls` in scratch memory as a multicall list; returns its address. */
export function placeMulticall(agent: Agent, calls: readonly MulticallCall[]): bigint {
  return agent.place(multicallBytes(agent, calls), 64);
}

/**
 * The `result` of entries `0..count-1` of the list at `va`, sign-extended from
 * xen_ulong_t (a −errno reads as negative).
 */
export function multicallResults(agent: Agent, va: bigint, count: number, vcpu = 0): bigint[] {
  const layout = MULTICALL_ENTRY.layout(agent.arch.dataModel);
  const bits = agent.model.xenUlong * 8;
  const bytes = agent.read(va, layout.size * count, vcpu);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, i) =>
    BigInt.asIntN(bits, layout.getBigInt(view, i * layout.size, "result")),
  );
}
