import { describe, expect, it } from "vitest";
import { Hypercall, Virq } from "./abi/numbers.js";
import { SHARED_INFO, VCPU_INFO, VCPU_TIME_INFO } from "./abi/xen.js";
import { evtchnBindVirq, evtchnIsPending } from "./event-channel.js";
import { writeGuestU64 } from "./guest-memory.js";
import type { Domain } from "./domain.js";
import type { HvMachine } from "./machine-impl.js";
import { fakeVcpu, mapFakePages, type FakeTypes } from "./testing/fake-arch.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "./testing/fake-machine.js";
import fc from "fast-check";
import {
  counterTicks,
  DEFAULT_BOOT_WALLCLOCK,
  scaleDelta,
  setTimeScale,
  TSC_SCALE,
  tscAt,
  updateDomainWallclock,
  updateVcpuSystemTime,
  vcpuTimers,
} from "./time.js";
import { VcpuState } from "./vcpu.js";
import { vcpuUp } from "./vcpu-lifecycle.js";
import { TEST_ILP32, TEST_LP64_LE } from "./testing/data-models.js";

const SI_VA = 0x40000n;

/** A fake domain with a shared_info page of its own. */
function domainWithSharedInfo(machine: HvMachine<FakeTypes>, vcpus = 1): Domain<FakeTypes> {
  const d = addFakeDomain(machine, { vcpus });
  d.sharedInfoMfn = mapFakePages(machine, d, SI_VA, 1)[0];
  return d;
}

function timeInfo(machine: HvMachine<FakeTypes>, d: Domain<FakeTypes>, vcpu = 0) {
  const t = VCPU_TIME_INFO.layout(TEST_LP64_LE);
  const at =
    d.sharedInfoMfn * 4096 +
    SHARED_INFO.layout(TEST_LP64_LE).offsetOf("vcpu_info") +
    vcpu * VCPU_INFO.layout(TEST_LP64_LE).size +
    VCPU_INFO.layout(TEST_LP64_LE).offsetOf("time");
  const view = machine.memory.view;
  return {
    version: t.getNumber(view, at, "version"),
    tsc: t.getBigInt(view, at, "tsc_timestamp"),
    system: t.getBigInt(view, at, "system_time"),
    mul: t.getNumber(view, at, "tsc_to_system_mul"),
    shift: t.getNumber(view, at, "tsc_shift"),
    flags: t.getNumber(view, at, "flags"),
    at,
  };
}

describe("time scale (Xen's set_time_scale)", () => {
  it("1 GHz: mul 2^31, shift 1, and a delta converts to itself", () => {
    expect(setTimeScale(1e9)).toEqual({ mulFrac: 0x80000000, shift: 1 });
    expect(TSC_SCALE).toEqual({ mulFrac: 0x80000000, shift: 1 });
    expect(scaleDelta(123_456_789n, TSC_SCALE)).toBe(123_456_789n);
  });

  it("slow and fast counters normalise into (1e9, 2e9] with the shift", () => {
    // 10 MHz: 1e7 << 7 = 1.28e9; 1e9 / 1.28e9 = 0.78125 exactly.
    expect(setTimeScale(1e7)).toEqual({ mulFrac: 3355443200, shift: 7 });
    // 2.5 GHz: >> 1 = 1.25e9; 0.8 × 2^32 rounded down.
    expect(setTimeScale(2.5e9)).toEqual({ mulFrac: 3435973836, shift: -1 });
    const s = setTimeScale(2.5e9);
    const ns = scaleDelta(2_500_000_000n, s);
    expect(ns >= 999_999_999n && ns <= 1_000_000_000n).toBe(true);
  });
});

