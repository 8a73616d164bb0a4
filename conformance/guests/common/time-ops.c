/*
 * time-ops: the wall clock, vcpu_time_info and every timer interface, checked by the
 * guest itself ("ok"/"FAIL" per check), on a 2-vCPU domain whose vCPU 1 stays down.
 *
 * Sources (Xen):
 * - public/xen.h: wc_version/version odd while an update is in progress (read, retry
 *   while odd or changed); system time = system_time + ((tsc - tsc_timestamp) shifted
 *   by tsc_shift) * tsc_to_system_mul >> 32; wall clock = wc_sec (+ wc_sec_hi << 32),
 *   wc_nsec < 10^9, plus system time.
 * - xen/arch/x86/time.c update_vcpu_system_time: version += 1, record, version += 1;
 *   called from context_switch (xen/arch/x86/domain.c), so a vCPU that slept gets a
 *   fresh, even-versioned record.
 * - xen/common/sched/core.c vcpu_runstate_get: the times' sum is NOW(), the same
 *   system time the record encodes.
 * - do_set_timer_op (sched/core.c): 0 stops the single-shot timer; a negative timeout or
 *   one more than 2^50 ns ahead is set to NOW() + MILLISECS(100); else set_timer (a past
 *   deadline fires at once). Always 0.
 * - common_vcpu_op (xen/common/domain.c): set_singleshot_timer / stop_singleshot_timer
 *   only for the calling vCPU (-EINVAL), -EFAULT unreadable; a deadline before NOW()
 *   sends VIRQ_TIMER at once. VCPU_SSHOTTMR_future is ignored since Xen 4.18 (commit
 *   19c6cbd909 "xen/vcpu: ignore VCPU_SSHOTTMR_future"; public/vcpu.h: "can be ignored
 *   by the hypervisor"); older Xen returned -ETIME.
 *   set_periodic_timer: -EFAULT unreadable; period < MILLISECS(1) or > STIME_DELTA_MAX
 *   (~0ULL >> 2, xen/include/xen/time.h) -EINVAL; any vCPU of the domain.
 *   vcpu_periodic_timer_work: a period already elapsed since the last periodic event
 *   sends VIRQ_TIMER at once, then one every period. stop_periodic_timer stops it.
 * - xen/arch/x86/domain.c do_vcpu_op: a vcpuid the domain lacks -ENOENT.
 * - evtchn_2l_set_pending (xen/common/event_2l.c): pending bit; if the port is not
 *   masked, the selector bit port / EVTCHN_WORD_BITS and evtchn_upcall_pending; no upcall while the
 *   vCPU's evtchn_upcall_mask is set. SCHEDOP_poll wakes when a polled port is pending.
 * - VCPUOP_register_vcpu_info on the running vCPU (common_vcpu_op, map_guest_area,
 *   vcpu_info_populate): the old vcpu_info is copied to the new area, evtchn_pending_sel
 *   set to ~0 and the time record refreshed there; from then on events and time updates
 *   go to the new area only; a second registration -EBUSY.
 * Layouts: public/xen.h, public/vcpu.h, public/event_channel.h, public/sched.h, as the
 * arch's xen.h declares them (the same C for x86_64 and 32-bit x86).
 */
#include "xen.h"

#define US 1000ULL
#define MS 1000000ULL
#define SLACK (20 * US)
#define BOOT_WALLCLOCK 1767225600U /* hvkit's default machine boot time, 2026-01-01T00:00Z */
#define UNMAPPED ((void *)UNMAPPED_VA)

static u8 si_page[4096] __attribute__((aligned(4096)));
static struct shared_info *const si = (struct shared_info *)si_page;
static u32 port;

/* vCPU 0's vcpu_info: the shared_info slot until register_vcpu_info moves it. */
static struct vcpu_info *vi0 = &((struct shared_info *)si_page)->vcpu_info[0];

static u64 now(void) { return vcpu_time_now(&vi0->time); }

static int pending(void) { return (si->evtchn_pending[port / EVTCHN_WORD_BITS] >> (port % EVTCHN_WORD_BITS)) & 1; }
static void clear(void)
{
    __atomic_and_fetch(&si->evtchn_pending[port / EVTCHN_WORD_BITS], ~(1UL << (port % EVTCHN_WORD_BITS)), __ATOMIC_SEQ_CST);
    vi0->evtchn_pending_sel = 0;
    vi0->evtchn_upcall_pending = 0;
}

