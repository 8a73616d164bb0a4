/*
 * evtchn-domu: the event-channel and grant-table paths only an unprivileged domain
 * reaches, checked by the guest against Xen (one "ok ..." line per check; the committed
 * expected output is the list of checks). Runs as a domU (domain 1) under the built-in
 * dom0 (`--role domu`); a domU may not use console_io, so it prints through its PV
 * console ring (the same ring protocol as console-ring.c: io/console.h).
 *
 * Facts, from github:xen-project/xen:
 * - xen/include/xsm/dummy.h (the default policy): XSM_TARGET lets a domain act on itself
 *   or, if privileged, on others (-EPERM otherwise): xsm_evtchn_unbound,
 *   xsm_evtchn_status, xsm_evtchn_reset; xsm_grant_setup and xsm_grant_query_size, whose
 *   refusal grant_table.c reports as GNTST_permission_denied.
 * - xen/common/event_channel.c: evtchn_alloc_unbound allocates the port before the XSM
 *   check (and gives it back on failure); evtchn_status checks the port (-EINVAL) before
 *   XSM; evtchn_bind_virq: a VIRQ_GLOBAL VIRQ from a domain that is not its handler (the
 *   hardware domain by default, get_global_virq_handler) is -EBUSY; VIRQ_ARGO is per
 *   domain and per-vCPU VIRQs are anyone's.
 * - tools/libs/light (libxl) and xenstored: the store port in start_info is the domU's,
 *   allocated unbound for dom0 and bound by xenstored on XS_INTRODUCE.
 */
#include "xen.h"

static struct xencons_interface *cons;
static u32 cons_port;
static struct evtchn_status st;

static void notify(u32 port) { u32 p = port; evtchn_op(EVTCHNOP_send, &p); }

/* Writes to the console's out ring, waiting for room, then notifies. */
static void cons_write(const char *s, unsigned long n)
{
    while (n) {
        u32 c = cons->out_cons, p = cons->out_prod;
        barrier();
        if (p - c >= sizeof(cons->out)) { notify(cons_port); yield(); continue; }
        while (n && p - c < sizeof(cons->out)) { cons->out[p++ & (sizeof(cons->out) - 1)] = *s++; n--; }
        barrier();
        cons->out_prod = p;
    }
    notify(cons_port);
}
static void cons_puts(const char *s) { cons_write(s, strlen(s)); }
static void cons_putd(long v)
{
    char tmp[24];
    int n = 0;
    unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;
    do { tmp[n++] = '0' + u % 10; u /= 10; } while (u);
    if (v < 0) tmp[n++] = '-';
    while (n) cons_write(&tmp[--n], 1);
}
/* check() of rt.h, through the console ring. */
static void dcheck(const char *what, long got, long want)
{
    cons_puts(got == want ? "ok " : "FAIL ");
    cons_puts(what);
    if (got != want) { cons_puts(": got "); cons_putd(got); cons_puts(" want "); cons_putd(want); }
    cons_puts("\n");
}

static long bind_virq(u32 virq, u32 *port)
{
    struct evtchn_bind_virq b = { virq, 0, 0xdead };
    long rc = evtchn_op(EVTCHNOP_bind_virq, &b);
    *port = b.port;
    return rc;
}
static long status(u16 dom, u32 port)
{
    memset(&st, 0x5a, sizeof(st));
    st.dom = dom;
    st.port = port;
    return evtchn_op(EVTCHNOP_status, &st);
}