describe("vcpu_time_info", () => {
  it("is written with an even version, the virtual time as system_time and TSC, and the scale", () => {
    const { machine } = fakeMachine();
    const d = domainWithSharedInfo(machine);
    machine.clock.advance(12_345);
    updateVcpuSystemTime(machine, d.vcpus[0]);
    const t = timeInfo(machine, d);
    expect(t).toMatchObject({ version: 2, tsc: 12_345n, system: 12_345n, mul: 0x80000000 });
    expect(t.shift).toBe(1);
    expect(t.flags).toBe(1); // XEN_PVCLOCK_TSC_STABLE_BIT
    machine.clock.advance(10);
    updateVcpuSystemTime(machine, d.vcpus[0]);
    expect(timeInfo(machine, d).version).toBe(4);
    expect(timeInfo(machine, d).system).toBe(12_355n);
  });

  it("an odd version left behind is moved past (version_update_begin ORs in 1)", () => {
    const { machine } = fakeMachine();
    const d = domainWithSharedInfo(machine);
    machine.memory.view.setUint32(timeInfo(machine, d).at, 5, true);
    updateVcpuSystemTime(machine, d.vcpus[0]);
    expect(timeInfo(machine, d).version).toBe(8);
  });

  it("an arch's own counter rate: the record's scale turns its ticks back into virtual ns", () => {
    const hz = 33_333_333;
    const { machine } = fakeMachine({ counterHz: hz });
    const d = domainWithSharedInfo(machine);
    machine.clock.advance(2_500_000_000);
    updateVcpuSystemTime(machine, d.vcpus[0]);
    const t = timeInfo(machine, d);
    expect(t.tsc).toBe(83_333_332n); // 2.5 s × 33 333 333 Hz, rounded down
    expect({ mulFrac: t.mul, shift: t.shift }).toEqual(setTimeScale(hz));
    for (const step of [0, 29, 31, 1_000_000, 1_000_000_000]) {
      machine.clock.advance(step);
      const now = machine.clock.now;
      const ticks = BigInt(counterTicks(now, hz));
      const read = t.system + scaleDelta(ticks - t.tsc, { mulFrac: t.mul, shift: t.shift });
      // One tick is 30 ns: the record was sampled between ticks (system_time = NOW(), as
      // Xen), so a reading is within one tick of virtual time.
      const off = BigInt(now) - read;
      expect(off >= -30n && off <= 30n).toBe(true);
    }
  });

  it("counterTicks is ⌊ns × hz / 10⁹⌋ and never goes back", () => {
    expect(counterTicks(1_000_000_000, 33_333_333)).toBe(33_333_333);
    expect(counterTicks(999_999_999, 33_333_333)).toBe(33_333_332);
    expect(counterTicks(12_345, 1e9)).toBe(12_345);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 44 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 1_000_000_000 }),
        (ns, step, hz) => {
          const exact = (BigInt(ns) * BigInt(hz)) / 1_000_000_000n;
          const got = counterTicks(ns, hz);
          expect(Math.abs(Number(BigInt(got) - exact))).toBeLessThanOrEqual(1);
          expect(counterTicks(ns + step, hz)).toBeGreaterThanOrEqual(got);
        },
      ),
    );
  });

  it("a guest's pvclock reading from a stale record equals virtual time, and never goes back", () => {
    const { machine } = fakeMachine();
    const d = domainWithSharedInfo(machine);
    machine.clock.advance(1_000);
    updateVcpuSystemTime(machine, d.vcpus[0]);
    const t = timeInfo(machine, d);
    let last = -1n;
    for (const step of [1, 999, 123_456, 7, 10_000_000]) {
      machine.clock.advance(step);
      const scale = { mulFrac: t.mul, shift: t.shift };
      const read = t.system + scaleDelta(tscAt(machine.clock.now) - t.tsc, scale);
      expect(read).toBe(BigInt(machine.clock.now));
      expect(read > last).toBe(true);
      last = read;
    }
  });

  it("the run loop refreshes the record when it switches to another vCPU", () => {
    const { machine, arch } = fakeMachine({}, { quantum: 100 });
    const a = domainWithSharedInfo(machine);
    const b = domainWithSharedInfo(machine);
    fakeVcpu(a.vcpus[0]).push({ kind: "compute", instructions: 300 });
    fakeVcpu(b.vcpus[0]).push({ kind: "compute", instructions: 300 });
    machine.run({ maxInstructions: 550 });
    // Turns alternate a, b, a, b, a, b: each record was rewritten at its vCPU's last turn.
    const lastTurn = (d: Domain<FakeTypes>) =>
      Math.max(...arch.trace.filter((r) => r.domain === d.id).map((r) => r.at));
    expect(timeInfo(machine, a)).toMatchObject({ version: 6, system: BigInt(lastTurn(a)) });
    expect(timeInfo(machine, b)).toMatchObject({ version: 6, system: BigInt(lastTurn(b)) });
  });

  it("two vCPUs of one domain read the same pvclock time whichever record they use", () => {
    const { machine, arch } = fakeMachine({}, { quantum: 100 });
    const d = domainWithSharedInfo(machine, 2);
    vcpuUp(machine, d.vcpus[1]);
    fakeVcpu(d.vcpus[0]).push({ kind: "compute", instructions: 700 });
    fakeVcpu(d.vcpus[1]).push({ kind: "compute", instructions: 250 });
    machine.run({ maxInstructions: 900 });
    expect(new Set(arch.trace.filter((r) => r.domain === d.id).map((r) => r.vcpu))).toEqual(
      new Set([0, 1]),
    );
    // Xen's per-vCPU model: each record pairs a system time with the TSC at that time, so
    // any vCPU's reading at one moment gives that moment, however stale its record.
    machine.clock.advance(12_345);
    const now = BigInt(machine.clock.now);
    for (const v of [0, 1]) {
      const t = timeInfo(machine, d, v);
      expect(t.version % 2).toBe(0);
      expect(t.system).toBe(t.tsc); // the TSC counts virtual ns from 0, as system time
      const read =
        t.system + scaleDelta(tscAt(machine.clock.now) - t.tsc, { mulFrac: t.mul, shift: t.shift });
      expect(read).toBe(now);
    }
  });

  it("a vCPU without a vcpu_info (no shared_info) is left alone", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine);
    expect(() => updateVcpuSystemTime(machine, d.vcpus[0])).not.toThrow();
  });
});

