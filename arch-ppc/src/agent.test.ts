// The PowerPC agent cannot run yet (hvkit has no PowerPC CPU), so these tests check what
// can be checked without running it: that the committed image is what the domain builder
// and the abi require (ELF64 big-endian EM_PPC64, loaded in the real-mode area, entry on
// code, vectors at 0x100 × n), that its code makes the service call the protocol names,
// and the TypeScript half (handles, trap records, the device tree, the vCPU context).
import { describe, expect, it } from "vitest";
import { blockAgentIo } from "@hvkit/core/testing";
import {
  computeLoadLayout,
  EM_PPC64,
  parseElf,
  PF_X,
  type AgentBootReport,
  type ElfImage,
} from "@hvkit/core";
import {
  PpcGuestAgent,
  ppcPlugin,
  VCPU_GUEST_CONTEXT_PPC,
  writeDeviceTree,
  type DeviceTreeSpec,
} from "./index.js";
import { PPC64_DATA_MODEL } from "./data-model.js";

const agent = new PpcGuestAgent();
const elf: ElfImage = parseElf(agent.image, ppcPlugin);
const layout = computeLoadLayout(elf, { ...ppcPlugin, pageSize: 4096 });

/** The big-endian word at guest-physical `pa` of the loaded image (0 in .bss). */
function wordAt(pa: number): number {
  for (const s of layout.segments) {
    const off = pa - Number(s.physicalAddress);
    if (off >= 0 && off + 4 <= Number(s.memSize)) {
      if (off + 4 > s.data.length) return 0;
      return new DataView(s.data.buffer, s.data.byteOffset).getUint32(off, false);
    }
  }
  throw new Error(`0x${pa.toString(16)} is outside the image`);
}

/** Every instruction word of the executable segments. */
function codeWords(): number[] {
  const words: number[] = [];
  for (const s of layout.segments) {
    if ((s.header.flags & PF_X) === 0) continue;
    const v = new DataView(s.data.buffer, s.data.byteOffset, s.data.byteLength);
    for (let i = 0; i + 4 <= s.data.length; i += 4) words.push(v.getUint32(i, false));
  }
  return words;
}

function indexOfRun(words: number[], run: number[]): number {
  return words.findIndex((_, i) => run.every((w, j) => words[i + j] === w));
}

/** Target of the `b` (I-form, AA = LK = 0) at `pa`, or null if it is not one. */
function branchTarget(pa: number): number | null {
  const w = wordAt(pa);
  if (w >>> 26 !== 18 || (w & 3) !== 0) return null;
  const li = ((w & 0x03fffffc) << 6) >> 6;
  return pa + li;
}

describe("the PowerPC agent image", () => {
  it("is an ELF64 big-endian EM_PPC64 executable the loader accepts, notes included", () => {
    expect(elf.elfClass).toBe(64);
    expect(elf.endianness).toBe("big");
    expect(elf.header.machine).toBe(EM_PPC64);
    expect(elf.xen.loader).toBe("generic");
    expect(elf.xen.xenVersion).toBe("xen-3.0");
    expect(elf.xen.hypercallPage).toBeUndefined();
  });

  it("loads at guest-physical 0, inside the 64 MiB real-mode area, with no virtual base", () => {
    expect(layout.virtBase).toBe(0n);
    expect(layout.virtKstart).toBe(0n);
    expect(layout.virtKend).toBeLessThanOrEqual(1n << 26n);
    for (const s of layout.segments) expect(s.header.paddr).toBe(s.header.vaddr);
  });

  it("enters on an instruction of an executable segment, not on an ELFv1 function descriptor", () => {
    const entry = layout.entry;
    expect(entry % 4n).toBe(0n);
    expect(elf.sections.some((s) => s.name === ".opd")).toBe(false);
    const seg = layout.segments.find(
      (s) => entry >= s.physicalAddress && entry < s.physicalAddress + BigInt(s.data.length),
    );
    expect(seg).toBeDefined();
    expect(seg!.header.flags & PF_X).toBe(PF_X);
    expect(wordAt(Number(entry))).not.toBe(0);
    // Entry is past the vectors, which start at 0x100.
    expect(entry).toBeGreaterThan(0x1800n);
  });

  it("has a vector at each synchronous interrupt's 0x100 × n that records it and joins one handler", () => {
    const targets = new Set<number>();
    for (const v of [0x200, 0x300, 0x380, 0x400, 0x480, 0x600, 0x700, 0x800, 0xc00, 0xd00]) {
      expect(wordAt(v), `vector 0x${v.toString(16)}`).toBe(0x38600000 | v); // li r3, v
      const t = branchTarget(v + 4);
      expect(t, `vector 0x${v.toString(16)} branches`).not.toBeNull();
      targets.add(t!);
    }
    expect(targets.size).toBe(1);
  });

  it("handles the external interrupt (the upcall) and the decrementer in place, returning with rfid", () => {
    const RFID = 0x4c000024;
    for (const [from, to] of [
      [0x500, 0x600],
      [0x900, 0xa00],
    ]) {
      expect(wordAt(from)).not.toBe(0x38600000 | from);
      const words = Array.from({ length: (to - from) / 4 }, (_, i) => wordAt(from + 4 * i));
      expect(words).toContain(RFID);
    }
  });

  it("makes the kernel service call: r3 = XEN_MARK | 63, r4 = the mailbox (r31), sc 1", () => {
    // lis r3,-1; ori r3,r3,63; mr r4,r31; sc 1
    expect(
      indexOfRun(codeWords(), [0x3c60ffff, 0x6063003f, 0x7fe4fb78, 0x44000022]),
    ).toBeGreaterThan(0);
  });

  it("makes requested hypercalls with sc 1 after loading r4..r9, and never uses sc 0 for Xen", () => {
    const words = codeWords();
    // ld r4..r9, 40..80(r31); sc 1
    const loads = [40, 48, 56, 64, 72, 80].map(
      (off, i) => (0xe81f0000 | ((4 + i) << 21) | off) >>> 0,
    );
    expect(indexOfRun(words, [...loads, 0x44000022])).toBeGreaterThan(0);
    // The service call, requested hypercalls, and the H_ENTERs of a vCPU's mailbox and of
    // the window at boot.
    expect(words.filter((w) => w === 0x44000022)).toHaveLength(4);
    expect(words).not.toContain(0x44000002);
  });

  it("sets MSR[RI] (with EE) once its vectors are live, and has the illegal word 0 in its code", () => {
    const words = codeWords();
    // li r0, MSR_RI; ori r0, r0, MSR_EE; mtmsrd r0, 1
    expect(indexOfRun(words, [0x38000002, 0x60008000, 0x7c010164])).toBeGreaterThan(0);
    // li r0, 0; ori r0, r0, MSR_EE; mtmsrd r0, 1 (disarmed: RI = 0)
    expect(indexOfRun(words, [0x38000000, 0x60008000, 0x7c010164])).toBeGreaterThan(0);
    // The Illegal request: the word 0 followed by li r3, 0.
    expect(indexOfRun(words, [0x00000000, 0x38600000])).toBeGreaterThan(0x1800 / 4);
  });
});

