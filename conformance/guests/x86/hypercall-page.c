/*
 * hypercall-page: checks the page the builder filled for a 32-bit PV guest
 * (init_hypercall_page's compat layout: `mov $n,%eax; int $0x82; ret` in each 32-byte
 * stub, `push %eax; mov $23,%eax; int $0x82` for iret, 0xCC padding), calls xen_version
 * through a stub and with a raw `int $0x82`, and an unknown hypercall number (-ENOSYS).
 */
#include "rt.h"

static long raw_int82(long nr, long a1, long a2)
{
    long res;
    asm volatile ("int $0x82" : "=a" (res), "+b" (a1), "+c" (a2) : "0" (nr) : "edx", "esi", "edi", "memory");
    return res;
}

int guest_main(void)
{
    static const u8 stub17[] = { 0xb8, 17, 0, 0, 0, 0xcd, 0x82, 0xc3 };
    static const u8 stub23[] = { 0x50, 0xb8, 23, 0, 0, 0, 0xcd, 0x82 };
    int ok = 1;
    for (unsigned i = 0; i < sizeof(stub17); i++) ok &= hypercall_page[17 * 32 + i] == stub17[i];
    printk("stub 17 layout: %s\n", ok ? "ok" : "BAD");
    ok = 1;
    for (unsigned i = 0; i < sizeof(stub23); i++) ok &= hypercall_page[23 * 32 + i] == stub23[i];
    printk("stub 23 (iret) layout: %s\n", ok ? "ok" : "BAD");
    ok = 1;
    for (unsigned n = 0; n < 128; n++)
        for (unsigned i = 8; i < 32; i++) ok &= hypercall_page[n * 32 + i] == 0xcc;
    printk("padding is int3: %s\n", ok ? "ok" : "BAD");

    long v1 = HYPERCALL(HC_xen_version, 0, 0, 0, 0, 0);
    long v2 = raw_int82(17, 0, 0);
    printk("xen_version via stub %lx, via int $0x82 %lx\n", v1, v2);
    printk("unknown hypercall 60: %ld\n", raw_int82(60, 0, 0));
    printk("start_info magic %s, flags %x\n", start_info_ptr->magic, start_info_ptr->flags);
    return 0;
}
