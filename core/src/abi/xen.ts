/**
 * The core structs of Xen's PV ABI (xen/include/public/xen.h): start_info, shared_info
 * with its per-vCPU vcpu_info and time records, and the page-table update requests.
 *
 * @module
 */
import {
  archPart,
  array,
  chars,
  defineStruct,
  field,
  handle,
  i8,
  u32,
  u64,
  u8,
  ulong,
  struct,
  union,
  xenPfn,
  xenUlong,
} from "../structs.js";

/** Size of start_info.cmd_line, including the terminating NUL (`MAX_GUEST_CMDLINE`). */
export const MAX_GUEST_CMDLINE = 1024;

/** start_info.flags: the domain is privileged (may use privileged hypercalls). */
export const SIF_PRIVILEGED = 1 << 0;
/** start_info.flags: this is the initial control domain (dom0). */
export const SIF_INITDOMAIN = 1 << 1;
/** start_info.flags: mod_start/mod_len describe a multiboot module list, not a single initrd. */
export const SIF_MULTIBOOT_MOD = 1 << 2;
/** start_info.flags: mod_start is a pseudo-physical frame number, not a virtual address. */
export const SIF_MOD_START_PFN = 1 << 3;
/** start_info.flags: the toolstack understands a virtually mapped p2m list. */
export const SIF_VIRT_P2M_4TOOLS = 1 << 4;

/** vcpu_time_info.flags: the TSC is stable across vCPUs (system time is monotonic). */
export const XEN_PVCLOCK_TSC_STABLE_BIT = 1 << 0;
/** vcpu_time_info.flags: the vCPU was paused by the toolstack (for watchdogs). */
export const XEN_PVCLOCK_GUEST_STOPPED = 1 << 1;

/** update_va_mapping flags: no TLB flush. */
export const UVMF_NONE = 0;
/** update_va_mapping flags: flush the entire TLB(s). */
export const UVMF_TLB_FLUSH = 1;
/** update_va_mapping flags: flush only the one virtual address. */
export const UVMF_INVLPG = 2;
/** update_va_mapping flags: mask of the flush-type bits. */
export const UVMF_FLUSHTYPE_MASK = 3;
/** update_va_mapping flags: flush only this vCPU's TLB (value 0 in bit 2). */
export const UVMF_LOCAL = 0;
/** update_va_mapping flags: flush a vCPU set given by a pointer in the upper bits (value 0 in bit 2). */
export const UVMF_MULTI = 0;
/** update_va_mapping flags: flush every vCPU's TLB. */
export const UVMF_ALL = 1 << 2;

/**
 * `struct vcpu_time_info` (32 bytes everywhere): the hypervisor's clock parameters for
 * one vCPU. A guest computes system time as
 * `system_time + ((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul >> 32`
 * (shift right for a negative tsc_shift), retrying while `version` is odd or changes.
 */
export const VCPU_TIME_INFO = defineStruct(
  "vcpu_time_info",
  "Per-vCPU clock parameters written by the hypervisor, read lock-free by the guest.",
  {
    version: field(
      u32,
      "Update counter: odd while the hypervisor is rewriting the record; the guest re-reads until it sees the same even value before and after.",
    ),
    pad0: field(u32, "Unused."),
    tsc_timestamp: field(u64, "The vCPU's TSC value at the moment system_time was sampled."),
    system_time: field(u64, "Nanoseconds since the domain's boot, as of tsc_timestamp."),
    tsc_to_system_mul: field(
      u32,
      "TSC-to-nanoseconds multiplier, a 32.32 fixed-point fraction applied after shifting.",
    ),
    tsc_shift: field(
      i8,
      "Power-of-two pre-scale of TSC deltas: shift left if positive, right if negative.",
    ),
    flags: field(u8, "XEN_PVCLOCK_* bits."),
    pad1: field(array(u8, 2), "Unused."),
  },
);

