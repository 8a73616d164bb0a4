/**
 * The x86_64 PV domain builder against Xen's dom0 builder rules: the order and placement
 * of the p2m list, start_info, page tables and boot stack; what is mapped (and how);
 * start_info's fields; the entry registers; page types and the pinned L4; the hypercall
 * page; and typed errors for images that cannot be laid out.
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { container } from "tsyringe";
import {
  bootDomU,
  bootInitialDomain,
  buildElf,
  computeLoadLayout,
  createMachine,
  EM_X86_64,
  parseElf,
  standardXenNotes,
  XenElfNote,
  PortState,
  XENCONS_INTERFACE,
  DomainMemoryError,
  ImageError,
  ImageErrorCode,
  RecordingConsoleSink,
  type Domain,
} from "@hvkit/core";
import {
  PageFlag,
  PageType,
  Pte,
  pvKernelImage,
  Reg,
  Seg,
  X86_64_DATA_MODEL,
} from "@hvkit/arch-x86";
import { gzipSync } from "node:zlib";
import { buildPvDomain, writeHypercallPage } from "./builder.js";
import { X86_64PvPlugin, type PvDomainState } from "./plugin.js";
import type { PvVcpu } from "./pv-vcpu.js";

const HELLO = new URL("../../conformance/guests/x86_64/bin/hello.elf", import.meta.url);

function boot(memoryMiB = 32, dom0Pages?: number) {
  const plugin = new X86_64PvPlugin();
  const machine = createMachine(container.createChildContainer(), {
    arch: plugin,
    memoryMiB,
    console: new RecordingConsoleSink(),
  });
  const domain = bootInitialDomain(machine, readFileSync(HELLO), {
    cmdline: "console=hvc0 loglevel=9",
    ...(dom0Pages !== undefined ? { maxPages: dom0Pages } : {}),
  });
  const v = domain.vcpus[0].arch;
  const layout = domain.arch.layout!;
  return { plugin, machine, domain, v, layout, mmu: plugin.mmu(machine) };
}

const nr = (lo: bigint, hi: bigint, shift: bigint): bigint => {
  const a = 1n << shift;
  return (((hi + a - 1n) & ~(a - 1n)) - (lo & ~(a - 1n))) >> shift;
};

function readVa(d: Domain, v: PvVcpu, va: bigint, size: 1 | 4 | 8): bigint {
  const pa = v.translate(va, false);
  expect(pa).toBeGreaterThanOrEqual(0);
  const view = v.machine.memory.view;
  void d;
  return size === 8
    ? view.getBigUint64(pa, true)
    : BigInt(size === 4 ? view.getUint32(pa, true) : view.getUint8(pa));
}

describe("x86_64 PV domain builder", () => {
  it("lays out image, p2m, start_info, page tables and stack as Xen's dom0 builder does", () => {
    const { layout, domain } = boot();
    const P = 4096n;
    const up = (x: bigint): bigint => (x + P - 1n) & ~(P - 1n);
    const nrPages = BigInt(domain.p2m.length);
    expect(layout.vStart).toBe(0n); // no VIRT_BASE
    expect(layout.vKernelEnd).toBe(0x106000n);
    expect(layout.vPhysmap).toBe(layout.vKernelEnd);
    expect(layout.vStartInfo).toBe(up(layout.vPhysmap + nrPages * 8n));
    expect(layout.vPageTables).toBe(up(layout.vStartInfo + 1168n));
    expect(layout.vStack).toBe(layout.vPageTables + BigInt(layout.nrPtFrames) * P);
    expect(layout.vEnd % (1n << 22n)).toBe(0n);
    expect(layout.vEnd - (layout.vStack + P)).toBeGreaterThanOrEqual(512n * 1024n);
    const need = (end: bigint): bigint =>
      1n + nr(0n, end, 39n) + nr(0n, end, 30n) + nr(0n, end, 21n);
    expect(need(layout.vEnd)).toBeLessThanOrEqual(BigInt(layout.nrPtFrames));
    // Xen gives dom0 all free memory but a reserve of 1/16 (at most 128 MiB).
    expect(domain.totPages).toBe(domain.p2m.length);
    expect(domain.p2m.length).toBeLessThan((32 * 256 * 15) / 16 + 1);
  });

  it("fills start_info with the layout, the flags of the initial domain and the command line", () => {
    const { layout, domain, v } = boot();
    const si = layout.vStartInfo;
    const magic = Array.from({ length: 15 }, (_, i) =>
      Number(readVa(domain, v, si + BigInt(i), 1)),
    );
    expect(String.fromCharCode(...magic)).toBe("xen-3.0-x86_64\0");
    expect(readVa(domain, v, si + 32n, 8)).toBe(BigInt(domain.p2m.length));
    expect(readVa(domain, v, si + 40n, 8)).toBe(BigInt(domain.sharedInfoMfn) * 4096n);
    expect(readVa(domain, v, si + 48n, 4)).toBe(3n); // SIF_PRIVILEGED | SIF_INITDOMAIN
    expect(readVa(domain, v, si + 56n, 8)).toBe(0n); // dom0: no store page
    expect(readVa(domain, v, si + 72n, 8)).toBe(0n); // dom0: no VGA console info
    expect(readVa(domain, v, si + 88n, 8)).toBe(layout.vPageTables);
    expect(readVa(domain, v, si + 96n, 8)).toBe(BigInt(layout.nrPtFrames));
    expect(readVa(domain, v, si + 104n, 8)).toBe(layout.vPhysmap);
    const cmd = Array.from({ length: 24 }, (_, i) =>
      Number(readVa(domain, v, si + 128n + BigInt(i), 1)),
    );
    expect(String.fromCharCode(...cmd)).toBe("console=hvc0 loglevel=9\0");
    // The p2m list holds every page's machine frame, and M2P agrees.
    for (const pfn of [0, 1, 255, domain.p2m.length - 1]) {
      expect(readVa(domain, v, layout.vPhysmap + BigInt(pfn) * 8n, 8)).toBe(
        BigInt(domain.p2m[pfn]),
      );
    }
  });

  it("maps virt_base up to the end of the mapping, page tables read-only, and nothing above", () => {
    const { layout, v, machine } = boot();
    const mmu = v.mmu;
    for (let va = layout.vStart; va < layout.vEnd; va += 4096n) {
      const ro = va >= layout.vPageTables && va < layout.vStack;
      expect(mmu.translate(v.guestTable, va, false)).toBeGreaterThanOrEqual(0);
      expect(mmu.translate(v.guestTable, va, true) >= 0).toBe(!ro);
    }
    expect(mmu.translate(v.guestTable, layout.vEnd, false)).toBe(-1);
    // Every page-table page is typed, the L4 pinned with the guest_table reference too.
    const ft = machine.memory.frameTable;
    expect(ft.type[layout.rootMfn]).toBe(PageType.L4);
    expect(ft.typeCount[layout.rootMfn]).toBe(2);
    expect(ft.flags[layout.rootMfn] & PageFlag.Pinned).toBe(PageFlag.Pinned);
    const ptPfn0 = Number(layout.vPageTables >> 12n);
    const types = new Set<number>();
    for (let i = 0; i < layout.nrPtFrames; i++) types.add(ft.type[v.domain.p2m[ptPfn0 + i]]);
    expect([...types].every((t) => t >= PageType.L1 && t <= PageType.L4)).toBe(true);
    // Data pages mapped writable carry the Writable type.
    expect(ft.type[v.domain.p2m[0x100]]).toBe(PageType.Writable);
    // Entries are user (ring-3 kernel) and kernel-tagged.
    const l1e = mmu.l1eAddress(v.guestTable, 0x100000n);
    expect(machine.memory.read32(l1e) & (Pte.US | Pte.RW | Pte.P)).toBe(Pte.US | Pte.RW | Pte.P);
  });

  it("enters with the registers docs/abi/x86_64.md lists, events masked", () => {
    const { layout, v, domain, machine } = boot();
    const cpu = v.cpu;
    expect(cpu.rip).toBe(0x100000n);
    expect(cpu.getReg(Reg.RSI)).toBe(layout.vStartInfo);
    expect(cpu.getReg(Reg.RSP)).toBe(layout.vStack + 4096n);
    for (const r of [Reg.RAX, Reg.RBX, Reg.RCX, Reg.RDX, Reg.RDI, Reg.RBP, Reg.R8, Reg.R15])
      expect(cpu.getReg(r)).toBe(0n);
    expect(cpu.rflags).toBe(0x202);
    expect(cpu.sel[Seg.CS]).toBe(0xe033);
    expect(cpu.sel[Seg.SS]).toBe(0xe02b);
    expect(cpu.sel[Seg.DS]).toBe(0);
    expect(cpu.cpl).toBe(3);
    expect(v.kernelMode).toBe(true);
    expect(cpu.cr3).toBe(layout.rootMfn * 4096);
    for (let i = 0; i < 32; i++)
      expect(machine.memory.read8(domain.sharedInfoMfn * 4096 + i * 64 + 1)).toBe(1);
  });

  it("writes 128 hypercall stubs of 32 bytes over 0xCC, stub 23 the iret one", () => {
    const page = new Uint8Array(4096);
    writeHypercallPage(page, 0);
    expect(Array.from(page.subarray(29 * 32, 29 * 32 + 14))).toEqual([
      0x51, 0x41, 0x53, 0xb8, 29, 0, 0, 0, 0x0f, 0x05, 0x41, 0x5b, 0x59, 0xc3,
    ]);
    expect(Array.from(page.subarray(23 * 32, 23 * 32 + 11))).toEqual([
      0x51, 0x41, 0x53, 0x50, 0xb8, 23, 0, 0, 0, 0x0f, 0x05,
    ]);
    expect(page[23 * 32 + 11]).toBe(0xcc);
    expect(page[127 * 32 + 14]).toBe(0xcc);
    expect(page[4095]).toBe(0xcc);
  });

  it("refuses a hypercall page outside the image and an image that does not fit, with typed errors", () => {
    const { machine, mmu } = boot();
    const d = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
    d.maxPages = 4096;
    const v = d.vcpus[0].arch;
    const seg = { vaddr: 0x100000n, data: new Uint8Array(16), memsz: 0x2000 };
    const bad = (
      hypercallPage: bigint | null,
      nrPages: number,
      segs = [seg],
    ): ImageError | DomainMemoryError => {
      try {
        buildPvDomain(
          machine,
          mmu,
          d,
          v,
          { segments: segs, entry: 0x100000n, virtBase: 0n, hypercallPage },
          { nrPages, cmdline: "", initial: false },
        );
      } catch (e) {
        if (!(e instanceof DomainMemoryError)) expect(e).toBeInstanceOf(ImageError);
        return e as ImageError | DomainMemoryError;
      }
      throw new Error("no error");
    };
    const code = (e: ImageError | DomainMemoryError) => (e instanceof ImageError ? e.code : null);
    expect(code(bad(0x200000n, 2048))).toBe(ImageErrorCode.BadHypercallPage);
    expect(code(bad(0x100800n, 2048))).toBe(ImageErrorCode.BadHypercallPage);
    // Too little memory is the configuration's fault, not the image's.
    const small = bad(null, 300);
    expect(small).toBeInstanceOf(DomainMemoryError);
    expect(small.message).toMatch(/initial mapping needs 1024 pages .* but the domain has 300/);
    expect(code(bad(null, 2048, []))).toBe(ImageErrorCode.NoSegments);
    expect(d.totPages).toBe(0);
  });

  it("builds a domU as libxc does: no SIF flags, store and console pages after start_info, ports from the toolstack", () => {
    const { machine } = boot(32, 2048);
    const boot1 = bootDomU(machine, readFileSync(HELLO), {
      maxPages: 2048,
      cmdline: "console=hvc0",
    });
    const d = boot1.domain;
    const v = d.vcpus[0].arch;
    const layout = d.arch.layout!;
    const P = 4096n;
    expect(d.id).toBe(1);
    expect(d.p2m.length).toBe(2048);
    // xc_dom_x86.c alloc_magic_pages_pv: start info, xenstore, console, then page tables.
    expect(layout.vXenstore).toBe(layout.vStartInfo + P);
    expect(layout.vConsole).toBe(layout.vXenstore + P);
    expect(layout.vPageTables).toBe(layout.vConsole + P);
    const pfn = (va: bigint): number => Number((va - layout.vStart) >> 12n);
    expect(boot1.storeMfn).toBe(d.p2m[pfn(layout.vXenstore)]);
    expect(boot1.consoleMfn).toBe(d.p2m[pfn(layout.vConsole)]);
    expect(machine.memory.frameTable.owner[boot1.storeMfn!]).toBe(d.id);
    expect(machine.memory.frameTable.owner[boot1.consoleMfn!]).toBe(d.id);
    const si = layout.vStartInfo;
    expect(readVa(d, v, si + 48n, 4)).toBe(0n); // flags: neither SIF_PRIVILEGED nor SIF_INITDOMAIN
    expect(readVa(d, v, si + 56n, 8)).toBe(BigInt(boot1.storeMfn!)); // store_mfn
    expect(readVa(d, v, si + 64n, 4)).toBe(BigInt(boot1.storeEvtchn)); // store_evtchn
    expect(readVa(d, v, si + 72n, 8)).toBe(BigInt(boot1.consoleMfn!)); // console.domU.mfn
    expect(readVa(d, v, si + 80n, 4)).toBe(BigInt(boot1.consoleEvtchn)); // console.domU.evtchn
    expect([boot1.storeEvtchn, boot1.consoleEvtchn]).toEqual([1, 2]);
    expect(d.eventChannels.stateOf(1)).toBe(PortState.Unbound);
    expect(d.eventChannels.remoteDomain[2]).toBe(0);
    // The store page is zero; the console page is zero but for connection = DISCONNECTED.
    const mem = machine.memory.bytes;
    const store = mem.subarray(boot1.storeMfn! * 4096, boot1.storeMfn! * 4096 + 4096);
    expect(store.every((b) => b === 0)).toBe(true);
    const cons = XENCONS_INTERFACE.layout(X86_64_DATA_MODEL);
    const cbase = boot1.consoleMfn! * 4096;
    expect(cons.get(machine.memory.view, cbase, "connection")).toBe(1);
    const consPage = mem.slice(cbase, cbase + 4096);
    consPage[cons.offsetOf("connection")] = 0;
    expect(consPage.every((b) => b === 0)).toBe(true);
    // Both ring pages are mapped writable in the guest's boot mapping.
    expect(v.translate(layout.vXenstore, true)).toBe(boot1.storeMfn! * 4096);
    expect(v.translate(layout.vConsole, true)).toBe(cbase);
  });

  it("loads a BSD_SYMTAB kernel's symbol table after its image, inside the kernel's range", () => {
    const plugin = new X86_64PvPlugin();
    const machine = createMachine(container.createChildContainer(), {
      arch: plugin,
      memoryMiB: 32,
      console: new RecordingConsoleSink(),
    });
    const elf = buildElf({
      machine: EM_X86_64,
      entry: 0x100000,
      segments: [{ vaddr: 0x100000, data: new Uint8Array(0x2000), memSize: 0x2ffc, align: 4096 }],
      xenNotes: [
        ...standardXenNotes(0x100000, 0x101000),
        { type: XenElfNote.BSD_SYMTAB, value: "yes" },
      ],
      symbols: [{ name: "_start", value: 0x100000 }],
    });
    const table = computeLoadLayout(parseElf(elf)).symbolTable!;
    const domU = bootDomU(machine, elf, { maxPages: 2048 }).domain;
    const v = domU.vcpus[0].arch as PvVcpu;
    const layout = (domU.arch as PvDomainState).layout!;
    expect(table.virtualAddress).toBe(0x103000n); // 0x102ffc rounded to 8
    const pa = v.translate(table.virtualAddress, false);
    expect(machine.memory.bytes.slice(pa, pa + table.data.length)).toEqual(table.data);
    expect(readVa(domU, v, 0x103004n, 4)).toBe(0x464c457fn); // \x7fELF
    // The kernel's range ends after the table's room: what follows starts past it.
    expect(layout.vKernelEnd).toBe(0x104000n);
    expect(layout.vPhysmap).toBeGreaterThanOrEqual(table.virtualAddress + table.memSize);
  });

  describe("initial ramdisk", () => {
    /** Boots hello with `ramdisk` as dom0 or a domU; `unmapped`: as if it had MOD_START_PFN. */
    function withRamdisk(ramdisk: Uint8Array, role: "dom0" | "domU", unmapped = false) {
      const plugin = new X86_64PvPlugin(undefined, (image, bytes) => ({
        ...pvKernelImage(image, bytes),
        unmappedRamdisk: unmapped,
      }));
      const machine = createMachine(container.createChildContainer(), {
        arch: plugin,
        memoryMiB: 32,
        console: new RecordingConsoleSink(),
      });
      const image = readFileSync(HELLO);
      const domain: Domain =
        role === "dom0"
          ? bootInitialDomain(machine, image, { ramdisk })
          : bootDomU(machine, image, { ramdisk, maxPages: 4096 }).domain;
      const v = domain.vcpus[0].arch as PvVcpu;
      const layout = (domain.arch as PvDomainState).layout!;
      const si = (off: bigint, size: 4 | 8) => readVa(domain, v, layout.vStartInfo + off, size);
      const bytesAt = (pa: number, n: number) => machine.memory.bytes.slice(pa, pa + n);
      return { machine, domain, v, layout, si, bytesAt };
    }
    const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7 + 3) & 0xff);

    it("maps it right after the kernel, p2m after it; mod_start its address, mod_len exact for dom0", () => {
      const { layout, si, v, bytesAt } = withRamdisk(data, "dom0");
      expect(layout.vRamdisk).toBe(layout.vKernelEnd);
      expect(layout.ramdiskPfn).toBe(-1);
      expect(layout.vPhysmap).toBe(layout.vKernelEnd + 2n * 4096n);
      expect(si(112n, 8)).toBe(layout.vRamdisk); // mod_start
      expect(si(120n, 8)).toBe(5000n); // mod_len
      expect(si(48n, 4)).toBe(3n); // no SIF_MOD_START_PFN
      expect(bytesAt(v.translate(layout.vRamdisk, false), 4096)).toEqual(data.subarray(0, 4096));
      expect(bytesAt(v.translate(layout.vRamdisk + 4096n, false), 904)).toEqual(
        data.subarray(4096),
      );
    });

    it("gives a domU's mod_len in whole pages, as libxc's segment is", () => {
      const { layout, si, v, bytesAt } = withRamdisk(data, "domU");
      expect(layout.vRamdisk).toBe(layout.vKernelEnd);
      expect(si(112n, 8)).toBe(layout.vRamdisk);
      expect(si(120n, 8)).toBe(8192n);
      expect(si(48n, 4)).toBe(0n);
      expect(bytesAt(v.translate(layout.vRamdisk, false), 16)).toEqual(data.subarray(0, 16));
    });

    it("inflates a domU's gzip ramdisk as libxc does, and hands dom0's over as it is", () => {
      const big = new Uint8Array(3 * 4096 - 10).fill(0x41);
      const gz = new Uint8Array(gzipSync(big));
      const domU = withRamdisk(gz, "domU");
      // max(size + 16, file size) = 12278 bytes: four pages.
      expect(domU.si(120n, 8)).toBe(4n * 4096n);
      const pa = domU.v.translate(domU.layout.vRamdisk + 2n * 4096n, false);
      expect(domU.bytesAt(pa, 4086)).toEqual(big.subarray(8192));
      const dom0 = withRamdisk(gz, "dom0");
      expect(dom0.si(120n, 8)).toBe(BigInt(gz.length));
      expect(dom0.bytesAt(dom0.v.translate(dom0.layout.vRamdisk, false), gz.length)).toEqual(gz);
      // Not gzip after all (a bad stream): loaded as it is.
      const bad = Uint8Array.of(0x1f, 0x8b, 1, 2, 3, 4, 5, 6, 7, 8);
      expect(withRamdisk(bad, "domU").si(120n, 8)).toBe(4096n);
    });

    it("leaves it unmapped for a MOD_START_PFN kernel: a domU's after the mapping, dom0's in its last pages, by frame number", () => {
      const domU = withRamdisk(data, "domU", true);
      const mapped = Number((domU.layout.vEnd - domU.layout.vStart) >> 12n);
      expect(domU.layout.vRamdisk).toBe(0n);
      expect(domU.layout.vPhysmap).toBe(domU.layout.vKernelEnd);
      expect(domU.layout.ramdiskPfn).toBe(mapped);
      expect(domU.si(112n, 8)).toBe(BigInt(mapped));
      expect(domU.si(120n, 8)).toBe(8192n);
      expect(domU.si(48n, 4)).toBe(8n); // SIF_MOD_START_PFN
      expect(domU.bytesAt(domU.domain.p2m[mapped] * 4096, 4096)).toEqual(data.subarray(0, 4096));
      expect(domU.v.translate(domU.layout.vEnd, false)).toBe(-1);

      const dom0 = withRamdisk(data, "dom0", true);
      const last = dom0.domain.p2m.length - 2;
      expect(dom0.layout.ramdiskPfn).toBe(last);
      expect(dom0.si(112n, 8)).toBe(BigInt(last));
      expect(dom0.si(120n, 8)).toBe(5000n);
      expect(dom0.si(48n, 4)).toBe(3n | 8n);
      expect(dom0.bytesAt(dom0.domain.p2m[last + 1] * 4096, 904)).toEqual(data.subarray(4096));
    });

    it("refuses a ramdisk the domain's memory cannot hold, mapped or not", () => {
      const huge = new Uint8Array(20 * 1024 * 1024);
      expect(() => withRamdisk(huge, "domU")).toThrow(DomainMemoryError);
      expect(() => withRamdisk(huge, "domU", true)).toThrow(
        /the initial mapping \(\d+ pages\) and the ramdisk \(5120\) need more than the domain's 4096 pages/,
      );
    });
  });
});
