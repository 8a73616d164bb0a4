import "reflect-metadata";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { DomctlCmd, XEN_DOMCTL, XEN_DOMCTL_INTERFACE_VERSION } from "./abi/domctl.js";
import { Hypercall, XenVersionOp } from "./abi/numbers.js";
import { MULTICALL_ENTRY } from "./abi/xen.js";
import { SysctlCmd, XEN_SYSCTL, XEN_SYSCTL_INTERFACE_VERSION } from "./abi/sysctl.js";
import { RecordingConsoleSink } from "./console-sink.js";
import {
  ARCH_PLUGIN,
  ARCH_PLUGINS,
  CONSOLE_SINK,
  HYPERCALL_ENTRIES,
  HYPERCALL_OBSERVERS,
  MACHINE,
  MACHINE_CONFIG,
  XSM_POLICY,
} from "./di.js";
import { DomainState, ShutdownReason } from "./domain.js";
import { Errno } from "./errno.js";
import { HvkitError } from "./errors.js";
import { HypercallArgs, type HypercallEntry, type HypercallObserver } from "./hypercall.js";
import { createMachine, HvMachine, MachineConfigError } from "./machine-impl.js";
import { FRAME_FREE, FRAME_XEN } from "./memory.js";
import { UnknownPluginError } from "./registry.js";
import { FakeArch, fakeVcpu } from "./testing/fake-arch.js";
import { addFakeDomain, DATA_VA, fakeMachine } from "./testing/fake-machine.js";
import { StructBuffer, writeGuestStruct, writeGuestU64 } from "./guest-memory.js";
import { DummyXsmPolicy } from "./xsm.js";
import { TEST_LP64_LE, TEST_ILP32 } from "./testing/data-models.js";