/* Polls the timer port until `deadline` (0: no timeout); 1 if it is pending. */
static int poll_until(u64 deadline)
{
    struct sched_poll sp = { .ports = GUEST_HANDLE(&port), .nr_ports = 1, .timeout = deadline };
    while (!pending()) {
        HYPERCALL(HC_sched_op, SCHEDOP_poll, &sp, 0, 0, 0);
        if (deadline && now() >= deadline) break;
    }
    return pending();
}

static long moved_sel, moved_pending;

/* Waits for the timer port, noting vi0's selector bit and upcall_pending first. */
static u64 wait_timer_bits(void)
{
    poll_until(0);
    moved_sel = (vi0->evtchn_pending_sel >> (port / EVTCHN_WORD_BITS)) & 1;
    moved_pending = vi0->evtchn_upcall_pending;
    clear();
    return now();
}

/* Waits for the timer port; returns the system time it woke at. */
static u64 wait_timer(void)
{
    poll_until(0);
    clear();
    return now();
}

static long singleshot(u32 id, u64 deadline, u32 flags)
{
    struct singleshot ss = { .timeout_abs_ns = deadline, .flags = flags };
    return vcpu_op(VCPUOP_set_singleshot_timer, id, &ss);
}
static long periodic(u32 id, u64 period) { return vcpu_op(VCPUOP_set_periodic_timer, id, &period); }
static long in_window(u64 t, u64 from, u64 slack) { return t >= from && t - from < slack; }

static void clocks(void)
{
    u32 v;
    u32 sec, nsec, hi;
    do {
        v = si->wc_version;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        sec = si->wc_sec;
        nsec = si->wc_nsec;
        hi = si->xen_wc_sec_hi;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    } while ((v & 1) || v != si->wc_version);
    check("time wallclock wc_version even", v & 1, 0);
    check("time wallclock wc_sec is the machine's boot time", sec, BOOT_WALLCLOCK);
    check("time wallclock wc_sec_hi 0", hi, 0);
    check_that("time wallclock wc_nsec below 10^9", nsec < 1000000000U, nsec);

    struct vcpu_time_info *t = &si->vcpu_info[0].time;
    check("time vcpu_time_info version even", t->version & 1, 0);
    check_that("time vcpu_time_info tsc_to_system_mul non-zero", t->tsc_to_system_mul != 0, t->tsc_to_system_mul);
    check_that("time vcpu_time_info tsc_shift within -32..32", t->tsc_shift >= -32 && t->tsc_shift <= 32, t->tsc_shift);
    u64 prev = now();
    int mono = 1;
    for (int i = 0; i < 100; i++) {
        u64 n = now();
        mono &= n >= prev;
        prev = n;
    }
    check("time system time from rdtsc monotonic over 100 reads", mono, 1);
    check_that("time system time not before the record's", now() >= t->system_time, (long)(now() - t->system_time));

    /* The runstate times sum to the hypervisor's NOW(): the same clock the record encodes. */
    struct vcpu_runstate_info rs;
    u64 before = now();
    vcpu_op(VCPUOP_get_runstate_info, 0, &rs);
    u64 after = now();
    u64 sum = rs.time[0] + rs.time[1] + rs.time[2] + rs.time[3];
    check_that("time runstate sum within the pvclock reads around it", sum + SLACK >= before && sum <= after + SLACK,
               (long)(sum - before));

    /* A 1 ms single-shot sleep: the record is refreshed on the way back in. */
    u32 ver = t->version;
    u64 deadline = now() + MS;
    check("time singleshot +1 ms", singleshot(0, deadline, 0), 0);
    u64 w = wait_timer();
    check_that("time singleshot +1 ms woke at its deadline (within 20 us)", in_window(w, deadline, SLACK),
               (long)(w - deadline));
    check_that("time vcpu_time_info version advanced and even after sleeping",
               t->version > ver && (t->version & 1) == 0, (long)(t->version - ver));
    check_that("time vcpu_time_info refreshed record not before the deadline", t->system_time >= deadline,
               (long)(deadline - t->system_time));
}