function fakeIo(boot: Partial<AgentBootReport>, blocks: [bigint, Uint8Array][] = []) {
  return blockAgentIo(PPC64_DATA_MODEL, 4096, boot, blocks);
}

const be64 = (...values: bigint[]): Uint8Array => {
  const b = new Uint8Array(8 * values.length);
  values.forEach((v, i) => new DataView(b.buffer).setBigUint64(8 * i, v, false));
  return b;
};
const be32 = (...values: number[]): Uint8Array => {
  const b = new Uint8Array(4 * values.length);
  values.forEach((v, i) => new DataView(b.buffer).setUint32(4 * i, v, false));
  return b;
};
const str = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`);

function domainTree(domid: bigint, withRings: boolean): DeviceTreeSpec {
  const xenChildren: DeviceTreeSpec[] = withRings
    ? [
        { name: "console", props: { reg: be64(0x3ffd000n, 4096n), interrupts: be32(2, 0) } },
        { name: "store", props: { reg: be64(0x3ffe000n, 4096n), interrupts: be32(1, 0) } },
      ]
    : [];
  return {
    name: "",
    props: { "#address-cells": be32(2), "#size-cells": be32(2), compatible: str("hvkit,xen-ppc") },
    children: [
      { name: "chosen", props: { bootargs: str("console=hvc0 quiet") } },
      {
        name: "xen",
        props: {
          compatible: str("Xen-3.0-unstable"),
          reg: be64(domid, 0n),
          "shared-info": be64(0x3fff000n, 4096n),
        },
        children: xenChildren,
      },
      { name: "memory@0", props: { device_type: str("memory"), reg: be64(0n, 0x4000000n) } },
      {
        name: "memory@4000000",
        props: { device_type: str("memory"), reg: be64(0x4000000n, 0x1000000n) },
      },
      { name: "cpus", children: [{ name: "cpu@0", props: { reg: be32(0) } }] },
    ],
  };
}

describe("PpcGuestAgent", () => {
  it("passes buffers as inline xencomm handles (guest-physical | 1 << 63)", () => {
    const io = fakeIo({});
    expect(agent.guestHandle(io, 0x12340n)).toBe(0x8000_0000_0001_2340n);
    expect(() => agent.guestHandle(io, 1n << 63n)).toThrow(/no inline xencomm handle/);
  });

  it("reads program interrupts by their SRR1 cause bits", () => {
    const program = (srr1: bigint) =>
      agent.describeTrap({ vector: 0x700n, code: srr1, address: 0n, pc: 0x1b60n });
    expect(program(0x80000n | 0x8002n).kind).toBe("illegal-instruction");
    expect(program(0x40000n).kind).toBe("protection-fault");
    expect(program(0x20000n).kind).toBe("breakpoint");
    expect(program(0x100000n).kind).toBe("other");
    expect(program(0x80000n).pc).toBe(0x1b60n);
    expect(program(0x80000n).detail).toContain("program interrupt 0x700");
  });

  it("reads a data storage interrupt as a page fault at DAR, a store when DSISR says so", () => {
    const store = agent.describeTrap({
      vector: 0x300n,
      code: (0x42000000n << 32n) | 0x8000n,
      address: 0x200_0000_0000n,
      pc: 0x1b3cn,
    });
    expect(store).toMatchObject({
      kind: "page-fault",
      address: 0x200_0000_0000n,
      write: true,
      pc: 0x1b3cn,
    });
    const load = agent.describeTrap({
      vector: 0x300n,
      code: 0x40000000n << 32n,
      address: 0x10n,
      pc: 0n,
    });
    expect(load).toMatchObject({ kind: "page-fault", write: false });
    const fetch = agent.describeTrap({
      vector: 0x400n,
      code: 0x40000000n,
      address: 0n,
      pc: 0x5000n,
    });
    expect(fetch).toMatchObject({ kind: "page-fault", address: 0x5000n, write: false });
    expect(agent.describeTrap({ vector: 0x600n, code: 0n, address: 0x13n, pc: 0n })).toMatchObject({
      kind: "alignment",
      address: 0x13n,
    });
    expect(agent.describeTrap({ vector: 0xc00n, code: 0n, address: 0n, pc: 0n }).kind).toBe(
      "other",
    );
  });

  it("reads a domU's boot information from the device tree", () => {
    const blob = writeDeviceTree(domainTree(5n, true));
    const io = fakeIo({ bootArg: 0x2000000n }, [[0x2000000n, blob]]);
    expect(agent.bootInfo(io)).toEqual({
      nrPages: (0x4000000 + 0x1000000) / 4096,
      privileged: false,
      initialDomain: false,
      sharedInfoFrame: 0x3fffn,
      storeFrame: 0x3ffen,
      storeEvtchn: 1,
      consoleFrame: 0x3ffdn,
      consoleEvtchn: 2,
      cmdline: "console=hvc0 quiet",
    });
  });

  it("takes the domain with id 0 for the initial, privileged one, with no rings", () => {
    const io = fakeIo({ bootArg: 0x100000n }, [
      [0x100000n, writeDeviceTree(domainTree(0n, false))],
    ]);
    expect(agent.bootInfo(io)).toMatchObject({
      privileged: true,
      initialDomain: true,
      storeFrame: null,
      storeEvtchn: null,
      consoleFrame: null,
      consoleEvtchn: null,
    });
  });

  it("refuses a boot argument that is not a device tree, saying so", () => {
    const io = fakeIo({ bootArg: 0x100000n }, [[0x100000n, new Uint8Array(64)]]);
    expect(() => agent.bootInfo(io)).toThrow(/not a flattened device tree/);
  });

  it("starts a secondary vCPU at ap_entry in 64-bit real mode with r3 = its id (arch-powerpc.h layout)", () => {
    const io = fakeIo({ apEntry: 0x1880n });
    const bytes = agent.secondaryVcpuContext(io, 3);
    // Offsets and size as powerpc64 gcc lays out arch-powerpc.h's struct.
    expect(bytes.length).toBe(360);
    expect(VCPU_GUEST_CONTEXT_PPC.layout(PPC64_DATA_MODEL).offsetOf("sdr1")).toBe(352);
    const v = new DataView(bytes.buffer);
    expect(v.getBigUint64(288, false)).toBe(0x1880n); // pc
    expect(v.getBigUint64(296, false)).toBe(0x8000_0000_0000_0000n); // msr = SF
    expect(v.getBigUint64(24, false)).toBe(3n); // gprs[3]
    expect(bytes.reduce((n, b) => n + (b !== 0 ? 1 : 0), 0)).toBe(2 + 1 + 1);
  });

  it("names a page by its guest-physical frame, a window page by the frame it shows at boot", () => {
    const window = 1n << 36n;
    const io = fakeIo({ window, windowLength: 0x10000, arch: [0n, 0x9000n, 0n, 0n] });
    expect(agent.frameOf(io, 0x3ffe123n)).toBe(0x3ffen);
    expect(agent.pfnOf(io, 0x3ffe123n)).toBe(0x3ffen);
    expect(agent.frameOf(io, window + 0x2123n)).toBe(0xbn);
    expect(agent.frameOf(io, window + 0x10000n)).toBe(0x1000010n);
    // A window page's buffer is passed by the guest-physical address of its frame.
    expect(agent.guestHandle(io, window + 0x2123n)).toBe(0xb123n | (1n << 63n));
  });

  it("disarms its traps by writing 1, big-endian, to the traps_off word the agent reported", () => {
    const io = fakeIo({ arch: [0x1c48n, 0n, 0n, 0n] });
    agent.disarmTraps(io);
    expect(io.writes).toEqual([[0x1c48n, be64(1n)]]);
  });

  it("gives an unmapped address beyond the real-mode area that real mode does not alias", () => {
    const a = agent.unmappedAddress(fakeIo({}));
    expect(a).toBeGreaterThanOrEqual(1n << 26n);
    expect(a).toBeLessThan(1n << 42n);
  });

  it("is the ppc plugin's agent", () => {
    expect(ppcPlugin.guestAgent()).toBeInstanceOf(PpcGuestAgent);
  });
});
