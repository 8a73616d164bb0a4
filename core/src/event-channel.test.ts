import { describe, expect, it } from "vitest";
import { SHARED_INFO } from "./abi/xen.js";
import { Virq } from "./abi/numbers.js";
import { DomainState, DomId, type Domain } from "./domain.js";
import { Errno } from "./errno.js";
import {
  evtchnAllocUnbound,
  evtchnAllocUnboundFor,
  evtchnBindInterdomain,
  evtchnBindIpi,
  evtchnBindVcpu,
  evtchnBindVirq,
  evtchnClose,
  evtchnIsMasked,
  evtchnIsPending,
  evtchnPortLimit,
  evtchnReset,
  evtchnSend,
  evtchnSendVirq,
  evtchnUnmask,
  MAX_EVTCHN_PORT_UNLIMITED,
  PortState,
} from "./event-channel.js";
import type { HvMachine } from "./machine-impl.js";
import { structAt, type DataModel } from "./structs.js";
import { addFakeDomain, fakeMachine } from "./testing/fake-machine.js";
import { VcpuState } from "./vcpu.js";
import { TEST_ILP32, TEST_LP64_BE, TEST_LP64_LE } from "./testing/data-models.js";

/** A domain with a shared_info page whose vcpu_info upcall masks are clear. */
function withSharedInfo(machine: HvMachine, d: Domain): void {
  d.sharedInfoMfn = machine.allocXenFrames(1)![0];
}

function si(machine: HvMachine, d: Domain) {
  return structAt(
    SHARED_INFO.layout(machine.arch.dataModel),
    machine.memory,
    d.sharedInfoMfn * machine.memory.pageSize,
  );
}

function setup(model: DataModel = TEST_LP64_LE, vcpus = 2) {
  const { machine } = fakeMachine({ dataModel: model });
  const a = addFakeDomain(machine, { vcpus, id: 1 });
  const b = addFakeDomain(machine, { vcpus, id: 2 });
  withSharedInfo(machine, a);
  withSharedInfo(machine, b);
  return { machine, a, b };
}

describe("event-channel port limits", () => {
  it("BITS_PER_EVTCHN_WORD squared per data model", () => {
    expect(evtchnPortLimit(TEST_LP64_LE)).toBe(4096);
    expect(evtchnPortLimit(TEST_ILP32)).toBe(1024);
    expect(evtchnPortLimit(TEST_LP64_BE)).toBe(4096);
    const { machine } = fakeMachine({ dataModel: TEST_ILP32, wordBits: 32 });
    expect(addFakeDomain(machine).eventChannels.limit).toBe(1024);
  });

  it("ports are handed out lowest first from 1; running out gives -ENOSPC", () => {
    const { machine, a } = setup(TEST_ILP32);
    const limit = a.eventChannels.limit;
    for (let p = 1; p < limit; p++) expect(evtchnBindIpi(machine, a, 0)).toBe(p);
    expect(evtchnBindIpi(machine, a, 0)).toBe(-Errno.ENOSPC);
    expect(evtchnAllocUnbound(machine, a, 0)).toBe(-Errno.ENOSPC);
    expect(evtchnBindInterdomain(machine, a, DomId.SELF, 5)).toBe(-Errno.ENOSPC);
    expect(evtchnClose(machine, a, 700)).toBe(0);
    expect(evtchnBindIpi(machine, a, 1)).toBe(700);
  });

  it("max_evtchn_port caps the ports handed out: -ENOSPC above it; ports of the bucket above it are valid but free", () => {
    const { machine, a, b } = setup();
    expect(a.eventChannels.maxPort).toBe(MAX_EVTCHN_PORT_UNLIMITED);
    a.eventChannels.maxPort = 2;
    expect(evtchnBindIpi(machine, a, 0)).toBe(1);
    expect(evtchnAllocUnbound(machine, a, b.id)).toBe(2);
    expect(evtchnBindIpi(machine, a, 0)).toBe(-Errno.ENOSPC);
    expect(evtchnBindInterdomain(machine, a, b.id, 1)).toBe(-Errno.ENOSPC);
    expect(a.eventChannels.ensure(3)).toBe(false);
    expect(a.eventChannels.isValid(63)).toBe(true);
    expect(evtchnClose(machine, a, 63)).toBe(-Errno.EINVAL);
    // A port freed below the cap is handed out again.
    expect(evtchnClose(machine, a, 1)).toBe(0);
    expect(evtchnBindIpi(machine, a, 0)).toBe(1);
    // Port 0 stays reserved even with a cap of 0.
    b.eventChannels.maxPort = 0;
    expect(evtchnAllocUnbound(machine, b, a.id)).toBe(-Errno.ENOSPC);
  });
});

