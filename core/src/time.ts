/**
 * Guest-visible time: the shared_info wall clock, each vCPU's `vcpu_time_info` and the
 * per-vCPU timers that raise VIRQ_TIMER (xen/arch/x86/time.c, xen/common/time.c,
 * xen/common/sched/core.c).
 *
 * System time is the machine's virtual time in ns ({@link VirtualClock.now}), Xen's
 * `NOW()`: it starts at 0 when the machine starts, for every domain. The guest's cycle
 * counter (x86: the TSC; PowerPC: the time base) counts the arch's `counterHz` ticks per
 * second of virtual time ({@link TSC_HZ} unless the arch says otherwise), so
 * `tsc_to_system_mul`/`tsc_shift` (Xen's `set_time_scale` for that rate) turn it back into ns.
 * The wall clock at system time 0 comes from the machine config (`bootWallclock`), so a
 * guest's `wc + system_time` advances with virtual time and runs are reproducible.
 *
 * Records are rewritten where Xen rewrites them: vcpu_time_info when a vCPU is scheduled
 * in after another one ran (context switch), when it is brought up, when it registers a
 * new vcpu_info, and when its timer fires; the wall clock when the domain is built.
 * Every rewrite makes `version` odd, writes the fields, then makes it even again
 * (`version_update_begin`/`_end`).
 *
 * @module
 */
import { Virq } from "./abi/numbers.js";
import type { ArchPlugin } from "./arch-plugin.js";
import { SHARED_INFO, VCPU_INFO, VCPU_TIME_INFO, XEN_PVCLOCK_TSC_STABLE_BIT } from "./abi/xen.js";
import { Timer } from "./clock.js";
import type { Domain } from "./domain.js";
import { evtchnSendVirq } from "./event-channel.js";
import type { Machine } from "./machine.js";
import { VcpuState, type Vcpu } from "./vcpu.js";
import { StructBuffer, writeGuestStruct } from "./guest-memory.js";

/**
 * The default cycle-counter rate, ticks per second of virtual time: one tick per virtual
 * ns, a 1 GHz TSC (an arch with another rate sets `ArchPlugin.counterHz`).
 * An arch's counter reads `virtual ns` (x86: `tscBase` = the clock at each run start,
 * `tscPerInstruction` = `NS_PER_INSTRUCTION`).
 */
export const TSC_HZ = 1_000_000_000;

/** Xen's `MILLISECS(1)`: the shortest period VCPUOP_set_periodic_timer accepts. */
export const MIN_PERIOD_NS = 1_000_000;

/**
 * Xen's `STIME_DELTA_MAX`, `(s_time_t)(~0ULL >> 2)` = 2^62 − 1 ns (xen/include/xen/time.h):
 * the longest period VCPUOP_set_periodic_timer accepts.
 */
export const STIME_DELTA_MAX = (1n << 62n) - 1n;

/** Xen's `MILLISECS(100)`: where set_timer_op puts a deadline it deems absurd. */
export const HUGE_TIMEOUT_DELAY_NS = 100_000_000;

/** Default wall clock at system time 0: 2026-01-01T00:00:00Z, in seconds since the epoch. */
export const DEFAULT_BOOT_WALLCLOCK = 1_767_225_600;

/** A cycle-counter → ns conversion: `ns = ((ticks << shift) * mulFrac) >> 32`. */
export interface TimeScale {
  /** 32.32 fixed-point multiplier (`tsc_to_system_mul`). */
  readonly mulFrac: number;
  /** Pre-shift, negative for a right shift (`tsc_shift`). */
  readonly shift: number;
}

/**
 * Xen's `set_time_scale`: normalises `ticksPerSec` into (1e9, 2e9] by shifting, then takes
 * the 32-bit fraction 1e9 / normalised.
 */
export function setTimeScale(ticksPerSec: number): TimeScale {
  let tps = BigInt(Math.round(ticksPerSec));
  if (tps <= 0n) throw new RangeError(`ticks per second ${ticksPerSec} must be positive`);
  let shift = 0;
  while (tps > 2_000_000_000n) {
    tps >>= 1n;
    shift--;
  }
  while (tps <= 1_000_000_000n) {
    tps <<= 1n;
    shift++;
  }
  return { mulFrac: Number((1_000_000_000n << 32n) / tps), shift };
}

/** Converts a tick delta with `scale`, as a guest does (`pvclock_scale_delta`). */
export function scaleDelta(delta: bigint, scale: TimeScale): bigint {
  const d = scale.shift >= 0 ? delta << BigInt(scale.shift) : delta >> BigInt(-scale.shift);
  return (d * BigInt(scale.mulFrac)) >> 32n;
}

/** The scale of a counter at {@link TSC_HZ} (the default rate: 1 tick per ns). */
export const TSC_SCALE: TimeScale = setTimeScale(TSC_HZ);

/** The guest cycle counter at virtual time `ns`, at the default rate {@link TSC_HZ}. */
export function tscAt(ns: number): bigint {
  return BigInt(counterTicks(ns, TSC_HZ));
}

