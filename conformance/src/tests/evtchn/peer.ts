/**
 * The other domain of the evtchn tests that reach past event channels: created by the
 * control domain with XEN_DOMCTL_createdomain, its grant table reached with
 * grant_table_op.
 *
 * @module
 */
import {
  DomctlCmd,
  Hypercall,
  type GrantTableOp,
  type StructDef,
  type StructRef,
  xenDomctlGrantVersion,
} from "@hvkit/core";
import type { Agent, StructValues } from "../../agent.js";
import { domctl } from "../domctl/calls.js";

/**
 * XEN_DOMCTL_createdomain of a PV domain with one vCPU, 1024 event-channel ports and the
 * hypervisor's default grant-table limits (max_grant_frames and max_maptrack_frames −1),
 * its id chosen by the hypervisor (domain 0 in the request), as libxl asks; returns the
 * call's result and the new domain's id.
 */
export function createPeer(agent: Agent): { rc: bigint; domid: number } {
  const { rc, out } = domctl(agent, DomctlCmd.createdomain, 0, {
    "u.createdomain.max_vcpus": 1,
    "u.createdomain.max_evtchn_port": 1023,
    "u.createdomain.max_grant_frames": -1,
    "u.createdomain.max_maptrack_frames": -1,
    "u.createdomain.grant_opts": xenDomctlGrantVersion(2),
  });
  return { rc, domid: out.getNumber("domain") };
}

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
