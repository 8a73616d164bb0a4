/*
 * struct-oracle-arch.h (x86) -- the x86 parts of hvkit's C oracle of the Xen ABI structs
 * (core/scripts/struct-oracle.c includes it; see core/scripts/gen-struct-golden.sh).
 * Compiled with gcc -m32 for the x86_32 data model and -m64 for x86_64; member names match
 * arch-x86/src/abi.ts.
 *
 * Written for hvkit from the field lists of xen/include/public/arch-x86/xen.h,
 * xen-x86_32.h and xen-x86_64.h (RELEASE-4.19.0), and xen/arch/x86/include/asm/e820.h.
 */
typedef struct { void *p; } o_handle;
typedef unsigned long o_pfn;
typedef unsigned long o_ulong_x;
#if defined(__i386__)
typedef struct { unsigned long cs; unsigned long eip; } o_callback;
#define O_WC_SEC_HI_IN_ARCH 1
#else
typedef unsigned long o_callback;
#endif
#define O_LEGACY_VCPUS 32

#if defined(__i386__)
struct arch_vcpu_info { unsigned long cr2; unsigned long pad[5]; };
#else
struct arch_vcpu_info { unsigned long cr2; unsigned long pad[1]; };
#endif
struct arch_shared_info {
  unsigned long max_pfn; o_pfn pfn_to_mfn_frame_list_list; unsigned long nmi_reason;
  unsigned long p2m_cr3, p2m_vaddr, p2m_generation;
#if defined(__i386__)
  uint32_t wc_sec_hi;
#endif
};
struct xen_arch_domainconfig { uint32_t emulation_flags, misc_flags; };

struct trap_info { uint8_t vector, flags; uint16_t cs; unsigned long address; };
#if defined(__i386__)
struct cpu_user_regs {
  uint32_t ebx, ecx, edx, esi, edi, ebp, eax; uint16_t error_code, entry_vector;
  uint32_t eip; uint16_t cs; uint8_t saved_upcall_mask, _pad0; uint32_t eflags, esp;
  uint16_t ss, _pad1, es, _pad2, ds, _pad3, fs, _pad4, gs, _pad5;
};
#else
struct cpu_user_regs {
  uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi;
  uint32_t error_code, entry_vector; uint64_t rip;
  uint16_t cs, _pad0[1]; uint8_t saved_upcall_mask, _pad1[3]; uint64_t rflags, rsp;
  uint16_t ss, _pad2[3]; uint16_t es, _pad3[3]; uint16_t ds, _pad4[3];
  uint16_t fs, _pad5[3]; uint16_t gs, _pad6[3];
};
#endif
struct vcpu_guest_context {
  uint8_t fpu_ctxt[512]; unsigned long flags; struct cpu_user_regs user_regs;
  struct trap_info trap_ctxt[256]; unsigned long ldt_base, ldt_ents;
  unsigned long gdt_frames[16], gdt_ents; unsigned long kernel_ss, kernel_sp;
  unsigned long ctrlreg[8], debugreg[8];
#if defined(__i386__)
  unsigned long event_callback_cs, event_callback_eip, failsafe_callback_cs, failsafe_callback_eip;
#else
  unsigned long event_callback_eip, failsafe_callback_eip, syscall_callback_eip;
#endif
  unsigned long vm_assist;
#if !defined(__i386__)
  uint64_t fs_base, gs_base_kernel, gs_base_user;
#endif
};
#if !defined(__i386__)
struct iret_context { uint64_t rax, r11, rcx, flags, rip, cs, rflags, rsp, ss; };
#endif
struct e820entry { uint64_t addr, size; uint32_t type; } __attribute__((packed));
