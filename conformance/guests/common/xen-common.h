/*
 * The parts of Xen's public ABI whose numbers are the same for a 64-bit and a 32-bit PV
 * guest and whose layouts follow from C's own types (a long or pointer where Xen has
 * unsigned long, xen_pfn_t or a guest handle), shared by both arches' xen.h:
 * - errno values: public/errno.h (Xen's own, equal to Linux's on x86);
 * - DOMID_SELF, SIF_*: public/xen.h; SCHEDOP_*: public/sched.h; CALLBACKOP_register,
 *   CALLBACKTYPE_event: public/callback.h;
 * - EVTCHNOP_*, EVTCHNSTAT_*, the evtchn_* ops: public/event_channel.h; VIRQ_*: xen.h;
 * - GNTTABOP_*, GTF_*, GNTMAP_*, GNTCOPY_*, GNTST_*, the gnttab_* ops: public/grant_table.h
 *   (with xen_pfn_t as unsigned long, handles as pointers: right for both);
 * - XENMEM_*, xen_memory_reservation/exchange, xen_add_to_physmap: public/memory.h;
 * - xencons_interface: public/io/console.h; xenstore ring, xsd_sockmsg, XS_*:
 *   public/io/xs_wire.h;
 * - multicall_entry: public/xen.h; domctl and sysctl: public/domctl.h, sysctl.h;
 * - VCPUOP_*, RUNSTATE_*: public/vcpu.h.
 * Only declarations and thin wrappers over the arch's HYPERCALL (its rt.h).
 */
#ifndef HVKIT_XEN_COMMON_H
#define HVKIT_XEN_COMMON_H

#define HC_event_channel_op 32

/*
 * A pointer stored in a hypercall's struct (a guest handle): the address itself, unless
 * the arch's rt.h says otherwise (PowerPC: a xencomm handle).
 */
#ifndef GUEST_HANDLE
#define GUEST_HANDLE(p) (p)
#endif

/* errno values a hypercall returns negated. */
#define EPERM 1
#define ENOENT 2
#define ESRCH 3
#define ENXIO 6
#define EACCES 13
#define EFAULT 14
#define EBUSY 16
#define EEXIST 17
#define EINVAL 22
#define ENOSPC 28
#define EDOM 33
#define ENOSYS 38
#define ENODATA 61
#define EOPNOTSUPP 95

#define DOMID_SELF 0x7ff0
#define SIF_PRIVILEGED 1
#define SIF_INITDOMAIN 2

/* sched_op and callback_op. */
#define SCHEDOP_yield 0
#define SCHEDOP_block 1
#define SCHEDOP_poll 3
#define CALLBACKOP_register 0
#define CALLBACKTYPE_event 0

/* Event channels. */
#define EVTCHNOP_bind_interdomain 0
#define EVTCHNOP_bind_virq 1
#define EVTCHNOP_close 3
#define EVTCHNOP_send 4
#define EVTCHNOP_status 5
#define EVTCHNOP_alloc_unbound 6
#define EVTCHNOP_bind_ipi 7
#define EVTCHNOP_bind_vcpu 8
#define EVTCHNOP_unmask 9
#define EVTCHNOP_reset 10
#define EVTCHNSTAT_closed 0
#define EVTCHNSTAT_unbound 1
#define EVTCHNSTAT_interdomain 2
#define EVTCHNSTAT_virq 4
#define EVTCHNSTAT_ipi 5
#define VIRQ_TIMER 0
#define VIRQ_DEBUG 1
#define VIRQ_CONSOLE 2
#define VIRQ_DOM_EXC 3
#define VIRQ_ARGO 11
struct evtchn_alloc_unbound { u16 dom, remote_dom; u32 port; };
struct evtchn_bind_interdomain { u16 remote_dom; u16 _pad; u32 remote_port, local_port; };
struct evtchn_bind_virq { u32 virq, vcpu, port; };
struct evtchn_bind_ipi { u32 vcpu, port; };
struct evtchn_bind_vcpu { u32 port, vcpu; };
/* dom and port IN; status, vcpu and the union OUT. */
struct evtchn_status {
    u16 dom; u16 _pad; u32 port, status, vcpu;
    union { struct { u16 dom; } unbound; struct { u16 dom; u16 _p; u32 port; } interdomain; u32 virq; } u;
};

