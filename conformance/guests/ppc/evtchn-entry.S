/*
 * Event upcall entry for the ppc evtchn guests: the external interrupt (0x500, whose
 * vector xen.h's register_event_callback makes `ba entry_event`) arrives with SRR0/SRR1
 * holding the interrupted pc and MSR, and EE, RI cleared. Below the interrupted code's
 * 288-byte protected zone (ELFv1 ABI), save the volatile registers (r0, r2-r12, LR, CTR,
 * XER, CR) and SRR0/SRR1, call evtchn_upcall() through its descriptor, restore, and
 * return with rfid (which sets EE and RI again from SRR1). The C is integer-only: the
 * floating-point registers are not saved.
 */
#define FRAME 288 + 112 + 20 * 8
        .text
        .globl entry_event
entry_event:
        stdu 1, -(FRAME)(1)
        std 0, 112(1)
        std 2, 120(1)
        std 3, 128(1)
        std 4, 136(1)
        std 5, 144(1)
        std 6, 152(1)
        std 7, 160(1)
        std 8, 168(1)
        std 9, 176(1)
        std 10, 184(1)
        std 11, 192(1)
        std 12, 200(1)
        mflr 0
        std 0, 208(1)
        mfctr 0
        std 0, 216(1)
        mfxer 0
        std 0, 224(1)
        mfcr 0
        std 0, 232(1)
        mfsrr0 0
        std 0, 240(1)
        mfsrr1 0
        std 0, 248(1)
        lis 12, evtchn_upcall@h
        ori 12, 12, evtchn_upcall@l
        ld 0, 0(12)
        ld 2, 8(12)
        mtctr 0
        bctrl
        ld 0, 248(1)
        mtsrr1 0
        ld 0, 240(1)
        mtsrr0 0
        ld 0, 232(1)
        mtcr 0
        ld 0, 224(1)
        mtxer 0
        ld 0, 216(1)
        mtctr 0
        ld 0, 208(1)
        mtlr 0
        ld 2, 120(1)
        ld 3, 128(1)
        ld 4, 136(1)
        ld 5, 144(1)
        ld 6, 152(1)
        ld 7, 160(1)
        ld 8, 168(1)
        ld 9, 176(1)
        ld 10, 184(1)
        ld 11, 192(1)
        ld 12, 200(1)
        ld 0, 112(1)
        addi 1, 1, FRAME
        rfid
