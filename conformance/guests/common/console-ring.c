/*
 * A domU's two rings: everything this guest prints goes through its PV console ring
 * (start_info console.domU.{mfn,evtchn}) with an event-channel notify, never console_io
 * (which a domU may not use); it talks to xenstored over its store ring
 * (start_info store_{mfn,evtchn}): reads its domid and name from its home, writes and
 * reads back a key, sets a watch and sees it fire, gets ENOENT and EACCES; it reads what
 * was typed at its console from the in ring; then it waits for the console daemon to
 * drain the out ring and powers off.
 * Layouts: xen.h (start_info, SIF_*), io/console.h (xencons_interface), io/xs_wire.h
 * (xsd_sockmsg, xenstore_domain_interface, XS_* types), event_channel.h (EVTCHNOP_send 4).
 * The ring pages' addresses are rt.h's boot_frame_va: on x86 they are machine frames,
 * their virtual address pfn << 12 (no VIRT_BASE) with the pfn from the read-only M2P; on
 * PowerPC guest frames, reached in real mode. The same C for every arch.
 */
#include "xen.h"

static struct xencons_interface *cons;
static struct xenstore_domain_interface *store;
static u32 cons_port, store_port;

static void notify(u32 port)
{
    u32 p = port;
    HYPERCALL(HC_event_channel_op, EVTCHNOP_send, &p, 0, 0, 0);
}

/* Writes `n` bytes to the console's out ring, waiting for room, then notifies. */
static void cons_write(const char *s, unsigned long n)
{
    while (n) {
        u32 c = cons->out_cons, p = cons->out_prod;
        barrier();
        if (p - c >= sizeof(cons->out)) {
            notify(cons_port);
            yield();
            continue;
        }
        while (n && p - c < sizeof(cons->out)) {
            cons->out[p++ & (sizeof(cons->out) - 1)] = *s++;
            n--;
        }
        barrier(); /* bytes before the index that publishes them */
        cons->out_prod = p;
    }
    notify(cons_port);
}

static void cons_puts(const char *s) { cons_write(s, strlen(s)); }

static void cons_putu(unsigned long v)
{
    char tmp[24];
    int n = 0;
    do { tmp[n++] = '0' + v % 10; v /= 10; } while (v);
    while (n) cons_write(&tmp[--n], 1);
}

static void cons_check(const char *what, int ok)
{
    cons_puts(ok ? "ok " : "FAIL ");
    cons_puts(what);
    cons_puts("\n");
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b) { a++; b++; }
    return *a == *b;
}

/* --- xenstore over the ring --- */

static void store_write(const void *buf, unsigned long n)
{
    const char *s = buf;
    while (n) {
        u32 c = store->req_cons, p = store->req_prod;
        barrier();
        if (p - c >= sizeof(store->req)) {
            notify(store_port);
            yield();
            continue;
        }
        while (n && p - c < sizeof(store->req)) {
            store->req[p++ & (sizeof(store->req) - 1)] = *s++;
            n--;
        }
        barrier();
        store->req_prod = p;
    }
    notify(store_port);
}

static void store_read(void *buf, unsigned long n)
{
    char *d = buf;
    while (n) {
        u32 c = store->rsp_cons, p = store->rsp_prod;
        barrier();
        if (p == c) {
            yield(); /* xenstored runs when our notification is delivered */
            continue;
        }
        while (n && c != p) {
            *d++ = store->rsp[c++ & (sizeof(store->rsp) - 1)];
            n--;
        }
        barrier(); /* bytes read before the slots are freed */
        store->rsp_cons = c;
        notify(store_port);
    }
}

static char reply[4097];
static char event[4097];
static unsigned watch_events;
static u32 next_req_id = 1;

/*
 * Sends a request (payload: `a`, then `b` if given, each with its NUL unless it is the
 * value of a WRITE) and reads messages until the reply to it; watch events on the way
 * are kept in `event`. Returns the reply's type; the payload is in `reply`.
 */
