/**
 * The numbers of Xen's public ABI that every arch shares: hypercall numbers, sub-operation
 * numbers, flag values. They are wire values a guest puts in registers and structs, so
 * they never change; each enum cites the public header it comes from
 * (`xen/include/public/` in xen-project/xen). Member names keep Xen's own spelling
 * (`Hypercall.console_io`, `SchedOp.shutdown`) so a reader can grep the headers for them.
 *
 * Shutdown reasons are {@link ShutdownReason} (domain.ts) and error numbers are
 * {@link Errno} (errno.ts); they are not repeated here.
 *
 * @module
 */

/**
 * Hypercall numbers (`__HYPERVISOR_*`, xen.h). The guest places one in the arch's
 * hypercall-number register (or the hypercall page stub does); anything not in the
 * machine's table returns −ENOSYS.
 */
export enum Hypercall {
  /** Install the virtual IDT (x86 PV). */
  set_trap_table = 0,
  /** Batched, validated page-table entry writes (x86 PV). */
  mmu_update = 1,
  /** Install a new GDT from guest frames (x86 PV). */
  set_gdt = 2,
  /** Set the kernel stack used on ring transitions (x86 PV). */
  stack_switch = 3,
  /** Register event and failsafe callbacks (x86 PV, legacy form of callback_op). */
  set_callbacks = 4,
  /** Set or clear CR0.TS lazily (x86 PV). */
  fpu_taskswitch = 5,
  /** Old sched_op with an integer argument (compat since interface 0x00030101). */
  sched_op_compat = 6,
  /** Platform (hardware) control for the control domain; once `dom0_op`. */
  platform_op = 7,
  /** Write a debug register (x86). */
  set_debugreg = 8,
  /** Read a debug register (x86). */
  get_debugreg = 9,
  /** Write one segment descriptor in a GDT/LDT frame (x86 PV). */
  update_descriptor = 10,
  /** Reservation, physmap and memory-map operations ({@link MemoryOp}). */
  memory_op = 12,
  /** Several hypercalls in one trap. */
  multicall = 13,
  /** Write the PTE that maps one virtual address (x86 PV). */
  update_va_mapping = 14,
  /** Arm the single-shot timer (absolute system time in ns). */
  set_timer_op = 15,
  /** Old event_channel_op taking one struct (compat since 0x00030202). */
  event_channel_op_compat = 16,
  /** Version and feature queries ({@link XenVersionOp}). */
  xen_version = 17,
  /** Hypervisor console write/read ({@link ConsoleIoCmd}). */
  console_io = 18,
  /** Old physdev_op taking one struct (compat since 0x00030202). */
  physdev_op_compat = 19,
  /** Grant-table operations ({@link GrantTableOp}). */
  grant_table_op = 20,
  /** Enable or disable a VM assist ({@link VmAssistCmd}, {@link VmAssistType}). */
  vm_assist = 21,
  /** update_va_mapping in another domain's address space (x86 PV, privileged). */
  update_va_mapping_otherdomain = 22,
  /** Return from a bounce frame (x86 PV only). */
  iret = 23,
  /** Per-vCPU operations ({@link VcpuOp}). */
  vcpu_op = 24,
  /** Set the FS/GS bases (x86_64 PV only). */
  set_segment_base = 25,
  /** Extended MMU operations: pin, new base pointer, flushes ({@link MmuextCmd}). */
  mmuext_op = 26,
  /** XSM (Flask) policy operations. */
  xsm_op = 27,
  /** NMI callback registration. */
  nmi_op = 28,
  /** Scheduler operations ({@link SchedOp}). */
  sched_op = 29,
  /** Register or unregister callbacks ({@link CallbackOp}, {@link CallbackType}). */
  callback_op = 30,
  /** Profiling (dropped in Xen 4.22). */
  xenoprof_op = 31,
  /** Event-channel operations ({@link EventChannelOp}). */
  event_channel_op = 32,
  /** Physical device operations (IRQs, I/O ports). */
  physdev_op = 33,
  /** HVM guest operations. */
  hvm_op = 34,
  /** System-wide control for the control domain. */
  sysctl = 35,
  /** Per-domain control for the control domain (the toolstack's interface). */
  domctl = 36,
  /** kexec / crash-kernel operations. */
  kexec_op = 37,
  /** Transcendent memory (removed; never implemented by hvkit). */
  tmem_op = 38,
  /** Argo inter-domain messaging. */
  argo_op = 39,
  /** Performance-monitoring unit virtualization. */
  xenpmu_op = 40,
  /** Device-model operations. */
  dm_op = 41,
  /** Hypervisor filesystem. */
  hypfs_op = 42,
  /** First arch-specific number (48–55 are reserved for arches). */
  arch_0 = 48,
  /** Arch-specific 1 (x86: mca). */
  arch_1 = 49,
  /** Arch-specific 2 (x86: paging_domctl_cont). */
  arch_2 = 50,
  /** Arch-specific 3. */
  arch_3 = 51,
  /** Arch-specific 4. */
  arch_4 = 52,
  /** Arch-specific 5. */
  arch_5 = 53,
  /** Arch-specific 6. */
  arch_6 = 54,
  /** Last arch-specific number. */
  arch_7 = 55,
}

