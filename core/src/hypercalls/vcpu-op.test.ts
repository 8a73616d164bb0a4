import { describe, expect, it } from "vitest";
import { Hypercall, VcpuOp, Virq } from "../abi/numbers.js";
import { VcpuContextRun } from "../arch-plugin.js";
import { VCPU_RUNSTATE_INFO } from "../abi/vcpu.js";
import { VCPU_INFO } from "../abi/xen.js";
import { DomainState, ShutdownCause, ShutdownReason, type Domain } from "../domain.js";
import { Errno } from "../errno.js";
import { evtchnBindVirq, evtchnIsPending } from "../event-channel.js";
import { readGuestU32, readGuestU64, writeGuestU32, writeGuestU64 } from "../guest-memory.js";
import type { HvMachine } from "../machine-impl.js";
import { fakeVcpu, mapFakePages } from "../testing/fake-arch.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "../testing/fake-machine.js";
import { registerVcpuTimeArea, sendTimerEvent, vcpuTimers } from "../time.js";
import type { Vcpu } from "../vcpu.js";
import { VcpuState } from "../vcpu.js";
import { TEST_ILP32, TEST_LP64_LE } from "../testing/data-models.js";

const op = Hypercall.vcpu_op;

function setup(vcpus = 2) {
  const f = fakeMachine();
  const d = addFakeDomain(f.machine, { vcpus });
  d.sharedInfoMfn = mapFakePages(f.machine, d, 0x40000n, 1)[0];
  return { ...f, d };
}

const CONTEXT = TEST_LP64_LE.vcpuGuestContext!.layout(TEST_LP64_LE);

/**
 * Gives the fake arch a setVcpuContext hook that records each context's `pc` and returns
 * `rc`.
 */
function withInitHook(machine: HvMachine, rc = 0) {
  const calls: { target: Vcpu; pc: bigint; initialised: boolean }[] = [];
  Object.assign(machine.arch, {
    setVcpuContext(_m: HvMachine, target: Vcpu, context: DataView, initialised: boolean): number {
      calls.push({ target, pc: CONTEXT.getBigInt(context, 0, "pc"), initialised });
      return rc;
    },
  });
  return calls;
}

function mfnOf(d: Domain, va: bigint): number {
  return d.vcpus[0].arch.translate(va, false) >> 12;
}

