/**
 * The PowerPC domain builder (`abi/ppc.md`, after libxc's `xc_dom_powerpc.c` and
 * `mk_flatdevtree.c`). Memory starts at guest-physical 0; the first 64 MiB (or all of a
 * smaller domain) is the real-mode area. The image's PT_LOAD segments go to their
 * `p_paddr`, inside the RMA; the top pages of the RMA hold, from the top, shared_info,
 * the console ring and the xenstore ring, and below them the flattened device tree.
 * Every domain, the initial one included, is entered the domU way: pc = `e_entry` masked
 * to 42 bits, MSR = SF (real mode, supervisor, EE = RI = 0), r1 just below 32 MiB, r3 =
 * the device tree, r4 = the load address, everything else 0, events masked.
 *
 * @module
 */
import {
  computeLoadLayout,
  m2pSet,
  updateDomainWallclock,
  updateVcpuSystemTime,
  DomainMemoryError,
  ImageError,
  ImageErrorCode,
  SHARED_INFO,
  VcpuState,
  XENCONS_INTERFACE,
  XENCONSOLE_DISCONNECTED,
  type DomainBuildRequest,
  type DomainBuildResult,
} from "@hvkit/core";
import { MSR_SF } from "./abi.js";
import { writeDeviceTree, type DeviceTreeSpec } from "./device-tree.js";
import { RMA_BYTES } from "./guest-storage.js";
import type { PpcVcpu } from "./vcpu.js";

const PAGE = 4096;
/** Real mode keeps 42 bits of an effective address: Xen's builder masks the entry so. */
const REAL_ADDRESS_MASK = (1n << 42n) - 1n;
/** r1 at entry: one 112-byte frame below 32 MiB (dom0's historic stack). */
export const ENTRY_STACK = 0x2000000n - 112n;
/** `timebase-frequency` of `/cpus/cpu@0`: the G5's 33.333333 MHz (hvkit choice). */
export const TIMEBASE_FREQUENCY = 33333333;
/** `compatible` of the root node. */
const ROOT_COMPATIBLE = "hvkit,xen-ppc";
/** `compatible` of `/xen` (mk_flatdevtree.c). */
const XEN_COMPATIBLE = "Xen-3.0-unstable";
/** The smallest hashed page table PAPR allows: 2^18 bytes. */
const MIN_HPT_LOG = 18;

/** Where the builder put things (guest-physical addresses), kept as `Domain.arch.layout`. */
export interface PpcBuildLayout {
  /** Pages of guest memory (the p2m's length). */
  readonly nrPages: number;
  /** Bytes of the real-mode area. */
  readonly rmaBytes: number;
  /** Lowest p_paddr of the image (r4 at entry). */
  readonly loadAddress: bigint;
  /** End of the image (exclusive). */
  readonly imageEnd: bigint;
  /** The entry point (e_entry masked to 42 bits). */
  readonly entry: bigint;
  /** The flattened device tree (r3 at entry). */
  readonly deviceTree: bigint;
  /** shared_info: the RMA's last page. */
  readonly sharedInfo: bigint;
  /** The console ring, below shared_info (a domU's; reserved for the initial domain). */
  readonly console: bigint;
  /** The xenstore ring, below the console (a domU's; reserved for the initial domain). */
  readonly xenstore: bigint;
  /** log2 of the hashed page table's size (`ibm,pft-size`). */
  readonly hptLog: number;
}

/** What the builder needs of the boot vCPU. */
export type PpcBootVcpu = Pick<PpcVcpu, "cpu">;

