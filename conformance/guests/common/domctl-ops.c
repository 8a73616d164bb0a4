/*
 * domctl-ops: dom0 as a toolstack, every domctl/sysctl command hvkit implements, with its
 * success and error paths, checked by the guest itself ("ok"/"FAIL" per check).
 * Interface versions of Xen 4.19: domctl 0x17, sysctl 0x15.
 *
 * Sources (Xen 4.19, xen/common/domctl.c do_domctl unless said otherwise):
 * - unreadable request -EFAULT; interface_version != XEN_DOMCTL_INTERFACE_VERSION
 *   -EACCES; any command but createdomain on a domain rcu_lock_domain_by_id cannot find
 *   -ESRCH (before XSM); unknown command -ENOSYS (arch_do_domctl's default).
 * - createdomain: a requested id in use -EEXIST; sanitise_domain_config: unknown
 *   XEN_DOMCTL_CDF_* flags, max_vcpus 0 or above the limit, hap without hvm -EINVAL;
 *   x86 arch_sanitise_domain_config: hvm on a host without VMX/SVM -EINVAL. The new
 *   domain is paused by the controller until its first unpausedomain, has no vCPU
 *   online, max_vcpu_id = max_vcpus - 1, and the id is copied back.
 * - pausedomain: oneself -EINVAL; unpausedomain: domain_unpause_by_systemcontroller,
 *   -EINVAL when the controller's count is 0; XEN_DOMINF_paused (1 << 3) while paused.
 * - max_mem: max_pages = max_memkb >> (PAGE_SHIFT - 10), capped at (unsigned int)-1.
 * - setvcpucontext: oneself or a vcpu id >= max_vcpus -EINVAL; a null ctxt resets (0
 *   for a vCPU never initialised); else arch_set_info_guest (x86 PV: CR3 names a page
 *   of the domain that becomes its L4). getvcpucontext: id >= max_vcpus -EINVAL,
 *   never initialised -ENODATA, the copy to ctxt failing -EFAULT.
 * - setdebugging: oneself -EINVAL; XEN_DOMINF_debugged (1 << 6) follows `enable`.
 * - xen/arch/x86/domctl.c: set_address_size 64 on a 64-bit PV domain 0, a size neither
 *   32 nor 64 -EINVAL; get_address_size BITS_PER_LONG.
 * - max_vcpus (removed in Xen 4.12; hvkit keeps it as a check that `max` is the number of
 *   vCPUs created, -EINVAL otherwise or on oneself) and getmemlist (removed in 4.11, its
 *   last form: up to max_pfns MFNs into buffer, num_pfns written back) as hvkit defines
 *   them (core/src/hypercalls/domctl.ts).
 * - shadow_op (xen/arch/x86/mm/paging.c paging_domctl): oneself -EINVAL; hvkit's log-dirty
 *   stubs: OFF 0, GET_ALLOCATION 0 MiB, ENABLE_LOGDIRTY/CLEAN/PEEK -EOPNOTSUPP, an
 *   unknown op -EINVAL.
 * - destroydomain: domain_kill; afterwards the id is gone (-ESRCH).
 * - xen/common/sysctl.c do_sysctl: -EFAULT, -EACCES for another interface version,
 *   unknown command -ENOSYS; getdomaininfolist: domains with id >= first_domain, at
 *   most max_domains, num_domains written back, a failing copy -EFAULT.
 * Layouts: public/domctl.h, public/sysctl.h, public/arch-x86/xen-x86_64.h; on PowerPC
 * arch-powerpc.h's vcpu_guest_context (pc, r1, r3, msr set and read back instead of
 * x86_64's rip, rsp, rbx, cr3), and its domains are translated (ARCH_TRANSLATED).
 */
#include "xen.h"

#define SHADOW_OP_OFF 0
#define SHADOW_OP_ENABLE_LOGDIRTY 2
#define SHADOW_OP_CLEAN 11
#define SHADOW_OP_PEEK 12
#define SHADOW_OP_GET_ALLOCATION 30
#define NO_SUCH_DOMAIN 0x7fe0
#define UNMAPPED UNMAPPED_VA

static struct domctl d;
static struct sysctl s;
static struct getdomaininfo list[4];
static struct vcpu_guest_context ctx, got;
static u64 mfns[8];

