/**
 * The PowerPC half of the conformance guest agent (core's `agent.ts`): the boot image
 * `agent/agent.elf` (built from `agent/agent.S` by `agent/build.sh`) and what only this
 * arch knows — guest handles are inline xencomm handles, trap records are the
 * interrupt vector with SRR1/DSISR/DAR, the boot information is the flattened device tree
 * (no start_info on PowerPC), and a secondary vCPU starts from a PowerPC
 * `vcpu_guest_context`.
 *
 * The agent runs in real mode, linked at guest-physical 0 with its vectors at 0x100 × n,
 * so its addresses are guest-physical. It reports in `boot.arch[0]` the address of its
 * `traps_off` word (see {@link PpcGuestAgent.disarmTraps}).
 *
 * @module
 */
import {
  UNTRANSLATED_FRAMES,
  readPackageFile,
  HvkitError,
  type AgentIo,
  type AgentTrapRecord,
  type ForeignVcpuContext,
  type GuestAgent,
  type GuestBootInfo,
  type GuestTrap,
  type GuestTrapKind,
} from "@hvkit/core";
import { MSR_SF, VCPU_GUEST_CONTEXT_PPC } from "./abi.js";
import {
  deviceTreeSize,
  DeviceTreeError,
  FDT_HEADER_BYTES,
  parseDeviceTree,
} from "./device-tree.js";

/** XENCOMM_INLINE_FLAG (arch-powerpc.h): a handle that is a guest-physical address. */
const XENCOMM_INLINE_FLAG = 1n << 63n;
/**
 * A guest-physical address no domain has: 2 TiB, beyond the real-mode area and any
 * domain's memory, yet inside the 42 bits real mode keeps (higher effective-address bits
 * are ignored there, so a larger address would alias low memory).
 */
const UNMAPPED = 0x0000_0200_0000_0000n;
/** Bytes of device tree the host reads at most (a domain's tree is a few KiB). */
const MAX_DEVICE_TREE_BYTES = 1 << 20;
/** The page size of PowerPC guests. */
const PAGE_SHIFT = 12n;
/** `boot.arch[0]`: the agent's `traps_off` word. */
const ARCH_TRAPS_OFF = 0;

/** Register values of {@link PpcGuestAgent.foreignVcpuContext}, for getvcpucontext to give back. */
const FOREIGN_STACK = 0x30_0000n;
const FOREIGN_R31 = 0x1234n;
/** What getvcpucontext gives back as loaded. */
const FOREIGN_KEPT = [
  "user_regs.pc",
  "user_regs.msr",
  "user_regs.gprs.1",
  "user_regs.gprs.3",
  "user_regs.gprs.31",
];

/** Program interrupt causes in SRR1 (PowerPC Book III). */
const SRR1_ILLEGAL = 0x80000n;
const SRR1_PRIVILEGED = 0x40000n;
const SRR1_TRAP = 0x20000n;
/** DSISR bit 6 (IBM numbering): the access was a store. */
const DSISR_STORE = 0x02000000n;

const VECTOR_NAMES: Readonly<Record<number, string>> = {
  0x100: "system reset",
  0x200: "machine check",
  0x300: "data storage",
  0x380: "data segment",
  0x400: "instruction storage",
  0x480: "instruction segment",
  0x600: "alignment",
  0x700: "program",
  0x800: "floating-point unavailable",
  0xc00: "system call",
  0xd00: "trace",
  0xf00: "performance monitor",
  0xf20: "VMX unavailable",
  0x1300: "instruction address breakpoint",
  0x1600: "soft patch",
  0x1700: "VMX assist",
  0x1800: "thermal",
};

/** The PowerPC guest agent. */
export class PpcGuestAgent implements GuestAgent {
  /** The agent's boot image (`agent/agent.elf`). */
  readonly image: Uint8Array = readPackageFile(
    new URL("../agent/agent.elf", import.meta.url),
    "in a clone, build it with arch-ppc/agent/build.sh",
  );

