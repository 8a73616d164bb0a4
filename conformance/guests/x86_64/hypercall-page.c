/*
 * hypercall-page: checks the page the builder filled (stub layout, 0xCC padding, the
 * special iret stub), calls xen_version through a stub and with a raw `syscall`, and an
 * unknown hypercall number (-ENOSYS).
 */
#include "rt.h"

static long raw_syscall(long nr, long a1, long a2)
{
    long res;
    asm volatile ("syscall" : "=a" (res), "+D" (a1), "+S" (a2) : "0" (nr) : "rcx", "r11", "rdx", "r10", "r8", "r9", "memory");
    return res;
}

int guest_main(void)
{
    static const u8 stub17[] = { 0x51, 0x41, 0x53, 0xb8, 17, 0, 0, 0, 0x0f, 0x05, 0x41, 0x5b, 0x59, 0xc3 };
    static const u8 stub23[] = { 0x51, 0x41, 0x53, 0x50, 0xb8, 23, 0, 0, 0, 0x0f, 0x05 };
    int ok = 1;
    for (unsigned i = 0; i < sizeof(stub17); i++) ok &= hypercall_page[17 * 32 + i] == stub17[i];
    printk("stub 17 layout: %s\n", ok ? "ok" : "BAD");
    ok = 1;
    for (unsigned i = 0; i < sizeof(stub23); i++) ok &= hypercall_page[23 * 32 + i] == stub23[i];
    printk("stub 23 (iret) layout: %s\n", ok ? "ok" : "BAD");
    ok = 1;
    for (unsigned n = 0; n < 128; n++)
        for (unsigned i = (n == 23 ? 11 : 14); i < 32; i++) ok &= hypercall_page[n * 32 + i] == 0xcc;
    printk("padding is int3: %s\n", ok ? "ok" : "BAD");

    long v1 = HYPERCALL(HC_xen_version, 0, 0, 0, 0, 0);
    long v2 = raw_syscall(17, 0, 0);
    printk("xen_version via stub %lx, via syscall %lx\n", v1, v2);
    printk("unknown hypercall 60: %ld\n", raw_syscall(60, 0, 0));
    printk("start_info magic %s, flags %x\n", start_info_ptr->magic, start_info_ptr->flags);
    return 0;
}