static long domctl_raw(void) { return HYPERCALL(HC_domctl, &d, 0, 0, 0, 0); }
static long domctl(u32 cmd, u16 dom) { return do_domctl(&d, cmd, dom); }
/* A request with everything but cmd/domain zero. */
static long fresh(u32 cmd, u16 dom)
{
    memset(&d, 0, sizeof(d));
    return domctl(cmd, dom);
}
static long sysctl(u32 cmd)
{
    s.cmd = cmd;
    s.interface_version = SYSCTL_VERSION;
    return HYPERCALL(HC_sysctl, &s, 0, 0, 0, 0);
}
static struct getdomaininfo info(u16 dom)
{
    fresh(DOMCTL_getdomaininfo, dom);
    return d.u.getdomaininfo;
}
static long create(u16 dom, u32 flags, u32 max_vcpus)
{
    memset(&d, 0, sizeof(d));
    d.u.createdomain.flags = flags;
    d.u.createdomain.max_vcpus = max_vcpus;
    d.u.createdomain.max_grant_frames = -1;
    d.u.createdomain.max_maptrack_frames = -1;
    d.u.createdomain.grant_opts = 2; /* XEN_DOMCTL_GRANT_version(2): grant v1 and v2, as libxl asks */
    for (int i = 0; i < 16; i++)
        d.u.createdomain.handle[i] = 0x40 + i;
    return domctl(DOMCTL_createdomain, dom);
}
static u64 free_pages(void)
{
    memset(&s, 0, sizeof(s));
    sysctl(SYSCTL_physinfo);
    return s.u.physinfo.free_pages;
}

static void generic_errors(void)
{
    check("domctl EFAULT bad pointer", HYPERCALL(HC_domctl, UNMAPPED, 0, 0, 0, 0), -EFAULT);
    memset(&d, 0, sizeof(d));
    d.cmd = DOMCTL_getdomaininfo;
    d.interface_version = 0x16;
    check("domctl EACCES interface version 0x16", domctl_raw(), -EACCES);
    d.interface_version = 0x18;
    check("domctl EACCES interface version 0x18", domctl_raw(), -EACCES);
    check("domctl ENOSYS unknown command 99", fresh(99, 0), -ENOSYS);
    static const struct { u32 cmd; const char *name; } cmds[] = {
        { DOMCTL_destroydomain, "domctl destroydomain ESRCH no such domain" },
        { DOMCTL_pausedomain, "domctl pausedomain ESRCH no such domain" },
        { DOMCTL_unpausedomain, "domctl unpausedomain ESRCH no such domain" },
        { DOMCTL_getdomaininfo, "domctl getdomaininfo ESRCH no such domain" },
        { DOMCTL_getmemlist, "domctl getmemlist ESRCH no such domain" },
        { DOMCTL_shadow_op, "domctl shadow_op ESRCH no such domain" },
        { DOMCTL_max_mem, "domctl max_mem ESRCH no such domain" },
        { DOMCTL_setvcpucontext, "domctl setvcpucontext ESRCH no such domain" },
        { DOMCTL_getvcpucontext, "domctl getvcpucontext ESRCH no such domain" },
        { DOMCTL_max_vcpus, "domctl max_vcpus ESRCH no such domain" },
        { DOMCTL_setdebugging, "domctl setdebugging ESRCH no such domain" },
        { DOMCTL_set_address_size, "domctl set_address_size ESRCH no such domain" },
        { DOMCTL_get_address_size, "domctl get_address_size ESRCH no such domain" },
        { 99, "domctl unknown command on no such domain ESRCH" },
    };
    for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        check(cmds[i].name, fresh(cmds[i].cmd, NO_SUCH_DOMAIN), -ESRCH);
    check("domctl DOMID_SELF is no domain id: ESRCH", fresh(DOMCTL_getdomaininfo, 0x7ff0), -ESRCH);
}

