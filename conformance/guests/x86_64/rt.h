/*
 * A tiny freestanding runtime for hvkit's C test guests: hypercalls through the
 * hypercall page, console output, and the start_info the builder handed over.
 * Numbers and layouts from Xen's public headers (xen.h, arch-x86/xen-x86_64.h).
 */
#ifndef HVKIT_RT_H
#define HVKIT_RT_H

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

extern u8 hypercall_page[4096];

#define HYPERCALL(nr, a1, a2, a3, a4, a5) ({                                   \
    long __res;                                                                 \
    register long __a4 asm("r10") = (long)(a4);                                 \
    register long __a5 asm("r8") = (long)(a5);                                  \
    long __a1 = (long)(a1), __a2 = (long)(a2), __a3 = (long)(a3);               \
    asm volatile ("call hypercall_page + %c[off]"                              \
                  : "=a" (__res), "+D" (__a1), "+S" (__a2), "+d" (__a3),        \
                    "+r" (__a4), "+r" (__a5)                                    \
                  : [off] "i" ((nr) * 32)                                       \
                  : "memory", "rcx", "r11", "r9");                              \
    __res; })

#define HC_set_trap_table 0
#define HC_mmu_update 1
#define HC_set_gdt 2
#define HC_stack_switch 3
#define HC_update_va_mapping 14
#define HC_xen_version 17
#define HC_console_io 18
#define HC_grant_table_op 20
#define HC_set_segment_base 25
#define HC_mmuext_op 26
#define HC_sched_op 29
#define HC_callback_op 30

struct start_info {
    char magic[32];
    u64 nr_pages, shared_info;
    u32 flags, _pad0;
    u64 store_mfn;
    u32 store_evtchn, _pad1;
    u64 console_mfn_or_info;
    u32 console_evtchn, _pad2;
    u64 pt_base, nr_pt_frames, mfn_list, mod_start, mod_len;
    char cmd_line[1024];
    u64 first_p2m_pfn, nr_p2m_frames;
};

struct trap_info { u8 vector, flags; u16 cs; u32 _pad; u64 address; };
struct mmu_update { u64 ptr, val; };
struct mmuext_op { u32 cmd, _pad; u64 arg1, arg2; };

extern struct start_info *start_info_ptr;

void print(const char *s);
void printk(const char *fmt, ...);
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
unsigned long strlen(const char *s);
void shutdown(unsigned reason);

static inline u64 read_cr3(void) { u64 v; asm volatile ("mov %%cr3, %0" : "=r" (v)); return v; }
static inline u64 read_cr2(void) { u64 v; asm volatile ("mov %%cr2, %0" : "=r" (v)); return v; }
/* The frame cr3 names (a 64-bit guest's cr3 is the frame's address). */
static inline u64 cr3_mfn(u64 cr3) { return cr3 >> 12; }

/* Page-table entry bits (x86) and update_va_mapping flags (xen.h UVMF_*). */
#define PTE_P 1UL
#define PTE_RW 2UL
#define PTE_A 0x20UL
#define PTE_D 0x40UL
#define UVMF_INVLPG 2UL

/* update_va_mapping(va, pte, flags): the entry in one register (a macro shared with x86). */
#define UPDATE_VA_MAPPING(va, pte, flags) HYPERCALL(HC_update_va_mapping, (va), (pte), (flags), 0, 0)

/* The shared_info page as a 64-bit PV guest sees it (xen.h, arch-x86/xen.h). */
#include "vcpu-time-info.h"
struct vcpu_info {
    volatile u8 evtchn_upcall_pending, evtchn_upcall_mask;
    u8 _pad[6];
    volatile u64 evtchn_pending_sel;
    u64 cr2, _pad1;
    struct vcpu_time_info time;
};
struct shared_info {
    struct vcpu_info vcpu_info[32];
    volatile u64 evtchn_pending[64];
    volatile u64 evtchn_mask[64];
    volatile u32 wc_version, wc_sec, wc_nsec, wc_sec_hi;
};

/*
 * What C shared with 32-bit x86 (../common) names the same way on both: bits per event
 * word (xen_ulong_t; also the number of words in evtchn_pending/evtchn_mask) and where
 * wc_sec_hi lives (xen.h's own xen_wc_sec_hi).
 */
#define EVTCHN_WORD_BITS 64
#define xen_wc_sec_hi wc_sec_hi
/* The read-only M2P and its invalid entry, by xen-x86_64.h's and xen.h's names. */
#define machine_to_phys_mapping ((const unsigned long *)0xffff800000000000UL)
#define INVALID_M2P_ENTRY (~0UL)
/* A guest address nothing is mapped at (below Xen's range): what -EFAULT checks use. */
#define UNMAPPED_VA 0x7fff00000000UL

/* Maps the shared_info page start_info names at the guest page `page`, writable (update_va_mapping's result). */
static inline long map_shared_info(void *page)
{
    u64 si_mfn = start_info_ptr->shared_info >> 12;
    return HYPERCALL(HC_update_va_mapping, page, (si_mfn << 12) | PTE_P | PTE_RW | PTE_A | PTE_D, UVMF_INVLPG, 0, 0);
}

/* Machine frame of a guest address: the guest's pseudo-physical map is 1:1 from 0. */
static inline u64 mfn_of(const void *va) { return ((u64 *)start_info_ptr->mfn_list)[(u64)va >> 12]; }

/* Guest address of machine frame `mfn` (a search of the P2M list), 0 if not the guest's. */
static inline void *va_of_mfn(u64 mfn)
{
    const u64 *mfn_list = (const u64 *)start_info_ptr->mfn_list;
    for (u64 pfn = 0; pfn < start_info_ptr->nr_pages; pfn++)
        if (mfn_list[pfn] == mfn) return (void *)(pfn << 12);
    return 0;
}

/* The L1 entry mapping `va`, walked from cr3 (a PV guest's page tables are mapped read-only). */
#define PTE_ADDR_MASK 0x000ffffffffff000UL
static inline u64 *l1e_of(const void *va)
{
    u64 *t = va_of_mfn(read_cr3() >> 12);
    for (int level = 4; level > 1; level--) {
        u64 e = t[((u64)va >> (12 + 9 * (level - 1))) & 511];
        t = va_of_mfn((e & PTE_ADDR_MASK) >> 12);
    }
    return &t[((u64)va >> 12) & 511];
}

#include "rt-x86-pv.h"

#include "rt-common.h"

#endif
