/**
 * The contract between the architecture-neutral core and a per-ISA plugin.
 *
 * The core never tests an architecture's name: everything that differs between ISAs is
 * reached through these hooks. A new port starts from `hvkit new-arch` stubs that throw
 * {@link ArchHookMissingError} naming the hook, so the conformance matrix can show which
 * cells each missing hook blocks (as Xen's new-arch stubs do).
 *
 * Threading and time: hvkit is single-threaded and deterministic. Every hook is called
 * from the machine's event loop; none may read the wall clock, host randomness or any
 * state outside the machine it is given.
 *
 * What a port provides beyond behaviour is data: its {@link DataModel} (type widths, byte
 * order and the arch parts of the common ABI structs, see `structs.ts`) and its identity
 * members. Its per-domain and per-vCPU state are its own types, named once in an
 * {@link ArchTypes} and carried by `ArchPlugin<A>`, `Machine<A>`, `Domain<A>`, `Vcpu<A>`
 * and `HypercallContext<A>`, so the arch's code reads `domain.arch` and `vcpu.arch` as
 * its own types without casts while the core is written against the defaults.
 *
 * A port touches only its own package: the package exports its plugin object and says so
 * in its package.json, `"hvkit": { "plugin": "arch", "provides": ["<export name>"] }`, which
 * is how the `hvkit` command finds it (and `--plugin <folder>` loads one kept elsewhere).
 * Everything the core needs to know about the ISA comes through the members below; the
 * core has no list of arches, data models or ELF machines.
 *
 * @module
 */
import type { GuestAgent } from "./agent.js";
import type { ElfImage } from "./elf.js";
import type { DataModel } from "./structs.js";
import type { HypercallEntry, HypercallArgs, HypercallContext } from "./hypercall.js";
import type { Domain } from "./domain.js";
import type { Machine } from "./machine.js";
import type { Vcpu } from "./vcpu.js";

/** Byte order of guest memory and of the ABI structs. */
export type Endianness = "little" | "big";

/**
 * How a guest runs. `pv`: paravirtualized, aware of the hypervisor. The others are
 * hardware-assisted full virtualization for unmodified guests: `hvm-vmx` (Intel VT-x),
 * `hvm-svm` (AMD SVM), `vt-i` (IA-64 VT-i), `hv` (PowerPC hypervisor mode).
 */
export type GuestMode = "pv" | "hvm-vmx" | "hvm-svm" | "vt-i" | "hv";

/** Why {@link ArchVcpu.run} returned. */
export enum VcpuExitKind {
  /** The instruction budget ran out; the vCPU can simply be run again. */
  BudgetExhausted = 0,
  /**
   * The guest made a hypercall. The core reads it with {@link ArchVcpu.readHypercall},
   * dispatches it through the hypercall table and completes it with
   * {@link ArchVcpu.completeHypercall}.
   */
  Hypercall = 1,
  /** The vCPU has nothing to do until an event arrives (e.g. `hlt` with events enabled). */
  Idle = 2,
  /**
   * The guest hit a condition it cannot recover from (an exception with no handler, a
   * double fault, a bad bounce-frame write). The core crashes the domain — never the
   * host. {@link VcpuExit.message} says what happened.
   */
  Fatal = 3,
}

/**
 * The result of one {@link ArchVcpu.run} call, as data. An arch keeps one instance per
 * vCPU and overwrites it on every run, so the run loop allocates nothing.
 */
export interface VcpuExit {
  /** Why the run stopped. */
  kind: VcpuExitKind;
  /** Guest instructions retired during this run (drives virtual time). */
  retired: number;
  /** For {@link VcpuExitKind.Fatal}: a human-readable reason (registers, faulting instruction). */
  message: string;
}

/** One named count of an {@link ExecutionProfile} table: what, and how many times. */
export type ProfileCount = readonly [name: string, count: number];

/**
 * Where a vCPU's instructions ran, as counts (never times, so the same run gives the
 * same profile): how many the interpreter retired and how many compiled code did, how
 * compiled code was left, and which operations kept instructions out of it. An arch
 * without a compiler reports everything as interpreted. Tables list the largest count
 * first; names are the arch's own (its operation and exit names).
 */
