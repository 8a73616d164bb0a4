/*
 * gnttab-ops: grant tables v1 from a PV guest (the initial domain, domain 0), every
 * sub-op hvkit implements, with its success and error paths, each result checked by the guest
 * (one "ok ..." line per check; the committed expected output is the list of checks).
 * The domain grants pages to itself (a grant entry naming its own domid), which is all
 * one domain can do; grants "to another domain" name domid 5.
 *
 * Facts, from github:xen-project/xen:
 * - xen/include/public/grant_table.h: sub-ops, struct layouts, GTF_* and GNTMAP_* bits,
 *   GNTST_* codes (okay 0, general_error -1, bad_domain -2, bad_gntref -3,
 *   bad_handle -4, bad_virt_addr -5, bad_dev_addr -6, permission_denied -8, bad_page -9,
 *   bad_copy_arg -10).
 * - xen/common/grant_table.c: gnttab_setup_table, gnttab_query_size, map_grant_ref,
 *   unmap_common(+_complete), gnttab_copy_*, gnttab_transfer, _set_status_v1 and
 *   reduce_status_for_pin (how GTF_reading/GTF_writing follow the pins); cited per check.
 *   INITIAL_NR_GRANT_FRAMES is 1 (asm-x86/grant_table.h), opt_max_grant_frames 64.
 * - xen/arch/x86/pv/grant_table.c: create_grant_pv_mapping / replace_grant_pv_mapping
 *   fail with GNTST_general_error for a linear address without an L1 table or whose PTE
 *   does not map the granted frame (x86 PV never answers GNTST_bad_virt_addr there; that
 *   code comes from setup_table's frame_list copy).
 * - xen/common/memory.c xatp_permission_check: add_to_physmap on a PV (non-translated)
 *   domain is -EACCES; xen/arch/x86/mm/physmap.c guest_physmap_add_page for PV sets the
 *   M2P entry (set_gpfn_from_mfn), which transfer relies on.
 */
#include "xen.h"

#define BAD_PTR 0x40000000UL /* 1 GiB: far above this guest's mapped memory */
#define RO_MPT_VIRT_START 0xffff800000000000UL /* the read-only M2P (xen-x86_64.h) */
#define PAGE_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_D)

#define PAGE(name) static u8 name[4096] __attribute__((aligned(4096)))
PAGE(gt0); PAGE(gt1);              /* grant frames 0 and 1, mapped here */
PAGE(pa); PAGE(pb); PAGE(pc);      /* granted pages */
PAGE(dst);                         /* copy destination (by frame) */
PAGE(win1); PAGE(win2); PAGE(win3); PAGE(win4); /* host-map windows */
PAGE(xfer); PAGE(xf_a); PAGE(xf_b); PAGE(xf_c); /* pages given away by transfer */

static volatile struct grant_entry_v1 *const gnttab = (volatile struct grant_entry_v1 *)gt0;
static volatile struct grant_entry_v1 *const gnttab1 = (volatile struct grant_entry_v1 *)gt1;

static u64 pfn_of(const void *va) { return (u64)va >> 12; } /* linked at its physical address */
static long map_va(void *va, u64 mfn) { return HYPERCALL(HC_update_va_mapping, va, mfn ? (mfn << 12) | PAGE_FLAGS : 0, UVMF_INVLPG, 0, 0); }
static u64 m2p(u64 mfn) { return ((volatile u64 *)RO_MPT_VIRT_START)[mfn]; }

static volatile struct grant_entry_v1 *entry(u32 ref) { return ref < 512 ? &gnttab[ref] : &gnttab1[ref - 512]; }
static void grant(u32 ref, u16 flags, u16 domid, u64 frame)
{
    volatile struct grant_entry_v1 *e = entry(ref);
    e->domid = domid;
    e->frame = (u32)frame;
    __asm__ volatile ("" ::: "memory");
    e->flags = flags;
}
static long flags_of(u32 ref) { return entry(ref)->flags; }

static struct gnttab_query_size qs;
static long query(u16 dom)
{
    memset(&qs, 0x55, sizeof(qs));
    qs.dom = dom;
    return gnttab_op(GNTTABOP_query_size, &qs, 1);
}

static u64 frames[64];
static struct gnttab_setup_table su;
static long setup(u16 dom, u32 nr, u64 *list, int count)
{
    memset(&su, 0, sizeof(su));
    su.dom = dom;
    su.nr_frames = nr;
    su.status = 0x55;
    su.frame_list = list;
    return gnttab_op(GNTTABOP_setup_table, &su, count);
}

