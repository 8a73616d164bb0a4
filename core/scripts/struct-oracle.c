/*
 * struct-oracle.c -- hvkit's own C declarations of the common Xen public ABI structs that
 * core/src/abi/*.ts defines, compiled by gcc to obtain the authoritative sizeof/offsetof
 * values for each data model (see gen-struct-golden.sh). The arch's parts and structs
 * come from the arch package's scripts/struct-oracle-arch.h.
 *
 * Written for hvkit from the field lists of Xen's public headers (xen.h,
 * event_channel.h, grant_table.h, memory.h, sched.h, vcpu.h, version.h, callback.h,
 * domctl.h, sysctl.h, io/ring.h, io/blkif.h, io/console.h, io/xs_wire.h). Only
 * the layout matters here: member names match the hvkit definitions, so that a field
 * missing on either side is a compile error.
 *
 * Compile-only, freestanding: nothing is linked or run. The layout values are emitted
 * into the assembler output as marker lines by oracle_emit() and parsed by the script.
 * The list of fields to emit (struct-oracle-fields.h) is generated from the hvkit
 * definitions; the values all come from gcc.
 */
#include <stddef.h>
#include <stdint.h>

/* ---- the arch's part ----------------------------------------------------------------
 * struct-oracle-arch.h comes from the arch package (its scripts/ folder, on the include
 * path). It defines what Xen's common headers leave to the arch, as the arch's data model
 * does in TypeScript:
 *   o_handle      XEN_GUEST_HANDLE(T)          o_pfn       xen_pfn_t
 *   o_ulong_x     xen_ulong_t                  o_callback  xen_callback_t
 *   O_LEGACY_VCPUS  XEN_LEGACY_MAX_VCPUS
 *   O_WC_SEC_HI_IN_ARCH  defined when wc_sec_hi lives in struct arch_shared_info
 *   struct arch_vcpu_info, struct arch_shared_info, struct xen_arch_domainconfig
 * and declares every other struct the data model lists (its `structs`). */
#include "struct-oracle-arch.h"

/* 2-level event channels: BITS_PER_EVTCHN_WORD words of xen_ulong_t. */
#define O_EVTCHN_WORDS (sizeof(o_ulong_x) * 8)

/* ---- xen.h ------------------------------------------------------------------------- */
struct vcpu_time_info {
  uint32_t version, pad0; uint64_t tsc_timestamp, system_time;
  uint32_t tsc_to_system_mul; int8_t tsc_shift; uint8_t flags; uint8_t pad1[2];
};
struct vcpu_info {
  uint8_t evtchn_upcall_pending, evtchn_upcall_mask; o_ulong_x evtchn_pending_sel;
  struct arch_vcpu_info arch; struct vcpu_time_info time;
};
struct shared_info {
  struct vcpu_info vcpu_info[O_LEGACY_VCPUS];
  o_ulong_x evtchn_pending[O_EVTCHN_WORDS];
  o_ulong_x evtchn_mask[O_EVTCHN_WORDS];
  uint32_t wc_version, wc_sec, wc_nsec;
#if !defined(O_WC_SEC_HI_IN_ARCH)
  uint32_t wc_sec_hi;
#endif
  struct arch_shared_info arch;
};
struct start_info {
  char magic[32]; unsigned long nr_pages, shared_info; uint32_t flags;
  o_pfn store_mfn; uint32_t store_evtchn;
  union {
    struct { o_pfn mfn; uint32_t evtchn; } domU;
    struct { uint32_t info_off, info_size; } dom0;
  } console;
  unsigned long pt_base, nr_pt_frames, mfn_list, mod_start, mod_len;
  char cmd_line[1024];
  unsigned long first_p2m_pfn, nr_p2m_frames;
};
struct mmu_update { uint64_t ptr, val; };
struct mmuext_op {
  unsigned int cmd;
  union { o_pfn mfn; unsigned long linear_addr; } arg1;
  union { unsigned int nr_ents; o_handle vcpumask; o_pfn src_mfn; } arg2;
};
struct multicall_entry { o_ulong_x op, result; o_ulong_x args[6]; };

/* ---- sched.h, version.h, callback.h ------------------------------------------------ */
struct sched_shutdown { unsigned int reason; };
struct sched_poll { o_handle ports; unsigned int nr_ports; uint64_t timeout; };
struct sched_remote_shutdown { uint16_t domain_id; unsigned int reason; };
struct xen_extraversion { char extraversion[16]; };
struct xen_compile_info { char compiler[64], compile_by[16], compile_domain[32], compile_date[32]; };
struct xen_capabilities_info { char capabilities[1024]; };
struct xen_changeset_info { char changeset[64]; };
struct xen_platform_parameters { o_ulong_x virt_start; };
struct xen_feature_info { uint32_t submap_idx, submap; };
struct callback_register { uint16_t type, flags; o_callback address; };
struct callback_unregister { uint16_t type, _unused; };

