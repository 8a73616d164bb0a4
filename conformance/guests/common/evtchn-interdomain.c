/*
 * evtchn-interdomain: dom0 acting as a toolstack on event channels and grant tables of
 * a second domain it creates (XEN_DOMCTL_createdomain), the way libxl sets up a domU's
 * store and console channels; each result checked by the guest against Xen (one "ok ..."
 * line per check; the committed expected output is the list of checks).
 *
 * Facts, from github:xen-project/xen:
 * - xen/common/event_channel.c: evtchn_alloc_unbound and evtchn_status take any domain
 *   the caller may target (xsm_evtchn_unbound / xsm_evtchn_status, XSM_TARGET: a
 *   privileged domain may); bind_interdomain needs the remote port unbound *for the
 *   caller*; evtchn_close (and so reset and evtchn_destroy on domain_kill) leaves the
 *   other end ECS_UNBOUND for the closing domain; evtchn_reset of another domain is
 *   -EINVAL unless the toolstack has it paused (d->controller_pause_count).
 * - xen/common/grant_table.c: setup_table / query_size of another domain (XSM_TARGET);
 *   map_grant_ref / acquire_grant_for_copy of an entry that does not grant the caller
 *   access: GNTST_general_error (_set_status_v1); transfer to a domain without an
 *   accept-transfer entry for the caller: GNTST_general_error
 *   (gnttab_prepare_for_transfer).
 * - xen/common/domain.c domain_create: a new domain starts with controller_pause_count 1.
 * - xen/include/public/domctl.h (interface 0x17): createdomain 1, destroydomain 2,
 *   pausedomain 3, unpausedomain 4.
 */
#include "xen.h"

static struct domctl d;
static struct evtchn_status st;
static u8 window[4096] __attribute__((aligned(4096)));
static u8 page[4096] __attribute__((aligned(4096)));

static long domctl(u32 cmd, u16 dom) { return do_domctl(&d, cmd, dom); }
static long status(u16 dom, u32 port)
{
    memset(&st, 0x5a, sizeof(st));
    st.dom = dom;
    st.port = port;
    return evtchn_op(EVTCHNOP_status, &st);
}
static long reset(u16 dom) { u16 x = dom; return evtchn_op(EVTCHNOP_reset, &x); }

static u16 create(void)
{
    memset(&d, 0, sizeof(d));
    d.u.createdomain.max_vcpus = 1;
    d.u.createdomain.max_evtchn_port = 1023;
    d.u.createdomain.max_grant_frames = -1;
    d.u.createdomain.max_maptrack_frames = -1;
    d.u.createdomain.grant_opts = 2; /* XEN_DOMCTL_GRANT_version(2): grant v1 and v2, as libxl asks */
    long rc = domctl(1, 0);
    check("interdomain createdomain rc", rc, 0);
    return d.domain;
}

static void channels(u16 dom)
{
    u32 p, lp, q;
    /* libxl: dom0 allocates the domU's store port, unbound for dom0 (XSM_TARGET: privileged). */
    check("evtchn alloc_unbound(dom D, remote 0) rc", alloc_unbound(dom, 0, &p), 0);
    check("evtchn alloc_unbound in D gives D's lowest free port 1", p, 1);
    check("evtchn status(D, 1) rc", status(dom, 1), 0);
    check("evtchn status(D, 1) unbound", st.status, EVTCHNSTAT_unbound);
    check("evtchn status(D, 1) unbound for dom 0", st.u.unbound.dom, 0);
    /* dom0 binds to it: a real interdomain channel. */
    check("evtchn bind_interdomain(D, 1) rc", bind_interdomain(dom, 1, &lp), 0);
    check("evtchn bind_interdomain(D, 1) local port 1", lp, 1);
    status(0, lp);
    check("evtchn status(0, local) interdomain", st.status, EVTCHNSTAT_interdomain);
    check("evtchn status(0, local) remote dom D", st.u.interdomain.dom, dom);
    check("evtchn status(0, local) remote port 1", st.u.interdomain.port, 1);
    status(dom, 1);
    check("evtchn status(D, 1) interdomain", st.status, EVTCHNSTAT_interdomain);
    check("evtchn status(D, 1) remote dom 0", st.u.interdomain.dom, 0);
    check("evtchn status(D, 1) remote port is dom0's", st.u.interdomain.port, lp);
    check("evtchn send to D rc", port_op(EVTCHNOP_send, lp), 0);
    /* A port D allocated for itself is not bindable by dom0. */
    check("evtchn alloc_unbound(dom D, remote D) rc", alloc_unbound(dom, dom, &q), 0);
    check("evtchn bind_interdomain to D's port unbound for D EINVAL", bind_interdomain(dom, q, &p), -EINVAL);
    check("evtchn bind_interdomain to D's unallocated port 60 EINVAL", bind_interdomain(dom, 60, &p), -EINVAL);
    check("evtchn status(D, 4000) not valid EINVAL", status(dom, 4000), -EINVAL);

    /* evtchn_reset of another domain: only while the toolstack has it paused. A new
     * domain starts paused by its controller (domain_create: controller_pause_count = 1),
     * so the toolstack unpauses it first, as libxl does once it is built. */
    check("domctl unpausedomain(D) after create rc", domctl(4, dom), 0);
    check("evtchn reset(D) not paused EINVAL", reset(dom), -EINVAL);
    check("evtchn reset(D) did not close D's port", status(dom, 1) == 0 ? (long)st.status : -1, EVTCHNSTAT_interdomain);
    check("domctl pausedomain(D) rc", domctl(3, dom), 0);
    check("evtchn reset(D) paused rc", reset(dom), 0);
    check("evtchn reset(D) closed D's port", status(dom, 1) == 0 ? (long)st.status : -1, EVTCHNSTAT_closed);
    status(0, lp);
    check("evtchn reset(D) left dom0's end unbound", st.status, EVTCHNSTAT_unbound);
    check("evtchn reset(D) left dom0's end unbound for D", st.u.unbound.dom, dom);
    check("domctl unpausedomain(D) rc", domctl(4, dom), 0);
    check("evtchn reset(D) after unpause EINVAL again", reset(dom), -EINVAL);
    check("evtchn close dom0's end rc", port_op(EVTCHNOP_close, lp), 0);

    /* The other direction: dom0 allocates a port for D; a fresh channel to destroy later. */
    check("evtchn alloc_unbound(dom D, remote 0) again rc", alloc_unbound(dom, 0, &p), 0);
    check("evtchn bind_interdomain(D, again) rc", bind_interdomain(dom, p, &lp), 0);
    check("evtchn alloc_unbound(self, remote D) rc", alloc_unbound(DOMID_SELF, dom, &q), 0);
    status(DOMID_SELF, q);
    check("evtchn status of dom0's port unbound for D", st.u.unbound.dom, dom);
}

