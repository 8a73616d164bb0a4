import { describe, expect, it } from "vitest";
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
    expect(xsm.checkHypercall("console_io", domU, args)).toBe(EPERM);
    expect(permissive.checkHypercall("console_io", domU, args)).toBe(0);
    expect(xsm.checkHypercall("domctl", domU, args)).toBe(EPERM);
    expect(xsm.checkHypercall("sysctl", dom0, args)).toBe(0);
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
});
