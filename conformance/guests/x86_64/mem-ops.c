/*
 * mem-ops: every memory_op sub-op a PV guest can reach, success and each documented
 * error, checked by the guest itself (one "ok"/"FAIL" line per check), as the initial
 * domain (a control domain: max_order 18).
 *
 * Sources (Xen, xen/common/memory.c unless said otherwise):
 * - do_memory_op: the command word's low 6 bits are the op, the rest a continuation's
 *   start extent (MEMOP_EXTENT_SHIFT 6, public/memory.h). Queries and exchange refuse a
 *   non-zero start extent with -EINVAL. increase/decrease_reservation and
 *   populate_physmap never return -errno: they return the number of extents done, and a
 *   bad argument (unreadable struct, nr_extents > UINT_MAX >> 6, start >= nr_extents,
 *   bad domain, extent_order > max_order(), an extent array failing
 *   guest_handle_subrange_okay) makes them return the start extent; an array element
 *   that cannot be read stops them there (the count so far).
 * - construct_memop_from_reservation: XENMEMF_address_bits at or below PAGE_SHIFT, and
 *   propagate_node: a node >= MAX_NUMNODES (64) for the control domain, fail the call
 *   (the start extent back; -EINVAL for exchange's out.mem_flags). populate_physmap with
 *   XENMEMF_populate_on_demand on oneself does nothing ("Disallow populating PoD pages
 *   on oneself").
 * - max_order(): control domain CONFIG_CTLDOM_MAX_ORDER = CONFIG_PAGEALLOC_MAX_ORDER =
 *   2 * PAGETABLE_ORDER = 18 on x86 (xen/arch/x86/include/asm/config.h).
 * - alloc_domheap_pages/domain_adjust_tot_pages: an allocation past d->max_pages fails,
 *   so increase_reservation stops at max_pages with a partial count.
 * - populate_physmap for a PV domain: set_gpfn_from_mfn(mfn + j, gpfn + j) (the M2P
 *   maps the new frames to the gpfns) and the MFN is written back over the gpfn.
 * - memory_exchange: -EFAULT unreadable; -EPERM an order above max_order; -EINVAL for
 *   nr_exchanged > in.nr_extents, in/out domid differ, sizes overflowing a long, in/out
 *   sizes unequal; 0 with nothing to do when nr_exchanged == in.nr_extents; -EFAULT when
 *   guest_handle_subrange_okay fails for the in range [nr_exchanged, nr - 1] or the
 *   matching out range (XSA-212: checked from nr_exchanged, not from the array base,
 *   so a huge nr_exchanged cannot point the copies into Xen's address space);
 *   per chunk -EINVAL for a frame the domain cannot give (steal_page), and nr_exchanged
 *   written back with the extents of completed chunks.
 * - add_to_physmap: start extent above the u16 size -EDOM; unreadable -EFAULT;
 *   XENMAPSPACE_gmfn_foreign -ENOSYS; unknown domain -ESRCH; xatp_permission_check: a
 *   domain that is not translated (PV) -EACCES.
 * - memory_map (xen/arch/x86/mm.c arch_memory_op): unreadable -EFAULT; no e820 set for
 *   the domain -ENOSYS ("Backwards compatibility"; a PV dom0 has none); else
 *   min(nr_entries, the map's) entries copied and nr_entries written back; a failing
 *   copy -EFAULT. set_memory_map (same file): unreadable -EFAULT; nr_entries > E820MAX
 *   (1024, asm/e820.h) -EINVAL; unknown domain -ESRCH; xsm_domain_memory_map
 *   (XSM_TARGET: the domain itself may); an unreadable entry -EFAULT (map unchanged);
 *   0 entries leaves no map (nr_e820 0: memory_map -ENOSYS again).
 * - XEN_DOMCTL_max_mem (xen/common/domctl.c): max_pages = max_memkb >> (PAGE_SHIFT-10).
 * - x86 __addr_ok (xen/arch/x86/include/asm/x86_64/uaccess.h): a guest address is below
 *   2^47 or at/above HYPERVISOR_VIRT_END; [2^47, HYPERVISOR_VIRT_END) is refused.
 * The M2P is the read-only machine-to-phys table at RO_MPT_VIRT_START
 * (0xffff800000000000, public/arch-x86/xen-x86_64.h); the guest checks the p2m it keeps
 * (start_info mfn_list) against it before and after ballooning.
 */