/**
 * The size of the hypercall table: numbers at or above it are out of range (−ENOSYS).
 * Xen's table has 64 slots (NR_hypercalls).
 */
export const NR_HYPERCALLS = 64;

/** `console_io` commands (`CONSOLEIO_*`, xen.h). */
export enum ConsoleIoCmd {
  /** Write `count` bytes from the buffer to the hypervisor console. Returns 0. */
  write = 0,
  /** Read up to `count` bytes of console input. Returns the number of bytes read. */
  read = 1,
}

/** `sched_op` commands (`SCHEDOP_*`, sched.h). */
export enum SchedOp {
  /** Give up the CPU voluntarily; the vCPU stays runnable. */
  yield = 0,
  /** Enable event delivery and block until an event is pending. */
  block = 1,
  /** Shut the calling domain down; argument `struct sched_shutdown { u32 reason }`. */
  shutdown = 2,
  /** Block until one of a set of ports is pending, with a timeout. */
  poll = 3,
  /** Shut another domain down (device-model privilege). */
  remote_shutdown = 4,
  /** Record the reason a later shutdown will report, without shutting down. */
  shutdown_code = 5,
  /** Arm, re-arm or disarm a domain watchdog. */
  watchdog = 6,
  /** Temporarily pin the calling vCPU to a physical CPU (hardware domain only). */
  pin_override = 7,
}

/** `xen_version` sub-operations (`XENVER_*`, version.h). */
export enum XenVersionOp {
  /** Returns `major << 16 | minor`; no argument. */
  version = 0,
  /** Writes the extra-version string (`char[16]`). */
  extraversion = 1,
  /** Writes `xen_compile_info` (compiler[64], by[16], domain[32], date[32]). */
  compile_info = 2,
  /** Writes the capabilities string (`char[1024]`, e.g. `xen-3.0-x86_64`). */
  capabilities = 3,
  /** Writes the changeset string (`char[64]`). */
  changeset = 4,
  /** Writes `xen_platform_parameters { xen_ulong_t virt_start }`. */
  platform_parameters = 5,
  /** Reads `submap_idx`, writes `submap` of `xen_feature_info` ({@link XenFeature}). */
  get_features = 6,
  /** Returns the page size; the argument must be NULL. */
  pagesize = 7,
  /** Writes the domain's 16-byte handle (UUID). */
  guest_handle = 8,
  /** Writes the hypervisor command line (`char[1024]`). */
  commandline = 9,
  /** Variable-length build id (`xen_varbuf`); privileged by default. */
  build_id = 10,
  /** Variable-length form of extraversion. */
  extraversion2 = 11,
  /** Variable-length form of capabilities. */
  capabilities2 = 12,
  /** Variable-length form of changeset. */
  changeset2 = 13,
  /** Variable-length form of commandline; privileged by default. */
  commandline2 = 14,
}

/** Feature bits reported by XENVER_get_features, submap 0 (`XENFEAT_*`, features.h). */
export enum XenFeature {
  /** The guest may write its page tables directly (trapped and emulated). */
  writable_page_tables = 0,
  /** The guest may write its descriptor tables directly. */
  writable_descriptor_tables = 1,
  /** The hypervisor translates guest-physical addresses (no PV p2m needed). */
  auto_translated_physmap = 2,
  /** The guest kernel runs in ring 0. */
  supervisor_mode_kernel = 3,
  /** PAE page directories may live above 4 GiB. */
  pae_pgdir_above_4gb = 4,
  /** mmu_update supports MMU_PT_UPDATE_PRESERVE_AD. */
  mmu_pt_update_preserve_ad = 5,
  /** The highmem assist is available. */
  highmem_assist = 6,
  /** Grant mappings may use the PTE's available bits. */
  gnttab_map_avail_bits = 7,
  /** HVM: events can be delivered through a callback vector. */
  hvm_callback_vector = 8,
  /** HVM: the PV clock is safe to use. */
  hvm_safe_pvclock = 9,
  /** HVM: PIRQs are delivered as event channels. */
  hvm_pirqs = 10,
  /** The domain is the initial (hardware) domain. */
  dom0 = 11,
  /** Grant maps are identity (1:1) mapped. */
  grant_map_identity = 12,
  /** memory_op takes vNUMA node arguments. */
  memory_op_vnode_supported = 13,
  /** Arm: SMCCC is supported. */
  ARM_SMCCC_supported = 14,
  /** x86: the RSDP may be placed anywhere. */
  linux_rsdp_unrestricted = 15,
  /** Guest-physical is not machine address (translated, not 1:1). */
  not_direct_mapped = 16,
  /** Guest-physical addresses are machine addresses (PV, or 1:1 mapped). */
  direct_mapped = 17,
  /** VCPUOP_register_runstate_phys_area is available. */
  runstate_phys_area = 18,
  /** VCPUOP_register_vcpu_time_phys_area is available. */
  vcpu_time_phys_area = 19,
  /** Device models see all MSI-X table writes. */
  dm_msix_all_writes = 20,
}