static void grants(u16 dom)
{
    static unsigned long frames[2];
    struct gnttab_query_size q = { dom, 0, 0, 0x55 };
    check("gnttab query_size(D) rc", gnttab_op(GNTTABOP_query_size, &q, 1), 0);
    check("gnttab query_size(D) status okay", q.status, GNTST_okay);
    check("gnttab query_size(D) nr_frames 1", q.nr_frames, 1);
    check("gnttab query_size(D) max_nr_frames 64 (max_grant_frames -1: the default)", q.max_nr_frames, 64);
    struct gnttab_setup_table s = { dom, 2, 0x55, GUEST_HANDLE(frames) };
    check("gnttab setup_table(D, 2) rc", gnttab_op(GNTTABOP_setup_table, &s, 1), 0);
    check("gnttab setup_table(D, 2) status okay", s.status, GNTST_okay);
#ifdef ARCH_TRANSLATED
    /* A translated domain's grant frames are in no slot of its physmap until it places
     * them there with XENMEM_add_to_physmap: gnttab_shared_gfn gives INVALID_GFN. */
    check("gnttab setup_table(D, 2) lists INVALID_GFN for frames D has not placed", frames[0] == ~0UL && frames[1] == ~0UL, 1);
#else
    check("gnttab setup_table(D, 2) lists two frames", frames[0] && frames[1] && frames[0] != frames[1], 1);
#endif
    struct gnttab_query_size q2 = { dom, 0, 0, 0x55 };
    gnttab_op(GNTTABOP_query_size, &q2, 1);
    check("gnttab query_size(D) after setup_table: 2 frames", q2.nr_frames, 2);
    /* D has granted nothing to dom0 (its entries are zero): _set_status_v1 refuses. */
    struct gnttab_map_grant_ref m = { (unsigned long)window, GNTMAP_host_map, 0, dom, 0x55, 0, 0 };
    check("gnttab map_grant_ref rc", gnttab_op(GNTTABOP_map_grant_ref, &m, 1), 0);
    check("gnttab map of D's entry not granted to dom0 GNTST_general_error", m.status, GNTST_general_error);
    struct gnttab_copy c;
    memset(&c, 0, sizeof(c));
    c.source.u.ref = 5; c.source.domid = dom;
    c.dest.u.gmfn = mfn_of(page); c.dest.domid = DOMID_SELF;
    c.len = 8; c.flags = GNTCOPY_source_gref; c.status = 0x55;
    check("gnttab copy rc", gnttab_op(GNTTABOP_copy, &c, 1), 0);
    check("gnttab copy from D's entry not granted to dom0 GNTST_general_error", c.status, GNTST_general_error);
    /* Transfer to D: D has headroom (XEN_DOMCTL_max_mem 11) but no accept-transfer entry
     * for dom0 in its table. */
    d.u.max_mem.max_memkb = 1024;
    check("domctl max_mem(D, 1024 KiB) rc", domctl(11, dom), 0);
    unmap_page(page);
    struct gnttab_transfer t = { mfn_of(page), dom, 3, 0x55 };
    check("gnttab transfer rc", gnttab_op(GNTTABOP_transfer, &t, 1), 0);
    check("gnttab transfer to D without an accept-transfer entry GNTST_general_error", t.status, GNTST_general_error);
}

int guest_main(void)
{
    u16 dom = create();
    check("interdomain new domain id is not 0", dom != 0, 1);
    channels(dom);
    grants(dom);
    /* domain_kill -> evtchn_destroy: D's ports closed, dom0's ends left unbound for D. */
    u32 lp = 0;
    for (u32 p = 1; p < 8; p++)
        if (status(DOMID_SELF, p) == 0 && st.status == EVTCHNSTAT_interdomain) lp = p;
    check("evtchn dom0 has an interdomain port to D", lp != 0, 1);
    check("domctl destroydomain(D) rc", domctl(2, dom), 0);
    status(DOMID_SELF, lp);
    check("evtchn after destroydomain(D): dom0's end unbound", st.status, EVTCHNSTAT_unbound);
    check("evtchn after destroydomain(D): unbound for D", st.u.unbound.dom, dom);
    check("evtchn send on it is dropped: rc 0", port_op(EVTCHNOP_send, lp), 0);
    print("evtchn-interdomain done\n");
    return 0;
}
