/*
 * segments: segmentation and 32-bit compatibility-mode code of a 64-bit PV kernel as
 * Xen 4.19 on an Intel host gives them, checked by the guest itself: one "ok <what>"
 * line per check.
 *
 * Sources (Xen 4.19, RELEASE-4.19.0):
 * - desc.c boot_gdt and xen-x86_64.h: Xen's GDT page holds FLAT_RING3_CS32 (0xe023),
 *   FLAT_RING3_DS32/SS (0xe02b), FLAT_RING3_CS64 (0xe033) and its own ring-0 segments.
 * - pv/descriptor-tables.c pv_set_gdt / do_set_gdt: at most 14 pages of entries, frames
 *   taking the seg_desc type (not while mapped writable); check_descriptor: code/data DPL
 *   raised to 3, call gates kept with DPL 0 and the original DPL in the target selector's
 *   RPL, gate targets only in the guest's GDT range, its LDT or FLAT_KERNEL_CS, reserved
 *   bits clear, other system descriptors refused; do_update_descriptor: 8-byte aligned.
 * - mm.c MMUEXT_SET_LDT: the LDT's linear base and entry count.
 * - traps.c do_general_protection: gate emulation is for 32-bit PV guests only, so a
 *   64-bit guest's call gate use is its own #GP(gate selector).
 * - The processor (Intel SDM vol. 2, 3): segment-register loads and far transfers with
 *   their #GP/#NP/#SS error codes (a target offset past the code segment's limit is
 *   #GP(0)), lar/lsl/verr/verw, compatibility-mode code (the instructions 64-bit mode
 *   lacks), `syscall` raising #UD in compatibility mode on Intel, `iretq` with EFLAGS.NT
 *   set raising #GP(0) (IRET: long mode has no task return).
 * - x86_64/entry.S sysenter_entry: the frame holds rip 0, cs 3, rsp 0, FLAT_USER_SS; the
 *   CALLBACKTYPE_sysenter address receives it, or the #GP handler with error code 0.
 */
#include "traps.h"
#include "xen.h"

#define HC_update_descriptor 10
#define MMUEXT_SET_LDT 13
#define MMUEXT_NEW_USER_BASEPTR 15
#define CALLBACKTYPE_sysenter 5

volatile u64 probe_fixup;
volatile u64 probe_fault;

#define GP(ec) FAULT(13, ec)
#define NP(ec) FAULT(11, ec)
#define SS(ec) FAULT(12, ec)
#define UD FAULT(6, 0)

/* What the sysenter frame held, and where the user code resumes. */
volatile u64 sysenter_seen, sysenter_frame_rip, sysenter_frame_cs, sysenter_frame_rsp, sysenter_frame_ss;
volatile u64 sysenter_rsp, sysenter_ret;

void trap_handler(struct regs *r)
{
    if (sysenter_ret && (r->vector == 0x100 || (r->vector == 13 && r->rip == 0))) {
        sysenter_seen = r->vector;
        sysenter_frame_rip = r->rip;
        sysenter_frame_cs = r->cs;
        sysenter_frame_rsp = r->rsp;
        sysenter_frame_ss = r->ss;
        r->rip = sysenter_ret;
        r->cs = 0xe033;
        r->rsp = sysenter_rsp;
        r->ss = 0xe02b;
        sysenter_ret = 0;
        return;
    }
    if (probe_fault_taken(r))
        return;
    printk("unexpected vector %lu (error code %lx) at %lx\n", r->vector, r->error_code, r->rip);
    shutdown(3);
}

static u64 load_ds(u16 sel) { return PROBE("mov %0, %%ds", : : "r"(sel) : "r11", "memory"); }
static u64 load_ss(u16 sel) { return PROBE("mov %0, %%ss", : : "r"(sel) : "r11", "memory"); }
static u64 load_fs(u16 sel) { return PROBE("mov %0, %%fs", : : "r"(sel) : "r11", "memory"); }

