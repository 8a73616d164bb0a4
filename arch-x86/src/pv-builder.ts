/**
 * The x86 PV domain builder, shared by 64-bit PV and 32-bit PAE PV (compat) guests and
 * laid out as Xen's dom0 builder does (xen/arch/x86/pv/dom0_build.c): the kernel image
 * at its virtual addresses, then in order the p2m list (8-byte MFNs, 4-byte for compat
 * guests), start_info, (domU: xenstore and console pages), the initial page tables
 * (mapped read-only), one boot-stack page; everything from virt_base to the end of the
 * stack rounded up to 4 MiB (with at least 512 KiB of padding) mapped; the top-level
 * table (an L4, or a compat guest's L3 with all four slots filled) validated and pinned
 * through the PV MMU; the hypercall page; shared_info with every vcpu_info's upcall mask
 * set; and the boot vCPU's entry registers. What differs between the two kinds is a
 * {@link PvGuestFormat}. An initial ramdisk follows the image in the mapping, unless the
 * kernel takes it unmapped, by frame number (XEN_ELFNOTE_MOD_START_PFN): then it follows
 * the mapping.
 *
 * @module
 */
import {
  computeLoadLayout,
  FRAME_FREE,
  freeReleasedFrame,
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
  type DataModel,
  type Domain,
  type ElfImage,
  type Machine,
  type Vcpu,
} from "@hvkit/core";
import { Reg, type X86CpuApi } from "./cpu-api.js";
import { X86Cpu } from "./cpu.js";
import { decodeInsn } from "./decode.js";
import { resolveOperands } from "./decode-cache.js";
import type { PvArchTypes } from "./pv-mm-hypercalls.js";
import {
  claimXenFrames,
  PageFlag,
  PageType,
  PvMmu,
  shareXenFrame,
  type PvPagingFormat,
  type TlbControl,
} from "./pv-mmu.js";

/** What differs between the PV guest kinds the builder lays out. */
export interface PvGuestFormat {
  /** Paging: 4 levels (64-bit PV) or 3 (PAE, root an L3 of 4 used entries). */
  readonly paging: PvPagingFormat;
  /** The layouts start_info, shared_info and the console ring have for these guests. */
  readonly dataModel: DataModel;
  /** start_info.magic ("xen-3.0-x86_64", "xen-3.0-x86_32p"). */
  readonly startInfoMagic: string;
  /** Bytes of one p2m list entry (sizeof(unsigned long) of the guest). */
  readonly p2mEntryBytes: 4 | 8;
  /** The hypervisor's range of the guest's address space [start, end), refused to the image. */
  readonly hypervisorStart: bigint;
  /** End of the hypervisor's range. */
  readonly hypervisorEnd: bigint;
  /** Low flag bits of the boot mapping's L1 entries (L1_PROT or COMPAT_L1_PROT). */
  readonly l1Flags: number;
  /** High-word flag bits of the boot mapping's L1 entries (`_PAGE_GUEST_KERNEL` for 64-bit). */
  readonly l1HiFlags: number;
  /** Fills the hypercall page at machine address `pa` (init_hypercall_page). */
  writeHypercallPage(mem: Uint8Array, pa: number): void;
  /** Puts the CPU in the guest kernel's mode: privilege level, selectors, rflags. */
  enterKernel(cpu: X86CpuApi): void;
}

/** What the builder needs of the boot vCPU. */
export interface PvBootVcpu {
  /** The interpreter. */
  readonly cpu: X86CpuApi;
  /** The core vCPU. */
  readonly vcpu: Vcpu;
  /** Guest kernel mode (TF_kernel_mode). */
  kernelMode: boolean;
  /** The top-level page table the guest runs on (guest_table), −1 none. */
  guestTable: number;
  /** Loads the page-table base of the current mode into the CPU. */
  loadCr3(): void;
}

/** Turns the ELF loader's image into the builder's view of it (plugins take one to test with). */
export type KernelImageAdapter = (image: ElfImage, memoryBytes: number) => PvKernelImage;

/** The ELF loader's load layout as the builder wants it (libelf's address calculation and checks). */
export function pvKernelImage(image: ElfImage, memoryBytes: number): PvKernelImage {
  const layout = computeLoadLayout(image, { memoryBytes, pageSize: 4096, requiresXenNotes: true });
  const t = layout.symbolTable;
  return {
    segments: [
      ...layout.segments.map((s) => ({
        vaddr: s.virtualAddress,
        data: s.data,
        memsz: Number(s.memSize),
      })),
      // BSD_SYMTAB: libelf loads the symbol table after the image, part of the kernel.
      ...(t !== undefined
        ? [{ vaddr: t.virtualAddress, data: t.data, memsz: Number(t.memSize) }]
        : []),
    ],
    entry: layout.entry,
    virtBase: layout.virtBase,
    hypercallPage: layout.hypercallPage ?? null,
    unmappedRamdisk: (image.xen.modStartPfn ?? 0n) !== 0n,
  };
}