describe("vcpu_op: lifecycle", () => {
  it("a vcpuid the domain does not have is -ENOENT for every command", () => {
    const { d } = setup(2);
    for (const cmd of [VcpuOp.is_up, VcpuOp.up, VcpuOp.initialise, 99]) {
      expect(hypercall(d, op, [cmd, 2, 0])).toBe(-Errno.ENOENT);
      expect(hypercall(d, op, [cmd, 0xffffffff, 0])).toBe(-Errno.ENOENT);
    }
  });

  it("unknown commands are -ENOSYS", () => {
    const { d } = setup();
    expect(hypercall(d, op, [99, 0, 0])).toBe(-Errno.ENOSYS);
    expect(hypercall(d, op, [VcpuOp.send_nmi, 0, 0])).toBe(-Errno.ENOSYS);
  });

  it("initialise: -ENOSYS without the arch hook, -EEXIST for the started vCPU", () => {
    const { d } = setup();
    expect(hypercall(d, op, [VcpuOp.initialise, 1, DATA_VA])).toBe(-Errno.ENOSYS);
    const { machine, d: d2 } = setup();
    const calls = withInitHook(machine);
    expect(hypercall(d2, op, [VcpuOp.initialise, 0, DATA_VA])).toBe(-Errno.EEXIST);
    expect(calls).toEqual([]);
  });

  it("initialise reads the context before it looks at the vCPU: -EFAULT even when initialised (default_initialise_vcpu)", () => {
    const { machine, d } = setup();
    const calls = withInitHook(machine);
    // vCPU 0 runs (initialised by the builder); 0x900000 is not mapped.
    expect(hypercall(d, op, [VcpuOp.initialise, 0, 0x900000n])).toBe(-Errno.EFAULT);
    expect(hypercall(d, op, [VcpuOp.initialise, 0, DATA_VA])).toBe(-Errno.EEXIST);
    expect(hypercall(d, op, [VcpuOp.initialise, 1, 0x900000n])).toBe(-Errno.EFAULT);
    // A context that ends past the data area is unreadable as a whole.
    expect(hypercall(d, op, [VcpuOp.initialise, 1, DATA_VA + 4096n * 2n - 8n])).toBe(-Errno.EFAULT);
    expect(calls).toEqual([]);
  });

  it("initialise: -EINVAL for a vCPU with no vcpu_info (no shared_info slot)", () => {
    const f = fakeMachine();
    const d = addFakeDomain(f.machine, { vcpus: 2 });
    withInitHook(f.machine);
    expect(hypercall(d, op, [VcpuOp.initialise, 1, DATA_VA])).toBe(-Errno.EINVAL);
  });

  it("initialise passes the context, copied from the caller, to the arch once; then -EEXIST; the arch's error is returned", () => {
    const { machine, d } = setup();
    const calls = withInitHook(machine, VcpuContextRun.Online);
    writeGuestU64(d.vcpus[0], DATA_VA + BigInt(CONTEXT.offsetOf("pc")), 0xabcdefn);
    expect(hypercall(d, op, [VcpuOp.initialise, 1, DATA_VA])).toBe(0);
    expect(calls).toEqual([{ target: d.vcpus[1], pc: 0xabcdefn, initialised: false }]);
    // VGCF_online does not start it: Xen clears _VPF_down without waking it.
    expect(d.vcpus[1].state).toBe(VcpuState.Down);
    expect(hypercall(d, op, [VcpuOp.initialise, 1, DATA_VA])).toBe(-Errno.EEXIST);
    const f = setup();
    withInitHook(f.machine, -Errno.EINVAL);
    expect(hypercall(f.d, op, [VcpuOp.initialise, 1, DATA_VA])).toBe(-Errno.EINVAL);
    // A refused context leaves the vCPU uninitialised: up still fails.
    expect(hypercall(f.d, op, [VcpuOp.up, 1, 0])).toBe(-Errno.EINVAL);
  });

  it("up: -EINVAL until initialised, then the vCPU runs; is_up follows", () => {
    const { machine, d } = setup();
    withInitHook(machine);
    expect(hypercall(d, op, [VcpuOp.is_up, 1, 0])).toBe(0);
    expect(hypercall(d, op, [VcpuOp.up, 1, 0])).toBe(-Errno.EINVAL);
    expect(hypercall(d, op, [VcpuOp.initialise, 1, DATA_VA])).toBe(0);
    expect(hypercall(d, op, [VcpuOp.up, 1, 0])).toBe(0);
    expect(d.vcpus[1].state).toBe(VcpuState.Runnable);
    expect(hypercall(d, op, [VcpuOp.is_up, 1, 0])).toBe(1);
    expect(hypercall(d, op, [VcpuOp.up, 1, 0])).toBe(0); // already up: nothing changes
    expect(hypercall(d, op, [VcpuOp.is_up, 0, 0])).toBe(1);
  });

  it("down: a vCPU goes down while another is up; the last one down powers the domain off", () => {
    const { machine, d } = setup();
    withInitHook(machine);
    hypercall(d, op, [VcpuOp.initialise, 1, DATA_VA]);
    hypercall(d, op, [VcpuOp.up, 1, 0]);
    expect(hypercall(d, op, [VcpuOp.down, 0, 0])).toBe(0);
    expect(d.vcpus[0].state).toBe(VcpuState.Down);
    expect(hypercall(d, op, [VcpuOp.is_up, 0, 0])).toBe(0);
    expect(d.state).toBe(DomainState.Running);
    // vCPU 0 was initialised by the builder, so it can come back up.
    expect(hypercall(d, op, [VcpuOp.up, 0, 0])).toBe(0);
    expect(hypercall(d, op, [VcpuOp.down, 1, 0])).toBe(0);
    expect(hypercall(d, op, [VcpuOp.down, 0, 0])).toBe(0);
    expect(d.state).toBe(DomainState.Shutdown);
    expect(d.shutdownReason).toBe(ShutdownReason.Poweroff);
    // hvkit records that nobody asked: `hvkit run` reports a halted kernel, not a poweroff.
    expect(d.shutdownCause).toBe(ShutdownCause.LastVcpuDown);
  });
  it("down of a blocked vCPU keeps it blocked: up leaves it waiting, its wake-up while down only ends the wait", () => {
    const { machine, d } = setup();
    withInitHook(machine);
    hypercall(d, op, [VcpuOp.initialise, 1, DATA_VA]);
    hypercall(d, op, [VcpuOp.up, 1, 0]);
    const v = d.vcpus[1];
    machine.blockVcpu(v); // waiting in SCHEDOP_poll or SCHEDOP_block
    expect(hypercall(d, op, [VcpuOp.down, 1, 0])).toBe(0);
    expect(hypercall(d, op, [VcpuOp.is_up, 1, 0])).toBe(0);
    expect(v.runstate.state).toBe(2); // RUNSTATE_blocked (vcpu_sleep_nosync)
    expect(hypercall(d, op, [VcpuOp.up, 1, 0])).toBe(0);
    expect(hypercall(d, op, [VcpuOp.is_up, 1, 0])).toBe(1);
    expect(v.state).toBe(VcpuState.Blocked); // _VPF_blocked outlives _VPF_down
    expect(hypercall(d, op, [VcpuOp.down, 1, 0])).toBe(0);
    machine.wakeVcpu(v); // its event comes while it is down
    expect(v.state).toBe(VcpuState.Down);
    expect(v.runstate.state).toBe(3); // RUNSTATE_offline (vcpu_wake)
    expect(hypercall(d, op, [VcpuOp.up, 1, 0])).toBe(0);
    expect(v.state).toBe(VcpuState.Runnable);
    expect(v.runstate.state).toBe(1);
  });
});

