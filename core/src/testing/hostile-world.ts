/**
 * A machine for hostile-guest tests over the fake arch: an unprivileged attacker next to a
 * well-behaved victim that has real relations with it and with a third domain (the peer,
 * e.g. a backend), plus a domain that has shut down and the id of one that was destroyed.
 *
 * Unlike the plain fake address space, every page a domain maps here holds a general
 * reference on its frame, as a PV L1 entry does (`get_page_from_l1e`), so a frame still
 * mapped cannot be given back and reference counts can be recomputed from the mappings.
 * Grant host mappings are recorded separately ({@link GRANT_SLOTS}): their references
 * belong to the maptrack, and a grant mapping is never replaced implicitly (Xen crashes a
 * domain that tries: "Attempt to implicitly unmap a granted PTE").
 *
 * What the victim has when a test starts (ids: victim 1, attacker 2, peer 3, dead 4,
 * destroyed 5; nothing has id 0):
 * - grant refs {@link VICTIM_REFS}: some for the attacker (read-only, writable), some for
 *   the peer (one mapped by the peer, host writable), an accept-transfer entry for the peer;
 * - event channels {@link VICTIM_PORTS}: one interdomain channel with the attacker, one
 *   with the peer, an unbound port for the attacker, one for the peer, an IPI, a VIRQ;
 * - a host mapping of a page the attacker granted it (attacker ref 0, writable), at
 *   {@link VICTIM_MAPS_ATTACKER_VA}.
 *
 * @module
 */
import { GNTMAP_DEVICE_MAP, GNTMAP_HOST_MAP, GNTMAP_READONLY } from "../abi/grant-table.js";
import { GrantFlags, GrantStatus, Virq } from "../abi/numbers.js";
import { SHARED_INFO } from "../abi/xen.js";
import type { Domain } from "../domain.js";
import { ShutdownReason } from "../domain.js";
import {
  evtchnAllocUnbound,
  evtchnBindInterdomain,
  evtchnBindIpi,
  evtchnBindVirq,
} from "../event-channel.js";
import type { HvMachine } from "../machine-impl.js";
import { FRAME_XEN } from "../memory.js";
import { putFrame } from "../p2m.js";
import type { Vcpu } from "../vcpu.js";
import { type FakeArch, type FakeTypes, mapFakePages } from "./fake-arch.js";
import { addFakeDomain, DATA_VA, fakeMachine } from "./fake-machine.js";
import { mapGrant, MAP_VA, writeGrant } from "./grant-fixture.js";
import type { RecordingConsoleSink } from "../console-sink.js";

/** Where the victim host-maps the page the attacker granted it (its grant ref 0). */
export const VICTIM_MAPS_ATTACKER_VA = MAP_VA + 3n * 4096n;
/** Pages of data each domain has mapped writable at {@link DATA_VA}. */
export const DATA_PAGES = 4;
/** Where the attacker has one more page mapped read-only (right after its data pages). */
export const RO_VA = DATA_VA + BigInt(DATA_PAGES * 4096);
/** Virtual pages that hold grant host mappings, per domain (their references are the maptrack's). */
export const GRANT_SLOTS = new WeakMap<Domain<FakeTypes>, Set<bigint>>();

/** The victim's grant references, by purpose. */
export const VICTIM_REFS = {
  /** Writable, for the peer, host-mapped by the peer (data page 0). */
  peerMapped: 0,
  /** Read-only, for the attacker (data page 1). */
  attackerRo: 1,
  /** Writable, for the attacker (data page 2): the attacker may legally write that frame. */
  attackerRw: 2,
  /** Read-only, for the peer, device-mapped by the peer (data page 3). */
  peerRoDevice: 3,
  /** Accept-transfer, for the peer. */
  peerTransfer: 4,
  /** Writable, for the peer, not mapped (data page 1). */
  peerIdle: 5,
  /** Read-only, for the attacker, on the frame of {@link VICTIM_REFS.attackerRw}. */
  attackerRoAlias: 7,
} as const;

/** The victim's event-channel ports, by purpose. */
export const VICTIM_PORTS = {
  /** Interdomain with the attacker (the attacker may send, or close its end). */
  attacker: 1,
  /** Interdomain with the peer. */
  peer: 2,
  /** Unbound, for the peer. */
  unboundPeer: 3,
  /** Unbound, for the attacker (the attacker may bind it). */
  unboundAttacker: 4,
  /** IPI to vCPU 1. */
  ipi: 5,
  /** VIRQ_TIMER on vCPU 0. */
  timer: 6,
} as const;

