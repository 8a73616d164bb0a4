/**
 * Segmentation and 32-bit code of a PV kernel as Xen 4.19 gives them, checked by the
 * arch's own `segments` guest (one "ok"/"FAIL" line per check, the reasons cited in its
 * source). On x86_64: Xen's flat selectors in its reserved GDT page; set_gdt,
 * update_descriptor and MMUEXT_SET_LDT with check_descriptor's fixups and refusals;
 * segment-register loads, far calls and lar/lsl/verr/verw with the processor's
 * #GP/#NP/#SS error codes; a far call into compatibility-mode code (instructions 64-bit
 * code lacks) and back, and #GP(0) for a target offset past the code segment's limit;
 * call gates faulting with #GP(gate) for a 64-bit guest; `iretq` with EFLAGS.NT set
 * (#GP(0): no task return in long mode); `syscall` in compatibility mode (#UD on Intel)
 * and `sysenter` delivered as entry.S delivers it.
 *
 * The test is arch-neutral: each arch's guest says what its Xen does, so an arch declares
 * `segmentation` and `compat-mode` once its own `segments` guest passes.
 */
import { ShutdownReason } from "@hvkit/core";
import { guestBootTest } from "../guest-boot.js";

/** segments/descriptors. */
export const segmentDescriptors = guestBootTest({
  area: "segments",
  name: "descriptors",
  description:
    "GDT/LDT hypercalls, segment loads, far calls into 32-bit code, call gates, syscall/sysenter as Xen and the processor give them",
  guest: "segments",
  requires: { modes: ["pv"], roles: ["dom0"], features: ["segmentation", "compat-mode"] },
  console: "expected",
  shutdown: ShutdownReason.Poweroff,
});