/**
 * Pages Xen gives the initial domain when no dom0_mem is set: all free memory minus a
 * reserve of 1/16 of it, at most 128 MiB, kept for the hypervisor (dom0_build.c
 * default_nr_pages).
 */
export function defaultDom0Pages(freeFrames: number): number {
  return freeFrames - Math.min(Math.floor(freeFrames / 16), 32768);
}

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
  /** Machine frame of the pinned top-level table (L4, or a compat guest's L3). */ rootMfn: number;
}

const PAGE = 4096n;
const MB4 = 1n << 22n;
/** Boot mapping flags of L2–L4 entries (dom0_build.c L2_PROT..L4_PROT: P, RW, US, A, D). */
const UPPER_PROT = 0x67;
/** _PAGE_RW. */
const RW = 0x2;

const roundUp = (v: bigint, a: bigint): bigint => (v + a - 1n) & ~(a - 1n);
const nrCover = (lo: bigint, hi: bigint, shift: bigint): bigint =>
  (roundUp(hi, 1n << shift) - (lo & ~((1n << shift) - 1n))) >> shift;

/**
 * Builds a PV domain of kind `format` into `domain` (which must own no memory yet).
 * Throws {@link ImageError} for an image that cannot be laid out, DomainMemoryError when
 * it does not fit.
 */
export function buildPvGuest(
  format: PvGuestFormat,
  machine: Machine,
  mmu: PvMmu,
  domain: Domain,
  vcpu: PvBootVcpu,
  image: PvKernelImage,
  opts: PvBuildOptions,
): PvBuildLayout {
  if (image.segments.length === 0)
    throw new ImageError(ImageErrorCode.NoSegments, "program headers", "no loadable segment");
  const SI = START_INFO.layout(format.dataModel);
  const SHI = SHARED_INFO.layout(format.dataModel);
  const CONS = XENCONS_INTERFACE.layout(format.dataModel);
  const levels = format.paging.levels;
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
  const vPhysmapEnd = vPhysmap + BigInt(nrPages * format.p2mEntryBytes);
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
    // dom0_build.c: an L4, the L3s, the L2s (a compat L3's four), the L1s.
    const need =
      levels === 4
        ? 1n + nrCover(vStart, vEnd, 39n) + nrCover(vStart, vEnd, 30n) + nrCover(vStart, vEnd, 21n)
        : nrCover(vStart, vEnd, 39n) + 4n + nrCover(vStart, vEnd, 21n);
    if (need <= BigInt(nrPt)) break;
  }
  if (vStart < format.hypervisorEnd && vEnd > format.hypervisorStart) {
    throw new ImageError(
      ImageErrorCode.BadAddresses,
      "VIRT_BASE",
      `image overlaps the hypervisor's area ${hex(format.hypervisorStart)}-${hex(format.hypervisorEnd - 1n)}`,
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
  const p2mBytes = new Uint8Array(nrPages * format.p2mEntryBytes);
  const p2mView = new DataView(p2mBytes.buffer);
  for (let i = 0; i < nrPages; i++) {
    if (format.p2mEntryBytes === 8) p2mView.setBigUint64(i * 8, BigInt(mfns[i]), true);
    else p2mView.setUint32(i * 4, mfns[i], true);
  }
  copyIn(vPhysmap, p2mBytes);

  // Page tables, from [vPageTables, vPageTables + nrPt pages): the root first, then each
  // lower table as the walk over the mapped range first needs it (tables[level]).
  const ptPfn0 = Number((vPageTables - vStart) >> 12n);
  let nextPt = 0;
  const allocPt = (): number => p2m[ptPfn0 + nextPt++];
  const root = allocPt();
  const ptLow = vPageTables;
  const ptHigh = vPageTables + BigInt(nrPt) * PAGE;
  const tables = [-1, -1, -1, -1, -1];
  tables[levels] = root;
  const index = (va: bigint, level: number): number =>
    Number((va >> BigInt(12 + 9 * (level - 1))) & 511n);
  for (let va = vStart; va < vEnd; va += PAGE) {
    for (let level = levels - 1; level >= 1; level--) {
      const span = 1n << BigInt(12 + 9 * level);
      if (tables[level] >= 0 && va % span !== 0n) continue;
      tables[level] = allocPt();
      mmu.writeEntry(
        tables[level + 1] * 4096 + index(va, level + 1) * 8,
        tables[level],
        UPPER_PROT,
        0,
      );
    }
    const pfn = Number((va - vStart) >> 12n);
    const ro = va >= ptLow && va < ptHigh;
    const flags = ro ? format.l1Flags & ~RW : format.l1Flags;
    mmu.writeEntry(tables[1] * 4096 + index(va, 1) * 8, p2m[pfn], flags, format.l1HiFlags);
  }
  if (levels === 3) {
    // A compat L3's four entries all present: Xen's L2 goes in slot 3 (dom0_build.c).
    for (let i = 0; i < 4; i++) {
      if (mmu.readEntryLo(root * 4096 + i * 8) === 0)
        mmu.writeEntry(root * 4096 + i * 8, allocPt(), UPPER_PROT, 0);
    }
  }
  if (nextPt > nrPt) throw new Error(`builder bug: used ${nextPt} page-table pages of ${nrPt}`);

  // Type and pin the tables as Xen does for dom0: the root pinned, plus the guest_table reference.
  const rootType = levels === 4 ? PageType.L4 : PageType.L3;
  let rc = mmu.getPageAndType(root, rootType, domain);
  if (rc !== 0) throw new Error(`builder bug: initial page tables do not validate (${rc})`);
  machine.memory.frameTable.flags[root] |= PageFlag.Pinned;
  rc = mmu.getPageAndType(root, rootType, domain);
  if (rc !== 0) throw new Error(`builder bug: cannot take the guest_table reference (${rc})`);
  vcpu.guestTable = root;

  // Hypercall page.
  if (hc !== null) format.writeHypercallPage(mem.bytes, pa(hc));

  // shared_info: every vcpu_info's upcall mask set.
  domain.sharedInfoMfn = si;
  for (let i = 0; i < format.dataModel.legacyMaxVcpus; i++)
    SHI.set(mem.view, si * 4096, `vcpu_info.${i}.evtchn_upcall_mask`, 1);

  // domU store and console pages: zeroed frames of the domain; the console ring starts
  // XENCONSOLE_DISCONNECTED until the console daemon connects (xc_dom_console_init).
  const storeMfn = opts.initial ? -1 : p2m[Number((vXenstore - vStart) >> 12n)];
  const consoleMfn = opts.initial ? -1 : p2m[Number((vConsole - vStart) >> 12n)];
  if (consoleMfn >= 0) CONS.set(mem.view, consoleMfn * 4096, "connection", XENCONSOLE_DISCONNECTED);
  // start_info (xc_dom_x86.c start_info_x86_{64,32} for a domU: flags 0, store and console).
  const sip = pa(vStartInfo);
  const dv = mem.view;
  SI.setString(dv, sip, "magic", format.startInfoMagic);
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
  format.enterKernel(cpu);
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
    rootMfn: root,
  };
}

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

