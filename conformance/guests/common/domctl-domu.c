/*
 * domctl-domu: the privilege checks of domctl, sysctl and memory_op seen from an
 * unprivileged domain (booted as a domU under hvkit's built-in dom0), checked by the
 * guest itself. A domU may not use console_io, so every line goes through its PV console
 * ring (start_info console.domU, io/console.h) with an event-channel notify.
 *
 * Sources (Xen 4.19):
 * - xen/common/domctl.c do_domctl: -EFAULT unreadable, -EACCES another interface
 *   version, -ESRCH a domain that does not exist (all before XSM; Xen after 4.19 answers
 *   -EPERM there to unprivileged callers, commit a89ca78901), then
 *   xsm_domctl(XSM_OTHER): xsm/dummy.h gives getdomaininfo XSM_XS_PRIV and every other
 *   command (createdomain, unknown ones included) XSM_PRIV, so a domain that is neither
 *   the control domain nor xenstore gets -EPERM, even about itself.
 * - xen/common/sysctl.c do_sysctl: -EFAULT, -EACCES, then xsm_sysctl(XSM_PRIV) -EPERM.
 * - xen/common/memory.c: current/maximum_reservation of another domain
 *   xsm_memory_stat_reservation(XSM_TARGET) -EPERM (of itself fine); the reservation
 *   ops on another domain xsm_memory_adjust_reservation(XSM_TARGET) fail, so they return
 *   0 extents; exchange on another domain xsm_memory_exchange(XSM_TARGET) -EPERM;
 *   max_order of a domU CONFIG_DOMU_MAX_ORDER = 9: order 10 is 0 extents for
 *   populate_physmap and -EPERM for exchange. xen/arch/x86/mm.c set_memory_map on another
 *   domain: xsm_domain_memory_map(XSM_TARGET) -EPERM; an arch without a memory map
 *   (PowerPC: arch_memory_op has no such op) -ENOSYS.
 * - xen/common/multicall.c: each entry goes through the same checks (its result -EPERM).
 * Layouts: public/domctl.h, public/sysctl.h (4.19), public/memory.h, io/console.h, as
 * xen-common.h declares them (the same C for every arch).
 */
#include "xen.h"

#define NO_SUCH_DOMAIN 0x7fe0
#define UNMAPPED UNMAPPED_VA

static struct xencons_interface *cons;
static u32 cons_port;
static struct domctl d;
static struct sysctl s;
static u16 self_id;

static void notify(void)
{
    u32 p = cons_port;
    HYPERCALL(HC_event_channel_op, EVTCHNOP_send, &p, 0, 0, 0);
}

static void out(const char *s)
{
    unsigned long n = strlen(s);
    while (n) {
        u32 c = cons->out_cons, p = cons->out_prod;
        barrier();
        if (p - c >= sizeof(cons->out)) {
            notify();
            yield();
            continue;
        }
        while (n && p - c < sizeof(cons->out)) {
            cons->out[p++ & (sizeof(cons->out) - 1)] = *s++;
            n--;
        }
        barrier();
        cons->out_prod = p;
    }
    notify();
}

static void out_long(long v)
{
    char tmp[24], buf[26];
    int n = 0, i = 0;
    unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
    do { tmp[n++] = '0' + u % 10; u /= 10; } while (u);
    if (v < 0) buf[i++] = '-';
    while (n) buf[i++] = tmp[--n];
    buf[i] = 0;
    out(buf);
}

/* As rt.h's check(), on the console ring. */
static void dcheck(const char *what, long got, long want)
{
    out(got == want ? "ok " : "FAIL ");
    out(what);
    if (got != want) {
        out(": got ");
        out_long(got);
        out(" want ");
        out_long(want);
    }
    out("\n");
}

static long domctl(u32 cmd, u16 dom)
{
    memset(&d, 0, sizeof(d));
    return do_domctl(&d, cmd, dom);
}

static long sysctl(u32 cmd, u32 version)
{
    memset(&s, 0, sizeof(s));
    s.cmd = cmd;
    s.interface_version = version;
    return HYPERCALL(HC_sysctl, &s, 0, 0, 0, 0);
}

static long memop(int cmd, void *arg) { return HYPERCALL(HC_memory_op, cmd, arg, 0, 0, 0); }

static void domctls(void)
{
    static const struct { u32 cmd; const char *name; } cmds[] = {
        { 1, "domu domctl createdomain EPERM" },
        { 2, "domu domctl destroydomain(0) EPERM" },
        { 3, "domu domctl pausedomain(0) EPERM" },
        { 4, "domu domctl unpausedomain(0) EPERM" },
        { 5, "domu domctl getdomaininfo(0) EPERM" },
        { 6, "domu domctl getmemlist(0) EPERM" },
        { 10, "domu domctl shadow_op(0) EPERM" },
        { 11, "domu domctl max_mem(0) EPERM" },
        { 12, "domu domctl setvcpucontext(0) EPERM" },
        { 13, "domu domctl getvcpucontext(0) EPERM" },
        { 15, "domu domctl max_vcpus(0) EPERM" },
        { 17, "domu domctl setdomainhandle(0) EPERM" },
        { 18, "domu domctl setdebugging(0) EPERM" },
        { 35, "domu domctl set_address_size(0) EPERM" },
        { 36, "domu domctl get_address_size(0) EPERM" },
        { 99, "domu domctl unknown command EPERM (XSM before the command)" },
    };
    for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        dcheck(cmds[i].name, domctl(cmds[i].cmd, 0), -EPERM);
    dcheck("domu domctl getdomaininfo of itself EPERM", domctl(5, self_id), -EPERM);
    dcheck("domu domctl max_mem of itself EPERM", domctl(11, self_id), -EPERM);
    dcheck("domu domctl ESRCH no such domain (before XSM in 4.19)", domctl(5, NO_SUCH_DOMAIN), -ESRCH);
    memset(&d, 0, sizeof(d));
    d.cmd = 5;
    d.interface_version = 0x16;
    dcheck("domu domctl EACCES interface version 0x16", HYPERCALL(HC_domctl, &d, 0, 0, 0, 0), -EACCES);
    dcheck("domu domctl EFAULT bad pointer", HYPERCALL(HC_domctl, UNMAPPED, 0, 0, 0, 0), -EFAULT);
}