export interface ExecutionProfile {
  /** Instructions (and repeat iterations counted as instructions) the interpreter retired. */
  readonly interpreted: number;
  /** Instructions retired in compiled code. */
  readonly compiled: number;
  /** Units of guest code (blocks) compiled. */
  readonly blocksCompiled: number;
  /** Ways compiled code was left, with how often each happened. */
  readonly blockExits: readonly ProfileCount[];
  /** The operations that ended compiled code because they are not compiled, by exits. */
  readonly blockEnders: readonly ProfileCount[];
  /** Interpreted instructions by operation. */
  readonly interpretedOps: readonly ProfileCount[];
}

/**
 * Architecture-specific state and behaviour of one virtual CPU. Created by
 * {@link ArchPlugin.createVcpu}; owned by a core {@link Vcpu}.
 *
 * Tools outside the core (the CLI's `--trace`, debuggers) use only this contract: with
 * {@link ArchVcpu.pc} and `run(1)` they single-step a guest and show each instruction
 * through {@link ArchPlugin.disassemble}, so an arch gets them by implementing it.
 */
export interface ArchVcpu {
  /** The exit record that {@link ArchVcpu.run} fills in (the same object every time). */
  readonly exit: VcpuExit;

  /**
   * Executes guest instructions until `budget` instructions have retired or an exit
   * happens. Must not allocate per instruction and must never throw for anything a guest
   * can do: guest faults are delivered to the guest or reported as
   * {@link VcpuExitKind.Fatal}. Throwing is reserved for hvkit bugs.
   *
   * A budget of 1 single-steps: at most one instruction retires (or one exit happens
   * before it), so the vCPU stops at the next instruction boundary. An arch that runs
   * guest code in larger units (compiled blocks, bundles) must still honour it.
   *
   * @param budget - the maximum number of instructions to retire (at least 1).
   * @returns the exit record, with `retired` ≤ `budget`.
   */
  run(budget: number): VcpuExit;

  /**
   * The guest virtual address of the next instruction this vCPU will execute (the program
   * counter: x86 `rip`, IA-64 `ip` with the slot in bits 0–3 as the arch's disassembler
   * takes it, PowerPC `nia`). Valid between runs; reads state only, never faults.
   */
  pc(): bigint;

  /**
   * Reads the pending hypercall after a {@link VcpuExitKind.Hypercall} exit: fills `args`
   * with the argument registers and returns the hypercall number, both as the arch's
   * calling convention places them.
   */
  readHypercall(args: HypercallArgs): number;

  /**
   * Writes a hypercall's result where the guest expects it and resumes the guest after the
   * hypercall instruction. `result` is a signed value: ≥ 0 success, −errno failure.
   */
  completeHypercall(result: number | bigint): void;

  /**
   * Translates a guest virtual address for a hypervisor access on behalf of the guest
   * (the core's copy_from_guest / copy_to_guest door). Uses the vCPU's current address
   * space with guest-kernel rights and sets accessed/dirty bits as the hardware would.
   *
   * @returns the machine (host-physical) byte address, or −1 when the page is not mapped
   *   or not writable for a write (the caller then fails with −EFAULT; no fault is
   *   injected into the guest).
   */
  translate(va: bigint, write: boolean): number;

  /**
   * One line per register for crash reports and traces, plus the instruction at the
   * program counter disassembled.
   */
  describe(): string;

  /**
   * Optional. Writes this vCPU's state as the arch's `vcpu_guest_context` (Xen's
   * `arch_get_info_guest`, for domctl getvcpucontext) to guest virtual address `va`
   * through `ctx.vcpu` (the caller's address space, via the guest-memory door): registers,
   * program counter and flags, the page-table base, kernel stack, trap table, callbacks,
   * segment bases and VGCF_* flags, in the layout of the caller's data model. The vCPU is
   * not running (another domain is calling). Returns 0, or −EFAULT when the context cannot
   * be written. Must not throw. Fallback: getvcpucontext fails with −EOPNOTSUPP.
   */
  saveGuestContext?(ctx: HypercallContext, va: bigint): number;

