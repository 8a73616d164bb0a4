/*
 * mem-balloon: a balloon driver's round trip through memory_op, as the initial domain.
 * Reads its reservation, unmaps four pages and gives their frames back
 * (decrease_reservation: the M2P entries become invalid, the count drops by four),
 * populates the same pseudo-physical frames again (new
 * machine frames come back in place of the gpfns; the M2P maps them to those gpfns),
 * remaps them, exchanges one page for another, and checks the errors memory_op gives
 * for bad orders and inconsistent exchanges. Numbers: xen/include/public/memory.h
 * (xen-common.h; the same C for x86_64 and 32-bit x86, each reading its own M2P).
 */
#include "xen.h"

#define M2P machine_to_phys_mapping
#define NR 4

static u8 balloon[NR * 4096] __attribute__((aligned(4096)));
static unsigned long *mfn_list;
static unsigned long extra[2048];

static long memop(int cmd, void *arg) { return HYPERCALL(HC_memory_op, cmd, arg, 0, 0, 0); }

static long reservation(int cmd)
{
    u16 domid = DOMID_SELF;
    return memop(cmd, &domid);
}

static long resv(int cmd, unsigned long *list, unsigned long nr, u32 order)
{
    struct xen_memory_reservation r = { list, nr, order, 0, DOMID_SELF };
    return memop(cmd, &r);
}

static unsigned long pfn_of(const void *va) { return (unsigned long)va >> 12; } /* va = pseudo-physical */

static long map(void *va, unsigned long mfn)
{
    u64 pte = mfn ? ((u64)mfn << 12) | PTE_P | PTE_RW | PTE_A | PTE_D : 0;
    return UPDATE_VA_MAPPING(va, pte, UVMF_INVLPG);
}

int guest_main(void)
{
    mfn_list = (unsigned long *)start_info_ptr->mfn_list;
    long cur = reservation(XENMEM_current_reservation);
    long max = reservation(XENMEM_maximum_reservation);
    /* Absolute figures depend on the machine's memory; print them relative to the start. */
    printk("reservation: current == start_info nr_pages %s, maximum >= current %s\n",
           (unsigned long)cur == start_info_ptr->nr_pages ? "yes" : "NO", max >= cur ? "yes" : "NO");

    /* Balloon down: unmap the pages, give back their frames. */
    unsigned long frames[NR];
    for (int i = 0; i < NR; i++) {
        balloon[i * 4096] = 0x11 * (i + 1);
        frames[i] = mfn_list[pfn_of(balloon + i * 4096)];
    }
    for (int i = 0; i < NR; i++) map(balloon + i * 4096, 0);
    long rc = resv(XENMEM_decrease_reservation, frames, NR, 0);
    int invalid = 0;
    for (int i = 0; i < NR; i++) invalid += M2P[frames[i]] == INVALID_M2P_ENTRY;
    printk("decrease %d frames: %ld done, current %ld, M2P entries invalid %d\n", NR, rc,
           reservation(XENMEM_current_reservation) - cur, invalid);
    rc = resv(XENMEM_decrease_reservation, frames, 1, 0);
    printk("decrease a frame already given back: %ld done\n", rc);

    /* Balloon up: the same gpfns get new frames. */
    unsigned long gpfns[NR];
    for (int i = 0; i < NR; i++) gpfns[i] = pfn_of(balloon + i * 4096);
    rc = resv(XENMEM_populate_physmap, gpfns, NR, 0);
    int m2p_ok = 0, zeroed = 0;
    for (int i = 0; i < NR; i++) {
        m2p_ok += M2P[gpfns[i]] == pfn_of(balloon + i * 4096);
        mfn_list[pfn_of(balloon + i * 4096)] = gpfns[i];
        map(balloon + i * 4096, gpfns[i]);
        zeroed += balloon[i * 4096] == 0;
        balloon[i * 4096] = 0x5a;
    }
    printk("populate %d frames: %ld done, current %ld, M2P maps them back %d, zeroed %d\n", NR, rc,
           reservation(XENMEM_current_reservation) - cur, m2p_ok, zeroed);

    /*
     * Ask for more than max_pages allows (or memory holds): increase_reservation does
     * what it can and returns the count; the frames come back in `extra`.
     */
    unsigned long want = (unsigned long)(max - cur) + 1;
    if (want > sizeof(extra) / sizeof(extra[0])) want = sizeof(extra) / sizeof(extra[0]);
    rc = resv(XENMEM_increase_reservation, extra, want, 0);
    long now = reservation(XENMEM_current_reservation);
    printk("increase past the limit: partial %s, current grew by the count %s, within maximum %s\n",
           rc > 0 && (unsigned long)rc < want ? "yes" : "NO", now - cur == rc ? "yes" : "NO", now <= max ? "yes" : "NO");
    long back = resv(XENMEM_decrease_reservation, extra, (unsigned long)rc, 0);
    printk("give them back: %s, current %ld\n", back == rc ? "all" : "NOT ALL",
           reservation(XENMEM_current_reservation) - cur);

    /* Exchange one page's frame for a fresh one at the same gpfn. */
    void *page = balloon + 4096;
    map(page, 0);
    unsigned long in = mfn_list[pfn_of(page)], out = pfn_of(page);
    struct xen_memory_exchange x = {
        { GUEST_HANDLE(&in), 1, 0, 0, DOMID_SELF }, { GUEST_HANDLE(&out), 1, 0, 0, DOMID_SELF }, 0 };
    rc = memop(XENMEM_exchange, &x);
    printk("exchange one page: %ld, nr_exchanged %lu, new frame %s, M2P %s\n", rc, x.nr_exchanged,
           out != in ? "differs" : "SAME", M2P[out] == pfn_of(page) ? "ok" : "WRONG");
    mfn_list[pfn_of(page)] = out;
    map(page, out);

    /* Errors. */
    x.nr_exchanged = 0;
    x.out.nr_extents = 2;
    printk("exchange with unequal sizes: %ld\n", memop(XENMEM_exchange, &x));
    x.out.nr_extents = 1;
    x.in.extent_order = x.out.extent_order = 19;
    printk("exchange with order 19: %ld\n", memop(XENMEM_exchange, &x));
    printk("populate with order 19: %ld done\n", resv(XENMEM_populate_physmap, gpfns, 1, 19));
    printk("exchange at a non-zero start extent: %ld\n", memop(XENMEM_exchange | (1 << 6), &x));
    printk("reservation at the end: current %ld, maximum %ld\n",
           reservation(XENMEM_current_reservation) - cur, reservation(XENMEM_maximum_reservation) - max);
    return 0;
}