/** `event_channel_op` commands (`EVTCHNOP_*`, event_channel.h). */
export enum EventChannelOp {
  /** Connect a local port to a remote domain's unbound port. */
  bind_interdomain = 0,
  /** Bind a port to a virtual IRQ ({@link Virq}). */
  bind_virq = 1,
  /** Bind a port to a physical IRQ. */
  bind_pirq = 2,
  /** Close a port. */
  close = 3,
  /** Notify the remote end of a port; argument `struct evtchn_send { u32 port }`. */
  send = 4,
  /** Query a port's state; argument `struct evtchn_status` ({@link EventChannelStatus}). */
  status = 5,
  /** Allocate a port another domain may bind to. */
  alloc_unbound = 6,
  /** Bind a port for inter-vCPU notification. */
  bind_ipi = 7,
  /** Change the vCPU a port notifies. */
  bind_vcpu = 8,
  /** Unmask a port, re-raising it if pending. */
  unmask = 9,
  /** Close all ports of a domain. */
  reset = 10,
  /** FIFO ABI: register a vCPU's control block. */
  init_control = 11,
  /** FIFO ABI: add an event array page. */
  expand_array = 12,
  /** FIFO ABI: set a port's priority. */
  set_priority = 13,
  /** Continuation of reset. */
  reset_cont = 14,
}

/** Port states as EVTCHNOP_status reports them (`EVTCHNSTAT_*`, event_channel.h). */
export enum EventChannelStatus {
  /** Not in use (also reported for reserved port 0). */
  closed = 0,
  /** Allocated, waiting for a remote domain to bind. */
  unbound = 1,
  /** Connected to a port of a remote domain. */
  interdomain = 2,
  /** Bound to a physical IRQ. */
  pirq = 3,
  /** Bound to a virtual IRQ. */
  virq = 4,
  /** Bound for inter-vCPU notification. */
  ipi = 5,
}

/**
 * Virtual IRQs (`VIRQ_*`, xen.h). "Per-vCPU" ones are bound on each vCPU separately,
 * "global" ones once per domain.
 */
export enum Virq {
  /** Per-vCPU: timer deadline reached. */
  timer = 0,
  /** Per-vCPU: dump debug information. */
  debug = 1,
  /** Global: bytes received on the emergency console. */
  console = 2,
  /** Global: exceptional event for some domain (e.g. a crash), to dom0. */
  dom_exc = 3,
  /** Global: trace buffer has records. */
  tbuf = 4,
  /** Global: a domain paused for debugging. */
  debugger = 6,
  /** Per-vCPU: new profiling sample. */
  xenoprof = 7,
  /** Global: bytes received on the console ring. */
  con_ring = 8,
  /** Global: physical CPU state changed. */
  pcpu_state = 9,
  /** Global: a memory event occurred. */
  mem_event = 10,
  /** Per-domain: Argo message notification. */
  argo = 11,
  /** Global: the hypervisor heap is low. */
  enomem = 12,
  /** Per-vCPU: PMC interrupt. */
  xenpmu = 13,
}