  /**
   * Optional. Told that the core has just set `evtchn_upcall_pending` in this vCPU's
   * vcpu_info (Xen's `vcpu_mark_events_pending` → `vcpu_kick`); the core has already woken
   * the vCPU if it was blocked. Whatever the arch does, the guest must enter its event
   * callback before its next instruction once upcall_pending is set and
   * `evtchn_upcall_mask` is clear (Xen's `test_guest_events` on every return to the
   * guest). Called on the hypercall path, never per instruction. Fallback: nothing, for
   * arches that check upcall_pending on every entry to {@link ArchVcpu.run} (x86_64 PV).
   */
  kick?(): void;

  /**
   * Optional. Starts counting where this vCPU's instructions run (interpreted or
   * compiled, how compiled code is left, which operations are interpreted) and returns a
   * reader of the counts so far. Counting costs nothing until this is called. Used by
   * `hvkit run --profile`. Fallback: the arch has no profile to show.
   */
  startProfile?(): () => ExecutionProfile;
}

/**
 * The types an arch keeps its own state in: what `Domain.arch` and `Vcpu.arch` hold. A
 * port names its pair once (e.g. `interface X86_64Pv { domain: PvDomainState; vcpu:
 * PvVcpu }`) and implements `ArchPlugin<X86_64Pv>`; its hooks then receive
 * `Domain<X86_64Pv>`, `Vcpu<X86_64Pv>` and `Machine<X86_64Pv>`. The defaults (state of
 * unknown shape, any {@link ArchVcpu}) are what the core itself is written against.
 */
export interface ArchTypes {
  /**
   * Per-domain state (`Domain.arch`), made by {@link ArchPlugin.createDomainState}: plain
   * serializable data (trap tables, callbacks, the builder's layout, a memory map ...).
   */
  readonly domain: unknown;
  /** Per-vCPU state (`Vcpu.arch`), made by {@link ArchPlugin.createVcpu}. */
  readonly vcpu: ArchVcpu;
}

/** Everything the domain builder needs to lay out a new domain. */
export interface DomainBuildRequest<A extends ArchTypes = ArchTypes> {
  /** The machine the domain lives in. */
  readonly machine: Machine<A>;
  /** The (already created, still empty) domain. */
  readonly domain: Domain<A>;
  /** The parsed kernel image. */
  readonly image: ElfImage;
  /** Kernel command line (copied into start_info.cmd_line, truncated to fit). */
  readonly cmdline: string;
  /** The guest mode to build for; one of {@link ArchPlugin.modes}. */
  readonly mode: GuestMode;
  /** True for the initial domain (dom0): privileged, SIF_INITDOMAIN. */
  readonly initial: boolean;
  /**
   * For a domU (`initial` false): the domain's event-channel port for xenstored and for
   * the console back end, unbound ports the toolstack allocated before the build (libxl
   * `libxl__build_pre`: `xc_evtchn_alloc_unbound` for the store, then the console). The
   * builder writes them into start_info (`store_evtchn`, `console.domU.evtchn`). Absent
   * for the initial domain.
   */
  readonly storeEvtchn?: number;
  /** See {@link DomainBuildRequest.storeEvtchn}: the console's port. */
  readonly consoleEvtchn?: number;
  /**
   * The initial ramdisk (the first boot module: xl's `ramdisk`, or the module Xen is given
   * for dom0), absent for none. The builder loads it into the domain and describes it in
   * start_info (`mod_start`, `mod_len`, SIF_MOD_START_PFN), as Xen's dom0 builder and
   * libxc's do: in the initial mapping right after the kernel, or, for a kernel that
   * declares XEN_ELFNOTE_MOD_START_PFN, unmapped and given by frame number. For a domU
   * the bytes are already as libxc loads them (`libxcRamdisk`: a gzip file inflated) and
   * `mod_len` is a whole number of pages, as libxc's segment is; dom0's is its exact size.
   */
  readonly ramdisk?: Uint8Array;
}

/**
 * What a domain builder reports back (libxc's `xc_dom_image` after the build): for a domU,
 * the machine frames of the pages it set aside for the xenstore ring and the console ring
 * (start_info `store_mfn`, `console.domU.mfn`), which the toolstack hands to xenstored
 * (XS_INTRODUCE) and the console daemon.
 */
export interface DomainBuildResult {
  /** Machine frame of the xenstore ring page, or null when the builder made none. */
  readonly storeMfn: number | null;
  /** Machine frame of the console ring page, or null when the builder made none. */
  readonly consoleMfn: number | null;
}