static struct gnttab_map_grant_ref mp;
static short map(void *host, u32 flags, u32 ref, u16 dom)
{
    memset(&mp, 0, sizeof(mp));
    mp.host_addr = (u64)host;
    mp.flags = flags;
    mp.ref = ref;
    mp.dom = dom;
    mp.status = 0x55;
    mp.handle = 0xdeadbeef;
    long rc = gnttab_op(GNTTABOP_map_grant_ref, &mp, 1);
    return rc ? (short)-1000 : mp.status;
}

static short unmap(void *host, u64 dev, u32 handle)
{
    struct gnttab_unmap_grant_ref u = { (u64)host, dev, handle, 0x55 };
    long rc = gnttab_op(GNTTABOP_unmap_grant_ref, &u, 1);
    return rc ? (short)-1000 : u.status;
}

static void fill_copy(struct gnttab_copy *op, u32 flags, u64 s, u16 sdom, u16 soff, u64 d, u16 ddom, u16 doff, u16 len)
{
    memset(op, 0, sizeof(*op));
    op->len = len;
    op->flags = (u16)flags;
    op->status = 0x55;
    if (flags & GNTCOPY_source_gref) op->source.u.ref = (u32)s; else op->source.u.gmfn = s;
    if (flags & GNTCOPY_dest_gref) op->dest.u.ref = (u32)d; else op->dest.u.gmfn = d;
    op->source.domid = sdom; op->source.offset = soff;
    op->dest.domid = ddom; op->dest.offset = doff;
}
static short copy(u32 flags, u64 s, u16 sdom, u16 soff, u64 d, u16 ddom, u16 doff, u16 len)
{
    struct gnttab_copy op;
    fill_copy(&op, flags, s, sdom, soff, d, ddom, doff, len);
    long rc = gnttab_op(GNTTABOP_copy, &op, 1);
    return rc ? (short)-1000 : op.status;
}

static short transfer(u64 mfn, u16 domid, u32 ref)
{
    struct gnttab_transfer t = { mfn, domid, ref, 0x55 };
    long rc = gnttab_op(GNTTABOP_transfer, &t, 1);
    return rc ? (short)-1000 : t.status;
}

static int same(const u8 *a, const u8 *b, unsigned n) { while (n--) if (*a++ != *b++) return 0; return 1; }

