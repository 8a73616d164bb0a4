/**
 * The IA-64 half of the conformance guest agent (core's `agent.ts`): the boot image
 * `agent/agent.elf` (built from `agent/agent.S` by `agent/build.sh`) and what only this
 * arch knows — guest handles are inline xencomm handles, trap records are the IVT offset
 * with cr.isr/ifa/iip, the boot information is start_info (found from ia64_boot_param),
 * and a secondary vCPU starts from an IA-64 `vcpu_guest_context`.
 *
 * The agent runs in metaphysical mode, linked at guest-physical 1 MiB, so its addresses
 * are guest-physical (region 0); shared_info is the exception: the agent maps it at a
 * region 7 address with the firmware call SET_SHARED_INFO_VA. It reports in `boot.arch`
 * the address of its `traps_off` word (0), its interruption vector table (1) and its event
 * callback (2).
 *
 * @module
 */
import {
  UNTRANSLATED_FRAMES,
  readPackageFile,
  bootInfoFromStartInfo,
  HvkitError,
  type AgentIo,
  type AgentTrapRecord,
  type GuestAgent,
  type GuestBootInfo,
  type GuestTrap,
  type GuestTrapKind,
} from "@hvkit/core";
import {
  IA64_FPSR_DEFAULT,
  IA64_IFS_V,
  IA64_PSR_BN,
  VCPU_GUEST_CONTEXT_IA64,
  VGCF_EXTRA_REGS,
} from "./abi.js";

/** XENCOMM_INLINE_FLAG (arch-ia64.h): a handle that is a guest-physical address. */
const XENCOMM_INLINE_FLAG = 1n << 63n;
/** XENCOMM_INLINE_MASK: the top five bits, reserved for flags, must be clear in the address. */
const XENCOMM_INLINE_MASK = 0xf800_0000_0000_0000n;
/**
 * A guest-physical (metaphysical region 0) address no domain has: 2 TiB, beyond any
 * domain's memory and below the I/O port space Xen/ia64 placed at 0xffffc000000.
 */
const UNMAPPED = 0x0000_0200_0000_0000n;
/** `boot.arch` words. */
const ARCH_TRAPS_OFF = 0;
const ARCH_IVT = 1;
const ARCH_EVENT_ENTRY = 2;

/** cr.isr fields (Intel Itanium SDM vol. 2, "Interruption Status Register"). */
const ISR_CODE_SHIFT = 4n;
const ISR_W = 1n << 33n;
const ISR_EI_SHIFT = 41n;

const VECTOR_NAMES: Readonly<Record<number, string>> = {
  0x0000: "VHPT translation",
  0x0400: "instruction TLB",
  0x0800: "data TLB",
  0x0c00: "alternate instruction TLB",
  0x1000: "alternate data TLB",
  0x1400: "data nested TLB",
  0x1800: "instruction key miss",
  0x1c00: "data key miss",
  0x2000: "dirty-bit",
  0x2400: "instruction access-bit",
  0x2800: "data access-bit",
  0x2c00: "break instruction",
  0x3000: "external interrupt",
  0x5000: "page not present",
  0x5100: "key permission",
  0x5200: "instruction access rights",
  0x5300: "data access rights",
  0x5400: "general exception",
  0x5500: "disabled FP-register",
  0x5600: "NaT consumption",
  0x5700: "speculation",
  0x5900: "debug",
  0x5a00: "unaligned reference",
  0x5b00: "unsupported data reference",
  0x5c00: "floating-point fault",
  0x5d00: "floating-point trap",
  0x5e00: "lower-privilege transfer trap",
  0x5f00: "taken branch trap",
  0x6000: "single step trap",
  0x6100: "virtualization",
  0x6900: "IA-32 exception",
  0x6a00: "IA-32 intercept",
  0x6b00: "IA-32 interrupt",
};

/** Vectors that mean "no usable translation for this access": page faults. */
const PAGE_FAULT_VECTORS: ReadonlySet<number> = new Set([
  0x0000, 0x0400, 0x0800, 0x0c00, 0x1000, 0x1400, 0x1800, 0x1c00, 0x2000, 0x2400, 0x2800, 0x5000,
  0x5100, 0x5200, 0x5300,
]);

/** General Exception causes, isr.code{7:4} (Itanium SDM vol. 2; Xen's ia64_int.h). */
const GENERAL_EXCEPTION_CAUSES: Readonly<Record<number, [string, GuestTrapKind]>> = {
  0: ["illegal operation", "illegal-instruction"],
  1: ["privileged operation", "protection-fault"],
  2: ["privileged register", "protection-fault"],
  3: ["reserved register/field", "illegal-instruction"],
  4: ["disabled instruction set transition", "illegal-instruction"],
  8: ["illegal dependency", "illegal-instruction"],
};

/** The IA-64 guest agent. */
export class Ia64GuestAgent implements GuestAgent {
  /** The agent's boot image (`agent/agent.elf`). */
  readonly image: Uint8Array = readPackageFile(
    new URL("../agent/agent.elf", import.meta.url),
    "in a clone, build it with arch-ia64/agent/build.sh",
  );