/** `grant_table_op` commands (`GNTTABOP_*`, grant_table.h). */
export enum GrantTableOp {
  /** Map a granted frame into the caller's address space. */
  map_grant_ref = 0,
  /** Undo a map_grant_ref. */
  unmap_grant_ref = 1,
  /** Size the grant table and get its frames. */
  setup_table = 2,
  /** Dump the table to the hypervisor console (debug). */
  dump_table = 3,
  /** Transfer a page to another domain. */
  transfer = 4,
  /** Copy between granted frames without mapping them. */
  copy = 5,
  /** Current and maximum grant-table frames. */
  query_size = 6,
  /** Unmap and replace a mapping in one step. */
  unmap_and_replace = 7,
  /** Choose grant-table entry format v1 or v2. */
  set_version = 8,
  /** v2: get the status frames. */
  get_status_frames = 9,
  /** Report the entry format in use. */
  get_version = 10,
  /** Swap two grant entries. */
  swap_grant_ref = 11,
  /** Cache maintenance on granted frames (Arm). */
  cache_flush = 12,
}

/** Grant entry flags (`GTF_*`, grant_table.h): v1 entry {u16 flags, u16 domid, u32 frame}. */
export enum GrantFlags {
  /** Type field value: the entry grants nothing. */
  invalid = 0,
  /** Type: the named domain may map or copy the frame. */
  permit_access = 1,
  /** Type: the named domain may transfer a page to this frame. */
  accept_transfer = 2,
  /** Type: transitive grant (v2). */
  transitive = 3,
  /** The grantee may only map or copy read-only. */
  readonly = 1 << 2,
  /** Set by the hypervisor while the grantee has the frame mapped or copies from it. */
  reading = 1 << 3,
  /** Set by the hypervisor while the grantee has the frame mapped writable or copies to it. */
  writing = 1 << 4,
  /** Cache attribute PWT for the grantee's mapping. */
  PWT = 1 << 5,
  /** Cache attribute PCD. */
  PCD = 1 << 6,
  /** Cache attribute PAT. */
  PAT = 1 << 7,
  /** v2: only a sub-range of the page is granted. */
  sub_page = 1 << 8,
}

/** Mask of the type field of grant entry flags (bits 0–1; GTF_type_mask). */
export const GTF_TYPE_MASK = 3;

/** Per-operation status codes of grant-table operations (`GNTST_*`, grant_table.h). */
export enum GrantStatus {
  /** Success. */
  okay = 0,
  /** General error. */
  general_error = -1,
  /** Unknown domain id. */
  bad_domain = -2,
  /** Unknown or inappropriate grant reference. */
  bad_gntref = -3,
  /** Unknown or inappropriate map handle. */
  bad_handle = -4,
  /** Inappropriate virtual address to map. */
  bad_virt_addr = -5,
  /** Inappropriate device address to unmap. */
  bad_dev_addr = -6,
  /** Out of space in the I/O MMU. */
  no_device_space = -7,
  /** Not enough privilege for the operation. */
  permission_denied = -8,
  /** The page was invalid for the operation. */
  bad_page = -9,
  /** A copy argument crosses a page boundary. */
  bad_copy_arg = -10,
  /** Transfer page address too large. */
  address_too_big = -11,
  /** Not done; try again. */
  eagain = -12,
  /** Out of space (handles etc.). */
  no_space = -13,
}

/**
 * `memory_op` commands (`XENMEM_*`, memory.h). The command word's low 6 bits are the
 * operation; the bits above ({@link MEMOP_EXTENT_SHIFT}) carry a continuation's start
 * extent, which must be 0 for the query operations.
 */
export enum MemoryOp {
  /** Give the domain more memory (extents). */
  increase_reservation = 0,
  /** Return memory to the hypervisor. */
  decrease_reservation = 1,
  /** Returns the highest machine frame number + 1 (`max_page`). */
  maximum_ram_page = 2,
  /** Returns a domain's current page count; argument: a domid. */
  current_reservation = 3,
  /** Returns a domain's maximum page count; argument: a domid. */
  maximum_reservation = 4,
  /** The MFNs holding the machine-to-physical table (x86 PV). */
  machphys_mfn_list = 5,
  /** Populate guest-physical frames. */
  populate_physmap = 6,
  /** Map a special frame (shared_info, grant table) into the physmap. */
  add_to_physmap = 7,
  /** The domain's own memory map (e820 entries). */
  memory_map = 9,
  /** The host's memory map (privileged). */
  machine_memory_map = 10,
  /** Exchange frames for frames with other properties. */
  exchange = 11,
  /** Virtual range and size of the read-only M2P table (x86 PV). */
  machphys_mapping = 12,
  /** Set a domain's memory map (toolstack). */
  set_memory_map = 13,
  /** Returns the highest guest frame number in use; argument: a domid. */
  maximum_gpfn = 14,
  /** Remove a frame from the physmap. */
  remove_from_physmap = 15,
  /** Set the populate-on-demand target. */
  set_pod_target = 16,
  /** Get the populate-on-demand target. */
  get_pod_target = 17,
  /** Pages freed by sharing. */
  get_sharing_freed_pages = 18,
  /** Pages currently shared. */
  get_sharing_shared_pages = 19,
  /** Paging (swap) operations. */
  paging_op = 20,
  /** Memory access (mem_access) operations. */
  access_op = 21,
  /** Memory sharing operations (nominate, share, fork). */
  sharing_op = 22,
  /** Batched add_to_physmap. */
  add_to_physmap_batch = 23,
  /** Claim pages for a domain being built. */
  claim_pages = 24,
  /** 32-bit compat view of machphys_mfn_list. */
  machphys_compat_mfn_list = 25,
  /** vNUMA topology. */
  get_vnumainfo = 26,
  /** Reserved device memory ranges. */
  reserved_device_memory_map = 27,
  /** Map a hypervisor resource (grant table, ioreq pages). */
  acquire_resource = 28,
}