describe("2-level delivery bits", () => {
  it("send: pending, then selector, then upcall_pending; a second send changes nothing", () => {
    const { machine, a, b } = setup();
    const pb = evtchnAllocUnbound(machine, b, a.id);
    // Fill a's ports so the local port lands in word 1 (port 65 → selector bit 1).
    for (let i = 1; i < 65; i++) evtchnBindIpi(machine, a, 0);
    const pa = evtchnBindInterdomain(machine, a, b.id, pb);
    expect(pa).toBe(65);
    const s = si(machine, a);
    // bind_interdomain sets the new local port pending (lost notifications).
    expect(s.getBigInt("evtchn_pending.1")).toBe(2n);
    expect(s.getBigInt("vcpu_info.0.evtchn_pending_sel")).toBe(2n);
    expect(s.getNumber("vcpu_info.0.evtchn_upcall_pending")).toBe(1);
    // Guest acknowledges everything.
    s.set("evtchn_pending.1", 0n);
    s.set("vcpu_info.0.evtchn_pending_sel", 0n);
    s.set("vcpu_info.0.evtchn_upcall_pending", 0);
    expect(evtchnSend(machine, b, pb)).toBe(0);
    expect(s.getBigInt("evtchn_pending.1")).toBe(2n);
    expect(s.getBigInt("vcpu_info.0.evtchn_pending_sel")).toBe(2n);
    expect(s.getNumber("vcpu_info.0.evtchn_upcall_pending")).toBe(1);
    // Already pending: the selector cleared by the guest is not set again.
    s.set("vcpu_info.0.evtchn_pending_sel", 0n);
    expect(evtchnSend(machine, b, pb)).toBe(0);
    expect(s.getBigInt("vcpu_info.0.evtchn_pending_sel")).toBe(0n);
  });

  it("a masked port only sets pending; unmask re-raises it on the notified vCPU", () => {
    const { machine, a } = setup();
    const p = evtchnBindIpi(machine, a, 1);
    const s = si(machine, a);
    s.set("evtchn_mask.0", 1n << BigInt(p));
    expect(evtchnSend(machine, a, p)).toBe(0);
    expect(evtchnIsPending(machine, a, p)).toBe(true);
    expect(s.getBigInt("vcpu_info.1.evtchn_pending_sel")).toBe(0n);
    expect(s.getNumber("vcpu_info.1.evtchn_upcall_pending")).toBe(0);
    expect(evtchnUnmask(machine, a, p)).toBe(0);
    expect(evtchnIsMasked(machine, a, p)).toBe(false);
    expect(s.getBigInt("vcpu_info.1.evtchn_pending_sel")).toBe(1n);
    expect(s.getNumber("vcpu_info.1.evtchn_upcall_pending")).toBe(1);
    expect(s.getNumber("vcpu_info.0.evtchn_upcall_pending")).toBe(0);
    // Unmasking a port that is not masked does not re-raise.
    s.set("vcpu_info.1.evtchn_pending_sel", 0n);
    expect(evtchnUnmask(machine, a, p)).toBe(0);
    expect(s.getBigInt("vcpu_info.1.evtchn_pending_sel")).toBe(0n);
    // Invalid port: -EINVAL; valid free port: 0 and the mask bit stays.
    expect(evtchnUnmask(machine, a, 64)).toBe(-Errno.EINVAL);
    s.set("evtchn_mask.0", 1n << 20n);
    expect(evtchnUnmask(machine, a, 20)).toBe(0);
    expect(evtchnIsMasked(machine, a, 20)).toBe(true);
  });

  it("wakes a blocked vCPU whatever its upcall mask; the upcall mask is left alone", () => {
    const { machine, a } = setup();
    const p = evtchnBindIpi(machine, a, 1);
    const s = si(machine, a);
    s.set("vcpu_info.1.evtchn_upcall_mask", 1);
    a.vcpus[1].state = VcpuState.Blocked;
    expect(evtchnSend(machine, a, p)).toBe(0);
    expect(a.vcpus[1].state).toBe(VcpuState.Runnable);
    expect(s.getNumber("vcpu_info.1.evtchn_upcall_mask")).toBe(1);
  });

  it("big-endian: bits land in the word's byte order", () => {
    const { machine, a } = setup(TEST_LP64_BE);
    const p = evtchnBindIpi(machine, a, 0);
    expect(evtchnSend(machine, a, p)).toBe(0);
    const s = si(machine, a);
    expect(s.getBigInt("evtchn_pending.0")).toBe(1n << BigInt(p));
    const base = a.sharedInfoMfn * machine.memory.pageSize;
    const off = SHARED_INFO.layout(TEST_LP64_BE).offsetOf("evtchn_pending");
    expect(machine.memory.bytes[base + off + 7]).toBe(1 << p);
  });

  it("32-bit guests: selector bit = port / 32", () => {
    const { machine, a } = setup(TEST_ILP32);
    for (let i = 1; i < 40; i++) evtchnBindIpi(machine, a, 0);
    expect(evtchnSend(machine, a, 39)).toBe(0);
    const s = si(machine, a);
    expect(s.getNumber("evtchn_pending.1")).toBe(1 << 7);
    expect(s.getNumber("vcpu_info.0.evtchn_pending_sel")).toBe(2);
  });

  it("is deterministic: the same operations give the same shared_info bytes", () => {
    const run = () => {
      const { machine, a, b } = setup();
      const u = evtchnAllocUnbound(machine, b, a.id);
      const l = evtchnBindInterdomain(machine, a, b.id, u);
      evtchnSend(machine, a, l);
      evtchnSend(machine, b, u);
      const i = evtchnBindIpi(machine, b, 1);
      evtchnSend(machine, b, i);
      const base = b.sharedInfoMfn * machine.memory.pageSize;
      return Array.from(machine.memory.bytes.subarray(base, base + 4096));
    };
    expect(run()).toEqual(run());
  });
});

