/**
 * The conformance guest agent: how one conformance test, written once in TypeScript,
 * runs on every arch.
 *
 * Each arch package ships a tiny boot image, its *agent*, written in the arch's assembly
 * and built by the package's own script. It boots as a real kernel of that arch (the
 * arch's entry state, its hypercall instruction, its trap and event-upcall registration)
 * and then serves requests: "make hypercall N with these arguments", "copy these bytes to
 * this guest address", "read this guest address", "read the time counter", "execute an
 * illegal instruction". Each request is carried out by the guest's own instructions on
 * the arch's real paths (the hypercall instruction, the MMU, the bounce frame or
 * interrupt delivery), so the hypervisor cannot tell the agent from a compiled kernel.
 * Test logic stays in TypeScript and lays out every struct by the arch's data model.
 *
 * ## The channel
 *
 * Requests and results travel through a *mailbox*, one 4 KiB block per vCPU in the
 * agent's own memory, laid out by {@link AGENT_MAILBOX} in the arch's byte order. The
 * agent hands control to the host with the **kernel service call**: the arch's ordinary
 * hypercall instruction with hypercall number {@link KERNEL_SERVICE_CALL} and the
 * mailbox's address (as the vCPU addresses it) as first argument. The core passes that
 * call to the domain's {@link KernelService} instead of the hypercall table; for a domain
 * with no kernel service it is an ordinary unknown hypercall (−ENOSYS, as Xen). Number 63
 * is unused by Xen (xen.h assigns 0–42 and 48–55; NR_hypercalls is 64) — an **hvkit
 * choice**, never seen by the hypervisor model.
 *
 * The loop, from the agent's side:
 *
 * 1. At boot: set up a stack, register trap handlers and the event callback, make
 *    shared_info reachable, fill vCPU 0's mailbox with the boot report
 *    (`magic`, `version`, `vcpu`, `stack_top`, `boot.*`), then make the service call.
 * 2. When the service call returns, read `op` and `args` and carry the request out.
 * 3. Write `result`, set `status` to {@link AgentStatus.Done}, make the service call again.
 * 4. A trap during a request: the agent's handler writes the `trap` words, sets `status`
 *    to {@link AgentStatus.Trapped}, resets the stack to `stack_top` and makes the
 *    service call (step 3 without a result).
 * 5. An event upcall: the handler adds one to `upcalls`, clears
 *    `evtchn_upcall_pending` in the vcpu_info at `vcpu_info` (when that is not 0) and
 *    returns to where it interrupted, events re-enabled as the arch's return path does.
 *
 * The host writes a request (through the hypervisor's guest-memory door) while the vCPU
 * waits in the service call, and reads the result when it calls again. A vCPU with no
 * request waiting is paused by the host until it gets one.
 *
 * See `docs/guest-agent.md` for a porter's walk-through.
 *
 * @module
 */
import { defineStruct, field, u64, array, u8 } from "./structs.js";
import type { DataModel } from "./structs.js";
import type { HypercallArgs } from "./hypercall.js";
import type { Vcpu } from "./vcpu.js";
import { SIF_INITDOMAIN, SIF_PRIVILEGED, START_INFO } from "./abi/xen.js";

/** The hypercall number of the kernel service call (an hvkit choice; see the module comment). */
export const KERNEL_SERVICE_CALL = 63;

/** `magic` of a mailbox the agent has set up: "HVKAGENT" read as a big-endian number. */
export const AGENT_MAGIC = 0x48564b4147454e54n;

/** Version of the mailbox protocol described here. */
export const AGENT_PROTOCOL_VERSION = 1n;

/** Bytes of one vCPU's mailbox; vCPU n's is at mailbox 0 + n × this. */
export const AGENT_MAILBOX_BYTES = 4096;

/** Offset of the data buffer in a mailbox. */
export const AGENT_DATA_OFFSET = 512;

/** Bytes of the data buffer (READ and WRITE move at most this many bytes per request). */
export const AGENT_DATA_BYTES = AGENT_MAILBOX_BYTES - AGENT_DATA_OFFSET;

