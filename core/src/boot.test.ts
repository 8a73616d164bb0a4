import { describe, expect, it } from "vitest";
import { gzipSync } from "node:zlib";
import { bootDomU, bootInitialDomain, libxcRamdisk } from "./boot.js";
import { DomainState } from "./domain.js";
import { ImageError, ImageErrorCode } from "./errors.js";
import { MAX_EVTCHN_PORT_UNLIMITED, PortState } from "./event-channel.js";
import { fakeMachine } from "./testing/fake-machine.js";
import { VcpuState } from "./vcpu.js";

/** A minimal ELF64 little-endian executable: one PT_LOAD of 16 bytes at 0x400000, entry inside. */
function tinyElf(machine = 0x4242): Uint8Array {
  const bytes = new Uint8Array(0x40 + 0x38 + 16);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]); // \x7fELF, ELFCLASS64, LSB, EV_CURRENT
  v.setUint16(0x10, 2, true); // ET_EXEC
  v.setUint16(0x12, machine, true);
  v.setUint32(0x14, 1, true);
  v.setBigUint64(0x18, 0x400000n, true); // e_entry
  v.setBigUint64(0x20, 0x40n, true); // e_phoff
  v.setUint16(0x34, 0x40, true); // e_ehsize
  v.setUint16(0x36, 0x38, true); // e_phentsize
  v.setUint16(0x38, 1, true); // e_phnum
  v.setUint16(0x3a, 0x40, true); // e_shentsize
  const ph = 0x40;
  v.setUint32(ph, 1, true); // PT_LOAD
  v.setUint32(ph + 4, 5, true); // R+X
  v.setBigUint64(ph + 8, 0x78n, true); // p_offset
  v.setBigUint64(ph + 16, 0x400000n, true); // p_vaddr
  v.setBigUint64(ph + 24, 0x400000n, true); // p_paddr
  v.setBigUint64(ph + 32, 16n, true); // p_filesz
  v.setBigUint64(ph + 40, 16n, true); // p_memsz
  v.setBigUint64(ph + 48, 0x1000n, true); // p_align
  return bytes;
}

describe("bootInitialDomain", () => {
  it("creates domain 0 privileged, lets the arch build it as the initial domain, starts vCPU 0", () => {
    const { machine, arch } = fakeMachine();
    const dom0 = bootInitialDomain(machine, tinyElf(), {
      cmdline: "console=hvc0",
      mode: "pv",
      vcpus: 2,
    });
    expect(dom0.id).toBe(0);
    expect(dom0.privileged).toBe(true);
    expect(dom0.maxPages).toBe(machine.memory.frames);
    expect(arch.builds.length).toBe(1);
    const req = arch.builds[0];
    expect(req).toMatchObject({ cmdline: "console=hvc0", mode: "pv", initial: true });
    expect(req.domain).toBe(dom0);
    expect(req.image.header.entry).toBe(0x400000n);
    expect(dom0.vcpus.map((v) => v.state)).toEqual([VcpuState.Runnable, VcpuState.Down]);
  });

  it("defaults to the arch's first mode and accepts a parsed image", () => {
    const first = fakeMachine({ modes: ["hvm-vmx", "pv"] });
    const parsed = (() => {
      const { machine, arch } = fakeMachine();
      bootInitialDomain(machine, tinyElf());
      return arch.builds[0].image;
    })();
    const dom0 = bootInitialDomain(first.machine, parsed);
    expect(dom0.mode).toBe("hvm-vmx");
    expect(first.arch.builds[0].image).toBe(parsed);
  });

  it("a bad image is a typed ImageError and leaves no domain behind", () => {
    const { machine, arch } = fakeMachine();
    expect(() => bootInitialDomain(machine, new Uint8Array([1, 2, 3]))).toThrow(ImageError);
    expect(() => bootInitialDomain(machine, tinyElf(62))).toThrow(
      /machine 62 is not one this arch boots/,
    );
    expect(arch.builds.length).toBe(0);
    expect(machine.domains.size).toBe(0);
  });

  it("a builder's ImageError propagates and the half-built domain is destroyed", () => {
    const { machine } = fakeMachine({
      build: ({ machine: m, domain }) => {
        m.allocFrames(domain, 10);
        throw new ImageError(ImageErrorCode.BadSegment, "program header 0", "too big");
      },
    });
    const before = machine.freeFrameCount();
    expect(() => bootInitialDomain(machine, tinyElf())).toThrow(/too big/);
    expect(machine.domains.size).toBe(0);
    expect(machine.freeFrameCount()).toBe(before);
    expect(machine.liveDomains).toBe(0);
    expect(machine.run().kind).toBe("all-shutdown");
    // Domain 0 can be booted afterwards.
    const ok = fakeMachine();
    expect(bootInitialDomain(ok.machine, tinyElf()).state).toBe(DomainState.Running);
  });
});

