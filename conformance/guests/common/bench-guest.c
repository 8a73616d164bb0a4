/* bench as a PV guest: the pass count is the command line, output through console_io. */
#include "rt.h"

int bench_main(void (*emit)(const char *, unsigned long), const char *args);

static void console(const char *s, unsigned long n) { HYPERCALL(HC_console_io, 0, n, s, 0, 0); }

int guest_main(void) { return bench_main(console, start_info_ptr->cmd_line); }