describe("wall clock", () => {
  it("writes wc_sec/wc_sec_hi/wc_nsec from the config with an even wc_version", () => {
    const { machine } = fakeMachine({}, { bootWallclock: 0x1_2345_6789 });
    const d = domainWithSharedInfo(machine);
    updateDomainWallclock(machine, d);
    const s = SHARED_INFO.layout(TEST_LP64_LE);
    const at = d.sharedInfoMfn * 4096;
    const view = machine.memory.view;
    expect(s.getNumber(view, at, "wc_version")).toBe(2);
    expect(s.getNumber(view, at, "wc_sec")).toBe(0x2345_6789);
    expect(s.getNumber(view, at, "wc_sec_hi")).toBe(1);
    expect(s.getNumber(view, at, "wc_nsec")).toBe(0);
  });

  it("writes the high word into the arch part where the data model keeps it there", () => {
    const { machine } = fakeMachine(
      { dataModel: TEST_ILP32, wordBits: 32 },
      { bootWallclock: 0x2_0000_0005 },
    );
    const d = domainWithSharedInfo(machine);
    updateDomainWallclock(machine, d);
    const s = SHARED_INFO.layout(TEST_ILP32);
    const at = d.sharedInfoMfn * 4096;
    const view = machine.memory.view;
    expect(s.getNumber(view, at, "wc_sec")).toBe(5);
    expect(s.getNumber(view, at, "arch.wc_sec_hi")).toBe(2);
    expect(s.getNumber(view, at, "wc_version")).toBe(2);
  });

  it("defaults to 2026-01-01 and refuses a bad config", () => {
    const { machine } = fakeMachine();
    expect(machine.config.bootWallclock).toBe(DEFAULT_BOOT_WALLCLOCK);
    expect(new Date(DEFAULT_BOOT_WALLCLOCK * 1000).toISOString()).toBe("2026-01-01T00:00:00.000Z");
    expect(() => fakeMachine({}, { bootWallclock: -1 })).toThrow(/bootWallclock/);
    expect(() => fakeMachine({}, { bootWallclock: 1.5 })).toThrow(/bootWallclock/);
  });
});