/**
 * What a per-ISA plugin provides. Every member's contract is written here once; the core
 * relies on nothing else. `A` names the arch's own state types ({@link ArchTypes}).
 */
export interface ArchPlugin<A extends ArchTypes = ArchTypes> {
  /** The arch's name as the CLI and the conformance matrix spell it (e.g. `x86_64`). */
  readonly name: string;
  /** ELF `e_machine` values whose images this arch boots (e.g. 62 for EM_X86_64). */
  readonly elfMachines: readonly number[];
  /** ELF classes accepted: 32 and/or 64. */
  readonly elfClasses: readonly (32 | 64)[];
  /** Byte order of guest memory and ABI structs. */
  readonly endianness: Endianness;
  /** Natural word size of guests (size of `long` and pointers), in bits. */
  readonly wordBits: 32 | 64;
  /** Supported guest page sizes in bytes; the first is the default. */
  readonly pageSizes: readonly number[];
  /**
   * The data model every ABI struct is laid out in for this arch's guests: type widths,
   * byte order, and the arch's parts of the common structs (see {@link DataModel}). The
   * core asks it, never the arch's name, wherever guests of different arches disagree
   * (shared_info's shape, event words, vcpu_info alignment ...). One object for the
   * plugin's lifetime: layouts are cached per model object.
   */
  readonly dataModel: DataModel;
  /**
   * Whether this arch's domain builder refuses an ELF image with neither Xen notes nor a
   * `__xen_guest` section (libelf's `elf_xen_note_check`: x86 requires them, since its
   * PV entry conventions come from the notes; IA-64 and PowerPC boot plain ELF kernels).
   * The loader (`computeLoadLayout`) takes it from the plugin.
   */
  readonly requiresXenNotes: boolean;
  /**
   * Optional. Whether this arch's PV guests are auto-translated, as Xen's IA-64 and
   * PowerPC ports made every domain (`paging_mode_translate`): a guest names its memory by
   * guest-physical frame and Xen keeps the p2m, so hypercalls take guest frames, grant
   * entries name them, and getdomaininfo reports shared_info's guest frame; XENVER
   * get_features then offers auto_translated_physmap instead of direct_mapped. Fallback:
   * false (x86 PV: guests name machine frames). Hardware-assisted guests are always
   * translated.
   */
  readonly translatedPv?: boolean;
  /**
   * The start_info magic string the builder writes (e.g. `xen-3.0-x86_64`); on arches with
   * no start_info page (PowerPC passes a device tree) the guest-type string of the same
   * form (`xen-3.0-powerpc64`).
   */
  readonly startInfoMagic: string;
  /** Guest modes this plugin implements. The first is the default. */
  readonly modes: readonly GuestMode[];
  /**
   * What the arch offers that not every arch has, by name — the conformance suite's
   * tests ask for features, never for arch names, and a cell whose arch lacks a feature a
   * test needs is a SKIP naming it. Names in use: `hypercall-page` (Xen writes a
   * hypercall page into the guest), `frames` (the guest can name its frames: the agent's
   * `frameOf`/`pfnOf`, or `frameAddress` where it runs untranslated), `frame-mapping` (it
   * can also map any frame, its own or another domain's, at a window page: the agent's
   * `mapFrame`), `pv-mmu-radix` (guest page tables validated by Xen,
   * updated with mmu_update, as x86 PV; 4 levels unless the arch also says
   * `pv-mmu-pae`: PAE's 3, an L3 of 4 entries whose slot 3 is Xen's, as x86 PV32),
   * `pv-mmu-hashed` (a hashed page table updated
   * with H_ENTER and friends, as PowerPC), `m2p` (a machine-to-physical table guests
   * read), `trap-table` (exceptions delivered through a set_trap_table table),
   * `privileged-op-emulation` (the PV kernel runs deprivileged and the hypervisor carries
   * out its privileged instructions as Xen does — x86: control registers and MSRs,
   * pv/emul-priv-op.c; what the arch's own compiled `privregs` guest checks),
   * `shared-info-max-pfn` (XENMEM_maximum_gpfn answers from the `max_pfn` the guest keeps
   * in shared_info's arch part, as x86 PV's `domain_get_maximum_gpfn`), `segmentation`
   * (guests have segment descriptor tables the hypervisor validates — x86: set_gdt,
   * update_descriptor, MMUEXT_SET_LDT with check_descriptor, Xen's flat selectors — and
   * the CPU checks segment loads, far transfers and call gates as the hardware does),
   * `compat-mode` (a 64-bit guest can run 32-bit code: x86 compatibility mode, with
   * `syscall`/`sysenter` from it delivered as Xen's entry points do), `vcpu-time-area`
   * (VCPUOP_register_vcpu_time_memory_area keeps a second vcpu_time_info at a guest
   * address, as x86's `do_vcpu_op`), `x87` and `sse` (the guest's CPU has the x87
   * floating-point unit, and SSE with MXCSR: what the compiled `x87` and `simd` guests use).
   * `virtual-hypercall-copies`: Xen's copies from and to guest handles go through the
   * guest's own mappings, so an unmapped or read-only page faults them (x86, whose handles
   * are virtual addresses; not IA-64 or PowerPC, whose xencomm handles are guest-physical).
   */
  readonly features: readonly string[];
  /**
   * The largest machine memory, in MiB, this arch's model can address (e.g. a CPU model
   * whose TLB keeps machine addresses as 32-bit integers). The machine refuses a larger
   * configuration with a config error. Absent: the core's own limit applies.
   */
  readonly maxMemoryMiB?: number;
  /**
   * Ticks per second of virtual time of the guest's cycle counter, the one
   * `vcpu_time_info`'s `tsc_timestamp`/`tsc_to_system_mul`/`tsc_shift` describe (x86: the
   * TSC; PowerPC: the time base, at the `timebase-frequency` its device tree advertises).
   * The core writes those fields for this rate, so a guest's `system_time + scaled(counter
   * − tsc_timestamp)` is virtual ns whatever the rate; the arch's counter must read
   * `counterTicks(ns, counterHz)` at virtual time `ns`. Absent: `TSC_HZ` (1 GHz, one
   * tick per virtual ns).
   */
  readonly counterHz?: number;

