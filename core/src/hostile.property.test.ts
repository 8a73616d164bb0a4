/**
 * Hostile guests: random hypercall sequences from an unprivileged
 * domain next to a well-behaved one that has real relations with it (grants, event
 * channels) and with a third domain. Calls are weighted toward well-formed structs with
 * hostile contents — the other domain's frames, ports and grant references, DOMID_SELF,
 * dead and unused ids, pointers into unmapped, read-only, misaligned, page-end and
 * hypervisor ranges, counts 0/1/huge/negative — so the deep paths run, with raw calls
 * (any number, any arguments) mixed in.
 *
 * After every call:
 * 1. The result is an integer and no internal error was caught by the dispatcher.
 * 2. The victim's frames hash as before, except the one it granted writable to the
 *    attacker; its grant entries are unchanged except GTF_reading / GTF_writing of the
 *    entries it issued to the attacker, which must match the attacker's pins; its
 *    reservation, lifecycle and vCPU states are unchanged.
 * 3. The victim's event state: every port's table entry and its shared_info pending and
 *    mask bits are unchanged, except for the two ports the victim gave the attacker (its
 *    end of their interdomain channel, and a port it allocated unbound for the
 *    attacker). What the attacker may legally do to those: send (sets the port pending,
 *    vCPU 0's selector bit 0 and upcall_pending), close its end or reset itself (the
 *    victim's port becomes unbound for the attacker) and bind the unbound one. Their
 *    mask bits never change: only the victim may unmask its ports.
 * 4. Reference counts balance: each frame's general count is the number of plain
 *    mappings of it (each holds one, as a PV L1 entry) plus one per host and per device
 *    half of every live grant mapping of it; no type references exist on this arch; each
 *    active grant's pin count is the sum of its live mappings' pins; GTF_reading /
 *    GTF_writing of permit-access entries of the victim and the peer agree with the pins.
 * 5. No domain maps a frame it does not own except through a live host grant mapping of
 *    that frame, and writable only if that grant mapping is writable.
 * 6. Page accounting: each domain's tot_pages is the number of frames it owns less its
 *    grant-table frames; grant-table frames stay their domain's; shared_info frames stay
 *    the hypervisor's.
 * 7. Interdomain channels are symmetric across all domains.
 *
 * Seeded and deterministic. `HVKIT_FUZZ_RUNS=n` runs n sequences instead of the default.
 *
 * @module
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EVTCHN_ALLOC_UNBOUND,
  EVTCHN_BIND_INTERDOMAIN,
  EVTCHN_BIND_IPI,
  EVTCHN_BIND_VCPU,
  EVTCHN_BIND_VIRQ,
  EVTCHN_CLOSE,
  EVTCHN_INIT_CONTROL,
  EVTCHN_RESET,
  EVTCHN_SEND,
  EVTCHN_STATUS,
  EVTCHN_UNMASK,
} from "./abi/event-channel.js";
import {
  GNTCOPY_DEST_GREF,
  GNTCOPY_SOURCE_GREF,
  GNTMAP_DEVICE_MAP,
  GNTMAP_HOST_MAP,
  GNTMAP_READONLY,
  GNTTAB_COPY,
  GNTTAB_GET_STATUS_FRAMES,
  GNTTAB_GET_VERSION,
  GNTTAB_MAP_GRANT_REF,
  GNTTAB_QUERY_SIZE,
  GNTTAB_SET_VERSION,
  GNTTAB_SETUP_TABLE,
  GNTTAB_SWAP_GRANT_REF,
  GNTTAB_TRANSFER,
  GNTTAB_UNMAP_AND_REPLACE,
  GNTTAB_UNMAP_GRANT_REF,
} from "./abi/grant-table.js";
import {
  XEN_ADD_TO_PHYSMAP,
  XEN_MEMORY_EXCHANGE,
  XEN_MEMORY_MAP,
  XEN_MEMORY_RESERVATION,
} from "./abi/memory.js";
import { DomctlCmd, XEN_DOMCTL, XEN_DOMCTL_INTERFACE_VERSION } from "./abi/domctl.js";
import {
  EventChannelOp,
  GrantFlags,
  GrantTableOp,
  GTF_TYPE_MASK,
  Hypercall,
  MemoryOp,
  SchedOp,
  VcpuOp,
} from "./abi/numbers.js";
import { SCHED_POLL, SCHED_REMOTE_SHUTDOWN, SCHED_SHUTDOWN } from "./abi/sched.js";
import { XEN_SYSCTL, XEN_SYSCTL_INTERFACE_VERSION } from "./abi/sysctl.js";
import {
  VCPU_REGISTER_VCPU_INFO,
  VCPU_SET_PERIODIC_TIMER,
  VCPU_SET_SINGLESHOT_TIMER,
} from "./abi/vcpu.js";
import { MULTICALL_ENTRY, SHARED_INFO } from "./abi/xen.js";
import { ShutdownReason, type Domain } from "./domain.js";
import { GntPin, existingGrantTable, grantMappingsOf } from "./grant-table.js";
import { StructBuffer, writeGuestStruct, writeGuestU16, writeGuestU64 } from "./guest-memory.js";
import type { HvMachine } from "./machine-impl.js";
import { FRAME_XEN } from "./memory.js";
import { PortState } from "./event-channel.js";
import type { StructDef } from "./structs.js";
import type { FakeAddressSpace } from "./testing/fake-arch.js";
import { DATA_VA, hypercall } from "./testing/fake-machine.js";
import { MAP_VA, mapGrant, unmapGrant, writeGrant } from "./testing/grant-fixture.js";
import {
  dataFrame,
  DATA_PAGES,
  VICTIM_MAPS_ATTACKER_VA,
  GRANT_SLOTS,
  hostileWorld,
  RO_VA,
  VICTIM_PORTS,
  VICTIM_REFS,
  type HostileWorld,
} from "./testing/hostile-world.js";
import { TEST_LP64_LE } from "./testing/data-models.js";

// ---------------------------------------------------------------- the attacker's choices

const PAGE = 4096n;
/** Where op structs go (attacker data page 0). */
const SCRATCH = DATA_VA;
/** Where arrays (extents, ports, multicall entries) go (attacker data page 1). */
const ARRAY = DATA_VA + PAGE;
/** A second array (exchange out extents). */
const ARRAY2 = DATA_VA + 2n * PAGE + 0x800n;

/** Pointers: mostly the struct just written, else everything a guest can name. */
const pointer = (valid: bigint): fc.Arbitrary<bigint> =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(valid) },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        0n, // null
        0x900000n, // unmapped
        RO_VA, // read-only: reads work, write-backs fault
        RO_VA + PAGE - 4n, // straddles the end of the mapped range
        DATA_VA + BigInt(DATA_PAGES) * PAGE - 2n, // data end, into the read-only page
        valid + 3n, // misaligned
        MAP_VA, // a grant-mapping slot (mapped or not)
        0xffff800000000000n, // x86_64 read-only M2P
        0xffff830000000000n, // x86_64 hypervisor direct map
        0x0000800000000000n, // first non-canonical address
        0xfffffffffffffff8n, // wraps the address space
      ),
    },
  );

/** Domain ids: the peers, self, reserved ids, dead and never-used ones. */
const domid = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0x7ff0) },
  { weight: 3, arbitrary: fc.constantFrom(1, 2, 3) },
  fc.constantFrom(4, 5, 0, 0x7ff1, 0x7ff2, 0x7ff4, 0x7fef, 0xffff),
);
/** Ports: the victim's and the attacker's first ports, bucket edges, the ABI limit, huge. */
const port = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 8 }) },
  fc.constantFrom(63, 64, 4095, 4096, 0x7fffffff, 0xffffffff),
);
/** Grant references: the victim's and the peer's entries, the table end, huge. */
const gref = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 8 }) },
  fc.constantFrom(511, 512, 4096, 0xffffffff),
);
/** Counts and sizes: 0, 1, small, huge, negative as unsigned. */
const count = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(1, 1, 2, 0) },
  fc.constantFrom(3, 128, 129, 512, 0x7fffffff, 0x80000000, 0xffffffff),
);
/** vCPU ids. */
const vcpuId = fc.constantFrom(0, 0, 1, 2, 127, 0xffffffff);

