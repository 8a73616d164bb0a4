/*
 * simd: a freestanding float/double and vector workload built with -O3 and an SSE level
 * (-msse4.2 on x86_64, -msse2 -mfpmath=sse on 32-bit x86), so gcc vectorises its loops
 * (mulps/addps/divpd/sqrtpd/minps, cvt*, and with SSE4 pmulld, pminsd, pmovzx, pshufb ...)
 * and uses scalar SSE arithmetic for the rest. The same source runs as a PV
 * guest (simd-guest.c) and natively (simd-native.c); build.sh commits the native output
 * as the golden text the guest's console output must match.
 *
 * Results are printed as the bits of the values (hex), so any difference in rounding,
 * NaN propagation or flags shows. MXCSR is changed on purpose (rounding modes, DAZ/FTZ)
 * and its sticky exception flags are printed.
 */
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;

typedef void emit_fn(const char *s, unsigned long n);

static emit_fn *emit;

static void put(const char *s) { unsigned long n = 0; while (s[n]) n++; emit(s, n); }

static void put_hex(u64 v)
{
    char out[16];
    for (int i = 0; i < 16; i++) out[i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
    emit(out, 16);
}

static __attribute__((unused)) void put_dec(u64 v)
{
    char buf[24];
    int n = 0;
    do { buf[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    char out[24];
    for (int i = 0; i < n; i++) out[i] = buf[n - 1 - i];
    emit(out, n);
}

static u64 fbits(float f) { union { float f; u32 u; } x = { .f = f }; return x.u; }
static u64 dbits(double d) { union { double d; u64 u; } x = { .d = d }; return x.u; }
static float ffrom(u32 u) { union { float f; u32 u; } x = { .u = u }; return x.f; }
static double dfrom(u64 u) { union { double d; u64 u; } x = { .u = u }; return x.d; }

/* FNV-1a over the bits of a result stream. */
static u64 hash;
static void mix(u64 v) { for (int i = 0; i < 8; i++) { hash ^= (v >> (8 * i)) & 0xff; hash *= 0x100000001b3ULL; } }
static void section(const char *name) { put(name); put(": "); put_hex(hash); put("\n"); hash = 0xcbf29ce484222325ULL; }

#ifdef __SSE4_2__
#define SIMD_LEVEL "SSE4.2"
#else
#define SIMD_LEVEL "SSE2"
#endif

static u32 mxcsr_get(void) { return __builtin_ia32_stmxcsr(); }
static void mxcsr_set(u32 v) { __builtin_ia32_ldmxcsr(v); }

static u64 rng_state = 0x243f6a8885a308d3ULL;
static u32 rng(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (u32)(rng_state >> 33);
}

#define N 512
static float fa[N], fb[N], fc[N], fd[N];
static double da[N], db[N], dc[N];
static int ia[N], ib[N], ic[N];
static u8 bytes[N];
static u16 words[N];

/* Values worth testing: a random float with a moderate exponent, sometimes an edge value. */
static const u32 f_edge[] = {
    0, 0x80000000, 0x3f800000, 0xbf800000, 1, 0x807fffff, 0x00800000, 0x7f7fffff,
    0x7f800000, 0xff800000, 0x7fc00000, 0x3f800001, 0x4b000001, 0x4effffff, 0x34000000,
};
static float rnd_float(void)
{
    u32 r = rng();
    if ((r & 15) == 0) return ffrom(f_edge[(r >> 4) % (sizeof f_edge / sizeof *f_edge)]);
    return ffrom((r & 0x80000000u) | ((100u + (r >> 8) % 56) << 23) | (rng() & 0x7fffff));
}
static double rnd_double(void)
{
    u64 r = rng();
    if ((r & 15) == 0) return (double)rnd_float();
    return dfrom((r << 63) | ((u64)(960 + (r >> 8) % 120) << 52) | (((u64)rng() << 20) ^ rng()));
}

__attribute__((noinline)) static void saxpy(float a, const float *x, const float *y, float *z)
{
    for (int i = 0; i < N; i++) z[i] = a * x[i] + y[i];
}
__attribute__((noinline)) static void fdiv_min(const float *x, const float *y, float *z)
{
    for (int i = 0; i < N; i++) { float q = x[i] / y[i]; z[i] = q < x[i] ? q : x[i]; }
}
__attribute__((noinline)) static void dsqrt(const double *x, double *z)
{
    for (int i = 0; i < N; i++) z[i] = __builtin_sqrt(x[i] < 0 ? -x[i] : x[i]);
}
__attribute__((noinline)) static void dmax_div(const double *x, const double *y, double *z)
{
    for (int i = 0; i < N; i++) { double q = x[i] / y[i] - y[i]; z[i] = q > 0.5 ? q : 0.5; }
}
__attribute__((noinline)) static float fdot(const float *x, const float *y)
{
    float s = 0;
    for (int i = 0; i < N; i++) s += x[i] * y[i];
    return s;
}
__attribute__((noinline)) static void cvt_loops(void)
{
    for (int i = 0; i < N; i++) fc[i] = (float)ia[i];          /* cvtdq2ps */
    for (int i = 0; i < N; i++) ic[i] = (int)(fa[i] * 0.001f); /* cvttps2dq */
    for (int i = 0; i < N; i++) dc[i] = (double)fb[i];         /* cvtps2pd */
    for (int i = 0; i < N; i++) fd[i] = (float)da[i];          /* cvtpd2ps */
}
__attribute__((noinline)) static void int_loops(void)
{
    for (int i = 0; i < N; i++) ic[i] = ia[i] * ib[i];                      /* pmulld */
    for (int i = 0; i < N; i++) ic[i] += ia[i] < ib[i] ? ia[i] : ib[i];     /* pminsd */
    for (int i = 0; i < N; i++) ic[i] ^= bytes[i];                          /* pmovzxbd */
    for (int i = 0; i < N; i++) ic[i] += (int)words[i] > 1000 ? words[i] : -ia[i]; /* pcmpgtd, blends */
    for (int i = 0; i < N; i++) bytes[i] = (u8)(bytes[N - 1 - i] + 3);     /* pshufb reversal */
}

static double mandel(double cr, double ci)
{
    double zr = 0, zi = 0;
    int k = 0;
    while (k < 200 && zr * zr + zi * zi < 4.0) {
        double t = zr * zr - zi * zi + cr;
        zi = 2.0 * zr * zi + ci;
        zr = t;
        k++;
    }
    return k + zr;
}

int simd_main(emit_fn *e)
{
    emit = e;
    hash = 0xcbf29ce484222325ULL;
    put("simd: " SIMD_LEVEL " C on hvkit, mxcsr ");
    put_hex(mxcsr_get());
    put("\n");

    for (int i = 0; i < N; i++) {
        fa[i] = rnd_float(); fb[i] = rnd_float();
        da[i] = rnd_double(); db[i] = rnd_double();
        ia[i] = (int)rng(); ib[i] = (int)rng();
        bytes[i] = (u8)rng(); words[i] = (u16)rng();
    }

    /* Each rounding mode, then DAZ and FTZ; the sticky flags after each. */
    static const u32 modes[] = { 0x1f80, 0x3f80, 0x5f80, 0x7f80, 0x9fc0 };
    for (unsigned m = 0; m < sizeof modes / sizeof *modes; m++) {
        mxcsr_set(modes[m]);
        saxpy(1.0009765625f, fa, fb, fc);
        for (int i = 0; i < N; i++) mix(fbits(fc[i]));
        fdiv_min(fa, fb, fc);
        for (int i = 0; i < N; i++) mix(fbits(fc[i]));
        dsqrt(da, dc);
        for (int i = 0; i < N; i++) mix(dbits(dc[i]));
        dmax_div(da, db, dc);
        for (int i = 0; i < N; i++) mix(dbits(dc[i]));
        mix(fbits(fdot(fa, fb)));
        cvt_loops();
        for (int i = 0; i < N; i++) { mix(fbits(fc[i])); mix((u32)ic[i]); mix(dbits(dc[i])); mix(fbits(fd[i])); }
        u32 flags = mxcsr_get();
        put("mode "); put_hex(modes[m]); put(" flags "); put_hex(flags & 0x3f); put(" ");
        section("hash");
    }
    mxcsr_set(0x1f80);

    /* Scalar conversions with the integer indefinite, and 64-bit integers. */
    for (int i = 0; i < 64; i++) {
        double d = rnd_double() * 1e-300 * 1e300;
        mix((u64)(long)(d * 1e10));
        mix((u64)(long)__builtin_rint(d));
        mix(dbits((double)(long)rng_state));
        mix(fbits((float)(long)rng_state));
        mix(fbits((float)(u64)rng_state));
        mix(dbits((double)(u64)(rng_state * 3)));
        rng();
    }
    section("convert");

    double m = 0;
    for (int y = 0; y < 24; y++)
        for (int x = 0; x < 48; x++) m += mandel(-2.0 + x * (2.6 / 48), -1.2 + y * (2.4 / 24));
    mix(dbits(m));
    put("mandelbrot sum "); put_hex(dbits(m)); put("\n");

    int_loops();
    for (int i = 0; i < N; i++) { mix((u32)ic[i]); mix(bytes[i]); }
    section("integer vectors");

#ifdef __SSE4_2__
    /* crc32 and popcnt (SSE4.2); the 64-bit crc32 form exists in 64-bit mode only. */
    u64 crc = 0xffffffff, pop = 0;
    for (int i = 0; i < N; i++) {
#ifdef __x86_64__
        crc = __builtin_ia32_crc32di(crc, (u64)ia[i] << 32 | (u32)ib[i]);
#else
        crc = __builtin_ia32_crc32si(__builtin_ia32_crc32si((u32)crc, (u32)ia[i]), (u32)ib[i]);
#endif
        crc = __builtin_ia32_crc32qi((u32)crc, bytes[i]);
        pop += (u64)__builtin_popcountll((u64)ia[i] * 0x9e3779b97f4a7c15ULL);
    }
    put("crc32c "); put_hex(crc); put(", popcount "); put_dec(pop); put("\n");
#endif

    /* Special values through scalar arithmetic. */
    volatile float z = 0.0f, one = 1.0f, big = 3e38f, tiny = 1e-38f;
    mix(fbits(one / z)); mix(fbits(z / z)); mix(fbits(big * 10.0f)); mix(fbits(tiny / 1e10f));
    mix(fbits(__builtin_sqrtf(-one)));
    put("special flags "); put_hex(mxcsr_get() & 0x3f); put(" ");
    section("hash");
    return 0;
}