  /**
   * Arch-specific hypercalls (e.g. x86's mmu_update, set_trap_table, iret) to merge into
   * the machine's single hypercall table. Called once per machine.
   */
  hypercalls(): readonly HypercallEntry<A>[];

  /**
   * Creates the arch's state of a new domain (Xen's `arch_domain_create`), which the core
   * stores as `domain.arch`. Called by `Machine.createDomain` once, after the domain's id,
   * privilege and mode are set and before its vCPUs are created; the domain has no memory
   * yet. Later hooks (the builder, hypercalls) fill it in.
   *
   * `config` is the arch part of the domain's configuration (`struct
   * xen_arch_domainconfig` in the layout of {@link ArchPlugin.dataModel}, from byte 0) as
   * domctl createdomain passed it, already accepted by
   * {@link ArchPlugin.checkDomainConfig}; undefined for a domain the host creates itself
   * (the initial domain, the built-in toolstack's domUs), which gets the arch's defaults.
   */
  createDomainState(machine: Machine<A>, domain: Domain<A>, config?: DataView): A["domain"];

  /** Creates the architectural state of vCPU `id` of `domain` (registers reset, not running). */
  createVcpu(machine: Machine<A>, domain: Domain<A>, vcpu: Vcpu<A>): A["vcpu"];

  /**
   * Builds a domain as Xen's domain builder does for this arch and mode: allocates and
   * loads memory, builds the initial address space, start_info (or device tree), shared
   * info, the hypercall page if the arch has one, and the boot vCPU's entry state.
   * Throws {@link ImageError} for an image this arch cannot boot (saying what and where),
   * and {@link DomainMemoryError} when the image needs more memory than the domain has.
   * For a domU (`request.initial` false) it also sets aside a zeroed xenstore page and a
   * console page (connection XENCONSOLE_DISCONNECTED, as `xc_dom_console_init`), writes
   * their frames and `request`'s ports into start_info, and returns the frames; an arch
   * that returns nothing gives its domUs neither (the toolstack then introduces none).
   */
  buildDomain(request: DomainBuildRequest<A>): DomainBuildResult | void;

  /**
   * The arch's conformance guest agent (see `agent.ts`): its boot image and the arch
   * knowledge tests need. Every conformance test boots it; until a port has one, each of
   * its cells is an ERROR naming this hook.
   */
  guestAgent(): GuestAgent;

