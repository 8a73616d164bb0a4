import { describe, expect, it } from "vitest";
import { Hypercall, SchedOp } from "./abi/numbers.js";
import { VcpuExitKind } from "./arch-plugin.js";
import { Timer, VirtualClock } from "./clock.js";
import { DomainState, ShutdownReason } from "./domain.js";
import { fakeVcpu, type FakeStep } from "./testing/fake-arch.js";
import { addFakeDomain, DATA_VA, fakeMachine } from "./testing/fake-machine.js";
import { IDLE_EXPIRY_LIMIT, Scheduler } from "./scheduler.js";
import { VcpuState, type Vcpu } from "./vcpu.js";

const poweroff: FakeStep = {
  kind: "hypercall",
  nr: Hypercall.sched_op,
  args: [SchedOp.shutdown, DATA_VA],
};
const yieldStep: FakeStep = { kind: "hypercall", nr: Hypercall.sched_op, args: [SchedOp.yield] };
const blockStep: FakeStep = { kind: "hypercall", nr: Hypercall.sched_op, args: [SchedOp.block] };

/** Three domains doing different work; returns the trace and end state. */
function scenario(quantum: number) {
  const { machine, arch } = fakeMachine({}, { quantum });
  addFakeDomain(machine, {
    script: [
      { kind: "compute", instructions: 2500 },
      yieldStep,
      { kind: "compute", instructions: 700 },
      poweroff,
    ],
  });
  addFakeDomain(machine, {
    script: [
      { kind: "compute", instructions: 1234 },
      { kind: "fatal", message: "boom" },
    ],
  });
  addFakeDomain(machine, { script: [{ kind: "compute", instructions: 4000 }, poweroff] });
  const outcome = machine.run({ maxInstructions: 1_000_000 });
  return { outcome, trace: arch.trace, now: machine.now };
}

