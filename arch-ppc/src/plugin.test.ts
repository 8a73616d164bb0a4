/**
 * The PowerPC plugin against `abi/ppc.md`: the builder's layout, device tree and entry
 * state; `sc 1` hypercalls with inline xencomm handles; PAPR hcalls and problem state;
 * interrupts to the guest's vectors, the "no handler" rule and the decrementer; typed
 * errors for images PowerPC cannot boot. The guest code is hand-assembled (each word's
 * instruction beside it, as powerpc64-linux-gnu-as assembles it).
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { container } from "tsyringe";
import {
  bootDomU,
  bootInitialDomain,
  buildElf,
  createMachine,
  DomainState,
  ImageError,
  ImageErrorCode,
  RecordingConsoleSink,
  scaleDelta,
  setTimeScale,
  ShutdownReason,
  VCPU_INFO,
  VCPU_TIME_INFO,
  XenElfNote,
  type Domain,
} from "@hvkit/core";
import { MSR_SF } from "./abi.js";
import { ENTRY_STACK, TIMEBASE_FREQUENCY } from "./builder.js";
import { Spr } from "./cpu/cpu-api.js";
import { parseDeviceTree } from "./device-tree.js";
import { createGuestStorage, RMA_BYTES } from "./guest-storage.js";
import { HStatus } from "./mmu/papr.js";
import { PpcPvPlugin, type PpcPv } from "./plugin.js";

/** The test image: words at guest-physical addresses (linked at 0, vectors included). */
const CODE: readonly (readonly [number, number])[] = [
  // 0x700 program vector: r21 = SRR0, r22 = SRR1, r23 = 0x700, spin.
  [0x700, 0x7eba02a6], // mfsrr0 r21
  [0x704, 0x7edb02a6], // mfsrr1 r22
  [0x708, 0x3ae00700], // li r23,0x700
  [0x70c, 0x48000000], // b .
  // 0x900 decrementer vector: the same with r23 = 0x900.
  [0x900, 0x7eba02a6], // mfsrr0 r21
  [0x904, 0x7edb02a6], // mfsrr1 r22
  [0x908, 0x3ae00900], // li r23,0x900
  [0x90c, 0x48000000], // b .
  // 0x1000 hello: console_io(write, 5, inline handle of 0x1f00), then sched_op(shutdown).
  [0x1000, 0x3c60ffff], // lis r3,-1
  [0x1004, 0x60630012], // ori r3,r3,0x12          XEN_MARK | console_io
  [0x1008, 0x38800000], // li r4,0                 CONSOLEIO_write
  [0x100c, 0x38a00005], // li r5,5
  [0x1010, 0x38c00001], // li r6,1
  [0x1014, 0x78c6f806], // sldi r6,r6,63
  [0x1018, 0x60c61f00], // ori r6,r6,0x1f00        inline xencomm handle
  [0x101c, 0x44000022], // sc 1
  [0x1020, 0x7c741b78], // mr r20,r3
  [0x1024, 0x3c60ffff], // lis r3,-1
  [0x1028, 0x6063001d], // ori r3,r3,0x1d          XEN_MARK | sched_op
  [0x102c, 0x38800002], // li r4,2                 SCHEDOP_shutdown
  [0x1030, 0x38a00001], // li r5,1
  [0x1034, 0x78a5f806], // sldi r5,r5,63
  [0x1038, 0x60a51f10], // ori r5,r5,0x1f10        { u32 reason = 0 }
  [0x103c, 0x44000022], // sc 1
  [0x1040, 0x48000000], // b .
  // 0x1100: an illegal word with MSR[RI] = 0 (as at entry).
  [0x1100, 0x00000000],
  // 0x1200: RI = 1, then the illegal word.
  [0x1200, 0x38000002], // li r0,2
  [0x1204, 0x7c010164], // mtmsrd r0,1
  [0x1208, 0x60000000], // nop
  [0x120c, 0x00000000],
  // 0x1300: PAPR H_SET_DABR (0x28, not modelled), a number that is no hcall (6), then
  // xen_version (0x11).
  [0x1300, 0x38600028], // li r3,0x28
  [0x1304, 0x44000022], // sc 1
  [0x1308, 0x7c741b78], // mr r20,r3
  [0x130c, 0x38600006], // li r3,6
  [0x1310, 0x44000022], // sc 1
  [0x1314, 0x7c751b78], // mr r21,r3
  [0x1318, 0x3c60ffff], // lis r3,-1
  [0x131c, 0x60630011], // ori r3,r3,0x11          XEN_MARK | xen_version
  [0x1320, 0x44000022], // sc 1
  [0x1324, 0x7c761b78], // mr r22,r3
  [0x1328, 0x48000000], // b .
  // 0x1400: rfid into problem state (SF | PR | RI) at 0x1440: xen_version, then H_ENTER.
  [0x1400, 0x38000001], // li r0,1
  [0x1404, 0x7800f806], // sldi r0,r0,63
  [0x1408, 0x60004002], // ori r0,r0,0x4002
  [0x140c, 0x7c1b03a6], // mtsrr1 r0
  [0x1410, 0x38001440], // li r0,0x1440
  [0x1414, 0x7c1a03a6], // mtsrr0 r0
  [0x1418, 0x4c000024], // rfid
  [0x1440, 0x3c60ffff], // lis r3,-1
  [0x1444, 0x60630011], // ori r3,r3,0x11
  [0x1448, 0x44000022], // sc 1
  [0x144c, 0x7c741b78], // mr r20,r3
  [0x1450, 0x38600008], // li r3,8
  [0x1454, 0x44000022], // sc 1
  [0x1458, 0x7c751b78], // mr r21,r3
  [0x145c, 0x48000000], // b .
  // 0x1500: DEC = 100, then EE = RI = 1 and count in r20 until the decrementer fires.
  [0x1500, 0x38000064], // li r0,100
  [0x1504, 0x7c1603a6], // mtdec r0
  [0x1508, 0x38000000], // li r0,0
  [0x150c, 0x60008002], // ori r0,r0,0x8002
  [0x1510, 0x7c010164], // mtmsrd r0,1
  [0x1514, 0x3a940001], // addi r20,r20,1
  [0x1518, 0x4bfffffc], // b 0x1514
  // 0x1600: r20 = time base, 3 000 000 iterations of bdnz, r21 = time base, spin.
  [0x1600, 0x7e8c42e6], // mftb r20
  [0x1604, 0x3c00002d], // lis r0,45
  [0x1608, 0x6000c6c0], // ori r0,r0,50880         r0 = 3 000 000
  [0x160c, 0x7c0903a6], // mtctr r0
  [0x1610, 0x42000000], // bdnz 0x1610
  [0x1614, 0x7eac42e6], // mftb r21
  [0x1618, 0x48000000], // b .
  // 0x1700: RI = 1, DEC = 0 with EE = 0 (pending once a tick passes), wait 100
  // instructions, then EE = 1 at 0x1740: the decrementer is due before 0x1744.
  [0x1700, 0x38000002], // li r0,2
  [0x1704, 0x7c010164], // mtmsrd r0,1
  [0x1708, 0x38000000], // li r0,0
  [0x170c, 0x7c1603a6], // mtdec r0
  [0x1710, 0x38000064], // li r0,100
  [0x1714, 0x7c0903a6], // mtctr r0
  [0x1718, 0x42000000], // bdnz 0x1718
  [0x171c, 0x38000000], // li r0,0
  [0x1720, 0x60008002], // ori r0,r0,0x8002
  [0x1724, 0x7c010164], // mtmsrd r0,1
  [0x1728, 0x39200001], // li r9,1
  [0x172c, 0x48000000], // b .
  // 0x1800: EE = RI = 1 (DEC far off), then DEC = −1 at 0x180c: due before 0x1810.
  [0x1800, 0x38000000], // li r0,0
  [0x1804, 0x60008002], // ori r0,r0,0x8002
  [0x1808, 0x7c010164], // mtmsrd r0,1
  [0x180c, 0x3800ffff], // li r0,-1
  [0x1810, 0x7c1603a6], // mtdec r0
  [0x1814, 0x39200002], // li r9,2
  [0x1818, 0x48000000], // b .
  // 0x1900: one hypervisor call with the registers the test sets, r20 = r3, r21 = r4.
  [0x1900, 0x44000022], // sc 1
  [0x1904, 0x7c741b78], // mr r20,r3
  [0x1908, 0x7c952378], // mr r21,r4
  [0x190c, 0x48000000], // b .
  // Data: "hello" at 0x1f00, sched_shutdown { reason 0 (poweroff) } at 0x1f10.
  [0x1f00, 0x68656c6c],
  [0x1f04, 0x6f000000],
];

