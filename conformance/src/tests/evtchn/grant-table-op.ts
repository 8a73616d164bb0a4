/**
 * grant_table_op on one struct, for the evtchn tests that reach into grant tables.
 *
 * @module
 */
import { Hypercall, type GrantTableOp, type StructDef, type StructRef } from "@hvkit/core";
import type { Agent, StructValues } from "../../agent.js";

/**
 * grant_table_op `cmd` on one struct `def` laid out with `values` (status pre-set to a
 * value no GNTST_* has); returns the call's result and the struct as written back.
 */
export function grantOp(
  agent: Agent,
  cmd: GrantTableOp,
  def: StructDef,
  values: StructValues,
): { rc: bigint; out: StructRef } {
  const va = agent.placeStruct(def, { status: 0x55, ...values });
  const rc = agent.hypercall(Hypercall.grant_table_op, cmd, agent.handle(va), 1);
  return { rc, out: agent.readStruct(def, va) };
}