static u16 creation(void)
{
    check("domctl createdomain EINVAL max_vcpus 0", create(0, 0, 0), -EINVAL);
    check("domctl createdomain EINVAL max_vcpus 129", create(0, 0, 129), -EINVAL);
    check("domctl createdomain EINVAL unknown flag", create(0, 1U << 31, 1), -EINVAL);
    check("domctl createdomain EINVAL hap without hvm", create(0, CDF_hap, 1), -EINVAL);
    check("domctl createdomain EINVAL hvm without VMX/SVM", create(0, CDF_hvm | CDF_hap, 1), -EINVAL);
    check("domctl createdomain", create(0, 0, 2), 0);
    u16 dom = d.domain;
    check_that("domctl createdomain writes back a new id", dom > 0 && dom < 0x7ff0, dom);
    check("domctl createdomain EEXIST id in use", create(dom, 0, 1), -EEXIST);
    check("domctl createdomain with id 42", create(42, 0, 1), 0);
    check("domctl createdomain with id 42 writes back 42", d.domain, 42);
    struct getdomaininfo i = info(dom);
    check("domctl getdomaininfo new domain", d.domain, dom);
    check("domctl getdomaininfo new domain paused by the controller", i.flags & DOMINF_paused, DOMINF_paused);
    check("domctl getdomaininfo new domain tot_pages 0", (long)i.tot_pages, 0);
    check("domctl getdomaininfo new domain no vCPU online", i.nr_online_vcpus, 0);
    check("domctl getdomaininfo new domain max_vcpu_id 1", i.max_vcpu_id, 1);
    check("domctl getdomaininfo new domain handle", i.handle[0] == 0x40 && i.handle[15] == 0x4f, 1);
    check("domctl destroydomain 42", fresh(DOMCTL_destroydomain, 42), 0);
    check("domctl getdomaininfo 42 after destroy ESRCH", fresh(DOMCTL_getdomaininfo, 42), -ESRCH);
    check("domctl destroydomain 42 again ESRCH", fresh(DOMCTL_destroydomain, 42), -ESRCH);
    return dom;
}

static void pausing(u16 dom)
{
    check("domctl pausedomain self EINVAL", fresh(DOMCTL_pausedomain, 0), -EINVAL);
    check("domctl pausedomain (count 2)", fresh(DOMCTL_pausedomain, dom), 0);
    check("domctl unpausedomain (count 1)", fresh(DOMCTL_unpausedomain, dom), 0);
    check("domctl still paused at count 1", info(dom).flags & DOMINF_paused, DOMINF_paused);
    check("domctl unpausedomain (count 0)", fresh(DOMCTL_unpausedomain, dom), 0);
    check("domctl unpaused at count 0", info(dom).flags & DOMINF_paused, 0);
    check("domctl unpausedomain at count 0 EINVAL", fresh(DOMCTL_unpausedomain, dom), -EINVAL);
    check("domctl pausedomain again", fresh(DOMCTL_pausedomain, dom), 0);
    check("domctl paused again", info(dom).flags & DOMINF_paused, DOMINF_paused);
}

static void limits(u16 dom)
{
    memset(&d, 0, sizeof(d));
    d.u.max_mem.max_memkb = 8192;
    check("domctl max_mem 8192 KiB", domctl(DOMCTL_max_mem, dom), 0);
    check("domctl max_mem 8192 KiB is 2048 pages", (long)info(dom).max_pages, 2048);
    memset(&d, 0, sizeof(d));
    d.u.max_mem.max_memkb = ~0UL;
    check("domctl max_mem ~0 KiB", domctl(DOMCTL_max_mem, dom), 0);
    check("domctl max_mem capped at 2^32 - 1 pages", (long)info(dom).max_pages, 0xffffffffL);
    memset(&d, 0, sizeof(d));
    d.u.max_mem.max_memkb = 64;
    domctl(DOMCTL_max_mem, dom);

    memset(&d, 0, sizeof(d));
    d.u.max_vcpus.max = 2;
    check("domctl max_vcpus 2 (as created)", domctl(DOMCTL_max_vcpus, dom), 0);
    memset(&d, 0, sizeof(d));
    d.u.max_vcpus.max = 3;
    check("domctl max_vcpus 3 EINVAL", domctl(DOMCTL_max_vcpus, dom), -EINVAL);
    memset(&d, 0, sizeof(d));
    d.u.max_vcpus.max = 1;
    check("domctl max_vcpus self EINVAL", domctl(DOMCTL_max_vcpus, 0), -EINVAL);

    check("domctl get_address_size", fresh(DOMCTL_get_address_size, dom), 0);
    check("domctl get_address_size 64", d.u.address_size.size, 64);
    memset(&d, 0, sizeof(d));
    d.u.address_size.size = 64;
    check("domctl set_address_size 64", domctl(DOMCTL_set_address_size, dom), 0);
    memset(&d, 0, sizeof(d));
    d.u.address_size.size = 48;
    check("domctl set_address_size 48 EINVAL", domctl(DOMCTL_set_address_size, dom), -EINVAL);

    memset(&d, 0, sizeof(d));
    for (int i = 0; i < 16; i++)
        d.u.setdomainhandle.handle[i] = 0xa0 + i;
    check("domctl setdomainhandle", domctl(DOMCTL_setdomainhandle, dom), 0);
    struct getdomaininfo i = info(dom);
    check("domctl setdomainhandle seen by getdomaininfo", i.handle[0] == 0xa0 && i.handle[15] == 0xaf, 1);

    memset(&d, 0, sizeof(d));
    d.u.setdebugging.enable = 1;
    check("domctl setdebugging on", domctl(DOMCTL_setdebugging, dom), 0);
    check("domctl setdebugging on: XEN_DOMINF_debugged", info(dom).flags & DOMINF_debugged, DOMINF_debugged);
    memset(&d, 0, sizeof(d));
    check("domctl setdebugging off", domctl(DOMCTL_setdebugging, dom), 0);
    check("domctl setdebugging off: flag clear", info(dom).flags & DOMINF_debugged, 0);
    memset(&d, 0, sizeof(d));
    d.u.setdebugging.enable = 1;
    check("domctl setdebugging self EINVAL", domctl(DOMCTL_setdebugging, 0), -EINVAL);
}

