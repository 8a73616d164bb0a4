/*
 * privregs: what Xen 4.19 does with the privileged instructions of a 64-bit PV kernel
 * (which runs in ring 3, so each one faults into Xen's privileged-op emulator), checked
 * by the guest itself: one "ok <what>" line per check.
 *
 * Sources (Xen 4.19, RELEASE-4.19.0):
 * - pv/emul-priv-op.c read_cr / write_cr: CR0 is Xen's with the guest's TS, a write that
 *   changes anything but TS is refused (#GP); CR4 writes never fault: pv/domain.c
 *   pv_fixup_guest_cr4 keeps TSD, DE, FSGSBASE, OSXSAVE where the CPUID policy has them
 *   and shows the host's PAE | MCE | OSFXSR | OSXMMEXCPT (0x660); pv_make_cr4 puts TSD and
 *   FSGSBASE into the real CR4. CR8 and others: #GP.
 * - x86_emulate.c rdtsc: with CR4.TSD, emulated for the kernel, #GP(0) for user mode.
 * - msr.c guest_rdmsr / guest_wrmsr, read_msr / write_msr, cpu/mcheck/vmce.c, traps.c
 *   guest_wrmsr_xen (hypercall page at MSR 0x40000000): values on an Intel host, #GP for
 *   the rest (MSR_DEBUGCTL included).
 * - x86_emulate.c cpuid, pv/emul-inv-op.c: with MSR_INTEL_MISC_FEATURES_ENABLES bit 0,
 *   cpuid from guest user mode (forced or not) is #GP(0); the kernel's is answered.
 * - domain.c arch_sanitise_domain_config / arch_domain_create: createdomain's
 *   misc_flags other than XEN_X86_MSR_RELAXED -EINVAL, emulation_flags other than none
 *   or the PIT -EOPNOTSUPP for PV.
 */
#include "traps.h"
#include "xen.h"

/* Where a probed instruction resumes after a fault, and what the fault was. */
volatile u64 probe_fixup;
volatile u64 probe_fault;

#define GP0 FAULT(13, 0)
#define UD FAULT(6, 0)

void trap_handler(struct regs *r)
{
    if (probe_fault_taken(r))
        return;
    printk("unexpected vector %lu at %lx\n", r->vector, r->rip);
    shutdown(3);
}

static u64 rdmsr_probe(u32 idx, u64 *val)
{
    u32 lo = 0, hi = 0;
    u64 f = PROBE("rdmsr", : "+a"(lo), "+d"(hi) : "c"(idx) : "r11", "memory");
    *val = ((u64)hi << 32) | lo;
    return f;
}

static u64 wrmsr_probe(u32 idx, u64 val)
{
    return PROBE("wrmsr", : : "c"(idx), "a"((u32)val), "d"((u32)(val >> 32)) : "r11", "memory");
}

static u64 rdmsr_val(u32 idx)
{
    u64 v;
    return rdmsr_probe(idx, &v) ? 0xbad : v;
}

