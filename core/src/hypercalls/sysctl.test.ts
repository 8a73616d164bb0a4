import "reflect-metadata";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { XEN_DOMCTL_GETDOMAININFO } from "../abi/domctl.js";
import { Hypercall } from "../abi/numbers.js";
import { PhysCap, SysctlCmd, XEN_SYSCTL, XEN_SYSCTL_INTERFACE_VERSION } from "../abi/sysctl.js";
import { XSM_POLICY } from "../di.js";
import type { Domain } from "../domain.js";
import { Errno } from "../errno.js";
import { readGuestStruct, StructBuffer, writeGuestStruct } from "../guest-memory.js";
import { createMachine } from "../machine-impl.js";
import type { StructLayout } from "../structs.js";
import { FakeArch } from "../testing/fake-arch.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "../testing/fake-machine.js";
import { DummyXsmPolicy } from "../xsm.js";
import { TEST_LP64_LE } from "../testing/data-models.js";

const L = XEN_SYSCTL.layout(TEST_LP64_LE);
const INFO = XEN_DOMCTL_GETDOMAININFO.layout(TEST_LP64_LE);
const buf = new StructBuffer(L.size);
const LIST = DATA_VA + 0x1000n;

type Fill = (l: StructLayout, view: DataView) => void;

function call(caller: Domain, cmd: number, fill: Fill = () => {}, version?: number): number {
  buf.bytes.fill(0);
  L.set(buf.view, 0, "cmd", cmd);
  L.set(buf.view, 0, "interface_version", version ?? XEN_SYSCTL_INTERFACE_VERSION);
  fill(L, buf.view);
  expect(writeGuestStruct(caller.vcpus[0], DATA_VA, L, buf)).toBe(0);
  return Number(hypercall(caller, Hypercall.sysctl, [DATA_VA]));
}

function result(caller: Domain, path: string): number | bigint {
  const out = new StructBuffer(L.size);
  expect(readGuestStruct(caller.vcpus[0], DATA_VA, L, out)).toBe(0);
  return L.get(out.view, 0, path);
}

function entry(caller: Domain, i: number, path: string): number | bigint {
  const out = new StructBuffer(INFO.size);
  expect(readGuestStruct(caller.vcpus[0], LIST + BigInt(i * INFO.size), INFO, out)).toBe(0);
  return INFO.get(out.view, 0, path);
}

const list =
  (first: number, max: number, buffer = LIST): Fill =>
  (l, v) => {
    l.set(v, 0, "u.getdomaininfolist.first_domain", first);
    l.set(v, 0, "u.getdomaininfolist.max_domains", max);
    l.set(v, 0, "u.getdomaininfolist.buffer", buffer);
  };

function setup() {
  const { machine } = fakeMachine({ modes: ["pv"] }, { memoryMiB: 2 });
  const dom0 = addFakeDomain(machine, { privileged: true, pages: 4 });
  const domU = addFakeDomain(machine, { pages: 3 });
  const dom5 = addFakeDomain(machine, { id: 5, pages: 1 });
  return { machine, dom0, domU, dom5 };
}