describe("vcpu_op: runstate", () => {
  it("get_runstate_info: times per state sum to system time; -EFAULT on a bad pointer", () => {
    const { machine, d } = setup(1);
    const seen: bigint[][] = [];
    fakeVcpu(d.vcpus[0]).push(
      { kind: "compute", instructions: 1000 },
      { kind: "hypercall", nr: Hypercall.set_timer_op, args: [5_000] },
      { kind: "idle" },
      { kind: "hypercall", nr: op, args: [VcpuOp.get_runstate_info, 0, DATA_VA] },
      {
        kind: "call",
        fn: (fv) => {
          const l = VCPU_RUNSTATE_INFO.layout(TEST_LP64_LE);
          const v = fv.vcpu;
          seen.push([
            BigInt(readGuestU32(v, DATA_VA)),
            readGuestU64(v, DATA_VA + BigInt(l.offsetOf("state_entry_time"))),
            ...[0, 1, 2, 3].map((i) => readGuestU64(v, DATA_VA + BigInt(l.offsetOf(`time.${i}`)))),
          ]);
          seen.push([BigInt(machine.clock.now)]);
        },
      },
    );
    evtchnBindVirq(machine, d, Virq.timer, 0);
    machine.run({ maxInstructions: 2000 });
    const [[state, , running, runnable, blocked, offline], [now]] = seen;
    expect(state).toBe(0n); // running
    expect(blocked).toBeGreaterThan(3_000n); // idle from ~1002 to 5000
    expect(running + runnable + blocked + offline).toBe(now);
    expect(hypercall(d, op, [VcpuOp.get_runstate_info, 0, 0])).toBe(-Errno.EFAULT);
  });

  it("register_runstate_memory_area copies the runstate there; -EFAULT when the handle is unreadable", () => {
    const { d } = setup(2);
    writeGuestU64(d.vcpus[0], DATA_VA, DATA_VA + 256n);
    expect(hypercall(d, op, [VcpuOp.register_runstate_memory_area, 1, DATA_VA])).toBe(0);
    expect(readGuestU32(d.vcpus[0], DATA_VA + 256n)).toBe(3); // vCPU 1 is offline
    expect(hypercall(d, op, [VcpuOp.register_runstate_memory_area, 1, 0])).toBe(-Errno.EFAULT);
  });
});

