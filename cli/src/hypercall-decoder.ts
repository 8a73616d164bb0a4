/**
 * Hypercalls as a porter reads them: Xen's name of each call, of its sub-operation
 * (`XENMEM_populate_physmap`, `MMUEXT_PIN_L4_TABLE`, `XEN_DOMCTL_getdomaininfo`), its
 * arguments by the names of Xen's prototypes (pointers in hex, counts in decimal) and its
 * result with the errno's name. The numbers come from core's ABI tables (`Hypercall`,
 * `MemoryOp`, `Errno`, ...); the argument lists follow Xen's `hypercall-defs.c`, with the
 * 32-bit PV forms where a 64-bit value takes two registers (`update_va_mapping(va,
 * val_lo, val_hi, flags)` is shown with one `val`).
 *
 * Sub-operations carried in a struct rather than a register (domctl, sysctl,
 * platform_op, mmuext_op, mmu_update, the compat event-channel and physdev calls) are read
 * from the struct's first word through the guest-memory door, as the handler read it; so
 * are the fields shown of the commonest argument structs (event-channel binds and sends,
 * shutdown, callbacks, vCPU timers, reservations), after the call, OUT fields included.
 *
 * @module
 */
import {
  CALLBACK_REGISTER,
  CALLBACK_UNREGISTER,
  CallbackOp,
  CallbackType,
  ConsoleIoCmd,
  DomctlCmd,
  DomId,
  Errno,
  EVTCHN_ALLOC_UNBOUND,
  EVTCHN_BIND_INTERDOMAIN,
  EVTCHN_BIND_IPI,
  EVTCHN_BIND_VCPU,
  EVTCHN_BIND_VIRQ,
  EVTCHN_CLOSE,
  EVTCHN_SEND,
  EVTCHN_UNMASK,
  EventChannelOp,
  GrantTableOp,
  Hypercall,
  HvmOp,
  MEMOP_CMD_MASK,
  MEMOP_EXTENT_SHIFT,
  MemoryOp,
  MmuUpdateCmd,
  MmuextCmd,
  PhysdevOp,
  PlatformOp,
  readGuestStruct,
  readGuestU32,
  readGuestU64,
  SCHED_REMOTE_SHUTDOWN,
  SCHED_SHUTDOWN,
  SchedOp,
  ShutdownReason,
  StructBuffer,
  SysctlCmd,
  VCPU_SET_PERIODIC_TIMER,
  VCPU_SET_SINGLESHOT_TIMER,
  VcpuOp,
  Virq,
  VmAssistCmd,
  VmAssistType,
  XEN_ADD_TO_PHYSMAP,
  XEN_MEMORY_RESERVATION,
  XenpmuOp,
  XenVersionOp,
  type HypercallArgs,
  type Machine,
  type StructDef,
  type Vcpu,
} from "@hvkit/core";

/** Xen's names of one numbering (a numeric TypeScript enum), each with its macro prefix. */
function labels(numbering: Record<string, string | number>, prefix: string, upper = false) {
  const out: string[] = [];
  for (const [name, value] of Object.entries(numbering)) {
    if (typeof value === "number") out[value] = prefix + (upper ? name.toUpperCase() : name);
  }
  return out;
}

/** A table of sub-operation names and the prefix shown with an unknown number. */
interface SubOps {
  readonly names: readonly string[];
  readonly prefix: string;
}

const subOps = (numbering: Record<string, string | number>, prefix: string, upper = false) => ({
  names: labels(numbering, prefix, upper),
  prefix,
});

const MEMORY_OPS = subOps(MemoryOp, "XENMEM_");
const SCHED_OPS = subOps(SchedOp, "SCHEDOP_");
const EVTCHN_OPS = subOps(EventChannelOp, "EVTCHNOP_");
const PHYSDEV_OPS = subOps(PhysdevOp, "PHYSDEVOP_");
const MMUEXT_CMDS = subOps(MmuextCmd, "MMUEXT_", true);
const MMU_CMDS = subOps(MmuUpdateCmd, "MMU_", true);
const VMASST_TYPES = subOps(VmAssistType, "VMASST_TYPE_");

