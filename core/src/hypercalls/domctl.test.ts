import "reflect-metadata";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import {
  CreateDomainFlag,
  DomainInfoFlag,
  DomctlCmd,
  ShadowOp,
  XEN_DOMCTL,
  XEN_DOMCTL_INTERFACE_VERSION,
  XEN_INVALID_MAX_VCPU_ID,
} from "../abi/domctl.js";
import { Hypercall } from "../abi/numbers.js";
import { XSM_POLICY } from "../di.js";
import { DomainState, ShutdownReason, type Domain } from "../domain.js";
import { Errno } from "../errno.js";
import { evtchnAllocUnbound, evtchnIsPolling, evtchnStartPoll } from "../event-channel.js";
import { grantTableOf, MAX_GRANT_FRAMES, MAX_MAPTRACK_FRAMES } from "../grant-table.js";
import { readGuestStruct, readGuestU64, StructBuffer, writeGuestStruct } from "../guest-memory.js";
import type { HypercallContext } from "../hypercall.js";
import { createMachine } from "../machine-impl.js";
import { FakeArch, fakeVcpu, mapFakePages } from "../testing/fake-arch.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "../testing/fake-machine.js";
import type { StructLayout } from "../structs.js";
import { VcpuState, type Vcpu } from "../vcpu.js";
import { DummyXsmPolicy } from "../xsm.js";
import { TEST_LP64_LE } from "../testing/data-models.js";

const L = XEN_DOMCTL.layout(TEST_LP64_LE);
const TEST_DOMAINCONFIG_LAYOUT = TEST_LP64_LE.archParts.archDomainConfig.layout(TEST_LP64_LE);
const buf = new StructBuffer(L.size);
/** A second data page (read-only for some tests) and a buffer area. */
const RO_VA = 0x20000n;

type Fill = (l: StructLayout, view: DataView) => void;

/** Writes a xen_domctl into `caller`'s data area and makes the call. */
function call(
  caller: Domain,
  cmd: number,
  domid: number,
  fill: Fill = () => {},
  opts: { version?: number; va?: bigint; vcpu?: number } = {},
): number {
  buf.bytes.fill(0);
  L.set(buf.view, 0, "cmd", cmd);
  L.set(buf.view, 0, "interface_version", opts.version ?? XEN_DOMCTL_INTERFACE_VERSION);
  L.set(buf.view, 0, "domain", domid);
  fill(L, buf.view);
  const va = opts.va ?? DATA_VA;
  if (va === DATA_VA) expect(writeGuestStruct(caller.vcpus[0], va, L, buf)).toBe(0);
  return Number(hypercall(caller, Hypercall.domctl, [va], opts.vcpu ?? 0));
}

/** Reads the xen_domctl back from `caller`'s data area. */
function result(caller: Domain): StructBuffer {
  const out = new StructBuffer(L.size);
  expect(readGuestStruct(caller.vcpus[0], DATA_VA, L, out)).toBe(0);
  return out;
}

const get = (b: StructBuffer, path: string) => L.get(b.view, 0, path);

function setup() {
  const { machine, arch } = fakeMachine({}, { memoryMiB: 2 });
  const dom0 = addFakeDomain(machine, { privileged: true, pages: 4 });
  const domU = addFakeDomain(machine, { pages: 3 });
  return { machine, arch, dom0, domU };
}

describe("domctl: request checks in Xen's order", () => {
  it("-EFAULT for an unreadable request, before anything else", () => {
    const { dom0, domU } = setup();
    expect(call(dom0, DomctlCmd.getdomaininfo, 0, undefined, { va: 0x900000n })).toBe(
      -Errno.EFAULT,
    );
    expect(call(domU, DomctlCmd.getdomaininfo, 0, undefined, { va: 0x900000n })).toBe(
      -Errno.EFAULT,
    );
  });

  it("-EACCES for any other interface version (even from an unprivileged caller)", () => {
    const { dom0, domU } = setup();
    for (const v of [0, 0x16, 0x18, 0xffffffff]) {
      expect(call(dom0, DomctlCmd.getdomaininfo, 0, undefined, { version: v })).toBe(-Errno.EACCES);
      expect(call(domU, DomctlCmd.getdomaininfo, 0, undefined, { version: v })).toBe(-Errno.EACCES);
    }
    expect(call(dom0, DomctlCmd.getdomaininfo, 0)).toBe(0);
  });

  it("-ESRCH for a missing domain, DOMID_SELF or a reserved id, before the XSM check", () => {
    const { dom0, domU } = setup();
    for (const id of [77, 0x7ff0, 0x7ff2, 0x7fff]) {
      expect(call(dom0, DomctlCmd.getdomaininfo, id)).toBe(-Errno.ESRCH);
      expect(call(domU, DomctlCmd.pausedomain, id)).toBe(-Errno.ESRCH);
    }
  });

  it("-EPERM for an unprivileged caller, on every command, through the XSM policy", () => {
    const { dom0, domU } = setup();
    for (const cmd of [
      DomctlCmd.createdomain,
      DomctlCmd.getdomaininfo,
      DomctlCmd.pausedomain,
      DomctlCmd.destroydomain,
      DomctlCmd.max_mem,
      DomctlCmd.getvcpucontext,
      DomctlCmd.get_address_size,
      99,
    ]) {
      expect(call(domU, cmd, domU.id)).toBe(-Errno.EPERM);
      expect(call(domU, cmd, dom0.id)).toBe(-Errno.EPERM);
    }
    expect(dom0.state).toBe(DomainState.Running);
  });

  it("the policy object decides: one that allows domU lets it in, one that denies dom0 keeps it out", () => {
    const seen: [number, number | null, number][] = [];
    class Open extends DummyXsmPolicy {
      override domctl(caller: Domain, target: Domain | null, cmd: number): number {
        seen.push([caller.id, target?.id ?? null, cmd]);
        return 0;
      }
    }
    class Closed extends DummyXsmPolicy {
      override domctl(): number {
        return -Errno.EACCES;
      }
    }
    for (const [policy, expectU, expect0] of [
      [Open, 0, 0],
      [Closed, -Errno.EACCES, -Errno.EACCES],
    ] as const) {
      const parent = container.createChildContainer();
      parent.register(XSM_POLICY, { useClass: policy });
      const machine = createMachine(parent, { arch: new FakeArch(), memoryMiB: 2 });
      const dom0 = addFakeDomain(machine, { privileged: true });
      const domU = addFakeDomain(machine);
      expect(call(domU, DomctlCmd.getdomaininfo, dom0.id)).toBe(expectU);
      expect(call(dom0, DomctlCmd.getdomaininfo, domU.id)).toBe(expect0);
    }
    expect(seen).toEqual([
      [1, 0, DomctlCmd.getdomaininfo],
      [0, 1, DomctlCmd.getdomaininfo],
    ]);
  });

  it("unknown commands are -ENOSYS", () => {
    const { dom0, domU } = setup();
    expect(call(dom0, 99, domU.id)).toBe(-Errno.ENOSYS);
    expect(call(dom0, 6000, domU.id)).toBe(-Errno.ENOSYS);
  });
});

