/**
 * Grant-table test fixture over the fake arch: two unprivileged domains (a granter and a
 * grantee) with data areas, host-mapping hooks that map into the fake address space, and
 * helpers that write grant entries and issue grant_table_op with real ABI structs.
 *
 * @module
 */
import {
  GNTTAB_COPY,
  GNTTAB_MAP_GRANT_REF,
  GNTTAB_SET_VERSION,
  GNTTAB_TRANSFER,
  GNTTAB_UNMAP_GRANT_REF,
  GNTMAP_READONLY,
} from "../abi/grant-table.js";
import { GrantFlags, GrantTableOp, Hypercall } from "../abi/numbers.js";
import type { Domain } from "../domain.js";
import { grantTableOf } from "../grant-table.js";
import { readGuestStruct, StructBuffer, writeGuestStruct } from "../guest-memory.js";
import type { HvMachine } from "../machine-impl.js";
import type { StructDef, StructLayout } from "../structs.js";
import type { Vcpu } from "../vcpu.js";
import type { FakeArch, FakeTypes } from "./fake-arch.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "./fake-machine.js";

/** Where op structs are written in the caller's data area. */
export const OP_VA = DATA_VA;
/** A page of the caller's data area used as a scratch page. */
export const PAGE_VA = DATA_VA + 0x1000n;
/** Where host mappings go in the fake address space. */
export const MAP_VA = 0x40000n;

/** Host-mapping hooks over the fake address space (what a real arch does with its MMU). */
export function installFakeGrantHooks(arch: FakeArch): void {
  const pageOf = (vcpu: Vcpu<FakeTypes>, addr: bigint): bigint =>
    addr / BigInt(vcpu.machine.memory.pageSize);
  Object.assign(arch, {
    createGrantHostMapping(
      vcpu: Vcpu<FakeTypes>,
      addr: bigint,
      mfn: number,
      flags: number,
    ): number {
      const space = vcpu.domain.arch;
      if (addr === 0n || addr % BigInt(vcpu.machine.memory.pageSize) !== 0n) return -1;
      space.pages.set(pageOf(vcpu, addr), { mfn, writable: !(flags & GNTMAP_READONLY) });
      return 0;
    },
    replaceGrantHostMapping(
      vcpu: Vcpu<FakeTypes>,
      addr: bigint,
      mfn: number,
      newAddr: bigint,
      flags: number,
    ): number {
      const space = vcpu.domain.arch;
      const stolen = newAddr !== 0n ? space.pages.get(pageOf(vcpu, newAddr)) : undefined;
      if (newAddr !== 0n) {
        if (!stolen) return -1;
        space.pages.delete(pageOf(vcpu, newAddr));
      }
      const m = space.pages.get(pageOf(vcpu, addr));
      if (!m || m.mfn !== mfn || m.writable !== !(flags & GNTMAP_READONLY)) return -1;
      if (stolen) space.pages.set(pageOf(vcpu, addr), stolen);
      else space.pages.delete(pageOf(vcpu, addr));
      return 0;
    },
  });
}

/** A two-domain grant setup. */
export interface GrantWorld {
  /** The machine. */
  readonly machine: HvMachine<FakeTypes>;
  /** Its fake arch. */
  readonly arch: FakeArch;
  /** The granting domain (id 1). */
  readonly a: Domain<FakeTypes>;
  /** The grantee (id 2). */
  readonly b: Domain<FakeTypes>;
}

/** Builds a {@link GrantWorld}; `hooks` false leaves the arch without host-mapping hooks. */
export function grantWorld(hooks = true): GrantWorld {
  const { machine, arch } = fakeMachine();
  if (hooks) installFakeGrantHooks(arch);
  const a = addFakeDomain(machine, { id: 1, pages: 4 });
  const b = addFakeDomain(machine, { id: 2, pages: 4 });
  return { machine, arch, a, b };
}

/** The machine frame behind `va` in `d`'s fake address space. */
export function mfnAt(machine: HvMachine<FakeTypes>, d: Domain<FakeTypes>, va: bigint): number {
  const m = d.arch.pages.get(va / BigInt(machine.memory.pageSize));
  if (!m) throw new Error(`nothing mapped at ${va}`);
  return m.mfn;
}

/** Writes v1 entry `ref` of `granter`'s table: {flags, domid, frame}. */
export function writeGrant(
  machine: HvMachine<FakeTypes>,
  granter: Domain<FakeTypes>,
  ref: number,
  flags: number,
  domid: number,
  frame: number,
): void {
  const gt = grantTableOf(machine, granter);
  if (!gt) throw new Error("no grant table");
  const pa = gt.entryAddress(ref);
  machine.memory.write16(pa + 2, domid);
  machine.memory.write32(pa + 4, frame);
  machine.memory.write16(pa, flags);
}

/**
 * Writes v2 entry `ref` of `granter`'s table (a v2 table): the header, then the member
 * `flags` selects — `frame` (full page or sub-page, with `pageOff` and `length`) or
 * `transDomid` and `gref` (transitive). Flags go last.
 */
