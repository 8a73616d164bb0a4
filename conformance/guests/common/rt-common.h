/*
 * The inline part of the runtime that is the same C for every arch (rt.c is the rest):
 * the event upcall's 2-level scan, system time from vcpu_time_info, and the conformance
 * checks. Included at the end of the arch's rt.h, after its shared_info layout and
 * EVTCHN_WORD_BITS.
 */
#ifndef HVKIT_RT_COMMON_H
#define HVKIT_RT_COMMON_H

/*
 * The body of an event upcall, Linux's 2-level scan over xen_ulong_t words (unsigned long,
 * EVTCHN_WORD_BITS wide): clear vCPU 0's upcall_pending, take its selector, and for each
 * word's pending & ~mask bit clear the pending bit and call `port_fn` with the port.
 * Always inlined, so `port_fn` becomes a direct call.
 */
static inline __attribute__((always_inline)) void evtchn_scan(struct shared_info *si, void (*port_fn)(unsigned port))
{
    struct vcpu_info *v = &si->vcpu_info[0];
    v->evtchn_upcall_pending = 0;
    unsigned long sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        unsigned w = __builtin_ctzl(sel);
        sel &= sel - 1;
        unsigned long bits = si->evtchn_pending[w] & ~si->evtchn_mask[w];
        while (bits) {
            unsigned b = __builtin_ctzl(bits);
            bits &= bits - 1;
            __atomic_and_fetch(&si->evtchn_pending[w], ~(1UL << b), __ATOMIC_SEQ_CST);
            port_fn(w * EVTCHN_WORD_BITS + b);
        }
    }
}

/*
 * System time in ns from a vcpu_time_info (xen.h "Current system time"): the delta of the
 * arch's counter (rt.h's time_counter: x86's TSC, PowerPC's time base) since tsc_timestamp, scaled by tsc_shift and tsc_to_system_mul (the upper 64 bits of the
 * 96-bit product, in two 32 x 32-bit halves so 32-bit code needs no helper), added to
 * system_time; retried while Xen is updating it (odd
 * version) or it changed under us.
 */
static inline u64 vcpu_time_now(const struct vcpu_time_info *t)
{
    u32 v;
    u64 r;
    do {
        v = t->version;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        u64 d = time_counter() - t->tsc_timestamp;
        d = t->tsc_shift >= 0 ? d << t->tsc_shift : d >> -t->tsc_shift;
        u32 mul = t->tsc_to_system_mul;
        r = t->system_time + (((u64)(u32)d * mul) >> 32) + (d >> 32) * mul;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    } while ((v & 1) || v != t->version);
    return r;
}

/*
 * Conformance checks: one line per check, "ok <what>" when the guest saw what Xen
 * specifies, else "FAIL <what>: got <got> want <want>". A guest's expected/<name>.txt is
 * the list of its checks (every line "ok ..."), so any FAIL differs from it. Inline, so
 * guests that do not use them are unchanged.
 */
static inline void check(const char *what, long got, long want)
{
    if (got == want)
        printk("ok %s\n", what);
    else
        printk("FAIL %s: got %ld want %ld\n", what, got, want);
}

/* A check of a condition; `got` is printed when it fails (e.g. the value examined). */
static inline void check_that(const char *what, int cond, long got)
{
    if (cond)
        printk("ok %s\n", what);
    else
        printk("FAIL %s: got %ld\n", what, got);
}

#endif