static u64 lar(u16 sel, int *zf)
{
    u64 v = 0x5a5a;
    u8 z;
    asm volatile("lar %2, %0; setz %1" : "+r"(v), "=q"(z) : "r"((u64)sel));
    *zf = z;
    return v;
}

static u64 lsl(u16 sel, int *zf)
{
    u64 v = 0x5a5a;
    u8 z;
    asm volatile("lsl %2, %0; setz %1" : "+r"(v), "=q"(z) : "r"((u64)sel));
    *zf = z;
    return v;
}

static int verr(u16 sel) { u8 z; asm volatile("verr %1; setz %0" : "=q"(z) : "r"(sel)); return z; }
static int verw(u16 sel) { u8 z; asm volatile("verw %1; setz %0" : "=q"(z) : "r"(sel)); return z; }

/* 32-bit code, reached with a far call to FLAT_RING3_CS32 (or our own 32-bit segment). */
u32 compat_eax, compat_edx;
void compat_code(void), compat_syscall(void), compat_after_syscall(void);
asm(".code32\n"
    "compat_code:\n"
    "  mov $0x3f, %eax\n"
    "  .byte 0xd4, 0x0a\n"         /* aam $10: invalid in 64-bit code */
    "  mov %eax, %edx\n"
    "  mov $41, %eax\n"
    "  .byte 0x40\n"               /* inc %eax: a REX prefix in 64-bit code */
    "  lret\n"
    "compat_syscall:\n"
    "  syscall\n"
    "compat_after_syscall:\n"
    "  lret\n"
    ".code64\n");

struct far32 { u32 offset; u16 sel; } __attribute__((packed));

static u64 far_call(u16 sel, void (*fn)(void), u32 *eax, u32 *edx)
{
    static struct far32 ptr;
    ptr.offset = (u32)(u64)fn;
    ptr.sel = sel;
    u32 a = 0, d = 0;
    u64 f = PROBE("lcall *%[p]", : [p] "+m"(ptr), "+a"(a), "+d"(d) : : "r11", "memory");
    *eax = a;
    *edx = d;
    return f;
}

static struct trap_info table[] = {
    { 6, 0 | 4, 0xe030, 0, (u64)entry_UD },
    { 11, 0 | 4, 0xe030, 0, (u64)entry_NP },
    { 12, 0 | 4, 0xe030, 0, (u64)entry_SS },
    { 13, 0 | 4, 0xe030, 0, (u64)entry_GP },
    { 14, 0 | 4, 0xe030, 0, (u64)entry_PF },
    { 0x21, 3 | 4, 0xe030, 0, (u64)entry_ret2kern },
    { 0, 0, 0, 0, 0 },
};

static u8 kernel_stack[8192] __attribute__((aligned(16)));
static u64 gdt[512] __attribute__((aligned(4096)));
static u64 gdt2[512] __attribute__((aligned(4096)));
static u64 ldt[512] __attribute__((aligned(4096)));

static long remap(void *page, u64 flags)
{
    return HYPERCALL(HC_update_va_mapping, page, (mfn_of(page) << 12) | flags, UVMF_INVLPG, 0, 0);
}

static u64 gate_target(void) { return 0; }

#define DESC_CODE32_DPL0 0x00cf9a000000ffffUL
#define DESC_DATA_DPL3 0x00cff2000000ffffUL
#define DESC_DATA_ABSENT 0x00cf72000000ffffUL
#define DESC_RODATA_DPL3 0x00cff0000000ffffUL
#define DESC_TSS 0x0000890000000067UL
/* 32-bit code of DPL 3 with a byte-granular limit of 1 MiB - 1 (below compat_code). */
#define DESC_CODE32_1M 0x004ffa000000ffffUL
/* A 64-bit call gate of DPL 3 to sel:off (the low 8 bytes; the high 8 hold off >> 32). */
#define GATE(sel, off) ((((u64)(off) & 0xffff0000UL) << 32) | 0x0000ec0000000000UL | ((u64)(sel) << 16) | ((u64)(off) & 0xffff))

