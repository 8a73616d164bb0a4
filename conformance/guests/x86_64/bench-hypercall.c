/*
 * bench-hypercall: the guest of bench/hypercall.ts. Calls xen_version(XENVER_version,
 * NULL) through the hypercall page N times (N is the decimal command line, default
 * 1000), checks that every call returned what the first did, prints how many calls it
 * made, and shuts down (poweroff; crash when a result differed).
 * XENVER_version (0) takes no argument and writes no guest memory (xen/include/public/version.h),
 * so each call is the smallest round trip: hypercall page stub, syscall, dispatcher, sysret.
 */
#include "rt.h"

static unsigned long parse_count(const char *s)
{
    unsigned long n = 0;
    while (*s == ' ') s++;
    while (*s >= '0' && *s <= '9') n = n * 10 + (unsigned long)(*s++ - '0');
    return n ? n : 1000;
}

int guest_main(void)
{
    unsigned long n = parse_count(start_info_ptr->cmd_line);
    long first = HYPERCALL(HC_xen_version, 0, 0, 0, 0, 0);
    unsigned long calls = 1, same = 1;
    for (; calls < n; calls++)
        same += HYPERCALL(HC_xen_version, 0, 0, 0, 0, 0) == first;
    printk("xen_version calls %lu, same result %lu, version %lx\n", calls, same, first);
    return same == calls ? 0 : 3;
}
