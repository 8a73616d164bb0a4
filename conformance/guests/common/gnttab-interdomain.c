/*
 * gnttab-interdomain: grants between two domains. dom0, acting as a toolstack, creates
 * a domain D, gives it two pages (increase_reservation on D), sizes its grant table
 * (setup_table on D) and maps D's grant frame into its own address space with
 * mmu_update naming D as the page owner, as libxc does to seed a guest's grant table.
 * Writing D's entries there, dom0 then uses D's grants as a grantee would: host map,
 * read-only map, copy, and transfers a page of its own to D. Each result is checked by
 * the guest against Xen (one "ok ..." line per check; the expected output is the list).
 *
 * Facts, from github:xen-project/xen:
 * - xen/common/grant_table.c: map_grant_ref of a foreign grant sets GTF_reading and
 *   GTF_writing in the granter's entry (_set_status_v1) and reports dev_bus_addr as the
 *   frame; a grant naming a frame the granter does not own is GNTST_bad_page
 *   (get_paged_frame on rd); an entry for another domid or a read-only grant mapped
 *   writable is GNTST_general_error; gnttab_transfer to a domain with no headroom
 *   (tot_pages >= max_pages) is GNTST_general_error, with headroom the page becomes the
 *   receiver's (assign_pages), GTF_transfer_committed|completed are set and a PV receiver
 *   gets the MFN in its entry.
 * - xen/common/memory.c: increase_reservation on another domain (XSM_TARGET: dom0 may)
 *   writes the new MFNs of a PV domain into extent_start.
 * - xen/include/public/xen.h: mmu_update's foreigndom names the owner of the mapped frame.
 * The same C for x86_64 and 32-bit x86 (xen-common.h; frames as xen_pfn_t).
 */
#include "xen.h"

#define PAGE_FLAGS (PTE_P | PTE_RW | PTE_A | PTE_D)

#define PAGE(name) static u8 name[4096] __attribute__((aligned(4096)))
PAGE(dgt);             /* D's grant frame 0, mapped here */
PAGE(win);             /* host-map window */
PAGE(buf);             /* copy destination */
PAGE(gift); PAGE(gift2); /* pages transferred to D */

static struct domctl d;
static volatile struct grant_entry_v1 *const dtab = (volatile struct grant_entry_v1 *)dgt;
static unsigned long *mfn_list;

static long domctl(u32 cmd, u16 dom) { return do_domctl(&d, cmd, dom); }
static u64 tot_pages(u16 dom)
{
    memset(&d, 0, sizeof(d));
    return domctl(5, dom) == 0 ? d.u.getdomaininfo.tot_pages : ~0ULL;
}
static void grant(u32 ref, u16 flags, u16 domid, u64 frame)
{
    dtab[ref].domid = domid;
    dtab[ref].frame = (u32)frame;
    __asm__ volatile ("" ::: "memory");
    dtab[ref].flags = flags;
}
static struct gnttab_map_grant_ref mp;
static short map(void *host, u32 flags, u32 ref, u16 dom)
{
    memset(&mp, 0, sizeof(mp));
    mp.host_addr = (unsigned long)host; mp.flags = flags; mp.ref = ref; mp.dom = dom; mp.status = 0x55;
    return gnttab_op(GNTTABOP_map_grant_ref, &mp, 1) ? (short)-1000 : mp.status;
}
static short unmap(void *host, u32 handle)
{
    struct gnttab_unmap_grant_ref u = { (unsigned long)host, 0, handle, 0x55 };
    return gnttab_op(GNTTABOP_unmap_grant_ref, &u, 1) ? (short)-1000 : u.status;
}
static short transfer(unsigned long mfn, u16 domid, u32 ref)
{
    struct gnttab_transfer t = { mfn, domid, ref, 0x55 };
    return gnttab_op(GNTTABOP_transfer, &t, 1) ? (short)-1000 : t.status;
}

