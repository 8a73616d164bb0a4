/**
 * The x86 (32-bit PAE PV) half of the conformance guest agent (core's `agent.ts`): the
 * boot image `agent/agent.elf` (built from `agent/agent.S` by `agent/build.sh`) and what
 * only this port knows — the page tables' root is the L3 start_info.pt_base names, the
 * vcpu_guest_context that starts a secondary vCPU in ring 1 at the agent's `ap_entry`,
 * and another domain's frame made a valid L3 for a foreign context. What both x86 PV
 * agents do alike (handles, trap records, frames through the p2m list — 4-byte entries
 * here — and update_va_mapping, whose pte crosses as a register pair here) is
 * {@link PvGuestAgentBase} (agent-traps.ts).
 *
 * @module
 */
import {
  HvkitError,
  START_INFO,
  type AgentIo,
  type ForeignDomain,
  type ForeignVcpuContext,
  type GuestAgent,
  type RefusedVcpuContext,
} from "@hvkit/core";
import { VCPU_GUEST_CONTEXT_X86, VGCF_IN_KERNEL } from "./abi.js";
import {
  copyTrapTable,
  pvForeignVcpuContext,
  PvGuestAgentBase,
  readGuestWord,
  refusedContextVariants,
} from "./agent-traps.js";
import { compatPfnToCr3 } from "./pv-vcpu-context.js";
import { Pv32Selector } from "./pv32-traps.js";

/** PTE present bit. */
const PTE_PRESENT = 0x1n;
/** An address below the hypervisor's area that no PV32 domain has mapped (the builder maps a few MiB from 0). */
const UNMAPPED = 0xc000_0000n;
/** Where the agent's boot report keeps its trap table, event and failsafe entries. */
const ARCH_TRAP_TABLE = 0;
const ARCH_EVENT_ENTRY = 1;
const ARCH_FAILSAFE_ENTRY = 2;
/** Register values of {@link X86GuestAgent.foreignVcpuContext}, for getvcpucontext to give back. */
const FOREIGN_STACK = 0x30_0000n;
const FOREIGN_EBX = 0x1234n;
/** What getvcpucontext gives back as loaded (arch_get_info_guest's compat path, xen/arch/x86/domctl.c). */
const FOREIGN_KEPT = [
  "user_regs.eip",
  "user_regs.esp",
  "user_regs.ebx",
  "user_regs.edi",
  "user_regs.cs",
  "user_regs.ds",
  "kernel_ss",
  "kernel_sp",
  "ctrlreg.3",
  "event_callback_cs",
  "event_callback_eip",
  "failsafe_callback_cs",
  "failsafe_callback_eip",
];
/** Byte offset of slot 3 in a PAE L3 (8-byte entries). */
const L3_SLOT3 = 24n;

/** The x86 (32-bit PAE PV) guest agent. */
export class X86GuestAgent extends PvGuestAgentBase implements GuestAgent {
  constructor() {
    super(
      new URL("../agent/agent.elf", import.meta.url),
      "in a clone, build it with arch-x86/agent/build.sh",
      UNMAPPED,
    );
  }

  /**
   * Kernel mode in ring 1 (FLAT_RING1_CS, FLAT_RING1_DS in ss and the data selectors), edi = the vCPU id (the agent's `ap_entry`
   * picks its stack and mailbox from it), the agent's trap table and callbacks, and the
   * boot L3 as CR3.
   */
  secondaryVcpuContext(io: AgentIo, vcpuId: number): Uint8Array {
    const ctx = VCPU_GUEST_CONTEXT_X86.layout(io.model);
    const bytes = new Uint8Array(ctx.size);
    const view = new DataView(bytes.buffer);
    const arch = io.boot.arch;
    ctx.set(view, 0, "flags", VGCF_IN_KERNEL);
    ctx.set(view, 0, "user_regs.eip", io.boot.apEntry);
    ctx.set(view, 0, "user_regs.edi", vcpuId);
    ctx.set(view, 0, "user_regs.cs", Pv32Selector.KERNEL_CS);
    ctx.set(view, 0, "user_regs.ss", Pv32Selector.KERNEL_DS);
    // A compat vCPU starts with the data selectors the context names (0 would fault).
    for (const seg of ["ds", "es", "fs", "gs"]) {
      ctx.set(view, 0, `user_regs.${seg}`, Pv32Selector.KERNEL_DS);
    }
    ctx.set(view, 0, "user_regs.eflags", 0x200);
    ctx.set(view, 0, "kernel_ss", Pv32Selector.KERNEL_DS);
    ctx.set(view, 0, "ctrlreg.3", BigInt(compatPfnToCr3(Number(this.pageTableRoot(io)))));
    ctx.set(view, 0, "event_callback_cs", Pv32Selector.KERNEL_CS);
    ctx.set(view, 0, "event_callback_eip", arch[ARCH_EVENT_ENTRY]);
    ctx.set(view, 0, "failsafe_callback_cs", Pv32Selector.KERNEL_CS);
    ctx.set(view, 0, "failsafe_callback_eip", arch[ARCH_FAILSAFE_ENTRY]);
    copyTrapTable(io, arch[ARCH_TRAP_TABLE], bytes, ctx.offsetOf("trap_ctxt"));
    return bytes;
  }