export function writeGrantV2(
  machine: HvMachine<FakeTypes>,
  granter: Domain<FakeTypes>,
  ref: number,
  e: {
    flags: number;
    domid: number;
    frame?: number | bigint;
    pageOff?: number;
    length?: number;
    transDomid?: number;
    gref?: number;
  },
): void {
  const gt = grantTableOf(machine, granter);
  if (!gt || gt.version !== 2) throw new Error("no v2 grant table");
  const pa = gt.entryAddress(ref);
  const mem = machine.memory;
  mem.write16(pa + 2, e.domid);
  if ((e.flags & 3) === GrantFlags.transitive) {
    mem.write16(pa + 4, e.transDomid ?? 0);
    mem.write32(pa + 8, e.gref ?? 0);
  } else {
    mem.write16(pa + 4, e.pageOff ?? 0);
    mem.write16(pa + 6, e.length ?? 0);
    mem.write64(pa + 8, BigInt(e.frame ?? 0));
  }
  mem.write16(pa, e.flags);
}

/** The word holding GTF_reading / GTF_writing of `granter`'s entry `ref` (v1 flags, v2 status). */
export function grantStatusWord(
  machine: HvMachine<FakeTypes>,
  granter: Domain<FakeTypes>,
  ref: number,
): number {
  const gt = grantTableOf(machine, granter);
  if (!gt) throw new Error("no grant table");
  return machine.memory.read16(gt.statusAddress(ref));
}

/** Flags word of entry `ref` of `granter`'s table. */
export function grantFlags(
  machine: HvMachine<FakeTypes>,
  granter: Domain<FakeTypes>,
  ref: number,
): number {
  const gt = grantTableOf(machine, granter);
  if (!gt) throw new Error("no grant table");
  return machine.memory.read16(gt.entryAddress(ref));
}

const sbuf = new StructBuffer(64);

/** Issues `cmd` with `ops` (each a field → value record) written as an array at {@link OP_VA}. */
export function grantOp(
  d: Domain<FakeTypes>,
  cmd: number,
  def: StructDef,
  ops: readonly Record<string, number | bigint>[],
): { rc: number; out: Record<string, number | bigint>[] } {
  const v = d.vcpus[0];
  const layout: StructLayout = def.layout(v.machine.arch.dataModel);
  ops.forEach((op, i) => {
    sbuf.bytes.fill(0);
    for (const [k, val] of Object.entries(op)) layout.set(sbuf.view, 0, k, val);
    if (writeGuestStruct(v, OP_VA + BigInt(i * layout.size), layout, sbuf) !== 0)
      throw new Error("op does not fit");
  });
  const rc = Number(hypercall(d, Hypercall.grant_table_op, [cmd, OP_VA, ops.length]));
  const out = ops.map((op, i) => {
    readGuestStruct(v, OP_VA + BigInt(i * layout.size), layout, sbuf);
    const r: Record<string, number | bigint> = {};
    for (const k of ["status", "handle", "dev_bus_addr"]) {
      try {
        r[k] = layout.get(sbuf.view, 0, k);
      } catch {
        // field absent in this struct
      }
    }
    return r;
  });
  return { rc, out };
}

/** One map_grant_ref; returns {rc, status, handle, dev_bus_addr}. */
export function mapGrant(
  d: Domain<FakeTypes>,
  op: { ref: number; dom: number; flags: number; host_addr?: bigint },
): { rc: number; status: number; handle: number; devBusAddr: bigint } {
  const { rc, out } = grantOp(d, GrantTableOp.map_grant_ref, GNTTAB_MAP_GRANT_REF, [
    { host_addr: op.host_addr ?? 0n, flags: op.flags, ref: op.ref, dom: op.dom, handle: 0x5a5a },
  ]);
  return {
    rc,
    status: Number(out[0].status),
    handle: Number(out[0].handle),
    devBusAddr: BigInt(out[0].dev_bus_addr),
  };
}

/** One unmap_grant_ref; returns {rc, status}. */
export function unmapGrant(
  d: Domain<FakeTypes>,
  op: { handle: number; host_addr?: bigint; dev_bus_addr?: bigint },
): { rc: number; status: number } {
  const { rc, out } = grantOp(d, GrantTableOp.unmap_grant_ref, GNTTAB_UNMAP_GRANT_REF, [
    { host_addr: op.host_addr ?? 0n, dev_bus_addr: op.dev_bus_addr ?? 0n, handle: op.handle },
  ]);
  return { rc, status: Number(out[0].status) };
}

/** One gnttab_copy; fields by dotted path (`source.u.ref`, `dest.offset`, ...). */
export function copyGrant(
  d: Domain<FakeTypes>,
  op: Record<string, number | bigint>,
): { rc: number; status: number } {
  const { rc, out } = grantOp(d, GrantTableOp.copy, GNTTAB_COPY, [op]);
  return { rc, status: Number(out[0].status) };
}

/** GNTTABOP_set_version: the hypercall's result and the version written back. */
export function setGrantVersion(
  d: Domain<FakeTypes>,
  version: number,
): { rc: number; version: number } {
  const v = d.vcpus[0];
  const layout = GNTTAB_SET_VERSION.layout(v.machine.arch.dataModel);
  sbuf.bytes.fill(0);
  layout.set(sbuf.view, 0, "version", version);
  writeGuestStruct(v, OP_VA, layout, sbuf);
  const rc = Number(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.set_version, OP_VA, 1]));
  readGuestStruct(v, OP_VA, layout, sbuf);
  return { rc, version: layout.getNumber(sbuf.view, 0, "version") };
}

/** One gnttab_transfer. */
export function transferPage(
  d: Domain<FakeTypes>,
  op: { mfn: number; domid: number; ref: number },
): { rc: number; status: number } {
  const { rc, out } = grantOp(d, GrantTableOp.transfer, GNTTAB_TRANSFER, [op]);
  return { rc, status: Number(out[0].status) };
}
