/**
 * domctl and sysctl from a real dom0 acting as a toolstack: getdomaininfo on itself
 * (flags, pages, shared_info frame against start_info), sysctl physinfo and
 * getdomaininfolist, and a domain's life (createdomain with its id written back, EEXIST,
 * max_vcpus, max_mem, pause/unpause counting, address size, getmemlist, the log-dirty
 * stub, destroydomain freeing its pages), with the EACCES/EFAULT/ESRCH/EINVAL paths.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** domctl/toolstack. */
export const domctlToolstack = guestBootTest({
  area: "domctl",
  name: "toolstack",
  description:
    "dom0 calls getdomaininfo on itself, sysctl physinfo and getdomaininfolist, and creates, inspects, pauses and destroys a domain",
  guest: "domctl-info",
  requires: { modes: ["pv"], roles: ["dom0"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