static void shadow(u16 dom)
{
    static const struct { u32 op; long want; const char *name; } ops[] = {
        { SHADOW_OP_OFF, 0, "domctl shadow_op OFF" },
        { SHADOW_OP_GET_ALLOCATION, 0, "domctl shadow_op GET_ALLOCATION" },
        { SHADOW_OP_ENABLE_LOGDIRTY, -EOPNOTSUPP, "domctl shadow_op ENABLE_LOGDIRTY EOPNOTSUPP (stub)" },
        { SHADOW_OP_CLEAN, -EOPNOTSUPP, "domctl shadow_op CLEAN EOPNOTSUPP (stub)" },
        { SHADOW_OP_PEEK, -EOPNOTSUPP, "domctl shadow_op PEEK EOPNOTSUPP (stub)" },
        { 99, -EINVAL, "domctl shadow_op unknown op EINVAL" },
    };
    for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        memset(&d, 0, sizeof(d));
        d.u.shadow_op.op = ops[i].op;
        d.u.shadow_op.mb = 77;
        check(ops[i].name, domctl(DOMCTL_shadow_op, dom), ops[i].want);
        if (ops[i].op == SHADOW_OP_GET_ALLOCATION)
            check("domctl shadow_op GET_ALLOCATION 0 MiB", d.u.shadow_op.mb, 0);
    }
    memset(&d, 0, sizeof(d));
    check("domctl shadow_op self EINVAL", domctl(DOMCTL_shadow_op, 0), -EINVAL);
}