static void setup_and_query(void)
{
    /* gnttab_query_size: a fresh table has INITIAL_NR_GRANT_FRAMES (1) of at most 64. */
    check("gnttab query_size rc", query(DOMID_SELF), 0);
    check("gnttab query_size status okay", qs.status, GNTST_okay);
    check("gnttab query_size nr_frames 1 (INITIAL_NR_GRANT_FRAMES)", qs.nr_frames, 1);
    check("gnttab query_size max_nr_frames 64 (gnttab_max_frames)", qs.max_nr_frames, 64);
    /* rcu_lock_domain_by_any_id NULL: status GNTST_bad_domain, hypercall rc 0. */
    check("gnttab query_size(dom 77) rc", query(77), 0);
    check("gnttab query_size(dom 77) GNTST_bad_domain", qs.status, GNTST_bad_domain);
    /* count != 1: -EINVAL; copy_from_guest fails: -EFAULT. */
    check("gnttab query_size count 2 EINVAL", gnttab_op(GNTTABOP_query_size, &qs, 2), -EINVAL);
    check("gnttab query_size count 0 EINVAL", gnttab_op(GNTTABOP_query_size, &qs, 0), -EINVAL);
    check("gnttab query_size(bad pointer) EFAULT", gnttab_op(GNTTABOP_query_size, (void *)BAD_PTR, 1), -EFAULT);

    check("gnttab setup_table(2) rc", setup(DOMID_SELF, 2, frames, 1), 0);
    check("gnttab setup_table(2) status okay", su.status, GNTST_okay);
    check("gnttab setup_table(2) lists two distinct frames", frames[0] && frames[1] && frames[0] != frames[1], 1);
    u64 f0 = frames[0], f1 = frames[1];
    check("gnttab query_size after setup_table(2): 2 frames", query(DOMID_SELF) == 0 ? (long)qs.nr_frames : -1, 2);
    /* A smaller request does not shrink the table and lists the same first frame. */
    frames[0] = 0;
    check("gnttab setup_table(1) status okay", setup(DOMID_SELF, 1, frames, 1) == 0 ? su.status : -1000, GNTST_okay);
    check("gnttab setup_table(1) lists the same frame 0", frames[0] == f0, 1);
    check("gnttab setup_table(1) keeps 2 frames", query(DOMID_SELF) == 0 ? (long)qs.nr_frames : -1, 2);
    /* By real domid 0: rcu_lock_domain_by_any_id accepts it as DOMID_SELF. */
    check("gnttab setup_table(dom 0) status okay", setup(0, 2, frames, 1) == 0 ? su.status : -1000, GNTST_okay);
    check("gnttab setup_table(dom 0) same frames", frames[0] == f0 && frames[1] == f1, 1);
    /* op.nr_frames > gt->max_grant_frames: GNTST_general_error; the table is unchanged. */
    check("gnttab setup_table(65 > max) GNTST_general_error", setup(DOMID_SELF, 65, frames, 1) == 0 ? su.status : -1000, GNTST_general_error);
    check("gnttab setup_table(65) leaves 2 frames", query(DOMID_SELF) == 0 ? (long)qs.nr_frames : -1, 2);
    check("gnttab setup_table(dom 77) GNTST_bad_domain", setup(77, 1, frames, 1) == 0 ? su.status : -1000, GNTST_bad_domain);
    check("gnttab setup_table count 2 EINVAL", setup(DOMID_SELF, 1, frames, 2), -EINVAL);
    check("gnttab setup_table(bad pointer) EFAULT", gnttab_op(GNTTABOP_setup_table, (void *)BAD_PTR, 1), -EFAULT);
    /* __copy_to_guest_offset(frame_list) fails: GNTST_bad_virt_addr. */
    check("gnttab setup_table(unmapped frame_list) GNTST_bad_virt_addr", setup(DOMID_SELF, 1, (u64 *)BAD_PTR, 1) == 0 ? su.status : -1000, GNTST_bad_virt_addr);
    /* guest_handle_okay(frame_list): an address in Xen's range (here the read-only M2P) is
     * -EFAULT before the domain is even looked up. */
    check("gnttab setup_table(frame_list in Xen's range) EFAULT", setup(77, 1, (u64 *)RO_MPT_VIRT_START, 1), -EFAULT);
    /* Exactly the maximum is allowed; frames 0 and 1 stay where they were. */
    check("gnttab setup_table(64 = max) status okay", setup(DOMID_SELF, 64, frames, 1) == 0 ? su.status : -1000, GNTST_okay);
    check("gnttab setup_table(64) keeps frames 0 and 1", frames[0] == f0 && frames[1] == f1, 1);
    check("gnttab query_size after setup_table(64): 64 frames", query(DOMID_SELF) == 0 ? (long)qs.nr_frames : -1, 64);

    /* The frames setup_table lists are the table: map them (a PV guest maps by MFN). */
    check("gnttab map grant frame 0 writable", map_va(gt0, f0), 0);
    check("gnttab map grant frame 1 writable", map_va(gt1, f1), 0);
    /* add_to_physmap is for translated guests only (xatp_permission_check). */
    struct xen_add_to_physmap xatp = { DOMID_SELF, 0, XENMAPSPACE_grant_table, 0, 0x3000 };
    check("gnttab add_to_physmap(grant_table) from a PV guest EACCES", HYPERCALL(HC_memory_op, XENMEM_add_to_physmap, &xatp, 0, 0, 0), -EACCES);
}

static u32 h1, h2, h3, h4, hc, hd;