  /**
   * Disassembles `count` instructions at guest virtual address `va` in `vcpu`'s address
   * space, one line each (`address: bytes  mnemonic operands`). Unmapped bytes are shown
   * as such, never thrown.
   */
  disassemble(vcpu: Vcpu<A>, va: bigint, count: number): string[];

  // Optional hooks. The core works without them (with the fallback each one names), so
  // an arch adds them only when its guests need the behaviour.

  /**
   * Told after the hypervisor wrote machine bytes `[pa, pa + len)` behind the guest's
   * back: through the guest-memory door (copy_to_guest), when frames are handed out
   * zeroed, or by a builder. An arch that caches anything derived from memory (decoded
   * instructions, page-walk results) drops what overlaps. Called on the hypercall path,
   * not per instruction; must not allocate per call. Fallback: nothing is cached.
   */
  onMemoryWritten?(machine: Machine<A>, pa: number, len: number): void;

  /**
   * Told after guest frame `gpfn` of `domain` stopped naming the machine frame it named
   * (given back, moved, replaced by another frame, stolen by a grant transfer), as Xen's
   * p2m updates flush the domain's TLBs when an entry goes away. An arch that caches
   * translations ending in machine frames (a software TLB over the guest's page table,
   * real-mode translations) drops what it derived from that frame. Called on the
   * hypercall path, not per instruction. Fallback: nothing is cached.
   */
  onP2mChanged?(machine: Machine<A>, domain: Domain<A>, gpfn: number): void;

  /**
   * The XENVER_capabilities string: the space-separated guest ABIs this hypervisor runs
   * (e.g. `xen-3.0-x86_64 xen-3.0-x86_32p`). At most 1023 bytes.
   * Fallback: {@link ArchPlugin.startInfoMagic}.
   */
  readonly capabilities?: string;

  /**
   * `virt_start` of XENVER_platform_parameters for `domain`: the start of the virtual
   * range the hypervisor reserves in a PV guest (HYPERVISOR_VIRT_START; x86_64:
   * 0xFFFF800000000000). Returned as an unsigned value of the guest's word size.
   * Fallback: 0 (what Xen reports to guests without a reserved range).
   */
  hypervisorVirtStart?(domain: Domain<A>): bigint;

  /**
   * The VMASST_TYPE_* numbers `domain` may enable with vm_assist (Xen's
   * `arch_vm_assist_valid_mask`, e.g. x86_64 PV: 0–5 and 32). Others get −EINVAL.
   * Fallback: none.
   */
  vmAssistTypes?(domain: Domain<A>): readonly number[];

  /**
   * Arch-specific XENFEAT_* bits of submap 0 for `domain` (e.g. x86 PV:
   * mmu_pt_update_preserve_ad), ORed into the core's (dom0, direct_mapped /
   * not_direct_mapped). Fallback: 0.
   */
  xenFeatures?(domain: Domain<A>): number;

  /**
   * Arch memory_op operations (Xen's `arch_memory_op`), called for the operations the
   * core does not implement itself, e.g. XENMEM_machphys_mfn_list and
   * XENMEM_machphys_mapping on x86. `op` is the operation (low 6 bits of the command),
   * `cmd` the whole command word, `arg` the guest pointer. Must follow the handler rules
   * (`HypercallHandler`): validate everything, return −errno, never throw; return
   * −ENOSYS for operations the arch does not have. Fallback: −ENOSYS.
   */
  memoryOp?(ctx: HypercallContext<A>, op: number, cmd: bigint, arg: bigint): number | bigint;

  /**
   * Arch vcpu_op commands (the cases of Xen's arch `do_vcpu_op` before it falls through
   * to `common_vcpu_op`), called for the commands the core does not implement itself,
   * e.g. VCPUOP_register_vcpu_time_memory_area on x86. `target` is the vCPU `vcpuid`
   * names (the core has already answered −ENOENT for one the domain lacks), `arg` the
   * guest pointer. Must follow the handler rules (`HypercallHandler`); return −ENOSYS for
   * commands the arch does not have. Fallback: −ENOSYS.
   */
  vcpuOp?(ctx: HypercallContext<A>, cmd: number, target: Vcpu<A>, arg: bigint): number;