describe("vcpu_op: timers", () => {
  it("set_singleshot_timer: own vCPU only, -EFAULT, arms; a past deadline raises VIRQ_TIMER at once (flags ignored)", () => {
    const { machine, d } = setup();
    const port = evtchnBindVirq(machine, d, Virq.timer, 0);
    writeGuestU64(d.vcpus[0], DATA_VA, 70_000n);
    writeGuestU32(d.vcpus[0], DATA_VA + 8n, 0);
    expect(hypercall(d, op, [VcpuOp.set_singleshot_timer, 1, DATA_VA])).toBe(-Errno.EINVAL);
    expect(hypercall(d, op, [VcpuOp.stop_singleshot_timer, 1, 0])).toBe(-Errno.EINVAL);
    expect(hypercall(d, op, [VcpuOp.set_singleshot_timer, 0, 0])).toBe(-Errno.EFAULT);
    expect(hypercall(d, op, [VcpuOp.set_singleshot_timer, 0, DATA_VA])).toBe(0);
    const t = vcpuTimers(machine, d.vcpus[0]);
    expect(t.singleshot.deadline).toBe(70_000);
    expect(hypercall(d, op, [VcpuOp.stop_singleshot_timer, 0, 0])).toBe(0);
    expect(t.singleshot.armed).toBe(false);
    machine.clock.advance(100_000);
    writeGuestU32(d.vcpus[0], DATA_VA + 8n, 1); // VCPU_SSHOTTMR_future
    expect(evtchnIsPending(machine, d, port)).toBe(false);
    expect(hypercall(d, op, [VcpuOp.set_singleshot_timer, 0, DATA_VA])).toBe(0);
    expect(evtchnIsPending(machine, d, port)).toBe(true);
    expect(t.singleshot.armed).toBe(false);
  });

  it("set_periodic_timer: under 1 ms or over 2^62 ns is -EINVAL; ticks each period; stop", () => {
    const { machine, d } = setup();
    const port = evtchnBindVirq(machine, d, Virq.timer, 0);
    const v = d.vcpus[0];
    for (const bad of [0n, 999_999n, (1n << 62n) + 1n]) {
      writeGuestU64(v, DATA_VA, bad);
      expect(hypercall(d, op, [VcpuOp.set_periodic_timer, 0, DATA_VA])).toBe(-Errno.EINVAL);
    }
    expect(hypercall(d, op, [VcpuOp.set_periodic_timer, 0, 0])).toBe(-Errno.EFAULT);
    writeGuestU64(v, DATA_VA, 1_000_000n);
    machine.clock.advance(10);
    expect(hypercall(d, op, [VcpuOp.set_periodic_timer, 0, DATA_VA])).toBe(0);
    expect(evtchnIsPending(machine, d, port)).toBe(false); // less than a period since 0
    const t = vcpuTimers(machine, v);
    expect(t.periodic.deadline).toBe(1_000_000);
    machine.clock.jumpToNextDeadline();
    expect(evtchnIsPending(machine, d, port)).toBe(true);
    expect(t.lastPeriodicEvent).toBe(1_000_000);
    expect(t.periodic.deadline).toBe(2_000_000);
    expect(hypercall(d, op, [VcpuOp.stop_periodic_timer, 0, 0])).toBe(0);
    expect(t.periodic.armed).toBe(false);
    // Set again long after the last event: a tick at once, the next one a period later.
    machine.clock.advance(5_000_000);
    expect(hypercall(d, op, [VcpuOp.set_periodic_timer, 0, DATA_VA])).toBe(0);
    expect(t.lastPeriodicEvent).toBe(machine.clock.now);
    expect(t.periodic.deadline).toBe(machine.clock.now + 1_000_000);
  });
});