static void map_ops(void)
{
    for (int i = 0; i < 4096; i++) { pa[i] = (u8)(i * 7 + 3); pb[i] = (u8)(i * 5 + 1); pc[i] = (u8)(i * 3 + 2); }
    grant(8, GTF_permit_access, 0, mfn_of(pa));
    grant(9, GTF_permit_access | GTF_readonly, 0, mfn_of(pb));
    grant(10, GTF_permit_access, 0, mfn_of(pc));
    grant(11, GTF_permit_access, 0, mfn_of(pc));
    grant(600, GTF_permit_access, 0, mfn_of(pb)); /* an entry in grant frame 1 */

    /* Host map, writable: GTF_reading and GTF_writing set (_set_status_v1). */
    check("gnttab map(8, host) GNTST_okay", map(win1, GNTMAP_host_map, 8, 0), GNTST_okay);
    h1 = mp.handle;
    check("gnttab map(8, host) dev_bus_addr is the granted frame", mp.dev_bus_addr == mfn_of(pa) << 12, 1);
    check("gnttab map(8, host) sets GTF_reading|GTF_writing", flags_of(8), GTF_permit_access | GTF_reading | GTF_writing);
    check("gnttab host map: the window shows the granted page", same(win1, pa, 4096), 1);
    win1[9] = 0x99;
    __asm__ volatile ("" ::: "memory");
    check("gnttab host map: writes through the window reach the page", pa[9], 0x99);
    /* Host map, read-only, of a GTF_readonly grant: GTF_reading only. */
    check("gnttab map(9 readonly grant, host|readonly) GNTST_okay", map(win2, GNTMAP_host_map | GNTMAP_readonly, 9, 0), GNTST_okay);
    h2 = mp.handle;
    check("gnttab map(9, readonly) sets GTF_reading only", flags_of(9), GTF_permit_access | GTF_readonly | GTF_reading);
    check("gnttab readonly host map shows the page", same(win2, pb, 4096), 1);
    check("gnttab map(9) handle differs from map(8)", h2 != h1, 1);
    /* Device map only (no host mapping): dev_bus_addr for DMA, same pin accounting. */
    check("gnttab map(10, device) GNTST_okay", map(0, GNTMAP_device_map, 10, 0), GNTST_okay);
    hc = mp.handle;
    check("gnttab map(10, device) dev_bus_addr", mp.dev_bus_addr == mfn_of(pc) << 12, 1);
    check("gnttab map(10, device) sets GTF_reading|GTF_writing", flags_of(10), GTF_permit_access | GTF_reading | GTF_writing);
    check("gnttab map(11, device|readonly) GNTST_okay", map(0, GNTMAP_device_map | GNTMAP_readonly, 11, 0), GNTST_okay);
    hd = mp.handle;
    check("gnttab map(11, device|readonly) sets GTF_reading only", flags_of(11), GTF_permit_access | GTF_reading);
    /* An entry in the second grant frame. */
    check("gnttab map(600, host|readonly) in grant frame 1 GNTST_okay", map(win4, GNTMAP_host_map | GNTMAP_readonly, 600, 0), GNTST_okay);
    check("gnttab map(600) shows its page", same(win4, pb, 4096), 1);
    check("gnttab unmap(600) GNTST_okay", unmap(win4, 0, mp.handle), GNTST_okay);
    check("gnttab unmap(600) clears GTF_reading", flags_of(600), GTF_permit_access);

    /* Errors, reported in the op's status (the hypercall itself returns 0). */
    /* pin_incr 0 (neither host nor device map): GNTST_bad_gntref. */
    check("gnttab map with no host/device flag GNTST_bad_gntref", map(win3, 0, 8, 0), GNTST_bad_gntref);
    check("gnttab map with GNTMAP_readonly only GNTST_bad_gntref", map(win3, GNTMAP_readonly, 8, 0), GNTST_bad_gntref);
    /* ref >= nr_grant_entries(rgt): GNTST_bad_gntref (64 frames x 512 = 32768 entries). */
    check("gnttab map(ref 32768) GNTST_bad_gntref", map(win3, GNTMAP_host_map, 32768, 0), GNTST_bad_gntref);
    check("gnttab map(ref 0xffffffff) GNTST_bad_gntref", map(win3, GNTMAP_host_map, 0xffffffffu, 0), GNTST_bad_gntref);
    /* rcu_lock_domain_by_id: an unknown domain, and DOMID_SELF (not accepted here). */
    check("gnttab map(dom 77) GNTST_bad_domain", map(win3, GNTMAP_host_map, 8, 77), GNTST_bad_domain);
    check("gnttab map(dom DOMID_SELF) GNTST_bad_domain", map(win3, GNTMAP_host_map, 10, DOMID_SELF), GNTST_bad_domain);
    /* _set_status_v1: entry for another domid, or not GTF_permit_access: general_error. */
    grant(12, GTF_permit_access, 5, mfn_of(pc));
    check("gnttab map of a grant issued to dom 5 GNTST_general_error", map(win3, GNTMAP_host_map, 12, 0), GNTST_general_error);
    check("gnttab failed map leaves the entry's flags", flags_of(12), GTF_permit_access);
    grant(13, 0, 0, mfn_of(pc));
    check("gnttab map of a GTF_invalid entry GNTST_general_error", map(win3, GNTMAP_host_map, 13, 0), GNTST_general_error);
    grant(14, GTF_accept_transfer, 0, pfn_of(pc));
    check("gnttab map of a GTF_accept_transfer entry GNTST_general_error", map(win3, GNTMAP_host_map, 14, 0), GNTST_general_error);
    grant(15, GTF_permit_access | GTF_sub_page, 0, mfn_of(pc));
    check("gnttab map of a GTF_sub_page entry GNTST_general_error", map(win3, GNTMAP_host_map, 15, 0), GNTST_general_error);
    /* "Attempt to write-pin a r/o grant entry": general_error (not permission_denied). */
    grant(16, GTF_permit_access | GTF_readonly, 0, mfn_of(pc));
    check("gnttab writable map of a GTF_readonly grant GNTST_general_error", map(win3, GNTMAP_host_map, 16, 0), GNTST_general_error);
    check("gnttab refused writable map leaves GTF_readonly entry unpinned", flags_of(16), GTF_permit_access | GTF_readonly);
    check("gnttab writable device map of a GTF_readonly grant GNTST_general_error", map(0, GNTMAP_device_map, 16, 0), GNTST_general_error);
    /* get_paged_frame: a frame the granter does not own: GNTST_bad_page; flags undone. */
    grant(17, GTF_permit_access, 0, 0xfffff);
    check("gnttab map of an entry naming a frame not owned GNTST_bad_page", map(win3, GNTMAP_host_map, 17, 0), GNTST_bad_page);
    check("gnttab bad_page map clears GTF_reading|GTF_writing again", flags_of(17), GTF_permit_access);
    /* create_grant_pv_mapping: no L1 for the linear address: general_error, undone. */
    grant(18, GTF_permit_access, 0, mfn_of(pc));
    check("gnttab host map at an address without page tables GNTST_general_error (ref 18)", map((void *)BAD_PTR, GNTMAP_host_map, 18, 0), GNTST_general_error);
    check("gnttab failed host map clears GTF_reading|GTF_writing again", flags_of(18), GTF_permit_access);
    check("gnttab map(bad pointer) EFAULT", gnttab_op(GNTTABOP_map_grant_ref, (void *)BAD_PTR, 1), -EFAULT);
}