/** Bits of the memory_op command word that select the operation. */
export const MEMOP_CMD_MASK = 0x3f;
/** Shift of the continuation start extent in the memory_op command word. */
export const MEMOP_EXTENT_SHIFT = 6;

/** `vcpu_op` commands (`VCPUOP_*`, vcpu.h). */
export enum VcpuOp {
  /** Set a vCPU's initial register state (before it is up). */
  initialise = 0,
  /** Bring an initialised vCPU up. */
  up = 1,
  /** Take a vCPU down. */
  down = 2,
  /** Returns 1 if the vCPU is up. */
  is_up = 3,
  /** Copy the vCPU's runstate information. */
  get_runstate_info = 4,
  /** Register guest memory the hypervisor keeps runstate in. */
  register_runstate_memory_area = 5,
  /** Set the periodic timer period. */
  set_periodic_timer = 6,
  /** Stop the periodic timer. */
  stop_periodic_timer = 7,
  /** Arm the single-shot timer. */
  set_singleshot_timer = 8,
  /** Stop the single-shot timer. */
  stop_singleshot_timer = 9,
  /** Move the vcpu_info out of shared_info to a guest-chosen place. */
  register_vcpu_info = 10,
  /** Send an NMI to a vCPU. */
  send_nmi = 11,
  /** The physical CPU id (privileged). */
  get_physid = 12,
  /** Register guest memory for vcpu_time_info. */
  register_vcpu_time_memory_area = 13,
  /** Runstate area by physical address. */
  register_runstate_phys_area = 14,
  /** vcpu_time_info area by physical address. */
  register_vcpu_time_phys_area = 15,
}

/**
 * mmu_update commands, carried in the low 2 bits of each request's `ptr` (`MMU_*`, xen.h).
 */
export enum MmuUpdateCmd {
  /** Checked `*ptr = val`; `ptr` is the machine address of a page-table entry. */
  normal_pt_update = 0,
  /** Update the M2P entry of machine frame `ptr >> PAGE_SHIFT` to `val`. */
  machphys_update = 1,
  /** As normal_pt_update, but keep the entry's accessed/dirty bits. */
  pt_update_preserve_ad = 2,
  /** As normal_pt_update, without translating `val` through the foreign domain. */
  pt_update_no_translate = 3,
}

/** mmuext_op commands (`MMUEXT_*`, xen.h). */
export enum MmuextCmd {
  /** Pin a frame as an L1 page table. */
  pin_l1_table = 0,
  /** Pin a frame as an L2 page table. */
  pin_l2_table = 1,
  /** Pin a frame as an L3 page table. */
  pin_l3_table = 2,
  /** Pin a frame as an L4 page table. */
  pin_l4_table = 3,
  /** Unpin a page table of any level. */
  unpin_table = 4,
  /** Switch the kernel page-table base (CR3). */
  new_baseptr = 5,
  /** Flush this vCPU's TLB. */
  tlb_flush_local = 6,
  /** Invalidate one address in this vCPU's TLB. */
  invlpg_local = 7,
  /** Flush the TLBs of a set of vCPUs. */
  tlb_flush_multi = 8,
  /** Invalidate one address on a set of vCPUs. */
  invlpg_multi = 9,
  /** Flush every vCPU's TLB. */
  tlb_flush_all = 10,
  /** Invalidate one address on every vCPU. */
  invlpg_all = 11,
  /** Write back and invalidate caches. */
  flush_cache = 12,
  /** Install an LDT. */
  set_ldt = 13,
  /** Switch the user page-table base (x86_64). */
  new_user_baseptr = 15,
  /** Zero a frame. */
  clear_page = 16,
  /** Copy one frame to another. */
  copy_page = 17,
  /** Flush caches on all CPUs. */
  flush_cache_global = 18,
  /** Mark a superpage. */
  mark_super = 19,
  /** Unmark a superpage. */
  unmark_super = 20,
}

