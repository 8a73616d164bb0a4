/* bench as a Linux program: the pass count is the first argument, output to stdout. */
#include <stdio.h>

int bench_main(void (*emit)(const char *, unsigned long), const char *args);

static void out(const char *s, unsigned long n) { fwrite(s, 1, n, stdout); }

int main(int argc, char **argv) { return bench_main(out, argc > 1 ? argv[1] : ""); }
