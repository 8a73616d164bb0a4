/*
 * mmu (32-bit PAE PV): the PV MMU seen from a compat guest. Walks its own boot page
 * tables (PAE: L3, L2, L1 with 8-byte entries, mapped read-only), maps a spare page with
 * update_va_mapping (the entry as two words), with mmu_update and with 32-bit stores to
 * the read-only mapped entry (Xen's writable page tables), pins and unpins an L1
 * table, and checks that Xen refuses a writable mapping of a page-table page, a mapping of
 * a frame it does not own, a writable pinned table, and a write to the Xen slots of its
 * slot-3 L2 (is_guest_l2_slot: from COMPAT_L2_PAGETABLE_FIRST_XEN_SLOT, 428, up; -EPERM
 * from mod_l2_entry); the compat M2P (4-byte entries at HYPERVISOR_COMPAT_VIRT_START,
 * 0xf5800000, as XENMEM_machphys_mapping gives it).
 */
#include "rt.h"

#define MMUEXT_PIN_L1_TABLE 0
#define MMUEXT_UNPIN_TABLE 4
#define MMUEXT_INVLPG_LOCAL 7
#define DOMID_SELF 0x7ff0

static u32 *mfn_list;
static u8 spare[3 * 4096] __attribute__((aligned(4096)));

static u32 pfn_of(const void *va) { return (u32)va >> 12; }  /* no VIRT_BASE: va = pseudo-physical */
static u64 pte(u32 mfn, u64 flags) { return ((u64)mfn << 12) | flags; }