#include "xen.h"

#define MEMOP_EXTENT_SHIFT 6
#define XENMEMF_node(n) (((n) + 1) << 8)
#define XENMEMF_populate_on_demand (1U << 16)
#define NO_SUCH_DOMAIN 0x7fe0
#define M2P ((const u64 *)0xffff800000000000UL)
#define M2P_INVALID 0xffffffffffffffffUL
#define NONCANONICAL (1UL << 47)
#define UNMAPPED ((void *)0x7fff00000000UL)
#define XEN_DOMCTL_max_mem 11
#define XEN_DOMCTL_INTERFACE_VERSION 0x17

struct e820entry { u64 addr, size; u32 type; } __attribute__((packed));
struct xen_memory_map { u32 nr_entries, _pad; struct e820entry *buffer; };
struct xen_foreign_memory_map { u16 domid, _pad[3]; struct xen_memory_map map; };

_Static_assert(sizeof(struct e820entry) == 20, "e820entry");
_Static_assert(sizeof(struct xen_foreign_memory_map) == 24, "xen_foreign_memory_map");

/* Pages to balloon: page-aligned, the first two an order-1 pair (8 KiB aligned). */
static u8 pages[8 * 4096] __attribute__((aligned(8192)));
/* A page whose last slot is an array element, the next page unmapped (fault at [1]). */
static u8 edge[2 * 4096] __attribute__((aligned(4096)));
static u64 *mfn_list;
static u64 list[16];

static long memop(unsigned long cmd, void *arg) { return HYPERCALL(HC_memory_op, cmd, arg, 0, 0, 0); }

static long query(int cmd, u16 domid)
{
    return memop(cmd, &domid);
}

static long resv(int cmd, u64 *l, u64 nr, u32 order)
{
    struct xen_memory_reservation r = { l, nr, order, 0, DOMID_SELF };
    return memop(cmd, &r);
}

static u64 pfn_of(const void *va) { return (u64)va >> 12; } /* va = pseudo-physical */
static void *page(int i) { return pages + i * 4096; }

static long map(void *va, u64 mfn)
{
    u64 pte = mfn != M2P_INVALID ? (mfn << 12) | PTE_P | PTE_RW | PTE_A | PTE_D : 0;
    return HYPERCALL(HC_update_va_mapping, va, pte, UVMF_INVLPG, 0, 0);
}

/* Entries of the guest's p2m that disagree with the M2P (holes skipped). */
static long p2m_m2p_mismatches(void)
{
    long bad = 0;
    for (u64 pfn = 0; pfn < start_info_ptr->nr_pages; pfn++) {
        u64 mfn = mfn_list[pfn];
        if (mfn != M2P_INVALID && M2P[mfn] != pfn) bad++;
    }
    return bad;
}

static long set_max_mem(u64 pages_)
{
    static struct domctl d;
    memset(&d, 0, sizeof(d));
    d.cmd = XEN_DOMCTL_max_mem;
    d.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    d.domain = 0;
    d.u.max_mem.max_memkb = pages_ * 4;
    return HYPERCALL(HC_domctl, &d, 0, 0, 0, 0);
}

