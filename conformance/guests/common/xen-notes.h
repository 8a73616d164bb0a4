/*
 * For an arch's head.S: the ELFNOTE macro (a note of the "Xen" owner in .note.Xen) and
 * the notes every hvkit test guest carries, whatever its arch (numbers from
 * xen/include/public/elfnote.h). The arch's head.S adds its own after including this:
 * HYPERCALL_PAGE (an address of the arch's width), FEATURES, and PAE_MODE for x86.
 */
#define ELFNOTE(type, body)                 \
        .pushsection .note.Xen, "a", @note; \
        .p2align 2;                         \
        .long 4, 2f - 1f, type;             \
        .asciz "Xen";                       \
        .p2align 2;                         \
1:      body;                               \
2:      .p2align 2;                         \
        .popsection

ELFNOTE(6, .asciz "hvkit-test")             /* GUEST_OS */
ELFNOTE(7, .asciz "0")                      /* GUEST_VERSION */
ELFNOTE(8, .asciz "generic")                /* LOADER */
ELFNOTE(5, .asciz "xen-3.0")                /* XEN_VERSION */