static void reuse_and_unmap(void)
{
    /* A second writable map of entry 8 while it is pinned: shares the active entry. */
    check("gnttab second map(8, host) while mapped GNTST_okay", map(win3, GNTMAP_host_map, 8, 0), GNTST_okay);
    h3 = mp.handle;
    check("gnttab second map(8) same frame", mp.dev_bus_addr == mfn_of(pa) << 12, 1);
    /* The granter rewrites the entry while it is mapped: the active entry keeps the pinned
     * frame (map_grant_ref uses act->mfn while act->pin != 0). */
    grant(8, GTF_permit_access | GTF_reading | GTF_writing, 0, mfn_of(pb));
    check("gnttab map(8, readonly) after the entry was rewritten GNTST_okay", map(0, GNTMAP_device_map | GNTMAP_readonly, 8, 0), GNTST_okay);
    h4 = mp.handle;
    check("gnttab map of a pinned entry uses the pinned frame, not the rewritten one", mp.dev_bus_addr == mfn_of(pa) << 12, 1);
    /* An entry cannot be reused while mapped: the status bits stay set, so the granter's
     * end-of-access (Linux gnttab_end_foreign_access_ref: refuse while reading|writing)
     * cannot succeed. */
    check("gnttab entry in use: GTF_reading|GTF_writing stay while mapped", flags_of(8) & (GTF_reading | GTF_writing), GTF_reading | GTF_writing);
    /* Unmapping the first writable host map: a writable pin (h3) remains. */
    check("gnttab unmap(h1) GNTST_okay", unmap(win1, 0, h1), GNTST_okay);
    check("gnttab after unmap(h1): GTF_reading|GTF_writing stay (h3 pins)", flags_of(8) & (GTF_reading | GTF_writing), GTF_reading | GTF_writing);
    /* Last writable pin gone, a read-only device pin (h4) remains: GTF_writing clears. */
    check("gnttab unmap(h3) GNTST_okay", unmap(win3, 0, h3), GNTST_okay);
    check("gnttab after unmap(h3): GTF_writing cleared, GTF_reading stays", flags_of(8) & (GTF_reading | GTF_writing), GTF_reading);
    /* unmap_common: dev_bus_addr not the mapped frame: GNTST_bad_dev_addr, nothing done. */
    check("gnttab unmap(h4) with a wrong dev_bus_addr GNTST_bad_dev_addr", unmap(0, mfn_of(pb) << 12, h4), GNTST_bad_dev_addr);
    check("gnttab unmap(h4) GNTST_okay", unmap(0, mfn_of(pa) << 12, h4), GNTST_okay);
    check("gnttab all pins gone: GTF_reading cleared", flags_of(8) & (GTF_reading | GTF_writing), 0);
    /* Now the granter may end access: flags back to 0. */
    grant(8, GTF_permit_access, 0, mfn_of(pa));

    /* Handles: unmapped (flags 0) and beyond maptrack_limit: GNTST_bad_handle. */
    check("gnttab unmap(h1) again GNTST_bad_handle", unmap(win1, 0, h1), GNTST_bad_handle);
    check("gnttab unmap(handle 0xffffffff) GNTST_bad_handle", unmap(win1, 0, 0xffffffffu), GNTST_bad_handle);
    /* replace_grant_pv_mapping: the PTE at host_addr does not map the frame: general_error. */
    check("gnttab unmap(h2) at a window not mapping its frame GNTST_general_error", unmap(win1, 0, h2), GNTST_general_error);
    check("gnttab unmap that failed keeps GTF_reading", flags_of(9), GTF_permit_access | GTF_readonly | GTF_reading);
    /* Neither host_addr nor dev_bus_addr: nothing to undo, status okay, mapping kept. */
    check("gnttab unmap(h2) with no addresses GNTST_okay", unmap(0, 0, h2), GNTST_okay);
    check("gnttab unmap with no addresses keeps the pin", flags_of(9), GTF_permit_access | GTF_readonly | GTF_reading);
    check("gnttab unmap(h2) GNTST_okay", unmap(win2, 0, h2), GNTST_okay);
    check("gnttab unmap(h2) clears GTF_reading", flags_of(9), GTF_permit_access | GTF_readonly);
    check("gnttab unmap(device h10) wrong dev_bus_addr GNTST_bad_dev_addr", unmap(0, 0x1000, hc), GNTST_bad_dev_addr);
    check("gnttab unmap(device h10) GNTST_okay", unmap(0, mfn_of(pc) << 12, hc), GNTST_okay);
    check("gnttab unmap(device h10) clears GTF_reading|GTF_writing", flags_of(10), GTF_permit_access);
    check("gnttab unmap(device h11) GNTST_okay", unmap(0, mfn_of(pc) << 12, hd), GNTST_okay);
    check("gnttab unmap(device h11) clears GTF_reading", flags_of(11), GTF_permit_access);
    check("gnttab unmap(bad pointer) EFAULT", gnttab_op(GNTTABOP_unmap_grant_ref, (void *)BAD_PTR, 1), -EFAULT);
    /* The windows lost their PTEs with the unmaps; give them their own pages back. */
    map_va(win1, mfn_of(win1));
    map_va(win2, mfn_of(win2));
    map_va(win3, mfn_of(win3));
    map_va(win4, mfn_of(win4));
}