describe("binding operations", () => {
  it("alloc_unbound: DOMID_SELF means the caller; -EPERM for another domain unless privileged", () => {
    const { machine, a, b } = setup();
    const p = evtchnAllocUnbound(machine, a, DomId.SELF);
    expect(a.eventChannels.stateOf(p)).toBe(PortState.Unbound);
    expect(a.eventChannels.remoteDomain[p]).toBe(a.id);
    expect(evtchnAllocUnboundFor(machine, a, b, a.id)).toBe(-Errno.EPERM);
    expect(b.eventChannels.stateOf(1)).toBe(PortState.Free);
    const dom0 = addFakeDomain(machine, { privileged: true, id: 0 });
    expect(evtchnAllocUnboundFor(machine, dom0, b, DomId.SELF)).toBe(1);
    expect(b.eventChannels.remoteDomain[1]).toBe(0);
  });

  it("bind_interdomain: -ESRCH, -EINVAL for a wrong, foreign or bound port; loopback works", () => {
    const { machine, a, b } = setup();
    expect(evtchnBindInterdomain(machine, a, 77, 1)).toBe(-Errno.ESRCH);
    expect(evtchnBindInterdomain(machine, a, b.id, 1)).toBe(-Errno.EINVAL); // free
    expect(evtchnBindInterdomain(machine, a, b.id, 64)).toBe(-Errno.EINVAL); // invalid
    const forOther = evtchnAllocUnbound(machine, b, 9);
    expect(evtchnBindInterdomain(machine, a, b.id, forOther)).toBe(-Errno.EINVAL);
    const self = evtchnAllocUnbound(machine, a, DomId.SELF);
    const local = evtchnBindInterdomain(machine, a, DomId.SELF, self);
    expect(local).toBe(self + 1);
    expect(a.eventChannels.stateOf(self)).toBe(PortState.Interdomain);
    expect(a.eventChannels.remotePort[self]).toBe(local);
    expect(a.eventChannels.remotePort[local]).toBe(self);
    expect(evtchnBindInterdomain(machine, a, DomId.SELF, self)).toBe(-Errno.EINVAL); // bound now
  });

  it("close of an interdomain port leaves the peer unbound for the closer, who can bind again", () => {
    const { machine, a, b } = setup();
    const pb = evtchnAllocUnbound(machine, b, a.id);
    const pa = evtchnBindInterdomain(machine, a, b.id, pb);
    expect(evtchnIsPending(machine, a, pa)).toBe(true);
    expect(evtchnClose(machine, a, pa)).toBe(0);
    expect(evtchnIsPending(machine, a, pa)).toBe(false); // cleared on free
    expect(a.eventChannels.stateOf(pa)).toBe(PortState.Free);
    expect(b.eventChannels.stateOf(pb)).toBe(PortState.Unbound);
    expect(b.eventChannels.remoteDomain[pb]).toBe(a.id);
    expect(evtchnSend(machine, b, pb)).toBe(0); // dropped
    expect(evtchnIsPending(machine, a, pa)).toBe(false);
    expect(evtchnClose(machine, a, pa)).toBe(-Errno.EINVAL);
    expect(evtchnClose(machine, a, 0)).toBe(-Errno.EINVAL);
    expect(evtchnClose(machine, a, 64)).toBe(-Errno.EINVAL);
    expect(evtchnBindInterdomain(machine, a, b.id, pb)).toBe(pa);
  });

  it("bind_virq: per-vCPU vs global rules and errors", () => {
    const { machine, a } = setup();
    expect(evtchnBindVirq(machine, a, 24, 0)).toBe(-Errno.EINVAL);
    expect(evtchnBindVirq(machine, a, 0xffffffff, 0)).toBe(-Errno.EINVAL);
    expect(evtchnBindVirq(machine, a, Virq.console, 1)).toBe(-Errno.EINVAL); // global on vCPU 1
    expect(evtchnBindVirq(machine, a, Virq.timer, 2)).toBe(-Errno.ENOENT);
    expect(evtchnBindVirq(machine, a, Virq.console, 0)).toBe(-Errno.EBUSY); // not dom0
    const t0 = evtchnBindVirq(machine, a, Virq.timer, 0);
    const t1 = evtchnBindVirq(machine, a, Virq.timer, 1);
    expect([t0, t1]).toEqual([1, 2]);
    expect(evtchnBindVirq(machine, a, Virq.timer, 1)).toBe(-Errno.EEXIST);
    expect(a.eventChannels.notifyVcpu[t1]).toBe(1);
    evtchnSendVirq(machine, a, Virq.timer, 1);
    expect(evtchnIsPending(machine, a, t1)).toBe(true);
    expect(evtchnIsPending(machine, a, t0)).toBe(false);
    expect(evtchnSend(machine, a, t0)).toBe(-Errno.EINVAL); // cannot send on a VIRQ port
    expect(evtchnBindVcpu(machine, a, t0, 1)).toBe(-Errno.EINVAL); // per-vCPU VIRQ
    expect(evtchnClose(machine, a, t1)).toBe(0);
    expect(evtchnBindVirq(machine, a, Virq.timer, 1)).toBe(t1);
    // dom0 handles global VIRQs; they can move to another vCPU.
    const dom0 = addFakeDomain(machine, { privileged: true, id: 0, vcpus: 2 });
    withSharedInfo(machine, dom0);
    const c = evtchnBindVirq(machine, dom0, Virq.console, 0);
    expect(c).toBe(1);
    expect(evtchnBindVcpu(machine, dom0, c, 1)).toBe(0);
    evtchnSendVirq(machine, dom0, Virq.console, 0);
    expect(si(machine, dom0).getBigInt("vcpu_info.1.evtchn_pending_sel")).toBe(1n);
    expect(evtchnClose(machine, dom0, c)).toBe(0);
    expect(evtchnBindVirq(machine, dom0, Virq.console, 0)).toBe(c);
  });

  it("bind_ipi and bind_vcpu errors", () => {
    const { machine, a } = setup();
    expect(evtchnBindIpi(machine, a, 2)).toBe(-Errno.ENOENT);
    expect(evtchnBindIpi(machine, a, -1)).toBe(-Errno.ENOENT);
    const p = evtchnBindIpi(machine, a, 0);
    expect(evtchnBindVcpu(machine, a, p, 5)).toBe(-Errno.ENOENT);
    expect(evtchnBindVcpu(machine, a, p, 1)).toBe(-Errno.EINVAL); // IPI cannot move
    expect(evtchnBindVcpu(machine, a, 64, 1)).toBe(-Errno.EINVAL);
    expect(evtchnBindVcpu(machine, a, 5, 1)).toBe(-Errno.EINVAL); // free
    const u = evtchnAllocUnbound(machine, a, 0);
    expect(evtchnBindVcpu(machine, a, u, 1)).toBe(0);
    expect(a.eventChannels.notifyVcpu[u]).toBe(1);
  });

  it("reset closes every port; another domain's needs it paused", () => {
    const { machine, a, b } = setup();
    const pb = evtchnAllocUnbound(machine, b, a.id);
    evtchnBindInterdomain(machine, a, b.id, pb);
    evtchnBindIpi(machine, a, 1);
    evtchnBindVirq(machine, a, Virq.timer, 0);
    expect(evtchnReset(machine, b, a)).toBe(-Errno.EINVAL);
    expect(evtchnReset(machine, a, a)).toBe(0);
    for (let p = 1; p < 64; p++) expect(a.eventChannels.stateOf(p)).toBe(PortState.Free);
    expect(a.eventChannels.stateOf(0)).toBe(PortState.Reserved);
    expect(b.eventChannels.stateOf(pb)).toBe(PortState.Unbound);
    expect(evtchnBindVirq(machine, a, Virq.timer, 0)).toBe(1);
    b.state = DomainState.Paused; // paused, but not by the toolstack
    expect(evtchnReset(machine, a, b)).toBe(-Errno.EINVAL);
    b.controllerPauseCount = 1;
    expect(evtchnReset(machine, a, b)).toBe(0);
    expect(b.eventChannels.stateOf(pb)).toBe(PortState.Free);
  });

  it("destroying a domain closes its ports: the peer's end becomes unbound", () => {
    const { machine, a, b } = setup();
    const pb = evtchnAllocUnbound(machine, b, a.id);
    const pa = evtchnBindInterdomain(machine, a, b.id, pb);
    expect(pa).toBeGreaterThan(0);
    machine.destroyDomain(a);
    expect(b.eventChannels.stateOf(pb)).toBe(PortState.Unbound);
    expect(b.eventChannels.remoteDomain[pb]).toBe(a.id);
    expect(evtchnSend(machine, b, pb)).toBe(0);
  });
});
