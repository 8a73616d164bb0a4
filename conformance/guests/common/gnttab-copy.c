/*
 * gnttab-copy: a domain grants pages to itself and moves bytes through the grant table.
 * Sizes the table (query_size, setup_table), maps its first grant frame, writes v1
 * entries, copies from a granted page into a local frame and back (GNTTABOP_copy with
 * gref and frame ends), maps a grant into its own address space (map_grant_ref with
 * GNTMAP_host_map) and watches GTF_reading/GTF_writing come and go, and checks the
 * per-op status codes Xen gives for bad copies and maps. Numbers and layouts:
 * xen/include/public/grant_table.h (xen-common.h; the same C for every arch).
 *
 * A translated guest (ARCH_TRANSLATED: PowerPC) names frames of its own guest-physical
 * space, where its grant frames and the grants it maps are in no slot until it puts them
 * there (xen/common/grant_table.c): it places its grant frames at holes past its memory
 * with XENMEM_add_to_physmap(XENMAPSPACE_grant_table), as Linux's
 * gnttab_setup_auto_xlat_frames, and setup_table lists those frames (gnttab_shared_gfn);
 * a host map's host_addr is the guest-physical address of a hole, where Xen places the
 * granted frame. It reaches both by mapping them itself (rt.h's translation_on and
 * map_frame, at MAP_AREA). dev_bus_addr is a machine address it cannot know, so it only
 * checks it is one page's. Its copies name its own frames by guest frame.
 */
#include "xen.h"

#ifdef ARCH_TRANSLATED
#define table_va ((u8 *)MAP_AREA)
#define window ((u8 *)MAP_AREA + 4096)
/* Guest frame `i` of the holes past the domain's memory (the same every run). */
static u64 hole(unsigned i) { return start_info_ptr->nr_pages + 0x100 + i; }
/* host_addr of the `n`th map: the guest-physical address of a hole of its own. */
#define HOST_ADDR(n) (hole(32 + (n)) << 12)
#else
static u8 table_va[4096] __attribute__((aligned(4096)));
#define HOST_ADDR(n) ((unsigned long)window)
#endif
static u8 src[4096] __attribute__((aligned(4096)));
static u8 dst[4096] __attribute__((aligned(4096)));
#ifndef ARCH_TRANSLATED
static u8 window[4096] __attribute__((aligned(4096)));
#endif
static volatile struct grant_entry_v1 *gnttab = (volatile struct grant_entry_v1 *)table_va;

static void grant(u32 ref, u16 flags, u16 domid, u64 frame)
{
    gnttab[ref].domid = domid;
    gnttab[ref].frame = (u32)frame;
    __asm__ volatile ("" ::: "memory");
    gnttab[ref].flags = flags;
}

static short copy(u32 flags, u64 s, u16 sdom, u16 soff, u64 d, u16 ddom, u16 doff, u16 len)
{
    struct gnttab_copy op = { .len = len, .flags = (u16)flags, .status = 0x55 };
    if (flags & GNTCOPY_source_gref) op.source.u.ref = (u32)s; else op.source.u.gmfn = (unsigned long)s;
    if (flags & GNTCOPY_dest_gref) op.dest.u.ref = (u32)d; else op.dest.u.gmfn = (unsigned long)d;
    op.source.domid = sdom; op.source.offset = soff;
    op.dest.domid = ddom; op.dest.offset = doff;
    long rc = gnttab_op(GNTTABOP_copy, &op, 1);
    return rc ? (short)-1000 : op.status;
}

int guest_main(void)
{
#ifdef ARCH_TRANSLATED
    printk("translation on: %ld\n", translation_on());
#endif
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    long rc = gnttab_op(GNTTABOP_query_size, &q, 1);
    printk("query_size: rc %ld status %d frames %u max %u\n", rc, q.status, q.nr_frames,
           q.max_nr_frames);

    unsigned long frames[2] = { 0, 0 };
#ifdef ARCH_TRANSLATED
    for (unsigned i = 0; i < 2; i++) {
        struct xen_add_to_physmap x = { DOMID_SELF, 0, XENMAPSPACE_grant_table, i, hole(i) };
        printk("add_to_physmap(grant_table %u) at a hole: %ld\n", i,
               HYPERCALL(HC_memory_op, XENMEM_add_to_physmap, &x, 0, 0, 0));
    }
#endif
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 2, .frame_list = GUEST_HANDLE(frames) };
    rc = gnttab_op(GNTTABOP_setup_table, &st, 1);
    printk("setup_table 2: rc %ld status %d, distinct frames %s\n", rc, st.status,
           frames[0] && frames[1] && frames[0] != frames[1] ? "yes" : "no");
#ifdef ARCH_TRANSLATED
    printk("setup_table 2 lists the frames where they were placed: %s\n",
           frames[0] == hole(0) && frames[1] == hole(1) ? "yes" : "no");
    rc = map_frame(table_va, frames[0], 1);
#else
    rc = UPDATE_VA_MAPPING(table_va, ((u64)frames[0] << 12) | PTE_P | PTE_RW | PTE_A | PTE_D, UVMF_INVLPG);