/** vm_assist commands (`VMASST_CMD_*`, xen.h). */
export enum VmAssistCmd {
  /** Turn the assist on. */
  enable = 0,
  /** Turn the assist off. */
  disable = 1,
}

/**
 * vm_assist types (`VMASST_TYPE_*`, xen.h). Which are valid depends on the arch and the
 * kind of guest ({@link ArchPlugin.vmAssistTypes}).
 */
export enum VmAssistType {
  /** x86/32: emulate full 4 GiB segment limits. */
  "4gb_segments" = 0,
  /** x86/32: trap (vector 15) whenever that emulation is used. */
  "4gb_segments_notify" = 1,
  /** x86: the guest may write its L1 page-table entries directly. */
  writable_pagetables = 2,
  /** x86 PAE: page directories may live above 4 GiB. */
  pae_extended_cr3 = 3,
  /** x86: sane virtual IOPL behaviour through iret and bounce frames. */
  architectural_iopl = 4,
  /** All: set XEN_RUNSTATE_UPDATE while updating the runstate area. */
  runstate_update_flag = 5,
  /** x86_64: strictly hide the M2P table from user mode. */
  m2p_strict = 32,
}

/**
 * physdev_op commands (`PHYSDEVOP_*`, physdev.h). hvkit answers the ones its handlers
 * implement; the others are −ENOSYS, as Xen's fall-through to pci_physdev_op answers an
 * unknown command. The full list names the calls in traces.
 */
export enum PhysdevOp {
  /** Obsolete since interface 0x00030202: PIRQ-bound ports were unmasked. */
  IRQ_UNMASK_NOTIFY = 4,
  /** Query an IRQ line's status (`struct physdev_irq_status_query`). */
  irq_status_query = 5,
  /** x86 PV: set the calling vCPU's virtual IOPL (`struct physdev_set_iopl`, uint32 iopl ≤ 3). */
  set_iopl = 6,
  /** x86 PV: set the calling vCPU's I/O-port bitmap. */
  set_iobitmap = 7,
  /** Read an IO-APIC register. */
  apic_read = 8,
  /** Write an IO-APIC register. */
  apic_write = 9,
  /** Allocate a physical upcall vector for an IRQ line. */
  alloc_irq_vector = 10,
  /** Free an IRQ line's upcall vector. */
  free_irq_vector = 11,
  /** End of interrupt for a PIRQ (`struct physdev_eoi`). */
  eoi = 12,
  /** Map a GSI or MSI to a PIRQ. */
  map_pirq = 13,
  /** Undo map_pirq. */
  unmap_pirq = 14,
  /** Report a PCI device added. */
  manage_pci_add = 15,
  /** Report a PCI device removed. */
  manage_pci_remove = 16,
  /** Register the page Xen marks PIRQs needing EOI in (changes eoi's semantics). */
  pirq_eoi_gmfn_v1 = 17,
  /** Restore a device's MSI state. */
  restore_msi = 19,
  /** manage_pci_add with the virtual-function fields. */
  manage_pci_add_ext = 20,
  /** Set up a GSI's trigger mode and polarity. */
  setup_gsi = 21,
  /** A free PIRQ of a type. */
  get_free_pirq = 23,
  /** Report an MMCONFIG area reserved by the firmware. */
  pci_mmcfg_reserved = 24,
  /** Report a PCI device added (segment-aware). */
  pci_device_add = 25,
  /** Report a PCI device removed (segment-aware). */
  pci_device_remove = 26,
  /** restore_msi, segment-aware. */
  restore_msi_ext = 27,
  /** As pirq_eoi_gmfn_v1 without changing eoi's semantics. */
  pirq_eoi_gmfn_v2 = 28,
  /** USB debug-port operations. */
  dbgp_op = 29,
  /** Prepare a device's MSI-X table for use. */
  prepare_msix = 30,
  /** Release a device's MSI-X table. */
  release_msix = 31,
}

/** Callback types for callback_op (`CALLBACKTYPE_*`, callback.h). */
export enum CallbackType {
  /** Event upcall entry. */
  event = 0,
  /** Entry when returning to the guest fails (bad segment, etc.). */
  failsafe = 1,
  /** x86_64: `syscall` entry from 64-bit user mode. */
  syscall = 2,
  /** x86: deprecated sysenter entry (the number of x86_32's `sysenter`). */
  sysenter_deprecated = 3,
  /** NMI entry. */
  nmi = 4,
  /** x86_64: `sysenter` entry from 32-bit user mode. */
  sysenter = 5,
  /** x86_64: `syscall` entry from 32-bit user mode. */
  syscall32 = 7,
}

