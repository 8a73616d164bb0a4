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

#define HC_xen_version 17
#define HC_console_io 18
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

extern struct start_info *start_info_ptr;

void print(const char *s);
void printk(const char *fmt, ...);
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
unsigned long strlen(const char *s);
void shutdown(unsigned reason);

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
