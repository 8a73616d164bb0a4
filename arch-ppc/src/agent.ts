/**
 * The PowerPC half of the conformance guest agent (core's `agent.ts`): the boot image
 * `agent/agent.elf` (built from `agent/agent.S` by `agent/build.sh`) and what only this
 * arch knows — guest handles are inline xencomm handles, trap records are the
 * interrupt vector with SRR1/DSISR/DAR, the boot information is the flattened device tree
 * (no start_info on PowerPC), and a secondary vCPU starts from a PowerPC
 * `vcpu_guest_context`.
 *
 * The agent runs in real mode, linked at guest-physical 0 with its vectors at 0x100 × n,
 * so its addresses are guest-physical — but for its window: 16 pages at effective address
 * 1 << 36 that it reaches with data relocation on, through the hashed page table, whose
 * entries {@link PpcGuestAgent.mapFrame} edits with H_ENTER and H_REMOVE (`agent/agent.S`
 * says how the agent sets up its SLB and which entry slot each window page takes). It
 * reports in `boot.arch[0]` the address of its `traps_off` word (see
 * {@link PpcGuestAgent.disarmTraps}), in `boot.arch[1]` the guest-physical address of the
 * pages the window shows at boot, in `boot.arch[2]` a page the host lays out its own
 * requests' arguments in.
 *
 * @module
 */