const be32 = (...v: number[]): Uint8Array => {
  const b = new Uint8Array(4 * v.length);
  const d = new DataView(b.buffer);
  v.forEach((x, i) => d.setUint32(4 * i, x >>> 0, false));
  return b;
};
const be64 = (...v: bigint[]): Uint8Array => {
  const b = new Uint8Array(8 * v.length);
  const d = new DataView(b.buffer);
  v.forEach((x, i) => d.setBigUint64(8 * i, BigInt.asUintN(64, x), false));
  return b;
};
const str = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`);
const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

/**
 * log2 of the hashed page table for `bytes` of memory: 1/64 of it rounded up to a power
 * of two, at least PAPR's minimum (hvkit choice; the MMU sizes its table from it).
 */
export function hptLog(bytes: number): number {
  let log = MIN_HPT_LOG;
  while (2 ** log < bytes / 64) log++;
  return log;
}

/** The device tree of `abi/ppc.md` for a domain laid out as `layout`. */
export function domainDeviceTree(
  layout: PpcBuildLayout,
  domid: number,
  cmdline: string,
  ports: { storeEvtchn: number; consoleEvtchn: number } | null,
): Uint8Array {
  const ring = (name: string, at: bigint, port: number | undefined): DeviceTreeSpec => ({
    name,
    props:
      ports === null || port === undefined
        ? {}
        : { reg: be64(at, BigInt(PAGE)), interrupts: be32(port, 0) },
  });
  const memory: DeviceTreeSpec[] = [
    {
      name: "memory@0",
      props: { device_type: str("memory"), reg: be64(0n, BigInt(layout.rmaBytes)) },
    },
  ];
  const total = layout.nrPages * PAGE;
  if (total > layout.rmaBytes) {
    memory.push({
      name: `memory@${layout.rmaBytes.toString(16)}`,
      props: {
        device_type: str("memory"),
        reg: be64(BigInt(layout.rmaBytes), BigInt(total - layout.rmaBytes)),
      },
    });
  }
  return writeDeviceTree({
    name: "",
    props: {
      "#address-cells": be32(2),
      "#size-cells": be32(2),
      compatible: str(ROOT_COMPATIBLE),
    },
    children: [
      {
        name: "chosen",
        props: { bootargs: str(cmdline), "linux,stdout-path": str("/xen/console") },
      },
      {
        name: "xen",
        props: {
          compatible: str(XEN_COMPATIBLE),
          reg: be64(BigInt(domid), 0n),
          "shared-info": be64(layout.sharedInfo, BigInt(PAGE)),
        },
        children: [
          ring("console", layout.console, ports?.consoleEvtchn),
          ring("store", layout.xenstore, ports?.storeEvtchn),
        ],
      },
      ...memory,
      {
        name: "cpus",
        children: [
          {
            name: "cpu@0",
            props: {
              device_type: str("cpu"),
              reg: be32(0),
              "timebase-frequency": be32(TIMEBASE_FREQUENCY),
              "ibm,pft-size": be32(0, layout.hptLog),
            },
          },
        ],
      },
    ],
  });
}

/**
 * Builds `request.domain` (which owns no memory yet) with `vcpu` as its boot vCPU. Throws
 * {@link ImageError} for an image PowerPC cannot boot and {@link DomainMemoryError} when
 * the domain is too small.
 */
export function buildPpcDomain(
  request: DomainBuildRequest,
  vcpu: PpcBootVcpu,
): { layout: PpcBuildLayout; result: DomainBuildResult } {
  const { machine, domain, image } = request;
  if (request.mode !== "pv") {
    throw new ImageError(
      ImageErrorCode.UnsupportedFeature,
      "guest mode",
      `ppc builds PV guests only, not ${request.mode}`,
    );
  }
  if (request.ramdisk !== undefined) {
    throw new ImageError(
      ImageErrorCode.UnsupportedFeature,
      "ramdisk",
      "ppc's device tree has no initial ramdisk entry (abi/ppc.md lists none)",
    );
  }
  if (image.xen.hypercallPage !== undefined) {
    throw new ImageError(
      ImageErrorCode.BadHypercallPage,
      "HYPERCALL_PAGE note",
      "PowerPC has no hypercall page (hypercalls are `sc 1`)",
    );
  }
  // The 42-bit entry, so that a kernel linked at 0xC000000000000000 enters at 0.
  const entry = image.header.entry & REAL_ADDRESS_MASK;
  const free = machine.freeFrameCount();
  let nrPages = Math.min(domain.maxPages, free);
  // The initial domain leaves Xen 1/16 of free memory, at most 128 MiB (dom0_build.c).
  if (request.initial) nrPages = Math.min(nrPages, free - Math.min(Math.floor(free / 16), 32768));
  const laid = computeLoadLayout(
    { ...image, header: { ...image.header, entry } },
    { memoryBytes: nrPages * PAGE, pageSize: PAGE, requiresXenNotes: false },
  );
  const rma = Math.min(RMA_BYTES, nrPages * PAGE);
  const top = BigInt(rma);
  const sharedInfo = top - BigInt(PAGE);
  const console = sharedInfo - BigInt(PAGE);
  const xenstore = console - BigInt(PAGE);
  let loadAddress = -1n;
  let imageEnd = 0n;
  for (const s of laid.segments) {
    const end = s.physicalAddress + s.memSize;
    if (end > top) {
      throw new ImageError(
        ImageErrorCode.BadAddresses,
        `program header ${s.header.index} (file offset ${hex(s.header.headerOffset)})`,
        `the segment ends at guest-physical ${hex(end)}, outside the ${hex(rma)}-byte real-mode area`,
      );
    }
    if (loadAddress < 0n || s.physicalAddress < loadAddress) loadAddress = s.physicalAddress;
    if (end > imageEnd) imageEnd = end;
  }
  const layoutBase = {
    nrPages,
    rmaBytes: rma,
    loadAddress,
    imageEnd,
    entry,
    sharedInfo,
    console,
    xenstore,
    hptLog: hptLog(nrPages * PAGE),
  };
  const ports = request.initial
    ? null
    : { storeEvtchn: request.storeEvtchn ?? 0, consoleEvtchn: request.consoleEvtchn ?? 0 };
  const probe = domainDeviceTree(
    { ...layoutBase, deviceTree: 0n },
    domain.id,
    request.cmdline,
    ports,
  );
  const deviceTree = (xenstore - BigInt(probe.length)) & ~BigInt(PAGE - 1);
  if (deviceTree < imageEnd || deviceTree < 0n) {
    throw new DomainMemoryError(
      "real-mode area",
      `the image ends at ${hex(imageEnd)} but the device tree and the shared pages need ${hex(deviceTree < 0n ? 0n : deviceTree)}..${hex(top)} of the ${hex(rma)}-byte RMA`,
    );
  }
  const layout: PpcBuildLayout = { ...layoutBase, deviceTree };

  // The domain's pages; the RMA's last one is shared_info (Xen/ppc kept it in the RMA).
  const mfns = machine.allocFrames(domain, nrPages);
  if (mfns === null)
    throw new DomainMemoryError("domain memory", `cannot allocate ${nrPages} pages`);
  const p2m = new Int32Array(nrPages);
  for (let pfn = 0; pfn < nrPages; pfn++) {
    p2m[pfn] = mfns[pfn]!;
    m2pSet(machine, p2m[pfn]!, pfn);
  }
  const si = p2m[Number(sharedInfo >> 12n)]!;
  domain.p2m = p2m;
  domain.sharedInfoMfn = si;

  const mem = machine.memory;
  const copyIn = (gpa: bigint, bytes: Uint8Array): void => {
    for (let i = 0; i < bytes.length;) {
      const at = gpa + BigInt(i);
      const n = Math.min(bytes.length - i, PAGE - Number(at & 0xfffn));
      mem.bytes.set(bytes.subarray(i, i + n), p2m[Number(at >> 12n)]! * PAGE + Number(at & 0xfffn));
      i += n;
    }
  };
  for (const s of laid.segments) copyIn(s.physicalAddress, s.data);
  copyIn(deviceTree, domainDeviceTree(layout, domain.id, request.cmdline, ports));

  // shared_info: every vcpu_info's upcall mask set, the time base at boot.
  const model = machine.arch.dataModel;
  const SHI = SHARED_INFO.layout(model);
  for (let i = 0; i < model.legacyMaxVcpus; i++)
    SHI.set(mem.view, si * PAGE, `vcpu_info.${i}.evtchn_upcall_mask`, 1);
  SHI.set(mem.view, si * PAGE, "arch.boot_timebase", BigInt(vcpu.cpu.timebase));
  const consoleMfn = p2m[Number(console >> 12n)]!;
  const storeMfn = p2m[Number(xenstore >> 12n)]!;
  if (!request.initial)
    XENCONS_INTERFACE.layout(model).set(
      mem.view,
      consoleMfn * PAGE,
      "connection",
      XENCONSOLE_DISCONNECTED,
    );

  // Entry state.
  const cpu = vcpu.cpu;
  for (let r = 0; r < 32; r++) cpu.setGpr(r, 0n);
  cpu.setPc(entry);
  cpu.msrHi = Number(MSR_SF >> 32n) | 0;
  cpu.msrLo = 0;
  cpu.cr = 0;
  cpu.xer = 0;
  cpu.setGpr(1, ENTRY_STACK);
  cpu.setGpr(3, deviceTree);
  cpu.setGpr(4, loadAddress);
  machine.arch.onMemoryWritten?.(machine, 0, mem.size);
  // As Xen's builders: the wall clock, and the boot vCPU's time record.
  updateDomainWallclock(machine, domain);
  updateVcpuSystemTime(machine, domain.vcpus[0]!);
  domain.vcpus[0]!.state = VcpuState.Runnable;
  return {
    layout,
    result: request.initial ? { storeMfn: null, consoleMfn: null } : { storeMfn, consoleMfn },
  };
}
