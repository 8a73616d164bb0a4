/**
 * Argument structs of vcpu_op (xen/include/public/vcpu.h).
 *
 * @module
 */
import { array, defineStruct, field, i32, u32, u64 } from "../structs.js";

/** vcpu_runstate_info.state: running on a physical CPU. */
export const RUNSTATE_RUNNING = 0;
/** vcpu_runstate_info.state: runnable, waiting for a CPU. */
export const RUNSTATE_RUNNABLE = 1;
/** vcpu_runstate_info.state: blocked (idle, waiting for an event). */
export const RUNSTATE_BLOCKED = 2;
/** vcpu_runstate_info.state: offline (down, or paused by the toolstack). */
export const RUNSTATE_OFFLINE = 3;
/** vcpu_set_singleshot_timer.flags: fail with -ETIME if the deadline has passed. */
export const VCPU_SSHOTTMR_FUTURE = 1 << 0;

/** `struct vcpu_runstate_info`: time a vCPU spent in each state. 48 bytes on LP64, 44 on x86_32. */
export const VCPU_RUNSTATE_INFO = defineStruct(
  "vcpu_runstate_info",
  "Accounting of a vCPU's time per run state.",
  {
    state: field(i32, "Current RUNSTATE_*."),
    state_entry_time: field(
      u64,
      "System time (ns) when the current state was entered; bit 63 set while an update is in progress (VMASST runstate_update_flag).",
    ),
    time: field(array(u64, 4), "Nanoseconds spent in each RUNSTATE_*, indexed by state."),
  },
);

/** `struct vcpu_set_periodic_timer`: VCPUOP_set_periodic_timer's argument. */
export const VCPU_SET_PERIODIC_TIMER = defineStruct(
  "vcpu_set_periodic_timer",
  "Start a periodic VIRQ_TIMER.",
  {
    period_ns: field(u64, "Period in nanoseconds."),
  },
);

/** `struct vcpu_set_singleshot_timer`: VCPUOP_set_singleshot_timer's argument. 16 / 12 bytes. */
export const VCPU_SET_SINGLESHOT_TIMER = defineStruct(
  "vcpu_set_singleshot_timer",
  "Arm a one-shot VIRQ_TIMER.",
  {
    timeout_abs_ns: field(u64, "Absolute system time (ns) to fire at."),
    flags: field(u32, "VCPU_SSHOTTMR_* flags."),
  },
);

/** `struct vcpu_register_vcpu_info`: VCPUOP_register_vcpu_info's argument (16 bytes). */
export const VCPU_REGISTER_VCPU_INFO = defineStruct(
  "vcpu_register_vcpu_info",
  "Move a vCPU's vcpu_info into a page of the guest's choosing.",
  {
    mfn: field(u64, "Frame holding the new vcpu_info."),
    offset: field(u32, "Byte offset of the vcpu_info in that frame (must not cross the page end)."),
    rsvd: field(u32, "Reserved, 0."),
  },
);