describe("createMachine", () => {
  it("builds each machine in its own child container with defaults filled in", () => {
    const root = container.createChildContainer();
    const arch = new FakeArch({ pageSize: 16384, endianness: "big" });
    root.register(ARCH_PLUGINS, { useValue: arch });
    const a = createMachine(root, { arch: "fake", memoryMiB: 2 });
    const b = createMachine(root, { arch: "fake", memoryMiB: 1, quantum: 7 });
    expect(a).not.toBe(b);
    expect(a.arch).toBe(arch);
    expect(a.memory.pageSize).toBe(16384);
    expect(a.memory.frames).toBe(128);
    expect(a.memory.littleEndian).toBe(false);
    expect(b.memory.frames).toBe(64);
    expect(a.config).toMatchObject({
      arch: "fake",
      quantum: 100_000,
      seed: 0,
      guestConsoleWrite: false,
    });
    expect(b.scheduler.quantum).toBe(7);
    expect(a.console).toBeInstanceOf(RecordingConsoleSink);
    expect(a.console).not.toBe(b.console);
    expect(a.xsm).toBeInstanceOf(DummyXsmPolicy);
    // Nothing leaked into the root container.
    expect(root.isRegistered(MACHINE_CONFIG)).toBe(false);
    expect(root.isRegistered(MACHINE)).toBe(false);
  });

  it("takes a plugin object, an ARCH_PLUGIN the parent binds, and the parent's sink and XSM", () => {
    const root = container.createChildContainer();
    const arch = new FakeArch({ name: "other" });
    const sink = new RecordingConsoleSink();
    const xsm = { checkHypercall: () => -Errno.EACCES } as unknown as DummyXsmPolicy;
    root.register(ARCH_PLUGIN, { useValue: arch });
    root.register(CONSOLE_SINK, { useValue: sink });
    root.register(XSM_POLICY, { useValue: xsm });
    const m = createMachine(root, { memoryMiB: 1 });
    expect(m.arch).toBe(arch);
    expect(m.console).toBe(sink);
    expect(m.xsm).toBe(xsm);
    const own = new RecordingConsoleSink();
    expect(createMachine(root, { arch: new FakeArch(), console: own, memoryMiB: 1 }).console).toBe(
      own,
    );
  });

  it("names the known arches when the one asked for is missing", () => {
    const root = container.createChildContainer();
    root.register(ARCH_PLUGINS, { useValue: new FakeArch({ name: "alpha" }) });
    root.register(ARCH_PLUGINS, { useValue: new FakeArch({ name: "beta" }) });
    expect(() => createMachine(root, { arch: "gamma" })).toThrow(UnknownPluginError);
    expect(() => createMachine(root, { arch: "gamma" })).toThrow(
      /unknown arch "gamma" \(known: alpha, beta\)/,
    );
    expect(() => createMachine(container.createChildContainer(), {})).toThrow(MachineConfigError);
  });

  it.each([
    [{ memoryMiB: 0 }, /memoryMiB 0/],
    [{ memoryMiB: 1.5 }, /memoryMiB 1.5/],
    [{ memoryMiB: 5000 }, /memoryMiB 5000/],
    [{ pageSize: 8192 }, /page size 8192 is not one arch fake supports \(4096\)/],
    [{ quantum: 0 }, /quantum 0/],
    [{ seed: 0.5 }, /seed 0.5/],
  ])("refuses config %o with a typed error", (bad, message) => {
    const go = () =>
      createMachine(container.createChildContainer(), { arch: new FakeArch(), ...bad });
    expect(go).toThrow(MachineConfigError);
    expect(go).toThrow(message);
  });

  it("refuses more memory than the arch's model can address", () => {
    const arch = Object.assign(new FakeArch(), { maxMemoryMiB: 16 });
    const go = () => createMachine(container.createChildContainer(), { arch, memoryMiB: 32 });
    expect(go).toThrow(MachineConfigError);
    expect(go).toThrow(/32 MiB is more than arch fake supports \(16 MiB\)/);
    expect(
      createMachine(container.createChildContainer(), { arch, memoryMiB: 16 }).memory.size,
    ).toBe(16 * 0x100000);
  });

  it("merges injected and arch hypercall rows; a number declared twice is an error", () => {
    const row = (number: number, name: string): HypercallEntry => ({
      number,
      name,
      handler: () => 7,
      modes: ["pv"],
      xsm: "none",
    });
    const root = container.createChildContainer();
    root.register(HYPERCALL_ENTRIES, { useValue: row(40, "injected") });
    const m = createMachine(root, {
      arch: new FakeArch({ hypercalls: [row(48, "arch_0")] }),
      memoryMiB: 1,
    });
    expect(m.hypercalls[40]?.name).toBe("injected");
    expect(m.hypercalls[48]?.name).toBe("arch_0");
    expect(m.hypercalls[Hypercall.console_io]?.name).toBe("console_io");
    expect(m.hypercalls.length).toBe(64);
    const clash = () =>
      createMachine(container.createChildContainer(), {
        arch: new FakeArch({ hypercalls: [row(18, "mine")] }),
        memoryMiB: 1,
      });
    expect(clash).toThrow(HvkitError);
    expect(clash).toThrow(
      /hypercall 18 is declared twice: console_io by core and mine by arch fake/,
    );
    const outside = () =>
      createMachine(container.createChildContainer(), {
        arch: new FakeArch({ hypercalls: [row(64, "big")] }),
        memoryMiB: 1,
      });
    expect(outside).toThrow(/number 64 is outside 0–63/);
  });
});

