/**
 * What the x86 guest agents (x86_64 and x86 PV) share: their common host half
 * ({@link PvGuestAgentBase}: handles, traps, boot info, frames through the p2m list and
 * update_va_mapping), how a trap record the agent wrote (vector, error code, faulting
 * address, pc) reads in arch-neutral terms, the trap table copied into a
 * vcpu_guest_context, and variants of such a context for the tests of
 * `arch_set_info_guest`'s refusals.
 *
 * @module
 */
import {
  bootInfoFromStartInfo,
  Errno,
  Hypercall,
  readPackageFile,
  START_INFO,
  type AgentIo,
  type AgentTrapRecord,
  type ForeignVcpuContext,
  type GuestAgent,
  type GuestBootInfo,
  type GuestTrap,
  type GuestTrapKind,
  type RefusedVcpuContext,
} from "@hvkit/core";
import {
  TRAP_INFO,
  VCPU_GUEST_CONTEXT_X86,
  VGCF_I387_VALID,
  VGCF_IN_KERNEL,
  VGCF_ONLINE,
} from "./abi.js";

const TRAP_NAMES: Readonly<Record<number, string>> = {
  0: "#DE",
  1: "#DB",
  3: "#BP",
  4: "#OF",
  5: "#BR",
  6: "#UD",
  7: "#NM",
  8: "#DF",
  10: "#TS",
  11: "#NP",
  12: "#SS",
  13: "#GP",
  14: "#PF",
  16: "#MF",
  17: "#AC",
  18: "#MC",
  19: "#XM",
  256: "failsafe callback",
};

const TRAP_KINDS: Readonly<Record<number, GuestTrapKind>> = {
  3: "breakpoint",
  6: "illegal-instruction",
  13: "protection-fault",
  14: "page-fault",
  17: "alignment",
};

/** Describes an x86 agent's trap record (vector 256: Xen's failsafe callback). */
export function describeX86Trap(trap: AgentTrapRecord): GuestTrap {
  const vector = Number(trap.vector);
  const name = TRAP_NAMES[vector] ?? `vector ${vector}`;
  const kind = TRAP_KINDS[vector] ?? "other";
  const detail = `${name}, error code ${trap.code.toString(16)}`;
  if (kind === "page-fault") {
    // #PF error code bit 1: the access was a write (SDM vol. 3, 4.7).
    return { kind, address: trap.address, write: (trap.code & 2n) !== 0n, pc: trap.pc, detail };
  }
  return { kind, pc: trap.pc, detail };
}

/**
 * Copies the agent's trap table at `table` (trap_info entries up to the one with address
 * 0) into `context`'s `trap_ctxt` at byte `offset`, entry by entry at its vector: the
 * virtual IDT of a vcpu_guest_context that starts a vCPU in the agent.
 */
export function copyTrapTable(
  io: AgentIo,
  table: bigint,
  context: Uint8Array,
  offset: number,
): void {
  const entry = TRAP_INFO.layout(io.model);
  for (let va = table; ; va += BigInt(entry.size)) {
    const raw = io.read(va, entry.size);
    const e = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (entry.getBigInt(e, 0, "address") === 0n) return;
    context.set(raw, offset + entry.getNumber(e, 0, "vector") * entry.size);
  }
}

/** Context fields and the values a variant gives them. */
export type ContextChanges = readonly (readonly [string, bigint])[];

/** A copy of the `vcpu_guest_context` `context` (laid out by `io.model`) with `changes` made. */
export function contextVariant(
  io: AgentIo,
  context: Uint8Array,
  changes: ContextChanges,
): Uint8Array {
  const layout = VCPU_GUEST_CONTEXT_X86.layout(io.model);
  const copy = context.slice();
  for (const [path, value] of changes) layout.set(new DataView(copy.buffer), 0, path, value);
  return copy;
}

/** `refusedVcpuContexts`: each reason with its variant of the valid context `base`. */
export function refusedContextVariants(
  io: AgentIo,
  base: Uint8Array,
  variants: readonly (readonly [string, ContextChanges])[],
): RefusedVcpuContext[] {
  return variants.map(([why, changes]) => ({ why, context: contextVariant(io, base, changes) }));
}

