/* x87 as a PV guest: output through console_io. */
#include "rt.h"

int x87_main(void (*emit)(const char *, unsigned long));

static void console(const char *s, unsigned long n) { HYPERCALL(HC_console_io, 0, n, s, 0, 0); }

int guest_main(void) { return x87_main(console); }
