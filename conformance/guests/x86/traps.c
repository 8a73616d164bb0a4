/*
 * traps (32-bit PV): a trap table catching #UD, #BP (int3), #PF and #GP, returning with
 * the iret hypercall; the software-interrupt DPL check (int $0x20 through a DPL-0 gate
 * is #GP with error code vector << 3 | 2, as the processor gives it).
 * FLAT_RING1_CS 0xe019 and trap_info's flags (DPL in bits 0–1, bit 2 masks events) are
 * from xen/include/public/arch-x86/xen-x86_32.h and arch-x86/xen.h.
 */
#include "traps.h"

#define FLAT_RING1_CS 0xe019
#define HC_set_trap_table 0

static volatile u32 pf_fixup;
static volatile unsigned seen;

void trap_handler(struct regs *r)
{
    seen++;
    switch (r->vector) {
    case 3:
        printk("#BP: trap, cs rpl %u, eip after int3 %s\n", r->cs & 3,
               *(const u8 *)(r->eip - 1) == 0xcc ? "ok" : "BAD");
        break;
    case 6:
        printk("#UD: cs rpl %u, at ud2 %s\n", r->cs & 3,
               *(const u16 *)r->eip == 0x0b0f ? "ok" : "BAD");
        r->eip += 2;
        break;
    case 13:
        printk("#GP: error code %x\n", r->error_code);
        r->eip += 2;
        break;
    case 14: {
        u32 cr2;
        asm volatile ("mov %%cr2, %0" : "=r" (cr2));
        printk("#PF: error code %x, cr2 %x\n", r->error_code, cr2);
        r->eip = pf_fixup;
        break;
    }
    default:
        printk("unexpected vector %u\n", r->vector);
        shutdown(3);
    }
}

static struct trap_info table[] = {
    { 3, 3 | 4, FLAT_RING1_CS, (u32)entry_BP },
    { 6, 0 | 4, FLAT_RING1_CS, (u32)entry_UD },
    { 13, 0 | 4, FLAT_RING1_CS, (u32)entry_GP },
    { 14, 0 | 4, FLAT_RING1_CS, (u32)entry_PF },
    { 0x20, 0 | 4, FLAT_RING1_CS, (u32)entry_x20 },   /* DPL 0: int $0x20 must #GP */
    { 0, 0, 0, 0 },
};

int guest_main(void)
{
    long rc = HYPERCALL(HC_set_trap_table, table, 0, 0, 0, 0);
    printk("set_trap_table: %ld\n", rc);

    asm volatile ("ud2");
    printk("after #UD\n");

    asm volatile ("int3");
    printk("after int3\n");

    /* A write to an address nothing maps; the handler resumes at the label after it. */
    asm volatile ("movl $1f, pf_fixup; movb $1, 0x40000000; 1:" ::: "memory");
    printk("after #PF\n");

    asm volatile ("int $0x20");
    printk("after int $0x20\n");

    printk("traps seen: %u\n", seen);
    return 0;
}
