/**
 * The x86 arch hypercalls for 64-bit PV guests (rows of the machine's one hypercall
 * table, modes ["pv"]). Behaviour and error codes follow Xen: xen/arch/x86/mm.c
 * (do_mmu_update, do_update_va_mapping, do_mmuext_op), pv/descriptor-tables.c (set_gdt,
 * update_descriptor), pv/callback.c, pv/iret.c, x86_64/mm.c (stack_switch,
 * set_segment_base), pv/traps.c (set_trap_table).
 *
 * @module
 */
import {
  CallbackOp,
  CallbackType,
  Errno,
  type HypercallArgs,
  type HypercallContext,
  type HypercallEntry,
  Hypercall,
} from "@hvkit/core";
import {
  GuestVirt,
  isCanonical,
  mmuextOp as mmuextOpOf,
  mmuUpdate as mmuUpdateOf,
  physdevOp,
  setGdt as setGdtOf,
  updateDescriptor as updateDescriptorOf,
  Seg,
  updateVaMapping as updateVaMappingOf,
  updateVaMappingOtherdomain as updateVaMappingOtherdomainOf,
  type PvMmu,
  xenpmuOp,
  VGCF_FAILSAFE_DISABLES_EVENTS,
} from "@hvkit/arch-x86";
import type { PvVcpu } from "./pv-vcpu.js";
import { getDebugregHypercall, setDebugregHypercall } from "@hvkit/arch-x86";
import { doIret } from "./traps.js";
import type { X86_64Pv } from "./plugin.js";

/** set_segment_base selectors. */
export const SegBase = { FS: 0, GS_USER: 1, GS_KERNEL: 2, GS_USER_SEL: 3 } as const;

function pv(ctx: HypercallContext<X86_64Pv>): PvVcpu {
  return ctx.vcpu.arch;
}

function guest(ctx: HypercallContext<X86_64Pv>): GuestVirt {
  return new GuestVirt(ctx.vcpu);
}

/** set_trap_table: installs trap_info entries {u8 vector, u8 flags, u16 cs, u64 address} until address 0. */
function setTrapTable(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const v = pv(ctx);
  const ptr = args.u64(0);
  if (ptr === 0n) {
    v.trapAddr.fill(0n);
    v.trapFlags.fill(0);
    v.trapCs.fill(0);
    return 0;
  }
  const g = guest(ctx);
  for (let i = 0n; ; i++) {
    const head = g.u64(ptr + i * 16n);
    const addr = g.u64(ptr + i * 16n + 8n);
    if (head === null || addr === null) return -Errno.EFAULT;
    if (addr === 0n) return 0;
    // do_set_trap_table (pv/callback.c): a non-canonical handler stops the table, −EINVAL.
    if (!isCanonical(addr)) return -Errno.EINVAL;
    const vector = Number(head & 0xffn);
    v.trapFlags[vector] = Number((head >> 8n) & 0xffn);
    v.trapCs[vector] = Number((head >> 16n) & 0xffffn) | 3;
    v.trapAddr[vector] = addr;
  }
}

/** Registers one callback (register_guest_callback). */
function registerCallback(v: PvVcpu, type: number, flags: number, address: bigint): number {
  if (!isCanonical(address)) return -Errno.EINVAL;
  const mask = (flags & 1) !== 0;
  switch (type) {
    case CallbackType.event:
      v.eventCallback = address;
      return 0;
    case CallbackType.failsafe:
      // pv/callback.c: CALLBACKF_mask_events is the context's VGCF_failsafe_disables_events.
      v.failsafeCallback = address;
      v.contextFlags = mask
        ? v.contextFlags | VGCF_FAILSAFE_DISABLES_EVENTS
        : v.contextFlags & ~VGCF_FAILSAFE_DISABLES_EVENTS;
      return 0;
    case CallbackType.syscall:
      v.syscallCallback = address;
      v.syscallMasksEvents = mask;
      return 0;
    case CallbackType.syscall32:
      v.syscall32Callback = address;
      v.syscall32MasksEvents = mask;
      return 0;
    case CallbackType.sysenter:
      v.sysenterCallback = address;
      v.sysenterMasksEvents = mask;
      return 0;
    case CallbackType.nmi:
      v.nmiCallback = address;
      return 0;
    default:
      return -Errno.ENOSYS;
  }
}

function setCallbacks(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const v = pv(ctx);
  registerCallback(v, CallbackType.event, 0, args.u64(0));
  registerCallback(v, CallbackType.failsafe, 0, args.u64(1));
  registerCallback(v, CallbackType.syscall, 0, args.u64(2));
  return 0;
}