/**
 * `struct vcpu_info`: one vCPU's event and time state, inside shared_info (or wherever
 * the guest registered it). Its `arch` member is the data model's `struct
 * arch_vcpu_info` (64 bytes in all on x86; 48 where the arch part is empty).
 */
export const VCPU_INFO = defineStruct(
  "vcpu_info",
  "Per-vCPU event-delivery flags, pending selector, arch state and clock.",
  {
    evtchn_upcall_pending: field(
      u8,
      "Set by the hypervisor when an event is pending for this vCPU; the guest clears it in its upcall handler before scanning the selector.",
    ),
    evtchn_upcall_mask: field(
      u8,
      "The guest's virtual interrupt flag, inverted: while non-zero no upcall is delivered. 1 at boot; x86 PV saves it in the bounce frame's CS.",
    ),
    evtchn_pending_sel: field(
      xenUlong,
      "Selector: bit i set means word i of shared_info.evtchn_pending may have pending, unmasked ports. Set by the hypervisor, cleared atomically by the guest.",
    ),
    arch: field(archPart("archVcpuInfo"), "Arch-specific part (x86: cr2)."),
    time: field(VCPU_TIME_INFO, "This vCPU's clock parameters."),
  },
);

/**
 * `struct shared_info`: the page every domain shares with the hypervisor (start_info
 * gives its machine address). Shaped by the data model: `legacyMaxVcpus` vcpu_info slots,
 * `xenUlong * 8` event words, `wc_sec_hi` here or in the arch part, and the model's
 * `struct arch_shared_info` at the end (3136 bytes on x86_64, 2344 on x86_32).
 */
export const SHARED_INFO = defineStruct(
  "shared_info",
  "The page a domain shares with the hypervisor: vCPU state, event bitmaps, wall clock.",
  (model) => ({
    vcpu_info: field(
      array(VCPU_INFO, model.legacyMaxVcpus),
      "State of the first vCPUs (see XEN_LEGACY_MAX_VCPUS).",
    ),
    evtchn_pending: field(
      array(xenUlong, model.xenUlong * 8),
      "2-level event-channel ABI: one bit per port, set by the hypervisor when an event is sent, cleared by the guest. BITS_PER_LONG words of BITS_PER_LONG bits.",
    ),
    evtchn_mask: field(
      array(xenUlong, model.xenUlong * 8),
      "One bit per port: while set, a pending port raises no upcall (the guest owns these bits).",
    ),
    wc_version: field(
      u32,
      "Wall-clock update counter (odd while being rewritten), as vcpu_time_info.version.",
    ),
    wc_sec: field(
      u32,
      "Wall-clock time at system time 0: seconds since the Unix epoch (low 32 bits).",
    ),
    wc_nsec: field(u32, "Wall-clock time at system time 0: nanoseconds part."),
    ...(model.wcSecHiInArch
      ? {}
      : {
          wc_sec_hi: field(
            u32,
            "High 32 bits of wc_sec (in arch.wc_sec_hi instead where the model says so: 32-bit x86).",
          ),
        }),
    arch: field(archPart("archSharedInfo"), "Arch-specific tail."),
  }),
);

/**
 * `struct start_info`: what the domain builder tells a PV kernel at entry (x86: pointed to
 * by rsi/esi). 1168 bytes on LP64 models, 1112 on x86_32. Addresses marked VIRTUAL are in
 * the guest's initial address space; MACHINE ones are real frame addresses.
 */
