/*
 * hypercall-unknown: hypercall 60, which no handler serves (public/xen.h leaves it
 * unassigned; Xen's hypercall table answers -ENOSYS), made the arch's ordinary way; the
 * guest then carries on and powers off.
 */
#include "rt.h"

int guest_main(void)
{
    printk("unknown hypercall 60: %ld\n", HYPERCALL(60, 0, 0, 0, 0, 0));
    print("the guest carries on\n");
    return 0;
}
