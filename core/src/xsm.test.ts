import { describe, expect, it } from "vitest";
import { DomctlCmd } from "./abi/domctl.js";
import { ConsoleIoCmd, XenVersionOp } from "./abi/numbers.js";
import type { MachineConfig } from "./machine.js";
import { Domain } from "./domain.js";
import { Errno } from "./errno.js";
import { HypercallArgs } from "./hypercall.js";
import { DummyXsmPolicy, XsmAction } from "./xsm.js";

const config = (guestConsoleWrite: boolean) => ({ guestConsoleWrite }) as MachineConfig;
const dom0 = new Domain(0, true, "pv");
const domU = new Domain(1, false, "pv");
const other = new Domain(2, false, "pv");
const EPERM = -Errno.EPERM;

describe("DummyXsmPolicy (Xen's xsm/dummy.h)", () => {
  const xsm = new DummyXsmPolicy(config(false));

  it("default actions: hook for all, target for self or privileged, priv for the control domain", () => {
    expect(xsm.defaultAction(XsmAction.Hook, domU, other)).toBe(0);
    expect(xsm.defaultAction(XsmAction.Target, domU, domU)).toBe(0);
    expect(xsm.defaultAction(XsmAction.Target, domU, other)).toBe(EPERM);
    expect(xsm.defaultAction(XsmAction.Target, dom0, other)).toBe(0);
    for (const a of [XsmAction.XsPriv, XsmAction.DmPriv, XsmAction.Priv]) {
      expect(xsm.defaultAction(a, domU, domU)).toBe(EPERM);
      expect(xsm.defaultAction(a, dom0, domU)).toBe(0);
    }
  });

  it("console_io: control domain only, unless guest console writes are enabled (write only)", () => {
    expect(xsm.consoleIo(dom0, ConsoleIoCmd.read)).toBe(0);
    expect(xsm.consoleIo(domU, ConsoleIoCmd.write)).toBe(EPERM);
    const permissive = new DummyXsmPolicy(config(true));
    expect(permissive.consoleIo(domU, ConsoleIoCmd.write)).toBe(0);
    expect(permissive.consoleIo(domU, ConsoleIoCmd.read)).toBe(EPERM);
    const args = new HypercallArgs();
    args.set(0, ConsoleIoCmd.write, 0);
    // console_io, domctl and sysctl are decided by their handlers (XsmPolicy.consoleIo,
    // domctl, sysctl); the dispatcher's check lets them through.
    expect(xsm.checkHypercall("console_io", domU, args)).toBe(0);
    expect(xsm.checkHypercall("domctl", domU, args)).toBe(0);
    expect(xsm.checkHypercall("sysctl", domU, args)).toBe(0);
    expect(xsm.checkHypercall("memory_op", domU, args)).toBe(0);
  });

  it("xen_version: informational sub-ops for all, commandline and build_id privileged", () => {
    for (const op of [0, 1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13])
      expect(xsm.xenVersion(domU, op)).toBe(0);
    for (const op of [
      XenVersionOp.commandline,
      XenVersionOp.build_id,
      XenVersionOp.commandline2,
      99,
    ]) {
      expect(xsm.xenVersion(domU, op)).toBe(EPERM);
      expect(xsm.xenVersion(dom0, op)).toBe(0);
    }
  });

  it("target checks for reservations and port status; send is a hook", () => {
    expect(xsm.memoryStatReservation(domU, domU)).toBe(0);
    expect(xsm.memoryStatReservation(domU, other)).toBe(EPERM);
    expect(xsm.evtchnStatus(domU, other)).toBe(EPERM);
    expect(xsm.evtchnStatus(dom0, other)).toBe(0);
    expect(xsm.evtchnSend(domU)).toBe(0);
    expect(xsm.schedopShutdown(domU, domU)).toBe(EPERM);
    expect(xsm.schedopShutdown(dom0, domU)).toBe(0);
  });

  it("domctl: XSM_PRIV by default, getdomaininfo XSM_XS_PRIV, device-model mappings XSM_DM_PRIV", () => {
    for (const cmd of [
      DomctlCmd.createdomain,
      DomctlCmd.destroydomain,
      DomctlCmd.pausedomain,
      DomctlCmd.getdomaininfo,
      DomctlCmd.max_mem,
      DomctlCmd.setvcpucontext,
      DomctlCmd.memory_mapping,
      DomctlCmd.ioport_mapping,
      DomctlCmd.bind_pt_irq,
      DomctlCmd.unbind_pt_irq,
      1000,
    ]) {
      expect(xsm.domctl(domU, domU, cmd)).toBe(EPERM);
      expect(xsm.domctl(domU, other, cmd)).toBe(EPERM);
      expect(xsm.domctl(dom0, domU, cmd)).toBe(0);
      expect(xsm.domctl(dom0, null, cmd)).toBe(0);
    }
  });

  it("domctl's policy follows the action table: a policy that grants device-model rights changes only DM_PRIV commands", () => {
    class DeviceModel extends DummyXsmPolicy {
      override defaultAction(action: XsmAction, src: Domain, target: Domain | null): number {
        if (action === XsmAction.DmPriv && src === domU && target === other) return 0;
        return super.defaultAction(action, src, target);
      }
    }
    const dm = new DeviceModel(config(false));
    expect(dm.domctl(domU, other, DomctlCmd.memory_mapping)).toBe(0);
    expect(dm.domctl(domU, other, DomctlCmd.unbind_pt_irq)).toBe(0);
    expect(dm.domctl(domU, other, DomctlCmd.pausedomain)).toBe(EPERM);
    expect(dm.domctl(domU, other, DomctlCmd.getdomaininfo)).toBe(EPERM);
    expect(dm.domctl(domU, domU, DomctlCmd.memory_mapping)).toBe(EPERM);
  });

  it("sysctl is XSM_PRIV; getdomaininfo and domain creation are hooks once domctl allowed", () => {
    expect(xsm.sysctl(domU, 3)).toBe(EPERM);
    expect(xsm.sysctl(dom0, 3)).toBe(0);
    expect(xsm.getdomaininfo(domU, other)).toBe(0);
    expect(xsm.domainCreate(domU, 0)).toBe(0);
  });
});