static void copy_ops(void)
{
    for (int i = 0; i < 4096; i++) { pa[i] = (u8)(i * 7 + 3); pb[i] = (u8)(i * 5 + 1); dst[i] = 0; }
    /* gref -> frame and frame -> gref; frame ends must be DOMID_SELF. */
    check("gnttab copy gref 8 -> own frame GNTST_okay", copy(GNTCOPY_source_gref, 8, 0, 100, mfn_of(dst), DOMID_SELF, 200, 64), GNTST_okay);
    check("gnttab copy gref -> frame: bytes arrive", same(dst + 200, pa + 100, 64), 1);
    check("gnttab copy releases its pin: flags back to GTF_permit_access", flags_of(8), GTF_permit_access);
    dst[0] = 0xab; dst[1] = 0xcd;
    check("gnttab copy own frame -> gref 8 at offset 4094 GNTST_okay", copy(GNTCOPY_dest_gref, mfn_of(dst), DOMID_SELF, 0, 8, 0, 4094, 2), GNTST_okay);
    check("gnttab copy frame -> gref: bytes arrive", pa[4094] == 0xab && pa[4095] == 0xcd, 1);
    check("gnttab copy to a gref releases GTF_writing", flags_of(8), GTF_permit_access);
    check("gnttab copy gref 9 (readonly) -> gref 10 GNTST_okay", copy(GNTCOPY_source_gref | GNTCOPY_dest_gref, 9, 0, 0, 10, 0, 0, 16), GNTST_okay);
    check("gnttab copy gref -> gref: bytes arrive", same(pc, pb, 16), 1);
    check("gnttab copy frame -> frame (both DOMID_SELF) GNTST_okay", copy(0, mfn_of(pb), DOMID_SELF, 8, mfn_of(dst), DOMID_SELF, 8, 8), GNTST_okay);
    check("gnttab copy frame -> frame: bytes arrive", same(dst + 8, pb + 8, 8), 1);
    check("gnttab copy at offset 4095 length 1 GNTST_okay", copy(GNTCOPY_source_gref, 8, 0, 4095, mfn_of(dst), DOMID_SELF, 4095, 1), GNTST_okay);
    /* gnttab_copy_one: len 0 is okay before anything else is looked at. */
    check("gnttab copy of length 0 with a bad gref GNTST_okay", copy(GNTCOPY_source_gref, 40000, 77, 0, 0, 77, 0, 0), GNTST_okay);
    /* gnttab_copy_buf: offset + len > PAGE_SIZE: GNTST_bad_copy_arg. */
    check("gnttab copy source crossing the page GNTST_bad_copy_arg", copy(GNTCOPY_source_gref, 8, 0, 4000, mfn_of(dst), DOMID_SELF, 0, 200), GNTST_bad_copy_arg);
    check("gnttab copy dest crossing the page GNTST_bad_copy_arg", copy(GNTCOPY_dest_gref, mfn_of(dst), DOMID_SELF, 0, 8, 0, 4095, 2), GNTST_bad_copy_arg);
    check("gnttab copy of 4097 bytes GNTST_bad_copy_arg", copy(0, mfn_of(pb), DOMID_SELF, 0, mfn_of(dst), DOMID_SELF, 0, 4097), GNTST_bad_copy_arg);
    check("gnttab failed copy releases its pins", flags_of(8), GTF_permit_access);
    /* gnttab_copy_lock_domain: "Only DOMID_SELF may reference via frame". */
    check("gnttab copy by frame naming domid 0 GNTST_permission_denied", copy(0, mfn_of(pb), 0, 0, mfn_of(dst), DOMID_SELF, 0, 8), GNTST_permission_denied);
    check("gnttab copy to a frame naming domid 0 GNTST_permission_denied", copy(0, mfn_of(pb), DOMID_SELF, 0, mfn_of(dst), 0, 0, 8), GNTST_permission_denied);
    check("gnttab copy from gref of dom 77 GNTST_bad_domain", copy(GNTCOPY_source_gref, 8, 77, 0, mfn_of(dst), DOMID_SELF, 0, 8), GNTST_bad_domain);
    check("gnttab copy from gref 40000 GNTST_bad_gntref", copy(GNTCOPY_source_gref, 40000, 0, 0, mfn_of(dst), DOMID_SELF, 0, 8), GNTST_bad_gntref);
    check("gnttab copy from a grant issued to dom 5 GNTST_general_error", copy(GNTCOPY_source_gref, 12, 0, 0, mfn_of(dst), DOMID_SELF, 0, 8), GNTST_general_error);
    check("gnttab copy into a GTF_readonly grant GNTST_general_error", copy(GNTCOPY_dest_gref, mfn_of(dst), DOMID_SELF, 0, 9, 0, 0, 8), GNTST_general_error);
    check("gnttab copy from a frame not owned GNTST_bad_page", copy(0, 0xfffff, DOMID_SELF, 0, mfn_of(dst), DOMID_SELF, 0, 8), GNTST_bad_page);
    check("gnttab copy from an entry naming a frame not owned GNTST_bad_page", copy(GNTCOPY_source_gref, 17, 0, 0, mfn_of(dst), DOMID_SELF, 0, 8), GNTST_bad_page);
    /* Copy from an entry while it is mapped: the pin's status bits stay after the copy. */
    check("gnttab map(8) for copy-while-mapped GNTST_okay", map(win1, GNTMAP_host_map, 8, 0), GNTST_okay);
    u32 h = mp.handle;
    check("gnttab copy from a mapped gref GNTST_okay", copy(GNTCOPY_source_gref, 8, 0, 0, mfn_of(dst), DOMID_SELF, 0, 8), GNTST_okay);
    check("gnttab copy from a mapped gref leaves GTF_reading|GTF_writing", flags_of(8), GTF_permit_access | GTF_reading | GTF_writing);
    check("gnttab unmap after copy GNTST_okay", unmap(win1, 0, h), GNTST_okay);
    map_va(win1, mfn_of(win1));
    /* A batch: each op has its own status, the hypercall returns 0. */
    struct gnttab_copy ops[3];
    fill_copy(&ops[0], GNTCOPY_source_gref, 8, 0, 0, mfn_of(dst), DOMID_SELF, 0, 4);
    fill_copy(&ops[1], GNTCOPY_source_gref, 8, 0, 4090, mfn_of(dst), DOMID_SELF, 0, 10);
    fill_copy(&ops[2], GNTCOPY_source_gref, 40000, 0, 0, mfn_of(dst), DOMID_SELF, 0, 4);
    check("gnttab copy batch of 3 rc", gnttab_op(GNTTABOP_copy, ops, 3), 0);
    check("gnttab copy batch op 0 GNTST_okay", ops[0].status, GNTST_okay);
    check("gnttab copy batch op 1 GNTST_bad_copy_arg", ops[1].status, GNTST_bad_copy_arg);
    check("gnttab copy batch op 2 GNTST_bad_gntref", ops[2].status, GNTST_bad_gntref);
    check("gnttab copy(bad pointer) EFAULT", gnttab_op(GNTTABOP_copy, (void *)BAD_PTR, 1), -EFAULT);
}