function image(entry: bigint, opts: { paddr?: bigint; notes?: boolean } = {}): Uint8Array {
  const data = new Uint8Array(0x2000);
  const view = new DataView(data.buffer);
  for (const [at, word] of CODE) view.setUint32(at, word, false);
  return buildElf({
    machine: 21,
    endianness: "big",
    entry,
    segments: [{ vaddr: 0xc000000000000000n, paddr: opts.paddr ?? 0n, data }],
    ...(opts.notes
      ? {
          xenNotes: [
            { type: XenElfNote.GUEST_OS, value: "hvkit-test" },
            { type: XenElfNote.XEN_VERSION, value: "xen-2.0" },
            { type: XenElfNote.LOADER, value: "generic" },
          ],
        }
      : {}),
  });
}

function machine(memoryMiB = 96) {
  const console = new RecordingConsoleSink();
  const m = createMachine<PpcPv>(container.createChildContainer(), {
    arch: new PpcPvPlugin(),
    memoryMiB,
    console,
  });
  return { m, console };
}

function dom0(entry: number, memoryMiB = 96) {
  const { m, console } = machine(memoryMiB);
  const domain = bootInitialDomain(m, image(0xc000000000000000n + BigInt(entry)), {
    cmdline: "root=/dev/xvda",
  });
  return { m, console, domain, cpu: domain.vcpus[0]!.arch.cpu };
}

