/*
 * translated: a ppc PV guest that leaves real mode (abi/ppc.md, docs/internals/ppc-mmu.md).
 * In real mode it reads the hashed page table's size from the device tree
 * (/cpus/cpu@0 "ibm,pft-size" <0 log2(bytes)>), loads two SLB entries (slbmte: ESID 0 and
 * ESID 1, each with its own VSID, Ks = Kp = 0) and enters PTEs with the PAPR hcall H_ENTER
 * (sc 1, r3 = 0x08): every page of its image at the same effective address (EA = its
 * guest-physical address, so inline xencomm handles stay right) and one page of it a
 * second time at EA 0x10000000. It then turns on instruction and data relocation with
 * rfid (SRR1 = MSR | IR | DR) and prints from translated mode: the MSR, and a word
 * stored through the alias and read back through the identity mapping. In real mode
 * EA 0x10000000 (256 MiB) lies past the 64 MiB real-mode area, so that store reaches the
 * page only through the HPT; an unmapped access would crash the domain (MSR[RI] = 0).
 *
 * Facts: Power ISA 2.01 Book III (SLB entry and slbmte operands, PTE format, primary hash,
 * MSR[IR] = 0x20, MSR[DR] = 0x10, rfid); PAPR H_ENTER (flags r4, ptex r5, PTE r6/r7,
 * H_Success 0), as Xen's ppc port took it (xen/arch/powerpc/papr/xlate.c).
 */
#include "rt.h"

#define H_ENTER 0x08
#define MSR_IR 0x20UL
#define MSR_DR 0x10UL
#define PAGE 4096UL
#define ALIAS 0x10000000UL /* ESID 1 */
#define VSID_IMAGE 0x2a5UL
#define VSID_ALIAS 0x3c7UL

extern char _start[], _end[];

/* A PAPR hcall: r3 is the bare token (no XEN_MARK). */
static long papr4(unsigned long token, unsigned long a, unsigned long b, unsigned long c,
                  unsigned long d)
{
    register unsigned long r3 asm("r3") = token;
    register unsigned long r4 asm("r4") = a;
    register unsigned long r5 asm("r5") = b;
    register unsigned long r6 asm("r6") = c;
    register unsigned long r7 asm("r7") = d;
    asm volatile("sc 1"
                 : "+r"(r3), "+r"(r4), "+r"(r5), "+r"(r6), "+r"(r7)
                 :
                 : "memory", "r0", "r8", "r9", "r10", "r11", "r12", "ctr", "xer", "cr0",
                   "cr1", "cr5", "cr6", "cr7");
    return (long)r3;
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

/* log2 of the HPT's bytes from the flattened device tree, or 0 when absent. */
static unsigned pft_size(const u8 *fdt)
{
    const u32 *h = (const u32 *)fdt;
    if (h[0] != 0xd00dfeed) return 0;
    const u32 *p = (const u32 *)(fdt + h[2]);
    const char *strings = (const char *)(fdt + h[3]);
    for (;;) {
        u32 token = *p++;
        if (token == 1) { /* FDT_BEGIN_NODE: the name, padded to 4 */
            const char *name = (const char *)p;
            p += (strlen(name) + 4) / 4;
        } else if (token == 3) { /* FDT_PROP: len, nameoff, value padded to 4 */
            u32 len = p[0], nameoff = p[1];
            if (streq(strings + nameoff, "ibm,pft-size") && len == 8) return p[3];
            p += 2 + (len + 3) / 4;
        } else if (token != 2 && token != 4) { /* FDT_END or garbage */
            return 0;
        }
    }
}

static void slbmte(unsigned long vsid, unsigned long esid, unsigned index)
{
    unsigned long rs = vsid << 12;                    /* Ks = Kp = N = L = 0 */
    unsigned long rb = esid << 28 | 1UL << 27 | index; /* V */
    asm volatile("slbmte %0,%1; isync" : : "r"(rs), "r"(rb) : "memory");
}

/* Maps EA `ea` (in the segment of `vsid`) to guest frame `gpfn`, read/write (PP = 2). */
static long map(unsigned long vsid, unsigned long ea, unsigned long gpfn, unsigned long ptegs)
{
    unsigned long p = (ea >> 12) & 0xffff;                /* page index in the segment */
    unsigned long hash = ((vsid & ((1UL << 39) - 1)) ^ p) & (ptegs - 1);
    unsigned long dw0 = vsid << 12 | (p >> 11) << 7 | 1;  /* AVPN, V */
    unsigned long dw1 = gpfn << 12 | 0x10 | 2;            /* RPN, M, PP = 2 */
    return papr4(H_ENTER, 0, hash * 8, dw0, dw1);
}

/* rfid to the next instruction with IR and DR set. */
static void relocate_on(void)
{
    unsigned long msr;
    asm volatile("mfmsr %0" : "=r"(msr));
    msr |= MSR_IR | MSR_DR;
    asm volatile("mtsrr1 %0\n\t"
                 "bl 1f\n"
                 "1:\tmflr 11\n\t"
                 "addi 11,11,2f-1b\n\t"
                 "mtsrr0 11\n\t"
                 "rfid\n"
                 "2:"
                 :
                 : "r"(msr)
                 : "r11", "lr", "memory");
}

static u32 shared_word[PAGE / 4] __attribute__((aligned(4096)));

int guest_main(void)
{
    unsigned log2 = pft_size((const u8 *)device_tree);
    if (log2 < 18) {
        print("translated: no ibm,pft-size in the device tree\n");
        return 3;
    }
    unsigned long ptegs = 1UL << (log2 - 7); /* 128-byte PTE groups */
    slbmte(VSID_IMAGE, 0, 0);
    slbmte(VSID_ALIAS, ALIAS >> 28, 1);
    unsigned long first = (unsigned long)_start / PAGE, last = ((unsigned long)_end - 1) / PAGE;
    for (unsigned long f = first; f <= last; f++) {
        long rc = map(VSID_IMAGE, f * PAGE, f, ptegs);
        if (rc != 0) {
            printk("translated: H_ENTER of frame 0x%lx returned %ld\n", f, rc);
            return 3;
        }
    }
    long rc = map(VSID_ALIAS, ALIAS, (unsigned long)shared_word / PAGE, ptegs);
    printk("translated: %lu PTEs entered, HPT 2^%u bytes, alias H_ENTER %ld\n",
           last - first + 2, log2, rc);
    if (rc != 0) return 3;

    relocate_on();
    unsigned long msr;
    asm volatile("mfmsr %0" : "=r"(msr));
    printk("translated: running with MSR[IR] %lu MSR[DR] %lu\n", (msr >> 5) & 1, (msr >> 4) & 1);
    volatile u32 *alias = (volatile u32 *)(ALIAS + 8);
    *alias = 0xc0ffee42;
    printk("translated: stored 0x%x at 0x%lx, read 0x%x at 0x%lx\n", *alias,
           (unsigned long)alias, shared_word[2], (unsigned long)&shared_word[2]);
    print("translated: done\n");
    return 0;
}
