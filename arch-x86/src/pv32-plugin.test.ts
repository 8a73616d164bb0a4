/**
 * The x86 (32-bit PAE PV) plugin end to end on small ELF32 guests written here: the
 * builder's layout and start_info ("xen-3.0-x86_32p", 1112 bytes), the pinned PAE tables
 * and the compat M2P the guest can read at 0xF5800000, the entry state in ring 1, the
 * `int $0x82` hypercall page and direct `int $0x82`, a trap bounced to the guest's handler
 * and compat iret back, `int $0x82` from ring 3 (#GP), an exception with no trap table
 * (crash), and a non-PAE image refused.
 */
import "reflect-metadata";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import {
  bootInitialDomain,
  buildElf,
  createMachine,
  ImageError,
  RecordingConsoleSink,
  ShutdownReason,
  XenElfNote,
  type XenNoteSpec,
} from "@hvkit/core";
import { Reg, Seg } from "./cpu-api.js";
import { PageFlag, PageType, Pte, MACH2PHYS_COMPAT_VIRT_START } from "./pv-mmu.js";
import { writeHypercallPage32, X86PvPlugin } from "./pv32-plugin.js";
import { handleException32 } from "./pv32-traps.js";
import { readMsr, writeMsr } from "./pv-msr.js";

const BASE = 0x100000;
const HC_PAGE = 0x101000;

function notes(pae: string | null): XenNoteSpec[] {
  const n: XenNoteSpec[] = [
    { type: XenElfNote.GUEST_OS, value: "hvkit-test" },
    { type: XenElfNote.XEN_VERSION, value: "xen-3.0" },
    { type: XenElfNote.LOADER, value: "generic" },
    { type: XenElfNote.ENTRY, value: BASE },
    { type: XenElfNote.HYPERCALL_PAGE, value: HC_PAGE },
    { type: XenElfNote.FEATURES, value: "!writable_page_tables|pae_pgdir_above_4gb" },
  ];
  if (pae !== null) n.push({ type: XenElfNote.PAE_MODE, value: pae });
  return n;
}

/** An ELF32 guest: `code` at 1 MiB, a hypercall page after it, data at 0x102000. */
function guest(code: number[], data: number[] = [], pae: string | null = "yes"): Uint8Array {
  const img = new Uint8Array(0x3000);
  img.set(code, 0);
  img.set(data, 0x2000);
  return buildElf({
    elfClass: 32,
    machine: 3,
    entry: BASE,
    segments: [{ vaddr: BASE, data: img, align: 4096 }],
    xenNotes: notes(pae),
  });
}

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
/** mov $imm32, %reg (reg numbers as Reg). */
const movImm = (reg: Reg, v: number): number[] => [0xb8 + reg, ...le32(v)];
/** call the hypercall page's stub n. */
const callStub = (at: number, n: number): number[] => {
  const target = HC_PAGE + 32 * n;
  return [0xe8, ...le32((target - (at + 5)) >>> 0)];
};
/** console_io(write, len, buf) then sched_op(shutdown, &reason) through direct int $0x82. */
function writeAndPoweroff(msgAt: number, len: number, reasonAt: number): number[] {
  return [
    ...movImm(Reg.RAX, 18),
    ...movImm(Reg.RBX, 0),
    ...movImm(Reg.RCX, len),
    ...movImm(Reg.RDX, msgAt),
    0xcd,
    0x82,
    ...movImm(Reg.RAX, 29),
    ...movImm(Reg.RBX, 2),
    ...movImm(Reg.RCX, reasonAt),
    0xcd,
    0x82,
    0xf4,
  ];
}

function boot(image: Uint8Array, memoryMiB = 32) {
  const plugin = new X86PvPlugin();
  const sink = new RecordingConsoleSink();
  const machine = createMachine(container.createChildContainer(), {
    arch: plugin,
    memoryMiB,
    console: sink,
  });
  const domain = bootInitialDomain(machine, image, { cmdline: "hello pv32" });
  const v = domain.vcpus[0].arch;
  return { plugin, machine, domain, v, sink, layout: domain.arch.layout! };
}

