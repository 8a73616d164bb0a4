/**
 * Argument structs of sched_op (xen/include/public/sched.h).
 *
 * @module
 */
import { defineStruct, domid, field, handle, u32, u64 } from "../structs.js";

/** `struct sched_shutdown`: SCHEDOP_shutdown's argument. */
export const SCHED_SHUTDOWN = defineStruct("sched_shutdown", "Shut the calling domain down.", {
  reason: field(
    u32,
    "SHUTDOWN_* reason: poweroff 0, reboot 1, suspend 2, crash 3, watchdog 4, soft_reset 5.",
  ),
});

/** `struct sched_poll`: SCHEDOP_poll's argument. 24 bytes on LP64, 16 on x86_32. */
export const SCHED_POLL = defineStruct(
  "sched_poll",
  "Block until one of a set of ports is pending or a timeout passes.",
  {
    ports: field(handle, "Guest pointer to an array of evtchn_port_t."),
    nr_ports: field(u32, "Number of ports in the array."),
    timeout: field(u64, "Absolute system time (ns) to give up at; 0 for none."),
  },
);

/** `struct sched_remote_shutdown`: SCHEDOP_remote_shutdown's argument (privileged). */
export const SCHED_REMOTE_SHUTDOWN = defineStruct(
  "sched_remote_shutdown",
  "Shut another domain down.",
  {
    domain_id: field(domid, "The domain."),
    reason: field(u32, "SHUTDOWN_* reason."),
  },
);
