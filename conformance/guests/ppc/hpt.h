/*
 * Translation for hvkit's ppc test guests (abi/ppc.md, docs/internals/ppc-mmu.md): a
 * guest in real mode reaches only its real-mode area; to reach a guest frame past it (a
 * grant frame or a granted frame placed at a hole of its guest-physical space) it loads
 * its SLB, enters PTEs in the hashed page table with the PAPR hcall H_ENTER and turns on
 * instruction and data relocation. Two segments: ESID 0, where every page of the image is
 * entered at its own address (EA = guest-physical, so inline xencomm handles stay right),
 * and ESID 1 (MAP_AREA), for frames mapped elsewhere. Static inline: guests that use none
 * of it are unchanged.
 *
 * Facts: Power ISA 2.01 Book III (SLB entry and slbmte operands, PTE format, primary hash,
 * PP with key 0: 2 read/write, 3 read-only; MSR[IR] = 0x20, MSR[DR] = 0x10, rfid); PAPR
 * H_ENTER (flags r4, ptex r5, PTE r6/r7, H_Success 0), as Xen's ppc port took it
 * (xen/arch/powerpc/papr/xlate.c); the HPT's size from the device tree's
 * /cpus/cpu@0 "ibm,pft-size" <0 log2(bytes)>.
 */
#ifndef HVKIT_HPT_H
#define HVKIT_HPT_H

#define H_ENTER 0x08
#define MSR_IR 0x20UL
#define MSR_DR 0x10UL
#define HPT_PAGE 4096UL
/* The segment of frames mapped away from the image (256 MiB: past any real-mode area). */
#define MAP_AREA 0x10000000UL
#define VSID_IMAGE 0x2a5UL
#define VSID_MAP_AREA 0x3c7UL

extern char _start[], _end[];

/* A PAPR hcall: r3 is the bare token (no XEN_MARK). */
static inline long papr4(unsigned long token, unsigned long a, unsigned long b, unsigned long c,
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

/* The HPT's PTE groups (128 bytes each), once hpt_setup has read its size. */
static inline unsigned long *hpt_ptegs(void)
{
    static unsigned long ptegs;
    return &ptegs;
}

static inline int hpt_streq(const char *a, const char *b)
{
    while (*a && *a == *b) a++, b++;
    return *a == *b;
}

/* log2 of the HPT's bytes from the flattened device tree, or 0 when absent. */
static inline unsigned hpt_pft_size(const u8 *fdt)
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
            if (hpt_streq(strings + nameoff, "ibm,pft-size") && len == 8) return p[3];
            p += 2 + (len + 3) / 4;
        } else if (token != 2 && token != 4) { /* FDT_END or garbage */
            return 0;
        }
    }
}

static inline void slbmte(unsigned long vsid, unsigned long esid, unsigned index)
{
    unsigned long rs = vsid << 12;                    /* Ks = Kp = N = L = 0 */
    unsigned long rb = esid << 28 | 1UL << 27 | index; /* V */
    asm volatile("slbmte %0,%1; isync" : : "r"(rs), "r"(rb) : "memory");
}

/*
 * Reads the HPT's size from the device tree (real mode: it lies past the image) and loads
 * the SLB entries of the two segments. log2 of the HPT's bytes, or 0 when the device tree
 * gives none (then nothing is loaded).
 */
static inline unsigned hpt_setup(void)
{
    unsigned log2 = hpt_pft_size((const u8 *)device_tree);
    if (log2 < 18) return 0;
    *hpt_ptegs() = 1UL << (log2 - 7);
    slbmte(VSID_IMAGE, 0, 0);
    slbmte(VSID_MAP_AREA, MAP_AREA >> 28, 1);
    return log2;
}

/*
 * Maps the page at `va` (in the image's segment or MAP_AREA's) to guest frame `frame`,
 * writable or read-only, with H_ENTER in the primary PTE group. H_ENTER's result (0), or
 * -1 for an address in neither segment.
 */
static inline long map_frame(const volatile void *va, u64 frame, int writable)
{
    unsigned long ea = (unsigned long)va;
    unsigned long vsid = ea >> 28 == 0 ? VSID_IMAGE : ea >> 28 == MAP_AREA >> 28 ? VSID_MAP_AREA : 0;
    if (vsid == 0) return -1;
    unsigned long p = (ea >> 12) & 0xffff;                        /* page index in the segment */
    unsigned long hash = ((vsid & ((1UL << 39) - 1)) ^ p) & (*hpt_ptegs() - 1);
    unsigned long dw0 = vsid << 12 | (p >> 11) << 7 | 1;          /* AVPN, V */
    unsigned long dw1 = frame << 12 | 0x10 | (writable ? 2 : 3);  /* RPN, M, PP */
    return papr4(H_ENTER, 0, hash * 8, dw0, dw1);
}

/* rfid to the next instruction with IR and DR set. */
static inline void relocate_on(void)
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

/*
 * Turns translation on: hpt_setup, every page of the image entered at its own address,
 * then IR and DR on. 0; -1 with no HPT in the device tree, or the result of the H_ENTER
 * that failed (translation stays off).
 */
static inline long translation_on(void)
{
    if (hpt_setup() == 0) return -1;
    unsigned long first = (unsigned long)_start / HPT_PAGE, last = ((unsigned long)_end - 1) / HPT_PAGE;
    for (unsigned long f = first; f <= last; f++) {
        long rc = map_frame((void *)(f * HPT_PAGE), f, 1);
        if (rc != 0) return rc;
    }
    relocate_on();
    return 0;
}

#endif
