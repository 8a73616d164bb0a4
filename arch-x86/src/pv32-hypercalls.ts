/**
 * The x86 arch hypercalls of 32-bit PAE PV guests (rows of the machine's hypercall
 * table, modes ["pv"]), as Xen's compat layer takes them: arguments are 32-bit registers,
 * a 64-bit value comes as a pair (low word first: update_va_mapping's pte), structs have
 * their ILP32 layouts (trap_info 8 bytes, callback_register 12, mmuext_op 12), code
 * selectors get the guest kernel's RPL 1 (fixup_guest_code_selector). Sources:
 * xen/arch/x86/pv/callback.c (compat_set_trap_table, compat_set_callbacks,
 * compat_callback_op), pv/iret.c (compat_iret), x86_64/compat/mm.c
 * (compat_update_va_mapping), x86_64/mm.c (do_stack_switch).
 *
 * @module
 */
import {
  CallbackOp,
  CallbackType,
  CALLBACK_REGISTER,
  CALLBACK_UNREGISTER,
  Errno,
  Hypercall,
  type ArchTypes,
  type HypercallArgs,
  type HypercallContext,
  type HypercallEntry,
} from "@hvkit/core";
import { TRAP_INFO, VGCF_FAILSAFE_DISABLES_EVENTS } from "./abi.js";
import { X86_32_DATA_MODEL } from "./data-model.js";
import {
  GuestVirt,
  mmuextOp,
  mmuUpdate,
  setGdt,
  updateDescriptor,
  updateVaMapping,
  updateVaMappingOtherdomain,
} from "./pv-mm-hypercalls.js";
import { compatIret } from "./pv32-traps.js";
import { physdevOp } from "./pv-physdev.js";
import { getDebugregHypercall, setDebugregHypercall } from "./pv-debugreg.js";
import type { PvDomainState } from "./pv-plugin.js";
import { fixupGuestSelector } from "./pv-vcpu-context.js";
import type { Pv32Vcpu } from "./pv32-vcpu.js";

/** The state types of the x86 (PV32) plugin: its vCPUs are {@link Pv32Vcpu}s. */
export interface X86Pv32 extends ArchTypes {
  /** Per-domain state. */
  readonly domain: PvDomainState;
  /** Per-vCPU state. */
  readonly vcpu: Pv32Vcpu;
}

type Ctx = HypercallContext<X86Pv32>;

const TI = TRAP_INFO.layout(X86_32_DATA_MODEL);
const CB = CALLBACK_REGISTER.layout(X86_32_DATA_MODEL);
const CBU = CALLBACK_UNREGISTER.layout(X86_32_DATA_MODEL);

/** GUEST_KERNEL_RPL 1: a selector with a lower RPL gets 1. */
function fixupSelector(sel: number): number {
  return fixupGuestSelector(sel & 0xffff, 1);
}

function g(ctx: Ctx): GuestVirt {
  return new GuestVirt(ctx.vcpu);
}

/** compat_set_trap_table: 8-byte trap_info entries until one with address 0. */
function setTrapTable(ctx: Ctx, args: HypercallArgs): number {
  const v = ctx.vcpu.arch;
  const ptr = BigInt(args.u32(0));
  if (ptr === 0n) {
    v.trapAddr.fill(0);
    v.trapFlags.fill(0);
    v.trapCs.fill(0);
    return 0;
  }
  const mem = g(ctx);
  const size = BigInt(TI.size);
  for (let i = 0n; ; i++) {
    const base = ptr + i * size;
    const head = mem.read(base, 4);
    const addr = mem.read(base + BigInt(TI.offsetOf("address")), 4);
    if (head === null || addr === null) return -Errno.EFAULT;
    if (addr === 0n) return 0;
    const vector = Number(head & 0xffn);
    v.trapFlags[vector] = Number((head >> 8n) & 0xffn);
    v.trapCs[vector] = fixupSelector(Number(head >> 16n));
    v.trapAddr[vector] = Number(addr);
  }
}

/**
 * compat_register_guest_callback; CALLBACKF_mask_events (`flags` bit 0) of the failsafe
 * callback is VGCF_failsafe_disables_events of the vCPU's context flags.
 */
function registerCallback(
  v: Pv32Vcpu,
  type: number,
  flags: number,
  cs: number,
  eip: number,
): number {
  cs = fixupSelector(cs);
  switch (type) {
    case CallbackType.event:
      v.eventCs = cs;
      v.eventEip = eip >>> 0;
      return 0;
    case CallbackType.failsafe:
      v.failsafeCs = cs;
      v.failsafeEip = eip >>> 0;
      v.contextFlags =
        (flags & 1) !== 0
          ? v.contextFlags | VGCF_FAILSAFE_DISABLES_EVENTS
          : v.contextFlags & ~VGCF_FAILSAFE_DISABLES_EVENTS;
      return 0;
    case CallbackType.syscall32:
      v.syscall32Cs = cs;
      v.syscall32Eip = eip >>> 0;
      v.syscall32MasksEvents = (flags & 1) !== 0;
      return 0;
    case CallbackType.sysenter:
      v.sysenterCs = cs;
      v.sysenterEip = eip >>> 0;
      v.sysenterMasksEvents = (flags & 1) !== 0;
      return 0;
    case CallbackType.nmi:
      // Stored by Xen; hvkit raises no NMI.
      return 0;
    default:
      return -Errno.ENOSYS;
  }
}