/*
 * The ring protocols' rmb/wmb. x86 is TSO: compiler barriers (as Linux's virt_*mb). An
 * arch with weaker ordering defines barrier() in its rt.h (PowerPC: sync).
 */
#ifndef barrier
#define barrier() asm volatile ("" ::: "memory")
#endif

/* The hypercalls most guests make, as thin wrappers. */
static inline void yield(void) { HYPERCALL(HC_sched_op, SCHEDOP_yield, 0, 0, 0, 0); }
static inline long evtchn_op(int cmd, void *arg) { return HYPERCALL(HC_event_channel_op, cmd, arg, 0, 0, 0); }
static inline long port_op(int cmd, u32 port) { u32 p = port; return evtchn_op(cmd, &p); }
static inline long alloc_unbound(u16 dom, u16 remote, u32 *port)
{
    struct evtchn_alloc_unbound a = { dom, remote, 0xdead };
    long rc = evtchn_op(EVTCHNOP_alloc_unbound, &a);
    *port = a.port;
    return rc;
}
static inline long bind_interdomain(u16 rdom, u32 rport, u32 *port)
{
    struct evtchn_bind_interdomain b = { rdom, 0, rport, 0xdead };
    long rc = evtchn_op(EVTCHNOP_bind_interdomain, &b);
    *port = b.local_port;
    return rc;
}

/*
 * Grant tables (v1). xen_pfn_t is `unsigned long` and a guest handle a pointer, so the
 * same declarations give each guest kind its layout (gnttab_copy: 40 bytes for a 64-bit
 * guest, 24 for a 32-bit one, as Xen's compat_gnttab_copy).
 */
#define HC_grant_table_op 20
#define GNTTABOP_map_grant_ref 0
#define GNTTABOP_unmap_grant_ref 1
#define GNTTABOP_setup_table 2
#define GNTTABOP_transfer 4
#define GNTTABOP_copy 5
#define GNTTABOP_query_size 6
#define GTF_permit_access 1
#define GTF_accept_transfer 2
#define GTF_readonly 4
#define GTF_reading 8
#define GTF_writing 16
#define GTF_transfer_committed 4
#define GTF_transfer_completed 8
#define GTF_sub_page (1 << 8)
#define GNTMAP_device_map 1
#define GNTMAP_host_map 2
#define GNTMAP_readonly 4
#define GNTCOPY_source_gref 1
#define GNTCOPY_dest_gref 2
#define GNTST_okay 0
#define GNTST_general_error (-1)
#define GNTST_bad_domain (-2)
#define GNTST_bad_gntref (-3)
#define GNTST_bad_handle (-4)
#define GNTST_bad_virt_addr (-5)
#define GNTST_bad_dev_addr (-6)
#define GNTST_permission_denied (-8)
#define GNTST_bad_page (-9)
#define GNTST_bad_copy_arg (-10)
struct grant_entry_v1 { u16 flags, domid; u32 frame; };
struct gnttab_setup_table { u16 dom; u32 nr_frames; short status; unsigned long *frame_list; };
struct gnttab_query_size { u16 dom; u32 nr_frames, max_nr_frames; short status; };
struct gnttab_map_grant_ref { u64 host_addr; u32 flags, ref; u16 dom; short status; u32 handle; u64 dev_bus_addr; };
struct gnttab_unmap_grant_ref { u64 host_addr, dev_bus_addr; u32 handle; short status; };
struct gnttab_copy_ptr { union { u32 ref; unsigned long gmfn; } u; u16 domid, offset; };
struct gnttab_copy { struct gnttab_copy_ptr source, dest; u16 len, flags; short status; };
struct gnttab_transfer { unsigned long mfn; u16 domid; u32 ref; short status; };
_Static_assert(sizeof(struct gnttab_copy) == (sizeof(long) == 8 ? 40 : 24), "gnttab_copy");
static inline long gnttab_op(int cmd, void *op, int count) { return HYPERCALL(HC_grant_table_op, cmd, op, count, 0, 0); }

