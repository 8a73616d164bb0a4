/*
 * struct-oracle-arch.h (PowerPC) -- the 64-bit PowerPC parts of hvkit's C oracle of the
 * Xen ABI structs (core/scripts/struct-oracle.c includes it; see
 * core/scripts/gen-struct-golden.sh). Compiled with powerpc64-linux-gnu-gcc -m64
 * -mbig-endian; member names match arch-ppc/src/data-model.ts.
 *
 * Written for hvkit from the field lists of xen/include/public/arch-powerpc.h (before its
 * removal from Xen, 1aa3c54a31: the arch parts, cpu_user_regs, vcpu_guest_context) and,
 * for xen_arch_domainconfig, arch-ppc.h of 4.19.
 */
/* PowerPC made every guest handle 8 bytes, pointer in the upper-addressed half. */
typedef struct { int pad_[(sizeof(long long) - sizeof(void *)) / sizeof(int)]; void *p; }
    __attribute__((aligned(8))) o_handle;
typedef unsigned long long o_pfn;
typedef uint64_t o_ulong_x;
typedef unsigned long o_callback;
#define O_LEGACY_VCPUS 32

struct arch_vcpu_info { };
struct arch_shared_info { uint64_t boot_timebase; };
struct xen_arch_domainconfig { };

struct cpu_user_regs {
  uint64_t gprs[32]; uint64_t lr, ctr, srr0, srr1, pc, msr, fpscr, xer, hid4, dar;
  uint32_t dsisr, cr, __pad, entry_vector;
};
struct vcpu_guest_context { struct cpu_user_regs user_regs; uint64_t sdr1; };