describe("domains and frames", () => {
  it("gives ids in order past destroyed ones, wrapping from DOMID_FIRST_RESERVED to 1 as Xen's rover", () => {
    const { machine } = fakeMachine({}, { memoryMiB: 1 });
    machine.createDomain({ privileged: true, mode: "pv", vcpus: 1 });
    const made = (): number => machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 }).id;
    machine.createDomain({ privileged: false, mode: "pv", vcpus: 1, id: 0x7fef });
    let last = made();
    expect(last).toBe(1);
    for (let i = 0; i < 3; i++) {
      const d = machine.domains.get(last)!;
      machine.destroyDomain(d);
      last = made();
    }
    expect(last).toBe(4);
    // Fill 5 .. 0x7fee: the next ones wrap past 0x7fef (taken) and 0 (dom0) to 1, 2 and 3,
    // destroyed above; then none is left.
    for (let id = 5; id < 0x7fef; id++) made();
    expect([made(), made(), made()]).toEqual([1, 2, 3]);
    expect(made).toThrow(/every domain id is taken/);
  });

  it("creates domains with ids in order, vCPUs through the arch, all down", () => {
    const { machine } = fakeMachine();
    const d0 = machine.createDomain({ privileged: true, mode: "pv", vcpus: 2 });
    const d1 = machine.createDomain({ privileged: false, mode: "hvm-vmx", vcpus: 1 });
    expect([d0.id, d1.id]).toEqual([0, 1]);
    expect(d0.vcpus.map((v) => v.state)).toEqual([0, 0]);
    expect(fakeVcpu(d0.vcpus[1]).vcpu).toBe(d0.vcpus[1]);
    expect(d0.vcpus[0].machine).toBe(machine);
    expect(d0.eventChannels.limit).toBe(4096);
    expect(machine.domains.get(1)).toBe(d1);
    expect(d1.xsmLabel).toBe("domU_t");
    expect(() => machine.createDomain({ privileged: false, mode: "pv", vcpus: 1, id: 1 })).toThrow(
      /domain 1 already exists/,
    );
    expect(() => machine.createDomain({ privileged: false, mode: "vt-i", vcpus: 1 })).toThrow(
      /does not run guest mode vt-i/,
    );
    expect(() => machine.createDomain({ privileged: false, mode: "pv", vcpus: 0 })).toThrow(
      MachineConfigError,
    );
    expect(() =>
      machine.createDomain({ privileged: false, mode: "pv", vcpus: 1, id: 0x7ff0 }),
    ).toThrow(/0x7fef/);
  });

  it("a 32-bit arch gives 1024 event-channel ports", () => {
    const { machine } = fakeMachine({ wordBits: 32, dataModel: TEST_ILP32 });
    expect(
      machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 }).eventChannels.limit,
    ).toBe(1024);
  });

  it("allocates the lowest free frames, zeroed, within maxPages, deterministically", () => {
    const { machine, arch } = fakeMachine({}, { memoryMiB: 1 });
    const d = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
    expect(machine.allocFrames(d, 1)).toBeNull(); // maxPages is 0
    d.maxPages = 10;
    const xen = machine.allocXenFrames(2);
    expect(xen).toEqual([0, 1]);
    expect(machine.memory.frameTable.owner[0]).toBe(FRAME_XEN);
    const a = machine.allocFrames(d, 3);
    expect(a).toEqual([2, 3, 4]);
    expect(arch.writes.some((w) => w.pa === 2 * 4096 && w.len === 4096)).toBe(true);
    // Frames never handed out are not scrubbed (they hold machine memory's first zeros, and
    // their host pages stay untouched); the domain's writes are scrubbed when they are
    // handed out again, below.
    machine.memory.bytes.fill(0xaa, 2 * 4096, 5 * 4096);
    expect(d.totPages).toBe(3);
    expect(machine.allocFrames(d, 8)).toBeNull(); // would exceed maxPages
    expect(d.totPages).toBe(3);
    expect(machine.allocFrames(d, -1)).toBeNull();
    expect(machine.freeFrameCount()).toBe(256 - 5);
    d.maxPages = 1000;
    expect(machine.allocFrames(d, 252)).toBeNull(); // only 251 left: nothing taken
    expect(machine.freeFrameCount()).toBe(251);
    machine.destroyDomain(d);
    expect(machine.domains.has(d.id)).toBe(false);
    expect(machine.memory.frameTable.owner[2]).toBe(FRAME_FREE);
    expect(machine.freeFrameCount()).toBe(254);
    const e = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
    e.maxPages = 4;
    expect(machine.allocFrames(e, 2)).toEqual([2, 3]);
    expect(machine.memory.bytes.subarray(2 * 4096, 4 * 4096).every((b) => b === 0)).toBe(true);
    expect(machine.memory.bytes[4 * 4096]).toBe(0xaa); // freed, not yet handed out again
    expect(machine.allocExtent(e, 1, 256)).toBe(4);
    expect(machine.memory.bytes.subarray(4 * 4096, 6 * 4096).every((b) => b === 0)).toBe(true);
  });

  it("shutdown: first one wins, shutdown_code takes precedence, crashes are reported", () => {
    const { machine, sink } = fakeMachine();
    const a = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
    const b = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
    machine.shutdownDomain(a, ShutdownReason.Crash, "vcpu 0: #GP at 0x1234");
    machine.shutdownDomain(a, ShutdownReason.Poweroff);
    expect(a.state).toBe(DomainState.Shutdown);
    expect(a.shutdownReason).toBe(ShutdownReason.Crash);
    expect(a.shutdownCode).toBe(ShutdownReason.Crash);
    expect(sink.messages).toEqual([
      "domain 0 crashed (shutdown reason crash): vcpu 0: #GP at 0x1234",
    ]);
    b.shutdownCode = ShutdownReason.Reboot;
    machine.shutdownDomain(b, ShutdownReason.Poweroff);
    expect(b.shutdownReason).toBe(ShutdownReason.Reboot);
    expect(sink.messages.length).toBe(1); // a clean shutdown without a message says nothing
    expect(machine.liveDomains).toBe(0);
  });

  it("findDomain resolves DOMID_SELF and ids; unknown is null", () => {
    const { machine } = fakeMachine();
    const a = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
    const b = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
    expect(machine.findDomain(0x7ff0, b)).toBe(b);
    expect(machine.findDomain(0, b)).toBe(a);
    expect(machine.findDomain(9, b)).toBeNull();
    expect(machine.findDomain(0x7ff2, b)).toBeNull();
  });
});