describe("set_timer_op", () => {
  it("fires VIRQ_TIMER at exactly the deadline and wakes the blocked vCPU", () => {
    const { machine } = fakeMachine();
    const d = domainWithSharedInfo(machine);
    const port = evtchnBindVirq(machine, d, Virq.timer, 0);
    expect(port).toBeGreaterThan(0);
    const seen: number[] = [];
    fakeVcpu(d.vcpus[0]).push(
      { kind: "hypercall", nr: Hypercall.set_timer_op, args: [50_000] },
      { kind: "idle" },
      { kind: "call", fn: () => seen.push(machine.clock.now) },
    );
    machine.run({ maxInstructions: 100 });
    expect(seen).toEqual([50_000]);
    expect(evtchnIsPending(machine, d, port)).toBe(true);
    // The record was refreshed at the event: system_time is the deadline.
    expect(timeInfo(machine, d).system).toBe(50_000n);
  });

  it("with VIRQ_TIMER unbound the event is dropped and the blocked vCPU stays blocked", () => {
    const { machine } = fakeMachine();
    const d = domainWithSharedInfo(machine);
    fakeVcpu(d.vcpus[0]).push(
      { kind: "hypercall", nr: Hypercall.set_timer_op, args: [50_000] },
      { kind: "idle" },
    );
    expect(machine.run({ maxInstructions: 100 }).kind).toBe("deadlock");
    expect(machine.clock.now).toBe(50_000);
    expect(d.vcpus[0].state).toBe(VcpuState.Blocked);
  });

  it("a past deadline fires at once; 0 cancels; absurd deadlines become now + 100 ms", () => {
    const { machine } = fakeMachine();
    const d = domainWithSharedInfo(machine);
    const port = evtchnBindVirq(machine, d, Virq.timer, 0);
    machine.clock.advance(1_000);
    expect(hypercall(d, Hypercall.set_timer_op, [10])).toBe(0);
    expect(machine.clock.nextDeadline()).toBe(10);
    machine.clock.fireDue();
    expect(evtchnIsPending(machine, d, port)).toBe(true);

    const t = vcpuTimers(machine, d.vcpus[0]);
    expect(hypercall(d, Hypercall.set_timer_op, [5_000])).toBe(0);
    expect(t.singleshot.armed).toBe(true);
    expect(hypercall(d, Hypercall.set_timer_op, [0])).toBe(0);
    expect(t.singleshot.armed).toBe(false);

    expect(hypercall(d, Hypercall.set_timer_op, [-5n])).toBe(0);
    expect(t.singleshot.deadline).toBe(1_000 + 100_000_000);
    expect(hypercall(d, Hypercall.set_timer_op, [1_000n + (1n << 50n) + 1n])).toBe(0);
    expect(t.singleshot.deadline).toBe(1_000 + 100_000_000);
    expect(hypercall(d, Hypercall.set_timer_op, [1_000n + (1n << 50n) - 1n])).toBe(0);
    expect(t.singleshot.deadline).toBe(1_000 + 2 ** 50 - 1);
  });

  it("a shut-down domain's periodic timer does not keep re-arming", () => {
    const { machine } = fakeMachine();
    const d = domainWithSharedInfo(machine);
    writeGuestU64(d.vcpus[0], DATA_VA, 1_000_000n);
    expect(hypercall(d, Hypercall.vcpu_op, [6, 0, DATA_VA])).toBe(0);
    machine.shutdownDomain(d, 0);
    machine.clock.jumpToNextDeadline();
    expect(machine.clock.pending).toBe(0);
  });
});