  /**
   * XENMEM_maximum_gpfn's answer for `domain` (Xen's `domain_get_maximum_gpfn`): the
   * highest guest frame number the domain uses, as the arch's Xen defines it (x86 PV:
   * the `max_pfn` the guest keeps in shared_info's arch part, less one, and 0 while that
   * is 0; Arm and x86 HVM: the highest frame ever mapped in the p2m). An unsigned long
   * of the domain's width, returned as the hypercall's result. Fallback: the highest guest
   * frame of `Domain.p2m` with a machine frame behind it (0 when none).
   */
  maximumGpfn?(machine: Machine<A>, domain: Domain<A>): bigint;

  /**
   * Installs a grant host mapping for `vcpu`'s domain (Xen's create_grant_host_mapping):
   * machine frame `mfn` (another domain's, granted) becomes visible at `addr`. `flags`
   * are the map's GNTMAP_* flags: readonly → no write access; application_map → also
   * reachable from guest user mode; contains_pte → `addr` is the machine address of the
   * page-table entry to write, else a virtual address in the vCPU's current address
   * space. Whatever `addr` mapped before is released as an ordinary unmapping would. The
   * new mapping takes no frame or type references of its own (the grant code holds them),
   * and a later ordinary page-table update over it must not release any.
   * Returns a GNTST_* code: 0 (okay) or GNTST_general_error (−1) when no mapping can be
   * made there. Fallback: GNTMAP_host_map fails with GNTST_general_error.
   */
  createGrantHostMapping?(vcpu: Vcpu<A>, addr: bigint, mfn: number, flags: number): number;

  /**
   * Removes a mapping {@link ArchPlugin.createGrantHostMapping} made (Xen's
   * replace_grant_host_mapping): the entry for `addr` must map `mfn` with the presence and
   * write access `flags` asked for, else the result is GNTST_general_error (−1). With
   * `newAddr` 0 the entry is cleared; otherwise (GNTTABOP_unmap_and_replace, linear
   * addresses only) the entry for `newAddr` is taken away from there and moved to `addr`,
   * its references going with it (on failure it is released). Flushes the domain's TLBs.
   * Returns 0 or −1. Fallback: host unmaps fail with GNTST_general_error and
   * unmap_and_replace is −ENOSYS.
   */
  replaceGrantHostMapping?(
    vcpu: Vcpu<A>,
    addr: bigint,
    mfn: number,
    newAddr: bigint,
    flags: number,
  ): number;

  /**
   * Takes a writable type reference on machine frame `mfn` for a writable grant map or a
   * grant copy into it (Xen's get_page_type(PGT_writable_page)); false when the frame may
   * not be written (x86: it is in use as a page table or descriptor table). Must be
   * paired with {@link ArchPlugin.putWritableFrame}. Fallback: always true (the arch has
   * no page types), and the put does nothing.
   */
  getWritableFrame?(machine: Machine<A>, mfn: number): boolean;

  /** Drops a reference {@link ArchPlugin.getWritableFrame} took. Fallback: nothing. */
  putWritableFrame?(machine: Machine<A>, mfn: number): void;

  /**
   * Records `pfn` (−1: none) as the guest frame of machine frame `mfn` in the arch's
   * machine-to-physical table, the one PV guests read (x86_64: the read-only M2P at
   * RO_MPT_VIRT_START). Called whenever memory_op gives or takes frames. Fallback: the
   * core keeps the table itself (see `core/src/p2m.ts`), invisible to guests.
   */
  setM2p?(machine: Machine<A>, mfn: number, pfn: number): void;

  /** The M2P entry of `mfn` (−1 for none); pairs with {@link ArchPlugin.setM2p}. */
  getM2p?(machine: Machine<A>, mfn: number): number;

  /**
   * Xen's `access_ok` for a guest handle: may the hypervisor touch `bytes` bytes at guest
   * virtual `va` on `domain`'s behalf? False for addresses the guest cannot own (x86_64:
   * the non-canonical hole and Xen's own range). Checked before walking arrays, as
   * `guest_handle_subrange_okay`. Fallback: true (each access still goes through the MMU).
   */
  guestAccessOk?(domain: Domain<A>, va: bigint, bytes: bigint): boolean;

