/**
 * VCPUOP_register_vcpu_time_memory_area, x86's second copy of a vCPU's vcpu_time_info at
 * a guest virtual address (Linux registers one for its vDSO's pvclock), so feature
 * `vcpu-time-area`:
 *
 * - xen/arch/x86/domain.c `do_vcpu_op`: the argument (a guest handle in a 64-bit union)
 *   unreadable −EFAULT; an address `guest_handle_okay` refuses −EFAULT; otherwise the
 *   handle becomes the vCPU's `time_info_guest` and the record is rewritten at once
 *   (`force_update_vcpu_system_time`). Any vCPU of the domain may be named; one it lacks
 *   −ENOENT.
 * - xen/arch/x86/time.c `update_secondary_system_time`: every later rewrite of the
 *   vcpu_time_info is copied there too (same fields, an even version), touching nothing
 *   around it; a null handle stops the copies.
 *
 * The record is rewritten when a timer event comes (`send_timer_event`), which the test
 * uses to see the copy follow.
 */
import { Errno, VCPU_INFO, VCPU_TIME_INFO, VcpuOp, Virq, type StructRef } from "@hvkit/core";
import { EventChannels } from "../../event-channels.js";
import { agentTest } from "../agent-test.js";
import { GuestVcpus } from "../guest-vcpus.js";

const MS = 1_000_000n;

/** time/vcpu-time-area. */
export const timeVcpuTimeArea = agentTest({
  area: "time",
  name: "vcpu-time-area",
  description:
    "VCPUOP_register_vcpu_time_memory_area: the copy made at once and after each update, a null handle stopping it, each error path",
  requires: { modes: ["pv"], features: ["vcpu-time-area"] },
  boot: { vcpus: 2 },
  run(agent, check) {
    const events = new EventChannels(agent);
    const vcpus = new GuestVcpus(agent);
    const size = VCPU_TIME_INFO.layout(agent.arch.dataModel).size;
    const primary = (): StructRef => agent.readStruct(VCPU_INFO, agent.vcpuInfo(0));
    const buffer = agent.alloc(size + 16, 16);
    const area = buffer + 8n;
    agent.write(buffer, new Uint8Array(size + 16).fill(0x5a));
    const copy = (): StructRef => agent.readStruct(VCPU_TIME_INFO, area);
    const register = (id: number, va: bigint): bigint => {
      const arg = agent.alloc(8, 8);
      agent.writeUint(arg, 8, agent.handle(va));
      return vcpus.op(VcpuOp.register_vcpu_time_memory_area, id, agent.handle(arg));
    };

    check.equal(
      "register from an unmapped argument",
      vcpus.op(
        VcpuOp.register_vcpu_time_memory_area,
        0,
        agent.handle(agent.spec.unmappedAddress(agent)),
      ),
      -Errno.EFAULT,
    );
    check.equal("register for vCPU 2 (absent)", register(2, area), -Errno.ENOENT);
    check.equal("register for vCPU 1 (down)", register(1, area + 0x100n), 0);
    check.equal("register for vCPU 0", register(0, area), 0);
    const same = (label: string): void => {
      const p = primary();
      const c = copy();
      for (const f of ["version", "tsc_timestamp", "system_time", "tsc_to_system_mul"]) {
        check.equal(`${label}: ${f} as in vcpu_info`, c.getBigInt(f), p.getBigInt(`time.${f}`));
      }
      check.equal(
        `${label}: tsc_shift as in vcpu_info`,
        c.getNumber("tsc_shift"),
        p.getNumber("time.tsc_shift"),
      );
      check.equal(`${label}: version even`, c.getNumber("version") & 1, 0);
    };
    same("at registration");
    check.equal("the byte before the area untouched", agent.readUint(area - 1n, 1), 0x5an);
    check.equal("the byte after the area untouched", agent.readUint(area + BigInt(size), 1), 0x5an);

    events.maskAll();
    const bound = events.bindVirq(Virq.timer, 0);
    check.equal("bind_virq VIRQ_TIMER", bound.rc, 0);
    const before = copy().getBigInt("system_time");
    const deadline = agent.systemTime() + MS;
    check.equal("singleshot +1 ms", vcpus.singleshot(0, deadline), 0);
    events.waitFor(bound.port);
    events.clearVcpuBits(0);
    same("after the timer event");
    const after = copy().getBigInt("system_time");
    check.that(
      "the copy's system_time moved on to the deadline",
      after >= deadline,
      after - before,
    );

    check.equal("register a null handle", register(0, 0n), 0);
    events.clearPending(bound.port);
    check.equal("singleshot +1 ms again", vcpus.singleshot(0, agent.systemTime() + MS), 0);
    events.waitFor(bound.port);
    events.clearVcpuBits(0);
    check.equal("a null handle stops the copies", copy().getBigInt("system_time"), after);
  },
});