describe("domctl createdomain", () => {
  const config =
    (maxVcpus: number, flags = 0, extra: Record<string, number> = {}): Fill =>
    (l, v) => {
      l.set(v, 0, "u.createdomain.max_vcpus", maxVcpus);
      l.set(v, 0, "u.createdomain.flags", flags);
      // What xl passes by default: grant v2, the hypervisor's frame limits.
      l.set(v, 0, "u.createdomain.grant_opts", 2);
      l.set(v, 0, "u.createdomain.max_grant_frames", -1);
      l.set(v, 0, "u.createdomain.max_maptrack_frames", -1);
      for (let i = 0; i < 16; i++) l.set(v, 0, `u.createdomain.handle.${i}`, 0xa0 + i);
      for (const [k, x] of Object.entries(extra)) l.set(v, 0, `u.createdomain.${k}`, x);
    };

  it("creates an empty, paused PV domain with the asked vCPUs and handle; the id comes back", () => {
    const { machine, dom0 } = setup();
    const free = machine.freeFrameCount();
    expect(call(dom0, DomctlCmd.createdomain, 0, config(3))).toBe(0);
    const id = Number(get(result(dom0), "domain"));
    expect(id).toBe(2);
    const d = machine.domains.get(id)!;
    expect(d.privileged).toBe(false);
    expect(d.mode).toBe("pv");
    expect(d.vcpus.map((v) => v.state)).toEqual([VcpuState.Down, VcpuState.Down, VcpuState.Down]);
    expect(d.totPages).toBe(0);
    expect(d.maxPages).toBe(0);
    expect(d.state).toBe(DomainState.Paused);
    expect(d.controllerPauseCount).toBe(1);
    expect([...d.handle]).toEqual(Array.from({ length: 16 }, (_, i) => 0xa0 + i));
    expect(machine.freeFrameCount()).toBe(free);
  });

  it("takes a requested id; -EEXIST when it is taken; otherwise the next free id after the last", () => {
    const { machine, dom0, domU } = setup();
    expect(call(dom0, DomctlCmd.createdomain, 7, config(1))).toBe(0);
    expect(machine.domains.has(7)).toBe(true);
    expect(call(dom0, DomctlCmd.createdomain, 7, config(1))).toBe(-Errno.EEXIST);
    expect(call(dom0, DomctlCmd.createdomain, domU.id, config(1))).toBe(-Errno.EEXIST);
    expect(call(dom0, DomctlCmd.createdomain, 0, config(1))).toBe(0);
    expect(get(result(dom0), "domain")).toBe(2);
    expect(call(dom0, DomctlCmd.createdomain, 0x7ff0, config(1))).toBe(0);
    expect(get(result(dom0), "domain")).toBe(3);
    expect(call(dom0, DomctlCmd.createdomain, 0, config(1))).toBe(0);
    expect(get(result(dom0), "domain")).toBe(4);
  });

  it("applies max_evtchn_port: ports above it are -ENOSPC (evtchn_init, capped at INT_MAX)", () => {
    const { machine, dom0 } = setup();
    expect(call(dom0, DomctlCmd.createdomain, 0, config(1, 0, { max_evtchn_port: 2 }))).toBe(0);
    const d = machine.domains.get(Number(get(result(dom0), "domain")))!;
    expect(d.eventChannels.maxPort).toBe(2);
    expect(evtchnAllocUnbound(machine, d, 0)).toBe(1);
    expect(evtchnAllocUnbound(machine, d, 0)).toBe(2);
    expect(evtchnAllocUnbound(machine, d, 0)).toBe(-Errno.ENOSPC);
    expect(call(dom0, DomctlCmd.createdomain, 0, config(1, 0, { max_evtchn_port: 0 }))).toBe(0);
    const none = machine.domains.get(Number(get(result(dom0), "domain")))!;
    expect(evtchnAllocUnbound(machine, none, 0)).toBe(-Errno.ENOSPC);
    expect(
      call(dom0, DomctlCmd.createdomain, 0, config(1, 0, { max_evtchn_port: 0xffffffff })),
    ).toBe(0);
    const all = machine.domains.get(Number(get(result(dom0), "domain")))!;
    expect(all.eventChannels.maxPort).toBe(0x7fffffff);
  });

  it("an HVM domain gets the arch's hardware-assisted mode", () => {
    const { machine, dom0 } = setup();
    expect(call(dom0, DomctlCmd.createdomain, 0, config(1, CreateDomainFlag.hvm))).toBe(0);
    expect(machine.domains.get(Number(get(result(dom0), "domain")))!.mode).toBe("hvm-vmx");
  });

  it("-EINVAL for a config Xen's sanitise_domain_config refuses, and nothing is created", () => {
    const { machine, dom0 } = setup();
    const bad: Fill[] = [
      config(0),
      config(129),
      config(1, 1 << 9),
      config(1, CreateDomainFlag.hap),
      config(1, CreateDomainFlag.iommu),
      config(1, CreateDomainFlag.vpmu),
      config(1, 0, { grant_opts: 0x10 }),
      config(1, 0, { iommu_opts: 1 }),
      config(1, 0, { vmtrace_size: 4096 }),
    ];
    for (const f of bad) expect(call(dom0, DomctlCmd.createdomain, 0, f)).toBe(-Errno.EINVAL);
    expect([...machine.domains.keys()]).toEqual([0, 1]);
  });

  it("the arch part of the config goes to the arch's checkDomainConfig, then to createDomainState", () => {
    const { machine, arch, dom0 } = setup();
    const seen: string[] = [];
    const patched = arch as unknown as {
      checkDomainConfig: (config: DataView, mode: string) => number;
      createDomainState: (m: unknown, d: Domain, config?: DataView) => unknown;
    };
    const flagsOf = (c: DataView) => TEST_DOMAINCONFIG_LAYOUT.getNumber(c, 0, "flags");
    patched.checkDomainConfig = (c, mode) => {
      seen.push(`check ${flagsOf(c)} ${mode}`);
      return flagsOf(c) === 2 ? -Errno.EOPNOTSUPP : 0;
    };
    const create = patched.createDomainState.bind(arch);
    patched.createDomainState = (m, d, c) => {
      seen.push(`state ${c === undefined ? "none" : flagsOf(c)}`);
      return create(m, d, c);
    };
    const before = [...machine.domains.keys()];
    expect(call(dom0, DomctlCmd.createdomain, 0, config(1, 0, { "arch.flags": 2 }))).toBe(
      -Errno.EOPNOTSUPP,
    );
    expect([...machine.domains.keys()]).toEqual(before);
    expect(call(dom0, DomctlCmd.createdomain, 0, config(1, 0, { "arch.flags": 5 }))).toBe(0);
    machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
    expect(seen).toEqual(["check 2 pv", "check 5 pv", "check 5 pv", "state 5", "state none"]);
    const refused = new DataView(new ArrayBuffer(8));
    refused.setUint32(0, 2, true);
    expect(() =>
      machine.createDomain({ privileged: false, mode: "pv", vcpus: 1, archConfig: refused }),
    ).toThrow(/refuses the domain's arch configuration .*-EOPNOTSUPP/);
  });

  it("grant_table_init: -EINVAL for grant version 0 or 3 and for max_grant_frames 0; the limits apply", () => {
    const { machine, dom0 } = setup();
    const bad: Record<string, number>[] = [
      { grant_opts: 0 },
      { grant_opts: 3 },
      { max_grant_frames: 0 },
    ];
    for (const extra of bad)
      expect([extra, call(dom0, DomctlCmd.createdomain, 0, config(1, 0, extra))]).toEqual([
        extra,
        -Errno.EINVAL,
      ]);
    expect([...machine.domains.keys()]).toEqual([0, 1]);
    const limits = { grant_opts: 1, max_grant_frames: 3, max_maptrack_frames: 0 };
    expect(call(dom0, DomctlCmd.createdomain, 0, config(1, 0, limits))).toBe(0);
    const d = machine.domains.get(Number(get(result(dom0), "domain")))!;
    const gt = grantTableOf(machine, d)!;
    expect([gt.maxFrames, gt.maxVersion, gt.maxMaptrack, gt.version]).toEqual([3, 1, 0, 1]);
    expect(call(dom0, DomctlCmd.createdomain, 0, config(1))).toBe(0);
    const e = machine.domains.get(Number(get(result(dom0), "domain")))!;
    const et = grantTableOf(machine, e)!;
    expect([et.maxFrames, et.maxVersion, et.maxMaptrack]).toEqual([
      MAX_GRANT_FRAMES,
      2,
      MAX_MAPTRACK_FRAMES * 256,
    ]);
  });

  it("-EINVAL for an HVM domain on an arch without a hardware-assisted mode", () => {
    const { machine } = fakeMachine({ modes: ["pv"] }, { memoryMiB: 2 });
    const dom0 = addFakeDomain(machine, { privileged: true });
    expect(call(dom0, DomctlCmd.createdomain, 0, config(1, CreateDomainFlag.hvm))).toBe(
      -Errno.EINVAL,
    );
  });

  it("-EFAULT when the id cannot be copied back (the domain exists, as in Xen)", () => {
    const { machine, dom0 } = setup();
    const [mfn] = mapFakePages(machine, dom0, RO_VA, 1, false);
    buf.bytes.fill(0);
    L.set(buf.view, 0, "cmd", DomctlCmd.createdomain);
    L.set(buf.view, 0, "interface_version", XEN_DOMCTL_INTERFACE_VERSION);
    config(1)(L, buf.view);
    machine.memory.bytes.set(buf.bytes.subarray(0, L.size), mfn * machine.memory.pageSize);
    expect(hypercall(dom0, Hypercall.domctl, [RO_VA])).toBe(-Errno.EFAULT);
    expect(machine.domains.size).toBe(3);
  });
});

describe("domctl destroydomain", () => {
  it("frees the domain's frames; later calls naming it get -ESRCH", () => {
    const { machine, dom0, domU } = setup();
    const free = machine.freeFrameCount();
    expect(call(dom0, DomctlCmd.destroydomain, domU.id)).toBe(0);
    expect(machine.freeFrameCount()).toBe(free + 3);
    expect(machine.memory.frameTable.owner.includes(domU.id)).toBe(false);
    expect(machine.domains.has(domU.id)).toBe(false);
    expect(call(dom0, DomctlCmd.getdomaininfo, domU.id)).toBe(-Errno.ESRCH);
    expect(call(dom0, DomctlCmd.destroydomain, domU.id)).toBe(-Errno.ESRCH);
  });

  it("a domain cannot destroy itself (-EINVAL)", () => {
    const { dom0 } = setup();
    expect(call(dom0, DomctlCmd.destroydomain, dom0.id)).toBe(-Errno.EINVAL);
    expect(dom0.state).toBe(DomainState.Running);
  });
});

describe("domctl pausedomain / unpausedomain", () => {
  it("counts pauses; -EINVAL to pause oneself or unpause at zero; -EOVERFLOW past 255", () => {
    const { dom0, domU } = setup();
    expect(call(dom0, DomctlCmd.pausedomain, dom0.id)).toBe(-Errno.EINVAL);
    expect(call(dom0, DomctlCmd.unpausedomain, domU.id)).toBe(-Errno.EINVAL);
    expect(call(dom0, DomctlCmd.pausedomain, domU.id)).toBe(0);
    expect(call(dom0, DomctlCmd.pausedomain, domU.id)).toBe(0);
    expect(domU.state).toBe(DomainState.Paused);
    expect(call(dom0, DomctlCmd.unpausedomain, domU.id)).toBe(0);
    expect(domU.state).toBe(DomainState.Paused);
    expect(call(dom0, DomctlCmd.unpausedomain, domU.id)).toBe(0);
    expect(domU.state).toBe(DomainState.Running);
    for (let i = 0; i < 255; i++) expect(call(dom0, DomctlCmd.pausedomain, domU.id)).toBe(0);
    expect(call(dom0, DomctlCmd.pausedomain, domU.id)).toBe(-Errno.EOVERFLOW);
    expect(domU.controllerPauseCount).toBe(255);
  });

  it("no instruction of a paused domain retires while others run; unpausing resumes it", () => {
    const { machine } = fakeMachine({}, { memoryMiB: 2, quantum: 100 });
    const dom0 = addFakeDomain(machine, { privileged: true });
    const a = addFakeDomain(machine, { script: [{ kind: "compute", instructions: 1e9 }] });
    const b = addFakeDomain(machine, { script: [{ kind: "compute", instructions: 1e9 }] });
    dom0.vcpus[0].state = VcpuState.Down;
    expect(call(dom0, DomctlCmd.pausedomain, a.id)).toBe(0);
    machine.run({ maxInstructions: 5000 });
    expect(a.vcpus[0].retired).toBe(0);
    expect(b.vcpus[0].retired).toBe(5000);
    expect(call(dom0, DomctlCmd.unpausedomain, a.id)).toBe(0);
    machine.run({ maxInstructions: 5000 });
    expect(a.vcpus[0].retired).toBe(2500);
    expect(b.vcpus[0].retired).toBe(7500);
  });

  it("a paused domain that shuts down stays shut down when unpaused", () => {
    const { machine, dom0, domU } = setup();
    expect(call(dom0, DomctlCmd.pausedomain, domU.id)).toBe(0);
    machine.shutdownDomain(domU, ShutdownReason.Poweroff);
    expect(call(dom0, DomctlCmd.unpausedomain, domU.id)).toBe(0);
    expect(domU.state).toBe(DomainState.Shutdown);
  });
});

describe("domctl getdomaininfo", () => {
  const info = (b: StructBuffer, f: string) => get(b, `u.getdomaininfo.${f}`);

  it("reports the domain's figures and flags", () => {
    const { dom0, domU } = setup();
    domU.maxPages = 100;
    domU.sharedInfoMfn = 42;
    domU.handle.set([1, 2, 3]);
    domU.vcpus[0].retired = 1234;
    expect(call(dom0, DomctlCmd.getdomaininfo, domU.id)).toBe(0);
    const r = result(dom0);
    expect(get(r, "domain")).toBe(domU.id);
    expect(info(r, "domain")).toBe(domU.id);
    // Runnable but not running (dom0 is the one on the CPU); no shutdown code: ~0 << 16.
    expect(info(r, "flags")).toBe(0xffff0000);
    expect(info(r, "tot_pages")).toBe(3n);
    expect(info(r, "max_pages")).toBe(100n);
    expect(info(r, "shared_info_frame")).toBe(42n);
    expect(info(r, "cpu_time")).toBe(1234n);
    expect(info(r, "nr_online_vcpus")).toBe(1);
    expect(info(r, "max_vcpu_id")).toBe(0);
    expect(info(r, "ssidref")).toBe(0);
    expect(info(r, "handle.0")).toBe(1);
    expect(info(r, "handle.2")).toBe(3);
    expect(info(r, "gpaddr_bits")).toBe(21);
  });

  it("running for the caller itself; blocked when every online vCPU is; none online: neither", () => {
    const { machine, dom0, domU } = setup();
    expect(call(dom0, DomctlCmd.getdomaininfo, dom0.id)).toBe(0);
    expect(Number(info(result(dom0), "flags")) & 0xff).toBe(DomainInfoFlag.running);
    domU.vcpus[0].state = VcpuState.Blocked;
    expect(call(dom0, DomctlCmd.getdomaininfo, domU.id)).toBe(0);
    expect(Number(info(result(dom0), "flags")) & 0xff).toBe(DomainInfoFlag.blocked);
    domU.vcpus[0].state = VcpuState.Down;
    expect(call(dom0, DomctlCmd.getdomaininfo, domU.id)).toBe(0);
    expect(Number(info(result(dom0), "flags")) & 0xff).toBe(0);
    expect(info(result(dom0), "nr_online_vcpus")).toBe(0);
    const big = machine.createDomain({ privileged: false, mode: "hvm-vmx", vcpus: 4 });
    expect(call(dom0, DomctlCmd.getdomaininfo, big.id)).toBe(0);
    expect(info(result(dom0), "max_vcpu_id")).toBe(3);
    expect(Number(info(result(dom0), "flags")) & 0xff).toBe(DomainInfoFlag.hvm_guest);
    expect(XEN_INVALID_MAX_VCPU_ID).toBe(0xffffffff);
  });

  it("paused, debugged, shutdown with the reason in bits 16-23", () => {
    const { machine, dom0, domU } = setup();
    expect(call(dom0, DomctlCmd.pausedomain, domU.id)).toBe(0);
    expect(
      call(dom0, DomctlCmd.setdebugging, domU.id, (l, v) =>
        l.set(v, 0, "u.setdebugging.enable", 1),
      ),
    ).toBe(0);
    machine.shutdownDomain(domU, ShutdownReason.Reboot);
    expect(call(dom0, DomctlCmd.getdomaininfo, domU.id)).toBe(0);
    const flags = Number(info(result(dom0), "flags"));
    expect(flags & 0xff).toBe(
      DomainInfoFlag.paused | DomainInfoFlag.debugged | DomainInfoFlag.shutdown,
    );
    expect(flags >>> 16).toBe(ShutdownReason.Reboot);
    expect(call(dom0, DomctlCmd.setdebugging, domU.id)).toBe(0);
    expect(call(dom0, DomctlCmd.getdomaininfo, domU.id)).toBe(0);
    expect(Number(info(result(dom0), "flags")) & DomainInfoFlag.debugged).toBe(0);
  });
});

describe("domctl max_mem, max_vcpus, setdomainhandle, setdebugging", () => {
  it("max_mem sets max_pages = KiB >> 2 (4 KiB pages), lower than tot_pages allowed", () => {
    const { dom0, domU } = setup();
    const set = (kb: bigint) => (l: StructLayout, v: DataView) =>
      l.set(v, 0, "u.max_mem.max_memkb", kb);
    expect(call(dom0, DomctlCmd.max_mem, domU.id, set(8192n))).toBe(0);
    expect(domU.maxPages).toBe(2048);
    expect(call(dom0, DomctlCmd.max_mem, domU.id, set(7n))).toBe(0);
    expect(domU.maxPages).toBe(1);
    expect(call(dom0, DomctlCmd.max_mem, domU.id, set(1n << 60n))).toBe(0);
    expect(domU.maxPages).toBe(0xffffffff);
  });

  it("max_vcpus must equal the created count; -EINVAL otherwise or on oneself", () => {
    const { dom0, domU } = setup();
    const set = (n: number) => (l: StructLayout, v: DataView) => l.set(v, 0, "u.max_vcpus.max", n);
    expect(call(dom0, DomctlCmd.max_vcpus, domU.id, set(1))).toBe(0);
    expect(call(dom0, DomctlCmd.max_vcpus, domU.id, set(2))).toBe(-Errno.EINVAL);
    expect(call(dom0, DomctlCmd.max_vcpus, domU.id, set(0))).toBe(-Errno.EINVAL);
    expect(call(dom0, DomctlCmd.max_vcpus, dom0.id, set(1))).toBe(-Errno.EINVAL);
  });

  it("setdomainhandle copies 16 bytes; setdebugging on oneself is -EINVAL", () => {
    const { dom0, domU } = setup();
    const h: Fill = (l, v) => {
      for (let i = 0; i < 16; i++) l.set(v, 0, `u.setdomainhandle.handle.${i}`, i * 3);
    };
    expect(call(dom0, DomctlCmd.setdomainhandle, domU.id, h)).toBe(0);
    expect([...domU.handle]).toEqual(Array.from({ length: 16 }, (_, i) => i * 3));
    expect(call(dom0, DomctlCmd.setdebugging, dom0.id)).toBe(-Errno.EINVAL);
    expect(
      call(dom0, DomctlCmd.setdebugging, domU.id, (l, v) =>
        l.set(v, 0, "u.setdebugging.enable", 7),
      ),
    ).toBe(0);
    expect(domU.debuggerAttached).toBe(true);
  });
});

describe("domctl set/get_address_size", () => {
  const size = (n: number) => (l: StructLayout, v: DataView) =>
    l.set(v, 0, "u.address_size.size", n);

  it("a PV guest is as wide as the arch's word; 32 is -EINVAL until 32-bit PV exists", () => {
    const { dom0, domU } = setup();
    expect(call(dom0, DomctlCmd.set_address_size, domU.id, size(64))).toBe(0);
    expect(call(dom0, DomctlCmd.set_address_size, domU.id, size(32))).toBe(-Errno.EINVAL);
    expect(call(dom0, DomctlCmd.set_address_size, domU.id, size(48))).toBe(-Errno.EINVAL);
    expect(call(dom0, DomctlCmd.get_address_size, domU.id)).toBe(0);
    expect(get(result(dom0), "u.address_size.size")).toBe(64);
  });

  it("-EOPNOTSUPP for a hardware-assisted guest", () => {
    const { machine, dom0 } = setup();
    const hvm = machine.createDomain({ privileged: false, mode: "hvm-vmx", vcpus: 1 });
    expect(call(dom0, DomctlCmd.set_address_size, hvm.id, size(64))).toBe(-Errno.EOPNOTSUPP);
    expect(call(dom0, DomctlCmd.get_address_size, hvm.id)).toBe(-Errno.EOPNOTSUPP);
  });
});

describe("domctl getmemlist", () => {
  const BUF = DATA_VA + 0x1000n;
  const req =
    (max: bigint, buffer = BUF) =>
    (l: StructLayout, v: DataView) => {
      l.set(v, 0, "u.getmemlist.max_pfns", max);
      l.set(v, 0, "u.getmemlist.buffer", buffer);
    };

  it("lists the domain's MFNs, at most max_pfns", () => {
    const { machine, dom0, domU } = setup();
    const owned: number[] = [];
    machine.memory.frameTable.owner.forEach((o, mfn) => o === domU.id && owned.push(mfn));
    expect(call(dom0, DomctlCmd.getmemlist, domU.id, req(10n))).toBe(0);
    expect(get(result(dom0), "u.getmemlist.num_pfns")).toBe(3n);
    for (let i = 0; i < 3; i++) {
      expect(readGuestU64(dom0.vcpus[0], BUF + BigInt(8 * i))).toBe(BigInt(owned[i]));
    }
    expect(call(dom0, DomctlCmd.getmemlist, domU.id, req(2n))).toBe(0);
    expect(get(result(dom0), "u.getmemlist.num_pfns")).toBe(2n);
  });

  it("-EFAULT for a bad buffer; -EOPNOTSUPP above 4 GiB of pages", () => {
    const { dom0, domU } = setup();
    expect(call(dom0, DomctlCmd.getmemlist, domU.id, req(3n, 0x900000n))).toBe(-Errno.EFAULT);
    expect(call(dom0, DomctlCmd.getmemlist, domU.id, req(0x100001n))).toBe(-Errno.EOPNOTSUPP);
  });
});

describe("domctl shadow_op (log-dirty defined for later)", () => {
  const op = (o: number) => (l: StructLayout, v: DataView) => {
    l.set(v, 0, "u.shadow_op.op", o);
    l.set(v, 0, "u.shadow_op.mb", 77);
  };

  it("OFF succeeds, GET_ALLOCATION is 0 MiB, the rest -EOPNOTSUPP, unknown -EINVAL", () => {
    const { dom0, domU } = setup();
    expect(call(dom0, DomctlCmd.shadow_op, domU.id, op(ShadowOp.OFF))).toBe(0);
    expect(call(dom0, DomctlCmd.shadow_op, domU.id, op(ShadowOp.GET_ALLOCATION))).toBe(0);
    expect(get(result(dom0), "u.shadow_op.mb")).toBe(0);
    for (const o of [
      ShadowOp.ENABLE,
      ShadowOp.ENABLE_TEST,
      ShadowOp.ENABLE_LOGDIRTY,
      ShadowOp.CLEAN,
      ShadowOp.PEEK,
      ShadowOp.SET_ALLOCATION,
    ]) {
      expect(call(dom0, DomctlCmd.shadow_op, domU.id, op(o))).toBe(-Errno.EOPNOTSUPP);
    }
    expect(call(dom0, DomctlCmd.shadow_op, domU.id, op(3))).toBe(-Errno.EINVAL);
    expect(call(dom0, DomctlCmd.shadow_op, dom0.id, op(ShadowOp.OFF))).toBe(-Errno.EINVAL);
  });
});

describe("domctl set/getvcpucontext and getvcpuinfo", () => {
  const vc = (vcpu: number, ctxt: bigint) => (l: StructLayout, v: DataView) => {
    l.set(v, 0, "u.vcpucontext.vcpu", vcpu);
    l.set(v, 0, "u.vcpucontext.ctxt", ctxt);
  };

  it("setvcpucontext: -EINVAL on oneself or a bad vCPU; without the arch hooks an initialised vCPU cannot be reset or loaded", () => {
    const { machine, dom0, domU } = setup();
    expect(call(dom0, DomctlCmd.setvcpucontext, dom0.id, vc(0, 0n))).toBe(-Errno.EINVAL);
    expect(call(dom0, DomctlCmd.setvcpucontext, domU.id, vc(1, 0n))).toBe(-Errno.EINVAL);
    expect(call(dom0, DomctlCmd.setvcpucontext, domU.id, vc(0, 0n))).toBe(-Errno.EOPNOTSUPP);
    expect(call(dom0, DomctlCmd.setvcpucontext, domU.id, vc(0, DATA_VA))).toBe(-Errno.EOPNOTSUPP);
    expect(domU.vcpus[0].state).toBe(VcpuState.Runnable);
    const fresh = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
    expect(call(dom0, DomctlCmd.setvcpucontext, fresh.id, vc(0, 0n))).toBe(0);
    expect(call(dom0, DomctlCmd.setvcpucontext, fresh.id, vc(0, DATA_VA))).toBe(-Errno.EOPNOTSUPP);
  });

  /** Fake setVcpuContext / resetVcpu hooks that log their calls. */
  function withContextHooks(arch: FakeArch) {
    const calls: string[] = [];
    const layout = TEST_LP64_LE.vcpuGuestContext!.layout(TEST_LP64_LE);
    Object.assign(arch, {
      setVcpuContext(_m: unknown, t: Vcpu, context: DataView, initialised: boolean): number {
        const pc = layout.getBigInt(context, 0, "pc");
        calls.push(`load d${t.domain.id}v${t.id} pc ${pc}${initialised ? " (reload)" : ""}`);
        if (pc === 0xbadn) return -Errno.EINVAL;
        return Number(layout.getBigInt(context, 0, "flags") & 1n);
      },
      resetVcpu(_m: unknown, t: Vcpu): number {
        calls.push(`reset d${t.domain.id}v${t.id}`);
        return 0;
      },
    });
    const context = (d: Domain, va: bigint, pc: bigint, online: boolean): void => {
      const b = new StructBuffer(layout.size);
      layout.set(b.view, 0, "pc", pc);
      layout.set(b.view, 0, "flags", online ? 1 : 0);
      expect(writeGuestStruct(d.vcpus[0], va, layout, b)).toBe(0);
    };
    return { calls, context };
  }

  it("setvcpucontext copies the context in (-EFAULT first), then the arch loads it; the online flag brings the vCPU up or down", () => {
    const { machine, arch, dom0 } = setup();
    const { calls, context } = withContextHooks(arch);
    const fresh = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
    const id = fresh.id;
    const v = fresh.vcpus[0];
    const CTX = DATA_VA + 0x800n;
    expect(call(dom0, DomctlCmd.setvcpucontext, id, vc(0, 0x900000n))).toBe(-Errno.EFAULT);
    context(dom0, CTX, 0xbadn, true);
    expect(call(dom0, DomctlCmd.setvcpucontext, id, vc(0, CTX))).toBe(-Errno.EINVAL);
    expect(call(dom0, DomctlCmd.getvcpucontext, id, vc(0, DATA_VA))).toBe(-Errno.ENODATA);
    expect(v.state).toBe(VcpuState.Down);
    context(dom0, CTX, 0x1000n, false);
    expect(call(dom0, DomctlCmd.setvcpucontext, id, vc(0, CTX))).toBe(0);
    expect(v.state).toBe(VcpuState.Down);
    // A reload of the initialised vCPU, now asking for it to be online.
    context(dom0, CTX, 0x2000n, true);
    expect(call(dom0, DomctlCmd.setvcpucontext, id, vc(0, CTX))).toBe(0);
    expect(v.state).toBe(VcpuState.Runnable);
    expect(v.runstate.state).toBe(1); // RUNSTATE_runnable
    // An unreadable context is -EFAULT before the arch sees anything.
    expect(call(dom0, DomctlCmd.setvcpucontext, id, vc(0, 0x900000n))).toBe(-Errno.EFAULT);
    // Reloaded without the flag, the running vCPU goes down.
    context(dom0, CTX, 0x3000n, false);
    expect(call(dom0, DomctlCmd.setvcpucontext, id, vc(0, CTX))).toBe(0);
    expect(v.state).toBe(VcpuState.Down);
    expect(v.runstate.state).toBe(3); // RUNSTATE_offline
    expect(calls).toEqual([
      `load d${id}v0 pc ${0xbad}`,
      `load d${id}v0 pc ${0x1000}`,
      `load d${id}v0 pc ${0x2000} (reload)`,
      `load d${id}v0 pc ${0x3000} (reload)`,
    ]);
  });

  it("setvcpucontext with a null context resets the vCPU (vcpu_reset): the arch drops its state; down, not blocked, no longer initialised", () => {
    const { machine, arch, dom0, domU } = setup();
    const { calls, context } = withContextHooks(arch);
    const v = domU.vcpus[0];
    evtchnStartPoll(machine, v, 0, 5_000_000n); // blocked in SCHEDOP_poll
    expect(call(dom0, DomctlCmd.setvcpucontext, domU.id, vc(0, 0n))).toBe(0);
    expect(calls).toEqual([`reset d${domU.id}v0`]);
    expect(evtchnIsPolling(v)).toBe(false);
    expect(v.state).toBe(VcpuState.Down);
    expect(v.blockedWhileDown).toBe(false);
    expect(v.runstate.state).toBe(3); // RUNSTATE_offline
    expect(call(dom0, DomctlCmd.getvcpucontext, domU.id, vc(0, DATA_VA))).toBe(-Errno.ENODATA);
    // A wake-up no longer finds it blocked; it needs a new context to run again.
    machine.wakeVcpu(v);
    expect(v.state).toBe(VcpuState.Down);
    context(dom0, DATA_VA + 0x800n, 0x4000n, true);
    expect(call(dom0, DomctlCmd.setvcpucontext, domU.id, vc(0, DATA_VA + 0x800n))).toBe(0);
    expect(calls.at(-1)).toBe(`load d${domU.id}v0 pc ${0x4000}`);
    expect(v.state).toBe(VcpuState.Runnable);
  });

  it("getvcpucontext goes through saveGuestContext", () => {
    const { machine, arch, dom0 } = setup();
    const { context } = withContextHooks(arch);
    const calls: string[] = [];
    const fresh = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
    const freshArch = fakeVcpu(fresh.vcpus[0]) as unknown as {
      saveGuestContext?: (ctx: HypercallContext, va: bigint) => number;
    };
    const id = fresh.id;
    expect(call(dom0, DomctlCmd.getvcpucontext, id, vc(0, DATA_VA))).toBe(-Errno.ENODATA);
    context(dom0, DATA_VA + 0x800n, 0x1000n, false);
    expect(call(dom0, DomctlCmd.setvcpucontext, id, vc(0, DATA_VA + 0x800n))).toBe(0);
    expect(call(dom0, DomctlCmd.getvcpucontext, id, vc(0, DATA_VA))).toBe(-Errno.EOPNOTSUPP);
    freshArch.saveGuestContext = (ctx, va) => {
      calls.push(`save by d${ctx.domain.id} to ${va}`);
      return va === 0x900000n ? -Errno.EFAULT : 0;
    };
    expect(call(dom0, DomctlCmd.getvcpucontext, id, vc(0, 0x3000n))).toBe(0);
    expect(call(dom0, DomctlCmd.getvcpucontext, id, vc(0, 0x900000n))).toBe(-Errno.EFAULT);
    expect(call(dom0, DomctlCmd.getvcpucontext, id, vc(1, DATA_VA))).toBe(-Errno.EINVAL);
    expect(calls).toEqual(["save by d0 to 12288", "save by d0 to 9437184"]);
  });

  it("getvcpucontext of the calling vCPU is -EINVAL", () => {
    const { machine } = fakeMachine({}, { memoryMiB: 2 });
    const dom0 = addFakeDomain(machine, { privileged: true, vcpus: 2 });
    const other = addFakeDomain(machine);
    expect(call(dom0, DomctlCmd.getvcpucontext, dom0.id, vc(0, DATA_VA))).toBe(-Errno.EINVAL);
    expect(call(dom0, DomctlCmd.getvcpucontext, dom0.id, vc(1, DATA_VA))).toBe(-Errno.ENODATA);
    void other;
  });

  it("getvcpuinfo: online, blocked, running, cpu_time; -EINVAL past the last vCPU", () => {
    const { dom0, domU } = setup();
    domU.vcpus[0].retired = 500;
    domU.vcpus[0].state = VcpuState.Blocked;
    const which = (n: number) => (l: StructLayout, v: DataView) =>
      l.set(v, 0, "u.getvcpuinfo.vcpu", n);
    expect(call(dom0, DomctlCmd.getvcpuinfo, domU.id, which(0))).toBe(0);
    const r = result(dom0);
    expect(get(r, "u.getvcpuinfo.online")).toBe(1);
    expect(get(r, "u.getvcpuinfo.blocked")).toBe(1);
    expect(get(r, "u.getvcpuinfo.running")).toBe(0);
    expect(get(r, "u.getvcpuinfo.cpu_time")).toBe(500n);
    expect(call(dom0, DomctlCmd.getvcpuinfo, dom0.id, which(0))).toBe(0);
    expect(get(result(dom0), "u.getvcpuinfo.running")).toBe(1);
    expect(call(dom0, DomctlCmd.getvcpuinfo, domU.id, which(1))).toBe(-Errno.EINVAL);
  });
});