int guest_main(void)
{
    mfn_list = (u32 *)start_info_ptr->mfn_list;
    u64 *l1e = l1e_of(spare);
    printk("spare page l1e present %u writable %u\n", (u32)(*l1e & PTE_P), (u32)(*l1e & PTE_RW) >> 1);

    /* update_va_mapping: map spare[0]'s virtual page onto spare[1]'s frame. */
    spare[4096] = 0x5a;
    long rc = UPDATE_VA_MAPPING(spare, pte(mfn_of(spare + 4096), PTE_P | PTE_RW | PTE_A | PTE_D), UVMF_INVLPG);
    printk("update_va_mapping: %ld, reads %x\n", rc, spare[0]);

    /* mmu_update: put the original frame back through the L1 entry's machine address. */
    u32 l1_mfn = mfn_of(l1e);
    struct mmu_update u = { pte(l1_mfn, (u32)l1e & 4095), pte(mfn_of(spare), PTE_P | PTE_RW | PTE_A | PTE_D) };
    u32 done = 99;
    rc = HYPERCALL(HC_mmu_update, &u, 1, &done, DOMID_SELF, 0);
    struct mmuext_op flush = { MMUEXT_INVLPG_LOCAL, (u32)spare, 0 };
    HYPERCALL(HC_mmuext_op, &flush, 1, 0, DOMID_SELF, 0);
    printk("mmu_update: %ld, done %u, reads %x\n", rc, done, spare[0]);

    /*
     * Writable page tables: 32-bit stores to the read-only mapped entry's low word are
     * emulated by Xen (ptwr_emulated_update turns a 4-byte write into the whole 8-byte
     * entry with the other half as it is: here 0, the frames being below 2^20): a mov, an
     * xchg, and a cmpxchg that fails on a stale value.
     */
    volatile u32 *lo = (volatile u32 *)l1e;
    u64 orig = *l1e;
    *lo = (u32)pte(mfn_of(spare + 4096), PTE_P | PTE_RW | PTE_A | PTE_D);
    HYPERCALL(HC_mmuext_op, &flush, 1, 0, DOMID_SELF, 0);
    printk("direct store to the L1 entry: reads %x\n", spare[0]);
    u32 prev = __atomic_exchange_n(lo, (u32)orig, __ATOMIC_SEQ_CST);
    HYPERCALL(HC_mmuext_op, &flush, 1, 0, DOMID_SELF, 0);
    printk("xchg it back: old entry mapped spare[1] %s, reads %x\n",
           (prev >> 12) == mfn_of(spare + 4096) ? "yes" : "no", spare[0]);
    u32 expect = (u32)orig ^ 1;  /* wrong expected value: cmpxchg fails and changes nothing */
    int ok = __atomic_compare_exchange_n(lo, &expect, 0, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    printk("cmpxchg with a stale value: %s, entry %s\n", ok ? "swapped" : "failed", *l1e == orig ? "unchanged" : "CHANGED");

    /* A writable mapping of a page-table page is refused. */
    rc = UPDATE_VA_MAPPING(spare + 8192, pte(l1_mfn, PTE_P | PTE_RW | PTE_A | PTE_D), UVMF_INVLPG);
    printk("writable mapping of an L1 table: %ld\n", rc);
    /* A read-only one is fine. */
    rc = UPDATE_VA_MAPPING(spare + 8192, pte(l1_mfn, PTE_P | PTE_A), UVMF_INVLPG);
    printk("read-only mapping of an L1 table: %ld, same entry %s\n", rc,
           ((u64 *)(spare + 8192))[((u32)l1e & 4095) / 8] == *l1e ? "yes" : "no");

    /* A frame the domain does not own (frame 0). */
    rc = UPDATE_VA_MAPPING(spare + 8192, PTE_P | PTE_A, UVMF_INVLPG);
    printk("mapping machine frame 0: %ld\n", rc);

    /* A frame mapped writable (spare[1]) cannot become a page table. */
    struct mmuext_op pin = { MMUEXT_PIN_L1_TABLE, mfn_of(spare + 4096), 0 };
    rc = HYPERCALL(HC_mmuext_op, &pin, 1, 0, DOMID_SELF, 0);
    printk("pin a writable-mapped frame as L1: %ld\n", rc);

    /* A fresh frame from the top of the guest's memory, mapped nowhere writable... */
    u32 top_pfn = start_info_ptr->nr_pages - 1;
    pin.arg1 = mfn_list[top_pfn];
    rc = HYPERCALL(HC_mmuext_op, &pin, 1, 0, DOMID_SELF, 0);
    printk("pin unmapped frame as L1: %ld\n", rc);
    rc = HYPERCALL(HC_mmuext_op, &pin, 1, 0, DOMID_SELF, 0);
    printk("pin it again: %ld\n", rc);
    rc = UPDATE_VA_MAPPING(spare + 8192, pte(pin.arg1, PTE_P | PTE_RW | PTE_A | PTE_D), UVMF_INVLPG);
    printk("writable mapping of the pinned table: %ld\n", rc);
    pin.cmd = MMUEXT_UNPIN_TABLE;
    rc = HYPERCALL(HC_mmuext_op, &pin, 1, 0, DOMID_SELF, 0);
    printk("unpin: %ld\n", rc);
    rc = HYPERCALL(HC_mmuext_op, &pin, 1, 0, DOMID_SELF, 0);
    printk("unpin again: %ld\n", rc);
    rc = UPDATE_VA_MAPPING(spare + 8192, pte(pin.arg1, PTE_P | PTE_RW | PTE_A | PTE_D), UVMF_INVLPG);
    printk("writable mapping after unpin: %ld\n", rc);

    /* The Xen slots of the L2 under L3 slot 3 are not the guest's. */
    u64 *l3 = va_of_mfn(cr3_mfn(read_cr3()));
    u32 l2_mfn = (u32)((l3[3] & PTE_ADDR_MASK) >> 12);
    struct mmu_update x = { pte(l2_mfn, 428 * 8), 0 };
    rc = HYPERCALL(HC_mmu_update, &x, 1, 0, DOMID_SELF, 0);
    printk("write to slot-3 L2 slot 428: %ld\n", rc);
    const u32 *m2p = (const u32 *)0xf5800000;
    printk("M2P of the spare frame: pfn %s\n", m2p[mfn_of(spare)] == pfn_of(spare) ? "matches" : "WRONG");

    /* Unknown mmu_update command. */
    struct mmu_update bad = { 3, 0 };
    rc = HYPERCALL(HC_mmu_update, &bad, 1, 0, DOMID_SELF, 0);
    printk("mmu_update command 3: %ld\n", rc);
    return 0;
}
