/**
 * vcpu_op(cmd, vcpuid, arg) (xen/arch/x86/domain.c `do_vcpu_op`, xen/common/domain.c
 * `common_vcpu_op`). `vcpuid` names a vCPU of the caller's domain (−ENOENT otherwise).
 *
 * - initialise: −EINVAL when the vCPU has no vcpu_info (ids past XEN_LEGACY_MAX_VCPUS, the
 *   data model's `legacyMaxVcpus`, that registered none); −ENOSYS when the arch cannot
 *   load contexts; then, as `default_initialise_vcpu`, the `vcpu_guest_context` is copied
 *   in (−EFAULT) before −EEXIST for an initialised vCPU, and the arch loads it
 *   (`ArchPlugin.setVcpuContext`, its −errno). The vCPU stays down until VCPUOP_up
 *   (see `setVcpuContext` in vcpu-lifecycle.ts for VGCF_online).
 * - up: −EINVAL unless initialised; a down vCPU becomes runnable, or blocked again if it
 *   went down blocked and its wake-up has not come (Xen clears only `_VPF_down`). 0 either
 *   way.
 * - down: if no other vCPU of the domain is up, the domain powers off (0); else the vCPU
 *   goes down (its timers keep running, as in Xen), its runstate offline unless it was
 *   blocked (it stays RUNSTATE_blocked until its wake-up: `vcpu_sleep_nosync`,
 *   `vcpu_wake`).
 * - is_up: 1 or 0.
 * - get_runstate_info: `vcpu_runstate_info` with the current state's time brought up to now.
 * - register_runstate_memory_area: remembers the guest address (−EFAULT for one outside
 *   the guest's address space) and copies the runstate there now (a copy that faults is
 *   ignored, as Xen's unchecked `__copy_to_guest`).
 * - set_periodic_timer: −EINVAL for a period under 1 ms or over STIME_DELTA_MAX; as
 *   Xen's `vcpu_periodic_timer_work`, VIRQ_TIMER is raised at once when a period has
 *   passed since the last periodic event (system time 0 at first), and the next tick is
 *   one period after the last event. stop_periodic_timer stops it.
 * - set_singleshot_timer: the caller's own vCPU only (−EINVAL); a deadline already passed
 *   raises VIRQ_TIMER at once. VCPU_SSHOTTMR_future is ignored, as the header allows and
 *   current Xen does (older Xen returned −ETIME). stop_singleshot_timer: own vCPU only.
 * - register_vcpu_info: `{ mfn, offset }`: −EINVAL when `mfn << PAGE_SHIFT + offset`
 *   overflows or leaves the frame, −EBUSY when already registered, −ENXIO when the
 *   vcpu_info would cross the page or is not aligned as vcpu_info is in the guest's data
 *   model (`map_guest_area`: `alignof(vcpu_info_t)`), −EINVAL for a frame the
 *   domain does not own, −EACCES for one that may not be written (a page table). The old
 *   vcpu_info is copied there, every selector bit and upcall_pending are set (a spurious
 *   upcall, so nothing is lost) and the time record is refreshed.
 * Other commands go to the arch (`ArchPlugin.vcpuOp`, the arch's own `do_vcpu_op` cases,
 * e.g. x86's register_vcpu_time_memory_area), else −ENOSYS (send_nmi, the phys-area
 * variants for now).
 *
 * @module
 */
import { VCPU_REGISTER_VCPU_INFO, VCPU_RUNSTATE_INFO } from "../abi/vcpu.js";
import { VCPU_SET_PERIODIC_TIMER, VCPU_SET_SINGLESHOT_TIMER } from "../abi/vcpu.js";
import { VCPU_INFO } from "../abi/xen.js";
import { VcpuOp } from "../abi/numbers.js";
import { ShutdownCause, ShutdownReason } from "../domain.js";
import { Errno } from "../errno.js";
import { markEventsPending } from "../event-channel.js";
import { readGuestStruct, readGuestU64, StructBuffer, writeGuestStruct } from "../guest-memory.js";
import type { HypercallArgs, HypercallContext } from "../hypercall.js";
import type { Machine } from "../machine.js";
import {
  MIN_PERIOD_NS,
  sendTimerEvent,
  STIME_DELTA_MAX,
  updateVcpuSystemTime,
  vcpuTimers,
} from "../time.js";
import { VcpuState, type Vcpu } from "../vcpu.js";
import {
  canSetVcpuContext,
  readVcpuContext,
  setVcpuContext,
  vcpuDown,
  vcpuUp,
} from "../vcpu-lifecycle.js";