/**
 * A counter running at `hz` ticks per second of virtual time, at virtual time `ns` (≥ 0):
 * ⌊ns × hz / 10⁹⌋, computed per whole second so it stays exact to the tick for any
 * realistic run (whole seconds exactly; within a second the product keeps 53 bits, so a
 * tick is late only when the exact value lies within 10⁻⁸ of a tick edge). Monotonic in
 * `ns`, deterministic, and allocation-free: an arch's counter instruction (PowerPC `mftb`)
 * calls it. `hz` = {@link TSC_HZ} returns `ns` itself.
 */
export function counterTicks(ns: number, hz: number): number {
  if (hz === TSC_HZ) return ns;
  let s = Math.floor(ns / 1_000_000_000);
  let r = ns - s * 1_000_000_000;
  if (r < 0) {
    s--;
    r += 1_000_000_000;
  }
  return s * hz + Math.floor((r * hz) / 1_000_000_000);
}

/** The cycle-counter rate of `machine`'s arch ({@link ArchPlugin.counterHz}, default {@link TSC_HZ}). */
export function counterHz(machine: Machine): number {
  return machine.arch.counterHz ?? TSC_HZ;
}

const scales = new WeakMap<ArchPlugin, TimeScale>();

/** `set_time_scale` for `machine`'s counter rate, computed once per arch plugin. */
export function counterScale(machine: Machine): TimeScale {
  let scale = scales.get(machine.arch);
  if (scale === undefined) {
    scale = setTimeScale(counterHz(machine));
    scales.set(machine.arch, scale);
  }
  return scale;
}

/** Xen's `version_update_begin`: odd, past the old value. */
function versionBegin(v: number): number {
  return ((v + 1) | 1) >>> 0;
}

/**
 * Writes `vcpu`'s vcpu_time_info (`__update_vcpu_system_time`): version made odd,
 * tsc_timestamp/system_time sampled now, the TSC scale, flags (TSC stable), version made
 * even. Does nothing when the vCPU has no vcpu_info.
 */
export function updateVcpuSystemTime(machine: Machine, vcpu: Vcpu): void {
  const base = vcpu.vcpuInfoAddr();
  if (base < 0) return;
  const model = machine.arch.dataModel;
  const t = VCPU_TIME_INFO.layout(model);
  const at = base + VCPU_INFO.layout(model).offsetOf("time");
  const view = machine.memory.view;
  const version = versionBegin(t.getNumber(view, at, "version"));
  t.set(view, at, "version", version);
  const now = machine.clock.now;
  const hz = counterHz(machine);
  const scale = counterScale(machine);
  t.set(view, at, "tsc_timestamp", BigInt(counterTicks(now, hz)));
  t.set(view, at, "system_time", BigInt(now));
  t.set(view, at, "tsc_to_system_mul", scale.mulFrac);
  t.set(view, at, "tsc_shift", scale.shift);
  t.set(view, at, "flags", XEN_PVCLOCK_TSC_STABLE_BIT);
  t.set(view, at, "version", (version + 1) >>> 0);
  machine.arch.onMemoryWritten?.(machine, at, t.size);
  const area = timeAreas.get(vcpu);
  if (area === undefined || area === 0n) return;
  const bytes = machine.memory.bytes;
  for (let i = 0; i < t.size; i++) timeAreaBuffer.bytes[i] = bytes[at + i];
  writeGuestStruct(vcpu, area, t, timeAreaBuffer);
}

/** Each vCPU's secondary time record (`time_info_guest`): a guest virtual address, 0 for none. */
const timeAreas = new WeakMap<Vcpu, bigint>();
const timeAreaBuffer = new StructBuffer(64);

/**
 * VCPUOP_register_vcpu_time_memory_area (`time_info_guest`, x86 domain.c): from now on
 * every rewrite of `vcpu`'s vcpu_time_info is copied to guest virtual address `va` too
 * (`update_secondary_system_time`, through the vCPU's current page tables; a copy that
 * faults is dropped), and it is rewritten at once (`force_update_vcpu_system_time`). A
 * null address (0) stops the copies.
 */
export function registerVcpuTimeArea(machine: Machine, vcpu: Vcpu, va: bigint): void {
  timeAreas.set(vcpu, va);
  updateVcpuSystemTime(machine, vcpu);
}

/**
 * Writes `domain`'s wall clock into its shared_info (`update_domain_wallclock_time`):
 * wc_version odd, wc_sec (low and high halves) and wc_nsec, wc_version even. The wall
 * clock is the time at system time 0: the machine config's `bootWallclock` until the
 * control domain sets it ({@link setWallclock}).
 */