/** A frame as the test names it (resolved against the world: the numbers are fixed). */
type FrameName =
  | ["attacker", number]
  | ["victim", number]
  | ["peer", number]
  | ["attackerRo"]
  | ["attackerUnmapped"]
  | ["grantTable", 1 | 2 | 3]
  | ["sharedInfo", 1 | 2]
  | ["raw", bigint];
const frame: fc.Arbitrary<FrameName> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constant("attacker" as const), fc.nat(DATA_PAGES - 1)) },
  { weight: 3, arbitrary: fc.tuple(fc.constant("victim" as const), fc.nat(DATA_PAGES - 1)) },
  fc.tuple(fc.constant("peer" as const), fc.nat(DATA_PAGES - 1)),
  fc.constant(["attackerRo"] as FrameName),
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.constant("grantTable" as const),
      fc.constantFrom(1 as const, 2 as const, 3 as const),
    ),
  },
  fc.tuple(fc.constant("sharedInfo" as const), fc.constantFrom(1 as const, 2 as const)),
  fc.tuple(
    fc.constant("raw" as const),
    fc.constantFrom(0n, 1023n, 1024n, 0x7fffffffn, 1n << 32n, 1n << 40n, (1n << 64n) - 1n),
  ),
);

function resolveFrame(w: HostileWorld, f: FrameName): bigint {
  const byId = (id: number): Domain => w.machine.domains.get(id) as Domain;
  switch (f[0]) {
    case "attacker":
      return BigInt(dataFrame(w.machine, w.attacker, f[1]));
    case "victim":
      return BigInt(dataFrame(w.machine, w.victim, f[1]));
    case "peer":
      return BigInt(dataFrame(w.machine, w.peer, f[1]));
    case "attackerUnmapped": {
      // The highest frame the attacker owns that nothing maps (fresh from a reservation).
      const ft = w.machine.memory.frameTable;
      const gframes = existingGrantTable(w.attacker)?.frames ?? [];
      for (let mfn = ft.frames - 1; mfn >= 0; mfn--)
        if (ft.owner[mfn] === w.attacker.id && ft.refCount[mfn] === 0 && !gframes.includes(mfn))
          return BigInt(mfn);
      return 0n;
    }
    case "attackerRo": {
      const m = (w.attacker.arch as FakeAddressSpace).pages.get(RO_VA / PAGE);
      return BigInt(m?.mfn ?? 0);
    }
    case "grantTable":
      return BigInt(existingGrantTable(byId(f[1]))?.frames[0] ?? 0);
    case "sharedInfo":
      return BigInt(byId(f[1]).sharedInfoMfn);
    case "raw":
      return f[1];
  }
}

/** A call the attacker makes, built against the world (structs written into its memory). */
type Call = (w: HostileWorld) => { nr: number; args: (number | bigint)[] };

const sbuf = new StructBuffer(256);

/** Writes `fields` as struct `def` at `va` in the attacker's memory (ignored if it faults). */
function put(
  w: HostileWorld,
  def: StructDef,
  fields: Record<string, number | bigint>,
  va = SCRATCH,
) {
  const layout = def.layout(w.machine.arch.dataModel);
  sbuf.bytes.fill(0);
  for (const [k, v] of Object.entries(fields)) layout.set(sbuf.view, 0, k, v);
  writeGuestStruct(w.attacker.vcpus[0], va, layout, sbuf);
}

/** Writes 64-bit values at `va` (xen_pfn_t and port arrays alike). */
function putArray(w: HostileWorld, values: readonly bigint[], va: bigint, width: 4 | 8 = 8) {
  values.forEach((v, i) => {
    const at = va + BigInt(i * width);
    if (width === 8) writeGuestU64(w.attacker.vcpus[0], at, v);
    else {
      writeGuestU16(w.attacker.vcpus[0], at, Number(v & 0xffffn));
      writeGuestU16(w.attacker.vcpus[0], at + 2n, Number((v >> 16n) & 0xffffn));
    }
  });
}

const mapFlags = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      GNTMAP_HOST_MAP,
      GNTMAP_HOST_MAP | GNTMAP_READONLY,
      GNTMAP_DEVICE_MAP,
      GNTMAP_DEVICE_MAP | GNTMAP_READONLY,
      GNTMAP_HOST_MAP | GNTMAP_DEVICE_MAP,
      GNTMAP_HOST_MAP | GNTMAP_DEVICE_MAP | GNTMAP_READONLY,
    ),
  },
  fc.constantFrom(0, 0xffffffff, 1 << 3, 1 << 4),
);
/** host_addr values: grant slots, the attacker's own mapped pages, bad addresses. */
const hostAddr = fc.oneof(
  { weight: 5, arbitrary: fc.nat(3).map((i) => MAP_VA + BigInt(i) * PAGE) },
  fc.constantFrom(0n, DATA_VA + 3n * PAGE, RO_VA, MAP_VA + 1n, 0xffff830000000000n),
);

/**
 * Well-formed grant operations on what the attacker was legally granted: maps of the
 * victim's references for it (and the peer's), unmaps of its live handles with the right
 * addresses, copies through those references, transfers of a fresh page.
 */
const wellFormedGrantCall: fc.Arbitrary<Call> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({
        target: fc.constantFrom(
          [VICTIM_REFS.attackerRo, 1],
          [VICTIM_REFS.attackerRw, 1],
          [VICTIM_REFS.attackerRoAlias, 1],
          [VICTIM_REFS.peerMapped, 1], // the peer's, pinned by the peer
          [1, 3], // the peer's writable grant for the attacker
        ),
        flags: mapFlags,
        slot: fc.nat(3),
      })
      .map((c): Call => (w) => {
        put(w, GNTTAB_MAP_GRANT_REF, {
          host_addr: MAP_VA + BigInt(c.slot) * PAGE,
          flags: c.flags,
          ref: c.target[0],
          dom: c.target[1],
        });
        return { nr: Hypercall.grant_table_op, args: [GrantTableOp.map_grant_ref, SCRATCH, 1] };
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ pick: fc.nat(), host: fc.boolean(), dev: fc.boolean() })
      .map((c): Call => (w) => {
        const live = grantMappingsOf(w.attacker);
        const [handle, m] = live.length > 0 ? live[c.pick % live.length] : [0, undefined];
        let host = 0n;
        let dev = 0n;
        if (m) {
          const act = existingGrantTable(w.machine.domains.get(m.domid) as Domain)?.active.get(
            m.ref,
          );
          const space = w.attacker.arch as FakeAddressSpace;
          for (const vpn of GRANT_SLOTS.get(w.attacker) ?? [])
            if (space.pages.get(vpn)?.mfn === act?.mfn) host = vpn * PAGE;
          if (c.dev) dev = BigInt(act?.mfn ?? 0) * PAGE;
        }
        put(w, GNTTAB_UNMAP_GRANT_REF, {
          host_addr: c.host ? host : 0n,
          dev_bus_addr: dev,
          handle,
        });
        return {
          nr: Hypercall.grant_table_op,
          args: [GrantTableOp.unmap_grant_ref, SCRATCH, 1],
        };
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        ref: fc.constantFrom(
          VICTIM_REFS.attackerRo,
          VICTIM_REFS.attackerRw,
          VICTIM_REFS.peerIdle,
          VICTIM_REFS.peerMapped,
        ),
        toGrant: fc.boolean(),
        off: fc.constantFrom(0, 100, 4000),
        len: fc.constantFrom(1, 64, 96, 200),
      })
      .map((c): Call => (w) => {
        const g = c.toGrant ? "dest" : "source";
        const l = c.toGrant ? "source" : "dest";
        put(w, GNTTAB_COPY, {
          [`${g}.u.ref`]: c.ref,
          [`${g}.domid`]: 1,
          [`${g}.offset`]: c.off,
          [`${l}.u.gmfn`]: BigInt(dataFrame(w.machine, w.attacker, 3)),
          [`${l}.domid`]: 0x7ff0,
          [`${l}.offset`]: 0,
          len: c.len,
          flags: c.toGrant ? GNTCOPY_DEST_GREF : GNTCOPY_SOURCE_GREF,
        });
        return { nr: Hypercall.grant_table_op, args: [GrantTableOp.copy, SCRATCH, 1] };
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ to: fc.constantFrom([3, 0], [1, VICTIM_REFS.peerTransfer], [3, 1]) })
      .map((c): Call => (w) => {
        put(w, GNTTAB_TRANSFER, {
          mfn: resolveFrame(w, ["attackerUnmapped"]),
          domid: c.to[0],
          ref: c.to[1],
        });
        return { nr: Hypercall.grant_table_op, args: [GrantTableOp.transfer, SCRATCH, 1] };
      }),
  },
);