/** Sub-operations given in the first argument register. */
const REGISTER_SUBOPS: ReadonlyMap<number, SubOps> = new Map([
  [Hypercall.memory_op, MEMORY_OPS],
  [Hypercall.xen_version, subOps(XenVersionOp, "XENVER_")],
  [Hypercall.console_io, subOps(ConsoleIoCmd, "CONSOLEIO_")],
  [Hypercall.grant_table_op, subOps(GrantTableOp, "GNTTABOP_")],
  [Hypercall.vm_assist, subOps(VmAssistCmd, "VMASST_CMD_")],
  [Hypercall.vcpu_op, subOps(VcpuOp, "VCPUOP_")],
  [Hypercall.sched_op, SCHED_OPS],
  [Hypercall.sched_op_compat, SCHED_OPS],
  [Hypercall.callback_op, subOps(CallbackOp, "CALLBACKOP_")],
  [Hypercall.event_channel_op, EVTCHN_OPS],
  [Hypercall.physdev_op, PHYSDEV_OPS],
  [Hypercall.hvm_op, subOps(HvmOp, "HVMOP_")],
  [Hypercall.xenpmu_op, subOps(XenpmuOp, "XENPMU_")],
]);

/** Sub-operations in the first 32-bit word of the struct the first argument points to. */
const STRUCT_SUBOPS: ReadonlyMap<number, SubOps> = new Map([
  [Hypercall.domctl, subOps(DomctlCmd, "XEN_DOMCTL_")],
  [Hypercall.sysctl, subOps(SysctlCmd, "XEN_SYSCTL_")],
  [Hypercall.platform_op, subOps(PlatformOp, "XENPF_")],
  [Hypercall.mmuext_op, MMUEXT_CMDS],
  [Hypercall.event_channel_op_compat, EVTCHN_OPS],
  [Hypercall.physdev_op_compat, PHYSDEV_OPS],
]);

const ERRNO_NAMES = labels(Errno, "-");

/** Names shown for the fields of argument structs that hold a numbering's value. */
const FIELD_NAMES: Readonly<Record<string, SubOps>> = {
  virq: subOps(Virq, "VIRQ_"),
  // ShutdownReason's members are PascalCase (SoftReset): Xen's are SHUTDOWN_soft_reset.
  reason: {
    names: labels(ShutdownReason, "").map(
      (n) => `SHUTDOWN_${n.replace(/(?<!^)([A-Z])/g, "_$1").toLowerCase()}`,
    ),
    prefix: "SHUTDOWN_",
  },
  type: subOps(CallbackType, "CALLBACKTYPE_"),
};

/**
 * The argument struct a sub-operation points to and the fields a trace shows of it (read
 * after the call, so OUT fields show what the hypervisor wrote: bind_virq's port).
 */
const ARGUMENT_STRUCTS: ReadonlyMap<string, { def: StructDef; fields: readonly string[] }> =
  new Map(
    (
      [
        ["EVTCHNOP_send", EVTCHN_SEND, "port"],
        ["EVTCHNOP_unmask", EVTCHN_UNMASK, "port"],
        ["EVTCHNOP_close", EVTCHN_CLOSE, "port"],
        ["EVTCHNOP_bind_virq", EVTCHN_BIND_VIRQ, "virq vcpu port"],
        ["EVTCHNOP_bind_ipi", EVTCHN_BIND_IPI, "vcpu port"],
        ["EVTCHNOP_bind_vcpu", EVTCHN_BIND_VCPU, "port vcpu"],
        ["EVTCHNOP_alloc_unbound", EVTCHN_ALLOC_UNBOUND, "dom remote_dom port"],
        ["EVTCHNOP_bind_interdomain", EVTCHN_BIND_INTERDOMAIN, "remote_dom remote_port local_port"],
        ["SCHEDOP_shutdown", SCHED_SHUTDOWN, "reason"],
        ["SCHEDOP_remote_shutdown", SCHED_REMOTE_SHUTDOWN, "domain_id reason"],
        ["CALLBACKOP_register", CALLBACK_REGISTER, "type flags"],
        ["CALLBACKOP_unregister", CALLBACK_UNREGISTER, "type"],
        ["VCPUOP_set_singleshot_timer", VCPU_SET_SINGLESHOT_TIMER, "timeout_abs_ns flags"],
        ["VCPUOP_set_periodic_timer", VCPU_SET_PERIODIC_TIMER, "period_ns"],
        ["XENMEM_increase_reservation", XEN_MEMORY_RESERVATION, "nr_extents extent_order domid"],
        ["XENMEM_decrease_reservation", XEN_MEMORY_RESERVATION, "nr_extents extent_order domid"],
        ["XENMEM_populate_physmap", XEN_MEMORY_RESERVATION, "nr_extents extent_order domid"],
        ["XENMEM_add_to_physmap", XEN_ADD_TO_PHYSMAP, "domid space idx gpfn"],
      ] as const
    ).map(([subOp, def, fields]) => [subOp, { def, fields: fields.split(" ") }]),
  );

