/**
 * The GDT and LDT a 64-bit PV vCPU runs with, as Xen gives them to the CPU: the guest's
 * frames (set_gdt) in the first 14 pages, Xen's own descriptors in page 14
 * (FIRST_RESERVED_GDT_PAGE: the flat selectors of xen-x86_64.h, xen/arch/x86/desc.c
 * `boot_gdt`), zero pages elsewhere (pv_destroy_gdt maps `zero_page`), a GDT limit
 * covering all 16 pages; the LDT at the linear base and entry count of MMUEXT_SET_LDT
 * (no LDT when the count is 0).
 *
 * @module
 */
import type { X86CpuApi } from "@hvkit/arch-x86";

/** GDT page holding Xen's descriptors (FIRST_RESERVED_GDT_PAGE). */
export const FIRST_RESERVED_GDT_PAGE = 14;

/**
 * Xen's reserved descriptors for 64-bit PV guests, by selector (desc.c boot_gdt, Xen
 * 4.19): hypervisor code and data, FLAT_RING3_CS32, FLAT_RING3_DS32 (also SS),
 * FLAT_RING3_CS64, and the per-CPU entry (limit = CPU number). The TSS and LDT
 * descriptors Xen keeps at 0xe040/0xe050 are system descriptors of DPL 0, which no guest
 * instruction can use; they read as empty here.
 */
export const XEN_GDT: readonly (readonly [selector: number, lo: number, hi: number])[] = [
  [0xe008, 0x0000ffff, 0x00af9b00],
  [0xe010, 0x0000ffff, 0x00cf9300],
  [0xe023, 0x0000ffff, 0x00cffb00],
  [0xe02b, 0x0000ffff, 0x00cff300],
  [0xe033, 0x0000ffff, 0x00affb00],
  [0xe060, 0x00000000, 0x00009100],
];

/** Installs Xen's reserved GDT page in `cpu`'s tables and turns descriptor checking on. */
export function installXenGdt(cpu: X86CpuApi): void {
  const t = cpu.tables;
  t.reservedPage = FIRST_RESERVED_GDT_PAGE;
  t.reserved.fill(0);
  for (const [sel, lo, hi] of XEN_GDT) {
    const i = ((sel >>> 3) & 511) * 2;
    t.reserved[i] = lo;
    t.reserved[i + 1] = hi;
  }
  t.gdtEntries = 8192;
  t.enabled = true;
}

/**
 * Points `cpu`'s tables at the guest's GDT frames and LDT (after set_gdt, MMUEXT_SET_LDT
 * or a context load).
 */
export function loadGuestDescriptorTables(
  cpu: X86CpuApi,
  gdtFrames: readonly number[],
  ldtBase: bigint,
  ldtEntries: number,
): void {
  const t = cpu.tables;
  for (let i = 0; i < FIRST_RESERVED_GDT_PAGE; i++) t.gdtFrames[i] = gdtFrames[i] ?? -1;
  t.ldtBaseLo = Number(BigInt.asIntN(32, ldtBase));
  t.ldtBaseHi = Number(BigInt.asIntN(32, ldtBase >> 32n));
  t.ldtEntries = ldtEntries;
}
