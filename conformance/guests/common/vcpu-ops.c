/*
 * vcpu-ops: VCPUOP initialise/up/down/is_up/get_runstate_info/register_vcpu_info on a
 * 33-vCPU domain, each result checked by the guest ("ok"/"FAIL" per check).
 *
 * Sources (Xen):
 * - xen/arch/x86/domain.c do_vcpu_op: a vcpuid the domain lacks (domain_vcpu() NULL)
 *   -ENOENT before anything else.
 * - xen/common/domain.c common_vcpu_op:
 *   initialise: a PV vCPU still on dummy_vcpu_info (ids >= XEN_LEGACY_MAX_VCPUS = 32
 *   without a registered vcpu_info) -EINVAL; arch_initialise_vcpu: unreadable context
 *   -EFAULT, already initialised -EEXIST (default_initialise_vcpu /
 *   arch_set_info_guest: v->is_initialised ? -EEXIST), a bad context -EINVAL
 *   (arch_set_info_guest: non-canonical addresses, CR3 naming no L4 page).
 *   up: -EINVAL unless initialised; else clears _VPF_down (0 whether or not it was down).
 *   down: the last vCPU not down shuts the domain down (SHUTDOWN_poweroff); else sets
 *   _VPF_down (any vCPU of the domain, not only the caller).
 *   is_up: !(pause_flags & VPF_down).
 *   get_runstate_info: vcpu_runstate_get; -EFAULT when the copy fails.
 *   register_vcpu_info: unreadable -EFAULT; gaddr = mfn << PAGE_SHIFT + offset
 *   overflowing (gfn of gaddr != mfn) -EINVAL; already registered -EBUSY;
 *   map_guest_area: crossing a page or not xen_ulong-aligned (8 bytes for a 64-bit
 *   guest, 4 for a 32-bit one) -ENXIO,
 *   check_get_page_from_gfn (a frame the PV domain does not own) -EINVAL, a frame
 *   that cannot take PGT_writable_page (a page table) -EACCES; vcpu_info_populate on
 *   dummy_vcpu_info: zeroed with evtchn_upcall_mask 1; then evtchn_pending_sel = ~0,
 *   vcpu_mark_events_pending (upcall_pending 1), force_update_vcpu_system_time.
 * - vcpu_create: a vCPU that is not up starts in RUNSTATE_offline (3); running is 0,
 *   runnable 1, blocked 2 (public/vcpu.h); a vCPU sleeping in SCHEDOP_poll (do_poll:
 *   no ports, a timeout) is blocked (xen/common/sched/core.c).
 * Layouts: public/vcpu.h, public/xen.h, public/arch-x86/xen-x86_64.h and xen-x86_32.h
 * (the arch's xen.h). The same C for every arch; the non-canonical rip refusal is
 * x86_64's only, the CR3 and page-table checks those of arches with PV page tables.
 */
#include "xen.h"

#define NR_VCPUS 33
#define UNMAPPED ((void *)UNMAPPED_VA)

static u8 stack1[8192] __attribute__((aligned(16)));
static u8 info_page[4096] __attribute__((aligned(4096)));
static struct vcpu_guest_context ctx;
static volatile u64 counter;
static volatile int v1_started, stage;
static volatile u64 v1_polls;

static struct vcpu_runstate_info runstate(u32 id)
{
    struct vcpu_runstate_info r;
    memset(&r, 0xff, sizeof(r));
    vcpu_op(VCPUOP_get_runstate_info, id, &r);
    return r;
}

static u64 system_time(void)
{
    struct vcpu_runstate_info r = runstate(0);
    return r.time[0] + r.time[1] + r.time[2] + r.time[3];
}

/* Xen's NOW(): the runstate times of any vCPU sum to it (vcpu_runstate_get). */
static u64 system_time(void);

void vcpu1_main(void)
{
    v1_started = 1;
    while (stage == 0) {
        counter++;
        yield();
    }
    /* Stage 1: sleep in SCHEDOP_poll (no ports, 1 ms timeouts) until stage 2. */
    while (stage == 1) {
        struct sched_poll sp = { .timeout = system_time() + 1000000 };
        v1_polls++;
        HYPERCALL(HC_sched_op, SCHEDOP_poll, &sp, 0, 0, 0);
    }
    /* vCPU 0 takes itself down: vCPU 1 is then the last one up. */
    while (stage == 2 && vcpu_op(VCPUOP_is_up, 0, 0) != 0)
        yield();
    check("vcpu down(0) by vCPU 0 itself: is_up(0) 0 seen from vCPU 1", vcpu_op(VCPUOP_is_up, 0, 0), 0);
    check("vcpu runstate(0) offline after down", runstate(0).state, RUNSTATE_offline);
    check("vcpu runstate(1) running, read by itself", runstate(1).state, RUNSTATE_running);
    print("ok vcpu down(1) as the last vCPU up powers the domain off\n");
    vcpu_op(VCPUOP_down, 1, 0);
    print("FAIL vcpu down(1) as the last vCPU up: still running\n");
    for (;;)
        ;
}

