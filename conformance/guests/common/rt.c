/* The runtime of rt.h. */
#include "rt.h"

void *memset(void *d, int c, unsigned long n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { u8 *p = d; const u8 *q = s; while (n--) *p++ = *q++; return d; }
unsigned long strlen(const char *s) { unsigned long n = 0; while (s[n]) n++; return n; }

static void write_console(const char *s, unsigned long n) { HYPERCALL(HC_console_io, 0, n, s, 0, 0); }

void print(const char *s) { write_console(s, strlen(s)); }

void shutdown(unsigned reason)
{
    u32 r = reason;
    HYPERCALL(HC_sched_op, 2, &r, 0, 0, 0);
    for (;;) ;
}

static char *put_num(char *p, unsigned long v, unsigned base, int neg)
{
    char tmp[24];
    int n = 0;
    do { tmp[n++] = "0123456789abcdef"[v % base]; v /= base; } while (v);
    if (neg) *p++ = '-';
    while (n) *p++ = tmp[--n];
    return p;
}

void printk(const char *fmt, ...)
{
    char buf[256], *p = buf;
    __builtin_va_list ap;
    __builtin_va_start(ap, fmt);
    for (; *fmt && p < buf + 200; fmt++) {
        if (*fmt != '%') { *p++ = *fmt; continue; }
        int lng = 0;
        fmt++;
        while (*fmt == 'l') { lng = 1; fmt++; }
        switch (*fmt) {
        case 's': { const char *s = __builtin_va_arg(ap, const char *); while (*s && p < buf + 240) *p++ = *s++; break; }
        case 'c': *p++ = (char)__builtin_va_arg(ap, int); break;
        case 'd': { long v = lng ? __builtin_va_arg(ap, long) : __builtin_va_arg(ap, int); p = put_num(p, v < 0 ? -(unsigned long)v : (unsigned long)v, 10, v < 0); break; }
        case 'u': { unsigned long v = lng ? __builtin_va_arg(ap, unsigned long) : __builtin_va_arg(ap, unsigned); p = put_num(p, v, 10, 0); break; }
        case 'x': { unsigned long v = lng ? __builtin_va_arg(ap, unsigned long) : __builtin_va_arg(ap, unsigned); p = put_num(p, v, 16, 0); break; }
        default: *p++ = *fmt; break;
        }
    }
    __builtin_va_end(ap);
    write_console(buf, p - buf);
}
