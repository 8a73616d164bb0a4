/*
 * Execution oracle harness for gen-exec-corpus.ts: runs instruction sequences natively on
 * this x86_64 host and reports the final registers, RFLAGS and scratch buffer.
 *
 * Input (stdin), repeated: u32 code length, code bytes, u64 regs[16] (rax..r15, encoding
 * order), u64 rflags, u8 buf[BUF_SIZE], u8 fx[512] (an FXSAVE64 image: x87/MMX, MXCSR and
 * XMM0-15, loaded with fxrstor64 before the sequence). Output (stdout), per case: u8 status
 * (0 ran, else the signal number), u64 regs[16], u64 rflags, u8 buf[BUF_SIZE], u8 fx[512]
 * (fxsave64 right after the sequence), u64 rip. After a SIGFPE (an unmasked SIMD
 * floating-point exception, #XM) the registers, RFLAGS, FXSAVE image and rip are those the
 * kernel saved at the fault; otherwise rip is 0.
 *
 * The code runs at CODE_ADDR and the buffer lives at DATA_ADDR (fixed addresses, so
 * pointers in registers mean the same in the emulator). The sequence is followed by an
 * absolute `jmp *0(%rip)` back to `exec_return`, which stores every register without
 * touching the test's stack or flags first.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#define CODE_ADDR 0x100000UL
#define DATA_ADDR 0x200000UL
#define BUF_SIZE 256

uint64_t g_in[17], g_out[17], g_host_rsp, g_target;
uint8_t g_fxin[512] __attribute__((aligned(64))), g_fxout[512] __attribute__((aligned(64)));
extern void exec_enter(void);
extern char exec_return[];

__asm__(
    ".text\n"
    ".globl exec_enter\n"
    "exec_enter:\n"
    "  push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
    "  mov %rsp, g_host_rsp(%rip)\n"
    "  fxrstor64 g_fxin(%rip)\n"
    "  pushq g_in+128(%rip); popfq\n"
    "  mov g_in+0(%rip), %rax\n  mov g_in+8(%rip), %rcx\n  mov g_in+16(%rip), %rdx\n"
    "  mov g_in+24(%rip), %rbx\n  mov g_in+40(%rip), %rbp\n  mov g_in+48(%rip), %rsi\n"
    "  mov g_in+56(%rip), %rdi\n  mov g_in+64(%rip), %r8\n  mov g_in+72(%rip), %r9\n"
    "  mov g_in+80(%rip), %r10\n  mov g_in+88(%rip), %r11\n  mov g_in+96(%rip), %r12\n"
    "  mov g_in+104(%rip), %r13\n  mov g_in+112(%rip), %r14\n  mov g_in+120(%rip), %r15\n"
    "  mov g_in+32(%rip), %rsp\n"
    "  jmp *g_target(%rip)\n"
    ".globl exec_return\n"
    "exec_return:\n"
    "  mov %rax, g_out+0(%rip)\n  mov %rcx, g_out+8(%rip)\n  mov %rdx, g_out+16(%rip)\n"
    "  mov %rbx, g_out+24(%rip)\n  mov %rsp, g_out+32(%rip)\n  mov %rbp, g_out+40(%rip)\n"
    "  mov %rsi, g_out+48(%rip)\n  mov %rdi, g_out+56(%rip)\n  mov %r8, g_out+64(%rip)\n"
    "  mov %r9, g_out+72(%rip)\n  mov %r10, g_out+80(%rip)\n  mov %r11, g_out+88(%rip)\n"
    "  mov %r12, g_out+96(%rip)\n  mov %r13, g_out+104(%rip)\n  mov %r14, g_out+112(%rip)\n"
    "  mov %r15, g_out+120(%rip)\n"
    "  fxsave64 g_fxout(%rip)\n"
    "  fnclex\n"
    "  emms\n"
    "  mov g_host_rsp(%rip), %rsp\n"
    "  pushfq; popq g_out+128(%rip)\n"
    "  cld\n"
    "  pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
    "  ret\n");

static sigjmp_buf g_jmp;
static volatile int g_sig;

static uint64_t g_rip;

static void on_signal(int sig, siginfo_t *si, void *ctx) {
  (void)si;
  g_sig = sig;
  if (sig == SIGFPE) {
    ucontext_t *uc = ctx;
    static const int order[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                  REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                  REG_R12, REG_R13, REG_R14, REG_R15};
    for (int i = 0; i < 16; i++) g_out[i] = (uint64_t)uc->uc_mcontext.gregs[order[i]];
    g_out[16] = (uint64_t)uc->uc_mcontext.gregs[REG_EFL];
    g_rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    memcpy(g_fxout, uc->uc_mcontext.fpregs, 512);
  }
  siglongjmp(g_jmp, 1);
}

static int read_full(void *p, size_t n) { return fread(p, 1, n, stdin) == n; }

int main(void) {
  uint8_t *code = mmap((void *)CODE_ADDR, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  uint8_t *data = mmap((void *)DATA_ADDR, 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (code != (void *)CODE_ADDR || data != (void *)DATA_ADDR) {
    perror("mmap");
    return 2;
  }
  static uint8_t altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_ONSTACK | SA_NODEFER | SA_SIGINFO;
  int sigs[] = {SIGSEGV, SIGFPE, SIGILL, SIGBUS, SIGTRAP};
  for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaction(sigs[i], &sa, NULL);

  uint32_t len;
  while (read_full(&len, 4)) {
    if (len > 4000) return 3;
    memset(code, 0xcc, 4096);
    if (!read_full(code, len) || !read_full(g_in, sizeof g_in) || !read_full(data, BUF_SIZE) ||
        !read_full(g_fxin, sizeof g_fxin))
      return 3;
    /* jmp *0(%rip); .quad exec_return */
    uint8_t *t = code + len;
    t[0] = 0xff; t[1] = 0x25; t[2] = t[3] = t[4] = t[5] = 0;
    uint64_t ret = (uint64_t)exec_return;
    memcpy(t + 6, &ret, 8);
    __builtin___clear_cache((char *)code, (char *)code + 4096);
    g_target = CODE_ADDR;
    g_sig = 0;
    g_rip = 0;
    if (sigsetjmp(g_jmp, 1) == 0) exec_enter();
    uint8_t status = (uint8_t)g_sig;
    fwrite(&status, 1, 1, stdout);
    fwrite(g_out, sizeof g_out, 1, stdout);
    fwrite(data, BUF_SIZE, 1, stdout);
    fwrite(g_fxout, sizeof g_fxout, 1, stdout);
    fwrite(&g_rip, 8, 1, stdout);
  }
  return 0;
}