describe("vcpu_op: the arch's own commands", () => {
  it("commands the core lacks go to the arch's vcpuOp with the named vCPU; -ENOSYS without one", () => {
    const { machine, d } = setup(2);
    expect(hypercall(d, op, [VcpuOp.register_vcpu_time_memory_area, 1, DATA_VA])).toBe(
      -Errno.ENOSYS,
    );
    const calls: [number, Vcpu, bigint][] = [];
    Object.assign(machine.arch, {
      vcpuOp(_ctx: unknown, cmd: number, target: Vcpu, arg: bigint): number {
        calls.push([cmd, target, arg]);
        return -Errno.EFAULT;
      },
    });
    expect(hypercall(d, op, [VcpuOp.register_vcpu_time_memory_area, 1, DATA_VA])).toBe(
      -Errno.EFAULT,
    );
    expect(calls).toEqual([[VcpuOp.register_vcpu_time_memory_area, d.vcpus[1], DATA_VA]]);
    // The core's own commands and a vCPU the domain lacks never reach it.
    expect(hypercall(d, op, [VcpuOp.is_up, 1, 0])).toBe(0);
    expect(hypercall(d, op, [VcpuOp.register_vcpu_time_memory_area, 2, DATA_VA])).toBe(
      -Errno.ENOENT,
    );
    expect(calls.length).toBe(1);
  });
});

describe("the secondary vcpu_time_info (registerVcpuTimeArea, update_secondary_system_time)", () => {
  const AREA = DATA_VA + 256n;
  /** The copy at AREA: version and system_time. */
  function area(v: Vcpu): [number, bigint] {
    return [readGuestU32(v, AREA), readGuestU64(v, AREA + 16n)];
  }

  it("holds the vCPU's time record from registration and after each rewrite; address 0 stops it", () => {
    const { machine, d } = setup(2);
    const v = d.vcpus[0];
    machine.clock.advance(5_000);
    registerVcpuTimeArea(machine, v, AREA);
    const time = VCPU_INFO.layout(TEST_LP64_LE).offsetOf("time");
    const [version, system] = area(v);
    expect(version % 2).toBe(0);
    expect(version).toBe(machine.memory.view.getUint32(v.vcpuInfoAddr() + time, true));
    expect(system).toBe(5_000n);
    machine.clock.advance(7_000);
    sendTimerEvent(machine, v);
    expect(area(v)).toEqual([version + 2, 12_000n]);
    registerVcpuTimeArea(machine, v, 0n);
    machine.clock.advance(1_000);
    sendTimerEvent(machine, v);
    expect(area(v)).toEqual([version + 2, 12_000n]);
  });
});