const grantCall: fc.Arbitrary<Call> = fc.oneof(
  { weight: 8, arbitrary: wellFormedGrantCall },
  {
    weight: 6,
    arbitrary: fc
      .record({
        ref: gref,
        dom: domid,
        flags: mapFlags,
        host: hostAddr,
        ptr: pointer(SCRATCH),
        n: count,
      })
      .map((c): Call => (w) => {
        put(w, GNTTAB_MAP_GRANT_REF, {
          host_addr: c.host,
          flags: c.flags,
          ref: c.ref,
          dom: c.dom,
        });
        return {
          nr: Hypercall.grant_table_op,
          args: [GrantTableOp.map_grant_ref, c.ptr, c.n > 3 && c.n < 0x7fffffff ? 1 : c.n],
        };
      }),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({
        handle: fc.constantFrom(0, 1, 2, 3, 4, 0xffffffff),
        host: hostAddr,
        dev: fc.oneof(fc.constant(0n), frame),
        replace: fc.boolean(),
        newAddr: fc.oneof(fc.constant(0n), hostAddr),
        ptr: pointer(SCRATCH),
      })
      .map((c): Call => (w) => {
        const dev = typeof c.dev === "bigint" ? 0n : resolveFrame(w, c.dev) * PAGE;
        if (c.replace)
          put(w, GNTTAB_UNMAP_AND_REPLACE, {
            host_addr: c.host,
            new_addr: c.newAddr,
            handle: c.handle,
          });
        else
          put(w, GNTTAB_UNMAP_GRANT_REF, {
            host_addr: c.host,
            dev_bus_addr: dev,
            handle: c.handle,
          });
        const cmd = c.replace ? GrantTableOp.unmap_and_replace : GrantTableOp.unmap_grant_ref;
        return { nr: Hypercall.grant_table_op, args: [cmd, c.ptr, 1] };
      }),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({
        srcRef: fc.option(gref, { nil: undefined }),
        srcDom: domid,
        srcFrame: frame,
        dstRef: fc.option(gref, { nil: undefined }),
        dstDom: domid,
        dstFrame: frame,
        so: fc.constantFrom(0, 8, 4000, 4095, 4096, 0xffff),
        dof: fc.constantFrom(0, 8, 4000, 4095, 4096, 0xffff),
        len: fc.constantFrom(0, 1, 8, 96, 4096, 0xffff),
        ptr: pointer(SCRATCH),
      })
      .map((c): Call => (w) => {
        const f: Record<string, number | bigint> = {
          "source.domid": c.srcDom,
          "source.offset": c.so,
          "dest.domid": c.dstDom,
          "dest.offset": c.dof,
          len: c.len,
          flags:
            (c.srcRef !== undefined ? GNTCOPY_SOURCE_GREF : 0) |
            (c.dstRef !== undefined ? GNTCOPY_DEST_GREF : 0),
        };
        if (c.srcRef !== undefined) f["source.u.ref"] = c.srcRef;
        else f["source.u.gmfn"] = resolveFrame(w, c.srcFrame);
        if (c.dstRef !== undefined) f["dest.u.ref"] = c.dstRef;
        else f["dest.u.gmfn"] = resolveFrame(w, c.dstFrame);
        put(w, GNTTAB_COPY, f);
        return { nr: Hypercall.grant_table_op, args: [GrantTableOp.copy, c.ptr, 1] };
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ f: frame, dom: domid, ref: gref, ptr: pointer(SCRATCH) })
      .map((c): Call => (w) => {
        put(w, GNTTAB_TRANSFER, { mfn: resolveFrame(w, c.f), domid: c.dom, ref: c.ref });
        return { nr: Hypercall.grant_table_op, args: [GrantTableOp.transfer, c.ptr, 1] };
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        op: fc.constantFrom(
          GrantTableOp.setup_table,
          GrantTableOp.query_size,
          GrantTableOp.set_version,
          GrantTableOp.get_version,
          GrantTableOp.get_status_frames,
          GrantTableOp.swap_grant_ref,
          GrantTableOp.swap_grant_ref,
        ),
        refA: gref,
        refB: gref,
        dom: domid,
        nr: fc.constantFrom(0, 1, 2, 64, 65, 0xffffffff),
        list: pointer(ARRAY),
        ptr: pointer(SCRATCH),
        n: fc.constantFrom(1, 1, 1, 0, 2, 0xffffffff),
        version: fc.constantFrom(0, 1, 2, 3),
      })
      .map((c): Call => (w) => {
        if (c.op === GrantTableOp.setup_table)
          put(w, GNTTAB_SETUP_TABLE, { dom: c.dom, nr_frames: c.nr, frame_list: c.list });
        else if (c.op === GrantTableOp.query_size) put(w, GNTTAB_QUERY_SIZE, { dom: c.dom });
        else if (c.op === GrantTableOp.set_version)
          put(w, GNTTAB_SET_VERSION, { version: c.version });
        else if (c.op === GrantTableOp.get_status_frames)
          put(w, GNTTAB_GET_STATUS_FRAMES, { dom: c.dom, nr_frames: c.nr, frame_list: c.list });
        else if (c.op === GrantTableOp.swap_grant_ref)
          put(w, GNTTAB_SWAP_GRANT_REF, { ref_a: c.refA, ref_b: c.refB });
        else put(w, GNTTAB_GET_VERSION, { dom: c.dom });
        return { nr: Hypercall.grant_table_op, args: [c.op, c.ptr, c.n] };
      }),
  },
);

const evtchnCall: fc.Arbitrary<Call> = fc
  .record({
    op: fc.constantFrom(
      EventChannelOp.alloc_unbound,
      EventChannelOp.bind_interdomain,
      EventChannelOp.bind_interdomain,
      EventChannelOp.bind_virq,
      EventChannelOp.bind_ipi,
      EventChannelOp.bind_vcpu,
      EventChannelOp.close,
      EventChannelOp.send,
      EventChannelOp.send,
      EventChannelOp.unmask,
      EventChannelOp.status,
      EventChannelOp.reset,
      EventChannelOp.init_control,
      EventChannelOp.bind_pirq,
      14,
    ),
    dom: domid,
    remote: domid,
    port: port,
    vcpu: vcpuId,
    virq: fc.constantFrom(0, 1, 2, 3, 7, 23, 24, 0xffffffff),
    ptr: pointer(SCRATCH),
  })
  .map((c): Call => (w) => {
    switch (c.op) {
      case EventChannelOp.alloc_unbound:
        put(w, EVTCHN_ALLOC_UNBOUND, { dom: c.dom, remote_dom: c.remote });
        break;
      case EventChannelOp.bind_interdomain:
        put(w, EVTCHN_BIND_INTERDOMAIN, { remote_dom: c.remote, remote_port: c.port });
        break;
      case EventChannelOp.bind_virq:
        put(w, EVTCHN_BIND_VIRQ, { virq: c.virq, vcpu: c.vcpu });
        break;
      case EventChannelOp.bind_ipi:
        put(w, EVTCHN_BIND_IPI, { vcpu: c.vcpu });
        break;
      case EventChannelOp.bind_vcpu:
        put(w, EVTCHN_BIND_VCPU, { port: c.port, vcpu: c.vcpu });
        break;
      case EventChannelOp.close:
        put(w, EVTCHN_CLOSE, { port: c.port });
        break;
      case EventChannelOp.send:
        put(w, EVTCHN_SEND, { port: c.port });
        break;
      case EventChannelOp.unmask:
        put(w, EVTCHN_UNMASK, { port: c.port });
        break;
      case EventChannelOp.status:
        put(w, EVTCHN_STATUS, { dom: c.dom, port: c.port });
        break;
      case EventChannelOp.reset:
        put(w, EVTCHN_RESET, { dom: c.dom });
        break;
      case EventChannelOp.init_control:
        put(w, EVTCHN_INIT_CONTROL, { control_gfn: c.port, offset: c.virq, vcpu: c.vcpu });
        break;
      default:
        put(w, EVTCHN_SEND, { port: c.port });
    }
    return { nr: Hypercall.event_channel_op, args: [c.op, c.ptr] };
  });