function treeOf(d: Domain<PpcPv>, m: ReturnType<typeof machine>["m"]) {
  const cpu = d.vcpus[0]!.arch.cpu;
  const gpa = Number(cpu.gpr(3));
  const pa = d.p2m[gpa >> 12]! * 4096 + (gpa & 0xfff);
  const size = new DataView(m.memory.bytes.buffer).getUint32(pa + 4, false);
  return parseDeviceTree(m.memory.bytes.slice(pa, pa + size));
}

describe("ppc domain builder", () => {
  it("enters at e_entry masked to 42 bits, MSR = SF, r1 below 32 MiB, r3 the tree, r4 the load address", () => {
    const { domain, cpu } = dom0(0x1000);
    expect(cpu.pc).toBe(0x1000n);
    expect(cpu.msrHi).toBe(Number(MSR_SF >> 32n) | 0);
    expect(cpu.msrLo).toBe(0);
    expect(cpu.gpr(1)).toBe(ENTRY_STACK);
    expect(cpu.gpr(4)).toBe(0n);
    for (const r of [0, 2, 5, 13, 31]) expect(cpu.gpr(r)).toBe(0n);
    const layout = domain.arch.layout!;
    expect(cpu.gpr(3)).toBe(layout.deviceTree);
    // From the RMA's top: shared_info, console, xenstore, then the tree.
    expect(layout.sharedInfo).toBe(BigInt(RMA_BYTES - 4096));
    expect(layout.console).toBe(BigInt(RMA_BYTES - 8192));
    expect(layout.xenstore).toBe(BigInt(RMA_BYTES - 12288));
    expect(layout.deviceTree < layout.xenstore).toBe(true);
    expect(domain.p2m[(RMA_BYTES >> 12) - 1]).toBe(domain.sharedInfoMfn);
  });

  it("writes the device tree abi/ppc.md lists", () => {
    const { m, domain } = dom0(0x1000);
    const root = treeOf(domain, m);
    expect(root.u32("#address-cells")).toBe(2);
    expect(root.string("compatible")).toBe("hvkit,xen-ppc");
    expect(root.find("/chosen")!.string("bootargs")).toBe("root=/dev/xvda");
    expect(root.find("/chosen")!.string("linux,stdout-path")).toBe("/xen/console");
    const xen = root.find("/xen")!;
    expect(xen.string("compatible")).toBe("Xen-3.0-unstable");
    expect(xen.u64("reg", 0)).toBe(0n);
    expect(xen.u64("shared-info", 0)).toBe(BigInt(RMA_BYTES - 4096));
    expect(xen.u64("shared-info", 1)).toBe(4096n);
    // The initial domain has no console or store ring of its own.
    expect(root.find("/xen/console")!.properties.has("reg")).toBe(false);
    expect(root.find("/memory@0")!.u64("reg", 1)).toBe(BigInt(RMA_BYTES));
    const above = domain.p2m.length * 4096 - RMA_BYTES;
    expect(root.find(`/memory@${RMA_BYTES.toString(16)}`)!.u64("reg", 1)).toBe(BigInt(above));
    const cpu = root.find("/cpus/cpu@0")!;
    expect(cpu.string("device_type")).toBe("cpu");
    expect(cpu.u32("timebase-frequency")).toBe(TIMEBASE_FREQUENCY);
    expect(cpu.u32("ibm,pft-size", 1)).toBeGreaterThanOrEqual(18);
  });

  it("gives a domU its console and store rings and ports in /xen", () => {
    const { m } = machine();
    bootInitialDomain(m, image(0x1040n), { maxPages: 4096 });
    const boot = bootDomU(m, image(0x1040n), { maxPages: 2048 });
    const root = treeOf(boot.domain, m);
    const d = boot.domain;
    const store = root.find("/xen/store")!;
    const console = root.find("/xen/console")!;
    expect(store.u32("interrupts")).toBe(boot.storeEvtchn);
    expect(console.u32("interrupts")).toBe(boot.consoleEvtchn);
    expect(d.p2m[Number(store.u64("reg")! >> 12n)]).toBe(boot.storeMfn);
    expect(d.p2m[Number(console.u64("reg")! >> 12n)]).toBe(boot.consoleMfn);
    // A domain smaller than 64 MiB: its RMA is all of it.
    expect(root.find("/memory@0")!.u64("reg", 1)).toBe(2048n * 4096n);
    expect(root.find("/xen")!.u64("reg")).toBe(BigInt(d.id));
  });

  it("refuses images it cannot boot, saying what and where", () => {
    const { m } = machine();
    const outside = image(0xc000000000000000n + BigInt(RMA_BYTES), { paddr: BigInt(RMA_BYTES) });
    expect(() => bootInitialDomain(m, outside)).toThrow(/outside the .*real-mode area/);
    const badNotes = image(0x1000n, { notes: true });
    try {
      bootInitialDomain(m, badNotes);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ImageError);
      expect((e as ImageError).code).toBe(ImageErrorCode.BadXenVersion);
    }
    expect(() => bootInitialDomain(m, image(0x1000n), { ramdisk: new Uint8Array(8) })).toThrow(
      /ramdisk/,
    );
  });
});

