/*
 * A tiny freestanding runtime for hvkit's 32-bit x86 (PAE PV) C test guests: hypercalls
 * through the hypercall page, console output, and the start_info the builder handed over.
 * The same interface as the x86_64 guests' rt.h, so the C sources in ../common build for
 * both. Numbers and layouts from Xen's public headers as a 32-bit PV guest sees them
 * (xen.h, arch-x86/xen-x86_32.h): hypercall number in eax, arguments in ebx, ecx, edx,
 * esi, edi (ebp the sixth), result in eax, through the page's `int $0x82` stubs.
 */
#ifndef HVKIT_RT_H
#define HVKIT_RT_H

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

extern u8 hypercall_page[4096];

#define HYPERCALL(nr, a1, a2, a3, a4, a5) ({                                   \
    long __res;                                                                 \
    long __a1 = (long)(a1), __a2 = (long)(a2), __a3 = (long)(a3);               \
    long __a4 = (long)(a4), __a5 = (long)(a5);                                  \
    asm volatile ("call hypercall_page + %c[off]"                              \
                  : "=a" (__res), "+b" (__a1), "+c" (__a2), "+d" (__a3),        \
                    "+S" (__a4), "+D" (__a5)                                    \
                  : [off] "i" ((nr) * 32)                                       \
                  : "memory");                                                  \
    __res; })

#define HC_set_trap_table 0
#define HC_mmu_update 1
#define HC_stack_switch 3
#define HC_update_va_mapping 14
#define HC_xen_version 17
#define HC_console_io 18
#define HC_mmuext_op 26
#define HC_sched_op 29

/* start_info for x86_32 (xen.h): every `unsigned long` and xen_pfn_t is 32 bits. */
struct start_info {
    char magic[32];
    u32 nr_pages, shared_info, flags, store_mfn, store_evtchn;
    u32 console_mfn_or_info, console_evtchn;
    u32 pt_base, nr_pt_frames, mfn_list, mod_start, mod_len;
    char cmd_line[1024];
    u32 first_p2m_pfn, nr_p2m_frames;
};

/*
 * mmu_update is the same for both guest kinds (two uint64_t); mmuext_op's arguments are
 * 32-bit here (compat xlat of xen_mfn_t / unsigned long / handles).
 */
/* trap_info as a 32-bit guest passes it (arch-x86/xen.h: 8 bytes with a 32-bit address). */
struct trap_info { u8 vector, flags; u16 cs; u32 address; };
struct mmu_update { u64 ptr, val; };
struct mmuext_op { u32 cmd, arg1, arg2; };

extern struct start_info *start_info_ptr;

void print(const char *s);
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
unsigned long strlen(const char *s);
void shutdown(unsigned reason);

/* Page-table entry bits (x86) and update_va_mapping flags (xen.h UVMF_*). */
#define PTE_P 1ULL
#define PTE_RW 2ULL
#define PTE_A 0x20ULL
#define PTE_D 0x40ULL
#define PTE_ADDR_MASK 0x000ffffffffff000ULL
#define UVMF_INVLPG 2

/*
 * update_va_mapping(va, pte, flags) for a 32-bit guest: the 64-bit PAE entry travels as
 * two words, low first (compat do_update_va_mapping: va, val_lo, val_hi, flags).
 */
#define UPDATE_VA_MAPPING(va, pte, flags) \
    HYPERCALL(HC_update_va_mapping, (va), (u32)(pte), (u32)((u64)(pte) >> 32), (flags), 0)

static inline u32 read_cr3(void) { u32 v; asm volatile ("mov %%cr3, %0" : "=r" (v)); return v; }
static inline u32 read_cr2(void) { u32 v; asm volatile ("mov %%cr2, %0" : "=r" (v)); return v; }
/* The frame a compat guest's cr3 names (compat_cr3_to_pfn: the frame number rotated by 12). */
static inline u32 cr3_mfn(u32 cr3) { return (cr3 >> 12) | (cr3 << 20); }

/* Machine frame of a guest address: the pseudo-physical map is 1:1 from 0, a 4-byte p2m. */
static inline u32 mfn_of(const void *va) { return ((u32 *)start_info_ptr->mfn_list)[(u32)va >> 12]; }

/* Guest address of machine frame `mfn` (a search of the P2M list), 0 if not the guest's. */
static inline void *va_of_mfn(u32 mfn)
{
    const u32 *mfn_list = (const u32 *)start_info_ptr->mfn_list;
    for (u32 pfn = 0; pfn < start_info_ptr->nr_pages; pfn++)
        if (mfn_list[pfn] == mfn) return (void *)(pfn << 12);
    return 0;
}

/* The L1 entry mapping `va`, walked from cr3 through PAE's L3 (4 entries), L2 and L1. */
static inline u64 *l1e_of(const void *va)
{
    u64 *l3 = va_of_mfn(cr3_mfn(read_cr3()));
    u64 *l2 = va_of_mfn((u32)((l3[(u32)va >> 30] & PTE_ADDR_MASK) >> 12));
    u64 *l1 = va_of_mfn((u32)((l2[((u32)va >> 21) & 511] & PTE_ADDR_MASK) >> 12));
    return &l1[((u32)va >> 12) & 511];
}

/*
 * The shared_info page as a 32-bit PV guest sees it (xen.h, arch-x86/xen.h,
 * arch-x86/xen-x86_32.h): xen_ulong_t is 32 bits, so 32 words of 32 event bits (1,024
 * ports) and a 32-bit selector; vcpu_info is 64 bytes; wc_sec_hi is in arch_shared_info.
 */
#include "vcpu-time-info.h"
struct vcpu_info {
    volatile u8 evtchn_upcall_pending, evtchn_upcall_mask;
    u8 _pad[2];
    volatile unsigned long evtchn_pending_sel;
    u32 cr2, _pad1[5];
    struct vcpu_time_info time;
};
struct shared_info {
    struct vcpu_info vcpu_info[32];
    volatile unsigned long evtchn_pending[32];
    volatile unsigned long evtchn_mask[32];
    volatile u32 wc_version, wc_sec, wc_nsec;
    struct {
        u32 max_pfn, pfn_to_mfn_frame_list_list, nmi_reason, p2m_cr3, p2m_vaddr, p2m_generation;
        volatile u32 wc_sec_hi;
    } arch;
};
_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info");
/* Bits per event word (also the number of words), and where wc_sec_hi lives (xen.h's names). */
#define EVTCHN_WORD_BITS 32
#define xen_wc_sec_hi arch.wc_sec_hi
/*
 * The compat M2P (4-byte entries at HYPERVISOR_COMPAT_VIRT_START, as
 * XENMEM_machphys_mapping gives it) and its invalid entry, by xen.h's names.
 */
#define machine_to_phys_mapping ((const unsigned long *)0xf5800000)
#define INVALID_M2P_ENTRY (~0UL)
/* A guest address nothing is mapped at (below Xen's range): what -EFAULT checks use. */
#define UNMAPPED_VA 0xc0000000UL
_Static_assert(__builtin_offsetof(struct shared_info, arch.wc_sec_hi) == 2340, "wc_sec_hi");

/* Maps the shared_info page start_info names at the guest page `page`, writable (update_va_mapping's result). */
static inline long map_shared_info(void *page)
{
    return UPDATE_VA_MAPPING(page, (u64)start_info_ptr->shared_info | PTE_P | PTE_RW | PTE_A | PTE_D, UVMF_INVLPG);
}

#include "rt-x86-pv.h"

#include "rt-common.h"

#endif