/** callback_op commands (`CALLBACKOP_*`, callback.h). */
export enum CallbackOp {
  /** Register a callback (`struct callback_register`). */
  register = 0,
  /** Unregister a callback (`struct callback_unregister`). */
  unregister = 1,
}

/** Callback flags (`CALLBACKF_*`, callback.h). */
export enum CallbackFlags {
  /** Mask events on entry to the callback. */
  mask_events = 1 << 0,
}

/** Xenstore wire message types (`enum xsd_sockmsg_type`, io/xs_wire.h). */
export enum XenstoreMessageType {
  /** Debug/control command (also called XS_CONTROL). */
  DEBUG = 0,
  /** List a node's children. */
  DIRECTORY = 1,
  /** Read a node's value. */
  READ = 2,
  /** Read a node's permissions. */
  GET_PERMS = 3,
  /** Register a watch. */
  WATCH = 4,
  /** Remove a watch. */
  UNWATCH = 5,
  /** Start a transaction. */
  TRANSACTION_START = 6,
  /** Commit or abort a transaction. */
  TRANSACTION_END = 7,
  /** Introduce a domain to xenstored (privileged). */
  INTRODUCE = 8,
  /** Forget a domain (privileged). */
  RELEASE = 9,
  /** A domain's home path. */
  GET_DOMAIN_PATH = 10,
  /** Write a node. */
  WRITE = 11,
  /** Create a node. */
  MKDIR = 12,
  /** Remove a node and its children. */
  RM = 13,
  /** Set a node's permissions. */
  SET_PERMS = 14,
  /** Asynchronous watch event (server to client). */
  WATCH_EVENT = 15,
  /** Error reply; the payload is the errno name. */
  ERROR = 16,
  /** Whether a domain has been introduced. */
  IS_DOMAIN_INTRODUCED = 17,
  /** Resume a domain's connection. */
  RESUME = 18,
  /** Let a domain act for another (device models). */
  SET_TARGET = 19,
  /** Remove all watches of the connection (20, XS_RESTRICT, was removed). */
  RESET_WATCHES = 21,
  /** Part of a large directory listing. */
  DIRECTORY_PART = 22,
  /** Read a server feature word. */
  GET_FEATURE = 23,
  /** Set a server feature word. */
  SET_FEATURE = 24,
  /** Read a quota. */
  GET_QUOTA = 25,
  /** Set a quota. */
  SET_QUOTA = 26,
  /** Guaranteed never to be a valid type. */
  INVALID = 0xffff,
}

/** Bits of the xenstore ring's `server_features` word (`XENSTORE_SERVER_FEATURE_*`). */
export enum XenstoreServerFeature {
  /** The server supports ring reconnection. */
  RECONNECTION = 1,
  /** The server reports errors in the ring's `error` field. */
  ERROR = 2,
  /** XS_WATCH accepts a depth parameter. */
  WATCHDEPTH = 4,
  /** DOMID_ANY is accepted where a domid is. */
  DOMID_ANY = 8,
}

/** Values of the xenstore ring's `connection` field. */
export enum XenstoreConnection {
  /** The steady state. */
  CONNECTED = 0,
  /** A reconnection is in progress. */
  RECONNECT = 1,
}

/** Values of the xenstore ring's `error` field (`XENSTORE_ERROR_*`). */
export enum XenstoreError {
  /** No error. */
  NONE = 0,
  /** Communication problem. */
  COMM = 1,
  /** Invalid ring index. */
  RINGIDX = 2,
  /** Protocol violation (payload too long). */
  PROTO = 3,
}

/** Size of each xenstore ring (`XENSTORE_RING_SIZE`). */
export const XENSTORE_RING_SIZE = 1024;
/** Largest xenstore message payload (`XENSTORE_PAYLOAD_MAX`). */
export const XENSTORE_PAYLOAD_MAX = 4096;

/** Front/back-end connection states kept in xenstore (`enum xenbus_state`, io/xenbus.h). */
export enum XenbusState {
  /** Not yet known. */
  Unknown = 0,
  /** Setting up. */
  Initialising = 1,
  /** Waiting for the other end's details (hotplug). */
  InitWait = 2,
  /** Set up, waiting to connect. */
  Initialised = 3,
  /** Connected. */
  Connected = 4,
  /** Closing down. */
  Closing = 5,
  /** Closed. */
  Closed = 6,
  /** Reconfiguring. */
  Reconfiguring = 7,
  /** Reconfigured. */
  Reconfigured = 8,
}