/** What the host asks the agent to do (`op`). */
export enum AgentOp {
  /**
   * `result = hypercall(args[0]; args[1], …, args[6])`: the arch's normal hypercall path
   * (through the hypercall page where the arch has one).
   */
  Hypercall = 1,
  /**
   * Copy `args[1]` bytes from guest virtual address `args[0]` into `data`. The agent uses
   * the widest naturally aligned loads of its word size that the address and length
   * allow (8, 4, else 1 byte at a time). `result` = bytes copied.
   */
  Read = 2,
  /**
   * Copy `args[1]` bytes from `data` to guest virtual address `args[0]`, with stores as
   * wide as {@link AgentOp.Read}'s loads (a PV page-table write must be one aligned word).
   * `result` = bytes copied.
   */
  Write = 3,
  /** `result` = the arch's time counter (x86 `rdtsc`, PowerPC timebase, IA-64 `ar.itc`). */
  Timestamp = 4,
  /** Execute the arch's canonical illegal instruction; expected to end {@link AgentStatus.Trapped}. */
  Illegal = 5,
  /**
   * As {@link AgentOp.Hypercall}, but with the bare hypercall instruction even where the
   * arch has a hypercall page (x86: `syscall` / `int $0x82` in line).
   */
  HypercallDirect = 6,
}

/** How the last request ended (`status`). */
export enum AgentStatus {
  /** Carried out; `result` is valid. */
  Done = 0,
  /** A trap interrupted it; the `trap` words say which. */
  Trapped = 1,
  /** The agent does not know the `op`. */
  UnknownOp = 2,
}

/** What the agent reports at boot in vCPU 0's mailbox (`boot.*`), guest virtual addresses. */
const BOOT_REPORT = {
  start_info: field(u64, "start_info as the agent addresses it; 0 on an arch with none (PowerPC)."),
  shared_info: field(u64, "Where the agent made shared_info reachable."),
  hypercall_page: field(u64, "The hypercall page; 0 on an arch with none."),
  scratch: field(u64, "Start of memory the test may use freely (page aligned)."),
  scratch_len: field(u64, "Its size in bytes."),
  window: field(u64, "Start of pages the test may remap to other frames (page aligned)."),
  window_len: field(u64, "Their size in bytes."),
  ap_entry: field(u64, "Where a secondary vCPU enters the agent (register convention per arch)."),
  mailbox_count: field(u64, "Mailboxes (so vCPUs) the agent serves."),
  boot_arg: field(
    u64,
    "The arch's boot pointer as entry gave it (PowerPC: the device tree; IA-64: ia64_boot_param).",
  ),
  arch: field(
    array(u64, 4),
    "Arch-specific words the arch's GuestAgent reads (e.g. handler addresses).",
  ),
};

/**
 * One vCPU's mailbox. Every field is a u64 in the arch's byte order, so the offsets are
 * the same in every data model: an agent written in assembly uses the constants of
 * `docs/guest-agent.md` directly.
 */
export const AGENT_MAILBOX = defineStruct(
  "hvkit_agent_mailbox",
  "A vCPU's request/result block shared by the conformance guest agent and the host.",
  {
    magic: field(u64, "AGENT_MAGIC once the agent has set the mailbox up."),
    version: field(u64, "AGENT_PROTOCOL_VERSION."),
    vcpu: field(u64, "The vCPU this mailbox belongs to."),
    op: field(u64, "The request (AgentOp), written by the host."),
    args: field(array(u64, 7), "The request's arguments, written by the host."),
    result: field(u64, "The request's result, written by the agent."),
    status: field(u64, "AgentStatus of the last request."),
    trap: field(
      array(u64, 4),
      "Written by the agent's trap handler: vector (or cause), error code (or syndrome), faulting data address, pc of the faulting instruction.",
    ),
    upcalls: field(u64, "Event upcalls this vCPU has taken (the agent's upcall handler counts)."),
    vcpu_info: field(
      u64,
      "The vcpu_info whose evtchn_upcall_pending the upcall handler clears; written by the agent at boot, by the host when the test moves it.",
    ),
    stack_top: field(u64, "Top of this vCPU's stack (the trap handler resets to it)."),
    reserved: field(u64, "0."),
    boot: field(
      defineStruct("hvkit_agent_boot", "The agent's boot report.", BOOT_REPORT),
      "vCPU 0's boot report.",
    ),
    pad: field(array(u8, 512 - 280), "0."),
    data: field(array(u8, AGENT_DATA_BYTES), "Buffer of Read and Write."),
  },
);

