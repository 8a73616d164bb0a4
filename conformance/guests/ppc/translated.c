/*
 * translated: a ppc PV guest that leaves real mode (abi/ppc.md, docs/internals/ppc-mmu.md),
 * with hpt.h. In real mode it reads the hashed page table's size from the device tree,
 * loads two SLB entries (ESID 0 and ESID 1, each with its own VSID, Ks = Kp = 0) and
 * enters PTEs with the PAPR hcall H_ENTER: every page of its image at the same effective
 * address and one page of it a second time at EA 0x10000000 (MAP_AREA). It then turns on
 * instruction and data relocation with rfid (SRR1 = MSR | IR | DR) and prints from
 * translated mode: the MSR, and a word stored through the alias and read back through
 * the identity mapping. In real mode EA 0x10000000 (256 MiB) lies past the 64 MiB
 * real-mode area, so that store reaches the page only through the HPT; an unmapped
 * access would crash the domain (MSR[RI] = 0).
 */
#include "rt.h"

#define PAGE HPT_PAGE
#define ALIAS MAP_AREA /* ESID 1 */

static u32 shared_word[PAGE / 4] __attribute__((aligned(4096)));

int guest_main(void)
{
    unsigned log2 = hpt_setup();
    if (log2 == 0) {
        print("translated: no ibm,pft-size in the device tree\n");
        return 3;
    }
    unsigned long first = (unsigned long)_start / PAGE, last = ((unsigned long)_end - 1) / PAGE;
    for (unsigned long f = first; f <= last; f++) {
        long rc = map_frame((void *)(f * PAGE), f, 1);
        if (rc != 0) {
            printk("translated: H_ENTER of frame 0x%lx returned %ld\n", f, rc);
            return 3;
        }
    }
    long rc = map_frame((void *)ALIAS, (unsigned long)shared_word / PAGE, 1);
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
