/*
 * multicall-ops: __HYPERVISOR_multicall's per-entry results and its errors, checked by the
 * guest itself ("ok"/"FAIL" per check).
 *
 * Sources (Xen):
 * - xen/common/multicall.c do_multicall: a multicall made while one is in progress
 *   (_MCSF_in_multicall) -EINVAL, so a nested entry's result is -EINVAL and the batch
 *   goes on; guest_handle_okay(call_list, nr_calls) failing -EFAULT before any entry
 *   runs (x86 array_access_ok: nr_calls < ~0UL / sizeof(entry), and __addr_ok of the
 *   start: below 2^47 or at/above HYPERVISOR_VIRT_END); an entry that cannot be read
 *   stops the batch with -EFAULT; each entry's result is copied back
 *   (__copy_field_to_guest), and a failing copy stops the batch with -EFAULT (the call
 *   itself has run); otherwise 0, whatever the entries returned. nr_calls is a uint32_t
 *   in Xen 4.19 (do_multicall; xen/include/hypercall-defs.c), the register's upper half
 *   ignored (4.20 widened it to unsigned long).
 * - xen/arch/x86/pv/hypercall.c pv_do_multicall_call: an op outside the hypercall table
 *   (the whole unsigned long compared) -ENOSYS in the entry's result.
 * - public/xen.h: struct multicall_entry { xen_ulong_t op, result; xen_ulong_t args[6]; }.
 * - A 32-bit guest's list is compat_multicall_entry (32-bit op, result and arguments,
 *   xen/common/compat/multicall.c); its handle is a native one (hypercall-defs.c
 *   "defhandle: multicall_entry_compat_t"), so guest_handle_okay applies the checks above
 *   to a 32-bit address, which they always pass: only the copies can fail. The compat op
 *   goes to call_handlers_pv32 (pv_do_multicall_call), -ENOSYS outside its table.
 * The same C for every arch; the probes of x86_64's address space are x86_64's only,
 * the unmapped and read-only pages those of arches with PV page tables (rt.h's
 * ARCH_PV_PAGE_TABLES; a PowerPC guest in real mode has neither). On PowerPC every
 * pointer an entry passes is a xencomm handle (GUEST_HANDLE), and, as x86_64, the whole
 * 64-bit op is compared.
 */
#include "xen.h"

#define XENVER_version 0
#define CONSOLEIO_write 0
#define SENTINEL 0xdeadUL

static struct multicall_entry mc[8] __attribute__((aligned(64)));
static struct multicall_entry inner[1];
static u16 self = DOMID_SELF;
#ifdef ARCH_PV_PAGE_TABLES
static u8 edge[2 * 4096] __attribute__((aligned(4096)));
static u8 ro[4096] __attribute__((aligned(4096)));
static const char ran_msg[] = "ok multicall entry in a read-only page ran before its result failed to copy\n";
#endif

static long multicall(void *list, unsigned long nr) { return HYPERCALL(HC_multicall, list, nr, 0, 0, 0); }
static struct multicall_entry entry(unsigned long op, unsigned long a0, unsigned long a1, unsigned long a2)
{
    return (struct multicall_entry){ op, SENTINEL, { a0, a1, a2, 0, 0, 0 } };
}

#ifdef ARCH_PV_PAGE_TABLES
static long map(void *va, unsigned long mfn, u64 flags)
{
    return UPDATE_VA_MAPPING(va, mfn ? ((u64)mfn << 12) | flags : 0, UVMF_INVLPG);
}
#endif