/** The trap words of a mailbox, as the agent's trap handler wrote them. */
export interface AgentTrapRecord {
  /** Vector or cause number (arch's own numbering). */
  readonly vector: bigint;
  /** Error code or syndrome word (arch's own encoding). */
  readonly code: bigint;
  /** Faulting data address, when the trap has one. */
  readonly address: bigint;
  /** Address of the instruction that trapped. */
  readonly pc: bigint;
}

/** What kind of trap a request ended in, in arch-neutral terms. */
export type GuestTrapKind =
  "page-fault" | "protection-fault" | "illegal-instruction" | "breakpoint" | "alignment" | "other";

/** A trap, as a test sees it. */
export interface GuestTrap {
  /** The kind. */
  readonly kind: GuestTrapKind;
  /** The faulting data address (page faults), when there is one. */
  readonly address?: bigint;
  /** For a page fault: true when the access was a write. */
  readonly write?: boolean;
  /** Address of the instruction that trapped. */
  readonly pc: bigint;
  /** The arch's own words for it, e.g. `#PF, error code 0x7` (for messages). */
  readonly detail: string;
}

/** The agent's boot report, read from vCPU 0's mailbox. */
export interface AgentBootReport {
  /** start_info (0 when the arch has none). */
  readonly startInfo: bigint;
  /** shared_info. */
  readonly sharedInfo: bigint;
  /** The hypercall page (0 when none). */
  readonly hypercallPage: bigint;
  /** Free memory for the test. */
  readonly scratch: bigint;
  /** Its size in bytes. */
  readonly scratchLength: number;
  /** Remappable pages. */
  readonly window: bigint;
  /** Their size in bytes. */
  readonly windowLength: number;
  /** Secondary vCPU entry point. */
  readonly apEntry: bigint;
  /** vCPUs the agent can serve. */
  readonly mailboxCount: number;
  /** The arch's boot pointer (device tree, boot parameters), 0 when unused. */
  readonly bootArg: bigint;
  /** Arch-specific words. */
  readonly arch: readonly bigint[];
}

/**
 * What an arch's {@link GuestAgent} may do with a running agent: the same requests a test
 * makes, on vCPU `vcpu` (default 0). Implemented by the conformance runner.
 */
export interface AgentIo {
  /** The arch's data model (lay structs out with it). */
  readonly model: DataModel;
  /** vCPU 0's boot report. */
  readonly boot: AgentBootReport;
  /** Page size of the machine. */
  readonly pageSize: number;
  /** Makes hypercall `nr` from the guest; returns its result (sign-extended). */
  hypercall(nr: number, ...args: bigint[]): bigint;
  /** Reads `length` bytes at guest virtual `va` with the guest's loads; throws on a trap. */
  read(va: bigint, length: number): Uint8Array;
  /** Writes `bytes` at guest virtual `va` with the guest's stores; throws on a trap. */
  write(va: bigint, bytes: Uint8Array): void;
}

/**
 * The guest's view of its own boot information, arch-neutral: from start_info on x86 and
 * IA-64, from the device tree on PowerPC.
 */