static void memory_and_context(u16 dom)
{
    /* Two frames for the new domain (dom0 may adjust its reservation: XSM_TARGET). */
    u64 frames[2] = { 0, 0 };
    struct xen_memory_reservation r = { GUEST_HANDLE((unsigned long *)frames), 2, 0, 0, dom };
    check("domctl new domain gets 2 frames (increase_reservation)", HYPERCALL(HC_memory_op, XENMEM_increase_reservation, &r, 0, 0, 0), 2);
    check("domctl getdomaininfo tot_pages 2", (long)info(dom).tot_pages, 2);

    memset(&d, 0, sizeof(d));
    d.u.getmemlist.max_pfns = 8;
    d.u.getmemlist.buffer = GUEST_HANDLE((u64)mfns);
    check("domctl getmemlist", domctl(DOMCTL_getmemlist, dom), 0);
    check("domctl getmemlist num_pfns 2", (long)d.u.getmemlist.num_pfns, 2);
#ifdef ARCH_TRANSLATED
    /* memory.c increase_reservation copies a frame back only for a non-translated domain. */
    check("domctl increase_reservation of a translated domain writes no frames back", (long)(frames[0] | frames[1]), 0);
    check_that("domctl getmemlist lists two frames", mfns[0] != mfns[1], (long)mfns[0]);
#else
    u64 lo = frames[0] < frames[1] ? frames[0] : frames[1], hi = frames[0] ^ frames[1] ^ lo;
    check_that("domctl getmemlist lists the domain's frames", mfns[0] == lo && mfns[1] == hi, (long)mfns[0]);
#endif
    memset(&d, 0, sizeof(d));
    d.u.getmemlist.max_pfns = 1;
    d.u.getmemlist.buffer = GUEST_HANDLE((u64)mfns);
    check("domctl getmemlist max_pfns 1", domctl(DOMCTL_getmemlist, dom) | (long)d.u.getmemlist.num_pfns, 1);
    memset(&d, 0, sizeof(d));
    d.u.getmemlist.max_pfns = 8;
    d.u.getmemlist.buffer = UNMAPPED;
    check("domctl getmemlist EFAULT bad buffer", domctl(DOMCTL_getmemlist, dom), -EFAULT);

    /* vCPU contexts. */
    memset(&d, 0, sizeof(d));
    d.u.vcpucontext.vcpu = 0;
    d.u.vcpucontext.ctxt = GUEST_HANDLE((u64)&got);
    check("domctl getvcpucontext never initialised ENODATA", domctl(DOMCTL_getvcpucontext, dom), -ENODATA);
    d.u.vcpucontext.vcpu = 2;
    check("domctl getvcpucontext vcpu 2 of 2 EINVAL", domctl(DOMCTL_getvcpucontext, dom), -EINVAL);
    d.u.vcpucontext.vcpu = 2;
    d.u.vcpucontext.ctxt = GUEST_HANDLE((u64)&ctx);
    check("domctl setvcpucontext vcpu 2 of 2 EINVAL", domctl(DOMCTL_setvcpucontext, dom), -EINVAL);
    d.u.vcpucontext.vcpu = 0;
    check("domctl setvcpucontext self EINVAL", domctl(DOMCTL_setvcpucontext, 0), -EINVAL);
    d.u.vcpucontext.vcpu = 1;
    d.u.vcpucontext.ctxt = 0;
    check("domctl setvcpucontext null ctxt on a fresh vCPU", domctl(DOMCTL_setvcpucontext, dom), 0);

    memset(&ctx, 0, sizeof(ctx));
#ifdef __powerpc64__
    ctx.user_regs.pc = 0x200000;
    ctx.user_regs.gprs[1] = 0x300000;
    ctx.user_regs.gprs[3] = 0x1234;
    ctx.user_regs.msr = MSR_SF;
#else
    ctx.flags = VGCF_in_kernel;
    ctx.user_regs.rip = 0x200000;
    ctx.user_regs.rsp = 0x300000;
    ctx.user_regs.rbx = 0x1234;
    ctx.user_regs.cs = FLAT_KERNEL_CS;
    ctx.user_regs.ss = FLAT_KERNEL_SS;
    ctx.user_regs.rflags = 0x200;
    ctx.kernel_ss = FLAT_KERNEL_SS;
    ctx.kernel_sp = 0x300000;
    ctx.ctrlreg[3] = frames[0] << 12; /* an empty page of the domain becomes its L4 */
#endif
    memset(&d, 0, sizeof(d));
    d.u.vcpucontext.vcpu = 0;
    d.u.vcpucontext.ctxt = UNMAPPED;
    check("domctl setvcpucontext EFAULT bad ctxt", domctl(DOMCTL_setvcpucontext, dom), -EFAULT);
    d.u.vcpucontext.ctxt = GUEST_HANDLE((u64)&ctx);
    check("domctl setvcpucontext vcpu 0", domctl(DOMCTL_setvcpucontext, dom), 0);
    memset(&got, 0, sizeof(got));
    memset(&d, 0, sizeof(d));
    d.u.vcpucontext.vcpu = 0;
    d.u.vcpucontext.ctxt = GUEST_HANDLE((u64)&got);
    check("domctl getvcpucontext vcpu 0", domctl(DOMCTL_getvcpucontext, dom), 0);
#ifdef __powerpc64__
    check("domctl getvcpucontext pc", (long)got.user_regs.pc, 0x200000);
    check("domctl getvcpucontext r1", (long)got.user_regs.gprs[1], 0x300000);
    check("domctl getvcpucontext r3", (long)got.user_regs.gprs[3], 0x1234);
    check("domctl getvcpucontext msr", (long)got.user_regs.msr, (long)MSR_SF);
#else
    check("domctl getvcpucontext rip", (long)got.user_regs.rip, 0x200000);
    check("domctl getvcpucontext rsp", (long)got.user_regs.rsp, 0x300000);
    check("domctl getvcpucontext rbx", (long)got.user_regs.rbx, 0x1234);
    check("domctl getvcpucontext cr3", (long)got.ctrlreg[3], (long)(frames[0] << 12));
    check("domctl getvcpucontext kernel_sp", (long)got.kernel_sp, 0x300000);
#endif
    d.u.vcpucontext.ctxt = UNMAPPED;
    check("domctl getvcpucontext EFAULT bad ctxt", domctl(DOMCTL_getvcpucontext, dom), -EFAULT);
    check("domctl getdomaininfo still no vCPU online", info(dom).nr_online_vcpus, 0);
}

