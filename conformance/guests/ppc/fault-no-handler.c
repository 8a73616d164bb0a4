/*
 * fault-no-handler: prints a line, then executes an illegal instruction (the word 0,
 * "primary opcode 0", a program interrupt) with MSR[RI] still 0 as at entry: the vectors
 * are not live, so the domain must crash (abi/ppc.md, "no handler").
 */
#include "rt.h"

int guest_main(void)
{
    print("about to execute an illegal instruction with MSR[RI] = 0\n");
    asm volatile (".long 0");
    return 0; /* never reached: would power off */
}