describe("sysctl", () => {
  it("-EFAULT, then -EACCES for a wrong interface version, then -EPERM unprivileged", () => {
    const { dom0, domU } = setup();
    expect(hypercall(dom0, Hypercall.sysctl, [0x900000n])).toBe(-Errno.EFAULT);
    expect(hypercall(domU, Hypercall.sysctl, [0x900000n])).toBe(-Errno.EFAULT);
    for (const v of [0, 0x14, 0x16]) {
      expect(call(dom0, SysctlCmd.physinfo, undefined, v)).toBe(-Errno.EACCES);
      expect(call(domU, SysctlCmd.physinfo, undefined, v)).toBe(-Errno.EACCES);
    }
    expect(call(domU, SysctlCmd.physinfo)).toBe(-Errno.EPERM);
    expect(call(domU, SysctlCmd.getdomaininfolist, list(0, 10))).toBe(-Errno.EPERM);
    expect(call(dom0, 99)).toBe(-Errno.ENOSYS);
  });

  it("physinfo: one CPU, the machine's pages and free pages, the virtual clock's rate", () => {
    const { machine, dom0 } = setup();
    expect(call(dom0, SysctlCmd.physinfo)).toBe(0);
    const p = (f: string) => result(dom0, `u.physinfo.${f}`);
    expect(p("nr_cpus")).toBe(1);
    expect(p("threads_per_core")).toBe(1);
    expect(p("cores_per_socket")).toBe(1);
    expect(p("max_cpu_id")).toBe(0);
    expect(p("nr_nodes")).toBe(1);
    expect(p("cpu_khz")).toBe(1_000_000);
    expect(p("total_pages")).toBe(512n);
    expect(p("free_pages")).toBe(BigInt(machine.freeFrameCount()));
    expect(p("free_pages")).toBe(512n - 8n);
    expect(p("max_mfn")).toBe(511n);
    expect(p("capabilities")).toBe(PhysCap.pv | PhysCap.gnttab_v1 | PhysCap.gnttab_v2);
  });

  it("physinfo reports HVM when the arch has a hardware-assisted mode", () => {
    const { machine } = fakeMachine({}, { memoryMiB: 2 });
    const dom0 = addFakeDomain(machine, { privileged: true });
    expect(call(dom0, SysctlCmd.physinfo)).toBe(0);
    expect(result(dom0, "u.physinfo.capabilities")).toBe(
      PhysCap.pv | PhysCap.hvm | PhysCap.gnttab_v1 | PhysCap.gnttab_v2,
    );
  });

  it("getdomaininfolist: from first_domain up, at most max_domains, as getdomaininfo", () => {
    const { dom0, domU, dom5 } = setup();
    expect(call(dom0, SysctlCmd.getdomaininfolist, list(0, 10))).toBe(0);
    expect(result(dom0, "u.getdomaininfolist.num_domains")).toBe(3);
    expect([0, 1, 2].map((i) => entry(dom0, i, "domain"))).toEqual([0, domU.id, dom5.id]);
    expect(entry(dom0, 1, "tot_pages")).toBe(3n);
    expect(entry(dom0, 2, "tot_pages")).toBe(1n);
    expect(call(dom0, SysctlCmd.getdomaininfolist, list(1, 1))).toBe(0);
    expect(result(dom0, "u.getdomaininfolist.num_domains")).toBe(1);
    expect(entry(dom0, 0, "domain")).toBe(domU.id);
    expect(call(dom0, SysctlCmd.getdomaininfolist, list(2, 10))).toBe(0);
    expect(result(dom0, "u.getdomaininfolist.num_domains")).toBe(1);
    expect(entry(dom0, 0, "domain")).toBe(5);
    expect(call(dom0, SysctlCmd.getdomaininfolist, list(6, 10))).toBe(0);
    expect(result(dom0, "u.getdomaininfolist.num_domains")).toBe(0);
    expect(call(dom0, SysctlCmd.getdomaininfolist, list(0, 0))).toBe(0);
    expect(result(dom0, "u.getdomaininfolist.num_domains")).toBe(0);
  });

  it("getdomaininfolist: -EFAULT for a bad buffer; domains the XSM hook hides are skipped", () => {
    const { dom0 } = setup();
    expect(call(dom0, SysctlCmd.getdomaininfolist, list(0, 10, 0x900000n))).toBe(-Errno.EFAULT);
    class HideOdd extends DummyXsmPolicy {
      override getdomaininfo(_caller: Domain, target: Domain): number {
        return target.id % 2 === 1 ? -Errno.EPERM : 0;
      }
    }
    const parent = container.createChildContainer();
    parent.register(XSM_POLICY, { useClass: HideOdd });
    const machine = createMachine(parent, { arch: new FakeArch(), memoryMiB: 2 });
    const d0 = addFakeDomain(machine, { privileged: true, pages: 4 });
    for (let i = 0; i < 4; i++) addFakeDomain(machine);
    expect(call(d0, SysctlCmd.getdomaininfolist, list(0, 10))).toBe(0);
    expect(result(d0, "u.getdomaininfolist.num_domains")).toBe(3);
    expect([0, 1, 2].map((i) => entry(d0, i, "domain"))).toEqual([0, 2, 4]);
  });
});