static void singleshots(void)
{
    check("time singleshot past deadline 0", singleshot(0, now() - 1, 0), 0);
    check("time singleshot past deadline fires at once", pending(), 1);
    clear();
    check("time singleshot past deadline with VCPU_SSHOTTMR_future 0 (ignored since Xen 4.18)",
          singleshot(0, now() - 1, VCPU_SSHOTTMR_future), 0);
    check("time singleshot past deadline with VCPU_SSHOTTMR_future fires at once", pending(), 1);
    clear();
    check("time singleshot for another vCPU EINVAL", singleshot(1, now() + MS, 0), -EINVAL);
    check("time stop_singleshot for another vCPU EINVAL", vcpu_op(VCPUOP_stop_singleshot_timer, 1, 0), -EINVAL);
    check("time singleshot for vCPU 2 (absent) ENOENT", singleshot(2, now() + MS, 0), -ENOENT);
    check("time singleshot EFAULT bad pointer", vcpu_op(VCPUOP_set_singleshot_timer, 0, UNMAPPED), -EFAULT);
    check("time singleshot +1 ms then stop_singleshot", singleshot(0, now() + MS, 0) | vcpu_op(VCPUOP_stop_singleshot_timer, 0, 0), 0);
    check("time stop_singleshot: no event within 3 ms", poll_until(now() + 3 * MS), 0);
}

static void set_timer_ops(void)
{
    u64 deadline = now() + 2 * MS;
    check("time set_timer_op +2 ms", SET_TIMER_OP(deadline), 0);
    u64 w = wait_timer();
    check_that("time set_timer_op +2 ms woke at its deadline (within 20 us)", in_window(w, deadline, SLACK),
               (long)(w - deadline));
    check("time set_timer_op past deadline", SET_TIMER_OP(now() - 1), 0);
    check("time set_timer_op past deadline fires at once", pending(), 1);
    clear();
    check("time set_timer_op then 0 (cancel)",
          SET_TIMER_OP(now() + MS) | SET_TIMER_OP(0), 0);
    check("time set_timer_op cancelled: no event within 3 ms", poll_until(now() + 3 * MS), 0);

    /* Wrapped timeouts: 100 ms from now instead. */
    u64 start = now();
    check("time set_timer_op negative timeout", SET_TIMER_OP(-1LL), 0);
    check("time set_timer_op negative: no event within 50 ms", poll_until(start + 50 * MS), 0);
    w = wait_timer();
    check_that("time set_timer_op negative fires 100 ms later", in_window(w, start + 100 * MS, 50 * US),
               (long)(w - start));
    start = now();
    check("time set_timer_op 2^51 ns ahead", SET_TIMER_OP(start + (1ULL << 51)), 0);
    w = wait_timer();
    check_that("time set_timer_op 2^51 ns ahead fires 100 ms later", in_window(w, start + 100 * MS, 50 * US),
               (long)(w - start));
}

static void periodics(void)
{
    check("time periodic 999999 ns EINVAL (below 1 ms)", periodic(0, MS - 1), -EINVAL);
    check("time periodic above STIME_DELTA_MAX EINVAL", periodic(0, (~0ULL >> 2) + 1), -EINVAL);
    check("time periodic EFAULT bad pointer", vcpu_op(VCPUOP_set_periodic_timer, 0, UNMAPPED), -EFAULT);
    check("time periodic for vCPU 2 (absent) ENOENT", periodic(2, MS), -ENOENT);
    check("time periodic for another vCPU 0", periodic(1, 5 * MS), 0);
    check("time stop_periodic for another vCPU 0", vcpu_op(VCPUOP_stop_periodic_timer, 1, 0), 0);
    u64 start = now();
    check("time periodic 1 ms", periodic(0, MS), 0);
    u64 tick[3];
    for (int i = 0; i < 3; i++)
        tick[i] = wait_timer();
    check_that("time periodic first tick at once", tick[0] - start < SLACK, (long)(tick[0] - start));
    check_that("time periodic ticks 1 ms apart", in_window(tick[2] - tick[1] + SLACK / 2, MS, SLACK),
               (long)(tick[2] - tick[1]));
    check("time stop_periodic", vcpu_op(VCPUOP_stop_periodic_timer, 0, 0), 0);
    clear();
    check("time stop_periodic: no tick within 3 ms", poll_until(now() + 3 * MS), 0);
}

