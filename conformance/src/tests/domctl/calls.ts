/**
 * domctl and sysctl as a toolstack makes them, through the guest agent: the request laid
 * out by the arch's data model in the agent's scratch memory, the hypercall through the
 * arch's path, the struct read back as the hypervisor left it.
 *
 * @module
 */
import {
  Hypercall,
  XEN_DOMCTL,
  XEN_DOMCTL_INTERFACE_VERSION,
  XEN_SYSCTL,
  XEN_SYSCTL_INTERFACE_VERSION,
  type StructRef,
} from "@hvkit/core";
import type { Agent, StructValues } from "../../agent.js";

/** Makes domctl `cmd` on `domain` with payload `values` (paths under `u.`); returns result and the struct as written back. */
export function domctl(
  agent: Agent,
  cmd: number,
  domain: number,
  values: StructValues = {},
  version = XEN_DOMCTL_INTERFACE_VERSION,
): { rc: bigint; out: StructRef } {
  const va = agent.placeStruct(XEN_DOMCTL, { cmd, interface_version: version, domain, ...values });
  const rc = agent.hypercall(Hypercall.domctl, agent.handle(va));
  return { rc, out: agent.readStruct(XEN_DOMCTL, va) };
}

/** Makes sysctl `cmd` with payload `values`; returns result and the struct as written back. */
export function sysctl(
  agent: Agent,
  cmd: number,
  values: StructValues = {},
  version = XEN_SYSCTL_INTERFACE_VERSION,
): { rc: bigint; out: StructRef } {
  const va = agent.placeStruct(XEN_SYSCTL, { cmd, interface_version: version, ...values });
  const rc = agent.hypercall(Hypercall.sysctl, agent.handle(va));
  return { rc, out: agent.readStruct(XEN_SYSCTL, va) };
}
