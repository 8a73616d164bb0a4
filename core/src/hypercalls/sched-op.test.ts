import { describe, expect, it } from "vitest";
import { Hypercall, SchedOp } from "../abi/numbers.js";
import { DomainState, ShutdownReason } from "../domain.js";
import { Errno } from "../errno.js";
import { writeGuestU16, writeGuestU32, writeGuestU64 } from "../guest-memory.js";
import { SHARED_INFO } from "../abi/xen.js";
import { evtchnBindIpi, evtchnIsPolling, evtchnSend } from "../event-channel.js";
import { structAt } from "../structs.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "../testing/fake-machine.js";
import { VcpuState } from "../vcpu.js";
import { TEST_LP64_LE } from "../testing/data-models.js";

const sched = Hypercall.sched_op;

function shutdownArg(domain: Parameters<typeof hypercall>[0], reason: number, va = DATA_VA) {
  writeGuestU32(domain.vcpus[0], va, reason);
  return va;
}

describe("sched_op", () => {
  it("yield ends the slice and leaves the vCPU runnable; block blocks it", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine);
    expect(hypercall(d, sched, [SchedOp.yield])).toBe(0);
    expect(machine.scheduler.yieldPending).toBe(true);
    expect(d.vcpus[0].state).toBe(VcpuState.Runnable);
    expect(hypercall(d, sched, [SchedOp.block])).toBe(0);
    expect(d.vcpus[0].state).toBe(VcpuState.Blocked);
    machine.wakeVcpu(d.vcpus[0]);
    expect(d.vcpus[0].state).toBe(VcpuState.Runnable);
  });

  it.each([
    [ShutdownReason.Poweroff],
    [ShutdownReason.Reboot],
    [ShutdownReason.Suspend],
    [ShutdownReason.Crash],
    [ShutdownReason.Watchdog],
    [ShutdownReason.SoftReset],
  ])("shutdown(%i) shuts the caller down with that reason", (reason) => {
    const { machine, sink } = fakeMachine();
    const d = addFakeDomain(machine);
    const other = addFakeDomain(machine);
    expect(hypercall(d, sched, [SchedOp.shutdown, shutdownArg(d, reason)])).toBe(0);
    expect(d.state).toBe(DomainState.Shutdown);
    expect(d.shutdownReason).toBe(reason);
    expect(d.shutdownCode).toBe(reason);
    expect(other.state).toBe(DomainState.Running);
    expect(sink.messages.length).toBe(reason === ShutdownReason.Crash ? 1 : 0);
  });

  it("shutdown truncates the reason to 8 bits and does not range-check it (as Xen)", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine);
    expect(hypercall(d, sched, [SchedOp.shutdown, shutdownArg(d, 0x1_07)])).toBe(0);
    expect(d.shutdownReason).toBe(7);
  });

  it("shutdown with a bad pointer is -EFAULT and changes nothing", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine);
    expect(hypercall(d, sched, [SchedOp.shutdown, 0])).toBe(-Errno.EFAULT);
    expect(hypercall(d, sched, [SchedOp.shutdown, DATA_VA + 2n * 4096n - 2n])).toBe(-Errno.EFAULT);
    expect(hypercall(d, sched, [SchedOp.shutdown_code, 0xdead0000])).toBe(-Errno.EFAULT);
    expect(d.state).toBe(DomainState.Running);
    expect(d.shutdownCode).toBeNull();
  });

  it("shutdown_code is recorded once and is what a later shutdown reports", () => {
    const { machine, sink } = fakeMachine();
    const d = addFakeDomain(machine);
    expect(hypercall(d, sched, [SchedOp.shutdown_code, shutdownArg(d, ShutdownReason.Crash)])).toBe(
      0,
    );
    expect(
      hypercall(d, sched, [SchedOp.shutdown_code, shutdownArg(d, ShutdownReason.Reboot)]),
    ).toBe(0);
    expect(d.shutdownCode).toBe(ShutdownReason.Crash);
    expect(d.state).toBe(DomainState.Running);
    expect(hypercall(d, sched, [SchedOp.shutdown, shutdownArg(d, ShutdownReason.Poweroff)])).toBe(
      0,
    );
    expect(d.shutdownReason).toBe(ShutdownReason.Crash);
    expect(sink.messages).toEqual([]); // the shutdown itself was a poweroff request
    // A second shutdown changes nothing.
    expect(hypercall(d, sched, [SchedOp.shutdown, shutdownArg(d, ShutdownReason.Reboot)])).toBe(0);
    expect(d.shutdownReason).toBe(ShutdownReason.Crash);
  });

  it("remote_shutdown: -ESRCH for no such domain, -EPERM unprivileged, works for dom0", () => {
    const { machine } = fakeMachine();
    const dom0 = addFakeDomain(machine, { privileged: true });
    const domU = addFakeDomain(machine);
    const arg = (d: typeof dom0, domid: number, reason: number) => {
      writeGuestU16(d.vcpus[0], DATA_VA, domid);
      writeGuestU32(d.vcpus[0], DATA_VA + 4n, reason);
      return DATA_VA;
    };
    expect(hypercall(domU, sched, [SchedOp.remote_shutdown, arg(domU, 0, 0)])).toBe(-Errno.EPERM);
    expect(hypercall(dom0, sched, [SchedOp.remote_shutdown, arg(dom0, 42, 0)])).toBe(-Errno.ESRCH);
    expect(hypercall(dom0, sched, [SchedOp.remote_shutdown, 0])).toBe(-Errno.EFAULT);
    expect(dom0.state).toBe(DomainState.Running);
    expect(
      hypercall(dom0, sched, [SchedOp.remote_shutdown, arg(dom0, domU.id, ShutdownReason.Reboot)]),
    ).toBe(0);
    expect(domU.shutdownReason).toBe(ShutdownReason.Reboot);
    expect(dom0.state).toBe(DomainState.Running);
  });

  it("unimplemented and unknown commands are -ENOSYS", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine);
    for (const cmd of [SchedOp.watchdog, SchedOp.pin_override, 8, -1, 0x7fffffff]) {
      expect(hypercall(d, sched, [cmd, DATA_VA])).toBe(-Errno.ENOSYS);
    }
    expect(d.state).toBe(DomainState.Running);
  });

  it("block enables events and does not block when an upcall is already pending", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, { vcpus: 2 });
    d.sharedInfoMfn = machine.allocXenFrames(1)![0];
    const si = structAt(SHARED_INFO.layout(TEST_LP64_LE), machine.memory, d.sharedInfoMfn * 4096);
    si.set("vcpu_info.0.evtchn_upcall_mask", 1);
    const p = evtchnBindIpi(machine, d, 0);
    expect(evtchnSend(machine, d, p)).toBe(0);
    expect(hypercall(d, sched, [SchedOp.block])).toBe(0);
    expect(si.getNumber("vcpu_info.0.evtchn_upcall_mask")).toBe(0);
    expect(d.vcpus[0].state).toBe(VcpuState.Runnable);
    // Acknowledged: block sleeps until the next send.
    si.set("vcpu_info.0.evtchn_upcall_pending", 0);
    si.set("vcpu_info.0.evtchn_pending_sel", 0n);
    si.set("evtchn_pending.0", 0n);
    expect(hypercall(d, sched, [SchedOp.block])).toBe(0);
    expect(d.vcpus[0].state).toBe(VcpuState.Blocked);
    expect(evtchnSend(machine, d, p)).toBe(0);
    expect(d.vcpus[0].state).toBe(VcpuState.Runnable);
  });

  it("poll: errors, immediate return on a pending port, wake on a port, timeout in virtual time", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, { vcpus: 1 });
    d.sharedInfoMfn = machine.allocXenFrames(1)![0];
    const si = structAt(SHARED_INFO.layout(TEST_LP64_LE), machine.memory, d.sharedInfoMfn * 4096);
    si.set("vcpu_info.0.evtchn_upcall_mask", 1);
    const v = d.vcpus[0];
    const arg = DATA_VA;
    const ports = DATA_VA + 0x100n;
    const pollArg = (portsVa: bigint, nr: number, timeout: bigint) => {
      writeGuestU64(v, arg, portsVa);
      writeGuestU32(v, arg + 8n, nr);
      writeGuestU64(v, arg + 16n, timeout);
      return arg;
    };
    const p1 = evtchnBindIpi(machine, d, 0);
    const p2 = evtchnBindIpi(machine, d, 0);
    si.set("evtchn_mask.0", (1n << BigInt(p1)) | (1n << BigInt(p2)));
    writeGuestU32(v, ports, p1);
    writeGuestU32(v, ports + 4n, p2);
    expect(hypercall(d, sched, [SchedOp.poll, 0x40])).toBe(-Errno.EFAULT);
    expect(hypercall(d, sched, [SchedOp.poll, pollArg(ports, 129, 0n)])).toBe(-Errno.EINVAL);
    expect(hypercall(d, sched, [SchedOp.poll, pollArg(0x40n, 1, 0n)])).toBe(-Errno.EFAULT);
    writeGuestU32(v, ports + 8n, 9); // free port
    expect(hypercall(d, sched, [SchedOp.poll, pollArg(ports, 3, 0n)])).toBe(-Errno.EINVAL);
    writeGuestU32(v, ports + 8n, 5000);
    expect(hypercall(d, sched, [SchedOp.poll, pollArg(ports, 3, 0n)])).toBe(-Errno.EINVAL);
    expect(v.state).toBe(VcpuState.Runnable);
    // A masked port sent while polling wakes the poller (no upcall).
    expect(hypercall(d, sched, [SchedOp.poll, pollArg(ports, 2, 0n)])).toBe(0);
    expect(v.state).toBe(VcpuState.Blocked);
    expect(evtchnIsPolling(v)).toBe(true);
    expect(evtchnSend(machine, d, p2)).toBe(0);
    expect(v.state).toBe(VcpuState.Runnable);
    expect(evtchnIsPolling(v)).toBe(false);
    expect(si.getNumber("vcpu_info.0.evtchn_upcall_pending")).toBe(0);
    // Already pending: returns at once.
    expect(hypercall(d, sched, [SchedOp.poll, pollArg(ports + 4n, 1, 0n)])).toBe(0);
    expect(v.state).toBe(VcpuState.Runnable);
    // Polling one port: another port does not wake it; the timeout does.
    si.set("evtchn_pending.0", 0n);
    const deadline = BigInt(machine.clock.now + 5000);
    expect(hypercall(d, sched, [SchedOp.poll, pollArg(ports, 1, deadline)])).toBe(0);
    expect(evtchnSend(machine, d, p2)).toBe(0);
    expect(v.state).toBe(VcpuState.Blocked);
    machine.clock.advance(4999);
    machine.clock.fireDue();
    expect(v.state).toBe(VcpuState.Blocked);
    machine.clock.advance(1);
    machine.clock.fireDue();
    expect(v.state).toBe(VcpuState.Runnable);
    expect(evtchnIsPolling(v)).toBe(false);
  });

  // Errors Xen 4.19 documents in do_sched_op / do_poll, as a table.
  it("remote_shutdown: DOMID_SELF and a destroyed domain are -ESRCH for everyone (rcu_lock_domain_by_id), before XSM", () => {
    const { machine } = fakeMachine();
    const dom0 = addFakeDomain(machine, { privileged: true });
    const domU = addFakeDomain(machine);
    const gone = addFakeDomain(machine);
    const goneId = gone.id;
    machine.destroyDomain(gone);
    const rows: [typeof dom0, number, number][] = [
      [dom0, 0x7ff0, -Errno.ESRCH],
      [domU, 0x7ff0, -Errno.ESRCH],
      [dom0, goneId, -Errno.ESRCH],
      [domU, goneId, -Errno.ESRCH],
      [dom0, 0x7ff4, -Errno.ESRCH],
      [domU, dom0.id, -Errno.EPERM],
      [domU, domU.id, -Errno.EPERM], // XSM_DM_PRIV: not even oneself
    ];
    for (const [caller, domid, rc] of rows) {
      writeGuestU16(caller.vcpus[0], DATA_VA, domid);
      writeGuestU32(caller.vcpus[0], DATA_VA + 4n, ShutdownReason.Poweroff);
      expect([domid, hypercall(caller, sched, [SchedOp.remote_shutdown, DATA_VA])]).toEqual([
        domid,
        rc,
      ]);
    }
    expect(dom0.state).toBe(DomainState.Running);
    expect(domU.state).toBe(DomainState.Running);
  });

  it("poll: a port array the arch refuses (guest_handle_okay) is -EFAULT before events are looked at", () => {
    const refused = 0xffff800000000000n;
    const { machine } = fakeMachine({ guestAccessOk: (_d, va) => va < refused });
    const d = addFakeDomain(machine);
    d.sharedInfoMfn = machine.allocXenFrames(1)![0];
    const si = structAt(SHARED_INFO.layout(TEST_LP64_LE), machine.memory, d.sharedInfoMfn * 4096);
    // An upcall is pending and unmasked: a poll with a good array returns 0 at once.
    si.set("vcpu_info.0.evtchn_upcall_pending", 1);
    si.set("vcpu_info.0.evtchn_upcall_mask", 0);
    const v = d.vcpus[0];
    const pollArg = (ports: bigint, nr: number) => {
      writeGuestU64(v, DATA_VA, ports);
      writeGuestU32(v, DATA_VA + 8n, nr);
      writeGuestU64(v, DATA_VA + 16n, 0n);
      return DATA_VA;
    };
    expect(hypercall(d, sched, [SchedOp.poll, pollArg(DATA_VA + 0x100n, 1)])).toBe(0);
    expect(hypercall(d, sched, [SchedOp.poll, pollArg(refused, 1)])).toBe(-Errno.EFAULT);
    expect(hypercall(d, sched, [SchedOp.poll, pollArg(refused, 0)])).toBe(-Errno.EFAULT);
    // nr_ports above 128 is checked first.
    expect(hypercall(d, sched, [SchedOp.poll, pollArg(refused, 129)])).toBe(-Errno.EINVAL);
    expect(v.state).toBe(VcpuState.Runnable);
  });
});