static u64 read_cr0(void) { u64 v; asm volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static u64 read_cr4(void) { u64 v; asm volatile("mov %%cr4, %0" : "=r"(v)); return v; }

static u64 write_cr0_probe(u64 v)
{
    return PROBE("mov %0, %%cr0", : : "r"(v) : "r11", "memory");
}

static u64 write_cr4_probe(u64 v)
{
    return PROBE("mov %0, %%cr4", : : "r"(v) : "r11", "memory");
}

static u64 rdfsbase_probe(u64 *v)
{
    u64 x = 0;
    u64 f = PROBE("rdfsbase %0", : "+r"(x) : : "r11", "memory");
    *v = x;
    return f;
}

static u64 rdtsc_probe(u64 *v)
{
    u32 lo = 0, hi = 0;
    u64 f = PROBE("rdtsc", : "+a"(lo), "+d"(hi) : : "r11", "memory");
    *v = ((u64)hi << 32) | lo;
    return f;
}

static u64 cpuid_probe(void)
{
    u32 a = 0, b, c = 0, d;
    return PROBE("cpuid", : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : : "r11", "memory");
}

static u64 forced_cpuid_probe(void)
{
    u32 a = 0, b, c = 0, d;
    return PROBE("ud2; .ascii \"xen\"; cpuid", : "+a"(a), "=b"(b), "+c"(c), "=d"(d) : : "r11", "memory");
}

static unsigned long user_rdtsc(void) { u64 v; return rdtsc_probe(&v); }
static unsigned long user_cpuid(void) { return cpuid_probe(); }
static unsigned long user_forced_cpuid(void) { return forced_cpuid_probe(); }

static struct trap_info table[] = {
    { 3, 3 | 4, 0xe030, 0, (u64)entry_BP },
    { 6, 0 | 4, 0xe030, 0, (u64)entry_UD },
    { 13, 0 | 4, 0xe030, 0, (u64)entry_GP },
    { 14, 0 | 4, 0xe030, 0, (u64)entry_PF },
    { 0x21, 3 | 4, 0xe030, 0, (u64)entry_ret2kern },
    { 0, 0, 0, 0, 0 },
};

static struct { u16 type, flags; u32 _pad; u64 address; } syscall_cb = { 2, 1, 0, (u64)entry_syscall };
static u8 kernel_stack[8192] __attribute__((aligned(16)));
static u8 new_hypercall_page[4096] __attribute__((aligned(4096)));
static struct domctl dc;

#define CR4_TSD 0x4UL
#define CR4_DE 0x8UL
#define CR4_FSGSBASE 0x10000UL
#define CR4_OSXSAVE 0x40000UL

static void control_registers(void)
{
    check("cr0 is Xen's (PE MP ET NE WP AM PG)", read_cr0(), 0x80050033);
    check("mov to cr0 of TS alone", write_cr0_probe(0x8005003b), 0);
    check("cr0.TS set", read_cr0(), 0x8005003b);
    asm volatile("clts");
    check("clts clears cr0.TS", read_cr0(), 0x80050033);
    check("mov to cr0 clearing WP: #GP(0)", write_cr0_probe(0x80040033), GP0);
    check("cr0 unchanged", read_cr0(), 0x80050033);

    check("cr4 of a new vCPU: PAE MCE OSFXSR OSXMMEXCPT", read_cr4(), 0x660);
    check("Linux's mov $0x620, %cr4 does not fault", write_cr4_probe(0x620), 0);
    check("cr4 after it", read_cr4(), 0x660);
    check("cr4 with VME PSE PGE UMIP SMEP PKE asked for: no fault", write_cr4_probe(0x5008b1), 0);
    check("those bits dropped", read_cr4(), 0x660);
    check("cr4.DE kept", (write_cr4_probe(0x668), read_cr4()), 0x668);
    check("cr4.DE cleared", (write_cr4_probe(0x660), read_cr4()), 0x660);
    u32 a = 1, b, c = 0, d;
    asm volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    write_cr4_probe(0x660 | CR4_OSXSAVE);
    check("cr4.OSXSAVE kept exactly when cpuid offers XSAVE", !!(read_cr4() & CR4_OSXSAVE), !!(c & (1 << 26)));
    write_cr4_probe(0x660);

    u64 v;
    check("rdfsbase without cr4.FSGSBASE: #UD", rdfsbase_probe(&v), UD);
    check("wrmsr FS_BASE", wrmsr_probe(0xc0000100, 0x12345000), 0);
    check("cr4.FSGSBASE kept", (write_cr4_probe(0x660 | CR4_FSGSBASE), read_cr4()), 0x660 | CR4_FSGSBASE);
    check("rdfsbase with cr4.FSGSBASE", rdfsbase_probe(&v), 0);
    check("rdfsbase reads FS_BASE", v, 0x12345000);
    write_cr4_probe(0x660);
    check("rdfsbase with cr4.FSGSBASE cleared again: #UD", rdfsbase_probe(&v), UD);
    wrmsr_probe(0xc0000100, 0);

    u64 t0, t1;
    check("cr4.TSD kept", (write_cr4_probe(0x660 | CR4_TSD), read_cr4()), 0x660 | CR4_TSD);
    check("kernel rdtsc with cr4.TSD", rdtsc_probe(&t0), 0);
    check("kernel rdtsc with cr4.TSD", rdtsc_probe(&t1), 0);
    check_that("the TSC goes forward", t1 > t0, t1 - t0);
    check("user rdtsc with cr4.TSD: #GP(0)", exec_user(user_rdtsc), GP0);
    write_cr4_probe(0x660);
    check("user rdtsc without cr4.TSD", exec_user(user_rdtsc), 0);

    check("mov from cr8: #GP(0)", PROBE("mov %%cr8, %%rax", : : : "rax", "r11", "memory"), GP0);
    check("mov to cr8: #GP(0)", PROBE("xor %%eax, %%eax; mov %%rax, %%cr8", : : : "rax", "r11", "memory"), GP0);
}

static void msrs(void)
{
    check("APIC_BASE: enabled, 0xfee00000, BSP", rdmsr_val(0x1b), 0xfee00900);
    check("FEATURE_CONTROL: locked", rdmsr_val(0x3a), 1);
    check("PLATFORM_INFO: CPUID faulting", rdmsr_val(0xce), 0x80000000);
    check("MISC_FEATURES_ENABLES", rdmsr_val(0x140), 0);
    check("MCG_CAP: SER TES CMCI, 2 banks", rdmsr_val(0x179), 0x1000c02);
    check("MC0_CTL: all ones", rdmsr_val(0x400), -1L);
    check("MC2_CTL (no bank 2): 0", rdmsr_val(0x408), 0);
    check("PAT: XEN_MSR_PAT", rdmsr_val(0x277), 0x0000050100070406);
    check("EFER: SCE LME LMA NXE", rdmsr_val(0xc0000080), 0xd01);
    check("PERF_GLOBAL_CTRL: 0 (vPMU off)", rdmsr_val(0x38f), 0);
    check("0x40000000 (hypercall page) reads 0", rdmsr_val(0x40000000), 0);

    u64 v;
    check("rdmsr DEBUGCTL: #GP(0)", rdmsr_probe(0x1d9, &v), GP0);
    check("rdmsr SPEC_CTRL: #GP(0)", rdmsr_probe(0x48, &v), GP0);
    check("rdmsr TSC_AUX: #GP(0)", rdmsr_probe(0xc0000103, &v), GP0);
    check("rdmsr x2APIC ID: #GP(0)", rdmsr_probe(0x802, &v), GP0);
    check("rdmsr SYSENTER_CS: #GP(0)", rdmsr_probe(0x174, &v), GP0);
    check("rdmsr 0x40000001: #GP(0)", rdmsr_probe(0x40000001, &v), GP0);

    check("wrmsr EFER, its value", wrmsr_probe(0xc0000080, 0xd01), 0);
    check("wrmsr EFER without NXE: #GP(0)", wrmsr_probe(0xc0000080, 0x501), GP0);
    check("wrmsr GS_BASE non-canonical: #GP(0)", wrmsr_probe(0xc0000101, 0x800000000000), GP0);
    check("wrmsr MCG_STATUS", wrmsr_probe(0x17a, 4), 0);
    check("MCG_STATUS kept", rdmsr_val(0x17a), 4);
    wrmsr_probe(0x17a, 0);
    check("wrmsr MC0_STATUS non-zero: #GP(0)", wrmsr_probe(0x401, 1), GP0);
    check("wrmsr MC0_STATUS zero", wrmsr_probe(0x401, 0), 0);
    check("wrmsr UCODE_REV 0", wrmsr_probe(0x8b, 0), 0);
    check("wrmsr MISC_ENABLE: dropped", wrmsr_probe(0x1a0, 0), 0);
    check("wrmsr PAT: #GP(0)", wrmsr_probe(0x277, 0), GP0);
    check("wrmsr DEBUGCTL: #GP(0)", wrmsr_probe(0x1d9, 0), GP0);
    check("wrmsr MISC_FEATURES_ENABLES bit 1: #GP(0)", wrmsr_probe(0x140, 2), GP0);
}

static void cpuid_faulting(void)
{
    check("user cpuid", exec_user(user_cpuid), 0);
    check("enable CPUID faulting", wrmsr_probe(0x140, 1), 0);
    check("kernel cpuid with faulting", cpuid_probe(), 0);
    check("kernel forced cpuid with faulting", forced_cpuid_probe(), 0);
    check("user cpuid with faulting: #GP(0)", exec_user(user_cpuid), GP0);
    check("user forced cpuid with faulting: #GP(0)", exec_user(user_forced_cpuid), GP0);
    check("disable CPUID faulting", wrmsr_probe(0x140, 0), 0);
    check("user cpuid again", exec_user(user_cpuid), 0);
}

static void hypercall_page_msr(void)
{
    u64 mfn = mfn_of(new_hypercall_page);
    check("wrmsr 0x40000000 with a page of ours", wrmsr_probe(0x40000000, mfn << 12), 0);
    check("stub 17: push %rcx; push %r11; mov $17, %eax", new_hypercall_page[17 * 32 + 4], 17);
    check("padding is int3", new_hypercall_page[4095], 0xcc);
    long got;
    register long a1 asm("rdi") = 0;  /* XENVER_version */
    register long a2 asm("rsi") = 0;
    asm volatile("call *%[stub]"
                 : "=a"(got), "+r"(a1), "+r"(a2)
                 : [stub] "r"(new_hypercall_page + 17 * 32)
                 : "rcx", "r11", "rdx", "r8", "r9", "r10", "memory");
    check("xen_version through the new page", got, HYPERCALL(HC_xen_version, 0, 0, 0, 0, 0));
    check("wrmsr 0x40000000 with a page index: #GP(0)", wrmsr_probe(0x40000000, (mfn << 12) | 1), GP0);
    check("wrmsr 0x40000000 with a page table: #GP(0)",
          wrmsr_probe(0x40000000, read_cr3() & ~0xfffUL), GP0);
}

static void createdomain_arch_config(void)
{
    memset(&dc, 0, sizeof(dc));
    dc.u.createdomain.max_vcpus = 1;
    dc.u.createdomain.max_grant_frames = -1;
    dc.u.createdomain.max_maptrack_frames = -1;
    dc.u.createdomain.grant_opts = 2; /* XEN_DOMCTL_GRANT_version(2): grant v1 and v2, as libxl asks */
    dc.u.createdomain.misc_flags = 2;
    check("createdomain, misc_flags 2: -EINVAL", do_domctl(&dc, DOMCTL_createdomain, 0), -EINVAL);
    dc.u.createdomain.misc_flags = 0;
    dc.u.createdomain.emulation_flags = 1; /* LAPIC */
    check("createdomain, PV with an emulated LAPIC: -EOPNOTSUPP", do_domctl(&dc, DOMCTL_createdomain, 0), -EOPNOTSUPP);
    dc.u.createdomain.emulation_flags = 0;
    dc.u.createdomain.misc_flags = 1; /* XEN_X86_MSR_RELAXED */
    check("createdomain with XEN_X86_MSR_RELAXED", do_domctl(&dc, DOMCTL_createdomain, 0), 0);
    u16 id = dc.domain;
    check("destroydomain", do_domctl(&dc, DOMCTL_destroydomain, id), 0);
}

int guest_main(void)
{
    check("set_trap_table", HYPERCALL(HC_set_trap_table, table, 0, 0, 0, 0), 0);
    check("register syscall callback", HYPERCALL(HC_callback_op, 0, &syscall_cb, 0, 0, 0), 0);
    check("stack_switch", HYPERCALL(HC_stack_switch, 0xe02b, kernel_stack + sizeof(kernel_stack), 0, 0, 0), 0);
    struct mmuext_op op = { 15, 0, read_cr3() >> 12, 0 }; /* MMUEXT_NEW_USER_BASEPTR */
    check("new_user_baseptr", HYPERCALL(HC_mmuext_op, &op, 1, 0, DOMID_SELF, 0), 0);
    control_registers();
    msrs();
    cpuid_faulting();
    hypercall_page_msr();
    createdomain_arch_config();
    return 0;
}
