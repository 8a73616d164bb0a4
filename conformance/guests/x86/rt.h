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
    u32 console_mfn_or_info, console_evtchn_or_size;
    u32 pt_base, nr_pt_frames, mfn_list, mod_start, mod_len;
    char cmd_line[1024];
    u32 first_p2m_pfn, nr_p2m_frames;
};

/*
 * mmu_update is the same for both guest kinds (two uint64_t); mmuext_op's arguments are
 * 32-bit here (compat xlat of xen_mfn_t / unsigned long / handles).
 */
struct mmu_update { u64 ptr, val; };
struct mmuext_op { u32 cmd, arg1, arg2; };

extern struct start_info *start_info_ptr;

void print(const char *s);
void printk(const char *fmt, ...);
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
 * Conformance checks: one line per check, "ok <what>" when the guest saw what Xen
 * specifies, else "FAIL <what>: got <got> want <want>" (as the x86_64 rt.h).
 */
static inline void check(const char *what, long got, long want)
{
    if (got == want)
        printk("ok %s\n", what);
    else
        printk("FAIL %s: got %ld want %ld\n", what, got, want);
}

#endif
