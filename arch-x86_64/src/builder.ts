/**
 * The x86_64 PV domain builder, laid out as Xen's dom0 builder does
 * (xen/arch/x86/pv/dom0_build.c): the kernel image at its virtual addresses, then in
 * order the initial ramdisk (unless the kernel takes it unmapped, by frame number, with
 * XEN_ELFNOTE_MOD_START_PFN: then it follows the mapping), the p2m list (8-byte MFNs),
 * start_info, (domU: xenstore and console pages), the
 * initial 4-level page tables (mapped read-only), one boot-stack page; everything from
 * virt_base to the end of the stack rounded up to 4 MiB (with at least 512 KiB of
 * padding) mapped; the top-level table validated and pinned through the PV MMU; the
 * hypercall page; shared_info with every vcpu_info's upcall mask set; and the boot vCPU's
 * entry registers.
 *
 * @module
 */
import {
  DomainMemoryError,
  ImageError,
  ImageErrorCode,
  SHARED_INFO,
  SIF_INITDOMAIN,
  SIF_MOD_START_PFN,
  SIF_PRIVILEGED,
  START_INFO,
  VcpuState,
  XENCONS_INTERFACE,
  XENCONSOLE_DISCONNECTED,
  type Domain,
  type Machine,
} from "@hvkit/core";
import {
  PageFlag,
  PageType,
  Pte,
  PTE_HI_GUEST_KERNEL,
  shareXenFrame,
  type PvMmu,
  X86_64_DATA_MODEL,
} from "@hvkit/arch-x86";
import { Reg, Seg } from "@hvkit/arch-x86";
import type { PvVcpu } from "./pv-vcpu.js";
import { Rflags, Selector } from "./traps.js";

/** One loadable piece of a kernel image at its final virtual address. */
export interface PvKernelSegment {
  /** Virtual address the segment is loaded at (p_paddr − paddr_offset + virt_base). */
  readonly vaddr: bigint;
  /** File bytes (p_filesz of them). */
  readonly data: Uint8Array;
  /** Size in memory (≥ data.length; the rest is zeroed). */
  readonly memsz: number;
}

/** What the builder needs from a parsed kernel image (the ELF loader's layout). */
export interface PvKernelImage {
  /** Loadable segments at their virtual addresses. */
  readonly segments: readonly PvKernelSegment[];
  /** Entry point (ENTRY note, else e_entry). */
  readonly entry: bigint;
  /** VIRT_BASE (0 when absent: virtual = p_paddr). */
  readonly virtBase: bigint;
  /** HYPERCALL_PAGE note, or null. */
  readonly hypercallPage: bigint | null;
  /** A nonzero MOD_START_PFN note: the ramdisk is left out of the initial mapping. */
  readonly unmappedRamdisk?: boolean;
}

/** Options of one build. */
export interface PvBuildOptions {
  /** Guest pages (nr_pages). */
  readonly nrPages: number;
  /** Kernel command line. */
  readonly cmdline: string;
  /** True for the initial domain. */
  readonly initial: boolean;
  /** domU: the store event channel for start_info.store_evtchn (default 0). */
  readonly storeEvtchn?: number;
  /** domU: the console event channel for start_info.console.domU.evtchn (default 0). */
  readonly consoleEvtchn?: number;
  /** The initial ramdisk's bytes (see `DomainBuildRequest.ramdisk`), or absent. */
  readonly ramdisk?: Uint8Array;
}

/** The addresses the builder chose, for tests and traces. */
export interface PvBuildLayout {
  /** virt_base. */ vStart: bigint;
  /** End of the kernel image (page-rounded). */ vKernelEnd: bigint;
  /** The ramdisk in the initial mapping (0n: none, or unmapped). */ vRamdisk: bigint;
  /** The unmapped ramdisk's first pseudo-physical frame (−1: none, or mapped). */ ramdiskPfn: number;
  /** p2m list. */ vPhysmap: bigint;
  /** start_info. */ vStartInfo: bigint;
  /** domU xenstore page (0n for dom0). */ vXenstore: bigint;
  /** domU console page (0n for dom0). */ vConsole: bigint;
  /** domU: machine frame of the xenstore page (−1 for dom0). */ storeMfn: number;
  /** domU: machine frame of the console page (−1 for dom0). */ consoleMfn: number;
  /** First page-table page. */ vPageTables: bigint;
  /** Number of page-table pages. */ nrPtFrames: number;
  /** Boot stack page. */ vStack: bigint;
  /** End of the mapped area. */ vEnd: bigint;
  /** Machine frame of the L4. */ l4Mfn: number;
}

