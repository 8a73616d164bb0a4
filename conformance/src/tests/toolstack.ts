/**
 * What a toolstack in the agent's domain does through domctl (`__HYPERVISOR_domctl`,
 * xen/include/public/domctl.h): one `struct xen_domctl`, laid out by the arch's data
 * model, with the interface version of the Xen hvkit models. Only the control domain
 * gets anywhere with it (Xen's dummy XSM policy).
 *
 * @module
 */
import {
  DomctlCmd,
  Hypercall,
  XEN_DOMCTL,
  XEN_DOMCTL_INTERFACE_VERSION,
  type StructRef,
} from "@hvkit/core";
import type { Agent, StructValues } from "../agent.js";

/** The agent's domain acting as a toolstack. */
export class Toolstack {
  private readonly arg: bigint;

  /** @param agent - the booted agent (in the control domain, for calls to succeed). */
  constructor(readonly agent: Agent) {
    this.arg = agent.alloc(XEN_DOMCTL.layout(agent.model.name).size);
  }

  /**
   * domctl `cmd` on domain `domain` with the payload `values` (paths under `u.`, e.g.
   * `{ "u.max_mem.max_memkb": 1024 }`); returns the call's result and the struct as the
   * hypervisor left it.
   */
  domctl(
    cmd: DomctlCmd,
    domain: number,
    values: StructValues = {},
  ): { rc: bigint; out: StructRef } {
    const a = this.agent;
    a.writeStruct(XEN_DOMCTL, this.arg, {
      ...values,
      cmd,
      interface_version: XEN_DOMCTL_INTERFACE_VERSION,
      domain,
    });
    const rc = a.hypercall(Hypercall.domctl, a.handle(this.arg));
    return { rc, out: a.readStruct(XEN_DOMCTL, this.arg) };
  }

  /**
   * XEN_DOMCTL_createdomain of a PV domain with `maxVcpus` vCPUs and the hypervisor's
   * default grant-table limits (max_grant_frames and max_maptrack_frames −1), the id
   * chosen by the hypervisor; returns the call's result and the new domain's id.
   */
  createDomain(maxVcpus = 1, maxEvtchnPort = 1023): { rc: bigint; domid: number } {
    const { rc, out } = this.domctl(DomctlCmd.createdomain, 0, {
      "u.createdomain.max_vcpus": maxVcpus,
      "u.createdomain.max_evtchn_port": maxEvtchnPort,
      "u.createdomain.max_grant_frames": -1,
      "u.createdomain.max_maptrack_frames": -1,
    });
    return { rc, domid: out.getNumber("domain") };
  }
}
