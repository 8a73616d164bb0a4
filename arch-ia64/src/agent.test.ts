// The IA-64 agent cannot run yet (hvkit has no IA-64 CPU), so these tests check what can
// be checked without running it: that the committed image is what the domain builder and
// the abi require (ELF64 little-endian EM_IA_64, above the firmware area, entry on a
// bundle, a 32 KiB aligned IVT whose every vector records itself), that its code makes the
// service call the protocol names with `break 0x1000`, and the TypeScript half (handles,
// trap records, start_info, the vCPU context).
import { describe, expect, it } from "vitest";
import { blockAgentIo } from "@hvkit/core/testing";
import {
  computeLoadLayout,
  EM_IA_64,
  parseElf,
  START_INFO,
  type AgentBootReport,
  type GuestAgent,
  type ElfImage,
} from "@hvkit/core";
import { Ia64GuestAgent, ia64Plugin, VCPU_GUEST_CONTEXT_IA64 } from "./index.js";
import { IA64_DATA_MODEL } from "./data-model.js";

const agent = new Ia64GuestAgent();
const elf: ElfImage = parseElf(agent.image, ia64Plugin);
const layout = computeLoadLayout(elf, { ...ia64Plugin, pageSize: 16384 });

const MASK41 = (1n << 41n) - 1n;
/** Templates whose slots 1 and 2 are one long immediate (MLX), not instructions. */
const MLX = new Set([0x04, 0x05]);

interface Bundle {
  readonly address: bigint;
  readonly template: number;
  readonly slots: readonly bigint[];
}

/** The bundles of the section called `name`. */
function bundlesOf(name: string): Bundle[] {
  const section = elf.sections.find((s) => s.name === name);
  if (section === undefined) throw new Error(`no ${name} section`);
  const bytes = elf.bytes.subarray(Number(section.offset), Number(section.offset + section.size));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Bundle[] = [];
  for (let i = 0; i + 16 <= bytes.length; i += 16) {
    const v = (view.getBigUint64(i + 8, true) << 64n) | view.getBigUint64(i, true);
    out.push({
      address: section.addr + BigInt(i),
      template: Number(v & 0x1fn),
      slots: [(v >> 5n) & MASK41, (v >> 46n) & MASK41, (v >> 87n) & MASK41],
    });
  }
  return out;
}

/** Instruction slots (MLX immediates left out) of the section called `name`. */
function instructionSlots(name: string): bigint[] {
  return bundlesOf(name).flatMap((b) => (MLX.has(b.template) ? [b.slots[0]] : [...b.slots]));
}

/**
 * `r1 = imm` as the assembler encodes `mov r1 = imm` of a constant: adds (A4, 14-bit
 * immediate) or addl (A5, 22-bit) with r3 = r0; null for any other slot.
 */
function movImmediate(slot: bigint): { r1: number; imm: number } | null {
  const opcode = Number(slot >> 37n);
  const r1 = Number((slot >> 6n) & 0x7fn);
  const s = Number((slot >> 36n) & 1n);
  const imm7b = Number((slot >> 13n) & 0x7fn);
  if ((slot & 0x3fn) !== 0n) return null; // predicated
  if (opcode === 8 && ((slot >> 33n) & 7n) === 4n && ((slot >> 20n) & 0x7fn) === 0n) {
    const imm6d = Number((slot >> 27n) & 0x3fn);
    return { r1, imm: (imm6d << 7) | imm7b | (s ? -(1 << 13) : 0) };
  }
  if (opcode === 9 && ((slot >> 20n) & 3n) === 0n) {
    const imm5c = Number((slot >> 22n) & 0x1fn);
    const imm9d = Number((slot >> 27n) & 0x1ffn);
    return { r1, imm: (imm5c << 16) | (imm9d << 7) | imm7b | (s ? -(1 << 21) : 0) };
  }
  return null;
}

/** Target of an IP-relative branch (B1, opcode 4, not predicated) in `slot` of `bundle`. */
function branchTarget(bundle: Bundle, slot: bigint): bigint | null {
  if (slot >> 37n !== 4n || (slot & 0x3fn) !== 0n) return null;
  const imm20 = (slot >> 13n) & 0xfffffn;
  const s = (slot >> 36n) & 1n;
  const imm21 = s === 1n ? imm20 - (1n << 20n) : imm20;
  return bundle.address + (imm21 << 4n);
}

/** `break 0x1000` in an M, I, B or F slot: opcode 0, all extension bits 0, imm 0x1000. */
const BREAK_HYPERCALL = 0x1000n << 6n;