static void init_context(void)
{
    kernel_context(&ctx, vcpu1_main, stack1 + sizeof(stack1) - 8);
}

int guest_main(void)
{
    /* ENOENT for ids the domain lacks, whatever the sub-op. */
    check("vcpu is_up(0) 1", vcpu_op(VCPUOP_is_up, 0, 0), 1);
    check("vcpu is_up(1) 0 before up", vcpu_op(VCPUOP_is_up, 1, 0), 0);
    check("vcpu is_up(33) ENOENT", vcpu_op(VCPUOP_is_up, NR_VCPUS, 0), -ENOENT);
    check("vcpu is_up(0xffffffff) ENOENT", vcpu_op(VCPUOP_is_up, 0xffffffffU, 0), -ENOENT);
    check("vcpu up(33) ENOENT", vcpu_op(VCPUOP_up, NR_VCPUS, 0), -ENOENT);
    check("vcpu down(40) ENOENT", vcpu_op(VCPUOP_down, 40, 0), -ENOENT);
    check("vcpu initialise(33) ENOENT", vcpu_op(VCPUOP_initialise, NR_VCPUS, &ctx), -ENOENT);
    check("vcpu get_runstate_info(33) ENOENT", vcpu_op(VCPUOP_get_runstate_info, NR_VCPUS, &ctx), -ENOENT);

    /* Runstates: vCPU 0 running (its running time grows), vCPU 1 offline. */
    struct vcpu_runstate_info r0 = runstate(0);
    for (volatile int i = 0; i < 1000; i++)
        ;
    struct vcpu_runstate_info r0b = runstate(0);
    check("vcpu runstate(0) running", r0.state, RUNSTATE_running);
    check_that("vcpu runstate(0) running time advances", r0b.time[0] > r0.time[0], (long)(r0b.time[0] - r0.time[0]));
    check_that("vcpu runstate(0) entry time not after the times' sum",
               r0b.state_entry_time <= r0b.time[0] + r0b.time[1] + r0b.time[2] + r0b.time[3],
               (long)r0b.state_entry_time);
    check("vcpu runstate(1) offline before up", runstate(1).state, RUNSTATE_offline);
    check("vcpu get_runstate_info EFAULT bad pointer", vcpu_op(VCPUOP_get_runstate_info, 0, UNMAPPED), -EFAULT);

    /* initialise and up. */
    check("vcpu up(1) EINVAL before initialise", vcpu_op(VCPUOP_up, 1, 0), -EINVAL);
    check("vcpu initialise(1) EFAULT bad pointer", vcpu_op(VCPUOP_initialise, 1, UNMAPPED), -EFAULT);
#ifdef ARCH_PV_PAGE_TABLES
    init_context();
    ctx.ctrlreg[3] = 0;
    check("vcpu initialise(1) EINVAL CR3 0", vcpu_op(VCPUOP_initialise, 1, &ctx), -EINVAL);
#endif
#ifdef __x86_64__
    init_context();
    ctx.user_regs.rip = 0x800000000000UL;
    check("vcpu initialise(1) EINVAL non-canonical rip", vcpu_op(VCPUOP_initialise, 1, &ctx), -EINVAL);
#endif
    init_context();
    check("vcpu is_up(1) 0 after failed initialises", vcpu_op(VCPUOP_is_up, 1, 0), 0);
    check("vcpu initialise(1)", vcpu_op(VCPUOP_initialise, 1, &ctx), 0);
    check("vcpu initialise(1) again EEXIST", vcpu_op(VCPUOP_initialise, 1, &ctx), -EEXIST);
    check("vcpu is_up(1) 0 after initialise (stays down)", vcpu_op(VCPUOP_is_up, 1, 0), 0);

    /* vCPU 32 has no vcpu_info in shared_info: initialise needs a registered one. */
    check("vcpu initialise(32) EINVAL without a vcpu_info", vcpu_op(VCPUOP_initialise, 32, &ctx), -EINVAL);
    u64 mine = mfn_of(info_page);
    struct vcpu_register_vcpu_info ri = { mine, 64, 0 };
    check("vcpu register_vcpu_info EFAULT bad pointer", vcpu_op(VCPUOP_register_vcpu_info, 32, UNMAPPED), -EFAULT);
    ri.offset = 4096 - 32;
    check("vcpu register_vcpu_info ENXIO crossing a page", vcpu_op(VCPUOP_register_vcpu_info, 32, &ri), -ENXIO);
    ri.offset = 64 + sizeof(unsigned long) / 2;
    check("vcpu register_vcpu_info ENXIO misaligned", vcpu_op(VCPUOP_register_vcpu_info, 32, &ri), -ENXIO);
    ri.mfn = 1ULL << 52;
    ri.offset = 64;
    check("vcpu register_vcpu_info EINVAL address overflows", vcpu_op(VCPUOP_register_vcpu_info, 32, &ri), -EINVAL);
    ri.mfn = (u64)HYPERCALL(HC_memory_op, 2 /* maximum_ram_page */, 0, 0, 0, 0) + 1;
    check("vcpu register_vcpu_info EINVAL frame beyond memory", vcpu_op(VCPUOP_register_vcpu_info, 32, &ri), -EINVAL);
#ifdef ARCH_PV_PAGE_TABLES
    ri.mfn = cr3_mfn(read_cr3());
    check("vcpu register_vcpu_info EACCES page-table frame", vcpu_op(VCPUOP_register_vcpu_info, 32, &ri), -EACCES);
#endif
    memset(info_page, 0x5a, sizeof(info_page));
    ri.mfn = mine;
    check("vcpu register_vcpu_info(32)", vcpu_op(VCPUOP_register_vcpu_info, 32, &ri), 0);
    struct vcpu_info *vi = (struct vcpu_info *)(info_page + 64);
    check("vcpu register_vcpu_info new area upcall mask 1", vi->evtchn_upcall_mask, 1);
    check("vcpu register_vcpu_info upcall_pending set", vi->evtchn_upcall_pending, 1);
    check("vcpu register_vcpu_info pending_sel all ones", (long)vi->evtchn_pending_sel, -1);
    check("vcpu register_vcpu_info time version even", vi->time.version & 1, 0);
    check_that("vcpu register_vcpu_info time record filled", vi->time.tsc_to_system_mul != 0, vi->time.tsc_to_system_mul);
    check("vcpu register_vcpu_info bytes before the area untouched", info_page[63], 0x5a);
    check("vcpu register_vcpu_info bytes after the area untouched", info_page[128], 0x5a);
    ri.offset = 256;
    check("vcpu register_vcpu_info twice EBUSY", vcpu_op(VCPUOP_register_vcpu_info, 32, &ri), -EBUSY);
    check("vcpu initialise(32) with a registered vcpu_info", vcpu_op(VCPUOP_initialise, 32, &ctx), 0);

    /* up / down of another vCPU. */
    check("vcpu up(1)", vcpu_op(VCPUOP_up, 1, 0), 0);
    check("vcpu is_up(1) 1", vcpu_op(VCPUOP_is_up, 1, 0), 1);
    check("vcpu up(1) again 0", vcpu_op(VCPUOP_up, 1, 0), 0);
    while (!v1_started)
        yield();
    check_that("vcpu runstate(1) runnable while vCPU 0 runs", runstate(1).state == RUNSTATE_runnable, runstate(1).state);
    check("vcpu down(1) by vCPU 0", vcpu_op(VCPUOP_down, 1, 0), 0);
    check("vcpu is_up(1) 0 after down", vcpu_op(VCPUOP_is_up, 1, 0), 0);
    check("vcpu runstate(1) offline after down", runstate(1).state, RUNSTATE_offline);
    u64 c = counter;
    for (int i = 0; i < 20; i++)
        yield();
    check("vcpu down(1): it no longer runs", (long)(counter - c), 0);
    check("vcpu down(1) again 0", vcpu_op(VCPUOP_down, 1, 0), 0);
    struct vcpu_runstate_info r1 = runstate(1);
    check("vcpu up(1) after down", vcpu_op(VCPUOP_up, 1, 0), 0);
    for (int i = 0; i < 20; i++)
        yield();
    check_that("vcpu up(1) after down: it runs again", counter > c, (long)(counter - c));
    struct vcpu_runstate_info r1b = runstate(1);
    check_that("vcpu runstate(1) offline time kept, running time grew",
               r1b.time[RUNSTATE_offline] >= r1.time[RUNSTATE_offline] && r1b.time[0] > r1.time[0],
               (long)(r1b.time[0] - r1.time[0]));

    /* vCPU 1 sleeps in SCHEDOP_poll: blocked, and its blocked time grows. */
    stage = 1;
    u64 p = v1_polls;
    while (v1_polls < p + 2)
        yield();
    struct vcpu_runstate_info b1 = runstate(1);
    for (int i = 0; i < 200 && v1_polls < p + 5; i++)
        yield();
    struct vcpu_runstate_info b2 = runstate(1);
    check("vcpu runstate(1) blocked while it polls", b1.state, RUNSTATE_blocked);
    check_that("vcpu runstate(1) blocked time grows", b2.time[RUNSTATE_blocked] > b1.time[RUNSTATE_blocked],
               (long)(b2.time[RUNSTATE_blocked] - b1.time[RUNSTATE_blocked]));

    /* vCPU 0 goes down; vCPU 1 checks and then goes down last. */
    stage = 2;
    vcpu_op(VCPUOP_down, 0, 0);
    print("FAIL vcpu down(0) with vCPU 1 up: vCPU 0 still running\n");
    for (;;)
        ;
}