/**
 * A recognisable FXSAVE image for a context's `fpu_ctxt` with VGCF_i387_valid, as the
 * target's Xen saves it (so getvcpucontext gives all 512 bytes back): FCW 0x027f, a
 * masked invalid-operation flag, ST0 = 1.0 valid, FOP, FIP and FDP, MXCSR 0x1fa0 with
 * MXCSR_MASK 0xffff, XMM0 and XMM7 patterns, and in byte 511 the width Xen's save
 * records (`x87_fip_width`: 8 for a 64-bit guest, whose image is FXSAVE64; 4 for a
 * compat one, whose image holds FCS and FDS).
 */
function fpuImage(io: AgentIo): ContextChanges {
  const wide = io.model.xenUlong === 8;
  const img = new DataView(new ArrayBuffer(512));
  img.setUint16(0, 0x027f, true);
  img.setUint16(2, 0x0001, true);
  img.setUint8(4, 0x01);
  img.setUint16(6, 0x0123, true);
  img.setUint32(8, 0x00401000, true);
  img.setUint16(12, wide ? 0 : 0x0061, true);
  img.setUint32(16, 0x00402000, true);
  img.setUint16(20, wide ? 0 : 0x0069, true);
  img.setUint32(24, 0x1fa0, true);
  img.setUint32(28, 0xffff, true);
  img.setUint32(36, 0x80000000, true); // ST0 = 1.0
  img.setUint16(40, 0x3fff, true);
  for (let i = 0; i < 16; i++) img.setUint8(160 + i, 0x10 + i); // XMM0
  for (let i = 0; i < 16; i++) img.setUint8(272 + i, 0xf0 - i); // XMM7
  img.setUint8(511, wide ? 8 : 4);
  const changes: [string, bigint][] = [];
  for (let i = 0; i < 512; i++) {
    const b = img.getUint8(i);
    if (b !== 0) changes.push([`fpu_ctxt.${i}`, BigInt(b)]);
  }
  return changes;
}

/**
 * A toolstack's context for an x86 PV vCPU of another domain (`foreignVcpuContext`): the
 * agent's secondary context `base` with `changes` (the page table, recognisable values)
 * and an FPU image with VGCF_i387_valid (vcpu_setup_fpu loads it); the `kept` fields,
 * which arch_get_info_guest gives back as loaded — those asked for and the FPU image; the same context
 * asking to be online (VGCF_online); and the reloads arch_set_info_guest refuses on an
 * initialised vCPU with −EOPNOTSUPP (xen/arch/x86/domain.c: the page tables, the GDT and
 * the LDT must be the ones it has): `otherTables` (each with its reason), a GDT and an
 * LDT it does not have.
 */
export function pvForeignVcpuContext(
  io: AgentIo,
  base: Uint8Array,
  changes: ContextChanges,
  kept: readonly string[],
  otherTables: readonly (readonly [string, ContextChanges])[],
): ForeignVcpuContext {
  const layout = VCPU_GUEST_CONTEXT_X86.layout(io.model);
  const flags = layout.getBigInt(new DataView(base.buffer, base.byteOffset), 0, "flags");
  const context = contextVariant(io, base, [
    ...changes,
    ...fpuImage(io),
    ["flags", flags | BigInt(VGCF_I387_VALID)],
  ]);
  const refused = (why: string, more: ContextChanges) => ({
    why,
    context: contextVariant(io, context, more),
    errno: -Errno.EOPNOTSUPP,
  });
  return {
    context,
    kept: [...kept, "fpu_ctxt"].map((name) => ({
      name,
      offset: layout.offsetOf(name),
      length: layout.sizeOf(name),
    })),
    online: contextVariant(io, context, [["flags", BigInt(VGCF_IN_KERNEL | VGCF_ONLINE)]]),
    reloadRefused: [
      ...otherTables.map(([why, more]) => refused(why, more)),
      refused("a GDT it does not have", [["gdt_ents", 1n]]),
      refused("an LDT it does not have", [
        ["ldt_ents", 1n],
        ["ldt_base", 0x10000n],
      ]),
    ],
  };
}