/** The hostile world. */
export interface HostileWorld {
  /** The machine (4 MiB, 1024 frames). */
  readonly machine: HvMachine<FakeTypes>;
  /** Its fake arch, with counted grant host-mapping hooks. */
  readonly arch: FakeArch;
  /** Its console sink. */
  readonly sink: RecordingConsoleSink;
  /** The well-behaved domain (id 1, two vCPUs). */
  readonly victim: Domain<FakeTypes>;
  /** The unprivileged hostile domain (id 2). */
  readonly attacker: Domain<FakeTypes>;
  /** A third domain the victim works with (id 3). */
  readonly peer: Domain<FakeTypes>;
  /** A domain that has shut down (id 4). */
  readonly dead: Domain<FakeTypes>;
  /** The id of a destroyed domain (5). */
  readonly goneId: number;
  /** The attacker's port of its channel with the victim. */
  readonly attackerPort: number;
}

/**
 * Counted host-mapping hooks: a grant mapping over a plain page drops that page's
 * reference (the old L1 entry's); over another grant mapping it is refused.
 */
export function installCountedGrantHooks(arch: FakeArch): void {
  const pageOf = (vcpu: Vcpu<FakeTypes>, addr: bigint): bigint =>
    addr / BigInt(vcpu.machine.memory.pageSize);
  const slotsOf = (d: Domain<FakeTypes>): Set<bigint> => {
    let s = GRANT_SLOTS.get(d);
    if (!s) GRANT_SLOTS.set(d, (s = new Set()));
    return s;
  };
  Object.assign(arch, {
    createGrantHostMapping(
      vcpu: Vcpu<FakeTypes>,
      addr: bigint,
      mfn: number,
      flags: number,
    ): number {
      const space = vcpu.domain.arch;
      if (addr === 0n || addr % BigInt(vcpu.machine.memory.pageSize) !== 0n)
        return GrantStatus.general_error;
      const vpn = pageOf(vcpu, addr);
      const slots = slotsOf(vcpu.domain);
      if (slots.has(vpn)) return GrantStatus.general_error;
      const old = space.pages.get(vpn);
      if (old) putFrame(vcpu.machine, old.mfn);
      space.pages.set(vpn, { mfn, writable: !(flags & GNTMAP_READONLY) });
      slots.add(vpn);
      return GrantStatus.okay;
    },
    replaceGrantHostMapping(
      vcpu: Vcpu<FakeTypes>,
      addr: bigint,
      mfn: number,
      newAddr: bigint,
      flags: number,
    ): number {
      const space = vcpu.domain.arch;
      const slots = slotsOf(vcpu.domain);
      const vpn = pageOf(vcpu, addr);
      const m = space.pages.get(vpn);
      if (!slots.has(vpn) || !m || m.mfn !== mfn || m.writable !== !(flags & GNTMAP_READONLY))
        return GrantStatus.general_error;
      let stolen: { mfn: number; writable: boolean } | undefined;
      let stolenGrant = false;
      if (newAddr !== 0n) {
        const nvpn = pageOf(vcpu, newAddr);
        stolen = space.pages.get(nvpn);
        if (!stolen || nvpn === vpn) return GrantStatus.general_error;
        stolenGrant = slots.delete(nvpn);
        space.pages.delete(nvpn);
      }
      slots.delete(vpn);
      if (stolen) {
        space.pages.set(vpn, stolen);
        if (stolenGrant) slots.add(vpn);
      } else space.pages.delete(vpn);
      return GrantStatus.okay;
    },
  });
}

/** Maps `count` new frames of `d` at `va`, each holding a reference (a counted mapping). */
export function mapCountedPages(
  machine: HvMachine<FakeTypes>,
  d: Domain<FakeTypes>,
  va: bigint,
  count: number,
  writable = true,
): number[] {
  const mfns = mapFakePages(machine, d, va, count, writable);
  for (const mfn of mfns) machine.memory.frameTable.refCount[mfn]++;
  return mfns;
}

function addDomain(machine: HvMachine<FakeTypes>, id: number, vcpus = 1): Domain<FakeTypes> {
  const d = addFakeDomain(machine, { id, vcpus, pages: 0 });
  mapCountedPages(machine, d, DATA_VA, DATA_PAGES);
  const si = machine.allocXenFrames(1);
  if (!si) throw new Error("out of memory for shared_info");
  d.sharedInfoMfn = si[0];
  machine.memory.frameTable.owner[si[0]] = FRAME_XEN;
  // Room to grow: increase_reservation and transfers have something to work with.
  d.maxPages = d.totPages + 8;
  return d;
}

/** The victim's frame behind its data page `i`. */
export function dataFrame(machine: HvMachine<FakeTypes>, d: Domain<FakeTypes>, i: number): number {
  const m = d.arch.pages.get(DATA_VA / 4096n + BigInt(i));
  if (!m) throw new Error(`no data page ${i}`);
  return m.mfn;
}