int guest_main(void)
{
    struct start_info *si = start_info_ptr;
    if (si->flags & SIF_INITDOMAIN) {
        print("evtchn-domu: a domU guest (run it with --role domu)\n");
        return 3; /* SHUTDOWN_crash */
    }
    cons = boot_frame_va(si->console_mfn_or_info);
    cons_port = si->console_evtchn;
    u32 store_port = si->store_evtchn, p, q;

    dcheck("domu start_info: not privileged", si->flags & (SIF_PRIVILEGED | SIF_INITDOMAIN), 0);
    /* The store port libxl allocated, bound by xenstored when libxl introduced the
     * domain (before unpausing it). The console port is left alone: xenconsoled binds
     * it asynchronously, from a watch. */
    dcheck("evtchn status(store port) rc", status(DOMID_SELF, store_port), 0);
    dcheck("evtchn store port is interdomain", st.status, EVTCHNSTAT_interdomain);
    dcheck("evtchn store port is connected to dom 0", st.u.interdomain.dom, 0);

    /* XSM_TARGET: another domain's table is not ours to touch. */
    dcheck("evtchn alloc_unbound(dom 0) unprivileged EPERM", alloc_unbound(0, 1, &q), -EPERM);
    dcheck("evtchn alloc_unbound(self, remote 0) rc", alloc_unbound(DOMID_SELF, 0, &p), 0);
    dcheck("evtchn status(self, new port) unbound for dom 0", status(DOMID_SELF, p) == 0 ? (long)st.u.unbound.dom : -1, 0);
    dcheck("evtchn status(dom 0, 1) unprivileged EPERM", status(0, 1), -EPERM);
    dcheck("evtchn status(dom 0, 4000) port checked first EINVAL", status(0, 4000), -EINVAL);
    u16 zero = 0;
    dcheck("evtchn reset(dom 0) unprivileged EPERM", evtchn_op(EVTCHNOP_reset, &zero), -EPERM);

    /* Global VIRQs belong to their handler (the hardware domain): -EBUSY. */
    dcheck("evtchn bind_virq(console, global) from a domU EBUSY", bind_virq(VIRQ_CONSOLE, &q), -EBUSY);
    dcheck("evtchn bind_virq(dom_exc, global) from a domU EBUSY", bind_virq(VIRQ_DOM_EXC, &q), -EBUSY);
    dcheck("evtchn bind_virq(timer, per-vCPU) from a domU rc", bind_virq(VIRQ_TIMER, &q), 0);
    dcheck("evtchn bind_virq(argo, per-domain) from a domU rc", bind_virq(VIRQ_ARGO, &q), 0);

    /* Grant tables: another domain's is refused with GNTST_permission_denied. */
    static unsigned long frames[1];
    struct gnttab_setup_table s = { 0, 1, 0x55, GUEST_HANDLE(frames) };
    dcheck("gnttab setup_table(dom 0) rc", HYPERCALL(HC_grant_table_op, GNTTABOP_setup_table, &s, 1, 0, 0), 0);
    dcheck("gnttab setup_table(dom 0) unprivileged GNTST_permission_denied", s.status, GNTST_permission_denied);
    struct gnttab_query_size qs = { 0, 0, 0, 0x55 };
    dcheck("gnttab query_size(dom 0) rc", HYPERCALL(HC_grant_table_op, GNTTABOP_query_size, &qs, 1, 0, 0), 0);
    dcheck("gnttab query_size(dom 0) unprivileged GNTST_permission_denied", qs.status, GNTST_permission_denied);
    struct gnttab_query_size own = { DOMID_SELF, 0, 0, 0x55 };
    HYPERCALL(HC_grant_table_op, GNTTABOP_query_size, &own, 1, 0, 0);
    dcheck("gnttab query_size(self) GNTST_okay", own.status, GNTST_okay);
    struct gnttab_setup_table s1 = { 1, 1, 0x55, GUEST_HANDLE(frames) };
    HYPERCALL(HC_grant_table_op, GNTTABOP_setup_table, &s1, 1, 0, 0);
    dcheck("gnttab setup_table(own domid 1) GNTST_okay", s1.status, GNTST_okay);

    cons_puts("evtchn-domu done\n");
    for (int i = 0; i < 1000 && cons->out_cons != cons->out_prod; i++) yield();
    return 0;
}
