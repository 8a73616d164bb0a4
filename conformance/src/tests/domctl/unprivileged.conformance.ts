/**
 * The privilege side of domctl, sysctl and memory_op, from an unprivileged domain (the
 * agent booted as a domU under the built-in dom0). Xen 4.19:
 * - xen/common/domctl.c do_domctl: −EFAULT unreadable, −EACCES another interface version,
 *   −ESRCH a domain that does not exist (all before XSM; Xen after 4.19 answers −EPERM
 *   there to unprivileged callers, commit a89ca78901), then xsm_domctl(XSM_OTHER):
 *   xsm/dummy.h gives getdomaininfo XSM_XS_PRIV and every other command (createdomain and
 *   unknown ones included) XSM_PRIV, so a domain that is neither the control domain nor
 *   xenstore gets −EPERM, even about itself.
 * - xen/common/sysctl.c do_sysctl: −EFAULT, −EACCES, then xsm_sysctl(XSM_PRIV) −EPERM.
 * - xen/common/memory.c: current/maximum_reservation of another domain
 *   xsm_memory_stat_reservation(XSM_TARGET) −EPERM (of itself fine); the reservation ops
 *   on another domain fail xsm_memory_adjust_reservation(XSM_TARGET) and so return 0
 *   extents; exchange on another domain xsm_memory_exchange(XSM_TARGET) −EPERM; a domU's
 *   max_order is CONFIG_DOMU_MAX_ORDER = 9: order 10 is 0 extents for populate_physmap
 *   and −EPERM for exchange.
 * - xen/common/multicall.c: each entry goes through the same checks (its result −EPERM).
 */
import {
  DomctlCmd,
  DomId,
  Errno,
  Hypercall,
  MemoryOp,
  SysctlCmd,
  XEN_DOMCTL,
  XEN_DOMCTL_INTERFACE_VERSION,
  XEN_MEMORY_EXCHANGE,
  XEN_MEMORY_RESERVATION,
} from "@hvkit/core";
import { agentTest } from "../agent-test.js";
import { multicallResults, placeMulticall } from "../multicall/batch.js";
import { domctl, sysctl } from "./calls.js";

/** A domain id no domain has. */
const NO_SUCH_DOMAIN = 0x7fe0;

const COMMANDS: readonly (readonly [number, string])[] = [
  [DomctlCmd.createdomain, "createdomain"],
  [DomctlCmd.destroydomain, "destroydomain(0)"],
  [DomctlCmd.pausedomain, "pausedomain(0)"],
  [DomctlCmd.unpausedomain, "unpausedomain(0)"],
  [DomctlCmd.getdomaininfo, "getdomaininfo(0)"],
  [DomctlCmd.getmemlist, "getmemlist(0)"],
  [DomctlCmd.shadow_op, "shadow_op(0)"],
  [DomctlCmd.max_mem, "max_mem(0)"],
  [DomctlCmd.setvcpucontext, "setvcpucontext(0)"],
  [DomctlCmd.getvcpucontext, "getvcpucontext(0)"],
  [DomctlCmd.max_vcpus, "max_vcpus(0)"],
  [DomctlCmd.setdomainhandle, "setdomainhandle(0)"],
  [DomctlCmd.setdebugging, "setdebugging(0)"],
  [DomctlCmd.set_address_size, "set_address_size(0)"],
  [DomctlCmd.get_address_size, "get_address_size(0)"],
  [99, "an unknown command (XSM comes first)"],
];