/* memory_op (xen_pfn_t, xen_ulong_t and handles as unsigned long and pointers). */
#define HC_memory_op 12
#define XENMEM_increase_reservation 0
#define XENMEM_decrease_reservation 1
#define XENMEM_maximum_ram_page 2
#define XENMEM_current_reservation 3
#define XENMEM_maximum_reservation 4
#define XENMEM_populate_physmap 6
#define XENMEM_add_to_physmap 7
#define XENMEM_memory_map 9
#define XENMEM_exchange 11
#define XENMEM_set_memory_map 13
#define XENMAPSPACE_shared_info 0
#define XENMAPSPACE_grant_table 1
#define XENMAPSPACE_gmfn_foreign 4
struct xen_memory_reservation { unsigned long *extent_start; unsigned long nr_extents; u32 extent_order, mem_flags; u16 domid; };
struct xen_memory_exchange { struct xen_memory_reservation in, out; unsigned long nr_exchanged; };
struct xen_add_to_physmap { u16 domid, size; u32 space; unsigned long idx, gpfn; };
_Static_assert(sizeof(struct xen_memory_reservation) == (sizeof(long) == 8 ? 32 : 20), "xen_memory_reservation");

/* The console and xenstore rings. */
struct xencons_interface {
    char in[1024];
    char out[2048];
    volatile u32 in_cons, in_prod, out_cons, out_prod;
};
#define XS_READ 2
#define XS_WATCH 4
#define XS_GET_DOMAIN_PATH 10
#define XS_WRITE 11
#define XS_WATCH_EVENT 15
#define XS_ERROR 16
struct xsd_sockmsg { u32 type, req_id, tx_id, len; };
struct xenstore_domain_interface {
    char req[1024];
    char rsp[1024];
    volatile u32 req_cons, req_prod, rsp_cons, rsp_prod;
    volatile u32 server_features, connection, error;
};

/* multicall (public/xen.h): xen_ulong_t op, result and arguments. */
#define HC_multicall 13
struct multicall_entry { unsigned long op, result, args[6]; };

/*
 * domctl and sysctl (interface versions 0x17 and 0x15: public/domctl.h, sysctl.h). Not
 * translated for 32-bit guests: every 64-bit field is uint64_aligned_t and every handle
 * 64 bits, so the layout is the same for both guest kinds.
 */
#define HC_sysctl 35
#define HC_domctl 36
typedef u64 u64_aligned __attribute__((aligned(8)));
/*
 * struct xen_arch_domainconfig, the tail of createdomain and getdomaininfo: x86's
 * (arch-x86/xen.h: emulation_flags, misc_flags) unless the arch's rt.h gives its own
 * (PowerPC: empty).
 */
