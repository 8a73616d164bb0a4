/**
 * The x86_64 PV domain builder: arch-x86's PV builder (pv-builder.ts, Xen's dom0 builder
 * layout) with 64-bit PV's format — 4-level paging, 8-byte p2m entries, LP64 start_info
 * "xen-3.0-x86_64", boot mappings with `_PAGE_USER | _PAGE_GUEST_KERNEL`, the `syscall`
 * hypercall page, entry in ring 3 on FLAT_RING3_CS64.
 *
 * @module
 */
import type { Domain, Machine } from "@hvkit/core";
import {
  buildPvGuest,
  PTE_HI_GUEST_KERNEL,
  PV64_PAGING,
  Pte,
  RO_MPT_VIRT_START,
  Seg,
  X86_64_DATA_MODEL,
  type PvBuildLayout,
  type PvBuildOptions,
  type PvGuestFormat,
  type PvKernelImage,
  type PvMmu,
} from "@hvkit/arch-x86";
import type { PvVcpu } from "./pv-vcpu.js";
import { Rflags, Selector } from "./traps.js";

/** What differs for 64-bit PV guests in the shared builder. */
export const PV64_GUEST: PvGuestFormat = {
  paging: PV64_PAGING,
  dataModel: X86_64_DATA_MODEL,
  startInfoMagic: "xen-3.0-x86_64",
  p2mEntryBytes: 8,
  hypervisorStart: RO_MPT_VIRT_START,
  hypervisorEnd: 0xffff880000000000n,
  // dom0_build.c L1_PROT: ring-3 kernels get _PAGE_USER, kernel pages _PAGE_GUEST_KERNEL.
  l1Flags: Pte.P | Pte.RW | Pte.A | Pte.US,
  l1HiFlags: PTE_HI_GUEST_KERNEL,
  writeHypercallPage,
  enterKernel(cpu) {
    cpu.rflags = Rflags.IF | Rflags.MBS;
    cpu.cpl = 3;
    cpu.sel[Seg.CS] = Selector.CS64;
    cpu.sel[Seg.SS] = Selector.SS;
    cpu.sel[Seg.DS] = cpu.sel[Seg.ES] = cpu.sel[Seg.FS] = cpu.sel[Seg.GS] = 0;
  },
};

/**
 * Builds a 64-bit PV domain into `domain` (which must own no memory yet). Throws
 * ImageError for an image that cannot be laid out.
 */
export function buildPvDomain(
  machine: Machine,
  mmu: PvMmu,
  domain: Domain,
  vcpu: PvVcpu,
  image: PvKernelImage,
  opts: PvBuildOptions,
): PvBuildLayout {
  return buildPvGuest(PV64_GUEST, machine, mmu, domain, vcpu, image, opts);
}

/**
 * Fills a 64-bit PV hypercall page at machine address `pa` (init_hypercall_page): 0xCC
 * everywhere, then 128 stubs of 32 bytes `push %rcx; push %r11; mov $n,%eax; syscall;
 * pop %r11; pop %rcx; ret`, except stub 23 (iret): `push %rcx; push %r11; push %rax;
 * mov $23,%eax; syscall`.
 */
export function writeHypercallPage(mem: Uint8Array, pa: number): void {
  mem.fill(0xcc, pa, pa + 4096);
  for (let n = 0; n < 128; n++) {
    const p = pa + n * 32;
    const stub =
      n === 23
        ? [0x51, 0x41, 0x53, 0x50, 0xb8, n, 0, 0, 0, 0x0f, 0x05]
        : [0x51, 0x41, 0x53, 0xb8, n, 0, 0, 0, 0x0f, 0x05, 0x41, 0x5b, 0x59, 0xc3];
    mem.set(stub, p);
  }
}