/** Builds a {@link HostileWorld}. Deterministic: the same frames and ports every time. */
export function hostileWorld(): HostileWorld {
  const { machine, arch, sink } = fakeMachine({ vmAssistTypes: [0, 1, 2, 3, 4, 5] });
  installCountedGrantHooks(arch);
  const victim = addDomain(machine, 1, 2);
  const attacker = addDomain(machine, 2);
  mapCountedPages(machine, attacker, RO_VA, 1, false);
  attacker.maxPages += 1;
  const peer = addDomain(machine, 3);
  const dead = addDomain(machine, 4);
  const gone = addDomain(machine, 5);

  // Grants.
  const vf = (i: number): number => dataFrame(machine, victim, i);
  const pa = GrantFlags.permit_access;
  const ro = GrantFlags.readonly;
  writeGrant(machine, victim, VICTIM_REFS.peerMapped, pa, peer.id, vf(0));
  writeGrant(machine, victim, VICTIM_REFS.attackerRo, pa | ro, attacker.id, vf(1));
  writeGrant(machine, victim, VICTIM_REFS.attackerRw, pa, attacker.id, vf(2));
  writeGrant(machine, victim, VICTIM_REFS.peerRoDevice, pa | ro, peer.id, vf(3));
  writeGrant(machine, victim, VICTIM_REFS.peerTransfer, GrantFlags.accept_transfer, peer.id, 0);
  writeGrant(machine, victim, VICTIM_REFS.peerIdle, pa, peer.id, vf(1));
  writeGrant(machine, victim, VICTIM_REFS.attackerRoAlias, pa | ro, attacker.id, vf(2));
  // The peer grants too: an accept-transfer entry and a writable page for the attacker.
  writeGrant(machine, peer, 0, GrantFlags.accept_transfer, attacker.id, 0);
  writeGrant(machine, peer, 1, pa, attacker.id, dataFrame(machine, peer, 1));
  const m0 = mapGrant(peer, {
    ref: VICTIM_REFS.peerMapped,
    dom: victim.id,
    flags: GNTMAP_HOST_MAP,
    host_addr: MAP_VA,
  });
  const m3 = mapGrant(peer, {
    ref: VICTIM_REFS.peerRoDevice,
    dom: victim.id,
    flags: GNTMAP_DEVICE_MAP | GNTMAP_READONLY,
  });
  if (m0.status !== GrantStatus.okay || m3.status !== GrantStatus.okay)
    throw new Error("hostile world: the peer's grant maps failed");
  // The victim is the attacker's backend: it maps a page the attacker granted it.
  writeGrant(machine, attacker, 0, pa, victim.id, dataFrame(machine, attacker, 3));
  const mv = mapGrant(victim, {
    ref: 0,
    dom: attacker.id,
    flags: GNTMAP_HOST_MAP,
    host_addr: VICTIM_MAPS_ATTACKER_VA,
  });
  if (mv.status !== GrantStatus.okay) throw new Error("hostile world: the victim's map failed");

  // Event channels (ports are handed out lowest first, so the numbers are fixed).
  const aPort = evtchnAllocUnbound(machine, attacker, victim.id);
  const vPorts = [
    evtchnBindInterdomain(machine, victim, attacker.id, aPort),
    evtchnBindInterdomain(machine, victim, peer.id, evtchnAllocUnbound(machine, peer, victim.id)),
    evtchnAllocUnbound(machine, victim, peer.id),
    evtchnAllocUnbound(machine, victim, attacker.id),
    evtchnBindIpi(machine, victim, 1),
    evtchnBindVirq(machine, victim, Virq.timer, 0),
  ];
  const want = Object.values(VICTIM_PORTS);
  if (vPorts.some((p, i) => p !== want[i]))
    throw new Error(`hostile world: victim ports ${vPorts.join(",")}`);
  // The attacker holds an unbound port for the victim the victim never binds.
  evtchnAllocUnbound(machine, attacker, victim.id);
  // The victim has handled the events its binds left pending: nothing pending at start.
  const si = SHARED_INFO.layout(machine.arch.dataModel);
  const base = victim.sharedInfoMfn * machine.memory.pageSize;
  machine.memory.bytes.fill(
    0,
    base + si.offsetOf("evtchn_pending"),
    base + si.offsetOf("evtchn_mask"),
  );
  for (let i = 0; i < victim.vcpus.length; i++) {
    si.set(machine.memory.view, base, `vcpu_info.${i}.evtchn_upcall_pending`, 0);
    si.set(machine.memory.view, base, `vcpu_info.${i}.evtchn_pending_sel`, 0n);
  }

  machine.shutdownDomain(dead, ShutdownReason.Poweroff);
  const goneId = gone.id;
  machine.destroyDomain(gone);
  return { machine, arch, sink, victim, attacker, peer, dead, goneId, attackerPort: aPort };
}