describe("scheduler", () => {
  it("runs vCPUs round-robin in quanta; a crash ends only that domain's turns", () => {
    const { trace, outcome } = scenario(1000);
    expect(trace[4].exit).toBe(VcpuExitKind.Fatal);
    expect(outcome.kind).toBe("all-shutdown");
    const turns = trace.map((r) => `${r.domain}:${r.budget}:${r.retired}`);
    expect(turns.slice(0, 6)).toEqual([
      "0:1000:1000",
      "1:1000:1000",
      "2:1000:1000",
      "0:1000:1000",
      "1:1000:234",
      "2:1000:1000",
    ]);
    // Domain 1 hit its fatal exit and crashed; the others went on to power off.
    expect(outcome.domains.map((d) => d.shutdownReason)).toEqual([
      ShutdownReason.Poweroff,
      ShutdownReason.Crash,
      ShutdownReason.Poweroff,
    ]);
  });

  it("is deterministic: same inputs, same interleaving, same virtual time", () => {
    const a = scenario(333);
    const b = scenario(333);
    expect(b.trace).toEqual(a.trace);
    expect(b.now).toBe(a.now);
    expect(b.outcome).toEqual(a.outcome);
    // Virtual time is instructions retired (1 ns each), plus 1 ns per exit that retired none.
    const retired = a.trace.reduce((s, r) => s + r.retired, 0);
    expect(a.outcome.instructions).toBe(Number(a.now));
    expect(a.outcome.instructions).toBeGreaterThanOrEqual(retired);
    expect(scenario(500).trace).not.toEqual(a.trace);
  });

  it("stops at the instruction budget and can be resumed", () => {
    const { machine } = fakeMachine({}, { quantum: 100 });
    addFakeDomain(machine, { script: [{ kind: "compute", instructions: 10_000 }, poweroff] });
    addFakeDomain(machine); // spins forever
    const first = machine.run({ maxInstructions: 1050 });
    expect(first.kind).toBe("budget-exhausted");
    expect(first.instructions).toBe(1050);
    expect(machine.now).toBe(1050n);
    expect(first.domains.map((d) => d.state)).toEqual([DomainState.Running, DomainState.Running]);
    const second = machine.run({ maxInstructions: 50 });
    expect(second.instructions).toBe(50);
    expect(machine.now).toBe(1100n);
  });

  it("reports a deadlock when every live vCPU is blocked and no timer is pending", () => {
    const { machine } = fakeMachine();
    const a = addFakeDomain(machine, { script: [blockStep] });
    const b = addFakeDomain(machine, {
      script: [{ kind: "compute", instructions: 10 }, { kind: "idle" }],
    });
    addFakeDomain(machine, { script: [poweroff] });
    const outcome = machine.run({ maxInstructions: 1_000_000 });
    expect(outcome.kind).toBe("deadlock");
    expect(a.vcpus[0].state).toBe(VcpuState.Blocked);
    expect(b.vcpus[0].state).toBe(VcpuState.Blocked);
    expect(outcome.domains[2].state).toBe(DomainState.Shutdown);
  });

  it("a domain with no runnable vCPU (all down) is a deadlock, not a spin", () => {
    const { machine } = fakeMachine();
    machine.createDomain({ privileged: false, mode: "pv", vcpus: 2 });
    expect(machine.run().kind).toBe("deadlock");
  });

  it("with everyone blocked, jumps virtual time to the next timer, which wakes a vCPU", () => {
    const { machine, arch } = fakeMachine();
    const d = addFakeDomain(machine, {
      script: [{ kind: "compute", instructions: 40 }, blockStep, poweroff],
    });
    const vcpu = d.vcpus[0];
    machine.clock.arm(new Timer(() => machine.wakeVcpu(vcpu)), 1_000_000);
    const outcome = machine.run();
    expect(outcome.kind).toBe("all-shutdown");
    expect(d.shutdownReason).toBe(ShutdownReason.Poweroff);
    // The run after the wake-up starts exactly at the deadline.
    expect(arch.trace[arch.trace.length - 1].at).toBe(1_000_000);
    expect(fakeVcpu(vcpu).results).toEqual([0, 0]);
  });

  it("cuts a running slice at a timer deadline so timers fire on time", () => {
    const { machine, arch } = fakeMachine({}, { quantum: 10_000 });
    addFakeDomain(machine, { script: [{ kind: "compute", instructions: 50_000 }, poweroff] });
    const firedAt: number[] = [];
    machine.clock.arm(new Timer(() => firedAt.push(machine.clock.now)), 12_345);
    machine.run();
    expect(firedAt).toEqual([12_345]);
    expect(arch.trace[1]).toMatchObject({ at: 10_000, budget: 2345 });
  });

  it("an Idle exit blocks the vCPU; a Fatal exit crashes only its domain", () => {
    const { machine, arch, sink } = fakeMachine();
    const idle = addFakeDomain(machine, { script: [{ kind: "idle" }] });
    const fatal = addFakeDomain(machine, {
      script: [{ kind: "fatal", message: "#PF at 0xdead, no handler" }],
    });
    const worker = addFakeDomain(machine, {
      script: [{ kind: "compute", instructions: 300_000 }, poweroff],
    });
    expect(machine.run().kind).toBe("deadlock");
    expect(idle.vcpus[0].state).toBe(VcpuState.Blocked);
    expect(fatal.shutdownReason).toBe(ShutdownReason.Crash);
    expect(worker.shutdownReason).toBe(ShutdownReason.Poweroff);
    expect(sink.messages).toEqual([
      "domain 1 crashed (shutdown reason crash): vcpu 0: #PF at 0xdead, no handler",
    ]);
    expect(arch.trace.filter((r) => r.domain === 1).map((r) => r.exit)).toEqual([
      VcpuExitKind.Fatal,
    ]);
  });

  it("a shut-down domain's vCPUs never run again", () => {
    const { machine, arch } = fakeMachine({}, { quantum: 100 });
    const a = addFakeDomain(machine, {
      vcpus: 2,
      script: [{ kind: "compute", instructions: 150 }, poweroff],
    });
    fakeVcpu(a.vcpus[1]).push({ kind: "compute", instructions: 1_000_000 });
    a.vcpus[1].state = VcpuState.Runnable;
    addFakeDomain(machine, { script: [{ kind: "compute", instructions: 2000 }, poweroff] });
    machine.run();
    const lastOfA = Math.max(
      ...arch.trace.flatMap((r, i) => (r.domain === 0 && r.vcpu === 0 ? [i] : [])),
    );
    expect(arch.trace.slice(lastOfA + 1).some((r) => r.domain === 0)).toBe(false);
  });

  it("yield ends the quantum but keeps the vCPU runnable", () => {
    const { machine, arch } = fakeMachine({}, { quantum: 1000 });
    addFakeDomain(machine, {
      script: [
        { kind: "compute", instructions: 10 },
        yieldStep,
        { kind: "compute", instructions: 10 },
        poweroff,
      ],
    });
    addFakeDomain(machine, { script: [{ kind: "compute", instructions: 5 }, poweroff] });
    machine.run();
    // Without the yield, domain 0's slice would go on with another run of its own.
    expect(arch.trace.map((r) => `${r.domain}:${r.retired}:${r.exit}`)).toEqual([
      "0:11:1",
      "1:6:1",
      "0:11:1",
    ]);
    expect(machine.run().kind).toBe("all-shutdown");
  });
});

describe("run options", () => {
  it("a budget of 0 runs nothing; Infinity means no limit; fractions and negatives are refused", () => {
    const { machine } = fakeMachine();
    addFakeDomain(machine, { script: [{ kind: "compute", instructions: 10 }, poweroff] });
    expect(machine.run({ maxInstructions: 0 })).toMatchObject({
      kind: "budget-exhausted",
      instructions: 0,
    });
    expect(() => machine.run({ maxInstructions: 1.5 })).toThrow(RangeError);
    expect(() => machine.run({ maxInstructions: -1 })).toThrow(RangeError);
    expect(machine.run({ maxInstructions: Infinity })).toMatchObject({
      kind: "all-shutdown",
      instructions: 11,
    });
  });
});

describe("Scheduler idle expiries", () => {
  it("ends as a deadlock when a periodic timer keeps expiring and wakes no vCPU", () => {
    const clock = new VirtualClock();
    const scheduler = new Scheduler(clock, 100);
    const vcpu = {
      state: VcpuState.Blocked,
      pauseCount: 0,
      domain: { state: DomainState.Running },
    } as unknown as Vcpu;
    scheduler.add(vcpu);
    let fired = 0;
    const tick = new Timer(() => {
      fired++;
      clock.arm(tick, Number(clock.now) + 1_000_000);
    });
    clock.arm(tick, 1_000_000);
    const host = { liveDomains: 1, runSlice: () => 1 };
    expect(scheduler.run(host, 1000)).toBe("deadlock");
    expect(fired).toBe(IDLE_EXPIRY_LIMIT + 1);
  });
});