export interface GuestBootInfo {
  /** Pages of memory the domain was given (start_info.nr_pages). */
  readonly nrPages: number;
  /** The domain is privileged (SIF_PRIVILEGED). */
  readonly privileged: boolean;
  /** The domain is the initial domain (SIF_INITDOMAIN). */
  readonly initialDomain: boolean;
  /** The frame of the domain's shared_info page, as the boot information names it. */
  readonly sharedInfoFrame: bigint;
  /** Frame of the xenstore ring (domU), null when none. */
  readonly storeFrame: bigint | null;
  /** Event channel of the xenstore ring (domU), null when none. */
  readonly storeEvtchn: number | null;
  /** Frame of the console ring (domU), null when none. */
  readonly consoleFrame: bigint | null;
  /** Event channel of the console ring (domU), null when none. */
  readonly consoleEvtchn: number | null;
  /** The command line. */
  readonly cmdline: string;
}

/** A `vcpu_guest_context` the arch's Xen must refuse (see {@link GuestAgent.refusedVcpuContexts}). */
export interface RefusedVcpuContext {
  /** What is wrong with it, in the arch's terms (e.g. "CR3 0 names no page table"). */
  readonly why: string;
  /** The context, laid out by the arch's data model. */
  readonly context: Uint8Array;
}

/** A part of a `vcpu_guest_context`, by its bytes in the arch's layout. */
export interface VcpuContextPart {
  /** The field's name in the arch's header (e.g. `user_regs.rip`). */
  readonly name: string;
  /** Its byte offset in the context. */
  readonly offset: number;
  /** Its size in bytes. */
  readonly length: number;
}

/**
 * The domain a {@link GuestAgent.foreignVcpuContext} is for, as a toolstack that builds it
 * knows it: its id and a second empty frame it owns, for a root page table that must name
 * another page to be valid (a PAE guest's L3: Xen's promote_l3_table wants slot 3 to name
 * an L2). The agent may map the domain's frames (`GuestAgent.mapFrame` with `owner`) to
 * fill them, and leaves its window as it found it.
 */
export interface ForeignDomain {
  /** The domain's id. */
  readonly id: number;
  /** An empty frame of the domain other than the context's `frame`. */
  readonly spareFrame: bigint;
}

/**
 * A `vcpu_guest_context` for a vCPU of another domain, as a toolstack loads it with domctl
 * setvcpucontext (see {@link GuestAgent.foreignVcpuContext}).
 */
export interface ForeignVcpuContext {
  /** The context, laid out by the arch's data model; the arch's Xen accepts it. */
  readonly context: Uint8Array;
  /**
   * Parts of `context` that getvcpucontext gives back byte for byte (registers and
   * pointers Xen keeps as loaded, not those it normalises, such as flags it adds).
   */
  readonly kept: readonly VcpuContextPart[];
  /**
   * `context` asking for the vCPU to be online once loaded (the arch's flag, x86:
   * VGCF_online), which `arch_set_info_guest` turns into the vCPU's being up. Absent for
   * an arch whose context has no such flag (PowerPC): setvcpucontext then leaves the vCPU
   * up or down as it was.
   */
  readonly online?: Uint8Array;
  /**
   * Variants of `context` that the arch's Xen refuses as a reload of the vCPU `context`
   * was loaded into (domctl setvcpucontext of an initialised vCPU keeps some state fixed;
   * x86 PV: the page tables, GDT and LDT, else −EOPNOTSUPP), each with the reason and the
   * errno. Empty for an arch whose Xen reloads anything.
   */
  readonly reloadRefused: readonly ReloadRefusedVcpuContext[];
}

/** A context a reload is refused with (see {@link ForeignVcpuContext.reloadRefused}). */
export interface ReloadRefusedVcpuContext extends RefusedVcpuContext {
  /** The arch's Xen's answer, a negative errno (x86 PV: −EOPNOTSUPP). */
  readonly errno: number;
}

/**
 * Reads the start_info at guest address `va` with the agent's loads, laid out by
 * `io.model`: the {@link GuestBootInfo} of an arch whose domain builder writes a
 * start_info page (x86, IA-64). shared_info's frame is its address (start_info.shared_info)
 * over the page size, as libxc's builders wrote it. The store and console words are the
 * domU's (`console.domU`); for the initial domain they are null, as its start_info carries
 * the dom0 console info there instead.
 */