describe("hypercall dispatch", () => {
  const args = new HypercallArgs();

  it("unknown, out-of-range and mode-forbidden numbers return -ENOSYS", () => {
    const { machine } = fakeMachine({
      hypercalls: [{ number: 48, name: "pv_only", handler: () => 5, modes: ["pv"], xsm: "none" }],
    });
    const pv = addFakeDomain(machine, { mode: "pv" });
    const hvm = addFakeDomain(machine, { mode: "hvm-vmx" });
    for (const nr of [11, 38, 47, 63, 64, 1000, -1, 2 ** 40, 1.5, NaN]) {
      expect(machine.dispatchHypercall(pv.vcpus[0], nr, args)).toBe(-Errno.ENOSYS);
    }
    expect(machine.dispatchHypercall(pv.vcpus[0], 48, args)).toBe(5);
    expect(machine.dispatchHypercall(hvm.vcpus[0], 48, args)).toBe(-Errno.ENOSYS);
  });

  it("domctl/sysctl rows are control-domain only (XSM dummy policy, asked by the handlers)", () => {
    const { machine } = fakeMachine();
    const dom0 = addFakeDomain(machine, { privileged: true });
    const domU = addFakeDomain(machine);
    const args = new HypercallArgs();
    args.set(0, Number(DATA_VA), 0);
    const domctl = XEN_DOMCTL.layout(TEST_LP64_LE);
    const sysctl = XEN_SYSCTL.layout(TEST_LP64_LE);
    const req = new StructBuffer(domctl.size);
    domctl.set(req.view, 0, "cmd", DomctlCmd.pausedomain);
    domctl.set(req.view, 0, "interface_version", XEN_DOMCTL_INTERFACE_VERSION);
    domctl.set(req.view, 0, "domain", domU.id);
    for (const d of [dom0, domU]) writeGuestStruct(d.vcpus[0], DATA_VA, domctl, req);
    expect(machine.dispatchHypercall(domU.vcpus[0], Hypercall.domctl, args)).toBe(-Errno.EPERM);
    expect(machine.dispatchHypercall(dom0.vcpus[0], Hypercall.domctl, args)).toBe(0);
    expect(domU.state).toBe(DomainState.Paused);
    req.bytes.fill(0);
    sysctl.set(req.view, 0, "cmd", SysctlCmd.physinfo);
    sysctl.set(req.view, 0, "interface_version", XEN_SYSCTL_INTERFACE_VERSION);
    for (const d of [dom0, domU]) writeGuestStruct(d.vcpus[0], DATA_VA, sysctl, req);
    expect(machine.dispatchHypercall(domU.vcpus[0], Hypercall.sysctl, args)).toBe(-Errno.EPERM);
    expect(machine.dispatchHypercall(dom0.vcpus[0], Hypercall.sysctl, args)).toBe(0);
  });

  it("a handler that throws crashes only the calling domain, naming the hypercall", () => {
    const { machine, sink } = fakeMachine({
      hypercalls: [
        {
          number: 48,
          name: "buggy",
          handler: () => {
            throw new TypeError("x is undefined");
          },
          modes: ["pv"],
          xsm: "none",
        },
      ],
    });
    const bad = addFakeDomain(machine, { script: [{ kind: "hypercall", nr: 48 }] });
    const good = addFakeDomain(machine, {
      script: [
        { kind: "compute", instructions: 500 },
        { kind: "hypercall", nr: Hypercall.sched_op, args: [2, 0x10000] },
      ],
    });
    const outcome = machine.run({ maxInstructions: 10_000 });
    expect(outcome.kind).toBe("all-shutdown");
    expect(bad.shutdownReason).toBe(ShutdownReason.Crash);
    expect(fakeVcpu(bad.vcpus[0]).results).toEqual([]); // never completed
    expect(good.shutdownReason).toBe(ShutdownReason.Poweroff);
    expect(sink.messages).toEqual([
      "domain 0 crashed (shutdown reason crash): internal error in hypercall buggy (48) from vcpu 0: TypeError: x is undefined",
    ]);
  });

  it("an arch that throws from run crashes only that domain", () => {
    const { machine, sink } = fakeMachine();
    const bad = addFakeDomain(machine, { script: [{ kind: "throw", message: "decoder bug" }] });
    const good = addFakeDomain(machine, {
      script: [{ kind: "hypercall", nr: Hypercall.sched_op, args: [2, 0x10000] }],
    });
    expect(machine.run().kind).toBe("all-shutdown");
    expect(bad.shutdownReason).toBe(ShutdownReason.Crash);
    expect(good.shutdownReason).toBe(ShutdownReason.Poweroff);
    expect(sink.messages[0]).toMatch(
      /^domain 0 crashed .*internal error in arch fake run on vcpu 0: Error: decoder bug$/,
    );
  });

  it("completes every hypercall with the handler's result", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, {
      privileged: true,
      script: [
        { kind: "hypercall", nr: Hypercall.xen_version, args: [0] },
        { kind: "hypercall", nr: 99 },
        { kind: "hypercall", nr: Hypercall.sched_op, args: [2, 0x10000] },
      ],
    });
    machine.run();
    expect(fakeVcpu(d.vcpus[0]).results).toEqual([(4 << 16) | 19, -Errno.ENOSYS, 0]);
  });

  it("reports each dispatched call to every bound observer, multicall entries first", () => {
    const seen: string[][] = [[], []];
    const observers = seen.map((log): HypercallObserver => ({
      hypercall: (vcpu, nr, a, result, depth) =>
        log.push(`d${vcpu.domain.id} ${nr}(${a.u32(0)}) = ${result} @${depth}`),
    }));
    const root = container.createChildContainer();
    for (const o of observers) root.register(HYPERCALL_OBSERVERS, { useValue: o });
    const machine = createMachine(root, { arch: new FakeArch(), memoryMiB: 4 });
    const d = addFakeDomain(machine, {
      script: [
        { kind: "hypercall", nr: 99, args: [5] },
        { kind: "hypercall", nr: Hypercall.multicall, args: [Number(DATA_VA), 2] },
        { kind: "hypercall", nr: Hypercall.sched_op, args: [2, Number(DATA_VA) + 256] },
      ],
    });
    const entry = MULTICALL_ENTRY.layout(TEST_LP64_LE).size;
    const v = d.vcpus[0];
    writeGuestU64(v, DATA_VA, BigInt(Hypercall.xen_version));
    writeGuestU64(v, DATA_VA + 16n, BigInt(XenVersionOp.pagesize));
    writeGuestU64(v, DATA_VA + BigInt(entry), BigInt(Hypercall.multicall));
    machine.run();
    const expected = [
      `d${d.id} 99(5) = ${-Errno.ENOSYS} @0`,
      `d${d.id} ${Hypercall.xen_version}(${XenVersionOp.pagesize}) = 4096 @1`,
      `d${d.id} ${Hypercall.multicall}(0) = ${-Errno.EINVAL} @1`,
      `d${d.id} ${Hypercall.multicall}(${DATA_VA}) = 0 @0`,
      `d${d.id} ${Hypercall.sched_op}(2) = 0 @0`,
    ];
    expect(seen[0]).toEqual(expected);
    expect(seen[1]).toEqual(expected);
  });

  it("resolves the machine from its child container", () => {
    const root = container.createChildContainer();
    const m = createMachine(root, { arch: new FakeArch(), memoryMiB: 1 });
    expect(m).toBeInstanceOf(HvMachine);
  });
});