static void xen_selectors(void)
{
    check("mov of FLAT_RING3_DS32 (0xe02b) to ds", load_ds(0xe02b), 0);
    check("mov of FLAT_RING3_DS32 to ss", load_ss(0xe02b), 0);
    check("mov of a null selector to ds", load_ds(0), 0);
    check("mov of a null selector to ss: #GP(0)", load_ss(3), GP(0));
    check("mov of Xen's ring-0 data (0xe010) to ds: #GP(0xe010)", load_ds(0xe013), GP(0xe010));
    check("mov of FLAT_RING3_CS64 (readable code) to ds", load_ds(0xe033), 0);
    check("mov of FLAT_RING3_CS64 to ss: #GP(0xe030)", load_ss(0xe033), GP(0xe030));
    check("mov of an LDT selector with no LDT: #GP(sel)", load_ds(0x000f), GP(0x000c));
    check("mov of a selector in an unused GDT page: #GP(sel)", load_ds(0x8003), GP(0x8000));
    load_ds(0xe02b);
    int zf;
    /* lar gives the high word & 0x00f0ff00: the limit bits are undefined (SDM), 0 here. */
    check("lar of FLAT_RING3_CS32", lar(0xe023, &zf), 0x00c0fb00);
    check("lar of FLAT_RING3_CS32 sets ZF", zf, 1);
    check("lar of FLAT_RING3_CS64", lar(0xe033, &zf), 0x00a0fb00);
    lar(0xe008, &zf);
    check("lar of Xen's ring-0 code clears ZF", zf, 0);
    check("lsl of FLAT_RING3_DS32", lsl(0xe02b, &zf), 0xffffffff);
    check("verr of FLAT_RING3_CS32", verr(0xe023), 1);
    check("verw of FLAT_RING3_CS32 (code)", verw(0xe023), 0);
    check("verw of FLAT_RING3_DS32", verw(0xe02b), 1);
}

