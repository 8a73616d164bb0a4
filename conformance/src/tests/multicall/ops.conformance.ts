/**
 * __HYPERVISOR_multicall's per-entry results and its errors, each entry laid out by the
 * arch's data model (xen.h `struct multicall_entry { xen_ulong_t op, result; xen_ulong_t
 * args[6]; }`):
 *
 * - xen/common/multicall.c `do_multicall`: each entry's result is copied back and the call
 *   returns 0 whatever the entries returned; a multicall made while one is in progress
 *   (_MCSF_in_multicall) −EINVAL, so a nested entry's result is −EINVAL, its list is not
 *   run and the batch goes on; a list `guest_handle_okay` refuses −EFAULT before any entry
 *   runs. nr_calls is a uint32_t in Xen 4.19 (`do_multicall`, xen/include/hypercall-defs.c:
 *   the register's upper half is ignored where `long` is 64-bit; 4.20 widened it).
 * - xen/arch/x86/pv/hypercall.c `pv_do_multicall_call`: an op outside the hypercall table
 *   (the whole xen_ulong_t compared) −ENOSYS in the entry's result.
 *
 * Entries that cannot be read or written back (which need the guest's frames) are in
 * `multicall/entry-faults`. The x86_64 address-space cases (a non-canonical list, one in
 * Xen's half, nr_calls overflowing the top of the guest's half) stay with the compiled
 * test (`compiled/multicall/ops`).
 */
import { DomId, Errno, Hypercall, MemoryOp, VcpuOp, XenVersionOp } from "@hvkit/core";
import { agentTest } from "../agent-test.js";
import { RESULT_SENTINEL, multicallResults, placeMulticall } from "./batch.js";

/** An unassigned hypercall number. */
const UNASSIGNED = 60;

/** multicall/ops. */
export const multicallOps = agentTest({
  area: "multicall",
  name: "ops",
  description: "multicall per-entry results, nested multicall refused, nr_calls and -EFAULT lists",
  requires: { modes: ["pv"] },
  run(agent, check) {
    const multicall = (list: bigint, nr: bigint | number): bigint =>
      agent.hypercall(Hypercall.multicall, agent.handle(list), nr);
    const version = agent.hypercall(Hypercall.xen_version, XenVersionOp.version, 0);
    const self = agent.alloc(2, 2);
    agent.writeUint(self, 2, DomId.SELF);
    const pages = agent.hypercall(
      Hypercall.memory_op,
      MemoryOp.current_reservation,
      agent.handle(self),
    );
    const wide = agent.model.xenUlong === 8;
    const xenVersion = { op: Hypercall.xen_version, args: [XenVersionOp.version, 0] };

    // Per-entry results; failures stay in their entries.
    const calls = [
      xenVersion,
      { op: Hypercall.vcpu_op, args: [VcpuOp.is_up, 0, 0] },
      { op: UNASSIGNED },
      { op: Hypercall.vcpu_op, args: [VcpuOp.is_up, 99, 0] },
      { op: Hypercall.memory_op, args: [MemoryOp.current_reservation, agent.handle(self)] },
      ...(wide ? [{ op: (1n << 32n) | BigInt(Hypercall.xen_version), args: [0, 0] }] : []),
    ];
    let list = placeMulticall(agent, calls);
    check.equal(`multicall of ${calls.length} entries`, multicall(list, calls.length), 0);
    const r = multicallResults(agent, list, calls.length);
    check.equal("entry xen_version", r[0], version);
    check.equal("entry vcpu_op is_up(0)", r[1], 1);
    check.equal(`entry hypercall ${UNASSIGNED}`, r[2], -Errno.ENOSYS);
    check.equal("entry vcpu_op is_up(99): -ENOENT, the batch goes on", r[3], -Errno.ENOENT);
    check.equal("entry memory_op current_reservation", r[4], pages);
    if (wide) {
      check.equal("entry op 2^32 + xen_version (the whole op compared)", r[5], -Errno.ENOSYS);
    }

    // A multicall inside a multicall.
    const inner = placeMulticall(agent, [xenVersion]);
    list = placeMulticall(agent, [
      { op: Hypercall.vcpu_op, args: [VcpuOp.is_up, 0, 0] },
      { op: Hypercall.multicall, args: [agent.handle(inner), 1] },
      xenVersion,
    ]);
    check.equal("multicall with a nested multicall", multicall(list, 3), 0);
    const n = multicallResults(agent, list, 3);
    check.equal("nested multicall entry", n[1], -Errno.EINVAL);
    check.equal("nested list not run", multicallResults(agent, inner, 1)[0], RESULT_SENTINEL);
    check.equal("the entry after the nested one runs", n[2], version);
    check.equal("a direct multicall after a refused nesting", multicall(inner, 1), 0);
    check.equal("its entry's result", multicallResults(agent, inner, 1)[0], version);

    // nr_calls and lists that cannot be read.
    list = placeMulticall(agent, [xenVersion, xenVersion]);
    check.equal("nr_calls 0", multicall(list, 0), 0);
    check.equal("nr_calls 0 runs nothing", multicallResults(agent, list, 1)[0], RESULT_SENTINEL);
    check.equal("an unmapped list", multicall(agent.spec.unmappedAddress(agent), 1), -Errno.EFAULT);
    if (agent.model.long === 8) {
      check.equal("nr_calls 2^58 is 0 calls (32-bit nr_calls)", multicall(list, 1n << 58n), 0);
      check.equal(
        "nr_calls 2^58 ran nothing",
        multicallResults(agent, list, 1)[0],
        RESULT_SENTINEL,
      );
      check.equal(
        "nr_calls 2^32 + 1 is 1 call (32-bit nr_calls)",
        multicall(list, (1n << 32n) + 1n),
        0,
      );
      const w = multicallResults(agent, list, 2);
      check.equal("nr_calls 2^32 + 1 ran entry 0", w[0], version);
      check.equal("nr_calls 2^32 + 1 left entry 1", w[1], RESULT_SENTINEL);
    }
  },
});