export function bootInfoFromStartInfo(io: AgentIo, va: bigint): GuestBootInfo {
  const layout = START_INFO.layout(io.model);
  const bytes = io.read(va, layout.size);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const flags = layout.getNumber(view, 0, "flags");
  const initial = (flags & SIF_INITDOMAIN) !== 0;
  return {
    nrPages: layout.getNumber(view, 0, "nr_pages"),
    privileged: (flags & SIF_PRIVILEGED) !== 0,
    initialDomain: initial,
    sharedInfoFrame: layout.getBigInt(view, 0, "shared_info") / BigInt(io.pageSize),
    storeFrame: initial ? null : layout.getBigInt(view, 0, "store_mfn"),
    storeEvtchn: initial ? null : layout.getNumber(view, 0, "store_evtchn"),
    consoleFrame: initial ? null : layout.getBigInt(view, 0, "console.domU.mfn"),
    consoleEvtchn: initial ? null : layout.getNumber(view, 0, "console.domU.evtchn"),
    cmdline: layout.getString(view, 0, "cmd_line"),
  };
}

/**
 * An arch's half of the agent: its boot image, plus the few things only the arch knows
 * that tests need (how a guest pointer is passed to a hypercall, how a trap record reads,
 * how to start a secondary vCPU, how to reach a frame). Returned by
 * `ArchPlugin.guestAgent`. Members marked optional back a feature the arch declares in
 * `ArchPlugin.features` (named in each member's doc); tests that need the feature ask
 * for it, and the runner skips the cell when the arch does not declare it.
 */
export interface GuestAgent {
  /** The agent's boot image (an ELF file's bytes), as the arch's domain builder boots it. */
  readonly image: Uint8Array;

  /**
   * The value a hypercall argument or a struct's guest-handle field takes for a buffer at
   * guest virtual address `va`: the address itself on x86; an inline xencomm handle
   * (guest-physical address | 1 << 63) on IA-64 and PowerPC.
   */
  guestHandle(io: AgentIo, va: bigint): bigint;

  /** Describes a trap record in arch-neutral terms. */
  describeTrap(trap: AgentTrapRecord): GuestTrap;

  /** Reads the domain's boot information as the guest would. */
  bootInfo(io: AgentIo): GuestBootInfo;

  /**
   * A guest address the domain cannot reach (unmapped, not in the guest's space), for
   * tests of −EFAULT paths.
   */
  unmappedAddress(io: AgentIo): bigint;

  /**
   * The arch's `vcpu_guest_context` (in `io.model`'s layout) that starts vCPU `vcpuId` at
   * the agent's secondary entry on its own stack and mailbox, with the agent's handlers
   * and vCPU 0's address space — what a kernel passes to VCPUOP_initialise.
   */
  secondaryVcpuContext(io: AgentIo, vcpuId: number): Uint8Array;

  /**
   * Contexts for vCPU `vcpuId` that the arch's Xen refuses in VCPUOP_initialise with
   * −EINVAL (its `arch_set_info_guest` checks), each with the reason: the arch's
   * {@link GuestAgent.secondaryVcpuContext} — or `base`, a valid context such as a
   * {@link GuestAgent.foreignVcpuContext} for domctl setvcpucontext — with one field made
   * invalid (x86_64: CR3 naming no page table; a non-canonical rip). Tests check that each
   * is refused and that the vCPU stays uninitialised. Optional: an arch whose Xen validates
   * nothing in the context omits it (its tests then make no such check).
   */
  refusedVcpuContexts?(
    io: AgentIo,
    vcpuId: number,
    base?: Uint8Array,
  ): readonly RefusedVcpuContext[];

  /**
   * A context for vCPU `vcpuId` of another domain (a toolstack's domctl setvcpucontext),
   * where `frame` is an empty frame that domain owns, for whatever the arch's context must
   * name in the domain's memory (x86 PV: the root page table, CR3), and `domain` says
   * which domain it is and gives another of its empty frames ({@link ForeignDomain}: x86
   * PAE makes `frame` an L3 whose slot 3 names that one). Its values are the
   * test's to recognise when getvcpucontext gives them back. Optional: a test that needs
   * it reports its absence as an error naming it.
   */
  foreignVcpuContext?(
    io: AgentIo,
    vcpuId: number,
    frame: bigint,
    domain: ForeignDomain,
  ): ForeignVcpuContext;