static void delivery(void)
{
    /* Port unmasked, vCPU upcalls masked: Xen's bits without an upcall. */
    struct vcpu_info *vi = vi0;
    vi->evtchn_upcall_mask = 1;
    clear();
    si->evtchn_mask[port / EVTCHN_WORD_BITS] &= ~(1UL << (port % EVTCHN_WORD_BITS));
    singleshot(0, now() + MS, 0);
    poll_until(0);
    check("time VIRQ_TIMER sets the port's pending bit", pending(), 1);
    check("time VIRQ_TIMER sets the selector bit", (vi->evtchn_pending_sel >> (port / EVTCHN_WORD_BITS)) & 1, 1);
    check("time VIRQ_TIMER sets evtchn_upcall_pending", vi->evtchn_upcall_pending, 1);
    clear();
    si->evtchn_mask[port / EVTCHN_WORD_BITS] |= 1UL << (port % EVTCHN_WORD_BITS);
    singleshot(0, now() + MS, 0);
    poll_until(0);
    check("time VIRQ_TIMER on a masked port: pending bit", pending(), 1);
    check("time VIRQ_TIMER on a masked port: no selector bit", (vi->evtchn_pending_sel >> (port / EVTCHN_WORD_BITS)) & 1, 0);
    check("time VIRQ_TIMER on a masked port: no upcall_pending", vi->evtchn_upcall_pending, 0);
    clear();
}

/* VCPUOP_register_vcpu_info on the running vCPU 0: events and time go to the new area. */
static void moved_vcpu_info(void)
{
    static u8 page[4096] __attribute__((aligned(4096)));
    struct vcpu_register_vcpu_info ri = { mfn_of(page), 128, 0 };
    struct vcpu_info *old = vi0, *nw = (struct vcpu_info *)(page + 128);
    u32 old_version = old->time.version;
    check("time register_vcpu_info(0) while running", vcpu_op(10 /* VCPUOP_register_vcpu_info */, 0, &ri), 0);
    vi0 = nw;
    check("time register_vcpu_info copies the old area (upcall mask 1)", nw->evtchn_upcall_mask, 1);
    check("time register_vcpu_info marks every selector pending", (long)nw->evtchn_pending_sel, -1);
    check_that("time register_vcpu_info refreshes the moved time record",
               (nw->time.version & 1) == 0 && nw->time.version >= old_version && nw->time.tsc_to_system_mul != 0,
               nw->time.version);
    clear();
    old->evtchn_pending_sel = 0;
    old->evtchn_upcall_pending = 0;
    si->evtchn_mask[port / EVTCHN_WORD_BITS] &= ~(1UL << (port % EVTCHN_WORD_BITS));
    u64 deadline = now() + MS;
    singleshot(0, deadline, 0);
    u64 w = wait_timer_bits();
    check("time VIRQ_TIMER after the move: selector bit in the new area", moved_sel, 1);
    check("time VIRQ_TIMER after the move: upcall_pending in the new area", moved_pending, 1);
    check("time VIRQ_TIMER after the move: old shared_info slot untouched",
          (long)(old->evtchn_pending_sel | old->evtchn_upcall_pending), 0);
    check_that("time system time from the moved record at the deadline (within 20 us)", in_window(w, deadline, SLACK),
               (long)(w - deadline));
    check("time register_vcpu_info(0) again EBUSY", vcpu_op(10, 0, &ri), -16);
    si->evtchn_mask[port / EVTCHN_WORD_BITS] |= 1UL << (port % EVTCHN_WORD_BITS);
    clear();
}

int guest_main(void)
{
    map_shared_info(si_page);
    for (int i = 0; i < EVTCHN_WORD_BITS; i++)
        si->evtchn_mask[i] = ~0UL;
    struct evtchn_bind_virq bv = { VIRQ_TIMER, 0, 0 };
    check("time bind_virq VIRQ_TIMER", HYPERCALL(HC_event_channel_op, EVTCHNOP_bind_virq, &bv, 0, 0, 0), 0);
    port = bv.port;
    clocks();
    singleshots();
    set_timer_ops();
    periodics();
    delivery();
    moved_vcpu_info();
    return 0;
}