/**
 * platform_op commands (`XENPF_*`, platform.h): the control domain's interface to the
 * hardware (time, firmware, CPUs, microcode). Each is the `cmd` word that starts
 * `struct xen_platform_op`, whose `interface_version` is {@link XENPF_INTERFACE_VERSION}.
 */
export enum PlatformOp {
  /** Set the wallclock (32-bit seconds; XENPF_settime before interface 0x00040600). */
  settime32 = 17,
  /** Add an MTRR range. */
  add_memtype = 31,
  /** Remove an MTRR range. */
  del_memtype = 32,
  /** Read an MTRR range. */
  read_memtype = 33,
  /** Load CPU microcode. */
  microcode_update = 35,
  /** Work around a platform bug (IO-APIC ack mode and the like). */
  platform_quirk = 39,
  /** A CPU's version (family, model, stepping). */
  get_cpu_version = 48,
  /** Call an EFI runtime service. */
  efi_runtime_call = 49,
  /** Firmware facts: EDD, EFI, VGA console, the boot video mode. */
  firmware_info = 50,
  /** Enter an ACPI sleep state. */
  enter_acpi_sleep = 51,
  /** Change a CPU's frequency. */
  change_freq = 52,
  /** Per-CPU idle time. */
  getidletime = 53,
  /** Hand ACPI processor power-management facts (C/P/T states) to Xen. */
  set_processor_pminfo = 54,
  /** A physical CPU's identity and state. */
  get_cpuinfo = 55,
  /** Bring a physical CPU online. */
  cpu_online = 56,
  /** Take a physical CPU offline. */
  cpu_offline = 57,
  /** Hot-add a physical CPU. */
  cpu_hotadd = 58,
  /** Hot-add memory. */
  mem_hotadd = 59,
  /** Core parking policy. */
  core_parking = 60,
  /** Batched MSR accesses on a CPU. */
  resource_op = 61,
  /** Set the wallclock (64-bit seconds; XENPF_settime from interface 0x00040600). */
  settime64 = 62,
  /** Look up a hypervisor symbol. */
  get_symbol = 63,
  /** The console Xen was given (for the control domain to use). */
  get_dom0_console = 64,
  /** A CPU's microcode revision. */
  get_ucode_revision = 65,
}

/** `xen_platform_op.interface_version` (XENPF_INTERFACE_VERSION, platform.h). */
export const XENPF_INTERFACE_VERSION = 0x03000001;

/** hvm_op commands (`HVMOP_*`, hvm/hvm_op.h). */
export enum HvmOp {
  /** Set an HVM parameter (`HVM_PARAM_*`). */
  set_param = 0,
  /** Read an HVM parameter. */
  get_param = 1,
  /** Set the level of a PCI INTx line (device model). */
  set_pci_intx_level = 2,
  /** Set the level of an ISA IRQ line (device model). */
  set_isa_irq_level = 3,
  /** Route a PCI link to an ISA IRQ (device model). */
  set_pci_link_route = 4,
  /** Flush every vCPU's TLB (the argument must be NULL). */
  flush_tlbs = 5,
  /** A guest page table is about to be torn down (shadow paging hint). */
  pagetable_dying = 9,
  /** The current system time (ns). */
  get_time = 10,
  /** Record a trace record from the guest. */
  xentrace = 11,
  /** Set memory access permissions (mem_access). */
  set_mem_access = 12,
  /** Get memory access permissions. */
  get_mem_access = 13,
  /** The p2m type of a guest frame. */
  get_mem_type = 15,
  /** Set a vCPU's event-channel upcall vector. */
  set_evtchn_upcall_vector = 23,
  /** Send a vm_event request from the guest. */
  guest_request_vm_event = 24,
  /** Alternate p2m operations (`struct xen_hvm_altp2m_op`). */
  altp2m = 25,
}

/** xenpmu_op commands (`XENPMU_*`, pmu.h): the virtual PMU. */
export enum XenpmuOp {
  /** The PMU mode (`XENPMU_MODE_*`); also the PMU interface version. */
  mode_get = 0,
  /** Set the PMU mode (privileged). */
  mode_set = 1,
  /** The PMU features (`XENPMU_FEATURE_*`). */
  feature_get = 2,
  /** Set the PMU features (privileged). */
  feature_set = 3,
  /** Register the vCPU's shared PMU page. */
  init = 4,
  /** Unregister it. */
  finish = 5,
  /** Write the vCPU's LVTPC. */
  lvtpc_set = 6,
  /** Write cached MSR values to the hardware. */
  flush = 7,
}
