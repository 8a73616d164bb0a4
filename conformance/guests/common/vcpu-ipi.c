/*
 * A second vCPU brought up by the guest: vCPU 0 checks its clock records, binds two IPI
 * ports (one notifying each vCPU), loads vCPU 1's registers, page tables and stack with
 * VCPUOP_initialise, brings it up with VCPUOP_up, and the two ping-pong IPIs with
 * EVTCHNOP_send + SCHEDOP_poll (ports masked, no upcalls), printing each step. vCPU 1
 * then takes itself down; vCPU 0 reads its runstate and tries a multicall.
 * Layouts from xen/include/public: vcpu.h, event_channel.h, sched.h, xen.h (shared_info,
 * vcpu_time_info, multicall_entry), arch-x86/xen-x86_64.h and xen-x86_32.h
 * (vcpu_guest_context, built by the arch's kernel_context). The same C for x86_64 and
 * 32-bit x86; the non-canonical rip refusal is x86_64's only.
 */
#include "xen.h"

#define ROUNDS 3

static u8 si_page[4096] __attribute__((aligned(4096)));
static struct shared_info *const si = (struct shared_info *)si_page;
static u8 stack1[8192] __attribute__((aligned(16)));
static struct vcpu_guest_context ctx;
static u32 port_to0, port_to1;

static void wait_for(u32 port)
{
    struct sched_poll sp = { .ports = GUEST_HANDLE(&port), .nr_ports = 1 };
    while (!((si->evtchn_pending[port / EVTCHN_WORD_BITS] >> (port % EVTCHN_WORD_BITS)) & 1))
        HYPERCALL(HC_sched_op, SCHEDOP_poll, &sp, 0, 0, 0);
    __atomic_and_fetch(&si->evtchn_pending[port / EVTCHN_WORD_BITS], ~(1UL << (port % EVTCHN_WORD_BITS)), __ATOMIC_SEQ_CST);
}

static long send(u32 port)
{
    return HYPERCALL(HC_event_channel_op, EVTCHNOP_send, &port, 0, 0, 0);
}

void vcpu1_main(void)
{
    printk("vcpu1: running, upcall mask %u, time version even %u\n",
           si->vcpu_info[1].evtchn_upcall_mask, (si->vcpu_info[1].time.version & 1) == 0);
    for (int i = 1; i <= ROUNDS; i++) {
        wait_for(port_to1);
        printk("vcpu1: pong %d\n", i);
        send(port_to0);
    }
    wait_for(port_to1);
    printk("vcpu1: going down\n");
    send(port_to0);
    HYPERCALL(HC_vcpu_op, VCPUOP_down, 1, 0, 0, 0);
    printk("vcpu1: still running after down\n");
    for (;;)
        ;
}

static void check_time(void)
{
    struct vcpu_time_info *t = &si->vcpu_info[0].time;
    u32 v = t->version;
    u64 now = vcpu_time_now(t);
    printk("vcpu0: wallclock version %u sec %u%s; time version even %u, mul %x shift %d, flags %u\n",
           si->wc_version, si->wc_sec, si->wc_sec == 1767225600 ? " (2026-01-01)" : "",
           (v & 1) == 0, t->tsc_to_system_mul, t->tsc_shift, t->flags);
    printk("vcpu0: system time from the TSC %s the record's\n", now >= t->system_time ? "not before" : "BEFORE");
}

int guest_main(void)
{
    long rc;
    map_shared_info(si_page);
    for (int i = 0; i < EVTCHN_WORD_BITS; i++) si->evtchn_mask[i] = ~0UL;
    check_time();

    struct evtchn_bind_ipi b1 = { 1, 0 }, b0 = { 0, 0 };
    long r1 = HYPERCALL(HC_event_channel_op, EVTCHNOP_bind_ipi, &b1, 0, 0, 0);
    long r0 = HYPERCALL(HC_event_channel_op, EVTCHNOP_bind_ipi, &b0, 0, 0, 0);
    port_to1 = b1.port;
    port_to0 = b0.port;
    printk("vcpu0: bind_ipi(vcpu 1) %ld port %u, bind_ipi(vcpu 0) %ld port %u\n", r1, port_to1, r0, port_to0);

    printk("vcpu0: is_up(1) %ld, up(1) before initialise %ld, is_up(2) %ld\n",
           HYPERCALL(HC_vcpu_op, VCPUOP_is_up, 1, 0, 0, 0), HYPERCALL(HC_vcpu_op, VCPUOP_up, 1, 0, 0, 0),
           HYPERCALL(HC_vcpu_op, VCPUOP_is_up, 2, 0, 0, 0));

    kernel_context(&ctx, vcpu1_main, stack1 + sizeof(stack1) - 8);
#ifdef ARCH_PV_PAGE_TABLES
    ctx.ctrlreg[3] = 0;
    rc = HYPERCALL(HC_vcpu_op, VCPUOP_initialise, 1, &ctx, 0, 0);
    printk("vcpu0: initialise(1) with cr3 0 %ld\n", rc);
    ctx.ctrlreg[3] = read_cr3();
#endif
#ifdef __x86_64__
    ctx.user_regs.rip = 0x800000000000UL;
    rc = HYPERCALL(HC_vcpu_op, VCPUOP_initialise, 1, &ctx, 0, 0);
    printk("vcpu0: initialise(1) with a non-canonical rip %ld\n", rc);
    ctx.user_regs.rip = (u64)vcpu1_main;
#endif
    rc = HYPERCALL(HC_vcpu_op, VCPUOP_initialise, 1, &ctx, 0, 0);
    printk("vcpu0: initialise(1) %ld, again %ld\n", rc, HYPERCALL(HC_vcpu_op, VCPUOP_initialise, 1, &ctx, 0, 0));
    rc = HYPERCALL(HC_vcpu_op, VCPUOP_up, 1, 0, 0, 0);
    printk("vcpu0: up(1) %ld, is_up(1) %ld\n", rc, HYPERCALL(HC_vcpu_op, VCPUOP_is_up, 1, 0, 0, 0));

    for (int i = 1; i <= ROUNDS; i++) {
        printk("vcpu0: ping %d\n", i);
        send(port_to1);
        wait_for(port_to0);
    }
    send(port_to1);
    wait_for(port_to0);

    struct vcpu_runstate_info rs;
    rc = HYPERCALL(HC_vcpu_op, VCPUOP_get_runstate_info, 1, &rs, 0, 0);
    printk("vcpu0: is_up(1) %ld; runstate(1) %ld: state %d, ran %s\n",
           HYPERCALL(HC_vcpu_op, VCPUOP_is_up, 1, 0, 0, 0), rc, rs.state,
           rs.time[0] > 0 ? "yes" : "no");

    static struct multicall_entry mc[3];
    mc[0] = (struct multicall_entry){ HC_vcpu_op, 0xdead, { VCPUOP_is_up, 0, 0 } };
    mc[1] = (struct multicall_entry){ HC_vcpu_op, 0xdead, { VCPUOP_is_up, 1, 0 } };
    mc[2] = (struct multicall_entry){ HC_multicall, 0xdead, { GUEST_HANDLE((unsigned long)mc), 1 } };
    rc = HYPERCALL(HC_multicall, mc, 3, 0, 0, 0);
    printk("vcpu0: multicall %ld: results %ld %ld %ld\n", rc, (long)mc[0].result, (long)mc[1].result,
           (long)mc[2].result);
    return 0;
}