int guest_main(void)
{
    mfn_list = (unsigned long *)start_info_ptr->mfn_list;
    memset(&d, 0, sizeof(d));
    d.u.createdomain.max_vcpus = 1;
    d.u.createdomain.max_grant_frames = -1;
    d.u.createdomain.max_maptrack_frames = -1;
    d.u.createdomain.grant_opts = 2; /* XEN_DOMCTL_GRANT_version(2): grant v1 and v2, as libxl asks */
    check("createdomain rc", domctl(1, 0), 0);
    u16 dom = d.domain;
    d.u.max_mem.max_memkb = 1024;
    check("domctl max_mem(D, 1024 KiB) rc", domctl(11, dom), 0);

    /* Two pages for D; a PV domain's new frames come back as MFNs. */
    unsigned long dmfn[2] = { 0, 0 };
    struct xen_memory_reservation r = { dmfn, 2, 0, 0, dom };
    check("memory_op increase_reservation(D, 2) done 2", HYPERCALL(HC_memory_op, XENMEM_increase_reservation, &r, 0, 0, 0), 2);
    check("D owns 2 pages", tot_pages(dom), 2);

    /* D's grant table, mapped writable here through mmu_update with foreigndom = D. */
    unsigned long gf = 0;
    struct gnttab_setup_table s = { dom, 1, 0x55, &gf };
    check("gnttab setup_table(D, 1) status okay", gnttab_op(GNTTABOP_setup_table, &s, 1) == 0 ? s.status : -1000, GNTST_okay);
    u64 *l1e = l1e_of(dgt);
    struct mmu_update u = { ((u64)mfn_of(l1e) << 12) | ((unsigned long)l1e & 4095), ((u64)gf << 12) | PAGE_FLAGS };
    u32 done = 0;
    check("mmu_update mapping D's grant frame (foreigndom D) rc", HYPERCALL(HC_mmu_update, &u, 1, &done, dom, 0), 0);
    struct mmuext_op flush = { .cmd = 7, .arg1 = (unsigned long)dgt }; /* MMUEXT_INVLPG_LOCAL */
    HYPERCALL(HC_mmuext_op, &flush, 1, 0, DOMID_SELF, 0);
    check("D's fresh grant entries read as zero", dtab[5].flags | dtab[5].domid | dtab[5].frame, 0);

    /* D grants dom0 its page 0: dom0 maps it, writes through it, copies it back. */
    grant(5, GTF_permit_access, 0, dmfn[0]);
    check("gnttab map(D:5, host) GNTST_okay", map(win, GNTMAP_host_map, 5, dom), GNTST_okay);
    u32 h = mp.handle;
    check("gnttab map(D:5) dev_bus_addr is D's frame", mp.dev_bus_addr == (u64)dmfn[0] << 12, 1);
    check("gnttab map(D:5) sets GTF_reading|GTF_writing in D's entry", dtab[5].flags, GTF_permit_access | GTF_reading | GTF_writing);
    for (int i = 0; i < 64; i++) win[i] = (u8)(0xa0 + i);
    struct gnttab_copy c;
    memset(&c, 0, sizeof(c));
    c.source.u.ref = 5; c.source.domid = dom;
    c.dest.u.gmfn = mfn_of(buf); c.dest.domid = DOMID_SELF;
    c.len = 64; c.flags = GNTCOPY_source_gref; c.status = 0x55;
    check("gnttab copy D:5 -> own frame GNTST_okay", gnttab_op(GNTTABOP_copy, &c, 1) == 0 ? c.status : -1000, GNTST_okay);
    int same = 1;
    for (int i = 0; i < 64; i++) same &= buf[i] == (u8)(0xa0 + i);
    check("gnttab bytes written through the mapping of D's page come back by copy", same, 1);
    check("gnttab the copy leaves the mapping's GTF_reading|GTF_writing", dtab[5].flags, GTF_permit_access | GTF_reading | GTF_writing);
    check("gnttab unmap(D:5) GNTST_okay", unmap(win, h), GNTST_okay);
    check("gnttab unmap(D:5) clears GTF_reading|GTF_writing in D's entry", dtab[5].flags, GTF_permit_access);
    UPDATE_VA_MAPPING(win, ((u64)mfn_of(win) << 12) | PAGE_FLAGS, UVMF_INVLPG);
    /* Copy into D's page by gref, both ends named by domain. */
    for (int i = 0; i < 16; i++) buf[i] = (u8)(0x30 + i);
    memset(&c, 0, sizeof(c));
    c.source.u.gmfn = mfn_of(buf); c.source.domid = DOMID_SELF;
    c.dest.u.ref = 5; c.dest.domid = dom; c.dest.offset = 100;
    c.len = 16; c.flags = GNTCOPY_dest_gref; c.status = 0x55;
    check("gnttab copy own frame -> D:5 GNTST_okay", gnttab_op(GNTTABOP_copy, &c, 1) == 0 ? c.status : -1000, GNTST_okay);
    check("gnttab map(D:5, host|readonly) GNTST_okay", map(win, GNTMAP_host_map | GNTMAP_readonly, 5, dom), GNTST_okay);
    check("gnttab read-only map of D:5 sets GTF_reading only", dtab[5].flags, GTF_permit_access | GTF_reading);
    check("gnttab D's page holds the copied bytes", win[100] == 0x30 && win[115] == 0x3f, 1);
    check("gnttab unmap(D:5 readonly) GNTST_okay", unmap(win, mp.handle), GNTST_okay);
    UPDATE_VA_MAPPING(win, ((u64)mfn_of(win) << 12) | PAGE_FLAGS, UVMF_INVLPG);

    /* What D's entries do not allow. */
    grant(6, GTF_permit_access | GTF_readonly, 0, dmfn[1]);
    check("gnttab writable map of D's read-only grant GNTST_general_error", map(win, GNTMAP_host_map, 6, dom), GNTST_general_error);
    grant(7, GTF_permit_access, 5, dmfn[1]);
    check("gnttab map of D's grant to domain 5 GNTST_general_error", map(win, GNTMAP_host_map, 7, dom), GNTST_general_error);
    grant(8, GTF_permit_access, 0, mfn_of(buf));
    check("gnttab map of D's grant naming a frame D does not own GNTST_bad_page", map(win, GNTMAP_host_map, 8, dom), GNTST_bad_page);
    check("gnttab the refused map left D's entry unpinned", dtab[8].flags, GTF_permit_access);

    /* Transfer a page of dom0's to D: D's accept-transfer entry for dom0. */
    u64 before0 = tot_pages(0);
    grant(9, GTF_accept_transfer, 0, 0x40);
    UPDATE_VA_MAPPING(gift, 0, UVMF_INVLPG);
    unsigned long gm = mfn_of(gift);
    check("gnttab transfer dom0 page -> D GNTST_okay", transfer(gm, dom, 9), GNTST_okay);
    check("gnttab transfer sets GTF_transfer_committed|completed in D's entry", dtab[9].flags, GTF_accept_transfer | GTF_transfer_committed | GTF_transfer_completed);
    check("gnttab transfer writes the MFN into D's entry (PV)", dtab[9].frame == (u32)gm, 1);
    check("gnttab after the transfer D owns 3 pages", tot_pages(dom), 3);
    check("gnttab after the transfer dom0 owns one page less", tot_pages(0) == before0 - 1, 1);
    /* D full: XEN_DOMCTL_max_mem 12 KiB = 3 pages; the next transfer has no headroom. */
    d.u.max_mem.max_memkb = 12;
    check("domctl max_mem(D, 12 KiB) rc", domctl(11, dom), 0);
    grant(10, GTF_accept_transfer, 0, 0x41);
    UPDATE_VA_MAPPING(gift2, 0, UVMF_INVLPG);
    check("gnttab transfer to D without headroom GNTST_general_error", transfer(mfn_of(gift2), dom, 10), GNTST_general_error);
    check("gnttab a transfer refused for headroom leaves D's entry", dtab[10].flags, GTF_accept_transfer);

    /* Give D's grant frame back before D goes: the mapping holds a reference on it. */
    check("unmap D's grant frame", UPDATE_VA_MAPPING(dgt, ((u64)mfn_of(dgt) << 12) | PAGE_FLAGS, UVMF_INVLPG), 0);
    check("domctl destroydomain(D) rc", domctl(2, dom), 0);
    print("gnttab-interdomain done\n");
    return 0;
}
