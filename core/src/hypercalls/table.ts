/**
 * The core's rows of the hypercall table: the common hypercalls every arch shares. The
 * machine merges them with the arch's rows (`ArchPlugin.hypercalls`) and any injected
 * `HYPERCALL_ENTRIES`; a number is declared once. A number absent from the merged table
 * returns −ENOSYS.
 *
 * @module
 */
import { Hypercall } from "../abi/numbers.js";
import type { GuestMode } from "../arch-plugin.js";
import type { HypercallEntry } from "../hypercall.js";
import { consoleIo } from "./console-io.js";
import { domctl } from "./domctl.js";
import { eventChannelOp } from "./event-channel-op.js";
import { GRANT_TABLE_OP_ENTRY } from "./grant-table.js";
import { memoryOp } from "./memory-op.js";
import { multicall } from "./multicall.js";
import { platformOp } from "./platform-op.js";
import { schedOp } from "./sched-op.js";
import { setTimerOp } from "./set-timer-op.js";
import { sysctl } from "./sysctl.js";
import { vcpuOp } from "./vcpu-op.js";
import { vmAssist } from "./vm-assist.js";
import { xenVersion } from "./xen-version.js";

/** Every guest mode: the common hypercalls are open to PV and hardware-assisted guests alike. */
export const ALL_GUEST_MODES: readonly GuestMode[] = ["pv", "hvm-vmx", "hvm-svm", "vt-i", "hv"];

/** The common hypercalls hvkit implements. */
export const CORE_HYPERCALLS: readonly HypercallEntry[] = [
  {
    number: Hypercall.memory_op,
    name: "memory_op",
    handler: memoryOp,
    modes: ALL_GUEST_MODES,
    xsm: "memory_op",
  },
  {
    number: Hypercall.xen_version,
    name: "xen_version",
    handler: xenVersion,
    modes: ALL_GUEST_MODES,
    xsm: "xen_version",
  },
  {
    number: Hypercall.console_io,
    name: "console_io",
    handler: consoleIo,
    modes: ALL_GUEST_MODES,
    xsm: "console_io",
  },
  {
    number: Hypercall.vm_assist,
    name: "vm_assist",
    handler: vmAssist,
    modes: ALL_GUEST_MODES,
    xsm: "none",
  },
  {
    number: Hypercall.sched_op,
    name: "sched_op",
    handler: schedOp,
    modes: ALL_GUEST_MODES,
    xsm: "sched_op",
  },
  {
    number: Hypercall.event_channel_op,
    name: "event_channel_op",
    handler: eventChannelOp,
    modes: ALL_GUEST_MODES,
    xsm: "evtchn",
  },
  GRANT_TABLE_OP_ENTRY,
  {
    number: Hypercall.domctl,
    name: "domctl",
    handler: domctl,
    modes: ALL_GUEST_MODES,
    xsm: "domctl",
  },
  {
    number: Hypercall.sysctl,
    name: "sysctl",
    handler: sysctl,
    modes: ALL_GUEST_MODES,
    xsm: "sysctl",
  },
  {
    number: Hypercall.set_timer_op,
    name: "set_timer_op",
    handler: setTimerOp,
    modes: ALL_GUEST_MODES,
    xsm: "none",
  },
  {
    number: Hypercall.vcpu_op,
    name: "vcpu_op",
    handler: vcpuOp,
    modes: ALL_GUEST_MODES,
    xsm: "none",
  },
  {
    number: Hypercall.multicall,
    name: "multicall",
    handler: multicall,
    modes: ALL_GUEST_MODES,
    xsm: "none",
  },
  {
    number: Hypercall.platform_op,
    name: "platform_op",
    handler: platformOp,
    modes: ALL_GUEST_MODES,
    xsm: "none",
  },
];