const PAGE = 4096n;
const MB4 = 1n << 22n;
const HYPERVISOR_VIRT_START = 0xffff800000000000n;
const HYPERVISOR_VIRT_END = 0xffff880000000000n;
/** start_info and shared_info as a 64-bit PV guest sees them (one definition, in core). */
const SI = START_INFO.layout(X86_64_DATA_MODEL);
const SHI = SHARED_INFO.layout(X86_64_DATA_MODEL);
const CONS = XENCONS_INTERFACE.layout(X86_64_DATA_MODEL);

const roundUp = (v: bigint, a: bigint): bigint => (v + a - 1n) & ~(a - 1n);
const nrCover = (lo: bigint, hi: bigint, shift: bigint): bigint =>
  (roundUp(hi, 1n << shift) - (lo & ~((1n << shift) - 1n))) >> shift;

/**
 * Builds a 64-bit PV domain into `domain` (which must own no memory yet). Throws
 * {@link ImageError} for an image that cannot be laid out.
 */
export function buildPvDomain(
  machine: Machine,
  mmu: PvMmu,
  domain: Domain,
  vcpu: PvVcpu,
  image: PvKernelImage,
  opts: PvBuildOptions,
): PvBuildLayout {
  if (image.segments.length === 0)
    throw new ImageError(ImageErrorCode.NoSegments, "program headers", "no loadable segment");
  const nrPages = opts.nrPages;
  const vStart = image.virtBase;
  let kStart = -1n;
  let kEnd = 0n;
  for (const s of image.segments) {
    if (kStart < 0n || s.vaddr < kStart) kStart = s.vaddr;
    const end = s.vaddr + BigInt(s.memsz);
    if (end > kEnd) kEnd = end;
  }
  if (kStart < vStart) {
    throw new ImageError(
      ImageErrorCode.BadAddresses,
      "VIRT_BASE",
      `kernel starts at ${hex(kStart)}, below virt_base ${hex(vStart)}`,
    );
  }
  const vKernelEnd = roundUp(kEnd, PAGE);
  const ramdisk = opts.ramdisk ?? new Uint8Array(0);
  const ramdiskPages = Math.ceil(ramdisk.length / 4096);
  const unmapped = ramdisk.length > 0 && image.unmappedRamdisk === true;
  const vRamdisk = ramdisk.length > 0 && !unmapped ? vKernelEnd : 0n;
  const vPhysmap = vKernelEnd + (vRamdisk === 0n ? 0n : BigInt(ramdiskPages) * PAGE);
  const vPhysmapEnd = vPhysmap + BigInt(nrPages) * 8n;
  const vStartInfo = roundUp(vPhysmapEnd, PAGE);
  let vNext = roundUp(vStartInfo + BigInt(SI.size), PAGE);
  let vXenstore = 0n;
  let vConsole = 0n;
  if (!opts.initial) {
    vXenstore = vNext;
    vConsole = vNext + PAGE;
    vNext += 2n * PAGE;
  }
  const vPageTables = vNext;
  let nrPt = 2;
  let vStack = 0n;
  let vEnd = 0n;
  for (; ; nrPt++) {
    vStack = vPageTables + BigInt(nrPt) * PAGE;
    const vStackEnd = vStack + PAGE;
    vEnd = roundUp(vStackEnd, MB4);
    if (vEnd - vStackEnd < 512n * 1024n) vEnd += MB4;
    const need =
      1n + nrCover(vStart, vEnd, 39n) + nrCover(vStart, vEnd, 30n) + nrCover(vStart, vEnd, 21n);
    if (need <= BigInt(nrPt)) break;
  }
  if (vStart < HYPERVISOR_VIRT_END && vEnd > HYPERVISOR_VIRT_START) {
    throw new ImageError(
      ImageErrorCode.BadAddresses,
      "VIRT_BASE",
      "image overlaps the hypervisor's area 0xffff800000000000-0xffff87ffffffffff",
    );
  }
  const mappedPages = Number((vEnd - vStart) >> 12n);
  if (mappedPages > nrPages) {
    throw new DomainMemoryError(
      "domain memory",
      `the initial mapping needs ${mappedPages} pages (${hex(vStart)}-${hex(vEnd)}) but the domain has ${nrPages}`,
    );
  }
  // An unmapped ramdisk: a domU's right after the mapping (libxc pads the allocation to
  // virt_pgtab_end, then loads it), dom0's in its last pages (dom0_build.c: at
  // domain_tot_pages, after the pages Xen allocated for it).
  const ramdiskPfn = !unmapped ? -1 : opts.initial ? nrPages - ramdiskPages : mappedPages;
  if (unmapped && mappedPages + ramdiskPages > nrPages) {
    throw new DomainMemoryError(
      "domain memory",
      `the initial mapping (${mappedPages} pages) and the ramdisk (${ramdiskPages}) need more than the domain's ${nrPages} pages`,
    );
  }
  const hc = image.hypercallPage;
  if (hc !== null && (hc < kStart || hc + PAGE > vKernelEnd || (hc & (PAGE - 1n)) !== 0n)) {
    throw new ImageError(
      ImageErrorCode.BadHypercallPage,
      "HYPERCALL_PAGE note",
      `${hex(hc)} is not a page-aligned page inside the image ${hex(kStart)}-${hex(kEnd)}`,
    );
  }

  // shared_info: a hypervisor page shared with the domain (allocated first, while memory is free).
  const siFrames = mmu.allocXen(1);
  if (siFrames.length !== 1)
    throw new DomainMemoryError("machine memory", "no frame left for shared_info");
  const si = siFrames[0];
  shareXenFrame(machine.memory, si, domain.id);
  const mfns = machine.allocFrames(domain, nrPages);
  if (!mfns) throw new DomainMemoryError("domain memory", `cannot allocate ${nrPages} pages`);
  const p2m = new Int32Array(nrPages);
  for (let i = 0; i < nrPages; i++) {
    p2m[i] = mfns[i];
    mmu.setM2p(mfns[i], i);
  }
  domain.p2m = p2m;
  const mem = machine.memory;
  const pa = (va: bigint): number => {
    const off = va - vStart;
    return p2m[Number(off >> 12n)] * 4096 + Number(off & 4095n);
  };
  const copyIn = (va: bigint, bytes: Uint8Array): void => {
    for (let i = 0; i < bytes.length;) {
      const n = Math.min(bytes.length - i, 4096 - Number((va + BigInt(i)) & 4095n));
      mem.bytes.set(bytes.subarray(i, i + n), pa(va + BigInt(i)));
      i += n;
    }
  };

  // The image (memsz beyond filesz stays zero: frames come zeroed), then the ramdisk.
  for (const s of image.segments) copyIn(s.vaddr, s.data);
  if (vRamdisk !== 0n) copyIn(vRamdisk, ramdisk);
  for (let i = 0; unmapped && i < ramdiskPages; i++)
    mem.bytes.set(ramdisk.subarray(i * 4096, (i + 1) * 4096), p2m[ramdiskPfn + i] * 4096);

  // p2m list.
  const p2mBytes = new Uint8Array(nrPages * 8);
  const p2mView = new DataView(p2mBytes.buffer);
  for (let i = 0; i < nrPages; i++) p2mView.setBigUint64(i * 8, BigInt(mfns[i]), true);
  copyIn(vPhysmap, p2mBytes);

  // Page tables: page-table pages come from [vPageTables, vPageTables + nrPt pages).
  const ptPfn0 = Number((vPageTables - vStart) >> 12n);
  let nextPt = 0;
  const allocPt = (): number => p2m[ptPfn0 + nextPt++];
  const l4 = allocPt();
  const BASE = Pte.P | Pte.RW | Pte.A | Pte.US;
  const UPPER = BASE | Pte.D;
  const ptLow = vPageTables;
  const ptHigh = vPageTables + BigInt(nrPt) * PAGE;
  let l3 = -1;
  let l2 = -1;
  let l1 = -1;
  for (let va = vStart; va < vEnd; va += PAGE) {
    const i4 = Number((va >> 39n) & 511n);
    const i3 = Number((va >> 30n) & 511n);
    const i2 = Number((va >> 21n) & 511n);
    const i1 = Number((va >> 12n) & 511n);
    if (l3 < 0 || (i3 === 0 && i2 === 0 && i1 === 0)) {
      l3 = allocPt();
      mmu.writeEntry(l4 * 4096 + i4 * 8, l3, UPPER, 0);
    }
    if (l2 < 0 || (i2 === 0 && i1 === 0)) {
      l2 = allocPt();
      mmu.writeEntry(l3 * 4096 + i3 * 8, l2, UPPER, 0);
    }
    if (l1 < 0 || i1 === 0) {
      l1 = allocPt();
      mmu.writeEntry(l2 * 4096 + i2 * 8, l1, UPPER, 0);
    }
    const pfn = Number((va - vStart) >> 12n);
    const ro = va >= ptLow && va < ptHigh;
    mmu.writeEntry(l1 * 4096 + i1 * 8, p2m[pfn], ro ? BASE & ~Pte.RW : BASE, PTE_HI_GUEST_KERNEL);
  }
  if (nextPt > nrPt) throw new Error(`builder bug: used ${nextPt} page-table pages of ${nrPt}`);

  // Type and pin the tables as Xen does for dom0: the L4 pinned, plus the guest_table reference.
  let rc = mmu.getPageAndType(l4, PageType.L4, domain);
  if (rc !== 0) throw new Error(`builder bug: initial page tables do not validate (${rc})`);
  machine.memory.frameTable.flags[l4] |= PageFlag.Pinned;
  rc = mmu.getPageAndType(l4, PageType.L4, domain);
  if (rc !== 0) throw new Error(`builder bug: cannot take the guest_table reference (${rc})`);
  vcpu.guestTable = l4;

  // Hypercall page.
  if (hc !== null) writeHypercallPage(mem.bytes, pa(hc));

  // shared_info: every vcpu_info's upcall mask set.
  domain.sharedInfoMfn = si;
  for (let i = 0; i < X86_64_DATA_MODEL.legacyMaxVcpus; i++)
    SHI.set(mem.view, si * 4096, `vcpu_info.${i}.evtchn_upcall_mask`, 1);

  // domU store and console pages: zeroed frames of the domain; the console ring starts
  // XENCONSOLE_DISCONNECTED until the console daemon connects (xc_dom_console_init).
  const storeMfn = opts.initial ? -1 : p2m[Number((vXenstore - vStart) >> 12n)];
  const consoleMfn = opts.initial ? -1 : p2m[Number((vConsole - vStart) >> 12n)];
  if (consoleMfn >= 0) CONS.set(mem.view, consoleMfn * 4096, "connection", XENCONSOLE_DISCONNECTED);
  // start_info (xc_dom_x86.c start_info_x86_64 for a domU: flags 0, store and console).
  const sip = pa(vStartInfo);
  const dv = mem.view;
  SI.setString(dv, sip, "magic", "xen-3.0-x86_64");
  SI.set(dv, sip, "nr_pages", nrPages);
  SI.set(dv, sip, "shared_info", BigInt(si) * 4096n);
  const flags = opts.initial ? SIF_PRIVILEGED | SIF_INITDOMAIN : 0;
  SI.set(dv, sip, "flags", unmapped ? flags | SIF_MOD_START_PFN : flags);
  if (!opts.initial) {
    SI.set(dv, sip, "store_mfn", BigInt(storeMfn));
    SI.set(dv, sip, "store_evtchn", opts.storeEvtchn ?? 0);
    SI.set(dv, sip, "console.domU.mfn", BigInt(consoleMfn));
    SI.set(dv, sip, "console.domU.evtchn", opts.consoleEvtchn ?? 0);
  }
  SI.set(dv, sip, "pt_base", vPageTables);
  SI.set(dv, sip, "nr_pt_frames", nrPt);
  SI.set(dv, sip, "mfn_list", vPhysmap);
  if (ramdisk.length > 0) {
    // dom0_build.c: the exact length; libxc: the segment's, a whole number of pages.
    SI.set(dv, sip, "mod_start", unmapped ? BigInt(ramdiskPfn) : vRamdisk);
    SI.set(dv, sip, "mod_len", opts.initial ? ramdisk.length : ramdiskPages * 4096);
  }
  const cmd = new TextEncoder().encode(opts.cmdline).subarray(0, SI.sizeOf("cmd_line") - 1);
  mem.bytes.set(cmd, sip + SI.offsetOf("cmd_line"));
  SI.set(dv, sip, "first_p2m_pfn", nrPages);
  SI.set(dv, sip, "nr_p2m_frames", 0);

  // Entry state.
  const cpu = vcpu.cpu;
  for (let r = 0; r < 16; r++) cpu.setReg(r as Reg, 0n);
  cpu.rip = image.entry;
  cpu.setReg(Reg.RSI, vStartInfo);
  cpu.setReg(Reg.RSP, vStack + PAGE);
  cpu.rflags = Rflags.IF | Rflags.MBS;
  cpu.cpl = 3;
  cpu.sel[Seg.CS] = Selector.CS64;
  cpu.sel[Seg.SS] = Selector.SS;
  cpu.sel[Seg.DS] = cpu.sel[Seg.ES] = cpu.sel[Seg.FS] = cpu.sel[Seg.GS] = 0;
  vcpu.kernelMode = true;
  vcpu.loadCr3();
  cpu.flushTlb();
  machine.arch.onMemoryWritten?.(machine, 0, mem.size);
  vcpu.vcpu.state = VcpuState.Runnable;

  return {
    vStart,
    vKernelEnd,
    vRamdisk,
    ramdiskPfn,
    vPhysmap,
    vStartInfo,
    vXenstore,
    vConsole,
    storeMfn,
    consoleMfn,
    vPageTables,
    nrPtFrames: nrPt,
    vStack,
    vEnd,
    l4Mfn: l4,
  };
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

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}