static void host(u16 dom)
{
    memset(&s, 0, sizeof(s));
    check("sysctl physinfo", sysctl(SYSCTL_physinfo), 0);
    struct physinfo p = s.u.physinfo;
    long top = HYPERCALL(HC_memory_op, XENMEM_maximum_ram_page, 0, 0, 0, 0);
    check("sysctl physinfo total_pages is maximum_ram_page", (long)p.total_pages, top);
    check("sysctl physinfo max_mfn is the last frame", (long)p.max_mfn, top - 1);
    check_that("sysctl physinfo free_pages below total", p.free_pages < p.total_pages, (long)p.free_pages);
    check_that("sysctl physinfo at least one cpu", p.nr_cpus >= 1 && p.max_cpu_id == p.nr_cpus - 1, p.nr_cpus);
    s.interface_version = 0x14;
    check("sysctl EACCES interface version 0x14", HYPERCALL(HC_sysctl, &s, 0, 0, 0, 0), -EACCES);
    check("sysctl EFAULT bad pointer", HYPERCALL(HC_sysctl, UNMAPPED, 0, 0, 0, 0), -EFAULT);
    memset(&s, 0, sizeof(s));
    check("sysctl ENOSYS unknown command 99", sysctl(99), -ENOSYS);

    memset(&s, 0, sizeof(s));
    s.u.getdomaininfolist.max_domains = 4;
    s.u.getdomaininfolist.buffer = GUEST_HANDLE((u64)list);
    check("sysctl getdomaininfolist", sysctl(SYSCTL_getdomaininfolist), 0);
    check("sysctl getdomaininfolist 2 domains", s.u.getdomaininfolist.num_domains, 2);
    check_that("sysctl getdomaininfolist dom0 then the new one", list[0].domain == 0 && list[1].domain == dom,
               list[1].domain);
    check("sysctl getdomaininfolist entry as getdomaininfo (max_vcpu_id)", list[1].max_vcpu_id, 1);
    memset(&s, 0, sizeof(s));
    s.u.getdomaininfolist.first_domain = 1;
    s.u.getdomaininfolist.max_domains = 4;
    s.u.getdomaininfolist.buffer = GUEST_HANDLE((u64)list);
    sysctl(SYSCTL_getdomaininfolist);
    check("sysctl getdomaininfolist from first_domain 1", s.u.getdomaininfolist.num_domains, 1);
    memset(&s, 0, sizeof(s));
    s.u.getdomaininfolist.max_domains = 1;
    s.u.getdomaininfolist.buffer = GUEST_HANDLE((u64)list);
    sysctl(SYSCTL_getdomaininfolist);
    check("sysctl getdomaininfolist max_domains 1", s.u.getdomaininfolist.num_domains, 1);
    memset(&s, 0, sizeof(s));
    s.u.getdomaininfolist.max_domains = 4;
    s.u.getdomaininfolist.buffer = UNMAPPED;
    check("sysctl getdomaininfolist EFAULT bad buffer", sysctl(SYSCTL_getdomaininfolist), -EFAULT);
}

int guest_main(void)
{
    generic_errors();
    u64 free0 = free_pages();
    u16 dom = creation();
    pausing(dom);
    limits(dom);
    shadow(dom);
    memory_and_context(dom);
    host(dom);
    check("domctl destroydomain", fresh(DOMCTL_destroydomain, dom), 0);
    check("domctl getdomaininfo after destroy ESRCH", fresh(DOMCTL_getdomaininfo, dom), -ESRCH);
    check("domctl pausedomain after destroy ESRCH", fresh(DOMCTL_pausedomain, dom), -ESRCH);
    check("sysctl physinfo free_pages back after create + destroy", (long)free_pages(), (long)free0);
    return 0;
}