const structBuffer = new StructBuffer(256);

/** `{field=value, ...}` of the argument struct of `subOp` at `va`, or "" (none, unreadable). */
function argumentStruct(vcpu: Vcpu, subOp: string, va: bigint): string {
  const known = ARGUMENT_STRUCTS.get(subOp);
  if (known === undefined) return "";
  const layout = known.def.layout(vcpu.machine.arch.dataModel);
  if (readGuestStruct(vcpu, va, layout, structBuffer) !== 0) return "";
  const shown = known.fields.map((f) => {
    const value = layout.getBigInt(structBuffer.view, 0, f);
    const names = FIELD_NAMES[f];
    const text =
      names !== undefined
        ? subOpName(names, Number(value))
        : f === "dom" || f.endsWith("_dom") || f === "domid" || f === "domain_id"
          ? (DOMID_NAMES.get(Number(value)) ?? `${value}`)
          : value > 0xffffn
            ? hex(value)
            : `${value}`;
    return `${f}=${text}`;
  });
  return ` {${shown.join(", ")}}`;
}

function subOpName(table: SubOps, n: number): string {
  return table.names[n] ?? `${table.prefix}${n}`;
}

/**
 * How an argument is shown: `ptr` and `hex` in hex, `count` and `int` in decimal (u32,
 * i32), `domid` by number or its DOMID_ name, `ns` as a decimal 64-bit time, `pair` a
 * 64-bit value that takes two registers in a 32-bit guest, `cmd` the sub-operation,
 * `vmasst` a VMASST_TYPE_ name.
 */
type ArgKind = "ptr" | "hex" | "count" | "int" | "domid" | "ns" | "pair" | "cmd" | "vmasst";

interface Param {
  readonly name: string;
  readonly kind: ArgKind;
}

const params = (spec: string): readonly Param[] =>
  spec === ""
    ? []
    : spec.split(" ").map((p) => {
        const [name, kind] = p.split(":");
        return { name, kind: kind as ArgKind };
      });

