/* compute natively: output to stdout (build.sh records it as the golden text). */
#include <stdio.h>

int compute_main(void (*emit)(const char *, unsigned long));

static void out(const char *s, unsigned long n) { fwrite(s, 1, n, stdout); }

int main(void) { return compute_main(out); }