  /**
   * The hypercall-argument value of a buffer at `va`. The agent's addresses are
   * guest-physical (real mode), so the handle is the inline form: `va | 1 << 63`.
   */
  guestHandle(_io: AgentIo, va: bigint): bigint {
    if (va < 0n || va >= XENCOMM_INLINE_FLAG) {
      throw new HvkitError(
        `0x${va.toString(16)} is not a guest-physical address, so it has no inline xencomm handle`,
      );
    }
    return va | XENCOMM_INLINE_FLAG;
  }

  /**
   * The trap record in arch-neutral terms. The agent records the vector, DSISR << 32 |
   * SRR1's low word, DAR (data storage, data segment, alignment) and SRR0. Data and
   * instruction storage and segment interrupts are page faults (a store per DSISR);
   * program interrupts are an illegal instruction, a privileged one (protection fault) or a
   * trap instruction (breakpoint) per SRR1.
   */
  describeTrap(trap: AgentTrapRecord): GuestTrap {
    const vector = Number(trap.vector);
    const srr1 = trap.code & 0xffff_ffffn;
    const dsisr = trap.code >> 32n;
    const name = VECTOR_NAMES[vector] ?? "vector";
    const detail = `${name} interrupt 0x${vector.toString(16)}, SRR1 0x${srr1.toString(16)}, DSISR 0x${dsisr.toString(16)}`;
    const pc = trap.pc;
    switch (vector) {
      case 0x300:
        return {
          kind: "page-fault",
          address: trap.address,
          write: (dsisr & DSISR_STORE) !== 0n,
          pc,
          detail,
        };
      case 0x380:
        return { kind: "page-fault", address: trap.address, pc, detail };
      case 0x400:
      case 0x480:
        return { kind: "page-fault", address: pc, write: false, pc, detail };
      case 0x600:
        return { kind: "alignment", address: trap.address, pc, detail };
      case 0x700:
        return { kind: programKind(srr1), pc, detail };
      default:
        return { kind: "other", pc, detail };
    }
  }

  /**
   * The domain's boot information as the guest reads it. From the flattened device tree
   * (PowerPC has no start_info): memory from the `/memory@…` nodes' `reg`, the command line
   * from `/chosen/bootargs`, shared_info from `/xen` `shared-info` <address size>, the store
   * and console pages and ports from `/xen/store` and `/xen/console` (`reg` <address size>,
   * `interrupts` <port 0>). The frames are guest-physical frame numbers — the tree gives
   * guest-physical addresses (Xen's getdomaininfo reports the same, mfn_to_gmfn). The tree
   * carries no privilege flags: the domain whose `/xen` `reg` says id 0 is the initial,
   * privileged one (Xen/ppc's only privileged domain was dom0).
   */
  bootInfo(io: AgentIo): GuestBootInfo {
    const at = io.boot.bootArg;
    const size = deviceTreeSize(io.read(at, FDT_HEADER_BYTES));
    if (size > MAX_DEVICE_TREE_BYTES) {
      throw new DeviceTreeError(`the device tree at 0x${at.toString(16)} claims ${size} bytes`);
    }
    const root = parseDeviceTree(io.read(at, size));
    const xen = root.find("/xen");
    if (xen === undefined) throw new DeviceTreeError("the device tree has no /xen node");
    const domid = xen.u64("reg", 0);
    if (domid === undefined) throw new DeviceTreeError("/xen has no reg <domid 0>");
    const sharedInfo = xen.u64("shared-info", 0);
    if (sharedInfo === undefined)
      throw new DeviceTreeError("/xen has no shared-info <address size>");
    let bytes = 0n;
    for (const node of root.children) {
      if (node.name !== "memory" && !node.name.startsWith("memory@")) continue;
      const reg = node.properties.get("reg");
      for (let i = 0; reg !== undefined && (i + 1) * 16 <= reg.length; i++) {
        bytes += node.u64("reg", 2 * i + 1) ?? 0n;
      }
    }
    const ring = (path: string): { frame: bigint | null; evtchn: number | null } => {
      const node = root.find(path);
      const address = node?.u64("reg", 0);
      const port = node?.u32("interrupts", 0);
      return {
        frame: address === undefined ? null : address >> PAGE_SHIFT,
        evtchn: port ?? null,
      };
    };
    const store = ring("/xen/store");
    const console = ring("/xen/console");
    const initial = domid === 0n;
    return {
      nrPages: Number(bytes >> PAGE_SHIFT),
      privileged: initial,
      initialDomain: initial,
      sharedInfoFrame: sharedInfo >> PAGE_SHIFT,
      storeFrame: store.frame,
      storeEvtchn: store.evtchn,
      consoleFrame: console.frame,
      consoleEvtchn: console.evtchn,
      cmdline: root.find("/chosen")?.string("bootargs") ?? "",
    };
  }