  /**
   * Feature `frames`: the frame number the hypervisor knows the page at `va` by (a PV
   * guest's machine frame, what it puts in a grant entry or a page-table entry).
   */
  frameOf?(io: AgentIo, va: bigint): bigint;

  /**
   * Feature `frames`: the pseudo-physical frame number of the page at `va` — the index
   * of the guest's own frame list (a PV guest's p2m), what populate_physmap, exchange
   * and the M2P name.
   */
  pfnOf?(io: AgentIo, va: bigint): bigint;

  /**
   * Feature `frame-mapping`: maps frame `frame` (see {@link GuestAgent.frameOf}) at window
   * address `va` (read-only unless `writable`), or unmaps it when `frame` is null, with
   * the arch's PV MMU hypercalls (PowerPC: H_ENTER). `owner`, when given, is the domain
   * that owns the frame (a privileged toolstack mapping another domain's page, as libxc
   * does; x86 PV: update_va_mapping_otherdomain; a translated guest first puts it in its
   * own physmap). Returns the hypercall's result (0 or a negative error).
   */
  mapFrame?(
    io: AgentIo,
    va: bigint,
    frame: bigint | null,
    writable: boolean,
    owner?: number,
  ): bigint;

  /**
   * Feature `frames`, for an agent that runs untranslated (PowerPC real mode, IA-64
   * metaphysical mode): the address at which the agent reaches frame `frame` (one of its
   * own, as the boot information names it) without mapping it — frame × page size. An
   * agent that runs translated leaves it out and maps frames with
   * {@link GuestAgent.mapFrame} (which an untranslated agent may offer too, for a window
   * it reaches translated: PowerPC).
   */
  frameAddress?(io: AgentIo, frame: bigint): bigint;

  /**
   * Feature `pv-mmu-radix`: the frame (see {@link GuestAgent.frameOf}) of the root page
   * table vCPU 0 runs on (x86 PV: CR3's), which the guest walks and updates with the PV
   * MMU hypercalls.
   */
  pageTableRoot?(io: AgentIo): bigint;

  /**
   * Removes the agent's trap handlers, so that the next trap has none (for tests of
   * what Xen does then: it crashes the domain).
   */
  disarmTraps(io: AgentIo): void;
}

/**
 * A host-side service a domain's kernel reaches through {@link KERNEL_SERVICE_CALL} (the
 * conformance agent's channel). Set on `Domain.kernelService` by whoever drives the
 * domain; the core never sets it.
 */
export interface KernelService {
  /**
   * Called when `vcpu` makes the kernel service call, with its arguments. Returns the
   * call's result. May pause `vcpu` (`Machine.pauseVcpu`) and ask the machine to stop
   * (`Machine.requestStop`); must not throw for anything the guest passes.
   */
  call(vcpu: Vcpu, args: HypercallArgs): number | bigint;
}

/**
 * Frames for an agent that runs untranslated (PowerPC real mode, IA-64 metaphysical mode)
 * on a port whose guests are auto-translated (Xen keeps their physical-to-machine map; they
 * name pages by guest-physical frame, in grant entries too): an address is guest-physical,
 * so a page's frame is the address over the page size, its pseudo-physical frame the same,
 * and a frame needs no mapping — it is reachable at frame × page size. Remapping pages
 * needs translation: such an agent offers `mapFrame` only for a window it reaches
 * translated (PowerPC's, through the hashed page table).
 */
export const UNTRANSLATED_FRAMES: Required<Pick<GuestAgent, "frameOf" | "pfnOf" | "frameAddress">> =
  {
    frameOf: (io, va) => va / BigInt(io.pageSize),
    pfnOf: (io, va) => va / BigInt(io.pageSize),
    frameAddress: (io, frame) => frame * BigInt(io.pageSize),
  };