const buf = new StructBuffer(64);

/** Where each vCPU's runstate area was registered (guest virtual address). */
const runstateAreas = new WeakMap<Vcpu, bigint>();

/** `vcpu_op(cmd, vcpuid, arg)`. */
export function vcpuOp(ctx: HypercallContext, args: HypercallArgs): number {
  const { machine, domain } = ctx;
  const cmd = args.i32(0);
  const vcpuid = args.u32(1);
  const arg = args.u64(2);
  const v = domain.vcpus[vcpuid];
  if (v === undefined) return -Errno.ENOENT;
  const model = machine.arch.dataModel;
  const t = vcpuTimers(machine, v);
  switch (cmd) {
    case VcpuOp.initialise: {
      if (v.vcpuInfoAddr() < 0) return -Errno.EINVAL;
      if (!canSetVcpuContext(machine)) return -Errno.ENOSYS;
      const context = readVcpuContext(ctx, arg);
      if (typeof context === "number") return context;
      if (t.initialised) return -Errno.EEXIST;
      return setVcpuContext(machine, v, context, false);
    }
    case VcpuOp.up:
      if (!t.initialised) return -Errno.EINVAL;
      vcpuUp(machine, v);
      return 0;
    case VcpuOp.down: {
      const othersUp = domain.vcpus.some((o) => o !== v && o.state !== VcpuState.Down);
      if (!othersUp) {
        machine.shutdownDomain(
          domain,
          ShutdownReason.Poweroff,
          undefined,
          ShutdownCause.LastVcpuDown,
        );
        return 0;
      }
      vcpuDown(machine, v);
      return 0;
    }
    case VcpuOp.is_up:
      return v.state === VcpuState.Down ? 0 : 1;
    case VcpuOp.get_runstate_info: {
      const layout = VCPU_RUNSTATE_INFO.layout(model);
      fillRunstate(machine, v);
      return writeGuestStruct(ctx.vcpu, arg, layout, buf);
    }
    case VcpuOp.register_runstate_memory_area: {
      // struct vcpu_register_runstate_memory_area: one guest handle (8 bytes).
      const ptr = readGuestU64(ctx.vcpu, arg);
      if (ptr < 0n) return -Errno.EFAULT;
      const layout = VCPU_RUNSTATE_INFO.layout(model);
      if (ptr + BigInt(layout.size) > 1n << 64n) return -Errno.EFAULT;
      runstateAreas.set(v, ptr);
      fillRunstate(machine, v);
      writeGuestStruct(ctx.vcpu, ptr, layout, buf);
      return 0;
    }
    case VcpuOp.set_periodic_timer: {
      const layout = VCPU_SET_PERIODIC_TIMER.layout(model);
      if (readGuestStruct(ctx.vcpu, arg, layout, buf) !== 0) return -Errno.EFAULT;
      const period = layout.getBigInt(buf.view, 0, "period_ns");
      if (period < BigInt(MIN_PERIOD_NS) || period > STIME_DELTA_MAX) return -Errno.EINVAL;
      machine.clock.cancel(t.periodic);
      t.periodNs = Number(period);
      t.periodicWork(machine, v);
      return 0;
    }
    case VcpuOp.stop_periodic_timer:
      machine.clock.cancel(t.periodic);
      t.periodNs = 0;
      return 0;
    case VcpuOp.set_singleshot_timer: {
      if (v !== ctx.vcpu) return -Errno.EINVAL;
      const layout = VCPU_SET_SINGLESHOT_TIMER.layout(model);
      if (readGuestStruct(ctx.vcpu, arg, layout, buf) !== 0) return -Errno.EFAULT;
      // timeout_abs_ns is compared as Xen's signed s_time_t.
      const timeout = BigInt.asIntN(64, layout.getBigInt(buf.view, 0, "timeout_abs_ns"));
      if (timeout < BigInt(machine.clock.now)) {
        machine.clock.cancel(t.singleshot);
        sendTimerEvent(machine, v);
        return 0;
      }
      machine.clock.arm(t.singleshot, Number(timeout));
      return 0;
    }
    case VcpuOp.stop_singleshot_timer:
      if (v !== ctx.vcpu) return -Errno.EINVAL;
      machine.clock.cancel(t.singleshot);
      return 0;
    case VcpuOp.register_vcpu_info:
      return registerVcpuInfo(ctx, v, arg);
    default:
      return machine.arch.vcpuOp?.(ctx, cmd, v, arg) ?? -Errno.ENOSYS;
  }
}