/* ---- memory.h, vcpu.h -------------------------------------------------------------- */
struct xen_memory_reservation {
  o_handle extent_start; o_ulong_x nr_extents; unsigned int extent_order, mem_flags; uint16_t domid;
};
struct xen_add_to_physmap { uint16_t domid, size; unsigned int space; o_ulong_x idx; o_pfn gpfn; };
struct xen_add_to_physmap_batch {
  uint16_t domid, space, size; union { uint16_t foreign_domid; } u; o_handle idxs, gpfns, errs;
};
struct xen_memory_map { unsigned int nr_entries; o_handle buffer; };
struct xen_machphys_mapping { o_ulong_x v_start, v_end, max_mfn; };
struct vcpu_runstate_info { int state; uint64_t state_entry_time; uint64_t time[4]; };
struct vcpu_set_periodic_timer { uint64_t period_ns; };
struct vcpu_set_singleshot_timer { uint64_t timeout_abs_ns; uint32_t flags; };
struct vcpu_register_vcpu_info { uint64_t mfn; uint32_t offset, rsvd; };

/* ---- event_channel.h --------------------------------------------------------------- */
struct evtchn_alloc_unbound { uint16_t dom, remote_dom; uint32_t port; };
struct evtchn_bind_interdomain { uint16_t remote_dom; uint32_t remote_port, local_port; };
struct evtchn_bind_virq { uint32_t virq, vcpu, port; };
struct evtchn_bind_ipi { uint32_t vcpu, port; };
struct evtchn_bind_vcpu { uint32_t port, vcpu; };
struct evtchn_close { uint32_t port; };
struct evtchn_send { uint32_t port; };
struct evtchn_unmask { uint32_t port; };
struct evtchn_status {
  uint16_t dom; uint32_t port; uint32_t status, vcpu;
  union {
    struct { uint16_t dom; } unbound;
    struct { uint16_t dom; uint32_t port; } interdomain;
    uint32_t pirq, virq;
  } u;
};

/* ---- grant_table.h ----------------------------------------------------------------- */
struct grant_entry_v1 { uint16_t flags, domid; uint32_t frame; };
struct grant_entry_header { uint16_t flags, domid; };
union grant_entry_v2 {
  struct grant_entry_header hdr;
  struct { struct grant_entry_header hdr; uint32_t pad0; uint64_t frame; } full_page;
  struct { struct grant_entry_header hdr; uint16_t page_off, length; uint64_t frame; } sub_page;
  struct { struct grant_entry_header hdr; uint16_t trans_domid, pad0; uint32_t gref; } transitive;
  uint32_t __spacer[4];
};
struct gnttab_map_grant_ref {
  uint64_t host_addr; uint32_t flags, ref; uint16_t dom; int16_t status; uint32_t handle;
  uint64_t dev_bus_addr;
};
struct gnttab_unmap_grant_ref { uint64_t host_addr, dev_bus_addr; uint32_t handle; int16_t status; };
struct gnttab_setup_table { uint16_t dom; uint32_t nr_frames; int16_t status; o_handle frame_list; };
struct gnttab_query_size { uint16_t dom; uint32_t nr_frames, max_nr_frames; int16_t status; };
struct gnttab_copy_ptr { union { uint32_t ref; o_pfn gmfn; } u; uint16_t domid, offset; };
struct gnttab_copy { struct gnttab_copy_ptr source, dest; uint16_t len, flags; int16_t status; };

/* ---- io/ring.h, io/blkif.h, io/console.h, io/xs_wire.h ----------------------------- */
struct sring_header {
  uint32_t req_prod, req_event, rsp_prod, rsp_event;
  union {
    struct { uint8_t smartpoll_active; } netif;
    struct { uint8_t msg; } tapif_user;
    uint8_t pvt_pad[4];
  } pvt;
  uint8_t __pad[44];
};
struct blkif_request_segment { uint32_t gref; uint8_t first_sect, last_sect; };
struct blkif_request {
  uint8_t operation, nr_segments; uint16_t handle; uint64_t id, sector_number;
  struct blkif_request_segment seg[11];
};
struct blkif_response { uint64_t id; uint8_t operation; int16_t status; };
union blkif_sring_entry { struct blkif_request req; struct blkif_response rsp; };
struct xencons_interface {
  char in[1024]; char out[2048]; uint32_t in_cons, in_prod, out_cons, out_prod; uint8_t connection;
};
struct xenstore_domain_interface {
  char req[1024], rsp[1024]; uint32_t req_cons, req_prod, rsp_cons, rsp_prod;
  uint32_t server_features, connection, error, evtchn_port;
};
struct xsd_sockmsg { uint32_t type, req_id, tx_id, len; };

/* ---- event_channel.h (reset, FIFO ABI), grant_table.h and memory.h: the rest -------- */
struct evtchn_reset { uint16_t dom; };
struct evtchn_init_control {
  uint64_t control_gfn; uint32_t offset, vcpu; uint8_t link_bits; uint8_t _pad[7];
};
struct evtchn_expand_array { uint64_t array_gfn; };
struct evtchn_set_priority { uint32_t port, priority; };
struct gnttab_unmap_and_replace { uint64_t host_addr, new_addr; uint32_t handle; int16_t status; };
struct gnttab_transfer { o_pfn mfn; uint16_t domid; uint32_t ref; int16_t status; };
struct gnttab_set_version { uint32_t version; };
struct gnttab_get_version { uint16_t dom, pad; uint32_t version; };
struct gnttab_get_status_frames { uint32_t nr_frames; uint16_t dom; int16_t status; o_handle frame_list; };
struct gnttab_swap_grant_ref { uint32_t ref_a, ref_b; int16_t status; };
struct xen_memory_exchange {
  struct xen_memory_reservation in, out; o_ulong_x nr_exchanged;
};