describe("vcpu_op: register_vcpu_info", () => {
  function arg(d: Domain, mfn: bigint, offset: number) {
    writeGuestU64(d.vcpus[0], DATA_VA, mfn);
    writeGuestU32(d.vcpus[0], DATA_VA + 8n, offset);
    writeGuestU32(d.vcpus[0], DATA_VA + 12n, 0);
    return DATA_VA;
  }

  it("checks the frame and offset as Xen does", () => {
    const { machine, d } = setup();
    const page = mapFakePages(machine, d, 0x50000n, 1)[0];
    const reg = (mfn: bigint, off: number) =>
      hypercall(d, op, [VcpuOp.register_vcpu_info, 1, arg(d, mfn, off)]);
    expect(hypercall(d, op, [VcpuOp.register_vcpu_info, 1, 0])).toBe(-Errno.EFAULT);
    expect(reg(BigInt(page), 4096)).toBe(-Errno.EINVAL); // leaves the frame
    expect(reg(1n << 60n, 0)).toBe(-Errno.EINVAL); // mfn << 12 overflows
    expect(reg((1n << 52n) - 1n, 4095)).toBe(-Errno.EINVAL); // all ones
    expect(reg(BigInt(page), 4096 - 32)).toBe(-Errno.ENXIO); // crosses the page
    expect(reg(BigInt(page), 4)).toBe(-Errno.ENXIO); // not 8-byte aligned
    const other = addFakeDomain(machine);
    expect(reg(BigInt(mfnOf(other, DATA_VA)), 0)).toBe(-Errno.EINVAL); // not ours
    expect(reg(BigInt(machine.memory.frameTable.frames + 5), 0)).toBe(-Errno.EINVAL);
    expect(d.vcpus[1].registeredVcpuInfo).toBe(-1);
  });

  it("needs the alignment vcpu_info has in the guest's data model (4 in an ILP32 one)", () => {
    const { machine } = fakeMachine({ dataModel: TEST_ILP32, wordBits: 32 });
    const d = addFakeDomain(machine, { vcpus: 2 });
    d.sharedInfoMfn = mapFakePages(machine, d, 0x40000n, 1)[0];
    const page = mapFakePages(machine, d, 0x50000n, 1)[0];
    expect(VCPU_INFO.layout(TEST_ILP32).align).toBe(4);
    const reg = (off: number) =>
      hypercall(d, op, [VcpuOp.register_vcpu_info, 1, arg(d, BigInt(page), off)]);
    expect(reg(2)).toBe(-Errno.ENXIO);
    expect(reg(4)).toBe(0);
    expect(d.vcpus[1].vcpuInfoAddr()).toBe(page * 4096 + 4);
  });

  it("vCPUs past the model's legacyMaxVcpus have no vcpu_info in shared_info", () => {
    for (const model of [TEST_ILP32, TEST_LP64_LE]) {
      const { machine } = fakeMachine({ dataModel: model });
      const d = addFakeDomain(machine, { vcpus: 17 });
      d.sharedInfoMfn = mapFakePages(machine, d, 0x40000n, 1)[0];
      const size = VCPU_INFO.layout(model).size;
      expect(d.vcpus[15].vcpuInfoAddr()).toBe(d.sharedInfoMfn * 4096 + 15 * size);
      expect(d.vcpus[16].vcpuInfoAddr() >= 0, model.name).toBe(model.legacyMaxVcpus > 16);
      const init = hypercall(d, op, [VcpuOp.initialise, 16, DATA_VA]);
      expect(init).toBe(model.legacyMaxVcpus > 16 ? -Errno.ENOSYS : -Errno.EINVAL);
    }
  });

  it("moves the vcpu_info, marks everything pending, refreshes time; a second time is -EBUSY", () => {
    const { machine, d } = setup();
    const page = mapFakePages(machine, d, 0x50000n, 1)[0];
    const v1 = d.vcpus[1];
    const old = v1.vcpuInfoAddr();
    machine.memory.bytes[old + 1] = 1; // evtchn_upcall_mask
    machine.clock.advance(777);
    expect(hypercall(d, op, [VcpuOp.register_vcpu_info, 1, arg(d, BigInt(page), 128)])).toBe(0);
    const pa = page * 4096 + 128;
    expect(v1.vcpuInfoAddr()).toBe(pa);
    const l = VCPU_INFO.layout(TEST_LP64_LE);
    const view = machine.memory.view;
    expect(l.getNumber(view, pa, "evtchn_upcall_pending")).toBe(1);
    expect(l.getNumber(view, pa, "evtchn_upcall_mask")).toBe(1);
    expect(l.getBigInt(view, pa, "evtchn_pending_sel")).toBe((1n << 64n) - 1n);
    expect(l.getBigInt(view, pa, "time.system_time")).toBe(777n);
    expect(l.getNumber(view, pa, "time.version") % 2).toBe(0);
    expect(hypercall(d, op, [VcpuOp.register_vcpu_info, 1, arg(d, BigInt(page), 256)])).toBe(
      -Errno.EBUSY,
    );
  });
});
