/*
 * A tiny freestanding runtime for hvkit's 64-bit PowerPC C test guests (abi/ppc.md):
 * hypercalls are `sc 1` with r3 = XEN_MARK | number, arguments in r4..r8, the result in
 * r3; every guest pointer a hypercall takes is an inline xencomm handle (the buffer's
 * guest-physical address | 1 << 63: the guest runs in real mode, where addresses are
 * guest-physical), which HYPERCALL makes of any pointer argument. The same interface as
 * the other arches' rt.h for what the common sources it builds use.
 */
#ifndef HVKIT_RT_H
#define HVKIT_RT_H

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define XEN_MARK 0xffffffffffff0000UL
/*
 * Xen/ppc translated every domain (paging_mode_translate): guests name their own guest
 * frames (memory_op copies no machine frame back), and the common sources check what Xen
 * answers such a guest where it differs. A translated guest maps frames in its own page
 * tables: hpt.h's translation_on, map_frame and MAP_AREA, included at the end.
 */
#define ARCH_TRANSLATED 1
#define XENCOMM_INLINE_FLAG 0x8000000000000000UL

/* A hypercall argument: a pointer becomes its inline xencomm handle (gcc's pointer type class is 5). */
#define HC_ARG(a) ((unsigned long)(a) | (__builtin_classify_type(a) == 5 ? XENCOMM_INLINE_FLAG : 0))

#define HYPERCALL(nr, a1, a2, a3, a4, a5) ({                                   \
    register unsigned long __r3 asm("r3") = XEN_MARK | (nr);                    \
    register unsigned long __r4 asm("r4") = HC_ARG(a1);                         \
    register unsigned long __r5 asm("r5") = HC_ARG(a2);                         \
    register unsigned long __r6 asm("r6") = HC_ARG(a3);                         \
    register unsigned long __r7 asm("r7") = HC_ARG(a4);                         \
    register unsigned long __r8 asm("r8") = HC_ARG(a5);                         \
    asm volatile ("sc 1"                                                        \
                  : "+r" (__r3), "+r" (__r4), "+r" (__r5), "+r" (__r6),         \
                    "+r" (__r7), "+r" (__r8)                                    \
                  :                                                             \
                  : "memory", "r0", "r9", "r10", "r11", "r12", "ctr", "xer",    \
                    "cr0", "cr1", "cr5", "cr6", "cr7");                         \
    (long)__r3; })

#define HC_xen_version 17
#define HC_console_io 18
#define HC_sched_op 29

/*
 * A pointer stored inside a hypercall's struct (a guest handle field) is a xencomm handle
 * too; xen-common.h's GUEST_HANDLE is the identity on the arches where it is an address.
 */
#define GUEST_HANDLE(p) ((__typeof__((p) + 0))((unsigned long)(p) | XENCOMM_INLINE_FLAG))

/* struct xen_arch_domainconfig (xen-common.h's createdomain, getdomaininfo): empty on PowerPC. */
#define ARCH_DOMAINCONFIG
#define ARCH_DOMAINCONFIG_SIZE 0

/* The ring protocols' rmb/wmb: PowerPC orders stores weakly (Linux's virt_mb is sync). */
#define barrier() asm volatile ("sync" ::: "memory")

/* The flattened device tree the domain was entered with (r3), saved by head.S. */
extern u64 device_tree;

/*
 * PowerPC has no start_info page; what the x86 guests read there, start-info.c reads from
 * the device tree (abi/ppc.md) before guest_main: the memory nodes' sizes, /xen's
 * shared-info, its console and store children (reg and interrupts), /chosen/bootargs.
 * Frames are guest frame numbers (every ppc domain is translated); the initial domain
 * (/xen reg 0) is SIF_PRIVILEGED | SIF_INITDOMAIN. No P2M list: mfn_list is 0.
 */
struct start_info {
    u64 nr_pages, shared_info;
    u32 flags;
    u64 store_mfn;
    u32 store_evtchn;
    u64 console_mfn_or_info;
    u32 console_evtchn;
    u64 mfn_list;
    const char *cmd_line;
};
extern struct start_info *start_info_ptr;

/* The shared_info page (xen.h, arch-powerpc.h: arch_vcpu_info empty, arch_shared_info the boot time base). */
#include "vcpu-time-info.h"
struct vcpu_info {
    volatile u8 evtchn_upcall_pending, evtchn_upcall_mask;
    u8 _pad[6];
    volatile u64 evtchn_pending_sel;
    struct vcpu_time_info time;
};
struct shared_info {
    struct vcpu_info vcpu_info[32];
    volatile u64 evtchn_pending[64];
    volatile u64 evtchn_mask[64];
    volatile u32 wc_version, wc_sec, wc_nsec, wc_sec_hi;
    u64 boot_timebase;
};
_Static_assert(sizeof(struct vcpu_info) == 48, "vcpu_info");
#define EVTCHN_WORD_BITS 64
#define xen_wc_sec_hi wc_sec_hi

/* A guest-physical address no domain has (2 TiB): what -EFAULT checks use. */
#define UNMAPPED_VA 0x20000000000UL

/* The guest frame of an address (real mode: addresses are guest-physical). */
static inline u64 mfn_of(const void *va) { return (u64)va >> 12; }
/* The address of a frame start_info names: its guest frame, in real mode. */
static inline void *boot_frame_va(u64 frame) { return (void *)(frame << 12); }

/* Unmaps the guest page at `va` before its frame is given away: nothing is mapped in real mode. */
static inline void unmap_page(void *va) { (void)va; }

/* The counter vcpu_time_info scales (rt-common.h's vcpu_time_now): the time base. */
static inline u64 time_counter(void)
{
    u64 tb;
    asm volatile ("mftb %0" : "=r" (tb));
    return tb;
}

void print(const char *s);
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
unsigned long strlen(const char *s);
void shutdown(unsigned reason);

#include "rt-common.h"
#include "hpt.h"

#endif