/** domctl/unprivileged. */
export const domctlUnprivileged = agentTest({
  area: "domctl",
  name: "unprivileged",
  description:
    "a domU gets -EPERM from every domctl and sysctl and from memory_op on another domain (XSM dummy policy)",
  requires: { roles: ["domU"] },
  run(agent, check) {
    const self = agent.session.domain.id;
    for (const [cmd, name] of COMMANDS) {
      check.equal(`domctl ${name}`, domctl(agent, cmd, 0).rc, -Errno.EPERM);
    }
    check.equal(
      "domctl getdomaininfo of itself",
      domctl(agent, DomctlCmd.getdomaininfo, self).rc,
      -Errno.EPERM,
    );
    check.equal(
      "domctl max_mem of itself",
      domctl(agent, DomctlCmd.max_mem, self).rc,
      -Errno.EPERM,
    );
    check.equal(
      "domctl on no such domain: ESRCH before XSM (4.19)",
      domctl(agent, DomctlCmd.getdomaininfo, NO_SUCH_DOMAIN).rc,
      -Errno.ESRCH,
    );
    check.equal(
      "domctl interface version 0x16",
      domctl(agent, DomctlCmd.getdomaininfo, 0, {}, 0x16).rc,
      -Errno.EACCES,
    );
    const unmapped = agent.handle(agent.spec.unmappedAddress(agent));
    check.equal("domctl bad pointer", agent.hypercall(Hypercall.domctl, unmapped), -Errno.EFAULT);

    check.equal("sysctl physinfo", sysctl(agent, SysctlCmd.physinfo).rc, -Errno.EPERM);
    check.equal(
      "sysctl getdomaininfolist",
      sysctl(agent, SysctlCmd.getdomaininfolist).rc,
      -Errno.EPERM,
    );
    check.equal("sysctl unknown command", sysctl(agent, 99).rc, -Errno.EPERM);
    check.equal(
      "sysctl interface version 0x14",
      sysctl(agent, SysctlCmd.physinfo, {}, 0x14).rc,
      -Errno.EACCES,
    );
    check.equal("sysctl bad pointer", agent.hypercall(Hypercall.sysctl, unmapped), -Errno.EFAULT);

    const memop = (cmd: number, va: bigint): bigint =>
      agent.hypercall(Hypercall.memory_op, cmd, agent.handle(va));
    const domid = (id: number): bigint => {
      const va = agent.alloc(2, 2);
      agent.writeUint(va, 2, id);
      return va;
    };
    const cur = memop(MemoryOp.current_reservation, domid(DomId.SELF));
    check.equal("current_reservation of itself is its page count", cur, agent.bootInfo().nrPages);
    check.equal(
      "current_reservation(0)",
      memop(MemoryOp.current_reservation, domid(0)),
      -Errno.EPERM,
    );
    check.equal(
      "maximum_reservation(0)",
      memop(MemoryOp.maximum_reservation, domid(0)),
      -Errno.EPERM,
    );
    const frame = agent.alloc(8);
    const reservation = (order: number, dom: number) =>
      agent.placeStruct(XEN_MEMORY_RESERVATION, {
        extent_start: agent.handle(frame),
        nr_extents: 1,
        extent_order: order,
        domid: dom,
      });
    check.equal(
      "increase_reservation for dom0: 0 extents",
      memop(MemoryOp.increase_reservation, reservation(0, 0)),
      0,
    );
    agent.writeUint(frame, 8, 0x100);
    check.equal(
      "populate_physmap of order 10 (a domU's max_order is 9): 0 extents",
      memop(MemoryOp.populate_physmap, reservation(10, DomId.SELF)),
      0,
    );
    check.equal(
      "current_reservation unchanged",
      memop(MemoryOp.current_reservation, domid(DomId.SELF)),
      cur,
    );
    const inFrame = agent.alloc(8);
    const outFrame = agent.alloc(8);
    const exchange = (order: number, dom: number) =>
      agent.placeStruct(XEN_MEMORY_EXCHANGE, {
        "in.extent_start": agent.handle(inFrame),
        "in.nr_extents": 1,
        "in.extent_order": order,
        "in.domid": dom,
        "out.extent_start": agent.handle(outFrame),
        "out.nr_extents": 1,
        "out.extent_order": order,
        "out.domid": dom,
      });
    check.equal("exchange on dom0", memop(MemoryOp.exchange, exchange(0, 0)), -Errno.EPERM);
    check.equal(
      "exchange of order 10 (max_order 9)",
      memop(MemoryOp.exchange, exchange(10, DomId.SELF)),
      -Errno.EPERM,
    );

    const md = agent.placeStruct(XEN_DOMCTL, {
      cmd: DomctlCmd.getdomaininfo,
      interface_version: XEN_DOMCTL_INTERFACE_VERSION,
      domain: 0,
    });
    const mc = placeMulticall(agent, [
      { op: Hypercall.domctl, args: [agent.handle(md)] },
      {
        op: Hypercall.memory_op,
        args: [MemoryOp.current_reservation, agent.handle(domid(0))],
      },
    ]);
    check.equal(
      "a multicall of privileged calls returns 0",
      agent.hypercall(Hypercall.multicall, agent.handle(mc), 2),
      0,
    );
    const [domctlResult, reservationResult] = multicallResults(agent, mc, 2);
    check.equal("multicall entry domctl", domctlResult, -Errno.EPERM);
    check.equal("multicall entry current_reservation(0)", reservationResult, -Errno.EPERM);
  },
});