/** Well-formed reservation changes and exchanges of frames the attacker names as its own. */
const ownFrame: fc.Arbitrary<FrameName> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(["attackerUnmapped"] as FrameName) },
  fc.tuple(fc.constant("attacker" as const), fc.nat(DATA_PAGES - 1)),
  fc.constant(["attackerRo"] as FrameName),
  fc.constant(["grantTable", 2] as FrameName),
  fc.constant(["sharedInfo", 2] as FrameName),
  fc.tuple(fc.constant("victim" as const), fc.nat(DATA_PAGES - 1)),
);
const wellFormedMemoryCall: fc.Arbitrary<Call> = fc
  .record({
    op: fc.constantFrom(
      MemoryOp.increase_reservation,
      MemoryOp.decrease_reservation,
      MemoryOp.populate_physmap,
      MemoryOp.exchange,
    ),
    f: ownFrame,
    gpfn: fc.constantFrom(0n, 3n, 0x100n),
  })
  .map((c): Call => (w) => {
    const self = 0x7ff0;
    if (c.op === MemoryOp.exchange) {
      putArray(w, [resolveFrame(w, c.f)], ARRAY);
      putArray(w, [c.gpfn], ARRAY2);
      put(w, XEN_MEMORY_EXCHANGE, {
        "in.extent_start": ARRAY,
        "in.nr_extents": 1,
        "in.domid": self,
        "out.extent_start": ARRAY2,
        "out.nr_extents": 1,
        "out.domid": self,
      });
    } else {
      putArray(w, [c.op === MemoryOp.populate_physmap ? c.gpfn : resolveFrame(w, c.f)], ARRAY);
      put(w, XEN_MEMORY_RESERVATION, { extent_start: ARRAY, nr_extents: 1, domid: self });
    }
    return { nr: Hypercall.memory_op, args: [c.op, SCRATCH] };
  });

const memoryCall: fc.Arbitrary<Call> = fc.oneof(
  { weight: 4, arbitrary: wellFormedMemoryCall },
  {
    weight: 4,
    arbitrary: fc
      .record({
        op: fc.constantFrom(
          MemoryOp.increase_reservation,
          MemoryOp.decrease_reservation,
          MemoryOp.decrease_reservation,
          MemoryOp.populate_physmap,
        ),
        frames: fc.array(frame, { minLength: 1, maxLength: 3 }),
        nr: count,
        order: fc.constantFrom(0, 0, 0, 1, 9, 10, 19, 0xffffffff),
        flags: fc.constantFrom(0, 0, 12, 13, 40, 0x100, 0x10000 | 0x200, 0xffffffff),
        dom: domid,
        list: pointer(ARRAY),
        ptr: pointer(SCRATCH),
        start: fc.constantFrom(0n, 0n, 0n, 1n, 1n << 26n),
      })
      .map((c): Call => (w) => {
        putArray(
          w,
          c.frames.map((f) => resolveFrame(w, f)),
          ARRAY,
        );
        put(w, XEN_MEMORY_RESERVATION, {
          extent_start: c.list,
          nr_extents: c.nr,
          extent_order: c.order,
          mem_flags: c.flags,
          domid: c.dom,
        });
        return {
          nr: Hypercall.memory_op,
          args: [BigInt(c.op) | (c.start << 6n), c.ptr],
        };
      }),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({
        inFrames: fc.array(frame, { minLength: 1, maxLength: 2 }),
        outGpfns: fc.array(fc.constantFrom(0n, 5n, 0x1000n, 1n << 30n, (1n << 64n) - 1n), {
          minLength: 1,
          maxLength: 2,
        }),
        inNr: count,
        outNr: count,
        inOrder: fc.constantFrom(0, 0, 1, 9, 10),
        outOrder: fc.constantFrom(0, 0, 1, 9, 10),
        inDom: domid,
        outDom: domid,
        done: fc.constantFrom(0n, 0n, 1n, 2n, 1n << 40n),
        inList: pointer(ARRAY),
        outList: pointer(ARRAY2),
        ptr: pointer(SCRATCH),
      })
      .map((c): Call => (w) => {
        putArray(
          w,
          c.inFrames.map((f) => resolveFrame(w, f)),
          ARRAY,
        );
        putArray(w, c.outGpfns, ARRAY2);
        put(w, XEN_MEMORY_EXCHANGE, {
          "in.extent_start": c.inList,
          "in.nr_extents": c.inNr,
          "in.extent_order": c.inOrder,
          "in.domid": c.inDom,
          "out.extent_start": c.outList,
          "out.nr_extents": c.outNr,
          "out.extent_order": c.outOrder,
          "out.domid": c.outDom,
          nr_exchanged: c.done,
        });
        return { nr: Hypercall.memory_op, args: [MemoryOp.exchange, c.ptr] };
      }),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        op: fc.constantFrom(
          MemoryOp.current_reservation,
          MemoryOp.maximum_reservation,
          MemoryOp.maximum_gpfn,
          MemoryOp.maximum_ram_page,
          MemoryOp.memory_map,
          MemoryOp.add_to_physmap,
          MemoryOp.machphys_mfn_list,
          MemoryOp.machine_memory_map,
          MemoryOp.set_memory_map,
          63,
        ),
        dom: domid,
        space: fc.constantFrom(0, 1, 2, 3, 4, 0xffffffff),
        idx: fc.constantFrom(0n, 1n, 63n, 64n, 1n << 31n),
        gpfn: fc.constantFrom(0n, 1n, 0x1000n, (1n << 64n) - 1n),
        nr: count,
        ptr: pointer(SCRATCH),
      })
      .map((c): Call => (w) => {
        if (c.op === MemoryOp.add_to_physmap)
          put(w, XEN_ADD_TO_PHYSMAP, {
            domid: c.dom,
            space: c.space,
            idx: c.idx,
            gpfn: c.gpfn,
          });
        else if (c.op === MemoryOp.memory_map)
          put(w, XEN_MEMORY_MAP, { nr_entries: c.nr, buffer: ARRAY });
        else writeGuestU16(w.attacker.vcpus[0], SCRATCH, c.dom);
        return { nr: Hypercall.memory_op, args: [c.op, c.ptr] };
      }),
  },
);

const DOMCTLS = Object.values(DomctlCmd).filter((v): v is number => typeof v === "number");
const privilegedCall: fc.Arbitrary<Call> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({
        cmd: fc.oneof(fc.constantFrom(...DOMCTLS), fc.nat(100)),
        version: fc.constantFrom(
          XEN_DOMCTL_INTERFACE_VERSION,
          XEN_DOMCTL_INTERFACE_VERSION,
          XEN_DOMCTL_INTERFACE_VERSION - 1,
        ),
        dom: domid,
        word: fc.constantFrom(0n, 1n, 0x100000n, (1n << 64n) - 1n),
        ptr: pointer(SCRATCH),
      })
      .map((c): Call => (w) => {
        put(w, XEN_DOMCTL, {
          cmd: c.cmd,
          interface_version: c.version,
          domain: c.dom,
          "u.max_mem.max_memkb": c.word,
        });
        return { nr: Hypercall.domctl, args: [c.ptr] };
      }),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        cmd: fc.nat(40),
        version: fc.constantFrom(XEN_SYSCTL_INTERFACE_VERSION, 0),
        ptr: pointer(SCRATCH),
      })
      .map((c): Call => (w) => {
        put(w, XEN_SYSCTL, { cmd: c.cmd, interface_version: c.version });
        return { nr: Hypercall.sysctl, args: [c.ptr] };
      }),
  },
);