static void transfer_ops(void)
{
    for (int i = 0; i < 4096; i++) xfer[i] = (u8)(i * 11 + 5);
    /* The receiver names the guest frame the page is to appear at; a PV receiver keeps
     * its own p2m, so any number will do: one this guest does not use. */
    u64 mfn = mfn_of(xfer), pfn = 0x12345;
    grant(20, GTF_accept_transfer, 0, pfn);
    /* steal_page needs a page with no other reference: still mapped here, it fails with
     * -EINVAL, which transfer reports as GNTST_bad_page. */
    check("gnttab transfer of a page still mapped GNTST_bad_page", transfer(mfn, 0, 20), GNTST_bad_page);
    check("gnttab refused transfer leaves the entry", flags_of(20), GTF_accept_transfer);
    check("gnttab transfer of an invalid frame GNTST_bad_page", transfer(0xfffffff, 0, 20), GNTST_bad_page);
    /* To itself: the domain unmaps the page, then gives it to the entry's domid (its own). */
    check("gnttab unmap the page to transfer", map_va(xfer, 0), 0);
    check("gnttab transfer to self GNTST_okay", transfer(mfn, 0, 20), GNTST_okay);
    check("gnttab transfer sets GTF_transfer_committed|GTF_transfer_completed", flags_of(20), GTF_accept_transfer | GTF_transfer_committed | GTF_transfer_completed);
    /* A PV receiver gets the MFN written over the entry's frame, and the M2P entry
     * pointing at the frame it named (guest_physmap_add_page). */
    check("gnttab transfer writes the MFN into the entry (PV)", entry(20)->frame == (u32)mfn, 1);
    check("gnttab transfer sets the M2P entry to the named frame", m2p(mfn) == pfn, 1);
    check("gnttab transferred page can be mapped again", map_va(xfer, mfn), 0);
    int ok = 1;
    for (int i = 0; i < 4096; i++) ok &= xfer[i] == (u8)(i * 11 + 5);
    check("gnttab transferred page keeps its contents", ok, 1);
    /* Failures after the page is taken (Xen frees it then, so each uses its own page). */
    map_va(xf_a, 0);
    check("gnttab transfer to dom 77 GNTST_bad_domain", transfer(mfn_of(xf_a), 77, 20), GNTST_bad_domain);
    map_va(xf_b, 0);
    grant(21, GTF_permit_access, 0, pfn_of(xf_b));
    /* gnttab_prepare_for_transfer: flags != GTF_accept_transfer: general_error. */
    check("gnttab transfer into a GTF_permit_access entry GNTST_general_error", transfer(mfn_of(xf_b), 0, 21), GNTST_general_error);
    map_va(xf_c, 0);
    check("gnttab transfer into ref 32768 (past the table) GNTST_general_error", transfer(mfn_of(xf_c), 0, 32768), GNTST_general_error);
    check("gnttab transfer(bad pointer) EFAULT", gnttab_op(GNTTABOP_transfer, (void *)BAD_PTR, 1), -EFAULT);
}

