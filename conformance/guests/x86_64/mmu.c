/*
 * mmu: the PV MMU seen from a guest. Walks its own boot page tables (read-only mapped),
 * maps a spare page with update_va_mapping and with mmu_update, pins and unpins an L1
 * table, and checks that Xen refuses a writable mapping of a page-table page, a mapping
 * of a frame it does not own, a writable pinned table, and a write to its L4 hole slots.
 */
#include "rt.h"


static u64 *mfn_list;
static u8 spare[3 * 4096] __attribute__((aligned(4096)));

static u64 pfn_of(const void *va) { return (u64)va >> 12; }  /* no VIRT_BASE: va = pseudo-physical */

int guest_main(void)
{
    mfn_list = (u64 *)start_info_ptr->mfn_list;
    u64 *l1e = l1e_of(spare);
    printk("spare page l1e present %lu writable %lu\n", *l1e & PTE_P, (*l1e & PTE_RW) >> 1);

    /* update_va_mapping: map spare[0]'s virtual page onto spare[1]'s frame. */
    spare[4096] = 0x5a;
    long rc = HYPERCALL(HC_update_va_mapping, spare, (mfn_of(spare + 4096) << 12) | PTE_P | PTE_RW | PTE_A | PTE_D, 2, 0, 0);
    printk("update_va_mapping: %ld, reads %x\n", rc, spare[0]);

    /* mmu_update: put the original frame back through the L1 entry's machine address. */
    u64 l1_mfn = mfn_of(l1e);
    struct mmu_update u = { (l1_mfn << 12) | ((u64)l1e & 4095), (mfn_of(spare) << 12) | PTE_P | PTE_RW | PTE_A | PTE_D };
    u64 done = 99;
    rc = HYPERCALL(HC_mmu_update, &u, 1, &done, 0x7ff0, 0);
    struct mmuext_op flush = { 7, 0, (u64)spare, 0 };   /* MMUEXT_INVLPG_LOCAL */
    HYPERCALL(HC_mmuext_op, &flush, 1, 0, 0x7ff0, 0);
    printk("mmu_update: %ld, done %lu, reads %x\n", rc, done, spare[0]);

    /* Writable page tables: a store to a read-only mapped L1 entry is emulated by Xen. */
    u64 orig = *l1e;
    *(volatile u64 *)l1e = (mfn_of(spare + 4096) << 12) | PTE_P | PTE_RW | PTE_A | PTE_D;
    HYPERCALL(HC_mmuext_op, &flush, 1, 0, 0x7ff0, 0);
    printk("direct store to the L1 entry: reads %x\n", spare[0]);
    u64 prev = __atomic_exchange_n(l1e, orig, __ATOMIC_SEQ_CST);
    HYPERCALL(HC_mmuext_op, &flush, 1, 0, 0x7ff0, 0);
    printk("xchg it back: old entry mapped spare[1] %s, reads %x\n",
           ((prev & PTE_ADDR_MASK) >> 12) == mfn_of(spare + 4096) ? "yes" : "no", spare[0]);
    u64 expect = orig ^ 1;  /* wrong expected value: cmpxchg fails and changes nothing */
    int ok = __atomic_compare_exchange_n(l1e, &expect, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    printk("cmpxchg with a stale value: %s, entry %s\n", ok ? "swapped" : "failed", *l1e == orig ? "unchanged" : "CHANGED");

    /* A writable mapping of a page-table page is refused. */
    rc = HYPERCALL(HC_update_va_mapping, spare + 8192, (l1_mfn << 12) | PTE_P | PTE_RW | PTE_A | PTE_D, 2, 0, 0);
    printk("writable mapping of an L1 table: %ld\n", rc);
    /* A read-only one is fine. */
    rc = HYPERCALL(HC_update_va_mapping, spare + 8192, (l1_mfn << 12) | PTE_P | PTE_A, 2, 0, 0);
    printk("read-only mapping of an L1 table: %ld, same entry %s\n", rc,
           ((u64 *)(spare + 8192))[((u64)l1e & 4095) / 8] == *l1e ? "yes" : "no");

    /* A frame the domain does not own (its own L4's slot for Xen points at Xen frames; use frame 0). */
    rc = HYPERCALL(HC_update_va_mapping, spare + 8192, PTE_P | PTE_A, 2, 0, 0);
    printk("mapping machine frame 0: %ld\n", rc);

    /* A frame mapped writable (spare[1]) cannot become a page table. */
    struct mmuext_op pin = { 0, 0, mfn_of(spare + 4096), 0 };
    rc = HYPERCALL(HC_mmuext_op, &pin, 1, 0, 0x7ff0, 0);
    printk("pin a writable-mapped frame as L1: %ld\n", rc);

    /* A fresh frame from the top of the guest's memory, mapped nowhere writable... */
    u64 top_pfn = start_info_ptr->nr_pages - 1;
    pin.arg1 = mfn_list[top_pfn];
    rc = HYPERCALL(HC_mmuext_op, &pin, 1, 0, 0x7ff0, 0);
    printk("pin unmapped frame as L1: %ld\n", rc);
    rc = HYPERCALL(HC_mmuext_op, &pin, 1, 0, 0x7ff0, 0);
    printk("pin it again: %ld\n", rc);
    rc = HYPERCALL(HC_update_va_mapping, spare + 8192, (pin.arg1 << 12) | PTE_P | PTE_RW | PTE_A | PTE_D, 2, 0, 0);
    printk("writable mapping of the pinned table: %ld\n", rc);
    pin.cmd = 4;
    rc = HYPERCALL(HC_mmuext_op, &pin, 1, 0, 0x7ff0, 0);
    printk("unpin: %ld\n", rc);
    rc = HYPERCALL(HC_mmuext_op, &pin, 1, 0, 0x7ff0, 0);
    printk("unpin again: %ld\n", rc);
    rc = HYPERCALL(HC_update_va_mapping, spare + 8192, (pin.arg1 << 12) | PTE_P | PTE_RW | PTE_A | PTE_D, 2, 0, 0);
    printk("writable mapping after unpin: %ld\n", rc);

    /* Xen's L4 slots (256-271) are not the guest's. */
    u64 l4 = read_cr3() >> 12;
    struct mmu_update x = { (l4 << 12) + 256 * 8, 0 };
    rc = HYPERCALL(HC_mmu_update, &x, 1, 0, 0x7ff0, 0);
    printk("write to L4 slot 256: %ld\n", rc);
    u64 *m2p = (u64 *)0xffff800000000000UL;
    printk("M2P of the spare frame: pfn %s\n", m2p[mfn_of(spare)] == pfn_of(spare) ? "matches" : "WRONG");

    /* Unknown mmu_update command. */
    struct mmu_update bad = { 3, 0 };
    rc = HYPERCALL(HC_mmu_update, &bad, 1, 0, 0x7ff0, 0);
    printk("mmu_update command 3: %ld\n", rc);
    return 0;
}
