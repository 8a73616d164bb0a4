/*
 * traps: a trap table catching #UD, #BP (int3), #PF and #GP, returning with iret;
 * the software-interrupt DPL check; a user-mode round trip (iret to ring-3 user mode,
 * syscall to the registered callback, int $0x21 back).
 */
#include "traps.h"

volatile u64 pf_fixup;
static volatile unsigned seen;

void trap_handler(struct regs *r)
{
    seen++;
    switch (r->vector) {
    case 3:
        printk("#BP: trap, cs rpl %u, events %s\n", (unsigned)(r->cs & 3),
               (r->rflags & 0x200) ? "on" : "off");
        break;
    case 6:
        printk("#UD: cs rpl %u\n", (unsigned)(r->cs & 3));
        r->rip += 2;
        break;
    case 13:
        printk("#GP: error code %lx\n", r->error_code);
        r->rip += 2;
        break;
    case 14:
        printk("#PF: error code %lx, cr2 %lx\n", r->error_code, read_cr2());
        r->rip = pf_fixup;
        break;
    default:
        printk("unexpected vector %lu\n", r->vector);
        shutdown(3);
    }
}

static unsigned long user_fn(void)
{
    unsigned cs;
    asm volatile ("mov %%cs, %0" : "=r" (cs));
    asm volatile ("syscall" ::: "rcx", "r11", "memory");
    asm volatile ("syscall" ::: "rcx", "r11", "memory");
    return cs & 3;
}

static struct trap_info table[] = {
    { 3, 3 | 4, 0xe030, 0, (u64)entry_BP },
    { 6, 0 | 4, 0xe030, 0, (u64)entry_UD },
    { 13, 0 | 4, 0xe030, 0, (u64)entry_GP },
    { 14, 0 | 4, 0xe030, 0, (u64)entry_PF },
    { 0x20, 0 | 4, 0xe030, 0, (u64)entry_x21 },   /* DPL 0: int $0x20 must #GP */
    { 0x21, 3 | 4, 0xe030, 0, (u64)entry_ret2kern },
    { 0, 0, 0, 0, 0 },
};

static struct { u16 type, flags; u32 _pad; u64 address; } syscall_cb = { 2, 1, 0, (u64)entry_syscall };

static u8 kernel_stack[8192] __attribute__((aligned(16)));

int guest_main(void)
{
    long rc = HYPERCALL(HC_set_trap_table, table, 0, 0, 0, 0);
    printk("set_trap_table: %ld\n", rc);

    asm volatile ("ud2");
    printk("after #UD\n");

    asm volatile ("int3");
    printk("after int3\n");

    /* A write to an address nothing maps; the handler resumes at the label after it. */
    asm volatile ("lea 1f(%%rip), %%rax; mov %%rax, pf_fixup(%%rip); movb $1, 0x40000000; 1:" ::: "rax", "memory");
    printk("after #PF\n");

    asm volatile ("int $0x20");
    printk("after int $0x20\n");

    rc = HYPERCALL(HC_callback_op, 0, &syscall_cb, 0, 0, 0);
    printk("callback_op(register syscall): %ld\n", rc);
    rc = HYPERCALL(HC_stack_switch, 0xe02b, kernel_stack + sizeof(kernel_stack), 0, 0, 0);
    printk("stack_switch: %ld\n", rc);
    struct mmuext_op op = { 15, 0, read_cr3() >> 12, 0 };
    rc = HYPERCALL(HC_mmuext_op, &op, 1, 0, 0x7ff0, 0);
    printk("new_user_baseptr: %ld\n", rc);
    unsigned long cpl = exec_user(user_fn);
    printk("user mode ran at rpl %lu, syscalls seen %lu\n", cpl, syscall_count);

    printk("traps seen: %u\n", seen);
    return 0;
}
