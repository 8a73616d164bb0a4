/**
 * The common hypercalls answer at Xen's numbers (xen.h `__HYPERVISOR_*`) through the arch's
 * real hypercall path, each with a result only that hypercall gives: xen_version 17
 * (XENVER_version = major << 16 | minor of the Xen hvkit models, XENVER_pagesize = the
 * machine's page size), console_io 18 (an empty write: 0 for the control domain, −EPERM
 * for a domU under the dummy XSM policy), sched_op 29 (SCHEDOP_yield: 0), memory_op 12
 * (XENMEM_current_reservation of DOMID_SELF: the pages start_info reports), vcpu_op 24
 * (VCPUOP_is_up of vCPU 0: 1), event_channel_op 32 (an unknown sub-op: −ENOSYS) — and an
 * unassigned number (60) returns −ENOSYS. A port whose table, dispatch or result register
 * is wrong fails here first.
 */
import {
  ConsoleIoCmd,
  DomId,
  Errno,
  HVKIT_XEN_VERSION,
  Hypercall,
  MemoryOp,
  SchedOp,
  VcpuOp,
  XenVersionOp,
} from "@hvkit/core";
import { agentTest } from "../agent-test.js";

/** hypercall/numbers. */
export const hypercallNumbers = agentTest({
  area: "hypercall",
  name: "numbers",
  description:
    "xen_version, console_io, sched_op, memory_op, vcpu_op and event_channel_op answer at Xen's numbers; 60 is -ENOSYS",
  run(agent, check, ctx) {
    check.equal(
      "xen_version(XENVER_version)",
      agent.hypercall(Hypercall.xen_version, XenVersionOp.version, 0),
      (HVKIT_XEN_VERSION.major << 16) | HVKIT_XEN_VERSION.minor,
    );
    check.equal(
      "xen_version(XENVER_pagesize)",
      agent.hypercall(Hypercall.xen_version, XenVersionOp.pagesize, 0),
      agent.pageSize,
    );
    check.equal(
      "console_io(CONSOLEIO_write, 0 bytes)",
      agent.hypercall(
        Hypercall.console_io,
        ConsoleIoCmd.write,
        0,
        agent.handle(agent.boot.scratch),
      ),
      ctx.cell.role === "dom0" ? 0 : -Errno.EPERM,
    );
    check.equal(
      "sched_op(SCHEDOP_yield)",
      agent.hypercall(Hypercall.sched_op, SchedOp.yield, 0),
      0,
    );
    const self = agent.alloc(2, 2);
    agent.writeUint(self, 2, DomId.SELF);
    check.equal(
      "memory_op(XENMEM_current_reservation, DOMID_SELF) is start_info's nr_pages",
      agent.hypercall(Hypercall.memory_op, MemoryOp.current_reservation, agent.handle(self)),
      agent.bootInfo().nrPages,
    );
    check.equal(
      "vcpu_op(VCPUOP_is_up, 0)",
      agent.hypercall(Hypercall.vcpu_op, VcpuOp.is_up, 0, 0),
      1,
    );
    check.equal(
      "event_channel_op(sub-op 99)",
      agent.hypercall(Hypercall.event_channel_op, 99, agent.handle(agent.boot.scratch)),
      -Errno.ENOSYS,
    );
    check.equal("hypercall 60", agent.hypercall(60), -Errno.ENOSYS);
  },
});