static void sysctls(void)
{
    dcheck("domu sysctl physinfo EPERM", sysctl(3, SYSCTL_VERSION), -EPERM);
    dcheck("domu sysctl getdomaininfolist EPERM", sysctl(6, SYSCTL_VERSION), -EPERM);
    dcheck("domu sysctl unknown command EPERM", sysctl(99, SYSCTL_VERSION), -EPERM);
    dcheck("domu sysctl EACCES interface version 0x14", sysctl(3, 0x14), -EACCES);
    dcheck("domu sysctl EFAULT bad pointer", HYPERCALL(HC_sysctl, UNMAPPED, 0, 0, 0, 0), -EFAULT);
}

static void memory(void)
{
    u16 dom0 = 0, self = DOMID_SELF;
    long cur = memop(XENMEM_current_reservation, &self);
    dcheck("domu memory current_reservation of itself is start_info nr_pages", cur, (long)start_info_ptr->nr_pages);
    dcheck("domu memory current_reservation(0) EPERM", memop(XENMEM_current_reservation, &dom0), -EPERM);
    dcheck("domu memory maximum_reservation(0) EPERM", memop(XENMEM_maximum_reservation, &dom0), -EPERM);
    unsigned long frame = 0;
    struct xen_memory_reservation r = { GUEST_HANDLE(&frame), 1, 0, 0, 0 };
    dcheck("domu memory increase_reservation for dom0: 0 done", memop(XENMEM_increase_reservation, &r), 0);
    unsigned long gpfn = 0x100;
    struct xen_memory_reservation p = { GUEST_HANDLE(&gpfn), 1, 10, 0, DOMID_SELF };
    dcheck("domu memory populate_physmap order 10 (domU max_order 9): 0 done", memop(XENMEM_populate_physmap, &p), 0);
    dcheck("domu memory current_reservation unchanged", memop(XENMEM_current_reservation, &self), cur);
    unsigned long in = 0, outf = 0;
    struct xen_memory_exchange x = { { GUEST_HANDLE(&in), 1, 0, 0, 0 }, { GUEST_HANDLE(&outf), 1, 0, 0, 0 }, 0 };
    dcheck("domu memory exchange on dom0 EPERM", memop(XENMEM_exchange, &x), -EPERM);
    x.in.domid = x.out.domid = DOMID_SELF;
    x.in.extent_order = x.out.extent_order = 10;
    dcheck("domu memory exchange order 10 (domU max_order 9) EPERM", memop(XENMEM_exchange, &x), -EPERM);
    /* xen_foreign_memory_map: domid, then struct xen_memory_map { nr_entries, buffer }. */
    struct { u16 domid; struct { u32 nr_entries; void *buffer; } map; } fm = { 0, { 0, 0 } };
#ifdef ARCH_MEMORY_MAP
    dcheck("domu memory set_memory_map of dom0 EPERM", memop(XENMEM_set_memory_map, &fm), -EPERM);
#else
    dcheck("domu memory set_memory_map ENOSYS (no arch memory map)", memop(XENMEM_set_memory_map, &fm), -ENOSYS);
#endif
}

static void multicalls(void)
{
    static struct multicall_entry mc[2];
    static struct domctl md;
    static u16 dom0 = 0;
    md.cmd = 5;
    md.interface_version = DOMCTL_VERSION;
    mc[0] = (struct multicall_entry){ HC_domctl, 0xdead, { GUEST_HANDLE((unsigned long)&md) } };
    mc[1] = (struct multicall_entry){ HC_memory_op, 0xdead, { XENMEM_current_reservation, GUEST_HANDLE((unsigned long)&dom0) } };
    dcheck("domu multicall of privileged calls returns 0", HYPERCALL(HC_multicall, mc, 2, 0, 0, 0), 0);
    dcheck("domu multicall entry domctl EPERM", (long)mc[0].result, -EPERM);
    dcheck("domu multicall entry current_reservation(0) EPERM", (long)mc[1].result, -EPERM);
}

int guest_main(void)
{
    struct start_info *si = start_info_ptr;
    if (si->flags & SIF_INITDOMAIN) {
        print("domctl-domu: a domU guest (run it with --role domu)\n");
        return 3; /* SHUTDOWN_crash */
    }
    cons = boot_frame_va(si->console_mfn_or_info);
    cons_port = si->console_evtchn;
    self_id = 1; /* the first domU of the built-in dom0 */
    domctls();
    sysctls();
    memory();
    multicalls();
    for (int i = 0; i < 1000 && cons->out_cons != cons->out_prod; i++)
        yield();
    return 0;
}
