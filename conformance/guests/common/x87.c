/*
 * x87: a freestanding long double workload compiled for the x87 unit (-mfpmath=387, no
 * SSE). The same source runs as a PV guest (x87-guest.c) and natively (x87-native.c);
 * build.sh commits the native output as the golden text the guest's console output must
 * match, bit for bit: every result is printed as its 80-bit encoding.
 *
 * Sums and products in extended precision, square roots, divisions, conversions to and
 * from integers, float and double (fild/fist/fisttp, fst m32/m64), rounding to integers,
 * fmod (fprem), ldexp (fscale), comparisons (fucomi), a Mandelbrot set, and the same
 * divisions under each precision control and rounding mode (fldcw).
 */
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;

typedef void emit_fn(const char *s, unsigned long n);

static emit_fn *emit;

static void put(const char *s) { unsigned long n = 0; while (s[n]) n++; emit(s, n); }

static void put_hex(u64 v, int digits)
{
    char out[16];
    for (int i = digits - 1; i >= 0; i--) { out[i] = "0123456789abcdef"[v & 15]; v >>= 4; }
    emit(out, digits);
}

static void put_i(long v)
{
    char buf[24];
    int n = 0;
    u64 u = v < 0 ? -(u64)v : (u64)v;
    do { buf[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    if (v < 0) buf[n++] = '-';
    char out[24];
    for (int i = 0; i < n; i++) out[i] = buf[n - 1 - i];
    emit(out, n);
}

/* The 80-bit encoding: sign/exponent word, then the 64-bit significand. */
static void put_ld(const char *label, long double x)
{
    union { long double x; struct { u64 m; u16 se; } b; } u;
    u.x = x;
    put(label);
    put(" ");
    put_hex(u.b.se, 4);
    put(":");
    put_hex(u.b.m, 16);
    put("\n");
}

static void put_d(const char *label, double x)
{
    union { double x; u64 b; } u;
    u.x = x;
    put(label);
    put(" ");
    put_hex(u.b, 16);
    put("\n");
}

static void put_f(const char *label, float x)
{
    union { float x; u32 b; } u;
    u.x = x;
    put(label);
    put(" ");
    put_hex(u.b, 8);
    put("\n");
}

static void set_cw(u16 cw) { __asm__ volatile("fldcw %0" : : "m"(cw)); }

static u16 get_cw(void)
{
    u16 cw;
    __asm__ volatile("fnstcw %0" : "=m"(cw));
    return cw;
}

static u16 get_sw(void)
{
    u16 sw;
    __asm__ volatile("fnstsw %0" : "=m"(sw));
    return sw;
}

/* The instructions behind fmodl, remainderl, ldexpl, rintl and logbl, as libm uses them. */
static long double fprem_ld(long double x, long double y)
{
    long double r;
    __asm__("1: fprem; fnstsw %%ax; testw $0x400, %%ax; jnz 1b" : "=t"(r) : "0"(x), "u"(y) : "ax", "cc");
    return r;
}

static long double fprem1_ld(long double x, long double y)
{
    long double r;
    __asm__("1: fprem1; fnstsw %%ax; testw $0x400, %%ax; jnz 1b" : "=t"(r) : "0"(x), "u"(y) : "ax", "cc");
    return r;
}

static long double fscale_ld(long double x, long double n)
{
    long double r;
    __asm__("fscale" : "=t"(r) : "0"(x), "u"(n));
    return r;
}

static long double frndint_ld(long double x)
{
    long double r;
    __asm__("frndint" : "=t"(r) : "0"(x));
    return r;
}

static long double fxtract_exp(long double x)
{
    long double sig, ex;
    __asm__("fxtract" : "=t"(sig), "=u"(ex) : "0"(x));
    return ex + sig - sig;
}

/* Kept out of line and volatile so the compiler computes at run time. */
static volatile long double vthree = 3.0L, vseven = 7.0L, vtenth = 0.1L;

static u64 rng_state = 0x9e3779b97f4a7c15ULL;
static u32 rng(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (u32)(rng_state >> 33);
}

int x87_main(emit_fn *e)
{
    emit = e;
    put("x87: long double on hvkit\n");
    put("fcw ");
    put_hex(get_cw(), 4);
    put("\n");

    long double h = 0;
    for (int k = 1; k <= 10000; k++) h += 1.0L / k;
    put_ld("harmonic(10000)", h);

    long double p = 1;
    for (int k = 1; k <= 25; k++) p *= k;
    put_ld("25!", p);
    put_ld("1/3", 1.0L / vthree);
    put_ld("sqrt(2)", __builtin_sqrtl(2.0L * vthree / vthree));
    put_ld("sqrt(7)", __builtin_sqrtl(vseven));
    put_ld("0.1*3-0.3", vtenth * 3 - 0.3L);
    put_ld("fmod(1e30,7)", fprem_ld(1e30L * vthree / vthree, vseven));
    put_ld("fmod(-5.5,2.25)", fprem_ld(-5.5L * vthree / vthree, 2.25L));
    put_ld("remainder(1e300,7)", fprem1_ld(1e300L * vthree / vthree, vseven));
    put_ld("remainder(10,4)", fprem1_ld(10.0L * vthree / vthree, 4.0L));
    put_ld("ldexp(1/3,100)", fscale_ld(1.0L / vthree, 100.0L));
    put_ld("ldexp(1/3,-16400)", fscale_ld(1.0L / vthree, -16400.0L));
    put_ld("rint(2.5)", frndint_ld(2.5L * vthree / vthree));
    put_ld("rint(-3.5)", frndint_ld(-3.5L * vthree / vthree));
    put_ld("logb(1e100)", fxtract_exp(1e100L * vthree));
    put_ld("tiny", 1e-4940L * vthree);
    put_ld("huge*huge", 1e4000L * vthree * 1e4000L);
    put_d("(double)1/3", (double)(1.0L / vthree));
    put_f("(float)1/3", (float)(1.0L / vthree));
    put_d("(double)tiny", (double)(1e-310L * vthree));

    /* Integer conversions (fild, fistp/fisttp). */
    long acc = 0;
    for (int i = 0; i < 1000; i++) {
        long v = (long)(int)rng() * 1000 + (long)rng();
        long double x = (long double)v / 7;
        acc += (long)x;
        acc ^= (long)(x * 3.5L);
    }
    put("int conversions ");
    put_i(acc);
    put("\n");

    /* Comparisons (fucomi) while sorting. */
    long double a[64];
    for (int i = 0; i < 64; i++) a[i] = (long double)(int)rng() / ((long double)rng() + 1);
    for (int i = 1; i < 64; i++) {
        long double t = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > t) { a[j + 1] = a[j]; j--; }
        a[j + 1] = t;
    }
    int sorted = 1;
    for (int i = 1; i < 64; i++) if (a[i - 1] > a[i]) sorted = 0;
    put(sorted ? "sorted: yes\n" : "sorted: no\n");
    put_ld("a[0]", a[0]);
    put_ld("a[63]", a[63]);

    /* Mandelbrot: iterations over a 32 x 16 grid. */
    long iters = 0;
    for (int y = 0; y < 16; y++) {
        for (int x = 0; x < 32; x++) {
            long double cr = -2.0L + x * (2.5L / 32), ci = -1.0L + y * (2.0L / 16);
            long double zr = 0, zi = 0;
            int n = 0;
            while (n < 200 && zr * zr + zi * zi <= 4) {
                long double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                n++;
            }
            iters += n;
        }
    }
    put("mandelbrot iterations ");
    put_i(iters);
    put("\n");

    /* Precision control and rounding modes (exceptions stay masked). */
    static const char *const pc[] = {"pc24", "pc53", "pc64"};
    static const u16 pcbits[] = {0x000, 0x200, 0x300};
    static const char *const rc[] = {" nearest", " down", " up", " zero"};
    u16 cw0 = get_cw();
    for (int i = 0; i < 3; i++) {
        for (int r = 0; r < 4; r++) {
            set_cw((u16)((cw0 & ~0xf00) | pcbits[i] | (r << 10)));
            long double q = vseven / vthree;
            long double s = vthree + vtenth;
            long double n = -vseven / vthree;
            set_cw(cw0);
            char label[32];
            int k = 0;
            for (const char *t = pc[i]; *t; t++) label[k++] = *t;
            for (const char *t = rc[r]; *t; t++) label[k++] = *t;
            label[k] = 0;
            put(label);
            put("\n");
            put_ld("  7/3", q);
            put_ld("  3+0.1", s);
            put_ld("  -7/3", n);
        }
    }
    put("status ");
    put_hex(get_sw() & 0x3f, 2);
    put("\n");
    return 0;
}
