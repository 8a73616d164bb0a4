/**
 * Every EVTCHNOP of the 2-level ABI from a real PV guest with two vCPUs, each result
 * checked by the guest against Xen (xen/common/event_channel.c, event_2l.c,
 * sched/core.c `do_poll`): alloc_unbound, loopback bind_interdomain, bind_virq (per-vCPU,
 * per-domain and global VIRQs, −EEXIST, −EINVAL, −ENOENT), bind_ipi on either vCPU,
 * bind_vcpu (which states may move), send, close, status of every reachable state,
 * unmask re-raising the upcall, reset, −ENOSPC on a full table (4,096 ports for a 64-bit
 * guest, 1,024 for a 32-bit one), SCHEDOP_poll (pending port, timeout, woken by its port,
 * −EINVAL, −EFAULT) and SCHEDOP_block woken by a timer, with the pending → selector →
 * upcall_pending bit order read from shared_info.
 * The guest prints one "ok" line per check, so the expected output is the check list.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** evtchn/ops. */
export const evtchnOps = guestBootTest({
  area: "evtchn",
  name: "ops",
  description:
    "every EVTCHNOP sub-op, SCHEDOP_poll and SCHEDOP_block, success and each error Xen documents, checked by the guest",
  guest: "evtchn-ops",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
  vcpus: 2,
  maxInstructions: 200_000_000,
});