static void queries(void)
{
    long cur = query(XENMEM_current_reservation, DOMID_SELF);
    check("memory current_reservation DOMID_SELF is start_info nr_pages", cur, (long)start_info_ptr->nr_pages);
    check("memory current_reservation by own id 0", query(XENMEM_current_reservation, 0), cur);
    check("memory current_reservation ESRCH unknown domain", query(XENMEM_current_reservation, NO_SUCH_DOMAIN), -ESRCH);
    check("memory current_reservation EFAULT bad pointer", memop(XENMEM_current_reservation, UNMAPPED), -EFAULT);
    u16 self = DOMID_SELF;
    check("memory current_reservation EINVAL start extent",
          memop(XENMEM_current_reservation | (1UL << MEMOP_EXTENT_SHIFT), &self), -EINVAL);
    long max = query(XENMEM_maximum_reservation, DOMID_SELF);
    check_that("memory maximum_reservation >= current", max >= cur, max);
    check("memory maximum_reservation ESRCH unknown domain", query(XENMEM_maximum_reservation, NO_SUCH_DOMAIN), -ESRCH);
    check("memory maximum_reservation EFAULT bad pointer", memop(XENMEM_maximum_reservation, UNMAPPED), -EFAULT);

    long top = memop(XENMEM_maximum_ram_page, 0);
    u64 highest = 0;
    for (u64 pfn = 0; pfn < start_info_ptr->nr_pages; pfn++)
        if (mfn_list[pfn] > highest) highest = mfn_list[pfn];
    check_that("memory maximum_ram_page above every frame of the domain", top > 0 && (u64)top > highest, top);
    check("memory maximum_ram_page EINVAL start extent",
          memop(XENMEM_maximum_ram_page | (1UL << MEMOP_EXTENT_SHIFT), 0), -EINVAL);

    static struct e820entry e820[8];
    struct xen_memory_map mm = { 8, 0, e820 };
    check("memory memory_map ENOSYS no map set for a PV dom0", memop(XENMEM_memory_map, &mm), -ENOSYS);
    check("memory memory_map EFAULT bad pointer", memop(XENMEM_memory_map, UNMAPPED), -EFAULT);

    /* A map set through XENMEM_set_memory_map (x86; XSM_TARGET lets a domain set its own). */
    static struct e820entry set[3] = {
        { 0, 0x9f000, 1 }, { 0xf0000, 0x10000, 2 }, { 0x100000, 0x3f00000, 1 } };
    struct xen_foreign_memory_map fm = { DOMID_SELF, { 0, 0, 0 }, { 3, 0, set } };
    check("memory set_memory_map 3 entries", memop(XENMEM_set_memory_map, &fm), 0);
    memset(e820, 0xee, sizeof(e820));
    check("memory memory_map", memop(XENMEM_memory_map, &mm), 0);
    check("memory memory_map nr_entries written back 3", mm.nr_entries, 3);
    check_that("memory memory_map entries as set", e820[0].size == 0x9f000 && e820[1].type == 2 &&
               e820[2].addr == 0x100000 && e820[2].size == 0x3f00000, (long)e820[2].size);
    check("memory memory_map leaves the rest of the buffer", e820[3].type, (long)0xeeeeeeeeU);
    mm.nr_entries = 2;
    memset(e820, 0xee, sizeof(e820));
    check("memory memory_map nr_entries 2", memop(XENMEM_memory_map, &mm), 0);
    check("memory memory_map nr_entries 2: 2 copied", mm.nr_entries == 2 && e820[1].type == 2 && e820[2].type == 0xeeeeeeeeU, 1);
    mm.nr_entries = 8;
    mm.buffer = UNMAPPED;
    check("memory memory_map EFAULT bad buffer", memop(XENMEM_memory_map, &mm), -EFAULT);
    mm.buffer = e820;
    fm.map.nr_entries = 1025;
    check("memory set_memory_map EINVAL above E820MAX", memop(XENMEM_set_memory_map, &fm), -EINVAL);
    fm.map.nr_entries = 3;
    fm.domid = NO_SUCH_DOMAIN;
    check("memory set_memory_map ESRCH unknown domain", memop(XENMEM_set_memory_map, &fm), -ESRCH);
    fm.domid = DOMID_SELF;
    fm.map.buffer = UNMAPPED;
    check("memory set_memory_map EFAULT bad buffer", memop(XENMEM_set_memory_map, &fm), -EFAULT);
    check("memory set_memory_map EFAULT bad pointer", memop(XENMEM_set_memory_map, UNMAPPED), -EFAULT);
    mm.nr_entries = 8;
    check("memory memory_map unchanged by failed sets", memop(XENMEM_memory_map, &mm) | (long)mm.nr_entries, 3);
    fm.map.nr_entries = 0;
    check("memory set_memory_map 0 entries", memop(XENMEM_set_memory_map, &fm), 0);
    check("memory memory_map ENOSYS again after an empty map", memop(XENMEM_memory_map, &mm), -ENOSYS);
}