/** update_va_mapping's UVMF_INVLPG (xen.h). */
const UVMF_INVLPG = 2n;
/** PTE bits: present, writable, accessed and dirty (the agents' own mappings use the same). */
const PTE_PRESENT = 0x1n;
const PTE_WRITABLE = 0x2n;
const PTE_ACCESSED_DIRTY = 0x60n;

/**
 * The host half both x86 PV agents have alike. Each is linked at 1 MiB with no VIRT_BASE,
 * so its virtual addresses are its pseudo-physical ones (pfn = va >> 12), as XTF's are;
 * a guest handle is the virtual address; start_info gives the boot info and the p2m
 * list (entries of the guest's `unsigned long`); update_va_mapping takes the pte as one
 * argument in 64-bit code and as a register pair (low, high) in compat code.
 */
export abstract class PvGuestAgentBase implements Pick<
  GuestAgent,
  | "image"
  | "guestHandle"
  | "describeTrap"
  | "bootInfo"
  | "unmappedAddress"
  | "frameOf"
  | "pfnOf"
  | "mapFrame"
  | "disarmTraps"
> {
  /** The agent's boot image. */
  readonly image: Uint8Array;

  /**
   * @param imageUrl - where the built agent.elf is.
   * @param buildHint - how to build it, for the message when it is missing.
   * @param unmapped - an address no domain of the port has mapped.
   */
  protected constructor(
    imageUrl: URL,
    buildHint: string,
    private readonly unmapped: bigint,
  ) {
    this.image = readPackageFile(imageUrl, buildHint);
  }

  /** On x86 a guest handle is the virtual address. */
  guestHandle(_io: AgentIo, va: bigint): bigint {
    return va;
  }

  /** The trap record as {@link describeX86Trap} reads it. */
  describeTrap(trap: AgentTrapRecord): GuestTrap {
    return describeX86Trap(trap);
  }

  /** From start_info (xen.h `struct start_info`, in the guest's layout). */
  bootInfo(io: AgentIo): GuestBootInfo {
    return bootInfoFromStartInfo(io, io.boot.startInfo);
  }

  /** An address no domain of the port has mapped. */
  unmappedAddress(_io: AgentIo): bigint {
    return this.unmapped;
  }

  /** The machine frame, from start_info's p2m list. */
  frameOf(io: AgentIo, va: bigint): bigint {
    const si = START_INFO.layout(io.model);
    const list = readGuestWord(io, io.boot.startInfo + BigInt(si.offsetOf("mfn_list")));
    return readGuestWord(io, list + this.pfnOf(io, va) * BigInt(io.model.xenUlong));
  }

  /** The agent's virtual addresses are its pseudo-physical ones. */
  pfnOf(_io: AgentIo, va: bigint): bigint {
    return va >> 12n;
  }

  /**
   * update_va_mapping(va, pte, UVMF_INVLPG) — compat: the pte as low and high halves —
   * and update_va_mapping_otherdomain (the same and the owner) for another domain's frame.
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
    const ptes = io.model.xenUlong === 4 ? [pte & 0xffffffffn, pte >> 32n] : [pte];
    if (owner === undefined) {
      return io.hypercall(Hypercall.update_va_mapping, va, ...ptes, UVMF_INVLPG);
    }
    return io.hypercall(
      Hypercall.update_va_mapping_otherdomain,
      va,
      ...ptes,
      UVMF_INVLPG,
      BigInt(owner),
    );
  }

  /** set_trap_table(NULL) clears the virtual IDT. */
  disarmTraps(io: AgentIo): void {
    io.hypercall(Hypercall.set_trap_table, 0n);
  }
}

/** The guest's `unsigned long` at `va`. */
export function readGuestWord(io: AgentIo, va: bigint): bigint {
  const size = io.model.xenUlong;
  const b = io.read(va, size);
  const view = new DataView(b.buffer, b.byteOffset, size);
  return size === 8 ? view.getBigUint64(0, true) : BigInt(view.getUint32(0, true));
}