/** Xen's prototypes (hypercall-defs.c and the public headers), as `name:kind` lists. */
const SIGNATURES: ReadonlyMap<number, readonly Param[]> = new Map(
  (
    [
      [Hypercall.set_trap_table, "traps:ptr"],
      [Hypercall.mmu_update, "ureqs:ptr count:count pdone:ptr foreigndom:domid"],
      [Hypercall.set_gdt, "frame_list:ptr entries:count"],
      [Hypercall.stack_switch, "ss:hex esp:ptr"],
      [Hypercall.set_callbacks, "event_address:ptr failsafe_address:ptr syscall_address:ptr"],
      [Hypercall.fpu_taskswitch, "set:int"],
      [Hypercall.sched_op_compat, "cmd:cmd arg:hex"],
      [Hypercall.platform_op, "u_xenpf_op:ptr"],
      [Hypercall.set_debugreg, "reg:int value:hex"],
      [Hypercall.get_debugreg, "reg:int"],
      [Hypercall.update_descriptor, "ma:pair desc:pair"],
      [Hypercall.memory_op, "cmd:cmd arg:ptr"],
      [Hypercall.multicall, "call_list:ptr nr_calls:count"],
      [Hypercall.update_va_mapping, "va:ptr val:pair flags:hex"],
      [Hypercall.set_timer_op, "timeout:ns"],
      [Hypercall.event_channel_op_compat, "uop:ptr"],
      [Hypercall.xen_version, "cmd:cmd arg:ptr"],
      [Hypercall.console_io, "cmd:cmd count:count buffer:ptr"],
      [Hypercall.physdev_op_compat, "uop:ptr"],
      [Hypercall.grant_table_op, "cmd:cmd uop:ptr count:count"],
      [Hypercall.vm_assist, "cmd:cmd type:vmasst"],
      [Hypercall.update_va_mapping_otherdomain, "va:ptr val:pair flags:hex domid:domid"],
      [Hypercall.iret, ""],
      [Hypercall.vcpu_op, "cmd:cmd vcpuid:count arg:ptr"],
      [Hypercall.set_segment_base, "which:count base:hex"],
      [Hypercall.mmuext_op, "uops:ptr count:count pdone:ptr foreigndom:domid"],
      [Hypercall.xsm_op, "op:ptr"],
      [Hypercall.nmi_op, "cmd:count arg:ptr"],
      [Hypercall.sched_op, "cmd:cmd arg:ptr"],
      [Hypercall.callback_op, "cmd:cmd arg:ptr"],
      [Hypercall.xenoprof_op, "op:int arg:ptr"],
      [Hypercall.event_channel_op, "cmd:cmd arg:ptr"],
      [Hypercall.physdev_op, "cmd:cmd arg:ptr"],
      [Hypercall.hvm_op, "op:cmd arg:ptr"],
      [Hypercall.sysctl, "u_sysctl:ptr"],
      [Hypercall.domctl, "u_domctl:ptr"],
      [Hypercall.kexec_op, "op:count uarg:ptr"],
      [Hypercall.argo_op, "cmd:count arg1:ptr arg2:ptr arg3:count arg4:count"],
      [Hypercall.xenpmu_op, "op:cmd arg:ptr"],
      [Hypercall.dm_op, "domid:domid nr_bufs:count bufs:ptr"],
      [Hypercall.hypfs_op, "cmd:count arg1:ptr arg2:count arg3:ptr arg4:count"],
    ] as const
  ).map(([nr, spec]) => [nr, params(spec)]),
);

/** The 32-bit PV forms that differ beyond register width (x86_32's set_callbacks). */
const SIGNATURES_32: ReadonlyMap<number, readonly Param[]> = new Map([
  [
    Hypercall.set_callbacks,
    params("event_selector:hex event_address:ptr failsafe_selector:hex failsafe_address:ptr"),
  ],
]);

const DOMID_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(DomId).map(([name, id]) => [id, `DOMID_${name}`]),
);

/**
 * Xen's name for hypercall `nr`: the machine's table row (an arch's own numbers, 48–55,
 * are named by the arch), else the public header's, else `hypercall_<nr>`;
 * `hypercall_out_of_range` for a number no register holds (a multicall entry's op of
 * 2^32 or more, which the dispatcher is given as −1).
 */
export function hypercallName(machine: Machine, nr: number): string {
  if (!Number.isSafeInteger(nr) || nr < 0) return "hypercall_out_of_range";
  const row = nr < machine.hypercalls.length ? machine.hypercalls[nr] : undefined;
  return row?.name ?? (Hypercall as Record<number, string | undefined>)[nr] ?? `hypercall_${nr}`;
}

/**
 * The sub-operation of hypercall `nr` (e.g. `XENMEM_populate_physmap`), or null for a
 * call that has none. From a register for most; from the first word of the struct the
 * first argument points to for domctl, sysctl, platform_op, mmuext_op (its first request)
 * and mmu_update (the command bits of its first request); `null` when that struct cannot
 * be read. Allocates nothing for a known sub-operation given in a register.
 */
export function hypercallSubOp(vcpu: Vcpu, nr: number, args: HypercallArgs): string | null {
  const inRegister = REGISTER_SUBOPS.get(nr);
  if (inRegister !== undefined) {
    const cmd = args.u32(0);
    return subOpName(inRegister, nr === Hypercall.memory_op ? cmd & MEMOP_CMD_MASK : cmd);
  }
  if (nr === Hypercall.mmu_update) {
    if (args.u32(1) === 0) return null;
    const ptr = readGuestU64(vcpu, args.u64(0));
    return ptr < 0n ? null : subOpName(MMU_CMDS, Number(ptr & 3n));
  }
  const inStruct = STRUCT_SUBOPS.get(nr);
  if (inStruct === undefined) return null;
  if (nr === Hypercall.mmuext_op && args.u32(1) === 0) return null;
  const cmd = readGuestU32(vcpu, args.u64(0));
  return cmd < 0 ? null : subOpName(inStruct, cmd);
}