static void reservations(void)
{
    long cur = query(XENMEM_current_reservation, DOMID_SELF);
    check("memory p2m and M2P agree at start", p2m_m2p_mismatches(), 0);

    /* Balloon down pages 0..3. */
    u64 mfns[4];
    for (int i = 0; i < 4; i++) {
        *(volatile u8 *)page(i) = 0x11;
        mfns[i] = mfn_list[pfn_of(page(i))];
        map(page(i), M2P_INVALID);
    }
    check("memory decrease_reservation 4 frames", resv(XENMEM_decrease_reservation, mfns, 4, 0), 4);
    int invalid = 0;
    for (int i = 0; i < 4; i++) {
        invalid += M2P[mfns[i]] == M2P_INVALID;
        mfn_list[pfn_of(page(i))] = M2P_INVALID;
    }
    check("memory decrease_reservation M2P entries invalid", invalid, 4);
    check("memory decrease_reservation current down by 4", query(XENMEM_current_reservation, DOMID_SELF), cur - 4);
    check("memory decrease_reservation frame already given back: 0 done",
          resv(XENMEM_decrease_reservation, mfns, 1, 0), 0);
    check("memory decrease_reservation bad extent_start: 0 done",
          resv(XENMEM_decrease_reservation, (u64 *)NONCANONICAL, 1, 0), 0);
    check("memory decrease_reservation extent_order 19: 0 done", resv(XENMEM_decrease_reservation, mfns, 1, 19), 0);
    check("memory decrease_reservation nr_extents above UINT_MAX>>6: 0 done",
          resv(XENMEM_decrease_reservation, mfns, (0xffffffffUL >> MEMOP_EXTENT_SHIFT) + 1, 0), 0);
    {
        struct xen_memory_reservation r = { mfns, 2, 0, 0, DOMID_SELF };
        check("memory decrease_reservation start extent >= nr_extents returns it",
              memop(XENMEM_decrease_reservation | (3UL << MEMOP_EXTENT_SHIFT), &r), 3);
        r.domid = NO_SUCH_DOMAIN;
        check("memory decrease_reservation unknown domain: 0 done", memop(XENMEM_decrease_reservation, &r), 0);
    }
    check("memory decrease_reservation EFAULT struct: 0 done", memop(XENMEM_decrease_reservation, UNMAPPED), 0);

    /* Balloon up: populate the same gpfns; order-1 extent for pages 0-1. */
    u64 pair = pfn_of(page(0));
    check("memory populate_physmap order 1", resv(XENMEM_populate_physmap, &pair, 1, 1), 1);
    check_that("memory populate_physmap order 1 M2P maps both frames",
               M2P[pair] == pfn_of(page(0)) && M2P[pair + 1] == pfn_of(page(1)), (long)M2P[pair]);
    mfn_list[pfn_of(page(0))] = pair;
    mfn_list[pfn_of(page(1))] = pair + 1;
    u64 g[2] = { pfn_of(page(2)), pfn_of(page(3)) };
    check("memory populate_physmap 2 frames", resv(XENMEM_populate_physmap, g, 2, 0), 2);
    check_that("memory populate_physmap M2P maps the new frames to the gpfns",
               M2P[g[0]] == pfn_of(page(2)) && M2P[g[1]] == pfn_of(page(3)), (long)M2P[g[0]]);
    mfn_list[pfn_of(page(2))] = g[0];
    mfn_list[pfn_of(page(3))] = g[1];
    int zeroed = 0;
    for (int i = 0; i < 4; i++) {
        map(page(i), mfn_list[pfn_of(page(i))]);
        zeroed += *(volatile u8 *)page(i) == 0;
    }
    check("memory populate_physmap frames are zeroed", zeroed, 4);
    check("memory populate_physmap current back", query(XENMEM_current_reservation, DOMID_SELF), cur);
    check("memory p2m and M2P agree after balloon down and up", p2m_m2p_mismatches(), 0);

    /* Decrease an order-1 extent (the pair), populate it again page by page. */
    map(page(0), M2P_INVALID);
    map(page(1), M2P_INVALID);
    u64 ext = mfn_list[pfn_of(page(0))];
    check("memory decrease_reservation order 1", resv(XENMEM_decrease_reservation, &ext, 1, 1), 1);
    check("memory decrease_reservation order 1 current down by 2", query(XENMEM_current_reservation, DOMID_SELF), cur - 2);

    /* Populate errors. */
    u64 one = pfn_of(page(0));
    check("memory populate_physmap extent_order 19: 0 done", resv(XENMEM_populate_physmap, &one, 1, 19), 0);
    check("memory populate_physmap bad extent_start: 0 done",
          resv(XENMEM_populate_physmap, (u64 *)NONCANONICAL, 1, 0), 0);
    {
        struct xen_memory_reservation r = { &one, 1, 0, XENMEMF_populate_on_demand, DOMID_SELF };
        check("memory populate_physmap populate-on-demand on itself: 0 done", memop(XENMEM_populate_physmap, &r), 0);
        r.mem_flags = 12; /* XENMEMF_address_bits(12): not above PAGE_SHIFT */
        check("memory populate_physmap address_bits 12: 0 done", memop(XENMEM_populate_physmap, &r), 0);
        r.mem_flags = XENMEMF_node(70);
        check("memory populate_physmap node 70 >= MAX_NUMNODES: 0 done", memop(XENMEM_populate_physmap, &r), 0);
        /*
         * The array is checked from the start extent (guest_handle_subrange_okay): element
         * 4 would be the guest-readable M2P at 0xffff800000000000, in Xen's range.
         */
        struct xen_memory_reservation d = { (u64 *)(0xffff800000000000UL - 32), 8, 0, 0, DOMID_SELF };
        check("memory decrease_reservation array checked from the start extent: returns it",
              memop(XENMEM_decrease_reservation | (4UL << MEMOP_EXTENT_SHIFT), &d), 4);
        check("memory current unchanged by refused populates", query(XENMEM_current_reservation, DOMID_SELF), cur - 2);
    }
    /* An array whose second element faults: the first extent is done, then it stops. */
    u64 *tail = (u64 *)(edge + 4096 - 8);
    *tail = pfn_of(page(0));
    map(edge + 4096, M2P_INVALID);
    check("memory populate_physmap unreadable element 1: 1 done", resv(XENMEM_populate_physmap, tail, 2, 0), 1);
    map(edge + 4096, mfn_list[pfn_of(edge + 4096)]);
    mfn_list[pfn_of(page(0))] = *tail;
    u64 p1 = pfn_of(page(1));
    check("memory populate_physmap page 1 again", resv(XENMEM_populate_physmap, &p1, 1, 0), 1);
    mfn_list[pfn_of(page(1))] = p1;
    map(page(0), mfn_list[pfn_of(page(0))]);
    map(page(1), mfn_list[pfn_of(page(1))]);
    check("memory p2m and M2P agree after order-1 round trip", p2m_m2p_mismatches(), 0);

    /* increase_reservation: frames without a gpfn (a null array is allowed). */
    check("memory increase_reservation null array", resv(XENMEM_increase_reservation, 0, 1, 0), 1);
    check("memory increase_reservation current up by 1", query(XENMEM_current_reservation, DOMID_SELF), cur + 1);
    u64 got[2] = { 0, 0 };
    check("memory increase_reservation 2 frames", resv(XENMEM_increase_reservation, got, 2, 0), 2);
    check_that("memory increase_reservation MFNs written back", got[0] != 0 && got[1] != 0 && got[0] != got[1],
               (long)got[0]);
    check("memory decrease_reservation the increased frames", resv(XENMEM_decrease_reservation, got, 2, 0), 2);
    check("memory increase_reservation extent_order 19: 0 done", resv(XENMEM_increase_reservation, got, 1, 19), 0);
    check("memory increase_reservation bad extent_start: 0 done",
          resv(XENMEM_increase_reservation, (u64 *)NONCANONICAL, 1, 0), 0);
    /* The null-array frame cannot be named again (its MFN is unknown): accounted. */
    cur += 1;

    /* Per-domain max_pages: three frames of room, ask for five. */
    long max = query(XENMEM_maximum_reservation, DOMID_SELF);
    check("memory max_mem (domctl) to current + 3", set_max_mem((u64)cur + 3), 0);
    check("memory maximum_reservation follows max_mem", query(XENMEM_maximum_reservation, DOMID_SELF), cur + 3);
    for (int i = 0; i < 5; i++) list[i] = 0;
    check("memory increase_reservation past max_pages: partial 3", resv(XENMEM_increase_reservation, list, 5, 0), 3);
    check("memory current at max_pages", query(XENMEM_current_reservation, DOMID_SELF), cur + 3);
    check("memory increase_reservation at max_pages: 0 done", resv(XENMEM_increase_reservation, list + 3, 1, 0), 0);
    u64 gp = pfn_of(page(4));
    map(page(4), M2P_INVALID);
    u64 old4 = mfn_list[gp];
    check("memory decrease page 4 at max_pages", resv(XENMEM_decrease_reservation, &old4, 1, 0), 1);
    mfn_list[gp] = M2P_INVALID;
    u64 two[2] = { gp, pfn_of(page(5)) };
    check("memory populate_physmap past max_pages: partial 1", resv(XENMEM_populate_physmap, two, 2, 0), 1);
    mfn_list[gp] = two[0];
    map(page(4), two[0]);
    check("memory decrease_reservation the 3 frames", resv(XENMEM_decrease_reservation, list, 3, 0), 3);
    check("memory max_mem restored", set_max_mem((u64)max), 0);
    check("memory current back after max_pages checks", query(XENMEM_current_reservation, DOMID_SELF), cur);
    check("memory p2m and M2P agree after max_pages checks", p2m_m2p_mismatches(), 0);
}