/** compat_set_callbacks(event_cs, event_eip, failsafe_cs, failsafe_eip): always 0. */
function setCallbacks(ctx: Ctx, args: HypercallArgs): number {
  const v = ctx.vcpu.arch;
  registerCallback(v, CallbackType.event, 0, args.u32(0), args.u32(1));
  registerCallback(v, CallbackType.failsafe, 0, args.u32(2), args.u32(3));
  return 0;
}

/** compat_callback_op(cmd, arg): register (12-byte struct) and unregister. */
function callbackOp(ctx: Ctx, args: HypercallArgs): number {
  const v = ctx.vcpu.arch;
  const cmd = args.u32(0);
  const arg = BigInt(args.u32(1));
  const mem = g(ctx);
  if (cmd === CallbackOp.register) {
    const head = mem.read(arg, 4);
    const cs = mem.read(arg + BigInt(CB.offsetOf("address.cs")), 4);
    const eip = mem.read(arg + BigInt(CB.offsetOf("address.eip")), 4);
    if (head === null || cs === null || eip === null) return -Errno.EFAULT;
    const type = Number(head & 0xffffn);
    return registerCallback(v, type, Number((head >> 16n) & 0xffffn), Number(cs), Number(eip));
  }
  if (cmd === CallbackOp.unregister) {
    const head = mem.read(arg, CBU.size);
    if (head === null) return -Errno.EFAULT;
    const type = Number(head & 0xffffn);
    if (type === CallbackType.nmi) return 0;
    const fixed: number[] = [
      CallbackType.event,
      CallbackType.failsafe,
      CallbackType.syscall32,
      CallbackType.sysenter,
    ];
    return fixed.includes(type) ? -Errno.EINVAL : -Errno.ENOSYS;
  }
  return -Errno.EINVAL;
}

/** stack_switch(ss, esp): the ring-1 stack for bounces from ring 3. */
function stackSwitch(ctx: Ctx, args: HypercallArgs): number {
  const v = ctx.vcpu.arch;
  v.kernelSs = fixupSelector(args.u32(0));
  v.kernelSp = args.u32(1) | 0;
  return 0;
}

function fpuTaskswitch(ctx: Ctx, args: HypercallArgs): number {
  ctx.vcpu.arch.cr0Ts = args.u32(0) !== 0;
  return 0;
}

/** The 64-bit pte a compat guest passes as a register pair (low word first). */
const pair = (args: HypercallArgs, lo: number): bigint =>
  (BigInt(args.u32(lo + 1)) << 32n) | BigInt(args.u32(lo));

/** The x86 (PV32) arch rows of the hypercall table. */
export function x86Pv32Hypercalls(): HypercallEntry<X86Pv32>[] {
  const row = (
    number: number,
    name: string,
    handler: HypercallEntry<X86Pv32>["handler"],
    xsm: HypercallEntry<X86Pv32>["xsm"] = "none",
  ): HypercallEntry<X86Pv32> => ({ number, name, handler, modes: ["pv"], xsm });
  return [
    row(Hypercall.set_trap_table, "set_trap_table", setTrapTable),
    row(
      Hypercall.mmu_update,
      "mmu_update",
      (ctx, a) => mmuUpdate(ctx, BigInt(a.u32(0)), a.u32(1), BigInt(a.u32(2)), a.u32(3)),
      "mmu",
    ),
    row(Hypercall.set_gdt, "set_gdt", (ctx, a) => setGdt(ctx, BigInt(a.u32(0)), a.u32(1))),
    row(Hypercall.stack_switch, "stack_switch", stackSwitch),
    row(Hypercall.set_callbacks, "set_callbacks", setCallbacks),
    row(Hypercall.fpu_taskswitch, "fpu_taskswitch", fpuTaskswitch),
    // compat_update_descriptor(pa_lo, pa_hi, desc_lo, desc_hi).
    row(Hypercall.update_descriptor, "update_descriptor", (ctx, a) =>
      updateDescriptor(ctx, pair(a, 0), pair(a, 2)),
    ),
    row(
      Hypercall.update_va_mapping,
      "update_va_mapping",
      (ctx, a) => updateVaMapping(ctx, BigInt(a.u32(0)), pair(a, 1), BigInt(a.u32(3))),
      "mmu",
    ),
    row(
      Hypercall.update_va_mapping_otherdomain,
      "update_va_mapping_otherdomain",
      (ctx, a) =>
        updateVaMappingOtherdomain(ctx, BigInt(a.u32(0)), pair(a, 1), BigInt(a.u32(3)), a.u32(4)),
      "mmu",
    ),
    row(Hypercall.iret, "iret", (ctx) => compatIret(ctx.vcpu.arch)),
    row(
      Hypercall.mmuext_op,
      "mmuext_op",
      (ctx, a) => mmuextOp(ctx, BigInt(a.u32(0)), a.u32(1), BigInt(a.u32(2)), a.u32(3)),
      "mmu",
    ),
    row(Hypercall.callback_op, "callback_op", callbackOp),
    row(Hypercall.physdev_op, "physdev_op", physdevOp),
    row(Hypercall.set_debugreg, "set_debugreg", setDebugregHypercall),
    row(Hypercall.get_debugreg, "get_debugreg", getDebugregHypercall),
  ];
}