/** A result as Xen's headers name it: `-ENOSYS` for an errno, else the value. */
export function hypercallResult(result: number | bigint): string {
  const n = typeof result === "bigint" ? result : BigInt(result);
  if (n < 0n) return (n >= -4095n && ERRNO_NAMES[Number(-n)]) || n.toString();
  return n < 0x10000n ? n.toString() : `0x${n.toString(16)}`;
}

/**
 * The errno name of a failed result (`-EINVAL`), `-<n>` for a negative value errno.h does
 * not name, or null for a success. Allocates nothing for a named errno.
 */
export function hypercallErrno(result: number | bigint): string | null {
  const n = typeof result === "bigint" ? (result < 0n ? Number(result) : 0) : result;
  if (n >= 0) return null;
  return ERRNO_NAMES[-n] ?? `${n}`;
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

/**
 * One line for a hypercall: `name(arg=value, ...)`, the sub-operation in place of its
 * argument, a struct-borne one after the pointer (`domctl(u_domctl=0x1000
 * [XEN_DOMCTL_getdomaininfo])`). A number with no known prototype shows six raw
 * registers.
 */
export function describeHypercall(vcpu: Vcpu, nr: number, args: HypercallArgs): string {
  const machine = vcpu.machine;
  const name = hypercallName(machine, nr);
  const wide = machine.arch.wordBits === 64;
  const signature = (!wide ? SIGNATURES_32.get(nr) : undefined) ?? SIGNATURES.get(nr);
  if (signature === undefined || nr >= Hypercall.arch_0) {
    return `${name}(${[0, 1, 2, 3, 4, 5].map((i) => hex(args.u64(i))).join(", ")})`;
  }
  const shown: string[] = [];
  let pointedTo: string | null = null;
  let reg = 0;
  for (const { name: param, kind } of signature) {
    const i = reg++;
    let text: string;
    switch (kind) {
      case "cmd": {
        const sub = hypercallSubOp(vcpu, nr, args);
        text = sub ?? `${args.u32(i)}`;
        if (sub !== null) pointedTo = sub;
        if (nr === Hypercall.memory_op && args.u32(0) >> MEMOP_EXTENT_SHIFT !== 0) {
          text += ` start_extent=${args.u32(0) >>> MEMOP_EXTENT_SHIFT}`;
        }
        shown.push(text);
        continue;
      }
      case "ptr":
      case "hex":
        text = hex(args.u64(i));
        break;
      case "count":
        text = `${args.u32(i)}`;
        break;
      case "int":
        text = `${args.i32(i)}`;
        break;
      case "ns":
        text = wide
          ? `${args.u64(i)}`
          : `${(BigInt(args.u32(reg++)) << 32n) | BigInt(args.u32(i))}`;
        break;
      case "pair":
        text = wide
          ? hex(args.u64(i))
          : hex((BigInt(args.u32(reg++)) << 32n) | BigInt(args.u32(i)));
        break;
      case "domid":
        text = DOMID_NAMES.get(args.u32(i) & 0xffff) ?? `${args.u32(i) & 0xffff}`;
        break;
      case "vmasst":
        text = subOpName(VMASST_TYPES, args.u32(i));
        break;
    }
    if (i === 0 && (STRUCT_SUBOPS.has(nr) || nr === Hypercall.mmu_update)) {
      const sub = hypercallSubOp(vcpu, nr, args);
      if (sub !== null) text += ` [${sub}]`;
    } else if (kind === "ptr" && pointedTo !== null) {
      text += argumentStruct(vcpu, pointedTo, args.u64(i));
      pointedTo = null;
    }
    shown.push(`${param}=${text}`);
  }
  return `${name}(${shown.join(", ")})`;
}
