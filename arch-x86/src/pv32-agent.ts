/**
 * The x86 (32-bit PAE PV) half of the conformance guest agent (core's `agent.ts`): the
 * boot image `agent/agent.elf` (built from `agent/agent.S` by `agent/build.sh`) and what
 * only this port knows — guest handles are virtual addresses below 4 GiB, a 64-bit pte
 * crosses update_va_mapping as a register pair, the p2m list has 4-byte entries, the page
 * tables' root is the L3 start_info.pt_base names, and the vcpu_guest_context that starts
 * a secondary vCPU in ring 1 at the agent's `ap_entry`.
 *
 * The agent is linked at 1 MiB with no VIRT_BASE, so its virtual addresses are its
 * pseudo-physical ones (pfn = va >> 12), as XTF's are.
 *
 * @module
 */
import {
  bootInfoFromStartInfo,
  Hypercall,
  readPackageFile,
  START_INFO,
  type AgentIo,
  type AgentTrapRecord,
  type GuestAgent,
  type GuestBootInfo,
  type GuestTrap,
} from "@hvkit/core";
import { VCPU_GUEST_CONTEXT_X86, VGCF_IN_KERNEL } from "./abi.js";
import { copyTrapTable, describeX86Trap } from "./agent-traps.js";
import { Pv32Selector } from "./pv32-traps.js";

/** update_va_mapping's UVMF_INVLPG (xen.h). */
const UVMF_INVLPG = 2n;
/** PTE bits: present, writable, accessed, dirty. */
const PTE_PRESENT = 0x1n;
const PTE_WRITABLE = 0x2n;
const PTE_ACCESSED_DIRTY = 0x60n;
/** An address below the hypervisor's area that no PV32 domain has mapped (the builder maps a few MiB from 0). */
const UNMAPPED = 0xc000_0000n;
/** Where the agent's boot report keeps its trap table, event and failsafe entries. */
const ARCH_TRAP_TABLE = 0;
const ARCH_EVENT_ENTRY = 1;
const ARCH_FAILSAFE_ENTRY = 2;

/** The x86 (32-bit PAE PV) guest agent. */
export class X86GuestAgent implements GuestAgent {
  readonly image: Uint8Array = readPackageFile(
    new URL("../agent/agent.elf", import.meta.url),
    "in a clone, build it with arch-x86/agent/build.sh",
  );

  /** On x86 a guest handle is the virtual address. */
  guestHandle(_io: AgentIo, va: bigint): bigint {
    return va;
  }

  describeTrap(trap: AgentTrapRecord): GuestTrap {
    return describeX86Trap(trap);
  }

  /** From start_info (x86_32 layout). */
  bootInfo(io: AgentIo): GuestBootInfo {
    return bootInfoFromStartInfo(io, io.boot.startInfo);
  }

  unmappedAddress(_io: AgentIo): bigint {
    return UNMAPPED;
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
    ctx.set(view, 0, "ctrlreg.3", this.pageTableRoot(io) << 12n);
    ctx.set(view, 0, "event_callback_cs", Pv32Selector.KERNEL_CS);
    ctx.set(view, 0, "event_callback_eip", arch[ARCH_EVENT_ENTRY]);
    ctx.set(view, 0, "failsafe_callback_cs", Pv32Selector.KERNEL_CS);
    ctx.set(view, 0, "failsafe_callback_eip", arch[ARCH_FAILSAFE_ENTRY]);
    copyTrapTable(io, arch[ARCH_TRAP_TABLE], bytes, ctx.offsetOf("trap_ctxt"));
    return bytes;
  }

  /** The boot L3's frame: the first page-table page (start_info.pt_base). */
  pageTableRoot(io: AgentIo): bigint {
    const si = START_INFO.layout(io.model);
    return this.frameOf(io, readWord(io, io.boot.startInfo + BigInt(si.offsetOf("pt_base"))));
  }

  /** The machine frame, from start_info's p2m list (4-byte entries). */
  frameOf(io: AgentIo, va: bigint): bigint {
    const si = START_INFO.layout(io.model);
    const list = readWord(io, io.boot.startInfo + BigInt(si.offsetOf("mfn_list")));
    return readWord(io, list + this.pfnOf(io, va) * 4n);
  }

  /** The agent's virtual addresses are its pseudo-physical ones. */
  pfnOf(_io: AgentIo, va: bigint): bigint {
    return va >> 12n;
  }

  /**
   * update_va_mapping(va, pte low, pte high, UVMF_INVLPG); update_va_mapping_otherdomain
   * (the same and the owner) for another domain's frame.
   */
  mapFrame(
    io: AgentIo,
    va: bigint,
    frame: bigint | null,
    writable: boolean,
    owner?: number,
  ): bigint {
    const pte =
      frame === null
        ? 0n
        : (frame << 12n) | PTE_PRESENT | PTE_ACCESSED_DIRTY | (writable ? PTE_WRITABLE : 0n);
    const lo = pte & 0xffffffffn;
    const hi = pte >> 32n;
    if (owner === undefined)
      return io.hypercall(Hypercall.update_va_mapping, va, lo, hi, UVMF_INVLPG);
    return io.hypercall(
      Hypercall.update_va_mapping_otherdomain,
      va,
      lo,
      hi,
      UVMF_INVLPG,
      BigInt(owner),
    );
  }

  /** set_trap_table(NULL) clears the virtual IDT. */
  disarmTraps(io: AgentIo): void {
    io.hypercall(Hypercall.set_trap_table, 0n);
  }
}

function readWord(io: AgentIo, va: bigint): bigint {
  const b = io.read(va, 4);
  return BigInt(new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true));
}