  /** Feature `frames`, untranslated (real mode): see `UNTRANSLATED_FRAMES`. */
  readonly frameOf = UNTRANSLATED_FRAMES.frameOf;
  /** Feature `frames`: the same as {@link PpcGuestAgent.frameOf}. */
  readonly pfnOf = UNTRANSLATED_FRAMES.pfnOf;
  /** Feature `frames`: frame × page size. */
  readonly frameAddress = UNTRANSLATED_FRAMES.frameAddress;

  /**
   * An address no domain can reach, for −EFAULT tests. Guest-physical 2 TiB (see the
   * constant).
   */
  unmappedAddress(_io: AgentIo): bigint {
    return UNMAPPED;
  }

  /**
   * The `vcpu_guest_context` that starts vCPU `vcpuId` in the agent. pc = the agent's
   * `ap_entry`, MSR = SF (64-bit, real mode, supervisor, like the boot vCPU), r3 = the vCPU
   * id; `ap_entry` takes that vCPU's stack and mailbox. The vectors are shared guest memory
   * and real mode has no address space to share, so nothing else is needed (`sdr1` stays 0:
   * Xen did not load it).
   */
  secondaryVcpuContext(io: AgentIo, vcpuId: number): Uint8Array {
    const ctx = VCPU_GUEST_CONTEXT_PPC.layout(io.model);
    const bytes = new Uint8Array(ctx.size);
    const view = new DataView(bytes.buffer);
    ctx.set(view, 0, "user_regs.pc", io.boot.apEntry);
    ctx.set(view, 0, "user_regs.msr", MSR_SF);
    ctx.set(view, 0, "user_regs.gprs.3", vcpuId);
    return bytes;
  }

  /**
   * A context for vCPU `vcpuId` of another domain: the agent's secondary context with the
   * stack pointer (r1) and r31 set to values getvcpucontext gives back, as Xen/ppc's
   * `arch_get_info_guest` copied the registers out. PowerPC's context has no online flag
   * (so no `online` variant) and names no frame (`frame` is unused); Xen/ppc reloaded any
   * context.
   */
  foreignVcpuContext(io: AgentIo, vcpuId: number): ForeignVcpuContext {
    const bytes = this.secondaryVcpuContext(io, vcpuId);
    const ctx = VCPU_GUEST_CONTEXT_PPC.layout(io.model);
    const view = new DataView(bytes.buffer);
    ctx.set(view, 0, "user_regs.gprs.1", FOREIGN_STACK);
    ctx.set(view, 0, "user_regs.gprs.31", FOREIGN_R31);
    const kept = FOREIGN_KEPT.map((name) => ({
      name,
      offset: ctx.offsetOf(name),
      length: ctx.sizeOf(name),
    }));
    return { context: bytes, kept, reloadRefused: [] };
  }

  /**
   * Removes the agent's trap handlers. Writes 1 to the agent's `traps_off` word; before
   * each later request the agent clears MSR[RI], and a synchronous interrupt taken with
   * RI = 0 has no handler (the domain crashes).
   */
  disarmTraps(io: AgentIo): void {
    const word = new Uint8Array(8);
    new DataView(word.buffer).setBigUint64(0, 1n, io.model.littleEndian);
    io.write(io.boot.arch[ARCH_TRAPS_OFF], word);
  }
}

function programKind(srr1: bigint): GuestTrapKind {
  if ((srr1 & SRR1_ILLEGAL) !== 0n) return "illegal-instruction";
  if ((srr1 & SRR1_PRIVILEGED) !== 0n) return "protection-fault";
  if ((srr1 & SRR1_TRAP) !== 0n) return "breakpoint";
  return "other";
}
