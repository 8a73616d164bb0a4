/*
 * compute: a freestanding C workload (checksums, primes, sorting). The same source runs as a
 * PV guest (compute-guest.c) and natively (compute-native.c); build.sh commits the
 * native output as the golden text the guest's console output must match.
 *
 * CRC-32 (IEEE 802.3, reflected, bitwise) of a pseudo-random buffer, a sieve of
 * Eratosthenes, a heapsort checked for order, and 64-bit multiply/divide arithmetic.
 */
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;

typedef void emit_fn(const char *s, unsigned long n);

static emit_fn *emit;

static void put(const char *s) { unsigned long n = 0; while (s[n]) n++; emit(s, n); }

static void put_u(u64 v, unsigned base)
{
    char buf[24];
    int n = 0;
    do { buf[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    char out[24];
    for (int i = 0; i < n; i++) out[i] = buf[n - 1 - i];
    emit(out, n);
}

static u64 rng_state = 0x243f6a8885a308d3ULL;
static u32 rng(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (u32)(rng_state >> 33);
}

static u8 buffer[16384];

static u32 crc32(const u8 *p, unsigned long n)
{
    u32 crc = 0xffffffffu;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }
    return ~crc;
}

#define SIEVE_N 100000
static u8 composite[SIEVE_N + 1];

static u32 keys[2000];

static void sift(u32 *a, int start, int end)
{
    int root = start;
    while (2 * root + 1 <= end) {
        int child = 2 * root + 1, swap = root;
        if (a[swap] < a[child]) swap = child;
        if (child + 1 <= end && a[swap] < a[child + 1]) swap = child + 1;
        if (swap == root) return;
        u32 t = a[root]; a[root] = a[swap]; a[swap] = t;
        root = swap;
    }
}

static void heapsort(u32 *a, int n)
{
    for (int start = (n - 2) / 2; start >= 0; start--) sift(a, start, n - 1);
    for (int end = n - 1; end > 0; end--) {
        u32 t = a[end]; a[end] = a[0]; a[0] = t;
        sift(a, 0, end - 1);
    }
}

int compute_main(emit_fn *e)
{
    emit = e;
    put("compute: freestanding C on hvkit\n");

    for (unsigned long i = 0; i < sizeof(buffer); i++) buffer[i] = (u8)rng();
    put("crc32 of 16 KiB: 0x"); put_u(crc32(buffer, sizeof(buffer)), 16); put("\n");
    put("crc32(\"123456789\"): 0x"); put_u(crc32((const u8 *)"123456789", 9), 16); put("\n");

    u64 count = 0, sum = 0, last = 0;
    for (u64 i = 2; i <= SIEVE_N; i++) {
        if (composite[i]) continue;
        count++; sum += i; last = i;
        for (u64 j = i * i; j <= SIEVE_N; j += i) composite[j] = 1;
    }
    put("primes below 100000: "); put_u(count, 10);
    put(", sum "); put_u(sum, 10); put(", largest "); put_u(last, 10); put("\n");

    for (int i = 0; i < 2000; i++) keys[i] = rng() % 1000000;
    heapsort(keys, 2000);
    int sorted = 1;
    u64 weighted = 0;
    for (int i = 0; i < 2000; i++) {
        if (i && keys[i - 1] > keys[i]) sorted = 0;
        weighted += (u64)keys[i] * (u64)(i + 1);
    }
    put("heapsort of 2000 keys: "); put(sorted ? "sorted" : "NOT SORTED");
    put(", min "); put_u(keys[0], 10); put(", max "); put_u(keys[1999], 10);
    put(", weighted sum "); put_u(weighted, 10); put("\n");

    u64 a = 0x9e3779b97f4a7c15ULL, acc = 1;
    for (int i = 1; i <= 1000; i++) {
        acc = acc * a + (u64)i;
        acc ^= acc >> 29;
        acc += acc / (u64)(i * 7 + 3);
    }
    put("mix64: 0x"); put_u(acc, 16); put("\n");
    return 0;
}
