/*
 * Guest view of time and timers: reads system time the pvclock way (vcpu_time_info +
 * rdtsc, retrying while the version is odd or changes), checks the wall clock, and waits
 * (SCHEDOP_poll on the masked VIRQ_TIMER port) for a VCPUOP single-shot timer, a past
 * single-shot deadline, set_timer_op, and three ticks of a 1 ms periodic timer, printing
 * whether each woke at or after its deadline (a new periodic timer ticks at once when a
 * period has passed since its last tick, as Xen), then the documented errors and runstate.
 * Layouts from xen/include/public: xen.h, vcpu.h, event_channel.h, sched.h, as the arch's
 * xen.h declares them (the same C for x86_64 and 32-bit x86).
 */
#include "xen.h"

#define MS 1000000ULL

static u8 si_page[4096] __attribute__((aligned(4096)));
static struct shared_info *const si = (struct shared_info *)si_page;
static u32 port;

static u64 now(void) { return vcpu_time_now(&si->vcpu_info[0].time); }

static int pending(void) { return (si->evtchn_pending[port / EVTCHN_WORD_BITS] >> (port % EVTCHN_WORD_BITS)) & 1; }
static void clear(void) { __atomic_and_fetch(&si->evtchn_pending[port / EVTCHN_WORD_BITS], ~(1UL << (port % EVTCHN_WORD_BITS)), __ATOMIC_SEQ_CST); }

/* Waits for the timer port; returns the system time it woke at. */
static u64 wait_timer(void)
{
    struct sched_poll sp = { .ports = GUEST_HANDLE(&port), .nr_ports = 1 };
    while (!pending())
        HYPERCALL(HC_sched_op, SCHEDOP_poll, &sp, 0, 0, 0);
    clear();
    return now();
}

static const char *yes(int c) { return c ? "yes" : "no"; }

int guest_main(void)
{
    long rc;
    map_shared_info(si_page);
    for (int i = 0; i < EVTCHN_WORD_BITS; i++) si->evtchn_mask[i] = ~0UL;
    struct evtchn_bind_virq bv = { VIRQ_TIMER, 0, 0 };
    HYPERCALL(HC_event_channel_op, EVTCHNOP_bind_virq, &bv, 0, 0, 0);
    port = bv.port;

    u64 t0 = now(), t1 = now();
    printk("wallclock: version even %s, sec %u hi %u nsec %u\n", yes((si->wc_version & 1) == 0), si->wc_sec,
           si->xen_wc_sec_hi, si->wc_nsec);
    printk("pvclock: monotonic %s, TSC stable flag %u\n", yes(t1 >= t0), si->vcpu_info[0].time.flags);

    struct singleshot ss = { .timeout_abs_ns = now() + MS, .flags = VCPU_SSHOTTMR_future };
    rc = HYPERCALL(HC_vcpu_op, VCPUOP_set_singleshot_timer, 0, &ss, 0, 0);
    u64 w = wait_timer();
    printk("singleshot(+1 ms): %ld, woke at/after deadline %s, within 10 us %s\n", rc, yes(w >= ss.timeout_abs_ns),
           yes(w - ss.timeout_abs_ns < 10000));

    ss.timeout_abs_ns = now() - 1;
    rc = HYPERCALL(HC_vcpu_op, VCPUOP_set_singleshot_timer, 0, &ss, 0, 0);
    printk("singleshot(past, future flag): %ld, pending at once %s\n", rc, yes(pending()));
    clear();

    u64 deadline = now() + 2 * MS;
    rc = SET_TIMER_OP(deadline);
    w = wait_timer();
    printk("set_timer_op(+2 ms): %ld, woke at/after deadline %s\n", rc, yes(w >= deadline));
    rc = SET_TIMER_OP(now() + MS);
    long rc2 = SET_TIMER_OP(0);
    struct sched_poll sp = { .ports = GUEST_HANDLE(&port), .nr_ports = 1, .timeout = now() + 3 * MS };
    HYPERCALL(HC_sched_op, SCHEDOP_poll, &sp, 0, 0, 0);
    printk("set_timer_op then 0: %ld %ld, event after cancel %s\n", rc, rc2, yes(pending()));

    u64 period = 999999;
    printk("periodic(999999 ns): %ld\n", HYPERCALL(HC_vcpu_op, VCPUOP_set_periodic_timer, 0, &period, 0, 0));
    period = MS;
    u64 start = now();
    rc = HYPERCALL(HC_vcpu_op, VCPUOP_set_periodic_timer, 0, &period, 0, 0);
    u64 tick[3];
    for (int i = 0; i < 3; i++) tick[i] = wait_timer();
    u64 gap = tick[2] - tick[1];
    printk("periodic(1 ms): %ld, first tick at once %s, next two 1 ms apart %s\n", rc,
           yes(tick[0] - start < 10000), yes(gap + 10000 > MS && gap < MS + 10000));
    printk("stop_periodic: %ld, stop_singleshot: %ld, singleshot on vcpu 1: %ld\n",
           HYPERCALL(HC_vcpu_op, VCPUOP_stop_periodic_timer, 0, 0, 0, 0),
           HYPERCALL(HC_vcpu_op, VCPUOP_stop_singleshot_timer, 0, 0, 0, 0),
           HYPERCALL(HC_vcpu_op, VCPUOP_set_singleshot_timer, 1, &ss, 0, 0));

    struct vcpu_runstate_info rs;
    rc = HYPERCALL(HC_vcpu_op, VCPUOP_get_runstate_info, 0, &rs, 0, 0);
    u64 sum = rs.time[0] + rs.time[1] + rs.time[2] + rs.time[3];
    u64 n = now();
    printk("runstate: %ld, state %d, blocked > 5 ms %s, sum within system time %s\n", rc, rs.state,
           yes(rs.time[2] > 5 * MS), yes(sum <= n && n - sum < 10000));
    return 0;
}