const schedCall: fc.Arbitrary<Call> = fc
  .record({
    op: fc.oneof(
      {
        weight: 8,
        arbitrary: fc.constantFrom(
          SchedOp.yield,
          SchedOp.block,
          SchedOp.poll,
          SchedOp.poll,
          SchedOp.remote_shutdown,
          SchedOp.remote_shutdown,
          SchedOp.shutdown_code,
          SchedOp.watchdog,
          9,
        ),
      },
      { weight: 1, arbitrary: fc.constantFrom(SchedOp.shutdown, SchedOp.yield, SchedOp.yield) },
    ),
    dom: domid,
    reason: fc.constantFrom(0, 2, 3, 0xffffffff),
    ports: fc.array(port, { minLength: 1, maxLength: 3 }),
    nr: count,
    list: pointer(ARRAY),
    ptr: pointer(SCRATCH),
  })
  .map((c): Call => (w) => {
    if (c.op === SchedOp.poll) {
      putArray(w, c.ports.map(BigInt), ARRAY, 4);
      put(w, SCHED_POLL, { ports: c.list, nr_ports: c.nr, timeout: 0n });
    } else if (c.op === SchedOp.remote_shutdown)
      put(w, SCHED_REMOTE_SHUTDOWN, { domain_id: c.dom, reason: c.reason });
    else put(w, SCHED_SHUTDOWN, { reason: c.reason });
    return { nr: Hypercall.sched_op, args: [c.op, c.ptr] };
  });

const vcpuCall: fc.Arbitrary<Call> = fc
  .record({
    op: fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom(
          VcpuOp.register_vcpu_info,
          VcpuOp.register_vcpu_info,
          VcpuOp.register_runstate_memory_area,
          VcpuOp.get_runstate_info,
          VcpuOp.is_up,
          VcpuOp.up,
          VcpuOp.initialise,
          VcpuOp.set_periodic_timer,
          VcpuOp.set_singleshot_timer,
          VcpuOp.stop_periodic_timer,
          VcpuOp.send_nmi,
          14,
        ),
      },
      { weight: 1, arbitrary: fc.constantFrom(VcpuOp.down, VcpuOp.is_up, VcpuOp.is_up) },
    ),
    vcpu: vcpuId,
    f: frame,
    offset: fc.constantFrom(0, 8, 64, 4032, 4033, 4088, 0xffffffff),
    word: fc.constantFrom(0n, 1000n, 1_000_000n, 1n << 62n, (1n << 64n) - 1n),
    ptr: pointer(SCRATCH),
  })
  .map((c): Call => (w) => {
    if (c.op === VcpuOp.register_vcpu_info)
      put(w, VCPU_REGISTER_VCPU_INFO, { mfn: resolveFrame(w, c.f), offset: c.offset });
    else if (c.op === VcpuOp.set_periodic_timer)
      put(w, VCPU_SET_PERIODIC_TIMER, { period_ns: c.word });
    else if (c.op === VcpuOp.set_singleshot_timer)
      put(w, VCPU_SET_SINGLESHOT_TIMER, { timeout_abs_ns: c.word });
    else writeGuestU64(w.attacker.vcpus[0], SCRATCH, c.word === 0n ? SCRATCH + 256n : c.word);
    return { nr: Hypercall.vcpu_op, args: [c.op, c.vcpu, c.ptr] };
  });

/** Argument values for raw calls: anything, small numbers, pointers, domain ids. */
const rawArgument = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.integer({ min: 0, max: 40 }),
  fc.integer({ min: -4, max: 4 }).map((x) => BigInt.asUintN(64, BigInt(x))),
  { weight: 2, arbitrary: pointer(SCRATCH) },
  domid,
);
const rawCall: fc.Arbitrary<Call> = fc
  .record({
    nr: fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 70 }) },
      fc.integer({ min: -1, max: 0x7fffffff }),
    ),
    args: fc.array(rawArgument, { minLength: 6, maxLength: 6 }),
  })
  .map(
    (c): Call =>
      () =>
        c,
  );