describe("x86 (PV32) plugin", () => {
  it("lays out image, 4-byte p2m, start_info, PAE tables and stack as Xen's compat dom0 builder", () => {
    const { layout, domain, v, machine } = boot(guest([0xf4]));
    const P = 4096n;
    const up = (x: bigint): bigint => (x + P - 1n) & ~(P - 1n);
    const nr = domain.p2m.length;
    expect(layout.vStart).toBe(0n);
    expect(layout.vKernelEnd).toBe(0x103000n);
    expect(layout.vStartInfo).toBe(up(layout.vPhysmap + BigInt(nr * 4)));
    expect(layout.vPageTables).toBe(up(layout.vStartInfo + 1112n));
    expect(layout.vStack).toBe(layout.vPageTables + BigInt(layout.nrPtFrames) * P);
    // One L3, its four L2s, one L1 per 2 MiB mapped.
    expect(layout.nrPtFrames).toBeGreaterThanOrEqual(1 + 4 + Number(layout.vEnd >> 21n));
    const ft = machine.memory.frameTable;
    expect(layout.rootMfn).toBe(domain.p2m[Number(layout.vPageTables >> 12n)]);
    expect([ft.type[layout.rootMfn], ft.typeCount[layout.rootMfn]]).toEqual([PageType.L3, 2]);
    expect(ft.flags[layout.rootMfn] & PageFlag.Pinned).toBe(PageFlag.Pinned);
    const l3 = layout.rootMfn * 4096;
    const l2x = machine.memory.read32(l3 + 24) >>> 12;
    expect(ft.flags[l2x] & PageFlag.PaeXenL2).toBe(PageFlag.PaeXenL2);
    // Kernel mappings are supervisor (COMPAT_L1_PROT), page tables read-only.
    const mmu = v.mmu;
    const l1e = mmu.l1eAddress(v.guestTable, 0x100000n);
    expect(machine.memory.read32(l1e) & 0xfff & ~(Pte.A | Pte.D)).toBe(Pte.P | Pte.RW);
    expect(mmu.translate(v.guestTable, layout.vPageTables, true)).toBe(-1);
    expect(mmu.translate(v.guestTable, layout.vStack, true)).toBeGreaterThanOrEqual(0);
    expect(mmu.translate(v.guestTable, layout.vEnd, false)).toBe(-1);
    // The p2m list: 4-byte machine frames.
    for (const pfn of [0, 1, nr - 1]) {
      const pa = v.translate(layout.vPhysmap + BigInt(pfn * 4), false);
      expect(machine.memory.read32(pa)).toBe(domain.p2m[pfn]);
    }
    // The compat M2P, read-only at 0xF5800000, maps a frame back to its pfn.
    const m2p = v.translate(BigInt(MACH2PHYS_COMPAT_VIRT_START + domain.p2m[7] * 4), false);
    expect(machine.memory.read32(m2p)).toBe(7);
    expect(v.translate(BigInt(MACH2PHYS_COMPAT_VIRT_START), true)).toBe(-1);
  });

  it("fills the 1112-byte start_info with 4-byte fields and enters ring 1 on FLAT_RING1_CS", () => {
    const { layout, domain, v, machine } = boot(guest([0xf4]));
    const si = v.translate(layout.vStartInfo, false);
    const mem = machine.memory;
    const magic = String.fromCharCode(...mem.bytes.subarray(si, si + 16));
    expect(magic).toBe("xen-3.0-x86_32p\0");
    expect(mem.read32(si + 32)).toBe(domain.p2m.length);
    expect(mem.read32(si + 36)).toBe(domain.sharedInfoMfn * 4096);
    expect(mem.read32(si + 40)).toBe(3);
    expect(mem.read32(si + 60)).toBe(Number(layout.vPageTables));
    expect(mem.read32(si + 64)).toBe(layout.nrPtFrames);
    expect(mem.read32(si + 68)).toBe(Number(layout.vPhysmap));
    expect(String.fromCharCode(...mem.bytes.subarray(si + 80, si + 91))).toBe("hello pv32\0");
    expect(mem.read32(si + 1104)).toBe(domain.p2m.length);
    const cpu = v.cpu;
    expect(cpu.rip).toBe(0x100000n);
    expect(cpu.getReg(Reg.RSI)).toBe(layout.vStartInfo);
    expect(cpu.getReg(Reg.RSP)).toBe(layout.vStack + 4096n);
    expect([cpu.cpl, cpu.sel[Seg.CS], cpu.sel[Seg.SS], cpu.sel[Seg.DS]]).toEqual([
      1, 0xe019, 0xe021, 0xe021,
    ]);
    expect(cpu.codeSize).toBe(32);
    expect(cpu.rflags).toBe(0x202);
    expect(cpu.cr3).toBe(v.compatL4 * 4096);
  });

  it("writes 128 stubs `mov $n,%eax; int $0x82; ret`, stub 23 `push %eax; mov $23,%eax; int $0x82`", () => {
    const page = new Uint8Array(4096);
    writeHypercallPage32(page, 0);
    expect(Array.from(page.subarray(18 * 32, 18 * 32 + 9))).toEqual([
      0xb8, 18, 0, 0, 0, 0xcd, 0x82, 0xc3, 0xcc,
    ]);
    expect(Array.from(page.subarray(23 * 32, 23 * 32 + 9))).toEqual([
      0x50, 0xb8, 23, 0, 0, 0, 0xcd, 0x82, 0xcc,
    ]);
  });

  it("runs hypercalls through int $0x82 (ebx, ecx, edx): console output, then poweroff", () => {
    const msg = [..."hi pv32\n"].map((c) => c.charCodeAt(0));
    const { machine, domain, sink } = boot(
      guest(writeAndPoweroff(0x102000, msg.length, 0x102100), msg),
    );
    machine.run({ maxInstructions: 10_000 });
    expect(sink.textOf(0)).toBe("hi pv32\n");
    expect(domain.shutdownReason).toBe(ShutdownReason.Poweroff);
  });

  it("calls the hypercall page's stubs and gets results in eax", () => {
    // xen_version(XENVER_version) via stub 17, stored; then poweroff via stub 29.
    const code = [
      ...movImm(Reg.RBX, 0),
      ...callStub(BASE + 5, 17),
      0xa3,
      ...le32(0x102200), // mov %eax, 0x102200
      ...movImm(Reg.RBX, 2),
      ...movImm(Reg.RCX, 0x102100),
    ];
    code.push(...callStub(BASE + code.length, 29));
    const { machine, domain, v } = boot(guest(code));
    machine.run({ maxInstructions: 10_000 });
    expect(domain.shutdownReason).toBe(ShutdownReason.Poweroff);
    expect(machine.memory.read32(v.translate(0x102200n, false))).toBe((4 << 16) | 19);
  });

  it("bounces #UD to the trap table's handler with a compat frame and returns with iret", () => {
    // set_trap_table([{6, 0, 0xe019, handler}, {0}]); ud2; poweroff.
    // handler: add $2, (%esp) (skip ud2); jmp to the iret stub.
    const handler = BASE + 0x800;
    const table = 0x102000;
    const data = [6, 0, 0x19, 0xe0, ...le32(handler), 0, 0, 0, 0, 0, 0, 0, 0];
    const main = [
      ...movImm(Reg.RAX, 0),
      ...movImm(Reg.RBX, table),
      0xcd,
      0x82,
      0x89,
      0xe6, // mov %esp,%esi (remember the stack)
      0x0f,
      0x0b, // ud2
      0x89,
      0x25,
      ...le32(0x102300), // mov %esp, 0x102300
      ...writeAndPoweroff(0x102400, 0, 0x102100),
    ];
    const code = new Array<number>(0x900).fill(0x90);
    code.splice(0, main.length, ...main);
    const h = [0x8b, 0x04, 0x24, 0xa3, ...le32(0x102304)]; // mov (%esp),%eax; mov %eax,0x102304
    h.push(0x8b, 0x44, 0x24, 0x04, 0xa3, ...le32(0x102308)); // cs|mask → 0x102308
    h.push(0x83, 0x04, 0x24, 0x02); // addl $2,(%esp)
    const jmpAt = handler + h.length;
    h.push(0xe9, ...le32((HC_PAGE + 23 * 32 - (jmpAt + 5)) >>> 0));
    code.splice(0x800, h.length, ...h);
    const { machine, domain, v } = boot(guest(code, data));
    machine.run({ maxInstructions: 10_000 });
    expect(domain.shutdownReason).toBe(ShutdownReason.Poweroff);
    const r = (va: number): number => machine.memory.read32(v.translate(BigInt(va), false));
    expect(r(0x102304)).toBe(BASE + main.indexOf(0x0b) - 1); // the faulting ud2
    expect(r(0x102308)).toBe(0xe019 | (1 << 16)); // CS with the saved upcall mask (1 at boot)
    const esp = r(0x102300);
    expect(esp).toBe(Number(domain.arch.layout!.vStack) + 4096); // iret restored esp
  });

  it("crashes the domain on an exception with no trap table", () => {
    const { machine, domain } = boot(guest([0x0f, 0x0b]));
    machine.run({ maxInstructions: 1000 });
    expect(domain.shutdownReason).toBe(ShutdownReason.Crash);
  });

  it("turns int $0x82 from ring 3 into #GP(0x82 << 3 | 2) at the int", () => {
    const { v, domain } = boot(guest([0xf4]));
    v.trapAddr[13] = BASE + 0x40;
    v.trapCs[13] = 0xe019;
    v.kernelSp = Number(domain.arch.layout!.vStack) + 4096;
    const cpu = v.cpu;
    cpu.sel[Seg.CS] = 0xe02b;
    cpu.sel[Seg.SS] = 0xe033;
    cpu.cpl = 3;
    cpu.rip = 0x100002n;
    const x = cpu.exit;
    x.vector = 0x82;
    x.software = true;
    x.instructionLength = 2;
    v.kernelMode = false;
    expect(handleException32(v)).toBe(null);
    expect(cpu.rip).toBe(BigInt(BASE + 0x40));
    expect(cpu.cpl).toBe(1);
    const sp = cpu.getReg32(Reg.RSP);
    const r = (va: number): number => v.machine.memory.read32(v.translate(BigInt(va >>> 0), false));
    expect(r(sp)).toBe((0x82 << 3) | 2); // error code
    expect(r(sp + 4)).toBe(0x100000); // eip of the int
    expect(r(sp + 8) & 0xffff).toBe(0xe02b);
    expect(r(sp + 20)).toBe(0xe033); // ss of ring 3
  });

  it("emulates cli, sti, in and out from ring 1 when the virtual IOPL admits ring 1, else #GP(0)", () => {
    // mov $0x12345678,%eax; cli; sti; in $0x80,%al; mov $0x71,%dx; 66 in %dx,%ax;
    // out %al,$0x80; mov %eax,0x102300; then poweroff.
    const code = [
      ...movImm(Reg.RAX, 0x12345678),
      0xfa,
      0xfb,
      0xe4,
      0x80,
      0x66,
      0xba,
      0x71,
      0x00,
      0x66,
      0xed,
      0xe6,
      0x80,
      0xa3,
      ...le32(0x102300),
      ...writeAndPoweroff(0x102400, 0, 0x102100),
    ];
    const ok = boot(guest(code));
    ok.v.iopl = 0x1000;
    ok.machine.run({ maxInstructions: 1000 });
    expect(ok.domain.shutdownReason).toBe(ShutdownReason.Poweroff);
    const eax = ok.machine.memory.read32(ok.v.translate(0x102300n, false));
    expect(eax).toBe(0x1234ffff); // in %al: 0x...ff; in %ax: the low 16 bits all ones
    // IOPL 0 does not admit ring 1: the cli's #GP(0) reaches the guest (no trap table: crash).
    const refused = boot(guest(code));
    refused.machine.run({ maxInstructions: 1000 });
    expect(refused.domain.shutdownReason).toBe(ShutdownReason.Crash);
    expect(refused.v.cpu.rip).toBe(BigInt(BASE + 5)); // at the cli
  });

  it("sets the virtual IOPL with physdev_op(PHYSDEVOP_set_iopl): 0, then -EINVAL above 3", () => {
    // physdev_op(6, &iopl) with iopl 1 (at 0x102200), then 4 (at 0x102204); each result
    // stored; then poweroff.
    const call = (arg: number, out: number): number[] => [
      ...movImm(Reg.RAX, 33),
      ...movImm(Reg.RBX, 6),
      ...movImm(Reg.RCX, arg),
      0xcd,
      0x82,
      0xa3,
      ...le32(out),
    ];
    const code = [
      ...call(0x102200, 0x102300),
      ...call(0x102204, 0x102304),
      ...writeAndPoweroff(0x102400, 0, 0x102100),
    ];
    const data = new Array<number>(0x208).fill(0);
    data[0x200] = 1;
    data[0x204] = 4;
    const { machine, domain, v } = boot(guest(code, data));
    machine.run({ maxInstructions: 1000 });
    expect(domain.shutdownReason).toBe(ShutdownReason.Poweroff);
    const r = (va: number): number => machine.memory.read32(v.translate(BigInt(va), false));
    expect([r(0x102300), r(0x102304) | 0]).toEqual([0, -22]);
    expect(v.iopl).toBe(0x1000);
  });

  it("emulates the ring-1 kernel's mov to/from %cr0, %cr3, %cr4 and clts as Xen's read_cr/write_cr", () => {
    const store = (at: number): number[] => [0xa3, ...le32(at)]; // mov %eax, at
    const code = [
      ...[0x0f, 0x20, 0xd8], // mov %cr3, %eax
      ...store(0x102300),
      ...[0x0f, 0x22, 0xd8], // mov %eax, %cr3 (the same table)
      ...[0x0f, 0x20, 0xc0], // mov %cr0, %eax
      ...store(0x102304),
      ...[0x0f, 0x06], // clts
      ...[0x0f, 0x20, 0xc0], // mov %cr0, %eax
      ...store(0x10230c),
      ...movImm(Reg.RAX, 0x620),
      ...[0x0f, 0x22, 0xe0], // mov %eax, %cr4 (Linux's fpu__init_system value)
      ...[0x0f, 0x20, 0xe0], // mov %cr4, %eax
      ...store(0x102308),
      ...writeAndPoweroff(0x102400, 0, 0x102100),
    ];
    const { machine, domain, v } = boot(guest(code));
    v.cr0Ts = true;
    const table = v.guestTable;
    machine.run({ maxInstructions: 1000 });
    expect(domain.shutdownReason).toBe(ShutdownReason.Poweroff);
    const r = (va: number): number => machine.memory.read32(v.translate(BigInt(va), false));
    expect(r(0x102300)).toBe(((table << 12) | (table >>> 20)) >>> 0); // compat_pfn_to_cr3
    expect(v.guestTable).toBe(table);
    expect(r(0x102304)).toBe((0x80050033 | 8) >>> 0); // Xen's CR0 with the guest's TS
    expect(r(0x10230c)).toBe(0x80050033); // after clts
    expect(v.cr0Ts).toBe(false);
    expect(r(0x102308)).toBe(0x660); // PAE | MCE | OSFXSR | OSXMMEXCPT: the host's, visible
    // A CR0 write changing more than TS stays a #GP(0) (no trap table here: crash).
    const bad = boot(guest([...movImm(Reg.RAX, 0x80050032), 0x0f, 0x22, 0xc0, 0xf4]));
    bad.machine.run({ maxInstructions: 100 });
    expect(bad.domain.shutdownReason).toBe(ShutdownReason.Crash);
    expect(bad.v.cpu.rip).toBe(BigInt(BASE + 5));
  });

  it("emulates the ring-1 kernel's mov to/from %dr0-%dr7 and answers set/get_debugreg", () => {
    const code = [
      ...movImm(Reg.RAX, 0x102000),
      ...[0x0f, 0x23, 0xc0], // mov %eax, %db0
      ...[0x0f, 0x21, 0xc1], // mov %db0, %ecx
      ...[0x89, 0x0d, ...le32(0x102300)], // mov %ecx, 0x102300
      ...[0x0f, 0x21, 0xe2], // mov %db4, %edx (DR6 without CR4.DE)
      ...[0x89, 0x15, ...le32(0x102304)], // mov %edx, 0x102304
      ...movImm(Reg.RAX, 8), // set_debugreg(1, 0x102040)
      ...movImm(Reg.RBX, 1),
      ...movImm(Reg.RCX, 0x102040),
      0xcd,
      0x82,
      ...movImm(Reg.RAX, 9), // get_debugreg(1)
      0xcd,
      0x82,
      ...[0xa3, ...le32(0x102308)],
      ...writeAndPoweroff(0x102400, 0, 0x102100),
    ];
    const { machine, domain, v } = boot(guest(code));
    machine.run({ maxInstructions: 1000 });
    expect(domain.shutdownReason).toBe(ShutdownReason.Poweroff);
    const r = (va: number): number => machine.memory.read32(v.translate(BigInt(va), false));
    expect([r(0x102300), r(0x102304), r(0x102308)]).toEqual([0x102000, 0xffff0ff0, 0x102040]);
    expect(v.cpu.getDebugReg(0)).toBe(0x102000n);
    // mov to %dr7 with GD is refused: the #GP(0) reaches the guest (no trap table: crash).
    const bad = boot(guest([...movImm(Reg.RAX, 0x2000), 0x0f, 0x23, 0xf8, 0xf4]));
    bad.machine.run({ maxInstructions: 100 });
    expect(bad.domain.shutdownReason).toBe(ShutdownReason.Crash);
    expect(bad.v.cpu.rip).toBe(BigInt(BASE + 5));
  });

  it("emulates the ring-1 kernel's rdmsr/wrmsr as Xen's read_msr/write_msr for a 32-bit guest", () => {
    const store = (reg: number, at: number): number[] => [0x89, 0x05 | (reg << 3), ...le32(at)];
    const code = [
      ...movImm(Reg.RCX, 0xc0000080),
      0x0f,
      0x32, // rdmsr EFER
      ...store(Reg.RAX, 0x102300),
      ...store(Reg.RDX, 0x102304),
      ...movImm(Reg.RCX, 0x277),
      0x0f,
      0x32, // rdmsr PAT
      ...store(Reg.RAX, 0x102308),
      ...store(Reg.RDX, 0x10230c),
      ...movImm(Reg.RCX, 0xc0000080),
      ...movImm(Reg.RAX, 0x800),
      ...movImm(Reg.RDX, 0),
      0x0f,
      0x30, // wrmsr EFER, the value read
      ...writeAndPoweroff(0x102400, 0, 0x102100),
    ];
    const { machine, domain, v } = boot(guest(code));
    machine.run({ maxInstructions: 1000 });
    expect(domain.shutdownReason).toBe(ShutdownReason.Poweroff);
    const r = (va: number): number => machine.memory.read32(v.translate(BigInt(va), false));
    // guest_efer hides LME, LMA and (Intel) SCE from a 32-bit guest: NXE only.
    expect([r(0x102300), r(0x102304)]).toEqual([0x800, 0]);
    expect([r(0x102308), r(0x10230c)]).toEqual([0x00070406, 0x00000501]); // XEN_MSR_PAT
    // No segment-base MSRs for a 32-bit guest, and EFER keeps its value: #GP.
    v.trapAddr[13] = BASE;
    expect(readMsr(v, 0xc0000100)).toBeNull();
    expect(writeMsr(v, 0xc0000101, 0n)).toBe(false);
    expect(writeMsr(v, 0xc0000080, 0xd01n)).toBe(false);
  });

  it("refuses a 32-bit image without PAE_MODE", () => {
    expect(() => boot(guest([0xf4], [], null))).toThrow(ImageError);
  });
});