static void dispatcher(void)
{
    /* do_grant_table_op: (int)count < 0 -EINVAL; bits above GNTTABOP_CMD_MASK (continuation
     * state a guest may not pass) -EINVAL; an unknown op -ENOSYS (x86 has no cache_flush). */
    struct gnttab_query_size q = { DOMID_SELF, 0, 0, 0 };
    check("gnttab grant_table_op count -1 EINVAL", HYPERCALL(HC_grant_table_op, GNTTABOP_copy, &q, -1, 0, 0), -EINVAL);
    check("gnttab grant_table_op cmd with continuation bits EINVAL", HYPERCALL(HC_grant_table_op, GNTTABOP_query_size | (1 << 12), &q, 1, 0, 0), -EINVAL);
    check("gnttab grant_table_op unknown cmd 99 ENOSYS", HYPERCALL(HC_grant_table_op, 99, &q, 1, 0, 0), -ENOSYS);
    /* map, unmap, transfer and copy check their array with guest_handle_okay(uop, count)
     * first: an array in Xen's range is -EFAULT even for count 0; a good one with count 0
     * does nothing. */
    void *xen = (void *)RO_MPT_VIRT_START;
    check("gnttab map_grant_ref count 0, array in Xen's range EFAULT", gnttab_op(GNTTABOP_map_grant_ref, xen, 0), -EFAULT);
    check("gnttab unmap_grant_ref count 0, array in Xen's range EFAULT", gnttab_op(GNTTABOP_unmap_grant_ref, xen, 0), -EFAULT);
    check("gnttab copy count 0, array in Xen's range EFAULT", gnttab_op(GNTTABOP_copy, xen, 0), -EFAULT);
    check("gnttab transfer count 0, array in Xen's range EFAULT", gnttab_op(GNTTABOP_transfer, xen, 0), -EFAULT);
    check("gnttab map_grant_ref count 0 rc", gnttab_op(GNTTABOP_map_grant_ref, &mp, 0), 0);
    check("gnttab copy count 0 rc", gnttab_op(GNTTABOP_copy, &mp, 0), 0);
}

int guest_main(void)
{
    setup_and_query();
    map_ops();
    reuse_and_unmap();
    copy_ops();
    transfer_ops();
    dispatcher();
    print("gnttab-ops done\n");
    return 0;
}
