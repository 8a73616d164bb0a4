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

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

#define XEN_MARK 0xffffffffffff0000UL
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

/* The flattened device tree the domain was entered with (r3), saved by head.S. */
extern u64 device_tree;

void print(const char *s);
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);
unsigned long strlen(const char *s);
void shutdown(unsigned reason);

#endif