static void guest_gdt(void)
{
    u64 frame = mfn_of(gdt);
    gdt[1] = DESC_CODE32_DPL0;   /* 0x0b */
    gdt[2] = DESC_DATA_DPL3;     /* 0x13 */
    gdt[3] = DESC_DATA_ABSENT;   /* 0x1b */
    gdt[4] = DESC_RODATA_DPL3;   /* 0x23 */
    gdt[5] = GATE(0xe033, (u64)gate_target); /* 0x2b, 16 bytes */
    gdt[6] = (u64)gate_target >> 32;
    check("set_gdt of a frame mapped writable: -EINVAL", HYPERCALL(HC_set_gdt, &frame, 8, 0, 0, 0), -EINVAL);
    check("remap the GDT page read-only", remap(gdt, PTE_P | PTE_A), 0);
    check("set_gdt of 14 pages and one entry: -EINVAL", HYPERCALL(HC_set_gdt, &frame, 14 * 512 + 1, 0, 0, 0), -EINVAL);
    check("set_gdt", HYPERCALL(HC_set_gdt, &frame, 8, 0, 0, 0), 0);
    check("check_descriptor raised the code segment's DPL to 3", gdt[1], 0x00cffa000000ffffUL);
    check("the call gate's DPL is 0 now, its target RPL the gate's DPL",
          gdt[5], (GATE(0xe033, (u64)gate_target) & ~0x0000600000000000UL));
    gdt2[1] = DESC_TSS;
    remap(gdt2, PTE_P | PTE_A);
    u64 frame2 = mfn_of(gdt2);
    check("set_gdt of a frame holding a TSS descriptor: -EINVAL", HYPERCALL(HC_set_gdt, &frame2, 8, 0, 0, 0), -EINVAL);

    check("mov of our data segment to ds", load_ds(0x13), 0);
    check("mov of our data segment to ss", load_ss(0x13), 0);
    load_ss(0xe02b);
    check("mov of a segment not present to ds: #NP(sel)", load_ds(0x1b), NP(0x18));
    check("mov of a segment not present to ss: #SS(sel)", load_ss(0x1b), SS(0x18));
    check("mov of read-only data to ss: #GP(sel)", load_ss(0x23), GP(0x20));
    check("mov of a call gate to fs: #GP(sel)", load_fs(0x2b), GP(0x28));
    check("loading our data segment set its accessed bit", (gdt[2] >> 40) & 1, 1);
    load_ds(0xe02b);
    int zf;
    check("lar of our 32-bit code", lar(0x0b, &zf), 0x00c0fa00);
    check("lar of the call gate (DPL 0 now) clears ZF", (lar(0x2b, &zf), zf), 0);
    check("verw of our read-only data", verw(0x23), 0);

    u64 ma = (frame << 12) + 7 * 8;
    check("update_descriptor of a TSS: -EINVAL", HYPERCALL(HC_update_descriptor, ma, DESC_TSS, 0, 0, 0), -EINVAL);
    check("update_descriptor at a misaligned address: -EINVAL",
          HYPERCALL(HC_update_descriptor, ma + 4, DESC_DATA_DPL3, 0, 0, 0), -EINVAL);
    check("update_descriptor of a gate to Xen's ring-0 code: -EINVAL",
          HYPERCALL(HC_update_descriptor, ma, GATE(0xe008, 0x1000), 0, 0, 0), -EINVAL);
    check("update_descriptor of a gate with reserved bits set: -EINVAL",
          HYPERCALL(HC_update_descriptor, ma, GATE(0x0b, 0x1000) | (1UL << 32), 0, 0, 0), -EINVAL);
    check("update_descriptor of DPL-0 data", HYPERCALL(HC_update_descriptor, ma, 0x00cf92000000ffffUL, 0, 0, 0), 0);
    check("update_descriptor wrote it with DPL 3", gdt[7], 0x00cff2000000ffffUL);
    check("mov of it to ds", load_ds(0x3b), 0);
    load_ds(0xe02b);
}

static void ldt_checks(void)
{
    ldt[1] = DESC_DATA_DPL3;
    remap(ldt, PTE_P | PTE_A);
    struct mmuext_op op = { MMUEXT_SET_LDT, 0, (u64)ldt, 2 };
    check("MMUEXT_SET_LDT", HYPERCALL(HC_mmuext_op, &op, 1, 0, DOMID_SELF, 0), 0);
    check("mov of an LDT selector to ds", load_ds(0x000f), 0);
    check("mov of an LDT selector beyond its entries: #GP(sel)", load_ds(0x0017), GP(0x0014));
    load_ds(0xe02b);
    op.arg1 = 0;
    op.arg2 = 0;
    HYPERCALL(HC_mmuext_op, &op, 1, 0, DOMID_SELF, 0);
    check("with the LDT gone its selectors fault", load_ds(0x000f), GP(0x000c));
}

static void far_transfers(void)
{
    u32 a, d;
    check("far call to FLAT_RING3_CS32: 32-bit code runs and returns", far_call(0xe023, compat_code, &a, &d), 0);
    check("in 32-bit code 40 is inc %eax", a, 42);
    check("in 32-bit code aam works (63 -> 0x0603)", d, 0x0603);
    check("far call to our own 32-bit code segment", far_call(0x0b, compat_code, &a, &d), 0);
    check("it ran there too", a, 42);
    check("far call through a call gate: #GP(gate) (no emulation for 64-bit guests)",
          far_call(0x2b, compat_code, &a, &d), GP(0x28));
    check("far call to a data segment: #GP(sel)", far_call(0x13, compat_code, &a, &d), GP(0x10));
    check("far call to a null selector: #GP(0)", far_call(0, compat_code, &a, &d), GP(0));
    check("far call to Xen's ring-0 code: #GP(sel)", far_call(0xe008, compat_code, &a, &d), GP(0xe008));
    /* The #UD is taken in 32-bit code: the handler resumes it after the syscall. */
    probe_fault = 0;
    static struct far32 ptr;
    ptr.offset = (u32)(u64)compat_syscall;
    ptr.sel = 0xe023;
    asm volatile("lea compat_after_syscall(%%rip), %%r11; mov %%r11, probe_fixup(%%rip); lcall *%0"
                 : "+m"(ptr) : : "rax", "rcx", "rdx", "r11", "memory");
    check("syscall in compatibility mode: #UD (Intel)", probe_fault, UD);
}

