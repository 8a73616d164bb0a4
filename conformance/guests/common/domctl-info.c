/*
 * domctl-info: dom0 acts as a toolstack. getdomaininfo on itself, sysctl physinfo and
 * getdomaininfolist, then the life of a domain it creates (createdomain, max_mem,
 * max_vcpus, pause/unpause, getdomaininfo, address size, getmemlist, shadow_op,
 * destroydomain), and the interface-version, ESRCH and EINVAL error paths.
 * Layouts and numbers: xen/include/public/domctl.h and sysctl.h of Xen 4.19 (interface
 * versions 0x17 and 0x15), declared here by hand.
 */
#include "xen.h"

static struct domctl d;
static struct sysctl s;
static struct getdomaininfo list[4];
static u64 mfns[8];

static long domctl(u32 cmd, u16 dom) { return do_domctl(&d, cmd, dom); }

static void show(const char *who, const struct getdomaininfo *i)
{
    printk("%s: domain %u flags %x (shutdown code %u) tot_pages %lu max_pages %lu\n", who,
           i->domain, i->flags & 0xffff, (i->flags >> 16) & 0xff, (unsigned long)i->tot_pages, (unsigned long)i->max_pages);
    printk("%s: online vcpus %u, max_vcpu_id %u, ssidref %u, cpupool %u, cpu_time>0 %s\n", who,
           i->nr_online_vcpus, i->max_vcpu_id, i->ssidref, i->cpupool, i->cpu_time ? "yes" : "no");
}

int guest_main(void)
{
    /* Myself. */
    memset(&d, 0, sizeof(d));
    printk("getdomaininfo(0): %ld\n", domctl(5, 0));
    show("dom0", &d.u.getdomaininfo);
    printk("dom0: shared_info_frame is start_info's shared_info: %s\n",
           d.u.getdomaininfo.shared_info_frame << 12 == start_info_ptr->shared_info ? "yes" : "no");
    printk("dom0: tot_pages is start_info's nr_pages: %s\n",
           d.u.getdomaininfo.tot_pages == start_info_ptr->nr_pages ? "yes" : "no");
    memset(&d, 0, sizeof(d));
    printk("getdomaininfo(DOMID_SELF): %ld\n", domctl(5, 0x7ff0));
    d.cmd = 5; d.interface_version = 0x16; d.domain = 0;
    printk("getdomaininfo, interface 0x16: %ld\n", HYPERCALL(HC_domctl, &d, 0, 0, 0, 0));
    printk("getdomaininfo, bad pointer: %ld\n", HYPERCALL(HC_domctl, UNMAPPED_VA, 0, 0, 0, 0));
    printk("pausedomain(self): %ld\n", domctl(3, 0));
    printk("unknown domctl 99: %ld\n", domctl(99, 0));

    /* The host. */
    memset(&s, 0, sizeof(s));
    s.cmd = 3; s.interface_version = SYSCTL_VERSION;
    printk("physinfo: %ld\n", HYPERCALL(HC_sysctl, &s, 0, 0, 0, 0));
    struct physinfo *p = &s.u.physinfo;
    printk("physinfo: cpus %u (threads/core %u, cores/socket %u, nodes %u), cpu_khz %u\n",
           p->nr_cpus, p->threads_per_core, p->cores_per_socket, p->nr_nodes, p->cpu_khz);
    printk("physinfo: total_pages %lu, free_pages %lu, max_mfn %lu, capabilities %x\n",
           (unsigned long)p->total_pages, (unsigned long)p->free_pages, (unsigned long)p->max_mfn, p->capabilities);
    u64 free_before = p->free_pages;
    s.interface_version = 0x14;
    printk("physinfo, interface 0x14: %ld\n", HYPERCALL(HC_sysctl, &s, 0, 0, 0, 0));

    /* A domain of my own. */
    memset(&d, 0, sizeof(d));
    d.u.createdomain.max_vcpus = 2;
    d.u.createdomain.max_grant_frames = -1;
    d.u.createdomain.max_maptrack_frames = -1;
    d.u.createdomain.grant_opts = 2; /* XEN_DOMCTL_GRANT_version(2): grant v1 and v2, as libxl asks */
    for (int i = 0; i < 16; i++) d.u.createdomain.handle[i] = 0x10 + i;
    long r = domctl(1, 0);
    printk("createdomain: %ld, domain %u\n", r, d.domain);
    u16 dom = d.domain;
    printk("createdomain again as %u: %ld\n", dom, domctl(1, dom));
    memset(&d, 0, sizeof(d));
    printk("createdomain, max_vcpus 0: %ld\n", domctl(1, 0));
    d.u.max_vcpus.max = 2;
    printk("max_vcpus 2: %ld\n", domctl(15, dom));
    d.u.max_mem.max_memkb = 1024;
    printk("max_mem 1024 KiB: %ld\n", domctl(11, dom));
    memset(&d, 0, sizeof(d));
    printk("getdomaininfo(%u): %ld\n", dom, domctl(5, dom));
    show("new", &d.u.getdomaininfo);
    printk("new: handle %x..%x\n", d.u.getdomaininfo.handle[0], d.u.getdomaininfo.handle[15]);
    long r1 = domctl(3, dom), r2 = domctl(4, dom), r3 = domctl(4, dom);
    long r4 = domctl(4, dom);
    printk("pausedomain: %ld, unpausedomain: %ld, unpausedomain: %ld, again: %ld\n", r1, r2, r3, r4);
    memset(&d, 0, sizeof(d));
    domctl(5, dom);
    printk("new: flags now %x\n", d.u.getdomaininfo.flags & 0xffff);
    memset(&d, 0, sizeof(d));
    r = domctl(36, dom);
    printk("get_address_size: %ld, size %u\n", r, d.u.address_size.size);
    d.u.address_size.size = 32;
    printk("set_address_size 32: %ld\n", domctl(35, dom));
    memset(&d, 0, sizeof(d));
    d.u.getmemlist.max_pfns = 8;
    d.u.getmemlist.buffer = GUEST_HANDLE((unsigned long)mfns);
    r = domctl(6, dom);
    printk("getmemlist: %ld, %lu frames\n", r, (unsigned long)d.u.getmemlist.num_pfns);
    memset(&d, 0, sizeof(d));
    d.u.shadow_op.op = 2;
    printk("shadow_op enable log-dirty: %ld\n", domctl(10, dom));

    memset(&s, 0, sizeof(s));
    s.cmd = 6; s.interface_version = SYSCTL_VERSION;
    s.u.getdomaininfolist.max_domains = 4;
    s.u.getdomaininfolist.buffer = GUEST_HANDLE((unsigned long)list);
    r = HYPERCALL(HC_sysctl, &s, 0, 0, 0, 0);
    printk("getdomaininfolist: %ld, %u domains:", r, s.u.getdomaininfolist.num_domains);
    for (u32 i = 0; i < s.u.getdomaininfolist.num_domains; i++) printk(" %u", list[i].domain);
    printk("\n");

    printk("destroydomain: %ld\n", domctl(2, dom));
    memset(&d, 0, sizeof(d));
    printk("getdomaininfo(%u) after destroy: %ld\n", dom, domctl(5, dom));
    printk("destroydomain(self): %ld\n", domctl(2, 0));
    memset(&s, 0, sizeof(s));
    s.cmd = 3; s.interface_version = SYSCTL_VERSION;
    HYPERCALL(HC_sysctl, &s, 0, 0, 0, 0);
    printk("free_pages unchanged after create+destroy: %s\n",
           s.u.physinfo.free_pages == free_before ? "yes" : "no");
    return 0;
}
