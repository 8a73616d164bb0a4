/*
 * start_info for the ppc guests (rt.h): read from the flattened device tree the domain was
 * entered with (abi/ppc.md; the FDT format of devicetree.org's specification, big-endian
 * like the guest): the structure block's tokens BEGIN_NODE 1, END_NODE 2, PROP 3 (u32
 * length, u32 name offset, the value padded to 4 bytes), NOP 4, END 9.
 */
#include "rt.h"

static struct start_info info;
struct start_info *start_info_ptr = &info;

static u32 be32(const u8 *p) { return ((u32)p[0] << 24) | ((u32)p[1] << 16) | ((u32)p[2] << 8) | p[3]; }
static u64 be64(const u8 *p) { return ((u64)be32(p) << 32) | be32(p + 4); }
static int named(const char *a, const char *b) { while (*a && *a == *b) a++, b++; return *a == *b; }
/* A node name without its unit address ("memory@4000000" is "memory"). */
static int node_is(const char *node, const char *name)
{
    while (*name && *node == *name) node++, name++;
    return *name == 0 && (*node == 0 || *node == '@');
}

/* Called by head.S with the device tree's guest-physical address, before guest_main. */
void start_info_init(u64 fdt)
{
    const u8 *h = (const u8 *)fdt;
    const u8 *p = h + be32(h + 8);
    const char *strings = (const char *)h + be32(h + 12);
    const char *path[4] = { "", "", "", "" };
    int depth = 0;
    u64 memory = 0;
    info.cmd_line = "";
    for (;;) {
        u32 token = be32(p);
        p += 4;
        if (token == 1) { /* BEGIN_NODE: name, NUL, padded to 4 */
            const char *name = (const char *)p;
            if (depth < 4) path[depth] = name;
            depth++;
            p += (strlen(name) + 4) & ~3UL;
        } else if (token == 2) {
            depth--;
        } else if (token == 3) {
            u32 len = be32(p);
            const char *prop = strings + be32(p + 4);
            const u8 *v = p + 8;
            p += 8 + ((len + 3) & ~3U);
            const char *node = depth == 2 ? path[1] : depth == 3 ? path[2] : "";
            if (depth == 2 && node_is(node, "memory") && named(prop, "reg")) {
                for (u32 i = 0; i + 16 <= len; i += 16) memory += be64(v + i + 8);
            } else if (depth == 2 && named(node, "chosen") && named(prop, "bootargs")) {
                info.cmd_line = (const char *)v;
            } else if (depth == 2 && named(node, "xen")) {
                if (named(prop, "reg") && be64(v) == 0) info.flags = 3; /* SIF_PRIVILEGED | SIF_INITDOMAIN */
                if (named(prop, "shared-info")) info.shared_info = be64(v);
            } else if (depth == 3 && named(path[1], "xen")) {
                int console = named(node, "console"), store = named(node, "store");
                if (named(prop, "reg")) {
                    if (console) info.console_mfn_or_info = be64(v) >> 12;
                    if (store) info.store_mfn = be64(v) >> 12;
                } else if (named(prop, "interrupts")) {
                    if (console) info.console_evtchn = be32(v);
                    if (store) info.store_evtchn = be32(v);
                }
            }
        } else if (token != 4) {
            break; /* END (9), or anything unknown */
        }
    }
    info.nr_pages = memory >> 12;
}