static void exchanges(void)
{
    long cur = query(XENMEM_current_reservation, DOMID_SELF);
    void *pg = page(6);
    u64 pfn = pfn_of(pg);
    map(pg, M2P_INVALID);
    u64 in = mfn_list[pfn], out = pfn;
    struct xen_memory_exchange x = { { &in, 1, 0, 0, DOMID_SELF }, { &out, 1, 0, 0, DOMID_SELF }, 0 };
    check("memory exchange one page", memop(XENMEM_exchange, &x), 0);
    check("memory exchange nr_exchanged 1", (long)x.nr_exchanged, 1);
    check_that("memory exchange new frame differs", out != in, (long)out);
    check("memory exchange M2P maps the new frame", (long)M2P[out], (long)pfn);
    check("memory exchange current unchanged", query(XENMEM_current_reservation, DOMID_SELF), cur);
    mfn_list[pfn] = out;
    map(pg, out);
    check("memory p2m and M2P agree after exchange", p2m_m2p_mismatches(), 0);

    /* Nothing to do: nr_exchanged == in.nr_extents. */
    u64 keep = in;
    x.nr_exchanged = 1;
    check("memory exchange nothing left: 0", memop(XENMEM_exchange, &x), 0);
    check("memory exchange nothing left: frame kept", (long)in, (long)keep);

    /* The sanity checks (-EINVAL) and max_order (-EPERM). */
    x.nr_exchanged = 0;
    x.out.nr_extents = 2;
    check("memory exchange EINVAL in/out sizes differ", memop(XENMEM_exchange, &x), -EINVAL);
    x.out.nr_extents = 1;
    x.nr_exchanged = 2;
    check("memory exchange EINVAL nr_exchanged beyond in.nr_extents", memop(XENMEM_exchange, &x), -EINVAL);
    check("memory exchange nr_exchanged written back unchanged", (long)x.nr_exchanged, 2);
    x.nr_exchanged = 0;
    x.out.domid = 0;
    check("memory exchange EINVAL in/out domids differ", memop(XENMEM_exchange, &x), -EINVAL);
    x.out.domid = DOMID_SELF;
    x.in.extent_order = x.out.extent_order = 1;
    x.in.nr_extents = x.out.nr_extents = 1UL << 63;
    check("memory exchange EINVAL size overflows a long", memop(XENMEM_exchange, &x), -EINVAL);
    x.in.nr_extents = x.out.nr_extents = 1;
    x.in.extent_order = 19;
    x.out.extent_order = 19;
    check("memory exchange EPERM extent_order 19 above max_order", memop(XENMEM_exchange, &x), -EPERM);
    x.in.extent_order = x.out.extent_order = 0;
    check("memory exchange EINVAL non-zero start extent",
          memop(XENMEM_exchange | (1UL << MEMOP_EXTENT_SHIFT), &x), -EINVAL);
    check("memory exchange EFAULT bad pointer", memop(XENMEM_exchange, UNMAPPED), -EFAULT);
    x.out.mem_flags = XENMEMF_node(70);
    check("memory exchange EINVAL out node 70 >= MAX_NUMNODES", memop(XENMEM_exchange, &x), -EINVAL);
    x.out.mem_flags = 0;
    x.in.domid = x.out.domid = NO_SUCH_DOMAIN;
    check("memory exchange ESRCH unknown domain", memop(XENMEM_exchange, &x), -ESRCH);
    x.in.domid = x.out.domid = DOMID_SELF;

    /* XSA-212: arrays checked from nr_exchanged, so it cannot steer the copies. */
    x.in.extent_start = (u64 *)(NONCANONICAL - 8);
    x.in.nr_extents = x.out.nr_extents = 2;
    x.nr_exchanged = 1;
    check("memory exchange EFAULT in range from nr_exchanged (XSA-212)", memop(XENMEM_exchange, &x), -EFAULT);
    u64 hv = 0xffff800000000000UL;
    x.in.extent_start = list;
    x.nr_exchanged = (hv - (u64)list) / 8;
    x.in.nr_extents = x.out.nr_extents = x.nr_exchanged + 1;
    check("memory exchange EFAULT nr_exchanged pointing into Xen (XSA-212)", memop(XENMEM_exchange, &x), -EFAULT);
    x.in.extent_start = &in;
    x.out.extent_start = (u64 *)(NONCANONICAL - 8);
    x.in.nr_extents = x.out.nr_extents = 2;
    x.nr_exchanged = 1;
    check("memory exchange EFAULT out range from nr_exchanged (XSA-212)", memop(XENMEM_exchange, &x), -EFAULT);

    /* A frame the domain does not own: -EINVAL, nothing exchanged. */
    map(page(7), M2P_INVALID);
    u64 gone = mfn_list[pfn_of(page(7))];
    resv(XENMEM_decrease_reservation, &gone, 1, 0);
    mfn_list[pfn_of(page(7))] = M2P_INVALID;
    u64 ins[2] = { gone, 0 };
    u64 outs[2] = { pfn_of(page(7)), 0 };
    struct xen_memory_exchange y = { { ins, 1, 0, 0, DOMID_SELF }, { outs, 1, 0, 0, DOMID_SELF }, 0 };
    check("memory exchange EINVAL frame not the domain's", memop(XENMEM_exchange, &y), -EINVAL);
    check("memory exchange nr_exchanged 0 after a failed first chunk", (long)y.nr_exchanged, 0);
    /* Two chunks, the second failing: the first stays exchanged, nr_exchanged 1. */
    map(pg, M2P_INVALID);
    ins[0] = mfn_list[pfn];
    ins[1] = gone;
    outs[0] = pfn;
    outs[1] = pfn_of(page(7));
    y.in.nr_extents = y.out.nr_extents = 2;
    check("memory exchange EINVAL second chunk", memop(XENMEM_exchange, &y), -EINVAL);
    check("memory exchange nr_exchanged 1 after the first chunk", (long)y.nr_exchanged, 1);
    check("memory exchange first chunk's M2P", (long)M2P[outs[0]], (long)pfn);
    mfn_list[pfn] = outs[0];
    map(pg, outs[0]);
    u64 p7 = pfn_of(page(7));
    resv(XENMEM_populate_physmap, &p7, 1, 0);
    mfn_list[pfn_of(page(7))] = p7;
    map(page(7), p7);
    check("memory current unchanged after exchanges", query(XENMEM_current_reservation, DOMID_SELF), cur);
    check("memory p2m and M2P agree after exchanges", p2m_m2p_mismatches(), 0);
}