export function updateDomainWallclock(machine: Machine, domain: Domain): void {
  if (domain.sharedInfoMfn < 0) return;
  const model = machine.arch.dataModel;
  const s = SHARED_INFO.layout(model);
  const at = domain.sharedInfoMfn * machine.memory.pageSize;
  const view = machine.memory.view;
  const set = wallclocks.get(machine);
  const sec = set?.sec ?? BigInt(machine.config.bootWallclock);
  const version = versionBegin(s.getNumber(view, at, "wc_version"));
  s.set(view, at, "wc_version", version);
  s.set(view, at, "wc_sec", Number(sec & 0xffffffffn));
  s.set(view, at, "wc_nsec", set?.nsec ?? 0);
  s.set(view, at, model.wcSecHiInArch ? "arch.wc_sec_hi" : "wc_sec_hi", Number(sec >> 32n));
  s.set(view, at, "wc_version", (version + 1) >>> 0);
  machine.arch.onMemoryWritten?.(machine, at, s.size);
}

/** Wall clocks set by platform_op's settime: seconds and nanoseconds at system time 0. */
const wallclocks = new WeakMap<Machine, { sec: bigint; nsec: number }>();

/**
 * Xen's `do_settime` (x86 time.c): the wall clock is `secs` s + `nsecs` ns at system time
 * `systemTime` ns, so the time at system time 0 (wc_sec, wc_nsec) is their difference;
 * every domain's shared_info is rewritten. A difference before the epoch wraps as Xen's
 * unsigned arithmetic does.
 */
export function setWallclock(
  machine: Machine,
  secs: bigint,
  nsecs: number,
  systemTime: bigint,
): void {
  const x = BigInt.asUintN(64, secs * 1_000_000_000n + BigInt(nsecs) - systemTime);
  wallclocks.set(machine, { sec: x / 1_000_000_000n, nsec: Number(x % 1_000_000_000n) });
  for (const d of machine.domains.values()) updateDomainWallclock(machine, d);
}

/**
 * A vCPU's timers and the flags of vcpu_op that are not scheduling state: the
 * single-shot timer (set_timer_op, VCPUOP_set_singleshot_timer), the periodic timer
 * (VCPUOP_set_periodic_timer) and whether the vCPU has been initialised.
 */
export class VcpuTimers {
  /** The single-shot timer (`singleshot_timer`). */
  readonly singleshot: Timer;
  /** The periodic timer (`periodic_timer`). */
  readonly periodic: Timer;
  /** Period in ns, 0 when stopped (`periodic_period`). */
  periodNs = 0;
  /** System time of the last periodic event (`periodic_last_event`, 0 at creation). */
  lastPeriodicEvent = 0;
  /** Xen's `is_initialised`: set by the builder's start or VCPUOP_initialise. */
  initialised = false;

  /**
   * @param machine - the machine.
   * @param vcpu - the vCPU the timers belong to.
   */
  constructor(machine: Machine, vcpu: Vcpu) {
    this.singleshot = new Timer(() => sendTimerEvent(machine, vcpu));
    this.periodic = new Timer(() => this.periodicWork(machine, vcpu));
  }

  /**
   * Xen's `vcpu_periodic_timer_work`: when a period has passed since the last periodic
   * event, sends VIRQ_TIMER and restarts the period from now; re-arms for the next one.
   * Run when the period is set and each time the periodic timer fires.
   */
  periodicWork(machine: Machine, vcpu: Vcpu): void {
    if (this.periodNs <= 0 || vcpu.domain.isDead) return;
    const now = machine.clock.now;
    let next = this.lastPeriodicEvent + this.periodNs;
    if (now >= next) {
      sendTimerEvent(machine, vcpu);
      this.lastPeriodicEvent = now;
      next = now + this.periodNs;
    }
    machine.clock.arm(this.periodic, next);
  }
}

const timers = new WeakMap<Vcpu, VcpuTimers>();

/**
 * The timer record of `vcpu`, made on first use. A vCPU that is not down when its record
 * is made counts as initialised (the domain builder started it).
 */
export function vcpuTimers(machine: Machine, vcpu: Vcpu): VcpuTimers {
  let t = timers.get(vcpu);
  if (t === undefined) {
    t = new VcpuTimers(machine, vcpu);
    t.initialised = vcpu.state !== VcpuState.Down;
    timers.set(vcpu, t);
  }
  return t;
}

/**
 * Xen's `send_timer_event`: refreshes the vCPU's time record and raises VIRQ_TIMER on it
 * (which wakes it if the VIRQ is bound; an unbound VIRQ is dropped as in Xen).
 */
export function sendTimerEvent(machine: Machine, vcpu: Vcpu): void {
  if (vcpu.domain.isDead) return;
  updateVcpuSystemTime(machine, vcpu);
  evtchnSendVirq(machine, vcpu.domain, Virq.timer, vcpu.id);
}

/** Stops both timers of `vcpu` (its domain is going away, or it went down). */
export function stopVcpuTimers(machine: Machine, vcpu: Vcpu): void {
  const t = timers.get(vcpu);
  if (t === undefined) return;
  machine.clock.cancel(t.singleshot);
  machine.clock.cancel(t.periodic);
}
