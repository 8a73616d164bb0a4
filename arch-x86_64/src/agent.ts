/**
 * The x86_64 PV half of the conformance guest agent (core's `agent.ts`): the boot image
 * `agent/agent.elf` (built from `agent/agent.S` by `agent/build.sh`) and what only this
 * arch knows — the vcpu_guest_context that starts a secondary vCPU in the agent, the
 * contexts Xen refuses, and the page-table root the agent read at boot. What both x86 PV
 * agents do alike (handles, trap records, frames through the p2m list and
 * update_va_mapping) is arch-x86's `PvGuestAgentBase`.
 *
 * @module
 */
import {
  type AgentIo,
  type ForeignVcpuContext,
  type GuestAgent,
  type RefusedVcpuContext,
} from "@hvkit/core";
import {
  copyTrapTable,
  pvForeignVcpuContext,
  PvGuestAgentBase,
  refusedContextVariants,
  VCPU_GUEST_CONTEXT_X86,
  VGCF_IN_KERNEL,
} from "@hvkit/arch-x86";

/** FLAT_KERNEL_CS64 / FLAT_KERNEL_SS64 (arch-x86/xen-x86_64.h). */
const FLAT_KERNEL_CS = 0xe033;
const FLAT_KERNEL_SS = 0xe02b;
/**
 * A canonical lower-half address no PV domain has mapped: Xen's builder maps a domain
 * from its virtual base up to the end of its boot stack (a few MiB for a guest linked low).
 */
const UNMAPPED = 0x0000_4000_0000_0000n;
/** The lowest non-canonical address of 48-bit virtual addressing (SDM vol. 1, 3.3.7.1). */
const NON_CANONICAL = 0x0000_8000_0000_0000n;
/** Register values of {@link X86_64GuestAgent.foreignVcpuContext}, for getvcpucontext to give back. */
const FOREIGN_STACK = 0x30_0000n;
const FOREIGN_RBX = 0x1234n;
/** What getvcpucontext gives back as loaded (arch_get_info_guest, xen/arch/x86/domctl.c). */
const FOREIGN_KEPT = [
  "user_regs.rip",
  "user_regs.rsp",
  "user_regs.rbx",
  "user_regs.rdi",
  "kernel_ss",
  "kernel_sp",
  "ctrlreg.3",
  "event_callback_eip",
  "failsafe_callback_eip",
];
/** Where each agent vCPU's words live in its boot report's `arch` array. */
const ARCH_TRAP_TABLE = 0;
const ARCH_EVENT_ENTRY = 1;
const ARCH_FAILSAFE_ENTRY = 2;
const ARCH_CR3 = 3;

/** The x86_64 PV guest agent. */
export class X86_64GuestAgent extends PvGuestAgentBase implements GuestAgent {
  constructor() {
    super(
      new URL("../agent/agent.elf", import.meta.url),
      "in a clone, build it with arch-x86_64/agent/build.sh",
      UNMAPPED,
    );
  }

  /**
   * Kernel mode, flat kernel selectors,
   * rdi = the vCPU id (the agent's `ap_entry` picks its stack and mailbox from it), the
   * agent's trap table, event and failsafe callbacks, and vCPU 0's CR3.
   */
  secondaryVcpuContext(io: AgentIo, vcpuId: number): Uint8Array {
    const model = io.model;
    const ctx = VCPU_GUEST_CONTEXT_X86.layout(model);
    const bytes = new Uint8Array(ctx.size);
    const view = new DataView(bytes.buffer);
    const arch = io.boot.arch;
    ctx.set(view, 0, "flags", VGCF_IN_KERNEL);
    ctx.set(view, 0, "user_regs.rip", io.boot.apEntry);
    ctx.set(view, 0, "user_regs.rdi", vcpuId);
    ctx.set(view, 0, "user_regs.cs", FLAT_KERNEL_CS);
    ctx.set(view, 0, "user_regs.ss", FLAT_KERNEL_SS);
    ctx.set(view, 0, "user_regs.rflags", 0x200);
    ctx.set(view, 0, "kernel_ss", FLAT_KERNEL_SS);
    ctx.set(view, 0, "ctrlreg.3", arch[ARCH_CR3]);
    ctx.set(view, 0, "event_callback_eip", arch[ARCH_EVENT_ENTRY]);
    ctx.set(view, 0, "failsafe_callback_eip", arch[ARCH_FAILSAFE_ENTRY]);
    // The agent's trap table, entry by entry, into trap_ctxt[vector].
    copyTrapTable(io, arch[ARCH_TRAP_TABLE], bytes, ctx.offsetOf("trap_ctxt"));
    return bytes;
  }

  /**
   * Xen's `arch_set_info_guest`
   * (xen/arch/x86/domain.c) refuses a PV context whose CR3 names no page it can take as
   * an L4 table, and one whose rip is not canonical (`is_canonical_address`).
   */
  refusedVcpuContexts(
    io: AgentIo,
    vcpuId: number,
    base?: Uint8Array,
  ): readonly RefusedVcpuContext[] {
    return refusedContextVariants(io, base ?? this.secondaryVcpuContext(io, vcpuId), [
      ["CR3 0 names no page table", [["ctrlreg.3", 0n]]],
      ["a non-canonical rip", [["user_regs.rip", NON_CANONICAL]]],
    ]);
  }

  /**
   * The secondary vCPU's context with CR3 naming `frame` (an empty page Xen validates as
   * the domain's L4) and recognisable stack pointers and rbx.
   */
  foreignVcpuContext(io: AgentIo, vcpuId: number, frame: bigint): ForeignVcpuContext {
    return pvForeignVcpuContext(
      io,
      this.secondaryVcpuContext(io, vcpuId),
      [
        ["ctrlreg.3", frame << 12n],
        ["user_regs.rsp", FOREIGN_STACK],
        ["kernel_sp", FOREIGN_STACK],
        ["user_regs.rbx", FOREIGN_RBX],
      ],
      FOREIGN_KEPT,
      [
        ["another kernel page table (CR3)", [["ctrlreg.3", (frame + 1n) << 12n]]],
        ["a user page table it does not have", [["ctrlreg.1", frame << 12n]]],
      ],
    );
  }

  /** CR3's frame, as the agent read it at boot (Xen emulates `mov %cr3` for a PV kernel). */
  pageTableRoot(io: AgentIo): bigint {
    return io.boot.arch[ARCH_CR3] >> 12n;
  }
}