static u32 xs_request(u32 type, const char *a, const char *b)
{
    struct xsd_sockmsg h = { type, next_req_id++, 0, 0 };
    unsigned long la = strlen(a) + 1, lb = b ? strlen(b) + (type == XS_WRITE ? 0 : 1) : 0;
    h.len = la + lb;
    store_write(&h, sizeof(h));
    store_write(a, la);
    if (b) store_write(b, lb);
    for (;;) {
        struct xsd_sockmsg r;
        store_read(&r, sizeof(r));
        if (r.len > 4096) return 0xffff;
        char *dst = r.type == XS_WATCH_EVENT ? event : reply;
        store_read(dst, r.len);
        dst[r.len] = 0;
        if (r.type == XS_WATCH_EVENT) {
            watch_events++;
            continue;
        }
        if (r.req_id == h.req_id) return r.type;
    }
}

static const char *xs_read(const char *path)
{
    return xs_request(XS_READ, path, 0) == XS_READ ? reply : 0;
}

int guest_main(void)
{
    struct start_info *si = start_info_ptr;
    if (si->flags & SIF_INITDOMAIN) {
        print("console-ring: a domU guest; the initial domain has no console ring "
              "(run it with --role domu)\n");
        return 3; /* SHUTDOWN_crash */
    }
    cons = boot_frame_va(si->console_mfn_or_info);
    cons_port = si->console_evtchn;
    store = boot_frame_va(si->store_mfn);
    store_port = si->store_evtchn;

    cons_puts("console-ring: a domU writing to its PV console ring\n");
    cons_check("start_info flags: neither SIF_PRIVILEGED nor SIF_INITDOMAIN",
               (si->flags & (SIF_PRIVILEGED | SIF_INITDOMAIN)) == 0);
    cons_check("console and store event channels are distinct ports",
               cons_port != 0 && store_port != 0 && cons_port != store_port);

    const char *domid = xs_read("domid");
    cons_puts("xenstore domid: ");
    cons_puts(domid ? domid : "(error)");
    cons_puts("\n");
    const char *name = xs_read("name");
    cons_puts("xenstore name: ");
    cons_puts(name ? name : "(error)");
    cons_puts("\n");
    u32 t = xs_request(XS_GET_DOMAIN_PATH, domid ? "1" : "0", 0);
    cons_check("GET_DOMAIN_PATH 1 is /local/domain/1",
               t == XS_GET_DOMAIN_PATH && streq(reply, "/local/domain/1"));
    const char *port = xs_read("console/port");
    cons_check("console/port matches start_info", port && (u32)(port[0] - '0') == cons_port && !port[1]);

    t = xs_request(XS_WRITE, "data/greeting", "hello from the store ring");
    cons_check("WRITE data/greeting", t == XS_WRITE && streq(reply, "OK"));
    const char *back = xs_read("data/greeting");
    cons_puts("read back: ");
    cons_puts(back ? back : "(error)");
    cons_puts("\n");

    t = xs_request(XS_WATCH, "data/greeting", "tok");
    cons_check("WATCH data/greeting", t == XS_WATCH && streq(reply, "OK"));
    xs_request(XS_WRITE, "data/greeting", "changed");
    cons_puts("watch events: ");
    cons_putu(watch_events);
    cons_puts(", last: ");
    cons_puts(event);
    cons_puts(" token ");
    cons_puts(event + strlen(event) + 1);
    cons_puts("\n");

    t = xs_request(XS_READ, "data/missing", 0);
    cons_check("READ data/missing is ENOENT", t == XS_ERROR && streq(reply, "ENOENT"));
    t = xs_request(XS_READ, "/tool/xenstored", 0);
    cons_check("READ /tool/xenstored is EACCES", t == XS_ERROR && streq(reply, "EACCES"));

    /* Whatever was typed at the console before we started, up to a newline. */
    char line[128];
    unsigned n = 0;
    for (int tries = 0; tries < 4 && n < sizeof(line) - 1; tries++) {
        u32 c = cons->in_cons, p = cons->in_prod;
        barrier();
        while (c != p && n < sizeof(line) - 1) line[n++] = cons->in[c++ & (sizeof(cons->in) - 1)];
        barrier();
        cons->in_cons = c;
        notify(cons_port);
        if (n && line[n - 1] == '\n') break;
        yield();
    }
    line[n] = 0;
    cons_puts("console input: ");
    cons_puts(n ? line : "(none)\n");

    cons_puts("powering off\n");
    for (int i = 0; i < 1000 && cons->out_cons != cons->out_prod; i++) yield();
    return 0;
}