#endif
    printk("map grant frame 0 writable: %ld\n", rc);

    for (int i = 0; i < 4096; i++) src[i] = (u8)(i * 7 + 3);
    grant(8, GTF_permit_access, 0, mfn_of(src));
    grant(9, GTF_permit_access | GTF_readonly, 0, mfn_of(src));
    grant(10, GTF_permit_access, 0, mfn_of(dst));

    short s = copy(GNTCOPY_source_gref, 8, DOMID_SELF, 100, mfn_of(dst), DOMID_SELF, 200, 64);
    int same = 1;
    for (int i = 0; i < 64; i++) same &= dst[200 + i] == src[100 + i];
    printk("copy gref 8 -> own frame: status %d, bytes match %s, flags %x\n", s,
           same ? "yes" : "no", gnttab[8].flags);
    dst[0] = 0xab; dst[1] = 0xcd;
    s = copy(GNTCOPY_dest_gref, mfn_of(dst), DOMID_SELF, 0, 8, 0, 4094, 2);
    printk("copy own frame -> gref 8 at 4094: status %d, %x %x\n", s, src[4094], src[4095]);
    s = copy(GNTCOPY_source_gref | GNTCOPY_dest_gref, 9, 0, 0, 10, DOMID_SELF, 0, 16);
    printk("copy gref 9 (read-only) -> gref 10: status %d, dst[5] == src[5] %s\n", s,
           dst[5] == src[5] ? "yes" : "no");
    printk("copy into read-only gref 9: %d\n",
           copy(GNTCOPY_dest_gref, mfn_of(dst), DOMID_SELF, 0, 9, 0, 0, 8));
    printk("copy past the page end: %d\n",
           copy(GNTCOPY_source_gref, 8, 0, 4000, mfn_of(dst), DOMID_SELF, 0, 200));
    printk("copy from a bad reference: %d\n",
           copy(GNTCOPY_source_gref, 100000, 0, 0, mfn_of(dst), DOMID_SELF, 0, 8));
    printk("copy by frame naming a domain id: %d\n",
           copy(0, mfn_of(src), 0, 0, mfn_of(dst), DOMID_SELF, 0, 8));
    printk("copy from an unknown domain: %d\n",
           copy(GNTCOPY_source_gref, 8, 77, 0, mfn_of(dst), DOMID_SELF, 0, 8));
    grant(11, GTF_permit_access, 5, mfn_of(src));
    printk("copy from a grant issued to another domain: %d\n",
           copy(GNTCOPY_source_gref, 11, 0, 0, mfn_of(dst), DOMID_SELF, 0, 8));

    struct gnttab_map_grant_ref m = {
        .host_addr = HOST_ADDR(0), .flags = GNTMAP_host_map, .ref = 8, .dom = 0 };
    rc = gnttab_op(GNTTABOP_map_grant_ref, &m, 1);
#ifdef ARCH_TRANSLATED
    printk("map gref 8 at a hole: rc %ld status %d, bus address page-aligned %s, flags %x\n", rc,
           m.status, m.dev_bus_addr && !(m.dev_bus_addr & 0xfff) ? "yes" : "no", gnttab[8].flags);
    printk("map the hole at window: %ld\n", map_frame(window, m.host_addr >> 12, 1));
#else
    printk("map gref 8 at window: rc %ld status %d, bus address is src %s, flags %x\n", rc,
           m.status, m.dev_bus_addr == (u64)mfn_of(src) << 12 ? "yes" : "no", gnttab[8].flags);
#endif
    printk("window[7] == src[7] %s\n", window[7] == src[7] ? "yes" : "no");
    window[9] = 0x99;
    __asm__ volatile ("" ::: "memory"); /* window and src alias only through the grant */
    printk("write through window seen in src: %s\n", src[9] == 0x99 ? "yes" : "no");
    struct gnttab_map_grant_ref w = {
        .host_addr = HOST_ADDR(1), .flags = GNTMAP_host_map, .ref = 9, .dom = 0 };
    gnttab_op(GNTTABOP_map_grant_ref, &w, 1);
    printk("writable map of read-only gref 9: status %d\n", w.status);
    struct gnttab_map_grant_ref o = {
        .host_addr = HOST_ADDR(2), .flags = GNTMAP_host_map, .ref = 11, .dom = 0 };
    gnttab_op(GNTTABOP_map_grant_ref, &o, 1);
    printk("map of a grant issued to another domain: status %d\n", o.status);
    struct gnttab_unmap_grant_ref u = { .host_addr = HOST_ADDR(0), .handle = m.handle };
    rc = gnttab_op(GNTTABOP_unmap_grant_ref, &u, 1);
    printk("unmap: rc %ld status %d, flags %x\n", rc, u.status, gnttab[8].flags);
    rc = gnttab_op(GNTTABOP_unmap_grant_ref, &u, 1);
    printk("unmap again: rc %ld status %d\n", rc, u.status);
    return 0;
}