import {
  UNTRANSLATED_FRAMES,
  DomId,
  Hypercall,
  MemoryOp,
  XEN_ADD_TO_PHYSMAP_BATCH,
  XENMAPSPACE_GMFN_FOREIGN,
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
import { Pte0 } from "./mmu/hpt.js";
import { HFlag, HStatus, PaprHcall } from "./mmu/papr.js";
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
/** `boot.arch[1]`: the guest-physical address of the pages the window shows at boot. */
const ARCH_WINDOW_FRAMES = 1;
/** `boot.arch[2]`: a page for the arguments of the host's own requests. */
const ARCH_HOST_BUFFER = 2;
/**
 * Where another domain's frame mapped at window page i goes in the agent's physmap: guest
 * frame (pages of memory) + this + i, a hole (**hvkit choice**).
 */
const FOREIGN_HOLES_FROM_PAGES = 0x40n;

/** The agent's request for a PAPR hcall: 1 << 32 | its token (`agent/agent.S`). */
const PAPR_REQUEST = 2 ** 32;
/** The VSID of the window's segment (agent.S `VSID_WINDOW`). */
const WINDOW_VSID = 2n;
/**
 * PTE groups of the smallest hashed page table (2^18 bytes): every window page's hash is
 * below it, so an entry's slot does not depend on the table's size.
 */
const PTEG_MASK = 0x7ffn;
/** PTE dword 1 PP values with Ks = 0: read/write, read-only (Power ISA Book III). */
const PP_READ_WRITE = 2n;
const PP_READ_ONLY = 3n;

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
   * guest-physical (real mode), so the handle is the inline form: `va | 1 << 63`; in the
   * window, the guest-physical address of the frame mapped there (the buffer must not
   * cross a page).
   */
  guestHandle(io: AgentIo, va: bigint): bigint {
    const page = windowPage(io, va);
    if (page !== null) {
      // A window address: the guest-physical address of the frame mapped there.
      const frames = this.windowFrames(io);
      const frame = frames.has(page) ? frames.get(page)! : this.frameOf(io, va);
      if (frame === null) {
        throw new HvkitError(`0x${va.toString(16)} is an unmapped page of the agent's window`);
      }
      return (frame << PAGE_SHIFT) | (va & ((1n << PAGE_SHIFT) - 1n)) | XENCOMM_INLINE_FLAG;
    }
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

  /** The window pages' frames as {@link PpcGuestAgent.mapFrame} left them, per running agent. */
  private readonly windows = new WeakMap<AgentIo, Map<number, bigint | null>>();
  /** The agent's pages of memory, per running agent (from the device tree). */
  private readonly pages = new WeakMap<AgentIo, bigint>();

  /**
   * Feature `frames`: the guest frame of the page at `va`. Outside the window the address
   * is guest-physical (real mode: `UNTRANSLATED_FRAMES`); a window page's frame is the one
   * it shows at boot, whatever it was remapped to since (as an x86 agent's p2m entry).
   */
  frameOf(io: AgentIo, va: bigint): bigint {
    const page = windowPage(io, va);
    if (page === null) return UNTRANSLATED_FRAMES.frameOf(io, va);
    return (io.boot.arch[ARCH_WINDOW_FRAMES] >> PAGE_SHIFT) + BigInt(page);
  }

  /** Feature `frames`: the same as {@link PpcGuestAgent.frameOf} (a translated guest's pfn is its frame). */
  pfnOf(io: AgentIo, va: bigint): bigint {
    return this.frameOf(io, va);
  }

  /** Feature `frames`: frame × page size (the agent reaches its own frames in real mode). */
  readonly frameAddress = UNTRANSLATED_FRAMES.frameAddress;

  /**
   * Feature `frame-mapping`: makes window page `va` show guest frame `frame` (read-only
   * unless `writable`), or nothing when `frame` is null, as a PowerPC kernel edits its
   * hashed page table (Xen/ppc: PAPR hcalls, xen/arch/powerpc/papr/xlate.c): H_REMOVE of
   * the page's entry (slot 0 of its primary PTE group; none there is fine), then H_ENTER
   * with H_EXACT into that slot — PP 2 (read/write) or 3 (read-only) for the agent's
   * supervisor key. The frame is a frame of the agent's own guest-physical space, as
   * H_ENTER takes: its memory, and what it placed there (a grant frame with
   * XENMEM_add_to_physmap, a grant mapped at a guest-physical address); H_ENTER refuses any
   * other with H_Parameter. With `owner`, `frame` is a frame of that domain's: the agent
   * first puts it in a hole of its own physmap kept for the page, with
   * XENMEM_add_to_physmap_batch (XENMAPSPACE_gmfn_foreign; see `memory-op.ts`), whose
   * error it returns. Returns 0 or the PAPR status (negative).
   */
  mapFrame(
    io: AgentIo,
    va: bigint,
    frame: bigint | null,
    writable: boolean,
    owner?: number,
  ): bigint {
    const page = windowPage(io, va);
    if (page === null || (va & ((1n << PAGE_SHIFT) - 1n)) !== 0n) {
      throw new HvkitError(`0x${va.toString(16)} is not a page of the agent's window`);
    }
    const ptex = ((WINDOW_VSID ^ BigInt(page)) & PTEG_MASK) * 8n;
    const removed = io.hypercall(PAPR_REQUEST + PaprHcall.H_REMOVE, 0n, ptex, 0n);
    if (removed !== 0n && removed !== BigInt(HStatus.NotFound)) return removed;
    const frames = this.windowFrames(io);
    frames.set(page, null);
    if (frame === null) return 0n;
    if (owner !== undefined) {
      const gpfn = this.memoryPages(io) + FOREIGN_HOLES_FROM_PAGES + BigInt(page);
      const rc = mapForeignFrame(io, owner, frame, gpfn);
      if (rc !== 0n) return rc;
      frame = gpfn;
    }
    const dword0 = (WINDOW_VSID << 12n) | BigInt(Pte0.V);
    const dword1 = (frame << PAGE_SHIFT) | (writable ? PP_READ_WRITE : PP_READ_ONLY);
    const rc = io.hypercall(PAPR_REQUEST + PaprHcall.H_ENTER, HFlag.EXACT, ptex, dword0, dword1);
    if (rc === 0n) frames.set(page, frame);
    return rc;
  }

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

  private memoryPages(io: AgentIo): bigint {
    let pages = this.pages.get(io);
    if (pages === undefined) {
      pages = BigInt(this.bootInfo(io).nrPages);
      this.pages.set(io, pages);
    }
    return pages;
  }

  private windowFrames(io: AgentIo): Map<number, bigint | null> {
    let frames = this.windows.get(io);
    if (frames === undefined) {
      frames = new Map();
      this.windows.set(io, frames);
    }
    return frames;
  }
}

/**
 * XENMEM_add_to_physmap_batch(DOMID_SELF, XENMAPSPACE_gmfn_foreign, domain `owner`, one
 * frame: `frame` at the agent's `gpfn`), laid out in the agent's host buffer: the
 * hypercall's result, else the frame's (errs[0]).
 */
function mapForeignFrame(io: AgentIo, owner: number, frame: bigint, gpfn: bigint): bigint {
  const at = io.boot.arch[ARCH_HOST_BUFFER];
  const layout = XEN_ADD_TO_PHYSMAP_BATCH.layout(io.model);
  const [idxs, gpfns, errs] = [at + 64n, at + 72n, at + 80n];
  const bytes = new Uint8Array(88);
  const view = new DataView(bytes.buffer);
  const handle = (va: bigint): bigint => va | XENCOMM_INLINE_FLAG;
  layout.set(view, 0, "domid", DomId.SELF);
  layout.set(view, 0, "space", XENMAPSPACE_GMFN_FOREIGN);
  layout.set(view, 0, "size", 1);
  layout.set(view, 0, "u.foreign_domid", owner);
  layout.set(view, 0, "idxs", handle(idxs));
  layout.set(view, 0, "gpfns", handle(gpfns));
  layout.set(view, 0, "errs", handle(errs));
  const le = io.model.littleEndian;
  view.setBigUint64(64, frame, le);
  view.setBigUint64(72, gpfn, le);
  view.setInt32(80, -1, le);
  io.write(at, bytes);
  const rc = io.hypercall(Hypercall.memory_op, BigInt(MemoryOp.add_to_physmap_batch), handle(at));
  if (rc !== 0n) return rc;
  const err = io.read(errs, 4);
  return BigInt(new DataView(err.buffer, err.byteOffset, 4).getInt32(0, le));
}

/** The index of the window page `va` is in, or null outside the window. */
function windowPage(io: AgentIo, va: bigint): number | null {
  const { window, windowLength } = io.boot;
  if (window === 0n || va < window || va >= window + BigInt(windowLength)) return null;
  return Number((va - window) >> PAGE_SHIFT);
}

function programKind(srr1: bigint): GuestTrapKind {
  if ((srr1 & SRR1_ILLEGAL) !== 0n) return "illegal-instruction";
  if ((srr1 & SRR1_PRIVILEGED) !== 0n) return "protection-fault";
  if ((srr1 & SRR1_TRAP) !== 0n) return "breakpoint";
  return "other";
}