  /**
   * The hypercall-argument value of a buffer at `va`. The agent's addresses are
   * metaphysical, i.e. guest-physical, so the handle is the inline form `va | 1 << 63`. An
   * address with any of the top five bits set (a region 7 address such as shared_info's)
   * has none.
   */
  guestHandle(_io: AgentIo, va: bigint): bigint {
    if (va < 0n || (va & XENCOMM_INLINE_MASK) !== 0n) {
      throw new HvkitError(
        `0x${va.toString(16)} is not a guest-physical address, so it has no inline xencomm handle`,
      );
    }
    return va | XENCOMM_INLINE_FLAG;
  }

  /**
   * The trap record in arch-neutral terms. The agent records the IVT offset, cr.isr,
   * cr.ifa (cr.iim for a break) and cr.iip. TLB, key, access-bit, not-present and
   * access-rights vectors are page faults at cr.ifa (a write per isr.w); the General
   * Exception is an illegal instruction or, for a privileged operation or register, a
   * protection fault (isr.code); a break is a breakpoint; an unaligned reference is an
   * alignment fault. `pc` is the bundle address plus the faulting slot (isr.ei), the way
   * IA-64 tools write an instruction's address.
   */
  describeTrap(trap: AgentTrapRecord): GuestTrap {
    const vector = Number(trap.vector);
    const isr = trap.code;
    const pc = trap.pc | ((isr >> ISR_EI_SHIFT) & 3n);
    const name = VECTOR_NAMES[vector] ?? "vector";
    const where = `${name} (0x${vector.toString(16).padStart(4, "0")}), isr 0x${isr.toString(16)}`;
    if (PAGE_FAULT_VECTORS.has(vector)) {
      return {
        kind: "page-fault",
        address: trap.address,
        write: (isr & ISR_W) !== 0n,
        pc,
        detail: `${where}, ifa 0x${trap.address.toString(16)}`,
      };
    }
    switch (vector) {
      case 0x2c00:
        return { kind: "breakpoint", pc, detail: `${where}, break 0x${trap.address.toString(16)}` };
      case 0x5400: {
        const code = Number((isr >> ISR_CODE_SHIFT) & 0xfn);
        const [cause, kind] = GENERAL_EXCEPTION_CAUSES[code] ?? [`cause ${code}`, "other"];
        return { kind, pc, detail: `${where}: ${cause}` };
      }
      case 0x5a00:
        return { kind: "alignment", address: trap.address, pc, detail: where };
      default:
        return { kind: "other", pc, detail: where };
    }
  }

  /**
   * The domain's boot information as the guest reads it. From start_info, which the agent
   * reports as the page before ia64_boot_param (the builder puts ia64_boot_param right
   * after start_info).
   */
  bootInfo(io: AgentIo): GuestBootInfo {
    return bootInfoFromStartInfo(io, io.boot.startInfo);
  }

  /** Feature `frames`, untranslated (metaphysical mode): see `UNTRANSLATED_FRAMES`. */
  readonly frameOf = UNTRANSLATED_FRAMES.frameOf;
  /** Feature `frames`: the same as {@link Ia64GuestAgent.frameOf}. */
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
   * The `vcpu_guest_context` that starts vCPU `vcpuId` in the agent. ip = the agent's
   * `ap_entry` in metaphysical mode with bank 1 (virtual PSR = bn only, like the boot
   * vCPU), an empty frame (cfm = a valid empty cr.ifs), r8 = the vCPU id, ar.fpsr the
   * default, RSE in enforced lazy mode with no dirty registers (`ap_entry` moves it to that
   * vCPU's own backing store first). With VGCF_EXTRA_REGS the context also carries the
   * agent's IVT (cr.iva) and event callback, which `ap_entry` registers again itself.
   * Region registers stay 0 (Xen leaves them unchanged): metaphysical mode needs none.
   */
  secondaryVcpuContext(io: AgentIo, vcpuId: number): Uint8Array {
    const ctx = VCPU_GUEST_CONTEXT_IA64.layout(io.model);
    const bytes = new Uint8Array(ctx.size);
    const view = new DataView(bytes.buffer);
    const arch = io.boot.arch;
    ctx.set(view, 0, "flags", VGCF_EXTRA_REGS);
    ctx.set(view, 0, "regs.ip", io.boot.apEntry);
    ctx.set(view, 0, "regs.psr", IA64_PSR_BN);
    ctx.set(view, 0, "regs.cfm", IA64_IFS_V);
    ctx.set(view, 0, "regs.r.8", vcpuId);
    ctx.set(view, 0, "regs.ar.fpsr", IA64_FPSR_DEFAULT);
    ctx.set(view, 0, "regs.cr.iva", arch[ARCH_IVT]);
    ctx.set(view, 0, "event_callback_ip", arch[ARCH_EVENT_ENTRY]);
    return bytes;
  }

  /**
   * Removes the agent's trap handlers. Writes 1 to the agent's `traps_off` word; before
   * each later request the agent executes `rsm psr.ic`, and Xen crashes a domain that
   * takes an interruption (other than a data TLB miss) with virtual psr.ic = 0.
   */
  disarmTraps(io: AgentIo): void {
    const word = new Uint8Array(8);
    new DataView(word.buffer).setBigUint64(0, 1n, io.model.littleEndian);
    io.write(io.boot.arch[ARCH_TRAPS_OFF], word);
  }
}
