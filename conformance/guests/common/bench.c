/*
 * bench: a CPU-bound run of one workload of this folder for bench/c-guests.ts. Built with
 * BENCH_WORK naming the workload's entry (compute_main, simd_main or x87_main), it runs
 * that workload N times, N the decimal number the argument text starts with (a guest's
 * command line, a program's first argument; default 1). The first pass's output is
 * printed as it is; every pass's output is folded into an FNV-1a hash, printed last with
 * N. The same objects run as a PV guest (bench-guest.c), as a Linux program
 * (bench-native.c) and, on 32-bit x86, as a multiboot kernel (x86/bench-multiboot.c), so
 * the last line is the same everywhere: the work was done, and done the same way.
 */
typedef unsigned long long u64;
typedef void emit_fn(const char *s, unsigned long n);

int BENCH_WORK(emit_fn *emit);

#define STR(x) #x
#define NAME(x) STR(x)

static emit_fn *out;
static unsigned long pass;
static u64 digest = 0xcbf29ce484222325ULL;

static void fold(const char *s, unsigned long n)
{
    if (pass == 0) out(s, n);
    for (unsigned long i = 0; i < n; i++) {
        digest ^= (unsigned char)s[i];
        digest *= 0x100000001b3ULL;
    }
}

static void put(const char *s) { unsigned long n = 0; while (s[n]) n++; out(s, n); }

static void put_u(u64 v, unsigned base)
{
    char buf[24], text[24];
    int n = 0;
    do { buf[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    for (int i = 0; i < n; i++) text[i] = buf[n - 1 - i];
    out(text, n);
}

int bench_main(emit_fn *emit, const char *args)
{
    unsigned long passes = 0;
    out = emit;
    while (*args == ' ') args++;
    while (*args >= '0' && *args <= '9') passes = passes * 10 + (unsigned long)(*args++ - '0');
    if (passes == 0) passes = 1;
    int status = 0;
    for (pass = 0; pass < passes; pass++) status |= BENCH_WORK(fold);
    put("bench " NAME(BENCH_WORK) ": "); put_u(passes, 10);
    put(" passes, fnv-1a 0x"); put_u(digest, 16); put("\n");
    return status;
}