/** callback_op: CALLBACKOP_register 0 ({u16 type, u16 flags, u64 address}), unregister 1 ({u16 type}). */
function callbackOp(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const v = pv(ctx);
  const cmd = args.i32(0);
  const g = guest(ctx);
  if (cmd === CallbackOp.register) {
    const head = g.u64(args.u64(1));
    const addr = g.u64(args.u64(1) + 8n);
    if (head === null || addr === null) return -Errno.EFAULT;
    return registerCallback(v, Number(head & 0xffffn), Number((head >> 16n) & 0xffffn), addr);
  }
  if (cmd === CallbackOp.unregister) {
    const head = g.u64(args.u64(1));
    if (head === null) return -Errno.EFAULT;
    const type = Number(head & 0xffffn);
    if (type === CallbackType.nmi) {
      v.nmiCallback = 0n;
      return 0;
    }
    return type === CallbackType.event ||
      type === CallbackType.failsafe ||
      type === CallbackType.syscall ||
      type === CallbackType.sysenter ||
      type === CallbackType.syscall32
      ? -Errno.EINVAL
      : -Errno.ENOSYS;
  }
  return -Errno.ENOSYS;
}

function stackSwitch(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const v = pv(ctx);
  v.kernelSs = args.u32(0) | 3;
  v.kernelSp = args.u64(1);
  return 0;
}

function setSegmentBase(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  const v = pv(ctx);
  const which = args.u32(0);
  const base = args.u64(1);
  switch (which) {
    case SegBase.FS:
      if (!isCanonical(base)) return -Errno.EINVAL;
      v.cpu.fsBase = base;
      return 0;
    case SegBase.GS_USER:
      if (!isCanonical(base)) return -Errno.EINVAL;
      if (v.kernelMode) v.inactiveGsBase = base;
      else v.cpu.gsBase = base;
      return 0;
    case SegBase.GS_KERNEL:
      if (!isCanonical(base)) return -Errno.EINVAL;
      if (v.kernelMode) v.cpu.gsBase = base;
      else v.inactiveGsBase = base;
      return 0;
    case SegBase.GS_USER_SEL:
      // Loads the user %gs selector; a flat selector leaves the user GS base at 0.
      v.cpu.sel[Seg.GS] = Number(base & 0xffffn);
      if (v.kernelMode) v.inactiveGsBase = 0n;
      else v.cpu.gsBase = 0n;
      return 0;
    default:
      return -Errno.EINVAL;
  }
}

function fpuTaskswitch(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  pv(ctx).cr0Ts = args.u32(0) !== 0;
  return 0;
}

function setGdt(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  return setGdtOf(ctx, args.u64(0), args.u32(1));
}

function updateDescriptor(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  return updateDescriptorOf(ctx, args.u64(0), args.u64(1));
}

function mmuUpdate(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  return mmuUpdateOf(ctx, args.u64(0), args.u32(1), args.u64(2), args.u32(3));
}

function updateVaMapping(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  return updateVaMappingOf(ctx, args.u64(0), args.u64(1), args.u64(2));
}

function updateVaMappingOtherdomain(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  return updateVaMappingOtherdomainOf(ctx, args.u64(0), args.u64(1), args.u64(2), args.u32(3));
}

function mmuextOp(ctx: HypercallContext<X86_64Pv>, args: HypercallArgs): number {
  return mmuextOpOf(ctx, args.u64(0), args.u32(1), args.u64(2), args.u32(3));
}

function iret(ctx: HypercallContext<X86_64Pv>): number | bigint {
  return doIret(pv(ctx));
}

/** The x86_64 PV arch rows of the hypercall table. */
export function x86_64PvHypercalls(): HypercallEntry<X86_64Pv>[] {
  const row = (
    number: number,
    name: string,
    handler: HypercallEntry<X86_64Pv>["handler"],
    xsm: HypercallEntry<X86_64Pv>["xsm"] = "none",
  ): HypercallEntry<X86_64Pv> => ({
    number,
    name,
    handler,
    modes: ["pv"],
    xsm,
  });
  return [
    row(Hypercall.set_trap_table, "set_trap_table", setTrapTable),
    row(Hypercall.mmu_update, "mmu_update", mmuUpdate, "mmu"),
    row(Hypercall.set_gdt, "set_gdt", setGdt),
    row(Hypercall.stack_switch, "stack_switch", stackSwitch),
    row(Hypercall.set_callbacks, "set_callbacks", setCallbacks),
    row(Hypercall.set_debugreg, "set_debugreg", setDebugregHypercall),
    row(Hypercall.get_debugreg, "get_debugreg", getDebugregHypercall),
    row(Hypercall.fpu_taskswitch, "fpu_taskswitch", fpuTaskswitch),
    row(Hypercall.update_descriptor, "update_descriptor", updateDescriptor),
    row(Hypercall.update_va_mapping, "update_va_mapping", updateVaMapping, "mmu"),
    row(
      Hypercall.update_va_mapping_otherdomain,
      "update_va_mapping_otherdomain",
      updateVaMappingOtherdomain,
      "mmu",
    ),
    row(Hypercall.iret, "iret", iret),
    row(Hypercall.set_segment_base, "set_segment_base", setSegmentBase),
    row(Hypercall.mmuext_op, "mmuext_op", mmuextOp, "mmu"),
    row(Hypercall.callback_op, "callback_op", callbackOp),
    row(Hypercall.physdev_op, "physdev_op", physdevOp),
    row(Hypercall.xenpmu_op, "xenpmu_op", xenpmuOp),
  ];
}

/** The PV MMU a vCPU uses (for tests and tools). */
export function mmuOf(ctx: HypercallContext<X86_64Pv>): PvMmu {
  return pv(ctx).mmu;
}
