/*
 * bench-xenstore: the domU of bench/xenstore.ts's "guest" layer. Talks to xenstored the
 * way a PV kernel's xenbus driver does: its store ring page (start_info.store_mfn, mapped
 * with update_va_mapping) and store event channel (start_info.store_evtchn), messages
 * framed by struct xsd_sockmsg, free-running indexes (xen/include/public/io/xs_wire.h,
 * docs/misc/xenstore-ring.txt), one request outstanding at a time.
 *
 * Command line "write N": N XS_WRITEs of data/k<i % 64> = v<i>. "read N": 64 writes of
 * data/k<k> = v<k>, then N XS_READs of data/k<i % 64>, each value compared. Waiting for a
 * reply polls the masked store port (SCHEDOP_poll), then clears its pending bit and looks
 * at the ring again, so a reply that came before the poll is not missed. Prints how many
 * replies were right and shuts down (poweroff; crash if any was not).
 */
#include "xen.h"

#define RING 1024
#define KEYS 64

static u8 si_page[4096] __attribute__((aligned(4096)));
static u8 store_page[4096] __attribute__((aligned(4096)));
static struct shared_info *const si = (struct shared_info *)si_page;
static struct xenstore_domain_interface *const xs = (struct xenstore_domain_interface *)store_page;
static u32 port, req_id;

static void wait_for_store(void)
{
    u32 p = port;
    struct sched_poll sp = { &p, 1, 0, 0 };
    HYPERCALL(HC_sched_op, SCHEDOP_poll, &sp, 0, 0, 0);
    __atomic_and_fetch(&si->evtchn_pending[port / 64], ~(1UL << (port % 64)), __ATOMIC_SEQ_CST);
}

/* Copies into the request ring; one request at a time never fills it (messages < 1 KiB). */
static void put(const void *data, u32 len)
{
    const u8 *d = data;
    u32 prod = xs->req_prod;
    while (len--) xs->req[prod++ & (RING - 1)] = (char)*d++;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    xs->req_prod = prod;
}

static void get(void *buf, u32 len)
{
    u8 *b = buf;
    while (xs->rsp_prod - xs->rsp_cons < len) wait_for_store();
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    u32 cons = xs->rsp_cons;
    while (len--) *b++ = (u8)xs->rsp[cons++ & (RING - 1)];
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    xs->rsp_cons = cons;
}

/* Sends type(a "\0" b) and reads the reply into out; returns its length, or -1 if it is
 * an error reply, another request's reply or too long. */
static long request(u32 type, const char *a, u32 alen, const char *b, u32 blen, char *out, u32 max)
{
    struct xsd_sockmsg h = { type, ++req_id, 0, alen + blen };
    put(&h, sizeof(h));
    put(a, alen);
    put(b, blen);
    u32 p = port;
    HYPERCALL(HC_event_channel_op, EVTCHNOP_send, &p, 0, 0, 0);
    get(&h, sizeof(h));
    if (h.len > max) { char sink[64]; for (u32 n = h.len; n;) { u32 k = n < 64 ? n : 64; get(sink, k); n -= k; } return -1; }
    get(out, h.len);
    return h.type == type && h.req_id == req_id ? (long)h.len : -1;
}

static u32 decimal(char *p, unsigned long v)
{
    char t[24];
    u32 n = 0, i = 0;
    do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) p[i++] = t[--n];
    return i;
}

/* "data/k<k>" with its NUL. */
static u32 key(char *p, unsigned long k)
{
    memcpy(p, "data/k", 6);
    u32 n = 6 + decimal(p + 6, k);
    p[n++] = 0;
    return n;
}

static int write_value(unsigned long k, unsigned long v)
{
    char path[32], val[24], reply[8];
    u32 pl = key(path, k), vl;
    val[0] = 'v';
    vl = 1 + decimal(val + 1, v);
    return request(XS_WRITE, path, pl, val, vl, reply, sizeof(reply)) == 3 && reply[0] == 'O';
}

int guest_main(void)
{
    const char *cmd = start_info_ptr->cmd_line;
    int reading = cmd[0] == 'r';
    unsigned long n = 0;
    for (cmd += reading ? 4 : 5; *cmd == ' '; cmd++) ;
    while (*cmd >= '0' && *cmd <= '9') n = n * 10 + (unsigned long)(*cmd++ - '0');

    map_shared_info(si_page);
    HYPERCALL(HC_update_va_mapping, store_page, (start_info_ptr->store_mfn << 12) | PTE_P | PTE_RW | PTE_A | PTE_D, UVMF_INVLPG, 0, 0);
    port = start_info_ptr->store_evtchn;
    si->vcpu_info[0].evtchn_upcall_mask = 1;
    si->evtchn_mask[port / 64] |= 1UL << (port % 64);

    unsigned long ok = 0;
    if (!reading) {
        for (unsigned long i = 0; i < n; i++) ok += write_value(i % KEYS, i);
    } else {
        for (unsigned long k = 0; k < KEYS; k++) write_value(k, k);
        for (unsigned long i = 0; i < n; i++) {
            char path[32], want[24], got[24];
            u32 pl = key(path, i % KEYS), wl;
            want[0] = 'v';
            wl = 1 + decimal(want + 1, i % KEYS);
            long len = request(XS_READ, path, pl, "", 0, got, sizeof(got));
            int same = len == (long)wl;
            for (u32 j = 0; same && j < wl; j++) same = got[j] == want[j];
            ok += same;
        }
    }
    printk("xenstore %s %lu ok %lu\n", reading ? "read" : "write", n, ok);
    return ok == n ? 0 : 3;
}