describe("the IA-64 agent image", () => {
  it("is an ELF64 little-endian EM_IA_64 (LP64) executable the loader accepts, notes included", () => {
    expect(elf.elfClass).toBe(64);
    expect(elf.endianness).toBe("little");
    expect(elf.header.machine).toBe(EM_IA_64);
    expect(elf.header.flags & 0x10).toBe(0x10); // EF_IA_64_ABI64
    expect(elf.xen.loader).toBe("generic");
    expect(elf.xen.xenVersion).toBe("xen-3.0");
    expect(elf.xen.hypercallPage).toBeUndefined();
  });

  it("loads at its physical addresses above the emulated firmware (0-0x3000), entry on a bundle", () => {
    expect(layout.virtBase).toBe(0n);
    for (const s of layout.segments) {
      expect(s.header.paddr).toBe(s.header.vaddr);
      expect(s.physicalAddress).toBeGreaterThanOrEqual(0x3000n);
    }
    expect(layout.entry % 16n).toBe(0n);
    expect(layout.entry).toBe(bundlesOf(".text")[0].address);
  });

  it("has a 32 KiB aligned IVT whose every vector loads its own offset into r17 and joins one handler", () => {
    const ivt = elf.sections.find((s) => s.name === ".ivt")!;
    expect(ivt.addr % 0x8000n).toBe(0n);
    expect(ivt.size).toBe(0x8000n);
    const bundles = bundlesOf(".ivt");
    const offsets = [
      ...Array.from({ length: 20 }, (_, i) => i * 0x400),
      ...Array.from({ length: 48 }, (_, i) => 0x5000 + i * 0x100),
    ];
    const targets = new Set<bigint>();
    for (const off of offsets) {
      const b = bundles[off / 16];
      expect(movImmediate(b.slots[0]), `vector 0x${off.toString(16)}`).toEqual({
        r1: 17,
        imm: off,
      });
      const t = branchTarget(b, b.slots[2]);
      expect(t, `vector 0x${off.toString(16)} branches`).not.toBeNull();
      targets.add(t!);
    }
    expect(targets.size).toBe(1);
    const [handler] = targets;
    const text = elf.sections.find((s) => s.name === ".text")!;
    expect(handler >= text.addr && handler < text.addr + text.size).toBe(true);
  });

  it("makes the service call and its hypercalls with break 0x1000 and r2 = the number", () => {
    const slots = instructionSlots(".text");
    // SET_SHARED_INFO_VA, callback_op, the service call, the Hypercall request.
    expect(slots.filter((s) => s === BREAK_HYPERCALL)).toHaveLength(4);
    const movs = slots.map(movImmediate).filter((m) => m !== null);
    expect(movs).toContainEqual({ r1: 2, imm: 63 }); // the kernel service call
    expect(movs).toContainEqual({ r1: 2, imm: 0x600 }); // FW_HYPERCALL_SET_SHARED_INFO_VA
    expect(movs).toContainEqual({ r1: 2, imm: 30 }); // callback_op
  });

  it("holds a bundle with the reserved template 0x1f for the Illegal request", () => {
    expect(bundlesOf(".text").filter((b) => b.template === 0x1f)).toHaveLength(1);
  });
});

function fakeIo(boot: Partial<AgentBootReport>, blocks: [bigint, Uint8Array][] = []) {
  return blockAgentIo(IA64_DATA_MODEL, 16384, boot, blocks);
}

