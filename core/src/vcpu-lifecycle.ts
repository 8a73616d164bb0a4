/**
 * A vCPU's life as Xen's common code drives it: a `vcpu_guest_context` loaded
 * (VCPUOP_initialise, XEN_DOMCTL_setvcpucontext), brought up and taken down (VCPUOP_up,
 * VCPUOP_down, a context's online flag), and reset (setvcpucontext with a null context).
 *
 * Xen copies the context from the caller first and only then looks at the vCPU
 * (`default_initialise_vcpu`: −EFAULT before −EEXIST; domctl: −EFAULT before
 * `arch_set_info_guest`), so the copy is the core's, in the arch's layout
 * (`DataModel.vcpuGuestContext`), and the arch's `setVcpuContext` hook only applies it.
 *
 * @module
 */
import { VcpuContextRun } from "./arch-plugin.js";
import { RUNSTATE_OFFLINE, RUNSTATE_RUNNABLE } from "./abi/vcpu.js";
import { Errno } from "./errno.js";
import { evtchnEndPoll } from "./event-channel.js";
import { readGuestStruct, StructBuffer } from "./guest-memory.js";
import type { HypercallContext } from "./hypercall.js";
import type { Machine } from "./machine.js";
import { updateVcpuSystemTime, vcpuTimers } from "./time.js";
import { VcpuState, type Vcpu } from "./vcpu.js";

/** Scratch for one context (grown to the largest layout seen; hypercalls run one at a time). */
let scratch = new StructBuffer(0);

/**
 * True when the machine's arch can load contexts: it has the `setVcpuContext` hook and
 * its data model lays out a `vcpu_guest_context`.
 */
export function canSetVcpuContext(machine: Machine): boolean {
  return (
    machine.arch.setVcpuContext !== undefined &&
    machine.arch.dataModel.vcpuGuestContext !== undefined
  );
}

/**
 * copy_from_guest of the arch's `vcpu_guest_context` at `va` through the calling vCPU.
 * Returns a view of the copy (valid until the next call), or −EFAULT. The caller has
 * checked {@link canSetVcpuContext}.
 */
export function readVcpuContext(ctx: HypercallContext, va: bigint): DataView | number {
  const model = ctx.machine.arch.dataModel;
  const layout = model.vcpuGuestContext!.layout(model);
  if (scratch.bytes.length < layout.size) scratch = new StructBuffer(layout.size);
  if (readGuestStruct(ctx.vcpu, va, layout, scratch) !== 0) return -Errno.EFAULT;
  return scratch.view;
}

/**
 * Xen's `arch_set_info_guest` and what follows it: the arch loads `context` (from
 * {@link readVcpuContext}) into `v`, initialised or not; on success the vCPU counts as
 * initialised, and with `applyRun` it goes up or down as the context asks (Xen's
 * `VGCF_online`: domctl setvcpucontext, whose `domain_unpause` then wakes it).
 * VCPUOP_initialise passes `applyRun` false: Xen clears `_VPF_down` there without a
 * wake-up, so the vCPU does not run until VCPUOP_up; hvkit keeps it down until then.
 * Returns 0 or the arch's −errno.
 */
export function setVcpuContext(
  machine: Machine,
  v: Vcpu,
  context: DataView,
  applyRun: boolean,
): number {
  const t = vcpuTimers(machine, v);
  const rc = machine.arch.setVcpuContext!(machine, v, context, t.initialised);
  if (rc < 0) return rc;
  t.initialised = true;
  if (!applyRun) return 0;
  if (rc === VcpuContextRun.Online) vcpuUp(machine, v);
  else vcpuDown(machine, v);
  return 0;
}

/**
 * Xen's `vcpu_reset` (XEN_DOMCTL_setvcpucontext with a null context): the arch drops what
 * the vCPU's context holds (`ArchPlugin.resetVcpu`), then the vCPU is down, not blocked,
 * not polling and not initialised. Returns 0 or the arch's −errno (the vCPU unchanged).
 * Without the hook an initialised vCPU cannot be reset: −EOPNOTSUPP.
 */
export function resetVcpu(machine: Machine, v: Vcpu): number {
  const t = vcpuTimers(machine, v);
  const hook = machine.arch.resetVcpu;
  if (hook === undefined) {
    if (t.initialised) return -Errno.EOPNOTSUPP;
  } else {
    const rc = hook.call(machine.arch, machine, v);
    if (rc !== 0) return rc;
  }
  vcpuDown(machine, v);
  v.blockedWhileDown = false;
  if (v.runstate.state !== RUNSTATE_OFFLINE) v.setRunstate(RUNSTATE_OFFLINE, machine.clock.now);
  evtchnEndPoll(machine, v);
  t.initialised = false;
  return 0;
}

/**
 * Clears Xen's `_VPF_down` and wakes the vCPU (VCPUOP_up): a down vCPU becomes runnable,
 * or blocked again if it went down blocked and its wake-up has not come. Its time record
 * is refreshed. Nothing for a vCPU that is up.
 */
export function vcpuUp(machine: Machine, v: Vcpu): void {
  if (v.state !== VcpuState.Down) return;
  // Only _VPF_down is cleared: a vCPU that went down blocked stays blocked.
  if (v.blockedWhileDown) {
    v.blockedWhileDown = false;
    v.state = VcpuState.Blocked;
  } else {
    v.state = VcpuState.Runnable;
    if (v.pauseCount === 0) v.setRunstate(RUNSTATE_RUNNABLE, machine.clock.now);
  }
  updateVcpuSystemTime(machine, v);
}

/**
 * Sets Xen's `_VPF_down` (`vcpu_sleep_nosync`): the vCPU stops; its timers keep running,
 * as in Xen. A blocked vCPU keeps `_VPF_blocked` and RUNSTATE_blocked until its wake-up;
 * another goes offline. Nothing for a vCPU that is down.
 */
export function vcpuDown(machine: Machine, v: Vcpu): void {
  if (v.state === VcpuState.Down) return;
  v.blockedWhileDown = v.state === VcpuState.Blocked;
  v.state = VcpuState.Down;
  if (!v.blockedWhileDown) v.setRunstate(RUNSTATE_OFFLINE, machine.clock.now);
}