  /**
   * Xen's compat `arch_set_info_guest` (xen/arch/x86/domain.c) refuses a context whose CR3
   * names no page it can take as an L3, and an LDT base that is not page aligned.
   */
  refusedVcpuContexts(
    io: AgentIo,
    vcpuId: number,
    base?: Uint8Array,
  ): readonly RefusedVcpuContext[] {
    return refusedContextVariants(io, base ?? this.secondaryVcpuContext(io, vcpuId), [
      ["CR3 0 names no page table", [["ctrlreg.3", 0n]]],
      [
        "an LDT base not page aligned",
        [
          ["ldt_ents", 1n],
          ["ldt_base", 0x10008n],
        ],
      ],
    ]);
  }

  /**
   * The secondary vCPU's context with CR3 naming `frame` (compat_pfn_to_cr3), made a
   * valid PAE L3 first: Xen's promote_l3_table wants slot 3 to name an L2, so the agent
   * maps `frame` at its last window page (update_va_mapping_otherdomain), points slot 3
   * at `domain.spareFrame` (an empty page, which validates as that L2), and maps its own
   * page back. Recognisable stack pointers and ebx.
   */
  foreignVcpuContext(
    io: AgentIo,
    vcpuId: number,
    frame: bigint,
    domain: ForeignDomain,
  ): ForeignVcpuContext {
    const va = io.boot.window + BigInt(io.boot.windowLength - io.pageSize);
    const own = this.frameOf(io, va);
    const mapped = this.mapFrame(io, va, frame, true, domain.id);
    if (mapped !== 0n) {
      throw new HvkitError(`x86 agent: mapping frame ${frame} of d${domain.id} returned ${mapped}`);
    }
    const slot = new Uint8Array(8);
    new DataView(slot.buffer).setBigUint64(0, (domain.spareFrame << 12n) | PTE_PRESENT, true);
    io.write(va + L3_SLOT3, slot);
    const restored = this.mapFrame(io, va, own, true);
    if (restored !== 0n)
      throw new HvkitError(`x86 agent: remapping its window returned ${restored}`);

    const cr3 = (f: bigint): bigint => BigInt(compatPfnToCr3(Number(f)));
    // A compat context has no user page table: ctrlreg[1] is not compared on a reload.
    return pvForeignVcpuContext(
      io,
      this.secondaryVcpuContext(io, vcpuId),
      [
        ["ctrlreg.3", cr3(frame)],
        ["user_regs.esp", FOREIGN_STACK],
        ["kernel_sp", FOREIGN_STACK],
        ["user_regs.ebx", FOREIGN_EBX],
      ],
      FOREIGN_KEPT,
      [["another page table (CR3)", [["ctrlreg.3", cr3(domain.spareFrame)]]]],
    );
  }

  /** The boot L3's frame: the first page-table page (start_info.pt_base). */
  pageTableRoot(io: AgentIo): bigint {
    const si = START_INFO.layout(io.model);
    const ptBase = readGuestWord(io, io.boot.startInfo + BigInt(si.offsetOf("pt_base")));
    return this.frameOf(io, ptBase);
  }
}