int guest_main(void)
{
    long version = HYPERCALL(HC_xen_version, XENVER_version, 0, 0, 0, 0);
    long pages = HYPERCALL(HC_memory_op, XENMEM_current_reservation, &self, 0, 0, 0);

    /* Per-entry results; failures stay in their entries. */
    mc[0] = entry(HC_xen_version, XENVER_version, 0, 0);
    mc[1] = entry(HC_vcpu_op, VCPUOP_is_up, 0, 0);
    mc[2] = entry(60, 0, 0, 0);
    mc[3] = entry(HC_vcpu_op, VCPUOP_is_up, 99, 0);
    mc[4] = entry(HC_memory_op, XENMEM_current_reservation, GUEST_HANDLE((unsigned long)&self), 0);
#if __SIZEOF_LONG__ == 8
    mc[5] = entry((1UL << 32) | HC_xen_version, XENVER_version, 0, 0);
#else
    mc[5] = entry(0x80000000UL | HC_xen_version, XENVER_version, 0, 0);
#endif
    check("multicall 6 entries returns 0", multicall(mc, 6), 0);
    check("multicall entry xen_version result", (long)mc[0].result, version);
    check("multicall entry vcpu_op is_up(0) result 1", (long)mc[1].result, 1);
    check("multicall entry unknown hypercall 60 ENOSYS", (long)mc[2].result, -ENOSYS);
    check("multicall entry vcpu_op is_up(99) ENOENT, batch goes on", (long)mc[3].result, -ENOENT);
    check("multicall entry memory_op current_reservation result", (long)mc[4].result, pages);
#if __SIZEOF_LONG__ == 8
    check("multicall entry op 2^32 + 17 ENOSYS (whole op compared)", (long)mc[5].result, -ENOSYS);
#else
    check("multicall entry op 2^31 + 17 ENOSYS (outside call_handlers_pv32)", (long)mc[5].result, -ENOSYS);
#endif

    /* A multicall inside a multicall. */
    inner[0] = entry(HC_xen_version, XENVER_version, 0, 0);
    mc[0] = entry(HC_vcpu_op, VCPUOP_is_up, 0, 0);
    mc[1] = entry(HC_multicall, GUEST_HANDLE((unsigned long)inner), 1, 0);
    mc[2] = entry(HC_xen_version, XENVER_version, 0, 0);
    check("multicall with a nested multicall returns 0", multicall(mc, 3), 0);
    check("multicall nested entry EINVAL", (long)mc[1].result, -EINVAL);
    check("multicall nested list not run", (long)inner[0].result, (long)SENTINEL);
    check("multicall entry after the nested one runs", (long)mc[2].result, version);
    check("multicall direct call after a rejected nesting", multicall(inner, 1), 0);
    check("multicall direct call after a rejected nesting result", (long)inner[0].result, version);

    /* Bad lists. */
    check("multicall nr_calls 0 returns 0", multicall(mc, 0), 0);
    mc[0] = entry(HC_xen_version, XENVER_version, 0, 0);
    check("multicall EFAULT unmapped list", multicall((void *)UNMAPPED_VA, 1), -EFAULT);
#ifdef __x86_64__
    check("multicall EFAULT non-canonical list", multicall((void *)(1UL << 47), 1), -EFAULT);
    check("multicall EFAULT list in Xen's range (read-only M2P)", multicall((void *)0xffff800000000000UL, 1), -EFAULT);
#endif
#if __SIZEOF_LONG__ == 8
    check("multicall nr_calls 2^58 is 0 calls (32-bit nr_calls)", multicall(mc, 1UL << 58), 0);
    check("multicall nr_calls 2^58 ran nothing", (long)mc[0].result, (long)SENTINEL);
#endif
#ifdef __x86_64__
    check("multicall EFAULT nr_calls 2^32 - 1 from the top of guest space", multicall((void *)0x7fffffffffc0UL, 0xffffffffUL), -EFAULT);
    check("multicall EFAULT non-canonical list with nr_calls 0", multicall((void *)(1UL << 47), 0), -EFAULT);
    check("multicall EFAULT list refused before any entry runs", (long)mc[0].result, (long)SENTINEL);
#endif
#if __SIZEOF_LONG__ == 8
    mc[1] = entry(HC_xen_version, XENVER_version, 0, 0);
    check("multicall nr_calls 2^32 + 1 is 1 call (32-bit nr_calls)", multicall(mc, (1UL << 32) + 1), 0);
    check("multicall nr_calls 2^32 + 1 ran entry 0", (long)mc[0].result, version);
    check("multicall nr_calls 2^32 + 1 left entry 1", (long)mc[1].result, (long)SENTINEL);
#endif

#ifdef ARCH_PV_PAGE_TABLES
    /* An entry at the end of a page, the next page unmapped: the first runs, then -EFAULT. */
    struct multicall_entry *e = (struct multicall_entry *)(edge + 4096 - sizeof(*e));
    *e = entry(HC_xen_version, XENVER_version, 0, 0);
    map(edge + 4096, 0, 0);
    check("multicall EFAULT second entry unreadable", multicall(e, 2), -EFAULT);
    check("multicall first entry ran before the unreadable one", (long)e->result, version);
    map(edge + 4096, mfn_of(edge + 4096), PTE_P | PTE_RW | PTE_A | PTE_D);

    /* An entry in a read-only page: its call runs, the result cannot be copied back. */
    struct multicall_entry *r = (struct multicall_entry *)ro;
    *r = entry(HC_console_io, CONSOLEIO_write, sizeof(ran_msg) - 1, (unsigned long)ran_msg);
    r[1] = entry(HC_console_io, CONSOLEIO_write, 5, (unsigned long)"FAIL\n");
    map(ro, mfn_of(ro), PTE_P | PTE_A);
    check("multicall EFAULT result not writable", multicall(r, 2), -EFAULT);
    map(ro, mfn_of(ro), PTE_P | PTE_RW | PTE_A | PTE_D);
    check("multicall result of the read-only entry not written", (long)r->result, (long)SENTINEL);
#endif
    return 0;
}
