/*
 * bench as a multiboot kernel (32-bit x86, for v86): the pass count is the multiboot
 * command line, output goes to the first serial port (COM1 at I/O port 0x3f8, each byte
 * written once the line status register says the transmit holding register is empty,
 * bit 5 of LSR at 0x3fd, as on a 16550). multiboot.S calls multiboot_main and halts when
 * it returns.
 */
typedef unsigned int u32;
typedef unsigned char u8;

/* Multiboot 0.6.96 info: `flags` bit 2 says `cmdline` holds a C string's address. */
struct multiboot_info { u32 flags, mem_lower, mem_upper, boot_device, cmdline; };
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002
#define MULTIBOOT_INFO_CMDLINE 4

#define COM1 0x3f8
#define LSR_THRE 0x20

int bench_main(void (*emit)(const char *, unsigned long), const char *args);

static inline void outb(unsigned short port, u8 v) { asm volatile ("outb %0, %1" : : "a" (v), "Nd" (port)); }
static inline u8 inb(unsigned short port) { u8 v; asm volatile ("inb %1, %0" : "=a" (v) : "Nd" (port)); return v; }

static void serial(const char *s, unsigned long n)
{
    while (n--) {
        while (!(inb(COM1 + 5) & LSR_THRE)) ;
        outb(COM1, (u8)*s++);
    }
}

/* What gcc may call for structure copies and clears in freestanding code. */
void *memset(void *d, int c, unsigned long n) { u8 *p = d; while (n--) *p++ = (u8)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) { u8 *p = d; const u8 *q = s; while (n--) *p++ = *q++; return d; }

void multiboot_main(u32 magic, const struct multiboot_info *info)
{
    const char *args = "";
    if (magic == MULTIBOOT_BOOTLOADER_MAGIC && (info->flags & MULTIBOOT_INFO_CMDLINE))
        args = (const char *)info->cmdline;
    bench_main(serial, args);
}