describe("bootDomU", () => {
  it("creates the next free domain unprivileged, ports for dom0 first, built with initial false", () => {
    const { machine, arch } = fakeMachine({
      build: () => ({ storeMfn: 900, consoleMfn: 901 }),
    });
    const dom0 = bootInitialDomain(machine, tinyElf());
    const boot = bootDomU(machine, tinyElf(), { cmdline: "quiet", vcpus: 2, maxPages: 64 });
    const d = boot.domain;
    expect(d.id).toBe(1);
    expect(d.privileged).toBe(false);
    expect(d.xsmLabel).toBe("domU_t");
    expect(d.maxPages).toBe(64);
    expect(arch.builds[1]).toMatchObject({
      cmdline: "quiet",
      initial: false,
      storeEvtchn: 1,
      consoleEvtchn: 2,
    });
    expect(arch.builds[1].domain).toBe(d);
    // libxl__build_pre: the store port, then the console port, unbound for the back ends.
    expect(boot).toMatchObject({
      storeMfn: 900,
      storeEvtchn: 1,
      consoleMfn: 901,
      consoleEvtchn: 2,
    });
    const t = d.eventChannels;
    for (const port of [1, 2]) {
      expect(t.stateOf(port)).toBe(PortState.Unbound);
      expect(t.remoteDomain[port]).toBe(0);
    }
    expect(dom0.eventChannels.stateOf(1)).toBe(PortState.Free);
    expect(d.vcpus.map((v) => v.state)).toEqual([VcpuState.Runnable, VcpuState.Down]);
    // A second domU takes the next id.
    expect(bootDomU(machine, tinyElf(), { maxPages: 8 }).domain.id).toBe(2);
  });

  it("names other back-end domains and needs no dom0; an arch that returns nothing gives null frames", () => {
    const { machine } = fakeMachine();
    const boot = bootDomU(machine, tinyElf(), { storeDomid: 7, consoleDomid: 9 });
    expect(boot.domain.id).toBe(0);
    expect(boot.domain.privileged).toBe(false);
    expect(boot.storeMfn).toBeNull();
    expect(boot.consoleMfn).toBeNull();
    expect(boot.domain.eventChannels.remoteDomain[boot.storeEvtchn]).toBe(7);
    expect(boot.domain.eventChannels.remoteDomain[boot.consoleEvtchn]).toBe(9);
  });

  it("defaults to libxl's 32 MiB, or the free memory less a sixteenth on a small machine", () => {
    const big = fakeMachine({}, { memoryMiB: 64 });
    expect(bootDomU(big.machine, tinyElf()).domain.maxPages).toBe(8192);
    const small = fakeMachine({}, { memoryMiB: 4 });
    expect(bootDomU(small.machine, tinyElf()).domain.maxPages).toBe(1024 - 64);
  });

  it("caps its event-channel ports at libxl's 1023, or the max_evtchn_port given, before the store and console ports", () => {
    const { machine } = fakeMachine();
    bootInitialDomain(machine, tinyElf());
    expect(machine.domains.get(0)!.eventChannels.maxPort).toBe(MAX_EVTCHN_PORT_UNLIMITED);
    expect(bootDomU(machine, tinyElf()).domain.eventChannels.maxPort).toBe(1023);
    expect(bootDomU(machine, tinyElf(), { maxEvtchnPort: 4096 }).domain.eventChannels.maxPort).toBe(
      4096,
    );
    expect(
      bootDomU(machine, tinyElf(), { maxEvtchnPort: 2 ** 32 - 1 }).domain.eventChannels.maxPort,
    ).toBe(MAX_EVTCHN_PORT_UNLIMITED);
    // With max_evtchn_port 1 the console port (2) cannot be had: the build fails, as
    // libxl__build_pre's second xc_evtchn_alloc_unbound would.
    expect(() => bootDomU(machine, tinyElf(), { maxEvtchnPort: 1 })).toThrow(
      /cannot allocate the store and console ports/,
    );
  });

  it("a builder error destroys the half-built domU, its ports with it", () => {
    const { machine } = fakeMachine({
      build: ({ initial }) => {
        if (!initial) throw new ImageError(ImageErrorCode.BadAddresses, "VIRT_BASE", "nope");
      },
    });
    const dom0 = bootInitialDomain(machine, tinyElf());
    expect(() => bootDomU(machine, tinyElf())).toThrow(/nope/);
    expect([...machine.domains.keys()]).toEqual([0]);
    expect(machine.liveDomains).toBe(1);
    expect(dom0.state).toBe(DomainState.Running);
    expect(() => bootDomU(machine, new Uint8Array(4))).toThrow(ImageError);
    expect([...machine.domains.keys()]).toEqual([0]);
  });
});

describe("libxcRamdisk", () => {
  it("inflates gzip into max(size + 16, file size) bytes, zero past the data", () => {
    const data = new TextEncoder().encode("070701 cpio ".repeat(100));
    const out = libxcRamdisk(new Uint8Array(gzipSync(data)));
    expect(out.length).toBe(data.length + 16);
    expect(out.subarray(0, data.length)).toEqual(data);
    expect(out.subarray(data.length).every((b) => b === 0)).toBe(true);
    // Incompressible data: the file is longer than size + 16.
    const noise = Uint8Array.from({ length: 64 }, (_, i) => (i * 197 + 89) & 0xff);
    const gz = new Uint8Array(gzipSync(noise));
    expect(gz.length).toBeGreaterThan(noise.length + 16);
    expect(libxcRamdisk(gz).length).toBe(gz.length);
  });

  it("hands over as it is what is not gzip, too short, claims more than 1 GiB, or does not inflate", () => {
    const plain = new TextEncoder().encode("070701 not compressed");
    expect(libxcRamdisk(plain)).toBe(plain);
    const short = Uint8Array.of(0x1f, 0x8b, 0, 0, 0);
    expect(libxcRamdisk(short)).toBe(short);
    const insane = new Uint8Array(gzipSync(plain));
    insane.set([0xff, 0xff, 0xff, 0x7f], insane.length - 4);
    expect(libxcRamdisk(insane)).toBe(insane);
    const broken = Uint8Array.of(0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 10, 0, 0, 0);
    expect(libxcRamdisk(broken)).toBe(broken);
  });
});