describe("ppc vCPU", () => {
  it("makes Xen calls with sc 1 and inline xencomm handles: console_io, then shutdown", () => {
    const { m, console, domain, cpu } = dom0(0x1000);
    m.run({ maxInstructions: 10_000 });
    expect(console.textOf(0)).toBe("hello");
    expect(cpu.gpr(20)).toBe(0n);
    expect(domain.state).toBe(DomainState.Shutdown);
    expect(domain.shutdownReason).toBe(ShutdownReason.Poweroff);
  });

  it("copies through a descriptor handle (a plain address during a hypercall)", () => {
    const { m, console, domain } = dom0(0x1000);
    const view = new DataView(m.memory.bytes.buffer);
    const at = (gpa: number): number => domain.p2m[gpa >> 12]! * 4096 + (gpa & 0xfff);
    // r6 = 0x1f40, a descriptor listing "he" at the end of page 2 and "llo" at page 3.
    view.setUint32(at(0x1010), 0x38c01f40, false); // li r6,0x1f40
    view.setUint32(at(0x1014), 0x60000000, false); // nop
    view.setUint32(at(0x1018), 0x60000000, false); // nop
    view.setUint32(at(0x1f40), 0x58434f4d, false); // "XCOM"
    view.setUint32(at(0x1f44), 2, false);
    view.setBigUint64(at(0x1f48), 0x2ffen, false);
    view.setBigUint64(at(0x1f50), 0x3000n, false);
    m.memory.bytes.set(new TextEncoder().encode("he"), at(0x2ffe));
    m.memory.bytes.set(new TextEncoder().encode("llo"), at(0x3000));
    m.run({ maxInstructions: 10_000 });
    expect(console.textOf(0)).toBe("hello");
  });

  it("crashes the domain for an interrupt taken with MSR[RI] = 0", () => {
    const { m, domain } = dom0(0x1100);
    m.run({ maxInstructions: 1000 });
    expect(domain.shutdownReason).toBe(ShutdownReason.Crash);
  });

  it("delivers a program interrupt to 0x700 with SRR0 and SRR1 once RI = 1", () => {
    const { m, domain, cpu } = dom0(0x1200);
    m.run({ maxInstructions: 1000 });
    expect(domain.state).toBe(DomainState.Running);
    expect(cpu.gpr(23)).toBe(0x700n);
    expect(cpu.gpr(21)).toBe(0x120cn);
    // SRR1: SF and RI kept, the illegal-instruction cause bit (44).
    expect(cpu.gpr(22)).toBe(MSR_SF | 0x80000n | 0x2n);
    // The vector runs with SF (and ME) only: RI and EE cleared.
    expect(cpu.msrLo & 0x8002).toBe(0);
  });

  it("answers PAPR hcalls itself: H_Function for one not modelled, H_Parameter for none", () => {
    const { m, cpu } = dom0(0x1300);
    m.run({ maxInstructions: 1000 });
    expect(cpu.gpr(20)).toBe(BigInt.asUintN(64, BigInt(HStatus.Function)));
    expect(cpu.gpr(21)).toBe(BigInt.asUintN(64, BigInt(HStatus.Parameter)));
    expect(Number(cpu.gpr(22))).toBeGreaterThan(0); // xen_version: (major << 16) | minor
  });

  it("refuses hypercalls from problem state: −EPERM and H_Privilege", () => {
    const { m, cpu, domain } = dom0(0x1400);
    // Problem state turns IR/DR on; this guest has no mappings, so it runs on real-mode
    // storage (the refusal does not depend on translation).
    const v = domain.vcpus[0]!.arch;
    cpu.memory = createGuestStorage(m, domain);
    v.mmu = null;
    m.run({ maxInstructions: 1000 });
    expect(cpu.gpr(20)).toBe(BigInt.asUintN(64, -1n));
    expect(cpu.gpr(21)).toBe(BigInt.asUintN(64, BigInt(HStatus.Privilege)));
  });

  it("routes H_ENTER to the MMU: a frame the domain owns is entered, another refused", () => {
    const hEnter = (gpfn: number) => {
      const { m, cpu, domain } = dom0(0x1900);
      cpu.setGpr(3, 0x08n); // H_ENTER
      cpu.setGpr(4, 0n);
      cpu.setGpr(5, 8n); // PTEG 1, any slot
      cpu.setGpr(6, (0x1234n << 12n) | 1n); // AVPN, V
      cpu.setGpr(7, (BigInt(gpfn) << 12n) | 0x12n); // RPN, M, PP 2
      m.run({ maxInstructions: 100 });
      return { cpu, domain };
    };
    const own = hEnter(20);
    expect(own.cpu.gpr(20)).toBe(0n);
    expect(own.cpu.gpr(21)).toBe(8n); // the slot used
    expect(own.domain.arch.hpt!.dword(8, 1)).toBe((20n << 12n) | 0x12n);
    const beyond = own.domain.p2m.length + 16;
    const other = hEnter(beyond);
    expect(other.cpu.gpr(20)).toBe(BigInt.asUintN(64, BigInt(HStatus.Parameter)));
    expect(other.domain.arch.hpt!.dword(8, 0)).toBe(0n);
  });

  it("runs the MMU corpus program: H_ENTER, slbmte, IR/DR on, H_REMOVE, then a DSI", () => {
    const code = readFileSync(new URL("./mmu/corpus/translate.bin", import.meta.url));
    const { m } = machine(16); // a 2^18-byte HPT: the program's PTEG numbers assume 2^11
    const domain = bootInitialDomain(
      m,
      buildElf({
        machine: 21,
        endianness: "big",
        entry: 0x1000n,
        segments: [{ vaddr: 0x1000n, paddr: 0x1000n, data: new Uint8Array(code) }],
      }),
      { cmdline: "" },
    );
    expect(domain.arch.hpt!.log2Bytes).toBe(18);
    const frame20 = domain.p2m[20]! * 4096;
    m.memory.view.setUint32(frame20 + 0x10, 0xcafef00d, false);
    m.run({ maxInstructions: 1000 });
    const cpu = domain.vcpus[0]!.arch.cpu;
    expect([cpu.gpr(20), cpu.gpr(22)]).toEqual([0n, 0n]); // both H_ENTERs
    expect(cpu.gpr(25)).toBe(0xcafef00dn); // read through the mapping
    expect(m.memory.view.getUint32(frame20 + 0x14, false)).toBe(0xcafef00e);
    expect(cpu.gpr(27)).toBe(0n); // H_REMOVE
    // The load after H_REMOVE is a DSI, taken with MSR[RI] = 0: the domain crashes.
    expect(domain.shutdownReason).toBe(ShutdownReason.Crash);
  });

  it("delivers the decrementer to 0x900 when DEC turns negative with EE = 1", () => {
    const { m, cpu } = dom0(0x1500);
    m.run({ maxInstructions: 5000 });
    expect(cpu.gpr(23)).toBe(0x900n);
    // DEC was 100 when written and turns negative 101 ticks later, ticks of 30 ns (one
    // instruction each): about 3030 instructions of the two-instruction loop.
    const loops = Number(cpu.gpr(20));
    expect(loops).toBeGreaterThanOrEqual(1497);
    expect(loops).toBeLessThanOrEqual(1517);
    expect(cpu.gpr(22) & 0x8002n).toBe(0x8002n);
    expect(cpu.sprLo[Spr.SRR0]! >>> 0).toBeGreaterThanOrEqual(0x1514);
  });

  it("ticks the time base at timebase-frequency; vcpu_time_info turns ticks back into ns", () => {
    const { m, domain, cpu } = dom0(0x1600);
    m.run({ maxInstructions: 3_100_000 });
    // The first mftb runs at virtual ns clockBase, the second 3 000 004 instructions later.
    const ns0 = cpu.clockBase;
    const ns1 = ns0 + 3_000_004;
    const tb = (ns: number): bigint => (BigInt(ns) * BigInt(TIMEBASE_FREQUENCY)) / 10n ** 9n;
    expect(cpu.gpr(20)).toBe(tb(ns0));
    expect(cpu.gpr(21)).toBe(tb(ns1));
    expect(cpu.gpr(21) - cpu.gpr(20)).toBe(100_000n); // 3 ms at 33.333333 MHz
    const vcpu = domain.vcpus[0]!;
    const t = VCPU_TIME_INFO.layout(m.arch.dataModel);
    const at = vcpu.vcpuInfoAddr() + VCPU_INFO.layout(m.arch.dataModel).offsetOf("time");
    const scale = {
      mulFrac: t.getNumber(m.memory.view, at, "tsc_to_system_mul"),
      shift: t.getNumber(m.memory.view, at, "tsc_shift"),
    };
    expect(scale).toEqual(setTimeScale(TIMEBASE_FREQUENCY));
    const tsc = t.getBigInt(m.memory.view, at, "tsc_timestamp");
    const system = t.getBigInt(m.memory.view, at, "system_time");
    const read = system + scaleDelta(cpu.gpr(21) - tsc, scale);
    expect(Number(read) - ns1).toBeGreaterThanOrEqual(-30);
    expect(Number(read) - ns1).toBeLessThanOrEqual(30);
  });

  it.each([
    ["the mtmsrd that sets EE while it is pending", 0x1700, 0x1728n],
    ["an mtdec that makes it negative with EE = 1", 0x1800, 0x1814n],
  ])("takes the decrementer right after %s (latency 0)", (_what, entry, next) => {
    const { m, cpu } = dom0(entry);
    m.run({ maxInstructions: 1000 });
    expect(cpu.gpr(23)).toBe(0x900n);
    expect(cpu.gpr(21)).toBe(next); // SRR0: the instruction after
    expect(cpu.gpr(9)).toBe(0n);
  });

  it("ends a run exactly where DEC turns negative (latency 0 for a running decrementer)", () => {
    const { m, cpu } = dom0(0x1500);
    m.run({ maxInstructions: 5000 });
    // The loop was interrupted at the first instruction whose time base is 101 ticks
    // past the mtdec (DEC 100 → −1): one instruction earlier it was not yet negative.
    const srr0 = cpu.sprLo[Spr.SRR0]! >>> 0;
    expect([0x1514, 0x1518]).toContain(srr0);
    const hz = TIMEBASE_FREQUENCY;
    const at = (ns: number): number => Math.floor((ns * hz) / 1e9);
    const written = cpu.decWrittenAt;
    // Instructions from the mtdec (retired at ns clockBase + 1) to the interrupt.
    const retired = 4 + 2 * Number(cpu.gpr(20)) + (srr0 === 0x1518 ? 1 : 0);
    const ns = cpu.clockBase + 2 + retired - 1;
    expect(at(ns) - written).toBeGreaterThanOrEqual(101);
    expect(at(ns - 1) - written).toBeLessThan(101);
  });

  it("translates inline handles as guest-physical and plain addresses in the RMA", () => {
    const { m, domain } = dom0(0x1040);
    const v = domain.vcpus[0]!.arch;
    const pa = domain.p2m[1]! * 4096 + 0x10;
    expect(v.translate(0x1010n | (1n << 63n), false)).toBe(pa);
    expect(v.translate(0x1010n, false)).toBe(pa);
    expect(v.translate(BigInt(RMA_BYTES), false)).toBe(-1);
    const beyond = BigInt(domain.p2m.length) * 4096n;
    expect(v.translate(beyond | (1n << 63n), false)).toBe(-1);
    expect(m.arch.disassemble(domain.vcpus[0]!, 0x101cn, 1)[0]).toMatch(/sc\s+1/);
  });
});
