/*
 * A freestanding program for the PowerPC CPU's end-to-end test: integer and floating-point
 * work as gcc compiles it (calls, function pointers, switch tables, 64-bit multiply and
 * divide, rotates, single and double precision, conversions, square roots, rounding
 * modes), printed through the Linux write system call. Built by
 * arch-ppc/scripts/gen-c-corpus.sh; the output qemu-ppc64 gives is compute.out, which
 * c-program.test.ts compares with what the interpreter prints.
 */
typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;

static long sys3(long nr, long a, long b, long c) {
  register long r0 __asm__("r0") = nr;
  register long r3 __asm__("r3") = a;
  register long r4 __asm__("r4") = b;
  register long r5 __asm__("r5") = c;
  __asm__ volatile("sc" : "+r"(r0), "+r"(r3), "+r"(r4), "+r"(r5) : : "memory", "cr0", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "ctr", "xer");
  return r3;
}

static char buf[4096];
static int len;

static void flush(void) {
  sys3(4, 1, (long)buf, len);
  len = 0;
}
static void putc_(char c) {
  if (len == sizeof buf) flush();
  buf[len++] = c;
}
static void puts_(const char *s) {
  while (*s) putc_(*s++);
}
static void putu(u64 v, int base) {
  char t[24];
  int n = 0;
  do {
    t[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v);
  while (n) putc_(t[--n]);
}
static void puti(i64 v) {
  if (v < 0) {
    putc_('-');
    putu(-(u64)v, 10);
  } else putu(v, 10);
}
static void putd(double d) {
  /* The bits: exact whatever the rounding. */
  union { double d; u64 u; } x = {d};
  puts_("0x");
  putu(x.u, 16);
}
static void line(const char *name, i64 v) {
  puts_(name);
  putc_(' ');
  puti(v);
  putc_('\n');
}
static void lined(const char *name, double v) {
  puts_(name);
  putc_(' ');
  putd(v);
  putc_('\n');
}

static u64 fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static u64 hash(const unsigned char *p, int n) {
  u64 h = 1469598103934665603UL;
  for (int i = 0; i < n; i++) {
    h ^= p[i];
    h *= 1099511628211UL;
  }
  return h;
}

static i64 op_add(i64 a, i64 b) { return a + b; }
static i64 op_sub(i64 a, i64 b) { return a - b; }
static i64 op_mul(i64 a, i64 b) { return a * b; }
static i64 op_div(i64 a, i64 b) { return b ? a / b : 0; }
static i64 (*const ops[])(i64, i64) = {op_add, op_sub, op_mul, op_div};

static int classify(int x) {
  switch (x & 15) {
  case 0: return 7;
  case 1: return 3;
  case 2: return 11;
  case 3: return 5;
  case 4: return 13;
  case 5: return 2;
  case 6: return 17;
  case 7: return 19;
  case 8: return 23;
  default: return x;
  }
}

static u32 rotl(u32 x, int n) { return (x << n) | (x >> (32 - n)); }

static volatile double vd[8] = {1.5, -2.25, 3.0e10, 1e-300, 0.1, 7.0, -0.0, 12345.6789};
static volatile float vf[4] = {1.1f, -3.5f, 1e20f, 2.5e-30f};

static void set_rn(int mode) {
  /* mtfsfi 7,mode via mtfsf from a double's low word */
  union { double d; u64 u; } x = {.u = (u64)mode};
  __asm__ volatile("mtfsf 1,%0" : : "f"(x.d));
}

static double sqrt_(double x) {
  double r;
  __asm__("fsqrt %0,%1" : "=f"(r) : "f"(x));
  return r;
}

int main(void) {
  line("fib25", fib(25));
  unsigned char data[256];
  for (int i = 0; i < 256; i++) data[i] = (unsigned char)(i * 37 + 11);
  line("hash", (i64)hash(data, 256));
  i64 acc = 0x123456789abcdefL;
  for (int i = 0; i < 1000; i++) acc = ops[i & 3](acc, (i64)(i * 7919 + 1)) ^ (acc >> 3);
  line("ops", acc);
  u64 u = 0xfedcba9876543210UL;
  line("udiv", (i64)(u / 12345));
  line("umod", (i64)(u % 12345));
  line("mulhi", (i64)(((unsigned __int128)u * 0x9e3779b97f4a7c15UL) >> 64));
  int s = 0;
  for (int i = 0; i < 100; i++) s += classify(i * 13);
  line("switch", s);
  u32 r = 1;
  for (int i = 0; i < 50; i++) r = rotl(r * 2654435761u, i & 31) ^ (u32)i;
  line("rotl", r);
  int clz = __builtin_clzl(u >> 17) + __builtin_clz(0x00f0u);
  line("clz", clz);

  double d = 0;
  for (int i = 0; i < 8; i++) d = d * 1.0000001 + vd[i] / (i + 1);
  lined("dsum", d);
  float f = 0;
  for (int i = 0; i < 4; i++) f = f * 0.5f + vf[i] * vf[(i + 1) & 3];
  lined("fsum", f);
  lined("sqrt2", sqrt_(2.0));
  lined("fma", vd[0] * vd[1] + vd[4]);
  line("d2i", (i64)(vd[7] * 1000.0));
  line("d2u32", (i64)(int)(vd[1] * 3.7));
  lined("i2d", (double)acc);
  lined("f2d", (double)(float)vd[4]);
  for (int m = 0; m < 4; m++) {
    set_rn(m);
    lined(m == 0 ? "rn0" : m == 1 ? "rn1" : m == 2 ? "rn2" : "rn3", vd[4] * 3.0 + vd[5] / 3.0);
    lined(m == 0 ? "rs0" : m == 1 ? "rs1" : m == 2 ? "rs2" : "rs3", (double)((float)vd[4] / 3.0f));
  }
  set_rn(0);
  union { double d; u64 u; } fp;
  __asm__ volatile("mffs %0" : "=f"(fp.d));
  line("fpscr", (i64)(fp.u & 0xffffffff));
  flush();
  return 0;
}

void _start_c(void) {
  int rc = main();
  sys3(234, rc, 0, 0); /* exit_group */
}