static void physmap(void)
{
    struct xen_add_to_physmap a = { DOMID_SELF, 0, XENMAPSPACE_shared_info, 0, pfn_of(page(0)) };
    check("memory add_to_physmap shared_info EACCES for a PV domain", memop(XENMEM_add_to_physmap, &a), -EACCES);
    a.space = XENMAPSPACE_grant_table;
    check("memory add_to_physmap grant_table EACCES for a PV domain", memop(XENMEM_add_to_physmap, &a), -EACCES);
    a.space = 99;
    check("memory add_to_physmap bad space EACCES for a PV domain", memop(XENMEM_add_to_physmap, &a), -EACCES);
    a.space = XENMAPSPACE_gmfn_foreign;
    check("memory add_to_physmap gmfn_foreign ENOSYS", memop(XENMEM_add_to_physmap, &a), -ENOSYS);
    a.space = XENMAPSPACE_shared_info;
    a.domid = NO_SUCH_DOMAIN;
    check("memory add_to_physmap ESRCH unknown domain", memop(XENMEM_add_to_physmap, &a), -ESRCH);
    check("memory add_to_physmap EFAULT bad pointer", memop(XENMEM_add_to_physmap, UNMAPPED), -EFAULT);
    check("memory add_to_physmap EDOM start extent above u16",
          memop(XENMEM_add_to_physmap | (0x10000UL << MEMOP_EXTENT_SHIFT), &a), -EDOM);
}

int guest_main(void)
{
    mfn_list = (u64 *)start_info_ptr->mfn_list;
    queries();
    reservations();
    exchanges();
    physmap();
    return 0;
}