describe("Ia64GuestAgent", () => {
  it("passes guest-physical buffers as inline xencomm handles and refuses region 7 addresses", () => {
    const io = fakeIo({});
    expect(agent.guestHandle(io, 0x11c000n)).toBe(0x8000_0000_0011_c000n);
    expect(() => agent.guestHandle(io, 0xffff_ffff_fff0_0000n)).toThrow(/no inline xencomm handle/);
    expect(() => agent.guestHandle(io, 1n << 59n)).toThrow(/no inline xencomm handle/);
  });

  it("reads the General Exception by isr.code and gives the faulting slot in pc", () => {
    const genex = (code: bigint, ei: bigint) =>
      agent.describeTrap({
        vector: 0x5400n,
        code: (ei << 41n) | (code << 4n),
        address: 0n,
        pc: 0x100550n,
      });
    expect(genex(0n, 0n)).toMatchObject({ kind: "illegal-instruction", pc: 0x100550n });
    expect(genex(0n, 0n).detail).toContain("illegal operation");
    expect(genex(1n, 2n)).toMatchObject({ kind: "protection-fault", pc: 0x100552n });
    expect(genex(2n, 0n).kind).toBe("protection-fault");
    expect(genex(3n, 0n).kind).toBe("illegal-instruction");
  });

  it("reads TLB and access-rights faults as page faults at ifa, a write per isr.w", () => {
    const write = agent.describeTrap({
      vector: 0x0800n,
      code: 1n << 33n,
      address: 0x200_0000_0000n,
      pc: 0x100400n,
    });
    expect(write).toMatchObject({ kind: "page-fault", address: 0x200_0000_0000n, write: true });
    const read = agent.describeTrap({ vector: 0x5300n, code: 1n << 32n, address: 0x5000n, pc: 0n });
    expect(read).toMatchObject({ kind: "page-fault", address: 0x5000n, write: false });
    const fetch = agent.describeTrap({
      vector: 0x0c00n,
      code: 1n << 34n,
      address: 0x7000n,
      pc: 0x7000n,
    });
    expect(fetch).toMatchObject({ kind: "page-fault", write: false });
  });

  it("reads break, unaligned reference and other vectors", () => {
    const brk = agent.describeTrap({ vector: 0x2c00n, code: 0n, address: 0x80000n, pc: 0x100000n });
    expect(brk.kind).toBe("breakpoint");
    expect(brk.detail).toContain("break 0x80000");
    expect(
      agent.describeTrap({ vector: 0x5a00n, code: 0n, address: 0x101n, pc: 0n }),
    ).toMatchObject({
      kind: "alignment",
      address: 0x101n,
    });
    expect(agent.describeTrap({ vector: 0x5500n, code: 0n, address: 0n, pc: 0n }).detail).toContain(
      "disabled FP-register",
    );
  });

  it("reads start_info, which the agent reports as the page start of ia64_boot_param - 1168", () => {
    const si = START_INFO.layout(IA64_DATA_MODEL);
    const page = new Uint8Array(si.size);
    const v = new DataView(page.buffer);
    si.setString(v, 0, "magic", "xen-3.0-ia64");
    si.set(v, 0, "nr_pages", 2048);
    si.set(v, 0, "shared_info", 0x7f_c000);
    si.set(v, 0, "store_mfn", 0x1234);
    si.set(v, 0, "store_evtchn", 1);
    si.set(v, 0, "console.domU.mfn", 0x1235);
    si.set(v, 0, "console.domU.evtchn", 2);
    si.setString(v, 0, "cmd_line", "quiet");
    const io = fakeIo({ startInfo: 0x19c000n }, [[0x19c000n, page]]);
    expect(agent.bootInfo(io)).toEqual({
      nrPages: 2048,
      privileged: false,
      initialDomain: false,
      sharedInfoFrame: 0x1ffn, // 16 KiB frames
      storeFrame: 0x1234n,
      storeEvtchn: 1,
      consoleFrame: 0x1235n,
      consoleEvtchn: 2,
      cmdline: "quiet",
    });
    si.set(v, 0, "flags", 3); // SIF_PRIVILEGED | SIF_INITDOMAIN
    expect(agent.bootInfo(io)).toMatchObject({
      privileged: true,
      initialDomain: true,
      storeFrame: null,
    });
  });

  it("starts a secondary vCPU at ap_entry, bank 1, an empty frame, r8 = its id, with the IVT and callback (arch-ia64.h layout)", () => {
    const io = fakeIo({ apEntry: 0x100040n, arch: [0x110060n, 0x108000n, 0x100660n, 0n] });
    const bytes = agent.secondaryVcpuContext(io, 5);
    // Size and offsets as a C compiler lays out arch-ia64.h's struct (LP64, 16-byte aligned FP registers).
    expect(bytes.length).toBe(22208);
    const l = VCPU_GUEST_CONTEXT_IA64.layout(IA64_DATA_MODEL);
    expect(l.offsetOf("regs.f")).toBe(2560);
    expect(l.offsetOf("regs.rbs")).toBe(5784);
    expect(l.offsetOf("regs.num_phys_stacked")).toBe(22176);
    const v = new DataView(bytes.buffer);
    const at = (off: number) => v.getBigUint64(off, true);
    expect(at(0)).toBe(2n); // flags = VGCF_EXTRA_REGS
    expect(at(464)).toBe(0x100040n); // regs.ip
    expect(at(472)).toBe(1n << 44n); // regs.psr = bn
    expect(at(480)).toBe(1n << 63n); // regs.cfm: valid, empty
    expect(at(16 + 8 * 8)).toBe(5n); // regs.r[8]
    expect(at(824)).toBe(0x0009804c0270033fn); // regs.ar.fpsr
    expect(at(1544)).toBe(0x108000n); // regs.cr.iva
    expect(at(22192)).toBe(0x100660n); // event_callback_ip
    expect(at(632)).toBe(0n); // regs.ar.rsc: enforced lazy
  });

  it("names a page by its guest-physical frame (auto-translated guest, untranslated agent)", () => {
    const io = fakeIo({});
    expect(agent.frameOf(io, 0x11c000n)).toBe(0x47n);
    expect(agent.pfnOf(io, 0x11c000n)).toBe(0x47n);
    expect((agent as GuestAgent).mapFrame).toBeUndefined();
  });

  it("disarms its traps by writing 1, little-endian, to the traps_off word the agent reported", () => {
    const io = fakeIo({ arch: [0x110060n, 0n, 0n, 0n] });
    agent.disarmTraps(io);
    expect(io.writes).toEqual([[0x110060n, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0])]]);
  });

  it("is the ia64 plugin's agent; the other hooks still fail with their names", () => {
    expect(ia64Plugin.guestAgent()).toBeInstanceOf(Ia64GuestAgent);
    expect(() =>
      ia64Plugin.createVcpu(undefined as never, undefined as never, undefined as never),
    ).toThrow(/createVcpu/);
  });
});