/** Fills `buf` with `v`'s vcpu_runstate_info as of now (`vcpu_runstate_get`). */
function fillRunstate(machine: Machine, v: Vcpu): void {
  const layout = VCPU_RUNSTATE_INFO.layout(machine.arch.dataModel);
  const r = v.runstate;
  const now = machine.clock.now;
  buf.bytes.fill(0, 0, layout.size);
  layout.set(buf.view, 0, "state", r.state);
  layout.set(buf.view, 0, "state_entry_time", BigInt(r.entryTime));
  for (let s = 0; s < 4; s++) {
    const extra = s === r.state && now > r.entryTime ? now - r.entryTime : 0;
    layout.set(buf.view, 0, `time.${s}`, BigInt(r.time[s] + extra));
  }
}

/** VCPUOP_register_vcpu_info (common_vcpu_op + map_guest_area + vcpu_info_populate). */
function registerVcpuInfo(ctx: HypercallContext, v: Vcpu, arg: bigint): number {
  const { machine, domain } = ctx;
  const model = machine.arch.dataModel;
  const layout = VCPU_REGISTER_VCPU_INFO.layout(model);
  if (readGuestStruct(ctx.vcpu, arg, layout, buf) !== 0) return -Errno.EFAULT;
  const mfn = layout.getBigInt(buf.view, 0, "mfn");
  const offset = BigInt(layout.getNumber(buf.view, 0, "offset"));
  const shift = BigInt(Math.log2(machine.memory.pageSize));
  const gaddr = BigInt.asUintN(64, (mfn << shift) + offset);
  if (gaddr === (1n << 64n) - 1n || gaddr >> shift !== mfn) return -Errno.EINVAL;
  if (v.registeredVcpuInfo >= 0) return -Errno.EBUSY;
  const size = BigInt(VCPU_INFO.layout(model).size);
  if ((gaddr + size - 1n) >> shift !== mfn) return -Errno.ENXIO;
  if (gaddr % BigInt(VCPU_INFO.layout(model).align) !== 0n) return -Errno.ENXIO;
  // A PV guest names a machine frame it owns (check_get_page_from_gfn).
  const ft = machine.memory.frameTable;
  if (mfn >= BigInt(ft.frames) || ft.owner[Number(mfn)] !== domain.id) return -Errno.EINVAL;
  if (machine.arch.getWritableFrame?.(machine, Number(mfn)) === false) return -Errno.EACCES;
  const pa = Number(gaddr);
  const bytes = machine.memory.bytes;
  const n = Number(size);
  const old = v.vcpuInfoAddr();
  if (old >= 0) {
    bytes.copyWithin(pa, old, old + n);
  } else {
    bytes.fill(0, pa, pa + n);
    bytes[pa + VCPU_INFO.layout(model).offsetOf("evtchn_upcall_mask")] = 1;
  }
  v.registeredVcpuInfo = pa;
  // Everything marked pending so nothing is lost; the guest takes a spurious upcall.
  const sel = VCPU_INFO.layout(model).slot("evtchn_pending_sel");
  bytes.fill(0xff, pa + sel.offset, pa + sel.offset + sel.size);
  machine.arch.onMemoryWritten?.(machine, pa, n);
  markEventsPending(machine, v);
  updateVcpuSystemTime(machine, v);
  return 0;
}