  /**
   * Xen's `arch_set_info_guest`: loads `context` — the arch's `vcpu_guest_context`, laid
   * out as {@link DataModel.vcpuGuestContext} and already copied from the caller by the
   * core — into `target`. Called by VCPUOP_initialise (the caller's own domain, `target`
   * not initialised and with a vcpu_info) and by domctl setvcpucontext (the control domain
   * loading a vCPU of another domain, which is not running; references are taken for
   * `target.domain`). `initialised` is Xen's `is_initialised` of `target`:
   * - false: validate and load everything — registers and program counter, the
   *   page-table base (with the references the arch's MMU takes for a new base pointer),
   *   kernel stack, trap table, callbacks; on a refusal nothing the vCPU holds changes.
   * - true (domctl only): a reload as the arch's Xen allows it (x86 PV: registers,
   *   callbacks and the like, while the page tables and descriptor tables stay as they are,
   *   else −EOPNOTSUPP).
   * Returns −EINVAL for a context the arch refuses, another −errno where the arch's Xen
   * has one, or on success the {@link VcpuContextRun} the context asks for (the core
   * applies it for domctl setvcpucontext). Must not throw.
   * Fallback: VCPUOP_initialise is −ENOSYS and setvcpucontext −EOPNOTSUPP (the arch
   * cannot start secondary vCPUs).
   */
  setVcpuContext?(
    machine: Machine<A>,
    target: Vcpu<A>,
    context: DataView,
    initialised: boolean,
  ): number;

  /**
   * Xen's `arch_vcpu_reset`, for domctl setvcpucontext with a null context: drops what
   * `target`'s loaded context holds (x86 PV: the GDT frames and the page-table base
   * references), leaving it as if never initialised. `target` is of another domain and is
   * not running. Returns 0 or −errno. Fallback: an initialised vCPU cannot be reset
   * (−EOPNOTSUPP); one never initialised holds nothing and resets without the hook.
   */
  resetVcpu?(machine: Machine<A>, target: Vcpu<A>): number;

  /**
   * Optional. Checks the arch part of a new domain's configuration (`struct
   * xen_arch_domainconfig` in the layout of {@link ArchPlugin.dataModel}, from byte 0 of
   * `config`) for a domain of guest mode `mode` — Xen's `arch_sanitise_domain_config` and
   * the checks `arch_domain_create` makes of it. Called by domctl createdomain before the
   * domain exists (after the common checks and XSM), and by `Machine.createDomain` for a
   * configuration a host caller passes. Reads only; returns 0, or the −errno createdomain
   * fails with (x86: −EINVAL for unknown `misc_flags` or `emulation_flags` bits,
   * −EOPNOTSUPP for emulated devices a PV domain cannot have). Must not throw.
   * Fallback: every configuration is accepted (an arch whose `xen_arch_domainconfig` is
   * empty).
   */
  checkDomainConfig?(config: DataView, mode: GuestMode): number;

  /**
   * Optional. Hands back, as the domain's own, the frames the arch holds for `domain`
   * outside its memory (x86 PV32: the L4 Xen makes for each vCPU of a compat guest), so
   * that `Machine.destroyDomain`, which calls it first, frees them with the rest. Must
   * not throw. Fallback: the arch holds none.
   */
  releaseDomainFrames?(machine: Machine<A>, domain: Domain<A>): void;
}

/**
 * What a `vcpu_guest_context` asks of the vCPU once {@link ArchPlugin.setVcpuContext} has
 * loaded it: Xen's `VGCF_online` (x86: bit 5 of `flags`), which `arch_set_info_guest`
 * turns into clearing or setting the vCPU's `_VPF_down`.
 */
export enum VcpuContextRun {
  /** The vCPU is down (the flag clear; arches without one always say this). */
  Down = 0,
  /** The vCPU is online. */
  Online = 1,
}

/**
 * Thrown (only) by a stub hook of an unfinished port, so a missing piece fails loudly and
 * names itself.
 */
export class ArchHookMissingError extends Error {
  /**
   * @param arch - the arch whose hook is missing.
   * @param hook - the name of the missing hook.
   */
  constructor(
    readonly arch: string,
    readonly hook: string,
  ) {
    super(`arch ${arch}: hook ${hook} is not implemented yet`);
    this.name = "ArchHookMissingError";
  }
}
