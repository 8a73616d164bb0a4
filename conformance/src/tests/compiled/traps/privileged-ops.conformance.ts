/**
 * The privileged instructions of a deprivileged PV kernel, carried out by the hypervisor
 * as Xen 4.19 does, checked by the arch's own `privregs` guest (one "ok"/"FAIL" line per
 * check, the reasons cited in its source). On x86_64 (pv/emul-priv-op.c, pv/domain.c,
 * msr.c, cpu/mcheck/vmce.c): CR0 with only TS the guest's; CR4 filtered, never faulting
 * (Linux's `mov $0x620, %cr4`), with TSD and FSGSBASE taking effect; rdmsr/wrmsr values
 * and #GPs (MSR_DEBUGCTL #GP); CPUID faulting for guest user mode; the hypercall-page MSR;
 * createdomain's x86 arch config (misc_flags, emulation_flags).
 *
 * The test is arch-neutral: each arch's guest says what its Xen does, so an arch declares
 * `privileged-op-emulation` once its own `privregs` guest passes.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** traps/privileged-ops. */
export const privilegedOps = guestBootTest({
  area: "traps",
  name: "privileged-ops",
  description:
    "control registers, MSRs and CPUID faulting of a PV kernel as Xen's privileged-op emulation gives them",
  guest: "privregs",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["privileged-op-emulation"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