/**
 * The PV MMU of `machine` for guests of `format`, kept coherent with the CPUs of its
 * domains' vCPUs (a vCPU is in `d.vcpus` once created but gets `arch` just after: skipped
 * until then), taking hypervisor frames from the machine's allocator. Every x86 PV plugin
 * makes its machines' MMUs with it.
 */
export function createMachinePvMmu<A extends PvArchTypes>(
  machine: Machine<A>,
  format: PvPagingFormat,
): PvMmu {
  const tlb: TlbControl<A> = {
    flushAll: (d) => {
      for (const v of d.vcpus) v.arch?.cpu.flushTlb();
    },
    flushVa: (d, va) => {
      for (const v of d.vcpus) v.arch?.cpu.invlpg(va);
    },
    invalidateCode: (pa, len) => invalidateCodeEverywhere(machine, pa, len),
  };
  const alloc = (n: number): number[] => {
    const mm = machine as Machine<A> & { allocXenFrames?: (count: number) => number[] | null };
    return mm.allocXenFrames?.(n) ?? claimXenFrames(machine.memory, n);
  };
  return new PvMmu(
    machine.memory,
    format,
    tlb,
    alloc,
    (mfn) => freeReleasedFrame(machine, mfn),
    machine.config.pvLinearPt,
  );
}

/** Drops every vCPU's cached decodings of machine bytes `[pa, pa+len)` (ArchPlugin.onMemoryWritten). */
export function invalidateCodeEverywhere<A extends PvArchTypes>(
  machine: Machine<A>,
  pa: number,
  len: number,
): void {
  for (const d of machine.domains.values()) {
    for (const v of d.vcpus) v.arch?.cpu.invalidateCode(pa, len);
  }
}

/**
 * The pages a new PV domain gets: its max_pages, else all free memory; for the initial
 * domain at most {@link defaultDom0Pages}.
 */
export function pvDomainPages(machine: Machine, domain: Domain, initial: boolean): number {
  const ft = machine.memory.frameTable;
  let free = 0;
  for (let f = 0; f < ft.frames; f++) if (ft.owner[f] === FRAME_FREE) free++;
  const nrPages = domain.maxPages > 0 ? domain.maxPages : free;
  return initial ? Math.min(nrPages, defaultDom0Pages(free)) : nrPages;
}

/** The x86 CPU model over the machine's memory, with the arch-x86 decoder (one per vCPU). */
export function createX86Cpu(machine: Machine): X86Cpu {
  return new X86Cpu(machine.memory, decodeInsn, resolveOperands);
}
