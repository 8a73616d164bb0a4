/*
 * What the rt.h of both x86 PV guest kinds (x86_64, 32-bit x86) give the common C alike,
 * included by each after its page-table and M2P declarations: the arch facts the C
 * tests for, how it reaches the frames start_info names, and the TSC.
 */
#ifndef HVKIT_RT_X86_PV_H
#define HVKIT_RT_X86_PV_H

/* The guest has PV page tables Xen validates (cr3, update_va_mapping): C that checks them tests this. */
#define ARCH_PV_PAGE_TABLES 1

/* The domain has a memory map Xen keeps (the e820 of XENMEM_memory_map, set_memory_map). */
#define ARCH_MEMORY_MAP 1

/* The address of a frame start_info names: a machine frame, through the M2P. */
static inline void *boot_frame_va(unsigned long mfn) { return (void *)(machine_to_phys_mapping[mfn] << 12); }

/* Unmaps the guest page at `va` (before giving its frame away: a PV frame must be unmapped). */
static inline void unmap_page(void *va) { HYPERCALL(HC_update_va_mapping, va, 0, UVMF_INVLPG, 0, 0); }

/* The counter vcpu_time_info scales (rt-common.h's vcpu_time_now): the TSC. */
static inline u64 time_counter(void)
{
    u32 lo, hi;
    asm volatile ("rdtsc" : "=a" (lo), "=d" (hi));
    return ((u64)hi << 32) | lo;
}

#endif