/** A multicall of raw and structured entries (nested multicalls included). */
const multiCall: fc.Arbitrary<Call> = fc
  .record({
    entries: fc.array(
      fc.record({
        op: fc.constantFrom(
          Hypercall.event_channel_op,
          Hypercall.grant_table_op,
          Hypercall.memory_op,
          Hypercall.multicall,
          Hypercall.xen_version,
          Hypercall.iret,
          99,
        ),
        args: fc.array(rawArgument, { minLength: 5, maxLength: 5 }),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    nr: fc.constantFrom(1, 2, 3, 0, 0xffffffff),
    list: pointer(ARRAY2),
  })
  .map((c): Call => (w) => {
    const layout = MULTICALL_ENTRY.layout(w.machine.arch.dataModel);
    c.entries.forEach((e, i) => {
      const f: Record<string, number | bigint> = { op: e.op };
      e.args.forEach((a, j) => (f[`args.${j}`] = BigInt(a)));
      put(w, MULTICALL_ENTRY, f, ARRAY2 + BigInt(i * layout.size));
    });
    return { nr: Hypercall.multicall, args: [c.list, c.nr] };
  });

const miscCall: fc.Arbitrary<Call> = fc
  .record({
    nr: fc.constantFrom(
      Hypercall.console_io,
      Hypercall.xen_version,
      Hypercall.vm_assist,
      Hypercall.set_timer_op,
    ),
    cmd: fc.integer({ min: 0, max: 12 }),
    n: count,
    ptr: pointer(SCRATCH),
  })
  .map((c): Call => () => {
    if (c.nr === Hypercall.console_io) return { nr: c.nr, args: [c.cmd % 3, c.n, c.ptr] };
    if (c.nr === Hypercall.vm_assist) return { nr: c.nr, args: [c.cmd % 3, c.n] };
    if (c.nr === Hypercall.set_timer_op) return { nr: c.nr, args: [c.ptr] };
    return { nr: c.nr, args: [c.cmd, c.ptr] };
  });

/** One step: weighted toward well-formed calls with hostile contents. */
const call: fc.Arbitrary<Call> = fc.oneof(
  { weight: 10, arbitrary: grantCall },
  { weight: 7, arbitrary: evtchnCall },
  { weight: 6, arbitrary: memoryCall },
  { weight: 2, arbitrary: privilegedCall },
  { weight: 2, arbitrary: schedCall },
  { weight: 3, arbitrary: vcpuCall },
  { weight: 1, arbitrary: multiCall },
  { weight: 1, arbitrary: miscCall },
  { weight: 2, arbitrary: rawCall },
);

// ---------------------------------------------------------------- the invariants

const SI = SHARED_INFO.layout(TEST_LP64_LE);
const PENDING = SI.offsetOf("evtchn_pending");
const MASK = SI.offsetOf("evtchn_mask");
const SEL0 = SI.offsetOf("vcpu_info.0.evtchn_pending_sel");
const UPCALL0 = SI.offsetOf("vcpu_info.0.evtchn_upcall_pending");
/** Victim ports the attacker may legally affect. */
const ALLOWED_PORTS = [VICTIM_PORTS.attacker, VICTIM_PORTS.unboundAttacker];
/** Victim grant refs the attacker may legally pin. */
const ATTACKER_REFS: readonly number[] = [
  VICTIM_REFS.attackerRo,
  VICTIM_REFS.attackerRw,
  VICTIM_REFS.attackerRoAlias,
];

function frameHash(bytes: Uint8Array, mfn: number): number {
  const words = new Int32Array(bytes.buffer, mfn * 4096, 1024);
  let h = 0x811c9dc5;
  for (let i = 0; i < 1024; i++) h = Math.imul(h ^ words[i], 16777619);
  return h;
}

/** What is recorded of the victim before the attack. */
interface VictimBaseline {
  readonly hashes: Map<number, number>;
  readonly owned: number[];
  readonly grantEntries: Uint8Array;
  readonly active: Map<number, string>;
  readonly sharedInfo: Uint8Array;
  readonly ports: unknown[];
  readonly scalars: unknown[];
}

function ownedFrames(machine: HvMachine, d: Domain): number[] {
  const owner = machine.memory.frameTable.owner;
  const out: number[] = [];
  for (let mfn = 0; mfn < owner.length; mfn++) if (owner[mfn] === d.id) out.push(mfn);
  return out;
}

function victimScalars(v: Domain): unknown[] {
  return [
    v.state,
    v.shutdownCode,
    v.totPages,
    v.maxPages,
    v.controllerPauseCount,
    v.vmAssist,
    v.debuggerAttached,
    v.vcpus.map((x) => x.state),
    v.vcpus.map((x) => x.registeredVcpuInfo),
    [...v.handle],
  ];
}

function portRows(v: Domain, skip: readonly number[]): unknown[] {
  const t = v.eventChannels;
  const rows: unknown[] = [t.state.length, [...t.virqPorts]];
  for (let p = 0; p < t.state.length; p++) {
    if (skip.includes(p)) continue;
    rows.push([p, t.state[p], t.notifyVcpu[p], t.remoteDomain[p], t.remotePort[p], t.binding[p]]);
  }
  return rows;
}

function victimBaseline(w: HostileWorld): VictimBaseline {
  const { machine, victim } = w;
  const bytes = machine.memory.bytes;
  const gt = existingGrantTable(victim)!;
  const rw = dataFrame(machine, victim, 2);
  const owned = ownedFrames(machine, victim);
  const hashes = new Map<number, number>();
  for (const mfn of owned)
    if (mfn !== rw && !gt.frames.includes(mfn)) hashes.set(mfn, frameHash(bytes, mfn));
  const active = new Map<number, string>();
  for (const [ref, a] of gt.active) active.set(ref, `${a.pin}/${a.domid}/${a.mfn}`);
  return {
    hashes,
    owned,
    grantEntries: bytes.slice(gt.frames[0] * 4096, gt.frames[0] * 4096 + 4096),
    active,
    sharedInfo: bytes.slice(victim.sharedInfoMfn * 4096, victim.sharedInfoMfn * 4096 + 4096),
    ports: portRows(victim, ALLOWED_PORTS),
    scalars: victimScalars(victim),
  };
}

/** Pin increments a maptrack entry's flags hold. */
function pinOf(flags: number): number {
  const ro = (flags & GNTMAP_READONLY) !== 0;
  let pin = 0;
  if (flags & GNTMAP_HOST_MAP) pin += ro ? GntPin.hstrInc : GntPin.hstwInc;
  if (flags & GNTMAP_DEVICE_MAP) pin += ro ? GntPin.devrInc : GntPin.devwInc;
  return pin;
}

/** Checks every invariant; returns the first one broken, or null. */
function brokenInvariant(w: HostileWorld, base: VictimBaseline): string | null {
  const { machine, victim, attacker } = w;
  const bytes = machine.memory.bytes;
  const ft = machine.memory.frameTable;
  const live = [...machine.domains.values()];

  // 2. The victim's memory, grants and scalars.
  const owned = ownedFrames(machine, victim);
  if (owned.join() !== base.owned.join()) return `victim frames ${base.owned} → ${owned}`;
  for (const [mfn, h] of base.hashes)
    if (frameHash(bytes, mfn) !== h) return `victim frame ${mfn} changed`;
  if (JSON.stringify(victimScalars(victim)) !== JSON.stringify(base.scalars))
    return `victim state ${JSON.stringify(base.scalars)} → ${JSON.stringify(victimScalars(victim))}`;
  const vgt = existingGrantTable(victim)!;
  if (vgt.frames.length !== 1) return `victim grant table now ${vgt.frames.length} frames`;
  const g = vgt.frames[0] * 4096;
  for (let ref = 0; ref < 512; ref++) {
    for (let b = 0; b < 8; b++) {
      let was = base.grantEntries[ref * 8 + b];
      let now = bytes[g + ref * 8 + b];
      if (b === 0 && ATTACKER_REFS.includes(ref)) {
        was &= ~(GrantFlags.reading | GrantFlags.writing);
        now &= ~(GrantFlags.reading | GrantFlags.writing);
      }
      if (was !== now) return `victim grant entry ${ref} byte ${b}: ${was} → ${now}`;
    }
    if (!ATTACKER_REFS.includes(ref)) {
      const a = vgt.active.get(ref);
      const now = a ? `${a.pin}/${a.domid}/${a.mfn}` : undefined;
      const was = base.active.get(ref);
      if (now !== was && !(was === undefined && a?.pin === 0))
        return `victim active grant ${ref}: ${was} → ${now}`;
    }
  }

  // 3. The victim's event state.
  if (JSON.stringify(portRows(victim, ALLOWED_PORTS)) !== JSON.stringify(base.ports))
    return "victim port table changed";
  const vt = victim.eventChannels;
  for (const p of ALLOWED_PORTS) {
    const s = vt.state[p];
    if (s !== PortState.Unbound && s !== PortState.Interdomain)
      return `victim port ${p} is now in state ${s}`;
    if (vt.remoteDomain[p] !== attacker.id || vt.notifyVcpu[p] !== 0)
      return `victim port ${p} now points at d${vt.remoteDomain[p]} / vCPU ${vt.notifyVcpu[p]}`;
  }
  const si = victim.sharedInfoMfn * 4096;
  for (let i = 0; i < 4096; i++) {
    const diff = base.sharedInfo[i] ^ bytes[si + i];
    if (diff === 0) continue;
    let allowed = 0;
    if (i === PENDING) for (const p of ALLOWED_PORTS) allowed |= 1 << p;
    if (i === SEL0) allowed = 1;
    if (i === UPCALL0) allowed = 0xff;
    if ((diff & ~allowed) !== 0 || (bytes[si + i] & diff) !== diff)
      return `victim shared_info byte ${i} (pending at ${PENDING}, mask at ${MASK}): ${base.sharedInfo[i]} → ${bytes[si + i]}`;
  }

  // 4. Reference counts and pins, from first principles.
  const expected = new Int32Array(ft.frames);
  const pins = new Map<string, { pin: number; by: Set<number> }>();
  const hostGrants = new Map<Domain, { mfn: number; writable: boolean }[]>();
  for (const d of live) {
    const space = d.arch as FakeAddressSpace | null;
    const slots = GRANT_SLOTS.get(d) ?? new Set<bigint>();
    if (space) for (const [vpn, m] of space.pages) if (!slots.has(vpn)) expected[m.mfn]++;
    const hg: { mfn: number; writable: boolean }[] = [];
    for (const [h, m] of grantMappingsOf(d)) {
      const granter = machine.domains.get(m.domid);
      // A destroyed granter: the frame the maptrack recorded, now the hypervisor's.
      const act = granter
        ? existingGrantTable(granter)?.active.get(m.ref)
        : { mfn: m.mfn, pin: pinOf(m.flags), domid: d.id };
      if (!act) return `d${d.id} handle ${h}: d${m.domid} ref ${m.ref} has no active entry`;
      if (!granter && ft.owner[act.mfn] !== FRAME_XEN)
        return `d${d.id} maps frame ${act.mfn} of destroyed d${m.domid}, now owned by ${ft.owner[act.mfn]}`;
      if (m.flags & GNTMAP_HOST_MAP) {
        expected[act.mfn]++;
        hg.push({ mfn: act.mfn, writable: !(m.flags & GNTMAP_READONLY) });
      }
      if (m.flags & GNTMAP_DEVICE_MAP) expected[act.mfn]++;
      const key = `${m.domid}:${m.ref}`;
      const e = pins.get(key) ?? { pin: 0, by: new Set<number>() };
      e.pin += pinOf(m.flags);
      e.by.add(d.id);
      pins.set(key, e);
    }
    hostGrants.set(d, hg);
  }
  for (let mfn = 0; mfn < ft.frames; mfn++) {
    // A frame kept for a destroyed granter may also hold its stale mapping references.
    const kept = ft.owner[mfn] === FRAME_XEN && ft.refCount[mfn] >= expected[mfn];
    if (ft.refCount[mfn] !== expected[mfn] && !kept)
      return `frame ${mfn} (owner ${ft.owner[mfn]}): refcount ${ft.refCount[mfn]}, mappings account for ${expected[mfn]}`;
    if (ft.typeCount[mfn] !== 0) return `frame ${mfn}: type count ${ft.typeCount[mfn]}`;
  }
  for (const d of live) {
    const gt = existingGrantTable(d);
    if (!gt) continue;
    for (const [ref, act] of gt.active) {
      const e = pins.get(`${d.id}:${ref}`);
      if (act.pin !== (e?.pin ?? 0))
        return `d${d.id} ref ${ref}: pin ${act.pin.toString(16)}, mappings hold ${(e?.pin ?? 0).toString(16)}`;
      if (e && (e.by.size !== 1 || !e.by.has(act.domid)))
        return `d${d.id} ref ${ref} pinned for d${act.domid}, mapped by ${[...e.by]}`;
      if (d !== victim && d !== w.peer) continue;
      const flags = machine.memory.read16(gt.entryAddress(ref));
      if ((flags & GTF_TYPE_MASK) !== GrantFlags.permit_access) continue;
      const reading = (flags & GrantFlags.reading) !== 0;
      const writing = (flags & GrantFlags.writing) !== 0;
      if (reading !== (act.pin !== 0) || writing !== ((act.pin & 0x00ff00ff) !== 0))
        return `d${d.id} ref ${ref}: flags ${flags.toString(16)} with pin ${act.pin.toString(16)}`;
    }
  }

  // 5. No mapping of another domain's frame without a host grant mapping of it.
  for (const d of live) {
    const space = d.arch as FakeAddressSpace | null;
    if (!space) continue;
    for (const [vpn, m] of space.pages) {
      if (ft.owner[m.mfn] === d.id) continue;
      const g = hostGrants.get(d)!.filter((x) => x.mfn === m.mfn);
      if (g.length === 0)
        return `d${d.id} maps frame ${m.mfn} (owner ${ft.owner[m.mfn]}) at page ${vpn} without a grant`;
      if (m.writable && !g.some((x) => x.writable))
        return `d${d.id} maps frame ${m.mfn} of d${ft.owner[m.mfn]} writable through a read-only grant`;
    }
  }

  // 6. Page accounting.
  for (const d of [...live, w.dead]) {
    const gt = existingGrantTable(d);
    // Grant and v2 status frames: the domain's, outside its reservation.
    const gframes = [...(gt?.frames ?? []), ...(gt?.statusFrames ?? [])];
    for (const f of gframes)
      if (ft.owner[f] !== d.id) return `d${d.id} grant frame ${f} now owned by ${ft.owner[f]}`;
    if (ft.owner[d.sharedInfoMfn] !== FRAME_XEN)
      return `d${d.id} shared_info frame owned by ${ft.owner[d.sharedInfoMfn]}`;
    const n = ownedFrames(machine, d).length - gframes.length;
    if (d.totPages !== n) return `d${d.id} tot_pages ${d.totPages}, owns ${n} reservation frames`;
  }

  // 7. Interdomain symmetry.
  for (const d of live) {
    const t = d.eventChannels;
    for (let p = 1; p < t.state.length; p++) {
      if (t.state[p] !== PortState.Interdomain) continue;
      const r = machine.domains.get(t.remoteDomain[p]);
      const q = t.remotePort[p];
      const rt = r?.eventChannels;
      if (!rt?.isValid(q) || rt.state[q] !== PortState.Interdomain)
        return `d${d.id}:${p} → d${t.remoteDomain[p]}:${q} is not interdomain`;
      if (rt.remoteDomain[q] !== d.id || rt.remotePort[q] !== p)
        return `d${d.id}:${p} → d${r!.id}:${q} is not symmetric`;
    }
  }
  return null;
}

// ---------------------------------------------------------------- running sequences

/** Statistics of the last run (how deep the calls went). */
const stats = {
  steps: 0,
  ok: 0,
  deaths: new Map<string, number>(),
  errors: new Map<number, number>(),
  /** Deep paths reached: steps after which each held (see {@link noteDeepPaths}). */
  deep: new Map<string, number>(),
};

/** Records which deep states the attacker reached (legally) after a step. */
function noteDeepPaths(w: HostileWorld): void {
  const note = (what: string, held: boolean) => {
    if (held) stats.deep.set(what, (stats.deep.get(what) ?? 0) + 1);
  };
  const maps = grantMappingsOf(w.attacker);
  note(
    "attacker holds a grant mapping of the victim",
    maps.some(([, m]) => m.domid === 1),
  );
  note(
    "attacker holds a writable host mapping",
    maps.some(([, m]) => (m.flags & GNTMAP_HOST_MAP) !== 0 && !(m.flags & GNTMAP_READONLY)),
  );
  note(
    "attacker bound the victim's unbound port",
    w.victim.eventChannels.state[VICTIM_PORTS.unboundAttacker] === PortState.Interdomain,
  );
  note(
    "attacker closed its end of the channel",
    w.victim.eventChannels.state[VICTIM_PORTS.attacker] === PortState.Unbound,
  );
  const si = w.victim.sharedInfoMfn * 4096 + PENDING;
  note("victim port pending from the attacker", (w.machine.memory.bytes[si] & 0x12) !== 0);
  note("attacker reservation changed", w.attacker.totPages !== DATA_PAGES + 1);
  note("peer received a page from the attacker", w.peer.totPages > DATA_PAGES);
}

/** Runs `calls` from the attacker, checking after every step; throws with the first failure. */
function attack(calls: readonly Call[]): void {
  const w = hostileWorld();
  const base = victimBaseline(w);
  const before = brokenInvariant(w, base);
  if (before !== null) throw new Error(`broken before the attack: ${before}`);
  let died = false;
  calls.forEach((c, i) => {
    if (w.attacker.isDead) {
      if (!died) {
        died = true;
        const why = `${String(w.attacker.shutdownReason)} at ${i}`;
        stats.deaths.set(why, (stats.deaths.get(why) ?? 0) + 1);
      }
      return;
    }
    const { nr, args } = c(w);
    const r = hypercall(w.attacker, nr, args);
    const ok = typeof r === "bigint" || Number.isInteger(r);
    if (!ok) throw new Error(`step ${i}: hypercall ${nr} returned ${String(r)}`);
    const internal = w.sink.messages.filter((m) => m.includes("internal error"));
    if (internal.length > 0) throw new Error(`step ${i}: hypercall ${nr}: ${internal[0]}`);
    stats.steps++;
    if (Number(r) >= 0) stats.ok++;
    else stats.errors.set(Number(r), (stats.errors.get(Number(r)) ?? 0) + 1);
    noteDeepPaths(w);
    const broken = brokenInvariant(w, base);
    if (broken !== null)
      throw new Error(`step ${i}: hypercall ${nr} (${args.join(", ")}) → ${String(r)}: ${broken}`);
  });
  // The toolstack destroys the attacker: everything it held of others is given back; the
  // page the victim maps of it stays out of the free pool.
  w.machine.destroyDomain(w.attacker);
  const broken = brokenInvariant(w, base);
  if (broken !== null) throw new Error(`after destroying the attacker: ${broken}`);
  // The victim, a well-behaved backend, then unmaps what it mapped of the attacker.
  for (const [handle, m] of grantMappingsOf(w.victim)) {
    const u = unmapGrant(w.victim, {
      handle,
      host_addr: m.flags & GNTMAP_HOST_MAP ? VICTIM_MAPS_ATTACKER_VA : 0n,
      dev_bus_addr: m.flags & GNTMAP_DEVICE_MAP ? BigInt(m.mfn) * PAGE : 0n,
    });
    if (u.status !== 0) throw new Error(`victim's unmap after the attacker died: ${u.status}`);
  }
  if (w.victim.isDead) throw new Error("the victim crashed unmapping the dead attacker's page");
  // (Its own calls wrote its memory: the shared checks are what matter now.)
  const after = brokenInvariant(w, victimBaseline(w));
  if (after !== null) throw new Error(`after the victim's unmaps: ${after}`);
}

const RUNS = Number(process.env.HVKIT_FUZZ_RUNS ?? "") || 100;
const VERBOSE = process.env.HVKIT_FUZZ_VERBOSE !== undefined;

describe("hostile guests (property)", () => {
  it("an unprivileged domain cannot touch a well-behaved one or unbalance the books", () => {
    fc.assert(
      fc.property(fc.array(call, { minLength: 30, maxLength: 60 }), (calls) => attack(calls)),
      { numRuns: RUNS, seed: 0x4057113 },
    );
    if (VERBOSE) console.log(stats);
    // The calls reach the handlers' deep paths: many succeed, and several errnos occur.
    expect(stats.ok).toBeGreaterThan(stats.steps / 10);
    expect(stats.errors.size).toBeGreaterThan(8);
    expect([...stats.deep.keys()].sort()).toEqual([
      "attacker bound the victim's unbound port",
      "attacker closed its end of the channel",
      "attacker holds a grant mapping of the victim",
      "attacker holds a writable host mapping",
      "attacker reservation changed",
      "peer received a page from the attacker",
      "victim port pending from the attacker",
    ]);
  }, 120_000);
});

/** A well-formed memory_op on one of the attacker's own frames (for replays). */
function ownFrameCall(op: MemoryOp, f: FrameName, gpfn = 3n): Call {
  return (w) => {
    const self = 0x7ff0;
    if (op === MemoryOp.exchange) {
      putArray(w, [resolveFrame(w, f)], ARRAY);
      putArray(w, [gpfn], ARRAY2);
      put(w, XEN_MEMORY_EXCHANGE, {
        "in.extent_start": ARRAY,
        "in.nr_extents": 1,
        "in.domid": self,
        "out.extent_start": ARRAY2,
        "out.nr_extents": 1,
        "out.domid": self,
      });
    } else {
      putArray(w, [resolveFrame(w, f)], ARRAY);
      put(w, XEN_MEMORY_RESERVATION, { extent_start: ARRAY, nr_extents: 1, domid: self });
    }
    return { nr: Hypercall.memory_op, args: [op, SCRATCH] };
  };
}

describe("hostile guests: replays of the bugs the property found", () => {
  it("a granter destroyed while another domain maps its page: the frame is never handed out again, and the mapper's unmap works (was: frame freed, unmap crashed the mapper)", () => {
    // Xen: a dying domain stays (and keeps its pages) until the last reference goes, so
    // the grantee's later unmap is an ordinary one (unmap_common finds the domain).
    const w = hostileWorld();
    const ft = w.machine.memory.frameTable;
    const page = dataFrame(w.machine, w.attacker, 3);
    writeGrant(w.machine, w.attacker, 0, GrantFlags.permit_access, w.victim.id, page);
    const m = mapGrant(w.victim, {
      ref: 0,
      dom: w.attacker.id,
      flags: GNTMAP_HOST_MAP | GNTMAP_DEVICE_MAP,
      host_addr: MAP_VA + 2n * PAGE,
    });
    expect(m.status).toBe(0);
    w.machine.shutdownDomain(w.attacker, ShutdownReason.Crash);
    w.machine.destroyDomain(w.attacker);
    // Everything free is handed out: the page the victim maps is not among it.
    w.peer.maxPages = 10_000;
    while (w.machine.allocFrames(w.peer, 1) !== null);
    expect(ft.owner[page]).not.toBe(w.peer.id);
    expect((w.victim.arch as FakeAddressSpace).pages.get(MAP_VA / PAGE + 2n)?.mfn).toBe(page);
    const refs = ft.refCount[page];
    const u = unmapGrant(w.victim, {
      handle: m.handle,
      host_addr: MAP_VA + 2n * PAGE,
      dev_bus_addr: m.devBusAddr,
    });
    expect(u.status).toBe(0);
    expect(w.victim.isDead).toBe(false);
    expect(ft.refCount[page]).toBe(refs - 2);
    expect(grantMappingsOf(w.victim).some(([h]) => h === m.handle)).toBe(false);
  });

  it("destroying a domain that maps another's grants releases its pins and references (was: leaked, GTF flags stuck)", () => {
    // Xen: domain_kill → gnttab_release_mappings drops every pin and page reference the
    // dying domain's maptrack holds and reduces the granter's GTF_reading / GTF_writing.
    const w = hostileWorld();
    const frame = dataFrame(w.machine, w.victim, 2);
    const ft = w.machine.memory.frameTable;
    const refsBefore = ft.refCount[frame];
    const { nr, args } = (
      [
        (x: HostileWorld) => {
          put(x, GNTTAB_MAP_GRANT_REF, {
            host_addr: MAP_VA + PAGE,
            flags: GNTMAP_HOST_MAP | GNTMAP_DEVICE_MAP,
            ref: VICTIM_REFS.attackerRw,
            dom: 1,
          });
          return { nr: Hypercall.grant_table_op, args: [GrantTableOp.map_grant_ref, SCRATCH, 1] };
        },
      ] as Call[]
    )[0](w);
    expect(hypercall(w.attacker, nr, args)).toBe(0);
    expect(ft.refCount[frame]).toBe(refsBefore + 2);
    const gt = existingGrantTable(w.victim)!;
    const flags = () => w.machine.memory.read16(gt.entryAddress(VICTIM_REFS.attackerRw));
    expect(flags() & (GrantFlags.reading | GrantFlags.writing)).toBe(
      GrantFlags.reading | GrantFlags.writing,
    );
    w.machine.destroyDomain(w.attacker);
    expect(ft.refCount[frame]).toBe(refsBefore);
    expect(gt.active.get(VICTIM_REFS.attackerRw)?.pin).toBe(0);
    expect(flags()).toBe(GrantFlags.permit_access);
    // The same through the property's checks.
    expect(() => attack([])).not.toThrow();
  });

  it("exchange of one's own grant-table frame: −EINVAL, the frame stays the grant table's (was: freed)", () => {
    // Xen: memory_exchange's steal_page refuses xenheap pages (−EINVAL).
    const w = hostileWorld();
    const gf = existingGrantTable(w.attacker)!.frames[0];
    const tot = w.attacker.totPages;
    const { nr, args } = ownFrameCall(MemoryOp.exchange, ["grantTable", 2])(w);
    expect(hypercall(w.attacker, nr, args)).toBe(-22);
    expect(w.machine.memory.frameTable.owner[gf]).toBe(w.attacker.id);
    expect(w.attacker.totPages).toBe(tot);
    expect(() => attack([ownFrameCall(MemoryOp.exchange, ["grantTable", 2])])).not.toThrow();
  });

  it("decrease_reservation of one's own grant-table frame: the extent is done, the frame is not freed (was: freed, tot_pages − 1)", () => {
    // Xen: guest_remove_page drops the allocation reference, but free_domheap_pages only
    // unlinks a xenheap page; the grant table keeps its memory and tot_pages is unchanged.
    const w = hostileWorld();
    const gf = existingGrantTable(w.attacker)!.frames[0];
    const tot = w.attacker.totPages;
    const { nr, args } = ownFrameCall(MemoryOp.decrease_reservation, ["grantTable", 2])(w);
    expect(hypercall(w.attacker, nr, args)).toBe(1);
    expect(w.machine.memory.frameTable.owner[gf]).toBe(w.attacker.id);
    expect(w.attacker.totPages).toBe(tot);
    // The frame is not handed to the next allocation (here: the attacker's own).
    const again = ownFrameCall(MemoryOp.increase_reservation, ["raw", 0n])(w);
    expect(hypercall(w.attacker, again.nr, again.args)).toBe(1);
    expect(existingGrantTable(w.attacker)!.frames[0]).toBe(gf);
    expect(() =>
      attack([
        ownFrameCall(MemoryOp.decrease_reservation, ["grantTable", 2]),
        ownFrameCall(MemoryOp.increase_reservation, ["raw", 0n]),
      ]),
    ).not.toThrow();
  });
});