/* ---- domctl.h and sysctl.h (Xen 4.19; the tools' structs) ----------------------------
 * uint64_aligned_t and XEN_GUEST_HANDLE_64 are 8 bytes, 8-aligned on every model. The
 * arch domain config (struct xen_arch_domainconfig) is the arch header's. getmemlist is
 * the layout domctl.h had until Xen 4.10. */
typedef uint64_t o_u64a __attribute__((aligned(8)));
struct xen_domctl_createdomain {
  uint32_t ssidref; uint8_t handle[16]; uint32_t flags, iommu_opts, max_vcpus, max_evtchn_port;
  int32_t max_grant_frames, max_maptrack_frames;
  uint32_t grant_opts, altp2m_opts, vmtrace_size, cpupool_id;
  struct xen_arch_domainconfig arch;
};
struct xen_domctl_getdomaininfo {
  uint16_t domain, pad1; uint32_t flags;
  o_u64a tot_pages, max_pages, outstanding_pages, shr_pages, paged_pages, shared_info_frame, cpu_time;
  uint32_t nr_online_vcpus, max_vcpu_id, ssidref; uint8_t handle[16]; uint32_t cpupool;
  uint8_t gpaddr_bits; uint8_t pad2[7];
  struct xen_arch_domainconfig arch_config;
};
struct xen_domctl_shadow_op_stats { uint32_t fault_count, dirty_count; };
struct xen_domctl_shadow_op {
  uint32_t op, mode, mb; o_u64a dirty_bitmap; o_u64a pages; struct xen_domctl_shadow_op_stats stats;
};
struct xen_domctl_max_mem { o_u64a max_memkb; };
struct xen_domctl_vcpucontext { uint32_t vcpu; o_u64a ctxt; };
struct xen_domctl_getvcpuinfo {
  uint32_t vcpu; uint8_t online, blocked, running; o_u64a cpu_time; uint32_t cpu;
};
struct xen_domctl_max_vcpus { uint32_t max; };
struct xen_domctl_setdomainhandle { uint8_t handle[16]; };
struct xen_domctl_setdebugging { uint8_t enable; };
struct xen_domctl_address_size { uint32_t size; };
struct xen_domctl_getmemlist { o_u64a max_pfns, start_pfn, buffer, num_pfns; };
union xen_domctl_u {
  struct xen_domctl_createdomain createdomain;
  struct xen_domctl_getdomaininfo getdomaininfo;
  struct xen_domctl_getmemlist getmemlist;
  struct xen_domctl_shadow_op shadow_op;
  struct xen_domctl_max_mem max_mem;
  struct xen_domctl_vcpucontext vcpucontext;
  struct xen_domctl_getvcpuinfo getvcpuinfo;
  struct xen_domctl_max_vcpus max_vcpus;
  struct xen_domctl_setdomainhandle setdomainhandle;
  struct xen_domctl_setdebugging setdebugging;
  struct xen_domctl_address_size address_size;
  uint8_t pad[128];
};
struct xen_domctl {
  uint32_t cmd, interface_version; uint16_t domain; uint16_t _pad[3]; union xen_domctl_u u;
};
struct xen_sysctl_physinfo {
  uint32_t threads_per_core, cores_per_socket, nr_cpus, max_cpu_id, nr_nodes, max_node_id;
  uint32_t cpu_khz, capabilities, arch_capabilities, pad;
  o_u64a total_pages, free_pages, scrub_pages, outstanding_pages, max_mfn;
  uint32_t hw_cap[8];
};
struct xen_sysctl_getdomaininfolist {
  uint16_t first_domain; uint32_t max_domains; o_u64a buffer; uint32_t num_domains;
};
union xen_sysctl_u {
  struct xen_sysctl_physinfo physinfo;
  struct xen_sysctl_getdomaininfolist getdomaininfolist;
  uint8_t pad[128];
};
struct xen_sysctl { uint32_t cmd, interface_version; union xen_sysctl_u u; };

/* ---- emission ---------------------------------------------------------------------- */
/* "@@S tag size align" and "@@F tag path offset size" lines in the .s output. */
#define O_STRUCT(kw, tag)                                                              \
  __asm__ volatile("\n@@S " #tag " %c0 %c1" ::"i"(sizeof(kw tag)), "i"(_Alignof(kw tag)));
#define O_FIELD(kw, tag, cpath, path)                                                  \
  __asm__ volatile("\n@@F " #tag " " path " %c0 %c1" ::"i"(offsetof(kw tag, cpath)),    \
                   "i"(sizeof(((kw tag *)0)->cpath)));

void oracle_emit(void) {
#include "struct-oracle-fields.h"
}