export const START_INFO = defineStruct(
  "start_info",
  "Boot information the domain builder writes for a PV kernel.",
  {
    magic: field(
      chars(32),
      'Identifies the ABI: "xen-<version>-<platform>", e.g. "xen-3.0-x86_64" or "xen-3.0-x86_32p".',
    ),
    nr_pages: field(ulong, "Number of pages the domain was given (the length of the p2m list)."),
    shared_info: field(ulong, "MACHINE address of the shared_info page."),
    flags: field(u32, "SIF_* flags."),
    store_mfn: field(xenPfn, "MACHINE frame of the xenstore ring page."),
    store_evtchn: field(u32, "Event channel (port) connecting the guest to xenstored."),
    console: field(
      union({
        domU: field(
          struct({
            mfn: field(xenPfn, "MACHINE frame of the console ring page (xencons_interface)."),
            evtchn: field(u32, "Event channel (port) of the console ring."),
          }),
          "An unprivileged domain's console ring.",
        ),
        dom0: field(
          struct({
            info_off: field(
              u32,
              "Offset of the dom0 console info (VGA/serial description) from the start of this struct.",
            ),
            info_size: field(u32, "Size of that console info."),
          }),
          "The initial domain's physical console description.",
        ),
      }),
      "Console: a ring for domUs, a hardware description for dom0.",
    ),
    pt_base: field(ulong, "VIRTUAL address of the top-level page table the domain starts on."),
    nr_pt_frames: field(ulong, "Number of page-table frames in the bootstrap address space."),
    mfn_list: field(
      ulong,
      "VIRTUAL address of the p2m list: nr_pages machine frame numbers, indexed by pseudo-physical frame.",
    ),
    mod_start: field(
      ulong,
      "VIRTUAL address (or pfn with SIF_MOD_START_PFN) of the pre-loaded module (initrd), 0 if none.",
    ),
    mod_len: field(ulong, "Length of the module in bytes."),
    cmd_line: field(chars(MAX_GUEST_CMDLINE), "Kernel command line, NUL-terminated."),
    first_p2m_pfn: field(
      ulong,
      "First pseudo-physical frame of the initial p2m table when the builder placed it separately (else 0).",
    ),
    nr_p2m_frames: field(ulong, "Number of frames of that separately placed p2m table (else 0)."),
  },
);

/**
 * `struct mmu_update` (16 bytes): one request of the mmu_update hypercall. The low 2
 * bits of `ptr` select the command (MmuUpdateCmd in abi/numbers.ts); the rest is a machine address.
 */
export const MMU_UPDATE = defineStruct(
  "mmu_update",
  "One checked page-table (or machine-to-physical) update.",
  {
    ptr: field(u64, "Machine address of the entry to write, with the MmuUpdateCmd in bits 0-1."),
    val: field(
      u64,
      "The new entry (a page-table entry, or a pseudo-physical frame for machphys_update).",
    ),
  },
);

/**
 * `struct mmuext_op`: one request of the mmuext_op hypercall (pin/unpin, base pointers,
 * TLB flushes...). 24 bytes on LP64, 12 on x86_32. Command numbers: MmuextCmd in
 * abi/numbers.ts.
 */
export const MMUEXT_OP = defineStruct("mmuext_op", "One extended MMU operation.", {
  cmd: field(u32, "The MmuextCmd (abi/numbers.ts)."),
  arg1: field(
    union({
      mfn: field(
        xenPfn,
        "Machine frame: the table to pin/unpin, the new base pointer, the page to clear or copy to.",
      ),
      linear_addr: field(
        ulong,
        "Virtual address: the page to invalidate (INVLPG_*), or the LDT base (SET_LDT).",
      ),
    }),
    "First argument, by command.",
  ),
  arg2: field(
    union({
      nr_ents: field(u32, "SET_LDT: number of descriptors."),
      vcpumask: field(
        handle,
        "TLB_FLUSH_MULTI / INVLPG_MULTI: guest pointer to a bitmap of vCPUs.",
      ),
      src_mfn: field(xenPfn, "COPY_PAGE: the source machine frame."),
    }),
    "Second argument, by command.",
  ),
});

/**
 * `struct multicall_entry`: one call of a multicall batch. 64 bytes on LP64, 32 on x86_32.
 */
export const MULTICALL_ENTRY = defineStruct(
  "multicall_entry",
  "One hypercall inside a multicall batch.",
  {
    op: field(xenUlong, "Hypercall number."),
    result: field(
      xenUlong,
      "Filled in with the call's return value (a negative errno on failure).",
    ),
    args: field(array(xenUlong, 6), "The call's arguments."),
  },
);