/* iretq to the next instruction with EFLAGS.NT set; NT is cleared again afterwards. */
static u64 iret_with_nt(void)
{
    probe_fault = 0;
    asm volatile("mov %%rsp, %%r10; lea 1f(%%rip), %%r11; mov %%r11, probe_fixup(%%rip)\n"
                 "pushq $0xe02b; pushq %%r10; pushfq; pushq $0xe033; pushq %%r11\n"
                 "pushfq; orq $0x4000, (%%rsp); popfq; iretq\n"
                 "1: movq $0, probe_fixup(%%rip); mov %%r10, %%rsp\n"
                 "pushfq; andq $~0x4000, (%%rsp); popfq"
                 : : : "r10", "r11", "cc", "memory");
    return probe_fault;
}

static void task_switches(void)
{
    u32 a, d;
    u64 ma = (mfn_of(gdt) << 12) + 7 * 8;
    check("update_descriptor of 32-bit code with a 1 MiB limit",
          HYPERCALL(HC_update_descriptor, ma, DESC_CODE32_1M, 0, 0, 0), 0);
    check("far call to an offset past its limit: #GP(0)", far_call(0x3b, compat_code, &a, &d), GP(0));
    check("iretq with EFLAGS.NT set: #GP(0) (no task return in long mode)", iret_with_nt(), GP(0));
}

static unsigned long user_sysenter(void)
{
    asm volatile("mov %%rsp, sysenter_rsp(%%rip); lea 1f(%%rip), %%rax; mov %%rax, sysenter_ret(%%rip);"
                 "sysenter; 1:" : : : "rax", "rcx", "rdx", "r11", "memory");
    return sysenter_seen;
}

static void sysenter_checks(void)
{
    check("sysenter with no callback: #GP(0) from a frame at rip 0", exec_user(user_sysenter), 13);
    check("the frame's rip", sysenter_frame_rip, 0);
    check("the frame's cs (null, ring 3)", sysenter_frame_cs, 3);
    check("the frame's rsp", sysenter_frame_rsp, 0);
    check("the frame's ss (FLAT_USER_SS)", sysenter_frame_ss, 0xe02b);
    struct callback_register cb = { CALLBACKTYPE_sysenter, 0, 0, (u64)entry_sysenter };
    check("register the sysenter callback", HYPERCALL(HC_callback_op, CALLBACKOP_register, &cb, 0, 0, 0), 0);
    check("sysenter reaches the sysenter callback", exec_user(user_sysenter), 0x100);
    check("its frame's rip", sysenter_frame_rip, 0);
}

int guest_main(void)
{
    check("set_trap_table", HYPERCALL(HC_set_trap_table, table, 0, 0, 0, 0), 0);
    check("stack_switch", HYPERCALL(HC_stack_switch, 0xe02b, kernel_stack + sizeof(kernel_stack), 0, 0, 0), 0);
    struct mmuext_op op = { MMUEXT_NEW_USER_BASEPTR, 0, read_cr3() >> 12, 0 };
    check("new_user_baseptr", HYPERCALL(HC_mmuext_op, &op, 1, 0, DOMID_SELF, 0), 0);
    xen_selectors();
    guest_gdt();
    ldt_checks();
    far_transfers();
    task_switches();
    sysenter_checks();
    return 0;
}