#ifndef ARCH_DOMAINCONFIG
#define ARCH_DOMAINCONFIG u32 emulation_flags, misc_flags;
#define ARCH_DOMAINCONFIG_SIZE 8
#endif
#define DOMCTL_VERSION 0x17
#define SYSCTL_VERSION 0x15
#define DOMCTL_createdomain 1
#define DOMCTL_destroydomain 2
#define DOMCTL_pausedomain 3
#define DOMCTL_unpausedomain 4
#define DOMCTL_getdomaininfo 5
#define DOMCTL_getmemlist 6
#define DOMCTL_shadow_op 10
#define DOMCTL_max_mem 11
#define DOMCTL_setvcpucontext 12
#define DOMCTL_getvcpucontext 13
#define DOMCTL_max_vcpus 15
#define DOMCTL_setdomainhandle 17
#define DOMCTL_setdebugging 18
#define DOMCTL_set_address_size 35
#define DOMCTL_get_address_size 36
#define SYSCTL_physinfo 3
#define SYSCTL_getdomaininfolist 6
#define CDF_hvm (1U << 0)
#define CDF_hap (1U << 1)
#define DOMINF_paused (1U << 3)
#define DOMINF_debugged (1U << 6)
struct getdomaininfo {
    u16 domain, pad1; u32 flags;
    u64_aligned tot_pages, max_pages, outstanding_pages, shr_pages, paged_pages, shared_info_frame, cpu_time;
    u32 nr_online_vcpus, max_vcpu_id, ssidref; u8 handle[16]; u32 cpupool;
    u8 gpaddr_bits, pad2[7]; ARCH_DOMAINCONFIG
};
struct createdomain {
    u32 ssidref; u8 handle[16]; u32 flags, iommu_opts, max_vcpus, max_evtchn_port;
    int max_grant_frames, max_maptrack_frames; u32 grant_opts, altp2m_opts, vmtrace_size, cpupool_id;
    ARCH_DOMAINCONFIG
};
struct domctl {
    u32 cmd, interface_version; u16 domain, _pad[3];
    union {
        struct createdomain createdomain;
        struct getdomaininfo getdomaininfo;
        struct { u64_aligned max_memkb; } max_mem;
        struct { u32 max; } max_vcpus;
        struct { u32 size; } address_size;
        struct { u64_aligned max_pfns, start_pfn, buffer, num_pfns; } getmemlist;
        struct { u32 op, mode, mb, _pad; u64_aligned dirty_bitmap, pages; u32 fault_count, dirty_count; } shadow_op;
        struct { u32 vcpu, _pad; u64_aligned ctxt; } vcpucontext;
        struct { u8 enable; } setdebugging;
        struct { u8 handle[16]; } setdomainhandle;
        u8 pad[128];
    } u;
};
struct physinfo {
    u32 threads_per_core, cores_per_socket, nr_cpus, max_cpu_id, nr_nodes, max_node_id, cpu_khz,
        capabilities, arch_capabilities, pad;
    u64_aligned total_pages, free_pages, scrub_pages, outstanding_pages, max_mfn; u32 hw_cap[8];
};
struct sysctl {
    u32 cmd, interface_version;
    union {
        struct physinfo physinfo;
        struct { u16 first_domain; u32 max_domains; u64_aligned buffer; u32 num_domains; } getdomaininfolist;
        u8 pad[128];
    } u;
};
_Static_assert(sizeof(struct domctl) == 144, "xen_domctl");
_Static_assert(sizeof(struct getdomaininfo) == 104 + ARCH_DOMAINCONFIG_SIZE, "getdomaininfo");
_Static_assert(sizeof(struct createdomain) == 60 + ARCH_DOMAINCONFIG_SIZE, "createdomain");
_Static_assert(sizeof(struct sysctl) == 136, "xen_sysctl");
_Static_assert(sizeof(struct physinfo) == 112, "physinfo");

/* Fills the header of the domctl `dc` (cmd, interface version, domain) and issues it. */
static inline long do_domctl(struct domctl *dc, u32 cmd, u16 dom)
{
    dc->cmd = cmd;
    dc->interface_version = DOMCTL_VERSION;
    dc->domain = dom;
    return HYPERCALL(HC_domctl, dc, 0, 0, 0, 0);
}

/* vcpu_op (public/vcpu.h); each guest kind's structs are in its xen.h. */
#define HC_vcpu_op 24
#define VCPUOP_initialise 0
#define VCPUOP_up 1
#define VCPUOP_down 2
#define VCPUOP_is_up 3
#define VCPUOP_get_runstate_info 4
#define VCPUOP_set_periodic_timer 6
#define VCPUOP_stop_periodic_timer 7
#define VCPUOP_set_singleshot_timer 8
#define VCPUOP_stop_singleshot_timer 9
#define VCPUOP_register_vcpu_info 10
#define VCPU_SSHOTTMR_future 1
#define RUNSTATE_running 0
#define RUNSTATE_runnable 1
#define RUNSTATE_blocked 2
#define RUNSTATE_offline 3
static inline long vcpu_op(int cmd, u32 id, void *arg) { return HYPERCALL(HC_vcpu_op, cmd, id, arg, 0, 0); }

#endif
